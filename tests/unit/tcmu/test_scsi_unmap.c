/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UNMAP parameter list parser (tcmu/scsi/unmap.c), well-formed and malformed lists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "t_scsi.h"

#define MAX_DESCS 8

struct list {
	uint8_t buf[8 + 16 * 12];
	size_t len;
};

/* Start a list with correct header lengths; descriptors are appended by add(). */
static void list_init(struct list *l)
{
	memset(l, 0, sizeof(*l));
	l->len = 8;
	scsi_put_be16(&l->buf[0], 6);
}

static void add(struct list *l, uint64_t lba, uint32_t nr)
{
	scsi_put_be64(&l->buf[l->len], lba);
	scsi_put_be32(&l->buf[l->len + 8], nr);
	l->len += 16;
	scsi_put_be16(&l->buf[0], (uint16_t)(l->len - 2));
	scsi_put_be16(&l->buf[2], (uint16_t)(l->len - 8));
}

static int parse(const struct scsi_dev_info *di, struct list *l, uint32_t len, size_t chunks,
		 struct scsi_unmap_desc *d, size_t max, struct scsi_result *res)
{
	struct iovec iov[T_MAX_IOV];
	size_t n = t_iov_split(l->buf, l->len, chunks, iov);
	int r = scsi_unmap_parse(di, iov, n, len, d, max, res);

	if (r >= 0)
		t_assert_good(res);
	else
		assert_int_equal(r, -EINVAL);
	return r;
}

static void test_valid(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	struct scsi_unmap_desc d[MAX_DESCS];
	struct list l;

	(void)state;
	t_dev_info(&di);
	list_init(&l);
	add(&l, 0, 8);
	add(&l, 100, 0); /* zero blocks: a no-op, not an error */
	add(&l, T_NUM_LBAS - 16, 16);
	for (size_t chunks = 1; chunks <= T_MAX_IOV; chunks++) {
		memset(d, 0, sizeof(d));
		assert_int_equal(parse(&di, &l, (uint32_t)l.len, chunks, d, MAX_DESCS, &res), 3);
		assert_int_equal(d[0].lba, 0);
		assert_int_equal(d[0].nr_blocks, 8);
		assert_int_equal(d[1].lba, 100);
		assert_int_equal(d[1].nr_blocks, 0);
		assert_int_equal(d[2].lba, T_NUM_LBAS - 16);
		assert_int_equal(d[2].nr_blocks, 16);
	}
	/* Header only, and an empty list. */
	list_init(&l);
	assert_int_equal(parse(&di, &l, 8, 2, d, MAX_DESCS, &res), 0);
	assert_int_equal(parse(&di, &l, 0, 2, d, MAX_DESCS, &res), 0);
	/* Parameter list length larger than the lists' own lengths (padding) is fine. */
	list_init(&l);
	add(&l, 1, 1);
	l.len += 8;
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 3, d, MAX_DESCS, &res), 1);
}

static void test_length_errors(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	struct scsi_unmap_desc d[MAX_DESCS];
	struct list l;

	(void)state;
	t_dev_info(&di);
	list_init(&l);
	add(&l, 0, 8);
	/* Parameter list length shorter than a header. */
	for (uint32_t len = 1; len < 8; len++) {
		assert_int_equal(parse(&di, &l, len, 1, d, MAX_DESCS, &res), -EINVAL);
		t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST,
				     SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	}
	/* Descriptor cut off by the parameter list length. */
	assert_int_equal(parse(&di, &l, 20, 2, d, MAX_DESCS, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* CDB claims more than the data-out buffer holds. */
	assert_int_equal(parse(&di, &l, (uint32_t)l.len + 16, 2, d, MAX_DESCS, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* UNMAP DATA LENGTH beyond the transferred data. */
	scsi_put_be16(&l.buf[0], 100);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 2, d, MAX_DESCS, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* BLOCK DESCRIPTOR DATA LENGTH beyond the transferred data. */
	scsi_put_be16(&l.buf[0], 22);
	scsi_put_be16(&l.buf[2], 32);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 2, d, MAX_DESCS, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
}

static void test_header_fields(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	struct scsi_unmap_desc d[MAX_DESCS];
	struct list l;

	(void)state;
	t_dev_info(&di);
	list_init(&l);
	add(&l, 0, 8);
	add(&l, 8, 8);
	/* Block descriptor data length not a multiple of 16. */
	scsi_put_be16(&l.buf[2], 24);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 1, d, MAX_DESCS, &res), -EINVAL);
	t_assert_invalid_param(&res, 2, -1);
	/* UNMAP DATA LENGTH inconsistent with the descriptor length. */
	scsi_put_be16(&l.buf[2], 32);
	scsi_put_be16(&l.buf[0], 20);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 1, d, MAX_DESCS, &res), -EINVAL);
	t_assert_invalid_param(&res, 0, -1);
	/* Fixed again. */
	scsi_put_be16(&l.buf[0], 38);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 1, d, MAX_DESCS, &res), 2);
}

static void test_descriptor_counts(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	struct scsi_unmap_desc d[MAX_DESCS];
	struct list l;

	(void)state;
	t_dev_info(&di);
	list_init(&l);
	for (int i = 0; i < 5; i++)
		add(&l, (uint64_t)i * 10, 1);
	/* 5 > MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT (4). */
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 4, d, MAX_DESCS, &res), -EINVAL);
	t_assert_invalid_param(&res, 2, -1);
	/* No device limit: the caller's array bounds it. */
	di.max_unmap_descs = 0;
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 4, d, MAX_DESCS, &res), 5);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 4, d, 4, &res), -EINVAL);
	t_assert_invalid_param(&res, 2, -1);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 4, NULL, 0, &res), -EINVAL);
	t_assert_invalid_param(&res, 2, -1);
}

static void test_ranges(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	struct scsi_unmap_desc d[MAX_DESCS];
	struct list l;

	(void)state;
	t_dev_info(&di);
	/* One past the end. */
	list_init(&l);
	add(&l, 0, 1);
	add(&l, T_NUM_LBAS - 15, 16);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 3, d, MAX_DESCS, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	/* lba + count overflowing 64 bits. */
	list_init(&l);
	add(&l, UINT64_MAX - 1, 4);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 3, d, MAX_DESCS, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	/* Zero blocks past the end is still out of range. */
	list_init(&l);
	add(&l, T_NUM_LBAS + 1, 0);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 3, d, MAX_DESCS, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
}

static void test_max_unmap_blocks(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	struct scsi_unmap_desc d[MAX_DESCS];
	struct list l;

	(void)state;
	t_dev_info(&di);
	/* A single descriptor above MAXIMUM UNMAP LBA COUNT (1024). */
	list_init(&l);
	add(&l, 0, 1025);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 2, d, MAX_DESCS, &res), -EINVAL);
	t_assert_invalid_param(&res, 16, -1);
	/* Exactly the limit, split over descriptors. */
	list_init(&l);
	add(&l, 0, 1000);
	add(&l, 1024, 24);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 2, d, MAX_DESCS, &res), 2);
	/* The whole list counts: the second descriptor tips it over. */
	list_init(&l);
	add(&l, 0, 1000);
	add(&l, 1024, 25);
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 2, d, MAX_DESCS, &res), -EINVAL);
	t_assert_invalid_param(&res, 8 + 16 + 8, -1);
	/* No limit configured. */
	di.max_unmap_blocks = 0;
	assert_int_equal(parse(&di, &l, (uint32_t)l.len, 2, d, MAX_DESCS, &res), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),	      cmocka_unit_test(test_length_errors),
		cmocka_unit_test(test_header_fields), cmocka_unit_test(test_descriptor_counts),
		cmocka_unit_test(test_ranges),	      cmocka_unit_test(test_max_unmap_blocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
