/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal helpers shared by the SCSI emulation sources (tcmu/scsi/ *.c). Not part of the
 * scsi.h contract; tests may use them.
 */
#ifndef RTS_TCMU_SCSI_PRIV_H
#define RTS_TCMU_SCSI_PRIV_H

#include "scsi.h"

/*
 * Upper bound of any data-in page the emulation builds (the largest, VPD 83h with a
 * 63-character serial, is about 110 bytes) and of a MODE SELECT parameter list we accept.
 */
#define SCSI_EMU_BUF_LEN 512

/* CDB length implied by the group code of @opcode, or 0 for reserved/vendor/variable groups. */
size_t scsi_cdb_group_len(uint8_t opcode);

/*
 * Common CDB sanity checks once the opcode is known to be supported: @cdb_len must match
 * the group code and the CONTROL byte must not ask for NACA. Returns 0 or -EINVAL with @res
 * set to INVALID FIELD IN CDB.
 */
int scsi_cdb_check(const uint8_t *cdb, size_t cdb_len, struct scsi_result *res);

/* ILLEGAL REQUEST / INVALID FIELD IN CDB pointing at byte @field, bit @bit (-1: no bit). */
void scsi_invalid_cdb_field(struct scsi_result *res, uint16_t field, int bit);
/* ILLEGAL REQUEST / INVALID FIELD IN PARAMETER LIST pointing at byte @field, bit @bit. */
void scsi_invalid_param_field(struct scsi_result *res, uint16_t field, int bit);

/*
 * Complete a data-in command: copy min(@len, @alloc_len, buffer size) bytes of @buf into @iov
 * and set GOOD with data_len = bytes written.
 */
void scsi_data_in(const struct iovec *iov, size_t iovcnt, const uint8_t *buf, size_t len,
		  uint32_t alloc_len, struct scsi_result *res);

/* Copy @src into a fixed-width SCSI ASCII field of @width bytes, space padded. */
void scsi_put_ascii(uint8_t *dst, size_t width, const char *src, size_t src_max);

void scsi_emulate_inquiry(const struct scsi_dev_info *di, const uint8_t *cdb,
			  const struct iovec *iov, size_t iovcnt, struct scsi_result *res);
void scsi_emulate_mode_sense(const struct scsi_dev_info *di, const struct scsi_state *st,
			     const uint8_t *cdb, const struct iovec *iov, size_t iovcnt,
			     struct scsi_result *res);
void scsi_emulate_mode_select(const struct scsi_dev_info *di, struct scsi_state *st,
			      const uint8_t *cdb, const struct iovec *iov, size_t iovcnt,
			      struct scsi_result *res);

static inline uint32_t scsi_get_be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline void scsi_put_be24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

void scsi_emulate_rsoc(const struct scsi_dev_info *di, const uint8_t *cdb,
		       const struct iovec *iov, size_t iovcnt, struct scsi_result *res);
/* The REPORT SUPPORTED OPERATION CODES entry of a command: CDB length and usage data. */
bool scsi_rsoc_lookup(const struct scsi_dev_info *di, uint8_t op, uint16_t sa, bool has_sa,
		      uint8_t *ret_len, const uint8_t **ret_usage);

/* Opcodes scsi_emulate() answers (the one list decode and emulate share). */
bool scsi_op_is_emulated(uint8_t op);

#endif
