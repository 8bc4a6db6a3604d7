/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The demo workload: plays the kernel through the ring simulator and drives real SCSI
 * commands through a device the runner serves, checking every answer and printing what
 * happened. Used by scripts/demo.sh (README's first command).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"

#define TIMEOUT_MS 10000

struct demo {
	struct rts_sim *sim;
	int failures;
	unsigned int cmds;
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
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

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static const char *key_name(uint8_t key)
{
	static const char *const names[16] = {
		"NO SENSE",	   "RECOVERED ERROR", "NOT READY",	"MEDIUM ERROR",
		"HARDWARE ERROR",  "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
		"BLANK CHECK",	   "VENDOR SPECIFIC", "COPY ABORTED",	"ABORTED COMMAND",
		"(reserved)",	   "VOLUME OVERFLOW", "MISCOMPARE",	"(reserved)",
	};
	return names[key & 0xf];
}

static void describe(const struct rts_sim_completion *c, char *buf, size_t len)
{
	if (c->status == 0) {
		snprintf(buf, len, "GOOD");
		return;
	}
	if (c->status != 2) {
		snprintf(buf, len, "status 0x%02x", c->status);
		return;
	}
	snprintf(buf, len, "CHECK CONDITION, %s, ASC/ASCQ %02xh/%02xh", key_name(c->sense[2]),
		 c->sense[12], c->sense[13]);
}

static int run(struct demo *d, const uint8_t *cdb, size_t cdb_len, enum rts_sim_dir dir,
	       void *buf, size_t len, struct rts_sim_completion *c)
{
	int r = rts_sim_exec(d->sim, cdb, cdb_len, dir, buf, len, TIMEOUT_MS, c);

	d->cmds++;
	if (r < 0) {
		printf("  !! command 0x%02x could not run: %s\n", cdb[0], strerror(-r));
		d->failures++;
	}
	return r;
}

/* COMPARE AND WRITE of one block at @lba: @buf holds the compare data, then the new data. */
static int caw(struct demo *d, uint64_t lba, uint8_t *buf, uint32_t bs,
	       struct rts_sim_completion *c)
{
	uint8_t cdb[16] = { 0x89 };

	put_be64(cdb + 2, lba);
	cdb[13] = 1;
	return run(d, cdb, 16, RTS_SIM_TO_DEV, buf, 2 * (size_t)bs, c);
}

static void check(struct demo *d, bool ok, const char *what)
{
	printf("  %s %s\n", ok ? "ok  " : "FAIL", what);
	if (!ok)
		d->failures++;
}

static void rw16(uint8_t *cdb, uint8_t op, uint64_t lba, uint32_t blocks)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, blocks);
}

static void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for completions and reap them; false when none came in time or reaping failed. */
static bool reap_some(struct demo *d, int *inflight, uint64_t *done)
{
	int n;

	if (rts_sim_wait(d->sim, TIMEOUT_MS) <= 0)
		return false;
	n = rts_sim_reap(d->sim, NULL, NULL);
	if (n < 0)
		return false;
	*inflight -= n;
	*done += (uint64_t)n;
	return true;
}

/* QD32 4 KiB random reads for ~0.5 s: the data path under load. */
static void burst(struct demo *d, uint64_t blocks, uint32_t bs)
{
	enum { QD = 32 };
	static uint8_t bufs[QD][4096];
	uint32_t per = 4096 / bs;
	uint64_t done = 0, x = 88172645463325252ull;
	double t0 = now_s(), t;
	int inflight = 0;

	if (!per || blocks < per)
		return;
	do {
		while (inflight < QD) {
			uint8_t cdb[16];
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			rw16(cdb, 0x88, (x % (blocks / per)) * per, per);
			if (rts_sim_submit(d->sim, cdb, 16, RTS_SIM_FROM_DEV, bufs[inflight % QD],
					   4096, NULL, NULL) < 0)
				break;
			inflight++;
		}
		rts_sim_kick(d->sim);
		if (!reap_some(d, &inflight, &done))
			break;
		t = now_s();
	} while (t - t0 < 0.5);
	while (inflight > 0 && reap_some(d, &inflight, &done))
		;
	t = now_s();
	d->cmds += (unsigned int)done;
	printf("  %llu random 4 KiB READ(16) at queue depth %d in %.2f s: %.0f commands/s "
	       "(kernel side simulated in-process)\n",
	       (unsigned long long)done, QD, t - t0, (double)done / (t - t0));
}

int runner_demo(struct runner *r, struct runner_dev *rd)
{
	struct demo d = { .sim = rd->sim };
	struct rts_sim_completion c;
	uint8_t cdb[16], buf[512], *wbuf, *rbuf;
	char what[160];
	uint64_t blocks = 0;
	uint32_t bs = 0;
	const size_t io = 1 << 20;

	(void)r;
	printf("\n== %s: %s via handler '%s' ==\n", rd->name,
	       rts_dev_get_cfgstring(rd->dev)[0] ? rts_dev_get_cfgstring(rd->dev) : "(no config)",
	       rts_dev_get_handler(rd->dev)->subtype);

	/* INQUIRY */
	memset(cdb, 0, 6);
	cdb[0] = 0x12;
	cdb[4] = 96;
	if (run(&d, cdb, 6, RTS_SIM_FROM_DEV, buf, 96, &c) == 0) {
		printf("INQUIRY: vendor '%.8s' product '%.16s' revision '%.4s', SPC version %u\n",
		       buf + 8, buf + 16, buf + 32, buf[2]);
		check(&d, c.status == 0 && (buf[0] & 0x1f) == 0, "direct-access block device");
	}
	cdb[1] = 1; /* EVPD */
	cdb[2] = 0x80;
	cdb[4] = 255;
	memset(buf, 0, sizeof(buf));
	if (run(&d, cdb, 6, RTS_SIM_FROM_DEV, buf, 255, &c) == 0) {
		printf("VPD 80h unit serial number: '%.*s'\n", buf[3], buf + 4);
		check(&d, c.status == 0 && buf[1] == 0x80, "unit serial number page");
	}
	cdb[2] = 0x83;
	memset(buf, 0, sizeof(buf));
	if (run(&d, cdb, 6, RTS_SIM_FROM_DEV, buf, 255, &c) == 0) {
		unsigned int len = (unsigned int)(buf[2] << 8 | buf[3]), n = 0;
		printf("VPD 83h device identification: %u bytes of designators", len);
		for (unsigned int off = 4; off + 4 <= len + 4 && off < 255; n++) {
			uint8_t type = buf[off + 1] & 0xf, dlen = buf[off + 3];
			if (type == 3 && dlen >= 8) {
				printf(", NAA ");
				for (unsigned int k = 0; k < dlen && off + 4 + k < 255; k++)
					printf("%02x", buf[off + 4 + k]);
			}
			off += 4u + dlen;
		}
		printf("\n");
		check(&d, c.status == 0 && n >= 1, "device identification page has designators");
	}
	/* READ CAPACITY(16) */
	memset(cdb, 0, 16);
	cdb[0] = 0x9e;
	cdb[1] = 0x10;
	cdb[13] = 32;
	memset(buf, 0, 32);
	if (run(&d, cdb, 16, RTS_SIM_FROM_DEV, buf, 32, &c) == 0) {
		blocks = get_be64(buf) + 1;
		bs = get_be32(buf + 8);
		printf("READ CAPACITY(16): %llu blocks of %u bytes (%.1f MiB), thin provisioning %s\n",
		       (unsigned long long)blocks, bs, (double)blocks * bs / 1048576.0,
		       buf[14] & 0x80 ? "on (LBPME)" : "off");
		check(&d, c.status == 0 && bs >= 512, "capacity reported");
	}
	if (!blocks || !bs || blocks * bs < 2 * io) {
		printf("  device too small for the rest of the demo\n");
		return d.failures ? 1 : 0;
	}
	/* MODE SENSE(6) caching page */
	memset(cdb, 0, 6);
	cdb[0] = 0x1a;
	cdb[1] = 0x08; /* DBD */
	cdb[2] = 0x08;
	cdb[4] = 64;
	memset(buf, 0, 64);
	if (run(&d, cdb, 6, RTS_SIM_FROM_DEV, buf, 64, &c) == 0) {
		printf("MODE SENSE(6) caching page: write cache %s\n", buf[4 + 2] & 0x04 ? "enabled (WCE=1)" : "disabled");
		check(&d, c.status == 0 && (buf[4] & 0x3f) == 0x08, "caching mode page");
	}

	/* WRITE(16) 1 MiB of pattern at LBA 2048, READ(16) it back, compare. */
	wbuf = malloc(io);
	rbuf = malloc(io);
	if (!wbuf || !rbuf) {
		free(wbuf);
		free(rbuf);
		return 1;
	}
	fill_pattern(wbuf, io, 7);
	uint64_t lba = 2048 % (blocks - io / bs);
	rw16(cdb, 0x8a, lba, (uint32_t)(io / bs));
	if (run(&d, cdb, 16, RTS_SIM_TO_DEV, wbuf, io, &c) == 0) {
		describe(&c, what, sizeof(what));
		printf("WRITE(16) 1 MiB at LBA %llu: %s\n", (unsigned long long)lba, what);
	}
	memset(rbuf, 0, io);
	rw16(cdb, 0x88, lba, (uint32_t)(io / bs));
	if (run(&d, cdb, 16, RTS_SIM_FROM_DEV, rbuf, io, &c) == 0) {
		describe(&c, what, sizeof(what));
		printf("READ(16) 1 MiB at LBA %llu: %s\n", (unsigned long long)lba, what);
		bool ok = c.status == 0 && memcmp(wbuf, rbuf, io) == 0;
		if (!strcmp(rts_dev_get_handler(rd->dev)->subtype, "null"))
			check(&d, c.status == 0, "null handler returns zeros (data is discarded by design)");
		else
			check(&d, ok, "data read back equals data written (1 MiB, scattered across iovecs)");
	}
	/* SYNCHRONIZE CACHE(10) */
	memset(cdb, 0, 10);
	cdb[0] = 0x35;
	if (run(&d, cdb, 10, RTS_SIM_NONE, NULL, 0, &c) == 0) {
		describe(&c, what, sizeof(what));
		printf("SYNCHRONIZE CACHE(10): %s\n", what);
		check(&d, c.status == 0, "cache flushed");
	}
	/* UNMAP the first 256 blocks we wrote, read them back as zeros. */
	uint8_t plist[24] = { 0 };
	plist[1] = 22;
	plist[3] = 16;
	put_be64(plist + 8, lba);
	put_be32(plist + 16, 256);
	memset(cdb, 0, 10);
	cdb[0] = 0x42;
	cdb[8] = sizeof(plist);
	if (run(&d, cdb, 10, RTS_SIM_TO_DEV, plist, sizeof(plist), &c) == 0) {
		describe(&c, what, sizeof(what));
		printf("UNMAP LBA %llu+256: %s\n", (unsigned long long)lba, what);
		if (c.status == 0) {
			rw16(cdb, 0x88, lba, 256);
			memset(rbuf, 0xff, 256 * bs);
			if (run(&d, cdb, 16, RTS_SIM_FROM_DEV, rbuf, 256 * bs, &c) == 0) {
				bool zero = c.status == 0;
				for (size_t i = 0; zero && i < 256u * bs; i++)
					zero = rbuf[i] == 0;
				check(&d, zero, "unmapped blocks read back as zeros");
			}
		} else {
			check(&d, c.sense[2] == 5, "UNMAP refused because the handler is not thin");
		}
	}
	/* COMPARE AND WRITE: one block, first with the right compare data, then a wrong one. */
	memcpy(wbuf, rbuf + 0, bs);         /* current content of lba (zeros after unmap) */
	fill_pattern(wbuf + bs, bs, 99);    /* new content */
	if (caw(&d, lba, wbuf, bs, &c) == 0) {
		describe(&c, what, sizeof(what));
		printf("COMPARE AND WRITE LBA %llu (matching data): %s\n", (unsigned long long)lba, what);
		check(&d, c.status == 0, "atomic compare-and-write succeeded");
	}
	rw16(cdb, 0x88, lba, 1); /* what the block holds now... */
	run(&d, cdb, 16, RTS_SIM_FROM_DEV, wbuf, bs, &c);
	wbuf[17] ^= 0x5a;        /* ...but stale in one byte */
	if (caw(&d, lba, wbuf, bs, &c) == 0) {
		describe(&c, what, sizeof(what));
		uint32_t info = get_be32(c.sense + 3);
		printf("COMPARE AND WRITE LBA %llu (stale data): %s, first difference at byte %u\n",
		       (unsigned long long)lba, what, info);
		check(&d, c.status == 2 && c.sense[2] == 0xe && info == 17, "MISCOMPARE reported with the offset");
	}
	/* READ past the end */
	rw16(cdb, 0x88, blocks, 1);
	if (run(&d, cdb, 16, RTS_SIM_FROM_DEV, rbuf, bs, &c) == 0) {
		describe(&c, what, sizeof(what));
		printf("READ(16) at LBA %llu (one past the end): %s\n", (unsigned long long)blocks, what);
		check(&d, c.status == 2 && c.sense[2] == 5 && c.sense[12] == 0x21,
		      "LBA OUT OF RANGE reported");
	}
	/* Unknown opcode */
	memset(cdb, 0, 10);
	cdb[0] = 0x5f;
	if (run(&d, cdb, 10, RTS_SIM_NONE, NULL, 0, &c) == 0) {
		describe(&c, what, sizeof(what));
		printf("opcode 5Fh (not implemented): %s\n", what);
		check(&d, c.status == 2 && c.sense[12] == 0x20, "INVALID COMMAND OPERATION CODE");
	}
	burst(&d, blocks, bs);
	free(wbuf);
	free(rbuf);

	struct rts_dev_stats st = { .struct_size = sizeof(st) };
	rts_dev_get_stats(rd->dev, &st);
	printf("device counters: %llu commands, %llu emulated, %llu handler operations, "
	       "%llu completion kicks (%.1f commands per kick), %llu errors reported\n",
	       (unsigned long long)st.cmds, (unsigned long long)st.emulated,
	       (unsigned long long)st.handler_ops, (unsigned long long)st.kicks,
	       st.kicks ? (double)st.completions / (double)st.kicks : 0.0,
	       (unsigned long long)st.errors);
	if (rts_sim_broken_reason(d.sim))
		check(&d, false, rts_sim_broken_reason(d.sim));
	printf("%s: %s (%d failed check%s)\n", rd->name, d.failures ? "FAILED" : "all checks passed",
	       d.failures, d.failures == 1 ? "" : "s");
	return d.failures ? 1 : 0;
}
