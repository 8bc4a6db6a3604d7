/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * REPORT SUPPORTED OPERATION CODES (SPC-5 6.35): the one table of the commands a device
 * accepts, with CDB USAGE DATA that marks exactly the CDB bits we evaluate (the decoder in
 * cdb.c and the emulation check or use them; a bit that is 0 here is ignored or reserved),
 * and the command timeouts descriptor. UNMAP is listed only on thin devices; REPORT LUNS is
 * answered by the kernel for every TCMU device and is listed too. A test cross-checks the
 * table against scsi_decode (tests/unit/tcmu/test_scsi_opcodes.c).
 */
#include <string.h>

#include <rts/tcmu.h>

#include "scsi_priv.h"

#define RSOC_RCTD     0x80
#define RSOC_OPT_MASK 0x07
#define RSOC_CTDP     0x02 /* all-commands descriptor byte 5 */
#define RSOC_SERVACTV 0x01
#define TIMEOUTS_LEN  12
/* Recommended command timeout (seconds): the kernel's TCMU cmd_time_out default. */
#define RECOMMENDED_TIMEOUT 30

struct op_usage {
	uint8_t op;
	uint8_t sa;      /* service action (with has_sa) */
	bool has_sa;
	uint8_t needs;   /* NEED_*: listed only when the device has that */
	uint8_t len;
	uint8_t usage[16]; /* usage[0] is the opcode, usage[1] carries the SA bits */
};

#define NEED_THIN 1 /* thin provisioning (UNMAP, GET LBA STATUS) */
#define NEED_3PC  2 /* EXTENDED COPY served (scsi_dev_info.xcopy) */

/* Bits: byte 1 of READ/WRITE: RDPROTECT/WRPROTECT (e0), DPO (10), FUA (08). CONTROL: NACA. */
#define CTL 0x04
static const struct op_usage ops[] = {
	{ SCSI_TEST_UNIT_READY, 0, false, false, 6, { 0x00, 0, 0, 0, 0, CTL } },
	{ SCSI_REQUEST_SENSE, 0, false, false, 6, { 0x03, 0x01, 0, 0, 0xff, CTL } },
	{ SCSI_READ_6, 0, false, false, 6, { 0x08, 0x1f, 0xff, 0xff, 0xff, CTL } },
	{ SCSI_WRITE_6, 0, false, false, 6, { 0x0a, 0x1f, 0xff, 0xff, 0xff, CTL } },
	{ SCSI_INQUIRY, 0, false, false, 6, { 0x12, 0x01, 0xff, 0xff, 0xff, CTL } },
	{ SCSI_MODE_SELECT_6, 0, false, false, 6, { 0x15, 0x11, 0, 0, 0xff, CTL } },
	{ SCSI_MODE_SENSE_6, 0, false, false, 6, { 0x1a, 0x08, 0xff, 0xff, 0xff, CTL } },
	{ SCSI_START_STOP_UNIT, 0, false, false, 6, { 0x1b, 0, 0, 0, 0, CTL } },
	{ SCSI_SEND_DIAGNOSTIC, 0, false, false, 6, { 0x1d, 0xe4, 0, 0xff, 0xff, CTL } },
	{ SCSI_PREVENT_ALLOW_MEDIUM_REMOVAL, 0, false, false, 6, { 0x1e, 0, 0, 0, 0x03, CTL } },
	{ SCSI_READ_CAPACITY_10, 0, false, false, 10, { 0x25, 0, 0, 0, 0, 0, 0, 0, 0, CTL } },
	{ SCSI_READ_10, 0, false, false, 10,
	  { 0x28, 0xf8, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, CTL } },
	{ SCSI_WRITE_10, 0, false, false, 10,
	  { 0x2a, 0xf8, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, CTL } },
	{ SCSI_WRITE_VERIFY_10, 0, false, false, 10,
	  { 0x2e, 0xf6, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, CTL } },
	{ SCSI_VERIFY_10, 0, false, false, 10,
	  { 0x2f, 0xf6, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, CTL } },
	{ SCSI_PRE_FETCH_10, 0, false, false, 10,
	  { 0x34, 0x02, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, CTL } },
	{ SCSI_SYNCHRONIZE_CACHE_10, 0, false, false, 10,
	  { 0x35, 0x02, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, CTL } },
	{ SCSI_READ_DEFECT_DATA_10, 0, false, false, 10,
	  { 0x37, 0, 0x1f, 0, 0, 0, 0, 0xff, 0xff, CTL } },
	{ SCSI_WRITE_SAME_10, 0, false, false, 10,
	  { 0x41, 0xfe, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, CTL } },
	{ SCSI_UNMAP, 0, false, true, 10, { 0x42, 0x01, 0, 0, 0, 0, 0, 0xff, 0xff, CTL } },
	{ SCSI_MODE_SELECT_10, 0, false, false, 10,
	  { 0x55, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, CTL } },
	{ SCSI_MODE_SENSE_10, 0, false, false, 10,
	  { 0x5a, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, CTL } },
	{ SCSI_EXTENDED_COPY, SCSI_XCOPY_SA_LID1, true, NEED_3PC, 16,
	  { 0x83, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_RECEIVE_COPY_RESULTS, SCSI_RCR_SA_COPY_STATUS, true, NEED_3PC, 16,
	  { 0x84, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_RECEIVE_COPY_RESULTS, SCSI_RCR_SA_OPERATING_PARAMETERS, true, NEED_3PC, 16,
	  { 0x84, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_READ_16, 0, false, false, 16,
	  { 0x88, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
	    CTL } },
	{ SCSI_COMPARE_AND_WRITE, 0, false, false, 16,
	  { 0x89, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0xff, 0, CTL } },
	{ SCSI_WRITE_16, 0, false, false, 16,
	  { 0x8a, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
	    CTL } },
	{ SCSI_WRITE_VERIFY_16, 0, false, false, 16,
	  { 0x8e, 0xf6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
	    CTL } },
	{ SCSI_VERIFY_16, 0, false, false, 16,
	  { 0x8f, 0xf6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
	    CTL } },
	{ SCSI_PRE_FETCH_16, 0, false, false, 16,
	  { 0x90, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
	    CTL } },
	{ SCSI_SYNCHRONIZE_CACHE_16, 0, false, false, 16,
	  { 0x91, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
	    CTL } },
	{ SCSI_WRITE_SAME_16, 0, false, false, 16,
	  { 0x93, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
	    CTL } },
	{ SCSI_SERVICE_ACTION_IN_16, SCSI_SAI_READ_CAPACITY_16, true, false, 16,
	  { 0x9e, 0x1f, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_SERVICE_ACTION_IN_16, SCSI_SAI_GET_LBA_STATUS, true, true, 16,
	  { 0x9e, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
	    CTL } },
	{ SCSI_REPORT_LUNS, 0, false, false, 12,
	  { 0xa0, 0, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_MAINTENANCE_IN, SCSI_MI_REPORT_SUPPORTED_OPCODES, true, false, 12,
	  { 0xa3, 0x1f, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_READ_12, 0, false, false, 12,
	  { 0xa8, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_WRITE_12, 0, false, false, 12,
	  { 0xaa, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_WRITE_VERIFY_12, 0, false, false, 12,
	  { 0xae, 0xf6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_VERIFY_12, 0, false, false, 12,
	  { 0xaf, 0xf6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
	{ SCSI_READ_DEFECT_DATA_12, 0, false, false, 12,
	  { 0xb7, 0x1f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, CTL } },
};

static bool listed(const struct scsi_dev_info *di, const struct op_usage *o)
{
	return (!(o->needs & NEED_THIN) || di->thin) && (!(o->needs & NEED_3PC) || di->xcopy);
}

static size_t put_timeouts(uint8_t *p)
{
	memset(p, 0, TIMEOUTS_LEN);
	scsi_put_be16(&p[0], TIMEOUTS_LEN - 2);
	/* NOMINAL COMMAND PROCESSING TIMEOUT 0: not specified */
	scsi_put_be32(&p[8], RECOMMENDED_TIMEOUT);
	return TIMEOUTS_LEN;
}

/* Largest answer: every entry with a timeouts descriptor (all-commands form). */
#define RSOC_BUF_LEN (4 + (sizeof(ops) / sizeof(ops[0])) * (8 + TIMEOUTS_LEN))

static void rsoc_all(const struct scsi_dev_info *di, bool rctd, uint8_t *buf, size_t *len)
{
	size_t n = 4;

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const struct op_usage *o = &ops[i];
		uint8_t *d = buf + n;

		if (!listed(di, o))
			continue;
		memset(d, 0, 8);
		d[0] = o->op;
		scsi_put_be16(&d[2], o->has_sa ? o->sa : 0);
		d[5] = (uint8_t)((rctd ? RSOC_CTDP : 0) | (o->has_sa ? RSOC_SERVACTV : 0));
		scsi_put_be16(&d[6], o->len);
		n += 8;
		if (rctd)
			n += put_timeouts(buf + n);
	}
	scsi_put_be32(&buf[0], (uint32_t)(n - 4));
	*len = n;
}

void scsi_emulate_rsoc(const struct scsi_dev_info *di, const uint8_t *cdb,
		       const struct iovec *iov, size_t iovcnt, struct scsi_result *res)
{
	uint8_t buf[RSOC_BUF_LEN];
	bool rctd = cdb[2] & RSOC_RCTD;
	uint8_t opt = cdb[2] & RSOC_OPT_MASK;
	uint8_t op = cdb[3];
	uint16_t sa = scsi_get_be16(&cdb[4]);
	uint32_t alloc = scsi_get_be32(&cdb[6]);
	const struct op_usage *o = NULL;
	size_t len;

	if ((cdb[1] & 0x1f) != SCSI_MI_REPORT_SUPPORTED_OPCODES) {
		scsi_invalid_cdb_field(res, 1, 4);
		return;
	}
	if (opt == 0) {
		rsoc_all(di, rctd, buf, &len);
		scsi_data_in(iov, iovcnt, buf, len, alloc, res);
		return;
	}
	if (opt > 3) {
		scsi_invalid_cdb_field(res, 2, 2);
		return;
	}
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == op && listed(di, &ops[i])) {
			o = &ops[i];
			break;
		}
	/*
	 * SPC-5 6.35.2: option 001b names an opcode without service actions (one that has them
	 * is INVALID FIELD IN CDB at REQUESTED OPERATION CODE); 010b names opcode + service
	 * action (an opcode without service actions is INVALID FIELD at the opcode);
	 * 011b either.
	 */
	if (o && opt == 1 && o->has_sa) {
		scsi_invalid_cdb_field(res, 3, -1);
		return;
	}
	if (o && opt == 2 && !o->has_sa) {
		scsi_invalid_cdb_field(res, 3, -1);
		return;
	}
	if (o && o->has_sa && (opt == 2 || opt == 3)) {
		o = NULL;
		for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
			if (ops[i].op == op && ops[i].has_sa && ops[i].sa == sa &&
			    listed(di, &ops[i])) {
				o = &ops[i];
				break;
			}
	} else if (o && opt == 3 && sa) {
		o = NULL; /* no service actions: only 0 names the command */
	}
	memset(buf, 0, 4);
	if (!o) {
		buf[1] = 0x01; /* SUPPORT 001b: not supported */
		len = 4;
	} else {
		buf[1] = (uint8_t)((rctd ? 0x80 : 0) | 0x03); /* CTDP, SUPPORT 011b */
		scsi_put_be16(&buf[2], o->len);
		memcpy(&buf[4], o->usage, o->len);
		if (o->has_sa)
			buf[5] = (uint8_t)((buf[5] & 0xe0) | o->sa); /* usage byte 1: the SA itself */
		len = 4 + o->len;
		if (rctd)
			len += put_timeouts(buf + len);
	}
	scsi_data_in(iov, iovcnt, buf, len, alloc, res);
}

bool scsi_rsoc_lookup(const struct scsi_dev_info *di, uint8_t op, uint16_t sa, bool has_sa,
		      uint8_t *ret_len, const uint8_t **ret_usage)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const struct op_usage *o = &ops[i];

		if (o->op != op || o->has_sa != has_sa || (has_sa && o->sa != sa) ||
		    !listed(di, o))
			continue;
		*ret_len = o->len;
		*ret_usage = o->usage;
		return true;
	}
	return false;
}
