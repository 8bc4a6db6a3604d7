/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TCMU command ring: decode and complete (see ring.h). The kernel writes cmd_head and the
 * entries; we write cmd_tail and the response part of completed entries. Every value read
 * from the region is treated as hostile until checked.
 */
#include <errno.h>
#include <string.h>

#include "ring.h"

#define ENT_ALIGN ((uint32_t)TCMU_OP_ALIGN_SIZE)

static inline uint32_t load_acquire_u32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline void store_release_u32(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* Unaligned-safe loads from the shared region. */
static inline uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

int ring_attach(struct tcmu_ring *r, void *map, size_t map_size, const char **reason)
{
	struct tcmu_mailbox *mb = map;
	uint32_t cmdr_off, cmdr_size, head, tail;

	*r = (struct tcmu_ring){ 0 };
	if (!map || map_size < sizeof(*mb)) {
		*reason = "mapping smaller than the mailbox";
		return -EINVAL;
	}
	if (mb->version != TCMU_MAILBOX_VERSION) {
		*reason = "unsupported mailbox version (expected 2)";
		return -EPROTO;
	}
	cmdr_off = mb->cmdr_off;
	cmdr_size = mb->cmdr_size;
	if (cmdr_off < sizeof(*mb) || cmdr_off % ENT_ALIGN) {
		*reason = "command ring offset overlaps the mailbox or is misaligned";
		return -EPROTO;
	}
	if (cmdr_size < 2 * RING_CMD_ENTRY_SIZE || cmdr_size % ENT_ALIGN ||
	    (uint64_t)cmdr_off + cmdr_size > map_size) {
		*reason = "command ring size invalid or beyond the mapping";
		return -EPROTO;
	}
	if (!(mb->flags & TCMU_MAILBOX_FLAG_CAP_OOOC)) {
		*reason = "kernel lacks out-of-order completion (CAP_OOOC)";
		return -ENOTSUP;
	}
	head = load_acquire_u32(&mb->cmd_head);
	tail = load_acquire_u32(&mb->cmd_tail);
	if (head >= cmdr_size || tail >= cmdr_size || head % ENT_ALIGN || tail % ENT_ALIGN) {
		*reason = "ring head or tail out of range";
		return -EPROTO;
	}
	r->map = map;
	r->map_size = map_size;
	r->mb = mb;
	r->cmdr = (uint8_t *)map + cmdr_off;
	r->cmdr_size = cmdr_size;
	r->data_off = (size_t)cmdr_off + cmdr_size;
	r->caps = mb->flags;
	r->next = tail;
	r->tail = tail;
	r->completable = 0;
	return 0;
}

uint32_t ring_head(const struct tcmu_ring *r)
{
	return load_acquire_u32(&r->mb->cmd_head);
}

void ring_reset(struct tcmu_ring *r)
{
	r->next = 0;
	r->tail = 0;
	r->completable = 0;
}

unsigned int ring_cdb_len(const uint8_t *cdb, size_t avail)
{
	unsigned int len;

	if (avail < 1)
		return 0;
	switch (cdb[0] >> 5) {
	case 0:
		len = 6;
		break;
	case 1:
	case 2:
		len = 10;
		break;
	case 3:
		/* 0x7f variable length: 8 + ADDITIONAL CDB LENGTH (byte 7) */
		if (cdb[0] != 0x7f || avail < 8)
			return 0;
		len = 8u + cdb[7];
		if (len > RING_MAX_CDB)
			return 0;
		break;
	case 4:
		len = 16;
		break;
	case 5:
		len = 12;
		break;
	default:
		return 0;
	}
	return len <= avail ? len : 0;
}

/* Validate the header of the entry at ring offset @off; fills type, len. */
static int check_entry(const struct tcmu_ring *r, uint32_t off, uint32_t *ret_op,
		       uint32_t *ret_len, const char **reason)
{
	uint32_t len_op = rd32(r->cmdr + off);
	uint32_t op = tcmu_hdr_get_op(len_op);
	uint32_t len = tcmu_hdr_get_len(len_op);

	if (len < sizeof(struct tcmu_cmd_entry_hdr) || len % ENT_ALIGN) {
		*reason = "ring entry length is zero or misaligned";
		return -EPROTO;
	}
	if (len > r->cmdr_size - off) {
		*reason = "ring entry crosses the end of the ring";
		return -EPROTO;
	}
	if (op == TCMU_OP_CMD && len < RING_CMD_ENTRY_SIZE) {
		*reason = "command entry shorter than struct tcmu_cmd_entry";
		return -EPROTO;
	}
	if (op == TCMU_OP_TMR && len < RING_TMR_IDS_OFF) {
		*reason = "TMR entry shorter than struct tcmu_tmr_entry";
		return -EPROTO;
	}
	*ret_op = op;
	*ret_len = len;
	return 0;
}

int ring_next(struct tcmu_ring *r, struct ring_ent *ent, const char **reason)
{
	uint32_t head = ring_head(r);

	if (head >= r->cmdr_size || head % ENT_ALIGN) {
		*reason = "kernel cmd_head out of range";
		return -EPROTO;
	}
	/* Bound the PAD skipping so a ring full of PADs cannot spin forever. */
	for (unsigned int guard = 0; r->next != head; guard++) {
		uint32_t off = r->next, op, len;
		const uint8_t *e;
		int ret;

		if (guard > 2) {
			*reason = "consecutive PAD entries";
			return -EPROTO;
		}
		ret = check_entry(r, off, &op, &len, reason);
		if (ret < 0)
			return ret;
		/* An entry ends at or before the head; anything longer is stale or forged. */
		if (len > (head + r->cmdr_size - off) % r->cmdr_size) {
			*reason = "ring entry extends past cmd_head";
			return -EPROTO;
		}
		e = r->cmdr + off;
		if (op == TCMU_OP_PAD) {
			/* Padding until the end of the ring; the entry never covers the head. */
			r->next = (off + len) % r->cmdr_size;
			continue;
		}
		*ent = (struct ring_ent){
			.cmd_id = rd16(e + offsetof(struct tcmu_cmd_entry_hdr, cmd_id)),
			.off = off,
			.len = len,
		};
		if (op == TCMU_OP_CMD) {
			ent->type = RING_ENT_CMD;
		} else if (op == TCMU_OP_TMR) {
			uint32_t cnt = rd32(e + offsetof(struct tcmu_tmr_entry, cmd_cnt));
			uint32_t room = (len - RING_TMR_IDS_OFF) / sizeof(uint16_t);

			ent->type = RING_ENT_TMR;
			ent->tmr_type = e[offsetof(struct tcmu_tmr_entry, tmr_type)];
			ent->tmr_cnt = cnt < room ? cnt : room;
			ent->tmr_ids = (const uint16_t *)(const void *)(e + RING_TMR_IDS_OFF);
		} else {
			ent->type = RING_ENT_UNKNOWN;
		}
		return 1;
	}
	return 0;
}

void ring_consume(struct tcmu_ring *r, const struct ring_ent *ent)
{
	r->next = (ent->off + ent->len) % r->cmdr_size;
	if (ent->type != RING_ENT_TMR)
		r->completable++;
}

const char *ring_tmr_name(uint8_t type)
{
	switch (type) {
	case TCMU_TMR_ABORT_TASK:
		return "ABORT_TASK";
	case TCMU_TMR_ABORT_TASK_SET:
		return "ABORT_TASK_SET";
	case TCMU_TMR_CLEAR_ACA:
		return "CLEAR_ACA";
	case TCMU_TMR_CLEAR_TASK_SET:
		return "CLEAR_TASK_SET";
	case TCMU_TMR_LUN_RESET:
		return "LUN_RESET";
	case TCMU_TMR_TARGET_WARM_RESET:
		return "TARGET_WARM_RESET";
	case TCMU_TMR_TARGET_COLD_RESET:
		return "TARGET_COLD_RESET";
	case TCMU_TMR_LUN_RESET_PRO:
		return "LUN_RESET_PRO";
	default:
		return "UNKNOWN";
	}
}

uint16_t ring_tmr_id(const struct ring_ent *ent, uint32_t i)
{
	return rd16((const uint8_t *)ent->tmr_ids + (size_t)i * sizeof(uint16_t));
}

unsigned int ring_cmd_iov_count(const struct tcmu_ring *r, const struct ring_ent *ent)
{
	const uint8_t *e = r->cmdr + ent->off;
	uint64_t n = (uint64_t)rd32(e + offsetof(struct tcmu_cmd_entry, req.iov_cnt)) +
		     rd32(e + offsetof(struct tcmu_cmd_entry, req.iov_bidi_cnt));

	if (RING_IOV_OFF + n * sizeof(struct iovec) > ent->len)
		return 0;
	return (unsigned int)n;
}

int ring_cmd_decode(const struct tcmu_ring *r, const struct ring_ent *ent, uint8_t *cdb,
		    unsigned int *ret_cdb_len, struct iovec *iov, unsigned int max_iov,
		    unsigned int *ret_iovcnt, unsigned int *ret_bidi, const char **reason)
{
	const uint8_t *e = r->cmdr + ent->off;
	uint32_t iov_cnt = rd32(e + offsetof(struct tcmu_cmd_entry, req.iov_cnt));
	uint32_t bidi_cnt = rd32(e + offsetof(struct tcmu_cmd_entry, req.iov_bidi_cnt));
	uint32_t dif_cnt = rd32(e + offsetof(struct tcmu_cmd_entry, req.iov_dif_cnt));
	uint64_t cdb_off = rd64(e + offsetof(struct tcmu_cmd_entry, req.cdb_off));
	uint64_t total = (uint64_t)iov_cnt + bidi_cnt + dif_cnt;
	unsigned int cdb_len;
	size_t avail;

	if (RING_IOV_OFF + total * sizeof(struct iovec) > ent->len) {
		*reason = "iovec count exceeds the command entry";
		return -EINVAL;
	}
	if (cdb_off >= r->map_size) {
		*reason = "CDB offset outside the mapping";
		return -EFAULT;
	}
	avail = r->map_size - cdb_off;
	if (avail > RING_MAX_CDB)
		avail = RING_MAX_CDB;
	cdb_len = ring_cdb_len(r->map + cdb_off, avail);
	if (!cdb_len) {
		/* Copy what we can so the caller can report the opcode. */
		cdb[0] = r->map[cdb_off];
		*ret_cdb_len = 1;
	} else {
		memcpy(cdb, r->map + cdb_off, cdb_len);
		*ret_cdb_len = cdb_len;
	}
	*ret_iovcnt = (unsigned int)(iov_cnt + bidi_cnt);
	*ret_bidi = bidi_cnt;
	if (iov_cnt + bidi_cnt > max_iov)
		return -E2BIG;
	for (uint32_t i = 0; i < iov_cnt + bidi_cnt; i++) {
		const uint8_t *p = e + RING_IOV_OFF + (size_t)i * sizeof(struct iovec);
		uint64_t base = rd64(p + offsetof(struct iovec, iov_base));
		uint64_t len = rd64(p + offsetof(struct iovec, iov_len));

		if (base < r->data_off || base > r->map_size || len > r->map_size - base) {
			*reason = "iovec outside the data area";
			return -EFAULT;
		}
		iov[i].iov_base = r->map + base;
		iov[i].iov_len = (size_t)len;
	}
	if (!cdb_len) {
		*reason = "CDB length unknown for its opcode group";
		return -EINVAL;
	}
	return 0;
}

/*
 * Length of the slot at @off for walking from the completion index to the consumer index,
 * or 0 when it cannot be walked. The slots were validated by ring_next(), but the region
 * is shared: whoever else writes it may have changed a header since, and a zero or
 * oversized length must not loop forever or step outside the consumed part.
 */
static uint32_t walk_len(const struct tcmu_ring *r, uint32_t off, uint32_t *ret_op)
{
	uint32_t len_op = rd32(r->cmdr + off);
	uint32_t len = tcmu_hdr_get_len(len_op);
	uint32_t room = (r->next + r->cmdr_size - off) % r->cmdr_size;

	*ret_op = tcmu_hdr_get_op(len_op);
	if (len < sizeof(struct tcmu_cmd_entry_hdr) || len > room)
		return 0;
	return len;
}

int ring_complete(struct tcmu_ring *r, uint16_t cmd_id, const struct ring_rsp *rsp)
{
	uint32_t tail = r->tail;

	if (!r->completable)
		return -ENOSPC;
	/*
	 * Step over PAD and TMR slots; the kernel skips them too. completable > 0 guarantees a
	 * CMD (or unknown-op) slot between tail and next.
	 */
	while (tail != r->next) {
		uint8_t *e = r->cmdr + tail;
		struct tcmu_cmd_entry_hdr hdr;
		uint32_t op, len = walk_len(r, tail, &op);

		if (!len)
			return -EPROTO;
		if (op == TCMU_OP_PAD || op == TCMU_OP_TMR) {
			tail = (tail + len) % r->cmdr_size;
			continue;
		}
		memcpy(&hdr, e, sizeof(hdr));
		hdr.cmd_id = cmd_id;
		hdr.uflags = rsp->uflags;
		memcpy(e, &hdr, sizeof(hdr));
		/*
		 * The response overlays the request; a slot shorter than struct tcmu_cmd_entry can
		 * only be an unknown-op entry (ring_next() refuses short CMD entries): it gets the
		 * header alone, never bytes of the entries after it.
		 */
		if (len >= RING_CMD_ENTRY_SIZE) {
			e[offsetof(struct tcmu_cmd_entry, rsp.scsi_status)] = rsp->status;
			if (rsp->uflags & TCMU_UFLAG_READ_LEN)
				memcpy(e + offsetof(struct tcmu_cmd_entry, rsp.read_len),
				       &rsp->read_len, sizeof(rsp->read_len));
			if (rsp->sense && rsp->sense_len) {
				size_t n = rsp->sense_len < TCMU_SENSE_BUFFERSIZE ?
						   rsp->sense_len :
						   TCMU_SENSE_BUFFERSIZE;
				memcpy(e + offsetof(struct tcmu_cmd_entry, rsp.sense_buffer),
				       rsp->sense, n);
			}
		}
		r->tail = (tail + len) % r->cmdr_size;
		r->completable--;
		return 0;
	}
	return -ENOSPC;
}

void ring_publish(struct tcmu_ring *r)
{
	/* Skip trailing PAD/TMR slots so the kernel can reclaim them too. */
	while (r->tail != r->next) {
		uint32_t op, len = walk_len(r, r->tail, &op);

		if (!len || (op != TCMU_OP_PAD && op != TCMU_OP_TMR))
			break;
		r->tail = (r->tail + len) % r->cmdr_size;
	}
	store_release_u32(&r->mb->cmd_tail, r->tail);
}
