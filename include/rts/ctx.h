/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file ctx.h
 * @brief librts context: backend selection, errors, logging, locking, kernel modules, root.
 *
 * Returns: functions returning int return 0 (or a count) on success and a negative errno
 * on failure, and never set errno; rts_ctx_last_error() then describes the failure.
 * Ownership: objects belong to their context and stay valid until deleted, until
 * rts_ctx_refresh() or until the context is released; strings returned through char **
 * are malloc()ed and the caller frees them; const char * results are owned by the object.
 * Threads: a context and everything reached through it is used by one thread at a time;
 * separate contexts are independent.
 */
#ifndef RTS_CTX_H
#define RTS_CTX_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rts/log.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rts_ctx;
struct rts_backend;

/** Default configfs mount point used when rts_ctx_new() gets a NULL root. */
#define RTS_DEFAULT_ROOT	    "/sys/kernel/config"
/** Default lock file taken per transaction on the real configfs root. */
#define RTS_DEFAULT_LOCK_PATH	    "/run/lock/rtslib-c.lock"
/** Default directory of third-party fabric spec files. */
#define RTS_DEFAULT_FABRIC_SPEC_DIR "/etc/target/fabric"

/** Flags for rts_ctx_new(). */
enum rts_ctx_flags {
	/** In-memory backend emulating LIO configfs; root is ignored. */
	RTS_CTX_MEMORY = 1u << 0,
	/** Real directory at root, with LIO configfs semantics emulated on top (tests, dry runs). */
	RTS_CTX_EMULATE = 1u << 1,
};

/** Maximum lengths of the fields of struct rts_error. */
#define RTS_ERROR_PATH_MAX 512
/** Maximum length of an error message, NUL included. */
#define RTS_ERROR_MSG_MAX  256

/** Description of the last failed call on a context. */
struct rts_error {
	int code; /**< negative errno returned by the failed call */
	char path[RTS_ERROR_PATH_MAX]; /**< configfs path (relative to the root) or object name */
	char message[RTS_ERROR_MSG_MAX]; /**< human readable reason, never ends with a newline */
};

/**
 * @brief Log callback of librts (libkmod style). librts logs at RTS_LOG_DEBUG only.
 * @param userdata value given to rts_ctx_set_log_fn()
 * @param priority an enum rts_log_prio value (the syslog priorities, see log.h)
 * @param file source file
 * @param line source line
 * @param fn source function
 * @param format printf format
 * @param args format arguments
 */
typedef void (*rts_log_fn)(void *userdata, int priority, const char *file, int line, const char *fn,
			   const char *format, va_list args);

/**
 * @brief Create a context.
 * @param root configfs mount point (NULL: RTS_DEFAULT_ROOT); with RTS_CTX_EMULATE a plain
 *             directory that is populated like configfs
 * @param flags a combination of enum rts_ctx_flags
 * @param ret receives the new context
 * @return 0, -EINVAL (bad flags), -ENOENT/-ENOTDIR (root), -ENOMEM
 */
int rts_ctx_new(const char *root, unsigned int flags, struct rts_ctx **ret);

/**
 * @brief Create a context on an explicit backend.
 * @param backend backend; ownership passes to the context, also on failure
 * @param ret receives the new context
 * @return 0, -EINVAL, -ENOMEM
 */
int rts_ctx_new_with_backend(struct rts_backend *backend, struct rts_ctx **ret);

/**
 * @brief Release a context, its tree and its backend.
 * @param ctx context or NULL
 * @return NULL
 */
struct rts_ctx *rts_ctx_unref(struct rts_ctx *ctx);

/**
 * @brief The backend all filesystem access of @p ctx goes through.
 * @param ctx context
 * @return the backend (owned by the context)
 */
struct rts_backend *rts_ctx_get_backend(struct rts_ctx *ctx);

/**
 * @brief Error of the last failed call (valid until the next failing call).
 * @param ctx context
 * @return the error; code is 0 when no call failed yet
 */
const struct rts_error *rts_ctx_last_error(const struct rts_ctx *ctx);

/**
 * @brief Forget the last error.
 * @param ctx context
 */
void rts_ctx_clear_error(struct rts_ctx *ctx);

/**
 * @brief Route library log messages to @p fn (default: silent).
 * @param ctx context
 * @param fn callback or NULL to disable logging
 * @param userdata passed to @p fn
 */
void rts_ctx_set_log_fn(struct rts_ctx *ctx, rts_log_fn fn, void *userdata);

/**
 * @brief Set the highest priority passed to the log callback (default RTS_LOG_DEBUG).
 * @param ctx context
 * @param priority RTS_LOG_EMERG..RTS_LOG_DEBUG (enum rts_log_prio, the syslog values)
 */
void rts_ctx_set_log_priority(struct rts_ctx *ctx, int priority);

/**
 * @brief Lock file taken (flock, exclusive) around every change; NULL disables locking.
 *
 * The default is RTS_DEFAULT_LOCK_PATH for the real configfs root and none otherwise.
 * @param ctx context
 * @param path lock file path (created 0600 if missing) or NULL
 * @return 0, -EBUSY (lock held), -ENOMEM
 */
int rts_ctx_set_lock_path(struct rts_ctx *ctx, const char *path);

/**
 * @brief Begin a transaction: take the lock (nests; every call must be matched by
 *        rts_ctx_unlock()). Library changes take it themselves, per call.
 * @param ctx context
 * @return 0 (also when locking is disabled) or a negative errno from open/flock
 */
int rts_ctx_lock(struct rts_ctx *ctx);

/**
 * @brief End a transaction started by rts_ctx_lock().
 * @param ctx context
 * @return 0, -EINVAL if not locked
 */
int rts_ctx_unlock(struct rts_ctx *ctx);

/**
 * @brief Directory of third-party fabric spec files read at the next walk
 *        (default RTS_DEFAULT_FABRIC_SPEC_DIR for the real configfs root, none otherwise).
 * @param ctx context
 * @param dir directory or NULL
 * @return 0, -ENOMEM
 */
int rts_ctx_set_fabric_spec_dir(struct rts_ctx *ctx, const char *dir);

/**
 * @brief Drop the tree; configfs is read again as it is used. Invalidates every object pointer.
 *
 * The tree is read a level at a time, when first needed: the fabric list here, storage objects
 * at the first storage lookup or iteration, a fabric's targets and TPGs when its targets are
 * asked for, what is below a TPG (LUNs, portals, ACLs, mapped LUNs) when that TPG's are, and
 * the LUNs exporting a storage object when its LUN count is (rts_so_get_lun_count(),
 * rts_so_delete(): the TPGs the kernel lists in the device's ALUA group members, every TPG
 * where it cannot tell).
 * So a command on one object of a large configuration reads little of it.
 * @param ctx context
 * @return 0 or a negative errno from reading the fabric list
 */
int rts_ctx_refresh(struct rts_ctx *ctx);

/**
 * @brief Load a kernel module and its dependencies through libkmod.
 *
 * Never called implicitly: listing and reading never load modules or create directories.
 * @param ctx context
 * @param module module name, e.g. "target_core_mod", "iscsi_target_mod"
 * @return 0, -ENOENT (unknown module), -EPERM, other negative errno
 */
int rts_ctx_load_module(struct rts_ctx *ctx, const char *module);

/**
 * @brief Whether target_core_mod is loaded (the "target" directory exists).
 * @param ctx context
 * @return true when present
 */
bool rts_ctx_target_present(struct rts_ctx *ctx);

/**
 * @brief Read target/version.
 * @param ctx context
 * @param ret receives the version string (no trailing newline)
 * @return 0 or negative errno
 */
int rts_ctx_get_version(struct rts_ctx *ctx, char **ret);

/**
 * @brief Read target/dbroot.
 * @param ctx context
 * @param ret receives the directory
 * @return 0 or negative errno
 */
int rts_ctx_get_dbroot(struct rts_ctx *ctx, char **ret);

/**
 * @brief Write target/dbroot (the kernel refuses once devices exist).
 * @param ctx context
 * @param dir directory
 * @return 0 or negative errno
 */
int rts_ctx_set_dbroot(struct rts_ctx *ctx, const char *dir);

/**
 * @brief Delete every target and storage object (rtslib RTSRoot.clear_existing).
 * @param ctx context
 * @return 0 or the first negative errno (the walk continues past failures)
 */
int rts_ctx_clear(struct rts_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
