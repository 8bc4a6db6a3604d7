/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtsctl get PATH [GROUP [NAME...]]: read the attribute groups of an object.
 * Groups: attribute (attrib/), parameter (param/), auth (auth/), wwn, pr (storage objects),
 * property (object-level values: enable, nexus, tag, write_protect, ...), discovery_auth.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rtsctl.h"

static const char *const group_names[] = { "property", "attribute", "parameter",      "auth",
					   "wwn",      "pr",	    "discovery_auth", NULL };

bool group_valid(enum obj_kind k, const char *g)
{
	if (!strcmp(g, "property"))
		return true;
	switch (k) {
	case O_SO:
		return !strcmp(g, "attribute") || !strcmp(g, "wwn") || !strcmp(g, "pr");
	case O_TPG:
		return !strcmp(g, "attribute") || !strcmp(g, "parameter") || !strcmp(g, "auth");
	case O_ACL:
		return !strcmp(g, "attribute") || !strcmp(g, "parameter") || !strcmp(g, "auth");
	case O_FABRIC:
		return !strcmp(g, "discovery_auth");
	default:
		return false;
	}
}

enum rts_group dir_group(const char *g, const char **dir)
{
	static const struct {
		const char *name, *dir;
		enum rts_group g;
	} m[] = {
		{ "attribute", "attrib", RTS_GROUP_ATTRIB },
		{ "parameter", "param", RTS_GROUP_PARAM },
		{ "auth", "auth", RTS_GROUP_AUTH },
		{ "wwn", "wwn", RTS_GROUP_WWN },
		{ "pr", "pr", RTS_GROUP_PR },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (!strcmp(m[i].name, g)) {
			*dir = m[i].dir;
			return m[i].g;
		}
	}
	*dir = NULL;
	return RTS_GROUP_NONE;
}

static void put(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void putu(struct json_object *o, const char *k, uint64_t v)
{
	char b[32];

	pfmt(b, sizeof(b), "%" PRIu64, v);
	put(o, k, b);
}

static int get_one(struct objref *r, enum rts_group g, const char *name, char **v)
{
	return r->kind == O_SO	? rts_so_get_attr(r->so, g, name, v) :
	       r->kind == O_TPG ? rts_tpg_get_attr(r->tpg, g, name, v) :
				  rts_acl_get_attr(r->aclp, g, name, v);
}

/*
 * The values of an attribute group directory: every file in it, or when @only names some
 * (@n_only of them), those files alone, read without listing the directory. A named value
 * that is no readable file is left out (the caller says "no <group> 'NAME'").
 */
static int file_group(struct cli *c, struct objref *r, enum rts_group g, const char *dir,
		      char *const *only, int n_only, struct json_object *out)
{
	const char *base = r->so	    ? rts_so_get_path(r->so) :
			   r->kind == O_TPG ? rts_tpg_get_path(r->tpg) :
					      rts_acl_get_path(r->aclp);
	char path[1200], **names = NULL;
	int rr;

	if (only) {
		for (int i = 0; i < n_only; i++) {
			char *v = NULL;

			rr = get_one(r, g, only[i], &v);
			if (rr == 0)
				put(out, only[i], v);
			free(v);
			if (rr < 0 && rr != -ENOENT && rr != -EISDIR && rr != -EINVAL && rr != -EACCES)
				return rr;
			rts_ctx_clear_error(c->ctx);
		}
		return 0;
	}
	pfmt(path, sizeof(path), "%s/%s", base, dir);
	rr = conf_list_dir(c->ctx, path, RTS_FT_FILE, &names);
	if (rr < 0)
		return rr == -ENOENT ? 0 : rr;
	for (size_t i = 0; names[i]; i++) {
		char *v = NULL;

		if (get_one(r, g, names[i], &v) == 0)
			put(out, names[i], v);
		free(v);
	}
	conf_strv_free(names);
	return 0;
}

static void chap_props(struct json_object *o, const struct rts_chap *ch)
{
	put(o, "userid", ch->userid);
	put(o, "password", ch->password);
	put(o, "mutual_userid", ch->mutual_userid);
	put(o, "mutual_password", ch->mutual_password);
}

static int property_group(struct cli *c, struct objref *r, struct json_object *o)
{
	char *v = NULL;
	bool b;
	uint64_t u;

	(void)c;
	switch (r->kind) {
	case O_SO:
		put(o, "name", rts_so_get_name(r->so));
		put(o, "plugin", plugin_rtslib_name(rts_so_get_plugin(r->so)));
		if (rts_so_get_udev_path(r->so, &v) == 0)
			put(o, "dev", v);
		free(v);
		v = NULL;
		if (rts_so_get_size(r->so, &u) == 0)
			putu(o, "size", u);
		if (rts_so_get_wwn(r->so, &v) == 0) {
			strip_serial_prefix(v);
			put(o, "wwn", v);
		}
		free(v);
		put(o, "enabled", rts_so_is_enabled(r->so) ? "1" : "0");
		if (rts_so_get_lu_gp(r->so, &v) == 0)
			put(o, "lu_gp", v);
		free(v);
		v = NULL;
		putu(o, "hba_index", rts_so_get_hba_index(r->so));
		putu(o, "lun_count", rts_so_get_lun_count(r->so));
		break;
	case O_ALUA: {
		char path[1200], **names = NULL;

		pfmt(path, sizeof(path), "%s/alua/%s", rts_so_get_path(r->so), r->gp);
		if (conf_list_dir(c->ctx, path, RTS_FT_FILE, &names) == 0) {
			for (size_t i = 0; names[i]; i++) {
				if (rts_alua_tpg_get_attr(r->alua, names[i], &v) == 0)
					put(o, names[i], v);
				free(v);
				v = NULL;
			}
		}
		conf_strv_free(names);
		break;
	}
	case O_LU_GP:
		put(o, "name", rts_lu_gp_get_name(r->lugp));
		if (rts_lu_gp_get_attr(r->lugp, "lu_gp_id", &v) == 0)
			put(o, "lu_gp_id", v);
		free(v);
		v = NULL;
		if (rts_lu_gp_get_attr(r->lugp, "members", &v) == 0)
			put(o, "members", v);
		free(v);
		break;
	case O_FABRIC:
		put(o, "name", rts_fabric_get_name(r->fab));
		put(o, "configfs_name", rts_fabric_get_configfs_name(r->fab));
		put(o, "kernel_module", rts_fabric_get_kernel_module(r->fab));
		put(o, "loaded", rts_fabric_is_loaded(r->fab) ? "1" : "0");
		putu(o, "features", rts_fabric_get_features(r->fab));
		break;
	case O_TARGET:
		put(o, "wwn", rts_target_get_wwn(r->tgt));
		put(o, "fabric", rts_fabric_get_name(r->fab));
		break;
	case O_TPG:
		putu(o, "tag", rts_tpg_get_tag(r->tpg));
		if (rts_tpg_get_enable(r->tpg, &b) == 0)
			put(o, "enable", b ? "1" : "0");
		if (rts_fabric_get_features(r->fab) & RTS_FEAT_NEXUS) {
			if (rts_tpg_get_nexus(r->tpg, &v) == 0)
				put(o, "nexus", v);
			free(v);
		}
		break;
	case O_LUN: {
		struct rts_so *so = rts_lun_get_so(r->lun);
		char ref[600];

		putu(o, "index", rts_lun_get_index(r->lun));
		if (so) {
			pfmt(ref, sizeof(ref), "/backstores/%s/%s",
			     plugin_rtslib_name(rts_so_get_plugin(so)), rts_so_get_name(so));
			put(o, "storage_object", ref);
		}
		put(o, "alias", rts_lun_get_alias(r->lun));
		if (rts_lun_get_alua_group(r->lun, &v) == 0)
			put(o, "alua_tg_pt_gp", v);
		free(v);
		break;
	}
	case O_PORTAL:
		put(o, "ip_address", rts_portal_get_ip(r->np));
		putu(o, "port", rts_portal_get_port(r->np));
		if (rts_portal_get_transport(r->np, "iser", &b) == 0)
			put(o, "iser", b ? "1" : "0");
		if (rts_portal_get_transport(r->np, "cxgbit", &b) == 0)
			put(o, "offload", b ? "1" : "0");
		break;
	case O_ACL: {
		uint32_t d;

		put(o, "node_wwn", rts_acl_get_wwn(r->aclp));
		if (rts_acl_get_tag(r->aclp, &v) == 0)
			put(o, "tag", v);
		free(v);
		if (rts_acl_get_cmdsn_depth(r->aclp, &d) == 0)
			putu(o, "cmdsn_depth", d);
		break;
	}
	case O_MLUN: {
		struct rts_lun *l = rts_mapped_lun_get_lun(r->mlun);

		putu(o, "index", rts_mapped_lun_get_index(r->mlun));
		if (l)
			putu(o, "tpg_lun", rts_lun_get_index(l));
		if (rts_mapped_lun_get_write_protect(r->mlun, &b) == 0)
			put(o, "write_protect", b ? "1" : "0");
		break;
	}
	default:
		break;
	}
	return 0;
}

static int read_group(struct cli *c, struct objref *r, const char *g, char *const *only,
		      int n_only, struct json_object *o)
{
	const char *dir;
	enum rts_group grp;

	if (!strcmp(g, "property"))
		return property_group(c, r, o);
	if (!strcmp(g, "discovery_auth")) {
		struct rts_chap ch;
		bool en;
		int x = rts_fabric_get_discovery_auth(r->fab, &en, &ch);

		if (x < 0)
			return x;
		put(o, "enable", en ? "1" : "0");
		chap_props(o, &ch);
		return 0;
	}
	grp = dir_group(g, &dir);
	return file_group(c, r, grp, dir, only, n_only, o);
}

int cmd_get(struct cli *c, int argc, char **argv)
{
	struct json_object *groups = json_object_new_object();
	struct objref r;
	int ret = EXIT_OK;

	if (argc < 1) {
		errorf("get needs a PATH");
		json_object_put(groups);
		return EXIT_USAGE;
	}
	if (objref_parse(c, argv[0], &r) < 0) {
		json_object_put(groups);
		return EXIT_USAGE;
	}
	if (argc > 1 && !group_valid(r.kind, argv[1])) {
		errorf("%s: no group '%s' on this object", argv[0], argv[1]);
		json_object_put(groups);
		return EXIT_USAGE;
	}
	if (objref_resolve(c, &r) < 0) {
		errorf("%s: no such object", argv[0]);
		json_object_put(groups);
		return EXIT_FAIL;
	}
	for (size_t i = 0; group_names[i]; i++) {
		struct json_object *o;
		int x;

		if (argc > 1 ? strcmp(argv[1], group_names[i]) != 0 :
			       !group_valid(r.kind, group_names[i]))
			continue;
		o = json_object_new_object();
		x = read_group(c, &r, group_names[i], argc > 2 ? argv + 2 : NULL, argc - 2, o);
		if (x < 0) {
			ret = report_rts_error(c, argv[0], x, "read");
			json_object_put(o);
			continue;
		}
		if (argc > 2) { /* only the named values */
			struct json_object *sel = json_object_new_object();

			for (int k = 2; k < argc; k++) {
				struct json_object *v;

				if (json_object_object_get_ex(o, argv[k], &v)) {
					json_object_object_add(sel, argv[k], json_object_get(v));
				} else {
					errorf("%s: no %s '%s'", argv[0], group_names[i], argv[k]);
					ret = EXIT_FAIL;
				}
			}
			json_object_put(o);
			o = sel;
		}
		json_object_object_add(groups, group_names[i], o);
	}
	if (c->json) {
		struct json_object *out = json_object_new_object();

		json_object_object_add(out, "path", json_object_new_string(argv[0]));
		json_object_object_add(out, "groups", json_object_get(groups));
		cli_print_json(out);
		json_object_put(out);
	} else {
		json_object_object_foreach(groups, g, o)
		{
			if (argc <= 1)
				printf("%s:\n", g);
			json_object_object_foreach(o, k, v) printf(
				"%s%s=%s\n", argc <= 1 ? "  " : "", k, json_object_get_string(v));
		}
	}
	json_object_put(groups);
	return ret;
}
