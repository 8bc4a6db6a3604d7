/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * runner.conf (tcmu/runner/config.c): the operator's file, read at start and on SIGHUP; a
 * typo must give a clear error, never a crash. The input is the whole file. Invariants
 * (abort on violation): a refusal has a message; an accepted config answers every getter,
 * its handler options come in key/value pairs, and each key is found again by
 * runner_config_handler_option().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <glib.h>

#include "config.h"
#include "runner.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* rts-runner's main.c owns the log functions; the parser's warnings are dropped here. */
void runner_log(const struct runner *r, int prio, const char *fmt, ...)
{
	(void)r;
	(void)prio;
	(void)fmt;
}

void runner_log_sink(void *userdata, int prio, const char *dev, const char *msg)
{
	(void)userdata;
	(void)prio;
	(void)dev;
	(void)msg;
}

static void check_handler(const struct runner_config *c, const char *subtype)
{
	char **opts = runner_config_handler_options(c, subtype);
	size_t n = 0;

	if (!opts)
		return;
	while (opts[n])
		n++;
	if (n % 2)
		abort();
	for (size_t i = 0; i < n; i += 2)
		if (!runner_config_handler_option(c, subtype, opts[i]))
			abort();
	g_strfreev(opts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct runner r; /* logging only: priority 0 drops every message */
	struct runner_config *c = NULL;
	char path[64], *err = NULL;
	int fd = memfd_create("runner.conf", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (runner_config_load(&r, path, true, &c, &err) == 0) {
		if (err || !c || !runner_config_get_path(c))
			abort();
		(void)runner_config_get_handler_dir(c);
		(void)runner_config_get_log_level(c);
		(void)runner_config_get_log_target(c);
		(void)runner_config_get_tmr_notification(c);
		check_handler(c, "file");
		check_handler(c, "qcow");
		check_handler(c, "errinj");
		runner_config_free(c);
	} else if (!err) {
		abort();
	}
	g_free(err);
	close(fd);
	return 0;
}
