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

#define IO(p50, hist)                                                                       \
	",\"read_cmds\":10,\"write_cmds\":5,\"other_cmds\":1,\"read_bytes\":40960,"           \
	"\"write_bytes\":2560,\"lat_p50_ns\":" #p50 ",\"lat_p99_ns\":9000,"                   \
	"\"lat_p999_ns\":9000,\"lat_max_ns\":8500,\"lat_hist\":" hist

#define DOC(dev) "{\"schema\":\"rts-runner-status/1\",\"devices\":[" dev "]}"

/* The I/O members: parsed when present, all-or-nothing, histogram checked. */
static void test_io(void **state)
{
	const char *doc = DOC(DEV(IO(1000, "[[1023,10],[4095,5],[9215,1]]")));
	struct status_doc d;
	char *err = NULL;

	(void)state;
	assert_int_equal(status_parse(doc, strlen(doc), &d, &err), 0);
	assert_true(d.devs[0].has_io);
	assert_int_equal(d.devs[0].read_cmds, 10);
	assert_int_equal(d.devs[0].write_bytes, 2560);
	assert_int_equal(d.devs[0].lat_p50_ns, 1000);
	assert_int_equal(d.devs[0].nhist, 3);
	assert_int_equal(d.devs[0].hist[2][0], 9215);
	assert_int_equal(d.devs[0].hist[2][1], 1);
	status_doc_free(&d);

	doc = DOC(DEV(""));
	assert_int_equal(status_parse(doc, strlen(doc), &d, &err), 0);
	assert_false(d.devs[0].has_io); /* an older runner */
	assert_int_equal(d.devs[0].nhist, 0);
	status_doc_free(&d);

	expect_refused(DOC(DEV(",\"read_cmds\":1")), "device 0: an I/O counter");
	expect_refused(DOC(DEV(IO(-1, "[]"))), "device 0: an I/O counter");
	expect_refused(DOC(DEV(IO(1, "{}"))), "\"lat_hist\" is not an array");
	expect_refused(DOC(DEV(IO(1, "[[1,2,3]]"))), "entries must be [upper_ns, count]");
	expect_refused(DOC(DEV(IO(1, "[7]"))), "entries must be [upper_ns, count]");
	expect_refused(DOC(DEV(IO(1, "[[1,-2]]"))), "non-negative integers");
	expect_refused(DOC(DEV(IO(1, "[[1,\"2\"]]"))), "non-negative integers");
	expect_refused(DOC(DEV(IO(1, "[[5,1],[5,1]]"))), "bounds are not ascending");
}

/* Percentiles of an interval come from the difference of two histograms. */
static void test_hist_percentile(void **state)
{
	uint64_t a[][2] = { { 1000, 90 }, { 2000, 10 } };
	uint64_t b[][2] = { { 1000, 90 }, { 2000, 10 }, { 50000, 100 } };
	uint64_t c[][2] = { { 500, 1 }, { 1000, 190 }, { 2000, 10 }, { 50000, 100 } };
	struct status_dev prev = { .hist = a, .nhist = 2 };
	struct status_dev cur = { .hist = b, .nhist = 3 };
	struct status_dev later = { .hist = c, .nhist = 4 };

	(void)state;
	/* since start: 90 + 10 + 100 commands */
	assert_int_equal(status_hist_percentile(&cur, NULL, 500), 2000); /* the 100th */
	assert_int_equal(status_hist_percentile(&cur, NULL, 505), 50000);
	assert_int_equal(status_hist_percentile(&cur, NULL, 400), 1000);
	assert_int_equal(status_hist_percentile(&cur, NULL, 460), 2000);
	/* the interval: only the 100 new ones, all in the 50 us bucket */
	assert_int_equal(status_hist_percentile(&cur, &prev, 500), 50000);
	assert_int_equal(status_hist_percentile(&cur, &prev, 1), 50000);
	/* a bucket new in @later (500 ns) and 100 more at 1 us */
	assert_int_equal(status_hist_percentile(&later, &cur, 1), 500);
	assert_int_equal(status_hist_percentile(&later, &cur, 999), 1000);
	/* nothing happened */
	assert_int_equal(status_hist_percentile(&cur, &cur, 500), 0);
	assert_int_equal(status_hist_percentile(&prev, &cur, 500), 0); /* counters went back */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_hist_percentile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
