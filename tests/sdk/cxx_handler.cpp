// SPDX-License-Identifier: LGPL-2.1-or-later
// A handler written in C++, built out of tree against the installed SDK (tests/sdk/out-of-tree.sh):
// the descriptor with C++20 designated initializers (RTS_HANDLER_INIT) or, before C++20,
// filled in a lambda (RTS_HANDLER_DEFINE sets abi_version and struct_size in C++).
// -DRTS_TEST_MANGLED exports the entry point with C++ linkage, as RTS_HANDLER_DEFINE did
// before it declared it extern "C": the runner must refuse it and say why.
#include <cerrno>
#include <cstring>
#include <new>
#include <vector>

#include <rts/cfgstring.h>
#include <rts/handler.h>

namespace {

struct Disk {
	std::vector<unsigned char> mem;
};

int cxx_open(struct rts_dev *dev, bool)
{
	uint64_t size = rts_dev_get_size(dev);
	const char *cfg = rts_dev_get_cfgstring(dev);

	if (*cfg && rts_parse_size(cfg, &size) < 0)
		return -EINVAL;
	if (!size)
		size = 8u << 20;
	Disk *d = new (std::nothrow) Disk;
	if (!d)
		return -ENOMEM;
	try {
		d->mem.assign(size, 0);
	} catch (...) {
		delete d;
		return -ENOMEM;
	}
	rts_dev_set_private(dev, d);
	rts_dev_set_num_lbas(dev, size / rts_dev_get_block_size(dev));
	return 0;
}

void cxx_close(struct rts_dev *dev)
{
	delete static_cast<Disk *>(rts_dev_get_private(dev));
}

int cxx_rw(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov, unsigned int n,
	   uint64_t off, uint64_t len, bool write)
{
	Disk *d = static_cast<Disk *>(rts_dev_get_private(dev));

	for (unsigned int i = 0; i < n && len; i++) {
		size_t c = iov[i].iov_len < len ? iov[i].iov_len : static_cast<size_t>(len);
		if (write)
			std::memcpy(&d->mem[off], iov[i].iov_base, c);
		else
			std::memcpy(iov[i].iov_base, &d->mem[off], c);
		off += c;
		len -= c;
	}
	rts_cmd_complete(cmd, 0);
	return 0;
}

int cxx_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov, unsigned int n,
	     uint64_t off, uint64_t len)
{
	return cxx_rw(dev, cmd, iov, n, off, len, false);
}

int cxx_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov, unsigned int n,
	      uint64_t off, uint64_t len, unsigned int)
{
	return cxx_rw(dev, cmd, iov, n, off, len, true);
}

#if __cplusplus >= 202002L
const struct rts_handler cxx_handler = {
	RTS_HANDLER_INIT,
	.name = "C++20 memory disk",
	.subtype = "cxx",
	.open = cxx_open,
	.close = cxx_close,
	.read = cxx_read,
	.write = cxx_write,
};
#else
const struct rts_handler cxx_handler = [] {
	struct rts_handler h = {};
	h.name = "C++ memory disk";
	h.subtype = "cxx";
	h.open = cxx_open;
	h.close = cxx_close;
	h.read = cxx_read;
	h.write = cxx_write;
	return h;
}();
#endif

} // namespace

#ifdef RTS_TEST_MANGLED
__attribute__((visibility("default"))) const struct rts_handler *rts_handler_entry(uint32_t);
__attribute__((visibility("default"))) const struct rts_handler *rts_handler_entry(uint32_t)
{
	return &cxx_handler;
}
#else
RTS_HANDLER_DEFINE(cxx_handler)
#endif
