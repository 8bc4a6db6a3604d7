/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * handlers/errinj loaded as a plugin over handler_ram.so (found beside it) and driven through
 * the ring simulator: the exact status and sense of every fault, LBA ranges, every/count/prob,
 * short transfers (what landed and what did not), a hung command aborted by TMR while other
 * commands keep flowing, rules changed at runtime through reconfig, and the reasons bad
 * cfgstrings get. The rule parser is also tested directly (rules.c is compiled in).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include <rts/device.h>

#include "rules.h"

#define BS 512u
#define TMO 5000

#include "harness.h"

static struct rts_loaded_handler *lh;
static const struct rts_handler *h;

struct fx {
	struct rts_sim *sim;
	struct rts_dev *dev;
};

static struct fx *fx_start(const char *cfgstring)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct rts_sim_params sp = { .data_size = 4 << 20 };
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "e0", .cfgstring = cfgstring, .block_size = BS,
				      .queue_depth = 64, .write_cache = true };
	char *why = NULL;

	assert_non_null(f);
	assert_int_equal(rts_sim_new(&sp, &f->sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, h, f->sim, &f->dev), 0);
	if (rts_dev_open(f->dev, false, &why) < 0)
		fail_msg("open '%s': %s", cfgstring, why ? why : "?");
	assert_int_equal(rts_dev_start(f->dev), 0);
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

static struct rts_sim_completion rw(struct fx *f, bool write, uint64_t lba, uint32_t n, void *buf)
{
	uint8_t cdb[16];
	struct rts_sim_completion c;

	rw16(cdb, write ? 0x8a : 0x88, lba, n);
	assert_int_equal(rts_sim_exec(f->sim, cdb, 16, write ? RTS_SIM_TO_DEV : RTS_SIM_FROM_DEV,
				      buf, (size_t)n * BS, TMO, &c),
			 0);
	return c;
}

static struct rts_sim_completion sync_cache(struct fx *f)
{
	uint8_t cdb[10] = { 0x35 };
	struct rts_sim_completion c;

	assert_int_equal(rts_sim_exec(f->sim, cdb, 10, RTS_SIM_NONE, NULL, 0, TMO, &c), 0);
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

/* ------------------------------------------------------------------- tests */

/* Each fault, read and write: exactly the status and sense an initiator gets. */
static void test_fault_sense(void **state)
{
	static uint8_t buf[8 * BS];
	struct {
		const char *cfg;
		bool write;
		uint8_t status, key, asc, ascq;
	} cases[] = {
		{ "errinj/eio/ram/1M", false, 2, 0x3, 0x11, 0x00 },    /* UNRECOVERED READ ERROR */
		{ "errinj/eio/ram/1M", true, 2, 0x3, 0x0c, 0x00 },     /* WRITE ERROR */
		{ "errinj/enospc/ram/1M", true, 2, 0x7, 0x27, 0x07 },  /* SPACE ALLOCATION FAILED */
		{ "errinj/erofs/ram/1M", true, 2, 0x7, 0x27, 0x00 },   /* WRITE PROTECTED */
		{ "errinj/ebusy/ram/1M", false, 0x08, 0, 0, 0 },       /* BUSY */
		{ "errinj/enomem/ram/1M", false, 0x28, 0, 0, 0 },      /* TASK SET FULL */
		{ "errinj/short/ram/1M", false, 2, 0x3, 0x11, 0x00 },
		{ "errinj/short/ram/1M", true, 2, 0x3, 0x0c, 0x00 },
		{ "errinj/latency,ms=20/ram/1M", true, 0, 0, 0, 0 },   /* only later */
		{ "errinj/eio,op=write/ram/1M", false, 0, 0, 0, 0 },   /* not this op */
		{ "errinj/eio,op=read+flush/ram/1M", true, 0, 0, 0, 0 },
		{ "errinj/none/ram/1M", true, 0, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fx *f = fx_start(cases[i].cfg);
		struct rts_sim_completion c = rw(f, cases[i].write, 8, 8, buf);

		print_message("%s %s\n", cases[i].cfg, cases[i].write ? "write" : "read");
		assert_int_equal(c.status, cases[i].status);
		if (c.status == 2)
			expect_sense(&c, cases[i].key, cases[i].asc, cases[i].ascq);
		fx_stop(f);
	}
	/* SYNCHRONIZE CACHE through flush() */
	struct fx *f = fx_start("errinj/eio,op=flush/ram/1M");
	struct rts_sim_completion c = sync_cache(f);
	expect_sense(&c, 0x3, 0x0c, 0x00);
	c = rw(f, true, 0, 1, buf);
	assert_int_equal(c.status, 0); /* write cache on: no flush behind the write */
	fx_stop(f);
}

/* LBA ranges match on overlap; every, count and prob select among matches. */
static void test_lba_every_count_prob(void **state)
{
	static uint8_t buf[4 * BS];
	struct fx *f;
	int fails;

	(void)state;
	f = fx_start("errinj/eio,op=read,lba=100-199/ram/1M");
	assert_int_equal(rw(f, false, 99, 1, buf).status, 0);
	assert_int_equal(rw(f, false, 99, 2, buf).status, 2); /* overlaps 100 */
	assert_int_equal(rw(f, false, 150, 4, buf).status, 2);
	assert_int_equal(rw(f, false, 199, 1, buf).status, 2);
	assert_int_equal(rw(f, false, 200, 4, buf).status, 0);
	assert_int_equal(rw(f, true, 150, 1, buf).status, 0); /* writes pass */
	fx_stop(f);

	f = fx_start("errinj/eio,every=3/ram/1M");
	for (int i = 1; i <= 9; i++)
		assert_int_equal(rw(f, false, (uint64_t)i, 1, buf).status, i % 3 == 0 ? 2 : 0);
	fx_stop(f);

	f = fx_start("errinj/eio,count=2;ebusy,op=read,lba=7/ram/1M");
	fails = 0;
	for (int i = 0; i < 6; i++)
		fails += rw(f, false, 1, 1, buf).status == 2;
	assert_int_equal(fails, 2);
	/* the first rule is used up: the second one takes lba 7 */
	assert_int_equal(rw(f, false, 7, 1, buf).status, 0x08);
	fx_stop(f);

	f = fx_start("errinj/eio,prob=0.25/ram/1M");
	fails = 0;
	for (int i = 0; i < 400; i++)
		fails += rw(f, false, 1, 1, buf).status == 2;
	/* a fixed seed (from the device name): reproducible, and near a quarter */
	print_message("prob=0.25: %d of 400 failed\n", fails);
	assert_in_range(fails, 60, 140);
	fx_stop(f);
}

/* short: the inner handler writes the first blocks only; the rest stays as it was. */
static void test_short_write_lands_partly(void **state)
{
	static uint8_t w[8 * BS], r[8 * BS];
	struct fx *f = fx_start("errinj/short,op=write,blocks=3,count=1/ram/1M");
	struct rts_sim_completion c;

	(void)state;
	memset(w, 0xab, sizeof(w));
	c = rw(f, true, 40, 8, w);
	expect_sense(&c, 0x3, 0x0c, 0x00);
	c = rw(f, false, 40, 8, r);
	assert_int_equal(c.status, 0);
	assert_memory_equal(r, w, 3 * BS);
	for (size_t i = 3 * BS; i < sizeof(r); i++)
		assert_int_equal(r[i], 0);
	fx_stop(f);
}

struct got {
	uint16_t hung;
	int hung_status;
	unsigned int good, bad;
};

static void got_cb(void *ud, const struct rts_sim_completion *c)
{
	struct got *g = ud;

	if (c->cmd_id == g->hung)
		g->hung_status = c->status;
	else if (c->status == 0)
		g->good++;
	else
		g->bad++;
}

/* A hung command stays out while others flow; a TMR abort ends it (TASK ABORTED) without
 * wedging the ring, and the device serves on. */
static void test_hang_abort_others_flow(void **state)
{
	static uint8_t hb[BS], bufs[32][BS];
	struct fx *f = fx_start("errinj/hang,op=read,lba=10/ram/1M");
	struct got g = { .hung_status = -1 };
	uint8_t cdb[16];

	(void)state;
	rw16(cdb, 0x88, 10, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_FROM_DEV, hb, BS, NULL, &g.hung), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 32; i++) {
			rw16(cdb, i % 2 ? 0x8a : 0x88, 100 + (uint64_t)i, 1);
			assert_int_equal(rts_sim_submit(f->sim, cdb, 16,
							i % 2 ? RTS_SIM_TO_DEV : RTS_SIM_FROM_DEV,
							bufs[i], BS, NULL, NULL),
					 0);
		}
		assert_int_equal(rts_sim_kick(f->sim), 0);
		while (rts_sim_outstanding(f->sim) > 1) {
			assert_true(rts_sim_wait(f->sim, TMO) > 0);
			assert_true(rts_sim_reap(f->sim, got_cb, &g) >= 0);
		}
	}
	assert_int_equal(g.good, 4 * 32);
	assert_int_equal(g.bad, 0);
	assert_int_equal(g.hung_status, -1); /* still hung */
	assert_int_equal(rts_sim_outstanding(f->sim), 1);
	assert_int_equal(rts_sim_queue_tmr(f->sim, 1 /* ABORT_TASK */, &g.hung, 1), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	while (g.hung_status < 0) {
		assert_true(rts_sim_wait(f->sim, TMO) > 0);
		assert_true(rts_sim_reap(f->sim, got_cb, &g) >= 0);
	}
	assert_int_equal(g.hung_status, 0x40); /* TASK ABORTED */
	struct rts_dev_stats st = { .struct_size = sizeof(st) };
	rts_dev_get_stats(f->dev, &st);
	assert_int_equal(st.aborts, 1);
	assert_int_equal(st.aborts_cancelled, 1);
	assert_int_equal(st.inflight, 0);
	assert_int_equal(rw(f, false, 11, 1, hb).status, 0);
	fx_stop(f);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/*
 * A signal caught while rts_sim_exec() waits (libFuzzer's timer, a test's SIGALRM) is not a
 * failure: it waits out the rest of its timeout. The device thread keeps serving through the
 * same signals (they may be delivered to any thread).
 */
static void test_exec_survives_signals(void **state)
{
	static uint8_t buf[BS];
	struct sigaction sa = { .sa_handler = on_alarm }, old; /* no SA_RESTART: poll() fails EINTR */
	struct itimerval every10ms = { { 0, 10000 }, { 0, 10000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct fx *f = fx_start("errinj/latency,ms=200/ram/1M");

	(void)state;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	alarms = 0;
	assert_int_equal(setitimer(ITIMER_REAL, &every10ms, NULL), 0);
	for (int i = 0; i < 3; i++) {
		memset(buf, i + 1, sizeof(buf));
		assert_int_equal(rw(f, true, (uint64_t)i, 1, buf).status, 0);
		assert_int_equal(rw(f, false, (uint64_t)i, 1, buf).status, 0);
		assert_int_equal(buf[BS - 1], i + 1);
	}
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	assert_true(alarms > 0);
	fx_stop(f);
}

/* A hung command does not hold a stop: its timer is cancelled and it ends. */
static void test_hang_does_not_hold_stop(void **state)
{
	static uint8_t hb[BS];
	struct fx *f = fx_start("errinj/hang/ram/1M");
	uint8_t cdb[16];
	struct got g = { .hung_status = -1 };

	(void)state;
	rw16(cdb, 0x8a, 3, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_TO_DEV, hb, BS, NULL, &g.hung), 0);
	assert_int_equal(rts_sim_kick(f->sim), 0);
	assert_int_equal(rts_sim_wait(f->sim, 50), 0);
	assert_int_equal(rts_dev_stop(f->dev, 100), -ETIMEDOUT);
	assert_int_equal(rts_sim_reap(f->sim, got_cb, &g), 1);
	assert_int_equal(g.hung_status, 0x40);
	assert_null(rts_dev_get_failure(f->dev));
	rts_dev_close(f->dev);
	rts_dev_free(f->dev);
	rts_sim_free(f->sim);
	free(f);
}

/* Rules change at runtime through reconfig (the kernel's dev_config); bad ones are refused
 * and the old rules stay. */
static void test_rules_change_at_runtime(void **state)
{
	static uint8_t buf[BS];
	struct fx *f = fx_start("errinj/none/ram/1M");
	struct rts_reconfig rc = { .struct_size = sizeof(rc), .what = RTS_RECONFIG_CFGSTRING };

	(void)state;
	assert_int_equal(rw(f, false, 5, 1, buf).status, 0);
	rc.cfgstring = "eio,op=read/ram/1M";
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), 0);
	expect_sense((struct rts_sim_completion[]){ rw(f, false, 5, 1, buf) }, 0x3, 0x11, 0x00);
	rc.cfgstring = "eio,op=bogus/ram/1M";
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), -EINVAL);
	assert_int_equal(rw(f, false, 5, 1, buf).status, 2); /* old rules stay */
	rc.cfgstring = "none/file/x";
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), -EINVAL);
	rc.cfgstring = "none/ram/1M";
	assert_int_equal(rts_dev_reconfig(f->dev, &rc), 0);
	assert_int_equal(rw(f, false, 5, 1, buf).status, 0);
	fx_stop(f);
}

static void expect_bad_config(const char *cfg, int err, const char *reason_part)
{
	char *why = NULL;

	assert_int_equal(h->check_config(cfg, &why), err);
	assert_non_null(why);
	if (!strstr(why, reason_part))
		fail_msg("'%s': reason '%s' lacks '%s'", cfg, why, reason_part);
	free(why);
}

static void test_config_reasons(void **state)
{
	(void)state;
	assert_int_equal(h->check_config("eio,lba=1-2,every=2;latency,ms=5/ram/1M", NULL), 0);
	expect_bad_config("bogus/ram/1M", -EINVAL, "errinj rule 1: unknown fault 'bogus'");
	expect_bad_config("eio;;eio/ram/1M", -EINVAL, "errinj rule 2 is empty");
	expect_bad_config("eio,lba=9-3/ram/1M", -EINVAL, "lba range 9-3 is reversed");
	expect_bad_config("latency/ram/1M", -EINVAL, "latency needs ms=N");
	expect_bad_config("eio,prob=1.5/ram/1M", -EINVAL, "prob '1.5' is not between 0 and 1");
	expect_bad_config("eio", -EINVAL, "expected '<rules>/<inner subtype>/<inner cfgstring>'");
	expect_bad_config("none/errinj/x", -EINVAL, "cannot wrap errinj itself");
	expect_bad_config("none/../x", -EINVAL, "has a character other than");
	expect_bad_config("none/nosuch/x", -ENOENT, "handler_nosuch.so");
	expect_bad_config("none/ram/12Q", -EINVAL, "ram: expected a size");
}

/* The parser on its own: fields land where they should. */
static void test_rule_parser(void **state)
{
	struct ei_rules rs;
	char *why = NULL;
	const char *s = "short,op=read+write,lba=5-9,every=4,count=7,blocks=2;latency,ms=1500,prob=25%";

	(void)state;
	assert_int_equal(ei_parse_rules(s, strlen(s), &rs, &why), 0);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.r[0].fault, EI_SHORT);
	assert_int_equal(rs.r[0].ops, EI_OP_READ | EI_OP_WRITE);
	assert_true(rs.r[0].has_lba);
	assert_int_equal(rs.r[0].lba_first, 5);
	assert_int_equal(rs.r[0].lba_last, 9);
	assert_int_equal(rs.r[0].every, 4);
	assert_int_equal(rs.r[0].count, 7);
	assert_int_equal(rs.r[0].blocks, 2);
	assert_int_equal(rs.r[1].fault, EI_LATENCY);
	assert_int_equal(rs.r[1].ms, 1500);
	assert_int_equal(rs.r[1].prob_ppm, 250000);
	assert_int_equal(rs.r[1].ops, EI_OP_ANY);
	assert_int_equal(ei_parse_rules("none", 4, &rs, NULL), 0);
	assert_int_equal(rs.n, 0);
	assert_int_equal(ei_parse_rules("eio,prob=0.000001", 17, &rs, NULL), 0);
	assert_int_equal(rs.r[0].prob_ppm, 1);
	assert_int_equal(ei_parse_rules("eio,every=0", 11, &rs, NULL), -EINVAL);
	assert_int_equal(ei_parse_rules("eio,lba=18446744073709551616", 28, &rs, NULL), -EINVAL);
	assert_int_equal(ei_parse_rules("", 0, &rs, NULL), -EINVAL);
	/* a range matched on overlap, including the very top of the LBA space */
	uint64_t rng = 1;
	assert_int_equal(ei_parse_rules("eio,lba=18446744073709551614-18446744073709551615", 49, &rs,
					NULL),
			 0);
	assert_non_null(ei_match(&rs, EI_OP_READ, UINT64_MAX - 4, 4, &rng));
	assert_null(ei_match(&rs, EI_OP_READ, UINT64_MAX - 4, 2, &rng));
	assert_null(ei_match(&rs, EI_OP_FLUSH, 0, 0, &rng)); /* no range: no lba rule */
}

static int setup(void **state)
{
	const char *bindir = getenv("RTS_TEST_BINDIR");
	char path[512], *why = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/handlers/handler_errinj.so", bindir ? bindir : ".");
	if (rts_handler_load(path, &lh, &why) < 0) {
		fprintf(stderr, "cannot load %s: %s\n", path, why ? why : "?");
		free(why);
		return -1;
	}
	h = rts_loaded_handler_get(lh);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rts_handler_unload(lh);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_sense),
		cmocka_unit_test(test_lba_every_count_prob),
		cmocka_unit_test(test_short_write_lands_partly),
		cmocka_unit_test(test_hang_abort_others_flow),
		cmocka_unit_test(test_hang_does_not_hold_stop),
		cmocka_unit_test(test_exec_survives_signals),
		cmocka_unit_test(test_rules_change_at_runtime),
		cmocka_unit_test(test_config_reasons),
		cmocka_unit_test(test_rule_parser),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
