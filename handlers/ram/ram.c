/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ram handler: a memory-backed disk for tests and demos. cfgstring "ram/<size>" (e.g.
 * ram/64M); without a size the kernel's (or simulator's) dev_size is used. Memory is an
 * anonymous MAP_NORESERVE mapping, so untouched and unmapped ranges cost nothing and read
 * as zeros (thin provisioning with LBPRZ).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rts/handler.h>

#include <rts/cfgstring.h>

struct ram_dev {
	uint8_t *mem;
	uint64_t size;
};

static int ram_check_config(const char *cfg, char **reason)
{
	uint64_t size;

	if (*cfg && rts_parse_size(cfg, &size) < 0) {
		if (reason)
			*reason = strdup("ram: expected a size such as '64M'");
		return -EINVAL;
	}
	return 0;
}

static int ram_open(struct rts_dev *dev, bool reopen)
{
	const char *cfg = rts_dev_get_cfgstring(dev);
	uint64_t size = rts_dev_get_size(dev);
	struct ram_dev *rd;

	(void)reopen;
	if (*cfg && rts_parse_size(cfg, &size) < 0)
		return -EINVAL;
	if (!size || size % rts_dev_get_block_size(dev))
		return -EINVAL;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->size = size;
	rd->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (rd->mem == MAP_FAILED) {
		int err = errno;
		free(rd);
		return -err;
	}
	rts_dev_set_private(dev, rd);
	rts_dev_set_num_lbas(dev, size / rts_dev_get_block_size(dev));
	rts_dev_set_thin_provisioning(dev, true, 1);
	rts_dev_set_solid_state(dev, true);
	return 0;
}

static void ram_close(struct rts_dev *dev)
{
	struct ram_dev *rd = rts_dev_get_private(dev);

	munmap(rd->mem, rd->size);
	free(rd);
	rts_dev_set_private(dev, NULL);
}

static int ram_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		    unsigned int iovcnt, uint64_t off, uint64_t len)
{
	struct ram_dev *rd = rts_dev_get_private(dev);

	if (off > rd->size || len > rd->size - off)
		return -ERANGE;
	for (unsigned int i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;
		memcpy(iov[i].iov_base, rd->mem + off, n);
		off += n;
		len -= n;
	}
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int ram_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int iovcnt, uint64_t off, uint64_t len, unsigned int flags)
{
	struct ram_dev *rd = rts_dev_get_private(dev);

	(void)flags; /* memory: every completed write is as durable as it gets */
	if (off > rd->size || len > rd->size - off)
		return -ERANGE;
	for (unsigned int i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;
		memcpy(rd->mem + off, iov[i].iov_base, n);
		off += n;
		len -= n;
	}
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int ram_flush(struct rts_dev *dev, struct rts_cmd *cmd)
{
	(void)dev;
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int ram_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len)
{
	struct ram_dev *rd = rts_dev_get_private(dev);
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t a = (off + page - 1) / page * page, b = (off + len) / page * page;

	if (off > rd->size || len > rd->size - off)
		return -ERANGE;
	if (a < b) {
		/* Whole pages go back to the kernel and read as zeros again. */
		memset(rd->mem + off, 0, a - off);
		if (madvise(rd->mem + a, b - a, MADV_DONTNEED) < 0)
			memset(rd->mem + a, 0, b - a);
		memset(rd->mem + b, 0, off + len - b);
	} else {
		memset(rd->mem + off, 0, len);
	}
	rts_cmd_complete(cmd, 0);
	return 0;
}

static const struct rts_handler ram_handler = {
	RTS_HANDLER_INIT,
	.name = "ram: memory-backed disk",
	.subtype = "ram",
	.cfg_desc = "ram/<size>, e.g. ram/64M (contents are lost when the device closes)",
	.flags = RTS_HANDLER_F_FUA,
	.check_config = ram_check_config,
	.open = ram_open,
	.close = ram_close,
	.read = ram_read,
	.write = ram_write,
	.flush = ram_flush,
	.unmap = ram_unmap,
};

RTS_HANDLER_DEFINE(ram_handler)
