/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench_rbd: the rbd handler through the ring simulator against fio --ioengine=rbd on the
 * same image of a live cluster, interleaved (ours, fio, ours, fio, ...), median of --reps
 * runs per workload: 4 KiB randread/randwrite at QD1 and QD32, 64 KiB randread/randwrite at
 * QD8. Also CPU microseconds per I/O of each side (getrusage of this process around our
 * run, of the reaped fio children around fio's). Both sides include their own load
 * generation (our simulator plays the kernel's part), so the ratio is a fair upper bound
 * for ours.
 *
 *   bench_rbd --conf CEPH_CONF [--pool rbd] [--image rts-bench] [--size 256M]
 *             [--runtime 3] [--reps 5] [--workload SUBSTRING] [--handler-dir DIR] [--no-fio]
 *             [--cfg-extra ';id=...'] [--images N]
 *
 * --images N: N images (<image>-0..N-1), one device each, driven all at once, first each
 * device on its own rados_t, then all on one shared (runner.conf [handler.rbd]
 * connection=per-image|shared), interleaved; the table compares the two.
 *
 * The image is created (and written once, so reads read data) when missing.
 * scripts/bench-rbd.sh starts a throw-away cluster and runs this on a release build.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include <rts/device.h>

#include "macro.h"
#include "sim_drive.h"
#include <rts/cfgstring.h>

#define TIMEOUT_MS BENCH_TIMEOUT_MS
#define BS	   BENCH_BS
#define MAX_REPS   15

struct workload {
	const char *name;
	const char *fio_rw;
	bool write;
	uint32_t bs;
	uint32_t qd;
};

static const struct workload workloads[] = {
	{ "4k randread QD1", "randread", false, 4096, 1 },
	{ "4k randread QD32", "randread", false, 4096, 32 },
	{ "4k randwrite QD1", "randwrite", true, 4096, 1 },
	{ "4k randwrite QD32", "randwrite", true, 4096, 32 },
	{ "64k randread QD8", "randread", false, 65536, 8 },
	{ "64k randwrite QD8", "randwrite", true, 65536, 8 },
};

struct result {
	double iops;
	double cpu_us; /* CPU microseconds per I/O */
};

static const struct rts_handler *handler;
static const char *conf, *pool = "rbd", *image = "rts-bench", *cfg_extra = "";
static unsigned int errors;

static double tv_s(const struct timeval *t)
{
	return (double)t->tv_sec + (double)t->tv_usec / 1e6;
}

static double cpu_s(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime);
}

/* @img on @options (runner.conf [handler.rbd] pairs, NULL-terminated) for @secs. */
static struct result run_ours_on(const char *img, const char *const *options, uint64_t size,
				 const struct workload *w, double secs, unsigned int *errs)
{
	struct rts_sim_params sp = { .cmdr_size = 1 << 20, .data_size = 64 << 20 };
	char cfg[1024], *why = NULL;
	struct rts_dev_config dc = {
		RTS_DEV_CONFIG_INIT,
		.name = "bench",
		.cfgstring = cfg,
		.block_size = BS,
		.queue_depth = 128,
		.write_cache = true,
		.options = options,
	};
	const struct bench_io io = { w->write, true, w->bs, w->qd };
	struct rts_sim *sim = NULL;
	struct rts_dev *dev = NULL;
	struct result res = { 0 };
	double c0, t0;
	int r;

	snprintf(cfg, sizeof(cfg), "rbd/%s/%s;conf=%s%s", pool, img, conf, cfg_extra);
	if (rts_sim_new(&sp, &sim) < 0 || rts_dev_new_sim(&dc, handler, sim, &dev) < 0)
		goto out;
	r = rts_dev_open(dev, false, &why);
	if (r < 0) {
		fprintf(stderr, "bench_rbd: open '%s': %s\n", cfg, why ? why : strerror(-r));
		free(why);
		rts_dev_free(dev);
		dev = NULL;
		goto out;
	}
	c0 = cpu_s(RUSAGE_SELF);
	t0 = bench_now_s();
	res.iops = bench_drive(sim, sp.cmdr_size, dev, &io, size, secs, errs);
	if (res.iops > 0)
		res.cpu_us = (cpu_s(RUSAGE_SELF) - c0) * 1e6 / (res.iops * (bench_now_s() - t0));
	rts_dev_stop(dev, TIMEOUT_MS);
	rts_dev_close(dev);
	if (res.iops < 0)
		res.iops = 0;
out:
	rts_dev_free(dev);
	rts_sim_free(sim);
	return res;
}

static struct result run_ours(uint64_t size, const struct workload *w, double secs)
{
	return run_ours_on(image, NULL, size, w, secs, &errors);
}

/* ------------------------------------------- several images, one connection or each its own */

struct multi_arg {
	pthread_t thread;
	char img[256];
	const char *const *options;
	uint64_t size;
	const struct workload *w;
	double secs;
	unsigned int errs;
	struct result res;
};

static void *multi_main(void *p)
{
	struct multi_arg *a = p;

	a->res = run_ours_on(a->img, a->options, a->size, a->w, a->secs, &a->errs);
	return NULL;
}

/* @n devices on @n images at once, all on one shared rados_t or each on its own. */
static struct result run_multi(int n, bool shared, uint64_t size, const struct workload *w,
			       double secs)
{
	static const char *const opt_shared[] = { "connection", "shared", NULL };
	static const char *const opt_own[] = { "connection", "per-image", NULL };
	static struct multi_arg a[64];
	struct result res = { 0 };
	double c0 = cpu_s(RUSAGE_SELF), t0 = bench_now_s(), ios = 0;

	for (int i = 0; i < n; i++) {
		a[i] = (struct multi_arg){ .options = shared ? opt_shared : opt_own,
					   .size = size, .w = w, .secs = secs };
		snprintf(a[i].img, sizeof(a[i].img), "%s-%d", image, i);
		if (pthread_create(&a[i].thread, NULL, multi_main, &a[i]) != 0)
			return res;
	}
	for (int i = 0; i < n; i++) {
		pthread_join(a[i].thread, NULL);
		res.iops += a[i].res.iops;
		errors += a[i].errs;
	}
	ios = res.iops * (bench_now_s() - t0);
	if (ios > 0)
		res.cpu_us = (cpu_s(RUSAGE_SELF) - c0) * 1e6 / ios;
	return res;
}

static double json_num(const char *out, const char *section, const char *key)
{
	const char *p = strstr(out, section);

	if (p)
		p = strstr(p, key);
	return p ? strtod(p + strlen(key), NULL) : 0;
}

static struct result run_fio(uint64_t size, const struct workload *w, double secs)
{
	char cmd[2048], *out = NULL;
	size_t len = 0, cap = 0;
	struct result res = { 0 };
	double c0;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "CEPH_CONF='%s' fio --name=bench --ioengine=rbd --clientname=admin --pool='%s' "
		 "--rbdname='%s' --size=%" PRIu64 " --rw=%s --bs=%u --iodepth=%u --direct=1 "
		 "--time_based --runtime=%.0f --randrepeat=0 --norandommap --output-format=json "
		 "2>/dev/null",
		 conf, pool, image, size, w->fio_rw, w->bs, w->qd, secs < 1 ? 1 : secs);
	c0 = cpu_s(RUSAGE_CHILDREN);
	f = popen(cmd, "r");
	if (!f)
		return res;
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
		return res;
	out[len] = '\0';
	{
		const char *sec = w->write ? "\"write\" : {" : "\"read\" : {";
		double ios = json_num(out, sec, "\"total_ios\" : ");

		res.iops = json_num(out, sec, "\"iops\" : ");
		if (ios > 0)
			res.cpu_us = (cpu_s(RUSAGE_CHILDREN) - c0) * 1e6 / ios;
	}
	free(out);
	return res;
}

/* Create and fill the image once (fio, 4 MiB sequential writes) so reads read data. */
static int prepare(const char *img_name, uint64_t size)
{
	rados_t c;
	rados_ioctx_t io;
	rbd_image_t img;
	int order = 0, r;
	char cmd[1024];

	if (rados_create(&c, "admin") < 0)
		return -EINVAL;
	r = rados_conf_read_file(c, conf);
	if (r == 0)
		r = rados_connect(c);
	if (r == 0)
		r = rados_ioctx_create(c, pool, &io);
	if (r < 0) {
		fprintf(stderr, "bench_rbd: cannot reach the cluster of %s: %s\n", conf,
			strerror(-r));
		rados_shutdown(c);
		return r;
	}
	r = rbd_open(io, img_name, &img, NULL);
	if (r == 0) {
		uint64_t have = 0;

		rbd_get_size(img, &have);
		rbd_close(img);
		rados_ioctx_destroy(io);
		rados_shutdown(c);
		return have >= size ? 0 : -ENOSPC;
	}
	r = rbd_create(io, img_name, size, &order);
	rados_ioctx_destroy(io);
	rados_shutdown(c);
	if (r < 0)
		return r;
	fprintf(stderr, "bench_rbd: filling %s/%s (%" PRIu64 " MiB) ...\n", pool, img_name,
		size >> 20);
	snprintf(cmd, sizeof(cmd),
		 "CEPH_CONF='%s' fio --name=fill --ioengine=rbd --clientname=admin --pool='%s' "
		 "--rbdname='%s' --rw=write --bs=4M --iodepth=4 --size=%" PRIu64
		 " >/dev/null 2>&1",
		 conf, pool, img_name, size);
	return system(cmd) == 0 ? 0 : -EIO;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	const char *hdir = NULL, *sel = NULL;
	bool skip_fio = false;
	uint64_t size = 256ull << 20;
	double secs = 3;
	int reps = 5, images = 0;
	struct rts_loaded_handler *lh = NULL;
	char so[512], *why = NULL;
	static const struct option opts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "pool", required_argument, NULL, 'p' },
		{ "image", required_argument, NULL, 'i' },
		{ "size", required_argument, NULL, 's' },
		{ "runtime", required_argument, NULL, 't' },
		{ "reps", required_argument, NULL, 'r' },
		{ "workload", required_argument, NULL, 'w' },
		{ "handler-dir", required_argument, NULL, 'd' },
		{ "no-fio", no_argument, NULL, 'n' },
		{ "cfg-extra", required_argument, NULL, 'x' },
		{ "images", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	conf = getenv("CEPH_CONF");
	while ((c = getopt_long(argc, argv, "c:p:i:s:t:r:w:d:nx:m:", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'p':
			pool = optarg;
			break;
		case 'i':
			image = optarg;
			break;
		case 's':
			if (rts_parse_size(optarg, &size) < 0 || size < (16 << 20)) {
				fprintf(stderr, "bench_rbd: bad --size (at least 16M)\n");
				return 2;
			}
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'r':
			reps = atoi(optarg);
			reps = reps < 1 ? 1 : (reps > MAX_REPS ? MAX_REPS : reps);
			break;
		case 'w':
			sel = optarg;
			break;
		case 'd':
			hdir = optarg;
			break;
		case 'n':
			skip_fio = true;
			break;
		case 'x':
			cfg_extra = optarg;
			break;
		case 'm':
			images = atoi(optarg);
			images = images < 1 ? 1 : (images > 64 ? 64 : images);
			break;
		default:
			fprintf(stderr, "usage: %s --conf CEPH_CONF [--pool P] [--image I] [--size 256M] "
					"[--runtime 3] [--reps 5] [--workload S] [--handler-dir D] [--no-fio] "
					"[--cfg-extra ';opt=v']\n",
				argv[0]);
			return 2;
		}
	}
	if (!conf) {
		fprintf(stderr, "bench_rbd: --conf (or CEPH_CONF) is required\n");
		return 2;
	}
	snprintf(so, sizeof(so), "%s/handler_rbd.so", hdir ? hdir : RTS_BENCH_HANDLER_DIR);
	if (rts_handler_load(so, &lh, &why) < 0) {
		fprintf(stderr, "bench_rbd: %s: %s\n", so, why ? why : "cannot load");
		free(why);
		return 1;
	}
	handler = rts_loaded_handler_get(lh);
	if (images) {
		char name[256];

		for (int i = 0; i < images; i++) {
			snprintf(name, sizeof(name), "%s-%d", image, i);
			if (prepare(name, size) < 0) {
				fprintf(stderr, "bench_rbd: cannot prepare image %s/%s\n", pool, name);
				return 1;
			}
		}
		printf("%d images of %" PRIu64 " MiB, one device each, all at once; median of %d "
		       "interleaved runs of %.0f s; IOPS summed over the devices\n\n",
		       images, size >> 20, reps, secs);
		printf("| workload | per-image rados_t IOPS | shared rados_t IOPS | shared/per-image | "
		       "per-image CPU us/IO | shared CPU us/IO |\n|---|---:|---:|---:|---:|---:|\n");
		for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
			const struct workload *w = &workloads[i];
			double pi[MAX_REPS], pc[MAX_REPS], si[MAX_REPS], sc[MAX_REPS];

			if (sel && !strstr(w->name, sel))
				continue;
			for (int k = 0; k < reps; k++) {
				struct result p = run_multi(images, false, size, w, secs);
				struct result q = run_multi(images, true, size, w, secs);

				pi[k] = p.iops;
				pc[k] = p.cpu_us;
				si[k] = q.iops;
				sc[k] = q.cpu_us;
			}
			double mp = median(pi, reps), ms = median(si, reps);

			printf("| %s | %.0f | %.0f | %.2f | %.1f | %.1f |\n", w->name, mp, ms,
			       mp > 0 ? ms / mp : 0, median(pc, reps), median(sc, reps));
			fflush(stdout);
		}
		rts_handler_unload(lh);
		return errors ? 1 : 0;
	}
	if (prepare(image, size) < 0) {
		fprintf(stderr, "bench_rbd: cannot prepare image %s/%s\n", pool, image);
		return 1;
	}
	printf("rbd image %s/%s, %" PRIu64 " MiB; median of %d interleaved runs of %.0f s; ours = "
	       "rts-runner core + rbd handler through the ring simulator; CPU = us of CPU per I/O "
	       "(whole process: load generator + client)\n\n",
	       pool, image, size >> 20, reps, secs);
	printf("| workload | ours IOPS | fio rbd IOPS | ours/fio | ours CPU us/IO | fio CPU us/IO | "
	       "CPU ours/fio |\n|---|---:|---:|---:|---:|---:|---:|\n");
	fflush(stdout);
	for (size_t i = 0; i < ARRAY_SIZE(workloads); i++) {
		const struct workload *w = &workloads[i];
		double oi[MAX_REPS], oc[MAX_REPS], fi[MAX_REPS], fc[MAX_REPS];

		if (sel && !strstr(w->name, sel))
			continue;
		for (int k = 0; k < reps; k++) {
			struct result o = run_ours(size, w, secs);
			struct result f = skip_fio ? (struct result){ 0 } : run_fio(size, w, secs);

			oi[k] = o.iops;
			oc[k] = o.cpu_us;
			fi[k] = f.iops;
			fc[k] = f.cpu_us;
		}
		double mo = median(oi, reps), mf = median(fi, reps);
		double co = median(oc, reps), cf = median(fc, reps);

		printf("| %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.2f |\n", w->name, mo, mf,
		       mf > 0 ? mo / mf : 0, co, cf, cf > 0 ? co / cf : 0);
		fflush(stdout);
	}
	if (errors)
		printf("\n%u command(s) failed on our side\n", errors);
	rts_handler_unload(lh);
	return errors ? 1 : 0;
}
