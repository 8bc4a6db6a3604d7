/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target for the SCSI emulation (tcmu/scsi): scsi_decode, scsi_emulate and
 * scsi_unmap_parse on one CDB plus a data-out buffer scattered over several iovecs.
 *
 * Input layout:
 *   byte 0      bits 1..0  CDB length selector: 0 -> 6, 1 -> 10, 2 -> 12, 3 -> 16 bytes
 *               bit 2 thin, bit 3 read_only, bit 4 write_cache, bit 5 solid_state,
 *               bit 6 4096-byte blocks (else 512), bit 7 2^40-block device (else 4096)
 *   byte 1      bits 3..0  number of iovecs (0..15)
 *               bits 7..4  extra data-in room after the data-out bytes, in 32-byte units
 *   next N      the CDB (N from the selector; zero-padded when the input is shorter)
 *   rest        data-out bytes (MODE SELECT / UNMAP parameter list, write data)
 *
 * Every iovec is its own allocation so that ASan catches a write past any of them. The
 * target also checks the contract: data_len never exceeds the buffer, nothing is written
 * past data_len, CHECK CONDITION always carries well-formed fixed-format sense, decoded
 * I/O lies inside the device, parsed UNMAP descriptors are in range.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rts/tcmu.h>

#include "scsi.h"

#define MAX_IOV	  15
#define MAX_DESCS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		__builtin_trap();
}

static void check_result(const struct scsi_result *res, size_t buf_len)
{
	if (res->status == RTS_SAM_GOOD) {
		check(res->data_len <= buf_len);
		return;
	}
	check(res->status == RTS_SAM_CHECK_CONDITION);
	check(res->data_len == 0);
	check((res->sense[0] & 0x7f) == 0x70);
	check(res->sense[7] == SCSI_SENSE_LEN - 8);
	check(res->sense[2] != RTS_SENSE_NO_SENSE);
}

static void dev_info(uint8_t flags, struct scsi_dev_info *di)
{
	*di = (struct scsi_dev_info){
		.block_size = (flags & 0x40) ? 4096 : 512,
		.num_lbas = (flags & 0x80) ? (1ULL << 40) : 4096,
		.max_xfer_blocks = 256,
		.opt_xfer_blocks = 64,
		.max_unmap_blocks = (flags & 0x04) ? 8192 : 0,
		.max_unmap_descs = (flags & 0x04) ? 8 : 0,
		.opt_unmap_gran = (flags & 0x04) ? 8 : 0,
		.max_write_same_blocks = 1024,
		.max_caw_blocks = 2,
		.thin = flags & 0x04,
		.read_only = flags & 0x08,
		.write_cache = flags & 0x10,
		.solid_state = flags & 0x20,
	};
	memcpy(di->vendor, "RTSLIB", 7);
	memcpy(di->product, "fuzz disk", 10);
	memcpy(di->revision, "0.1", 4);
	memcpy(di->serial, "5a1c0ffee-0123-4567-89ab-cdef01234567", 38);
}

/* Size of iovec @i of @n over @left remaining bytes: uneven, sometimes zero. */
static size_t chunk_size(size_t i, size_t n, size_t left, uint8_t seed)
{
	if (i + 1 == n)
		return left;
	return left * (((i * 37u + seed) % 7u)) / 8u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t cdb_lens[] = { 6, 10, 12, 16 };
	struct scsi_dev_info di;
	struct scsi_state st;
	struct scsi_cmd_info info;
	struct scsi_result res;
	struct scsi_unmap_desc descs[MAX_DESCS];
	struct iovec iov[MAX_IOV];
	uint8_t cdb[16] = { 0 };
	uint8_t *flat_before, *flat_after;
	size_t cdb_len, niov, take, total, off = 0;
	uint8_t flags, layout;

	if (size < 2)
		return 0;
	flags = data[0];
	layout = data[1];
	data += 2;
	size -= 2;
	dev_info(flags, &di);
	scsi_state_init(&st, &di);
	cdb_len = cdb_lens[flags & 3];
	take = size < cdb_len ? size : cdb_len;
	memcpy(cdb, data, take);
	data += take;
	size -= take;

	/* Buffer: the data-out bytes, then zeroed room for data-in. */
	niov = layout & 0x0f;
	total = size + 32u * (layout >> 4);
	flat_before = calloc(1, total + 1);
	flat_after = calloc(1, total + 1);
	if (!flat_before || !flat_after)
		goto out;
	if (size)
		memcpy(flat_before, data, size);
	for (size_t i = 0; i < niov; i++) {
		size_t n = chunk_size(i, niov, total - off, layout);

		iov[i].iov_len = n;
		iov[i].iov_base = malloc(n ? n : 1);
		if (!iov[i].iov_base) {
			niov = i;
			goto out_iov;
		}
		memcpy(iov[i].iov_base, flat_before + off, n);
		off += n;
	}
	/* With no iovecs nothing is addressable. */
	total = scsi_iov_length(iov, niov);

	/* 1. Decode. */
	int r = scsi_decode(&di, cdb, cdb_len, &info, &res);

	check_result(&res, 0);
	if (r == 0) {
		check(res.status == RTS_SAM_GOOD);
		if (info.kind != SCSI_KIND_EMULATE && info.kind != SCSI_KIND_UNMAP) {
			check(info.lba <= di.num_lbas);
			check(info.nr_blocks <= di.num_lbas - info.lba);
		}
		if (info.kind == SCSI_KIND_UNMAP) {
			r = scsi_unmap_parse(&di, iov, niov, info.xfer_len, descs, MAX_DESCS, &res);
			check_result(&res, 0);
			check(r <= MAX_DESCS);
		}
	} else {
		check(res.status == RTS_SAM_CHECK_CONDITION);
	}

	/* 2. Emulate whatever the CDB is (unsupported ones must fail cleanly). */
	scsi_emulate(&di, &st, cdb, cdb_len, iov, niov, &res);
	check_result(&res, total);
	scsi_iov_copy_from(iov, niov, 0, flat_after, total);
	check(memcmp(flat_before + res.data_len, flat_after + res.data_len, total - res.data_len) ==
	      0);
	if (st.wce_changed)
		check(st.write_cache != di.write_cache);

	/* 3. The data-out bytes as an UNMAP parameter list. */
	r = scsi_unmap_parse(&di, iov, niov, (uint32_t)size, descs, MAX_DESCS, &res);
	check_result(&res, 0);
	for (int i = 0; i < r; i++) {
		check(descs[i].lba <= di.num_lbas);
		check(descs[i].nr_blocks <= di.num_lbas - descs[i].lba);
	}

out_iov:
	for (size_t i = 0; i < niov; i++)
		free(iov[i].iov_base);
out:
	free(flat_before);
	free(flat_after);
	return 0;
}
