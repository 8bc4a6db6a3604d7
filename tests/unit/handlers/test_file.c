/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The file handler (handlers/file) loaded as a plugin and driven through the ring simulator:
 * check_config errors, data integrity across iovec splits and ring wrap, FUA/SYNC, UNMAP,
 * WRITE SAME, COMPARE AND WRITE, reads past EOF, errno → sense mapping with real failing
 * file systems (a full tmpfs, a read-only bind mount; both need root and are skipped
 * without it), and resize → CAPACITY DATA HAS CHANGED.
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
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/fs.h>

#include <rts/device.h>

#include "macro.h"

#define TIMEOUT_MS 10000
#define BS	   512u

#define HARNESS_TDEV
#define HARNESS_BLOCK_IO
#include "harness.h"

static struct rts_loaded_handler *lh;
static const struct rts_handler *h;
static char tmpdir[64];

/* ---------------------------------------------------------------- helpers */

static void path_in_tmp(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void make_file(const char *path, size_t len, uint8_t byte)
{
	uint8_t *b = malloc(len ? len : 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_non_null(b);
	assert_true(fd >= 0);
	memset(b, byte, len);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
	free(b);
}

/* Device name (its serial and NAA designator derive from it): two devices need two. */
static const char *tdev_name = "tfile";

/* Open "file/<cfg>" on a default simulator; fails the test if it cannot. */
static void tdev_open(struct tdev *t, const char *cfg, const struct rts_sim_params *sp)
{
	char full[512], *why = NULL;
	int r;

	snprintf(full, sizeof(full), "file/%s", cfg);
	r = tdev_open_sim(t, h, tdev_name, full, 0, sp, &why);
	if (r < 0)
		fail_msg("open '%s': %s", full, why ? why : strerror(-r));
}

static int check(const char *cfg, char **why)
{
	*why = NULL;
	return h->check_config(cfg, why);
}

static void expect_check_fails(const char *cfg, int err, const char *needle)
{
	char *why = NULL;
	int r = check(cfg, &why);

	if (r != err || !why || !strstr(why, needle))
		fail_msg("check_config('%s') = %d '%s', expected %d with '%s'", cfg, r,
			 why ? why : "(no reason)", err, needle);
	free(why);
}

/* ------------------------------------------------------------------ tests */

static void test_check_config(void **state)
{
	char p[256], cfg[512], *why;
	struct stat st;

	(void)state;
	path_in_tmp(p, sizeof(p), "cc.img");
	make_file(p, 1 << 20, 0);

	assert_int_equal(check(p, &why), 0);
	assert_null(why);
	snprintf(cfg, sizeof(cfg), "%s;o_direct;size=2M;writeback=off;queue_depth=64;ro", p);
	assert_int_equal(check(cfg, &why), 0);

	/* Missing file: an error without size=, fine with it, and never created by the check. */
	path_in_tmp(p, sizeof(p), "missing.img");
	expect_check_fails("", -EINVAL, "file: no path given");
	expect_check_fails(";ro", -EINVAL, "file: no path given");
	expect_check_fails(p, -ENOENT, "does not exist");
	snprintf(cfg, sizeof(cfg), "%s;size=1M", p);
	assert_int_equal(check(cfg, &why), 0);
	assert_int_equal(stat(p, &st), -1);
	snprintf(cfg, sizeof(cfg), "%s/nodir/x.img;size=1M", tmpdir);
	expect_check_fails(cfg, -ENOENT, "cannot create");

	expect_check_fails(tmpdir, -EISDIR, "is a directory");
	expect_check_fails("", -EINVAL, "no path");

	path_in_tmp(p, sizeof(p), "cc.img");
	snprintf(cfg, sizeof(cfg), "%s;frobnicate", p);
	expect_check_fails(cfg, -EINVAL, "unknown option 'frobnicate'");
	snprintf(cfg, sizeof(cfg), "%s;size=12Q", p);
	expect_check_fails(cfg, -EINVAL, "bad size '12Q'");
	snprintf(cfg, sizeof(cfg), "%s;size=1000", p);
	expect_check_fails(cfg, -EINVAL, "bad size");
	snprintf(cfg, sizeof(cfg), "%s;writeback=maybe", p);
	expect_check_fails(cfg, -EINVAL, "writeback");
	snprintf(cfg, sizeof(cfg), "%s;queue_depth=0", p);
	expect_check_fails(cfg, -EINVAL, "queue_depth");
	snprintf(cfg, sizeof(cfg), "%s;size=512K", p);
	expect_check_fails(cfg, -EINVAL, "truncate");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 1 << 20);
	expect_check_fails("/dev/null", -EINVAL, "neither a regular file nor a block device");

	/* Permission denied: a 0600 file seen by an unprivileged user (fork and drop root). */
	path_in_tmp(p, sizeof(p), "secret.img");
	make_file(p, 4096, 0);
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(chmod(tmpdir, 0755), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *w = NULL;
		int r;

		if (geteuid() == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(77);
		} else if (chmod(p, 0400) < 0) { /* our own file: make it unwritable */
			_exit(2);
		}
		r = h->check_config(p, &w);
		_exit(r == -EACCES && w && strstr(w, "Permission denied") ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		print_message("permission check skipped: cannot drop privileges\n");
	else
		assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * Random writes in batches of non-overlapping commands kept in flight together, each
 * iovec one data-area block and a ring small enough to wrap many times, checked against a
 * shadow copy; then everything read back the same way. Run on the page cache and O_DIRECT,
 * and with queue_depth=4 so that commands wait in the handler.
 */
static void integrity_run(const char *opts)
{
	enum { DEV = 8 << 20, QD = 16, REGION = DEV / QD, MAXLEN = 128 << 10 };
	struct rts_sim_params sp = { .cmdr_size = 8192, .data_size = 4 << 20, .max_iov_blocks = 1 };
	uint8_t *shadow = calloc(1, DEV), *bufs = malloc((size_t)QD * MAXLEN);
	char p[256], cfg[512];
	unsigned int bad = 0;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct tdev t;

	assert_non_null(shadow);
	assert_non_null(bufs);
	path_in_tmp(p, sizeof(p), "integrity.img");
	unlink(p);
	snprintf(cfg, sizeof(cfg), "%s;size=%u%s", p, DEV, opts);
	tdev_open(&t, cfg, &sp);
	assert_int_equal(capacity_blocks(&t), DEV / BS);
	for (unsigned int batch = 0; batch < 40; batch++) {
		for (unsigned int i = 0; i < QD; i++) {
			uint8_t cdb[16], *b = bufs + (size_t)i * MAXLEN;
			uint32_t blocks;
			uint64_t lba;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			blocks = 1 + (uint32_t)(x % (MAXLEN / BS));
			lba = ((uint64_t)i * REGION + (x >> 20) % (REGION - MAXLEN + 1)) / BS;
			fill(b, (size_t)blocks * BS, batch * QD + i);
			memcpy(shadow + lba * BS, b, (size_t)blocks * BS);
			rw16(cdb, 0x8a, lba, blocks);
			submit_retry(&t, cdb, RTS_SIM_TO_DEV, b, (size_t)blocks * BS, &bad);
		}
		pump(&t, &bad);
	}
	assert_int_equal(bad, 0);
	/* Read back in uneven pieces, QD at a time. */
	for (uint64_t off = 0; off < DEV;) {
		size_t lens[QD];
		uint64_t offs[QD];
		unsigned int n = 0;

		for (; n < QD && off < DEV; n++) {
			uint8_t cdb[16];
			size_t len = MIN((size_t)(DEV - off), (size_t)(MAXLEN - (n % 5) * 8192));

			offs[n] = off;
			lens[n] = len;
			rw16(cdb, 0x88, off / BS, (uint32_t)(len / BS));
			submit_retry(&t, cdb, RTS_SIM_FROM_DEV, bufs + (size_t)n * MAXLEN, len,
				     &bad);
			off += len;
		}
		pump(&t, &bad);
		for (unsigned int i = 0; i < n; i++)
			if (memcmp(bufs + (size_t)i * MAXLEN, shadow + offs[i], lens[i]))
				fail_msg("%s: data mismatch in [%llu, +%zu)", opts,
					 (unsigned long long)offs[i], lens[i]);
	}
	assert_int_equal(bad, 0);
	tdev_close(&t);
	unlink(p);
	free(shadow);
	free(bufs);
}

static void test_integrity(void **state)
{
	(void)state;
	integrity_run("");
	integrity_run(";o_direct");
	integrity_run(";queue_depth=4;writeback=off");
	/* every write through io_uring (common/bufwrite.h), as on a loaded page cache */
	setenv("RTS_INLINE_WRITES", "0", 1);
	integrity_run("");
	unsetenv("RTS_INLINE_WRITES");
}

static void test_fua_sync(void **state)
{
	uint8_t buf[8 * BS], back[8 * BS], cdb[16], ms[64];
	struct rts_sim_completion c;
	char p[256], cfg[512];
	struct tdev t;

	(void)state;
	path_in_tmp(p, sizeof(p), "fua.img");
	unlink(p);
	for (int wb = 1; wb >= 0; wb--) {
		snprintf(cfg, sizeof(cfg), "%s;size=1M;writeback=%s", p, wb ? "on" : "off");
		tdev_open(&t, cfg, NULL);
		/* MODE SENSE(6), caching page: WCE follows writeback=. */
		memset(cdb, 0, 6);
		cdb[0] = 0x1a;
		cdb[2] = 0x08;
		cdb[4] = sizeof(ms);
		exec(&t, cdb, 6, RTS_SIM_FROM_DEV, ms, sizeof(ms), &c);
		assert_good(&c);
		assert_int_equal(ms[4 + ms[3]] & 0x3f, 0x08);
		assert_int_equal(!!(ms[4 + ms[3] + 2] & 0x04), wb);
		fill(buf, sizeof(buf), 7u + (unsigned int)wb);
		rw16(cdb, 0x8a, 16, 8);
		cdb[1] = 0x08; /* FUA */
		exec(&t, cdb, 16, RTS_SIM_TO_DEV, buf, sizeof(buf), &c);
		assert_good(&c);
		read_ok(&t, 16, 8, back);
		assert_memory_equal(buf, back, sizeof(buf));
		memset(cdb, 0, 10);
		cdb[0] = 0x35; /* SYNCHRONIZE CACHE(10) */
		exec(&t, cdb, 10, RTS_SIM_NONE, NULL, 0, &c);
		assert_good(&c);
		tdev_close(&t);
	}
	unlink(p);
}

static void unmap_one(struct tdev *t, uint64_t lba, uint32_t blocks, struct rts_sim_completion *c)
{
	uint8_t cdb[10] = { 0x42 }, pl[24] = { 0 };

	put_be16(pl, 22);
	put_be16(pl + 2, 16);
	put_be64(pl + 8, lba);
	put_be32(pl + 16, blocks);
	put_be16(cdb + 7, sizeof(pl));
	exec(t, cdb, 10, RTS_SIM_TO_DEV, pl, sizeof(pl), c);
}

static void write_same16(struct tdev *t, uint64_t lba, uint32_t blocks, bool unmap, uint8_t *block,
			 struct rts_sim_completion *c)
{
	uint8_t cdb[16];

	rw16(cdb, 0x93, lba, blocks);
	if (unmap)
		cdb[1] = 0x08;
	exec(t, cdb, 16, RTS_SIM_TO_DEV, block, BS, c);
}

static void test_unmap_write_same(void **state)
{
	enum { N = 2048 }; /* 1 MiB */
	uint8_t *buf = malloc((size_t)N * BS), blk[BS], cdb[6] = { 0x12, 1, 0xb2, 0, 64 }, vpd[64];
	struct rts_sim_completion c;
	char p[256], cfg[512];
	uint64_t before;
	struct tdev t;

	(void)state;
	assert_non_null(buf);
	path_in_tmp(p, sizeof(p), "unmap.img");
	unlink(p);
	snprintf(cfg, sizeof(cfg), "%s;size=4M", p);
	tdev_open(&t, cfg, NULL);
	/* /tmp punches holes: thin provisioning is on (VPD B2h LBPU). */
	exec(&t, cdb, 6, RTS_SIM_FROM_DEV, vpd, sizeof(vpd), &c);
	assert_good(&c);
	assert_true(vpd[5] & 0x80);

	fill(buf, (size_t)N * BS, 1);
	write_ok(&t, 0, N, buf);
	assert_int_equal(rts_sim_exec(t.sim, (uint8_t[10]){ 0x35 }, 10, RTS_SIM_NONE, NULL, 0,
				      TIMEOUT_MS, &c),
			 0);
	before = allocated_bytes(p);
	assert_true(before >= (uint64_t)N * BS);

	/* UNMAP 512 KiB in the middle: zeros there, data around it, blocks freed. */
	unmap_one(&t, 512, 1024, &c);
	assert_good(&c);
	memset(buf, 0xee, (size_t)N * BS);
	read_ok(&t, 0, N, buf);
	assert_true(all_zero(buf + 512 * BS, 1024 * BS));
	{
		uint8_t *want = malloc((size_t)N * BS);

		assert_non_null(want);
		fill(want, (size_t)N * BS, 1);
		assert_memory_equal(buf, want, 512 * BS);
		assert_memory_equal(buf + 1536 * BS, want + 1536 * BS, 512 * BS);
		free(want);
	}
	assert_true(allocated_bytes(p) + 512 * 1024 <= before);
	/* GET LBA STATUS (SEEK_DATA/SEEK_HOLE) agrees: mapped, deallocated, mapped, and the
	 * never-written tail of the 4 MiB file deallocated. */
	{
		uint8_t gls[16] = { 0x9e, 0x12 }, st[8 + 16 * 8];
		static const uint32_t want[4][3] = {
			{ 0, 512, 0 }, { 512, 1024, 1 }, { 1536, 512, 0 }, { 2048, 8192 - 2048, 1 }
		};

		gls[13] = sizeof(st);
		exec(&t, gls, 16, RTS_SIM_FROM_DEV, st, sizeof(st), &c);
		assert_good(&c);
		assert_int_equal(st[3], 4 + 4 * 16);
		for (int i = 0; i < 4; i++) {
			const uint8_t *d = st + 8 + 16 * i;

			assert_int_equal((uint32_t)(d[4] << 24 | d[5] << 16 | d[6] << 8 | d[7]), want[i][0]);
			assert_int_equal((uint32_t)(d[8] << 24 | d[9] << 16 | d[10] << 8 | d[11]), want[i][1]);
			assert_int_equal(d[12], want[i][2]);
		}
	}

	/* WRITE SAME with a pattern (emulated by the core through write()). */
	fill(blk, BS, 99);
	write_same16(&t, 100, 3000, false, blk, &c);
	assert_good(&c);
	read_ok(&t, 0, N, buf);
	for (uint32_t i = 100; i < N; i++)
		assert_memory_equal(buf + (size_t)i * BS, blk, BS);
	read_ok(&t, 3000, 100, buf);
	for (uint32_t i = 0; i < 100; i++)
		assert_memory_equal(buf + (size_t)i * BS, blk, BS);

	/* WRITE SAME with UNMAP and a zero block: deallocates (holes) and reads zeros. */
	before = allocated_bytes(p);
	memset(blk, 0, BS);
	write_same16(&t, 0, N, true, blk, &c);
	assert_good(&c);
	read_ok(&t, 0, N, buf);
	assert_true(all_zero(buf, (size_t)N * BS));
	assert_true(allocated_bytes(p) + (uint64_t)(N - 100) * BS <= before);
	tdev_close(&t);
	unlink(p);
	free(buf);
}

/* The NAA designator (VPD 83h) an initiator names the device by in EXTENDED COPY. */
static void tdev_naa(struct tdev *t, uint8_t *naa)
{
	uint8_t cdb[6] = { 0x12, 0x01, 0x83, 0, 255, 0 }, buf[255];
	struct rts_sim_completion c;

	exec(t, cdb, 6, RTS_SIM_FROM_DEV, buf, sizeof(buf), &c);
	assert_good(&c);
	assert_int_equal(buf[7], 16);
	memcpy(naa, &buf[8], 16);
}

/* EXTENDED COPY of one segment from @src to @dst, sent to @to. */
static void xcopy1(struct tdev *to, const uint8_t *src_naa, const uint8_t *dst_naa, uint16_t n,
		   uint64_t slba, uint64_t dlba, struct rts_sim_completion *c)
{
	uint8_t pl[16 + 64 + 28] = { 0 }, cdb[16] = { 0x83 };
	uint8_t *d;

	pl[1] = 3 << 3; /* LIST ID USAGE 11b */
	put_be16(&pl[2], 64);
	put_be32(&pl[8], 28);
	for (int i = 0; i < 2; i++) {
		d = &pl[16 + 32 * i];
		d[0] = 0xe4;
		d[4] = 0x01;
		d[5] = 0x03;
		d[7] = 16;
		memcpy(&d[8], i ? dst_naa : src_naa, 16);
	}
	d = &pl[16 + 64];
	d[0] = 0x02;
	put_be16(&d[2], 0x18);
	put_be16(&d[6], 1);
	put_be16(&d[10], n);
	put_be64(&d[12], slba);
	put_be64(&d[20], dlba);
	put_be32(&cdb[10], sizeof(pl));
	exec(to, cdb, 16, RTS_SIM_TO_DEV, pl, sizeof(pl), c);
}

/*
 * EXTENDED COPY between two file devices (copy_file_range, the copy_range fast path), within
 * one file, overlapping (the core's path), and with O_DIRECT on the destination; the bytes
 * land in the files.
 */
static void test_extended_copy(void **state)
{
	struct rts_sim_params sp = { 0 };
	char pa[128], pb[128], ca[160], cb[192];
	uint8_t na[16], nb[16];
	static uint8_t w[2048 * BS], r[2048 * BS];
	struct rts_sim_completion c;
	struct tdev a, b;
	int fd;

	(void)state;
	path_in_tmp(pa, sizeof(pa), "xa.img");
	path_in_tmp(pb, sizeof(pb), "xb.img");
	make_file(pa, 4 << 20, 0);
	make_file(pb, 4 << 20, 0);
	snprintf(ca, sizeof(ca), "%s", pa);
	snprintf(cb, sizeof(cb), "%s;o_direct", pb);
	tdev_name = "xcopy-a";
	tdev_open(&a, ca, &sp);
	tdev_name = "xcopy-b";
	tdev_open(&b, cb, &sp);
	tdev_name = "tfile";
	tdev_naa(&a, na);
	tdev_naa(&b, nb);

	fill(w, sizeof(w), 77);
	write_ok(&a, 10, 2048, w);
	/* a -> b, sent to b (pull) */
	xcopy1(&b, na, nb, 2048, 10, 100, &c);
	assert_good(&c);
	read_ok(&b, 100, 2048, r);
	assert_memory_equal(w, r, sizeof(r));
	fd = open(pb, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, r, sizeof(r), 100 * BS), (ssize_t)sizeof(r));
	close(fd);
	assert_memory_equal(w, r, sizeof(r));
	/* within a (copy_file_range inside one file), then overlapping (the core's chunks) */
	xcopy1(&a, na, na, 2048, 10, 5000, &c);
	assert_good(&c);
	read_ok(&a, 5000, 2048, r);
	assert_memory_equal(w, r, sizeof(r));
	xcopy1(&a, na, na, 2048, 10, 20, &c);
	assert_good(&c);
	read_ok(&a, 20, 2048, r);
	assert_memory_equal(w, r, sizeof(r));
	xcopy1(&a, na, na, 2048, 20, 0, &c);
	assert_good(&c);
	read_ok(&a, 0, 2048, r);
	assert_memory_equal(w, r, sizeof(r));
	/* past the end of b */
	xcopy1(&a, na, nb, 16, 0, 8192 - 8, &c);
	assert_sense(&c, 0xa, 0x0d, 0x02);
	tdev_close(&b);
	tdev_close(&a);
}

static void test_compare_and_write(void **state)
{
	uint8_t old[BS], data[2 * BS], back[BS], cdb[16];
	struct rts_sim_completion c;
	char p[256], cfg[512];
	struct tdev t;

	(void)state;
	path_in_tmp(p, sizeof(p), "caw.img");
	unlink(p);
	for (int direct = 0; direct < 2; direct++) {
		snprintf(cfg, sizeof(cfg), "%s;size=1M%s", p, direct ? ";o_direct" : "");
		tdev_open(&t, cfg, NULL);
		fill(old, sizeof(old), 3);
		write_ok(&t, 40, 1, old);
		memcpy(data, old, sizeof(old));
		fill(data + sizeof(old), sizeof(old), 4);
		memset(cdb, 0, 16);
		cdb[0] = 0x89;
		put_be64(cdb + 2, 40);
		cdb[13] = 1;
		exec(&t, cdb, 16, RTS_SIM_TO_DEV, data, sizeof(data), &c);
		assert_good(&c);
		read_ok(&t, 40, 1, back);
		assert_memory_equal(back, data + sizeof(old), sizeof(back));
		/* Stale compare data: MISCOMPARE with the offset of the first difference. */
		exec(&t, cdb, 16, RTS_SIM_TO_DEV, data, sizeof(data), &c);
		assert_sense(&c, 0xe, 0x1d, 0x00);
		assert_true(c.sense[0] & 0x80);
		{
			uint32_t k = 0;

			while (data[k] == back[k])
				k++;
			assert_int_equal(get_be32(c.sense + 3), k);
		}
		read_ok(&t, 40, 1, back);
		assert_memory_equal(back, data + sizeof(old), sizeof(back));
		tdev_close(&t);
	}
	unlink(p);
}

static void test_read_past_eof(void **state)
{
	static uint8_t buf[64 * BS];
	char p[256], cfg[300];
	struct tdev t;
	struct stat st;
	char *why = NULL;

	(void)state;
	/* A 1 MiB file served as a 4 MiB device (the kernel's dev_size, no size=). */
	path_in_tmp(p, sizeof(p), "short.img");
	make_file(p, 1 << 20, 0xaa);
	snprintf(cfg, sizeof(cfg), "file/%s", p);
	assert_int_equal(tdev_open_sim(&t, h, "tfile", cfg, 4 << 20, NULL, &why), 0);
	assert_int_equal(capacity_blocks(&t), (4 << 20) / BS);
	read_ok(&t, 2048 - 32, 64, buf); /* straddles EOF */
	for (size_t i = 0; i < 32 * BS; i++)
		assert_int_equal(buf[i], 0xaa);
	assert_true(all_zero(buf + 32 * BS, 32 * BS));
	memset(buf, 0x55, sizeof(buf));
	read_ok(&t, 6000, 64, buf); /* wholly past EOF */
	assert_true(all_zero(buf, sizeof(buf)));
	tdev_close(&t);

	/* size= extends the file sparse: the new part reads as zeros and takes no space. */
	snprintf(cfg, sizeof(cfg), "%s;size=64M", p);
	tdev_open(&t, cfg, NULL);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 64 << 20);
	assert_true((uint64_t)st.st_blocks * 512 < (8u << 20));
	memset(buf, 0x55, sizeof(buf));
	read_ok(&t, 100000, 64, buf);
	assert_true(all_zero(buf, sizeof(buf)));
	tdev_close(&t);
	unlink(p);
}

static void test_resize(void **state)
{
	uint8_t cdb[6] = { 0 }, buf[4 * BS];
	struct rts_sim_completion c;
	char p[256], cfg[300];
	struct tdev t;
	struct stat st;

	(void)state;
	path_in_tmp(p, sizeof(p), "resize.img");
	unlink(p);
	snprintf(cfg, sizeof(cfg), "%s;size=4M", p);
	tdev_open(&t, cfg, NULL);
	assert_int_equal(capacity_blocks(&t), (4 << 20) / BS);
	/*
	 * The core has no entry point that runs reconfig on the I/O thread yet (the kernel
	 * path will); call it from here while the device is idle: the next command's kick
	 * orders it before the I/O thread reads the new size.
	 */
	struct rts_reconfig rc = {
		.struct_size = sizeof(rc),
		.what = RTS_RECONFIG_SIZE,
		.size = 8 << 20,
	};
	assert_int_equal(h->reconfig(t.dev, &rc), 0);
	rc.size = 1000; /* not a multiple of the block size */
	assert_int_equal(h->reconfig(t.dev, &rc), -EINVAL);
	rc.what = RTS_RECONFIG_CFGSTRING;
	assert_int_equal(h->reconfig(t.dev, &rc), -EOPNOTSUPP);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 8 << 20);
	/* TEST UNIT READY: CAPACITY DATA HAS CHANGED once, then the new size. */
	exec(&t, cdb, 6, RTS_SIM_NONE, NULL, 0, &c);
	assert_sense(&c, 0x6, 0x2a, 0x09);
	exec(&t, cdb, 6, RTS_SIM_NONE, NULL, 0, &c);
	assert_good(&c);
	assert_int_equal(capacity_blocks(&t), (8 << 20) / BS);
	fill(buf, sizeof(buf), 5);
	write_ok(&t, (8 << 20) / BS - 4, 4, buf);
	tdev_close(&t);
	unlink(p);
}

/* Mount a tmpfs of @kib KiB at @dir; false (and a message) when that is not possible. */
static bool mount_tmpfs(const char *dir, unsigned int kib)
{
	char opts[32];

	snprintf(opts, sizeof(opts), "size=%uk", kib);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return false;
	if (mount("rts-test", dir, "tmpfs", 0, opts) < 0) {
		print_message("cannot mount a tmpfs (%s): needs root\n", strerror(errno));
		rmdir(dir);
		return false;
	}
	return true;
}

/*
 * Unmount what mount_tmpfs() or a bind mount put there. The device's io_uring releases its
 * registered file asynchronously after the ring is closed, so EBUSY is retried for a while
 * before detaching lazily.
 */
static void unmount_dir(const char *dir)
{
	for (int i = 0; i < 500 && umount(dir) < 0 && errno == EBUSY; i++)
		usleep(10000);
	umount2(dir, MNT_DETACH); /* EINVAL when already unmounted */
	rmdir(dir);
}

static void test_error_enospc(void **state)
{
	enum { LEN = 256 << 10 };
	uint8_t *buf = malloc(LEN);
	struct rts_sim_completion c;
	char dir[256], p[300], cfg[400];
	struct tdev t;
	bool seen = false;

	(void)state;
	assert_non_null(buf);
	path_in_tmp(dir, sizeof(dir), "full");
	if (!mount_tmpfs(dir, 512)) {
		free(buf);
		skip();
	}
	snprintf(p, sizeof(p), "%s/d.img", dir);
	snprintf(cfg, sizeof(cfg), "%s;size=4M", p); /* sparse: 4 MiB on a 512 KiB tmpfs */
	tdev_open(&t, cfg, NULL);
	fill(buf, LEN, 11);
	for (uint64_t lba = 0; lba < (4 << 20) / BS && !seen; lba += LEN / BS) {
		do_rw(&t, 0x8a, lba, LEN / BS, buf, &c);
		if (c.status) {
			/* ENOSPC → DATA PROTECT, SPACE ALLOCATION FAILED WRITE PROTECT */
			assert_sense(&c, 0x7, 0x27, 0x07);
			seen = true;
		}
	}
	assert_true(seen);
	tdev_close(&t);
	unlink(p);
	unmount_dir(dir);
	free(buf);
}

static void test_error_erofs(void **state)
{
	uint8_t buf[BS] = { 1 };
	struct rts_sim_completion c;
	char dir[256], p[300], cfg[400], *why = NULL;
	struct tdev t;

	(void)state;
	path_in_tmp(p, sizeof(p), "ro.img");
	make_file(p, 1 << 20, 0x5a);

	/* 'ro': opened O_RDONLY, reported write protected, writes fail DATA PROTECT. */
	snprintf(cfg, sizeof(cfg), "%s;ro", p);
	tdev_open(&t, cfg, NULL);
	read_ok(&t, 0, 1, buf);
	assert_int_equal(buf[0], 0x5a);
	do_rw(&t, 0x8a, 0, 1, buf, &c);
	assert_sense(&c, 0x7, 0x27, 0x00);
	unmap_one(&t, 0, 1, &c);
	assert_int_equal(c.status, 2);
	tdev_close(&t);
	/* The handler itself refuses writes with EROFS too (DATA PROTECT via the core table). */

	/* A read-only bind mount: EROFS named by check_config, open refused. */
	path_in_tmp(dir, sizeof(dir), "robind");
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		fail();
	if (mount(tmpdir, dir, NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, dir, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0) {
		print_message("read-only bind mount not possible (%s): needs root\n",
			      strerror(errno));
		unmount_dir(dir);
		unlink(p);
		skip();
	}
	snprintf(cfg, sizeof(cfg), "%s/ro.img", dir);
	expect_check_fails(cfg, -EROFS, "Read-only file system");
	snprintf(cfg, sizeof(cfg), "file/%s/ro.img", dir);
	assert_int_equal(tdev_open_sim(&t, h, "tfile", cfg, 0, NULL, &why), -EROFS);
	free(why);
	snprintf(cfg, sizeof(cfg), "%s/ro.img;ro", dir);
	assert_int_equal(check(cfg, &why), 0);
	unmount_dir(dir);
	unlink(p);
}

/* A loop device over a file in tmpdir: the block device path (size, sysfs, PUNCH_HOLE). */
static void test_block_device(void **state)
{
	enum { SZ = 16 << 20 };
	static uint8_t buf[64 * BS], back[64 * BS];
	uint8_t vpd[64], cdb[6] = { 0x12, 1, 0xb2, 0, 64 };
	char img[256], dev[64] = "", cmd[400], cfg[300];
	struct rts_sim_completion c;
	struct tdev t;
	FILE *f;

	(void)state;
	path_in_tmp(img, sizeof(img), "loop.img");
	make_file(img, SZ, 0x11);
	snprintf(cmd, sizeof(cmd), "losetup -f --show '%s' 2>/dev/null", img);
	f = popen(cmd, "r");
	if (f) {
		if (!fgets(dev, sizeof(dev), f))
			dev[0] = '\0';
		pclose(f);
	}
	dev[strcspn(dev, "\n")] = '\0';
	if (strncmp(dev, "/dev/loop", 9) != 0) {
		print_message("no loop device (losetup needs root): block device path skipped\n");
		unlink(img);
		skip();
	}
	snprintf(cfg, sizeof(cfg), "%s;size=32M", dev);
	expect_check_fails(cfg, -EINVAL, "larger than block device");
	for (int direct = 0; direct < 2; direct++) {
		snprintf(cfg, sizeof(cfg), "%s%s", dev, direct ? ";o_direct" : "");
		tdev_open(&t, cfg, NULL);
		assert_int_equal(capacity_blocks(&t), SZ / BS);
		read_ok(&t, 0, 1, back);
		assert_int_equal(back[0], 0x11);
		fill(buf, sizeof(buf), 21u + (unsigned int)direct);
		write_ok(&t, 1000, 64, buf);
		read_ok(&t, 1000, 64, back);
		assert_memory_equal(buf, back, sizeof(buf));
		exec(&t, cdb, 6, RTS_SIM_FROM_DEV, vpd, sizeof(vpd), &c);
		if (c.status == 0 && (vpd[5] & 0x80)) {
			/* Thin (loop passes WRITE ZEROES to the backing file): UNMAP reads zeros. */
			unmap_one(&t, 1000, 64, &c);
			assert_good(&c);
			read_ok(&t, 1000, 64, back);
			assert_true(all_zero(back, sizeof(back)));
		} else {
			print_message("%s: no WRITE ZEROES, thin provisioning off\n", dev);
		}
		exec(&t, (uint8_t[10]){ 0x35 }, 10, RTS_SIM_NONE, NULL, 0, &c);
		assert_good(&c);
		if (!direct) {
			/*
			 * The device turned read-only under the open fd (BLKROSET): writes fail
			 * in the CQE with EPERM, which the core maps to DATA PROTECT, WRITE
			 * PROTECTED; reads still work.
			 */
			int ro = 1, bfd = open(dev, O_RDONLY | O_CLOEXEC);

			assert_true(bfd >= 0);
			assert_int_equal(ioctl(bfd, BLKROSET, &ro), 0);
			do_rw(&t, 0x8a, 1000, 64, buf, &c);
			ro = 0;
			assert_int_equal(ioctl(bfd, BLKROSET, &ro), 0);
			close(bfd);
			assert_sense(&c, 0x7, 0x27, 0x00);
			read_ok(&t, 1000, 64, back);
		}
		tdev_close(&t);
	}
	snprintf(cmd, sizeof(cmd), "losetup -d '%s'", dev);
	assert_int_equal(system(cmd), 0);
	unlink(img);
}

static int setup(void **state)
{
	const char *bindir = getenv("RTS_TEST_BINDIR");
	char path[512], *why = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/handlers/handler_file.so", bindir ? bindir : ".");
	if (rts_handler_load(path, &lh, &why) < 0) {
		fprintf(stderr, "cannot load %s: %s\n", path, why ? why : "?");
		free(why);
		return -1;
	}
	h = rts_loaded_handler_get(lh);
	/* /var/tmp (a disk file system), not tmpfs: O_DIRECT and hole punching need a disk file system. */
	snprintf(tmpdir, sizeof(tmpdir), "/var/tmp/rts-test-file.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[128], dir[128];

	(void)state;
	/* A failed test may have left its mounts behind. */
	path_in_tmp(dir, sizeof(dir), "robind");
	umount2(dir, MNT_DETACH);
	path_in_tmp(dir, sizeof(dir), "full");
	umount2(dir, MNT_DETACH);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		return -1;
	lh = rts_handler_unload(lh);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_config),
		cmocka_unit_test(test_integrity),
		cmocka_unit_test(test_fua_sync),
		cmocka_unit_test(test_unmap_write_same),
		cmocka_unit_test(test_compare_and_write),
		cmocka_unit_test(test_extended_copy),
		cmocka_unit_test(test_read_past_eof),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_error_enospc),
		cmocka_unit_test(test_error_erofs),
		cmocka_unit_test(test_block_device),
	};

	return cmocka_run_group_tests_name("handler_file", tests, setup, teardown);
}
