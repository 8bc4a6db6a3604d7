/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl restore [FILE]: validate the whole file, then create its objects in order. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf_wait.h"
#include "rtsctl.h"

/* --wait: give late backing stores and portal addresses until the deadline, then restore
 * anyway (what is still missing fails as its object, named in the report). */
static void restore_wait(const struct cli *c, struct json_object *root, const char *file)
{
	struct conf_wait_opts wo = {
		.seconds = (unsigned int)c->wait_s,
		.target = c->target,
		.storage_object = c->storage_object,
		.progress = c->quiet || c->json ? NULL : stderr,
	};
	char *missing = NULL;
	int r = conf_wait_ready(root, &wo, &missing);

	if (r > 0)
		errorf("%s: still missing after %d s, restoring anyway: %s", file, c->wait_s,
		       missing ? missing : "(out of memory)");
	else if (r < 0)
		errorf("%s: --wait: %s", file, strerror(-r));
	free(missing);
}

int cmd_restore(struct cli *c, int argc, char **argv)
{
	const char *file = argc > 0 ? argv[0] : CONF_DEFAULT_FILE;
	struct conf_opts o = {
		.clear_existing = c->clear_existing,
		.atomic = c->atomic,
		.dry_run = c->dry_run,
		.load_modules = c->load_modules,
		.target = c->target,
		.storage_object = c->storage_object,
		.progress = c->progress && !c->json,
		.plan_out = c->dry_run && !c->json ? stdout : NULL,
	};
	struct json_object *root = NULL;
	struct conf_report rep;
	int r, ret;

	if (argc > 1) {
		errorf("restore takes at most one FILE");
		return EXIT_USAGE;
	}
	if (c->dry_run && c->clear_existing) {
		errorf("--dry-run with --clear-existing: use 'apply --dry-run FILE' to see the plan");
		return EXIT_USAGE;
	}
	ret = load_valid(c, file, &root, false);
	if (ret != EXIT_OK)
		return ret;
	if (c->wait_s >= 0)
		restore_wait(c, root, file);
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
