/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tcmu/ring.c: decode and complete against entries laid out by the simulator (the kernel's
 * side), plus hand-corrupted rings. No device thread here: the test plays both sides.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rts/sim.h>

#include "ring.h"

struct fixture {
	struct rts_sim *sim;
	struct tcmu_ring ring;
	uint8_t *map;
	size_t map_size;
};

static struct fixture *fx_new(uint32_t cmdr_size, uint32_t max_iov_blocks, uint16_t flags)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct rts_sim_params p = {
		.cmdr_size = cmdr_size,
		.data_size = 4 << 20,
		.max_iov_blocks = max_iov_blocks,
		.mailbox_flags = flags,
	};
	const char *why = NULL;

	assert_non_null(f);
	assert_int_equal(rts_sim_new(&p, &f->sim), 0);
	f->map = rts_sim_get_map(f->sim, &f->map_size);
	if (!flags || (flags & TCMU_MAILBOX_FLAG_CAP_OOOC))
		assert_int_equal(ring_attach(&f->ring, f->map, f->map_size, &why), 0);
	return f;
}

static void fx_free(struct fixture *f)
{
	rts_sim_free(f->sim);
	free(f);
}

static void rw10(uint8_t *cdb, uint8_t op, uint32_t lba, uint16_t blocks)
{
	memset(cdb, 0, 10);
	cdb[0] = op;
	cdb[2] = (uint8_t)(lba >> 24);
	cdb[3] = (uint8_t)(lba >> 16);
	cdb[4] = (uint8_t)(lba >> 8);
	cdb[5] = (uint8_t)lba;
	cdb[7] = (uint8_t)(blocks >> 8);
	cdb[8] = (uint8_t)blocks;
}

/* Decode the next entry, which must be a command, and consume it. */
static void take(struct fixture *f, struct ring_ent *ent, uint8_t *cdb, struct iovec *iov,
		 unsigned int max_iov, unsigned int *iovcnt)
{
	unsigned int cdb_len, bidi;
	const char *why = NULL;

	assert_int_equal(ring_next(&f->ring, ent, &why), 1);
	assert_int_equal(ent->type, RING_ENT_CMD);
	assert_int_equal(ring_cmd_decode(&f->ring, ent, cdb, &cdb_len, iov, max_iov, iovcnt, &bidi,
					 &why),
			 0);
	ring_consume(&f->ring, ent);
}

struct reaped {
	unsigned int n;
	uint16_t ids[64];
	uint8_t status[64];
	uint8_t uflags[64];
	uint32_t read_len[64];
	uint8_t sense2[64];
};

static void reap_cb(void *ud, const struct rts_sim_completion *c)
{
	struct reaped *r = ud;

	r->ids[r->n] = c->cmd_id;
	r->status[r->n] = c->status;
	r->uflags[r->n] = c->uflags;
	r->read_len[r->n] = c->read_len;
	r->sense2[r->n] = c->sense[2];
	r->n++;
}

static void test_attach_checks(void **state)
{
	struct fixture *f = fx_new(0, 0, 0);
	struct tcmu_mailbox *mb = (struct tcmu_mailbox *)(void *)f->map;
	struct tcmu_ring r;
	const char *why = NULL;

	(void)state;
	assert_int_equal(ring_attach(&r, f->map, 64, &why), -EINVAL);
	mb->version = 1;
	assert_int_equal(ring_attach(&r, f->map, f->map_size, &why), -EPROTO);
	assert_non_null(strstr(why, "version"));
	mb->version = 2;
	mb->cmdr_size = (uint32_t)f->map_size; /* ring beyond the mapping */
	assert_int_equal(ring_attach(&r, f->map, f->map_size, &why), -EPROTO);
	mb->cmdr_size = 8 * 1024 * 1024 - 128;
	mb->cmdr_off = 8; /* overlaps the mailbox */
	assert_int_equal(ring_attach(&r, f->map, f->map_size, &why), -EPROTO);
	mb->cmdr_off = 128;
	mb->cmd_head = 12; /* misaligned */
	assert_int_equal(ring_attach(&r, f->map, f->map_size, &why), -EPROTO);
	mb->cmd_head = 0;
	mb->flags = 0; /* no out-of-order completion */
	assert_int_equal(ring_attach(&r, f->map, f->map_size, &why), -ENOTSUP);
	mb->flags = TCMU_MAILBOX_FLAG_CAP_OOOC;
	assert_int_equal(ring_attach(&r, f->map, f->map_size, &why), 0);
	assert_int_equal(r.cmdr_size, 8 * 1024 * 1024 - 128); /* not a power of two */
	fx_free(f);
}

static void test_decode_iovecs_and_data(void **state)
{
	struct fixture *f = fx_new(0, 1, 0); /* one iovec per 4 KiB block */
	uint8_t cdb[16], got_cdb[RING_MAX_CDB];
	static uint8_t data[5 * 4096 + 100];
	struct iovec iov[16];
	struct ring_ent ent;
	unsigned int n;
	size_t off = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	rw10(cdb, 0x2a, 100, 41);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 10, RTS_SIM_TO_DEV, data, sizeof(data), NULL,
					NULL),
			 0);
	assert_int_equal(ring_head(&f->ring), f->ring.next); /* not kicked: invisible */
	assert_int_equal(rts_sim_kick(f->sim), 0);
	take(f, &ent, got_cdb, iov, 16, &n);
	assert_int_equal(n, 6);
	assert_memory_equal(got_cdb, cdb, 10);
	assert_true(ent.cmd_id >= 1);
	for (unsigned int i = 0; i < n; i++) {
		assert_true((uint8_t *)iov[i].iov_base >= f->map + f->ring.data_off);
		assert_true((uint8_t *)iov[i].iov_base + iov[i].iov_len <= f->map + f->map_size);
		assert_memory_equal(iov[i].iov_base, data + off, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	assert_int_equal(off, sizeof(data));
	fx_free(f);
}

static void test_decode_too_many_iovecs(void **state)
{
	struct fixture *f = fx_new(0, 1, 0);
	uint8_t cdb[10], got[RING_MAX_CDB];
	static uint8_t data[8 * 4096];
	struct iovec iov[4];
	struct ring_ent ent;
	unsigned int cdb_len, n, bidi;
	const char *why = NULL;

	(void)state;
	rw10(cdb, 0x2a, 0, 64);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 10, RTS_SIM_TO_DEV, data, sizeof(data), NULL, NULL), 0);
	rts_sim_kick(f->sim);
	assert_int_equal(ring_next(&f->ring, &ent, &why), 1);
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 4, &n, &bidi, &why),
			 -E2BIG);
	assert_int_equal(n, 8); /* tells the caller how many it needs */
	assert_int_equal(ring_cmd_iov_count(&f->ring, &ent), 8);
	fx_free(f);
}

static void test_out_of_order_completion(void **state)
{
	struct fixture *f = fx_new(0, 0, 0);
	uint8_t cdb[10], got[RING_MAX_CDB], buf[3][512] = { { 0 } };
	struct iovec iov[4];
	struct ring_ent ent[3];
	struct reaped r = { 0 };
	unsigned int n;

	(void)state;
	for (int i = 0; i < 3; i++) {
		rw10(cdb, 0x28, (uint32_t)i, 1);
		assert_int_equal(rts_sim_submit(f->sim, cdb, 10, RTS_SIM_FROM_DEV, buf[i], 512, NULL, NULL), 0);
	}
	rts_sim_kick(f->sim);
	for (int i = 0; i < 3; i++) {
		take(f, &ent[i], got, iov, 4, &n);
		memset(iov[0].iov_base, 0xa0 + i, 512);
	}
	/* Complete 3rd, 1st, 2nd: each goes into the next slot at the tail. */
	struct ring_rsp ok = { .status = 0 };
	struct ring_rsp bad = { .status = 2, .sense = (const uint8_t[18]){ 0x70, 0, 3 }, .sense_len = 18 };
	assert_int_equal(ring_complete(&f->ring, ent[2].cmd_id, &ok), 0);
	assert_int_equal(ring_complete(&f->ring, ent[0].cmd_id, &bad), 0);
	/* Nothing visible before publish. */
	assert_int_equal(rts_sim_reap(f->sim, reap_cb, &r), 0);
	ring_publish(&f->ring);
	assert_int_equal(rts_sim_reap(f->sim, reap_cb, &r), 2);
	assert_int_equal(r.ids[0], ent[2].cmd_id);
	assert_int_equal(r.ids[1], ent[0].cmd_id);
	assert_int_equal(r.status[1], 2);
	assert_int_equal(r.sense2[1], 3);
	assert_int_equal(ring_complete(&f->ring, ent[1].cmd_id, &ok), 0);
	/* More completions than commands is refused, nothing written. */
	assert_int_equal(ring_complete(&f->ring, 999, &ok), -ENOSPC);
	ring_publish(&f->ring);
	assert_int_equal(rts_sim_reap(f->sim, reap_cb, &r), 1);
	assert_int_equal(r.ids[2], ent[1].cmd_id);
	assert_int_equal(buf[2][0], 0xa2); /* data-in copied back for the right command */
	assert_int_equal(buf[1][511], 0xa1);
	assert_int_equal(buf[0][0], 0); /* CHECK CONDITION without READ_LEN: no data copied */
	assert_int_equal(rts_sim_outstanding(f->sim), 0);
	assert_null(rts_sim_broken_reason(f->sim));
	fx_free(f);
}

static void test_read_len(void **state)
{
	struct fixture *f = fx_new(0, 0, 0);
	uint8_t cdb[6] = { 0x12, 0, 0, 0, 255, 0 }, got[RING_MAX_CDB], buf[255];
	struct iovec iov[4];
	struct ring_ent ent;
	struct reaped r = { 0 };
	unsigned int n;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(rts_sim_submit(f->sim, cdb, 6, RTS_SIM_FROM_DEV, buf, sizeof(buf), NULL, NULL), 0);
	rts_sim_kick(f->sim);
	take(f, &ent, got, iov, 4, &n);
	memset(iov[0].iov_base, 0x11, 36);
	struct ring_rsp rsp = { .status = 0, .uflags = TCMU_UFLAG_READ_LEN, .read_len = 36 };
	assert_int_equal(ring_complete(&f->ring, ent.cmd_id, &rsp), 0);
	ring_publish(&f->ring);
	assert_int_equal(rts_sim_reap(f->sim, reap_cb, &r), 1);
	assert_true(r.uflags[0] & TCMU_UFLAG_READ_LEN);
	assert_int_equal(r.read_len[0], 36);
	assert_int_equal(buf[35], 0x11);
	assert_int_equal(buf[36], 0xee); /* only read_len bytes copied back */
	fx_free(f);
}

/* A small ring: PAD entries at every wrap, entries never split, completions keep flowing. */
static void test_wrap_and_pad(void **state)
{
	struct fixture *f = fx_new(1000, 0, 0); /* 1000 % 128 != 0: PADs */
	uint8_t cdb[16] = { 0x88 }, got[RING_MAX_CDB], buf[512];
	struct iovec iov[4];
	unsigned int n, pads_seen = 0;
	uint32_t last_next = 0;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct ring_ent ent;
		struct reaped r = { 0 };

		cdb[15] = (uint8_t)round;
		assert_int_equal(rts_sim_submit(f->sim, cdb, 16, RTS_SIM_FROM_DEV, buf, sizeof(buf), NULL, NULL), 0);
		rts_sim_kick(f->sim);
		take(f, &ent, got, iov, 4, &n);
		assert_int_equal(got[15], (uint8_t)round);
		assert_true(ent.off + ent.len <= 1000);
		if (ent.off < last_next)
			pads_seen++;
		last_next = f->ring.next;
		struct ring_rsp ok = { 0 };
		assert_int_equal(ring_complete(&f->ring, ent.cmd_id, &ok), 0);
		ring_publish(&f->ring);
		assert_int_equal(rts_sim_reap(f->sim, reap_cb, &r), 1);
		assert_int_equal(r.ids[0], ent.cmd_id);
	}
	assert_true(pads_seen > 10);
	assert_null(rts_sim_broken_reason(f->sim));
	fx_free(f);
}

static void test_tmr_entries(void **state)
{
	struct fixture *f = fx_new(0, 0, 0);
	uint8_t cdb[10], got[RING_MAX_CDB], buf[512];
	struct iovec iov[4];
	struct ring_ent ent[2], tmr;
	struct reaped r = { 0 };
	unsigned int n;
	const char *why = NULL;

	(void)state;
	rw10(cdb, 0x28, 0, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 10, RTS_SIM_FROM_DEV, buf, 512, NULL, NULL), 0);
	rts_sim_kick(f->sim);
	take(f, &ent[0], got, iov, 4, &n);
	uint16_t ids[2] = { ent[0].cmd_id, 4242 };
	assert_int_equal(rts_sim_queue_tmr(f->sim, 1 /* ABORT TASK */, ids, 2), 0);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 10, RTS_SIM_FROM_DEV, buf, 512, NULL, NULL), 0);
	rts_sim_kick(f->sim);
	assert_int_equal(ring_next(&f->ring, &tmr, &why), 1);
	assert_int_equal(tmr.type, RING_ENT_TMR);
	assert_int_equal(tmr.tmr_type, 1);
	assert_int_equal(tmr.tmr_cnt, 2);
	assert_int_equal(ring_tmr_id(&tmr, 0), ent[0].cmd_id);
	assert_int_equal(ring_tmr_id(&tmr, 1), 4242);
	ring_consume(&f->ring, &tmr);
	take(f, &ent[1], got, iov, 4, &n);
	/* Complete the second command first: the TMR slot between is stepped over. */
	struct ring_rsp ok = { 0 };
	assert_int_equal(ring_complete(&f->ring, ent[1].cmd_id, &ok), 0);
	assert_int_equal(ring_complete(&f->ring, ent[0].cmd_id, &ok), 0);
	ring_publish(&f->ring);
	assert_int_equal(rts_sim_reap(f->sim, reap_cb, &r), 2);
	assert_int_equal(r.ids[0], ent[1].cmd_id);
	assert_int_equal(r.ids[1], ent[0].cmd_id);
	assert_int_equal(f->ring.tail, f->ring.next);
	assert_null(rts_sim_broken_reason(f->sim));
	fx_free(f);
}

/* Corrupt the entry the simulator just queued and check ring_next refuses it. */
static void corrupt_and_expect(uint32_t len_op_value, const char *needle)
{
	struct fixture *f = fx_new(4096, 0, 0);
	uint8_t cdb[10];
	struct ring_ent ent;
	const char *why = NULL;

	rw10(cdb, 0x00, 0, 0);
	cdb[0] = 0x00; /* TEST UNIT READY with a 10-byte buffer is fine for layout purposes */
	assert_int_equal(rts_sim_submit(f->sim, cdb, 6, RTS_SIM_NONE, NULL, 0, NULL, NULL), 0);
	rts_sim_kick(f->sim);
	memcpy(f->ring.cmdr + f->ring.next, &len_op_value, sizeof(len_op_value));
	assert_int_equal(ring_next(&f->ring, &ent, &why), -EPROTO);
	assert_non_null(why);
	assert_non_null(strstr(why, needle));
	fx_free(f);
}

static void test_corrupt_headers(void **state)
{
	(void)state;
	corrupt_and_expect(0 | TCMU_OP_CMD, "length");                /* zero length */
	corrupt_and_expect(8192 | TCMU_OP_CMD, "crosses the end");    /* beyond ring */
	corrupt_and_expect(64 | TCMU_OP_CMD, "shorter");              /* < sizeof(entry) */
	corrupt_and_expect(16 | TCMU_OP_TMR, "TMR entry shorter");
	corrupt_and_expect(1024 | TCMU_OP_CMD, "past cmd_head");      /* stale data beyond head */
}

static void test_unknown_opcode(void **state)
{
	struct fixture *f = fx_new(4096, 0, 0);
	uint8_t cdb[6] = { 0 };
	struct ring_ent ent;
	const char *why = NULL;
	uint32_t len_op;

	(void)state;
	assert_int_equal(rts_sim_submit(f->sim, cdb, 6, RTS_SIM_NONE, NULL, 0, NULL, NULL), 0);
	rts_sim_kick(f->sim);
	memcpy(&len_op, f->ring.cmdr, 4);
	len_op = (len_op & ~7u) | 5; /* an opcode the kernel never sends */
	memcpy(f->ring.cmdr, &len_op, 4);
	assert_int_equal(ring_next(&f->ring, &ent, &why), 1);
	assert_int_equal(ent.type, RING_ENT_UNKNOWN);
	ring_consume(&f->ring, &ent);
	/* It still takes a completion slot (answered with UNKNOWN_OP). */
	struct ring_rsp rsp = { .uflags = TCMU_UFLAG_UNKNOWN_OP };
	assert_int_equal(ring_complete(&f->ring, ent.cmd_id, &rsp), 0);
	assert_int_equal(f->ring.tail, f->ring.next);
	fx_free(f);
}

/* Found by fuzz_ring: completing an 8-byte unknown-op slot wrote a 112-byte response over
 * the entries after it, zeroing a PAD header, and the next completion walk never ended. */
static void test_short_unknown_slot_gets_header_only(void **state)
{
	struct fixture *f = fx_new(4096, 0, 0);
	uint8_t cdb[6] = { 0 }, got[RING_MAX_CDB];
	struct iovec iov[2];
	struct ring_ent ent;
	const char *why = NULL;
	unsigned int n, cdb_len, bidi;
	uint32_t len_op, before;

	(void)state;
	/* slot 0: 8-byte unknown op, then a real command from the simulator */
	len_op = 8u | 5;
	memcpy(f->ring.cmdr, &len_op, 4);
	f->ring.mb->cmd_head = 8;
	f->ring.mb->cmd_tail = 0;
	assert_int_equal(ring_next(&f->ring, &ent, &why), 1);
	assert_int_equal(ent.type, RING_ENT_UNKNOWN);
	assert_int_equal(ent.len, 8);
	ring_consume(&f->ring, &ent);
	memcpy(&before, f->ring.cmdr + 8, 4);
	/* the simulator's view of the ring is behind ours: place a command by hand after it */
	uint8_t *e = f->ring.cmdr + 8;
	memset(e, 0, 128);
	len_op = 128u | TCMU_OP_CMD;
	memcpy(e, &len_op, 4);
	uint64_t cdb_off = 128 + 8 + 112;
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.cdb_off), &cdb_off, 8);
	memcpy(f->map + cdb_off, cdb, 6);
	f->ring.mb->cmd_head = 136;
	struct ring_rsp rsp = { .status = 2, .uflags = TCMU_UFLAG_UNKNOWN_OP,
				.sense = (const uint8_t[18]){ 0x70, 0, 5 }, .sense_len = 18 };
	assert_int_equal(ring_complete(&f->ring, ent.cmd_id, &rsp), 0);
	memcpy(&before, e, 4);
	assert_int_equal(before, 128u | TCMU_OP_CMD); /* the next entry's header is intact */
	assert_int_equal(ring_next(&f->ring, &ent, &why), 1);
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 2, &n, &bidi, &why), 0);
	ring_consume(&f->ring, &ent);
	assert_int_equal(ring_complete(&f->ring, ent.cmd_id, &rsp), 0);
	assert_int_equal(f->ring.tail, f->ring.next);
	/* a slot header zeroed behind our back stops the walk instead of spinning */
	f->ring.tail = 0;
	f->ring.completable = 1;
	memset(f->ring.cmdr, 0, 4);
	assert_int_equal(ring_complete(&f->ring, 1, &rsp), -EPROTO);
	ring_publish(&f->ring); /* must return */
	fx_free(f);
}

static void test_corrupt_head(void **state)
{
	struct fixture *f = fx_new(4096, 0, 0);
	struct ring_ent ent;
	const char *why = NULL;

	(void)state;
	f->ring.mb->cmd_head = 4096; /* == cmdr_size */
	assert_int_equal(ring_next(&f->ring, &ent, &why), -EPROTO);
	f->ring.mb->cmd_head = 13;
	assert_int_equal(ring_next(&f->ring, &ent, &why), -EPROTO);
	assert_non_null(strstr(why, "cmd_head"));
	fx_free(f);
}

static void test_corrupt_command_fields(void **state)
{
	struct fixture *f = fx_new(0, 0, 0);
	uint8_t cdb[10], got[RING_MAX_CDB], data[4096] = { 0 };
	struct iovec iov[4];
	struct ring_ent ent;
	unsigned int cdb_len, n, bidi;
	const char *why = NULL;
	uint8_t *e;
	uint64_t v;
	uint32_t u;

	(void)state;
	rw10(cdb, 0x2a, 0, 8);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 10, RTS_SIM_TO_DEV, data, sizeof(data), NULL, NULL), 0);
	rts_sim_kick(f->sim);
	assert_int_equal(ring_next(&f->ring, &ent, &why), 1);
	e = f->ring.cmdr + ent.off;

	/* iovec base pointing into the command ring instead of the data area */
	memcpy(&v, e + RING_IOV_OFF, 8);
	uint64_t saved = v;
	v = 200;
	memcpy(e + RING_IOV_OFF, &v, 8);
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 4, &n, &bidi, &why), -EFAULT);
	/* iovec length running past the mapping */
	v = saved;
	memcpy(e + RING_IOV_OFF, &v, 8);
	v = f->map_size;
	memcpy(e + RING_IOV_OFF + 8, &v, 8);
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 4, &n, &bidi, &why), -EFAULT);
	v = UINT64_MAX; /* and overflowing base + len */
	memcpy(e + RING_IOV_OFF + 8, &v, 8);
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 4, &n, &bidi, &why), -EFAULT);
	v = 4096;
	memcpy(e + RING_IOV_OFF + 8, &v, 8);
	/* more iovecs than the entry can hold */
	u = 1000;
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.iov_cnt), &u, 4);
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 4, &n, &bidi, &why), -EINVAL);
	u = 1;
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.iov_cnt), &u, 4);
	/* CDB offset outside the mapping */
	memcpy(&v, e + offsetof(struct tcmu_cmd_entry, req.cdb_off), 8);
	saved = v;
	v = f->map_size + 5;
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.cdb_off), &v, 8);
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 4, &n, &bidi, &why), -EFAULT);
	/* CDB at the very end of the mapping: the length check must not read past it */
	v = f->map_size - 1;
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.cdb_off), &v, 8);
	f->map[f->map_size - 1] = 0x28; /* READ(10) needs 10 bytes */
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 4, &n, &bidi, &why), -EINVAL);
	assert_int_equal(got[0], 0x28);
	/* vendor-specific opcode group: length unknown */
	v = saved;
	memcpy(e + offsetof(struct tcmu_cmd_entry, req.cdb_off), &v, 8);
	f->map[saved] = 0xc0;
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 4, &n, &bidi, &why), -EINVAL);
	f->map[saved] = 0x2a;
	assert_int_equal(ring_cmd_decode(&f->ring, &ent, got, &cdb_len, iov, 4, &n, &bidi, &why), 0);
	assert_int_equal(cdb_len, 10);
	fx_free(f);
}

static void test_cdb_len(void **state)
{
	uint8_t c[RING_MAX_CDB] = { 0 };

	(void)state;
	c[0] = 0x00;
	assert_int_equal(ring_cdb_len(c, 16), 6);
	c[0] = 0x28;
	assert_int_equal(ring_cdb_len(c, 16), 10);
	c[0] = 0x5a;
	assert_int_equal(ring_cdb_len(c, 16), 10);
	c[0] = 0x88;
	assert_int_equal(ring_cdb_len(c, 16), 16);
	c[0] = 0xa8;
	assert_int_equal(ring_cdb_len(c, 16), 12);
	c[0] = 0x88;
	assert_int_equal(ring_cdb_len(c, 15), 0); /* not enough bytes */
	c[0] = 0x7f;
	c[7] = 24;
	assert_int_equal(ring_cdb_len(c, RING_MAX_CDB), 32);
	c[7] = 253;
	assert_int_equal(ring_cdb_len(c, RING_MAX_CDB), 0); /* > 260 */
	c[0] = 0xe0;
	assert_int_equal(ring_cdb_len(c, 16), 0);
}

static void test_sim_detects_bad_completion(void **state)
{
	struct fixture *f = fx_new(0, 0, 0);
	uint8_t cdb[10], got[RING_MAX_CDB], buf[512];
	struct iovec iov[4];
	struct ring_ent ent;
	unsigned int n;

	(void)state;
	rw10(cdb, 0x28, 0, 1);
	assert_int_equal(rts_sim_submit(f->sim, cdb, 10, RTS_SIM_FROM_DEV, buf, 512, NULL, NULL), 0);
	rts_sim_kick(f->sim);
	take(f, &ent, got, iov, 4, &n);
	struct ring_rsp ok = { 0 };
	/* Completing an id that is not outstanding breaks the ring, like the kernel's. */
	assert_int_equal(ring_complete(&f->ring, (uint16_t)(ent.cmd_id + 1), &ok), 0);
	ring_publish(&f->ring);
	assert_int_equal(rts_sim_reap(f->sim, NULL, NULL), -EPROTO);
	assert_non_null(strstr(rts_sim_broken_reason(f->sim), "not outstanding"));
	assert_int_equal(rts_sim_submit(f->sim, cdb, 10, RTS_SIM_FROM_DEV, buf, 512, NULL, NULL), -EIO);
	fx_free(f);
}

static void test_sim_backpressure(void **state)
{
	struct rts_sim *sim;
	struct rts_sim_params p = { .cmdr_size = 1024, .data_size = 16384 };
	uint8_t cdb[10] = { 0x28 }, buf[8192];
	int i, r = 0;

	(void)state;
	assert_int_equal(rts_sim_new(&p, &sim), 0);
	for (i = 0; i < 100 && r == 0; i++)
		r = rts_sim_submit(sim, cdb, 10, RTS_SIM_FROM_DEV, buf, sizeof(buf), NULL, NULL);
	assert_int_equal(r, -EAGAIN); /* data area (16 KiB) holds two 8 KiB commands */
	assert_int_equal(i, 3);
	assert_int_equal(rts_sim_submit(sim, cdb, 10, RTS_SIM_FROM_DEV, buf, 1 << 20, NULL, NULL), -EINVAL);
	p.data_blk_size = 1000;
	struct rts_sim *bad;
	assert_int_equal(rts_sim_new(&p, &bad), -EINVAL);
	rts_sim_free(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attach_checks),
		cmocka_unit_test(test_decode_iovecs_and_data),
		cmocka_unit_test(test_decode_too_many_iovecs),
		cmocka_unit_test(test_out_of_order_completion),
		cmocka_unit_test(test_read_len),
		cmocka_unit_test(test_wrap_and_pad),
		cmocka_unit_test(test_tmr_entries),
		cmocka_unit_test(test_corrupt_headers),
		cmocka_unit_test(test_unknown_opcode),
		cmocka_unit_test(test_short_unknown_slot_gets_header_only),
		cmocka_unit_test(test_corrupt_head),
		cmocka_unit_test(test_corrupt_command_fields),
		cmocka_unit_test(test_cdb_len),
		cmocka_unit_test(test_sim_detects_bad_completion),
		cmocka_unit_test(test_sim_backpressure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
