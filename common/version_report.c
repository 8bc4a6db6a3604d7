/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What `rts-runner --version` and `rtsctl --version` report beyond the version numbers: the
 * io_uring features and opcodes this kernel offers (the data path needs IORING_FEAT_NODROP
 * semantics, fast poll and the read/write/fsync/fallocate/cancel/multishot-poll opcodes)
 * and whether LIO's configfs and target_core_user are there.
 */
#include <errno.h>
#include <liburing.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <rts/handler.h>

#include "version_report.h"

#ifndef RTS_URING_VERSION
#define RTS_URING_VERSION "unknown"
#endif

static const struct {
	unsigned int bit;
	const char *name;
} feats[] = {
	{ IORING_FEAT_SINGLE_MMAP, "single_mmap" },   { IORING_FEAT_NODROP, "nodrop" },
	{ IORING_FEAT_SUBMIT_STABLE, "submit_stable" }, { IORING_FEAT_RW_CUR_POS, "rw_cur_pos" },
	{ IORING_FEAT_CUR_PERSONALITY, "cur_personality" }, { IORING_FEAT_FAST_POLL, "fast_poll" },
	{ IORING_FEAT_POLL_32BITS, "poll_32bits" },   { IORING_FEAT_SQPOLL_NONFIXED, "sqpoll_nonfixed" },
	{ IORING_FEAT_EXT_ARG, "ext_arg" },           { IORING_FEAT_NATIVE_WORKERS, "native_workers" },
	{ IORING_FEAT_RSRC_TAGS, "rsrc_tags" },
};

static const struct {
	int op;
	const char *name;
} ops[] = {
	{ IORING_OP_READV, "readv" },	  { IORING_OP_WRITEV, "writev" },
	{ IORING_OP_READ, "read" },	  { IORING_OP_WRITE, "write" },
	{ IORING_OP_FSYNC, "fsync" },	  { IORING_OP_FALLOCATE, "fallocate" },
	{ IORING_OP_ASYNC_CANCEL, "async_cancel" }, { IORING_OP_POLL_ADD, "poll_add" },
};

static void print_uring(FILE *f)
{
	struct io_uring_params p;
	struct io_uring ring;
	struct io_uring_probe *probe;
	int r;

	memset(&p, 0, sizeof(p));
	r = io_uring_queue_init_params(4, &ring, &p);
	if (r < 0) {
		fprintf(f, "io_uring: unavailable (%s)\n", strerror(-r));
		return;
	}
	fprintf(f, "io_uring features:");
	for (size_t i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
		if (p.features & feats[i].bit)
			fprintf(f, " %s", feats[i].name);
	fprintf(f, " (0x%x)\n", p.features);
	probe = io_uring_get_probe_ring(&ring);
	if (probe) {
		fprintf(f, "io_uring opcodes used:");
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			fprintf(f, " %s%s", ops[i].name,
				io_uring_opcode_supported(probe, ops[i].op) ? "" : "(missing)");
		fprintf(f, "\n");
		io_uring_free_probe(probe);
	} else {
		fprintf(f, "io_uring opcodes: unavailable (no IORING_REGISTER_PROBE)\n");
	}
	io_uring_queue_exit(&ring);
}

void rts_print_version(FILE *f, const char *prog, const char *version)
{
	struct utsname u;

	fprintf(f, "%s %s\n", prog, version);
	fprintf(f, "handler ABI: %u\n", (unsigned int)RTS_HANDLER_ABI_VERSION);
	fprintf(f, "liburing: %s (built against)\n", RTS_URING_VERSION);
	if (uname(&u) == 0)
		fprintf(f, "kernel: %s %s\n", u.sysname, u.release);
	print_uring(f);
	fprintf(f, "configfs target: %s\n",
		access("/sys/kernel/config/target", F_OK) == 0 ? "present" : "absent");
	fprintf(f, "target_core_user: %s\n",
		access("/sys/module/target_core_user", F_OK) == 0 ? "loaded" : "not loaded");
}
