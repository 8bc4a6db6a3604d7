/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A device's target port groups: REPORT / SET TARGET PORT GROUPS answered from them
 * (tcmu/scsi/alua.c), INQUIRY TPGS, and the API a runner or handler sets them with.
 * The kernel passes RTPG, STPG and INQUIRY of TCMU devices through to userspace and, with
 * the default alua_support, enforces the configfs access state on every command itself.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dev.h"
#include "macro.h"
#include "scsi/alua.h"

#define ALUA_SUP_DEFAULT \
	(SCSI_ALUA_SUP_AO | SCSI_ALUA_SUP_AN | SCSI_ALUA_SUP_S | SCSI_ALUA_SUP_U | SCSI_ALUA_SUP_T)

void dev_alua_free(struct rts_dev *dev)
{
	free(dev->alua);
	dev->alua = NULL;
}

RTS_EXPORT int rts_dev_set_alua(struct rts_dev *dev, unsigned int tpgs,
				const struct rts_alua_group *groups, unsigned int n)
{
	struct scsi_alua *a;

	if (!dev || n > RTS_ALUA_MAX_GROUPS || tpgs > 3 || (n && !groups))
		return -EINVAL;
	if (!tpgs || !n) {
		dev_alua_free(dev);
		dev->di.tpgs = 0;
		return 0;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->tpgs = (uint8_t)tpgs;
	a->ngroups = (uint8_t)n;
	for (unsigned int i = 0; i < n; i++) {
		const struct rts_alua_group *g = &groups[i];

		if (g->nports > RTS_ALUA_MAX_PORTS || scsi_alua_find(a, g->id) >= 0) {
			a->ngroups = 0;
			free(a);
			return -EINVAL;
		}
		a->groups[i] = (struct scsi_alua_group){
			.id = g->id,
			.state = g->state & 0x0f,
			.supported = g->supported ? g->supported : ALUA_SUP_DEFAULT,
			.preferred = g->preferred,
			.nports = g->nports,
		};
		memcpy(a->groups[i].rel_port_ids, g->rel_port_ids,
		       g->nports * sizeof(g->rel_port_ids[0]));
		/* find() must see the groups set so far only */
		a->ngroups = (uint8_t)(i + 1);
	}
	a->ngroups = (uint8_t)n;
	dev_alua_free(dev);
	dev->alua = a;
	dev->di.tpgs = (uint8_t)tpgs;
	return 0;
}

RTS_EXPORT int rts_dev_set_alua_state(struct rts_dev *dev, uint16_t id, uint8_t state)
{
	int i = dev && dev->alua ? scsi_alua_find(dev->alua, id) : -1;

	if (i < 0)
		return -ENOENT;
	dev->alua->groups[i].state = state & 0x0f;
	dev->alua->groups[i].status = SCSI_ALUA_STATUS_ALTERED_IMPLICITLY;
	return 0;
}

RTS_EXPORT int rts_dev_get_alua_state(const struct rts_dev *dev, uint16_t id)
{
	int i = dev && dev->alua ? scsi_alua_find(dev->alua, id) : -1;

	return i < 0 ? -ENOENT : dev->alua->groups[i].state;
}

static void finish(struct rts_cmd *cmd, const struct scsi_result *res)
{
	dev_cmd_finish(cmd, res->status, res->sense, sizeof(res->sense),
		       res->status == RTS_SAM_GOOD ? (int64_t)res->data_len : -1);
}

/* The handler finished its transitions: record them (kept in the bounce buffer). */
static void step_stpg(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = cmd->dev;
	const struct scsi_alua_change *ch = (const struct scsi_alua_change *)(void *)cmd->bounce;

	cmd->step = NULL;
	if (err) {
		rts_cmd_complete(cmd, err);
		return;
	}
	if (dev->alua)
		scsi_alua_apply(dev->alua, ch, cmd->count);
	dev_cmd_finish(cmd, RTS_SAM_GOOD, NULL, 0, -1);
}

static void do_stpg(struct rts_cmd *cmd)
{
	struct rts_dev *dev = cmd->dev;
	struct scsi_alua_change ch[SCSI_ALUA_MAX_GROUPS];
	struct rts_alua_change pub[SCSI_ALUA_MAX_GROUPS];
	struct scsi_result res;
	int n, r;

	n = scsi_alua_stpg_parse(dev->alua, cmd->cdb, cmd->cdb_len, cmd->iov, cmd->iovcnt,
				 cmd->data_len, ch, SCSI_ALUA_MAX_GROUPS, &res);
	if (n <= 0 || !dev->h->set_alua) {
		if (n > 0)
			scsi_alua_apply(dev->alua, ch, (unsigned int)n);
		finish(cmd, &res);
		return;
	}
	r = dev_bounce(cmd, sizeof(ch));
	if (r < 0) {
		rts_cmd_complete(cmd, r);
		return;
	}
	memcpy(cmd->bounce, ch, sizeof(ch));
	cmd->count = (uint32_t)n;
	for (int i = 0; i < n; i++)
		pub[i] = (struct rts_alua_change){ .id = dev->alua->groups[ch[i].group].id,
						   .state = ch[i].state };
	/* a handler operation like any other: its completion runs step_stpg, and
	 * dev_op_end() checks the contract (a -errno without completing ends the command) */
	cmd->step = step_stpg;
	uint32_t t = dev_op_begin(cmd, "set_alua");
	dev_op_end(cmd, t, "set_alua", dev->h->set_alua(dev, cmd, pub, (unsigned int)n));
}

bool dispatch_alua(struct rts_cmd *cmd)
{
	struct scsi_result res;
	const uint8_t *cdb = cmd->cdb;

	if ((cdb[1] & 0x1f) != SCSI_SA_RTPG ||
	    (cdb[0] != SCSI_MAINTENANCE_IN && cdb[0] != SCSI_MAINTENANCE_OUT))
		return false;
	if (cdb[0] == SCSI_MAINTENANCE_IN) {
		scsi_alua_rtpg(cmd->dev->alua, cdb, cmd->cdb_len, cmd->iov, cmd->iovcnt, &res);
		finish(cmd, &res);
	} else {
		do_stpg(cmd);
	}
	return true;
}
