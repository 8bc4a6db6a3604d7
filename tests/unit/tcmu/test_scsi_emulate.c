/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * scsi_emulate dispatch and the small emulated commands (tcmu/scsi/emulate.c): TEST UNIT
 * READY, REQUEST SENSE, READ CAPACITY 10/16, START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL,
 * SEND DIAGNOSTIC.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scsi_priv.h"
#include "t_scsi.h"

struct fixture {
	struct scsi_dev_info di;
	struct scsi_state st;
	struct scsi_result res;
	uint8_t buf[1024];
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	t_dev_info(&f.di);
	scsi_state_init(&f.st, &f.di);
	*state = &f;
	return 0;
}

static void run(struct fixture *f, const uint8_t *cdb, size_t len, size_t buflen)
{
	memset(f->buf, 0xcc, sizeof(f->buf));
	t_emulate(&f->di, &f->st, cdb, len, f->buf, buflen, 3, &f->res);
}

static void test_state_init(void **state)
{
	struct fixture *f = *state;
	struct scsi_state st;

	memset(&st, 0xff, sizeof(st));
	f->di.write_cache = false;
	scsi_state_init(&st, &f->di);
	assert_false(st.write_cache);
	assert_false(st.wce_changed);
	f->di.write_cache = true;
	scsi_state_init(&st, &f->di);
	assert_true(st.write_cache);
}

static void test_tur(void **state)
{
	struct fixture *f = *state;
	const uint8_t cdb[6] = { SCSI_TEST_UNIT_READY };

	f->res.status = 0xff;
	run(f, cdb, 6, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 0);
	assert_int_equal(f->buf[0], 0xcc);
}

static void test_request_sense(void **state)
{
	struct fixture *f = *state;
	uint8_t cdb[6] = { SCSI_REQUEST_SENSE, 0, 0, 0, 252, 0 };
	const uint8_t fixed[18] = { 0x70, 0, 0, 0, 0, 0, 0, 10 };
	const uint8_t desc[8] = { 0x72 };

	run(f, cdb, 6, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 18);
	assert_memory_equal(f->buf, fixed, 18);
	assert_int_equal(f->buf[18], 0xcc);

	cdb[1] = 0x01; /* DESC */
	run(f, cdb, 6, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 8);
	assert_memory_equal(f->buf, desc, 8);

	cdb[1] = 0;
	cdb[4] = 3;
	run(f, cdb, 6, sizeof(f->buf));
	assert_int_equal(f->res.data_len, 3);
	assert_int_equal(f->buf[3], 0xcc);
}

static void test_read_capacity_10(void **state)
{
	struct fixture *f = *state;
	const uint8_t cdb[10] = { SCSI_READ_CAPACITY_10 };
	const struct {
		uint64_t lbas;
		uint32_t last;
	} cases[] = {
		{ T_NUM_LBAS, T_NUM_LBAS - 1 },	 { 0xffffffffULL, 0xfffffffeu },
		{ 0x100000000ULL, 0xffffffffu }, /* last LBA FFFFFFFFh: use READ CAPACITY 16 */
		{ 0x100000001ULL, 0xffffffffu }, { UINT64_MAX, 0xffffffffu },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f->di.num_lbas = cases[i].lbas;
		f->di.block_size = 4096;
		run(f, cdb, 10, sizeof(f->buf));
		t_assert_good(&f->res);
		assert_int_equal(f->res.data_len, 8);
		assert_int_equal(scsi_get_be32(&f->buf[0]), cases[i].last);
		assert_int_equal(scsi_get_be32(&f->buf[4]), 4096);
		assert_int_equal(f->buf[8], 0xcc);
	}
	/* Short buffer. */
	run(f, cdb, 10, 6);
	assert_int_equal(f->res.data_len, 6);
	assert_int_equal(f->buf[6], 0xcc);
}

static void test_read_capacity_16(void **state)
{
	struct fixture *f = *state;
	uint8_t cdb[16] = { SCSI_SERVICE_ACTION_IN_16, 0x10, [13] = 32 };

	f->di.num_lbas = 0x123456789ULL;
	run(f, cdb, 16, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 32);
	assert_true(scsi_get_be64(&f->buf[0]) == 0x123456788ULL);
	assert_int_equal(scsi_get_be32(&f->buf[8]), 512);
	assert_int_equal(f->buf[12], 0);
	assert_int_equal(f->buf[13], 0);
	assert_int_equal(f->buf[14], 0xc0); /* LBPME | LBPRZ */
	assert_int_equal(f->buf[15], 0);
	assert_int_equal(f->buf[32], 0xcc);

	f->di.thin = false;
	run(f, cdb, 16, sizeof(f->buf));
	assert_int_equal(f->buf[14], 0);

	/* Allocation length is bytes 10..13. */
	scsi_put_be32(&cdb[10], 12);
	run(f, cdb, 16, sizeof(f->buf));
	assert_int_equal(f->res.data_len, 12);
	assert_int_equal(f->buf[12], 0xcc);
	scsi_put_be32(&cdb[10], 0x10000);
	run(f, cdb, 16, 20);
	assert_int_equal(f->res.data_len, 20);
	scsi_put_be32(&cdb[10], 0);
	run(f, cdb, 16, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 0);

	/* Other SERVICE ACTION IN(16) actions. */
	cdb[1] = 0x12; /* GET LBA STATUS */
	run(f, cdb, 16, sizeof(f->buf));
	t_assert_invalid_cdb(&f->res, 1, 4);
}

static void test_start_stop(void **state)
{
	struct fixture *f = *state;
	const uint8_t byte4[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x10, 0x30, 0xa0 };

	for (size_t i = 0; i < sizeof(byte4); i++) {
		const uint8_t cdb[6] = { SCSI_START_STOP_UNIT, 0x01, 0, 0, byte4[i], 0 };

		run(f, cdb, 6, sizeof(f->buf));
		t_assert_good(&f->res);
		assert_int_equal(f->res.data_len, 0);
	}
}

static void test_prevent_allow(void **state)
{
	struct fixture *f = *state;
	uint8_t cdb[6] = { SCSI_PREVENT_ALLOW_MEDIUM_REMOVAL };

	run(f, cdb, 6, sizeof(f->buf));
	t_assert_good(&f->res);
	for (uint8_t p = 1; p <= 3; p++) {
		cdb[4] = p;
		run(f, cdb, 6, sizeof(f->buf));
		t_assert_invalid_cdb(&f->res, 4, 1);
	}
}

static void test_send_diagnostic(void **state)
{
	struct fixture *f = *state;
	uint8_t cdb[6] = { SCSI_SEND_DIAGNOSTIC, 0x04 };

	run(f, cdb, 6, sizeof(f->buf));
	t_assert_good(&f->res);
	cdb[1] = 0x04 | 0x20; /* SELFTEST with a self-test code */
	run(f, cdb, 6, sizeof(f->buf));
	t_assert_invalid_cdb(&f->res, 1, 7);
	cdb[1] = 0x04;
	cdb[4] = 4; /* parameter list */
	run(f, cdb, 6, sizeof(f->buf));
	t_assert_invalid_cdb(&f->res, 3, -1);
}

/* READ DEFECT DATA 10/12: an empty list in the requested format, PLISTV/GLISTV as asked. */
static void test_read_defect_data(void **state)
{
	struct fixture *f = *state;
	uint8_t cdb10[10] = { SCSI_READ_DEFECT_DATA_10, 0, 0x18 | 0x05, 0, 0, 0, 0, 0, 64, 0 };
	uint8_t cdb12[12] = { SCSI_READ_DEFECT_DATA_12, 0x10 | 0x03, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0 };

	run(f, cdb10, 10, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 4);
	assert_int_equal(f->buf[0], 0);
	assert_int_equal(f->buf[1], 0x1d); /* PLISTV GLISTV, format 101b */
	assert_int_equal(f->buf[2], 0);
	assert_int_equal(f->buf[3], 0);
	assert_int_equal(f->buf[4], 0xcc);
	run(f, cdb12, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 8);
	assert_int_equal(f->buf[1], 0x13); /* PLISTV, format 011b */
	for (int i = 2; i < 8; i++)
		assert_int_equal(f->buf[i], 0);
	/* allocation length truncates */
	cdb10[8] = 2;
	run(f, cdb10, 10, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 2);
	assert_int_equal(f->buf[2], 0xcc);
}

static void rsoc_cdb(uint8_t *cdb, uint8_t opts, uint8_t op, uint16_t sa, uint32_t alloc)
{
	memset(cdb, 0, 12);
	cdb[0] = SCSI_MAINTENANCE_IN;
	cdb[1] = SCSI_MI_REPORT_SUPPORTED_OPCODES;
	cdb[2] = opts;
	cdb[3] = op;
	scsi_put_be16(&cdb[4], sa);
	scsi_put_be32(&cdb[6], alloc);
}

/*
 * REPORT SUPPORTED OPERATION CODES, all commands: every listed command decodes (no INVALID
 * COMMAND OPERATION CODE), its one-command form agrees on the CDB length, and a CDB with
 * every bit outside the usage data set is never refused for a field the usage data hides.
 */
static void test_rsoc_all(void **state)
{
	struct fixture *f = *state;
	uint8_t cdb[12], all[1024];
	size_t n, count = 0;
	bool seen_unmap = false, seen_rc16 = false;

	rsoc_cdb(cdb, 0, 0, 0, sizeof(all));
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	memcpy(all, f->buf, sizeof(all));
	n = scsi_get_be32(all);
	assert_int_equal(f->res.data_len, n + 4);
	assert_int_equal(n % 8, 0);
	for (size_t off = 4; off < n + 4; off += 8) {
		const uint8_t *d = all + off;
		uint8_t op = d[0], one[12], usage_len;
		const uint8_t *usage;
		bool servactv = d[5] & 1;
		uint16_t sa = scsi_get_be16(&d[2]);

		count++;
		assert_int_equal(d[5] & 0x02, 0); /* no RCTD: no timeouts */
		assert_true(scsi_rsoc_lookup(&f->di, op, sa, servactv, &usage_len, &usage));
		assert_int_equal(scsi_get_be16(&d[6]), usage_len);
		assert_int_equal(scsi_cdb_group_len(op), usage_len);
		seen_unmap |= op == SCSI_UNMAP;
		seen_rc16 |= op == SCSI_SERVICE_ACTION_IN_16 && sa == SCSI_SAI_READ_CAPACITY_16;
		/* one command: SUPPORT 011b, same length, usage data with the opcode first */
		rsoc_cdb(one, servactv ? 2 : 1, op, sa, 64);
		run(f, one, 12, sizeof(f->buf));
		t_assert_good(&f->res);
		assert_int_equal(f->buf[1], 0x03);
		assert_int_equal(scsi_get_be16(&f->buf[2]), usage_len);
		assert_int_equal(f->buf[4], op);
		if (servactv)
			assert_int_equal(f->buf[5] & 0x1f, sa);
		assert_int_equal(f->res.data_len, 4 + usage_len);
		/* the opcode is known to the decoder (REPORT LUNS is the kernel's) */
		if (op != SCSI_REPORT_LUNS) {
			struct scsi_cmd_info info;
			struct scsi_result r;
			uint8_t probe[16] = { op };

			if (servactv)
				probe[1] = (uint8_t)sa;
			scsi_decode(&f->di, probe, usage_len, &info, &r);
			assert_false(r.status == RTS_SAM_CHECK_CONDITION && r.sense[12] == 0x20);
		}
	}
	assert_true(count >= 35);
	assert_true(seen_unmap); /* the fixture device is thin */
	assert_true(seen_rc16);
	/* not thin: no UNMAP */
	f->di.thin = false;
	rsoc_cdb(cdb, 0, 0, 0, sizeof(all));
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(scsi_get_be32(f->buf), n - 16); /* no UNMAP, no GET LBA STATUS */
	for (size_t off = 4; off < n - 12; off += 8)
		assert_int_not_equal(f->buf[off], SCSI_UNMAP);
	rsoc_cdb(cdb, 1, SCSI_UNMAP, 0, 64);
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->buf[1], 0x01); /* not supported */
}

/*
 * WRITE ATOMIC(16) (SBC-4 5.48): no handler can promise atomicity (no RWF_ATOMIC on the
 * kernels we run on), so it is not advertised: the Block Limits atomic fields are 0, the
 * opcode is INVALID COMMAND OPERATION CODE and REPORT SUPPORTED OPERATION CODES says
 * "not supported".
 */
static void test_write_atomic_unsupported(void **state)
{
	struct fixture *f = *state;
	uint8_t wa[16] = { 0x9c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0 };
	uint8_t vpd[6] = { SCSI_INQUIRY, 1, 0xb0, 0, 64, 0 }, cdb[12];
	struct scsi_cmd_info info;
	struct scsi_result r;

	assert_int_equal(scsi_decode(&f->di, wa, 16, &info, &r), -EINVAL);
	assert_int_equal(r.sense[2] & 0xf, RTS_SENSE_ILLEGAL_REQUEST);
	assert_int_equal(r.sense[12] << 8 | r.sense[13], SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
	rsoc_cdb(cdb, 1, 0x9c, 0, 64);
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->buf[1] & 0x07, 0x01);
	run(f, vpd, 6, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 64);
	for (int i = 44; i < 64; i++) /* MAXIMUM ATOMIC TRANSFER LENGTH ... BOUNDARY SIZE */
		assert_int_equal(f->buf[i], 0);
}

/* EXTENDED COPY is advertised (3PC, VPD 8Fh, RSOC) exactly when the device layer serves it. */
static void test_xcopy_advertised_when_served(void **state)
{
	struct fixture *f = *state;
	uint8_t inq[6] = { SCSI_INQUIRY, 0, 0, 0, 96, 0 }, vpd8f[6] = { SCSI_INQUIRY, 1, 0x8f, 0, 255, 0 };
	uint8_t xc[16] = { 0x83 }, cdb[12];
	struct scsi_cmd_info info;
	struct scsi_result r;

	f->di.xcopy = false;
	run(f, inq, 6, sizeof(f->buf));
	assert_int_equal(f->buf[5] & 0x08, 0);
	run(f, vpd8f, 6, sizeof(f->buf));
	t_assert_invalid_cdb(&f->res, 2, -1);
	assert_int_equal(scsi_decode(&f->di, xc, 16, &info, &r), -EINVAL);
	assert_int_equal(r.sense[12], 0x20);
	rsoc_cdb(cdb, 2, 0x83, 0, 64);
	run(f, cdb, 12, sizeof(f->buf));
	assert_int_equal(f->buf[1] & 0x07, 0x01);

	f->di.xcopy = true;
	run(f, inq, 6, sizeof(f->buf));
	assert_int_equal(f->buf[5] & 0x08, 0x08);
	run(f, vpd8f, 6, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(scsi_get_be16(&f->buf[2]) + 4, f->res.data_len);
	assert_int_equal(scsi_decode(&f->di, xc, 16, &info, &r), 0);
	assert_int_equal(info.kind, SCSI_KIND_XCOPY);
	xc[1] = 0x01; /* LID4 */
	assert_int_equal(scsi_decode(&f->di, xc, 16, &info, &r), -EINVAL);
	assert_int_equal(r.sense[12], 0x24);
	for (uint16_t sa = 0; sa < 5; sa++) {
		rsoc_cdb(cdb, 2, 0x84, sa, 64);
		run(f, cdb, 12, sizeof(f->buf));
		t_assert_good(&f->res);
		assert_int_equal(f->buf[1] & 0x07, sa == 0 || sa == 3 ? 0x03 : 0x01);
	}
}

static void test_rsoc_one_and_rctd(void **state)
{
	struct fixture *f = *state;
	uint8_t cdb[12];
	static const uint8_t read16[16] = { 0x88, 0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x04 };

	rsoc_cdb(cdb, 0x80 | 1, SCSI_READ_16, 0, 64); /* RCTD */
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 4 + 16 + 12);
	assert_int_equal(f->buf[1], 0x83); /* CTDP, SUPPORT 011b */
	assert_memory_equal(&f->buf[4], read16, 16);
	assert_int_equal(scsi_get_be16(&f->buf[20]), 10); /* timeouts descriptor length */
	assert_int_equal(scsi_get_be32(&f->buf[28]), 30);  /* recommended timeout */
	/* all commands with RCTD: 20-byte descriptors, CTDP set */
	rsoc_cdb(cdb, 0x80, 0, 0, 1024);
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(scsi_get_be32(f->buf) % 20, 0);
	assert_int_equal(f->buf[4 + 5] & 0x02, 0x02);
	assert_int_equal(scsi_get_be16(&f->buf[4 + 8]), 10);
	/* option 001b on a command with service actions, 010b on one without */
	rsoc_cdb(cdb, 1, SCSI_SERVICE_ACTION_IN_16, 0, 64);
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_invalid_cdb(&f->res, 3, -1);
	rsoc_cdb(cdb, 2, SCSI_READ_10, 0, 64);
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_invalid_cdb(&f->res, 3, -1);
	/* 010b with an unknown service action: not supported */
	rsoc_cdb(cdb, 2, SCSI_SERVICE_ACTION_IN_16, 0x1f, 64);
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->buf[1], 0x01);
	assert_int_equal(f->res.data_len, 4);
	/* 011b: READ(10) with SA 0 is supported, with SA 1 not */
	rsoc_cdb(cdb, 3, SCSI_READ_10, 0, 64);
	run(f, cdb, 12, sizeof(f->buf));
	assert_int_equal(f->buf[1], 0x03);
	rsoc_cdb(cdb, 3, SCSI_READ_10, 1, 64);
	run(f, cdb, 12, sizeof(f->buf));
	assert_int_equal(f->buf[1], 0x01);
	/* reserved reporting options, unknown opcode, truncation */
	rsoc_cdb(cdb, 4, SCSI_READ_10, 0, 64);
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_invalid_cdb(&f->res, 2, 2);
	rsoc_cdb(cdb, 1, 0xd3, 0, 64);
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->buf[1], 0x01);
	rsoc_cdb(cdb, 1, SCSI_READ_16, 0, 6);
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 6);
	assert_int_equal(f->buf[6], 0xcc);
	/* another MAINTENANCE IN service action is not ours */
	cdb[1] = 0x0a;
	run(f, cdb, 12, sizeof(f->buf));
	t_assert_invalid_cdb(&f->res, 1, 4);
}

static void test_not_emulated(void **state)
{
	struct fixture *f = *state;
	const uint8_t ops[] = { SCSI_READ_10,	  SCSI_WRITE_16,    SCSI_UNMAP,
				SCSI_FORMAT_UNIT, SCSI_REPORT_LUNS, 0xff };

	for (size_t i = 0; i < sizeof(ops); i++) {
		const uint8_t cdb[16] = { ops[i] };

		run(f, cdb, scsi_cdb_group_len(ops[i]) ? scsi_cdb_group_len(ops[i]) : 16,
		    sizeof(f->buf));
		t_assert_sense_nosks(&f->res, RTS_SENSE_ILLEGAL_REQUEST,
				     SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
	}
	run(f, NULL, 0, sizeof(f->buf));
	t_assert_sense(&f->res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
}

static void test_bad_cdb_length_and_naca(void **state)
{
	struct fixture *f = *state;
	uint8_t cdb[16] = { SCSI_INQUIRY, 0, 0, 0, 36, 0 };

	run(f, cdb, 10, sizeof(f->buf));
	t_assert_sense_nosks(&f->res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	assert_int_equal(f->buf[0], 0xcc);
	run(f, cdb, 5, sizeof(f->buf));
	t_assert_sense_nosks(&f->res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_INVALID_FIELD_IN_CDB);
	cdb[5] = 0x04;
	run(f, cdb, 6, sizeof(f->buf));
	t_assert_invalid_cdb(&f->res, 5, 2);
	/* Link bit and vendor bits of CONTROL are ignored. */
	cdb[5] = 0xc0;
	run(f, cdb, 6, sizeof(f->buf));
	t_assert_good(&f->res);
	assert_int_equal(f->res.data_len, 36);
}

static void test_group_len(void **state)
{
	(void)state;
	assert_int_equal(scsi_cdb_group_len(0x00), 6);
	assert_int_equal(scsi_cdb_group_len(0x1f), 6);
	assert_int_equal(scsi_cdb_group_len(0x28), 10);
	assert_int_equal(scsi_cdb_group_len(0x5a), 10);
	assert_int_equal(scsi_cdb_group_len(0x7f), 0);
	assert_int_equal(scsi_cdb_group_len(0x88), 16);
	assert_int_equal(scsi_cdb_group_len(0xa8), 12);
	assert_int_equal(scsi_cdb_group_len(0xc0), 0);
	assert_int_equal(scsi_cdb_group_len(0xff), 0);
}

/* Patch the allocation length into @cdb, wherever this opcode keeps it. */
static void set_alloc(uint8_t *cdb, uint32_t alloc)
{
	switch (cdb[0]) {
	case SCSI_INQUIRY:
		scsi_put_be16(&cdb[3], (uint16_t)alloc);
		break;
	case SCSI_MODE_SENSE_10:
		scsi_put_be16(&cdb[7], (uint16_t)alloc);
		break;
	case SCSI_SERVICE_ACTION_IN_16:
		scsi_put_be32(&cdb[10], alloc);
		break;
	default: /* REQUEST SENSE, MODE SENSE 6 */
		cdb[4] = (uint8_t)alloc;
		break;
	}
}

/*
 * Every data-in command at every allocation length and buffer size, scattered over 1..6
 * iovecs: exactly min(full, alloc, buffer) bytes go out, equal to the prefix of the full
 * answer, and nothing past them is touched.
 */
static void test_alloc_len_sweep(void **state)
{
	struct fixture *f = *state;
	/* clang-format off */
	static const uint8_t cdbs[][16] = {
		{ SCSI_INQUIRY },
		{ SCSI_INQUIRY, 1, 0x00 }, { SCSI_INQUIRY, 1, 0x80 }, { SCSI_INQUIRY, 1, 0x83 },
		{ SCSI_INQUIRY, 1, 0xb0 }, { SCSI_INQUIRY, 1, 0xb1 }, { SCSI_INQUIRY, 1, 0xb2 },
		{ SCSI_REQUEST_SENSE }, { SCSI_REQUEST_SENSE, 1 },
		{ SCSI_MODE_SENSE_6, 0, 0x3f }, { SCSI_MODE_SENSE_6, 0x08, 0x08 },
		{ SCSI_MODE_SENSE_6, 0, 0x4a },
		{ SCSI_MODE_SENSE_10, 0x10, 0x3f, 0xff }, { SCSI_MODE_SENSE_10, 0, 0x88 },
		{ SCSI_SERVICE_ACTION_IN_16, 0x10 },
	};
	/* clang-format on */
	uint8_t full[256], out[256];

	for (size_t c = 0; c < sizeof(cdbs) / sizeof(cdbs[0]); c++) {
		uint8_t cdb[16];
		size_t len = scsi_cdb_group_len(cdbs[c][0]);
		uint32_t full_len;

		memcpy(cdb, cdbs[c], sizeof(cdb));
		set_alloc(cdb, 255);
		t_emulate(&f->di, &f->st, cdb, len, full, sizeof(full), 1, &f->res);
		t_assert_good(&f->res);
		full_len = f->res.data_len;
		assert_true(full_len > 0 && full_len < 255);

		for (uint32_t alloc = 0; alloc <= full_len + 3; alloc++) {
			for (size_t buflen = 0; buflen <= full_len + 2; buflen += 7) {
				for (size_t chunks = 1; chunks <= 6; chunks++) {
					size_t want = alloc;

					if (want > full_len)
						want = full_len;
					if (want > buflen)
						want = buflen;
					set_alloc(cdb, alloc);
					memset(out, 0xcc, sizeof(out));
					t_emulate(&f->di, &f->st, cdb, len, out, buflen, chunks,
						  &f->res);
					t_assert_good(&f->res);
					assert_int_equal(f->res.data_len, want);
					assert_memory_equal(out, full, want);
					for (size_t i = want; i < sizeof(out); i++)
						assert_int_equal(out[i], 0xcc);
				}
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_state_init, setup),
		cmocka_unit_test_setup(test_tur, setup),
		cmocka_unit_test_setup(test_request_sense, setup),
		cmocka_unit_test_setup(test_read_capacity_10, setup),
		cmocka_unit_test_setup(test_read_capacity_16, setup),
		cmocka_unit_test_setup(test_start_stop, setup),
		cmocka_unit_test_setup(test_prevent_allow, setup),
		cmocka_unit_test_setup(test_send_diagnostic, setup),
		cmocka_unit_test_setup(test_not_emulated, setup),
		cmocka_unit_test_setup(test_bad_cdb_length_and_naca, setup),
		cmocka_unit_test_setup(test_alloc_len_sweep, setup),
		cmocka_unit_test(test_group_len),
		cmocka_unit_test_setup(test_read_defect_data, setup),
		cmocka_unit_test_setup(test_rsoc_all, setup),
		cmocka_unit_test_setup(test_rsoc_one_and_rctd, setup),
		cmocka_unit_test_setup(test_write_atomic_unsupported, setup),
		cmocka_unit_test_setup(test_xcopy_advertised_when_served, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
