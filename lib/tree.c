/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The object tree: constructors and destructors (no filesystem access) and the single walk
 * of configfs that builds the tree. Every object is also registered by configfs path in
 * ctx->index, so link resolution and lookups never rescan.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

static int reg(struct rts_ctx *ctx, const char *path, void *obj)
{
	return index_put(&ctx->index, path, obj);
}

/* ------------------------------------------------------------ constructors */

struct rts_so *so_add(struct rts_ctx *ctx, enum rts_plugin plugin, uint32_t hba, const char *name)
{
	struct rts_so *so = calloc(1, sizeof(*so));

	if (!so)
		return NULL;
	so->ctx = ctx;
	so->plugin = plugin;
	so->hba_index = hba;
	so->name = strdup(name);
	so->path = path_dup("target/core/%s_%u/%s", rts_plugin_name(plugin), hba, name);
	so->key = path_dup("@%s/%s", rts_plugin_name(plugin), name);
	list_init(&so->alua);
	ctx->so_absent[0] = '\0';
	if (!so->name || !so->path || !so->key || reg(ctx, so->path, so) < 0) {
		free(so->name);
		free(so->path);
		free(so->key);
		free(so);
		return NULL;
	}
	if (reg(ctx, so->key, so) < 0) {
		index_del(&ctx->index, so->path);
		free(so->name);
		free(so->path);
		free(so->key);
		free(so);
		return NULL;
	}
	list_add_tail(&ctx->sos, &so->node);
	if (hba >= ctx->hba_next[plugin])
		ctx->hba_next[plugin] = hba + 1;
	return so;
}

struct rts_alua_tpg *alua_add(struct rts_so *so, const char *name)
{
	struct rts_alua_tpg *gp = calloc(1, sizeof(*gp));

	if (!gp)
		return NULL;
	gp->so = so;
	gp->name = strdup(name);
	gp->path = path_dup("%s/alua/%s", so->path, name);
	if (!gp->name || !gp->path || reg(so->ctx, gp->path, gp) < 0) {
		free(gp->name);
		free(gp->path);
		free(gp);
		return NULL;
	}
	list_add_tail(&so->alua, &gp->node);
	return gp;
}

struct rts_fabric *fabric_add(struct rts_ctx *ctx, const struct rts_fabric_spec *spec, bool owns,
			      bool from_spec)
{
	struct rts_fabric *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->ctx = ctx;
	f->spec = *spec;
	f->owns_strings = owns;
	f->from_spec = from_spec;
	f->features = spec->features;
	f->path = path_dup("target/%s", spec->cfs_name);
	list_init(&f->targets);
	if (!f->path) {
		free(f);
		return NULL;
	}
	list_add_tail(&ctx->fabrics, &f->node);
	return f;
}

struct rts_target *target_add(struct rts_fabric *f, const char *wwn, const char *cfs_name)
{
	struct rts_target *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fabric = f;
	t->wwn = strdup(wwn);
	t->path = path_dup("%s/%s", f->path, cfs_name);
	list_init(&t->tpgs);
	if (!t->wwn || !t->path || reg(f->ctx, t->path, t) < 0) {
		free(t->wwn);
		free(t->path);
		free(t);
		return NULL;
	}
	list_add_tail(&f->targets, &t->node);
	return t;
}

struct rts_tpg *tpg_add(struct rts_target *t, uint16_t tag)
{
	struct rts_tpg *tpg = calloc(1, sizeof(*tpg));
	struct rts_tpg *pos;

	if (!tpg)
		return NULL;
	tpg->target = t;
	tpg->tag = tag;
	tpg->path = path_dup("%s/tpgt_%u", t->path, tag);
	list_init(&tpg->luns);
	list_init(&tpg->acls);
	list_init(&tpg->portals);
	if (!tpg->path || reg(t->fabric->ctx, tpg->path, tpg) < 0) {
		free(tpg->path);
		free(tpg);
		return NULL;
	}
	/* keep tags ascending */
	list_for_each(&t->tpgs, pos, node)
		if (pos->tag > tag)
			break;
	list_add_tail(pos ? &pos->node : &t->tpgs, &tpg->node);
	return tpg;
}

static struct rts_ctx *tpg_ctx(const struct rts_tpg *tpg)
{
	return tpg->target->fabric->ctx;
}

struct rts_lun *lun_add(struct rts_tpg *tpg, uint64_t index, struct rts_so *so, const char *alias)
{
	struct rts_lun *lun = calloc(1, sizeof(*lun));
	struct list_node *at = &tpg->luns;

	if (!lun)
		return NULL;
	lun->tpg = tpg;
	lun->index = index;
	lun->linked = lun->so_resolved = true; /* callers reading configfs clear them */
	lun->so = so;
	lun->alias = alias ? strdup(alias) : NULL;
	lun->path = path_dup("%s/lun/lun_%llu", tpg->path, (unsigned long long)index);
	if ((alias && !lun->alias) || !lun->path || reg(tpg_ctx(tpg), lun->path, lun) < 0) {
		free(lun->alias);
		free(lun->path);
		free(lun);
		return NULL;
	}
	/* ascending index; search from the tail since ids mostly grow */
	for (struct list_node *n = tpg->luns.prev; n != &tpg->luns; n = n->prev) {
		if (list_entry(n, struct rts_lun, node)->index < index) {
			at = n->next;
			break;
		}
		at = n;
	}
	list_add_tail(at, &lun->node);
	if (so)
		so->lun_count++;
	return lun;
}

struct rts_portal *portal_add(struct rts_tpg *tpg, const char *ip, uint16_t port, bool v6)
{
	struct rts_portal *np = calloc(1, sizeof(*np));

	if (!np)
		return NULL;
	np->tpg = tpg;
	np->ip = strdup(ip);
	np->port = port;
	np->ipv6 = v6;
	np->path = v6 ? path_dup("%s/np/[%s]:%u", tpg->path, ip, port) :
			path_dup("%s/np/%s:%u", tpg->path, ip, port);
	if (!np->ip || !np->path || reg(tpg_ctx(tpg), np->path, np) < 0) {
		free(np->ip);
		free(np->path);
		free(np);
		return NULL;
	}
	list_add_tail(&tpg->portals, &np->node);
	return np;
}

struct rts_acl *acl_add(struct rts_tpg *tpg, const char *wwn, const char *cfs_name)
{
	struct rts_acl *acl = calloc(1, sizeof(*acl));

	if (!acl)
		return NULL;
	acl->tpg = tpg;
	acl->wwn = strdup(wwn);
	acl->path = path_dup("%s/acls/%s", tpg->path, cfs_name);
	list_init(&acl->mapped);
	if (!acl->wwn || !acl->path || reg(tpg_ctx(tpg), acl->path, acl) < 0) {
		free(acl->wwn);
		free(acl->path);
		free(acl);
		return NULL;
	}
	list_add_tail(&tpg->acls, &acl->node);
	return acl;
}

struct rts_mapped_lun *mlun_add(struct rts_acl *acl, uint64_t index, struct rts_lun *lun)
{
	struct rts_mapped_lun *m = calloc(1, sizeof(*m));
	struct list_node *at = &acl->mapped;

	if (!m)
		return NULL;
	m->acl = acl;
	m->index = index;
	m->lun = lun;
	m->path = path_dup("%s/lun_%llu", acl->path, (unsigned long long)index);
	if (!m->path || reg(tpg_ctx(acl->tpg), m->path, m) < 0) {
		free(m->path);
		free(m);
		return NULL;
	}
	for (struct list_node *n = acl->mapped.prev; n != &acl->mapped; n = n->prev) {
		if (list_entry(n, struct rts_mapped_lun, node)->index < index) {
			at = n->next;
			break;
		}
		at = n;
	}
	list_add_tail(at, &m->node);
	if (lun)
		lun->mapped_count++;
	return m;
}

struct rts_lu_gp *lu_gp_add(struct rts_ctx *ctx, const char *name)
{
	struct rts_lu_gp *gp = calloc(1, sizeof(*gp));

	if (!gp)
		return NULL;
	gp->ctx = ctx;
	gp->name = strdup(name);
	gp->path = path_dup("target/core/alua/lu_gps/%s", name);
	if (!gp->name || !gp->path || reg(ctx, gp->path, gp) < 0) {
		free(gp->name);
		free(gp->path);
		free(gp);
		return NULL;
	}
	list_add_tail(&ctx->lu_gps, &gp->node);
	return gp;
}

/* ------------------------------------------------------------ destructors */

void lu_gp_free(struct rts_lu_gp *gp)
{
	index_del(&gp->ctx->index, gp->path);
	list_del(&gp->node);
	free(gp->name);
	free(gp->path);
	free(gp);
}

void mlun_free(struct rts_mapped_lun *m)
{
	index_del(&tpg_ctx(m->acl->tpg)->index, m->path);
	list_del(&m->node);
	if (m->lun)
		m->lun->mapped_count--;
	free(m->path);
	free(m);
}

void acl_free(struct rts_acl *acl)
{
	struct rts_mapped_lun *m, *tmp;

	list_for_each_safe(&acl->mapped, m, tmp, node)
		mlun_free(m);
	index_del(&tpg_ctx(acl->tpg)->index, acl->path);
	list_del(&acl->node);
	free(acl->wwn);
	free(acl->path);
	free(acl);
}

void lun_free(struct rts_lun *lun)
{
	index_del(&tpg_ctx(lun->tpg)->index, lun->path);
	list_del(&lun->node);
	if (lun->so)
		lun->so->lun_count--;
	free(lun->alias);
	free(lun->so_path);
	free(lun->path);
	free(lun);
}

void portal_free(struct rts_portal *np)
{
	index_del(&tpg_ctx(np->tpg)->index, np->path);
	list_del(&np->node);
	free(np->ip);
	free(np->path);
	free(np);
}

/* What is below a TPG, the parts in @parts (TPG_*: also what a failed ensure_tpg() read). */
static void tpg_free_parts(struct rts_tpg *tpg, unsigned int parts)
{
	struct rts_acl *acl, *ta;
	struct rts_lun *lun, *tl;
	struct rts_portal *np, *tn;

	if (parts & TPG_ACLS)
		list_for_each_safe(&tpg->acls, acl, ta, node)
			acl_free(acl);
	if (parts & TPG_LUNS)
		list_for_each_safe(&tpg->luns, lun, tl, node)
			lun_free(lun);
	if (parts & TPG_PORTALS)
		list_for_each_safe(&tpg->portals, np, tn, node)
			portal_free(np);
}

void tpg_free(struct rts_tpg *tpg)
{
	tpg_free_parts(tpg, TPG_ALL);
	index_del(&tpg_ctx(tpg)->index, tpg->path);
	list_del(&tpg->node);
	free(tpg->path);
	free(tpg);
}

void target_free(struct rts_target *t)
{
	struct rts_tpg *tpg, *tmp;

	list_for_each_safe(&t->tpgs, tpg, tmp, node)
		tpg_free(tpg);
	index_del(&t->fabric->ctx->index, t->path);
	list_del(&t->node);
	free(t->wwn);
	free(t->path);
	free(t);
}

void fabric_free(struct rts_fabric *f)
{
	struct rts_target *t, *tmp;

	list_for_each_safe(&f->targets, t, tmp, node)
		target_free(t);
	list_del(&f->node);
	if (f->owns_strings)
		fabric_spec_clear(&f->spec);
	free(f->path);
	free(f);
}

void alua_free(struct rts_alua_tpg *gp)
{
	index_del(&gp->so->ctx->index, gp->path);
	list_del(&gp->node);
	free(gp->name);
	free(gp->path);
	free(gp);
}

void so_free(struct rts_so *so)
{
	struct rts_alua_tpg *gp, *tmp;

	list_for_each_safe(&so->alua, gp, tmp, node)
		alua_free(gp);
	index_del(&so->ctx->index, so->path);
	index_del(&so->ctx->index, so->key);
	list_del(&so->node);
	free(so->name);
	free(so->path);
	free(so->key);
	free(so);
}

/* Storage objects and LU groups. */
static void core_free(struct rts_ctx *ctx)
{
	struct rts_so *so, *ts;
	struct rts_lu_gp *gp, *tg;

	list_for_each_safe(&ctx->lu_gps, gp, tg, node)
		lu_gp_free(gp);
	list_for_each_safe(&ctx->sos, so, ts, node)
		so_free(so);
	memset(ctx->hba_next, 0, sizeof(ctx->hba_next));
}

void tree_free(struct rts_ctx *ctx)
{
	struct rts_fabric *f, *tf;

	list_for_each_safe(&ctx->fabrics, f, tf, node)
		fabric_free(f);
	core_free(ctx);
	names_free(&ctx->core_hbas);
	ctx->core_listed = false;
	ctx->so_absent[0] = '\0';
	index_free(&ctx->index);
	ctx->top_walked = false;
	ctx->core_walked = false;
}

/* ------------------------------------------------------------ the walk */

static int plugin_of_hba(const char *name, enum rts_plugin *plugin, uint32_t *idx)
{
	for (int i = 0; i < RTS_PLUGIN_MAX; i++) {
		const char *pn = rts_plugin_name((enum rts_plugin)i);
		size_t n = strlen(pn);
		uint64_t v;

		if (!strncmp(name, pn, n) && name[n] == '_' && parse_u64(name + n + 1, &v) == 0 &&
		    v <= UINT32_MAX) {
			*plugin = (enum rts_plugin)i;
			*idx = (uint32_t)v;
			return 0;
		}
	}
	return -EINVAL;
}

#define NOMEM(ctx, p) rts_error(ctx, -ENOMEM, p, "out of memory")

/* target/core's entries, read once per tree; every HBA index counts for the next one. */
static int core_list(struct rts_ctx *ctx)
{
	int r;

	if (ctx->core_listed)
		return 0;
	r = names_list_opt(ctx, "target/core", &ctx->core_hbas);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->core_hbas.n; i++) {
		enum rts_plugin plugin;
		uint32_t idx;

		if (ctx->core_hbas.t[i] == RTS_FT_DIR &&
		    plugin_of_hba(ctx->core_hbas.v[i], &plugin, &idx) == 0 &&
		    idx >= ctx->hba_next[plugin])
			ctx->hba_next[plugin] = idx + 1;
	}
	ctx->core_listed = true;
	return 0;
}

/* The storage object directory "target/core/<hba>/<name>" if it is one: 1, 0 when not. */
static int so_dir_exists(struct rts_ctx *ctx, const char *path)
{
	enum rts_ftype t;
	int r = ctx->be->ops->stat(ctx->be->data, path, &t);

	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r < 0)
		return rts_error(ctx, r, path, "cannot stat: %s", strerror(-r));
	return t == RTS_FT_DIR;
}

/*
 * One storage object by name, without listing every HBA (a 1,000-backstore tree has 1,000):
 * target/core is listed and <hba>/<name> looked up in each HBA of @plugin. What it finds
 * joins the tree; walk_core() later skips it.
 */
int so_probe(struct rts_ctx *ctx, enum rts_plugin plugin, const char *name, struct rts_so **ret)
{
	char key[RTS_NAME_MAX + 16], path[RTS_PATH_MAX];
	int r;

	*ret = NULL;
	if (path_fmt(key, sizeof(key), "@%s/%s", rts_plugin_name(plugin), name) < 0)
		return 0; /* too long to exist */
	*ret = index_get(&ctx->index, key);
	if (*ret || ctx->core_walked || strcmp(key, ctx->so_absent) == 0)
		return 0;
	r = ensure_top(ctx);
	if (r < 0 || (r = core_list(ctx)) < 0)
		return r;
	for (size_t i = 0; i < ctx->core_hbas.n; i++) {
		enum rts_plugin pl;
		uint32_t idx;

		if (ctx->core_hbas.t[i] != RTS_FT_DIR ||
		    plugin_of_hba(ctx->core_hbas.v[i], &pl, &idx) < 0 || pl != plugin ||
		    path_fmt(path, sizeof(path), "target/core/%s/%s", ctx->core_hbas.v[i], name) < 0)
			continue;
		r = so_dir_exists(ctx, path);
		if (r < 0)
			return r;
		if (r) {
			*ret = so_add(ctx, plugin, idx, name);
			return *ret ? 0 : NOMEM(ctx, path);
		}
	}
	memcpy(ctx->so_absent, key, strlen(key) + 1);
	return 0;
}

/* The storage object at @path ("target/core/<hba>/<name>"), probed like so_probe(). */
static int so_probe_path(struct rts_ctx *ctx, const char *path, struct rts_so **ret)
{
	char hba[RTS_NAME_MAX + 32];
	const char *name = path + strlen("target/core/"), *slash = strchr(name, '/');
	enum rts_plugin plugin;
	uint32_t idx;
	int r;

	*ret = index_get(&ctx->index, path);
	if (*ret || ctx->core_walked)
		return 0;
	if (!slash || (size_t)(slash - name) >= sizeof(hba))
		return 0;
	memcpy(hba, name, (size_t)(slash - name));
	hba[slash - name] = '\0';
	if (plugin_of_hba(hba, &plugin, &idx) < 0)
		return 0;
	r = so_dir_exists(ctx, path);
	if (r <= 0)
		return r;
	r = core_list(ctx); /* hba_next must see every HBA before anything is created */
	if (r < 0)
		return r;
	*ret = so_add(ctx, plugin, idx, slash + 1);
	return *ret ? 0 : NOMEM(ctx, path);
}

/*
 * Storage objects and LU groups: target/core/<plugin>_<n>/<name>. Their ALUA groups are read
 * by ensure_so_alua() when asked for. Storage objects so_probe() found are kept.
 */
static int walk_core(struct rts_ctx *ctx)
{
	struct rts_names devs, gps;
	char path[RTS_PATH_MAX];
	int r;

	r = names_list_opt(ctx, "target/core/alua/lu_gps", &gps);
	for (size_t k = 0; r >= 0 && k < gps.n; k++)
		if (gps.t[k] == RTS_FT_DIR && !lu_gp_add(ctx, gps.v[k]))
			r = NOMEM(ctx, gps.v[k]);
	names_free(&gps);
	if (r < 0)
		return r;
	r = core_list(ctx);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->core_hbas.n && r >= 0; i++) {
		const char *hba = ctx->core_hbas.v[i];
		enum rts_plugin plugin;
		uint32_t idx;

		if (ctx->core_hbas.t[i] != RTS_FT_DIR || plugin_of_hba(hba, &plugin, &idx) < 0)
			continue;
		r = path_fmt(path, sizeof(path), "target/core/%s", hba);
		if (r < 0 || (r = names_list(ctx, path, &devs)) < 0)
			break;
		for (size_t j = 0; j < devs.n && r >= 0; j++) {
			char p[RTS_PATH_MAX];

			if (devs.t[j] != RTS_FT_DIR)
				continue;
			if (path_fmt(p, sizeof(p), "target/core/%s/%s", hba, devs.v[j]) >= 0 &&
			    index_get(&ctx->index, p))
				continue; /* probed already */
			if (!so_add(ctx, plugin, idx, devs.v[j]))
				r = NOMEM(ctx, devs.v[j]);
		}
		names_free(&devs);
	}
	return r;
}

int ensure_so_alua(struct rts_so *so)
{
	struct rts_ctx *ctx = so->ctx;
	char path[RTS_PATH_MAX];
	struct rts_names gps;
	int r;

	if (so->alua_walked)
		return 0;
	r = path_fmt(path, sizeof(path), "%s/alua", so->path);
	if (r < 0)
		return rts_error(ctx, r, so->path, "path too long");
	r = names_list_opt(ctx, path, &gps);
	for (size_t k = 0; r >= 0 && k < gps.n; k++)
		if (gps.t[k] == RTS_FT_DIR && !alua_add(so, gps.v[k]))
			r = NOMEM(ctx, gps.v[k]);
	names_free(&gps);
	if (r < 0) {
		struct rts_alua_tpg *gp, *tmp;

		list_for_each_safe(&so->alua, gp, tmp, node)
			alua_free(gp);
		return r;
	}
	so->alua_walked = true;
	return 0;
}

/* "target/core/<hba>/<dev>" */
static bool is_so_path(const char *p)
{
	int slashes = 0;

	if (strncmp(p, "target/core/", 12))
		return false;
	for (; *p; p++)
		slashes += *p == '/';
	return slashes == 3;
}

/* "<tpg>/lun/lun_N" */
static bool is_lun_path_of(const struct rts_tpg *tpg, const char *p)
{
	size_t n = strlen(tpg->path);

	return !strncmp(p, tpg->path, n) && !strncmp(p + n, "/lun/lun_", 9) &&
	       !strchr(p + n + 5, '/');
}

/* The storage object a LUN directory links to. */
static int lun_link(struct rts_ctx *ctx, const char *lundir, char **alias, char *target,
		    size_t size)
{
	struct rts_names l;
	int r = names_list(ctx, lundir, &l);

	*alias = NULL;
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n; i++) {
		char p[RTS_PATH_MAX];

		if (l.t[i] != RTS_FT_LINK || path_fmt(p, sizeof(p), "%s/%s", lundir, l.v[i]) < 0)
			continue;
		r = ctx->be->ops->readlink(ctx->be->data, p, target, size);
		if (r < 0) {
			r = rts_error(ctx, r, p, "cannot read link: %s", strerror(-r));
			break;
		}
		*alias = strdup(l.v[i]);
		r = *alias ? 1 : NOMEM(ctx, p);
		break;
	}
	names_free(&l);
	return r;
}

/* The LUN directories; each link is read when asked for (lun_read_link). */
static int walk_luns(struct rts_ctx *ctx, struct rts_tpg *tpg)
{
	struct rts_names l;
	char path[RTS_PATH_MAX];
	int r;

	r = path_fmt(path, sizeof(path), "%s/lun", tpg->path);
	if (r < 0 || (r = names_list_opt(ctx, path, &l)) < 0)
		return r;
	for (size_t i = 0; i < l.n && r >= 0; i++) {
		struct rts_lun *lun;
		uint64_t idx;

		if (l.t[i] != RTS_FT_DIR || strncmp(l.v[i], "lun_", 4) ||
		    parse_u64(l.v[i] + 4, &idx) < 0)
			continue;
		lun = lun_add(tpg, idx, NULL, NULL);
		if (!lun) {
			r = NOMEM(ctx, l.v[i]);
			break;
		}
		lun->linked = lun->so_resolved = false;
	}
	names_free(&l);
	return r;
}

int lun_read_link(struct rts_lun *lun)
{
	struct rts_ctx *ctx = tpg_ctx(lun->tpg);
	char target[RTS_PATH_MAX];
	char *alias = NULL;
	int r;

	if (lun->linked)
		return 0;
	r = lun_link(ctx, lun->path, &alias, target, sizeof(target));
	if (r < 0)
		return r;
	if (r > 0 && is_so_path(target)) {
		lun->so_path = strdup(target);
		if (!lun->so_path) {
			free(alias);
			return NOMEM(ctx, lun->path);
		}
	} else {
		lun->so_resolved = true; /* no link, or not to a storage object */
	}
	lun->alias = alias;
	lun->linked = true;
	return 0;
}

/* The storage object @lun exports (NULL: none, or it could not be read: see the error). */
struct rts_so *lun_get_so(struct rts_lun *lun)
{
	struct rts_ctx *ctx = tpg_ctx(lun->tpg);

	if (lun->so_resolved)
		return lun->so;
	if (lun_read_link(lun) < 0)
		return NULL;
	if (!lun->so_resolved) {
		if (so_probe_path(ctx, lun->so_path, &lun->so) < 0)
			return NULL;
		if (lun->so)
			lun->so->lun_count++;
		free(lun->so_path);
		lun->so_path = NULL;
		lun->so_resolved = true;
	}
	return lun->so;
}

/*
 * One line of <dev>/alua/<group>/members, "<fabric name>/<wwn>/tpgt_<tag>/lun_<n>": the LUN
 * it names, read and resolved. 1 when it exports @so, 0 when this tree cannot place it.
 */
static int member_lun(struct rts_so *so, char *line)
{
	struct rts_ctx *ctx = so->ctx;
	char *lun_s = strrchr(line, '/'), *tpg_s, *wwn;
	struct rts_fabric *f;
	uint64_t tag, index;
	int r;

	if (!lun_s)
		return 0;
	*lun_s++ = '\0';
	tpg_s = strrchr(line, '/');
	if (!tpg_s)
		return 0;
	*tpg_s++ = '\0';
	wwn = strchr(line, '/');
	if (!wwn || strncmp(tpg_s, "tpgt_", 5) || strncmp(lun_s, "lun_", 4) ||
	    parse_u64(tpg_s + 5, &tag) < 0 || parse_u64(lun_s + 4, &index) < 0)
		return 0;
	*wwn++ = '\0';
	/* the kernel's fabric_name: the configfs directory's, but "iSCSI" for iscsi */
	list_for_each(&ctx->fabrics, f, node) {
		struct rts_target *t;

		if (strcasecmp(f->spec.cfs_name, line))
			continue;
		r = ensure_fabric(f);
		if (r < 0)
			return r;
		list_for_each(&f->targets, t, node) {
			const char *dir = strrchr(t->path, '/') + 1;
			struct rts_tpg *tpg;

			if (strcmp(dir, wwn))
				continue;
			list_for_each(&t->tpgs, tpg, node) {
				struct rts_lun *lun;

				if (tpg->tag != tag)
					continue;
				r = ensure_tpg_parts(tpg, TPG_LUNS);
				if (r < 0)
					return r;
				list_for_each(&tpg->luns, lun, node)
					if (lun->index == index)
						return lun_get_so(lun) == so;
				return 0;
			}
			return 0;
		}
		return 0;
	}
	return 0;
}

/*
 * The LUNs exporting @so from what the kernel shows of the device, not from every TPG:
 * <dev>/info starts "Status: DEACTIVATED" when no LUN exports it (export_count 0), else each
 * exporting LUN is in one ALUA group's members page. 1 when that told everything, 0 when
 * it could not: no info file (the plain in-memory backend), ALUA passthrough (its LUNs join
 * no group), a page that may have been cut at PAGE_SIZE, a line this tree cannot place.
 */
static int so_exporters_shown(struct rts_so *so)
{
	struct rts_ctx *ctx = so->ctx;
	const struct rts_backend_ops *ops = ctx->be->ops;
	struct rts_alua_tpg *gp;
	char path[RTS_PATH_MAX], buf[4097];
	ssize_t n;
	int r;

	if (path_fmt(path, sizeof(path), "%s/info", so->path) < 0 ||
	    (n = ops->read(ctx->be->data, path, buf, sizeof(buf) - 1)) < 0)
		return 0;
	buf[n] = '\0';
	if (!strncmp(buf, "Status: DEACTIVATED", 19))
		return 1;
	if (strncmp(buf, "Status: ACTIVATED", 17))
		return 0;
	if (path_fmt(path, sizeof(path), "%s/attrib/alua_support", so->path) < 0 ||
	    (n = ops->read(ctx->be->data, path, buf, sizeof(buf) - 1)) < 1 || buf[0] != '1')
		return 0;
	r = ensure_so_alua(so);
	if (r < 0)
		return r;
	list_for_each(&so->alua, gp, node) {
		size_t at = 0;

		if (path_fmt(path, sizeof(path), "%s/members", gp->path) < 0 ||
		    (n = ops->read(ctx->be->data, path, buf, sizeof(buf) - 1)) < 0)
			return 0;
		/* a line is at most ~260 bytes: one more might not have fit */
		if (n > 4096 - 300)
			return 0;
		buf[n] = '\0';
		while (at < (size_t)n) { /* "line\n\0" per LUN */
			char *line = buf + at, *nl;

			if (!*line) {
				at++;
				continue;
			}
			nl = strchr(line, '\n');
			if (!nl)
				return 0;
			*nl = '\0';
			at = (size_t)(nl - buf) + 1;
			r = member_lun(so, line);
			if (r <= 0)
				return r;
		}
	}
	return 1;
}

int ensure_so_exporters(struct rts_so *so)
{
	int r;

	if (so->exporters_read)
		return 0;
	/* every storage object was read (an iteration: ls, save): every TPG is wanted too, and
	 * one read of each costs less than asking the kernel about each object */
	r = so->ctx->core_walked ? 0 : so_exporters_shown(so);
	if (r < 0)
		return r;
	if (r == 0)
		r = ensure_tpgs(so->ctx, TPG_LUNS);
	if (r >= 0)
		so->exporters_read = true;
	return r;
}

static int walk_portals(struct rts_ctx *ctx, struct rts_tpg *tpg)
{
	struct rts_names l;
	char path[RTS_PATH_MAX];
	int r;

	r = path_fmt(path, sizeof(path), "%s/np", tpg->path);
	if (r < 0 || (r = names_list_opt(ctx, path, &l)) < 0)
		return r;
	for (size_t i = 0; i < l.n && r >= 0; i++) {
		char ip[64];
		uint16_t port;
		bool v6;

		if (l.t[i] != RTS_FT_DIR || portal_parse_name(l.v[i], ip, sizeof(ip), &port, &v6) < 0)
			continue;
		r = portal_add(tpg, ip, port, v6) ? 0 : NOMEM(ctx, l.v[i]);
	}
	names_free(&l);
	return r;
}

/* ACLs and their mapped LUNs, which link to the TPG's LUNs (read first). */
static int walk_acls(struct rts_ctx *ctx, struct rts_tpg *tpg)
{
	struct rts_names l, ml;
	char path[RTS_PATH_MAX], target[RTS_PATH_MAX];
	int r;

	r = path_fmt(path, sizeof(path), "%s/acls", tpg->path);
	if (r < 0 || (r = names_list_opt(ctx, path, &l)) < 0)
		return r;
	for (size_t i = 0; i < l.n && r >= 0; i++) {
		char wwn[RTS_WWN_MAX + 8];
		struct rts_acl *acl;

		if (l.t[i] != RTS_FT_DIR)
			continue;
		if (fabric_from_fabric_wwn(tpg->target->fabric, l.v[i], wwn, sizeof(wwn)) < 0)
			snprintf(wwn, sizeof(wwn), "%s", l.v[i]);
		acl = acl_add(tpg, wwn, l.v[i]);
		if (!acl) {
			r = NOMEM(ctx, l.v[i]);
			break;
		}
		r = names_list(ctx, acl->path, &ml);
		for (size_t j = 0; j < ml.n && r >= 0; j++) {
			_cleanup_free_ char *alias = NULL;
			struct rts_lun *lun = NULL;
			uint64_t idx;

			if (ml.t[j] != RTS_FT_DIR || strncmp(ml.v[j], "lun_", 4) ||
			    parse_u64(ml.v[j] + 4, &idx) < 0)
				continue;
			r = path_fmt(path, sizeof(path), "%s/%s", acl->path, ml.v[j]);
			if (r < 0)
				break;
			r = lun_link(ctx, path, &alias, target, sizeof(target));
			if (r < 0)
				break;
			if (r > 0 && is_lun_path_of(tpg, target))
				lun = index_get(&ctx->index, target);
			r = mlun_add(acl, idx, lun) ? 0 : NOMEM(ctx, path);
		}
		names_free(&ml);
	}
	names_free(&l);
	return r;
}

/*
 * Read the @parts (TPG_LUNS, TPG_PORTALS, TPG_ACLS) of @tpg not read yet. A mapped LUN's link
 * resolves to a LUN, so the ACLs bring the LUNs. A part that fails to read is freed and stays
 * unread.
 */
int ensure_tpg_parts(struct rts_tpg *tpg, unsigned int parts)
{
	static const struct {
		unsigned int part;
		int (*walk)(struct rts_ctx *ctx, struct rts_tpg *tpg);
	} order[] = { { TPG_LUNS, walk_luns }, { TPG_PORTALS, walk_portals }, { TPG_ACLS, walk_acls } };
	struct rts_ctx *ctx = tpg_ctx(tpg);
	int r;

	if (parts & TPG_ACLS)
		parts |= TPG_LUNS;
	if (!(parts & ~tpg->walked))
		return 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(parts & order[i].part) || (tpg->walked & order[i].part))
			continue;
		r = order[i].walk(ctx, tpg);
		if (r < 0) {
			tpg_free_parts(tpg, order[i].part);
			return r;
		}
		tpg->walked |= order[i].part;
	}
	return 0;
}

int ensure_tpg(struct rts_tpg *tpg)
{
	return ensure_tpg_parts(tpg, TPG_ALL);
}

/* A fabric's targets and their TPGs; what is below a TPG waits for ensure_tpg(). */
static int walk_fabric(struct rts_ctx *ctx, struct rts_fabric *f)
{
	struct rts_names wl, tl;
	int r = names_list_opt(ctx, f->path, &wl);

	if (r < 0)
		return r;
	for (size_t i = 0; i < wl.n && r >= 0; i++) {
		char wwn[RTS_WWN_MAX + 8];
		struct rts_target *t;

		if (wl.t[i] != RTS_FT_DIR || !strcmp(wl.v[i], "discovery_auth"))
			continue;
		if (fabric_from_fabric_wwn(f, wl.v[i], wwn, sizeof(wwn)) < 0)
			snprintf(wwn, sizeof(wwn), "%s", wl.v[i]);
		t = target_add(f, wwn, wl.v[i]);
		if (!t) {
			r = NOMEM(ctx, wl.v[i]);
			break;
		}
		r = names_list(ctx, t->path, &tl);
		for (size_t j = 0; j < tl.n && r >= 0; j++) {
			uint64_t tag;

			if (tl.t[j] != RTS_FT_DIR || strncmp(tl.v[j], "tpgt_", 5) ||
			    parse_u64(tl.v[j] + 5, &tag) < 0 || tag > UINT16_MAX)
				continue;
			if (!tpg_add(t, (uint16_t)tag))
				r = NOMEM(ctx, tl.v[j]);
		}
		names_free(&tl);
	}
	names_free(&wl);
	fabric_probe(f);
	return r;
}

int ensure_fabric(struct rts_fabric *f)
{
	int r;

	if (f->walked)
		return 0;
	if (!f->loaded) { /* no directory: no targets */
		f->walked = true;
		return 0;
	}
	r = walk_fabric(f->ctx, f);
	if (r < 0) {
		struct rts_target *t, *tmp;

		list_for_each_safe(&f->targets, t, tmp, node)
			target_free(t);
		return r;
	}
	f->walked = true;
	return 0;
}

static int load_spec_files(struct rts_ctx *ctx)
{
	struct dirent **names = NULL;
	int n;

	if (!ctx->spec_dir)
		return 0;
	n = scandir(ctx->spec_dir, &names, NULL, alphasort);
	if (n < 0)
		return 0; /* no spec directory: nothing to add */
	for (int i = 0; i < n; i++) {
		char path[RTS_PATH_MAX], name[RTS_NAME_MAX + 1], text[RTS_VALUE_MAX + 1];
		const char *dot = strrchr(names[i]->d_name, '.');
		struct rts_fabric_spec spec;
		FILE *fp;
		size_t len;

		if (!dot || strcmp(dot, ".spec") || names[i]->d_name[0] == '.' ||
		    path_fmt(path, sizeof(path), "%s/%s", ctx->spec_dir, names[i]->d_name) < 0) {
			free(names[i]);
			continue;
		}
		snprintf(name, sizeof(name), "%.*s", (int)(dot - names[i]->d_name),
			 names[i]->d_name);
		free(names[i]);
		fp = fopen(path, "re");
		if (!fp)
			continue;
		len = fread(text, 1, RTS_VALUE_MAX, fp);
		fclose(fp);
		text[len] = '\0';
		if (fabric_spec_parse(name, text, &spec) < 0) {
			rts_dbg(ctx, "ignoring invalid fabric spec '%s'", path);
			continue;
		}
		if (!fabric_add(ctx, &spec, true, true))
			fabric_spec_clear(&spec);
	}
	free(names);
	return 0;
}

static struct rts_fabric *fabric_by_cfs(struct rts_ctx *ctx, const char *cfs)
{
	struct rts_fabric *f;

	list_for_each(&ctx->fabrics, f, node)
		if (!strcmp(f->spec.cfs_name, cfs))
			return f;
	return NULL;
}

/* The fabrics: known ones, spec files, and every directory under target/ (loaded ones). */
static int walk_top(struct rts_ctx *ctx)
{
	struct rts_names top;
	int r;

	r = load_spec_files(ctx);
	if (r < 0)
		return r;
	for (size_t i = 0; i < rts_fabric_table_len; i++)
		if (!fabric_by_cfs(ctx, rts_fabric_table[i].cfs_name) &&
		    !fabric_add(ctx, &rts_fabric_table[i], false, false))
			return NOMEM(ctx, rts_fabric_table[i].name);
	r = names_list_opt(ctx, "target", &top);
	if (r < 0)
		return r;
	for (size_t i = 0; i < top.n && r >= 0; i++) {
		struct rts_fabric *f;

		if (top.t[i] != RTS_FT_DIR || !strcmp(top.v[i], "core"))
			continue;
		f = fabric_by_cfs(ctx, top.v[i]);
		if (!f) {
			/* a fabric nobody described: keep it, free-form WWNs */
			struct rts_fabric_spec spec = {
				.name = strdup(top.v[i]),
				.cfs_name = strdup(top.v[i]),
				.module = strdup(top.v[i]),
				.wwn_types = RTS_WWN_MASK(RTS_WWN_FREE),
				.native = RTS_WWN_FREE,
				.max_tpgt = 65535,
			};

			if (!spec.name || !spec.cfs_name || !spec.module ||
			    !(f = fabric_add(ctx, &spec, true, false))) {
				fabric_spec_clear(&spec);
				r = NOMEM(ctx, top.v[i]);
				break;
			}
		}
		f->loaded = true;
		fabric_probe(f);
	}
	names_free(&top);
	return r;
}

int ensure_top(struct rts_ctx *ctx)
{
	int r;

	if (ctx->top_walked)
		return 0;
	r = walk_top(ctx);
	if (r < 0) {
		tree_free(ctx); /* nothing of the tree was handed out yet */
		return r;
	}
	ctx->top_walked = true;
	return 0;
}

int ensure_core(struct rts_ctx *ctx)
{
	struct list_node *mark;
	int r;

	if (ctx->core_walked)
		return 0;
	r = ensure_top(ctx);
	if (r < 0)
		return r;
	mark = ctx->sos.prev;
	r = walk_core(ctx);
	if (r < 0) {
		/* what the walk read goes; storage objects probed before stay (LUNs point at them) */
		struct rts_lu_gp *gp, *tg;

		list_for_each_safe(&ctx->lu_gps, gp, tg, node)
			lu_gp_free(gp);
		while (ctx->sos.prev != mark)
			so_free(list_entry(ctx->sos.prev, struct rts_so, node));
		return r;
	}
	ctx->core_walked = true;
	return 0;
}

/*
 * The @parts (TPG_*) of every TPG of every fabric, with every LUN's storage object resolved:
 * what needs the whole picture (a storage object's LUN count, its delete, clear).
 */
int ensure_tpgs(struct rts_ctx *ctx, unsigned int parts)
{
	struct rts_fabric *f;
	int r;

	r = ensure_core(ctx);
	if (r < 0)
		return r;
	list_for_each(&ctx->fabrics, f, node) {
		struct rts_target *t;

		r = ensure_fabric(f);
		if (r < 0)
			return r;
		list_for_each(&f->targets, t, node) {
			struct rts_tpg *tpg;

			list_for_each(&t->tpgs, tpg, node) {
				struct rts_lun *lun;

				r = ensure_tpg_parts(tpg, parts | TPG_LUNS);
				if (r < 0)
					return r;
				list_for_each(&tpg->luns, lun, node)
					if (!lun_get_so(lun) && !lun->so_resolved)
						return ctx->err.code < 0 ? ctx->err.code : -EIO;
			}
		}
	}
	return 0;
}

int ensure_tree(struct rts_ctx *ctx)
{
	return ensure_tpgs(ctx, TPG_ALL);
}
