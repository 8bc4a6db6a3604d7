/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* REPORT / SET TARGET PORT GROUPS (SPC-4 6.37, 6.45) from a table of groups; see alua.h. */
#include <string.h>

#include <rts/tcmu.h>

#include "alua.h"
#include "scsi_priv.h"

#define RTPG_FMT_LENGTH	  0x0
#define RTPG_FMT_EXTENDED 0x1
#define RTPG_MAX_LEN	  (8 + SCSI_ALUA_MAX_GROUPS * (8 + 4 * SCSI_ALUA_MAX_PORTS))
#define STPG_DESC_LEN	  4
#define STPG_HDR_LEN	  4

int scsi_alua_find(const struct scsi_alua *a, uint16_t id)
{
	for (unsigned int i = 0; i < a->ngroups && i < SCSI_ALUA_MAX_GROUPS; i++)
		if (a->groups[i].id == id)
			return (int)i;
	return -1;
}

void scsi_alua_rtpg(const struct scsi_alua *a, const uint8_t *cdb, size_t cdb_len,
		    const struct iovec *iov, size_t iovcnt, struct scsi_result *res)
{
	uint8_t buf[RTPG_MAX_LEN];
	uint8_t fmt = cdb[1] >> 5;
	size_t off;

	if (scsi_cdb_check(cdb, cdb_len, res) < 0)
		return;
	if (a->tpgs == SCSI_TPGS_NONE) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST,
			       SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
		return;
	}
	if (fmt != RTPG_FMT_LENGTH && fmt != RTPG_FMT_EXTENDED) {
		scsi_invalid_cdb_field(res, 1, 7);
		return;
	}
	memset(buf, 0, sizeof(buf));
	off = 4;
	if (fmt == RTPG_FMT_EXTENDED) {
		buf[4] = RTPG_FMT_EXTENDED << 4;
		buf[5] = a->transition_time;
		off = 8;
	}
	for (unsigned int i = 0; i < a->ngroups && i < SCSI_ALUA_MAX_GROUPS; i++) {
		const struct scsi_alua_group *g = &a->groups[i];
		unsigned int np = g->nports < SCSI_ALUA_MAX_PORTS ? g->nports : SCSI_ALUA_MAX_PORTS;

		buf[off] = (uint8_t)((g->preferred ? 0x80 : 0) | (g->state & 0x0f));
		buf[off + 1] = g->supported;
		scsi_put_be16(&buf[off + 2], g->id);
		buf[off + 5] = g->status;
		buf[off + 7] = (uint8_t)np;
		off += 8;
		for (unsigned int p = 0; p < np; p++, off += 4)
			scsi_put_be16(&buf[off + 2], g->rel_port_ids[p]);
	}
	/* RETURN DATA LENGTH: the bytes after the field itself. */
	scsi_put_be32(buf, (uint32_t)(off - 4));
	scsi_data_in(iov, iovcnt, buf, off, scsi_get_be32(&cdb[6]), res);
}

static bool stpg_state_ok(uint8_t state, uint8_t supported)
{
	switch (state) {
	case SCSI_ALUA_ACTIVE_OPTIMIZED:
		return supported & SCSI_ALUA_SUP_AO;
	case SCSI_ALUA_ACTIVE_NON_OPTIMIZED:
		return supported & SCSI_ALUA_SUP_AN;
	case SCSI_ALUA_STANDBY:
		return supported & SCSI_ALUA_SUP_S;
	case SCSI_ALUA_UNAVAILABLE:
		return supported & SCSI_ALUA_SUP_U;
	default:
		/* LBA dependent, offline and transitioning cannot be requested (SPC-4 6.45). */
		return false;
	}
}

int scsi_alua_stpg_parse(const struct scsi_alua *a, const uint8_t *cdb, size_t cdb_len,
			 const struct iovec *iov, size_t iovcnt, uint64_t param_len,
			 struct scsi_alua_change *changes, unsigned int max,
			 struct scsi_result *res)
{
	uint32_t len;
	unsigned int n = 0;

	if (scsi_cdb_check(cdb, cdb_len, res) < 0)
		return -1;
	if (!(a->tpgs & SCSI_TPGS_EXPLICIT)) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST,
			       SCSI_ASC_INVALID_COMMAND_OPERATION_CODE);
		return -1;
	}
	len = scsi_get_be32(&cdb[6]);
	if (len == 0) {
		scsi_set_good(res, 0);
		return 0;
	}
	if (len < STPG_HDR_LEN || (len - STPG_HDR_LEN) % STPG_DESC_LEN || len > param_len) {
		scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST, SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
		return -1;
	}
	for (uint32_t off = STPG_HDR_LEN; off < len; off += STPG_DESC_LEN) {
		uint8_t d[STPG_DESC_LEN];
		int gi;

		if (scsi_iov_copy_from(iov, iovcnt, off, d, sizeof(d)) != sizeof(d)) {
			scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST,
				       SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
			return -1;
		}
		gi = scsi_alua_find(a, scsi_get_be16(&d[2]));
		if (gi < 0) {
			scsi_invalid_param_field(res, (uint16_t)(off + 2), -1);
			return -1;
		}
		if (!stpg_state_ok(d[0] & 0x0f, a->groups[gi].supported)) {
			scsi_invalid_param_field(res, (uint16_t)off, 3);
			return -1;
		}
		for (unsigned int k = 0; k < n; k++)
			if (changes[k].group == gi) {
				scsi_invalid_param_field(res, (uint16_t)(off + 2), -1);
				return -1;
			}
		if (n >= max) {
			scsi_set_sense(res, RTS_SENSE_ILLEGAL_REQUEST,
				       SCSI_ASC_PARAMETER_LIST_LENGTH_ERROR);
			return -1;
		}
		changes[n].group = (uint8_t)gi;
		changes[n].state = d[0] & 0x0f;
		n++;
	}
	scsi_set_good(res, 0);
	return (int)n;
}

void scsi_alua_apply(struct scsi_alua *a, const struct scsi_alua_change *changes,
		     unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (changes[i].group >= a->ngroups)
			continue;
		a->groups[changes[i].group].state = changes[i].state;
		a->groups[changes[i].group].status = SCSI_ALUA_STATUS_ALTERED_BY_STPG;
	}
}
