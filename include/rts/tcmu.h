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
 */
#ifndef RTS_TCMU_H
#define RTS_TCMU_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

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

/** Log priorities (syslog values). */
enum rts_log_prio {
	RTS_LOG_ERR = 3,
	RTS_LOG_WARNING = 4,
	RTS_LOG_NOTICE = 5,
	RTS_LOG_INFO = 6,
	RTS_LOG_DEBUG = 7,
};

/* ---------------------------------------------------------------- commands */

/** @brief The CDB bytes (stable until the command completes). */
const uint8_t *rts_cmd_get_cdb(const struct rts_cmd *cmd);
/** @brief Length of the CDB in bytes (6..260). */
unsigned int rts_cmd_get_cdb_len(const struct rts_cmd *cmd);
/**
 * @brief The command's data buffer as iovecs into the shared data area.
 * @param cmd the command
 * @param ret_cnt set to the number of iovecs
 * @return the iovec array, owned by the command (do not modify)
 */
const struct iovec *rts_cmd_get_iov(const struct rts_cmd *cmd, unsigned int *ret_cnt);
/** @brief Total bytes described by rts_cmd_get_iov(). */
uint64_t rts_cmd_get_data_len(const struct rts_cmd *cmd);
/** @brief The kernel's command id (1..65535). */
uint16_t rts_cmd_get_id(const struct rts_cmd *cmd);
/** @brief The device the command belongs to. */
struct rts_dev *rts_cmd_get_dev(const struct rts_cmd *cmd);
/**
 * @brief Per-command scratch area of rts_handler.cmd_private_size bytes.
 *
 * Pre-allocated with the command slot (never malloc'd per command); its content is
 * undefined when the handler first sees a command.
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
/** @brief Complete with CHECK CONDITION and the given fixed-format sense. I/O thread only. */
void rts_cmd_complete_sense(struct rts_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq);
/** @brief Complete with a SAM status and no sense (e.g. RTS_SAM_BUSY). I/O thread only. */
void rts_cmd_complete_status(struct rts_cmd *cmd, uint8_t status);
/**
 * @brief rts_cmd_complete() from any thread (library callbacks such as librbd's).
 *
 * The completion is queued lock-free and the device's I/O thread is woken through an
 * eventfd it watches on its io_uring; it then completes the command exactly as
 * rts_cmd_complete() would. Any thread.
 */
void rts_cmd_complete_async(struct rts_cmd *cmd, int err);

/* ----------------------------------------------------------------- devices */

/** @brief Device name (the configfs directory name, or the simulator's name). */
const char *rts_dev_get_name(const struct rts_dev *dev);
/** @brief Handler part of the cfgstring, i.e. what follows "<subtype>/". */
const char *rts_dev_get_cfgstring(const struct rts_dev *dev);
/** @brief Logical block size in bytes. */
uint32_t rts_dev_get_block_size(const struct rts_dev *dev);
/** @brief Number of logical blocks. */
uint64_t rts_dev_get_num_lbas(const struct rts_dev *dev);
/**
 * @brief Change the device size (open, reconfig). A change while the device serves
 *        commands raises the CAPACITY DATA HAS CHANGED unit attention.
 */
void rts_dev_set_num_lbas(struct rts_dev *dev, uint64_t num_lbas);
/** @brief Size in bytes requested by the kernel (dev_size) or simulator, 0 if unknown. */
uint64_t rts_dev_get_size(const struct rts_dev *dev);
/**
 * @brief Maximum transfer length per command, in blocks: what Block Limits advertises and
 *        the core enforces (the data area, the handler's limit, an explicit hw_max_sectors).
 */
uint32_t rts_dev_get_max_xfer_blocks(const struct rts_dev *dev);
/**
 * @brief State the largest transfer, in blocks, the handler serves in one command (call in
 *        open()); 0 removes the handler's limit. The device advertises the smaller of this
 *        and what the data area allows. Since librts-tcmu 0.2.
 */
void rts_dev_set_max_xfer_blocks(struct rts_dev *dev, uint32_t blocks);
/** @brief Whether the volatile write cache is enabled (MODE page 08h WCE). */
bool rts_dev_get_write_cache(const struct rts_dev *dev);
/** @brief Set the write cache state reported to initiators. */
void rts_dev_set_write_cache(struct rts_dev *dev, bool enabled);
/** @brief Report the medium as write protected (writes fail with DATA PROTECT). */
void rts_dev_set_read_only(struct rts_dev *dev, bool ro);
/**
 * @brief Enable thin provisioning (LBPME, UNMAP, WRITE SAME with UNMAP).
 * @param dev the device
 * @param enabled whether unmap is supported (the handler must then implement unmap)
 * @param opt_gran_blocks optimal unmap granularity in blocks (0: 1)
 */
void rts_dev_set_thin_provisioning(struct rts_dev *dev, bool enabled, uint32_t opt_gran_blocks);
/** @brief Report the medium as non-rotational (VPD B1h). */
void rts_dev_set_solid_state(struct rts_dev *dev, bool solid_state);
/**
 * @brief A handler option set by the operator, or NULL.
 *
 * rts-runner passes the `[handler.<subtype>]` group of its config file
 * (/etc/rts/runner.conf) as it was when the device was attached; a SIGHUP reload applies
 * to devices attached afterwards. Use it for site-wide settings (a default pool, a cache
 * size); per-device settings belong in the cfgstring. Any thread, valid for the device's
 * lifetime.
 */
const char *rts_dev_get_option(const struct rts_dev *dev, const char *key);
/** @brief Handler-owned per-device pointer. */
void *rts_dev_get_private(const struct rts_dev *dev);
/** @brief Set the handler-owned per-device pointer. */
void rts_dev_set_private(struct rts_dev *dev, void *priv);

/**
 * @brief The device's io_uring, owned by its I/O thread.
 *
 * Handlers may register files on it; SQEs must come from rts_dev_get_sqe().
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
 */
struct io_uring_sqe *rts_dev_get_sqe(struct rts_dev *dev, struct rts_cmd *cmd, uint16_t tag);

/** @brief Log through the sink the device was created with, prefixed with its name. Any thread. */
void rts_dev_log(const struct rts_dev *dev, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define rts_dev_err(dev, ...)  rts_dev_log(dev, RTS_LOG_ERR, __VA_ARGS__)
#define rts_dev_warn(dev, ...) rts_dev_log(dev, RTS_LOG_WARNING, __VA_ARGS__)
#define rts_dev_info(dev, ...) rts_dev_log(dev, RTS_LOG_INFO, __VA_ARGS__)
#define rts_dev_dbg(dev, ...)  rts_dev_log(dev, RTS_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif
