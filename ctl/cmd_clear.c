/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl clear [--target WWN] [--storage-object NAME]: tear down in reverse dependency order. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
	/* like targetcli's clearconfig confirm=True: ask on a terminal, --yes otherwise */
	if (!c->yes && c->backend != BACKEND_MEMORY) {
		char answer[16] = "";

		if (!isatty(STDIN_FILENO)) {
			errorf("clear deletes %s: confirm with --yes", c->target ? "the target" :
								  c->storage_object ?
									    "the storage object" :
									    "every target and storage object");
			return EXIT_USAGE;
		}
		fprintf(stderr, "Delete %s? [y/N] ",
			c->target ? c->target :
			c->storage_object ? c->storage_object :
					    "every target and storage object");
		if (!fgets(answer, sizeof(answer), stdin) ||
		    (strcmp(answer, "y\n") != 0 && strcmp(answer, "yes\n") != 0)) {
			errorf("clear: not confirmed, nothing changed");
			return EXIT_FAIL;
		}
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
