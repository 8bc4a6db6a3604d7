/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file cfgstring.h
 * @brief Parsing handler cfgstrings: "<path>;key=value;...", option lists and sizes.
 *
 * The core hands a handler its cfgstring untouched (the part after "<subtype>/") and never
 * parses it; these header-only helpers are the parsers the project's own handlers (file,
 * qcow, ram, null) use, so out-of-tree handlers can accept the same syntax:
 *
 * @code
 * char *path, *opts, *cur, *key, *val;
 * uint64_t size = 0;
 * int r = rts_cfg_split_path(cfgstring, &path, &opts);   // "img.raw;size=1G;ro"
 * if (r < 0)
 *         return r;
 * cur = opts;
 * while (rts_cfg_next_option(&cur, &key, &val))         // "size"="1G", then "ro"=NULL
 *         if (strcmp(key, "size") == 0 && (!val || rts_parse_size(val, &size) < 0))
 *                 r = -EINVAL;
 * free(opts);
 * @endcode
 *
 * Everything here is static inline (no library symbol, no ABI), C11 and C++ compatible,
 * reentrant and thread-safe (no global state). Returns: 0 or a negative errno (never
 * errno). Ownership: copies returned through char ** are malloc()ed and the caller frees
 * them; rts_cfg_next_option() points into the caller's own string.
 */
#ifndef RTS_CFGSTRING_H
#define RTS_CFGSTRING_H

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Parse a size: "<n>[K|M|G|T][B|iB]", case-insensitive suffixes, powers of 1024.
 *
 * Integers only ("1.5G" is refused), no sign, no spaces.
 *
 * @param s the string (NULL is refused)
 * @param ret receives the size in bytes; unchanged on failure
 * @return 0, -EINVAL (not a size) or -ERANGE (does not fit in 64 bits); errno may change
 */
static inline int rts_parse_size(const char *s, uint64_t *ret)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (shift) {
		end++;
		if ((end[0] == 'i' || end[0] == 'I') && (end[1] == 'B' || end[1] == 'b'))
			end += 2;
		else if (end[0] == 'B' || end[0] == 'b')
			end++;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = (uint64_t)v << shift;
	return 0;
}

/**
 * @brief Internal: malloc'd copy of the first @p n bytes of @p s (C11 has no strndup).
 * @param s source, at least @p n bytes
 * @param n bytes to copy
 * @return the copy, owned by the caller (free()), or NULL without memory
 */
static inline char *rts_cfg_strndup_(const char *s, size_t n)
{
	char *p = (char *)malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/**
 * @brief Split "<path>[;opt]..." at the first ';' (a path cannot contain one).
 *
 * @param cfgstring the handler's cfgstring (after "<subtype>/")
 * @param path receives a malloc'd copy of the path (owned by the caller)
 * @param opts receives a malloc'd copy of what follows the ';' (owned by the caller, walk
 *             it with rts_cfg_next_option()), or NULL without options
 * @return 0, -EINVAL when the path is empty (nothing is allocated then), or -ENOMEM
 */
static inline int rts_cfg_split_path(const char *cfgstring, char **path, char **opts)
{
	const char *semi = strchr(cfgstring, ';');

	*path = NULL;
	*opts = NULL;
	if (!*cfgstring || semi == cfgstring)
		return -EINVAL;
	*path = rts_cfg_strndup_(cfgstring, semi ? (size_t)(semi - cfgstring) : strlen(cfgstring));
	*opts = semi ? rts_cfg_strndup_(semi + 1, strlen(semi + 1)) : NULL;
	if (!*path || (semi && !*opts)) {
		free(*path);
		free(*opts);
		*path = *opts = NULL;
		return -ENOMEM;
	}
	return 0;
}

/**
 * @brief Take the next "key[=value]" from a ';'-separated option list, in place.
 *
 * Empty items (";;") are skipped. The list is modified: ';' and the first '=' of each item
 * become '\0', so @p key and @p value point into it.
 *
 * @param cursor points at the rest of the list; start with the list itself (NULL is an
 *               empty list); advanced past the item returned
 * @param key receives the key (may be empty for "=x")
 * @param value receives the text after the first '=', or NULL when the item has none
 * @return true when an item was returned, false at the end of the list
 */
static inline bool rts_cfg_next_option(char **cursor, char **key, char **value)
{
	char *item = *cursor, *end, *eq;

	while (item && *item == ';')
		item++;
	if (!item || !*item) {
		*cursor = item;
		return false;
	}
	end = strchr(item, ';');
	if (end)
		*end++ = '\0';
	*cursor = end ? end : item + strlen(item);
	eq = strchr(item, '=');
	if (eq)
		*eq++ = '\0';
	*key = item;
	*value = eq;
	return true;
}

#ifdef __cplusplus
}
#endif

#endif
