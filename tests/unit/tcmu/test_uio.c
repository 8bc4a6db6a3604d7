/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tcmu/uio.c against fake sysfs and configfs trees (the real ones are tested in the VM tier). */
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

#include <rts/uio.h>

static char root[] = "/tmp/rts-test-uio-XXXXXX";

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

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(root));
	put("sys/class/uio/uio0/name", "tcm-user/1/disk_a/file//var/lib/a.img\n");
	put("sys/class/uio/uio0/maps/map0/size", "0x40800000\n");
	put("sys/class/uio/uio3/name", "tcm-user/7/b\n"); /* empty dev_config */
	put("sys/class/uio/uio3/maps/map0/size", "0x900000\n");
	put("sys/class/uio/uio5/name", "uio_pdrv_genirq\n"); /* another UIO driver */
	put("sys/class/uio/uio5/maps/map0/size", "0x1000\n");
	put("cfg/target/core/user_1/disk_a/attrib/hw_block_size", "4096\n");
	put("cfg/target/core/user_1/disk_a/attrib/hw_max_sectors", "1024\n");
	put("cfg/target/core/user_1/disk_a/attrib/dev_size", "1073741824\n");
	put("cfg/target/core/user_1/disk_a/attrib/emulate_write_cache", "1\n");
	put("cfg/target/core/user_1/disk_a/wwn/vpd_unit_serial",
	    "T10 VPD Unit Serial Number: 3f2c5f7e-1d2a-4c6b-9a8e-0123456789ab\n");
	put("cfg/target/core/user_1/disk_a/action/block_dev", "");
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_parse_names(void **state)
{
	struct rts_tcmu_info i;

	(void)state;
	assert_int_equal(rts_tcmu_parse_uio_name("tcm-user/0/test/rbd/pool/img;osd_op_timeout=30", &i), 0);
	assert_int_equal(i.hba, 0);
	assert_string_equal(i.dev_name, "test");
	assert_string_equal(i.cfgstring, "rbd/pool/img;osd_op_timeout=30");
	assert_int_equal(rts_tcmu_parse_uio_name("tcm-user/12/x", &i), 0);
	assert_string_equal(i.cfgstring, "");
	assert_int_equal(rts_tcmu_parse_uio_name("uio_pdrv_genirq", &i), -EINVAL);
	assert_int_equal(rts_tcmu_parse_uio_name("tcm-user/x/y/z", &i), -EINVAL);
	assert_int_equal(rts_tcmu_parse_uio_name("tcm-user/1//z", &i), -EINVAL);
	assert_int_equal(rts_tcmu_parse_uio_name("tcm-user/1", &i), -EINVAL);
}

static void test_sysfs_and_scan(void **state)
{
	char sysfs[300];
	struct rts_tcmu_info i, *list;
	size_t n;

	(void)state;
	snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
	assert_int_equal(rts_tcmu_info_from_sysfs(sysfs, 0, &i), 0);
	assert_int_equal(i.minor, 0);
	assert_int_equal(i.hba, 1);
	assert_string_equal(i.cfgstring, "file//var/lib/a.img");
	assert_int_equal(i.map_size, 0x40800000ull);
	assert_int_equal(rts_tcmu_info_from_sysfs(sysfs, 5, &i), -EINVAL);
	assert_int_equal(rts_tcmu_info_from_sysfs(sysfs, 9, &i), -ENOENT);
	assert_int_equal(rts_tcmu_scan(sysfs, &list, &n), 0);
	assert_int_equal(n, 2); /* uio5 belongs to another driver */
	assert_true((list[0].minor == 0 && list[1].minor == 3) || (list[0].minor == 3 && list[1].minor == 0));
	free(list);
	snprintf(sysfs, sizeof(sysfs), "%s/nonexistent", root);
	assert_int_equal(rts_tcmu_scan(sysfs, &list, &n), 0); /* no uio module: no devices */
	assert_int_equal(n, 0);
}

static void test_configfs(void **state)
{
	char sysfs[300], cfg[300], path[400], buf[16] = { 0 };
	struct rts_tcmu_info i;
	struct rts_tcmu_attrs a;

	(void)state;
	snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
	snprintf(cfg, sizeof(cfg), "%s/cfg", root);
	assert_int_equal(rts_tcmu_info_from_sysfs(sysfs, 0, &i), 0);
	assert_int_equal(rts_tcmu_read_attrs(cfg, &i, &a), 0);
	assert_int_equal(a.block_size, 4096);
	assert_int_equal(a.max_sectors, 1024);
	assert_int_equal(a.size, 1ull << 30);
	assert_true(a.write_cache);
	assert_string_equal(a.serial, "3f2c5f7e-1d2a-4c6b-9a8e-0123456789ab");
	assert_int_equal(rts_tcmu_action(cfg, &i, "block_dev", "1"), 0);
	snprintf(path, sizeof(path), "%s/target/core/user_1/disk_a/action/block_dev", cfg);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "1");
	/* the device's configfs paths, composed in one place */
	char want[600], got[600], tiny[16];
	snprintf(want, sizeof(want), "%s/target/core/user_1/disk_a", cfg);
	assert_int_equal(rts_tcmu_dev_path(cfg, &i, NULL, got, sizeof(got)), 0);
	assert_string_equal(got, want);
	snprintf(want, sizeof(want), "%s/target/core/user_1/disk_a/wwn/vpd_unit_serial", cfg);
	assert_int_equal(rts_tcmu_dev_path(cfg, &i, "wwn/vpd_unit_serial", got, sizeof(got)), 0);
	assert_string_equal(got, want);
	assert_int_equal(rts_tcmu_dev_path(cfg, &i, NULL, tiny, sizeof(tiny)), -ENAMETOOLONG);
	assert_int_equal(rts_tcmu_action(cfg, &i, "reset_ring", "1"), -ENOENT);
	assert_int_equal(rts_tcmu_action(cfg, &i, "../enable", "1"), -EINVAL);
	assert_int_equal(rts_tcmu_info_from_sysfs(sysfs, 3, &i), 0);
	assert_int_equal(rts_tcmu_read_attrs(cfg, &i, &a), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_sysfs_and_scan),
		cmocka_unit_test(test_configfs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
