/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Filesystem backends: the generic wrapper, the real one (openat-relative syscalls under a
 * root directory fd) and the in-memory one (plain filesystem semantics). LIO configfs
 * semantics are added by the emulated backend in emu.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "private.h"

/* Relative, non-empty, no "." / ".." / empty components. */
static bool path_ok(const char *p)
{
	const char *c = p;

	if (!p || !*p || *p == '/')
		return false;
	while (*c) {
		const char *e = strchrnul(c, '/');
		size_t n = (size_t)(e - c);

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = *e ? e + 1 : e;
		if (*e && !*c)
			return false; /* trailing slash */
	}
	return true;
}

/* ------------------------------------------------------------ generic */

RTS_EXPORT int rts_backend_new(const struct rts_backend_ops *ops, void *data,
			       struct rts_backend **ret)
{
	struct rts_backend *be;

	assert_return(ops && ret, -EINVAL);
	assert_return(ops->struct_size >= sizeof(struct rts_backend_ops), -EINVAL);
	assert_return(ops->mkdir && ops->rmdir && ops->symlink && ops->unlink && ops->readlink &&
			      ops->read && ops->write && ops->stat && ops->readdir,
		      -EINVAL);
	be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	be->ops = ops;
	be->data = data;
	*ret = be;
	return 0;
}

RTS_EXPORT struct rts_backend *rts_backend_free(struct rts_backend *be)
{
	if (!be)
		return NULL;
	if (be->ops->destroy)
		be->ops->destroy(be->data);
	free(be);
	return NULL;
}

RTS_EXPORT struct rts_backend *rts_backend_get_raw(struct rts_backend *be)
{
	assert_return(be, NULL);
	return be->raw;
}

RTS_EXPORT int rts_backend_mkdir(struct rts_backend *be, const char *path)
{
	assert_return(be && path, -EINVAL);
	return be->ops->mkdir(be->data, path);
}

RTS_EXPORT int rts_backend_rmdir(struct rts_backend *be, const char *path)
{
	assert_return(be && path, -EINVAL);
	return be->ops->rmdir(be->data, path);
}

RTS_EXPORT int rts_backend_symlink(struct rts_backend *be, const char *target, const char *path)
{
	assert_return(be && target && path, -EINVAL);
	return be->ops->symlink(be->data, target, path);
}

RTS_EXPORT int rts_backend_unlink(struct rts_backend *be, const char *path)
{
	assert_return(be && path, -EINVAL);
	return be->ops->unlink(be->data, path);
}

RTS_EXPORT int rts_backend_readlink(struct rts_backend *be, const char *path, char *buf,
				    size_t size)
{
	assert_return(be && path && buf && size, -EINVAL);
	return be->ops->readlink(be->data, path, buf, size);
}

RTS_EXPORT ssize_t rts_backend_read(struct rts_backend *be, const char *path, char *buf,
				    size_t size)
{
	assert_return(be && path && buf, -EINVAL);
	return be->ops->read(be->data, path, buf, size);
}

RTS_EXPORT int rts_backend_write(struct rts_backend *be, const char *path, const char *value)
{
	assert_return(be && path && value, -EINVAL);
	return be->ops->write(be->data, path, value, strlen(value));
}

RTS_EXPORT int rts_backend_stat(struct rts_backend *be, const char *path, enum rts_ftype *type)
{
	assert_return(be && path && type, -EINVAL);
	return be->ops->stat(be->data, path, type);
}

RTS_EXPORT int rts_backend_readdir(struct rts_backend *be, const char *path, rts_dirent_fn fn,
				   void *userdata)
{
	assert_return(be && path && fn, -EINVAL);
	return be->ops->readdir(be->data, path, fn, userdata);
}

/* ------------------------------------------------------------ real */

struct real_be {
	int rootfd;
	char *root; /* canonical absolute path */
	unsigned int flags;
	bool configfs; /* the root is a configfs mount: its readdir semantics are known */
	/*
	 * The directory real_readdir() listed last, kept open: a walk lists a LUN directory and
	 * then reads the link in it, and open_parent() reuses the descriptor instead of opening
	 * the directory again (two system calls fewer per LUN and mapped LUN). Dropped by
	 * anything that changes the tree.
	 */
	int dirfd;
	char dirpath[RTS_PATH_MAX];
};

#define CONFIGFS_MAGIC 0x62656570 /* fs/configfs/configfs_internal.h; not in uapi */

static void dir_cache_drop(struct real_be *rb)
{
	if (rb->dirfd >= 0)
		close(rb->dirfd);
	rb->dirfd = -1;
	rb->dirpath[0] = '\0';
}

/*
 * Nothing under --root may lead out of it: every path is resolved beneath rootfd, so a
 * symlink (absolute, or relative with enough "..") in any component, a magic link, or a
 * bind-mount crossing to elsewhere fails with EXDEV instead of being followed. openat2()
 * (Linux 5.6) does it in the kernel; older kernels get a component walk that refuses every
 * symlink on the way (O_NOFOLLOW), which is stricter and just as safe.
 */
static int open_walk(int rootfd, const char *p, int flags, mode_t mode)
{
	char comp[NAME_MAX + 1];
	int fd = rootfd;

	for (;;) {
		const char *e = strchrnul(p, '/');
		size_t n = (size_t)(e - p);
		int next;

		if (n > NAME_MAX) {
			if (fd != rootfd)
				close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		if (!*e)
			next = openat(fd, comp, flags | O_NOFOLLOW, mode);
		else
			next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int err = errno == ELOOP || errno == ENOTDIR ? -EXDEV : -errno;

			/* the last component keeps its own errno (O_NOFOLLOW semantics: ELOOP) */
			if (!*e)
				err = -errno;
			if (fd != rootfd)
				close(fd);
			return err;
		}
		if (fd != rootfd)
			close(fd);
		fd = next;
		if (!*e)
			return fd;
		p = e + 1;
	}
}

static int open_beneath(const struct real_be *rb, const char *p, int flags, mode_t mode)
{
	static int no_openat2;
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (!__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
		fd = syscall(SYS_openat2, rb->rootfd, p, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS && errno != EPERM) /* EPERM: a seccomp filter that denies it */
			return -errno;
		__atomic_store_n(&no_openat2, 1, __ATOMIC_RELAXED);
	}
	return open_walk(rb->rootfd, p, flags | O_CLOEXEC, mode);
}

/*
 * The directory holding @p's last component, opened beneath the root (rootfd itself for a
 * top-level name); *base is that last component. Close with close_parent().
 */
static int open_parent(const struct real_be *rb, const char *p, const char **base)
{
	const char *slash = strrchr(p, '/');
	char dir[RTS_PATH_MAX];

	if (!slash) {
		*base = p;
		return rb->rootfd;
	}
	if ((size_t)(slash - p) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, p, (size_t)(slash - p));
	dir[slash - p] = '\0';
	*base = slash + 1;
	if (rb->dirfd >= 0 && !strcmp(dir, rb->dirpath))
		return rb->dirfd;
	return open_beneath(rb, dir, O_PATH | O_DIRECTORY, 0);
}

static void close_parent(const struct real_be *rb, int fd)
{
	if (fd >= 0 && fd != rb->rootfd && fd != rb->dirfd)
		close(fd);
}

static int real_mkdir(void *d, const char *p)
{
	struct real_be *rb = d;

	if (!path_ok(p))
		return -EINVAL;
	dir_cache_drop(rb);
	const char *base;
	int dfd = open_parent(rb, p, &base), r;

	if (dfd < 0)
		return dfd;
	r = RET_NERRNO(mkdirat(dfd, base, 0755));
	close_parent(rb, dfd);
	return r;
}

static int real_rmdir(void *d, const char *p)
{
	struct real_be *rb = d;

	if (!path_ok(p))
		return -EINVAL;
	dir_cache_drop(rb);
	const char *base;
	int dfd = open_parent(rb, p, &base), r;

	if (dfd < 0)
		return dfd;
	r = RET_NERRNO(unlinkat(dfd, base, AT_REMOVEDIR));
	close_parent(rb, dfd);
	return r;
}

static int real_symlink(void *d, const char *target, const char *p)
{
	struct real_be *rb = d;
	char abs[RTS_PATH_MAX];
	int r;

	if (!path_ok(p) || !path_ok(target))
		return -EINVAL;
	dir_cache_drop(rb);
	/* configfs resolves the target from the caller's cwd: always link absolutely */
	r = path_fmt(abs, sizeof(abs), "%s/%s", rb->root, target);
	if (r < 0)
		return r;
	const char *base;
	int dfd = open_parent(rb, p, &base);

	if (dfd < 0)
		return dfd;
	r = RET_NERRNO(symlinkat(abs, dfd, base));
	close_parent(rb, dfd);
	return r;
}

static int real_unlink(void *d, const char *p)
{
	struct real_be *rb = d;

	if (!path_ok(p))
		return -EINVAL;
	dir_cache_drop(rb);
	const char *base;
	int dfd = open_parent(rb, p, &base), r;

	if (dfd < 0)
		return dfd;
	r = RET_NERRNO(unlinkat(dfd, base, 0));
	close_parent(rb, dfd);
	return r;
}

/* Resolve "a/b/../c" lexically into buf. */
static int lexical_resolve(const char *dir, const char *rel, char *buf, size_t size)
{
	char tmp[RTS_PATH_MAX];
	size_t n = 0;
	const char *c;
	int r = path_fmt(tmp, sizeof(tmp), "%s/%s", dir, rel);

	if (r < 0)
		return r;
	c = tmp;
	while (*c) {
		const char *e = strchrnul(c, '/');
		size_t len = (size_t)(e - c);

		if (len == 0 || (len == 1 && c[0] == '.')) {
			/* skip */
		} else if (len == 2 && c[0] == '.' && c[1] == '.') {
			if (n == 0)
				return -EXDEV; /* escapes the root */
			while (n > 0 && buf[n - 1] != '/')
				n--;
			if (n > 0)
				n--;
		} else {
			if (n + len + 2 > size)
				return -ENAMETOOLONG;
			if (n > 0)
				buf[n++] = '/';
			memcpy(buf + n, c, len);
			n += len;
		}
		c = *e ? e + 1 : e;
	}
	if (n == 0)
		return -EXDEV;
	buf[n] = '\0';
	return (int)n;
}

static int real_readlink(void *d, const char *p, char *buf, size_t size)
{
	struct real_be *rb = d;
	char t[RTS_PATH_MAX], dir[RTS_PATH_MAX];
	size_t rl = strlen(rb->root);
	ssize_t n;
	char *slash;

	if (!path_ok(p))
		return -EINVAL;
	{
		const char *base;
		int dfd = open_parent(rb, p, &base);

		if (dfd < 0)
			return dfd;
		n = readlinkat(dfd, base, t, sizeof(t) - 1);
		if (n < 0)
			n = -errno;
		close_parent(rb, dfd);
		if (n < 0)
			return (int)n;
	}
	t[n] = '\0';
	if (t[0] == '/') {
		if (strncmp(t, rb->root, rl) != 0 || (t[rl] != '/' && rl > 1))
			return -EXDEV;
		if ((size_t)(n - (ssize_t)rl) > size)
			return -ENAMETOOLONG;
		return lexical_resolve(".", t + rl + (rl > 1), buf, size);
	}
	snprintf(dir, sizeof(dir), "%s", p);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	return lexical_resolve(dir, t, buf, size);
}

static ssize_t real_read(void *d, const char *p, char *buf, size_t size)
{
	struct real_be *rb = d;
	_cleanup_close_ int fd = -EBADF;
	size_t got = 0;

	if (!path_ok(p))
		return -EINVAL;
	fd = open_beneath(rb, p, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		/*
		 * configfs fills the whole value (at most a page) on the first read, and a
		 * regular file reads short only at its end: a short read is the end, so
		 * skip the second, empty read() (a quarter of restore's syscalls).
		 */
		if ((size_t)n < size - got) {
			got += (size_t)n;
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int real_write(void *d, const char *p, const char *buf, size_t len)
{
	struct real_be *rb = d;
	_cleanup_close_ int fd = -EBADF;
	int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW;
	ssize_t n;

	if (!path_ok(p))
		return -EINVAL;
	if (rb->flags & RTS_BACKEND_REAL_CREATE)
		flags |= O_CREAT | O_TRUNC;
	fd = open_beneath(rb, p, flags, 0644);
	if (fd < 0)
		return fd;
	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

static int real_stat(void *d, const char *p, enum rts_ftype *type)
{
	struct real_be *rb = d;
	struct stat st;

	if (!path_ok(p))
		return -EINVAL;
	{
		const char *slash = strrchr(p, '/');
		int fd, r;

		if (!slash || (rb->dirfd >= 0 && (size_t)(slash - p) == strlen(rb->dirpath) &&
			       !strncmp(p, rb->dirpath, (size_t)(slash - p)))) {
			/* the root's or the cached directory's entry: one call */
			r = RET_NERRNO(fstatat(slash ? rb->dirfd : rb->rootfd, slash ? slash + 1 : p,
					       &st, AT_SYMLINK_NOFOLLOW));
		} else {
			/* the path itself beneath the root: what does not exist (lookups probe
			 * for storage objects in every HBA) fails in one call */
			fd = open_beneath(rb, p, O_PATH | O_NOFOLLOW, 0);
			if (fd < 0)
				return fd;
			r = RET_NERRNO(fstat(fd, &st));
			close(fd);
		}
		if (r < 0)
			return r;
	}
	*type = S_ISDIR(st.st_mode) ? RTS_FT_DIR : S_ISLNK(st.st_mode) ? RTS_FT_LINK : RTS_FT_FILE;
	return 0;
}

/*
 * getdents64(2) straight into a buffer: no fdopendir() (which costs an fcntl per directory)
 * and one call for a configfs directory of up to ~200 entries. Listing is most of
 * the cost of a walk over a large tree.
 */
static int real_readdir(void *d, const char *p, rts_dirent_fn fn, void *ud)
{
	struct real_be *rb = d;
	_Alignas(8) char buf[8192];
	bool last = false;
	int fd, r = 0;

	if (!path_ok(p))
		return -EINVAL;
	fd = open_beneath(rb, p, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	while (r == 0) {
		ssize_t n = getdents64(fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		/*
		 * configfs_readdir() emits every child until one does not fit: room left for a
		 * record of the longest name means the directory is complete, and the call
		 * that would return 0 is saved. Other file systems (FUSE) may return less.
		 */
		if (rb->configfs && (size_t)n + offsetof(struct dirent64, d_name) + NAME_MAX + 9 <=
					    sizeof(buf))
			last = true;
		for (ssize_t off = 0; off < n && r == 0;) {
			struct dirent64 *de = (struct dirent64 *)(void *)(buf + off);
			enum rts_ftype t;

			off += de->d_reclen;
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			switch (de->d_type) {
			case DT_DIR:
				t = RTS_FT_DIR;
				break;
			case DT_LNK:
				t = RTS_FT_LINK;
				break;
			case DT_REG:
				t = RTS_FT_FILE;
				break;
			default: {
				struct stat st;

				if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
					continue;
				t = S_ISDIR(st.st_mode) ? RTS_FT_DIR :
				    S_ISLNK(st.st_mode) ? RTS_FT_LINK :
							  RTS_FT_FILE;
			}
			}
			r = fn(ud, de->d_name, t);
		}
		if (last)
			break;
	}
	if (r < 0 || path_fmt(rb->dirpath, sizeof(rb->dirpath), "%s", p) < 0) {
		close(fd);
		return r;
	}
	if (rb->dirfd >= 0)
		close(rb->dirfd);
	rb->dirfd = fd;
	return r;
}

static void real_destroy(void *d)
{
	struct real_be *rb = d;

	dir_cache_drop(rb);
	if (rb->rootfd >= 0)
		close(rb->rootfd);
	free(rb->root);
	free(rb);
}

static const struct rts_backend_ops real_ops = {
	.struct_size = sizeof(struct rts_backend_ops),
	.mkdir = real_mkdir,
	.rmdir = real_rmdir,
	.symlink = real_symlink,
	.unlink = real_unlink,
	.readlink = real_readlink,
	.read = real_read,
	.write = real_write,
	.stat = real_stat,
	.readdir = real_readdir,
	.destroy = real_destroy,
};

RTS_EXPORT int rts_backend_new_real(const char *root, unsigned int flags, struct rts_backend **ret)
{
	struct real_be *rb;
	int r;

	assert_return(ret, -EINVAL);
	assert_return(!(flags & ~RTS_BACKEND_REAL_CREATE), -EINVAL);
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	rb->flags = flags;
	rb->rootfd = -1;
	rb->dirfd = -1;
	rb->root = realpath(root ? root : RTS_DEFAULT_ROOT, NULL);
	if (!rb->root) {
		r = -errno;
		free(rb);
		return r;
	}
	rb->rootfd = open(rb->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rb->rootfd < 0) {
		r = -errno;
		real_destroy(rb);
		return r;
	}
	{
		struct statfs sfs;

		rb->configfs = fstatfs(rb->rootfd, &sfs) == 0 && sfs.f_type == CONFIGFS_MAGIC;
	}
	r = rts_backend_new(&real_ops, rb, ret);
	if (r < 0) {
		real_destroy(rb);
		return r;
	}
	(*ret)->is_real_configfs = !(flags & RTS_BACKEND_REAL_CREATE) &&
				   strcmp(rb->root, RTS_DEFAULT_ROOT) == 0;
	return 0;
}

/* ------------------------------------------------------------ memory */

struct mem_node {
	enum rts_ftype type;
	char *path; /* full path, key of the index */
	const char *name; /* last component, inside path */
	struct mem_node *parent;
	struct list_node sibling;
	struct list_node children;
	char *data; /* file content or link target */
	size_t len;
};

struct mem_be {
	struct mem_node root;
	struct rts_index index;
};

static struct mem_node *mem_lookup(struct mem_be *mb, const char *p)
{
	return index_get(&mb->index, p);
}

static int mem_parent(struct mem_be *mb, const char *p, struct mem_node **ret)
{
	const char *slash = strrchr(p, '/');
	char dir[RTS_PATH_MAX];
	struct mem_node *n;

	if (!slash) {
		*ret = &mb->root;
		return 0;
	}
	if ((size_t)(slash - p) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, p, (size_t)(slash - p));
	dir[slash - p] = '\0';
	n = mem_lookup(mb, dir);
	if (!n)
		return -ENOENT;
	if (n->type != RTS_FT_DIR)
		return -ENOTDIR;
	*ret = n;
	return 0;
}

static int mem_create(struct mem_be *mb, const char *p, enum rts_ftype type, struct mem_node **ret)
{
	struct mem_node *parent, *n;
	int r;

	if (!path_ok(p))
		return -EINVAL;
	if (strlen(p) >= RTS_PATH_MAX)
		return -ENAMETOOLONG;
	r = mem_parent(mb, p, &parent);
	if (r < 0)
		return r;
	if (mem_lookup(mb, p))
		return -EEXIST;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->path = strdup(p);
	if (!n->path) {
		free(n);
		return -ENOMEM;
	}
	r = index_put(&mb->index, n->path, n);
	if (r < 0) {
		free(n->path);
		free(n);
		return r;
	}
	n->name = strrchr(n->path, '/') ? strrchr(n->path, '/') + 1 : n->path;
	n->type = type;
	n->parent = parent;
	list_init(&n->children);
	list_add_tail(&parent->children, &n->sibling);
	*ret = n;
	return 0;
}

static void mem_free_node(struct mem_be *mb, struct mem_node *n)
{
	index_del(&mb->index, n->path);
	list_del(&n->sibling);
	free(n->data);
	free(n->path);
	free(n);
}

static int mem_mkdir(void *d, const char *p)
{
	struct mem_node *n;

	return mem_create(d, p, RTS_FT_DIR, &n);
}

static int mem_rmdir(void *d, const char *p)
{
	struct mem_be *mb = d;
	struct mem_node *n;

	if (!path_ok(p))
		return -EINVAL;
	n = mem_lookup(mb, p);
	if (!n)
		return -ENOENT;
	if (n->type != RTS_FT_DIR)
		return -ENOTDIR;
	if (!list_empty(&n->children))
		return -ENOTEMPTY;
	mem_free_node(mb, n);
	return 0;
}

static int mem_symlink(void *d, const char *target, const char *p)
{
	struct mem_node *n;
	int r;

	if (!path_ok(target))
		return -EINVAL;
	r = mem_create(d, p, RTS_FT_LINK, &n);
	if (r < 0)
		return r;
	n->data = strdup(target);
	if (!n->data) {
		mem_free_node(d, n);
		return -ENOMEM;
	}
	n->len = strlen(target);
	return 0;
}

static int mem_unlink(void *d, const char *p)
{
	struct mem_be *mb = d;
	struct mem_node *n;

	if (!path_ok(p))
		return -EINVAL;
	n = mem_lookup(mb, p);
	if (!n)
		return -ENOENT;
	if (n->type == RTS_FT_DIR)
		return -EISDIR;
	mem_free_node(mb, n);
	return 0;
}

static int mem_readlink(void *d, const char *p, char *buf, size_t size)
{
	struct mem_node *n;

	if (!path_ok(p))
		return -EINVAL;
	n = mem_lookup(d, p);
	if (!n)
		return -ENOENT;
	if (n->type != RTS_FT_LINK)
		return -EINVAL;
	if (n->len + 1 > size)
		return -ENAMETOOLONG;
	memcpy(buf, n->data, n->len + 1);
	return (int)n->len;
}

static ssize_t mem_read(void *d, const char *p, char *buf, size_t size)
{
	struct mem_node *n;
	size_t len;

	if (!path_ok(p))
		return -EINVAL;
	n = mem_lookup(d, p);
	if (!n)
		return -ENOENT;
	if (n->type == RTS_FT_DIR)
		return -EISDIR;
	if (n->type == RTS_FT_LINK)
		return -ELOOP; /* O_NOFOLLOW semantics */
	len = MIN(size, n->len);
	if (len)
		memcpy(buf, n->data, len);
	return (ssize_t)len;
}

static int mem_write(void *d, const char *p, const char *buf, size_t len)
{
	struct mem_node *n;
	char *data;
	int r;

	if (!path_ok(p))
		return -EINVAL;
	n = mem_lookup(d, p);
	if (!n) {
		r = mem_create(d, p, RTS_FT_FILE, &n);
		if (r < 0)
			return r;
	}
	if (n->type == RTS_FT_DIR)
		return -EISDIR;
	if (n->type == RTS_FT_LINK)
		return -ELOOP;
	data = malloc(len + 1);
	if (!data)
		return -ENOMEM;
	memcpy(data, buf, len);
	data[len] = '\0';
	free(n->data);
	n->data = data;
	n->len = len;
	return 0;
}

static int mem_stat(void *d, const char *p, enum rts_ftype *type)
{
	struct mem_node *n;

	if (!path_ok(p))
		return -EINVAL;
	n = mem_lookup(d, p);
	if (!n)
		return -ENOENT;
	*type = n->type;
	return 0;
}

static int mem_readdir(void *d, const char *p, rts_dirent_fn fn, void *ud)
{
	struct mem_node *n, *c;

	if (!path_ok(p))
		return -EINVAL;
	n = mem_lookup(d, p);
	if (!n)
		return -ENOENT;
	if (n->type != RTS_FT_DIR)
		return -ENOTDIR;
	list_for_each(&n->children, c, sibling) {
		int r = fn(ud, c->name, c->type);

		if (r)
			return r;
	}
	return 0;
}

static void mem_free_tree(struct mem_be *mb, struct mem_node *n)
{
	struct mem_node *c, *tmp;

	list_for_each_safe(&n->children, c, tmp, sibling) {
		mem_free_tree(mb, c);
		mem_free_node(mb, c);
	}
}

static void mem_destroy(void *d)
{
	struct mem_be *mb = d;

	mem_free_tree(mb, &mb->root);
	index_free(&mb->index);
	free(mb);
}

static const struct rts_backend_ops mem_ops = {
	.struct_size = sizeof(struct rts_backend_ops),
	.mkdir = mem_mkdir,
	.rmdir = mem_rmdir,
	.symlink = mem_symlink,
	.unlink = mem_unlink,
	.readlink = mem_readlink,
	.read = mem_read,
	.write = mem_write,
	.stat = mem_stat,
	.readdir = mem_readdir,
	.destroy = mem_destroy,
};

RTS_EXPORT int rts_backend_new_memory(struct rts_backend **ret)
{
	struct mem_be *mb;
	int r;

	assert_return(ret, -EINVAL);
	mb = calloc(1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	mb->root.type = RTS_FT_DIR;
	list_init(&mb->root.children);
	r = rts_backend_new(&mem_ops, mb, ret);
	if (r < 0)
		mem_destroy(mb);
	else
		(*ret)->in_memory = true;
	return r;
}
