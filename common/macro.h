/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal helpers shared by every rtslib-c component: cleanup attributes, ownership
 * transfer, argument checks on public entry points and errno conversion.
 * Never installed; never included from include/rts/.
 */
#ifndef RTS_COMMON_MACRO_H
#define RTS_COMMON_MACRO_H

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#define RTS_EXPORT __attribute__((visibility("default")))

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _likely_(x)    __builtin_expect(!!(x), 1)
#define _unlikely_(x)  __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define MIN(a, b)                       \
	({                              \
		__typeof__(a) _a_ = (a); \
		__typeof__(b) _b_ = (b); \
		_a_ < _b_ ? _a_ : _b_;   \
	})
#define MAX(a, b)                       \
	({                              \
		__typeof__(a) _a_ = (a); \
		__typeof__(b) _b_ = (b); \
		_a_ > _b_ ? _a_ : _b_;   \
	})

#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#define ALIGN_UP(x, a) (((x) + ((a) - 1)) / (a) * (a))

/* Generates funcp(type *p) for __attribute__((cleanup)); func returns NULL. */
#define DEFINE_CLEANUP_FUNC(type, func)     \
	static inline void func##p(type *p) \
	{                                   \
		if (*p)                     \
			*p = func(*p);      \
	}

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -EBADF;
}
#define _cleanup_close_ _cleanup_(closep)

/* Move ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                      \
	({                               \
		__typeof__(p) _p_ = (p); \
		(p) = NULL;              \
		_p_;                     \
	})
#define TAKE_FD(fd)              \
	({                       \
		int _fd_ = (fd); \
		(fd) = -EBADF;   \
		_fd_;            \
	})

/* Public entry points: validate caller input, never abort. */
#define assert_return(expr, r)           \
	do {                             \
		if (_unlikely_(!(expr))) \
			return (r);      \
	} while (0)

/* libc "-1 + errno" -> "-errno" */
#define RET_NERRNO(expr)                       \
	({                                     \
		__typeof__(expr) _r_ = (expr); \
		_r_ < 0 ? -errno : _r_;        \
	})

#endif
