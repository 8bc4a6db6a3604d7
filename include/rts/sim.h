/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file sim.h
 * @brief The TCMU ring simulator: the kernel's side of target_core_user in userspace.
 *
 * It creates the shared region in a memfd with the exact layout of linux/target_core_user.h
 * (mailbox, command ring of any size, data area of fixed-size blocks), queues SCSI commands
 * with their data split across iovecs into the data area, inserts PAD entries at the wrap,
 * kicks the device through an eventfd where the kernel uses the UIO fd, and collects
 * completions the way tcmu_handle_completions() does, enforcing the same invariants (a
 * completed cmd_id must be outstanding, never completed twice). It can also queue TMR
 * abort entries. A device created with rts_dev_new_sim() serves it exactly as it would
 * serve a real UIO device.
 *
 * A simulator is used from one thread at a time (the "kernel" thread).
 *
 * Returns: 0 (or a count) or a negative errno, never errno. Ownership: a simulator owns its
 * shared region and eventfds and releases them in rts_sim_free(); data buffers given to
 * rts_sim_submit() stay the caller's and must stay valid until the command is reaped.
 */
#ifndef RTS_SIM_H
#define RTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rts_sim;

/** Data direction of a simulated command. */
enum rts_sim_dir {
	RTS_SIM_NONE = 0,  /**< no data */
	RTS_SIM_TO_DEV,    /**< Data-Out (WRITE): copied into the data area on submit */
	RTS_SIM_FROM_DEV,  /**< Data-In (READ): copied back to the buffer on completion */
};

/** Simulator geometry and behaviour; zero fields take the defaults. */
struct rts_sim_params {
	uint32_t cmdr_size;      /**< command ring bytes (default 8 MiB - 128, like the kernel) */
	uint64_t data_size;      /**< data area bytes (default 64 MiB) */
	uint32_t data_blk_size;  /**< data area block (default 4096) */
	uint32_t max_iov_blocks; /**< split data so each iovec covers at most N blocks (0: merge) */
	uint16_t mailbox_flags;  /**< CAP flags (default OOOC|READ_LEN|TMR|KEEP_BUF) */
	bool no_copy;            /**< do not copy data in/out (benchmarks of the runner only) */
};

/** One completion collected by rts_sim_reap(). */
struct rts_sim_completion {
	uint16_t cmd_id;        /**< the command id the device completed */
	void *tag;              /**< the tag given to rts_sim_submit() */
	uint8_t status;         /**< SAM status */
	uint8_t uflags;         /**< TCMU_UFLAG_* set by the device */
	uint32_t read_len;      /**< valid with TCMU_UFLAG_READ_LEN */
	uint32_t data_len;      /**< bytes copied back to the Data-In buffer */
	uint8_t sense[96];      /**< sense buffer as written by the device */
};

/**
 * @brief Create a simulator.
 * @param params geometry (NULL: defaults)
 * @param ret the new simulator
 * @return 0, -EINVAL for impossible geometry, -ENOMEM, or the memfd/mmap/eventfd errno
 */
int rts_sim_new(const struct rts_sim_params *params, struct rts_sim **ret);
/**
 * @brief Destroy a simulator (NULL-tolerant); returns NULL.
 * @param sim the simulator or NULL (no device may still use it)
 * @return NULL
 */
struct rts_sim *rts_sim_free(struct rts_sim *sim);

/**
 * @brief The shared region (map0) and its size.
 * @param sim the simulator
 * @param ret_size receives the region size in bytes
 * @return the region, owned by the simulator
 */
void *rts_sim_get_map(const struct rts_sim *sim, size_t *ret_size);
/**
 * @brief eventfd the device reads: becomes readable when commands were queued.
 * @param sim the simulator
 * @return the eventfd, owned by the simulator
 */
int rts_sim_get_kick_fd(const struct rts_sim *sim);
/**
 * @brief eventfd the device writes when it completed commands (the kernel's irqcontrol).
 * @param sim the simulator
 * @return the eventfd, owned by the simulator
 */
int rts_sim_get_irq_fd(const struct rts_sim *sim);

/**
 * @brief Queue one SCSI command (not yet visible to the device: see rts_sim_kick()).
 *
 * @param sim the simulator
 * @param cdb the CDB; @p cdb_len bytes (6..260)
 * @param cdb_len CDB length
 * @param dir data direction
 * @param buf Data-Out source or Data-In destination (must stay valid until reaped)
 * @param len data bytes
 * @param tag returned in the completion
 * @param ret_cmd_id the command id allocated (1..65535), may be NULL
 * @return 0, -EAGAIN when the ring or data area has no room (reap, then retry),
 *         -EINVAL for a bad CDB length, a transfer larger than the data area, or an
 *         entry (with its iovecs) larger than half the ring, which could never be queued,
 *         -EIO when the simulator detected a protocol violation (device broken)
 */
int rts_sim_submit(struct rts_sim *sim, const uint8_t *cdb, size_t cdb_len,
		   enum rts_sim_dir dir, void *buf, size_t len, void *tag, uint16_t *ret_cmd_id);

/**
 * @brief Queue a TMR notification listing aborted command ids (CAP_TMR).
 * @return 0, -EAGAIN when the ring is full, -ENOTSUP without CAP_TMR
 * @param sim the simulator
 * @param tmr_type TMR type (TCMU_TMR_*)
 * @param cmd_ids ids of the aborted commands
 * @param count number of ids
 */
int rts_sim_queue_tmr(struct rts_sim *sim, uint8_t tmr_type, const uint16_t *cmd_ids,
		      uint32_t count);

/**
 * @brief Publish queued entries (cmd_head) and kick the device once.
 * @param sim the simulator
 * @return 0, or the eventfd write's negative errno
 */
int rts_sim_kick(struct rts_sim *sim);

/**
 * @brief Collect completions the device published, as tcmu_handle_completions() does.
 *
 * @param sim the simulator
 * @param cb called once per completed command (may be NULL)
 * @param userdata passed to @p cb
 * @return number of completions, or -EPROTO when the device completed an unknown or
 *         already completed cmd_id (the simulator is then broken, like the kernel's ring)
 */
int rts_sim_reap(struct rts_sim *sim,
		 void (*cb)(void *userdata, const struct rts_sim_completion *c), void *userdata);

/**
 * @brief Wait until the device kicks (completions may be ready) or @p timeout_ms passes.
 * @return 1 when kicked, 0 on timeout, -EINTR when a signal handler ran first, -errno on error
 * @param sim the simulator
 * @param timeout_ms how long to wait (-1: forever)
 */
int rts_sim_wait(struct rts_sim *sim, int timeout_ms);

/**
 * @brief Commands submitted and not yet reaped.
 * @param sim the simulator
 * @return the number of outstanding commands
 */
unsigned int rts_sim_outstanding(const struct rts_sim *sim);

/**
 * @brief Run one command synchronously: submit, kick, wait and reap until it completes.
 * @param sim the simulator (no other commands may be outstanding)
 * @param cdb CDB bytes
 * @param cdb_len CDB length
 * @param dir data direction
 * @param buf data buffer
 * @param len data bytes
 * @param timeout_ms give up after this long
 * @param ret the completion
 * @return 0, -ETIMEDOUT, or an error from submit/reap; a signal caught while it waits is not
 *         an error (it goes on waiting until @p timeout_ms)
 */
int rts_sim_exec(struct rts_sim *sim, const uint8_t *cdb, size_t cdb_len, enum rts_sim_dir dir,
		 void *buf, size_t len, int timeout_ms, struct rts_sim_completion *ret);

/** Damage rts_sim_corrupt() can do to the shared region, as a buggy or hostile kernel would. */
enum rts_sim_corruption {
	/** the last queued entry's length becomes 0 (the ring cannot be walked) */
	RTS_SIM_CORRUPT_ENTRY_LEN = 1,
	/** the last queued command's first iovec points past the data area */
	RTS_SIM_CORRUPT_DATA_OFF,
	/** the next rts_sim_kick() publishes a cmd_head beyond the end of the ring */
	RTS_SIM_CORRUPT_HEAD,
};

/**
 * @brief Corrupt the shared region (tests of the device's ring checks and recovery).
 * @param sim the simulator
 * @param what the damage to do
 * @return 0, -ENOENT when nothing is queued to corrupt (ENTRY_LEN, DATA_OFF without iovecs)
 */
int rts_sim_corrupt(struct rts_sim *sim, enum rts_sim_corruption what);

/**
 * @brief Reset the ring as the kernel's action/reset_ring does: every outstanding command
 *        completes with @p status (BUSY: retried by the initiator, as reset_ring level 1),
 *        reported through @p cb; cmd_head and cmd_tail become 0 and the simulator is no
 *        longer broken. The device must be stopped; it reattaches (rts_dev_new_sim()) after.
 * @param sim the simulator
 * @param status SCSI status every outstanding command completes with
 * @param cb called for each completion (may be NULL)
 * @param userdata passed to @p cb
 * @return the number of commands completed this way
 */
int rts_sim_reset_ring(struct rts_sim *sim, uint8_t status,
		       void (*cb)(void *userdata, const struct rts_sim_completion *c), void *userdata);

/**
 * @brief Why the simulator considers the device broken (NULL while it is not).
 * @param sim the simulator
 * @return a description owned by the simulator, or NULL
 */
const char *rts_sim_broken_reason(const struct rts_sim *sim);

#ifdef __cplusplus
}
#endif

#endif
