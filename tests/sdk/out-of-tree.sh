#!/bin/bash
# The handler SDK as a plugin author uses it: install rtslib-c into a temporary prefix, build
# a handler out of tree with nothing but `pkg-config rts-handler`, and serve a simulated
# device with it through the installed rts-runner (the demo workload must pass).
#   tests/sdk/out-of-tree.sh <build dir>
set -euo pipefail
build=$1
prefix=$(mktemp -d /tmp/rts-sdk-XXXXXX)
trap 'rm -rf "$prefix"' EXIT

cmake --install "$build" --prefix "$prefix" > "$prefix/install.log"
libdir=$(find "$prefix" -name rts-handler.pc -printf '%h\n' | head -1)
[ -n "$libdir" ] || { echo "rts-handler.pc was not installed"; exit 1; }
export PKG_CONFIG_PATH=$libdir
# the .pc records the configured prefix; point it at the temporary one
flags=$(pkg-config --define-variable=prefix="$prefix" --cflags --libs rts-handler)
flags=${flags//$(pkg-config --variable=prefix rts-handler)/$prefix}
echo "pkg-config rts-handler: $flags"

mkdir -p "$prefix/plugins"
cat > "$prefix/zero.c" <<'C'
/* A minimal out-of-tree handler: a 64 MiB memory disk, per-device state in private data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rts/handler.h>

#define SIZE (64u << 20)

static int m_open(struct rts_dev *dev, bool reopen)
{
	uint8_t *mem = calloc(1, SIZE);

	(void)reopen;
	if (!mem)
		return -ENOMEM;
	rts_dev_set_private(dev, mem);
	rts_dev_set_num_lbas(dev, SIZE / rts_dev_get_block_size(dev));
	return 0;
}

static void m_close(struct rts_dev *dev)
{
	free(rts_dev_get_private(dev));
}

static void copy(uint8_t *mem, const struct iovec *iov, unsigned int n, uint64_t off,
		 uint64_t len, int to_mem)
{
	for (unsigned int i = 0; i < n && len; i++) {
		size_t c = iov[i].iov_len < len ? iov[i].iov_len : (size_t)len;
		if (to_mem)
			memcpy(mem + off, iov[i].iov_base, c);
		else
			memcpy(iov[i].iov_base, mem + off, c);
		off += c;
		len -= c;
	}
}

static int m_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		  unsigned int n, uint64_t off, uint64_t len)
{
	copy(rts_dev_get_private(dev), iov, n, off, len, 0);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int m_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		   unsigned int n, uint64_t off, uint64_t len, unsigned int flags)
{
	(void)flags;
	copy(rts_dev_get_private(dev), iov, n, off, len, 1);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static const struct rts_handler mem = {
	RTS_HANDLER_INIT,
	.name = "mem (out of tree)",
	.subtype = "zero",
	.open = m_open,
	.close = m_close,
	.read = m_read,
	.write = m_write,
};
RTS_HANDLER_DEFINE(mem)
C
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror -fPIC -shared -fvisibility=hidden -Wl,-z,defs \
	-o "$prefix/plugins/handler_zero.so" "$prefix/zero.c" $flags
exported=$(nm -D --defined-only "$prefix/plugins/handler_zero.so" | awk '{print $3}' | grep -v '^_' | tr '\n' ' ')
echo "handler_zero.so exports: $exported"
[ "$exported" = "rts_handler_entry " ] || { echo "plugin must export exactly rts_handler_entry"; exit 1; }
runner=$(find "$prefix" -name rts-runner -type f | head -1)
LD_LIBRARY_PATH=$libdir/.. "$runner" --handler-dir "$prefix/plugins" --simulate zero/ --demo > "$prefix/demo.log" 2>&1 ||
	{ cat "$prefix/demo.log"; exit 1; }
grep -E "all checks passed" "$prefix/demo.log"
