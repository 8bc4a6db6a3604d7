/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One TCMU device: its transport, its command slots and the I/O loop on its own io_uring.
 *
 * The loop: submit-and-wait on the ring; handle every CQE (kick poll → consume, handler I/O →
 * io_done, wake → async completions/stop); drain new ring entries into free slots and
 * dispatch them; if anything completed, publish cmd_tail and write one kick for the
 * whole batch. No locks, no allocation per command, no thread per command.
 */
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rts/uio.h>

#include "cfgstring.h"
#include "dev.h"
#include "macro.h"
#include "uring.h"


/* ------------------------------------------------------------------ logging */

static __attribute__((format(printf, 3, 0))) void dev_vlog(const struct rts_dev *dev, int prio,
							     const char *fmt, va_list ap)
{
	char msg[1024];

	if (!dev->cfg.log_fn || prio > dev->cfg.log_priority)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	dev->cfg.log_fn(dev->cfg.log_userdata, prio, dev->name, msg);
}

RTS_EXPORT void rts_dev_log(const struct rts_dev *dev, int prio, const char *fmt, ...)
{
	va_list ap;

	if (!dev)
		return;
	va_start(ap, fmt);
	dev_vlog(dev, prio, fmt, ap);
	va_end(ap);
}

void dev_fail(struct rts_dev *dev, const char *why)
{
	const char *none = NULL;

	/* read by any thread (rts_dev_get_failure); set once, by the I/O or the control thread */
	if (!atomic_compare_exchange_strong_explicit(&dev->failure, &none, why,
						     memory_order_release, memory_order_relaxed))
		return;
	rts_dev_err(dev, "device failed: %s", why);
}

static struct timespec deadline_in(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* ------------------------------------------------------------- accessors */

RTS_EXPORT const uint8_t *rts_cmd_get_cdb(const struct rts_cmd *cmd)
{
	return cmd->cdb;
}

RTS_EXPORT unsigned int rts_cmd_get_cdb_len(const struct rts_cmd *cmd)
{
	return cmd->cdb_len;
}

RTS_EXPORT const struct iovec *rts_cmd_get_iov(const struct rts_cmd *cmd, unsigned int *ret_cnt)
{
	if (ret_cnt)
		*ret_cnt = cmd->iovcnt;
	return cmd->iov;
}

RTS_EXPORT uint64_t rts_cmd_get_data_len(const struct rts_cmd *cmd)
{
	return cmd->data_len;
}

RTS_EXPORT uint16_t rts_cmd_get_id(const struct rts_cmd *cmd)
{
	return cmd->cmd_id;
}

RTS_EXPORT struct rts_dev *rts_cmd_get_dev(const struct rts_cmd *cmd)
{
	return cmd->dev;
}

RTS_EXPORT void *rts_cmd_get_private(const struct rts_cmd *cmd)
{
	return cmd->priv;
}

RTS_EXPORT const char *rts_dev_get_name(const struct rts_dev *dev)
{
	return dev->name;
}

RTS_EXPORT const char *rts_dev_get_cfgstring(const struct rts_dev *dev)
{
	return dev->handler_cfg;
}

RTS_EXPORT const char *rts_dev_get_option(const struct rts_dev *dev, const char *key)
{
	if (!dev || !key || !dev->options)
		return NULL;
	for (char **o = dev->options; o[0]; o += 2)
		if (strcmp(o[0], key) == 0)
			return o[1];
	return NULL;
}

RTS_EXPORT uint32_t rts_dev_get_block_size(const struct rts_dev *dev)
{
	return dev->di.block_size;
}

RTS_EXPORT uint64_t rts_dev_get_num_lbas(const struct rts_dev *dev)
{
	return dev->di.num_lbas;
}

RTS_EXPORT void rts_dev_set_num_lbas(struct rts_dev *dev, uint64_t num_lbas)
{
	if (dev->di.num_lbas != num_lbas && dev->running)
		dev->ua_capacity_changed = true;
	dev->di.num_lbas = num_lbas;
}

RTS_EXPORT uint64_t rts_dev_get_size(const struct rts_dev *dev)
{
	return atomic_load_explicit(&((struct rts_dev *)dev)->size, memory_order_relaxed);
}

RTS_EXPORT uint32_t rts_dev_get_max_xfer_blocks(const struct rts_dev *dev)
{
	return dev->di.max_xfer_blocks;
}

RTS_EXPORT bool rts_dev_get_write_cache(const struct rts_dev *dev)
{
	return dev->st.write_cache;
}

RTS_EXPORT void rts_dev_set_write_cache(struct rts_dev *dev, bool enabled)
{
	dev->di.write_cache = enabled;
	dev->st.write_cache = enabled;
}

RTS_EXPORT void rts_dev_set_read_only(struct rts_dev *dev, bool ro)
{
	dev->di.read_only = ro;
}

RTS_EXPORT void rts_dev_set_thin_provisioning(struct rts_dev *dev, bool enabled,
					      uint32_t opt_gran_blocks)
{
	dev->di.thin = enabled && dev->h->unmap;
	dev->di.opt_unmap_gran = opt_gran_blocks ? opt_gran_blocks : 1;
	dev->di.max_unmap_blocks = dev->di.thin ? UINT32_MAX : 0;
	dev->di.max_unmap_descs = dev->di.thin ? 256 : 0;
}

RTS_EXPORT void rts_dev_set_solid_state(struct rts_dev *dev, bool solid_state)
{
	dev->di.solid_state = solid_state;
}

RTS_EXPORT void *rts_dev_get_private(const struct rts_dev *dev)
{
	return dev->priv;
}

RTS_EXPORT void rts_dev_set_private(struct rts_dev *dev, void *priv)
{
	dev->priv = priv;
}

RTS_EXPORT struct io_uring *rts_dev_get_uring(struct rts_dev *dev)
{
	return &dev->uring;
}

/*
 * Count a handler SQE in (+1) or its final CQE out (-1) under its tag. Only what is tracked
 * can be cancelled on abort; beyond RTS_CMD_TRACK distinct tags the rest simply completes.
 */
static void track_sqe(struct rts_cmd *cmd, uint16_t tag, int delta)
{
	unsigned int i, free_i = RTS_CMD_TRACK;

	for (i = 0; i < RTS_CMD_TRACK; i++) {
		if (cmd->sqe_cnt[i] && cmd->sqe_tag[i] == tag) {
			cmd->sqe_cnt[i] = (uint16_t)(cmd->sqe_cnt[i] + delta);
			return;
		}
		if (!cmd->sqe_cnt[i] && free_i == RTS_CMD_TRACK)
			free_i = i;
	}
	if (delta > 0 && free_i < RTS_CMD_TRACK) {
		cmd->sqe_tag[free_i] = tag;
		cmd->sqe_cnt[free_i] = 1;
	}
}

RTS_EXPORT bool rts_cmd_is_aborted(const struct rts_cmd *cmd)
{
	return cmd->aborted;
}

RTS_EXPORT struct io_uring_sqe *rts_dev_get_sqe(struct rts_dev *dev, struct rts_cmd *cmd,
						uint16_t tag)
{
	struct io_uring_sqe *sqe = uring_get_sqe(&dev->uring);

	if (_unlikely_(!sqe)) {
		rts_dev_err(dev, "io_uring submission queue stuck full");
		return NULL;
	}
	io_uring_sqe_set_data64(sqe, ud_make(UD_HANDLER, cmd->slot, tag));
	track_sqe(cmd, tag, 1);
	return sqe;
}

RTS_EXPORT const struct rts_handler *rts_dev_get_handler(const struct rts_dev *dev)
{
	return dev->h;
}

RTS_EXPORT const char *rts_dev_get_failure(const struct rts_dev *dev)
{
	return atomic_load_explicit(&((struct rts_dev *)dev)->failure, memory_order_acquire);
}

RTS_EXPORT int rts_dev_get_stats(const struct rts_dev *dev, struct rts_dev_stats *ret)
{
	struct dev_stats_atomic *s = (struct dev_stats_atomic *)&dev->stats;
	struct rts_dev_stats v = { .struct_size = sizeof(v) };
	size_t size;

	assert_return(dev && ret && ret->struct_size >= RTS_DEV_STATS_SIZE_V1, -EINVAL);
	size = MIN((size_t)ret->struct_size, sizeof(v));
	v = (struct rts_dev_stats){
		.struct_size = (uint32_t)size,
		.cmds = atomic_load_explicit(&s->cmds, memory_order_relaxed),
		.completions = atomic_load_explicit(&s->completions, memory_order_relaxed),
		.kicks = atomic_load_explicit(&s->kicks, memory_order_relaxed),
		.wakeups = atomic_load_explicit(&s->wakeups, memory_order_relaxed),
		.emulated = atomic_load_explicit(&s->emulated, memory_order_relaxed),
		.handler_ops = atomic_load_explicit(&s->handler_ops, memory_order_relaxed),
		.errors = atomic_load_explicit(&s->errors, memory_order_relaxed),
		.aborts = atomic_load_explicit(&s->aborts, memory_order_relaxed),
		.aborts_cancelled = atomic_load_explicit(&s->aborts_cancelled,
							 memory_order_relaxed),
	};
	/* nfree is only written by the I/O thread, with relaxed atomic stores */
	v.inflight = dev->ncmds - __atomic_load_n(&dev->nfree, __ATOMIC_RELAXED);
	memcpy(ret, &v, size);
	return 0;
}

RTS_EXPORT int rts_dev_get_io_stats(const struct rts_dev *dev, struct rts_dev_io_stats *ret)
{
	struct iostat *s = (struct iostat *)&dev->io;
	struct rts_dev_io_stats v = { .struct_size = sizeof(v) };
	uint64_t hist[IOSTAT_BUCKETS], n = 0;
	size_t size;

	if (!ret || ret->struct_size < offsetof(struct rts_dev_io_stats, read_cmds))
		return -EINVAL;
	size = ret->struct_size < sizeof(v) ? ret->struct_size : sizeof(v);
	v.read_cmds = atomic_load_explicit(&s->cmds[IOSTAT_READ], memory_order_relaxed);
	v.write_cmds = atomic_load_explicit(&s->cmds[IOSTAT_WRITE], memory_order_relaxed);
	v.other_cmds = atomic_load_explicit(&s->cmds[IOSTAT_OTHER], memory_order_relaxed);
	v.read_bytes = atomic_load_explicit(&s->bytes[IOSTAT_READ], memory_order_relaxed);
	v.write_bytes = atomic_load_explicit(&s->bytes[IOSTAT_WRITE], memory_order_relaxed);
	for (unsigned int b = 0; b < IOSTAT_BUCKETS; b++) {
		hist[b] = atomic_load_explicit(&s->bucket[b], memory_order_relaxed);
		n += hist[b];
	}
	v.lat_count = n;
	v.lat_p50_ns = iostat_percentile(hist, n, 500);
	v.lat_p99_ns = iostat_percentile(hist, n, 990);
	v.lat_p999_ns = iostat_percentile(hist, n, 999);
	v.lat_max_ns = atomic_load_explicit(&s->lat_max_ns, memory_order_relaxed);
	memcpy(ret, &v, size);
	ret->struct_size = (uint32_t)size;
	return 0;
}

RTS_EXPORT int rts_dev_get_latency_histogram(const struct rts_dev *dev, uint64_t *counts,
					     uint64_t *upper_ns, unsigned int n)
{
	struct iostat *s = (struct iostat *)&dev->io;

	if (n && (!counts || !upper_ns))
		return -EINVAL;
	if (n > IOSTAT_BUCKETS)
		n = IOSTAT_BUCKETS;
	for (unsigned int b = 0; b < n; b++) {
		counts[b] = atomic_load_explicit(&s->bucket[b], memory_order_relaxed);
		upper_ns[b] = iostat_bucket_max(b);
	}
	return IOSTAT_BUCKETS;
}

/* --------------------------------------------------------------- completion */

void dev_refresh_serial(struct rts_dev *dev)
{
	char serial[sizeof(dev->di.serial)];

	/* LIO leaves it empty until someone sets one: keep ours then */
	if (dev->serial_file && tcmu_read_serial_file(dev->serial_file, serial, sizeof(serial)) > 0)
		memcpy(dev->di.serial, serial, sizeof(serial));
}

int dev_bounce(struct rts_cmd *cmd, size_t len)
{
	void *b;

	if (cmd->bounce_cap >= len)
		return 0;
	/* Rare path (CAW, VERIFY, WRITE SAME, UNMAP): kept for the slot, page-aligned so a
	 * handler can hand it to O_DIRECT I/O. Its content is not kept when it grows. */
	if (posix_memalign(&b, 4096, len) != 0)
		return -ENOMEM;
	free(cmd->bounce);
	cmd->bounce = b;
	cmd->bounce_cap = len;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Count a finished command by direction with its latency, from the loop pass that took it
 * from the ring to the pass that completed it. The clock is read once per pass (after the
 * wait), not per command: two clock reads per command cost a null handler 25 % more CPU in
 * bench_sim, one per pass costs nothing measurable. A command completed in the pass that
 * took it counts as 0 ns: it took less than one pass.
 */
static void io_account(struct rts_dev *dev, const struct rts_cmd *cmd, uint8_t status,
		       int64_t data_in_len)
{
	enum iostat_dir dir = IOSTAT_OTHER;
	uint64_t bytes = 0, t = dev->clock_ns;

	switch (cmd->info.kind) {
	case SCSI_KIND_READ:
		dir = IOSTAT_READ;
		break;
	case SCSI_KIND_WRITE:
	case SCSI_KIND_WRITE_VERIFY:
	case SCSI_KIND_WRITE_SAME:
	case SCSI_KIND_CAW:
		dir = IOSTAT_WRITE;
		break;
	default:
		break;
	}
	if (status == RTS_SAM_GOOD && dir != IOSTAT_OTHER)
		bytes = data_in_len >= 0 && (uint64_t)data_in_len < cmd->data_len ?
				(uint64_t)data_in_len :
				cmd->data_len;
	iostat_record(&dev->io, dir, bytes, t > cmd->t_start_ns ? t - cmd->t_start_ns : 0);
}

void dev_cmd_finish(struct rts_cmd *cmd, uint8_t status, const uint8_t *sense,
		    size_t sense_len, int64_t data_in_len)
{
	struct rts_dev *dev = cmd->dev;
	struct ring_rsp rsp = {
		.status = status,
		.sense = status == RTS_SAM_CHECK_CONDITION ? sense : NULL,
		.sense_len = sense_len,
	};
	bool had_lock = cmd->lock != RLOCK_NONE;
	bool internal = cmd->origin != NULL;

	if (_unlikely_(cmd->xc))
		xcopy_op_free(cmd);
	if (_unlikely_(internal)) {
		/* an EXTENDED COPY's read or write: the result goes to the copy, not the ring */
		xcopy_internal_done(cmd, status);
	} else {
		/*
		 * Data-In shorter than the initiator's buffer (an allocation length, or a READ
		 * whose buffer is larger than its CDB: LIO passes TCMU the buffer unchecked):
		 * READ_LEN says how much, and the kernel reports the rest as residual. The
		 * kernel ignores READ_LEN for data-out commands; with CHECK CONDITION it would
		 * send the data too, so a failed command sets it only when told to.
		 */
		bool ok = status == RTS_SAM_GOOD || status == RTS_SAM_CONDITION_MET;
		uint64_t sent = data_in_len >= 0 ? (uint64_t)data_in_len : cmd->data_len;

		if (sent < cmd->buf_len && (data_in_len >= 0 || ok) &&
		    (dev->ring.caps & TCMU_MAILBOX_FLAG_CAP_READ_LEN)) {
			rsp.uflags |= TCMU_UFLAG_READ_LEN;
			rsp.read_len = (uint32_t)sent;
		}
		if (_unlikely_(sent == 0 && cmd->buf_len && ok)) {
			/*
			 * Nothing to send (allocation length 0): the kernel takes READ_LEN 0 as
			 * "not given" (tcmu_handle_completion) and sends the whole buffer, so
			 * it must hold zeros, not what an earlier command left in the data area.
			 */
			for (unsigned int i = 0; i < cmd->iovcnt; i++)
				memset(cmd->iov[i].iov_base, 0, cmd->iov[i].iov_len);
		}
		int r = ring_complete(&dev->ring, cmd->cmd_id, &rsp);
		if (r == -EPROTO)
			dev_fail(dev, "ring slot headers changed under us: cannot write completions");
		else if (r < 0)
			dev_fail(dev, "completion without a consumed ring slot");
		if (status != RTS_SAM_GOOD && status != RTS_SAM_CONDITION_MET)
			STAT_INC(dev, errors);
		STAT_INC(dev, completions);
		io_account(dev, cmd, status, data_in_len);
		dev->need_kick = true;
	}
	if (had_lock)
		dispatch_release(cmd);
	cmd->in_use = false;
	cmd->step = NULL;
	cmd->intercept = NULL;
	dev->free_slots[dev->nfree] = cmd->slot;
	__atomic_store_n(&dev->nfree, dev->nfree + 1, __ATOMIC_RELAXED); /* read by get_stats */
	if (had_lock && dev->wait_head)
		dispatch_retry_waiters(dev);
	if (_unlikely_(internal) && dev->peer_wait_head)
		xcopy_run_peer(dev); /* a copy slot is free again */
}

/* ------------------------------------------------------- handler contract */

void dev_contract(const struct rts_dev *dev, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	rts_dev_err(dev, "handler '%s' broke its contract: %s", dev->h->subtype, msg);
}

/*
 * The operation's name from what dev_op_begin() was given: the call's source text
 * ("dev->h->read(dev, cmd, ...)" gives "read") or a plain name. Only run for messages.
 */
static const char *op_label(const char *text, char *buf, size_t n)
{
	const char *p = text ? strstr(text, "h->") : NULL;
	size_t len;

	if (!p)
		return text ? text : "?";
	p += 3;
	len = strcspn(p, "(");
	snprintf(buf, n, "%.*s", (int)len, p);
	return buf;
}

uint32_t dev_op_begin(struct rts_cmd *cmd, const char *name)
{
	cmd->op_active = true;
	cmd->op_name = name;
	atomic_store_explicit(&cmd->dev->in_handler, name, memory_order_relaxed);
	return ++cmd->op_gen;
}

/* The operation ended without the handler completing it: the core ends the command. */
static void op_drop(struct rts_cmd *cmd, int err)
{
	cmd->op_active = false;
	cmd->op_gen++;
	cmd->step = NULL;
	dev_cmd_end(cmd, err);
}

void dev_op_end(struct rts_cmd *cmd, uint32_t token, const char *text, int r)
{
	struct rts_dev *dev = cmd->dev;
	/* the slot cannot be reused during the call: nothing drains the ring from in there */
	bool completed = cmd->op_gen != token || !cmd->in_use;
	char nbuf[32];
	const char *name;

	atomic_store_explicit(&dev->in_handler, NULL, memory_order_relaxed);
	if (_likely_(r == 0))
		return;
	if (r < 0 && !completed) {
		op_drop(cmd, r);
		return;
	}
	name = op_label(text, nbuf, sizeof(nbuf));
	if (r < 0) {
		dev_contract(dev,
			     "completed cmd %u and then returned %d (%s) from %s(): an operation that "
			     "completes must return 0; the return value is ignored",
			     cmd->cmd_id, r, strerror(-r), name);
		return;
	}
	if (completed) {
		dev_contract(dev, "returned %d from %s(): not 0 or -errno (cmd %u had completed)", r,
			     name, cmd->cmd_id);
		return;
	}
	dev_contract(dev, "returned %d from %s(): not 0 or -errno; cmd %u fails with HARDWARE ERROR",
		     r, name, cmd->cmd_id);
	op_drop(cmd, -EPROTO);
}

bool dev_op_declined(struct rts_cmd *cmd, uint32_t token)
{
	atomic_store_explicit(&cmd->dev->in_handler, NULL, memory_order_relaxed);
	if (cmd->op_gen == token && cmd->in_use) {
		cmd->op_active = false;
		return true;
	}
	dev_contract(cmd->dev,
		     "completed cmd %u and then returned RTS_CMD_NOT_HANDLED from handle_cmd(); "
		     "the command stays completed",
		     cmd->cmd_id);
	return false;
}

/* A handler completion: valid only while an operation of @cmd is outstanding. */
static bool op_claim(struct rts_cmd *cmd, const char *how)
{
	if (_likely_(cmd->in_use && cmd->op_active)) {
		cmd->op_active = false;
		cmd->op_gen++;
		return true;
	}
	dev_contract(cmd->dev, "completed cmd %u twice (%s with no operation of it outstanding); ignored",
		     cmd->cmd_id, how);
	return false;
}

static void finish_sense(struct rts_cmd *cmd, uint8_t key, uint8_t asc, uint8_t ascq)
{
	struct scsi_result res;

	scsi_set_sense(&res, key, (uint16_t)(asc << 8 | ascq));
	dev_cmd_finish(cmd, res.status, res.sense, sizeof(res.sense), -1);
}

void dev_cmd_end(struct rts_cmd *cmd, int err)
{
	cmd_step_fn step = cmd->step;

	if (_unlikely_(cmd->aborted)) {
		/* the kernel ignores the status; start nothing more for this command */
		dev_cmd_finish(cmd, RTS_SAM_TASK_ABORTED, NULL, 0, -1);
		return;
	}
	if (step) {
		step(cmd, err);
		return;
	}
	if (_unlikely_(cmd->origin))
		cmd->xc_err = err; /* the copy wants the errno (-EOPNOTSUPP from copy_range) */
	if (!err) {
		dev_cmd_finish(cmd, RTS_SAM_GOOD, NULL, 0, -1);
		return;
	}
	uint8_t status, key;
	uint16_t asc;
	bool write = cmd->info.kind != SCSI_KIND_READ && cmd->info.kind != SCSI_KIND_VERIFY &&
		     cmd->info.kind != SCSI_KIND_EMULATE;
	errno_to_sense(err, write, &status, &key, &asc);
	if (status == RTS_SAM_CHECK_CONDITION) {
		finish_sense(cmd, key, (uint8_t)(asc >> 8), (uint8_t)asc);
		return;
	}
	dev_cmd_finish(cmd, status, NULL, 0, -1);
}

RTS_EXPORT void rts_cmd_complete(struct rts_cmd *cmd, int err)
{
	void (*fn)(struct rts_cmd *, int);

	if (!op_claim(cmd, "rts_cmd_complete"))
		return;
	fn = cmd->intercept;
	if (_unlikely_(fn)) {
		/* a wrapper handler sees the wrapped handler's result; the operation stays its */
		cmd->intercept = NULL;
		cmd->op_active = true;
		fn(cmd, err);
		return;
	}
	dev_cmd_end(cmd, err);
}

RTS_EXPORT void rts_cmd_intercept(struct rts_cmd *cmd, void (*fn)(struct rts_cmd *cmd, int err))
{
	cmd->intercept = fn;
}

RTS_EXPORT int rts_dev_wrap_cfgstring(struct rts_dev *dev, const char *inner)
{
	const char *start, *end;

	assert_return(dev && inner, -EINVAL);
	/* anywhere in the handler's part of the cfgstring: a wrapper can also restore it */
	start = cfgstring_split(dev->full_cfgstring).handler;
	end = start + strlen(start);
	if (inner < start || inner > end)
		return -EINVAL;
	dev->handler_cfg = inner;
	return 0;
}

RTS_EXPORT void rts_cmd_complete_sense(struct rts_cmd *cmd, uint8_t key, uint8_t asc,
				       uint8_t ascq)
{
	if (!op_claim(cmd, "rts_cmd_complete_sense"))
		return;
	cmd->intercept = NULL;
	cmd->step = NULL;
	finish_sense(cmd, key, asc, ascq);
}

RTS_EXPORT void rts_cmd_complete_sense_info(struct rts_cmd *cmd, uint8_t key, uint8_t asc,
					    uint8_t ascq, uint64_t info)
{
	struct scsi_result res;

	scsi_set_sense_info(&res, key, (uint16_t)(asc << 8 | ascq), info);
	dev_cmd_finish(cmd, res.status, res.sense, sizeof(res.sense), -1);
}

RTS_EXPORT void rts_cmd_complete_status(struct rts_cmd *cmd, uint8_t status)
{
	if (!op_claim(cmd, "rts_cmd_complete_status"))
		return;
	cmd->intercept = NULL;
	cmd->step = NULL;
	dev_cmd_finish(cmd, status, NULL, 0, -1);
}

RTS_EXPORT void rts_cmd_complete_async(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = cmd->dev;
	uint64_t one = 1;

	/* Pushing a queued command again would loop the stack: report it instead. */
	if (atomic_exchange_explicit(&cmd->async_queued, true, memory_order_acq_rel)) {
		dev_contract(dev, "completed cmd %u twice (rts_cmd_complete_async while its first "
			     "completion is still queued); ignored", cmd->cmd_id);
		return;
	}
	cmd->async_err = err;
	/* Only the push onto an empty stack needs to wake the loop. */
	if (cmd_stack_push(&dev->async_head, cmd, offsetof(struct rts_cmd, async_next)) &&
	    write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		rts_dev_err(dev, "cannot wake the I/O thread: %s", strerror(errno));
}

static void run_async_completions(struct rts_dev *dev)
{
	struct rts_cmd *fifo = cmd_stack_take(&dev->async_head, offsetof(struct rts_cmd, async_next));

	while (fifo) {
		struct rts_cmd *next = fifo->async_next;
		int err = fifo->async_err;

		atomic_store_explicit(&fifo->async_queued, false, memory_order_release);
		rts_cmd_complete(fifo, err);
		fifo = next;
	}
}

/* ------------------------------------------------------------- creation */

/* The device's own copy of an optional string (@cfg_field: the copy, NULL when unset or ""). */
static int dup_nonempty(const char *s, char **own, const char **cfg_field)
{
	*cfg_field = NULL;
	if (!s || !*s)
		return 0;
	*own = strdup(s);
	if (!*own)
		return -ENOMEM;
	*cfg_field = *own;
	return 0;
}

static int parse_config(struct rts_dev *dev, const struct rts_dev_config *cfg,
			const struct rts_handler *h)
{
	struct cfgstring_parts parts;

	if (!cfg->name || !*cfg->name || !cfg->cfgstring)
		return -EINVAL;
	parts = cfgstring_split(cfg->cfgstring);
	if (!cfgstring_subtype_is(&parts, h->subtype))
		return -EINVAL;
	dev->cfg = *cfg;
	dev->name = strdup(cfg->name);
	dev->full_cfgstring = strdup(cfg->cfgstring);
	if (!dev->name || !dev->full_cfgstring)
		return -ENOMEM;
	dev->cfg.name = dev->name;
	/* the serial is copied into di.serial by init_dev_info() */
	if (dup_nonempty(cfg->serial, &dev->serial, &dev->cfg.serial) < 0 ||
	    dup_nonempty(cfg->serial_file, &dev->serial_file, &dev->cfg.serial_file) < 0)
		return -ENOMEM;
	dev->cfg.options = NULL;
	if (cfg->options) {
		size_t n = 0;

		while (cfg->options[n] && cfg->options[n + 1])
			n += 2;
		dev->options = calloc(n + 1, sizeof(char *));
		if (!dev->options)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			dev->options[i] = strdup(cfg->options[i]);
			if (!dev->options[i])
				return -ENOMEM;
		}
	}
	dev->cfg.cfgstring = dev->full_cfgstring;
	dev->handler_cfg = cfgstring_split(dev->full_cfgstring).handler;
	if (!dev->cfg.block_size)
		dev->cfg.block_size = 512;
	if (!dev->cfg.queue_depth)
		dev->cfg.queue_depth = 128;
	if (!dev->cfg.log_priority)
		dev->cfg.log_priority = RTS_LOG_INFO;
	if (dev->cfg.block_size < 512 || dev->cfg.block_size > 65536 ||
	    (dev->cfg.block_size & (dev->cfg.block_size - 1)) ||
	    dev->cfg.queue_depth > DEV_MAX_QUEUE_DEPTH)
		return -EINVAL;
	return 0;
}

static void init_dev_info(struct rts_dev *dev)
{
	struct scsi_dev_info *di = &dev->di;

	*di = (struct scsi_dev_info){
		.block_size = dev->cfg.block_size,
		.num_lbas = dev->cfg.size / dev->cfg.block_size,
		.max_xfer_blocks = 0, /* dev_update_xfer_limit() */
		.opt_xfer_blocks = 0,
		.opt_unmap_gran = 1,
		.max_write_same_blocks = 0xffffffff / dev->cfg.block_size,
		.max_caw_blocks = 1,
		.write_cache = dev->cfg.write_cache,
		.xcopy = true, /* EXTENDED COPY (LID1) among the devices of this process: xcopy.c */
	};
	/* Handlers read these in open(): valid before it runs. */
	dev->size = dev->cfg.size;
	dev->st.write_cache = dev->cfg.write_cache;
	snprintf(di->vendor, sizeof(di->vendor), "%s", "LIO-ORG");
	snprintf(di->product, sizeof(di->product), "%s", "TCMU device");
	snprintf(di->revision, sizeof(di->revision), "%s", "0002");
	if (dev->cfg.serial && *dev->cfg.serial) {
		snprintf(di->serial, sizeof(di->serial), "%s", dev->cfg.serial);
	} else {
		/* Like LIO's generated vpd_unit_serial: hex digits (they seed the NAA id). */
		uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;
		for (const char *p = dev->name; *p; p++) {
			h1 = (h1 ^ (uint8_t)*p) * 0x100000001b3ull;
			h2 = (h2 ^ (uint8_t)*p) * 0x100000001b3ull + 1;
		}
		snprintf(di->serial, sizeof(di->serial), "%016llx%016llx", (unsigned long long)h1,
			 (unsigned long long)h2);
	}
}

/*
 * MAXIMUM TRANSFER LENGTH (VPD B0h), advertised and enforced (tcmu/scsi/cdb.c). The rule:
 * the smallest of
 *   - what one command's data can occupy: the whole data area (the kernel refuses a command
 *     larger than the data area with INVALID FIELD IN CDB and queues smaller ones until
 *     there is room), and a byte count the ring's 32-bit lengths can describe;
 *   - the handler's limit, rts_dev_set_max_xfer_blocks() (0: none);
 *   - rts_dev_config.max_xfer_blocks when the embedder set one: rts-runner passes
 *     attrib/hw_max_sectors when an administrator set it explicitly (any value but the
 *     kernel's TCMU default of 128, which nobody chose, see runner/kernel.c).
 * The kernel itself does not enforce hw_max_sectors for TCMU (passthrough_parse_cdb sizes
 * commands from the fabric; only the data area bounds them), so the limit is ours to pick.
 */
void dev_update_xfer_limit(struct rts_dev *dev)
{
	uint32_t bs = dev->di.block_size;
	uint64_t area = dev->ring.map_size > dev->ring.data_off
				? dev->ring.map_size - dev->ring.data_off
				: 0;
	uint64_t lim = area / bs;

	if (lim > UINT32_MAX / bs)
		lim = UINT32_MAX / bs;
	if (dev->cfg.max_xfer_blocks && dev->cfg.max_xfer_blocks < lim)
		lim = dev->cfg.max_xfer_blocks;
	if (dev->handler_max_xfer && dev->handler_max_xfer < lim)
		lim = dev->handler_max_xfer;
	dev->di.max_xfer_blocks = lim ? (uint32_t)lim : 1;
}

RTS_EXPORT void rts_dev_set_max_xfer_blocks(struct rts_dev *dev, uint32_t blocks)
{
	dev->handler_max_xfer = blocks;
	dev_update_xfer_limit(dev);
}

static int alloc_slots(struct rts_dev *dev)
{
	uint32_t n = dev->cfg.queue_depth + DEV_XCOPY_SLOTS;
	size_t psz = ALIGN_UP((size_t)dev->h->cmd_private_size, 16);

	dev->cmds = calloc(n, sizeof(*dev->cmds));
	dev->free_slots = calloc(n, sizeof(*dev->free_slots));
	if (psz)
		dev->priv_area = calloc(n, psz);
	if (!dev->cmds || !dev->free_slots || (psz && !dev->priv_area))
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		struct rts_cmd *c = &dev->cmds[i];
		c->dev = dev;
		c->slot = (uint16_t)i;
		c->iov = c->inline_iov;
		c->priv = psz ? dev->priv_area + i * psz : NULL;
		dev->free_slots[i] = n - 1 - i;
	}
	dev->ncmds = n;
	dev->nfree = n;
	return 0;
}

RTS_EXPORT struct rts_dev *rts_dev_free(struct rts_dev *dev)
{
	if (!dev)
		return NULL;
	if (dev->close_stuck) {
		struct timespec ts = deadline_in(dev->handler_timeout_ms);

		if (pthread_timedjoin_np(dev->close_thread, NULL, &ts) == 0)
			dev->close_stuck = false; /* the handler's close() has returned since */
	}
	if (dev->wedged)
		rts_dev_stop(dev, dev->handler_timeout_ms);
	if (dev->wedged || dev->close_stuck || dev->offload_stuck) {
		/* a thread may still be inside the handler, using this device: leave it */
		rts_dev_err(dev, "not freed: a handler call never returned (the memory is leaked)");
		return NULL;
	}
	if (dev->uring_ready)
		io_uring_queue_exit(&dev->uring);
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);
	if (dev->tp.owns_fds) {
		if (dev->tp.kick_fd >= 0)
			close(dev->tp.kick_fd);
		if (dev->tp.irq_fd >= 0 && dev->tp.irq_fd != dev->tp.kick_fd)
			close(dev->tp.irq_fd);
	}
	if (dev->tp.owns_map && dev->tp.map)
		munmap(dev->tp.map, dev->tp.map_size);
	pthread_mutex_destroy(&dev->ctl_lock);
	pthread_cond_destroy(&dev->ctl_cond);
	if (dev->cmds)
		for (uint32_t i = 0; i < dev->ncmds; i++) {
			free(dev->cmds[i].heap_iov);
			free(dev->cmds[i].bounce);
		}
	free(dev->cmds);
	free(dev->free_slots);
	free(dev->priv_area);
	free(dev->name);
	free(dev->full_cfgstring);
	for (char **o = dev->options; o && *o; o++)
		free(*o);
	free(dev->options);
	free(dev->serial);
	free(dev->serial_file);
	dev_alua_free(dev);
	free(dev->ctl_cfgstring);
	free(dev);
	return NULL;
}
DEFINE_CLEANUP_FUNC(struct rts_dev *, rts_dev_free)

int dev_new(const struct rts_dev_config *cfg, const struct rts_handler *h,
		   const struct dev_transport *tp, struct rts_dev **ret)
{
	_cleanup_(rts_dev_freep) struct rts_dev *dev = NULL;
	struct rts_dev_config c = { 0 };
	const char *why = NULL;
	int r;

	/* fields past the caller's struct_size stay zero */
	if (!cfg || cfg->struct_size < RTS_DEV_CONFIG_SIZE_V1)
		return -EINVAL;
	memcpy(&c, cfg, MIN((size_t)cfg->struct_size, sizeof(c)));
	c.struct_size = sizeof(c);
	cfg = &c;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->wake_fd = -1;
	dev->handler_timeout_ms = DEV_HANDLER_TIMEOUT_MS;
	pthread_mutex_init(&dev->ctl_lock, NULL);
	pthread_cond_init(&dev->ctl_cond, NULL);
	dev->tp = *tp;
	dev->tp.owns_map = false; /* the caller unmaps on failure; owned once we succeed */
	dev->h = h;
	r = parse_config(dev, cfg, h);
	if (r < 0)
		return r;
	r = ring_attach(&dev->ring, tp->map, tp->map_size, &why);
	if (r < 0) {
		rts_dev_err(dev, "cannot use the command ring: %s", why);
		return r;
	}
	init_dev_info(dev);
	dev_update_xfer_limit(dev);
	r = alloc_slots(dev);
	if (r < 0)
		return r;
	dev->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->wake_fd < 0)
		return -errno;
	dev->tp.owns_map = tp->owns_map;
	*ret = TAKE_PTR(dev);
	return 0;
}

RTS_EXPORT int rts_dev_new_sim(const struct rts_dev_config *cfg, const struct rts_handler *handler,
			       struct rts_sim *sim, struct rts_dev **ret)
{
	struct dev_transport tp = {
		.kick_len = sizeof(uint64_t),
		.irq_len = sizeof(uint64_t),
	};

	assert_return(cfg && handler && sim && ret, -EINVAL);
	tp.map = rts_sim_get_map(sim, &tp.map_size);
	tp.kick_fd = rts_sim_get_kick_fd(sim);
	tp.irq_fd = rts_sim_get_irq_fd(sim);
	return dev_new(cfg, handler, &tp, ret);
}

RTS_EXPORT int rts_dev_open(struct rts_dev *dev, bool reopen, char **reterr_reason)
{
	int r;

	assert_return(dev && !dev->opened, -EINVAL);
	if (dev->h->check_config) {
		char *why = NULL;
		r = dev->h->check_config(dev->handler_cfg, &why);
		if (r < 0) {
			if (reterr_reason)
				*reterr_reason = why;
			else
				free(why);
			return r;
		}
		free(why);
	}
	r = dev->h->open(dev, reopen);
	if (r < 0) {
		if (reterr_reason && asprintf(reterr_reason, "handler '%s' cannot open '%s': %s",
					      dev->h->subtype, dev->handler_cfg, strerror(-r)) < 0)
			*reterr_reason = NULL;
		return r;
	}
	if (!dev->h->write)
		dev->di.read_only = true;
	if (!dev->di.num_lbas) {
		if (reterr_reason)
			*reterr_reason = strdup("device has no size (set dev_size or let the handler size it)");
		if (dev->h->close)
			dev->h->close(dev);
		return -EINVAL;
	}
	dev->size = dev->di.num_lbas * dev->di.block_size;
	scsi_state_init(&dev->st, &dev->di);
	dev->opened = true;
	rts_dev_info(dev, "opened by handler '%s': %llu blocks of %u bytes%s%s", dev->h->subtype,
		     (unsigned long long)dev->di.num_lbas, dev->di.block_size,
		     dev->di.thin ? ", thin" : "", dev->di.read_only ? ", read-only" : "");
	return 0;
}

static void *close_thread(void *arg)
{
	struct rts_dev *dev = arg;

	dev->h->close(dev);
	return NULL;
}

RTS_EXPORT void rts_dev_close(struct rts_dev *dev)
{
	struct timespec ts;
	int r;

	if (!dev || !dev->opened)
		return;
	dev->opened = false;
	if (!dev->h->close)
		return;
	if (dev->wedged) {
		rts_dev_err(dev, "handler '%s' close() skipped: the I/O thread is still inside the "
			    "handler", dev->h->subtype);
		return;
	}
	/* On its own thread so that a close() that never returns cannot hold the caller. */
	r = pthread_create(&dev->close_thread, NULL, close_thread, dev);
	if (r != 0) {
		dev->h->close(dev);
		return;
	}
	ts = deadline_in(dev->handler_timeout_ms);
	r = pthread_timedjoin_np(dev->close_thread, NULL, &ts);
	if (r == ETIMEDOUT) {
		dev_contract(dev, "close() did not return within %d ms; the device is left as it is",
			     dev->handler_timeout_ms);
		dev->close_stuck = true;
	}
}

/* ---------------------------------------------------------------- reconfig */

static int apply_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	int r;

	if (dev->h->reconfig) {
		atomic_store_explicit(&dev->in_handler, "reconfig", memory_order_relaxed);
		r = dev->h->reconfig(dev, rc);
		atomic_store_explicit(&dev->in_handler, NULL, memory_order_relaxed);
		if (r > 0) {
			dev_contract(dev, "returned %d from reconfig(): not 0 or -errno; refused", r);
			r = -EPROTO;
		}
	} else {
		r = rc->what & ~(uint32_t)RTS_RECONFIG_WRITE_CACHE ? -EOPNOTSUPP : 0;
	}
	if (r == 0 && (rc->what & RTS_RECONFIG_WRITE_CACHE))
		rts_dev_set_write_cache(dev, rc->write_cache);
	if (r == 0)
		dev->size = dev->di.num_lbas * dev->di.block_size;
	rts_dev_info(dev, "reconfig (0x%x): %s", rc->what, r ? strerror(-r) : "applied");
	return r;
}

static void run_ctl_request(struct rts_dev *dev)
{
	if (!atomic_exchange(&dev->ctl_pending, false))
		return;
	/* ctl_copy is stable while ctl_busy: the control thread queues nothing else */
	int r = apply_reconfig(dev, &dev->ctl_copy);
	pthread_mutex_lock(&dev->ctl_lock);
	dev->ctl_result = r;
	dev->ctl_done = true;
	dev->ctl_busy = false;
	pthread_cond_signal(&dev->ctl_cond);
	pthread_mutex_unlock(&dev->ctl_lock);
}

RTS_EXPORT void rts_dev_set_handler_timeout(struct rts_dev *dev, int timeout_ms)
{
	if (dev)
		dev->handler_timeout_ms = timeout_ms > 0 ? timeout_ms : DEV_HANDLER_TIMEOUT_MS;
}

RTS_EXPORT int rts_dev_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	uint64_t one = 1;
	struct timespec ts;
	int r = 0;

	assert_return(dev && rc && dev->opened, -EINVAL);
	assert_return(rc->struct_size >= rts_offsetofend(struct rts_reconfig, write_cache), -EINVAL);
	if (dev->wedged)
		return -EIO;
	if (!dev->running)
		return apply_reconfig(dev, rc);
	pthread_mutex_lock(&dev->ctl_lock);
	if (dev->ctl_busy) {
		/* an earlier request timed out and the handler has still not finished it */
		pthread_mutex_unlock(&dev->ctl_lock);
		rts_dev_err(dev, "reconfig refused: the previous one is still running in handler '%s'",
			    dev->h->subtype);
		return -EBUSY;
	}
	free(dev->ctl_cfgstring);
	dev->ctl_cfgstring = NULL;
	dev->ctl_copy = (struct rts_reconfig){ .struct_size = sizeof(dev->ctl_copy),
					       .what = rc->what,
					       .size = rc->size,
					       .write_cache = rc->write_cache };
	if (rc->cfgstring) {
		dev->ctl_cfgstring = strdup(rc->cfgstring);
		if (!dev->ctl_cfgstring) {
			pthread_mutex_unlock(&dev->ctl_lock);
			return -ENOMEM;
		}
		dev->ctl_copy.cfgstring = dev->ctl_cfgstring;
	}
	dev->ctl_done = false;
	dev->ctl_busy = true;
	pthread_mutex_unlock(&dev->ctl_lock);
	atomic_store(&dev->ctl_pending, true);
	if (write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	ts = deadline_in(dev->handler_timeout_ms);
	pthread_mutex_lock(&dev->ctl_lock);
	while (!dev->ctl_done && r == 0)
		r = pthread_cond_timedwait(&dev->ctl_cond, &dev->ctl_lock, &ts);
	if (dev->ctl_done) {
		r = dev->ctl_result;
	} else {
		const char *in = atomic_load_explicit(&dev->in_handler, memory_order_relaxed);

		char nbuf[32];

		rts_dev_err(dev, "reconfig not done after %d ms (the I/O thread is %s%s%s); "
			    "giving up on it, the device goes on",
			    dev->handler_timeout_ms, in ? "inside handler call " : "busy",
			    in ? op_label(in, nbuf, sizeof(nbuf)) : "", in ? "()" : "");
		r = -ETIMEDOUT;
	}
	pthread_mutex_unlock(&dev->ctl_lock);
	return r;
}

/* ------------------------------------------------------------------ I/O loop */

static void arm_read(struct rts_dev *dev, int fd, void *buf, unsigned int len, enum ud_kind k)
{
	struct io_uring_sqe *sqe = uring_get_sqe(&dev->uring);

	if (_unlikely_(!sqe)) {
		dev_fail(dev, "io_uring submission queue stuck full: cannot wait for wakeups");
		return;
	}
	io_uring_prep_read(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data64(sqe, ud_make(k, 0, 0));
}

/*
 * Wait for kicks with a multishot poll, never a read: a uio fd has no FMODE_NOWAIT, so
 * io_uring would punt a read to an io-wq worker that sleeps in uio_read(), and every kick
 * would cost the worker's wakeup on top of ours. A poll is woken straight from
 * uio_event_notify(). The event count is read (non-blocking) only when the poll is re-armed.
 */
static void arm_kick_poll(struct rts_dev *dev)
{
	struct io_uring_sqe *sqe = uring_get_sqe(&dev->uring);

	if (_unlikely_(!sqe)) {
		dev_fail(dev, "io_uring submission queue stuck full: cannot wait for kicks");
		return;
	}
	io_uring_prep_poll_multishot(sqe, dev->tp.kick_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud_make(UD_KICK, 0, 0));
}

static void consume_kick(struct rts_dev *dev)
{
	/* uio: 4-byte event count; eventfd: 8-byte counter. Both fds are O_NONBLOCK. */
	if (read(dev->tp.kick_fd, &dev->kick_buf, dev->tp.kick_len) < 0 && errno != EAGAIN &&
	    errno != EINTR)
		rts_dev_warn(dev, "reading the kick fd: %s", strerror(errno));
}

/*
 * Completions are reported with a direct write(): the kernel runs tcmu_irqcontrol() and
 * frees the ring space inline, in this thread. Through io_uring the write would be punted
 * to io-wq like the read above.
 */
static void send_kick(struct rts_dev *dev)
{
	ring_publish(&dev->ring);
	dev->need_kick = false;
	STAT_INC(dev, kicks);
	dev->irq_val = 1;
	while (write(dev->tp.irq_fd, &dev->irq_val, dev->tp.irq_len) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) /* eventfd counter saturated: the reader is behind anyway */
			rts_dev_err(dev, "completion kick failed: %s", strerror(errno));
		break;
	}
}

static int grow_iov(struct rts_cmd *cmd, unsigned int need)
{
	struct iovec *v;
	unsigned int cap = cmd->heap_cap ? cmd->heap_cap : 64;

	while (cap < need)
		cap *= 2;
	v = realloc(cmd->heap_iov, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cmd->heap_iov = v;
	cmd->heap_cap = cap;
	return 0;
}

/*
 * A TMR entry names commands the kernel has already aborted on the LIO side; it still
 * expects each one completed (status ignored). End them as early as possible: a command
 * waiting for a range lock ends now, in-flight handler I/O is cancelled (the handler sees
 * -ECANCELED in io_done), and rts_cmd_complete() runs no further step of an aborted
 * command. The handler can also poll rts_cmd_is_aborted().
 */
static void abort_cmd(struct rts_dev *dev, struct rts_cmd *cmd)
{
	bool cancelled = false;

	cmd->aborted = true;
	if (cmd->waiting) {
		dispatch_unwait(cmd);
		STAT_INC(dev, aborts_cancelled);
		dev_cmd_finish(cmd, RTS_SAM_TASK_ABORTED, NULL, 0, -1);
		return;
	}
	for (unsigned int i = 0; i < RTS_CMD_TRACK; i++) {
		struct io_uring_sqe *sqe;

		if (!cmd->sqe_cnt[i])
			continue;
		sqe = uring_get_sqe(&dev->uring);
		if (!sqe)
			break;
		io_uring_prep_cancel64(sqe, ud_make(UD_HANDLER, cmd->slot, cmd->sqe_tag[i]),
				       IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, ud_make(UD_CANCEL, cmd->slot, 0));
		cancelled = true;
	}
	if (cancelled)
		STAT_INC(dev, aborts_cancelled);
}

/*
 * The ring command with this id that is still ours, or NULL. A scan of the slots (a queue
 * depth's worth): TMRs are rare, and a table indexed by the 16-bit cmd_id cost every device
 * 128 KiB, resident whenever calloc() had to clear it.
 */
static struct rts_cmd *ring_cmd_by_id(struct rts_dev *dev, uint16_t id)
{
	for (uint32_t s = 0; s < dev->ncmds; s++) {
		struct rts_cmd *c = &dev->cmds[s];

		if (c->in_use && !c->origin && c->cmd_id == id)
			return c;
	}
	return NULL;
}

static void handle_tmr(struct rts_dev *dev, const struct ring_ent *ent)
{
	unsigned int found = 0;

	for (uint32_t i = 0; i < ent->tmr_cnt; i++) {
		struct rts_cmd *c = ring_cmd_by_id(dev, ring_tmr_id(ent, i));

		STAT_INC(dev, aborts);
		if (c && !c->aborted) {
			abort_cmd(dev, c);
			found++;
		}
	}
	rts_dev_info(dev, "TMR %s: %u command(s) named, %u in flight here",
		     ring_tmr_name(ent->tmr_type), ent->tmr_cnt, found);
}

static void take_cmd(struct rts_dev *dev, const struct ring_ent *ent)
{
	struct rts_cmd *cmd = dev_cmd_take_slot(dev, ent->cmd_id);
	unsigned int iovcnt = 0, bidi = 0;
	const char *why = NULL;
	int r;

	r = ring_cmd_decode(&dev->ring, ent, cmd->cdb, &cmd->cdb_len, cmd->iov, DEV_INLINE_IOVS,
			    &iovcnt, &bidi, &why);
	if (r == -E2BIG) {
		r = grow_iov(cmd, iovcnt);
		if (r == 0) {
			cmd->iov = cmd->heap_iov;
			r = ring_cmd_decode(&dev->ring, ent, cmd->cdb, &cmd->cdb_len, cmd->iov,
					    cmd->heap_cap, &iovcnt, &bidi, &why);
		} else {
			why = "out of memory for the iovec array";
		}
	}
	ring_consume(&dev->ring, ent);
	STAT_INC(dev, cmds);
	if (r < 0) {
		struct scsi_result res;

		rts_dev_err(dev, "cmd %u: %s", ent->cmd_id, why ? why : strerror(-r));
		cmd->iovcnt = 0;
		cmd->data_len = 0;
		if (r == -ENOMEM)
			dev_cmd_finish(cmd, RTS_SAM_TASK_SET_FULL, NULL, 0, -1);
		else {
			scsi_set_sense(&res, RTS_SENSE_ILLEGAL_REQUEST,
				       cmd->cdb_len > 1 ? SCSI_ASC_INTERNAL_TARGET_FAILURE :
							  SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
			dev_cmd_finish(cmd, res.status, res.sense, sizeof(res.sense), -1);
		}
		return;
	}
	/* BIDI Data-In iovecs follow Data-Out; the block commands we serve are unidirectional. */
	cmd->iovcnt = iovcnt - bidi;
	cmd->data_len = 0;
	for (unsigned int i = 0; i < cmd->iovcnt; i++)
		cmd->data_len += cmd->iov[i].iov_len;
	cmd->buf_len = cmd->data_len;
	dispatch_cmd(cmd);
}

static void drain_ring(struct rts_dev *dev)
{
	struct ring_ent ent;
	const char *why = NULL;

	/* the ring's commands leave DEV_XCOPY_SLOTS to EXTENDED COPY's internal ones */
	while (dev->nfree > DEV_XCOPY_SLOTS - dev->xc_internal && !dev->stopping &&
	       !rts_dev_get_failure(dev)) {
		int r = ring_next(&dev->ring, &ent, &why);

		if (r == 0)
			return;
		if (r < 0) {
			dev_fail(dev, why);
			return;
		}
		switch (ent.type) {
		case RING_ENT_CMD:
			take_cmd(dev, &ent);
			break;
		case RING_ENT_TMR:
			ring_consume(&dev->ring, &ent);
			handle_tmr(dev, &ent);
			break;
		case RING_ENT_UNKNOWN: {
			struct ring_rsp rsp = { .uflags = TCMU_UFLAG_UNKNOWN_OP };

			rts_dev_warn(dev, "ring entry with unknown opcode at offset %u", ent.off);
			ring_consume(&dev->ring, &ent);
			if (ring_complete(&dev->ring, ent.cmd_id, &rsp) == 0)
				dev->need_kick = true;
			break;
		}
		}
	}
}

/*
 * The stop's grace period is over and commands are still in flight: the handler broke its
 * contract (never completed them) or its I/O hangs. Fail what the handler holds with a named
 * reason so the kernel gets every slot back; I/O queued through rts_dev_get_sqe() is
 * cancelled instead (its buffers are in the data area: the command ends when the cancelled
 * I/O has landed, through io_done as usual).
 */
static void abandon_inflight(struct rts_dev *dev)
{
	for (uint32_t i = 0; i < dev->ncmds; i++) {
		struct rts_cmd *cmd = &dev->cmds[i];
		bool has_io = false;

		if (!cmd->in_use)
			continue;
		for (unsigned int t = 0; t < RTS_CMD_TRACK; t++)
			has_io |= cmd->sqe_cnt[t] != 0;
		if (has_io) {
			rts_dev_err(dev, "cmd %u: cancelling its handler I/O, still running after %d ms",
				    cmd->cmd_id, dev->handler_timeout_ms);
			abort_cmd(dev, cmd);
			continue;
		}
		if (cmd->waiting) {
			dispatch_unwait(cmd);
		} else if (cmd->op_active) {
			char nbuf[32];

			dev_contract(dev, "never completed cmd %u (%s) before the stop's timeout; it "
				     "fails with HARDWARE ERROR",
				     cmd->cmd_id, op_label(cmd->op_name, nbuf, sizeof(nbuf)));
		}
		cmd->op_active = false;
		cmd->op_gen++;
		cmd->step = NULL;
		cmd->aborted = false;
		dev_cmd_end(cmd, -EPROTO);
	}
}

static void handle_cqe(struct rts_dev *dev, const struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);

	switch ((enum ud_kind)(ud >> UD_KIND_SHIFT)) {
	case UD_KICK:
		if (cqe->res < 0 && cqe->res != -EINTR && cqe->res != -ECANCELED) {
			rts_dev_err(dev, "polling the kick fd: %s", strerror(-cqe->res));
			dev_fail(dev, "polling the kick fd failed");
			return;
		}
		/*
		 * The multishot poll posts one CQE per wakeup of the fd and stays armed, so the
		 * event count needs no read() per wakeup: drain_ring() below looks at the ring
		 * itself. Only a poll that ended is re-armed, and that first clears the count, or
		 * the fresh poll would fire at once on the old kicks.
		 */
		if (!(cqe->flags & IORING_CQE_F_MORE)) {
			consume_kick(dev);
			arm_kick_poll(dev);
		}
		break;
	case UD_WAKE:
		/* Re-armed while stopping too: async completions, abandon and force_exit of a
		 * stop still have to wake the loop. */
		arm_read(dev, dev->wake_fd, &dev->wake_buf, sizeof(dev->wake_buf), UD_WAKE);
		if (atomic_load(&dev->stop))
			dev->stopping = true;
		run_async_completions(dev);
		xcopy_run_peer(dev);
		run_ctl_request(dev);
		if (atomic_exchange(&dev->abandon, false))
			abandon_inflight(dev);
		break;
	case UD_CANCEL:
		/* -ENOENT/-EALREADY: the I/O finished or is past cancelling; it completes itself */
		if (cqe->res < 0 && cqe->res != -ENOENT && cqe->res != -EALREADY)
			rts_dev_warn(dev, "cancelling an aborted command's I/O: %s",
				     strerror(-cqe->res));
		break;
	case UD_HANDLER: {
		uint32_t slot = (uint32_t)(ud & 0xffff);
		uint16_t tag = (uint16_t)(ud >> 16);

		if (slot < dev->ncmds && dev->cmds[slot].in_use && dev->h->io_done) {
			if (!(cqe->flags & IORING_CQE_F_MORE))
				track_sqe(&dev->cmds[slot], tag, -1);
			dev->h->io_done(dev, &dev->cmds[slot], tag, cqe->res);
		}
		else
			rts_dev_err(dev, "stray I/O completion for slot %u", slot);
		break;
	}
	default:
		rts_dev_err(dev, "unknown completion user_data %#llx", (unsigned long long)ud);
	}
}

static void *io_thread(void *arg)
{
	struct rts_dev *dev = arg;
	struct io_uring_cqe *cqe;

	if (dev->uring_enable) {
		/* liburing 2.3 declares io_uring_enable_rings() but does not export it */
		long r = syscall(__NR_io_uring_register, dev->uring.ring_fd,
				 IORING_REGISTER_ENABLE_RINGS, NULL, 0);
		if (r < 0) {
			dev_fail(dev, "cannot enable the io_uring");
			return NULL;
		}
	}
	arm_kick_poll(dev);
	arm_read(dev, dev->wake_fd, &dev->wake_buf, sizeof(dev->wake_buf), UD_WAKE);
	/* Commands may already be queued (restart, or submitted before we started). */
	dev->clock_ns = now_ns();
	drain_ring(dev);
	for (;;) {
		unsigned int head, n = 0;
		int r;

		if (dev->need_kick)
			send_kick(dev);
		if (dev->stopping && dev->nfree == dev->ncmds)
			break;
		if (atomic_load(&dev->force_exit)) {
			/* The wakeups may not have been reaped (the thread was in the handler). */
			run_async_completions(dev);
			xcopy_fail_peer(dev);
			if (atomic_exchange(&dev->abandon, false))
				abandon_inflight(dev);
			if (dev->nfree != dev->ncmds) {
				rts_dev_err(dev, "leaving %u command(s) to the kernel: their I/O "
					    "never ended", dev->ncmds - dev->nfree);
				dev_fail(dev, "stopped with handler I/O that never ended");
			}
			break;
		}
		r = io_uring_submit_and_wait(&dev->uring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			dev_fail(dev, "io_uring_submit_and_wait failed");
			break;
		}
		dev->clock_ns = now_ns();
		io_uring_for_each_cqe(&dev->uring, head, cqe)
		{
			handle_cqe(dev, cqe);
			n++;
		}
		io_uring_cq_advance(&dev->uring, n);
		if (n)
			STAT_INC(dev, wakeups);
		drain_ring(dev);
		if (rts_dev_get_failure(dev) && !dev->stopping) {
			/* Keep completing what is in flight, take nothing new, wait for stop. */
			dev->stopping = atomic_load(&dev->stop);
		}
	}
	if (dev->need_kick)
		send_kick(dev);
	io_uring_submit(&dev->uring);
	return NULL;
}

RTS_EXPORT int rts_dev_start(struct rts_dev *dev)
{
	struct io_uring_params p = { 0 };
	unsigned int entries = 64;
	int r;

	assert_return(dev && dev->opened && !dev->running, -EINVAL);
	while (entries < 2 * dev->ncmds + 8)
		entries *= 2;
	/*
	 * The I/O thread is the ring's only submitter: with SINGLE_ISSUER + DEFER_TASKRUN the
	 * kernel runs completion work only when that thread waits for events, instead of
	 * interrupting it. The ring starts disabled so the I/O thread, not this one, becomes its
	 * submitter when it enables it. Kernels before 6.1 refuse the flags: plain ring then.
	 */
	p.flags = IORING_SETUP_CLAMP | IORING_SETUP_R_DISABLED | IORING_SETUP_SINGLE_ISSUER |
		  IORING_SETUP_DEFER_TASKRUN;
	r = io_uring_queue_init_params(entries, &dev->uring, &p);
	dev->uring_enable = r == 0;
	if (r == -EINVAL) {
		p = (struct io_uring_params){ .flags = IORING_SETUP_CLAMP };
		r = io_uring_queue_init_params(entries, &dev->uring, &p);
	}
	if (r < 0) {
		rts_dev_err(dev, "io_uring_queue_init: %s", strerror(-r));
		return r;
	}
	dev->uring_ready = true;
	atomic_store(&dev->stop, false);
	dev->stopping = false;
	dev->running = true;
	/* before the I/O thread exists: the registry reads the device's VPD 83h identity */
	xcopy_register(dev);
	r = -pthread_create(&dev->thread, NULL, io_thread, dev);
	if (r < 0) {
		xcopy_unregister(dev, 0);
		dev->running = false;
		io_uring_queue_exit(&dev->uring);
		dev->uring_ready = false;
		return r;
	}
	return 0;
}

static int join_by(struct rts_dev *dev, int ms)
{
	struct timespec ts = deadline_in(ms);

	return pthread_timedjoin_np(dev->thread, NULL, &ts);
}

static void wake(struct rts_dev *dev)
{
	uint64_t one = 1;

	if (write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		rts_dev_err(dev, "cannot wake the I/O thread: %s", strerror(errno));
}

RTS_EXPORT int rts_dev_stop(struct rts_dev *dev, int timeout_ms)
{
	int r;

	assert_return(dev, -EINVAL);
	if (!dev->running)
		return 0;
	/* no new copy can reach it; the ones holding it finish first (bounded) */
	xcopy_unregister(dev, timeout_ms);
	if (dev->wedged) {
		/* an earlier stop left the thread inside the handler: has that call returned? */
		wake(dev);
		if (join_by(dev, timeout_ms) != 0)
			return -EBUSY;
		dev->wedged = false;
		r = ETIMEDOUT;
		goto joined;
	}
	atomic_store(&dev->stop, true);
	wake(dev);
	r = join_by(dev, timeout_ms);
	if (r == ETIMEDOUT) {
		/* The handler holds commands past the bound: fail them (named) and go on. */
		rts_dev_err(dev, "%u command(s) still in flight after %d ms; failing what handler "
			    "'%s' never completed",
			    dev->ncmds - __atomic_load_n(&dev->nfree, __ATOMIC_RELAXED), timeout_ms,
			    dev->h->subtype);
		atomic_store(&dev->abandon, true);
		wake(dev);
		r = join_by(dev, DEV_STOP_GRACE_MS);
		if (r == ETIMEDOUT) {
			atomic_store(&dev->force_exit, true);
			wake(dev);
			r = join_by(dev, DEV_STOP_GRACE_MS);
		}
		if (r == 0)
			r = ETIMEDOUT;
		else if (r == ETIMEDOUT) {
			const char *in = atomic_load_explicit(&dev->in_handler, memory_order_relaxed);
			char nbuf[32];

			/* The thread is inside a handler call that does not return. It cannot be
			 * cancelled safely: leave it, and the device with it. */
			dev_contract(dev, "%s%s did not return within %d ms; the device is abandoned "
				     "with its I/O thread",
				     in ? op_label(in, nbuf, sizeof(nbuf)) : "a call", in ? "()" : "",
				     timeout_ms + 2 * DEV_STOP_GRACE_MS);
			dev_fail(dev, "the I/O thread is stuck in the handler");
			dev->wedged = true;
			return -EBUSY;
		}
	}
joined:
	dev_offload_stop(dev);
	atomic_store(&dev->abandon, false);
	atomic_store(&dev->force_exit, false);
	atomic_store(&dev->ctl_pending, false);
	dev->ctl_busy = false;
	dev->running = false;
	/* A later rts_dev_start() builds a fresh ring (handlers register their files again). */
	io_uring_queue_exit(&dev->uring);
	dev->uring_ready = false;
	return -r;
}
