/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Sense data builders (SPC-4 4.5.3 fixed format) and the completion helpers every emulated
 * command ends with.
 */
#include <string.h>

#include <rts/tcmu.h>

#include "scsi_priv.h"

/* Fixed-format sense layout (SPC-4 table 48). */
#define SENSE_RESPONSE_CURRENT 0x70
#define SENSE_VALID	       0x80
#define SENSE_ADDITIONAL_LEN   (SCSI_SENSE_LEN - 8)
#define SENSE_SKSV	       0x80
#define SENSE_CD	       0x40
#define SENSE_BPV	       0x08

void scsi_set_sense(struct scsi_result *res, uint8_t key, uint16_t asc_ascq)
{
	memset(res->sense, 0, sizeof(res->sense));
	res->status = RTS_SAM_CHECK_CONDITION;
	res->data_len = 0;
	res->sense[0] = SENSE_RESPONSE_CURRENT;
	res->sense[2] = key & 0x0f;
	res->sense[7] = SENSE_ADDITIONAL_LEN;
	res->sense[12] = (uint8_t)(asc_ascq >> 8);
	res->sense[13] = (uint8_t)asc_ascq;
}

void scsi_set_sense_info(struct scsi_result *res, uint8_t key, uint16_t asc_ascq, uint64_t info)
{
	scsi_set_sense(res, key, asc_ascq);
	/*
	 * The fixed-format INFORMATION field has 4 bytes; a larger value cannot be reported
	 * there, so VALID stays clear rather than reporting a truncated value.
	 */
	if (info > UINT32_MAX)
		return;
	res->sense[0] |= SENSE_VALID;
	scsi_put_be32(&res->sense[3], (uint32_t)info);
}

void scsi_set_sense_field(struct scsi_result *res, uint8_t key, uint16_t asc_ascq, bool in_cdb,
			  uint16_t field, int bit)
{
	scsi_set_sense(res, key, asc_ascq);
	res->sense[15] = SENSE_SKSV;
	if (in_cdb)
		res->sense[15] |= SENSE_CD;
	if (bit >= 0 && bit <= 7)
		res->sense[15] |= SENSE_BPV | (uint8_t)bit;
	scsi_put_be16(&res->sense[16], field);
}

void scsi_set_good(struct scsi_result *res, uint32_t data_len)
{
	memset(res->sense, 0, sizeof(res->sense));
	res->status = RTS_SAM_GOOD;
	res->data_len = data_len;
}

void scsi_invalid_cdb_field(struct scsi_result *res, uint16_t field, int bit)
{
	scsi_set_sense_field(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB, true,
			     field, bit);
}

void scsi_invalid_param_field(struct scsi_result *res, uint16_t field, int bit)
{
	scsi_set_sense_field(res, RTS_SENSE_ILLEGAL_REQUEST,
			     SCSI_ASC_INVALID_FIELD_IN_PARAMETER_LIST, false, field, bit);
}

void scsi_data_in(const struct iovec *iov, size_t iovcnt, const uint8_t *buf, size_t len,
		  uint32_t alloc_len, struct scsi_result *res)
{
	size_t n = len < alloc_len ? len : alloc_len;

	scsi_set_good(res, (uint32_t)scsi_iov_copy_to(iov, iovcnt, 0, buf, n));
}

void scsi_put_ascii(uint8_t *dst, size_t width, const char *src, size_t src_max)
{
	size_t i;

	memset(dst, ' ', width);
	for (i = 0; i < width && i < src_max && src[i]; i++) {
		/* SPC-4 4.4.1: ASCII data fields hold printable characters only. */
		uint8_t c = (uint8_t)src[i];

		dst[i] = (c >= 0x20 && c < 0x7f) ? c : ' ';
	}
}
