/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl save [FILE|-] [--backup N]: dump the live tree to saveconfig.json, atomically. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtsctl.h"

int cmd_save(struct cli *c, int argc, char **argv)
{
	const char *file;
	struct json_object *root = NULL;
	struct conf_report rep;
	char *text = NULL;
	int r, ret = conf_file_arg(c, "save", argc, argv, &file);

	if (ret != EXIT_OK)
		return ret;
	conf_report_init(&rep);
	/* one consistent snapshot: read under the lock */
	ret = cli_begin(c);
	if (ret != EXIT_OK)
		return ret;
	r = conf_dump(c->ctx, &root, &rep);
	cli_end(c);
	if (r < 0) {
		errorf("cannot read the configuration: %s", strerror(-r));
		ret = EXIT_FAIL;
		goto out;
	}
	/* keep top-level fields of the old file we do not know (comments, other tools' data) */
	if (strcmp(file, "-") != 0 && access(file, F_OK) == 0) {
		struct json_object *old = NULL;
		struct conf_report quiet;

		conf_report_init(&quiet);
		if (conf_load_file(file, &old, &quiet) == 0 &&
		    json_object_is_type(old, json_type_object)) {
			json_object_object_foreach(old, k, v)
			{
				if (!json_object_object_get_ex(root, k, NULL))
					json_object_object_add(root, k, json_object_get(v));
			}
		}
		json_object_put(old);
		conf_report_free(&quiet);
	}
	text = conf_to_string(root);
	if (!text) {
		errorf("out of memory");
		ret = EXIT_FAIL;
		goto out;
	}
	if (!strcmp(file, "-")) {
		fputs(text, stdout);
	} else {
		char *kept = NULL;

		/* like targetcli: the replaced file is kept in DIR/backup/ */
		if (!c->backups_set &&
		    conf_keep_backup(file, text, CONF_KEPT_BACKUPS, &rep, &kept) < 0) {
			ret = EXIT_FAIL;
			conf_report_print(&rep, stderr, CONF_WARN);
			goto out;
		}
		if (kept && !c->quiet && !c->json)
			printf("Previous configuration kept in %s\n", kept);
		free(kept);
		r = conf_write_file(file, text, c->backups, &rep);
		if (r < 0)
			ret = EXIT_FAIL;
		else if (!c->quiet && !c->json)
			printf("Configuration saved to %s\n", file);
	}
	conf_report_print(&rep, stderr, CONF_WARN);
out:
	conf_report_free(&rep);
	free(text);
	json_object_put(root);
	return ret;
}
