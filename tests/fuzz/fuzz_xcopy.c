/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The EXTENDED COPY (LID1) parameter list parser (tcmu/scsi/xcopy.c) on untrusted bytes:
 * the input is the Data-Out buffer as the initiator sent it. Invariants (abort on
 * violation): a refused list ends CHECK CONDITION with fixed-format sense and ILLEGAL
 * REQUEST; an accepted one has at most the advertised descriptor counts, every CSCD
 * designator 8 or 16 bytes and every segment descriptor inside the list.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rts/tcmu.h>

#include "scsi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scsi_xcopy x;
	struct scsi_result res;
	uint8_t *copy;

	if (!size || size > SCSI_XCOPY_HDR_LEN + SCSI_XCOPY_MAX_DESC_LIST + 64)
		return 0;
	copy = malloc(size); /* exactly @size bytes: ASan sees any read past the list */
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (scsi_xcopy_parse(copy, size, &x, &res) < 0) {
		if (res.status != RTS_SAM_CHECK_CONDITION || res.sense[0] != 0x70 ||
		    (res.sense[2] & 0x0f) != RTS_SENSE_ILLEGAL_REQUEST)
			abort();
	} else {
		if (res.status != RTS_SAM_GOOD || x.ncscd > SCSI_XCOPY_MAX_CSCD ||
		    x.nsegs > SCSI_XCOPY_MAX_SEGS)
			abort();
		for (unsigned int i = 0; i < x.ncscd; i++)
			if ((x.cscd[i].desig_len != 8 && x.cscd[i].desig_len != 16) ||
			    x.cscd[i].off + 32u > size)
				abort();
		for (unsigned int i = 0; i < x.nsegs; i++)
			if (x.seg[i].off + 28u > size || x.seg[i].nr_blocks > UINT16_MAX)
				abort();
	}
	free(copy);
	return 0;
}
