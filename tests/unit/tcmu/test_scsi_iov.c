/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iovec helpers (tcmu/scsi/iov.c) over scattered buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "t_scsi.h"

static void fill_pattern(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
}

static void test_length(void **state)
{
	uint8_t buf[100];
	struct iovec iov[T_MAX_IOV];

	(void)state;
	for (size_t n = 1; n <= T_MAX_IOV; n++) {
		size_t cnt = t_iov_split(buf, sizeof(buf), n, iov);

		assert_int_equal(cnt, n);
		assert_int_equal(scsi_iov_length(iov, cnt), sizeof(buf));
	}
	assert_int_equal(scsi_iov_length(NULL, 0), 0);

	/* Saturates instead of wrapping. */
	struct iovec big[2] = { { buf, SIZE_MAX - 1 }, { buf, 10 } };

	assert_true(scsi_iov_length(big, 2) == SIZE_MAX);
}

/* Copy to and back from every split and offset; bytes outside the window stay put. */
static void test_copy_roundtrip(void **state)
{
	uint8_t src[64], buf[80], back[64];
	struct iovec iov[T_MAX_IOV];

	(void)state;
	fill_pattern(src, sizeof(src));
	for (size_t n = 1; n <= T_MAX_IOV; n++) {
		for (size_t off = 0; off <= sizeof(buf); off += 5) {
			size_t cnt = t_iov_split(buf, sizeof(buf), n, iov);
			size_t want = sizeof(buf) - off < sizeof(src) ? sizeof(buf) - off :
									sizeof(src);

			memset(buf, 0xee, sizeof(buf));
			assert_int_equal(scsi_iov_copy_to(iov, cnt, off, src, sizeof(src)), want);
			assert_memory_equal(buf + off, src, want);
			for (size_t i = 0; i < off; i++)
				assert_int_equal(buf[i], 0xee);
			for (size_t i = off + want; i < sizeof(buf); i++)
				assert_int_equal(buf[i], 0xee);

			memset(back, 0, sizeof(back));
			assert_int_equal(scsi_iov_copy_from(iov, cnt, off, back, sizeof(back)),
					 want);
			assert_memory_equal(back, src, want);
		}
	}
}

static void test_offset_past_end(void **state)
{
	uint8_t buf[16], tmp[4] = { 1, 2, 3, 4 };
	struct iovec iov[T_MAX_IOV];
	size_t cnt;

	(void)state;
	cnt = t_iov_split(buf, sizeof(buf), 5, iov);
	assert_int_equal(scsi_iov_copy_to(iov, cnt, 16, tmp, sizeof(tmp)), 0);
	assert_int_equal(scsi_iov_copy_to(iov, cnt, 1000, tmp, sizeof(tmp)), 0);
	assert_int_equal(scsi_iov_copy_from(iov, cnt, 17, tmp, sizeof(tmp)), 0);
	assert_int_equal(scsi_iov_copy_to(iov, cnt, 14, tmp, sizeof(tmp)), 2);
	assert_int_equal(buf[14], 1);
	assert_int_equal(buf[15], 2);
}

static void test_zero_length_iovecs(void **state)
{
	uint8_t a[3], b[5];
	uint8_t src[8] = { 10, 11, 12, 13, 14, 15, 16, 17 }, dst[8] = { 0 };
	struct iovec iov[] = {
		{ NULL, 0 }, { a, sizeof(a) }, { NULL, 0 },
		{ NULL, 0 }, { b, sizeof(b) }, { NULL, 0 },
	};

	(void)state;
	assert_int_equal(scsi_iov_length(iov, 6), 8);
	assert_int_equal(scsi_iov_copy_to(iov, 6, 0, src, sizeof(src)), 8);
	assert_memory_equal(a, src, 3);
	assert_memory_equal(b, src + 3, 5);
	/* Offset landing exactly on a boundary between a and b. */
	assert_int_equal(scsi_iov_copy_from(iov, 6, 3, dst, sizeof(dst)), 5);
	assert_memory_equal(dst, src + 3, 5);
	/* Empty sets and empty copies. */
	assert_int_equal(scsi_iov_copy_to(iov, 0, 0, src, sizeof(src)), 0);
	assert_int_equal(scsi_iov_copy_to(NULL, 0, 0, src, sizeof(src)), 0);
	assert_int_equal(scsi_iov_copy_from(iov, 6, 0, dst, 0), 0);
	struct iovec empty[] = { { NULL, 0 }, { NULL, 0 } };

	assert_int_equal(scsi_iov_copy_to(empty, 2, 0, src, sizeof(src)), 0);
}

static void test_partial_length(void **state)
{
	uint8_t buf[32] = { 0 }, src[32];
	struct iovec iov[T_MAX_IOV];
	size_t cnt = t_iov_split(buf, sizeof(buf), 7, iov);

	(void)state;
	fill_pattern(src, sizeof(src));
	/* Copy only 5 bytes at offset 3: nothing else changes. */
	assert_int_equal(scsi_iov_copy_to(iov, cnt, 3, src, 5), 5);
	assert_memory_equal(buf + 3, src, 5);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[8], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length),		cmocka_unit_test(test_copy_roundtrip),
		cmocka_unit_test(test_offset_past_end), cmocka_unit_test(test_zero_length_iovecs),
		cmocka_unit_test(test_partial_length),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
