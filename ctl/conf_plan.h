/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the saveconfig engine: the plan (conf_plan.c builds it from the desired model
 * and a dump of the live tree, conf_exec.c runs it through librts).
 */
#ifndef RTSCTL_CONF_PLAN_H
#define RTSCTL_CONF_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"

enum phase {
	P_DEL_MLUN,
	P_DEL_ACL,
	P_DEL_PORTAL,
	P_DEL_LUN,
	P_DEL_TPG,
	P_DEL_TARGET,
	P_DEL_SO,
	P_SO,
	P_ALUA,
	P_FABRIC,
	P_TARGET,
	P_TPG,
	P_LUN,
	P_PORTAL,
	P_ACL,
	P_MLUN,
	P_DEL_ALUA,
	P_ENABLE,
	P_MAX,
};

enum act {
	A_DEL_MLUN,
	A_DEL_ACL,
	A_DEL_PORTAL,
	A_DEL_LUN,
	A_DEL_TPG,
	A_DEL_TARGET,
	A_DEL_SO,
	A_DEL_ALUA,
	A_NEW_SO,
	A_SO_WWN,
	A_SO_ATTR,
	A_SO_ATTRS,
	A_NEW_ALUA,
	A_ALUA_ATTR,
	A_ALUA_ATTRS,
	A_DISC_AUTH,
	A_NEW_TARGET,
	A_TARGET_PARAM,
	A_TARGET_PARAMS,
	A_NEW_TPG,
	A_TPG_ATTR,
	A_TPG_ATTRS,
	A_TPG_NEXUS,
	A_NEW_LUN,
	A_LUN_ALUA,
	A_NEW_PORTAL,
	A_PORTAL_TRANSPORT,
	A_NEW_ACL,
	A_ACL_ATTR,
	A_ACL_ATTRS,
	A_ACL_TAG,
	A_ACL_DEPTH,
	A_NEW_MLUN,
	A_MLUN_WP,
	A_TPG_ENABLE,
	A_NEW_LUGP,
	A_LUGP_ID,
	A_SO_LUGP,
	A_DEL_LUGP,
};

struct action {
	enum act kind;
	enum phase phase;
	size_t seq;
	char path[640];
	char what[384];
	/* identifiers, looked up at execution time */
	char fabric[64];
	char wwn[RTS_WWN_MAX + 1];
	uint16_t tag;
	uint64_t index;
	char acl[RTS_WWN_MAX + 1];
	char ip[64];
	uint16_t port;
	enum rts_plugin plugin;
	char so[RTS_NAME_MAX + 1];
	char gp[RTS_NAME_MAX + 1];
	enum rts_group group;
	char name[128];
	char *value, *old;
	bool flag;
	struct json_object *obj;
	/* planning facts */
	bool late; /**< pure deletion: runs after every creation and setting */
	bool recreate; /**< A_DEL_SO / A_NEW_SO of a storage object deleted and made again */
	unsigned int in_use; /**< A_DEL_SO: LUNs exporting the object now */
	char *problem; /**< pre-check: why this action would fail (NULL: none found) */
	/* state */
	bool done;
	enum { AS_PLANNED, AS_DONE, AS_FAILED, AS_SKIPPED } state;
};

struct plan {
	struct action *v;
	size_t n, cap;
	struct rts_ctx *ctx;
	const struct conf_opts *opts;
	struct conf_report *rep;
	bool restore; /* no deletions */
	bool rollback; /* undoing a failed --atomic run: no generated serials */
	bool skipped; /* set by the executor when an action found its parent missing */
	struct json_object *snapshot; /* --atomic: the live model before anything changed */
	bool oom;
};

extern const char *const rtslib_plugin[RTS_PLUGIN_MAX];
extern const char *const chap_keys[4];
/** Lookup indexes of the current planning pass (NULL outside one). */
extern struct json_object *plan_cache;

struct json_object *jget(struct json_object *o, const char *key);
const char *jstr(struct json_object *o, const char *key);
int64_t jint(struct json_object *o, const char *key, int64_t def);
bool jbool(struct json_object *o, const char *key, bool def);
size_t jlen(struct json_object *o, const char *key);
struct json_object *jidx(struct json_object *o, const char *key, size_t i);
void plan_free(struct plan *p);
int cmp_action(const void *a, const void *b);
int plugin_of(struct json_object *so, enum rts_plugin *pl);
struct json_object *find_so(struct json_object *root, enum rts_plugin pl, const char *name);
struct json_object *find_target(struct rts_ctx *ctx, struct json_object *root, const char *fabric,
				const char *wwn);
void norm_wwn(struct rts_ctx *ctx, const char *fabric, const char *wwn, char *buf, size_t size);
int parse_so_ref(const char *ref, enum rts_plugin *pl, char *name, size_t size);
bool selected_so(const struct conf_opts *o, const char *name);
bool selected_target(const struct conf_opts *o, const char *wwn);
/** Fill @p p with the actions turning @p have into @p want. @return 0 or -ENOMEM */
int plan_all(struct plan *p, struct json_object *want, struct json_object *have);
/**
 * What creating storage object @p so (saveconfig form) needs from the host, checked
 * without touching anything; warnings (growing or shared backing file) go to @p rep.
 * @return malloc()ed reason it would fail, NULL when nothing was found
 */
char *conf_so_problem(struct json_object *so, struct json_object *have, bool check_devices,
		      struct conf_report *rep, const char *path);
/** Drop what --target / --storage-object leave out of scope. */
void filter_scope(struct rts_ctx *ctx, struct json_object *model, const struct conf_opts *o);

#endif
