/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * INQUIRY (SPC-4 6.6): standard data and the VPD pages a thin-provisioning-aware block
 * device reports: 00h supported pages, 80h unit serial, 83h device identification,
 * B0h block limits, B1h block device characteristics, B2h logical block provisioning.
 */
#include <string.h>

#include <rts/tcmu.h>

#include "scsi_priv.h"

#define INQ_EVPD	   0x01
#define INQ_CMDDT	   0x02
#define INQ_VERSION_SPC4   0x06
#define INQ_HISUP	   0x10
#define INQ_RESP_FORMAT	   0x02
#define INQ_CMDQUE	   0x02
#define INQ_STD_LEN	   74 /* through 3 version descriptors (bytes 58..63) + reserved */
#define VPD_SUPPORTED	   0x00
#define VPD_UNIT_SERIAL	   0x80
#define VPD_DEVICE_ID	   0x83
#define VPD_THIRD_PARTY_COPY 0x8f
#define INQ_3PC		   0x08
#define VPD_BLOCK_LIMITS   0xb0
#define VPD_BLOCK_DEV_CHAR 0xb1
#define VPD_LB_PROVISION   0xb2

/* IEEE company ID LIO uses for its NAA designators (OpenFabrics, 00-14-05). */
#define LIO_OUI 0x001405

static size_t serial_len(const struct scsi_dev_info *di)
{
	const char *end = memchr(di->serial, '\0', sizeof(di->serial));

	return end ? (size_t)(end - di->serial) : sizeof(di->serial);
}

static size_t inquiry_std(const struct scsi_dev_info *di, uint8_t *buf)
{
	/* Version descriptors: SAM-5, SPC-4, SBC-3 (SPC-4 table 147). */
	static const uint16_t versions[] = { 0x00a0, 0x0460, 0x04c0 };

	buf[0] = 0x00; /* peripheral qualifier 0, direct-access block device */
	buf[2] = INQ_VERSION_SPC4;
	buf[3] = INQ_HISUP | INQ_RESP_FORMAT;
	buf[4] = INQ_STD_LEN - 5;
	buf[5] = (uint8_t)((di->tpgs & 3) << 4); /* TPGS */
	if (di->xcopy)
		buf[5] |= INQ_3PC;
	buf[7] = INQ_CMDQUE;
	scsi_put_ascii(&buf[8], 8, di->vendor, sizeof(di->vendor));
	scsi_put_ascii(&buf[16], 16, di->product, sizeof(di->product));
	scsi_put_ascii(&buf[32], 4, di->revision, sizeof(di->revision));
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		scsi_put_be16(&buf[58 + 2 * i], versions[i]);
	return INQ_STD_LEN;
}

static size_t vpd_supported(const struct scsi_dev_info *di, uint8_t *buf)
{
	static const uint8_t pages[] = { VPD_SUPPORTED,	   VPD_UNIT_SERIAL,    VPD_DEVICE_ID,
					 VPD_BLOCK_LIMITS, VPD_BLOCK_DEV_CHAR, VPD_LB_PROVISION };
	size_t n = 4;

	/* ascending order (SPC-4 7.8.14); 8Fh goes after 83h when EXTENDED COPY is served */
	for (size_t i = 0; i < sizeof(pages); i++) {
		buf[n++] = pages[i];
		if (pages[i] == VPD_DEVICE_ID && di->xcopy)
			buf[n++] = VPD_THIRD_PARTY_COPY;
	}
	return n;
}

static size_t vpd_unit_serial(const struct scsi_dev_info *di, uint8_t *buf)
{
	size_t n = serial_len(di);

	scsi_put_ascii(&buf[4], n, di->serial, n);
	return 4 + n;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * NAA IEEE Registered Extended designator body (16 bytes), exactly as LIO's
 * spc_parse_naa_6h_vendor_specific(): NAA 6, OUI 00-14-05, then up to 25 hex digits of
 * the unit serial (non-hex characters skipped) starting at byte 3 bits 3..0.
 */
static void naa_6h(const struct scsi_dev_info *di, uint8_t *p)
{
	size_t n = serial_len(di);
	size_t cnt = 0;
	bool next = true;

	memset(p, 0, 16);
	p[0] = 0x60 | ((LIO_OUI >> 20) & 0x0f);
	p[1] = (uint8_t)(LIO_OUI >> 12);
	p[2] = (uint8_t)(LIO_OUI >> 4);
	p[3] = (uint8_t)((LIO_OUI & 0x0f) << 4);
	for (size_t i = 0; i < n && cnt < 13; i++) {
		int v = hex_val(di->serial[i]);

		if (v < 0)
			continue;
		if (next) {
			p[3 + cnt++] |= (uint8_t)v;
			next = false;
		} else {
			p[3 + cnt] = (uint8_t)(v << 4);
			next = true;
		}
	}
}

static size_t vpd_device_id(const struct scsi_dev_info *di, uint8_t *buf)
{
	size_t off = 4;
	size_t n = serial_len(di);

	/* NAA designator: code set binary, association LU, type 3 (NAA), 16 bytes. */
	buf[off] = 0x01;
	buf[off + 1] = 0x03;
	buf[off + 3] = 16;
	naa_6h(di, &buf[off + 4]);
	off += 4 + 16;

	/* T10 vendor ID designator: code set ASCII, association LU, type 1. */
	buf[off] = 0x02;
	buf[off + 1] = 0x01;
	buf[off + 3] = (uint8_t)(8 + n);
	scsi_put_ascii(&buf[off + 4], 8, di->vendor, sizeof(di->vendor));
	scsi_put_ascii(&buf[off + 12], n, di->serial, n);
	off += 4 + 8 + n;

	/*
	 * Target port designators, as LIO's spc_emulate_evpd_83(): protocol identifier with
	 * PIV, code set binary, association target port, 4 bytes. Only where the runner knows
	 * the port (TCMU does not say which one a command came in on; see alua_cfs.c).
	 */
	if (di->port_rtpi_known) {
		buf[off] = (uint8_t)(di->port_proto_id << 4 | 0x01);
		buf[off + 1] = 0x80 | 0x10 | 0x04; /* PIV, target port, relative target port */
		buf[off + 3] = 4;
		scsi_put_be16(&buf[off + 6], di->port_rtpi);
		off += 8;
	}
	if (di->port_group_known) {
		buf[off] = (uint8_t)(di->port_proto_id << 4 | 0x01);
		buf[off + 1] = 0x80 | 0x10 | 0x05; /* PIV, target port, target port group */
		buf[off + 3] = 4;
		scsi_put_be16(&buf[off + 6], di->port_group);
		off += 8;
	}
	return off;
}

static size_t vpd_block_limits(const struct scsi_dev_info *di, uint8_t *buf)
{
	buf[4] = 0x01; /* WSNZ: WRITE SAME with 0 blocks is rejected */
	buf[5] = di->max_caw_blocks;
	scsi_put_be32(&buf[8], di->max_xfer_blocks);
	scsi_put_be32(&buf[12], di->opt_xfer_blocks);
	if (di->thin) {
		/* 0 in scsi_dev_info means "no limit", which the page spells FFFFFFFFh. */
		scsi_put_be32(&buf[20], di->max_unmap_blocks ? di->max_unmap_blocks : UINT32_MAX);
		scsi_put_be32(&buf[24], di->max_unmap_descs ? di->max_unmap_descs : UINT32_MAX);
		scsi_put_be32(&buf[28], di->opt_unmap_gran);
	}
	scsi_put_be64(&buf[36], di->max_write_same_blocks);
	return 64;
}

static size_t vpd_block_dev_char(const struct scsi_dev_info *di, uint8_t *buf)
{
	scsi_put_be16(&buf[4], di->solid_state ? 1 : 0);
	return 64;
}

static size_t vpd_lb_provisioning(const struct scsi_dev_info *di, uint8_t *buf)
{
	if (di->thin) {
		/* LBPU | LBPWS | LBPWS10 | LBPRZ (as READ CAPACITY 16), type 2 = thin. */
		buf[5] = 0x80 | 0x40 | 0x20 | 0x04;
		buf[6] = 0x02;
	}
	return 8;
}

void scsi_emulate_inquiry(const struct scsi_dev_info *di, const uint8_t *cdb,
			  const struct iovec *iov, size_t iovcnt, struct scsi_result *res)
{
	uint8_t buf[SCSI_EMU_BUF_LEN] = { 0 };
	uint32_t alloc_len = scsi_get_be16(&cdb[3]);
	uint8_t page = cdb[2];
	size_t len;

	if (cdb[1] & INQ_CMDDT) {
		scsi_invalid_cdb_field(res, 1, 1);
		return;
	}
	if (!(cdb[1] & INQ_EVPD)) {
		if (page) {
			scsi_invalid_cdb_field(res, 2, -1);
			return;
		}
		len = inquiry_std(di, buf);
		scsi_data_in(iov, iovcnt, buf, len, alloc_len, res);
		return;
	}

	switch (page) {
	case VPD_SUPPORTED:
		len = vpd_supported(di, buf);
		break;
	case VPD_UNIT_SERIAL:
		len = vpd_unit_serial(di, buf);
		break;
	case VPD_DEVICE_ID:
		len = vpd_device_id(di, buf);
		break;
	case VPD_THIRD_PARTY_COPY:
		if (!di->xcopy) {
			scsi_invalid_cdb_field(res, 2, -1);
			return;
		}
		len = scsi_vpd_third_party_copy(di, buf);
		break;
	case VPD_BLOCK_LIMITS:
		len = vpd_block_limits(di, buf);
		break;
	case VPD_BLOCK_DEV_CHAR:
		len = vpd_block_dev_char(di, buf);
		break;
	case VPD_LB_PROVISION:
		len = vpd_lb_provisioning(di, buf);
		break;
	default:
		scsi_invalid_cdb_field(res, 2, -1);
		return;
	}
	buf[0] = 0x00; /* peripheral qualifier / device type */
	buf[1] = page;
	scsi_put_be16(&buf[2], (uint16_t)(len - 4));
	scsi_data_in(iov, iovcnt, buf, len, alloc_len, res);
}
