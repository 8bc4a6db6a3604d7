/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * REPORT / SET TARGET PORT GROUPS (tcmu/scsi/alua.c): both RTPG formats byte by byte,
 * allocation-length truncation, STPG transitions and every refusal (nothing changes then).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "t_scsi.h"
#include "alua.h"

/* Two gateways: group 1 (port 1) optimized and preferred, group 2 (ports 2, 3) standby. */
static void two_groups(struct scsi_alua *a, uint8_t tpgs)
{
	const uint8_t sup = SCSI_ALUA_SUP_AO | SCSI_ALUA_SUP_AN | SCSI_ALUA_SUP_S |
			    SCSI_ALUA_SUP_U | SCSI_ALUA_SUP_T;

	memset(a, 0, sizeof(*a));
	a->tpgs = tpgs;
	a->transition_time = 10;
	a->ngroups = 2;
	a->groups[0] = (struct scsi_alua_group){ .id = 1, .state = SCSI_ALUA_ACTIVE_OPTIMIZED,
						 .supported = sup, .preferred = true, .nports = 1,
						 .rel_port_ids = { 1 } };
	a->groups[1] = (struct scsi_alua_group){ .id = 2, .state = SCSI_ALUA_STANDBY,
						 .supported = sup, .nports = 2,
						 .rel_port_ids = { 2, 3 } };
}

static void rtpg(const struct scsi_alua *a, uint8_t fmt, uint32_t alloc, uint8_t *buf,
		 size_t len, size_t chunks, struct scsi_result *res)
{
	uint8_t cdb[12] = { SCSI_MAINTENANCE_IN, (uint8_t)(fmt << 5 | SCSI_SA_RTPG) };
	struct iovec iov[T_MAX_IOV];
	size_t n;

	scsi_put_be32(&cdb[6], alloc);
	memset(buf, 0xee, len);
	n = t_iov_split(buf, len, chunks, iov);
	scsi_alua_rtpg(a, cdb, sizeof(cdb), iov, n, res);
}

static void test_rtpg_length_format(void **state)
{
	struct scsi_alua a;
	struct scsi_result res;
	uint8_t buf[64];

	(void)state;
	two_groups(&a, SCSI_TPGS_BOTH);
	rtpg(&a, 0, sizeof(buf), buf, sizeof(buf), 3, &res);
	t_assert_good(&res);
	/* 4 + (8 + 4) + (8 + 8) = 32 bytes, RETURN DATA LENGTH 28 */
	assert_int_equal(res.data_len, 32);
	assert_int_equal(scsi_get_be32(buf), 28);
	assert_int_equal(buf[4], 0x80 | SCSI_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(buf[5], 0x8f);
	assert_int_equal(scsi_get_be16(&buf[6]), 1);
	assert_int_equal(buf[9], SCSI_ALUA_STATUS_NONE);
	assert_int_equal(buf[11], 1);
	assert_int_equal(scsi_get_be16(&buf[14]), 1);
	assert_int_equal(buf[16], SCSI_ALUA_STANDBY);
	assert_int_equal(scsi_get_be16(&buf[18]), 2);
	assert_int_equal(buf[23], 2);
	assert_int_equal(scsi_get_be16(&buf[26]), 2);
	assert_int_equal(scsi_get_be16(&buf[30]), 3);
	assert_int_equal(buf[32], 0xee); /* nothing past the data */
}

static void test_rtpg_extended_and_truncated(void **state)
{
	struct scsi_alua a;
	struct scsi_result res;
	uint8_t buf[64];

	(void)state;
	two_groups(&a, SCSI_TPGS_IMPLICIT);
	rtpg(&a, 1, sizeof(buf), buf, sizeof(buf), 1, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 36);
	assert_int_equal(scsi_get_be32(buf), 32);
	assert_int_equal(buf[4], 0x10);
	assert_int_equal(buf[5], 10);
	assert_int_equal(scsi_get_be16(&buf[10]), 1);
	/* allocation length 6: the header only, RETURN DATA LENGTH still the full one */
	rtpg(&a, 1, 6, buf, sizeof(buf), 2, &res);
	t_assert_good(&res);
	assert_int_equal(res.data_len, 6);
	assert_int_equal(scsi_get_be32(buf), 32);
	assert_int_equal(buf[6], 0xee);
	/* reserved format, no ALUA at all */
	rtpg(&a, 2, sizeof(buf), buf, sizeof(buf), 1, &res);
	t_assert_invalid_cdb(&res, 1, 7);
	a.tpgs = SCSI_TPGS_NONE;
	rtpg(&a, 0, sizeof(buf), buf, sizeof(buf), 1, &res);
	t_assert_sense(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
}

static int stpg(const struct scsi_alua *a, const uint8_t (*descs)[2], unsigned int nd,
		uint32_t cdb_len_field, size_t chunks, struct scsi_alua_change *ch,
		struct scsi_result *res)
{
	uint8_t cdb[12] = { SCSI_MAINTENANCE_OUT, SCSI_SA_STPG }, pl[4 + 4 * 8] = { 0 };
	struct iovec iov[T_MAX_IOV];
	size_t len = 4 + 4 * (size_t)nd, n;

	for (unsigned int i = 0; i < nd; i++) {
		pl[4 + 4 * i] = descs[i][1];
		scsi_put_be16(&pl[4 + 4 * i + 2], descs[i][0]);
	}
	scsi_put_be32(&cdb[6], cdb_len_field == UINT32_MAX ? (uint32_t)len : cdb_len_field);
	n = t_iov_split(pl, len, chunks, iov);
	return scsi_alua_stpg_parse(a, cdb, sizeof(cdb), iov, n, len, ch, 8, res);
}

static void test_stpg_switch(void **state)
{
	static const uint8_t sw[][2] = { { 2, SCSI_ALUA_ACTIVE_OPTIMIZED },
					 { 1, SCSI_ALUA_STANDBY } };
	struct scsi_alua a;
	struct scsi_alua_change ch[8];
	struct scsi_result res;
	uint8_t buf[64];
	int n;

	(void)state;
	two_groups(&a, SCSI_TPGS_BOTH);
	n = stpg(&a, sw, 2, UINT32_MAX, 3, ch, &res);
	t_assert_good(&res);
	assert_int_equal(n, 2);
	assert_int_equal(ch[0].group, 1);
	assert_int_equal(ch[0].state, SCSI_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(ch[1].group, 0);
	/* parsing changes nothing; apply does, and RTPG reports it with STATUS CODE 1 */
	assert_int_equal(a.groups[1].state, SCSI_ALUA_STANDBY);
	scsi_alua_apply(&a, ch, (unsigned int)n);
	rtpg(&a, 0, sizeof(buf), buf, sizeof(buf), 1, &res);
	t_assert_good(&res);
	assert_int_equal(buf[4] & 0x0f, SCSI_ALUA_STANDBY);
	assert_int_equal(buf[9], SCSI_ALUA_STATUS_ALTERED_BY_STPG);
	assert_int_equal(buf[16] & 0x0f, SCSI_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(buf[21], SCSI_ALUA_STATUS_ALTERED_BY_STPG);
	/* an empty list is fine and changes nothing */
	assert_int_equal(stpg(&a, sw, 0, 0, 1, ch, &res), 0);
	t_assert_good(&res);
}

static void test_stpg_refusals(void **state)
{
	static const uint8_t unknown[][2] = { { 7, SCSI_ALUA_ACTIVE_OPTIMIZED } };
	static const uint8_t trans[][2] = { { 1, SCSI_ALUA_TRANSITIONING } };
	static const uint8_t lbd[][2] = { { 1, SCSI_ALUA_LBA_DEPENDENT } };
	static const uint8_t twice[][2] = { { 1, SCSI_ALUA_STANDBY },
					    { 1, SCSI_ALUA_ACTIVE_OPTIMIZED } };
	static const uint8_t unav[][2] = { { 2, SCSI_ALUA_UNAVAILABLE } };
	struct scsi_alua a;
	struct scsi_alua_change ch[8];
	struct scsi_result res;

	(void)state;
	two_groups(&a, SCSI_TPGS_BOTH);
	assert_int_equal(stpg(&a, unknown, 1, UINT32_MAX, 1, ch, &res), -1);
	t_assert_invalid_param(&res, 6, -1);
	assert_int_equal(stpg(&a, trans, 1, UINT32_MAX, 1, ch, &res), -1);
	t_assert_invalid_param(&res, 4, 3);
	assert_int_equal(stpg(&a, lbd, 1, UINT32_MAX, 2, ch, &res), -1);
	t_assert_invalid_param(&res, 4, 3);
	assert_int_equal(stpg(&a, twice, 2, UINT32_MAX, 3, ch, &res), -1);
	t_assert_invalid_param(&res, 10, -1);
	/* a state the group does not support */
	a.groups[1].supported &= (uint8_t)~SCSI_ALUA_SUP_U;
	assert_int_equal(stpg(&a, unav, 1, UINT32_MAX, 1, ch, &res), -1);
	t_assert_invalid_param(&res, 4, 3);
	/* lengths: not header + n descriptors, longer than the Data-Out */
	assert_int_equal(stpg(&a, unav, 1, 6, 1, ch, &res), -1);
	t_assert_sense(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	assert_int_equal(stpg(&a, unav, 1, 12, 1, ch, &res), -1);
	t_assert_sense(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	/* implicit-only ALUA: STPG is not supported */
	a.tpgs = SCSI_TPGS_IMPLICIT;
	assert_int_equal(stpg(&a, unav, 1, UINT32_MAX, 1, ch, &res), -1);
	t_assert_sense(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
	/* nothing changed by any of it */
	assert_int_equal(a.groups[0].state, SCSI_ALUA_ACTIVE_OPTIMIZED);
	assert_int_equal(a.groups[1].state, SCSI_ALUA_STANDBY);
	assert_int_equal(a.groups[0].status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtpg_length_format),
		cmocka_unit_test(test_rtpg_extended_and_truncated),
		cmocka_unit_test(test_stpg_switch),
		cmocka_unit_test(test_stpg_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
