/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tcmu/plugin.c: loading handler .so files, refusing bad ones with a clear reason. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <rts/device.h>

static char *variant_path(const char *v)
{
	const char *bindir = getenv("RTS_TEST_BINDIR");
	char *p;

	assert_non_null(bindir);
	assert_true(asprintf(&p, "%s/tests/unit/tcmu/plugins/handler_%s.so", bindir, v) > 0);
	return p;
}

static int load(const char *variant, struct rts_loaded_handler **lh, char **why)
{
	char *path = variant_path(variant);
	int r;

	*why = NULL;
	r = rts_handler_load(path, lh, why);
	free(path);
	return r;
}

static void test_good(void **state)
{
	struct rts_loaded_handler *lh = NULL;
	char *why;

	(void)state;
	assert_int_equal(load("good", &lh, &why), 0);
	assert_null(why);
	const struct rts_handler *h = rts_loaded_handler_get(lh);
	assert_string_equal(h->subtype, "variant");
	assert_non_null(h->open);
	assert_null(h->write); /* not set by the plugin */
	assert_int_equal(h->struct_size, sizeof(struct rts_handler));
	assert_non_null(strstr(rts_loaded_handler_get_path(lh), "handler_good.so"));
	assert_null(rts_handler_unload(lh));
}

static void test_future_descriptor_is_truncated(void **state)
{
	struct rts_loaded_handler *lh = NULL;
	char *why;

	(void)state;
	assert_int_equal(load("future", &lh, &why), 0);
	assert_string_equal(rts_loaded_handler_get(lh)->subtype, "future");
	rts_handler_unload(lh);
}

static void expect_refusal(const char *variant, int err, const char *needle)
{
	struct rts_loaded_handler *lh = NULL;
	char *why;

	assert_int_equal(load(variant, &lh, &why), err);
	assert_null(lh);
	assert_non_null(why);
	if (!strstr(why, needle))
		fail_msg("reason '%s' lacks '%s'", why, needle);
	free(why);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_refusal("abi", -EPROTO, "ABI 2");
	expect_refusal("short", -EPROTO, "descriptor is 16 bytes");
	expect_refusal("nosym", -ENOEXEC, "does not export rts_handler_entry");
	expect_refusal("noopen", -EINVAL, "lacks a required field");
	expect_refusal("reserved", -EPROTO, "sets reserved_zero (7)");
	expect_refusal("missing", -ENOENT, "No such file");
}

static void test_not_a_library(void **state)
{
	struct rts_loaded_handler *lh = NULL;
	char *why = NULL;
	char path[] = "/tmp/rts-test-plugin-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not an ELF file\n", 16), 16);
	close(fd);
	assert_int_equal(rts_handler_load(path, &lh, &why), -ENOEXEC);
	assert_non_null(strstr(why, "cannot be loaded"));
	free(why);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_future_descriptor_is_truncated),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_not_a_library),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
