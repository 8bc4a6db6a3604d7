/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl restore [FILE]: validate the whole file, then create its objects in order. */
#include <errno.h>
#include <string.h>

#include "rtsctl.h"

int cmd_restore(struct cli *c, int argc, char **argv)
{
	const char *file = argc > 0 ? argv[0] : default_conf_file(c);
	struct conf_opts o = {
		.clear_existing = c->clear_existing,
		.atomic = c->atomic,
		.dry_run = c->dry_run,
		.load_modules = c->load_modules,
		.target = c->target,
		.storage_object = c->storage_object,
		.progress = c->progress && !c->json,
		.plan_out = c->dry_run && !c->json ? stdout : NULL,
		.check_devices = c->backend == BACKEND_REAL,
	};
	struct json_object *root = NULL;
	struct conf_report rep;
	int r, ret;

	if (argc > 1) {
		errorf("restore takes at most one FILE");
		return EXIT_USAGE;
	}
	if (!file) {
		errorf("restore: give FILE: with --root or --backend emulate/memory the default " CONF_DEFAULT_FILE
		       " (the host's configuration) is not used");
		return EXIT_USAGE;
	}
	if (c->dry_run && c->clear_existing) {
		errorf("--dry-run with --clear-existing: use 'apply --dry-run FILE' to see the plan");
		return EXIT_USAGE;
	}
	ret = load_valid(c, file, &root, false);
	if (ret != EXIT_OK)
		return ret;
	conf_report_init(&rep);
	r = conf_restore(c->ctx, root, &o, &rep);
	cli_print_report(c, &rep);
	if (r < 0 && rep.n_err == 0)
		errorf("%s: restore failed: %s", file, strerror(-r));
	if (r == 1 && !c->json)
		errorf("%s: restored partially: %zu error(s)", file, rep.n_err);
	conf_report_free(&rep);
	json_object_put(root);
	return r < 0 ? EXIT_FAIL : r == 1 ? EXIT_PARTIAL : EXIT_OK;
}
