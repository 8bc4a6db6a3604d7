/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rts-runner internals: the runner state owned by the control (GMainLoop) thread. */
#ifndef RTS_RUNNER_H
#define RTS_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include <rts/device.h>
#include <rts/uio.h>

#define RUNNER_MAX_HANDLERS 64
#define RUNNER_MAX_DEVICES 256

struct runner_dev {
	struct rts_dev *dev;
	struct rts_sim *sim;         /* simulated devices only */
	struct rts_tcmu_info *info;  /* kernel devices only (owned) */
	char *name;
	unsigned int recoveries;     /* reset_ring + reopen after a failure, so far */
	bool no_recover;             /* recovery gave up on it */
};

struct rts_nl;

struct runner {
	int log_priority;
	bool log_color;
	struct rts_loaded_handler *handlers[RUNNER_MAX_HANDLERS];
	unsigned int nhandlers;
	struct runner_dev devs[RUNNER_MAX_DEVICES];
	unsigned int ndevs;
	/* kernel mode */
	const char *sysfs;     /* "/sys" */
	const char *configfs;  /* "/sys/kernel/config" */
	const char *devdir;    /* "/dev" */
	bool load_modules;
	struct rts_nl *nl;
	unsigned int nl_watch;
	unsigned int recover_watch; /* failed kernel devices: reset_ring + reopen */

	/* Appended for config.c, dbus.c (control thread only unless noted). */
	struct runner_config *config; /* config file in effect (config.c), NULL: none */
	int log_target;               /* enum runner_log_target; read by the log sink (atomic) */
	bool log_level_pinned;        /* -v/-d given: the config file's log_level is ignored */
	struct runner_dbus *dbus;     /* dbus.c state, NULL when not started */
	struct runner_status *status; /* status.c socket, NULL when not started */
};

struct runner_config;
struct runner_dbus;
struct runner_status;

void runner_log(const struct runner *r, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void runner_log_sink(void *userdata, int prio, const char *dev, const char *msg);

int runner_load_handlers(struct runner *r, const char *dir);
/* The handler of a subtype, or of the subtype part of a full cfgstring; NULL: none loaded. */
const struct rts_handler *runner_find_handler(const struct runner *r, const char *subtype);
/* The loaded handlers' subtypes, ", "-separated ("" when none; g_free). */
char *runner_handler_names(const struct runner *r);
void runner_unload_handlers(struct runner *r);
/* The device's full "<subtype>/<config>", as configfs and targetcli show it (g_free). */
char *runner_dev_full_cfgstring(const struct runner_dev *rd);

/* kernel.c: serve the kernel's TCMU devices (netlink + UIO). */
int runner_load_module(struct runner *r, const char *name);
int runner_attach(struct runner *r, const struct rts_tcmu_info *info, bool reopen);
int runner_kernel_start(struct runner *r);
void runner_kernel_stop(struct runner *r);

/* demo.c: drive a SCSI workload through a simulated device; 0 if every check passed. */
int runner_demo(struct runner *r, struct runner_dev *rd);

#endif
