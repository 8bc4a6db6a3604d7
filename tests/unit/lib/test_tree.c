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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_shaped_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
