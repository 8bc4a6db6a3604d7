/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS through the ring simulator (tcmu/xcopy.c):
 * copies within one device and between two devices served by this process (each on its
 * own I/O thread), in chunks through the data area and through a handler's copy_range,
 * overlapping ranges, the parameter list errors with their sense, COPY STATUS and the
 * 3PC advertisement (standard INQUIRY, VPD 8Fh, REPORT SUPPORTED OPERATION CODES).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rts/device.h>

#define BS   512u
#define NBLK 8192u /* 4 MiB per device */
#define TMO  5000

/* ------------------------------------------------------------ test handler */

struct mdev {
	uint8_t *mem;
};

static unsigned int g_copy_calls;   /* copy_range calls that copied */
static unsigned int g_copy_declined; /* copy_range calls answered -EOPNOTSUPP */

static int mem_open(struct rts_dev *dev, bool reopen)
{
	struct mdev *m = calloc(1, sizeof(*m));

	(void)reopen;
	if (!m)
		return -ENOMEM;
	m->mem = calloc(NBLK, BS);
	if (!m->mem) {
		free(m);
		return -ENOMEM;
	}
	rts_dev_set_private(dev, m);
	rts_dev_set_num_lbas(dev, NBLK);
	return 0;
}

static void mem_close(struct rts_dev *dev)
{
	struct mdev *m = rts_dev_get_private(dev);

	free(m->mem);
	free(m);
}

static void mem_copy(uint8_t *mem, const struct iovec *iov, unsigned int cnt, uint64_t off,
		     uint64_t len, bool to_mem)
{
	for (unsigned int i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;

		if (to_mem)
			memcpy(mem + off, iov[i].iov_base, n);
		else
			memcpy(iov[i].iov_base, mem + off, n);
		off += n;
		len -= n;
	}
}

static int mem_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		    unsigned int cnt, uint64_t off, uint64_t len)
{
	struct mdev *m = rts_dev_get_private(dev);

	mem_copy(m->mem, iov, cnt, off, len, false);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int mem_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int cnt, uint64_t off, uint64_t len, unsigned int flags)
{
	struct mdev *m = rts_dev_get_private(dev);

	(void)flags;
	mem_copy(m->mem, iov, cnt, off, len, true);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static const struct rts_handler mem_handler = {
	RTS_HANDLER_INIT,
	.name = "test memory",
	.subtype = "mem",
	.open = mem_open,
	.close = mem_close,
	.read = mem_read,
	.write = mem_write,
};

/* The same with a copy_range fast path; it declines overlapping ranges of one device. */
static int fast_copy_range(struct rts_dev *dev, struct rts_cmd *cmd, struct rts_dev *src,
			   uint64_t src_off, uint64_t off, uint64_t len);

static const struct rts_handler fast_handler = {
	RTS_HANDLER_INIT,
	.name = "test memory with copy_range",
	.subtype = "fast",
	.open = mem_open,
	.close = mem_close,
	.read = mem_read,
	.write = mem_write,
	.copy_range = fast_copy_range,
};

static int fast_copy_range(struct rts_dev *dev, struct rts_cmd *cmd, struct rts_dev *src,
			   uint64_t src_off, uint64_t off, uint64_t len)
{
	struct mdev *d = rts_dev_get_private(dev), *s;

	if (rts_dev_get_handler(src)->copy_range != fast_copy_range) {
		g_copy_declined++;
		return -EOPNOTSUPP;
	}
	s = rts_dev_get_private(src);
	if (s == d && src_off < off + len && off < src_off + len) {
		g_copy_declined++;
		return -EOPNOTSUPP;
	}
	memcpy(d->mem + off, s->mem + src_off, len);
	g_copy_calls++;
	rts_cmd_complete(cmd, 0);
	return 0;
}

/* ------------------------------------------------------------------ fixture */

struct fx {
	struct rts_sim *sim;
	struct rts_dev *dev;
	uint8_t naa[16];
};

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static struct rts_sim_completion exec(struct fx *f, const uint8_t *cdb, size_t len,
				      enum rts_sim_dir dir, void *buf, size_t n)
{
	struct rts_sim_completion c;

	assert_int_equal(rts_sim_exec(f->sim, cdb, len, dir, buf, n, TMO, &c), 0);
	return c;
}

static void expect_good(const struct rts_sim_completion *c)
{
	if (c->status != 0)
		fail_msg("status 0x%02x sense key %x asc/ascq %02x/%02x", c->status,
			 c->sense[2] & 0xf, c->sense[12], c->sense[13]);
}

static void expect_sense(const struct rts_sim_completion *c, uint8_t key, uint8_t asc,
			 uint8_t ascq)
{
	if (c->status != 2 || (c->sense[2] & 0xf) != key || c->sense[12] != asc ||
	    c->sense[13] != ascq)
		fail_msg("want %x/%02x%02x, got status 0x%02x sense %x/%02x%02x", key, asc, ascq,
			 c->status, c->sense[2] & 0xf, c->sense[12], c->sense[13]);
}

/* The NAA designator of the device's VPD 83h, as an initiator reads it. */
static void read_naa(struct fx *f)
{
	uint8_t cdb[6] = { 0x12, 0x01, 0x83, 0, 255, 0 }, buf[255];
	struct rts_sim_completion c = exec(f, cdb, 6, RTS_SIM_FROM_DEV, buf, sizeof(buf));

	expect_good(&c);
	assert_int_equal(buf[4] & 0x0f, 1);
	assert_int_equal(buf[5] & 0x0f, 3);
	assert_int_equal(buf[7], 16);
	memcpy(f->naa, &buf[8], 16);
}

static struct fx *fx_start(const char *name, const struct rts_handler *h, bool write_cache)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct rts_sim_params sp = { .data_size = 8 << 20 };
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = name, .cfgstring = h->subtype, .block_size = BS,
				      .queue_depth = 16, .write_cache = write_cache };

	assert_non_null(f);
	assert_int_equal(rts_sim_new(&sp, &f->sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, h, f->sim, &f->dev), 0);
	assert_int_equal(rts_dev_open(f->dev, false, NULL), 0);
	assert_int_equal(rts_dev_start(f->dev), 0);
	read_naa(f);
	return f;
}

static void fx_stop(struct fx *f)
{
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	assert_null(rts_dev_get_failure(f->dev));
	assert_null(rts_sim_broken_reason(f->sim));
	rts_dev_close(f->dev);
	rts_dev_free(f->dev);
	rts_sim_free(f->sim);
	free(f);
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static void rw(struct fx *f, bool write, uint64_t lba, uint32_t n, uint8_t *buf)
{
	uint8_t cdb[16] = { write ? 0x8a : 0x88 };
	struct rts_sim_completion c;

	put_be64(&cdb[2], lba);
	put_be32(&cdb[10], n);
	c = exec(f, cdb, 16, write ? RTS_SIM_TO_DEV : RTS_SIM_FROM_DEV, buf, (size_t)n * BS);
	expect_good(&c);
}

/* ------------------------------------------------------- parameter lists */

struct plist {
	uint8_t b[2048];
	size_t ncscd, nseg;
};

static void pl_cscd(struct plist *p, const uint8_t *naa)
{
	uint8_t *d = &p->b[16 + 32 * p->ncscd++];

	memset(d, 0, 32);
	d[0] = 0xe4;
	d[4] = 0x01; /* binary */
	d[5] = 0x03; /* LU, NAA */
	d[7] = 16;
	memcpy(&d[8], naa, 16);
	d[30] = BS >> 8; /* DISK BLOCK LENGTH */
}

/* Segments go after all CSCDs: add CSCDs first. */
static void pl_seg(struct plist *p, uint16_t src, uint16_t dst, uint16_t n, uint64_t slba,
		   uint64_t dlba)
{
	uint8_t *d = &p->b[16 + 32 * p->ncscd + 28 * p->nseg++];

	memset(d, 0, 28);
	d[0] = 0x02;
	put_be16(&d[2], 0x18);
	put_be16(&d[4], src);
	put_be16(&d[6], dst);
	put_be16(&d[10], n);
	put_be64(&d[12], slba);
	put_be64(&d[20], dlba);
}

/* Finish the header (LIST ID, LIST ID USAGE) and return the list's length. */
static size_t pl_done(struct plist *p, uint8_t list_id, uint8_t usage)
{
	p->b[0] = list_id;
	p->b[1] = (uint8_t)(usage << 3);
	put_be16(&p->b[2], (uint16_t)(32 * p->ncscd));
	put_be32(&p->b[8], (uint32_t)(28 * p->nseg));
	put_be32(&p->b[12], 0);
	return 16 + 32 * p->ncscd + 28 * p->nseg;
}

static struct rts_sim_completion xcopy(struct fx *f, struct plist *p, size_t len)
{
	uint8_t cdb[16] = { 0x83, 0x00 };

	put_be32(&cdb[10], (uint32_t)len);
	return exec(f, cdb, 16, RTS_SIM_TO_DEV, p->b, len);
}

/* One segment src -> dst of @n blocks, the list sent to @to. */
static struct rts_sim_completion copy1(struct fx *to, struct fx *src, struct fx *dst, uint16_t n,
				       uint64_t slba, uint64_t dlba)
{
	struct plist p = { 0 };

	pl_cscd(&p, src->naa);
	if (dst != src)
		pl_cscd(&p, dst->naa);
	pl_seg(&p, 0, dst != src ? 1 : 0, n, slba, dlba);
	return xcopy(to, &p, pl_done(&p, 0, 3));
}

/* ------------------------------------------------------------------- tests */

static void test_advertised(void **state)
{
	struct fx *f = fx_start("xc-adv", &mem_handler, true);
	uint8_t inq[6] = { 0x12, 0, 0, 0, 96, 0 }, buf[512];
	uint8_t vpd0[6] = { 0x12, 1, 0x00, 0, 255, 0 }, vpd8f[6] = { 0x12, 1, 0x8f, 1, 0, 0 };
	uint8_t rsoc[12] = { 0xa3, 0x0c, 0x02, 0x83, 0, 0, 0, 0, 2, 0, 0, 0 };
	uint8_t rcr[16] = { 0x84, 0x03 };
	struct rts_sim_completion c;
	bool has8f = false;

	(void)state;
	c = exec(f, inq, 6, RTS_SIM_FROM_DEV, buf, 96);
	expect_good(&c);
	assert_true(buf[5] & 0x08); /* 3PC */
	c = exec(f, vpd0, 6, RTS_SIM_FROM_DEV, buf, 255);
	expect_good(&c);
	for (unsigned int i = 0; i < buf[3]; i++) {
		has8f |= buf[4 + i] == 0x8f;
		if (i)
			assert_true(buf[4 + i] > buf[3 + i]); /* ascending */
	}
	assert_true(has8f);
	c = exec(f, vpd8f, 6, RTS_SIM_FROM_DEV, buf, 256);
	expect_good(&c);
	assert_int_equal(buf[1], 0x8f);
	assert_int_equal(buf[4] << 8 | buf[5], 0x0001); /* Supported Commands first */
	assert_int_equal(buf[8], 7);
	assert_int_equal(buf[9], 0x83);
	assert_int_equal(buf[12], 0x84);
	assert_int_equal(buf[13], 2);
	/* REPORT SUPPORTED OPERATION CODES: EXTENDED COPY (LID1) supported, 16 bytes */
	c = exec(f, rsoc, 12, RTS_SIM_FROM_DEV, buf, 512);
	expect_good(&c);
	assert_int_equal(buf[1] & 0x07, 3);
	assert_int_equal(buf[3], 16);
	/* OPERATING PARAMETERS: the limits the parser enforces, no inline or held data */
	put_be32(&rcr[10], 64);
	c = exec(f, rcr, 16, RTS_SIM_FROM_DEV, buf, 64);
	expect_good(&c);
	assert_int_equal(get_be32(&buf[0]), 42); /* 44 + 2 descriptor codes - 4 */
	assert_int_equal(buf[8] << 8 | buf[9], 8);   /* MAXIMUM CSCD DESCRIPTOR COUNT */
	assert_int_equal(buf[10] << 8 | buf[11], 16); /* MAXIMUM SEGMENT DESCRIPTOR COUNT */
	assert_int_equal(get_be32(&buf[12]), 1024);
	assert_int_equal(get_be32(&buf[16]), 65535u * BS);
	assert_int_equal(get_be32(&buf[20]), 0); /* inline */
	assert_int_equal(get_be32(&buf[24]), 0); /* held data */
	assert_int_equal(buf[43], 2);
	assert_int_equal(buf[44], 0x02);
	assert_int_equal(buf[45], 0xe4);
	fx_stop(f);
}

static void test_copy_same_device(void **state)
{
	struct fx *f = fx_start("xc-same", &mem_handler, false);
	static uint8_t a[3000 * BS], b[3000 * BS];
	struct rts_sim_completion c;

	(void)state;
	fill(a, sizeof(a), 1);
	rw(f, true, 0, 3000, a);
	/* 3000 blocks: three chunks through the data area */
	c = copy1(f, f, f, 3000, 0, 4000);
	expect_good(&c);
	rw(f, false, 4000, 3000, b);
	assert_memory_equal(a, b, sizeof(a));
	/* zero blocks: nothing to do */
	c = copy1(f, f, f, 0, 0, 10);
	expect_good(&c);
	fx_stop(f);
}

static void test_copy_two_devices(void **state)
{
	struct fx *x = fx_start("xc-a", &mem_handler, true);
	struct fx *y = fx_start("xc-b", &mem_handler, true);
	static uint8_t a[2500 * BS], b[2500 * BS];
	struct rts_sim_completion c;
	struct plist p = { 0 };

	(void)state;
	assert_memory_not_equal(x->naa, y->naa, 16);
	fill(a, sizeof(a), 2);
	rw(x, true, 100, 2500, a);
	/* push: sent to the source */
	c = copy1(x, x, y, 2500, 100, 5000);
	expect_good(&c);
	rw(y, false, 5000, 2500, b);
	assert_memory_equal(a, b, sizeof(a));
	/* pull: sent to the destination, back onto the first device elsewhere */
	c = copy1(y, y, x, 2500, 5000, 3000);
	expect_good(&c);
	memset(b, 0, sizeof(b));
	rw(x, false, 3000, 2500, b);
	assert_memory_equal(a, b, sizeof(a));
	/* two segments in one list, one per direction */
	pl_cscd(&p, x->naa);
	pl_cscd(&p, y->naa);
	pl_seg(&p, 0, 1, 8, 100, 0);
	pl_seg(&p, 1, 0, 8, 5000, 7000);
	c = xcopy(x, &p, pl_done(&p, 0, 3));
	expect_good(&c);
	rw(y, false, 0, 8, b);
	assert_memory_equal(a, b, 8 * BS);
	rw(x, false, 7000, 8, b);
	assert_memory_equal(a, b, 8 * BS);
	memcpy(p.b, y->naa, 16); /* keep it */
	fx_stop(y);
	/* a copy target that stopped is not reachable any more */
	{
		struct plist q = { 0 };
		uint8_t gone[16];

		memcpy(gone, p.b, 16);
		pl_cscd(&q, x->naa);
		pl_cscd(&q, gone);
		pl_seg(&q, 0, 1, 1, 0, 1);
		c = xcopy(x, &q, pl_done(&q, 0, 3));
		expect_sense(&c, 0xa, 0x0d, 0x02);
	}
	fx_stop(x);
}

static void test_copy_overlap(void **state)
{
	struct fx *f = fx_start("xc-ovl", &mem_handler, true);
	static uint8_t a[4000 * BS], b[4000 * BS];
	struct rts_sim_completion c;

	(void)state;
	fill(a, sizeof(a), 3);
	rw(f, true, 0, 4000, a);
	/* destination above the source, overlapping: behaves like memmove */
	c = copy1(f, f, f, 3000, 0, 1000);
	expect_good(&c);
	rw(f, false, 1000, 3000, b);
	assert_memory_equal(a, b, 3000 * BS);
	/* destination below the source, overlapping */
	rw(f, true, 0, 4000, a);
	c = copy1(f, f, f, 3000, 1000, 0);
	expect_good(&c);
	rw(f, false, 0, 3000, b);
	assert_memory_equal(a + 1000 * BS, b, 3000 * BS);
	fx_stop(f);
}

static void test_errors(void **state)
{
	struct fx *f = fx_start("xc-err", &mem_handler, true);
	struct rts_sim_completion c;
	struct plist p;
	uint8_t nobody[16];
	size_t len;

	(void)state;
	/* PARAMETER LIST LENGTH 0: GOOD, nothing copied */
	memset(&p, 0, sizeof(p));
	c = xcopy(f, &p, 0);
	expect_good(&c);
	/* shorter than the header; truncated descriptors */
	c = xcopy(f, &p, 8);
	expect_sense(&c, 0x5, 0x1a, 0x00);
	pl_cscd(&p, f->naa);
	pl_seg(&p, 0, 0, 8, 0, 100);
	len = pl_done(&p, 0, 3);
	c = xcopy(f, &p, len - 1);
	expect_sense(&c, 0x5, 0x1a, 0x00);
	c = xcopy(f, &p, 16 + 31);
	expect_sense(&c, 0x5, 0x1a, 0x00);
	/* inline data: we take none */
	put_be32(&p.b[12], 512);
	c = xcopy(f, &p, len);
	expect_sense(&c, 0x5, 0x1a, 0x00); /* it is counted in the length first */
	c = xcopy(f, &p, len + 512);
	expect_sense(&c, 0x5, 0x26, 0x00);
	assert_int_equal(c.sense[16] << 8 | c.sense[17], 12);
	put_be32(&p.b[12], 0);
	/* LIST ID USAGE 01b (reserved), 11b with a LIST IDENTIFIER */
	p.b[1] = 1 << 3;
	c = xcopy(f, &p, len);
	expect_sense(&c, 0x5, 0x26, 0x00);
	p.b[0] = 7;
	p.b[1] = 3 << 3;
	c = xcopy(f, &p, len);
	expect_sense(&c, 0x5, 0x26, 0x00);
	/* unsupported CSCD type (FC N_Port_Name, E0h), unsupported segment type (stream, 01h) */
	len = pl_done(&p, 0, 3);
	p.b[16] = 0xe0;
	c = xcopy(f, &p, len);
	expect_sense(&c, 0x5, 0x26, 0x07);
	p.b[16] = 0xe4;
	p.b[48] = 0x01;
	c = xcopy(f, &p, len);
	expect_sense(&c, 0x5, 0x26, 0x09);
	p.b[48] = 0x02;
	/* a wrong DESCRIPTOR LENGTH; a non-NAA designator */
	put_be16(&p.b[50], 0x14);
	put_be32(&p.b[8], 24);
	c = xcopy(f, &p, 16 + 32 + 24);
	expect_sense(&c, 0x5, 0x26, 0x00);
	put_be16(&p.b[50], 0x18);
	len = pl_done(&p, 0, 3);
	p.b[21] = 0x02; /* EUI-64 */
	c = xcopy(f, &p, len);
	expect_sense(&c, 0x5, 0x26, 0x00);
	p.b[21] = 0x03;
	/* too many CSCDs, too many segments, descriptor lists over 1024 bytes */
	memset(&p, 0, sizeof(p));
	for (int i = 0; i < 9; i++)
		pl_cscd(&p, f->naa);
	pl_seg(&p, 0, 0, 1, 0, 1);
	c = xcopy(f, &p, pl_done(&p, 0, 3));
	expect_sense(&c, 0x5, 0x26, 0x06);
	memset(&p, 0, sizeof(p));
	pl_cscd(&p, f->naa);
	for (int i = 0; i < 17; i++)
		pl_seg(&p, 0, 0, 1, 0, 1);
	c = xcopy(f, &p, pl_done(&p, 0, 3));
	expect_sense(&c, 0x5, 0x26, 0x08);
	memset(&p, 0, sizeof(p));
	for (int i = 0; i < 9; i++)
		pl_cscd(&p, f->naa);
	for (int i = 0; i < 27; i++)
		pl_seg(&p, 0, 0, 1, 0, 1);
	c = xcopy(f, &p, pl_done(&p, 0, 3));
	expect_sense(&c, 0x5, 0x1a, 0x00);
	/* a CSCD ID the list does not have; a designator no device here has; past the end */
	memset(&p, 0, sizeof(p));
	pl_cscd(&p, f->naa);
	pl_seg(&p, 0, 1, 8, 0, 100);
	c = xcopy(f, &p, pl_done(&p, 0, 3));
	expect_sense(&c, 0xa, 0x0d, 0x02);
	assert_int_equal(c.sense[15] & 0xa0, 0xa0); /* SKSV, SD: the segment pointer */
	assert_int_equal(c.sense[16] << 8 | c.sense[17], 48);
	memcpy(nobody, f->naa, 16);
	nobody[15] ^= 0xff;
	memset(&p, 0, sizeof(p));
	pl_cscd(&p, nobody);
	pl_seg(&p, 0, 0, 8, 0, 100);
	c = xcopy(f, &p, pl_done(&p, 0, 3));
	expect_sense(&c, 0xa, 0x0d, 0x02);
	c = copy1(f, f, f, 2048, 0, NBLK - 1);
	expect_sense(&c, 0xa, 0x0d, 0x02);
	c = copy1(f, f, f, 1, NBLK, 0);
	expect_sense(&c, 0xa, 0x0d, 0x02);
	/* a service action that is not LID1 */
	uint8_t lid4[16] = { 0x83, 0x01 };
	c = exec(f, lid4, 16, RTS_SIM_NONE, NULL, 0);
	expect_sense(&c, 0x5, 0x24, 0x00);
	fx_stop(f);
}

static void test_copy_status(void **state)
{
	struct fx *f = fx_start("xc-status", &mem_handler, true);
	uint8_t rcr[16] = { 0x84, 0x00, 5 }, buf[64];
	struct rts_sim_completion c;
	struct plist p = { 0 };

	(void)state;
	put_be32(&rcr[10], 64);
	c = exec(f, rcr, 16, RTS_SIM_FROM_DEV, buf, 64);
	expect_sense(&c, 0x5, 0x24, 0x00); /* no copy with LIST ID 5 */
	pl_cscd(&p, f->naa);
	pl_seg(&p, 0, 0, 16, 0, 100);
	pl_seg(&p, 0, 0, 16, 16, 200);
	c = xcopy(f, &p, pl_done(&p, 5, 0)); /* LIST ID USAGE 00b: hold the results */
	expect_good(&c);
	c = exec(f, rcr, 16, RTS_SIM_FROM_DEV, buf, 64);
	expect_good(&c);
	assert_int_equal(get_be32(&buf[0]), 8);
	assert_int_equal(buf[4] & 0x7f, 1); /* completed without errors */
	assert_int_equal(buf[5] << 8 | buf[6], 2);
	assert_int_equal(buf[7], 0); /* bytes */
	assert_int_equal(get_be32(&buf[8]), 32 * BS);
	/* reported once it ended: released */
	c = exec(f, rcr, 16, RTS_SIM_FROM_DEV, buf, 64);
	expect_sense(&c, 0x5, 0x24, 0x00);
	/* 10b: the results are not held */
	c = xcopy(f, &p, pl_done(&p, 5, 2));
	expect_good(&c);
	c = exec(f, rcr, 16, RTS_SIM_FROM_DEV, buf, 64);
	expect_sense(&c, 0x5, 0x24, 0x00);
	fx_stop(f);
}

static void test_fast_path(void **state)
{
	struct fx *x = fx_start("xc-fast-a", &fast_handler, true);
	struct fx *y = fx_start("xc-fast-b", &fast_handler, true);
	struct fx *m = fx_start("xc-fast-m", &mem_handler, true);
	static uint8_t a[3000 * BS], b[3000 * BS];
	struct rts_sim_completion c;

	(void)state;
	g_copy_calls = g_copy_declined = 0;
	fill(a, sizeof(a), 4);
	rw(x, true, 0, 3000, a);
	c = copy1(x, x, y, 3000, 0, 10);
	expect_good(&c);
	assert_int_equal(g_copy_calls, 1); /* the whole segment in one call */
	rw(y, false, 10, 3000, b);
	assert_memory_equal(a, b, sizeof(b));
	/* overlapping on one device, destination above: copied back to front by the core
	 * (never offered); destination below: offered, declined, copied through the data area */
	c = copy1(x, x, x, 3000, 0, 5);
	expect_good(&c);
	rw(x, false, 5, 3000, b);
	assert_memory_equal(a, b, sizeof(b));
	assert_int_equal(g_copy_declined, 0);
	c = copy1(x, x, x, 3000, 5, 0);
	expect_good(&c);
	rw(x, false, 0, 3000, b);
	assert_memory_equal(a, b, sizeof(b));
	assert_int_equal(g_copy_declined, 1);
	/* from a device of another handler: declined, copied through the data area */
	rw(m, true, 0, 3000, a);
	c = copy1(y, m, y, 3000, 0, 4000);
	expect_good(&c);
	assert_int_equal(g_copy_declined, 2);
	assert_int_equal(g_copy_calls, 1);
	rw(y, false, 4000, 3000, b);
	assert_memory_equal(a, b, sizeof(b));
	fx_stop(m);
	fx_stop(y);
	fx_stop(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_advertised),
		cmocka_unit_test(test_copy_same_device),
		cmocka_unit_test(test_copy_two_devices),
		cmocka_unit_test(test_copy_overlap),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_copy_status),
		cmocka_unit_test(test_fast_path),
	};

	return cmocka_run_group_tests_name("xcopy", tests, NULL, NULL);
}
