/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fabric modules and everything below them: targets, TPGs, LUNs, network portals, node
 * ACLs, mapped LUNs, CHAP credentials and iSCSI session information.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define FCTX(f) ((f)->ctx)
#define TCTX(t) ((t)->fabric->ctx)
#define GCTX(g) ((g)->target->fabric->ctx)
/* What is below a TPG is read when first needed: every entry point taking a TPG and
 * reaching its LUNs, portals or ACLs starts with this, naming the parts it reaches. */
#define ENSURE_TPG(tpg, parts)                            \
	do {                                              \
		int er_ = ensure_tpg_parts(tpg, parts);   \
		if (er_ < 0)                              \
			return er_;                       \
	} while (0)

/* ------------------------------------------------------------ fabrics */

RTS_EXPORT struct rts_fabric *rts_fabric_first(struct rts_ctx *ctx)
{
	assert_return(ctx, NULL);
	if (ensure_top(ctx) < 0)
		return NULL;
	return list_first(&ctx->fabrics, struct rts_fabric, node);
}

RTS_EXPORT struct rts_fabric *rts_fabric_next(struct rts_fabric *f)
{
	assert_return(f, NULL);
	return list_next(&f->ctx->fabrics, f, node);
}

RTS_EXPORT int rts_fabric_lookup(struct rts_ctx *ctx, const char *name, struct rts_fabric **ret)
{
	struct rts_fabric *f;
	int r;

	assert_return(ctx && ret, -EINVAL);
	r = check_name(ctx, "fabric", name);
	if (r < 0)
		return r;
	r = ensure_top(ctx);
	if (r < 0)
		return r;
	list_for_each(&ctx->fabrics, f, node) {
		if (!strcmp(f->spec.name, name) || !strcmp(f->spec.cfs_name, name)) {
			*ret = f;
			return 0;
		}
	}
	return rts_error(ctx, -ENOENT, name, "unknown fabric '%s'", name);
}

RTS_GETTER(const char *, rts_fabric_get_name, struct rts_fabric, f, NULL, f->spec.name)
RTS_GETTER(const char *, rts_fabric_get_configfs_name, struct rts_fabric, f, NULL, f->spec.cfs_name)
RTS_GETTER(const char *, rts_fabric_get_kernel_module, struct rts_fabric, f, NULL, f->spec.module)
RTS_GETTER(unsigned int, rts_fabric_get_wwn_types, struct rts_fabric, f, 0, f->spec.wwn_types)

RTS_EXPORT unsigned int rts_fabric_get_features(const struct rts_fabric *f)
{
	assert_return(f, 0);
	/* NEXUS and AUTH are probed on a TPG: read the targets (a cache, hence the cast) */
	ensure_fabric((struct rts_fabric *)f);
	return f->features;
}

RTS_GETTER(bool, rts_fabric_is_loaded, struct rts_fabric, f, false, f->loaded)
RTS_GETTER(bool, rts_fabric_is_from_spec, struct rts_fabric, f, false, f->from_spec)

/* Refine the features with what the live tree shows (files present). */
void fabric_probe(struct rts_fabric *f)
{
	struct rts_ctx *ctx = f->ctx;
	char p[RTS_PATH_MAX];
	struct rts_target *t;

	if (!f->loaded)
		return;
	/*
	 * The kernel makes discovery_auth/ for every fabric (target_core_fabric_configfs.c);
	 * only a fabric with discovery attributes (iSCSI) fills it.
	 */
	if (path_fmt(p, sizeof(p), "%s/discovery_auth/enforce_discovery_auth", f->path) == 0) {
		if (cfs_exists(ctx, p, RTS_FT_FILE))
			f->features |= RTS_FEAT_DISCOVERY_AUTH;
		else
			f->features &= ~RTS_FEAT_DISCOVERY_AUTH;
	}
	list_for_each(&f->targets, t, node) {
		struct rts_tpg *tpg = list_first(&t->tpgs, struct rts_tpg, node);

		if (!tpg)
			continue;
		if (path_fmt(p, sizeof(p), "%s/nexus", tpg->path) == 0) {
			if (cfs_exists(ctx, p, RTS_FT_FILE))
				f->features |= RTS_FEAT_NEXUS;
			else
				f->features &= ~RTS_FEAT_NEXUS;
		}
		if (path_fmt(p, sizeof(p), "%s/auth/userid", tpg->path) == 0) {
			if (cfs_exists(ctx, p, RTS_FT_FILE))
				f->features |= RTS_FEAT_AUTH;
			else
				f->features &= ~RTS_FEAT_AUTH;
		}
		break;
	}
}

RTS_EXPORT int rts_fabric_load(struct rts_fabric *f, bool load_module)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_ctx *ctx;
	int r;

	assert_return(f, -EINVAL);
	ctx = f->ctx;
	if (load_module) {
		r = rts_ctx_load_module(ctx, f->spec.module);
		if (r < 0)
			return r;
	}
	if (f->loaded)
		return 0;
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	if (!cfs_exists(ctx, f->path, RTS_FT_DIR)) {
		r = cfs_mkdir(ctx, f->path);
		if (r < 0)
			return r;
	}
	f->loaded = true;
	fabric_probe(f);
	return 0;
}

RTS_EXPORT int rts_fabric_normalize_wwn(const struct rts_fabric *f, const char *wwn, char *buf,
					size_t size)
{
	assert_return(f && wwn && buf, -EINVAL);
	return rts_wwn_normalize(wwn, f->spec.wwn_types, buf, size, NULL);
}

RTS_EXPORT int rts_fabric_to_fabric_wwn(const struct rts_fabric *f, const char *wwn, char *buf,
					size_t size)
{
	size_t n = 0;

	assert_return(f && wwn && buf, -EINVAL);
	if ((f->spec.kflags & FK_COLON_WWN) && !strncmp(wwn, "naa.", 4)) {
		const char *h = wwn + 4;

		for (size_t i = 0; h[i]; i++) {
			if (i && i % 2 == 0) {
				if (n + 1 >= size)
					return -ENOSPC;
				buf[n++] = ':';
			}
			if (n + 1 >= size)
				return -ENOSPC;
			buf[n++] = h[i];
		}
		buf[n] = '\0';
		return 0;
	}
	if ((f->spec.kflags & FK_HEX0X_WWN) && !strncmp(wwn, "ib.", 3))
		return path_fmt(buf, size, "0x%s", wwn + 3) < 0 ? -ENOSPC : 0;
	if ((f->spec.kflags & FK_BARE_WWN) && !strncmp(wwn, "eui.", 4))
		return path_fmt(buf, size, "%s", wwn + 4) < 0 ? -ENOSPC : 0;
	return path_fmt(buf, size, "%s", wwn) < 0 ? -ENOSPC : 0;
}

int fabric_from_fabric_wwn(const struct rts_fabric *f, const char *cfs, char *buf, size_t size)
{
	if (f->spec.kflags & (FK_COLON_WWN | FK_HEX0X_WWN | FK_BARE_WWN))
		return rts_wwn_normalize(cfs, f->spec.wwn_types, buf, size, NULL);
	return path_fmt(buf, size, "%s", cfs) < 0 ? -ENOSPC : 0;
}

static const char *const chap_files[4] = { "userid", "password", "userid_mutual",
					   "password_mutual" };

static char *chap_field(struct rts_chap *chap, int i)
{
	switch (i) {
	case 0:
		return chap->userid;
	case 1:
		return chap->password;
	case 2:
		return chap->mutual_userid;
	default:
		return chap->mutual_password;
	}
}

__attribute__((noinline)) static int read_chap(struct rts_ctx *ctx, const char *dir,
					       struct rts_chap *chap)
{
	*chap = (struct rts_chap){ 0 };
	for (int i = 0; i < 4; i++) {
		_cleanup_free_ char *v = NULL;
		int r = obj_get_attr(ctx, dir, RTS_GROUP_NONE, chap_files[i], &v);

		if (r < 0)
			return r;
		/* the kernel shows unset discovery credentials as "NULL" */
		if (strcmp(v, "NULL"))
			snprintf(chap_field(chap, i), RTS_CHAP_MAX + 1, "%s", v);
	}
	return 0;
}

__attribute__((noinline)) static int write_chap(struct rts_ctx *ctx, const char *dir,
						const struct rts_chap *chap)
{
	struct rts_chap empty = { 0 };

	if (!chap)
		chap = &empty;
	for (int i = 0; i < 4; i++) {
		const char *v = chap_field((struct rts_chap *)chap, i);
		int r;

		if (strnlen(v, RTS_CHAP_MAX + 1) > RTS_CHAP_MAX || strpbrk(v, "\n"))
			return rts_error(ctx, -EINVAL, dir, "invalid CHAP %s", chap_files[i]);
		/* the kernel clears a credential on "NULL"; an empty write is a no-op */
		r = obj_set_attr(ctx, dir, RTS_GROUP_NONE, chap_files[i], *v ? v : "NULL");
		if (r < 0)
			return r;
	}
	return 0;
}

RTS_EXPORT int rts_fabric_get_discovery_auth(struct rts_fabric *f, bool *enforce,
					     struct rts_chap *chap)
{
	_cleanup_free_ char *v = NULL;
	char dir[RTS_PATH_MAX];
	int r;

	assert_return(f && enforce && chap, -EINVAL);
	if (!(f->features & RTS_FEAT_DISCOVERY_AUTH) || !f->loaded)
		return rts_error(f->ctx, -EOPNOTSUPP, f->path, "no discovery authentication");
	r = path_fmt(dir, sizeof(dir), "%s/discovery_auth", f->path);
	if (r < 0)
		return rts_error(f->ctx, r, f->path, "path too long");
	r = obj_get_attr(f->ctx, dir, RTS_GROUP_NONE, "enforce_discovery_auth", &v);
	if (r < 0)
		return r;
	*enforce = !strcmp(v, "1");
	return read_chap(f->ctx, dir, chap);
}

RTS_EXPORT int rts_fabric_set_discovery_auth(struct rts_fabric *f, bool enforce,
					     const struct rts_chap *chap)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char dir[RTS_PATH_MAX];
	int r;

	assert_return(f, -EINVAL);
	if (!(f->features & RTS_FEAT_DISCOVERY_AUTH) || !f->loaded)
		return rts_error(f->ctx, -EOPNOTSUPP, f->path, "no discovery authentication");
	r = path_fmt(dir, sizeof(dir), "%s/discovery_auth", f->path);
	if (r < 0)
		return rts_error(f->ctx, r, f->path, "path too long");
	r = txn_begin(f->ctx, &txn);
	if (r < 0)
		return r;
	if (chap) {
		r = write_chap(f->ctx, dir, chap);
		if (r < 0)
			return r;
	}
	return obj_set_attr(f->ctx, dir, RTS_GROUP_NONE, "enforce_discovery_auth",
			    enforce ? "1" : "0");
}

/* ------------------------------------------------------------ targets */

RTS_EXPORT struct rts_target *rts_target_first(struct rts_fabric *f)
{
	assert_return(f, NULL);
	if (ensure_fabric(f) < 0)
		return NULL;
	return list_first(&f->targets, struct rts_target, node);
}

RTS_EXPORT struct rts_target *rts_target_next(struct rts_target *t)
{
	assert_return(t, NULL);
	return list_next(&t->fabric->targets, t, node);
}

static int normalize_for(struct rts_fabric *f, const char *what, const char *wwn, char *buf,
			 size_t size)
{
	int r = rts_wwn_normalize(wwn, f->spec.wwn_types, buf, size, NULL);

	if (r < 0) {
		char types[64] = "";

		for (int i = 0; i < RTS_WWN_TYPE_MAX; i++)
			if (f->spec.wwn_types & RTS_WWN_MASK(i))
				snprintf(types + strlen(types), sizeof(types) - strlen(types),
					 "%s%s", types[0] ? ", " : "",
					 rts_wwn_type_name((enum rts_wwn_type)i));
		return rts_error(f->ctx, r == -ENAMETOOLONG ? r : -EINVAL, wwn,
				 "invalid %s WWN for fabric %s (expected %s)", what, f->spec.name,
				 types);
	}
	return 0;
}

static struct rts_target *target_find(struct rts_fabric *f, const char *wwn)
{
	struct rts_target *t;

	list_for_each(&f->targets, t, node)
		if (!strcmp(t->wwn, wwn))
			return t;
	return NULL;
}

RTS_EXPORT int rts_target_lookup(struct rts_fabric *f, const char *wwn, struct rts_target **ret)
{
	char norm[RTS_WWN_MAX + 8];
	struct rts_target *t;
	int r;

	assert_return(f && wwn && ret, -EINVAL);
	r = normalize_for(f, "target", wwn, norm, sizeof(norm));
	if (r < 0)
		return r;
	r = ensure_fabric(f);
	if (r < 0)
		return r;
	t = target_find(f, norm);
	if (!t)
		return rts_error(f->ctx, -ENOENT, norm, "no %s target '%s'", f->spec.name, norm);
	*ret = t;
	return 0;
}

RTS_EXPORT int rts_target_create(struct rts_fabric *f, const char *wwn, struct rts_target **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char norm[RTS_WWN_MAX + 8], cfs[RTS_WWN_MAX + 16], path[RTS_PATH_MAX];
	struct rts_ctx *ctx;
	struct rts_target *t;
	int r;

	assert_return(f, -EINVAL);
	ctx = f->ctx;
	if (wwn) {
		r = normalize_for(f, "target", wwn, norm, sizeof(norm));
	} else {
		r = rts_wwn_generate(f->spec.native, norm, sizeof(norm));
		if (r < 0)
			r = rts_error(ctx, r, f->path, "cannot generate a WWN");
	}
	if (r < 0)
		return r;
	if (!f->loaded)
		return rts_error(ctx, -ENODEV, f->path, "fabric %s is not loaded", f->spec.name);
	r = ensure_fabric(f);
	if (r < 0)
		return r;
	if (target_find(f, norm))
		return rts_error(ctx, -EEXIST, norm, "target '%s' exists", norm);
	r = rts_fabric_to_fabric_wwn(f, norm, cfs, sizeof(cfs));
	if (r >= 0)
		r = path_fmt(path, sizeof(path), "%s/%s", f->path, cfs);
	if (r < 0)
		return rts_error(ctx, r, norm, "WWN too long");
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	r = cfs_mkdir(ctx, path);
	if (r < 0)
		return r;
	t = target_add(f, norm, cfs);
	if (!t)
		return rts_error(ctx, -ENOMEM, path, "out of memory");
	if (ret)
		*ret = t;
	return 0;
}

RTS_EXPORT int rts_target_delete(struct rts_target *t)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_tpg *tpg, *tmp;
	int r;

	assert_return(t, -EINVAL);
	r = txn_begin(TCTX(t), &txn);
	if (r < 0)
		return r;
	list_for_each_safe(&t->tpgs, tpg, tmp, node) {
		r = rts_tpg_delete(tpg);
		if (r < 0)
			return r;
	}
	r = cfs_rmdir(TCTX(t), t->path);
	if (r < 0)
		return r;
	target_free(t);
	return 0;
}

RTS_GETTER(const char *, rts_target_get_wwn, struct rts_target, t, NULL, t->wwn)
RTS_GETTER(struct rts_fabric *, rts_target_get_fabric, struct rts_target, t, NULL, t->fabric)
RTS_GETTER(const char *, rts_target_get_path, struct rts_target, t, NULL, t->path)

/* ------------------------------------------------------------ TPGs */

RTS_EXPORT struct rts_tpg *rts_tpg_first(struct rts_target *t)
{
	assert_return(t, NULL);
	return list_first(&t->tpgs, struct rts_tpg, node);
}

RTS_EXPORT struct rts_tpg *rts_tpg_next(struct rts_tpg *tpg)
{
	assert_return(tpg, NULL);
	return list_next(&tpg->target->tpgs, tpg, node);
}

static struct rts_tpg *tpg_find(struct rts_target *t, uint64_t tag)
{
	struct rts_tpg *tpg;

	list_for_each(&t->tpgs, tpg, node)
		if (tpg->tag == tag)
			return tpg;
	return NULL;
}

RTS_EXPORT int rts_tpg_lookup(struct rts_target *t, uint16_t tag, struct rts_tpg **ret)
{
	struct rts_tpg *tpg;

	assert_return(t && ret, -EINVAL);
	tpg = tpg_find(t, tag);
	if (!tpg)
		return rts_error(TCTX(t), -ENOENT, t->path, "no TPG %u", tag);
	*ret = tpg;
	return 0;
}

RTS_EXPORT int rts_tpg_create(struct rts_target *t, uint64_t tag, struct rts_tpg **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_ctx *ctx;
	char path[RTS_PATH_MAX];
	struct rts_tpg *tpg;
	int r;

	assert_return(t, -EINVAL);
	ctx = TCTX(t);
	if (tag == RTS_AUTO) {
		for (tag = 1; tag <= t->fabric->spec.max_tpgt && tpg_find(t, tag); tag++)
			;
	}
	if (tag == 0 || tag > UINT16_MAX || tag > t->fabric->spec.max_tpgt)
		return rts_error(ctx, -EINVAL, t->path, "invalid TPG tag %" PRIu64 " (1..%u)", tag,
				 t->fabric->spec.max_tpgt);
	if (tpg_find(t, tag))
		return rts_error(ctx, -EEXIST, t->path, "TPG %" PRIu64 " exists", tag);
	if (!(t->fabric->features & RTS_FEAT_TPGTS) && !list_empty(&t->tpgs))
		return rts_error(ctx, -EOPNOTSUPP, t->path, "fabric %s supports one TPG per target",
				 t->fabric->spec.name);
	r = path_fmt(path, sizeof(path), "%s/tpgt_%" PRIu64, t->path, tag);
	if (r < 0)
		return rts_error(ctx, r, t->path, "path too long");
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	r = cfs_mkdir(ctx, path);
	if (r < 0)
		return r;
	tpg = tpg_add(t, (uint16_t)tag);
	if (!tpg)
		return rts_error(ctx, -ENOMEM, path, "out of memory");
	tpg->walked = TPG_ALL; /* a new TPG has no LUNs, ACLs or portals */
	fabric_probe(t->fabric);
	if (ret)
		*ret = tpg;
	return 0;
}

RTS_EXPORT int rts_tpg_delete(struct rts_tpg *tpg)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_ctx *ctx;
	struct rts_acl *acl, *ta;
	struct rts_lun *lun, *tl;
	struct rts_portal *np, *tn;
	bool enabled = false;
	int r;

	assert_return(tpg, -EINVAL);
	ctx = GCTX(tpg);
	r = ensure_tpg(tpg);
	if (r < 0)
		return r;
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	if (rts_tpg_get_enable(tpg, &enabled) == 0 && enabled &&
	    cfs_exists(ctx, tpg->path, RTS_FT_DIR)) {
		char p[RTS_PATH_MAX];

		if (path_fmt(p, sizeof(p), "%s/enable", tpg->path) == 0 &&
		    cfs_exists(ctx, p, RTS_FT_FILE))
			cfs_write(ctx, p, "0");
	}
	list_for_each_safe(&tpg->acls, acl, ta, node) {
		r = rts_acl_delete(acl);
		if (r < 0)
			return r;
	}
	list_for_each_safe(&tpg->luns, lun, tl, node) {
		r = rts_lun_delete(lun);
		if (r < 0)
			return r;
	}
	list_for_each_safe(&tpg->portals, np, tn, node) {
		r = rts_portal_delete(np);
		if (r < 0)
			return r;
	}
	r = cfs_rmdir(ctx, tpg->path);
	if (r < 0)
		return r;
	tpg_free(tpg);
	return 0;
}

RTS_GETTER(uint16_t, rts_tpg_get_tag, struct rts_tpg, tpg, 0, tpg->tag)
RTS_GETTER(struct rts_target *, rts_tpg_get_target, struct rts_tpg, tpg, NULL, tpg->target)
RTS_GETTER(const char *, rts_tpg_get_path, struct rts_tpg, tpg, NULL, tpg->path)

static int check_group(struct rts_ctx *ctx, const char *path, enum rts_group g)
{
	if (g == RTS_GROUP_WWN || g == RTS_GROUP_PR || g == RTS_GROUP_ACTION ||
	    (unsigned int)g >= RTS_GROUP_MAX)
		return rts_error(ctx, -EINVAL, path, "no such attribute group");
	return 0;
}

RTS_EXPORT int rts_tpg_get_attr(struct rts_tpg *tpg, enum rts_group group, const char *name,
				char **ret)
{
	assert_return(tpg && ret, -EINVAL);
	if (check_group(GCTX(tpg), tpg->path, group) < 0)
		return -EINVAL;
	return obj_get_attr(GCTX(tpg), tpg->path, group, name, ret);
}

RTS_EXPORT int rts_tpg_set_attr(struct rts_tpg *tpg, enum rts_group group, const char *name,
				const char *value)
{
	assert_return(tpg, -EINVAL);
	if (check_group(GCTX(tpg), tpg->path, group) < 0)
		return -EINVAL;
	return obj_set_attr(GCTX(tpg), tpg->path, group, name, value);
}

RTS_EXPORT int rts_tpg_foreach_attr(struct rts_tpg *tpg, enum rts_group group, rts_attr_fn fn,
				    void *userdata)
{
	assert_return(tpg, -EINVAL);
	if (check_group(GCTX(tpg), tpg->path, group) < 0)
		return -EINVAL;
	return obj_foreach_attr(GCTX(tpg), tpg->path, group, fn, userdata);
}

RTS_EXPORT int rts_tpg_get_enable(struct rts_tpg *tpg, bool *ret)
{
	_cleanup_free_ char *v = NULL;
	char p[RTS_PATH_MAX];
	int r;

	assert_return(tpg && ret, -EINVAL);
	if (path_fmt(p, sizeof(p), "%s/enable", tpg->path) < 0)
		return -ENAMETOOLONG;
	if (!cfs_exists(GCTX(tpg), p, RTS_FT_FILE)) {
		*ret = true; /* fabrics without enable are always on */
		return 0;
	}
	r = cfs_read(GCTX(tpg), p, &v);
	if (r < 0)
		return r;
	*ret = !strcmp(v, "1");
	return 0;
}

RTS_EXPORT int rts_tpg_set_enable(struct rts_tpg *tpg, bool enable)
{
	char p[RTS_PATH_MAX];
	struct rts_txn txn _cleanup_txn_ = { 0 };
	int r;

	assert_return(tpg, -EINVAL);
	if (path_fmt(p, sizeof(p), "%s/enable", tpg->path) < 0)
		return -ENAMETOOLONG;
	if (!cfs_exists(GCTX(tpg), p, RTS_FT_FILE)) {
		if (enable)
			return 0;
		return rts_error(GCTX(tpg), -EOPNOTSUPP, tpg->path, "TPG cannot be disabled");
	}
	r = txn_begin(GCTX(tpg), &txn);
	if (r < 0)
		return r;
	return cfs_write(GCTX(tpg), p, enable ? "1" : "0");
}

RTS_EXPORT int rts_tpg_get_nexus(struct rts_tpg *tpg, char **ret)
{
	assert_return(tpg && ret, -EINVAL);
	if (!(tpg->target->fabric->features & RTS_FEAT_NEXUS))
		return rts_error(GCTX(tpg), -EOPNOTSUPP, tpg->path, "fabric has no nexus");
	return obj_get_attr(GCTX(tpg), tpg->path, RTS_GROUP_NONE, "nexus", ret);
}

RTS_EXPORT int rts_tpg_set_nexus(struct rts_tpg *tpg, const char *wwn)
{
	struct rts_ctx *ctx;
	char norm[RTS_WWN_MAX + 8];
	int r;

	assert_return(tpg, -EINVAL);
	ctx = GCTX(tpg);
	if (!(tpg->target->fabric->features & RTS_FEAT_NEXUS))
		return rts_error(ctx, -EOPNOTSUPP, tpg->path, "fabric has no nexus");
	if (wwn && !*wwn)
		return obj_set_attr(ctx, tpg->path, RTS_GROUP_NONE, "nexus", "NULL");
	if (!wwn) {
		r = rts_wwn_generate(RTS_WWN_NAA, norm, sizeof(norm));
		if (r < 0)
			return rts_error(ctx, r, tpg->path, "cannot generate a WWN");
	} else {
		/* any protocol prefix the fabric understands: naa., fc., iqn. */
		r = rts_wwn_normalize(wwn,
				      RTS_WWN_MASK(RTS_WWN_NAA) | RTS_WWN_MASK(RTS_WWN_IQN) |
					      RTS_WWN_MASK(RTS_WWN_EUI),
				      norm, sizeof(norm), NULL);
		if (r < 0)
			return rts_error(ctx, -EINVAL, wwn, "invalid nexus WWN");
	}
	return obj_set_attr(ctx, tpg->path, RTS_GROUP_NONE, "nexus", norm);
}

static int check_auth(struct rts_ctx *ctx, const struct rts_fabric *f, const char *path)
{
	if (!(f->features & RTS_FEAT_AUTH))
		return rts_error(ctx, -EOPNOTSUPP, path, "fabric %s has no CHAP", f->spec.name);
	return 0;
}

RTS_EXPORT int rts_tpg_set_chap(struct rts_tpg *tpg, const struct rts_chap *chap)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char dir[RTS_PATH_MAX];
	int r;

	assert_return(tpg, -EINVAL);
	r = check_auth(GCTX(tpg), tpg->target->fabric, tpg->path);
	if (r < 0)
		return r;
	if (path_fmt(dir, sizeof(dir), "%s/auth", tpg->path) < 0)
		return -ENAMETOOLONG;
	r = txn_begin(GCTX(tpg), &txn);
	if (r < 0)
		return r;
	r = write_chap(GCTX(tpg), dir, chap);
	if (r < 0)
		return r;
	return obj_set_attr(GCTX(tpg), tpg->path, RTS_GROUP_ATTRIB, "authentication",
			    chap && chap->userid[0] ? "1" : "0");
}

RTS_EXPORT int rts_tpg_get_chap(struct rts_tpg *tpg, struct rts_chap *chap)
{
	char dir[RTS_PATH_MAX];
	int r;

	assert_return(tpg && chap, -EINVAL);
	r = check_auth(GCTX(tpg), tpg->target->fabric, tpg->path);
	if (r < 0)
		return r;
	if (path_fmt(dir, sizeof(dir), "%s/auth", tpg->path) < 0)
		return -ENAMETOOLONG;
	return read_chap(GCTX(tpg), dir, chap);
}

/* ------------------------------------------------------------ LUNs */

RTS_EXPORT struct rts_lun *rts_lun_first(struct rts_tpg *tpg)
{
	assert_return(tpg, NULL);
	if (ensure_tpg_parts(tpg, TPG_LUNS) < 0)
		return NULL;
	return list_first(&tpg->luns, struct rts_lun, node);
}

RTS_EXPORT struct rts_lun *rts_lun_next(struct rts_lun *lun)
{
	assert_return(lun, NULL);
	return list_next(&lun->tpg->luns, lun, node);
}

__attribute__((noinline)) static struct rts_lun *lun_find(struct rts_tpg *tpg, uint64_t index)
{
	char p[RTS_PATH_MAX];

	if (path_fmt(p, sizeof(p), "%s/lun/lun_%" PRIu64, tpg->path, index) < 0)
		return NULL;
	return index_get(&GCTX(tpg)->index, p);
}

RTS_EXPORT int rts_lun_lookup(struct rts_tpg *tpg, uint64_t index, struct rts_lun **ret)
{
	struct rts_lun *lun;

	assert_return(tpg && ret, -EINVAL);
	ENSURE_TPG(tpg, TPG_LUNS);
	lun = lun_find(tpg, index);
	if (!lun)
		return rts_error(GCTX(tpg), -ENOENT, tpg->path, "no LUN %" PRIu64, index);
	*ret = lun;
	return 0;
}

RTS_EXPORT int rts_lun_create(struct rts_tpg *tpg, uint64_t index, struct rts_so *so,
			      const char *alias, struct rts_lun **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char path[RTS_PATH_MAX], link[RTS_PATH_MAX], gen[16];
	struct rts_ctx *ctx;
	struct rts_lun *lun;
	int r;

	assert_return(tpg, -EINVAL);
	ENSURE_TPG(tpg, TPG_LUNS);
	ctx = GCTX(tpg);
	if (!so || so->ctx != ctx)
		return rts_error(ctx, -EINVAL, tpg->path,
				 "LUN needs a storage object of this context");
	if (alias) {
		r = check_name(ctx, "LUN alias", alias);
		if (r < 0)
			return r;
	} else {
		r = random_hex(gen, 10);
		if (r < 0)
			return rts_error(ctx, r, tpg->path, "cannot generate a LUN alias");
		alias = gen;
	}
	if (index == RTS_AUTO) {
		struct rts_lun *last = NULL, *pos;

		/* lowest free id: the list is sorted */
		index = 0;
		list_for_each(&tpg->luns, pos, node) {
			if (pos->index != index)
				break;
			index++;
			last = pos;
		}
		(void)last;
	}
	if (lun_find(tpg, index))
		return rts_error(ctx, -EEXIST, tpg->path, "LUN %" PRIu64 " exists", index);
	r = path_fmt(path, sizeof(path), "%s/lun/lun_%" PRIu64, tpg->path, index);
	if (r >= 0)
		r = path_fmt(link, sizeof(link), "%s/%s", path, alias);
	if (r < 0)
		return rts_error(ctx, r, tpg->path, "path too long");
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	r = cfs_mkdir(ctx, path);
	if (r < 0)
		return r;
	r = cfs_symlink(ctx, so->path, link);
	if (r < 0) {
		cfs_undo_rmdir(ctx, path);
		return r;
	}
	lun = lun_add(tpg, index, so, alias);
	if (!lun)
		return rts_error(ctx, -ENOMEM, path, "out of memory");
	if (ret)
		*ret = lun;
	return 0;
}

RTS_EXPORT int rts_lun_delete(struct rts_lun *lun)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_ctx *ctx;
	struct rts_acl *acl;
	char link[RTS_PATH_MAX];
	int r;

	assert_return(lun, -EINVAL);
	ctx = GCTX(lun->tpg);
	r = ensure_tpg_parts(lun->tpg, TPG_ACLS); /* mapped LUNs pointing here go first */
	if (r < 0)
		return r;
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	list_for_each(&lun->tpg->acls, acl, node) {
		struct rts_mapped_lun *m, *tmp;

		if (!lun->mapped_count)
			break;
		list_for_each_safe(&acl->mapped, m, tmp, node) {
			if (m->lun != lun)
				continue;
			r = rts_mapped_lun_delete(m);
			if (r < 0)
				return r;
		}
	}
	r = lun_read_link(lun);
	if (r < 0)
		return r;
	if (lun->alias) {
		r = path_fmt(link, sizeof(link), "%s/%s", lun->path, lun->alias);
		if (r < 0)
			return rts_error(ctx, r, lun->path, "path too long");
		r = cfs_unlink(ctx, link);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	r = cfs_rmdir(ctx, lun->path);
	if (r < 0)
		return r;
	lun_free(lun);
	return 0;
}

RTS_GETTER(uint64_t, rts_lun_get_index, struct rts_lun, lun, 0, lun->index)
/* The link is read when first asked for (struct rts_lun): the getters fill the cache. */
RTS_GETTER(struct rts_so *, rts_lun_get_so, struct rts_lun, lun, NULL,
	   lun_get_so((struct rts_lun *)(uintptr_t)lun))
RTS_GETTER(const char *, rts_lun_get_alias, struct rts_lun, lun, NULL,
	   lun_read_link((struct rts_lun *)(uintptr_t)lun) < 0 ? NULL : lun->alias)
RTS_GETTER(struct rts_tpg *, rts_lun_get_tpg, struct rts_lun, lun, NULL, lun->tpg)
RTS_GETTER(const char *, rts_lun_get_path, struct rts_lun, lun, NULL, lun->path)

RTS_EXPORT int rts_lun_get_alua_group(struct rts_lun *lun, char **ret)
{
	_cleanup_free_ char *v = NULL;
	const char *key = "TG Port Alias: ";
	char *p, *e;
	int r;

	assert_return(lun && ret, -EINVAL);
	r = obj_get_attr(GCTX(lun->tpg), lun->path, RTS_GROUP_NONE, "alua_tg_pt_gp", &v);
	if (r < 0)
		return r;
	p = strstr(v, key);
	p = p ? p + strlen(key) : v;
	e = strchrnul(p, '\n');
	*ret = strndup(p, (size_t)(e - p));
	if (!*ret)
		return rts_error(GCTX(lun->tpg), -ENOMEM, lun->path, "out of memory");
	return 0;
}

RTS_EXPORT int rts_lun_set_alua_group(struct rts_lun *lun, const char *name)
{
	int r;

	assert_return(lun, -EINVAL);
	r = check_name(GCTX(lun->tpg), "ALUA group", name);
	if (r < 0)
		return r;
	return obj_set_attr(GCTX(lun->tpg), lun->path, RTS_GROUP_NONE, "alua_tg_pt_gp", name);
}

/* ------------------------------------------------------------ portals */

RTS_EXPORT struct rts_portal *rts_portal_first(struct rts_tpg *tpg)
{
	assert_return(tpg, NULL);
	if (ensure_tpg_parts(tpg, TPG_PORTALS) < 0)
		return NULL;
	return list_first(&tpg->portals, struct rts_portal, node);
}

RTS_EXPORT struct rts_portal *rts_portal_next(struct rts_portal *np)
{
	assert_return(np, NULL);
	return list_next(&np->tpg->portals, np, node);
}

/* Canonical portal directory name for ip/port; fills ip without brackets. */
__attribute__((noinline)) static int portal_name(struct rts_ctx *ctx, const char *ip, uint16_t port,
						 char *name, size_t size, char *bare, size_t bsize,
						 bool *v6)
{
	char tmp[RTS_NAME_MAX + 1];
	size_t n;

	if (!ip || !*ip)
		return rts_error(ctx, -EINVAL, "", "missing portal address");
	n = strlen(ip);
	if (n >= sizeof(tmp) - 8)
		return rts_error(ctx, -EINVAL, ip, "portal address too long");
	if (port == 0)
		port = 3260;
	if (ip[0] == '[' && ip[n - 1] == ']')
		snprintf(tmp, sizeof(tmp), "%s:%u", ip, port);
	else if (strchr(ip, ':'))
		snprintf(tmp, sizeof(tmp), "[%s]:%u", ip, port);
	else
		snprintf(tmp, sizeof(tmp), "%s:%u", ip, port);
	if (portal_parse_name(tmp, bare, bsize, &port, v6) < 0)
		return rts_error(ctx, -EINVAL, ip, "invalid portal address '%s'", ip);
	if (*v6)
		return path_fmt(name, size, "[%s]:%u", bare, port);
	return path_fmt(name, size, "%s:%u", bare, port);
}

RTS_EXPORT int rts_portal_lookup(struct rts_tpg *tpg, const char *ip, uint16_t port,
				 struct rts_portal **ret)
{
	char name[RTS_NAME_MAX + 1], bare[64], p[RTS_PATH_MAX];
	struct rts_portal *np;
	bool v6;
	int r;

	assert_return(tpg && ret, -EINVAL);
	ENSURE_TPG(tpg, TPG_PORTALS);
	r = portal_name(GCTX(tpg), ip, port, name, sizeof(name), bare, sizeof(bare), &v6);
	if (r < 0)
		return r;
	if (path_fmt(p, sizeof(p), "%s/np/%s", tpg->path, name) < 0 ||
	    !(np = index_get(&GCTX(tpg)->index, p)))
		return rts_error(GCTX(tpg), -ENOENT, tpg->path, "no portal %s", name);
	*ret = np;
	return 0;
}

RTS_EXPORT int rts_portal_create(struct rts_tpg *tpg, const char *ip, uint16_t port,
				 struct rts_portal **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char name[RTS_NAME_MAX + 1], bare[64], p[RTS_PATH_MAX];
	struct rts_ctx *ctx;
	struct rts_portal *np;
	bool v6;
	int r;

	assert_return(tpg, -EINVAL);
	ENSURE_TPG(tpg, TPG_PORTALS);
	ctx = GCTX(tpg);
	if (!(tpg->target->fabric->features & RTS_FEAT_NPS))
		return rts_error(ctx, -EOPNOTSUPP, tpg->path, "fabric %s has no network portals",
				 tpg->target->fabric->spec.name);
	r = portal_name(ctx, ip, port, name, sizeof(name), bare, sizeof(bare), &v6);
	if (r < 0)
		return r;
	if (path_fmt(p, sizeof(p), "%s/np/%s", tpg->path, name) < 0)
		return rts_error(ctx, -ENAMETOOLONG, tpg->path, "path too long");
	if (index_get(&ctx->index, p))
		return rts_error(ctx, -EEXIST, p, "portal %s exists", name);
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	r = cfs_mkdir(ctx, p);
	if (r < 0)
		return r;
	np = portal_add(tpg, bare, port ? port : 3260, v6);
	if (!np)
		return rts_error(ctx, -ENOMEM, p, "out of memory");
	if (ret)
		*ret = np;
	return 0;
}

RTS_EXPORT int rts_portal_delete(struct rts_portal *np)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	int r;

	assert_return(np, -EINVAL);
	r = txn_begin(GCTX(np->tpg), &txn);
	if (r < 0)
		return r;
	r = cfs_rmdir(GCTX(np->tpg), np->path);
	if (r < 0)
		return r;
	portal_free(np);
	return 0;
}

RTS_GETTER(const char *, rts_portal_get_ip, struct rts_portal, np, NULL, np->ip)
RTS_GETTER(uint16_t, rts_portal_get_port, struct rts_portal, np, 0, np->port)
RTS_GETTER(bool, rts_portal_is_ipv6, struct rts_portal, np, false, np->ipv6)

static int check_transport(struct rts_ctx *ctx, const char *t)
{
	if (!t || (strcmp(t, "iser") && strcmp(t, "cxgbit") && strcmp(t, "sctp")))
		return rts_error(ctx, -EINVAL, t ? t : "", "unknown portal transport");
	return 0;
}

RTS_EXPORT int rts_portal_get_transport(struct rts_portal *np, const char *transport, bool *ret)
{
	_cleanup_free_ char *v = NULL;
	int r;

	assert_return(np && ret, -EINVAL);
	r = check_transport(GCTX(np->tpg), transport);
	if (r < 0)
		return r;
	r = obj_get_attr(GCTX(np->tpg), np->path, RTS_GROUP_NONE, transport, &v);
	if (r < 0)
		return r;
	*ret = !strcmp(v, "1");
	return 0;
}

RTS_EXPORT int rts_portal_set_transport(struct rts_portal *np, const char *transport, bool enable)
{
	int r;

	assert_return(np, -EINVAL);
	r = check_transport(GCTX(np->tpg), transport);
	if (r < 0)
		return r;
	return obj_set_attr(GCTX(np->tpg), np->path, RTS_GROUP_NONE, transport, enable ? "1" : "0");
}

/* ------------------------------------------------------------ ACLs */

RTS_EXPORT struct rts_acl *rts_acl_first(struct rts_tpg *tpg)
{
	assert_return(tpg, NULL);
	if (ensure_tpg_parts(tpg, TPG_ACLS) < 0)
		return NULL;
	return list_first(&tpg->acls, struct rts_acl, node);
}

RTS_EXPORT struct rts_acl *rts_acl_next(struct rts_acl *acl)
{
	assert_return(acl, NULL);
	return list_next(&acl->tpg->acls, acl, node);
}

__attribute__((noinline)) static int acl_path(struct rts_tpg *tpg, const char *wwn, char *norm,
					      size_t nsize, char *p, size_t psize)
{
	struct rts_fabric *f = tpg->target->fabric;
	char cfs[RTS_WWN_MAX + 16];
	int r = normalize_for(f, "initiator", wwn, norm, nsize);

	if (r < 0)
		return r;
	r = rts_fabric_to_fabric_wwn(f, norm, cfs, sizeof(cfs));
	if (r >= 0)
		r = path_fmt(p, psize, "%s/acls/%s", tpg->path, cfs);
	if (r < 0)
		return rts_error(f->ctx, -ENAMETOOLONG, wwn, "WWN too long");
	return 0;
}

RTS_EXPORT int rts_acl_lookup(struct rts_tpg *tpg, const char *wwn, struct rts_acl **ret)
{
	char norm[RTS_WWN_MAX + 8], p[RTS_PATH_MAX];
	struct rts_acl *acl;
	int r;

	assert_return(tpg && wwn && ret, -EINVAL);
	ENSURE_TPG(tpg, TPG_ACLS);
	r = acl_path(tpg, wwn, norm, sizeof(norm), p, sizeof(p));
	if (r < 0)
		return r;
	acl = index_get(&GCTX(tpg)->index, p);
	if (!acl)
		return rts_error(GCTX(tpg), -ENOENT, norm, "no ACL for '%s'", norm);
	*ret = acl;
	return 0;
}

RTS_EXPORT int rts_acl_create(struct rts_tpg *tpg, const char *wwn, struct rts_acl **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char norm[RTS_WWN_MAX + 8], p[RTS_PATH_MAX];
	struct rts_ctx *ctx;
	struct rts_acl *acl;
	int r;

	assert_return(tpg, -EINVAL);
	ENSURE_TPG(tpg, TPG_ACLS);
	ctx = GCTX(tpg);
	if (!(tpg->target->fabric->features & RTS_FEAT_ACLS))
		return rts_error(ctx, -EOPNOTSUPP, tpg->path, "fabric %s has no node ACLs",
				 tpg->target->fabric->spec.name);
	if (!wwn)
		return rts_error(ctx, -EINVAL, tpg->path, "missing initiator WWN");
	r = acl_path(tpg, wwn, norm, sizeof(norm), p, sizeof(p));
	if (r < 0)
		return r;
	if (index_get(&ctx->index, p))
		return rts_error(ctx, -EEXIST, p, "ACL for '%s' exists", norm);
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	r = cfs_mkdir(ctx, p);
	if (r < 0)
		return r;
	acl = acl_add(tpg, norm, strrchr(p, '/') + 1);
	if (!acl)
		return rts_error(ctx, -ENOMEM, p, "out of memory");
	if (ret)
		*ret = acl;
	return 0;
}

RTS_EXPORT int rts_acl_delete(struct rts_acl *acl)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_mapped_lun *m, *tmp;
	int r;

	assert_return(acl, -EINVAL);
	r = txn_begin(GCTX(acl->tpg), &txn);
	if (r < 0)
		return r;
	list_for_each_safe(&acl->mapped, m, tmp, node) {
		r = rts_mapped_lun_delete(m);
		if (r < 0)
			return r;
	}
	r = cfs_rmdir(GCTX(acl->tpg), acl->path);
	if (r < 0)
		return r;
	acl_free(acl);
	return 0;
}

RTS_GETTER(const char *, rts_acl_get_wwn, struct rts_acl, acl, NULL, acl->wwn)
RTS_GETTER(struct rts_tpg *, rts_acl_get_tpg, struct rts_acl, acl, NULL, acl->tpg)
RTS_GETTER(const char *, rts_acl_get_path, struct rts_acl, acl, NULL, acl->path)

RTS_EXPORT int rts_acl_get_attr(struct rts_acl *acl, enum rts_group group, const char *name,
				char **ret)
{
	assert_return(acl && ret, -EINVAL);
	if (check_group(GCTX(acl->tpg), acl->path, group) < 0)
		return -EINVAL;
	return obj_get_attr(GCTX(acl->tpg), acl->path, group, name, ret);
}

RTS_EXPORT int rts_acl_set_attr(struct rts_acl *acl, enum rts_group group, const char *name,
				const char *value)
{
	assert_return(acl, -EINVAL);
	if (check_group(GCTX(acl->tpg), acl->path, group) < 0)
		return -EINVAL;
	return obj_set_attr(GCTX(acl->tpg), acl->path, group, name, value);
}

RTS_EXPORT int rts_acl_foreach_attr(struct rts_acl *acl, enum rts_group group, rts_attr_fn fn,
				    void *userdata)
{
	assert_return(acl, -EINVAL);
	if (check_group(GCTX(acl->tpg), acl->path, group) < 0)
		return -EINVAL;
	return obj_foreach_attr(GCTX(acl->tpg), acl->path, group, fn, userdata);
}

RTS_EXPORT int rts_acl_set_chap(struct rts_acl *acl, const struct rts_chap *chap)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char dir[RTS_PATH_MAX];
	int r;

	assert_return(acl, -EINVAL);
	r = check_auth(GCTX(acl->tpg), acl->tpg->target->fabric, acl->path);
	if (r < 0)
		return r;
	if (path_fmt(dir, sizeof(dir), "%s/auth", acl->path) < 0)
		return -ENAMETOOLONG;
	r = txn_begin(GCTX(acl->tpg), &txn);
	if (r < 0)
		return r;
	return write_chap(GCTX(acl->tpg), dir, chap);
}

RTS_EXPORT int rts_acl_get_chap(struct rts_acl *acl, struct rts_chap *chap)
{
	char dir[RTS_PATH_MAX];
	int r;

	assert_return(acl && chap, -EINVAL);
	r = check_auth(GCTX(acl->tpg), acl->tpg->target->fabric, acl->path);
	if (r < 0)
		return r;
	if (path_fmt(dir, sizeof(dir), "%s/auth", acl->path) < 0)
		return -ENAMETOOLONG;
	return read_chap(GCTX(acl->tpg), dir, chap);
}

RTS_EXPORT int rts_acl_get_cmdsn_depth(struct rts_acl *acl, uint32_t *ret)
{
	_cleanup_free_ char *v = NULL;
	uint64_t d;
	int r;

	assert_return(acl && ret, -EINVAL);
	r = obj_get_attr(GCTX(acl->tpg), acl->path, RTS_GROUP_NONE, "cmdsn_depth", &v);
	if (r < 0)
		return r;
	if (parse_u64(v, &d) < 0 || d > UINT32_MAX)
		return rts_error(GCTX(acl->tpg), -EINVAL, acl->path, "bad cmdsn_depth '%s'", v);
	*ret = (uint32_t)d;
	return 0;
}

RTS_EXPORT int rts_acl_set_cmdsn_depth(struct rts_acl *acl, uint32_t depth)
{
	char v[16];

	assert_return(acl, -EINVAL);
	if (depth < 1 || depth > 512)
		return rts_error(GCTX(acl->tpg), -EINVAL, acl->path, "cmdsn_depth must be 1..512");
	snprintf(v, sizeof(v), "%" PRIu32, depth);
	return obj_set_attr(GCTX(acl->tpg), acl->path, RTS_GROUP_NONE, "cmdsn_depth", v);
}

RTS_EXPORT int rts_acl_get_tag(struct rts_acl *acl, char **ret)
{
	int r;

	assert_return(acl && ret, -EINVAL);
	r = obj_get_attr(GCTX(acl->tpg), acl->path, RTS_GROUP_NONE, "tag", ret);
	if (r == 0 && !strcmp(*ret, "(null)"))
		(*ret)[0] = '\0';
	return r;
}

RTS_EXPORT int rts_acl_set_tag(struct rts_acl *acl, const char *tag)
{
	int r;

	assert_return(acl, -EINVAL);
	if (tag) {
		r = check_name(GCTX(acl->tpg), "ACL tag", tag);
		if (r < 0)
			return r;
	}
	return obj_set_attr(GCTX(acl->tpg), acl->path, RTS_GROUP_NONE, "tag", tag ? tag : "NULL");
}

/* Copy the rest of the line after key into dst. */
static bool field(const char *text, const char *key, char *dst, size_t size)
{
	const char *p = strstr(text, key);
	size_t n = 0;

	if (!p)
		return false;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	while (p[n] && p[n] != '\n' && p[n] != ' ' && p[n] != '\t')
		n++;
	n = MIN(n, size - 1);
	memcpy(dst, p, n);
	dst[n] = '\0';
	return true;
}

RTS_EXPORT int rts_session_parse(const char *text, struct rts_session *ret)
{
	char tmp[64];
	const char *c;

	assert_return(text && ret, -EINVAL);
	*ret = (struct rts_session){ 0 };
	if (strstr(text, "No active iSCSI Session"))
		return 0;
	if (!field(text, "InitiatorName:", ret->initiator, sizeof(ret->initiator)))
		return -EINVAL;
	ret->active = true;
	field(text, "InitiatorAlias:", ret->alias, sizeof(ret->alias));
	if (field(text, "LIO Session ID:", tmp, sizeof(tmp)))
		ret->sid = (uint32_t)strtoul(tmp, NULL, 10);
	field(text, "ISID:", ret->isid, sizeof(ret->isid));
	if (field(text, "TSIH:", tmp, sizeof(tmp)))
		ret->tsih = (uint32_t)strtoul(tmp, NULL, 10);
	field(text, "SessionType:", ret->type, sizeof(ret->type));
	field(text, "Session State:", ret->state, sizeof(ret->state));
	for (c = strstr(text, "CID:"); c && ret->n_connections < ARRAY_SIZE(ret->connections);
	     c = strstr(c + 4, "CID:")) {
		struct rts_connection *conn = &ret->connections[ret->n_connections];
		const char *next = strstr(c + 4, "CID:");
		size_t len = next ? (size_t)(next - c) : strlen(c);
		char block[1024];

		len = MIN(len, sizeof(block) - 1);
		memcpy(block, c, len);
		block[len] = '\0';
		if (field(block, "CID:", tmp, sizeof(tmp)))
			conn->cid = (uint32_t)strtoul(tmp, NULL, 10);
		field(block, "Connection State:", conn->state, sizeof(conn->state));
		if (field(block, "Address", conn->address, sizeof(conn->address))) {
			const char *a = strstr(block, "Address");

			a += strlen("Address");
			while (*a == ' ')
				a++;
			a += strlen(conn->address);
			while (*a == ' ')
				a++;
			sscanf(a, "%15s", conn->transport);
		}
		ret->n_connections++;
	}
	return 0;
}

RTS_EXPORT int rts_acl_get_session(struct rts_acl *acl, struct rts_session *ret)
{
	_cleanup_free_ char *v = NULL;
	char p[RTS_PATH_MAX];
	int r;

	assert_return(acl && ret, -EINVAL);
	if (path_fmt(p, sizeof(p), "%s/info", acl->path) < 0 ||
	    !cfs_exists(GCTX(acl->tpg), p, RTS_FT_FILE))
		return rts_error(GCTX(acl->tpg), -EOPNOTSUPP, acl->path, "no session information");
	r = cfs_read(GCTX(acl->tpg), p, &v);
	if (r < 0)
		return r;
	r = rts_session_parse(v, ret);
	if (r < 0)
		return rts_error(GCTX(acl->tpg), r, p, "cannot parse session information");
	return 0;
}

/* ------------------------------------------------------------ ACL groups */

static struct rts_mapped_lun *mlun_find(struct rts_acl *acl, uint64_t index);

/*
 * rtslib's NodeACLGroup: the node ACLs of a TPG that share a tag. Tags are read from
 * configfs when asked (they are rarely used), never cached.
 */
static bool acl_in_group(struct rts_acl *acl, const char *group)
{
	_cleanup_free_ char *tag = NULL;

	return rts_acl_get_tag(acl, &tag) == 0 && !strcmp(tag, group);
}

RTS_EXPORT int rts_tpg_foreach_acl_group(struct rts_tpg *tpg,
					 int (*fn)(void *userdata, const char *group),
					 void *userdata)
{
	struct rts_acl *acl, *prev;
	int r = 0;

	assert_return(tpg && fn, -EINVAL);
	ENSURE_TPG(tpg, TPG_ACLS);
	list_for_each(&tpg->acls, acl, node) {
		_cleanup_free_ char *tag = NULL;
		bool seen = false;

		r = rts_acl_get_tag(acl, &tag);
		if (r == -ENOENT)
			continue; /* fabric without tags */
		if (r < 0)
			return r;
		if (!tag[0])
			continue;
		/* report each tag once: skip tags an earlier ACL carries */
		list_for_each(&tpg->acls, prev, node) {
			if (prev == acl)
				break;
			if (acl_in_group(prev, tag)) {
				seen = true;
				break;
			}
		}
		if (seen)
			continue;
		r = fn(userdata, tag);
		if (r)
			return r;
	}
	return 0;
}

RTS_EXPORT int rts_acl_group_add_acl(struct rts_tpg *tpg, const char *group, const char *wwn,
				     struct rts_acl **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_acl *acl;
	int r;

	assert_return(tpg, -EINVAL);
	ENSURE_TPG(tpg, TPG_ACLS);
	r = check_name(GCTX(tpg), "ACL group", group);
	if (r < 0)
		return r;
	r = txn_begin(GCTX(tpg), &txn);
	if (r < 0)
		return r;
	r = rts_acl_create(tpg, wwn, &acl);
	if (r < 0)
		return r;
	r = rts_acl_set_tag(acl, group);
	if (r < 0) {
		struct rts_error saved = GCTX(tpg)->err;

		rts_acl_delete(acl);
		GCTX(tpg)->err = saved;
		return r;
	}
	if (ret)
		*ret = acl;
	return 0;
}

RTS_EXPORT int rts_acl_group_map_lun(struct rts_tpg *tpg, const char *group, uint64_t index,
				     struct rts_lun *lun, bool write_protect)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_acl *acl;
	int r, n = 0;

	assert_return(tpg, -EINVAL);
	ENSURE_TPG(tpg, TPG_ACLS);
	r = check_name(GCTX(tpg), "ACL group", group);
	if (r < 0)
		return r;
	if (index == RTS_AUTO)
		return rts_error(GCTX(tpg), -EINVAL, group,
				 "group mappings need an explicit index");
	r = txn_begin(GCTX(tpg), &txn);
	if (r < 0)
		return r;
	list_for_each(&tpg->acls, acl, node) {
		if (!acl_in_group(acl, group))
			continue;
		n++;
		if (mlun_find(acl, index))
			continue; /* already mapped for this member */
		r = rts_mapped_lun_create(acl, index, lun, write_protect, NULL);
		if (r < 0)
			return r;
	}
	if (!n)
		return rts_error(GCTX(tpg), -ENOENT, group, "no ACL in group '%s'", group);
	return 0;
}

RTS_EXPORT int rts_acl_group_unmap_lun(struct rts_tpg *tpg, const char *group, uint64_t index)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_acl *acl;
	int r, n = 0;

	assert_return(tpg, -EINVAL);
	ENSURE_TPG(tpg, TPG_ACLS);
	r = check_name(GCTX(tpg), "ACL group", group);
	if (r < 0)
		return r;
	r = txn_begin(GCTX(tpg), &txn);
	if (r < 0)
		return r;
	list_for_each(&tpg->acls, acl, node) {
		struct rts_mapped_lun *m;

		if (!acl_in_group(acl, group) || !(m = mlun_find(acl, index)))
			continue;
		r = rts_mapped_lun_delete(m);
		if (r < 0)
			return r;
		n++;
	}
	if (!n)
		return rts_error(GCTX(tpg), -ENOENT, group,
				 "no mapped LUN %" PRIu64 " in group '%s'", index, group);
	return 0;
}

RTS_EXPORT int rts_acl_group_delete(struct rts_tpg *tpg, const char *group)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_acl *acl, *tmp;
	int r, n = 0;

	assert_return(tpg, -EINVAL);
	ENSURE_TPG(tpg, TPG_ACLS);
	r = check_name(GCTX(tpg), "ACL group", group);
	if (r < 0)
		return r;
	r = txn_begin(GCTX(tpg), &txn);
	if (r < 0)
		return r;
	list_for_each_safe(&tpg->acls, acl, tmp, node) {
		if (!acl_in_group(acl, group))
			continue;
		r = rts_acl_delete(acl);
		if (r < 0)
			return r;
		n++;
	}
	if (!n)
		return rts_error(GCTX(tpg), -ENOENT, group, "no ACL group '%s'", group);
	return 0;
}

/* ------------------------------------------------------------ mapped LUNs */

RTS_EXPORT struct rts_mapped_lun *rts_mapped_lun_first(struct rts_acl *acl)
{
	assert_return(acl, NULL);
	return list_first(&acl->mapped, struct rts_mapped_lun, node);
}

RTS_EXPORT struct rts_mapped_lun *rts_mapped_lun_next(struct rts_mapped_lun *m)
{
	assert_return(m, NULL);
	return list_next(&m->acl->mapped, m, node);
}

__attribute__((noinline)) static struct rts_mapped_lun *mlun_find(struct rts_acl *acl,
								  uint64_t index)
{
	char p[RTS_PATH_MAX];

	if (path_fmt(p, sizeof(p), "%s/lun_%" PRIu64, acl->path, index) < 0)
		return NULL;
	return index_get(&GCTX(acl->tpg)->index, p);
}

RTS_EXPORT int rts_mapped_lun_lookup(struct rts_acl *acl, uint64_t index,
				     struct rts_mapped_lun **ret)
{
	struct rts_mapped_lun *m;

	assert_return(acl && ret, -EINVAL);
	m = mlun_find(acl, index);
	if (!m)
		return rts_error(GCTX(acl->tpg), -ENOENT, acl->path, "no mapped LUN %" PRIu64,
				 index);
	*ret = m;
	return 0;
}

RTS_EXPORT int rts_mapped_lun_create(struct rts_acl *acl, uint64_t index, struct rts_lun *lun,
				     bool write_protect, struct rts_mapped_lun **ret)
{
	return rts_mapped_lun_create_alias(acl, index, lun, NULL, write_protect, ret);
}

RTS_EXPORT int rts_mapped_lun_create_alias(struct rts_acl *acl, uint64_t index,
					   struct rts_lun *lun, const char *alias,
					   bool write_protect, struct rts_mapped_lun **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char path[RTS_PATH_MAX], link[RTS_PATH_MAX], gen[16];
	struct rts_ctx *ctx;
	struct rts_mapped_lun *m;
	int r;

	assert_return(acl, -EINVAL);
	ctx = GCTX(acl->tpg);
	if (!lun || lun->tpg != acl->tpg)
		return rts_error(ctx, -EINVAL, acl->path, "mapped LUN needs a LUN of the same TPG");
	if (index == RTS_AUTO) {
		struct rts_mapped_lun *pos;

		index = 0;
		list_for_each(&acl->mapped, pos, node) {
			if (pos->index != index)
				break;
			index++;
		}
	}
	if (mlun_find(acl, index))
		return rts_error(ctx, -EEXIST, acl->path, "mapped LUN %" PRIu64 " exists", index);
	if (alias) {
		r = check_name(ctx, "mapped LUN alias", alias);
		if (r < 0)
			return r;
	} else {
		r = random_hex(gen, 10);
		if (r < 0)
			return rts_error(ctx, r, acl->path, "cannot generate a link name");
		alias = gen;
	}
	r = path_fmt(path, sizeof(path), "%s/lun_%" PRIu64, acl->path, index);
	if (r >= 0)
		r = path_fmt(link, sizeof(link), "%s/%s", path, alias);
	if (r < 0)
		return rts_error(ctx, r, acl->path, "path too long");
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	r = cfs_mkdir(ctx, path);
	if (r < 0)
		return r;
	r = cfs_symlink(ctx, lun->path, link);
	if (r >= 0 && write_protect) {
		r = obj_set_attr(ctx, path, RTS_GROUP_NONE, "write_protect", "1");
		if (r < 0) {
			cfs_undo_unlink(ctx, link);
		}
	}
	if (r < 0) {
		cfs_undo_rmdir(ctx, path);
		return r;
	}
	m = mlun_add(acl, index, lun);
	if (!m)
		return rts_error(ctx, -ENOMEM, path, "out of memory");
	if (ret)
		*ret = m;
	return 0;
}

RTS_EXPORT int rts_mapped_lun_delete(struct rts_mapped_lun *m)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_ctx *ctx;
	struct rts_names l;
	int r;

	assert_return(m, -EINVAL);
	ctx = GCTX(m->acl->tpg);
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	r = names_list(ctx, m->path, &l);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n && r >= 0; i++) {
		char p[RTS_PATH_MAX];

		if (l.t[i] != RTS_FT_LINK)
			continue;
		r = path_fmt(p, sizeof(p), "%s/%s", m->path, l.v[i]);
		if (r >= 0)
			r = cfs_unlink(ctx, p);
	}
	names_free(&l);
	if (r < 0)
		return r;
	r = cfs_rmdir(ctx, m->path);
	if (r < 0)
		return r;
	mlun_free(m);
	return 0;
}

RTS_GETTER(uint64_t, rts_mapped_lun_get_index, struct rts_mapped_lun, m, 0, m->index)
RTS_GETTER(struct rts_lun *, rts_mapped_lun_get_lun, struct rts_mapped_lun, m, NULL, m->lun)
RTS_GETTER(struct rts_acl *, rts_mapped_lun_get_acl, struct rts_mapped_lun, m, NULL, m->acl)

RTS_EXPORT int rts_mapped_lun_get_write_protect(struct rts_mapped_lun *m, bool *ret)
{
	_cleanup_free_ char *v = NULL;
	int r;

	assert_return(m && ret, -EINVAL);
	r = obj_get_attr(GCTX(m->acl->tpg), m->path, RTS_GROUP_NONE, "write_protect", &v);
	if (r < 0)
		return r;
	*ret = !strcmp(v, "1");
	return 0;
}

RTS_EXPORT int rts_mapped_lun_set_write_protect(struct rts_mapped_lun *m, bool wp)
{
	assert_return(m, -EINVAL);
	return obj_set_attr(GCTX(m->acl->tpg), m->path, RTS_GROUP_NONE, "write_protect",
			    wp ? "1" : "0");
}
