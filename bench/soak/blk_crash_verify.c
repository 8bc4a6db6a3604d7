/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * blk_crash_verify: the crash verifier of crash_cycle, for a real block device (the TCMU LUN
 * in the test guest). It writes random 4 KiB blocks with O_DIRECT at queue depth 16 through
 * io_uring for a while, while the test kills and restarts the runner behind the device, then
 * reads back every block it wrote:
 *
 *   blk_crash_verify <device> <blocks> <seconds> <cycle> [seed]
 *
 * Every write carries (LBA, generation) in every 8-byte word (bench/soak/genlog.h); the
 * generation counts from <cycle> << 32, so data left by an earlier cycle is told apart. A
 * write that completes with success is acknowledged; one that fails (EIO after the kernel
 * gave up on a dead runner, for example) may or may not have landed. Never two writes to one
 * block are in flight. After the write phase every written block must hold its last
 * acknowledged generation, or the one whose outcome is unknown; a LOSS or TORN block is
 * printed with its LBA. The last line: "blk_crash_verify: cycle C: A acknowledged, F failed,
 * V verified (P of them writes whose outcome was unknown), L lost, T torn".
 * Exit 0 when nothing was lost or torn, 1 when something was, 2 on a usage or setup error.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "genlog.h"

#define BS GENLOG_BS
#define QD 16
#define VERIFY_TMO_S 120 /* bound on the wait for the last writes and each read batch */

struct slot {
	bool busy;
	uint32_t lba;
	uint64_t gen;
	uint8_t *buf;
};

static struct slot slots[QD];
static struct genlog glog;
static bool *inflight;
static uint64_t rng, next_gen, nacked, nfailed;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "blk_crash_verify: %s: %s\n", what, strerror(err));
	exit(2);
}

static void submit_write(struct io_uring *ring, int fd, struct slot *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	uint32_t lba;

	if (!sqe)
		die("no SQE", EBUSY);
	do
		lba = (uint32_t)(rnd() % glog.nblk);
	while (inflight[lba]);
	s->busy = true;
	s->lba = lba;
	s->gen = ++next_gen;
	inflight[lba] = true;
	genlog_fill(s->buf, lba, s->gen);
	io_uring_prep_write(sqe, fd, s->buf, BS, (uint64_t)lba * BS);
	io_uring_sqe_set_data(sqe, s);
}

/* Reap what completed within @tmo_s seconds. @return the count, 0 on timeout */
static int reap(struct io_uring *ring, double tmo_s)
{
	struct __kernel_timespec ts = { .tv_sec = (long long)tmo_s,
					.tv_nsec = (long long)((tmo_s - (long long)tmo_s) * 1e9) };
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;
	int r = io_uring_wait_cqe_timeout(ring, &cqe, &ts);

	if (r == -ETIME || r == -EINTR)
		return 0;
	if (r < 0)
		die("io_uring_wait_cqe_timeout", -r);
	io_uring_for_each_cqe(ring, head, cqe) {
		struct slot *s = io_uring_cqe_get_data(cqe);
		bool ok = cqe->res == (int)BS;

		genlog_done(&glog, s->lba, s->gen, ok);
		ok ? nacked++ : nfailed++;
		inflight[s->lba] = false;
		s->busy = false;
		n++;
	}
	io_uring_cq_advance(ring, n);
	return (int)n;
}

static unsigned int busy_slots(void)
{
	unsigned int n = 0;

	for (int i = 0; i < QD; i++)
		n += slots[i].busy;
	return n;
}

static void write_phase(struct io_uring *ring, int fd, double secs)
{
	double end = now_s() + secs, last = now_s();

	while (now_s() < end) {
		for (int i = 0; i < QD; i++)
			if (!slots[i].busy)
				submit_write(ring, fd, &slots[i]);
		if (io_uring_submit(ring) < 0)
			die("io_uring_submit", errno);
		if (reap(ring, 0.1) > 0)
			last = now_s();
		else if (now_s() - last > VERIFY_TMO_S)
			die("writes stopped completing", ETIMEDOUT);
	}
	while (busy_slots()) {
		if (reap(ring, VERIFY_TMO_S) == 0)
			die("the last writes did not complete", ETIMEDOUT);
	}
}

static void verify_phase(struct io_uring *ring, int fd, int cycle)
{
	for (uint32_t base = 0; base < glog.nblk;) {
		unsigned int n = 0;

		for (; base < glog.nblk && n < QD; base++) {
			struct io_uring_sqe *sqe;

			if (!genlog_touched(&glog, base))
				continue;
			sqe = io_uring_get_sqe(ring);
			if (!sqe)
				die("no SQE", EBUSY);
			slots[n].lba = base;
			slots[n].busy = true;
			io_uring_prep_read(sqe, fd, slots[n].buf, BS, (uint64_t)base * BS);
			io_uring_sqe_set_data(sqe, &slots[n]);
			n++;
		}
		if (!n)
			continue;
		if (io_uring_submit(ring) < 0)
			die("io_uring_submit", errno);
		for (unsigned int got = 0; got < n;) {
			struct __kernel_timespec ts = { .tv_sec = VERIFY_TMO_S };
			struct io_uring_cqe *cqe;
			struct slot *s;
			int r = io_uring_wait_cqe_timeout(ring, &cqe, &ts);

			if (r == -EINTR)
				continue;
			if (r < 0)
				die("verification read", -r);
			s = io_uring_cqe_get_data(cqe);
			if (cqe->res != (int)BS) {
				fprintf(stderr, "blk_crash_verify: read of lba %u: %s\n", s->lba,
					cqe->res < 0 ? strerror(-cqe->res) : "short");
				exit(2);
			}
			genlog_verify(&glog, s->lba, s->buf, cycle);
			s->busy = false;
			io_uring_cqe_seen(ring, cqe);
			got++;
		}
	}
}

int main(int argc, char **argv)
{
	struct io_uring ring;
	long long blocks;
	double secs;
	int fd, cycle, r;

	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: blk_crash_verify <device> <blocks> <seconds> <cycle> [seed]\n");
		return 2;
	}
	blocks = atoll(argv[2]);
	secs = atof(argv[3]);
	cycle = atoi(argv[4]);
	if (blocks < QD * 2 || blocks > (1ll << 24) || secs <= 0 || cycle < 0) {
		fprintf(stderr, "blk_crash_verify: blocks %d..%d, seconds > 0, cycle >= 0\n", QD * 2,
			1 << 24);
		return 2;
	}
	rng = argc == 6 ? strtoull(argv[5], NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
	rng |= 1;
	next_gen = (uint64_t)cycle << 32;
	glog.nblk = (uint32_t)blocks;
	glog.acked = calloc((size_t)blocks, sizeof(*glog.acked));
	glog.pending = calloc((size_t)blocks, sizeof(*glog.pending));
	inflight = calloc((size_t)blocks, sizeof(*inflight));
	if (!glog.acked || !glog.pending || !inflight)
		die("memory", ENOMEM);
	for (int i = 0; i < QD; i++)
		if (posix_memalign((void **)&slots[i].buf, BS, BS))
			die("memory", ENOMEM);
	fd = open(argv[1], O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		die(argv[1], errno);
	r = io_uring_queue_init(QD * 2, &ring, 0);
	if (r < 0)
		die("io_uring_queue_init", -r);
	write_phase(&ring, fd, secs);
	verify_phase(&ring, fd, cycle);
	printf("blk_crash_verify: cycle %d: %llu acknowledged, %llu failed, %llu verified (%llu of "
	       "them writes whose outcome was unknown), %llu lost, %llu torn\n",
	       cycle, (unsigned long long)nacked, (unsigned long long)nfailed,
	       (unsigned long long)glog.verified, (unsigned long long)glog.landed_pending,
	       (unsigned long long)glog.loss, (unsigned long long)glog.torn);
	io_uring_queue_exit(&ring);
	close(fd);
	return glog.loss || glog.torn ? 1 : 0;
}
