/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * file handler: serves a device from a regular file or a block device, every I/O through
 * the device's io_uring (READV/WRITEV on the command's own iovecs into the data area, FSYNC,
 * FALLOCATE), completed from io_done on the I/O thread. No threads, no locks, no copies.
 *
 * cfgstring (tcmu-runner compatible): "file/<path>[;option]...", e.g.
 *   file//var/lib/img.raw
 *   file//tmp/d.img;o_direct;size=1G;writeback=off;queue_depth=64;ro
 * The path is everything before the first ';' (so it cannot contain one); a relative path
 * is taken from the runner's working directory. Options:
 *   o_direct         open with O_DIRECT (bypass the page cache)
 *   ro               open read-only; the device reports write protect
 *   size=<n>[KMGT]   device size; a missing file is created sparse, a shorter one is
 *                    extended sparse. Smaller than the existing file is refused (the handler
 *                    never truncates). Without it: the kernel's dev_size, else the file's size
 *                    (a block device's size).
 *   writeback=on|off the volatile write cache reported to initiators (MODE page 08h WCE);
 *                    off makes every write FUA (RWF_DSYNC). Without it the kernel's setting.
 *   queue_depth=<n>  at most n I/Os of this device in flight in the kernel at once; more
 *                    commands wait in the handler (FIFO). Default: no bound besides the
 *                    device's own queue depth.
 *
 * Reads past the end of the file (a device larger than its file) return zeros. Short reads
 * and writes are resubmitted for the remainder. UNMAP and WRITE SAME with UNMAP punch holes
 * (FALLOC_FL_PUNCH_HOLE|KEEP_SIZE; on a block device the kernel turns that into WRITE ZEROES
 * with unmap, which guarantees zeros, unlike BLKDISCARD); thin provisioning is reported only
 * when the filesystem (or device) supports it. WRITE SAME without UNMAP is left to the core,
 * which writes the pattern in bounded 1 MiB chunks through write().
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/falloc.h>
#include <linux/fs.h>

#include <liburing.h>

#include <rts/cfgstring.h>
#include <rts/device.h> /* rts_dev_get_handler() for copy_range */
#include <rts/handler.h>

#include "macro.h"
#include "bufwrite.h"
#include "cfgstring.h"
#include "iov.h"
#include "parse.h"

#define FILE_SUB_IOV 16 /* iovecs rebuilt for the remainder of a short transfer */
#define FILE_MAX_IOV 1024 /* UIO_MAXIOV: larger iovec lists go in several transfers */
#define FILE_RETRIES 8 /* -EAGAIN/-EINTR resubmissions before giving up */
#define FILE_PUNCH   (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)

struct file_cfg {
	char *path;
	bool o_direct;
	bool ro;
	bool has_size;
	uint64_t size;
	int writeback; /* -1: not given, else 0/1 */
	uint32_t queue_depth; /* 0: unbounded */
};

enum file_op {
	FOP_READ,
	FOP_WRITE,
	FOP_FSYNC,
	FOP_PUNCH,
};

/* Per-command progress, in rts_cmd_get_private(). */
struct file_cmd {
	struct rts_cmd *next; /* waiting for a queue_depth slot */
	const struct iovec *iov;
	unsigned int iovcnt;
	uint8_t op;
	uint8_t retries;
	int rw_flags;
	uint64_t off; /* device byte offset of the operation */
	uint64_t len; /* bytes of the operation */
	uint64_t done; /* bytes transferred so far */
	struct iovec sub[FILE_SUB_IOV];
	int copy_in;        /* copy_range: the source fd */
	uint64_t copy_from; /* copy_range: the source byte offset */
};

struct file_dev {
	int fd;
	/* With o_direct: a buffered fd of the same file for I/O whose buffers are not aligned
	 * (the core's bounce buffers for COMPARE AND WRITE, VERIFY, WRITE SAME); the page cache
	 * keeps the two coherent (direct I/O writes back and invalidates overlapping pages). */
	int fd_buf;
	uint32_t dio_align;
	bool is_blk;
	bool ro;
	uint32_t queue_depth;
	uint32_t inflight;
	struct rts_cmd *wait_head, *wait_tail;
	/* The io_uring the fd is registered with (the ring is created after open). */
	int reg_ring_fd;
	bool fixed;
	bool reg_tried;
	struct bufwrite bw; /* buffered writes on the I/O thread (common/bufwrite.h) */
	char *path;
};

/* ------------------------------------------------------------------ config */

static void cfg_clear(struct file_cfg *c)
{
	free(c->path);
	c->path = NULL;
}

/* Split "<path>[;opt]..." into @c. Pure: no file system access. */
static int cfg_parse(const char *cfgstring, struct file_cfg *c, char **reason)
{
	char *opts, *save = NULL, *tok;
	int r;

	*c = (struct file_cfg){ .writeback = -1 };
	r = cfg_split_path(cfgstring, &c->path, &opts);
	if (r == -EINVAL)
		return set_reason(reason, -EINVAL,
				  "file: no path given (expected file/<path>[;options])");
	if (r < 0)
		return r;
	cfg_for_each_opt(tok, opts, save) {
		char *val = strchr(tok, '=');
		bool b;

		if (val)
			*val++ = '\0';
		if (!strcmp(tok, "o_direct") && !val) {
			c->o_direct = true;
		} else if (!strcmp(tok, "ro") && !val) {
			c->ro = true;
		} else if (!strcmp(tok, "size") && val) {
			if (rts_parse_size(val, &c->size) < 0 || !c->size || c->size % 512) {
				r = set_reason(
					reason, -EINVAL,
					"file: bad size '%s' (a non-zero multiple of 512 bytes, "
					"such as 64M)",
					val);
				break;
			}
			c->has_size = true;
		} else if (!strcmp(tok, "writeback") && val) {
			if (parse_bool(val, &b) < 0) {
				r = set_reason(reason, -EINVAL,
					       "file: writeback must be 'on' or 'off', not '%s'",
					       val);
				break;
			}
			c->writeback = b;
		} else if (!strcmp(tok, "queue_depth") && val) {
			uint64_t qd;

			if (rts_parse_size(val, &qd) < 0 || !qd || qd > 65535) {
				r = set_reason(reason, -EINVAL,
					       "file: bad queue_depth '%s' (1..65535)", val);
				break;
			}
			c->queue_depth = (uint32_t)qd;
		} else {
			r = set_reason(reason, -EINVAL,
				       "file: unknown option '%s%s%s' (known: o_direct, ro, size=, "
				       "writeback=, queue_depth=)",
				       tok, val ? "=" : "", val ? val : "");
			break;
		}
	}
	free(opts);
	if (r < 0)
		cfg_clear(c);
	return r;
}

/* Size of a block device through an fd. */
static int blk_size(int fd, uint64_t *ret)
{
	uint64_t sz;

	if (ioctl(fd, BLKGETSIZE64, &sz) < 0)
		return -errno;
	*ret = sz;
	return 0;
}

/* Everything that can be said about @c without changing anything on disk. */
static int cfg_check(const struct file_cfg *c, char **reason)
{
	struct stat st;

	if (stat(c->path, &st) < 0) {
		int err = errno;

		if (err != ENOENT)
			return set_reason(reason, -err, "file: cannot access '%s': %s", c->path,
					  strerror(err));
		if (!c->has_size)
			return set_reason(
				reason, -ENOENT,
				"file: '%s' does not exist (add ';size=<n>' to create it)",
				c->path);
		if (c->ro)
			return set_reason(reason, -ENOENT,
					  "file: '%s' does not exist and 'ro' forbids creating it",
					  c->path);
		/* It would be created: the directory must exist and be writable. */
		char *dir = strdup(c->path), *slash;

		if (!dir)
			return -ENOMEM;
		slash = strrchr(dir, '/');
		if (slash == dir)
			dir[1] = '\0';
		else if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
		if (access(dir, W_OK | X_OK) < 0) {
			err = errno;
			set_reason(reason, -err, "file: cannot create '%s' in '%s': %s", c->path,
				   dir, strerror(err));
			free(dir);
			return -err;
		}
		free(dir);
		return 0;
	}
	if (S_ISDIR(st.st_mode))
		return set_reason(reason, -EISDIR, "file: '%s' is a directory", c->path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return set_reason(reason, -EINVAL,
				  "file: '%s' is neither a regular file nor a block device",
				  c->path);
	if (access(c->path, c->ro ? R_OK : R_OK | W_OK) < 0) {
		int err = errno;

		return set_reason(reason, -err, "file: cannot open '%s' for %s: %s", c->path,
				  c->ro ? "reading" : "reading and writing", strerror(err));
	}
	if (S_ISREG(st.st_mode) && c->has_size && c->size < (uint64_t)st.st_size)
		return set_reason(reason, -EINVAL,
				  "file: size=%" PRIu64 " is smaller than '%s' (%jd bytes): that "
				  "would truncate it; refusing (give no size, or a larger one)",
				  c->size, c->path, (intmax_t)st.st_size);
	if (S_ISBLK(st.st_mode) && c->has_size) {
		uint64_t bsz = 0;
		int fd = open(c->path, O_RDONLY | O_CLOEXEC);
		int r = fd < 0 ? -errno : blk_size(fd, &bsz);

		if (fd >= 0)
			close(fd);
		if (r < 0)
			return set_reason(reason, r, "file: cannot read the size of '%s': %s",
					  c->path, strerror(-r));
		if (c->size > bsz)
			return set_reason(reason, -EINVAL,
					  "file: size=%" PRIu64 " is larger than block device '%s' "
					  "(%" PRIu64 " bytes)",
					  c->size, c->path, bsz);
	}
	return 0;
}

static int file_check_config(const char *cfgstring, char **reterr_reason)
{
	struct file_cfg c;
	char *why = NULL;
	int r;

	r = cfg_parse(cfgstring, &c, &why);
	if (r == 0) {
		r = cfg_check(&c, &why);
		cfg_clear(&c);
	}
	if (reterr_reason)
		*reterr_reason = why;
	else
		free(why);
	return r;
}

/* ------------------------------------------------------------- open/close */

/* Read an integer sysfs attribute of the block device @rdev's queue (partitions: parent). */
static int blk_queue_attr(dev_t rdev, const char *attr, uint64_t *ret)
{
	char path[128];
	unsigned long long v;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/queue/%s", major(rdev), minor(rdev),
		 attr);
	f = fopen(path, "re");
	if (!f) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../queue/%s", major(rdev),
			 minor(rdev), attr);
		f = fopen(path, "re");
	}
	if (!f)
		return -errno;
	n = fscanf(f, "%llu", &v);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	*ret = v;
	return 0;
}

/*
 * Does the file system punch holes? Probe a one-page range past EOF: KEEP_SIZE makes that
 * a no-op on data, while an unsupported file system fails with EOPNOTSUPP.
 */
static bool file_can_punch(int fd, uint64_t file_size)
{
	uint64_t off = (file_size + 65535) / 65536 * 65536 + 65536;

	return fallocate(fd, FILE_PUNCH, (off_t)off, 4096) == 0;
}

static int file_open(struct rts_dev *dev, bool reopen)
{
	uint32_t bs = rts_dev_get_block_size(dev);
	struct file_cfg c;
	struct file_dev *fd = NULL;
	struct stat st;
	/* The kernel's dev_size. rts_dev_get_size() reads 0 until open() returns (core
	 * issue); the preset block count carries it meanwhile. */
	uint64_t ksize = rts_dev_get_size(dev) ? rts_dev_get_size(dev) :
						 rts_dev_get_num_lbas(dev) * bs;
	uint64_t size = 0, gran = 1;
	bool thin = false, solid = true;
	char *why = NULL;
	int flags, r;

	(void)reopen;
	r = cfg_parse(rts_dev_get_cfgstring(dev), &c, &why);
	if (r == 0)
		r = cfg_check(&c, &why);
	if (r < 0) {
		rts_dev_err(dev, "%s", why ? why : strerror(-r));
		free(why);
		cfg_clear(&c);
		return r;
	}
	fd = calloc(1, sizeof(*fd));
	if (!fd) {
		r = -ENOMEM;
		goto err;
	}
	fd->fd = -1;
	fd->fd_buf = -1;
	fd->reg_ring_fd = -1;
	flags = (c.ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | (c.o_direct ? O_DIRECT : 0);
	if (c.has_size && !c.ro)
		flags |= O_CREAT;
	fd->fd = open(c.path, flags, 0644);
	if (fd->fd < 0) {
		r = -errno;
		rts_dev_err(dev, "file: cannot open '%s': %s", c.path, strerror(errno));
		goto err;
	}
	if (fstat(fd->fd, &st) < 0) {
		r = -errno;
		goto err;
	}
	fd->is_blk = S_ISBLK(st.st_mode);
	bufwrite_init(&fd->bw, c.o_direct); /* O_DIRECT: every write through io_uring */
	if (c.o_direct) {
		uint64_t v = 512;

		fd->fd_buf = open(c.path, (c.ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (fd->fd_buf < 0) {
			r = -errno;
			goto err;
		}
		if (blk_queue_attr(fd->is_blk ? st.st_rdev : st.st_dev, "logical_block_size", &v) <
		    0)
			v = 512;
		fd->dio_align = (uint32_t)MAX(v, (uint64_t)512);
	}
	if (fd->is_blk) {
		uint64_t v;

		r = blk_size(fd->fd, &size);
		if (r < 0)
			goto err;
		if (c.has_size && c.size > size) {
			r = -EINVAL;
			goto err;
		}
		if (c.has_size)
			size = c.size;
		else if (ksize && ksize < size)
			size = ksize;
		/* PUNCH_HOLE on a block device is WRITE ZEROES with unmap, never a fallback. */
		thin = !c.ro && blk_queue_attr(st.st_rdev, "write_zeroes_max_bytes", &v) == 0 && v;
		if (blk_queue_attr(st.st_rdev, "rotational", &v) == 0)
			solid = v == 0;
		if (blk_queue_attr(st.st_rdev, "discard_granularity", &v) == 0 && v >= bs)
			gran = v / bs;
	} else if (S_ISREG(st.st_mode)) {
		if (c.has_size)
			size = c.size;
		else if (ksize)
			size = ksize; /* reads past EOF are zeros, writes extend the file */
		else
			size = (uint64_t)st.st_size;
		if (c.has_size && (uint64_t)st.st_size < size &&
		    ftruncate(fd->fd, (off_t)size) < 0) {
			r = -errno;
			rts_dev_err(dev, "file: cannot extend '%s' to %" PRIu64 " bytes: %s",
				    c.path, size, strerror(errno));
			goto err;
		}
		thin = !c.ro &&
		       file_can_punch(fd->fd,
				      size > (uint64_t)st.st_size ? size : (uint64_t)st.st_size);
		if (st.st_blksize >= (blksize_t)bs)
			gran = (uint64_t)st.st_blksize / bs;
	} else {
		r = -EINVAL;
		goto err;
	}
	size -= size % bs;
	if (!size) {
		rts_dev_err(dev, "file: '%s' is empty; give ';size=<n>'", c.path);
		r = -EINVAL;
		goto err;
	}
	fd->ro = c.ro;
	fd->queue_depth = c.queue_depth;
	fd->path = c.path;
	c.path = NULL;
	rts_dev_set_private(dev, fd);
	rts_dev_set_num_lbas(dev, size / bs);
	/* Without the option the kernel's (runner's) initial WCE stands. */
	if (c.writeback >= 0)
		rts_dev_set_write_cache(dev, c.writeback);
	rts_dev_set_read_only(dev, c.ro);
	rts_dev_set_thin_provisioning(dev, thin, (uint32_t)MIN(gran, (uint64_t)UINT32_MAX));
	/* Files: reported non-rotational (the page cache and most backing stores are). */
	rts_dev_set_solid_state(dev, solid);
	rts_dev_info(dev, "file: '%s' (%s%s%s), %" PRIu64 " bytes%s%s", fd->path,
		     fd->is_blk ? "block device" : "file", c.o_direct ? ", O_DIRECT" : "",
		     c.ro ? ", read-only" : "", size,
		     c.writeback < 0 ? "" : (c.writeback ? ", writeback on" : ", writeback off"),
		     thin ? ", thin" : "");
	return 0;
err:
	if (fd && fd->fd >= 0)
		close(fd->fd);
	if (fd && fd->fd_buf >= 0)
		close(fd->fd_buf);
	free(fd);
	cfg_clear(&c);
	return r;
}

static void file_close(struct rts_dev *dev)
{
	struct file_dev *fd = rts_dev_get_private(dev);

	if (!fd)
		return;
	rts_dev_dbg(dev,
		    "file: %s: writes done on the I/O thread: %llu with RWF_NOWAIT, %llu blocking "
		    "(%llu slow)%s",
		    fd->path, (unsigned long long)fd->bw.nowait,
		    (unsigned long long)fd->bw.blocking, (unsigned long long)fd->bw.slow,
		    fd->bw.no_nowait ? "; no RWF_NOWAIT buffered writes here" : "");
	/* Registered files go away with the io_uring; the fd is ours. */
	close(fd->fd);
	if (fd->fd_buf >= 0)
		close(fd->fd_buf);
	free(fd->path);
	free(fd);
	rts_dev_set_private(dev, NULL);
}

/* ------------------------------------------------------------------- I/O */

/* Register the fd on the device's io_uring once it exists (it is created after open()). */
static void maybe_register(struct rts_dev *dev, struct file_dev *fd)
{
	struct io_uring *ring = rts_dev_get_uring(dev);

	if (fd->reg_tried && fd->reg_ring_fd == ring->ring_fd)
		return;
	fd->reg_tried = true;
	fd->reg_ring_fd = ring->ring_fd;

	int fds[2] = { fd->fd, fd->fd_buf };

	fd->fixed = io_uring_register_files(ring, fds, fd->fd_buf >= 0 ? 2 : 1) == 0;
	if (!fd->fixed)
		rts_dev_dbg(dev, "file: io_uring_register_files failed, using the plain fd");
}

/* Point fc->sub at the part of fc->iov after fc->done bytes; returns the iovec count. */
static unsigned int remainder_iov(struct file_cmd *fc, const struct iovec **ret)
{
	if (!fc->done) {
		*ret = fc->iov;
		return MIN(fc->iovcnt, (unsigned int)FILE_MAX_IOV);
	}
	*ret = fc->sub;
	return iov_window(fc->iov, fc->iovcnt, fc->done, fc->len - fc->done, fc->sub, FILE_SUB_IOV);
}

/* O_DIRECT needs buffers, lengths and offsets aligned to the logical block size. */
static bool dio_ok(const struct file_dev *fd, const struct iovec *iov, unsigned int n, uint64_t off)
{
	uint64_t m = off;

	for (unsigned int i = 0; i < n; i++)
		m |= (uintptr_t)iov[i].iov_base | iov[i].iov_len;
	return (m & (fd->dio_align - 1)) == 0;
}

/* Queue the next SQE of @cmd's operation. The caller counted it in fd->inflight. */
static int submit(struct rts_dev *dev, struct file_dev *fd, struct rts_cmd *cmd)
{
	struct file_cmd *fc = rts_cmd_get_private(cmd);
	struct io_uring_sqe *sqe;
	const struct iovec *iov;
	unsigned int n;
	uint64_t ud;
	int target;

	maybe_register(dev, fd);
	sqe = rts_dev_get_sqe(dev, cmd, 0);
	if (!sqe)
		return -EBUSY;
	ud = sqe->user_data; /* stamped by rts_dev_get_sqe(); keep it whatever prep does */
	target = fd->fixed ? 0 : fd->fd;
	switch (fc->op) {
	case FOP_READ:
	case FOP_WRITE:
		n = remainder_iov(fc, &iov);
		if (fd->fd_buf >= 0 && !dio_ok(fd, iov, n, fc->off + fc->done))
			target = fd->fixed ? 1 : fd->fd_buf;
		/* One iovec (the common 4 KiB case): READ/WRITE skip the iovec import. */
		if (n == 1 && fc->op == FOP_READ)
			io_uring_prep_read(sqe, target, iov->iov_base, (unsigned int)iov->iov_len,
					   fc->off + fc->done);
		else if (n == 1)
			io_uring_prep_write(sqe, target, iov->iov_base, (unsigned int)iov->iov_len,
					    fc->off + fc->done);
		else if (fc->op == FOP_READ)
			io_uring_prep_readv(sqe, target, iov, n, fc->off + fc->done);
		else
			io_uring_prep_writev(sqe, target, iov, n, fc->off + fc->done);
		sqe->rw_flags = fc->rw_flags;
		break;
	case FOP_FSYNC:
		io_uring_prep_fsync(sqe, target, IORING_FSYNC_DATASYNC);
		break;
	case FOP_PUNCH:
		io_uring_prep_fallocate(sqe, target, FILE_PUNCH, fc->off, fc->len);
		break;
	}
	if (fd->fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, ud);
	return 0;
}

static void finish(struct rts_dev *dev, struct file_dev *fd, struct rts_cmd *cmd, int err);

/*
 * A buffered write is done on the I/O thread while the page cache takes it quickly
 * (common/bufwrite.h says when and why): io_uring would hand it to an io-wq worker on most
 * file systems, a context switch each way per write. FUA writes (RWF_DSYNC) and what
 * bufwrite_try() declines go through io_uring. Returns true when @cmd is finished.
 */
static bool write_inline(struct file_dev *fd, struct rts_cmd *cmd, struct file_cmd *fc)
{
	const struct iovec *iov;
	unsigned int n;
	ssize_t r;

	if (fc->rw_flags)
		return false;
	n = remainder_iov(fc, &iov);
	r = bufwrite_try(&fd->bw, fd->fd, iov, (int)n, (off_t)fc->off);
	if (r < 0)
		return false; /* io_uring reports real errors with the usual mapping */
	fc->done = (uint64_t)r;
	if (fc->done < fc->len)
		return false; /* the rest through io_uring */
	rts_cmd_complete(cmd, 0);
	return true;
}

/* Start @cmd now, or queue it behind queue_depth. Returns 0 (it completes later) or -errno. */
static int start(struct rts_dev *dev, struct rts_cmd *cmd, enum file_op op, const struct iovec *iov,
		 unsigned int iovcnt, uint64_t off, uint64_t len, int rw_flags)
{
	struct file_dev *fd = rts_dev_get_private(dev);
	struct file_cmd *fc = rts_cmd_get_private(cmd);
	int r;

	*fc = (struct file_cmd){
		.iov = iov,
		.iovcnt = iovcnt,
		.op = (uint8_t)op,
		.rw_flags = rw_flags,
		.off = off,
		.len = len,
	};
	if (fd->queue_depth && fd->inflight >= fd->queue_depth) {
		if (fd->wait_tail)
			((struct file_cmd *)rts_cmd_get_private(fd->wait_tail))->next = cmd;
		else
			fd->wait_head = cmd;
		fd->wait_tail = cmd;
		return 0;
	}
	if (op == FOP_WRITE && write_inline(fd, cmd, fc))
		return 0;
	fd->inflight++;
	r = submit(dev, fd, cmd);
	if (r < 0)
		fd->inflight--;
	return r;
}

/* Start waiting commands while queue_depth allows. */
static void run_waiters(struct rts_dev *dev, struct file_dev *fd)
{
	while (fd->wait_head && fd->inflight < fd->queue_depth) {
		struct rts_cmd *cmd = fd->wait_head;
		struct file_cmd *fc = rts_cmd_get_private(cmd);

		fd->wait_head = fc->next;
		if (!fd->wait_head)
			fd->wait_tail = NULL;
		fd->inflight++;
		if (submit(dev, fd, cmd) < 0)
			finish(dev, fd, cmd, -EBUSY);
	}
}

/* End the operation (the core may start the command's next operation from in here). */
static void finish(struct rts_dev *dev, struct file_dev *fd, struct rts_cmd *cmd, int err)
{
	fd->inflight--;
	rts_cmd_complete(cmd, err);
	if (fd->wait_head)
		run_waiters(dev, fd);
}

static void zero_rest(struct file_cmd *fc)
{
	const struct iovec *iov;
	unsigned int n;

	while (fc->done < fc->len) {
		n = remainder_iov(fc, &iov);
		if (!n)
			break;
		for (unsigned int i = 0; i < n; i++) {
			memset(iov[i].iov_base, 0, iov[i].iov_len);
			fc->done += iov[i].iov_len;
		}
	}
}

static void file_io_done(struct rts_dev *dev, struct rts_cmd *cmd, uint16_t tag, int res)
{
	struct file_dev *fd = rts_dev_get_private(dev);
	struct file_cmd *fc = rts_cmd_get_private(cmd);

	(void)tag;
	if (res == -EBADF && fd->fixed) {
		/* The ring changed under a stale registration: fall back to the plain fd. */
		fd->fixed = false;
		res = -EAGAIN;
	}
	if ((res == -EAGAIN || res == -EINTR) && fc->retries < FILE_RETRIES) {
		fc->retries++;
		if (submit(dev, fd, cmd) < 0)
			finish(dev, fd, cmd, -EBUSY);
		return;
	}
	if (res < 0) {
		finish(dev, fd, cmd, res == -EOPNOTSUPP ? -ENOTSUP : res);
		return;
	}
	switch (fc->op) {
	case FOP_READ:
		if (res == 0) /* end of file: the rest of a sparse-extended device is zeros */
			zero_rest(fc);
		fc->done += (uint64_t)res;
		break;
	case FOP_WRITE:
		if (res == 0) {
			finish(dev, fd, cmd, -EIO);
			return;
		}
		fc->done += (uint64_t)res;
		break;
	default:
		fc->done = fc->len;
	}
	if (fc->done < fc->len) {
		fc->retries = 0;
		if (submit(dev, fd, cmd) < 0)
			finish(dev, fd, cmd, -EBUSY);
		return;
	}
	finish(dev, fd, cmd, 0);
}

static int file_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int iovcnt, uint64_t off, uint64_t len)
{
	return start(dev, cmd, FOP_READ, iov, iovcnt, off, len, 0);
}

static int file_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		      unsigned int iovcnt, uint64_t off, uint64_t len, unsigned int flags)
{
	struct file_dev *fd = rts_dev_get_private(dev);

	if (fd->ro)
		return -EROFS;
	return start(dev, cmd, FOP_WRITE, iov, iovcnt, off, len,
		     (flags & RTS_IO_FUA) ? RWF_DSYNC : 0);
}

static int file_flush(struct rts_dev *dev, struct rts_cmd *cmd)
{
	return start(dev, cmd, FOP_FSYNC, NULL, 0, 0, 0, 0);
}

static int file_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len)
{
	struct file_dev *fd = rts_dev_get_private(dev);

	if (fd->ro)
		return -EROFS;
	if (!len) {
		rts_cmd_complete(cmd, 0);
		return 0;
	}
	return start(dev, cmd, FOP_PUNCH, NULL, 0, off, len, 0);
}

/* Offloaded copy_file_range() of a copy_range (a worker thread, see file_copy_range). */
static int copy_job(struct rts_dev *dev, struct rts_cmd *cmd, void *arg)
{
	struct file_dev *fd = rts_dev_get_private(dev);
	struct file_cmd *fc = rts_cmd_get_private(cmd);
	int out = fd->fd_buf >= 0 ? fd->fd_buf : fd->fd;
	loff_t in_off = (loff_t)fc->copy_from, out_off = (loff_t)fc->off;
	uint64_t left = fc->len;

	(void)arg;
	while (left) {
		ssize_t n = copy_file_range(fc->copy_in, &in_off, out, &out_off, (size_t)MIN(left, (uint64_t)1 << 30), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			/* nothing copied yet and the kernel cannot do it here: the core copies */
			if (left == fc->len && (errno == EXDEV || errno == EOPNOTSUPP ||
						errno == ENOSYS || errno == EINVAL))
				return -EOPNOTSUPP;
			return -errno;
		}
		if (n == 0)
			return -EIO; /* the source ended early: cannot happen inside the device */
		left -= (uint64_t)n;
	}
	return 0;
}

/*
 * EXTENDED COPY fast path: copy_file_range() from another file device of this runner (or
 * this one) without the data passing through the runner. Overlapping ranges of one file are
 * left to the core (copy_file_range refuses them).
 */
static int file_copy_range(struct rts_dev *dev, struct rts_cmd *cmd, struct rts_dev *src,
			   uint64_t src_off, uint64_t off, uint64_t len)
{
	struct file_dev *fd = rts_dev_get_private(dev);
	const struct rts_handler *sh = rts_dev_get_handler(src);
	struct file_cmd *fc = rts_cmd_get_private(cmd);
	struct file_dev *sfd;

	if (fd->ro)
		return -EROFS;
	if (!sh || sh->copy_range != file_copy_range)
		return -EOPNOTSUPP;
	sfd = rts_dev_get_private(src);
	if (sfd == fd && src_off < off + len && off < src_off + len)
		return -EOPNOTSUPP;
	fc->copy_in = sfd->fd_buf >= 0 ? sfd->fd_buf : sfd->fd;
	fc->copy_from = src_off;
	fc->off = off;
	fc->len = len;
	return rts_cmd_offload(cmd, copy_job, NULL);
}

/*
 * GET LBA STATUS from the file's allocation (SEEK_DATA/SEEK_HOLE): what UNMAP punched is
 * deallocated and reads zeros (LBPRZ). A block partly holding data counts as mapped. Block
 * devices and file systems without SEEK_DATA report everything mapped.
 */
static int file_get_lba_status(struct rts_dev *dev, uint64_t off, uint64_t *len)
{
	struct file_dev *fd = rts_dev_get_private(dev);
	uint32_t bs = rts_dev_get_block_size(dev);
	uint64_t want = *len, end;
	off_t data, hole;

	if (fd->is_blk)
		return 1;
	data = lseek(fd->fd, (off_t)off, SEEK_DATA);
	if (data < 0) {
		if (errno == ENXIO)
			return 0; /* nothing but holes up to the end of the file (and beyond) */
		if (errno == EINVAL || errno == EOPNOTSUPP)
			return 1;
		return -errno;
	}
	end = (uint64_t)data / bs * bs;
	if (end > off) {
		*len = MIN(want, end - off);
		return 0;
	}
	hole = lseek(fd->fd, (off_t)off, SEEK_HOLE);
	if (hole < 0)
		return -errno;
	end = ((uint64_t)hole + bs - 1) / bs * bs;
	if (end < off + bs)
		end = off + bs;
	*len = MIN(want, end - off);
	return 1;
}

/* ---------------------------------------------------------------- reconfig */

static int file_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	struct file_dev *fd = rts_dev_get_private(dev);
	uint32_t bs = rts_dev_get_block_size(dev);

	if (rc->what & RTS_RECONFIG_CFGSTRING)
		return -EOPNOTSUPP; /* reopen the device to change its backing file */
	if (rc->what & RTS_RECONFIG_SIZE) {
		struct stat st;

		if (!rc->size || rc->size % bs)
			return -EINVAL;
		if (fstat(fd->fd, &st) < 0)
			return -errno;
		if (fd->is_blk) {
			uint64_t max = 0;
			int r = blk_size(fd->fd, &max);

			if (r < 0)
				return r;
			if (rc->size > max)
				return -ENOSPC;
		} else if ((uint64_t)st.st_size < rc->size) {
			/* Grow sparse; a smaller size only shrinks the device, never the file. */
			if (fd->ro)
				return -EROFS;
			if (ftruncate(fd->fd, (off_t)rc->size) < 0)
				return -errno;
		}
		rts_dev_set_num_lbas(dev, rc->size / bs);
		rts_dev_info(dev, "file: resized to %" PRIu64 " bytes", rc->size);
	}
	if (rc->what & RTS_RECONFIG_WRITE_CACHE) {
		/* The core already reports WCE and marks writes FUA when it is off. */
		rts_dev_set_write_cache(dev, rc->write_cache);
	}
	return 0;
}

static const struct rts_handler file_handler = {
	RTS_HANDLER_INIT,
	.name = "file: regular file or block device through io_uring",
	.subtype = "file",
	.cfg_desc = "file/<path>[;o_direct][;ro][;size=<n>][;writeback=on|off][;queue_depth=<n>]",
	.flags = RTS_HANDLER_F_FUA,
	.cmd_private_size = sizeof(struct file_cmd),
	.check_config = file_check_config,
	.open = file_open,
	.close = file_close,
	.reconfig = file_reconfig,
	.read = file_read,
	.write = file_write,
	.flush = file_flush,
	.unmap = file_unmap,
	.io_done = file_io_done,
	.get_lba_status = file_get_lba_status,
	.copy_range = file_copy_range,
};

RTS_HANDLER_DEFINE(file_handler)
