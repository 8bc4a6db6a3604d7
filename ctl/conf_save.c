/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Atomic, durable saveconfig writes with optional rotated backups. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
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

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep the @p keep newest "<base>-*.json" files of @p dir. */
static void prune_backups(const char *dir, const char *base, unsigned int keep)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL, path[PATH_MAX];
	size_t n = 0, cap = 0, bl = strlen(base);

	if (!d)
		return;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l <= bl + 6 || strncmp(e->d_name, base, bl) != 0 || e->d_name[bl] != '-' ||
		    strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_name);
	for (size_t i = 0; i < n; i++) {
		if (i + keep < n) {
			pfmt(path, sizeof(path), "%s/%s", dir, v[i]);
			unlink(path);
		}
		free(v[i]);
	}
	free(v);
}

int conf_keep_backup(const char *file, const char *text, unsigned int keep,
		     struct conf_report *rep, char **ret)
{
	char *old = NULL, *dirbuf = NULL, *basebuf = NULL, *dir = NULL, *path = NULL, *base, *dot;
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	long len;
	FILE *f;
	int r = -ENOMEM;

	*ret = NULL;
	f = fopen(file, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    len > (long)CONF_MAX_FILE_SIZE || !(old = calloc(1, (size_t)len + 1)) ||
	    fread(old, 1, (size_t)len, f) != (size_t)len) {
		r = old ? -EIO : -EFBIG;
		fclose(f);
		conf_report_add(rep, CONF_ERR, file, "cannot read the previous file for a backup");
		free(old);
		return r;
	}
	fclose(f);
	if (strcmp(old, text) == 0) {
		free(old);
		return 0; /* nothing would be lost */
	}
	dirbuf = strdup(file);
	basebuf = strdup(file);
	if (!dirbuf || !basebuf || asprintf(&dir, "%s/backup", dirname(dirbuf)) < 0) {
		dir = NULL;
		goto out;
	}
	base = basename(basebuf);
	dot = strrchr(base, '.');
	if (dot && dot != base && !strcmp(dot, ".json"))
		*dot = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		conf_report_add(rep, CONF_ERR, dir, "cannot create backup directory: %s",
				strerror(-r));
		goto out;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H:%M:%S", &tm);
	if (asprintf(&path, "%s/%s-%s.json", dir, base, stamp) < 0) {
		path = NULL;
		goto out;
	}
	for (int i = 1; access(path, F_OK) == 0 && i < 100; i++) {
		free(path);
		if (asprintf(&path, "%s/%s-%s.%02d.json", dir, base, stamp, i) < 0) {
			path = NULL;
			goto out;
		}
	}
	r = conf_write_file(path, old, 0, rep);
	if (r == 0) {
		prune_backups(dir, base, keep);
		*ret = path;
		path = NULL;
	}
out:
	free(old);
	free(dirbuf);
	free(basebuf);
	free(dir);
	free(path);
	return r;
}
