/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * linux/target_core_user.h without its struct iovec clash: the UAPI header pulls in
 * <linux/uio.h>, whose struct iovec collides with glibc's <sys/uio.h>. The layout is the
 * same, so the kernel's copy is renamed while the header is read.
 */
#ifndef RTS_COMMON_UAPI_H
#define RTS_COMMON_UAPI_H

#include <sys/uio.h>

#define iovec rts_uapi_iovec
#include <linux/target_core_user.h>
#undef iovec

_Static_assert(sizeof(struct rts_uapi_iovec) == sizeof(struct iovec), "iovec layout");
_Static_assert(sizeof(struct tcmu_mailbox) == 128, "mailbox size");
_Static_assert(sizeof(struct tcmu_cmd_entry) == 112, "command entry size");

#endif
