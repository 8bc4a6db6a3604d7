/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Atomic, durable saveconfig writes with optional rotated backups. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* mkdir -p with mode 0700: the file holds CHAP secrets (targetcli creates its dirs too). */
static int mkdir_parents(const char *dir)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				return -errno;
			*s = c;
			if (!c)
				return 0;
		}
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* FILE.N-1 -> FILE.N ... FILE -> FILE.1 (link, FILE stays in place until the rename). */
static __attribute__((noinline)) int rotate(const char *file, unsigned int backups,
					    struct conf_report *rep)
{
	char from[PATH_MAX], to[PATH_MAX];
	struct stat st;

	if (stat(file, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	for (unsigned int i = backups; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", file, i - 1);
		snprintf(to, sizeof(to), "%s.%u", file, i);
		if (rename(from, to) < 0 && errno != ENOENT) {
			int r = -errno;

			conf_report_add(rep, CONF_ERR, from, "cannot rotate backup: %s",
					strerror(-r));
			return r;
		}
	}
	snprintf(to, sizeof(to), "%s.1", file);
	if (unlink(to) < 0 && errno != ENOENT)
		return -errno;
	if (link(file, to) < 0) {
		int r = -errno;

		conf_report_add(rep, CONF_ERR, to, "cannot create backup: %s", strerror(-r));
		return r;
	}
	return 0;
}

int conf_write_file(const char *file, const char *text, unsigned int backups,
		    struct conf_report *rep)
{
	char tmp[PATH_MAX], dirbuf[PATH_MAX];
	const char *dir;
	int fd, r;

	if (strlen(file) + 16 >= sizeof(tmp)) {
		conf_report_add(rep, CONF_ERR, file, "path too long");
		return -ENAMETOOLONG;
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", file);
	dir = dirname(dirbuf);
	snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", file);
	if (access(dir, F_OK) < 0 && errno == ENOENT && (r = mkdir_parents(dir)) < 0) {
		conf_report_add(rep, CONF_ERR, dir, "cannot create directory: %s", strerror(-r));
		return r;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		conf_report_add(rep, CONF_ERR, file, "cannot create temporary file: %s",
				strerror(-r));
		return r;
	}
	if (fchmod(fd, 0600) < 0 || (r = write_all(fd, text, strlen(text))) < 0 || fsync(fd) < 0) {
		r = -errno;
		conf_report_add(rep, CONF_ERR, tmp, "write failed: %s", strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = -errno;
		conf_report_add(rep, CONF_ERR, tmp, "close failed: %s", strerror(-r));
		goto fail;
	}
	fd = -1;
	if (backups) {
		r = rotate(file, backups, rep);
		if (r < 0)
			goto fail;
	}
	if (rename(tmp, file) < 0) {
		r = -errno;
		conf_report_add(rep, CONF_ERR, file, "rename failed: %s", strerror(-r));
		goto fail;
	}
	r = fsync_dir(dir);
	if (r < 0)
		conf_report_add(rep, CONF_ERR, dir, "fsync of directory failed: %s", strerror(-r));
	return r;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}
