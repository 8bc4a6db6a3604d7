/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl clear [--target WWN] [--storage-object NAME]: tear down in reverse dependency order. */
#include <string.h>

#include "rtsctl.h"

int cmd_clear(struct cli *c, int argc, char **argv)
{
	struct conf_opts o = { .target = c->target, .storage_object = c->storage_object };
	struct conf_report rep;
	int r;

	(void)argv;
	if (argc) {
		errorf("clear takes no arguments");
		return EXIT_USAGE;
	}
	r = cli_begin(c);
	if (r != EXIT_OK)
		return r;
	conf_report_init(&rep);
	r = conf_clear(c->ctx, &o, &rep);
	cli_end(c);
	cli_print_report(c, &rep);
	conf_report_free(&rep);
	return r < 0 ? EXIT_FAIL : r == 1 ? EXIT_PARTIAL : EXIT_OK;
}
