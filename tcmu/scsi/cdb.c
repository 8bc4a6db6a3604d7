/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CDB decoding (SBC-4 5.x): tells the dispatcher whether a command is answered by
 * scsi_emulate() or is block I/O, and range-checks the I/O against the device.
 *
 * THE ORDER OF CHECKS (SBC-4 4.2.2 / SPC-5 4.4; the one place it is stated). Every command
 * goes through them in this order and ends at the first that fails:
 *   1. operation code: unsupported -> INVALID COMMAND OPERATION CODE (scsi_decode);
 *   2. CDB fields: CDB length, CONTROL (NACA), reserved bits and fields we do not support
 *      (PROTECT, ANCHOR, BYTCHK 10b, ...) -> INVALID FIELD IN CDB with the field pointer
 *      (scsi_cdb_check, then the decode_* functions);
 *   3. transfer length: MAXIMUM TRANSFER LENGTH / MAXIMUM COMPARE AND WRITE LENGTH /
 *      MAXIMUM WRITE SAME LENGTH -> INVALID FIELD IN CDB pointing at the length field
 *      (check_xfer);
 *   4. LBA range: LBA + length past the last block -> LOGICAL BLOCK ADDRESS OUT OF RANGE
 *      (lba_out_of_range);
 *   5. write protection -> DATA PROTECT / WRITE PROTECTED;
 *   6. data: the Data-Out buffer (its length against the CDB, parameter list contents,
 *      COMPARE AND WRITE's verify data) is only looked at by the dispatcher
 *      (tcmu/dispatch.c), after all of the above passed.
 */
#include <errno.h>

#include <rts/tcmu.h>

#include "scsi_priv.h"

/* Byte 1 bits shared by READ/WRITE/VERIFY/WRITE SAME/COMPARE AND WRITE (SBC-3). */
#define CDB1_PROTECT_MASK 0xe0 /* RDPROTECT / WRPROTECT / VRPROTECT */
#define CDB1_FUA	  0x08
#define CDB1_BYTCHK_MASK  0x06
#define CDB1_BYTCHK_SHIFT 1
#define CDB1_WS_ANCHOR	  0x10
#define CDB1_WS_UNMAP	  0x08
#define CDB1_WS_PBDATA	  0x04
#define CDB1_WS_LBDATA	  0x02
#define CDB1_WS_NDOB	  0x01
#define CDB1_SYNC_IMMED	  0x02
#define CDB1_UNMAP_ANCHOR 0x01
#define CONTROL_NACA	  0x04

size_t scsi_cdb_group_len(uint8_t opcode)
{
	switch (opcode >> 5) {
	case 0:
		return 6;
	case 1:
	case 2:
		return 10;
	case 4:
		return 16;
	case 5:
		return 12;
	default:
		/* 3: reserved + 7Fh variable length; 6, 7: vendor specific */
		return 0;
	}
}

int scsi_cdb_check(const uint8_t *cdb, size_t cdb_len, struct scsi_result *res)
{
	size_t want = scsi_cdb_group_len(cdb[0]);

	if (!want || cdb_len != want) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
		return -EINVAL;
	}
	/* We do not implement NormACA (standard INQUIRY NORMACA = 0). */
	if (cdb[cdb_len - 1] & CONTROL_NACA) {
		scsi_invalid_cdb_field(res, (uint16_t)(cdb_len - 1), 2);
		return -EINVAL;
	}
	return 0;
}

bool scsi_op_is_emulated(uint8_t op)
{
	switch (op) {
	case SCSI_TEST_UNIT_READY:
	case SCSI_REQUEST_SENSE:
	case SCSI_INQUIRY:
	case SCSI_MODE_SELECT_6:
	case SCSI_MODE_SENSE_6:
	case SCSI_START_STOP_UNIT:
	case SCSI_SEND_DIAGNOSTIC:
	case SCSI_PREVENT_ALLOW_MEDIUM_REMOVAL:
	case SCSI_READ_CAPACITY_10:
	case SCSI_MODE_SELECT_10:
	case SCSI_MODE_SENSE_10:
	case SCSI_SERVICE_ACTION_IN_16:
	case SCSI_MAINTENANCE_IN:
	case SCSI_READ_DEFECT_DATA_10:
	case SCSI_READ_DEFECT_DATA_12:
		return true;
	default:
		return false;
	}
}

/* Where LBA and transfer length live in each I/O CDB. */
struct io_layout {
	uint8_t lba_off;
	uint8_t lba_size; /* 4 or 8 bytes (READ/WRITE 6 handled apart) */
	uint8_t len_off;
	uint8_t len_size; /* 1, 2 or 4 bytes */
};

static const struct io_layout layout_10 = { 2, 4, 7, 2 };
static const struct io_layout layout_12 = { 2, 4, 6, 4 };
static const struct io_layout layout_16 = { 2, 8, 10, 4 };

static void get_lba_len(const uint8_t *cdb, const struct io_layout *l, uint64_t *lba, uint32_t *len)
{
	*lba = l->lba_size == 8 ? scsi_get_be64(&cdb[l->lba_off]) : scsi_get_be32(&cdb[l->lba_off]);
	switch (l->len_size) {
	case 1:
		*len = cdb[l->len_off];
		break;
	case 2:
		*len = scsi_get_be16(&cdb[l->len_off]);
		break;
	default:
		*len = scsi_get_be32(&cdb[l->len_off]);
		break;
	}
}

static int lba_out_of_range(const struct scsi_dev_info *di, uint64_t lba, uint64_t nr,
			    struct scsi_result *res)
{
	/* Written so that lba + nr cannot overflow. */
	if (lba > di->num_lbas || nr > di->num_lbas - lba) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_LBA_OUT_OF_RANGE);
		return -EINVAL;
	}
	return 0;
}

static int write_protected(const struct scsi_dev_info *di, struct scsi_result *res)
{
	if (di->read_only) {
		scsi_set_sense(res, RTS_SENSE_DATA_PROTECT, SCSI_ASC_WRITE_PROTECTED);
		return -EINVAL;
	}
	return 0;
}

/*
 * Data-transfer limits: MAXIMUM TRANSFER LENGTH (0 = no limit) and the 32-bit byte count
 * the ring can describe. @len_field is the CDB byte of the TRANSFER LENGTH field.
 */
static int check_xfer(const struct scsi_dev_info *di, uint32_t blocks, uint64_t bytes,
		      uint8_t len_field, struct scsi_result *res)
{
	if ((di->max_xfer_blocks && blocks > di->max_xfer_blocks) || bytes > UINT32_MAX) {
		scsi_invalid_cdb_field(res, len_field, -1);
		return -EINVAL;
	}
	return 0;
}

static int decode_rw6(const struct scsi_dev_info *di, const uint8_t *cdb,
		      struct scsi_cmd_info *info, struct scsi_result *res)
{
	bool write = cdb[0] == SCSI_WRITE_6;

	info->kind = write ? SCSI_KIND_WRITE : SCSI_KIND_READ;
	info->lba = scsi_get_be24(&cdb[1]) & 0x1fffff;
	/* SBC-3 5.15: TRANSFER LENGTH 0 in a 6-byte CDB means 256 blocks. */
	info->nr_blocks = cdb[4] ? cdb[4] : 256;
	uint64_t bytes = (uint64_t)info->nr_blocks * di->block_size;

	if (check_xfer(di, info->nr_blocks, bytes, 4, res) < 0)
		return -EINVAL;
	if (lba_out_of_range(di, info->lba, info->nr_blocks, res) < 0)
		return -EINVAL;
	if (write && write_protected(di, res) < 0)
		return -EINVAL;
	info->xfer_len = (uint32_t)bytes;
	return 0;
}

static const struct io_layout *layout_for(uint8_t op)
{
	switch (op >> 5) {
	case 1:
	case 2:
		return &layout_10;
	case 5:
		return &layout_12;
	default:
		return &layout_16;
	}
}

/* READ, WRITE, VERIFY and WRITE AND VERIFY 10/12/16. */
static int decode_rw(const struct scsi_dev_info *di, const uint8_t *cdb, struct scsi_cmd_info *info,
		     struct scsi_result *res)
{
	const struct io_layout *l = layout_for(cdb[0]);
	bool write = false;
	uint64_t bytes;

	switch (cdb[0]) {
	case SCSI_READ_10:
	case SCSI_READ_12:
	case SCSI_READ_16:
		info->kind = SCSI_KIND_READ;
		break;
	case SCSI_WRITE_10:
	case SCSI_WRITE_12:
	case SCSI_WRITE_16:
		info->kind = SCSI_KIND_WRITE;
		write = true;
		break;
	case SCSI_VERIFY_10:
	case SCSI_VERIFY_12:
	case SCSI_VERIFY_16:
		info->kind = SCSI_KIND_VERIFY;
		break;
	default:
		info->kind = SCSI_KIND_WRITE_VERIFY;
		write = true;
		break;
	}
	get_lba_len(cdb, l, &info->lba, &info->nr_blocks);

	/* No protection information support: (RD|WR|VR)PROTECT must be 0. */
	if (cdb[1] & CDB1_PROTECT_MASK) {
		scsi_invalid_cdb_field(res, 1, 7);
		return -EINVAL;
	}
	bytes = (uint64_t)info->nr_blocks * di->block_size;
	if (info->kind == SCSI_KIND_VERIFY || info->kind == SCSI_KIND_WRITE_VERIFY) {
		info->bytchk = (cdb[1] & CDB1_BYTCHK_MASK) >> CDB1_BYTCHK_SHIFT;
		/*
		 * BYTCHK 10b is reserved; 11b (compare one block against each block of the
		 * range) exists for VERIFY only.
		 */
		if (info->bytchk == 2 ||
		    (info->bytchk == 3 && info->kind == SCSI_KIND_WRITE_VERIFY)) {
			scsi_invalid_cdb_field(res, 1, 2);
			return -EINVAL;
		}
		if (info->kind == SCSI_KIND_VERIFY) {
			if (info->bytchk == 0)
				bytes = 0;
			else if (info->bytchk == 3)
				bytes = info->nr_blocks ? di->block_size : 0;
		}
	} else {
		info->fua = cdb[1] & CDB1_FUA;
	}
	if (check_xfer(di, info->nr_blocks, bytes, l->len_off, res) < 0)
		return -EINVAL;
	if (lba_out_of_range(di, info->lba, info->nr_blocks, res) < 0)
		return -EINVAL;
	if (write && write_protected(di, res) < 0)
		return -EINVAL;
	info->xfer_len = (uint32_t)bytes;
	return 0;
}

static int decode_sync(const struct scsi_dev_info *di, const uint8_t *cdb,
		       struct scsi_cmd_info *info, struct scsi_result *res)
{
	info->kind = SCSI_KIND_SYNC;
	if (cdb[0] == SCSI_SYNCHRONIZE_CACHE_10)
		get_lba_len(cdb, &layout_10, &info->lba, &info->nr_blocks);
	else
		get_lba_len(cdb, &layout_16, &info->lba, &info->nr_blocks);
	info->immed = cdb[1] & CDB1_SYNC_IMMED;
	/* NUMBER OF LOGICAL BLOCKS 0 means "through the last block". */
	return lba_out_of_range(di, info->lba, info->nr_blocks, res);
}

/* PRE-FETCH 10/16 (SBC-4 5.9): no data transfer, so no transfer length limit. */
static int decode_prefetch(const struct scsi_dev_info *di, const uint8_t *cdb,
			   struct scsi_cmd_info *info, struct scsi_result *res)
{
	info->kind = SCSI_KIND_PREFETCH;
	if (cdb[0] == SCSI_PRE_FETCH_10)
		get_lba_len(cdb, &layout_10, &info->lba, &info->nr_blocks);
	else
		get_lba_len(cdb, &layout_16, &info->lba, &info->nr_blocks);
	info->immed = cdb[1] & CDB1_SYNC_IMMED;
	/* PREFETCH LENGTH 0 means "through the last block". */
	return lba_out_of_range(di, info->lba, info->nr_blocks, res);
}

static int decode_write_same(const struct scsi_dev_info *di, const uint8_t *cdb,
			     struct scsi_cmd_info *info, struct scsi_result *res)
{
	bool is16 = cdb[0] == SCSI_WRITE_SAME_16;
	const struct io_layout *l = is16 ? &layout_16 : &layout_10;

	info->kind = SCSI_KIND_WRITE_SAME;
	get_lba_len(cdb, l, &info->lba, &info->nr_blocks);
	info->unmap = cdb[1] & CDB1_WS_UNMAP;
	info->ndob = is16 && (cdb[1] & CDB1_WS_NDOB);

	if (cdb[1] & CDB1_PROTECT_MASK) {
		scsi_invalid_cdb_field(res, 1, 7);
		return -EINVAL;
	}
	/* Block Limits ANC_SUP = 0: no anchored LBAs. */
	if (cdb[1] & CDB1_WS_ANCHOR) {
		scsi_invalid_cdb_field(res, 1, 4);
		return -EINVAL;
	}
	if (info->unmap && !di->thin) {
		scsi_invalid_cdb_field(res, 1, 3);
		return -EINVAL;
	}
	/* No protection information: LBDATA/PBDATA cannot be honoured. */
	if (cdb[1] & CDB1_WS_PBDATA) {
		scsi_invalid_cdb_field(res, 1, 2);
		return -EINVAL;
	}
	if (cdb[1] & CDB1_WS_LBDATA) {
		scsi_invalid_cdb_field(res, 1, 1);
		return -EINVAL;
	}
	/* Block Limits WSNZ = 1: NUMBER OF LOGICAL BLOCKS 0 is not supported. */
	if (info->nr_blocks == 0 ||
	    (di->max_write_same_blocks && info->nr_blocks > di->max_write_same_blocks)) {
		scsi_invalid_cdb_field(res, l->len_off, -1);
		return -EINVAL;
	}
	if (lba_out_of_range(di, info->lba, info->nr_blocks, res) < 0)
		return -EINVAL;
	if (write_protected(di, res) < 0)
		return -EINVAL;
	info->xfer_len = info->ndob ? 0 : di->block_size;
	return 0;
}

static int decode_caw(const struct scsi_dev_info *di, const uint8_t *cdb,
		      struct scsi_cmd_info *info, struct scsi_result *res)
{
	info->kind = SCSI_KIND_CAW;
	info->lba = scsi_get_be64(&cdb[2]);
	info->nr_blocks = cdb[13];
	info->fua = cdb[1] & CDB1_FUA;

	if (cdb[1] & CDB1_PROTECT_MASK) {
		scsi_invalid_cdb_field(res, 1, 7);
		return -EINVAL;
	}
	/* Verify data followed by write data: 2 * NUMBER OF LOGICAL BLOCKS blocks. */
	uint64_t bytes = 2ULL * info->nr_blocks * di->block_size;

	if (info->nr_blocks > di->max_caw_blocks || bytes > UINT32_MAX) {
		scsi_invalid_cdb_field(res, 13, -1);
		return -EINVAL;
	}
	if (lba_out_of_range(di, info->lba, info->nr_blocks, res) < 0)
		return -EINVAL;
	if (write_protected(di, res) < 0)
		return -EINVAL;
	info->xfer_len = (uint32_t)bytes;
	return 0;
}

static int decode_unmap(const struct scsi_dev_info *di, const uint8_t *cdb,
			struct scsi_cmd_info *info, struct scsi_result *res)
{
	info->kind = SCSI_KIND_UNMAP;
	if (cdb[1] & CDB1_UNMAP_ANCHOR) {
		scsi_invalid_cdb_field(res, 1, 0);
		return -EINVAL;
	}
	if (write_protected(di, res) < 0)
		return -EINVAL;
	info->xfer_len = scsi_get_be16(&cdb[7]);
	return 0;
}

/* Data-in or data-out length of the emulated commands, for the dispatcher's benefit. */
static uint32_t emulated_xfer_len(const uint8_t *cdb)
{
	switch (cdb[0]) {
	case SCSI_REQUEST_SENSE:
	case SCSI_MODE_SELECT_6:
	case SCSI_MODE_SENSE_6:
		return cdb[4];
	case SCSI_INQUIRY:
		return scsi_get_be16(&cdb[3]);
	case SCSI_SEND_DIAGNOSTIC:
		return scsi_get_be16(&cdb[3]);
	case SCSI_READ_CAPACITY_10:
		return 8;
	case SCSI_MODE_SELECT_10:
	case SCSI_MODE_SENSE_10:
		return scsi_get_be16(&cdb[7]);
	case SCSI_SERVICE_ACTION_IN_16:
		return scsi_get_be32(&cdb[10]);
	case SCSI_READ_DEFECT_DATA_10:
		return scsi_get_be16(&cdb[7]);
	case SCSI_MAINTENANCE_IN:
	case SCSI_READ_DEFECT_DATA_12:
		return scsi_get_be32(&cdb[6]);
	default:
		return 0;
	}
}

int scsi_decode(const struct scsi_dev_info *di, const uint8_t *cdb, size_t cdb_len,
		struct scsi_cmd_info *info, struct scsi_result *res)
{
	*info = (struct scsi_cmd_info){ .kind = SCSI_KIND_EMULATE };
	scsi_set_good(res, 0);

	if (!cdb || !cdb_len) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST,
			       SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
		return -EINVAL;
	}

	uint8_t op = cdb[0];
	bool known = scsi_op_is_emulated(op);

	switch (op) {
	case SCSI_READ_6:
	case SCSI_WRITE_6:
	case SCSI_READ_10:
	case SCSI_WRITE_10:
	case SCSI_READ_12:
	case SCSI_WRITE_12:
	case SCSI_READ_16:
	case SCSI_WRITE_16:
	case SCSI_VERIFY_10:
	case SCSI_VERIFY_12:
	case SCSI_VERIFY_16:
	case SCSI_WRITE_VERIFY_10:
	case SCSI_WRITE_VERIFY_12:
	case SCSI_WRITE_VERIFY_16:
	case SCSI_SYNCHRONIZE_CACHE_10:
	case SCSI_SYNCHRONIZE_CACHE_16:
	case SCSI_PRE_FETCH_10:
	case SCSI_PRE_FETCH_16:
	case SCSI_WRITE_SAME_10:
	case SCSI_WRITE_SAME_16:
	case SCSI_COMPARE_AND_WRITE:
		known = true;
		break;
	case SCSI_UNMAP:
		/* Not thin: UNMAP is not supported at all (Block Limits reports no UNMAP). */
		known = di->thin;
		break;
	case SCSI_EXTENDED_COPY:
	case SCSI_RECEIVE_COPY_RESULTS:
		/* 3PC: served by the device layer (tcmu/xcopy.c) when it says so */
		known = di->xcopy;
		break;
	default:
		break;
	}
	if (!known) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST,
			       SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
		return -EINVAL;
	}
	if (scsi_cdb_check(cdb, cdb_len, res) < 0)
		return -EINVAL;

	switch (op) {
	case SCSI_READ_6:
	case SCSI_WRITE_6:
		return decode_rw6(di, cdb, info, res);
	case SCSI_READ_10:
	case SCSI_WRITE_10:
	case SCSI_READ_12:
	case SCSI_WRITE_12:
	case SCSI_READ_16:
	case SCSI_WRITE_16:
	case SCSI_VERIFY_10:
	case SCSI_VERIFY_12:
	case SCSI_VERIFY_16:
	case SCSI_WRITE_VERIFY_10:
	case SCSI_WRITE_VERIFY_12:
	case SCSI_WRITE_VERIFY_16:
		return decode_rw(di, cdb, info, res);
	case SCSI_SYNCHRONIZE_CACHE_10:
	case SCSI_SYNCHRONIZE_CACHE_16:
		return decode_sync(di, cdb, info, res);
	case SCSI_PRE_FETCH_10:
	case SCSI_PRE_FETCH_16:
		return decode_prefetch(di, cdb, info, res);
	case SCSI_WRITE_SAME_10:
	case SCSI_WRITE_SAME_16:
		return decode_write_same(di, cdb, info, res);
	case SCSI_COMPARE_AND_WRITE:
		return decode_caw(di, cdb, info, res);
	case SCSI_UNMAP:
		return decode_unmap(di, cdb, info, res);
	case SCSI_EXTENDED_COPY:
		/* LID1 only (LID4, ROD tokens, is not implemented) */
		if ((cdb[1] & 0x1f) != SCSI_XCOPY_SA_LID1) {
			scsi_invalid_cdb_field(res, 1, 4);
			return -EINVAL;
		}
		info->kind = SCSI_KIND_XCOPY;
		info->xfer_len = scsi_get_be32(&cdb[10]);
		return 0;
	case SCSI_RECEIVE_COPY_RESULTS:
		if ((cdb[1] & 0x1f) != SCSI_RCR_SA_COPY_STATUS &&
		    (cdb[1] & 0x1f) != SCSI_RCR_SA_OPERATING_PARAMETERS) {
			scsi_invalid_cdb_field(res, 1, 4);
			return -EINVAL;
		}
		info->kind = SCSI_KIND_RCR;
		info->xfer_len = scsi_get_be32(&cdb[10]);
		return 0;
	case SCSI_SERVICE_ACTION_IN_16:
		/* GET LBA STATUS: thin devices (LBPME=1) only, SBC-4 5.6 */
		if ((cdb[1] & 0x1f) == SCSI_SAI_GET_LBA_STATUS && di->thin) {
			info->kind = SCSI_KIND_GET_LBA_STATUS;
			info->lba = scsi_get_be64(&cdb[2]);
			info->xfer_len = scsi_get_be32(&cdb[10]);
			if (info->lba >= di->num_lbas) {
				scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST,
					       SCSI_ASC_LBA_OUT_OF_RANGE);
				return -EINVAL;
			}
			return 0;
		}
		if ((cdb[1] & 0x1f) != SCSI_SAI_READ_CAPACITY_16) {
			scsi_invalid_cdb_field(res, 1, 4);
			return -EINVAL;
		}
		break;
	case SCSI_MAINTENANCE_IN:
		if ((cdb[1] & 0x1f) != SCSI_MI_REPORT_SUPPORTED_OPCODES) {
			scsi_invalid_cdb_field(res, 1, 4);
			return -EINVAL;
		}
		break;
	default:
		break;
	}
	info->kind = SCSI_KIND_EMULATE;
	info->xfer_len = emulated_xfer_len(cdb);
	return 0;
}
