/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcmu/dev.c + tcmu/dispatch.c end to end: a device served by its I/O thread, the ring
 * simulator playing the kernel, and handlers defined here (memory-backed, failing with a
 * chosen errno, or "gated": operations complete only when the test releases them, from
 * another thread, through rts_cmd_complete_async).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <liburing.h>
#include <rts/device.h>

#define BS 512u
#define NBLK 8192u /* 4 MiB */
#define TMO 5000

#include "harness.h"

/* ------------------------------------------------------------ test handlers */

static uint8_t g_mem[NBLK * BS];
static int g_fail_err;        /* errno the "err" handler fails reads/writes with */
static unsigned int g_flushes;
static unsigned int g_writes_fua;

static void mem_copy(const struct iovec *iov, unsigned int cnt, uint64_t off, uint64_t len,
		     bool to_mem)
{
	for (unsigned int i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;
		if (to_mem)
			memcpy(g_mem + off, iov[i].iov_base, n);
		else
			memcpy(iov[i].iov_base, g_mem + off, n);
		off += n;
		len -= n;
	}
}

static int mem_open(struct rts_dev *dev, bool reopen)
{
	(void)reopen;
	rts_dev_set_num_lbas(dev, NBLK);
	rts_dev_set_thin_provisioning(dev, true, 8);
	return 0;
}

static int mem_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		    unsigned int cnt, uint64_t off, uint64_t len)
{
	(void)dev;
	if (g_fail_err)
		return -g_fail_err;
	mem_copy(iov, cnt, off, len, false);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int mem_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int cnt, uint64_t off, uint64_t len, unsigned int flags)
{
	(void)dev;
	if (g_fail_err) {
		/* asynchronous failure path: complete with the error */
		rts_cmd_complete(cmd, -g_fail_err);
		return 0;
	}
	if (flags & RTS_IO_FUA)
		g_writes_fua++;
	mem_copy(iov, cnt, off, len, true);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int mem_flush(struct rts_dev *dev, struct rts_cmd *cmd)
{
	(void)dev;
	g_flushes++;
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int mem_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len)
{
	(void)dev;
	memset(g_mem + off, 0, len);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int mem_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	if (rc->what & ~(uint32_t)(RTS_RECONFIG_SIZE | RTS_RECONFIG_WRITE_CACHE))
		return -EOPNOTSUPP;
	if (rc->what & RTS_RECONFIG_SIZE) {
		if (rc->size > sizeof(g_mem))
			return -ENOSPC;
		rts_dev_set_num_lbas(dev, rc->size / BS);
	}
	return 0;
}

static const struct rts_handler mem_handler = {
	RTS_HANDLER_INIT,
	.name = "test memory",
	.subtype = "mem",
	.reconfig = mem_reconfig,
	.open = mem_open,
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.unmap = mem_unmap,
};

/* Gated: every operation waits in a queue until the test releases it. */
struct gate_op {
	struct rts_cmd *cmd;
	bool write;
	const struct iovec *iov;
	unsigned int cnt;
	uint64_t off, len;
};
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gate_op g_ops[64];
static unsigned int g_nops;

static int gate_queue(struct rts_cmd *cmd, bool write, const struct iovec *iov, unsigned int cnt,
		      uint64_t off, uint64_t len)
{
	pthread_mutex_lock(&g_lock);
	g_ops[g_nops++] = (struct gate_op){ cmd, write, iov, cnt, off, len };
	pthread_mutex_unlock(&g_lock);
	return 0;
}

static int gate_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int cnt, uint64_t off, uint64_t len)
{
	(void)dev;
	return gate_queue(cmd, false, iov, cnt, off, len);
}

static int gate_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		      unsigned int cnt, uint64_t off, uint64_t len, unsigned int flags)
{
	(void)dev;
	(void)flags;
	return gate_queue(cmd, true, iov, cnt, off, len);
}

static const struct rts_handler gate_handler = {
	RTS_HANDLER_INIT,
	.name = "test gate",
	.subtype = "gate",
	.flags = RTS_HANDLER_F_FUA,
	.open = mem_open,
	.read = gate_read,
	.write = gate_write,
};

static unsigned int gate_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&g_lock);
	n = g_nops;
	pthread_mutex_unlock(&g_lock);
	return n;
}

/* Wait until @n operations are queued (the I/O thread runs concurrently). */
static void gate_wait(unsigned int n)
{
	for (int i = 0; i < 5000 && gate_count() < n; i++)
		usleep(1000);
	assert_int_equal(gate_count(), n);
}

/* Perform and complete the oldest queued operation from this (foreign) thread. */
static struct gate_op gate_release(void)
{
	struct gate_op op;

	pthread_mutex_lock(&g_lock);
	assert_true(g_nops > 0);
	op = g_ops[0];
	memmove(g_ops, g_ops + 1, --g_nops * sizeof(g_ops[0]));
	pthread_mutex_unlock(&g_lock);
	mem_copy(op.iov, op.cnt, op.off, op.len, op.write);
	rts_cmd_complete_async(op.cmd, 0);
	return op;
}

/* Stuck: reads wait on io_uring for a pipe that never becomes readable (a hung backend). */
static int g_pipe[2] = { -1, -1 };
static int g_stuck_res = 1; /* io_done's res, 1 = not seen */

static int stuck_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		      unsigned int cnt, uint64_t off, uint64_t len)
{
	struct io_uring_sqe *sqe = rts_dev_get_sqe(dev, cmd, 7);

	(void)iov;
	(void)cnt;
	(void)off;
	(void)len;
	if (!sqe)
		return -EBUSY;
	io_uring_prep_poll_add(sqe, g_pipe[0], POLLIN);
	return 0;
}

static void stuck_io_done(struct rts_dev *dev, struct rts_cmd *cmd, uint16_t tag, int res)
{
	(void)dev;
	assert_int_equal(tag, 7);
	__atomic_store_n(&g_stuck_res, res, __ATOMIC_RELEASE);
	rts_cmd_complete(cmd, res < 0 ? res : 0);
}

static const struct rts_handler stuck_handler = {
	RTS_HANDLER_INIT,
	.name = "test stuck",
	.subtype = "stuck",
	.open = mem_open,
	.read = stuck_read,
	.write = gate_write,
	.io_done = stuck_io_done,
};

/* ------------------------------------------------------------------ fixture */

struct fx {
	struct rts_sim *sim;
	struct rts_dev *dev;
};

static struct fx *fx_start_xfer(const struct rts_handler *h, uint32_t cmdr_size,
				uint32_t max_iov_blocks, uint32_t max_xfer_blocks)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct rts_sim_params sp = { .cmdr_size = cmdr_size, .data_size = 8 << 20,
				     .max_iov_blocks = max_iov_blocks };
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "t0", .cfgstring = h->subtype, .block_size = BS,
				      .queue_depth = 32, .write_cache = true,
				      .max_xfer_blocks = max_xfer_blocks };

	assert_non_null(f);
	memset(g_mem, 0, sizeof(g_mem));
	g_fail_err = 0;
	g_flushes = 0;
	g_writes_fua = 0;
	g_nops = 0;
	assert_int_equal(rts_sim_new(&sp, &f->sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, h, f->sim, &f->dev), 0);
	assert_int_equal(rts_dev_open(f->dev, false, NULL), 0);
	assert_int_equal(rts_dev_start(f->dev), 0);
	return f;
}

static struct fx *fx_start(const struct rts_handler *h, uint32_t cmdr_size, uint32_t max_iov_blocks)
{
	return fx_start_xfer(h, cmdr_size, max_iov_blocks, 0);
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

static struct rts_sim_completion exec(struct fx *f, const uint8_t *cdb, size_t len,
				      enum rts_sim_dir dir, void *buf, size_t n)
{
	struct rts_sim_completion c;

	assert_int_equal(rts_sim_exec(f->sim, cdb, len, dir, buf, n, TMO, &c), 0);
	return c;
}

static void expect_sense(const struct rts_sim_completion *c, uint8_t key, uint8_t asc, uint8_t ascq)
{
	assert_int_equal(c->status, 2);
	assert_int_equal(c->sense[0] & 0x7f, 0x70);
	assert_int_equal(c->sense[2] & 0xf, key);
	assert_int_equal(c->sense[12], asc);
	assert_int_equal(c->sense[13], ascq);
}

/* -------------------------------------------------------------------- tests */

struct io_slot {
	uint8_t buf[16 * BS];
	uint64_t lba;
	uint32_t n;
	bool write;
};

static void io_done_cb(void *ud, const struct rts_sim_completion *c)
{
	unsigned int *bad = ud;

	if (c->status != 0)
		(*bad)++;
}

/* Random reads and writes at queue depth 16 through a small ring (entries wrap and PAD
 * often) with every 4 KiB data block in its own iovec; then everything read back. */
static void test_integrity_qd_wrap(void **state)
{
	struct fx *f = fx_start(&mem_handler, 4000, 1);
	static uint8_t model[NBLK * BS];
	static struct io_slot slots[16];
	uint64_t x = 12345;
	unsigned int bad = 0;

	(void)state;
	memset(model, 0, sizeof(model));
	for (int round = 0; round < 150; round++) {
		for (int i = 0; i < 16; i++) {
			struct io_slot *s = &slots[i];
			uint8_t cdb[16];

			x = x * 6364136223846793005ull + 1442695040888963407ull;
			s->n = 1 + (uint32_t)(x >> 33) % 16;
			s->lba = (uint64_t)i * (NBLK / 16) + (x >> 40) % (NBLK / 16 - 16);
			s->write = round % 2 == 0;
			if (s->write)
				for (uint32_t k = 0; k < s->n * BS; k++)
					s->buf[k] = (uint8_t)(x >> (k % 7) ^ k ^ (unsigned int)round);
			rw16(cdb, s->write ? 0x8a : 0x88, s->lba, s->n);
			assert_int_equal(rts_sim_submit(f->sim, cdb, 16,
							s->write ? RTS_SIM_TO_DEV : RTS_SIM_FROM_DEV,
							s->buf, s->n * BS, s, NULL),
					 0);
			if (s->write)
				memcpy(model + s->lba * BS, s->buf, s->n * BS);
		}
		assert_int_equal(rts_sim_kick(f->sim), 0);
		while (rts_sim_outstanding(f->sim)) {
			assert_true(rts_sim_wait(f->sim, TMO) >= 0);
			assert_true(rts_sim_reap(f->sim, io_done_cb, &bad) >= 0);
		}
		for (int i = 0; i < 16 && !slots[i].write; i++)
			assert_memory_equal(slots[i].buf, model + slots[i].lba * BS, slots[i].n * BS);
	}
	assert_int_equal(bad, 0);
	assert_memory_equal(g_mem, model, sizeof(model));
	struct rts_dev_stats st = { .struct_size = sizeof(st) };
	rts_dev_get_stats(f->dev, &st);
	assert_int_equal(st.cmds, 150 * 16);
	assert_int_equal(st.completions, 150 * 16);
	assert_true(st.kicks < st.completions); /* batched */
	fx_stop(f);
}

static void test_emulated_and_range_errors(void **state)
{
	struct fx *f = fx_start(&mem_handler, 0, 0);
	uint8_t cdb[16], buf[4096];
	struct rts_sim_completion c;

	(void)state;
	memset(cdb, 0, 6); /* TEST UNIT READY */
	c = exec(f, cdb, 6, RTS_SIM_NONE, NULL, 0);
	assert_int_equal(c.status, 0);
	cdb[0] = 0x12; /* INQUIRY, allocation length 5 of a 96-byte buffer */
	cdb[4] = 5;
	memset(buf, 0xee, sizeof(buf));
	c = exec(f, cdb, 6, RTS_SIM_FROM_DEV, buf, 96);
	assert_int_equal(c.status, 0);
	assert_true(c.uflags & 0x2); /* TCMU_UFLAG_READ_LEN */
	assert_int_equal(c.read_len, 5);
	assert_int_equal(buf[5], 0xee);
	/*
	 * Allocation length 0: the kernel ignores READ_LEN 0 and sends the whole buffer, so it
	 * must be zeros, not what earlier WRITEs left in the data area (8 MiB of 0xab written in
	 * 4 KiB commands: every data block of the simulator's round-robin allocator is dirty).
	 */
	memset(buf, 0xab, sizeof(buf));
	for (unsigned int i = 0; i < (8u << 20) / sizeof(buf); i++) {
		rw16(cdb, 0x8a, 0, sizeof(buf) / BS);
		c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, sizeof(buf));
		assert_int_equal(c.status, 0);
	}
	memset(cdb, 0, 16);
	cdb[0] = 0x12;
	memset(buf, 0xee, sizeof(buf));
	c = exec(f, cdb, 6, RTS_SIM_FROM_DEV, buf, 96);
	assert_int_equal(c.status, 0);
	assert_int_equal(c.data_len, 96);
	for (int i = 0; i < 96; i++)
		assert_int_equal(buf[i], 0);
	/* READ of 0 blocks with a buffer: zeros too */
	rw16(cdb, 0x88, 0, 0);
	memset(buf, 0xee, sizeof(buf));
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, BS);
	assert_int_equal(c.status, 0);
	for (unsigned int i = 0; i < BS; i++)
		assert_int_equal(buf[i], 0);
	/* READ of 1 block into a larger buffer: READ_LEN says 1 block, the rest is residual */
	rw16(cdb, 0x88, 0, 1);
	memset(buf, 0xee, sizeof(buf));
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, 3 * BS);
	assert_int_equal(c.status, 0);
	assert_true(c.uflags & 0x2); /* TCMU_UFLAG_READ_LEN */
	assert_int_equal(c.read_len, BS);
	assert_int_equal(c.data_len, BS);
	assert_int_equal(buf[BS], 0xee);
	memset(cdb, 0, 16); /* READ CAPACITY(10) */
	cdb[0] = 0x25;
	c = exec(f, cdb, 10, RTS_SIM_FROM_DEV, buf, 8);
	assert_int_equal(get_be32(buf), NBLK - 1);
	assert_int_equal(get_be32(buf + 4), BS);
	rw16(cdb, 0x88, NBLK - 1, 2); /* crosses the end */
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, 2 * BS);
	expect_sense(&c, 5, 0x21, 0);
	rw16(cdb, 0x88, NBLK - 1, 1); /* last block is fine */
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, BS);
	assert_int_equal(c.status, 0);
	rw16(cdb, 0x8a, 0, 8); /* WRITE of 8 blocks with a 1-block buffer: refused, not overread */
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, BS);
	expect_sense(&c, 5, 0x24, 0);
	/* READ of 8 blocks with a 1-block buffer (an underflow LIO passes on): the block it holds */
	rw16(cdb, 0x88, 0, 1);
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf + BS, BS);
	assert_int_equal(c.status, 0);
	rw16(cdb, 0x88, 0, 8);
	memset(buf, 0xee, BS);
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, BS);
	assert_int_equal(c.status, 0);
	assert_memory_equal(buf, buf + BS, BS);
	/* a buffer ending inside a block gets what fits of the blocks it touches */
	rw16(cdb, 0x88, 0, 2);
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf + 2 * BS, 2 * BS);
	assert_int_equal(c.status, 0);
	rw16(cdb, 0x88, 0, 8);
	memset(buf, 0xee, 2 * BS);
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, BS + 100);
	assert_int_equal(c.status, 0);
	assert_int_equal(c.data_len, BS + 100);
	assert_memory_equal(buf, buf + 2 * BS, BS + 100);
	assert_int_equal(buf[BS + 100], 0xee);
	memset(cdb, 0, 16);
	cdb[0] = 0xd0; /* vendor specific: unknown */
	c = exec(f, cdb, 16, RTS_SIM_NONE, NULL, 0);
	expect_sense(&c, 5, 0x20, 0);
	fx_stop(f);
}

static void expect_errno_sense(int err, bool write, uint8_t status, uint8_t key, uint8_t asc,
			       uint8_t ascq)
{
	struct fx *f = fx_start(&mem_handler, 0, 0);
	uint8_t cdb[16], buf[BS];
	struct rts_sim_completion c;

	g_fail_err = err;
	rw16(cdb, write ? 0x8a : 0x88, 7, 1);
	c = exec(f, cdb, 16, write ? RTS_SIM_TO_DEV : RTS_SIM_FROM_DEV, buf, BS);
	assert_int_equal(c.status, status);
	if (status == 2)
		expect_sense(&c, key, asc, ascq);
	g_fail_err = 0;
	fx_stop(f);
}

static void test_errno_to_sense(void **state)
{
	(void)state;
	expect_errno_sense(EIO, false, 2, 0x3, 0x11, 0x00);   /* UNRECOVERED READ ERROR */
	expect_errno_sense(EIO, true, 2, 0x3, 0x0c, 0x00);    /* WRITE ERROR */
	expect_errno_sense(ENOSPC, true, 2, 0x7, 0x27, 0x07); /* SPACE ALLOCATION FAILED */
	expect_errno_sense(EROFS, true, 2, 0x7, 0x27, 0x00);  /* WRITE PROTECTED */
	expect_errno_sense(ENOMEM, false, 0x28, 0, 0, 0);      /* TASK SET FULL */
	expect_errno_sense(EBUSY, false, 0x08, 0, 0, 0);       /* BUSY */
	expect_errno_sense(ENOTCONN, false, 2, 0x2, 0x08, 0x00);
	expect_errno_sense(EOVERFLOW, false, 2, 0x4, 0x44, 0x00); /* INTERNAL TARGET FAILURE */
}

static void test_fua_sync_write_same_unmap_verify(void **state)
{
	struct fx *f = fx_start(&mem_handler, 0, 0);
	static uint8_t buf[3000 * BS];
	uint8_t cdb[16], blk[BS];
	struct rts_sim_completion c;

	(void)state;
	/* WRITE(16) with FUA: the handler lacks RTS_HANDLER_F_FUA, so the core flushes after. */
	memset(blk, 0x42, BS);
	rw16(cdb, 0x8a, 3, 1);
	cdb[1] = 0x08;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, blk, BS);
	assert_int_equal(c.status, 0);
	assert_int_equal(g_flushes, 1);
	assert_int_equal(g_writes_fua, 0);
	memset(cdb, 0, 16);
	cdb[0] = 0x35; /* SYNCHRONIZE CACHE(10) */
	c = exec(f, cdb, 10, RTS_SIM_NONE, NULL, 0);
	assert_int_equal(c.status, 0);
	assert_int_equal(g_flushes, 2);

	/* WRITE SAME(16) of one 0x5a block over 3000 blocks (more than one 1 MiB chunk). */
	memset(blk, 0x5a, BS);
	rw16(cdb, 0x93, 100, 3000);
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, blk, BS);
	assert_int_equal(c.status, 0);
	for (size_t i = 0; i < 3000 * BS; i++)
		if (g_mem[100 * BS + i] != 0x5a)
			fail_msg("byte %zu not written by WRITE SAME", i);
	assert_int_equal(g_mem[99 * BS + BS - 1], 0);
	assert_int_equal(g_mem[3100 * BS], 0);
	/* VERIFY(16) BYTCHK=01b: matching, then one byte off → MISCOMPARE at that offset */
	memset(buf, 0x5a, 8 * BS);
	rw16(cdb, 0x8f, 100, 8);
	cdb[1] = 0x02;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 8 * BS);
	assert_int_equal(c.status, 0);
	buf[5 * BS + 3] ^= 1;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 8 * BS);
	expect_sense(&c, 0xe, 0x1d, 0);
	assert_true(c.sense[0] & 0x80);
	assert_int_equal(get_be32(c.sense + 3), 5 * BS + 3);
	/* WRITE SAME(16) with UNMAP and a zero block: deallocated, reads zeros. */
	memset(blk, 0, BS);
	rw16(cdb, 0x93, 100, 1000);
	cdb[1] = 0x08;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, blk, BS);
	assert_int_equal(c.status, 0);
	assert_int_equal(g_mem[100 * BS], 0);
	assert_int_equal(g_mem[1100 * BS], 0x5a);
	/* UNMAP two ranges. */
	uint8_t pl[8 + 32] = { 0, 38, 0, 32 };
	put_be32(pl + 8 + 4, 1100);
	put_be32(pl + 8 + 8, 100);
	put_be32(pl + 24 + 4, 3000);
	put_be32(pl + 24 + 8, 100);
	memset(cdb, 0, 16);
	cdb[0] = 0x42;
	cdb[8] = sizeof(pl);
	c = exec(f, cdb, 10, RTS_SIM_TO_DEV, pl, sizeof(pl));
	assert_int_equal(c.status, 0);
	assert_int_equal(g_mem[1100 * BS], 0);
	assert_int_equal(g_mem[1199 * BS + BS - 1], 0);
	assert_int_equal(g_mem[1200 * BS], 0x5a);
	assert_int_equal(g_mem[3099 * BS], 0);
	/* UNMAP descriptor past the end */
	put_be32(pl + 24 + 4, NBLK - 10);
	c = exec(f, cdb, 10, RTS_SIM_TO_DEV, pl, sizeof(pl));
	expect_sense(&c, 5, 0x21, 0);
	fx_stop(f);
}

static void test_caw_miscompare_offset(void **state)
{
	struct fx *f = fx_start(&mem_handler, 0, 0);
	uint8_t cdb[16], buf[2 * BS];
	struct rts_sim_completion c;

	(void)state;
	memset(g_mem + 9 * BS, 0x11, BS);
	memset(buf, 0x11, BS);
	memset(buf + BS, 0x22, BS);
	memset(cdb, 0, 16);
	cdb[0] = 0x89;
	put_be32(cdb + 6, 9);
	cdb[13] = 1;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 2 * BS);
	assert_int_equal(c.status, 0);
	assert_int_equal(g_mem[9 * BS + 100], 0x22);
	/* the medium now holds 0x22: compare data 0x11 differs at byte 0; make it differ at 77 */
	memset(buf, 0x22, BS);
	buf[77] = 0;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 2 * BS);
	expect_sense(&c, 0xe, 0x1d, 0);
	assert_int_equal(get_be32(c.sense + 3), 77);
	assert_int_equal(g_mem[9 * BS + 77], 0x22); /* nothing written */
	fx_stop(f);
}

/* VPD B0h MAXIMUM TRANSFER LENGTH as the device reports it. */
static uint32_t block_limits_max_xfer(struct fx *f)
{
	uint8_t cdb[6] = { 0x12, 0x01, 0xb0, 0, 64, 0 }, vpd[64];
	struct rts_sim_completion c = exec(f, cdb, 6, RTS_SIM_FROM_DEV, vpd, sizeof(vpd));

	assert_int_equal(c.status, 0);
	assert_int_equal(vpd[1], 0xb0);
	return get_be32(vpd + 8);
}

static void expect_invalid_field(const struct rts_sim_completion *c, uint16_t field)
{
	expect_sense(c, 5, 0x24, 0);
	assert_int_equal(c->sense[15], 0x80 | 0x40); /* SKSV, C/D = CDB, no bit pointer */
	assert_int_equal(c->sense[16] << 8 | c->sense[17], field);
}

/*
 * Nobody set a limit: the device serves (and advertises) what its 8 MiB data area holds,
 * far above the kernel's unenforced default of 128 sectors; beyond that INVALID FIELD IN
 * CDB (transfer length before LBA range, SBC-4), and a large transfer past the end is
 * LBA OUT OF RANGE.
 */
static void test_max_xfer_from_data_area(void **state)
{
	struct fx *f = fx_start(&mem_handler, 0, 0);
	static uint8_t big[2048 * BS];
	uint8_t cdb[16];
	struct rts_sim_completion c;

	(void)state;
	assert_int_equal(block_limits_max_xfer(f), (8u << 20) / BS);
	assert_int_equal(rts_dev_get_max_xfer_blocks(f->dev), (8u << 20) / BS);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + i / BS);
	rw16(cdb, 0x8a, 100, 2048); /* WRITE(16) 1 MiB */
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, big, sizeof(big));
	assert_int_equal(c.status, 0);
	assert_memory_equal(g_mem + 100 * BS, big, sizeof(big));
	memset(big, 0, sizeof(big));
	cdb[0] = 0x88; /* READ(16) 1 MiB back */
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, big, sizeof(big));
	assert_int_equal(c.status, 0);
	assert_memory_equal(g_mem + 100 * BS, big, sizeof(big));
	/* READ(10) of 256 blocks crossing the end: LBA OUT OF RANGE, not INVALID FIELD */
	memset(cdb, 0, 16);
	cdb[0] = 0x28;
	put_be32(cdb + 2, NBLK - 100);
	cdb[7] = 1; /* 256 */
	c = exec(f, cdb, 10, RTS_SIM_FROM_DEV, big, 256 * BS);
	expect_sense(&c, 5, 0x21, 0);
	/* one block more than the data area can hold: the length field is pointed at */
	rw16(cdb, 0x88, 0, (8u << 20) / BS + 1);
	c = exec(f, cdb, 16, RTS_SIM_NONE, NULL, 0);
	expect_invalid_field(&c, 10);
	/* ... and it wins over the LBA range (checked first) */
	rw16(cdb, 0x88, NBLK, (8u << 20) / BS + 1);
	c = exec(f, cdb, 16, RTS_SIM_NONE, NULL, 0);
	expect_invalid_field(&c, 10);
	fx_stop(f);
}

/* An explicit limit (hw_max_sectors an administrator set) is advertised and enforced. */
static void test_max_xfer_explicit(void **state)
{
	struct fx *f = fx_start_xfer(&mem_handler, 0, 0, 64);
	static uint8_t buf[65 * BS];
	uint8_t cdb[16];
	struct rts_sim_completion c;

	(void)state;
	assert_int_equal(block_limits_max_xfer(f), 64);
	rw16(cdb, 0x88, 0, 64);
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, 64 * BS);
	assert_int_equal(c.status, 0);
	rw16(cdb, 0x88, 0, 65);
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, 65 * BS);
	expect_invalid_field(&c, 10);
	memset(cdb, 0, 16); /* WRITE AND VERIFY(10): same limit, TRANSFER LENGTH at byte 7 */
	cdb[0] = 0x2e;
	cdb[8] = 65;
	c = exec(f, cdb, 10, RTS_SIM_TO_DEV, buf, 65 * BS);
	expect_invalid_field(&c, 7);
	memset(cdb, 0, 16); /* VERIFY(10) without BYTCHK transfers nothing, still limited */
	cdb[0] = 0x2f;
	cdb[8] = 65;
	c = exec(f, cdb, 10, RTS_SIM_NONE, NULL, 0);
	expect_invalid_field(&c, 7);
	fx_stop(f);
	/* larger than the data area: the data area wins */
	f = fx_start_xfer(&mem_handler, 0, 0, 1u << 30);
	assert_int_equal(block_limits_max_xfer(f), (8u << 20) / BS);
	fx_stop(f);
}

/* A handler's own limit (rts_dev_set_max_xfer_blocks in open) caps the advertised one. */
static int limited_open(struct rts_dev *dev, bool reopen)
{
	rts_dev_set_max_xfer_blocks(dev, 300);
	return mem_open(dev, reopen);
}

static const struct rts_handler limited_handler = {
	RTS_HANDLER_INIT,
	.name = "test memory, 300-block transfers",
	.subtype = "lim",
	.open = limited_open,
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.unmap = mem_unmap,
};

static void test_max_xfer_handler_limit(void **state)
{
	struct fx *f = fx_start_xfer(&limited_handler, 0, 0, 1000);
	static uint8_t buf[301 * BS];
	uint8_t cdb[16];
	struct rts_sim_completion c;

	(void)state;
	assert_int_equal(block_limits_max_xfer(f), 300);
	rw16(cdb, 0x8a, 0, 300);
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 300 * BS);
	assert_int_equal(c.status, 0);
	rw16(cdb, 0x8a, 0, 301);
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 301 * BS);
	expect_invalid_field(&c, 10);
	fx_stop(f);
	/* an explicit limit below the handler's wins */
	f = fx_start_xfer(&limited_handler, 0, 0, 200);
	assert_int_equal(block_limits_max_xfer(f), 200);
	fx_stop(f);
}

/*
 * COMPARE AND WRITE field checks: NUMBER OF LOGICAL BLOCKS above MAXIMUM COMPARE AND WRITE
 * LENGTH (1) and a Data-Out length other than twice the blocks are INVALID FIELD IN CDB
 * (never a medium error); 0 blocks is a no-op; past the end is LBA OUT OF RANGE; the range
 * check comes after the length check.
 */
static void test_caw_field_checks(void **state)
{
	struct fx *f = fx_start(&mem_handler, 0, 0);
	uint8_t cdb[16], buf[4 * BS];
	struct rts_sim_completion c;

	(void)state;
	memset(buf, 0, 2 * BS);
	memset(buf + 2 * BS, 0x77, 2 * BS);
	memset(cdb, 0, 16);
	cdb[0] = 0x89;
	put_be32(cdb + 6, 9);
	cdb[13] = 2;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 4 * BS);
	expect_invalid_field(&c, 13);
	assert_int_equal(g_mem[9 * BS], 0);
	cdb[13] = 255;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 4 * BS);
	expect_invalid_field(&c, 13);
	/* too long past the end: the length is checked first */
	put_be32(cdb + 6, NBLK);
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 4 * BS);
	expect_invalid_field(&c, 13);
	cdb[13] = 1;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 2 * BS);
	expect_sense(&c, 5, 0x21, 0);
	/* Data-Out of 1 or 3 blocks for 1 block */
	put_be32(cdb + 6, 9);
	memset(buf + BS, 0x77, BS);
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, BS);
	expect_invalid_field(&c, 13);
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 3 * BS);
	expect_invalid_field(&c, 13);
	assert_int_equal(g_mem[9 * BS], 0);
	/* 0 blocks: GOOD, nothing read or written; but 0 blocks with Data-Out (libiscsi's
	 * 256 blocks in a one-byte field) disagree with the data: INVALID FIELD IN CDB */
	cdb[13] = 0;
	c = exec(f, cdb, 16, RTS_SIM_NONE, NULL, 0);
	assert_int_equal(c.status, 0);
	assert_int_equal(g_mem[9 * BS], 0);
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 2 * BS);
	expect_invalid_field(&c, 13);
	assert_int_equal(g_mem[9 * BS], 0);
	/* and the right length works */
	cdb[13] = 1;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 2 * BS);
	assert_int_equal(c.status, 0);
	assert_int_equal(g_mem[9 * BS + 511], 0x77);
	/* PROTECT bits (a CDB field) come before the length */
	cdb[1] = 0x20;
	cdb[13] = 2;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 4 * BS);
	expect_sense(&c, 5, 0x24, 0);
	assert_int_equal(c.sense[16] << 8 | c.sense[17], 1);
	fx_stop(f);
}

/* PRE-FETCH reads the range through the handler and answers CONDITION MET; VERIFY(12) and
 * WRITE AND VERIFY(12) go the same way as their 10/16-byte forms. */
static unsigned int g_reads;

static int count_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		      unsigned int cnt, uint64_t off, uint64_t len)
{
	g_reads++;
	return mem_read(dev, cmd, iov, cnt, off, len);
}

static const struct rts_handler count_handler = {
	RTS_HANDLER_INIT,
	.name = "test memory, counting reads",
	.subtype = "cnt",
	.open = mem_open,
	.read = count_read,
	.write = mem_write,
	.flush = mem_flush,
	.unmap = mem_unmap,
};

static void test_prefetch_verify12(void **state)
{
	struct fx *f = fx_start(&count_handler, 0, 0);
	uint8_t cdb[16], buf[8 * BS];
	struct rts_sim_completion c;

	(void)state;
	g_reads = 0;
	memset(cdb, 0, 16);
	cdb[0] = 0x34; /* PRE-FETCH(10) 3000 blocks: more than one chunk */
	put_be32(cdb + 2, 10);
	cdb[7] = 3000 >> 8;
	cdb[8] = 3000 & 0xff;
	c = exec(f, cdb, 10, RTS_SIM_NONE, NULL, 0);
	assert_int_equal(c.status, 0x04); /* CONDITION MET */
	assert_int_equal(g_reads, 2);
	cdb[1] = 0x02; /* IMMED: status at once, nothing read */
	c = exec(f, cdb, 10, RTS_SIM_NONE, NULL, 0);
	assert_int_equal(c.status, 0x04);
	assert_int_equal(g_reads, 2);
	rw16(cdb, 0x90, 0, 0); /* PRE-FETCH(16) to the end: GOOD, nothing read */
	c = exec(f, cdb, 16, RTS_SIM_NONE, NULL, 0);
	assert_int_equal(c.status, 0);
	assert_int_equal(g_reads, 2);
	rw16(cdb, 0x90, NBLK - 1, 2);
	c = exec(f, cdb, 16, RTS_SIM_NONE, NULL, 0);
	expect_sense(&c, 5, 0x21, 0);
	struct rts_dev_stats st = { .struct_size = sizeof(st) };
	rts_dev_get_stats(f->dev, &st);
	assert_int_equal(st.errors, 1); /* CONDITION MET is not an error */

	/* WRITE AND VERIFY(12) then VERIFY(12) BYTCHK=1 with one byte off */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13);
	memset(cdb, 0, 16);
	cdb[0] = 0xae;
	cdb[1] = 0x02;
	put_be32(cdb + 2, 50);
	put_be32(cdb + 6, 8);
	c = exec(f, cdb, 12, RTS_SIM_TO_DEV, buf, sizeof(buf));
	assert_int_equal(c.status, 0);
	assert_memory_equal(g_mem + 50 * BS, buf, sizeof(buf));
	cdb[0] = 0xaf;
	c = exec(f, cdb, 12, RTS_SIM_TO_DEV, buf, sizeof(buf));
	assert_int_equal(c.status, 0);
	buf[3 * BS + 9] ^= 0x40;
	c = exec(f, cdb, 12, RTS_SIM_TO_DEV, buf, sizeof(buf));
	expect_sense(&c, 0xe, 0x1d, 0);
	assert_int_equal(get_be32(c.sense + 3), 3 * BS + 9);
	fx_stop(f);
}

/* GET LBA STATUS through the handler's map: here a block is mapped when it holds data. */
static bool blk_mapped(uint64_t b)
{
	for (uint32_t i = 0; i < BS; i++)
		if (g_mem[b * BS + i])
			return true;
	return false;
}

static int map_get_lba_status(struct rts_dev *dev, uint64_t off, uint64_t *len)
{
	uint64_t b = off / BS, end = b + *len / BS, e = b + 1;
	bool m = blk_mapped(b);

	(void)dev;
	while (e < end && blk_mapped(e) == m)
		e++;
	*len = (e - b) * BS;
	return m;
}

static const struct rts_handler map_handler = {
	RTS_HANDLER_INIT,
	.name = "test memory with an allocation map",
	.subtype = "map",
	.open = mem_open,
	.read = mem_read,
	.write = mem_write,
	.flush = mem_flush,
	.unmap = mem_unmap,
	.get_lba_status = map_get_lba_status,
};

static void get_lba_status_cdb(uint8_t *cdb, uint64_t lba, uint32_t alloc)
{
	memset(cdb, 0, 16);
	cdb[0] = 0x9e;
	cdb[1] = 0x12;
	put_be32(cdb + 2, (uint32_t)(lba >> 32));
	put_be32(cdb + 6, (uint32_t)lba);
	put_be32(cdb + 10, alloc);
}

static void test_get_lba_status(void **state)
{
	struct fx *f = fx_start(&map_handler, 0, 0);
	uint8_t cdb[16], buf[8 + 16 * 8], blk[4 * BS];
	struct rts_sim_completion c;

	(void)state;
	memset(blk, 0x5a, sizeof(blk));
	rw16(cdb, 0x8a, 100, 4); /* blocks 100-103 mapped, the rest deallocated */
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, blk, sizeof(blk));
	assert_int_equal(c.status, 0);
	get_lba_status_cdb(cdb, 10, sizeof(buf));
	memset(buf, 0xee, sizeof(buf));
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, sizeof(buf));
	assert_int_equal(c.status, 0);
	assert_int_equal(get_be32(buf), 4 + 3 * 16); /* three extents */
	assert_int_equal(get_be32(buf + 8 + 4), 10);  /* LBA 10 */
	assert_int_equal(get_be32(buf + 8 + 8), 90);  /* 10..99 */
	assert_int_equal(buf[8 + 12] & 0xf, 1);       /* deallocated */
	assert_int_equal(get_be32(buf + 24 + 4), 100);
	assert_int_equal(get_be32(buf + 24 + 8), 4);
	assert_int_equal(buf[24 + 12] & 0xf, 0); /* mapped */
	assert_int_equal(get_be32(buf + 40 + 4), 104);
	assert_int_equal(get_be32(buf + 40 + 8), NBLK - 104);
	assert_int_equal(buf[40 + 12] & 0xf, 1);
	/* UNMAP (WRITE SAME UNMAP) is what makes blocks deallocated again */
	memset(blk, 0, BS);
	rw16(cdb, 0x93, 100, 4);
	cdb[1] = 0x08;
	c = exec(f, cdb, 16, RTS_SIM_TO_DEV, blk, BS);
	assert_int_equal(c.status, 0);
	get_lba_status_cdb(cdb, 0, sizeof(buf));
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, sizeof(buf));
	assert_int_equal(get_be32(buf), 4 + 16);
	assert_int_equal(get_be32(buf + 8 + 8), NBLK);
	assert_int_equal(buf[8 + 12] & 0xf, 1);
	/* allocation length 24 holds one descriptor; the header still says what there is */
	memset(blk, 0x11, BS);
	rw16(cdb, 0x8a, 5, 1);
	exec(f, cdb, 16, RTS_SIM_TO_DEV, blk, BS);
	get_lba_status_cdb(cdb, 0, 24);
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, 24);
	assert_int_equal(c.status, 0);
	assert_int_equal(get_be32(buf), 4 + 16);
	assert_int_equal(get_be32(buf + 8 + 8), 5);
	/* past the end */
	get_lba_status_cdb(cdb, NBLK, 24);
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, 24);
	expect_sense(&c, 5, 0x21, 0);
	fx_stop(f);
	/* a handler without the callback: one mapped extent to the end */
	f = fx_start(&mem_handler, 0, 0);
	get_lba_status_cdb(cdb, 7, 64);
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, 64);
	assert_int_equal(c.status, 0);
	assert_int_equal(get_be32(buf), 4 + 16);
	assert_int_equal(get_be32(buf + 8 + 4), 7);
	assert_int_equal(get_be32(buf + 8 + 8), NBLK - 7);
	assert_int_equal(buf[8 + 12], 0);
	fx_stop(f);
}

/* COMPARE AND WRITE is atomic against writes to the same range, not against others. */
static void test_caw_atomic_against_writes(void **state)
{
	struct fx *f = fx_start(&gate_handler, 0, 0);
	uint8_t cdb[16], caw[2 * BS], w1[BS], w2[BS];
	struct gate_op op;
	unsigned int bad = 0;

	(void)state;
	memset(caw, 0, BS); /* compare: zeros (the medium is zero) */
	memset(caw + BS, 0xcc, BS);
	memset(w1, 0xaa, BS);
	memset(w2, 0xbb, BS);
	memset(cdb, 0, 16);
	cdb[0] = 0x89;
	put_be32(cdb + 6, 20);
	cdb[13] = 1;
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_TO_DEV, caw, sizeof(caw), NULL, NULL), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	gate_wait(1); /* CAW's read is in flight */
	rw16(cdb, 0x8a, 20, 1); /* overlapping write: must wait */
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_TO_DEV, w1, BS, NULL, NULL), 0);
	rw16(cdb, 0x8a, 500, 1); /* unrelated write: goes straight through */
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_TO_DEV, w2, BS, NULL, NULL), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	gate_wait(2);
	assert_int_equal(g_ops[1].off, 500 * BS);
	op = gate_release(); /* CAW read */
	assert_false(op.write);
	gate_wait(2); /* CAW's write queued; the overlapping write still held back */
	assert_int_equal(g_ops[1].off, 20 * BS);
	assert_true(g_ops[1].write);
	gate_release(); /* unrelated write */
	op = gate_release(); /* CAW write */
	assert_int_equal(op.off, 20 * BS);
	gate_wait(1); /* now the overlapping write */
	op = gate_release();
	assert_int_equal(op.off, 20 * BS);
	while (rts_sim_outstanding(f->sim)) {
		assert_true(rts_sim_wait(f->sim, TMO) > 0);
		assert_true(rts_sim_reap(f->sim, io_done_cb, &bad) >= 0);
	}
	assert_int_equal(bad, 0);
	assert_int_equal(g_mem[20 * BS], 0xaa); /* the write landed after the CAW */
	fx_stop(f);
}

static void test_tmr_abort_and_stop_waits(void **state)
{
	struct fx *f = fx_start(&gate_handler, 0, 0);
	uint8_t cdb[16], buf[BS];
	uint16_t id;
	unsigned int bad = 0;

	(void)state;
	rw16(cdb, 0x88, 1, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_FROM_DEV, buf, BS, NULL, &id), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	gate_wait(1);
	assert_int_equal(rts_sim_queue_tmr(f->sim, 1, &id, 1), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	struct rts_dev_stats st = { .struct_size = sizeof(st) };
	for (int i = 0; i < 5000 && !st.aborts; i++) {
		usleep(1000);
		rts_dev_get_stats(f->dev, &st);
	}
	assert_int_equal(st.aborts, 1);
	assert_int_equal(st.inflight, 1);
	/* The aborted command still completes (its status is ignored by the kernel). */
	gate_release();
	assert_true(rts_sim_wait(f->sim, TMO) > 0);
	assert_int_equal(rts_sim_reap(f->sim, io_done_cb, &bad), 1);
	fx_stop(f);
}

/* Status of the completion of @id, reaped from the simulator. */
struct want_id {
	uint16_t id;
	int status;
};

static void find_id_cb(void *ud, const struct rts_sim_completion *c)
{
	struct want_id *w = ud;

	if (c->cmd_id == w->id)
		w->status = c->status;
}

/* An abort cancels the command's in-flight handler I/O; the command ends TASK ABORTED. */
static void test_tmr_cancels_inflight_io(void **state)
{
	struct fx *f;
	uint8_t cdb[16], buf[BS];
	struct want_id w = { .status = -1 };
	struct rts_dev_stats st = { .struct_size = sizeof(st) };

	(void)state;
	assert_int_equal(pipe(g_pipe), 0);
	g_stuck_res = 1;
	f = fx_start(&stuck_handler, 0, 0);
	rw16(cdb, 0x88, 3, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_FROM_DEV, buf, BS, NULL, &w.id), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	for (int i = 0; i < 5000 && !st.handler_ops; i++) {
		usleep(1000);
		rts_dev_get_stats(f->dev, &st);
	}
	assert_int_equal(st.handler_ops, 1);
	assert_int_equal(rts_sim_wait(f->sim, 50), 0); /* really stuck */
	assert_int_equal(rts_sim_queue_tmr(f->sim, 1, &w.id, 1), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	assert_true(rts_sim_wait(f->sim, TMO) > 0);
	assert_int_equal(rts_sim_reap(f->sim, find_id_cb, &w), 1);
	assert_int_equal(w.status, 0x40); /* TASK ABORTED */
	assert_int_equal(__atomic_load_n(&g_stuck_res, __ATOMIC_ACQUIRE), -ECANCELED);
	rts_dev_get_stats(f->dev, &st);
	assert_int_equal(st.aborts, 1);
	assert_int_equal(st.aborts_cancelled, 1);
	assert_int_equal(st.inflight, 0);
	fx_stop(f);
	close(g_pipe[0]);
	close(g_pipe[1]);
}

/* A write waiting behind a COMPARE AND WRITE ends at once when aborted, never runs. */
static void test_tmr_aborts_waiting_write(void **state)
{
	struct fx *f = fx_start(&gate_handler, 0, 0);
	uint8_t cdb[16], caw[2 * BS], w1[BS];
	struct want_id w = { .status = -1 };
	struct gate_op op;
	unsigned int bad = 0;

	(void)state;
	memset(caw, 0, BS);
	memset(caw + BS, 0xcc, BS);
	memset(w1, 0xaa, BS);
	memset(cdb, 0, 16);
	cdb[0] = 0x89;
	put_be32(cdb + 6, 20);
	cdb[13] = 1;
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_TO_DEV, caw, sizeof(caw), NULL, NULL), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	gate_wait(1); /* CAW's read is in flight */
	rw16(cdb, 0x8a, 20, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_TO_DEV, w1, BS, NULL, &w.id), 0);
	assert_int_equal(rts_sim_queue_tmr(f->sim, 1, &w.id, 1), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	assert_true(rts_sim_wait(f->sim, TMO) > 0);
	assert_int_equal(rts_sim_reap(f->sim, find_id_cb, &w), 1);
	assert_int_equal(w.status, 0x40);
	op = gate_release(); /* CAW read, then its write */
	assert_false(op.write);
	gate_wait(1);
	op = gate_release();
	assert_true(op.write);
	assert_true(rts_sim_wait(f->sim, TMO) > 0);
	assert_int_equal(rts_sim_reap(f->sim, io_done_cb, &bad), 1);
	assert_int_equal(bad, 0);
	assert_int_equal(gate_count(), 0); /* the aborted write never reached the handler */
	assert_int_equal(g_mem[20 * BS], 0xcc);
	fx_stop(f);
}

/* Handler options are copied at creation and looked up by key. */
static void test_options(void **state)
{
	struct rts_sim_params sp = { .data_size = 1 << 20 };
	char k[8] = "pool", v[8] = "rbd";
	const char *opts[] = { k, v, "cache", "64M", "dangling", NULL };
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "o0", .cfgstring = "mem", .options = opts };
	struct rts_sim *sim = NULL;
	struct rts_dev *dev = NULL;

	(void)state;
	assert_int_equal(rts_sim_new(&sp, &sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, &mem_handler, sim, &dev), 0);
	strcpy(k, "xx"); /* copied, not referenced */
	strcpy(v, "xx");
	assert_string_equal(rts_dev_get_option(dev, "pool"), "rbd");
	assert_string_equal(rts_dev_get_option(dev, "cache"), "64M");
	assert_null(rts_dev_get_option(dev, "dangling")); /* a key without a value is dropped */
	assert_null(rts_dev_get_option(dev, "xx"));
	assert_null(rts_dev_get_option(dev, NULL));
	rts_dev_free(dev);
	cfg.options = NULL;
	assert_int_equal(rts_dev_new_sim(&cfg, &mem_handler, sim, &dev), 0);
	assert_null(rts_dev_get_option(dev, "pool"));
	rts_dev_free(dev);
	rts_sim_free(sim);
}

/* A resize while running raises CAPACITY DATA HAS CHANGED once; WCE follows reconfig. */
static void test_reconfig(void **state)
{
	struct fx *f = fx_start(&mem_handler, 0, 0);
	uint8_t cdb[16], buf[64];
	struct rts_sim_completion c;
	struct rts_reconfig rc = { .struct_size = sizeof(rc), .what = RTS_RECONFIG_SIZE,
				   .size = NBLK / 2 * BS };

	(void)state;
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), 0);
	memset(cdb, 0, 16);
	cdb[0] = 0x25;
	c = exec(f, cdb, 10, RTS_SIM_FROM_DEV, buf, 8);
	expect_sense(&c, 6, 0x2a, 0x09);
	c = exec(f, cdb, 10, RTS_SIM_FROM_DEV, buf, 8);
	assert_int_equal(c.status, 0);
	assert_int_equal(get_be32(buf), NBLK / 2 - 1);
	rc.size = 2 * sizeof(g_mem);
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), -ENOSPC);
	rc.what = RTS_RECONFIG_CFGSTRING;
	rc.cfgstring = "other";
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), -EOPNOTSUPP);
	rc.what = RTS_RECONFIG_WRITE_CACHE;
	rc.write_cache = false;
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), 0);
	memset(cdb, 0, 16);
	cdb[0] = 0x1a; /* MODE SENSE(6), caching page, DBD */
	cdb[1] = 0x08;
	cdb[2] = 0x08;
	cdb[4] = 64;
	c = exec(f, cdb, 6, RTS_SIM_FROM_DEV, buf, 64);
	assert_int_equal(c.status, 0);
	assert_int_equal(buf[4] & 0x3f, 0x08);
	assert_int_equal(buf[4 + 2] & 0x04, 0); /* WCE now off */
	fx_stop(f);
}

/* targetcli writes wwn/vpd_unit_serial after enabling: INQUIRY re-reads it. */
static void test_serial_file(void **state)
{
	char path[] = "/tmp/rts-test-serial-XXXXXX";
	int fd = mkstemp(path);
	struct rts_sim *sim;
	struct rts_dev *dev;
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "s0", .cfgstring = "mem", .serial_file = path };
	uint8_t cdb[6] = { 0x12, 1, 0x80, 0, 255, 0 }, buf[255];
	struct rts_sim_completion c;
	const char *first = "T10 VPD Unit Serial Number: \n";
	const char *second = "T10 VPD Unit Serial Number: 3f2c5f7e-1d2a\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, first, strlen(first)), (ssize_t)strlen(first));
	close(fd);
	assert_int_equal(rts_sim_new(NULL, &sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, &mem_handler, sim, &dev), 0);
	assert_int_equal(rts_dev_open(dev, false, NULL), 0);
	assert_int_equal(rts_dev_start(dev), 0);
	assert_int_equal(rts_sim_exec(sim, cdb, 6, RTS_SIM_FROM_DEV, buf, sizeof(buf), TMO, &c), 0);
	assert_int_equal(c.status, 0);
	assert_int_equal(buf[3], 32); /* empty in configfs: our generated 32-hex-digit serial */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(second, f);
	fclose(f);
	assert_int_equal(rts_sim_exec(sim, cdb, 6, RTS_SIM_FROM_DEV, buf, sizeof(buf), TMO, &c), 0);
	assert_int_equal(buf[3], strlen("3f2c5f7e-1d2a"));
	assert_memory_equal(buf + 4, "3f2c5f7e-1d2a", buf[3]);
	rts_dev_stop(dev, TMO);
	rts_dev_close(dev);
	rts_dev_free(dev);
	rts_sim_free(sim);
	unlink(path);
}

/* rts_dev_get_io_stats: counts by direction, bytes of good transfers, latency percentiles,
 * and the struct_size contract (fill no more than the caller knows). */
static void test_io_stats(void **state)
{
	struct fx *f = fx_start(&mem_handler, 0, 0);
	uint8_t cdb[16], buf[4 * BS];
	struct rts_sim_completion c;
	struct rts_dev_io_stats st;
	static uint64_t counts[1024], upper[1024];
	uint64_t total = 0;
	int nb;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	for (int i = 0; i < 3; i++) {
		rw16(cdb, 0x8a, 16, 2);
		c = exec(f, cdb, 16, RTS_SIM_TO_DEV, buf, 2 * BS);
		assert_int_equal(c.status, 0);
	}
	for (int i = 0; i < 2; i++) {
		rw16(cdb, 0x88, 16, 4);
		c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, 4 * BS);
		assert_int_equal(c.status, 0);
	}
	rw16(cdb, 0x88, NBLK, 1); /* out of range: counted, no bytes */
	c = exec(f, cdb, 16, RTS_SIM_FROM_DEV, buf, BS);
	expect_sense(&c, 5, 0x21, 0);
	memset(cdb, 0, 6); /* TEST UNIT READY */
	c = exec(f, cdb, 6, RTS_SIM_NONE, NULL, 0);
	assert_int_equal(c.status, 0);

	st = (struct rts_dev_io_stats){ .struct_size = sizeof(st) };
	assert_int_equal(rts_dev_get_io_stats(f->dev, &st), 0);
	assert_int_equal(st.struct_size, sizeof(st));
	assert_int_equal(st.write_cmds, 3);
	assert_int_equal(st.read_cmds, 3);
	assert_int_equal(st.other_cmds, 1);
	assert_int_equal(st.write_bytes, 3 * 2 * BS);
	assert_int_equal(st.read_bytes, 2 * 4 * BS);
	assert_int_equal(st.lat_count, 7);
	assert_true(st.lat_p50_ns <= st.lat_p99_ns && st.lat_p99_ns <= st.lat_p999_ns);
	assert_true(st.lat_max_ns <= st.lat_p999_ns); /* p99.9 of 7 is the largest one's bucket */
	assert_true(st.lat_p999_ns - st.lat_max_ns <= st.lat_max_ns / 8);

	nb = rts_dev_get_latency_histogram(f->dev, NULL, NULL, 0);
	assert_true(nb > 0 && nb <= 1024);
	assert_int_equal(rts_dev_get_latency_histogram(f->dev, counts, upper, 1024), nb);
	for (int b = 0; b < nb; b++) {
		total += counts[b];
		if (b)
			assert_true(upper[b] > upper[b - 1]);
	}
	assert_int_equal(total, 7);
	assert_int_equal(rts_dev_get_latency_histogram(f->dev, NULL, upper, 4), -EINVAL);

	/* An older caller that knows only up to write_bytes: nothing past it is written. */
	memset(&st, 0xa5, sizeof(st));
	st.struct_size = offsetof(struct rts_dev_io_stats, lat_count);
	assert_int_equal(rts_dev_get_io_stats(f->dev, &st), 0);
	assert_int_equal(st.struct_size, offsetof(struct rts_dev_io_stats, lat_count));
	assert_int_equal(st.write_cmds, 3);
	assert_true(st.lat_count == 0xa5a5a5a5a5a5a5a5ull);
	st.struct_size = 2;
	assert_int_equal(rts_dev_get_io_stats(f->dev, &st), -EINVAL);
	assert_int_equal(rts_dev_get_io_stats(f->dev, NULL), -EINVAL);
	fx_stop(f);
}

/* A command the handler holds for 3 ms shows at least that latency, within a bucket. */
static void test_io_stats_latency(void **state)
{
	struct fx *f = fx_start(&gate_handler, 0, 0);
	struct rts_dev_io_stats st = { .struct_size = sizeof(st) };
	uint8_t cdb[16], buf[BS];
	unsigned int bad = 0;
	uint16_t id;

	(void)state;
	rw16(cdb, 0x88, 1, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_FROM_DEV, buf, BS, NULL, &id), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	gate_wait(1);
	usleep(3000);
	gate_release();
	assert_true(rts_sim_wait(f->sim, TMO) > 0);
	assert_int_equal(rts_sim_reap(f->sim, io_done_cb, &bad), 1);
	assert_int_equal(bad, 0);
	assert_int_equal(rts_dev_get_io_stats(f->dev, &st), 0);
	assert_int_equal(st.read_cmds, 1);
	assert_int_equal(st.read_bytes, BS);
	assert_int_equal(st.lat_count, 1);
	assert_true(st.lat_max_ns >= 3000000);
	assert_true(st.lat_p50_ns >= st.lat_max_ns);
	assert_true(st.lat_p50_ns - st.lat_max_ns <= st.lat_max_ns / 8);
	fx_stop(f);
}

static void test_config_errors(void **state)
{
	struct rts_sim *sim;
	struct rts_dev *dev = NULL;
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "x", .cfgstring = "other/thing" };

	(void)state;
	assert_int_equal(rts_sim_new(NULL, &sim), 0);
	/* cfgstring subtype must match the handler */
	assert_int_equal(rts_dev_new_sim(&cfg, &mem_handler, sim, &dev), -EINVAL);
	cfg.cfgstring = "mem/";
	cfg.block_size = 1000;
	assert_int_equal(rts_dev_new_sim(&cfg, &mem_handler, sim, &dev), -EINVAL);
	cfg.block_size = 4096;
	assert_int_equal(rts_dev_new_sim(&cfg, &mem_handler, sim, &dev), 0);
	assert_string_equal(rts_dev_get_cfgstring(dev), "");
	assert_int_equal(rts_dev_start(dev), -EINVAL); /* not opened */
	rts_dev_free(dev);
	rts_sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integrity_qd_wrap),
		cmocka_unit_test(test_emulated_and_range_errors),
		cmocka_unit_test(test_errno_to_sense),
		cmocka_unit_test(test_fua_sync_write_same_unmap_verify),
		cmocka_unit_test(test_caw_miscompare_offset),
		cmocka_unit_test(test_caw_field_checks),
		cmocka_unit_test(test_prefetch_verify12),
		cmocka_unit_test(test_get_lba_status),
		cmocka_unit_test(test_max_xfer_from_data_area),
		cmocka_unit_test(test_max_xfer_explicit),
		cmocka_unit_test(test_max_xfer_handler_limit),
		cmocka_unit_test(test_caw_atomic_against_writes),
		cmocka_unit_test(test_tmr_abort_and_stop_waits),
		cmocka_unit_test(test_tmr_cancels_inflight_io),
		cmocka_unit_test(test_tmr_aborts_waiting_write),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_reconfig),
		cmocka_unit_test(test_serial_file),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_io_stats),
		cmocka_unit_test(test_io_stats_latency),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
