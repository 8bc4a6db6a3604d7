/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pieces every path-based handler's cfgstring parser needs ("<path>[;opt]..."): the
 * check_config/open reason and the split of the path from its options.
 */
#ifndef RTS_HANDLERS_CFGSTRING_H
#define RTS_HANDLERS_CFGSTRING_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Store the first reason only (*reason stays as it is once set); returns @err. */
static inline __attribute__((format(printf, 3, 4))) int set_reason(char **reason, int err,
								    const char *fmt, ...)
{
	va_list ap;

	if (reason && !*reason) {
		va_start(ap, fmt);
		if (vasprintf(reason, fmt, ap) < 0)
			*reason = NULL;
		va_end(ap);
	}
	return err;
}

/*
 * Split "<path>[;opt]..." at the first ';' (a path cannot contain one): *path gets a copy
 * of the path, *opts a copy of what follows (strtok_r it on ';'), or NULL without options.
 * Returns 0, -EINVAL when the path is empty (nothing is allocated then), or -ENOMEM.
 */
static inline int cfg_split_path(const char *cfgstring, char **path, char **opts)
{
	const char *semi = strchr(cfgstring, ';');

	*path = NULL;
	*opts = NULL;
	if (!*cfgstring || semi == cfgstring)
		return -EINVAL;
	*path = strndup(cfgstring, semi ? (size_t)(semi - cfgstring) : strlen(cfgstring));
	*opts = semi ? strdup(semi + 1) : NULL;
	if (!*path || (semi && !*opts)) {
		free(*path);
		free(*opts);
		*path = *opts = NULL;
		return -ENOMEM;
	}
	return 0;
}

#endif
