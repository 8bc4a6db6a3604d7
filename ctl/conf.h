/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * saveconfig.json engine of rtsctl: the configuration model is the json-c tree of a
 * targetcli/rtslib saveconfig.json file, checked by conf_validate() before anything is
 * touched. On top of librts's public API: dump (live tree -> model), save (atomic file),
 * restore / clear (model -> live tree) and apply (diff + minimal ordered plan).
 *
 * Fields rtslib does not write but we persist (rtslib ignores them harmlessly on restore,
 * see docs/rtsctl.8 "COMPATIBILITY"):
 *   targets[].tpgs[].rtslib_c.nexus     TPG nexus WWN (loopback, vhost, xen); rtslib's
 *                                       TPG.setup() setattr()s unknown keys on the object
 *   targets[].tpgs[].node_acls[].tcq_depth  ACL cmdsn_depth; rtslib's NodeACL.setup() maps it
 *                                       to its tcq_depth property, so targetcli restores it
 *   rtslib_c.lu_gps (top level)         ALUA LU groups + member storage objects; rtslib's
 *                                       restore only reads the top-level keys it knows
 * User backstore control options (max_data_area_mb, hw_block_size, data_pages_per_blk) use
 * rtslib's own "control" string; nl_reply_supported rides in "attributes".
 */
#ifndef RTSCTL_CONF_H
#define RTSCTL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>
#include <rts/rts.h>

/** Default saveconfig file (targetcli's). */
#define CONF_DEFAULT_FILE  "/etc/target/saveconfig.json"
/** Largest saveconfig file accepted. */
#define CONF_MAX_FILE_SIZE (64u << 20)

enum conf_level {
	CONF_OK = 0, /**< per-object success line (restore/apply report) */
	CONF_INFO, /**< plan line / informational */
	CONF_WARN, /**< unknown field, skipped non-fatal setting */
	CONF_ERR, /**< validation error or failed object */
};

struct conf_msg {
	enum conf_level level;
	char *path; /**< JSON path ("targets[0].tpgs[0].luns[1]") or object path ("/iscsi/...") */
	char *text;
};

/** Diagnostics collected by every conf_* call. */
struct conf_report {
	struct conf_msg *v;
	size_t n, cap;
	size_t n_err, n_warn, n_ok;
	/** when set, every message is also passed here as it is added */
	void (*sink)(void *userdata, const struct conf_msg *m);
	void *userdata;
};

void conf_report_init(struct conf_report *r);
void conf_report_free(struct conf_report *r);
void conf_report_add(struct conf_report *r, enum conf_level level, const char *path,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/** Print every message of at least @p min level as "level: path: text". */
void conf_report_print(const struct conf_report *r, FILE *f, enum conf_level min);
const char *conf_level_name(enum conf_level level);

/** Writable ALUA target port group attributes in rtslib's order, NULL-terminated: what
 *  save dumps (conf_dump.c) and what restore/apply writes (conf_plan.c, conf_exec.c). */
extern const char *const alua_params[];
/** snprintf() that truncates silently (paths in messages). */
void pfmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------ codec (conf_json.c) */

/**
 * Parse saveconfig JSON text. Syntax errors are reported with line and column.
 * @return 0 or -EINVAL (report has the reason), -EFBIG, -ENOMEM
 */
int conf_parse(const char *buf, size_t len, struct json_object **ret, struct conf_report *rep);
/** Read and parse a file ("-" is stdin). */
int conf_load_file(const char *file, struct json_object **ret, struct conf_report *rep);
/**
 * Validate the whole model: types, ranges, names, WWNs (via librts's fabric validators,
 * needs @p ctx for the fabric table; may be NULL for syntax-only checks), duplicates and
 * dangling references. Unknown fields are warnings.
 * @return number of errors (0: valid)
 */
size_t conf_validate(struct rts_ctx *ctx, struct json_object *root, struct conf_report *rep);
/**
 * restore --skip-invalid: remove from @p root every object (array element: storage object,
 * target, TPG, LUN, portal, ACL, mapped LUN, ALUA group) holding an error of @p rep, each
 * reported in @p skipped. Validate again afterwards: removing an object can leave others
 * dangling. @return number of objects removed (0: the errors are not in any object)
 */
size_t conf_prune_invalid(struct json_object *root, const struct conf_report *rep,
			  struct conf_report *skipped);
/**
 * Serialise exactly like Python's json.dumps(obj, sort_keys=True, indent=2) + "\n"
 * (what rtslib's save_to_file writes), so files are byte-identical to targetcli's.
 * @return malloc()ed text or NULL on ENOMEM
 */
char *conf_to_string(struct json_object *root);
/** Compact single-line JSON with sorted keys (stable, for diffs and --json). */
char *conf_to_string_compact(struct json_object *root);

/* ------------------------------------------------------------ save (conf_save.c) */

/**
 * Write @p text atomically and durably: temp file in the same directory (0600), fsync,
 * rename, fsync of the directory. With @p backups > 0 the previous file is rotated to
 * FILE.1 .. FILE.N first (hard link, so FILE never disappears).
 * @return 0 or negative errno (report has the path and reason)
 */
int conf_write_file(const char *file, const char *text, unsigned int backups,
		    struct conf_report *rep);

/**
 * Like targetcli's /etc/target/backup/: before @p file is replaced by @p text, copy its
 * current content (when different) to DIR/backup/BASE-YYYYMMDD-HH:MM:SS.json and keep the
 * @p keep newest. @p ret gets the copy's path (NULL when none was needed).
 * @return 0 or negative errno
 */
int conf_keep_backup(const char *file, const char *text, unsigned int keep,
		     struct conf_report *rep, char **ret);
/** Backups conf_keep_backup() keeps by default (targetcli's kept_backups). */
#define CONF_KEPT_BACKUPS 10

/* ------------------------------------------------------------ dump (conf_dump.c) */

/** Dump the live tree of @p ctx in saveconfig format. @return 0 or negative errno */
int conf_dump(struct rts_ctx *ctx, struct json_object **ret, struct conf_report *rep);

/* ------------------------------------------------------------ restore / apply */

struct conf_opts {
	bool clear_existing; /**< restore: clear everything selected first */
	bool atomic; /**< undo what was created/changed when anything fails */
	bool dry_run; /**< apply: only print the plan */
	bool load_modules; /**< load fabric kernel modules (real configfs only) */
	const char *target; /**< only this target WWN */
	const char *storage_object; /**< only this storage object name */
	FILE *plan_out; /**< apply/dry-run: one line per action with its outcome (may be NULL) */
	bool progress; /**< print progress to stderr */
	bool allow_recreate; /**< apply: recreate storage objects exported by LUNs */
	bool check_devices; /**< pre-check block/pscsi devices on this host (real configfs) */
	/** when set: one {"path", "action", "result"[, "problem"]} object per action is
	 *  appended; result is planned, done, failed, skipped or rolled back */
	struct json_object *results;
};

/**
 * Restore @p root (must be valid) on top of the live tree. Existing objects named in the
 * file are an error unless clear_existing.
 * @return 0 all done, 1 partial (some objects failed, see report), negative errno fatal
 */
int conf_restore(struct rts_ctx *ctx, struct json_object *root, const struct conf_opts *opts,
		 struct conf_report *rep);
/**
 * Make the live tree equal to @p root with the minimal ordered plan.
 * @return 0, 1 partial, negative errno; with dry_run only the plan is printed
 */
int conf_apply(struct rts_ctx *ctx, struct json_object *root, const struct conf_opts *opts,
	       struct conf_report *rep, size_t *n_actions);
/** Delete targets and storage objects (optionally only the selected ones). */
int conf_clear(struct rts_ctx *ctx, const struct conf_opts *opts, struct conf_report *rep);

/* ------------------------------------------------------------ helpers shared by the CLI */

/* One set of limits for create, set, validate and restore. */
#define CONF_LUN_MAX		  65535u /**< LUN index (rtslib, targetcli) */
#define CONF_MLUN_MAX		  65535u /**< mapped LUN index accepted by rtsctl */
#define CONF_MLUN_TARGETCLI_MAX	  255u /**< targetcli refuses mapped LUNs above */
#define CONF_CMDSN_DEPTH_MAX	  512u /**< TA_DEFAULT_CMDSN_DEPTH_MAX */
#define CONF_ACL_TAG_MAX	  255u /**< ACL tag length */

/** Attribute owners: storage object, iSCSI TPG, iSCSI node ACL. */
enum conf_obj { CONF_OBJ_SO, CONF_OBJ_TPG, CONF_OBJ_ACL };
/**
 * Check @p value against the domain the kernel enforces for attribute @p name of an object
 * of kind @p kind (librts's rts_attr_check(), the table the emulator uses too); read-only
 * attributes are refused as well. @p why gets the reason.
 * @return 0, -EINVAL (not a number), -ERANGE (outside the domain), -EROFS (read-only)
 */
int conf_attr_check(enum conf_obj kind, const char *name, const char *value, char *why,
		    size_t size);

/** Fixed-size attribute name lists known read-only (configfs mode is not visible here). */
bool conf_attr_is_readonly(const char *name);
/** Target-level parameter <target>/param/@p name (no librts accessor); 0 or -errno. */
int conf_target_get_param(struct rts_ctx *ctx, struct rts_target *t, const char *name,
			  char **ret);
int conf_target_set_param(struct rts_ctx *ctx, struct rts_target *t, const char *name,
			  const char *value);
/** Attribute names of directory @p dir ("<obj path>/attrib"), sorted; NULL-terminated. */
int conf_list_dir(struct rts_ctx *ctx, const char *dir, int type, char ***ret);
void conf_strv_free(char **v);
/** Remove a leftover "T10 VPD Unit Serial Number:" prefix in place. */
void strip_serial_prefix(char *wwn);
/** Value as written to configfs: ints as decimal, bools as 0/1, strings as is. */
int conf_value_string(struct json_object *v, char *buf, size_t size);

#endif
