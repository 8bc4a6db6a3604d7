/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file uio.h
 * @brief Finding and opening the kernel's TCMU devices (UIO + configfs).
 *
 * Each enabled user backstore appears as /dev/uioN whose sysfs name is
 * "tcm-user/<hba>/<device>/<cfgstring>"; its one map (map0) holds mailbox, command ring and
 * data area. Its settings live in configfs under target/core/user_HBA/DEVICE/.
 * All paths are rooted at caller-given directories so tests can use fake trees.
 *
 * Returns: 0 or a negative errno, never errno. Ownership: results are written to caller
 * structures; rts_tcmu_scan() returns a malloc()ed array the caller frees; a device from
 * rts_dev_new_uio() is released with rts_dev_free(). Threads: reentrant; device lifecycle
 * calls follow device.h (one control thread).
 */
#ifndef RTS_UIO_H
#define RTS_UIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rts/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A TCMU device as UIO describes it. */
struct rts_tcmu_info {
	unsigned int minor;     /**< N of /dev/uioN */
	char uio_name[400];     /**< "tcm-user/<hba>/<device>[/<cfgstring>]" */
	unsigned int hba;       /**< N of configfs core/user_N */
	char dev_name[128];     /**< configfs device directory name */
	char cfgstring[257];    /**< dev_config: "<subtype>/<handler config>" (may be empty) */
	uint64_t map_size;      /**< bytes of map0 (mmap must use exactly this) */
};

/**
 * attrib/hw_max_sectors of a TCMU device nobody configured: the kernel sets 128 when the
 * control string has no hw_max_sectors=. rts-runner treats exactly this value as "not set".
 */
#define RTS_TCMU_DEFAULT_MAX_SECTORS 128u

/** Settings of a TCMU device read from configfs (zero when a file is missing). */
struct rts_tcmu_attrs {
	uint32_t block_size;    /**< attrib/hw_block_size */
	uint32_t max_sectors;   /**< attrib/hw_max_sectors */
	uint64_t size;          /**< attrib/dev_size */
	bool write_cache;       /**< attrib/emulate_write_cache */
	char serial[64];        /**< wwn/vpd_unit_serial */
};

/**
 * @brief Parse a UIO name "tcm-user/<hba>/<device>[/<cfgstring>]".
 * @return 0, or -EINVAL when it is not a TCMU name (other UIO drivers) or malformed
 * @param name the UIO name from sysfs
 * @param ret filled on success (minor and map_size are left alone)
 */
int rts_tcmu_parse_uio_name(const char *name, struct rts_tcmu_info *ret);

/**
 * @brief Describe /dev/uioN from sysfs (name and map0 size).
 * @param sysfs the sysfs mount ("/sys")
 * @param minor UIO minor number
 * @param ret filled on success
 * @return 0, -ENOENT, -EINVAL (not a TCMU device)
 */
int rts_tcmu_info_from_sysfs(const char *sysfs, unsigned int minor, struct rts_tcmu_info *ret);

/**
 * @brief List every TCMU device present (sysfs class/uio).
 * @param sysfs the sysfs mount
 * @param ret malloc'd array (free() it), NULL when none
 * @param ret_count number of entries
 * @return 0 or -errno
 */
int rts_tcmu_scan(const char *sysfs, struct rts_tcmu_info **ret, size_t *ret_count);

/**
 * @brief The configfs path of a device, or of a file in its directory: the one place the
 *        "target/core/user_HBA/DEVICE" layout is written.
 * @param configfs the configfs mount ("/sys/kernel/config")
 * @param info the device
 * @param file a path inside the device directory ("wwn/vpd_unit_serial"), or NULL for the
 *        directory itself
 * @param buf receives the path
 * @param len size of @p buf
 * @return 0, -ENAMETOOLONG when it does not fit (@p buf then holds a truncated path)
 */
int rts_tcmu_dev_path(const char *configfs, const struct rts_tcmu_info *info, const char *file,
		      char *buf, size_t len);

/**
 * @brief Read a device's settings from configfs.
 * @param configfs the configfs mount ("/sys/kernel/config")
 * @param info the device
 * @param ret filled on success
 * @return 0, -ENOENT when the device directory does not exist
 */
int rts_tcmu_read_attrs(const char *configfs, const struct rts_tcmu_info *info,
			struct rts_tcmu_attrs *ret);

/**
 * @brief Write a device action (action/block_dev, action/reset_ring, action/free_kept_buf).
 * @return 0, -ENOENT when the kernel lacks the action, or the write's -errno
 * @param configfs the configfs mount
 * @param info the device
 * @param action action file name, e.g. "block_dev"
 * @param value what to write, e.g. "1"
 */
int rts_tcmu_action(const char *configfs, const struct rts_tcmu_info *info, const char *action,
		    const char *value);

/**
 * @brief Write a device attribute (attrib/NAME), e.g. tmr_notification.
 * @return 0, -ENOENT when the kernel lacks the attribute, or the write's -errno
 * @param configfs the configfs mount
 * @param info the device
 * @param name attribute name
 * @param value what to write
 */
int rts_tcmu_set_attrib(const char *configfs, const struct rts_tcmu_info *info, const char *name,
			const char *value);

/**
 * @brief Serve the ALUA target port groups configfs defines for the device
 *        (target/core/user_N/DEVICE/alua/GROUP): REPORT TARGET PORT GROUPS answers from
 *        them (groups with members, their LUNs' relative port ids), SET TARGET PORT GROUPS
 *        writes alua_access_state there (the kernel enforces it per command), INQUIRY
 *        reports TPGS from alua_access_type and VPD 83h the target port designators where
 *        the arrival port is known (see tcmu/alua_cfs.c: TCMU does not say which port a
 *        command came in on). The groups are read now and again on the I/O thread for every
 *        INQUIRY, RTPG and STPG. Before rts_dev_start().
 * @param configfs the configfs mount ("/sys/kernel/config")
 * @param info the device
 * @param dev the device created for @p info
 * @return the number of groups with members (0: none yet, TPGS 0 until LUNs join one),
 *         -ENOENT when the device has no alua directory, -errno
 */
int rts_tcmu_use_alua(const char *configfs, const struct rts_tcmu_info *info, struct rts_dev *dev);

/**
 * @brief Create a device on a real UIO node: open it (O_NONBLOCK), map exactly
 *        @p map_size bytes and check the mailbox.
 * @param cfg device configuration (name, cfgstring, geometry from rts_tcmu_read_attrs())
 * @param handler handler descriptor
 * @param devnode e.g. "/dev/uio0"
 * @param map_size map0 size from sysfs
 * @param ret the device
 * @return 0, -EBUSY (another process has it open), -EPROTO/-ENOTSUP (mailbox), -errno
 */
int rts_dev_new_uio(const struct rts_dev_config *cfg, const struct rts_handler *handler,
		    const char *devnode, uint64_t map_size, struct rts_dev **ret);


#ifdef __cplusplus
}
#endif

#endif
