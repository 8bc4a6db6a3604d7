/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Execution: the plan sorted by phase runs through librts under one lock, with a
 * per-object report, best effort or --atomic (undo in reverse order). Entry points
 * conf_restore(), conf_apply() and conf_clear().
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_plan.h"

/* ------------------------------------------------------------------ execution */

static int fail(struct plan *p, struct action *a, int r, const char *what)
{
	const struct rts_error *e = rts_ctx_last_error(p->ctx);

	if (e->code == r && *e->message)
		conf_report_add(p->rep, CONF_ERR, a->path, "%s failed: %s", what, e->message);
	else
		conf_report_add(p->rep, CONF_ERR, a->path, "%s failed: %s", what, strerror(-r));
	rts_ctx_clear_error(p->ctx);
	return r;
}

static int get_so(struct plan *p, struct action *a, struct rts_so **so)
{
	int r = rts_so_lookup(p->ctx, a->plugin, a->so, so);

	if (r < 0) {
		p->skipped = true;
		conf_report_add(p->rep, CONF_ERR, a->path, "skipped: storage object %s/%s missing",
				rtslib_plugin[a->plugin], a->so);
	}
	return r;
}

static int get_target(struct plan *p, struct action *a, struct rts_target **t)
{
	struct rts_fabric *f;
	int r = rts_fabric_lookup(p->ctx, a->fabric, &f);

	if (r == 0)
		r = rts_target_lookup(f, a->wwn, t);
	if (r < 0) {
		p->skipped = true;
		conf_report_add(p->rep, CONF_ERR, a->path, "skipped: target %s missing", a->wwn);
	}
	return r;
}

static int get_tpg(struct plan *p, struct action *a, struct rts_tpg **tpg)
{
	struct rts_target *t;
	int r = get_target(p, a, &t);

	if (r < 0)
		return r;
	r = rts_tpg_lookup(t, a->tag, tpg);
	if (r < 0) {
		p->skipped = true;
		conf_report_add(p->rep, CONF_ERR, a->path, "skipped: TPG %u missing", a->tag);
	}
	return r;
}

static int get_acl(struct plan *p, struct action *a, struct rts_acl **acl)
{
	struct rts_tpg *tpg;
	int r = get_tpg(p, a, &tpg);

	if (r < 0)
		return r;
	r = rts_acl_lookup(tpg, a->acl, acl);
	if (r < 0) {
		p->skipped = true;
		conf_report_add(p->rep, CONF_ERR, a->path, "skipped: node ACL %s missing", a->acl);
	}
	return r;
}

typedef int (*get_fn)(void *obj, enum rts_group g, const char *name, char **ret);
typedef int (*set_fn)(void *obj, enum rts_group g, const char *name, const char *value);

/* Write every given attribute whose current value differs; failures are warnings (rtslib). */
static int set_all(struct plan *p, struct action *a, void *obj, struct json_object *attrs,
		   enum rts_group g, get_fn get, set_fn set)
{
	int bad = 0;

	json_object_object_foreach(attrs, k, v)
	{
		char val[4096], *cur = NULL;
		int r;

		if (json_object_is_type(v, json_type_null) ||
		    conf_value_string(v, val, sizeof(val)) < 0)
			continue;
		if (get(obj, g, k, &cur) == 0 && strcmp(cur, val) == 0) {
			free(cur);
			continue;
		}
		free(cur);
		if (conf_attr_is_readonly(k)) {
			conf_report_add(p->rep, CONF_WARN, a->path, "%s '%s' is read-only, skipped",
					g == RTS_GROUP_PARAM ? "parameter" : "attribute", k);
			continue;
		}
		r = set(obj, g, k, val);
		if (r == -ENOENT && a->kind == A_TARGET_PARAMS) {
			/* kernels before 6.1 have no target-level param/; rtslib ignores it */
			conf_report_add(p->rep, CONF_WARN, a->path,
					"parameter '%s' not in this kernel, skipped", k);
			continue;
		}
		if (r < 0) {
			const struct rts_error *e = rts_ctx_last_error(p->ctx);

			conf_report_add(p->rep, CONF_ERR, a->path, "cannot set %s %s=%s: %s",
					g == RTS_GROUP_PARAM ? "parameter" : "attribute", k, val,
					e->code == r && *e->message ? e->message : strerror(-r));
			rts_ctx_clear_error(p->ctx);
			bad = r;
		}
	}
	return bad;
}

/* target-level param/ (conf_target_*_param) needs the context next to the target */
struct target_ref {
	struct rts_ctx *ctx;
	struct rts_target *t;
};
static int target_get(void *o, enum rts_group g, const char *n, char **r)
{
	struct target_ref *ref = o;

	(void)g;
	return conf_target_get_param(ref->ctx, ref->t, n, r);
}
static int target_set(void *o, enum rts_group g, const char *n, const char *v)
{
	struct target_ref *ref = o;

	(void)g;
	return conf_target_set_param(ref->ctx, ref->t, n, v);
}

static int so_get(void *o, enum rts_group g, const char *n, char **r)
{
	return rts_so_get_attr(o, g, n, r);
}
static int so_set(void *o, enum rts_group g, const char *n, const char *v)
{
	return rts_so_set_attr(o, g, n, v);
}
static int tpg_get(void *o, enum rts_group g, const char *n, char **r)
{
	return rts_tpg_get_attr(o, g, n, r);
}
static int tpg_set(void *o, enum rts_group g, const char *n, const char *v)
{
	return rts_tpg_set_attr(o, g, n, v);
}
static int acl_get(void *o, enum rts_group g, const char *n, char **r)
{
	return rts_acl_get_attr(o, g, n, r);
}
static int acl_set(void *o, enum rts_group g, const char *n, const char *v)
{
	return rts_acl_set_attr(o, g, n, v);
}
/* The kernel shows alua_access_status/type as text and takes numbers (rtslib maps them). */
static int alua_get(void *o, enum rts_group g, const char *n, char **r)
{
	static const char *const statuses[] = { "None", "Altered by Explicit STPG",
						"Altered by Implicit ALUA", NULL };
	static const char *const types[] = { "None", "Implicit", "Explicit",
					     "Implicit and Explicit", NULL };
	const char *const *tab = !strcmp(n, "alua_access_status") ? statuses :
				 !strcmp(n, "alua_access_type")	  ? types :
								    NULL;
	int x;

	(void)g;
	x = rts_alua_tpg_get_attr(o, n, r);
	for (size_t i = 0; x == 0 && tab && tab[i]; i++) {
		if (!strcmp(*r, tab[i])) {
			free(*r);
			if (asprintf(r, "%zu", i) < 0) {
				*r = NULL;
				return -ENOMEM;
			}
			break;
		}
	}
	return x;
}
static int alua_set(void *o, enum rts_group g, const char *n, const char *v)
{
	(void)g;
	return rts_alua_tpg_set_attr(o, n, v);
}

static int exec_new_so(struct plan *p, struct action *a)
{
	struct json_object *o = a->obj;
	const char *dev = jstr(o, "dev");
	uint64_t size = (uint64_t)jint(o, "size", 0);
	struct rts_so *so = NULL;
	int r = -EINVAL;

	switch (a->plugin) {
	case RTS_PLUGIN_FILEIO:
		r = rts_fileio_create(p->ctx, a->so, dev, size,
				      RTS_FILEIO_SPARSE | (jbool(o, "write_back", false) ?
								   RTS_FILEIO_WRITE_BACK :
								   0),
				      &so);
		if (r == 0 && jbool(o, "aio", false))
			conf_report_add(
				p->rep, CONF_WARN, a->path,
				"aio=true not supported by librts's fileio create, created with buffered/sync I/O");
		break;
	case RTS_PLUGIN_BLOCK:
		r = rts_block_create(p->ctx, a->so, dev,
				     jbool(o, "readonly", false) ? RTS_BLOCK_READONLY : 0, &so);
		if (r == 0 && jbool(o, "write_back", false))
			r = rts_so_set_attr(so, RTS_GROUP_ATTRIB, "emulate_write_cache", "1");
		break;
	case RTS_PLUGIN_PSCSI:
		r = rts_pscsi_create(p->ctx, a->so, dev, &so);
		break;
	case RTS_PLUGIN_RAMDISK:
		r = rts_ramdisk_create(p->ctx, a->so, size,
				       jbool(o, "nullio", false) ? RTS_RAMDISK_NULLIO : 0, &so);
		break;
	case RTS_PLUGIN_USER: {
		struct rts_user_config cfg = {
			.cfgstring = jstr(o, "config"),
			.size = size,
			.hw_max_sectors = (uint32_t)jint(o, "hw_max_sectors", 0),
			.nl_reply_supported = -1,
			.control = jstr(o, "control"),
		};

		r = rts_user_create(p->ctx, a->so, &cfg, &so);
		break;
	}
	default:
		break;
	}
	return r < 0 ? fail(p, a, r, "create") : 0;
}

/* Rename the link of a mapped LUN to @p alias (librts generates a random one). */
/* Deletions: an object already gone is no failure (it went with its parent). */
static int exec_delete(struct plan *p, struct action *a)
{
	struct rts_so *so;
	struct rts_alua_tpg *gp;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_portal *np;
	struct rts_acl *acl;
	struct rts_mapped_lun *m;
	int r;

	switch (a->kind) {
	case A_DEL_SO:
		if (get_so(p, a, &so) < 0)
			return 0;
		r = rts_so_delete(so);
		return r < 0 ? fail(p, a, r, "delete") : 0;
	case A_DEL_ALUA:
		if (get_so(p, a, &so) < 0)
			return -ENOENT;
		r = rts_alua_tpg_lookup(so, a->gp, &gp);
		if (r == 0)
			r = rts_alua_tpg_delete(gp);
		return r < 0 ? fail(p, a, r, "delete") : 0;
	case A_DEL_TARGET:
		if (get_target(p, a, &t) < 0)
			return 0;
		r = rts_target_delete(t);
		return r < 0 ? fail(p, a, r, "delete") : 0;
	case A_DEL_TPG:
		if (get_tpg(p, a, &tpg) < 0)
			return 0;
		r = rts_tpg_delete(tpg);
		return r < 0 ? fail(p, a, r, "delete") : 0;
	case A_DEL_LUN:
		if (get_tpg(p, a, &tpg) < 0)
			return 0;
		if (rts_lun_lookup(tpg, a->index, &lun) < 0)
			return 0; /* already gone with its storage object */
		r = rts_lun_delete(lun);
		return r < 0 ? fail(p, a, r, "delete") : 0;
	case A_DEL_PORTAL:
		if (get_tpg(p, a, &tpg) < 0)
			return 0;
		r = rts_portal_lookup(tpg, a->ip, a->port, &np);
		if (r == 0)
			r = rts_portal_delete(np);
		return r < 0 ? fail(p, a, r, "delete") : 0;
	case A_DEL_ACL:
		if (get_acl(p, a, &acl) < 0)
			return 0;
		r = rts_acl_delete(acl);
		return r < 0 ? fail(p, a, r, "delete") : 0;
	case A_DEL_MLUN:
		if (get_acl(p, a, &acl) < 0)
			return 0;
		if (rts_mapped_lun_lookup(acl, a->index, &m) < 0)
			return 0;
		r = rts_mapped_lun_delete(m);
		return r < 0 ? fail(p, a, r, "delete") : 0;
	default:
		break;
	}
	return -EINVAL;
}

/* Storage objects, their ALUA target port groups, LU groups. */
static int exec_storage(struct plan *p, struct action *a)
{
	struct rts_so *so;
	struct rts_alua_tpg *gp;
	int r;

	switch (a->kind) {
	case A_NEW_SO:
		return exec_new_so(p, a);
	case A_SO_WWN:
		if ((r = get_so(p, a, &so)) < 0)
			return r;
		r = rts_so_set_wwn(so, a->value);
		return r < 0 ? fail(p, a, r, "set wwn") : 0;
	case A_SO_ATTR:
		if ((r = get_so(p, a, &so)) < 0)
			return r;
		r = rts_so_set_attr(so, RTS_GROUP_ATTRIB, a->name, a->value);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	case A_SO_ATTRS:
		if ((r = get_so(p, a, &so)) < 0)
			return r;
		return set_all(p, a, so, a->obj, RTS_GROUP_ATTRIB, so_get, so_set);
	case A_NEW_ALUA:
		if ((r = get_so(p, a, &so)) < 0)
			return r;
		r = rts_alua_tpg_create(so, a->gp, (uint16_t)a->index, NULL);
		return r < 0 ? fail(p, a, r, "create") : 0;
	case A_ALUA_ATTR:
	case A_ALUA_ATTRS:
		if ((r = get_so(p, a, &so)) < 0)
			return r;
		r = rts_alua_tpg_lookup(so, a->gp, &gp);
		if (r < 0)
			return fail(p, a, r, "lookup");
		if (a->kind == A_ALUA_ATTR) {
			r = rts_alua_tpg_set_attr(gp, a->name, a->value);
			return r < 0 ? fail(p, a, r, a->what) : 0;
		} else {
			struct json_object *params = json_object_new_object();

			for (size_t i = 0; alua_params[i]; i++)
				if (jget(a->obj, alua_params[i]))
					json_object_object_add(
						params, alua_params[i],
						json_object_get(jget(a->obj, alua_params[i])));
			r = set_all(p, a, gp, params, RTS_GROUP_NONE, alua_get, alua_set);
			json_object_put(params);
			return r;
		}
	case A_NEW_LUGP:
		r = rts_lu_gp_create(p->ctx, a->gp, (uint16_t)a->index, NULL);
		return r < 0 ? fail(p, a, r, "create") : 0;
	case A_LUGP_ID:
	case A_DEL_LUGP: {
		struct rts_lu_gp *lg;

		r = rts_lu_gp_lookup(p->ctx, a->gp, &lg);
		if (r == 0)
			r = a->kind == A_DEL_LUGP ? rts_lu_gp_delete(lg) :
						    rts_lu_gp_set_attr(lg, "lu_gp_id", a->value);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	}
	case A_SO_LUGP:
		if ((r = get_so(p, a, &so)) < 0)
			return r;
		r = rts_so_set_lu_gp(so, a->value);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	default:
		break;
	}
	return -EINVAL;
}

/* Fabrics (discovery auth), targets and TPGs. */
static int exec_target(struct plan *p, struct action *a)
{
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_fabric *f;
	int r;

	switch (a->kind) {
	case A_DISC_AUTH: {
		struct rts_chap c = { 0 };
		char key[64];

		r = rts_fabric_lookup(p->ctx, a->fabric, &f);
		if (r == 0 && !rts_fabric_is_loaded(f))
			r = rts_fabric_load(f, p->opts->load_modules);
		if (r < 0)
			return fail(p, a, r, "load fabric");
		for (int i = 0; i < 4 && a->obj; i++) {
			char *dst[4] = { c.userid, c.password, c.mutual_userid, c.mutual_password };

			pfmt(key, sizeof(key), "discovery_%s", chap_keys[i]);
			snprintf(dst[i], RTS_CHAP_MAX + 1, "%s",
				 jstr(a->obj, key) ? jstr(a->obj, key) : "");
		}
		r = rts_fabric_set_discovery_auth(f, a->flag, a->obj ? &c : NULL);
		return r < 0 ? fail(p, a, r, "set discovery auth") : 0;
	}
	case A_NEW_TARGET:
		r = rts_fabric_lookup(p->ctx, a->fabric, &f);
		if (r == 0 && !rts_fabric_is_loaded(f))
			r = rts_fabric_load(f, p->opts->load_modules);
		if (r == 0)
			r = rts_target_create(f, a->wwn, NULL);
		return r < 0 ? fail(p, a, r, "create") : 0;
	case A_TARGET_PARAM:
		if ((r = get_target(p, a, &t)) < 0)
			return r;
		r = conf_target_set_param(p->ctx, t, a->name, a->value);
		if (r == -ENOENT) {
			conf_report_add(p->rep, CONF_WARN, a->path,
					"parameter '%s' not in this kernel, skipped", a->name);
			return 0;
		}
		return r < 0 ? fail(p, a, r, a->what) : 0;
	case A_TARGET_PARAMS: {
		struct target_ref ref = { .ctx = p->ctx };

		if ((r = get_target(p, a, &ref.t)) < 0)
			return r;
		return set_all(p, a, &ref, a->obj, RTS_GROUP_PARAM, target_get, target_set);
	}
	case A_NEW_TPG:
		if ((r = get_target(p, a, &t)) < 0)
			return r;
		r = rts_tpg_create(t, a->tag, NULL);
		return r < 0 ? fail(p, a, r, "create") : 0;
	case A_TPG_ATTR:
		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		r = rts_tpg_set_attr(tpg, a->group, a->name, a->value);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	case A_TPG_ATTRS:
		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		return set_all(p, a, tpg, a->obj, a->group, tpg_get, tpg_set);
	case A_TPG_NEXUS:
		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		if (!(rts_fabric_get_features(rts_target_get_fabric(rts_tpg_get_target(tpg))) &
		      RTS_FEAT_NEXUS))
			return 0;
		{
			char *cur = NULL;

			if (rts_tpg_get_nexus(tpg, &cur) == 0 && *cur) {
				if (!a->value || strcmp(cur, a->value) == 0) {
					free(cur);
					return 0;
				}
				rts_tpg_set_nexus(tpg, NULL == a->value ? NULL : "");
			}
			free(cur);
		}
		r = rts_tpg_set_nexus(tpg, a->value);
		return r < 0 ? fail(p, a, r, "set nexus") : 0;
	case A_TPG_ENABLE: {
		bool cur = !a->flag;

		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		if (rts_tpg_get_enable(tpg, &cur) == 0 && cur == a->flag)
			return 0;
		r = rts_tpg_set_enable(tpg, a->flag);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	}
	default:
		break;
	}
	return -EINVAL;
}

/* What lives in a TPG: LUNs, portals, node ACLs and their mapped LUNs. */
static int exec_tpg_child(struct plan *p, struct action *a)
{
	struct rts_so *so;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_portal *np;
	struct rts_acl *acl;
	struct rts_mapped_lun *m;
	int r;

	switch (a->kind) {
	case A_NEW_LUN: {
		enum rts_plugin pl;
		char name[RTS_NAME_MAX + 1];
		const char *alias = jstr(a->obj, "alias");

		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		if (parse_so_ref(jstr(a->obj, "storage_object"), &pl, name, sizeof(name)) < 0 ||
		    rts_so_lookup(p->ctx, pl, name, &so) < 0) {
			p->skipped = true;
			conf_report_add(p->rep, CONF_ERR, a->path,
					"skipped: storage object %s missing",
					jstr(a->obj, "storage_object"));
			return -ENOENT;
		}
		r = rts_lun_create(tpg, a->index, so, alias, NULL);
		return r < 0 ? fail(p, a, r, "create") : 0;
	}
	case A_LUN_ALUA:
		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		r = rts_lun_lookup(tpg, a->index, &lun);
		if (r == 0)
			r = rts_lun_set_alua_group(lun, a->value);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	case A_NEW_PORTAL:
		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		r = rts_portal_create(tpg, a->ip, a->port, NULL);
		return r < 0 ? fail(p, a, r, "create") : 0;
	case A_PORTAL_TRANSPORT:
		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		r = rts_portal_lookup(tpg, a->ip, a->port, &np);
		if (r == 0)
			r = rts_portal_set_transport(np, a->name, a->flag);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	case A_NEW_ACL:
		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		r = rts_acl_create(tpg, a->acl, NULL);
		return r < 0 ? fail(p, a, r, "create") : 0;
	case A_ACL_ATTR:
		if ((r = get_acl(p, a, &acl)) < 0)
			return r;
		r = rts_acl_set_attr(acl, a->group, a->name, a->value);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	case A_ACL_ATTRS:
		if ((r = get_acl(p, a, &acl)) < 0)
			return r;
		return set_all(p, a, acl, a->obj, RTS_GROUP_ATTRIB, acl_get, acl_set);
	case A_ACL_TAG:
		if ((r = get_acl(p, a, &acl)) < 0)
			return r;
		r = rts_acl_set_tag(acl, a->value);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	case A_ACL_DEPTH:
		if ((r = get_acl(p, a, &acl)) < 0)
			return r;
		r = rts_acl_set_cmdsn_depth(acl, (uint32_t)a->index);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	case A_NEW_MLUN: {
		const char *alias = jstr(a->obj, "alias");

		if ((r = get_acl(p, a, &acl)) < 0)
			return r;
		tpg = rts_acl_get_tpg(acl);
		r = rts_lun_lookup(tpg, (uint64_t)jint(a->obj, "tpg_lun", 0), &lun);
		if (r < 0) {
			p->skipped = true;
			conf_report_add(p->rep, CONF_ERR, a->path,
					"skipped: TPG LUN %" PRId64 " missing",
					jint(a->obj, "tpg_lun", 0));
			return r;
		}
		/* the saved alias is the link name: a later rename would drop write_protect */
		r = rts_mapped_lun_create_alias(acl, a->index, lun,
						alias && rts_name_validate(alias, NULL) == 0 ? alias :
											       NULL,
						jbool(a->obj, "write_protect", false), &m);
		if (r < 0)
			return fail(p, a, r, "create");
		if (alias && rts_name_validate(alias, NULL) < 0)
			conf_report_add(p->rep, CONF_WARN, a->path, "cannot keep alias '%s'",
					alias);
		return 0;
	}
	case A_MLUN_WP:
		if ((r = get_acl(p, a, &acl)) < 0)
			return r;
		r = rts_mapped_lun_lookup(acl, a->index, &m);
		if (r == 0)
			r = rts_mapped_lun_set_write_protect(m, a->flag);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	default:
		break;
	}
	return -EINVAL;
}

static int exec_action(struct plan *p, struct action *a)
{
	switch (a->kind) {
	case A_DEL_SO:
	case A_DEL_ALUA:
	case A_DEL_TARGET:
	case A_DEL_TPG:
	case A_DEL_LUN:
	case A_DEL_PORTAL:
	case A_DEL_ACL:
	case A_DEL_MLUN:
		return exec_delete(p, a);
	case A_NEW_SO:
	case A_SO_WWN:
	case A_SO_ATTR:
	case A_SO_ATTRS:
	case A_NEW_ALUA:
	case A_ALUA_ATTR:
	case A_ALUA_ATTRS:
	case A_NEW_LUGP:
	case A_LUGP_ID:
	case A_DEL_LUGP:
	case A_SO_LUGP:
		return exec_storage(p, a);
	case A_DISC_AUTH:
	case A_NEW_TARGET:
	case A_TARGET_PARAM:
	case A_TARGET_PARAMS:
	case A_NEW_TPG:
	case A_TPG_ATTR:
	case A_TPG_ATTRS:
	case A_TPG_NEXUS:
	case A_TPG_ENABLE:
		return exec_target(p, a);
	case A_NEW_LUN:
	case A_LUN_ALUA:
	case A_NEW_PORTAL:
	case A_PORTAL_TRANSPORT:
	case A_NEW_ACL:
	case A_ACL_ATTR:
	case A_ACL_ATTRS:
	case A_ACL_TAG:
	case A_ACL_DEPTH:
	case A_NEW_MLUN:
	case A_MLUN_WP:
		return exec_tpg_child(p, a);
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------ pre-check */

static char *so_problem_v(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *so_problem_v(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* Live storage objects other than @p name using backing file @p dev. */
static size_t file_users(struct json_object *have, const char *dev, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; dev && i < jlen(have, "storage_objects"); i++) {
		struct json_object *so = jidx(have, "storage_objects", i);
		const char *d = jstr(so, "dev"), *nm = jstr(so, "name");

		n += d && nm && !strcmp(d, dev) && strcmp(nm, name) != 0;
	}
	return n;
}

/*
 * What creating storage object @p so (saveconfig form) needs from this host: backing
 * directory or file, size, device. Nothing is touched. Warnings (a file that would grow or
 * is shared) go to the report. @return malloc()ed reason it would fail, or NULL
 */
char *conf_so_problem(struct json_object *so, struct json_object *have, bool check_devices,
		      struct conf_report *rep, const char *path)
{
	enum rts_plugin pl;
	const char *dev = jstr(so, "dev"), *name = jstr(so, "name");
	int64_t size = jint(so, "size", 0);
	struct stat st;

	if (plugin_of(so, &pl) < 0)
		return so_problem_v("unknown plugin");
	switch (pl) {
	case RTS_PLUGIN_FILEIO:
		if (!dev || dev[0] != '/')
			return so_problem_v("backing file must be an absolute path");
		if (stat(dev, &st) == 0) {
			if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
				return so_problem_v("%s is not a regular file or block device", dev);
			if (S_ISREG(st.st_mode) && size == 0 && st.st_size == 0)
				return so_problem_v("%s is empty and no size is given", dev);
			if (S_ISREG(st.st_mode) && access(dev, R_OK | W_OK) < 0)
				return so_problem_v("%s: %s", dev, strerror(errno));
			if (rep && S_ISREG(st.st_mode) && size > (int64_t)st.st_size)
				conf_report_add(rep, CONF_WARN, path,
						"backing file %s will grow from %lld to %" PRId64
						" bytes",
						dev, (long long)st.st_size, size);
			if (rep && file_users(have, dev, name ? name : ""))
				conf_report_add(rep, CONF_WARN, path,
						"backing file %s is shared with %zu other storage "
						"object(s): their data mix",
						dev, file_users(have, dev, name ? name : ""));
		} else if (errno != ENOENT) {
			return so_problem_v("%s: %s", dev, strerror(errno));
		} else {
			char *dir = strdup(dev), *slash;

			if (!dir)
				return so_problem_v("out of memory");
			slash = strrchr(dir, '/');
			if (slash == dir)
				slash[1] = '\0';
			else
				*slash = '\0';
			if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
				char *r = so_problem_v("directory %s of backing file %s does not exist",
						       dir, dev);

				free(dir);
				return r;
			}
			if (access(dir, W_OK) < 0) {
				char *r = so_problem_v("cannot create %s: %s", dev, strerror(errno));

				free(dir);
				return r;
			}
			free(dir);
			if (size <= 0)
				return so_problem_v("%s does not exist and no size is given", dev);
		}
		return NULL;
	case RTS_PLUGIN_BLOCK:
	case RTS_PLUGIN_PSCSI:
		if (!dev)
			return so_problem_v("no dev given");
		if (!check_devices || (pl == RTS_PLUGIN_PSCSI && dev[0] != '/'))
			return NULL;
		if (stat(dev, &st) < 0)
			return so_problem_v("device %s: %s", dev, strerror(errno));
		if (pl == RTS_PLUGIN_BLOCK && !S_ISBLK(st.st_mode))
			return so_problem_v("%s is not a block device", dev);
		return NULL;
	case RTS_PLUGIN_RAMDISK:
	case RTS_PLUGIN_USER:
		if (size <= 0)
			return so_problem_v("no size given");
		return NULL;
	default:
		return NULL;
	}
}

static bool ramdisk_holds_data(struct json_object *so)
{
	enum rts_plugin pl;

	return so && plugin_of(so, &pl) == 0 && pl == RTS_PLUGIN_RAMDISK &&
	       !jbool(so, "nullio", false);
}

/*
 * Find what would fail or cannot be undone before anything runs. @return number of
 * problems that refuse the whole plan: a recreate that could not make the object again,
 * an exported object recreated without allow_recreate, and with --atomic every problem
 * and every loss that no rollback can repair.
 */
static size_t precheck(struct plan *p, struct json_object *have)
{
	size_t refuse = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct action *a = &p->v[i];
		bool fatal = p->opts->atomic;

		if (a->kind == A_NEW_SO) {
			a->problem = conf_so_problem(a->obj, have, p->opts->check_devices, p->rep,
						     a->path);
			fatal |= a->recreate;
		} else if (a->kind == A_DEL_SO && a->recreate && a->in_use &&
			   !p->opts->allow_recreate) {
			a->problem = so_problem_v(
				"exported by %u LUN(s): recreating it drops them and their mapped "
				"LUNs while it runs (initiators see I/O errors); use --recreate",
				a->in_use);
			fatal = true;
		} else if (a->kind == A_DEL_SO && p->opts->atomic && ramdisk_holds_data(a->obj)) {
			a->problem = so_problem_v(
				"deleting a ramdisk loses its data: --atomic could not undo it");
		}
		if (!a->problem)
			continue;
		if (fatal) {
			conf_report_add(p->rep, CONF_ERR, a->path, "%s: %s", a->what, a->problem);
			refuse++;
		} else {
			conf_report_add(p->rep, CONF_WARN, a->path, "%s will fail: %s", a->what,
					a->problem);
		}
	}
	return refuse;
}

/* ------------------------------------------------------------------ running */

static void note(struct plan *p, struct action *a, const char *result)
{
	if (p->opts->plan_out) {
		if (p->opts->dry_run && a->problem)
			fprintf(p->opts->plan_out, "%s %s [pre-check: %s]\n", a->path, a->what,
				a->problem);
		else if (p->opts->dry_run)
			fprintf(p->opts->plan_out, "%s %s\n", a->path, a->what);
		else
			fprintf(p->opts->plan_out, "%s %s: %s\n", a->path, a->what, result);
		fflush(p->opts->plan_out);
	}
	if (p->opts->results) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "path", json_object_new_string(a->path));
		json_object_object_add(o, "action", json_object_new_string(a->what));
		json_object_object_add(o, "result", json_object_new_string(result));
		if (a->problem)
			json_object_object_add(o, "problem", json_object_new_string(a->problem));
		json_object_array_add(p->opts->results, o);
	}
}

static bool is_bulk_or_setting(enum act k)
{
	return k != A_NEW_SO && k != A_NEW_ALUA && k != A_NEW_TARGET && k != A_NEW_TPG &&
	       k != A_NEW_LUN && k != A_NEW_PORTAL && k != A_NEW_ACL && k != A_NEW_MLUN &&
	       k != A_NEW_LUGP && k != A_DEL_MLUN && k != A_DEL_ACL && k != A_DEL_PORTAL &&
	       k != A_DEL_LUN && k != A_DEL_TPG && k != A_DEL_TARGET && k != A_DEL_SO &&
	       k != A_DEL_ALUA && k != A_DEL_LUGP;
}

static int snapshot_string(struct rts_ctx *ctx, const struct conf_opts *o, char **ret,
			   struct json_object **model)
{
	struct json_object *now = NULL;
	struct conf_report quiet;
	int r;

	conf_report_init(&quiet);
	r = rts_ctx_refresh(ctx);
	if (r == 0)
		r = conf_dump(ctx, &now, &quiet);
	conf_report_free(&quiet);
	if (r < 0)
		return r;
	filter_scope(ctx, now, o);
	*ret = conf_to_string(now);
	if (model)
		*model = now;
	else
		json_object_put(now);
	return *ret ? 0 : -ENOMEM;
}

/*
 * --atomic: put back the configuration saved before the run. The snapshot is the live
 * model; the way back is the plan from what is live now to it (deleted objects are made
 * again from their saved form: creation parameters, serial, attributes, ALUA groups,
 * LUNs, ACLs, CHAP, mapped LUNs), then the result is compared with the snapshot.
 */
static void rollback(struct plan *p)
{
	struct conf_opts o = *p->opts;
	struct plan rb = { .ctx = p->ctx, .opts = &o, .rep = p->rep, .rollback = true };
	struct json_object *now = NULL, *want = NULL;
	char *before = NULL, *after = NULL;
	size_t failed = 0;
	int r;

	o.atomic = o.dry_run = o.clear_existing = false;
	o.plan_out = NULL;
	o.results = NULL;
	o.progress = false;
	o.allow_recreate = true;
	r = snapshot_string(p->ctx, &o, &after, &now);
	if (r == 0)
		r = json_object_deep_copy(p->snapshot, &want, NULL) < 0 ? -ENOMEM : 0;
	if (r == 0) {
		filter_scope(p->ctx, want, &o);
		before = conf_to_string(want);
		plan_cache = json_object_new_object();
		r = plan_all(&rb, want, now);
		json_object_put(plan_cache);
		plan_cache = NULL;
	}
	if (r < 0) {
		conf_report_add(p->rep, CONF_ERR, "", "rollback impossible: %s", strerror(-r));
		goto out;
	}
	if (rb.n)
		qsort(rb.v, rb.n, sizeof(*rb.v), cmp_action);
	for (size_t i = 0; i < rb.n; i++) {
		struct action *a = &rb.v[i];
		size_t errs = p->rep->n_err;

		if (exec_action(&rb, a) == 0 && p->rep->n_err == errs) {
			conf_report_add(p->rep, CONF_INFO, a->path, "rolled back: %s", a->what);
		} else {
			conf_report_add(p->rep, CONF_ERR, a->path, "rollback step failed: %s",
					a->what);
			failed++;
		}
	}
	free(after);
	after = NULL;
	if (snapshot_string(p->ctx, &o, &after, NULL) == 0 && before &&
	    strcmp(before, after) == 0)
		conf_report_add(p->rep, CONF_INFO, "",
				"rolled back: the configuration is as it was before (%zu step(s))",
				rb.n);
	else
		conf_report_add(p->rep, CONF_ERR, "",
				"rollback incomplete: the configuration differs from before%s",
				failed ? " (failed steps above)" : "");
out:
	plan_free(&rb);
	json_object_put(now);
	json_object_put(want);
	free(before);
	free(after);
}

static int run_plan(struct plan *p, struct json_object *have, size_t *n_actions)
{
	size_t failed = 0, refuse;
	bool tty = p->opts->progress;
	int r = 0;

	if (p->n)
		qsort(p->v, p->n, sizeof(*p->v), cmp_action);
	if (n_actions)
		*n_actions = p->n;
	refuse = precheck(p, have);
	if (p->opts->dry_run || refuse) {
		for (size_t i = 0; i < p->n; i++)
			note(p, &p->v[i], p->opts->dry_run ? "planned" : "skipped");
		if (refuse)
			conf_report_add(p->rep, CONF_ERR, "",
					"%s: %zu problem(s) found before running, nothing %s",
					p->opts->dry_run ? "the plan would be refused" :
							   "plan refused",
					refuse, p->opts->dry_run ? "would change" : "changed");
		return refuse ? -ECANCELED : 0;
	}
	r = rts_ctx_lock(p->ctx);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n; i++) {
		struct action *a = &p->v[i];
		size_t errs = p->rep->n_err;

		if (tty && (i % 16 == 0 || i + 1 == p->n))
			fprintf(stderr, "\r[%zu/%zu] %s", i + 1, p->n, i + 1 == p->n ? "\n" : "");
		p->skipped = false;
		r = exec_action(p, a);
		if (r == 0 && p->rep->n_err == errs) {
			a->done = true;
			a->state = AS_DONE;
			note(p, a, "done");
			if (!is_bulk_or_setting(a->kind))
				conf_report_add(p->rep, CONF_OK, a->path, "%s", a->what);
			continue;
		}
		a->done = r == 0;
		a->state = p->skipped ? AS_SKIPPED : AS_FAILED;
		note(p, a, p->skipped ? "skipped" : "failed");
		failed++;
		if (p->opts->atomic) {
			conf_report_add(p->rep, CONF_ERR, a->path,
					"aborting (--atomic), rolling back every change");
			for (size_t j = i + 1; j < p->n; j++) {
				p->v[j].state = AS_SKIPPED;
				note(p, &p->v[j], "skipped");
			}
			if (p->snapshot)
				rollback(p);
			rts_ctx_unlock(p->ctx);
			return -ECANCELED;
		}
	}
	rts_ctx_unlock(p->ctx);
	return failed ? 1 : 0;
}

int conf_apply(struct rts_ctx *ctx, struct json_object *root, const struct conf_opts *opts,
	       struct conf_report *rep, size_t *n_actions)
{
	struct plan p = { .ctx = ctx, .opts = opts, .rep = rep };
	struct json_object *have = NULL, *want = NULL;
	int r;

	r = rts_ctx_lock(ctx);
	if (r < 0)
		return r;
	r = rts_ctx_refresh(ctx);
	if (r == 0)
		r = conf_dump(ctx, &have, rep);
	if (r == 0 && opts->atomic)
		r = json_object_deep_copy(have, &p.snapshot, NULL) < 0 ? -ENOMEM : 0;
	if (r == 0)
		r = json_object_deep_copy(root, &want, NULL) < 0 ? -ENOMEM : 0;
	if (r == 0) {
		filter_scope(ctx, want, opts);
		filter_scope(ctx, have, opts);
		plan_cache = json_object_new_object();
		r = plan_all(&p, want, have);
		json_object_put(plan_cache);
		plan_cache = NULL;
	}
	if (r == 0)
		r = run_plan(&p, have, n_actions);
	rts_ctx_unlock(ctx);
	plan_free(&p);
	json_object_put(p.snapshot);
	json_object_put(have);
	json_object_put(want);
	return r;
}

int conf_clear(struct rts_ctx *ctx, const struct conf_opts *opts, struct conf_report *rep)
{
	struct rts_fabric *f;
	struct rts_so *so, *next;
	bool failed = false;
	char path[600];
	int r;

	r = rts_ctx_lock(ctx);
	if (r < 0)
		return r;
	rts_for_each_fabric(ctx, f) {
		struct rts_target *t, *tn;

		if (!rts_fabric_is_loaded(f))
			continue;
		for (t = rts_target_first(f); t; t = tn) {
			tn = rts_target_next(t);
			if (!selected_target(opts, rts_target_get_wwn(t)))
				continue;
			pfmt(path, sizeof(path), "/%s/%s", rts_fabric_get_name(f),
			     rts_target_get_wwn(t));
			r = rts_target_delete(t);
			if (r < 0) {
				conf_report_add(rep, CONF_ERR, path, "delete failed: %s",
						rts_ctx_last_error(ctx)->message);
				failed = true;
			} else {
				conf_report_add(rep, CONF_OK, path, "deleted");
			}
		}
		if (!opts->target && !opts->storage_object &&
		    (rts_fabric_get_features(f) & RTS_FEAT_DISCOVERY_AUTH)) {
			bool en = false;
			struct rts_chap c;

			if (rts_fabric_get_discovery_auth(f, &en, &c) == 0 &&
			    (en || *c.userid || *c.password || *c.mutual_userid ||
			     *c.mutual_password)) {
				struct rts_chap empty = { 0 };

				pfmt(path, sizeof(path), "/%s", rts_fabric_get_name(f));
				if (rts_fabric_set_discovery_auth(f, false, &empty) < 0) {
					conf_report_add(rep, CONF_ERR, path,
							"cannot clear discovery auth: %s",
							rts_ctx_last_error(ctx)->message);
					failed = true;
				}
			}
		}
	}
	for (so = rts_so_first(ctx); so; so = next) {
		next = rts_so_next(so);
		if (!selected_so(opts, rts_so_get_name(so)))
			continue;
		pfmt(path, sizeof(path), "/backstores/%s/%s", rtslib_plugin[rts_so_get_plugin(so)],
		     rts_so_get_name(so));
		r = rts_so_delete(so);
		if (r < 0) {
			conf_report_add(rep, CONF_ERR, path, "delete failed: %s",
					rts_ctx_last_error(ctx)->message);
			failed = true;
		} else {
			conf_report_add(rep, CONF_OK, path, "deleted");
		}
	}
	rts_ctx_unlock(ctx);
	return failed ? 1 : 0;
}

int conf_restore(struct rts_ctx *ctx, struct json_object *root, const struct conf_opts *opts,
		 struct conf_report *rep)
{
	struct plan p = { .ctx = ctx, .opts = opts, .rep = rep, .restore = true };
	struct json_object *have = NULL, *want = NULL;
	size_t conflicts = 0;
	int r, cr = 0;

	r = rts_ctx_lock(ctx);
	if (r < 0)
		return r;
	r = rts_ctx_refresh(ctx);
	if (r < 0)
		goto out;
	if (opts->atomic) {
		/* everything --atomic may have to put back, and what it could not */
		size_t refuse = 0;

		r = conf_dump(ctx, &p.snapshot, rep);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < jlen(root, "storage_objects"); i++) {
			struct json_object *w = jidx(root, "storage_objects", i);
			char path[600], *why;
			enum rts_plugin pl;

			if (!jstr(w, "name") || plugin_of(w, &pl) < 0 ||
			    !selected_so(opts, jstr(w, "name")))
				continue;
			pfmt(path, sizeof(path), "/backstores/%s/%s", rtslib_plugin[pl],
			     jstr(w, "name"));
			why = conf_so_problem(w, p.snapshot, opts->check_devices, rep, path);
			if (why) {
				conf_report_add(rep, CONF_ERR, path, "create: %s", why);
				refuse++;
			}
			free(why);
		}
		for (size_t i = 0; opts->clear_existing && i < jlen(p.snapshot, "storage_objects");
		     i++) {
			struct json_object *h = jidx(p.snapshot, "storage_objects", i);
			enum rts_plugin pl;

			if (!jstr(h, "name") || !selected_so(opts, jstr(h, "name")) ||
			    !ramdisk_holds_data(h) || plugin_of(h, &pl) < 0)
				continue;
			conf_report_add(
				rep, CONF_ERR, "",
				"/backstores/ramdisk/%s: clearing a ramdisk loses its data: --atomic could not undo it",
				jstr(h, "name"));
			refuse++;
		}
		if (refuse) {
			conf_report_add(rep, CONF_ERR, "",
					"restore refused (--atomic): %zu problem(s) found before "
					"running, nothing changed",
					refuse);
			r = -ECANCELED;
			goto out;
		}
	}
	if (opts->clear_existing) {
		cr = conf_clear(ctx, opts, rep);
		if (cr < 0) {
			r = cr;
			goto out;
		}
	}
	r = conf_dump(ctx, &have, rep);
	if (r == 0)
		r = json_object_deep_copy(root, &want, NULL) < 0 ? -ENOMEM : 0;
	if (r < 0)
		goto out;
	filter_scope(ctx, want, opts);
	plan_cache = json_object_new_object();
	/* rtslib refuses to restore over existing objects of the file */
	for (size_t i = 0; i < jlen(want, "storage_objects"); i++) {
		struct json_object *w = jidx(want, "storage_objects", i);
		enum rts_plugin pl;

		if (!jstr(w, "name") || plugin_of(w, &pl) < 0 ||
		    !selected_so(opts, jstr(w, "name")))
			continue;
		if (find_so(have, pl, jstr(w, "name"))) {
			conf_report_add(
				rep, CONF_ERR, "",
				"storage object /backstores/%s/%s exists, not restoring (use --clear-existing or apply)",
				rtslib_plugin[pl], jstr(w, "name"));
			conflicts++;
		}
	}
	for (size_t i = 0; i < jlen(want, "targets"); i++) {
		struct json_object *w = jidx(want, "targets", i);
		char n[RTS_WWN_MAX + 1];

		if (!jstr(w, "fabric"))
			continue;
		norm_wwn(ctx, jstr(w, "fabric"), jstr(w, "wwn"), n, sizeof(n));
		if (selected_target(opts, n) && find_target(ctx, have, jstr(w, "fabric"), n)) {
			conf_report_add(
				rep, CONF_ERR, "",
				"target /%s/%s exists, not restoring (use --clear-existing or apply)",
				jstr(w, "fabric"), n);
			conflicts++;
		}
	}
	if (conflicts) {
		r = -EEXIST;
		goto out;
	}
	r = plan_all(&p, want, have);
	json_object_put(plan_cache);
	plan_cache = NULL;
	if (r == 0)
		r = run_plan(&p, have, NULL);
	if (r == 0 && cr == 1)
		r = 1;
out:
	json_object_put(plan_cache);
	plan_cache = NULL;
	rts_ctx_unlock(ctx);
	plan_free(&p);
	json_object_put(p.snapshot);
	json_object_put(have);
	json_object_put(want);
	return r;
}
