/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A device's target port groups: REPORT / SET TARGET PORT GROUPS answered from them
 * (tcmu/scsi/alua.c), INQUIRY TPGS, and the API a runner or handler sets them with.
 * The kernel passes RTPG, STPG and INQUIRY of TCMU devices through to userspace and, with
 * the default alua_support, enforces the configfs access state on every command itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rts/uio.h>

#include "alua_cfs.h"
#include "dev.h"
#include "macro.h"
#include "scsi/alua.h"
#include "scsi/scsi_priv.h"

#define ALUA_SUP_DEFAULT \
	(SCSI_ALUA_SUP_AO | SCSI_ALUA_SUP_AN | SCSI_ALUA_SUP_S | SCSI_ALUA_SUP_U | SCSI_ALUA_SUP_T)

static void free_table(struct rts_dev *dev)
{
	free(dev->alua);
	dev->alua = NULL;
}

void dev_alua_free(struct rts_dev *dev)
{
	free_table(dev);
	free(dev->alua_cfs);
	dev->alua_cfs = NULL;
}

/*
 * Read the groups from configfs again (an administrator may change states, groups and
 * LUNs at any time, and the kernel tells us nothing): at open, and on the I/O thread for
 * every INQUIRY, REPORT and SET TARGET PORT GROUPS. A failed read keeps what we had.
 */
static int alua_refresh(struct rts_dev *dev)
{
	struct alua_cfs *c = dev->alua_cfs;
	struct scsi_alua a;
	int n = alua_cfs_read(c, &a);

	if (n < 0) {
		rts_dev_log(dev, RTS_LOG_DEBUG, "cannot read ALUA groups in %s: %s", c->alua_dir,
			    strerror(-n));
		return n;
	}
	if (n == 0 || !a.tpgs) {
		free_table(dev);
	} else {
		if (!dev->alua) {
			dev->alua = malloc(sizeof(*dev->alua));
			if (!dev->alua)
				return -ENOMEM;
		}
		*dev->alua = a;
	}
	dev->di.tpgs = dev->alua ? a.tpgs : 0;
	dev->di.port_rtpi_known = c->port.has_port;
	dev->di.port_group_known = c->port.has_group;
	dev->di.port_rtpi = c->port.rtpi;
	dev->di.port_group = c->port.group;
	dev->di.port_proto_id = c->port.proto_id;
	return n;
}

RTS_EXPORT int rts_tcmu_use_alua(const char *configfs, const struct rts_tcmu_info *info,
				 struct rts_dev *dev)
{
	struct alua_cfs *c;
	int n;

	assert_return(configfs && info && dev, -EINVAL);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if ((size_t)snprintf(c->target_dir, sizeof(c->target_dir), "%s/target", configfs) >=
		    sizeof(c->target_dir) ||
	    rts_tcmu_dev_path(configfs, info, "alua", c->alua_dir, sizeof(c->alua_dir)) < 0) {
		free(c);
		return -ENAMETOOLONG;
	}
	dev_alua_free(dev);
	dev->alua_cfs = c;
	n = alua_refresh(dev);
	if (n < 0) {
		dev_alua_free(dev);
		dev->di.tpgs = 0;
	}
	return n;
}

RTS_EXPORT unsigned int rts_dev_get_alua_groups(const struct rts_dev *dev, uint16_t *ids,
					       unsigned int max)
{
	unsigned int n = dev && dev->alua ? dev->alua->ngroups : 0;

	for (unsigned int i = 0; ids && i < n && i < max; i++)
		ids[i] = dev->alua->groups[i].id;
	return n;
}

RTS_EXPORT int rts_dev_get_alua_port_group(const struct rts_dev *dev)
{
	if (!dev || !dev->di.port_group_known)
		return -ENOENT;
	return dev->di.port_group;
}

RTS_EXPORT int rts_dev_set_alua(struct rts_dev *dev, unsigned int tpgs,
				const struct rts_alua_group *groups, unsigned int n)
{
	struct scsi_alua *a;

	if (!dev || n > RTS_ALUA_MAX_GROUPS || tpgs > 3 || (n && !groups))
		return -EINVAL;
	if (!tpgs || !n) {
		free_table(dev);
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
	free_table(dev);
	dev->alua = a;
	dev->di.tpgs = (uint8_t)tpgs;
	return 0;
}

RTS_EXPORT int rts_dev_set_alua_state(struct rts_dev *dev, uint16_t id, uint8_t state)
{
	int i = dev && dev->alua ? scsi_alua_find(dev->alua, id) : -1;

	if (i < 0)
		return -ENOENT;
	if (dev->alua_cfs) {
		/* the kernel enforces the state: it must hear of it */
		int r = alua_cfs_write_state(dev->alua_cfs, (unsigned int)i, state & 0x0f, false);

		if (r < 0)
			return r;
	}
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

/*
 * Apply validated transitions: to configfs first when the groups come from there (the
 * kernel enforces the state per command), then to the table. -errno when a write failed
 * (the groups written before it keep their new state, as in the kernel's own STPG loop).
 */
static int apply_stpg(struct rts_dev *dev, const struct scsi_alua_change *ch, unsigned int n)
{
	if (!dev->alua)
		return -ENOENT;
	for (unsigned int i = 0; dev->alua_cfs && i < n; i++) {
		int r = alua_cfs_write_state(dev->alua_cfs, ch[i].group, ch[i].state, true);

		if (r < 0) {
			rts_dev_log(dev, RTS_LOG_ERR,
				    "SET TARGET PORT GROUPS: cannot set group %u to state %u in "
				    "configfs: %s",
				    dev->alua->groups[ch[i].group].id, ch[i].state, strerror(-r));
			scsi_alua_apply(dev->alua, ch, i);
			return r;
		}
	}
	scsi_alua_apply(dev->alua, ch, n);
	return 0;
}

/* The handler finished its transitions: record them (kept in the bounce buffer). */
static void step_stpg(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = cmd->dev;
	const struct scsi_alua_change *ch = (const struct scsi_alua_change *)(void *)cmd->bounce;

	cmd->step = NULL;
	if (!err)
		err = apply_stpg(dev, ch, cmd->count);
	if (err) {
		rts_cmd_complete(cmd, err);
		return;
	}
	dev_cmd_finish(cmd, RTS_SAM_GOOD, NULL, 0, -1);
}

/*
 * configfs takes a state only for groups whose access type includes implicit ALUA (the
 * kernel's rule for alua_access_state writes): refuse the whole STPG before changing
 * anything when a descriptor names another group, pointing at that descriptor.
 */
static bool stpg_writable(struct rts_dev *dev, const struct scsi_alua_change *ch, int n,
			  struct scsi_result *res)
{
	for (int i = 0; dev->alua_cfs && i < n; i++) {
		if (dev->alua_cfs->types[ch[i].group] & ALUA_CFS_IMPLICIT)
			continue;
		rts_dev_log(dev, RTS_LOG_WARNING,
			    "SET TARGET PORT GROUPS: group %u (%s) has alua_access_type Explicit "
			    "only; the kernel takes configfs state changes only with implicit ALUA "
			    "too (set alua_access_type to 3)",
			    dev->alua->groups[ch[i].group].id, dev->alua_cfs->names[ch[i].group]);
		scsi_invalid_param_field(res, (uint16_t)(4 + 4 * i + 2), -1);
		return false;
	}
	return true;
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
	if (n > 0 && !stpg_writable(dev, ch, n, &res))
		n = -1;
	if (n <= 0 || !dev->h->set_alua) {
		if (n > 0) {
			r = apply_stpg(dev, ch, (unsigned int)n);
			if (r < 0) {
				rts_cmd_complete(cmd, r);
				return;
			}
		}
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
	bool alua_cmd = (cdb[1] & 0x1f) == SCSI_SA_RTPG &&
			(cdb[0] == SCSI_MAINTENANCE_IN || cdb[0] == SCSI_MAINTENANCE_OUT);

	if (cmd->dev->alua_cfs && (alua_cmd || cdb[0] == SCSI_INQUIRY))
		alua_refresh(cmd->dev);
	if (!alua_cmd || !cmd->dev->alua)
		return false; /* INQUIRY is emulated with the fresh TPGS and port designators */
	if (cdb[0] == SCSI_MAINTENANCE_IN) {
		scsi_alua_rtpg(cmd->dev->alua, cdb, cmd->cdb_len, cmd->iov, cmd->iovcnt, &res);
		finish(cmd, &res);
	} else {
		do_stpg(cmd);
	}
	return true;
}
