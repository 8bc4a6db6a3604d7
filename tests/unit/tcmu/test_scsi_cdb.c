/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* scsi_decode (tcmu/scsi/cdb.c): every I/O opcode, limits, ranges and error sense. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "t_scsi.h"

struct io_op {
	uint8_t op;
	size_t len;
	enum scsi_cmd_kind kind;
	uint8_t len_field; /* CDB byte of the transfer length */
	bool write;
};

static const struct io_op io_ops[] = {
	{ SCSI_READ_10, 10, SCSI_KIND_READ, 7, false },
	{ SCSI_WRITE_10, 10, SCSI_KIND_WRITE, 7, true },
	{ SCSI_READ_12, 12, SCSI_KIND_READ, 6, false },
	{ SCSI_WRITE_12, 12, SCSI_KIND_WRITE, 6, true },
	{ SCSI_READ_16, 16, SCSI_KIND_READ, 10, false },
	{ SCSI_WRITE_16, 16, SCSI_KIND_WRITE, 10, true },
	{ SCSI_VERIFY_10, 10, SCSI_KIND_VERIFY, 7, false },
	{ SCSI_VERIFY_16, 16, SCSI_KIND_VERIFY, 10, false },
	{ SCSI_WRITE_VERIFY_10, 10, SCSI_KIND_WRITE_VERIFY, 7, true },
	{ SCSI_WRITE_VERIFY_16, 16, SCSI_KIND_WRITE_VERIFY, 10, true },
};

/* Build a 10/12/16-byte I/O CDB (LBA at byte 2, length where the op keeps it). */
static void make_cdb(uint8_t *cdb, const struct io_op *o, uint64_t lba, uint32_t nr)
{
	memset(cdb, 0, 16);
	cdb[0] = o->op;
	if (o->len == 16) {
		scsi_put_be64(&cdb[2], lba);
		scsi_put_be32(&cdb[10], nr);
	} else if (o->len == 12) {
		scsi_put_be32(&cdb[2], (uint32_t)lba);
		scsi_put_be32(&cdb[6], nr);
	} else {
		scsi_put_be32(&cdb[2], (uint32_t)lba);
		scsi_put_be16(&cdb[7], (uint16_t)nr);
	}
}

static int decode(const struct scsi_dev_info *di, const uint8_t *cdb, size_t len,
		  struct scsi_cmd_info *info, struct scsi_result *res)
{
	int r = scsi_decode(di, cdb, len, info, res);

	if (r == 0)
		t_assert_good(res);
	else
		assert_int_equal(r, -EINVAL);
	return r;
}

static void test_io_basic(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[16];

	(void)state;
	t_dev_info(&di);
	for (size_t i = 0; i < sizeof(io_ops) / sizeof(io_ops[0]); i++) {
		const struct io_op *o = &io_ops[i];

		make_cdb(cdb, o, 100, 8);
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), 0);
		assert_int_equal(info.kind, o->kind);
		assert_int_equal(info.lba, 100);
		assert_int_equal(info.nr_blocks, 8);
		if (o->kind == SCSI_KIND_VERIFY)
			assert_int_equal(info.xfer_len, 0); /* BYTCHK 0: no data-out */
		else
			assert_int_equal(info.xfer_len, 8 * 512);
		assert_false(info.fua);

		/* Last block is fine, one past the end is not. */
		make_cdb(cdb, o, T_NUM_LBAS - 1, 1);
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), 0);
		make_cdb(cdb, o, T_NUM_LBAS - 8, 8);
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), 0);
		make_cdb(cdb, o, T_NUM_LBAS - 7, 8);
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), -EINVAL);
		t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
		make_cdb(cdb, o, T_NUM_LBAS, 1);
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), -EINVAL);
		t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
		/* Zero blocks at the end of the device is not an error (SBC-3). */
		make_cdb(cdb, o, T_NUM_LBAS, 0);
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), 0);
		make_cdb(cdb, o, T_NUM_LBAS + 1, 0);
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), -EINVAL);
		t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);

		/* MAXIMUM TRANSFER LENGTH: 128 ok, 129 rejected pointing at the length. */
		make_cdb(cdb, o, 0, 128);
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), 0);
		make_cdb(cdb, o, 0, 129);
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), -EINVAL);
		t_assert_invalid_cdb(&res, o->len_field, -1);

		/* Protection information is not supported. */
		make_cdb(cdb, o, 0, 1);
		cdb[1] = 0x20;
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), -EINVAL);
		t_assert_invalid_cdb(&res, 1, 7);

		/* Wrong CDB length for the opcode group. */
		make_cdb(cdb, o, 0, 1);
		assert_int_equal(decode(&di, cdb, o->len - 1, &info, &res), -EINVAL);
		t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST,
				     SCSI_ASC_INVALID_FIELD_IN_CDB);
		assert_int_equal(decode(&di, cdb, 16 + 1, &info, &res), -EINVAL);
		t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST,
				     SCSI_ASC_INVALID_FIELD_IN_CDB);
	}
}

static void test_io_read_only(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[16];

	(void)state;
	t_dev_info(&di);
	di.read_only = true;
	for (size_t i = 0; i < sizeof(io_ops) / sizeof(io_ops[0]); i++) {
		const struct io_op *o = &io_ops[i];

		make_cdb(cdb, o, 0, 1);
		if (!o->write) {
			assert_int_equal(decode(&di, cdb, o->len, &info, &res), 0);
			continue;
		}
		assert_int_equal(decode(&di, cdb, o->len, &info, &res), -EINVAL);
		t_assert_sense_nosks(&res, RTS_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
	}
	/* WRITE 6, WRITE SAME, COMPARE AND WRITE and UNMAP are writes too. */
	const uint8_t w6[6] = { SCSI_WRITE_6, 0, 0, 0, 1, 0 };
	const uint8_t ws10[10] = { SCSI_WRITE_SAME_10, 0, 0, 0, 0, 0, 0, 0, 1, 0 };
	const uint8_t caw[16] = { SCSI_COMPARE_AND_WRITE, [13] = 1 };
	const uint8_t unmap[10] = { SCSI_UNMAP, [8] = 24 };

	assert_int_equal(decode(&di, w6, 6, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
	assert_int_equal(decode(&di, ws10, 10, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
	assert_int_equal(decode(&di, caw, 16, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
	assert_int_equal(decode(&di, unmap, 10, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
	/* SYNCHRONIZE CACHE is not a write. */
	const uint8_t sync[10] = { SCSI_SYNCHRONIZE_CACHE_10 };

	assert_int_equal(decode(&di, sync, 10, &info, &res), 0);
}

static void test_io_fua(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[16];

	(void)state;
	t_dev_info(&di);
	make_cdb(cdb, &io_ops[1], 5, 1);
	cdb[1] = 0x08;
	assert_int_equal(decode(&di, cdb, 10, &info, &res), 0);
	assert_true(info.fua);
	make_cdb(cdb, &io_ops[4], 5, 1);
	cdb[1] = 0x08 | 0x10; /* FUA + DPO */
	assert_int_equal(decode(&di, cdb, 16, &info, &res), 0);
	assert_true(info.fua);
	assert_int_equal(info.kind, SCSI_KIND_READ);
}

static void test_io_64bit_overflow(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[16];

	(void)state;
	t_dev_info(&di);
	di.num_lbas = UINT64_MAX - 2;
	di.max_xfer_blocks = 0;
	/* lba + nr wraps around 2^64: must not pass as in range. */
	make_cdb(cdb, &io_ops[4], UINT64_MAX - 1, 4);
	assert_int_equal(decode(&di, cdb, 16, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	make_cdb(cdb, &io_ops[4], UINT64_MAX, 1);
	assert_int_equal(decode(&di, cdb, 16, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	/* Last block of a huge device is fine. */
	make_cdb(cdb, &io_ops[4], UINT64_MAX - 3, 1);
	assert_int_equal(decode(&di, cdb, 16, &info, &res), 0);
	assert_true(info.lba == UINT64_MAX - 3);
	/* A byte count that does not fit in 32 bits is refused even with no block limit. */
	make_cdb(cdb, &io_ops[4], 0, 0x800000);
	assert_int_equal(decode(&di, cdb, 16, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 10, -1);
	make_cdb(cdb, &io_ops[4], 0, 0x7fffff);
	assert_int_equal(decode(&di, cdb, 16, &info, &res), 0);
	assert_int_equal(info.xfer_len, 0x7fffffu * 512);
}

static void test_rw6(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[6] = { SCSI_READ_6, 0xe1, 0x02, 0x03, 4, 0 };

	(void)state;
	t_dev_info(&di);
	di.num_lbas = 0x200000;
	di.max_xfer_blocks = 256;
	/* 21-bit LBA; the top 3 bits of byte 1 are not part of it. */
	assert_int_equal(decode(&di, cdb, 6, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_READ);
	assert_int_equal(info.lba, 0x010203);
	assert_int_equal(info.nr_blocks, 4);
	assert_int_equal(info.xfer_len, 2048);
	/* TRANSFER LENGTH 0 means 256 blocks. */
	cdb[4] = 0;
	assert_int_equal(decode(&di, cdb, 6, &info, &res), 0);
	assert_int_equal(info.nr_blocks, 256);
	assert_int_equal(info.xfer_len, 256 * 512);
	/* ... which exceeds a 128-block limit. */
	di.max_xfer_blocks = 128;
	assert_int_equal(decode(&di, cdb, 6, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 4, -1);
	di.max_xfer_blocks = 256;

	cdb[0] = SCSI_WRITE_6;
	cdb[1] = 0x1f;
	cdb[2] = 0xff;
	cdb[3] = 0xff;
	cdb[4] = 1;
	assert_int_equal(decode(&di, cdb, 6, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_WRITE);
	assert_int_equal(info.lba, 0x1fffff);
	cdb[4] = 2;
	assert_int_equal(decode(&di, cdb, 6, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	assert_int_equal(decode(&di, cdb, 10, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
}

static void test_verify_bytchk(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[16];

	(void)state;
	t_dev_info(&di);
	make_cdb(cdb, &io_ops[6], 10, 4); /* VERIFY 10 */
	cdb[1] = 0x02; /* BYTCHK 01b */
	assert_int_equal(decode(&di, cdb, 10, &info, &res), 0);
	assert_int_equal(info.bytchk, 1);
	assert_int_equal(info.xfer_len, 4 * 512);
	cdb[1] = 0x06; /* BYTCHK 11b: one block compared with each */
	assert_int_equal(decode(&di, cdb, 10, &info, &res), 0);
	assert_int_equal(info.bytchk, 3);
	assert_int_equal(info.xfer_len, 512);
	cdb[1] = 0x04; /* BYTCHK 10b reserved */
	assert_int_equal(decode(&di, cdb, 10, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 2);

	make_cdb(cdb, &io_ops[9], 10, 4); /* WRITE AND VERIFY 16 */
	cdb[1] = 0x02;
	assert_int_equal(decode(&di, cdb, 16, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_WRITE_VERIFY);
	assert_int_equal(info.bytchk, 1);
	assert_int_equal(info.xfer_len, 4 * 512);
	cdb[1] = 0x06;
	assert_int_equal(decode(&di, cdb, 16, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 2);
}

static void test_sync_cache(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t c10[10] = { SCSI_SYNCHRONIZE_CACHE_10, 0x02 };
	uint8_t c16[16] = { SCSI_SYNCHRONIZE_CACHE_16 };

	(void)state;
	t_dev_info(&di);
	assert_int_equal(decode(&di, c10, 10, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_SYNC);
	assert_true(info.immed);
	assert_int_equal(info.nr_blocks, 0);
	assert_int_equal(info.xfer_len, 0);

	/* Large ranges are fine: no transfer, so no MAXIMUM TRANSFER LENGTH. */
	scsi_put_be64(&c16[2], 48);
	scsi_put_be32(&c16[10], T_NUM_LBAS - 48);
	assert_int_equal(decode(&di, c16, 16, &info, &res), 0);
	assert_false(info.immed);
	assert_int_equal(info.lba, 48);
	assert_int_equal(info.nr_blocks, T_NUM_LBAS - 48);
	scsi_put_be32(&c16[10], T_NUM_LBAS - 47);
	assert_int_equal(decode(&di, c16, 16, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	scsi_put_be32(&c10[2], T_NUM_LBAS + 1);
	assert_int_equal(decode(&di, c10, 10, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
}

static void test_unmap_cdb(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[10] = { SCSI_UNMAP, 0, 0, 0, 0, 0, 0, 0x01, 0x08, 0 };

	(void)state;
	t_dev_info(&di);
	assert_int_equal(decode(&di, cdb, 10, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_UNMAP);
	assert_int_equal(info.xfer_len, 0x108);
	cdb[1] = 0x01; /* ANCHOR */
	assert_int_equal(decode(&di, cdb, 10, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 0);
	cdb[1] = 0;
	di.thin = false;
	assert_int_equal(decode(&di, cdb, 10, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST,
			     SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
}

static void test_write_same(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t w10[10] = { SCSI_WRITE_SAME_10 };
	uint8_t w16[16] = { SCSI_WRITE_SAME_16 };

	(void)state;
	t_dev_info(&di);
	scsi_put_be32(&w10[2], 16);
	scsi_put_be16(&w10[7], 32);
	assert_int_equal(decode(&di, w10, 10, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_WRITE_SAME);
	assert_int_equal(info.lba, 16);
	assert_int_equal(info.nr_blocks, 32);
	assert_int_equal(info.xfer_len, 512);
	assert_false(info.unmap);
	assert_false(info.ndob);

	w10[1] = 0x08; /* UNMAP */
	assert_int_equal(decode(&di, w10, 10, &info, &res), 0);
	assert_true(info.unmap);
	di.thin = false;
	assert_int_equal(decode(&di, w10, 10, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 3);
	di.thin = true;
	w10[1] = 0x02; /* LBDATA */
	assert_int_equal(decode(&di, w10, 10, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 1);
	w10[1] = 0x04; /* PBDATA */
	assert_int_equal(decode(&di, w10, 10, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 2);
	w10[1] = 0x10; /* ANCHOR */
	assert_int_equal(decode(&di, w10, 10, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 4);
	w10[1] = 0;
	/* WSNZ: zero blocks is invalid; so is more than MAXIMUM WRITE SAME LENGTH. */
	scsi_put_be16(&w10[7], 0);
	assert_int_equal(decode(&di, w10, 10, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 7, -1);
	scsi_put_be16(&w10[7], 257);
	assert_int_equal(decode(&di, w10, 10, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 7, -1);
	scsi_put_be16(&w10[7], 256);
	assert_int_equal(decode(&di, w10, 10, &info, &res), 0);

	/* 16: NDOB (no data-out) with UNMAP, up to the last block. */
	w16[1] = 0x08 | 0x01;
	scsi_put_be64(&w16[2], T_NUM_LBAS - 200);
	scsi_put_be32(&w16[10], 200);
	assert_int_equal(decode(&di, w16, 16, &info, &res), 0);
	assert_true(info.ndob);
	assert_true(info.unmap);
	assert_int_equal(info.xfer_len, 0);
	scsi_put_be32(&w16[10], 201);
	assert_int_equal(decode(&di, w16, 16, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	scsi_put_be32(&w16[10], 0);
	assert_int_equal(decode(&di, w16, 16, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 10, -1);
	/* Write same is not bounded by MAXIMUM TRANSFER LENGTH (128) but by its own limit. */
	w16[1] = 0;
	scsi_put_be64(&w16[2], 0);
	scsi_put_be32(&w16[10], 200);
	assert_int_equal(decode(&di, w16, 16, &info, &res), 0);
	assert_int_equal(info.xfer_len, 512);
	w16[1] = 0x20; /* WRPROTECT */
	assert_int_equal(decode(&di, w16, 16, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 7);
}

static void test_compare_and_write(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[16] = { SCSI_COMPARE_AND_WRITE, 0x08 };

	(void)state;
	t_dev_info(&di);
	scsi_put_be64(&cdb[2], T_NUM_LBAS - 1);
	cdb[13] = 1;
	assert_int_equal(decode(&di, cdb, 16, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_CAW);
	assert_int_equal(info.lba, T_NUM_LBAS - 1);
	assert_int_equal(info.nr_blocks, 1);
	assert_int_equal(info.xfer_len, 2 * 512);
	assert_true(info.fua);

	cdb[13] = 2;
	assert_int_equal(decode(&di, cdb, 16, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 13, -1);
	di.max_caw_blocks = 4;
	assert_int_equal(decode(&di, cdb, 16, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	scsi_put_be64(&cdb[2], 0);
	assert_int_equal(decode(&di, cdb, 16, &info, &res), 0);
	assert_int_equal(info.xfer_len, 2 * 2 * 512);
	cdb[1] = 0x40;
	assert_int_equal(decode(&di, cdb, 16, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 7);
}

static void test_emulated_kinds(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	struct {
		uint8_t cdb[16];
		size_t len;
		uint32_t xfer;
	} cases[] = {
		{ { SCSI_TEST_UNIT_READY }, 6, 0 },
		{ { SCSI_REQUEST_SENSE, 0, 0, 0, 18 }, 6, 18 },
		{ { SCSI_INQUIRY, 1, 0x83, 0x01, 0x00 }, 6, 256 },
		{ { SCSI_MODE_SENSE_6, 0, 0x3f, 0, 0xc0 }, 6, 0xc0 },
		{ { SCSI_MODE_SELECT_6, 0x10, 0, 0, 24 }, 6, 24 },
		{ { SCSI_START_STOP_UNIT, 0, 0, 0, 1 }, 6, 0 },
		{ { SCSI_PREVENT_ALLOW_MEDIUM_REMOVAL }, 6, 0 },
		{ { SCSI_SEND_DIAGNOSTIC, 0x04 }, 6, 0 },
		{ { SCSI_READ_CAPACITY_10 }, 10, 8 },
		{ { SCSI_MODE_SENSE_10, 0, 0x08, 0, 0, 0, 0, 0x10, 0x00 }, 10, 0x1000 },
		{ { SCSI_MODE_SELECT_10, 0x10, 0, 0, 0, 0, 0, 0, 28 }, 10, 28 },
		{ { SCSI_SERVICE_ACTION_IN_16, 0x10, [13] = 32 }, 16, 32 },
	};

	(void)state;
	t_dev_info(&di);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(decode(&di, cases[i].cdb, cases[i].len, &info, &res), 0);
		assert_int_equal(info.kind, SCSI_KIND_EMULATE);
		assert_int_equal(info.xfer_len, cases[i].xfer);
		/* Same opcode with a wrong CDB length. */
		assert_int_equal(decode(&di, cases[i].cdb, cases[i].len + 2, &info, &res), -EINVAL);
		t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST,
				     SCSI_ASC_INVALID_FIELD_IN_CDB);
	}
	/* SERVICE ACTION IN(16) other than READ CAPACITY(16) / GET LBA STATUS. */
	uint8_t sai[16] = { SCSI_SERVICE_ACTION_IN_16, 0x13 };

	assert_int_equal(decode(&di, sai, 16, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 4);
	/* GET LBA STATUS: thin devices only; STARTING LBA must be inside the device */
	sai[1] = SCSI_SAI_GET_LBA_STATUS;
	scsi_put_be64(&sai[2], T_NUM_LBAS - 1);
	scsi_put_be32(&sai[10], 24);
	assert_int_equal(decode(&di, sai, 16, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_GET_LBA_STATUS);
	assert_int_equal(info.lba, T_NUM_LBAS - 1);
	assert_int_equal(info.xfer_len, 24);
	scsi_put_be64(&sai[2], T_NUM_LBAS);
	assert_int_equal(decode(&di, sai, 16, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	di.thin = false;
	scsi_put_be64(&sai[2], 0);
	assert_int_equal(decode(&di, sai, 16, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 4);
}

/* VERIFY(12), WRITE AND VERIFY(12), PRE-FETCH 10/16 (SBC-4 5.9, 5.31, 5.35). */
static void test_verify12_prefetch(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[16] = { 0 };

	(void)state;
	t_dev_info(&di);
	cdb[0] = SCSI_VERIFY_12;
	cdb[1] = 0x02; /* BYTCHK 01b */
	scsi_put_be32(&cdb[2], 100);
	scsi_put_be32(&cdb[6], 8);
	assert_int_equal(decode(&di, cdb, 12, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_VERIFY);
	assert_int_equal(info.lba, 100);
	assert_int_equal(info.nr_blocks, 8);
	assert_int_equal(info.bytchk, 1);
	assert_int_equal(info.xfer_len, 8 * 512);
	cdb[1] = 0x04; /* BYTCHK 10b reserved */
	assert_int_equal(decode(&di, cdb, 12, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 2);
	cdb[0] = SCSI_WRITE_VERIFY_12;
	cdb[1] = 0x06; /* BYTCHK 11b is VERIFY only */
	assert_int_equal(decode(&di, cdb, 12, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 2);
	cdb[1] = 0x02;
	assert_int_equal(decode(&di, cdb, 12, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_WRITE_VERIFY);
	scsi_put_be32(&cdb[6], 129); /* above MAXIMUM TRANSFER LENGTH 128 */
	assert_int_equal(decode(&di, cdb, 12, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 6, -1);
	di.read_only = true;
	scsi_put_be32(&cdb[6], 1);
	assert_int_equal(decode(&di, cdb, 12, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
	di.read_only = false;

	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_PRE_FETCH_10;
	cdb[1] = 0x02; /* IMMED */
	scsi_put_be32(&cdb[2], T_NUM_LBAS - 10);
	scsi_put_be16(&cdb[7], 10);
	assert_int_equal(decode(&di, cdb, 10, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_PREFETCH);
	assert_true(info.immed);
	assert_int_equal(info.nr_blocks, 10);
	assert_int_equal(info.xfer_len, 0);
	scsi_put_be16(&cdb[7], 11);
	assert_int_equal(decode(&di, cdb, 10, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	/* no data transfer: no MAXIMUM TRANSFER LENGTH */
	scsi_put_be32(&cdb[2], 0);
	scsi_put_be16(&cdb[7], 1000);
	assert_int_equal(decode(&di, cdb, 10, &info, &res), 0);
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_PRE_FETCH_16;
	scsi_put_be64(&cdb[2], T_NUM_LBAS);
	assert_int_equal(decode(&di, cdb, 16, &info, &res), 0); /* 0 blocks at the end */
	assert_false(info.immed);
	scsi_put_be32(&cdb[10], 1);
	assert_int_equal(decode(&di, cdb, 16, &info, &res), -EINVAL);
	t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
	cdb[15] = 0x04; /* NACA */
	assert_int_equal(decode(&di, cdb, 16, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 15, 2);
}

static void test_unknown_opcodes(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	/* ... plus WRITE BUFFER (3Bh) and EXTENDED COPY (83h), not emulated. */
	/* clang-format off */
	const uint8_t ops[] = { SCSI_FORMAT_UNIT, SCSI_REPORT_LUNS, 0x01, 0x7f,
				0x60, 0xc0, 0xff, 0x3b, 0x83 };
	/* clang-format on */
	uint8_t cdb[16] = { 0 };

	(void)state;
	t_dev_info(&di);
	for (size_t i = 0; i < sizeof(ops); i++) {
		cdb[0] = ops[i];
		for (size_t len = 1; len <= 16; len++) {
			assert_int_equal(decode(&di, cdb, len, &info, &res), -EINVAL);
			t_assert_sense_nosks(&res, RTS_SENSE_ILLEGAL_REQUEST,
					     SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
		}
	}
	assert_int_equal(decode(&di, cdb, 0, &info, &res), -EINVAL);
	t_assert_sense(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
	/* MAINTENANCE IN: only REPORT SUPPORTED OPERATION CODES is ours; others are a bad SA */
	memset(cdb, 0, sizeof(cdb));
	cdb[0] = SCSI_MAINTENANCE_IN;
	cdb[1] = 0x0a; /* REPORT TARGET PORT GROUPS: the kernel's (ALUA) */
	assert_int_equal(decode(&di, cdb, 12, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 1, 4);
	cdb[1] = SCSI_MI_REPORT_SUPPORTED_OPCODES;
	scsi_put_be32(&cdb[6], 512);
	assert_int_equal(decode(&di, cdb, 12, &info, &res), 0);
	assert_int_equal(info.kind, SCSI_KIND_EMULATE);
	assert_int_equal(info.xfer_len, 512);
	assert_int_equal(decode(&di, NULL, 10, &info, &res), -EINVAL);
	t_assert_sense(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
}

static void test_naca(void **state)
{
	struct scsi_dev_info di;
	struct scsi_cmd_info info;
	struct scsi_result res;
	uint8_t cdb[16];

	(void)state;
	t_dev_info(&di);
	make_cdb(cdb, &io_ops[0], 0, 1);
	cdb[9] = 0x04;
	assert_int_equal(decode(&di, cdb, 10, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 9, 2);
	const uint8_t tur[6] = { SCSI_TEST_UNIT_READY, 0, 0, 0, 0, 0x04 };

	assert_int_equal(decode(&di, tur, 6, &info, &res), -EINVAL);
	t_assert_invalid_cdb(&res, 5, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_basic),
		cmocka_unit_test(test_io_read_only),
		cmocka_unit_test(test_io_fua),
		cmocka_unit_test(test_io_64bit_overflow),
		cmocka_unit_test(test_rw6),
		cmocka_unit_test(test_verify_bytchk),
		cmocka_unit_test(test_sync_cache),
		cmocka_unit_test(test_unmap_cdb),
		cmocka_unit_test(test_write_same),
		cmocka_unit_test(test_compare_and_write),
		cmocka_unit_test(test_emulated_kinds),
		cmocka_unit_test(test_unknown_opcodes),
		cmocka_unit_test(test_verify12_prefetch),
		cmocka_unit_test(test_naca),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
