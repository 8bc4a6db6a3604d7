/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl apply FILE [--dry-run]: execute the minimal plan from the live tree to FILE. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtsctl.h"

int cmd_apply(struct cli *c, int argc, char **argv)
{
	struct conf_opts o = cli_conf_opts(c);
	struct json_object *root = NULL;
	struct conf_report rep;
	size_t n = 0;
	int r, ret;

	o.allow_recreate = c->recreate;
	if (argc != 1) {
		errorf("apply needs exactly one FILE");
		return EXIT_USAGE;
	}
	ret = load_valid(c, argv[0], &root, false);
	if (ret != EXIT_OK)
		return ret;
	if (c->json)
		o.results = json_object_new_array();
	else if (!c->quiet || c->dry_run)
		o.plan_out = stdout;
	conf_report_init(&rep);
	r = conf_apply(c->ctx, root, &o, &rep, &n);
	if (c->json) {
		struct json_object *out = json_object_new_object();

		/* "plan": one entry per action with its result (planned, done, failed,
		 * skipped), followed by the report like restore's */
		json_object_object_add(out, "plan", o.results);
		json_object_object_add(out, "dry_run", json_object_new_boolean(c->dry_run));
		json_object_object_add(out, "errors", json_object_new_int64((int64_t)rep.n_err));
		{
			struct json_object *arr = json_object_new_array();

			for (size_t i = 0; i < rep.n; i++) {
				struct json_object *m = json_object_new_object();

				json_object_object_add(
					m, "level",
					json_object_new_string(conf_level_name(rep.v[i].level)));
				json_object_object_add(m, "path",
						       json_object_new_string(rep.v[i].path));
				json_object_object_add(m, "message",
						       json_object_new_string(rep.v[i].text));
				json_object_array_add(arr, m);
			}
			json_object_object_add(out, "report", arr);
		}
		cli_print_json(out);
		json_object_put(out);
		fflush(stdout);
		conf_report_print(&rep, stderr, CONF_WARN);
	} else {
		fflush(stdout);
		conf_report_print(&rep, stderr, c->quiet ? CONF_WARN : CONF_INFO);
		if (!c->quiet && n == 0)
			printf("Nothing to do.\n");
	}
	if (r < 0 && rep.n_err == 0)
		errorf("%s: apply failed: %s", argv[0], strerror(-r));
	conf_report_free(&rep);
	json_object_put(root);
	return r < 0 ? EXIT_FAIL : r == 1 ? EXIT_PARTIAL : EXIT_OK;
}
