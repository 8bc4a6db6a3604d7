/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Buffered writes done on the device's I/O thread instead of through io_uring.
 *
 * io_uring hands a buffered write to an io-wq worker unless the file system takes
 * IOCB_NOWAIT buffered writes (FMODE_BUF_WASYNC: xfs and btrfs on recent kernels; not ext4
 * or tmpfs, and nothing on Linux 6.1 but xfs). Every such write then costs two context
 * switches and a worker thread per device, and io-wq runs the writes to one file one at a
 * time anyway (it hashes them by inode). A write into the page cache is a copy of a few
 * microseconds, so on those file systems it is cheaper done right here:
 *
 *   1. pwritev2(RWF_NOWAIT) while the file system takes it (it never blocks);
 *   2. once it refuses RWF_NOWAIT (EOPNOTSUPP; EINVAL on Linux 6.1), a plain pwritev2 on the
 *      I/O thread, timed: one that took longer than BUFWRITE_SLOW_NS (dirty-page throttling,
 *      page allocation under pressure, a busy disk behind the cache) sends the writes of the
 *      next BUFWRITE_BACKOFF_NS through io_uring again, so the thread blocks at most about
 *      once per back-off period while the page cache is under pressure.
 *
 * bufwrite_try() returns the bytes written (possibly fewer than asked: the caller writes the
 * rest through io_uring) or -1 when the caller must write all of it through io_uring. It never
 * reports an I/O error itself: a write that failed inline is repeated through io_uring, whose
 * completion carries the error the caller already maps to sense data.
 */
#ifndef RTS_COMMON_BUFWRITE_H
#define RTS_COMMON_BUFWRITE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#define BUFWRITE_SLOW_NS 2000000ULL	 /* 2 ms: the write waited, it did not just copy */
#define BUFWRITE_BACKOFF_NS 1000000000ULL /* 1 s of io_uring writes after a slow one */

struct bufwrite {
	bool no_nowait;	      /* the file system refused RWF_NOWAIT buffered writes */
	bool off;	      /* never inline (O_DIRECT, or the owner turned it off) */
	uint64_t uring_until; /* CLOCK_MONOTONIC ns: io_uring until then (a write was slow) */
	uint64_t nowait;      /* writes done by RWF_NOWAIT */
	uint64_t blocking;    /* writes done by a plain pwritev2 on the I/O thread */
	uint64_t slow;	      /* of those, how many took longer than BUFWRITE_SLOW_NS */
};

/*
 * Set up @bw when the device opens: @never for files without a page cache in between
 * (O_DIRECT). RTS_INLINE_WRITES=0 in the runner's environment sends every write through
 * io_uring, to compare the two or to rule this out.
 */
static inline void bufwrite_init(struct bufwrite *bw, bool never)
{
	const char *e = getenv("RTS_INLINE_WRITES");

	*bw = (struct bufwrite){ .off = never || (e && strcmp(e, "0") == 0) };
}

static inline uint64_t bufwrite_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline ssize_t bufwrite_try(struct bufwrite *bw, int fd, const struct iovec *iov,
				   int iovcnt, off_t off)
{
	uint64_t t0, t1;
	ssize_t r;

	if (bw->off)
		return -1;
	if (!bw->no_nowait) {
		r = pwritev2(fd, iov, iovcnt, off, RWF_NOWAIT);
		if (r >= 0) {
			bw->nowait++;
			return r;
		}
		if (errno != EOPNOTSUPP && errno != EINVAL)
			return -1; /* EAGAIN (it would block) or a real error: io_uring */
		bw->no_nowait = true;
	}
	t0 = bufwrite_now();
	if (t0 < bw->uring_until)
		return -1;
	r = pwritev2(fd, iov, iovcnt, off, 0);
	t1 = bufwrite_now();
	if (t1 - t0 > BUFWRITE_SLOW_NS) {
		bw->slow++;
		bw->uring_until = t1 + BUFWRITE_BACKOFF_NS;
	}
	if (r < 0)
		return -1;
	bw->blocking++;
	return r;
}

#endif
