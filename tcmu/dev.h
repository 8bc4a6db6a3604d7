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

#include <rts/device.h>
#include <rts/handler.h>

#include "ring.h"
#include "scsi/scsi.h"

#define DEV_INLINE_IOVS 16
#define RTS_CMD_TRACK 4
#define DEV_MAX_QUEUE_DEPTH 4096

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
	uint64_t data_len;
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

	void *priv;              /* handler's cmd_private_size bytes */
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

struct dev_stats_atomic {
	atomic_uint_fast64_t cmds, completions, kicks, wakeups, emulated, handler_ops, errors,
		aborts, aborts_cancelled;
};

struct rts_dev {
	char *name;
	char *cfgstring;         /* full "<subtype>/<cfg>" */
	char **options;          /* key, value, ..., NULL (rts_dev_config.options) */
	char *serial;            /* copy of cfg.serial */
	char *serial_file;       /* copy of cfg.serial_file */
	const char *handler_cfg; /* points into cfgstring, after the first '/' */
	const struct rts_handler *h;
	void *priv;
	struct rts_dev_config cfg;

	struct scsi_dev_info di;
	struct scsi_state st;
	uint64_t size;
	bool ua_capacity_changed;
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
	uint16_t id_slot[65536];  /* cmd_id -> slot + 1 */
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
	 * ctl_req, ctl_result and ctl_done; ctl_pending tells the loop to look. */
	pthread_mutex_t ctl_lock;
	pthread_cond_t ctl_cond;
	const struct rts_reconfig *ctl_req;
	int ctl_result;
	bool ctl_done;
	atomic_bool ctl_pending;

	pthread_t thread;
	const char *failure;
	struct dev_stats_atomic stats;
};

/* dev.c */
int dev_new(const struct rts_dev_config *cfg, const struct rts_handler *h,
	    const struct dev_transport *tp, struct rts_dev **ret);
void dev_cmd_finish(struct rts_cmd *cmd, uint8_t status, const uint8_t *sense,
		    size_t sense_len, int64_t data_in_len);
void dev_fail(struct rts_dev *dev, const char *why);
int dev_bounce(struct rts_cmd *cmd, size_t len);
void dev_refresh_serial(struct rts_dev *dev);
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

#endif
