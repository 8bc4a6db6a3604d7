/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 handler: the cfgstring, opening an image and its backing chain, qemu-compatible image
 * locking.
 * See qcow2.c for the design.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/falloc.h>

#include <liburing.h>
#include <zlib.h>

#include <rts/handler.h>

#include "cfgstring.h"
#include "macro.h"

#include "qcow2_priv.h"

/* ------------------------------------------------------------------ config */

void q2_cfg_clear(struct q2_cfg *c)
{
	free(c->path);
	c->path = NULL;
}

int q2_cfg_parse(const char *cfgstring, struct q2_cfg *c, char **reason)
{
	char *opts, *save = NULL, *tok;
	int r;

	*c = (struct q2_cfg){ 0 };
	r = cfg_split_path(cfgstring, &c->path, &opts);
	if (r == -EINVAL)
		return set_reason(reason, -EINVAL,
				  "qcow: no path given (expected qcow/<path>[;ro])");
	if (r < 0)
		return r;
	cfg_for_each_opt(tok, opts, save) {
		if (!strcmp(tok, "ro")) {
			c->ro = true;
		} else {
			r = set_reason(reason, -EINVAL, "qcow: unknown option '%s' (known: ro)",
				       tok);
			break;
		}
	}
	free(opts);
	if (r < 0)
		q2_cfg_clear(c);
	return r;
}

/*
 * Read or write exactly @len bytes at @off, through EINTR and short transfers: bytes past
 * the end of the file read as zeros; a write that makes no progress is -EIO.
 */
static int pio_full(int fd, uint8_t *p, size_t len, uint64_t off, bool to_file)
{
	while (len) {
		ssize_t n = to_file ? pwrite(fd, p, len, (off_t)off) : pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			if (to_file)
				return -EIO;
			memset(p, 0, len);
			return 0;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int q2_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	return pio_full(fd, buf, len, off, false);
}

int q2_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	return pio_full(fd, (uint8_t *)buf, len, off, true); /* only read from when writing */
}

/*
 * The first cluster of an image, or as much of it as the file has: the header, its
 * extensions and the backing file name all lie there. 64 KiB (qemu's default cluster size)
 * is read first, the rest only when the header says the clusters are larger: reading the
 * largest cluster size (2 MiB) on every open of every image of a chain cost more than the
 * rest of the open. *@ret is NULL when this fails.
 */
static int read_first_cluster(int fd, uint64_t fsize, uint8_t **ret, size_t *ret_len)
{
	size_t len = (size_t)MIN(fsize, (uint64_t)1 << 16), want;
	uint8_t *buf = malloc(len ? len : 1), *grown;
	uint32_t cb;
	int r;

	*ret = NULL;
	*ret_len = 0;
	if (!buf)
		return -ENOMEM;
	r = q2_pread_full(fd, buf, len, 0);
	if (r == 0 && len >= 24 && qcow2_be32(buf) == QCOW2_MAGIC) {
		cb = qcow2_be32(buf + 20);
		want = cb >= QCOW2_MIN_CLUSTER_BITS && cb <= QCOW2_MAX_CLUSTER_BITS ?
			       (size_t)MIN(fsize, (uint64_t)1 << cb) :
			       len; /* out of range: the header parser says so */
		if (want > len) {
			grown = realloc(buf, want);
			if (!grown) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
			r = q2_pread_full(fd, buf + len, want - len, len);
			len = want;
		}
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

void q2_img_free(struct q2_img *img)
{
	while (img) {
		struct q2_img *backing = img->backing;

		if (img->fd >= 0)
			close(img->fd);
		for (unsigned int i = 0; img->l2c && i < img->l2c_n; i++)
			free(img->l2c[i].tbl);
		free(img->l2c);
		free(img->l1);
		free(img->meta);
		free(img->cbuf);
		free(img->dbuf);
		free(img->path);
		free(img);
		img = backing;
	}
}

/* Read a table of @n big-endian 64-bit entries at @off into host order. */
int q2_read_table(const struct q2_img *img, uint64_t off, uint64_t n, uint64_t file_size,
		  const char *what, uint64_t **ret, char **why)
{
	uint64_t *t;
	int r;

	if (off + n * 8 > file_size)
		return set_reason(why, -EINVAL,
				  "qcow: '%s' is corrupt: the %s (0x%" PRIx64 ", %" PRIu64
				  " entries) is past the end of the file",
				  img->path, what, off, n);
	t = calloc(n ? n : 1, 8);
	if (!t)
		return -ENOMEM;
	r = q2_pread_full(img->fd, t, n * 8, off);
	if (r < 0) {
		free(t);
		return set_reason(why, r, "qcow: '%s': cannot read the %s: %s", img->path, what,
				  strerror(-r));
	}
	for (uint64_t i = 0; i < n; i++)
		t[i] = qcow2_be64((const uint8_t *)&t[i]);
	*ret = t;
	return 0;
}

/* "dir/of/image" + "name" for a relative backing file name; NULL on ENOMEM. */
static char *backing_path(const char *image, const char *name)
{
	const char *slash = strrchr(image, '/');
	char *p;

	if (name[0] == '/' || !slash)
		return strdup(name);
	if (asprintf(&p, "%.*s/%s", (int)(slash - image), image, name) < 0)
		return NULL;
	return p;
}

/*
 * qemu's image locking (block/file-posix.c), so that a VM (or qemu-img, or a second
 * device) and this handler never write one image at once: for every permission i an
 * image user holds it takes a shared OFD lock on byte 100 + i, and for every permission
 * it refuses to share, one on byte 200 + i. Permissions: 0 consistent read, 1 write,
 * 2 write unchanged, 3 resize, 4 graph change. Like qemu we read (and, when writing,
 * write) and share neither write nor resize. File systems without OFD locks: no locking.
 */
enum { Q2_PERM_READ = 1u << 0, Q2_PERM_WRITE = 1u << 1, Q2_PERM_RESIZE = 1u << 3 };
#define Q2_LOCK_PERM_BASE   100
#define Q2_LOCK_SHARED_BASE 200
#define Q2_NPERMS	    5

static bool lock_held_by_other(int fd, off_t off)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = off, .l_len = 1 };

	return fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

/*
 * Conflicts are retried for a moment: when a process holding an image dies (a runner
 * SIGKILLed and restarted, say), its io_uring drops the file, and with it the locks, a
 * few milliseconds after the process is gone.
 */
#define Q2_LOCK_RETRIES	 25
#define Q2_LOCK_RETRY_US 20000

static int img_lock_once(const struct q2_img *img, bool write, char **why);

static int img_lock(const struct q2_img *img, bool write, char **why)
{
	int r;

	for (int i = 0;; i++) {
		char *w = NULL;

		r = img_lock_once(img, write, &w);
		if (r != -EBUSY || i == Q2_LOCK_RETRIES) {
			if (r < 0)
				set_reason(why, r, "%s", w ? w : strerror(-r));
			free(w);
			return r;
		}
		free(w);
		usleep(Q2_LOCK_RETRY_US);
	}
}

static int img_lock_once(const struct q2_img *img, bool write, char **why)
{
	static const char *const perm_name[Q2_NPERMS] = { "consistent read", "write",
							  "write unchanged", "resize",
							  "graph change" };
	uint32_t perm = Q2_PERM_READ | (write ? Q2_PERM_WRITE : 0);
	uint32_t unshared = Q2_PERM_WRITE | Q2_PERM_RESIZE;

	for (unsigned int i = 0; i < Q2_NPERMS; i++) {
		if ((perm & (1u << i)) && lock_held_by_other(img->fd, Q2_LOCK_SHARED_BASE + i))
			return set_reason(
				why, -EBUSY,
				"qcow: '%s' is in use by another process (a VM, qemu-img "
				"or another device) that does not share its %s permission",
				img->path, perm_name[i]);
		if ((unshared & (1u << i)) && lock_held_by_other(img->fd, Q2_LOCK_PERM_BASE + i))
			return set_reason(why, -EBUSY,
					  "qcow: '%s' is in use by another process (a VM, qemu-img "
					  "or another device) holding its %s permission",
					  img->path, perm_name[i]);
	}
	for (unsigned int i = 0; i < Q2_NPERMS; i++) {
		for (int shared = 0; shared < 2; shared++) {
			struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_len = 1 };

			if (!((shared ? unshared : perm) & (1u << i)))
				continue;
			fl.l_start = (shared ? Q2_LOCK_SHARED_BASE : Q2_LOCK_PERM_BASE) + i;
			if (fcntl(img->fd, F_OFD_SETLK, &fl) == 0)
				continue;
			if (errno == EAGAIN || errno == EACCES)
				return set_reason(
					why, -EBUSY,
					"qcow: '%s' is in use by another process (lock byte "
					"%jd)",
					img->path, (intmax_t)fl.l_start);
			return 0; /* no OFD locks here (e.g. some network file systems) */
		}
	}
	return 0;
}

/*
 * Open the image @path and its backing chain, validate the header and apply our policy
 * (shared by check_config and open). @fmt: "qcow2" (the device's image), "raw", or NULL
 * (a backing file without a format extension: qcow2 if it has the magic, else raw).
 * @for_write: the device's image opened for writing. Reasons go to @why only (no logging:
 * @dev is NULL in check_config).
 */
int q2_img_open(struct rts_dev *dev, const char *path, const char *fmt, bool for_write,
		unsigned int depth, struct q2_img *child, struct q2_img **ret, uint64_t *ret_fsize,
		char **why)
{
	char w[Q2_WHY] = "", *bpath;
	struct q2_img *img;
	struct stat st;
	uint8_t *buf;
	uint64_t fsize, ntab;
	size_t want;
	int r;

	img = calloc(1, sizeof(*img));
	if (!img)
		return -ENOMEM;
	img->dev = dev;
	img->dbuf_off = UINT64_MAX;
	img->path = strdup(path);
	img->fd = open(path, (for_write ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (!img->path) {
		r = -ENOMEM;
		goto err;
	}
	if (img->fd < 0) {
		r = -errno;
		set_reason(why, r, "qcow: cannot open %s'%s'%s: %s", depth ? "backing file " : "",
			   path, for_write ? " for reading and writing" : "", strerror(-r));
		goto err;
	}
	if (fstat(img->fd, &st) < 0) {
		r = -errno;
		set_reason(why, r, "qcow: cannot stat '%s': %s", path, strerror(-r));
		goto err;
	}
	if (!S_ISREG(st.st_mode)) {
		r = set_reason(why, -EINVAL, "qcow: '%s' is not a regular file", path);
		goto err;
	}
	img->child = child;
	img->st_dev = st.st_dev;
	img->st_ino = st.st_ino;
	for (const struct q2_img *c = child; c; c = c->child) {
		if (c->st_dev == st.st_dev && c->st_ino == st.st_ino) {
			r = set_reason(why, -ELOOP,
				       "qcow: backing chain of '%s' loops back to '%s'", c->path,
				       path);
			goto err;
		}
	}
	r = img_lock(img, for_write, why);
	if (r < 0)
		goto err;
	fsize = (uint64_t)st.st_size;
	r = read_first_cluster(img->fd, fsize, &buf, &want);
	if (r == -ENOMEM)
		goto err;
	if (r == 0 && !fmt)
		fmt = want >= 4 && qcow2_be32(buf) == QCOW2_MAGIC ? "qcow2" : "raw";
	if (r == 0 && fmt && !strcmp(fmt, "raw")) {
		free(buf);
		img->raw = true;
		img->raw_size = fsize;
		goto done;
	}
	if (r == 0 && strcmp(fmt, "qcow2") != 0) {
		free(buf);
		r = set_reason(
			why, -ENOTSUP,
			"qcow: backing file '%s' has format '%s': only qcow2 and raw backing "
			"files are supported",
			path, fmt);
		goto err;
	}
	if (r == 0)
		r = qcow2_parse_header(buf, want, &img->h, w, sizeof(w));
	free(buf);
	if (r < 0) {
		set_reason(why, r, "qcow: '%s': %s", path, w[0] ? w : strerror(-r));
		goto err;
	}
	if (!img->h.size)
		r = set_reason(why, -EINVAL, "qcow: '%s' has a virtual size of 0", path);
	else if (for_write && img->h.nb_snapshots)
		r = set_reason(why, -ENOTSUP,
			       "qcow: '%s' has %" PRIu32
			       " internal snapshot(s): writing would need "
			       "copy-on-write of shared clusters, which is not supported; open it "
			       "with ';ro' or delete the snapshots (qemu-img snapshot -d)",
			       path, img->h.nb_snapshots);
	else if (for_write && (img->h.incompatible_features & QCOW2_INCOMPAT_CORRUPT))
		r = set_reason(why, -EUCLEAN,
			       "qcow: '%s' is marked corrupt: repair it (qemu-img check -r all) or "
			       "open it with ';ro'",
			       path);
	else if (for_write && (img->h.incompatible_features & QCOW2_INCOMPAT_DIRTY))
		r = set_reason(
			why, -EUCLEAN,
			"qcow: '%s' was not closed cleanly (dirty bit: its lazy refcounts are "
			"stale): repair it (qemu-img check -r all) or open it with ';ro'",
			path);
	if (r < 0)
		goto err;

	img->cb = img->h.cluster_bits;
	img->cs = 1ull << img->cb;
	img->l2_entries = (uint32_t)(img->cs / 8);
	r = q2_read_table(img, img->h.l1_table_offset, img->h.l1_size, fsize, "L1 table", &img->l1,
			  why);
	if (r < 0)
		goto err;
	for (uint32_t i = 0; i < img->h.l1_size; i++) {
		uint64_t l2;

		if (qcow2_l1_entry(&img->h, img->l1[i], fsize, &l2, w, sizeof(w)) < 0) {
			r = set_reason(why, -EINVAL, "qcow: '%s' is corrupt: %s", path, w);
			goto err;
		}
	}
	ntab = MAX((uint64_t)Q2_L2_CACHE_MIN, Q2_L2_CACHE_BYTES / img->cs);
	img->l2c_n = (unsigned int)MIN((uint64_t)Q2_L2_CACHE_MAX, ntab);
	img->l2c = calloc(img->l2c_n, sizeof(*img->l2c));
	if (!img->l2c) {
		r = -ENOMEM;
		goto err;
	}

	if (img->h.backing_file_offset) {
		const char *name = img->h.backing_file, *colon = strchr(name, ':');

		if (depth + 1 >= Q2_MAX_CHAIN) {
			r = set_reason(why, -ELOOP,
				       "qcow: '%s': backing chain longer than %u images", path,
				       Q2_MAX_CHAIN);
			goto err;
		}
		if (!name[0] || (colon && (!strchr(name, '/') || colon < strchr(name, '/')))) {
			r = set_reason(why, -ENOTSUP,
				       "qcow: '%s': backing file '%s' is not a local file name "
				       "(protocols such as nbd: or json: are not supported)",
				       path, name);
			goto err;
		}
		bpath = backing_path(path, name);
		if (!bpath) {
			r = -ENOMEM;
			goto err;
		}
		r = q2_img_open(dev, bpath, img->h.has_backing_fmt ? img->h.backing_fmt : NULL,
				false, depth + 1, img, &img->backing, NULL, why);
		free(bpath);
		if (r < 0)
			goto err;
	}
done:
	if (ret_fsize)
		*ret_fsize = fsize;
	*ret = img;
	return 0;
err:
	q2_img_free(img);
	return r;
}
