/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault rules of the errinj handler: the parser of the "<rules>" part of
 * "errinj/<rules>/<inner subtype>/<inner cfgstring>" and the matcher run per operation.
 * Pure code (no librts-tcmu), so the fuzz target builds it alone. Grammar: README.md.
 */
#ifndef RTS_ERRINJ_RULES_H
#define RTS_ERRINJ_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EI_MAX_RULES 16
#define EI_MAX_SUBTYPE 32

enum ei_fault {
	EI_EIO,     /* -EIO: MEDIUM ERROR (read 11/00, write 0C/00) */
	EI_ENOSPC,  /* -ENOSPC: DATA PROTECT 27/07 */
	EI_EROFS,   /* -EROFS: DATA PROTECT 27/00 */
	EI_EBUSY,   /* -EBUSY: BUSY status */
	EI_ENOMEM,  /* -ENOMEM: TASK SET FULL status */
	EI_SHORT,   /* the first blocks only, then MEDIUM ERROR */
	EI_LATENCY, /* delay by ms, then pass on */
	EI_HANG,    /* never completes (until a TMR abort or the device stops) */
};

enum ei_op {
	EI_OP_READ = 1u << 0,
	EI_OP_WRITE = 1u << 1, /* also emulated WRITE SAME chunks */
	EI_OP_FLUSH = 1u << 2,
	EI_OP_UNMAP = 1u << 3,
	EI_OP_ANY = 0xf,
};

struct ei_rule {
	enum ei_fault fault;
	uint32_t ops;          /* EI_OP_* the rule applies to */
	bool has_lba;
	uint64_t lba_first, lba_last; /* inclusive */
	uint32_t every;        /* fire on every Nth match (0: every match) */
	uint32_t prob_ppm;     /* probability in parts per million (1000000: always) */
	uint32_t count;        /* fire at most this often (0: no limit) */
	uint32_t ms;           /* latency */
	uint32_t blocks;       /* short: blocks transferred (0: half the command) */
	/* state */
	uint64_t seen, fired;
};

struct ei_rules {
	unsigned int n;
	struct ei_rule r[EI_MAX_RULES];
};

/*
 * Parse @len bytes of @s ("none" or rules separated by ';'). Returns 0, or -EINVAL with a
 * malloc'd reason (when @reason is not NULL) naming the rule and the field.
 */
int ei_parse_rules(const char *s, size_t len, struct ei_rules *out, char **reason);

/*
 * Split "<rules>/<inner subtype>/<inner cfgstring>": rules are [cfg, cfg + *rules_len),
 * the subtype [*sub, *sub + *sub_len) (lower-case letters, digits, '_', at most
 * EI_MAX_SUBTYPE, not "errinj"), the inner cfgstring *inner (may be empty).
 * Returns 0 or -EINVAL with a reason.
 */
int ei_split_cfg(const char *cfg, size_t *rules_len, const char **sub, size_t *sub_len,
		 const char **inner, char **reason);

/*
 * The first rule that applies to an operation @op over [lba, lba + nblocks) (nblocks 0: no
 * range, e.g. a flush: only rules without lba= apply) and fires (every/prob/count), or NULL.
 * Updates the rules' counters; @rng is a xorshift64 state (never 0).
 */
struct ei_rule *ei_match(struct ei_rules *rs, uint32_t op, uint64_t lba, uint64_t nblocks,
			 uint64_t *rng);

/* "eio", "latency", ... */
const char *ei_fault_name(enum ei_fault f);

#endif
