/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fabrics, targets, TPGs, LUNs, portals, ACLs, mapped LUNs, CHAP, sessions and fabric spec
 * files, on both backends.
 */
#include "helpers.h"
#include "private.h"

static struct rts_fabric *loaded(struct fixture *f, const char *name)
{
	struct rts_fabric *fab = NULL;

	assert_int_equal(rts_fabric_lookup(f->ctx, name, &fab), 0);
	assert_int_equal(rts_fabric_load(fab, false), 0);
	assert_true(rts_fabric_is_loaded(fab));
	return fab;
}

static struct rts_so *ramdisk(struct fixture *f, const char *name)
{
	struct rts_so *so = NULL;

	assert_int_equal(rts_ramdisk_create(f->ctx, name, 1 << 20, 0, &so), 0);
	return so;
}

static void test_fabric_table(void **state)
{
	static const char *const known[] = { "iscsi",	"loopback",  "vhost",	  "xen-pvscsi",
					     "qla2xxx", "efct",	     "tcm_fc",	  "srpt",
					     "sbp",	"ibmvscsis", "usb_gadget" };
	struct fixture *f = *state;
	struct rts_fabric *fab;
	int n = 0;

	rts_for_each_fabric(f->ctx, fab) {
		assert_false(rts_fabric_is_loaded(fab));
		n++;
	}
	assert_int_equal(n, 11);
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		assert_int_equal(rts_fabric_lookup(f->ctx, known[i], &fab), 0);
	assert_int_equal(rts_fabric_lookup(f->ctx, "fc", &fab), 0);
	assert_string_equal(rts_fabric_get_name(fab), "tcm_fc");
	assert_string_equal(rts_fabric_get_configfs_name(fab), "fc");
	assert_string_equal(rts_fabric_get_kernel_module(fab), "tcm_fc");
	assert_int_equal(rts_fabric_lookup(f->ctx, "iscsi", &fab), 0);
	assert_int_equal(rts_fabric_get_wwn_types(fab), RTS_WWN_MASK(RTS_WWN_IQN) |
								RTS_WWN_MASK(RTS_WWN_NAA) |
								RTS_WWN_MASK(RTS_WWN_EUI));
	assert_true(rts_fabric_get_features(fab) & RTS_FEAT_NPS);
	assert_false(rts_fabric_is_from_spec(fab));
	assert_int_equal(rts_fabric_lookup(f->ctx, "nosuch", &fab), -ENOENT);
	assert_error(f->ctx, -ENOENT, "nosuch");
	/* listing never creates fabric directories */
	assert_false(rts_backend_stat(rts_ctx_get_backend(f->ctx), "target/iscsi",
				      &(enum rts_ftype){ 0 }) == 0);
}

static int count_cb(void *ud, const char *name, const char *value)
{
	(void)name;
	assert_non_null(value);
	(*(int *)ud)++;
	return 0;
}

static void test_iscsi_target_tpg(void **state)
{
	int n = 0;
	struct fixture *f = *state;
	struct rts_fabric *fab;
	struct rts_target *t, *t2;
	struct rts_tpg *tpg, *tpg2;
	bool en;
	char *v;

	assert_int_equal(rts_fabric_lookup(f->ctx, "iscsi", &fab), 0);
	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:t1", &t), -ENODEV);
	assert_error(f->ctx, -ENODEV, "target/iscsi");
	fab = loaded(f, "iscsi");
	assert_true(rts_fabric_get_features(fab) & RTS_FEAT_DISCOVERY_AUTH);
	assert_int_equal(rts_target_create(fab, "IQN.2003-01.org.X:T1", &t), 0);
	assert_string_equal(rts_target_get_wwn(t), "iqn.2003-01.org.x:t1");
	assert_string_equal(rts_target_get_path(t), "target/iscsi/iqn.2003-01.org.x:t1");
	assert_ptr_equal(rts_target_get_fabric(t), fab);
	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:t1", NULL), -EEXIST);
	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org_x", NULL), -EINVAL);
	assert_error(f->ctx, -EINVAL, "iqn.2003-01.org_x");
	assert_non_null(strstr(rts_ctx_last_error(f->ctx)->message, "iqn"));
	assert_int_equal(rts_target_create(fab, "../../etc", NULL), -EINVAL);
	assert_int_equal(rts_target_create(fab, NULL, &t2), 0);
	assert_int_equal(rts_wwn_validate(rts_target_get_wwn(t2), RTS_WWN_IQN), 0);
	assert_int_equal(rts_target_create(fab, "naa.5001405abcdef123", NULL), 0);
	assert_int_equal(rts_target_lookup(fab, " iqn.2003-01.ORG.x:t1 ", &t2), 0);
	assert_ptr_equal(t, t2);
	assert_int_equal(rts_target_lookup(fab, "iqn.2003-01.org.x:none", &t2), -ENOENT);

	assert_int_equal(rts_tpg_create(t, 0, NULL), -EINVAL);
	assert_int_equal(rts_tpg_create(t, 70000, NULL), -EINVAL);
	assert_int_equal(rts_tpg_create(t, RTS_AUTO, &tpg), 0);
	assert_int_equal(rts_tpg_get_tag(tpg), 1);
	assert_int_equal(rts_tpg_create(t, 1, NULL), -EEXIST);
	assert_int_equal(rts_tpg_create(t, 5, &tpg2), 0);
	assert_int_equal(rts_tpg_create(t, RTS_AUTO, &tpg2), 0);
	assert_int_equal(rts_tpg_get_tag(tpg2), 2);
	assert_ptr_equal(rts_tpg_get_target(tpg), t);
	assert_string_equal(rts_tpg_get_path(tpg), "target/iscsi/iqn.2003-01.org.x:t1/tpgt_1");
	assert_int_equal(rts_tpg_lookup(t, 5, &tpg2), 0);
	assert_int_equal(rts_tpg_lookup(t, 9, &tpg2), -ENOENT);

	assert_int_equal(rts_tpg_get_enable(tpg, &en), 0);
	assert_false(en);
	assert_int_equal(rts_tpg_set_enable(tpg, true), 0);
	assert_int_equal(rts_tpg_get_enable(tpg, &en), 0);
	assert_true(en);
	assert_int_equal(rts_tpg_set_attr(tpg, RTS_GROUP_ATTRIB, "generate_node_acls", "1"), 0);
	assert_int_equal(rts_tpg_set_attr(tpg, RTS_GROUP_ATTRIB, "generate_node_acls", "x"),
			 -EINVAL);
	assert_error(f->ctx, -EINVAL, "attrib/generate_node_acls");
	assert_int_equal(rts_tpg_set_attr(tpg, RTS_GROUP_PARAM, "MaxConnections", "4"), 0);
	assert_int_equal(rts_tpg_get_attr(tpg, RTS_GROUP_PARAM, "MaxConnections", &v), 0);
	assert_string_equal(v, "4");
	free(v);
	assert_int_equal(rts_tpg_get_attr(tpg, RTS_GROUP_WWN, "x", &v), -EINVAL);
	assert_int_equal(rts_tpg_foreach_attr(tpg, RTS_GROUP_PARAM, count_cb, &n), 0);
	assert_int_equal(n, 21); /* every iSCSI login key of the 6.1 param group */
	assert_int_equal(rts_tpg_foreach_attr(tpg, RTS_GROUP_PR, count_cb, &n), -EINVAL);
	assert_int_equal(rts_tpg_set_nexus(tpg, "naa.5001405abcdef123"), -EOPNOTSUPP);
}

static void test_chap_and_discovery(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab = loaded(f, "iscsi");
	struct rts_chap chap = { 0 }, out;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_acl *acl;
	bool enforce = true;
	char *v;

	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:chap", &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	snprintf(chap.userid, sizeof(chap.userid), "user");
	snprintf(chap.password, sizeof(chap.password), "secret123456");
	snprintf(chap.mutual_userid, sizeof(chap.mutual_userid), "target");
	snprintf(chap.mutual_password, sizeof(chap.mutual_password), "tsecret12345");
	assert_int_equal(rts_tpg_set_chap(tpg, &chap), 0);
	assert_int_equal(rts_tpg_get_chap(tpg, &out), 0);
	assert_memory_equal(&out, &chap, sizeof(chap));
	assert_int_equal(rts_tpg_get_attr(tpg, RTS_GROUP_ATTRIB, "authentication", &v), 0);
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(rts_tpg_set_chap(tpg, NULL), 0);
	assert_int_equal(rts_tpg_get_chap(tpg, &out), 0);
	assert_string_equal(out.userid, "");

	assert_int_equal(rts_acl_create(tpg, "iqn.1994-05.com.redhat:client", &acl), 0);
	assert_int_equal(rts_acl_set_chap(acl, &chap), 0);
	assert_int_equal(rts_acl_get_chap(acl, &out), 0);
	assert_string_equal(out.mutual_password, "tsecret12345");
	{
		int n = 0;

		assert_int_equal(rts_acl_foreach_attr(acl, RTS_GROUP_AUTH, count_cb, &n), 0);
		assert_int_equal(n, 5);
	}

	assert_int_equal(rts_fabric_get_discovery_auth(fab, &enforce, &out), 0);
	assert_false(enforce);
	assert_string_equal(out.userid, "");
	assert_int_equal(rts_fabric_set_discovery_auth(fab, true, &chap), 0);
	assert_int_equal(rts_fabric_get_discovery_auth(fab, &enforce, &out), 0);
	assert_true(enforce);
	assert_string_equal(out.userid, "user");
	assert_string_equal(out.mutual_userid, "target");
	/* the longest secret the kernel takes (MAX_CHAP_N_SIZE - 1); newlines are refused */
	memset(chap.password, 'p', sizeof(chap.password) - 1);
	chap.password[sizeof(chap.password) - 1] = '\0';
	assert_int_equal(rts_acl_set_chap(acl, &chap), 0);
	snprintf(chap.userid, sizeof(chap.userid), "a\nb");
	assert_int_equal(rts_acl_set_chap(acl, &chap), -EINVAL);
	assert_error(f->ctx, -EINVAL, "auth");

	fab = loaded(f, "loopback");
	assert_int_equal(rts_fabric_get_discovery_auth(fab, &enforce, &out), -EOPNOTSUPP);
}

static void test_luns(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab = loaded(f, "iscsi");
	struct rts_so *so = ramdisk(f, "r0"), *so2;
	struct rts_alua_tpg *gp;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *lun, *l2;
	uint64_t ids[] = { 0, 1, 255, 256, 4096, 70000 };
	int n = 0;
	char *v;

	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:luns", &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_int_equal(rts_lun_create(tpg, ids[i], so, NULL, NULL), 0);
	assert_int_equal(rts_so_get_lun_count(so), 6);
	assert_int_equal(rts_lun_create(tpg, RTS_AUTO, so, "myalias", &lun), 0);
	assert_int_equal(rts_lun_get_index(lun), 2);
	assert_string_equal(rts_lun_get_alias(lun), "myalias");
	assert_ptr_equal(rts_lun_get_so(lun), so);
	assert_ptr_equal(rts_lun_get_tpg(lun), tpg);
	assert_string_equal(rts_lun_get_path(lun),
			    "target/iscsi/iqn.2003-01.org.x:luns/tpgt_1/lun/lun_2");
	assert_int_equal(rts_lun_create(tpg, 4096, so, NULL, NULL), -EEXIST);
	assert_error(f->ctx, -EEXIST, "tpgt_1");
	assert_int_equal(rts_lun_create(tpg, 9, so, "bad/alias", NULL), -EINVAL);
	assert_int_equal(rts_lun_create(tpg, 9, NULL, NULL, NULL), -EINVAL);
	rts_for_each_lun(tpg, l2) {
		if (n > 0)
			assert_true(rts_lun_get_index(l2) > ids[0]);
		n++;
	}
	assert_int_equal(n, 7);
	assert_int_equal(rts_lun_lookup(tpg, 70000, &l2), 0);
	assert_int_equal(rts_lun_get_index(l2), 70000);
	assert_int_equal(rts_lun_lookup(tpg, 3, &l2), -ENOENT);

	/* ALUA membership */
	assert_int_equal(rts_lun_get_alua_group(lun, &v), 0);
	assert_string_equal(v, "default_tg_pt_gp");
	free(v);
	assert_int_equal(rts_alua_tpg_create(so, "ao", 16, &gp), 0);
	assert_int_equal(rts_lun_set_alua_group(lun, "ao"), 0);
	assert_int_equal(rts_lun_get_alua_group(lun, &v), 0);
	assert_string_equal(v, "ao");
	free(v);
	assert_int_equal(rts_lun_set_alua_group(lun, "missing"), -ENODEV);
	assert_error(f->ctx, -ENODEV, "alua_tg_pt_gp");

	/* exported objects: no serial change; delete takes the LUNs along */
	assert_int_equal(rts_so_set_wwn(so, "abc"), -EINVAL);
	so2 = ramdisk(f, "r1");
	assert_int_equal(rts_lun_create(tpg, 10, so2, NULL, NULL), 0);
	assert_int_equal(rts_so_delete(so), 0);
	n = 0;
	rts_for_each_lun(tpg, l2)
		n++;
	assert_int_equal(n, 1);
	assert_int_equal(rts_lun_lookup(tpg, 10, &l2), 0);
	assert_int_equal(rts_lun_delete(l2), 0);
	assert_null(rts_lun_first(tpg));
}

static void test_portals(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab = loaded(f, "iscsi");
	struct rts_portal *np, *np2;
	struct rts_target *t;
	struct rts_tpg *tpg;
	bool on;
	int n = 0;

	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:np", &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_portal_create(tpg, "0.0.0.0", 0, &np), 0);
	assert_string_equal(rts_portal_get_ip(np), "0.0.0.0");
	assert_int_equal(rts_portal_get_port(np), 3260);
	assert_false(rts_portal_is_ipv6(np));
	assert_int_equal(rts_portal_create(tpg, "::1", 3261, &np2), 0);
	assert_true(rts_portal_is_ipv6(np2));
	assert_string_equal(rts_portal_get_ip(np2), "::1");
	assert_int_equal(rts_portal_create(tpg, "[fe80::2]", 3260, NULL), 0);
	assert_int_equal(rts_portal_create(tpg, "[::1]", 3261, NULL), -EEXIST);
	assert_int_equal(rts_portal_create(tpg, "1.2.3", 3260, NULL), -EINVAL);
	assert_error(f->ctx, -EINVAL, "1.2.3");
	assert_int_equal(rts_portal_create(tpg, "", 3260, NULL), -EINVAL);
	assert_int_equal(rts_portal_create(tpg, "host.example.com", 3260, NULL), -EINVAL);
	assert_int_equal(rts_portal_lookup(tpg, "fe80::2", 3260, &np2), 0);
	assert_int_equal(rts_portal_lookup(tpg, "10.0.0.1", 3260, &np2), -ENOENT);
	assert_int_equal(rts_portal_set_transport(np, "iser", true), 0);
	assert_int_equal(rts_portal_get_transport(np, "iser", &on), 0);
	assert_true(on);
	assert_int_equal(rts_portal_set_transport(np, "cxgbit", true), 0);
	assert_int_equal(rts_portal_set_transport(np, "rdma", true), -EINVAL);
	rts_for_each_portal(tpg, np2)
		n++;
	assert_int_equal(n, 3);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	assert_int_equal(rts_fabric_lookup(f->ctx, "iscsi", &fab), 0);
	assert_int_equal(rts_target_lookup(fab, "iqn.2003-01.org.x:np", &t), 0);
	assert_int_equal(rts_tpg_lookup(t, 1, &tpg), 0);
	assert_int_equal(rts_portal_lookup(tpg, "::1", 3261, &np), 0);
	assert_true(rts_portal_is_ipv6(np));
	assert_int_equal(rts_portal_delete(np), 0);
	assert_int_equal(rts_portal_lookup(tpg, "::1", 3261, &np), -ENOENT);
}

static void test_acls_and_mapped_luns(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab = loaded(f, "iscsi");
	struct rts_so *so = ramdisk(f, "r");
	struct rts_target *t;
	struct rts_tpg *tpg, *tpg2;
	struct rts_lun *lun, *other;
	struct rts_acl *acl, *acl2;
	struct rts_mapped_lun *m, *m2;
	struct rts_session s;
	uint32_t depth;
	bool wp;
	char *v;
	int n = 0;

	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:acl", &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_tpg_create(t, 2, &tpg2), 0);
	assert_int_equal(rts_lun_create(tpg, 300, so, NULL, &lun), 0);
	assert_int_equal(rts_lun_create(tpg2, 0, so, NULL, &other), 0);
	assert_int_equal(rts_acl_create(tpg, "IQN.1994-05.com.redhat:Client", &acl), 0);
	assert_string_equal(rts_acl_get_wwn(acl), "iqn.1994-05.com.redhat:client");
	assert_ptr_equal(rts_acl_get_tpg(acl), tpg);
	assert_int_equal(rts_acl_create(tpg, "iqn.1994-05.com.redhat:client", NULL), -EEXIST);
	assert_int_equal(rts_acl_create(tpg, "client one", NULL), -EINVAL);
	assert_error(f->ctx, -EINVAL, "client one");
	assert_int_equal(rts_acl_create(tpg, NULL, NULL), -EINVAL);
	assert_int_equal(rts_acl_create(tpg, "eui.0123456789abcdef", &acl2), 0);
	assert_int_equal(rts_acl_lookup(tpg, "iqn.1994-05.com.redhat:client", &acl2), 0);
	assert_ptr_equal(acl, acl2);
	assert_int_equal(rts_acl_lookup(tpg, "iqn.1994-05.com.redhat:other", &acl2), -ENOENT);

	assert_int_equal(rts_acl_get_cmdsn_depth(acl, &depth), 0);
	assert_int_equal(depth, 64);
	assert_int_equal(rts_acl_set_cmdsn_depth(acl, 128), 0);
	assert_int_equal(rts_acl_get_cmdsn_depth(acl, &depth), 0);
	assert_int_equal(depth, 128);
	assert_int_equal(rts_acl_set_cmdsn_depth(acl, 0), -EINVAL);
	assert_int_equal(rts_acl_set_cmdsn_depth(acl, 513), -EINVAL);
	assert_int_equal(rts_acl_set_tag(acl, "group1"), 0);
	assert_int_equal(rts_acl_get_tag(acl, &v), 0);
	assert_string_equal(v, "group1");
	free(v);
	assert_int_equal(rts_acl_set_tag(acl, "bad/tag"), -EINVAL);
	assert_int_equal(rts_acl_set_attr(acl, RTS_GROUP_ATTRIB, "nopin_timeout", "30"), 0);
	assert_int_equal(rts_acl_get_attr(acl, RTS_GROUP_ATTRIB, "nopin_timeout", &v), 0);
	assert_string_equal(v, "30");
	free(v);
	assert_int_equal(rts_acl_set_attr(acl, RTS_GROUP_PARAM, "MaxConnections", "2"), -EACCES);

	assert_int_equal(rts_mapped_lun_create(acl, 0, lun, true, &m), 0);
	assert_int_equal(rts_mapped_lun_get_index(m), 0);
	assert_ptr_equal(rts_mapped_lun_get_lun(m), lun);
	assert_ptr_equal(rts_mapped_lun_get_acl(m), acl);
	assert_int_equal(rts_mapped_lun_get_write_protect(m, &wp), 0);
	assert_true(wp);
	assert_int_equal(rts_mapped_lun_set_write_protect(m, false), 0);
	assert_int_equal(rts_mapped_lun_get_write_protect(m, &wp), 0);
	assert_false(wp);
	assert_int_equal(rts_mapped_lun_create(acl, 0, lun, false, NULL), -EEXIST);
	assert_int_equal(rts_mapped_lun_create(acl, 1, other, false, NULL), -EINVAL);
	assert_error(f->ctx, -EINVAL, "acls");
	assert_int_equal(rts_mapped_lun_create(acl, RTS_AUTO, lun, false, &m2), 0);
	assert_int_equal(rts_mapped_lun_get_index(m2), 1);
	assert_int_equal(rts_mapped_lun_create(acl, 1000, lun, false, NULL), 0);
	rts_for_each_mapped_lun(acl, m2)
		n++;
	assert_int_equal(n, 3);
	assert_int_equal(rts_mapped_lun_lookup(acl, 1000, &m2), 0);
	assert_int_equal(rts_mapped_lun_delete(m2), 0);
	assert_int_equal(rts_mapped_lun_lookup(acl, 1000, &m2), -ENOENT);
	/* named link (saveconfig alias), write_protect after the link; bad names refused */
	assert_int_equal(rts_mapped_lun_create_alias(acl, 7, lun, "a1b2c3d4e5", true, &m2), 0);
	assert_int_equal(rts_mapped_lun_get_write_protect(m2, &wp), 0);
	assert_true(wp);
	{
		char lp[1024], buf[1024];
		enum rts_ftype ft;

		snprintf(lp, sizeof(lp), "%s/lun_7/a1b2c3d4e5", rts_acl_get_path(acl));
		assert_int_equal(rts_backend_stat(rts_ctx_get_backend(f->ctx), lp, &ft), 0);
		assert_int_equal(ft, RTS_FT_LINK);
		assert_true(rts_backend_readlink(rts_ctx_get_backend(f->ctx), lp, buf,
						 sizeof(buf)) > 0);
	}
	assert_int_equal(rts_mapped_lun_create_alias(acl, 8, lun, "bad/name", false, NULL),
			 -EINVAL);
	assert_int_equal(rts_mapped_lun_lookup(acl, 8, &m2), -ENOENT);
	assert_int_equal(rts_mapped_lun_create_alias(acl, 8, lun, NULL, false, NULL), 0);
	assert_int_equal(rts_mapped_lun_lookup(acl, 7, &m2), 0);
	assert_int_equal(rts_mapped_lun_delete(m2), 0);
	assert_int_equal(rts_mapped_lun_lookup(acl, 8, &m2), 0);
	assert_int_equal(rts_mapped_lun_delete(m2), 0);

	/* sessions */
	assert_int_equal(rts_acl_get_session(acl, &s), 0);
	assert_false(s.active);

	/* the walk resolves mapped LUNs to the LUN objects */
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	assert_int_equal(rts_fabric_lookup(f->ctx, "iscsi", &fab), 0);
	assert_int_equal(rts_target_lookup(fab, "iqn.2003-01.org.x:acl", &t), 0);
	assert_int_equal(rts_tpg_lookup(t, 1, &tpg), 0);
	assert_int_equal(rts_acl_lookup(tpg, "iqn.1994-05.com.redhat:client", &acl), 0);
	assert_int_equal(rts_mapped_lun_lookup(acl, 0, &m), 0);
	assert_int_equal(rts_lun_get_index(rts_mapped_lun_get_lun(m)), 300);
	assert_non_null(rts_lun_get_so(rts_mapped_lun_get_lun(m)));
	assert_string_equal(rts_so_get_name(rts_lun_get_so(rts_mapped_lun_get_lun(m))), "r");

	/* deleting the LUN removes its mappings, the ACL goes with its mappings */
	assert_int_equal(rts_lun_delete(rts_mapped_lun_get_lun(m)), 0);
	assert_null(rts_mapped_lun_first(acl));
	assert_int_equal(rts_acl_delete(acl), 0);
	assert_int_equal(rts_target_delete(t), 0);
	assert_null(rts_target_first(fab));
}

static void test_session_parse(void **state)
{
	static const char info[] =
		"InitiatorName: iqn.1994-05.com.redhat:client\n"
		"InitiatorAlias: host1\n"
		"LIO Session ID: 3   ISID: 0x400001370001  TSIH: 2  SessionType: Normal\n"
		"Session State: TARG_SESS_STATE_LOGGED_IN\n"
		"---------------------[iSCSI Session Values]-----------------------\n"
		"  CmdSN/WR  :  CmdSN/WC  :  ExpCmdSN  :  MaxCmdSN  :     ITT    :     TTT\n"
		" 0x00000040   0x00000040   0x00000020   0x00000060   0x00000001   0x00000002\n"
		"----------------------[iSCSI Connections]-------------------------\n"
		"CID: 0  Connection State: TARG_CONN_STATE_LOGGED_IN\n"
		"   Address 192.168.1.10 TCP  StatSN: 0x00000010\n"
		"CID: 1  Connection State: TARG_CONN_STATE_LOGGED_IN\n"
		"   Address fe80::1 iSER  StatSN: 0x00000011\n";
	struct fixture *f = *state;
	struct rts_fabric *fab = loaded(f, "iscsi");
	struct rts_session s;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_acl *acl;
	char p[512];

	assert_int_equal(rts_session_parse(info, &s), 0);
	assert_true(s.active);
	assert_string_equal(s.initiator, "iqn.1994-05.com.redhat:client");
	assert_string_equal(s.alias, "host1");
	assert_int_equal(s.sid, 3);
	assert_string_equal(s.isid, "0x400001370001");
	assert_int_equal(s.tsih, 2);
	assert_string_equal(s.type, "Normal");
	assert_string_equal(s.state, "TARG_SESS_STATE_LOGGED_IN");
	assert_int_equal(s.n_connections, 2);
	assert_int_equal(s.connections[1].cid, 1);
	assert_string_equal(s.connections[0].address, "192.168.1.10");
	assert_string_equal(s.connections[0].transport, "TCP");
	assert_string_equal(s.connections[1].transport, "iSER");
	assert_int_equal(rts_session_parse("garbage", &s), -EINVAL);
	assert_int_equal(rts_session_parse("No active iSCSI Session for Initiator Endpoint: x", &s),
			 0);
	assert_false(s.active);

	/* a session the kernel reports, planted under the emulator */
	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:s", &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_acl_create(tpg, "iqn.1994-05.com.redhat:client", &acl), 0);
	snprintf(p, sizeof(p), "%s/info", rts_acl_get_path(acl));
	assert_int_equal(
		rts_backend_write(rts_backend_get_raw(rts_ctx_get_backend(f->ctx)), p, info), 0);
	assert_int_equal(rts_acl_get_session(acl, &s), 0);
	assert_true(s.active);
	assert_int_equal(s.sid, 3);
}

static void test_loopback(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab = loaded(f, "loopback");
	struct rts_so *so = ramdisk(f, "r");
	struct rts_target *t;
	struct rts_tpg *tpg;
	char *v;

	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:t", NULL), -EINVAL);
	assert_int_equal(rts_target_create(fab, NULL, &t), 0);
	assert_int_equal(strncmp(rts_target_get_wwn(t), "naa.5001405", 11), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_true(rts_fabric_get_features(fab) & RTS_FEAT_NEXUS);
	assert_false(rts_fabric_get_features(fab) & RTS_FEAT_AUTH);
	assert_int_equal(rts_tpg_create(t, 2, NULL), -EOPNOTSUPP);
	assert_int_equal(rts_tpg_set_nexus(tpg, "naa.5001405000000abc"), 0);
	assert_int_equal(rts_tpg_get_nexus(tpg, &v), 0);
	assert_string_equal(v, "naa.5001405000000abc");
	free(v);
	assert_int_equal(rts_tpg_set_nexus(tpg, "naa.5001405000000abd"), -EEXIST);
	assert_error(f->ctx, -EEXIST, "nexus");
	assert_int_equal(rts_tpg_set_nexus(tpg, ""), 0);
	assert_int_equal(rts_tpg_set_nexus(tpg, NULL), 0);
	assert_int_equal(rts_tpg_set_nexus(tpg, "not-a-wwn"), -EINVAL);
	assert_int_equal(rts_acl_create(tpg, "naa.5001405000000abc", NULL), -EOPNOTSUPP);
	assert_int_equal(rts_portal_create(tpg, "1.2.3.4", 3260, NULL), -EOPNOTSUPP);
	assert_int_equal(rts_tpg_set_chap(tpg, NULL), -EOPNOTSUPP);
	assert_int_equal(rts_lun_create(tpg, 0, so, NULL, NULL), 0);
	assert_int_equal(rts_tpg_set_enable(tpg, true), 0);
	assert_int_equal(rts_tpg_set_enable(tpg, false), -EOPNOTSUPP);
	assert_int_equal(rts_target_delete(t), 0);
}

static void test_wwn_spellings(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab = loaded(f, "qla2xxx");
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_acl *acl;
	char buf[64];

	assert_int_equal(rts_target_create(fab, "21:00:00:24:ff:31:4c:48", &t), 0);
	assert_string_equal(rts_target_get_wwn(t), "naa.21000024ff314c48");
	assert_string_equal(rts_target_get_path(t), "target/qla2xxx/21:00:00:24:ff:31:4c:48");
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_acl_create(tpg, "c0:50:76:09:5a:d0:00:1c", &acl), 0);
	assert_string_equal(
		rts_acl_get_path(acl),
		"target/qla2xxx/21:00:00:24:ff:31:4c:48/tpgt_1/acls/c0:50:76:09:5a:d0:00:1c");
	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:t", NULL), -EINVAL);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	assert_int_equal(rts_fabric_lookup(f->ctx, "qla2xxx", &fab), 0);
	assert_int_equal(rts_target_lookup(fab, "naa.21000024ff314c48", &t), 0);
	assert_int_equal(rts_tpg_lookup(t, 1, &tpg), 0);
	assert_int_equal(rts_acl_lookup(tpg, "naa.c05076095ad0001c", &acl), 0);

	fab = loaded(f, "srpt");
	assert_int_equal(rts_target_create(fab, "0xfe800000000000000002c90300a1b2c3", &t), 0);
	assert_string_equal(rts_target_get_wwn(t), "ib.fe800000000000000002c90300a1b2c3");
	assert_string_equal(rts_target_get_path(t),
			    "target/srpt/0xfe800000000000000002c90300a1b2c3");
	fab = loaded(f, "sbp");
	assert_int_equal(rts_target_create(fab, "eui.0123456789abcdef", &t), 0);
	assert_string_equal(rts_target_get_path(t), "target/sbp/0123456789abcdef");
	assert_int_equal(rts_fabric_to_fabric_wwn(fab, "eui.0123456789abcdef", buf, 4), -ENOSPC);
	assert_int_equal(rts_fabric_normalize_wwn(fab, "01:23:45:67:89:ab:cd:ef", buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "eui.0123456789abcdef");
}

static void test_spec_files(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab;
	struct rts_fabric_spec spec;
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/myfabric.spec", f->files);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("# third party fabric\nfeatures = acls, nps\nwwn_type = (\"naa\", \"iqn\")\n"
	      "kernel_module = my_target\nconfigfs_group = \"myfab\"\nwwn_from_files = /x\n",
	      fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/broken.spec", f->files);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("features = teleport\n", fp);
	fclose(fp);
	assert_int_equal(rts_ctx_set_fabric_spec_dir(f->ctx, f->files), 0);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	assert_int_equal(rts_fabric_lookup(f->ctx, "myfabric", &fab), 0);
	assert_true(rts_fabric_is_from_spec(fab));
	assert_string_equal(rts_fabric_get_configfs_name(fab), "myfab");
	assert_string_equal(rts_fabric_get_kernel_module(fab), "my_target");
	assert_int_equal(rts_fabric_get_features(fab), RTS_FEAT_ACLS | RTS_FEAT_NPS);
	assert_int_equal(rts_fabric_get_wwn_types(fab),
			 RTS_WWN_MASK(RTS_WWN_NAA) | RTS_WWN_MASK(RTS_WWN_IQN));
	assert_int_equal(rts_fabric_lookup(f->ctx, "broken", &fab), -ENOENT);

	assert_int_equal(fabric_spec_parse("x", "", &spec), 0);
	assert_string_equal(spec.module, "x_target_mod");
	assert_int_equal(spec.wwn_types, RTS_WWN_MASK(RTS_WWN_FREE));
	fabric_spec_clear(&spec);
	assert_int_equal(fabric_spec_parse("x", "no equals sign", &spec), -EINVAL);
	assert_int_equal(fabric_spec_parse("x", "kernel_module = ../evil", &spec), -EINVAL);
	assert_int_equal(fabric_spec_parse("x", "wwn_type = martian", &spec), -EINVAL);
	assert_int_equal(fabric_spec_parse("a/b", "", &spec), -EINVAL);
}

static int collect_group(void *ud, const char *group)
{
	char *buf = ud;

	strcat(buf, group);
	strcat(buf, ";");
	return 0;
}

static void test_acl_groups(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab = loaded(f, "iscsi");
	struct rts_so *so = ramdisk(f, "g");
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_acl *a, *b, *c;
	struct rts_mapped_lun *m;
	char groups[256] = "", *v;

	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:groups", &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_lun_create(tpg, 0, so, NULL, &lun), 0);
	assert_int_equal(rts_acl_group_add_acl(tpg, "web", "iqn.2003-01.org.x:w1", &a), 0);
	assert_int_equal(rts_acl_group_add_acl(tpg, "web", "iqn.2003-01.org.x:w2", &b), 0);
	assert_int_equal(rts_acl_group_add_acl(tpg, "db", "iqn.2003-01.org.x:d1", &c), 0);
	assert_int_equal(rts_acl_create(tpg, "iqn.2003-01.org.x:loner", NULL), 0);
	assert_int_equal(rts_acl_group_add_acl(tpg, "bad/group", "iqn.2003-01.org.x:z", NULL),
			 -EINVAL);
	assert_int_equal(rts_acl_lookup(tpg, "iqn.2003-01.org.x:z", &a), -ENOENT);
	assert_int_equal(rts_acl_lookup(tpg, "iqn.2003-01.org.x:w1", &a), 0);
	assert_int_equal(rts_tpg_foreach_acl_group(tpg, collect_group, groups), 0);
	assert_string_equal(groups, "web;db;");
	assert_int_equal(rts_acl_group_map_lun(tpg, "web", 5, lun, true), 0);
	assert_int_equal(rts_mapped_lun_lookup(a, 5, &m), 0);
	assert_int_equal(rts_mapped_lun_lookup(b, 5, &m), 0);
	assert_int_equal(rts_mapped_lun_lookup(c, 5, &m), -ENOENT);
	assert_int_equal(rts_acl_group_map_lun(tpg, "web", 5, lun, true), 0); /* idempotent */
	assert_int_equal(rts_acl_group_map_lun(tpg, "nobody", 5, lun, true), -ENOENT);
	assert_error(f->ctx, -ENOENT, "nobody");
	assert_int_equal(rts_acl_group_map_lun(tpg, "web", RTS_AUTO, lun, true), -EINVAL);
	assert_int_equal(rts_acl_group_unmap_lun(tpg, "web", 5), 0);
	assert_int_equal(rts_mapped_lun_lookup(a, 5, &m), -ENOENT);
	assert_int_equal(rts_acl_group_unmap_lun(tpg, "web", 5), -ENOENT);
	/* clearing a tag leaves the group */
	assert_int_equal(rts_acl_set_tag(c, NULL), 0);
	assert_int_equal(rts_acl_get_tag(c, &v), 0);
	assert_string_equal(v, "");
	free(v);
	groups[0] = '\0';
	assert_int_equal(rts_tpg_foreach_acl_group(tpg, collect_group, groups), 0);
	assert_string_equal(groups, "web;");
	assert_int_equal(rts_acl_group_delete(tpg, "web"), 0);
	assert_int_equal(rts_acl_lookup(tpg, "iqn.2003-01.org.x:w2", &b), -ENOENT);
	assert_int_equal(rts_acl_group_delete(tpg, "web"), -ENOENT);
	assert_int_equal(rts_acl_lookup(tpg, "iqn.2003-01.org.x:loner", &b), 0);
}

/* A tree built through the API equals the tree a fresh walk finds. */
static void test_walk_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab = loaded(f, "iscsi");
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_acl *acl;
	struct rts_lun *lun;
	struct rts_so *so;
	char name[32];
	int luns = 0, mapped = 0, sos = 0;

	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.x:walk", &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "d%d", i);
		so = ramdisk(f, name);
		assert_int_equal(rts_lun_create(tpg, (uint64_t)i * 100, so, NULL, &lun), 0);
		snprintf(name, sizeof(name), "iqn.2003-01.org.x:i%d", i);
		assert_int_equal(rts_acl_create(tpg, name, &acl), 0);
		assert_int_equal(rts_mapped_lun_create(acl, 0, lun, i % 2, NULL), 0);
	}
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	rts_for_each_storage_object(f->ctx, so) {
		assert_int_equal(rts_so_get_lun_count(so), 1);
		sos++;
	}
	assert_int_equal(rts_fabric_lookup(f->ctx, "iscsi", &fab), 0);
	assert_true(rts_fabric_is_loaded(fab));
	t = rts_target_first(fab);
	assert_non_null(t);
	assert_null(rts_target_next(t));
	tpg = rts_tpg_first(t);
	assert_null(rts_tpg_next(tpg));
	rts_for_each_lun(tpg, lun) {
		assert_int_equal(rts_lun_get_index(lun), (uint64_t)luns * 100);
		assert_non_null(rts_lun_get_so(lun));
		luns++;
	}
	rts_for_each_acl(tpg, acl) {
		struct rts_mapped_lun *m;

		rts_for_each_mapped_lun(acl, m) {
			assert_non_null(rts_mapped_lun_get_lun(m));
			mapped++;
		}
	}
	assert_int_equal(sos, 20);
	assert_int_equal(luns, 20);
	assert_int_equal(mapped, 20);
	assert_int_equal(rts_ctx_clear(f->ctx), 0);
	assert_null(rts_so_first(f->ctx));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_fabric_table),
		BOTH(test_iscsi_target_tpg),
		BOTH(test_chap_and_discovery),
		BOTH(test_luns),
		BOTH(test_portals),
		BOTH(test_acls_and_mapped_luns),
		BOTH(test_session_parse),
		BOTH(test_loopback),
		BOTH(test_wwn_spellings),
		BOTH(test_spec_files),
		BOTH(test_walk_roundtrip),
		BOTH(test_acl_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
