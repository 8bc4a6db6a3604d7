/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The table behind the emulated backend: what the 6.1 kernel creates in configfs for every
 * LIO object, attribute modes, defaults and the checks applied on writes. Reference:
 * drivers/target/target_core_configfs.c, target_core_fabric_configfs.c,
 * iscsi/iscsi_target_configfs.c, loopback/tcm_loop.c, target_core_user.c and the listing in
 * notes/vm.md. Keep it data only; the VM tier diffs it against captured trees.
 */
#include "emu.h"

#define P(x)	 (1u << RTS_PLUGIN_##x)
#define P_STD	 (P(FILEIO) | P(BLOCK) | P(RAMDISK))
#define P_NOUSER (P_STD | P(PSCSI))

// clang-format off
static const struct emu_attr root_attrs[] = { { 0 } };
static const struct emu_group root_groups[] = {
	{ "target", K_TGT, 0, 0 },
	{ 0 },
};

static const struct emu_attr tgt_attrs[] = {
	{ "version", M_RO, C_NONE,
	  "Target Engine Core ConfigFS Infrastructure v5.0 on Linux/x86_64 on rtslib-c emulator", 0, 0 },
	{ "dbroot", M_RW, C_DBROOT, "/etc/target", 0, 0 },
	{ 0 },
};
static const struct emu_group tgt_groups[] = {
	{ "core", K_CORE, 0, 0 },
	{ 0 },
};

static const struct emu_group core_groups[] = {
	{ "alua", K_CORE_ALUA, 0, 0 },
	{ 0 },
};
static const struct emu_group core_alua_groups[] = {
	{ "lu_gps", K_LU_GPS, 0, 0 },
	{ 0 },
};
static const struct emu_group lu_gps_groups[] = {
	{ "default_lu_gp", K_LU_GP, 0, 0 },
	{ 0 },
};
static const struct emu_attr lu_gp_attrs[] = {
	{ "lu_gp_id", M_RW, C_UINT, "0", 0, 0 },
	{ "members", M_RO, C_NONE, "", 0, 0 },
	{ 0 },
};

static const struct emu_attr hba_attrs[] = {
	{ "hba_info", M_RO, C_NONE, "HBA Index: 0 plugin: emulated version: v5.0", 0, 0 },
	{ "hba_mode", M_RW, C_UINT, "0", 0, 0 },
	{ 0 },
};

static const struct emu_attr dev_attrs[] = {
	{ "info", M_RO, C_NONE, "Status: DEACTIVATED", 0, 0 },
	{ "control", M_WO, C_CONTROL, NULL, 0, 0 },
	{ "alias", M_RW, C_STR, "", 0, 0 },
	{ "udev_path", M_RW, C_STR, "", 0, 0 },
	{ "enable", M_RW, C_DEV_ENABLE, "0", 0, 0 },
	{ "alua_lu_gp", M_RW, C_LU_GP, "LU Group Alias: default_lu_gp\nLU Group ID: 0\n",
	  P_STD | P(USER), 0 },
	{ "alua_lu_gp", M_RW, C_LU_GP, "", P(PSCSI), 0 }, /* passthrough: no LU group */
	{ "lba_map", M_RW, C_STR, "", 0, 0 },
	{ 0 },
};
static const struct emu_group dev_groups[] = {
	{ "attrib", K_DEV_ATTRIB, 0, 0 },
	{ "pr", K_DEV_PR, 0, 0 },
	{ "wwn", K_DEV_WWN, 0, 0 },
	{ "alua", K_DEV_ALUA, 0, 0 },
	{ "statistics", K_STATS, 0, 0 },
	{ "action", K_DEV_ACTION, 0, 0 }, /* empty except on user */
	{ 0 },
};

/*
 * Values right after mkdir; enable fills in the geometry of the backend (emu.c enable_geom[]),
 * as target_core_device.c does when the device is configured.
 */
static const struct emu_attr dev_attrib_attrs[] = {
	/* passthrough set: every plugin */
	{ "hw_block_size", M_RO, C_NONE, "0", 0, 0 },
	{ "hw_max_sectors", M_RO, C_NONE, "0", 0, 0 },
	{ "hw_queue_depth", M_RO, C_NONE, "0", 0, 0 },
	{ "hw_pi_prot_type", M_RO, C_NONE, "0", 0, 0 },
	{ "alua_support", M_RW, C_BOOL, "1", P_STD | P(USER), 0 },
	{ "alua_support", M_RW, C_BOOL, "0", P(PSCSI), 0 },
	{ "pgr_support", M_RW, C_BOOL, "1", P_STD | P(USER), 0 },
	{ "pgr_support", M_RW, C_BOOL, "0", P(PSCSI), 0 },
	{ "emulate_pr", M_RW, C_BOOL, "1", 0, 0 },
	{ "emulate_write_cache", M_RW, C_BOOL, "0", P(USER) | P_STD, 0 },
	{ "enforce_pr_isids", M_RW, C_BOOL, "1", P(USER) | P_STD, 0 },
	{ "force_pr_aptpl", M_RW, C_BOOL, "0", P(USER) | P_STD, 0 },
	/* full set of the kernel backends */
	{ "block_size", M_RW, C_BLOCK_SIZE, "0", P_STD, 0 },
	{ "emulate_model_alias", M_RW, C_BOOL, "0", P_STD, 0 },
	{ "emulate_dpo", M_RW, C_BOOL, "1", P_STD, 0 },
	{ "emulate_fua_write", M_RW, C_BOOL, "1", P_STD, 0 },
	{ "emulate_fua_read", M_RW, C_BOOL, "1", P_STD, 0 },
	{ "emulate_ua_intlck_ctrl", M_RW, C_UINT, "0", P_STD, 0 },
	{ "emulate_tas", M_RW, C_BOOL, "1", P_STD, 0 },
	{ "emulate_tpu", M_RW, C_BOOL, "0", P_STD, 0 },
	{ "emulate_tpws", M_RW, C_BOOL, "0", P_STD, 0 },
	{ "emulate_caw", M_RW, C_BOOL, "1", P_STD, 0 },
	{ "emulate_3pc", M_RW, C_BOOL, "1", P_STD, 0 },
	{ "emulate_rest_reord", M_RW, C_BOOL, "0", P_STD, 0 },
	{ "pi_prot_type", M_RW, C_UINT, "0", P_STD, 0 },
	{ "pi_prot_format", M_RW, C_UINT, "0", P_STD, 0 },
	{ "pi_prot_verify", M_RW, C_BOOL, "0", P_STD, 0 },
	{ "is_nonrot", M_RW, C_BOOL, "0", P_STD, 0 },
	{ "optimal_sectors", M_RW, C_OPTIMAL_SECTORS, "0", P_STD, 0 },
	{ "queue_depth", M_RW, C_QUEUE_DEPTH, "0", P_STD, 0 },
	{ "max_unmap_lba_count", M_RW, C_UINT, "0", P_STD, 0 },
	{ "max_unmap_block_desc_count", M_RW, C_UINT, "0", P_STD, 0 },
	{ "unmap_granularity", M_RW, C_UINT, "0", P_STD, 0 },
	{ "unmap_granularity_alignment", M_RW, C_UINT, "0", P_STD, 0 },
	{ "unmap_zeroes_data", M_RW, C_BOOL, "0", P_STD, 0 },
	{ "max_write_same_len", M_RW, C_UINT, "0", P_STD, 0 },
	/* target_core_user: ring geometry is read-only here, set through control */
	{ "cmd_time_out", M_RW, C_UINT, "30", P(USER), 0 },
	{ "qfull_time_out", M_RW, C_INT, "-1", P(USER), 0 },
	{ "max_data_area_mb", M_RO, C_NONE, "1024", P(USER), 0 },
	{ "data_pages_per_blk", M_RO, C_NONE, "1", P(USER), 0 },
	{ "cmd_ring_size_mb", M_RO, C_NONE, "8", P(USER), 0 },
	{ "dev_config", M_RW, C_STR, "\n", P(USER), 0 },
	{ "dev_size", M_RW, C_UINT, "0", P(USER), 0 },
	{ "nl_reply_supported", M_RW, C_INT, "0", P(USER), 0 },
	{ "tmr_notification", M_RW, C_BOOL, "0", P(USER), 0 },
	{ 0 },
};

/* pscsi: reservations are passed through to the device (target_core_pr.c, SPC_PASSTHROUGH) */
static const struct emu_attr dev_pr_attrs[] = {
	{ "res_aptpl_active", M_RO, C_NONE, "APTPL Bit Status: Disabled", P_STD | P(USER), 0 },
	{ "res_aptpl_active", M_RO, C_NONE, "", P(PSCSI), 0 },
	{ "res_holder", M_RO, C_NONE, "Passthrough", P(PSCSI), 0 },
	{ "res_type", M_RO, C_NONE, "SPC_PASSTHROUGH", P(PSCSI), 0 },
	{ "res_aptpl_metadata", M_RW, C_STR, "Ready to process PR APTPL metadata..", P_STD | P(USER), 0 },
	{ "res_aptpl_metadata", M_RW, C_STR, "", P(PSCSI), 0 },
	{ "res_holder", M_RO, C_NONE, "No SPC-3 Reservation holder", P_STD | P(USER), 0 },
	{ "res_pr_all_tgt_pts", M_RO, C_NONE, "No SPC-3 Reservation holder", 0, 0 },
	{ "res_pr_generation", M_RO, C_NONE, "0x00000000", 0, 0 },
	{ "res_pr_holder_tg_port", M_RO, C_NONE, "No SPC-3 Reservation holder", 0, 0 },
	{ "res_pr_registered_i_pts", M_RO, C_NONE, "SPC-3 PR Registrations:\nNone", 0, 0 },
	{ "res_pr_type", M_RO, C_NONE, "No SPC-3 Reservation holder", 0, 0 },
	{ "res_type", M_RO, C_NONE, "SPC3_PERSISTENT_RESERVATIONS", P_STD | P(USER), 0 },
	{ 0 },
};

static const struct emu_attr dev_wwn_attrs[] = {
	{ "vpd_unit_serial", M_RW, C_SERIAL, "T10 VPD Unit Serial Number: ", 0, 0 },
	{ "vpd_protocol_identifier", M_RO, C_NONE, "", 0, 0 },
	{ "vpd_assoc_logical_unit", M_RO, C_NONE, "", 0, 0 },
	{ "vpd_assoc_target_port", M_RO, C_NONE, "", 0, 0 },
	{ "vpd_assoc_scsi_target_device", M_RO, C_NONE, "", 0, 0 },
	{ "vendor_id", M_RW, C_VENDOR, "LIO-ORG", 0, 0 },
	{ "product_id", M_RW, C_PRODUCT, "FILEIO", P(FILEIO), 0 },
	{ "product_id", M_RW, C_PRODUCT, "IBLOCK", P(BLOCK), 0 },
	{ "product_id", M_RW, C_PRODUCT, "RAMDISK-MCP", P(RAMDISK), 0 },
	{ "product_id", M_RW, C_PRODUCT, "\n", P(USER) | P(PSCSI), 0 }, /* pscsi: the device's */
	{ "revision", M_RW, C_REVISION, "4.0", P_NOUSER, 0 },
	{ "revision", M_RW, C_REVISION, "\n", P(USER), 0 },
	{ "company_id", M_RW, C_UINT, "0x001405", 0, 0 },
	{ 0 },
};

static const struct emu_group dev_alua_groups[] = {
	{ "default_tg_pt_gp", K_TG_PT_GP, 0, 0 },
	{ 0 },
};
static const struct emu_attr tg_pt_gp_attrs[] = {
	{ "alua_access_state", M_RW, C_ALUA_STATE, "0", 0, 0 },
	{ "alua_access_status", M_RW, C_STR, "None", 0, 0 },
	{ "alua_access_type", M_RW, C_ALUA_TYPE, "Implicit and Explicit", 0, 0 },
	{ "alua_support_active_nonoptimized", M_RW, C_BOOL, "1", 0, 0 },
	{ "alua_support_active_optimized", M_RW, C_BOOL, "1", 0, 0 },
	{ "alua_support_lba_dependent", M_RW, C_BOOL, "0", 0, 0 },
	{ "alua_support_offline", M_RW, C_BOOL, "1", 0, 0 },
	{ "alua_support_standby", M_RW, C_BOOL, "1", 0, 0 },
	{ "alua_support_transitioning", M_RW, C_BOOL, "1", 0, 0 },
	{ "alua_support_unavailable", M_RW, C_BOOL, "1", 0, 0 },
	{ "alua_write_metadata", M_RW, C_BOOL, "0", 0, 0 },
	{ "implicit_trans_secs", M_RW, C_UINT, "0", 0, 0 },
	{ "nonop_delay_msecs", M_RW, C_UINT, "100", 0, 0 },
	{ "trans_delay_msecs", M_RW, C_UINT, "0", 0, 0 },
	{ "preferred", M_RW, C_BOOL, "0", 0, 0 },
	{ "tg_pt_gp_id", M_RW, C_UINT, "0", 0, 0 },
	{ "members", M_RO, C_NONE, "", 0, 0 },
	{ 0 },
};

static const struct emu_attr dev_action_attrs[] = {
	{ "block_dev", M_RW, C_BLOCK_DEV, "unblocked", P(USER), 0 },
	{ "free_kept_buf", M_WO, C_UINT, NULL, P(USER), 0 },
	{ "reset_ring", M_WO, C_BOOL, NULL, P(USER), 0 },
	{ 0 },
};

/*
 * Statistics (target_core_stat.c, iscsi_target_stat.c): the file sets of the kernel; the
 * counters and indexes stay 0 (their content is allowlisted in the fixture comparison).
 */
static const struct emu_group stats_groups[] = {
	{ "scsi_dev", K_ST_SCSI_DEV, 0, 0 },
	{ "scsi_tgt_dev", K_ST_SCSI_TGT_DEV, 0, 0 },
	{ "scsi_lu", K_ST_SCSI_LU, 0, 0 },
	{ 0 },
};
static const struct emu_group lun_stats_groups[] = {
	{ "scsi_port", K_ST_SCSI_PORT, 0, 0 },
	{ "scsi_tgt_port", K_ST_SCSI_TGT_PORT, 0, 0 },
	{ "scsi_transport", K_ST_SCSI_TRANSPORT, 0, 0 },
	{ 0 },
};
static const struct emu_group mlun_stats_groups[] = {
	{ "scsi_auth_intr", K_ST_SCSI_AUTH_INTR, 0, 0 },
	{ "scsi_att_intr_port", K_ST_SCSI_ATT_INTR_PORT, 0, 0 },
	{ 0 },
};
static const struct emu_group wwn_fstats_groups[] = {
	{ "iscsi_instance", K_ST_ISCSI_INSTANCE, 0, FK_ISCSI_ATTRS },
	{ "iscsi_sess_err", K_ST_ISCSI_SESS_ERR, 0, FK_ISCSI_ATTRS },
	{ "iscsi_tgt_attr", K_ST_ISCSI_TGT_ATTR, 0, FK_ISCSI_ATTRS },
	{ "iscsi_login_stats", K_ST_ISCSI_LOGIN_STATS, 0, FK_ISCSI_ATTRS },
	{ "iscsi_logout_stats", K_ST_ISCSI_LOGOUT_STATS, 0, FK_ISCSI_ATTRS },
	{ 0 },
};
static const struct emu_group acl_fstats_groups[] = {
	{ "iscsi_sess_stats", K_ST_ISCSI_SESS_STATS, 0, FK_ISCSI_ATTRS },
	{ 0 },
};
static const struct emu_attr st_scsi_dev_attrs[] = {
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "ports", M_RO, C_NONE, "0", 0, 0 },
	{ "role", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_scsi_tgt_dev_attrs[] = {
	{ "aborts_complete", M_RO, C_NONE, "0", 0, 0 },
	{ "aborts_no_task", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "non_access_lus", M_RO, C_NONE, "0", 0, 0 },
	{ "num_lus", M_RO, C_NONE, "0", 0, 0 },
	{ "resets", M_RO, C_NONE, "0", 0, 0 },
	{ "status", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_scsi_lu_attrs[] = {
	{ "creation_time", M_RO, C_NONE, "0", 0, 0 },
	{ "dev", M_RO, C_NONE, "0", 0, 0 },
	{ "dev_type", M_RO, C_NONE, "0", 0, 0 },
	{ "full_stat", M_RO, C_NONE, "0", 0, 0 },
	{ "hs_num_cmds", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "lu_name", M_RO, C_NONE, "0", 0, 0 },
	{ "lun", M_RO, C_NONE, "0", 0, 0 },
	{ "num_cmds", M_RO, C_NONE, "0", 0, 0 },
	{ "prod", M_RO, C_NONE, "0", 0, 0 },
	{ "read_mbytes", M_RO, C_NONE, "0", 0, 0 },
	{ "resets", M_RO, C_NONE, "0", 0, 0 },
	{ "rev", M_RO, C_NONE, "0", 0, 0 },
	{ "state_bit", M_RO, C_NONE, "0", 0, 0 },
	{ "status", M_RO, C_NONE, "0", 0, 0 },
	{ "vend", M_RO, C_NONE, "0", 0, 0 },
	{ "write_mbytes", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_scsi_port_attrs[] = {
	{ "busy_count", M_RO, C_NONE, "0", 0, 0 },
	{ "dev", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "role", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_scsi_tgt_port_attrs[] = {
	{ "dev", M_RO, C_NONE, "0", 0, 0 },
	{ "hs_in_cmds", M_RO, C_NONE, "0", 0, 0 },
	{ "in_cmds", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "name", M_RO, C_NONE, "0", 0, 0 },
	{ "port_index", M_RO, C_NONE, "0", 0, 0 },
	{ "read_mbytes", M_RO, C_NONE, "0", 0, 0 },
	{ "write_mbytes", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_scsi_transport_attrs[] = {
	{ "dev_name", M_RO, C_NONE, "0", 0, 0 },
	{ "device", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "proto_id", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_scsi_auth_intr_attrs[] = {
	{ "att_count", M_RO, C_NONE, "0", 0, 0 },
	{ "creation_time", M_RO, C_NONE, "0", 0, 0 },
	{ "dev", M_RO, C_NONE, "0", 0, 0 },
	{ "dev_or_port", M_RO, C_NONE, "0", 0, 0 },
	{ "hs_num_cmds", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "intr_name", M_RO, C_NONE, "0", 0, 0 },
	{ "map_indx", M_RO, C_NONE, "0", 0, 0 },
	{ "num_cmds", M_RO, C_NONE, "0", 0, 0 },
	{ "port", M_RO, C_NONE, "0", 0, 0 },
	{ "read_mbytes", M_RO, C_NONE, "0", 0, 0 },
	{ "row_status", M_RO, C_NONE, "0", 0, 0 },
	{ "write_mbytes", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
/* indx and port_ident need the initiator's session: ENODEV without one */
static const struct emu_attr st_scsi_att_intr_port_attrs[] = {
	{ "dev", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NO_SESSION, NULL, 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "port", M_RO, C_NONE, "0", 0, 0 },
	{ "port_auth_indx", M_RO, C_NONE, "0", 0, 0 },
	{ "port_ident", M_RO, C_NO_SESSION, NULL, 0, 0 },
	{ 0 },
};
static const struct emu_attr st_iscsi_instance_attrs[] = {
	{ "description", M_RO, C_NONE, "0", 0, 0 },
	{ "disc_time", M_RO, C_NONE, "0", 0, 0 },
	{ "fail_rem_name", M_RO, C_NONE, "0", 0, 0 },
	{ "fail_sess", M_RO, C_NONE, "0", 0, 0 },
	{ "fail_type", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "max_ver", M_RO, C_NONE, "0", 0, 0 },
	{ "min_ver", M_RO, C_NONE, "0", 0, 0 },
	{ "nodes", M_RO, C_NONE, "0", 0, 0 },
	{ "portals", M_RO, C_NONE, "0", 0, 0 },
	{ "sessions", M_RO, C_NONE, "0", 0, 0 },
	{ "vendor", M_RO, C_NONE, "0", 0, 0 },
	{ "version", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_iscsi_sess_err_attrs[] = {
	{ "cxn_errors", M_RO, C_NONE, "0", 0, 0 },
	{ "digest_errors", M_RO, C_NONE, "0", 0, 0 },
	{ "format_errors", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_iscsi_tgt_attr_attrs[] = {
	{ "fail_intr_addr", M_RO, C_NONE, "0", 0, 0 },
	{ "fail_intr_addr_type", M_RO, C_NONE, "0", 0, 0 },
	{ "fail_intr_name", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "last_fail_time", M_RO, C_NONE, "0", 0, 0 },
	{ "last_fail_type", M_RO, C_NONE, "0", 0, 0 },
	{ "login_fails", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_iscsi_login_stats_attrs[] = {
	{ "accepts", M_RO, C_NONE, "0", 0, 0 },
	{ "authenticate_fails", M_RO, C_NONE, "0", 0, 0 },
	{ "authorize_fails", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "negotiate_fails", M_RO, C_NONE, "0", 0, 0 },
	{ "other_fails", M_RO, C_NONE, "0", 0, 0 },
	{ "redirects", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_iscsi_logout_stats_attrs[] = {
	{ "abnormal_logouts", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "normal_logouts", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};
static const struct emu_attr st_iscsi_sess_stats_attrs[] = {
	{ "cmd_pdus", M_RO, C_NONE, "0", 0, 0 },
	{ "conn_digest_errors", M_RO, C_NONE, "0", 0, 0 },
	{ "conn_timeout_errors", M_RO, C_NONE, "0", 0, 0 },
	{ "indx", M_RO, C_NONE, "0", 0, 0 },
	{ "inst", M_RO, C_NONE, "0", 0, 0 },
	{ "node", M_RO, C_NONE, "0", 0, 0 },
	{ "rsp_pdus", M_RO, C_NONE, "0", 0, 0 },
	{ "rxdata_octs", M_RO, C_NONE, "0", 0, 0 },
	{ "txdata_octs", M_RO, C_NONE, "0", 0, 0 },
	{ 0 },
};

static const struct emu_attr fabric_attrs[] = {
	{ "lio_version", M_RO, C_NONE, "Datera Inc. iSCSI Target v4.1.0", 0, FK_DISC_AUTH },
	{ "cpus_allowed_list", M_RW, C_STR, "0-1", 0, FK_DISC_AUTH }, /* the host's CPUs */
	{ "version", M_RO, C_NONE, "TCM Loopback Fabric module v2.1-rc2", 0, FK_LOOP },
	{ 0 },
};
/* target_core_fabric_configfs.c makes discovery_auth/ for every fabric; iSCSI fills it */
static const struct emu_group fabric_groups[] = {
	{ "discovery_auth", K_DISC_AUTH, 0, 0 },
	{ 0 },
};
static const struct emu_attr disc_auth_attrs[] = {
	{ "enforce_discovery_auth", M_RW, C_BOOL, "0", 0, FK_DISC_AUTH },
	{ "userid", M_RW, C_STR, "NULL", 0, FK_DISC_AUTH },
	{ "password", M_RW, C_STR, "NULL", 0, FK_DISC_AUTH },
	{ "userid_mutual", M_RW, C_STR, "NULL", 0, FK_DISC_AUTH },
	{ "password_mutual", M_RW, C_STR, "NULL", 0, FK_DISC_AUTH },
	{ "authenticate_target", M_RO, C_NONE, "0", 0, FK_DISC_AUTH },
	{ 0 },
};

static const struct emu_group wwn_groups[] = {
	{ "fabric_statistics", K_WWN_FSTATS, 0, 0 },
	{ "param", K_WWN_PARAM, 0, 0 },
	{ 0 },
};
static const struct emu_attr wwn_param_attrs[] = {
	{ "cmd_completion_affinity", M_RW, C_INT, "-1", 0, 0 },
	{ 0 },
};

static const struct emu_attr tpg_attrs[] = {
	{ "enable", M_RW, C_TPG_ENABLE, "0", 0, FK_TPG_ENABLE },
	{ "nexus", M_RW, C_NEXUS, "", 0, FK_NEXUS },
	{ "dynamic_sessions", M_RO, C_NONE, "", 0, FK_ISCSI_ATTRS },
	{ "address", M_RO, C_NONE, "0:0:1", 0, FK_LOOP }, /* host:channel:id of the SCSI host */
	{ "transport_status", M_RW, C_LOOP_STATUS, "online", 0, FK_LOOP },
	{ 0 },
};
static const struct emu_group tpg_groups[] = {
	{ "lun", K_LUNS, 0, 0 },
	{ "acls", K_ACLS, 0, 0 },
	{ "np", K_NPS, 0, 0 },
	{ "attrib", K_TPG_ATTRIB, 0, 0 },
	{ "param", K_TPG_PARAM, 0, 0 },
	{ "auth", K_TPG_AUTH, 0, 0 },
	{ 0 },
};

static const struct emu_attr lun_attrs[] = {
	{ "alua_tg_pt_gp", M_RW, C_TG_PT_GP, "", 0, 0 },
	{ "alua_tg_pt_offline", M_RW, C_BOOL, "0", 0, 0 },
	{ "alua_tg_pt_status", M_RW, C_UINT, "0", 0, 0 },
	{ "alua_tg_pt_write_md", M_RW, C_BOOL, "0", 0, 0 },
	{ 0 },
};
static const struct emu_group lun_groups[] = {
	{ "statistics", K_LUN_STATS, 0, 0 },
	{ 0 },
};

static const struct emu_attr acl_attrs[] = {
	{ "info", M_RO, C_NONE, "No active iSCSI Session for Initiator Endpoint: ", 0, FK_SESSIONS },
	{ "cmdsn_depth", M_RW, C_CMDSN, "64", 0, FK_ISCSI_ATTRS },
	{ "tag", M_RW, C_STR, "", 0, 0 },
	{ 0 },
};
static const struct emu_group acl_groups[] = {
	{ "attrib", K_ACL_ATTRIB, 0, 0 },
	{ "auth", K_ACL_AUTH, 0, 0 },
	{ "param", K_ACL_PARAM, 0, 0 },
	{ "fabric_statistics", K_ACL_FSTATS, 0, 0 },
	{ 0 },
};

static const struct emu_attr mlun_attrs[] = {
	{ "write_protect", M_RW, C_BOOL, "0", 0, 0 },
	{ 0 },
};
static const struct emu_group mlun_groups[] = {
	{ "statistics", K_MLUN_STATS, 0, 0 },
	{ 0 },
};

static const struct emu_attr np_attrs[] = {
	{ "iser", M_RW, C_BOOL, "0", 0, 0 },
	{ "cxgbit", M_RW, C_BOOL, "0", 0, 0 },
	{ 0 },
};

static const struct emu_attr tpg_attrib_attrs[] = {
	{ "authentication", M_RW, C_BOOL, "0", 0, FK_ISCSI_ATTRS },
	{ "cache_dynamic_acls", M_RW, C_BOOL, "0", 0, FK_ISCSI_ATTRS },
	{ "default_cmdsn_depth", M_RW, C_CMDSN, "64", 0, FK_ISCSI_ATTRS },
	{ "default_erl", M_RW, C_UINT, "0", 0, FK_ISCSI_ATTRS },
	{ "demo_mode_discovery", M_RW, C_BOOL, "1", 0, FK_ISCSI_ATTRS },
	{ "demo_mode_write_protect", M_RW, C_BOOL, "1", 0, FK_ISCSI_ATTRS },
	{ "generate_node_acls", M_RW, C_BOOL, "0", 0, FK_ISCSI_ATTRS },
	{ "login_timeout", M_RW, C_UINT, "15", 0, FK_ISCSI_ATTRS },
	{ "netif_timeout", M_RW, C_UINT, "2", 0, FK_ISCSI_ATTRS },
	{ "prod_mode_write_protect", M_RW, C_BOOL, "0", 0, FK_ISCSI_ATTRS },
	{ "t10_pi", M_RW, C_BOOL, "0", 0, FK_ISCSI_ATTRS },
	{ "tpg_enabled_sendtargets", M_RW, C_BOOL, "1", 0, FK_ISCSI_ATTRS },
	{ "login_keys_workaround", M_RW, C_BOOL, "1", 0, FK_ISCSI_ATTRS },
	{ "fabric_prot_type", M_RW, C_UINT, "0", 0, 0 },
	{ 0 },
};

static const struct emu_attr tpg_param_attrs[] = {
	{ "AuthMethod", M_RW, C_STR, "CHAP,None", 0, FK_ISCSI_ATTRS },
	{ "DataDigest", M_RW, C_STR, "CRC32C,None", 0, FK_ISCSI_ATTRS },
	{ "DataPDUInOrder", M_RW, C_STR, "Yes", 0, FK_ISCSI_ATTRS },
	{ "DataSequenceInOrder", M_RW, C_STR, "Yes", 0, FK_ISCSI_ATTRS },
	{ "DefaultTime2Retain", M_RW, C_UINT, "20", 0, FK_ISCSI_ATTRS },
	{ "DefaultTime2Wait", M_RW, C_UINT, "2", 0, FK_ISCSI_ATTRS },
	{ "ErrorRecoveryLevel", M_RW, C_UINT, "0", 0, FK_ISCSI_ATTRS },
	{ "FirstBurstLength", M_RW, C_UINT, "65536", 0, FK_ISCSI_ATTRS },
	{ "HeaderDigest", M_RW, C_STR, "CRC32C,None", 0, FK_ISCSI_ATTRS },
	{ "IFMarkInt", M_RW, C_STR, "Reject", 0, FK_ISCSI_ATTRS },
	{ "IFMarker", M_RW, C_STR, "No", 0, FK_ISCSI_ATTRS },
	{ "ImmediateData", M_RW, C_STR, "Yes", 0, FK_ISCSI_ATTRS },
	{ "InitialR2T", M_RW, C_STR, "Yes", 0, FK_ISCSI_ATTRS },
	{ "MaxBurstLength", M_RW, C_UINT, "262144", 0, FK_ISCSI_ATTRS },
	{ "MaxConnections", M_RW, C_UINT, "1", 0, FK_ISCSI_ATTRS },
	{ "MaxOutstandingR2T", M_RW, C_UINT, "1", 0, FK_ISCSI_ATTRS },
	{ "MaxRecvDataSegmentLength", M_RW, C_UINT, "8192", 0, FK_ISCSI_ATTRS },
	{ "MaxXmitDataSegmentLength", M_RW, C_UINT, "262144", 0, FK_ISCSI_ATTRS },
	{ "OFMarkInt", M_RW, C_STR, "Reject", 0, FK_ISCSI_ATTRS },
	{ "OFMarker", M_RW, C_STR, "No", 0, FK_ISCSI_ATTRS },
	{ "TargetAlias", M_RW, C_STR, "LIO Target", 0, FK_ISCSI_ATTRS },
	{ 0 },
};

static const struct emu_attr auth_attrs[] = {
	{ "userid", M_RW, C_STR, "\n", 0, FK_ISCSI_ATTRS },
	{ "password", M_RW, C_STR, "\n", 0, FK_ISCSI_ATTRS },
	{ "userid_mutual", M_RW, C_STR, "\n", 0, FK_ISCSI_ATTRS },
	{ "password_mutual", M_RW, C_STR, "\n", 0, FK_ISCSI_ATTRS },
	{ "authenticate_target", M_RO, C_NONE, "0", 0, FK_ISCSI_ATTRS },
	{ 0 },
};

static const struct emu_attr acl_attrib_attrs[] = {
	{ "dataout_timeout", M_RW, C_UINT, "3", 0, FK_ISCSI_ATTRS },
	{ "dataout_timeout_retries", M_RW, C_UINT, "5", 0, FK_ISCSI_ATTRS },
	{ "default_erl", M_RW, C_UINT, "0", 0, FK_ISCSI_ATTRS },
	{ "nopin_timeout", M_RW, C_UINT, "15", 0, FK_ISCSI_ATTRS },
	{ "nopin_response_timeout", M_RW, C_UINT, "30", 0, FK_ISCSI_ATTRS },
	{ "random_datain_pdu_offsets", M_RW, C_BOOL, "0", 0, FK_ISCSI_ATTRS },
	{ "random_datain_seq_offsets", M_RW, C_BOOL, "0", 0, FK_ISCSI_ATTRS },
	{ "random_r2t_offsets", M_RW, C_BOOL, "0", 0, FK_ISCSI_ATTRS },
	{ "authentication", M_RW, C_NONE, "-1", 0, FK_ISCSI_ATTRS }, /* -1: inherit from TPG */
	{ 0 },
};

/* the negotiated values of the active session; without one the kernel says so */
static const struct emu_attr acl_param_attrs[] = {
	{ "DataPDUInOrder", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "DataSequenceInOrder", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "DefaultTime2Retain", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "DefaultTime2Wait", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "ErrorRecoveryLevel", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "FirstBurstLength", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "ImmediateData", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "InitialR2T", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "MaxBurstLength", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "MaxConnections", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ "MaxOutstandingR2T", M_RO, C_NONE, "No Active iSCSI Session", 0, FK_ISCSI_ATTRS },
	{ 0 },
};

static const struct emu_attr none_attrs[] = { { 0 } };
static const struct emu_group none_groups[] = { { 0 } };

#define ST(k, n) [k] = { #n, st_##n##_attrs, none_groups, K_NONE, false }

const struct emu_kind_desc emu_kinds[K_MAX] = {
	[K_NONE]       = { "none", none_attrs, none_groups, K_NONE, false },
	[K_ROOT]       = { "configfs", root_attrs, root_groups, K_NONE, false },
	[K_TGT]        = { "target", tgt_attrs, tgt_groups, K_FABRIC, false },
	[K_CORE]       = { "core", none_attrs, core_groups, K_HBA, false },
	[K_CORE_ALUA]  = { "core-alua", none_attrs, core_alua_groups, K_NONE, false },
	[K_LU_GPS]     = { "lu_gps", none_attrs, lu_gps_groups, K_LU_GP, false },
	[K_LU_GP]      = { "lu_gp", lu_gp_attrs, none_groups, K_NONE, false },
	[K_HBA]        = { "hba", hba_attrs, none_groups, K_DEV, false },
	[K_DEV]        = { "device", dev_attrs, dev_groups, K_NONE, false },
	[K_DEV_ATTRIB] = { "device-attrib", dev_attrib_attrs, none_groups, K_NONE, false },
	[K_DEV_PR]     = { "device-pr", dev_pr_attrs, none_groups, K_NONE, false },
	[K_DEV_WWN]    = { "device-wwn", dev_wwn_attrs, none_groups, K_NONE, false },
	[K_DEV_ALUA]   = { "device-alua", none_attrs, dev_alua_groups, K_TG_PT_GP, false },
	[K_TG_PT_GP]   = { "tg_pt_gp", tg_pt_gp_attrs, none_groups, K_NONE, false },
	[K_DEV_ACTION] = { "device-action", dev_action_attrs, none_groups, K_NONE, false },
	[K_STATS]      = { "statistics", none_attrs, stats_groups, K_NONE, false },
	[K_LUN_STATS]  = { "lun-statistics", none_attrs, lun_stats_groups, K_NONE, false },
	[K_MLUN_STATS] = { "mapped-lun-statistics", none_attrs, mlun_stats_groups, K_NONE, false },
	[K_WWN_FSTATS] = { "wwn-fabric_statistics", none_attrs, wwn_fstats_groups, K_NONE, false },
	[K_ACL_FSTATS] = { "acl-fabric_statistics", none_attrs, acl_fstats_groups, K_NONE, false },
	ST(K_ST_SCSI_DEV, scsi_dev),
	ST(K_ST_SCSI_TGT_DEV, scsi_tgt_dev),
	ST(K_ST_SCSI_LU, scsi_lu),
	ST(K_ST_SCSI_PORT, scsi_port),
	ST(K_ST_SCSI_TGT_PORT, scsi_tgt_port),
	ST(K_ST_SCSI_TRANSPORT, scsi_transport),
	ST(K_ST_SCSI_AUTH_INTR, scsi_auth_intr),
	ST(K_ST_SCSI_ATT_INTR_PORT, scsi_att_intr_port),
	ST(K_ST_ISCSI_INSTANCE, iscsi_instance),
	ST(K_ST_ISCSI_SESS_ERR, iscsi_sess_err),
	ST(K_ST_ISCSI_TGT_ATTR, iscsi_tgt_attr),
	ST(K_ST_ISCSI_LOGIN_STATS, iscsi_login_stats),
	ST(K_ST_ISCSI_LOGOUT_STATS, iscsi_logout_stats),
	ST(K_ST_ISCSI_SESS_STATS, iscsi_sess_stats),
	[K_FABRIC]     = { "fabric", fabric_attrs, fabric_groups, K_WWN, false },
	[K_DISC_AUTH]  = { "discovery_auth", disc_auth_attrs, none_groups, K_NONE, false },
	[K_WWN]        = { "wwn", none_attrs, wwn_groups, K_TPG, false },
	[K_WWN_PARAM]  = { "wwn-param", wwn_param_attrs, none_groups, K_NONE, false },
	[K_TPG]        = { "tpg", tpg_attrs, tpg_groups, K_NONE, false },
	[K_LUNS]       = { "tpg-lun", none_attrs, none_groups, K_LUN, false },
	[K_LUN]        = { "lun", lun_attrs, lun_groups, K_NONE, true },
	[K_ACLS]       = { "tpg-acls", none_attrs, none_groups, K_ACL, false },
	[K_ACL]        = { "acl", acl_attrs, acl_groups, K_MLUN, false },
	[K_MLUN]       = { "mapped-lun", mlun_attrs, mlun_groups, K_NONE, true },
	[K_NPS]        = { "tpg-np", none_attrs, none_groups, K_NP, false },
	[K_NP]         = { "np", np_attrs, none_groups, K_NONE, false },
	[K_TPG_ATTRIB] = { "tpg-attrib", tpg_attrib_attrs, none_groups, K_NONE, false },
	[K_TPG_PARAM]  = { "tpg-param", tpg_param_attrs, none_groups, K_NONE, false },
	[K_TPG_AUTH]   = { "tpg-auth", auth_attrs, none_groups, K_NONE, false },
	[K_ACL_ATTRIB] = { "acl-attrib", acl_attrib_attrs, none_groups, K_NONE, false },
	[K_ACL_PARAM]  = { "acl-param", acl_param_attrs, none_groups, K_NONE, false },
	[K_ACL_AUTH]   = { "acl-auth", auth_attrs, none_groups, K_NONE, false },
	[K_EMPTY]      = { "empty", none_attrs, none_groups, K_NONE, false },
};
// clang-format on

static bool filters_match(unsigned int plugins, unsigned int kflags, const struct emu_loc *loc)
{
	if (plugins && (loc->plugin < 0 || !(plugins & (1u << loc->plugin))))
		return false;
	if (kflags && (!loc->fabric || !(loc->fabric->kflags & kflags)))
		return false;
	return true;
}

bool emu_attr_applies(const struct emu_attr *a, const struct emu_loc *loc)
{
	return filters_match(a->plugins, a->kflags, loc);
}

bool emu_group_applies(const struct emu_group *g, const struct emu_loc *loc)
{
	return filters_match(g->plugins, g->kflags, loc);
}
