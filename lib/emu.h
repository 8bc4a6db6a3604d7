/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The LIO configfs model used by the emulated backend: object kinds, their kernel-created
 * attributes and default groups, and the checks the kernel applies. Data lives in
 * emu_model.c so the VM tier can diff it against trees captured from a real kernel.
 */
#ifndef RTS_LIB_EMU_H
#define RTS_LIB_EMU_H

#include "private.h"

enum emu_kind {
	K_NONE = 0,
	K_ROOT, /* configfs mount point */
	K_TGT, /* target/ */
	K_CORE, /* target/core */
	K_CORE_ALUA, /* target/core/alua */
	K_LU_GPS, /* target/core/alua/lu_gps */
	K_LU_GP, /* target/core/alua/lu_gps/<gp> */
	K_HBA, /* target/core/<plugin>_<n> */
	K_DEV, /* target/core/<hba>/<dev> */
	K_DEV_ATTRIB, /* .../attrib */
	K_DEV_PR, /* .../pr */
	K_DEV_WWN, /* .../wwn */
	K_DEV_ALUA, /* .../alua */
	K_TG_PT_GP, /* .../alua/<gp> */
	K_DEV_ACTION, /* .../action (user) */
	K_STATS, /* <dev>/statistics */
	K_LUN_STATS, /* <lun>/statistics */
	K_MLUN_STATS, /* <mapped lun>/statistics */
	K_WWN_FSTATS, /* <wwn>/fabric_statistics */
	K_ACL_FSTATS, /* <acl>/fabric_statistics */
	K_ST_SCSI_DEV, /* statistics/scsi_dev */
	K_ST_SCSI_TGT_DEV, /* statistics/scsi_tgt_dev */
	K_ST_SCSI_LU, /* statistics/scsi_lu */
	K_ST_SCSI_PORT, /* statistics/scsi_port */
	K_ST_SCSI_TGT_PORT, /* statistics/scsi_tgt_port */
	K_ST_SCSI_TRANSPORT, /* statistics/scsi_transport */
	K_ST_SCSI_AUTH_INTR, /* statistics/scsi_auth_intr */
	K_ST_SCSI_ATT_INTR_PORT, /* statistics/scsi_att_intr_port */
	K_ST_ISCSI_INSTANCE, /* statistics/iscsi_instance */
	K_ST_ISCSI_SESS_ERR, /* statistics/iscsi_sess_err */
	K_ST_ISCSI_TGT_ATTR, /* statistics/iscsi_tgt_attr */
	K_ST_ISCSI_LOGIN_STATS, /* statistics/iscsi_login_stats */
	K_ST_ISCSI_LOGOUT_STATS, /* statistics/iscsi_logout_stats */
	K_ST_ISCSI_SESS_STATS, /* statistics/iscsi_sess_stats */
	K_FABRIC, /* target/<fabric> */
	K_DISC_AUTH, /* target/iscsi/discovery_auth */
	K_WWN, /* target/<fabric>/<wwn> */
	K_WWN_PARAM, /* target/<fabric>/<wwn>/param */
	K_TPG, /* .../tpgt_<n> */
	K_LUNS, /* .../lun */
	K_LUN, /* .../lun/lun_<n> */
	K_ACLS, /* .../acls */
	K_ACL, /* .../acls/<initiator> */
	K_MLUN, /* .../acls/<initiator>/lun_<n> */
	K_NPS, /* .../np */
	K_NP, /* .../np/<ip>:<port> */
	K_TPG_ATTRIB,
	K_TPG_PARAM,
	K_TPG_AUTH,
	K_ACL_ATTRIB,
	K_ACL_PARAM,
	K_ACL_AUTH,
	K_EMPTY, /* default group without attributes (fabric_statistics...) */
	K_MAX,
};

enum emu_mode {
	M_RO = 1,
	M_WO = 2,
	M_RW = 3,
};

enum emu_check {
	C_NONE = 0,
	C_BOOL, /* 0 or 1 */
	C_UINT, /* unsigned decimal */
	C_STR, /* any string up to 255 bytes */
	C_CONTROL, /* dev control: key=value list, per plugin */
	C_DEV_ENABLE, /* "1" once, plugin prerequisites */
	C_TPG_ENABLE, /* 0/1 */
	C_NEXUS, /* loopback-style nexus */
	C_SERIAL, /* vpd_unit_serial */
	C_VENDOR, /* <= 8 printable */
	C_PRODUCT, /* <= 16 printable */
	C_REVISION, /* <= 4 printable */
	C_TG_PT_GP, /* LUN ALUA membership */
	C_LU_GP, /* device LU group membership */
	C_CMDSN, /* 1..512 (TPG default), 0..512 (ACL) */
	C_DBROOT, /* absolute directory */
	C_ALUA_STATE, /* 0..4, 14, 15 */
	C_BLOCK_SIZE, /* 512, 1024, 2048, 4096 */
	C_QUEUE_DEPTH, /* 1..hw_queue_depth, not while exported */
	C_OPTIMAL_SECTORS, /* ..hw_max_sectors, not while exported */
	C_DEV_CONFIGURED_RO, /* user attrib that cannot change after enable */
	C_INT, /* signed decimal */
	C_ALUA_TYPE, /* alua_access_type 0..3, shown as text */
	C_BLOCK_DEV, /* user action/block_dev: 0 or 1, shown as (un)blocked */
	C_LOOP_STATUS, /* tcm_loop transport_status: online, offline */
	C_NO_SESSION, /* read-only, reads fail with ENODEV while no session exists */
};

/* Filters: 0 = always. plugin mask: 1u << enum rts_plugin; kflags: enum fabric_kflags. */
struct emu_attr {
	const char *name;
	uint8_t mode;
	uint8_t check;
	const char *dflt;
	unsigned int plugins;
	unsigned int kflags;
};

struct emu_group {
	const char *name;
	enum emu_kind kind;
	unsigned int plugins;
	unsigned int kflags;
};

struct emu_kind_desc {
	const char *name;
	const struct emu_attr *attrs;
	const struct emu_group *groups;
	enum emu_kind child; /* kind of user mkdir children, K_NONE: mkdir not allowed */
	bool links; /* user symlinks allowed in this directory */
};

extern const struct emu_kind_desc emu_kinds[K_MAX];

/* Where a path sits in the model. */
struct emu_loc {
	enum emu_kind kind;
	int plugin; /* -1 outside core/<hba> */
	const struct rts_fabric_spec *fabric; /* NULL outside target/<fabric> */
	bool is_default; /* a kernel-created default group */
};

/* Does the attribute / group apply at this location? */
bool emu_attr_applies(const struct emu_attr *a, const struct emu_loc *loc);
bool emu_group_applies(const struct emu_group *g, const struct emu_loc *loc);

/* st_mode permission bits the kernel shows for a root-relative path of type t. */
unsigned int emu_model_mode(const char *path, enum rts_ftype t);
/* Recount symlinks from the raw backend before their next use (shared directory). */
int emu_invalidate(struct rts_backend *be);

#endif
