/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_qcow2: the qcow2 handler on a fully allocated image against the file handler on a
 * raw file with the same content, both through the ring simulator (page cache), same
 * workloads as bench_file. Prints workload | file IOPS | qcow2 IOPS | qcow2/file: the
 * cost of the qcow2 mapping (L1/L2 lookup, extent split) on the data path. The "new" rows
 * write into an empty image (every write allocates: refcounts, fdatasync, L2 update) and,
 * for the file handler, into a sparse raw file.
 *
 *   bench_qcow2 [--dir /var/tmp] [--size 512M] [--runtime 1.5] [--handler-dir DIR] [--reps 3]
 *
 * The raw file is written with data, then converted with qemu-img (every cluster
 * allocated, 64 KiB clusters).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rts/device.h>

#include "macro.h"
#include "sim_drive.h"
#include <rts/cfgstring.h>

#define TIMEOUT_MS BENCH_TIMEOUT_MS
#define BS	   BENCH_BS

struct workload {
	const char *name;
	bool write;
	bool random;
	uint32_t bs;
	uint32_t qd;
	bool fresh; /* on a new, empty image (qcow2: every write allocates) / sparse raw file */
};

static const struct workload workloads[] = {
	{ "4k randread QD1", false, true, 4096, 1, false },
	{ "4k randread QD32", false, true, 4096, 32, false },
	{ "4k randwrite QD1", true, true, 4096, 1, false },
	{ "4k randwrite QD32", true, true, 4096, 32, false },
	{ "128k seqread QD32", false, false, 128 << 10, 32, false },
	{ "128k seqwrite QD32", true, false, 128 << 10, 32, false },
	{ "4k randwrite new QD32", true, true, 4096, 32, true },
	{ "64k seqwrite new QD32", true, false, 64 << 10, 32, true },
};

static unsigned int errors;

/* IOPS of @w through the simulator and handler @h on cfgstring @cfg for @secs seconds. */
static double run(const struct rts_handler *h, const char *cfg, uint64_t size,
		  const struct workload *w, double secs)
{
	struct rts_sim_params sp = { .cmdr_size = 1 << 20, .data_size = 64 << 20 };
	struct rts_dev_config dc = {
		RTS_DEV_CONFIG_INIT,
		.name = "bench",
		.cfgstring = cfg,
		.size = size,
		.block_size = BS,
		.queue_depth = 256,
		.write_cache = true,
	};
	const struct bench_io io = { w->write, w->random, w->bs, w->qd };
	struct rts_sim *sim = NULL;
	struct rts_dev *dev = NULL;
	double iops = 0;
	char *why = NULL;
	int r;

	if (rts_sim_new(&sp, &sim) < 0 || rts_dev_new_sim(&dc, h, sim, &dev) < 0)
		goto fail;
	r = rts_dev_open(dev, false, &why);
	if (r < 0) {
		fprintf(stderr, "bench_qcow2: open '%s': %s\n", cfg, why ? why : strerror(-r));
		free(why);
		goto fail;
	}
	iops = bench_drive(sim, sp.cmdr_size, dev, &io, size, secs, &errors);
	if (iops < 0)
		goto fail_close;
	rts_dev_stop(dev, TIMEOUT_MS);
fail_close:
	rts_dev_close(dev);
	rts_dev_free(dev);
	rts_sim_free(sim);
	return iops > 0 ? iops : 0;
fail:
	rts_dev_free(dev);
	rts_sim_free(sim);
	return 0;
}

static int write_raw(const char *path, uint64_t size)
{
	uint8_t *buf = malloc(1 << 20);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r = 0;

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	for (size_t i = 0; i < (1 << 20); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (uint64_t off = 0; off < size && !r; off += 1 << 20)
		if (pwrite(fd, buf, 1 << 20, (off_t)off) != 1 << 20)
			r = -EIO;
	close(fd);
	free(buf);
	return r;
}

/* A sparse raw file and an empty qcow2 image of @size bytes (the "new" workloads). */
static int fresh_files(const char *raw, const char *img, uint64_t size)
{
	char cmd[1400];
	int fd;

	unlink(img);
	snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 '%s' %" PRIu64, img, size);
	if (system(cmd) != 0)
		return -EIO;
	fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return -errno;
	}
	close(fd);
	return 0;
}

static const struct rts_handler *load(const char *dir, const char *name,
				      struct rts_loaded_handler **lh)
{
	char so[512], *why = NULL;

	snprintf(so, sizeof(so), "%s/%s", dir, name);
	if (rts_handler_load(so, lh, &why) < 0) {
		fprintf(stderr, "bench_qcow2: cannot load %s: %s\n", so, why ? why : "?");
		free(why);
		return NULL;
	}
	return rts_loaded_handler_get(*lh);
}

int main(int argc, char **argv)
{
	const char *dir = "/var/tmp", *hdir = RTS_BENCH_HANDLER_DIR;
	struct rts_loaded_handler *lf = NULL, *lq = NULL;
	const struct rts_handler *hf, *hq;
	uint64_t size = 512ull << 20;
	char raw[512], img[600], cfg_f[700], cfg_q[700], cmd[1400];
	char raw_new[512], img_new[600], cfg_fn[700], cfg_qn[700];
	double secs = 1.5;
	int reps = 3, c;
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "size", required_argument, NULL, 's' },
		{ "runtime", required_argument, NULL, 't' },
		{ "handler-dir", required_argument, NULL, 'd' },
		{ "reps", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};

	while ((c = getopt_long(argc, argv, "D:s:t:d:r:", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			dir = optarg;
			break;
		case 's':
			if (rts_parse_size(optarg, &size) < 0 || size < (1 << 20)) {
				fprintf(stderr, "bench_qcow2: bad --size\n");
				return 2;
			}
			size &= ~((uint64_t)(1 << 20) - 1);
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'd':
			hdir = optarg;
			break;
		case 'r':
			reps = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		default:
			fprintf(stderr, "usage: bench_qcow2 [--dir D] [--size N] [--runtime S] "
					"[--handler-dir D] [--reps N]\n");
			return 2;
		}
	}
	hf = load(hdir, "handler_file.so", &lf);
	hq = load(hdir, "handler_qcow2.so", &lq);
	if (!hf || !hq)
		return 1;
	snprintf(raw, sizeof(raw), "%s/rts-bench-qcow2.raw", dir);
	snprintf(img, sizeof(img), "%s/rts-bench-qcow2.qcow2", dir);
	fprintf(stderr, "bench_qcow2: writing %" PRIu64 " MiB to %s and converting it ...\n",
		size >> 20, raw);
	if (write_raw(raw, size) < 0)
		return 1;
	snprintf(cmd, sizeof(cmd), "qemu-img convert -f raw -O qcow2 '%s' '%s'", raw, img);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_qcow2: '%s' failed (qemu-utils installed?)\n", cmd);
		return 1;
	}
	sync(); /* no writeback of the fresh files during the first measurements */
	snprintf(cfg_f, sizeof(cfg_f), "file/%s", raw);
	snprintf(cfg_q, sizeof(cfg_q), "qcow/%s", img);
	snprintf(raw_new, sizeof(raw_new), "%s/rts-bench-qcow2-new.raw", dir);
	snprintf(img_new, sizeof(img_new), "%s/rts-bench-qcow2-new.qcow2", dir);
	snprintf(cfg_fn, sizeof(cfg_fn), "file/%s", raw_new);
	snprintf(cfg_qn, sizeof(cfg_qn), "qcow/%s", img_new);
	printf("%-20s %12s %12s %10s\n", "workload (cache)", "file IOPS", "qcow2 IOPS",
	       "qcow2/file");
	for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
		const struct workload *w = &workloads[i];
		double f = 0, q = 0;

		/* Interleaved, so that writeback one run leaves behind hits both sides alike. */
		for (int rep = 0; rep < reps; rep++) {
			if (w->fresh && fresh_files(raw_new, img_new, size) < 0)
				return 1;
			f = MAX(f, run(hf, w->fresh ? cfg_fn : cfg_f, size, w, secs));
			q = MAX(q, run(hq, w->fresh ? cfg_qn : cfg_q, size, w, secs));
		}

		printf("%-20s %12.0f %12.0f %9.2fx\n", w->name, f, q, f > 0 ? q / f : 0);
		fflush(stdout);
	}
	snprintf(cmd, sizeof(cmd), "qemu-img check -q '%s'", img);
	if (system(cmd) != 0) {
		fprintf(stderr, "bench_qcow2: qemu-img check failed after the run\n");
		errors++;
	}
	unlink(raw);
	unlink(img);
	unlink(raw_new);
	unlink(img_new);
	rts_handler_unload(lq);
	rts_handler_unload(lf);
	if (errors)
		fprintf(stderr, "bench_qcow2: %u commands failed\n", errors);
	return errors ? 1 : 0;
}
