/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl apply FILE [--dry-run]: execute the minimal plan from the live tree to FILE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtsctl.h"

int cmd_apply(struct cli *c, int argc, char **argv)
{
	struct conf_opts o = {
		.atomic = c->atomic,
		.dry_run = c->dry_run,
		.load_modules = c->load_modules,
		.target = c->target,
		.storage_object = c->storage_object,
		.progress = c->progress && !c->json,
	};
	struct json_object *root = NULL;
	struct conf_report rep;
	char *plan = NULL;
	size_t plan_len = 0, n = 0;
	int r, ret;

	if (argc != 1) {
		errorf("apply needs exactly one FILE");
		return EXIT_USAGE;
	}
	ret = load_valid(c, argv[0], &root, false);
	if (ret != EXIT_OK)
		return ret;
	if (c->json)
		o.plan_out = open_memstream(&plan, &plan_len);
	else if (!c->quiet || c->dry_run)
		o.plan_out = stdout;
	conf_report_init(&rep);
	r = conf_apply(c->ctx, root, &o, &rep, &n);
	if (c->json) {
		struct json_object *out = json_object_new_object(), *arr = json_object_new_array();
		char *save = NULL, *line;

		fclose(o.plan_out);
		for (line = plan ? strtok_r(plan, "\n", &save) : NULL; line;
		     line = strtok_r(NULL, "\n", &save)) {
			struct json_object *a = json_object_new_object();
			char *sp = strchr(line, ' ');

			if (sp)
				*sp++ = '\0';
			json_object_object_add(a, "path", json_object_new_string(line));
			json_object_object_add(a, "action", json_object_new_string(sp ? sp : ""));
			json_object_array_add(arr, a);
		}
		json_object_object_add(out, "plan", arr);
		json_object_object_add(out, "dry_run", json_object_new_boolean(c->dry_run));
		json_object_object_add(out, "errors", json_object_new_int64((int64_t)rep.n_err));
		cli_print_json(out);
		json_object_put(out);
		conf_report_print(&rep, stderr, CONF_WARN);
	} else {
		conf_report_print(&rep, stderr, CONF_WARN);
		if (!c->quiet && n == 0)
			printf("Nothing to do.\n");
	}
	if (r < 0 && rep.n_err == 0)
		errorf("%s: apply failed: %s", argv[0], strerror(-r));
	free(plan);
	conf_report_free(&rep);
	json_object_put(root);
	return r < 0 ? EXIT_FAIL : r == 1 ? EXIT_PARTIAL : EXIT_OK;
}
