/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The qcow2 handler (handlers/qcow2, subtype "qcow") loaded as a plugin and driven through
 * the ring simulator, checked against qemu's own tools:
 *  - images made by qemu-img (cluster sizes 512 B..2 MiB, compat 0.10 and 1.1) written at
 *    random offsets (cluster-straddling, allocating, several commands allocating the same
 *    cluster at once), read back through the handler (also after a reopen), then
 *    `qemu-img check` must find no errors or leaks and `qemu-img compare` against a raw
 *    file holding the same data must say identical;
 *  - data written by qemu-io / qemu-img convert (zero clusters with and without a host
 *    cluster, compressed clusters) read correctly, overwritten (compressed ones by
 *    copy-on-write), and checked again;
 *  - backing files: a raw one shorter than the image, and a chain of three qcow2 images
 *    (different cluster sizes, relative names, compressed/zero clusters at every level),
 *    read and written (copy-on-write), compared with qemu's view of the chain;
 *  - refusals with their reasons: encryption, unknown incompatible bit, bad magic,
 *    truncated header, qcow v1, 8-bit refcounts, zstd, missing / vmdk / nbd: backing files
 *    and a backing loop, snapshots / dirty / corrupt for writing, device larger than the
 *    image;
 *  - growing the refcount table (512 B clusters), checked by qemu-img;
 *  - UNMAP and WRITE SAME with UNMAP: zeros, space given back, qemu-img map / check;
 *  - qemu's image locking against qemu-io and between devices;
 *  - a writer SIGKILLed mid-allocation leaves at most leaks, never corruption; TMR aborts
 *    of allocating writes leave not even leaks.
 * Exits 77 (skipped) when qemu-img is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <rts/device.h>

#include "macro.h"

#define TIMEOUT_MS 10000
#define BS	   512u

#define HARNESS_TDEV
#include "harness.h"

static struct rts_loaded_handler *lh;
static const struct rts_handler *h;
static char tmpdir[64];
static char logbuf[8192]; /* the device log of the last open, for expected messages */

/* ---------------------------------------------------------------- helpers */

static void tpath(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

/* Run a shell command; returns its exit status, its output (stdout+stderr) in @out. */
/* (noinline: keeps the command buffers out of the callers' frames) */
static int run(char *out, size_t outlen, const char *fmt, ...) _printf_(3, 4)
	__attribute__((noinline));

static int run(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[2048];
	size_t n = 0;
	va_list ap;
	FILE *f;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
	f = popen(cmd, "r");
	assert_non_null(f);
	if (out && outlen) {
		n = fread(out, 1, outlen - 1, f);
		out[n] = '\0';
	} else {
		char junk[4096];

		while (fread(junk, 1, sizeof(junk), f) > 0)
			;
	}
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void run_ok(const char *fmt, ...) _printf_(1, 2) __attribute__((noinline));

static void run_ok(const char *fmt, ...)
{
	char cmd[2048], out[4096];
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r = run(out, sizeof(out), "%s", cmd);
	if (r != 0)
		fail_msg("'%s' exited %d: %s", cmd, r, out);
}

/* qemu-img check: no errors, no leaks. */
static __attribute__((noinline)) void assert_image_clean(const char *img)
{
	char out[4096];
	int r = run(out, sizeof(out), "qemu-img check -f qcow2 '%s'", img);

	if (r != 0 || !strstr(out, "No errors were found") || strstr(out, "leaked"))
		fail_msg("qemu-img check '%s' exited %d: %s", img, r, out);
}

/* qemu-img compare against the raw file: identical. */
static __attribute__((noinline)) void assert_same_as_raw(const char *img, const char *raw)
{
	char out[4096];
	int r = run(out, sizeof(out), "qemu-img compare -f qcow2 -F raw '%s' '%s'", img, raw);

	if (r != 0 || !strstr(out, "Images are identical"))
		fail_msg("qemu-img compare '%s' '%s' exited %d: %s", img, raw, r, out);
}

static void log_cb(void *ud, int prio, const char *dev, const char *msg)
{
	size_t n = strlen(logbuf);

	(void)ud;
	(void)prio;
	(void)dev;
	snprintf(logbuf + n, sizeof(logbuf) - n, "%s\n", msg);
}

static int tdev_try_open(struct tdev *t, const char *cfg, uint64_t dev_size,
			 const struct rts_sim_params *sp, char **why)
{
	char full[512];
	struct rts_dev_config dc = {
		RTS_DEV_CONFIG_INIT,
		.name = "tqcow",
		.cfgstring = full,
		.size = dev_size,
		.block_size = BS,
		.write_cache = true,
		.log_fn = log_cb,
		.log_priority = RTS_LOG_DEBUG,
	};
	int r;

	snprintf(full, sizeof(full), "qcow/%s", cfg);
	logbuf[0] = '\0';
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

static void tdev_open(struct tdev *t, const char *cfg, const struct rts_sim_params *sp)
{
	char *why = NULL;
	int r = tdev_try_open(t, cfg, 0, sp, &why);

	if (r < 0)
		fail_msg("open 'qcow/%s': %s; log: %s", cfg, why ? why : strerror(-r), logbuf);
}

static void do_rw(struct tdev *t, uint8_t op, uint64_t off, size_t len, uint8_t *buf,
		  struct rts_sim_completion *c)
{
	uint8_t cdb[16];

	rw16(cdb, op, off / BS, (uint32_t)(len / BS));
	assert_int_equal(rts_sim_exec(t->sim, cdb, 16,
				      op == 0x88 ? RTS_SIM_FROM_DEV : RTS_SIM_TO_DEV, buf, len,
				      TIMEOUT_MS, c),
			 0);
}

static void assert_good(const struct rts_sim_completion *c)
{
	if (c->status != 0)
		fail_msg("status 0x%02x sense key %x asc/ascq %02x/%02x; log: %s", c->status,
			 c->sense[2] & 0xf, c->sense[12], c->sense[13], logbuf);
}

static void assert_sense_key(const struct rts_sim_completion *c, uint8_t key)
{
	assert_int_equal(c->status, 2);
	assert_int_equal(c->sense[2] & 0xf, key);
}

static void write_ok(struct tdev *t, uint64_t off, size_t len, uint8_t *buf)
{
	struct rts_sim_completion c;

	do_rw(t, 0x8a, off, len, buf, &c);
	assert_good(&c);
}

static void read_ok(struct tdev *t, uint64_t off, size_t len, uint8_t *buf)
{
	struct rts_sim_completion c;

	do_rw(t, 0x88, off, len, buf, &c);
	assert_good(&c);
}

static uint64_t capacity_bytes(struct tdev *t)
{
	uint8_t cdb[16] = { 0x9e, 0x10 }, buf[32];
	struct rts_sim_completion c;
	uint64_t last = 0;

	put_be32(cdb + 10, sizeof(buf));
	assert_int_equal(rts_sim_exec(t->sim, cdb, 16, RTS_SIM_FROM_DEV, buf, sizeof(buf),
				      TIMEOUT_MS, &c),
			 0);
	assert_good(&c);
	for (int i = 0; i < 8; i++)
		last = last << 8 | buf[i];
	return (last + 1) * BS;
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void read_file(const char *path, uint8_t *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* Read the whole device back in uneven pieces, several in flight, and compare. */
static void verify_all(struct tdev *t, const uint8_t *shadow, size_t dev, const char *what)
{
	enum { QD = 8, MAXLEN = 192 << 10 };
	uint8_t *bufs = malloc((size_t)QD * MAXLEN);
	unsigned int bad = 0;

	assert_non_null(bufs);
	for (uint64_t off = 0; off < dev;) {
		size_t lens[QD];
		uint64_t offs[QD];
		unsigned int n = 0;

		for (; n < QD && off < dev; n++) {
			uint8_t cdb[16];
			size_t len = MIN((size_t)(dev - off), (size_t)(MAXLEN - (n % 5) * 8704));

			offs[n] = off;
			lens[n] = len;
			rw16(cdb, 0x88, off / BS, (uint32_t)(len / BS));
			submit_retry(t, cdb, RTS_SIM_FROM_DEV, bufs + (size_t)n * MAXLEN, len,
				     &bad);
			off += len;
		}
		pump(t, &bad);
		for (unsigned int i = 0; i < n; i++)
			if (memcmp(bufs + (size_t)i * MAXLEN, shadow + offs[i], lens[i]))
				fail_msg("%s: data mismatch in [%llu, +%zu)", what,
					 (unsigned long long)offs[i], lens[i]);
	}
	assert_int_equal(bad, 0);
	free(bufs);
}

/* ------------------------------------------------------------------ tests */

/*
 * Random writes through the handler, QD commands in flight per batch: first a burst of
 * sub-cluster writes that all allocate the same clusters at once, then random lengths at
 * random offsets (straddling clusters and L2 tables). Verified by reading back, after a
 * reopen, and by qemu-img check + compare against a raw file with the same bytes.
 */
static void roundtrip(unsigned int cluster, const char *compat, size_t dev, unsigned int batches)
{
	enum { QD = 16, MAXLEN = 160 << 10 };
	struct rts_sim_params sp = { .cmdr_size = 16384,
				     .data_size = 8 << 20,
				     .max_iov_blocks = 1 };
	uint8_t *shadow = calloc(1, dev), *bufs = malloc((size_t)QD * MAXLEN);
	char img[256], raw[256], what[64];
	uint64_t x = 0x9e3779b97f4a7c15ull ^ cluster;
	unsigned int bad = 0;
	struct tdev t;

	assert_non_null(shadow);
	assert_non_null(bufs);
	snprintf(what, sizeof(what), "cluster %u compat %s", cluster, compat);
	tpath(img, sizeof(img), "rt.qcow2");
	tpath(raw, sizeof(raw), "rt.raw");
	unlink(img);
	run_ok("qemu-img create -q -f qcow2 -o cluster_size=%u,compat=%s '%s' %zu", cluster, compat,
	       img, dev);
	tdev_open(&t, img, &sp);
	assert_int_equal(capacity_bytes(&t), dev);

	/* QD writes of 512 B each into the same two (unallocated) clusters, all in flight. */
	for (unsigned int i = 0; i < QD; i++) {
		uint8_t cdb[16], *b = bufs + (size_t)i * MAXLEN;
		uint64_t off = (uint64_t)MAX(cluster, 8 * BS) - 4 * BS + (uint64_t)i * BS;

		fill(b, BS, 1000 + i);
		memcpy(shadow + off, b, BS);
		rw16(cdb, 0x8a, off / BS, 1);
		submit_retry(&t, cdb, RTS_SIM_TO_DEV, b, BS, &bad);
	}
	pump(&t, &bad);
	assert_int_equal(bad, 0);

	for (unsigned int batch = 0; batch < batches; batch++) {
		size_t region = dev / QD;

		for (unsigned int i = 0; i < QD; i++) {
			uint8_t cdb[16], *b = bufs + (size_t)i * MAXLEN;
			size_t maxlen = MIN((size_t)MAXLEN, region);
			uint32_t blocks;
			uint64_t off;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			blocks = 1 + (uint32_t)(x % (maxlen / BS));
			off = ((uint64_t)i * region +
			       (x >> 20) % (region - (size_t)blocks * BS + 1)) /
			      BS * BS;
			fill(b, (size_t)blocks * BS, batch * QD + i);
			memcpy(shadow + off, b, (size_t)blocks * BS);
			rw16(cdb, 0x8a, off / BS, blocks);
			submit_retry(&t, cdb, RTS_SIM_TO_DEV, b, (size_t)blocks * BS, &bad);
		}
		pump(&t, &bad);
	}
	if (bad)
		fail_msg("%s: %u writes failed; log: %s", what, bad, logbuf);
	verify_all(&t, shadow, dev, what);
	tdev_close(&t);

	/* Cold caches: everything must come from the metadata on disk. */
	tdev_open(&t, img, &sp);
	verify_all(&t, shadow, dev, what);
	tdev_close(&t);

	write_file(raw, shadow, dev);
	assert_image_clean(img);
	assert_same_as_raw(img, raw);
	unlink(img);
	unlink(raw);
	free(shadow);
	free(bufs);
}

static void test_roundtrip_v3(void **state)
{
	(void)state;
	roundtrip(65536, "1.1", 16 << 20, 12);
	roundtrip(4096, "1.1", 8 << 20, 8);
	roundtrip(512, "1.1", 1 << 20, 6); /* many refcount blocks and L2 tables */
	roundtrip(2 << 20, "1.1", 12 << 20, 4);
	/* every write through io_uring (common/bufwrite.h), as on a loaded page cache */
	setenv("RTS_INLINE_WRITES", "0", 1);
	roundtrip(4096, "1.1", 8 << 20, 8);
	unsetenv("RTS_INLINE_WRITES");
}

static void test_roundtrip_v2(void **state)
{
	(void)state;
	roundtrip(65536, "0.10", 16 << 20, 12);
	roundtrip(1024, "0.10", 2 << 20, 6);
}

/*
 * Images written by qemu: data, zero clusters with and without a host cluster, unallocated
 * ranges, compressed clusters. Read through the handler, overwritten partly (allocating
 * over zero clusters), and checked again.
 */
static void test_read_qemu_written(void **state)
{
	enum { DEV = 4 << 20, CL = 65536 };
	struct rts_sim_params sp = { .max_iov_blocks = 1 };
	char img[256], raw[256], cimg[256];
	uint8_t *shadow = calloc(1, DEV), *buf = malloc(DEV);
	struct tdev t;

	(void)state;
	assert_non_null(shadow);
	assert_non_null(buf);
	tpath(img, sizeof(img), "qemu.qcow2");
	tpath(raw, sizeof(raw), "qemu.raw");
	tpath(cimg, sizeof(cimg), "comp.qcow2");
	unlink(img);
	run_ok("qemu-img create -q -f qcow2 '%s' %d", img, DEV);
	/* 0..192k: 0xab; then zero 64k..128k keeping its cluster (no unmap: ZERO_ALLOC);
	 * 1M..1M+100k: 0x5c, then unmap-zero its second cluster (ZERO_PLAIN or deallocated);
	 * 3M-4k..3M+4k: 0x11 straddling. */
	run_ok("qemu-io -f qcow2 -c 'write -P 0xab 0 192k' -c 'write -z 64k 64k' "
	       "-c 'write -P 0x5c 1M 100k' -c 'write -z -u 1088k 64k' "
	       "-c 'write -P 0x11 3068k 8k' -c 'write -z 2M 64k' '%s'",
	       img);
	memset(shadow, 0xab, 192 << 10);
	memset(shadow + (64 << 10), 0, 64 << 10);
	memset(shadow + (1 << 20), 0x5c, 100 << 10);
	memset(shadow + (1088 << 10), 0, 64 << 10);
	memset(shadow + (3068 << 10), 0x11, 8 << 10);
	tdev_open(&t, img, &sp);
	verify_all(&t, shadow, DEV, "data written by qemu-io");

	/* Overwrite part of the zero clusters (both kinds) and straddle into data. */
	fill(buf, 2 * CL, 7);
	write_ok(&t, 64 * 1024 + 4096, 8192, buf);
	memcpy(shadow + 64 * 1024 + 4096, buf, 8192);
	write_ok(&t, 1088 * 1024 + 512, CL, buf + 8192);
	memcpy(shadow + 1088 * 1024 + 512, buf + 8192, CL);
	write_ok(&t, 2 * 1024 * 1024 - 512, 1024, buf);
	memcpy(shadow + 2 * 1024 * 1024 - 512, buf, 1024);
	verify_all(&t, shadow, DEV, "after overwriting qemu's zero clusters");
	tdev_close(&t);
	write_file(raw, shadow, DEV);
	assert_image_clean(img);
	assert_same_as_raw(img, raw);

	/* Compressed: qemu-img convert -c from a raw file with mixed content (every third
	 * cluster zero, which convert leaves unallocated). */
	memset(shadow, 0, DEV);
	for (size_t i = 0; i < DEV; i += CL)
		if ((i / CL) % 3 != 2)
			fill(shadow + i, CL / ((i / CL) % 4 + 1), (uint32_t)i);
	/* compressible runs too */
	memset(shadow + 5 * CL, 'z', CL);
	write_file(raw, shadow, DEV);
	unlink(cimg);
	run_ok("qemu-img convert -c -f raw -O qcow2 '%s' '%s'", raw, cimg);
	tdev_open(&t, cimg, &sp);
	verify_all(&t, shadow, DEV, "compressed image");
	/* Writes over compressed clusters (copy-on-write from the inflated data, then the
	 * shared host clusters' refcounts drop): partial, straddling two compressed
	 * clusters, a whole one, and one into an unallocated cluster. qemu-img check below
	 * catches a refcount dropped too far (error) or not at all (leak). */
	fill(buf, 2 * CL, 99);
	write_ok(&t, 5 * CL + 512, 4096, buf);
	memcpy(shadow + 5 * CL + 512, buf, 4096);
	write_ok(&t, CL - 8192, 16384, buf + 4096);
	memcpy(shadow + CL - 8192, buf + 4096, 16384);
	write_ok(&t, 3 * CL, CL, buf + 8192);
	memcpy(shadow + 3 * CL, buf + 8192, CL);
	write_ok(&t, 2 * CL + 512, 4096, buf);
	memcpy(shadow + 2 * CL + 512, buf, 4096);
	verify_all(&t, shadow, DEV, "compressed image after writes");
	tdev_close(&t);
	tdev_open(&t, cimg, &sp);
	verify_all(&t, shadow, DEV, "compressed image after writes, reopened");
	tdev_close(&t);
	write_file(raw, shadow, DEV);
	assert_image_clean(cimg);
	assert_same_as_raw(cimg, raw);
	unlink(img);
	unlink(cimg);
	unlink(raw);
	free(shadow);
	free(buf);
}

/* Read the guest content of @img as qemu sees it (through its backing chain). */
static void qemu_view(const char *img, const char *raw_out, uint8_t *buf, size_t len)
{
	unlink(raw_out);
	run_ok("qemu-img convert -O raw '%s' '%s'", img, raw_out);
	read_file(raw_out, buf, len);
}

/* Random writes (straddling, partial clusters: copy-on-write) into @img, mirrored in @shadow. */
static void random_writes(const char *img, uint8_t *shadow, size_t dev, unsigned int batches,
			  uint32_t seed)
{
	enum { QD = 8, MAXLEN = 96 << 10 };
	struct rts_sim_params sp = { .max_iov_blocks = 1 };
	uint8_t *bufs = malloc((size_t)QD * MAXLEN);
	uint64_t x = 0x2545f4914f6cdd1dull ^ seed;
	unsigned int bad = 0;
	struct tdev t;

	assert_non_null(bufs);
	tdev_open(&t, img, &sp);
	for (unsigned int batch = 0; batch < batches; batch++) {
		size_t region = dev / QD;

		for (unsigned int i = 0; i < QD; i++) {
			uint8_t cdb[16], *b = bufs + (size_t)i * MAXLEN;
			uint32_t blocks;
			uint64_t off;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			blocks = 1 + (uint32_t)(x % (MIN((size_t)MAXLEN, region) / BS));
			off = ((uint64_t)i * region +
			       (x >> 20) % (region - (size_t)blocks * BS + 1)) /
			      BS * BS;
			fill(b, (size_t)blocks * BS, seed + batch * QD + i);
			memcpy(shadow + off, b, (size_t)blocks * BS);
			rw16(cdb, 0x8a, off / BS, blocks);
			submit_retry(&t, cdb, RTS_SIM_TO_DEV, b, (size_t)blocks * BS, &bad);
		}
		pump(&t, &bad);
	}
	if (bad)
		fail_msg("%u writes failed; log: %s", bad, logbuf);
	verify_all(&t, shadow, dev, img);
	tdev_close(&t);
	free(bufs);
}

/*
 * A raw backing file shorter than the image: reads come from it (zeros past its end),
 * writes copy-on-write the rest of each cluster from it, and it is never written.
 */
static void test_backing_raw(void **state)
{
	enum { DEV = 4 << 20, BASE = 3 << 20 };
	uint8_t *shadow = calloc(1, DEV), *orig = malloc(BASE), *again = malloc(BASE);
	char base[256], img[256], raw[256];
	struct tdev t;

	(void)state;
	assert_non_null(shadow);
	assert_non_null(orig);
	assert_non_null(again);
	tpath(base, sizeof(base), "b.raw");
	tpath(img, sizeof(img), "over-raw.qcow2");
	tpath(raw, sizeof(raw), "expect.raw");
	fill(orig, BASE, 4242);
	write_file(base, orig, BASE);
	memcpy(shadow, orig, BASE);
	unlink(img);
	run_ok("qemu-img create -q -f qcow2 -o cluster_size=65536 -b '%s' -F raw '%s' %d", base,
	       img, DEV);
	tdev_open(&t, img, NULL);
	verify_all(&t, shadow, DEV, "raw backing file");
	tdev_close(&t);
	random_writes(img, shadow, DEV, 6, 1);
	read_file(base, again, BASE);
	assert_memory_equal(orig, again, BASE);
	write_file(raw, shadow, DEV);
	assert_image_clean(img);
	assert_same_as_raw(img, raw);
	unlink(img);
	unlink(base);
	unlink(raw);
	free(shadow);
	free(orig);
	free(again);
}

/*
 * A chain of three qcow2 images with different cluster sizes, relative backing names,
 * data, zero and compressed clusters at every level (written by qemu-io / convert -c):
 * our reads must equal qemu's view (qemu-img convert -O raw), and after our writes
 * (copy-on-write through the chain) qemu-img check and compare must agree.
 */
static void test_backing_qcow2_chain(void **state)
{
	enum { DEV = 4 << 20 };
	uint8_t *shadow = malloc(DEV), *src = calloc(1, DEV);
	char base[256], mid[256], top[256], raw[256], srcraw[256];
	struct tdev t;

	(void)state;
	assert_non_null(shadow);
	assert_non_null(src);
	tpath(base, sizeof(base), "base.qcow2");
	tpath(mid, sizeof(mid), "mid.qcow2");
	tpath(top, sizeof(top), "top.qcow2");
	tpath(raw, sizeof(raw), "chain.raw");
	tpath(srcraw, sizeof(srcraw), "src.raw");
	/* base: compressed data in the first 2 MiB (64 KiB clusters), 3 MiB (of 4) in size. */
	fill(src, 2 << 20, 77);
	memset(src + (1 << 20), 'q', 256 << 10); /* compressible too */
	write_file(srcraw, src, 3 << 20);
	unlink(base);
	run_ok("qemu-img convert -c -f raw -O qcow2 '%s' '%s'", srcraw, base);
	/* mid: 4 KiB clusters, relative backing name; data and zero clusters over the base. */
	unlink(mid);
	run_ok("cd '%s' && qemu-img create -q -f qcow2 -o cluster_size=4096 -b base.qcow2 "
	       "-F qcow2 mid.qcow2 %d",
	       tmpdir, DEV);
	run_ok("qemu-io -f qcow2 -c 'write -P 0x33 100k 40k' -c 'write -z 1100k 12k' "
	       "-c 'write -P 0x44 2900k 300k' '%s'",
	       mid);
	/* top: 512 B clusters, relative backing name. */
	unlink(top);
	run_ok("cd '%s' && qemu-img create -q -f qcow2 -o cluster_size=512 -b mid.qcow2 "
	       "-F qcow2 top.qcow2 %d",
	       tmpdir, DEV);
	run_ok("qemu-io -f qcow2 -c 'write -P 0x55 1M 1536' -c 'write -z 200k 1k' '%s'", top);

	qemu_view(top, raw, shadow, DEV);
	tdev_open(&t, top, NULL);
	verify_all(&t, shadow, DEV, "qcow2 chain as qemu sees it");
	tdev_close(&t);
	/* 512 B clusters: keep the writes within the refcount table qemu-img made (8 MiB). */
	random_writes(top, shadow, DEV, 3, 2);
	write_file(raw, shadow, DEV);
	assert_image_clean(top);
	assert_image_clean(mid);
	assert_image_clean(base);
	assert_same_as_raw(top, raw);
	unlink(top);
	unlink(mid);
	unlink(base);
	unlink(raw);
	unlink(srcraw);
	free(shadow);
	free(src);
}

/*
 * Contention: every batch, 32 commands in flight write disjoint random pieces (1..8
 * sectors) of one 16 KiB window of a 4 KiB-cluster image over a backing file, so several
 * commands allocate (and copy-on-write) the same clusters at once, while 8 reads of the
 * window run beside them. Reads racing writes may see either content; the final content is
 * exact, and qemu-img check / compare must agree.
 */
static void test_contention(void **state)
{
	enum { DEV = 1 << 20, WIN = 16 << 10, NW = 32, NR = 8, SECT = WIN / BS };
	struct rts_sim_params sp = { .max_iov_blocks = 1 };
	uint8_t *shadow = malloc(DEV), *wbuf = malloc((size_t)NW * 8 * BS);
	uint8_t *rbuf = malloc((size_t)NR * WIN);
	char base[256], img[256], raw[256];
	uint64_t x = 0x853c49e6748fea9bull;
	unsigned int bad = 0;
	struct tdev t;

	(void)state;
	assert_non_null(shadow);
	assert_non_null(wbuf);
	assert_non_null(rbuf);
	tpath(base, sizeof(base), "cont-base.raw");
	tpath(img, sizeof(img), "cont.qcow2");
	tpath(raw, sizeof(raw), "cont.raw");
	fill(shadow, DEV, 11);
	write_file(base, shadow, DEV);
	unlink(img);
	run_ok("qemu-img create -q -f qcow2 -o cluster_size=4096 -b '%s' -F raw '%s' %d", base, img,
	       DEV);
	tdev_open(&t, img, &sp);
	for (unsigned int batch = 0; batch < DEV / WIN; batch++) {
		uint64_t win = (uint64_t)batch * WIN;
		unsigned int nw = 0;

		/* Cut the window into disjoint pieces, one per write command. */
		for (unsigned int sct = 0; sct < SECT && nw < NW;) {
			uint8_t cdb[16], *b = wbuf + (size_t)nw * 8 * BS;
			unsigned int len;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			len = 1 + (unsigned int)(x % 8);
			if (len > SECT - sct)
				len = SECT - sct;
			if (x & 0x100) { /* leave a gap: copy-on-write keeps the backing data */
				sct += len;
				continue;
			}
			fill(b, (size_t)len * BS, batch * 64 + nw);
			memcpy(shadow + win + (uint64_t)sct * BS, b, (size_t)len * BS);
			rw16(cdb, 0x8a, (win / BS) + sct, len);
			submit_retry(&t, cdb, RTS_SIM_TO_DEV, b, (size_t)len * BS, &bad);
			nw++;
			sct += len;
		}
		for (unsigned int i = 0; i < NR; i++) {
			uint8_t cdb[16];

			rw16(cdb, 0x88, win / BS, SECT);
			submit_retry(&t, cdb, RTS_SIM_FROM_DEV, rbuf + (size_t)i * WIN, WIN, &bad);
		}
		pump(&t, &bad);
	}
	if (bad)
		fail_msg("%u commands failed; log: %s", bad, logbuf);
	/* The point of the test: writes did queue behind each other's allocations. */
	assert_non_null(strstr(logbuf, "waits for the allocation"));
	verify_all(&t, shadow, DEV, "contention");
	tdev_close(&t);
	write_file(raw, shadow, DEV);
	assert_image_clean(img);
	assert_same_as_raw(img, raw);
	unlink(img);
	unlink(base);
	unlink(raw);
	free(shadow);
	free(wbuf);
	free(rbuf);
}

/* UNMAP of one byte range (block aligned); mirrored in @shadow as zeros (LBPRZ). */
static void unmap_ok(struct tdev *t, uint8_t *shadow, uint64_t off, uint64_t len)
{
	uint8_t cdb[10] = { 0x42 }, pl[24] = { 0 };
	struct rts_sim_completion c;

	put_be16(pl, 22);
	put_be16(pl + 2, 16);
	put_be64(pl + 8, off / BS);
	put_be32(pl + 16, (uint32_t)(len / BS));
	put_be16(cdb + 7, sizeof(pl));
	assert_int_equal(
		rts_sim_exec(t->sim, cdb, 10, RTS_SIM_TO_DEV, pl, sizeof(pl), TIMEOUT_MS, &c), 0);
	assert_good(&c);
	memset(shadow + off, 0, len);
}

/* The same UNMAP pattern on one image: partial, whole, straddling L2 tables, compressed. */
static void unmap_pattern(const char *img, uint8_t *shadow, size_t dev, bool expect_freed)
{
	uint8_t vpd[64], cdb6[6] = { 0x12, 1, 0xb2, 0, 64 }, blk[BS] = { 0 }, cdb[16];
	struct rts_sim_completion c;
	uint64_t before;
	struct tdev t;

	tdev_open(&t, img, NULL);
	assert_int_equal(rts_sim_exec(t.sim, cdb6, 6, RTS_SIM_FROM_DEV, vpd, sizeof(vpd),
				      TIMEOUT_MS, &c),
			 0);
	assert_good(&c);
	assert_true(vpd[5] & 0x80); /* LBPU: thin provisioning with UNMAP */
	before = allocated_bytes(img);
	unmap_ok(&t, shadow, 60 << 10, 200 << 10); /* partial head, whole, partial tail */
	unmap_ok(&t, shadow, 1 << 20, 512 << 10); /* whole clusters */
	unmap_ok(&t, shadow, (2 << 20) - 4096, 8192); /* straddling, parts only */
	unmap_ok(&t, shadow, dev - (256 << 10), 256 << 10); /* the end of the device */
	/* WRITE SAME with UNMAP and a zero block goes to the handler's unmap. */
	rw16(cdb, 0x93, (3u << 20) / BS, (64u << 10) / BS);
	cdb[1] = 0x08;
	assert_int_equal(rts_sim_exec(t.sim, cdb, 16, RTS_SIM_TO_DEV, blk, BS, TIMEOUT_MS, &c), 0);
	assert_good(&c);
	memset(shadow + (3u << 20), 0, 64u << 10);
	verify_all(&t, shadow, dev, "after UNMAP");
	if (expect_freed) {
		/* GET LBA STATUS agrees with the L2 tables: [1M, 1.5M) deallocated, the data
		 * just before it mapped */
		uint8_t gls[16] = { 0x9e, 0x12 }, st[8 + 16 * 4];

		put_be64(gls + 2, ((1u << 20) - 4096) / BS);
		put_be32(gls + 10, sizeof(st));
		assert_int_equal(rts_sim_exec(t.sim, gls, 16, RTS_SIM_FROM_DEV, st, sizeof(st),
					      TIMEOUT_MS, &c),
				 0);
		assert_good(&c);
		assert_int_equal(st[8 + 12], 0); /* mapped */
		assert_int_equal((uint32_t)(st[8 + 8] << 24 | st[8 + 9] << 16 | st[8 + 10] << 8 |
					    st[8 + 11]),
				 4096 / BS);
		assert_int_equal(st[24 + 12], 1); /* deallocated */
		assert_true((uint32_t)(st[24 + 8] << 24 | st[24 + 9] << 16 | st[24 + 10] << 8 |
				       st[24 + 11]) >= (512u << 10) / BS);
	}
	tdev_close(&t);
	if (expect_freed) {
		char out[8192], *e;

		if (allocated_bytes(img) + (512u << 10) > before)
			fail_msg("UNMAP freed only %llu bytes of '%s'",
				 (unsigned long long)(before - allocated_bytes(img)), img);
		/* qemu sees [1M, 1.5M) as holding no data (zero flag or unallocated). */
		assert_int_equal(run(out, sizeof(out), "qemu-img map --output=json '%s'", img), 0);
		e = strstr(out, "\"start\": 1048576, \"length\": 524288");
		if (!e || !strstr(e, "\"data\": false") ||
		    strstr(e, "\"data\": false") > strchr(e, '}'))
			fail_msg("qemu-img map of '%s' after UNMAP: %s", img, out);
	}
	tdev_open(&t, img, NULL);
	verify_all(&t, shadow, dev, "after UNMAP, reopened");
	tdev_close(&t);
}

/*
 * UNMAP (the device reports LBPRZ: unmapped blocks read zeros): whole clusters are
 * deallocated (v3: zero flag; their space is given back), parts of clusters get zeros.
 * On plain data, over a raw backing file (v3 and v2: v2 cannot say "zero" and writes
 * zeros), and over compressed clusters. qemu-img check / compare after each.
 */
/*
 * A write into part of a new cluster is written with the zeros around it in one writev, the
 * zeros from the device's zero cluster (no bounce buffer). With 512-byte data blocks, one
 * block an iovec, a 40 KiB write is 80 iovecs: more than one SQE takes (Q2_SUB_IOV), so the
 * head and the first iovecs go first and the rest of the data and the tail after. Also the
 * zeros a partial UNMAP writes into an allocated cluster. Read back, then qemu-img check and
 * compare against a raw file.
 */
static void test_partial_cluster_zeros(void **state)
{
	enum { CL = 65536, DEV = 1 << 20 };
	struct rts_sim_params sp = { .data_size = 1 << 20, .data_blk_size = 512,
				     .max_iov_blocks = 1 };
	static const struct {
		uint32_t off, len;
	} w[] = {
		{ 4096 + 512, 40 << 10 }, /* head and tail, 80 iovecs */
		{ 3 * CL + 512, CL - 1024 }, /* 127 iovecs, 512-byte head and tail */
		{ 5 * CL, 512 }, /* tail only */
		{ 7 * CL - 512, 512 }, /* head only */
		{ 9 * CL - 8192, 24 << 10 }, /* straddling: a tail, then a head */
	};
	uint8_t *shadow = calloc(1, DEV), *buf = malloc(CL), *back = malloc(CL);
	char img[256], raw[256];
	struct tdev t;

	(void)state;
	assert_non_null(shadow);
	assert_non_null(buf);
	assert_non_null(back);
	tpath(img, sizeof(img), "pz.qcow2");
	tpath(raw, sizeof(raw), "pz.raw");
	unlink(img);
	run_ok("qemu-img create -q -f qcow2 -o cluster_size=%u '%s' %u", CL, img, DEV);
	tdev_open(&t, img, &sp);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		fill(buf, w[i].len, (uint32_t)(77 + i));
		memcpy(shadow + w[i].off, buf, w[i].len);
		write_ok(&t, w[i].off, w[i].len, buf);
		read_ok(&t, w[i].off, w[i].len, back);
		assert_memory_equal(back, buf, w[i].len);
	}
	unmap_ok(&t, shadow, 3 * CL + 4096, 3072); /* zeros written into an allocated cluster */
	verify_all(&t, shadow, DEV, "partial clusters");
	tdev_close(&t);
	write_file(raw, shadow, DEV);
	assert_image_clean(img);
	assert_same_as_raw(img, raw);
	unlink(img);
	unlink(raw);
	free(back);
	free(buf);
	free(shadow);
}

static void test_unmap(void **state)
{
	enum { DEV = 4 << 20 };
	uint8_t *shadow = malloc(DEV), *data = malloc(DEV);
	char img[256], raw[256], base[256];
	struct {
		const char *opts;
		bool backing, compressed, freed;
	} cases[] = {
		{ "cluster_size=65536", false, false, true },
		{ "cluster_size=4096,compat=0.10", false, false, true },
		{ "cluster_size=4096", true, false, false },
		{ "cluster_size=65536,compat=0.10", true, false, false },
		{ "", false, true, false },
	};

	(void)state;
	assert_non_null(shadow);
	assert_non_null(data);
	tpath(img, sizeof(img), "unmap.qcow2");
	tpath(raw, sizeof(raw), "unmap.raw");
	tpath(base, sizeof(base), "unmap-base.raw");
	fill(data, DEV, 21);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unlink(img);
		memcpy(shadow, data, DEV);
		if (cases[i].compressed) {
			write_file(raw, data, DEV);
			run_ok("qemu-img convert -c -f raw -O qcow2 '%s' '%s'", raw, img);
		} else if (cases[i].backing) {
			write_file(base, data, DEV);
			run_ok("qemu-img create -q -f qcow2 -o %s -b '%s' -F raw '%s' %d",
			       cases[i].opts, base, img, DEV);
			/* some clusters allocated in the image, the rest from the backing file */
			random_writes(img, shadow, DEV, 2, (uint32_t)i);
		} else {
			struct tdev t;

			run_ok("qemu-img create -q -f qcow2 -o %s '%s' %d", cases[i].opts, img,
			       DEV);
			tdev_open(&t, img, NULL);
			for (uint64_t off = 0; off < DEV; off += 512 << 10)
				write_ok(&t, off, 512 << 10, shadow + off);
			tdev_close(&t);
		}
		unmap_pattern(img, shadow, DEV, cases[i].freed);
		write_file(raw, shadow, DEV);
		assert_image_clean(img);
		assert_same_as_raw(img, raw);
	}
	unlink(img);
	unlink(raw);
	unlink(base);
	free(shadow);
	free(data);
}

/* Cluster-size straddling write through the device at an L2-table boundary, FUA, SYNC. */
static void test_flush_fua_ro(void **state)
{
	uint8_t buf[8 * BS], back[8 * BS], cdb[16];
	struct rts_sim_completion c;
	char img[256], cfg[300];
	struct tdev t;

	(void)state;
	tpath(img, sizeof(img), "fua.qcow2");
	unlink(img);
	/* 4 KiB clusters: one L2 table covers 2 MiB; write across that boundary with FUA. */
	run_ok("qemu-img create -q -f qcow2 -o cluster_size=4096 '%s' 8M", img);
	tdev_open(&t, img, NULL);
	fill(buf, sizeof(buf), 5);
	rw16(cdb, 0x8a, (2u << 20) / BS - 4, 8);
	cdb[1] = 0x08; /* FUA */
	assert_int_equal(
		rts_sim_exec(t.sim, cdb, 16, RTS_SIM_TO_DEV, buf, sizeof(buf), TIMEOUT_MS, &c), 0);
	assert_good(&c);
	memset(cdb, 0, 16);
	cdb[0] = 0x35; /* SYNCHRONIZE CACHE (10) */
	assert_int_equal(rts_sim_exec(t.sim, cdb, 10, RTS_SIM_NONE, NULL, 0, TIMEOUT_MS, &c), 0);
	assert_good(&c);
	read_ok(&t, (2u << 20) - 4 * BS, sizeof(back), back);
	assert_memory_equal(buf, back, sizeof(buf));
	tdev_close(&t);
	assert_image_clean(img);

	/* ro: reads work, writes fail with DATA PROTECT; the image is untouched. */
	snprintf(cfg, sizeof(cfg), "%s;ro", img);
	tdev_open(&t, cfg, NULL);
	read_ok(&t, (2u << 20) - 4 * BS, sizeof(back), back);
	assert_memory_equal(buf, back, sizeof(buf));
	do_rw(&t, 0x8a, 0, BS, buf, &c);
	assert_sense_key(&c, 7);
	tdev_close(&t);
	unlink(img);
}

static __attribute__((noinline)) void expect_check_fails(const char *cfg, int err,
							 const char *needle)
{
	char *why = NULL;
	int r = h->check_config(cfg, &why);

	if (r != err || !why || !strstr(why, needle))
		fail_msg("check_config('%s') = %d '%s', expected %d with '%s'", cfg, r,
			 why ? why : "(no reason)", err, needle);
	free(why);
}

/* Open must fail too (rts_dev_open runs check_config first; the log has the reason). */
static __attribute__((noinline)) void expect_open_fails(const char *cfg, uint64_t dev_size,
							const char *needle)
{
	char *why = NULL;
	struct tdev t;
	int r = tdev_try_open(&t, cfg, dev_size, NULL, &why);

	if (r >= 0)
		tdev_close(&t);
	if (r >= 0 || ((!why || !strstr(why, needle)) && !strstr(logbuf, needle)))
		fail_msg("open 'qcow/%s' = %d (%s; log: %s), expected a failure with '%s'", cfg, r,
			 why ? why : "", logbuf, needle);
	free(why);
}

static void patch(const char *path, uint64_t off, const void *bytes, size_t len)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void test_refusals(void **state)
{
	char p[256], cfg[300], base[256], src[512];
	uint8_t b8[8], hdr[50];
	struct tdev t;

	(void)state;
	expect_check_fails("", -EINVAL, "no path");
	expect_check_fails(";ro", -EINVAL, "qcow: no path given");
	expect_check_fails("/nonexistent/x.qcow2", -ENOENT, "No such file");
	tpath(p, sizeof(p), "x.qcow2");
	run_ok("qemu-img create -q -f qcow2 '%s' 1M", p);
	snprintf(cfg, sizeof(cfg), "%s;o_direct", p);
	expect_check_fails(cfg, -EINVAL, "unknown option 'o_direct'");
	assert_int_equal(h->check_config(p, NULL), 0);

	/* Device larger than the virtual size. */
	expect_open_fails(p, 2 << 20, "exceeds the image's virtual size");

	/* Unknown incompatible feature bit 40. */
	put_be64(b8, 1ull << 40);
	patch(p, 72, b8, 8);
	expect_check_fails(p, -ENOTSUP, "unknown incompatible feature bits 0x10000000000");
	expect_open_fails(p, 0, "unknown incompatible feature");
	/* Dirty bit: refused for writing, fine read-only. */
	put_be64(b8, 1);
	patch(p, 72, b8, 8);
	expect_check_fails(p, -EUCLEAN, "not closed cleanly");
	snprintf(cfg, sizeof(cfg), "%s;ro", p);
	assert_int_equal(h->check_config(cfg, NULL), 0);
	/* Corrupt bit. */
	put_be64(b8, 2);
	patch(p, 72, b8, 8);
	expect_check_fails(p, -EUCLEAN, "marked corrupt");
	tdev_open(&t, cfg, NULL);
	tdev_close(&t);
	/* Bad magic. */
	patch(p, 0, "QFI\xfa", 4);
	expect_check_fails(p, -EINVAL, "bad magic");
	expect_open_fails(p, 0, "bad magic");
	/* Truncated header. */
	run_ok("qemu-img create -q -f qcow2 '%s' 1M", p);
	read_file(p, hdr, sizeof(hdr));
	write_file(p, hdr, sizeof(hdr));
	expect_check_fails(p, -EINVAL, "truncated header");
	/*
	 * Encryption. LUKS: the header of an image qemu-img made (kept in the fuzz corpus:
	 * creating one benchmarks PBKDF, slow and flaky on a busy machine). Legacy AES:
	 * crypt_method 1 patched into a plain image.
	 */
	snprintf(src, sizeof(src), "%s/tests/fuzz/corpus/fuzz_qcow2_header/luks_hdr",
		 getenv("RTS_TEST_SRCDIR") ? getenv("RTS_TEST_SRCDIR") : ".");
	run_ok("cp '%s' '%s'", src, p);
	expect_check_fails(p, -ENOTSUP, "encrypted image (crypt_method 2)");
	expect_open_fails(p, 0, "encrypted");
	run_ok("qemu-img create -q -f qcow2 '%s' 1M", p);
	put_be32(b8, 1);
	patch(p, 32, b8, 4);
	expect_check_fails(p, -ENOTSUP, "encrypted image (crypt_method 1)");
	/* qcow version 1. */
	run_ok("qemu-img create -q -f qcow '%s' 1M", p);
	expect_check_fails(p, -ENOTSUP, "qcow version 1");
	/* 8-bit refcounts. */
	run_ok("qemu-img create -q -f qcow2 -o refcount_bits=8 '%s' 1M", p);
	expect_check_fails(p, -ENOTSUP, "refcount_order 3");
	/* zstd compression (when this qemu-img has it). */
	if (run(NULL, 0, "qemu-img create -q -f qcow2 -o compression_type=zstd '%s' 1M", p) == 0)
		expect_check_fails(p, -ENOTSUP, "compression type 1");
	/* Backing files: missing, unsupported format, a protocol, a loop. */
	tpath(base, sizeof(base), "base.raw");
	run_ok("qemu-img create -q -f raw '%s' 1M", base);
	run_ok("qemu-img create -q -f qcow2 -b '%s' -F raw '%s' 1M", base, p);
	assert_int_equal(h->check_config(p, NULL), 0);
	unlink(base);
	expect_check_fails(p, -ENOENT, "cannot open backing file");
	expect_open_fails(p, 0, "cannot open backing file");
	run_ok("qemu-img create -q -f vmdk '%s' 1M", base);
	run_ok("qemu-img create -q -f qcow2 -b '%s' -F vmdk '%s' 1M", base, p);
	expect_check_fails(p, -ENOTSUP, "format 'vmdk'");
	run_ok("qemu-img create -q -f qcow2 -u -b 'nbd:localhost:10809' -F raw '%s' 1M", p);
	expect_check_fails(p, -ENOTSUP, "not a local file name");
	run_ok("qemu-img create -q -f qcow2 -u -b '%s' -F qcow2 '%s' 1M", base, p);
	run_ok("qemu-img create -q -f qcow2 -u -b '%s' -F qcow2 '%s' 1M", p, base);
	expect_check_fails(p, -ELOOP, "loops back to");
	/* 17 images: one more than the chain limit. */
	run_ok("cd '%s' && qemu-img create -q -f qcow2 c0.qcow2 1M && for i in $(seq 1 16); do "
	       "qemu-img create -q -f qcow2 -u -b c$((i - 1)).qcow2 -F qcow2 c$i.qcow2 1M; done",
	       tmpdir);
	snprintf(cfg, sizeof(cfg), "%s/c16.qcow2", tmpdir);
	expect_check_fails(cfg, -ELOOP, "backing chain longer than 16");
	snprintf(cfg, sizeof(cfg), "%s/c15.qcow2", tmpdir);
	assert_int_equal(h->check_config(cfg, NULL), 0);
	run_ok("rm -f '%s'/c*.qcow2", tmpdir);
	/* Internal snapshots: read-only only. */
	run_ok("qemu-img create -q -f qcow2 '%s' 1M", p);
	run_ok("qemu-img snapshot -c s1 '%s'", p);
	expect_check_fails(p, -ENOTSUP, "internal snapshot");
	snprintf(cfg, sizeof(cfg), "%s;ro", p);
	tdev_open(&t, cfg, NULL);
	tdev_close(&t);
	/* Not a file. */
	expect_check_fails(tmpdir, -EISDIR, "Is a directory");
	snprintf(cfg, sizeof(cfg), "%s;ro", tmpdir);
	expect_check_fails(cfg, -EINVAL, "not a regular file");
	unlink(p);
	unlink(base);
}

/*
 * Metadata or data the writable image references past its allocated area (past the end of
 * the file, with no refcount): the allocator hands those clusters out again, so guest data
 * would overwrite a refcount block (a fuzz finding: an acknowledged write read back
 * changed) or two guest clusters would share one host cluster. A refcount block or an L2
 * table there refuses the open; a data cluster there fails the commands that use it,
 * MEDIUM ERROR, and nothing else.
 */
static void test_metadata_past_allocation(void **state)
{
	char p[256];
	uint8_t b8[8], buf[4096], w[4096];
	struct rts_sim_completion c;
	struct tdev t;

	(void)state;
	tpath(p, sizeof(p), "past.qcow2");
	/* 64 KiB clusters: header, refcount table (0x10000), refcount block (0x20000), L1
	 * (0x30000); the file ends at 0x40000 */
	run_ok("qemu-img create -q -f qcow2 '%s' 4M", p);
	put_be64(b8, 0x80000);
	patch(p, 0x10000, b8, 8);
	expect_open_fails(p, 0, "refcount block 0 at 0x80000 is past the allocated area");
	/* read-only: nothing is allocated, the block is never used */
	{
		char cfg[300];

		snprintf(cfg, sizeof(cfg), "%s;ro", p);
		tdev_open(&t, cfg, NULL);
		read_ok(&t, 0, sizeof(buf), buf);
		tdev_close(&t);
	}

	/* an L2 table past the end of the file: refused with the L1 table */
	run_ok("qemu-img create -q -f qcow2 '%s' 4M", p);
	run_ok("qemu-io -f qcow2 -c 'write -P 0x5a 0 64k' '%s'", p); /* L2 0x40000, data 0x50000 */
	put_be64(b8, 0x100000ull | 1ull << 63);
	patch(p, 0x30000, b8, 8);
	expect_open_fails(p, 0, "L2 table offset 0x100000 is past the end of the file");

	/* a data cluster past the allocated area */
	run_ok("qemu-img create -q -f qcow2 '%s' 4M", p);
	run_ok("qemu-io -f qcow2 -c 'write -P 0x5a 0 64k' '%s'", p);
	put_be64(b8, 0x200000ull | 1ull << 63);
	patch(p, 0x40000 + 8, b8, 8); /* guest cluster 1 */
	tdev_open(&t, p, NULL);
	read_ok(&t, 0, sizeof(buf), buf);
	assert_int_equal(buf[0], 0x5a);
	do_rw(&t, 0x88, 64 << 10, sizeof(buf), buf, &c);
	assert_sense_key(&c, 0x3);
	assert_non_null(strstr(logbuf, "guest cluster 1 is at 0x200000, past the allocated area"));
	do_rw(&t, 0x8a, 64 << 10, sizeof(w), w, &c);
	assert_sense_key(&c, 0x3);
	/* a new cluster (allocated at the end of the file) keeps what is written to it */
	write_ok(&t, 128 << 10, sizeof(w), w);
	read_ok(&t, 128 << 10, sizeof(buf), buf);
	assert_memory_equal(buf, w, sizeof(w));
	tdev_close(&t);
	unlink(p);
}

/*
 * An L2 entry that maps guest data onto the image's own metadata (found by fuzz_qcow2_image:
 * an L2 table mapping a guest cluster onto itself): writing through it would overwrite the
 * table, and an acknowledged write read back changed. Refused like qemu's overlap check,
 * with MEDIUM ERROR, for the L2 table, a refcount block, the refcount and L1 tables and for an
 * L2 table this device allocates after the entry was read; the tables on disk are left as
 * they were.
 */
static void test_data_on_metadata(void **state)
{
	static const struct {
		uint64_t target;
		const char *what;
	} cases[] = { { 0x40000, "the L2 table" }, { 0x20000, "a refcount block" },
		      { 0x10000, "the refcount table" }, { 0x30000, "the L1 table" } };
	static uint8_t buf[4096], w[4096], before[4096], after[4096];
	char p[256];
	uint8_t b8[8];
	struct rts_sim_completion c;
	struct tdev t;
	int fd;

	(void)state;
	tpath(p, sizeof(p), "meta.qcow2");
	memset(w, 0xc3, sizeof(w));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* 64 KiB clusters: header, refcount table 0x10000, refcount block 0x20000, L1
		 * 0x30000, L2 0x40000, guest cluster 0 at 0x50000 */
		run_ok("qemu-img create -q -f qcow2 '%s' 4M", p);
		run_ok("qemu-io -f qcow2 -c 'write -P 0x5a 0 64k' '%s'", p);
		put_be64(b8, cases[i].target | 1ull << 63);
		patch(p, 0x40000 + 8, b8, 8); /* guest cluster 1 */
		fd = open(p, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, before, sizeof(before), (off_t)cases[i].target),
				 (ssize_t)sizeof(before));
		tdev_open(&t, p, NULL);
		do_rw(&t, 0x8a, 64 << 10, sizeof(w), w, &c);
		if (c.status != 0x02 || (c.sense[2] & 0xf) != 0x3)
			fail_msg("write onto %s: status 0x%x, not MEDIUM ERROR", cases[i].what,
				 c.status);
		do_rw(&t, 0x88, 64 << 10, sizeof(buf), buf, &c);
		assert_sense_key(&c, 0x3);
		if (!strstr(logbuf, "a cluster that holds the image's own metadata"))
			fail_msg("data on %s: log: %s", cases[i].what, logbuf);
		read_ok(&t, 0, sizeof(buf), buf); /* the rest of the image is served */
		assert_int_equal(buf[0], 0x5a);
		tdev_close(&t);
		assert_int_equal(pread(fd, after, sizeof(after), (off_t)cases[i].target),
				 (ssize_t)sizeof(after));
		assert_memory_equal(before, after, sizeof(before));
		close(fd);
	}

	/* An entry past the end of the file, onto the L2 table this device then allocates
	 * there (guest cluster 1 of the second L2 table's range: 512 MiB in). */
	run_ok("qemu-img create -q -f qcow2 '%s' 1G", p);
	run_ok("qemu-io -f qcow2 -c 'write -P 0x5a 0 64k' '%s'", p); /* ends at 0x60000 */
	put_be64(b8, 0x60000ull | 1ull << 63);
	patch(p, 0x40000 + 8, b8, 8);
	tdev_open(&t, p, NULL);
	write_ok(&t, 512ull << 20, sizeof(w), w); /* a new L2 table at 0x60000 */
	do_rw(&t, 0x8a, 64 << 10, sizeof(w), w, &c);
	assert_sense_key(&c, 0x3);
	read_ok(&t, 512ull << 20, sizeof(buf), buf);
	assert_memory_equal(buf, w, sizeof(w));
	tdev_close(&t);
	unlink(p);
}

/*
 * qemu's image locking: while a device writes an image, qemu-io cannot open it (qemu-img
 * -U still reads it), a second writer or a reader is refused; two read-only devices share
 * an image; and an image a qemu process holds open for writing is refused by us.
 */
static void test_image_locking(void **state)
{
	char img[256], cfg[300], out[4096], *why = NULL;
	struct tdev t, t2;
	FILE *qio;
	int r = 0;

	(void)state;
	tpath(img, sizeof(img), "lock.qcow2");
	unlink(img);
	run_ok("qemu-img create -q -f qcow2 '%s' 1M", img);
	snprintf(cfg, sizeof(cfg), "%s;ro", img);

	tdev_open(&t, img, NULL);
	assert_int_not_equal(run(out, sizeof(out), "qemu-io -f qcow2 -c 'read 0 512' '%s'", img),
			     0);
	if (!strstr(out, "lock"))
		fail_msg("qemu-io on an image a device writes: %s", out);
	run_ok("qemu-img info -U '%s'", img);
	expect_check_fails(img, -EBUSY, "in use by another process");
	assert_int_equal(tdev_try_open(&t2, cfg, 0, NULL, &why), -EBUSY);
	free(why);
	why = NULL;
	tdev_close(&t);

	tdev_open(&t, cfg, NULL);
	tdev_open(&t2, cfg, NULL);
	tdev_close(&t2);
	tdev_close(&t);

	/* qemu-io waiting for commands on stdin keeps the image open read-write. */
	snprintf(out, sizeof(out), "exec qemu-io -f qcow2 '%s' >/dev/null 2>&1", img);
	qio = popen(out, "w");
	assert_non_null(qio);
	for (int i = 0; i < 100; i++) {
		r = h->check_config(img, NULL);
		if (r == -EBUSY)
			break;
		usleep(50 * 1000);
	}
	assert_int_equal(r, -EBUSY);
	expect_check_fails(cfg, -EBUSY, "holding its write permission");
	fputs("quit\n", qio);
	pclose(qio);
	assert_int_equal(h->check_config(img, NULL), 0);
	unlink(img);
}

/*
 * The child of test_crash_consistency: allocating writes forever, until SIGKILL. No cmocka
 * assertions here (a failure must not resume the test runner in the child): _exit(1).
 */
static void crash_child(const char *img, uint8_t *buf, unsigned int round)
{
	enum { QD = 16, LEN = 24 << 10, DEV = 8 << 20 };
	char cfg[512];
	struct rts_dev_config dc = {
		RTS_DEV_CONFIG_INIT,
		.name = "crash",
		.cfgstring = cfg,
		.block_size = BS,
		.write_cache = true,
	};
	uint64_t x = 0x9e3779b97f4a7c15ull * (round + 1);
	struct rts_sim *sim = NULL;
	struct rts_dev *dev = NULL;

	snprintf(cfg, sizeof(cfg), "qcow/%s", img);
	if (rts_sim_new(NULL, &sim) < 0 || rts_dev_new_sim(&dc, h, sim, &dev) < 0 ||
	    rts_dev_open(dev, false, NULL) < 0 || rts_dev_start(dev) < 0)
		_exit(1);
	for (;;) {
		for (unsigned int i = 0; i < QD; i++) {
			uint8_t cdb[16];
			uint64_t off;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			off = (x % (DEV - LEN)) / BS * BS;
			rw16(cdb, 0x8a, off / BS, LEN / BS);
			if (rts_sim_submit(sim, cdb, 16, RTS_SIM_TO_DEV, buf + (size_t)i * LEN, LEN,
					   NULL, NULL) < 0)
				_exit(1);
		}
		rts_sim_kick(sim);
		while (rts_sim_outstanding(sim))
			if (rts_sim_wait(sim, TIMEOUT_MS) < 0 || rts_sim_reap(sim, NULL, NULL) < 0)
				_exit(1);
	}
}

/*
 * Crash consistency (process crash): a child keeps 16 allocating writes in flight (new L2
 * tables, refcount blocks, copy-on-write over a backing file, refcount table growth with
 * 512 B clusters) and is SIGKILLed at a random moment. qemu-img check may then find leaked
 * clusters (exit 3) but never corruption (exit 2), and the image reopens and reads.
 */
static void test_crash_consistency(void **state)
{
	enum { DEV = 8 << 20 };
	char img[256], base[256], out[4096];
	uint8_t *buf = malloc(DEV);
	int leaks = 0;

	(void)state;
	assert_non_null(buf);
	tpath(img, sizeof(img), "crash.qcow2");
	tpath(base, sizeof(base), "crash-base.raw");
	fill(buf, DEV, 5);
	write_file(base, buf, DEV);
	for (unsigned int round = 0; round < 6; round++) {
		struct stat st0, st1;
		pid_t pid;
		int st, r;

		unlink(img);
		run_ok("qemu-img create -q -f qcow2 -o cluster_size=%u -b '%s' -F raw '%s' %d",
		       round % 2 ? 512u : 4096u, base, img, DEV);
		assert_int_equal(stat(img, &st0), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			crash_child(img, buf, round);
		/* Kill it at a random moment once it is writing (the image grew). */
		for (int i = 0; i < 500; i++) {
			struct stat now;

			if (stat(img, &now) == 0 && now.st_size > st0.st_size)
				break;
			usleep(10000);
		}
		usleep((useconds_t)(round * 37000 % 100000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st));
		/* The dead process's io_uring releases the file (and its OFD locks) shortly
		 * after the process is gone. */
		for (int i = 0; i < 250; i++) {
			r = run(out, sizeof(out), "qemu-img check -f qcow2 '%s'", img);
			if (r != 1 || !strstr(out, "lock"))
				break;
			usleep(20000);
		}
		if (r != 0 && r != 3)
			fail_msg("round %u: qemu-img check exited %d after a crash: %s", round, r,
				 out);
		leaks += r == 3;
		assert_int_equal(stat(img, &st1), 0);
		assert_true(st1.st_size > st0.st_size); /* it did allocate before the crash */
		{
			struct tdev t;
			uint8_t *back = malloc(1 << 20);

			assert_non_null(back);
			tdev_open(&t, img, NULL);
			for (uint64_t off = 0; off < DEV; off += 1 << 20)
				read_ok(&t, off, 1 << 20, back);
			tdev_close(&t);
			free(back);
		}
	}
	print_message("crash consistency: %d of 6 rounds left leaked clusters, none corrupt\n",
		      leaks);
	unlink(img);
	unlink(base);
	free(buf);
}

struct abort_result {
	uint16_t ids[16];
	uint8_t status[16];
	unsigned int n;
};

static void abort_cb(void *ud, const struct rts_sim_completion *c)
{
	struct abort_result *a = ud;

	for (unsigned int i = 0; i < 16; i++)
		if (a->ids[i] == c->cmd_id)
			a->status[i] = c->status;
	a->n++;
}

/*
 * TMR aborts of allocating writes in flight (the core cancels their SQEs): every command
 * ends GOOD or TASK ABORTED, the writes that ended GOOD are there, and the clusters of
 * cancelled allocations are given back (qemu-img check: no errors, no leaks).
 */
static void test_abort_allocating_writes(void **state)
{
	enum { DEV = 8 << 20, N = 16, LEN = 256 << 10 };
	uint8_t *data = malloc((size_t)N * LEN), *back = malloc(LEN);
	struct abort_result a = { .n = 0 };
	char img[256], out[4096];
	unsigned int aborted = 0;
	struct tdev t;
	int r;

	(void)state;
	assert_non_null(data);
	assert_non_null(back);
	tpath(img, sizeof(img), "abort.qcow2");
	unlink(img);
	run_ok("qemu-img create -q -f qcow2 -o cluster_size=4096 '%s' %d", img, DEV);
	fill(data, (size_t)N * LEN, 8);
	tdev_open(&t, img, NULL);
	for (unsigned int i = 0; i < N; i++) {
		uint8_t cdb[16];

		/* 2 KiB past a cluster boundary: partial head, whole clusters, partial tail */
		rw16(cdb, 0x8a, ((uint64_t)i * (DEV / N) + 2048) / BS, LEN / BS);
		assert_int_equal(rts_sim_submit(t.sim, cdb, 16, RTS_SIM_TO_DEV,
						data + (size_t)i * LEN, LEN, NULL, &a.ids[i]),
				 0);
		a.status[i] = 0xff;
	}
	assert_int_equal(rts_sim_kick(t.sim), 0);
	assert_int_equal(rts_sim_queue_tmr(t.sim, 1, a.ids, N), 0);
	assert_int_equal(rts_sim_kick(t.sim), 0);
	while (rts_sim_outstanding(t.sim)) {
		assert_true(rts_sim_wait(t.sim, TIMEOUT_MS) > 0);
		assert_true(rts_sim_reap(t.sim, abort_cb, &a) >= 0);
	}
	for (unsigned int i = 0; i < N; i++) {
		if (a.status[i] == 0x40) {
			aborted++;
			continue;
		}
		assert_int_equal(a.status[i], 0);
		read_ok(&t, (uint64_t)i * (DEV / N) + 2048, LEN, back);
		assert_memory_equal(back, data + (size_t)i * LEN, LEN);
	}
	tdev_close(&t);
	/* Cancelled allocations give their clusters back: not even a leak. */
	r = run(out, sizeof(out), "qemu-img check -f qcow2 '%s'", img);
	if (r != 0)
		fail_msg("qemu-img check exited %d after aborts: %s", r, out);
	print_message("aborts: %u of %d allocating writes ended TASK ABORTED\n", aborted, N);
	unlink(img);
	free(data);
	free(back);
}

/*
 * 512-byte clusters: the refcount table qemu-img creates (one cluster, 64 blocks of 256
 * refcounts) covers 8 MiB of file. Filling a 16 MiB image makes the handler grow it
 * (twice); the image must stay clean and keep working after a reopen.
 */
static void test_refcount_table_growth(void **state)
{
	enum { DEV = 16 << 20, CHUNK = 256 << 10 };
	uint8_t *shadow = malloc(DEV), hdr[64];
	char img[256], raw[256];
	uint32_t clusters;
	struct tdev t;

	(void)state;
	assert_non_null(shadow);
	tpath(img, sizeof(img), "grow.qcow2");
	tpath(raw, sizeof(raw), "grow.raw");
	unlink(img);
	run_ok("qemu-img create -q -f qcow2 -o cluster_size=512 '%s' %d", img, DEV);
	read_file(img, hdr, sizeof(hdr));
	assert_int_equal(hdr[56] << 24 | hdr[57] << 16 | hdr[58] << 8 | hdr[59], 1);
	fill(shadow, DEV, 3);
	tdev_open(&t, img, NULL);
	for (uint64_t off = 0; off < DEV / 2; off += CHUNK)
		write_ok(&t, off, CHUNK, shadow + off);
	tdev_close(&t);
	assert_image_clean(img);
	tdev_open(&t, img, NULL);
	for (uint64_t off = DEV / 2; off < DEV; off += CHUNK)
		write_ok(&t, off, CHUNK, shadow + off);
	verify_all(&t, shadow, DEV, "after growing the refcount table");
	assert_non_null(strstr(logbuf, "refcount table grown"));
	tdev_close(&t);
	read_file(img, hdr, sizeof(hdr));
	clusters = (uint32_t)hdr[56] << 24 | hdr[57] << 16 | hdr[58] << 8 | hdr[59];
	assert_true(clusters >= 4);
	write_file(raw, shadow, DEV);
	assert_image_clean(img);
	assert_same_as_raw(img, raw);
	unlink(img);
	unlink(raw);
	free(shadow);
}

static int setup(void **state)
{
	const char *bindir = getenv("RTS_TEST_BINDIR");
	char path[512], *why = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/handlers/handler_qcow2.so", bindir ? bindir : ".");
	if (rts_handler_load(path, &lh, &why) < 0) {
		fprintf(stderr, "cannot load %s: %s\n", path, why ? why : "?");
		free(why);
		return -1;
	}
	h = rts_loaded_handler_get(lh);
	/* tmpfs when there is one: allocating writes fdatasync, which is free there. */
	snprintf(tmpdir, sizeof(tmpdir), "/dev/shm/rts-test-qcow2.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		snprintf(tmpdir, sizeof(tmpdir), "/var/tmp/rts-test-qcow2.XXXXXX");
		if (!mkdtemp(tmpdir))
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	lh = rts_handler_unload(lh);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_metadata_past_allocation),
		cmocka_unit_test(test_data_on_metadata),
		cmocka_unit_test(test_flush_fua_ro),
		cmocka_unit_test(test_roundtrip_v3),
		cmocka_unit_test(test_roundtrip_v2),
		cmocka_unit_test(test_partial_cluster_zeros),
		cmocka_unit_test(test_read_qemu_written),
		cmocka_unit_test(test_backing_raw),
		cmocka_unit_test(test_backing_qcow2_chain),
		cmocka_unit_test(test_contention),
		cmocka_unit_test(test_unmap),
		cmocka_unit_test(test_image_locking),
		cmocka_unit_test(test_crash_consistency),
		cmocka_unit_test(test_abort_allocating_writes),
		cmocka_unit_test(test_refcount_table_growth),
	};

	if (system("qemu-img --version >/dev/null 2>&1 && qemu-io --version >/dev/null 2>&1") !=
	    0) {
		fprintf(stderr,
			"qemu-img/qemu-io not found (apt-get install qemu-utils): skipped\n");
		return 77;
	}
	return cmocka_run_group_tests_name("handler_qcow2", tests, setup, teardown);
}
