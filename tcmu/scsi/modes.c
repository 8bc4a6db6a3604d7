/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MODE SENSE / MODE SELECT 6 and 10 (SPC-4 6.11-6.14, 7.5): the caching page (08h, only
 * WCE is changeable), the control page (0Ah, read-only) and "all pages" (3Fh). Saved
 * values are not supported.
 */
#include <string.h>

#include <rts/tcmu.h>

#include "scsi_priv.h"

#define MS_DBD		 0x08
#define MS_LLBAA	 0x10
#define MSEL_PF		 0x10
#define MSEL_SP		 0x01
#define PC_CURRENT	 0
#define PC_CHANGEABLE	 1
#define PC_DEFAULT	 2
#define PC_SAVED	 3
#define PAGE_CACHING	 0x08
#define PAGE_CONTROL	 0x0a
#define PAGE_ALL	 0x3f
#define SUBPAGE_ALL	 0xff
#define CACHING_LEN	 20
#define CONTROL_LEN	 12
#define CACHING_WCE	 0x04
#define DSP_WP		 0x80
#define DSP_DPOFUA	 0x10
#define PAGE_PS		 0x80
#define PAGE_SPF	 0x40
#define BLOCK_DESC_SHORT 8
#define BLOCK_DESC_LONG	 16

static size_t caching_page(bool wce, int pc, uint8_t *p)
{
	memset(p, 0, CACHING_LEN);
	p[0] = PAGE_CACHING;
	p[1] = CACHING_LEN - 2;
	if (pc == PC_CHANGEABLE)
		p[2] = CACHING_WCE;
	else if (wce)
		p[2] = CACHING_WCE;
	return CACHING_LEN;
}

static size_t control_page(int pc, uint8_t *p)
{
	memset(p, 0, CONTROL_LEN);
	p[0] = PAGE_CONTROL;
	p[1] = CONTROL_LEN - 2;
	if (pc == PC_CHANGEABLE)
		return CONTROL_LEN;
	p[3] = 0x10; /* QUEUE ALGORITHM MODIFIER 1: unrestricted reordering allowed */
	scsi_put_be16(&p[8], 0xffff); /* BUSY TIMEOUT PERIOD: unlimited */
	return CONTROL_LEN;
}

static size_t block_descriptor(const struct scsi_dev_info *di, bool llba, uint8_t *p)
{
	if (llba) {
		memset(p, 0, BLOCK_DESC_LONG);
		scsi_put_be64(&p[0], di->num_lbas);
		scsi_put_be32(&p[12], di->block_size);
		return BLOCK_DESC_LONG;
	}
	memset(p, 0, BLOCK_DESC_SHORT);
	scsi_put_be32(&p[0], di->num_lbas > UINT32_MAX ? UINT32_MAX : (uint32_t)di->num_lbas);
	scsi_put_be24(&p[5], di->block_size);
	return BLOCK_DESC_SHORT;
}

void scsi_emulate_mode_sense(const struct scsi_dev_info *di, const struct scsi_state *st,
			     const uint8_t *cdb, const struct iovec *iov, size_t iovcnt,
			     struct scsi_result *res)
{
	uint8_t buf[SCSI_EMU_BUF_LEN] = { 0 };
	bool ten = cdb[0] == SCSI_MODE_SENSE_10;
	bool dbd = cdb[1] & MS_DBD;
	bool llba = ten && (cdb[1] & MS_LLBAA);
	int pc = cdb[2] >> 6;
	uint8_t page = cdb[2] & 0x3f;
	uint8_t subpage = cdb[3];
	uint32_t alloc_len = ten ? scsi_get_be16(&cdb[7]) : cdb[4];
	size_t hdr = ten ? 8 : 4;
	size_t off = hdr;
	bool wce = pc == PC_DEFAULT ? di->write_cache : st->write_cache;

	if (pc == PC_SAVED) {
		scsi_set_sense_field(res, RTS_SENSE_ILLEGAL_REQUEST,
				     SCSI_ASC_SAVING_PARAMETERS_NOT_SUPPORTED, true, 2, 7);
		return;
	}
	switch (page) {
	case PAGE_CACHING:
	case PAGE_CONTROL:
	case PAGE_ALL:
		break;
	default:
		scsi_invalid_cdb_field(res, 2, 5);
		return;
	}
	/* None of our pages has subpages: only subpage 0 or "all subpages" (FFh). */
	if (subpage != 0 && subpage != SUBPAGE_ALL) {
		scsi_invalid_cdb_field(res, 3, -1);
		return;
	}

	if (!dbd)
		off += block_descriptor(di, llba, &buf[off]);
	size_t bd_len = off - hdr;

	if (page == PAGE_CACHING || page == PAGE_ALL)
		off += caching_page(wce, pc, &buf[off]);
	if (page == PAGE_CONTROL || page == PAGE_ALL)
		off += control_page(pc, &buf[off]);

	/* Mode parameter header: lengths always describe the full data, not the truncation. */
	uint8_t dsp = DSP_DPOFUA | (di->read_only ? DSP_WP : 0);

	if (ten) {
		scsi_put_be16(&buf[0], (uint16_t)(off - 2));
		buf[3] = dsp;
		buf[4] = llba && !dbd ? 0x01 : 0x00; /* LONGLBA */
		scsi_put_be16(&buf[6], (uint16_t)bd_len);
	} else {
		buf[0] = (uint8_t)(off - 1);
		buf[2] = dsp;
		buf[3] = (uint8_t)bd_len;
	}
	scsi_data_in(iov, iovcnt, buf, off, alloc_len, res);
}

static void param_list_length_error(struct scsi_result *res)
{
	scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
}

/*
 * Compare a page sent by MODE SELECT (@p, @len bytes at parameter list offset @base)
 * against the current values @cur, ignoring the bits in @mask. On the first difference,
 * points the sense at it and returns -1.
 */
static int page_diff(const uint8_t *p, const uint8_t *cur, const uint8_t *mask, size_t len,
		     size_t base, struct scsi_result *res)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t d = (uint8_t)((p[i] ^ cur[i]) & ~mask[i]);

		if (!d)
			continue;
		int bit = 7;

		while (!(d & (1u << bit)))
			bit--;
		scsi_invalid_param_field(res, (uint16_t)(base + i), bit);
		return -1;
	}
	return 0;
}

/* Validate the block descriptor sent by MODE SELECT: nothing may change. */
static int check_block_desc(const struct scsi_dev_info *di, const uint8_t *p, bool llba,
			    size_t base, struct scsi_result *res)
{
	uint64_t nblocks;
	uint32_t bs;
	size_t nb_off = 0, bs_off;

	if (llba) {
		nblocks = scsi_get_be64(&p[0]);
		bs_off = 12;
		bs = scsi_get_be32(&p[12]);
	} else {
		nblocks = scsi_get_be32(&p[0]);
		bs_off = 5;
		bs = scsi_get_be24(&p[5]);
		if (p[4]) { /* DENSITY CODE / reserved */
			scsi_invalid_param_field(res, (uint16_t)(base + 4), -1);
			return -1;
		}
	}
	if (bs != di->block_size) {
		scsi_invalid_param_field(res, (uint16_t)(base + bs_off), -1);
		return -1;
	}
	/* NUMBER OF LOGICAL BLOCKS: 0 keeps the capacity; otherwise it must be the current one. */
	uint64_t cur = di->num_lbas;

	if (!llba && cur > UINT32_MAX)
		cur = UINT32_MAX;
	if (nblocks && nblocks != cur) {
		scsi_invalid_param_field(res, (uint16_t)(base + nb_off), -1);
		return -1;
	}
	return 0;
}

void scsi_emulate_mode_select(const struct scsi_dev_info *di, struct scsi_state *st,
			      const uint8_t *cdb, const struct iovec *iov, size_t iovcnt,
			      struct scsi_result *res)
{
	uint8_t buf[SCSI_EMU_BUF_LEN];
	bool ten = cdb[0] == SCSI_MODE_SELECT_10;
	uint32_t plen = ten ? scsi_get_be16(&cdb[7]) : cdb[4];
	size_t hdr = ten ? 8 : 4;
	size_t bd_len, off;
	bool llba = false;
	bool wce = st->write_cache;

	if (!(cdb[1] & MSEL_PF)) {
		scsi_invalid_cdb_field(res, 1, 4);
		return;
	}
	if (cdb[1] & MSEL_SP) {
		scsi_invalid_cdb_field(res, 1, 0);
		return;
	}
	/* SPC-4 6.11: a parameter list length of zero is not an error. */
	if (plen == 0) {
		scsi_set_good(res, 0);
		return;
	}
	if (plen > sizeof(buf)) {
		scsi_invalid_cdb_field(res, ten ? 7 : 4, -1);
		return;
	}
	if (scsi_iov_copy_from(iov, iovcnt, 0, buf, plen) < plen || plen < hdr) {
		param_list_length_error(res);
		return;
	}

	if (ten) {
		if (buf[2]) { /* MEDIUM TYPE */
			scsi_invalid_param_field(res, 2, -1);
			return;
		}
		llba = buf[4] & 0x01;
		bd_len = scsi_get_be16(&buf[6]);
	} else {
		if (buf[1]) {
			scsi_invalid_param_field(res, 1, -1);
			return;
		}
		bd_len = buf[3];
	}
	if (bd_len) {
		size_t want = llba ? BLOCK_DESC_LONG : BLOCK_DESC_SHORT;

		if (bd_len != want) {
			scsi_invalid_param_field(res, ten ? 6 : 3, -1);
			return;
		}
		if (hdr + bd_len > plen) {
			param_list_length_error(res);
			return;
		}
		if (check_block_desc(di, &buf[hdr], llba, hdr, res) < 0)
			return;
	}

	for (off = hdr + bd_len; off < plen;) {
		uint8_t cur[CACHING_LEN];
		uint8_t mask[CACHING_LEN] = { PAGE_PS };
		size_t len;

		if (buf[off] & PAGE_SPF) {
			/* We have no subpages. */
			scsi_invalid_param_field(res, (uint16_t)off, 6);
			return;
		}
		if (off + 2 > plen) {
			param_list_length_error(res);
			return;
		}
		len = (size_t)buf[off + 1] + 2;
		if (off + len > plen) {
			param_list_length_error(res);
			return;
		}
		switch (buf[off] & 0x3f) {
		case PAGE_CACHING:
			if (len != CACHING_LEN) {
				scsi_invalid_param_field(res, (uint16_t)(off + 1), -1);
				return;
			}
			caching_page(st->write_cache, PC_CURRENT, cur);
			mask[2] = CACHING_WCE;
			if (page_diff(&buf[off], cur, mask, len, off, res) < 0)
				return;
			wce = buf[off + 2] & CACHING_WCE;
			break;
		case PAGE_CONTROL:
			if (len != CONTROL_LEN) {
				scsi_invalid_param_field(res, (uint16_t)(off + 1), -1);
				return;
			}
			control_page(PC_CURRENT, cur);
			if (page_diff(&buf[off], cur, mask, len, off, res) < 0)
				return;
			break;
		default:
			scsi_invalid_param_field(res, (uint16_t)off, 5);
			return;
		}
		off += len;
	}

	/* The whole list was valid: apply it. */
	if (wce != st->write_cache) {
		st->write_cache = wce;
		st->wce_changed = true;
	}
	scsi_set_good(res, 0);
}
