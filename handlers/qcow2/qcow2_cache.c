/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 handler: the L2 table cache and the guest->host mapping (L1/L2 lookup, compressed
 * clusters, extents of a guest range through the backing chain).
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

/* ----------------------------------------------------------- metadata */

void q2_corrupt(struct q2_img *img, const char *what)
{
	rts_dev_err(img->dev, "qcow: '%s' is corrupt: %s", img->path, what);
}

/* Index of the first metadata cluster >= @cl. */
static size_t meta_lower_bound(const struct q2_img *img, uint64_t cl)
{
	size_t lo = 0, hi = img->nmeta;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (img->meta[mid] < cl)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Record the clusters of [@off, @off + @len) as metadata. */
int q2_meta_add(struct q2_img *img, uint64_t off, uint64_t len)
{
	uint64_t first = off >> img->cb, last = len ? (off + len - 1) >> img->cb : first;

	for (uint64_t cl = first; cl <= last; cl++) {
		size_t i = meta_lower_bound(img, cl);

		if (i < img->nmeta && img->meta[i] == cl)
			continue;
		if (img->nmeta == img->meta_cap) {
			size_t cap = img->meta_cap ? 2 * img->meta_cap : 16;
			uint64_t *m = realloc(img->meta, cap * sizeof(*m));

			if (!m)
				return -ENOMEM;
			img->meta = m;
			img->meta_cap = cap;
		}
		memmove(img->meta + i + 1, img->meta + i, (img->nmeta - i) * sizeof(*img->meta));
		img->meta[i] = cl;
		img->nmeta++;
	}
	return 0;
}

/* Whether [@off, @off + @len) touches a metadata cluster (never for an image without). */
bool q2_meta_overlaps(const struct q2_img *img, uint64_t off, uint64_t len)
{
	uint64_t first = off >> img->cb, last = len ? (off + len - 1) >> img->cb : first;
	size_t i = meta_lower_bound(img, first);

	return i < img->nmeta && img->meta[i] <= last;
}

/*
 * The cached L2 table at @l2_off, loading it (evicting the LRU one) when absent. A slot's
 * table is allocated when the slot is first filled: an image opened for a few commands (or a
 * small one) does not pay for a cache sized for 8 MiB of tables.
 */
int q2_l2_get(struct q2_img *img, uint64_t l2_off, uint64_t **ret)
{
	struct l2_slot *victim = &img->l2c[0], *last = &img->l2c[img->l2c_last];
	int r;

	if (last->tbl && last->off == l2_off) { /* the common case: the same table as the last lookup */
		last->lru = ++img->lru_clock;
		*ret = last->tbl;
		return 0;
	}
	for (unsigned int i = 0; i < img->l2c_n; i++) {
		struct l2_slot *s = &img->l2c[i];

		if (s->tbl && s->off == l2_off) {
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
	if (!victim->tbl) {
		victim->tbl = malloc(img->cs);
		if (!victim->tbl)
			return -ENOMEM;
	}
	r = q2_pread_full(img->fd, victim->tbl, img->cs, l2_off);
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
uint64_t *q2_l2_peek(struct q2_img *img, uint64_t l2_off)
{
	for (unsigned int i = 0; i < img->l2c_n; i++)
		if (img->l2c[i].tbl && img->l2c[i].off == l2_off)
			return img->l2c[i].tbl;
	return NULL;
}

/* L2 table offset of guest cluster @gcl (0: none) and whether it is exclusively ours. */
int q2_l1_lookup(struct q2_img *img, uint64_t gcl, uint64_t *ret_l2, bool *ret_copied)
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
int q2_l2_decode(struct q2_img *img, const uint64_t *tbl, uint64_t gcl, struct qcow2_l2 *ret)
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
	/* data of the writable image at or past alloc_next: no refcount holds it (a compressed
	 * stream's sector count may run past the end of the file; its start may not) */
	if (img->alloc_next && ret->host_off >= *img->alloc_next &&
	    (ret->type == QCOW2_CL_NORMAL || ret->type == QCOW2_CL_ZERO_ALLOC ||
	     ret->type == QCOW2_CL_COMPRESSED)) {
		snprintf(why, sizeof(why),
			 "guest cluster %" PRIu64 " is at 0x%" PRIx64
			 ", past the allocated area (0x%" PRIx64 ")",
			 gcl, ret->host_off, *img->alloc_next);
		q2_corrupt(img, why);
		return -EIO;
	}
	if (img->nmeta &&
	    (ret->type == QCOW2_CL_NORMAL || ret->type == QCOW2_CL_ZERO_ALLOC ||
	     ret->type == QCOW2_CL_COMPRESSED) &&
	    q2_meta_overlaps(img, ret->host_off,
			     ret->type == QCOW2_CL_COMPRESSED ? ret->csize : img->cs)) {
		snprintf(why, sizeof(why),
			 "guest cluster %" PRIu64 " is at 0x%" PRIx64
			 ", a cluster that holds the image's own metadata",
			 gcl, ret->host_off);
		q2_corrupt(img, why);
		return -EIO;
	}
	return 0;
}

/*
 * The L2 entry of guest cluster @gcl in the table at @l2_off (0: no table, the cluster is
 * unallocated); *@tbl gets the cached table (NULL without one) for the neighbours' entries.
 */
int q2_l2_entry(struct q2_img *img, uint64_t l2_off, uint64_t gcl, uint64_t **tbl,
		struct qcow2_l2 *ret)
{
	int r;

	*tbl = NULL;
	if (l2_off) {
		r = q2_l2_get(img, l2_off, tbl);
		if (r < 0)
			return r;
	}
	return q2_l2_decode(img, *tbl, gcl, ret);
}

/* Inflate the compressed cluster @l2 into q->top->dbuf. */
int q2_decompress(struct q2_img *img, const struct qcow2_l2 *l2)
{
	uint64_t csize = MIN(l2->csize, 2 * img->cs);
	z_stream z = { 0 };
	int r, zr;

	if (img->dbuf_off == l2->host_off)
		return 0;
	if (!img->dbuf) {
		/* on first use: most images have no compressed cluster, and 3 clusters per image
		 * in a chain, per device, add up on a runner with dozens of devices */
		img->cbuf = malloc(2 * img->cs);
		img->dbuf = malloc(img->cs);
		if (!img->cbuf || !img->dbuf) {
			free(img->cbuf);
			free(img->dbuf);
			img->cbuf = img->dbuf = NULL;
			return -ENOMEM;
		}
	}
	img->dbuf_off = UINT64_MAX;
	r = q2_pread_full(img->fd, img->cbuf, (size_t)csize, l2->host_off);
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

/* Clusters that read as zeros in @img (unallocated ones only without a backing file). */
bool q2_reads_zero(const struct q2_img *img, enum qcow2_cluster_type t)
{
	return t == QCOW2_CL_ZERO_PLAIN || t == QCOW2_CL_ZERO_ALLOC ||
	       (t == QCOW2_CL_UNALLOCATED && !img->backing);
}

/*
 * Map guest bytes [g, g + len) of @img, following the backing chain: @e gets the longest
 * run from @g of one kind (e->len in 1..len). Runs stop at L2 table boundaries.
 */
int q2_img_map(struct q2_img *img, uint64_t g, uint64_t len, struct q2_ext *e)
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
	r = q2_l1_lookup(img, gcl, &l2_off, NULL);
	if (r == 0)
		r = q2_l2_entry(img, l2_off, gcl, &tbl, &l);
	if (r < 0)
		return r;
	n = MIN(len, img->cs - inoff);
	if (l.type == QCOW2_CL_COMPRESSED) {
		r = q2_decompress(img, &l);
		if (r < 0)
			return r;
		*e = (struct q2_ext){ .kind = Q2_EXT_BUF, .buf = img->dbuf + inoff, .len = n };
		return 0;
	}
	if (l.type == QCOW2_CL_NORMAL) {
		/* Merge the physically contiguous run within this L2 table. */
		for (uint64_t c = gcl + 1, next = l.host_off + img->cs;
		     n < len && c % img->l2_entries; c++, next += img->cs) {
			r = q2_l2_decode(img, tbl, c, &nl);
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
		r = q2_l2_decode(img, tbl, c, &nl);
		if (r < 0)
			return r;
		if (q2_reads_zero(img, l.type) ? !q2_reads_zero(img, nl.type) : nl.type != l.type)
			break;
		n = MIN(len, n + img->cs);
	}
	if (q2_reads_zero(img, l.type)) {
		e->len = n;
		return 0;
	}
	return q2_img_map(img->backing, g, n, e);
}

/* Read guest bytes of @img (through its chain) synchronously: copy-on-write sources. */
int q2_img_read_sync(struct q2_img *img, uint64_t g, uint8_t *buf, uint64_t len)
{
	while (len) {
		struct q2_ext e;
		int r = q2_img_map(img, g, len, &e);

		if (r < 0)
			return r;
		if (e.kind == Q2_EXT_ZERO)
			memset(buf, 0, e.len);
		else if (e.kind == Q2_EXT_BUF)
			memcpy(buf, e.buf, e.len);
		else if ((r = q2_pread_full(e.fd, buf, e.len, e.off)) < 0) {
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
