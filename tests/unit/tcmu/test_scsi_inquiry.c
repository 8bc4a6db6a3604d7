/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* INQUIRY standard data and VPD pages (tcmu/scsi/inquiry.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "t_scsi.h"

static void inquiry(const struct scsi_dev_info *di, bool evpd, uint8_t page, uint16_t alloc,
		    uint8_t *buf, size_t len, size_t chunks, struct scsi_result *res)
{
	struct scsi_state st;
	uint8_t cdb[6] = { SCSI_INQUIRY, evpd ? 1 : 0, page };

	scsi_put_be16(&cdb[3], alloc);
	scsi_state_init(&st, di);
	memset(buf, 0xcc, len);
	t_emulate(di, &st, cdb, sizeof(cdb), buf, len, chunks, res);
}

static void test_standard(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	uint8_t buf[256];

	(void)state;
	t_dev_info(&di);
	inquiry(&di, false, 0, sizeof(buf), buf, sizeof(buf), 5, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 74);
	assert_int_equal(buf[0], 0x00); /* disk */
	assert_int_equal(buf[1], 0x00); /* not removable */
	assert_int_equal(buf[2], 0x06); /* SPC-4 */
	assert_int_equal(buf[3], 0x12); /* HISUP, format 2 */
	assert_int_equal(buf[4], 74 - 5); /* additional length */
	assert_int_equal(buf[5], 0x00); /* no TPGS, no 3PC, no PROTECT */
	assert_int_equal(buf[7], 0x02); /* CMDQUE */
	assert_memory_equal(&buf[8], "RTSLIB  ", 8);
	assert_memory_equal(&buf[16], "TCMU device     ", 16);
	assert_memory_equal(&buf[32], "0001", 4);
	assert_int_equal(scsi_get_be16(&buf[58]), 0x00a0);
	assert_int_equal(scsi_get_be16(&buf[60]), 0x0460);
	assert_int_equal(scsi_get_be16(&buf[62]), 0x04c0);
	assert_int_equal(buf[74], 0xcc); /* nothing written past the data */
}

static void test_standard_ascii_sanitised(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	uint8_t buf[96];

	(void)state;
	t_dev_info(&di);
	/* Fields without a NUL and with control characters. */
	memcpy(di.vendor, "AB\tCDEFGH", 9);
	memset(di.product, 'P', sizeof(di.product));
	memcpy(di.revision, "\x01x", 3);
	inquiry(&di, false, 0, sizeof(buf), buf, sizeof(buf), 1, &res);
	t_assert_good(&res);
	assert_memory_equal(&buf[8], "AB CDEFG", 8);
	assert_memory_equal(&buf[16], "PPPPPPPPPPPPPPPP", 16);
	assert_memory_equal(&buf[32], " x  ", 4);
}

static void test_standard_truncated(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	uint8_t buf[64];

	(void)state;
	t_dev_info(&di);
	/* Allocation length 5: header only, additional length still the full one. */
	inquiry(&di, false, 0, 5, buf, sizeof(buf), 3, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 5);
	assert_int_equal(buf[4], 69);
	assert_int_equal(buf[5], 0xcc);
	/* Allocation length 0: nothing. */
	inquiry(&di, false, 0, 0, buf, sizeof(buf), 3, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 0);
	assert_int_equal(buf[0], 0xcc);
	/* Buffer smaller than allocation length: bounded by the buffer. */
	inquiry(&di, false, 0, 255, buf, 36, 4, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 36);
	assert_memory_equal(&buf[32], "0001", 4);
}

static void test_invalid_cdb(void **state)
{
	struct scsi_dev_info di;
	struct scsi_state st;
	struct scsi_result res;
	uint8_t buf[64];
	uint8_t cmddt[6] = { SCSI_INQUIRY, 0x02, 0, 0, 64, 0 };

	(void)state;
	t_dev_info(&di);
	/* EVPD=0 with a page code. */
	inquiry(&di, false, 0x80, 64, buf, sizeof(buf), 1, &res);
	t_assert_invalid_cdb(&res, 2, -1);
	assert_int_equal(buf[0], 0xcc);
	/* Unknown VPD pages. */
	const uint8_t bad[] = { 0x01, 0x81, 0x86, 0x89, 0xb3, 0xc0, 0xff };

	for (size_t i = 0; i < sizeof(bad); i++) {
		inquiry(&di, true, bad[i], 64, buf, sizeof(buf), 1, &res);
		t_assert_invalid_cdb(&res, 2, -1);
	}
	/* CMDDT (obsolete) */
	scsi_state_init(&st, &di);
	t_emulate(&di, &st, cmddt, sizeof(cmddt), buf, sizeof(buf), 1, &res);
	t_assert_invalid_cdb(&res, 1, 1);
}

static void test_vpd_supported(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	uint8_t buf[128];
	const uint8_t want[] = { 0, 0, 0, 6, 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };

	(void)state;
	t_dev_info(&di);
	inquiry(&di, true, 0x00, 64, buf, sizeof(buf), 4, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* Every listed page answers. */
	for (size_t i = 4; i < sizeof(want); i++) {
		inquiry(&di, true, want[i], sizeof(buf), buf, sizeof(buf), 2, &res);
		t_assert_good(&res);
		assert_int_equal(buf[1], want[i]);
		assert_int_equal(scsi_get_be16(&buf[2]) + 4u, res.data_len);
	}
}

static void test_vpd_serial(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	uint8_t buf[128];

	(void)state;
	t_dev_info(&di);
	inquiry(&di, true, 0x80, sizeof(buf), buf, sizeof(buf), 3, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 4 + 32);
	assert_int_equal(buf[1], 0x80);
	assert_int_equal(scsi_get_be16(&buf[2]), 32);
	assert_memory_equal(&buf[4], di.serial, 32);
	/* Truncated to 10 bytes. */
	inquiry(&di, true, 0x80, 10, buf, sizeof(buf), 3, &res);
	assert_int_equal(res.data_len, 10);
	assert_int_equal(scsi_get_be16(&buf[2]), 32);
	assert_int_equal(buf[10], 0xcc);
}

static void test_vpd_device_id(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	uint8_t buf[256];
	/* NAA 6, OUI 001405, then the serial's hex digits 0123456789abcdef012345678 */
	const uint8_t naa[] = { 0x01, 0x03, 0x00, 0x10, 0x60, 0x01, 0x40, 0x50, 0x12, 0x34,
				0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78 };

	(void)state;
	t_dev_info(&di);
	inquiry(&di, true, 0x83, sizeof(buf), buf, sizeof(buf), 7, &res);
	t_assert_good(&res);
	assert_int_equal(buf[1], 0x83);
	assert_int_equal(res.data_len, 4 + 20 + 4 + 8 + 32);
	assert_int_equal(scsi_get_be16(&buf[2]), 20 + 4 + 8 + 32);
	assert_memory_equal(&buf[4], naa, sizeof(naa));
	/* T10 vendor ID: ASCII, LU, type 1, vendor + serial. */
	assert_int_equal(buf[24], 0x02);
	assert_int_equal(buf[25], 0x01);
	assert_int_equal(buf[27], 8 + 32);
	assert_memory_equal(&buf[28], "RTSLIB  ", 8);
	assert_memory_equal(&buf[36], di.serial, 32);

	/* Non-hex characters are skipped; a short serial leaves zeros. */
	strcpy(di.serial, "x1-2:Z3");
	inquiry(&di, true, 0x83, sizeof(buf), buf, sizeof(buf), 2, &res);
	const uint8_t naa_short[16] = { 0x60, 0x01, 0x40, 0x51, 0x23 };

	assert_memory_equal(&buf[8], naa_short, sizeof(naa_short));
	assert_int_equal(buf[27], 8 + 7);
	assert_memory_equal(&buf[36], "x1-2:Z3", 7);

	/* Truncated in the middle of the NAA designator: page length still full. */
	strcpy(di.serial, "0123456789abcdef0123456789abcdef");
	inquiry(&di, true, 0x83, 12, buf, sizeof(buf), 3, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 12);
	assert_int_equal(scsi_get_be16(&buf[2]), 64);
	assert_memory_equal(&buf[4], naa, 8);
	assert_int_equal(buf[12], 0xcc);
}

static void test_vpd_block_limits(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	uint8_t buf[80];

	(void)state;
	t_dev_info(&di);
	inquiry(&di, true, 0xb0, sizeof(buf), buf, sizeof(buf), 4, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 64);
	assert_int_equal(scsi_get_be16(&buf[2]), 0x3c);
	assert_int_equal(buf[4], 0x01); /* WSNZ */
	assert_int_equal(buf[5], 1); /* MAXIMUM COMPARE AND WRITE LENGTH */
	assert_int_equal(scsi_get_be32(&buf[8]), 128);
	assert_int_equal(scsi_get_be32(&buf[12]), 64);
	assert_int_equal(scsi_get_be32(&buf[20]), 1024);
	assert_int_equal(scsi_get_be32(&buf[24]), 4);
	assert_int_equal(scsi_get_be32(&buf[28]), 8);
	assert_int_equal(scsi_get_be64(&buf[36]), 256);

	/* Thin without limits: "no maximum" is FFFFFFFFh. */
	di.max_unmap_blocks = 0;
	di.max_unmap_descs = 0;
	inquiry(&di, true, 0xb0, sizeof(buf), buf, sizeof(buf), 4, &res);
	assert_int_equal(scsi_get_be32(&buf[20]), 0xffffffffu);
	assert_int_equal(scsi_get_be32(&buf[24]), 0xffffffffu);

	/* Not thin: no UNMAP limits at all. */
	t_dev_info(&di);
	di.thin = false;
	inquiry(&di, true, 0xb0, sizeof(buf), buf, sizeof(buf), 4, &res);
	assert_int_equal(scsi_get_be32(&buf[20]), 0);
	assert_int_equal(scsi_get_be32(&buf[24]), 0);
	assert_int_equal(scsi_get_be32(&buf[28]), 0);
	assert_int_equal(scsi_get_be64(&buf[36]), 256);
}

static void test_vpd_block_dev_char(void **state)
{
	struct scsi_dev_info di;
	struct scsi_result res;
	uint8_t buf[80];

	(void)state;
	t_dev_info(&di);
	inquiry(&di, true, 0xb1, sizeof(buf), buf, sizeof(buf), 1, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 64);
	assert_int_equal(scsi_get_be16(&buf[2]), 0x3c);
	assert_int_equal(scsi_get_be16(&buf[4]), 1);
	di.solid_state = false;
	inquiry(&di, true, 0xb1, sizeof(buf), buf, sizeof(buf), 1, &res);
	assert_int_equal(scsi_get_be16(&buf[4]), 0);
}

static void test_vpd_lb_provisioning(void **state)
{
	struct scsi_dev_info di;
	struct scsi_state st;
	struct scsi_result res;
	uint8_t buf[32], rc[32];
	const uint8_t rc16[16] = { SCSI_SERVICE_ACTION_IN_16, 0x10, [13] = 32 };

	(void)state;
	t_dev_info(&di);
	inquiry(&di, true, 0xb2, sizeof(buf), buf, sizeof(buf), 2, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 8);
	assert_int_equal(scsi_get_be16(&buf[2]), 4);
	assert_int_equal(buf[5], 0xe4); /* LBPU LBPWS LBPWS10 LBPRZ */
	assert_int_equal(buf[6], 0x02); /* thin provisioned */
	/* LBPRZ agrees with READ CAPACITY 16. */
	scsi_state_init(&st, &di);
	t_emulate(&di, &st, rc16, sizeof(rc16), rc, sizeof(rc), 1, &res);
	assert_int_equal(!!(rc[14] & 0x40), !!(buf[5] & 0x04));

	di.thin = false;
	inquiry(&di, true, 0xb2, sizeof(buf), buf, sizeof(buf), 2, &res);
	assert_int_equal(buf[5], 0);
	assert_int_equal(buf[6], 0);
	t_emulate(&di, &st, rc16, sizeof(rc16), rc, sizeof(rc), 1, &res);
	assert_int_equal(!!(rc[14] & 0x40), !!(buf[5] & 0x04));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard),
		cmocka_unit_test(test_standard_ascii_sanitised),
		cmocka_unit_test(test_standard_truncated),
		cmocka_unit_test(test_invalid_cdb),
		cmocka_unit_test(test_vpd_supported),
		cmocka_unit_test(test_vpd_serial),
		cmocka_unit_test(test_vpd_device_id),
		cmocka_unit_test(test_vpd_block_limits),
		cmocka_unit_test(test_vpd_block_dev_char),
		cmocka_unit_test(test_vpd_lb_provisioning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
