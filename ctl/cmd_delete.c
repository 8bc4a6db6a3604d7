/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl delete PATH [--missing-ok]: delete an object and everything that depends on it. */
#include <errno.h>
#include <string.h>

#include "rtsctl.h"

int cmd_delete(struct cli *c, int argc, char **argv)
{
	struct objref r;
	char took[4096] = "";
	size_t nluns = 0;
	int ret, x = 0;

	if (argc != 1) {
		errorf("delete needs exactly one PATH");
		return EXIT_USAGE;
	}
	if (objref_parse(c, argv[0], &r) < 0)
		return EXIT_USAGE;
	switch (r.kind) {
	case O_ROOT:
	case O_BACKSTORES:
	case O_PLUGIN:
	case O_ALUA_DIR:
	case O_LUNS:
	case O_PORTALS:
	case O_ACLS:
	case O_FABRIC:
	case O_ALUA_ROOT:
	case O_LU_GPS:
		errorf("%s: not a deletable object (use 'clear' for everything)", argv[0]);
		return EXIT_USAGE;
	default:
		break;
	}
	ret = cli_begin(c);
	if (ret != EXIT_OK)
		return ret;
	if (objref_resolve(c, &r) < 0) {
		if (c->missing_ok) {
			if (!c->quiet)
				printf("%s: does not exist\n", argv[0]);
		} else {
			errorf("%s: no such object", argv[0]);
			ret = EXIT_FAIL;
		}
		cli_end(c);
		return ret;
	}
	switch (r.kind) {
	case O_SO:
		/* say what goes with it: the LUNs exporting it and their mapped LUNs */
		nluns = so_exports(c, r.so, took, sizeof(took));
		x = rts_so_delete(r.so);
		break;
	case O_ALUA:
		x = rts_alua_tpg_delete(r.alua);
		break;
	case O_LU_GP:
		x = rts_lu_gp_delete(r.lugp);
		break;
	case O_TARGET:
		x = rts_target_delete(r.tgt);
		break;
	case O_TPG:
		x = rts_tpg_delete(r.tpg);
		break;
	case O_LUN:
		x = rts_lun_delete(r.lun);
		break;
	case O_PORTAL:
		x = rts_portal_delete(r.np);
		break;
	case O_ACL:
		x = rts_acl_delete(r.aclp);
		break;
	case O_MLUN:
		x = rts_mapped_lun_delete(r.mlun);
		break;
	default:
		break;
	}
	if (x < 0)
		ret = report_rts_error(c, argv[0], x, "delete");
	else if (!c->quiet && nluns)
		printf("%s: deleted, with %zu LUN(s) and their mapped LUNs:%s\n", argv[0], nluns,
		       took);
	else if (!c->quiet)
		printf("%s: deleted\n", argv[0]);
	cli_end(c);
	return ret;
}
