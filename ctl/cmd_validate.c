/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl validate FILE: parse and check a saveconfig file; touches nothing. */
#include "rtsctl.h"

/* Load + validate; prints the report. @return EXIT_OK or EXIT_FAIL */
struct conf_opts cli_conf_opts(const struct cli *c)
{
	return (struct conf_opts){
		.atomic = c->atomic,
		.dry_run = c->dry_run,
		.load_modules = c->load_modules,
		.target = c->target,
		.storage_object = c->storage_object,
		.progress = c->progress && !c->json,
		.check_devices = c->backend == BACKEND_REAL,
	};
}

int load_valid(struct cli *c, const char *file, struct json_object **ret, bool print_ok)
{
	struct json_object *root = NULL;
	struct conf_report rep;
	size_t errs = 1;

	conf_report_init(&rep);
	if (conf_load_file(file, &root, &rep) == 0)
		errs = conf_validate(c->ctx, root, &rep);
	if (c->json && print_ok)
		cli_print_report(c, &rep);
	else
		conf_report_print(&rep, stderr, CONF_WARN);
	if (errs)
		errorf("%s: %zu error(s), nothing changed", file, errs ? errs : 1);
	conf_report_free(&rep);
	if (errs) {
		json_object_put(root);
		return EXIT_FAIL;
	}
	*ret = root;
	return EXIT_OK;
}

int cmd_validate(struct cli *c, int argc, char **argv)
{
	struct json_object *root = NULL;
	int ret;

	if (argc != 1) {
		errorf("validate needs exactly one FILE");
		return EXIT_USAGE;
	}
	ret = load_valid(c, argv[0], &root, true);
	if (ret == EXIT_OK && !c->quiet && !c->json)
		printf("%s: valid\n", argv[0]);
	json_object_put(root);
	return ret;
}
