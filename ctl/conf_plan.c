/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Planning: the desired model and a dump of the live tree are compared object by object
 * (keys: plugin+name, fabric+WWN, TPG tag, LUN index, ip+port, initiator WWN, mapped LUN
 * index) into actions tagged with a dependency phase. Restore plans never delete.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_plan.h"

#define RTS_VALUE_PAGE 4096 /* largest configfs attribute value */

const char *const rtslib_plugin[RTS_PLUGIN_MAX] = {
	[RTS_PLUGIN_FILEIO] = "fileio", [RTS_PLUGIN_BLOCK] = "block",
	[RTS_PLUGIN_PSCSI] = "pscsi",	[RTS_PLUGIN_RAMDISK] = "ramdisk",
	[RTS_PLUGIN_USER] = "user",
};

struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t jint(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

bool jbool(struct json_object *o, const char *key, bool def)
{
	struct json_object *v = jget(o, key);

	if (!v || json_object_is_type(v, json_type_null))
		return def;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_int64(v) != 0;
	return json_object_get_boolean(v);
}

size_t jlen(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
}

struct json_object *jidx(struct json_object *o, const char *key, size_t i)
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

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].value);
		free(p->v[i].old);
		free(p->v[i].problem);
	}
	free(p->v);
}

int cmp_action(const void *a, const void *b)
{
	const struct action *x = a, *y = b;

	/* pure deletions last: whatever can fail while creating or setting fails first */
	if (x->late != y->late)
		return x->late ? 1 : -1;
	if (x->phase != y->phase)
		return x->phase < y->phase ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ------------------------------------------------------------------ keys */

int plugin_of(struct json_object *so, enum rts_plugin *pl)
{
	const char *s = jstr(so, "plugin");

	return s ? rts_plugin_from_name(s, pl) : -EINVAL;
}

/*
 * Lookups by key during planning go through per-array indexes built on first use, so a
 * plan is O(objects), not O(objects^2). Only valid while planning (arrays do not change);
 * the planner is single-threaded like the librts context it works on.
 */
struct json_object *plan_cache;

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

struct json_object *find_so(struct json_object *root, enum rts_plugin pl, const char *name)
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

int parse_so_ref(const char *ref, enum rts_plugin *pl, char *name, size_t size)
{
	char plugin[64], n[RTS_NAME_MAX + 1];

	if (!ref || sscanf(ref, "/backstores/%63[^/]/%255[^/]", plugin, n) != 2)
		return -EINVAL;
	if (rts_plugin_from_name(plugin, pl) < 0)
		return -EINVAL;
	snprintf(name, size, "%s", n);
	return 0;
}

void norm_wwn(struct rts_ctx *ctx, const char *fabric, const char *wwn, char *buf, size_t size)
{
	struct rts_fabric *f;

	if (!wwn)
		wwn = "";
	if (rts_fabric_lookup(ctx, fabric, &f) < 0 ||
	    rts_fabric_normalize_wwn(f, wwn, buf, size) < 0)
		snprintf(buf, size, "%s", wwn);
}

struct json_object *find_target(struct rts_ctx *ctx, struct json_object *root, const char *fabric,
				const char *wwn)
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

				pfmt(k, sizeof(k), "%" PRId64,
				     strcmp(key, "tag") == 0 ? tpg_tag(x, i) : jint(x, key, -1));
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

/* A deletion of what the file no longer has: planned late, after everything it may hold. */
static void add_late_delete(struct plan *p, enum act kind, enum phase ph, const char *path,
			    const struct ids *id)
{
	struct action *a = add(p, kind, ph, path, "delete");

	set_ids(a, id);
	if (a)
		a->late = true;
}

/* The ids and configfs-like path of target @wwn of @fabric. */
static void target_ids(struct ids *id, char *path, size_t len, const char *fabric, const char *wwn)
{
	*id = (struct ids){ 0 };
	pfmt(id->fabric, sizeof(id->fabric), "%s", fabric);
	pfmt(id->wwn, sizeof(id->wwn), "%s", wwn);
	pfmt(path, len, "/%s/%s", fabric, wwn);
}

/* Differing attributes of an existing object: one action each. */
static void plan_attr_diff(struct plan *p, enum act kind, enum phase ph, const char *path,
			   struct json_object *want, struct json_object *have, enum rts_group g,
			   const struct ids *id, const struct action *proto)
{
	/* two configfs pages on the heap: keeps the frame small for every compiler */
	char *val, *old;

	if (!want)
		return;
	val = malloc(RTS_VALUE_PAGE);
	old = malloc(RTS_VALUE_PAGE);
	if (!val || !old)
		goto out;
	json_object_object_foreach(want, k, v)
	{
		struct json_object *h = jget(have, k);
		struct action *a;

		old[0] = '\0';
		if (conf_attr_is_readonly(k) || same_value(v, h) ||
		    json_object_is_type(v, json_type_null))
			continue;
		if (conf_value_string(v, val, RTS_VALUE_PAGE) < 0)
			continue;
		if (h)
			conf_value_string(h, old, RTS_VALUE_PAGE);
		a = add(p, kind, ph, path, "set %s %s=%s%s%s%s",
			g == RTS_GROUP_PARAM ? "parameter" : "attribute", k, val, h ? " (was " : "",
			h ? old : "", h ? ")" : "");
		if (!a)
			break;
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
out:
	free(val);
	free(old);
}

const char *const chap_keys[4] = { "userid", "password", "mutual_userid", "mutual_password" };
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
		/* an empty string is the kernel's "not set": equal to an absent value */
		if (strcmp(w ? w : "", h ? h : "") == 0)
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

const char *const alua_params[] = {
	"alua_access_state",
	"alua_access_status",
	"alua_write_metadata",
	"alua_access_type",
	"preferred",
	"nonop_delay_msecs",
	"trans_delay_msecs",
	"implicit_trans_secs",
	"alua_support_offline",
	"alua_support_standby",
	"alua_support_transitioning",
	"alua_support_active_nonoptimized",
	"alua_support_unavailable",
	"alua_support_active_optimized",
	NULL,
};

/*
 * Fields given to the create call: a difference means delete + create. The unit serial
 * too: the kernel refuses to change it while LUNs export the object.
 */
static bool so_create_params_differ(struct json_object *w, struct json_object *h)
{
	static const char *const keys[] = { "dev",    "size", "readonly", "nullio",
					    "config", "wwn",  NULL };

	for (size_t i = 0; keys[i]; i++) {
		struct json_object *a = jget(w, keys[i]), *b = jget(h, keys[i]);

		if (!a || json_object_is_type(a, json_type_null) ||
		    (!strcmp(keys[i], "wwn") && (!jstr(w, "wwn") || !*jstr(w, "wwn"))))
			continue;
		/* booleans: the kernel's default (false) equals an absent value */
		if (!strcmp(keys[i], "readonly") || !strcmp(keys[i], "nullio")) {
			if (jbool(w, keys[i], false) != jbool(h, keys[i], false))
				return true;
			continue;
		}
		if (!same_value(a, b))
			return true;
	}
	return false;
}

/* LUNs of the live model @p have exporting storage object @p ref ("/backstores/P/N"). */
static unsigned int luns_using(struct json_object *have, const char *ref)
{
	unsigned int n = 0;

	for (size_t i = 0; i < jlen(have, "targets"); i++) {
		struct json_object *t = jidx(have, "targets", i);

		for (size_t j = 0; j < jlen(t, "tpgs"); j++) {
			struct json_object *g = jidx(t, "tpgs", j);

			for (size_t k = 0; k < jlen(g, "luns"); k++) {
				const char *so = jstr(jidx(g, "luns", k), "storage_object");

				n += so && !strcmp(so, ref);
			}
		}
	}
	return n;
}

bool selected_so(const struct conf_opts *o, const char *name)
{
	if (o->storage_object)
		return strcmp(o->storage_object, name) == 0;
	return !o->target;
}

bool selected_target(const struct conf_opts *o, const char *wwn)
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
		struct action *a =
			add(p, A_DEL_SO, P_DEL_SO, path,
			    w ? "delete (recreated: creation parameters differ)" : "delete");
		if (a) {
			a->plugin = pl;
			pfmt(a->so, sizeof(a->so), "%s", name);
			a->late = !w;
			a->recreate = w != NULL;
			a->in_use = luns_using(have, path);
			a->obj = h;
		}
		if (w)
			json_object_array_add(recreated, json_object_new_string(path));
	}
	for (size_t i = 0; i < jlen(want, "storage_objects"); i++) {
		struct json_object *w = jidx(want, "storage_objects", i), *h;
		enum rts_plugin pl;
		const char *name = jstr(w, "name");
		struct action proto = { 0 }, *a;
		struct json_object *live;
		bool is_new;

		if (!name || plugin_of(w, &pl) < 0 || !selected_so(p->opts, name))
			continue;
		pfmt(path, sizeof(path), "/backstores/%s/%s", rtslib_plugin[pl], name);
		h = live = find_so(have, pl, name);
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
			a->recreate = h != NULL;
			h = NULL;
		}
		if (is_new && live && jstr(live, "wwn") && *jstr(live, "wwn") &&
		    (!jstr(w, "wwn") || !*jstr(w, "wwn"))) {
			/* recreated without a serial in the file: keep the old one, initiators
			 * must not see a new disk */
			if ((a = add(p, A_SO_WWN, P_SO, path, "set wwn %s (kept)",
				     jstr(live, "wwn")))) {
				a->plugin = pl;
				pfmt(a->so, sizeof(a->so), "%s", name);
				a->value = strdup(jstr(live, "wwn"));
			}
		} else if (is_new && pl != RTS_PLUGIN_PSCSI && !p->rollback &&
			   (!jstr(w, "wwn") || !*jstr(w, "wwn"))) {
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
				a = add(p, A_SO_ATTRS, P_SO, path,
					"set attributes (%d given, differing ones written)",
					json_object_object_length(jget(w, "attributes")));
				if (a) {
					a->plugin = pl;
					a->obj = jget(w, "attributes");
					pfmt(a->so, sizeof(a->so), "%s", name);
				}
			} else {
				plan_attr_diff(p, A_SO_ATTR, P_SO, path, jget(w, "attributes"),
					       jget(h, "attributes"), RTS_GROUP_ATTRIB,
					       &(struct ids){ 0 }, &proto);
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
				a = add(p, A_NEW_ALUA, P_ALUA, gpath, "create tg_pt_gp_id=%" PRId64,
					jint(g, "tg_pt_gp_id", 0));
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
				struct json_object *wp = json_object_new_object(),
						   *hp = json_object_new_object();

				for (size_t k = 0; alua_params[k]; k++) {
					if (jget(g, alua_params[k]))
						json_object_object_add(
							wp, alua_params[k],
							json_object_get(jget(g, alua_params[k])));
					if (jget(hg, alua_params[k]))
						json_object_object_add(
							hp, alua_params[k],
							json_object_get(jget(hg, alua_params[k])));
				}
				plan_attr_diff(p, A_ALUA_ATTR, P_ALUA, gpath, wp, hp,
					       RTS_GROUP_NONE, &(struct ids){ 0 }, &proto);
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
		if (strcmp(json_object_get_string(json_object_array_get_idx(recreated, i)), ref) ==
		    0)
			return true;
	return false;
}

/* The alias is the name of the LUN's link: changing it means making the LUN again. */
static bool alias_changed(struct json_object *w, struct json_object *h)
{
	const char *a = jstr(w, "alias"), *b = jstr(h, "alias");

	return a && b && strcmp(a, b) != 0;
}

static bool lun_same(struct plan *p, struct json_object *w, struct json_object *h,
		     struct json_object *recreated)
{
	const char *a = jstr(w, "storage_object"), *b = jstr(h, "storage_object");

	if (!a || !b || strcmp(a, b) != 0 || ref_recreated(recreated, b))
		return false;
	return !(alias_changed(w, h) && p->opts->allow_recreate);
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
			pfmt(id->acl, sizeof(id->acl), "%s", n);
			add_late_delete(p, A_DEL_ACL, P_DEL_ACL, path, id);
			continue;
		}
		for (size_t j = 0; j < jlen(ha, "mapped_luns"); j++) {
			struct json_object *hm = jidx(ha, "mapped_luns", j), *wm;
			struct json_object *hl =
				find_by_int(h, "luns", "index", jint(hm, "tpg_lun", -1), NULL);
			struct json_object *wl =
				find_by_int(w, "luns", "index", jint(hm, "tpg_lun", -1), NULL);

			wm = find_by_int(wa, "mapped_luns", "index", jint(hm, "index", -1), NULL);
			if (wm && jint(wm, "tpg_lun", -1) == jint(hm, "tpg_lun", -2) && hl && wl &&
			    lun_same(p, wl, hl, recreated))
				continue;
			pfmt(mpath, sizeof(mpath), "%s/mapped_lun%" PRId64, path,
			     jint(hm, "index", 0));
			a = add(p, A_DEL_MLUN, P_DEL_MLUN, mpath, "delete");
			pfmt(id->acl, sizeof(id->acl), "%s", n);
			set_ids(a, id);
			if (a) {
				a->index = (uint64_t)jint(hm, "index", 0);
				a->late = !wm;
			}
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
				a = add(p, A_ACL_ATTRS, P_ACL, path,
					"set attributes (%d given, differing ones written)",
					json_object_object_length(jget(wa, "attributes")));
				set_ids(a, id);
				if (a)
					a->obj = jget(wa, "attributes");
			}
		} else {
			plan_attr_diff(p, A_ACL_ATTR, P_ACL, path, jget(wa, "attributes"),
				       jget(ha, "attributes"), RTS_GROUP_ATTRIB, id, NULL);
		}
		plan_chap(p, A_ACL_ATTR, P_ACL, path, wa, ha, id, is_new);
		if (jget(wa, "tag") && !same_value(jget(wa, "tag"), jget(ha, "tag")) &&
		    !(is_new && json_object_is_type(jget(wa, "tag"), json_type_null))) {
			a = add(p, A_ACL_TAG, P_ACL, path, "set tag %s",
				jstr(wa, "tag") ? jstr(wa, "tag") : "(none)");
			set_ids(a, id);
			if (a)
				a->value = jstr(wa, "tag") ? strdup(jstr(wa, "tag")) : NULL;
		}
		if (jget(wa, "tcq_depth") &&
		    !same_value(jget(wa, "tcq_depth"), jget(ha, "tcq_depth"))) {
			a = add(p, A_ACL_DEPTH, P_ACL, path, "set cmdsn_depth %" PRId64,
				jint(wa, "tcq_depth", 64));
			set_ids(a, id);
			if (a)
				a->index = (uint64_t)jint(wa, "tcq_depth", 64);
		}
		for (size_t j = 0; j < jlen(wa, "mapped_luns"); j++) {
			struct json_object *wm = jidx(wa, "mapped_luns", j), *hm = NULL;
			struct json_object *hl =
				h ? find_by_int(h, "luns", "index", jint(wm, "tpg_lun", -1), NULL) :
				    NULL;
			struct json_object *wl =
				find_by_int(w, "luns", "index", jint(wm, "tpg_lun", -1), NULL);

			if (ha) {
				hm = find_by_int(ha, "mapped_luns", "index", jint(wm, "index", -1),
						 NULL);
				if (hm && !(jint(wm, "tpg_lun", -1) == jint(hm, "tpg_lun", -2) &&
					    hl && wl && lun_same(p, wl, hl, recreated)))
					hm = NULL;
			}
			pfmt(mpath, sizeof(mpath), "%s/mapped_lun%" PRId64, path,
			     jint(wm, "index", 0));
			if (!hm) {
				a = add(p, A_NEW_MLUN, P_MLUN, mpath, "create -> lun%" PRId64 "%s",
					jint(wm, "tpg_lun", 0),
					jbool(wm, "write_protect", false) ? " (write protected)" :
									    "");
				set_ids(a, id);
				if (a) {
					a->index = (uint64_t)jint(wm, "index", 0);
					a->obj = wm;
				}
			} else if (jbool(wm, "write_protect", false) !=
				   jbool(hm, "write_protect", false)) {
				a = add(p, A_MLUN_WP, P_MLUN, mpath, "set write_protect=%d",
					jbool(wm, "write_protect", false));
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
			a = add(p, A_TPG_ATTRS, P_TPG, tpath,
				"set attributes (%d given, differing ones written)",
				json_object_object_length(jget(w, "attributes")));
			set_ids(a, id);
			if (a) {
				a->obj = jget(w, "attributes");
				a->group = RTS_GROUP_ATTRIB;
			}
		}
		if (jget(w, "parameters")) {
			a = add(p, A_TPG_ATTRS, P_TPG, tpath,
				"set parameters (%d given, differing ones written)",
				json_object_object_length(jget(w, "parameters")));
			set_ids(a, id);
			if (a) {
				a->obj = jget(w, "parameters");
				a->group = RTS_GROUP_PARAM;
			}
		}
	} else {
		plan_attr_diff(p, A_TPG_ATTR, P_TPG, tpath, jget(w, "attributes"),
			       jget(h, "attributes"), RTS_GROUP_ATTRIB, id, NULL);
		plan_attr_diff(p, A_TPG_ATTR, P_TPG, tpath, jget(w, "parameters"),
			       jget(h, "parameters"), RTS_GROUP_PARAM, id, NULL);
	}
	plan_chap(p, A_TPG_ATTR, P_TPG, tpath, w, h, id, is_new);
	{
		const char *wn = jstr(jget(w, "rtslib_c"), "nexus");
		const char *hn = jstr(jget(h, "rtslib_c"), "nexus");

		if ((wn && (!hn || strcmp(wn, hn) != 0)) || (is_new && !wn)) {
			a = add(p, A_TPG_NEXUS, P_TPG, tpath, "set nexus %s",
				wn ? wn : "(generated, if the fabric uses one)");
			set_ids(a, id);
			if (a)
				a->value = wn ? strdup(wn) : NULL;
		}
	}
	/* LUNs */
	for (size_t i = 0; !p->restore && h && i < jlen(h, "luns"); i++) {
		struct json_object *hl = jidx(h, "luns", i);
		struct json_object *wl =
			find_by_int(w, "luns", "index", jint(hl, "index", -1), NULL);

		pfmt(path, sizeof(path), "%s/luns/lun%" PRId64, tpath, jint(hl, "index", 0));
		if (wl && lun_same(p, wl, hl, recreated)) {
			if (alias_changed(wl, hl))
				conf_report_add(p->rep, CONF_WARN, path,
						"alias '%s' -> '%s' needs the LUN made again "
						"(its mapped LUNs too): use --recreate",
						jstr(hl, "alias"), jstr(wl, "alias"));
			continue;
		}
		a = add(p, A_DEL_LUN, P_DEL_LUN, path, "delete%s",
			!wl ? "" : alias_changed(wl, hl) ? " (alias changed)" :
							    " (storage object changed)");
		set_ids(a, id);
		if (a) {
			a->index = (uint64_t)jint(hl, "index", 0);
			a->late = !wl;
		}
	}
	for (size_t i = 0; i < jlen(w, "luns"); i++) {
		struct json_object *wl = jidx(w, "luns", i);
		struct json_object *hl =
			h ? find_by_int(h, "luns", "index", jint(wl, "index", -1), NULL) : NULL;
		const char *gp = jstr(wl, "alua_tg_pt_gp_name");

		pfmt(path, sizeof(path), "%s/luns/lun%" PRId64, tpath, jint(wl, "index", 0));
		if (hl && !lun_same(p, wl, hl, recreated))
			hl = NULL;
		if (!hl) {
			a = add(p, A_NEW_LUN, P_LUN, path, "create -> %s",
				jstr(wl, "storage_object"));
			set_ids(a, id);
			if (a) {
				a->index = (uint64_t)jint(wl, "index", 0);
				a->obj = wl;
			}
		}
		if (gp && ((!hl && strcmp(gp, "default_tg_pt_gp") != 0) ||
			   (hl && (!jstr(hl, "alua_tg_pt_gp_name") ||
				   strcmp(gp, jstr(hl, "alua_tg_pt_gp_name")) != 0)))) {
			a = add(p, A_LUN_ALUA, P_LUN, path, "set alua_tg_pt_gp %s", gp);
			set_ids(a, id);
			if (a) {
				a->index = (uint64_t)jint(wl, "index", 0);
				a->value = strdup(gp);
				a->old = hl && jstr(hl, "alua_tg_pt_gp_name") ?
						 strdup(jstr(hl, "alua_tg_pt_gp_name")) :
						 NULL;
			}
		}
	}
	/* portals */
	for (size_t i = 0; !p->restore && h && i < jlen(h, "portals"); i++) {
		struct json_object *hp = jidx(h, "portals", i);
		const char *addr = jstr(hp, "ip_address") ? jstr(hp, "ip_address") : "";
		char ip[64];

		portal_ip(addr, ip, sizeof(ip));
		if (find_portal(w, ip, jint(hp, "port", 0)))
			continue;
		pfmt(path, sizeof(path), "%s/portals/%s:%" PRId64, tpath, addr,
		     jint(hp, "port", 0));
		a = add(p, A_DEL_PORTAL, P_DEL_PORTAL, path, "delete");
		set_ids(a, id);
		if (a) {
			pfmt(a->ip, sizeof(a->ip), "%s", ip);
			a->port = (uint16_t)jint(hp, "port", 0);
		}
	}
	for (size_t i = 0; i < jlen(w, "portals"); i++) {
		struct json_object *wp = jidx(w, "portals", i), *hp;
		const char *addr = jstr(wp, "ip_address") ? jstr(wp, "ip_address") : "";
		char ip[64];

		portal_ip(addr, ip, sizeof(ip));
		hp = h ? find_portal(h, ip, jint(wp, "port", 0)) : NULL;
		pfmt(path, sizeof(path), "%s/portals/%s:%" PRId64, tpath, addr,
		     jint(wp, "port", 0));
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
		target_ids(&id, path, sizeof(path), fab, n);
		if (!wt) {
			add_late_delete(p, A_DEL_TARGET, P_DEL_TARGET, path, &id);
			continue;
		}
		for (size_t j = 0; j < jlen(ht, "tpgs"); j++) {
			int64_t tag = tpg_tag(jidx(ht, "tpgs", j), j);

			if (find_by_int(wt, "tpgs", "tag", tag, NULL))
				continue;
			id.tag = (uint16_t)tag;
			pfmt(tpath, sizeof(tpath), "%s/tpg%" PRId64, path, tag);
			add_late_delete(p, A_DEL_TPG, P_DEL_TPG, tpath, &id);
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
		target_ids(&id, path, sizeof(path), fab, n);
		if (!ht) {
			a = add(p, A_NEW_TARGET, P_TARGET, path, "create");
			set_ids(a, &id);
			if (jget(wt, "parameters")) {
				a = add(p, A_TARGET_PARAMS, P_TARGET, path,
					"set parameters (%d given, differing ones written)",
					json_object_object_length(jget(wt, "parameters")));
				set_ids(a, &id);
				if (a)
					a->obj = jget(wt, "parameters");
			}
		} else {
			plan_attr_diff(p, A_TARGET_PARAM, P_TARGET, path, jget(wt, "parameters"),
				       jget(ht, "parameters"), RTS_GROUP_PARAM, &id, NULL);
		}
		for (size_t j = 0; j < jlen(wt, "tpgs"); j++) {
			struct json_object *wg = jidx(wt, "tpgs", j);
			int64_t tag = tpg_tag(wg, j);
			struct json_object *hg = ht ? find_by_int(ht, "tpgs", "tag", tag, NULL) :
						      NULL;

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
		a = add(p, A_DISC_AUTH, P_FABRIC, path, "set discovery_auth enable=%d%s", we,
			w ? " with credentials" : "");
		if (a) {
			pfmt(a->fabric, sizeof(a->fabric), "%s", name);
			a->obj = w;
			a->flag = we;
		}
	}
}

void filter_scope(struct rts_ctx *ctx, struct json_object *model, const struct conf_opts *o)
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

static struct json_object *lu_gps_of(struct json_object *root)
{
	return jget(jget(root, "rtslib_c"), "lu_gps");
}

static struct json_object *find_lugp(struct json_object *arr, const char *name)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		const char *n = jstr(json_object_array_get_idx(arr, i), "name");

		if (n && !strcmp(n, name))
			return json_object_array_get_idx(arr, i);
	}
	return NULL;
}

/* storage object reference -> LU group name */
static struct json_object *membership(struct json_object *arr)
{
	struct json_object *m = json_object_new_object();

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *g = json_object_array_get_idx(arr, i);

		for (size_t k = 0; k < jlen(g, "members"); k++)
			json_object_object_add(m, json_object_get_string(jidx(g, "members", k)),
					       json_object_new_string(jstr(g, "name")));
	}
	return m;
}

static struct action *add_so_lugp(struct plan *p, const char *ref, const char *group,
				  const char *old)
{
	enum rts_plugin pl;
	char name[RTS_NAME_MAX + 1];
	struct action *a;

	if (parse_so_ref(ref, &pl, name, sizeof(name)) < 0)
		return NULL;
	a = add(p, A_SO_LUGP, P_ALUA, ref, "set lu_gp %s", group);
	if (a) {
		a->plugin = pl;
		pfmt(a->so, sizeof(a->so), "%s", name);
		a->value = strdup(group);
		a->old = old ? strdup(old) : NULL;
	}
	return a;
}

/* ALUA LU groups and memberships (rtslib_c.lu_gps); after storage objects exist. */
static void plan_lu_gps(struct plan *p, struct json_object *want, struct json_object *have,
			struct json_object *recreated)
{
	struct json_object *wl = lu_gps_of(want), *hl = lu_gps_of(have), *wm, *hm;
	char path[600];
	struct action *a;

	if (p->opts->target || p->opts->storage_object || (!wl && !hl))
		return;
	for (size_t i = 0; wl && i < json_object_array_length(wl); i++) {
		struct json_object *g = json_object_array_get_idx(wl, i), *h;
		const char *name = jstr(g, "name");

		if (!name)
			continue;
		h = find_lugp(hl, name);
		pfmt(path, sizeof(path), "/alua/lu_gps/%s", name);
		if (!h) {
			a = add(p, A_NEW_LUGP, P_ALUA, path, "create lu_gp_id=%" PRId64,
				jint(g, "lu_gp_id", 0));
			if (a) {
				pfmt(a->gp, sizeof(a->gp), "%s", name);
				a->index = (uint64_t)jint(g, "lu_gp_id", 0);
			}
		} else if (jint(g, "lu_gp_id", 0) != jint(h, "lu_gp_id", 0)) {
			a = add(p, A_LUGP_ID, P_ALUA, path,
				"set lu_gp_id=%" PRId64 " (was %" PRId64 ")",
				jint(g, "lu_gp_id", 0), jint(h, "lu_gp_id", 0));
			if (a) {
				pfmt(a->gp, sizeof(a->gp), "%s", name);
				if (asprintf(&a->value, "%" PRId64, jint(g, "lu_gp_id", 0)) < 0)
					a->value = NULL;
				if (asprintf(&a->old, "%" PRId64, jint(h, "lu_gp_id", 0)) < 0)
					a->old = NULL;
			}
		}
	}
	wm = membership(wl);
	hm = membership(hl);
	json_object_object_foreach(wm, ref, grp)
	{
		struct json_object *cur = NULL;
		const char *g = json_object_get_string(grp);

		json_object_object_get_ex(hm, ref, &cur);
		if (cur && !strcmp(json_object_get_string(cur), g) &&
		    !ref_recreated(recreated, ref))
			continue;
		add_so_lugp(p, ref, g, cur ? json_object_get_string(cur) : "default_lu_gp");
	}
	if (!p->restore) {
		json_object_object_foreach(hm, ref2, grp2)
		{
			enum rts_plugin pl;
			char name[RTS_NAME_MAX + 1];

			if (json_object_object_get_ex(wm, ref2, NULL) ||
			    parse_so_ref(ref2, &pl, name, sizeof(name)) < 0 ||
			    !find_so(want, pl, name) || ref_recreated(recreated, ref2))
				continue;
			add_so_lugp(p, ref2, "default_lu_gp", json_object_get_string(grp2));
		}
		for (size_t i = 0; hl && i < json_object_array_length(hl); i++) {
			const char *name = jstr(json_object_array_get_idx(hl, i), "name");

			if (!name || find_lugp(wl, name))
				continue;
			pfmt(path, sizeof(path), "/alua/lu_gps/%s", name);
			a = add(p, A_DEL_LUGP, P_DEL_ALUA, path, "delete");
			if (a)
				pfmt(a->gp, sizeof(a->gp), "%s", name);
		}
	}
	json_object_put(wm);
	json_object_put(hm);
}

int plan_all(struct plan *p, struct json_object *want, struct json_object *have)
{
	struct json_object *recreated = json_object_new_array();

	plan_storage(p, want, have, recreated);
	plan_lu_gps(p, want, have, recreated);
	plan_fabrics(p, want, have);
	plan_targets(p, want, have, recreated);
	json_object_put(recreated);
	return p->oom ? -ENOMEM : 0;
}
