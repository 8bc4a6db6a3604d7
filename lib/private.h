/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librts internals: struct bodies of every opaque object and helpers shared by the
 * library sources. Never installed.
 */
#ifndef RTS_LIB_PRIVATE_H
#define RTS_LIB_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include <rts/rts.h>

#include "list.h"
#include "macro.h"

#define RTS_PATH_MAX  4096
/* Largest attribute value read (configfs attributes are at most one page). */
#define RTS_VALUE_MAX 4096

/* ------------------------------------------------------------ backend */

struct rts_backend {
	const struct rts_backend_ops *ops;
	void *data;
	struct rts_backend *raw; /* emulated backend: the wrapped one */
	bool is_real_configfs; /* real backend on the default root */
	bool in_memory; /* memory backend: rehearsals never touch host files */
};

/* ------------------------------------------------------------ hash index */

struct rts_index_slot {
	const char *key;
	void *value;
	uint64_t hash;
};

/* Open-addressing map from a string key (owned by the value) to a pointer. */
struct rts_index {
	struct rts_index_slot *slots;
	size_t size; /* power of two */
	size_t count; /* live entries */
	size_t used; /* live + tombstones */
};

int index_put(struct rts_index *ix, const char *key, void *value);
void *index_get(const struct rts_index *ix, const char *key);
void index_del(struct rts_index *ix, const char *key);
void index_free(struct rts_index *ix);

/* ------------------------------------------------------------ fabric table */

/* Kernel behaviour flags of a fabric (used by the emulator and the model). */
enum fabric_kflags {
	FK_TPG_ENABLE = 1u << 0, /* tpgt_N/enable exists */
	FK_NEXUS = 1u << 1, /* tpgt_N/nexus exists */
	FK_NP = 1u << 2, /* np/ accepts mkdir (iSCSI) */
	FK_DISC_AUTH = 1u << 3, /* fabric/discovery_auth/ */
	FK_ISCSI_ATTRS = 1u << 4, /* iSCSI attrib/param/auth sets */
	FK_COLON_WWN = 1u << 5, /* configfs wwn in colon form */
	FK_HEX0X_WWN = 1u << 6, /* configfs wwn as 0x<hex> (srpt) */
	FK_BARE_WWN = 1u << 7, /* configfs wwn without "eui." (sbp) */
	FK_SESSIONS = 1u << 8, /* acl info shows sessions */
	FK_LOOP = 1u << 9, /* tcm_loop: version, tpgt_N/address, transport_status */
};

struct rts_fabric_spec {
	const char *name; /* rtslib name */
	const char *cfs_name; /* configfs directory */
	const char *module; /* kernel module */
	unsigned int wwn_types; /* mask, first preferred = lowest set in order below */
	enum rts_wwn_type native; /* type generated */
	unsigned int features; /* enum rts_fabric_feature */
	unsigned int kflags; /* enum fabric_kflags */
	unsigned int max_tpgt; /* highest tag the kernel accepts */
	char **wwn_from_files; /* spec files: glob patterns of WWN files (NULL-terminated) */
};

extern const struct rts_fabric_spec rts_fabric_table[];
extern const size_t rts_fabric_table_len;
const struct rts_fabric_spec *fabric_spec_by_cfs(const char *cfs_name);

/* Parse one spec file (rtslib-style "key = value" lines). Allocates strings in *spec. */
int fabric_spec_parse(const char *name, const char *text, struct rts_fabric_spec *spec);
void fabric_spec_clear(struct rts_fabric_spec *spec);

/* ------------------------------------------------------------ objects */

/* Directory listing collected into arrays (so the caller may modify the directory): the one
 * name vector of librts (the emulated backend lists its raw backend into it too). */
struct rts_names {
	char **v;
	enum rts_ftype *t;
	size_t n, cap;
};

struct rts_ctx {
	struct rts_backend *be;
	rts_log_fn log_fn;
	void *log_ud;
	int log_priority;
	struct rts_error err;

	char *lock_path;
	int lock_fd;
	unsigned int lock_depth;
	bool emu_shared; /* emulated backend on a directory other processes may change */

	char *spec_dir;
	/*
	 * The tree is read lazily, a level at a time, so a command reads what it touches and
	 * not the whole configfs tree: the fabric list (top_walked), storage objects and LU
	 * groups (core_walked), each fabric's targets and TPGs (rts_fabric.walked), each TPG's
	 * LUNs, portals, and ACLs with their mapped LUNs (rts_tpg.walked, each part apart), each
	 * storage object's ALUA groups (rts_so.alua_walked). ensure_tree() reads everything.
	 */
	bool top_walked;
	bool core_walked; /* every storage object read (so_probe() may add single ones before) */
	bool core_listed; /* core_hbas holds target/core's entries */
	struct rts_names core_hbas;
	/* "@<plugin>/<name>" of the last storage object so_probe() did not find: a lookup and the
	 * create that follows probe every HBA once, not twice */
	char so_absent[RTS_NAME_MAX + 16];
	struct list_node sos; /* struct rts_so */
	struct list_node fabrics; /* struct rts_fabric */
	struct list_node lu_gps; /* struct rts_lu_gp */
	struct rts_index index; /* every object by configfs path */
	uint32_t hba_next[RTS_PLUGIN_MAX]; /* next free HBA index per plugin */
};

struct rts_so {
	struct rts_ctx *ctx;
	struct list_node node;
	enum rts_plugin plugin;
	uint32_t hba_index;
	char *name;
	char *path;
	char *key; /* "@<plugin>/<name>": lookup by name without a scan */
	struct list_node alua; /* struct rts_alua_tpg */
	bool alua_walked;
	bool exporters_read; /* every LUN exporting it is resolved: lun_count is complete */
	unsigned int lun_count; /* complete only after ensure_so_exporters() or ensure_tree() */
};

struct rts_alua_tpg {
	struct rts_so *so;
	struct list_node node;
	char *name;
	char *path;
};

struct rts_lu_gp {
	struct rts_ctx *ctx;
	struct list_node node;
	char *name;
	char *path;
};

struct rts_fabric {
	struct rts_ctx *ctx;
	struct list_node node;
	struct rts_fabric_spec spec; /* strings owned when from_spec/unknown */
	bool owns_strings;
	bool from_spec;
	bool loaded;
	bool walked;
	unsigned int features;
	char *path;
	struct list_node targets;
};

struct rts_target {
	struct rts_fabric *fabric;
	struct list_node node;
	char *wwn; /* normalised */
	char *path;
	struct list_node tpgs;
};

struct rts_tpg {
	struct rts_target *target;
	struct list_node node;
	uint16_t tag;
	char *path;
	struct list_node luns; /* sorted by index */
	struct list_node acls;
	struct list_node portals;
	unsigned int walked; /* TPG_* parts read: luns, portals, acls (with their mapped LUNs) */
};

struct rts_lun {
	struct rts_tpg *tpg;
	struct list_node node;
	uint64_t index;
	/*
	 * A LUN read from configfs is known by its directory; its link (alias, target) is read
	 * by lun_read_link() and the storage object resolved by lun_get_so() when first asked,
	 * so listing a TPG's LUNs costs one directory read. ensure_tree() resolves them all.
	 */
	bool linked;
	bool so_resolved;
	struct rts_so *so;
	char *alias;
	char *so_path; /* the link's target while so is unresolved */
	char *path;
	unsigned int mapped_count;
};

struct rts_portal {
	struct rts_tpg *tpg;
	struct list_node node;
	char *ip;
	uint16_t port;
	bool ipv6;
	char *path;
};

struct rts_acl {
	struct rts_tpg *tpg;
	struct list_node node;
	char *wwn;
	char *path;
	struct list_node mapped; /* sorted by index */
};

struct rts_mapped_lun {
	struct rts_acl *acl;
	struct list_node node;
	uint64_t index;
	struct rts_lun *lun;
	char *path;
};

/* ------------------------------------------------------------ helpers (ctx.c, util.c) */

void rts_log(struct rts_ctx *ctx, int prio, const char *file, int line, const char *fn,
	     const char *fmt, ...) _printf_(6, 7);
#define rts_dbg(ctx, ...) rts_log(ctx, LOG_DEBUG, __FILE__, __LINE__, __func__, __VA_ARGS__)

/* Record an error on ctx and return code (negative errno). */
int rts_error(struct rts_ctx *ctx, int code, const char *path, const char *fmt, ...) _printf_(4, 5);

/* Transaction lock around a change; unlocked by the cleanup attribute. */
struct rts_txn {
	struct rts_ctx *ctx;
	bool locked;
};
int txn_begin(struct rts_ctx *ctx, struct rts_txn *txn);
void txn_end(struct rts_txn *txn);
#define _cleanup_txn_ _cleanup_(txn_end)

/* Read a level of the tree if it has not been read (see struct rts_ctx). 0 or -errno. */
int ensure_tree(struct rts_ctx *ctx); /* everything */
int ensure_tpgs(struct rts_ctx *ctx, unsigned int parts); /* those parts of every TPG */
int ensure_top(struct rts_ctx *ctx);
int ensure_core(struct rts_ctx *ctx);
int ensure_fabric(struct rts_fabric *f);
int lun_read_link(struct rts_lun *lun);
struct rts_so *lun_get_so(struct rts_lun *lun);
int ensure_tpg(struct rts_tpg *tpg); /* every part */
enum { TPG_LUNS = 1, TPG_PORTALS = 2, TPG_ACLS = 4, TPG_ALL = 7 };
int ensure_tpg_parts(struct rts_tpg *tpg, unsigned int parts);
int ensure_so_alua(struct rts_so *so);
int ensure_so_exporters(struct rts_so *so); /* every LUN exporting it */
/* One storage object without reading every HBA: 0 with *ret NULL when there is none. */
int so_probe(struct rts_ctx *ctx, enum rts_plugin plugin, const char *name, struct rts_so **ret);
void tree_free(struct rts_ctx *ctx);

/* Path helpers: snprintf into a PATH_MAX buffer, -ENAMETOOLONG on overflow. */
int path_fmt(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
char *path_dup(const char *fmt, ...) _printf_(1, 2);

/* Checked configfs I/O through the ctx backend; errors recorded with the path. */
int cfs_read(struct rts_ctx *ctx, const char *path, char **ret);
int cfs_read_u64(struct rts_ctx *ctx, const char *path, uint64_t *ret);
int cfs_write(struct rts_ctx *ctx, const char *path, const char *value);
int cfs_mkdir(struct rts_ctx *ctx, const char *path);
int cfs_rmdir(struct rts_ctx *ctx, const char *path);
int cfs_symlink(struct rts_ctx *ctx, const char *target, const char *path);
int cfs_unlink(struct rts_ctx *ctx, const char *path);
bool cfs_exists(struct rts_ctx *ctx, const char *path, enum rts_ftype type);
/* Best-effort undo of what a failed create made; the error already recorded stays the one
 * reported (the undo's own failure is ignored). */
void cfs_undo_rmdir(struct rts_ctx *ctx, const char *path);
void cfs_undo_unlink(struct rts_ctx *ctx, const char *path);

/* Object attribute helpers shared by storage objects, TPGs, ACLs. */
int obj_get_attr(struct rts_ctx *ctx, const char *objpath, enum rts_group group, const char *name,
		 char **ret);
int obj_foreach_attr(struct rts_ctx *ctx, const char *objpath, enum rts_group group, rts_attr_fn fn,
		     void *userdata);
int obj_set_attr(struct rts_ctx *ctx, const char *objpath, enum rts_group group, const char *name,
		 const char *value);

/* Name checks that record the error on ctx. */
int check_name(struct rts_ctx *ctx, const char *what, const char *name);

/*
 * A public getter of one field of an object: NULL/0 (@none) for a NULL object, else @expr
 * (which names the object @obj). One line per getter instead of six:
 *   RTS_GETTER(const char *, rts_target_get_wwn, struct rts_target, t, NULL, t->wwn)
 */
#define RTS_GETTER(type, fn, obj_type, obj, none, expr) \
	RTS_EXPORT type fn(const obj_type *obj)         \
	{                                               \
		assert_return(obj, none);               \
		return expr;                            \
	}

int names_list(struct rts_ctx *ctx, const char *path, struct rts_names *l);
/* Like names_list(), but a directory that does not exist lists as empty (no error, and one
 * lookup fewer than asking cfs_exists() first). */
int names_list_opt(struct rts_ctx *ctx, const char *path, struct rts_names *l);
/* Append one entry; an rts_backend_ops readdir callback (@ud: the struct rts_names). */
int names_add(void *ud, const char *name, enum rts_ftype type);
void names_free(struct rts_names *l);

/* Parse helpers. */
int parse_u64(const char *s, uint64_t *ret);
void strip_trailing(char *s);
int random_hex(char *buf, size_t ndigits);

/* Object constructors used by the walk and by create (no filesystem access). */
struct rts_so *so_add(struct rts_ctx *ctx, enum rts_plugin plugin, uint32_t hba, const char *name);
struct rts_alua_tpg *alua_add(struct rts_so *so, const char *name);
struct rts_fabric *fabric_add(struct rts_ctx *ctx, const struct rts_fabric_spec *spec, bool owns,
			      bool from_spec);
struct rts_target *target_add(struct rts_fabric *f, const char *wwn, const char *cfs_name);
struct rts_tpg *tpg_add(struct rts_target *t, uint16_t tag);
struct rts_lun *lun_add(struct rts_tpg *tpg, uint64_t index, struct rts_so *so, const char *alias);
struct rts_portal *portal_add(struct rts_tpg *tpg, const char *ip, uint16_t port, bool v6);
struct rts_acl *acl_add(struct rts_tpg *tpg, const char *wwn, const char *cfs_name);
struct rts_mapped_lun *mlun_add(struct rts_acl *acl, uint64_t index, struct rts_lun *lun);
void so_free(struct rts_so *so);
void fabric_free(struct rts_fabric *f);
void target_free(struct rts_target *t);
void tpg_free(struct rts_tpg *tpg);
void lun_free(struct rts_lun *lun);
void acl_free(struct rts_acl *acl);
void mlun_free(struct rts_mapped_lun *m);
void portal_free(struct rts_portal *np);
void alua_free(struct rts_alua_tpg *gp);
struct rts_lu_gp *lu_gp_add(struct rts_ctx *ctx, const char *name);
void lu_gp_free(struct rts_lu_gp *gp);
void fabric_probe(struct rts_fabric *f);
int fabric_from_fabric_wwn(const struct rts_fabric *f, const char *cfs, char *buf, size_t size);
int portal_parse_name(const char *name, char *ip, size_t size, uint16_t *port, bool *v6);

#endif
