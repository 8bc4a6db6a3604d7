/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file fabric.h
 * @brief Fabric modules, targets, TPGs, LUNs, network portals, node ACLs, mapped LUNs,
 *        CHAP credentials and sessions.
 *
 * Returns: functions returning int return 0 (or a count) on success and a negative errno
 * on failure, and never set errno; rts_ctx_last_error() then describes the failure.
 * Ownership: objects belong to their context and stay valid until deleted, until
 * rts_ctx_refresh() or until the context is released; strings returned through char **
 * are malloc()ed and the caller frees them; const char * results are owned by the object.
 * Threads: a context and everything reached through it is used by one thread at a time;
 * separate contexts are independent.
 */
#ifndef RTS_FABRIC_H
#define RTS_FABRIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rts/storage.h>
#include <rts/wwn.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rts_ctx;
struct rts_fabric;
struct rts_target;
struct rts_tpg;
struct rts_lun;
struct rts_portal;
struct rts_acl;
struct rts_mapped_lun;

/** Fabric features (rtslib names), a bit mask. */
enum rts_fabric_feature {
	RTS_FEAT_DISCOVERY_AUTH = 1u << 0, /**< fabric-wide discovery CHAP (iSCSI) */
	RTS_FEAT_ACLS = 1u << 1, /**< explicit node ACLs */
	RTS_FEAT_AUTH = 1u << 2, /**< per-TPG and per-ACL CHAP */
	RTS_FEAT_NPS = 1u << 3, /**< IP network portals */
	RTS_FEAT_TPGTS = 1u << 4, /**< several TPGs per target */
	RTS_FEAT_NEXUS = 1u << 5, /**< TPG nexus attribute (loopback, vhost, xen) */
};

/** Automatic index / tag selection for rts_lun_create(), rts_tpg_create()... */
#define RTS_AUTO UINT64_MAX

/** Longest CHAP user name or secret the kernel accepts (MAX_CHAP_N_SIZE - 1). */
#define RTS_CHAP_MAX 255

/** CHAP credentials (empty strings mean unset). */
struct rts_chap {
	char userid[RTS_CHAP_MAX + 1]; /**< initiator user name */
	char password[RTS_CHAP_MAX + 1]; /**< initiator secret */
	char mutual_userid[RTS_CHAP_MAX + 1]; /**< target user name (mutual CHAP) */
	char mutual_password[RTS_CHAP_MAX + 1]; /**< target secret (mutual CHAP) */
};

/** One connection of an iSCSI session. */
struct rts_connection {
	uint32_t cid; /**< connection id */
	char state[48]; /**< e.g. "TARG_CONN_STATE_LOGGED_IN" */
	char address[64]; /**< initiator address */
	char transport[16]; /**< "TCP", "iSER"... */
};

/** A session parsed from a node ACL's info attribute. */
struct rts_session {
	bool active; /**< false: no session (the other fields are empty) */
	char initiator[RTS_WWN_MAX + 1]; /**< InitiatorName */
	char alias[256]; /**< InitiatorAlias */
	uint32_t sid; /**< LIO Session ID */
	char isid[32]; /**< ISID as printed, e.g. "0x400001370001" */
	uint32_t tsih; /**< TSIH */
	char type[16]; /**< "Normal" or "Discovery" */
	char state[48]; /**< e.g. "TARG_SESS_STATE_LOGGED_IN" */
	size_t n_connections; /**< number of entries in connections */
	struct rts_connection connections[8]; /**< first 8 connections */
};

/* ---------------------------------------------------------------- fabrics */

/**
 * @brief First fabric module: every known fabric, spec-file fabrics and unknown fabrics
 *        present in configfs (loaded or not; see rts_fabric_is_loaded()).
 * @param ctx context
 * @return fabric or NULL
 */
struct rts_fabric *rts_fabric_first(struct rts_ctx *ctx);
/** @brief Next fabric. @param f current @return fabric or NULL */
struct rts_fabric *rts_fabric_next(struct rts_fabric *f);
/** Iterate over every fabric of @p ctx. */
#define rts_for_each_fabric(ctx, f) for (f = rts_fabric_first(ctx); f; f = rts_fabric_next(f))

/**
 * @brief Find a fabric by rtslib name ("iscsi", "loopback", "tcm_fc"...) or configfs name.
 * @param ctx context @param name name @param ret receives the fabric
 * @return 0 or -ENOENT
 */
int rts_fabric_lookup(struct rts_ctx *ctx, const char *name, struct rts_fabric **ret);
/** @brief rtslib name. @param f fabric @return name */
const char *rts_fabric_get_name(const struct rts_fabric *f);
/** @brief configfs directory name under target/. @param f fabric @return name */
const char *rts_fabric_get_configfs_name(const struct rts_fabric *f);
/** @brief Kernel module. @param f fabric @return module name */
const char *rts_fabric_get_kernel_module(const struct rts_fabric *f);
/** @brief Accepted WWN types, mask of RTS_WWN_MASK(). @param f fabric @return mask */
unsigned int rts_fabric_get_wwn_types(const struct rts_fabric *f);
/**
 * @brief Features: from the fabric table or spec file, refined by what the live tree
 *        shows once the fabric directory (and a TPG) exist.
 * @param f fabric @return mask of enum rts_fabric_feature
 */
unsigned int rts_fabric_get_features(const struct rts_fabric *f);
/** @brief Whether the fabric directory exists in configfs. @param f fabric @return bool */
bool rts_fabric_is_loaded(const struct rts_fabric *f);
/** @brief Whether the fabric comes from a spec file. @param f fabric @return bool */
bool rts_fabric_is_from_spec(const struct rts_fabric *f);
/**
 * @brief Load the fabric: libkmod load of its module (when @p load_module) and mkdir of
 *        its configfs directory. The only call that creates a fabric directory.
 * @param f fabric @param load_module also load the kernel module
 * @return 0 or negative errno
 */
int rts_fabric_load(struct rts_fabric *f, bool load_module);
/**
 * @brief Convert a normalised WWN to the configfs spelling of this fabric
 *        (colon form for qla2xxx/efct/tcm_fc, 0x for srpt, bare hex for sbp).
 * @param f fabric @param wwn normalised WWN @param buf output @param size buffer size
 * @return 0, -ENOSPC
 */
int rts_fabric_to_fabric_wwn(const struct rts_fabric *f, const char *wwn, char *buf, size_t size);
/**
 * @brief Validate and normalise a WWN for this fabric.
 * @param f fabric @param wwn user WWN @param buf output @param size buffer size
 * @return 0, -EINVAL, -ENOSPC
 */
int rts_fabric_normalize_wwn(const struct rts_fabric *f, const char *wwn, char *buf, size_t size);
/**
 * @brief Whether the fabric takes its target WWNs from hardware ports, i.e. whether
 *        rts_fabric_discover_wwns() supports it (qla2xxx, efct, tcm_fc, srpt, sbp,
 *        ibmvscsis, spec-file fabrics with wwn_from_files; rtslib's FabricModule.wwns is
 *        not None).
 * @param f fabric @return bool
 */
bool rts_fabric_has_hw_wwns(const struct rts_fabric *f);
/**
 * @brief List the WWNs of the hardware ports of this fabric, read from sysfs as rtslib's
 *        FabricModule.wwns does: qla2xxx/efct: class/fc_host/host{N}/port_name of the
 *        hosts driven by qla2xxx/efct; tcm_fc: the same files of FCoE hosts; srpt:
 *        class/infiniband/{dev}/ports/{N}/gids/0; sbp: bus/firewire/devices/fw{N}/guid of
 *        the first local node; ibmvscsis: module/ibmvscsis/drivers/vio:ibmvscsis/{dev}/devspec;
 *        spec-file fabrics: the files matching their wwn_from_files patterns below /sys
 *        (blank- or NUL-separated WWNs; wwn_from_files_filter, a shell command, is not run:
 *        each WWN is normalised for the fabric's WWN types instead).
 *        Read only (no module loading, no mkdir, no configfs access); missing directories
 *        give an empty list, malformed or unreadable files are skipped.
 * @param f fabric
 * @param sysfs_root sysfs mount point (absolute), NULL for "/sys"
 * @param ret receives a NULL-terminated array of distinct WWNs in the fabric's configfs
 *        spelling (what rts_fabric_to_fabric_wwn() gives, e.g. "21:00:00:24:ff:31:4c:48",
 *        "0xfe800000000000000002c90300a1b2c3", "0011223344556677"); every entry is accepted
 *        by rts_fabric_normalize_wwn() and rts_target_create(). Free with rts_wwns_free().
 * @param ret_count receives the number of entries (may be NULL)
 * @return 0, -EOPNOTSUPP (fabric without hardware ports: iscsi, loopback, vhost, xen-pvscsi,
 *         usb_gadget, unknown fabrics, spec-file fabrics without wwn_from_files), -EINVAL,
 *         -ENOMEM
 */
int rts_fabric_discover_wwns(const struct rts_fabric *f, const char *sysfs_root, char ***ret,
			     size_t *ret_count);
/**
 * @brief Free an array returned by rts_fabric_discover_wwns().
 * @param wwns NULL-terminated array or NULL
 * @return NULL
 */
char **rts_wwns_free(char **wwns);
/**
 * @brief Read the discovery CHAP settings (iSCSI).
 * @param f fabric @param enforce receives enforce_discovery_auth @param chap receives creds
 * @return 0, -EOPNOTSUPP, negative errno
 */
int rts_fabric_get_discovery_auth(struct rts_fabric *f, bool *enforce, struct rts_chap *chap);
/**
 * @brief Write the discovery CHAP settings (iSCSI).
 * @param f fabric @param enforce enforce_discovery_auth @param chap credentials or NULL
 * @return 0, -EOPNOTSUPP, negative errno
 */
int rts_fabric_set_discovery_auth(struct rts_fabric *f, bool enforce, const struct rts_chap *chap);

/* ---------------------------------------------------------------- targets */

/** @brief First target of a fabric. @param f fabric @return target or NULL */
struct rts_target *rts_target_first(struct rts_fabric *f);
/** @brief Next target. @param t current @return target or NULL */
struct rts_target *rts_target_next(struct rts_target *t);
/** Iterate over the targets of fabric @p f. */
#define rts_for_each_target(f, t) for (t = rts_target_first(f); t; t = rts_target_next(t))
/**
 * @brief Create a target (the fabric directory must exist, see rts_fabric_load()).
 * @param f fabric
 * @param wwn WWN in any accepted spelling, NULL to generate one
 * @param ret receives the target (may be NULL)
 * @return 0, -EEXIST, -EINVAL (WWN), -ENODEV (fabric not loaded)
 */
int rts_target_create(struct rts_fabric *f, const char *wwn, struct rts_target **ret);
/**
 * @brief Find a target by WWN (any accepted spelling).
 * @param f fabric @param wwn WWN @param ret receives the target
 * @return 0, -ENOENT, -EINVAL
 */
int rts_target_lookup(struct rts_fabric *f, const char *wwn, struct rts_target **ret);
/** @brief Delete a target and everything below. @param t target @return 0 or -errno */
int rts_target_delete(struct rts_target *t);
/** @brief Normalised WWN. @param t target @return WWN */
const char *rts_target_get_wwn(const struct rts_target *t);
/** @brief Fabric. @param t target @return fabric */
struct rts_fabric *rts_target_get_fabric(const struct rts_target *t);
/** @brief configfs path. @param t target @return path */
const char *rts_target_get_path(const struct rts_target *t);

/* ---------------------------------------------------------------- TPGs */

/** @brief First TPG. @param t target @return TPG or NULL */
struct rts_tpg *rts_tpg_first(struct rts_target *t);
/** @brief Next TPG. @param tpg current @return TPG or NULL */
struct rts_tpg *rts_tpg_next(struct rts_tpg *tpg);
/** Iterate over the TPGs of target @p t. */
#define rts_for_each_tpg(t, tpg) for (tpg = rts_tpg_first(t); tpg; tpg = rts_tpg_next(tpg))
/**
 * @brief Create a TPG.
 * @param t target
 * @param tag tag 1..65535, or RTS_AUTO for the lowest free tag
 * @param ret receives the TPG (may be NULL)
 * @return 0, -EEXIST, -EINVAL, -EOPNOTSUPP (second TPG without the tpgts feature)
 */
int rts_tpg_create(struct rts_target *t, uint64_t tag, struct rts_tpg **ret);
/** @brief Find a TPG by tag. @param t target @param tag tag @param ret TPG @return 0/-ENOENT */
int rts_tpg_lookup(struct rts_target *t, uint16_t tag, struct rts_tpg **ret);
/** @brief Delete a TPG and everything below. @param tpg TPG @return 0 or -errno */
int rts_tpg_delete(struct rts_tpg *tpg);
/** @brief Tag. @param tpg TPG @return tag */
uint16_t rts_tpg_get_tag(const struct rts_tpg *tpg);
/** @brief Target. @param tpg TPG @return target */
struct rts_target *rts_tpg_get_target(const struct rts_tpg *tpg);
/** @brief configfs path. @param tpg TPG @return path */
const char *rts_tpg_get_path(const struct rts_tpg *tpg);
/**
 * @brief Read a TPG attribute, parameter or auth setting.
 * @param tpg TPG @param group group @param name name @param ret receives the value
 * @return 0 or negative errno
 */
int rts_tpg_get_attr(struct rts_tpg *tpg, enum rts_group group, const char *name, char **ret);
/**
 * @brief Write a TPG attribute, parameter or auth setting.
 * @param tpg TPG @param group group @param name name @param value value
 * @return 0 or negative errno
 */
int rts_tpg_set_attr(struct rts_tpg *tpg, enum rts_group group, const char *name,
		     const char *value);
/**
 * @brief Call @p fn for every TPG attribute, parameter or auth setting of a group.
 * @param tpg TPG @param group group @param fn callback @param userdata for @p fn
 * @return 0, the callback's non-zero value, or negative errno
 */
int rts_tpg_foreach_attr(struct rts_tpg *tpg, enum rts_group group, rts_attr_fn fn, void *userdata);
/**
 * @brief Whether the TPG is enabled (true for fabrics without an enable attribute).
 * @param tpg TPG @param ret receives the state
 * @return 0 or negative errno
 */
int rts_tpg_get_enable(struct rts_tpg *tpg, bool *ret);
/** @brief Enable or disable. @param tpg TPG @param enable state @return 0 or -errno */
int rts_tpg_set_enable(struct rts_tpg *tpg, bool enable);
/**
 * @brief Set the nexus (loopback, vhost, xen-pvscsi); NULL or "" removes it.
 * @param tpg TPG @param wwn initiator WWN or NULL/"" (NULL with no nexus: generated)
 * @return 0, -EOPNOTSUPP, -EEXIST, -EINVAL
 */
int rts_tpg_set_nexus(struct rts_tpg *tpg, const char *wwn);
/** @brief Read the nexus ("" when none). @param tpg TPG @param ret value @return 0/-errno */
int rts_tpg_get_nexus(struct rts_tpg *tpg, char **ret);
/**
 * @brief Set TPG CHAP (auth/userid, password, *_mutual) and attrib/authentication.
 * @param tpg TPG @param chap credentials or NULL to clear and disable authentication
 * @return 0, -EOPNOTSUPP, negative errno
 */
int rts_tpg_set_chap(struct rts_tpg *tpg, const struct rts_chap *chap);
/** @brief Read TPG CHAP. @param tpg TPG @param chap receives creds @return 0/-errno */
int rts_tpg_get_chap(struct rts_tpg *tpg, struct rts_chap *chap);

/* ---------------------------------------------------------------- LUNs */

/** @brief First LUN (ascending index). @param tpg TPG @return LUN or NULL */
struct rts_lun *rts_lun_first(struct rts_tpg *tpg);
/** @brief Next LUN. @param lun current @return LUN or NULL */
struct rts_lun *rts_lun_next(struct rts_lun *lun);
/** Iterate over the LUNs of @p tpg. */
#define rts_for_each_lun(tpg, lun) for (lun = rts_lun_first(tpg); lun; lun = rts_lun_next(lun))
/**
 * @brief Create a LUN exporting @p so.
 * @param tpg TPG
 * @param index LUN id (64-bit, beyond 255 allowed) or RTS_AUTO for the lowest free id
 * @param so enabled storage object
 * @param alias link name, NULL to generate one (10 hex digits, like rtslib)
 * @param ret receives the LUN (may be NULL)
 * @return 0, -EEXIST, -ENODEV (object not enabled), -EINVAL
 */
int rts_lun_create(struct rts_tpg *tpg, uint64_t index, struct rts_so *so, const char *alias,
		   struct rts_lun **ret);
/** @brief Find a LUN. @param tpg TPG @param index id @param ret LUN @return 0 or -ENOENT */
int rts_lun_lookup(struct rts_tpg *tpg, uint64_t index, struct rts_lun **ret);
/** @brief Delete a LUN, its mapped LUNs first. @param lun LUN @return 0 or -errno */
int rts_lun_delete(struct rts_lun *lun);
/** @brief Index. @param lun LUN @return index */
uint64_t rts_lun_get_index(const struct rts_lun *lun);
/** @brief Storage object (NULL for a LUN without link). @param lun LUN @return object */
struct rts_so *rts_lun_get_so(const struct rts_lun *lun);
/** @brief Alias (link name, NULL when unlinked). @param lun LUN @return alias */
const char *rts_lun_get_alias(const struct rts_lun *lun);
/** @brief TPG. @param lun LUN @return TPG */
struct rts_tpg *rts_lun_get_tpg(const struct rts_lun *lun);
/** @brief configfs path. @param lun LUN @return path */
const char *rts_lun_get_path(const struct rts_lun *lun);
/**
 * @brief ALUA target port group membership (alua_tg_pt_gp).
 * @param lun LUN @param ret receives the group name
 * @return 0 or negative errno
 */
int rts_lun_get_alua_group(struct rts_lun *lun, char **ret);
/**
 * @brief Move the LUN into ALUA group @p name of its storage object.
 * @param lun LUN @param name group name
 * @return 0, -ENODEV (no such group), negative errno
 */
int rts_lun_set_alua_group(struct rts_lun *lun, const char *name);

/* ---------------------------------------------------------------- network portals */

/** @brief First portal. @param tpg TPG @return portal or NULL */
struct rts_portal *rts_portal_first(struct rts_tpg *tpg);
/** @brief Next portal. @param np current @return portal or NULL */
struct rts_portal *rts_portal_next(struct rts_portal *np);
/** Iterate over the network portals of @p tpg. */
#define rts_for_each_portal(tpg, np) for (np = rts_portal_first(tpg); np; np = rts_portal_next(np))
/**
 * @brief Create a network portal.
 * @param tpg TPG (fabric with the nps feature)
 * @param ip IPv4 or IPv6 address (brackets optional), "0.0.0.0" / "::" for any
 * @param port TCP port (0: 3260)
 * @param ret receives the portal (may be NULL)
 * @return 0, -EEXIST, -EINVAL (address), -EOPNOTSUPP
 */
int rts_portal_create(struct rts_tpg *tpg, const char *ip, uint16_t port, struct rts_portal **ret);
/**
 * @brief Find a portal. @param tpg TPG @param ip address @param port port
 * @param ret receives the portal @return 0, -ENOENT, -EINVAL
 */
int rts_portal_lookup(struct rts_tpg *tpg, const char *ip, uint16_t port, struct rts_portal **ret);
/** @brief Delete. @param np portal @return 0 or -errno */
int rts_portal_delete(struct rts_portal *np);
/** @brief Address without brackets. @param np portal @return address */
const char *rts_portal_get_ip(const struct rts_portal *np);
/** @brief Port. @param np portal @return port */
uint16_t rts_portal_get_port(const struct rts_portal *np);
/** @brief Whether the address is IPv6. @param np portal @return bool */
bool rts_portal_is_ipv6(const struct rts_portal *np);
/**
 * @brief Read a transport flag ("iser", "cxgbit" offload, "sctp").
 * @param np portal @param transport flag name @param ret receives the state
 * @return 0, -ENOENT (not supported by the kernel), negative errno
 */
int rts_portal_get_transport(struct rts_portal *np, const char *transport, bool *ret);
/**
 * @brief Enable or disable a transport flag ("iser", "cxgbit", "sctp").
 * @param np portal @param transport flag name @param enable state
 * @return 0 or negative errno
 */
int rts_portal_set_transport(struct rts_portal *np, const char *transport, bool enable);

/* ---------------------------------------------------------------- node ACLs */

/** @brief First ACL. @param tpg TPG @return ACL or NULL */
struct rts_acl *rts_acl_first(struct rts_tpg *tpg);
/** @brief Next ACL. @param acl current @return ACL or NULL */
struct rts_acl *rts_acl_next(struct rts_acl *acl);
/** Iterate over the node ACLs of @p tpg. */
#define rts_for_each_acl(tpg, acl) for (acl = rts_acl_first(tpg); acl; acl = rts_acl_next(acl))
/**
 * @brief Create a node ACL.
 * @param tpg TPG (fabric with the acls feature)
 * @param wwn initiator WWN (validated against the fabric's WWN types)
 * @param ret receives the ACL (may be NULL)
 * @return 0, -EEXIST, -EINVAL, -EOPNOTSUPP
 */
int rts_acl_create(struct rts_tpg *tpg, const char *wwn, struct rts_acl **ret);
/** @brief Find an ACL. @param tpg TPG @param wwn WWN @param ret ACL @return 0/-ENOENT/-EINVAL */
int rts_acl_lookup(struct rts_tpg *tpg, const char *wwn, struct rts_acl **ret);
/** @brief Delete (mapped LUNs first). @param acl ACL @return 0 or -errno */
int rts_acl_delete(struct rts_acl *acl);
/** @brief Initiator WWN. @param acl ACL @return WWN */
const char *rts_acl_get_wwn(const struct rts_acl *acl);
/** @brief TPG. @param acl ACL @return TPG */
struct rts_tpg *rts_acl_get_tpg(const struct rts_acl *acl);
/** @brief configfs path. @param acl ACL @return path */
const char *rts_acl_get_path(const struct rts_acl *acl);
/**
 * @brief Read an ACL attribute (groups NONE, ATTRIB, PARAM, AUTH).
 * @param acl ACL @param group group @param name name @param ret value
 * @return 0 or negative errno
 */
int rts_acl_get_attr(struct rts_acl *acl, enum rts_group group, const char *name, char **ret);
/**
 * @brief Write an ACL attribute.
 * @param acl ACL @param group group @param name name @param value value
 * @return 0 or negative errno
 */
int rts_acl_set_attr(struct rts_acl *acl, enum rts_group group, const char *name,
		     const char *value);
/**
 * @brief Call @p fn for every ACL attribute of a group.
 * @param acl ACL @param group group @param fn callback @param userdata for @p fn
 * @return 0, the callback's non-zero value, or negative errno
 */
int rts_acl_foreach_attr(struct rts_acl *acl, enum rts_group group, rts_attr_fn fn, void *userdata);
/** @brief Set ACL CHAP. @param acl ACL @param chap creds or NULL to clear @return 0/-errno */
int rts_acl_set_chap(struct rts_acl *acl, const struct rts_chap *chap);
/** @brief Read ACL CHAP. @param acl ACL @param chap receives creds @return 0/-errno */
int rts_acl_get_chap(struct rts_acl *acl, struct rts_chap *chap);
/** @brief cmdsn_depth. @param acl ACL @param ret value @return 0/-errno */
int rts_acl_get_cmdsn_depth(struct rts_acl *acl, uint32_t *ret);
/** @brief Set cmdsn_depth (1..512). @param acl ACL @param depth value @return 0/-errno */
int rts_acl_set_cmdsn_depth(struct rts_acl *acl, uint32_t depth);
/** @brief ACL tag (group), "" when unset. @param acl ACL @param ret value @return 0/-errno */
int rts_acl_get_tag(struct rts_acl *acl, char **ret);
/** @brief Set the tag; NULL clears it. @param acl ACL @param tag tag @return 0/-errno */
int rts_acl_set_tag(struct rts_acl *acl, const char *tag);
/**
 * @brief Parse the session of this initiator from the ACL's info attribute.
 * @param acl ACL @param ret receives the session (active=false when logged out)
 * @return 0, -EOPNOTSUPP (fabric without session info), negative errno
 */
int rts_acl_get_session(struct rts_acl *acl, struct rts_session *ret);
/**
 * @brief Parse the text of an iSCSI node ACL info attribute (exposed for tests/fuzzing).
 * @param text NUL-terminated text @param ret receives the session
 * @return 0 or -EINVAL
 */
int rts_session_parse(const char *text, struct rts_session *ret);

/* ---------------------------------------------------------------- ACL groups */

/*
 * ACL groups (rtslib NodeACLGroup): the node ACLs of a TPG sharing a tag. A group exists
 * while one of its ACLs carries the tag; mappings made through the group are made for
 * every member.
 */

/**
 * @brief Call @p fn once for every ACL group (distinct non-empty tag) of @p tpg.
 * @param tpg TPG @param fn callback @param userdata for @p fn
 * @return 0, the callback's non-zero value, or negative errno
 */
int rts_tpg_foreach_acl_group(struct rts_tpg *tpg, int (*fn)(void *userdata, const char *group),
			      void *userdata);
/**
 * @brief Create a node ACL tagged with @p group.
 * @param tpg TPG @param group group name @param wwn initiator WWN
 * @param ret receives the ACL (may be NULL)
 * @return 0 or negative errno (as rts_acl_create(), rts_acl_set_tag())
 */
int rts_acl_group_add_acl(struct rts_tpg *tpg, const char *group, const char *wwn,
			  struct rts_acl **ret);
/**
 * @brief Map @p lun as @p index for every ACL of @p group (members already mapping
 *        @p index are left alone).
 * @param tpg TPG
 * @param group group
 * @param index mapped LUN id (not RTS_AUTO)
 * @param lun LUN of @p tpg
 * @param write_protect map read-only
 * @return 0, -ENOENT (empty group), negative errno
 */
int rts_acl_group_map_lun(struct rts_tpg *tpg, const char *group, uint64_t index,
			  struct rts_lun *lun, bool write_protect);
/**
 * @brief Remove mapped LUN @p index from every ACL of @p group.
 * @param tpg TPG @param group group @param index mapped LUN id
 * @return 0, -ENOENT (nothing mapped), negative errno
 */
int rts_acl_group_unmap_lun(struct rts_tpg *tpg, const char *group, uint64_t index);
/**
 * @brief Delete every ACL of @p group.
 * @param tpg TPG @param group group
 * @return 0, -ENOENT (no such group), negative errno
 */
int rts_acl_group_delete(struct rts_tpg *tpg, const char *group);

/* ---------------------------------------------------------------- mapped LUNs */

/** @brief First mapped LUN. @param acl ACL @return mapped LUN or NULL */
struct rts_mapped_lun *rts_mapped_lun_first(struct rts_acl *acl);
/** @brief Next mapped LUN. @param m current @return mapped LUN or NULL */
struct rts_mapped_lun *rts_mapped_lun_next(struct rts_mapped_lun *m);
/** Iterate over the mapped LUNs of @p acl. */
#define rts_for_each_mapped_lun(acl, m) \
	for (m = rts_mapped_lun_first(acl); m; m = rts_mapped_lun_next(m))
/**
 * @brief Map TPG LUN @p lun as @p index for the initiator of @p acl.
 * @param acl ACL
 * @param index mapped LUN id or RTS_AUTO (lowest free)
 * @param lun LUN of the same TPG
 * @param write_protect map read-only
 * @param ret receives the mapped LUN (may be NULL)
 * @return 0, -EEXIST, -EINVAL (other TPG)
 */
int rts_mapped_lun_create(struct rts_acl *acl, uint64_t index, struct rts_lun *lun,
			  bool write_protect, struct rts_mapped_lun **ret);
/**
 * @brief rts_mapped_lun_create() with the link named @p alias (rtslib's MappedLUN alias,
 *        saved in saveconfig.json). write_protect is written after the link, since the
 *        kernel keeps it in the entry the link makes.
 * @param acl ACL
 * @param index mapped LUN id or RTS_AUTO (lowest free)
 * @param lun LUN of the same TPG
 * @param alias link name (a valid configfs name), NULL to generate one (10 hex digits)
 * @param write_protect map read-only
 * @param ret receives the mapped LUN (may be NULL)
 * @return 0, -EEXIST, -EINVAL (other TPG, bad alias)
 */
int rts_mapped_lun_create_alias(struct rts_acl *acl, uint64_t index, struct rts_lun *lun,
				const char *alias, bool write_protect, struct rts_mapped_lun **ret);
/** @brief Find. @param acl ACL @param index id @param ret mapped LUN @return 0/-ENOENT */
int rts_mapped_lun_lookup(struct rts_acl *acl, uint64_t index, struct rts_mapped_lun **ret);
/** @brief Delete. @param m mapped LUN @return 0 or -errno */
int rts_mapped_lun_delete(struct rts_mapped_lun *m);
/** @brief Index. @param m mapped LUN @return index */
uint64_t rts_mapped_lun_get_index(const struct rts_mapped_lun *m);
/** @brief The TPG LUN it maps (NULL if unlinked). @param m mapped LUN @return LUN */
struct rts_lun *rts_mapped_lun_get_lun(const struct rts_mapped_lun *m);
/** @brief ACL. @param m mapped LUN @return ACL */
struct rts_acl *rts_mapped_lun_get_acl(const struct rts_mapped_lun *m);
/** @brief Read write_protect. @param m mapped LUN @param ret state @return 0/-errno */
int rts_mapped_lun_get_write_protect(struct rts_mapped_lun *m, bool *ret);
/** @brief Set write_protect. @param m mapped LUN @param wp state @return 0/-errno */
int rts_mapped_lun_set_write_protect(struct rts_mapped_lun *m, bool wp);

#ifdef __cplusplus
}
#endif

#endif
