/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl internals shared by main.c and the cmd_<verb>.c files. */
#ifndef RTSCTL_H
#define RTSCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rts/cfgstring.h>
#include <rts/rts.h>

#include "parse.h"

#include "conf.h"

/** Exit codes. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_PARTIAL = 3,
};

/** Version of the --json output schema (documented in rtsctl(8)). */
#define RTSCTL_JSON_SCHEMA "rtsctl/1"

enum backend_kind { BACKEND_REAL, BACKEND_EMULATE, BACKEND_MEMORY };

struct cli {
	struct rts_ctx *ctx;
	enum backend_kind backend;
	const char *root;
	const char *lock;
	bool json;
	bool quiet;
	bool exist_ok;
	bool missing_ok;
	bool dry_run;
	bool atomic;
	bool clear_existing;
	bool yes;
	bool recreate; /* apply: recreate exported storage objects */
	bool skip_invalid; /* restore: restore the valid objects of an invalid file */
	unsigned int backups;
	bool backups_set; /* --backup given (0: keep no copy at all) */
	int depth;
	const char *target;
	const char *storage_object;
	bool progress; /* stderr is a terminal */
	bool load_modules;
	const char *socket; /* status: rts-runner's status socket */
	int wait_s;         /* restore --wait SECONDS; -1: do not wait */
	bool auto_tpg;      /* create: a new target gets tpg1, enabled (create_auto.c) */
	bool auto_portal;   /* create: ... and the default portal 0.0.0.0:3260 */
	bool auto_map;      /* create: new LUNs/ACLs are mapped into existing ACLs/LUNs */
	bool watch;         /* status: refresh like iostat */
};

/** Kinds of objects addressed by a path. */
enum obj_kind {
	O_ROOT,
	O_BACKSTORES,
	O_PLUGIN,
	O_SO,
	O_ALUA_DIR,
	O_ALUA,
	O_FABRIC,
	O_TARGET,
	O_TPG,
	O_LUNS,
	O_LUN,
	O_PORTALS,
	O_PORTAL,
	O_ACLS,
	O_ACL,
	O_MLUN,
	O_ALUA_ROOT, /* /alua */
	O_LU_GPS, /* /alua/lu_gps */
	O_LU_GP, /* /alua/lu_gps/<name> */
};

/** A parsed object path; pointers are filled by objref_resolve() as far as objects exist. */
struct objref {
	enum obj_kind kind;
	char path[1024];
	enum rts_plugin plugin;
	char name[RTS_NAME_MAX + 1]; /* storage object */
	char gp[RTS_NAME_MAX + 1]; /* ALUA group */
	char fabric[64];
	char wwn[RTS_WWN_MAX + 1]; /* target WWN as given */
	uint16_t tag;
	uint64_t index; /* LUN or mapped LUN */
	char ip[64];
	uint16_t port;
	char acl[RTS_WWN_MAX + 1];

	struct rts_so *so;
	struct rts_alua_tpg *alua;
	struct rts_fabric *fab;
	struct rts_target *tgt;
	struct rts_tpg *tpg;
	struct rts_lun *lun;
	struct rts_portal *np;
	struct rts_acl *aclp;
	struct rts_mapped_lun *mlun;
	struct rts_lu_gp *lugp;
};

/**
 * The FILE argument of save/restore (@p cmd): argv[0], else the default saveconfig file
 * /etc/target/saveconfig.json, which is used only for the real configfs at its usual place
 * (rehearsals with --root or another backend never touch the host's file: FILE must be
 * given). @return EXIT_OK with *@p file set, or EXIT_USAGE (printed).
 */
int conf_file_arg(const struct cli *c, const char *cmd, int argc, char **argv, const char **file);
/** Parse @p path; prints the reason on failure. @return 0 or -EINVAL */
int objref_parse(struct cli *c, const char *path, struct objref *ret);
/**
 * Look up the objects named by @p ref. @return 0 when the object itself exists, -ENOENT when
 * it (or a parent) is missing; parents found are filled in.
 */
int objref_resolve(struct cli *c, struct objref *ref);
/** Canonical rtslib plugin name ("block" for iblock). */
const char *plugin_rtslib_name(enum rts_plugin p);
/**
 * After a successful create of @p ref: targetcli's automatic tpg1, enable, default portal and
 * mapped LUNs (unless turned off in @p c). @return 0 or the negative errno of what failed
 */
int create_auto(struct cli *c, struct objref *ref);
/** LUNs exporting @p so; with @p list, their paths and those of their mapped LUNs, one per
 *  line ("\n  /iscsi/.../luns/lun0"), truncated to @p size. @return number of LUNs */
size_t so_exports(struct cli *c, struct rts_so *so, char *list, size_t size);
/** Print an error naming @p path and the librts reason. @return EXIT_FAIL */
int report_rts_error(struct cli *c, const char *path, int r, const char *what);
/** Print "rtsctl: " + message to stderr. */
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Begin a mutating command: lock and re-read the tree. @return 0 or exit code */
int cli_begin(struct cli *c);
void cli_end(struct cli *c);
/** Print and free the report (errors and warnings to stderr, OK lines unless --quiet). */
void cli_print_report(struct cli *c, struct conf_report *rep);
/** Print a json object with the schema wrapper to stdout. */
void cli_print_json(struct json_object *o);

/** Whether @p group is readable on objects of kind @p k (cmd_get.c). */
bool group_valid(enum obj_kind k, const char *group);
/** configfs group and directory of a group name ("attribute" -> attrib/). */
enum rts_group dir_group(const char *group, const char **dir);
/** Load and validate a saveconfig file; prints the report (cmd_validate.c). */
int load_valid(struct cli *c, const char *file, struct json_object **ret, bool print_ok);
/** The options restore and apply share, from the command line (--atomic, --dry-run,
 *  --target, ...); each command adds its own. */
struct conf_opts cli_conf_opts(const struct cli *c);

int cmd_ls(struct cli *c, int argc, char **argv);
int cmd_get(struct cli *c, int argc, char **argv);
int cmd_set(struct cli *c, int argc, char **argv);
int cmd_create(struct cli *c, int argc, char **argv);
int cmd_delete(struct cli *c, int argc, char **argv);
int cmd_save(struct cli *c, int argc, char **argv);
int cmd_restore(struct cli *c, int argc, char **argv);
int cmd_clear(struct cli *c, int argc, char **argv);
int cmd_apply(struct cli *c, int argc, char **argv);
int cmd_validate(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);

#endif
