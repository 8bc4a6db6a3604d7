/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runner's handler registry: load every handler_<subtype>.so from one directory, and
 * find a handler by cfgstring subtype. Trust (docs/security.md): the handler directory,
 * each file and, for a symlink, what it resolves to must be owned by root (or by the
 * runner's user when it does not run as root) and writable by nobody else, and so must
 * every directory above them (sticky ones like /tmp excepted).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgstring.h"
#include "runner.h"

static bool is_handler_name(const char *n)
{
	size_t len = strlen(n);

	return strncmp(n, "handler_", 8) == 0 && len > 11 && strcmp(n + len - 3, ".so") == 0;
}

static int refuse(char **reason, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(char **reason, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(reason, fmt, ap) < 0)
		*reason = NULL;
	va_end(ap);
	return err;
}

/* Root's, or (a runner not started as root) the runner's own user's. */
static bool trusted_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/*
 * Every directory from / down to @real (a realpath: no symlinks left) must be owned by a
 * trusted user and writable by nobody else, so that nobody else can add, rename or replace
 * a handler between our checks and dlopen(). A sticky directory (/tmp) is fine: there only
 * an entry's owner may rename or remove it.
 */
static int check_dir_chain(const char *real, const char *what, char **reason)
{
	char *p = g_strdup(real);
	size_t len = strlen(p);
	int ret = 0;

	for (size_t i = 0; i <= len && ret == 0; i++) {
		const char *prefix = i ? p : "/";
		struct stat st;
		char c = p[i];

		if (i < len && c != '/')
			continue;
		if (i)
			p[i] = '\0';
		if (lstat(prefix, &st) < 0)
			ret = refuse(reason, -errno, "%s: cannot stat '%s': %s", what, prefix,
				     strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			ret = refuse(reason, -ENOTDIR, "%s: '%s' is not a directory", what, prefix);
		else if (!trusted_owner(st.st_uid))
			ret = refuse(reason, -EPERM,
				     "%s: directory '%s' is owned by uid %u, not root%s; refusing "
				     "handlers under it",
				     what, prefix, st.st_uid, geteuid() ? " or the runner's user" : "");
		else if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
			ret = refuse(reason, -EPERM,
				     "%s: directory '%s' is group- or world-writable (mode %04o); "
				     "refusing handlers under it",
				     what, prefix, st.st_mode & 07777);
		if (i)
			p[i] = c;
	}
	g_free(p);
	return ret;
}

/*
 * A handler runs as the runner (root): the file, wherever a symlink leads, must be a regular
 * file owned by root (or the runner's user when not root) and writable by nobody else, in
 * directories nobody else can write (check_dir_chain).
 */
static int check_trust(const char *path, char **reason)
{
	g_autofree char *real = NULL, *dir = NULL;
	char *resolved;
	struct stat st;
	int fd, ret;

	resolved = realpath(path, NULL);
	if (!resolved)
		return refuse(reason, -errno, "'%s' cannot be resolved: %s", path, strerror(errno));
	real = g_strdup(resolved);
	free(resolved);
	dir = g_path_get_dirname(real);
	ret = check_dir_chain(dir, path, reason);
	if (ret < 0)
		return ret;
	/* the checks below and dlopen() see the same file: nobody else can replace it */
	fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return refuse(reason, -errno, "'%s' cannot be opened: %s", real, strerror(errno));
	ret = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (ret < 0)
		return refuse(reason, ret, "'%s': %s", real, strerror(-ret));
	if (!S_ISREG(st.st_mode))
		return refuse(reason, -EPERM, "'%s' is not a regular file", path);
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(reason, -EPERM,
			      "'%s'%s%s%s is group- or world-writable (mode %04o); refusing to load it",
			      path, strcmp(real, path) ? " -> '" : "", strcmp(real, path) ? real : "",
			      strcmp(real, path) ? "'" : "",
			      st.st_mode & 07777);
	if (!trusted_owner(st.st_uid))
		return refuse(reason, -EPERM,
			      "'%s'%s%s%s is owned by uid %u, not root%s; refusing to load it", path,
			      strcmp(real, path) ? " -> '" : "", strcmp(real, path) ? real : "",
			      strcmp(real, path) ? "'" : "",
			      st.st_uid, geteuid() ? " or the runner's user" : "");
	return 0;
}

int runner_load_handlers(struct runner *r, const char *dir)
{
	struct dirent **names = NULL;
	int n, loaded = 0;

	char *real = realpath(dir, NULL), *dwhy = NULL;
	int dret;

	if (!real) {
		int err = errno;
		runner_log(r, RTS_LOG_ERR, "cannot read handler directory '%s': %s", dir,
			   strerror(err));
		return -err;
	}
	dret = check_dir_chain(real, "handler directory", &dwhy);
	free(real);
	if (dret < 0) {
		runner_log(r, RTS_LOG_ERR, "not loading any handler from '%s': %s", dir,
			   dwhy ? dwhy : strerror(-dret));
		free(dwhy);
		return dret;
	}
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		int err = errno;
		runner_log(r, RTS_LOG_ERR, "cannot read handler directory '%s': %s", dir,
			   strerror(err));
		return -err;
	}
	for (int i = 0; i < n; i++) {
		char path[4096], *why = NULL;
		struct rts_loaded_handler *lh = NULL;
		int ret;

		if (!is_handler_name(names[i]->d_name) || r->nhandlers >= RUNNER_MAX_HANDLERS)
			goto next;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		ret = check_trust(path, &why);
		if (ret == 0)
			ret = rts_handler_load(path, &lh, &why);
		if (ret < 0) {
			runner_log(r, RTS_LOG_ERR, "not loading handler: %s",
				   why ? why : strerror(-ret));
			free(why);
			goto next;
		}
		const struct rts_handler *h = rts_loaded_handler_get(lh);
		if (runner_find_handler(r, h->subtype)) {
			runner_log(r, RTS_LOG_WARNING, "handler '%s' from '%s' duplicates an earlier one; ignored",
				   h->subtype, path);
			rts_handler_unload(lh);
			goto next;
		}
		r->handlers[r->nhandlers++] = lh;
		loaded++;
		runner_log(r, RTS_LOG_INFO, "handler '%s' loaded (%s)", h->subtype, h->name);
next:
		free(names[i]);
	}
	free(names);
	return loaded;
}

const struct rts_handler *runner_find_handler(const struct runner *r, const char *subtype)
{
	struct cfgstring_parts parts = cfgstring_split(subtype);

	for (unsigned int i = 0; i < r->nhandlers; i++) {
		const struct rts_handler *h = rts_loaded_handler_get(r->handlers[i]);
		if (cfgstring_subtype_is(&parts, h->subtype))
			return h;
	}
	return NULL;
}

char *runner_handler_names(const struct runner *r)
{
	GString *s = g_string_new(NULL);

	for (unsigned int i = 0; i < r->nhandlers; i++)
		g_string_append_printf(s, "%s%s", i ? ", " : "",
				       rts_loaded_handler_get(r->handlers[i])->subtype);
	return g_string_free(s, FALSE);
}

void runner_unload_handlers(struct runner *r)
{
	for (unsigned int i = 0; i < r->nhandlers; i++)
		r->handlers[i] = rts_handler_unload(r->handlers[i]);
	r->nhandlers = 0;
}

char *runner_dev_full_cfgstring(const struct runner_dev *rd)
{
	const struct rts_handler *h = rts_dev_get_handler(rd->dev);

	return g_strdup_printf("%s/%s", h ? h->subtype : "", rts_dev_get_cfgstring(rd->dev));
}
