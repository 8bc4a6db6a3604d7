/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file tcmu.h
 * @brief Device and command API of librts-tcmu, used by rts-runner and by handler plugins.
 *
 * A struct rts_dev is one TCMU device (a real UIO device or a simulated one); a struct
 * rts_cmd is one SCSI command taken from its command ring. Both are opaque. Everything
 * here except the functions marked "any thread" must be called on the device's I/O
 * thread, which is the thread that calls the handler's block operations.
 *
 * Error convention: functions returning int return 0 (or a count) on success and a
 * negative errno on failure; they never set errno.
 *
 * Ownership: devices and commands belong to the core; strings and buffers they return
 * live as long as the device (or until the command completes); the handler owns what it
 * hangs on them (rts_dev_set_private()) and frees it in close().
 */
#ifndef RTS_TCMU_H
#define RTS_TCMU_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <rts/log.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rts_dev;
struct rts_cmd;
struct io_uring;
struct io_uring_sqe;

/** SAM status codes a command can complete with. */
enum rts_sam_status {
	RTS_SAM_GOOD = 0x00,
	RTS_SAM_CHECK_CONDITION = 0x02,
	RTS_SAM_CONDITION_MET = 0x04,
	RTS_SAM_BUSY = 0x08,
	RTS_SAM_RESERVATION_CONFLICT = 0x18,
	RTS_SAM_TASK_SET_FULL = 0x28,
	RTS_SAM_ACA_ACTIVE = 0x30,
	RTS_SAM_TASK_ABORTED = 0x40,
};

/** SPC-4 sense keys. */
enum rts_sense_key {
	RTS_SENSE_NO_SENSE = 0x0,
	RTS_SENSE_RECOVERED_ERROR = 0x1,
	RTS_SENSE_NOT_READY = 0x2,
	RTS_SENSE_MEDIUM_ERROR = 0x3,
	RTS_SENSE_HARDWARE_ERROR = 0x4,
	RTS_SENSE_ILLEGAL_REQUEST = 0x5,
	RTS_SENSE_UNIT_ATTENTION = 0x6,
	RTS_SENSE_DATA_PROTECT = 0x7,
	RTS_SENSE_BLANK_CHECK = 0x8,
	RTS_SENSE_COPY_ABORTED = 0xa,
	RTS_SENSE_ABORTED_COMMAND = 0xb,
	RTS_SENSE_VOLUME_OVERFLOW = 0xd,
	RTS_SENSE_MISCOMPARE = 0xe,
};

/** Flags passed to the handler's write and write_same operations. */
enum rts_io_flags {
	RTS_IO_FUA = 1u << 0,   /**< force unit access: data must be durable on completion */
	RTS_IO_UNMAP = 1u << 1, /**< write_same: the range may be deallocated (pattern is zero) */
};

/* ---------------------------------------------------------------- commands */

/**
 * @brief The CDB bytes (stable until the command completes).
 * @param cmd the command
 * @return the CDB, owned by the command, valid until it completes. I/O thread.
 */
const uint8_t *rts_cmd_get_cdb(const struct rts_cmd *cmd);
/**
 * @brief Length of the CDB in bytes (6..260).
 * @param cmd the command
 * @return the CDB length in bytes. I/O thread.
 */
unsigned int rts_cmd_get_cdb_len(const struct rts_cmd *cmd);
/**
 * @brief The command's data buffer as iovecs into the shared data area.
 * @param cmd the command
 * @param ret_cnt set to the number of iovecs
 * @return the iovec array, owned by the command (do not modify)
 */
const struct iovec *rts_cmd_get_iov(const struct rts_cmd *cmd, unsigned int *ret_cnt);
/**
 * @brief Total bytes described by rts_cmd_get_iov().
 * @param cmd the command
 * @return bytes of the data buffer (0 for commands without data). I/O thread.
 */
uint64_t rts_cmd_get_data_len(const struct rts_cmd *cmd);
/**
 * @brief The kernel's command id (1..65535).
 * @param cmd the command
 * @return the command id. I/O thread.
 */
uint16_t rts_cmd_get_id(const struct rts_cmd *cmd);
/**
 * @brief The device the command belongs to.
 * @param cmd the command
 * @return the device (not owned by the caller). Any thread while the command is outstanding.
 */
struct rts_dev *rts_cmd_get_dev(const struct rts_cmd *cmd);
/**
 * @brief Per-command scratch area of rts_handler.cmd_private_size bytes.
 *
 * Pre-allocated with the command slot (never malloc'd per command); its content is
 * undefined when the handler first sees a command.
 * @param cmd the command
 * @return the scratch area, owned by the command slot (NULL when cmd_private_size is 0). I/O thread.
 */
void *rts_cmd_get_private(const struct rts_cmd *cmd);
/**
 * @brief True once a TMR (ABORT TASK, LUN RESET, ...) named this command.
 *
 * The core has then cancelled the command's SQEs that came from rts_dev_get_sqe() (their
 * io_done sees -ECANCELED unless they already finished) and runs no further step when
 * the handler completes it; the kernel ignores the status. A handler doing long work of
 * its own (retries, a network round trip) should check this and complete early. TMRs
 * only arrive when the device's attrib/tmr_notification is 1 (rts-runner sets it).
 * @param cmd the command
 * @return true when a TMR aborted the command. I/O thread.
 */
bool rts_cmd_is_aborted(const struct rts_cmd *cmd);

/**
 * @brief Complete a handler operation.
 *
 * @param cmd the command whose operation finished
 * @param err 0 on success or a negative errno, which is turned into SCSI status and sense
 *            data through one table: -EIO/-EBADMSG MEDIUM ERROR, -ENOSPC/-EDQUOT SPACE
 *            ALLOCATION FAILED WRITE PROTECT, -EROFS/-EPERM/-EACCES DATA PROTECT, -ENOMEM/-EAGAIN
 *            TASK SET FULL, -EBUSY BUSY, -EINVAL/-ERANGE INVALID FIELD IN CDB, -ENOTSUP
 *            INVALID COMMAND OPERATION CODE, anything else HARDWARE ERROR.
 *
 * Call exactly once per operation the core started, on the device's I/O thread.
 */
void rts_cmd_complete(struct rts_cmd *cmd, int err);
/**
 * @brief Complete with CHECK CONDITION and the given fixed-format sense. I/O thread only.
 * @param cmd the command
 * @param key sense key (enum rts_sense_key)
 * @param asc additional sense code
 * @param ascq additional sense code qualifier
 */
void rts_cmd_complete_sense(struct rts_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq);
/**
 * @brief Complete with CHECK CONDITION, fixed-format sense and the INFORMATION field set to
 *        @p info (VALID set; a value above 32 bits leaves it clear), e.g. the offset of the
 *        first differing byte of a MISCOMPARE. I/O thread only.
 * @param cmd the command
 * @param key sense key (enum rts_sense_key)
 * @param asc additional sense code
 * @param ascq additional sense code qualifier
 * @param info the INFORMATION field
 */
void rts_cmd_complete_sense_info(struct rts_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq,
				 uint64_t info);
/**
 * @brief Complete with a SAM status and no sense (e.g. RTS_SAM_BUSY). I/O thread only.
 * @param cmd the command
 * @param status SAM status (enum rts_sam_status)
 */
void rts_cmd_complete_status(struct rts_cmd *cmd, uint8_t status);
/**
 * @brief rts_cmd_complete() from any thread (library callbacks such as librbd's).
 *
 * The completion is queued lock-free and the device's I/O thread is woken through an
 * eventfd it watches on its io_uring; it then completes the command exactly as
 * rts_cmd_complete() would. Any thread.
 * @param cmd the command whose operation finished
 * @param err 0 or a negative errno, mapped as by rts_cmd_complete()
 */
void rts_cmd_complete_async(struct rts_cmd *cmd, int err);

/**
 * @brief For a handler that wraps another (handlers/errinj): the next rts_cmd_complete() or
 *        rts_cmd_complete_async() of the current operation calls @p fn(cmd, err) instead.
 *
 * @p fn runs on the I/O thread with the operation still outstanding and must complete it
 * (rts_cmd_complete*() with any result, now or later). rts_cmd_complete_sense() and
 * rts_cmd_complete_status() are not intercepted. Set it before passing the operation on.
 * I/O thread only.
 * @param cmd the command of the current operation
 * @param fn called once with the command and the error it was completed with
 */
void rts_cmd_intercept(struct rts_cmd *cmd, void (*fn)(struct rts_cmd *cmd, int err));

/**
 * @brief Run blocking work off the I/O thread: @p fn(dev, cmd, arg) runs on one of the
 *        device's worker threads and its return value (0 or -errno) completes @p cmd, as
 *        rts_cmd_complete_async() would.
 *
 * For handlers built on blocking calls (a synchronous library): the operation calls this and
 * returns 0. Workers start on first use: 4 per device, or the handler option
 * "offload_threads" (runner.conf [handler.SUBTYPE], 1..64). @p fn may use the command's
 * iovecs and private area and must not call rts_cmd_complete*() itself. rts_dev_stop()
 * ends the pool after the I/O thread; work still running then is bounded by the stop like any
 * operation (see rts_dev_stop()). I/O thread only.
 *
 * @param cmd the command of the current operation
 * @param fn the blocking work; returns 0 or -errno
 * @param arg passed to @p fn
 * @return 0, or -ENOMEM / -EAGAIN when no worker could be started (fail the operation)
 */
int rts_cmd_offload(struct rts_cmd *cmd,
		    int (*fn)(struct rts_dev *dev, struct rts_cmd *cmd, void *arg), void *arg);

/* ----------------------------------------------------------------- devices */

/**
 * @brief Device name (the configfs directory name, or the simulator's name).
 * @param dev the device
 * @return the name, owned by the device (valid for its lifetime). Any thread.
 */
const char *rts_dev_get_name(const struct rts_dev *dev);
/**
 * @brief Handler part of the cfgstring, i.e. what follows "<subtype>/".
 * @param dev the device
 * @return the handler cfgstring, owned by the device; it changes only through a reconfig. Control or I/O thread.
 */
const char *rts_dev_get_cfgstring(const struct rts_dev *dev);
/**
 * @brief For a handler that wraps another: from now on rts_dev_get_cfgstring() returns
 *        @p inner, which must point into the handler's part of the device's cfgstring (the
 *        wrapped handler's part, e.g. "path" of "rules/file/path"; the start of it restores
 *        the original). Control thread, in open().
 * @param dev the device
 * @param inner where the wrapped handler's part starts, inside the handler's cfgstring
 * @return 0, or -EINVAL when @p inner is not inside the handler's part of the cfgstring
 */
int rts_dev_wrap_cfgstring(struct rts_dev *dev, const char *inner);
/**
 * @brief Logical block size in bytes.
 * @param dev the device
 * @return the logical block size. Any thread.
 */
uint32_t rts_dev_get_block_size(const struct rts_dev *dev);
/**
 * @brief Number of logical blocks.
 * @param dev the device
 * @return the number of logical blocks. Control or I/O thread.
 */
uint64_t rts_dev_get_num_lbas(const struct rts_dev *dev);
/**
 * @brief Change the device size (open, reconfig). A change while the device serves
 *        commands raises the CAPACITY DATA HAS CHANGED unit attention.
 * @param dev the device
 * @param num_lbas new number of logical blocks
 */
void rts_dev_set_num_lbas(struct rts_dev *dev, uint64_t num_lbas);
/**
 * @brief Size in bytes requested by the kernel (dev_size) or simulator, 0 if unknown.
 * @param dev the device
 * @return dev_size in bytes, or 0. Any thread.
 */
uint64_t rts_dev_get_size(const struct rts_dev *dev);
/**
 * @brief Maximum transfer length per command, in blocks: what Block Limits advertises and
 *        the core enforces (the data area, the handler's limit, an explicit hw_max_sectors).
 * @param dev the device
 * @return the largest transfer in blocks. Any thread.
 */
uint32_t rts_dev_get_max_xfer_blocks(const struct rts_dev *dev);
/**
 * @brief State the largest transfer, in blocks, the handler serves in one command (call in
 *        open()); 0 removes the handler's limit. The device advertises the smaller of this
 *        and what the data area allows. Since librts-tcmu 0.2.
 * @param dev the device
 * @param blocks the handler's limit in blocks, 0 for none. Control thread, in open().
 */
void rts_dev_set_max_xfer_blocks(struct rts_dev *dev, uint32_t blocks);
/**
 * @brief Whether the volatile write cache is enabled (MODE page 08h WCE).
 * @param dev the device
 * @return true when WCE is set. Control or I/O thread.
 */
bool rts_dev_get_write_cache(const struct rts_dev *dev);
/**
 * @brief Set the write cache state reported to initiators.
 * @param dev the device
 * @param enabled new WCE state (open or reconfig)
 */
void rts_dev_set_write_cache(struct rts_dev *dev, bool enabled);
/**
 * @brief Report the medium as write protected (writes fail with DATA PROTECT).
 * @param dev the device
 * @param ro true to refuse writes (open)
 */
void rts_dev_set_read_only(struct rts_dev *dev, bool ro);
/**
 * @brief Enable thin provisioning (LBPME, UNMAP, WRITE SAME with UNMAP).
 * @param dev the device
 * @param enabled whether unmap is supported (the handler must then implement unmap)
 * @param opt_gran_blocks optimal unmap granularity in blocks (0: 1)
 */
void rts_dev_set_thin_provisioning(struct rts_dev *dev, bool enabled, uint32_t opt_gran_blocks);
/**
 * @brief Report the medium as non-rotational (VPD B1h).
 * @param dev the device
 * @param solid_state true for non-rotational media (open)
 */
void rts_dev_set_solid_state(struct rts_dev *dev, bool solid_state);
/**
 * @brief A handler option set by the operator, or NULL.
 *
 * rts-runner passes the `[handler.<subtype>]` group of its config file
 * (/etc/rts/runner.conf) as it was when the device was attached; a SIGHUP reload applies
 * to devices attached afterwards. Use it for site-wide settings (a default pool, a cache
 * size); per-device settings belong in the cfgstring. Any thread, valid for the device's
 * lifetime.
 * @param dev the device
 * @param key option name
 * @return the value, owned by the device, or NULL when the operator did not set it
 */
const char *rts_dev_get_option(const struct rts_dev *dev, const char *key);
/**
 * @brief Handler-owned per-device pointer.
 * @param dev the device
 * @return the pointer set with rts_dev_set_private(), owned by the handler. Any thread.
 */
void *rts_dev_get_private(const struct rts_dev *dev);
/**
 * @brief Set the handler-owned per-device pointer.
 * @param dev the device
 * @param priv handler-owned pointer (the core never dereferences or frees it); set it in open()
 */
void rts_dev_set_private(struct rts_dev *dev, void *priv);

/**
 * @brief The device's io_uring, owned by its I/O thread.
 *
 * Handlers may register files on it; SQEs must come from rts_dev_get_sqe().
 * @param dev the device
 * @return the io_uring, owned by the device; use it only on the I/O thread
 */
struct io_uring *rts_dev_get_uring(struct rts_dev *dev);
/**
 * @brief Get an SQE on the device's ring for I/O on behalf of @p cmd.
 *
 * When the submission queue is full it is submitted first, so this returns NULL only when
 * the io_uring is unusable (the handler then fails the operation with -EBUSY). The SQE
 * is tagged so that its CQE is delivered to the handler's io_done(dev, cmd, tag, res).
 * The core submits once per batch; handlers never call io_uring_submit().
 *
 * @param dev the device
 * @param cmd the command the I/O is for
 * @param tag a handler-chosen value passed back to io_done
 * @return an SQE to fill (owned by the ring, submitted by the core), or NULL when the ring is unusable. I/O thread.
 */
struct io_uring_sqe *rts_dev_get_sqe(struct rts_dev *dev, struct rts_cmd *cmd, uint16_t tag);

/**
 * @brief Log through the sink the device was created with, prefixed with its name. Any thread.
 * @param dev the device (NULL: no name prefix)
 * @param prio an enum rts_log_prio value
 * @param fmt printf format and its arguments
 */
void rts_dev_log(const struct rts_dev *dev, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------- ALUA */

/** Asymmetric access states (SPC-4 table 166). */
enum rts_alua_state {
	RTS_ALUA_ACTIVE_OPTIMIZED = 0x0,
	RTS_ALUA_ACTIVE_NON_OPTIMIZED = 0x1,
	RTS_ALUA_STANDBY = 0x2,
	RTS_ALUA_UNAVAILABLE = 0x3,
	RTS_ALUA_OFFLINE = 0xe,
	RTS_ALUA_TRANSITIONING = 0xf,
};

/** Most target port groups rts_dev_set_alua() accepts. */
#define RTS_ALUA_MAX_GROUPS 16
/** Most relative port ids per group. */
#define RTS_ALUA_MAX_PORTS  16

/** One target port group of a device (as a configfs ALUA group directory describes it). */
struct rts_alua_group {
	uint16_t id;        /**< tg_pt_gp_id */
	uint8_t state;      /**< enum rts_alua_state */
	uint8_t supported;  /**< RTPG SUPPORTED bits (T_SUP 0x80 .. AO_SUP 0x01); 0: AO, AN, S, U, T */
	bool preferred;     /**< PREF bit */
	uint8_t nports;     /**< entries in rel_port_ids */
	uint16_t rel_port_ids[RTS_ALUA_MAX_PORTS]; /**< relative target port identifiers */
};

/** One transition SET TARGET PORT GROUPS asks for (validated against the groups). */
struct rts_alua_change {
	uint16_t id;   /**< target port group */
	uint8_t state; /**< active/optimized, active/non-optimized, standby or unavailable */
};

/**
 * @brief Give the device target port groups: REPORT TARGET PORT GROUPS is then answered
 *        from them, SET TARGET PORT GROUPS changes them (through the handler's set_alua
 *        when it has one), and INQUIRY reports TPGS.
 * @param dev the device
 * @param tpgs 1 implicit, 2 explicit, 3 both (0 or @p n == 0: no ALUA)
 * @param groups @p n groups (at most RTS_ALUA_MAX_GROUPS), copied
 * @param n number of groups
 * @return 0, -EINVAL (too many groups or ports, duplicate ids), -ENOMEM.
 * Before rts_dev_start() or on the I/O thread.
 */
int rts_dev_set_alua(struct rts_dev *dev, unsigned int tpgs, const struct rts_alua_group *groups,
		     unsigned int n);
/**
 * @brief Change the state of group @p id without STPG (an implicit transition, e.g. a
 *        handler that acquired its lock); RTPG then reports STATUS "altered implicitly".
 * @param dev the device
 * @param id target port group id
 * @param state new state (enum rts_alua_state)
 * @return 0 or -ENOENT. I/O thread (or before rts_dev_start()).
 */
int rts_dev_set_alua_state(struct rts_dev *dev, uint16_t id, uint8_t state);
/**
 * @brief State of group @p id. I/O thread (or before rts_dev_start()).
 * @param dev the device
 * @param id target port group id
 * @return the state (enum rts_alua_state) or -ENOENT
 */
int rts_dev_get_alua_state(const struct rts_dev *dev, uint16_t id);
/**
 * @brief The target port group of the ports commands can arrive on at this host, when the
 *        groups come from configfs (rts_tcmu_use_alua()) and every enabled port of the
 *        device is in one group: a gateway's own group. I/O thread or before start.
 * @param dev the device
 * @return the group id, or -ENOENT (not known)
 */
int rts_dev_get_alua_port_group(const struct rts_dev *dev);
/**
 * @brief The ids of the device's target port groups. I/O thread or before start.
 * @param dev the device
 * @param ids filled with up to @p max ids
 * @param max room in @p ids
 * @return the number of groups (may exceed @p max), 0 without ALUA
 */
unsigned int rts_dev_get_alua_groups(const struct rts_dev *dev, uint16_t *ids, unsigned int max);

/** rts_dev_log() at RTS_LOG_ERR. */
#define rts_dev_err(dev, ...)  rts_dev_log(dev, RTS_LOG_ERR, __VA_ARGS__)
/** rts_dev_log() at RTS_LOG_WARNING. */
#define rts_dev_warn(dev, ...) rts_dev_log(dev, RTS_LOG_WARNING, __VA_ARGS__)
/** rts_dev_log() at RTS_LOG_INFO. */
#define rts_dev_info(dev, ...) rts_dev_log(dev, RTS_LOG_INFO, __VA_ARGS__)
/** rts_dev_log() at RTS_LOG_DEBUG. */
#define rts_dev_dbg(dev, ...)  rts_dev_log(dev, RTS_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
