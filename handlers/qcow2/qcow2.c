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
 *      when it covers them whole; a partial cluster with zeros around the data (iovecs of
 *      the device's read-only zero cluster, nothing copied) or, over a backing file or a
 *      compressed cluster, from a bounce buffer holding the new data and the old
 *      (copy-on-write, read synchronously);
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
 *
 * Files, by concern: qcow2_image.c (cfgstring, opening an image and its backing chain,
 * locking), qcow2_cache.c (L2 cache, guest->host mapping, compressed clusters),
 * qcow2_alloc.c (refcounts and allocation), qcow2_io.c (the I/O paths), qcow2_format.c
 * (the on-disk format, pure), qcow2_priv.h (what they share). This file: check_config,
 * open/close/reconfig, GET LBA STATUS and the descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/falloc.h>

#include <liburing.h>
#include <zlib.h>

#include <rts/handler.h>

#include "cfgstring.h"
#include "macro.h"

#include "qcow2_priv.h"

static int q2_check_config(const char *cfgstring, char **reterr_reason)
{
	struct q2_img *img = NULL;
	struct q2_cfg c;
	char *why = NULL;
	int r;

	r = q2_cfg_parse(cfgstring, &c, &why);
	if (r == 0) {
		r = q2_img_open(NULL, c.path, "qcow2", !c.ro, 0, NULL, &img, NULL, &why);
		q2_img_free(img);
		q2_cfg_clear(&c);
	}
	if (reterr_reason)
		*reterr_reason = why;
	else
		free(why);
	return r;
}

/* ------------------------------------------------------------- open/close */

static void q2_free(struct q2_dev *q)
{
	if (!q)
		return;
	if (q->zero)
		munmap((void *)q->zero, q->top->cs);
	q2_img_free(q->top);
	free(q->reft);
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
		r = q2_pread_full(q->top->fd, blk, q->top->cs, q->reft[b]);
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
	/*
	 * Allocation goes forward from here: a refcount block at or past it (past the end of
	 * the file, where it reads as zeros, with no refcount) would be handed out as a new
	 * cluster and overwritten by guest data, or overwrite it. Data clusters are held to the
	 * same limit when they are used (q2_l2_decode()); L2 tables past the end of the file
	 * were refused with the L1 table.
	 */
	for (uint64_t b = 0; b < q->reft_entries; b++) {
		if (q->reft[b] >= next) {
			char why[160];

			snprintf(why, sizeof(why),
				 "refcount block %" PRIu64 " at 0x%" PRIx64
				 " is past the allocated area (file size %" PRIu64 ")",
				 b, q->reft[b], file_size);
			q2_corrupt(q->top, why);
			return -EINVAL;
		}
	}
	q->alloc_next = next;
	q->top->alloc_next = &q->alloc_next;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The writable image's metadata clusters, for q2_l2_decode() to refuse data mapped onto
 * them: the header cluster, the L1 and refcount tables, every refcount block and L2 table.
 */
static int build_meta(struct q2_dev *q)
{
	struct q2_img *img = q->top;
	uint64_t cb = img->cb, l1c = ((uint64_t)img->h.l1_size * 8 + img->cs - 1) >> cb;
	uint64_t rtc = img->h.refcount_table_clusters, n = 0, max = 1 + l1c + rtc;
	uint64_t *m;

	for (uint64_t b = 0; b < q->reft_entries; b++)
		max += q->reft[b] != 0;
	for (uint32_t i = 0; i < img->h.l1_size; i++)
		max += (img->l1[i] & QCOW2_OFFSET_MASK) != 0;
	m = malloc(max * sizeof(*m));
	if (!m)
		return -ENOMEM;
	m[n++] = 0;
	for (uint64_t k = 0; k < l1c; k++)
		m[n++] = (img->h.l1_table_offset >> cb) + k;
	for (uint64_t k = 0; k < rtc; k++)
		m[n++] = (img->h.refcount_table_offset >> cb) + k;
	for (uint64_t b = 0; b < q->reft_entries; b++)
		if (q->reft[b])
			m[n++] = q->reft[b] >> cb;
	for (uint32_t i = 0; i < img->h.l1_size; i++)
		if (img->l1[i] & QCOW2_OFFSET_MASK)
			m[n++] = (img->l1[i] & QCOW2_OFFSET_MASK) >> cb;
	qsort(m, n, sizeof(*m), cmp_u64);
	img->nmeta = 0;
	for (uint64_t i = 0; i < n; i++)
		if (!img->nmeta || m[img->nmeta - 1] != m[i])
			m[img->nmeta++] = m[i];
	img->meta = m;
	img->meta_cap = n;
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
	r = q2_cfg_parse(rts_dev_get_cfgstring(dev), &c, &why);
	if (r < 0)
		goto err_why;
	q = calloc(1, sizeof(*q));
	if (!q) {
		r = -ENOMEM;
		goto err;
	}
	q->dev = dev;
	q->ro = c.ro;
	bufwrite_init(&q->bw, false);
	r = q2_img_open(dev, c.path, "qcow2", !c.ro, 0, NULL, &q->top, &fsize, &why);
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
		r = q2_read_table(q->top, q->top->h.refcount_table_offset, q->reft_entries, fsize,
				  "refcount table", &q->reft, &why);
		if (r < 0)
			goto err_why;
		r = find_alloc_next(q, fsize);
		if (r == 0)
			r = build_meta(q);
		if (r < 0)
			goto err;
		/* read-only anonymous memory reads as the kernel's zero page: no RSS per device */
		q->zero = mmap(NULL, q->top->cs, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q->zero == MAP_FAILED) {
			q->zero = NULL;
			r = -ENOMEM;
			goto err;
		}
	}

	/* Autoclear features (e.g. persistent bitmaps) become stale once someone who does
	 * not maintain them writes: the spec says such a writer clears the bits. */
	if (!q->ro && q->top->h.autoclear_features) {
		uint8_t z[8] = { 0 };

		r = q2_pwrite_full(q->top->fd, z, 8, QCOW2_OFF_AUTOCLEAR);
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
	q2_cfg_clear(&c);
	return 0;
err_why:
	rts_dev_err(dev, "%s", why ? why : strerror(-r));
	free(why);
err:
	q2_cfg_clear(&c);
	q2_free(q);
	return r;
}

static void q2_close(struct rts_dev *dev)
{
	struct q2_dev *q = rts_dev_get_private(dev);

	if (!q)
		return;
	rts_dev_dbg(dev,
		    "qcow: '%s': writes done on the I/O thread: %llu with RWF_NOWAIT, %llu "
		    "blocking (%llu slow)",
		    q->top->path, (unsigned long long)q->bw.nowait,
		    (unsigned long long)q->bw.blocking, (unsigned long long)q->bw.slow);
	if (!q->ro) {
		q2_pool_release(q);
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
		int r = q2_img_map(q->top, off + done, want - done, &e);

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
