/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl ls [PATH] [--depth N] [--json]: targetcli-like tree of the live configuration. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rtsctl.h"

struct node {
	char *name;
	char *info;
	struct node **kids;
	size_t n;
};

static struct node *node_new(struct node *parent, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct node *node_new(struct node *parent, const char *name, const char *fmt, ...)
{
	struct node *n = calloc(1, sizeof(*n));
	va_list ap;

	if (!n)
		abort();
	n->name = strdup(name);
	if (fmt) {
		va_start(ap, fmt);
		if (vasprintf(&n->info, fmt, ap) < 0)
			n->info = NULL;
		va_end(ap);
	}
	if (parent) {
		struct node **k = realloc(parent->kids, (parent->n + 1) * sizeof(*k));

		if (!k)
			abort();
		parent->kids = k;
		parent->kids[parent->n++] = n;
	}
	return n;
}

static void node_free(struct node *n)
{
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n->info);
	free(n);
}

/*
 * Children in targetcli's order: by name, a trailing number compared as a number (lun2
 * before lun10, client9 before client10), like configshell's natural sort key.
 */
static int natural_cmp(const void *a, const void *b)
{
	const char *x = (*(struct node *const *)a)->name, *y = (*(struct node *const *)b)->name;
	size_t lx = strlen(x), ly = strlen(y), px = lx, py = ly, nx, ny;
	int r;

	while (px > 0 && x[px - 1] >= '0' && x[px - 1] <= '9')
		px--;
	while (py > 0 && y[py - 1] >= '0' && y[py - 1] <= '9')
		py--;
	r = strncmp(x, y, px < py ? px : py); /* the prefixes first */
	if (r || px != py)
		return r ? r : (px < py ? -1 : 1);
	/* the same prefix: the numbers (none counts as 0) by value, leading zeros ignored */
	while (px < lx - 1 && x[px] == '0')
		px++;
	while (py < ly - 1 && y[py] == '0')
		py++;
	nx = lx - px;
	ny = ly - py;
	if (nx != ny)
		return nx < ny ? -1 : 1;
	r = strcmp(x + px, y + py);
	return r ? r : strcmp(x, y);
}

static void node_sort(struct node *n)
{
	if (n->n > 1)
		qsort(n->kids, n->n, sizeof(*n->kids), natural_cmp);
}

static void human(uint64_t v, char *buf, size_t size)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = (double)v;
	int i = 0;

	while (d >= 1024 && i < 5) {
		d /= 1024;
		i++;
	}
	pfmt(buf, size, i ? "%.1f%s" : "%.0f%s", d, u[i]);
}

static void build_so(struct node *plugin, struct rts_so *so)
{
	char *dev = NULL, sz[32];
	uint64_t size = 0;
	unsigned int luns;
	struct rts_alua_tpg *gp;
	struct node *n, *alua;

	/* a ramdisk has no backing device or file: targetcli shows none, nor is it read here */
	if (rts_so_get_plugin(so) != RTS_PLUGIN_RAMDISK)
		rts_so_get_udev_path(so, &dev);
	rts_so_get_size(so, &size);
	human(size, sz, sizeof(sz));
	luns = rts_so_get_lun_count(so);
	/* "activated" as targetcli says it: exported by a LUN (the kernel's info "Status:") */
	n = node_new(plugin, rts_so_get_name(so), "%s%s(%s) %s, %u LUN(s)", dev && *dev ? dev : "",
		     dev && *dev ? " " : "", sz, luns ? "activated" : "deactivated", luns);
	free(dev);
	alua = node_new(n, "alua", NULL);
	rts_for_each_alua_tpg(so, gp)
	{
		char *id = NULL, *st = NULL;

		rts_alua_tpg_get_attr(gp, "tg_pt_gp_id", &id);
		rts_alua_tpg_get_attr(gp, "alua_access_state", &st);
		node_new(alua, rts_alua_tpg_get_name(gp), "id %s, state %s", id ? id : "?",
			 st ? st : "?");
		free(id);
		free(st);
	}
	node_sort(alua);
}

static void build_tpg(struct node *tn, struct rts_tpg *tpg)
{
	char name[32];
	struct node *n, *luns, *nps, *acls;
	struct rts_lun *lun;
	struct rts_portal *np;
	struct rts_acl *acl;
	bool en = true;

	rts_tpg_get_enable(tpg, &en);
	pfmt(name, sizeof(name), "tpg%u", rts_tpg_get_tag(tpg));
	n = node_new(tn, name, "%s", en ? "enabled" : "disabled");
	acls = node_new(n, "acls", NULL);
	rts_for_each_acl(tpg, acl) {
		struct node *an;
		struct rts_mapped_lun *m;
		size_t cnt = 0;

		rts_for_each_mapped_lun(acl, m)
			cnt++;
		an = node_new(acls, rts_acl_get_wwn(acl), "%zu mapped LUN(s)", cnt);
		rts_for_each_mapped_lun(acl, m) {
			bool wp = false;
			struct rts_lun *l = rts_mapped_lun_get_lun(m);

			rts_mapped_lun_get_write_protect(m, &wp);
			pfmt(name, sizeof(name), "mapped_lun%" PRIu64, rts_mapped_lun_get_index(m));
			node_new(an, name, "lun%" PRIu64 " %s", l ? rts_lun_get_index(l) : 0,
				 wp ? "ro" : "rw");
		}
	}
	node_sort(acls);
	luns = node_new(n, "luns", NULL);
	rts_for_each_lun(tpg, lun) {
		struct rts_so *so = rts_lun_get_so(lun);

		pfmt(name, sizeof(name), "lun%" PRIu64, rts_lun_get_index(lun));
		if (so)
			node_new(luns, name, "/backstores/%s/%s",
				 plugin_rtslib_name(rts_so_get_plugin(so)), rts_so_get_name(so));
		else
			node_new(luns, name, "unlinked");
	}
	nps = node_new(n, "portals", NULL);
	rts_for_each_portal(tpg, np) {
		char p[96];

		pfmt(p, sizeof(p), rts_portal_is_ipv6(np) ? "[%s]:%u" : "%s:%u",
		     rts_portal_get_ip(np), rts_portal_get_port(np));
		node_new(nps, p, NULL);
	}
	node_sort(nps);
}

/* A path component names @name: as spelled, or a WWN in any spelling the fabric accepts. */
static bool names(struct rts_fabric *f, const char *tok, const char *name)
{
	char alt[RTS_WWN_MAX + 1];

	if (!tok || !strcmp(tok, name))
		return true;
	return f && rts_fabric_normalize_wwn(f, tok, alt, sizeof(alt)) == 0 && !strcmp(alt, name);
}

/*
 * The tree under the path's first components @tok[0..2] (NULL: all): `ls` of one TPG reads
 * that TPG, not the whole configuration. The nodes on the way are built whole only where the
 * path ends at them.
 */
static struct node *build(struct rts_ctx *ctx, char *const tok[3])
{
	struct node *root = node_new(NULL, "/", NULL);
	struct rts_so *so;
	struct rts_fabric *f;

	if (!tok[0] || !strcmp(tok[0], "backstores")) {
		struct node *bs = node_new(root, "backstores", NULL), *pn[RTS_PLUGIN_MAX];

		for (int p = 0; p < RTS_PLUGIN_MAX; p++)
			pn[p] = node_new(bs, plugin_rtslib_name((enum rts_plugin)p), NULL);
		rts_for_each_storage_object(ctx, so)
			build_so(pn[rts_so_get_plugin(so)], so);
		for (int p = 0; p < RTS_PLUGIN_MAX; p++)
			node_sort(pn[p]);
	}
	if (!tok[0] || !strcmp(tok[0], "alua")) {
		struct node *alua = node_new(root, "alua", NULL),
			    *lus = node_new(alua, "lu_gps", NULL);
		struct rts_lu_gp *lg;

		rts_for_each_lu_gp(ctx, lg)
		{
			char *id = NULL;

			rts_lu_gp_get_attr(lg, "lu_gp_id", &id);
			node_new(lus, rts_lu_gp_get_name(lg), "id %s", id ? id : "?");
			free(id);
		}
		node_sort(lus);
	}
	rts_for_each_fabric(ctx, f) {
		struct node *fn;
		struct rts_target *t;
		size_t cnt = 0;

		if (!rts_fabric_is_loaded(f) || !names(NULL, tok[0], rts_fabric_get_name(f)))
			continue;
		rts_for_each_target(f, t)
			cnt++;
		fn = node_new(root, rts_fabric_get_name(f), "%zu target(s)", cnt);
		rts_for_each_target(f, t) {
			struct node *tn;
			struct rts_tpg *tpg;

			if (tok[0] && !names(f, tok[1], rts_target_get_wwn(t)))
				continue;
			tn = node_new(fn, rts_target_get_wwn(t), NULL);
			rts_for_each_tpg(t, tpg) {
				char name[32];

				pfmt(name, sizeof(name), "tpg%u", rts_tpg_get_tag(tpg));
				if (!tok[0] || !tok[1] || names(NULL, tok[2], name))
					build_tpg(tn, tpg);
			}
		}
		node_sort(fn);
	}
	return root;
}

static void print_text(struct node *n, int level, int depth)
{
	printf("%*so- %s", level * 2, "", n->name);
	if (n->info)
		printf(" [%s]", n->info);
	if (n->kids && !n->info && n->n)
		printf(" [%zu]", n->n);
	putchar('\n');
	if (depth == 0)
		return;
	for (size_t i = 0; i < n->n; i++)
		print_text(n->kids[i], level + 1, depth - 1);
}

static struct json_object *to_json(struct node *n, const char *path, int depth)
{
	struct json_object *o = json_object_new_object(), *kids = json_object_new_array();
	char p[1200];

	json_object_object_add(o, "name", json_object_new_string(n->name));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "info", n->info ? json_object_new_string(n->info) : NULL);
	for (size_t i = 0; depth != 0 && i < n->n; i++) {
		pfmt(p, sizeof(p), "%s/%s", strcmp(path, "/") ? path : "", n->kids[i]->name);
		json_object_array_add(kids, to_json(n->kids[i], p, depth - 1));
	}
	json_object_object_add(o, "children", kids);
	return o;
}

int cmd_ls(struct cli *c, int argc, char **argv)
{
	const char *path = argc > 0 ? argv[0] : "/";
	struct objref ref;
	struct node *root, *n;
	char buf[1024], *save = NULL, *tok, canon[1200] = "";
	int ret = EXIT_OK;

	if (argc > 1) {
		errorf("ls takes at most one PATH");
		return EXIT_USAGE;
	}
	if (objref_parse(c, path, &ref) < 0)
		return EXIT_USAGE;
	if (objref_resolve(c, &ref) < 0) {
		errorf("%s: no such object", path);
		return EXIT_FAIL;
	}
	pfmt(buf, sizeof(buf), "%s", path);
	{
		char scope_buf[1024], *scope[3] = { NULL, NULL, NULL }, *sv = NULL;

		pfmt(scope_buf, sizeof(scope_buf), "%s", path);
		scope[0] = strtok_r(scope_buf, "/", &sv);
		scope[1] = scope[0] ? strtok_r(NULL, "/", &sv) : NULL;
		scope[2] = scope[1] ? strtok_r(NULL, "/", &sv) : NULL;
		root = build(c->ctx, scope);
	}
	n = root;
	for (tok = strtok_r(buf, "/", &save); tok && n; tok = strtok_r(NULL, "/", &save)) {
		struct node *next = NULL;
		char alt[RTS_WWN_MAX + 1];

		/* WWNs may be given in any spelling the fabric accepts */
		if (ref.fab && rts_fabric_normalize_wwn(ref.fab, tok, alt, sizeof(alt)) < 0)
			pfmt(alt, sizeof(alt), "%s", tok);
		else if (!ref.fab)
			pfmt(alt, sizeof(alt), "%s", tok);
		for (size_t i = 0; i < n->n && !next; i++)
			if (!strcmp(n->kids[i]->name, tok) || !strcmp(n->kids[i]->name, alt) ||
			    (!strcmp(tok, "block") && !strcmp(n->kids[i]->name, "block")))
				next = n->kids[i];
		if (!next && !strcmp(n->name, "backstores")) {
			enum rts_plugin pl;

			if (rts_plugin_from_name(tok, &pl) == 0)
				next = n->kids[pl];
		}
		n = next;
		if (n)
			pfmt(canon + strlen(canon), sizeof(canon) - strlen(canon), "/%s", n->name);
	}
	if (!n) {
		errorf("%s: no such object", path);
		ret = EXIT_FAIL;
	} else if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "tree", to_json(n, *canon ? canon : "/", c->depth));
		cli_print_json(o);
		json_object_put(o);
	} else {
		print_text(n, 0, c->depth);
	}
	node_free(root);
	return ret;
}
