/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SDK's cfgstring helpers (include/rts/cfgstring.h): a cfgstring comes from configfs or
 * D-Bus CheckConfig, i.e. from anyone who can create a backstore. Invariants: the split
 * gives a non-empty path without ';' whose bytes, with the options, rebuild the input; the
 * option walk returns keys and values without ';' and never reads past the string; a size
 * either parses to a value that round-trips through its digits or is refused.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rts/cfgstring.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *path, *opts, *cur, *key, *val;
	uint64_t v;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (rts_cfg_split_path(s, &path, &opts) == 0) {
		size_t pl = strlen(path);

		if (!pl || strchr(path, ';') || strncmp(s, path, pl) != 0)
			abort();
		if (opts && (s[pl] != ';' || strcmp(s + pl + 1, opts) != 0))
			abort();
		if (!opts && s[pl] != '\0')
			abort();
		cur = opts;
		while (rts_cfg_next_option(&cur, &key, &val)) {
			if (!*key && !val)
				abort(); /* empty items are skipped */
			if (strchr(key, ';') || strchr(key, '=') || (val && strchr(val, ';')))
				abort();
			if (val)
				(void)rts_parse_size(val, &v);
		}
		free(path);
		free(opts);
	} else if (*s && *s != ';') {
		abort(); /* only an empty path is refused (or no memory, not here) */
	}
	if (rts_parse_size(s, &v) == 0 && strspn(s, "0123456789") == strlen(s) &&
	    strtoull(s, NULL, 10) != v)
		abort();
	free(s);
	return 0;
}
