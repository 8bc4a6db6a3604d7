/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The walk over a plain directory shaped like a real kernel configfs tree (no emulation):
 * kernel-style relative symlinks ("../../../../../../target/core/..."), files the way the
 * kernel prints them. Stands in for the captured trees the VM tier will add as fixtures.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "helpers.h"

__attribute__((noinline)) static void mk(const char *root, const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

__attribute__((noinline)) static void put(const char *root, const char *rel, const char *text)
{
	char p[1024];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

__attribute__((noinline)) static void ln(const char *root, const char *target, const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void build_kernel_like_tree(const char *r)
{
	const char *tpg = "target/iscsi/iqn.2003-01.org.linux-iscsi.vm.x8664:sn.1234/tpgt_1";
	char p[512];

	mk(r, "target");
	put(r, "target/version",
	    "Target Engine Core ConfigFS Infrastructure v5.0 on Linux/x86_64 on 6.1.0-56-amd64\n");
	put(r, "target/dbroot", "/etc/target\n");
	mk(r, "target/core");
	mk(r, "target/core/alua");
	mk(r, "target/core/iblock_0");
	mk(r, "target/core/iblock_0/disk");
	put(r, "target/core/iblock_0/disk/enable", "1\n");
	put(r, "target/core/iblock_0/disk/udev_path", "/dev/vdb\n");
	mk(r, "target/core/iblock_0/disk/wwn");
	put(r, "target/core/iblock_0/disk/wwn/vpd_unit_serial",
	    "T10 VPD Unit Serial Number: 6e1b2c3d-aaaa-bbbb-cccc-0123456789ab\n");
	mk(r, "target/core/iblock_0/disk/alua");
	mk(r, "target/core/iblock_0/disk/alua/default_tg_pt_gp");
	mk(r, "target/core/iblock_0/disk/alua/ao");
	mk(r, "target/core/user_2");
	mk(r, "target/core/user_2/q1");
	mk(r, "target/iscsi");
	mk(r, "target/iscsi/discovery_auth");
	put(r, "target/iscsi/discovery_auth/enforce_discovery_auth", "0\n");
	mk(r, "target/iscsi/iqn.2003-01.org.linux-iscsi.vm.x8664:sn.1234");
	mk(r, tpg);
	put(r, "target/iscsi/iqn.2003-01.org.linux-iscsi.vm.x8664:sn.1234/tpgt_1/enable", "1\n");
	snprintf(p, sizeof(p), "%s/lun", tpg);
	mk(r, p);
	snprintf(p, sizeof(p), "%s/lun/lun_0", tpg);
	mk(r, p);
	snprintf(p, sizeof(p), "%s/lun/lun_0/6b3d3e7a0c", tpg);
	ln(r, "../../../../../../target/core/iblock_0/disk", p);
	snprintf(p, sizeof(p), "%s/lun/lun_300", tpg);
	mk(r, p);
	snprintf(p, sizeof(p), "%s/lun/lun_300/a1", tpg);
	ln(r, "../../../../../../target/core/user_2/q1", p);
	snprintf(p, sizeof(p), "%s/np", tpg);
	mk(r, p);
	snprintf(p, sizeof(p), "%s/np/[::]:3260", tpg);
	mk(r, p);
	snprintf(p, sizeof(p), "%s/np/0.0.0.0:3261", tpg);
	mk(r, p);
	snprintf(p, sizeof(p), "%s/acls", tpg);
	mk(r, p);
	snprintf(p, sizeof(p), "%s/acls/iqn.1994-05.com.redhat:client", tpg);
	mk(r, p);
	snprintf(p, sizeof(p), "%s/acls/iqn.1994-05.com.redhat:client/lun_7", tpg);
	mk(r, p);
	snprintf(p, sizeof(p), "%s/acls/iqn.1994-05.com.redhat:client/lun_7/ff00ee11dd", tpg);
	ln(r,
	   "../../../../../../../target/iscsi/iqn.2003-01.org.linux-iscsi.vm.x8664:sn.1234/tpgt_1/lun/lun_300",
	   p);
	mk(r, "target/loopback");
	mk(r, "target/loopback/naa.5001405a1b2c3d4e");
	mk(r, "target/loopback/naa.5001405a1b2c3d4e/tpgt_1");
	put(r, "target/loopback/naa.5001405a1b2c3d4e/tpgt_1/nexus", "naa.5001405f0e1d2c3b\n");
}

static void test_kernel_shaped_tree(void **state)
{
	char *root = make_tmpdir();
	struct rts_ctx *ctx;
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_acl *acl;
	struct rts_mapped_lun *m;
	struct rts_portal *np;
	struct rts_so *so;
	struct rts_alua_tpg *gp;
	char *v;
	int n = 0;

	(void)state;
	build_kernel_like_tree(root);
	assert_int_equal(rts_ctx_new(root, 0, &ctx), 0);
	rts_for_each_storage_object(ctx, so)
		n++;
	assert_int_equal(n, 2);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_BLOCK, "disk", &so), 0);
	assert_int_equal(rts_so_get_wwn(so, &v), 0);
	assert_string_equal(v, "6e1b2c3d-aaaa-bbbb-cccc-0123456789ab");
	free(v);
	assert_int_equal(rts_so_get_udev_path(so, &v), 0);
	assert_string_equal(v, "/dev/vdb");
	free(v);
	assert_true(rts_so_is_enabled(so));
	assert_int_equal(rts_alua_tpg_lookup(so, "ao", &gp), 0);
	assert_int_equal(rts_so_get_lun_count(so), 1);

	assert_int_equal(rts_fabric_lookup(ctx, "iscsi", &fab), 0);
	assert_true(rts_fabric_is_loaded(fab));
	assert_true(rts_fabric_get_features(fab) & RTS_FEAT_DISCOVERY_AUTH);
	assert_int_equal(rts_target_lookup(fab, "iqn.2003-01.org.linux-iscsi.vm.x8664:sn.1234", &t),
			 0);
	assert_int_equal(rts_tpg_lookup(t, 1, &tpg), 0);
	assert_int_equal(rts_lun_lookup(tpg, 0, &lun), 0);
	assert_ptr_equal(rts_lun_get_so(lun), so);
	assert_string_equal(rts_lun_get_alias(lun), "6b3d3e7a0c");
	assert_int_equal(rts_lun_lookup(tpg, 300, &lun), 0);
	assert_string_equal(rts_so_get_name(rts_lun_get_so(lun)), "q1");
	assert_int_equal(rts_so_get_plugin(rts_lun_get_so(lun)), RTS_PLUGIN_USER);
	assert_int_equal(rts_so_get_hba_index(rts_lun_get_so(lun)), 2);
	assert_int_equal(rts_portal_lookup(tpg, "::", 3260, &np), 0);
	assert_true(rts_portal_is_ipv6(np));
	assert_int_equal(rts_portal_lookup(tpg, "0.0.0.0", 3261, &np), 0);
	assert_int_equal(rts_acl_lookup(tpg, "iqn.1994-05.com.redhat:client", &acl), 0);
	assert_int_equal(rts_mapped_lun_lookup(acl, 7, &m), 0);
	assert_ptr_equal(rts_mapped_lun_get_lun(m), lun);

	assert_int_equal(rts_fabric_lookup(ctx, "loopback", &fab), 0);
	t = rts_target_first(fab);
	assert_non_null(t);
	assert_string_equal(rts_target_get_wwn(t), "naa.5001405a1b2c3d4e");
	assert_true(rts_fabric_get_features(fab) & RTS_FEAT_NEXUS);
	assert_int_equal(rts_tpg_get_nexus(rts_tpg_first(t), &v), 0);
	assert_string_equal(v, "naa.5001405f0e1d2c3b");
	free(v);
	/* fabrics without a directory are listed but not loaded */
	assert_int_equal(rts_fabric_lookup(ctx, "vhost", &fab), 0);
	assert_false(rts_fabric_is_loaded(fab));
	assert_null(rts_target_first(fab));
	rts_ctx_unref(ctx);
	rm_rf(root);
	free(root);
}

/*
 * A backend that forwards to the real one and records every directory listed: which parts
 * of the tree a call reads.
 */
struct spy {
	struct rts_backend *inner;
	char listed[24][160];
	int n;
	int stats; /* stat calls since spy_reset() */
	bool hide_info; /* reads of <dev>/info fail with ENOENT, like a backend without one */
};

static int spy_mkdir(void *d, const char *p)
{
	return rts_backend_mkdir(((struct spy *)d)->inner, p);
}

static int spy_rmdir(void *d, const char *p)
{
	return rts_backend_rmdir(((struct spy *)d)->inner, p);
}

static int spy_symlink(void *d, const char *t, const char *p)
{
	return rts_backend_symlink(((struct spy *)d)->inner, t, p);
}

static int spy_unlink(void *d, const char *p)
{
	return rts_backend_unlink(((struct spy *)d)->inner, p);
}

static int spy_readlink(void *d, const char *p, char *buf, size_t size)
{
	return rts_backend_readlink(((struct spy *)d)->inner, p, buf, size);
}

static ssize_t spy_read(void *d, const char *p, char *buf, size_t size)
{
	size_t n = strlen(p);

	if (((struct spy *)d)->hide_info && n > 5 && !strcmp(p + n - 5, "/info"))
		return -ENOENT;
	return rts_backend_read(((struct spy *)d)->inner, p, buf, size);
}

static int spy_write(void *d, const char *p, const char *buf, size_t len)
{
	char v[4096];

	assert_true(len < sizeof(v));
	memcpy(v, buf, len);
	v[len] = '\0';
	return rts_backend_write(((struct spy *)d)->inner, p, v);
}

static int spy_stat(void *d, const char *p, enum rts_ftype *t)
{
	((struct spy *)d)->stats++;
	return rts_backend_stat(((struct spy *)d)->inner, p, t);
}

static int spy_readdir(void *d, const char *p, rts_dirent_fn fn, void *ud)
{
	struct spy *s = d;

	if (s->n < 24)
		snprintf(s->listed[s->n++], sizeof(s->listed[0]), "%s", p);
	return rts_backend_readdir(s->inner, p, fn, ud);
}

static void spy_destroy(void *d)
{
	rts_backend_free(((struct spy *)d)->inner);
}

static const struct rts_backend_ops spy_ops = {
	.struct_size = sizeof(struct rts_backend_ops),
	.mkdir = spy_mkdir,
	.rmdir = spy_rmdir,
	.symlink = spy_symlink,
	.unlink = spy_unlink,
	.readlink = spy_readlink,
	.read = spy_read,
	.write = spy_write,
	.stat = spy_stat,
	.readdir = spy_readdir,
	.destroy = spy_destroy,
};

/* Was a directory whose path contains @part listed since the last spy_reset()? */
static bool spy_listed(const struct spy *s, const char *part)
{
	for (int i = 0; i < s->n; i++)
		if (strstr(s->listed[i], part))
			return true;
	return false;
}

static void spy_reset(struct spy *s)
{
	s->n = 0;
	s->stats = 0;
}

/*
 * The tree is read a level at a time: a call on one storage object or one TPG does not list
 * the rest of configfs, and what needs the whole picture (a storage object's LUN count)
 * still gets it right.
 */
static void test_lazy_levels(void **state)
{
	char *root = make_tmpdir();
	struct spy spy = { 0 };
	struct rts_backend *be;
	struct rts_ctx *ctx;
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_so *so, *gp_so;
	struct rts_alua_tpg *gp;
	int n = 0;

	(void)state;
	build_kernel_like_tree(root);
	assert_int_equal(rts_backend_new_real(root, 0, &spy.inner), 0);
	assert_int_equal(rts_backend_new(&spy_ops, &spy, &be), 0);
	assert_int_equal(rts_ctx_new_with_backend(be, &ctx), 0);

	/* refresh: the fabric list only */
	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_true(spy_listed(&spy, "target"));
	assert_false(spy_listed(&spy, "target/core"));
	assert_false(spy_listed(&spy, "target/iscsi"));

	/* one storage object: core/ only (the HBAs are probed, not listed), no fabric, no ALUA */
	spy_reset(&spy);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_BLOCK, "disk", &so), 0);
	assert_true(spy_listed(&spy, "target/core"));
	assert_false(spy_listed(&spy, "target/core/iblock_0"));
	assert_false(spy_listed(&spy, "target/iscsi"));
	assert_false(spy_listed(&spy, "disk/alua"));
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_BLOCK, "nosuch", &gp_so), -ENOENT);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_FILEIO, "disk", &gp_so), -ENOENT);
	/* iterating reads every HBA and keeps the probed object (once) */
	{
		struct rts_so *it;
		int seen = 0, total = 0;

		rts_for_each_storage_object(ctx, it) {
			total++;
			seen += it == so;
		}
		assert_int_equal(seen, 1);
		assert_int_equal(total, 2); /* disk and q1 */
	}
	assert_true(spy_listed(&spy, "target/core/iblock_0"));
	spy_reset(&spy);
	assert_int_equal(rts_alua_tpg_lookup(so, "ao", &gp), 0);
	assert_true(spy_listed(&spy, "target/core/iblock_0/disk/alua"));
	rts_for_each_alua_tpg(so, gp)
		n++;
	assert_int_equal(n, 2);

	/* one TPG: the fabric's targets and TPGs, nothing below the TPG */
	spy_reset(&spy);
	assert_int_equal(rts_fabric_lookup(ctx, "iscsi", &fab), 0);
	assert_int_equal(rts_target_lookup(fab, "iqn.2003-01.org.linux-iscsi.vm.x8664:sn.1234", &t),
			 0);
	assert_int_equal(rts_tpg_lookup(t, 1, &tpg), 0);
	assert_true(spy_listed(&spy, "target/iscsi/iqn.2003-01.org.linux-iscsi.vm.x8664:sn.1234"));
	assert_false(spy_listed(&spy, "tpgt_1/lun"));
	assert_false(spy_listed(&spy, "tpgt_1/acls"));
	assert_false(spy_listed(&spy, "target/loopback"));

	/* its LUNs: the lun/ directory, not each LUN's link, the ACLs or the portals */
	spy_reset(&spy);
	assert_int_equal(rts_lun_lookup(tpg, 0, &lun), 0);
	assert_true(spy_listed(&spy, "tpgt_1/lun"));
	assert_false(spy_listed(&spy, "tpgt_1/lun/lun_0"));
	assert_false(spy_listed(&spy, "tpgt_1/acls"));
	assert_false(spy_listed(&spy, "tpgt_1/np"));
	/* a LUN's storage object: its link, then the storage objects */
	assert_non_null(rts_lun_get_so(lun));
	assert_true(spy_listed(&spy, "tpgt_1/lun/lun_0"));
	assert_false(spy_listed(&spy, "tpgt_1/lun/lun_300"));
	spy_reset(&spy);
	(void)rts_acl_first(tpg);
	assert_true(spy_listed(&spy, "tpgt_1/acls"));
	assert_false(spy_listed(&spy, "tpgt_1/lun")); /* read already */

	/* the LUN count needs every TPG of every fabric */
	spy_reset(&spy);
	assert_int_equal(rts_so_get_lun_count(so), 1);
	assert_false(spy_listed(&spy, "tpgt_1/lun/lun_0")); /* that TPG was read above */
	assert_true(spy_listed(&spy, "target/loopback"));
	assert_int_equal(rts_lun_lookup(tpg, 0, &lun), 0);
	assert_ptr_equal(rts_lun_get_so(lun), so);
	/* read once: asking again lists nothing */
	spy_reset(&spy);
	assert_int_equal(rts_so_get_lun_count(so), 1);
	assert_int_equal(rts_lun_lookup(tpg, 300, &lun), 0);
	assert_int_equal(spy.n, 0);

	/* a change made behind the context's back shows after a refresh, read lazily again */
	{
		char p[1024];

		snprintf(p, sizeof(p), "%s/target/core/iblock_0/late", root);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_BLOCK, "late", &so), 0);
	assert_int_equal(rts_so_get_lun_count(so), 0);
	rts_ctx_unref(ctx);
	rm_rf(root);
	free(root);
}

/*
 * Deleting a storage object finds the LUNs and mapped LUNs that use it in TPGs nobody read
 * yet, and takes them along (rtslib semantics), on the emulated backend.
 */
static void test_lazy_delete_cascade(void **state)
{
	char *root = make_tmpdir(), *files = make_tmpdir(), img[512];
	struct rts_ctx *ctx;
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_acl *acl;
	struct rts_so *so, *keep;

	(void)state;
	snprintf(img, sizeof(img), "%s/d.img", files);
	assert_int_equal(rts_ctx_new(root, RTS_CTX_EMULATE, &ctx), 0);
	assert_int_equal(rts_fileio_create(ctx, "d", img, 1 << 20, RTS_FILEIO_SPARSE, &so), 0);
	assert_int_equal(rts_ramdisk_create(ctx, "keep", 1 << 20, 0, &keep), 0);
	assert_int_equal(rts_fabric_lookup(ctx, "loopback", &fab), 0);
	assert_int_equal(rts_fabric_load(fab, false), 0);
	assert_int_equal(rts_target_create(fab, NULL, &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_lun_create(tpg, 0, so, NULL, &lun), 0);
	assert_int_equal(rts_lun_create(tpg, 1, keep, NULL, NULL), 0);
	assert_int_equal(rts_fabric_lookup(ctx, "iscsi", &fab), 0);
	assert_int_equal(rts_fabric_load(fab, false), 0);
	assert_int_equal(rts_target_create(fab, NULL, &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_lun_create(tpg, 4, so, NULL, &lun), 0);
	assert_int_equal(rts_acl_create(tpg, "iqn.1994-05.com.example:c", &acl), 0);
	assert_int_equal(rts_mapped_lun_create(acl, 0, lun, false, NULL), 0);

	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_FILEIO, "d", &so), 0);
	assert_int_equal(rts_so_delete(so), 0);

	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_FILEIO, "d", &so), -ENOENT);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "keep", &keep), 0);
	assert_int_equal(rts_so_get_lun_count(keep), 1);
	assert_int_equal(rts_fabric_lookup(ctx, "iscsi", &fab), 0);
	t = rts_target_first(fab);
	assert_non_null(t);
	tpg = rts_tpg_first(t);
	assert_null(rts_lun_first(tpg));
	assert_int_equal(rts_acl_lookup(tpg, "iqn.1994-05.com.example:c", &acl), 0);
	assert_null(rts_mapped_lun_first(acl));
	rts_ctx_unref(ctx);
	rm_rf(root);
	rm_rf(files);
	free(root);
	free(files);
}

/*
 * Deleting a LUN whose TPG's ACLs nobody read yet still takes the mapped LUNs that point at
 * it first (and only those).
 */
static void test_lun_delete_reads_acls(void **state)
{
	char *root = make_tmpdir();
	struct rts_ctx *ctx;
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *l0, *l1;
	struct rts_acl *acl;
	struct rts_mapped_lun *m;
	struct rts_so *so;

	(void)state;
	assert_int_equal(rts_ctx_new(root, RTS_CTX_EMULATE, &ctx), 0);
	assert_int_equal(rts_ramdisk_create(ctx, "r", 1 << 20, 0, &so), 0);
	assert_int_equal(rts_fabric_lookup(ctx, "iscsi", &fab), 0);
	assert_int_equal(rts_fabric_load(fab, false), 0);
	assert_int_equal(rts_target_create(fab, NULL, &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_lun_create(tpg, 0, so, NULL, &l0), 0);
	assert_int_equal(rts_lun_create(tpg, 1, so, NULL, &l1), 0);
	assert_int_equal(rts_acl_create(tpg, "iqn.1994-05.com.example:c", &acl), 0);
	assert_int_equal(rts_mapped_lun_create(acl, 0, l0, false, NULL), 0);
	assert_int_equal(rts_mapped_lun_create(acl, 1, l1, false, NULL), 0);

	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_fabric_lookup(ctx, "iscsi", &fab), 0);
	tpg = rts_tpg_first(rts_target_first(fab));
	assert_non_null(tpg);
	assert_int_equal(rts_lun_lookup(tpg, 0, &l0), 0);
	assert_int_equal(rts_lun_delete(l0), 0);

	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_fabric_lookup(ctx, "iscsi", &fab), 0);
	tpg = rts_tpg_first(rts_target_first(fab));
	assert_int_equal(rts_lun_lookup(tpg, 0, &l0), -ENOENT);
	assert_int_equal(rts_acl_lookup(tpg, "iqn.1994-05.com.example:c", &acl), 0);
	m = rts_mapped_lun_first(acl);
	assert_non_null(m);
	assert_int_equal(rts_mapped_lun_get_index(m), 1);
	assert_null(rts_mapped_lun_next(m));
	rts_ctx_unref(ctx);
	rm_rf(root);
	free(root);
}

/*
 * A lookup or create that probes for one storage object (no HBA listed) sees what exists:
 * a duplicate name is refused, a new object gets the next free HBA index, and iterating
 * afterwards lists each object once.
 */
static void test_probe_then_create(void **state)
{
	char *root = make_tmpdir();
	struct rts_ctx *ctx;
	struct rts_so *a, *b, *c, *it;
	int total = 0;

	(void)state;
	assert_int_equal(rts_ctx_new(root, RTS_CTX_EMULATE, &ctx), 0);
	assert_int_equal(rts_ramdisk_create(ctx, "a", 1 << 20, 0, &a), 0);
	assert_int_equal(rts_ramdisk_create(ctx, "b", 1 << 20, 0, &b), 0);
	assert_int_equal(rts_so_delete(a), 0); /* rd_mcp_0 goes, rd_mcp_1 stays */
	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_ramdisk_create(ctx, "b", 1 << 20, 0, &c), -EEXIST);
	assert_int_equal(rts_ramdisk_create(ctx, "c", 1 << 20, 0, &c), 0);
	assert_int_equal(rts_so_get_hba_index(c), 2);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "b", &b), 0);
	assert_int_equal(rts_so_get_hba_index(b), 1);
	rts_for_each_storage_object(ctx, it)
		total++;
	assert_int_equal(total, 2);
	rts_ctx_unref(ctx);
	rm_rf(root);
	free(root);
}

/* A context on the emulated in-memory backend, every call seen by @spy. */
static struct rts_ctx *spy_emulated_ctx(struct spy *spy)
{
	struct rts_backend *raw, *be;
	struct rts_ctx *ctx;

	assert_int_equal(rts_backend_new_memory(&raw), 0);
	assert_int_equal(rts_backend_new_emulated(raw, &spy->inner), 0);
	assert_int_equal(rts_backend_new(&spy_ops, spy, &be), 0);
	assert_int_equal(rts_ctx_new_with_backend(be, &ctx), 0);
	return ctx;
}

/*
 * A name that is not there is probed once in each HBA of its plugin: the create that follows
 * a failed lookup (what rtsctl create does) does not probe them all again, and what it
 * creates is found afterwards.
 */
static void test_absent_probed_once(void **state)
{
	struct spy spy = { 0 };
	struct rts_ctx *ctx;
	struct rts_so *so;
	int probes;

	(void)state;
	ctx = spy_emulated_ctx(&spy);
	for (int i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "d%d", i);
		assert_int_equal(rts_ramdisk_create(ctx, name, 1 << 20, 0, &so), 0);
	}
	assert_int_equal(rts_ctx_refresh(ctx), 0);

	spy_reset(&spy);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "new", &so), -ENOENT);
	probes = spy.stats;
	assert_true(probes >= 8); /* one per rd_mcp HBA */
	spy_reset(&spy);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "new", &so), -ENOENT);
	assert_int_equal(spy.stats, 0);
	assert_int_equal(rts_ramdisk_create(ctx, "new", 1 << 20, 0, &so), 0);
	assert_true(spy.stats < 8);
	assert_int_equal(rts_so_get_hba_index(so), 8);
	/* found now, by this context and by a fresh read */
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "new", &so), 0);
	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "new", &so), 0);
	/* another absent name is probed again */
	spy_reset(&spy);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "other", &so), -ENOENT);
	assert_int_equal(spy.stats, probes + 1);
	rts_ctx_unref(ctx);
}

/*
 * A storage object's LUN count and its delete read only the TPGs the kernel names in the
 * device's ALUA group members (one LUN moved to a second group), nothing below the fabrics
 * when the device's info says no LUN exports it, and every TPG when info cannot be read.
 */
static void test_exporters_from_kernel(void **state)
{
	struct spy spy = { 0 };
	struct rts_ctx *ctx;
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg, *other;
	struct rts_lun *lun;
	struct rts_acl *acl;
	struct rts_alua_tpg *gp;
	struct rts_so *so, *keep, *lone;
	char other_luns[512];

	(void)state;
	ctx = spy_emulated_ctx(&spy);
	assert_int_equal(rts_ramdisk_create(ctx, "d", 1 << 20, 0, &so), 0);
	assert_int_equal(rts_ramdisk_create(ctx, "keep", 1 << 20, 0, &keep), 0);
	assert_int_equal(rts_ramdisk_create(ctx, "lone", 1 << 20, 0, &lone), 0);
	assert_int_equal(rts_alua_tpg_create(so, "gp1", 7, &gp), 0);
	assert_int_equal(rts_fabric_lookup(ctx, "loopback", &fab), 0);
	assert_int_equal(rts_fabric_load(fab, false), 0);
	assert_int_equal(rts_target_create(fab, NULL, &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_lun_create(tpg, 0, so, NULL, &lun), 0);
	assert_int_equal(rts_lun_set_alua_group(lun, "gp1"), 0);
	assert_int_equal(rts_fabric_lookup(ctx, "iscsi", &fab), 0);
	assert_int_equal(rts_fabric_load(fab, false), 0);
	assert_int_equal(rts_target_create(fab, NULL, &t), 0);
	assert_int_equal(rts_tpg_create(t, 3, &tpg), 0);
	assert_int_equal(rts_lun_create(tpg, 4, so, NULL, &lun), 0);
	assert_int_equal(rts_lun_create(tpg, 5, keep, NULL, NULL), 0);
	assert_int_equal(rts_acl_create(tpg, "iqn.1994-05.com.example:c", &acl), 0);
	assert_int_equal(rts_mapped_lun_create(acl, 0, lun, false, NULL), 0);
	assert_int_equal(rts_target_create(fab, NULL, &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &other), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rts_lun_create(other, (uint64_t)i, keep, NULL, NULL), 0);
	snprintf(other_luns, sizeof(other_luns), "%s/lun", rts_tpg_get_path(other));

	/* exported through two groups of two fabrics: those two TPGs only */
	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "d", &so), 0);
	spy_reset(&spy);
	assert_int_equal(rts_so_get_lun_count(so), 2);
	assert_false(spy_listed(&spy, other_luns));
	assert_true(spy_listed(&spy, "/tpgt_3/lun"));

	/* exported by nothing: no fabric read */
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "lone", &lone), 0);
	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "lone", &lone), 0);
	spy_reset(&spy);
	assert_int_equal(rts_so_get_lun_count(lone), 0);
	assert_false(spy_listed(&spy, "target/iscsi"));
	assert_false(spy_listed(&spy, "target/loopback"));
	assert_int_equal(rts_so_delete(lone), 0);

	/* the delete takes both LUNs and the mapped LUN, and leaves the other TPG alone */
	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "d", &so), 0);
	spy_reset(&spy);
	assert_int_equal(rts_so_delete(so), 0);
	assert_false(spy_listed(&spy, other_luns));

	/* no info file: every TPG is read, the count is still right */
	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "d", &so), -ENOENT);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "keep", &keep), 0);
	spy.hide_info = true;
	spy_reset(&spy);
	assert_int_equal(rts_so_get_lun_count(keep), 4);
	assert_true(spy_listed(&spy, other_luns));
	spy.hide_info = false;
	assert_int_equal(rts_ctx_refresh(ctx), 0);
	assert_int_equal(rts_so_lookup(ctx, RTS_PLUGIN_RAMDISK, "keep", &keep), 0);
	assert_int_equal(rts_so_get_lun_count(keep), 4);
	assert_int_equal(rts_fabric_lookup(ctx, "iscsi", &fab), 0);
	rts_for_each_target(fab, t) {
		rts_for_each_tpg(t, tpg) {
			if (rts_tpg_get_tag(tpg) != 3)
				continue;
			lun = rts_lun_first(tpg);
			assert_non_null(lun);
			assert_int_equal(rts_lun_get_index(lun), 5);
			assert_null(rts_lun_next(lun));
			assert_int_equal(rts_acl_lookup(tpg, "iqn.1994-05.com.example:c", &acl), 0);
			assert_null(rts_mapped_lun_first(acl));
		}
	}
	rts_ctx_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_shaped_tree),
		cmocka_unit_test(test_lazy_levels),
		cmocka_unit_test(test_lazy_delete_cascade),
		cmocka_unit_test(test_lun_delete_reads_acls),
		cmocka_unit_test(test_probe_then_create),
		cmocka_unit_test(test_absent_probed_once),
		cmocka_unit_test(test_exporters_from_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
