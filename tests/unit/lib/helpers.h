/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared helpers of the librts unit tests: temp directories and context fixtures. */
#ifndef RTS_TEST_LIB_HELPERS_H
#define RTS_TEST_LIB_HELPERS_H

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <rts/rts.h>

static inline int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void rm_rf(const char *dir)
{
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Temp dirs go to tmpfs when there is one: the emulated tree is thousands of small files. */
static inline char *make_tmpdir(void)
{
	char tmpl[] = "/dev/shm/librts-test-XXXXXX";
	char tmpl2[] = "/tmp/librts-test-XXXXXX";
	char *d = access("/dev/shm", W_OK) == 0 ? mkdtemp(tmpl) : NULL;

	if (!d)
		d = mkdtemp(tmpl2);
	assert_non_null(d);
	return strdup(d);
}

/* A test fixture: one context on either backend. */
struct fixture {
	struct rts_ctx *ctx;
	char *dir; /* temp dir of the emulated real-fs backend, NULL for memory */
	char *files; /* scratch dir for backing files */
};

static inline int fixture_setup(void **state, bool real)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->files = make_tmpdir();
	if (real) {
		f->dir = make_tmpdir();
		assert_int_equal(rts_ctx_new(f->dir, RTS_CTX_EMULATE, &f->ctx), 0);
	} else {
		assert_int_equal(rts_ctx_new(NULL, RTS_CTX_MEMORY, &f->ctx), 0);
	}
	*state = f;
	return 0;
}

static inline int setup_mem(void **state)
{
	return fixture_setup(state, false);
}

static inline int setup_real(void **state)
{
	return fixture_setup(state, true);
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	rts_ctx_unref(f->ctx);
	if (f->dir) {
		rm_rf(f->dir);
		free(f->dir);
	}
	rm_rf(f->files);
	free(f->files);
	free(f);
	return 0;
}

/* Assert the last error of ctx: code, a path containing path_part (if given), a message. */
static inline void check_error(struct rts_ctx *ctx, int want, const char *path_part)
{
	const struct rts_error *e = rts_ctx_last_error(ctx);

	if (e->code != want)
		print_error("error code %d, expected %d (%s: %s)\n", e->code, want, e->path,
			    e->message);
	assert_int_equal(e->code, want);
	if (path_part && !strstr(e->path, path_part))
		print_error("error path '%s' lacks '%s'\n", e->path, path_part);
	if (path_part)
		assert_non_null(strstr(e->path, path_part));
	assert_true(e->message[0] != '\0');
}
#define assert_error(ctx, want, path_part) check_error(ctx, want, path_part)

/* Run every test on both backends. */
#define BOTH(fn)                                                      \
	{ "mem/" #fn, fn, setup_mem, fixture_teardown, NULL },        \
	{                                                             \
		"realfs/" #fn, fn, setup_real, fixture_teardown, NULL \
	}

#endif
