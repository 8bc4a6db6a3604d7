/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl status: parsing and checking the rts-runner status socket reply (ctl/cmd_status.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "status.h"

#define DEV(extra)                                                                          \
	"{\"name\":\"disk1\",\"handler\":\"file\",\"cfgstring\":\"file//srv/d.img\","       \
	"\"state\":\"running\",\"size\":1073741824,\"block_size\":512,\"inflight\":3,"      \
	"\"cmds\":1000,\"completions\":997,\"errors\":2,\"aborts\":1" extra "}"

static void test_valid(void **state)
{
	const char *doc = "{\"schema\":\"rts-runner-status/1\",\"pid\":42,\"version\":\"0.1.0\","
			  "\"mode\":\"kernel\",\"handlers\":[{\"subtype\":\"file\"}],"
			  "\"devices\":[" DEV("") "," DEV(",\"state\":\"failed\","
							   "\"failure\":\"corrupt ring\"") "]}\n";
	struct status_doc d;
	char *err = NULL;

	(void)state;
	assert_int_equal(status_parse(doc, strlen(doc), &d, &err), 0);
	assert_null(err);
	assert_int_equal(d.pid, 42);
	assert_string_equal(d.version, "0.1.0");
	assert_string_equal(d.mode, "kernel");
	assert_non_null(d.handlers);
	assert_int_equal(d.ndevs, 2);
	assert_string_equal(d.devs[0].name, "disk1");
	assert_string_equal(d.devs[0].cfgstring, "file//srv/d.img");
	assert_int_equal(d.devs[0].size, 1073741824);
	assert_int_equal(d.devs[0].inflight, 3);
	assert_int_equal(d.devs[0].completions, 997);
	assert_int_equal(d.devs[0].errors, 2);
	assert_int_equal(d.devs[0].aborts, 1);
	assert_null(d.devs[0].failure);
	assert_string_equal(d.devs[1].state, "failed"); /* the later duplicate key wins */
	assert_string_equal(d.devs[1].failure, "corrupt ring");
	status_doc_free(&d);

	/* a newer minor schema with members we do not know still parses */
	doc = "{\"schema\":\"rts-runner-status/7\",\"devices\":[],\"new\":{\"x\":1}}";
	assert_int_equal(status_parse(doc, strlen(doc), &d, &err), 0);
	assert_int_equal(d.ndevs, 0);
	assert_string_equal(d.version, "?");
	status_doc_free(&d);
}

static void expect_refused(const char *doc, const char *msg)
{
	struct status_doc d;
	char *err = NULL;

	assert_int_equal(status_parse(doc, strlen(doc), &d, &err), -EBADMSG);
	assert_non_null(err);
	if (!strstr(err, msg))
		fail_msg("'%s' lacks '%s'", err, msg);
	assert_null(d.root);
	assert_null(d.devs);
	free(err);
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("", "truncated");
	expect_refused("{\"schema\":", "truncated");
	expect_refused("not json", "not JSON");
	expect_refused("[1,2]", "no \"schema\"");
	expect_refused("{\"schema\":5}", "no \"schema\"");
	expect_refused("{\"schema\":\"rtsctl/1\",\"devices\":[]}",
		       "unknown schema 'rtsctl/1' (expected rts-runner-status/*)");
	expect_refused("{\"schema\":\"rts-runner-status/1\"}", "no \"devices\" array");
	expect_refused("{\"schema\":\"rts-runner-status/1\",\"devices\":{}}", "no \"devices\"");
	expect_refused("{\"schema\":\"rts-runner-status/1\",\"devices\":[7]}",
		       "device 0: needs string members");
	expect_refused("{\"schema\":\"rts-runner-status/1\",\"devices\":[" DEV("") ","
		       "{\"name\":\"x\",\"handler\":\"h\",\"state\":\"running\"}]}",
		       "device 1: needs string members name, handler, state, cfgstring");
	expect_refused("{\"schema\":\"rts-runner-status/1\",\"devices\":[" DEV(",\"cmds\":-5") "]}",
		       "device 0: \"cmds\" is not a non-negative integer");
	expect_refused("{\"schema\":\"rts-runner-status/1\",\"devices\":[" DEV(",\"size\":\"1G\"") "]}",
		       "device 0: \"size\" is not a non-negative integer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
