/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * UNMAP parameter list (SBC-3 5.28): an 8-byte header followed by 16-byte block
 * descriptors. Validated strictly before anything is unmapped, so a bad list has no effect.
 */
#include <errno.h>

#include <rts/tcmu.h>

#include "scsi_priv.h"

#define UNMAP_HDR_LEN  8
#define UNMAP_DESC_LEN 16

static int length_error(struct scsi_result *res)
{
	scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
	return -EINVAL;
}

int scsi_unmap_parse(const struct scsi_dev_info *di, const struct iovec *iov, size_t iovcnt,
		     uint32_t len, struct scsi_unmap_desc *descs, size_t max_descs,
		     struct scsi_result *res)
{
	uint8_t hdr[UNMAP_HDR_LEN];
	uint32_t data_len, bd_len, n;
	uint64_t total = 0;

	scsi_set_good(res, 0);
	/* SBC-3: a PARAMETER LIST LENGTH of zero is not an error. */
	if (len == 0)
		return 0;
	if (len < UNMAP_HDR_LEN || scsi_iov_length(iov, iovcnt) < len)
		return length_error(res);
	if (scsi_iov_copy_from(iov, iovcnt, 0, hdr, sizeof(hdr)) != sizeof(hdr))
		return length_error(res);

	data_len = scsi_get_be16(&hdr[0]);
	bd_len = scsi_get_be16(&hdr[2]);
	/* The header claims more than was transferred, or descriptors are cut off. */
	if (data_len + 2 > len || bd_len + UNMAP_HDR_LEN > len)
		return length_error(res);
	/* UNMAP DATA LENGTH covers bytes 2.. of the header plus the descriptors. */
	if (data_len < bd_len + UNMAP_HDR_LEN - 2) {
		scsi_invalid_param_field(res, 0, -1);
		return -EINVAL;
	}
	if (bd_len % UNMAP_DESC_LEN) {
		scsi_invalid_param_field(res, 2, -1);
		return -EINVAL;
	}
	n = bd_len / UNMAP_DESC_LEN;
	if (n > max_descs || (di->max_unmap_descs && n > di->max_unmap_descs)) {
		scsi_invalid_param_field(res, 2, -1);
		return -EINVAL;
	}

	for (uint32_t i = 0; i < n; i++) {
		uint8_t d[UNMAP_DESC_LEN];
		size_t off = UNMAP_HDR_LEN + (size_t)i * UNMAP_DESC_LEN;

		if (scsi_iov_copy_from(iov, iovcnt, off, d, sizeof(d)) != sizeof(d))
			return length_error(res);
		uint64_t lba = scsi_get_be64(&d[0]);
		uint32_t nr = scsi_get_be32(&d[8]);

		if (lba > di->num_lbas || nr > di->num_lbas - lba) {
			scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
			return -EINVAL;
		}
		/* MAXIMUM UNMAP LBA COUNT bounds the whole list (0 = no limit). */
		total += nr;
		if (di->max_unmap_blocks && total > di->max_unmap_blocks) {
			scsi_invalid_param_field(res, (uint16_t)(off + 8), -1);
			return -EINVAL;
		}
		descs[i] = (struct scsi_unmap_desc){ .lba = lba, .nr_blocks = nr };
	}
	return (int)n;
}
