/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tcmu/iostat.h: the log-linear latency histogram's buckets and percentiles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iostat.h"

/* Every value lands in a bucket whose bound is at or above it and at most 12.5 % above. */
static void test_bucket_bounds(void **state)
{
	uint64_t v = 0;

	(void)state;
	for (unsigned int i = 0; i < 200000; i++) {
		unsigned int b = iostat_bucket(v);
		uint64_t max = iostat_bucket_max(b);

		assert_true(b < IOSTAT_BUCKETS);
		assert_true(max >= v);
		assert_true(max - v <= v / 8);
		if (b > 0)
			assert_true(iostat_bucket_max(b - 1) < v);
		v = v < 4096 ? v + 1 : v + v / 997 + 1;
	}
	assert_int_equal(iostat_bucket(UINT64_MAX), IOSTAT_BUCKETS - 1);
	assert_true(iostat_bucket_max(IOSTAT_BUCKETS - 1) == UINT64_MAX);
	assert_int_equal(iostat_bucket(7), 7);
	assert_int_equal(iostat_bucket(8), 8);
	assert_int_equal(iostat_bucket(16), 16);
	assert_int_equal(iostat_bucket_max(16), 17);
}

/* Bucket bounds rise strictly: the histogram is ordered. */
static void test_bucket_order(void **state)
{
	(void)state;
	for (unsigned int b = 1; b < IOSTAT_BUCKETS; b++)
		assert_true(iostat_bucket_max(b) > iostat_bucket_max(b - 1));
}

static void test_percentiles(void **state)
{
	static uint64_t h[IOSTAT_BUCKETS];
	struct iostat s;

	(void)state;
	memset(&s, 0, sizeof(s));
	/* 1000 commands: 989 at 10 us, 10 at 1 ms, 1 at 50 ms */
	for (int i = 0; i < 989; i++)
		iostat_record(&s, IOSTAT_READ, 4096, 10000);
	for (int i = 0; i < 10; i++)
		iostat_record(&s, IOSTAT_WRITE, 512, 1000000);
	iostat_record(&s, IOSTAT_OTHER, 0, 50000000);
	for (unsigned int b = 0; b < IOSTAT_BUCKETS; b++)
		h[b] = atomic_load(&s.bucket[b]);
	assert_int_equal(atomic_load(&s.lat_count), 1000);
	assert_int_equal(atomic_load(&s.cmds[IOSTAT_READ]), 989);
	assert_int_equal(atomic_load(&s.bytes[IOSTAT_READ]), 989 * 4096);
	assert_int_equal(atomic_load(&s.bytes[IOSTAT_WRITE]), 5120);
	assert_int_equal(atomic_load(&s.lat_max_ns), 50000000);
	assert_int_equal(iostat_percentile(h, 1000, 500), iostat_bucket_max(iostat_bucket(10000)));
	assert_int_equal(iostat_percentile(h, 1000, 990),
			 iostat_bucket_max(iostat_bucket(1000000)));
	assert_int_equal(iostat_percentile(h, 1000, 999),
			 iostat_bucket_max(iostat_bucket(1000000)));
	assert_int_equal(iostat_percentile(h, 1000, 1000),
			 iostat_bucket_max(iostat_bucket(50000000)));
	assert_int_equal(iostat_percentile(h, 0, 500), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_bounds),
		cmocka_unit_test(test_bucket_order),
		cmocka_unit_test(test_percentiles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
