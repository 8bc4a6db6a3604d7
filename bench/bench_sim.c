/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runner overhead through the ring simulator: READ commands answered by a null handler at
 * QD 1/32/128 with 4 KiB and 128 KiB transfers, the simulator playing the kernel on the
 * main thread (no data copies: those are the kernel's cost, not the runner's).
 *
 * Two dispatch styles on the same simulator and ring code:
 *   ours   the rts-runner device loop: one thread, one io_uring, batched kicks
 *   pool   tcmu-runner's style, rebuilt here for comparison only: a command thread reads
 *          the ring and hands each command to a worker pool through a mutex+condvar queue
 *          (one malloc'd work item per command), workers run the handler synchronously and
 *          complete under a completion lock, kicking the kernel once per completion
 *
 * A second table puts N devices on one process (N in 1..64), one simulator per device, all
 * driven at once by one kernel-side thread at QD 32 with 4 KiB READs: aggregate commands/s,
 * and the runner's CPU time and context switches per command (the process's, less the
 * driver thread's), i.e. how many commands one core of runner serves as devices are added.
 *
 *   bench_sim [seconds-per-point]            (default 1.5) both tables
 *   bench_sim --devices [seconds] [N...]     only the N-devices table (default N: 1 8 32 64)
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rts/device.h>

#include "ring.h"

#define MAX_QD 128
#define POOL_WORKERS 4

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------- the null handler */

static int b_open(struct rts_dev *dev, bool reopen)
{
	(void)reopen;
	rts_dev_set_num_lbas(dev, (1ull << 40) / rts_dev_get_block_size(dev));
	return 0;
}

static int b_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		  unsigned int iovcnt, uint64_t off, uint64_t len)
{
	(void)dev;
	(void)iov;
	(void)iovcnt;
	(void)off;
	(void)len;
	rts_cmd_complete(cmd, 0);
	return 0;
}

static const struct rts_handler bench_null = {
	RTS_HANDLER_INIT,
	.name = "bench null",
	.subtype = "null",
	.open = b_open,
	.read = b_read,
};

/* ------------------------------------------------------ the kernel side */

struct result {
	double cmds_per_s;
	double p50_us, p99_us;
	double cmds_per_kick;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct lat {
	double *v;
	size_t n, cap;
	double submitted[65536];
};

static void on_done(void *ud, const struct rts_sim_completion *c)
{
	struct lat *l = ud;

	if (l->n < l->cap)
		l->v[l->n++] = now() - l->submitted[c->cmd_id];
}

/* Keep @qd READs of @bs bytes outstanding for @secs. Returns commands completed. */
static uint64_t drive(struct rts_sim *sim, unsigned int qd, uint32_t bs, double secs, struct lat *l)
{
	uint8_t cdb[16] = { 0x88 };
	uint64_t done = 0, lba = 0;
	unsigned int inflight = 0;
	double t0 = now(), t = t0;

	/* READ(16): LBA in bytes 2..9, transfer length (blocks of 512) in bytes 10..13 */
	cdb[12] = (uint8_t)((bs / 512) >> 8);
	cdb[13] = (uint8_t)(bs / 512);
	while (t - t0 < secs) {
		while (inflight < qd) {
			uint16_t id;
			cdb[9] = (uint8_t)lba;
			cdb[8] = (uint8_t)(lba >> 8);
			lba += 8;
			if (rts_sim_submit(sim, cdb, 16, RTS_SIM_FROM_DEV, NULL, bs, NULL, &id) < 0)
				break;
			l->submitted[id] = now();
			inflight++;
		}
		rts_sim_kick(sim);
		if (rts_sim_wait(sim, 5000) <= 0)
			break;
		int n = rts_sim_reap(sim, on_done, l);
		if (n < 0) {
			fprintf(stderr, "simulator: %s\n", rts_sim_broken_reason(sim));
			exit(1);
		}
		inflight -= (unsigned int)n;
		done += (uint64_t)n;
		t = now();
	}
	while (inflight && rts_sim_wait(sim, 5000) > 0) {
		int n = rts_sim_reap(sim, on_done, l);
		if (n < 0)
			break;
		inflight -= (unsigned int)n;
		done += (uint64_t)n;
	}
	return done;
}

static void finish(struct result *res, struct lat *l, uint64_t done, double secs, uint64_t kicks)
{
	qsort(l->v, l->n, sizeof(double), cmp_double);
	res->cmds_per_s = (double)done / secs;
	res->p50_us = l->n ? l->v[l->n / 2] * 1e6 : 0;
	res->p99_us = l->n ? l->v[l->n * 99 / 100] * 1e6 : 0;
	res->cmds_per_kick = kicks ? (double)done / (double)kicks : 0;
}

static struct rts_sim *new_sim(void)
{
	struct rts_sim_params sp = { .data_size = 64ull << 20, .no_copy = true };
	struct rts_sim *sim;

	if (rts_sim_new(&sp, &sim) < 0) {
		fprintf(stderr, "cannot create simulator\n");
		exit(1);
	}
	return sim;
}

static struct lat *new_lat(void)
{
	struct lat *l = calloc(1, sizeof(*l));
	l->cap = 1u << 24;
	l->v = malloc(l->cap * sizeof(double));
	if (!l->v) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return l;
}

static void free_lat(struct lat *l)
{
	free(l->v);
	free(l);
}

/* ------------------------------------------------------------------- ours */

static struct result run_ours(unsigned int qd, uint32_t bs, double secs)
{
	struct rts_sim *sim = new_sim();
	struct rts_dev *dev;
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "bench", .cfgstring = "null/", .queue_depth = MAX_QD,
				      .max_xfer_blocks = 65536 };
	struct lat *l = new_lat();
	struct result res;
	struct rts_dev_stats st = { .struct_size = sizeof(st) };
	double t0;
	uint64_t done;

	if (rts_dev_new_sim(&cfg, &bench_null, sim, &dev) < 0 || rts_dev_open(dev, false, NULL) < 0 ||
	    rts_dev_start(dev) < 0) {
		fprintf(stderr, "cannot start the device\n");
		exit(1);
	}
	t0 = now();
	done = drive(sim, qd, bs, secs, l);
	double el = now() - t0;
	rts_dev_get_stats(dev, &st);
	finish(&res, l, done, el, st.kicks);
	rts_dev_stop(dev, 5000);
	rts_dev_close(dev);
	rts_dev_free(dev);
	rts_sim_free(sim);
	free_lat(l);
	return res;
}

/* --------------------------------------------------- tcmu-runner-style pool */

struct work {
	struct work *next;
	uint16_t cmd_id;
	uint8_t cdb[16];
	struct iovec iov[8];
	unsigned int iovcnt;
};

struct pool {
	struct tcmu_ring ring;
	int kick_fd, irq_fd;
	pthread_mutex_t qlock; /* protects head/tail/stop */
	pthread_cond_t qcond;
	struct work *head, *tail;
	bool stop;
	pthread_mutex_t clock; /* protects ring completions (tcmu-runner's cmds_list_lock) */
	atomic_uint_fast64_t kicks;
};

static void *pool_worker(void *arg)
{
	struct pool *p = arg;
	uint64_t one = 1;

	for (;;) {
		pthread_mutex_lock(&p->qlock);
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->qcond, &p->qlock);
		if (!p->head) {
			pthread_mutex_unlock(&p->qlock);
			return NULL;
		}
		struct work *w = p->head;
		p->head = w->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->qlock);

		/* the handler's synchronous read: null */
		struct ring_rsp rsp = { .status = 0 };
		pthread_mutex_lock(&p->clock);
		ring_complete(&p->ring, w->cmd_id, &rsp);
		ring_publish(&p->ring);
		pthread_mutex_unlock(&p->clock);
		if (write(p->irq_fd, &one, sizeof(one)) > 0)
			atomic_fetch_add(&p->kicks, 1);
		free(w);
	}
}

static void *pool_cmdproc(void *arg)
{
	struct pool *p = arg;
	uint64_t v;

	for (;;) {
		struct pollfd pfd = { .fd = p->kick_fd, .events = POLLIN };

		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return NULL;
		if (read(p->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			return NULL;
		pthread_mutex_lock(&p->qlock);
		bool stop = p->stop;
		pthread_mutex_unlock(&p->qlock);
		if (stop)
			return NULL;
		for (;;) {
			struct ring_ent ent;
			const char *why;
			unsigned int cdb_len, bidi;

			pthread_mutex_lock(&p->clock);
			int r = ring_next(&p->ring, &ent, &why);
			if (r <= 0) {
				pthread_mutex_unlock(&p->clock);
				break;
			}
			struct work *w = malloc(sizeof(*w));
			uint8_t cdb[RING_MAX_CDB];
			w->cmd_id = ent.cmd_id;
			w->next = NULL;
			ring_cmd_decode(&p->ring, &ent, cdb, &cdb_len, w->iov, 8, &w->iovcnt, &bidi, &why);
			memcpy(w->cdb, cdb, 16);
			ring_consume(&p->ring, &ent);
			pthread_mutex_unlock(&p->clock);
			pthread_mutex_lock(&p->qlock);
			if (p->tail)
				p->tail->next = w;
			else
				p->head = w;
			p->tail = w;
			pthread_cond_signal(&p->qcond);
			pthread_mutex_unlock(&p->qlock);
		}
	}
}

static struct result run_pool(unsigned int qd, uint32_t bs, double secs)
{
	struct rts_sim *sim = new_sim();
	struct pool p = { .qlock = PTHREAD_MUTEX_INITIALIZER, .qcond = PTHREAD_COND_INITIALIZER,
			  .clock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t cmdproc, workers[POOL_WORKERS];
	struct lat *l = new_lat();
	struct result res;
	size_t map_size;
	void *map = rts_sim_get_map(sim, &map_size);
	const char *why;
	uint64_t one = 1;

	if (ring_attach(&p.ring, map, map_size, &why) < 0) {
		fprintf(stderr, "ring: %s\n", why);
		exit(1);
	}
	/* tcmu-runner blocks in poll() on the uio fd, then reads the event count */
	p.kick_fd = rts_sim_get_kick_fd(sim);
	p.irq_fd = rts_sim_get_irq_fd(sim);
	pthread_create(&cmdproc, NULL, pool_cmdproc, &p);
	for (int i = 0; i < POOL_WORKERS; i++)
		pthread_create(&workers[i], NULL, pool_worker, &p);
	double t0 = now();
	uint64_t done = drive(sim, qd, bs, secs, l);
	double el = now() - t0;
	finish(&res, l, done, el, atomic_load(&p.kicks));
	pthread_mutex_lock(&p.qlock);
	p.stop = true;
	pthread_cond_broadcast(&p.qcond);
	pthread_mutex_unlock(&p.qlock);
	if (write(p.kick_fd, &one, sizeof(one)) < 0)
		perror("kick");
	pthread_join(cmdproc, NULL);
	for (int i = 0; i < POOL_WORKERS; i++)
		pthread_join(workers[i], NULL);
	rts_sim_free(sim);
	free_lat(l);
	return res;
}

/* -------------------------------------------------- N devices, one process */

#define MULTI_QD 32
#define MULTI_MAX 256

struct multi_result {
	double cmds_per_s;
	double cpu_us_per_cmd; /* the runner's threads: process CPU less the driver thread's */
	double cs_per_cmd;
};

struct cost {
	double proc_cpu, self_cpu;
	long proc_cs, self_cs;
};

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void cost_sample(struct cost *c)
{
	struct rusage p, t;

	getrusage(RUSAGE_SELF, &p);
	getrusage(RUSAGE_THREAD, &t);
	c->proc_cpu = tv_s(p.ru_utime) + tv_s(p.ru_stime);
	c->self_cpu = tv_s(t.ru_utime) + tv_s(t.ru_stime);
	c->proc_cs = p.ru_nvcsw + p.ru_nivcsw;
	c->self_cs = t.ru_nvcsw + t.ru_nivcsw;
}

static void count_done(void *ud, const struct rts_sim_completion *c)
{
	(void)c;
	(*(uint64_t *)ud)++;
}

/* Keep MULTI_QD READs of 4 KiB outstanding on each of @n simulators for @secs; returns the
 * commands completed on all of them. */
static uint64_t drive_many(struct rts_sim **sims, unsigned int n, double secs)
{
	uint8_t cdb[16] = { 0x88 };
	unsigned int inflight[MULTI_MAX] = { 0 };
	struct pollfd pfd[MULTI_MAX];
	uint64_t done = 0, lba = 0;
	double t0 = now();
	bool draining = false;

	cdb[13] = 8;
	for (unsigned int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = rts_sim_get_irq_fd(sims[i]), .events = POLLIN };
	for (;;) {
		unsigned int total = 0;

		draining = draining || now() - t0 >= secs;
		for (unsigned int i = 0; i < n; i++) {
			bool queued = false;

			while (!draining && inflight[i] < MULTI_QD) {
				uint16_t id;

				cdb[9] = (uint8_t)lba;
				cdb[8] = (uint8_t)(lba >> 8);
				lba += 8;
				if (rts_sim_submit(sims[i], cdb, 16, RTS_SIM_FROM_DEV, NULL, 4096, NULL,
						   &id) < 0)
					break;
				inflight[i]++;
				queued = true;
			}
			if (queued)
				rts_sim_kick(sims[i]);
			total += inflight[i];
		}
		if (draining && !total)
			break;
		int r = poll(pfd, n, 5000);
		if (r <= 0)
			break;
		for (unsigned int i = 0; i < n; i++) {
			uint64_t got = 0;

			if (!(pfd[i].revents & POLLIN))
				continue;
			rts_sim_wait(sims[i], 0);
			if (rts_sim_reap(sims[i], count_done, &got) < 0) {
				fprintf(stderr, "simulator: %s\n", rts_sim_broken_reason(sims[i]));
				exit(1);
			}
			inflight[i] -= (unsigned int)got;
			done += got;
		}
	}
	return done;
}

static struct multi_result multi_finish(uint64_t done, double el, const struct cost *a,
					const struct cost *b)
{
	struct multi_result r = { 0 };
	double cpu = (b->proc_cpu - a->proc_cpu) - (b->self_cpu - a->self_cpu);
	long cs = (b->proc_cs - a->proc_cs) - (b->self_cs - a->self_cs);

	if (!done)
		return r;
	r.cmds_per_s = (double)done / el;
	r.cpu_us_per_cmd = cpu * 1e6 / (double)done;
	r.cs_per_cmd = (double)cs / (double)done;
	return r;
}

static struct multi_result run_ours_many(unsigned int n, double secs)
{
	struct rts_sim *sims[MULTI_MAX];
	struct rts_dev *devs[MULTI_MAX];
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "bench", .cfgstring = "null/", .queue_depth = MAX_QD,
				      .max_xfer_blocks = 65536 };
	struct cost a, b;

	for (unsigned int i = 0; i < n; i++) {
		sims[i] = new_sim();
		if (rts_dev_new_sim(&cfg, &bench_null, sims[i], &devs[i]) < 0 ||
		    rts_dev_open(devs[i], false, NULL) < 0 || rts_dev_start(devs[i]) < 0) {
			fprintf(stderr, "cannot start device %u\n", i);
			exit(1);
		}
	}
	cost_sample(&a);
	double t0 = now();
	uint64_t done = drive_many(sims, n, secs);
	double el = now() - t0;
	cost_sample(&b);
	for (unsigned int i = 0; i < n; i++) {
		rts_dev_stop(devs[i], 5000);
		rts_dev_close(devs[i]);
		rts_dev_free(devs[i]);
		rts_sim_free(sims[i]);
	}
	return multi_finish(done, el, &a, &b);
}

struct pool_dev {
	struct pool p;
	pthread_t cmdproc, workers[POOL_WORKERS];
};

static void pool_dev_start(struct pool_dev *d, struct rts_sim *sim)
{
	size_t map_size;
	void *map = rts_sim_get_map(sim, &map_size);
	const char *why;

	d->p = (struct pool){ .qlock = PTHREAD_MUTEX_INITIALIZER, .qcond = PTHREAD_COND_INITIALIZER,
			      .clock = PTHREAD_MUTEX_INITIALIZER };
	if (ring_attach(&d->p.ring, map, map_size, &why) < 0) {
		fprintf(stderr, "ring: %s\n", why);
		exit(1);
	}
	d->p.kick_fd = rts_sim_get_kick_fd(sim);
	d->p.irq_fd = rts_sim_get_irq_fd(sim);
	pthread_create(&d->cmdproc, NULL, pool_cmdproc, &d->p);
	for (int i = 0; i < POOL_WORKERS; i++)
		pthread_create(&d->workers[i], NULL, pool_worker, &d->p);
}

static void pool_dev_stop(struct pool_dev *d)
{
	uint64_t one = 1;

	pthread_mutex_lock(&d->p.qlock);
	d->p.stop = true;
	pthread_cond_broadcast(&d->p.qcond);
	pthread_mutex_unlock(&d->p.qlock);
	if (write(d->p.kick_fd, &one, sizeof(one)) < 0)
		perror("kick");
	pthread_join(d->cmdproc, NULL);
	for (int i = 0; i < POOL_WORKERS; i++)
		pthread_join(d->workers[i], NULL);
}

static struct multi_result run_pool_many(unsigned int n, double secs)
{
	struct rts_sim *sims[MULTI_MAX];
	struct pool_dev *devs = calloc(n, sizeof(*devs));
	struct cost a, b;

	if (!devs) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (unsigned int i = 0; i < n; i++) {
		sims[i] = new_sim();
		pool_dev_start(&devs[i], sims[i]);
	}
	cost_sample(&a);
	double t0 = now();
	uint64_t done = drive_many(sims, n, secs);
	double el = now() - t0;
	cost_sample(&b);
	for (unsigned int i = 0; i < n; i++) {
		pool_dev_stop(&devs[i]);
		rts_sim_free(sims[i]);
	}
	free(devs);
	return multi_finish(done, el, &a, &b);
}

static void multi_table(double secs, const unsigned int *counts, size_t ncounts)
{
	printf("N devices on one process, one simulator each, 4 KiB READ at QD %d per device, null handler\n",
	       MULTI_QD);
	printf("(%.1f s per point; one kernel-side thread drives all; runner = process less that thread;"
	       " %ld CPUs)\n\n",
	       secs, sysconf(_SC_NPROCESSORS_ONLN));
	printf("%4s | %12s %10s %8s %12s | %12s %10s %8s | %9s %9s\n", "N", "ours cmd/s", "cpu us/cmd",
	       "cs/cmd", "cmd/core-s", "pool cmd/s", "cpu us/cmd", "cs/cmd", "ours/pool", "cpu ratio");
	for (size_t i = 0; i < ncounts; i++) {
		struct multi_result a = run_ours_many(counts[i], secs);
		struct multi_result b = run_pool_many(counts[i], secs);

		printf("%4u | %12.0f %10.2f %8.3f %12.0f | %12.0f %10.2f %8.3f | %8.2fx %8.2fx\n",
		       counts[i], a.cmds_per_s, a.cpu_us_per_cmd, a.cs_per_cmd,
		       a.cpu_us_per_cmd > 0 ? 1e6 / a.cpu_us_per_cmd : 0, b.cmds_per_s,
		       b.cpu_us_per_cmd, b.cs_per_cmd, b.cmds_per_s > 0 ? a.cmds_per_s / b.cmds_per_s : 0,
		       b.cpu_us_per_cmd > 0 ? a.cpu_us_per_cmd / b.cpu_us_per_cmd : 0);
	}
	printf("(cmd/core-s: commands one core of runner CPU serves; cpu ratio: ours/pool CPU per command,"
	       " lower is better)\n");
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--devices") == 0) {
		double secs = argc > 2 ? atof(argv[2]) : 1.5;
		unsigned int counts[32] = { 1, 8, 32, 64 };
		size_t n = 4;

		if (argc > 3) {
			n = 0;
			for (int i = 3; i < argc && n < 32; i++) {
				long v = strtol(argv[i], NULL, 10);
				if (v < 1 || v > MULTI_MAX) {
					fprintf(stderr, "bench_sim: device count '%s' not in 1..%d\n", argv[i],
						MULTI_MAX);
					return 2;
				}
				counts[n++] = (unsigned int)v;
			}
		}
		multi_table(secs > 0 ? secs : 1.5, counts, n);
		return 0;
	}

	double secs = argc > 1 ? atof(argv[1]) : 1.5;
	static const unsigned int qds[] = { 1, 32, 128 };
	static const uint32_t sizes[] = { 4096, 131072 };

	printf("rts-runner device loop vs tcmu-runner-style thread pool, null handler, READ via the ring simulator\n");
	printf("(%.1f s per point; kernel side on the main thread without data copies; %ld CPUs)\n\n", secs,
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("%-7s %4s | %12s %9s %9s %8s | %12s %9s %9s %8s | %7s\n", "size", "QD", "ours cmd/s",
	       "p50 us", "p99 us", "cmd/kick", "pool cmd/s", "p50 us", "p99 us", "cmd/kick",
	       "ours/pool");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (size_t q = 0; q < sizeof(qds) / sizeof(qds[0]); q++) {
			struct result a = run_ours(qds[q], sizes[s], secs);
			struct result b = run_pool(qds[q], sizes[s], secs);
			printf("%-7s %4u | %12.0f %9.1f %9.1f %8.1f | %12.0f %9.1f %9.1f %8.1f | %6.2fx\n",
			       sizes[s] == 4096 ? "4 KiB" : "128 KiB", qds[q], a.cmds_per_s, a.p50_us,
			       a.p99_us, a.cmds_per_kick, b.cmds_per_s, b.p50_us, b.p99_us,
			       b.cmds_per_kick, a.cmds_per_s / b.cmds_per_s);
		}
	static const unsigned int counts[] = { 1, 8, 32, 64 };
	printf("\n");
	multi_table(secs, counts, sizeof(counts) / sizeof(counts[0]));
	return 0;
}
