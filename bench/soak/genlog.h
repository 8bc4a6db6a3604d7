/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The crash verifiers' write log (crash_cycle on the simulator, blk_crash_verify on a real
 * block device). Every 4 KiB block written carries what was written where: word 0 is
 * (LBA << 40 | generation), every other word a hash of (LBA, generation, word index). The log
 * keeps, per block, the generation of the last acknowledged write and the generation of a
 * write whose outcome is unknown (in flight at a kill, or failed: it may or may not have
 * landed). Writers never keep two writes to one block in flight, so the order is known.
 * A block read back must hold the acknowledged generation or the unknown one; anything else
 * is named: LOSS (an older generation, another block's data, or zeros) or TORN (words of
 * different writes in one block).
 */
#ifndef RTS_BENCH_GENLOG_H
#define RTS_BENCH_GENLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define GENLOG_BS 4096u

struct genlog {
	uint32_t nblk;
	uint64_t *acked;   /* generation of the last acknowledged write (0: none) */
	uint64_t *pending; /* generation whose outcome is unknown (0: none) */
	uint64_t verified, landed_pending, loss, torn;
};

static inline uint64_t genlog_word(uint32_t lba, uint64_t gen, unsigned int i)
{
	return (gen << 24 | lba) * 0x9e3779b97f4a7c15ull ^ i;
}

/* The contents of generation @gen of block @lba. */
static inline void genlog_fill(uint8_t *b, uint32_t lba, uint64_t gen)
{
	uint64_t *w = (uint64_t *)(void *)b;

	w[0] = (uint64_t)lba << 40 | gen; /* header: what was written where */
	for (unsigned int i = 1; i < GENLOG_BS / 8; i++)
		w[i] = genlog_word(lba, gen, i);
}

/* A write completed: acknowledged (@ok) or failed (its outcome unknown). */
static inline void genlog_done(struct genlog *g, uint32_t lba, uint64_t gen, bool ok)
{
	if (ok) {
		g->acked[lba] = gen;
		g->pending[lba] = 0;
	} else {
		g->pending[lba] = gen;
	}
}

/* Whether block @lba was written at all (acknowledged or not): worth reading back. */
static inline bool genlog_touched(const struct genlog *g, uint32_t lba)
{
	return g->acked[lba] || g->pending[lba];
}

/* Check block @lba as read back; prints and counts a finding. @return 0 or -1 */
static inline int genlog_verify(struct genlog *g, uint32_t lba, const uint8_t *b, int cycle)
{
	const uint64_t *w = (const uint64_t *)(const void *)b;
	uint64_t gen = w[0] & ((1ull << 40) - 1), want = g->acked[lba];
	bool zero = w[0] == 0;

	if (!zero && (w[0] >> 40) != lba) {
		printf("LOSS cycle %d lba %u: holds the data of lba %llu\n", cycle, lba,
		       (unsigned long long)(w[0] >> 40));
		g->loss++;
		return -1;
	}
	if (!zero)
		for (unsigned int i = 1; i < GENLOG_BS / 8; i++)
			if (w[i] != genlog_word(lba, gen, i)) {
				printf("TORN cycle %d lba %u: generation %llu header, word %u differs\n",
				       cycle, lba, (unsigned long long)gen, i);
				g->torn++;
				return -1;
			}
	if (gen == want) {
		g->verified++;
	} else if (g->pending[lba] && gen == g->pending[lba]) {
		g->verified++;
		g->landed_pending++;
		g->acked[lba] = gen; /* landed: it is the durable state now */
	} else {
		printf("LOSS cycle %d lba %u: acknowledged generation %llu, found %llu%s\n", cycle,
		       lba, (unsigned long long)want, (unsigned long long)gen,
		       g->pending[lba] ? " (nor the one whose outcome was unknown)" : "");
		g->loss++;
		return -1;
	}
	g->pending[lba] = 0;
	return 0;
}

#endif
