/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file backend.h
 * @brief The filesystem backend every configfs access of librts goes through.
 *
 * Paths given to a backend are relative to its root ("target/core/fileio_0/disk"), never
 * absolute and never contain "." or ".." components. Three implementations ship:
 * - real: syscalls openat-relative to a root directory fd (configfs, or a plain directory);
 * - memory: an in-memory tree with plain filesystem semantics;
 * - emulated: wraps another backend and adds LIO configfs semantics (kernel-created
 *   children, enable rules, symlink rules, EBUSY/ENOTEMPTY/EEXIST/EINVAL like the kernel),
 *   driven by one table kept in lib/emu_model.c.
 *
 * Returns: functions returning int return 0 (or a count) on success and a negative errno
 * on failure, and never set errno; rts_ctx_last_error() then describes the failure.
 * Ownership: objects belong to their context and stay valid until deleted, until
 * rts_ctx_refresh() or until the context is released; strings returned through char **
 * are malloc()ed and the caller frees them; const char * results are owned by the object.
 * Threads: a context and everything reached through it is used by one thread at a time;
 * separate contexts are independent.
 */
#ifndef RTS_BACKEND_H
#define RTS_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rts_backend;

/** Type of a directory entry. */
enum rts_ftype {
	RTS_FT_NONE = 0, /**< does not exist */
	RTS_FT_DIR, /**< directory (configfs group or item) */
	RTS_FT_FILE, /**< attribute */
	RTS_FT_LINK, /**< symbolic link */
};

/**
 * @brief readdir callback.
 * @param userdata caller value
 * @param name entry name ("." and ".." are never passed)
 * @param type entry type
 * @return 0 to continue, non-zero to stop (returned by readdir)
 */
typedef int (*rts_dirent_fn)(void *userdata, const char *name, enum rts_ftype type);

/**
 * @brief Backend operations. Every callback is required and returns 0 (or a size) or a
 *        negative errno. Called on the thread using the owning context.
 */
struct rts_backend_ops {
	/** sizeof(struct rts_backend_ops) the implementation was built with */
	uint32_t struct_size;
	/** Create directory @p path. */
	int (*mkdir)(void *data, const char *path);
	/** Remove directory @p path. */
	int (*rmdir)(void *data, const char *path);
	/** Create symlink @p path pointing at root-relative @p target. */
	int (*symlink)(void *data, const char *target, const char *path);
	/** Remove symlink @p path. */
	int (*unlink)(void *data, const char *path);
	/** Store the root-relative target of @p path in @p buf (NUL-terminated); return its length. */
	int (*readlink)(void *data, const char *path, char *buf, size_t size);
	/** Read up to @p size bytes of attribute @p path; return the count. */
	ssize_t (*read)(void *data, const char *path, char *buf, size_t size);
	/** Write @p len bytes to attribute @p path in one write. */
	int (*write)(void *data, const char *path, const char *buf, size_t len);
	/** Store the type of @p path (lstat semantics); -ENOENT if missing. */
	int (*stat)(void *data, const char *path, enum rts_ftype *type);
	/** Call @p fn for every entry of directory @p path. */
	int (*readdir)(void *data, const char *path, rts_dirent_fn fn, void *userdata);
	/** Release @p data (optional, may be NULL). */
	void (*destroy)(void *data);
};

/** Flags for rts_backend_new_real(). */
enum rts_backend_real_flags {
	/** Create attribute files on write (plain directories; never for configfs). */
	RTS_BACKEND_REAL_CREATE = 1u << 0,
};

/**
 * @brief Backend on a real directory; every access is openat-relative to its fd.
 * @param root directory (NULL: RTS_DEFAULT_ROOT)
 * @param flags enum rts_backend_real_flags
 * @param ret receives the backend
 * @return 0, -ENOENT, -ENOTDIR, -EACCES, -ENOMEM
 */
int rts_backend_new_real(const char *root, unsigned int flags, struct rts_backend **ret);

/**
 * @brief Empty in-memory backend with plain filesystem semantics.
 * @param ret receives the backend
 * @return 0, -ENOMEM
 */
int rts_backend_new_memory(struct rts_backend **ret);

/**
 * @brief Backend adding LIO configfs semantics on top of @p raw and populating the
 *        initial tree (target/, target/core/, version, dbroot...) when missing.
 * @param raw backend to wrap; ownership passes to the new backend, also on failure
 * @param ret receives the backend
 * @return 0 or negative errno
 */
int rts_backend_new_emulated(struct rts_backend *raw, struct rts_backend **ret);

/**
 * @brief Backend from caller supplied operations.
 * @param ops operations (must outlive the backend)
 * @param data passed to every operation, released with ops->destroy
 * @param ret receives the backend
 * @return 0, -EINVAL (struct_size too small, missing callback), -ENOMEM
 */
int rts_backend_new(const struct rts_backend_ops *ops, void *data, struct rts_backend **ret);

/**
 * @brief Release a backend.
 * @param be backend or NULL
 * @return NULL
 */
struct rts_backend *rts_backend_free(struct rts_backend *be);

/**
 * @brief The raw backend under an emulated one (NULL otherwise). Tests use it to plant
 *        kernel-only state (sessions, statistics).
 * @param be backend
 * @return the wrapped backend or NULL
 */
struct rts_backend *rts_backend_get_raw(struct rts_backend *be);

/** @brief Direct call of ops->mkdir. @param be backend @param path path @return 0 or -errno */
int rts_backend_mkdir(struct rts_backend *be, const char *path);
/** @brief Direct call of ops->rmdir. @param be backend @param path path @return 0 or -errno */
int rts_backend_rmdir(struct rts_backend *be, const char *path);
/**
 * @brief Direct call of ops->symlink.
 * @param be backend @param target root-relative target @param path link path
 * @return 0 or -errno
 */
int rts_backend_symlink(struct rts_backend *be, const char *target, const char *path);
/** @brief Direct call of ops->unlink. @param be backend @param path path @return 0 or -errno */
int rts_backend_unlink(struct rts_backend *be, const char *path);
/**
 * @brief Direct call of ops->readlink.
 * @param be backend @param path link @param buf buffer @param size buffer size
 * @return target length or -errno
 */
int rts_backend_readlink(struct rts_backend *be, const char *path, char *buf, size_t size);
/**
 * @brief Direct call of ops->read.
 * @param be backend @param path attribute @param buf buffer @param size buffer size
 * @return bytes read or -errno
 */
ssize_t rts_backend_read(struct rts_backend *be, const char *path, char *buf, size_t size);
/**
 * @brief Direct call of ops->write with a NUL-terminated string.
 * @param be backend @param path attribute @param value string
 * @return 0 or -errno
 */
int rts_backend_write(struct rts_backend *be, const char *path, const char *value);
/**
 * @brief Direct call of ops->stat.
 * @param be backend @param path path @param type receives the type
 * @return 0 or -errno
 */
int rts_backend_stat(struct rts_backend *be, const char *path, enum rts_ftype *type);
/**
 * @brief Direct call of ops->readdir.
 * @param be backend @param path directory @param fn callback @param userdata for fn
 * @return 0, the callback's non-zero value, or -errno
 */
int rts_backend_readdir(struct rts_backend *be, const char *path, rts_dirent_fn fn, void *userdata);

#ifdef __cplusplus
}
#endif

#endif
