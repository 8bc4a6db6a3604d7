/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restore cost of saveconfig files with N LUNs, each with one node ACL and one mapped LUN
 * (N ramdisk storage objects, one iSCSI target/TPG), on the in-memory backend. Prints per
 * object cost (objects = 4N: storage object, LUN, ACL, mapped LUN) so growth is visible.
 * Usage: bench_restore [N...]   (default 10 100 1000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct json_object *model(int n)
{
	struct json_object *root = json_object_new_object(), *sos = json_object_new_array();
	struct json_object *tgts = json_object_new_array(), *t = json_object_new_object();
	struct json_object *tpgs = json_object_new_array(), *tpg = json_object_new_object();
	struct json_object *luns = json_object_new_array(), *acls = json_object_new_array();
	char buf[128];

	for (int i = 0; i < n; i++) {
		struct json_object *so = json_object_new_object(), *lun = json_object_new_object();
		struct json_object *acl = json_object_new_object(), *mls = json_object_new_array();
		struct json_object *ml = json_object_new_object();

		snprintf(buf, sizeof(buf), "rd%d", i);
		json_object_object_add(so, "name", json_object_new_string(buf));
		json_object_object_add(so, "plugin", json_object_new_string("ramdisk"));
		json_object_object_add(so, "size", json_object_new_int64(1 << 20));
		json_object_object_add(so, "nullio", json_object_new_boolean(1));
		snprintf(buf, sizeof(buf), "00000000-0000-4000-8000-%012d", i);
		json_object_object_add(so, "wwn", json_object_new_string(buf));
		json_object_array_add(sos, so);

		snprintf(buf, sizeof(buf), "/backstores/ramdisk/rd%d", i);
		json_object_object_add(lun, "index", json_object_new_int(i));
		json_object_object_add(lun, "storage_object", json_object_new_string(buf));
		json_object_array_add(luns, lun);

		snprintf(buf, sizeof(buf), "iqn.1994-05.com.example:host%d", i);
		json_object_object_add(acl, "node_wwn", json_object_new_string(buf));
		json_object_object_add(ml, "index", json_object_new_int(0));
		json_object_object_add(ml, "tpg_lun", json_object_new_int(i));
		json_object_object_add(ml, "write_protect", json_object_new_boolean(0));
		json_object_array_add(mls, ml);
		json_object_object_add(acl, "mapped_luns", mls);
		json_object_array_add(acls, acl);
	}
	json_object_object_add(tpg, "tag", json_object_new_int(1));
	json_object_object_add(tpg, "enable", json_object_new_boolean(1));
	json_object_object_add(tpg, "luns", luns);
	json_object_object_add(tpg, "node_acls", acls);
	json_object_array_add(tpgs, tpg);
	json_object_object_add(t, "fabric", json_object_new_string("iscsi"));
	json_object_object_add(t, "wwn", json_object_new_string("iqn.2003-01.org.example:bench"));
	json_object_object_add(t, "tpgs", tpgs);
	json_object_array_add(tgts, t);
	json_object_object_add(root, "storage_objects", sos);
	json_object_object_add(root, "targets", tgts);
	return root;
}

int main(int argc, char **argv)
{
	static const int defaults[] = { 10, 100, 1000 };
	int count = argc > 1 ? argc - 1 : 3;

	printf("%6s %8s %10s %10s %12s %10s %12s %10s\n", "LUNs", "objects", "validate_s",
	       "restore_s", "us/object", "dump_s", "apply_noop_s", "clear_s");
	for (int k = 0; k < count; k++) {
		int n = argc > 1 ? atoi(argv[k + 1]) : defaults[k];
		struct json_object *m = model(n), *d = NULL;
		struct conf_opts o = { 0 };
		struct conf_report rep;
		struct rts_ctx *ctx;
		double t0, tv, tr, td, ta, tc;
		size_t acts = 1;
		int r;

		if (n <= 0 || rts_ctx_new(NULL, RTS_CTX_MEMORY, &ctx) < 0)
			return 1;
		conf_report_init(&rep);
		t0 = now();
		if (conf_validate(ctx, m, &rep))
			return 1;
		tv = now() - t0;
		t0 = now();
		r = conf_restore(ctx, m, &o, &rep);
		tr = now() - t0;
		if (r != 0 || rep.n_err) {
			conf_report_print(&rep, stderr, CONF_WARN);
			return 1;
		}
		t0 = now();
		conf_dump(ctx, &d, &rep);
		td = now() - t0;
		t0 = now();
		conf_apply(ctx, m, &o, &rep, &acts);
		ta = now() - t0;
		t0 = now();
		conf_clear(ctx, &o, &rep);
		tc = now() - t0;
		if (acts != 0) {
			fprintf(stderr, "apply of the restored file is not a no-op (%zu actions)\n",
				acts);
			return 1;
		}
		printf("%6d %8d %10.4f %10.4f %12.1f %10.4f %12.4f %10.4f\n", n, 4 * n, tv, tr,
		       tr * 1e6 / (4.0 * n), td, ta, tc);
		json_object_put(d);
		json_object_put(m);
		conf_report_free(&rep);
		rts_ctx_unref(ctx);
	}
	return 0;
}
