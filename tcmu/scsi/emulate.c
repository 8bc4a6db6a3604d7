/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * scsi_emulate(): the commands the runner answers itself. INQUIRY lives in inquiry.c and
 * MODE SENSE/SELECT in modes.c; the small ones (TEST UNIT READY, REQUEST SENSE, READ
 * CAPACITY, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, SEND DIAGNOSTIC) are here.
 */
#include <string.h>

#include <rts/tcmu.h>

#include "scsi_priv.h"

#define RS_DESC		0x01
#define SD_SELFTEST	0x04
#define RC16_LBPME	0x80
#define RC16_LBPRZ	0x40
#define RC16_LEN	32
#define FIXED_SENSE_LEN 18
#define DESC_SENSE_LEN	8

void scsi_state_init(struct scsi_state *st, const struct scsi_dev_info *di)
{
	*st = (struct scsi_state){ .write_cache = di->write_cache };
}

static uint64_t last_lba(const struct scsi_dev_info *di)
{
	return di->num_lbas ? di->num_lbas - 1 : 0;
}

static void request_sense(const uint8_t *cdb, const struct iovec *iov, size_t iovcnt,
			  struct scsi_result *res)
{
	uint8_t buf[FIXED_SENSE_LEN] = { 0 };
	size_t len;

	/* No deferred or pending sense is kept: always NO SENSE / NO ADDITIONAL SENSE. */
	if (cdb[1] & RS_DESC) {
		buf[0] = 0x72;
		buf[1] = RTS_SENSE_NO_SENSE;
		len = DESC_SENSE_LEN;
	} else {
		buf[0] = 0x70;
		buf[2] = RTS_SENSE_NO_SENSE;
		buf[7] = FIXED_SENSE_LEN - 8;
		len = FIXED_SENSE_LEN;
	}
	scsi_data_in(iov, iovcnt, buf, len, cdb[4], res);
}

static void read_capacity_10(const struct scsi_dev_info *di, const struct iovec *iov, size_t iovcnt,
			     struct scsi_result *res)
{
	uint8_t buf[8];
	uint64_t last = last_lba(di);

	/* SBC-3 5.16: FFFFFFFFh tells the initiator to use READ CAPACITY 16. */
	scsi_put_be32(&buf[0], last >= UINT32_MAX ? UINT32_MAX : (uint32_t)last);
	scsi_put_be32(&buf[4], di->block_size);
	scsi_data_in(iov, iovcnt, buf, sizeof(buf), sizeof(buf), res);
}

static void read_capacity_16(const struct scsi_dev_info *di, const uint8_t *cdb,
			     const struct iovec *iov, size_t iovcnt, struct scsi_result *res)
{
	uint8_t buf[RC16_LEN] = { 0 };

	if ((cdb[1] & 0x1f) != SCSI_SAI_READ_CAPACITY_16) {
		scsi_invalid_cdb_field(res, 1, 4);
		return;
	}
	scsi_put_be64(&buf[0], last_lba(di));
	scsi_put_be32(&buf[8], di->block_size);
	/* Unmapped blocks read as zeros: LBPRZ matches VPD B2h. */
	if (di->thin)
		buf[14] = RC16_LBPME | RC16_LBPRZ;
	scsi_data_in(iov, iovcnt, buf, sizeof(buf), scsi_get_be32(&cdb[10]), res);
}

static void send_diagnostic(const uint8_t *cdb, struct scsi_result *res)
{
	/* Only the default self-test (SELFTEST=1, code 0) and no parameter list. */
	if ((cdb[1] & SD_SELFTEST) && (cdb[1] & 0xe0)) {
		scsi_invalid_cdb_field(res, 1, 7);
		return;
	}
	if (scsi_get_be16(&cdb[3])) {
		scsi_invalid_cdb_field(res, 3, -1);
		return;
	}
	scsi_set_good(res, 0);
}

/*
 * READ DEFECT DATA 10/12 (SBC-4 5.12, 5.13): a virtual disk has no defects. The header
 * answers in the requested format with PLISTV/GLISTV as requested and an empty list.
 */
static void read_defect_data(const uint8_t *cdb, const struct iovec *iov, size_t iovcnt,
			     struct scsi_result *res)
{
	uint8_t buf[8] = { 0 };
	bool is12 = cdb[0] == SCSI_READ_DEFECT_DATA_12;
	uint8_t req = is12 ? cdb[1] : cdb[2];

	/* REQ_PLIST (bit 4) -> PLISTV, REQ_GLIST (bit 3) -> GLISTV, format (bits 2-0) echoed */
	buf[1] = req & 0x1f;
	/* DEFECT LIST LENGTH (bytes 2-3, or 4-7 with a GENERATION CODE at 2-3 for the 12-byte
	 * CDB) is 0: buf is already zero. */
	if (is12)
		scsi_data_in(iov, iovcnt, buf, 8, scsi_get_be32(&cdb[6]), res);
	else
		scsi_data_in(iov, iovcnt, buf, 4, scsi_get_be16(&cdb[7]), res);
}

void scsi_emulate(const struct scsi_dev_info *di, struct scsi_state *st, const uint8_t *cdb,
		  size_t cdb_len, const struct iovec *iov, size_t iovcnt, struct scsi_result *res)
{
	if (!cdb || !cdb_len) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST,
			       SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
		return;
	}
	if (!scsi_op_is_emulated(cdb[0])) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST,
			       SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
		return;
	}
	if (scsi_cdb_check(cdb, cdb_len, res) < 0)
		return;

	switch (cdb[0]) {
	case SCSI_TEST_UNIT_READY:
		scsi_set_good(res, 0);
		break;
	case SCSI_REQUEST_SENSE:
		request_sense(cdb, iov, iovcnt, res);
		break;
	case SCSI_INQUIRY:
		scsi_emulate_inquiry(di, cdb, iov, iovcnt, res);
		break;
	case SCSI_MODE_SENSE_6:
	case SCSI_MODE_SENSE_10:
		scsi_emulate_mode_sense(di, st, cdb, iov, iovcnt, res);
		break;
	case SCSI_MODE_SELECT_6:
	case SCSI_MODE_SELECT_10:
		scsi_emulate_mode_select(di, st, cdb, iov, iovcnt, res);
		break;
	case SCSI_START_STOP_UNIT:
		/* No medium to load or eject, no power conditions to manage: accept. */
		scsi_set_good(res, 0);
		break;
	case SCSI_PREVENT_ALLOW_MEDIUM_REMOVAL:
		/* Not a removable medium (RMB = 0): only "allow" makes sense. */
		if (cdb[4] & 0x03)
			scsi_invalid_cdb_field(res, 4, 1);
		else
			scsi_set_good(res, 0);
		break;
	case SCSI_SEND_DIAGNOSTIC:
		send_diagnostic(cdb, res);
		break;
	case SCSI_READ_CAPACITY_10:
		read_capacity_10(di, iov, iovcnt, res);
		break;
	case SCSI_READ_DEFECT_DATA_10:
	case SCSI_READ_DEFECT_DATA_12:
		read_defect_data(cdb, iov, iovcnt, res);
		break;
	case SCSI_MAINTENANCE_IN:
		scsi_emulate_rsoc(di, cdb, iov, iovcnt, res);
		break;
	default: /* SCSI_SERVICE_ACTION_IN_16 */
		read_capacity_16(di, cdb, iov, iovcnt, res);
		break;
	}
}
