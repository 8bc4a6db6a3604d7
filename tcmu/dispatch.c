/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Command dispatch: unit attentions, the handler's raw CDB hook, SCSI emulation, and block
 * commands turned into handler operations. Multi-step commands (FUA emulation, VERIFY,
 * WRITE AND VERIFY, COMPARE AND WRITE, UNMAP lists, emulated WRITE SAME) chain through
 * cmd->step, which rts_cmd_complete() runs when the handler finishes an operation.
 *
 * COMPARE AND WRITE is atomic against other writes: it waits for in-flight overlapping
 * writes, and writes arriving while it is queued or running wait for it (range locks held
 * in the command slots; only scanned when a COMPARE AND WRITE exists, so plain I/O pays
 * one counter check).
 */
#include <errno.h>
#include <string.h>

#include "dev.h"
#include "macro.h"

#define CHUNK_BYTES (1u << 20) /* emulated WRITE SAME / VERIFY work in chunks of this */

void errno_to_sense(int err, bool write, uint8_t *status, uint8_t *key, uint16_t *asc)
{
	*status = RTS_SAM_CHECK_CONDITION;
	switch (-err) {
	case EIO:
	case EBADMSG:
	case ENODATA:
		*key = RTS_SENSE_MEDIUM_ERROR;
		*asc = write ? SCSI_ASC_WRITE_ERROR : SCSI_ASC_UNRECOVERED_READ_ERROR;
		break;
	case ENOSPC:
	case EDQUOT:
		*key = RTS_SENSE_DATA_PROTECT;
		*asc = SCSI_ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT;
		break;
	case EROFS:
	case EPERM:
	case EACCES:
		*key = RTS_SENSE_DATA_PROTECT;
		*asc = SCSI_ASC_WRITE_PROTECTED;
		break;
	case EINVAL:
	case ERANGE:
		*key = RTS_SENSE_ILLEGAL_REQUEST;
		*asc = SCSI_ASC_INVALID_FIELD_IN_CDB;
		break;
	case ENOTSUP:
		*key = RTS_SENSE_ILLEGAL_REQUEST;
		*asc = SCSI_ASC_INVALID_COMMAND_OPERATION_CODE;
		break;
	case ENOTCONN:
	case ECONNREFUSED:
	case ECONNRESET:
	case ESHUTDOWN:
		*key = RTS_SENSE_NOT_READY;
		*asc = SCSI_ASC_LU_COMMUNICATION_FAILURE;
		break;
	case ENOMEM:
	case EAGAIN:
		*status = RTS_SAM_TASK_SET_FULL;
		*key = 0;
		*asc = 0;
		break;
	case EBUSY:
	case ETIMEDOUT:
		*status = RTS_SAM_BUSY;
		*key = 0;
		*asc = 0;
		break;
	case ECANCELED:
		*status = RTS_SAM_TASK_ABORTED;
		*key = 0;
		*asc = 0;
		break;
	default:
		*key = RTS_SENSE_HARDWARE_ERROR;
		*asc = SCSI_ASC_INTERNAL_TARGET_FAILURE;
	}
}

static void finish_res(struct rts_cmd *cmd, const struct scsi_result *res, int64_t data_in)
{
	dev_cmd_finish(cmd, res->status, res->sense, sizeof(res->sense), data_in);
}

/* End a command now: 0 = GOOD, else the errno's sense. */
static void finish_err(struct rts_cmd *cmd, int err)
{
	cmd->step = NULL;
	dev_cmd_end(cmd, err);
}

static void finish_sense(struct rts_cmd *cmd, uint8_t key, uint16_t asc)
{
	struct scsi_result res;

	scsi_set_sense(&res, key, asc);
	finish_res(cmd, &res, -1);
}

static void count_op(struct rts_dev *dev)
{
	STAT_INC(dev, handler_ops);
}

/*
 * Start a handler operation whose result goes to @stepfn. The step is set before the call
 * because a handler may complete synchronously from inside it; a negative return means the
 * operation never started and ends the command. dev_op_end() checks the handler kept its
 * contract; the call's text names the operation in its messages.
 */
#define OP(cmd, stepfn, call)                                      \
	do {                                                       \
		uint32_t op_t_;                                    \
		(cmd)->step = (stepfn);                            \
		count_op((cmd)->dev);                              \
		op_t_ = dev_op_begin((cmd), #call);                \
		dev_op_end((cmd), op_t_, #call, (call));           \
	} while (0)

/* Cut the command's iovec copy down to exactly @len bytes. */
static void trim_iov(struct rts_cmd *cmd, uint64_t len)
{
	uint64_t acc = 0;

	for (unsigned int i = 0; i < cmd->iovcnt; i++) {
		if (acc + cmd->iov[i].iov_len >= len) {
			cmd->iov[i].iov_len = (size_t)(len - acc);
			cmd->iovcnt = i + 1;
			cmd->data_len = len;
			return;
		}
		acc += cmd->iov[i].iov_len;
	}
}

static uint64_t byte_off(const struct rts_cmd *cmd)
{
	return cmd->info.lba * cmd->dev->di.block_size;
}

static uint64_t byte_len(const struct rts_cmd *cmd)
{
	return (uint64_t)cmd->info.nr_blocks * cmd->dev->di.block_size;
}

/* ------------------------------------------------------------ range locks */

static bool overlaps(const struct rts_cmd *a, const struct rts_cmd *b)
{
	return a->info.lba < b->info.lba + b->info.nr_blocks &&
	       b->info.lba < a->info.lba + a->info.nr_blocks;
}

/* True when @cmd must wait: writes wait for CAWs (queued or active); CAWs wait for writes
 * and for active CAWs. */
static bool range_conflict(const struct rts_cmd *cmd)
{
	const struct rts_dev *dev = cmd->dev;
	bool is_caw = cmd->lock == RLOCK_CAW;

	if (!is_caw && !dev->ncaw)
		return false;
	for (uint32_t i = 0; i < dev->ncmds; i++) {
		const struct rts_cmd *o = &dev->cmds[i];

		if (o == cmd || !o->in_use || o->lock == RLOCK_NONE || !overlaps(cmd, o))
			continue;
		if (!is_caw && o->lock == RLOCK_CAW)
			return true;
		if (is_caw && (o->lock == RLOCK_WRITE || o->lock_active))
			return true;
	}
	return false;
}

static void defer(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;

	cmd->waiting = true;
	cmd_fifo_append(&dev->wait_head, &dev->wait_tail, cmd, offsetof(struct rts_cmd, wait_next));
}

void dispatch_release(struct rts_cmd *cmd)
{
	if (cmd->lock == RLOCK_CAW)
		cmd->dev->ncaw--;
	cmd->lock = RLOCK_NONE;
	cmd->lock_active = false;
}

static void dispatch_io(struct rts_cmd *cmd);

/* Take a command off the wait queue without starting it (it was aborted). */
void dispatch_unwait(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	struct rts_cmd **pp = &dev->wait_head, *prev = NULL;

	while (*pp && *pp != cmd) {
		prev = *pp;
		pp = &(*pp)->wait_next;
	}
	if (!*pp)
		return;
	*pp = cmd->wait_next;
	if (dev->wait_tail == cmd)
		dev->wait_tail = prev;
	cmd->wait_next = NULL;
	cmd->waiting = false;
}

void dispatch_retry_waiters(struct rts_dev *dev)
{
	struct rts_cmd *list = dev->wait_head;

	dev->wait_head = dev->wait_tail = NULL;
	while (list) {
		struct rts_cmd *next = list->wait_next;

		list->waiting = false;
		dispatch_io(list);
		list = next;
	}
}

/* --------------------------------------------------------------- read/write */

static void step_done(struct rts_cmd *cmd, int err)
{
	finish_err(cmd, err);
}

static void verify_start(struct rts_cmd *cmd, uint8_t bytchk, uint64_t data_off);
static void finish_condition_met(struct rts_cmd *cmd, int err);

static void step_write_done(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = cmd->dev;

	if (err) {
		finish_err(cmd, err);
		return;
	}
	if (cmd->flush_after) {
		cmd->flush_after = false;
		OP(cmd, step_write_done, dev->h->flush(dev, cmd));
		return;
	}
	if (cmd->info.kind == SCSI_KIND_WRITE_VERIFY && cmd->info.bytchk) {
		/* The lock stays held until the read-back compare is done. */
		verify_start(cmd, 1, 0);
		return;
	}
	finish_err(cmd, 0);
}

static unsigned int write_flags(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	bool fua = cmd->info.fua || !dev->st.write_cache;

	if (!fua)
		return 0;
	if (!(dev->h->flags & RTS_HANDLER_F_FUA) && dev->h->flush) {
		cmd->flush_after = true;
		return 0;
	}
	return RTS_IO_FUA;
}

/*
 * Fit the command's iovecs to exactly the bytes its CDB transfers. False when the command
 * already ended: a zero-length transfer (nothing to do) or a buffer shorter than the CDB says
 * that cannot be served.
 *
 * The buffer is the initiator's expected length (EDTL): LIO does no size check for a TCMU
 * device (passthrough_parse_cdb), so a buffer shorter or longer than the CDB's transfer
 * reaches us as it is (SAM-5 5.4.3 overflow/underflow). A READ reads what the buffer holds,
 * as kernel fileio does (one ending inside a block goes through read_partial()); a longer
 * buffer is trimmed and READ_LEN tells the kernel what was sent (dev_cmd_finish). A short
 * data-out buffer ends INVALID FIELD IN CDB: TCMU cannot report the overflow residual, so
 * writing fewer blocks than the CDB names and answering GOOD would look like a full write.
 */
static bool rw_prepare(struct rts_cmd *cmd, uint64_t *ret_len)
{
	uint32_t bs = cmd->dev->di.block_size;
	uint64_t len = byte_len(cmd);

	if (cmd->data_len < len) {
		if (cmd->info.kind != SCSI_KIND_READ || cmd->data_len % bs) {
			finish_sense(cmd, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
			return false;
		}
		cmd->info.nr_blocks = (uint32_t)(cmd->data_len / bs);
		len = cmd->data_len;
	}
	if (!len) { /* nothing sent: a buffer given anyway is zeroed whole at completion */
		cmd->data_len = 0;
		finish_err(cmd, 0);
		return false;
	}
	trim_iov(cmd, len);
	*ret_len = len;
	return true;
}

static void step_partial_read_done(struct rts_cmd *cmd, int err)
{
	if (err) {
		finish_err(cmd, err);
		return;
	}
	scsi_iov_copy_to(cmd->iov, cmd->iovcnt, 0, cmd->bounce, (size_t)cmd->data_len);
	cmd->step = NULL;
	dev_cmd_finish(cmd, RTS_SAM_GOOD, NULL, 0, (int64_t)cmd->data_len);
}

/*
 * A READ whose buffer ends inside a block (an underflow, e.g. one block into 200 bytes):
 * read the blocks the buffer touches into the bounce buffer and send what fits, as kernel
 * fileio does. Its iovec lives after the data, where it stays valid until the handler is done.
 */
static void read_partial(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	uint32_t bs = dev->di.block_size;
	uint64_t len = (cmd->data_len + bs - 1) / bs * bs;
	struct iovec *v;
	int r = dev_bounce(cmd, (size_t)len + sizeof(struct iovec));

	if (r < 0) {
		finish_err(cmd, r);
		return;
	}
	cmd->info.nr_blocks = (uint32_t)(len / bs);
	v = (struct iovec *)(void *)((uint8_t *)cmd->bounce + len);
	*v = (struct iovec){ .iov_base = cmd->bounce, .iov_len = (size_t)len };
	OP(cmd, step_partial_read_done, dev->h->read(dev, cmd, v, 1, byte_off(cmd), len));
}

static void do_read(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	uint64_t len;

	if (cmd->data_len < byte_len(cmd) && cmd->data_len % dev->di.block_size) {
		read_partial(cmd);
		return;
	}
	if (rw_prepare(cmd, &len))
		OP(cmd, step_done,
		   dev->h->read(dev, cmd, cmd->iov, cmd->iovcnt, byte_off(cmd), len));
}

/* EXTENDED COPY's fast path: the handler copies from cmd->copy_src itself (xcopy.c). */
static void do_copy_range(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;

	cmd->flush_after = !dev->st.write_cache && dev->h->flush;
	OP(cmd, step_write_done,
	   dev->h->copy_range(dev, cmd, cmd->copy_src, cmd->copy_src_off, byte_off(cmd),
			      byte_len(cmd)));
}

static void do_write(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	uint64_t len;

	if (!rw_prepare(cmd, &len))
		return;
	OP(cmd, step_write_done,
	   dev->h->write(dev, cmd, cmd->iov, cmd->iovcnt, byte_off(cmd), len, write_flags(cmd)));
}

/* ------------------------------------------------------------------ verify */

/*
 * Chunked read-and-compare over [lba, lba+nr_blocks): bytchk 0 only reads (medium check),
 * 1 compares with the Data-Out buffer starting at byte @data_off, 3 compares every block
 * with the first Data-Out block. Reports MISCOMPARE with the offset of the first differing
 * byte. cmd->pos counts bytes done; cmd->count holds bytchk; the bounce buffer holds the
 * chunk being read.
 */
static void step_verify(struct rts_cmd *cmd, int err);

static void verify_next(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	uint64_t total = byte_len(cmd);
	uint64_t chunk = MIN(total - cmd->pos, (uint64_t)CHUNK_BYTES);
	struct iovec *v;

	if (cmd->pos >= total) {
		if (cmd->prefetch)
			finish_condition_met(cmd, 0);
		else
			finish_err(cmd, 0);
		return;
	}
	v = (struct iovec *)(void *)(cmd->bounce + CHUNK_BYTES);
	v->iov_base = cmd->bounce;
	v->iov_len = (size_t)chunk;
	OP(cmd, step_verify, dev->h->read(dev, cmd, v, 1, byte_off(cmd) + cmd->pos, chunk));
}

static void step_verify(struct rts_cmd *cmd, int err)
{
	uint32_t bs = cmd->dev->di.block_size;
	uint64_t total = byte_len(cmd);
	uint64_t chunk = MIN(total - cmd->pos, (uint64_t)CHUNK_BYTES);
	uint8_t bytchk = (uint8_t)(cmd->count & 0xff);
	uint64_t data_off = cmd->count >> 8;
	uint8_t expect[512];

	if (err) {
		finish_err(cmd, err);
		return;
	}
	if (bytchk) {
		for (uint64_t done = 0; done < chunk;) {
			size_t n = (size_t)MIN(chunk - done, (uint64_t)sizeof(expect));
			uint64_t src = bytchk == 3 ? (cmd->pos + done) % bs : cmd->pos + done;

			/* bytchk 3: n never crosses a block boundary because bs % 512 == 0 */
			if (scsi_iov_copy_from(cmd->iov, cmd->iovcnt, (size_t)(data_off + src), expect,
					       n) != n) {
				finish_sense(cmd, RTS_SENSE_ILLEGAL_REQUEST,
					     SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
				return;
			}
			if (memcmp(expect, cmd->bounce + done, n) != 0) {
				size_t k = 0;
				struct scsi_result res;

				while (expect[k] == cmd->bounce[done + k])
					k++;
				scsi_set_sense_info(&res, RTS_SENSE_MISCOMPARE,
						    SCSI_ASC_MISCOMPARE_DURING_VERIFY,
						    cmd->pos + done + k);
				finish_res(cmd, &res, -1);
				return;
			}
			done += n;
		}
	}
	cmd->pos += chunk;
	verify_next(cmd);
}

static void verify_start(struct rts_cmd *cmd, uint8_t bytchk, uint64_t data_off)
{
	uint64_t need = bytchk == 1 ? byte_len(cmd) : (bytchk == 3 ? cmd->dev->di.block_size : 0);
	int r;

	if (bytchk != 0 && bytchk != 1 && bytchk != 3) {
		finish_sense(cmd, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
		return;
	}
	if (cmd->data_len < data_off + need) {
		finish_sense(cmd, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	r = dev_bounce(cmd, CHUNK_BYTES + sizeof(struct iovec));
	if (r < 0) {
		finish_err(cmd, r);
		return;
	}
	cmd->pos = 0;
	cmd->count = (uint32_t)(data_off << 8 | bytchk);
	verify_next(cmd);
}

/* ---------------------------------------------------------------- pre-fetch */

/*
 * PRE-FETCH 10/16 (SBC-4 5.9): read the range once through the handler (the page cache or
 * the handler's own cache keeps it) and answer CONDITION MET. A range larger than what we
 * call the cache (PREFETCH_MAX_BYTES), "to the last block" (length 0) or IMMED reads nothing
 * and answers as the standard asks for a cache too small or an immediate return: GOOD, or
 * CONDITION MET when the range would fit.
 */
#define PREFETCH_MAX_BYTES (32u << 20)

static void finish_condition_met(struct rts_cmd *cmd, int err)
{
	if (err) {
		finish_err(cmd, err);
		return;
	}
	cmd->step = NULL;
	dev_cmd_finish(cmd, RTS_SAM_CONDITION_MET, NULL, 0, -1);
}

static void do_prefetch(struct rts_cmd *cmd)
{
	uint64_t len = byte_len(cmd);

	if (!cmd->info.nr_blocks || len > PREFETCH_MAX_BYTES) {
		finish_err(cmd, 0);
		return;
	}
	if (cmd->info.immed) {
		finish_condition_met(cmd, 0);
		return;
	}
	cmd->prefetch = true;
	verify_start(cmd, 0, 0);
}

/* ----------------------------------------------------------- get lba status */

#define LBA_STATUS_MAX_DESCS 64

/*
 * GET LBA STATUS (SBC-4 5.6): descriptors from STARTING LBA on, as many as the allocation
 * length holds (at most LBA_STATUS_MAX_DESCS), each one extent of one provisioning status
 * from the handler's map (rts_handler.get_lba_status), or one "mapped" extent to the end
 * without it. PARAMETER DATA LENGTH counts what we have, the copy stops at the allocation
 * length (SPC-5 4.2.5.6).
 */
static void do_get_lba_status(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	uint32_t bs = dev->di.block_size;
	uint32_t alloc = cmd->info.xfer_len;
	uint32_t want = alloc > 8 ? (alloc - 8 + 15) / 16 : 1;
	uint8_t buf[8 + 16 * LBA_STATUS_MAX_DESCS];
	uint64_t lba = cmd->info.lba;
	uint32_t n = 0;
	struct scsi_result res;

	if (want > LBA_STATUS_MAX_DESCS)
		want = LBA_STATUS_MAX_DESCS;
	memset(buf, 0, sizeof(buf));
	while (n < want && lba < dev->di.num_lbas) {
		uint64_t left = dev->di.num_lbas - lba, len = left * bs, blocks;
		int mapped = 1;
		uint8_t *d = buf + 8 + 16 * n;

		if (dev->h->get_lba_status) {
			mapped = dev->h->get_lba_status(dev, lba * bs, &len);
			if (mapped < 0) {
				finish_err(cmd, mapped);
				return;
			}
			if (len < bs || len > left * bs) {
				rts_dev_warn(dev, "handler's get_lba_status gave a bad extent length %llu at LBA %llu",
					     (unsigned long long)len, (unsigned long long)lba);
				finish_sense(cmd, RTS_SENSE_HARDWARE_ERROR,
					     SCSI_ASC_INTERNAL_TARGET_FAILURE);
				return;
			}
		}
		blocks = len / bs;
		if (blocks > UINT32_MAX)
			blocks = UINT32_MAX;
		scsi_put_be64(&d[0], lba);
		scsi_put_be32(&d[8], (uint32_t)blocks);
		d[12] = mapped ? 0 : 1; /* PROVISIONING STATUS: 0 mapped, 1 deallocated */
		lba += blocks;
		n++;
	}
	scsi_put_be32(&buf[0], 4 + 16 * n);
	res.status = RTS_SAM_GOOD;
	memset(res.sense, 0, sizeof(res.sense));
	res.data_len = (uint32_t)scsi_iov_copy_to(cmd->iov, cmd->iovcnt, 0, buf,
						  MIN((size_t)alloc, (size_t)(8 + 16 * n)));
	finish_res(cmd, &res, res.data_len);
}

/* --------------------------------------------------------- compare and write */

static void step_caw_read(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = cmd->dev;
	uint64_t half = byte_len(cmd);
	uint8_t *cur = cmd->bounce, *want = cmd->bounce + half, *next = cmd->bounce + 2 * half;
	struct iovec *v = (struct iovec *)(void *)(cmd->bounce + 3 * half);

	if (err) {
		finish_err(cmd, err);
		return;
	}
	scsi_iov_copy_from(cmd->iov, cmd->iovcnt, 0, want, (size_t)half);
	if (memcmp(cur, want, (size_t)half) != 0) {
		struct scsi_result res;
		uint64_t k = 0;

		while (cur[k] == want[k])
			k++;
		scsi_set_sense_info(&res, RTS_SENSE_MISCOMPARE, SCSI_ASC_MISCOMPARE_DURING_VERIFY,
				    k);
		finish_res(cmd, &res, -1);
		return;
	}
	scsi_iov_copy_from(cmd->iov, cmd->iovcnt, (size_t)half, next, (size_t)half);
	v->iov_base = next;
	v->iov_len = (size_t)half;
	OP(cmd, step_write_done,
	   dev->h->write(dev, cmd, v, 1, byte_off(cmd), half, write_flags(cmd)));
}

static void do_caw(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	uint64_t half = byte_len(cmd);
	struct iovec *v;
	int r;

	/*
	 * Step 6 of the check order (tcmu/scsi/cdb.c): the Data-Out buffer must hold exactly the
	 * verify and the write instance (2 * NUMBER OF LOGICAL BLOCKS blocks); the CDB decides
	 * the length, so another length is an INVALID FIELD IN CDB (NUMBER OF LOGICAL BLOCKS).
	 * That includes NUMBER OF LOGICAL BLOCKS 0 with Data-Out (libiscsi's CompareAndWrite
	 * sends 256 blocks, which its one-byte field turns into 0): the CDB and the data disagree.
	 */
	if (cmd->data_len != 2 * half) {
		struct scsi_result res;

		scsi_set_sense_field(&res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB,
				     true, 13, -1);
		finish_res(cmd, &res, -1);
		return;
	}
	/* SBC-4 5.3: NUMBER OF LOGICAL BLOCKS 0 transfers nothing and is not an error. */
	if (!half) {
		finish_err(cmd, 0);
		return;
	}
	r = dev_bounce(cmd, 3 * half + sizeof(struct iovec));
	if (r < 0) {
		finish_err(cmd, r);
		return;
	}
	cmd->lock_active = true;
	v = (struct iovec *)(void *)(cmd->bounce + 3 * half);
	v->iov_base = cmd->bounce;
	v->iov_len = (size_t)half;
	OP(cmd, step_caw_read, dev->h->read(dev, cmd, v, 1, byte_off(cmd), half));
}

/* ----------------------------------------------------------------- unmap */

static void step_unmap(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = cmd->dev;
	const struct scsi_unmap_desc *d = (const struct scsi_unmap_desc *)(void *)cmd->bounce;
	uint32_t bs = dev->di.block_size;

	if (err) {
		finish_err(cmd, err);
		return;
	}
	while (cmd->pos < cmd->count && d[cmd->pos].nr_blocks == 0)
		cmd->pos++;
	if (cmd->pos >= cmd->count) {
		finish_err(cmd, 0);
		return;
	}
	d += cmd->pos++;
	OP(cmd, step_unmap,
	   dev->h->unmap(dev, cmd, d->lba * bs, (uint64_t)d->nr_blocks * bs));
}

static void do_unmap(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	struct scsi_result res;
	uint32_t max = dev->di.max_unmap_descs ? dev->di.max_unmap_descs : 1;
	uint32_t len = (uint32_t)MIN((uint64_t)cmd->info.xfer_len, cmd->data_len);
	int n, r;

	r = dev_bounce(cmd, max * sizeof(struct scsi_unmap_desc));
	if (r < 0) {
		finish_err(cmd, r);
		return;
	}
	n = scsi_unmap_parse(&dev->di, cmd->iov, cmd->iovcnt, len,
			     (struct scsi_unmap_desc *)(void *)cmd->bounce, max, &res);
	if (n < 0) {
		finish_res(cmd, &res, -1);
		return;
	}
	cmd->count = (uint32_t)n;
	cmd->pos = 0;
	step_unmap(cmd, 0);
}

/* ------------------------------------------------------------- write same */

static void step_write_same(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = cmd->dev;
	uint64_t total = byte_len(cmd);
	uint64_t chunk = MIN(total - cmd->pos, (uint64_t)CHUNK_BYTES);
	struct iovec *v = (struct iovec *)(void *)(cmd->bounce + CHUNK_BYTES);

	if (err) {
		finish_err(cmd, err);
		return;
	}
	if (cmd->pos >= total) {
		if (cmd->flush_after) {
			cmd->flush_after = false;
			OP(cmd, step_done, dev->h->flush(dev, cmd));
			return;
		}
		finish_err(cmd, 0);
		return;
	}
	v->iov_base = cmd->bounce;
	v->iov_len = (size_t)chunk;
	uint64_t off = byte_off(cmd) + cmd->pos;
	cmd->pos += chunk;
	OP(cmd, step_write_same,
	   dev->h->write(dev, cmd, v, 1, off, chunk,
			 cmd->flush_after ? 0 : (uint32_t)(cmd->count & RTS_IO_FUA)));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void do_write_same(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	uint32_t bs = dev->di.block_size;
	uint64_t total = byte_len(cmd);
	struct iovec *v;
	unsigned int flags;
	int r;

	r = dev_bounce(cmd, CHUNK_BYTES + sizeof(struct iovec));
	if (r < 0) {
		finish_err(cmd, r);
		return;
	}
	if (cmd->info.ndob) {
		memset(cmd->bounce, 0, bs);
	} else if (scsi_iov_copy_from(cmd->iov, cmd->iovcnt, 0, cmd->bounce, bs) != bs) {
		finish_sense(cmd, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return;
	}
	v = (struct iovec *)(void *)(cmd->bounce + CHUNK_BYTES);
	v->iov_base = cmd->bounce;
	v->iov_len = bs;
	if (cmd->info.unmap && dev->di.thin && all_zero(cmd->bounce, bs)) {
		if (dev->h->write_same && (dev->h->flags & RTS_HANDLER_F_WRITE_SAME_UNMAP))
			OP(cmd, step_done,
			   dev->h->write_same(dev, cmd, v, 1, byte_off(cmd), total, RTS_IO_UNMAP));
		else
			OP(cmd, step_done, dev->h->unmap(dev, cmd, byte_off(cmd), total));
		return;
	}
	flags = write_flags(cmd);
	if (dev->h->write_same) {
		OP(cmd, step_write_done,
		   dev->h->write_same(dev, cmd, v, 1, byte_off(cmd), total, flags));
		return;
	}
	/* Emulate: replicate the block across the chunk, write chunk by chunk. */
	for (size_t o = bs; o < CHUNK_BYTES; o += bs)
		memcpy(cmd->bounce + o, cmd->bounce, bs);
	cmd->pos = 0;
	cmd->count = flags;
	step_write_same(cmd, 0);
}

/* ---------------------------------------------------------------- dispatch */

/* Commands that take range locks come back here when a lock they waited on is released. */
static void dispatch_io(struct rts_cmd *cmd)
{
	if (range_conflict(cmd)) {
		defer(cmd);
		return;
	}
	switch (cmd->info.kind) {
	case SCSI_KIND_WRITE:
	case SCSI_KIND_WRITE_VERIFY:
		if (_unlikely_(cmd->copy_src))
			do_copy_range(cmd);
		else
			do_write(cmd);
		break;
	case SCSI_KIND_WRITE_SAME:
		do_write_same(cmd);
		break;
	case SCSI_KIND_CAW:
		do_caw(cmd);
		break;
	default:
		finish_sense(cmd, RTS_SENSE_HARDWARE_ERROR, SCSI_ASC_INTERNAL_TARGET_FAILURE);
	}
}

static void emulate(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	struct scsi_result res;
	uint8_t op = cmd->cdb[0];
	bool data_in = op != SCSI_MODE_SELECT_6 && op != SCSI_MODE_SELECT_10;

	if (op == SCSI_INQUIRY) {
		dev_refresh_serial(dev); /* rare command: the serial may be set after enable */
		xcopy_refresh_id(dev);   /* what EXTENDED COPY's identification descriptors match */
	}
	scsi_emulate(&dev->di, &dev->st, cmd->cdb, cmd->cdb_len, cmd->iov, cmd->iovcnt, &res);
	if (dev->st.wce_changed) {
		dev->st.wce_changed = false;
		dev->di.write_cache = dev->st.write_cache;
		if (dev->h->reconfig) {
			struct rts_reconfig rc = {
				.struct_size = sizeof(rc),
				.what = RTS_RECONFIG_WRITE_CACHE,
				.write_cache = dev->st.write_cache,
			};
			int r = dev->h->reconfig(dev, &rc);
			if (r < 0 && r != -EOPNOTSUPP)
				rts_dev_warn(dev, "handler refused write cache change: %s",
					     strerror(-r));
		}
	}
	finish_res(cmd, &res, data_in ? (int64_t)res.data_len : -1);
}

void dispatch_internal(struct rts_cmd *cmd)
{
	struct scsi_result res;

	if (scsi_decode(&cmd->dev->di, cmd->cdb, cmd->cdb_len, &cmd->info, &res) < 0) {
		finish_res(cmd, &res, -1);
		return;
	}
	if (cmd->info.kind == SCSI_KIND_READ) {
		do_read(cmd);
		return;
	}
	cmd->lock = RLOCK_WRITE; /* waits for COMPARE AND WRITE like any write */
	dispatch_io(cmd);
}

void dispatch_cmd(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	struct scsi_result res;
	uint8_t op = cmd->cdb[0];
	int r;

	if (dev->ua_capacity_changed && op != SCSI_INQUIRY && op != SCSI_REQUEST_SENSE &&
	    op != SCSI_REPORT_LUNS) {
		dev->ua_capacity_changed = false;
		finish_sense(cmd, RTS_SENSE_UNIT_ATTENTION, SCSI_ASC_CAPACITY_DATA_HAS_CHANGED);
		return;
	}
	if ((dev->alua || dev->alua_cfs) && dispatch_alua(cmd))
		return; /* REPORT / SET TARGET PORT GROUPS (alua_dev.c) */
	if (dev->h->handle_cmd) {
		uint32_t t = dev_op_begin(cmd, "handle_cmd");

		r = dev->h->handle_cmd(dev, cmd);
		if (r != RTS_CMD_NOT_HANDLED) {
			dev_op_end(cmd, t, "handle_cmd", r);
			return;
		}
		if (!dev_op_declined(cmd, t))
			return;
	}
	if (scsi_decode(&dev->di, cmd->cdb, cmd->cdb_len, &cmd->info, &res) < 0) {
		finish_res(cmd, &res, -1);
		return;
	}
	switch (cmd->info.kind) {
	case SCSI_KIND_EMULATE:
		STAT_INC(dev, emulated);
		emulate(cmd);
		break;
	case SCSI_KIND_READ:
		do_read(cmd);
		break;
	case SCSI_KIND_VERIFY:
		verify_start(cmd, cmd->info.bytchk, 0);
		break;
	case SCSI_KIND_PREFETCH:
		do_prefetch(cmd);
		break;
	case SCSI_KIND_GET_LBA_STATUS:
		do_get_lba_status(cmd);
		break;
	case SCSI_KIND_XCOPY:
		xcopy_start(cmd);
		break;
	case SCSI_KIND_RCR:
		xcopy_rcr(cmd);
		break;
	case SCSI_KIND_SYNC:
		if (dev->h->flush)
			OP(cmd, step_done, dev->h->flush(dev, cmd));
		else
			finish_err(cmd, 0);
		break;
	case SCSI_KIND_UNMAP:
		do_unmap(cmd);
		break;
	case SCSI_KIND_CAW:
		cmd->lock = RLOCK_CAW;
		dev->ncaw++;
		dispatch_io(cmd);
		break;
	case SCSI_KIND_WRITE:
	case SCSI_KIND_WRITE_VERIFY:
	case SCSI_KIND_WRITE_SAME:
		cmd->lock = RLOCK_WRITE;
		dispatch_io(cmd);
		break;
	}
}
