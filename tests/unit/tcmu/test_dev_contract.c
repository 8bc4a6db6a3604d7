/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcmu/dev.c: what the core does when a handler breaks its contract. Each handler here is
 * buggy in one way a new plugin author could be (never completes, returns a positive value,
 * completes and then returns an error, completes twice, blocks inside a call, blocks in
 * reconfig or close). The simulator plays the kernel; the device log is captured so each
 * test asserts the named violation, the status the initiator gets, that the device is not
 * failed where it can go on, and that every wait on the handler ends.
 */
#include <errno.h>
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

#include <rts/device.h>

#define BS 512u
#define NBLK 64u
#define TMO 5000
#define SHORT_MS 100 /* stop / handler timeout the buggy handlers run into */

#define HARNESS_LOG
#include "harness.h"

/* ---------------------------------------------------------------- log capture */

/* The I/O thread logs concurrently with the test: wait for the line. */
static bool log_wait(const char *needle)
{
	for (int i = 0; i < TMO && log_lacks_quiet(needle); i++)
		usleep(1000);
	return log_has(needle);
}

static bool log_lacks(const char *needle)
{
	return log_lacks_quiet(needle);
}

/* ------------------------------------------------------------ buggy handlers */

enum bug {
	BUG_NONE,
	BUG_NEVER_COMPLETES,  /* read() returns 0 and never completes */
	BUG_RETURNS_5,        /* read() returns 5 without completing */
	BUG_COMPLETE_THEN_EIO, /* read() completes GOOD, then returns -EIO */
	BUG_COMPLETE_TWICE,   /* read() completes twice */
	BUG_ASYNC_TWICE,      /* read() completes twice through rts_cmd_complete_async */
	BUG_BLOCKS,           /* read() blocks until the test releases it, never completes */
	BUG_HANDLE_CMD_5,     /* handle_cmd() returns 5 */
};

static enum bug g_bug;
static struct rts_cmd *g_held; /* the command a buggy handler kept */
static unsigned int g_reads;
static pthread_mutex_t g_gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_gate_cond = PTHREAD_COND_INITIALIZER;
static bool g_gate_open;
static bool g_in_gate;

static void gate_block(void)
{
	pthread_mutex_lock(&g_gate_lock);
	g_in_gate = true;
	pthread_cond_broadcast(&g_gate_cond);
	while (!g_gate_open)
		pthread_cond_wait(&g_gate_cond, &g_gate_lock);
	g_in_gate = false;
	pthread_mutex_unlock(&g_gate_lock);
}

static void gate_wait_entered(void)
{
	pthread_mutex_lock(&g_gate_lock);
	while (!g_in_gate)
		pthread_cond_wait(&g_gate_cond, &g_gate_lock);
	pthread_mutex_unlock(&g_gate_lock);
}

static void gate_open(void)
{
	pthread_mutex_lock(&g_gate_lock);
	g_gate_open = true;
	pthread_cond_broadcast(&g_gate_cond);
	pthread_mutex_unlock(&g_gate_lock);
}

static int bug_open(struct rts_dev *dev, bool reopen)
{
	(void)reopen;
	rts_dev_set_num_lbas(dev, NBLK);
	return 0;
}

static int bug_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		    unsigned int cnt, uint64_t off, uint64_t len)
{
	(void)dev;
	(void)off;
	(void)len;
	__atomic_add_fetch(&g_reads, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < cnt; i++)
		memset(iov[i].iov_base, 0x5a, iov[i].iov_len);
	switch (g_bug) {
	case BUG_NEVER_COMPLETES:
		g_held = cmd;
		return 0;
	case BUG_RETURNS_5:
		return 5;
	case BUG_COMPLETE_THEN_EIO:
		rts_cmd_complete(cmd, 0);
		return -EIO;
	case BUG_COMPLETE_TWICE:
		rts_cmd_complete(cmd, 0);
		rts_cmd_complete(cmd, 0);
		return 0;
	case BUG_ASYNC_TWICE:
		rts_cmd_complete_async(cmd, 0);
		rts_cmd_complete_async(cmd, 0);
		return 0;
	case BUG_BLOCKS:
		gate_block();
		g_held = cmd;
		return 0;
	default:
		rts_cmd_complete(cmd, 0);
		return 0;
	}
}

static int bug_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int cnt, uint64_t off, uint64_t len, unsigned int flags)
{
	(void)dev;
	(void)iov;
	(void)cnt;
	(void)off;
	(void)len;
	(void)flags;
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int bug_handle_cmd(struct rts_dev *dev, struct rts_cmd *cmd)
{
	(void)dev;
	(void)cmd;
	return g_bug == BUG_HANDLE_CMD_5 && rts_cmd_get_cdb(cmd)[0] == 0x00 ? 5 :
									       RTS_CMD_NOT_HANDLED;
}

static int bug_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	(void)dev;
	(void)rc;
	gate_block();
	return 0;
}

static void bug_close(struct rts_dev *dev)
{
	(void)dev;
	gate_block();
}

static const struct rts_handler bug_handler = {
	RTS_HANDLER_INIT,
	.name = "test buggy",
	.subtype = "buggy",
	.open = bug_open,
	.read = bug_read,
	.write = bug_write,
	.handle_cmd = bug_handle_cmd,
	.reconfig = bug_reconfig,
};

static const struct rts_handler bug_close_handler = {
	RTS_HANDLER_INIT,
	.name = "test buggy close",
	.subtype = "buggy",
	.open = bug_open,
	.read = bug_read,
	.write = bug_write,
	.close = bug_close,
};

/* Offloaded: read() hands blocking work to the SDK's worker pool. */
static unsigned int g_inside, g_inside_max;
static int g_offload_ret;

static int blocking_read(struct rts_dev *dev, struct rts_cmd *cmd, void *arg)
{
	unsigned int cnt;
	const struct iovec *iov = rts_cmd_get_iov(cmd, &cnt);

	(void)dev;
	(void)arg;
	pthread_mutex_lock(&g_gate_lock);
	g_inside++;
	if (g_inside > g_inside_max)
		g_inside_max = g_inside;
	pthread_cond_broadcast(&g_gate_cond);
	while (!g_gate_open)
		pthread_cond_wait(&g_gate_cond, &g_gate_lock);
	g_inside--;
	pthread_mutex_unlock(&g_gate_lock);
	for (unsigned int i = 0; i < cnt; i++)
		memset(iov[i].iov_base, 0x3c, iov[i].iov_len);
	return g_offload_ret;
}

static int offload_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
			unsigned int cnt, uint64_t off, uint64_t len)
{
	(void)dev;
	(void)iov;
	(void)cnt;
	(void)off;
	(void)len;
	return rts_cmd_offload(cmd, blocking_read, NULL);
}

static const struct rts_handler offload_handler = {
	RTS_HANDLER_INIT,
	.name = "test offload",
	.subtype = "buggy",
	.open = bug_open,
	.read = offload_read,
	.write = bug_write,
};

/* ------------------------------------------------------------------ fixture */

struct fx {
	struct rts_sim *sim;
	struct rts_dev *dev;
};

static const char *const *g_options;

static struct fx *fx_start(const struct rts_handler *h, enum bug bug)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct rts_sim_params sp = { .data_size = 1 << 20 };
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "b0", .cfgstring = "buggy/x", .block_size = BS,
				      .queue_depth = 16, .log_fn = log_cb, .options = g_options };

	assert_non_null(f);
	log_clear();
	g_bug = bug;
	g_held = NULL;
	g_reads = 0;
	g_gate_open = false;
	g_in_gate = false;
	assert_int_equal(rts_sim_new(&sp, &f->sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, h, f->sim, &f->dev), 0);
	rts_dev_set_handler_timeout(f->dev, SHORT_MS);
	assert_int_equal(rts_dev_open(f->dev, false, NULL), 0);
	assert_int_equal(rts_dev_start(f->dev), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	rts_dev_close(f->dev);
	rts_dev_free(f->dev);
	rts_sim_free(f->sim);
	free(f);
}

static void cdb_read(uint8_t *c, uint64_t lba, uint32_t n)
{
	memset(c, 0, 16);
	c[0] = 0x88;
	for (int i = 0; i < 8; i++)
		c[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		c[10 + i] = (uint8_t)(n >> (24 - 8 * i));
}

static struct rts_sim_completion read1(struct fx *f, uint64_t lba)
{
	uint8_t cdb[16], buf[BS];
	struct rts_sim_completion c;

	cdb_read(cdb, lba, 1);
	assert_int_equal(rts_sim_exec(f->sim, cdb, 16, RTS_SIM_FROM_DEV, buf, BS, TMO, &c), 0);
	return c;
}

static void expect_sense(const struct rts_sim_completion *c, uint8_t key, uint8_t asc, uint8_t ascq)
{
	assert_int_equal(c->status, 2);
	assert_int_equal(c->sense[2] & 0xf, key);
	assert_int_equal(c->sense[12], asc);
	assert_int_equal(c->sense[13], ascq);
}

static void wait_reads(unsigned int n)
{
	for (int i = 0; i < TMO && __atomic_load_n(&g_reads, __ATOMIC_ACQUIRE) < n; i++)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&g_reads, __ATOMIC_ACQUIRE), n);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct got {
	uint16_t id;
	struct rts_sim_completion c;
	unsigned int n;
};

static void got_cb(void *ud, const struct rts_sim_completion *c)
{
	struct got *g = ud;

	if (c->cmd_id == g->id) {
		g->c = *c;
		g->n++;
	}
}

/* -------------------------------------------------------------------- tests */

/*
 * read() returns 0 and never completes: the stop ends within its bound, the command reaches
 * the initiator as HARDWARE ERROR with the violation named, a late completion is refused as
 * a double completion, and the device serves again after a restart.
 */
static void test_never_completes_stop_is_bounded(void **state)
{
	struct fx *f = fx_start(&bug_handler, BUG_NEVER_COMPLETES);
	uint8_t cdb[16], buf[BS];
	struct got g = { 0 };
	int64_t t0;
	int r;

	(void)state;
	cdb_read(cdb, 3, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_FROM_DEV, buf, BS, NULL, &g.id), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	wait_reads(1);
	assert_int_equal(rts_sim_wait(f->sim, 50), 0); /* really never completed */
	t0 = now_ms();
	r = rts_dev_stop(f->dev, SHORT_MS);
	/* the bound: the stop's timeout, then one grace period for the named failure (liveness,
	 * with a wide margin for a loaded machine) */
	assert_true(now_ms() - t0 < SHORT_MS + 2 * 1000 + 10000);
	assert_int_equal(r, -ETIMEDOUT);
	assert_true(log_has("still in flight after 100 ms; failing what handler 'buggy' never completed"));
	assert_true(log_has("handler 'buggy' broke its contract: never completed cmd"));
	assert_true(log_has("(read) before the stop's timeout; it fails with HARDWARE ERROR"));
	assert_int_equal(rts_sim_reap(f->sim, got_cb, &g), 1);
	assert_int_equal(g.n, 1);
	expect_sense(&g.c, 0x4, 0x44, 0x00); /* INTERNAL TARGET FAILURE */
	assert_null(rts_dev_get_failure(f->dev));

	/* the handler wakes up much later and completes what it kept: refused, named */
	rts_cmd_complete_async(g_held, 0);
	g_bug = BUG_NONE;
	assert_int_equal(rts_dev_start(f->dev), 0);
	struct rts_sim_completion c = read1(f, 4);
	assert_int_equal(c.status, 0);
	assert_true(log_wait("twice (rts_cmd_complete with no operation of it outstanding); ignored"));
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	assert_null(rts_dev_get_failure(f->dev));
	assert_null(rts_sim_broken_reason(f->sim));
	fx_free(f);
}

/* read() returns 5: named, the command fails HARDWARE ERROR, the device goes on. */
static void test_positive_return_named(void **state)
{
	struct fx *f = fx_start(&bug_handler, BUG_RETURNS_5);
	struct rts_sim_completion c;

	(void)state;
	c = read1(f, 1);
	expect_sense(&c, 0x4, 0x44, 0x00);
	assert_true(log_has("handler 'buggy' broke its contract: returned 5 from read(): not 0 or "
			    "-errno; cmd"));
	g_bug = BUG_NONE;
	c = read1(f, 1);
	assert_int_equal(c.status, 0);
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	assert_null(rts_dev_get_failure(f->dev));
	assert_null(rts_sim_broken_reason(f->sim));
	fx_free(f);
}

/* handle_cmd() returns 5: named the same way, with the hook's name. */
static void test_handle_cmd_positive_return(void **state)
{
	struct fx *f = fx_start(&bug_handler, BUG_HANDLE_CMD_5);
	uint8_t tur[6] = { 0 };
	struct rts_sim_completion c;

	(void)state;
	assert_int_equal(rts_sim_exec(f->sim, tur, 6, RTS_SIM_NONE, NULL, 0, TMO, &c), 0);
	expect_sense(&c, 0x4, 0x44, 0x00);
	assert_true(log_has("returned 5 from handle_cmd(): not 0 or -errno"));
	c = read1(f, 2); /* not taken by the hook */
	assert_int_equal(c.status, 0);
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	assert_null(rts_dev_get_failure(f->dev));
	fx_free(f);
}

/* Completing and then returning -EIO: the completion stands, the error is named and
 * ignored; before, this failed the whole device ("completion without a consumed ring slot"). */
static void test_complete_then_error(void **state)
{
	struct fx *f = fx_start(&bug_handler, BUG_COMPLETE_THEN_EIO);
	struct rts_sim_completion c;

	(void)state;
	for (int i = 0; i < 3; i++) {
		c = read1(f, (uint64_t)i);
		assert_int_equal(c.status, 0);
	}
	assert_true(log_has("completed cmd"));
	assert_true(log_has("and then returned -5 (Input/output error) from read(): an operation "
			    "that completes must return 0; the return value is ignored"));
	assert_true(log_lacks("device failed"));
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	assert_null(rts_dev_get_failure(f->dev));
	assert_null(rts_sim_broken_reason(f->sim));
	fx_free(f);
}

static void run_double(enum bug bug, const char *how)
{
	struct fx *f = fx_start(&bug_handler, bug);
	struct rts_sim_completion c;
	char want[128];

	for (int i = 0; i < 4; i++) {
		c = read1(f, (uint64_t)i);
		assert_int_equal(c.status, 0);
	}
	snprintf(want, sizeof(want), "twice (%s", how);
	assert_true(log_wait(want));
	g_bug = BUG_NONE;
	c = read1(f, 9);
	assert_int_equal(c.status, 0);
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	assert_null(rts_dev_get_failure(f->dev));
	assert_null(rts_sim_broken_reason(f->sim)); /* the kernel never saw a second completion */
	fx_free(f);
}

/* Completing twice, directly or through the async queue: the second is refused, named. */
static void test_complete_twice(void **state)
{
	(void)state;
	run_double(BUG_COMPLETE_TWICE, "rts_cmd_complete with no operation");
	/* async: the second push finds the first still queued, or it finds no operation */
	run_double(BUG_ASYNC_TWICE, "rts_cmd_");
}

/* read() blocks inside the call: the stop cannot join, says where the thread is stuck and
 * returns; once the call returns, a second stop joins and the device is freed normally. */
static void test_blocking_call_stop_returns(void **state)
{
	struct fx *f = fx_start(&bug_handler, BUG_BLOCKS);
	uint8_t cdb[16], buf[BS];
	struct got g = { 0 };

	(void)state;
	cdb_read(cdb, 5, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_FROM_DEV, buf, BS, NULL, &g.id), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	gate_wait_entered();
	assert_int_equal(rts_dev_stop(f->dev, SHORT_MS), -EBUSY);
	assert_true(log_has("handler 'buggy' broke its contract: read() did not return within"));
	assert_non_null(rts_dev_get_failure(f->dev));
	assert_int_equal(rts_dev_reconfig(f->dev, &(struct rts_reconfig){
						       .struct_size = sizeof(struct rts_reconfig),
						       .what = RTS_RECONFIG_WRITE_CACHE }),
			 -EIO);
	gate_open();
	/* the call returned 0 without completing: the stop that was asked for fails it */
	assert_int_equal(rts_dev_stop(f->dev, TMO), -ETIMEDOUT);
	assert_int_equal(rts_sim_reap(f->sim, got_cb, &g), 1);
	expect_sense(&g.c, 0x4, 0x44, 0x00);
	fx_free(f);
}

/* reconfig() blocks: rts_dev_reconfig gives up after the handler timeout, a second request
 * is refused while the first runs, I/O resumes once it returns. */
static void test_reconfig_is_bounded(void **state)
{
	struct fx *f = fx_start(&bug_handler, BUG_NONE);
	struct rts_reconfig rc = { .struct_size = sizeof(rc), .what = RTS_RECONFIG_SIZE,
				   .size = NBLK * BS };
	struct rts_sim_completion c;

	(void)state;
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), -ETIMEDOUT);
	/* (whether the I/O thread had entered reconfig() by then depends on scheduling) */
	assert_true(log_has("reconfig not done after 100 ms (the I/O thread is "));
	gate_wait_entered();
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), -EBUSY);
	gate_open();
	c = read1(f, 0); /* served once reconfig returned */
	assert_int_equal(c.status, 0);
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), 0);
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	assert_null(rts_dev_get_failure(f->dev));
	fx_free(f);
}

/* close() blocks: rts_dev_close returns after the handler timeout; the device is freed
 * once the call has returned. */
static void test_close_is_bounded(void **state)
{
	struct fx *f = fx_start(&bug_close_handler, BUG_NONE);

	(void)state;
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	rts_dev_close(f->dev);
	assert_true(log_has("close() did not return within 100 ms"));
	gate_open();
	rts_dev_set_handler_timeout(f->dev, TMO);
	fx_free(f); /* joins the close thread: nothing leaks (ASan's leak check) */
}

static void wait_inside(unsigned int n)
{
	pthread_mutex_lock(&g_gate_lock);
	while (g_inside < n)
		pthread_cond_wait(&g_gate_cond, &g_gate_lock);
	pthread_mutex_unlock(&g_gate_lock);
}

/* Blocking work through rts_cmd_offload(): runs on offload_threads workers at most, the I/O
 * thread keeps serving meanwhile, and the results complete the commands. */
static void test_offload_pool(void **state)
{
	static const char *const opts[] = { "offload_threads", "2", NULL };
	static uint8_t bufs[4][BS];
	uint8_t cdb[16], tur[6] = { 0 };
	struct rts_sim_completion c;
	struct fx *f;
	unsigned int good = 0;

	(void)state;
	g_options = opts;
	g_inside = g_inside_max = 0;
	g_offload_ret = 0;
	f = fx_start(&offload_handler, BUG_NONE);
	g_options = NULL;
	for (int i = 0; i < 4; i++) {
		cdb_read(cdb, (uint64_t)i, 1);
		assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_FROM_DEV, bufs[i], BS, NULL,
						NULL), 0);
	}
	assert_int_equal(rts_sim_kick(f->sim), 0);
	wait_inside(2);
	/* both workers blocked: the I/O thread still answers */
	assert_int_equal(rts_sim_exec(f->sim, tur, 6, RTS_SIM_NONE, NULL, 0, TMO, &c), 0);
	assert_int_equal(c.status, 0);
	gate_open();
	while (good < 4) {
		struct got g = { 0 };
		int n;

		assert_true(rts_sim_wait(f->sim, TMO) > 0);
		n = rts_sim_reap(f->sim, got_cb, &g);
		assert_true(n >= 0);
		good += (unsigned int)n;
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(bufs[i][BS - 1], 0x3c);
	assert_int_equal(g_inside_max, 2); /* never more than offload_threads */
	/* -errno from the work is the command's sense; a positive value is named */
	g_offload_ret = -ENOSPC;
	c = read1(f, 1);
	expect_sense(&c, 0x7, 0x27, 0x07);
	g_offload_ret = 7;
	c = read1(f, 1);
	expect_sense(&c, 0x4, 0x44, 0x00);
	assert_true(log_has("offloaded work returned 7 for cmd"));
	assert_int_equal(rts_dev_stop(f->dev, TMO), 0);
	assert_null(rts_dev_get_failure(f->dev));
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_never_completes_stop_is_bounded),
		cmocka_unit_test(test_positive_return_named),
		cmocka_unit_test(test_handle_cmd_positive_return),
		cmocka_unit_test(test_complete_then_error),
		cmocka_unit_test(test_complete_twice),
		cmocka_unit_test(test_blocking_call_stop_returns),
		cmocka_unit_test(test_reconfig_is_bounded),
		cmocka_unit_test(test_close_is_bounded),
		cmocka_unit_test(test_offload_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
