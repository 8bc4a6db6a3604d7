/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel-side TCMU simulator (see include/rts/sim.h). Mirrors target_core_user.c:
 * queue_cmd_ring() for submission (PAD at the wrap, iovecs into data blocks, cmd_id from a
 * 16-bit space starting at 1) and tcmu_handle_completions() for completion (walk from the
 * last cleaned slot to cmd_tail, skip PAD/TMR, look up each slot's cmd_id).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <rts/sim.h>

#include "macro.h"
#include "ring.h"

#define SIM_DEF_CMDR_SIZE  (8u * 1024 * 1024 - 128)
#define SIM_DEF_DATA_SIZE  (64ull * 1024 * 1024)
#define SIM_DEF_BLK_SIZE   4096u
#define SIM_MAX_OUTSTANDING 4096u
#define SIM_INLINE_IOVS    8

struct sim_iov {
	uint64_t off; /* offset of the data in the map */
	uint64_t len;
};

struct sim_cmd {
	bool active;
	uint16_t cmd_id;
	enum rts_sim_dir dir;
	void *buf;
	size_t len;
	void *tag;
	uint32_t niov;
	struct sim_iov inline_iov[SIM_INLINE_IOVS];
	struct sim_iov *iov; /* inline_iov or heap */
};

struct rts_sim {
	struct rts_sim_params p;
	int memfd, kick_fd, irq_fd;
	uint8_t *map;
	size_t map_size;
	struct tcmu_mailbox *mb;
	uint8_t *cmdr;
	size_t data_off;
	uint32_t nblocks;
	uint64_t *bitmap;
	uint32_t blk_cursor;
	uint32_t blocks_free;

	uint32_t head;         /* private producer index, published by kick */
	uint32_t last_cleaned; /* completion walk position */
	uint32_t *shadow;      /* len_op we wrote at each 8-byte ring offset */

	uint16_t next_id;
	uint16_t id_slot[65536]; /* cmd_id -> slot index + 1 (0: free) */
	struct sim_cmd *slots;
	uint32_t nslots, nfree;
	uint32_t *free_slots;
	unsigned int outstanding;
	const char *broken;
	bool has_last;         /* last_ent is the last entry queued since the last kick */
	uint32_t last_ent;
	bool bad_head;         /* RTS_SIM_CORRUPT_HEAD pending */
};

static uint32_t len_op(enum tcmu_opcode op, uint32_t len)
{
	return (len & ~(uint32_t)TCMU_OP_MASK) | ((uint32_t)op & TCMU_OP_MASK);
}

static void sim_break(struct rts_sim *sim, const char *why)
{
	if (!sim->broken)
		sim->broken = why;
}

RTS_EXPORT struct rts_sim *rts_sim_free(struct rts_sim *sim)
{
	if (!sim)
		return NULL;
	if (sim->slots)
		for (uint32_t i = 0; i < sim->nslots; i++)
			if (sim->slots[i].iov != sim->slots[i].inline_iov)
				free(sim->slots[i].iov);
	if (sim->map && sim->map != MAP_FAILED)
		munmap(sim->map, sim->map_size);
	if (sim->memfd >= 0)
		close(sim->memfd);
	if (sim->kick_fd >= 0)
		close(sim->kick_fd);
	if (sim->irq_fd >= 0)
		close(sim->irq_fd);
	free(sim->bitmap);
	free(sim->shadow);
	free(sim->slots);
	free(sim->free_slots);
	free(sim);
	return NULL;
}
DEFINE_CLEANUP_FUNC(struct rts_sim *, rts_sim_free)

RTS_EXPORT int rts_sim_new(const struct rts_sim_params *params, struct rts_sim **ret)
{
	_cleanup_(rts_sim_freep) struct rts_sim *sim = NULL;
	struct rts_sim_params p = params ? *params : (struct rts_sim_params){ 0 };

	assert_return(ret, -EINVAL);
	if (!p.cmdr_size)
		p.cmdr_size = SIM_DEF_CMDR_SIZE;
	if (!p.data_size)
		p.data_size = SIM_DEF_DATA_SIZE;
	if (!p.data_blk_size)
		p.data_blk_size = SIM_DEF_BLK_SIZE;
	if (!p.mailbox_flags)
		p.mailbox_flags = TCMU_MAILBOX_FLAG_CAP_OOOC | TCMU_MAILBOX_FLAG_CAP_READ_LEN |
				  TCMU_MAILBOX_FLAG_CAP_TMR | TCMU_MAILBOX_FLAG_CAP_KEEP_BUF;
	if (p.cmdr_size % 8 || p.cmdr_size < 512 || p.data_blk_size % 512 ||
	    p.data_size % p.data_blk_size || p.data_size / p.data_blk_size > (1u << 24) ||
	    p.data_size == 0)
		return -EINVAL;

	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->memfd = sim->kick_fd = sim->irq_fd = -1;
	sim->p = p;
	sim->data_off = ALIGN_UP((size_t)sizeof(struct tcmu_mailbox) + p.cmdr_size, 4096);
	sim->map_size = sim->data_off + p.data_size;
	sim->nblocks = (uint32_t)(p.data_size / p.data_blk_size);
	sim->blocks_free = sim->nblocks;
	sim->bitmap = calloc((sim->nblocks + 63) / 64, sizeof(uint64_t));
	sim->shadow = calloc(p.cmdr_size / 8, sizeof(uint32_t));
	sim->nslots = SIM_MAX_OUTSTANDING;
	sim->nfree = sim->nslots;
	sim->slots = calloc(sim->nslots, sizeof(*sim->slots));
	sim->free_slots = calloc(sim->nslots, sizeof(uint32_t));
	if (!sim->bitmap || !sim->shadow || !sim->slots || !sim->free_slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < sim->nslots; i++) {
		sim->slots[i].iov = sim->slots[i].inline_iov;
		sim->free_slots[i] = sim->nslots - 1 - i;
	}
	sim->next_id = 1;

	sim->memfd = memfd_create("rts-sim-map0", MFD_CLOEXEC);
	if (sim->memfd < 0)
		return -errno;
	if (ftruncate(sim->memfd, (off_t)sim->map_size) < 0)
		return -errno;
	sim->map = mmap(NULL, sim->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, sim->memfd, 0);
	if (sim->map == MAP_FAILED)
		return -errno;
	sim->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	sim->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sim->kick_fd < 0 || sim->irq_fd < 0)
		return -errno;

	sim->mb = (struct tcmu_mailbox *)(void *)sim->map;
	sim->mb->version = TCMU_MAILBOX_VERSION;
	sim->mb->flags = p.mailbox_flags;
	sim->mb->cmdr_off = sizeof(struct tcmu_mailbox);
	sim->mb->cmdr_size = p.cmdr_size;
	sim->cmdr = sim->map + sim->mb->cmdr_off;
	/* The kernel maps the data area right after the ring; we page-align it. */
	*ret = TAKE_PTR(sim);
	return 0;
}

RTS_EXPORT void *rts_sim_get_map(const struct rts_sim *sim, size_t *ret_size)
{
	if (ret_size)
		*ret_size = sim->map_size;
	return sim->map;
}

RTS_EXPORT int rts_sim_get_kick_fd(const struct rts_sim *sim)
{
	return sim->kick_fd;
}

RTS_EXPORT int rts_sim_get_irq_fd(const struct rts_sim *sim)
{
	return sim->irq_fd;
}

RTS_EXPORT unsigned int rts_sim_outstanding(const struct rts_sim *sim)
{
	return sim->outstanding;
}

RTS_EXPORT const char *rts_sim_broken_reason(const struct rts_sim *sim)
{
	return sim->broken;
}

/* ---------------------------------------------------------------- data area */

static bool blk_test(const struct rts_sim *sim, uint32_t b)
{
	return sim->bitmap[b / 64] >> (b % 64) & 1;
}

static void blk_set(struct rts_sim *sim, uint32_t b, bool v)
{
	if (v)
		sim->bitmap[b / 64] |= 1ull << (b % 64);
	else
		sim->bitmap[b / 64] &= ~(1ull << (b % 64));
}

static void free_blocks(struct rts_sim *sim, struct sim_cmd *c);

/* Allocate @n blocks (next-fit) and describe them as iovecs of at most max_iov_blocks. */
static int alloc_blocks(struct rts_sim *sim, struct sim_cmd *c, uint32_t n, size_t len)
{
	uint32_t cap = SIM_INLINE_IOVS, b = sim->blk_cursor, got = 0;
	uint32_t maxrun = sim->p.max_iov_blocks ? sim->p.max_iov_blocks : UINT32_MAX;
	struct sim_iov *iov = c->inline_iov;
	uint32_t niov = 0, run = 0;
	uint64_t remaining = len;

	if (n > sim->blocks_free)
		return -EAGAIN;
	while (got < n) {
		if (blk_test(sim, b)) {
			b = (b + 1) % sim->nblocks;
			run = 0;
			continue;
		}
		blk_set(sim, b, true);
		uint64_t off = sim->data_off + (uint64_t)b * sim->p.data_blk_size;
		uint64_t chunk = remaining < sim->p.data_blk_size ? remaining : sim->p.data_blk_size;
		if (niov && run && run < maxrun && iov[niov - 1].off + iov[niov - 1].len == off) {
			iov[niov - 1].len += chunk;
			run++;
		} else {
			if (niov == cap) {
				struct sim_iov *nv = malloc(sizeof(*nv) * cap * 2);
				if (!nv) {
					blk_set(sim, b, false);
					sim->blocks_free -= got; /* free_blocks() gives them back */
					if (c->iov != c->inline_iov && c->iov != iov)
						free(c->iov);
					c->iov = iov;
					c->niov = niov;
					free_blocks(sim, c);
					return -ENOMEM;
				}
				memcpy(nv, iov, sizeof(*nv) * niov);
				if (iov != c->inline_iov)
					free(iov);
				iov = nv;
				cap *= 2;
			}
			iov[niov++] = (struct sim_iov){ .off = off, .len = chunk };
			run = 1;
		}
		remaining -= chunk;
		got++;
		b = (b + 1) % sim->nblocks;
		if (b == 0)
			run = 0; /* block 0 is not adjacent to the last block */
	}
	sim->blk_cursor = b;
	sim->blocks_free -= n;
	if (c->iov != c->inline_iov && c->iov != iov)
		free(c->iov);
	c->iov = iov;
	c->niov = niov;
	return 0;
}

static void free_blocks(struct rts_sim *sim, struct sim_cmd *c)
{
	for (uint32_t i = 0; i < c->niov; i++) {
		uint32_t first = (uint32_t)((c->iov[i].off - sim->data_off) / sim->p.data_blk_size);
		uint32_t cnt = (uint32_t)((c->iov[i].len + sim->p.data_blk_size - 1) /
					  sim->p.data_blk_size);
		for (uint32_t b = first; b < first + cnt; b++) {
			blk_set(sim, b, false);
			sim->blocks_free++;
		}
	}
	c->niov = 0;
}

static void copy_iov(struct rts_sim *sim, struct sim_cmd *c, bool to_dev, size_t limit)
{
	uint8_t *buf = c->buf;
	size_t done = 0;

	for (uint32_t i = 0; i < c->niov && done < limit; i++) {
		size_t n = c->iov[i].len < limit - done ? c->iov[i].len : limit - done;
		if (to_dev)
			memcpy(sim->map + c->iov[i].off, buf + done, n);
		else
			memcpy(buf + done, sim->map + c->iov[i].off, n);
		done += n;
	}
}

/* ---------------------------------------------------------------- ring space */

static uint32_t ring_used(const struct rts_sim *sim)
{
	return (sim->head + sim->p.cmdr_size - sim->last_cleaned) % sim->p.cmdr_size;
}

/* Reserve @len contiguous bytes at head, writing a PAD first if needed. */
static int reserve(struct rts_sim *sim, uint32_t len)
{
	uint32_t size = sim->p.cmdr_size;
	uint32_t free_bytes = size - ring_used(sim) - 8;
	uint32_t need = len;

	if (sim->head + len > size)
		need += size - sim->head; /* the PAD */
	if (need > free_bytes || len > size / 2)
		return -EAGAIN;
	if (sim->head + len > size) {
		uint32_t pad = size - sim->head;
		struct tcmu_cmd_entry_hdr hdr = { 0 };

		hdr.len_op = len_op(TCMU_OP_PAD, pad);
		memcpy(sim->cmdr + sim->head, &hdr, sizeof(hdr));
		sim->shadow[sim->head / 8] = hdr.len_op;
		sim->head = 0;
	}
	return 0;
}

static int alloc_id(struct rts_sim *sim, uint16_t *ret)
{
	for (uint32_t tries = 0; tries < 65535; tries++) {
		uint16_t id = sim->next_id;
		sim->next_id = id == 65535 ? 1 : id + 1;
		if (!sim->id_slot[id]) {
			*ret = id;
			return 0;
		}
	}
	return -EAGAIN;
}

RTS_EXPORT int rts_sim_submit(struct rts_sim *sim, const uint8_t *cdb, size_t cdb_len,
			      enum rts_sim_dir dir, void *buf, size_t len, void *tag,
			      uint16_t *ret_cmd_id)
{
	uint32_t nblk, base, ent_len, slot;
	struct sim_cmd *c;
	uint16_t id = 0;
	uint8_t *e;
	int ret;

	assert_return(sim && cdb, -EINVAL);
	assert_return(cdb_len >= 6 && cdb_len <= RING_MAX_CDB, -EINVAL);
	assert_return(dir == RTS_SIM_NONE || buf || sim->p.no_copy, -EINVAL);
	if (sim->broken)
		return -EIO;
	if (dir == RTS_SIM_NONE)
		len = 0;
	if (len > sim->p.data_size)
		return -EINVAL;
	nblk = (uint32_t)((len + sim->p.data_blk_size - 1) / sim->p.data_blk_size);
	if (!sim->nfree || nblk > sim->blocks_free)
		return -EAGAIN;
	/* Worst case iov count is nblk; compute the exact count after allocation. */
	slot = sim->free_slots[sim->nfree - 1];
	c = &sim->slots[slot];
	if (nblk) {
		ret = alloc_blocks(sim, c, nblk, len);
		if (ret < 0)
			return ret;
	} else {
		c->niov = 0;
	}
	base = RING_IOV_OFF + c->niov * (uint32_t)sizeof(struct iovec);
	if (base < RING_CMD_ENTRY_SIZE)
		base = RING_CMD_ENTRY_SIZE;
	ent_len = base + (uint32_t)ALIGN_UP(cdb_len, 8);
	/* never fits (the kernel fails such a command too): not a reason to wait and retry */
	ret = ent_len > sim->p.cmdr_size / 2 ? -EINVAL : reserve(sim, ent_len);
	if (ret == 0)
		ret = alloc_id(sim, &id);
	if (ret < 0) {
		free_blocks(sim, c);
		return ret;
	}
	sim->nfree--;
	sim->id_slot[id] = (uint16_t)(slot + 1);
	c->active = true;
	c->cmd_id = id;
	c->dir = dir;
	c->buf = buf;
	c->len = len;
	c->tag = tag;
	if (dir == RTS_SIM_TO_DEV && !sim->p.no_copy)
		copy_iov(sim, c, true, len);

	e = sim->cmdr + sim->head;
	memset(e, 0, base);
	struct tcmu_cmd_entry_hdr hdr = { .cmd_id = id };
	hdr.len_op = len_op(TCMU_OP_CMD, ent_len);
	memcpy(e, &hdr, sizeof(hdr));
	uint32_t iov_cnt = dir == RTS_SIM_NONE ? 0 : c->niov;
	uint64_t cdb_off = (uint64_t)(sim->cmdr - sim->map) + sim->head + base;
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.iov_cnt), &iov_cnt, sizeof(iov_cnt));
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.cdb_off), &cdb_off, sizeof(cdb_off));
	for (uint32_t i = 0; i < c->niov; i++) {
		uint64_t v[2] = { c->iov[i].off, c->iov[i].len };
		memcpy(e + RING_IOV_OFF + i * sizeof(struct iovec), v, sizeof(v));
	}
	memset(e + base, 0, ent_len - base);
	memcpy(e + base, cdb, cdb_len);
	sim->shadow[sim->head / 8] = hdr.len_op;
	sim->last_ent = sim->head;
	sim->has_last = true;
	sim->head = (sim->head + ent_len) % sim->p.cmdr_size;
	sim->outstanding++;
	if (ret_cmd_id)
		*ret_cmd_id = id;
	return 0;
}

RTS_EXPORT int rts_sim_queue_tmr(struct rts_sim *sim, uint8_t tmr_type, const uint16_t *cmd_ids,
				 uint32_t count)
{
	uint32_t len;
	uint8_t *e;
	int ret;

	assert_return(sim && (cmd_ids || !count), -EINVAL);
	assert_return(count <= 65535, -EINVAL);
	if (!(sim->p.mailbox_flags & TCMU_MAILBOX_FLAG_CAP_TMR))
		return -ENOTSUP;
	len = (uint32_t)ALIGN_UP(RING_TMR_IDS_OFF + count * sizeof(uint16_t), 8);
	ret = reserve(sim, len);
	if (ret < 0)
		return ret;
	e = sim->cmdr + sim->head;
	memset(e, 0, len);
	struct tcmu_cmd_entry_hdr hdr = { 0 };
	hdr.len_op = len_op(TCMU_OP_TMR, len);
	memcpy(e, &hdr, sizeof(hdr));
	e[offsetof(struct tcmu_tmr_entry, tmr_type)] = tmr_type;
	memcpy(e + offsetof(struct tcmu_tmr_entry, cmd_cnt), &count, sizeof(count));
	if (count)
		memcpy(e + RING_TMR_IDS_OFF, cmd_ids, count * sizeof(uint16_t));
	sim->shadow[sim->head / 8] = hdr.len_op;
	sim->head = (sim->head + len) % sim->p.cmdr_size;
	return 0;
}

RTS_EXPORT int rts_sim_kick(struct rts_sim *sim)
{
	uint64_t one = 1;

	assert_return(sim, -EINVAL);
	__atomic_store_n(&sim->mb->cmd_head,
			 sim->bad_head ? sim->p.cmdr_size + 64 : sim->head, __ATOMIC_RELEASE);
	sim->bad_head = false;
	sim->has_last = false;
	if (write(sim->kick_fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

RTS_EXPORT int rts_sim_reap(struct rts_sim *sim,
			    void (*cb)(void *userdata, const struct rts_sim_completion *c),
			    void *userdata)
{
	uint32_t size = sim->p.cmdr_size;
	uint32_t tail = __atomic_load_n(&sim->mb->cmd_tail, __ATOMIC_ACQUIRE);
	int count = 0;

	assert_return(sim, -EINVAL);
	if (sim->broken)
		return -EPROTO;
	if (tail >= size || tail % 8) {
		sim_break(sim, "cmd_tail out of range");
		return -EPROTO;
	}
	if ((tail + size - sim->last_cleaned) % size > ring_used(sim)) {
		sim_break(sim, "cmd_tail moved past cmd_head");
		return -EPROTO;
	}
	while (sim->last_cleaned != tail) {
		uint8_t *e = sim->cmdr + sim->last_cleaned;
		struct tcmu_cmd_entry_hdr hdr;
		struct rts_sim_completion comp;
		struct sim_cmd *c;
		uint16_t slot;

		memcpy(&hdr, e, sizeof(hdr));
		if (hdr.len_op != sim->shadow[sim->last_cleaned / 8]) {
			sim_break(sim, "device modified an entry's length/opcode");
			return -EPROTO;
		}
		uint32_t op = tcmu_hdr_get_op(hdr.len_op), len = tcmu_hdr_get_len(hdr.len_op);
		if (op == TCMU_OP_PAD || op == TCMU_OP_TMR) {
			sim->last_cleaned = (sim->last_cleaned + len) % size;
			continue;
		}
		slot = sim->id_slot[hdr.cmd_id];
		if (!slot) {
			sim_break(sim, "completion for a cmd_id that is not outstanding");
			return -EPROTO;
		}
		c = &sim->slots[slot - 1];
		comp = (struct rts_sim_completion){
			.cmd_id = hdr.cmd_id,
			.tag = c->tag,
			.status = e[offsetof(struct tcmu_cmd_entry, rsp.scsi_status)],
			.uflags = hdr.uflags,
		};
		memcpy(&comp.read_len, e + offsetof(struct tcmu_cmd_entry, rsp.read_len),
		       sizeof(comp.read_len));
		memcpy(comp.sense, e + offsetof(struct tcmu_cmd_entry, rsp.sense_buffer),
		       sizeof(comp.sense));
		if (c->dir == RTS_SIM_FROM_DEV) {
			size_t n = c->len;
			/* as the kernel: READ_LEN with read_len 0 counts as not given */
			bool read_len = (hdr.uflags & TCMU_UFLAG_READ_LEN) && comp.read_len &&
					(sim->p.mailbox_flags & TCMU_MAILBOX_FLAG_CAP_READ_LEN);

			if (read_len && comp.read_len < n)
				n = comp.read_len;
			if (comp.status == 0 || read_len) {
				if (!sim->p.no_copy)
					copy_iov(sim, c, false, n);
				comp.data_len = (uint32_t)n;
			}
		}
		free_blocks(sim, c);
		c->active = false;
		sim->id_slot[hdr.cmd_id] = 0;
		sim->free_slots[sim->nfree++] = slot - 1;
		sim->outstanding--;
		sim->last_cleaned = (sim->last_cleaned + len) % size;
		count++;
		if (cb)
			cb(userdata, &comp);
	}
	return count;
}

RTS_EXPORT int rts_sim_corrupt(struct rts_sim *sim, enum rts_sim_corruption what)
{
	uint8_t *e;
	uint32_t len_op, iov_cnt;
	uint64_t bad;

	assert_return(sim, -EINVAL);
	if (what == RTS_SIM_CORRUPT_HEAD) {
		sim->bad_head = true;
		return 0;
	}
	if (!sim->has_last)
		return -ENOENT;
	e = sim->cmdr + sim->last_ent;
	switch (what) {
	case RTS_SIM_CORRUPT_ENTRY_LEN:
		memcpy(&len_op, e, sizeof(len_op));
		len_op &= (uint32_t)TCMU_OP_MASK; /* length 0: the op bits stay */
		memcpy(e, &len_op, sizeof(len_op));
		return 0;
	case RTS_SIM_CORRUPT_DATA_OFF:
		memcpy(&iov_cnt, e + offsetof(struct tcmu_cmd_entry, req.iov_cnt), sizeof(iov_cnt));
		if (!iov_cnt)
			return -ENOENT;
		bad = (uint64_t)sim->map_size + 4096; /* iov_base holds an offset into the map */
		memcpy(e + RING_IOV_OFF, &bad, sizeof(bad));
		return 0;
	default:
		return -EINVAL;
	}
}

RTS_EXPORT int rts_sim_reset_ring(struct rts_sim *sim, uint8_t status,
				  void (*cb)(void *userdata, const struct rts_sim_completion *c),
				  void *userdata)
{
	int count = 0;

	assert_return(sim, -EINVAL);
	for (uint32_t i = 0; i < sim->nslots; i++) {
		struct sim_cmd *c = &sim->slots[i];
		struct rts_sim_completion comp;

		if (!c->active)
			continue;
		comp = (struct rts_sim_completion){ .cmd_id = c->cmd_id, .tag = c->tag,
						    .status = status };
		free_blocks(sim, c);
		c->active = false;
		sim->id_slot[c->cmd_id] = 0;
		sim->free_slots[sim->nfree++] = i;
		sim->outstanding--;
		count++;
		if (cb)
			cb(userdata, &comp);
	}
	sim->head = 0;
	sim->last_cleaned = 0;
	sim->has_last = false;
	sim->bad_head = false;
	sim->broken = NULL;
	memset(sim->shadow, 0, sim->p.cmdr_size / 8 * sizeof(uint32_t));
	__atomic_store_n(&sim->mb->cmd_tail, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&sim->mb->cmd_head, 0, __ATOMIC_RELEASE);
	return count;
}

RTS_EXPORT int rts_sim_wait(struct rts_sim *sim, int timeout_ms)
{
	struct pollfd pfd = { .fd = sim->irq_fd, .events = POLLIN };
	uint64_t v;
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return 0;
	if (read(sim->irq_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	return 1;
}

struct exec_ctx {
	uint16_t id;
	bool done;
	struct rts_sim_completion *out;
};

static void exec_cb(void *userdata, const struct rts_sim_completion *c)
{
	struct exec_ctx *x = userdata;

	if (c->cmd_id == x->id) {
		*x->out = *c;
		x->done = true;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

RTS_EXPORT int rts_sim_exec(struct rts_sim *sim, const uint8_t *cdb, size_t cdb_len,
			    enum rts_sim_dir dir, void *buf, size_t len, int timeout_ms,
			    struct rts_sim_completion *ret)
{
	struct exec_ctx x = { .out = ret };
	int64_t deadline = now_ms() + timeout_ms;
	int r;

	assert_return(sim && ret, -EINVAL);
	r = rts_sim_submit(sim, cdb, cdb_len, dir, buf, len, NULL, &x.id);
	if (r < 0)
		return r;
	r = rts_sim_kick(sim);
	if (r < 0)
		return r;
	while (!x.done) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = rts_sim_wait(sim, (int)left);
		if (r == -EINTR) /* a signal handler ran: wait out the rest of the timeout */
			continue;
		if (r < 0)
			return r;
		r = rts_sim_reap(sim, exec_cb, &x);
		if (r < 0)
			return r;
	}
	return 0;
}
