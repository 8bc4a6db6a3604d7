/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* restore --wait (ctl/conf_wait.c): what is awaited, late arrivals, the deadline, filters. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_wait.h"

struct fx {
	char dir[64];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/rts-wait-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

__attribute__((format(printf, 1, 2))) static struct json_object *doc(const char *fmt, ...)
{
	char buf[2048];
	struct json_object *o;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	o = json_tokener_parse(buf);
	assert_non_null(o);
	return o;
}

#define SO(plugin, name, dev, extra)                                                      \
	"{\"plugin\":\"" plugin "\",\"name\":\"" name "\",\"dev\":\"" dev "\"" extra "}"

static void test_present_and_missing_devices(void **state)
{
	struct fx *f = *state;
	struct conf_wait_opts o = { .seconds = 0 };
	struct json_object *d;
	char *missing = NULL;

	/* the directory exists, "nope" does not */
	d = doc("{\"storage_objects\":[" SO("block", "b1", "%s", "") "," SO("pscsi", "p1", "%s/nope", "")
		"]}", f->dir, f->dir);
	assert_int_equal(conf_wait_ready(d, &o, &missing), 1);
	assert_non_null(missing);
	assert_non_null(strstr(missing, "storage object p1: "));
	assert_non_null(strstr(missing, "/nope"));
	assert_null(strstr(missing, "b1"));
	free(missing);
	json_object_put(d);
}

static void test_fileio_with_size_needs_only_its_directory(void **state)
{
	struct fx *f = *state;
	struct conf_wait_opts o = { .seconds = 0 };
	struct json_object *d;
	char *missing = NULL;

	d = doc("{\"storage_objects\":[" SO("fileio", "f1", "%s/new.img", ",\"size\":1048576") ","
		SO("fileio", "f2", "%s/sub/new.img", ",\"size\":1048576") "]}", f->dir, f->dir);
	assert_int_equal(conf_wait_ready(d, &o, &missing), 1);
	assert_non_null(strstr(missing, "storage object f2: "));
	assert_non_null(strstr(missing, "/sub"));
	assert_null(strstr(missing, "f1"));
	free(missing);
	json_object_put(d);

	/* without a size the file itself must exist */
	d = doc("{\"storage_objects\":[" SO("fileio", "f3", "%s/%s", "") "]}", f->dir, "old.img");
	assert_int_equal(conf_wait_ready(d, &o, &missing), 1);
	free(missing);
	json_object_put(d);
	/* user: backstores are the handler's business: nothing to wait for */
	d = doc("{\"storage_objects\":[{\"plugin\":\"user\",\"name\":\"u\",\"config\":\"file/%s%s\"}]}",
		f->dir, "/x");
	assert_int_equal(conf_wait_ready(d, &o, &missing), 0);
	assert_null(missing);
	json_object_put(d);
}

static void *create_later(void *arg)
{
	const char *path = arg;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 300 * 1000000L };
	FILE *fp;

	nanosleep(&ts, NULL);
	fp = fopen(path, "w");
	if (fp)
		fclose(fp);
	return NULL;
}

static void test_waits_for_a_late_device(void **state)
{
	struct fx *f = *state;
	struct conf_wait_opts o = { .seconds = 60, .poll_ms = 20 };
	char path[128];
	struct json_object *d;
	char *missing = NULL;
	pthread_t t;

	snprintf(path, sizeof(path), "%s/late", f->dir);
	d = doc("{\"storage_objects\":[" SO("block", "late", "%s/%s", "") "]}", f->dir, "late");
	assert_int_equal(pthread_create(&t, NULL, create_later, path), 0);
	assert_int_equal(conf_wait_ready(d, &o, &missing), 0);
	assert_null(missing);
	pthread_join(t, NULL);
	assert_int_equal(access(path, F_OK), 0);
	json_object_put(d);
}

static void test_deadline_names_what_is_missing(void **state)
{
	struct fx *f = *state;
	struct conf_wait_opts o = { .seconds = 1, .poll_ms = 50 };
	struct json_object *d;
	char *missing = NULL;

	d = doc("{\"storage_objects\":[" SO("block", "gone", "%s/%s", "") "]}", f->dir, "never");
	assert_int_equal(conf_wait_ready(d, &o, &missing), 1);
	assert_non_null(strstr(missing, "storage object gone: "));
	free(missing);
	json_object_put(d);
}

#define TGT(wwn, ip) "{\"wwn\":\"" wwn "\",\"fabric\":\"iscsi\",\"tpgs\":[{\"tag\":1,\"portals\":[{\"ip_address\":\"" ip "\",\"port\":3260}]}]}"

static void test_portals(void **state)
{
	struct conf_wait_opts o = { .seconds = 0 };
	struct json_object *d;
	char *missing = NULL;

	(void)state;
	d = doc("{\"targets\":[" TGT("iqn.2003-01.org.example:a", "0.0.0.0") ","
		TGT("iqn.2003-01.org.example:b", "[::]") "," TGT("iqn.2003-01.org.example:c", "%s") ","
		TGT("iqn.2003-01.org.example:d", "%s") "]}", "192.0.2.77", "[2001:db8::77]");
	assert_int_equal(conf_wait_ready(d, &o, &missing), 2);
	assert_non_null(strstr(missing, "portal 192.0.2.77 of iqn.2003-01.org.example:c"));
	assert_non_null(strstr(missing, "portal [2001:db8::77] of iqn.2003-01.org.example:d"));
	assert_null(strstr(missing, "example:a"));
	assert_null(strstr(missing, "example:b"));
	free(missing);

	/* --target: only that target's portals count */
	o.target = "iqn.2003-01.org.example:a";
	assert_int_equal(conf_wait_ready(d, &o, &missing), 0);
	assert_null(missing);
	json_object_put(d);
}

static void test_storage_object_filter(void **state)
{
	struct fx *f = *state;
	struct conf_wait_opts o = { .seconds = 0, .storage_object = "ok" };
	struct json_object *d;
	char *missing = NULL;

	d = doc("{\"storage_objects\":[" SO("block", "ok", "%s", "") "," SO("block", "bad", "%s/x", "")
		"]}", f->dir, f->dir);
	assert_int_equal(conf_wait_ready(d, &o, &missing), 0);
	o.storage_object = "bad";
	assert_int_equal(conf_wait_ready(d, &o, &missing), 1);
	free(missing);
	json_object_put(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_present_and_missing_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fileio_with_size_needs_only_its_directory, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_waits_for_a_late_device, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_names_what_is_missing, setup, teardown),
		cmocka_unit_test(test_portals),
		cmocka_unit_test_setup_teardown(test_storage_object_filter, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
