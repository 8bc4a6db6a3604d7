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

#include <rts/cfgstring.h>

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

/* The split lives in the SDK (<rts/cfgstring.h>); this name stays for our handlers. */
static inline int cfg_split_path(const char *cfgstring, char **path, char **opts)
{
	return rts_cfg_split_path(cfgstring, path, opts);
}

#endif
