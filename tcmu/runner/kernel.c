/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Serving the kernel's TCMU devices: load target_core_user through libkmod, follow
 * TCM-USER netlink events, adopt devices that exist when we start (block, reset ring,
 * reopen, unblock), and answer the kernel with a status for every event it waits on.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rts/uio.h>

#include "cfgstring.h"
#include "config.h"
#include "netlink.h"
#include "runner.h"
#include "uapi.h"

static void kmod_log(void *data, int priority, const char *file, int line, const char *fn,
		     const char *format, va_list args)
	__attribute__((format(printf, 6, 0)));
static void kmod_log(void *data, int priority, const char *file, int line, const char *fn,
		     const char *format, va_list args)
{
	struct runner *r = data;
	char msg[512];

	(void)file;
	(void)line;
	(void)fn;
	(void)priority;
	vsnprintf(msg, sizeof(msg), format, args);
	msg[strcspn(msg, "\n")] = '\0';
	runner_log(r, RTS_LOG_DEBUG, "libkmod: %s", msg);
}

int runner_load_module(struct runner *r, const char *name)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod = NULL;
	char path[256];
	int ret;

	snprintf(path, sizeof(path), "%s/module/%s", r->sysfs, name);
	if (access(path, F_OK) == 0)
		return 0; /* loaded or built in */
	ctx = kmod_new(NULL, NULL);
	if (!ctx)
		return -ENOMEM;
	kmod_set_log_fn(ctx, kmod_log, r); /* one message of ours instead of libkmod's */
	ret = kmod_module_new_from_name(ctx, name, &mod);
	if (ret == 0)
		ret = kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL,
						      NULL, NULL);
	if (ret < 0)
		runner_log(r, RTS_LOG_ERR, "cannot load kernel module '%s': %s", name,
			   ret == -ENOENT ? "not found in /lib/modules for this kernel" : strerror(-ret));
	else
		runner_log(r, RTS_LOG_INFO, "loaded kernel module '%s'", name);
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret < 0 ? ret : 0;
}

static struct runner_dev *find_dev(struct runner *r, unsigned int minor)
{
	for (unsigned int i = 0; i < r->ndevs; i++)
		if (r->devs[i].info && r->devs[i].info->minor == minor)
			return &r->devs[i];
	return NULL;
}

static void drop_dev(struct runner *r, struct runner_dev *rd)
{
	unsigned int i = (unsigned int)(rd - r->devs);

	rts_dev_stop(rd->dev, 5000);
	rts_dev_close(rd->dev);
	rts_dev_free(rd->dev);
	g_free(rd->name);
	g_free(rd->info);
	r->devs[i] = r->devs[--r->ndevs];
	memset(&r->devs[r->ndevs], 0, sizeof(r->devs[0]));
}

/* Serve one kernel device. On reopen the ring is reset first so no command is lost or
 * completed twice: in-flight commands of the previous daemon fail with BUSY and are
 * retried by the initiator. */
int runner_attach(struct runner *r, const struct rts_tcmu_info *info, bool reopen)
{
	const struct rts_handler *h = runner_find_handler(r, info->cfgstring);
	struct rts_tcmu_attrs attrs;
	struct runner_dev *rd;
	char devnode[64], *why = NULL;
	int ret;

	if (!h) {
		g_autofree gchar *names = runner_handler_names(r);

		runner_log(r, RTS_LOG_ERR, "%s: no handler for cfgstring '%s' (loaded: %s)",
			   info->dev_name, info->cfgstring, *names ? names : "none");
		return -ENOENT;
	}
	if (find_dev(r, info->minor))
		return -EEXIST;
	if (r->ndevs >= RUNNER_MAX_DEVICES)
		return -ENOSPC;
	ret = rts_tcmu_read_attrs(r->configfs, info, &attrs);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "%s: cannot read its configfs settings: %s",
			   info->dev_name, strerror(-ret));
		return ret;
	}
	if (reopen) {
		ret = rts_tcmu_action(r->configfs, info, "block_dev", "1");
		if (ret == 0)
			ret = rts_tcmu_action(r->configfs, info, "reset_ring", "1");
		if (ret < 0 && ret != -ENOENT)
			runner_log(r, RTS_LOG_WARNING, "%s: cannot block/reset before adopting: %s",
				   info->dev_name, strerror(-ret));
	}
	if (runner_config_get_tmr_notification(r->config)) {
		int t = rts_tcmu_set_attrib(r->configfs, info, "tmr_notification", "1");

		if (t < 0 && t != -ENOENT)
			runner_log(r, RTS_LOG_WARNING,
				   "%s: cannot enable TMR notifications: %s; aborts will not "
				   "cancel I/O",
				   info->dev_name, strerror(-t));
	}
	rd = &r->devs[r->ndevs];
	g_auto(GStrv) opts = runner_config_handler_options(r->config, h->subtype);
	struct rts_dev_config cfg = {
		RTS_DEV_CONFIG_INIT,
		.name = info->dev_name,
		.cfgstring = info->cfgstring,
		.size = attrs.size,
		.block_size = attrs.block_size,
		/* the kernel's default 128 is nobody's choice and the kernel does not enforce
		 * it for TCMU: advertise what the data area and handler serve (dev.c) */
		.max_xfer_blocks = attrs.max_sectors == RTS_TCMU_DEFAULT_MAX_SECTORS
					   ? 0
					   : attrs.max_sectors,
		.queue_depth = 128,
		.write_cache = attrs.write_cache,
		.serial = attrs.serial,
		.options = (const char *const *)opts,
		.log_fn = runner_log_sink,
		.log_userdata = r,
		.log_priority = RTS_LOG_DEBUG, /* runner_log_emit filters; SIGHUP may change it */
	};
	snprintf(devnode, sizeof(devnode), "%s/uio%u", r->devdir, info->minor);
	char serial_file[700];
	if (rts_tcmu_dev_path(r->configfs, info, "wwn/vpd_unit_serial", serial_file,
			      sizeof(serial_file)) == 0)
		cfg.serial_file = serial_file;
	ret = rts_dev_new_uio(&cfg, h, devnode, info->map_size, &rd->dev);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "%s: cannot open %s: %s", info->dev_name, devnode,
			   strerror(-ret));
		goto unblock;
	}
	/* before open: a handler that owns path state asks for its group there */
	ret = rts_tcmu_use_alua(r->configfs, info, rd->dev);
	if (ret < 0 && ret != -ENOENT)
		runner_log(r, RTS_LOG_WARNING, "%s: cannot read its ALUA groups: %s; no ALUA",
			   info->dev_name, strerror(-ret));
	ret = rts_dev_open(rd->dev, reopen, &why);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "%s: %s", info->dev_name, why ? why : strerror(-ret));
		free(why);
		rd->dev = rts_dev_free(rd->dev);
		goto unblock;
	}
	ret = rts_dev_start(rd->dev);
	if (ret < 0) {
		rts_dev_close(rd->dev);
		rd->dev = rts_dev_free(rd->dev);
		goto unblock;
	}
	rd->info = g_memdup2(info, sizeof(*info));
	rd->name = g_strdup(info->dev_name);
	r->ndevs++;
	runner_log(r, RTS_LOG_NOTICE, "%s: %s /dev/uio%u '%s' with handler '%s'", info->dev_name,
		   reopen ? "adopted" : "serving", info->minor, info->cfgstring, h->subtype);
unblock:
	if (reopen)
		rts_tcmu_action(r->configfs, info, "block_dev", "0");
	return ret;
}

/*
 * A failed device (corrupt ring, I/O loop error) is recovered without a restart: stop it,
 * then adopt it again, which blocks it, resets the ring (the kernel fails what was in flight
 * with BUSY, so initiators retry) and reopens the handler. A few attempts per device; one
 * whose I/O thread is stuck in its handler cannot be stopped and stays failed.
 */
#define RUNNER_MAX_RECOVERIES 3

static void recover_dev(struct runner *r, struct runner_dev *rd, const char *why)
{
	unsigned int attempt = rd->recoveries + 1;
	struct rts_tcmu_info info;
	int ret;

	if (attempt > RUNNER_MAX_RECOVERIES) {
		runner_log(r, RTS_LOG_ERR, "%s: failed again (%s); not recovering it after %u attempts",
			   rd->name, why, RUNNER_MAX_RECOVERIES);
		rd->no_recover = true;
		return;
	}
	runner_log(r, RTS_LOG_WARNING, "%s: device failed (%s); recovering with reset_ring and "
		   "reopen (attempt %u of %u)", rd->name, why, attempt, RUNNER_MAX_RECOVERIES);
	ret = rts_dev_stop(rd->dev, 5000);
	if (ret == -EBUSY) {
		runner_log(r, RTS_LOG_ERR, "%s: cannot recover: its I/O thread is stuck in the handler",
			   rd->name);
		rd->no_recover = true;
		return;
	}
	info = *rd->info;
	drop_dev(r, rd);
	ret = runner_attach(r, &info, true);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "%s: recovery failed: %s; the device is not served",
			   info.dev_name, strerror(-ret));
		return;
	}
	rd = find_dev(r, info.minor);
	if (rd)
		rd->recoveries = attempt;
	runner_log(r, RTS_LOG_NOTICE, "%s: recovered", info.dev_name);
}

static gboolean on_recover_tick(gpointer data)
{
	struct runner *r = data;

	for (unsigned int i = 0; i < r->ndevs; i++) {
		struct runner_dev *rd = &r->devs[i];
		const char *why = rd->dev ? rts_dev_get_failure(rd->dev) : NULL;

		if (why && rd->info && !rd->no_recover) {
			char *reason = g_strdup(why); /* freed with the device */

			recover_dev(r, rd, reason);
			g_free(reason);
			break; /* the device table changed: the next one on the next tick */
		}
	}
	return G_SOURCE_CONTINUE;
}

static void on_event(void *userdata, const struct rts_nl_event *ev)
{
	struct runner *r = userdata;
	struct rts_tcmu_info info;
	struct runner_dev *rd;
	int status = 0;

	switch (ev->cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		status = rts_tcmu_info_from_sysfs(r->sysfs, ev->minor, &info);
		if (status < 0)
			runner_log(r, RTS_LOG_ERR, "added device uio%u ('%s'): cannot read sysfs: %s",
				   ev->minor, ev->uio_name, strerror(-status));
		else
			status = runner_attach(r, &info, false);
		break;
	case TCMU_CMD_REMOVED_DEVICE:
		rd = find_dev(r, ev->minor);
		if (rd) {
			runner_log(r, RTS_LOG_NOTICE, "%s: removed by the kernel", rd->name);
			drop_dev(r, rd);
		}
		break;
	case TCMU_CMD_RECONFIG_DEVICE:
		rd = find_dev(r, ev->minor);
		if (!rd) {
			status = -ENODEV;
			break;
		}
		struct rts_reconfig rc = ev->reconfig;
		if (rc.what & RTS_RECONFIG_CFGSTRING) {
			/* the kernel sends the full dev_config: the handler gets its own part */
			rc.cfgstring = cfgstring_split(rc.cfgstring).handler;
		}
		status = rts_dev_reconfig(rd->dev, &rc);
		break;
	}
	if (ev->wants_reply) {
		int r2 = rts_nl_reply(r->nl, ev->cmd, ev->dev_id, status);
		if (r2 < 0)
			runner_log(r, RTS_LOG_ERR, "cannot reply to the kernel for uio%u: %s",
				   ev->minor, strerror(-r2));
	}
}

static gboolean on_nl_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct runner *r = data;
	int ret;

	(void)fd;
	(void)cond;
	ret = rts_nl_dispatch(r->nl);
	if (ret < 0 && ret != -EAGAIN)
		runner_log(r, RTS_LOG_WARNING, "netlink receive: %s", strerror(-ret));
	return G_SOURCE_CONTINUE;
}

/* Write @val to target_core_user's module parameter @name: 0, or -errno (-ENOENT: a kernel
 * without it). */
static int set_tcmu_param(struct runner *r, const char *name, const char *val)
{
	char path[512];
	ssize_t n;
	int fd, ret = 0;

	snprintf(path, sizeof(path), "%s/module/target_core_user/parameters/%s", r->sysfs, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Whether configfs says the device is enabled; a device without the file (an older
 * layout, a test tree) counts as enabled. */
static bool dev_enabled(struct runner *r, const struct rts_tcmu_info *info)
{
	g_autofree gchar *val = NULL;
	char path[700];

	if (rts_tcmu_dev_path(r->configfs, info, "enable", path, sizeof(path)) < 0 ||
	    !g_file_get_contents(path, &val, NULL, NULL))
		return true;
	return g_strstrip(val)[0] != '0';
}

/*
 * The kernel waits for our reply to every netlink command without a timeout. A command it
 * sent while no runner listened (rts-runner starting, or after one that died mid-command)
 * is never answered: an `enable` of a new user backstore then sits in D state for ever
 * and takes every later command for that device with it. Like tcmu-runner we block new
 * commands (they fail with EAGAIN and can be retried), fail the pending ones (their
 * writers get EINTR), subscribe and adopt, and unblock. Returns whether we blocked.
 */
static bool reset_pending_commands(struct runner *r)
{
	int ret = set_tcmu_param(r, "block_netlink", "1");

	if (ret < 0) {
		if (ret != -ENOENT)
			runner_log(r, RTS_LOG_WARNING,
				   "cannot block netlink commands during startup: %s",
				   strerror(-ret));
		return false;
	}
	ret = set_tcmu_param(r, "reset_netlink", "1");
	if (ret < 0)
		runner_log(r, RTS_LOG_WARNING,
			   "cannot fail the netlink commands nobody answered: %s; a device "
			   "enabled before we started may wait for ever", strerror(-ret));
	else
		runner_log(r, RTS_LOG_DEBUG, "failed the netlink commands nobody answered");
	return true;
}

static void unblock_commands(struct runner *r)
{
	int ret = set_tcmu_param(r, "block_netlink", "0");

	if (ret < 0)
		runner_log(r, RTS_LOG_ERR,
			   "cannot unblock netlink commands: %s; the kernel refuses new TCMU "
			   "devices until %s/module/target_core_user/parameters/block_netlink "
			   "is 0", strerror(-ret), r->sysfs);
}

int runner_kernel_start(struct runner *r)
{
	struct rts_tcmu_info *list = NULL;
	const char *why = "";
	bool blocked;
	size_t n = 0;
	int ret;

	if (r->load_modules) {
		ret = runner_load_module(r, "target_core_user");
		if (ret < 0)
			return ret;
	}
	blocked = reset_pending_commands(r);
	ret = rts_nl_open(on_event, r, &r->nl, &why);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "netlink: %s (%s)", why, strerror(-ret));
		goto out;
	}
	ret = rts_nl_set_features(r->nl);
	if (ret == -EOPNOTSUPP)
		runner_log(r, RTS_LOG_NOTICE, "kernel does not wait for netlink replies (old TCMU)");
	else if (ret < 0)
		runner_log(r, RTS_LOG_WARNING, "SET_FEATURES failed: %s", strerror(-ret));
	rts_nl_set_nonblocking(r->nl);
	r->nl_watch = g_unix_fd_add(rts_nl_get_fd(r->nl), G_IO_IN, on_nl_readable, r);

	/* Devices that exist already got no ADDED event: adopt them. */
	ret = rts_tcmu_scan(r->sysfs, &list, &n);
	if (ret < 0) {
		runner_log(r, RTS_LOG_ERR, "cannot scan %s/class/uio: %s", r->sysfs, strerror(-ret));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		/* Its enable is still running: either it failed just now (reset above) and
		 * the kernel is taking it down, or its ADDED event is on its way to us. */
		if (!dev_enabled(r, &list[i])) {
			runner_log(r, RTS_LOG_NOTICE, "%s: not enabled yet; not adopting it",
				   list[i].dev_name);
			continue;
		}
		runner_attach(r, &list[i], true);
	}
	free(list);
	r->recover_watch = g_timeout_add_seconds(1, on_recover_tick, r);
	runner_log(r, RTS_LOG_NOTICE, "ready: %u TCMU device(s), %u handler(s)", r->ndevs,
		   r->nhandlers);
out:
	if (blocked)
		unblock_commands(r);
	return ret < 0 ? ret : 0;
}

void runner_kernel_stop(struct runner *r)
{
	if (r->recover_watch)
		g_source_remove(r->recover_watch);
	r->recover_watch = 0;
	if (r->nl_watch)
		g_source_remove(r->nl_watch);
	r->nl_watch = 0;
	rts_nl_close(r->nl);
	r->nl = NULL;
}
