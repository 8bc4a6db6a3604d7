/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * example: the smallest complete rts-runner handler, the one docs/handler-guide.md walks
 * through. It is a memory disk:
 *
 *   example/[size=SIZE][;readonly]      e.g. example/size=64M, example/size=1G;readonly
 *
 * Without size= the device takes the kernel's dev_size (rts_dev_get_size()). Memory comes
 * from calloc(), so blocks never written read as zeros, which lets the handler announce
 * thin provisioning (the core then reports LBPRZ and sends UNMAP to unmap()).
 *
 * Build it out of tree with nothing but pkg-config:
 *
 *   cc -std=c11 -fPIC -shared -fvisibility=hidden -o handler_example.so example.c \
 *      $(pkg-config --cflags --libs rts-handler)
 *
 * and serve a simulated device with it (no kernel, no root):
 *
 *   rts-runner --handler-dir . --simulate example/size=16M --demo
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rts/cfgstring.h>
#include <rts/handler.h>

/* Per-device state, hung on the device with rts_dev_set_private(). */
struct example_dev {
	uint8_t *mem;
	uint64_t size;
};

struct example_cfg {
	uint64_t size; /* 0: use the kernel's dev_size */
	bool readonly;
};

/*
 * Parse "[size=SIZE][;readonly]". The core never parses a handler's cfgstring: the size
 * and every option are the handler's business. On failure *reason (if not NULL) receives a
 * malloc'd sentence naming the problem; the runner shows it to targetcli/rtsctl.
 */
static int example_parse(const char *cfgstring, struct example_cfg *cfg, char **reason)
{
	char *opts = malloc(strlen(cfgstring) + 1), *cur, *key, *val;
	int ret = 0;

	if (!opts)
		return -ENOMEM;
	strcpy(opts, cfgstring);
	memset(cfg, 0, sizeof(*cfg));
	cur = opts;
	while (ret == 0 && rts_cfg_next_option(&cur, &key, &val)) {
		const char *why = NULL;

		if (strcmp(key, "size") == 0) {
			if (!val || rts_parse_size(val, &cfg->size) < 0 || cfg->size == 0)
				why = "size= needs a size such as 64M";
		} else if (strcmp(key, "readonly") == 0 && !val) {
			cfg->readonly = true;
		} else {
			why = "unknown option (expected size=SIZE or readonly)";
		}
		if (why) {
			if (reason) {
				size_t n = strlen(key) + strlen(why) + 32;
				*reason = malloc(n);
				if (*reason)
					snprintf(*reason, n, "example: '%s': %s", key, why);
			}
			ret = -EINVAL;
		}
	}
	free(opts);
	return ret;
}

/* Optional: targetcli and `rtsctl create` ask this before creating a device. */
static int example_check_config(const char *cfgstring, char **reason)
{
	struct example_cfg cfg;

	return example_parse(cfgstring, &cfg, reason);
}

/* Required: acquire the backing store and fix the geometry. Control thread. */
static int example_open(struct rts_dev *dev, bool reopen)
{
	uint32_t bs = rts_dev_get_block_size(dev);
	struct example_cfg cfg;
	struct example_dev *ed;
	int ret;

	(void)reopen; /* memory does not survive a runner restart: nothing to re-attach */
	ret = example_parse(rts_dev_get_cfgstring(dev), &cfg, NULL);
	if (ret < 0)
		return ret;
	if (!cfg.size)
		cfg.size = rts_dev_get_size(dev);
	if (!cfg.size || cfg.size % bs) {
		rts_dev_err(dev, "example: size %llu is not a positive multiple of %u",
			    (unsigned long long)cfg.size, bs);
		return -EINVAL;
	}
	ed = calloc(1, sizeof(*ed));
	if (!ed)
		return -ENOMEM;
	ed->mem = calloc(1, (size_t)cfg.size);
	if (!ed->mem) {
		free(ed);
		return -ENOMEM;
	}
	ed->size = cfg.size;
	rts_dev_set_private(dev, ed);
	rts_dev_set_num_lbas(dev, cfg.size / bs);
	rts_dev_set_read_only(dev, cfg.readonly);
	rts_dev_set_thin_provisioning(dev, true, 1); /* unmapped blocks read as zeros */
	rts_dev_set_solid_state(dev, true);
	return 0;
}

/* Optional: release what open() acquired. Control thread, no command in flight. */
static void example_close(struct rts_dev *dev)
{
	struct example_dev *ed = rts_dev_get_private(dev);

	free(ed->mem);
	free(ed);
	rts_dev_set_private(dev, NULL);
}

/*
 * The data path runs on the device's I/O thread, one call at a time. @off and @len are
 * block-aligned and inside the device (the core checked the CDB), so no range check is
 * needed. Memory never blocks, so each operation completes inline and returns 0.
 */
static int example_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
			unsigned int iovcnt, uint64_t off, uint64_t len)
{
	struct example_dev *ed = rts_dev_get_private(dev);

	for (unsigned int i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;
		memcpy(iov[i].iov_base, ed->mem + off, n);
		off += n;
		len -= n;
	}
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int example_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
			 unsigned int iovcnt, uint64_t off, uint64_t len, unsigned int flags)
{
	struct example_dev *ed = rts_dev_get_private(dev);

	(void)flags; /* RTS_IO_FUA: memory is as durable as it gets once copied */
	for (unsigned int i = 0; i < iovcnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;
		memcpy(ed->mem + off, iov[i].iov_base, n);
		off += n;
		len -= n;
	}
	rts_cmd_complete(cmd, 0);
	return 0;
}

/* With thin provisioning the handler promises that unmapped blocks read back as zeros. */
static int example_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len)
{
	struct example_dev *ed = rts_dev_get_private(dev);

	memset(ed->mem + off, 0, (size_t)len);
	rts_cmd_complete(cmd, 0);
	return 0;
}

/* The descriptor: RTS_HANDLER_INIT first, then designated initializers. */
static const struct rts_handler example_handler = {
	RTS_HANDLER_INIT,
	.name = "example: memory disk from the SDK guide",
	.subtype = "example",
	.cfg_desc = "example/[size=SIZE][;readonly], e.g. example/size=64M",
	.flags = RTS_HANDLER_F_FUA,
	.check_config = example_check_config,
	.open = example_open,
	.close = example_close,
	.read = example_read,
	.write = example_write,
	.unmap = example_unmap,
};

/* The one exported symbol: rts_handler_entry(), returning the descriptor. */
RTS_HANDLER_DEFINE(example_handler)
