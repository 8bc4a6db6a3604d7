/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runner's handler registry: load every handler_<subtype>.so from one directory,
 * refusing files anyone but their owner may write (and, when running as root, files not
 * owned by root), and find a handler by cfgstring subtype.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
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

static int check_trust(const char *path, char **reason)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		if (asprintf(reason, "'%s' is not a regular file", path) < 0)
			*reason = NULL;
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		if (asprintf(reason, "'%s' is group- or world-writable (mode %04o); refusing to load it",
			     path, st.st_mode & 07777) < 0)
			*reason = NULL;
		return -EPERM;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		if (asprintf(reason, "'%s' is owned by uid %u, not root; refusing to load it as root",
			     path, st.st_uid) < 0)
			*reason = NULL;
		return -EPERM;
	}
	return 0;
}

int runner_load_handlers(struct runner *r, const char *dir)
{
	struct dirent **names = NULL;
	int n, loaded = 0;

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
