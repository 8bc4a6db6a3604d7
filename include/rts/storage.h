/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file storage.h
 * @brief Storage objects (backstores: fileio, block, pscsi, ramdisk, user) and their ALUA
 *        target port groups.
 *
 * Returns: functions returning int return 0 (or a count) on success and a negative errno
 * on failure, and never set errno; rts_ctx_last_error() then describes the failure.
 * Ownership: objects belong to their context and stay valid until deleted, until
 * rts_ctx_refresh() or until the context is released; strings returned through char **
 * are malloc()ed and the caller frees them; const char * results are owned by the object.
 * Threads: a context and everything reached through it is used by one thread at a time;
 * separate contexts are independent.
 */
#ifndef RTS_STORAGE_H
#define RTS_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rts_ctx;
struct rts_so;
struct rts_alua_tpg;
struct rts_lu_gp;
struct rts_lun;

/** Backstore plugins. */
enum rts_plugin {
	RTS_PLUGIN_FILEIO = 0, /**< core/fileio_N (target_core_file) */
	RTS_PLUGIN_BLOCK, /**< core/iblock_N (target_core_iblock) */
	RTS_PLUGIN_PSCSI, /**< core/pscsi_N (target_core_pscsi) */
	RTS_PLUGIN_RAMDISK, /**< core/rd_mcp_N (target_core_mod) */
	RTS_PLUGIN_USER, /**< core/user_N (target_core_user, TCMU) */
	RTS_PLUGIN_MAX,
};

/** Attribute groups addressed by the *_get_attr / *_set_attr functions. */
enum rts_group {
	RTS_GROUP_NONE = 0, /**< files in the object directory itself (enable, alias, info...) */
	RTS_GROUP_ATTRIB, /**< attrib/ */
	RTS_GROUP_PARAM, /**< param/ */
	RTS_GROUP_AUTH, /**< auth/ */
	RTS_GROUP_WWN, /**< wwn/ (storage objects) */
	RTS_GROUP_PR, /**< pr/ (storage objects, read-only) */
	RTS_GROUP_ACTION, /**< action/ (user backstores: block_dev, reset_ring; write-only) */
	RTS_GROUP_MAX,
};

/**
 * @brief Callback of the *_foreach_attr functions.
 * @param userdata caller value
 * @param name attribute name
 * @param value current value without trailing newline, NULL for write-only attributes
 * @return 0 to continue, non-zero to stop (returned by the foreach function)
 */
typedef int (*rts_attr_fn)(void *userdata, const char *name, const char *value);

/** Flags for rts_fileio_create(). */
enum rts_fileio_flags {
	RTS_FILEIO_WRITE_BACK = 1u << 0, /**< buffered I/O, emulate_write_cache=1 */
	RTS_FILEIO_SPARSE = 1u << 1, /**< create the backing file sparse (else fallocate) */
};

/** Flags for rts_block_create(). */
enum rts_block_flags {
	RTS_BLOCK_READONLY = 1u << 0, /**< readonly=1 */
	RTS_BLOCK_EXCLUSIVE = 1u << 1, /**< fail with -EBUSY if another object uses the device */
};

/** Flags for rts_ramdisk_create(). */
enum rts_ramdisk_flags {
	RTS_RAMDISK_NULLIO = 1u << 0, /**< rd_nullio=1: no memory, reads return zeroes */
};

/** Configuration of a user (TCMU) backstore; zero fields keep kernel defaults. */
struct rts_user_config {
	const char *cfgstring; /**< handler config, "<subtype>/<handler cfg>" (required) */
	uint64_t size; /**< dev_size in bytes (required) */
	uint32_t max_data_area_mb; /**< data area size */
	uint32_t hw_max_sectors; /**< largest command in blocks */
	uint32_t hw_block_size; /**< logical block size */
	int nl_reply_supported; /**< -1 kernel default, 0 or 1 */
	const char *control; /**< extra "key=value[,key=value]" control options */
};

/**
 * @brief First storage object (walks configfs on first use).
 * @param ctx context
 * @return object or NULL
 */
struct rts_so *rts_so_first(struct rts_ctx *ctx);
/**
 * @brief Next storage object.
 * @param so current
 * @return object or NULL
 */
struct rts_so *rts_so_next(struct rts_so *so);
/** Iterate over every storage object of @p ctx. */
#define rts_for_each_storage_object(ctx, so) for (so = rts_so_first(ctx); so; so = rts_so_next(so))

/**
 * @brief Find a storage object by plugin and name.
 * @param ctx context
 * @param plugin plugin
 * @param name object name
 * @param ret receives the object
 * @return 0, -ENOENT, -EINVAL
 */
int rts_so_lookup(struct rts_ctx *ctx, enum rts_plugin plugin, const char *name,
		  struct rts_so **ret);

/**
 * @brief Create and enable a fileio backstore.
 * @param ctx context
 * @param name object name
 * @param path backing file or block device; created with @p size when missing
 * @param size size in bytes (0: size of the existing file)
 * @param flags enum rts_fileio_flags
 * @param ret receives the object (may be NULL)
 * @return 0, -EEXIST, -EINVAL (name, size), -ENOENT, negative errno from the kernel
 */
int rts_fileio_create(struct rts_ctx *ctx, const char *name, const char *path, uint64_t size,
		      unsigned int flags, struct rts_so **ret);

/**
 * @brief Create and enable a block (iblock) backstore.
 * @param ctx context
 * @param name object name
 * @param dev block device path
 * @param flags enum rts_block_flags
 * @param ret receives the object (may be NULL)
 * @return 0, -EEXIST, -EBUSY (exclusive), -EINVAL, negative errno from the kernel
 */
int rts_block_create(struct rts_ctx *ctx, const char *name, const char *dev, unsigned int flags,
		     struct rts_so **ret);

/**
 * @brief Create and enable a pscsi backstore.
 * @param ctx context
 * @param name object name
 * @param dev SCSI device: "H:C:T:L" or a /dev path
 * @param ret receives the object (may be NULL)
 * @return 0, -EEXIST, -EINVAL, negative errno from the kernel
 */
int rts_pscsi_create(struct rts_ctx *ctx, const char *name, const char *dev, struct rts_so **ret);

/**
 * @brief Create and enable a ramdisk (rd_mcp) backstore.
 * @param ctx context
 * @param name object name
 * @param size size in bytes (rounded up to pages, > 0)
 * @param flags enum rts_ramdisk_flags
 * @param ret receives the object (may be NULL)
 * @return 0, -EEXIST, -EINVAL
 */
int rts_ramdisk_create(struct rts_ctx *ctx, const char *name, uint64_t size, unsigned int flags,
		       struct rts_so **ret);

/**
 * @brief Create and enable a user (TCMU) backstore.
 * @param ctx context
 * @param name object name
 * @param cfg configuration
 * @param ret receives the object (may be NULL)
 * @return 0, -EEXIST, -EINVAL
 */
int rts_user_create(struct rts_ctx *ctx, const char *name, const struct rts_user_config *cfg,
		    struct rts_so **ret);

/**
 * @brief Delete a storage object, the LUNs exporting it first (rtslib semantics).
 * @param so object; invalid after success
 * @return 0 or negative errno
 */
int rts_so_delete(struct rts_so *so);

/** @brief Name. @param so object @return name */
const char *rts_so_get_name(const struct rts_so *so);
/** @brief Plugin. @param so object @return plugin */
enum rts_plugin rts_so_get_plugin(const struct rts_so *so);
/** @brief HBA index (N of core/plugin_N). @param so object @return index */
uint32_t rts_so_get_hba_index(const struct rts_so *so);
/** @brief configfs path relative to the root. @param so object @return path */
const char *rts_so_get_path(const struct rts_so *so);
/** @brief Owning context. @param so object @return context */
struct rts_ctx *rts_so_get_ctx(const struct rts_so *so);

/**
 * @brief Plugin name as used by configfs ("fileio", "iblock", "pscsi", "rd_mcp", "user").
 * @param plugin plugin
 * @return static string or NULL
 */
const char *rts_plugin_name(enum rts_plugin plugin);
/**
 * @brief Parse a plugin name; accepts configfs names and rtslib aliases ("block", "ramdisk").
 * @param name name
 * @param ret receives the plugin
 * @return 0 or -EINVAL
 */
int rts_plugin_from_name(const char *name, enum rts_plugin *ret);

/**
 * @brief Read an attribute of a storage object. wwn/vpd_unit_serial is returned without
 *        the kernel's "T10 VPD Unit Serial Number: " prefix; trailing newlines are removed.
 * @param so object
 * @param group group
 * @param name attribute name (one path component)
 * @param ret receives the value
 * @return 0, -ENOENT, -EACCES (write-only), -EINVAL (name)
 */
int rts_so_get_attr(struct rts_so *so, enum rts_group group, const char *name, char **ret);
/**
 * @brief Write an attribute of a storage object.
 * @param so object
 * @param group group
 * @param name attribute name
 * @param value value
 * @return 0, -ENOENT, -EACCES (read-only), -EINVAL (rejected value)
 */
int rts_so_set_attr(struct rts_so *so, enum rts_group group, const char *name, const char *value);

/**
 * @brief Call @p fn for every attribute of a group (saveconfig dumps use this).
 * @param so object
 * @param group group (NONE lists the files of the object directory)
 * @param fn callback
 * @param userdata for @p fn
 * @return 0, the callback's non-zero value, or negative errno
 */
int rts_so_foreach_attr(struct rts_so *so, enum rts_group group, rts_attr_fn fn, void *userdata);

/** @brief Whether the device is enabled (configured). @param so object @return bool */
bool rts_so_is_enabled(struct rts_so *so);
/**
 * @brief udev_path of the object (backing file or device).
 * @param so object @param ret receives the path ("" when unset)
 * @return 0 or negative errno
 */
int rts_so_get_udev_path(struct rts_so *so, char **ret);
/**
 * @brief Unit serial (wwn/vpd_unit_serial).
 * @param so object @param ret receives the serial
 * @return 0 or negative errno
 */
int rts_so_get_wwn(struct rts_so *so, char **ret);
/**
 * @brief Set the unit serial.
 * @param so object @param serial serial (printable, <= 254 bytes)
 * @return 0 or negative errno
 */
int rts_so_set_wwn(struct rts_so *so, const char *serial);
/**
 * @brief Size in bytes as configured (fd_dev_size, rd pages, dev_size), of the block device
 *        (real configfs only), or 0 when unknown.
 * @param so object
 * @param ret receives the size
 * @return 0 or negative errno
 */
int rts_so_get_size(struct rts_so *so, uint64_t *ret);
/**
 * @brief Number of LUNs in the tree exporting this object.
 * @param so object
 * @return count
 */
unsigned int rts_so_get_lun_count(struct rts_so *so);

/**
 * @brief First ALUA target port group of a storage object (default_tg_pt_gp included).
 * @param so object
 * @return group or NULL
 */
struct rts_alua_tpg *rts_alua_tpg_first(struct rts_so *so);
/** @brief Next ALUA group. @param gp current @return group or NULL */
struct rts_alua_tpg *rts_alua_tpg_next(struct rts_alua_tpg *gp);
/** Iterate over the ALUA target port groups of @p so. */
#define rts_for_each_alua_tpg(so, gp) \
	for (gp = rts_alua_tpg_first(so); gp; gp = rts_alua_tpg_next(gp))

/**
 * @brief Create an ALUA target port group.
 * @param so object
 * @param name group name
 * @param id tg_pt_gp_id (1..65535)
 * @param ret receives the group (may be NULL)
 * @return 0, -EEXIST, -EINVAL
 */
int rts_alua_tpg_create(struct rts_so *so, const char *name, uint16_t id,
			struct rts_alua_tpg **ret);
/**
 * @brief Find an ALUA group by name.
 * @param so object @param name group name @param ret receives the group
 * @return 0 or -ENOENT
 */
int rts_alua_tpg_lookup(struct rts_so *so, const char *name, struct rts_alua_tpg **ret);
/**
 * @brief Delete an ALUA group (-EPERM for default_tg_pt_gp).
 * @param gp group; invalid after success
 * @return 0 or negative errno
 */
int rts_alua_tpg_delete(struct rts_alua_tpg *gp);
/** @brief Group name. @param gp group @return name */
const char *rts_alua_tpg_get_name(const struct rts_alua_tpg *gp);
/** @brief Owning storage object. @param gp group @return object */
struct rts_so *rts_alua_tpg_get_so(const struct rts_alua_tpg *gp);
/**
 * @brief Read an attribute of the group (alua_access_state, preferred, tg_pt_gp_id...).
 * @param gp group @param name attribute @param ret receives the value
 * @return 0 or negative errno
 */
int rts_alua_tpg_get_attr(struct rts_alua_tpg *gp, const char *name, char **ret);
/**
 * @brief Call @p fn for every attribute of the group.
 * @param gp group @param fn callback @param userdata for @p fn
 * @return 0, the callback's non-zero value, or negative errno
 */
int rts_alua_tpg_foreach_attr(struct rts_alua_tpg *gp, rts_attr_fn fn, void *userdata);
/**
 * @brief Write an attribute of the group.
 * @param gp group @param name attribute @param value value
 * @return 0 or negative errno
 */
int rts_alua_tpg_set_attr(struct rts_alua_tpg *gp, const char *name, const char *value);

/* ---------------------------------------------------------------- ALUA LU groups */

/**
 * @brief First ALUA logical unit group (core/alua/lu_gps; default_lu_gp included).
 * @param ctx context
 * @return group or NULL
 */
struct rts_lu_gp *rts_lu_gp_first(struct rts_ctx *ctx);
/** @brief Next LU group. @param gp current @return group or NULL */
struct rts_lu_gp *rts_lu_gp_next(struct rts_lu_gp *gp);
/** Iterate over the ALUA LU groups of @p ctx. */
#define rts_for_each_lu_gp(ctx, gp) for (gp = rts_lu_gp_first(ctx); gp; gp = rts_lu_gp_next(gp))
/**
 * @brief Create an ALUA LU group.
 * @param ctx context @param name group name @param id lu_gp_id (1..65535)
 * @param ret receives the group (may be NULL)
 * @return 0, -EEXIST, -EINVAL
 */
int rts_lu_gp_create(struct rts_ctx *ctx, const char *name, uint16_t id, struct rts_lu_gp **ret);
/**
 * @brief Find an LU group.
 * @param ctx context @param name group name @param ret receives the group
 * @return 0, -ENOENT, -EINVAL
 */
int rts_lu_gp_lookup(struct rts_ctx *ctx, const char *name, struct rts_lu_gp **ret);
/**
 * @brief Delete an LU group (-EPERM for default_lu_gp).
 * @param gp group; invalid after success
 * @return 0 or negative errno
 */
int rts_lu_gp_delete(struct rts_lu_gp *gp);
/** @brief Group name. @param gp group @return name */
const char *rts_lu_gp_get_name(const struct rts_lu_gp *gp);
/**
 * @brief Read an attribute (lu_gp_id, members).
 * @param gp group @param name attribute @param ret receives the value
 * @return 0 or negative errno
 */
int rts_lu_gp_get_attr(struct rts_lu_gp *gp, const char *name, char **ret);
/**
 * @brief Write an attribute.
 * @param gp group @param name attribute @param value value
 * @return 0 or negative errno
 */
int rts_lu_gp_set_attr(struct rts_lu_gp *gp, const char *name, const char *value);
/**
 * @brief LU group of a storage object (alua_lu_gp).
 * @param so object @param ret receives the group name
 * @return 0 or negative errno
 */
int rts_so_get_lu_gp(struct rts_so *so, char **ret);
/**
 * @brief Move a storage object into LU group @p name.
 * @param so object @param name group name
 * @return 0, -EINVAL (no such group), negative errno
 */
int rts_so_set_lu_gp(struct rts_so *so, const char *name);

/** Objects whose attributes rts_attr_check() knows. */
enum rts_attr_obj {
	RTS_ATTR_SO, /**< storage object attrib/ */
	RTS_ATTR_ISCSI_TPG, /**< iSCSI TPG attrib/ */
	RTS_ATTR_ISCSI_ACL, /**< iSCSI node ACL attrib/ */
};
/**
 * @brief Check @p value against the domain the kernel enforces for attribute @p name
 * (e.g. block_size 512/1024/2048/4096, queue_depth >= 1, login_timeout 5..30). One table
 * for the emulated backend and the tools; unknown names pass (the kernel decides).
 * Conditions on the live device (hw_queue_depth, exported) are not checked here.
 * @param kind object kind @param name attribute @param value text to write
 * @param why receives the reason (may be NULL) @param size its size
 * @return 0, -EINVAL (not a number), -ERANGE (outside the domain)
 */
int rts_attr_check(enum rts_attr_obj kind, const char *name, const char *value, char *why,
		   size_t size);

#ifdef __cplusplus
}
#endif

#endif
