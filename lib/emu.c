/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The emulated backend: LIO configfs semantics on top of a raw backend (memory or a plain
 * directory). Where a path sits in the object model is derived from the path alone
 * (classify()), so the emulator keeps no state besides a count of symlinks pointing at
 * each directory (configfs refuses rmdir of a link target with EBUSY) and a hidden
 * ".control" file per device holding the parameters written to "control".
 */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu.h"
#include "emu_be.h"

struct link_ref {
	unsigned int count;
	char path[];
};

static bool is_hidden(const char *name)
{
	return name[0] == '.';
}

const char *emu_base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* dirname into buf ("" for a top-level entry). */
int emu_dir_name(const char *p, char *buf, size_t size)
{
	const char *s = strrchr(p, '/');
	size_t n = s ? (size_t)(s - p) : 0;

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

int emu_plugin_of_hba(const char *name)
{
	static const char *const names[RTS_PLUGIN_MAX] = { "fileio_", "iblock_", "pscsi_",
							   "rd_mcp_", "user_" };

	for (int i = 0; i < RTS_PLUGIN_MAX; i++) {
		size_t n = strlen(names[i]);
		uint64_t idx;

		if (!strncmp(name, names[i], n) && isdigit((unsigned char)name[n]) &&
		    parse_u64(name + n, &idx) == 0 && idx <= UINT32_MAX)
			return i;
	}
	return -1;
}

static const struct emu_group *find_group(const struct emu_loc *loc, const char *name)
{
	const struct emu_group *g;

	for (g = emu_kinds[loc->kind].groups; g->name; g++)
		if (!strcmp(g->name, name) && emu_group_applies(g, loc))
			return g;
	return NULL;
}

static const struct emu_attr *find_attr(const struct emu_loc *loc, const char *name)
{
	const struct emu_attr *a;

	for (a = emu_kinds[loc->kind].attrs; a->name; a++)
		if (!strcmp(a->name, name) && emu_attr_applies(a, loc))
			return a;
	return NULL;
}

/* Step from loc into child directory name. */
static int step(struct emu_loc *loc, const char *name)
{
	const struct emu_group *g = find_group(loc, name);
	enum emu_kind child;

	if (g) {
		loc->kind = g->kind;
		loc->is_default = true;
		return 0;
	}
	child = emu_kinds[loc->kind].child;
	if (child == K_NONE || is_hidden(name))
		return -ENOENT;
	if (loc->kind == K_TGT) {
		loc->fabric = fabric_spec_by_cfs(name);
		if (!loc->fabric)
			return -ENOENT;
	} else if (loc->kind == K_CORE) {
		loc->plugin = emu_plugin_of_hba(name);
		if (loc->plugin < 0)
			return -ENOENT;
	}
	loc->kind = child;
	loc->is_default = false;
	return 0;
}

/* Locate directory path p ("" is the root) in the model. Lexical only. */
static int classify(const char *p, struct emu_loc *loc)
{
	char buf[RTS_PATH_MAX];
	char *save = NULL, *c;

	*loc = (struct emu_loc){ .kind = K_ROOT, .plugin = -1 };
	if (strlen(p) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, p);
	for (c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int r = step(loc, c);

		if (r < 0)
			return r;
	}
	return 0;
}

static int raw_type(struct emu_be *e, const char *p, enum rts_ftype *t)
{
	if (!*p) {
		*t = RTS_FT_DIR;
		return 0;
	}
	return RAW(e)->stat(RAWD(e), p, t);
}

static ssize_t raw_read_str(struct emu_be *e, const char *p, char *buf, size_t size)
{
	ssize_t n = RAW(e)->read(RAWD(e), p, buf, size - 1);

	if (n < 0)
		return n;
	buf[n] = '\0';
	strip_trailing(buf);
	return n;
}

static int raw_write_str(struct emu_be *e, const char *p, const char *s)
{
	return RAW(e)->write(RAWD(e), p, s, strlen(s));
}

/* ------------------------------------------------------------ link counts */

static void links_free(struct emu_be *e);
static int scan_links(struct emu_be *e, const char *p);

/* Recount after emu_invalidate(); every user of the counts calls this first. */
static int links_fresh(struct emu_be *e)
{
	enum rts_ftype t;
	int r = 0;

	if (!e->links_stale)
		return 0;
	links_free(e);
	if (RAW(e)->stat(RAWD(e), "target", &t) == 0)
		r = scan_links(e, "target");
	if (r < 0) {
		links_free(e);
		return r;
	}
	e->links_stale = false;
	return 0;
}

unsigned int emu_link_count(struct emu_be *e, const char *target)
{
	struct link_ref *ref;

	/* counts we cannot establish must not let an rmdir through */
	if (links_fresh(e) < 0)
		return UINT_MAX;
	ref = index_get(&e->links, target);
	return ref ? ref->count : 0;
}

static int link_inc(struct emu_be *e, const char *target)
{
	struct link_ref *ref = index_get(&e->links, target);
	int r;

	if (ref) {
		ref->count++;
		return 0;
	}
	ref = malloc(sizeof(*ref) + strlen(target) + 1);
	if (!ref)
		return -ENOMEM;
	ref->count = 1;
	strcpy(ref->path, target);
	r = index_put(&e->links, ref->path, ref);
	if (r < 0)
		free(ref);
	return r;
}

static void link_dec(struct emu_be *e, const char *target)
{
	struct link_ref *ref = index_get(&e->links, target);

	if (ref && --ref->count == 0) {
		index_del(&e->links, ref->path);
		free(ref);
	}
}

/* ------------------------------------------------------------ directory listing helper */

int emu_list_dir(struct emu_be *e, const char *p, struct rts_names *l)
{
	int r = RAW(e)->readdir(RAWD(e), p, names_add, l);

	if (r < 0)
		names_free(l);
	return r;
}

/*
 * Depth first below @p on the raw backend: @leaf for every entry that is not a directory,
 * then @post (when not NULL) for every directory once its entries are done; stops at the
 * first error and returns it.
 */
static int raw_walk(struct emu_be *e, const char *p,
		    int (*leaf)(struct emu_be *e, const char *path, enum rts_ftype type),
		    int (*post)(struct emu_be *e, const char *dir))
{
	struct rts_names l = { 0 };
	char child[RTS_PATH_MAX];
	int r = emu_list_dir(e, p, &l);

	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n && r >= 0; i++) {
		r = path_fmt(child, sizeof(child), "%s/%s", p, l.v[i]);
		if (r < 0)
			break;
		if (l.t[i] == RTS_FT_DIR)
			r = raw_walk(e, child, leaf, post);
		else
			r = leaf(e, child, l.t[i]);
	}
	names_free(&l);
	if (r < 0 || !post)
		return r;
	return post(e, p);
}

static int rm_leaf(struct emu_be *e, const char *path, enum rts_ftype type)
{
	(void)type;
	return RAW(e)->unlink(RAWD(e), path);
}

static int rm_dir(struct emu_be *e, const char *dir)
{
	return RAW(e)->rmdir(RAWD(e), dir);
}

static int rm_tree(struct emu_be *e, const char *p)
{
	return raw_walk(e, p, rm_leaf, rm_dir);
}

/* ------------------------------------------------------------ populate */

/* Store v as the kernel's show() prints it: non-empty values end with a newline. */
static int write_value(struct emu_be *e, const char *p, const char *v)
{
	char buf[RTS_VALUE_MAX + 2];
	size_t n = strlen(v);

	if (!n || v[n - 1] == '\n' || n >= RTS_VALUE_MAX)
		return raw_write_str(e, p, v);
	snprintf(buf, sizeof(buf), "%s\n", v);
	return raw_write_str(e, p, buf);
}

static int populate(struct emu_be *e, const char *p, const struct emu_loc *loc)
{
	const struct emu_kind_desc *k = &emu_kinds[loc->kind];
	const struct emu_attr *a;
	const struct emu_group *g;
	char child[RTS_PATH_MAX];
	int r;

	r = RAW(e)->mkdir(RAWD(e), p);
	if (r < 0)
		return r;
	for (a = k->attrs; a->name; a++) {
		if (!emu_attr_applies(a, loc))
			continue;
		r = path_fmt(child, sizeof(child), "%s/%s", p, a->name);
		if (r < 0)
			return r;
		r = write_value(e, child, a->dflt ? a->dflt : "");
		if (r < 0)
			return r;
	}
	for (g = k->groups; g->name; g++) {
		struct emu_loc cl = *loc;

		if (!emu_group_applies(g, loc))
			continue;
		cl.kind = g->kind;
		cl.is_default = true;
		r = path_fmt(child, sizeof(child), "%s/%s", p, g->name);
		if (r < 0)
			return r;
		r = populate(e, child, &cl);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------ name checks on mkdir */

static bool hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int parse_prefixed_u64(const char *name, const char *prefix, uint64_t *ret)
{
	size_t n = strlen(prefix);

	if (strncmp(name, prefix, n) || !isdigit((unsigned char)name[n]))
		return -EINVAL;
	return parse_u64(name + n, ret) < 0 ? -EINVAL : 0;
}

/* What the fabric drivers accept as a target directory name. */
static int check_wwn_dir(const struct rts_fabric_spec *f, const char *name)
{
	size_t n = strlen(name);

	if (f->kflags & FK_COLON_WWN) {
		/* tcm_qla2xxx / efct / tcm_fc: 8 colon-separated bytes */
		if (n != 23)
			return -EINVAL;
		for (size_t i = 0; i < n; i++)
			if ((i % 3 == 2) ? name[i] != ':' : !isxdigit((unsigned char)name[i]))
				return -EINVAL;
		return 0;
	}
	if (f->kflags & FK_HEX0X_WWN)
		return (n == 34 && !strncmp(name, "0x", 2) && hex_run(name + 2, 32)) ? 0 : -EINVAL;
	if (f->kflags & FK_BARE_WWN)
		return (n == 16 && hex_run(name, 16)) ? 0 : -EINVAL;
	if (f->kflags & FK_NEXUS) {
		/* tcm_loop, vhost, xen-scsiback: protocol prefix decides the transport id */
		if (strncmp(name, "naa.", 4) && strncmp(name, "fc.", 3) && strncmp(name, "iqn.", 4))
			return -EINVAL;
		return 0;
	}
	if (f->kflags & FK_ISCSI_ATTRS)
		return n >= 224 ? -EINVAL : 0;
	return 0;
}

static int check_portal(const char *name)
{
	char ip[64];
	uint16_t port;
	bool v6;

	return portal_parse_name(name, ip, sizeof(ip), &port, &v6);
}

static int check_child(const struct emu_loc *parent, enum emu_kind child, const char *name)
{
	uint64_t v;

	switch (child) {
	case K_FABRIC:
		return fabric_spec_by_cfs(name) ? 0 : -EINVAL;
	case K_HBA:
		return emu_plugin_of_hba(name) >= 0 ? 0 : -EINVAL;
	case K_WWN:
		return check_wwn_dir(parent->fabric, name);
	case K_TPG:
		if (parse_prefixed_u64(name, "tpgt_", &v) < 0 || v > parent->fabric->max_tpgt)
			return -EINVAL;
		return 0;
	case K_LUN:
	case K_MLUN:
		return parse_prefixed_u64(name, "lun_", &v);
	case K_NP:
		if (!(parent->fabric->kflags & FK_NP))
			return -ENOSYS;
		return check_portal(name);
	case K_ACL:
		return strlen(name) >= 224 ? -EINVAL : 0;
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ ops: directories */

static int tpg_of(const char *p, int levels, char *buf, size_t size);

static int emu_mkdir(void *d, const char *p)
{
	struct emu_be *e = d;
	char parent[RTS_PATH_MAX];
	const char *name = emu_base_name(p);
	struct emu_loc loc;
	enum rts_ftype t;
	enum emu_kind child;
	int r;

	r = emu_dir_name(p, parent, sizeof(parent));
	if (r < 0)
		return r;
	r = raw_type(e, parent, &t);
	if (r < 0)
		return r;
	if (t != RTS_FT_DIR)
		return -ENOTDIR;
	if (raw_type(e, p, &t) == 0)
		return -EEXIST;
	if (classify(parent, &loc) < 0)
		return -EPERM;
	if (find_group(&loc, name))
		return -EEXIST;
	child = emu_kinds[loc.kind].child;
	if (child == K_NONE)
		return -EPERM;
	if (is_hidden(name) || strlen(name) > RTS_NAME_MAX)
		return -EINVAL;
	r = check_child(&loc, child, name);
	if (r < 0)
		return r;
	r = step(&loc, name);
	if (r < 0)
		return -EINVAL;
	r = populate(e, p, &loc);
	if (r < 0) {
		if (raw_type(e, p, &t) == 0)
			rm_tree(e, p);
		return r;
	}
	if (loc.kind == K_ACL && loc.fabric && (loc.fabric->kflags & FK_SESSIONS)) {
		char info[RTS_NAME_MAX + 64];

		snprintf(info, sizeof(info), "No active iSCSI Session for Initiator Endpoint: %s",
			 name);
		emu_write_sibling(e, p, "info", info);
	}
	if (loc.kind == K_ACL && loc.fabric && (loc.fabric->kflags & FK_ISCSI_ATTRS)) {
		/* iscsit_tpg_add_initiator_node_acl(): queue depth from the TPG default */
		char tpg[RTS_PATH_MAX], attrib[RTS_PATH_MAX], depth[32];

		if (tpg_of(p, 2, tpg, sizeof(tpg)) == 0 &&
		    path_fmt(attrib, sizeof(attrib), "%s/attrib", tpg) == 0 &&
		    emu_read_sibling(e, attrib, "default_cmdsn_depth", depth, sizeof(depth)) == 0)
			emu_write_sibling(e, p, "cmdsn_depth", depth);
	}
	return 0;
}

static int check_removable(struct emu_be *e, const char *p, const struct emu_loc *loc)
{
	struct rts_names l = { 0 };
	char child[RTS_PATH_MAX];
	int r;

	if (emu_link_count(e, p))
		return -EBUSY;
	r = emu_list_dir(e, p, &l);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n && r >= 0; i++) {
		const struct emu_group *g;

		if (is_hidden(l.v[i]) || l.t[i] == RTS_FT_FILE)
			continue;
		if (l.t[i] == RTS_FT_LINK) {
			r = -ENOTEMPTY;
			break;
		}
		g = find_group(loc, l.v[i]);
		if (!g) {
			r = -ENOTEMPTY;
			break;
		}
		r = path_fmt(child, sizeof(child), "%s/%s", p, l.v[i]);
		if (r >= 0) {
			struct emu_loc cl = *loc;

			cl.kind = g->kind;
			cl.is_default = true;
			r = check_removable(e, child, &cl);
		}
	}
	names_free(&l);
	return r < 0 ? r : 0;
}

static int emu_rmdir(void *d, const char *p)
{
	struct emu_be *e = d;
	struct emu_loc loc;
	enum rts_ftype t;
	int r;

	r = links_fresh(e);
	if (r < 0)
		return r;
	r = raw_type(e, p, &t);
	if (r < 0)
		return r;
	if (t != RTS_FT_DIR)
		return -ENOTDIR;
	if (classify(p, &loc) < 0 || loc.is_default)
		return -EPERM;
	r = check_removable(e, p, &loc);
	if (r < 0)
		return r;
	return rm_tree(e, p);
}

/* ------------------------------------------------------------ ops: links */

static int has_link(struct emu_be *e, const char *dir)
{
	struct rts_names l = { 0 };
	int r = emu_list_dir(e, dir, &l);
	bool found = false;

	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n; i++)
		found |= l.t[i] == RTS_FT_LINK;
	names_free(&l);
	return found;
}

/* Path of the TPG above a LUN ("<tpg>/lun/lun_N") or a mapped LUN ("<tpg>/acls/I/lun_N"). */
static int tpg_of(const char *p, int levels, char *buf, size_t size)
{
	int r = 0;

	snprintf(buf, size, "%s", p);
	for (int i = 0; i < levels && r >= 0; i++)
		r = emu_dir_name(buf, buf, size);
	return r;
}

static int emu_symlink(void *d, const char *target, const char *p)
{
	struct emu_be *e = d;
	char parent[RTS_PATH_MAX], a[RTS_PATH_MAX], b[RTS_PATH_MAX], val[64];
	struct emu_loc loc, tloc;
	enum rts_ftype t;
	int r;

	r = links_fresh(e);
	if (r < 0)
		return r;
	r = emu_dir_name(p, parent, sizeof(parent));
	if (r < 0)
		return r;
	r = raw_type(e, parent, &t);
	if (r < 0)
		return r;
	if (raw_type(e, p, &t) == 0)
		return -EEXIST;
	if (classify(parent, &loc) < 0 || !emu_kinds[loc.kind].links)
		return -EPERM;
	if (is_hidden(emu_base_name(p)))
		return -EINVAL;
	r = raw_type(e, target, &t);
	if (r < 0)
		return -ENOENT;
	if (t != RTS_FT_DIR || classify(target, &tloc) < 0)
		return -EINVAL;
	r = has_link(e, parent);
	if (r < 0)
		return r;
	if (r)
		return -EEXIST;
	if (loc.kind == K_LUN) {
		if (tloc.kind != K_DEV)
			return -EINVAL;
		r = path_fmt(a, sizeof(a), "%s/enable", target);
		if (r < 0)
			return r;
		if (raw_read_str(e, a, val, sizeof(val)) < 0 || strcmp(val, "1"))
			return -ENODEV;
	} else {
		/* mapped LUN: a LUN of the same TPG */
		if (tloc.kind != K_LUN)
			return -EINVAL;
		if (tpg_of(parent, 3, a, sizeof(a)) < 0 || tpg_of(target, 2, b, sizeof(b)) < 0 ||
		    strcmp(a, b))
			return -EINVAL;
	}
	r = RAW(e)->symlink(RAWD(e), target, p);
	if (r < 0)
		return r;
	r = link_inc(e, target);
	if (r < 0) {
		RAW(e)->unlink(RAWD(e), p);
		return r;
	}
	if (loc.kind == K_LUN)
		emu_lun_alua_show(e, parent, target, "default_tg_pt_gp");
	return 0;
}

static int emu_unlink(void *d, const char *p)
{
	struct emu_be *e = d;
	char target[RTS_PATH_MAX], parent[RTS_PATH_MAX], a[RTS_PATH_MAX];
	struct emu_loc loc;
	enum rts_ftype t;
	int r;

	r = links_fresh(e);
	if (r < 0)
		return r;
	r = raw_type(e, p, &t);
	if (r < 0)
		return r;
	if (t == RTS_FT_DIR)
		return -EISDIR;
	if (t != RTS_FT_LINK)
		return -EPERM;
	r = RAW(e)->readlink(RAWD(e), p, target, sizeof(target));
	if (r < 0)
		return r;
	r = RAW(e)->unlink(RAWD(e), p);
	if (r < 0)
		return r;
	link_dec(e, target);
	if (emu_dir_name(p, parent, sizeof(parent)) == 0 && classify(parent, &loc) == 0 &&
	    loc.kind == K_LUN && path_fmt(a, sizeof(a), "%s/alua_tg_pt_gp", parent) == 0)
		raw_write_str(e, a, "");
	return 0;
}

static int emu_readlink(void *d, const char *p, char *buf, size_t size)
{
	struct emu_be *e = d;

	return RAW(e)->readlink(RAWD(e), p, buf, size);
}

/* ------------------------------------------------------------ ops: attributes */

__attribute__((noinline)) static int attr_of(const char *p, struct emu_loc *loc,
					     const struct emu_attr **ret, char *dir, size_t size)
{
	int r = emu_dir_name(p, dir, size);

	if (r < 0)
		return r;
	if (classify(dir, loc) < 0) {
		*ret = NULL;
		return 0;
	}
	*ret = find_attr(loc, emu_base_name(p));
	return 0;
}

static ssize_t emu_read(void *d, const char *p, char *buf, size_t size)
{
	struct emu_be *e = d;
	char dir[RTS_PATH_MAX];
	const struct emu_attr *a;
	struct emu_loc loc;
	enum rts_ftype t;
	int r;

	if (is_hidden(emu_base_name(p)))
		return -ENOENT;
	r = raw_type(e, p, &t);
	if (r < 0)
		return r;
	if (t == RTS_FT_DIR)
		return -EISDIR;
	r = attr_of(p, &loc, &a, dir, sizeof(dir));
	if (r < 0)
		return r;
	if (a && a->mode == M_WO)
		return -EACCES;
	if (a && a->check == C_NO_SESSION)
		return -ENODEV;
	if (loc.kind == K_LU_GP && !strcmp(emu_base_name(p), "members"))
		emu_update_lu_gp_members(e, dir);
	if (loc.kind == K_TG_PT_GP && !strcmp(emu_base_name(p), "members"))
		emu_update_tg_pt_gp_members(e, dir);
	if (loc.kind == K_DEV && !strcmp(emu_base_name(p), "info")) {
		char ctl[RTS_VALUE_MAX] = "";

		emu_read_sibling(e, dir, ".control", ctl, sizeof(ctl));
		emu_update_info(e, dir, loc.plugin, ctl);
	}
	return RAW(e)->read(RAWD(e), p, buf, size);
}

static bool printable(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isprint((unsigned char)s[i]))
			return false;
	return true;
}

__attribute__((noinline)) int emu_read_sibling(struct emu_be *e, const char *dir, const char *name,
					       char *buf, size_t size)
{
	char p[RTS_PATH_MAX];
	ssize_t n;

	if (path_fmt(p, sizeof(p), "%s/%s", dir, name) < 0)
		return -ENAMETOOLONG;
	n = raw_read_str(e, p, buf, size);
	return n < 0 ? (int)n : 0;
}

__attribute__((noinline)) int emu_write_sibling(struct emu_be *e, const char *dir, const char *name,
						const char *v)
{
	char p[RTS_PATH_MAX];

	if (path_fmt(p, sizeof(p), "%s/%s", dir, name) < 0)
		return -ENAMETOOLONG;
	return name[0] == '.' ? raw_write_str(e, p, v) : write_value(e, p, v);
}

__attribute__((noinline)) bool emu_dev_enabled(struct emu_be *e, const char *devdir)
{
	char v[16];

	return emu_read_sibling(e, devdir, "enable", v, sizeof(v)) == 0 && !strcmp(v, "1");
}

/* Control keys per plugin; numeric ones are checked like match_u64(). */
struct ctl_key {
	const char *key;
	bool numeric;
	bool locked_after_enable;
	bool mirror_attrib; /* user: also visible in attrib/ */
};

static const struct ctl_key ctl_fileio[] = {
	{ "fd_dev_name", false, false, false },
	{ "fd_dev_size", true, false, false },
	{ "fd_buffered_io", true, false, false },
	{ "fd_async_io", true, false, false },
	{ 0 },
};
static const struct ctl_key ctl_iblock[] = {
	{ "udev_path", false, false, false },
	{ "readonly", true, false, false },
	{ 0 },
};
static const struct ctl_key ctl_pscsi[] = {
	{ "scsi_host_id", true, false, false },	  { "scsi_channel_id", true, false, false },
	{ "scsi_target_id", true, false, false }, { "scsi_lun_id", true, false, false },
	{ "udev_path", false, false, false },	  { 0 },
};
static const struct ctl_key ctl_rd[] = {
	{ "rd_pages", true, false, false },
	{ "rd_nullio", true, false, false },
	{ "rd_dummy", true, false, false },
	{ 0 },
};
static const struct ctl_key ctl_user[] = {
	{ "dev_config", false, false, true },
	{ "dev_size", true, false, true },
	{ "hw_block_size", true, true, false }, /* shown from enable on (enable_geom) */
	{ "hw_max_sectors", true, true, false },
	{ "nl_reply_supported", false, true, true },
	{ "max_data_area_mb", true, true, true },
	{ "data_pages_per_blk", true, true, true },
	{ "cmd_ring_size_mb", true, true, true },
	{ 0 },
};
static const struct ctl_key *const ctl_keys[RTS_PLUGIN_MAX] = {
	ctl_fileio, ctl_iblock, ctl_pscsi, ctl_rd, ctl_user,
};

/* Look key up in the stored ".control" text. */
bool emu_ctl_get(const char *text, const char *key, char *val, size_t size)
{
	size_t kl = strlen(key);
	const char *l = text;

	while (l && *l) {
		const char *e = strchrnul(l, '\n');

		if ((size_t)(e - l) > kl && !strncmp(l, key, kl) && l[kl] == '=') {
			size_t n = MIN((size_t)(e - l) - kl - 1, size - 1);

			memcpy(val, l + kl + 1, n);
			val[n] = '\0';
			return true;
		}
		l = *e ? e + 1 : e;
	}
	return false;
}

__attribute__((noinline)) static int ctl_set(char *text, size_t size, const char *key,
					     const char *val)
{
	char out[RTS_VALUE_MAX] = "";
	size_t kl = strlen(key), n = 0;
	const char *l = text;

	while (*l) {
		const char *e = strchrnul(l, '\n');
		size_t len = (size_t)(e - l);

		if (!(len > kl && !strncmp(l, key, kl) && l[kl] == '=') && len) {
			if (n + len + 2 > sizeof(out))
				return -ENOSPC;
			memcpy(out + n, l, len);
			n += len;
			out[n++] = '\n';
		}
		l = *e ? e + 1 : e;
	}
	out[n] = '\0';
	if (path_fmt(text, size, "%s%s=%s\n", out, key, val) < 0)
		return -ENOSPC;
	return 0;
}

__attribute__((noinline)) static int control_write(struct emu_be *e, const char *dev, int plugin,
						   const char *value)
{
	char ctl[RTS_VALUE_MAX] = "", *save = NULL, *tok;
	_cleanup_free_ char *copy = NULL;
	bool enabled = emu_dev_enabled(e, dev);
	int r;

	if (strlen(value) >= RTS_VALUE_MAX)
		return -EINVAL;
	copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	emu_read_sibling(e, dev, ".control", ctl, sizeof(ctl));
	if (ctl[0])
		strcat(ctl, "\n");
	for (tok = strtok_r(copy, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save)) {
		char *eq = strchr(tok, '=');
		const struct ctl_key *k;
		uint64_t v;

		if (!eq)
			continue; /* the kernel ignores tokens it does not match */
		*eq = '\0';
		for (k = ctl_keys[plugin]; k->key; k++)
			if (!strcmp(k->key, tok))
				break;
		if (!k->key)
			continue; /* unknown keys are accepted silently (notes/vm.md) */
		if (k->numeric && parse_u64(eq + 1, &v) < 0)
			return -EINVAL;
		if (k->locked_after_enable && enabled)
			return -EINVAL;
		r = ctl_set(ctl, sizeof(ctl), k->key, eq + 1);
		if (r < 0)
			return -EINVAL;
		if (k->mirror_attrib) {
			char attr[RTS_PATH_MAX];

			if (path_fmt(attr, sizeof(attr), "%s/attrib/%s", dev, k->key) == 0)
				write_value(e, attr, eq + 1);
		}
	}
	r = emu_write_sibling(e, dev, ".control", ctl);
	if (r < 0)
		return r;
	emu_update_info(e, dev, plugin, ctl);
	return 0;
}

__attribute__((noinline)) static int dev_enable(struct emu_be *e, const char *dev, int plugin,
						const char *value)
{
	char ctl[RTS_VALUE_MAX] = "", v[512];
	int r;

	if (strcmp(value, "1"))
		return -EINVAL; /* "For dev_enable ops, only valid value is \"1\"" */
	if (emu_dev_enabled(e, dev))
		return -EEXIST;
	emu_read_sibling(e, dev, ".control", ctl, sizeof(ctl));
	switch (plugin) {
	case RTS_PLUGIN_FILEIO:
		if (!emu_ctl_get(ctl, "fd_dev_name", v, sizeof(v)) || !v[0])
			return -EINVAL;
		if (strncmp(v, "/dev/", 5) && !emu_ctl_get(ctl, "fd_dev_size", v, sizeof(v)))
			return -EINVAL;
		break;
	case RTS_PLUGIN_BLOCK:
		if (!emu_ctl_get(ctl, "udev_path", v, sizeof(v)) || !v[0])
			return -EINVAL;
		break;
	case RTS_PLUGIN_RAMDISK:
		if (!emu_ctl_get(ctl, "rd_pages", v, sizeof(v)) || !strcmp(v, "0"))
			return -EINVAL;
		break;
	case RTS_PLUGIN_PSCSI:
		if (!emu_ctl_get(ctl, "scsi_channel_id", v, sizeof(v)) ||
		    !emu_ctl_get(ctl, "scsi_target_id", v, sizeof(v)) ||
		    !emu_ctl_get(ctl, "scsi_lun_id", v, sizeof(v)))
			return -EINVAL;
		break;
	default:
		break;
	}
	r = emu_write_sibling(e, dev, "enable", "1\n");
	if (r < 0)
		return r;
	emu_enable_geom(e, dev, plugin, ctl);
	emu_update_info(e, dev, plugin, ctl);
	return 0;
}

__attribute__((noinline)) static int nexus_write(struct emu_be *e, const char *tpg,
						 const char *value)
{
	char cur[RTS_VALUE_MAX] = "";

	emu_read_sibling(e, tpg, "nexus", cur, sizeof(cur));
	if (!strcmp(value, "NULL")) {
		if (!cur[0])
			return -ENODEV;
		return emu_write_sibling(e, tpg, "nexus", "");
	}
	if (cur[0])
		return -EEXIST;
	if (strncmp(value, "naa.", 4) && strncmp(value, "fc.", 3) && strncmp(value, "iqn.", 4))
		return -EINVAL;
	if (strlen(value) > RTS_WWN_MAX)
		return -EINVAL;
	return emu_write_sibling(e, tpg, "nexus", value);
}

__attribute__((noinline)) static int tg_pt_gp_write(struct emu_be *e, const char *lundir,
						    const char *value)
{
	char target[RTS_PATH_MAX], gp[RTS_PATH_MAX], id[32], out[RTS_VALUE_MAX];
	struct rts_names l = { 0 };
	bool linked = false;
	int r;

	/* the LUN must export a device; the group must exist on that device */
	r = emu_list_dir(e, lundir, &l);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n && !linked; i++) {
		if (l.t[i] == RTS_FT_LINK &&
		    path_fmt(gp, sizeof(gp), "%s/%s", lundir, l.v[i]) == 0 &&
		    RAW(e)->readlink(RAWD(e), gp, target, sizeof(target)) >= 0)
			linked = true;
	}
	names_free(&l);
	if (!linked)
		return -ENODEV;
	if (rts_name_validate(value, NULL) < 0 ||
	    path_fmt(gp, sizeof(gp), "%s/alua/%s", target, value) < 0 ||
	    emu_read_sibling(e, gp, "tg_pt_gp_id", id, sizeof(id)) < 0)
		return -ENODEV;
	(void)out;
	return emu_lun_alua_show(e, lundir, target, value);
}

__attribute__((noinline)) static int lu_gp_write(struct emu_be *e, const char *dev,
						 const char *value)
{
	char gp[RTS_PATH_MAX], id[32], out[RTS_VALUE_MAX];

	if (rts_name_validate(value, NULL) < 0 ||
	    path_fmt(gp, sizeof(gp), "target/core/alua/lu_gps/%s", value) < 0 ||
	    emu_read_sibling(e, gp, "lu_gp_id", id, sizeof(id)) < 0)
		return -EINVAL;
	snprintf(out, sizeof(out), "LU Group Alias: %.255s\nLU Group ID: %.31s\n", value, id);
	return emu_write_sibling(e, dev, "alua_lu_gp", out);
}

/* Number of LUNs exporting the device holding attribute directory dir (attrib/ or wwn/). */
__attribute__((noinline)) static unsigned int dev_exports(struct emu_be *e, const char *dir)
{
	char dev[RTS_PATH_MAX];

	if (emu_dir_name(dir, dev, sizeof(dev)) < 0)
		return 0;
	return emu_link_count(e, dev);
}

/* se_dev_set_block_size(): backends with max_bytes_per_io (fileio) rescale hw_max_sectors */
__attribute__((noinline)) static void fileio_rescale(struct emu_be *e, const char *attrib,
						     uint64_t bs)
{
	char dev[RTS_PATH_MAX], hw[32];

	if (emu_dir_name(attrib, dev, sizeof(dev)) == 0 && emu_dev_enabled(e, dev)) {
		snprintf(hw, sizeof(hw), "%" PRIu64 "\n", (uint64_t)FD_MAX_BYTES / bs);
		emu_write_sibling(e, attrib, "hw_max_sectors", hw);
	}
}

__attribute__((noinline)) static int update_authenticate_target(struct emu_be *e, const char *dir)
{
	char u[RTS_CHAP_MAX + 2] = "", pw[RTS_CHAP_MAX + 2] = "";
	bool set;

	emu_read_sibling(e, dir, "userid_mutual", u, sizeof(u));
	emu_read_sibling(e, dir, "password_mutual", pw, sizeof(pw));
	set = (u[0] && strcmp(u, "NULL")) || (pw[0] && strcmp(pw, "NULL"));
	return emu_write_sibling(e, dir, "authenticate_target", set ? "1\n" : "0\n");
}

static int emu_write(void *d, const char *p, const char *buf, size_t len)
{
	struct emu_be *e = d;
	char dir[RTS_PATH_MAX], value[RTS_VALUE_MAX], out[RTS_VALUE_MAX + 64];
	const struct emu_attr *a;
	struct emu_loc loc;
	enum rts_ftype t;
	uint64_t v;
	int r;

	if (is_hidden(emu_base_name(p)))
		return -EACCES;
	r = raw_type(e, p, &t);
	if (r < 0)
		return r;
	if (t == RTS_FT_DIR)
		return -EISDIR;
	if (t == RTS_FT_LINK)
		return -EINVAL;
	r = attr_of(p, &loc, &a, dir, sizeof(dir));
	if (r < 0)
		return r;
	if (!a) /* not in the model (planted by a test): plain write */
		return RAW(e)->write(RAWD(e), p, buf, len);
	if (a->mode == M_RO)
		return -EACCES;
	if (len >= sizeof(value) || memchr(buf, '\0', len))
		return -EINVAL;
	memcpy(value, buf, len);
	value[len] = '\0';
	strip_trailing(value);
	snprintf(out, sizeof(out), "%s\n", value);

	/* the domains the kernel enforces: one table with the tools (attr_domain.c) */
	if (loc.kind == K_DEV_ATTRIB ||
	    ((loc.kind == K_TPG_ATTRIB || loc.kind == K_ACL_ATTRIB) && loc.fabric &&
	     (loc.fabric->kflags & FK_ISCSI_ATTRS))) {
		enum rts_attr_obj o = loc.kind == K_DEV_ATTRIB ? RTS_ATTR_SO :
				      loc.kind == K_TPG_ATTRIB ? RTS_ATTR_ISCSI_TPG :
								 RTS_ATTR_ISCSI_ACL;

		if (rts_attr_check(o, emu_base_name(p), value, NULL, 0) < 0)
			return -EINVAL;
	}

	switch ((enum emu_check)a->check) {
	case C_NONE:
	case C_NO_SESSION: /* read-only: refused above */
		break;
	case C_BOOL:
	case C_TPG_ENABLE:
		if (strcmp(value, "0") && strcmp(value, "1"))
			return -EINVAL;
		break;
	case C_UINT:
		if (parse_u64(value, &v) < 0 || v > UINT32_MAX)
			return -EINVAL;
		break;
	case C_INT: {
		char *end;
		long long n;

		errno = 0;
		n = strtoll(value, &end, 10);
		if (!value[0] || *end || errno || n < INT32_MIN || n > INT32_MAX)
			return -EINVAL;
		break;
	}
	case C_ALUA_TYPE: {
		static const char *const types[] = { "None", "Implicit", "Explicit",
						     "Implicit and Explicit" };

		if (parse_u64(value, &v) < 0 || v > 3)
			return -EINVAL;
		snprintf(out, sizeof(out), "%s\n", types[v]);
		break;
	}
	case C_BLOCK_DEV:
		if (strcmp(value, "0") && strcmp(value, "1"))
			return -EINVAL;
		snprintf(out, sizeof(out), "%s\n", value[0] == '1' ? "blocked" : "unblocked");
		break;
	case C_LOOP_STATUS:
		if (strcmp(value, "online") && strcmp(value, "offline"))
			return -EINVAL;
		break;
	case C_STR: {
		bool auth = loc.kind == K_TPG_AUTH || loc.kind == K_ACL_AUTH ||
			    loc.kind == K_DISC_AUTH;

		if (strlen(value) > (auth ? RTS_CHAP_MAX : 511U))
			return -EINVAL;
		if (auth && loc.kind != K_DISC_AUTH && !strcmp(value, "NULL"))
			strcpy(out, "\n"); /* iSCSI auth: "NULL" clears */
		if (loc.kind == K_ACL && !strcmp(a->name, "tag"))
			/* core_tpg_set_initiator_node_tag(); shown without a newline */
			snprintf(out, sizeof(out), "%s", strcmp(value, "NULL") ? value : "");
		if (auth && strstr(a->name, "_mutual")) {
			/* iscsi_target_configfs.c: mutual credentials make the target authenticate */
			r = raw_write_str(e, p, out);
			if (r < 0)
				return r;
			return update_authenticate_target(e, dir);
		}
		break;
	}
	case C_CONTROL:
		return control_write(e, dir, loc.plugin, value);
	case C_DEV_ENABLE:
		return dev_enable(e, dir, loc.plugin, value);
	case C_NEXUS:
		return nexus_write(e, dir, value);
	case C_SERIAL:
		if (!printable(value, 254) || dev_exports(e, dir))
			return -EINVAL;
		snprintf(out, sizeof(out), "T10 VPD Unit Serial Number: %s\n", value);
		break;
	case C_VENDOR:
	case C_PRODUCT:
	case C_REVISION: {
		size_t max = a->check == C_VENDOR ? 8 : a->check == C_PRODUCT ? 16 : 4;

		if (!printable(value, max) || dev_exports(e, dir))
			return -EINVAL;
		break;
	}
	case C_TG_PT_GP:
		return tg_pt_gp_write(e, dir, value);
	case C_LU_GP:
		return lu_gp_write(e, dir, value);
	case C_CMDSN:
		/* the TPG default needs >= 1; an ACL's depth only checks the maximum (6.1) */
		if (parse_u64(value, &v) < 0 || v < (loc.kind == K_ACL ? 0 : 1) || v > 512)
			return -EINVAL;
		break;
	case C_DBROOT:
		if (value[0] != '/' || strlen(value) >= RTS_PATH_MAX)
			return -EINVAL;
		break;
	case C_ALUA_STATE: {
		char id[32] = "";

		if (parse_u64(value, &v) < 0 || !(v <= 4 || v == 14 || v == 15))
			return -EINVAL;
		emu_read_sibling(e, dir, "tg_pt_gp_id", id, sizeof(id));
		if (!strcmp(id, "0") && strcmp(emu_base_name(dir), "default_tg_pt_gp"))
			return -EINVAL; /* implicit ALUA needs a valid tg_pt_gp_id */
		break;
	}
	case C_BLOCK_SIZE:
		if (parse_u64(value, &v) < 0 ||
		    !(v == 512 || v == 1024 || v == 2048 || v == 4096) || dev_exports(e, dir))
			return -EINVAL;
		if (loc.plugin == RTS_PLUGIN_FILEIO)
			fileio_rescale(e, dir, v);
		break;
	case C_QUEUE_DEPTH:
	case C_OPTIMAL_SECTORS: {
		/* 6.1 queue_depth_store() / optimal_sectors_store(): no zero queue depth, not
		 * above the hardware's limit, nothing while LUNs export the device */
		const char *hw_name = a->check == C_QUEUE_DEPTH ? "hw_queue_depth" :
								   "hw_max_sectors";
		char hw[32] = "";
		uint64_t h = 0;

		if (parse_u64(value, &v) < 0 || v > UINT32_MAX ||
		    (a->check == C_QUEUE_DEPTH && v == 0) || dev_exports(e, dir))
			return -EINVAL;
		if (emu_read_sibling(e, dir, hw_name, hw, sizeof(hw)) == 0)
			hw[strcspn(hw, "\n")] = '\0';
		if (parse_u64(hw, &h) == 0 && h && v > h)
			return -EINVAL;
		break;
	}
	case C_DEV_CONFIGURED_RO:
		/* dir is <dev>/attrib: cut it to the device */
		*strrchr(dir, '/') = '\0';
		if (parse_u64(value, &v) < 0 || emu_dev_enabled(e, dir))
			return -EINVAL;
		break;
	}
	return raw_write_str(e, p, out);
}

/* ------------------------------------------------------------ ops: listing */

static int emu_stat(void *d, const char *p, enum rts_ftype *type)
{
	struct emu_be *e = d;

	if (is_hidden(emu_base_name(p)))
		return -ENOENT;
	return RAW(e)->stat(RAWD(e), p, type);
}

struct filter_ctx {
	rts_dirent_fn fn;
	void *ud;
};

static int filter_cb(void *ud, const char *name, enum rts_ftype type)
{
	struct filter_ctx *f = ud;

	if (is_hidden(name))
		return 0;
	return f->fn(f->ud, name, type);
}

static int emu_readdir(void *d, const char *p, rts_dirent_fn fn, void *ud)
{
	struct emu_be *e = d;
	struct filter_ctx f = { fn, ud };

	return RAW(e)->readdir(RAWD(e), p, filter_cb, &f);
}

static void links_free(struct emu_be *e)
{
	for (size_t i = 0; i < e->links.size; i++) {
		struct rts_index_slot *s = &e->links.slots[i];

		if (s->value)
			free(s->value);
	}
	index_free(&e->links);
}

static void emu_destroy(void *d)
{
	struct emu_be *e = d;

	links_free(e);
	rts_backend_free(e->raw);
	free(e);
}

static const struct rts_backend_ops emu_ops = {
	.struct_size = sizeof(struct rts_backend_ops),
	.mkdir = emu_mkdir,
	.rmdir = emu_rmdir,
	.symlink = emu_symlink,
	.unlink = emu_unlink,
	.readlink = emu_readlink,
	.read = emu_read,
	.write = emu_write,
	.stat = emu_stat,
	.readdir = emu_readdir,
	.destroy = emu_destroy,
};

/* Count the symlinks already present below p (emulating an existing directory). */
static int count_link(struct emu_be *e, const char *path, enum rts_ftype type)
{
	char target[RTS_PATH_MAX];

	if (type == RTS_FT_LINK && RAW(e)->readlink(RAWD(e), path, target, sizeof(target)) >= 0)
		return link_inc(e, target);
	return 0;
}

static int scan_links(struct emu_be *e, const char *p)
{
	return raw_walk(e, p, count_link, NULL);
}

/*
 * A directory shared by several processes changes under an emulator built earlier: the
 * context calls this each time it takes the transaction lock, and the symlink counts are
 * recounted from the raw backend before their next use (EBUSY on rmdir of a link target).
 */
int emu_invalidate(struct rts_backend *be)
{
	if (!be || be->ops != &emu_ops)
		return -EINVAL;
	((struct emu_be *)be->data)->links_stale = true;
	return 0;
}

RTS_EXPORT int rts_backend_new_emulated(struct rts_backend *raw, struct rts_backend **ret)
{
	struct emu_be *e;
	enum rts_ftype t;
	int r;

	if (!raw)
		return -EINVAL;
	if (!ret) {
		rts_backend_free(raw);
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		rts_backend_free(raw);
		return -ENOMEM;
	}
	e->raw = raw;
	if (raw_type(e, "target", &t) < 0) {
		struct emu_loc loc = { .kind = K_TGT, .plugin = -1, .is_default = true };

		r = populate(e, "target", &loc);
	} else {
		/* an existing tree: count its symlinks when first needed */
		e->links_stale = true;
		r = 0;
	}
	if (r < 0) {
		emu_destroy(e);
		return r;
	}
	r = rts_backend_new(&emu_ops, e, ret);
	if (r < 0) {
		emu_destroy(e);
		return r;
	}
	(*ret)->raw = raw;
	return 0;
}

/*
 * Permission bits the kernel shows for path (root-relative) of type t: what a plain
 * directory under the emulator cannot store. Used by captures of emulated trees
 * (tests/vm/librts_probe.c) to compare them with captures of the real configfs.
 */
unsigned int emu_model_mode(const char *path, enum rts_ftype t)
{
	char dir[RTS_PATH_MAX];
	const struct emu_attr *a;
	struct emu_loc loc;

	if (t == RTS_FT_DIR)
		return 0755;
	if (t == RTS_FT_LINK)
		return 0777;
	if (attr_of(path, &loc, &a, dir, sizeof(dir)) < 0 || !a)
		return 0644;
	return a->mode == M_RO ? 0444 : a->mode == M_WO ? 0200 : 0644;
}
