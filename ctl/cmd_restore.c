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

/*
 * --skip-invalid: like targetcli, restore what is valid. Objects holding errors are
 * dropped (and, in later passes, what referred to them) until the file validates.
 * @return EXIT_OK (with *skipped objects dropped) or EXIT_FAIL
 */
static int load_skipping(struct cli *c, const char *file, struct json_object **ret,
			 size_t *skipped)
{
	struct json_object *root = NULL;
	struct conf_report rep, dropped;
	int ret_code = EXIT_FAIL;

	*skipped = 0;
	conf_report_init(&rep);
	conf_report_init(&dropped);
	if (conf_load_file(file, &root, &rep) < 0)
		goto out;
	for (int pass = 0; pass < 64; pass++) {
		size_t removed;

		conf_report_free(&rep);
		conf_report_init(&rep);
		if (conf_validate(c->ctx, root, &rep) == 0) {
			ret_code = EXIT_OK;
			break;
		}
		removed = conf_prune_invalid(root, &rep, &dropped);
		if (!removed)
			break; /* errors outside any object: the file is refused */
		*skipped += removed;
	}
out:
	conf_report_print(&dropped, stderr, CONF_WARN);
	conf_report_print(&rep, stderr, CONF_WARN);
	if (ret_code != EXIT_OK) {
		errorf("%s: %zu error(s), nothing changed", file, rep.n_err ? rep.n_err : 1);
		json_object_put(root);
	} else {
		*ret = root;
	}
	conf_report_free(&rep);
	conf_report_free(&dropped);
	return ret_code;
}

int cmd_restore(struct cli *c, int argc, char **argv)
{
	struct conf_opts o = cli_conf_opts(c);
	struct json_object *root = NULL;
	struct conf_report rep;
	const char *file;
	size_t skipped = 0;
	int r, ret = conf_file_arg(c, "restore", argc, argv, &file);

	if (ret != EXIT_OK)
		return ret;
	o.clear_existing = c->clear_existing;
	o.plan_out = c->dry_run && !c->json ? stdout : NULL;
	if (c->dry_run && c->clear_existing) {
		errorf("--dry-run with --clear-existing: use 'apply --dry-run FILE' to see the plan");
		return EXIT_USAGE;
	}
	if (c->skip_invalid)
		ret = load_skipping(c, file, &root, &skipped);
	else
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
	if (r == 0 && skipped)
		r = 1; /* the invalid objects were not restored */
	if (r == 1 && !c->json)
		errorf("%s: restored partially: %zu error(s), %zu invalid object(s) skipped", file,
		       rep.n_err, skipped);
	conf_report_free(&rep);
	json_object_put(root);
	return r < 0 ? EXIT_FAIL : r == 1 ? EXIT_PARTIAL : EXIT_OK;
}
