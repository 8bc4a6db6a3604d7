/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TCM-USER generic netlink messages (tcmu/runner/netlink.c rts_nl_parse, then the UIO name
 * they carry through rts_tcmu_parse_uio_name): anything on the netlink group reaches them.
 * The input is the message after the netlink header (genl header, then attributes).
 * Invariants (abort on violation): an accepted event has a known command, NUL-terminated
 * strings inside the message, and a reconfig only with the fields it says it carries.
 */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rts/uio.h>

#include "netlink.h"
#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const char *s, const uint8_t *buf, size_t len)
{
	if (!s)
		return;
	if ((const uint8_t *)s < buf || (const uint8_t *)s >= buf + len ||
	    !memchr(s, '\0', (size_t)(buf + len - (const uint8_t *)s)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = NLMSG_HDRLEN + size;
	uint8_t *buf;
	struct nlmsghdr *nlh;
	struct rts_nl_event ev;

	if (size > 65536)
		return 0;
	buf = calloc(1, NLMSG_ALIGN(len));
	if (!buf)
		return 0;
	nlh = (struct nlmsghdr *)(void *)buf;
	nlh->nlmsg_len = (uint32_t)len;
	nlh->nlmsg_type = 0x20; /* the family id the kernel would have given */
	memcpy(buf + NLMSG_HDRLEN, data, size);
	if (rts_nl_parse(nlh, &ev) == 0) {
		struct rts_tcmu_info info;

		if (ev.cmd != TCMU_CMD_ADDED_DEVICE && ev.cmd != TCMU_CMD_REMOVED_DEVICE &&
		    ev.cmd != TCMU_CMD_RECONFIG_DEVICE)
			abort();
		inside(ev.uio_name, buf, len);
		if (!ev.uio_name)
			abort();
		if ((ev.reconfig.what & RTS_RECONFIG_CFGSTRING) != 0)
			inside(ev.reconfig.cfgstring, buf, len);
		else if (ev.reconfig.cfgstring)
			abort();
		if (rts_tcmu_parse_uio_name(ev.uio_name, &info) == 0 && !info.dev_name[0])
			abort();
	}
	free(buf);
	return 0;
}
