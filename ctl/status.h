/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl status: the rts-runner status socket reply (cmd_status.c; fuzz_status). */
#ifndef RTSCTL_STATUS_H
#define RTSCTL_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_SOCKET_DEFAULT "/run/rts/runner.sock"
#define STATUS_SCHEMA_PREFIX "rts-runner-status/"

struct json_object;

#define STATUS_HIST_MAX 1024

struct status_dev {
	const char *name, *handler, *state, *cfgstring, *failure; /* into the doc */
	uint64_t size, block_size, inflight, cmds, completions, errors, aborts;
	/* I/O statistics (runners since 0.1 with rts_dev_get_io_stats; has_io says present) */
	bool has_io;
	uint64_t read_cmds, write_cmds, read_bytes, write_bytes;
	uint64_t lat_p50_ns, lat_p99_ns, lat_p999_ns;
	/* latency histogram: nhist [upper bound ns, count] pairs, upper bounds ascending */
	uint64_t (*hist)[2];
	size_t nhist;
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

/*
 * The @permille-th latency (500 = median, 999 = p99.9) of the commands in @cur but not in
 * @prev (NULL: all of @cur), as the upper bound of its bucket in ns; 0 when none.
 */
uint64_t status_hist_percentile(const struct status_dev *cur, const struct status_dev *prev,
				unsigned int permille);

#endif
