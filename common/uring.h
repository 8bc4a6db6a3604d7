/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io_uring helpers shared by the device loop and the handlers. */
#ifndef RTS_COMMON_URING_H
#define RTS_COMMON_URING_H

#include <liburing.h>

/*
 * An SQE, submitting what is queued first when the SQ ring is full. NULL only when the ring
 * is still full after that submit (the kernel took none of it): every caller must check.
 */
static inline struct io_uring_sqe *uring_get_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (__builtin_expect(!sqe, 0)) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

#endif
