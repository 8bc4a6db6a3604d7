/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * null handler: writes are discarded, reads return zeros. cfgstring "null/[<size>]" with an
 * optional size (bytes, or with a K/M/G/T suffix) when the kernel or simulator gives none.
 * Measures the runner's own overhead.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rts/handler.h>

#include <rts/cfgstring.h>

static int null_check_config(const char *cfg, char **reason)
{
	uint64_t size;

	if (!*cfg)
		return 0;
	if (rts_parse_size(cfg, &size) < 0) {
		if (reason)
			*reason = strdup("null: expected an optional size such as '1G'");
		return -EINVAL;
	}
	return 0;
}

static int null_open(struct rts_dev *dev, bool reopen)
{
	const char *cfg = rts_dev_get_cfgstring(dev);
	uint64_t size = rts_dev_get_size(dev);

	(void)reopen;
	if (*cfg && rts_parse_size(cfg, &size) < 0)
		return -EINVAL;
	if (!size)
		return -EINVAL;
	rts_dev_set_num_lbas(dev, size / rts_dev_get_block_size(dev));
	rts_dev_set_thin_provisioning(dev, true, 1);
	rts_dev_set_solid_state(dev, true);
	return 0;
}

static int null_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int iovcnt, uint64_t off, uint64_t len)
{
	(void)dev;
	(void)off;
	for (unsigned int i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;
		memset(iov[i].iov_base, 0, n);
		len -= n;
	}
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int null_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		      unsigned int iovcnt, uint64_t off, uint64_t len, unsigned int flags)
{
	(void)dev;
	(void)iov;
	(void)iovcnt;
	(void)off;
	(void)len;
	(void)flags;
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int null_flush(struct rts_dev *dev, struct rts_cmd *cmd)
{
	(void)dev;
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int null_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len)
{
	(void)dev;
	(void)off;
	(void)len;
	rts_cmd_complete(cmd, 0);
	return 0;
}

static const struct rts_handler null_handler = {
	RTS_HANDLER_INIT,
	.name = "null: discard writes, read zeros",
	.subtype = "null",
	.cfg_desc = "null/[size], e.g. null/1G",
	.flags = RTS_HANDLER_F_FUA,
	.check_config = null_check_config,
	.open = null_open,
	.read = null_read,
	.write = null_write,
	.flush = null_flush,
	.unmap = null_unmap,
};

RTS_HANDLER_DEFINE(null_handler)
