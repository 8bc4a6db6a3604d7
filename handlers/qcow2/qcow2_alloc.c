/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 handler: refcounts and cluster allocation (refcount table growth, the pre-synced
 * allocation pool, L2 tables made on demand, compressed clusters released).
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

int q2_sync(struct q2_dev *q)
{
	if (fdatasync(q->top->fd) < 0) {
		int r = -errno;

		rts_dev_err(q->dev, "qcow: '%s': fdatasync: %s", q->top->path, strerror(-r));
		return r;
	}
	return 0;
}

/* Set the refcount of host cluster @cl, whose refcount block exists, to @v. */
int q2_refcount_set(struct q2_dev *q, uint64_t cl, uint16_t v)
{
	uint64_t epb = q->top->cs / 2, b = cl / epb;
	uint8_t e[2];

	if (b >= q->reft_entries || !q->reft[b])
		return -EIO;
	qcow2_put_be16(e, v);
	return q2_pwrite_full(q->top->fd, e, 2, q->reft[b] + (cl % epb) * 2);
}

static int refcount_get(struct q2_dev *q, uint64_t cl, uint16_t *ret)
{
	uint64_t epb = q->top->cs / 2, b = cl / epb;
	uint8_t e[2];
	int r;

	if (b >= q->reft_entries || !q->reft[b])
		return -EIO;
	r = q2_pread_full(q->top->fd, e, 2, q->reft[b] + (cl % epb) * 2);
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
void q2_release_compressed(struct q2_dev *q, uint64_t off, uint64_t len, bool sync)
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
			r = q2_refcount_set(q, cl, (uint16_t)(v - 1));
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
	r = q2_pwrite_full(img->fd, meta, total * cs, c0 << img->cb);
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
		r = q2_pwrite_full(img->fd, hdr, sizeof(hdr), 48);
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
	r = q2_meta_add(img, c0 << img->cb, total * cs);
	if (r < 0)
		return r;
	for (uint64_t k = 0; k < old_nc && r == 0; k++)
		r = q2_refcount_set(q, (old_off >> img->cb) + k, 0);
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
int64_t q2_alloc_clusters(struct q2_dev *q, uint32_t want, uint32_t *ret_n)
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
		r = q2_pwrite_full(q->top->fd, blk, q->top->cs, c << q->top->cb);
		free(blk);
		if (r == 0)
			r = q2_sync(q);
		if (r == 0) {
			uint8_t e[8];

			qcow2_put_be64(e, c << q->top->cb);
			r = q2_pwrite_full(q->top->fd, e, 8,
					   q->top->h.refcount_table_offset + b * 8);
		}
		if (r < 0) {
			rts_dev_err(q->dev, "qcow: '%s': cannot add a refcount block: %s",
				    q->top->path, strerror(-r));
			return r;
		}
		q->reft[b] = c << q->top->cb;
		q->alloc_next += q->top->cs;
		r = q2_meta_add(q->top, c << q->top->cb, q->top->cs);
		if (r < 0)
			return r;
	}
	/* Reserve a pool's worth (within this refcount block), hand out what is wanted. */
	first = c;
	pool = MAX((uint64_t)want, pool);
	n = (uint32_t)MIN(pool, epb - (c - b * epb));
	rc = calloc(n, 2);
	if (!rc)
		return -ENOMEM;
	/* Must be free: everything past alloc_next is unused by construction. */
	r = q2_pread_full(q->top->fd, rc, (size_t)n * 2, q->reft[b] + (c - b * epb) * 2);
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
		r = q2_pwrite_full(q->top->fd, rc, (size_t)n * 2, q->reft[b] + (c - b * epb) * 2);
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
 * from q2_alloc_clusters(), so within one refcount block). No sync: if this is lost, they
 * merely leak.
 */
void q2_release_unused(struct q2_dev *q, uint64_t off, uint64_t n, const char *what)
{
	uint64_t epb = q->top->cs / 2, c = off >> q->top->cb;
	uint8_t *z;
	int r;

	if (!n)
		return;
	z = calloc(n, 2);
	r = z ? q2_pwrite_full(q->top->fd, z, n * 2, q->reft[c / epb] + (c % epb) * 2) : -ENOMEM;
	free(z);
	if (r < 0)
		rts_dev_warn(q->dev,
			     "qcow: '%s': cannot release %" PRIu64 " %s clusters (%s): they "
			     "leak",
			     q->top->path, n, what, strerror(-r));
}

/* Give the reserved but unused clusters back (clean close). */
void q2_pool_release(struct q2_dev *q)
{
	q2_release_unused(q, q->pool_next, (q->pool_end - q->pool_next) >> q->top->cb, "reserved");
	q->pool_next = q->pool_end;
}

/* Make sure guest cluster @gcl has an L2 table; returns its offset in @ret. */
int q2_ensure_l2(struct q2_dev *q, uint64_t gcl, uint64_t *ret)
{
	uint64_t l1i = gcl / q->top->l2_entries, l2;
	uint8_t e[8];
	uint32_t n;
	bool copied;
	int64_t off;
	int r;

	r = q2_l1_lookup(q->top, gcl, &l2, &copied);
	if (r < 0)
		return r;
	if (l2) {
		*ret = l2;
		return 0;
	}
	off = q2_alloc_clusters(q, 1, &n);
	if (off < 0)
		return (int)off;
	/* The table's content before the L1 entry that makes it reachable. */
	r = q2_pwrite_full(q->top->fd, q->zero, q->top->cs, (uint64_t)off);
	if (r == 0) {
		qcow2_put_be64(e, (uint64_t)off | QCOW2_OFLAG_COPIED);
		r = q2_pwrite_full(q->top->fd, e, 8, q->top->h.l1_table_offset + l1i * 8);
	}
	if (r < 0) {
		rts_dev_err(q->dev, "qcow: '%s': cannot add an L2 table: %s", q->top->path,
			    strerror(-r));
		return r;
	}
	q->top->l1[l1i] = (uint64_t)off | QCOW2_OFLAG_COPIED;
	*ret = (uint64_t)off;
	return q2_meta_add(q->top, (uint64_t)off, q->top->cs);
}
