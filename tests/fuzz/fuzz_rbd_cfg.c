/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rbd handler's cfgstring parser (handlers/rbd/rbd_cfg.c) on untrusted bytes (a
 * cfgstring comes from configfs, D-Bus or a saveconfig file). Invariants (abort on
 * violation): an accepted string has a non-empty pool and image free of '/', '@' and
 * control characters, a connect timeout of 1..3600 s; a refused one always comes with a
 * reason and leaves nothing allocated.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rbd_cfg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_name(const char *s)
{
	if (!s || !*s || strpbrk(s, "/@"))
		abort();
	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rbd_cfg c;
	char *s, *why = NULL;
	int r;

	if (size > 4096)
		return 0;
	s = strndup((const char *)data, size);
	if (!s)
		return 0;
	r = rbd_cfg_parse(s, &c, &why);
	if (r == 0) {
		check_name(c.pool);
		check_name(c.image);
		if (c.ns)
			check_name(c.ns);
		if (c.snap)
			check_name(c.snap);
		if (c.connect_timeout < 1 || c.connect_timeout > 3600 || why)
			abort();
		rbd_cfg_clear(&c);
	} else if (r == -EINVAL) {
		if (!why || c.pool || c.image || c.ns || c.snap || c.conf || c.id)
			abort();
	} else if (r != -ENOMEM) {
		abort();
	}
	free(why);
	free(s);
	return 0;
}
