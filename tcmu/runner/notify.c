/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd_notify without libsystemd: the protocol is one AF_UNIX datagram, see sd_notify(3). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "notify.h"

int runner_notify(const char *state)
{
	const char *path = secure_getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t salen;
	size_t len;
	ssize_t n;
	int fd, ret;

	if (!path || !*path)
		return 0;
	if (path[0] != '/' && path[0] != '@')
		return -EAFNOSUPPORT;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return -EINVAL;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@') {
		sa.sun_path[0] = '\0'; /* abstract: the length is exact, no trailing NUL */
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	} else {
		salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	len = strlen(state);
	n = sendto(fd, state, len, MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
	ret = n < 0 ? -errno : (size_t)n == len ? 1 : -EMSGSIZE;
	close(fd);
	return ret;
}

int runner_notifyf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -ENOMEM;
	ret = runner_notify(s);
	free(s);
	return ret;
}

int runner_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return runner_notifyf("RELOADING=1\nMONOTONIC_USEC=%llu",
			      (unsigned long long)ts.tv_sec * 1000000ull +
				      (unsigned long long)ts.tv_nsec / 1000ull);
}
