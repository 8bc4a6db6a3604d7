/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_file: the file handler through the ring simulator against fio --ioengine=io_uring on
 * the same file with the same parameters (4 KiB randread/randwrite at QD 1/32/128, 128 KiB
 * seqread at QD 32; page cache and O_DIRECT). Prints workload | ours IOPS | fio IOPS |
 * ours/fio, plus ours with the simulator's data copies switched off (no_copy: what the
 * runner and handler cost without the copy the kernel would do in/out of the data area).
 *
 *   bench_file [--file PATH] [--size 512M] [--runtime 1.5] [--handler-dir DIR]
 *              [--only direct|cache] [--workload SUBSTRING] [--no-fio] [--reps 3] [--verbose]
 *
 * The file is created (and filled with data, so reads really read) when missing or short.
 * It must be on a file system that supports O_DIRECT (not tmpfs): the default is /var/tmp.
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
	const char *fio_rw; /* randread, randwrite, read */
	bool write;
	bool random;
	uint32_t bs;
	uint32_t qd;
};

static const struct workload workloads[] = {
	{ "4k randread QD1", "randread", false, true, 4096, 1 },
	{ "4k randread QD32", "randread", false, true, 4096, 32 },
	{ "4k randread QD128", "randread", false, true, 4096, 128 },
	{ "4k randwrite QD1", "randwrite", true, true, 4096, 1 },
	{ "4k randwrite QD32", "randwrite", true, true, 4096, 32 },
	{ "4k randwrite QD128", "randwrite", true, true, 4096, 128 },
	{ "128k seqread QD32", "read", false, false, 128 << 10, 32 },
};

static const struct rts_handler *handler;
static unsigned int errors;
static bool verbose;

/* Our side: IOPS of @w through the simulator and the file handler for @secs seconds. */
static double run_ours(const char *path, uint64_t size, bool direct, bool no_copy,
		       const struct workload *w, double secs)
{
	struct rts_sim_params sp = { .cmdr_size = 1 << 20,
				     .data_size = 64 << 20,
				     .no_copy = no_copy };
	char cfg[600], *why = NULL;
	struct rts_dev_config dc = {
		RTS_DEV_CONFIG_INIT,
		.name = "bench",
		.cfgstring = cfg,
		.block_size = BS,
		.queue_depth = 256,
		.write_cache = true,
	};
	const struct bench_io io = { w->write, w->random, w->bs, w->qd };
	struct rts_sim *sim = NULL;
	struct rts_dev *dev = NULL;
	double iops = 0;
	int r;

	snprintf(cfg, sizeof(cfg), "file/%s%s", path, direct ? ";o_direct" : "");
	if (rts_sim_new(&sp, &sim) < 0 || rts_dev_new_sim(&dc, handler, sim, &dev) < 0)
		goto fail;
	r = rts_dev_open(dev, false, &why);
	if (r < 0) {
		fprintf(stderr, "bench_file: open '%s': %s\n", cfg, why ? why : strerror(-r));
		free(why);
		goto fail;
	}
	iops = bench_drive(sim, sp.cmdr_size, dev, &io, size, secs, &errors);
	if (iops < 0)
		goto fail_close;
	if (verbose) {
		struct rts_dev_stats st = { .struct_size = sizeof(st) };

		rts_dev_get_stats(dev, &st);
		fprintf(stderr, "  [%s%s %s: %" PRIu64 " cmds, %.1f cmds/kick, %.1f cmds/wakeup]\n",
			direct ? "O_DIRECT" : "cache", no_copy ? " no_copy" : "", w->name, st.cmds,
			st.kicks ? (double)st.cmds / (double)st.kicks : 0,
			st.wakeups ? (double)st.cmds / (double)st.wakeups : 0);
	}
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

/*
 * WRITE SAME of 64 MiB at a time (the core's emulation: the block replicated over 1 MiB,
 * written chunk after chunk through the handler's write()), in MB/s.
 */
static double run_write_same(const char *path, uint64_t size, bool direct, double secs)
{
	const uint32_t blocks = (64u << 20) / BS;
	struct rts_sim_params sp = { .cmdr_size = 1 << 20, .data_size = 64 << 20 };
	char cfg[600];
	struct rts_dev_config dc = {
		RTS_DEV_CONFIG_INIT,
		.name = "bench",
		.cfgstring = cfg,
		.block_size = BS,
		.write_cache = true,
	};
	struct rts_sim_completion c;
	struct rts_sim *sim = NULL;
	struct rts_dev *dev = NULL;
	uint8_t blk[BS], cdb[16];
	uint64_t done = 0, lba = 0;
	double t0, t;

	snprintf(cfg, sizeof(cfg), "file/%s%s", path, direct ? ";o_direct" : "");
	memset(blk, 0xa5, sizeof(blk));
	if (rts_sim_new(&sp, &sim) < 0 || rts_dev_new_sim(&dc, handler, sim, &dev) < 0 ||
	    rts_dev_open(dev, false, NULL) < 0) {
		rts_dev_free(dev);
		rts_sim_free(sim);
		return 0;
	}
	rts_dev_start(dev);
	t0 = t = bench_now_s();
	while (t - t0 < secs) {
		bench_rw16(cdb, 0x93, lba, blocks);
		if (rts_sim_exec(sim, cdb, 16, RTS_SIM_TO_DEV, blk, BS, TIMEOUT_MS, &c) < 0 ||
		    c.status) {
			errors++;
			break;
		}
		done += (uint64_t)blocks * BS;
		lba = (lba + blocks) % (size / BS - blocks + 1);
		t = bench_now_s();
	}
	rts_dev_stop(dev, TIMEOUT_MS);
	rts_dev_close(dev);
	rts_dev_free(dev);
	rts_sim_free(sim);
	return t > t0 ? (double)done / (t - t0) / 1e6 : 0;
}

/* fio's side: same file, same pattern, io_uring engine; IOPS from its JSON output. */
static double run_fio(const char *path, uint64_t size, bool direct, const struct workload *w,
		      double secs)
{
	char cmd[1024], *out = NULL, *p;
	size_t len = 0, cap = 0;
	double iops = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "fio --name=bench --filename='%s' --size=%" PRIu64 " --ioengine=io_uring "
		 "--rw=%s --bs=%u --iodepth=%u --direct=%d --time_based --runtime=%.0f "
		 "--randrepeat=0 --norandommap --invalidate=0 --output-format=json 2>/dev/null",
		 path, size, w->fio_rw, w->bs, w->qd, direct ? 1 : 0, secs < 1 ? 1 : secs);
	f = popen(cmd, "r");
	if (!f)
		return 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *n = realloc(out, cap = cap ? 2 * cap : 65536);
			if (!n)
				break;
			out = n;
		}
		size_t got = fread(out + len, 1, cap - len - 1, f);
		if (!got)
			break;
		len += got;
	}
	pclose(f);
	if (!out)
		return 0;
	out[len] = '\0';
	p = strstr(out, w->write ? "\"write\" : {" : "\"read\" : {");
	if (p)
		p = strstr(p, "\"iops\" : ");
	if (p)
		iops = strtod(p + 9, NULL);
	free(out);
	return iops;
}

/* Make sure @path holds @size bytes of real data (not holes). */
static int prepare(const char *path, uint64_t size)
{
	struct stat st;
	uint8_t *buf;
	int fd;

	if (stat(path, &st) == 0 && (uint64_t)st.st_size >= size &&
	    (uint64_t)st.st_blocks * 512 >= size)
		return 0;
	fprintf(stderr, "bench_file: writing %" PRIu64 " MiB of data to %s ...\n", size >> 20,
		path);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	buf = malloc(1 << 20);
	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	for (size_t i = 0; i < (1 << 20); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	for (uint64_t off = 0; off < size; off += 1 << 20)
		if (pwrite(fd, buf, 1 << 20, (off_t)off) != 1 << 20) {
			free(buf);
			close(fd);
			return -EIO;
		}
	fsync(fd);
	close(fd);
	free(buf);
	return 0;
}

/* Pull the file into the page cache so both sides start warm. */
static void warm(const char *path)
{
	static uint8_t buf[1 << 20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

int main(int argc, char **argv)
{
	const char *path = "/var/tmp/rts-bench-file.img", *hdir = NULL, *only = NULL, *sel = NULL;
	bool skip_fio = false;
	uint64_t size = 512ull << 20;
	double secs = 1.5;
	int reps = 3;
	struct rts_loaded_handler *lh = NULL;
	char so[512], *why = NULL;
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "runtime", required_argument, NULL, 't' },
		{ "handler-dir", required_argument, NULL, 'd' },
		{ "only", required_argument, NULL, 'o' },
		{ "workload", required_argument, NULL, 'w' },
		{ "no-fio", no_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "f:s:t:d:o:w:nr:v", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			path = optarg;
			break;
		case 's':
			if (rts_parse_size(optarg, &size) < 0 || size < (1 << 20)) {
				fprintf(stderr, "bench_file: bad --size\n");
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
		case 'o':
			only = optarg;
			break;
		case 'w':
			sel = optarg;
			break;
		case 'n':
			skip_fio = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'r':
			reps = atoi(optarg) > 0 ? atoi(optarg) : 1;
			break;
		default:
			fprintf(stderr,
				"usage: %s [--file PATH] [--size 512M] [--runtime 1.5] "
				"[--handler-dir DIR] [--only direct|cache] [--workload SUBSTRING] [--no-fio] [--reps N] [--verbose]\n",
				argv[0]);
			return 2;
		}
	}
	if (!hdir)
		hdir = RTS_BENCH_HANDLER_DIR;
	snprintf(so, sizeof(so), "%s/handler_file.so", hdir);
	if (rts_handler_load(so, &lh, &why) < 0) {
		fprintf(stderr, "bench_file: %s: %s\n", so, why ? why : "cannot load");
		free(why);
		return 1;
	}
	handler = rts_loaded_handler_get(lh);
	if (prepare(path, size) < 0) {
		fprintf(stderr, "bench_file: cannot create %s\n", path);
		return 1;
	}
	printf("file %s, %" PRIu64 " MiB, best of %d runs of %.1f s; ours = rts-runner core + file "
	       "handler through the ring simulator (it copies data in/out like the kernel); "
	       "no_copy = the same without those copies (one run)\n\n",
	       path, size >> 20, reps, secs);
	printf("%-8s %-20s %12s %12s %12s %9s\n", "mode", "workload", "ours IOPS", "no_copy IOPS",
	       "fio IOPS", "ours/fio");
	for (int direct = 0; direct < 2; direct++) {
		if (only && strcmp(only, direct ? "direct" : "cache"))
			continue;
		if (!direct)
			warm(path);
		for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
			const struct workload *w = &workloads[i];

			if (sel && !strstr(w->name, sel))
				continue;
			double ours = 0, nc = 0, fio = 0;

			/* Best of @reps alternating runs: the host is shared, noise only slows. */
			for (int k = 0; k < reps; k++) {
				ours = MAX(ours, run_ours(path, size, direct, false, w, secs));
				if (!skip_fio)
					fio = MAX(fio, run_fio(path, size, direct, w, secs));
			}
			nc = run_ours(path, size, direct, true, w, secs);

			printf("%-8s %-20s %12.0f %12.0f %12.0f %9.2f\n",
			       direct ? "O_DIRECT" : "cache", w->name, ours, nc, fio,
			       fio > 0 ? ours / fio : 0);
			fflush(stdout);
		}
	}
	if (!sel || strstr("writesame", sel)) {
		static const struct workload seqw = { "1M seqwrite QD1", "write", true, false,
						      1 << 20,		 1 };

		printf("\nWRITE SAME (core emulation, 1 MiB chunks in sequence) vs fio 1 MiB "
		       "sequential writes at QD1:\n");
		for (int direct = 0; direct < 2; direct++) {
			if (only && strcmp(only, direct ? "direct" : "cache"))
				continue;
			double ws = 0, fio = 0;

			for (int k = 0; k < reps; k++) {
				ws = MAX(ws, run_write_same(path, size, direct, secs));
				if (!skip_fio)
					fio = MAX(fio, run_fio(path, size, direct, &seqw, secs) *
							       (1 << 20) / 1e6);
			}
			printf("%-8s WRITE SAME %8.0f MB/s   fio %8.0f MB/s   ratio %.2f\n",
			       direct ? "O_DIRECT" : "cache", ws, fio, fio > 0 ? ws / fio : 0);
		}
	}
	if (errors)
		printf("\n%u command(s) completed with an error\n", errors);
	rts_handler_unload(lh);
	return errors ? 1 : 0;
}
