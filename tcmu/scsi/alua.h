/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ALUA (SPC-4 5.16) for TCMU devices: REPORT TARGET PORT GROUPS and SET TARGET PORT GROUPS.
 *
 * For TCMU devices the kernel enforces the access state written to configfs
 * (alua/<group>/alua_access_state) on every command, but passes RTPG and STPG through to
 * userspace (TRANSPORT_FLAG_PASSTHROUGH_ALUA). These pure functions answer them from a
 * table of the device's target port groups (as read from configfs); STPG is parsed and
 * validated completely before anything changes, and the caller applies the changes
 * (configfs, a handler that owns path state) and then records them with
 * scsi_alua_apply().
 */
#ifndef RTS_TCMU_SCSI_ALUA_H
#define RTS_TCMU_SCSI_ALUA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <rts/tcmu.h>

#include "scsi.h"

#define SCSI_MAINTENANCE_OUT 0xa4
#define SCSI_SA_RTPG	     0x0a /* MAINTENANCE IN service action */
#define SCSI_SA_STPG	     0x0a /* MAINTENANCE OUT service action */

#define SCSI_ALUA_MAX_GROUPS 16
#define SCSI_ALUA_MAX_PORTS  16 /* per group */

/* Asymmetric access states (SPC-4 table 166). */
enum scsi_alua_state {
	SCSI_ALUA_ACTIVE_OPTIMIZED = 0x0,
	SCSI_ALUA_ACTIVE_NON_OPTIMIZED = 0x1,
	SCSI_ALUA_STANDBY = 0x2,
	SCSI_ALUA_UNAVAILABLE = 0x3,
	SCSI_ALUA_LBA_DEPENDENT = 0x4,
	SCSI_ALUA_OFFLINE = 0xe,
	SCSI_ALUA_TRANSITIONING = 0xf,
};

/* RTPG descriptor byte 1: the states a group supports. */
enum scsi_alua_sup {
	SCSI_ALUA_SUP_AO = 1u << 0,
	SCSI_ALUA_SUP_AN = 1u << 1,
	SCSI_ALUA_SUP_S = 1u << 2,
	SCSI_ALUA_SUP_U = 1u << 3,
	SCSI_ALUA_SUP_LBD = 1u << 4,
	SCSI_ALUA_SUP_O = 1u << 6,
	SCSI_ALUA_SUP_T = 1u << 7,
};

/* INQUIRY TPGS field (byte 5 bits 5..4). */
enum scsi_alua_tpgs {
	SCSI_TPGS_NONE = 0,
	SCSI_TPGS_IMPLICIT = 1,
	SCSI_TPGS_EXPLICIT = 2,
	SCSI_TPGS_BOTH = 3,
};

/* RTPG STATUS CODE. */
enum scsi_alua_status {
	SCSI_ALUA_STATUS_NONE = 0,
	SCSI_ALUA_STATUS_ALTERED_BY_STPG = 1,
	SCSI_ALUA_STATUS_ALTERED_IMPLICITLY = 2,
};

struct scsi_alua_group {
	uint16_t id;        /* TARGET PORT GROUP (configfs tg_pt_gp_id) */
	uint8_t state;      /* enum scsi_alua_state */
	uint8_t supported;  /* enum scsi_alua_sup bits */
	uint8_t status;     /* enum scsi_alua_status */
	bool preferred;     /* PREF */
	uint8_t nports;
	uint16_t rel_port_ids[SCSI_ALUA_MAX_PORTS]; /* RELATIVE TARGET PORT IDENTIFIERs */
};

struct scsi_alua {
	uint8_t tpgs;                 /* enum scsi_alua_tpgs: what the device supports */
	uint8_t transition_time;      /* IMPLICIT TRANSITION TIME (s), extended header */
	uint8_t ngroups;
	struct scsi_alua_group groups[SCSI_ALUA_MAX_GROUPS];
};

/* One requested transition of an STPG. */
struct scsi_alua_change {
	uint8_t group; /* index into scsi_alua.groups */
	uint8_t state;
};

/*
 * REPORT TARGET PORT GROUPS (MAINTENANCE IN, SA 0Ah): the length-only or extended-header
 * format (PARAMETER DATA FORMAT 000b/001b), truncated to the allocation length. Sets @res.
 */
void scsi_alua_rtpg(const struct scsi_alua *a, const uint8_t *cdb, size_t cdb_len,
		    const struct iovec *iov, size_t iovcnt, struct scsi_result *res);

/*
 * SET TARGET PORT GROUPS (MAINTENANCE OUT, SA 0Ah): parse and validate the parameter list
 * (@param_len bytes of the Data-Out in @iov). Returns the number of changes written to
 * @changes (0: a list without descriptors, nothing to do), or -1 with @res set:
 * INVALID COMMAND OPERATION CODE without explicit ALUA, PARAMETER LIST LENGTH ERROR,
 * INVALID FIELD IN PARAMETER LIST for an unknown group, a state STPG may not set or the
 * group does not support, or one group named twice. Nothing is changed.
 */
int scsi_alua_stpg_parse(const struct scsi_alua *a, const uint8_t *cdb, size_t cdb_len,
			 const struct iovec *iov, size_t iovcnt, uint64_t param_len,
			 struct scsi_alua_change *changes, unsigned int max,
			 struct scsi_result *res);

/* Record applied changes: new states, STATUS CODE "altered by SET TARGET PORT GROUPS". */
void scsi_alua_apply(struct scsi_alua *a, const struct scsi_alua_change *changes,
		     unsigned int n);

/* Index of the group with TARGET PORT GROUP @id, or -1. */
int scsi_alua_find(const struct scsi_alua *a, uint16_t id);

#endif
