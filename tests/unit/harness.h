/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The harness shared by the suites that drive a device through the ring simulator
 * (tests/unit/tcmu/test_dev*.c, tests/unit/handlers/test_*.c, tests/ceph/test_rbd.c).
 * Include after <cmocka.h>. Always there: big-endian fields, CDB builders, data patterns.
 * On request (define before including):
 *   HARNESS_LOG        a log sink for rts_dev_config.log_fn that any thread may call
 *                      (log_cb) and its checks (log_has, log_lacks_quiet, log_clear)
 *   HARNESS_TDEV       struct tdev, a handler's device on its own simulator (tdev_open_sim,
 *                      tdev_close) and batches of commands in flight (submit_retry, pump)
 *   HARNESS_BLOCK_IO   with HARNESS_TDEV: commands by LBA and block count that must succeed
 *                      (exec, do_rw, read_ok, write_ok, assert_good, assert_sense,
 *                      capacity_blocks)
 * BS (block size) and TIMEOUT_MS default to 512 and 10000 when not defined before.
 */
#ifndef RTS_TESTS_UNIT_HARNESS_H
#define RTS_TESTS_UNIT_HARNESS_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <rts/device.h>

#ifndef BS
#define BS 512u
#endif
#ifndef TIMEOUT_MS
#define TIMEOUT_MS 10000
#endif

/* ------------------------------------------------------------ bytes and CDBs */

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

static inline void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A 16-byte CDB with @op, an 8-byte LBA at 2 and a 4-byte count at 10 (READ/WRITE(16),
 * WRITE SAME(16), VERIFY(16), ...). */
static inline void rw16(uint8_t *cdb, uint8_t op, uint64_t lba, uint32_t blocks)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, blocks);
}

/* A reproducible pseudo-random pattern (xorshift) for @seed. */
static inline void fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static inline bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static inline uint64_t allocated_bytes(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

/* ------------------------------------------------------------ log capture */

#ifdef HARNESS_LOG
#include <pthread.h>

static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_log[16384];

/* rts_dev_config.log_fn: the device's I/O thread logs concurrently with the test. */
static inline void log_cb(void *ud, int prio, const char *dev, const char *msg)
{
	(void)ud;
	(void)prio;
	(void)dev;
	pthread_mutex_lock(&g_log_lock);
	size_t n = strlen(g_log);
	snprintf(g_log + n, sizeof(g_log) - n, "%s\n", msg);
	pthread_mutex_unlock(&g_log_lock);
}

static inline void log_clear(void)
{
	pthread_mutex_lock(&g_log_lock);
	g_log[0] = '\0';
	pthread_mutex_unlock(&g_log_lock);
}

static inline bool log_lacks_quiet(const char *needle)
{
	bool found;

	pthread_mutex_lock(&g_log_lock);
	found = strstr(g_log, needle) != NULL;
	pthread_mutex_unlock(&g_log_lock);
	return !found;
}

/* Whether the log has @needle; prints the log when it has not. */
static inline bool log_has(const char *needle)
{
	bool found;

	pthread_mutex_lock(&g_log_lock);
	found = strstr(g_log, needle) != NULL;
	pthread_mutex_unlock(&g_log_lock);
	if (!found)
		print_message("log lacks \"%s\":\n%s", needle, g_log);
	return found;
}
#endif

/* ------------------------------------------------------------ a handler's device */

#ifdef HARNESS_TDEV
struct tdev {
	struct rts_sim *sim;
	struct rts_dev *dev;
};

/* Open @cfg ("<subtype>/...") with @h on a new simulator (@sp: NULL for the defaults) and
 * start it; a refused open returns its error with nothing left behind. */
static inline int tdev_open_sim(struct tdev *t, const struct rts_handler *h, const char *name,
				const char *cfg, uint64_t dev_size,
				const struct rts_sim_params *sp, char **why)
{
	struct rts_dev_config dc = {
		RTS_DEV_CONFIG_INIT,
		.name = name,
		.cfgstring = cfg,
		.size = dev_size,
		.block_size = BS,
		.write_cache = true,
	};
	int r;

	*t = (struct tdev){ 0 };
	assert_int_equal(rts_sim_new(sp, &t->sim), 0);
	assert_int_equal(rts_dev_new_sim(&dc, h, t->sim, &t->dev), 0);
	r = rts_dev_open(t->dev, false, why);
	if (r < 0) {
		t->dev = rts_dev_free(t->dev);
		t->sim = rts_sim_free(t->sim);
		return r;
	}
	assert_int_equal(rts_dev_start(t->dev), 0);
	return 0;
}

/* Stop and free; the device must not have failed nor the simulator seen a broken ring. */
static inline void tdev_close(struct tdev *t)
{
	assert_int_equal(rts_dev_stop(t->dev, TIMEOUT_MS), 0);
	assert_null(rts_dev_get_failure(t->dev));
	assert_null(rts_sim_broken_reason(t->sim));
	rts_dev_close(t->dev);
	t->dev = rts_dev_free(t->dev);
	t->sim = rts_sim_free(t->sim);
}

/* Completion callback of a batch: counts (and prints) the commands that did not end GOOD. */
static inline void reap_cb(void *userdata, const struct rts_sim_completion *c)
{
	unsigned int *bad = userdata;

	if (c->status) {
		fprintf(stderr, "status 0x%02x sense %x/%02x/%02x\n", c->status,
			c->sense[2] & 0xf, c->sense[12], c->sense[13]);
		(*bad)++;
	}
}

/* Queue one command; when the ring or data area is full, let completions drain first. */
static inline void submit_retry(struct tdev *t, const uint8_t *cdb, enum rts_sim_dir dir,
				void *buf, size_t len, unsigned int *bad)
{
	int r;

	while ((r = rts_sim_submit(t->sim, cdb, 16, dir, buf, len, NULL, NULL)) == -EAGAIN) {
		assert_true(rts_sim_outstanding(t->sim) > 0);
		rts_sim_kick(t->sim);
		assert_true(rts_sim_wait(t->sim, TIMEOUT_MS) >= 0);
		assert_true(rts_sim_reap(t->sim, reap_cb, bad) >= 0);
	}
	assert_int_equal(r, 0);
}

/* Kick and reap until nothing is outstanding. */
static inline void pump(struct tdev *t, unsigned int *bad)
{
	rts_sim_kick(t->sim);
	while (rts_sim_outstanding(t->sim)) {
		assert_true(rts_sim_wait(t->sim, TIMEOUT_MS) >= 0);
		assert_true(rts_sim_reap(t->sim, reap_cb, bad) >= 0);
	}
}

#ifdef HARNESS_BLOCK_IO
static inline void exec(struct tdev *t, const uint8_t *cdb, size_t cdb_len, enum rts_sim_dir dir,
			void *buf, size_t len, struct rts_sim_completion *c)
{
	assert_int_equal(rts_sim_exec(t->sim, cdb, cdb_len, dir, buf, len, TIMEOUT_MS, c), 0);
}

static inline void assert_good(const struct rts_sim_completion *c)
{
	if (c->status != 0)
		fail_msg("status 0x%02x sense key %x asc/ascq %02x/%02x", c->status,
			 c->sense[2] & 0xf, c->sense[12], c->sense[13]);
}

static inline void assert_sense(const struct rts_sim_completion *c, uint8_t key, uint8_t asc,
				uint8_t ascq)
{
	assert_int_equal(c->status, 2);
	assert_int_equal(c->sense[2] & 0xf, key);
	assert_int_equal(c->sense[12], asc);
	assert_int_equal(c->sense[13], ascq);
}

/* READ(16) (0x88) or WRITE(16) (0x8a) of @blocks at @lba. */
static inline void do_rw(struct tdev *t, uint8_t op, uint64_t lba, uint32_t blocks, uint8_t *buf,
			 struct rts_sim_completion *c)
{
	uint8_t cdb[16];

	rw16(cdb, op, lba, blocks);
	exec(t, cdb, 16, op == 0x88 ? RTS_SIM_FROM_DEV : RTS_SIM_TO_DEV, buf, (size_t)blocks * BS,
	     c);
}

static inline void write_ok(struct tdev *t, uint64_t lba, uint32_t blocks, uint8_t *buf)
{
	struct rts_sim_completion c;

	do_rw(t, 0x8a, lba, blocks, buf, &c);
	assert_good(&c);
}

static inline void read_ok(struct tdev *t, uint64_t lba, uint32_t blocks, uint8_t *buf)
{
	struct rts_sim_completion c;

	do_rw(t, 0x88, lba, blocks, buf, &c);
	assert_good(&c);
}

/* READ CAPACITY(16): the number of blocks. */
static inline uint64_t capacity_blocks(struct tdev *t)
{
	uint8_t cdb[16] = { 0x9e, 0x10 }, buf[32];
	struct rts_sim_completion c;
	uint64_t last = 0;

	put_be32(cdb + 10, sizeof(buf));
	exec(t, cdb, 16, RTS_SIM_FROM_DEV, buf, sizeof(buf), &c);
	assert_good(&c);
	for (int i = 0; i < 8; i++)
		last = last << 8 | buf[i];
	return last + 1;
}
#endif /* HARNESS_BLOCK_IO */
#endif /* HARNESS_TDEV */

#endif
