/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Dump the live librts tree into the saveconfig model, field for field what rtslib's
 * dump() methods write (root.py, tcm.py, alua.py, target.py, fabric.py, node.py), plus the
 * extension fields documented in conf.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

/*
 * attrib/ and param/ files rtslib does not dump or restore. rtslib lists them by file mode
 * (node.py _list_files: writable and readable only); librts's backend shows no modes, so this
 * is the 6.1 kernel's list (target_core_configfs.c, target_core_user.c), checked against the
 * real captures in tests/fixtures/configfs/ by test_ctl_conf (test_readonly_matches_kernel):
 * every 0444 attrib/ file there is listed, every rw one is not. ACL param/ files (all 0444
 * on the kernel) are never dumped. alua_support and pgr_support are rw (0644) since 5.x:
 * rtslib dumps them and writing back the current value is accepted by every backend.
 * alua_support_lba_dependent is 0644 too but rtslib's alua.py treats it read-only
 * (alua_ro_params), so we do as well.
 */
static const char *const ro_attrs[] = {
	"hw_block_size",
	"hw_max_sectors",
	"hw_queue_depth",
	"hw_pi_prot_type",
	/* TCMU (user backstore) settings fixed by the "control" string at creation */
	"cmd_ring_size_mb",
	"data_pages_per_blk",
	"max_data_area_mb",
	/* outside attrib/ and param/, but read-only where they appear (auth/, TPG dir) */
	"authenticate_target",
	"dynamic_sessions",
	"alua_support_lba_dependent",
	NULL,
};

bool conf_attr_is_readonly(const char *name)
{
	for (size_t i = 0; ro_attrs[i]; i++)
		if (strcmp(ro_attrs[i], name) == 0)
			return true;
	return false;
}

int conf_attr_check(enum conf_obj kind, const char *name, const char *value, char *why,
		    size_t size)
{
	static const enum rts_attr_obj map[] = { [CONF_OBJ_SO] = RTS_ATTR_SO,
						 [CONF_OBJ_TPG] = RTS_ATTR_ISCSI_TPG,
						 [CONF_OBJ_ACL] = RTS_ATTR_ISCSI_ACL };

	if (conf_attr_is_readonly(name)) {
		snprintf(why, size, "read-only");
		return -EROFS;
	}
	return rts_attr_check(map[kind], name, value, why, size);
}

void conf_strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

struct list_ctx {
	char **v;
	size_t n, cap;
	int type;
	bool oom;
};

static int list_cb(void *userdata, const char *name, enum rts_ftype type)
{
	struct list_ctx *l = userdata;

	if (l->type && (int)type != l->type)
		return 0;
	if (l->n + 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			l->oom = true;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(name);
	if (!l->v[l->n]) {
		l->oom = true;
		return 1;
	}
	l->v[++l->n] = NULL;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int conf_list_dir(struct rts_ctx *ctx, const char *dir, int type, char ***ret)
{
	struct list_ctx l = { .type = type };
	int r;

	r = rts_backend_readdir(rts_ctx_get_backend(ctx), dir, list_cb, &l);
	if (l.oom) {
		conf_strv_free(l.v);
		return -ENOMEM;
	}
	if (r < 0) {
		conf_strv_free(l.v);
		return r;
	}
	if (!l.v) {
		l.v = calloc(1, sizeof(*l.v));
		if (!l.v)
			return -ENOMEM;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_str);
	*ret = l.v;
	return 0;
}

/* rtslib: int(value) when it parses, else the string. */
static struct json_object *attr_value(const char *s)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(s, &end, 10);
	while (*end == ' ' || *end == '\n' || *end == '\t')
		end++;
	if (*s && errno == 0 && *end == '\0' && end != s)
		return json_object_new_int64(x);
	return json_object_new_string(s);
}

/*
 * Target-level param/ (6.1: cmd_completion_affinity on every fabric's targets). librts has no
 * target attribute accessor, so these go through the context's backend directly; @p name
 * must be a plain file name (the validator checks saveconfig keys with rts_name_validate()).
 */
static int target_param_path(struct rts_target *t, const char *name, char *buf, size_t size)
{
	int n;

	if (rts_name_validate(name, NULL) < 0)
		return -EINVAL;
	n = snprintf(buf, size, "%s/param/%s", rts_target_get_path(t), name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int conf_target_get_param(struct rts_ctx *ctx, struct rts_target *t, const char *name,
			  char **ret)
{
	char path[1024], *buf;
	ssize_t n;
	int r;

	r = target_param_path(t, name, path, sizeof(path));
	if (r < 0)
		return r;
	buf = malloc(4097);
	if (!buf)
		return -ENOMEM;
	n = rts_backend_read(rts_ctx_get_backend(ctx), path, buf, 4096);
	if (n < 0) {
		free(buf);
		return (int)n;
	}
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\0'))
		buf[--n] = '\0';
	*ret = buf;
	return 0;
}

int conf_target_set_param(struct rts_ctx *ctx, struct rts_target *t, const char *name,
			  const char *value)
{
	char path[1024];
	int r;

	r = target_param_path(t, name, path, sizeof(path));
	if (r < 0)
		return r;
	return rts_backend_write(rts_ctx_get_backend(ctx), path, value);
}

enum obj_kind { K_SO, K_TPG, K_ACL, K_TARGET };

static int get_attr(struct rts_ctx *ctx, void *obj, enum obj_kind k, enum rts_group g,
		    const char *name, char **ret)
{
	switch (k) {
	case K_TARGET:
		return conf_target_get_param(ctx, obj, name, ret);
	case K_SO:
		return rts_so_get_attr(obj, g, name, ret);
	case K_TPG:
		return rts_tpg_get_attr(obj, g, name, ret);
	case K_ACL:
		return rts_acl_get_attr(obj, g, name, ret);
	}
	return -EINVAL;
}

/* d[key] = {every readable, writable file of <path>/<sub>} when not empty (node.py dump). */
static int dump_group(struct rts_ctx *ctx, struct json_object *d, const char *key, void *obj,
		      enum obj_kind k, const char *path, enum rts_group g, bool as_int)
{
	char dir[1024], **names = NULL;
	struct json_object *m;
	int r;

	pfmt(dir, sizeof(dir), "%s/%s", path, g == RTS_GROUP_ATTRIB ? "attrib" : "param");
	r = conf_list_dir(ctx, dir, RTS_FT_FILE, &names);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	m = json_object_new_object();
	for (size_t i = 0; names[i]; i++) {
		char *v = NULL;

		if (conf_attr_is_readonly(names[i]))
			continue;
		if (get_attr(ctx, obj, k, g, names[i], &v) < 0)
			continue; /* write-only or unreadable: rtslib skips it too */
		json_object_object_add(m, names[i],
				       as_int ? attr_value(v) : json_object_new_string(v));
		free(v);
	}
	conf_strv_free(names);
	if (json_object_object_length(m))
		json_object_object_add(d, key, m);
	else
		json_object_put(m);
	return 0;
}

static const char *const alua_statuses[] = { "None", "Altered by Explicit STPG",
					     "Altered by Implicit ALUA", NULL };
static const char *const alua_types[] = { "None", "Implicit", "Explicit", "Implicit and Explicit",
					  NULL };

static struct json_object *alua_value(const char *param, const char *s)
{
	const char *const *tab = strcmp(param, "alua_access_status") == 0 ? alua_statuses :
				 strcmp(param, "alua_access_type") == 0	  ? alua_types :
									    NULL;

	for (size_t i = 0; tab && tab[i]; i++)
		if (strcmp(tab[i], s) == 0)
			return json_object_new_int((int)i);
	return attr_value(s);
}

static struct json_object *dump_alua(struct rts_alua_tpg *gp)
{
	struct json_object *d = json_object_new_object();
	char *v = NULL;

	json_object_object_add(d, "name", json_object_new_string(rts_alua_tpg_get_name(gp)));
	if (rts_alua_tpg_get_attr(gp, "tg_pt_gp_id", &v) == 0)
		json_object_object_add(d, "tg_pt_gp_id", attr_value(v));
	free(v);
	for (size_t i = 0; alua_params[i]; i++) {
		v = NULL;
		if (rts_alua_tpg_get_attr(gp, alua_params[i], &v) == 0)
			json_object_object_add(d, alua_params[i],
					       alua_value(alua_params[i], v));
		else
			json_object_object_add(d, alua_params[i], NULL); /* getattr(..., None) */
		free(v);
	}
	return d;
}

/* Value of "Key: value" in an info text (rtslib _parse_info), "" when absent. */
static void info_field(const char *info, const char *key, char *buf, size_t size)
{
	const char *p = info;
	size_t kl = strlen(key);

	buf[0] = '\0';
	while ((p = strstr(p, key))) {
		if ((p == info || p[-1] == ' ' || p[-1] == '\n') && p[kl] == ':') {
			size_t n = 0;

			p += kl + 1;
			while (*p == ' ')
				p++;
			while (p[n] && p[n] != ' ' && p[n] != '\n')
				n++;
			if (n >= size)
				n = size - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return;
		}
		p += kl;
	}
}

static const char *const rtslib_plugin[RTS_PLUGIN_MAX] = {
	[RTS_PLUGIN_FILEIO] = "fileio", [RTS_PLUGIN_BLOCK] = "block",
	[RTS_PLUGIN_PSCSI] = "pscsi",	[RTS_PLUGIN_RAMDISK] = "ramdisk",
	[RTS_PLUGIN_USER] = "user",
};

static bool attr_is(struct rts_so *so, const char *name, const char *want)
{
	char *v = NULL;
	bool eq = rts_so_get_attr(so, RTS_GROUP_ATTRIB, name, &v) == 0 && strcmp(v, want) == 0;

	free(v);
	return eq;
}

/* rtslib: vpd_unit_serial.partition(":")[2].strip(); librts leaves the prefix when empty. */
void strip_serial_prefix(char *w)
{
	static const char pfx[] = "T10 VPD Unit Serial Number:";
	char *p;

	if (!w || strncmp(w, pfx, sizeof(pfx) - 1) != 0)
		return;
	p = w + sizeof(pfx) - 1;
	while (*p == ' ')
		p++;
	memmove(w, p, strlen(p) + 1);
}

static struct json_object *dump_so(struct rts_ctx *ctx, struct rts_so *so)
{
	struct json_object *d = json_object_new_object(), *alua = json_object_new_array();
	enum rts_plugin pl = rts_so_get_plugin(so);
	struct rts_alua_tpg *gp;
	char *info = NULL, *wwn = NULL, *udev = NULL, *v = NULL, buf[512];
	uint64_t size = 0;

	dump_group(ctx, d, "attributes", so, K_SO, rts_so_get_path(so), RTS_GROUP_ATTRIB, true);
	json_object_object_add(d, "name", json_object_new_string(rts_so_get_name(so)));
	json_object_object_add(d, "plugin", json_object_new_string(rtslib_plugin[pl]));
	rts_for_each_alua_tpg(so, gp) json_object_array_add(alua, dump_alua(gp));
	json_object_object_add(d, "alua_tpgs", alua);

	if (rts_so_get_attr(so, RTS_GROUP_NONE, "info", &info) < 0)
		info = strdup("");
	if (rts_so_get_wwn(so, &wwn) < 0)
		wwn = strdup("");
	strip_serial_prefix(wwn);
	if (rts_so_get_udev_path(so, &udev) < 0)
		udev = strdup("");
	rts_so_get_size(so, &size);
	if (pl == RTS_PLUGIN_FILEIO && udev && !*udev && info) {
		info_field(info, "File", buf, sizeof(buf));
		free(udev);
		udev = strdup(buf);
	}

	switch (pl) {
	case RTS_PLUGIN_FILEIO:
		json_object_object_add(
			d, "write_back",
			json_object_new_boolean(attr_is(so, "emulate_write_cache", "1")));
		json_object_object_add(d, "wwn", json_object_new_string(wwn ? wwn : ""));
		json_object_object_add(d, "dev", json_object_new_string(udev ? udev : ""));
		json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
		info_field(info ? info : "", "Async", buf, sizeof(buf));
		json_object_object_add(d, "aio", json_object_new_boolean(strcmp(buf, "1") == 0));
		break;
	case RTS_PLUGIN_BLOCK:
		json_object_object_add(
			d, "write_back",
			json_object_new_boolean(attr_is(so, "emulate_write_cache", "1")));
		info_field(info ? info : "", "readonly", buf, sizeof(buf));
		json_object_object_add(d, "readonly",
				       json_object_new_boolean(strcmp(buf, "1") == 0));
		json_object_object_add(d, "wwn", json_object_new_string(wwn ? wwn : ""));
		json_object_object_add(d, "dev", json_object_new_string(udev ? udev : ""));
		break;
	case RTS_PLUGIN_PSCSI:
		json_object_object_add(d, "dev", json_object_new_string(udev ? udev : ""));
		break;
	case RTS_PLUGIN_RAMDISK:
		json_object_object_add(d, "wwn", json_object_new_string(wwn ? wwn : ""));
		json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
		info_field(info ? info : "", "nullio", buf, sizeof(buf));
		if (strcmp(buf, "1") == 0)
			json_object_object_add(d, "nullio", json_object_new_boolean(true));
		break;
	case RTS_PLUGIN_USER: {
		char ctl[512] = "", x[64];

		json_object_object_add(d, "wwn", json_object_new_string(wwn ? wwn : ""));
		json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
		info_field(info ? info : "", "Config", buf, sizeof(buf));
		json_object_object_add(d, "config", *buf ? json_object_new_string(buf) : NULL);
		if (rts_so_get_attr(so, RTS_GROUP_ATTRIB, "hw_max_sectors", &v) == 0)
			json_object_object_add(d, "hw_max_sectors", attr_value(v));
		free(v);
		v = NULL;
		/* rtslib _get_control_tuples: max_data_area_mb, hw_block_size, data_pages_per_blk */
		info_field(info ? info : "", "MaxDataAreaMB", x, sizeof(x));
		if (*x)
			snprintf(ctl + strlen(ctl), sizeof(ctl) - strlen(ctl),
				 "max_data_area_mb=%s", x);
		if (rts_so_get_attr(so, RTS_GROUP_ATTRIB, "hw_block_size", &v) == 0)
			snprintf(ctl + strlen(ctl), sizeof(ctl) - strlen(ctl), "%shw_block_size=%s",
				 *ctl ? "," : "", v);
		free(v);
		v = NULL;
		info_field(info ? info : "", "DataPagesPerBlk", x, sizeof(x));
		if (*x)
			snprintf(ctl + strlen(ctl), sizeof(ctl) - strlen(ctl),
				 "%sdata_pages_per_blk=%s", *ctl ? "," : "", x);
		json_object_object_add(d, "control", json_object_new_string(ctl));
		break;
	}
	default:
		break;
	}
	free(info);
	free(wwn);
	free(udev);
	return d;
}

static void dump_chap(struct json_object *d, const struct rts_chap *c, const char *pfx)
{
	const char *vals[4] = { c->userid, c->password, c->mutual_userid, c->mutual_password };
	const char *names[4] = { "userid", "password", "mutual_userid", "mutual_password" };
	char key[64];

	for (int i = 0; i < 4; i++) {
		if (!*vals[i])
			continue;
		pfmt(key, sizeof(key), "%s%s", pfx, names[i]);
		json_object_object_add(d, key, json_object_new_string(vals[i]));
	}
}

/* Link name inside a mapped LUN directory (rtslib MappedLUN.alias). */
static char *mapped_lun_alias(struct rts_ctx *ctx, struct rts_mapped_lun *m)
{
	char dir[1024], **names = NULL, *alias = NULL;

	pfmt(dir, sizeof(dir), "%s/lun_%" PRIu64, rts_acl_get_path(rts_mapped_lun_get_acl(m)),
	     rts_mapped_lun_get_index(m));
	if (conf_list_dir(ctx, dir, RTS_FT_LINK, &names) == 0 && names[0])
		alias = strdup(names[0]);
	conf_strv_free(names);
	return alias;
}

static struct json_object *dump_acl(struct rts_ctx *ctx, struct rts_acl *acl, unsigned int feats)
{
	struct json_object *d = json_object_new_object(), *mls = json_object_new_array();
	struct rts_mapped_lun *m;
	char *tag = NULL;
	uint32_t depth;

	dump_group(ctx, d, "attributes", acl, K_ACL, rts_acl_get_path(acl), RTS_GROUP_ATTRIB, true);
	json_object_object_add(d, "node_wwn", json_object_new_string(rts_acl_get_wwn(acl)));
	rts_for_each_mapped_lun(acl, m) {
		struct json_object *o = json_object_new_object();
		struct rts_lun *lun = rts_mapped_lun_get_lun(m);
		bool wp = false;
		char *alias = mapped_lun_alias(ctx, m);

		rts_mapped_lun_get_write_protect(m, &wp);
		json_object_object_add(o, "write_protect", json_object_new_boolean(wp));
		json_object_object_add(o, "index",
				       json_object_new_int64((int64_t)rts_mapped_lun_get_index(m)));
		if (lun)
			json_object_object_add(
				o, "tpg_lun",
				json_object_new_int64((int64_t)rts_lun_get_index(lun)));
		json_object_object_add(o, "alias", alias ? json_object_new_string(alias) : NULL);
		free(alias);
		json_object_array_add(mls, o);
	}
	json_object_object_add(d, "mapped_luns", mls);
	if (rts_acl_get_tag(acl, &tag) == 0 && *tag)
		json_object_object_add(d, "tag", json_object_new_string(tag));
	free(tag);
	if (feats & RTS_FEAT_AUTH) {
		struct rts_chap c;

		if (rts_acl_get_chap(acl, &c) == 0)
			dump_chap(d, &c, "chap_");
	}
	if (rts_acl_get_cmdsn_depth(acl, &depth) == 0)
		json_object_object_add(d, "tcq_depth", json_object_new_int64(depth));
	return d;
}

static struct json_object *dump_tpg(struct rts_ctx *ctx, struct rts_tpg *tpg, unsigned int feats)
{
	struct json_object *d = json_object_new_object(), *luns = json_object_new_array(),
			   *nps = json_object_new_array(), *acls = json_object_new_array();
	struct rts_lun *lun;
	struct rts_portal *np;
	struct rts_acl *acl;
	bool en = true;

	dump_group(ctx, d, "attributes", tpg, K_TPG, rts_tpg_get_path(tpg), RTS_GROUP_ATTRIB, true);
	dump_group(ctx, d, "parameters", tpg, K_TPG, rts_tpg_get_path(tpg), RTS_GROUP_PARAM, false);
	json_object_object_add(d, "tag", json_object_new_int(rts_tpg_get_tag(tpg)));
	rts_tpg_get_enable(tpg, &en);
	json_object_object_add(d, "enable", json_object_new_boolean(en));
	rts_for_each_lun(tpg, lun) {
		struct json_object *o = json_object_new_object();
		struct rts_so *so = rts_lun_get_so(lun);
		char *gp = NULL, ref[600];

		if (so) {
			pfmt(ref, sizeof(ref), "/backstores/%s/%s",
			     rtslib_plugin[rts_so_get_plugin(so)], rts_so_get_name(so));
			json_object_object_add(o, "storage_object", json_object_new_string(ref));
		}
		json_object_object_add(o, "index",
				       json_object_new_int64((int64_t)rts_lun_get_index(lun)));
		json_object_object_add(o, "alias",
				       rts_lun_get_alias(lun) ?
					       json_object_new_string(rts_lun_get_alias(lun)) :
					       NULL);
		if (rts_lun_get_alua_group(lun, &gp) == 0)
			json_object_object_add(o, "alua_tg_pt_gp_name", json_object_new_string(gp));
		else
			json_object_object_add(o, "alua_tg_pt_gp_name", NULL);
		free(gp);
		json_object_array_add(luns, o);
	}
	json_object_object_add(d, "luns", luns);
	rts_for_each_portal(tpg, np) {
		struct json_object *o = json_object_new_object();
		bool iser = false, offload = false;
		char ip[80];

		if (rts_portal_is_ipv6(np))
			pfmt(ip, sizeof(ip), "[%s]", rts_portal_get_ip(np));
		else
			pfmt(ip, sizeof(ip), "%s", rts_portal_get_ip(np));
		rts_portal_get_transport(np, "iser", &iser);
		rts_portal_get_transport(np, "cxgbit", &offload);
		json_object_object_add(o, "port", json_object_new_int(rts_portal_get_port(np)));
		json_object_object_add(o, "ip_address", json_object_new_string(ip));
		json_object_object_add(o, "iser", json_object_new_boolean(iser));
		json_object_object_add(o, "offload", json_object_new_boolean(offload));
		json_object_array_add(nps, o);
	}
	json_object_object_add(d, "portals", nps);
	rts_for_each_acl(tpg, acl)
		json_object_array_add(acls, dump_acl(ctx, acl, feats));
	json_object_object_add(d, "node_acls", acls);
	if (feats & RTS_FEAT_AUTH) {
		struct rts_chap c;

		if (rts_tpg_get_chap(tpg, &c) == 0)
			dump_chap(d, &c, "chap_");
	}
	if (feats & RTS_FEAT_NEXUS) {
		char *nx = NULL;

		if (rts_tpg_get_nexus(tpg, &nx) == 0 && *nx) {
			struct json_object *ext = json_object_new_object();

			json_object_object_add(ext, "nexus", json_object_new_string(nx));
			json_object_object_add(d, "rtslib_c", ext);
		}
		free(nx);
	}
	return d;
}

static int cmp_name(const void *a, const void *b);

static int cmp_jstring(const void *a, const void *b)
{
	return strcmp(json_object_get_string(*(struct json_object *const *)a),
		      json_object_get_string(*(struct json_object *const *)b));
}

/*
 * ALUA LU groups (rtslib has none): root "rtslib_c": {"lu_gps": [{name, lu_gp_id, members}]},
 * members are storage object references; only written when a non-default group exists.
 */
static void dump_lu_gps(struct rts_ctx *ctx, struct json_object *root)
{
	struct json_object *arr = json_object_new_array(), *ext;
	struct rts_lu_gp *lg;

	rts_for_each_lu_gp(ctx, lg)
	{
		struct json_object *o, *members = json_object_new_array();
		const char *name = rts_lu_gp_get_name(lg);
		struct rts_so *so;
		char *id = NULL;

		if (!strcmp(name, "default_lu_gp")) {
			json_object_put(members);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(name));
		if (rts_lu_gp_get_attr(lg, "lu_gp_id", &id) == 0)
			json_object_object_add(o, "lu_gp_id", attr_value(id));
		free(id);
		rts_for_each_storage_object(ctx, so) {
			char *g = NULL, ref[600];

			if (rts_so_get_lu_gp(so, &g) == 0 && !strcmp(g, name)) {
				pfmt(ref, sizeof(ref), "/backstores/%s/%s",
				     rtslib_plugin[rts_so_get_plugin(so)], rts_so_get_name(so));
				json_object_array_add(members, json_object_new_string(ref));
			}
			free(g);
		}
		json_object_array_sort(members, cmp_jstring);
		json_object_object_add(o, "members", members);
		json_object_array_add(arr, o);
	}
	if (!json_object_array_length(arr)) {
		json_object_put(arr);
		return;
	}
	json_object_array_sort(arr, cmp_name);
	ext = json_object_new_object();
	json_object_object_add(ext, "lu_gps", arr);
	json_object_object_add(root, "rtslib_c", ext);
}

/* Deterministic order (configfs readdir order is creation order): sort every list. */
static const char *skey(const void *p, const char *k1)
{
	struct json_object *o = *(struct json_object *const *)p, *v;

	return json_object_object_get_ex(o, k1, &v) ? json_object_get_string(v) : "";
}

static int64_t ikey(const void *p, const char *k)
{
	struct json_object *o = *(struct json_object *const *)p, *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : -1;
}

static int cmp_so(const void *a, const void *b)
{
	int r = strcmp(skey(a, "plugin"), skey(b, "plugin"));

	return r ? r : strcmp(skey(a, "name"), skey(b, "name"));
}

static int cmp_target(const void *a, const void *b)
{
	int r = strcmp(skey(a, "fabric"), skey(b, "fabric"));

	return r ? r : strcmp(skey(a, "wwn"), skey(b, "wwn"));
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(skey(a, "name"), skey(b, "name"));
}

static int cmp_acl(const void *a, const void *b)
{
	return strcmp(skey(a, "node_wwn"), skey(b, "node_wwn"));
}

static int cmp_portal(const void *a, const void *b)
{
	int r = strcmp(skey(a, "ip_address"), skey(b, "ip_address"));

	return r ? r : (ikey(a, "port") > ikey(b, "port")) - (ikey(a, "port") < ikey(b, "port"));
}

static int cmp_index(const void *a, const void *b)
{
	return (ikey(a, "index") > ikey(b, "index")) - (ikey(a, "index") < ikey(b, "index"));
}

static int cmp_tag(const void *a, const void *b)
{
	return (ikey(a, "tag") > ikey(b, "tag")) - (ikey(a, "tag") < ikey(b, "tag"));
}

static struct json_object *arr_of(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_array) ?
		       v :
		       NULL;
}

static void sort_model(struct json_object *root)
{
	struct json_object *a;

	if ((a = arr_of(root, "storage_objects"))) {
		json_object_array_sort(a, cmp_so);
		for (size_t i = 0; i < json_object_array_length(a); i++) {
			struct json_object *g =
				arr_of(json_object_array_get_idx(a, i), "alua_tpgs");

			if (g)
				json_object_array_sort(g, cmp_name);
		}
	}
	if ((a = arr_of(root, "fabric_modules")))
		json_object_array_sort(a, cmp_name);
	if (!(a = arr_of(root, "targets")))
		return;
	json_object_array_sort(a, cmp_target);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *tpgs = arr_of(json_object_array_get_idx(a, i), "tpgs");

		if (!tpgs)
			continue;
		json_object_array_sort(tpgs, cmp_tag);
		for (size_t j = 0; j < json_object_array_length(tpgs); j++) {
			struct json_object *tpg = json_object_array_get_idx(tpgs, j), *x;

			if ((x = arr_of(tpg, "luns")))
				json_object_array_sort(x, cmp_index);
			if ((x = arr_of(tpg, "portals")))
				json_object_array_sort(x, cmp_portal);
			if (!(x = arr_of(tpg, "node_acls")))
				continue;
			json_object_array_sort(x, cmp_acl);
			for (size_t k = 0; k < json_object_array_length(x); k++) {
				struct json_object *m =
					arr_of(json_object_array_get_idx(x, k), "mapped_luns");

				if (m)
					json_object_array_sort(m, cmp_index);
			}
		}
	}
}

int conf_dump(struct rts_ctx *ctx, struct json_object **ret, struct conf_report *rep)
{
	struct json_object *root = json_object_new_object(), *sos = json_object_new_array(),
			   *tgts = json_object_new_array(), *fms = json_object_new_array();
	struct rts_so *so;
	struct rts_fabric *f;

	(void)rep;
	rts_for_each_storage_object(ctx, so)
		json_object_array_add(sos, dump_so(ctx, so));
	rts_for_each_fabric(ctx, f) {
		unsigned int feats = rts_fabric_get_features(f);
		struct rts_target *t;

		if (!rts_fabric_is_loaded(f))
			continue;
		rts_for_each_target(f, t) {
			struct json_object *o = json_object_new_object(),
					   *tpgs = json_object_new_array();
			struct rts_tpg *tpg;

			json_object_object_add(o, "wwn",
					       json_object_new_string(rts_target_get_wwn(t)));
			json_object_object_add(o, "fabric",
					       json_object_new_string(rts_fabric_get_name(f)));
			/* target.py: Target.dump() starts from CFSNode.dump() (param/) */
			dump_group(ctx, o, "parameters", t, K_TARGET, rts_target_get_path(t),
				   RTS_GROUP_PARAM, false);
			rts_for_each_tpg(t, tpg)
				json_object_array_add(tpgs, dump_tpg(ctx, tpg, feats));
			json_object_object_add(o, "tpgs", tpgs);
			json_object_array_add(tgts, o);
		}
		if (feats & RTS_FEAT_DISCOVERY_AUTH) {
			struct rts_chap c;
			bool enforce = false;

			if (rts_fabric_get_discovery_auth(f, &enforce, &c) == 0 && enforce) {
				struct json_object *o = json_object_new_object();

				json_object_object_add(
					o, "name", json_object_new_string(rts_fabric_get_name(f)));
				dump_chap(o, &c, "discovery_");
				json_object_object_add(o, "discovery_enable_auth",
						       json_object_new_boolean(true));
				json_object_array_add(fms, o);
			}
		}
	}
	json_object_object_add(root, "fabric_modules", fms);
	json_object_object_add(root, "storage_objects", sos);
	json_object_object_add(root, "targets", tgts);
	dump_lu_gps(ctx, root);
	sort_model(root);
	*ret = root;
	return 0;
}
