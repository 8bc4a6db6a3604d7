/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit test of the example handler without a kernel and without root: load the plugin the
 * way rts-runner does (rts_handler_load()), serve a device from the ring simulator
 * (rts_sim_*, rts_dev_new_sim()) and send it real SCSI commands. This is the pattern
 * docs/handler-guide.md recommends for testing any handler.
 *
 *   test_example [path/to/handler_example.so]      (default ./handler_example.so)
 *
 * Exit status 0 when every check passed, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rts/device.h>

#define TIMEOUT_MS 10000
#define BS 512u

static int failures, checks;

#define CHECK(cond, ...)                                   \
	do {                                               \
		checks++;                                  \
		if (!(cond)) {                             \
			failures++;                        \
			printf("FAIL %s:%d: ", __FILE__, __LINE__); \
			printf(__VA_ARGS__);               \
			printf("\n");                      \
		}                                          \
	} while (0)

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* READ(10)/WRITE(10) of @nblocks at @lba. */
static int rw10(struct rts_sim *sim, bool write, uint32_t lba, uint16_t nblocks, void *buf,
		struct rts_sim_completion *c)
{
	uint8_t cdb[10] = { write ? 0x2a : 0x28 };

	be32(cdb + 2, lba);
	cdb[7] = (uint8_t)(nblocks >> 8);
	cdb[8] = (uint8_t)nblocks;
	return rts_sim_exec(sim, cdb, sizeof(cdb), write ? RTS_SIM_TO_DEV : RTS_SIM_FROM_DEV, buf,
			    (size_t)nblocks * BS, TIMEOUT_MS, c);
}

/* Run @cfgstring's device through writes, reads, an unmap and an out-of-range read. */
static void exercise(const struct rts_handler *h, const char *cfgstring, uint64_t want_size)
{
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "t0", .cfgstring = cfgstring, .block_size = BS };
	struct rts_sim_params sp = { .cmdr_size = 64 * 1024, .data_size = 4u << 20 };
	struct rts_sim_completion c;
	struct rts_sim *sim = NULL;
	struct rts_dev *dev = NULL;
	uint8_t out[8 * BS], in[8 * BS], zero[8 * BS] = { 0 };
	uint8_t rc10[8], cdb_rc10[10] = { 0x25 };
	char *why = NULL;
	int r;

	r = rts_sim_new(&sp, &sim);
	CHECK(r == 0, "rts_sim_new: %s", strerror(-r));
	r = rts_dev_new_sim(&cfg, h, sim, &dev);
	CHECK(r == 0, "rts_dev_new_sim(%s): %s", cfgstring, strerror(-r));
	r = r ? r : rts_dev_open(dev, false, &why);
	CHECK(r == 0, "open(%s): %s", cfgstring, why ? why : strerror(-r));
	free(why);
	if (r == 0 && rts_dev_start(dev) == 0) {
		/* the first command of a new device reports the power-on UNIT ATTENTION */
		r = rts_sim_exec(sim, cdb_rc10, sizeof(cdb_rc10), RTS_SIM_FROM_DEV, rc10,
				 sizeof(rc10), TIMEOUT_MS, &c);
		if (r == 0 && c.status == 2)
			r = rts_sim_exec(sim, cdb_rc10, sizeof(cdb_rc10), RTS_SIM_FROM_DEV, rc10,
					 sizeof(rc10), TIMEOUT_MS, &c);
		CHECK(r == 0 && c.status == 0, "READ CAPACITY(10): r=%d status=%u", r, c.status);
		uint64_t blocks = ((uint64_t)rc10[0] << 24 | rc10[1] << 16 | rc10[2] << 8 | rc10[3]) + 1;
		CHECK(blocks * BS == want_size, "%s: capacity %llu bytes, want %llu", cfgstring,
		      (unsigned long long)(blocks * BS), (unsigned long long)want_size);

		/* never written: zeros */
		memset(in, 0xee, sizeof(in));
		r = rw10(sim, false, 100, 8, in, &c);
		CHECK(r == 0 && c.status == 0 && memcmp(in, zero, sizeof(in)) == 0,
		      "unwritten blocks must read as zeros");

		for (size_t i = 0; i < sizeof(out); i++)
			out[i] = (uint8_t)(i * 7 + 3);
		r = rw10(sim, true, 100, 8, out, &c);
		CHECK(r == 0 && c.status == 0, "WRITE(10): r=%d status=%u", r, c.status);
		r = rw10(sim, false, 100, 8, in, &c);
		CHECK(r == 0 && c.status == 0 && memcmp(in, out, sizeof(in)) == 0,
		      "read back what was written");

		/* UNMAP blocks 102..103: they read as zeros, their neighbours keep their data */
		uint8_t param[24] = { 0, 22, 0, 16 };
		uint8_t cdb_unmap[10] = { 0x42 };
		param[8 + 7] = 102;
		be32(param + 8 + 8, 2);
		cdb_unmap[8] = sizeof(param);
		r = rts_sim_exec(sim, cdb_unmap, sizeof(cdb_unmap), RTS_SIM_TO_DEV, param,
				 sizeof(param), TIMEOUT_MS, &c);
		CHECK(r == 0 && c.status == 0, "UNMAP: r=%d status=%u sense key %u", r, c.status,
		      c.sense[2] & 0xf);
		r = rw10(sim, false, 100, 8, in, &c);
		CHECK(r == 0 && memcmp(in, out, 2 * BS) == 0 &&
			      memcmp(in + 2 * BS, zero, 2 * BS) == 0 &&
			      memcmp(in + 4 * BS, out + 4 * BS, 4 * BS) == 0,
		      "UNMAP zeroes exactly its range");

		/* past the end: the core answers LBA OUT OF RANGE, the handler is not called */
		r = rw10(sim, false, (uint32_t)(want_size / BS) - 4, 8, in, &c);
		CHECK(r == 0 && c.status == 2 && (c.sense[2] & 0xf) == 5 && c.sense[12] == 0x21,
		      "read past the end: status %u sense %u/%02x", c.status, c.sense[2] & 0xf,
		      c.sense[12]);
		rts_dev_stop(dev, TIMEOUT_MS);
	}
	if (dev) {
		rts_dev_close(dev);
		rts_dev_free(dev);
	}
	rts_sim_free(sim);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "./handler_example.so";
	struct rts_loaded_handler *lh = NULL;
	const struct rts_handler *h;
	char *why = NULL;
	int r;

	r = rts_handler_load(path, &lh, &why);
	if (r < 0) {
		printf("FAIL: cannot load %s: %s\n", path, why ? why : strerror(-r));
		free(why);
		return 1;
	}
	h = rts_loaded_handler_get(lh);
	CHECK(strcmp(h->subtype, "example") == 0, "subtype '%s'", h->subtype);

	/* check_config: accepted and refused cfgstrings, with a reason naming the option */
	CHECK(h->check_config("size=64M;readonly", NULL) == 0, "size=64M;readonly is valid");
	CHECK(h->check_config("", NULL) == 0, "an empty cfgstring is valid");
	r = h->check_config("size=lots", &why);
	CHECK(r == -EINVAL && why && strstr(why, "size"), "size=lots: %d %s", r, why ? why : "");
	free(why);
	why = NULL;
	r = h->check_config("colour=blue", &why);
	CHECK(r == -EINVAL && why && strstr(why, "colour"), "colour=blue: %d %s", r, why ? why : "");
	free(why);

	exercise(h, "example/size=16M", 16u << 20);
	exercise(h, "example/;size=1M;;", 1u << 20);

	rts_handler_unload(lh);
	printf("example: %d of %d checks passed\n", checks - failures, checks);
	return failures ? 1 : 0;
}
