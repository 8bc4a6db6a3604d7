/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pressure through the simulator (#16): no stall, no loss, bounded memory.
 *  - ring full: a small command ring kept full of writes and zero-data commands;
 *  - data area full: thousands of commands queued before one kick, behind a data area that
 *    holds a few transfers at a time;
 *  - iovec shapes: 1-byte Data-In up to a transfer as large as the data area, with iovecs of
 *    one 512-byte block, of three 4 KiB blocks and merged;
 *  - 64 devices in one process under load at once; RSS before, after creating them and after
 *    two identical rounds (the second must not grow: nothing leaks per command).
 * Every write lands in a shadow copy and every block is read back and compared. A stall is a
 * 20 s wait with commands outstanding and no completion: a liveness bound, not a timing.
 * Figures are printed (ctest -V); nothing here asserts a speed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rts/device.h>
#include <rts/sim.h>

#define BS 512u
#define STALL_MS 20000

/* ------------------------------------------------------------ a memory handler per device */

struct pmem {
	uint8_t *mem;
	uint64_t size;
};

static uint64_t g_dev_size = 4u << 20;

static int pmem_open(struct rts_dev *dev, bool reopen)
{
	struct pmem *p = calloc(1, sizeof(*p));

	(void)reopen;
	if (!p)
		return -ENOMEM;
	p->size = g_dev_size;
	p->mem = calloc(1, p->size);
	if (!p->mem) {
		free(p);
		return -ENOMEM;
	}
	rts_dev_set_num_lbas(dev, p->size / BS);
	rts_dev_set_private(dev, p);
	return 0;
}

static void pmem_close(struct rts_dev *dev)
{
	struct pmem *p = rts_dev_get_private(dev);

	if (p)
		free(p->mem);
	free(p);
	rts_dev_set_private(dev, NULL);
}

static void pmem_copy(struct pmem *p, const struct iovec *iov, unsigned int cnt, uint64_t off,
		      uint64_t len, bool to_mem)
{
	for (unsigned int i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;

		if (to_mem)
			memcpy(p->mem + off, iov[i].iov_base, n);
		else
			memcpy(iov[i].iov_base, p->mem + off, n);
		off += n;
		len -= n;
	}
}

static int pmem_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int cnt, uint64_t off, uint64_t len)
{
	pmem_copy(rts_dev_get_private(dev), iov, cnt, off, len, false);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int pmem_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		      unsigned int cnt, uint64_t off, uint64_t len, unsigned int flags)
{
	(void)flags;
	pmem_copy(rts_dev_get_private(dev), iov, cnt, off, len, true);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static const struct rts_handler pmem_handler = {
	RTS_HANDLER_INIT,
	.name = "pressure memory",
	.subtype = "pmem",
	.open = pmem_open,
	.close = pmem_close,
	.read = pmem_read,
	.write = pmem_write,
};

/* ------------------------------------------------------------ one simulated device */

struct tdev {
	struct rts_sim *sim;
	struct rts_dev *dev;
	uint8_t *shadow; /* what the device must hold */
	uint64_t nblocks;
	/* the driver's state */
	uint64_t next_lba;
	unsigned int submitted, completed, errors, eagain, max_outstanding;
};

struct tcmd {
	uint8_t cdb[16];
	uint8_t *buf;
	size_t len;
};

static void tdev_open(struct tdev *t, const struct rts_sim_params *sp, uint32_t qd, const char *name)
{
	char *why = NULL;
	struct rts_dev_config cfg = {
		RTS_DEV_CONFIG_INIT,
		.name = name,
		.cfgstring = "pmem/",
		.size = g_dev_size,
		.block_size = BS,
		.queue_depth = qd,
	};

	memset(t, 0, sizeof(*t));
	assert_int_equal(rts_sim_new(sp, &t->sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, &pmem_handler, t->sim, &t->dev), 0);
	assert_int_equal(rts_dev_open(t->dev, false, &why), 0);
	assert_int_equal(rts_dev_start(t->dev), 0);
	t->nblocks = g_dev_size / BS;
	t->shadow = calloc(1, g_dev_size);
	assert_non_null(t->shadow);
}

static void tdev_close(struct tdev *t)
{
	assert_int_equal(rts_dev_stop(t->dev, 5000), 0);
	rts_dev_close(t->dev);
	t->dev = rts_dev_free(t->dev);
	t->sim = rts_sim_free(t->sim);
	free(t->shadow);
}

static void on_done(void *ud, const struct rts_sim_completion *c)
{
	struct tdev *t = ud;
	struct tcmd *tc = c->tag;

	t->completed++;
	if (c->status)
		t->errors++;
	free(tc->buf);
	free(tc);
}

/* Reap what is there; when @block, wait for the device first (bounded: a stall fails). */
static void tdev_reap(struct tdev *t, bool block)
{
	int n;

	if (block) {
		int w = rts_sim_wait(t->sim, STALL_MS);

		assert_true(w >= 0);
		if (w == 0 && rts_sim_outstanding(t->sim)) {
			n = rts_sim_reap(t->sim, on_done, t);
			if (n == 0)
				fail_msg("stall: %u command(s) outstanding, no completion in %d ms",
					 rts_sim_outstanding(t->sim), STALL_MS);
			return;
		}
	}
	n = rts_sim_reap(t->sim, on_done, t);
	assert_true(n >= 0);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A WRITE(16)-free WRITE(10)/READ(10) CDB. */
static void rw10(uint8_t *cdb, bool write, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 10);
	cdb[0] = write ? 0x2a : 0x28;
	put_be32(cdb + 2, lba);
	cdb[7] = (uint8_t)(blocks >> 8), cdb[8] = (uint8_t)blocks;
}

/*
 * Submit one command, making room (kick, wait, reap) as long as the simulator says the ring
 * or the data area is full. @kick_each: publish right away, else the caller kicks later.
 */
static void tdev_submit(struct tdev *t, struct tcmd *tc, enum rts_sim_dir dir, bool kick_each)
{
	unsigned int o;

	for (;;) {
		int r = rts_sim_submit(t->sim, tc->cdb, 10, dir, tc->buf, tc->len, tc, NULL);

		if (r == 0)
			break;
		assert_int_equal(r, -EAGAIN);
		if (!rts_sim_outstanding(t->sim))
			fail_msg("no room for a %zu-byte command with nothing outstanding", tc->len);
		t->eagain++;
		assert_int_equal(rts_sim_kick(t->sim), 0);
		tdev_reap(t, true);
	}
	t->submitted++;
	o = rts_sim_outstanding(t->sim);
	if (o > t->max_outstanding)
		t->max_outstanding = o;
	if (kick_each)
		assert_int_equal(rts_sim_kick(t->sim), 0);
}

/* A write of @blocks at the device's next LBA (round robin), recorded in the shadow. */
static void tdev_write_next(struct tdev *t, uint16_t blocks, uint32_t gen, bool kick_each)
{
	struct tcmd *tc = calloc(1, sizeof(*tc));

	if (t->next_lba + blocks > t->nblocks)
		t->next_lba = 0;
	tc->len = (size_t)blocks * BS;
	tc->buf = malloc(tc->len);
	for (size_t i = 0; i < tc->len; i += 4)
		put_be32(tc->buf + i, (uint32_t)(t->next_lba * BS + i) ^ gen);
	memcpy(t->shadow + t->next_lba * BS, tc->buf, tc->len);
	rw10(tc->cdb, true, (uint32_t)t->next_lba, blocks);
	t->next_lba += blocks;
	tdev_submit(t, tc, RTS_SIM_TO_DEV, kick_each);
}

static void tdev_tur(struct tdev *t, bool kick_each)
{
	struct tcmd *tc = calloc(1, sizeof(*tc));

	tdev_submit(t, tc, RTS_SIM_NONE, kick_each);
}

static void tdev_drain(struct tdev *t)
{
	assert_int_equal(rts_sim_kick(t->sim), 0);
	while (rts_sim_outstanding(t->sim))
		tdev_reap(t, true);
	assert_int_equal(t->completed, t->submitted);
	assert_int_equal(t->errors, 0);
}

/* Read the whole device back in 64 KiB pieces and compare with the shadow: nothing lost. */
static void tdev_verify(struct tdev *t)
{
	const uint16_t step = 128;
	uint8_t *buf = malloc((size_t)step * BS);
	struct rts_sim_completion c;

	for (uint64_t lba = 0; lba < t->nblocks; lba += step) {
		uint8_t cdb[10];

		rw10(cdb, false, (uint32_t)lba, step);
		assert_int_equal(rts_sim_exec(t->sim, cdb, 10, RTS_SIM_FROM_DEV, buf,
					      (size_t)step * BS, STALL_MS, &c),
				 0);
		assert_int_equal(c.status, 0);
		if (memcmp(buf, t->shadow + lba * BS, (size_t)step * BS) != 0)
			fail_msg("data lost or corrupted in LBA %llu..%llu",
				 (unsigned long long)lba, (unsigned long long)lba + step - 1);
	}
	free(buf);
}

static long rss_kib(const char *which)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, which, strlen(which)) == 0)
			v = strtol(line + strlen(which) + 1, NULL, 10);
	fclose(f);
	return v;
}

/* ------------------------------------------------------------ tests */

/*
 * Ring full: 8 KiB of ring (about 100 entries) against 20,000 commands. (Every data area
 * here is smaller than the device, so writes in flight, which hold data area, never
 * overlap and the shadow stays exact.)
 */
static void test_ring_full(void **state)
{
	struct rts_sim_params sp = { .cmdr_size = 8192, .data_size = 1u << 20 };
	struct tdev t;

	(void)state;
	tdev_open(&t, &sp, 128, "ringfull");
	for (unsigned int i = 0; i < 20000; i++) {
		if (i % 2)
			tdev_tur(&t, false);
		else
			tdev_write_next(&t, (uint16_t)(1 + i % 16), i, false);
		if (i % 64 == 63) {
			assert_int_equal(rts_sim_kick(t.sim), 0);
			tdev_reap(&t, false);
		}
	}
	tdev_drain(&t);
	tdev_verify(&t);
	printf("ring full: %u commands, %u times the ring was full, %u outstanding at most\n",
	       t.submitted, t.eagain, t.max_outstanding);
	assert_true(t.eagain > 0); /* the pressure was real */
	tdev_close(&t);
}

/*
 * Data area full with thousands outstanding: a 64 KiB data area (16 blocks of 4 KiB) and a
 * 1 MiB ring. Each round queues 4,000 commands before one kick: TEST UNIT READY, with 32 KiB
 * writes at positions 0, 1500 and 3000. The third finds the data area full while thousands
 * of commands wait in the ring; it goes in once the device has worked through them.
 */
static void test_data_area_full(void **state)
{
	struct rts_sim_params sp = { .cmdr_size = 1u << 20, .data_size = 64u << 10 };
	struct tdev t;
	unsigned int full = 0;

	(void)state;
	tdev_open(&t, &sp, 4096, "datafull");
	for (unsigned int round = 0; round < 5; round++) {
		for (unsigned int i = 0; i < 4000; i++) {
			unsigned int before = t.eagain;

			if (i % 1500 == 0)
				tdev_write_next(&t, 64, round * 4000 + i, false);
			else
				tdev_tur(&t, false);
			full += t.eagain != before;
		}
		tdev_drain(&t);
	}
	tdev_verify(&t);
	printf("data area full: %u commands, data area full %u times, %u outstanding at most\n",
	       t.submitted, full, t.max_outstanding);
	assert_true(full >= 5);
	assert_true(t.max_outstanding >= 3000);
	tdev_close(&t);
}

/* An entry that can never fit the ring (2047 iovecs, 64 KiB ring) is refused, not retried. */
static void test_entry_larger_than_ring(void **state)
{
	struct rts_sim_params sp = { .cmdr_size = 65536, .data_size = 1u << 20, .data_blk_size = 512,
				     .max_iov_blocks = 1 };
	struct tdev t;
	uint8_t cdb[10], *buf = calloc(1, 2047 * BS);

	(void)state;
	tdev_open(&t, &sp, 16, "bigentry");
	rw10(cdb, true, 0, 2047);
	assert_int_equal(rts_sim_submit(t.sim, cdb, 10, RTS_SIM_TO_DEV, buf, 2047 * BS, NULL, NULL),
			 -EINVAL);
	/* and the device is fine: the largest entry that fits goes through */
	tdev_write_next(&t, 1024, 7, true);
	tdev_drain(&t);
	tdev_verify(&t);
	free(buf);
	tdev_close(&t);
}

/* Data-In of 1 to 255 bytes (INQUIRY's allocation length): the device fills exactly that. */
static void test_one_byte_shapes(void **state)
{
	struct rts_sim_params sp = { .cmdr_size = 65536, .data_size = 1u << 20, .data_blk_size = 512,
				     .max_iov_blocks = 1 };
	struct tdev t;

	(void)state;
	tdev_open(&t, &sp, 16, "tiny");
	for (unsigned int len = 1; len < 256; len++) {
		uint8_t cdb[6] = { 0x12, 0, 0, 0, (uint8_t)len, 0 }, buf[256];
		struct rts_sim_completion c;

		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(rts_sim_exec(t.sim, cdb, 6, RTS_SIM_FROM_DEV, buf, len, STALL_MS, &c),
				 0);
		assert_int_equal(c.status, 0);
		assert_true(c.data_len <= len);
		assert_int_equal(buf[len], 0xee); /* nothing beyond the allocation length */
		assert_int_equal(buf[0] & 0x1f, 0); /* direct-access block device */
	}
	tdev_close(&t);
}

/*
 * Transfers of 1 block up to the whole data area, through iovecs of one 512-byte block,
 * of three 4 KiB blocks, and merged; every one written and read back.
 */
static void test_iovec_shapes(void **state)
{
	static const struct {
		uint32_t blk, max_iov;
	} shapes[] = { { 512, 1 }, { 4096, 3 }, { 4096, 0 } };
	static const uint16_t lens[] = { 1,   2,   3,   7,   8,   9,    63,   64,  65,
					 255, 256, 257, 511, 1023, 1024, 2047, 2048 };

	(void)state;
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct rts_sim_params sp = { .cmdr_size = 1u << 20,
					     .data_size = 1u << 20,
					     .data_blk_size = shapes[s].blk,
					     .max_iov_blocks = shapes[s].max_iov };
		struct tdev t;
		unsigned int n = 0;

		tdev_open(&t, &sp, 32, "shapes");
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			tdev_write_next(&t, lens[i], (uint32_t)(s * 100 + i), true);
			tdev_drain(&t);
			n++;
		}
		/* the largest transfer is the data area: 2048 blocks of 512 bytes */
		tdev_verify(&t);
		printf("iovec shapes: data block %u, at most %u block(s) an iovec: %u transfers of "
		       "1..2048 blocks verified\n",
		       shapes[s].blk, shapes[s].max_iov, n);
		tdev_close(&t);
	}
}

/* 64 devices in one process, all loaded at once, twice; RSS reported, second round flat. */
static void test_64_devices(void **state)
{
	enum { NDEV = 64, WRITES = 400 };
	struct rts_sim_params sp = { .cmdr_size = 65536, .data_size = 256u << 10 };
	struct tdev *t = calloc(NDEV, sizeof(*t));
	long rss0, rss_open, rss_r1 = 0, rss_r2 = 0, hwm;

	(void)state;
	g_dev_size = 1u << 20;
	rss0 = rss_kib("VmRSS:");
	for (unsigned int d = 0; d < NDEV; d++) {
		char name[16];

		snprintf(name, sizeof(name), "d%u", d);
		tdev_open(&t[d], &sp, 64, name);
	}
	rss_open = rss_kib("VmRSS:");
	for (unsigned int round = 0; round < 2; round++) {
		for (unsigned int i = 0; i < WRITES; i++)
			for (unsigned int d = 0; d < NDEV; d++) {
				tdev_write_next(&t[d], (uint16_t)(1 + (i + d) % 16), i + round, false);
				if (i % 16 == 15) {
					assert_int_equal(rts_sim_kick(t[d].sim), 0);
					tdev_reap(&t[d], false);
				}
			}
		for (unsigned int d = 0; d < NDEV; d++) {
			tdev_drain(&t[d]);
			tdev_verify(&t[d]);
			t[d].next_lba = 0; /* the second round writes the same blocks */
		}
		if (round == 0)
			rss_r1 = rss_kib("VmRSS:");
		else
			rss_r2 = rss_kib("VmRSS:");
	}
	hwm = rss_kib("VmHWM:");
	printf("64 devices: RSS %ld KiB before, %ld KiB with 64 devices open (%ld KiB a device: "
	       "device, I/O thread, simulated ring and data area), %ld KiB after round 1, %ld KiB "
	       "after round 2 (the test's memory disks and shadows are 2 MiB a device of that), "
	       "peak %ld KiB; %u commands a round, all verified\n",
	       rss0, rss_open, (rss_open - rss0) / NDEV, rss_r1, rss_r2, hwm, NDEV * WRITES);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
	/* nothing grows with the number of commands: round 2 repeats round 1 (the sanitizers'
	 * shadow memory and quarantines do grow, so only a plain build checks it) */
	assert_true(rss_r2 - rss_r1 < 4096);
#endif
	for (unsigned int d = 0; d < NDEV; d++)
		tdev_close(&t[d]);
	free(t);
	g_dev_size = 4u << 20;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_full),
		cmocka_unit_test(test_data_area_full),
		cmocka_unit_test(test_entry_larger_than_ring),
		cmocka_unit_test(test_one_byte_shapes),
		cmocka_unit_test(test_iovec_shapes),
		cmocka_unit_test(test_64_devices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
