/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librts_probe: drive librts over a configfs root, for the real-kernel tier and for the
 * emulator fixture test (tests/vm/librts-real.sh, tests/unit/lib/emu-fixture.sh).
 *
 *   librts_probe build   --root DIR [--backend real|emulate|memory] [--work DIR]
 *                        [--block DEV] [--pscsi DEV|H:C:T:L] [--user-enable 0|1]
 *   librts_probe dump    --root DIR [--backend ...]    every object + attribute, stable text
 *   librts_probe pscsi   --root DIR [--backend ...] --pscsi DEV|H:C:T:L   pscsi p1 alone
 *   librts_probe clear   --root DIR [--backend ...]    rts_ctx_clear()
 *   librts_probe counts  --root DIR [--backend ...]    each storage object's LUN count found
 *                                                      by name (from the kernel's ALUA group
 *                                                      members) = the one from reading every TPG
 *   librts_probe errors  --root DIR [--backend ...]    errno of operations the kernel refuses
 *   librts_probe capture --root DIR [--backend ...]    the tree under target/ in the format of
 *                                                      tests/vm/capture-configfs.py (v1)
 *
 * Everything goes through the public librts API except capture on the emulated backend,
 * which asks the emulator's model for file modes (a plain directory has none to report).
 * Exit status: 0 on success, 1 when an operation failed (each failure printed as "FAIL ...").
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <rts/rts.h>

#include "emu.h"

#define IQN	 "iqn.2003-01.org.linux-iscsi.probe:t1"
#define INIT1	 "iqn.1994-05.com.redhat:probe-init1"
#define INIT2	 "iqn.1994-05.com.redhat:probe-init2"
#define LOOP_WWN "naa.5001405000000a01"
#define NEXUS	 "naa.5001405000000b01"

static struct {
	const char *root;
	const char *backend;
	const char *work;
	const char *block;
	const char *pscsi;
	int user_enable;
} opt = { .backend = "real", .work = "/tmp/librts-probe", .user_enable = 1 };

static int failures;

#define TRY(what, expr)                                                                   \
	({                                                                                \
		int r__ = (expr);                                                         \
		if (r__ < 0) {                                                            \
			const struct rts_error *e__ = rts_ctx_last_error(ctx);            \
			printf("FAIL %s: %s (%s: %s)\n", what, strerror(-r__), e__->path, \
			       e__->message);                                             \
			failures++;                                                       \
		} else {                                                                  \
			printf("ok   %s\n", what);                                        \
		}                                                                         \
		r__;                                                                      \
	})

static int open_ctx(struct rts_ctx **ctx)
{
	unsigned int flags = 0;
	int r;

	if (!strcmp(opt.backend, "emulate"))
		flags = RTS_CTX_EMULATE;
	else if (!strcmp(opt.backend, "memory"))
		flags = RTS_CTX_MEMORY;
	else if (strcmp(opt.backend, "real")) {
		fprintf(stderr, "unknown backend '%s'\n", opt.backend);
		return -EINVAL;
	}
	r = rts_ctx_new(opt.root, flags, ctx);
	if (r < 0)
		fprintf(stderr, "rts_ctx_new(%s): %s\n", opt.root ? opt.root : "(default)",
			strerror(-r));
	return r;
}

/* ------------------------------------------------------------ build */

static void build_storage(struct rts_ctx *ctx, struct rts_so **f1, struct rts_so **r1)
{
	char path[512];
	struct rts_alua_tpg *tg = NULL;
	struct rts_lu_gp *lg = NULL;

	snprintf(path, sizeof(path), "%s/f1.img", opt.work);
	if (TRY("fileio f1", rts_fileio_create(ctx, "f1", path, 8u << 20, RTS_FILEIO_SPARSE, f1)) <
	    0)
		*f1 = NULL;
	snprintf(path, sizeof(path), "%s/f2.img", opt.work);
	TRY("fileio f2 (write-back)",
	    rts_fileio_create(ctx, "f2", path, 4u << 20, RTS_FILEIO_WRITE_BACK | RTS_FILEIO_SPARSE,
			      NULL));
	if (opt.block)
		TRY("block b1", rts_block_create(ctx, "b1", opt.block, 0, NULL));
	else
		printf("SKIP block b1: no --block device\n");
	if (TRY("ramdisk r1", rts_ramdisk_create(ctx, "r1", 16u << 20, 0, r1)) < 0)
		*r1 = NULL;
	TRY("ramdisk r2 (nullio)",
	    rts_ramdisk_create(ctx, "r2", 1u << 30, RTS_RAMDISK_NULLIO, NULL));
	if (opt.user_enable) {
		/* nl_reply_supported=-1: the kernel does not wait for a runner's netlink reply */
		struct rts_user_config uc = {
			.cfgstring = "file//tmp/librts-probe/u1.img",
			.size = 16u << 20,
			.max_data_area_mb = 8,
			.hw_max_sectors = 256,
			.hw_block_size = 4096,
			/* librts' -1 means "leave the kernel default" (0); -1 is written as a
			 * control key so that enable never waits for a netlink reply */
			.nl_reply_supported = -1,
			.control = "nl_reply_supported=-1",
		};

		TRY("user u1 (TCMU)", rts_user_create(ctx, "u1", &uc, NULL));
	}

	/* WWN / serial, attributes */
	if (*f1) {
		TRY("f1 serial", rts_so_set_wwn(*f1, "a1b2c3d4-0000-4000-8000-00000000f001"));
		TRY("f1 attrib emulate_tpu",
		    rts_so_set_attr(*f1, RTS_GROUP_ATTRIB, "emulate_tpu", "1"));
		TRY("f1 attrib block_size 4096",
		    rts_so_set_attr(*f1, RTS_GROUP_ATTRIB, "block_size", "4096"));
		TRY("f1 wwn product_id",
		    rts_so_set_attr(*f1, RTS_GROUP_WWN, "product_id", "PROBE"));
		/* ALUA target port group + LU group */
		if (TRY("f1 alua tg1", rts_alua_tpg_create(*f1, "tg1", 17, &tg)) >= 0) {
			TRY("tg1 alua_access_type",
			    rts_alua_tpg_set_attr(tg, "alua_access_type", "1"));
			TRY("tg1 nonop_delay_msecs",
			    rts_alua_tpg_set_attr(tg, "nonop_delay_msecs", "200"));
			TRY("tg1 preferred", rts_alua_tpg_set_attr(tg, "preferred", "1"));
		}
	}
	if (TRY("lu_gp lg1", rts_lu_gp_create(ctx, "lg1", 21, &lg)) >= 0 && *f1)
		TRY("f1 in lu_gp lg1", rts_so_set_lu_gp(*f1, "lg1"));
	if (opt.pscsi)
		TRY("pscsi p1", rts_pscsi_create(ctx, "p1", opt.pscsi, NULL));
}

static void build_iscsi(struct rts_ctx *ctx, struct rts_so *f1, struct rts_so *r1)
{
	struct rts_fabric *f = NULL;
	struct rts_target *t = NULL;
	struct rts_tpg *tpg = NULL;
	struct rts_lun *l0 = NULL, *l1 = NULL, *l300 = NULL;
	struct rts_acl *acl = NULL, *acl2 = NULL;
	struct rts_chap chap = { 0 };

	if (TRY("iscsi fabric", rts_fabric_lookup(ctx, "iscsi", &f)) < 0)
		return;
	if (TRY("iscsi fabric load", rts_fabric_load(f, !strcmp(opt.backend, "real"))) < 0)
		return;
	snprintf(chap.userid, sizeof(chap.userid), "discuser");
	snprintf(chap.password, sizeof(chap.password), "discpass");
	snprintf(chap.mutual_userid, sizeof(chap.mutual_userid), "discmuser");
	snprintf(chap.mutual_password, sizeof(chap.mutual_password), "discmpass");
	TRY("iscsi discovery auth", rts_fabric_set_discovery_auth(f, true, &chap));
	if (TRY("iscsi target", rts_target_create(f, IQN, &t)) < 0)
		return;
	if (TRY("iscsi tpg 1", rts_tpg_create(t, 1, &tpg)) < 0)
		return;
	TRY("tpg attrib authentication=0",
	    rts_tpg_set_attr(tpg, RTS_GROUP_ATTRIB, "authentication", "0"));
	TRY("tpg attrib default_cmdsn_depth=32",
	    rts_tpg_set_attr(tpg, RTS_GROUP_ATTRIB, "default_cmdsn_depth", "32"));
	TRY("tpg attrib login_timeout=10",
	    rts_tpg_set_attr(tpg, RTS_GROUP_ATTRIB, "login_timeout", "10"));
	TRY("tpg param MaxConnections=4",
	    rts_tpg_set_attr(tpg, RTS_GROUP_PARAM, "MaxConnections", "4"));
	TRY("tpg param TargetAlias",
	    rts_tpg_set_attr(tpg, RTS_GROUP_PARAM, "TargetAlias", "probe"));
	TRY("tpg param HeaderDigest",
	    rts_tpg_set_attr(tpg, RTS_GROUP_PARAM, "HeaderDigest", "None"));
	if (f1) {
		TRY("lun 0 -> f1", rts_lun_create(tpg, 0, f1, NULL, &l0));
		if (l0)
			TRY("lun 0 alua group tg1", rts_lun_set_alua_group(l0, "tg1"));
	}
	if (r1) {
		TRY("lun 1 -> r1 (alias)", rts_lun_create(tpg, 1, r1, "r1link", &l1));
		TRY("lun 300 -> r1", rts_lun_create(tpg, 300, r1, NULL, &l300));
	}
	TRY("portal 127.0.0.1:3260", rts_portal_create(tpg, "127.0.0.1", 3260, NULL));
	TRY("portal [::1]:3261", rts_portal_create(tpg, "::1", 3261, NULL));
	if (TRY("acl init1", rts_acl_create(tpg, INIT1, &acl)) >= 0) {
		struct rts_chap c = { 0 };

		snprintf(c.userid, sizeof(c.userid), "user1");
		snprintf(c.password, sizeof(c.password), "pass1pass1");
		snprintf(c.mutual_userid, sizeof(c.mutual_userid), "muser1");
		snprintf(c.mutual_password, sizeof(c.mutual_password), "mpass1mpass1");
		TRY("acl init1 chap (mutual)", rts_acl_set_chap(acl, &c));
		TRY("acl init1 cmdsn_depth 16", rts_acl_set_cmdsn_depth(acl, 16));
		TRY("acl init1 tag", rts_acl_set_tag(acl, "probegroup"));
		TRY("acl init1 attrib nopin_timeout",
		    rts_acl_set_attr(acl, RTS_GROUP_ATTRIB, "nopin_timeout", "20"));
		if (l0)
			TRY("mapped lun 0 -> lun 0",
			    rts_mapped_lun_create(acl, 0, l0, false, NULL));
		if (l1)
			TRY("mapped lun 5 -> lun 1 (write protect)",
			    rts_mapped_lun_create(acl, 5, l1, true, NULL));
		if (l300)
			TRY("mapped lun 300 -> lun 300",
			    rts_mapped_lun_create(acl, 300, l300, false, NULL));
	}
	if (TRY("acl init2", rts_acl_create(tpg, INIT2, &acl2)) >= 0 && l0)
		TRY("acl init2 mapped lun 0 (wp)", rts_mapped_lun_create(acl2, 0, l0, true, NULL));
	TRY("tpg enable", rts_tpg_set_enable(tpg, true));
}

static void build_loopback(struct rts_ctx *ctx, struct rts_so *r1)
{
	struct rts_fabric *f = NULL;
	struct rts_target *t = NULL;
	struct rts_tpg *tpg = NULL;

	if (TRY("loopback fabric", rts_fabric_lookup(ctx, "loopback", &f)) < 0)
		return;
	if (TRY("loopback fabric load", rts_fabric_load(f, !strcmp(opt.backend, "real"))) < 0)
		return;
	if (TRY("loopback target", rts_target_create(f, LOOP_WWN, &t)) < 0)
		return;
	if (TRY("loopback tpg", rts_tpg_create(t, 1, &tpg)) < 0)
		return;
	TRY("loopback nexus", rts_tpg_set_nexus(tpg, NEXUS));
	if (r1)
		TRY("loopback lun 0 -> r1", rts_lun_create(tpg, 0, r1, NULL, NULL));
}

static int cmd_build(void)
{
	struct rts_ctx *ctx = NULL;
	struct rts_so *f1 = NULL, *r1 = NULL;
	int r;

	if (mkdir(opt.work, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "mkdir %s: %m\n", opt.work);
		return 1;
	}
	r = open_ctx(&ctx);
	if (r < 0)
		return 1;
	build_storage(ctx, &f1, &r1);
	build_iscsi(ctx, f1, r1);
	build_loopback(ctx, r1);
	rts_ctx_unref(ctx);
	printf("build: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}

/* ------------------------------------------------------------ dump */

static void put_value(const char *v)
{
	putchar('"');
	for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			printf("\\n");
		else if (*s < 0x20 || *s >= 0x7f)
			printf("\\x%02x", *s);
		else
			putchar(*s);
	}
	printf("\"\n");
}

struct attr_ud {
	const char *prefix;
	const char *group;
};

static int print_attr(void *ud, const char *name, const char *value)
{
	const struct attr_ud *a = ud;

	printf("%s %s/%s = ", a->prefix, a->group, name);
	put_value(value ? value : "");
	return 0;
}

static const char *const group_names[RTS_GROUP_MAX] = { "",    "attrib", "param", "auth",
							"wwn", "pr",	 "action" };

static void dump_so(struct rts_so *so)
{
	char prefix[300];
	struct rts_alua_tpg *gp;
	char *s = NULL;
	uint64_t size = 0;

	snprintf(prefix, sizeof(prefix), "so %s/%s", rts_plugin_name(rts_so_get_plugin(so)),
		 rts_so_get_name(so));
	printf("%s enabled=%d luns=%u\n", prefix, rts_so_is_enabled(so), rts_so_get_lun_count(so));
	if (rts_so_get_wwn(so, &s) == 0)
		printf("%s wwn=%s\n", prefix, s);
	free(s);
	s = NULL;
	if (rts_so_get_size(so, &size) == 0)
		printf("%s size=%" PRIu64 "\n", prefix, size);
	if (rts_so_get_udev_path(so, &s) == 0)
		printf("%s udev_path=%s\n", prefix, s);
	free(s);
	s = NULL;
	if (rts_so_get_lu_gp(so, &s) == 0)
		printf("%s lu_gp=%s\n", prefix, s);
	free(s);
	for (int g = RTS_GROUP_ATTRIB; g < RTS_GROUP_MAX; g++) {
		struct attr_ud ud = { prefix, group_names[g] };

		if (g == RTS_GROUP_PARAM || g == RTS_GROUP_AUTH || g == RTS_GROUP_ACTION)
			continue;
		rts_so_foreach_attr(so, (enum rts_group)g, print_attr, &ud);
	}
	rts_for_each_alua_tpg(so, gp)
	{
		char p2[400];
		struct attr_ud ud = { p2, "alua" };

		snprintf(p2, sizeof(p2), "%s tg_pt_gp %s", prefix, rts_alua_tpg_get_name(gp));
		printf("%s\n", p2);
		rts_alua_tpg_foreach_attr(gp, print_attr, &ud);
	}
}

static void dump_chap(const char *prefix, const struct rts_chap *c)
{
	printf("%s chap userid=%s password=%s mutual_userid=%s mutual_password=%s\n", prefix,
	       c->userid, c->password, c->mutual_userid, c->mutual_password);
}

static void dump_tpg(struct rts_tpg *tpg, const char *tprefix)
{
	char prefix[400];
	struct rts_lun *lun;
	struct rts_portal *np;
	struct rts_acl *acl;
	bool en = false;
	char *s = NULL;
	struct rts_chap chap;

	snprintf(prefix, sizeof(prefix), "%s tpgt_%u", tprefix, rts_tpg_get_tag(tpg));
	if (rts_tpg_get_enable(tpg, &en) == 0)
		printf("%s enable=%d\n", prefix, en);
	else
		printf("%s\n", prefix);
	if (rts_tpg_get_nexus(tpg, &s) == 0)
		printf("%s nexus=%s\n", prefix, s);
	free(s);
	s = NULL;
	if (rts_tpg_get_chap(tpg, &chap) == 0)
		dump_chap(prefix, &chap);
	for (int g = RTS_GROUP_ATTRIB; g <= RTS_GROUP_AUTH; g++) {
		struct attr_ud ud = { prefix, group_names[g] };

		rts_tpg_foreach_attr(tpg, (enum rts_group)g, print_attr, &ud);
	}
	rts_for_each_lun(tpg, lun) {
		struct rts_so *so = rts_lun_get_so(lun);

		printf("%s lun %" PRIu64 " -> %s/%s alias=%s", prefix, rts_lun_get_index(lun),
		       so ? rts_plugin_name(rts_so_get_plugin(so)) : "?",
		       so ? rts_so_get_name(so) : "?",
		       rts_lun_get_alias(lun) ? rts_lun_get_alias(lun) : "");
		if (rts_lun_get_alua_group(lun, &s) == 0)
			printf(" alua=%s", s);
		free(s);
		s = NULL;
		printf("\n");
	}
	rts_for_each_portal(tpg, np) {
		bool iser = false;

		rts_portal_get_transport(np, "iser", &iser);
		printf("%s portal %s%s%s:%u ipv6=%d iser=%d\n", prefix,
		       rts_portal_is_ipv6(np) ? "[" : "", rts_portal_get_ip(np),
		       rts_portal_is_ipv6(np) ? "]" : "", rts_portal_get_port(np),
		       rts_portal_is_ipv6(np), iser);
	}
	rts_for_each_acl(tpg, acl) {
		char ap[700];
		struct rts_mapped_lun *m;
		uint32_t depth = 0;
		struct rts_session sess;

		snprintf(ap, sizeof(ap), "%s acl %s", prefix, rts_acl_get_wwn(acl));
		printf("%s\n", ap);
		if (rts_acl_get_cmdsn_depth(acl, &depth) == 0)
			printf("%s cmdsn_depth=%" PRIu32 "\n", ap, depth);
		if (rts_acl_get_tag(acl, &s) == 0)
			printf("%s tag=%s\n", ap, s);
		free(s);
		s = NULL;
		if (rts_acl_get_chap(acl, &chap) == 0)
			dump_chap(ap, &chap);
		if (rts_acl_get_session(acl, &sess) == 0)
			printf("%s session active=%d\n", ap, sess.active);
		for (int g = RTS_GROUP_ATTRIB; g <= RTS_GROUP_AUTH; g++) {
			struct attr_ud ud = { ap, group_names[g] };

			rts_acl_foreach_attr(acl, (enum rts_group)g, print_attr, &ud);
		}
		rts_for_each_mapped_lun(acl, m) {
			struct rts_lun *tl = rts_mapped_lun_get_lun(m);
			bool wp = false;

			rts_mapped_lun_get_write_protect(m, &wp);
			printf("%s mapped_lun %" PRIu64 " -> lun %" PRIu64 " write_protect=%d\n",
			       ap, rts_mapped_lun_get_index(m),
			       tl ? rts_lun_get_index(tl) : UINT64_MAX, wp);
		}
	}
}

static int cmd_dump(void)
{
	struct rts_ctx *ctx = NULL;
	struct rts_so *so;
	struct rts_lu_gp *lg;
	struct rts_fabric *f;

	if (open_ctx(&ctx) < 0)
		return 1;
	rts_for_each_storage_object(ctx, so)
		dump_so(so);
	rts_for_each_lu_gp(ctx, lg)
	{
		char *s = NULL;

		printf("lu_gp %s", rts_lu_gp_get_name(lg));
		if (rts_lu_gp_get_attr(lg, "lu_gp_id", &s) == 0)
			printf(" lu_gp_id=%s", s);
		free(s);
		printf("\n");
	}
	rts_for_each_fabric(ctx, f) {
		struct rts_target *t;
		bool enforce = false;
		struct rts_chap chap;

		if (!rts_fabric_is_loaded(f))
			continue;
		printf("fabric %s\n", rts_fabric_get_name(f));
		if (rts_fabric_get_features(f) & RTS_FEAT_DISCOVERY_AUTH &&
		    rts_fabric_get_discovery_auth(f, &enforce, &chap) == 0) {
			char p[64];

			snprintf(p, sizeof(p), "fabric %s discovery_auth enforce=%d",
				 rts_fabric_get_name(f), enforce);
			dump_chap(p, &chap);
		}
		rts_for_each_target(f, t) {
			char tp[300];
			struct rts_tpg *tpg;

			snprintf(tp, sizeof(tp), "target %s/%s", rts_fabric_get_name(f),
				 rts_target_get_wwn(t));
			printf("%s\n", tp);
			rts_for_each_tpg(t, tpg)
				dump_tpg(tpg, tp);
		}
	}
	rts_ctx_unref(ctx);
	return 0;
}

/* pscsi alone: in the guest the device to pass through is the loopback disk made by build. */
static int cmd_pscsi(void)
{
	struct rts_ctx *ctx = NULL;
	int r;

	if (!opt.pscsi) {
		fprintf(stderr, "pscsi needs --pscsi DEV|H:C:T:L\n");
		return 2;
	}
	if (open_ctx(&ctx) < 0)
		return 1;
	r = TRY("pscsi p1", rts_pscsi_create(ctx, "p1", opt.pscsi, NULL));
	rts_ctx_unref(ctx);
	return r < 0 ? 1 : 0;
}

static int cmd_clear(void)
{
	struct rts_ctx *ctx = NULL;
	int r;

	if (open_ctx(&ctx) < 0)
		return 1;
	r = TRY("clear", rts_ctx_clear(ctx));
	/* rts_ctx_clear() follows rtslib's clear_existing(), which leaves ALUA LU groups */
	if (r >= 0) {
		struct rts_lu_gp *lg, *next;

		for (lg = rts_lu_gp_first(ctx); lg; lg = next) {
			char what[300];

			next = rts_lu_gp_next(lg);
			if (!strcmp(rts_lu_gp_get_name(lg), "default_lu_gp"))
				continue;
			snprintf(what, sizeof(what), "delete lu_gp %s", rts_lu_gp_get_name(lg));
			if (TRY(what, rts_lu_gp_delete(lg)) < 0)
				r = -1;
		}
	}
	rts_ctx_unref(ctx);
	return r < 0 ? 1 : 0;
}

/* ------------------------------------------------------------ errors */

static const char *errno_name(int e);

/*
 * Operations the kernel refuses, on the tree made by build, straight through the context's
 * backend (the emulator must answer as the kernel does). Prints "<operation> -> <errno|ok>".
 */
static int cmd_errors(void)
{
#define T  "target/iscsi/" IQN "/tpgt_1"
#define F1 "target/core/fileio_0/f1"
	struct rts_ctx *ctx = NULL;
	struct rts_backend *be;
	char buf[256], tmp[600];
	struct {
		const char *what;
		char op; /* m mkdir, r rmdir, w write, R read, l symlink */
		const char *path;
		const char *arg;
	} ops[] = {
		{ "rmdir a device a LUN exports", 'r', F1, NULL },
		{ "rmdir a TPG holding LUNs", 'r', T, NULL },
		{ "rmdir a default group", 'r', F1 "/attrib", NULL },
		{ "rmdir the default ALUA group", 'r', F1 "/alua/default_tg_pt_gp", NULL },
		{ "mkdir an existing default group", 'm', F1 "/alua/default_tg_pt_gp", NULL },
		{ "mkdir in attrib/", 'm', F1 "/attrib/x", NULL },
		{ "mkdir core/bogus_0", 'm', "target/core/bogus_0", NULL },
		{ "mkdir an existing LUN", 'm', T "/lun/lun_0", NULL },
		{ "mkdir lun/foo", 'm', T "/lun/foo", NULL },
		{ "mkdir np without port", 'm', T "/np/127.0.0.1", NULL },
		{ "mkdir np on loopback", 'm',
		  "target/loopback/" LOOP_WWN "/tpgt_1/np/127.0.0.1:3260", NULL },
		{ "write a read-only attribute (info)", 'w', F1 "/info", "x" },
		{ "write hw_block_size", 'w', F1 "/attrib/hw_block_size", "4096" },
		{ "write user max_data_area_mb attribute", 'w',
		  "target/core/user_0/u1/attrib/max_data_area_mb", "16" },
		{ "read control (write-only)", 'R', F1 "/control", NULL },
		{ "enable a device twice", 'w', F1 "/enable", "1" },
		{ "disable a device", 'w', F1 "/enable", "0" },
		{ "write tpg attrib authentication=2", 'w', T "/attrib/authentication", "2" },
		{ "write alua_access_state=9", 'w', F1 "/alua/tg1/alua_access_state", "9" },
		{ "write cmdsn_depth=0", 'w', T "/acls/" INIT1 "/cmdsn_depth", "0" },
		{ "write the nexus twice", 'w', "target/loopback/" LOOP_WWN "/tpgt_1/nexus",
		  "naa.5001405000000b02" },
		{ "second link in a LUN", 'l', T "/lun/lun_0/second", F1 },
		{ 0 },
	};
	int r;

	if (open_ctx(&ctx) < 0)
		return 1;
	be = rts_ctx_get_backend(ctx);
	for (int i = 0; ops[i].what; i++) {
		switch (ops[i].op) {
		case 'm':
			r = rts_backend_mkdir(be, ops[i].path);
			break;
		case 'r':
			r = rts_backend_rmdir(be, ops[i].path);
			break;
		case 'w':
			r = rts_backend_write(be, ops[i].path, ops[i].arg);
			break;
		case 'R':
			r = (int)rts_backend_read(be, ops[i].path, buf, sizeof(buf));
			break;
		default:
			snprintf(tmp, sizeof(tmp), "%s", ops[i].arg);
			r = rts_backend_symlink(be, tmp, ops[i].path);
			break;
		}
		printf("%s -> %s\n", ops[i].what, r >= 0 ? "ok" : errno_name(-r));
	}
	rts_ctx_unref(ctx);
	return 0;
#undef T
#undef F1
}

/* ------------------------------------------------------------ capture */

static void put_escaped(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\\' || c == '"')
			printf("\\%c", c);
		else if (c == '\n')
			printf("\\n");
		else if (c == '\t')
			printf("\\t");
		else if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

struct names {
	char **v;
	size_t n;
};

static int collect(void *ud, const char *name, enum rts_ftype type)
{
	struct names *l = ud;
	char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	(void)type;
	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n] = strdup(name);
	return l->v[l->n++] ? 0 : -ENOMEM;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *errno_name(int e)
{
	switch (e) {
	case EACCES:
		return "EACCES";
	case EPERM:
		return "EPERM";
	case EINVAL:
		return "EINVAL";
	case EIO:
		return "EIO";
	case ENODEV:
		return "ENODEV";
	case ENOENT:
		return "ENOENT";
	case EBUSY:
		return "EBUSY";
	case EEXIST:
		return "EEXIST";
	case ENOTEMPTY:
		return "ENOTEMPTY";
	case ENOSYS:
		return "ENOSYS";
	case EFAULT:
		return "EFAULT";
	case EISDIR:
		return "EISDIR";
	default:
		return "EOTHER";
	}
}

static unsigned int mode_of(struct rts_backend *be, const char *rel, enum rts_ftype t)
{
	char p[4096];
	struct stat st;

	if (strcmp(opt.backend, "real")) {
		(void)be;
		return emu_model_mode(rel, t);
	}
	snprintf(p, sizeof(p), "%s/%s", opt.root ? opt.root : RTS_DEFAULT_ROOT, rel);
	if (lstat(p, &st) < 0)
		return 0;
	return st.st_mode & 07777;
}

/* rel: path below the backend root ("target/..."); shown relative to "target". */
static int walk(struct rts_backend *be, const char *rel)
{
	enum rts_ftype t;
	const char *shown = rel + strlen("target");
	int r;

	if (*shown == '/')
		shown++;
	r = rts_backend_stat(be, rel, &t);
	if (r < 0)
		return r;
	if (t == RTS_FT_LINK) {
		char buf[4096];

		r = rts_backend_readlink(be, rel, buf, sizeof(buf));
		if (r < 0)
			return r;
		printf("l %04o %s -> %s\n", mode_of(be, rel, t), shown, buf);
	} else if (t == RTS_FT_DIR) {
		struct names l = { 0 };

		if (*shown)
			printf("d %04o %s\n", mode_of(be, rel, t), shown);
		r = rts_backend_readdir(be, rel, collect, &l);
		if (r >= 0 && l.n)
			qsort(l.v, l.n, sizeof(*l.v), cmp_names);
		for (size_t i = 0; i < l.n; i++) {
			char child[4096];

			if (r >= 0) {
				snprintf(child, sizeof(child), "%s/%s", rel, l.v[i]);
				r = walk(be, child);
			}
			free(l.v[i]);
		}
		free(l.v);
		if (r < 0)
			return r;
	} else {
		static char buf[1 << 20];
		ssize_t n = rts_backend_read(be, rel, buf, sizeof(buf));

		if (n < 0) {
			printf("f %04o %s ! %s\n", mode_of(be, rel, t), shown, errno_name((int)-n));
		} else {
			printf("f %04o %s = \"", mode_of(be, rel, t), shown);
			put_escaped(buf, (size_t)n);
			printf("\"\n");
		}
	}
	return 0;
}

static int cmd_capture(void)
{
	struct rts_ctx *ctx = NULL;
	int r;

	if (open_ctx(&ctx) < 0)
		return 1;
	printf("# rtslib-c configfs capture v1\n");
	printf("# librts_probe build, backend %s\n", opt.backend);
	printf("# root: %s/target\n", opt.root ? opt.root : RTS_DEFAULT_ROOT);
	printf("# line: d|f|l <mode> <path relative to root> [= \"content\" | ! ERRNO | -> "
	       "target]\n");
	r = walk(rts_ctx_get_backend(ctx), "target");
	rts_ctx_unref(ctx);
	if (r < 0) {
		fprintf(stderr, "capture: %s\n", strerror(-r));
		return 1;
	}
	return 0;
}

/*
 * Each storage object's LUN count as a command on one object gets it (looked up by name in
 * a fresh context: librts asks the kernel, the device's info and ALUA group members) against
 * the count from reading every TPG (an iteration over all storage objects).
 */
static int cmd_counts(void)
{
	struct rts_ctx *all = NULL;
	struct rts_so *so;
	unsigned int n = 0, luns = 0;
	int bad = 0;

	if (open_ctx(&all) < 0)
		return 1;
	rts_for_each_storage_object(all, so) {
		struct rts_ctx *one = NULL;
		struct rts_so *it;
		unsigned int want = rts_so_get_lun_count(so), got;

		if (open_ctx(&one) < 0 ||
		    rts_so_lookup(one, rts_so_get_plugin(so), rts_so_get_name(so), &it) < 0) {
			printf("FAIL counts: lookup %s/%s\n", rts_plugin_name(rts_so_get_plugin(so)),
			       rts_so_get_name(so));
			bad = 1;
		} else if ((got = rts_so_get_lun_count(it)) != want) {
			printf("FAIL counts: %s/%s: %u LUN(s) by name, %u from every TPG\n",
			       rts_plugin_name(rts_so_get_plugin(so)), rts_so_get_name(so), got, want);
			bad = 1;
		}
		rts_ctx_unref(one);
		n++;
		luns += want;
	}
	rts_ctx_unref(all);
	printf("counts: %u storage object(s), %u exporting LUN(s)\n", n, luns);
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "backend", required_argument, NULL, 'b' },
		{ "work", required_argument, NULL, 'w' },
		{ "block", required_argument, NULL, 'k' },
		{ "pscsi", required_argument, NULL, 'p' },
		{ "user-enable", required_argument, NULL, 'u' },
		{ 0 },
	};
	const char *cmd;
	int c;

	if (argc < 2) {
		fprintf(stderr, "usage: %s build|dump|counts|clear|capture --root DIR [--backend B]\n",
			argv[0]);
		return 2;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			opt.root = optarg;
			break;
		case 'b':
			opt.backend = optarg;
			break;
		case 'w':
			opt.work = optarg;
			break;
		case 'k':
			opt.block = optarg;
			break;
		case 'p':
			opt.pscsi = optarg;
			break;
		case 'u':
			opt.user_enable = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "build"))
		return cmd_build();
	if (!strcmp(cmd, "dump"))
		return cmd_dump();
	if (!strcmp(cmd, "pscsi"))
		return cmd_pscsi();
	if (!strcmp(cmd, "counts"))
		return cmd_counts();
	if (!strcmp(cmd, "clear"))
		return cmd_clear();
	if (!strcmp(cmd, "capture"))
		return cmd_capture();
	if (!strcmp(cmd, "errors"))
		return cmd_errors();
	fprintf(stderr, "unknown command '%s'\n", cmd);
	return 2;
}
