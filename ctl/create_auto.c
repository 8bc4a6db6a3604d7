/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What targetcli users expect after `create` (its global preferences, all on by default):
 *  - a new target gets tpg1 (targetcli always creates it); on fabrics with several TPGs per
 *    target (iSCSI) tpg1 is enabled (auto_enable_tpgt) and, with IP portals, listens on
 *    0.0.0.0:3260 (auto_add_default_portal);
 *  - a new LUN is mapped into every ACL of its TPG, and a new ACL maps every LUN of its TPG
 *    (auto_add_mapped_luns), at the LUN's index when free, else at the lowest free index.
 * --no-auto-tpg, --no-auto-portal and --no-auto-map turn each off.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "rtsctl.h"

#define DEFAULT_PORTAL_IP   "0.0.0.0"
#define DEFAULT_PORTAL_PORT 3260

static void say(const struct cli *c, const char *what, const char *path)
{
	if (!c->quiet)
		printf("%s%s: created (automatically)\n", path, what);
}

/* The TPG part of an object path: ".../tpg1/luns/lun0" -> ".../tpg1" (length). */
static int tpg_prefix_len(const char *path)
{
	const char *p = strstr(path, "/luns/");

	if (!p)
		p = strstr(path, "/acls/");
	return p ? (int)(p - path) : (int)strlen(path);
}

static int map_into(const struct cli *c, const struct objref *r, struct rts_acl *acl,
		    struct rts_lun *lun)
{
	uint64_t idx = rts_lun_get_index(lun);
	struct rts_mapped_lun *m;

	/* already mapped somewhere in this ACL: leave it */
	for (m = rts_mapped_lun_first(acl); m; m = rts_mapped_lun_next(m))
		if (rts_mapped_lun_get_lun(m) == lun)
			return 0;
	if (rts_mapped_lun_lookup(acl, idx, &m) == 0)
		for (idx = 0; rts_mapped_lun_lookup(acl, idx, &m) == 0; idx++)
			;
	int x = rts_mapped_lun_create(acl, idx, lun, false, NULL);
	if (x < 0)
		return x;
	if (!c->quiet)
		printf("%.*s/acls/%s/mapped_lun%llu: created (automatically)\n",
		       tpg_prefix_len(r->path), r->path, rts_acl_get_wwn(acl),
		       (unsigned long long)idx);
	return 0;
}

int create_auto(struct cli *c, struct objref *r)
{
	struct rts_tpg *tpg = NULL;
	struct rts_acl *acl;
	struct rts_lun *lun;
	char path[1200];
	int x;

	if (objref_resolve(c, r) < 0)
		return 0; /* nothing to add to */
	switch (r->kind) {
	case O_TARGET: {
		unsigned int feat = rts_fabric_get_features(r->fab);

		if (!c->auto_tpg || !r->tgt)
			return 0;
		x = rts_tpg_create(r->tgt, 1, &tpg);
		if (x < 0)
			return x;
		snprintf(path, sizeof(path), "%s/tpg1", r->path);
		say(c, "", path);
		if (feat & RTS_FEAT_TPGTS) {
			x = rts_tpg_set_enable(tpg, true);
			if (x < 0)
				return x;
		}
		if ((feat & RTS_FEAT_NPS) && c->auto_portal) {
			x = rts_portal_create(tpg, DEFAULT_PORTAL_IP, DEFAULT_PORTAL_PORT, NULL);
			if (x < 0)
				return x;
			snprintf(path, sizeof(path), "%s/tpg1/portals/%s:%d", r->path,
				 DEFAULT_PORTAL_IP, DEFAULT_PORTAL_PORT);
			say(c, "", path);
		}
		return 0;
	}
	case O_LUN:
		if (!c->auto_map || !r->tpg || !r->lun)
			return 0;
		rts_for_each_acl(r->tpg, acl)
			if ((x = map_into(c, r, acl, r->lun)) < 0)
				return x;
		return 0;
	case O_ACL:
		if (!c->auto_map || !r->tpg || !r->aclp)
			return 0;
		rts_for_each_lun(r->tpg, lun)
			if ((x = map_into(c, r, r->aclp, lun)) < 0)
				return x;
		return 0;
	default:
		return 0;
	}
}
