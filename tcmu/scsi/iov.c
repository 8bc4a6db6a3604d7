/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Scatter/gather copies between flat buffers and a command's iovecs. Zero-length iovecs
 * and offsets past the end are fine: the copy just stops early and says how much it did.
 */
#include <stdint.h>
#include <string.h>

#include "scsi.h"

size_t scsi_iov_length(const struct iovec *iov, size_t iovcnt)
{
	size_t total = 0;

	for (size_t i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > SIZE_MAX - total)
			return SIZE_MAX;
		total += iov[i].iov_len;
	}
	return total;
}

/*
 * Walk @iov from byte @off and call the copy for each piece; @to selects the direction.
 * Returns the number of bytes copied.
 */
static size_t iov_copy(const struct iovec *iov, size_t iovcnt, size_t off, void *flat, size_t len,
		       bool to)
{
	uint8_t *p = flat;
	size_t done = 0;

	for (size_t i = 0; i < iovcnt && done < len; i++) {
		size_t seg = iov[i].iov_len;

		if (off >= seg) {
			off -= seg;
			continue;
		}
		size_t n = seg - off;

		if (n > len - done)
			n = len - done;
		uint8_t *base = (uint8_t *)iov[i].iov_base + off;

		if (to)
			memcpy(base, p + done, n);
		else
			memcpy(p + done, base, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t scsi_iov_copy_to(const struct iovec *iov, size_t iovcnt, size_t off, const void *src,
			size_t len)
{
	if (!iov || !src || !len)
		return 0;
	return iov_copy(iov, iovcnt, off, (void *)(uintptr_t)src, len, true);
}

size_t scsi_iov_copy_from(const struct iovec *iov, size_t iovcnt, size_t off, void *dst, size_t len)
{
	if (!iov || !dst || !len)
		return 0;
	return iov_copy(iov, iovcnt, off, dst, len, false);
}
