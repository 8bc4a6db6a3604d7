/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 handler: the I/O paths (extents on the io_uring, allocating writes in crash-
 * consistency order, UNMAP, waiters on in-flight allocations, the handler's
 * read/write/flush/unmap/io_done).
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
#include "iov.h"
#include "macro.h"

#include "qcow2_priv.h"

/* -------------------------------------------------------------- iovecs */

/*
 * Copy @len bytes between the command's data at command offset @off and @buf: into the
 * command (@to_cmd; a NULL @buf writes zeros) or out of it into @buf.
 */
static void iov_copy(const struct q2_cmd *qc, uint64_t off, uint8_t *buf, uint64_t len,
		     bool to_cmd)
{
	for (unsigned int i = 0; i < qc->iovcnt && len; i++) {
		size_t l = qc->iov[i].iov_len;
		uint8_t *data;

		if (off >= l) {
			off -= l;
			continue;
		}
		l = (size_t)MIN((uint64_t)(l - off), len);
		data = (uint8_t *)qc->iov[i].iov_base + off;
		if (!to_cmd)
			memcpy(buf, data, l);
		else if (buf)
			memcpy(data, buf, l);
		else
			memset(data, 0, l);
		if (buf)
			buf += l;
		len -= l;
		off = 0;
	}
}

/* Copy @len bytes from @src (NULL: zeros) into the command's data at offset @off. */
static void iov_put(const struct q2_cmd *qc, uint64_t off, const uint8_t *src, uint64_t len)
{
	iov_copy(qc, off, (uint8_t *)src, len, true); /* only read from when to_cmd */
}

/* Copy @len bytes at command offset @off out of the command's data into @dst. */
static void iov_get(const struct q2_cmd *qc, uint64_t off, uint8_t *dst, uint64_t len)
{
	iov_copy(qc, off, dst, len, false);
}

/* Point p->sub at the part of the command's data the extent has left; returns the count. */
static unsigned int iov_sub(const struct q2_cmd *qc, struct q2_part *p)
{
	return iov_window(qc->iov, qc->iovcnt, p->cmd_off + p->done, p->len - p->done, p->sub,
			  Q2_SUB_IOV);
}

/*
 * The iovecs of a padded extent from p->done on: p->pad_head zeros, the command's data
 * (p->len less the padding, from p->cmd_off), p->pad_tail zeros. The zeros are the device's
 * read-only zero cluster (pad_head and pad_tail are below a cluster). When the data needs
 * more iovecs than there are, the tail waits for the rest of a short write.
 */
static unsigned int pad_sub(const struct q2_dev *q, const struct q2_cmd *qc, struct q2_part *p)
{
	uint64_t skip = p->done, data = p->len - p->pad_head - p->pad_tail;
	unsigned int n = 0;

	if (skip < p->pad_head) {
		p->sub[n++] = (struct iovec){ .iov_base = (void *)q->zero,
					      .iov_len = (size_t)(p->pad_head - skip) };
		skip = 0;
	} else {
		skip -= p->pad_head;
	}
	if (skip < data) {
		unsigned int k = iov_window(qc->iov, qc->iovcnt, p->cmd_off + skip, data - skip,
					    p->sub + n, Q2_SUB_IOV - 1 - n);
		uint64_t got = 0;

		for (unsigned int i = 0; i < k; i++)
			got += p->sub[n + i].iov_len;
		n += k;
		if (got < data - skip)
			return n;
		skip = 0;
	} else {
		skip -= data;
	}
	if (skip < p->pad_tail)
		p->sub[n++] = (struct iovec){ .iov_base = (void *)q->zero,
					      .iov_len = (size_t)(p->pad_tail - skip) };
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
	} else if (p->pad_head || p->pad_tail) {
		n = pad_sub(q, qc, p);
		io_uring_prep_writev(sqe, p->fd, p->sub, n, at);
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
	r = q2_pwrite_full(q->top->fd, e, (size_t)p->ncl * 8, p->l2_off + (uint64_t)idx * 8);
	free(e);
	if (r < 0) {
		rts_dev_err(q->dev, "qcow: '%s': cannot update the L2 table at 0x%" PRIx64 ": %s",
			    q->top->path, p->l2_off, strerror(-r));
		return r;
	}
	tbl = q2_l2_peek(q->top, p->l2_off);
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
		r = q2_l1_lookup(q->top, gcl, &l2_off, NULL);
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

			r = q2_l2_decode(q->top, tbl, gcl + ncl, &nl);
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
		r = q2_ensure_l2(q, gcl, &l2_off);
		if (r < 0)
			return r;
		host = q2_alloc_clusters(q, ncl, &ncl);
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
	p->pad_head = p->pad_tail = 0;
	if (qc->op == Q2_WRITE && !inoff && !tail)
		goto start; /* whole clusters: written straight from the command's iovecs */
	if (qc->op == Q2_WRITE && l->type != QCOW2_CL_COMPRESSED &&
	    !(l->type == QCOW2_CL_UNALLOCATED && q->top->backing)) {
		/* zeros around the data (one cluster: a partial one goes alone) */
		p->pad_head = (uint32_t)inoff;
		p->pad_tail = (uint32_t)tail;
		goto start;
	}
	p->bounce = malloc((size_t)ncl << q->top->cb);
	if (!p->bounce) {
		r = -ENOMEM;
		goto err_release;
	}
	if (l->type == QCOW2_CL_COMPRESSED) {
		/* Copy-on-write from the inflated cluster; its data is released after. */
		r = q2_decompress(q->top, l);
		if (r < 0)
			goto err_release;
		memcpy(p->bounce, q->top->dbuf, q->top->cs);
	} else if (l->type == QCOW2_CL_UNALLOCATED && q->top->backing) {
		/* Copy-on-write: what the write does not cover comes from the backing file. */
		r = q2_img_read_sync(q->top->backing, gcl << q->top->cb, p->bounce, inoff);
		if (r == 0)
			r = q2_img_read_sync(q->top->backing, (gcl << q->top->cb) + inoff + n,
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
	p->pad_head = p->pad_tail = 0;
	if (l->type != QCOW2_CL_ZERO_ALLOC)
		q2_release_unused(q, (uint64_t)host, ncl, "new");
	return r;
}

/*
 * A write into allocated clusters (no ordering to keep: no metadata changes) is done on the
 * I/O thread while the page cache takes it quickly (common/bufwrite.h): io_uring would hand
 * it to an io-wq worker on most file systems. Returns true when all of @p was written and
 * the command moved past it; otherwise p->done says how much was, and the caller submits the
 * rest (or all of it, whatever made the inline write fail) through io_uring.
 */
static bool write_inline(struct q2_dev *q, struct q2_cmd *qc, struct q2_part *p)
{
	unsigned int n = iov_sub(qc, p);
	ssize_t r = bufwrite_try(&q->bw, p->fd, p->sub, (int)n, (off_t)p->host_off);

	if (r <= 0)
		return false;
	p->done = (uint64_t)r;
	if (p->done < p->len)
		return false;
	qc->pos += p->len;
	return true;
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

		r = q2_img_map(q->top, g, rem, &e);
		if (r < 0)
			return r;
		if (e.kind != Q2_EXT_DATA) {
			iov_put(qc, qc->pos, e.kind == Q2_EXT_BUF ? e.buf : NULL, e.len);
			qc->pos += e.len;
			return 0;
		}
		p->fd = e.fd;
		p->host_off = e.off;
		p->done = 0;
		n = e.len;
		goto submit;
	}
	r = q2_l1_lookup(q->top, gcl, &l2_off, &l1_copied);
	if (r == 0)
		r = q2_l2_entry(q->top, l2_off, gcl, &tbl, &l);
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
		r = q2_l2_decode(q->top, tbl, c, &nl);
		if (r < 0)
			return r;
		if (nl.type != QCOW2_CL_NORMAL || nl.host_off != next || !nl.copied)
			break;
		n = MIN(rem, n + q->top->cs);
	}
	p->fd = q->top->fd;
	p->host_off = l.host_off + inoff;
	p->cmd_off = qc->pos;
	p->len = n;
	p->done = 0;
	if (write_inline(q, qc, p))
		return 0;
submit:
	p->busy = true;
	p->alloc = false;
	p->bounce = NULL;
	p->pad_head = p->pad_tail = 0;
	p->retries = 0;
	p->cmd_off = qc->pos;
	p->len = n;
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
		r = q2_ensure_l2(q, gcl, &l2_off);
		if (r < 0)
			return r;
		tbl = NULL;
	}
	while (k < Q2_UNMAP_RUN && qc->len - qc->pos - (uint64_t)k * img->cs >= img->cs &&
	       (k == 0 || (gcl + k) % img->l2_entries != 0) && !pending_overlaps(q, gcl + k)) {
		struct qcow2_l2 l;

		r = q2_l2_decode(img, tbl, gcl + k, &l);
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
	r = q2_pwrite_full(img->fd, be, (size_t)k * 8, l2_off + (gcl % img->l2_entries) * 8);
	if (r == 0)
		r = q2_sync(q);
	if (r < 0) {
		rts_dev_err(q->dev, "qcow: '%s': cannot update the L2 table at 0x%" PRIx64 ": %s",
			    img->path, l2_off, strerror(-r));
		return r;
	}
	cache = q2_l2_peek(img, l2_off);
	for (unsigned int i = 0; i < k; i++) {
		struct qcow2_l2 l;

		if (cache)
			cache[(gcl + i) % img->l2_entries] = newe;
		if (qcow2_l2_entry(&img->h, old[i], &l, NULL, 0) < 0)
			continue; /* cannot happen: decoded above */
		if (l.type == QCOW2_CL_COMPRESSED) {
			q2_release_compressed(q, l.host_off, l.csize, false);
		} else if (l.host_off) {
			r = q2_refcount_set(q, l.host_off >> img->cb, 0);
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

	r = q2_l1_lookup(img, gcl, &l2_off, &l1_copied);
	if (r == 0 && l2_off && !l1_copied) {
		rts_dev_err(q->dev,
			    "qcow: '%s': L2 table at 0x%" PRIx64 " is shared (refcount > 1)",
			    img->path, l2_off);
		r = -EIO;
	}
	if (r == 0)
		r = q2_l2_entry(img, l2_off, gcl, &tbl, &l);
	if (r < 0)
		return r;
	if (pending_overlaps(q, gcl))
		return 1;
	if (q2_reads_zero(img, l.type)) {
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
	p->pad_head = (uint32_t)n; /* all zeros, from the zero cluster */
	p->pad_tail = 0;
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
		p->pad_head = 0;
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
			q2_release_compressed(q, p->free_off, p->free_len, true);
		else if (data_err && p->fresh) /* no L2 entry was written: give them back */
			q2_release_unused(q, p->host_off, p->ncl, "new");
		else if (err) /* the L2 update failed part-way, perhaps: keep them (a leak) */
			rts_dev_warn(q->dev,
				     "qcow: '%s': clusters at 0x%" PRIx64 " stay allocated after "
				     "the failed L2 update (qemu-img check -r leaks reclaims them)",
				     q->top->path, p->host_off);
		pending_del(q, p);
		p->alloc = false;
	}
	free(p->bounce); /* allocating writes that copy from the chain */
	p->bounce = NULL;
	p->pad_head = p->pad_tail = 0;
	p->busy = false;
	qc->inflight--;
	if (err && !qc->err)
		qc->err = err;
	pump(q, cmd); /* may complete cmd: do not touch it after this */
	if (was_alloc)
		wake(q);
}

void q2_io_done(struct rts_dev *dev, struct rts_cmd *cmd, uint16_t tag, int res)
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
		qc->parts[i].pad_head = qc->parts[i].pad_tail = 0;
	}
	if (off + len < off || off + len > q->top->h.size)
		return -ERANGE;
	pump(q, cmd);
	return 0;
}

int q2_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov, unsigned int iovcnt,
	    uint64_t off, uint64_t len)
{
	return start_cmd(dev, cmd, Q2_READ, iov, iovcnt, off, len);
}

int q2_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov, unsigned int iovcnt,
	     uint64_t off, uint64_t len, unsigned int flags)
{
	struct q2_dev *q = rts_dev_get_private(dev);

	(void)flags; /* no RTS_HANDLER_F_FUA: the core follows a FUA write with flush() */
	if (q->ro)
		return -EROFS;
	return start_cmd(dev, cmd, Q2_WRITE, iov, iovcnt, off, len);
}

int q2_flush(struct rts_dev *dev, struct rts_cmd *cmd)
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

int q2_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len)
{
	struct q2_dev *q = rts_dev_get_private(dev);

	if (q->ro)
		return -EROFS;
	return start_cmd(dev, cmd, Q2_UNMAP, NULL, 0, off, len);
}
