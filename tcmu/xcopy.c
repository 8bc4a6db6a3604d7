/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * EXTENDED COPY (LID1) and RECEIVE COPY RESULTS: the copy manager of rts-runner.
 *
 * The copy targets are the devices this process serves, found by the NAA designator their
 * VPD 83h reports (identification CSCD descriptors, E4h), through a registry of running
 * devices: rts_dev_start() registers a device, rts_dev_stop() unregisters it and waits
 * (bounded) until no copy holds it. The registry is the one piece of process-wide state in
 * librts-tcmu: which devices a copy can reach is, by nature, a property of the process.
 * reg_lock protects the list and each device's naa/naa_len; a copy holds every device it
 * resolved (xc_users) until it ends.
 *
 * Each device keeps its one I/O thread and its handler's one-call-at-a-time contract: a
 * copy never calls another device's handler. It runs on the thread of the device that
 * received it (the origin) as a chain of requests, one at a time, each served by the
 * copy target's own thread: the origin's command is pushed on the target's peer queue
 * (lock-free, woken through its wake eventfd); the target runs it as an internal
 * READ(16)/WRITE(16) in one of its DEV_XCOPY_SLOTS command slots (decoded, range-locked
 * against COMPARE AND WRITE and served by its handler like a command from the ring, into
 * or out of the origin's bounce buffer), and completes the origin with
 * rts_cmd_complete_async(). Same device or another: the same path.
 *
 * Per segment: when the destination's handler has copy_range (file: copy_file_range), one
 * request asks it to copy the whole segment from the source device; -EOPNOTSUPP falls back
 * to chunks of at most 1 MiB read from the source into the bounce buffer and written to
 * the destination. Overlapping ranges on one device are copied back to front when the
 * destination is above the source, as memmove does.
 *
 * Errors: a parameter list error ends the command before anything is copied (tcmu/scsi/
 * xcopy.c); a segment that names a CSCD the list does not have, a CSCD that matches no
 * device served here, an LBA range outside a copy target and a failed read or write end
 * it COPY ABORTED / COPY TARGET DEVICE NOT REACHABLE with the segment pointer (as LIO's
 * target_core_xcopy does; the first three are found before any block moves); a read-only
 * destination is DATA PROTECT / WRITE PROTECTED.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev.h"
#include "macro.h"

#define XCOPY_CHUNK (1u << 20)

enum xc_phase {
	XC_READ,
	XC_WRITE,
	XC_COPY,
};

struct xcopy_op {
	struct scsi_xcopy x;
	struct rts_dev *cscd_dev[SCSI_XCOPY_MAX_CSCD]; /* held (xc_users) when set */
	unsigned int seg;
	uint64_t done;        /* blocks of the current segment copied */
	uint32_t chunk;       /* blocks of the request in flight */
	bool backward;        /* overlapping, destination above source: back to front */
	bool no_fast;         /* the destination declined copy_range for this segment */
	enum xc_phase phase;
	uint64_t bytes;
	struct xcopy_status_ent *status; /* LIST ID USAGE 00b: the entry COPY STATUS reports */
	/* the request in flight */
	struct rts_dev *target;
	uint64_t lba;
	struct rts_dev *src;
	uint64_t src_off;
};

/* ---------------------------------------------------------------- registry */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rts_dev *reg_head; /* reg_lock */

/* The logical unit's NAA designator from the VPD 83h we answer (whatever builds it). */
static void compute_naa(const struct rts_dev *dev, uint8_t *naa, uint8_t *len)
{
	uint8_t cdb[6] = { SCSI_INQUIRY, 0x01, 0x83, 0, 255, 0 };
	uint8_t buf[255];
	struct iovec iov = { buf, sizeof(buf) };
	struct scsi_state st = dev->st;
	struct scsi_result res;
	size_t end, off;

	*len = 0;
	memset(buf, 0, sizeof(buf));
	scsi_emulate(&dev->di, &st, cdb, sizeof(cdb), &iov, 1, &res);
	if (res.status != RTS_SAM_GOOD || res.data_len < 4)
		return;
	end = MIN((size_t)res.data_len, 4 + (size_t)scsi_get_be16(&buf[2]));
	for (off = 4; off + 4 <= end;) {
		const uint8_t *d = &buf[off];
		uint8_t dl = d[3];

		if (off + 4 + dl > end)
			break;
		/* binary, associated with the logical unit, NAA */
		if ((d[0] & 0x0f) == 1 && (d[1] & 0x30) == 0 && (d[1] & 0x0f) == 3 &&
		    (dl == 8 || dl == 16)) {
			memcpy(naa, &d[4], dl);
			*len = dl;
			return;
		}
		off += 4 + dl;
	}
}

void xcopy_refresh_id(struct rts_dev *dev)
{
	uint8_t naa[16], len;

	compute_naa(dev, naa, &len);
	pthread_mutex_lock(&reg_lock);
	memcpy(dev->naa, naa, sizeof(naa));
	dev->naa_len = len;
	pthread_mutex_unlock(&reg_lock);
}

void xcopy_register(struct rts_dev *dev)
{
	xcopy_refresh_id(dev);
	pthread_mutex_lock(&reg_lock);
	if (!dev->registered) {
		dev->reg_next = reg_head;
		reg_head = dev;
		dev->registered = true;
	}
	pthread_mutex_unlock(&reg_lock);
}

void xcopy_unregister(struct rts_dev *dev, int timeout_ms)
{
	struct timespec ts = { 0, 1000000 };

	pthread_mutex_lock(&reg_lock);
	for (struct rts_dev **pp = &reg_head; *pp; pp = &(*pp)->reg_next)
		if (*pp == dev) {
			*pp = dev->reg_next;
			break;
		}
	dev->registered = false;
	pthread_mutex_unlock(&reg_lock);
	/* copies still holding it run on (its thread serves them) until they end */
	for (int waited = 0; atomic_load(&dev->xc_users) && waited < timeout_ms; waited++)
		nanosleep(&ts, NULL);
	if (atomic_load(&dev->xc_users))
		rts_dev_warn(dev, "stopping while %u EXTENDED COPY command(s) still use it",
			     atomic_load(&dev->xc_users));
}

/* The running device whose NAA designator is @naa, held for the caller; NULL: none. */
static struct rts_dev *find_dev(const uint8_t *naa, uint8_t len)
{
	struct rts_dev *found = NULL;

	pthread_mutex_lock(&reg_lock);
	for (struct rts_dev *d = reg_head; d; d = d->reg_next)
		if (d->naa_len == len && memcmp(d->naa, naa, len) == 0) {
			atomic_fetch_add(&d->xc_users, 1);
			found = d;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
	return found;
}

/* ------------------------------------------------------------ peer queue */

static void wake_dev(struct rts_dev *dev)
{
	uint64_t one = 1;

	if (write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		rts_dev_err(dev, "cannot wake the I/O thread: %s", strerror(errno));
}

/* Ask @target's I/O thread to serve @origin's request (any thread). */
static int peer_push(struct rts_dev *target, struct rts_cmd *origin)
{
	if (cmd_stack_push(&target->peer_head, origin, offsetof(struct rts_cmd, peer_next)))
		wake_dev(target);
	return 0;
}

/* Start @origin's request on @dev in a free copy slot (I/O thread of @dev). */
static void peer_start(struct rts_dev *dev, struct rts_cmd *origin)
{
	struct xcopy_op *xc = origin->xc;
	struct rts_cmd *cmd = dev_cmd_take_slot(dev, 0);
	uint32_t bs = dev->di.block_size;
	bool write = xc->phase != XC_READ;

	dev->xc_internal++;
	cmd->origin = origin;
	cmd->copy_src = xc->phase == XC_COPY ? xc->src : NULL;
	cmd->copy_src_off = xc->src_off;
	memset(cmd->cdb, 0, sizeof(cmd->cdb));
	cmd->cdb[0] = write ? SCSI_WRITE_16 : SCSI_READ_16;
	scsi_put_be64(&cmd->cdb[2], xc->lba);
	scsi_put_be32(&cmd->cdb[10], xc->chunk);
	cmd->cdb_len = 16;
	if (xc->phase == XC_COPY) {
		cmd->iovcnt = 0;
		cmd->data_len = 0;
	} else {
		cmd->inline_iov[0].iov_base = origin->bounce;
		cmd->inline_iov[0].iov_len = (size_t)xc->chunk * bs;
		cmd->iovcnt = 1;
		cmd->data_len = (uint64_t)xc->chunk * bs;
	}
	dispatch_internal(cmd);
}

void xcopy_run_peer(struct rts_dev *dev)
{
	size_t link = offsetof(struct rts_cmd, peer_next);
	struct rts_cmd *fifo = cmd_stack_take(&dev->peer_head, link);

	while (fifo) { /* in arrival order, behind the waiting ones */
		struct rts_cmd *next = fifo->peer_next;

		cmd_fifo_append(&dev->peer_wait_head, &dev->peer_wait_tail, fifo, link);
		fifo = next;
	}
	while (dev->peer_wait_head && dev->xc_internal < DEV_XCOPY_SLOTS && dev->nfree) {
		struct rts_cmd *o = dev->peer_wait_head;

		dev->peer_wait_head = o->peer_next;
		if (!dev->peer_wait_head)
			dev->peer_wait_tail = NULL;
		o->peer_next = NULL;
		peer_start(dev, o);
	}
}

void xcopy_fail_peer(struct rts_dev *dev)
{
	xcopy_run_peer(dev); /* whatever a free slot can still take */
	while (dev->peer_wait_head) {
		struct rts_cmd *o = dev->peer_wait_head;

		dev->peer_wait_head = o->peer_next;
		o->peer_next = NULL;
		rts_cmd_complete_async(o, -ENODEV);
	}
	dev->peer_wait_tail = NULL;
}

void xcopy_internal_done(struct rts_cmd *cmd, uint8_t status)
{
	struct rts_cmd *origin = cmd->origin;
	int err = cmd->xc_err;

	if (!err && status != RTS_SAM_GOOD)
		err = -EIO;
	cmd->origin = NULL;
	cmd->copy_src = NULL;
	cmd->dev->xc_internal--;
	rts_cmd_complete_async(origin, err);
}

/* ------------------------------------------------------------------- copy */

static void finish_sense_at(struct rts_cmd *cmd, uint8_t key, uint16_t asc, int seg_off)
{
	struct scsi_result res;

	if (seg_off >= 0) {
		/* sense-key-specific SEGMENT POINTER: SD=1, the segment descriptor's offset */
		scsi_set_sense_field(&res, key, asc, false, (uint16_t)seg_off, -1);
		res.sense[15] |= 0x20;
	} else {
		scsi_set_sense(&res, key, asc);
	}
	cmd->step = NULL;
	dev_cmd_finish(cmd, res.status, res.sense, sizeof(res.sense), -1);
}

static void copy_end(struct rts_cmd *cmd, bool ok)
{
	struct xcopy_op *xc = cmd->xc;

	if (xc->status) {
		xc->status->st.state = ok ? 1 : 2;
		xc->status->st.segments = (uint16_t)xc->seg;
		xc->status->st.bytes = xc->bytes;
	}
}

static void copy_aborted(struct rts_cmd *cmd, unsigned int seg)
{
	struct xcopy_op *xc = cmd->xc;

	copy_end(cmd, false);
	finish_sense_at(cmd, RTS_SENSE_COPY_ABORTED, SCSI_ASC_COPY_TARGET_DEVICE_NOT_REACHABLE,
			seg < xc->x.nsegs ? xc->x.seg[seg].off : -1);
}

void xcopy_op_free(struct rts_cmd *cmd)
{
	struct xcopy_op *xc = cmd->xc;

	cmd->xc = NULL;
	if (xc->status && xc->status->st.state == 0)
		xc->status->st.state = 2; /* ended some other way (aborted, device stopping) */
	for (unsigned int i = 0; i < SCSI_XCOPY_MAX_CSCD; i++)
		if (xc->cscd_dev[i])
			atomic_fetch_sub(&xc->cscd_dev[i]->xc_users, 1);
	free(xc);
}

static void copy_step(struct rts_cmd *cmd, int err);

static void submit(struct rts_cmd *cmd, struct rts_dev *target)
{
	uint32_t t;

	cmd->xc->target = target;
	cmd->step = copy_step;
	t = dev_op_begin(cmd, "xcopy");
	dev_op_end(cmd, t, "xcopy", peer_push(target, cmd));
}

static uint32_t chunk_blocks(const struct rts_dev *src, const struct rts_dev *dst)
{
	uint32_t n = XCOPY_CHUNK / dst->di.block_size;
	uint32_t ms = __atomic_load_n(&src->di.max_xfer_blocks, __ATOMIC_RELAXED);
	uint32_t md = __atomic_load_n(&dst->di.max_xfer_blocks, __ATOMIC_RELAXED);

	if (ms && ms < n)
		n = ms;
	if (md && md < n)
		n = md;
	return n ? n : 1;
}

/* Start the next request of the copy, or end it. */
static void copy_next(struct rts_cmd *cmd)
{
	struct xcopy_op *xc = cmd->xc;
	const struct scsi_xcopy_seg *s;
	struct rts_dev *src, *dst;
	uint64_t left, first;
	uint32_t bs;
	int r;

	while (xc->seg < xc->x.nsegs && xc->done >= xc->x.seg[xc->seg].nr_blocks) {
		xc->seg++;
		xc->done = 0;
		xc->no_fast = false;
		if (xc->status)
			xc->status->st.segments = (uint16_t)xc->seg;
	}
	if (xc->seg >= xc->x.nsegs) {
		copy_end(cmd, true);
		cmd->step = NULL;
		dev_cmd_finish(cmd, RTS_SAM_GOOD, NULL, 0, -1);
		return;
	}
	s = &xc->x.seg[xc->seg];
	src = xc->cscd_dev[s->src];
	dst = xc->cscd_dev[s->dst];
	bs = dst->di.block_size;
	left = s->nr_blocks - xc->done;
	xc->backward = src == dst && s->dst_lba > s->src_lba && s->dst_lba < s->src_lba + s->nr_blocks;
	if (!xc->no_fast && !xc->backward && dst->h->copy_range) {
		uint32_t md = __atomic_load_n(&dst->di.max_xfer_blocks, __ATOMIC_RELAXED);

		xc->phase = XC_COPY;
		xc->chunk = (uint32_t)(md && left > md ? md : left);
		xc->lba = s->dst_lba + xc->done;
		xc->src = src;
		xc->src_off = (s->src_lba + xc->done) * bs;
		submit(cmd, dst);
		return;
	}
	xc->chunk = (uint32_t)MIN(left, (uint64_t)chunk_blocks(src, dst));
	first = xc->backward ? s->nr_blocks - xc->done - xc->chunk : xc->done;
	r = dev_bounce(cmd, (size_t)xc->chunk * bs);
	if (r < 0) {
		copy_end(cmd, false);
		cmd->step = NULL;
		dev_cmd_end(cmd, r);
		return;
	}
	xc->phase = XC_READ;
	xc->lba = s->src_lba + first;
	submit(cmd, src);
}

static void copy_step(struct rts_cmd *cmd, int err)
{
	struct xcopy_op *xc = cmd->xc;
	const struct scsi_xcopy_seg *s = &xc->x.seg[xc->seg];
	uint64_t first;

	if (err == -EOPNOTSUPP && xc->phase == XC_COPY) {
		xc->no_fast = true;
		copy_next(cmd);
		return;
	}
	if (err) {
		rts_dev_warn(cmd->dev, "EXTENDED COPY segment %u: %s on '%s': %s", xc->seg,
			     xc->phase == XC_READ ? "read" : "write", xc->target->name,
			     strerror(-err));
		copy_aborted(cmd, xc->seg);
		return;
	}
	if (xc->phase == XC_READ) {
		first = xc->backward ? s->nr_blocks - xc->done - xc->chunk : xc->done;
		xc->phase = XC_WRITE;
		xc->lba = s->dst_lba + first;
		submit(cmd, xc->cscd_dev[s->dst]);
		return;
	}
	xc->done += xc->chunk;
	xc->bytes += (uint64_t)xc->chunk * xc->cscd_dev[s->dst]->di.block_size;
	if (xc->status)
		xc->status->st.bytes = xc->bytes;
	copy_next(cmd);
}

/* Resolve and check what the segments name before anything moves. */
static int copy_prepare(struct rts_cmd *cmd)
{
	struct xcopy_op *xc = cmd->xc;

	for (unsigned int i = 0; i < xc->x.nsegs; i++) {
		const struct scsi_xcopy_seg *s = &xc->x.seg[i];
		uint16_t ids[2] = { s->src, s->dst };
		struct rts_dev *src, *dst;

		for (unsigned int k = 0; k < 2; k++) {
			const struct scsi_xcopy_cscd *c;

			if (ids[k] >= xc->x.ncscd) {
				rts_dev_warn(cmd->dev, "EXTENDED COPY segment %u: CSCD %u not in the list of %u",
					     i, ids[k], xc->x.ncscd);
				copy_aborted(cmd, i);
				return -EINVAL;
			}
			c = &xc->x.cscd[ids[k]];
			if (!xc->cscd_dev[ids[k]])
				xc->cscd_dev[ids[k]] = find_dev(c->desig, c->desig_len);
			if (!xc->cscd_dev[ids[k]]) {
				rts_dev_warn(cmd->dev, "EXTENDED COPY segment %u: CSCD %u matches no device served here",
					     i, ids[k]);
				copy_aborted(cmd, i);
				return -EINVAL;
			}
		}
		src = xc->cscd_dev[s->src];
		dst = xc->cscd_dev[s->dst];
		if (src->di.block_size != dst->di.block_size) {
			struct scsi_result res;

			scsi_set_sense_field(&res, RTS_SENSE_ILLEGAL_REQUEST,
					     SCSI_ASC_INVALID_FIELD_IN_PARAMETER_LIST, false, s->off, -1);
			cmd->step = NULL;
			dev_cmd_finish(cmd, res.status, res.sense, sizeof(res.sense), -1);
			return -EINVAL;
		}
		uint64_t sn = __atomic_load_n(&src->di.num_lbas, __ATOMIC_RELAXED);
		uint64_t dn = __atomic_load_n(&dst->di.num_lbas, __ATOMIC_RELAXED);
		if (s->src_lba > sn || s->nr_blocks > sn - s->src_lba || s->dst_lba > dn ||
		    s->nr_blocks > dn - s->dst_lba) {
			rts_dev_warn(cmd->dev, "EXTENDED COPY segment %u: LBA range outside a copy target", i);
			copy_aborted(cmd, i);
			return -EINVAL;
		}
		if (s->nr_blocks && (dst->di.read_only || !dst->h->write)) {
			finish_sense_at(cmd, RTS_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED, -1);
			return -EINVAL;
		}
	}
	return 0;
}

/* The COPY STATUS entry for a copy holding its results (LIST ID USAGE 00b). */
static int take_status(struct rts_dev *dev, uint8_t list_id, struct xcopy_status_ent **ret)
{
	struct xcopy_status_ent *free_ent = NULL, *oldest = NULL;

	for (unsigned int i = 0; i < SCSI_XCOPY_MAX_COPIES; i++) {
		struct xcopy_status_ent *e = &dev->xc_status[i];

		if (e->used && e->list_id == list_id) {
			if (e->st.state == 0)
				return -EBUSY; /* OPERATION IN PROGRESS */
			free_ent = e;
			break;
		}
		if (!e->used && !free_ent)
			free_ent = e;
		if (e->used && e->st.state != 0 && (!oldest || e->seq < oldest->seq))
			oldest = e;
	}
	if (!free_ent)
		free_ent = oldest;
	if (!free_ent)
		return -EAGAIN;
	*free_ent = (struct xcopy_status_ent){ .used = true, .list_id = list_id, .seq = ++dev->xc_seq };
	*ret = free_ent;
	return 0;
}

void xcopy_start(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	uint8_t buf[SCSI_XCOPY_HDR_LEN + SCSI_XCOPY_MAX_DESC_LIST];
	size_t len = (size_t)MIN((uint64_t)cmd->info.xfer_len, cmd->data_len);
	struct scsi_result res;
	struct xcopy_op *xc;
	int r;

	/* SPC-4 6.4.1: PARAMETER LIST LENGTH 0 is not an error; nothing is copied */
	if (!cmd->info.xfer_len) {
		dev_cmd_finish(cmd, RTS_SAM_GOOD, NULL, 0, -1);
		return;
	}
	len = scsi_iov_copy_from(cmd->iov, cmd->iovcnt, 0, buf, MIN(len, sizeof(buf)));
	xc = calloc(1, sizeof(*xc));
	if (!xc) {
		dev_cmd_end(cmd, -ENOMEM);
		return;
	}
	if (scsi_xcopy_parse(buf, len, &xc->x, &res) < 0) {
		free(xc);
		dev_cmd_finish(cmd, res.status, res.sense, sizeof(res.sense), -1);
		return;
	}
	cmd->xc = xc; /* freed (and the devices released) when the command finishes */
	if (copy_prepare(cmd) < 0)
		return;
	if (xc->x.list_id_usage == 0) {
		r = take_status(dev, xc->x.list_id, &xc->status);
		if (r == -EBUSY) {
			scsi_set_sense_field(&res, RTS_SENSE_ILLEGAL_REQUEST,
					     SCSI_ASC_OPERATION_IN_PROGRESS, false, 0, -1);
			dev_cmd_finish(cmd, res.status, res.sense, sizeof(res.sense), -1);
			return;
		}
		if (r < 0) {
			dev_cmd_end(cmd, r);
			return;
		}
	}
	copy_next(cmd);
}

/* ----------------------------------------------------- receive copy results */

void xcopy_rcr(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	uint8_t buf[64];
	struct scsi_result res;
	size_t len;

	if ((cmd->cdb[1] & 0x1f) == SCSI_RCR_SA_OPERATING_PARAMETERS) {
		len = scsi_xcopy_op_params(&dev->di, buf);
	} else {
		struct xcopy_status_ent *e = NULL;

		for (unsigned int i = 0; i < SCSI_XCOPY_MAX_COPIES; i++)
			if (dev->xc_status[i].used && dev->xc_status[i].list_id == cmd->cdb[2]) {
				e = &dev->xc_status[i];
				break;
			}
		if (!e) {
			/* no copy with this LIST IDENTIFIER in progress or held (SPC-4 6.18.3) */
			scsi_set_sense_field(&res, RTS_SENSE_ILLEGAL_REQUEST,
					     SCSI_ASC_INVALID_FIELD_IN_CDB, true, 2, -1);
			dev_cmd_finish(cmd, res.status, res.sense, sizeof(res.sense), -1);
			return;
		}
		len = scsi_xcopy_copy_status(&e->st, buf);
		if (e->st.state != 0)
			e->used = false; /* reported once it has ended: the results are released */
	}
	len = MIN(len, (size_t)cmd->info.xfer_len);
	len = scsi_iov_copy_to(cmd->iov, cmd->iovcnt, 0, buf, len);
	dev_cmd_finish(cmd, RTS_SAM_GOOD, NULL, 0, (int64_t)len);
}
