/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ALUA groups read from a device's configfs (tcmu/alua_cfs.c, rts_tcmu_use_alua()) in a
 * fake tree laid out like the kernel's, through the ring simulator: RTPG with the members'
 * relative port ids (statistics/scsi_port/indx), INQUIRY TPGS from alua_access_type, VPD
 * 83h port designators only where the arrival port is certain, STPG written to
 * alua_access_state (and refused for an explicit-only group), changes made by an
 * administrator seen by the next command, and groups that get members after open.
 * The real kernel's tree is the VM tier's (tests/vm/alua.sh).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rts/device.h>
#include <rts/sim.h>
#include <rts/uio.h>

#define TIMEOUT_MS 10000
#define DEV	   "target/core/user_1/disk/alua/"
#define LOOP	   "target/loopback/naa.5001405aa/tpgt_1/"
#define ISCSI	   "target/iscsi/iqn.2003-01.org.x:gw/tpgt_2/"

static char root[] = "/tmp/rts-test-alua-cfs-XXXXXX";

static void put(const char *rel, const char *content)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void get(const char *rel, char *buf, size_t len)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void group(const char *name, const char *id, const char *state, const char *type,
		  const char *pref, const char *members)
{
	static const char *const sup[] = { "active_optimized", "active_nonoptimized", "standby",
					   "unavailable", "transitioning" };
	char rel[256];

#define G(file, val)                                                        \
	do {                                                                \
		snprintf(rel, sizeof(rel), DEV "%s/%s", name, file);        \
		put(rel, val);                                              \
	} while (0)
	G("tg_pt_gp_id", id);
	G("alua_access_state", state);
	G("alua_access_type", type);
	G("alua_access_status", "None\n");
	G("preferred", pref);
	G("implicit_trans_secs", "0\n");
	G("members", members);
	for (size_t i = 0; i < sizeof(sup) / sizeof(sup[0]); i++) {
		char f[64];

		snprintf(f, sizeof(f), "alua_support_%s", sup[i]);
		G(f, "1\n");
	}
	G("alua_support_lba_dependent", "0\n");
	G("alua_support_offline", "0\n");
#undef G
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(root));
	/* the default group, emptied as targetcli does when LUNs go to other groups */
	group("default_tg_pt_gp", "0\n", "0\n", "Implicit and Explicit\n", "0\n", "");
	group("gw_a", "10\n", "0\n", "Implicit and Explicit\n", "1\n",
	      "loopback/naa.5001405aa/tpgt_1/lun_0\n");
	group("gw_b", "20\n", "2\n", "Implicit and Explicit\n", "0\n",
	      "iSCSI/iqn.2003-01.org.x:gw/tpgt_2/lun_3\n");
	/* tcm_loop: no enable file (always enabled), SAS protocol */
	put(LOOP "lun/lun_0/statistics/scsi_port/indx", "3\n");
	put(LOOP "lun/lun_0/statistics/scsi_transport/proto_id", "6\n");
	/* the other gateway's iSCSI TPG exists here but is disabled */
	put(ISCSI "enable", "0\n");
	put(ISCSI "lun/lun_3/statistics/scsi_port/indx", "7\n");
	put(ISCSI "lun/lun_3/statistics/scsi_transport/proto_id", "5\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static int zero_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int iovcnt, uint64_t off, uint64_t len)
{
	(void)dev;
	(void)off;
	(void)len;
	for (unsigned int i = 0; i < iovcnt; i++)
		memset(iov[i].iov_base, 0, iov[i].iov_len);
	rts_cmd_complete(cmd, 0);
	return 0;
}

static int zero_open(struct rts_dev *dev, bool reopen)
{
	(void)reopen;
	rts_dev_set_num_lbas(dev, 2048);
	return 0;
}

static const struct rts_handler zero = {
	RTS_HANDLER_INIT,
	.name = "zero",
	.subtype = "zero",
	.open = zero_open,
	.read = zero_read,
};

struct fix {
	struct rts_sim *sim;
	struct rts_dev *dev;
};

static int start(struct fix *f, const char *dev_name)
{
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "disk", .cfgstring = "zero/x", .block_size = 512,
				      .serial = "0123456789abcdef" };
	struct rts_tcmu_info info = { .hba = 1 };
	char cfs[600];
	int n;

	snprintf(info.dev_name, sizeof(info.dev_name), "%s", dev_name);
	assert_int_equal(rts_sim_new(NULL, &f->sim), 0);
	assert_int_equal(rts_dev_new_sim(&cfg, &zero, f->sim, &f->dev), 0);
	snprintf(cfs, sizeof(cfs), "%s", root);
	n = rts_tcmu_use_alua(cfs, &info, f->dev);
	assert_int_equal(rts_dev_open(f->dev, false, NULL), 0);
	assert_int_equal(rts_dev_start(f->dev), 0);
	return n;
}

static void stop(struct fix *f)
{
	assert_int_equal(rts_dev_stop(f->dev, TIMEOUT_MS), 0);
	assert_null(rts_sim_broken_reason(f->sim));
	rts_dev_close(f->dev);
	f->dev = rts_dev_free(f->dev);
	f->sim = rts_sim_free(f->sim);
}

static void exec(struct fix *f, const uint8_t *cdb, size_t cdb_len, enum rts_sim_dir dir,
		 void *buf, size_t len, struct rts_sim_completion *c)
{
	assert_int_equal(rts_sim_exec(f->sim, cdb, cdb_len, dir, buf, len, TIMEOUT_MS, c), 0);
}

static uint8_t tpgs(struct fix *f)
{
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 36 }, buf[36];
	struct rts_sim_completion c;

	exec(f, cdb, sizeof(cdb), RTS_SIM_FROM_DEV, buf, sizeof(buf), &c);
	assert_int_equal(c.status, 0);
	return (buf[5] >> 4) & 3;
}

static size_t rtpg(struct fix *f, uint8_t *buf, size_t len)
{
	uint8_t cdb[12] = { 0xa3, 0x0a };
	struct rts_sim_completion c;

	cdb[9] = (uint8_t)len;
	memset(buf, 0xee, len);
	exec(f, cdb, sizeof(cdb), RTS_SIM_FROM_DEV, buf, len, &c);
	assert_int_equal(c.status, 0);
	return 4 + ((size_t)buf[2] << 8 | buf[3]);
}

static void stpg(struct fix *f, uint16_t id, uint8_t state, struct rts_sim_completion *c)
{
	uint8_t cdb[12] = { 0xa4, 0x0a }, pl[8] = { 0 };

	cdb[9] = sizeof(pl);
	pl[4] = state;
	pl[6] = (uint8_t)(id >> 8);
	pl[7] = (uint8_t)id;
	exec(f, cdb, sizeof(cdb), RTS_SIM_TO_DEV, pl, sizeof(pl), c);
}

/* VPD 83h: finds designator @type with target port association; -1 when absent. */
static int vpd83_port(struct fix *f, uint8_t type, uint8_t *proto)
{
	uint8_t cdb[6] = { 0x12, 1, 0x83, 0, 255 }, buf[255];
	struct rts_sim_completion c;
	size_t len;

	exec(f, cdb, sizeof(cdb), RTS_SIM_FROM_DEV, buf, sizeof(buf), &c);
	assert_int_equal(c.status, 0);
	len = 4 + ((size_t)buf[2] << 8 | buf[3]);
	for (size_t off = 4; off + 4 <= len; off += 4 + buf[off + 3]) {
		if ((buf[off + 1] & 0x0f) != type || (buf[off + 1] & 0x30) != 0x10)
			continue;
		assert_int_equal(buf[off + 1] & 0x80, 0x80); /* PIV */
		assert_int_equal(buf[off + 3], 4);
		*proto = buf[off] >> 4;
		return buf[off + 6] << 8 | buf[off + 7];
	}
	return -1;
}

static void test_rtpg_inquiry_vpd(void **state)
{
	uint8_t buf[128], proto = 0;
	struct fix f;

	(void)state;
	assert_int_equal(start(&f, "disk"), 2); /* the empty default group is not reported */
	assert_int_equal(tpgs(&f), 3);
	assert_int_equal(rtpg(&f, buf, sizeof(buf)), 4 + 2 * (8 + 4));
	/* groups in directory order: gw_a, gw_b */
	assert_int_equal(buf[4], 0x80 | 0x00); /* PREF, active/optimized */
	assert_int_equal(buf[5], 0x80 | 0x08 | 0x04 | 0x02 | 0x01); /* T U S AN AO supported */
	assert_int_equal(buf[7], 10);
	assert_int_equal(buf[11], 1);
	assert_int_equal(buf[15], 3); /* relative port id = the LUN's scsi_port/indx */
	assert_int_equal(buf[16], 0x02);
	assert_int_equal(buf[19], 20);
	assert_int_equal(buf[27], 7);
	/* one enabled port here (the iSCSI TPG is disabled): its designators in VPD 83h */
	assert_int_equal(vpd83_port(&f, 4, &proto), 3);
	assert_int_equal(proto, 6);
	assert_int_equal(vpd83_port(&f, 5, &proto), 10);
	assert_int_equal(rts_dev_stop(f.dev, TIMEOUT_MS), 0);
	assert_int_equal(rts_dev_get_alua_port_group(f.dev), 10);
	assert_int_equal(rts_dev_start(f.dev), 0);
	stop(&f);
}

static void test_stpg_writes_configfs(void **state)
{
	struct rts_sim_completion c;
	uint8_t buf[128];
	char val[64];
	struct fix f;

	(void)state;
	assert_int_equal(start(&f, "disk"), 2);
	stpg(&f, 20, 0x00, &c);
	assert_int_equal(c.status, 0);
	get(DEV "gw_b/alua_access_state", val, sizeof(val));
	assert_string_equal(val, "0");
	get(DEV "gw_b/alua_access_status", val, sizeof(val));
	assert_string_equal(val, "1");
	rtpg(&f, buf, sizeof(buf));
	assert_int_equal(buf[16] & 0x0f, 0x00);
	assert_int_equal(buf[21], 1); /* altered by SET TARGET PORT GROUPS */

	/* an administrator changes a state behind our back: the next RTPG shows it */
	put(DEV "gw_a/alua_access_state", "1\n");
	rtpg(&f, buf, sizeof(buf));
	assert_int_equal(buf[4], 0x80 | 0x01);

	/* explicit only: the kernel would refuse our write, so the STPG is refused whole */
	put(DEV "gw_b/alua_access_type", "Explicit\n");
	put(DEV "gw_b/alua_access_state", "2\n");
	stpg(&f, 20, 0x00, &c);
	assert_int_equal(c.status, 2);
	assert_int_equal(c.sense[2] & 0x0f, 0x05);
	assert_int_equal(c.sense[12], 0x26); /* INVALID FIELD IN PARAMETER LIST */
	get(DEV "gw_b/alua_access_state", val, sizeof(val));
	assert_string_equal(val, "2\n");

	/* implicit only everywhere: TPGS 1, and STPG is not a command the device supports */
	put(DEV "gw_a/alua_access_type", "Implicit\n");
	put(DEV "gw_b/alua_access_type", "Implicit\n");
	assert_int_equal(tpgs(&f), 1);
	stpg(&f, 20, 0x00, &c);
	assert_int_equal(c.status, 2);
	assert_int_equal(c.sense[12], 0x20); /* INVALID COMMAND OPERATION CODE */
	put(DEV "gw_a/alua_access_type", "Implicit and Explicit\n");
	put(DEV "gw_b/alua_access_type", "Implicit and Explicit\n");
	put(DEV "gw_a/alua_access_state", "0\n");
	put(DEV "gw_b/alua_access_state", "2\n");
	stop(&f);
}

static void test_arrival_port_ambiguous(void **state)
{
	uint8_t proto;
	struct fix f;

	(void)state;
	/* both TPGs enabled here, in different groups: no port, no group in VPD 83h */
	put(ISCSI "enable", "1\n");
	assert_int_equal(start(&f, "disk"), 2);
	assert_int_equal(vpd83_port(&f, 4, &proto), -1);
	assert_int_equal(vpd83_port(&f, 5, &proto), -1);
	stop(&f);
	put(ISCSI "enable", "0\n");
}

static void test_members_after_open(void **state)
{
	uint8_t buf[64];
	struct fix f;

	(void)state;
	/* a backstore is enabled (and opened) before any LUN uses it */
	group("default_tg_pt_gp", "0\n", "0\n", "Implicit and Explicit\n", "0\n", "");
	put("target/core/user_1/late/alua/default_tg_pt_gp/members", "");
	put("target/core/user_1/late/alua/default_tg_pt_gp/tg_pt_gp_id", "0\n");
	put("target/core/user_1/late/alua/default_tg_pt_gp/alua_access_state", "0\n");
	put("target/core/user_1/late/alua/default_tg_pt_gp/alua_access_type",
	    "Implicit and Explicit\n");
	assert_int_equal(start(&f, "late"), 0);
	assert_int_equal(tpgs(&f), 0);
	/* then a LUN joins the default group */
	put("target/core/user_1/late/alua/default_tg_pt_gp/members",
	    "loopback/naa.5001405aa/tpgt_1/lun_0\n");
	assert_int_equal(tpgs(&f), 3);
	assert_int_equal(rtpg(&f, buf, sizeof(buf)), 4 + 8 + 4);
	assert_int_equal(buf[7], 0);
	assert_int_equal(buf[15], 3);
	stop(&f);
}

static void test_no_alua_dir(void **state)
{
	struct fix f;

	(void)state;
	assert_int_equal(start(&f, "nosuchdev"), -ENOENT);
	assert_int_equal(tpgs(&f), 0);
	stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rtpg_inquiry_vpd),
		cmocka_unit_test(test_stpg_writes_configfs),
		cmocka_unit_test(test_arrival_port_ambiguous),
		cmocka_unit_test(test_members_after_open),
		cmocka_unit_test(test_no_alua_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
