/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TCM-USER generic netlink family (libnl-genl-3): device added / removed /
 * reconfigured events from the kernel's "config" multicast group, *_DONE replies carrying
 * a status, and SET_FEATURES announcing that we reply.
 */
#include <errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include <stdlib.h>
#include <string.h>

#include "netlink.h"
#include "uapi.h"

struct rts_nl {
	struct nl_sock *sock;
	int family;
	rts_nl_event_fn cb;
	void *userdata;
};

static struct nla_policy policy[TCMU_ATTR_MAX + 1] = {
	[TCMU_ATTR_DEVICE] = { .type = NLA_STRING },
	[TCMU_ATTR_MINOR] = { .type = NLA_U32 },
	[TCMU_ATTR_DEV_CFG] = { .type = NLA_STRING },
	[TCMU_ATTR_DEV_SIZE] = { .type = NLA_U64 },
	[TCMU_ATTR_WRITECACHE] = { .type = NLA_U8 },
	[TCMU_ATTR_CMD_STATUS] = { .type = NLA_S32 },
	[TCMU_ATTR_DEVICE_ID] = { .type = NLA_U32 },
	[TCMU_ATTR_SUPP_KERN_CMD_REPLY] = { .type = NLA_U8 },
};

int rts_nl_parse(struct nlmsghdr *nlh, struct rts_nl_event *ev)
{
	struct genlmsghdr *gh;
	struct nlattr *a[TCMU_ATTR_MAX + 1];

	*ev = (struct rts_nl_event){ 0 };
	if (!genlmsg_valid_hdr(nlh, 0) || genlmsg_parse(nlh, 0, a, TCMU_ATTR_MAX, policy) < 0)
		return -EBADMSG;
	gh = nlmsg_data(nlh);
	switch (gh->cmd) {
	case TCMU_CMD_ADDED_DEVICE:
	case TCMU_CMD_REMOVED_DEVICE:
	case TCMU_CMD_RECONFIG_DEVICE:
		break;
	default:
		return -ENOMSG; /* our own commands echoed, or newer kernels' */
	}
	if (!a[TCMU_ATTR_DEVICE] || !a[TCMU_ATTR_MINOR])
		return -EBADMSG;
	ev->cmd = gh->cmd;
	ev->wants_reply = gh->version > 1;
	ev->uio_name = nla_get_string(a[TCMU_ATTR_DEVICE]);
	ev->minor = nla_get_u32(a[TCMU_ATTR_MINOR]);
	if (a[TCMU_ATTR_DEVICE_ID])
		ev->dev_id = nla_get_u32(a[TCMU_ATTR_DEVICE_ID]);
	else
		ev->wants_reply = false; /* kernels without replies send no id */
	if (a[TCMU_ATTR_DEV_CFG]) {
		ev->reconfig.what |= RTS_RECONFIG_CFGSTRING;
		ev->reconfig.cfgstring = nla_get_string(a[TCMU_ATTR_DEV_CFG]);
	}
	if (a[TCMU_ATTR_DEV_SIZE]) {
		ev->reconfig.what |= RTS_RECONFIG_SIZE;
		ev->reconfig.size = nla_get_u64(a[TCMU_ATTR_DEV_SIZE]);
	}
	if (a[TCMU_ATTR_WRITECACHE]) {
		ev->reconfig.what |= RTS_RECONFIG_WRITE_CACHE;
		ev->reconfig.write_cache = nla_get_u8(a[TCMU_ATTR_WRITECACHE]) != 0;
	}
	ev->reconfig.struct_size = sizeof(ev->reconfig);
	return 0;
}

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct rts_nl *nl = arg;
	struct rts_nl_event ev;

	if (rts_nl_parse(nlmsg_hdr(msg), &ev) < 0)
		return NL_SKIP;
	nl->cb(nl->userdata, &ev);
	return NL_OK;
}

static int nlerr(int e)
{
	switch (-e) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_PERM:
		return -EPERM;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

int rts_nl_open(rts_nl_event_fn cb, void *userdata, struct rts_nl **ret, const char **reason)
{
	struct rts_nl *nl = calloc(1, sizeof(*nl));
	int grp, r;

	if (!nl)
		return -ENOMEM;
	nl->cb = cb;
	nl->userdata = userdata;
	nl->sock = nl_socket_alloc();
	if (!nl->sock) {
		free(nl);
		return -ENOMEM;
	}
	r = genl_connect(nl->sock);
	if (r < 0) {
		*reason = "cannot open a generic netlink socket";
		goto fail;
	}
	nl->family = genl_ctrl_resolve(nl->sock, "TCM-USER");
	if (nl->family < 0) {
		r = nl->family;
		*reason = "generic netlink family TCM-USER not found (is target_core_user loaded?)";
		goto fail;
	}
	grp = genl_ctrl_resolve_grp(nl->sock, "TCM-USER", "config");
	if (grp < 0) {
		r = grp;
		*reason = "TCM-USER has no 'config' multicast group";
		goto fail;
	}
	r = nl_socket_add_membership(nl->sock, grp);
	if (r < 0) {
		*reason = "cannot join the TCM-USER config group";
		goto fail;
	}
	nl_socket_disable_seq_check(nl->sock);
	nl_socket_modify_cb(nl->sock, NL_CB_VALID, NL_CB_CUSTOM, on_msg, nl);
	*ret = nl;
	return 0;
fail:
	r = nlerr(r);
	nl_socket_free(nl->sock);
	free(nl);
	return r;
}

void rts_nl_close(struct rts_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sock);
	free(nl);
}

int rts_nl_set_features(struct rts_nl *nl)
{
	struct nl_msg *m = nlmsg_alloc();
	int r;

	if (!m)
		return -ENOMEM;
	if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0, TCMU_CMD_SET_FEATURES, 2) ||
	    nla_put_u8(m, TCMU_ATTR_SUPP_KERN_CMD_REPLY, 1) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	r = nl_send_sync(nl->sock, m); /* frees m, waits for the ack */
	return r < 0 ? nlerr(r) : 0;
}

int rts_nl_reply(struct rts_nl *nl, int cmd, uint32_t dev_id, int status)
{
	struct nl_msg *m = nlmsg_alloc();
	int done, r;

	if (!m)
		return -ENOMEM;
	switch (cmd) {
	case TCMU_CMD_ADDED_DEVICE:
		done = TCMU_CMD_ADDED_DEVICE_DONE;
		break;
	case TCMU_CMD_REMOVED_DEVICE:
		done = TCMU_CMD_REMOVED_DEVICE_DONE;
		break;
	default:
		done = TCMU_CMD_RECONFIG_DEVICE_DONE;
	}
	if (!genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, 0, (uint8_t)done, 2) ||
	    nla_put_s32(m, TCMU_ATTR_CMD_STATUS, status) < 0 ||
	    nla_put_u32(m, TCMU_ATTR_DEVICE_ID, dev_id) < 0) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	r = nl_send_auto(nl->sock, m);
	nlmsg_free(m);
	return r < 0 ? nlerr(r) : 0;
}

int rts_nl_get_fd(const struct rts_nl *nl)
{
	return nl_socket_get_fd(nl->sock);
}

int rts_nl_dispatch(struct rts_nl *nl)
{
	int r = nl_recvmsgs_default(nl->sock);
	return r < 0 ? nlerr(r) : 0;
}

int rts_nl_set_nonblocking(struct rts_nl *nl)
{
	int r = nl_socket_set_nonblocking(nl->sock);
	return r < 0 ? nlerr(r) : 0;
}
