/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* TCM-USER generic netlink: kernel device events and our replies (control thread only). */
#ifndef RTS_RUNNER_NETLINK_H
#define RTS_RUNNER_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include <rts/handler.h>

struct rts_nl;

struct rts_nl_event {
	int cmd;              /* TCMU_CMD_ADDED_DEVICE / REMOVED_DEVICE / RECONFIG_DEVICE */
	bool wants_reply;     /* the kernel waits for *_DONE (genl version 2 with a device id) */
	const char *uio_name; /* "tcm-user/<hba>/<dev>/<cfgstring>" */
	uint32_t minor;       /* /dev/uio<minor> */
	uint32_t dev_id;      /* echo in the reply */
	struct rts_reconfig reconfig; /* RECONFIG_DEVICE: what changed */
};

typedef void (*rts_nl_event_fn)(void *userdata, const struct rts_nl_event *ev);

struct nlmsghdr;
/*
 * Decode one TCM-USER message (untrusted: fuzzed by tests/fuzz/fuzz_netlink.c). Strings in
 * @ev point into @nlh. Returns 0, -ENOMSG for a command we do not handle, -EBADMSG for a
 * malformed message or one without device and minor.
 */
int rts_nl_parse(struct nlmsghdr *nlh, struct rts_nl_event *ev);

/* Join TCM-USER's config group. On failure *reason explains it. */
int rts_nl_open(rts_nl_event_fn cb, void *userdata, struct rts_nl **ret, const char **reason);
void rts_nl_close(struct rts_nl *nl);
/* Tell the kernel we send *_DONE replies; -EOPNOTSUPP on kernels without them. */
int rts_nl_set_features(struct rts_nl *nl);
/* Reply to an event of type @cmd for @dev_id with 0 or -errno. */
int rts_nl_reply(struct rts_nl *nl, int cmd, uint32_t dev_id, int status);
int rts_nl_get_fd(const struct rts_nl *nl);
int rts_nl_set_nonblocking(struct rts_nl *nl);
/* Read and dispatch pending messages (call when the fd is readable). */
int rts_nl_dispatch(struct rts_nl *nl);

#endif
