/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtsctl set PATH GROUP NAME=VALUE...: write attributes (attribute, parameter, auth, wwn),
 * object properties (property: enable, nexus, tag, cmdsn_depth, write_protect, iser,
 * offload, alua_tg_pt_gp, wwn, ALUA group values) and iSCSI discovery_auth.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rtsctl.h"

static int set_one(struct objref *r, const char *g, const char *k, const char *v)
{
	const char *dir;
	enum rts_group grp;
	bool b;
	uint64_t u;

	if (!strcmp(g, "property")) {
		switch (r->kind) {
		case O_SO:
			if (!strcmp(k, "wwn"))
				return rts_so_set_wwn(r->so, v);
			if (!strcmp(k, "lu_gp"))
				return rts_so_set_lu_gp(r->so, v);
			break;
		case O_LU_GP:
			if (!strcmp(k, "lu_gp_id"))
				return rts_lu_gp_set_attr(r->lugp, k, v);
			break;
		case O_ALUA:
			return rts_alua_tpg_set_attr(r->alua, k, v);
		case O_TPG:
			if (!strcmp(k, "enable")) {
				if (parse_bool(v, &b) < 0)
					return -EINVAL;
				return rts_tpg_set_enable(r->tpg, b);
			}
			if (!strcmp(k, "nexus"))
				return rts_tpg_set_nexus(r->tpg, v);
			break;
		case O_LUN:
			if (!strcmp(k, "alua_tg_pt_gp"))
				return rts_lun_set_alua_group(r->lun, v);
			break;
		case O_PORTAL:
			if (!strcmp(k, "iser") || !strcmp(k, "offload")) {
				if (parse_bool(v, &b) < 0)
					return -EINVAL;
				return rts_portal_set_transport(
					r->np, !strcmp(k, "iser") ? "iser" : "cxgbit", b);
			}
			break;
		case O_ACL:
			if (!strcmp(k, "tag"))
				return rts_acl_set_tag(r->aclp, *v ? v : NULL);
			if (!strcmp(k, "cmdsn_depth")) {
				if (parse_size(v, &u) < 0 || u > UINT32_MAX)
					return -EINVAL;
				return rts_acl_set_cmdsn_depth(r->aclp, (uint32_t)u);
			}
			break;
		case O_MLUN:
			if (!strcmp(k, "write_protect")) {
				if (parse_bool(v, &b) < 0)
					return -EINVAL;
				return rts_mapped_lun_set_write_protect(r->mlun, b);
			}
			break;
		default:
			break;
		}
		return -ENOENT;
	}
	if (!strcmp(g, "discovery_auth")) {
		struct rts_chap ch;
		bool en;
		int x = rts_fabric_get_discovery_auth(r->fab, &en, &ch);
		char *dst = !strcmp(k, "userid")	  ? ch.userid :
			    !strcmp(k, "password")	  ? ch.password :
			    !strcmp(k, "mutual_userid")	  ? ch.mutual_userid :
			    !strcmp(k, "mutual_password") ? ch.mutual_password :
							    NULL;

		if (x < 0)
			return x;
		if (!strcmp(k, "enable")) {
			if (parse_bool(v, &en) < 0)
				return -EINVAL;
		} else if (!dst) {
			return -ENOENT;
		} else {
			if (strlen(v) > RTS_CHAP_MAX)
				return -EINVAL;
			pfmt(dst, RTS_CHAP_MAX + 1, "%s", v);
		}
		return rts_fabric_set_discovery_auth(r->fab, en, &ch);
	}
	grp = dir_group(g, &dir);
	switch (r->kind) {
	case O_SO:
		return rts_so_set_attr(r->so, grp, k, v);
	case O_TPG:
		return rts_tpg_set_attr(r->tpg, grp, k, v);
	case O_ACL:
		return rts_acl_set_attr(r->aclp, grp, k, v);
	default:
		return -EINVAL;
	}
}

int cmd_set(struct cli *c, int argc, char **argv)
{
	struct objref r;
	int ret;

	if (argc < 3) {
		errorf("usage: set PATH GROUP NAME=VALUE...");
		return EXIT_USAGE;
	}
	if (objref_parse(c, argv[0], &r) < 0)
		return EXIT_USAGE;
	if (!group_valid(r.kind, argv[1]) || (!strcmp(argv[1], "pr"))) {
		errorf("%s: no writable group '%s' on this object", argv[0], argv[1]);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (!strchr(argv[i], '=') || argv[i][0] == '=') {
			errorf("'%s': expected NAME=VALUE", argv[i]);
			return EXIT_USAGE;
		}
	}
	ret = cli_begin(c);
	if (ret != EXIT_OK)
		return ret;
	if (objref_resolve(c, &r) < 0) {
		errorf("%s: no such object", argv[0]);
		cli_end(c);
		return EXIT_FAIL;
	}
	for (int i = 2; i < argc; i++) {
		char *k = strdup(argv[i]), *v = strchr(k, '=');
		int x;

		*v++ = '\0';
		x = set_one(&r, argv[1], k, v);
		if (x == -ENOENT && !strcmp(argv[1], "property")) {
			errorf("%s: no property '%s' can be set here", argv[0], k);
			ret = EXIT_FAIL;
		} else if (x < 0) {
			char what[300];

			pfmt(what, sizeof(what), "set %s %s=%s", argv[1], k, v);
			ret = report_rts_error(c, argv[0], x, what);
		} else if (!c->quiet) {
			printf("%s: %s %s=%s\n", argv[0], argv[1], k, v);
		}
		free(k);
	}
	cli_end(c);
	return ret;
}
