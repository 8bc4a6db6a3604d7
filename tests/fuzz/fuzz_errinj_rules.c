/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * errinj cfgstrings (handlers/errinj/rules.c): "<rules>/<inner subtype>/<inner cfgstring>"
 * comes from whoever writes configfs or saveconfig.json. The input is a cfgstring; it is split
 * and its rules parsed, then accepted rules are matched against operations taken from the
 * input. Invariants (abort on violation): a refusal always has a reason; accepted rules are
 * at most EI_MAX_RULES, each with a known fault, ops within EI_OP_ANY, an ordered LBA range,
 * ms only and always on latency, a probability of at most 1; a match never fires a rule
 * past its count.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct ei_rules *rs)
{
	if (rs->n > EI_MAX_RULES)
		abort();
	for (unsigned int i = 0; i < rs->n; i++) {
		const struct ei_rule *r = &rs->r[i];

		if ((unsigned int)r->fault > EI_HANG || !r->ops || (r->ops & ~(uint32_t)EI_OP_ANY) ||
		    (r->has_lba && r->lba_first > r->lba_last) || r->prob_ppm > 1000000 ||
		    ((r->fault == EI_LATENCY) != (r->ms != 0) && r->fault == EI_LATENCY) ||
		    (r->ms && r->fault != EI_LATENCY) || (r->blocks && r->fault != EI_SHORT))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cfg = malloc(size + 1), *why = NULL;
	const char *sub, *inner;
	size_t rl, sl;
	struct ei_rules rs;
	uint64_t rng = 0x2545f4914f6cdd1dull;

	if (!cfg)
		return 0;
	memcpy(cfg, data, size);
	cfg[size] = '\0';
	if (ei_split_cfg(cfg, &rl, &sub, &sl, &inner, &why) < 0) {
		if (!why)
			abort();
		goto out;
	}
	if (rl > strlen(cfg) || sub + sl > cfg + strlen(cfg) || inner < sub + sl)
		abort();
	if (ei_parse_rules(cfg, rl, &rs, &why) < 0) {
		if (!why)
			abort();
		goto out;
	}
	check(&rs);
	/* operations drawn from the input bytes */
	for (size_t i = 0; i + 3 <= size && i < 3 * 64; i += 3) {
		uint32_t op = 1u << (data[i] % 4);
		uint64_t lba = (uint64_t)data[i + 1] * 0x0101010101010101ull;
		struct ei_rule *r = ei_match(&rs, op, lba, data[i + 2], &rng);

		if (r && ((r->count && r->fired > r->count) || !(r->ops & op)))
			abort();
	}
out:
	free(why);
	free(cfg);
	return 0;
}
