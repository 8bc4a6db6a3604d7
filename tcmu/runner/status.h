/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rts-runner status socket (status.c): one JSON document per connection for rtsctl status. */
#ifndef RTS_RUNNER_STATUS_H
#define RTS_RUNNER_STATUS_H

#include <stdint.h>

#include "runner.h"

#define RUNNER_STATUS_SCHEMA "rts-runner-status/1"
#define RUNNER_STATUS_PATH_DEFAULT "/run/rts/runner.sock"

#define RUNNER_STATUS_MAX_CLIENTS 16 /* unread connections held at once */
#define RUNNER_STATUS_TIMEOUT_MS 2000 /* to read the whole document */

struct runner_status_limits {
	unsigned int max_clients;
	unsigned int timeout_ms;
	unsigned int sndbuf; /* SO_SNDBUF of each connection, 0: the kernel's default */
};

/* The status document (g_free). Control thread. */
char *runner_status_json(const struct runner *r);
/* Listen on @path (a stale socket of a dead runner is replaced); *reterr on failure. */
int runner_status_start(struct runner *r, const char *path, char **reterr);
void runner_status_stop(struct runner *r);
/* Give the socket to group @gid (-1: the runner's group), mode 0660; *reterr on failure. */
int runner_status_set_group(struct runner *r, long gid, char **reterr);
/* Tests and tuning: replace the defaults above (zeros become 1 where 0 makes no sense). */
void runner_status_set_limits(struct runner *r, const struct runner_status_limits *l);
/* Documents sent whole, clients dropped, clients still being answered. */
void runner_status_get_counters(const struct runner *r, uint64_t *served, uint64_t *dropped,
				unsigned int *pending);

#endif
