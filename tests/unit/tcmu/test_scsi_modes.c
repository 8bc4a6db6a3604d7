/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* MODE SENSE / MODE SELECT 6 and 10 (tcmu/scsi/modes.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scsi_priv.h"
#include "t_scsi.h"

struct fixture {
	struct scsi_dev_info di;
	struct scsi_state st;
	struct scsi_result res;
	uint8_t buf[256];
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	t_dev_info(&f.di);
	scsi_state_init(&f.st, &f.di);
	*state = &f;
	return 0;
}

static void sense6(struct fixture *f, uint8_t byte1, uint8_t pcpage, uint8_t sub, uint8_t alloc)
{
	const uint8_t cdb[6] = { SCSI_MODE_SENSE_6, byte1, pcpage, sub, alloc, 0 };

	memset(f->buf, 0xcc, sizeof(f->buf));
	t_emulate(&f->di, &f->st, cdb, sizeof(cdb), f->buf, sizeof(f->buf), 3, &f->res);
}

static void sense10(struct fixture *f, uint8_t byte1, uint8_t pcpage, uint8_t sub, uint16_t alloc)
{
	uint8_t cdb[10] = { SCSI_MODE_SENSE_10, byte1, pcpage, sub };

	scsi_put_be16(&cdb[7], alloc);
	memset(f->buf, 0xcc, sizeof(f->buf));
	t_emulate(&f->di, &f->st, cdb, sizeof(cdb), f->buf, sizeof(f->buf), 5, &f->res);
}

/* MODE SELECT with parameter list @pl of @len bytes (split in 3 iovecs). */
static void select_n(struct fixture *f, bool ten, uint8_t byte1, const uint8_t *pl, size_t len)
{
	uint8_t cdb[10] = { 0 };
	uint8_t data[256];

	memcpy(data, pl, len);
	if (ten) {
		cdb[0] = SCSI_MODE_SELECT_10;
		scsi_put_be16(&cdb[7], (uint16_t)len);
	} else {
		cdb[0] = SCSI_MODE_SELECT_6;
		cdb[4] = (uint8_t)len;
	}
	cdb[1] = byte1;
	t_emulate(&f->di, &f->st, cdb, ten ? 10 : 6, data, len, 3, &f->res);
}

static const uint8_t caching_wce[20] = { 0x08, 0x12, 0x04 };
static const uint8_t caching_wt[20] = { 0x08, 0x12, 0x00 };
static const uint8_t control_cur[12] = { 0x0a, 0x0a, 0, 0x10, 0, 0, 0, 0, 0xff, 0xff, 0, 0 };

static void test_sense6_caching(void **state)
{
	struct fixture *f = *state;

	sense6(f, 0, 0x08, 0, 255);
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 4 + 8 + 20);
	assert_int_equal(f->buf[0], 4 + 8 + 20 - 1);
	assert_int_equal(f->buf[1], 0); /* medium type */
	assert_int_equal(f->buf[2], 0x10); /* DPOFUA, not WP */
	assert_int_equal(f->buf[3], 8);
	/* Block descriptor: 2048 blocks of 512 bytes. */
	assert_int_equal(scsi_get_be32(&f->buf[4]), T_NUM_LBAS);
	assert_int_equal(f->buf[8], 0);
	assert_int_equal(scsi_get_be24(&f->buf[9]), 512);
	assert_memory_equal(&f->buf[12], caching_wce, 20);

	/* DBD: no block descriptor. */
	sense6(f, 0x08, 0x08, 0, 255);
	assert_int_equal(f->res.data_len, 4 + 20);
	assert_int_equal(f->buf[0], 23);
	assert_int_equal(f->buf[3], 0);
	assert_memory_equal(&f->buf[4], caching_wce, 20);
}

static void test_sense_read_only_and_big_device(void **state)
{
	struct fixture *f = *state;

	f->di.read_only = true;
	f->di.num_lbas = 0x100000000ULL;
	sense6(f, 0, 0x0a, 0, 255);
	t_assert_good(&f->res);
	assert_int_equal(f->buf[2], 0x90); /* WP | DPOFUA */
	assert_int_equal(scsi_get_be32(&f->buf[4]), 0xffffffffu);
	assert_memory_equal(&f->buf[12], control_cur, 12);

	/* MODE SENSE 10 with LLBAA: 16-byte descriptor with the real count. */
	sense10(f, 0x10, 0x0a, 0, 255);
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 8 + 16 + 12);
	assert_int_equal(scsi_get_be16(&f->buf[0]), 8 + 16 + 12 - 2);
	assert_int_equal(f->buf[3], 0x90);
	assert_int_equal(f->buf[4], 0x01); /* LONGLBA */
	assert_int_equal(scsi_get_be16(&f->buf[6]), 16);
	assert_true(scsi_get_be64(&f->buf[8]) == 0x100000000ULL);
	assert_int_equal(scsi_get_be32(&f->buf[20]), 512);
	assert_memory_equal(&f->buf[24], control_cur, 12);
}

static void test_sense10_all_pages(void **state)
{
	struct fixture *f = *state;

	for (int sub = 0; sub < 2; sub++) {
		sense10(f, 0, 0x3f, sub ? 0xff : 0, 255);
		t_assert_good(&f->res);
		assert_int_equal(f->res.data_len, 8 + 8 + 20 + 12);
		assert_int_equal(scsi_get_be16(&f->buf[0]), 8 + 8 + 20 + 12 - 2);
		assert_int_equal(f->buf[4], 0); /* short descriptor */
		assert_int_equal(scsi_get_be16(&f->buf[6]), 8);
		assert_memory_equal(&f->buf[16], caching_wce, 20);
		assert_memory_equal(&f->buf[36], control_cur, 12);
	}
	/* Subpage FFh of a single page is that page. */
	sense10(f, 0x08, 0x08, 0xff, 255);
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 8 + 20);
}

static void test_sense_truncated(void **state)
{
	struct fixture *f = *state;

	/* Header lengths describe everything even when only 10 bytes go out. */
	sense6(f, 0, 0x3f, 0, 10);
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 10);
	assert_int_equal(f->buf[0], 4 + 8 + 20 + 12 - 1);
	assert_int_equal(f->buf[3], 8);
	assert_int_equal(f->buf[10], 0xcc);

	sense10(f, 0, 0x3f, 0, 3);
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 3);
	assert_int_equal(scsi_get_be16(&f->buf[0]), 8 + 8 + 20 + 12 - 2);
	assert_int_equal(f->buf[3], 0xcc);

	sense6(f, 0, 0x08, 0, 0);
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 0);
	assert_int_equal(f->buf[0], 0xcc);
}

static void test_sense_page_control(void **state)
{
	struct fixture *f = *state;
	const uint8_t changeable[20] = { 0x08, 0x12, 0x04 };
	const uint8_t control_chg[12] = { 0x0a, 0x0a };

	/* Current follows the state, default follows the device info. */
	f->st.write_cache = false;
	sense6(f, 0x08, 0x08, 0, 255);
	assert_memory_equal(&f->buf[4], caching_wt, 20);
	sense6(f, 0x08, 0x80 | 0x08, 0, 255);
	t_assert_good(&f->res);
	assert_memory_equal(&f->buf[4], caching_wce, 20);
	/* Changeable: only WCE. */
	sense6(f, 0x08, 0x40 | 0x3f, 0, 255);
	t_assert_good(&f->res);
	assert_memory_equal(&f->buf[4], changeable, 20);
	assert_memory_equal(&f->buf[24], control_chg, 12);
	/* Saved: not supported. */
	sense6(f, 0, 0xc0 | 0x08, 0, 255);
	t_assert_sense(&f->res, RTS_SENSE_ILLEGAL_REQUEST,
		       SCSI_ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
	t_assert_sks(&f->res, 1, 2, 7);
	sense10(f, 0, 0xc0 | 0x3f, 0, 255);
	t_assert_sense(&f->res, RTS_SENSE_ILLEGAL_REQUEST,
		       SCSI_ASC_SAVING_PARAMETERS_NOT_SUPPORTED);
}

static void test_sense_invalid(void **state)
{
	struct fixture *f = *state;
	const uint8_t pages[] = { 0x00, 0x01, 0x02, 0x1c, 0x19, 0x3e };

	for (size_t i = 0; i < sizeof(pages); i++) {
		sense6(f, 0, pages[i], 0, 255);
		t_assert_invalid_cdb(&f->res, 2, 5);
		assert_int_equal(f->buf[0], 0xcc);
		sense10(f, 0, pages[i], 0, 255);
		t_assert_invalid_cdb(&f->res, 2, 5);
	}
	sense6(f, 0, 0x08, 0x01, 255);
	t_assert_invalid_cdb(&f->res, 3, -1);
	sense10(f, 0, 0x3f, 0x02, 255);
	t_assert_invalid_cdb(&f->res, 3, -1);
}

static void test_select_roundtrip_wce(void **state)
{
	struct fixture *f = *state;
	uint8_t pl[4 + 20] = { 0 };

	/* Turn the write cache off with MODE SELECT 6 (header + caching page). */
	memcpy(&pl[4], caching_wt, 20);
	select_n(f, false, 0x10, pl, sizeof(pl));
	t_assert_good(&f->res);
	assert_false(f->st.write_cache);
	assert_true(f->st.wce_changed);
	sense6(f, 0x08, 0x08, 0, 255);
	assert_memory_equal(&f->buf[4], caching_wt, 20);

	/* Same value again: no change reported (the dispatcher cleared the flag). */
	f->st.wce_changed = false;
	select_n(f, false, 0x10, pl, sizeof(pl));
	t_assert_good(&f->res);
	assert_false(f->st.wce_changed);

	/* Back on with MODE SELECT 10, the data MODE SENSE 10 returned (PS bit ignored). */
	sense10(f, 0, 0x3f, 0, 255);
	t_assert_good(&f->res);
	uint8_t pl10[64];
	size_t n = f->res.data_len;

	memcpy(pl10, f->buf, n);
	pl10[0] = pl10[1] = 0; /* mode data length is reserved in MODE SELECT */
	pl10[3] = 0; /* device-specific parameter */
	pl10[16 + 2] |= 0x04; /* WCE */
	pl10[16] |= 0x80; /* PS */
	select_n(f, true, 0x10, pl10, n);
	t_assert_good(&f->res);
	assert_true(f->st.write_cache);
	assert_true(f->st.wce_changed);
	sense10(f, 0x08, 0x08, 0, 255);
	assert_memory_equal(&f->buf[8], caching_wce, 20);
	/* Default values are still the device's. */
	sense10(f, 0x08, 0x80 | 0x08, 0, 255);
	assert_memory_equal(&f->buf[8], caching_wce, 20);
}

static void test_select_block_descriptor(void **state)
{
	struct fixture *f = *state;
	uint8_t pl[4 + 8 + 20] = { 0, 0, 0, 8 };

	scsi_put_be24(&pl[9], 512);
	memcpy(&pl[12], caching_wt, 20);
	select_n(f, false, 0x10, pl, sizeof(pl));
	t_assert_good(&f->res);
	assert_false(f->st.write_cache);

	/* Current block count is fine too; another block size or count is not. */
	scsi_put_be32(&pl[4], T_NUM_LBAS);
	select_n(f, false, 0x10, pl, sizeof(pl));
	t_assert_good(&f->res);
	scsi_put_be32(&pl[4], T_NUM_LBAS + 1);
	select_n(f, false, 0x10, pl, sizeof(pl));
	t_assert_invalid_param(&f->res, 4, -1);
	scsi_put_be32(&pl[4], 0);
	scsi_put_be24(&pl[9], 4096);
	select_n(f, false, 0x10, pl, sizeof(pl));
	t_assert_invalid_param(&f->res, 9, -1);
	scsi_put_be24(&pl[9], 512);
	pl[3] = 16; /* short descriptors are 8 bytes */
	select_n(f, false, 0x10, pl, sizeof(pl));
	t_assert_invalid_param(&f->res, 3, -1);

	/* MODE SELECT 10 with a long LBA descriptor. */
	uint8_t pl10[8 + 16 + 20] = { 0, 0, 0, 0, 0x01, 0, 0, 16 };

	scsi_put_be64(&pl10[8], T_NUM_LBAS);
	scsi_put_be32(&pl10[20], 512);
	memcpy(&pl10[24], caching_wce, 20);
	select_n(f, true, 0x10, pl10, sizeof(pl10));
	t_assert_good(&f->res);
	assert_true(f->st.write_cache);
	scsi_put_be32(&pl10[20], 520);
	select_n(f, true, 0x10, pl10, sizeof(pl10));
	t_assert_invalid_param(&f->res, 20, -1);
}

static void test_select_invalid_cdb(void **state)
{
	struct fixture *f = *state;
	uint8_t pl[4 + 20] = { 0 };

	memcpy(&pl[4], caching_wt, 20);
	/* PF = 0 */
	select_n(f, false, 0x00, pl, sizeof(pl));
	t_assert_invalid_cdb(&f->res, 1, 4);
	/* SP = 1 */
	select_n(f, true, 0x11, pl, sizeof(pl));
	t_assert_invalid_cdb(&f->res, 1, 0);
	assert_true(f->st.write_cache);
	assert_false(f->st.wce_changed);
}

static void test_select_length_errors(void **state)
{
	struct fixture *f = *state;
	uint8_t pl[8 + 20] = { 0 };

	/* Zero-length list: nothing to do. */
	select_n(f, false, 0x10, pl, 0);
	t_assert_good(&f->res);
	/* Shorter than the header. */
	select_n(f, false, 0x10, pl, 3);
	t_assert_sense_nosks(&f->res, RTS_SENSE_ILLEGAL_REQUEST,
			     SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	select_n(f, true, 0x10, pl, 7);
	t_assert_sense_nosks(&f->res, RTS_SENSE_ILLEGAL_REQUEST,
			     SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* Header only is fine. */
	select_n(f, true, 0x10, pl, 8);
	t_assert_good(&f->res);
	/* Truncated page. */
	memcpy(&pl[4], caching_wt, 20);
	select_n(f, false, 0x10, pl, 4 + 19);
	t_assert_sense_nosks(&f->res, RTS_SENSE_ILLEGAL_REQUEST,
			     SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	select_n(f, false, 0x10, pl, 5);
	t_assert_sense_nosks(&f->res, RTS_SENSE_ILLEGAL_REQUEST,
			     SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* Block descriptor announced but cut off. */
	const uint8_t bd_cut[10] = { 0, 0, 0, 8, 0, 0, 0, 0, 0, 0 };

	select_n(f, false, 0x10, bd_cut, sizeof(bd_cut));
	t_assert_sense_nosks(&f->res, RTS_SENSE_ILLEGAL_REQUEST,
			     SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	assert_true(f->st.write_cache);

	/* CDB says more than the data-out buffer holds. */
	const uint8_t cdb[6] = { SCSI_MODE_SELECT_6, 0x10, 0, 0, 24, 0 };

	t_emulate(&f->di, &f->st, cdb, sizeof(cdb), pl, 20, 2, &f->res);
	t_assert_sense_nosks(&f->res, RTS_SENSE_ILLEGAL_REQUEST,
			     SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* More than we ever accept. */
	uint8_t cdb10[10] = { SCSI_MODE_SELECT_10, 0x10, 0, 0, 0, 0, 0, 0x10, 0x00, 0 };

	t_emulate(&f->di, &f->st, cdb10, sizeof(cdb10), pl, sizeof(pl), 2, &f->res);
	t_assert_invalid_cdb(&f->res, 7, -1);
}

static void test_select_invalid_params(void **state)
{
	struct fixture *f = *state;
	uint8_t pl[4 + 20 + 12];

	/* Changing anything but WCE: RCD (byte 2 bit 0) at list offset 6. */
	memset(pl, 0, sizeof(pl));
	memcpy(&pl[4], caching_wt, 20);
	pl[6] |= 0x01;
	select_n(f, false, 0x10, pl, 24);
	t_assert_invalid_param(&f->res, 6, 0);
	/* ... or a later byte of the page, reported at its highest changed bit. */
	memcpy(&pl[4], caching_wt, 20);
	pl[4 + 12] = 0x20; /* DRA */
	select_n(f, false, 0x10, pl, 24);
	t_assert_invalid_param(&f->res, 16, 5);
	/* Wrong page length. */
	memcpy(&pl[4], caching_wt, 20);
	pl[5] = 0x10;
	select_n(f, false, 0x10, pl, 4 + 18);
	t_assert_invalid_param(&f->res, 5, -1);
	/* Unknown page (and subpage format). */
	memcpy(&pl[4], caching_wt, 20);
	pl[4] = 0x01;
	pl[5] = 0x0a;
	select_n(f, false, 0x10, pl, 4 + 12);
	t_assert_invalid_param(&f->res, 4, 5);
	pl[4] = 0x48;
	select_n(f, false, 0x10, pl, 4 + 12);
	t_assert_invalid_param(&f->res, 4, 6);
	/* Medium type must be 0. */
	memcpy(&pl[4], caching_wt, 20);
	pl[1] = 0x01;
	select_n(f, false, 0x10, pl, 24);
	t_assert_invalid_param(&f->res, 1, -1);
	pl[1] = 0;

	/* Control page sent back unchanged is accepted; changed, it is not. */
	memcpy(&pl[24], control_cur, 12);
	select_n(f, false, 0x10, pl, sizeof(pl));
	t_assert_good(&f->res);
	assert_false(f->st.write_cache);
	f->st.write_cache = true;
	f->st.wce_changed = false;
	pl[24 + 2] = 0x04; /* D_SENSE */
	select_n(f, false, 0x10, pl, sizeof(pl));
	t_assert_invalid_param(&f->res, 26, 2);
	/* A failed list changes nothing even if the caching page before it was valid. */
	assert_true(f->st.write_cache);
	assert_false(f->st.wce_changed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_sense6_caching, setup),
		cmocka_unit_test_setup(test_sense_read_only_and_big_device, setup),
		cmocka_unit_test_setup(test_sense10_all_pages, setup),
		cmocka_unit_test_setup(test_sense_truncated, setup),
		cmocka_unit_test_setup(test_sense_page_control, setup),
		cmocka_unit_test_setup(test_sense_invalid, setup),
		cmocka_unit_test_setup(test_select_roundtrip_wce, setup),
		cmocka_unit_test_setup(test_select_block_descriptor, setup),
		cmocka_unit_test_setup(test_select_invalid_cdb, setup),
		cmocka_unit_test_setup(test_select_length_errors, setup),
		cmocka_unit_test_setup(test_select_invalid_params, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
