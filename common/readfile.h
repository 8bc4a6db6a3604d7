/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading the one-value files of sysfs and configfs (never on a data path). */
#ifndef RTS_COMMON_READFILE_H
#define RTS_COMMON_READFILE_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "macro.h"

/*
 * Read at most @len - 1 bytes of @path into @buf, NUL-terminated, trailing newlines and
 * spaces removed. @return the length left, or -errno (open or read failed).
 */
static inline int read_small_file(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

#endif
