/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rts-runner: serve TCMU devices from handler plugins.
 *
 * Control plane: one GMainLoop thread (signals, device lifecycle; netlink and D-Bus for the
 * real kernel come with the kernel-attach work). Data plane: one I/O thread per device,
 * each owning one io_uring (librts-tcmu).
 *
 * Without --simulate it serves the kernel's TCMU devices (TCM-USER netlink + UIO) like
 * tcmu-runner; with --simulate <cfgstring> the in-process ring simulator plays the kernel,
 * so the whole data path runs on machines without LIO.
 */
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dbus.h"
#include "version_report.h"
#include "status.h"
#include "notify.h"
#include "runner.h"
#include <rts/cfgstring.h>

#ifndef RTS_HANDLER_DIR_DEFAULT
#define RTS_HANDLER_DIR_DEFAULT "/usr/local/lib/rts/handlers"
#endif
#ifndef RTS_HANDLER_DIR_FROM_BINDIR
#define RTS_HANDLER_DIR_FROM_BINDIR "../lib/rts/handlers"
#endif
#ifndef RTS_VERSION
#define RTS_VERSION "0"
#endif

void runner_log_sink(void *userdata, int prio, const char *dev, const char *msg)
{
	runner_log_emit(userdata, prio, dev, msg);
}

void runner_log(const struct runner *r, int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	runner_log_sink((void *)r, prio, NULL, msg);
}

/*
 * The handler directory when neither --handler-dir, $RTS_HANDLER_DIR nor the config file
 * names one: the directory installed beside this executable (<bindir>/../lib/rts/handlers
 * for the prefix it was installed into, so a relocated `cmake --install --prefix` tree
 * finds its own handlers), else the configured RTS_HANDLER_DIR_DEFAULT.
 */
static gchar *default_handler_dir(void)
{
	g_autofree gchar *exe = g_file_read_link("/proc/self/exe", NULL);

	if (exe) {
		g_autofree gchar *bindir = g_path_get_dirname(exe);
		gchar *dir = g_build_filename(bindir, RTS_HANDLER_DIR_FROM_BINDIR, NULL);

		if (g_file_test(dir, G_FILE_TEST_IS_DIR))
			return dir;
		g_free(dir);
	}
	return g_strdup(RTS_HANDLER_DIR_DEFAULT);
}

static int add_sim_device(struct runner *r, const char *cfgstring, uint64_t size,
			  uint32_t block_size, uint32_t queue_depth)
{
	const struct rts_handler *h = runner_find_handler(r, cfgstring);
	struct runner_dev *rd;
	char name[32], *why = NULL;
	int ret;

	if (!h) {
		g_autofree gchar *names = runner_handler_names(r);

		runner_log(r, RTS_LOG_ERR,
			   "no handler for cfgstring '%s': no handler_%.*s.so was loaded (loaded: %s)",
			   cfgstring, (int)strcspn(cfgstring, "/"), cfgstring, *names ? names : "none");
		return -ENOENT;
	}
	if (r->ndevs >= RUNNER_MAX_DEVICES)
		return -ENOSPC;
	rd = &r->devs[r->ndevs];
	g_auto(GStrv) opts = runner_config_handler_options(r->config, h->subtype);
	snprintf(name, sizeof(name), "sim%u", r->ndevs);
	struct rts_dev_config cfg = {
		RTS_DEV_CONFIG_INIT,
		.name = name,
		.cfgstring = cfgstring,
		.size = size,
		.block_size = block_size,
		.queue_depth = queue_depth,
		.write_cache = true,
		.options = (const char *const *)opts,
		.log_fn = runner_log_sink,
		.log_userdata = r,
		.log_priority = RTS_LOG_DEBUG, /* runner_log_emit filters; SIGHUP may change it */
	};
	struct rts_sim_params sp = { .cmdr_size = 1024 * 1024, .data_size = 64ull << 20 };

	ret = rts_sim_new(&sp, &rd->sim);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "simulator: %s", strerror(-ret));
		return ret;
	}
	ret = rts_dev_new_sim(&cfg, h, rd->sim, &rd->dev);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "%s: cannot create device: %s", name, strerror(-ret));
		rd->sim = rts_sim_free(rd->sim);
		return ret;
	}
	ret = rts_dev_open(rd->dev, false, &why);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "%s: %s", name, why ? why : strerror(-ret));
		free(why);
		rd->dev = rts_dev_free(rd->dev);
		rd->sim = rts_sim_free(rd->sim);
		return ret;
	}
	ret = rts_dev_start(rd->dev);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "%s: cannot start I/O thread: %s", name, strerror(-ret));
		rts_dev_close(rd->dev);
		rd->dev = rts_dev_free(rd->dev);
		rd->sim = rts_sim_free(rd->sim);
		return ret;
	}
	rd->name = g_strdup(name);
	r->ndevs++;
	runner_log(r, RTS_LOG_NOTICE, "%s: serving simulated TCMU device '%s' with handler '%s'",
		   name, cfgstring, h->subtype);
	return 0;
}

static void stop_devices(struct runner *r)
{
	for (unsigned int i = 0; i < r->ndevs; i++) {
		struct runner_dev *rd = &r->devs[i];
		struct rts_dev_stats st = { .struct_size = sizeof(st) };

		rts_dev_stop(rd->dev, 5000);
		rts_dev_get_stats(rd->dev, &st);
		runner_log(r, RTS_LOG_INFO,
			   "%s: stopped: %llu commands, %llu completions, %llu kicks, %llu errors",
			   rd->name, (unsigned long long)st.cmds, (unsigned long long)st.completions,
			   (unsigned long long)st.kicks, (unsigned long long)st.errors);
		rts_dev_close(rd->dev);
		rd->dev = rts_dev_free(rd->dev);
		rd->sim = rts_sim_free(rd->sim);
		g_free(rd->name);
		rd->name = NULL;
		g_free(rd->info);
		rd->info = NULL;
	}
	r->ndevs = 0;
}

struct demo_job {
	struct runner *r;
	GMainLoop *loop;
	int result;
};

static gboolean quit_loop(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_REMOVE;
}

static gpointer demo_thread(gpointer data)
{
	struct demo_job *job = data;

	job->result = 0;
	for (unsigned int i = 0; i < job->r->ndevs; i++)
		if (runner_demo(job->r, &job->r->devs[i]) != 0)
			job->result = 1;
	g_idle_add(quit_loop, job->loop);
	return NULL;
}

static gboolean on_signal(gpointer data)
{
	g_main_loop_quit(data);
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	struct runner *rp = g_new0(struct runner, 1);
	gchar **simulate = NULL, *handler_dir = NULL, *size_str = NULL;
	gchar *sysfs = NULL, *configfs = NULL, *devdir = NULL, *config_path = NULL;
	gchar *dbus_address = NULL, *status_socket = NULL;
	gboolean no_dbus = FALSE;
	gboolean demo = FALSE, debug = FALSE, verbose = FALSE, version = FALSE, no_modprobe = FALSE;
	gint block_size = 512, queue_depth = 128;
	GError *err = NULL;
	GOptionEntry entries[] = {
		{ "handler-dir", 'H', 0, G_OPTION_ARG_FILENAME, &handler_dir,
		  "Load handler_<subtype>.so plugins from DIR (default: $RTS_HANDLER_DIR or " RTS_HANDLER_DIR_DEFAULT ")",
		  "DIR" },
		{ "simulate", 's', 0, G_OPTION_ARG_STRING_ARRAY, &simulate,
		  "Serve a simulated TCMU device with this cfgstring (repeatable), e.g. ram/64M",
		  "CFGSTRING" },
		{ "size", 0, 0, G_OPTION_ARG_STRING, &size_str,
		  "dev_size of simulated devices when the cfgstring has none (e.g. 1G)", "SIZE" },
		{ "block-size", 0, 0, G_OPTION_ARG_INT, &block_size, "Logical block size (512)", "N" },
		{ "queue-depth", 0, 0, G_OPTION_ARG_INT, &queue_depth,
		  "Command slots per device (128)", "N" },
		{ "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		  "Configuration file (default " RUNNER_CONFIG_PATH_DEFAULT ", optional)", "FILE" },
		{ "no-dbus", 0, 0, G_OPTION_ARG_NONE, &no_dbus,
		  "Do not export org.kernel.TCMUService1 on the system bus", NULL },
		{ "dbus-address", 0, 0, G_OPTION_ARG_STRING, &dbus_address,
		  "Export the D-Bus service on this bus address instead of the system bus", "ADDR" },
		{ "status-socket", 0, 0, G_OPTION_ARG_FILENAME, &status_socket,
		  "Serve status (rtsctl status) on this Unix socket (default " RUNNER_STATUS_PATH_DEFAULT
		  "; 'none' disables it)",
		  "PATH" },
		{ "no-modprobe", 0, 0, G_OPTION_ARG_NONE, &no_modprobe,
		  "Do not load target_core_user (kernel mode)", NULL },
		{ "sysfs", 0, 0, G_OPTION_ARG_FILENAME, &sysfs, "sysfs mount (/sys)", "DIR" },
		{ "configfs", 0, 0, G_OPTION_ARG_FILENAME, &configfs,
		  "configfs mount (/sys/kernel/config)", "DIR" },
		{ "dev-dir", 0, 0, G_OPTION_ARG_FILENAME, &devdir, "device nodes (/dev)", "DIR" },
		{ "demo", 0, 0, G_OPTION_ARG_NONE, &demo,
		  "Drive a short SCSI workload through each simulated device, report, and exit", NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log info messages", NULL },
		{ "debug", 'd', 0, G_OPTION_ARG_NONE, &debug, "Log debug messages", NULL },
		{ "version", 'V', 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	GOptionContext *octx = g_option_context_new("- serve TCMU devices from handler plugins");
	uint64_t size = 0;
	int ret = 0;
	rp->log_priority = RTS_LOG_NOTICE;

	setvbuf(stdout, NULL, _IOLBF, 0);
	g_option_context_add_main_entries(octx, entries, NULL);
	if (!g_option_context_parse(octx, &argc, &argv, &err)) {
		fprintf(stderr, "rts-runner: %s (see --help)\n", err->message);
		g_error_free(err);
		g_option_context_free(octx);
		return 2;
	}
	g_option_context_free(octx);
	if (version) {
		rts_print_version(stdout, "rts-runner", RTS_VERSION);
		return 0;
	}
	if (verbose)
		rp->log_priority = RTS_LOG_INFO;
	if (debug)
		rp->log_priority = RTS_LOG_DEBUG;
	rp->log_level_pinned = verbose || debug;
	{
		struct runner_config *cfg = NULL;
		char *cerr = NULL;

		if (runner_config_load(rp, config_path ? config_path : RUNNER_CONFIG_PATH_DEFAULT,
				       config_path != NULL, &cfg, &cerr) < 0) {
			fprintf(stderr, "rts-runner: %s\n", cerr ? cerr : "cannot load the configuration");
			g_free(cerr);
			return 2;
		}
		runner_config_apply(rp, cfg);
	}
	if (size_str && rts_parse_size(size_str, &size) < 0) {
		fprintf(stderr, "rts-runner: invalid --size '%s'\n", size_str);
		return 2;
	}
	bool kernel_mode = !simulate || !simulate[0];
	if (demo && kernel_mode) {
		fprintf(stderr, "rts-runner: --demo needs --simulate CFGSTRING\n");
		return 2;
	}
	rp->sysfs = sysfs ? sysfs : "/sys";
	rp->configfs = configfs ? configfs : "/sys/kernel/config";
	rp->devdir = devdir ? devdir : "/dev";
	rp->load_modules = !no_modprobe;
	if (!handler_dir) {
		const char *env = getenv("RTS_HANDLER_DIR");
		const char *conf = runner_config_get_handler_dir(rp->config);
		handler_dir = env && *env ? g_strdup(env) : conf ? g_strdup(conf) : default_handler_dir();
	}
	if (runner_load_handlers(rp, handler_dir) <= 0) {
		fprintf(stderr, "rts-runner: no usable handler in '%s'\n", handler_dir);
		ret = 1;
		goto out;
	}
	for (gchar **s = simulate; s && *s; s++) {
		if (add_sim_device(rp, *s, size, (uint32_t)block_size, (uint32_t)queue_depth) < 0) {
			ret = 1;
			goto out;
		}
	}
	if (kernel_mode && runner_kernel_start(rp) < 0) {
		ret = 1;
		goto out;
	}

	GMainLoop *loop = g_main_loop_new(NULL, FALSE);
	struct demo_job job = { .r = rp, .loop = loop };
	GThread *th = NULL;

	g_unix_signal_add(SIGINT, on_signal, loop);
	g_unix_signal_add(SIGTERM, on_signal, loop);
	g_unix_signal_add(SIGHUP, runner_on_sighup, rp);
	if (!no_dbus && !demo) {
		char *derr = NULL;
		if (runner_dbus_start(rp, dbus_address, &derr) < 0) {
			fprintf(stderr, "rts-runner: D-Bus: %s\n", derr ? derr : "cannot start");
			g_free(derr);
			ret = 1;
			g_main_loop_unref(loop);
			goto out;
		}
	}
	if (!demo && g_strcmp0(status_socket, "none") != 0) {
		char *serr = NULL;
		if (runner_status_start(rp, status_socket ? status_socket :
							    RUNNER_STATUS_PATH_DEFAULT,
					&serr) < 0) {
			/* the default path is best effort (not root, a second runner) */
			if (status_socket) {
				fprintf(stderr, "rts-runner: %s\n", serr);
				g_free(serr);
				ret = 1;
				g_main_loop_unref(loop);
				goto out;
			}
			runner_log(rp, RTS_LOG_WARNING, "%s; rtsctl status will not see this runner",
				   serr);
			g_free(serr);
		}
	}
	runner_notify("READY=1");
	runner_notifyf("STATUS=serving %u device(s)", rp->ndevs);
	if (demo)
		th = g_thread_new("rts-demo", demo_thread, &job);
	else
		runner_log(rp, RTS_LOG_NOTICE, "running; SIGINT/SIGTERM stop");
	g_main_loop_run(loop);
	if (th) {
		g_thread_join(th);
		ret = job.result;
	}
	g_main_loop_unref(loop);
	runner_notify("STOPPING=1");
out:
	/* The exported D-Bus objects point at handler descriptors: stop it first. */
	runner_dbus_stop(rp);
	runner_status_stop(rp);
	if (kernel_mode)
		runner_kernel_stop(rp);
	stop_devices(rp);
	runner_unload_handlers(rp);
	g_strfreev(simulate);
	g_free(handler_dir);
	g_free(size_str);
	g_free(sysfs);
	g_free(configfs);
	g_free(devdir);
	g_free(config_path);
	g_free(dbus_address);
	g_free(status_socket);
	rp->config = runner_config_free(rp->config);
	g_free(rp);
	return ret;
}
