/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rbd handler's cfgstring parser (handlers/rbd/rbd_cfg.c), no cluster needed:
 * tcmu-runner's and ceph-iscsi's strings, our extensions (namespace, snapshot,
 * connect_timeout), and every refusal naming what is wrong.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rbd_cfg.h"

static void parse_ok(const char *s, struct rbd_cfg *c)
{
	char *why = NULL;
	int r = rbd_cfg_parse(s, c, &why);

	if (r != 0)
		fail_msg("'%s': %d %s", s, r, why ? why : "(no reason)");
	assert_null(why);
}

/* Refused with -EINVAL and a reason that contains @needle. */
static void parse_bad(const char *s, const char *needle)
{
	struct rbd_cfg c;
	char *why = NULL;
	int r = rbd_cfg_parse(s, &c, &why);

	if (r != -EINVAL)
		fail_msg("'%s' was not refused (%d)", s, r);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("'%s': reason '%s' does not mention '%s'", s, why, needle);
	free(why);
	/* nothing left allocated on failure */
	assert_null(c.pool);
	assert_null(c.image);
}

static void test_tcmu_runner_forms(void **state)
{
	struct rbd_cfg c;

	(void)state;
	parse_ok("rbd/img0", &c);
	assert_string_equal(c.pool, "rbd");
	assert_string_equal(c.image, "img0");
	assert_null(c.ns);
	assert_null(c.snap);
	assert_null(c.conf);
	assert_null(c.id);
	assert_int_equal(c.osd_op_timeout, 0);
	assert_int_equal(c.connect_timeout, RBD_CONNECT_TIMEOUT_DEFAULT);
	rbd_cfg_clear(&c);

	/* what ceph-iscsi writes */
	parse_ok("rbd/disk_1;osd_op_timeout=30", &c);
	assert_string_equal(c.pool, "rbd");
	assert_string_equal(c.image, "disk_1");
	assert_int_equal(c.osd_op_timeout, 30);
	rbd_cfg_clear(&c);

	parse_ok("data/vol.1;osd_op_timeout=5;conf=/etc/ceph/other.conf;id=iscsi", &c);
	assert_string_equal(c.pool, "data");
	assert_string_equal(c.image, "vol.1");
	assert_int_equal(c.osd_op_timeout, 5);
	assert_string_equal(c.conf, "/etc/ceph/other.conf");
	assert_string_equal(c.id, "iscsi");
	rbd_cfg_clear(&c);

	/* empty options are skipped, like tcmu-runner */
	parse_ok("p/i;;osd_op_timeout=0;", &c);
	assert_int_equal(c.osd_op_timeout, 0);
	rbd_cfg_clear(&c);
}

static void test_extensions(void **state)
{
	struct rbd_cfg c;

	(void)state;
	parse_ok("pool/ns1/img@snap-a;connect_timeout=3", &c);
	assert_string_equal(c.pool, "pool");
	assert_string_equal(c.ns, "ns1");
	assert_string_equal(c.image, "img");
	assert_string_equal(c.snap, "snap-a");
	assert_int_equal(c.connect_timeout, 3);
	rbd_cfg_clear(&c);

	parse_ok("pool/img@s", &c);
	assert_null(c.ns);
	assert_string_equal(c.snap, "s");
	rbd_cfg_clear(&c);

	/* a later repetition wins */
	parse_ok("p/i;id=a;id=b;conf=/x;conf=/y", &c);
	assert_string_equal(c.id, "b");
	assert_string_equal(c.conf, "/y");
	rbd_cfg_clear(&c);
}

static void test_refusals(void **state)
{
	(void)state;
	parse_bad("", "no image");
	parse_bad(";osd_op_timeout=1", "no image");
	parse_bad("img", "names no pool");
	parse_bad("/img", "bad pool name");
	parse_bad("pool/", "bad image name");
	parse_bad("a/b/c/d", "too many");
	parse_bad("pool//img", "bad namespace");
	parse_bad("pool/img@", "bad snapshot");
	parse_bad("pool/im@g@x", "bad snapshot");
	parse_bad("pool/i\tmg", "bad image name");
	parse_bad("p/i;bogus=1", "unknown option 'bogus=1'");
	parse_bad("p/i;ro", "unknown option 'ro'");
	parse_bad("p/i;osd_op_timeout=", "osd_op_timeout");
	parse_bad("p/i;osd_op_timeout=-1", "osd_op_timeout");
	parse_bad("p/i;osd_op_timeout=1s", "osd_op_timeout");
	parse_bad("p/i;osd_op_timeout=99999999999", "osd_op_timeout");
	parse_bad("p/i;connect_timeout=0", "connect_timeout");
	parse_bad("p/i;connect_timeout=3601", "connect_timeout");
	parse_bad("p/i;conf=", "conf");
	parse_bad("p/i;id=", "bad id");
	parse_bad("p/i;id=client.admin", "without 'client.'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcmu_runner_forms),
		cmocka_unit_test(test_extensions),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
