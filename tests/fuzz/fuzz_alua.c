/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * REPORT / SET TARGET PORT GROUPS (tcmu/scsi/alua.c) on untrusted bytes: the first 48
 * bytes build a group table and two CDBs, the rest is an STPG parameter list (Data-Out
 * from the initiator). Invariants (abort on violation): RTPG never writes past the
 * allocation length or the buffer and reports GOOD or CHECK CONDITION; an accepted STPG
 * names only existing groups, each once, with a state STPG may set and the group supports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alua.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scsi_alua a = { 0 };
	struct scsi_alua_change ch[SCSI_ALUA_MAX_GROUPS];
	struct scsi_result res;
	uint8_t rtpg_cdb[12], stpg_cdb[12], out[2048];
	struct iovec iov;
	int n;

	if (size < 48)
		return 0;
	a.tpgs = data[0] & 3;
	a.transition_time = data[1];
	a.ngroups = data[2] % (SCSI_ALUA_MAX_GROUPS + 1);
	for (unsigned int i = 0; i < a.ngroups; i++) {
		struct scsi_alua_group *g = &a.groups[i];

		g->id = (uint16_t)(data[3 + i] % 8);
		g->state = data[19 + i % 4] & 0x0f;
		g->supported = data[23 + i % 4];
		g->nports = (uint8_t)(data[27 + i % 4] % (SCSI_ALUA_MAX_PORTS + 1));
		for (unsigned int p = 0; p < g->nports; p++)
			g->rel_port_ids[p] = (uint16_t)(i * 16 + p);
	}
	memcpy(rtpg_cdb, data + 31, sizeof(rtpg_cdb));
	rtpg_cdb[0] = SCSI_MAINTENANCE_IN;
	memcpy(stpg_cdb, data + 36, sizeof(stpg_cdb));
	stpg_cdb[0] = SCSI_MAINTENANCE_OUT;

	memset(out, 0xa5, sizeof(out));
	iov = (struct iovec){ out, 1024 };
	scsi_alua_rtpg(&a, rtpg_cdb, sizeof(rtpg_cdb), &iov, 1, &res);
	if (res.status != RTS_SAM_GOOD && res.status != RTS_SAM_CHECK_CONDITION)
		abort();
	if (res.status == RTS_SAM_GOOD && res.data_len > scsi_get_be32(&rtpg_cdb[6]))
		abort();
	for (size_t i = 1024; i < sizeof(out); i++)
		if (out[i] != 0xa5)
			abort();

	iov = (struct iovec){ (void *)(data + 48), size - 48 };
	n = scsi_alua_stpg_parse(&a, stpg_cdb, sizeof(stpg_cdb), &iov, 1, size - 48, ch,
				 SCSI_ALUA_MAX_GROUPS, &res);
	if (n < 0) {
		if (res.status != RTS_SAM_CHECK_CONDITION)
			abort();
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (ch[i].group >= a.ngroups || ch[i].state > SCSI_ALUA_UNAVAILABLE ||
		    !(a.groups[ch[i].group].supported & (1u << ch[i].state)))
			abort();
		for (int k = 0; k < i; k++)
			if (ch[k].group == ch[i].group)
				abort();
	}
	scsi_alua_apply(&a, ch, (unsigned int)n);
	return 0;
}
