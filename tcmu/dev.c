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

#include "dev.h"
#include "macro.h"

#define STAT_INC(dev, f) atomic_fetch_add_explicit(&(dev)->stats.f, 1, memory_order_relaxed)

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
	if (dev->failure)
		return;
	dev->failure = why;
	rts_dev_err(dev, "device failed: %s", why);
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
	return dev->size;
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
	struct io_uring_sqe *sqe = io_uring_get_sqe(&dev->uring);

	if (_unlikely_(!sqe)) {
		io_uring_submit(&dev->uring);
		sqe = io_uring_get_sqe(&dev->uring);
		/* After a submit the SQ ring has room unless the kernel refused everything. */
		if (!sqe) {
			rts_dev_err(dev, "io_uring submission queue stuck full");
			return NULL;
		}
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
	return dev->failure;
}

RTS_EXPORT void rts_dev_get_stats(const struct rts_dev *dev, struct rts_dev_stats *ret)
{
	struct dev_stats_atomic *s = (struct dev_stats_atomic *)&dev->stats;

	*ret = (struct rts_dev_stats){
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
	ret->inflight = dev->ncmds - __atomic_load_n(&dev->nfree, __ATOMIC_RELAXED);
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

	if (data_in_len >= 0 && (uint64_t)data_in_len < cmd->data_len &&
	    (dev->ring.caps & TCMU_MAILBOX_FLAG_CAP_READ_LEN)) {
		rsp.uflags |= TCMU_UFLAG_READ_LEN;
		rsp.read_len = (uint32_t)data_in_len;
	}
	int r = ring_complete(&dev->ring, cmd->cmd_id, &rsp);
	if (r == -EPROTO)
		dev_fail(dev, "ring slot headers changed under us: cannot write completions");
	else if (r < 0)
		dev_fail(dev, "completion without a consumed ring slot");
	if (status != RTS_SAM_GOOD && status != RTS_SAM_CONDITION_MET)
		STAT_INC(dev, errors);
	STAT_INC(dev, completions);
	dev->need_kick = true;
	if (had_lock)
		dispatch_release(cmd);
	cmd->in_use = false;
	cmd->step = NULL;
	dev->id_slot[cmd->cmd_id] = 0;
	dev->free_slots[dev->nfree] = cmd->slot;
	__atomic_store_n(&dev->nfree, dev->nfree + 1, __ATOMIC_RELAXED); /* read by get_stats */
	if (had_lock && dev->wait_head)
		dispatch_retry_waiters(dev);
}

RTS_EXPORT void rts_cmd_complete(struct rts_cmd *cmd, int err)
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
		rts_cmd_complete_sense(cmd, key, (uint8_t)(asc >> 8), (uint8_t)asc);
		return;
	}
	dev_cmd_finish(cmd, status, NULL, 0, -1);
}

RTS_EXPORT void rts_cmd_complete_sense(struct rts_cmd *cmd, uint8_t key, uint8_t asc,
				       uint8_t ascq)
{
	struct scsi_result res;

	scsi_set_sense(&res, key, (uint16_t)(asc << 8 | ascq));
	dev_cmd_finish(cmd, res.status, res.sense, sizeof(res.sense), -1);
}

RTS_EXPORT void rts_cmd_complete_status(struct rts_cmd *cmd, uint8_t status)
{
	dev_cmd_finish(cmd, status, NULL, 0, -1);
}

RTS_EXPORT void rts_cmd_complete_async(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = cmd->dev;
	struct rts_cmd *old = atomic_load_explicit(&dev->async_head, memory_order_relaxed);
	uint64_t one = 1;

	cmd->async_err = err;
	do {
		cmd->async_next = old;
	} while (!atomic_compare_exchange_weak_explicit(&dev->async_head, &old, cmd,
							memory_order_release,
							memory_order_relaxed));
	/* Only the push onto an empty stack needs to wake the loop. */
	if (!old && write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		rts_dev_err(dev, "cannot wake the I/O thread: %s", strerror(errno));
}

static void run_async_completions(struct rts_dev *dev)
{
	struct rts_cmd *list = atomic_exchange_explicit(&dev->async_head, NULL,
							memory_order_acquire);
	struct rts_cmd *fifo = NULL;

	while (list) { /* reverse into submission order */
		struct rts_cmd *next = list->async_next;
		list->async_next = fifo;
		fifo = list;
		list = next;
	}
	while (fifo) {
		struct rts_cmd *next = fifo->async_next;
		rts_cmd_complete(fifo, fifo->async_err);
		fifo = next;
	}
}

/* ------------------------------------------------------------- creation */

static int parse_config(struct rts_dev *dev, const struct rts_dev_config *cfg,
			const struct rts_handler *h)
{
	const char *slash;
	size_t sublen;

	if (!cfg->name || !*cfg->name || !cfg->cfgstring)
		return -EINVAL;
	slash = strchr(cfg->cfgstring, '/');
	sublen = slash ? (size_t)(slash - cfg->cfgstring) : strlen(cfg->cfgstring);
	if (strlen(h->subtype) != sublen || strncmp(h->subtype, cfg->cfgstring, sublen) != 0)
		return -EINVAL;
	dev->cfg = *cfg;
	dev->name = strdup(cfg->name);
	dev->cfgstring = strdup(cfg->cfgstring);
	if (!dev->name || !dev->cfgstring)
		return -ENOMEM;
	dev->cfg.name = dev->name;
	dev->cfg.serial = NULL; /* copied into di.serial by init_dev_info() */
	if (cfg->serial && *cfg->serial) {
		dev->serial = strdup(cfg->serial);
		if (!dev->serial)
			return -ENOMEM;
		dev->cfg.serial = dev->serial;
	}
	dev->cfg.serial_file = NULL;
	if (cfg->serial_file && *cfg->serial_file) {
		dev->serial_file = strdup(cfg->serial_file);
		if (!dev->serial_file)
			return -ENOMEM;
		dev->cfg.serial_file = dev->serial_file;
	}
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
	dev->cfg.cfgstring = dev->cfgstring;
	dev->handler_cfg = dev->cfgstring + sublen + (slash ? 1 : 0);
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
	uint32_t n = dev->cfg.queue_depth;
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
	free(dev->cfgstring);
	for (char **o = dev->options; o && *o; o++)
		free(*o);
	free(dev->options);
	free(dev->serial);
	free(dev->serial_file);
	free(dev);
	return NULL;
}
DEFINE_CLEANUP_FUNC(struct rts_dev *, rts_dev_free)

int dev_new(const struct rts_dev_config *cfg, const struct rts_handler *h,
		   const struct dev_transport *tp, struct rts_dev **ret)
{
	_cleanup_(rts_dev_freep) struct rts_dev *dev = NULL;
	const char *why = NULL;
	int r;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->wake_fd = -1;
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

RTS_EXPORT void rts_dev_close(struct rts_dev *dev)
{
	if (!dev || !dev->opened)
		return;
	if (dev->h->close)
		dev->h->close(dev);
	dev->opened = false;
}

/* ---------------------------------------------------------------- reconfig */

static int apply_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	int r;

	if (dev->h->reconfig)
		r = dev->h->reconfig(dev, rc);
	else
		r = rc->what & ~(uint32_t)RTS_RECONFIG_WRITE_CACHE ? -EOPNOTSUPP : 0;
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
	pthread_mutex_lock(&dev->ctl_lock);
	const struct rts_reconfig *rc = dev->ctl_req;
	pthread_mutex_unlock(&dev->ctl_lock);
	int r = apply_reconfig(dev, rc);
	pthread_mutex_lock(&dev->ctl_lock);
	dev->ctl_result = r;
	dev->ctl_done = true;
	pthread_cond_signal(&dev->ctl_cond);
	pthread_mutex_unlock(&dev->ctl_lock);
}

RTS_EXPORT int rts_dev_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	uint64_t one = 1;
	int r;

	assert_return(dev && rc && dev->opened, -EINVAL);
	assert_return(rc->struct_size >= rts_offsetofend(struct rts_reconfig, write_cache), -EINVAL);
	if (!dev->running)
		return apply_reconfig(dev, rc);
	pthread_mutex_lock(&dev->ctl_lock);
	dev->ctl_req = rc;
	dev->ctl_done = false;
	pthread_mutex_unlock(&dev->ctl_lock);
	atomic_store(&dev->ctl_pending, true);
	if (write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&dev->ctl_lock);
	while (!dev->ctl_done)
		pthread_cond_wait(&dev->ctl_cond, &dev->ctl_lock);
	r = dev->ctl_result;
	dev->ctl_req = NULL;
	pthread_mutex_unlock(&dev->ctl_lock);
	return r;
}

/* ------------------------------------------------------------------ I/O loop */

static void arm_read(struct rts_dev *dev, int fd, void *buf, unsigned int len, enum ud_kind k)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&dev->uring);

	if (!sqe) {
		io_uring_submit(&dev->uring);
		sqe = io_uring_get_sqe(&dev->uring);
	}
	io_uring_prep_read(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data64(sqe, ud_make(k, 0, 0));
}

/*
 * Wait for kicks with a multishot poll, never a read: a uio fd has no FMODE_NOWAIT, so
 * io_uring would punt a read to an io-wq worker that sleeps in uio_read(), and every kick
 * would cost the worker's wakeup on top of ours. A poll is woken straight from
 * uio_event_notify(). The event count is then consumed with a plain non-blocking read.
 */
static void arm_kick_poll(struct rts_dev *dev)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&dev->uring);

	if (!sqe) {
		io_uring_submit(&dev->uring);
		sqe = io_uring_get_sqe(&dev->uring);
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
		sqe = io_uring_get_sqe(&dev->uring);
		if (!sqe) {
			io_uring_submit(&dev->uring);
			sqe = io_uring_get_sqe(&dev->uring);
			if (!sqe)
				break;
		}
		io_uring_prep_cancel64(sqe, ud_make(UD_HANDLER, cmd->slot, cmd->sqe_tag[i]),
				       IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, ud_make(UD_CANCEL, cmd->slot, 0));
		cancelled = true;
	}
	if (cancelled)
		STAT_INC(dev, aborts_cancelled);
}

static void handle_tmr(struct rts_dev *dev, const struct ring_ent *ent)
{
	unsigned int found = 0;

	for (uint32_t i = 0; i < ent->tmr_cnt; i++) {
		uint16_t id = ring_tmr_id(ent, i);
		uint16_t s = dev->id_slot[id];

		STAT_INC(dev, aborts);
		if (s && dev->cmds[s - 1].in_use && !dev->cmds[s - 1].aborted) {
			abort_cmd(dev, &dev->cmds[s - 1]);
			found++;
		}
	}
	rts_dev_info(dev, "TMR %s: %u command(s) named, %u in flight here",
		     ring_tmr_name(ent->tmr_type), ent->tmr_cnt, found);
}

static void take_cmd(struct rts_dev *dev, const struct ring_ent *ent)
{
	uint32_t slot = dev->free_slots[dev->nfree - 1];
	struct rts_cmd *cmd = &dev->cmds[slot];
	unsigned int iovcnt = 0, bidi = 0;
	const char *why = NULL;
	int r;

	__atomic_store_n(&dev->nfree, dev->nfree - 1, __ATOMIC_RELAXED); /* read by get_stats */
	cmd->in_use = true;
	cmd->aborted = false;
	cmd->cmd_id = ent->cmd_id;
	cmd->lock = RLOCK_NONE;
	cmd->lock_active = false;
	cmd->flush_after = false;
	cmd->prefetch = false;
	cmd->waiting = false;
	memset(cmd->sqe_cnt, 0, sizeof(cmd->sqe_cnt));
	cmd->step = NULL;
	cmd->info = (struct scsi_cmd_info){ .kind = SCSI_KIND_EMULATE };
	cmd->iov = cmd->inline_iov;
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
	dev->id_slot[cmd->cmd_id] = (uint16_t)(slot + 1);
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
	dispatch_cmd(cmd);
}

static void drain_ring(struct rts_dev *dev)
{
	struct ring_ent ent;
	const char *why = NULL;

	while (dev->nfree && !dev->stopping && !dev->failure) {
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
		if (cqe->res > 0)
			consume_kick(dev);
		if (!(cqe->flags & IORING_CQE_F_MORE))
			arm_kick_poll(dev);
		break;
	case UD_WAKE:
		if (!atomic_load(&dev->stop))
			arm_read(dev, dev->wake_fd, &dev->wake_buf, sizeof(dev->wake_buf), UD_WAKE);
		else
			dev->stopping = true;
		run_async_completions(dev);
		run_ctl_request(dev);
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
	drain_ring(dev);
	for (;;) {
		unsigned int head, n = 0;
		int r;

		if (dev->need_kick)
			send_kick(dev);
		if (dev->stopping && dev->nfree == dev->ncmds)
			break;
		r = io_uring_submit_and_wait(&dev->uring, 1);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			dev_fail(dev, "io_uring_submit_and_wait failed");
			break;
		}
		io_uring_for_each_cqe(&dev->uring, head, cqe)
		{
			handle_cqe(dev, cqe);
			n++;
		}
		io_uring_cq_advance(&dev->uring, n);
		if (n)
			STAT_INC(dev, wakeups);
		drain_ring(dev);
		if (dev->failure && !dev->stopping) {
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
	r = -pthread_create(&dev->thread, NULL, io_thread, dev);
	if (r < 0) {
		dev->running = false;
		io_uring_queue_exit(&dev->uring);
		dev->uring_ready = false;
		return r;
	}
	return 0;
}

RTS_EXPORT int rts_dev_stop(struct rts_dev *dev, int timeout_ms)
{
	uint64_t one = 1;
	struct timespec ts;
	int r;

	assert_return(dev, -EINVAL);
	if (!dev->running)
		return 0;
	atomic_store(&dev->stop, true);
	if (write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	r = pthread_timedjoin_np(dev->thread, NULL, &ts);
	if (r == ETIMEDOUT) {
		rts_dev_err(dev, "%u command(s) still in flight after %d ms; waiting for the handler",
			    dev->ncmds - __atomic_load_n(&dev->nfree, __ATOMIC_RELAXED), timeout_ms);
		r = pthread_join(dev->thread, NULL);
	}
	dev->running = false;
	/* A later rts_dev_start() builds a fresh ring (handlers register their files again). */
	io_uring_queue_exit(&dev->uring);
	dev->uring_ready = false;
	return -r;
}
