/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SCSI block-device emulation (SPC-4 / SBC-3): CDB decoding, sense builders and the
 * commands the runner answers itself (INQUIRY, VPD, READ CAPACITY, MODE SENSE/SELECT, ...).
 *
 * Pure functions: no I/O, no allocation, no globals. Data-in is written into the command's
 * iovecs honouring the allocation length; data-out (MODE SELECT, UNMAP parameter lists) is
 * read from them. Used by the device dispatcher (tcmu/dispatch.c) and fuzzed directly.
 */
#ifndef RTS_TCMU_SCSI_H
#define RTS_TCMU_SCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Fixed-format sense data is 18 bytes; the TCMU sense buffer holds 96. */
#define SCSI_SENSE_LEN 18

/* Operation codes the emulation knows. */
enum scsi_opcode {
	SCSI_TEST_UNIT_READY = 0x00,
	SCSI_REQUEST_SENSE = 0x03,
	SCSI_FORMAT_UNIT = 0x04,
	SCSI_READ_6 = 0x08,
	SCSI_WRITE_6 = 0x0a,
	SCSI_INQUIRY = 0x12,
	SCSI_MODE_SELECT_6 = 0x15,
	SCSI_MODE_SENSE_6 = 0x1a,
	SCSI_START_STOP_UNIT = 0x1b,
	SCSI_SEND_DIAGNOSTIC = 0x1d,
	SCSI_PREVENT_ALLOW_MEDIUM_REMOVAL = 0x1e,
	SCSI_READ_CAPACITY_10 = 0x25,
	SCSI_READ_10 = 0x28,
	SCSI_WRITE_10 = 0x2a,
	SCSI_WRITE_VERIFY_10 = 0x2e,
	SCSI_VERIFY_10 = 0x2f,
	SCSI_PRE_FETCH_10 = 0x34,
	SCSI_SYNCHRONIZE_CACHE_10 = 0x35,
	SCSI_READ_DEFECT_DATA_10 = 0x37,
	SCSI_WRITE_SAME_10 = 0x41,
	SCSI_UNMAP = 0x42,
	SCSI_MODE_SELECT_10 = 0x55,
	SCSI_MODE_SENSE_10 = 0x5a,
	SCSI_EXTENDED_COPY = 0x83,
	SCSI_RECEIVE_COPY_RESULTS = 0x84,
	SCSI_COMPARE_AND_WRITE = 0x89,
	SCSI_READ_16 = 0x88,
	SCSI_WRITE_16 = 0x8a,
	SCSI_WRITE_VERIFY_16 = 0x8e,
	SCSI_VERIFY_16 = 0x8f,
	SCSI_PRE_FETCH_16 = 0x90,
	SCSI_SYNCHRONIZE_CACHE_16 = 0x91,
	SCSI_WRITE_SAME_16 = 0x93,
	SCSI_SERVICE_ACTION_IN_16 = 0x9e,
	SCSI_REPORT_LUNS = 0xa0,
	SCSI_MAINTENANCE_IN = 0xa3,
	SCSI_READ_12 = 0xa8,
	SCSI_WRITE_12 = 0xaa,
	SCSI_WRITE_VERIFY_12 = 0xae,
	SCSI_VERIFY_12 = 0xaf,
	SCSI_READ_DEFECT_DATA_12 = 0xb7,
};
#define SCSI_SAI_READ_CAPACITY_16 0x10
#define SCSI_SAI_GET_LBA_STATUS 0x12
#define SCSI_MI_REPORT_SUPPORTED_OPCODES 0x0c
#define SCSI_XCOPY_SA_LID1 0x00
#define SCSI_RCR_SA_COPY_STATUS 0x00
#define SCSI_RCR_SA_OPERATING_PARAMETERS 0x03

/* Additional sense code / qualifier pairs, as (asc << 8 | ascq). */
enum scsi_asc {
	SCSI_ASC_NO_ADDITIONAL_SENSE = 0x0000,
	SCSI_ASC_OPERATION_IN_PROGRESS = 0x0016,
	SCSI_ASC_LU_NOT_READY_MANUAL_INTERVENTION = 0x0403,
	SCSI_ASC_WRITE_ERROR = 0x0c00,
	SCSI_ASC_UNRECOVERED_READ_ERROR = 0x1100,
	SCSI_ASC_MISCOMPARE_DURING_VERIFY = 0x1d00,
	SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR = 0x1a00,
	SCSI_ASC_INVALID_COMMAND_OPERATION_CODE = 0x2000,
	SCSI_ASC_LBA_OUT_OF_RANGE = 0x2100,
	SCSI_ASC_INVALID_FIELD_IN_CDB = 0x2400,
	SCSI_ASC_INVALID_FIELD_IN_PARAMETER_LIST = 0x2600,
	SCSI_ASC_WRITE_PROTECTED = 0x2700,
	SCSI_ASC_SPACE_ALLOCATION_FAILED_WRITE_PROTECT = 0x2707,
	SCSI_ASC_POWER_ON_RESET = 0x2900,
	SCSI_ASC_MODE_PARAMETERS_CHANGED = 0x2a01,
	SCSI_ASC_CAPACITY_DATA_HAS_CHANGED = 0x2a09,
	SCSI_ASC_SAVING_PARAMETERS_NOT_SUPPORTED = 0x3900,
	SCSI_ASC_INTERNAL_TARGET_FAILURE = 0x4400,
	SCSI_ASC_LU_COMMUNICATION_FAILURE = 0x0800,
	SCSI_ASC_COPY_TARGET_DEVICE_NOT_REACHABLE = 0x0d02,
	SCSI_ASC_TOO_MANY_TARGET_DESCS = 0x2606,
	SCSI_ASC_UNSUPPORTED_TARGET_DESC_TYPE = 0x2607,
	SCSI_ASC_TOO_MANY_SEGMENT_DESCS = 0x2608,
	SCSI_ASC_UNSUPPORTED_SEGMENT_DESC_TYPE = 0x2609,
};

/* What the emulation needs to know about the device (filled by the dispatcher). */
struct scsi_dev_info {
	uint32_t block_size;         /* bytes per logical block (512, 4096, ...) */
	uint64_t num_lbas;           /* capacity in blocks */
	uint32_t max_xfer_blocks;    /* VPD B0h MAXIMUM TRANSFER LENGTH (0: no limit) */
	uint32_t opt_xfer_blocks;    /* VPD B0h OPTIMAL TRANSFER LENGTH (0: not reported) */
	uint32_t max_unmap_blocks;   /* VPD B0h MAXIMUM UNMAP LBA COUNT (0: no limit) */
	uint32_t max_unmap_descs;    /* VPD B0h MAXIMUM UNMAP BLOCK DESCRIPTOR COUNT (0: no max) */
	uint32_t opt_unmap_gran;     /* VPD B0h OPTIMAL UNMAP GRANULARITY (blocks) */
	uint32_t max_write_same_blocks; /* VPD B0h MAXIMUM WRITE SAME LENGTH (0: no limit) */
	uint8_t max_caw_blocks;      /* VPD B0h MAXIMUM COMPARE AND WRITE LENGTH (0: no CAW) */
	bool write_cache;            /* caching page WCE */
	bool read_only;              /* WP bit in mode parameter header; writes -> DATA PROTECT */
	bool thin;                   /* LBPME in READ CAPACITY 16; VPD B2h LBPU/LBPWS/LBPWS10 */
	bool solid_state;            /* VPD B1h MEDIUM ROTATION RATE = 1 */
	char vendor[9];              /* INQUIRY T10 VENDOR IDENTIFICATION, NUL-terminated */
	char product[17];            /* INQUIRY PRODUCT IDENTIFICATION */
	char revision[5];            /* INQUIRY PRODUCT REVISION LEVEL */
	char serial[64];             /* VPD 80h unit serial; also the source of the NAA id */
	uint8_t tpgs;                /* INQUIRY TPGS (ALUA): 0 none, 1 implicit, 2 explicit, 3 both */
	/* VPD 83h target port designators of the port commands arrive on, where known */
	bool port_rtpi_known;        /* relative target port (designator type 4) */
	bool port_group_known;       /* target port group (designator type 5) */
	uint8_t port_proto_id;       /* PROTOCOL IDENTIFIER for them (PIV=1) */
	uint16_t port_rtpi;
	uint16_t port_group;
	bool xcopy;                  /* 3PC: EXTENDED COPY (LID1) served (device layer, xcopy.c) */
};

/* Result of an emulated command. */
struct scsi_result {
	uint8_t status;                 /* RTS_SAM_* */
	uint8_t sense[SCSI_SENSE_LEN];  /* valid when status == CHECK CONDITION */
	uint32_t data_len;              /* bytes of data-in actually written (READ_LEN) */
};

/* How the dispatcher must handle a command (see scsi_decode). */
enum scsi_cmd_kind {
	SCSI_KIND_EMULATE,     /* answer with scsi_emulate() */
	SCSI_KIND_READ,        /* READ 6/10/12/16 */
	SCSI_KIND_WRITE,       /* WRITE 6/10/12/16 */
	SCSI_KIND_WRITE_VERIFY, /* WRITE AND VERIFY 10/12/16 (write, then compare if BYTCHK) */
	SCSI_KIND_VERIFY,      /* VERIFY 10/12/16 */
	SCSI_KIND_SYNC,        /* SYNCHRONIZE CACHE 10/16 */
	SCSI_KIND_UNMAP,       /* UNMAP (parameter list via scsi_unmap_parse) */
	SCSI_KIND_WRITE_SAME,  /* WRITE SAME 10/16 */
	SCSI_KIND_CAW,         /* COMPARE AND WRITE */
	SCSI_KIND_PREFETCH,    /* PRE-FETCH 10/16 (nr_blocks 0: to the last block; immed) */
	SCSI_KIND_GET_LBA_STATUS, /* GET LBA STATUS (lba: STARTING LBA, xfer_len: alloc len) */
	SCSI_KIND_XCOPY,       /* EXTENDED COPY (LID1) (xfer_len: PARAMETER LIST LENGTH) */
	SCSI_KIND_RCR,         /* RECEIVE COPY RESULTS 00h/03h (xfer_len: ALLOCATION LENGTH) */
};

/* A decoded CDB. */
struct scsi_cmd_info {
	enum scsi_cmd_kind kind;
	uint64_t lba;          /* first block (I/O kinds) */
	uint32_t nr_blocks;    /* number of blocks; WRITE SAME 0 is rejected (Block Limits WSNZ=1);
				 * SYNCHRONIZE CACHE 0 means "to the end" (caller) */
	uint32_t xfer_len;     /* expected data-out/in length in bytes, if the CDB defines it */
	bool fua;              /* FUA bit */
	bool unmap;            /* WRITE SAME UNMAP bit */
	bool ndob;             /* WRITE SAME 16 NDOB bit (no data-out buffer, pattern is zero) */
	uint8_t bytchk;        /* VERIFY / WRITE AND VERIFY BYTCHK field */
	bool immed;            /* SYNCHRONIZE CACHE IMMED */
};

/*
 * Decode @cdb. Returns 0 and fills @info for commands the emulation or the dispatcher
 * handles; on an invalid or unknown CDB returns -EINVAL and fills @res with CHECK
 * CONDITION + the right sense (INVALID COMMAND OPERATION CODE, INVALID FIELD IN CDB,
 * LBA OUT OF RANGE for I/O past the end, DATA PROTECT for writes to a read-only device).
 * I/O kinds are range-checked against @di->num_lbas and @di->max_xfer_blocks.
 */
int scsi_decode(const struct scsi_dev_info *di, const uint8_t *cdb, size_t cdb_len,
		struct scsi_cmd_info *info, struct scsi_result *res);

/*
 * Mutable emulation state of one device (MODE SELECT changes, pending sense for REQUEST
 * SENSE). Initialise with scsi_state_init().
 */
struct scsi_state {
	bool write_cache;    /* current WCE (MODE SELECT can change it) */
	bool wce_changed;    /* set when MODE SELECT changed WCE; the dispatcher clears it */
};
void scsi_state_init(struct scsi_state *st, const struct scsi_dev_info *di);

/*
 * Execute an SCSI_KIND_EMULATE command: TEST UNIT READY, REQUEST SENSE, INQUIRY (standard
 * and VPD 00h 80h 83h B0h B1h B2h), READ CAPACITY 10/16, MODE SENSE 6/10 (caching 08h,
 * control 0Ah, all pages 3Fh; current/changeable/default/saved page control), MODE SELECT
 * 6/10 (caching page WCE), START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, READ DEFECT DATA
 * 10/12 (an empty list), REPORT SUPPORTED OPERATION CODES (the table in opcodes.c); REPORT
 * LUNS is never sent by LIO. Data-in goes into @iov (at most the allocation length and the buffer
 * size); data-out is read from @iov. Always fills @res.
 */
void scsi_emulate(const struct scsi_dev_info *di, struct scsi_state *st, const uint8_t *cdb,
		  size_t cdb_len, const struct iovec *iov, size_t iovcnt, struct scsi_result *res);

/* One UNMAP block descriptor. */
struct scsi_unmap_desc {
	uint64_t lba;
	uint32_t nr_blocks;
};

/*
 * Parse and validate an UNMAP parameter list of @len bytes in @iov: header lengths,
 * descriptor count against @max_descs (and di->max_unmap_descs), every range inside the
 * device and against di->max_unmap_blocks. Fills up to @max_descs descriptors.
 * Returns the number of descriptors (0 is valid: nothing to do), or -EINVAL with @res set.
 */
int scsi_unmap_parse(const struct scsi_dev_info *di, const struct iovec *iov, size_t iovcnt,
		     uint32_t len, struct scsi_unmap_desc *descs, size_t max_descs,
		     struct scsi_result *res);

/* EXTENDED COPY (LID1) parameter lists (xcopy.c). Limits reported by OPERATING PARAMETERS. */
#define SCSI_XCOPY_HDR_LEN	 16
#define SCSI_XCOPY_MAX_CSCD	 8
#define SCSI_XCOPY_MAX_SEGS	 16
#define SCSI_XCOPY_MAX_DESC_LIST 1024
#define SCSI_XCOPY_MAX_COPIES	 8   /* concurrent copies whose status is kept per device */
#define SCSI_XCOPY_VPD_LEN	 64  /* VPD 8Fh as scsi_vpd_third_party_copy() builds it */

/* An identification (E4h) CSCD descriptor: the copy target's NAA designator. */
struct scsi_xcopy_cscd {
	uint8_t desig_len;  /* 8 or 16 */
	uint8_t desig[16];
	uint16_t off;       /* byte offset of the descriptor in the parameter list */
};

/* A block-to-block (02h) segment descriptor. */
struct scsi_xcopy_seg {
	uint16_t src, dst;  /* CSCD descriptor IDs (indexes into the CSCD list) */
	uint32_t nr_blocks;
	uint64_t src_lba, dst_lba;
	uint16_t off;       /* byte offset of the descriptor in the parameter list */
};

struct scsi_xcopy {
	uint8_t list_id;
	uint8_t list_id_usage; /* 00b hold results, 10b discard, 11b no list identifier */
	unsigned int ncscd, nsegs;
	struct scsi_xcopy_cscd cscd[SCSI_XCOPY_MAX_CSCD];
	struct scsi_xcopy_seg seg[SCSI_XCOPY_MAX_SEGS];
};

/*
 * Parse and validate an EXTENDED COPY (LID1) parameter list of @len bytes (what the
 * initiator sent, at most the PARAMETER LIST LENGTH; @len > 0). Returns 0 with @x filled or
 * -EINVAL with @res set (the order of checks is at the top of xcopy.c).
 */
int scsi_xcopy_parse(const uint8_t *p, size_t len, struct scsi_xcopy *x, struct scsi_result *res);

/* Status of one EXTENDED COPY for RECEIVE COPY RESULTS COPY STATUS. */
struct scsi_xcopy_status {
	uint8_t state;       /* COPY MANAGER STATUS: 0 in progress, 1 done, 2 done with errors */
	uint16_t segments;   /* SEGMENTS PROCESSED */
	uint64_t bytes;      /* data moved */
};
/* RECEIVE COPY RESULTS data: OPERATING PARAMETERS (<= 64 bytes), COPY STATUS (12 bytes). */
size_t scsi_xcopy_op_params(const struct scsi_dev_info *di, uint8_t *buf);
size_t scsi_xcopy_copy_status(const struct scsi_xcopy_status *st, uint8_t *buf);
/* VPD 8Fh (Third-party Copy) from byte 4 on; returns the page length with its header. */
size_t scsi_vpd_third_party_copy(const struct scsi_dev_info *di, uint8_t *buf);

/* Sense builders: fill @res with CHECK CONDITION and fixed-format sense. */
void scsi_set_sense(struct scsi_result *res, uint8_t key, uint16_t asc_ascq);
/* Same, with the INFORMATION field set (VALID bit), e.g. MISCOMPARE offset. */
void scsi_set_sense_info(struct scsi_result *res, uint8_t key, uint16_t asc_ascq, uint64_t info);
/* Same, with SKSV sense-key-specific field pointer (byte @field, bit @bit, in CDB or param list). */
void scsi_set_sense_field(struct scsi_result *res, uint8_t key, uint16_t asc_ascq, bool in_cdb,
			  uint16_t field, int bit);
void scsi_set_good(struct scsi_result *res, uint32_t data_len);

/* iovec helpers: copy at most @len bytes to/from the iovecs starting at byte @off. */
size_t scsi_iov_copy_to(const struct iovec *iov, size_t iovcnt, size_t off, const void *src,
			size_t len);
size_t scsi_iov_copy_from(const struct iovec *iov, size_t iovcnt, size_t off, void *dst,
			  size_t len);
size_t scsi_iov_length(const struct iovec *iov, size_t iovcnt);

/* Big-endian field helpers. */
static inline uint16_t scsi_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t scsi_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t scsi_get_be64(const uint8_t *p)
{
	return (uint64_t)scsi_get_be32(p) << 32 | scsi_get_be32(p + 4);
}
static inline void scsi_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void scsi_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline void scsi_put_be64(uint8_t *p, uint64_t v)
{
	scsi_put_be32(p, (uint32_t)(v >> 32));
	scsi_put_be32(p + 4, (uint32_t)v);
}

#endif
