/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The librts context: backend selection, error object, log callback, transaction lock,
 * kernel module loading and the target root attributes.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu.h"
#include "private.h"

void rts_log(struct rts_ctx *ctx, int prio, const char *file, int line, const char *fn,
	     const char *fmt, ...)
{
	va_list ap;

	if (!ctx->log_fn || prio > ctx->log_priority)
		return;
	va_start(ap, fmt);
	ctx->log_fn(ctx->log_ud, prio, file, line, fn, fmt, ap);
	va_end(ap);
}

int rts_error(struct rts_ctx *ctx, int code, const char *path, const char *fmt, ...)
{
	va_list ap;

	ctx->err.code = code;
	snprintf(ctx->err.path, sizeof(ctx->err.path), "%s", path ? path : "");
	va_start(ap, fmt);
	vsnprintf(ctx->err.message, sizeof(ctx->err.message), fmt, ap);
	va_end(ap);
	rts_dbg(ctx, "error %d at '%s': %s", code, ctx->err.path, ctx->err.message);
	return code;
}

RTS_EXPORT int rts_ctx_new_with_backend(struct rts_backend *backend, struct rts_ctx **ret)
{
	struct rts_ctx *ctx;

	if (!backend)
		return -EINVAL;
	if (!ret) {
		rts_backend_free(backend);
		return -EINVAL;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		rts_backend_free(backend);
		return -ENOMEM;
	}
	ctx->be = backend;
	ctx->log_priority = LOG_DEBUG;
	ctx->lock_fd = -1;
	list_init(&ctx->sos);
	list_init(&ctx->fabrics);
	list_init(&ctx->lu_gps);
	if (backend->is_real_configfs) {
		ctx->lock_path = strdup(RTS_DEFAULT_LOCK_PATH);
		ctx->spec_dir = strdup(RTS_DEFAULT_FABRIC_SPEC_DIR);
		if (!ctx->lock_path || !ctx->spec_dir) {
			rts_ctx_unref(ctx);
			return -ENOMEM;
		}
	}
	*ret = ctx;
	return 0;
}

/* flock(LOCK_EX), retried on EINTR. Returns 0 or -errno. */
static int lock_exclusive(int fd)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

RTS_EXPORT int rts_ctx_new(const char *root, unsigned int flags, struct rts_ctx **ret)
{
	struct rts_backend *be = NULL, *emu = NULL;
	int r;

	assert_return(ret, -EINVAL);
	assert_return(!(flags & ~(RTS_CTX_MEMORY | RTS_CTX_EMULATE)), -EINVAL);
	assert_return(!((flags & RTS_CTX_MEMORY) && (flags & RTS_CTX_EMULATE)), -EINVAL);
	assert_return(!(flags & RTS_CTX_EMULATE) || root, -EINVAL);

	if (flags & RTS_CTX_MEMORY)
		r = rts_backend_new_memory(&be);
	else
		r = rts_backend_new_real(
			root, (flags & RTS_CTX_EMULATE) ? RTS_BACKEND_REAL_CREATE : 0, &be);
	if (r < 0)
		return r;
	if (flags & (RTS_CTX_MEMORY | RTS_CTX_EMULATE)) {
		_cleanup_close_ int dfd = -EBADF;

		if (flags & RTS_CTX_EMULATE) {
			/*
			 * The emulator lays out an empty directory on first use. Serialise that
			 * on the directory itself: a second process must not find a half-made
			 * tree. The lock goes with dfd at the end of this block.
			 */
			dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			r = dfd < 0 ? -errno : lock_exclusive(dfd);
			if (r < 0) {
				rts_backend_free(be);
				return r;
			}
		}
		r = rts_backend_new_emulated(be, &emu);
		if (r < 0)
			return r;
		be = emu;
	}
	r = rts_ctx_new_with_backend(be, ret);
	if (r == 0 && (flags & RTS_CTX_EMULATE))
		(*ret)->emu_shared = true;
	return r;
}

RTS_EXPORT struct rts_ctx *rts_ctx_unref(struct rts_ctx *ctx)
{
	if (!ctx)
		return NULL;
	tree_free(ctx);
	if (ctx->lock_fd >= 0)
		close(ctx->lock_fd);
	free(ctx->lock_path);
	free(ctx->spec_dir);
	rts_backend_free(ctx->be);
	free(ctx);
	return NULL;
}

RTS_EXPORT struct rts_backend *rts_ctx_get_backend(struct rts_ctx *ctx)
{
	assert_return(ctx, NULL);
	return ctx->be;
}

RTS_EXPORT const struct rts_error *rts_ctx_last_error(const struct rts_ctx *ctx)
{
	assert_return(ctx, NULL);
	return &ctx->err;
}

RTS_EXPORT void rts_ctx_clear_error(struct rts_ctx *ctx)
{
	if (ctx)
		ctx->err = (struct rts_error){ 0 };
}

RTS_EXPORT void rts_ctx_set_log_fn(struct rts_ctx *ctx, rts_log_fn fn, void *userdata)
{
	if (!ctx)
		return;
	ctx->log_fn = fn;
	ctx->log_ud = userdata;
}

RTS_EXPORT void rts_ctx_set_log_priority(struct rts_ctx *ctx, int priority)
{
	if (ctx)
		ctx->log_priority = priority;
}

/* ------------------------------------------------------------ locking */

RTS_EXPORT int rts_ctx_set_lock_path(struct rts_ctx *ctx, const char *path)
{
	char *p = NULL;

	assert_return(ctx, -EINVAL);
	if (ctx->lock_depth)
		return rts_error(ctx, -EBUSY, ctx->lock_path, "lock is held");
	if (path) {
		p = strdup(path);
		if (!p)
			return rts_error(ctx, -ENOMEM, path, "out of memory");
	}
	free(ctx->lock_path);
	ctx->lock_path = p;
	if (ctx->lock_fd >= 0) {
		close(ctx->lock_fd);
		ctx->lock_fd = -1;
	}
	return 0;
}

RTS_EXPORT int rts_ctx_lock(struct rts_ctx *ctx)
{
	assert_return(ctx, -EINVAL);
	if (ctx->lock_depth++ > 0 || !ctx->lock_path)
		return 0;
	if (ctx->lock_fd < 0) {
		ctx->lock_fd =
			open(ctx->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (ctx->lock_fd < 0 && errno == ENOENT) {
			/*
			 * /run/lock is made by systemd-tmpfiles: absent in initramfs, minimal
			 * containers and the VM tier's guest. Make the last component and retry.
			 */
			_cleanup_free_ char *dir = strdup(ctx->lock_path);
			char *slash = dir ? strrchr(dir, '/') : NULL;

			if (slash && slash != dir) {
				*slash = '\0';
				if (mkdir(dir, 0755) == 0 || errno == EEXIST)
					ctx->lock_fd = open(
						ctx->lock_path,
						O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
				else
					errno = ENOENT;
			}
		}
		if (ctx->lock_fd < 0) {
			int r = -errno;

			ctx->lock_depth--;
			return rts_error(ctx, r, ctx->lock_path, "cannot open lock file: %s",
					 strerror(-r));
		}
	}
	int r = lock_exclusive(ctx->lock_fd);

	if (r < 0) {
		ctx->lock_depth--;
		return rts_error(ctx, r, ctx->lock_path, "cannot lock: %s", strerror(-r));
	}
	rts_dbg(ctx, "locked '%s'", ctx->lock_path);
	/* other processes may have changed the directory since we last held the lock */
	if (ctx->emu_shared)
		emu_invalidate(ctx->be);
	return 0;
}

RTS_EXPORT int rts_ctx_unlock(struct rts_ctx *ctx)
{
	assert_return(ctx, -EINVAL);
	if (!ctx->lock_depth)
		return rts_error(ctx, -EINVAL, ctx->lock_path, "not locked");
	if (--ctx->lock_depth == 0 && ctx->lock_fd >= 0)
		flock(ctx->lock_fd, LOCK_UN);
	return 0;
}

int txn_begin(struct rts_ctx *ctx, struct rts_txn *txn)
{
	int r = rts_ctx_lock(ctx);

	if (r < 0)
		return r;
	txn->ctx = ctx;
	txn->locked = true;
	return 0;
}

void txn_end(struct rts_txn *txn)
{
	if (txn->locked)
		rts_ctx_unlock(txn->ctx);
	txn->locked = false;
}

/* ------------------------------------------------------------ misc */

RTS_EXPORT int rts_ctx_set_fabric_spec_dir(struct rts_ctx *ctx, const char *dir)
{
	char *d = NULL;

	assert_return(ctx, -EINVAL);
	if (dir) {
		d = strdup(dir);
		if (!d)
			return rts_error(ctx, -ENOMEM, dir, "out of memory");
	}
	free(ctx->spec_dir);
	ctx->spec_dir = d;
	return 0;
}

RTS_EXPORT int rts_ctx_refresh(struct rts_ctx *ctx)
{
	assert_return(ctx, -EINVAL);
	tree_free(ctx);
	return ensure_top(ctx);
}

/*
 * libkmod is opened when a module must be loaded, not linked: it brings libcrypto, libzstd and
 * liblzma, whose relocation is most of an rtsctl command's start-up on a slow machine, and
 * most commands never load a module. The declarations still come from <libkmod.h>.
 */
#define KMOD_SONAME "libkmod.so.2"

static struct {
	__typeof__(kmod_new) *new_ctx;
	__typeof__(kmod_unref) *unref;
	__typeof__(kmod_module_new_from_lookup) *lookup;
	__typeof__(kmod_module_get_module) *get_module;
	__typeof__(kmod_module_probe_insert_module) *probe_insert;
	__typeof__(kmod_module_unref) *module_unref;
	__typeof__(kmod_module_unref_list) *unref_list;
	__typeof__(kmod_list_next) *next_entry;
	char error[160];
} kmod;
static pthread_once_t kmod_once = PTHREAD_ONCE_INIT;

static void kmod_open(void)
{
	void *h = dlopen(KMOD_SONAME, RTLD_NOW | RTLD_LOCAL);
	struct {
		const char *name;
		void **fn;
	} syms[] = {
		{ "kmod_new", (void **)&kmod.new_ctx },
		{ "kmod_unref", (void **)&kmod.unref },
		{ "kmod_module_new_from_lookup", (void **)&kmod.lookup },
		{ "kmod_module_get_module", (void **)&kmod.get_module },
		{ "kmod_module_probe_insert_module", (void **)&kmod.probe_insert },
		{ "kmod_module_unref", (void **)&kmod.module_unref },
		{ "kmod_module_unref_list", (void **)&kmod.unref_list },
		{ "kmod_list_next", (void **)&kmod.next_entry },
	};

	if (!h) {
		snprintf(kmod.error, sizeof(kmod.error), "cannot open %s: %s", KMOD_SONAME, dlerror());
		return;
	}
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].fn = dlsym(h, syms[i].name);
		if (!*syms[i].fn) {
			snprintf(kmod.error, sizeof(kmod.error), "%s has no %s", KMOD_SONAME, syms[i].name);
			kmod.new_ctx = NULL; /* the library stays open: nothing of it is used */
			return;
		}
	}
}

RTS_EXPORT int rts_ctx_load_module(struct rts_ctx *ctx, const char *module)
{
	struct kmod_ctx *kctx;
	struct kmod_list *list = NULL, *it;
	int r;

	assert_return(ctx, -EINVAL);
	r = check_name(ctx, "module", module);
	if (r < 0)
		return r;
	pthread_once(&kmod_once, kmod_open);
	if (!kmod.new_ctx)
		return rts_error(ctx, -ENOSYS, module, "cannot load module: %s", kmod.error);
	kctx = kmod.new_ctx(NULL, NULL); /* default module dir and modprobe.d (blacklists, options) */
	if (!kctx)
		return rts_error(ctx, -ENOMEM, module, "kmod_new failed");
	r = kmod.lookup(kctx, module, &list);
	if (r < 0 || !list) {
		kmod.unref(kctx);
		return rts_error(ctx, r < 0 ? r : -ENOENT, module, "module not found");
	}
	for (it = list; it; it = kmod.next_entry(list, it)) {
		struct kmod_module *mod = kmod.get_module(it);

		r = kmod.probe_insert(mod, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
		kmod.module_unref(mod);
		if (r < 0)
			break;
	}
	kmod.unref_list(list);
	kmod.unref(kctx);
	if (r < 0)
		return rts_error(ctx, r, module, "cannot load module: %s", strerror(-r));
	rts_dbg(ctx, "loaded module '%s'", module);
	return 0;
}

RTS_EXPORT bool rts_ctx_target_present(struct rts_ctx *ctx)
{
	assert_return(ctx, false);
	return cfs_exists(ctx, "target", RTS_FT_DIR);
}

RTS_EXPORT int rts_ctx_get_version(struct rts_ctx *ctx, char **ret)
{
	assert_return(ctx && ret, -EINVAL);
	return cfs_read(ctx, "target/version", ret);
}

RTS_EXPORT int rts_ctx_get_dbroot(struct rts_ctx *ctx, char **ret)
{
	assert_return(ctx && ret, -EINVAL);
	return cfs_read(ctx, "target/dbroot", ret);
}

RTS_EXPORT int rts_ctx_set_dbroot(struct rts_ctx *ctx, const char *dir)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	int r;

	assert_return(ctx && dir, -EINVAL);
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	return cfs_write(ctx, "target/dbroot", dir);
}

RTS_EXPORT int rts_ctx_clear(struct rts_ctx *ctx)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_fabric *f;
	struct rts_so *so, *tmp;
	int r, first = 0;

	assert_return(ctx, -EINVAL);
	r = ensure_tree(ctx);
	if (r < 0)
		return r;
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	list_for_each(&ctx->fabrics, f, node) {
		struct rts_target *t, *tt;

		list_for_each_safe(&f->targets, t, tt, node) {
			r = rts_target_delete(t);
			if (r < 0 && !first)
				first = r;
		}
	}
	list_for_each_safe(&ctx->sos, so, tmp, node) {
		r = rts_so_delete(so);
		if (r < 0 && !first)
			first = r;
	}
	return first;
}
