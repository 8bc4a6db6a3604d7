/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rbd handler (handlers/rbd) against a real Ceph cluster (scripts/ceph/cluster.sh,
 * started by the ctest fixture; RTS_CEPH_CONF names its ceph.conf, RTS_CEPH_DIR its
 * directory), loaded as a plugin and driven through the ring simulator: enable-time
 * errors, integrity across iovec splits with a second librbd client reading the cluster
 * back, flush, UNMAP then zeros, WRITE SAME, COMPARE AND WRITE (miscompare offset), resize,
 * an OSD stalled or stopped mid-I/O (retryable sense, then recovery), a blocklisted client
 * (reconnects), and two devices on one image (the exclusive lock moves between them).
 * Without a cluster (RTS_CEPH_CONF unset) the suite exits 77 (skipped).
 */
#include <errno.h>
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

#include <rados/librados.h>
#include <rbd/librbd.h>

#include <rts/device.h>

#define TIMEOUT_MS 30000
#define BS	   512u

#define MIB	   (1024u * 1024u)

#define HARNESS_TDEV
#define HARNESS_BLOCK_IO
#include "harness.h"

static struct rts_loaded_handler *lh;
static const struct rts_handler *h;
static const char *conf, *cdir, *srcdir;
static rados_t cluster;
static rados_ioctx_t io;

/* ---------------------------------------------------------------- helpers */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void img_create(const char *name, uint64_t size)
{
	int order = 0;

	rbd_remove(io, name);
	assert_int_equal(rbd_create(io, name, size, &order), 0);
}

/* Read @len bytes at @off straight from the cluster with our own client. */
static void img_read(const char *name, uint64_t off, uint8_t *buf, size_t len)
{
	rbd_image_t img;

	assert_int_equal(rbd_open_read_only(io, name, &img, NULL), 0);
	assert_int_equal(rbd_read(img, off, len, (char *)buf), (ssize_t)len);
	rbd_close(img);
}

/* Open "rbd/rbd/<image>;conf=...<extra>" on a simulator. */
static void tdev_open(struct tdev *t, const char *image, const char *extra,
		      const struct rts_sim_params *sp)
{
	char full[1024], *why = NULL;
	int r;

	snprintf(full, sizeof(full), "rbd/rbd/%s;conf=%s%s", image, conf, extra ? extra : "");
	r = tdev_open_sim(t, h, "trbd", full, 0, sp, &why);
	if (r < 0)
		fail_msg("open '%s': %s", full, why ? why : strerror(-r));
}

static void expect_check_fails(const char *cfg, int err, const char *needle)
{
	char *why = NULL;
	double t0 = now_s();
	int r = h->check_config(cfg, &why);

	if (r != err || !why || !strstr(why, needle))
		fail_msg("check_config('%s') = %d '%s', expected %d with '%s'", cfg, r,
			 why ? why : "(no reason)", err, needle);
	print_message("check_config refused in %.1f s: %s\n", now_s() - t0, why);
	free(why);
}

static void cluster_cmd(const char *what)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s/scripts/ceph/cluster.sh' %s '%s'", srcdir, what, cdir);
	assert_int_equal(system(cmd), 0);
}

/* ------------------------------------------------------------------ tests */

static void test_enable_errors(void **state)
{
	char cfg[2048], path[1024], *why = NULL;
	FILE *f;

	(void)state;
	img_create("cc", 4 * MIB);
	snprintf(cfg, sizeof(cfg), "rbd/cc;conf=%s", conf);
	assert_int_equal(h->check_config(cfg, &why), 0);
	assert_null(why);

	snprintf(cfg, sizeof(cfg), "nopool/cc;conf=%s", conf);
	expect_check_fails(cfg, -ENOENT, "pool 'nopool': no such pool");
	snprintf(cfg, sizeof(cfg), "rbd/missing;conf=%s", conf);
	expect_check_fails(cfg, -ENOENT, "image 'rbd/missing' does not exist");
	snprintf(cfg, sizeof(cfg), "rbd/cc@nosnap;conf=%s", conf);
	expect_check_fails(cfg, -ENOENT, "does not exist");
	snprintf(cfg, sizeof(cfg), "rbd/cc;conf=%s;frob=1", conf);
	expect_check_fails(cfg, -EINVAL, "unknown option 'frob=1'");
	expect_check_fails("rbd/cc;conf=/nonexistent/ceph.conf", -ENOENT,
			   "cannot read the Ceph configuration '/nonexistent/ceph.conf'");

	/* A user the cluster does not know: no key for it in the keyring. */
	snprintf(cfg, sizeof(cfg), "rbd/cc;conf=%s;id=nobody", conf);
	expect_check_fails(cfg, -EACCES, "refused client.nobody");

	/* The right user with a wrong key. */
	snprintf(path, sizeof(path), "%s/badkey.keyring", cdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[client.admin]\n\tkey = AQBBRRBlAAAAABAAf4g2ONdAzm9zVYZQt2tV1w==\n");
	fclose(f);
	{
		char conf2[1024], line[1024];
		FILE *in = fopen(conf, "r"), *out;

		snprintf(conf2, sizeof(conf2), "%s/badkey.conf", cdir);
		out = fopen(conf2, "w");
		assert_non_null(in);
		assert_non_null(out);
		while (fgets(line, sizeof(line), in))
			if (!strstr(line, "keyring ="))
				fputs(line, out);
			else
				fprintf(out, "keyring = %s/badkey.keyring\n", cdir);
		fclose(in);
		fclose(out);
		snprintf(cfg, sizeof(cfg), "rbd/cc;conf=%s;connect_timeout=5", conf2);
		expect_check_fails(cfg, -EACCES, "bad or missing key");
	}

	/* Nothing listens where the monitor should be: bounded by connect_timeout. */
	{
		char conf3[1024], line[1024];
		FILE *in = fopen(conf, "r"), *out;

		snprintf(conf3, sizeof(conf3), "%s/nomon.conf", cdir);
		out = fopen(conf3, "w");
		assert_non_null(in);
		assert_non_null(out);
		while (fgets(line, sizeof(line), in))
			if (!strncmp(line, "mon host", 8))
				fputs("mon host = [v2:127.0.0.1:9,v1:127.0.0.1:10]\n", out);
			else
				fputs(line, out);
		fclose(in);
		fclose(out);
		snprintf(cfg, sizeof(cfg), "rbd/cc;conf=%s;connect_timeout=2", conf3);
		double t0 = now_s();
		expect_check_fails(cfg, -ETIMEDOUT, "no Ceph monitor answered within 2 s");
		assert_true(now_s() - t0 < 15);
	}
	rbd_remove(io, "cc");
}

/* Random writes, many in flight, data split into 1-block iovecs; read back both through
 * the device and straight from the cluster. */
static void test_integrity(void **state)
{
	enum { NB = 8192, N = 600, QD = 32 }; /* 4 MiB image in 512 B blocks */
	struct rts_sim_params sp = { .data_blk_size = 4096, .max_iov_blocks = 1 };
	uint8_t *model = calloc(NB, BS), *bufs = malloc((size_t)QD * 64 * BS), *back;
	unsigned int bad = 0, done = 0, issued = 0;
	struct tdev t;

	(void)state;
	assert_non_null(model);
	assert_non_null(bufs);
	img_create("integ", (uint64_t)NB * BS);
	tdev_open(&t, "integ", NULL, &sp);
	assert_int_equal(capacity_blocks(&t), NB);
	srand(7);
	while (done < N) {
		/* One wave of non-overlapping writes in flight at once. */
		unsigned int wave = 0;

		while (wave < QD && issued < N) {
			uint32_t blocks = 1 + (uint32_t)rand() % 64;
			uint64_t lba = (uint64_t)(wave * (NB / QD)) + (uint64_t)rand() % (NB / QD - 64);
			uint8_t cdb[16], *b = bufs + (size_t)wave * 64 * BS;

			fill(b, (size_t)blocks * BS, issued + 1);
			memcpy(model + lba * BS, b, (size_t)blocks * BS);
			rw16(cdb, 0x8a, lba, blocks);
			assert_int_equal(rts_sim_submit(t.sim, cdb, 16, RTS_SIM_TO_DEV, b,
							(size_t)blocks * BS, NULL, NULL),
					 0);
			wave++;
			issued++;
		}
		assert_int_equal(rts_sim_kick(t.sim), 0);
		while (rts_sim_outstanding(t.sim)) {
			assert_true(rts_sim_wait(t.sim, TIMEOUT_MS) >= 0);
			int n = rts_sim_reap(t.sim, reap_cb, &bad);
			assert_true(n >= 0);
			done += (unsigned int)n;
		}
	}
	assert_int_equal(bad, 0);
	/* SYNCHRONIZE CACHE(10) */
	{
		uint8_t cdb[10] = { 0x35 };
		struct rts_sim_completion c;

		exec(&t, cdb, 10, RTS_SIM_NONE, NULL, 0, &c);
		assert_good(&c);
	}
	back = malloc((size_t)NB * BS);
	assert_non_null(back);
	for (uint64_t lba = 0; lba < NB; lba += 1024)
		read_ok(&t, lba, 1024, back + lba * BS);
	assert_memory_equal(back, model, (size_t)NB * BS);
	tdev_close(&t);
	memset(back, 0, (size_t)NB * BS);
	img_read("integ", 0, back, (size_t)NB * BS);
	assert_memory_equal(back, model, (size_t)NB * BS);
	rbd_remove(io, "integ");
	free(back);
	free(model);
	free(bufs);
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
	enum { NB = 16384 }; /* 8 MiB: two 4 MiB objects */
	uint8_t *buf = malloc((size_t)NB * BS), blk[BS], vpd[64];
	uint8_t inq[6] = { 0x12, 1, 0xb2, 0, 64 };
	struct rts_sim_completion c;
	struct tdev t;

	(void)state;
	assert_non_null(buf);
	img_create("unmap", (uint64_t)NB * BS);
	tdev_open(&t, "unmap", NULL, NULL);
	/* Logical Block Provisioning VPD: LBPU, LBPWS, LBPWS10, LBPRZ; thin. */
	exec(&t, inq, 6, RTS_SIM_FROM_DEV, vpd, sizeof(vpd), &c);
	assert_good(&c);
	assert_int_equal(vpd[1], 0xb2);
	assert_int_equal(vpd[5] & 0xe0, 0xe0);
	assert_int_equal(vpd[6] & 0x07, 2);

	fill(buf, (size_t)NB * BS, 11);
	for (uint64_t lba = 0; lba < NB; lba += 2048)
		write_ok(&t, lba, 2048, buf + lba * BS);
	/* UNMAP an unaligned range crossing the object boundary, then read zeros there. */
	unmap_one(&t, 8000, 700, &c);
	assert_good(&c);
	memset(buf + 8000 * BS, 0, 700 * BS);
	/* WRITE SAME with a pattern, then WRITE SAME with UNMAP of a zero block. */
	fill(blk, BS, 99);
	write_same16(&t, 100, 300, false, blk, &c);
	assert_good(&c);
	for (int i = 0; i < 300; i++)
		memcpy(buf + (100 + i) * BS, blk, BS);
	memset(blk, 0, BS);
	write_same16(&t, 12000, 3000, true, blk, &c);
	assert_good(&c);
	memset(buf + 12000 * BS, 0, 3000 * BS);
	{
		uint8_t *back = malloc((size_t)NB * BS);

		assert_non_null(back);
		for (uint64_t lba = 0; lba < NB; lba += 2048)
			read_ok(&t, lba, 2048, back + lba * BS);
		assert_memory_equal(back, buf, (size_t)NB * BS);
		assert_true(all_zero(back + 8000 * BS, 700 * BS));
		memset(back, 0xff, (size_t)NB * BS);
		img_read("unmap", 0, back, (size_t)NB * BS);
		assert_memory_equal(back, buf, (size_t)NB * BS);
		free(back);
	}
	tdev_close(&t);
	rbd_remove(io, "unmap");
	free(buf);
}

static void caw(struct tdev *t, uint64_t lba, uint8_t *data, struct rts_sim_completion *c)
{
	uint8_t cdb[16] = { 0x89 };

	put_be64(cdb + 2, lba);
	cdb[13] = 1;
	exec(t, cdb, 16, RTS_SIM_TO_DEV, data, 2 * BS, c);
}

static void test_compare_and_write(void **state)
{
	uint8_t old[BS], data[2 * BS], back[BS];
	struct rts_sim_params sp = { .data_blk_size = 4096, .max_iov_blocks = 1 };
	struct rts_sim_completion c;
	struct tdev t;

	(void)state;
	img_create("caw", 4 * MIB);
	tdev_open(&t, "caw", NULL, &sp);
	fill(old, sizeof(old), 3);
	write_ok(&t, 4000, 1, old);
	memcpy(data, old, BS);
	fill(data + BS, BS, 4);
	caw(&t, 4000, data, &c);
	assert_good(&c);
	read_ok(&t, 4000, 1, back);
	assert_memory_equal(back, data + BS, BS);
	/* Stale compare data: MISCOMPARE, INFORMATION = offset of the first differing byte. */
	memcpy(data, data + BS, BS);
	data[300] ^= 0x5a;
	caw(&t, 4000, data, &c);
	assert_sense(&c, 0xe, 0x1d, 0x00);
	assert_true(c.sense[0] & 0x80);
	assert_int_equal(get_be32(c.sense + 3), 300);
	read_ok(&t, 4000, 1, back);
	assert_memory_equal(back, data + BS, BS);
	/* More blocks than the Block Limits page allows; past the end. */
	{
		uint8_t cdb[16] = { 0x89 };

		cdb[13] = 2;
		exec(&t, cdb, 16, RTS_SIM_TO_DEV, data, 2 * BS, &c);
		assert_sense(&c, 0x5, 0x24, 0x00);
		put_be64(cdb + 2, 4 * MIB / BS);
		cdb[13] = 1;
		exec(&t, cdb, 16, RTS_SIM_TO_DEV, data, 2 * BS, &c);
		assert_sense(&c, 0x5, 0x21, 0x00);
	}
	tdev_close(&t);
	rbd_remove(io, "caw");
}

static void test_resize(void **state)
{
	uint8_t buf[BS];
	struct rts_sim_completion c;
	struct rts_reconfig rc = { .struct_size = sizeof(rc), .what = RTS_RECONFIG_SIZE };
	rbd_image_t img;
	struct tdev t;

	(void)state;
	img_create("resize", 4 * MIB);
	tdev_open(&t, "resize", NULL, NULL);
	assert_int_equal(capacity_blocks(&t), 4 * MIB / BS);
	/* Larger than the image: refused, the device keeps its size. */
	rc.size = 8 * MIB;
	assert_int_equal(rts_dev_reconfig(t.dev, &rc), -ENOSPC);
	/* Grow the image (as `rbd resize` would), then the device. */
	assert_int_equal(rbd_open(io, "resize", &img, NULL), 0);
	assert_int_equal(rbd_resize(img, 8 * MIB), 0);
	rbd_close(img);
	assert_int_equal(rts_dev_reconfig(t.dev, &rc), 0);
	fill(buf, BS, 5);
	do_rw(&t, 0x8a, 0, 1, buf, &c);
	assert_sense(&c, 0x6, 0x2a, 0x09); /* CAPACITY DATA HAS CHANGED */
	assert_int_equal(capacity_blocks(&t), 8 * MIB / BS);
	write_ok(&t, 8 * MIB / BS - 1, 1, buf);
	tdev_close(&t);
	{
		uint8_t back[BS];

		img_read("resize", 8 * MIB - BS, back, BS);
		assert_memory_equal(back, buf, BS);
	}
	rbd_remove(io, "resize");
}

/* Write @blocks at @lba until it succeeds; every failure must be the retryable NOT READY. */
static unsigned int write_retry(struct tdev *t, uint64_t lba, uint32_t blocks, uint8_t *buf,
				double limit_s)
{
	struct rts_sim_completion c;
	unsigned int fails = 0;
	double t0 = now_s();

	for (;;) {
		do_rw(t, 0x8a, lba, blocks, buf, &c);
		if (c.status == 0)
			return fails;
		assert_sense(&c, 0x2, 0x04, 0x01);
		fails++;
		if (now_s() - t0 > limit_s)
			fail_msg("still NOT READY after %.0f s", limit_s);
		usleep(200000);
	}
}

static void test_osd_stalled(void **state)
{
	uint8_t buf[8 * BS], back[8 * BS];
	struct rts_sim_completion c;
	struct tdev t;
	double t0;

	(void)state;
	img_create("stall", 4 * MIB);
	tdev_open(&t, "stall", ";osd_op_timeout=2", NULL);
	fill(buf, sizeof(buf), 21);
	write_ok(&t, 0, 8, buf);
	cluster_cmd("pause");
	t0 = now_s();
	fill(buf, sizeof(buf), 22);
	do_rw(&t, 0x8a, 0, 8, buf, &c);
	/* retryable, never a medium error; bounded by osd_op_timeout */
	assert_sense(&c, 0x2, 0x04, 0x01);
	print_message("stalled OSD: NOT READY after %.1f s\n", now_s() - t0);
	do_rw(&t, 0x88, 0, 8, back, &c);
	assert_sense(&c, 0x2, 0x04, 0x01);
	cluster_cmd("resume");
	t0 = now_s();
	write_retry(&t, 0, 8, buf, 60);
	print_message("recovered %.1f s after the OSD resumed\n", now_s() - t0);
	read_ok(&t, 0, 8, back);
	assert_memory_equal(back, buf, sizeof(buf));
	tdev_close(&t);
	img_read("stall", 0, back, sizeof(back));
	assert_memory_equal(back, buf, sizeof(buf));
	rbd_remove(io, "stall");
}

/*
 * The OSD process stopped (not just paused) mid-I/O and started again. memstore loses its
 * data when the OSD stops, so this runs on a second, bluestore cluster of its own (sparse
 * file, ports 26450..26549).
 */
static void test_osd_stopped(void **state)
{
	char dir[1024], bconf[1100], cmd[2300], cfg[1400], *why = NULL;
	uint8_t buf[8 * BS], back[8 * BS];
	struct rts_sim_completion c;
	rados_t bc;
	rados_ioctx_t bio;
	struct tdev t;
	int order = 0;
	double t0;

	(void)state;
	snprintf(dir, sizeof(dir), "%s-bluestore", cdir);
	snprintf(bconf, sizeof(bconf), "%s/ceph.conf", dir);
	snprintf(cmd, sizeof(cmd),
		 "CEPH_STORE=bluestore CEPH_OSD_SIZE_GB=2 CEPH_PORT_BASE=26450 "
		 "'%s/scripts/ceph/cluster.sh' up '%s' >/dev/null",
		 srcdir, dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(rados_create(&bc, "admin"), 0);
	assert_int_equal(rados_conf_read_file(bc, bconf), 0);
	assert_int_equal(rados_connect(bc), 0);
	assert_int_equal(rados_ioctx_create(bc, "rbd", &bio), 0);
	assert_int_equal(rbd_create(bio, "stop", 4 * MIB, &order), 0);
	snprintf(cfg, sizeof(cfg), "rbd/rbd/stop;conf=%s;osd_op_timeout=3", bconf);
	if (tdev_open_sim(&t, h, "trbd", cfg, 0, NULL, &why) < 0)
		fail_msg("open '%s': %s", cfg, why ? why : "?");
	fill(buf, sizeof(buf), 61);
	write_ok(&t, 0, 8, buf);

	snprintf(cmd, sizeof(cmd), "CEPH_PORT_BASE=26450 '%s/scripts/ceph/cluster.sh' stop-osd '%s'",
		 srcdir, dir);
	assert_int_equal(system(cmd), 0);
	fill(buf, sizeof(buf), 62);
	t0 = now_s();
	do_rw(&t, 0x8a, 0, 8, buf, &c);
	assert_sense(&c, 0x2, 0x04, 0x01);
	print_message("stopped OSD: NOT READY after %.1f s\n", now_s() - t0);

	snprintf(cmd, sizeof(cmd), "CEPH_PORT_BASE=26450 '%s/scripts/ceph/cluster.sh' start-osd '%s'",
		 srcdir, dir);
	assert_int_equal(system(cmd), 0);
	t0 = now_s();
	write_retry(&t, 0, 8, buf, 90);
	print_message("recovered %.1f s after the OSD was started again\n", now_s() - t0);
	read_ok(&t, 0, 8, back);
	assert_memory_equal(back, buf, sizeof(buf));
	tdev_close(&t);
	{
		rbd_image_t img;

		assert_int_equal(rbd_open_read_only(bio, "stop", &img, NULL), 0);
		assert_int_equal(rbd_read(img, 0, sizeof(back), (char *)back), (ssize_t)sizeof(back));
		rbd_close(img);
		assert_memory_equal(back, buf, sizeof(buf));
	}
	rados_ioctx_destroy(bio);
	rados_shutdown(bc);
	snprintf(cmd, sizeof(cmd), "CEPH_PORT_BASE=26450 '%s/scripts/ceph/cluster.sh' down '%s'",
		 srcdir, dir);
	assert_int_equal(system(cmd), 0);
}

/* Blocklist every watcher of @name but our own client. Returns how many. */
static int blocklist_others(const char *name)
{
	rbd_image_t img;
	rbd_image_watcher_t w[8];
	size_t n = 8;
	char *mine = NULL;
	size_t mine_len = 0;
	int cnt = 0;

	assert_int_equal(rbd_open_read_only(io, name, &img, NULL), 0);
	assert_int_equal(rbd_watchers_list(img, w, &n), 0);
	assert_int_equal(rados_getaddrs(cluster, &mine), 0);
	mine_len = strlen(mine);
	for (size_t i = 0; i < n; i++) {
		char cmd[512], *outs = NULL, *outbuf = NULL;
		size_t outs_len = 0, outbuf_len = 0;
		const char *argv[1] = { cmd };

		if (strstr(mine, w[i].addr) || (mine_len && strstr(w[i].addr, mine)))
			continue;
		snprintf(cmd, sizeof(cmd),
			 "{\"prefix\": \"osd blocklist\", \"blocklistop\": \"add\", \"addr\": \"%s\"}",
			 w[i].addr);
		assert_int_equal(rados_mon_command(cluster, argv, 1, "", 0, &outbuf, &outbuf_len,
						   &outs, &outs_len),
				 0);
		rados_buffer_free(outbuf);
		rados_buffer_free(outs);
		cnt++;
	}
	rbd_watchers_list_cleanup(w, n);
	rados_buffer_free(mine);
	rbd_close(img);
	return cnt;
}

static void test_blocklisted(void **state)
{
	uint8_t buf[8 * BS], back[8 * BS];
	struct tdev t;
	unsigned int fails;
	double t0;

	(void)state;
	img_create("fence", 4 * MIB);
	tdev_open(&t, "fence", ";osd_op_timeout=5", NULL);
	fill(buf, sizeof(buf), 31);
	write_ok(&t, 0, 8, buf);
	assert_int_equal(blocklist_others("fence"), 1);
	fill(buf, sizeof(buf), 32);
	/* The OSD refuses the client once it has the new osdmap: writes that land before that
	 * succeed; the first refused one must be the retryable NOT READY, and writes must
	 * succeed again once the handler reconnected. */
	t0 = now_s();
	for (fails = 0; !fails; usleep(100000)) {
		struct rts_sim_completion c;

		do_rw(&t, 0x8a, 0, 8, buf, &c);
		if (c.status) {
			assert_sense(&c, 0x2, 0x04, 0x01);
			fails++;
		}
		if (now_s() - t0 > 30)
			fail_msg("the blocklisted client was never refused");
	}
	fails += write_retry(&t, 0, 8, buf, 60);
	print_message("blocklisted client: %u NOT READY, then writes again after %.1f s\n", fails,
		      now_s() - t0);
	read_ok(&t, 0, 8, back);
	assert_memory_equal(back, buf, sizeof(buf));
	tdev_close(&t);
	img_read("fence", 0, back, sizeof(back));
	assert_memory_equal(back, buf, sizeof(buf));
	rbd_remove(io, "fence");
}

/* Two devices (two clients) on one image: writes through either land, the exclusive lock
 * moves to whichever writes, and each sees the other's data. */
static void test_two_devices(void **state)
{
	uint8_t a[4 * BS], b[4 * BS], back[4 * BS];
	struct tdev t1, t2;

	(void)state;
	img_create("shared", 4 * MIB);
	tdev_open(&t1, "shared", NULL, NULL);
	tdev_open(&t2, "shared", NULL, NULL);
	for (int i = 0; i < 5; i++) {
		fill(a, sizeof(a), 40 + (uint32_t)i);
		fill(b, sizeof(b), 50 + (uint32_t)i);
		write_ok(&t1, 16, 4, a);
		read_ok(&t2, 16, 4, back);
		assert_memory_equal(back, a, sizeof(a));
		write_ok(&t2, 16, 4, b);
		read_ok(&t1, 16, 4, back);
		assert_memory_equal(back, b, sizeof(b));
	}
	tdev_close(&t1);
	tdev_close(&t2);
	img_read("shared", 16 * BS, back, sizeof(back));
	assert_memory_equal(back, b, sizeof(b));
	rbd_remove(io, "shared");
}

static int setup(void **state)
{
	const char *bindir = getenv("RTS_TEST_BINDIR");
	char path[512], *why = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/handlers/handler_rbd.so", bindir ? bindir : ".");
	if (rts_handler_load(path, &lh, &why) < 0) {
		fprintf(stderr, "cannot load %s: %s\n", path, why ? why : "?");
		free(why);
		return -1;
	}
	h = rts_loaded_handler_get(lh);
	if (rados_create(&cluster, "admin") < 0 || rados_conf_read_file(cluster, conf) < 0 ||
	    rados_connect(cluster) < 0 || rados_ioctx_create(cluster, "rbd", &io) < 0) {
		fprintf(stderr, "cannot connect to the test cluster (%s)\n", conf);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rados_ioctx_destroy(io);
	rados_shutdown(cluster);
	lh = rts_handler_unload(lh);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enable_errors),
		cmocka_unit_test(test_integrity),
		cmocka_unit_test(test_unmap_write_same),
		cmocka_unit_test(test_compare_and_write),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_two_devices),
		cmocka_unit_test(test_osd_stalled),
		cmocka_unit_test(test_blocklisted),
		cmocka_unit_test(test_osd_stopped),
	};

	conf = getenv("RTS_CEPH_CONF");
	cdir = getenv("RTS_CEPH_DIR");
	srcdir = getenv("RTS_TEST_SRCDIR");
	if (!conf || !cdir || !srcdir || access(conf, R_OK) < 0) {
		fprintf(stderr, "no test cluster (RTS_CEPH_CONF): skipped\n");
		return 77;
	}
	return cmocka_run_group_tests_name("handler_rbd_ceph", tests, setup, teardown);
}
