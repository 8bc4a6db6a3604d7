/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rts-runner configuration file (GKeyFile, default /etc/rts/runner.conf) and the log sink
 * that honours log_level / log_target. See docs/runner.conf.example.
 *
 *   [runner]
 *   handler_dir = /usr/lib/x86_64-linux-gnu/rts/handlers
 *   log_level = notice         # error|warning|notice|info|debug or tcmu-runner's 0..5
 *   log_target = stderr        # stderr|syslog
 *   tmr_notification = true    # ask the kernel for TMR entries (aborts cancel our I/O)
 *   status_group = rts         # group that may use the status socket (mode 0660), read at start
 *   [handler.<subtype>]
 *   any_key = any value        # passed to the handler: rts_dev_get_option()
 *
 * Everything here runs on the control thread, except runner_log_emit(), which any thread
 * may call (it reads the log level and target atomically).
 */
#ifndef RTS_RUNNER_CONFIG_H
#define RTS_RUNNER_CONFIG_H

#include <glib.h>
#include <stdbool.h>

#include "runner.h"

#define RUNNER_CONFIG_PATH_DEFAULT "/etc/rts/runner.conf"

enum runner_log_target {
	RUNNER_LOG_STDERR = 0,
	RUNNER_LOG_SYSLOG = 1,
};

/* Bits returned by runner_config_reload(). */
enum runner_reload_result {
	RUNNER_RELOAD_APPLIED = 1u << 0, /* log level and/or target changed */
	RUNNER_RELOAD_NEEDS_RESTART = 1u << 1, /* handler_dir or handler options changed */
};

/*
 * Parse @p path. @p must_exist false: a missing file gives an empty config (defaults),
 * which is what the default path wants; --config PATH passes true.
 * Warnings (unknown groups and keys, with path:line) are logged through runner_log(r).
 * Returns 0, or -errno with a message naming the file and key in *reterr (g_free it).
 */
int runner_config_load(struct runner *r, const char *path, bool must_exist,
		       struct runner_config **ret, char **reterr);
/* Free (NULL-tolerant); returns NULL. */
struct runner_config *runner_config_free(struct runner_config *c);

/* The file this config came from. */
const char *runner_config_get_path(const struct runner_config *c);
/* [runner] handler_dir, NULL when not set. */
const char *runner_config_get_handler_dir(const struct runner_config *c);
/* [runner] log_level as RTS_LOG_*, 0 when not set. */
int runner_config_get_log_level(const struct runner_config *c);
/* [runner] log_target as enum runner_log_target, -1 when not set. */
int runner_config_get_log_target(const struct runner_config *c);
/* [handler.<subtype>] @p key, NULL when not set (owned by @p c). */
const char *runner_config_handler_option(const struct runner_config *c, const char *subtype,
					 const char *key);
/* Keys of [handler.<subtype>], NULL-terminated, sorted; g_strfreev() it. Never NULL. */
/* [runner] status_group as a gid, -1 when not set (the socket keeps the runner's group). */
long runner_config_get_status_group(const struct runner_config *c);
/* [runner] tmr_notification (default true; also with no config file). */
bool runner_config_get_tmr_notification(const struct runner_config *c);
char **runner_config_handler_keys(const struct runner_config *c, const char *subtype);
/* [handler.<subtype>] as key, value, ..., NULL for rts_dev_config.options (g_strfreev). */
char **runner_config_handler_options(const struct runner_config *c, const char *subtype);

/*
 * Take ownership of @p c as r->config (freeing the previous one) and apply log_level
 * (unless r->log_level_pinned) and log_target to @p r.
 */
void runner_config_apply(struct runner *r, struct runner_config *c);

/*
 * SIGHUP: re-read r->config's file. On a parse error the running config stays and the
 * error is returned (-errno, *reterr). Otherwise the new file replaces it, log level and
 * target take effect at once, and a change of handler_dir or of [handler.*] options is
 * logged as needing a restart. Returns RUNNER_RELOAD_* bits (0: nothing changed).
 */
int runner_config_reload(struct runner *r, char **reterr);

/*
 * GSourceFunc for g_unix_signal_add(SIGHUP, runner_on_sighup, r): sd_notify RELOADING=1,
 * runner_config_reload() (an error is logged and the running config stays), READY=1.
 */
gboolean runner_on_sighup(gpointer r);

/* error|warning|notice|info|debug (any case) or tcmu.conf's 0..5 (0 CRIT and 1 ERROR both
 * map to error; 5 "debug SCSI CMD" to debug). Returns RTS_LOG_* or -EINVAL. */
int runner_parse_log_level(const char *s);

/*
 * The log sink: drop messages above r->log_priority, write to stderr ("rts-runner: prio:
 * [dev: ]msg") or syslog(3) per r->log_target. Any thread.
 */
void runner_log_emit(const struct runner *r, int prio, const char *dev, const char *msg);

#endif
