/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal device and command state. One device = one transport (simulated or UIO) + one
 * ring + one io_uring owned by one I/O thread.
 *
 * Locking: there is none on the I/O path. Everything in struct rts_dev and struct rts_cmd
 * is owned by the I/O thread while it runs, except: `async_head` (lock-free MPSC stack,
 * pushed by any thread), `stop` (atomic flag), `stats` (relaxed atomics, read by anyone).
 * The control thread touches the rest only before rts_dev_start() and after rts_dev_stop().
 */
#ifndef RTS_TCMU_DEV_H
#define RTS_TCMU_DEV_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include <rts/device.h>
#include <rts/handler.h>

#include "iostat.h"
#include "ring.h"
#include "scsi/scsi.h"

#define DEV_INLINE_IOVS 16
/* Command slots beyond the queue depth for EXTENDED COPY's internal reads and writes
 * (xcopy.c), so a copy never waits for the ring's commands to free one. */
#define DEV_XCOPY_SLOTS 4
#define RTS_CMD_TRACK 4
#define DEV_MAX_QUEUE_DEPTH 4096
/* Default bound on waits for a handler (reconfig, close): rts_dev_set_handler_timeout(). */
#define DEV_HANDLER_TIMEOUT_MS 5000
/* After a stop's own timeout: time for cancelled I/O to land, then for the loop to leave. */
#define DEV_STOP_GRACE_MS 1000

/* io_uring user_data: kind in bits 56..63; handler SQEs carry slot (0..15) and tag (16..31). */
enum ud_kind {
	UD_KICK = 1,    /* multishot poll on the kick fd (uio fd / simulator eventfd) */
	UD_WAKE = 2,    /* read on the wake eventfd (async completions, stop) */
	UD_CANCEL = 3,  /* cancellation of an aborted command's handler I/O */
	UD_HANDLER = 4, /* handler I/O for a command */
};
#define UD_KIND_SHIFT 56

static inline uint64_t ud_make(enum ud_kind kind, uint32_t slot, uint16_t tag)
{
	return (uint64_t)kind << UD_KIND_SHIFT | (uint64_t)tag << 16 | slot;
}

enum cmd_lock {
	RLOCK_NONE = 0,
	RLOCK_WRITE,
	RLOCK_CAW,
};

struct rts_cmd;
typedef void (*cmd_step_fn)(struct rts_cmd *cmd, int err);

struct rts_cmd {
	struct rts_dev *dev;
	uint16_t cmd_id;
	uint16_t slot;
	bool in_use;
	bool aborted;
	uint8_t cdb[RING_MAX_CDB];
	unsigned int cdb_len;
	struct iovec *iov;       /* inline_iov or heap_iov */
	unsigned int iovcnt;
	uint64_t data_len;       /* bytes the command transfers (its iovecs, trimmed to the CDB) */
	uint64_t buf_len;        /* bytes of the initiator's buffer in the ring entry */
	struct iovec inline_iov[DEV_INLINE_IOVS];
	struct iovec *heap_iov;  /* grown on demand, kept for the slot's lifetime */
	unsigned int heap_cap;

	/* dispatch state */
	struct scsi_cmd_info info;
	cmd_step_fn step;        /* continuation run by rts_cmd_complete() */
	uint64_t pos;            /* progress of multi-step commands (bytes or index) */
	uint32_t count;          /* e.g. UNMAP descriptors */
	enum cmd_lock lock;
	bool lock_active;        /* RLOCK_CAW: holds the range (else queued behind writes) */
	bool flush_after;        /* FUA emulated by a flush after the write */
	bool prefetch;           /* the verify read-through is a PRE-FETCH: CONDITION MET */
	uint8_t *bounce;         /* scratch for CAW/VERIFY/WRITE SAME/UNMAP, kept per slot */
	size_t bounce_cap;
	struct rts_cmd *wait_next;
	bool waiting;            /* queued behind an overlapping write/CAW (dev->wait_head) */

	/* handler SQEs in flight by tag, so an abort can cancel them (RTS_CMD_TRACK tags) */
	uint16_t sqe_tag[RTS_CMD_TRACK];
	uint16_t sqe_cnt[RTS_CMD_TRACK];

	/* async completion from foreign threads */
	struct rts_cmd *async_next;
	int async_err;
	atomic_bool async_queued; /* on dev->async_head: a second push is a double completion */

	/* handler contract: one completion per operation the core started (dev_op_begin) */
	uint32_t op_gen;         /* bumped when an operation starts and when it completes */
	bool op_active;          /* an operation is outstanding in the handler */
	const char *op_name;     /* "read", "write", ... for messages */
	void (*intercept)(struct rts_cmd *cmd, int err); /* rts_cmd_intercept() */
	/* rts_cmd_offload(): the job and the pool's queue link (offload.c) */
	int (*offload_fn)(struct rts_dev *dev, struct rts_cmd *cmd, void *arg);
	void *offload_arg;
	struct rts_cmd *offload_next;

	/* EXTENDED COPY (xcopy.c). On the copy command: its state. On an internal command
	 * (a read or write it asked this device for): the copy command it serves, the source
	 * of a copy_range, and the errno it ended with. peer_next links a copy command into
	 * the target device's request queue. */
	struct xcopy_op *xc;
	struct rts_cmd *origin;
	struct rts_dev *copy_src;
	uint64_t copy_src_off;
	int xc_err;
	struct rts_cmd *peer_next;

	void *priv;              /* handler's cmd_private_size bytes */
	uint64_t t_start_ns;     /* dev->clock_ns of the pass that took it from the ring (iostat) */
};

struct dev_transport {
	void *map;
	size_t map_size;
	int kick_fd;          /* readable when commands are queued */
	unsigned int kick_len; /* bytes per read: 4 (uio) or 8 (eventfd) */
	int irq_fd;           /* written to report completions */
	unsigned int irq_len;
	bool owns_fds;
	bool owns_map;
};

/*
 * Counters written by the device's I/O thread alone and read by rts_dev_get_stats() from any
 * thread: a relaxed load and store, no read-modify-write (no locked instruction per count).
 */
#define STAT_INC(dev, f)                                                                     \
	atomic_store_explicit(&(dev)->stats.f,                                               \
			      atomic_load_explicit(&(dev)->stats.f, memory_order_relaxed) + 1, \
			      memory_order_relaxed)

struct dev_stats_atomic {
	atomic_uint_fast64_t cmds, completions, kicks, wakeups, emulated, handler_ops, errors,
		aborts, aborts_cancelled;
};

/*
 * Thread contract. A device is touched by three kinds of thread: the control thread (the
 * caller of rts_dev_new/open/start/stop/close/free and rts_dev_reconfig), the device's I/O
 * thread (io_thread(), from rts_dev_start() until it is joined), and readers on any thread
 * (rts-runner's status socket and D-Bus, rtsctl status through them).
 * - Set at creation, constant after: name, full_cfgstring, options, serial_file, h, cfg,
 *   ncmds, tp, handler_timeout_ms. Any thread may read them.
 * - Read from any thread while the I/O thread runs, so atomic: failure (set once, by the I/O
 *   or the control thread, dev_fail(): compare-exchange with release, loaded with acquire),
 *   stats and io (written by the I/O thread alone, relaxed), nfree (rts_dev_get_stats()'s
 *   inflight, relaxed), size (a resize on the I/O thread), in_handler (what a stuck stop
 *   names). tests/unit/tcmu/test_dev_recovery.c reads them all from a second thread, the
 *   way the status socket and D-Bus do, under TSan (ctest -L threads, RTS_TSAN=ON).
 * - Control thread -> I/O thread: stop, abandon, force_exit, ctl_pending (atomics, then a
 *   wake_fd write); async_head (lock-free push from any thread: rts_cmd_complete_async);
 *   ctl_copy, ctl_cfgstring, ctl_busy, ctl_result, ctl_done under ctl_lock.
 * - Everything else (the ring, cmds, free_slots, wait list, di, st, alua, stopping,
 *   need_kick, clock_ns, ...) belongs to the I/O thread while it runs and to the control
 *   thread before rts_dev_start() and after the thread is joined (handler_cfg is set in
 *   open(), rts_dev_wrap_cfgstring(); di.serial is refreshed by INQUIRY on the I/O thread).
 */
struct rts_dev {
	char *name;
	char *full_cfgstring;    /* "<subtype>/<handler part>" (cfgstring_split()) */
	char **options;          /* key, value, ..., NULL (rts_dev_config.options) */
	char *serial;            /* copy of cfg.serial */
	char *serial_file;       /* copy of cfg.serial_file */
	const char *handler_cfg; /* the handler part, inside full_cfgstring (rts_dev_get_cfgstring) */
	const struct rts_handler *h;
	void *priv;
	struct rts_dev_config cfg;

	struct scsi_dev_info di;
	struct scsi_state st;
	_Atomic uint64_t size; /* bytes; a resize (reconfig) changes it, any thread reads */
	bool ua_capacity_changed;
	struct scsi_alua *alua; /* NULL: no ALUA groups (see alua_dev.c) */
	struct alua_cfs *alua_cfs; /* NULL: groups not read from configfs (alua_cfs.c) */
	uint32_t handler_max_xfer; /* rts_dev_set_max_xfer_blocks() (0: none) */
	bool opened;
	bool running;

	struct dev_transport tp;
	struct tcmu_ring ring;
	struct io_uring uring;
	bool uring_ready;
	bool uring_enable; /* created disabled: the I/O thread enables it (SINGLE_ISSUER) */

	struct rts_cmd *cmds;
	uint32_t ncmds;
	uint32_t *free_slots;
	uint32_t nfree;
	uint32_t ncaw;            /* commands holding RLOCK_CAW */
	struct rts_cmd *wait_head, *wait_tail; /* commands deferred by range locks */
	uint8_t *priv_area;

	_Atomic(struct rts_cmd *) async_head;
	int wake_fd;
	atomic_bool stop;
	bool stopping;
	bool need_kick;
	uint64_t kick_buf;
	uint64_t wake_buf;
	uint64_t irq_val;

	/* A control-thread request run on the I/O thread (rts_dev_reconfig). ctl_lock protects
	 * ctl_copy, ctl_busy, ctl_result and ctl_done; ctl_pending tells the loop to look. */
	pthread_mutex_t ctl_lock;
	pthread_cond_t ctl_cond;
	int ctl_result;
	bool ctl_done;
	atomic_bool ctl_pending;

	pthread_t thread;
	/* Bounded stop: after the grace period the I/O thread fails what the handler never
	 * completed (abandon), then leaves its loop whatever is left (force_exit). */
	atomic_bool abandon;
	atomic_bool force_exit;
	int handler_timeout_ms;
	pthread_t close_thread;  /* a handler close() that did not return in time (wedged) */
	bool close_stuck;
	struct dev_offload *offload; /* rts_cmd_offload() workers, started on first use */
	bool offload_stuck;          /* a worker never returned: the device is left allocated */
	/* The I/O thread is inside this handler operation (NULL between calls), so a stop that
	 * cannot join can say where it is stuck. */
	_Atomic(const char *) in_handler;
	/* The I/O thread or a handler call never returned: the device cannot be closed or
	 * freed safely any more and is left (leaked) as it is. */
	bool wedged;
	/* The reconfig request is copied here: a request the caller gave up on stays valid. */
	struct rts_reconfig ctl_copy;
	char *ctl_cfgstring;
	bool ctl_busy;           /* a request is queued or running (ctl_lock) */
	_Atomic(const char *) failure; /* dev_fail(): set once; rts_dev_get_failure() */
	struct dev_stats_atomic stats;
	struct iostat io;        /* written by the I/O thread only, read by rts_dev_get_io_stats() */
	uint64_t clock_ns;       /* CLOCK_MONOTONIC at the start of the I/O loop's pass */

	/* EXTENDED COPY (xcopy.c). reg_next, naa, naa_len: the registry's (its lock);
	 * xc_users: copies holding the device (atomic); peer_head: requests of copy commands
	 * (lock-free MPSC stack, pushed by any device's I/O thread); the rest: I/O thread. */
	struct rts_dev *reg_next;
	bool registered;
	uint8_t naa[16];
	uint8_t naa_len;
	atomic_uint xc_users;
	_Atomic(struct rts_cmd *) peer_head;
	struct rts_cmd *peer_wait_head, *peer_wait_tail;
	uint32_t xc_internal;    /* internal commands in use (<= DEV_XCOPY_SLOTS) */
	struct xcopy_status_ent {
		bool used;
		uint8_t list_id;
		uint64_t seq;
		struct scsi_xcopy_status st;
	} xc_status[SCSI_XCOPY_MAX_COPIES];
	uint64_t xc_seq;
};

/* dev.c */
int dev_new(const struct rts_dev_config *cfg, const struct rts_handler *h,
	    const struct dev_transport *tp, struct rts_dev **ret);
void dev_cmd_finish(struct rts_cmd *cmd, uint8_t status, const uint8_t *sense,
		    size_t sense_len, int64_t data_in_len);
void dev_fail(struct rts_dev *dev, const char *why);
int dev_bounce(struct rts_cmd *cmd, size_t len);
void dev_refresh_serial(struct rts_dev *dev);
/* End a command with @err through its step chain (the core's own path, no contract check). */
void dev_cmd_end(struct rts_cmd *cmd, int err);
/* Handler contract around every operation the core starts. dev_op_begin() returns a token
 * for dev_op_end(), which checks the return value: 0 fine; -errno ends the command unless the
 * handler already completed it (then the error is a named violation and ignored); anything
 * else is a named violation that fails the command if it is still outstanding. */
uint32_t dev_op_begin(struct rts_cmd *cmd, const char *name);
void dev_op_end(struct rts_cmd *cmd, uint32_t token, const char *name, int r);
/* handle_cmd returned RTS_CMD_NOT_HANDLED: true when the core may go on with the command. */
bool dev_op_declined(struct rts_cmd *cmd, uint32_t token);
/* Log a broken handler contract, naming the handler. */
void dev_contract(const struct rts_dev *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* offload.c: end the worker pool (after the I/O thread), bounded by the handler timeout */
void dev_offload_stop(struct rts_dev *dev);
/* Recompute di.max_xfer_blocks from the data area, the handler's and the config's limits. */
void dev_update_xfer_limit(struct rts_dev *dev);

/* uio.c: read a wwn/vpd_unit_serial file ("T10 VPD Unit Serial Number: X") into @out;
 * returns the serial's length (0 when none is set) or -errno. */
int tcmu_read_serial_file(const char *path, char *out, size_t len);

/* dispatch.c */
void dispatch_cmd(struct rts_cmd *cmd);
void dispatch_retry_waiters(struct rts_dev *dev);
void dispatch_release(struct rts_cmd *cmd);
void dispatch_unwait(struct rts_cmd *cmd);
void errno_to_sense(int err, bool write, uint8_t *status, uint8_t *key, uint16_t *asc);

/* xcopy.c: EXTENDED COPY and RECEIVE COPY RESULTS on the I/O thread; the registry of the
 * devices a copy can reach (rts_dev_start registers, rts_dev_stop unregisters and waits
 * for the copies holding the device); internal commands' end; the peer request queue. */
void xcopy_start(struct rts_cmd *cmd);
void xcopy_rcr(struct rts_cmd *cmd);
void xcopy_register(struct rts_dev *dev);
void xcopy_unregister(struct rts_dev *dev, int timeout_ms);
void xcopy_refresh_id(struct rts_dev *dev);
void xcopy_internal_done(struct rts_cmd *cmd, uint8_t status);
void xcopy_op_free(struct rts_cmd *cmd);
void xcopy_run_peer(struct rts_dev *dev);
void xcopy_fail_peer(struct rts_dev *dev);
/* dispatch.c: serve an internal READ(16)/WRITE(16) (or copy_range) built by xcopy.c */
void dispatch_internal(struct rts_cmd *cmd);

/* ALUA (alua_dev.c): true when @cmd was RTPG/STPG and is taken care of. */
bool dispatch_alua(struct rts_cmd *cmd);
void dev_alua_free(struct rts_dev *dev);

/*
 * Intrusive command lists. @off is offsetof(struct rts_cmd, <link field>): each list has its
 * own link (async_next, peer_next, wait_next), so a command may be on several at once.
 */
static inline struct rts_cmd **cmd_link(struct rts_cmd *cmd, size_t off)
{
	return (struct rts_cmd **)(void *)((char *)cmd + off); /* off is a link field's offset */
}

/* Push @cmd on a lock-free MPSC stack (any thread). @return true when the stack was empty. */
static inline bool cmd_stack_push(_Atomic(struct rts_cmd *) *head, struct rts_cmd *cmd, size_t off)
{
	struct rts_cmd *old = atomic_load_explicit(head, memory_order_relaxed);

	do {
		*cmd_link(cmd, off) = old;
	} while (!atomic_compare_exchange_weak_explicit(head, &old, cmd, memory_order_release,
							memory_order_relaxed));
	return !old;
}

/* Take the whole stack (its one consumer thread), in push order. */
static inline struct rts_cmd *cmd_stack_take(_Atomic(struct rts_cmd *) *head, size_t off)
{
	struct rts_cmd *list = atomic_exchange_explicit(head, NULL, memory_order_acquire);
	struct rts_cmd *fifo = NULL;

	while (list) {
		struct rts_cmd *next = *cmd_link(list, off);

		*cmd_link(list, off) = fifo;
		fifo = list;
		list = next;
	}
	return fifo;
}

/* Append @cmd to the FIFO *@head .. *@tail (one thread). */
static inline void cmd_fifo_append(struct rts_cmd **head, struct rts_cmd **tail, struct rts_cmd *cmd,
				   size_t off)
{
	*cmd_link(cmd, off) = NULL;
	if (*tail)
		*cmd_link(*tail, off) = cmd;
	else
		*head = cmd;
	*tail = cmd;
}

/*
 * Take a free command slot and reset its per-command state (the I/O thread of @dev; the caller
 * checked dev->nfree). Ring commands (take_cmd) and EXTENDED COPY's internal ones (xcopy.c)
 * both start here, so a field added to struct rts_cmd is reset in one place.
 */
static inline struct rts_cmd *dev_cmd_take_slot(struct rts_dev *dev, uint16_t cmd_id)
{
	struct rts_cmd *cmd = &dev->cmds[dev->free_slots[dev->nfree - 1]];

	__atomic_store_n(&dev->nfree, dev->nfree - 1, __ATOMIC_RELAXED); /* read by get_stats */
	cmd->in_use = true;
	cmd->aborted = false;
	cmd->cmd_id = cmd_id;
	cmd->lock = RLOCK_NONE;
	cmd->lock_active = false;
	cmd->flush_after = false;
	cmd->prefetch = false;
	cmd->waiting = false;
	cmd->op_active = false;
	cmd->intercept = NULL;
	cmd->xc = NULL;
	cmd->origin = NULL;
	cmd->copy_src = NULL;
	cmd->xc_err = 0;
	memset(cmd->sqe_cnt, 0, sizeof(cmd->sqe_cnt));
	cmd->step = NULL;
	cmd->info = (struct scsi_cmd_info){ .kind = SCSI_KIND_EMULATE };
	cmd->iov = cmd->inline_iov;
	cmd->buf_len = 0;
	cmd->t_start_ns = dev->clock_ns;
	return cmd;
}

#endif
