/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ring corruption and recovery through the simulator's corruption injection. A ring that
 * cannot be walked any more (an entry length that is not a multiple of 8, a cmd_head beyond
 * the ring) fails the device with the reason, while commands it already took still
 * complete; the device is then recovered the way rts-runner does it without restarting:
 * stop, reset_ring (the simulator plays the kernel: outstanding commands end BUSY), reopen
 * on the same ring, serve. Data written before the corruption reads back. A command whose
 * iovec points outside the data area fails alone (CHECK CONDITION, reason logged): the ring
 * stays walkable and the device serves on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
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

#define BS 512u
#define NBLK 256u
#define TMO 5000

#define HARNESS_LOG
#include "harness.h"

static uint8_t g_mem[NBLK * BS];

static void mem_copy(const struct iovec *iov, unsigned int cnt, uint64_t off, bool to_mem)
{
	for (unsigned int i = 0; i < cnt; i++) {
		if (to_mem)
			memcpy(g_mem + off, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, g_mem + off, iov[i].iov_len);
		off += iov[i].iov_len;
	}
}

static int mem_open(struct rts_dev *dev, bool reopen)
{
	(void)reopen;
	rts_dev_set_num_lbas(dev, NBLK);
	return 0;
}

static int mem_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		    unsigned int cnt, uint64_t off, uint64_t len)
{
	(void)dev;
	(void)len;
	mem_copy(iov, cnt, off, false);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int mem_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int cnt, uint64_t off, uint64_t len, unsigned int flags)
{
	(void)dev;
	(void)len;
	(void)flags;
	mem_copy(iov, cnt, off, true);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static const struct rts_handler mem_handler = {
	RTS_HANDLER_INIT,
	.name = "test memory",
	.subtype = "mem",
	.open = mem_open,
	.read = mem_read,
	.write = mem_write,
};

struct fx {
	struct rts_sim *sim;
	struct rts_dev *dev;
};

static void dev_up(struct fx *f, bool reopen)
{
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "r0", .cfgstring = "mem", .block_size = BS,
				      .queue_depth = 16, .log_fn = log_cb };

	assert_int_equal(rts_dev_new_sim(&cfg, &mem_handler, f->sim, &f->dev), 0);
	assert_int_equal(rts_dev_open(f->dev, reopen, NULL), 0);
	assert_int_equal(rts_dev_start(f->dev), 0);
}

static void dev_down(struct fx *f)
{
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	rts_dev_close(f->dev);
	f->dev = rts_dev_free(f->dev);
}

static struct fx *fx_start(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct rts_sim_params sp = { .cmdr_size = 8192, .data_size = 1 << 20 };

	assert_non_null(f);
	memset(g_mem, 0, sizeof(g_mem));
	log_clear();
	assert_int_equal(rts_sim_new(&sp, &f->sim), 0);
	dev_up(f, false);
	return f;
}

static struct rts_sim_completion rw(struct fx *f, bool write, uint64_t lba, void *buf)
{
	uint8_t cdb[16];
	struct rts_sim_completion c;

	rw16(cdb, write ? 0x8a : 0x88, lba, 1);
	assert_int_equal(rts_sim_exec(f->sim, cdb, 16, write ? RTS_SIM_TO_DEV : RTS_SIM_FROM_DEV,
				      buf, BS, TMO, &c),
			 0);
	return c;
}

static void wait_failed(struct fx *f)
{
	for (int i = 0; i < TMO && !rts_dev_get_failure(f->dev); i++)
		usleep(1000);
	assert_non_null(rts_dev_get_failure(f->dev));
}

struct seen {
	unsigned int n;
	uint8_t status;
};

static void seen_cb(void *ud, const struct rts_sim_completion *c)
{
	struct seen *s = ud;

	s->n++;
	s->status = c->status;
}

/*
 * A reader on another thread, as rts-runner's status socket and D-Bus are: everything they
 * read of a running device, in a loop until told to stop. Under TSan (RTS_TSAN=ON, ctest -L
 * threads) this checks the thread contract of struct rts_dev (tcmu/dev.h).
 */
struct reader {
	pthread_t thread;
	struct rts_dev *dev;
	atomic_bool stop;
	unsigned long rounds;
	char failure[128]; /* the failure it saw, copied while the device is alive */
	atomic_bool saw_failure; /* failure[] is written (release) */
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;

	while (!atomic_load(&rd->stop)) {
		struct rts_dev_stats st = { .struct_size = sizeof(st) };
		struct rts_dev_io_stats io = { .struct_size = sizeof(io) };
		uint64_t counts[8], upper[8];
		const char *why = rts_dev_get_failure(rd->dev);

		if (why && !atomic_load(&rd->saw_failure)) {
			snprintf(rd->failure, sizeof(rd->failure), "%s", why);
			atomic_store(&rd->saw_failure, true);
		}
		rts_dev_get_stats(rd->dev, &st);
		assert_int_equal(rts_dev_get_io_stats(rd->dev, &io), 0);
		rts_dev_get_latency_histogram(rd->dev, counts, upper, 8);
		assert_string_equal(rts_dev_get_name(rd->dev), "r0");
		assert_int_equal(rts_dev_get_block_size(rd->dev), BS);
		(void)rts_dev_get_size(rd->dev);
		(void)rts_dev_get_handler(rd->dev);
		rd->rounds++;
		sched_yield();
	}
	return NULL;
}

static void reader_start(struct reader *rd, struct rts_dev *dev)
{
	*rd = (struct reader){ .dev = dev };
	assert_int_equal(pthread_create(&rd->thread, NULL, reader_main, rd), 0);
}

/* Stop the reader; with @want_failure, once it has seen the device's failure. */
static void reader_stop(struct reader *rd, bool want_failure)
{
	for (int i = 0; want_failure && i < TMO && !atomic_load(&rd->saw_failure); i++)
		usleep(1000);
	atomic_store(&rd->stop, true);
	assert_int_equal(pthread_join(rd->thread, NULL), 0);
	assert_true(rd->rounds > 0);
}

/* Corrupt the ring in one of the two unwalkable ways, check the failure and its reason,
 * recover without a restart, and check nothing written before is lost. */
static void corrupt_and_recover(enum rts_sim_corruption what, const char *reason)
{
	struct fx *f = fx_start();
	uint8_t w[BS], r[BS], cdb[16];
	struct seen s = { 0 };
	struct reader rd;

	reader_start(&rd, f->dev);
	/* acknowledged writes before the corruption */
	for (unsigned int lba = 0; lba < 32; lba++) {
		memset(w, (int)(lba + 1), sizeof(w));
		assert_int_equal(rw(f, true, lba, w).status, 0);
	}
	rw16(cdb, 0x88, 3, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_FROM_DEV, r, BS, NULL, NULL), 0);
	assert_int_equal(rts_sim_corrupt(f->sim, what), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	wait_failed(f);
	assert_string_equal(rts_dev_get_failure(f->dev), reason);
	assert_true(log_has("device failed: "));
	assert_true(log_has(reason));
	assert_int_equal(rts_sim_outstanding(f->sim), 1); /* never taken */
	reader_stop(&rd, true);
	assert_string_equal(rd.failure, reason); /* the reader saw the failure, whole */

	/* recovery: stop, reset the ring (the kernel ends what is outstanding BUSY), reopen */
	dev_down(f);
	assert_int_equal(rts_sim_reset_ring(f->sim, 0x08, seen_cb, &s), 1);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.status, 0x08);
	assert_int_equal(rts_sim_outstanding(f->sim), 0);
	dev_up(f, true);
	for (unsigned int lba = 0; lba < 32; lba++) {
		memset(w, (int)(lba + 1), sizeof(w));
		assert_int_equal(rw(f, false, lba, r).status, 0);
		assert_memory_equal(r, w, BS);
	}
	/* and it serves new work across many wraps of the small ring */
	for (unsigned int i = 0; i < 400; i++) {
		memset(w, (int)(i & 0xff), sizeof(w));
		assert_int_equal(rw(f, true, 100 + i % 64, w).status, 0);
	}
	assert_null(rts_dev_get_failure(f->dev));
	dev_down(f);
	assert_null(rts_sim_broken_reason(f->sim));
	rts_sim_free(f->sim);
	free(f);
}

static void test_bad_entry_length(void **state)
{
	(void)state;
	corrupt_and_recover(RTS_SIM_CORRUPT_ENTRY_LEN, "ring entry length is zero or misaligned");
}

static void test_head_beyond_ring(void **state)
{
	(void)state;
	corrupt_and_recover(RTS_SIM_CORRUPT_HEAD, "kernel cmd_head out of range");
}

/* A data offset outside the data area fails that command only. */
static void test_bad_data_offset(void **state)
{
	struct fx *f = fx_start();
	uint8_t w[BS], r[BS], cdb[16];
	struct rts_sim_completion c;

	(void)state;
	memset(w, 0x77, sizeof(w));
	rw16(cdb, 0x8a, 9, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_TO_DEV, w, BS, NULL, NULL), 0);
	assert_int_equal(rts_sim_corrupt(f->sim, RTS_SIM_CORRUPT_DATA_OFF), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	assert_true(rts_sim_wait(f->sim, TMO) > 0);
	struct seen s = { 0 };
	assert_int_equal(rts_sim_reap(f->sim, seen_cb, &s), 1);
	assert_int_equal(s.status, 2);
	assert_true(log_has("iovec outside the data area"));
	assert_null(rts_dev_get_failure(f->dev));
	c = rw(f, false, 9, r);
	assert_int_equal(c.status, 0);
	assert_int_equal(r[0], 0); /* the refused write never landed */
	assert_int_equal(rw(f, true, 9, w).status, 0);
	assert_int_equal(rw(f, false, 9, r).status, 0);
	assert_memory_equal(r, w, BS);
	assert_int_equal(rts_sim_corrupt(f->sim, RTS_SIM_CORRUPT_DATA_OFF), -ENOENT);
	dev_down(f);
	rts_sim_free(f->sim);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_entry_length),
		cmocka_unit_test(test_head_beyond_ring),
		cmocka_unit_test(test_bad_data_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
