/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The load generator bench_file and bench_qcow2 share: READ(16)/WRITE(16) of one size at a
 * fixed queue depth, random (xorshift) or sequential, through the ring simulator into a
 * device that is open but not yet started.
 */
#ifndef RTS_BENCH_SIM_DRIVE_H
#define RTS_BENCH_SIM_DRIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rts/device.h>

#define BENCH_TIMEOUT_MS 10000
#define BENCH_BS	 512u

struct bench_io {
	bool write;
	bool random;
	uint32_t bs;
	uint32_t qd;
};

static inline double bench_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void bench_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A 16-byte CDB with a 64-bit LBA at 2 and a 32-bit length at 10 (READ/WRITE/WRITE SAME). */
static inline void bench_rw16(uint8_t *cdb, uint8_t op, uint64_t lba, uint32_t blocks)
{
	memset(cdb, 0, 16);
	cdb[0] = op;
	bench_put_be32(cdb + 2, (uint32_t)(lba >> 32));
	bench_put_be32(cdb + 6, (uint32_t)lba);
	bench_put_be32(cdb + 10, blocks);
}

/* rts_sim_reap() callback: counts completions with a non-GOOD status in *(unsigned *)ud. */
static inline void bench_count_errors(void *ud, const struct rts_sim_completion *c)
{
	if (c->status)
		(*(unsigned int *)ud)++;
}

/*
 * Fault in the data area (steady state: a device that has served for a while has it
 * populated; otherwise the simulator's next-fit allocator walks not-yet-faulted memfd pages
 * and O_DIRECT pays a page fault and an io-wq punt per I/O), start @dev, keep @io->qd
 * commands in flight over @size bytes for @secs seconds, then drain. The device is left
 * running (the caller may read its stats, then stops it). Returns commands per second, 0
 * when nothing completed, or -1 when the device did not start.
 */
static inline double bench_drive(struct rts_sim *sim, uint32_t cmdr_size, struct rts_dev *dev,
				 const struct bench_io *io, uint64_t size, double secs,
				 unsigned int *errors)
{
	uint64_t nblk = size / io->bs, x = 88172645463325252ull, seq = 0, done = 0;
	size_t msize, doff = ((size_t)128 + cmdr_size + 4095) / 4096 * 4096;
	uint8_t *map = rts_sim_get_map(sim, &msize);
	uint8_t *bufs = aligned_alloc(4096, (size_t)io->qd * io->bs);
	uint32_t inflight = 0;
	double t0, t = 0;
	int r;

	if (!bufs)
		return 0;
	memset(bufs, 0x5a, (size_t)io->qd * io->bs);
	memset(map + doff, 0, msize - doff);
	if (rts_dev_start(dev) < 0) {
		free(bufs);
		return -1;
	}
	t0 = bench_now_s();
	do {
		while (inflight < io->qd) {
			uint8_t cdb[16];
			uint64_t blk;

			if (io->random) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				blk = x % nblk;
			} else {
				blk = seq++ % nblk;
			}
			bench_rw16(cdb, io->write ? 0x8a : 0x88, blk * (io->bs / BENCH_BS),
				   io->bs / BENCH_BS);
			r = rts_sim_submit(sim, cdb, 16,
					   io->write ? RTS_SIM_TO_DEV : RTS_SIM_FROM_DEV,
					   bufs + (size_t)(done + inflight) % io->qd * io->bs, io->bs,
					   NULL, NULL);
			if (r < 0)
				break;
			inflight++;
		}
		rts_sim_kick(sim);
		if (rts_sim_wait(sim, BENCH_TIMEOUT_MS) <= 0)
			break;
		r = rts_sim_reap(sim, bench_count_errors, errors);
		if (r < 0)
			break;
		inflight -= (uint32_t)r;
		done += (uint64_t)r;
		t = bench_now_s();
	} while (t - t0 < secs);
	while (inflight > 0 && rts_sim_wait(sim, BENCH_TIMEOUT_MS) > 0) {
		r = rts_sim_reap(sim, bench_count_errors, errors);
		if (r < 0)
			break;
		inflight -= (uint32_t)r;
	}
	free(bufs);
	return t > t0 ? (double)done / (t - t0) : 0;
}

#endif
