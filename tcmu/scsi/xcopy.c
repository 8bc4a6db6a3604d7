/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * EXTENDED COPY (LID1) parameter lists and the pages that describe our copy manager
 * (SPC-4 6.4 / 6.18 / 7.8.17): the parser of the untrusted parameter list, RECEIVE COPY
 * RESULTS OPERATING PARAMETERS and COPY STATUS data, and the Third-party Copy VPD page.
 * The copy itself (finding the copy targets among the devices this process serves, moving
 * the blocks) is the device layer's (tcmu/xcopy.c).
 *
 * Checks, in this order, each ending the command at the first that fails:
 *  1. the header fits (PARAMETER LIST LENGTH ERROR), the descriptor lists fit within
 *     MAXIMUM DESCRIPTOR LIST LENGTH (PARAMETER LIST LENGTH ERROR, as LIO) and within the
 *     parameter list (PARAMETER LIST LENGTH ERROR); no inline data; LIST ID USAGE;
 *  2. the number of CSCD and segment descriptors (TOO MANY TARGET / SEGMENT DESCRIPTORS);
 *  3. each CSCD descriptor: type E4h only (UNSUPPORTED TARGET DESCRIPTOR TYPE CODE), a
 *     block device, a logical-unit NAA designator in binary (INVALID FIELD IN PARAMETER
 *     LIST with the field pointer);
 *  4. each segment descriptor: type 02h only (UNSUPPORTED SEGMENT DESCRIPTOR TYPE CODE),
 *     its DESCRIPTOR LENGTH (INVALID FIELD IN PARAMETER LIST).
 * A CSCD ID that names no descriptor of the list is the copy's business (COPY ABORTED,
 * COPY TARGET DEVICE NOT REACHABLE, like an identification that matches no device).
 */
#include <errno.h>
#include <string.h>

#include <rts/tcmu.h>

#include "scsi_priv.h"

#define CSCD_DESC_LEN	  32
#define SEG_B2B_LEN	  28 /* 4-byte header + DESCRIPTOR LENGTH 0018h */
#define SEG_B2B_DESC_LEN  0x18
#define CSCD_TYPE_IDENT	  0xe4
#define SEG_TYPE_B2B	  0x02
#define LIST_ID_USAGE_RSV 1
#define LIST_ID_USAGE_NOID 3

static void too_many(struct scsi_result *res, uint16_t asc, uint16_t field)
{
	scsi_set_sense_field(res, RTS_SENSE_ILLEGAL_REQUEST, asc, false, field, -1);
}

static int parse_cscd(const uint8_t *d, uint16_t off, struct scsi_xcopy_cscd *c,
		      struct scsi_result *res)
{
	uint8_t dlen;

	if (d[0] != CSCD_TYPE_IDENT) {
		too_many(res, SCSI_ASC_UNSUPPORTED_TARGET_DESC_TYPE, off);
		return -EINVAL;
	}
	/*
	 * Byte 1: LU ID TYPE (ignored in SPC-4), NUL (obsolete), PERIPHERAL DEVICE TYPE: only
	 * block devices (00h) are copy targets here.
	 */
	if (d[1] & 0x1f) {
		scsi_invalid_param_field(res, (uint16_t)(off + 1), 4);
		return -EINVAL;
	}
	/* The designator: code set binary, association logical unit, type NAA. */
	if ((d[4] & 0x0f) != 0x01) {
		scsi_invalid_param_field(res, (uint16_t)(off + 4), 3);
		return -EINVAL;
	}
	if ((d[5] & 0x30) != 0x00) {
		scsi_invalid_param_field(res, (uint16_t)(off + 5), 5);
		return -EINVAL;
	}
	if ((d[5] & 0x0f) != 0x03) {
		scsi_invalid_param_field(res, (uint16_t)(off + 5), 3);
		return -EINVAL;
	}
	dlen = d[7];
	if (dlen != 8 && dlen != 16) { /* NAA 2/3/5 (8 bytes) or 6 (16 bytes); 20 bytes max */
		scsi_invalid_param_field(res, (uint16_t)(off + 7), -1);
		return -EINVAL;
	}
	c->desig_len = dlen;
	memcpy(c->desig, &d[8], dlen);
	c->off = off;
	return 0;
}

static int parse_segment(const uint8_t *d, uint16_t off, struct scsi_xcopy_seg *s,
			 struct scsi_result *res)
{
	if (d[0] != SEG_TYPE_B2B) {
		too_many(res, SCSI_ASC_UNSUPPORTED_SEGMENT_DESC_TYPE, off);
		return -EINVAL;
	}
	if (scsi_get_be16(&d[2]) != SEG_B2B_DESC_LEN) {
		scsi_invalid_param_field(res, (uint16_t)(off + 2), -1);
		return -EINVAL;
	}
	/* DC and CAT only matter between different block sizes, which we refuse. */
	s->src = scsi_get_be16(&d[4]);
	s->dst = scsi_get_be16(&d[6]);
	s->nr_blocks = scsi_get_be16(&d[10]);
	s->src_lba = scsi_get_be64(&d[12]);
	s->dst_lba = scsi_get_be64(&d[20]);
	s->off = off;
	return 0;
}

int scsi_xcopy_parse(const uint8_t *p, size_t len, struct scsi_xcopy *x, struct scsi_result *res)
{
	uint32_t tdll, sdll, inl, pos, n;
	uint8_t usage;

	memset(x, 0, sizeof(*x));
	scsi_set_good(res, 0);
	if (len < SCSI_XCOPY_HDR_LEN) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -EINVAL;
	}
	tdll = scsi_get_be16(&p[2]);
	sdll = scsi_get_be32(&p[8]);
	inl = scsi_get_be32(&p[12]);
	if ((uint64_t)tdll + sdll > SCSI_XCOPY_MAX_DESC_LIST ||
	    SCSI_XCOPY_HDR_LEN + (uint64_t)tdll + sdll + inl > len) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -EINVAL;
	}
	/* MAXIMUM INLINE DATA LENGTH is 0 (OPERATING PARAMETERS). */
	if (inl) {
		scsi_invalid_param_field(res, 12, -1);
		return -EINVAL;
	}
	x->list_id = p[0];
	usage = (p[1] >> 3) & 3;
	x->list_id_usage = usage;
	if (usage == LIST_ID_USAGE_RSV) {
		scsi_invalid_param_field(res, 1, 4);
		return -EINVAL;
	}
	if (usage == LIST_ID_USAGE_NOID && x->list_id) {
		scsi_invalid_param_field(res, 0, -1);
		return -EINVAL;
	}

	/* Counts first (SPC-4 6.4.3.4 / 6.4.3.5). */
	if (tdll % CSCD_DESC_LEN) {
		scsi_invalid_param_field(res, 2, -1);
		return -EINVAL;
	}
	if (tdll / CSCD_DESC_LEN > SCSI_XCOPY_MAX_CSCD) {
		too_many(res, SCSI_ASC_TOO_MANY_TARGET_DESCS, 2);
		return -EINVAL;
	}
	for (pos = 0, n = 0; pos < sdll; n++) {
		uint32_t dl;

		if (sdll - pos < 4) {
			scsi_invalid_param_field(res, 8, -1);
			return -EINVAL;
		}
		dl = 4u + scsi_get_be16(&p[SCSI_XCOPY_HDR_LEN + tdll + pos + 2]);
		if (dl > sdll - pos) {
			scsi_invalid_param_field(res, (uint16_t)(SCSI_XCOPY_HDR_LEN + tdll + pos + 2),
						 -1);
			return -EINVAL;
		}
		pos += dl;
	}
	if (n > SCSI_XCOPY_MAX_SEGS) {
		too_many(res, SCSI_ASC_TOO_MANY_SEGMENT_DESCS, 8);
		return -EINVAL;
	}

	for (pos = 0; pos < tdll; pos += CSCD_DESC_LEN) {
		uint16_t off = (uint16_t)(SCSI_XCOPY_HDR_LEN + pos);

		if (parse_cscd(&p[off], off, &x->cscd[x->ncscd], res) < 0)
			return -EINVAL;
		x->ncscd++;
	}
	for (pos = 0; pos < sdll;) {
		uint16_t off = (uint16_t)(SCSI_XCOPY_HDR_LEN + tdll + pos);

		if (parse_segment(&p[off], off, &x->seg[x->nsegs], res) < 0)
			return -EINVAL;
		x->nsegs++;
		pos += 4u + scsi_get_be16(&p[off + 2]);
	}
	return 0;
}

/* Implemented descriptor type codes (OPERATING PARAMETERS, Supported Descriptors). */
static const uint8_t xcopy_descs[] = { SEG_TYPE_B2B, CSCD_TYPE_IDENT };

/* A block-to-block descriptor moves at most 65535 blocks. */
static uint32_t max_segment(const struct scsi_dev_info *di)
{
	uint64_t seg = (uint64_t)UINT16_MAX * di->block_size;

	return seg > UINT32_MAX ? UINT32_MAX : (uint32_t)seg;
}

size_t scsi_xcopy_op_params(const struct scsi_dev_info *di, uint8_t *buf)
{
	size_t len = 44 + sizeof(xcopy_descs);

	memset(buf, 0, len);
	scsi_put_be32(&buf[0], (uint32_t)(len - 4));
	buf[4] = 0x01; /* SNLID: LIST ID USAGE 11b is supported */
	scsi_put_be16(&buf[8], SCSI_XCOPY_MAX_CSCD);
	scsi_put_be16(&buf[10], SCSI_XCOPY_MAX_SEGS);
	scsi_put_be32(&buf[12], SCSI_XCOPY_MAX_DESC_LIST);
	scsi_put_be32(&buf[16], max_segment(di));
	/* MAXIMUM INLINE DATA LENGTH 0, HELD DATA LIMIT 0, MAXIMUM STREAM TRANSFER SIZE 0 */
	scsi_put_be16(&buf[34], SCSI_XCOPY_MAX_COPIES);
	buf[36] = SCSI_XCOPY_MAX_COPIES;
	buf[37] = 9; /* DATA SEGMENT GRANULARITY: 512 bytes (log2) */
	buf[38] = 9; /* INLINE DATA GRANULARITY */
	buf[39] = 9; /* HELD DATA GRANULARITY */
	buf[43] = sizeof(xcopy_descs);
	memcpy(&buf[44], xcopy_descs, sizeof(xcopy_descs));
	return len;
}

size_t scsi_xcopy_copy_status(const struct scsi_xcopy_status *st, uint8_t *buf)
{
	memset(buf, 0, 12);
	scsi_put_be32(&buf[0], 8);
	buf[4] = st->state; /* HDD 0: we hold no data */
	scsi_put_be16(&buf[5], st->segments);
	/* TRANSFER COUNT UNITS: bytes while it fits, else KiB (01h) ... (SPC-4 table 371) */
	uint64_t count = st->bytes;
	uint8_t units = 0;

	while (count > UINT32_MAX && units < 5) {
		count >>= 10;
		units++;
	}
	buf[7] = units;
	scsi_put_be32(&buf[8], (uint32_t)count);
	return 12;
}

size_t scsi_vpd_third_party_copy(const struct scsi_dev_info *di, uint8_t *buf)
{
	size_t off = 4, start;

	memset(&buf[4], 0, SCSI_XCOPY_VPD_LEN - 4);
	/* Supported Commands (0001h): EXTENDED COPY (LID1), RECEIVE COPY RESULTS 00h 03h. */
	start = off;
	scsi_put_be16(&buf[off], 0x0001);
	off += 4;
	buf[off++] = 7; /* COMMANDS SUPPORTED LIST LENGTH */
	buf[off++] = 0x83;
	buf[off++] = 1;
	buf[off++] = 0x00;
	buf[off++] = 0x84;
	buf[off++] = 2;
	buf[off++] = 0x00;
	buf[off++] = 0x03;
	while ((off - start) % 4)
		buf[off++] = 0;
	scsi_put_be16(&buf[start + 2], (uint16_t)(off - start - 4));

	/* Supported Descriptors (0009h). */
	start = off;
	scsi_put_be16(&buf[off], 0x0009);
	off += 4;
	buf[off++] = sizeof(xcopy_descs);
	memcpy(&buf[off], xcopy_descs, sizeof(xcopy_descs));
	off += sizeof(xcopy_descs);
	while ((off - start) % 4)
		buf[off++] = 0;
	scsi_put_be16(&buf[start + 2], (uint16_t)(off - start - 4));

	/* General Copy Operations (8001h): the limits OPERATING PARAMETERS reports. */
	scsi_put_be16(&buf[off], 0x8001);
	scsi_put_be16(&buf[off + 2], 32);
	scsi_put_be32(&buf[off + 4], SCSI_XCOPY_MAX_COPIES);  /* TOTAL CONCURRENT COPIES */
	scsi_put_be32(&buf[off + 8], SCSI_XCOPY_MAX_COPIES);  /* MAXIMUM IDENTIFIED CONCURRENT */
	scsi_put_be32(&buf[off + 12], max_segment(di)); /* MAXIMUM SEGMENT LENGTH */
	buf[off + 16] = 9; /* DATA SEGMENT GRANULARITY (log2) */
	buf[off + 17] = 9; /* INLINE DATA GRANULARITY */
	off += 36;
	return off;
}
