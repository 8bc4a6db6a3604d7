/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The cfgstring, parsed in one place. A device's full cfgstring is "<subtype>/<handler part>"
 * (the kernel's dev_config): cfgstring_split() names the two parts, and everyone (the device
 * layer, the runner's netlink, D-Bus and status code) takes them from there. The handler part
 * is what rts_dev_get_cfgstring() returns and what a handler parses, "<path>[;opt]..." for the
 * path-based ones: set_reason() and cfg_split_path() serve those parsers.
 */
#ifndef RTS_COMMON_CFGSTRING_H
#define RTS_COMMON_CFGSTRING_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rts/cfgstring.h>

/* A full cfgstring "<subtype>/<handler part>", split at its first '/'. */
struct cfgstring_parts {
	const char *subtype; /* the start of the full cfgstring (not terminated at the '/') */
	size_t subtype_len; /* up to the first '/', or the whole string without one */
	const char *handler; /* after the first '/'; "" (the terminator) without one */
	bool has_handler; /* there was a '/' (the handler part may still be empty) */
};

static inline struct cfgstring_parts cfgstring_split(const char *full)
{
	size_t n = strcspn(full, "/");

	return (struct cfgstring_parts){
		.subtype = full,
		.subtype_len = n,
		.handler = full + n + (full[n] == '/'),
		.has_handler = full[n] == '/',
	};
}

/* Whether the subtype part of @p is @subtype exactly. */
static inline bool cfgstring_subtype_is(const struct cfgstring_parts *p, const char *subtype)
{
	return strlen(subtype) == p->subtype_len &&
	       strncmp(subtype, p->subtype, p->subtype_len) == 0;
}

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

/* Each ';'-separated option of @opts (from cfg_split_path(); NULL: none), cut in place. */
#define cfg_for_each_opt(tok, opts, save)                                   \
	for ((tok) = (opts) ? strtok_r((opts), ";", &(save)) : NULL; (tok); \
	     (tok) = strtok_r(NULL, ";", &(save)))

/* The split lives in the SDK (<rts/cfgstring.h>); this name stays for our handlers. */
static inline int cfg_split_path(const char *cfgstring, char **path, char **opts)
{
	return rts_cfg_split_path(cfgstring, path, opts);
}

#endif
