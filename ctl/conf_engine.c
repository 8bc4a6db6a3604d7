/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Restore, apply and clear: the desired model and a dump of the live tree are compared
 * object by object (keys: plugin+name, fabric+WWN, TPG tag, LUN index, ip+port, initiator
 * WWN, mapped LUN index) into a plan of actions sorted by dependency phase, then the plan
 * is executed through librts with a per-object report. Restore is apply without deletions
 * on top of a tree that holds none of the file's objects.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

enum phase {
	P_DEL_MLUN, P_DEL_ACL, P_DEL_PORTAL, P_DEL_LUN, P_DEL_TPG, P_DEL_TARGET, P_DEL_SO,
	P_SO, P_ALUA, P_FABRIC, P_TARGET, P_TPG, P_LUN, P_PORTAL, P_ACL, P_MLUN, P_DEL_ALUA,
	P_ENABLE, P_MAX,
};

enum act {
	A_DEL_MLUN, A_DEL_ACL, A_DEL_PORTAL, A_DEL_LUN, A_DEL_TPG, A_DEL_TARGET, A_DEL_SO,
	A_DEL_ALUA,
	A_NEW_SO, A_SO_WWN, A_SO_ATTR, A_SO_ATTRS,
	A_NEW_ALUA, A_ALUA_ATTR, A_ALUA_ATTRS,
	A_DISC_AUTH,
	A_NEW_TARGET,
	A_NEW_TPG, A_TPG_ATTR, A_TPG_ATTRS, A_TPG_NEXUS,
	A_NEW_LUN, A_LUN_ALUA,
	A_NEW_PORTAL, A_PORTAL_TRANSPORT,
	A_NEW_ACL, A_ACL_ATTR, A_ACL_ATTRS, A_ACL_TAG, A_ACL_DEPTH,
	A_NEW_MLUN, A_MLUN_WP,
	A_TPG_ENABLE,
};

struct action {
	enum act kind;
	enum phase phase;
	size_t seq;
	char path[640];
	char what[384];
	/* identifiers, looked up at execution time */
	char fabric[64];
	char wwn[RTS_WWN_MAX + 1];
	uint16_t tag;
	uint64_t index;
	char acl[RTS_WWN_MAX + 1];
	char ip[64];
	uint16_t port;
	enum rts_plugin plugin;
	char so[RTS_NAME_MAX + 1];
	char gp[RTS_NAME_MAX + 1];
	enum rts_group group;
	char name[128];
	char *value, *old;
	bool flag;
	struct json_object *obj;
	/* state */
	bool done;
};

struct plan {
	struct action *v;
	size_t n, cap;
	struct rts_ctx *ctx;
	const struct conf_opts *opts;
	struct conf_report *rep;
	bool restore; /* no deletions */
	bool oom;
};

static const char *const rtslib_plugin[RTS_PLUGIN_MAX] = {
	[RTS_PLUGIN_FILEIO] = "fileio", [RTS_PLUGIN_BLOCK] = "block",
	[RTS_PLUGIN_PSCSI] = "pscsi",   [RTS_PLUGIN_RAMDISK] = "ramdisk",
	[RTS_PLUGIN_USER] = "user",
};

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static int64_t jint(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

static bool jbool(struct json_object *o, const char *key, bool def)
{
	struct json_object *v = jget(o, key);

	if (!v || json_object_is_type(v, json_type_null))
		return def;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v) != 0;
	return json_object_get_boolean(v);
}

static size_t jlen(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

static struct json_object *jidx(struct json_object *o, const char *key, size_t i)
{
	return json_object_array_get_idx(jget(o, key), i);
}

static struct action *add(struct plan *p, enum act kind, enum phase ph, const char *path,
			  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct action *add(struct plan *p, enum act kind, enum phase ph, const char *path,
			  const char *fmt, ...)
{
	struct action *a;
	va_list ap;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct action *v = realloc(p->v, cap * sizeof(*v));

		if (!v) {
			p->oom = true;
			return NULL;
		}
		p->v = v;
		p->cap = cap;
	}
	a = &p->v[p->n];
	*a = (struct action){ .kind = kind, .phase = ph, .seq = p->n };
	pfmt(a->path, sizeof(a->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(a->what, sizeof(a->what), fmt, ap);
	va_end(ap);
	p->n++;
	return a;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].value);
		free(p->v[i].old);
	}
	free(p->v);
}

static int cmp_action(const void *a, const void *b)
{
	const struct action *x = a, *y = b;

	if (x->phase != y->phase)
		return x->phase < y->phase ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ------------------------------------------------------------------ keys */

static int plugin_of(struct json_object *so, enum rts_plugin *pl)
{
	const char *s = jstr(so, "plugin");

	return s ? rts_plugin_from_name(s, pl) : -EINVAL;
}

/*
 * Lookups by key during planning go through per-array indexes built on first use, so a
 * plan is O(objects), not O(objects^2). Only valid while planning (arrays do not change);
 * the planner is single-threaded like the librts context it works on.
 */
static struct json_object *plan_cache;

static struct json_object *cached_index(struct json_object *array, const char *what, bool *fresh)
{
	char k[64];
	struct json_object *m;

	*fresh = false;
	if (!plan_cache || !array)
		return NULL;
	pfmt(k, sizeof(k), "%p/%s", (void *)array, what);
	if (json_object_object_get_ex(plan_cache, k, &m))
		return m;
	m = json_object_new_object();
	json_object_object_add(plan_cache, k, m);
	*fresh = true;
	return m;
}

static struct json_object *find_so(struct json_object *root, enum rts_plugin pl, const char *name)
{
	struct json_object *m, *hit;
	char k[RTS_NAME_MAX + 16];
	bool fresh;

	if ((m = cached_index(jget(root, "storage_objects"), "so", &fresh))) {
		for (size_t i = jlen(root, "storage_objects"); fresh && i-- > 0;) {
			struct json_object *so = jidx(root, "storage_objects", i);
			enum rts_plugin p2;

			if (jstr(so, "name") && plugin_of(so, &p2) == 0) {
				pfmt(k, sizeof(k), "%d/%s", (int)p2, jstr(so, "name"));
				json_object_object_add(m, k, json_object_get(so));
			}
		}
		pfmt(k, sizeof(k), "%d/%s", (int)pl, name);
		return json_object_object_get_ex(m, k, &hit) ? hit : NULL;
	}
	for (size_t i = 0; i < jlen(root, "storage_objects"); i++) {
		struct json_object *so = jidx(root, "storage_objects", i);
		enum rts_plugin p2;
		const char *n = jstr(so, "name");

		if (n && plugin_of(so, &p2) == 0 && p2 == pl && strcmp(n, name) == 0)
			return so;
	}
	return NULL;
}

static int parse_so_ref(const char *ref, enum rts_plugin *pl, char *name, size_t size)
{
	char plugin[64], n[RTS_NAME_MAX + 1];

	if (!ref || sscanf(ref, "/backstores/%63[^/]/%255[^/]", plugin, n) != 2)
		return -EINVAL;
	if (rts_plugin_from_name(plugin, pl) < 0)
		return -EINVAL;
	snprintf(name, size, "%s", n);
	return 0;
}

static void norm_wwn(struct rts_ctx *ctx, const char *fabric, const char *wwn, char *buf,
		     size_t size)
{
	struct rts_fabric *f;

	if (!wwn)
		wwn = "";
	if (rts_fabric_lookup(ctx, fabric, &f) < 0 || rts_fabric_normalize_wwn(f, wwn, buf, size) < 0)
		snprintf(buf, size, "%s", wwn);
}

static struct json_object *find_target(struct rts_ctx *ctx, struct json_object *root,
				       const char *fabric, const char *wwn)
{
	char n[RTS_WWN_MAX + 1];

	for (size_t i = 0; i < jlen(root, "targets"); i++) {
		struct json_object *t = jidx(root, "targets", i);
		const char *f = jstr(t, "fabric");

		if (!f || strcmp(f, fabric) != 0)
			continue;
		norm_wwn(ctx, fabric, jstr(t, "wwn"), n, sizeof(n));
		if (strcmp(n, wwn) == 0)
			return t;
	}
	return NULL;
}

static int64_t tpg_tag(struct json_object *tpg, size_t i)
{
	return jint(tpg, "tag", (int64_t)i + 1);
}

static struct json_object *find_by_int(struct json_object *o, const char *arr, const char *key,
				       int64_t val, size_t *pos)
{
	struct json_object *a = jget(o, arr), *m, *hit;
	char k[32];
	bool fresh;

	if (!pos && (m = cached_index(a, key, &fresh))) {
		if (fresh) {
			for (size_t i = jlen(o, arr); i-- > 0;) { /* first match wins */
				struct json_object *x = jidx(o, arr, i);

				pfmt(k, sizeof(k), "%" PRId64, strcmp(key, "tag") == 0 ? tpg_tag(x, i) : jint(x, key, -1));
				json_object_object_add(m, k, json_object_get(x));
			}
		}
		pfmt(k, sizeof(k), "%" PRId64, val);
		return json_object_object_get_ex(m, k, &hit) ? hit : NULL;
	}
	for (size_t i = 0; i < jlen(o, arr); i++) {
		struct json_object *x = jidx(o, arr, i);

		if ((strcmp(key, "tag") == 0 ? tpg_tag(x, i) : jint(x, key, -1)) == val) {
			if (pos)
				*pos = i;
			return x;
		}
	}
	return NULL;
}

static void portal_ip(const char *in, char *buf, size_t size)
{
	size_t n = strlen(in);

	if (n >= 2 && in[0] == '[' && in[n - 1] == ']')
		snprintf(buf, size, "%.*s", (int)(n - 2), in + 1);
	else
		snprintf(buf, size, "%s", in);
}

static struct json_object *find_portal(struct json_object *tpg, const char *ip, int64_t port)
{
	char b[64];

	for (size_t i = 0; i < jlen(tpg, "portals"); i++) {
		struct json_object *np = jidx(tpg, "portals", i);

		portal_ip(jstr(np, "ip_address") ? jstr(np, "ip_address") : "", b, sizeof(b));
		if (strcmp(b, ip) == 0 && jint(np, "port", 0) == port)
			return np;
	}
	return NULL;
}

static struct json_object *find_acl(struct rts_ctx *ctx, const char *fabric,
				    struct json_object *tpg, const char *wwn)
{
	char n[RTS_WWN_MAX + 1];
	struct json_object *m, *hit;
	bool fresh;

	if ((m = cached_index(jget(tpg, "node_acls"), "node_wwn", &fresh))) {
		for (size_t i = jlen(tpg, "node_acls"); fresh && i-- > 0;) {
			struct json_object *a = jidx(tpg, "node_acls", i);

			norm_wwn(ctx, fabric, jstr(a, "node_wwn"), n, sizeof(n));
			json_object_object_add(m, n, json_object_get(a));
		}
		return json_object_object_get_ex(m, wwn, &hit) ? hit : NULL;
	}
	for (size_t i = 0; i < jlen(tpg, "node_acls"); i++) {
		struct json_object *a = jidx(tpg, "node_acls", i);

		norm_wwn(ctx, fabric, jstr(a, "node_wwn"), n, sizeof(n));
		if (strcmp(n, wwn) == 0)
			return a;
	}
	return NULL;
}

static bool same_value(struct json_object *a, struct json_object *b)
{
	char x[4096], y[4096];

	if (!a || !b)
		return !a && !b;
	if (conf_value_string(a, x, sizeof(x)) < 0 || conf_value_string(b, y, sizeof(y)) < 0)
		return false;
	return strcmp(x, y) == 0;
}

/* ------------------------------------------------------------------ planning */

struct ids {
	char fabric[64];
	char wwn[RTS_WWN_MAX + 1];
	uint16_t tag;
	char acl[RTS_WWN_MAX + 1];
};

static void set_ids(struct action *a, const struct ids *id)
{
	if (!a)
		return;
	pfmt(a->fabric, sizeof(a->fabric), "%s", id->fabric);
	pfmt(a->wwn, sizeof(a->wwn), "%s", id->wwn);
	a->tag = id->tag;
	pfmt(a->acl, sizeof(a->acl), "%s", id->acl);
}

/* Differing attributes of an existing object: one action each. */
static void plan_attr_diff(struct plan *p, enum act kind, enum phase ph, const char *path,
			   struct json_object *want, struct json_object *have, enum rts_group g,
			   const struct ids *id, const struct action *proto)
{
	if (!want)
		return;
	json_object_object_foreach(want, k, v)
	{
		struct json_object *h = jget(have, k);
		char val[4096], old[4096] = "";
		struct action *a;

		if (conf_attr_is_readonly(k) || same_value(v, h) || json_object_is_type(v, json_type_null))
			continue;
		if (conf_value_string(v, val, sizeof(val)) < 0)
			continue;
		if (h)
			conf_value_string(h, old, sizeof(old));
		a = add(p, kind, ph, path, "set %s %s=%s%s%s%s", g == RTS_GROUP_PARAM ? "parameter" : "attribute", k, val, h ? " (was " : "", h ? old : "", h ? ")" : "");
		if (!a)
			return;
		if (proto) {
			a->plugin = proto->plugin;
			pfmt(a->so, sizeof(a->so), "%s", proto->so);
			pfmt(a->gp, sizeof(a->gp), "%s", proto->gp);
		}
		set_ids(a, id);
		a->group = g;
		pfmt(a->name, sizeof(a->name), "%s", k);
		a->value = strdup(val);
		a->old = h ? strdup(old) : NULL;
	}
}

static const char *const chap_keys[4] = { "userid", "password", "mutual_userid",
					  "mutual_password" };
static const char *const chap_files[4] = { "userid", "password", "userid_mutual",
					   "password_mutual" };

static void plan_chap(struct plan *p, enum act kind, enum phase ph, const char *path,
		      struct json_object *want, struct json_object *have, const struct ids *id,
		      bool is_new)
{
	for (int i = 0; i < 4; i++) {
		char key[64];
		const char *w, *h;
		struct action *a;

		pfmt(key, sizeof(key), "chap_%s", chap_keys[i]);
		w = jstr(want, key);
		h = jstr(have, key);
		if (!w && (is_new || !h))
			continue;
		if (w && h && strcmp(w, h) == 0)
			continue;
		a = add(p, kind, ph, path, "set auth %s", chap_files[i]);
		if (!a)
			return;
		set_ids(a, id);
		a->group = RTS_GROUP_AUTH;
		pfmt(a->name, sizeof(a->name), "%s", chap_files[i]);
		a->value = strdup(w ? w : "");
		a->old = h ? strdup(h) : strdup("");
	}
}

static const char *const alua_params[] = {
	"alua_access_state", "alua_access_status", "alua_write_metadata", "alua_access_type",
	"preferred", "nonop_delay_msecs", "trans_delay_msecs", "implicit_trans_secs",
	"alua_support_offline", "alua_support_standby", "alua_support_transitioning",
	"alua_support_active_nonoptimized", "alua_support_unavailable",
	"alua_support_active_optimized", NULL,
};

/* Fields given to the create call: a difference means delete + create. */
static bool so_create_params_differ(struct json_object *w, struct json_object *h)
{
	static const char *const keys[] = { "dev", "size", "readonly", "nullio", "config", NULL };

	for (size_t i = 0; keys[i]; i++) {
		struct json_object *a = jget(w, keys[i]), *b = jget(h, keys[i]);

		if (!a)
			continue;
		if (!same_value(a, b))
			return true;
	}
	return false;
}

static bool selected_so(const struct conf_opts *o, const char *name)
{
	if (o->storage_object)
		return strcmp(o->storage_object, name) == 0;
	return !o->target;
}

static bool selected_target(const struct conf_opts *o, const char *wwn)
{
	if (o->target)
		return strcmp(o->target, wwn) == 0;
	return !o->storage_object;
}

static void plan_storage(struct plan *p, struct json_object *want, struct json_object *have,
			 struct json_object *recreated)
{
	char path[600], gpath[900];

	/* deletions (live objects not wanted, or with different creation parameters) */
	for (size_t i = 0; i < jlen(have, "storage_objects"); i++) {
		struct json_object *h = jidx(have, "storage_objects", i), *w;
		enum rts_plugin pl;
		const char *name = jstr(h, "name");

		if (!name || plugin_of(h, &pl) < 0 || !selected_so(p->opts, name))
			continue;
		w = find_so(want, pl, name);
		pfmt(path, sizeof(path), "/backstores/%s/%s", rtslib_plugin[pl], name);
		if (w && !so_create_params_differ(w, h))
			continue;
		if (p->restore)
			continue;
		struct action *a = add(p, A_DEL_SO, P_DEL_SO, path, w ? "delete (recreated: creation parameters differ)" : "delete");
		if (a) {
			a->plugin = pl;
			pfmt(a->so, sizeof(a->so), "%s", name);
		}
		if (w)
			json_object_array_add(recreated, json_object_new_string(path));
	}
	for (size_t i = 0; i < jlen(want, "storage_objects"); i++) {
		struct json_object *w = jidx(want, "storage_objects", i), *h;
		enum rts_plugin pl;
		const char *name = jstr(w, "name");
		struct action proto = { 0 }, *a;
		bool is_new;

		if (!name || plugin_of(w, &pl) < 0 || !selected_so(p->opts, name))
			continue;
		pfmt(path, sizeof(path), "/backstores/%s/%s", rtslib_plugin[pl], name);
		h = find_so(have, pl, name);
		is_new = !h || so_create_params_differ(w, h);
		proto.plugin = pl;
		pfmt(proto.so, sizeof(proto.so), "%s", name);
		if (is_new) {
			a = add(p, A_NEW_SO, P_SO, path, "create");
			if (!a)
				return;
			a->plugin = pl;
			pfmt(a->so, sizeof(a->so), "%s", name);
			a->obj = w;
			h = NULL;
		}
		if (is_new && pl != RTS_PLUGIN_PSCSI && (!jstr(w, "wwn") || !*jstr(w, "wwn"))) {
			/* rtslib generates a unit serial when the file has none */
			char gen[64];

			if (rts_wwn_generate(RTS_WWN_UNIT_SERIAL, gen, sizeof(gen)) == 0 &&
			    (a = add(p, A_SO_WWN, P_SO, path, "set wwn (generated)"))) {
				a->plugin = pl;
				pfmt(a->so, sizeof(a->so), "%s", name);
				a->value = strdup(gen);
			}
		}
		if (jstr(w, "wwn") && *jstr(w, "wwn") &&
		    (!h || !jstr(h, "wwn") || strcmp(jstr(w, "wwn"), jstr(h, "wwn")) != 0)) {
			a = add(p, A_SO_WWN, P_SO, path, "set wwn %s", jstr(w, "wwn"));
			if (a) {
				a->plugin = pl;
				pfmt(a->so, sizeof(a->so), "%s", name);
				a->value = strdup(jstr(w, "wwn"));
				a->old = h && jstr(h, "wwn") ? strdup(jstr(h, "wwn")) : NULL;
			}
		}
		if (jget(w, "attributes")) {
			if (is_new) {
				a = add(p, A_SO_ATTRS, P_SO, path, "set attributes (%d given, differing ones written)",
					json_object_object_length(jget(w, "attributes")));
				if (a) {
					*a = (struct action){ .kind = a->kind, .phase = a->phase, .seq = a->seq, .plugin = pl, .obj = jget(w, "attributes") };
					pfmt(a->path, sizeof(a->path), "%s", path);
					pfmt(a->what, sizeof(a->what), "set attributes (%d given, differing ones written)", json_object_object_length(jget(w, "attributes")));
					pfmt(a->so, sizeof(a->so), "%s", name);
				}
			} else {
				plan_attr_diff(p, A_SO_ATTR, P_SO, path, jget(w, "attributes"), jget(h, "attributes"), RTS_GROUP_ATTRIB, &(struct ids){ 0 }, &proto);
			}
		}
		/* ALUA groups */
		for (size_t j = 0; j < jlen(w, "alua_tpgs"); j++) {
			struct json_object *g = jidx(w, "alua_tpgs", j), *hg = NULL;
			const char *gn = jstr(g, "name");

			if (!gn)
				continue;
			for (size_t k = 0; h && k < jlen(h, "alua_tpgs"); k++) {
				const char *n2 = jstr(jidx(h, "alua_tpgs", k), "name");

				if (n2 && strcmp(n2, gn) == 0)
					hg = jidx(h, "alua_tpgs", k);
			}
			pfmt(gpath, sizeof(gpath), "%s/alua/%s", path, gn);
			pfmt(proto.gp, sizeof(proto.gp), "%s", gn);
			if (!hg && strcmp(gn, "default_tg_pt_gp") != 0) {
				a = add(p, A_NEW_ALUA, P_ALUA, gpath, "create tg_pt_gp_id=%" PRId64, jint(g, "tg_pt_gp_id", 0));
				if (!a)
					return;
				a->plugin = pl;
				pfmt(a->so, sizeof(a->so), "%s", name);
				pfmt(a->gp, sizeof(a->gp), "%s", gn);
				a->index = (uint64_t)jint(g, "tg_pt_gp_id", 0);
			}
			if (!hg) {
				a = add(p, A_ALUA_ATTRS, P_ALUA, gpath, "set ALUA parameters");
				if (!a)
					return;
				a->plugin = pl;
				pfmt(a->so, sizeof(a->so), "%s", name);
				pfmt(a->gp, sizeof(a->gp), "%s", gn);
				a->obj = g;
			} else {
				struct json_object *wp = json_object_new_object(), *hp = json_object_new_object();

				for (size_t k = 0; alua_params[k]; k++) {
					if (jget(g, alua_params[k]))
						json_object_object_add(wp, alua_params[k], json_object_get(jget(g, alua_params[k])));
					if (jget(hg, alua_params[k]))
						json_object_object_add(hp, alua_params[k], json_object_get(jget(hg, alua_params[k])));
				}
				plan_attr_diff(p, A_ALUA_ATTR, P_ALUA, gpath, wp, hp, RTS_GROUP_NONE, &(struct ids){ 0 }, &proto);
				json_object_put(wp);
				json_object_put(hp);
			}
		}
		for (size_t k = 0; !p->restore && h && k < jlen(h, "alua_tpgs"); k++) {
			const char *n2 = jstr(jidx(h, "alua_tpgs", k), "name");
			bool found = false;

			for (size_t j = 0; n2 && j < jlen(w, "alua_tpgs"); j++) {
				const char *gn = jstr(jidx(w, "alua_tpgs", j), "name");

				found |= gn && strcmp(gn, n2) == 0;
			}
			if (!n2 || found || strcmp(n2, "default_tg_pt_gp") == 0)
				continue;
			pfmt(gpath, sizeof(gpath), "%s/alua/%s", path, n2);
			a = add(p, A_DEL_ALUA, P_DEL_ALUA, gpath, "delete");
			if (a) {
				a->plugin = pl;
				pfmt(a->so, sizeof(a->so), "%s", name);
				pfmt(a->gp, sizeof(a->gp), "%s", n2);
			}
		}
	}
}

static bool ref_recreated(struct json_object *recreated, const char *ref)
{
	for (size_t i = 0; ref && i < json_object_array_length(recreated); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(recreated, i)), ref) == 0)
			return true;
	return false;
}

static bool lun_same(struct json_object *w, struct json_object *h, struct json_object *recreated)
{
	const char *a = jstr(w, "storage_object"), *b = jstr(h, "storage_object");

	return a && b && strcmp(a, b) == 0 && !ref_recreated(recreated, b);
}

static void plan_acls(struct plan *p, struct json_object *w, struct json_object *h,
		      const char *tpath, struct ids *id, struct json_object *recreated)
{
	char path[900], mpath[1000], n[RTS_WWN_MAX + 1];
	struct action *a;

	for (size_t i = 0; !p->restore && h && i < jlen(h, "node_acls"); i++) {
		struct json_object *ha = jidx(h, "node_acls", i), *wa;

		norm_wwn(p->ctx, id->fabric, jstr(ha, "node_wwn"), n, sizeof(n));
		wa = w ? find_acl(p->ctx, id->fabric, w, n) : NULL;
		pfmt(path, sizeof(path), "%s/acls/%s", tpath, n);
		if (!wa) {
			a = add(p, A_DEL_ACL, P_DEL_ACL, path, "delete");
			pfmt(id->acl, sizeof(id->acl), "%s", n);
			set_ids(a, id);
			continue;
		}
		for (size_t j = 0; j < jlen(ha, "mapped_luns"); j++) {
			struct json_object *hm = jidx(ha, "mapped_luns", j), *wm;
			struct json_object *hl = find_by_int(h, "luns", "index", jint(hm, "tpg_lun", -1), NULL);
			struct json_object *wl = find_by_int(w, "luns", "index", jint(hm, "tpg_lun", -1), NULL);

			wm = find_by_int(wa, "mapped_luns", "index", jint(hm, "index", -1), NULL);
			if (wm && jint(wm, "tpg_lun", -1) == jint(hm, "tpg_lun", -2) && hl && wl &&
			    lun_same(wl, hl, recreated))
				continue;
			pfmt(mpath, sizeof(mpath), "%s/mapped_lun%" PRId64, path, jint(hm, "index", 0));
			a = add(p, A_DEL_MLUN, P_DEL_MLUN, mpath, "delete");
			pfmt(id->acl, sizeof(id->acl), "%s", n);
			set_ids(a, id);
			if (a)
				a->index = (uint64_t)jint(hm, "index", 0);
		}
	}
	for (size_t i = 0; w && i < jlen(w, "node_acls"); i++) {
		struct json_object *wa = jidx(w, "node_acls", i), *ha;
		bool is_new;

		norm_wwn(p->ctx, id->fabric, jstr(wa, "node_wwn"), n, sizeof(n));
		ha = h ? find_acl(p->ctx, id->fabric, h, n) : NULL;
		is_new = !ha;
		pfmt(id->acl, sizeof(id->acl), "%s", n);
		pfmt(path, sizeof(path), "%s/acls/%s", tpath, n);
		if (is_new) {
			a = add(p, A_NEW_ACL, P_ACL, path, "create");
			set_ids(a, id);
			if (jget(wa, "attributes")) {
				a = add(p, A_ACL_ATTRS, P_ACL, path, "set attributes (%d given, differing ones written)", json_object_object_length(jget(wa, "attributes")));
				set_ids(a, id);
				if (a)
					a->obj = jget(wa, "attributes");
			}
		} else {
			plan_attr_diff(p, A_ACL_ATTR, P_ACL, path, jget(wa, "attributes"), jget(ha, "attributes"), RTS_GROUP_ATTRIB, id, NULL);
		}
		plan_chap(p, A_ACL_ATTR, P_ACL, path, wa, ha, id, is_new);
		if (jget(wa, "tag") && !same_value(jget(wa, "tag"), jget(ha, "tag")) &&
		    !(is_new && json_object_is_type(jget(wa, "tag"), json_type_null))) {
			a = add(p, A_ACL_TAG, P_ACL, path, "set tag %s", jstr(wa, "tag") ? jstr(wa, "tag") : "(none)");
			set_ids(a, id);
			if (a)
				a->value = jstr(wa, "tag") ? strdup(jstr(wa, "tag")) : NULL;
		}
		if (jget(wa, "tcq_depth") && !same_value(jget(wa, "tcq_depth"), jget(ha, "tcq_depth"))) {
			a = add(p, A_ACL_DEPTH, P_ACL, path, "set cmdsn_depth %" PRId64, jint(wa, "tcq_depth", 64));
			set_ids(a, id);
			if (a)
				a->index = (uint64_t)jint(wa, "tcq_depth", 64);
		}
		for (size_t j = 0; j < jlen(wa, "mapped_luns"); j++) {
			struct json_object *wm = jidx(wa, "mapped_luns", j), *hm = NULL;
			struct json_object *hl = h ? find_by_int(h, "luns", "index", jint(wm, "tpg_lun", -1), NULL) : NULL;
			struct json_object *wl = find_by_int(w, "luns", "index", jint(wm, "tpg_lun", -1), NULL);

			if (ha) {
				hm = find_by_int(ha, "mapped_luns", "index", jint(wm, "index", -1), NULL);
				if (hm && !(jint(wm, "tpg_lun", -1) == jint(hm, "tpg_lun", -2) && hl && wl &&
					    lun_same(wl, hl, recreated)))
					hm = NULL;
			}
			pfmt(mpath, sizeof(mpath), "%s/mapped_lun%" PRId64, path, jint(wm, "index", 0));
			if (!hm) {
				a = add(p, A_NEW_MLUN, P_MLUN, mpath, "create -> lun%" PRId64 "%s", jint(wm, "tpg_lun", 0), jbool(wm, "write_protect", false) ? " (write protected)" : "");
				set_ids(a, id);
				if (a) {
					a->index = (uint64_t)jint(wm, "index", 0);
					a->obj = wm;
				}
			} else if (jbool(wm, "write_protect", false) != jbool(hm, "write_protect", false)) {
				a = add(p, A_MLUN_WP, P_MLUN, mpath, "set write_protect=%d", jbool(wm, "write_protect", false));
				set_ids(a, id);
				if (a) {
					a->index = (uint64_t)jint(wm, "index", 0);
					a->flag = jbool(wm, "write_protect", false);
				}
			}
		}
	}
	id->acl[0] = '\0';
}

static void plan_tpg(struct plan *p, struct json_object *w, struct json_object *h,
		     const char *tpath, struct ids *id, struct json_object *recreated)
{
	char path[900];
	struct action *a;
	bool is_new = !h;

	if (is_new) {
		a = add(p, A_NEW_TPG, P_TPG, tpath, "create");
		set_ids(a, id);
	}
	if (is_new) {
		if (jget(w, "attributes")) {
			a = add(p, A_TPG_ATTRS, P_TPG, tpath, "set attributes (%d given, differing ones written)", json_object_object_length(jget(w, "attributes")));
			set_ids(a, id);
			if (a) {
				a->obj = jget(w, "attributes");
				a->group = RTS_GROUP_ATTRIB;
			}
		}
		if (jget(w, "parameters")) {
			a = add(p, A_TPG_ATTRS, P_TPG, tpath, "set parameters (%d given, differing ones written)", json_object_object_length(jget(w, "parameters")));
			set_ids(a, id);
			if (a) {
				a->obj = jget(w, "parameters");
				a->group = RTS_GROUP_PARAM;
			}
		}
	} else {
		plan_attr_diff(p, A_TPG_ATTR, P_TPG, tpath, jget(w, "attributes"), jget(h, "attributes"), RTS_GROUP_ATTRIB, id, NULL);
		plan_attr_diff(p, A_TPG_ATTR, P_TPG, tpath, jget(w, "parameters"), jget(h, "parameters"), RTS_GROUP_PARAM, id, NULL);
	}
	plan_chap(p, A_TPG_ATTR, P_TPG, tpath, w, h, id, is_new);
	{
		const char *wn = jstr(jget(w, "rtslib_c"), "nexus");
		const char *hn = jstr(jget(h, "rtslib_c"), "nexus");

		if ((wn && (!hn || strcmp(wn, hn) != 0)) || (is_new && !wn)) {
			a = add(p, A_TPG_NEXUS, P_TPG, tpath, "set nexus %s", wn ? wn : "(generated, if the fabric uses one)");
			set_ids(a, id);
			if (a)
				a->value = wn ? strdup(wn) : NULL;
		}
	}
	/* LUNs */
	for (size_t i = 0; !p->restore && h && i < jlen(h, "luns"); i++) {
		struct json_object *hl = jidx(h, "luns", i);
		struct json_object *wl = find_by_int(w, "luns", "index", jint(hl, "index", -1), NULL);

		if (wl && lun_same(wl, hl, recreated))
			continue;
		pfmt(path, sizeof(path), "%s/luns/lun%" PRId64, tpath, jint(hl, "index", 0));
		a = add(p, A_DEL_LUN, P_DEL_LUN, path, "delete%s", wl ? " (storage object changed)" : "");
		set_ids(a, id);
		if (a)
			a->index = (uint64_t)jint(hl, "index", 0);
	}
	for (size_t i = 0; i < jlen(w, "luns"); i++) {
		struct json_object *wl = jidx(w, "luns", i);
		struct json_object *hl = h ? find_by_int(h, "luns", "index", jint(wl, "index", -1), NULL) : NULL;
		const char *gp = jstr(wl, "alua_tg_pt_gp_name");

		pfmt(path, sizeof(path), "%s/luns/lun%" PRId64, tpath, jint(wl, "index", 0));
		if (hl && !lun_same(wl, hl, recreated))
			hl = NULL;
		if (!hl) {
			a = add(p, A_NEW_LUN, P_LUN, path, "create -> %s", jstr(wl, "storage_object"));
			set_ids(a, id);
			if (a) {
				a->index = (uint64_t)jint(wl, "index", 0);
				a->obj = wl;
			}
		}
		if (gp && ((!hl && strcmp(gp, "default_tg_pt_gp") != 0) ||
			   (hl && (!jstr(hl, "alua_tg_pt_gp_name") || strcmp(gp, jstr(hl, "alua_tg_pt_gp_name")) != 0)))) {
			a = add(p, A_LUN_ALUA, P_LUN, path, "set alua_tg_pt_gp %s", gp);
			set_ids(a, id);
			if (a) {
				a->index = (uint64_t)jint(wl, "index", 0);
				a->value = strdup(gp);
				a->old = hl && jstr(hl, "alua_tg_pt_gp_name") ? strdup(jstr(hl, "alua_tg_pt_gp_name")) : NULL;
			}
		}
	}
	/* portals */
	for (size_t i = 0; !p->restore && h && i < jlen(h, "portals"); i++) {
		struct json_object *hp = jidx(h, "portals", i);
		char ip[64];

		portal_ip(jstr(hp, "ip_address") ? jstr(hp, "ip_address") : "", ip, sizeof(ip));
		if (find_portal(w, ip, jint(hp, "port", 0)))
			continue;
		pfmt(path, sizeof(path), "%s/portals/%s:%" PRId64, tpath, jstr(hp, "ip_address"), jint(hp, "port", 0));
		a = add(p, A_DEL_PORTAL, P_DEL_PORTAL, path, "delete");
		set_ids(a, id);
		if (a) {
			pfmt(a->ip, sizeof(a->ip), "%s", ip);
			a->port = (uint16_t)jint(hp, "port", 0);
		}
	}
	for (size_t i = 0; i < jlen(w, "portals"); i++) {
		struct json_object *wp = jidx(w, "portals", i), *hp;
		char ip[64];

		portal_ip(jstr(wp, "ip_address") ? jstr(wp, "ip_address") : "", ip, sizeof(ip));
		hp = h ? find_portal(h, ip, jint(wp, "port", 0)) : NULL;
		pfmt(path, sizeof(path), "%s/portals/%s:%" PRId64, tpath, jstr(wp, "ip_address"), jint(wp, "port", 0));
		if (!hp) {
			a = add(p, A_NEW_PORTAL, P_PORTAL, path, "create");
			set_ids(a, id);
			if (a) {
				pfmt(a->ip, sizeof(a->ip), "%s", ip);
				a->port = (uint16_t)jint(wp, "port", 0);
			}
		}
		for (int t = 0; t < 2; t++) {
			const char *key = t ? "offload" : "iser";
			bool want = jbool(wp, key, false), have = jbool(hp, key, false);

			if (want == have)
				continue;
			a = add(p, A_PORTAL_TRANSPORT, P_PORTAL, path, "set %s=%d", key, want);
			set_ids(a, id);
			if (a) {
				pfmt(a->ip, sizeof(a->ip), "%s", ip);
				a->port = (uint16_t)jint(wp, "port", 0);
				pfmt(a->name, sizeof(a->name), "%s", t ? "cxgbit" : "iser");
				a->flag = want;
			}
		}
	}
	plan_acls(p, w, h, tpath, id, recreated);
	{
		bool we = jbool(w, "enable", true), he = h ? jbool(h, "enable", true) : !we;

		if (we != he || (is_new && we)) {
			a = add(p, A_TPG_ENABLE, P_ENABLE, tpath, "%s", we ? "enable" : "disable");
			set_ids(a, id);
			if (a)
				a->flag = we;
		}
	}
}

static void plan_targets(struct plan *p, struct json_object *want, struct json_object *have,
			 struct json_object *recreated)
{
	char path[600], tpath[700], n[RTS_WWN_MAX + 1];
	struct ids id;
	struct action *a;

	for (size_t i = 0; !p->restore && i < jlen(have, "targets"); i++) {
		struct json_object *ht = jidx(have, "targets", i), *wt;
		const char *fab = jstr(ht, "fabric");

		if (!fab)
			continue;
		norm_wwn(p->ctx, fab, jstr(ht, "wwn"), n, sizeof(n));
		if (!selected_target(p->opts, n))
			continue;
		wt = find_target(p->ctx, want, fab, n);
		id = (struct ids){ 0 };
		pfmt(id.fabric, sizeof(id.fabric), "%s", fab);
		pfmt(id.wwn, sizeof(id.wwn), "%s", n);
		pfmt(path, sizeof(path), "/%s/%s", fab, n);
		if (!wt) {
			a = add(p, A_DEL_TARGET, P_DEL_TARGET, path, "delete");
			set_ids(a, &id);
			continue;
		}
		for (size_t j = 0; j < jlen(ht, "tpgs"); j++) {
			int64_t tag = tpg_tag(jidx(ht, "tpgs", j), j);

			if (find_by_int(wt, "tpgs", "tag", tag, NULL))
				continue;
			id.tag = (uint16_t)tag;
			pfmt(tpath, sizeof(tpath), "%s/tpg%" PRId64, path, tag);
			a = add(p, A_DEL_TPG, P_DEL_TPG, tpath, "delete");
			set_ids(a, &id);
		}
	}
	for (size_t i = 0; i < jlen(want, "targets"); i++) {
		struct json_object *wt = jidx(want, "targets", i), *ht;
		const char *fab = jstr(wt, "fabric");

		if (!fab)
			continue;
		norm_wwn(p->ctx, fab, jstr(wt, "wwn"), n, sizeof(n));
		if (!selected_target(p->opts, n) && !selected_target(p->opts, jstr(wt, "wwn")))
			continue;
		ht = find_target(p->ctx, have, fab, n);
		id = (struct ids){ 0 };
		pfmt(id.fabric, sizeof(id.fabric), "%s", fab);
		pfmt(id.wwn, sizeof(id.wwn), "%s", n);
		pfmt(path, sizeof(path), "/%s/%s", fab, n);
		if (!ht) {
			a = add(p, A_NEW_TARGET, P_TARGET, path, "create");
			set_ids(a, &id);
		}
		for (size_t j = 0; j < jlen(wt, "tpgs"); j++) {
			struct json_object *wg = jidx(wt, "tpgs", j);
			int64_t tag = tpg_tag(wg, j);
			struct json_object *hg = ht ? find_by_int(ht, "tpgs", "tag", tag, NULL) : NULL;

			id.tag = (uint16_t)tag;
			pfmt(tpath, sizeof(tpath), "%s/tpg%" PRId64, path, tag);
			plan_tpg(p, wg, hg, tpath, &id, recreated);
		}
	}
}

static void plan_fabrics(struct plan *p, struct json_object *want, struct json_object *have)
{
	char path[128];
	struct rts_fabric *f;

	if (p->opts->target || p->opts->storage_object)
		return;
	rts_for_each_fabric(p->ctx, f) {
		struct json_object *w = NULL, *h = NULL;
		const char *name = rts_fabric_get_name(f);
		bool we, he, differ = false;
		struct action *a;

		if (!(rts_fabric_get_features(f) & RTS_FEAT_DISCOVERY_AUTH))
			continue;
		for (size_t i = 0; i < jlen(want, "fabric_modules"); i++)
			if (jstr(jidx(want, "fabric_modules", i), "name") &&
			    strcmp(jstr(jidx(want, "fabric_modules", i), "name"), name) == 0)
				w = jidx(want, "fabric_modules", i);
		for (size_t i = 0; i < jlen(have, "fabric_modules"); i++)
			if (jstr(jidx(have, "fabric_modules", i), "name") &&
			    strcmp(jstr(jidx(have, "fabric_modules", i), "name"), name) == 0)
				h = jidx(have, "fabric_modules", i);
		if (!w && (p->restore || !h))
			continue;
		we = jbool(w, "discovery_enable_auth", w != NULL);
		he = jbool(h, "discovery_enable_auth", false);
		for (int i = 0; i < 4 && w; i++) {
			char key[64];
			const char *a1, *b1;

			pfmt(key, sizeof(key), "discovery_%s", chap_keys[i]);
			a1 = jstr(w, key);
			b1 = jstr(h, key);
			differ |= (a1 ? a1 : "")[0] != '\0' && strcmp(a1, b1 ? b1 : "") != 0;
		}
		if (we == he && !differ)
			continue;
		pfmt(path, sizeof(path), "/%s", name);
		a = add(p, A_DISC_AUTH, P_FABRIC, path, "set discovery_auth enable=%d%s", we, w ? " with credentials" : "");
		if (a) {
			pfmt(a->fabric, sizeof(a->fabric), "%s", name);
			a->obj = w;
			a->flag = we;
		}
	}
}

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

	if (r < 0)
		conf_report_add(p->rep, CONF_ERR, a->path, "skipped: storage object %s/%s missing",
				rtslib_plugin[a->plugin], a->so);
	return r;
}

static int get_target(struct plan *p, struct action *a, struct rts_target **t)
{
	struct rts_fabric *f;
	int r = rts_fabric_lookup(p->ctx, a->fabric, &f);

	if (r == 0)
		r = rts_target_lookup(f, a->wwn, t);
	if (r < 0)
		conf_report_add(p->rep, CONF_ERR, a->path, "skipped: target %s missing", a->wwn);
	return r;
}

static int get_tpg(struct plan *p, struct action *a, struct rts_tpg **tpg)
{
	struct rts_target *t;
	int r = get_target(p, a, &t);

	if (r < 0)
		return r;
	r = rts_tpg_lookup(t, a->tag, tpg);
	if (r < 0)
		conf_report_add(p->rep, CONF_ERR, a->path, "skipped: TPG %u missing", a->tag);
	return r;
}

static int get_acl(struct plan *p, struct action *a, struct rts_acl **acl)
{
	struct rts_tpg *tpg;
	int r = get_tpg(p, a, &tpg);

	if (r < 0)
		return r;
	r = rts_acl_lookup(tpg, a->acl, acl);
	if (r < 0)
		conf_report_add(p->rep, CONF_ERR, a->path, "skipped: node ACL %s missing", a->acl);
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

		if (json_object_is_type(v, json_type_null) || conf_value_string(v, val, sizeof(val)) < 0)
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
	static const char *const types[] = { "None", "Implicit", "Explicit", "Implicit and Explicit",
					     NULL };
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
				      RTS_FILEIO_SPARSE | (jbool(o, "write_back", false) ? RTS_FILEIO_WRITE_BACK : 0), &so);
		if (r == 0 && jbool(o, "aio", false))
			conf_report_add(p->rep, CONF_WARN, a->path,
					"aio=true not supported by librts's fileio create, created with buffered/sync I/O");
		break;
	case RTS_PLUGIN_BLOCK:
		r = rts_block_create(p->ctx, a->so, dev, jbool(o, "readonly", false) ? RTS_BLOCK_READONLY : 0, &so);
		if (r == 0 && jbool(o, "write_back", false))
			r = rts_so_set_attr(so, RTS_GROUP_ATTRIB, "emulate_write_cache", "1");
		break;
	case RTS_PLUGIN_PSCSI:
		r = rts_pscsi_create(p->ctx, a->so, dev, &so);
		break;
	case RTS_PLUGIN_RAMDISK:
		r = rts_ramdisk_create(p->ctx, a->so, size, jbool(o, "nullio", false) ? RTS_RAMDISK_NULLIO : 0, &so);
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
static int set_mlun_alias(struct plan *p, struct rts_acl *acl, struct rts_mapped_lun *m,
			  const char *alias)
{
	struct rts_backend *be = rts_ctx_get_backend(p->ctx);
	struct rts_lun *lun = rts_mapped_lun_get_lun(m);
	char dir[1024], link[1400], **names = NULL;
	int r;

	if (!lun || rts_name_validate(alias, NULL) < 0)
		return -EINVAL;
	pfmt(dir, sizeof(dir), "%s/lun_%" PRIu64, rts_acl_get_path(acl), rts_mapped_lun_get_index(m));
	r = conf_list_dir(p->ctx, dir, RTS_FT_LINK, &names);
	if (r < 0)
		return r;
	if (names[0] && strcmp(names[0], alias) != 0) {
		pfmt(link, sizeof(link), "%s/%s", dir, names[0]);
		r = rts_ctx_lock(p->ctx);
		if (r == 0) {
			r = rts_backend_unlink(be, link);
			pfmt(link, sizeof(link), "%s/%s", dir, alias);
			if (r == 0)
				r = rts_backend_symlink(be, rts_lun_get_path(lun), link);
			if (r < 0) { /* put the generated one back */
				pfmt(link, sizeof(link), "%s/%s", dir, names[0]);
				rts_backend_symlink(be, rts_lun_get_path(lun), link);
			}
			rts_ctx_unlock(p->ctx);
		}
	}
	conf_strv_free(names);
	return r;
}

static int exec_action(struct plan *p, struct action *a)
{
	struct rts_so *so;
	struct rts_alua_tpg *gp;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_portal *np;
	struct rts_acl *acl;
	struct rts_mapped_lun *m;
	struct rts_fabric *f;
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
					json_object_object_add(params, alua_params[i], json_object_get(jget(a->obj, alua_params[i])));
			r = set_all(p, a, gp, params, RTS_GROUP_NONE, alua_get, alua_set);
			json_object_put(params);
			return r;
		}
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
			snprintf(dst[i], RTS_CHAP_MAX + 1, "%s", jstr(a->obj, key) ? jstr(a->obj, key) : "");
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
		if (!(rts_fabric_get_features(rts_target_get_fabric(rts_tpg_get_target(tpg))) & RTS_FEAT_NEXUS))
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
	case A_NEW_LUN: {
		enum rts_plugin pl;
		char name[RTS_NAME_MAX + 1];
		const char *alias = jstr(a->obj, "alias");

		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		if (parse_so_ref(jstr(a->obj, "storage_object"), &pl, name, sizeof(name)) < 0 ||
		    rts_so_lookup(p->ctx, pl, name, &so) < 0) {
			conf_report_add(p->rep, CONF_ERR, a->path, "skipped: storage object %s missing",
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
			conf_report_add(p->rep, CONF_ERR, a->path, "skipped: TPG LUN %" PRId64 " missing",
					jint(a->obj, "tpg_lun", 0));
			return r;
		}
		r = rts_mapped_lun_create(acl, a->index, lun, jbool(a->obj, "write_protect", false), &m);
		if (r < 0)
			return fail(p, a, r, "create");
		if (alias && set_mlun_alias(p, acl, m, alias) < 0)
			conf_report_add(p->rep, CONF_WARN, a->path, "cannot keep alias '%s'", alias);
		return 0;
	}
	case A_MLUN_WP:
		if ((r = get_acl(p, a, &acl)) < 0)
			return r;
		r = rts_mapped_lun_lookup(acl, a->index, &m);
		if (r == 0)
			r = rts_mapped_lun_set_write_protect(m, a->flag);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	case A_TPG_ENABLE: {
		bool cur = !a->flag;

		if ((r = get_tpg(p, a, &tpg)) < 0)
			return r;
		if (rts_tpg_get_enable(tpg, &cur) == 0 && cur == a->flag)
			return 0;
		r = rts_tpg_set_enable(tpg, a->flag);
		return r < 0 ? fail(p, a, r, a->what) : 0;
	}
	}
	return -EINVAL;
}

/* Undo an executed action (atomic mode): delete what was created, restore old values. */
static void undo_action(struct plan *p, struct action *a)
{
	struct action u = *a;
	struct conf_report quiet;
	struct conf_report *saved = p->rep;

	conf_report_init(&quiet);
	p->rep = &quiet;
	u.value = a->old;
	switch (a->kind) {
	case A_NEW_SO:
		u.kind = A_DEL_SO;
		break;
	case A_NEW_ALUA:
		u.kind = A_DEL_ALUA;
		break;
	case A_NEW_TARGET:
		u.kind = A_DEL_TARGET;
		break;
	case A_NEW_TPG:
		u.kind = A_DEL_TPG;
		break;
	case A_NEW_LUN:
		u.kind = A_DEL_LUN;
		break;
	case A_NEW_PORTAL:
		u.kind = A_DEL_PORTAL;
		break;
	case A_NEW_ACL:
		u.kind = A_DEL_ACL;
		break;
	case A_NEW_MLUN:
		u.kind = A_DEL_MLUN;
		break;
	case A_MLUN_WP:
	case A_PORTAL_TRANSPORT:
	case A_TPG_ENABLE:
		u.flag = !a->flag;
		break;
	case A_SO_WWN:
	case A_SO_ATTR:
	case A_ALUA_ATTR:
	case A_TPG_ATTR:
	case A_ACL_ATTR:
	case A_LUN_ALUA:
		if (!a->old)
			goto out;
		break;
	default:
		goto out; /* deletions and bulk settings cannot be undone */
	}
	exec_action(p, &u);
out:
	p->rep = saved;
	if (quiet.n_err)
		conf_report_add(p->rep, CONF_WARN, a->path, "rollback incomplete: %s", quiet.v[0].text);
	else
		conf_report_add(p->rep, CONF_INFO, a->path, "rolled back (%s)", a->what);
	conf_report_free(&quiet);
}

static bool is_bulk_or_setting(enum act k)
{
	return k != A_NEW_SO && k != A_NEW_ALUA && k != A_NEW_TARGET && k != A_NEW_TPG &&
	       k != A_NEW_LUN && k != A_NEW_PORTAL && k != A_NEW_ACL && k != A_NEW_MLUN;
}

static int run_plan(struct plan *p, size_t *n_actions)
{
	size_t failed = 0;
	bool tty = p->opts->progress;
	int r = 0;

	if (p->n)
		qsort(p->v, p->n, sizeof(*p->v), cmp_action);
	if (n_actions)
		*n_actions = p->n;
	if (p->opts->dry_run) {
		for (size_t i = 0; i < p->n && p->opts->plan_out; i++)
			fprintf(p->opts->plan_out, "%s %s\n", p->v[i].path, p->v[i].what);
		return 0;
	}
	r = rts_ctx_lock(p->ctx);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n; i++) {
		struct action *a = &p->v[i];
		size_t errs = p->rep->n_err;

		if (tty && (i % 16 == 0 || i + 1 == p->n))
			fprintf(stderr, "\r[%zu/%zu] %s", i + 1, p->n, i + 1 == p->n ? "\n" : "");
		if (p->opts->plan_out)
			fprintf(p->opts->plan_out, "%s %s\n", a->path, a->what);
		r = exec_action(p, a);
		if (r == 0 && p->rep->n_err == errs) {
			a->done = true;
			if (!is_bulk_or_setting(a->kind))
				conf_report_add(p->rep, CONF_OK, a->path, "%s", a->what);
			continue;
		}
		a->done = r == 0;
		failed++;
		if (p->opts->atomic) {
			conf_report_add(p->rep, CONF_ERR, a->path, "aborting (--atomic), rolling back");
			for (size_t j = i + 1; j-- > 0;)
				if (p->v[j].done)
					undo_action(p, &p->v[j]);
			rts_ctx_unlock(p->ctx);
			return -ECANCELED;
		}
	}
	rts_ctx_unlock(p->ctx);
	return failed ? 1 : 0;
}

static void filter_scope(struct rts_ctx *ctx, struct json_object *model,
			 const struct conf_opts *o)
{
	struct json_object *arr;

	(void)ctx;
	if (!o->target && !o->storage_object)
		return;
	if (o->target && (arr = jget(model, "storage_objects")))
		json_object_array_del_idx(arr, 0, json_object_array_length(arr));
	if (o->storage_object && (arr = jget(model, "targets")))
		json_object_array_del_idx(arr, 0, json_object_array_length(arr));
}

static int plan_all(struct plan *p, struct json_object *want, struct json_object *have)
{
	struct json_object *recreated = json_object_new_array();

	plan_storage(p, want, have, recreated);
	plan_fabrics(p, want, have);
	plan_targets(p, want, have, recreated);
	json_object_put(recreated);
	return p->oom ? -ENOMEM : 0;
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
		r = run_plan(&p, n_actions);
	rts_ctx_unlock(ctx);
	plan_free(&p);
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
			pfmt(path, sizeof(path), "/%s/%s", rts_fabric_get_name(f), rts_target_get_wwn(t));
			r = rts_target_delete(t);
			if (r < 0) {
				conf_report_add(rep, CONF_ERR, path, "delete failed: %s", rts_ctx_last_error(ctx)->message);
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
			    (en || *c.userid || *c.password || *c.mutual_userid || *c.mutual_password)) {
				struct rts_chap empty = { 0 };

				pfmt(path, sizeof(path), "/%s", rts_fabric_get_name(f));
				if (rts_fabric_set_discovery_auth(f, false, &empty) < 0) {
					conf_report_add(rep, CONF_ERR, path, "cannot clear discovery auth: %s", rts_ctx_last_error(ctx)->message);
					failed = true;
				}
			}
		}
	}
	for (so = rts_so_first(ctx); so; so = next) {
		next = rts_so_next(so);
		if (!selected_so(opts, rts_so_get_name(so)))
			continue;
		pfmt(path, sizeof(path), "/backstores/%s/%s", rtslib_plugin[rts_so_get_plugin(so)], rts_so_get_name(so));
		r = rts_so_delete(so);
		if (r < 0) {
			conf_report_add(rep, CONF_ERR, path, "delete failed: %s", rts_ctx_last_error(ctx)->message);
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

		if (!jstr(w, "name") || plugin_of(w, &pl) < 0 || !selected_so(opts, jstr(w, "name")))
			continue;
		if (find_so(have, pl, jstr(w, "name"))) {
			conf_report_add(rep, CONF_ERR, "", "storage object /backstores/%s/%s exists, not restoring (use --clear-existing or apply)",
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
			conf_report_add(rep, CONF_ERR, "", "target /%s/%s exists, not restoring (use --clear-existing or apply)",
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
		r = run_plan(&p, NULL);
	if (r == 0 && cr == 1)
		r = 1;
out:
	json_object_put(plan_cache);
	plan_cache = NULL;
	rts_ctx_unlock(ctx);
	plan_free(&p);
	json_object_put(have);
	json_object_put(want);
	return r;
}
