/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Context: creation, error object, logging, transaction lock, root attributes, modules. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <syslog.h>

#include "helpers.h"

static void test_new_flags(void **state)
{
	struct rts_ctx *ctx = NULL;

	(void)state;
	assert_int_equal(rts_ctx_new(NULL, 0x100, &ctx), -EINVAL);
	assert_int_equal(rts_ctx_new(NULL, RTS_CTX_MEMORY | RTS_CTX_EMULATE, &ctx), -EINVAL);
	assert_int_equal(rts_ctx_new(NULL, RTS_CTX_EMULATE, &ctx), -EINVAL);
	assert_int_equal(rts_ctx_new(NULL, RTS_CTX_MEMORY, NULL), -EINVAL);
	assert_int_equal(rts_ctx_new("/nonexistent/librts", 0, &ctx), -ENOENT);
	assert_null(ctx);
	assert_int_equal(rts_ctx_new(NULL, RTS_CTX_MEMORY, &ctx), 0);
	assert_non_null(rts_ctx_get_backend(ctx));
	assert_int_equal(rts_ctx_last_error(ctx)->code, 0);
	assert_null(rts_ctx_unref(ctx));
	assert_null(rts_ctx_unref(NULL));
}

static void test_root_attrs(void **state)
{
	struct fixture *f = *state;
	char *v = NULL;

	assert_true(rts_ctx_target_present(f->ctx));
	assert_int_equal(rts_ctx_get_version(f->ctx, &v), 0);
	assert_non_null(strstr(v, "Target Engine Core ConfigFS Infrastructure"));
	free(v);
	assert_int_equal(rts_ctx_set_dbroot(f->ctx, "/var/lib/target"), 0);
	assert_int_equal(rts_ctx_get_dbroot(f->ctx, &v), 0);
	assert_string_equal(v, "/var/lib/target");
	free(v);
	assert_int_equal(rts_ctx_set_dbroot(f->ctx, "relative/dir"), -EINVAL);
	assert_error(f->ctx, -EINVAL, "target/dbroot");
	rts_ctx_clear_error(f->ctx);
	assert_int_equal(rts_ctx_last_error(f->ctx)->code, 0);
}

struct logbuf {
	int count;
	int max_prio;
	char last[256];
};

static void log_cb(void *ud, int prio, const char *file, int line, const char *fn, const char *fmt,
		   va_list ap) __attribute__((format(printf, 6, 0)));
static void log_cb(void *ud, int prio, const char *file, int line, const char *fn, const char *fmt,
		   va_list ap)
{
	struct logbuf *b = ud;

	(void)line;
	assert_non_null(file);
	assert_non_null(fn);
	b->count++;
	if (prio > b->max_prio)
		b->max_prio = prio;
	vsnprintf(b->last, sizeof(b->last), fmt, ap);
}

static void test_logging(void **state)
{
	struct fixture *f = *state;
	struct logbuf b = { 0 };
	struct rts_so *so;

	/* silent by default: nothing to observe, but nothing may crash either */
	assert_int_equal(rts_ramdisk_create(f->ctx, "quiet", 4096, 0, &so), 0);
	rts_ctx_set_log_fn(f->ctx, log_cb, &b);
	assert_int_equal(rts_ramdisk_create(f->ctx, "loud", 4096, 0, &so), 0);
	assert_true(b.count > 0);
	assert_int_equal(b.max_prio, LOG_DEBUG);
	b.count = 0;
	rts_ctx_set_log_priority(f->ctx, LOG_INFO);
	assert_int_equal(rts_ramdisk_create(f->ctx, "filtered", 4096, 0, &so), 0);
	assert_int_equal(b.count, 0);
	rts_ctx_set_log_fn(f->ctx, NULL, NULL);
}

static void test_lock(void **state)
{
	struct fixture *f = *state;
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", f->files);
	/* no lock path by default on test backends */
	assert_int_equal(rts_ctx_lock(f->ctx), 0);
	assert_int_equal(rts_ctx_unlock(f->ctx), 0);
	assert_int_equal(rts_ctx_unlock(f->ctx), -EINVAL);
	assert_error(f->ctx, -EINVAL, NULL);

	assert_int_equal(rts_ctx_set_lock_path(f->ctx, path), 0);
	assert_int_equal(rts_ctx_lock(f->ctx), 0);
	assert_int_equal(rts_ctx_lock(f->ctx), 0); /* nests */
	assert_int_equal(rts_ctx_set_lock_path(f->ctx, NULL), -EBUSY);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(rts_ctx_unlock(f->ctx), 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1); /* still held once */
	assert_int_equal(rts_ctx_unlock(f->ctx), 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	/* a change while another process holds the lock would wait; here it is free again */
	assert_int_equal(flock(fd, LOCK_UN), 0);
	assert_int_equal(rts_ctx_set_dbroot(f->ctx, "/srv"), 0);
	close(fd);

	/* a missing lock directory (no /run/lock in an initramfs) is made: one level only */
	snprintf(path, sizeof(path), "%s/run-lock/lock", f->files);
	assert_int_equal(rts_ctx_set_lock_path(f->ctx, path), 0);
	assert_int_equal(rts_ctx_lock(f->ctx), 0);
	assert_int_equal(rts_ctx_unlock(f->ctx), 0);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
	snprintf(path, sizeof(path), "%s/run-lock", f->files);
	rmdir(path);

	assert_int_equal(rts_ctx_set_lock_path(f->ctx, "/nonexistent/dir/lock"), 0);
	assert_int_equal(rts_ctx_lock(f->ctx), -ENOENT);
	assert_error(f->ctx, -ENOENT, "/nonexistent/dir/lock");
	assert_int_equal(rts_ctx_set_dbroot(f->ctx, "/srv"), -ENOENT);
	assert_int_equal(rts_ctx_set_lock_path(f->ctx, NULL), 0);
}

static void test_modules(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rts_ctx_load_module(f->ctx, "../evil"), -EINVAL);
	assert_error(f->ctx, -EINVAL, "../evil");
	assert_true(rts_ctx_load_module(f->ctx, "librts_no_such_module_xyz") < 0);
	assert_true(rts_ctx_last_error(f->ctx)->code < 0);
	/* libkmod is dlopen()ed on first use: it was found and answered for the module */
	assert_null(strstr(rts_ctx_last_error(f->ctx)->message, "libkmod.so"));
}

static void test_clear_and_refresh(void **state)
{
	struct fixture *f = *state;
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_so *so;
	int n = 0;

	assert_int_equal(rts_ramdisk_create(f->ctx, "r1", 1 << 20, 0, &so), 0);
	assert_int_equal(rts_fabric_lookup(f->ctx, "loopback", &fab), 0);
	assert_int_equal(rts_fabric_load(fab, false), 0);
	assert_int_equal(rts_target_create(fab, NULL, &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_lun_create(tpg, 0, so, NULL, NULL), 0);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	rts_for_each_storage_object(f->ctx, so)
		n++;
	assert_int_equal(n, 1);
	assert_int_equal(rts_ctx_clear(f->ctx), 0);
	assert_null(rts_so_first(f->ctx));
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);
	assert_null(rts_so_first(f->ctx));
	assert_int_equal(rts_fabric_lookup(f->ctx, "loopback", &fab), 0);
	assert_null(rts_target_first(fab));
}

/* The real configfs root, read-only: listing must never mkdir, write or load modules. */
static void test_real_root_readonly(void **state)
{
	struct rts_ctx *ctx = NULL;
	struct rts_fabric *fab;
	struct rts_so *so;
	struct stat st;
	int n = 0;

	(void)state;
	if (stat(RTS_DEFAULT_ROOT, &st) < 0 || !S_ISDIR(st.st_mode))
		skip();
	assert_int_equal(rts_ctx_new(NULL, 0, &ctx), 0);
	rts_for_each_storage_object(ctx, so)
		n++;
	rts_for_each_fabric(ctx, fab)
		n++;
	assert_true(n >= 11);
	if (!rts_ctx_target_present(ctx))
		assert_int_not_equal(stat(RTS_DEFAULT_ROOT "/target", &st), 0);
	rts_ctx_unref(ctx);
}

/*
 * Two contexts on one emulated directory, as two rtsctl processes: what one links must
 * hold for the other (configfs refuses rmdir of a link target with EBUSY), and the other
 * must not find a half-made tree while the first lays out an empty directory.
 */
static void test_emulate_shared_dir(void **state)
{
	char *dir = make_tmpdir();
	struct rts_ctx *a = NULL, *b = NULL;
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_so *so;
	char lock[512], dev[512];

	(void)state;
	snprintf(lock, sizeof(lock), "%s/.lock", dir);
	assert_int_equal(rts_ctx_new(dir, RTS_CTX_EMULATE, &b), 0); /* lays out target/ */
	assert_int_equal(rts_ctx_new(dir, RTS_CTX_EMULATE, &a), 0); /* finds it */
	assert_int_equal(rts_ctx_set_lock_path(a, lock), 0);
	assert_int_equal(rts_ctx_set_lock_path(b, lock), 0);

	assert_int_equal(rts_ctx_lock(a), 0);
	assert_int_equal(rts_ramdisk_create(a, "shared", 1 << 20, 0, &so), 0);
	assert_int_equal(rts_fabric_lookup(a, "loopback", &fab), 0);
	assert_int_equal(rts_fabric_load(fab, false), 0);
	assert_int_equal(rts_target_create(fab, "naa.5001405aabbccdd1", &t), 0);
	assert_int_equal(rts_tpg_create(t, 1, &tpg), 0);
	assert_int_equal(rts_lun_create(tpg, 0, so, NULL, &lun), 0);
	assert_int_equal(rts_ctx_unlock(a), 0);

	/* b was built before the LUN existed: its next transaction must see the link */
	assert_int_equal(rts_ctx_lock(b), 0);
	snprintf(dev, sizeof(dev), "target/core/rd_mcp_0/shared");
	assert_int_equal(rts_backend_rmdir(rts_ctx_get_backend(b), dev), -EBUSY);
	assert_int_equal(rts_ctx_unlock(b), 0);

	/* and once a drops the LUN, b may remove the device */
	assert_int_equal(rts_ctx_lock(a), 0);
	assert_int_equal(rts_lun_delete(lun), 0);
	assert_int_equal(rts_ctx_unlock(a), 0);
	assert_int_equal(rts_ctx_lock(b), 0);
	assert_int_equal(rts_backend_rmdir(rts_ctx_get_backend(b), dev), 0);
	assert_int_equal(rts_ctx_unlock(b), 0);

	rts_ctx_unref(a);
	rts_ctx_unref(b);
	rm_rf(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_flags),
		BOTH(test_root_attrs),
		BOTH(test_logging),
		BOTH(test_lock),
		BOTH(test_modules),
		BOTH(test_clear_and_refresh),
		cmocka_unit_test(test_real_root_readonly),
		cmocka_unit_test(test_emulate_shared_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
