/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcmu/runner/dbus.c against a private dbus-daemon, with the real ram and null plugins.
 *
 * The service and the client share this thread's default GMainContext: every client call
 * is asynchronous and the test iterates the context until the reply arrives (a synchronous
 * call would block the very loop that must answer it). Finally Debian targetcli's own
 * client code (tests/unit/runner/targetcli_probe.py) runs against the same bus.
 */
#include <errno.h>
#include <gio/gio.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dbus.h"
#include "t_runner_log.h"

static struct {
	char *tmpdir;
	char *address;
	GPid daemon;
	GDBusConnection *client;
	struct runner r;
	char *handler_dir; /* temp dir holding links to the ram and null plugins */
} t;

/* ------------------------------------------------ private bus */

static int start_daemon(void)
{
	char *exe = g_find_program_in_path("dbus-daemon");
	char *conf, *xml, *argv[5];
	GError *err = NULL;
	gint out_fd;
	char buf[512];
	size_t len = 0;

	if (!exe) {
		fprintf(stderr, "test_runner_dbus: dbus-daemon not found in PATH; skipping\n");
		return 77;
	}
	t.tmpdir = g_dir_make_tmp("rts-dbus-XXXXXX", NULL);
	conf = g_build_filename(t.tmpdir, "bus.conf", NULL);
	xml = g_strdup_printf(
		"<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
		" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		"<busconfig><type>session</type><listen>unix:dir=%s</listen>"
		"<auth>EXTERNAL</auth><policy context=\"default\"><allow user=\"*\"/>"
		"<allow send_destination=\"*\" eavesdrop=\"true\"/>"
		"<allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
		t.tmpdir);
	if (!g_file_set_contents(conf, xml, -1, NULL))
		return 1;
	chmod(t.tmpdir, 0755); /* another user may reach the socket (privilege tests) */
	argv[0] = exe;
	argv[1] = g_strdup_printf("--config-file=%s", conf);
	argv[2] = (char *)"--nofork";
	argv[3] = (char *)"--print-address=1";
	argv[4] = NULL;
	if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
				      &t.daemon, NULL, &out_fd, NULL, &err)) {
		fprintf(stderr, "test_runner_dbus: cannot start dbus-daemon: %s\n", err->message);
		return 1;
	}
	/* The address is the first line of stdout. */
	while (len < sizeof(buf) - 1) {
		ssize_t n = read(out_fd, buf + len, 1);
		if (n <= 0 || buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	close(out_fd);
	t.address = g_strdup(buf);
	g_free(argv[1]);
	g_free(xml);
	g_free(conf);
	g_free(exe);
	if (!len) {
		fprintf(stderr, "test_runner_dbus: dbus-daemon printed no address\n");
		return 1;
	}
	return 0;
}

static void stop_daemon(void)
{
	if (t.daemon > 0) {
		kill(t.daemon, SIGTERM);
		waitpid(t.daemon, NULL, 0);
		g_spawn_close_pid(t.daemon);
	}
	if (t.tmpdir) {
		/* bus.conf and the daemon's socket (dbus-daemon leaves it behind on SIGTERM) */
		GDir *dir = g_dir_open(t.tmpdir, 0, NULL);
		const char *name;

		while (dir && (name = g_dir_read_name(dir))) {
			char *p = g_build_filename(t.tmpdir, name, NULL);
			unlink(p);
			g_free(p);
		}
		if (dir)
			g_dir_close(dir);
		rmdir(t.tmpdir);
	}
	g_free(t.tmpdir);
	g_free(t.address);
}

/* ------------------------------------------------ async client helpers */

struct reply {
	bool done;
	GVariant *v;
	GError *err;
};

static void on_reply(GObject *src, GAsyncResult *res, gpointer data)
{
	struct reply *rp = data;

	rp->v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, &rp->err);
	rp->done = true;
}

static void iterate_until(bool *flag)
{
	while (!*flag)
		g_main_context_iteration(NULL, TRUE);
}

/* Spin the loop (bounded) until @p cond(r) holds. */
static bool wait_for(bool (*cond)(const struct runner *), const struct runner *r)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	while (!cond(r) && g_get_monotonic_time() < deadline)
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	return cond(r);
}

static GVariant *call_full(const char *dest, const char *path, const char *iface,
			   const char *method, GVariant *params, const char *reply_type,
			   GError **err)
{
	struct reply rp = { 0 };

	g_dbus_connection_call(t.client, dest, path, iface, method, params,
			       reply_type ? G_VARIANT_TYPE(reply_type) : NULL,
			       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, on_reply, &rp);
	iterate_until(&rp.done);
	if (err)
		*err = rp.err;
	else if (rp.err)
		fail_msg("%s.%s: %s", iface, method, rp.err->message);
	return rp.v;
}

static GVariant *call(const char *path, const char *iface, const char *method, GVariant *params,
		      const char *reply_type)
{
	return call_full(RUNNER_DBUS_NAME, path, iface, method, params, reply_type, NULL);
}

static void check_config(const char *path, const char *cfgstring, bool valid, const char *msg)
{
	GVariant *v = call(path, "org.kernel.TCMUService1", "CheckConfig",
			   g_variant_new("(s)", cfgstring), "(bs)");
	gboolean ok;
	const char *m;

	g_variant_get(v, "(b&s)", &ok, &m);
	if ((bool)ok != valid || strcmp(m, msg) != 0)
		fail_msg("CheckConfig('%s') = (%d, '%s'), want (%d, '%s')", cfgstring, ok, m, valid,
			 msg);
	g_variant_unref(v);
}

/* ------------------------------------------------ tests */

static void test_owns_name(void **state)
{
	GVariant *v;
	const char *owner;

	(void)state;
	assert_true(runner_dbus_owns_name(&t.r));
	v = call_full("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
		      "GetNameOwner", g_variant_new("(s)", RUNNER_DBUS_NAME), "(s)", NULL);
	g_variant_get(v, "(&s)", &owner);
	assert_true(owner[0] == ':');
	g_variant_unref(v);
}

static void test_object_manager(void **state)
{
	GVariant *v, *objs, *ifaces, *props;
	const char *path;
	GVariantIter it;
	unsigned int n = 0;

	(void)state;
	v = call("/org/kernel/TCMUService1", "org.freedesktop.DBus.ObjectManager",
		 "GetManagedObjects", NULL, "(a{oa{sa{sv}}})");
	objs = g_variant_get_child_value(v, 0);
	g_variant_iter_init(&it, objs);
	while (g_variant_iter_next(&it, "{&o@a{sa{sv}}}", &path, &ifaces)) {
		const char *desc = NULL;

		n++;
		/* exactly one interface, tcmu-runner's, with ConfigDesc */
		assert_int_equal(g_variant_n_children(ifaces), 1);
		assert_true(g_variant_lookup(ifaces, "org.kernel.TCMUService1", "@a{sv}", &props));
		assert_true(g_variant_lookup(props, "ConfigDesc", "&s", &desc));
		if (strcmp(path, "/org/kernel/TCMUService1/ram") == 0)
			assert_string_equal(
				desc,
				"ram/<size>, e.g. ram/64M (contents are lost when the device closes)");
		else if (strcmp(path, "/org/kernel/TCMUService1/null") == 0)
			assert_string_equal(desc, "null/[size], e.g. null/1G");
		else
			fail_msg("unexpected object %s", path);
		g_variant_unref(props);
		g_variant_unref(ifaces);
	}
	assert_int_equal(n, 2); /* HandlerManager1 is not a managed object */
	g_variant_unref(objs);
	g_variant_unref(v);
}

static void test_config_desc_property(void **state)
{
	GVariant *v, *inner;

	(void)state;
	v = call("/org/kernel/TCMUService1/null", "org.freedesktop.DBus.Properties", "Get",
		 g_variant_new("(ss)", "org.kernel.TCMUService1", "ConfigDesc"), "(v)");
	g_variant_get(v, "(v)", &inner);
	assert_string_equal(g_variant_get_string(inner, NULL), "null/[size], e.g. null/1G");
	g_variant_unref(inner);
	g_variant_unref(v);
}

static void test_check_config(void **state)
{
	(void)state;
	/* targetcli passes "<subtype>/<cfgstring>" */
	check_config("/org/kernel/TCMUService1/ram", "ram/64M", true, "success");
	check_config("/org/kernel/TCMUService1/ram", "ram/", true, "success");
	check_config("/org/kernel/TCMUService1/ram", "ram/abc", false,
		     "ram: expected a size such as '64M'");
	check_config("/org/kernel/TCMUService1/null", "null/1G", true, "success");
	check_config("/org/kernel/TCMUService1/null", "null/lots", false,
		     "null: expected an optional size such as '1G'");
	/* without (or with another) subtype prefix */
	check_config("/org/kernel/TCMUService1/ram", "64M", false,
		     "cfgstring '64M' does not start with 'ram/'");
	check_config("/org/kernel/TCMUService1/ram", "ramdisk/64M", false,
		     "cfgstring 'ramdisk/64M' does not start with 'ram/'");
	check_config("/org/kernel/TCMUService1/ram", "null/64M", false,
		     "cfgstring 'null/64M' does not start with 'ram/'");
}

static void test_introspection(void **state)
{
	GVariant *v;
	const char *xml;

	(void)state;
	v = call("/org/kernel/TCMUService1/ram", "org.freedesktop.DBus.Introspectable",
		 "Introspect", NULL, "(s)");
	g_variant_get(v, "(&s)", &xml);
	assert_non_null(strstr(xml, "<method name=\"CheckConfig\">"));
	assert_non_null(strstr(xml, "<arg type=\"s\" name=\"configstr\" direction=\"in\">"));
	assert_non_null(strstr(xml, "<arg type=\"b\" name=\"is_valid\" direction=\"out\">"));
	assert_non_null(strstr(xml, "<arg type=\"s\" name=\"message\" direction=\"out\">"));
	assert_non_null(strstr(xml, "<property type=\"s\" name=\"ConfigDesc\" access=\"read\">"));
	g_variant_unref(v);
}

static void test_register_handler_refused(void **state)
{
	GVariant *v;
	gboolean ok;
	const char *m;

	(void)state;
	v = call("/org/kernel/TCMUService1/HandlerManager1",
		 "org.kernel.TCMUService1.HandlerManager1", "RegisterHandler",
		 g_variant_new("(ss)", "ext", "ext/<anything>"), "(bs)");
	g_variant_get(v, "(b&s)", &ok, &m);
	assert_false(ok);
	assert_non_null(strstr(m, "does not support out-of-process"));
	g_variant_unref(v);
}

/* Run gdbus as nobody against the private bus; its exit status, stdout+stderr in *out. */
struct spawned {
	bool done;
	int status;
};

static void on_child(GPid pid, gint status, gpointer ud)
{
	struct spawned *sp = ud;

	sp->status = status;
	sp->done = true;
	g_spawn_close_pid(pid);
}

static int gdbus_as_nobody(const char *method, const char *path, const char *arg1,
			   const char *arg2, char **out)
{
	char *argv[] = { (char *)"setpriv", (char *)"--reuid=65534", (char *)"--regid=65534",
			 (char *)"--clear-groups", (char *)"gdbus", (char *)"call",
			 (char *)"--address", t.address, (char *)"--dest",
			 (char *)"org.kernel.TCMUService1", (char *)"--object-path", (char *)path,
			 (char *)"--method", (char *)method, (char *)arg1, (char *)arg2, NULL };
	struct spawned sp = { 0 };
	GError *err = NULL;
	gint fds[2];
	GPid pid;
	GString *s = g_string_new(NULL);
	char buf[512];
	ssize_t n;

	assert_true(g_spawn_async_with_pipes(NULL, argv, NULL,
					     G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL,
					     NULL, &pid, NULL, &fds[0], &fds[1], &err));
	g_child_watch_add(pid, on_child, &sp);
	iterate_until(&sp.done);
	for (int i = 0; i < 2; i++) { /* a few hundred bytes: the pipes never filled */
		while ((n = read(fds[i], buf, sizeof(buf))) > 0)
			g_string_append_len(s, buf, n);
		close(fds[i]);
	}
	*out = g_string_free(s, FALSE);
	return sp.status;
}

/*
 * A caller that is not root may read (ListHandlers) but not change state (RegisterHandler:
 * AccessDenied from the runner itself, with a bus policy that allows everything). gdbus
 * waits for the reply while the service answers from this thread's loop, hence async.
 */
static void test_state_changes_need_root(void **state)
{
	char *out = NULL, *setpriv = g_find_program_in_path("setpriv");
	char *gdbus = g_find_program_in_path("gdbus");
	int st;

	(void)state;
	if (geteuid() != 0 || !setpriv || !gdbus) {
		g_free(setpriv);
		g_free(gdbus);
		skip();
	}
	g_free(setpriv);
	g_free(gdbus);
	st = gdbus_as_nobody("org.rtslib.Runner1.ListHandlers", "/org/rtslib/Runner1", NULL, NULL,
			     &out);
	assert_int_equal(st, 0);
	assert_non_null(strstr(out, "'ram'"));
	g_free(out);
	st = gdbus_as_nobody("org.kernel.TCMUService1.HandlerManager1.RegisterHandler",
			     "/org/kernel/TCMUService1/HandlerManager1", "ext", "ext/x", &out);
	assert_int_not_equal(st, 0);
	assert_non_null(strstr(out, "org.freedesktop.DBus.Error.AccessDenied"));
	assert_non_null(strstr(out, "changes the runner's state: root only"));
	assert_null(strstr(out, "does not support"));
	g_free(out);
}

static void test_runner_properties_and_handlers(void **state)
{
	GVariant *v, *inner, *list;
	const char *subtype, *name, *desc, *path;
	GVariantIter it;
	unsigned int n = 0;

	(void)state;
	v = call("/org/rtslib/Runner1", "org.freedesktop.DBus.Properties", "Get",
		 g_variant_new("(ss)", "org.rtslib.Runner1", "Version"), "(v)");
	g_variant_get(v, "(v)", &inner);
	assert_true(g_variant_is_of_type(inner, G_VARIANT_TYPE_STRING));
	assert_true(strlen(g_variant_get_string(inner, NULL)) > 0);
	g_variant_unref(inner);
	g_variant_unref(v);
	v = call("/org/rtslib/Runner1", "org.freedesktop.DBus.Properties", "Get",
		 g_variant_new("(ss)", "org.rtslib.Runner1", "HandlerAbiVersion"), "(v)");
	g_variant_get(v, "(v)", &inner);
	assert_int_equal(g_variant_get_uint32(inner), RTS_HANDLER_ABI_VERSION);
	g_variant_unref(inner);
	g_variant_unref(v);

	v = call("/org/rtslib/Runner1", "org.rtslib.Runner1", "ListHandlers", NULL, "(a(ssss))");
	list = g_variant_get_child_value(v, 0);
	g_variant_iter_init(&it, list);
	while (g_variant_iter_next(&it, "(&s&s&s&s)", &subtype, &name, &desc, &path)) {
		n++;
		assert_true(strcmp(subtype, "null") == 0 || strcmp(subtype, "ram") == 0);
		assert_non_null(strstr(path, "handler_"));
		assert_true(strlen(desc) > 0);
	}
	assert_int_equal(n, 2);
	g_variant_unref(list);
	g_variant_unref(v);
}

static void test_list_devices_empty(void **state)
{
	GVariant *v;

	(void)state;
	assert_int_equal(t.r.ndevs, 0);
	v = call("/org/rtslib/Runner1", "org.rtslib.Runner1", "ListDevices", NULL,
		 "(a(ssssstuutttt))");
	GVariant *list = g_variant_get_child_value(v, 0);
	assert_int_equal(g_variant_n_children(list), 0);
	g_variant_unref(list);
	g_variant_unref(v);
}

/* What tcmu/runner/main.c add_sim_device() does. */
static void add_sim_device(struct runner *r, const char *cfgstring)
{
	const struct rts_handler *h = runner_find_handler(r, cfgstring);
	struct runner_dev *rd = &r->devs[r->ndevs];
	struct rts_dev_config cfg = {
		RTS_DEV_CONFIG_INIT,
		.name = "sim0",
		.cfgstring = cfgstring,
		.block_size = 512,
		.queue_depth = 16,
		.log_fn = runner_log_sink,
		.log_userdata = r,
		.log_priority = RTS_LOG_NOTICE,
	};
	struct rts_sim_params sp = { .cmdr_size = 1024 * 1024, .data_size = 8ull << 20 };

	assert_non_null(h);
	assert_int_equal(rts_sim_new(&sp, &rd->sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, h, rd->sim, &rd->dev), 0);
	assert_int_equal(rts_dev_open(rd->dev, false, NULL), 0);
	assert_int_equal(rts_dev_start(rd->dev), 0);
	rd->name = g_strdup("sim0");
	r->ndevs++;
}

static void test_list_devices_one(void **state)
{
	GVariant *v, *list;
	const char *name, *cfg, *subtype, *st, *failure;
	guint64 size, cmds, completions, errors, aborts;
	guint32 bs, inflight;
	struct runner_dev *rd;

	(void)state;
	add_sim_device(&t.r, "ram/64M");
	v = call("/org/rtslib/Runner1", "org.rtslib.Runner1", "ListDevices", NULL,
		 "(a(ssssstuutttt))");
	list = g_variant_get_child_value(v, 0);
	assert_int_equal(g_variant_n_children(list), 1);
	g_variant_get_child(list, 0, "(&s&s&s&s&stuutttt)", &name, &cfg, &subtype, &st, &failure,
			    &size, &bs, &inflight, &cmds, &completions, &errors, &aborts);
	assert_string_equal(name, "sim0");
	assert_string_equal(cfg, "ram/64M");
	assert_string_equal(subtype, "ram");
	assert_string_equal(st, "running");
	assert_string_equal(failure, "");
	assert_int_equal(size, 64ull << 20);
	assert_int_equal(bs, 512);
	assert_int_equal(inflight, 0);
	assert_int_equal(errors, 0);
	assert_int_equal(aborts, 0);
	assert_true(completions <= cmds);
	g_variant_unref(list);
	g_variant_unref(v);

	rd = &t.r.devs[0];
	rts_dev_stop(rd->dev, 5000);
	rts_dev_close(rd->dev);
	rd->dev = rts_dev_free(rd->dev);
	rd->sim = rts_sim_free(rd->sim);
	g_free(rd->name);
	rd->name = NULL;
	t.r.ndevs = 0;
}

static bool lost_name(const struct runner *r)
{
	return r->dbus && !runner_dbus_owns_name(r) &&
	       t_log_has(RTS_LOG_WARNING, "owned by another process");
}

static void test_second_instance_queues(void **state)
{
	struct runner r2 = { .log_priority = RTS_LOG_NOTICE };
	char *err = NULL;

	(void)state;
	/* same handlers, borrowed (r2 never unloads them) */
	memcpy(r2.handlers, t.r.handlers, sizeof(r2.handlers));
	r2.nhandlers = t.r.nhandlers;
	t_log_clear();
	assert_int_equal(runner_dbus_start(&r2, t.address, &err), 0);
	assert_true(wait_for(lost_name, &r2));
	assert_true(runner_dbus_owns_name(&t.r));
	/* the first one goes away: the queued one takes over */
	runner_dbus_stop(&t.r);
	assert_false(runner_dbus_owns_name(&t.r));
	assert_true(wait_for(runner_dbus_owns_name, &r2));
	check_config("/org/kernel/TCMUService1/ram", "ram/abc", false,
		     "ram: expected a size such as '64M'");
	runner_dbus_stop(&r2);
	/* and back */
	assert_int_equal(runner_dbus_start(&t.r, t.address, &err), 0);
	assert_true(wait_for(runner_dbus_owns_name, &t.r));
}

static void test_bad_address(void **state)
{
	struct runner r2 = { .log_priority = RTS_LOG_NOTICE };
	char *err = NULL;

	(void)state;
	assert_int_equal(runner_dbus_start(&r2, "unix:path=/nonexistent/rts-bus", &err),
			 -ECONNREFUSED);
	assert_non_null(strstr(err, "cannot connect to D-Bus at 'unix:path=/nonexistent/rts-bus'"));
	assert_null(r2.dbus);
	g_free(err);
}

static void test_no_system_bus_is_not_fatal(void **state)
{
	struct runner r2 = { .log_priority = RTS_LOG_NOTICE };
	char *saved = g_strdup(getenv("DBUS_SYSTEM_BUS_ADDRESS"));

	(void)state;
	setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/system_bus_socket", 1);
	t_log_clear();
	assert_int_equal(runner_dbus_start(&r2, NULL, NULL), 0);
	assert_true(wait_for(runner_dbus_settled, &r2));
	assert_false(runner_dbus_owns_name(&r2));
	assert_true(t_log_has(RTS_LOG_WARNING, "D-Bus: no system bus"));
	assert_true(t_log_has(RTS_LOG_WARNING, "continuing without it"));
	runner_dbus_stop(&r2);
	runner_dbus_stop(&r2); /* idempotent */
	/* stop while the connection is still pending: the callback cleans up */
	assert_int_equal(runner_dbus_start(&r2, NULL, NULL), 0);
	runner_dbus_stop(&r2);
	for (int i = 0; i < 100; i++)
		g_main_context_iteration(NULL, FALSE);
	if (saved)
		setenv("DBUS_SYSTEM_BUS_ADDRESS", saved, 1);
	else
		unsetenv("DBUS_SYSTEM_BUS_ADDRESS");
	g_free(saved);
}

/* ------------------------------------------------ targetcli's own client code */

struct proc {
	bool done;
	char *out;
	GError *err;
};

static void on_communicated(GObject *src, GAsyncResult *res, gpointer data)
{
	struct proc *p = data;

	g_subprocess_communicate_utf8_finish(G_SUBPROCESS(src), res, &p->out, NULL, &p->err);
	p->done = true;
}

static void test_targetcli_client(void **state)
{
	const char *srcdir = getenv("RTS_TEST_SRCDIR");
	char *script, *probe_err = NULL;
	GSubprocessLauncher *l;
	GSubprocess *sp;
	struct proc p = { 0 };
	int status;

	(void)state;
	assert_non_null(srcdir);
	if (!g_file_test("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE) ||
	    !g_spawn_command_line_sync("/usr/bin/python3 -c 'import targetcli.ui_backstore, gi'",
				       NULL, NULL, &status, NULL) ||
	    !g_spawn_check_wait_status(status, NULL)) {
		fprintf(stderr, "targetcli (python3-targetcli-fb) not importable; skipping\n");
		skip();
	}
	script = g_build_filename(srcdir, "tests/unit/runner/targetcli_probe.py", NULL);
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				      G_SUBPROCESS_FLAGS_STDERR_MERGE);
	/* targetcli always talks to the system bus */
	g_subprocess_launcher_setenv(l, "DBUS_SYSTEM_BUS_ADDRESS", t.address, TRUE);
	g_subprocess_launcher_unsetenv(l, "LD_PRELOAD");
	sp = g_subprocess_launcher_spawn(l, &p.err, "/usr/bin/python3", script, "64M", "abc", NULL);
	assert_non_null(sp);
	g_subprocess_communicate_utf8_async(sp, NULL, NULL, on_communicated, &p);
	iterate_until(&p.done);
	assert_null(p.err);
	printf("%s", p.out);
	if (!g_subprocess_get_successful(sp))
		probe_err = p.out;
	assert_null(probe_err);
	/* the listing targetcli shows as user:ram / user:null, with our ConfigDesc */
	assert_non_null(strstr(p.out, "handler null desc=null/[size], e.g. null/1G\n"));
	assert_non_null(strstr(p.out, "handler ram desc=ram/<size>, e.g. ram/64M"));
	/* valid: CheckConfig passed, targetcli went on to create the storage object */
	assert_non_null(strstr(p.out, "create 64M: UserBackedStorageObject creation failed.\n"));
	/* invalid: targetcli's own error text with our reason */
	assert_non_null(strstr(
		p.out, "create abc: cfgstring invalid: ram: expected a size such as '64M'\n"));
	assert_non_null(strstr(p.out, "stub saw ram/64M\n"));
	g_free(p.out);
	g_object_unref(sp);
	g_object_unref(l);
	g_free(script);
}

/* ------------------------------------------------ setup */

static int setup(void **state)
{
	const char *bindir = getenv("RTS_TEST_BINDIR");
	char *dir, *err = NULL;

	(void)state;
	if (!bindir)
		return -1;
	t.r.log_priority = RTS_LOG_NOTICE;
	/* Exactly the ram and null plugins, whatever else the build produced. */
	dir = g_dir_make_tmp("rts-dbus-handlers-XXXXXX", NULL);
	if (!dir)
		return -1;
	for (int i = 0; i < 2; i++) {
		const char *name = i ? "handler_null.so" : "handler_ram.so";
		char *src = g_build_filename(bindir, "handlers", name, NULL);
		char *dst = g_build_filename(dir, name, NULL);
		int rl = symlink(src, dst);
		g_free(src);
		g_free(dst);
		if (rl < 0)
			return -1;
	}
	t.handler_dir = g_strdup(dir);
	if (runner_load_handlers(&t.r, dir) != 2 || !runner_find_handler(&t.r, "ram") ||
	    !runner_find_handler(&t.r, "null")) {
		fprintf(stderr, "expected handler_ram.so and handler_null.so in %s\n", dir);
		g_free(dir);
		return -1;
	}
	g_free(dir);
	t.client = g_dbus_connection_new_for_address_sync(
		t.address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, NULL);
	if (!t.client)
		return -1;
	if (runner_dbus_start(&t.r, t.address, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		g_free(err);
		return -1;
	}
	return wait_for(runner_dbus_owns_name, &t.r) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	runner_dbus_stop(&t.r);
	g_dbus_connection_close_sync(t.client, NULL, NULL);
	g_clear_object(&t.client);
	/* let GDBus finish what it queued for the closed connections */
	for (int i = 0; i < 100; i++)
		g_main_context_iteration(NULL, FALSE);
	runner_unload_handlers(&t.r);
	if (t.handler_dir) {
		for (int i = 0; i < 2; i++) {
			char *p = g_build_filename(t.handler_dir, i ? "handler_null.so" : "handler_ram.so", NULL);
			unlink(p);
			g_free(p);
		}
		rmdir(t.handler_dir);
		g_free(t.handler_dir);
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owns_name),
		cmocka_unit_test(test_object_manager),
		cmocka_unit_test(test_config_desc_property),
		cmocka_unit_test(test_check_config),
		cmocka_unit_test(test_introspection),
		cmocka_unit_test(test_register_handler_refused),
		cmocka_unit_test(test_state_changes_need_root),
		cmocka_unit_test(test_runner_properties_and_handlers),
		cmocka_unit_test(test_list_devices_empty),
		cmocka_unit_test(test_list_devices_one),
		cmocka_unit_test(test_second_instance_queues),
		cmocka_unit_test(test_bad_address),
		cmocka_unit_test(test_no_system_bus_is_not_fatal),
		cmocka_unit_test(test_targetcli_client),
	};
	int ret = start_daemon();

	if (ret == 0)
		ret = cmocka_run_group_tests(tests, setup, teardown);
	stop_daemon();
	return ret;
}
