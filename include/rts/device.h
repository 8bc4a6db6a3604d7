/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file device.h
 * @brief Creating, running and stopping TCMU devices; loading handler plugins.
 *
 * This is the part of librts-tcmu that rts-runner (and any program embedding a TCMU
 * backend) uses. A device is created on a transport — the ring simulator or a real UIO
 * device — and then served by one I/O thread that owns one io_uring: it waits for kicks,
 * drains the command ring, emulates SCSI, passes block I/O to the handler, writes
 * completions and kicks the kernel once per batch. Nothing above the transport knows which
 * kind it is.
 *
 * Thread model: rts_dev_* lifecycle functions are called from one control thread; the
 * I/O thread runs between rts_dev_start() and rts_dev_stop().
 */
#ifndef RTS_DEVICE_H
#define RTS_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include <rts/handler.h>
#include <rts/sim.h>
#include <rts/tcmu.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Log sink: @p dev is the device name or NULL. */
typedef void (*rts_log_fn)(void *userdata, int prio, const char *dev, const char *msg);

/** Device configuration; zero fields take the defaults shown. */
struct rts_dev_config {
	const char *name;          /**< device name (required) */
	const char *cfgstring;     /**< "<subtype>/<handler config>" (required) */
	uint64_t size;             /**< bytes (dev_size); 0: the handler decides in open() */
	uint32_t block_size;       /**< logical block size (512) */
	/** largest transfer in blocks when set explicitly (hw_max_sectors an administrator
	 *  chose); 0: as large as the data area and the handler allow */
	uint32_t max_xfer_blocks;
	uint32_t queue_depth;      /**< command slots served concurrently (128, max 4096) */
	bool write_cache;          /**< initial WCE */
	const char *serial;        /**< unit serial (wwn/vpd_unit_serial); NULL: derived from name */
	/** file re-read on every INQUIRY for the serial ("T10 VPD Unit Serial Number: X"), e.g.
	 *  configfs wwn/vpd_unit_serial, which targetcli writes after enabling the device */
	const char *serial_file;
	/** handler options: NULL-terminated key, value, key, value, ... (copied; NULL: none).
	 *  rts-runner passes its config file's [handler.<subtype>] group. */
	const char *const *options;
	rts_log_fn log_fn;         /**< log sink (NULL: silent) */
	void *log_userdata;        /**< passed to log_fn */
	int log_priority;          /**< drop messages above this RTS_LOG_* (RTS_LOG_INFO) */
};

/** Counters of one device (read from any thread; values are approximate while running). */
struct rts_dev_stats {
	uint64_t cmds;          /**< commands taken from the ring */
	uint64_t completions;   /**< completions written */
	uint64_t kicks;         /**< completion kicks sent to the kernel */
	uint64_t wakeups;       /**< loop iterations that found work */
	uint64_t emulated;      /**< commands answered by the SCSI emulation */
	uint64_t handler_ops;   /**< operations passed to the handler */
	uint64_t errors;        /**< commands completed with CHECK CONDITION */
	uint64_t aborts;        /**< command ids named by TMR entries */
	uint32_t inflight;      /**< commands currently owned by the device */
	uint64_t aborts_cancelled; /**< aborted commands ended early (I/O cancelled, not started) */
};

/** A handler plugin loaded by rts_handler_load(). */
struct rts_loaded_handler;

/**
 * @brief Load a handler plugin (.so) and check its descriptor.
 *
 * Refuses (with a reason) a missing rts_handler_entry symbol, a different major ABI, a
 * descriptor smaller than RTS_HANDLER_SIZE_V1, or missing required fields; the library is
 * closed again on every failure.
 *
 * @param path the .so file
 * @param ret the loaded handler
 * @param reterr_reason malloc'd explanation on failure (may be NULL)
 * @return 0, -ENOENT, -ENOEXEC (not a loadable object / no entry symbol), -EPROTO (ABI
 *         mismatch), -EINVAL (incomplete descriptor), -ENOMEM
 */
int rts_handler_load(const char *path, struct rts_loaded_handler **ret, char **reterr_reason);
/** @brief The runner-owned copy of the descriptor (fields past its struct_size are NULL). */
const struct rts_handler *rts_loaded_handler_get(const struct rts_loaded_handler *lh);
/** @brief Path the handler was loaded from. */
const char *rts_loaded_handler_get_path(const struct rts_loaded_handler *lh);
/** @brief Unload (NULL-tolerant; no device may still use it); returns NULL. */
struct rts_loaded_handler *rts_handler_unload(struct rts_loaded_handler *lh);

/**
 * @brief Create a device served from a ring simulator.
 * @param cfg configuration (copied)
 * @param handler handler descriptor (must outlive the device)
 * @param sim the simulator playing the kernel (must outlive the device)
 * @param ret the device
 * @return 0, -EINVAL (bad config or cfgstring subtype differs from the handler's),
 *         -EPROTO/-ENOTSUP (unusable mailbox), -ENOMEM
 */
int rts_dev_new_sim(const struct rts_dev_config *cfg, const struct rts_handler *handler,
		    struct rts_sim *sim, struct rts_dev **ret);

/**
 * @brief Open the handler on the device (handler->open), fixing the geometry.
 * @param dev the device
 * @param reopen whether the device existed before (runner restart)
 * @param reterr_reason malloc'd explanation on failure (may be NULL)
 */
int rts_dev_open(struct rts_dev *dev, bool reopen, char **reterr_reason);
/** @brief Start the device's I/O thread. */
int rts_dev_start(struct rts_dev *dev);
/**
 * @brief Stop taking commands, let in-flight ones finish, publish their completions and
 *        join the I/O thread. Commands still queued in the ring stay there for the next
 *        opener. In-flight handler I/O is never abandoned (its buffers are in the shared
 *        data area); if it takes longer than @p timeout_ms that is logged and waited for.
 */
int rts_dev_stop(struct rts_dev *dev, int timeout_ms);
/** @brief Close the handler (handler->close). */
void rts_dev_close(struct rts_dev *dev);
/** @brief Free a stopped, closed device (NULL-tolerant); returns NULL. */
struct rts_dev *rts_dev_free(struct rts_dev *dev);

/**
 * @brief Apply a reconfiguration on the device's I/O thread and wait for the result.
 *
 * Size changes call the handler's reconfig (which resizes and calls rts_dev_set_num_lbas(),
 * raising CAPACITY DATA HAS CHANGED); a write cache change is applied by the core after
 * the handler accepts it (or has no reconfig); other changes need the handler's reconfig.
 * Control thread.
 *
 * @return 0, -EOPNOTSUPP when the handler cannot apply it, or the handler's -errno
 */
int rts_dev_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc);

/** @brief Snapshot the device counters. */
void rts_dev_get_stats(const struct rts_dev *dev, struct rts_dev_stats *ret);
/** @brief The handler serving the device. */
const struct rts_handler *rts_dev_get_handler(const struct rts_dev *dev);
/** @brief Reason the device failed (corrupt ring, I/O loop error), NULL while healthy. */
const char *rts_dev_get_failure(const struct rts_dev *dev);

#ifdef __cplusplus
}
#endif

#endif
