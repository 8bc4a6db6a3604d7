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
 *
 * Returns: 0 or a negative errno, never errno; failures that have a story to tell also
 * return a malloc()ed reason through reterr_reason (the caller frees it). Ownership:
 * configurations are copied; handler descriptors and simulators passed in must outlive the
 * device; a device is released with rts_dev_free(), a loaded handler with
 * rts_handler_unload().
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

/**
 * Log sink of librts-tcmu: @p prio is an enum rts_log_prio value, @p dev the device name or
 * NULL, @p msg the formatted message without a trailing newline. (librts's callback is
 * rts_log_fn in ctx.h; both use the same priorities, see log.h.)
 */
typedef void (*rts_dev_log_fn)(void *userdata, int prio, const char *dev, const char *msg);

/** Device configuration; zero fields take the defaults shown. */
/**
 * Configuration of a new device (rts_dev_new_sim(), rts_dev_new_uio()).
 *
 * Versioned by size like the handler descriptor: start an initializer with
 * RTS_DEV_CONFIG_INIT (it sets @c struct_size to the sizeof the caller was compiled with);
 * the library refuses a struct_size below RTS_DEV_CONFIG_SIZE_V1 with -EINVAL and takes
 * fields past the caller's struct_size as zero, so fields added later at the end reach only
 * callers that know them.
 */
struct rts_dev_config {
	uint32_t struct_size;      /**< sizeof(struct rts_dev_config) of the caller */
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
	 *  rts-runner passes its config file's [handler.SUBTYPE] group. */
	const char *const *options;
	rts_dev_log_fn log_fn;     /**< log sink (NULL: silent) */
	void *log_userdata;        /**< passed to log_fn */
	int log_priority;          /**< drop messages above this RTS_LOG_* (RTS_LOG_INFO) */
};

/** Size of the first version of struct rts_dev_config (the smallest one accepted). */
#define RTS_DEV_CONFIG_SIZE_V1 rts_offsetofend(struct rts_dev_config, log_priority)
/** Use first in a configuration initializer: `{ RTS_DEV_CONFIG_INIT, .name = "x", ... }`. */
#define RTS_DEV_CONFIG_INIT .struct_size = sizeof(struct rts_dev_config)

/**
 * Counters of one device (rts_dev_get_stats(); read from any thread; values are approximate
 * while running). Versioned by size like struct rts_dev_io_stats: the caller sets
 * @c struct_size to its sizeof, the library fills at most that many bytes and sets
 * @c struct_size to what it filled.
 */
struct rts_dev_stats {
	uint32_t struct_size;   /**< in: the caller's sizeof; out: bytes filled */
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

/** Size of the first version of struct rts_dev_stats (the smallest one accepted). */
#define RTS_DEV_STATS_SIZE_V1 rts_offsetofend(struct rts_dev_stats, aborts_cancelled)

/**
 * I/O statistics of one device since it was created (rts_dev_get_io_stats()).
 *
 * Versioned by size: the caller sets @c struct_size to sizeof(struct rts_dev_io_stats) as it
 * was compiled; the library fills at most that many bytes and sets @c struct_size to what it
 * filled, so fields added later at the end reach only callers that know them.
 */
struct rts_dev_io_stats {
	uint32_t struct_size;  /**< in: the caller's sizeof; out: bytes filled */
	uint64_t read_cmds;    /**< READ commands completed (any status) */
	uint64_t write_cmds;   /**< WRITE, WRITE AND VERIFY, WRITE SAME, COMPARE AND WRITE */
	uint64_t other_cmds;   /**< every other command */
	uint64_t read_bytes;   /**< data returned by READs that completed GOOD */
	uint64_t write_bytes;  /**< data taken by writes that completed GOOD */
	uint64_t lat_count;    /**< commands in the latency histogram */
	uint64_t lat_p50_ns;   /**< median time from the ring to completion (bucket bound) */
	uint64_t lat_p99_ns;   /**< 99th percentile */
	uint64_t lat_p999_ns;  /**< 99.9th percentile */
	uint64_t lat_max_ns;   /**< largest latency seen */
};

/**
 * @brief Counters by direction and latency percentiles of a device.
 *
 * Latency is the time a command spends in the runner: from the I/O loop's pass that takes it
 * from the ring to the pass that writes its completion (the clock is read once per pass, so
 * a command answered within one pass counts as 0). It goes into a fixed log-linear histogram
 * (8 buckets per power of two: a reported percentile is the upper bound of its bucket, at
 * most 12.5 % above the true value). The I/O thread updates it without locks; any thread
 * may call this.
 *
 * @param dev the device
 * @param ret filled up to ret->struct_size bytes (set it first)
 * @return 0, or -EINVAL when @p ret is NULL or its struct_size is too small
 */
int rts_dev_get_io_stats(const struct rts_dev *dev, struct rts_dev_io_stats *ret);

/**
 * @brief The raw latency histogram: counts and each bucket's upper bound in nanoseconds.
 *
 * Lets a monitor compute percentiles over an interval from two snapshots. Copies at most @p n
 * buckets; any thread may call this.
 *
 * @param dev the device
 * @param counts receives up to @p n bucket counts (caller-owned array, NULL when n is 0)
 * @param upper_ns receives up to @p n bucket upper bounds in ns (caller-owned, NULL when n is 0)
 * @param n entries of each array
 * @return the number of buckets the library has (call with n = 0 and NULL arrays to size
 *         them), or -EINVAL when n > 0 and an array is NULL
 */
int rts_dev_get_latency_histogram(const struct rts_dev *dev, uint64_t *counts,
				  uint64_t *upper_ns, unsigned int n);

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
/**
 * @brief The runner-owned copy of the descriptor (fields past its struct_size are NULL).
 * @param lh the loaded handler
 * @return the descriptor copy, owned by @p lh (valid until rts_handler_unload())
 */
const struct rts_handler *rts_loaded_handler_get(const struct rts_loaded_handler *lh);
/**
 * @brief Path the handler was loaded from.
 * @param lh the loaded handler
 * @return the path, owned by @p lh
 */
const char *rts_loaded_handler_get_path(const struct rts_loaded_handler *lh);
/**
 * @brief Unload (NULL-tolerant; no device may still use it); returns NULL.
 * @param lh the loaded handler or NULL
 * @return NULL, to assign back to the caller's pointer
 */
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
 * @return 0, or the handler's negative errno (-EINVAL, -ENOENT, ...) with *reterr_reason set when it gave a reason
 */
int rts_dev_open(struct rts_dev *dev, bool reopen, char **reterr_reason);
/**
 * @brief Start the device's I/O thread.
 * @param dev an opened device
 * @return 0, -EALREADY when running, or the errno of creating the thread or its io_uring. Control thread.
 */
int rts_dev_start(struct rts_dev *dev);
/**
 * @brief Stop taking commands, let in-flight ones finish, publish their completions and
 *        join the I/O thread. Commands still queued in the ring stay there for the next
 *        opener.
 *
 * Bounded: after @p timeout_ms, what the handler still holds is failed with HARDWARE ERROR
 * and named (the handler broke its contract), its io_uring I/O is cancelled and given one more
 * second to land (its buffers are in the shared data area), then the loop leaves whatever
 * is left to the kernel (reset_ring, cmd_time_out). When the I/O thread itself is stuck in a
 * handler call, the device is failed and abandoned with it after another second; calling
 * rts_dev_stop() again later joins it if that call has returned.
 *
 * @param dev the device
 * @param timeout_ms how long to wait for the handler's outstanding commands
 * @return 0; -ETIMEDOUT when commands had to be failed (the device is stopped and can be
 *         started again); -EBUSY when the I/O thread is stuck in a handler call (the device
 *         is failed and abandoned until a later stop joins it)
 */
int rts_dev_stop(struct rts_dev *dev, int timeout_ms);
/**
 * @brief Close the handler (handler->close), waiting at most the handler timeout.
 * @param dev a stopped device. Control thread.
 */
void rts_dev_close(struct rts_dev *dev);
/**
 * @brief Free a stopped, closed device (NULL-tolerant); returns NULL.
 *
 * A device whose I/O thread or close() is still inside the handler (see rts_dev_stop()) is
 * not freed, since that thread still uses it: it is logged and leaked.
 * @param dev a stopped, closed device, or NULL. Control thread.
 * @return NULL
 */
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
 * @param dev a running device
 * @param rc what to change (struct_size set by the caller)
 */
int rts_dev_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc);

/**
 * @brief Bound the waits for the handler outside the I/O path (default 5000 ms).
 *
 * rts_dev_reconfig() gives up with -ETIMEDOUT when the handler has not applied a request
 * within this time (the device goes on; a later request gets -EBUSY until it has), and
 * rts_dev_close() stops waiting for a close() that does not return (the device is then
 * left allocated: see rts_dev_free()). Control thread.
 * @param dev the device
 * @param timeout_ms the bound in milliseconds
 */
void rts_dev_set_handler_timeout(struct rts_dev *dev, int timeout_ms);

/**
 * @brief Snapshot the device counters.
 * @param dev the device
 * @param ret receives the counters; set its @c struct_size first (sizeof). Any thread.
 * @return 0, or -EINVAL when @c ret->struct_size is below RTS_DEV_STATS_SIZE_V1
 */
int rts_dev_get_stats(const struct rts_dev *dev, struct rts_dev_stats *ret);
/**
 * @brief The handler serving the device.
 * @param dev the device
 * @return the descriptor the device was created with (not owned by the caller). Any thread.
 */
const struct rts_handler *rts_dev_get_handler(const struct rts_dev *dev);
/**
 * @brief Reason the device failed (corrupt ring, I/O loop error), NULL while healthy.
 * @param dev the device
 * @return a description owned by the device, or NULL. Control thread.
 */
const char *rts_dev_get_failure(const struct rts_dev *dev);

#ifdef __cplusplus
}
#endif

#endif
