/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/soak/genlog.h: what the crash verifiers accept and what they name as lost or torn. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "genlog.h"

#define NBLK 8

static uint64_t acked[NBLK], pending[NBLK];
static uint8_t blk[GENLOG_BS];

static struct genlog fresh(void)
{
	memset(acked, 0, sizeof(acked));
	memset(pending, 0, sizeof(pending));
	return (struct genlog){ .nblk = NBLK, .acked = acked, .pending = pending };
}

static void test_acknowledged_reads_back(void **state)
{
	struct genlog g = fresh();

	(void)state;
	genlog_done(&g, 3, 7, true);
	assert_true(genlog_touched(&g, 3));
	assert_false(genlog_touched(&g, 4));
	genlog_fill(blk, 3, 7);
	assert_int_equal(genlog_verify(&g, 3, blk, 1), 0);
	assert_int_equal(g.verified, 1);
	assert_int_equal(g.loss + g.torn, 0);
}

static void test_older_generation_or_zeros_is_loss(void **state)
{
	struct genlog g = fresh();

	(void)state;
	genlog_done(&g, 2, 5, true);
	genlog_done(&g, 2, 9, true); /* a later write acknowledged ... */
	genlog_fill(blk, 2, 5);       /* ... but the block holds the earlier one */
	assert_int_equal(genlog_verify(&g, 2, blk, 1), -1);
	assert_int_equal(g.loss, 1);
	memset(blk, 0, sizeof(blk)); /* never landed at all */
	assert_int_equal(genlog_verify(&g, 2, blk, 1), -1);
	assert_int_equal(g.loss, 2);
	genlog_fill(blk, 6, 9); /* another block's data */
	assert_int_equal(genlog_verify(&g, 2, blk, 1), -1);
	assert_int_equal(g.loss, 3);
}

static void test_unknown_outcome_either_way(void **state)
{
	struct genlog g = fresh();

	(void)state;
	genlog_done(&g, 1, 4, true);
	genlog_done(&g, 1, 8, false); /* failed or in flight at the kill */
	genlog_fill(blk, 1, 4);       /* did not land */
	assert_int_equal(genlog_verify(&g, 1, blk, 1), 0);
	genlog_done(&g, 1, 8, false);
	genlog_fill(blk, 1, 8); /* landed: now the durable state */
	assert_int_equal(genlog_verify(&g, 1, blk, 1), 0);
	assert_int_equal(g.landed_pending, 1);
	assert_int_equal(acked[1], 8);
	assert_int_equal(pending[1], 0);
}

static void test_torn_block(void **state)
{
	struct genlog g = fresh();
	uint8_t other[GENLOG_BS];

	(void)state;
	genlog_done(&g, 0, 3, true);
	genlog_fill(blk, 0, 3);
	genlog_fill(other, 0, 4);
	memcpy(blk + GENLOG_BS / 2, other + GENLOG_BS / 2, GENLOG_BS / 2); /* half of each */
	assert_int_equal(genlog_verify(&g, 0, blk, 1), -1);
	assert_int_equal(g.torn, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acknowledged_reads_back),
		cmocka_unit_test(test_older_generation_or_zeros_is_loss),
		cmocka_unit_test(test_unknown_outcome_either_way),
		cmocka_unit_test(test_torn_block),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
