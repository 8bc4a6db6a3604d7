/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz the userspace side of the TCMU ring: the kernel (or anything that can write the
 * shared region) is untrusted. Input layout:
 *   bytes 0..3   cmd_head (little endian; reduced modulo the ring size, 8-byte aligned
 *                only if the input says so)
 *   bytes 4..5   ring size selector: cmdr_size = 512 + 8 * (value % 4096)
 *   byte  6      mailbox flags
 *   rest         the command ring contents, then the data area (repeated to fill)
 * The harness then decodes, consumes and completes entries like the device loop does.
 * Any read or write outside the mapping is caught by ASan.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define MAP_SIZE (128u * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *map;
	struct tcmu_mailbox *mb;
	struct tcmu_ring r;
	const char *why = NULL;
	uint32_t head, cmdr_size;
	size_t body;

	if (size < 8)
		return 0;
	if (!map)
		map = aligned_alloc(4096, MAP_SIZE);
	memset(map, 0, MAP_SIZE);
	memcpy(&head, data, 4);
	cmdr_size = 512 + 8u * ((uint32_t)(data[4] | data[5] << 8) % 4096);
	body = size - 7;
	for (size_t off = 128; off < MAP_SIZE; off += body)
		memcpy(map + off, data + 7, body < MAP_SIZE - off ? body : MAP_SIZE - off);
	mb = (struct tcmu_mailbox *)(void *)map;
	mb->version = TCMU_MAILBOX_VERSION;
	mb->flags = data[6] | TCMU_MAILBOX_FLAG_CAP_OOOC;
	mb->cmdr_off = 128;
	mb->cmdr_size = cmdr_size;
	mb->cmd_head = 0;
	mb->cmd_tail = 0;
	if (ring_attach(&r, map, MAP_SIZE, &why) < 0)
		return 0;
	mb->cmd_head = head % cmdr_size;

	uint16_t ids[64];
	unsigned int nids = 0;
	for (int i = 0; i < 256; i++) {
		struct ring_ent ent;
		uint8_t cdb[RING_MAX_CDB];
		struct iovec iov[8];
		unsigned int cdb_len, n, bidi;
		int ret = ring_next(&r, &ent, &why);

		if (ret <= 0)
			break;
		if (ent.type == RING_ENT_CMD) {
			ret = ring_cmd_decode(&r, &ent, cdb, &cdb_len, iov, 8, &n, &bidi, &why);
			if (ret == 0)
				for (unsigned int k = 0; k < n; k++)
					if (iov[k].iov_len)
						((volatile uint8_t *)iov[k].iov_base)[iov[k].iov_len - 1] ^= 0;
			(void)ring_cmd_iov_count(&r, &ent);
		} else if (ent.type == RING_ENT_TMR) {
			for (uint32_t k = 0; k < ent.tmr_cnt; k++)
				(void)ring_tmr_id(&ent, k);
		}
		ring_consume(&r, &ent);
		if (ent.type != RING_ENT_TMR && nids < 64)
			ids[nids++] = ent.cmd_id;
		/* complete every other command out of order */
		if (nids && (i & 1)) {
			uint8_t sense[18] = { 0x70 };
			struct ring_rsp rsp = { .status = 2, .sense = sense, .sense_len = sizeof(sense),
						.uflags = TCMU_UFLAG_READ_LEN, .read_len = 7 };
			ring_complete(&r, ids[--nids], &rsp);
		}
	}
	while (nids) {
		struct ring_rsp rsp = { 0 };
		ring_complete(&r, ids[--nids], &rsp);
	}
	ring_publish(&r);
	return 0;
}
