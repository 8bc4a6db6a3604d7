/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sense builders (tcmu/scsi/sense.c): exact fixed-format bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "t_scsi.h"

static void test_set_sense(void **state)
{
	struct scsi_result res;
	const uint8_t want[SCSI_SENSE_LEN] = {
		0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x24, 0x00
	};

	(void)state;
	memset(&res, 0xaa, sizeof(res));
	scsi_set_sense(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	assert_int_equal(res.status, RTS_SAM_CHECK_CONDITION);
	assert_int_equal(res.data_len, 0);
	assert_memory_equal(res.sense, want, sizeof(want));
}

static void test_set_sense_info(void **state)
{
	struct scsi_result res;
	const uint8_t want[SCSI_SENSE_LEN] = { 0xf0, 0, 0x0e, 0x12, 0x34, 0x56, 0x78, 10, 0,
					       0,    0, 0,    0x1d, 0x00, 0,	0,    0,  0 };

	(void)state;
	scsi_set_sense_info(&res, RTS_SENSE_MISCOMPARE, SCSI_ASC_MISCOMPARE_DURING_VERIFY,
			    0x12345678);
	assert_memory_equal(res.sense, want, sizeof(want));

	/* Too large for the 4-byte INFORMATION field: VALID stays clear. */
	scsi_set_sense_info(&res, RTS_SENSE_MISCOMPARE, SCSI_ASC_MISCOMPARE_DURING_VERIFY,
			    0x100000000ULL);
	assert_int_equal(res.sense[0], 0x70);
	assert_int_equal(res.sense[3] | res.sense[4] | res.sense[5] | res.sense[6], 0);
	t_assert_sense(&res, RTS_SENSE_MISCOMPARE, SCSI_ASC_MISCOMPARE_DURING_VERIFY);
}

static void test_set_sense_field(void **state)
{
	struct scsi_result res;

	(void)state;
	scsi_set_sense_field(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB, true,
			     0x0102, 5);
	assert_int_equal(res.sense[15], 0x80 | 0x40 | 0x08 | 5);
	assert_int_equal(res.sense[16], 0x01);
	assert_int_equal(res.sense[17], 0x02);
	t_assert_sense(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);

	/* Parameter list, no bit pointer. */
	scsi_set_sense_field(&res, RTS_SENSE_ILLEGAL_REQUEST,
			     SCSI_ASC_INVALID_FIELD_IN_PARAMETER_LIST, false, 300, -1);
	assert_int_equal(res.sense[15], 0x80);
	assert_int_equal(res.sense[16], 0x01);
	assert_int_equal(res.sense[17], 0x2c);
	t_assert_sense(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_PARAMETER_LIST);

	/* Out-of-range bit numbers leave BPV clear. */
	scsi_set_sense_field(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB, true,
			     1, 8);
	assert_int_equal(res.sense[15], 0xc0);
}

static void test_set_good(void **state)
{
	struct scsi_result res;
	const uint8_t zero[SCSI_SENSE_LEN] = { 0 };

	(void)state;
	scsi_set_sense(&res, RTS_SENSE_MEDIUM_ERROR, SCSI_ASC_UNRECOVERED_READ_ERROR);
	scsi_set_good(&res, 42);
	assert_int_equal(res.status, RTS_SAM_GOOD);
	assert_int_equal(res.data_len, 42);
	assert_memory_equal(res.sense, zero, sizeof(zero));
}

static void test_sense_key_masked(void **state)
{
	struct scsi_result res;

	(void)state;
	scsi_set_sense(&res, 0xf7, SCSI_ASC_WRITE_PROTECTED);
	assert_int_equal(res.sense[2], RTS_SENSE_DATA_PROTECT);
	assert_int_equal(res.sense[12], 0x27);
	assert_int_equal(res.sense[13], 0x00);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_sense),	 cmocka_unit_test(test_set_sense_info),
		cmocka_unit_test(test_set_sense_field),	 cmocka_unit_test(test_set_good),
		cmocka_unit_test(test_sense_key_masked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
