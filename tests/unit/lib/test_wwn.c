/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* WWN validation, normalisation, generation; object name checks; portal names. */
#include "helpers.h"
#include "private.h"

static void norm_ok(const char *in, unsigned int types, const char *out, enum rts_wwn_type type)
{
	char buf[RTS_WWN_MAX + 1];
	enum rts_wwn_type t;

	assert_int_equal(rts_wwn_normalize(in, types, buf, sizeof(buf), &t), 0);
	assert_string_equal(buf, out);
	assert_int_equal(t, type);
}

static void norm_bad(const char *in, unsigned int types)
{
	char buf[RTS_WWN_MAX + 1];

	assert_true(rts_wwn_normalize(in, types, buf, sizeof(buf), NULL) < 0);
}

#define M(t) RTS_WWN_MASK(RTS_WWN_##t)

static void test_iqn(void **state)
{
	(void)state;
	norm_ok("iqn.2003-01.org.linux-iscsi.host.x8664:sn.abcdef", M(IQN),
		"iqn.2003-01.org.linux-iscsi.host.x8664:sn.abcdef", RTS_WWN_IQN);
	norm_ok("  IQN.1992-01.COM.Example:Storage.Disk1  ", M(IQN),
		"iqn.1992-01.com.example:storage.disk1", RTS_WWN_IQN);
	norm_ok("iqn.1994-05.com.redhat", M(IQN), "iqn.1994-05.com.redhat", RTS_WWN_IQN);
	norm_bad("iqn.2003-13.org.x", M(IQN)); /* month */
	norm_bad("iqn.2003-00.org.x", M(IQN));
	norm_bad("iqn.03-01.org.x", M(IQN)); /* year */
	norm_bad("iqn.2003-01.", M(IQN)); /* no authority */
	norm_bad("iqn.2003-01.org..x", M(IQN)); /* empty label */
	norm_bad("iqn.2003-01.org.x:a b", M(IQN));
	norm_bad("iqn.2003-01.org_x.y", M(IQN)); /* underscore */
	norm_bad("iqn.2003-01.org.x:", M(IQN));
	norm_bad("iqn.2003-01.org.x/../y", M(IQN));
	assert_int_equal(rts_wwn_validate("iqn.2003-01.org.x", RTS_WWN_IQN), 0);
}

static void test_naa(void **state)
{
	(void)state;
	norm_ok("naa.5001405abcdef123", M(NAA), "naa.5001405abcdef123", RTS_WWN_NAA);
	norm_ok("0x5001405ABCDEF123", M(NAA), "naa.5001405abcdef123", RTS_WWN_NAA);
	/* FC WWPN colon form (qla2xxx) */
	norm_ok("21:00:00:24:ff:31:4c:48", M(NAA), "naa.21000024ff314c48", RTS_WWN_NAA);
	/* NPIV / EUI-64 mapped NAA C..F: rtslib rejects these */
	norm_ok("c0:50:76:09:5a:d0:00:1c", M(NAA), "naa.c05076095ad0001c", RTS_WWN_NAA);
	norm_ok("naa.15b0aa00bb11cc22", M(NAA), "naa.15b0aa00bb11cc22", RTS_WWN_NAA);
	/* locally assigned (3) and 128-bit registered extended (6) */
	norm_ok("naa.3000000000000001", M(NAA), "naa.3000000000000001", RTS_WWN_NAA);
	norm_ok("naa.6001405ca1b2c3d4e5f6a7b8c9d0e1f2", M(NAA),
		"naa.6001405ca1b2c3d4e5f6a7b8c9d0e1f2", RTS_WWN_NAA);
	norm_bad("naa.4001405abcdef123", M(NAA)); /* NAA 4 */
	norm_bad("naa.5001405abcdef12", M(NAA)); /* 15 digits */
	norm_bad("naa.5001405abcdef12g", M(NAA));
	norm_bad("naa.5001405abcdef1230000000000000000", M(NAA)); /* 32 digits, not NAA 6 */
}

static void test_eui_ib_serial_free(void **state)
{
	(void)state;
	norm_ok("eui.0123456789ABCDEF", M(EUI), "eui.0123456789abcdef", RTS_WWN_EUI);
	norm_ok("01-23-45-67-89-ab-cd-ef", M(EUI), "eui.0123456789abcdef", RTS_WWN_EUI);
	norm_bad("eui.0123", M(EUI));
	norm_ok("0xfe800000000000000002c90300a1b2c3", M(IB), "ib.fe800000000000000002c90300a1b2c3",
		RTS_WWN_IB);
	norm_ok("fe80:0000:0000:0000:0002:c903:00a1:b2c3", M(IB),
		"ib.fe800000000000000002c90300a1b2c3", RTS_WWN_IB);
	norm_ok("0f4ea8b2-7b3a-4a0e-9d34-1f2e3d4c5b6a", M(UNIT_SERIAL),
		"0f4ea8b2-7b3a-4a0e-9d34-1f2e3d4c5b6a", RTS_WWN_UNIT_SERIAL);
	norm_bad("0f4ea8b2-7b3a-4a0e-9d34", M(UNIT_SERIAL));
	norm_ok("Anything-Goes", M(FREE), "Anything-Goes", RTS_WWN_FREE);
	norm_bad("a/b", M(FREE));
	norm_bad("..", M(FREE));
	norm_bad("", 0);
	/* first matching type wins, as for iSCSI (iqn, naa, eui) */
	norm_ok("naa.5001405abcdef123", M(IQN) | M(NAA) | M(EUI), "naa.5001405abcdef123",
		RTS_WWN_NAA);
	norm_bad("naa.5001405abcdef123", M(IQN));
}

static void test_lengths(void **state)
{
	char big[400], buf[16];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "iqn.2003-01.org.", 16);
	assert_int_equal(rts_wwn_normalize(big, M(IQN), buf, sizeof(buf), NULL), -ENAMETOOLONG);
	assert_int_equal(rts_wwn_normalize("naa.5001405abcdef123", M(NAA), buf, sizeof(buf), NULL),
			 -ENOSPC);
	assert_int_equal(rts_wwn_normalize(NULL, 0, buf, sizeof(buf), NULL), -EINVAL);
}

static void test_generate(void **state)
{
	char a[RTS_WWN_MAX + 1], b[RTS_WWN_MAX + 1];

	(void)state;
	for (int t = 0; t < RTS_WWN_TYPE_MAX; t++) {
		assert_int_equal(rts_wwn_generate((enum rts_wwn_type)t, a, sizeof(a)), 0);
		assert_int_equal(rts_wwn_generate((enum rts_wwn_type)t, b, sizeof(b)), 0);
		assert_string_not_equal(a, b);
		if (t != RTS_WWN_FREE)
			assert_int_equal(rts_wwn_validate(a, (enum rts_wwn_type)t), 0);
	}
	assert_int_equal(rts_wwn_generate(RTS_WWN_NAA, a, 8), -ENOSPC);
	assert_int_equal(rts_wwn_generate(RTS_WWN_TYPE_MAX, a, sizeof(a)), -EINVAL);
	assert_string_equal(rts_wwn_type_name(RTS_WWN_UNIT_SERIAL), "unit_serial");
	assert_null(rts_wwn_type_name(RTS_WWN_TYPE_MAX));
}

static void test_names(void **state)
{
	const char *reason;
	char big[300];

	(void)state;
	assert_int_equal(rts_name_validate("disk-1_a.b:c", NULL), 0);
	assert_int_equal(rts_name_validate("a/b", &reason), -EINVAL);
	assert_non_null(strstr(reason, "/"));
	assert_int_equal(rts_name_validate("..", &reason), -EINVAL);
	assert_int_equal(rts_name_validate(".", NULL), -EINVAL);
	assert_int_equal(rts_name_validate(".hidden", NULL), -EINVAL);
	assert_int_equal(rts_name_validate("a\nb", &reason), -EINVAL);
	assert_non_null(strstr(reason, "control"));
	assert_int_equal(rts_name_validate("a\x7f", NULL), -EINVAL);
	assert_int_equal(rts_name_validate("a b", NULL), -EINVAL);
	assert_int_equal(rts_name_validate("", NULL), -EINVAL);
	assert_int_equal(rts_name_validate(NULL, NULL), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(rts_name_validate(big, NULL), -ENAMETOOLONG);
	big[RTS_NAME_MAX] = '\0';
	assert_int_equal(rts_name_validate(big, NULL), 0);
}

static void test_portal_names(void **state)
{
	char ip[64];
	uint16_t port;
	bool v6;

	(void)state;
	assert_int_equal(portal_parse_name("192.168.1.10:3260", ip, sizeof(ip), &port, &v6), 0);
	assert_string_equal(ip, "192.168.1.10");
	assert_int_equal(port, 3260);
	assert_false(v6);
	assert_int_equal(portal_parse_name("[fe80::1]:3261", ip, sizeof(ip), &port, &v6), 0);
	assert_string_equal(ip, "fe80::1");
	assert_int_equal(port, 3261);
	assert_true(v6);
	assert_int_equal(portal_parse_name("[::]:3260", ip, sizeof(ip), &port, &v6), 0);
	assert_int_equal(portal_parse_name("fe80::1:3260", ip, sizeof(ip), &port, &v6), -EINVAL);
	assert_int_equal(portal_parse_name("1.2.3.4", ip, sizeof(ip), &port, &v6), -EINVAL);
	assert_int_equal(portal_parse_name("1.2.3.4:70000", ip, sizeof(ip), &port, &v6), -EINVAL);
	assert_int_equal(portal_parse_name("1.2.3:3260", ip, sizeof(ip), &port, &v6), -EINVAL);
	assert_int_equal(portal_parse_name("[1.2.3.4]:3260", ip, sizeof(ip), &port, &v6), -EINVAL);
	assert_int_equal(portal_parse_name("[::1]3260", ip, sizeof(ip), &port, &v6), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iqn),
		cmocka_unit_test(test_naa),
		cmocka_unit_test(test_eui_ib_serial_free),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_portal_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
