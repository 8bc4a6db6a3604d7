/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test helpers for the SCSI emulation suites (tests/unit/tcmu/test_scsi_*.c): a default
 * device, scattered iovec sets over a flat buffer and sense assertions. Include after
 * <cmocka.h>.
 */
#ifndef RTS_TEST_T_SCSI_H
#define RTS_TEST_T_SCSI_H

#include <string.h>
#include <sys/uio.h>

#include <rts/tcmu.h>

#include "scsi.h"

#define T_NUM_LBAS 2048u
#define T_MAX_IOV  16

/* A 1 MiB thin, write-back, solid-state disk with 512-byte blocks. */
static inline void t_dev_info(struct scsi_dev_info *di)
{
	*di = (struct scsi_dev_info){
		.block_size = 512,
		.num_lbas = T_NUM_LBAS,
		.max_xfer_blocks = 128,
		.opt_xfer_blocks = 64,
		.max_unmap_blocks = 1024,
		.max_unmap_descs = 4,
		.opt_unmap_gran = 8,
		.max_write_same_blocks = 256,
		.max_caw_blocks = 1,
		.write_cache = true,
		.thin = true,
		.solid_state = true,
	};
	strcpy(di->vendor, "RTSLIB");
	strcpy(di->product, "TCMU device");
	strcpy(di->revision, "0001");
	strcpy(di->serial, "0123456789abcdef0123456789abcdef");
}

/*
 * Split @buf (@len bytes) into @n iovecs of uneven sizes: every odd chunk is zero-length
 * and the others share the bytes (the last takes the remainder). Returns the iovec count.
 */
static inline size_t t_iov_split(uint8_t *buf, size_t len, size_t n, struct iovec *iov)
{
	size_t data_chunks, off = 0;

	if (n > T_MAX_IOV)
		n = T_MAX_IOV;
	data_chunks = (n + 1) / 2;
	for (size_t i = 0; i < n; i++) {
		size_t sz = 0;

		if (i % 2 == 0) {
			size_t k = i / 2;

			sz = k + 1 == data_chunks ? len - off : len / data_chunks;
			if (sz > len - off)
				sz = len - off;
		}
		iov[i] = (struct iovec){ .iov_base = buf + off, .iov_len = sz };
		off += sz;
	}
	return n;
}

/* Run scsi_emulate with @buf split into @chunks iovecs. */
static inline void t_emulate(const struct scsi_dev_info *di, struct scsi_state *st,
			     const uint8_t *cdb, size_t cdb_len, uint8_t *buf, size_t len,
			     size_t chunks, struct scsi_result *res)
{
	struct iovec iov[T_MAX_IOV];
	size_t n = t_iov_split(buf, len, chunks, iov);

	scsi_emulate(di, st, cdb, cdb_len, iov, n, res);
}

#define t_assert_good(res) assert_int_equal((res)->status, RTS_SAM_GOOD)

/* CHECK CONDITION with fixed-format sense @key / @asc_ascq. */
#define t_assert_sense(res, key, asc_ascq)                                    \
	do {                                                                  \
		assert_int_equal((res)->status, RTS_SAM_CHECK_CONDITION);     \
		assert_int_equal((res)->sense[0] & 0x7f, 0x70);               \
		assert_int_equal((res)->sense[2], (key));                     \
		assert_int_equal((res)->sense[7], 10);                        \
		assert_int_equal((res)->sense[12], ((asc_ascq) >> 8) & 0xff); \
		assert_int_equal((res)->sense[13], (asc_ascq)&0xff);          \
		assert_int_equal((res)->data_len, 0);                         \
	} while (0)

/* ... and no sense-key-specific data. */
#define t_assert_sense_nosks(res, key, asc_ascq)       \
	do {                                           \
		t_assert_sense(res, key, asc_ascq);    \
		assert_int_equal((res)->sense[15], 0); \
		assert_int_equal((res)->sense[16], 0); \
		assert_int_equal((res)->sense[17], 0); \
	} while (0)

/* SKSV field pointer: @cd (in CDB), byte @field, bit @bit (-1: BPV clear). */
#define t_assert_sks(res, cd, field, bit)                                                     \
	do {                                                                                  \
		assert_int_equal((res)->sense[15],                                            \
				 0x80 | ((cd) ? 0x40 : 0) | ((bit) >= 0 ? 0x08 | (bit) : 0)); \
		assert_int_equal(((res)->sense[16] << 8) | (res)->sense[17], (field));        \
	} while (0)

/* ILLEGAL REQUEST / INVALID FIELD IN CDB at byte @field bit @bit. */
#define t_assert_invalid_cdb(res, field, bit)                                                  \
	do {                                                                                   \
		t_assert_sense(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB); \
		t_assert_sks(res, 1, field, bit);                                              \
	} while (0)

/* ILLEGAL REQUEST / INVALID FIELD IN PARAMETER LIST at byte @field bit @bit. */
#define t_assert_invalid_param(res, field, bit)                           \
	do {                                                              \
		t_assert_sense(res, RTS_SENSE_ILLEGAL_REQUEST,            \
			       SCSI_ASC_INVALID_FIELD_IN_PARAMETER_LIST); \
		t_assert_sks(res, 0, field, bit);                         \
	} while (0)

#endif
