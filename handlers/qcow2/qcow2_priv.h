/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of the qcow2 handler share: limits, state, and the functions one file
   calls in another (see qcow2.c for the design). */
#ifndef RTS_QCOW2_PRIV_H
#define RTS_QCOW2_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <rts/handler.h>

#include "bufwrite.h"
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
	uint8_t *bounce; /* data assembled for the write (copy-on-write from the chain) or NULL */
	/* Zeros written before and after the command's data, from the device's zero cluster
	 * (a partly written new cluster, zeros written by UNMAP): no bounce buffer to fill. */
	uint32_t pad_head, pad_tail;
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
	uint8_t *cbuf; /* compressed input (2 clusters), allocated with dbuf on first use */
	uint8_t *dbuf; /* one inflated cluster (NULL until q2_decompress() needs it) */
	uint64_t dbuf_off; /* host offset of the compressed cluster in dbuf, UINT64_MAX: none */
	struct q2_img *backing;
	struct q2_img *child; /* the image this one backs (NULL for the device's image) */
	dev_t st_dev; /* identity, to detect backing chains that loop */
	ino_t st_ino;
	/* The writable image's first unallocated offset (its q2_dev's alloc_next), NULL for a
	 * backing file or a read-only device: metadata or data referenced at or past it has no
	 * refcount, and the allocator would hand its clusters out again. */
	const uint64_t *alloc_next;
	/* The writable image's metadata clusters (header, L1 and refcount tables, refcount
	 * blocks, L2 tables) as sorted host cluster numbers: an L2 entry that maps guest data
	 * onto one of them is corruption (qemu's overlap check), and writing through it would
	 * overwrite the image's own tables. Clusters only join: released ones are never reused. */
	uint64_t *meta;
	size_t nmeta, meta_cap;
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
	const uint8_t *zero; /* one cluster of zeros (read-only mapping) */
	struct q2_part *pending; /* allocations whose L2 entries are not written yet */
	struct rts_cmd *wait_head, *wait_tail;
	struct bufwrite bw; /* writes into allocated clusters on the I/O thread (bufwrite.h) */
};

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

/* qcow2_image.c */
void q2_cfg_clear(struct q2_cfg *c);
int q2_cfg_parse(const char *cfgstring, struct q2_cfg *c, char **reason);
int q2_pread_full(int fd, void *buf, size_t len, uint64_t off);
int q2_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
void q2_img_free(struct q2_img *img);
int q2_read_table(const struct q2_img *img, uint64_t off, uint64_t n, uint64_t file_size,
		  const char *what, uint64_t **ret, char **why);
int q2_img_open(struct rts_dev *dev, const char *path, const char *fmt, bool for_write,
		unsigned int depth, struct q2_img *child, struct q2_img **ret, uint64_t *ret_fsize,
		char **why);

/* qcow2_cache.c */
void q2_corrupt(struct q2_img *img, const char *what);
int q2_meta_add(struct q2_img *img, uint64_t off, uint64_t len);
bool q2_meta_overlaps(const struct q2_img *img, uint64_t off, uint64_t len);
int q2_l2_get(struct q2_img *img, uint64_t l2_off, uint64_t **ret);
uint64_t *q2_l2_peek(struct q2_img *img, uint64_t l2_off);
int q2_l1_lookup(struct q2_img *img, uint64_t gcl, uint64_t *ret_l2, bool *ret_copied);
int q2_l2_decode(struct q2_img *img, const uint64_t *tbl, uint64_t gcl, struct qcow2_l2 *ret);
int q2_l2_entry(struct q2_img *img, uint64_t l2_off, uint64_t gcl, uint64_t **tbl,
		struct qcow2_l2 *ret);
int q2_decompress(struct q2_img *img, const struct qcow2_l2 *l2);
bool q2_reads_zero(const struct q2_img *img, enum qcow2_cluster_type t);
int q2_img_map(struct q2_img *img, uint64_t g, uint64_t len, struct q2_ext *e);
int q2_img_read_sync(struct q2_img *img, uint64_t g, uint8_t *buf, uint64_t len);

/* qcow2_alloc.c */
int q2_sync(struct q2_dev *q);
int q2_refcount_set(struct q2_dev *q, uint64_t cl, uint16_t v);
void q2_release_compressed(struct q2_dev *q, uint64_t off, uint64_t len, bool sync);
int64_t q2_alloc_clusters(struct q2_dev *q, uint32_t want, uint32_t *ret_n);
void q2_release_unused(struct q2_dev *q, uint64_t off, uint64_t n, const char *what);
void q2_pool_release(struct q2_dev *q);
int q2_ensure_l2(struct q2_dev *q, uint64_t gcl, uint64_t *ret);

/* qcow2_io.c */
void q2_io_done(struct rts_dev *dev, struct rts_cmd *cmd, uint16_t tag, int res);
int q2_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov, unsigned int iovcnt,
	    uint64_t off, uint64_t len);
int q2_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov, unsigned int iovcnt,
	     uint64_t off, uint64_t len, unsigned int flags);
int q2_flush(struct rts_dev *dev, struct rts_cmd *cmd);
int q2_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len);

#endif
