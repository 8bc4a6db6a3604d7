/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* iovec arithmetic shared by the handlers' data paths. */
#ifndef RTS_COMMON_IOV_H
#define RTS_COMMON_IOV_H

#include <stdint.h>
#include <sys/uio.h>

/*
 * Describe bytes [@skip, @skip + @len) of @iov (@iovcnt entries) in @out, at most @max
 * entries. @return the entries written; they cover less than @len when @max runs out or the
 * array ends (the caller issues the rest later, e.g. after a short transfer).
 */
static inline unsigned int iov_window(const struct iovec *iov, unsigned int iovcnt, uint64_t skip,
				      uint64_t len, struct iovec *out, unsigned int max)
{
	unsigned int i = 0, n = 0;

	while (i < iovcnt && skip >= iov[i].iov_len) {
		skip -= iov[i].iov_len;
		i++;
	}
	for (; i < iovcnt && n < max && len; i++) {
		size_t l = iov[i].iov_len - (size_t)skip;

		if (l > len)
			l = (size_t)len;
		out[n++] = (struct iovec){
			.iov_base = (uint8_t *)iov[i].iov_base + skip,
			.iov_len = l,
		};
		len -= l;
		skip = 0;
	}
	return n;
}

#endif
