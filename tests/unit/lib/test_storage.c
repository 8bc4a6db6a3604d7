/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Storage objects of every plugin and ALUA target port groups, on both backends. */
#include <sys/stat.h>

#include "helpers.h"

static char *attr(struct rts_so *so, enum rts_group g, const char *name)
{
	char *v = NULL;

	assert_int_equal(rts_so_get_attr(so, g, name, &v), 0);
	return v;
}

struct attr_count {
	int n, null_values;
	bool saw_block_size;
};

static int count_attr(void *ud, const char *name, const char *value)
{
	struct attr_count *c = ud;

	c->n++;
	c->null_values += !value;
	if (!strcmp(name, "block_size") && value && !strcmp(value, "512"))
		c->saw_block_size = true;
	return 0;
}

static int stop_attr(void *ud, const char *name, const char *value)
{
	(void)ud;
	(void)name;
	(void)value;
	return 42;
}

static void test_foreach_attr(void **state)
{
	struct fixture *f = *state;
	struct attr_count c = { 0 };
	struct rts_alua_tpg *gp;
	struct rts_so *so;

	assert_int_equal(rts_ramdisk_create(f->ctx, "fa", 4096, 0, &so), 0);
	assert_int_equal(rts_so_foreach_attr(so, RTS_GROUP_ATTRIB, count_attr, &c), 0);
	assert_true(c.n > 30);
	assert_int_equal(c.null_values, 0);
	assert_true(c.saw_block_size);
	c = (struct attr_count){ 0 };
	assert_int_equal(rts_so_foreach_attr(so, RTS_GROUP_NONE, count_attr, &c), 0);
	assert_int_equal(c.null_values, 1); /* control is write-only */
	c = (struct attr_count){ 0 };
	assert_int_equal(rts_so_foreach_attr(so, RTS_GROUP_WWN, count_attr, &c), 0);
	assert_true(c.n >= 5);
	assert_int_equal(rts_so_foreach_attr(so, RTS_GROUP_PR, stop_attr, NULL), 42);
	assert_int_equal(rts_so_foreach_attr(so, RTS_GROUP_ATTRIB, NULL, NULL), -EINVAL);
	assert_int_equal(rts_so_foreach_attr(so, RTS_GROUP_MAX, count_attr, &c), -EINVAL);
	assert_int_equal(rts_alua_tpg_lookup(so, "default_tg_pt_gp", &gp), 0);
	c = (struct attr_count){ 0 };
	assert_int_equal(rts_alua_tpg_foreach_attr(gp, count_attr, &c), 0);
	assert_true(c.n > 10);
}

static void test_fileio(void **state)
{
	struct fixture *f = *state;
	char path[512], *v;
	struct rts_so *so, *found;
	struct stat st;
	uint64_t size;

	snprintf(path, sizeof(path), "%s/disk1.img", f->files);
	assert_int_equal(rts_fileio_create(f->ctx, "disk1", path, 1 << 20,
					   RTS_FILEIO_SPARSE | RTS_FILEIO_WRITE_BACK, &so),
			 0);
	if (!f->dir) {
		/* memory backend: a rehearsal touches no host file */
		assert_int_equal(stat(path, &st), -1);
		assert_int_equal(errno, ENOENT);
		/* what the real run would refuse is refused */
		assert_int_equal(rts_fileio_create(f->ctx, "nodir", "/nonexistent-dir/x.img", 4096,
						   0, NULL),
				 -ENOENT);
		assert_error(f->ctx, -ENOENT, "nonexistent-dir");
	} else {
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 1 << 20);
	}
	assert_string_equal(rts_so_get_name(so), "disk1");
	assert_int_equal(rts_so_get_plugin(so), RTS_PLUGIN_FILEIO);
	assert_string_equal(rts_so_get_path(so), "target/core/fileio_0/disk1");
	assert_ptr_equal(rts_so_get_ctx(so), f->ctx);
	assert_true(rts_so_is_enabled(so));
	assert_int_equal(rts_so_get_udev_path(so, &v), 0);
	assert_string_equal(v, path);
	free(v);
	v = attr(so, RTS_GROUP_ATTRIB, "emulate_write_cache");
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(rts_so_get_size(so, &size), 0);
	assert_int_equal(size, 1 << 20);
	/* fallocated file, existing file reused with its size */
	snprintf(path, sizeof(path), "%s/disk2.img", f->files);
	assert_int_equal(rts_fileio_create(f->ctx, "disk2", path, 65536, 0, &so), 0);
	assert_int_equal(rts_so_get_hba_index(so), 1);
	assert_int_equal(rts_so_delete(so), 0);
	if (!f->dir) { /* the rehearsal made no file: give it one to reuse */
		fclose(fopen(path, "w"));
		assert_int_equal(truncate(path, 65536), 0);
	}
	assert_int_equal(rts_fileio_create(f->ctx, "disk2", path, 0, 0, &so), 0);
	assert_int_equal(rts_so_get_size(so, &size), 0);
	assert_int_equal(size, 65536);

	/* update: attributes and WWN */
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "emulate_tpu", "1"), 0);
	v = attr(so, RTS_GROUP_ATTRIB, "emulate_tpu");
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(rts_so_set_wwn(so, "0f4ea8b2-7b3a-4a0e-9d34-1f2e3d4c5b6a"), 0);
	assert_int_equal(rts_so_get_wwn(so, &v), 0);
	assert_string_equal(v, "0f4ea8b2-7b3a-4a0e-9d34-1f2e3d4c5b6a");
	free(v);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_WWN, "vendor_id", "RTSLIBC"), 0);
	v = attr(so, RTS_GROUP_WWN, "vendor_id");
	assert_string_equal(v, "RTSLIBC");
	free(v);
	v = attr(so, RTS_GROUP_PR, "res_type");
	assert_non_null(strstr(v, "SPC3"));
	free(v);

	/* lookup, iteration, walk */
	assert_int_equal(rts_so_lookup(f->ctx, RTS_PLUGIN_FILEIO, "disk1", &found), 0);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	assert_int_equal(rts_so_lookup(f->ctx, RTS_PLUGIN_FILEIO, "disk2", &found), 0);
	/* HBA indexes grow (max + 1); the walk finds the one in use */
	assert_int_equal(rts_so_get_hba_index(found), 2);
	assert_int_equal(rts_so_lookup(f->ctx, RTS_PLUGIN_BLOCK, "disk2", &found), -ENOENT);
	assert_error(f->ctx, -ENOENT, "disk2");
	assert_int_equal(rts_so_lookup(f->ctx, RTS_PLUGIN_FILEIO, "disk2", &found), 0);
	assert_int_equal(rts_so_delete(found), 0);
	assert_int_equal(rts_so_lookup(f->ctx, RTS_PLUGIN_FILEIO, "disk2", &found), -ENOENT);
	if (!f->dir) {
		/* memory: an existing file keeps its size even when a larger one is asked for */
		snprintf(path, sizeof(path), "%s/small.img", f->files);
		fclose(fopen(path, "w"));
		assert_int_equal(truncate(path, 4096), 0);
		assert_int_equal(rts_fileio_create(f->ctx, "big", path, 1 << 20, 0, NULL), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 4096);
	}
}

static void test_fileio_errors(void **state)
{
	struct fixture *f = *state;
	char path[512], big[300];
	struct rts_so *so;

	snprintf(path, sizeof(path), "%s/e.img", f->files);
	assert_int_equal(rts_fileio_create(f->ctx, "a/b", path, 4096, 0, &so), -EINVAL);
	assert_error(f->ctx, -EINVAL, "a/b");
	assert_int_equal(rts_fileio_create(f->ctx, "..", path, 4096, 0, &so), -EINVAL);
	assert_int_equal(rts_fileio_create(f->ctx, "bad\nname", path, 4096, 0, &so), -EINVAL);
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(rts_fileio_create(f->ctx, big, path, 4096, 0, &so), -ENAMETOOLONG);
	assert_int_equal(rts_fileio_create(f->ctx, "x", "relative.img", 4096, 0, &so), -EINVAL);
	assert_int_equal(rts_fileio_create(f->ctx, "x", "/tmp/a,b", 4096, 0, &so), -EINVAL);
	assert_int_equal(rts_fileio_create(f->ctx, "x", path, 0, 0, &so), -EINVAL);
	assert_error(f->ctx, -EINVAL, path);
	assert_int_equal(rts_fileio_create(f->ctx, "x", f->files, 4096, 0, &so), -EINVAL);
	assert_int_equal(rts_fileio_create(f->ctx, "x", path, 4096, 0x80, &so), -EINVAL);
	/* a failing kernel side does not leave a new backing file behind */
	assert_int_equal(rts_backend_mkdir(rts_ctx_get_backend(f->ctx), "target/core/fileio_0"), 0);
	assert_int_equal(rts_backend_mkdir(rts_ctx_get_backend(f->ctx), "target/core/fileio_0/y"),
			 0);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	/* read the storage objects now (the tree is read lazily), then race the kernel side */
	assert_non_null(rts_so_first(f->ctx));
	assert_int_equal(rts_backend_mkdir(rts_ctx_get_backend(f->ctx), "target/core/fileio_1"), 0);
	assert_int_equal(rts_backend_mkdir(rts_ctx_get_backend(f->ctx), "target/core/fileio_1/x"),
			 0);
	assert_int_equal(rts_fileio_create(f->ctx, "x", path, 4096, 0, &so), -EEXIST);
	assert_error(f->ctx, -EEXIST, "target/core/fileio_1/x");
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(rts_backend_rmdir(rts_ctx_get_backend(f->ctx), "target/core/fileio_1/x"),
			 0);
	assert_int_equal(rts_fileio_create(f->ctx, "x", path, 4096, 0, &so), 0);
	assert_int_equal(access(path, F_OK), f->dir ? 0 : -1); /* memory: no host file */
	assert_int_equal(rts_so_get_hba_index(so), 1);
	assert_int_equal(rts_fileio_create(f->ctx, "x", path, 4096, 0, &so), -EEXIST);
	assert_error(f->ctx, -EEXIST, "x");
	/* rejected values come back with the attribute path */
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "block_size", "1000"), -EINVAL);
	assert_error(f->ctx, -EINVAL, "attrib/block_size");
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "hw_block_size", "512"), -EACCES);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "no_such_attr", "1"), -ENOENT);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "../enable", "1"), -EINVAL);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_PARAM, "x", "1"), -EINVAL);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_NONE, "enable", "1"), -EEXIST);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_NONE, "control", "fd_dev_size=zz"), -EINVAL);
	assert_int_equal(rts_so_set_wwn(so, ""), -EINVAL);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_NONE, "info", "x"), -EACCES);
	assert_int_equal(rts_so_get_attr(so, RTS_GROUP_NONE, "control", &(char *){ NULL }),
			 -EACCES);
}

static void test_block(void **state)
{
	struct fixture *f = *state;
	struct rts_so *so;
	char *v;

	assert_int_equal(rts_block_create(f->ctx, "b0", "/dev/sdz", RTS_BLOCK_READONLY, &so), 0);
	assert_int_equal(rts_so_get_plugin(so), RTS_PLUGIN_BLOCK);
	assert_string_equal(rts_so_get_path(so), "target/core/iblock_0/b0");
	v = attr(so, RTS_GROUP_NONE, "info");
	assert_non_null(strstr(v, "readonly: 1"));
	free(v);
	assert_int_equal(rts_block_create(f->ctx, "b1", "/dev/sdz", RTS_BLOCK_EXCLUSIVE, &so),
			 -EBUSY);
	assert_error(f->ctx, -EBUSY, "/dev/sdz");
	assert_int_equal(rts_block_create(f->ctx, "b1", "/dev/sdz", 0, &so), 0);
	assert_int_equal(rts_block_create(f->ctx, "b2", "dev/sdz", 0, &so), -EINVAL);
	assert_int_equal(rts_block_create(f->ctx, "b2", NULL, 0, &so), -EINVAL);
	assert_int_equal(rts_block_create(f->ctx, "b2", "/dev/x", 0x10, &so), -EINVAL);
	assert_int_equal(rts_so_delete(so), 0);
}

static void test_pscsi(void **state)
{
	struct fixture *f = *state;
	struct rts_so *so;
	char *v;

	assert_int_equal(rts_pscsi_create(f->ctx, "p0", "2:0:1:0", &so), 0);
	assert_int_equal(rts_so_get_plugin(so), RTS_PLUGIN_PSCSI);
	assert_true(rts_so_is_enabled(so));
	v = attr(so, RTS_GROUP_NONE, "enable");
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(rts_pscsi_create(f->ctx, "p1", "2:0:1", &so), -EINVAL);
	assert_int_equal(rts_pscsi_create(f->ctx, "p1", "2:0:1:0:9", &so), -EINVAL);
	assert_int_equal(rts_pscsi_create(f->ctx, "p1", "/dev/librts-no-such-disk", &so), -ENOENT);
}

static void test_ramdisk(void **state)
{
	struct fixture *f = *state;
	struct rts_so *so;
	uint64_t size;
	char *v;

	assert_int_equal(rts_ramdisk_create(f->ctx, "rd", 10000, RTS_RAMDISK_NULLIO, &so), 0);
	assert_string_equal(rts_so_get_path(so), "target/core/rd_mcp_0/rd");
	v = attr(so, RTS_GROUP_NONE, "info");
	assert_non_null(strstr(v, "nullio: 1"));
	free(v);
	assert_int_equal(rts_so_get_size(so, &size), 0);
	assert_true(size >= 10000);
	assert_int_equal(rts_ramdisk_create(f->ctx, "rd0", 0, 0, &so), -EINVAL);
	assert_int_equal(rts_ramdisk_create(f->ctx, "rd0", 1, 2, &so), -EINVAL);
}

static void test_user(void **state)
{
	struct fixture *f = *state;
	struct rts_user_config cfg = {
		.cfgstring = "file//tmp/t.img",
		.size = 1 << 20,
		.max_data_area_mb = 8,
		.hw_max_sectors = 128,
		.hw_block_size = 4096,
		.nl_reply_supported = 0,
		.control = "data_pages_per_blk=4",
	};
	struct rts_so *so;
	uint64_t size;
	char *v;

	assert_int_equal(rts_user_create(f->ctx, "u0", &cfg, &so), 0);
	assert_string_equal(rts_so_get_path(so), "target/core/user_0/u0");
	v = attr(so, RTS_GROUP_ATTRIB, "dev_config");
	assert_string_equal(v, "file//tmp/t.img");
	free(v);
	v = attr(so, RTS_GROUP_ATTRIB, "max_data_area_mb");
	assert_string_equal(v, "8");
	free(v);
	v = attr(so, RTS_GROUP_ATTRIB, "data_pages_per_blk");
	assert_string_equal(v, "4");
	free(v);
	assert_int_equal(rts_so_get_size(so, &size), 0);
	assert_int_equal(size, 1 << 20);
	/* after enable the kernel refuses ring geometry changes */
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "max_data_area_mb", "16"), -EACCES);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "cmd_time_out", "60"), 0);
	/* user actions are write-only */
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ACTION, "reset_ring", "1"), 0);
	assert_int_equal(rts_so_get_attr(so, RTS_GROUP_ACTION, "reset_ring", &v), -EACCES);
	cfg.cfgstring = "noslash";
	assert_int_equal(rts_user_create(f->ctx, "u1", &cfg, &so), -EINVAL);
	assert_error(f->ctx, -EINVAL, "noslash");
	cfg.cfgstring = "file/a,b";
	assert_int_equal(rts_user_create(f->ctx, "u1", &cfg, &so), -EINVAL);
	cfg.cfgstring = "file//x";
	cfg.size = 0;
	assert_int_equal(rts_user_create(f->ctx, "u1", &cfg, &so), -EINVAL);
	assert_int_equal(rts_user_create(f->ctx, "u1", NULL, &so), -EINVAL);
	/* a failed enable leaves nothing behind */
	assert_int_equal(rts_so_lookup(f->ctx, RTS_PLUGIN_USER, "u1", &so), -ENOENT);
}

static void test_plugin_names(void **state)
{
	enum rts_plugin p;

	(void)state;
	assert_string_equal(rts_plugin_name(RTS_PLUGIN_RAMDISK), "rd_mcp");
	assert_null(rts_plugin_name(RTS_PLUGIN_MAX));
	assert_int_equal(rts_plugin_from_name("block", &p), 0);
	assert_int_equal(p, RTS_PLUGIN_BLOCK);
	assert_int_equal(rts_plugin_from_name("user", &p), 0);
	assert_int_equal(p, RTS_PLUGIN_USER);
	assert_int_equal(rts_plugin_from_name("nope", &p), -EINVAL);
}

static void test_iteration_many(void **state)
{
	struct fixture *f = *state;
	struct rts_so *so;
	char name[32];
	int n = 0;

	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		assert_int_equal(rts_ramdisk_create(f->ctx, name, 4096, 0, NULL), 0);
	}
	rts_for_each_storage_object(f->ctx, so)
		n++;
	assert_int_equal(n, 50);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	n = 0;
	rts_for_each_storage_object(f->ctx, so)
		n++;
	assert_int_equal(n, 50);
	assert_int_equal(rts_so_lookup(f->ctx, RTS_PLUGIN_RAMDISK, "r49", &so), 0);
	assert_int_equal(rts_so_get_hba_index(so), 49);
	assert_int_equal(rts_ramdisk_create(f->ctx, "r50", 4096, 0, &so), 0);
	assert_int_equal(rts_so_get_hba_index(so), 50);
}

static void test_alua(void **state)
{
	struct fixture *f = *state;
	struct rts_alua_tpg *gp, *def;
	struct rts_so *so;
	char *v;
	int n = 0;

	assert_int_equal(rts_ramdisk_create(f->ctx, "ra", 4096, 0, &so), 0);
	assert_int_equal(rts_alua_tpg_lookup(so, "default_tg_pt_gp", &def), 0);
	assert_int_equal(rts_alua_tpg_delete(def), -EPERM);
	assert_error(f->ctx, -EPERM, "default_tg_pt_gp");
	assert_int_equal(rts_alua_tpg_create(so, "fast", 10, &gp), 0);
	assert_string_equal(rts_alua_tpg_get_name(gp), "fast");
	assert_ptr_equal(rts_alua_tpg_get_so(gp), so);
	assert_int_equal(rts_alua_tpg_create(so, "fast", 11, NULL), -EEXIST);
	assert_int_equal(rts_alua_tpg_create(so, "zero", 0, NULL), -EINVAL);
	assert_int_equal(rts_alua_tpg_create(so, "bad/name", 3, NULL), -EINVAL);
	assert_int_equal(rts_alua_tpg_get_attr(gp, "tg_pt_gp_id", &v), 0);
	assert_string_equal(v, "10");
	free(v);
	assert_int_equal(rts_alua_tpg_set_attr(gp, "alua_access_state", "2"), 0);
	assert_int_equal(rts_alua_tpg_set_attr(gp, "alua_access_state", "7"), -EINVAL);
	assert_int_equal(rts_alua_tpg_set_attr(gp, "preferred", "1"), 0);
	rts_for_each_alua_tpg(so, gp) n++;
	assert_int_equal(n, 2);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	assert_int_equal(rts_so_lookup(f->ctx, RTS_PLUGIN_RAMDISK, "ra", &so), 0);
	assert_int_equal(rts_alua_tpg_lookup(so, "fast", &gp), 0);
	assert_int_equal(rts_alua_tpg_lookup(so, "slow", &gp), -ENOENT);
	assert_int_equal(rts_alua_tpg_lookup(so, "fast", &gp), 0);
	assert_int_equal(rts_alua_tpg_delete(gp), 0);
	/* deleting the object removes its groups */
	assert_int_equal(rts_alua_tpg_create(so, "again", 5, NULL), 0);
	assert_int_equal(rts_so_delete(so), 0);
	assert_null(rts_so_first(f->ctx));
}

/* Changes made behind the library's back surface as kernel errors with the path. */
static void test_busy_behind_our_back(void **state)
{
	struct fixture *f = *state;
	struct rts_backend *be = rts_ctx_get_backend(f->ctx);
	struct rts_so *so;

	assert_int_equal(rts_ramdisk_create(f->ctx, "shared", 4096, 0, &so), 0);
	/* another tool exports it through a loopback LUN this context never walked */
	assert_int_equal(rts_backend_mkdir(be, "target/loopback"), 0);
	assert_int_equal(rts_backend_mkdir(be, "target/loopback/naa.5001405000000001"), 0);
	assert_int_equal(rts_backend_mkdir(be, "target/loopback/naa.5001405000000001/tpgt_1"), 0);
	assert_int_equal(
		rts_backend_mkdir(be, "target/loopback/naa.5001405000000001/tpgt_1/lun/lun_0"), 0);
	assert_int_equal(
		rts_backend_symlink(be, rts_so_get_path(so),
				    "target/loopback/naa.5001405000000001/tpgt_1/lun/lun_0/x"),
		0);
	assert_int_equal(rts_so_delete(so), -EBUSY);
	assert_error(f->ctx, -EBUSY, "target/core/rd_mcp_0/shared");
	/* after a walk the library knows the LUN and removes it first */
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	assert_int_equal(rts_so_lookup(f->ctx, RTS_PLUGIN_RAMDISK, "shared", &so), 0);
	assert_int_equal(rts_so_get_lun_count(so), 1);
	assert_int_equal(rts_so_delete(so), 0);
	/* and an object removed by someone else gives ENOENT with its path */
	assert_int_equal(rts_ramdisk_create(f->ctx, "gone", 4096, 0, &so), 0);
	assert_int_equal(rts_backend_rmdir(be, "target/core/rd_mcp_1/gone"), 0);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "emulate_tpu", "1"), -ENOENT);
	assert_error(f->ctx, -ENOENT, "target/core/rd_mcp_1/gone/attrib/emulate_tpu");
	assert_int_equal(rts_so_delete(so), -ENOENT);
}

/* The walk keeps going over trees it does not fully understand. */
static void test_walk_odd_trees(void **state)
{
	struct fixture *f = *state;
	struct rts_backend *raw = rts_backend_get_raw(rts_ctx_get_backend(f->ctx));
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_so *so;
	int n = 0;

	/* planted on the raw backend: things the kernel would not create */
	assert_int_equal(rts_backend_mkdir(raw, "target/core/weird"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/core/fileio_x"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/core/rd_mcp_7"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/core/rd_mcp_7/r"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/myfab"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/myfab/Some-WWN"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/myfab/Some-WWN/tpgt_3"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/myfab/Some-WWN/tpgt_x"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/myfab/Some-WWN/tpgt_3/lun"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/myfab/Some-WWN/tpgt_3/lun/lun_5"), 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/myfab/Some-WWN/tpgt_3/lun/lun_6"), 0);
	assert_int_equal(rts_backend_symlink(raw, "target/core/rd_mcp_7/r",
					     "target/myfab/Some-WWN/tpgt_3/lun/lun_5/l"),
			 0);
	assert_int_equal(rts_backend_mkdir(raw, "target/myfab/Some-WWN/tpgt_3/lun/junk"), 0);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	rts_for_each_storage_object(f->ctx, so)
		n++;
	assert_int_equal(n, 1);
	assert_int_equal(rts_fabric_lookup(f->ctx, "myfab", &fab), 0);
	assert_true(rts_fabric_is_loaded(fab));
	assert_int_equal(rts_fabric_get_wwn_types(fab), RTS_WWN_MASK(RTS_WWN_FREE));
	assert_int_equal(rts_target_lookup(fab, "Some-WWN", &t), 0);
	assert_int_equal(rts_tpg_lookup(t, 3, &tpg), 0);
	assert_null(rts_tpg_next(tpg));
	assert_int_equal(rts_lun_lookup(tpg, 5, &lun), 0);
	assert_non_null(rts_lun_get_so(lun));
	assert_int_equal(rts_lun_lookup(tpg, 6, &lun), 0);
	assert_null(rts_lun_get_so(lun)); /* a LUN without a link */
	assert_null(rts_lun_get_alias(lun));
}

static void test_lu_groups(void **state)
{
	struct fixture *f = *state;
	struct rts_lu_gp *gp, *def;
	struct rts_so *so;
	char *v;
	int n = 0;

	assert_int_equal(rts_lu_gp_lookup(f->ctx, "default_lu_gp", &def), 0);
	assert_int_equal(rts_lu_gp_delete(def), -EPERM);
	assert_error(f->ctx, -EPERM, "default_lu_gp");
	assert_int_equal(rts_lu_gp_create(f->ctx, "fastluns", 3, &gp), 0);
	assert_string_equal(rts_lu_gp_get_name(gp), "fastluns");
	assert_int_equal(rts_lu_gp_create(f->ctx, "fastluns", 4, NULL), -EEXIST);
	assert_int_equal(rts_lu_gp_create(f->ctx, "zero", 0, NULL), -EINVAL);
	assert_int_equal(rts_lu_gp_create(f->ctx, "../x", 5, NULL), -EINVAL);
	assert_int_equal(rts_lu_gp_get_attr(gp, "lu_gp_id", &v), 0);
	assert_string_equal(v, "3");
	free(v);
	rts_for_each_lu_gp(f->ctx, gp) n++;
	assert_int_equal(n, 2);
	assert_int_equal(rts_ramdisk_create(f->ctx, "lu", 4096, 0, &so), 0);
	assert_int_equal(rts_so_get_lu_gp(so, &v), 0);
	assert_string_equal(v, "default_lu_gp");
	free(v);
	assert_int_equal(rts_so_set_lu_gp(so, "fastluns"), 0);
	assert_int_equal(rts_so_get_lu_gp(so, &v), 0);
	assert_string_equal(v, "fastluns");
	free(v);
	assert_int_equal(rts_so_set_lu_gp(so, "nosuch"), -EINVAL);
	assert_error(f->ctx, -EINVAL, "alua_lu_gp");
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	assert_int_equal(rts_lu_gp_lookup(f->ctx, "fastluns", &gp), 0);
	assert_int_equal(rts_lu_gp_set_attr(gp, "lu_gp_id", "9"), 0);
	assert_int_equal(rts_lu_gp_delete(gp), 0);
	assert_int_equal(rts_lu_gp_lookup(f->ctx, "fastluns", &gp), -ENOENT);
}

/* The emulator refuses what the 6.1 kernel refuses (queue_depth_store, optimal_sectors_store). */
static void test_queue_depth_domain(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_so *so;
	char *hw = NULL, big[32];

	assert_int_equal(rts_ramdisk_create(f->ctx, "qd", 1 << 20, 0, &so), 0);
	assert_int_equal(rts_so_get_attr(so, RTS_GROUP_ATTRIB, "hw_queue_depth", &hw), 0);
	snprintf(big, sizeof(big), "%llu", strtoull(hw, NULL, 10) + 1);
	free(hw);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "queue_depth", "0"), -EINVAL);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "queue_depth", big), -EINVAL);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "queue_depth", "16"), 0);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "optimal_sectors", "8"), 0);
	/* exported: neither can change */
	assert_int_equal(rts_fabric_lookup(f->ctx, "iscsi", &fab), 0);
	assert_int_equal(rts_fabric_load(fab, false), 0);
	assert_int_equal(rts_target_create(fab, "iqn.2003-01.org.example:qd", &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	/* the domain table the tools use (rts_attr_check) is the emulator's too */
	assert_int_equal(rts_tpg_set_attr(tpg, RTS_GROUP_ATTRIB, "login_timeout", "99"), -EINVAL);
	assert_int_equal(rts_tpg_set_attr(tpg, RTS_GROUP_ATTRIB, "login_timeout", "20"), 0);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "emulate_ua_intlck_ctrl", "3"),
			 -EINVAL);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "pi_prot_type", "2"), -EINVAL);
	assert_int_equal(rts_lun_create(tpg, 0, so, NULL, NULL), 0);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "queue_depth", "8"), -EINVAL);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "optimal_sectors", "16"), -EINVAL);
	assert_int_equal(rts_target_delete(t), 0);
	assert_int_equal(rts_so_set_attr(so, RTS_GROUP_ATTRIB, "queue_depth", "8"), 0);
}

static void test_attr_check(void **state)
{
	char why[128];

	(void)state;
	assert_int_equal(rts_attr_check(RTS_ATTR_SO, "block_size", "513", why, sizeof(why)),
			 -ERANGE);
	assert_string_equal(why, "must be one of 512, 1024, 2048, 4096");
	assert_int_equal(rts_attr_check(RTS_ATTR_SO, "block_size", "4096", why, sizeof(why)), 0);
	assert_int_equal(rts_attr_check(RTS_ATTR_SO, "queue_depth", "0", why, sizeof(why)),
			 -ERANGE);
	assert_int_equal(rts_attr_check(RTS_ATTR_SO, "queue_depth", "x", NULL, 0), -EINVAL);
	assert_int_equal(rts_attr_check(RTS_ATTR_SO, "emulate_tpu", "y", NULL, 0), 0);
	assert_int_equal(rts_attr_check(RTS_ATTR_SO, "emulate_tpu", "2", NULL, 0), -ERANGE);
	assert_int_equal(rts_attr_check(RTS_ATTR_ISCSI_TPG, "login_timeout", "31", why,
					sizeof(why)),
			 -ERANGE);
	assert_string_equal(why, "out of range 5..30");
	assert_int_equal(rts_attr_check(RTS_ATTR_ISCSI_ACL, "authentication", "-1", NULL, 0), 0);
	assert_int_equal(rts_attr_check(RTS_ATTR_ISCSI_TPG, "authentication", "-1", NULL, 0),
			 -ERANGE);
	assert_int_equal(rts_attr_check(RTS_ATTR_SO, "unknown_attr", "whatever", NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_fileio),
		BOTH(test_fileio_errors),
		BOTH(test_block),
		BOTH(test_pscsi),
		BOTH(test_ramdisk),
		BOTH(test_user),
		cmocka_unit_test(test_plugin_names),
		cmocka_unit_test(test_attr_check),
		BOTH(test_iteration_many),
		BOTH(test_alua),
		BOTH(test_busy_behind_our_back),
		BOTH(test_walk_odd_trees),
		BOTH(test_foreach_attr),
		BOTH(test_lu_groups),
		BOTH(test_queue_depth_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
