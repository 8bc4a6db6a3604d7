/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test plugins for the loader, one per VARIANT: good, abi, short, nosym, noopen, future. */
#include <rts/handler.h>

__attribute__((unused)) static int v_open(struct rts_dev *dev, bool reopen)
{
	(void)dev;
	(void)reopen;
	return 0;
}

static int v_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		  unsigned int iovcnt, uint64_t off, uint64_t len)
{
	(void)dev;
	(void)iov;
	(void)iovcnt;
	(void)off;
	(void)len;
	rts_cmd_complete(cmd, 0);
	return 0;
}

/* A descriptor from a newer SDK: larger, with fields this runner does not know. */
struct future_handler {
	struct rts_handler v1;
	void (*future_op)(void);
};

#if defined(VARIANT_future)
static const struct future_handler desc = {
	.v1 = {
		.abi_version = RTS_HANDLER_ABI_VERSION,
		.struct_size = sizeof(struct future_handler),
		.name = "future",
		.subtype = "future",
		.open = v_open,
		.read = v_read,
	},
};
RTS_HANDLER_DEFINE(desc.v1)
#else
#if defined(VARIANT_abi)
#define ABI (RTS_HANDLER_ABI_VERSION + 1)
#else
#define ABI RTS_HANDLER_ABI_VERSION
#endif
#if defined(VARIANT_short)
#define SIZE 16
#else
#define SIZE sizeof(struct rts_handler)
#endif
static const struct rts_handler desc = {
	.abi_version = ABI,
	.struct_size = SIZE,
	.name = "variant",
	.subtype = "variant",
#if !defined(VARIANT_noopen)
	.open = v_open,
#endif
	.read = v_read,
#if defined(VARIANT_reserved)
	.reserved_zero = 7,
#endif
};
#if !defined(VARIANT_nosym)
RTS_HANDLER_DEFINE(desc)
#else
__attribute__((visibility("default"))) const void *not_the_entry(void);
__attribute__((visibility("default"))) const void *not_the_entry(void)
{
	return &desc;
}
#endif
#endif
