/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * saveconfig.json parser + validator + serialiser on untrusted bytes. One in-memory librts
 * context is reused for the fabric table; nothing is restored. Invariant checked: a valid
 * model serialises to text that parses and validates again to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rts_ctx *ctx;
	struct json_object *root = NULL, *again = NULL;
	struct conf_report rep;
	char *s, *s2;

	if (!ctx && rts_ctx_new(NULL, RTS_CTX_MEMORY, &ctx) < 0)
		abort();
	conf_report_init(&rep);
	if (conf_parse((const char *)data, size, &root, &rep) == 0) {
		size_t errs = conf_validate(ctx, root, &rep);

		s = conf_to_string(root);
		if (!s)
			abort();
		if (conf_parse(s, strlen(s), &again, &rep) != 0)
			abort();
		if (conf_validate(ctx, again, &rep) != errs)
			abort();
		s2 = conf_to_string(again);
		if (!s2 || strcmp(s, s2) != 0)
			abort();
		free(s2);
		free(s);
		s = conf_to_string_compact(root);
		free(s);
		/* restore --skip-invalid: pruning ends, each pass removes something */
		for (int pass = 0; pass < 64; pass++) {
			struct conf_report r2, dropped;
			size_t e, removed;

			conf_report_init(&r2);
			conf_report_init(&dropped);
			e = conf_validate(ctx, again, &r2);
			removed = e ? conf_prune_invalid(again, &r2, &dropped) : 0;
			if (removed > dropped.n)
				abort();
			conf_report_free(&r2);
			conf_report_free(&dropped);
			if (!removed)
				break;
		}
		json_object_put(again);
		json_object_put(root);
	}
	conf_report_free(&rep);
	return 0;
}
