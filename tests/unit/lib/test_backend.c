/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Backends: the raw memory and real (openat-relative) backends, and the emulated LIO
 * configfs semantics on top of each (kernel-created children, enable/symlink/rmdir rules,
 * attribute modes and value checks).
 */
#include <sys/stat.h>

#include "helpers.h"

struct bfix {
	struct rts_backend *be;
	char *dir;
};

static int setup_raw_mem(void **state)
{
	struct bfix *f = calloc(1, sizeof(*f));

	assert_int_equal(rts_backend_new_memory(&f->be), 0);
	*state = f;
	return 0;
}

static int setup_raw_real(void **state)
{
	struct bfix *f = calloc(1, sizeof(*f));

	f->dir = make_tmpdir();
	assert_int_equal(rts_backend_new_real(f->dir, RTS_BACKEND_REAL_CREATE, &f->be), 0);
	*state = f;
	return 0;
}

static int setup_emu_mem(void **state)
{
	struct bfix *f = calloc(1, sizeof(*f));
	struct rts_backend *raw;

	assert_int_equal(rts_backend_new_memory(&raw), 0);
	assert_int_equal(rts_backend_new_emulated(raw, &f->be), 0);
	*state = f;
	return 0;
}

static int setup_emu_real(void **state)
{
	struct bfix *f = calloc(1, sizeof(*f));
	struct rts_backend *raw;

	f->dir = make_tmpdir();
	assert_int_equal(rts_backend_new_real(f->dir, RTS_BACKEND_REAL_CREATE, &raw), 0);
	assert_int_equal(rts_backend_new_emulated(raw, &f->be), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct bfix *f = *state;

	rts_backend_free(f->be);
	if (f->dir) {
		rm_rf(f->dir);
		free(f->dir);
	}
	free(f);
	return 0;
}

static enum rts_ftype ftype(struct rts_backend *be, const char *p)
{
	enum rts_ftype t = RTS_FT_NONE;

	if (rts_backend_stat(be, p, &t) < 0)
		return RTS_FT_NONE;
	return t;
}

static char *rd(struct rts_backend *be, const char *p)
{
	static char buf[4096];
	ssize_t n = rts_backend_read(be, p, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static int count_cb(void *ud, const char *name, enum rts_ftype t)
{
	(void)name;
	(void)t;
	(*(int *)ud)++;
	return 0;
}

/* ------------------------------------------------------------ raw */

static void test_raw_ops(void **state)
{
	struct bfix *f = *state;
	char buf[256];
	int n = 0;

	assert_int_equal(rts_backend_mkdir(f->be, "a"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "a"), -EEXIST);
	assert_int_equal(rts_backend_mkdir(f->be, "x/y"), -ENOENT);
	assert_int_equal(rts_backend_mkdir(f->be, "a/b"), 0);
	assert_int_equal(rts_backend_write(f->be, "a/b/f", "hello"), 0);
	assert_string_equal(rd(f->be, "a/b/f"), "hello");
	assert_int_equal(rts_backend_write(f->be, "a/b/f", "hi"), 0);
	assert_string_equal(rd(f->be, "a/b/f"), "hi");
	assert_int_equal(rts_backend_symlink(f->be, "a/b", "a/l"), 0);
	assert_int_equal(ftype(f->be, "a/l"), RTS_FT_LINK);
	assert_int_equal(rts_backend_readlink(f->be, "a/l", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "a/b");
	assert_int_equal(rts_backend_readdir(f->be, "a", count_cb, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rts_backend_rmdir(f->be, "a"), -ENOTEMPTY);
	assert_int_equal(rts_backend_unlink(f->be, "a/l"), 0);
	assert_int_equal(rts_backend_unlink(f->be, "a/b/f"), 0);
	assert_int_equal(rts_backend_rmdir(f->be, "a/b"), 0);
	assert_int_equal(rts_backend_rmdir(f->be, "a"), 0);
	assert_int_equal(ftype(f->be, "a"), RTS_FT_NONE);
	assert_true(rts_backend_read(f->be, "nope", buf, sizeof(buf)) == -ENOENT);
}

static void test_raw_path_traversal(void **state)
{
	struct bfix *f = *state;
	char buf[64];

	assert_int_equal(rts_backend_mkdir(f->be, "../escape"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "/abs"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "a/./b"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "a//b"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "a/"), -EINVAL);
	assert_int_equal(rts_backend_write(f->be, "x/../../etc", "1"), -EINVAL);
	assert_true(rts_backend_read(f->be, "..", buf, sizeof(buf)) == -EINVAL);
	assert_int_equal(rts_backend_symlink(f->be, "../etc", "l"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(NULL, "a"), -EINVAL);
}

/* The real backend links absolutely (configfs resolves from the cwd) and reads back relative. */
static void test_real_links(void **state)
{
	struct bfix *f = *state;
	char buf[512], abs[512], p[600];
	ssize_t n;

	assert_int_equal(rts_backend_mkdir(f->be, "d"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "e"), 0);
	assert_int_equal(rts_backend_symlink(f->be, "d", "e/l"), 0);
	snprintf(p, sizeof(p), "%s/e/l", f->dir);
	n = readlink(p, abs, sizeof(abs) - 1);
	assert_true(n > 0);
	abs[n] = '\0';
	assert_int_equal(abs[0], '/');
	assert_int_equal(rts_backend_readlink(f->be, "e/l", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "d");
	/* configfs style relative link */
	snprintf(p, sizeof(p), "%s/e/rel", f->dir);
	assert_int_equal(symlink("../d", p), 0);
	assert_int_equal(rts_backend_readlink(f->be, "e/rel", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "d");
	/* links escaping the root are refused */
	snprintf(p, sizeof(p), "%s/e/out", f->dir);
	assert_int_equal(symlink("../../../etc", p), 0);
	assert_int_equal(rts_backend_readlink(f->be, "e/out", buf, sizeof(buf)), -EXDEV);
	snprintf(p, sizeof(p), "%s/e/abs", f->dir);
	assert_int_equal(symlink("/etc", p), 0);
	assert_int_equal(rts_backend_readlink(f->be, "e/abs", buf, sizeof(buf)), -EXDEV);
}

/*
 * The real backend keeps the directory it listed last open for the reads that follow (a walk
 * lists a LUN directory, then reads its link); every change through the backend drops it, so
 * what is read afterwards is what is there now. Big directories list whole across several
 * getdents64() calls.
 */
static void test_real_dir_cache(void **state)
{
	struct bfix *f = *state;
	char buf[512], name[32];
	int n = 0;

	assert_int_equal(rts_backend_mkdir(f->be, "d1"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "d2"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "a"), 0);
	assert_int_equal(rts_backend_symlink(f->be, "d1", "a/l"), 0);
	assert_int_equal(rts_backend_readdir(f->be, "a", count_cb, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rts_backend_readlink(f->be, "a/l", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "d1");
	/* relinked: the new target */
	assert_int_equal(rts_backend_unlink(f->be, "a/l"), 0);
	assert_int_equal(rts_backend_symlink(f->be, "d2", "a/l"), 0);
	assert_int_equal(rts_backend_readlink(f->be, "a/l", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "d2");
	/* listed, then removed and made again: the new directory, not the cached one */
	n = 0;
	assert_int_equal(rts_backend_readdir(f->be, "a", count_cb, &n), 0);
	assert_int_equal(rts_backend_unlink(f->be, "a/l"), 0);
	assert_int_equal(rts_backend_rmdir(f->be, "a"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "a"), 0);
	assert_int_equal(rts_backend_symlink(f->be, "d1", "a/l"), 0);
	assert_int_equal(rts_backend_readlink(f->be, "a/l", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "d1");
	/* more entries than one getdents64() buffer holds */
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "d2/entry_with_a_longer_name_%03d", i);
		assert_int_equal(rts_backend_mkdir(f->be, name), 0);
	}
	n = 0;
	assert_int_equal(rts_backend_readdir(f->be, "d2", count_cb, &n), 0);
	assert_int_equal(n, 600);
	assert_int_equal(rts_backend_readdir(f->be, "missing", count_cb, &n), -ENOENT);
}

/*
 * Nothing under the root leads out of it: a symlink in any component of a path (absolute, or
 * relative with enough "..") makes the operation fail with EXDEV, never reach outside. The
 * emulated backend on top (what rtsctl --root uses) sees the same.
 */
static void test_real_symlink_escape(void **state)
{
	struct bfix *f = *state;
	char *out = make_tmpdir();
	char p[600], q[600], buf[256];
	struct stat st;
	enum rts_ftype t;
	int n = 0;

	snprintf(p, sizeof(p), "%s/secret", out);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/secret/key", out);
	{
		FILE *fp = fopen(p, "w");

		assert_non_null(fp);
		fputs("do not read", fp);
		fclose(fp);
	}
	assert_int_equal(rts_backend_mkdir(f->be, "t"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "t/in"), 0);
	snprintf(p, sizeof(p), "%s/t/abs", f->dir);
	snprintf(q, sizeof(q), "%s/secret", out);
	assert_int_equal(symlink(q, p), 0);
	snprintf(p, sizeof(p), "%s/t/rel", f->dir);
	snprintf(q, sizeof(q), "../../%s/secret", strrchr(out, '/') + 1);
	assert_int_equal(symlink(q, p), 0);

	for (int i = 0; i < 2; i++) {
		const char *l = i ? "t/rel" : "t/abs";
		char k[64];

		snprintf(k, sizeof(k), "%s/key", l);
		assert_true(rts_backend_read(f->be, k, buf, sizeof(buf)) == -EXDEV);
		assert_int_equal(rts_backend_write(f->be, k, "overwritten"), -EXDEV);
		assert_int_equal(rts_backend_stat(f->be, k, &t), -EXDEV);
		assert_int_equal(rts_backend_unlink(f->be, k), -EXDEV);
		assert_int_equal(rts_backend_readdir(f->be, l, count_cb, &n), -EXDEV);
		snprintf(k, sizeof(k), "%s/new", l);
		assert_int_equal(rts_backend_mkdir(f->be, k), -EXDEV);
		assert_int_equal(rts_backend_write(f->be, k, "x"), -EXDEV);
		assert_int_equal(rts_backend_symlink(f->be, "t/in", k), -EXDEV);
		assert_int_equal(rts_backend_rmdir(f->be, l), -ENOTDIR); /* the link itself */
		assert_int_equal(rts_backend_readlink(f->be, l, buf, sizeof(buf)), -EXDEV);
		/* the link itself is seen as a link, inside the root */
		assert_int_equal(rts_backend_stat(f->be, l, &t), 0);
		assert_int_equal(t, RTS_FT_LINK);
	}
	assert_int_equal(n, 0);
	/* outside is untouched */
	snprintf(p, sizeof(p), "%s/secret/key", out);
	{
		FILE *fp = fopen(p, "r");
		char c[32] = "";

		assert_non_null(fp);
		assert_non_null(fgets(c, sizeof(c), fp));
		fclose(fp);
		assert_string_equal(c, "do not read");
	}
	snprintf(p, sizeof(p), "%s/secret/new", out);
	assert_int_equal(lstat(p, &st), -1);
	/* the root directory given as a symlink is fine: it is resolved once, at open */
	{
		struct rts_backend *be2;
		char lnk[600];

		snprintf(lnk, sizeof(lnk), "%s-link", f->dir);
		assert_int_equal(symlink(f->dir, lnk), 0);
		assert_int_equal(rts_backend_new_real(lnk, 0, &be2), 0);
		assert_int_equal(rts_backend_stat(be2, "t/in", &t), 0);
		assert_int_equal(t, RTS_FT_DIR);
		assert_true(rts_backend_read(be2, "t/abs/key", buf, sizeof(buf)) == -EXDEV);
		rts_backend_free(be2);
		unlink(lnk);
	}
	snprintf(p, sizeof(p), "rm -rf '%s'", out);
	assert_int_equal(system(p), 0);
	free(out);
}

static void test_real_root_errors(void **state)
{
	struct rts_backend *be = NULL;

	(void)state;
	assert_int_equal(rts_backend_new_real("/nonexistent/librts", 0, &be), -ENOENT);
	assert_int_equal(rts_backend_new_real("/etc/hostname", 0, &be), -ENOTDIR);
	assert_int_equal(rts_backend_new_real("/tmp", 0x80, &be), -EINVAL);
}

static int bad_op(void *d, const char *p)
{
	(void)d;
	(void)p;
	return -ENOSYS;
}

static void test_custom_backend(void **state)
{
	static const struct rts_backend_ops short_ops = { .struct_size = 4, .mkdir = bad_op };
	struct rts_backend *be = NULL;

	(void)state;
	assert_int_equal(rts_backend_new(&short_ops, NULL, &be), -EINVAL);
	assert_null(rts_backend_free(NULL));
}

/* ------------------------------------------------------------ emulated */

static void test_emu_initial_tree(void **state)
{
	struct bfix *f = *state;

	assert_int_equal(ftype(f->be, "target"), RTS_FT_DIR);
	assert_int_equal(ftype(f->be, "target/core"), RTS_FT_DIR);
	assert_int_equal(ftype(f->be, "target/core/alua/lu_gps/default_lu_gp"), RTS_FT_DIR);
	assert_non_null(strstr(rd(f->be, "target/version"), "Target Engine Core"));
	assert_string_equal(rd(f->be, "target/dbroot"), "/etc/target");
	assert_int_equal(rts_backend_write(f->be, "target/version", "x"), -EACCES);
	assert_int_equal(rts_backend_write(f->be, "target/dbroot", "relative"), -EINVAL);
	assert_int_equal(rts_backend_write(f->be, "target/dbroot", "/var/target"), 0);
	assert_string_equal(rd(f->be, "target/dbroot"), "/var/target");
	/* default groups cannot go */
	assert_int_equal(rts_backend_rmdir(f->be, "target/core"), -EPERM);
	assert_int_equal(rts_backend_rmdir(f->be, "target"), -EPERM);
	assert_int_equal(rts_backend_mkdir(f->be, "target/core"), -EEXIST);
}

static void test_emu_user_device(void **state)
{
	struct bfix *f = *state;
	static const char *const children[] = { "action",  "alias",   "alua",	    "alua_lu_gp",
						"attrib",  "control", "enable",	    "info",
						"lba_map", "pr",      "statistics", "udev_path",
						"wwn" };
	int n = 0;

	assert_int_equal(rts_backend_mkdir(f->be, "target/core/bogus_0"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/user"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/user_0"), 0);
	assert_non_null(rd(f->be, "target/core/user_0/hba_info"));
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/user_0/test"), 0);
	/* exactly what notes/vm.md lists for a user backstore on 6.1 */
	for (size_t i = 0; i < sizeof(children) / sizeof(children[0]); i++) {
		char p[256];

		snprintf(p, sizeof(p), "target/core/user_0/test/%s", children[i]);
		assert_int_not_equal(ftype(f->be, p), RTS_FT_NONE);
	}
	assert_int_equal(rts_backend_readdir(f->be, "target/core/user_0/test", count_cb, &n), 0);
	assert_int_equal(n, 13);
	assert_int_equal(ftype(f->be, "target/core/user_0/test/alua/default_tg_pt_gp"), RTS_FT_DIR);
	assert_int_equal(ftype(f->be, "target/core/user_0/test/attrib/max_data_area_mb"),
			 RTS_FT_FILE);
	assert_int_equal(ftype(f->be, "target/core/user_0/test/attrib/block_size"), RTS_FT_NONE);
	/* control is write-only, info read-only */
	assert_null(rd(f->be, "target/core/user_0/test/control"));
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/info", "x"), -EACCES);
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/control",
					   "dev_config=file//tmp/t.img,dev_size=1048576"),
			 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/control", "bogus_key=1"),
			 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/control",
					   "dev_size=abc"),
			 -EINVAL);
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/control",
					   "max_data_area_mb=8"),
			 0);
	assert_string_equal(rd(f->be, "target/core/user_0/test/attrib/max_data_area_mb"), "8");
	assert_string_equal(rd(f->be, "target/core/user_0/test/attrib/dev_config"),
			    "file//tmp/t.img");
	assert_non_null(strstr(rd(f->be, "target/core/user_0/test/info"), "file//tmp/t.img"));
	/* enable: only "1", only once */
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/enable", "0"), -EINVAL);
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/enable", "1"), 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/enable", "1"), -EEXIST);
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/control",
					   "max_data_area_mb=16"),
			 -EINVAL);
	/* 0444 in the kernel (ring geometry goes through control): EACCES like configfs */
	assert_int_equal(rts_backend_write(f->be, "target/core/user_0/test/attrib/max_data_area_mb",
					   "16"),
			 -EACCES);
	/* HBA with a device is not empty; device dirs are kernel owned */
	assert_int_equal(rts_backend_rmdir(f->be, "target/core/user_0"), -ENOTEMPTY);
	assert_int_equal(rts_backend_rmdir(f->be, "target/core/user_0/test/attrib"), -EPERM);
	assert_int_equal(rts_backend_unlink(f->be, "target/core/user_0/test/enable"), -EPERM);
	assert_int_equal(rts_backend_rmdir(f->be, "target/core/user_0/test"), 0);
	assert_int_equal(rts_backend_rmdir(f->be, "target/core/user_0"), 0);
}

static void test_emu_enable_prerequisites(void **state)
{
	struct bfix *f = *state;

	assert_int_equal(rts_backend_mkdir(f->be, "target/core/fileio_0"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/fileio_0/f"), 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/fileio_0/f/enable", "1"), -EINVAL);
	assert_int_equal(rts_backend_write(f->be, "target/core/fileio_0/f/control",
					   "fd_dev_name=/tmp/x"),
			 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/fileio_0/f/enable", "1"), -EINVAL);
	assert_int_equal(
		rts_backend_write(f->be, "target/core/fileio_0/f/control", "fd_dev_size=4096"), 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/fileio_0/f/enable", "1"), 0);
	assert_int_equal(ftype(f->be, "target/core/fileio_0/f/attrib/block_size"), RTS_FT_FILE);
	assert_int_equal(rts_backend_write(f->be, "target/core/fileio_0/f/attrib/block_size",
					   "1000"),
			 -EINVAL);
	assert_int_equal(
		rts_backend_write(f->be, "target/core/fileio_0/f/attrib/block_size", "4096"), 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/fileio_0/f/attrib/emulate_tpu", "2"),
			 -EINVAL);
	assert_int_equal(rts_backend_write(f->be, "target/core/fileio_0/f/attrib/hw_block_size",
					   "512"),
			 -EACCES);
	assert_int_equal(rts_backend_write(f->be, "target/core/fileio_0/f/attrib/nope", "1"),
			 -ENOENT);
	assert_int_equal(rts_backend_write(f->be, "target/core/fileio_0/f/wwn/vendor_id",
					   "TOOLONGVENDOR"),
			 -EINVAL);
	assert_int_equal(
		rts_backend_write(f->be, "target/core/fileio_0/f/wwn/vpd_unit_serial", "abc"), 0);
	assert_string_equal(rd(f->be, "target/core/fileio_0/f/wwn/vpd_unit_serial"),
			    "T10 VPD Unit Serial Number: abc");

	assert_int_equal(rts_backend_mkdir(f->be, "target/core/rd_mcp_3"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/rd_mcp_3/r"), 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/rd_mcp_3/r/enable", "1"), -EINVAL);
	assert_int_equal(rts_backend_write(f->be, "target/core/rd_mcp_3/r/control", "rd_pages=16"),
			 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/rd_mcp_3/r/enable", "1"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/iblock_1"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/iblock_1/b"), 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/iblock_1/b/enable", "1"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/pscsi_0"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/pscsi_0/p"), 0);
	assert_int_equal(rts_backend_write(f->be, "target/core/pscsi_0/p/enable", "1"), -EINVAL);
	/* ALUA groups: implicit state change needs a valid id */
	assert_int_equal(rts_backend_mkdir(f->be, "target/core/rd_mcp_3/r/alua/gp1"), 0);
	assert_int_equal(
		rts_backend_write(f->be, "target/core/rd_mcp_3/r/alua/gp1/alua_access_state", "1"),
		-EINVAL);
	assert_int_equal(
		rts_backend_write(f->be, "target/core/rd_mcp_3/r/alua/gp1/tg_pt_gp_id", "7"), 0);
	assert_int_equal(
		rts_backend_write(f->be, "target/core/rd_mcp_3/r/alua/gp1/alua_access_state", "1"),
		0);
	assert_int_equal(
		rts_backend_write(f->be, "target/core/rd_mcp_3/r/alua/gp1/alua_access_state", "9"),
		-EINVAL);
	assert_int_equal(rts_backend_rmdir(f->be, "target/core/rd_mcp_3/r/alua/default_tg_pt_gp"),
			 -EPERM);
	assert_int_equal(rts_backend_write(f->be, "target/core/rd_mcp_3/r/alua_lu_gp", "nope"),
			 -EINVAL);
	assert_int_equal(
		rts_backend_write(f->be, "target/core/rd_mcp_3/r/alua_lu_gp", "default_lu_gp"), 0);
}

static void make_enabled_rd(struct rts_backend *be)
{
	assert_int_equal(rts_backend_mkdir(be, "target/core/rd_mcp_0"), 0);
	assert_int_equal(rts_backend_mkdir(be, "target/core/rd_mcp_0/r"), 0);
	assert_int_equal(rts_backend_write(be, "target/core/rd_mcp_0/r/control", "rd_pages=1"), 0);
}

static void test_emu_fabric_tree(void **state)
{
	struct bfix *f = *state;
	const char *tpg = "target/iscsi/iqn.2003-01.org.x:t/tpgt_1";
	char p[512], buf[512];

	assert_int_equal(rts_backend_mkdir(f->be, "target/nosuchfabric"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "target/iscsi"), 0);
	assert_int_equal(ftype(f->be, "target/iscsi/discovery_auth"), RTS_FT_DIR);
	assert_int_equal(rts_backend_mkdir(f->be, "target/iscsi/iqn.2003-01.org.x:t"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/iscsi/iqn.2003-01.org.x:t/tpg1"),
			 -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, tpg), 0);
	snprintf(p, sizeof(p), "%s/enable", tpg);
	assert_string_equal(rd(f->be, p), "0");
	assert_int_equal(rts_backend_write(f->be, p, "2"), -EINVAL);
	assert_int_equal(rts_backend_write(f->be, p, "1"), 0);
	snprintf(p, sizeof(p), "%s/attrib/generate_node_acls", tpg);
	assert_int_equal(ftype(f->be, p), RTS_FT_FILE);
	snprintf(p, sizeof(p), "%s/param/AuthMethod", tpg);
	assert_string_equal(rd(f->be, p), "CHAP,None");
	snprintf(p, sizeof(p), "%s/np/1.2.3.4", tpg);
	assert_int_equal(rts_backend_mkdir(f->be, p), -EINVAL);
	snprintf(p, sizeof(p), "%s/np/[::1]:3260", tpg);
	assert_int_equal(rts_backend_mkdir(f->be, p), 0);
	snprintf(p, sizeof(p), "%s/np/[::1]:3260/iser", tpg);
	assert_int_equal(rts_backend_write(f->be, p, "1"), 0);

	/* LUN symlink rules */
	make_enabled_rd(f->be);
	snprintf(p, sizeof(p), "%s/lun/lun0", tpg);
	assert_int_equal(rts_backend_mkdir(f->be, p), -EINVAL);
	snprintf(p, sizeof(p), "%s/lun/lun_4096", tpg);
	assert_int_equal(rts_backend_mkdir(f->be, p), 0);
	snprintf(p, sizeof(p), "%s/lun/lun_4096/link", tpg);
	assert_int_equal(rts_backend_symlink(f->be, "target/core/rd_mcp_0/r", p), -ENODEV);
	assert_int_equal(rts_backend_write(f->be, "target/core/rd_mcp_0/r/enable", "1"), 0);
	assert_int_equal(rts_backend_symlink(f->be, "target/core/rd_mcp_0", p), -EINVAL);
	assert_int_equal(rts_backend_symlink(f->be, "target/core/rd_mcp_0/nope", p), -ENOENT);
	assert_int_equal(rts_backend_symlink(f->be, "target/core/rd_mcp_0/r", p), 0);
	snprintf(p, sizeof(p), "%s/lun/lun_4096/other", tpg);
	assert_int_equal(rts_backend_symlink(f->be, "target/core/rd_mcp_0/r", p), -EEXIST);
	snprintf(p, sizeof(p), "%s/lun/lun_4096/alua_tg_pt_gp", tpg);
	assert_non_null(strstr(rd(f->be, p), "default_tg_pt_gp"));
	assert_int_equal(rts_backend_write(f->be, p, "nogroup"), -ENODEV);
	/* exported: serial and block size are frozen; the device cannot go */
	assert_int_equal(rts_backend_write(f->be, "target/core/rd_mcp_0/r/wwn/vpd_unit_serial",
					   "x"),
			 -EINVAL);
	assert_int_equal(rts_backend_rmdir(f->be, "target/core/rd_mcp_0/r"), -EBUSY);

	/* ACL + mapped LUN */
	snprintf(p, sizeof(p), "%s/acls/iqn.1994-05.com.redhat:client", tpg);
	assert_int_equal(rts_backend_mkdir(f->be, p), 0);
	snprintf(p, sizeof(p), "%s/acls/iqn.1994-05.com.redhat:client/cmdsn_depth", tpg);
	/* 6.1 checks only the maximum of an ACL's depth (VM tier, librts-errno.txt) */
	assert_int_equal(rts_backend_write(f->be, p, "0"), 0);
	assert_int_equal(rts_backend_write(f->be, p, "513"), -EINVAL);
	assert_int_equal(rts_backend_write(f->be, p, "128"), 0);
	snprintf(p, sizeof(p), "%s/acls/iqn.1994-05.com.redhat:client/lun_0", tpg);
	assert_int_equal(rts_backend_mkdir(f->be, p), 0);
	snprintf(p, sizeof(p), "%s/acls/iqn.1994-05.com.redhat:client/lun_0/l", tpg);
	assert_int_equal(rts_backend_symlink(f->be, "target/core/rd_mcp_0/r", p), -EINVAL);
	snprintf(buf, sizeof(buf), "%s/lun/lun_4096", tpg);
	assert_int_equal(rts_backend_symlink(f->be, buf, p), 0);
	assert_int_equal(rts_backend_rmdir(f->be, buf), -EBUSY);
	snprintf(buf, sizeof(buf), "%s/acls/iqn.1994-05.com.redhat:client", tpg);
	assert_int_equal(rts_backend_rmdir(f->be, buf), -ENOTEMPTY);
	assert_int_equal(rts_backend_unlink(f->be, p), 0);
	snprintf(buf, sizeof(buf), "%s/acls/iqn.1994-05.com.redhat:client/lun_0", tpg);
	assert_int_equal(rts_backend_rmdir(f->be, buf), 0);
	snprintf(buf, sizeof(buf), "%s/lun/lun_4096", tpg);
	assert_int_equal(rts_backend_rmdir(f->be, buf), -ENOTEMPTY);
	snprintf(p, sizeof(p), "%s/lun/lun_4096/link", tpg);
	assert_int_equal(rts_backend_unlink(f->be, p), 0);
	assert_int_equal(rts_backend_rmdir(f->be, buf), 0);
	assert_int_equal(rts_backend_rmdir(f->be, "target/core/rd_mcp_0/r"), 0);
}

static void test_emu_loopback_nexus(void **state)
{
	struct bfix *f = *state;
	const char *tpg = "target/loopback/naa.5001405000000001/tpgt_1";
	char p[256];

	assert_int_equal(rts_backend_mkdir(f->be, "target/loopback"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/loopback/foo"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "target/loopback/naa.5001405000000001"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/loopback/naa.5001405000000001/tpgt_32"),
			 -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, tpg), 0);
	snprintf(p, sizeof(p), "%s/enable", tpg);
	assert_int_equal(ftype(f->be, p), RTS_FT_NONE);
	snprintf(p, sizeof(p), "%s/np/1.2.3.4:3260", tpg);
	assert_int_equal(rts_backend_mkdir(f->be, p), -ENOSYS);
	snprintf(p, sizeof(p), "%s/nexus", tpg);
	assert_int_equal(rts_backend_write(f->be, p, "NULL"), -ENODEV);
	assert_int_equal(rts_backend_write(f->be, p, "bogus"), -EINVAL);
	assert_int_equal(rts_backend_write(f->be, p, "naa.5001405000000002"), 0);
	assert_int_equal(rts_backend_write(f->be, p, "naa.5001405000000003"), -EEXIST);
	assert_string_equal(rd(f->be, p), "naa.5001405000000002");
	assert_int_equal(rts_backend_write(f->be, p, "NULL"), 0);
	/* qla2xxx wants colon WWPNs */
	assert_int_equal(rts_backend_mkdir(f->be, "target/qla2xxx"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/qla2xxx/naa.21000024ff314c48"), -EINVAL);
	assert_int_equal(rts_backend_mkdir(f->be, "target/qla2xxx/21:00:00:24:ff:31:4c:48"), 0);
}

/* An emulated backend over an existing directory recounts links (EBUSY survives reopen). */
static void test_emu_reopen(void **state)
{
	struct bfix *f = *state;
	struct rts_backend *raw, *be;

	make_enabled_rd(f->be);
	assert_int_equal(rts_backend_write(f->be, "target/core/rd_mcp_0/r/enable", "1"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/loopback"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/loopback/naa.5001405000000001"), 0);
	assert_int_equal(rts_backend_mkdir(f->be, "target/loopback/naa.5001405000000001/tpgt_1"),
			 0);
	assert_int_equal(rts_backend_mkdir(f->be,
					   "target/loopback/naa.5001405000000001/tpgt_1/lun/lun_0"),
			 0);
	assert_int_equal(
		rts_backend_symlink(f->be, "target/core/rd_mcp_0/r",
				    "target/loopback/naa.5001405000000001/tpgt_1/lun/lun_0/x"),
		0);
	assert_int_equal(rts_backend_new_real(f->dir, RTS_BACKEND_REAL_CREATE, &raw), 0);
	assert_int_equal(rts_backend_new_emulated(raw, &be), 0);
	assert_int_equal(rts_backend_rmdir(be, "target/core/rd_mcp_0/r"), -EBUSY);
	assert_non_null(rts_backend_get_raw(be));
	rts_backend_free(be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		{ "mem/raw_ops", test_raw_ops, setup_raw_mem, teardown, NULL },
		{ "realfs/raw_ops", test_raw_ops, setup_raw_real, teardown, NULL },
		{ "mem/path_traversal", test_raw_path_traversal, setup_raw_mem, teardown, NULL },
		{ "realfs/path_traversal", test_raw_path_traversal, setup_raw_real, teardown,
		  NULL },
		{ "realfs/links", test_real_links, setup_raw_real, teardown, NULL },
		{ "realfs/dir_cache", test_real_dir_cache, setup_raw_real, teardown, NULL },
		{ "realfs/symlink_escape", test_real_symlink_escape, setup_raw_real, teardown,
		  NULL },
		cmocka_unit_test(test_real_root_errors),
		cmocka_unit_test(test_custom_backend),
		{ "mem/emu_initial_tree", test_emu_initial_tree, setup_emu_mem, teardown, NULL },
		{ "realfs/emu_initial_tree", test_emu_initial_tree, setup_emu_real, teardown,
		  NULL },
		{ "mem/emu_user_device", test_emu_user_device, setup_emu_mem, teardown, NULL },
		{ "realfs/emu_user_device", test_emu_user_device, setup_emu_real, teardown, NULL },
		{ "mem/emu_enable", test_emu_enable_prerequisites, setup_emu_mem, teardown, NULL },
		{ "realfs/emu_enable", test_emu_enable_prerequisites, setup_emu_real, teardown,
		  NULL },
		{ "mem/emu_fabric_tree", test_emu_fabric_tree, setup_emu_mem, teardown, NULL },
		{ "realfs/emu_fabric_tree", test_emu_fabric_tree, setup_emu_real, teardown, NULL },
		{ "mem/emu_loopback_nexus", test_emu_loopback_nexus, setup_emu_mem, teardown,
		  NULL },
		{ "realfs/emu_loopback_nexus", test_emu_loopback_nexus, setup_emu_real, teardown,
		  NULL },
		{ "realfs/emu_reopen", test_emu_reopen, setup_emu_real, teardown, NULL },
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
