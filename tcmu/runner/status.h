/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rts-runner status socket (status.c): one JSON document per connection for rtsctl status. */
#ifndef RTS_RUNNER_STATUS_H
#define RTS_RUNNER_STATUS_H

#include "runner.h"

#define RUNNER_STATUS_SCHEMA "rts-runner-status/1"
#define RUNNER_STATUS_PATH_DEFAULT "/run/rts/runner.sock"

/* The status document (g_free). Control thread. */
char *runner_status_json(const struct runner *r);
/* Listen on @path (a stale socket of a dead runner is replaced); *reterr on failure. */
int runner_status_start(struct runner *r, const char *path, char **reterr);
void runner_status_stop(struct runner *r);

#endif
