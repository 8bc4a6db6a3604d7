/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-device I/O statistics: command and byte counters by direction and a fixed log-linear
 * latency histogram, written by the device thread alone and read from any thread.
 *
 * Single writer: every update is a relaxed load and store of the writer's own counter, no
 * read-modify-write and no lock, so the fast path pays a few plain stores per command.
 * Readers take relaxed loads; a snapshot may mix counters from two neighbouring commands,
 * which statistics tolerate.
 *
 * Buckets: values below 8 ns have one bucket each; above, each power of two is split into 8
 * equal buckets, so a bucket's upper bound is within 12.5 % of any value in it. 62 groups of
 * 8 cover all of uint64_t in IOSTAT_BUCKETS counters (4 KiB a device).
 */
#ifndef RTS_TCMU_IOSTAT_H
#define RTS_TCMU_IOSTAT_H

#include <stdatomic.h>
#include <stdint.h>

#define IOSTAT_SUB_BITS 3
#define IOSTAT_SUB (1u << IOSTAT_SUB_BITS)
#define IOSTAT_BUCKETS (62u * IOSTAT_SUB)

enum iostat_dir { IOSTAT_READ, IOSTAT_WRITE, IOSTAT_OTHER };

struct iostat {
	_Atomic uint64_t cmds[3];  /* by enum iostat_dir */
	_Atomic uint64_t bytes[3]; /* data transferred by enum iostat_dir */
	_Atomic uint64_t lat_count;
	_Atomic uint64_t lat_max_ns;
	_Atomic uint64_t bucket[IOSTAT_BUCKETS];
};

static inline unsigned int iostat_bucket(uint64_t ns)
{
	unsigned int msb;

	if (ns < IOSTAT_SUB)
		return (unsigned int)ns;
	msb = 63u - (unsigned int)__builtin_clzll(ns);
	return (msb - IOSTAT_SUB_BITS + 1) * IOSTAT_SUB +
	       (unsigned int)((ns >> (msb - IOSTAT_SUB_BITS)) & (IOSTAT_SUB - 1));
}

/* The largest value that falls into bucket @b. */
static inline uint64_t iostat_bucket_max(unsigned int b)
{
	unsigned int group = b / IOSTAT_SUB, sub = b % IOSTAT_SUB, shift;

	if (group == 0)
		return sub;
	shift = group - 1;
	if (group == 61 && sub == IOSTAT_SUB - 1)
		return UINT64_MAX;
	return (((uint64_t)(IOSTAT_SUB + sub + 1)) << shift) - 1;
}

/* Writer side (the device thread only). */
static inline void iostat_bump(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

static inline void iostat_record(struct iostat *s, enum iostat_dir dir, uint64_t bytes,
				 uint64_t lat_ns)
{
	iostat_bump(&s->cmds[dir], 1);
	iostat_bump(&s->bytes[dir], bytes);
	iostat_bump(&s->bucket[iostat_bucket(lat_ns)], 1);
	iostat_bump(&s->lat_count, 1);
	if (lat_ns > atomic_load_explicit(&s->lat_max_ns, memory_order_relaxed))
		atomic_store_explicit(&s->lat_max_ns, lat_ns, memory_order_relaxed);
}

/*
 * The upper bound of the bucket that holds the @permille-th value (500 = median, 999 =
 * p99.9) of @count values in @hist; 0 when empty.
 */
static inline uint64_t iostat_percentile(const uint64_t *hist, uint64_t count,
					 unsigned int permille)
{
	uint64_t want, seen = 0;

	if (!count)
		return 0;
	want = (count * permille + 999) / 1000;
	if (!want)
		want = 1;
	for (unsigned int b = 0; b < IOSTAT_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= want)
			return iostat_bucket_max(b);
	}
	return iostat_bucket_max(IOSTAT_BUCKETS - 1);
}

#endif
