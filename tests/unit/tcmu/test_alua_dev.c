/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ALUA on a device end to end through the ring simulator (tcmu/alua_dev.c): INQUIRY TPGS,
 * REPORT TARGET PORT GROUPS from the groups given with rts_dev_set_alua(), SET TARGET PORT
 * GROUPS recorded by the core, or handed to a handler's set_alua (success and refusal),
 * implicit transitions with rts_dev_set_alua_state(), and no ALUA at all.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <rts/device.h>

#define TIMEOUT_MS 10000

static unsigned int set_alua_calls;
static int set_alua_result;
static struct rts_alua_change last[RTS_ALUA_MAX_GROUPS];

static int zero_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int iovcnt, uint64_t off, uint64_t len)
{
	(void)dev;
	(void)off;
	(void)len;
	for (unsigned int i = 0; i < iovcnt; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int zero_open(struct rts_dev *dev, bool reopen)
{
	(void)reopen;
	rts_dev_set_num_lbas(dev, 2048);
	return 0;
}

/* A handler that owns path state: it sees the validated transitions and completes. */
static int path_set_alua(struct rts_dev *dev, struct rts_cmd *cmd,
			 const struct rts_alua_change *changes, unsigned int n)
{
	(void)dev;
	set_alua_calls++;
	memcpy(last, changes, n * sizeof(*changes));
	if (set_alua_result)
		return set_alua_result;
	rts_cmd_complete(cmd, 0);
	return 0;
}

static const struct rts_handler plain = {
	RTS_HANDLER_INIT,
	.name = "zero",
	.subtype = "zero",
	.open = zero_open,
	.read = zero_read,
};

static const struct rts_handler owner = {
	RTS_HANDLER_INIT,
	.name = "zero with path state",
	.subtype = "zero",
	.open = zero_open,
	.read = zero_read,
	.set_alua = path_set_alua,
};

struct fix {
	struct rts_sim *sim;
	struct rts_dev *dev;
};

static void start(struct fix *f, const struct rts_handler *h, unsigned int tpgs)
{
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "alua", .cfgstring = "zero/x", .block_size = 512 };
	struct rts_alua_group g[2] = {
		{ .id = 10, .state = RTS_ALUA_ACTIVE_OPTIMIZED, .preferred = true, .nports = 1,
		  .rel_port_ids = { 1 } },
		{ .id = 20, .state = RTS_ALUA_STANDBY, .nports = 1, .rel_port_ids = { 2 } },
	};

	assert_int_equal(rts_sim_new(NULL, &f->sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, h, f->sim, &f->dev), 0);
	assert_int_equal(rts_dev_open(f->dev, false, NULL), 0);
	assert_int_equal(rts_dev_set_alua(f->dev, tpgs, g, 2), 0);
	assert_int_equal(rts_dev_start(f->dev), 0);
}

static void stop(struct fix *f)
{
	assert_int_equal(rts_dev_stop(f->dev, TIMEOUT_MS), 0);
	assert_null(rts_sim_broken_reason(f->sim));
	rts_dev_close(f->dev);
	f->dev = rts_dev_free(f->dev);
	f->sim = rts_sim_free(f->sim);
}

static void exec(struct fix *f, const uint8_t *cdb, size_t cdb_len, enum rts_sim_dir dir,
		 void *buf, size_t len, struct rts_sim_completion *c)
{
	assert_int_equal(rts_sim_exec(f->sim, cdb, cdb_len, dir, buf, len, TIMEOUT_MS, c), 0);
}

static void rtpg(struct fix *f, uint8_t *buf, size_t len)
{
	uint8_t cdb[12] = { 0xa3, 0x0a };
	struct rts_sim_completion c;

	cdb[9] = (uint8_t)len;
	exec(f, cdb, sizeof(cdb), RTS_SIM_FROM_DEV, buf, len, &c);
	assert_int_equal(c.status, 0);
}

static void stpg(struct fix *f, uint16_t id, uint8_t state, struct rts_sim_completion *c)
{
	uint8_t cdb[12] = { 0xa4, 0x0a }, pl[8] = { 0 };

	cdb[9] = sizeof(pl);
	pl[4] = state;
	pl[6] = (uint8_t)(id >> 8);
	pl[7] = (uint8_t)id;
	exec(f, cdb, sizeof(cdb), RTS_SIM_TO_DEV, pl, sizeof(pl), c);
}

static void test_inquiry_and_rtpg(void **state)
{
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36 }, buf[64];
	struct rts_sim_completion c;
	struct fix f;

	(void)state;
	start(&f, &plain, 3);
	exec(&f, inq, sizeof(inq), RTS_SIM_FROM_DEV, buf, 36, &c);
	assert_int_equal(c.status, 0);
	assert_int_equal(buf[5] & 0x30, 0x30); /* TPGS: implicit and explicit */
	rtpg(&f, buf, sizeof(buf));
	assert_int_equal(buf[3], 24); /* 2 x (8 + 4) */
	assert_int_equal(buf[4], 0x80 | RTS_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(buf[7], 10);
	assert_int_equal(buf[15], 1);
	assert_int_equal(buf[16], RTS_ALUA_STANDBY);
	assert_int_equal(buf[19], 20);
	assert_int_equal(buf[27], 2);
	stop(&f);
}

static void test_stpg_recorded_by_core(void **state)
{
	struct rts_sim_completion c;
	uint8_t buf[64];
	struct fix f;

	(void)state;
	start(&f, &plain, 2);
	stpg(&f, 20, RTS_ALUA_ACTIVE_OPTIMIZED, &c);
	assert_int_equal(c.status, 0);
	rtpg(&f, buf, sizeof(buf));
	assert_int_equal(buf[16] & 0x0f, RTS_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(buf[21], 1); /* altered by SET TARGET PORT GROUPS */
	/* unknown group: INVALID FIELD IN PARAMETER LIST, nothing changes */
	stpg(&f, 99, RTS_ALUA_STANDBY, &c);
	assert_int_equal(c.status, 2);
	assert_int_equal(c.sense[12], 0x26);
	stop(&f);
}

static void test_stpg_through_handler(void **state)
{
	struct rts_sim_completion c;
	struct fix f;

	(void)state;
	set_alua_calls = 0;
	set_alua_result = 0;
	start(&f, &owner, 3);
	stpg(&f, 20, RTS_ALUA_ACTIVE_OPTIMIZED, &c);
	assert_int_equal(c.status, 0);
	assert_int_equal(set_alua_calls, 1);
	assert_int_equal(last[0].id, 20);
	assert_int_equal(last[0].state, RTS_ALUA_ACTIVE_OPTIMIZED);
	/* the handler refuses (e.g. the lock could not be taken in time): BUSY, no change */
	set_alua_result = -EBUSY;
	stpg(&f, 10, RTS_ALUA_STANDBY, &c);
	assert_int_equal(c.status, 0x08);
	assert_int_equal(set_alua_calls, 2);
	assert_int_equal(rts_dev_stop(f.dev, TIMEOUT_MS), 0);
	/* states are read on the I/O thread's behalf once it stopped */
	assert_int_equal(rts_dev_get_alua_state(f.dev, 20), RTS_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(rts_dev_get_alua_state(f.dev, 10), RTS_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(rts_dev_get_alua_state(f.dev, 7), -ENOENT);
	/* an implicit transition (the handler's own) */
	assert_int_equal(rts_dev_set_alua_state(f.dev, 10, RTS_ALUA_TRANSITIONING), 0);
	assert_int_equal(rts_dev_get_alua_state(f.dev, 10), RTS_ALUA_TRANSITIONING);
	assert_int_equal(rts_dev_start(f.dev), 0);
	{
		uint8_t buf[64];

		rtpg(&f, buf, sizeof(buf));
		assert_int_equal(buf[4] & 0x0f, RTS_ALUA_TRANSITIONING);
		assert_int_equal(buf[9], 2); /* altered implicitly */
	}
	stop(&f);
}

static void test_no_alua(void **state)
{
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36 }, buf[64], cdb[12] = { 0xa3, 0x0a };
	struct rts_alua_group dup[2] = { { .id = 1 }, { .id = 1 } };
	struct rts_sim_completion c;
	struct fix f;

	(void)state;
	start(&f, &plain, 0);
	exec(&f, inq, sizeof(inq), RTS_SIM_FROM_DEV, buf, 36, &c);
	assert_int_equal(buf[5] & 0x30, 0);
	cdb[9] = 64;
	exec(&f, cdb, sizeof(cdb), RTS_SIM_FROM_DEV, buf, 64, &c);
	assert_int_equal(c.status, 2);
	/* MAINTENANCE IN is supported (REPORT SUPPORTED OPERATION CODES), its RTPG service
	 * action is not: INVALID FIELD IN CDB pointing at the service action (SPC-5 4.5.2) */
	assert_int_equal(c.sense[12], 0x24);
	assert_int_equal(c.sense[15] & 0xc0, 0xc0); /* SKSV, C/D: in the CDB */
	assert_int_equal(c.sense[17], 1);    /* byte 1 */
	assert_int_equal(rts_dev_set_alua(f.dev, 3, dup, 2), -EINVAL);
	stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inquiry_and_rtpg),
		cmocka_unit_test(test_stpg_recorded_by_core),
		cmocka_unit_test(test_stpg_through_handler),
		cmocka_unit_test(test_no_alua),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
