/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Value parsers every component shares (config files, cfgstrings, rtsctl arguments). */
#ifndef RTS_COMMON_PARSE_H
#define RTS_COMMON_PARSE_H

#include <errno.h>
#include <stdbool.h>
#include <strings.h>

/*
 * "1", "true", "yes", "on" and "0", "false", "no", "off" in any case: 0 with *ret set, or
 * -EINVAL (*ret untouched). Sizes are parsed by rts_parse_size() (<rts/cfgstring.h>, the SDK,
 * so out-of-tree handlers parse them exactly like ours).
 */
static inline int parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (unsigned int i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*ret = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

#endif
