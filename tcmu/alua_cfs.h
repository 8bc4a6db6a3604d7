/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A TCMU device's configfs ALUA groups (alua_cfs.c). Internal to librts-tcmu. */
#ifndef RTS_TCMU_ALUA_CFS_H
#define RTS_TCMU_ALUA_CFS_H

#include <stdbool.h>
#include <stdint.h>

#include "scsi/alua.h"

#define ALUA_CFS_PATH	   600
#define ALUA_CFS_MAX_LOCAL 64
#define ALUA_CFS_IMPLICIT  0x1 /* alua_access_type bits, as INQUIRY TPGS */
#define ALUA_CFS_EXPLICIT  0x2

/* The port commands arrive on, as far as it can be known (see alua_cfs.c). */
struct alua_cfs_port {
	bool has_port;  /* rtpi is the one enabled port of this device */
	bool has_group; /* group is the group of every enabled port */
	uint8_t proto_id;
	uint16_t rtpi;
	uint16_t group;
};

struct alua_cfs {
	char target_dir[ALUA_CFS_PATH]; /* <configfs>/target */
	char alua_dir[ALUA_CFS_PATH];   /* <configfs>/target/core/user_N/<dev>/alua */
	/* per index of scsi_alua.groups after the last read */
	char names[SCSI_ALUA_MAX_GROUPS][64];
	uint8_t types[SCSI_ALUA_MAX_GROUPS]; /* ALUA_CFS_IMPLICIT | ALUA_CFS_EXPLICIT */
	struct alua_cfs_port port;
};

/* One line of a group's members file: "<fabric>/<wwn>/tpgt_<T>/lun_<L>". */
struct alua_cfs_member {
	char fabric[64];
	char wwn[256];
	unsigned int tpgt;
	char lun[64];
};

/* Parse a members line (no newline). 0 or -EINVAL. Untrusted text: fuzz_alua_cfs. */
int alua_cfs_parse_member(const char *line, struct alua_cfs_member *m);

/* alua_access_type as configfs shows it ("Implicit and Explicit", ...) or a digit 0..3:
 * ALUA_CFS_* bits, or -EINVAL. */
int alua_cfs_parse_type(const char *s);

/* Read every group with members into @a (tpgs: the union of their access types) and the
 * names, types and local port into @c. Returns the number of groups or -errno. */
int alua_cfs_read(struct alua_cfs *c, struct scsi_alua *a);

/* Write group @gi's access state (and its status: by STPG or implicit). -EPERM when its
 * access type lacks implicit ALUA (the kernel refuses the write then). */
int alua_cfs_write_state(const struct alua_cfs *c, unsigned int gi, uint8_t state, bool stpg);

#endif
