/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl status: the rts-runner status socket reply (cmd_status.c; fuzz_status). */
#ifndef RTSCTL_STATUS_H
#define RTSCTL_STATUS_H

#include <stddef.h>
#include <stdint.h>

#define STATUS_SOCKET_DEFAULT "/run/rts/runner.sock"
#define STATUS_SCHEMA_PREFIX "rts-runner-status/"

struct json_object;

struct status_dev {
	const char *name, *handler, *state, *cfgstring, *failure; /* into the doc */
	uint64_t size, block_size, inflight, cmds, completions, errors, aborts;
};

struct status_doc {
	struct json_object *root;
	const char *version, *mode;
	uint64_t pid;
	struct json_object *handlers; /* array or NULL */
	struct status_dev *devs;
	size_t ndevs;
};

/* Parse and check a reply; on error *err names what is wrong (free()). */
int status_parse(const char *buf, size_t len, struct status_doc *d, char **err);
void status_doc_free(struct status_doc *d);

#endif
