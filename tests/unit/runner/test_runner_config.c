/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tcmu/runner/config.c: parsing, defaults, every error message, warnings, apply, reload. */
#include <errno.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "t_runner_log.h"

static char *tmpdir;

static char *conf_path(void)
{
	return g_build_filename(tmpdir, "runner.conf", NULL);
}

static char *write_conf(const char *text)
{
	char *p = conf_path();

	assert_true(g_file_set_contents(p, text, -1, NULL));
	return p;
}

static void expect_substr(const char *s, const char *needle)
{
	if (!s || !strstr(s, needle))
		fail_msg("'%s' lacks '%s'", s ? s : "(null)", needle);
}

static void test_missing_default_file_gives_defaults(void **state)
{
	struct runner r = { .log_priority = RTS_LOG_DEBUG, .log_target = RUNNER_LOG_SYSLOG };
	struct runner_config *c = NULL;
	char *p = g_build_filename(tmpdir, "absent.conf", NULL), *err = NULL;
	char **keys;

	(void)state;
	assert_int_equal(runner_config_load(&r, p, false, &c, &err), 0);
	assert_null(err);
	assert_string_equal(runner_config_get_path(c), p);
	assert_null(runner_config_get_handler_dir(c));
	assert_int_equal(runner_config_get_log_level(c), 0);
	assert_int_equal(runner_config_get_log_target(c), -1);
	assert_true(runner_config_get_tmr_notification(c));
	assert_true(runner_config_get_tmr_notification(NULL));
	assert_null(runner_config_handler_option(c, "ram", "x"));
	keys = runner_config_handler_keys(c, "ram");
	assert_null(keys[0]);
	g_strfreev(keys);
	runner_config_apply(&r, c);
	assert_ptr_equal(r.config, c);
	assert_int_equal(r.log_priority, RTS_LOG_NOTICE);
	assert_int_equal(r.log_target, RUNNER_LOG_STDERR);
	r.config = runner_config_free(r.config);
	g_free(p);
}

static void test_missing_explicit_file_is_an_error(void **state)
{
	struct runner r = { 0 };
	struct runner_config *c = NULL;
	char *p = g_build_filename(tmpdir, "absent.conf", NULL), *err = NULL;

	(void)state;
	assert_int_equal(runner_config_load(&r, p, true, &c, &err), -ENOENT);
	assert_null(c);
	expect_substr(err, "cannot read config file");
	expect_substr(err, "absent.conf");
	g_free(err);
	/* A directory is unreadable as a file: -EIO, still a message. */
	err = NULL;
	assert_int_equal(runner_config_load(&r, tmpdir, false, &c, &err), -EIO);
	expect_substr(err, "cannot read config file");
	g_free(err);
	g_free(p);
}

static void test_full_file(void **state)
{
	struct runner r = { 0 };
	struct runner_config *c = NULL;
	char *err = NULL, **keys;
	char *p = write_conf("# comment\n"
			     "[runner]\n"
			     "handler_dir = /opt/rts/handlers  \n"
			     "log_level=DEBUG\n"
			     "log_target = syslog\n"
			     "tmr_notification = Off\n"
			     "\n"
			     "[handler.ram]\n"
			     "zeta = 1\n"
			     "alpha = two words\n"
			     "[handler.file]\n"
			     "path=/srv/a\\tb\n");

	(void)state;
	t_log_clear();
	assert_int_equal(runner_config_load(&r, p, true, &c, &err), 0);
	assert_int_equal(t_log_count(), 0); /* nothing unknown: no warning */
	assert_string_equal(runner_config_get_handler_dir(c), "/opt/rts/handlers");
	assert_int_equal(runner_config_get_log_level(c), RTS_LOG_DEBUG);
	assert_int_equal(runner_config_get_log_target(c), RUNNER_LOG_SYSLOG);
	assert_string_equal(runner_config_handler_option(c, "ram", "alpha"), "two words");
	assert_string_equal(runner_config_handler_option(c, "ram", "zeta"), "1");
	assert_string_equal(runner_config_handler_option(c, "file", "path"), "/srv/a\tb");
	assert_null(runner_config_handler_option(c, "ram", "path"));
	assert_null(runner_config_handler_option(c, "rbd", "alpha"));
	keys = runner_config_handler_keys(c, "ram");
	assert_string_equal(keys[0], "alpha");
	assert_string_equal(keys[1], "zeta");
	assert_null(keys[2]);
	g_strfreev(keys);
	assert_false(runner_config_get_tmr_notification(c));
	/* what a device of that handler gets: key, value pairs in key order */
	keys = runner_config_handler_options(c, "ram");
	assert_string_equal(keys[0], "alpha");
	assert_string_equal(keys[1], "two words");
	assert_string_equal(keys[2], "zeta");
	assert_string_equal(keys[3], "1");
	assert_null(keys[4]);
	g_strfreev(keys);
	keys = runner_config_handler_options(c, "rbd");
	assert_null(keys[0]);
	g_strfreev(keys);
	runner_config_apply(&r, c);
	assert_int_equal(r.log_priority, RTS_LOG_DEBUG);
	assert_int_equal(r.log_target, RUNNER_LOG_SYSLOG);
	runner_log_emit(&r, RTS_LOG_DEBUG, "dev0", "syslog target smoke test");
	r.config = runner_config_free(r.config);
	g_free(p);
}

static void test_log_levels(void **state)
{
	(void)state;
	assert_int_equal(runner_parse_log_level("error"), RTS_LOG_ERR);
	assert_int_equal(runner_parse_log_level("Warning"), RTS_LOG_WARNING);
	assert_int_equal(runner_parse_log_level("notice"), RTS_LOG_NOTICE);
	assert_int_equal(runner_parse_log_level("INFO"), RTS_LOG_INFO);
	assert_int_equal(runner_parse_log_level("debug"), RTS_LOG_DEBUG);
	/* tcmu.conf: 0 CRIT, 1 ERROR, 2 WARNING, 3 INFO, 4 DEBUG, 5 DEBUG SCSI CMD */
	assert_int_equal(runner_parse_log_level("0"), RTS_LOG_ERR);
	assert_int_equal(runner_parse_log_level("1"), RTS_LOG_ERR);
	assert_int_equal(runner_parse_log_level("2"), RTS_LOG_WARNING);
	assert_int_equal(runner_parse_log_level("3"), RTS_LOG_INFO);
	assert_int_equal(runner_parse_log_level("4"), RTS_LOG_DEBUG);
	assert_int_equal(runner_parse_log_level("5"), RTS_LOG_DEBUG);
	assert_int_equal(runner_parse_log_level("6"), -EINVAL);
	assert_int_equal(runner_parse_log_level("05"), -EINVAL);
	assert_int_equal(runner_parse_log_level(""), -EINVAL);
	assert_int_equal(runner_parse_log_level("verbose"), -EINVAL);
}

static void expect_error(const char *text, const char *needle1, const char *needle2)
{
	struct runner r = { 0 };
	struct runner_config *c = NULL;
	char *err = NULL, *p = write_conf(text);

	int ret = runner_config_load(&r, p, true, &c, &err);

	if (ret != -EINVAL)
		fail_msg("loading '%s' returned %d, not -EINVAL", text, ret);
	assert_null(c);
	expect_substr(err, p);
	expect_substr(err, needle1);
	if (needle2)
		expect_substr(err, needle2);
	g_free(err);
	g_free(p);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("[runner]\n\nhandler_dir = relative/dir\n",
		     ":3: [runner] handler_dir: expected an absolute path, got 'relative/dir'",
		     NULL);
	expect_error("[runner]\nhandler_dir =\n", ":2: [runner] handler_dir", "got ''");
	expect_error("[runner]\nlog_target = stderr\nlog_level = loud\n",
		     ":3: [runner] log_level: invalid value 'loud'",
		     "error, warning, notice, info, debug, or tcmu-runner's 0..5");
	expect_error("[runner]\nlog_level = 9\n", ":2: [runner] log_level: invalid value '9'",
		     NULL);
	expect_error("[runner]\nlog_target = journal\n",
		     ":2: [runner] log_target: invalid value 'journal' (expected stderr or syslog)",
		     NULL);
	expect_error("[runner]\ntmr_notification = maybe\n",
		     ":2: [runner] tmr_notification: invalid value 'maybe' (expected true or false)",
		     NULL);
	expect_error("[runner]\nhandler_dir = /a\\qb\n", ":2: [runner] handler_dir",
		     "invalid escape sequence");
	expect_error("[handler.rbd]\n\nconf = \\q\n", ":3: [handler.rbd] conf", "invalid escape");
	/* The line named is the key's own: not a same-named key of an earlier group, not a key
	 * it is a prefix of, not a comment; leading blanks and a last line without '\n' count. */
	expect_error("[handler.file]\nlog_level = x\n# log_level = 1\n[runner]\n"
		     "log_level_x = 1\n  log_level\t= loud",
		     ":6: [runner] log_level: invalid value 'loud'", NULL);
	expect_error("[runnerx]\nlog_level = loud\n[runner]\nlog_level = loud\n",
		     ":4: [runner] log_level: invalid value 'loud'", NULL);
	/* GKeyFile syntax errors: the path plus GLib's message. */
	expect_error("log_level = debug\n", "does not start with a group", NULL);
	expect_error("[runner]\nthis line is not a key\n", "not a key-value pair", NULL);
}

static void test_unknown_keys_and_groups_warn(void **state)
{
	struct runner r = { 0 };
	struct runner_config *c = NULL;
	char *err = NULL;
	char *p = write_conf("[runner]\n"
			     "log_level = info\n"
			     "  log_dir = /var/log\n"
			     "[tcmu]\n"
			     "x = 1\n"
			     "[handler.]\n"
			     "y = 2\n"
			     "[handler.ram]\n"
			     "anything = goes\n");
	char *w1 = g_strdup_printf("%s:3: unknown key 'log_dir' in [runner]; ignored", p);
	char *w2 = g_strdup_printf("%s:4: unknown group [tcmu]; ignored", p);
	char *w3 = g_strdup_printf("%s:6: unknown group [handler.]; ignored", p);

	(void)state;
	t_log_clear();
	assert_int_equal(runner_config_load(&r, p, true, &c, &err), 0);
	assert_true(t_log_has(RTS_LOG_WARNING, w1));
	assert_true(t_log_has(RTS_LOG_WARNING, w2));
	assert_true(t_log_has(RTS_LOG_WARNING, w3));
	assert_int_equal(t_log_count(), 3);
	assert_int_equal(runner_config_get_log_level(c), RTS_LOG_INFO); /* known keys still read */
	assert_string_equal(runner_config_handler_option(c, "ram", "anything"), "goes");
	runner_config_free(c);
	g_free(w1);
	g_free(w2);
	g_free(w3);
	g_free(p);
}

static void test_pinned_log_level(void **state)
{
	struct runner r = { .log_priority = RTS_LOG_DEBUG, .log_level_pinned = true };
	struct runner_config *c = NULL;
	char *p = write_conf("[runner]\nlog_level = error\n");

	(void)state;
	assert_int_equal(runner_config_load(&r, p, true, &c, NULL), 0);
	runner_config_apply(&r, c);
	assert_int_equal(r.log_priority, RTS_LOG_DEBUG);
	r.config = runner_config_free(r.config);
	g_free(p);
}

static void test_reload(void **state)
{
	struct runner r = { 0 };
	struct runner_config *c = NULL, *before;
	char *err = NULL;
	char *p =
		write_conf("[runner]\nlog_level = info\nhandler_dir = /a\n[handler.ram]\nk = 1\n");

	(void)state;
	/* reload without a loaded config reads the default path: not ours, so load first. */
	assert_int_equal(runner_config_load(&r, p, false, &c, NULL), 0);
	runner_config_apply(&r, c);
	assert_int_equal(r.log_priority, RTS_LOG_INFO);

	/* unchanged file: nothing to do */
	t_log_clear();
	assert_int_equal(runner_config_reload(&r, &err), 0);
	assert_false(t_log_has(RTS_LOG_NOTICE, "restart"));

	/* level and target apply at once; handler_dir and handler options need a restart */
	g_free(write_conf("[runner]\nlog_level = 4\nlog_target = syslog\nhandler_dir = /b\n"
			  "[handler.ram]\nk = 2\n[handler.null]\nz = 0\n"));
	t_log_clear();
	assert_int_equal(runner_config_reload(&r, &err),
			 RUNNER_RELOAD_APPLIED | RUNNER_RELOAD_NEEDS_RESTART);
	assert_int_equal(r.log_priority, RTS_LOG_DEBUG);
	assert_int_equal(r.log_target, RUNNER_LOG_SYSLOG);
	assert_true(
		t_log_has(RTS_LOG_NOTICE,
			  "handler_dir changed from '/a' to '/b'; takes effect after a restart"));
	assert_true(t_log_has(RTS_LOG_NOTICE, "options of handler 'ram' changed"));
	assert_true(t_log_has(RTS_LOG_NOTICE, "options of handler 'null' changed"));
	assert_string_equal(runner_config_handler_option(r.config, "ram", "k"), "2");

	/* only the level: applied, no restart */
	g_free(write_conf("[runner]\nlog_level = warning\nlog_target = syslog\nhandler_dir = /b\n"
			  "[handler.ram]\nk = 2\n[handler.null]\nz = 0\n"));
	assert_int_equal(runner_config_reload(&r, &err), RUNNER_RELOAD_APPLIED);
	assert_int_equal(r.log_priority, RTS_LOG_WARNING);

	/* a broken file keeps everything as it was */
	before = r.config;
	g_free(write_conf("[runner]\nlog_level = shout\n"));
	assert_int_equal(runner_config_reload(&r, &err), -EINVAL);
	expect_substr(err, "log_level: invalid value 'shout'");
	g_free(err);
	err = NULL;
	assert_ptr_equal(r.config, before);
	assert_int_equal(r.log_priority, RTS_LOG_WARNING);
	assert_int_equal(r.log_target, RUNNER_LOG_SYSLOG);

	/* the SIGHUP entry point: same reload, errors logged, never fatal */
	t_log_clear();
	runner_on_sighup(&r);
	assert_true(t_log_has(RTS_LOG_ERR, "reload failed, keeping the running configuration"));
	assert_int_equal(r.log_priority, RTS_LOG_WARNING);

	/* file removed (default-path semantics): back to defaults */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(runner_config_reload(&r, &err),
			 RUNNER_RELOAD_APPLIED | RUNNER_RELOAD_NEEDS_RESTART);
	assert_int_equal(r.log_priority, RTS_LOG_NOTICE);
	assert_int_equal(r.log_target, RUNNER_LOG_STDERR);
	assert_true(t_log_has(RTS_LOG_NOTICE, "from '/b' to '(default)'"));
	r.config = runner_config_free(r.config);
	g_free(p);
}

static void test_reload_explicit_file_vanished(void **state)
{
	struct runner r = { 0 };
	struct runner_config *c = NULL;
	char *err = NULL, *p = write_conf("[runner]\nlog_level = debug\n");

	(void)state;
	assert_int_equal(runner_config_load(&r, p, true, &c, NULL), 0);
	runner_config_apply(&r, c);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(runner_config_reload(&r, &err), -ENOENT);
	expect_substr(err, "cannot read config file");
	assert_int_equal(r.log_priority, RTS_LOG_DEBUG);
	g_free(err);
	r.config = runner_config_free(r.config);
	g_free(p);
}

static void test_log_emit_stderr(void **state)
{
	struct runner r = { .log_priority = RTS_LOG_WARNING, .log_target = RUNNER_LOG_STDERR };
	char *p = g_build_filename(tmpdir, "stderr.txt", NULL), *text = NULL;
	int saved = dup(STDERR_FILENO);
	FILE *f = fopen(p, "w");

	(void)state;
	assert_non_null(f);
	fflush(stderr);
	assert_int_equal(dup2(fileno(f), STDERR_FILENO), STDERR_FILENO);
	runner_log_emit(&r, RTS_LOG_INFO, NULL, "filtered out");
	runner_log_emit(&r, RTS_LOG_ERR, "sim0", "broken");
	runner_log_emit(&r, RTS_LOG_WARNING, NULL, "careful");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(f);
	assert_true(g_file_get_contents(p, &text, NULL, NULL));
	assert_string_equal(text,
			    "rts-runner: error: sim0: broken\nrts-runner: warning: careful\n");
	g_free(text);
	unlink(p);
	g_free(p);
}

/* docs/runner.conf.example parses as shipped and with every setting uncommented. */
static void test_shipped_example(void **state)
{
	const char *srcdir = getenv("RTS_TEST_SRCDIR");
	struct runner r = { 0 };
	struct runner_config *c = NULL;
	char *ex, *text = NULL, *err = NULL, *p, **lines;
	GString *on = g_string_new(NULL);

	(void)state;
	assert_non_null(srcdir);
	ex = g_build_filename(srcdir, "docs", "runner.conf.example", NULL);
	t_log_clear();
	assert_int_equal(runner_config_load(&r, ex, true, &c, &err), 0);
	assert_int_equal(t_log_count(), 0);
	assert_null(runner_config_get_handler_dir(c));
	runner_config_free(c);

	/* "#key = value" and "#[group]" lines become settings */
	assert_true(g_file_get_contents(ex, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		bool setting = (*l)[0] == '#' && ((*l)[1] == '[' || g_ascii_isalpha((*l)[1]));
		g_string_append_printf(on, "%s\n", setting ? *l + 1 : *l);
	}
	p = write_conf(on->str);
	assert_int_equal(runner_config_load(&r, p, true, &c, &err), 0);
	assert_int_equal(t_log_count(), 0);
	assert_string_equal(runner_config_get_handler_dir(c), "/usr/local/lib/rts/handlers");
	assert_int_equal(runner_config_get_log_level(c), RTS_LOG_NOTICE);
	assert_int_equal(runner_config_get_log_target(c), RUNNER_LOG_STDERR);
	assert_string_equal(runner_config_handler_option(c, "file", "example_key"),
			    "example value");
	runner_config_free(c);
	g_strfreev(lines);
	g_string_free(on, TRUE);
	g_free(text);
	g_free(p);
	g_free(ex);
}

static int setup(void **state)
{
	(void)state;
	tmpdir = g_dir_make_tmp("rts-config-XXXXXX", NULL);
	return tmpdir ? 0 : -1;
}

static int teardown(void **state)
{
	char *p = conf_path();

	(void)state;
	unlink(p);
	g_free(p);
	rmdir(tmpdir);
	g_free(tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_default_file_gives_defaults),
		cmocka_unit_test(test_missing_explicit_file_is_an_error),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_unknown_keys_and_groups_warn),
		cmocka_unit_test(test_pinned_log_level),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_reload_explicit_file_vanished),
		cmocka_unit_test(test_log_emit_stderr),
		cmocka_unit_test(test_shipped_example),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
