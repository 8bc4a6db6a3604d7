/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtsctl set PATH GROUP NAME=VALUE...: write attributes (attribute, parameter, auth, wwn),
 * object properties (property: enable, nexus, tag, cmdsn_depth, write_protect, iser,
 * offload, alua_tg_pt_gp, wwn, ALUA group values) and iSCSI discovery_auth.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
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
				if (rts_parse_size(v, &u) < 0 || u > UINT32_MAX)
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
	/* discovery_auth is written in one call by cmd_set() */
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

/* The kernel's auth/ names; discovery_auth uses rtslib's mutual_userid/mutual_password.
 * Both spellings are accepted everywhere, the group's own is printed. */
static const char *canon_name(const char *g, const char *k)
{
	static const char *const pairs[][2] = {
		{ "userid_mutual", "mutual_userid" },
		{ "password_mutual", "mutual_password" },
	};

	for (size_t i = 0; i < 2; i++) {
		if (!strcmp(g, "discovery_auth") && !strcmp(k, pairs[i][0]))
			return pairs[i][1];
		if (!strcmp(g, "auth") && !strcmp(k, pairs[i][1]))
			return pairs[i][0];
	}
	return k;
}

static const char *const *property_names(enum obj_kind k)
{
	static const char *const so[] = { "wwn", "lu_gp", NULL };
	static const char *const lugp[] = { "lu_gp_id", NULL };
	static const char *const tpg[] = { "enable", "nexus", NULL };
	static const char *const lun[] = { "alua_tg_pt_gp", NULL };
	static const char *const np[] = { "iser", "offload", NULL };
	static const char *const acl[] = { "tag", "cmdsn_depth", NULL };
	static const char *const mlun[] = { "write_protect", NULL };
	static const char *const none[] = { NULL };
	static const char *const *const by_kind[] = {
		[O_SO] = so,   [O_LU_GP] = lugp, [O_ALUA] = alua_params, [O_TPG] = tpg,
		[O_LUN] = lun, [O_PORTAL] = np,  [O_ACL] = acl,          [O_MLUN] = mlun,
	};

	return (size_t)k < ARRAY_SIZE(by_kind) && by_kind[k] ? by_kind[k] : none;
}

static bool in_list(const char *const *v, const char *k)
{
	for (; v && *v; v++)
		if (!strcmp(*v, k))
			return true;
	return false;
}

static void print_valid(const char *path, const char *what, const char *k, const char *const *v)
{
	char buf[2048] = "";
	size_t n = 0;

	for (; v && *v && n < sizeof(buf) - 64; v++)
		if (!conf_attr_is_readonly(*v))
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? ", " : "", *v);
	errorf("no %s '%s' on %s (valid: %s)", what, k, path, *buf ? buf : "none");
}

static const char *obj_path(struct objref *r)
{
	switch (r->kind) {
	case O_SO:
		return rts_so_get_path(r->so);
	case O_TPG:
		return rts_tpg_get_path(r->tpg);
	case O_ACL:
		return rts_acl_get_path(r->aclp);
	default:
		return NULL;
	}
}

static int get_file(struct objref *r, enum rts_group g, const char *k, char **ret)
{
	switch (r->kind) {
	case O_SO:
		return rts_so_get_attr(r->so, g, k, ret);
	case O_TPG:
		return rts_tpg_get_attr(r->tpg, g, k, ret);
	case O_ACL:
		return rts_acl_get_attr(r->aclp, g, k, ret);
	default:
		return -EINVAL;
	}
}

/* Check one NAME=VALUE before anything is written. @return EXIT_OK, EXIT_USAGE, EXIT_FAIL */
static int check_one(struct objref *r, const char *path, const char *g, const char *k,
		     const char *v, char **files)
{
	static const char *const disc[] = { "enable", "userid", "password", "mutual_userid",
					    "mutual_password", NULL };
	static const char *const bools[] = { "enable", "iser", "offload", "write_protect", NULL };
	char why[256];
	bool b;
	uint64_t u;

	if (!strcmp(g, "property")) {
		if (!in_list(property_names(r->kind), k)) {
			print_valid(path, "property", k, property_names(r->kind));
			return EXIT_USAGE;
		}
		if (in_list(bools, k) && parse_bool(v, &b) < 0) {
			errorf("%s: property %s: '%s' is not a boolean", path, k, v);
			return EXIT_USAGE;
		}
		if (!strcmp(k, "cmdsn_depth") &&
		    (rts_parse_size(v, &u) < 0 || u < 1 || u > CONF_CMDSN_DEPTH_MAX)) {
			errorf("%s: property cmdsn_depth: '%s' out of range 1..%u", path, v,
			       CONF_CMDSN_DEPTH_MAX);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (!strcmp(g, "discovery_auth")) {
		if (!in_list(disc, k)) {
			print_valid(path, "discovery_auth value", k, disc);
			return EXIT_USAGE;
		}
		if (!strcmp(k, "enable") && parse_bool(v, &b) < 0) {
			errorf("%s: discovery_auth enable: '%s' is not a boolean", path, v);
			return EXIT_USAGE;
		}
		if (strlen(v) > RTS_CHAP_MAX) {
			errorf("%s: discovery_auth %s: longer than %d characters", path, k,
			       RTS_CHAP_MAX);
			return EXIT_USAGE;
		}
		return EXIT_OK;
	}
	if (!in_list((const char *const *)files, k)) {
		print_valid(path, !strcmp(g, "attribute") ? "attribute" : g, k,
			    (const char *const *)files);
		return EXIT_USAGE;
	}
	if (conf_attr_is_readonly(k)) {
		errorf("%s: %s '%s' is read-only", path, g, k);
		return EXIT_USAGE;
	}
	if (!strcmp(g, "attribute") &&
	    conf_attr_check(r->kind == O_SO ? CONF_OBJ_SO : r->kind == O_TPG ? CONF_OBJ_TPG :
									      CONF_OBJ_ACL,
			    k, v, why, sizeof(why)) < 0) {
		errorf("%s: attribute %s=%s: %s", path, k, v, why);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_set(struct cli *c, int argc, char **argv)
{
	struct objref r;
	char **files = NULL, **keys = NULL, **old = NULL;
	const char *dir;
	int ret, n = argc - 2, done = 0;

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
	keys = calloc((size_t)n + 1, sizeof(*keys));
	old = calloc((size_t)n + 1, sizeof(*old));
	if (!keys || !old) {
		free(keys);
		free(old);
		return EXIT_FAIL;
	}
	ret = cli_begin(c);
	if (ret != EXIT_OK)
		goto out_free;
	if (objref_resolve(c, &r) < 0) {
		errorf("%s: no such object", argv[0]);
		ret = EXIT_FAIL;
		goto out;
	}
	dir_group(argv[1], &dir);
	if (dir && obj_path(&r)) {
		char d[1200];

		pfmt(d, sizeof(d), "%s/%s", obj_path(&r), dir);
		if (conf_list_dir(c->ctx, d, RTS_FT_FILE, &files) < 0)
			files = NULL;
	}
	/* every NAME is checked before anything is written */
	for (int i = 0; i < n; i++) {
		char *k = strdup(argv[i + 2]), *v;
		int x;

		if (!k) {
			ret = EXIT_FAIL;
			goto out;
		}
		v = strchr(k, '=');
		*v++ = '\0';
		keys[i] = k;
		x = check_one(&r, argv[0], argv[1], canon_name(argv[1], k), v, files);
		for (int j = 0; x == EXIT_OK && j < i; j++) {
			if (!strcmp(canon_name(argv[1], keys[j]), canon_name(argv[1], k))) {
				errorf("%s: %s given twice", argv[0], canon_name(argv[1], k));
				x = EXIT_USAGE;
			}
		}
		if (x != EXIT_OK) {
			ret = x;
			goto out;
		}
	}
	if (!strcmp(argv[1], "discovery_auth")) {
		/* one write of the whole group: all or nothing */
		struct rts_chap ch;
		bool en;
		int x = rts_fabric_get_discovery_auth(r.fab, &en, &ch);

		for (int i = 0; x == 0 && i < n; i++) {
			const char *k = canon_name(argv[1], keys[i]), *v = keys[i] + strlen(keys[i]) + 1;
			char *dst = !strcmp(k, "userid")	? ch.userid :
				    !strcmp(k, "password")	? ch.password :
				    !strcmp(k, "mutual_userid") ? ch.mutual_userid :
								  ch.mutual_password;

			if (!strcmp(k, "enable"))
				parse_bool(v, &en);
			else
				pfmt(dst, RTS_CHAP_MAX + 1, "%s", v);
		}
		if (x == 0)
			x = rts_fabric_set_discovery_auth(r.fab, en, &ch);
		if (x < 0) {
			ret = report_rts_error(c, argv[0], x, "set discovery_auth");
			goto out;
		}
		for (int i = 0; i < n && !c->quiet; i++)
			printf("%s: %s %s=%s\n", argv[0], argv[1], canon_name(argv[1], keys[i]),
			       keys[i] + strlen(keys[i]) + 1);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const char *k = canon_name(argv[1], keys[i]), *v = keys[i] + strlen(keys[i]) + 1;
		int x;

		if (dir && get_file(&r, dir_group(argv[1], &dir), k, &old[i]) < 0)
			old[i] = NULL;
		x = set_one(&r, argv[1], k, v);
		if (x < 0) {
			char what[300];

			pfmt(what, sizeof(what), "set %s %s=%s", argv[1], k, v);
			if ((x == -EINVAL || x == -EBUSY) && r.kind == O_SO &&
			    (!strcmp(k, "block_size") || !strcmp(k, "optimal_sectors") ||
			     !strcmp(k, "queue_depth")) &&
			    so_exports(c, r.so, NULL, 0)) {
				size_t luns = so_exports(c, r.so, NULL, 0);

				errorf("%s: %s failed: in use by %zu LUN(s)", argv[0], what, luns);
				rts_ctx_clear_error(c->ctx);
				ret = EXIT_FAIL;
			} else {
				ret = report_rts_error(c, argv[0], x, what);
			}
			/* all or none: put back what was written */
			for (int j = i; j-- > 0;) {
				if (!old[j] || set_one(&r, argv[1], canon_name(argv[1], keys[j]),
						       old[j]) < 0)
					errorf("%s: could not put back %s", argv[0],
					       canon_name(argv[1], keys[j]));
			}
			goto out;
		}
		done++;
	}
	for (int i = 0; i < done && !c->quiet; i++)
		printf("%s: %s %s=%s\n", argv[0], argv[1], canon_name(argv[1], keys[i]),
		       keys[i] + strlen(keys[i]) + 1);
out:
	cli_end(c);
out_free:
	conf_strv_free(files);
	for (int i = 0; i < n; i++) {
		free(keys[i]);
		free(old[i]);
	}
	free(keys);
	free(old);
	return ret;
}
