/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 handler: serves a TCMU device from a qcow2 image (versions 2 and 3).
 *
 * cfgstring (tcmu-runner compatible, subtype "qcow"): "qcow/<path>[;ro]", e.g.
 *   qcow//var/lib/images/vm.qcow2
 *   qcow//var/lib/images/golden.qcow2;ro
 *
 * Data path: guest reads and writes are split at cluster boundaries into extents, physically
 * contiguous clusters merged; each extent on a normal cluster is one READV/WRITEV on the
 * device's io_uring straight on the command's iovecs (no bounce), up to Q2_PARTS extents of
 * a command in flight at once. Zero clusters read as zeros; unallocated clusters read from
 * the backing file (qcow2 or raw, read-only, chains of up to Q2_MAX_CHAIN images) or as
 * zeros without one; compressed clusters are inflated (raw deflate, as qemu writes them)
 * synchronously.
 *
 * Metadata I/O (L2 tables, refcounts, L1) is synchronous pread/pwrite on the I/O thread,
 * written through (no dirty metadata cache), so SYNCHRONIZE CACHE is one fsync. L2 tables
 * are cached (LRU, bounded by Q2_L2_CACHE_BYTES) so steady-state I/O to allocated clusters
 * needs no metadata I/O.
 *
 * Allocating writes (crash-consistency order, as qemu's):
 *   1. refcount of the new clusters set to 1 (a new refcount block first if needed, placed
 *      at the allocation point so it describes itself), then fdatasync; done for a pool
 *      of up to Q2_POOL_BYTES at once, later allocations take from the pool;
 *   2. (if the L2 table is missing) a zeroed L2 table written, then its L1 entry;
 *   3. the data cluster(s) written through io_uring: straight from the command's iovecs
 *      when it covers them whole, else from a bounce buffer holding the new data and, for
 *      the rest of the cluster, the backing file's data (copy-on-write, read
 *      synchronously) or zeros;
 *   4. only when 3 completed: the L2 entries pointing at the clusters;
 *   5. when a compressed cluster was replaced (copy-on-write from its inflated data):
 *      fdatasync, then the references its data held on host clusters are dropped.
 * A crash therefore can leak a cluster (refcount 1, unreferenced: "leaked cluster" in
 * qemu-img check, harmless) but never leaves an L2/L1 entry pointing at a cluster whose
 * refcount is 0. New clusters are always taken past the last used cluster, never reused.
 * While an allocation is in flight, other writes touching the same guest clusters wait.
 *
 * UNMAP (thin provisioning, LBPRZ): whole clusters are deallocated (L2 entry zero flag or
 * unallocated, fdatasync, then refcount 0 and a hole punched); parts of clusters get zeros
 * written.
 *
 * Images are locked the way qemu locks them (OFD locks on bytes 100+i / 200+i), so a
 * running VM and this handler never write one image at once. See README.md.
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
#include "qcow2_format.h"

#define Q2_PARTS	  4 /* extents of one command in flight at once */
#define Q2_SUB_IOV	  32 /* iovecs per SQE; longer extents go in several SQEs */
#define Q2_RETRIES	  8 /* -EAGAIN/-EINTR resubmissions */
#define Q2_ALLOC_MAX	  (1u << 20) /* bytes of new clusters per allocating extent */
#define Q2_L2_CACHE_BYTES (8u << 20)
#define Q2_L2_CACHE_MIN	  4u
#define Q2_L2_CACHE_MAX	  512u
#define Q2_WHY		  256
#define Q2_MAX_CHAIN	  16 /* images in a backing chain */
#define Q2_UNMAP_RUN	  64 /* whole clusters deallocated per metadata pass */
#define Q2_POOL_BYTES	  (16u << 20) /* clusters reserved per refcount update + fdatasync */

struct q2_cfg {
	char *path;
	bool ro;
};

enum q2_op {
	Q2_READ,
	Q2_WRITE,
	Q2_FLUSH,
	Q2_UNMAP,
};

/* One extent of a command in flight (or a free slot). */
struct q2_part {
	bool busy;
	bool alloc; /* allocating write: bounce buffer, L2 entries written on completion */
	bool fresh; /* alloc: the clusters are new (not a zero cluster's own), freed on failure */
	uint8_t retries;
	uint64_t cmd_off; /* offset of the extent in the command's data */
	int fd; /* the image (of the chain) the extent is read from / written to */
	uint64_t host_off; /* file offset of the extent */
	uint64_t len;
	uint64_t done;
	uint8_t *bounce; /* data assembled for the write (partial clusters, UNMAP zeros) or NULL */
	uint64_t gcl; /* alloc: first guest cluster */
	uint32_t ncl; /* alloc: number of clusters */
	uint64_t l2_off; /* alloc: L2 table holding their entries */
	uint64_t free_off, free_len; /* alloc over a compressed cluster: its data, released after */
	struct q2_part *pnext, *pprev; /* alloc: the device's pending allocations */
	struct iovec sub[Q2_SUB_IOV];
};

/* Per-command state, in rts_cmd_get_private(). */
struct q2_cmd {
	struct rts_cmd *next; /* device wait list */
	const struct iovec *iov;
	unsigned int iovcnt;
	uint8_t op;
	bool waiting; /* on the wait list: blocked behind an allocation */
	uint8_t inflight;
	int err; /* first error wins */
	uint64_t off; /* guest byte offset */
	uint64_t len;
	uint64_t pos; /* bytes mapped (started or finished) so far */
	struct q2_part parts[Q2_PARTS];
};

struct l2_slot {
	uint64_t off; /* 0: free */
	uint64_t lru;
	uint64_t *tbl; /* host order */
};

/* One image of the chain: the device's image, or a read-only backing file (qcow2 or raw). */
struct q2_img {
	struct rts_dev *dev; /* for logging; NULL in check_config */
	int fd;
	char *path;
	bool raw; /* a raw backing file: guest offset = file offset, raw_size bytes */
	uint64_t raw_size;
	struct qcow2_header h;
	uint64_t cs; /* cluster size */
	unsigned int cb; /* cluster bits */
	uint32_t l2_entries;
	uint64_t *l1; /* host order, h.l1_size entries */
	struct l2_slot *l2c;
	unsigned int l2c_n;
	unsigned int l2c_last; /* slot of the last hit */
	uint64_t lru_clock;
	uint8_t *cbuf; /* compressed input (2 clusters) */
	uint8_t *dbuf; /* one inflated cluster */
	uint64_t dbuf_off; /* host offset of the compressed cluster in dbuf, UINT64_MAX: none */
	struct q2_img *backing;
	struct q2_img *child; /* the image this one backs (NULL for the device's image) */
	dev_t st_dev; /* identity, to detect backing chains that loop */
	ino_t st_ino;
};

struct q2_dev {
	struct rts_dev *dev;
	struct q2_img *top; /* the image the device writes; its backing chain hangs off it */
	bool ro;
	uint64_t *reft; /* refcount table, host order */
	uint64_t reft_entries;
	uint64_t alloc_next; /* next free host offset; everything past it is unused */
	/* Clusters below alloc_next whose refcount is already 1 (durable) but that nothing
	 * uses yet: reserved in one go so that allocations need no fdatasync each. */
	uint64_t pool_next, pool_end;
	uint8_t *zero; /* one cluster of zeros */
	struct q2_part *pending; /* allocations whose L2 entries are not written yet */
	struct rts_cmd *wait_head, *wait_tail;
};

/* ------------------------------------------------------------------ config */

static void cfg_clear(struct q2_cfg *c)
{
	free(c->path);
	c->path = NULL;
}

static int cfg_parse(const char *cfgstring, struct q2_cfg *c, char **reason)
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
	for (tok = opts ? strtok_r(opts, ";", &save) : NULL; tok;
	     tok = strtok_r(NULL, ";", &save)) {
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
		cfg_clear(c);
	return r;
}

/* Read exactly @len bytes at @off; bytes past the end of the file read as zeros. */
static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			memset(p, 0, len);
			return 0;
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static void img_free(struct q2_img *img)
{
	while (img) {
		struct q2_img *backing = img->backing;

		if (img->fd >= 0)
			close(img->fd);
		for (unsigned int i = 0; img->l2c && i < img->l2c_n; i++)
			free(img->l2c[i].tbl);
		free(img->l2c);
		free(img->l1);
		free(img->cbuf);
		free(img->dbuf);
		free(img->path);
		free(img);
		img = backing;
	}
}

/* Read a table of @n big-endian 64-bit entries at @off into host order. */
static int read_table(const struct q2_img *img, uint64_t off, uint64_t n, uint64_t file_size,
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
	r = pread_full(img->fd, t, n * 8, off);
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
static int img_open(struct rts_dev *dev, const char *path, const char *fmt, bool for_write,
		    unsigned int depth, struct q2_img *child, struct q2_img **ret,
		    uint64_t *ret_fsize, char **why)
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
	want = (size_t)MIN(fsize, (uint64_t)1 << QCOW2_MAX_CLUSTER_BITS);
	buf = malloc(want ? want : 1);
	if (!buf) {
		r = -ENOMEM;
		goto err;
	}
	r = pread_full(img->fd, buf, want, 0);
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
	r = read_table(img, img->h.l1_table_offset, img->h.l1_size, fsize, "L1 table", &img->l1,
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
	img->cbuf = malloc(2 * img->cs);
	img->dbuf = malloc(img->cs);
	if (!img->l2c || !img->cbuf || !img->dbuf) {
		r = -ENOMEM;
		goto err;
	}
	for (unsigned int i = 0; i < img->l2c_n; i++) {
		img->l2c[i].tbl = malloc(img->cs);
		if (!img->l2c[i].tbl) {
			r = -ENOMEM;
			goto err;
		}
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
		r = img_open(dev, bpath, img->h.has_backing_fmt ? img->h.backing_fmt : NULL, false,
			     depth + 1, img, &img->backing, NULL, why);
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
	img_free(img);
	return r;
}

static int q2_check_config(const char *cfgstring, char **reterr_reason)
{
	struct q2_img *img = NULL;
	struct q2_cfg c;
	char *why = NULL;
	int r;

	r = cfg_parse(cfgstring, &c, &why);
	if (r == 0) {
		r = img_open(NULL, c.path, "qcow2", !c.ro, 0, NULL, &img, NULL, &why);
		img_free(img);
		cfg_clear(&c);
	}
	if (reterr_reason)
		*reterr_reason = why;
	else
		free(why);
	return r;
}

/* ----------------------------------------------------------- metadata */

static void q2_corrupt(struct q2_img *img, const char *what)
{
	rts_dev_err(img->dev, "qcow: '%s' is corrupt: %s", img->path, what);
}

/* The cached L2 table at @l2_off, loading it (evicting the LRU one) when absent. */
static int l2_get(struct q2_img *img, uint64_t l2_off, uint64_t **ret)
{
	struct l2_slot *victim = &img->l2c[0], *last = &img->l2c[img->l2c_last];
	int r;

	if (last->off == l2_off) { /* the common case: the same table as the last lookup */
		last->lru = ++img->lru_clock;
		*ret = last->tbl;
		return 0;
	}
	for (unsigned int i = 0; i < img->l2c_n; i++) {
		struct l2_slot *s = &img->l2c[i];

		if (s->off == l2_off) {
			s->lru = ++img->lru_clock;
			img->l2c_last = i;
			*ret = s->tbl;
			return 0;
		}
		if (s->lru < victim->lru)
			victim = s;
	}
	victim->off = 0;
	victim->lru = 0;
	r = pread_full(img->fd, victim->tbl, img->cs, l2_off);
	if (r < 0) {
		rts_dev_err(img->dev, "qcow: '%s': cannot read the L2 table at 0x%" PRIx64 ": %s",
			    img->path, l2_off, strerror(-r));
		return r;
	}
	for (uint32_t i = 0; i < img->l2_entries; i++)
		victim->tbl[i] = qcow2_be64((const uint8_t *)&victim->tbl[i]);
	victim->off = l2_off;
	victim->lru = ++img->lru_clock;
	img->l2c_last = (unsigned int)(victim - img->l2c);
	*ret = victim->tbl;
	return 0;
}

/* The cached table at @l2_off or NULL (never loads). */
static uint64_t *l2_peek(struct q2_img *img, uint64_t l2_off)
{
	for (unsigned int i = 0; i < img->l2c_n; i++)
		if (img->l2c[i].off == l2_off)
			return img->l2c[i].tbl;
	return NULL;
}

/* L2 table offset of guest cluster @gcl (0: none) and whether it is exclusively ours. */
static int l1_lookup(struct q2_img *img, uint64_t gcl, uint64_t *ret_l2, bool *ret_copied)
{
	uint64_t l1i = gcl / img->l2_entries, e;
	char why[Q2_WHY];

	if (l1i >= img->h.l1_size) {
		q2_corrupt(img, "guest cluster beyond the L1 table");
		return -EIO;
	}
	e = img->l1[l1i];
	if (qcow2_l1_entry(&img->h, e, UINT64_MAX, ret_l2, why, sizeof(why)) < 0) {
		q2_corrupt(img, why);
		return -EIO;
	}
	if (ret_copied)
		*ret_copied = (e & QCOW2_OFLAG_COPIED) != 0;
	return 0;
}

/* Decode the L2 entry of guest cluster @gcl from the table @tbl (NULL: no table). */
static int l2_decode(struct q2_img *img, const uint64_t *tbl, uint64_t gcl, struct qcow2_l2 *ret)
{
	char why[Q2_WHY];

	if (!tbl) {
		*ret = (struct qcow2_l2){ .type = QCOW2_CL_UNALLOCATED };
		return 0;
	}
	if (qcow2_l2_entry(&img->h, tbl[gcl % img->l2_entries], ret, why, sizeof(why)) < 0) {
		q2_corrupt(img, why);
		return -EIO;
	}
	return 0;
}

static int q2_sync(struct q2_dev *q)
{
	if (fdatasync(q->top->fd) < 0) {
		int r = -errno;

		rts_dev_err(q->dev, "qcow: '%s': fdatasync: %s", q->top->path, strerror(-r));
		return r;
	}
	return 0;
}

/* Set the refcount of host cluster @cl, whose refcount block exists, to @v. */
static int refcount_set(struct q2_dev *q, uint64_t cl, uint16_t v)
{
	uint64_t epb = q->top->cs / 2, b = cl / epb;
	uint8_t e[2];

	if (b >= q->reft_entries || !q->reft[b])
		return -EIO;
	qcow2_put_be16(e, v);
	return pwrite_full(q->top->fd, e, 2, q->reft[b] + (cl % epb) * 2);
}

static int refcount_get(struct q2_dev *q, uint64_t cl, uint16_t *ret)
{
	uint64_t epb = q->top->cs / 2, b = cl / epb;
	uint8_t e[2];
	int r;

	if (b >= q->reft_entries || !q->reft[b])
		return -EIO;
	r = pread_full(q->top->fd, e, 2, q->reft[b] + (cl % epb) * 2);
	if (r == 0)
		*ret = (uint16_t)(e[0] << 8 | e[1]);
	return r;
}

/*
 * A compressed cluster's L2 entry was replaced: drop the reference it held on each host
 * cluster its data touches (compressed clusters share host clusters, each counted once
 * per compressed cluster in it). The new L2 entry is made durable first, so that a crash
 * can leak these clusters but never leave the old entry pointing at a freed one. Freed
 * clusters are not reused (allocation only goes forward).
 */
static void release_compressed(struct q2_dev *q, uint64_t off, uint64_t len, bool sync)
{
	uint64_t first = off >> q->top->cb, last = (off + len - 1) >> q->top->cb;
	int r = sync ? q2_sync(q) : 0;

	for (uint64_t cl = first; r == 0 && cl <= last; cl++) {
		uint16_t v = 0;

		r = refcount_get(q, cl, &v);
		if (r == 0 && v == 0) {
			q2_corrupt(q->top, "compressed cluster data with refcount 0");
			r = -EIO;
		}
		if (r == 0)
			r = refcount_set(q, cl, (uint16_t)(v - 1));
	}
	if (r < 0)
		rts_dev_warn(q->dev,
			     "qcow: '%s': cannot release the compressed data at 0x%" PRIx64
			     " (%s): it leaks",
			     q->top->path, off, strerror(-r));
}

/*
 * The refcount table has no entry for the block that would count q->alloc_next: write a
 * table twice as large past the used area, together with the refcount blocks that count
 * it and themselves, make it durable, switch the header to it (one 12-byte write: offset
 * and size), and only then release the old table's clusters. A crash in between leaves
 * the old table in use and the new clusters leaked.
 */
static int grow_reftable(struct q2_dev *q)
{
	struct q2_img *img = q->top;
	uint64_t cs = img->cs, epb = cs / 2, c0 = q->alloc_next >> img->cb, b0 = c0 / epb;
	uint64_t old_off = img->h.refcount_table_offset, old_nc = img->h.refcount_table_clusters;
	uint64_t nb = 1, nc, entries, total, need, *nt;
	uint8_t *meta, hdr[12];
	int r;

	/* nb blocks then nc table clusters from c0: the blocks must count all of them and
	 * the table must have an entry for every block. */
	for (;;) {
		entries = MAX(q->reft_entries * 2, b0 + nb);
		nc = (entries * 8 + cs - 1) / cs;
		entries = nc * cs / 8;
		total = nb + nc;
		need = (c0 + total - 1) / epb - b0 + 1;
		if (need <= nb)
			break;
		nb = need;
	}
	if (nc * cs > QCOW2_MAX_REFTABLE_BYTES) {
		rts_dev_err(q->dev,
			    "qcow: '%s': refcount table full (%" PRIu64 " blocks cover %" PRIu64
			    " bytes of file) and at its maximum size; cannot allocate",
			    img->path, q->reft_entries, q->reft_entries * epb * cs);
		return -ENOSPC;
	}
	meta = calloc(total, cs);
	nt = calloc(entries, 8);
	if (!meta || !nt) {
		free(meta);
		free(nt);
		return -ENOMEM;
	}
	for (uint64_t k = 0; k < total; k++) {
		uint64_t cl = c0 + k;

		qcow2_put_be16(meta + (cl / epb - b0) * cs + (cl % epb) * 2, 1);
	}
	memcpy(nt, q->reft, q->reft_entries * 8);
	for (uint64_t j = 0; j < nb; j++)
		nt[b0 + j] = (c0 + j) << img->cb;
	for (uint64_t i = 0; i < entries; i++)
		qcow2_put_be64(meta + nb * cs + i * 8, nt[i]);
	r = pwrite_full(img->fd, meta, total * cs, c0 << img->cb);
	free(meta);
	if (r == 0)
		r = q2_sync(q);
	if (r == 0) {
		uint32_t n32 = (uint32_t)nc;

		qcow2_put_be64(hdr, (c0 + nb) << img->cb);
		hdr[8] = (uint8_t)(n32 >> 24);
		hdr[9] = (uint8_t)(n32 >> 16);
		hdr[10] = (uint8_t)(n32 >> 8);
		hdr[11] = (uint8_t)n32;
		r = pwrite_full(img->fd, hdr, sizeof(hdr), 48);
	}
	if (r == 0)
		r = q2_sync(q);
	if (r < 0) {
		free(nt);
		rts_dev_err(q->dev, "qcow: '%s': cannot grow the refcount table: %s", img->path,
			    strerror(-r));
		return r;
	}
	free(q->reft);
	q->reft = nt;
	q->reft_entries = entries;
	img->h.refcount_table_offset = (c0 + nb) << img->cb;
	img->h.refcount_table_clusters = (uint32_t)nc;
	q->alloc_next = (c0 + total) << img->cb;
	for (uint64_t k = 0; k < old_nc && r == 0; k++)
		r = refcount_set(q, (old_off >> img->cb) + k, 0);
	if (r < 0)
		rts_dev_warn(q->dev,
			     "qcow: '%s': cannot release the old refcount table (%s): "
			     "its clusters leak",
			     img->path, strerror(-r));
	rts_dev_info(q->dev, "qcow: '%s': refcount table grown to %" PRIu64 " clusters", img->path,
		     nc);
	return 0;
}

/*
 * Allocate up to @want contiguous clusters at q->alloc_next with refcount 1, durable on
 * return. Returns the host offset of the first and their number in @ret_n (>= 1; fewer
 * than @want when the run reaches the end of a refcount block).
 */
static int64_t alloc_clusters(struct q2_dev *q, uint32_t want, uint32_t *ret_n)
{
	uint64_t epb = q->top->cs / 2; /* 16-bit refcounts per block */
	uint64_t c, b, first, pool = MAX((uint64_t)Q2_POOL_BYTES >> q->top->cb, (uint64_t)1);
	uint8_t *rc;
	uint32_t n, give;
	int r;

	if (q->pool_next < q->pool_end) {
		give = (uint32_t)MIN((uint64_t)want, (q->pool_end - q->pool_next) >> q->top->cb);
		first = q->pool_next;
		q->pool_next += (uint64_t)give << q->top->cb;
		*ret_n = give;
		return (int64_t)first;
	}
	for (;;) {
		c = q->alloc_next >> q->top->cb;
		b = c / epb;
		if (b >= q->reft_entries) {
			r = grow_reftable(q);
			if (r < 0)
				return r;
			continue;
		}
		if (q->reft[b])
			break;
		/* A new refcount block, at cluster c: it lies in the range it covers, so it
		 * counts itself. Durable before the refcount table points at it. */
		uint8_t *blk = calloc(1, q->top->cs);

		if (!blk)
			return -ENOMEM;
		qcow2_put_be16(blk + (c - b * epb) * 2, 1);
		r = pwrite_full(q->top->fd, blk, q->top->cs, c << q->top->cb);
		free(blk);
		if (r == 0)
			r = q2_sync(q);
		if (r == 0) {
			uint8_t e[8];

			qcow2_put_be64(e, c << q->top->cb);
			r = pwrite_full(q->top->fd, e, 8, q->top->h.refcount_table_offset + b * 8);
		}
		if (r < 0) {
			rts_dev_err(q->dev, "qcow: '%s': cannot add a refcount block: %s",
				    q->top->path, strerror(-r));
			return r;
		}
		q->reft[b] = c << q->top->cb;
		q->alloc_next += q->top->cs;
	}
	/* Reserve a pool's worth (within this refcount block), hand out what is wanted. */
	first = c;
	pool = MAX((uint64_t)want, pool);
	n = (uint32_t)MIN(pool, epb - (c - b * epb));
	rc = calloc(n, 2);
	if (!rc)
		return -ENOMEM;
	/* Must be free: everything past alloc_next is unused by construction. */
	r = pread_full(q->top->fd, rc, (size_t)n * 2, q->reft[b] + (c - b * epb) * 2);
	if (r == 0) {
		for (uint32_t i = 0; i < n; i++) {
			if (rc[2 * i] || rc[2 * i + 1]) {
				q2_corrupt(q->top,
					   "refcount of an unused cluster past the end is not 0");
				r = -EIO;
				break;
			}
			qcow2_put_be16(rc + 2 * i, 1);
		}
	}
	if (r == 0)
		r = pwrite_full(q->top->fd, rc, (size_t)n * 2, q->reft[b] + (c - b * epb) * 2);
	free(rc);
	if (r == 0)
		r = q2_sync(q); /* refcounts durable before anything points at the clusters */
	if (r < 0)
		return r;
	q->alloc_next += (uint64_t)n << q->top->cb;
	give = MIN(want, n);
	q->pool_next = (first + give) << q->top->cb;
	q->pool_end = (first + n) << q->top->cb;
	*ret_n = give;
	return (int64_t)(first << q->top->cb);
}

/*
 * Refcount 0 again for @n clusters from host offset @off that nothing points at (one run
 * from alloc_clusters(), so within one refcount block). No sync: if this is lost, they
 * merely leak.
 */
static void release_unused(struct q2_dev *q, uint64_t off, uint64_t n, const char *what)
{
	uint64_t epb = q->top->cs / 2, c = off >> q->top->cb;
	uint8_t *z;
	int r;

	if (!n)
		return;
	z = calloc(n, 2);
	r = z ? pwrite_full(q->top->fd, z, n * 2, q->reft[c / epb] + (c % epb) * 2) : -ENOMEM;
	free(z);
	if (r < 0)
		rts_dev_warn(q->dev,
			     "qcow: '%s': cannot release %" PRIu64 " %s clusters (%s): they "
			     "leak",
			     q->top->path, n, what, strerror(-r));
}

/* Give the reserved but unused clusters back (clean close). */
static void pool_release(struct q2_dev *q)
{
	release_unused(q, q->pool_next, (q->pool_end - q->pool_next) >> q->top->cb, "reserved");
	q->pool_next = q->pool_end;
}

/* Make sure guest cluster @gcl has an L2 table; returns its offset in @ret. */
static int ensure_l2(struct q2_dev *q, uint64_t gcl, uint64_t *ret)
{
	uint64_t l1i = gcl / q->top->l2_entries, l2;
	uint8_t e[8];
	uint32_t n;
	bool copied;
	int64_t off;
	int r;

	r = l1_lookup(q->top, gcl, &l2, &copied);
	if (r < 0)
		return r;
	if (l2) {
		*ret = l2;
		return 0;
	}
	off = alloc_clusters(q, 1, &n);
	if (off < 0)
		return (int)off;
	/* The table's content before the L1 entry that makes it reachable. */
	r = pwrite_full(q->top->fd, q->zero, q->top->cs, (uint64_t)off);
	if (r == 0) {
		qcow2_put_be64(e, (uint64_t)off | QCOW2_OFLAG_COPIED);
		r = pwrite_full(q->top->fd, e, 8, q->top->h.l1_table_offset + l1i * 8);
	}
	if (r < 0) {
		rts_dev_err(q->dev, "qcow: '%s': cannot add an L2 table: %s", q->top->path,
			    strerror(-r));
		return r;
	}
	q->top->l1[l1i] = (uint64_t)off | QCOW2_OFLAG_COPIED;
	*ret = (uint64_t)off;
	return 0;
}

/* Inflate the compressed cluster @l2 into q->top->dbuf. */
static int decompress(struct q2_img *img, const struct qcow2_l2 *l2)
{
	uint64_t csize = MIN(l2->csize, 2 * img->cs);
	z_stream z = { 0 };
	int r, zr;

	if (img->dbuf_off == l2->host_off)
		return 0;
	img->dbuf_off = UINT64_MAX;
	r = pread_full(img->fd, img->cbuf, (size_t)csize, l2->host_off);
	if (r < 0) {
		rts_dev_err(img->dev,
			    "qcow: '%s': cannot read compressed cluster at 0x%" PRIx64 ": %s",
			    img->path, l2->host_off, strerror(-r));
		return r;
	}
	if (inflateInit2(&z, -12) != Z_OK)
		return -ENOMEM;
	z.next_in = img->cbuf;
	z.avail_in = (uInt)csize;
	z.next_out = img->dbuf;
	z.avail_out = (uInt)img->cs;
	zr = inflate(&z, Z_FINISH);
	if ((zr != Z_STREAM_END && zr != Z_BUF_ERROR) || z.avail_out != 0) {
		rts_dev_err(img->dev,
			    "qcow: '%s': compressed cluster at 0x%" PRIx64
			    " does not inflate to one "
			    "cluster (zlib %d, %u bytes short)",
			    img->path, l2->host_off, zr, z.avail_out);
		inflateEnd(&z);
		return -EIO;
	}
	inflateEnd(&z);
	img->dbuf_off = l2->host_off;
	return 0;
}

/* Where a range of guest bytes of an image comes from. */
enum q2_ext_kind {
	Q2_EXT_ZERO, /* zeros */
	Q2_EXT_DATA, /* file @fd at @off */
	Q2_EXT_BUF, /* @buf (an inflated cluster; valid until the image inflates another) */
};

struct q2_ext {
	enum q2_ext_kind kind;
	int fd;
	uint64_t off;
	const uint8_t *buf;
	uint64_t len;
};

/* Clusters that read as zeros in @img (unallocated ones only without a backing file). */
static bool reads_zero(const struct q2_img *img, enum qcow2_cluster_type t)
{
	return t == QCOW2_CL_ZERO_PLAIN || t == QCOW2_CL_ZERO_ALLOC ||
	       (t == QCOW2_CL_UNALLOCATED && !img->backing);
}

/*
 * Map guest bytes [g, g + len) of @img, following the backing chain: @e gets the longest
 * run from @g of one kind (e->len in 1..len). Runs stop at L2 table boundaries.
 */
static int img_map(struct q2_img *img, uint64_t g, uint64_t len, struct q2_ext *e)
{
	uint64_t size = img->raw ? img->raw_size : img->h.size;
	uint64_t gcl, inoff, n, l2_off, *tbl = NULL;
	struct qcow2_l2 l = { 0 }, nl;
	int r;

	*e = (struct q2_ext){ .kind = Q2_EXT_ZERO, .fd = img->fd, .len = len };
	if (g >= size)
		return 0; /* past the end of a (shorter) backing file */
	len = MIN(len, size - g);
	e->len = len;
	if (img->raw) {
		e->kind = Q2_EXT_DATA;
		e->off = g;
		return 0;
	}
	gcl = g >> img->cb;
	inoff = g & (img->cs - 1);
	r = l1_lookup(img, gcl, &l2_off, NULL);
	if (r == 0 && l2_off)
		r = l2_get(img, l2_off, &tbl);
	if (r == 0)
		r = l2_decode(img, tbl, gcl, &l);
	if (r < 0)
		return r;
	n = MIN(len, img->cs - inoff);
	if (l.type == QCOW2_CL_COMPRESSED) {
		r = decompress(img, &l);
		if (r < 0)
			return r;
		*e = (struct q2_ext){ .kind = Q2_EXT_BUF, .buf = img->dbuf + inoff, .len = n };
		return 0;
	}
	if (l.type == QCOW2_CL_NORMAL) {
		/* Merge the physically contiguous run within this L2 table. */
		for (uint64_t c = gcl + 1, next = l.host_off + img->cs;
		     n < len && c % img->l2_entries; c++, next += img->cs) {
			r = l2_decode(img, tbl, c, &nl);
			if (r < 0)
				return r;
			if (nl.type != QCOW2_CL_NORMAL || nl.host_off != next)
				break;
			n = MIN(len, n + img->cs);
		}
		*e = (struct q2_ext){
			.kind = Q2_EXT_DATA, .fd = img->fd, .off = l.host_off + inoff, .len = n
		};
		return 0;
	}
	/* Zeros, or unallocated clusters the backing file provides: merge the run. */
	for (uint64_t c = gcl + 1; n < len && c % img->l2_entries; c++) {
		r = l2_decode(img, tbl, c, &nl);
		if (r < 0)
			return r;
		if (reads_zero(img, l.type) ? !reads_zero(img, nl.type) : nl.type != l.type)
			break;
		n = MIN(len, n + img->cs);
	}
	if (reads_zero(img, l.type)) {
		e->len = n;
		return 0;
	}
	return img_map(img->backing, g, n, e);
}

/* Read guest bytes of @img (through its chain) synchronously: copy-on-write sources. */
static int img_read_sync(struct q2_img *img, uint64_t g, uint8_t *buf, uint64_t len)
{
	while (len) {
		struct q2_ext e;
		int r = img_map(img, g, len, &e);

		if (r < 0)
			return r;
		if (e.kind == Q2_EXT_ZERO)
			memset(buf, 0, e.len);
		else if (e.kind == Q2_EXT_BUF)
			memcpy(buf, e.buf, e.len);
		else if ((r = pread_full(e.fd, buf, e.len, e.off)) < 0) {
			rts_dev_err(img->dev, "qcow: '%s': cannot read for copy-on-write: %s",
				    img->path, strerror(-r));
			return r;
		}
		g += e.len;
		buf += e.len;
		len -= e.len;
	}
	return 0;
}

/* -------------------------------------------------------------- iovecs */

/* Copy @len bytes at command offset @off from @src (NULL: zeros) into the command's data. */
static void iov_put(const struct q2_cmd *qc, uint64_t off, const uint8_t *src, uint64_t len)
{
	for (unsigned int i = 0; i < qc->iovcnt && len; i++) {
		size_t l = qc->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l = (size_t)MIN((uint64_t)(l - off), len);
		if (src) {
			memcpy((uint8_t *)qc->iov[i].iov_base + off, src, l);
			src += l;
		} else {
			memset((uint8_t *)qc->iov[i].iov_base + off, 0, l);
		}
		len -= l;
		off = 0;
	}
}

/* Copy @len bytes at command offset @off out of the command's data into @dst. */
static void iov_get(const struct q2_cmd *qc, uint64_t off, uint8_t *dst, uint64_t len)
{
	for (unsigned int i = 0; i < qc->iovcnt && len; i++) {
		size_t l = qc->iov[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l = (size_t)MIN((uint64_t)(l - off), len);
		memcpy(dst, (const uint8_t *)qc->iov[i].iov_base + off, l);
		dst += l;
		len -= l;
		off = 0;
	}
}

/* Point p->sub at the part of the command's data the extent has left; returns the count. */
static unsigned int iov_sub(const struct q2_cmd *qc, struct q2_part *p)
{
	uint64_t skip = p->cmd_off + p->done, left = p->len - p->done;
	unsigned int i = 0, n = 0;

	while (i < qc->iovcnt && skip >= qc->iov[i].iov_len) {
		skip -= qc->iov[i].iov_len;
		i++;
	}
	for (; i < qc->iovcnt && n < Q2_SUB_IOV && left; i++) {
		size_t l = qc->iov[i].iov_len - (size_t)skip;

		if (l > left)
			l = (size_t)left;
		p->sub[n++] = (struct iovec){
			.iov_base = (uint8_t *)qc->iov[i].iov_base + skip,
			.iov_len = l,
		};
		left -= l;
		skip = 0;
	}
	return n;
}

/* ------------------------------------------------------------------- I/O */

static int part_submit(struct q2_dev *q, struct rts_cmd *cmd, unsigned int idx)
{
	struct q2_cmd *qc = rts_cmd_get_private(cmd);
	struct q2_part *p = &qc->parts[idx];
	struct io_uring_sqe *sqe = rts_dev_get_sqe(q->dev, cmd, (uint16_t)idx);
	uint64_t ud, at = p->host_off + p->done;
	unsigned int n;

	if (!sqe)
		return -EBUSY;
	ud = sqe->user_data; /* stamped by rts_dev_get_sqe(); keep it whatever prep does */
	if (qc->op == Q2_FLUSH) {
		io_uring_prep_fsync(sqe, q->top->fd, 0);
	} else if (p->bounce) {
		io_uring_prep_write(sqe, p->fd, p->bounce + p->done,
				    (unsigned int)(p->len - p->done), at);
	} else {
		n = iov_sub(qc, p);
		if (n == 1 && qc->op == Q2_READ)
			io_uring_prep_read(sqe, p->fd, p->sub[0].iov_base,
					   (unsigned int)p->sub[0].iov_len, at);
		else if (n == 1)
			io_uring_prep_write(sqe, p->fd, p->sub[0].iov_base,
					    (unsigned int)p->sub[0].iov_len, at);
		else if (qc->op == Q2_READ)
			io_uring_prep_readv(sqe, p->fd, p->sub, n, at);
		else
			io_uring_prep_writev(sqe, p->fd, p->sub, n, at);
	}
	io_uring_sqe_set_data64(sqe, ud);
	return 0;
}

static bool pending_overlaps(const struct q2_dev *q, uint64_t gcl)
{
	for (const struct q2_part *p = q->pending; p; p = p->pnext)
		if (gcl >= p->gcl && gcl < p->gcl + p->ncl)
			return true;
	return false;
}

static void pending_add(struct q2_dev *q, struct q2_part *p)
{
	p->pprev = NULL;
	p->pnext = q->pending;
	if (q->pending)
		q->pending->pprev = p;
	q->pending = p;
}

static void pending_del(struct q2_dev *q, struct q2_part *p)
{
	if (p->pprev)
		p->pprev->pnext = p->pnext;
	else
		q->pending = p->pnext;
	if (p->pnext)
		p->pnext->pprev = p->pprev;
	p->pnext = p->pprev = NULL;
}

/* The allocating extent @p was written: point the L2 entries at its clusters. */
static int commit_l2(struct q2_dev *q, const struct q2_part *p)
{
	uint32_t idx = (uint32_t)(p->gcl % q->top->l2_entries);
	uint8_t *e = malloc((size_t)p->ncl * 8);
	uint64_t *tbl;
	int r;

	if (!e)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->ncl; i++)
		qcow2_put_be64(e + 8 * i,
			       (p->host_off + ((uint64_t)i << q->top->cb)) | QCOW2_OFLAG_COPIED);
	r = pwrite_full(q->top->fd, e, (size_t)p->ncl * 8, p->l2_off + (uint64_t)idx * 8);
	free(e);
	if (r < 0) {
		rts_dev_err(q->dev, "qcow: '%s': cannot update the L2 table at 0x%" PRIx64 ": %s",
			    q->top->path, p->l2_off, strerror(-r));
		return r;
	}
	tbl = l2_peek(q->top, p->l2_off);
	if (tbl)
		for (uint32_t i = 0; i < p->ncl; i++)
			tbl[idx + i] = (p->host_off + ((uint64_t)i << q->top->cb)) |
				       QCOW2_OFLAG_COPIED;
	return 0;
}

static bool needs_alloc(const struct qcow2_l2 *l)
{
	return l->type == QCOW2_CL_UNALLOCATED || l->type == QCOW2_CL_ZERO_PLAIN;
}

/*
 * An allocating write at command position qc->pos (guest cluster @gcl, whose entry is @l)
 * into free part @idx. Returns 0 (started) or -errno.
 */
static int start_alloc(struct q2_dev *q, struct rts_cmd *cmd, unsigned int idx, uint64_t gcl,
		       const struct qcow2_l2 *l, const uint64_t *tbl)
{
	struct q2_cmd *qc = rts_cmd_get_private(cmd);
	struct q2_part *p = &qc->parts[idx];
	uint64_t g = qc->off + qc->pos, inoff = g & (q->top->cs - 1), rem = qc->len - qc->pos;
	uint64_t l2_off, n, tail;
	uint32_t ncl = 1, max;
	int64_t host;
	int r;

	if (l->type == QCOW2_CL_ZERO_ALLOC) {
		if (!l->copied) {
			rts_dev_err(q->dev,
				    "qcow: '%s': zero cluster is shared (refcount > 1): "
				    "copy-on-write is not supported",
				    q->top->path);
			return -EIO;
		}
		r = l1_lookup(q->top, gcl, &l2_off, NULL);
		if (r < 0)
			return r;
		host = (int64_t)l->host_off;
	} else {
		/* A run of clusters needing allocation, within this L2 table (with a backing
		 * file: of one kind, as unallocated ones copy from it and zero ones do not).
		 * A compressed cluster is replaced alone. */
		max = (uint32_t)MAX((uint64_t)1, Q2_ALLOC_MAX >> q->top->cb);
		if (l->type == QCOW2_CL_COMPRESSED || qc->op == Q2_UNMAP)
			max = 1;
		while (ncl < max && ((uint64_t)ncl << q->top->cb) < inoff + rem &&
		       (gcl + ncl) % q->top->l2_entries != 0 && !pending_overlaps(q, gcl + ncl)) {
			struct qcow2_l2 nl;

			r = l2_decode(q->top, tbl, gcl + ncl, &nl);
			if (r < 0)
				return r;
			if (!needs_alloc(&nl) || (q->top->backing && nl.type != l->type))
				break;
			ncl++;
		}
		/* A partly written first or last cluster goes alone (through a bounce buffer),
		 * so that the whole clusters between need none. */
		if (ncl > 1 && (inoff || ((uint64_t)ncl << q->top->cb) > rem))
			ncl = inoff ? 1 : ncl - 1;
		r = ensure_l2(q, gcl, &l2_off);
		if (r < 0)
			return r;
		host = alloc_clusters(q, ncl, &ncl);
		if (host < 0)
			return (int)host;
	}
	n = MIN(rem, ((uint64_t)ncl << q->top->cb) - inoff);
	tail = ((uint64_t)ncl << q->top->cb) - inoff - n;
	p->free_off = p->free_len = 0;
	if (l->type == QCOW2_CL_COMPRESSED) {
		p->free_off = l->host_off;
		p->free_len = l->csize;
	}
	p->bounce = NULL;
	if (qc->op == Q2_WRITE && !inoff && !tail)
		goto start; /* whole clusters: written straight from the command's iovecs */
	p->bounce = malloc((size_t)ncl << q->top->cb);
	if (!p->bounce) {
		r = -ENOMEM;
		goto err_release;
	}
	if (l->type == QCOW2_CL_COMPRESSED) {
		/* Copy-on-write from the inflated cluster; its data is released after. */
		r = decompress(q->top, l);
		if (r < 0)
			goto err_release;
		memcpy(p->bounce, q->top->dbuf, q->top->cs);
	} else if (l->type == QCOW2_CL_UNALLOCATED && q->top->backing) {
		/* Copy-on-write: what the write does not cover comes from the backing file. */
		r = img_read_sync(q->top->backing, gcl << q->top->cb, p->bounce, inoff);
		if (r == 0)
			r = img_read_sync(q->top->backing, (gcl << q->top->cb) + inoff + n,
					  p->bounce + inoff + n, tail);
		if (r < 0)
			goto err_release;
	} else {
		memset(p->bounce, 0, inoff);
		memset(p->bounce + inoff + n, 0, tail);
	}
	if (qc->op == Q2_UNMAP)
		memset(p->bounce + inoff, 0, n);
	else
		iov_get(qc, qc->pos, p->bounce + inoff, n);
start:
	p->busy = true;
	p->fd = q->top->fd;
	p->alloc = true;
	p->fresh = l->type != QCOW2_CL_ZERO_ALLOC;
	p->retries = 0;
	p->cmd_off = qc->pos;
	p->host_off = (uint64_t)host;
	p->len = (uint64_t)ncl << q->top->cb;
	p->done = 0;
	p->gcl = gcl;
	p->ncl = ncl;
	p->l2_off = l2_off;
	r = part_submit(q, cmd, idx);
	if (r < 0) {
		p->busy = p->alloc = false;
		goto err_release;
	}
	pending_add(q, p);
	qc->inflight++;
	qc->pos += n;
	return 0;
err_release:
	free(p->bounce);
	p->bounce = NULL;
	if (l->type != QCOW2_CL_ZERO_ALLOC)
		release_unused(q, (uint64_t)host, ncl, "new");
	return r;
}

/*
 * Map the next extent of @cmd at qc->pos and start it in free part @idx (or finish it at
 * once: zeros, compressed). Returns 0 on progress, 1 when blocked behind an allocation,
 * -errno on failure.
 */
static int map_next(struct q2_dev *q, struct rts_cmd *cmd, unsigned int idx)
{
	struct q2_cmd *qc = rts_cmd_get_private(cmd);
	struct q2_part *p = &qc->parts[idx];
	uint64_t g = qc->off + qc->pos, gcl = g >> q->top->cb, inoff = g & (q->top->cs - 1);
	uint64_t rem = qc->len - qc->pos, n, l2_off, *tbl = NULL;
	struct qcow2_l2 l = { 0 }, nl;
	bool l1_copied;
	int r;

	if (qc->op == Q2_READ) { /* through the backing chain */
		struct q2_ext e;

		r = img_map(q->top, g, rem, &e);
		if (r < 0)
			return r;
		if (e.kind != Q2_EXT_DATA) {
			iov_put(qc, qc->pos, e.kind == Q2_EXT_BUF ? e.buf : NULL, e.len);
			qc->pos += e.len;
			return 0;
		}
		p->fd = e.fd;
		p->host_off = e.off;
		n = e.len;
		goto submit;
	}
	r = l1_lookup(q->top, gcl, &l2_off, &l1_copied);
	if (r < 0)
		return r;
	if (l2_off) {
		r = l2_get(q->top, l2_off, &tbl);
		if (r < 0)
			return r;
	}
	r = l2_decode(q->top, tbl, gcl, &l);
	if (r < 0)
		return r;
	if (l2_off && !l1_copied) {
		rts_dev_err(q->dev,
			    "qcow: '%s': L2 table at 0x%" PRIx64 " is shared (refcount > 1):"
			    " copy-on-write is not supported",
			    q->top->path, l2_off);
		return -EIO;
	}
	n = MIN(rem, q->top->cs - inoff);

	if (l.type != QCOW2_CL_NORMAL) { /* allocate (zero, unallocated, compressed) */
		if (pending_overlaps(q, gcl))
			return 1;
		return start_alloc(q, cmd, idx, gcl, &l, tbl);
	}
	if (!l.copied) {
		rts_dev_err(q->dev,
			    "qcow: '%s': data cluster at 0x%" PRIx64 " is shared (refcount"
			    " > 1): copy-on-write is not supported",
			    q->top->path, l.host_off);
		return -EIO;
	}
	/* Normal clusters: merge the physically contiguous run within this L2 table. */
	for (uint64_t c = gcl + 1, next = l.host_off + q->top->cs;
	     n < rem && c % q->top->l2_entries; c++, next += q->top->cs) {
		r = l2_decode(q->top, tbl, c, &nl);
		if (r < 0)
			return r;
		if (nl.type != QCOW2_CL_NORMAL || nl.host_off != next || !nl.copied)
			break;
		n = MIN(rem, n + q->top->cs);
	}
	p->fd = q->top->fd;
	p->host_off = l.host_off + inoff;
submit:
	p->busy = true;
	p->alloc = false;
	p->bounce = NULL;
	p->retries = 0;
	p->cmd_off = qc->pos;
	p->len = n;
	p->done = 0;
	r = part_submit(q, cmd, idx);
	if (r < 0) {
		p->busy = false;
		return r;
	}
	qc->inflight++;
	qc->pos += n;
	return 0;
}

/*
 * Deallocate the whole clusters from qc->pos (at most Q2_UNMAP_RUN, within one L2 table):
 * their L2 entries become "zero" (v3) or unallocated (v2 without a backing file), made
 * durable, and only then their host clusters are released (refcount 0, hole punched) or,
 * for compressed ones, the references their data held dropped. A crash in between leaks.
 */
static int dealloc_run(struct q2_dev *q, struct q2_cmd *qc, uint64_t gcl, uint64_t l2_off,
		       const uint64_t *tbl)
{
	struct q2_img *img = q->top;
	uint64_t old[Q2_UNMAP_RUN], newe = img->h.version >= 3 ? QCOW2_OFLAG_ZERO : 0, *cache;
	uint8_t be[Q2_UNMAP_RUN * 8];
	unsigned int k = 0;
	int r;

	if (!l2_off) { /* unallocated over a backing file: it needs an entry saying zero */
		r = ensure_l2(q, gcl, &l2_off);
		if (r < 0)
			return r;
		tbl = NULL;
	}
	while (k < Q2_UNMAP_RUN && qc->len - qc->pos - (uint64_t)k * img->cs >= img->cs &&
	       (k == 0 || (gcl + k) % img->l2_entries != 0) && !pending_overlaps(q, gcl + k)) {
		struct qcow2_l2 l;

		r = l2_decode(img, tbl, gcl + k, &l);
		if (r < 0)
			return r;
		if ((l.type == QCOW2_CL_NORMAL || l.type == QCOW2_CL_ZERO_ALLOC) && !l.copied) {
			rts_dev_err(q->dev,
				    "qcow: '%s': cluster at 0x%" PRIx64
				    " is shared (refcount > 1): "
				    "cannot deallocate it",
				    img->path, l.host_off);
			return -EIO;
		}
		old[k] = tbl ? tbl[(gcl + k) % img->l2_entries] : 0;
		qcow2_put_be64(be + 8 * k, newe);
		k++;
	}
	r = pwrite_full(img->fd, be, (size_t)k * 8, l2_off + (gcl % img->l2_entries) * 8);
	if (r == 0)
		r = q2_sync(q);
	if (r < 0) {
		rts_dev_err(q->dev, "qcow: '%s': cannot update the L2 table at 0x%" PRIx64 ": %s",
			    img->path, l2_off, strerror(-r));
		return r;
	}
	cache = l2_peek(img, l2_off);
	for (unsigned int i = 0; i < k; i++) {
		struct qcow2_l2 l;

		if (cache)
			cache[(gcl + i) % img->l2_entries] = newe;
		if (qcow2_l2_entry(&img->h, old[i], &l, NULL, 0) < 0)
			continue; /* cannot happen: decoded above */
		if (l.type == QCOW2_CL_COMPRESSED) {
			release_compressed(q, l.host_off, l.csize, false);
		} else if (l.host_off) {
			r = refcount_set(q, l.host_off >> img->cb, 0);
			if (r < 0)
				rts_dev_warn(q->dev,
					     "qcow: '%s': cannot release the cluster at 0x%" PRIx64
					     " (%s): it leaks",
					     img->path, l.host_off, strerror(-r));
			else /* give the space back: nothing refers to it any more */
				(void)fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
						(off_t)l.host_off, (off_t)img->cs);
		}
	}
	qc->pos += (uint64_t)k * img->cs;
	return 0;
}

/*
 * UNMAP at qc->pos. The device reports LBPRZ (unmapped blocks read zeros): whole clusters
 * are deallocated; parts of clusters, and clusters of a v2 image over a backing file
 * (which has no way to say "zero"), get zeros written (in place, or by copy-on-write).
 * Returns 0 on progress, 1 when blocked behind an allocation, -errno on failure.
 */
static int map_unmap(struct q2_dev *q, struct rts_cmd *cmd, unsigned int idx)
{
	struct q2_cmd *qc = rts_cmd_get_private(cmd);
	struct q2_part *p = &qc->parts[idx];
	struct q2_img *img = q->top;
	uint64_t g = qc->off + qc->pos, gcl = g >> img->cb, inoff = g & (img->cs - 1);
	uint64_t n = MIN(qc->len - qc->pos, img->cs - inoff), l2_off, *tbl = NULL;
	struct qcow2_l2 l = { 0 };
	bool l1_copied;
	int r;

	r = l1_lookup(img, gcl, &l2_off, &l1_copied);
	if (r == 0 && l2_off && !l1_copied) {
		rts_dev_err(q->dev,
			    "qcow: '%s': L2 table at 0x%" PRIx64 " is shared (refcount > 1)",
			    img->path, l2_off);
		r = -EIO;
	}
	if (r == 0 && l2_off)
		r = l2_get(img, l2_off, &tbl);
	if (r == 0)
		r = l2_decode(img, tbl, gcl, &l);
	if (r < 0)
		return r;
	if (pending_overlaps(q, gcl))
		return 1;
	if (reads_zero(img, l.type)) {
		qc->pos += n;
		return 0;
	}
	if (n == img->cs && (img->h.version >= 3 || !img->backing))
		return dealloc_run(q, qc, gcl, l2_off, tbl);
	if (l.type != QCOW2_CL_NORMAL)
		return start_alloc(q, cmd, idx, gcl, &l, tbl); /* unallocated or compressed */
	if (!l.copied) {
		rts_dev_err(q->dev,
			    "qcow: '%s': data cluster at 0x%" PRIx64 " is shared (refcount > 1)",
			    img->path, l.host_off);
		return -EIO;
	}
	p->bounce = calloc(1, n);
	if (!p->bounce)
		return -ENOMEM;
	p->busy = true;
	p->alloc = false;
	p->retries = 0;
	p->fd = img->fd;
	p->cmd_off = qc->pos;
	p->host_off = l.host_off + inoff;
	p->len = n;
	p->done = 0;
	r = part_submit(q, cmd, idx);
	if (r < 0) {
		free(p->bounce);
		p->bounce = NULL;
		p->busy = false;
		return r;
	}
	qc->inflight++;
	qc->pos += n;
	return 0;
}

static void wait_add(struct q2_dev *q, struct rts_cmd *cmd)
{
	struct q2_cmd *qc = rts_cmd_get_private(cmd);

	rts_dev_dbg(q->dev, "qcow: command %u waits for the allocation of guest cluster %" PRIu64,
		    rts_cmd_get_id(cmd), (qc->off + qc->pos) >> q->top->cb);
	qc->waiting = true;
	qc->next = NULL;
	if (q->wait_tail)
		((struct q2_cmd *)rts_cmd_get_private(q->wait_tail))->next = cmd;
	else
		q->wait_head = cmd;
	q->wait_tail = cmd;
}

/* Start what can be started of @cmd; complete it when everything finished. */
static void pump(struct q2_dev *q, struct rts_cmd *cmd)
{
	struct q2_cmd *qc = rts_cmd_get_private(cmd);

	if (qc->waiting)
		return; /* wake() pumps it */
	/* Aborted (TMR): the core cancelled our SQEs; start nothing more, end when they did. */
	if (!qc->err && rts_cmd_is_aborted(cmd))
		qc->err = -ECANCELED;
	while (!qc->err && qc->pos < qc->len) {
		unsigned int idx;
		int r;

		for (idx = 0; idx < Q2_PARTS && qc->parts[idx].busy; idx++)
			;
		if (idx == Q2_PARTS)
			break;
		r = qc->op == Q2_UNMAP ? map_unmap(q, cmd, idx) : map_next(q, cmd, idx);
		if (r == 1) {
			wait_add(q, cmd);
			return;
		}
		if (r < 0)
			qc->err = r;
	}
	if (!qc->inflight && (qc->err || qc->pos >= qc->len))
		rts_cmd_complete(cmd, qc->err);
}

/* An allocation finished: retry every command that waited (each may wait again). */
static void wake(struct q2_dev *q)
{
	struct rts_cmd *cmd = q->wait_head;

	q->wait_head = q->wait_tail = NULL;
	while (cmd) {
		struct q2_cmd *qc = rts_cmd_get_private(cmd);
		struct rts_cmd *next = qc->next;

		qc->waiting = false;
		pump(q, cmd);
		cmd = next;
	}
}

static void part_end(struct q2_dev *q, struct rts_cmd *cmd, struct q2_part *p, int err)
{
	struct q2_cmd *qc = rts_cmd_get_private(cmd);
	bool was_alloc = p->alloc;

	if (p->alloc) {
		int data_err = err;

		if (!err)
			err = commit_l2(q, p);
		if (!err && p->free_len)
			release_compressed(q, p->free_off, p->free_len, true);
		else if (data_err && p->fresh) /* no L2 entry was written: give them back */
			release_unused(q, p->host_off, p->ncl, "new");
		else if (err) /* the L2 update failed part-way, perhaps: keep them (a leak) */
			rts_dev_warn(q->dev,
				     "qcow: '%s': clusters at 0x%" PRIx64 " stay allocated after "
				     "the failed L2 update (qemu-img check -r leaks reclaims them)",
				     q->top->path, p->host_off);
		pending_del(q, p);
		p->alloc = false;
	}
	free(p->bounce); /* allocating writes, zeros written by UNMAP */
	p->bounce = NULL;
	p->busy = false;
	qc->inflight--;
	if (err && !qc->err)
		qc->err = err;
	pump(q, cmd); /* may complete cmd: do not touch it after this */
	if (was_alloc)
		wake(q);
}

static void q2_io_done(struct rts_dev *dev, struct rts_cmd *cmd, uint16_t tag, int res)
{
	struct q2_dev *q = rts_dev_get_private(dev);
	struct q2_cmd *qc = rts_cmd_get_private(cmd);
	struct q2_part *p = &qc->parts[tag < Q2_PARTS ? tag : 0];

	if (qc->op == Q2_FLUSH) {
		rts_cmd_complete(cmd, res < 0 ? res : 0);
		return;
	}
	if ((res == -EAGAIN || res == -EINTR) && p->retries < Q2_RETRIES) {
		p->retries++;
		if (part_submit(q, cmd, tag) < 0)
			part_end(q, cmd, p, -EBUSY);
		return;
	}
	if (res < 0) {
		part_end(q, cmd, p, res == -EOPNOTSUPP ? -ENOTSUP : res);
		return;
	}
	if (res == 0) {
		if (qc->op != Q2_READ || p->bounce) {
			part_end(q, cmd, p, -EIO);
			return;
		}
		/* A data cluster partly past the end of the file reads as zeros. */
		iov_put(qc, p->cmd_off + p->done, NULL, p->len - p->done);
		p->done = p->len;
	} else {
		p->done += (uint64_t)res;
	}
	if (p->done < p->len) {
		p->retries = 0;
		if (part_submit(q, cmd, tag) < 0)
			part_end(q, cmd, p, -EBUSY);
		return;
	}
	part_end(q, cmd, p, 0);
}

static int start_cmd(struct rts_dev *dev, struct rts_cmd *cmd, enum q2_op op,
		     const struct iovec *iov, unsigned int iovcnt, uint64_t off, uint64_t len)
{
	struct q2_dev *q = rts_dev_get_private(dev);
	struct q2_cmd *qc = rts_cmd_get_private(cmd);

	qc->next = NULL;
	qc->iov = iov;
	qc->iovcnt = iovcnt;
	qc->op = (uint8_t)op;
	qc->waiting = false;
	qc->inflight = 0;
	qc->err = 0;
	qc->off = off;
	qc->len = len;
	qc->pos = 0;
	for (unsigned int i = 0; i < Q2_PARTS; i++) {
		qc->parts[i].busy = false;
		qc->parts[i].alloc = false;
		qc->parts[i].bounce = NULL;
	}
	if (off + len < off || off + len > q->top->h.size)
		return -ERANGE;
	pump(q, cmd);
	return 0;
}

static int q2_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		   unsigned int iovcnt, uint64_t off, uint64_t len)
{
	return start_cmd(dev, cmd, Q2_READ, iov, iovcnt, off, len);
}

static int q2_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		    unsigned int iovcnt, uint64_t off, uint64_t len, unsigned int flags)
{
	struct q2_dev *q = rts_dev_get_private(dev);

	(void)flags; /* no RTS_HANDLER_F_FUA: the core follows a FUA write with flush() */
	if (q->ro)
		return -EROFS;
	return start_cmd(dev, cmd, Q2_WRITE, iov, iovcnt, off, len);
}

static int q2_flush(struct rts_dev *dev, struct rts_cmd *cmd)
{
	struct q2_dev *q = rts_dev_get_private(dev);
	struct q2_cmd *qc = rts_cmd_get_private(cmd);
	int r;

	/* Metadata is written through with pwrite: one fsync covers data and metadata. */
	qc->op = Q2_FLUSH;
	qc->inflight = 1;
	r = part_submit(q, cmd, 0);
	return r;
}

static int q2_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len)
{
	struct q2_dev *q = rts_dev_get_private(dev);

	if (q->ro)
		return -EROFS;
	return start_cmd(dev, cmd, Q2_UNMAP, NULL, 0, off, len);
}

/* ------------------------------------------------------------- open/close */

static void q2_free(struct q2_dev *q)
{
	if (!q)
		return;
	img_free(q->top);
	free(q->reft);
	free(q->zero);
	free(q);
}

/* First free host offset: past the file and past the last cluster with a refcount. */
static int find_alloc_next(struct q2_dev *q, uint64_t file_size)
{
	uint64_t epb = q->top->cs / 2, next = ALIGN_UP(file_size, q->top->cs);
	uint8_t *blk;
	int r;

	for (uint64_t b = q->reft_entries; b-- > 0;) {
		if (q->reft[b] & QCOW2_REFT_RESERVED || q->reft[b] % q->top->cs) {
			q2_corrupt(q->top, "refcount table entry not cluster aligned");
			return -EINVAL;
		}
	}
	blk = malloc(q->top->cs);
	if (!blk)
		return -ENOMEM;
	/* The last block with a non-zero refcount holds the last used cluster. */
	for (uint64_t b = q->reft_entries; b-- > 0;) {
		bool found = false;

		if (!q->reft[b])
			continue;
		r = pread_full(q->top->fd, blk, q->top->cs, q->reft[b]);
		if (r < 0) {
			free(blk);
			rts_dev_err(q->dev, "qcow: '%s': cannot read a refcount block: %s",
				    q->top->path, strerror(-r));
			return r;
		}
		for (uint64_t i = epb; i-- > 0;) {
			if (blk[2 * i] || blk[2 * i + 1]) {
				next = MAX(next, (b * epb + i + 1) << q->top->cb);
				found = true;
				break;
			}
		}
		if (found)
			break;
	}
	free(blk);
	q->alloc_next = next;
	return 0;
}

/* Where the chain below @img ends: for the log line. */
static unsigned int chain_len(const struct q2_img *img)
{
	unsigned int n = 0;

	for (; img; img = img->backing)
		n++;
	return n;
}

static int q2_open(struct rts_dev *dev, bool reopen)
{
	uint32_t bs = rts_dev_get_block_size(dev);
	/* The kernel's dev_size (see handlers/file: the preset block count carries it). */
	uint64_t ksize = rts_dev_get_size(dev) ? rts_dev_get_size(dev) :
						 rts_dev_get_num_lbas(dev) * bs;
	uint64_t fsize = 0, size;
	struct q2_dev *q = NULL;
	struct q2_cfg c;
	char *why = NULL;
	int r;

	(void)reopen;
	r = cfg_parse(rts_dev_get_cfgstring(dev), &c, &why);
	if (r < 0)
		goto err_why;
	q = calloc(1, sizeof(*q));
	if (!q) {
		r = -ENOMEM;
		goto err;
	}
	q->dev = dev;
	q->ro = c.ro;
	r = img_open(dev, c.path, "qcow2", !c.ro, 0, NULL, &q->top, &fsize, &why);
	if (r < 0)
		goto err_why;

	if (ksize > q->top->h.size) {
		rts_dev_err(dev,
			    "qcow: '%s': the device size %" PRIu64 " exceeds the image's "
			    "virtual size %" PRIu64 " (grow it: qemu-img resize)",
			    q->top->path, ksize, q->top->h.size);
		r = -EINVAL;
		goto err;
	}
	size = ksize ? ksize : q->top->h.size;
	size -= size % bs;
	if (!size) {
		rts_dev_err(dev, "qcow: '%s': virtual size %" PRIu64 " is smaller than a block",
			    q->top->path, q->top->h.size);
		r = -EINVAL;
		goto err;
	}

	if (!q->ro) {
		q->reft_entries = (uint64_t)q->top->h.refcount_table_clusters * q->top->cs / 8;
		r = read_table(q->top, q->top->h.refcount_table_offset, q->reft_entries, fsize,
			       "refcount table", &q->reft, &why);
		if (r < 0)
			goto err_why;
		r = find_alloc_next(q, fsize);
		if (r < 0)
			goto err;
		q->zero = calloc(1, q->top->cs);
		if (!q->zero) {
			r = -ENOMEM;
			goto err;
		}
	}

	/* Autoclear features (e.g. persistent bitmaps) become stale once someone who does
	 * not maintain them writes: the spec says such a writer clears the bits. */
	if (!q->ro && q->top->h.autoclear_features) {
		uint8_t z[8] = { 0 };

		r = pwrite_full(q->top->fd, z, 8, QCOW2_OFF_AUTOCLEAR);
		if (r == 0)
			r = q2_sync(q);
		if (r < 0) {
			rts_dev_err(dev, "qcow: '%s': cannot clear autoclear features: %s",
				    q->top->path, strerror(-r));
			goto err;
		}
		rts_dev_info(dev,
			     "qcow: '%s': cleared autoclear features 0x%" PRIx64
			     " (e.g. bitmaps, which this handler does not maintain)",
			     q->top->path, q->top->h.autoclear_features);
	}

	rts_dev_set_private(dev, q);
	rts_dev_set_num_lbas(dev, size / bs);
	rts_dev_set_read_only(dev, q->ro);
	/* UNMAP deallocates whole clusters: one cluster is the useful granularity. */
	rts_dev_set_thin_provisioning(dev, !q->ro, (uint32_t)MAX(q->top->cs / bs, (uint64_t)1));
	rts_dev_info(dev,
		     "qcow: '%s' (qcow2 v%" PRIu32 ", %" PRIu64 "-byte clusters%s%s%s), %" PRIu64
		     " bytes, %u image(s) in the chain",
		     q->top->path, q->top->h.version, q->top->cs, q->ro ? ", read-only" : "",
		     q->top->backing ? ", backing file " : "",
		     q->top->backing ? q->top->backing->path : "", size, chain_len(q->top));
	cfg_clear(&c);
	return 0;
err_why:
	rts_dev_err(dev, "%s", why ? why : strerror(-r));
	free(why);
err:
	cfg_clear(&c);
	q2_free(q);
	return r;
}

static void q2_close(struct rts_dev *dev)
{
	struct q2_dev *q = rts_dev_get_private(dev);

	if (!q)
		return;
	if (!q->ro) {
		pool_release(q);
		q2_sync(q);
	}
	q2_free(q);
	rts_dev_set_private(dev, NULL);
}

static int q2_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	struct q2_dev *q = rts_dev_get_private(dev);
	uint32_t bs = rts_dev_get_block_size(dev);

	if (rc->what & RTS_RECONFIG_CFGSTRING)
		return -EOPNOTSUPP; /* reopen the device to change its image */
	if (rc->what & RTS_RECONFIG_SIZE) {
		if (!rc->size || rc->size % bs)
			return -EINVAL;
		if (rc->size > q->top->h.size) {
			rts_dev_err(dev,
				    "qcow: '%s': new size %" PRIu64
				    " exceeds the virtual size %" PRIu64
				    " (qemu-img resize it first)",
				    q->top->path, rc->size, q->top->h.size);
			return -EINVAL;
		}
		rts_dev_set_num_lbas(dev, rc->size / bs);
	}
	if (rc->what & RTS_RECONFIG_WRITE_CACHE)
		rts_dev_set_write_cache(dev, rc->write_cache);
	return 0;
}

/*
 * GET LBA STATUS from the L1/L2 tables (img_map, through the backing chain): clusters that
 * read as zeros without data (unallocated without a backing file, zero clusters) are
 * deallocated, the rest mapped. An L2 table not in the cache is read synchronously (one
 * cluster of metadata); compressed clusters count as mapped.
 */
static int q2_get_lba_status(struct rts_dev *dev, uint64_t off, uint64_t *len)
{
	struct q2_dev *q = rts_dev_get_private(dev);
	uint32_t bs = rts_dev_get_block_size(dev);
	uint64_t want = *len, done = 0;
	int kind = -1;

	while (done < want) {
		struct q2_ext e;
		int r = img_map(q->top, off + done, want - done, &e);

		if (r < 0)
			return r;
		if (!e.len)
			break;
		if (kind >= 0 && (e.kind == Q2_EXT_ZERO) != (kind == 0))
			break;
		kind = e.kind == Q2_EXT_ZERO ? 0 : 1;
		done += e.len;
	}
	if (kind < 0)
		return 0;
	done = done / bs * bs;
	*len = done ? done : bs;
	return kind;
}

static const struct rts_handler qcow2_handler = {
	RTS_HANDLER_INIT,
	.name = "qcow: qcow2 image (v2/v3) through io_uring",
	.subtype = "qcow",
	.cfg_desc = "qcow/<path to a qcow2 image>[;ro]",
	.cmd_private_size = sizeof(struct q2_cmd),
	.check_config = q2_check_config,
	.open = q2_open,
	.close = q2_close,
	.reconfig = q2_reconfig,
	.read = q2_read,
	.write = q2_write,
	.flush = q2_flush,
	.unmap = q2_unmap,
	.io_done = q2_io_done,
	.get_lba_status = q2_get_lba_status,
};

RTS_HANDLER_DEFINE(qcow2_handler)
