/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * targetcli-style object paths:
 *   /backstores/<plugin>/<name>[/alua/<group>]
 *   /<fabric>/<wwn>/tpg<N>/{luns/lun<N>, portals/<ip>:<port>, acls/<wwn>[/mapped_lun<N>]}
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rtsctl.h"

static const char *const rtslib_names[RTS_PLUGIN_MAX] = {
	[RTS_PLUGIN_FILEIO] = "fileio", [RTS_PLUGIN_BLOCK] = "block",
	[RTS_PLUGIN_PSCSI] = "pscsi",	[RTS_PLUGIN_RAMDISK] = "ramdisk",
	[RTS_PLUGIN_USER] = "user",
};

const char *plugin_rtslib_name(enum rts_plugin p)
{
	return p < RTS_PLUGIN_MAX ? rtslib_names[p] : "?";
}

void errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("rtsctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int report_rts_error(struct cli *c, const char *path, int r, const char *what)
{
	const struct rts_error *e = rts_ctx_last_error(c->ctx);

	if (e->code == r && *e->message)
		errorf("%s: %s failed: %s", path, what, e->message);
	else
		errorf("%s: %s failed: %s", path, what, strerror(-r));
	rts_ctx_clear_error(c->ctx);
	return EXIT_FAIL;
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	*ret = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int bad(const char *path, const char *why)
{
	errorf("%s: invalid path: %s", path, why);
	return -EINVAL;
}

int objref_parse(struct cli *c, const char *path, struct objref *ref)
{
	char buf[1024], *comp[9] = { 0 }, *save = NULL, *tok;
	size_t n = 0;
	uint64_t x;

	*ref = (struct objref){ .kind = O_ROOT };
	if (strlen(path) >= sizeof(buf))
		return bad(path, "too long");
	if (path[0] != '/')
		return bad(path, "must start with '/'");
	pfmt(ref->path, sizeof(ref->path), "%s", path);
	memcpy(buf, path, strlen(path) + 1);
	for (tok = strtok_r(buf, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (n == 8)
			return bad(path, "too many components");
		if (!strcmp(tok, ".") || !strcmp(tok, ".."))
			return bad(path, "'.' and '..' are not allowed");
		comp[n++] = tok;
	}
	if (n == 0)
		return 0;
	if (!strcmp(comp[0], "backstores")) {
		ref->kind = O_BACKSTORES;
		if (n == 1)
			return 0;
		if (rts_plugin_from_name(comp[1], &ref->plugin) < 0)
			return bad(path, "unknown backstore plugin");
		ref->kind = O_PLUGIN;
		if (n == 2)
			return 0;
		if (rts_name_validate(comp[2], NULL) < 0)
			return bad(path, "invalid storage object name");
		pfmt(ref->name, sizeof(ref->name), "%s", comp[2]);
		ref->kind = O_SO;
		if (n == 3)
			return 0;
		if (strcmp(comp[3], "alua") != 0)
			return bad(path, "expected 'alua' below a storage object");
		ref->kind = O_ALUA_DIR;
		if (n == 4)
			return 0;
		if (n > 5 || rts_name_validate(comp[4], NULL) < 0)
			return bad(path, "invalid ALUA group");
		pfmt(ref->gp, sizeof(ref->gp), "%s", comp[4]);
		ref->kind = O_ALUA;
		return 0;
	}
	if (!strcmp(comp[0], "alua")) {
		ref->kind = O_ALUA_ROOT;
		if (n == 1)
			return 0;
		if (strcmp(comp[1], "lu_gps") != 0)
			return bad(path, "expected /alua/lu_gps");
		ref->kind = O_LU_GPS;
		if (n == 2)
			return 0;
		if (n > 3 || rts_name_validate(comp[2], NULL) < 0)
			return bad(path, "invalid LU group name");
		pfmt(ref->gp, sizeof(ref->gp), "%s", comp[2]);
		ref->kind = O_LU_GP;
		return 0;
	}
	if (rts_fabric_lookup(c->ctx, comp[0], &ref->fab) < 0)
		return bad(path, "unknown fabric or top-level directory");
	pfmt(ref->fabric, sizeof(ref->fabric), "%s", rts_fabric_get_name(ref->fab));
	ref->kind = O_FABRIC;
	if (n == 1)
		return 0;
	if (rts_name_validate(comp[1], NULL) < 0 || strlen(comp[1]) > RTS_WWN_MAX)
		return bad(path, "invalid WWN");
	pfmt(ref->wwn, sizeof(ref->wwn), "%s", comp[1]);
	ref->kind = O_TARGET;
	if (n == 2)
		return 0;
	if (strncmp(comp[2], "tpg", 3) != 0 || parse_u64(comp[2] + 3, &x) < 0 || x < 1 || x > 65535)
		return bad(path, "expected tpg<1..65535>");
	ref->tag = (uint16_t)x;
	ref->kind = O_TPG;
	if (n == 3)
		return 0;
	if (!strcmp(comp[3], "luns")) {
		ref->kind = O_LUNS;
		if (n == 4)
			return 0;
		if (n > 5 || strncmp(comp[4], "lun", 3) != 0 ||
		    parse_u64(comp[4] + 3, &ref->index) < 0)
			return bad(path, "expected lun<N>");
		ref->kind = O_LUN;
		return 0;
	}
	if (!strcmp(comp[3], "portals")) {
		char *colon;

		ref->kind = O_PORTALS;
		if (n == 4)
			return 0;
		colon = strrchr(comp[4], ':');
		if (n > 5 || !colon || parse_u64(colon + 1, &x) < 0 || x < 1 || x > 65535)
			return bad(path, "expected <ip>:<port>");
		*colon = '\0';
		if (comp[4][0] == '[' && colon[-1] == ']') {
			colon[-1] = '\0';
			comp[4]++;
		}
		pfmt(ref->ip, sizeof(ref->ip), "%s", comp[4]);
		ref->port = (uint16_t)x;
		ref->kind = O_PORTAL;
		return 0;
	}
	if (!strcmp(comp[3], "acls")) {
		ref->kind = O_ACLS;
		if (n == 4)
			return 0;
		if (rts_name_validate(comp[4], NULL) < 0 || strlen(comp[4]) > RTS_WWN_MAX)
			return bad(path, "invalid initiator WWN");
		pfmt(ref->acl, sizeof(ref->acl), "%s", comp[4]);
		ref->kind = O_ACL;
		if (n == 5)
			return 0;
		if (n > 6 || strncmp(comp[5], "mapped_lun", 10) != 0 ||
		    parse_u64(comp[5] + 10, &ref->index) < 0)
			return bad(path, "expected mapped_lun<N>");
		ref->kind = O_MLUN;
		return 0;
	}
	return bad(path, "expected luns, portals or acls below a TPG");
}

int objref_resolve(struct cli *c, struct objref *r)
{
	switch (r->kind) {
	case O_ROOT:
	case O_BACKSTORES:
	case O_PLUGIN:
	case O_ALUA_ROOT:
	case O_LU_GPS:
		return 0;
	case O_LU_GP:
		return rts_lu_gp_lookup(c->ctx, r->gp, &r->lugp) < 0 ? -ENOENT : 0;
	case O_SO:
	case O_ALUA_DIR:
	case O_ALUA:
		if (rts_so_lookup(c->ctx, r->plugin, r->name, &r->so) < 0)
			return -ENOENT;
		if (r->kind != O_ALUA)
			return 0;
		return rts_alua_tpg_lookup(r->so, r->gp, &r->alua) < 0 ? -ENOENT : 0;
	default:
		break;
	}
	/* the tree may have been re-read since objref_parse() (cli_begin) */
	if (rts_fabric_lookup(c->ctx, r->fabric, &r->fab) < 0)
		return -ENOENT;
	if (r->kind == O_FABRIC)
		return rts_fabric_is_loaded(r->fab) ? 0 : -ENOENT;
	if (!rts_fabric_is_loaded(r->fab) || rts_target_lookup(r->fab, r->wwn, &r->tgt) < 0)
		return -ENOENT;
	if (r->kind == O_TARGET)
		return 0;
	if (rts_tpg_lookup(r->tgt, r->tag, &r->tpg) < 0)
		return -ENOENT;
	switch (r->kind) {
	case O_TPG:
	case O_LUNS:
	case O_PORTALS:
	case O_ACLS:
		return 0;
	case O_LUN:
		return rts_lun_lookup(r->tpg, r->index, &r->lun) < 0 ? -ENOENT : 0;
	case O_PORTAL:
		return rts_portal_lookup(r->tpg, r->ip, r->port, &r->np) < 0 ? -ENOENT : 0;
	case O_ACL:
	case O_MLUN:
		if (rts_acl_lookup(r->tpg, r->acl, &r->aclp) < 0)
			return -ENOENT;
		if (r->kind == O_ACL)
			return 0;
		return rts_mapped_lun_lookup(r->aclp, r->index, &r->mlun) < 0 ? -ENOENT : 0;
	default:
		return 0;
	}
}

size_t so_exports(struct cli *c, struct rts_so *so, char *list, size_t size)
{
	/* how many first: librts asks the kernel, so an unexported object reads no TPG */
	size_t want = rts_so_get_lun_count(so), n = 0, used = 0;
	struct rts_fabric *f;

	if (list && size)
		list[0] = '\0';
	if (!want)
		return 0;
	rts_for_each_fabric(c->ctx, f) {
		struct rts_target *t;

		if (!rts_fabric_is_loaded(f))
			continue;
		rts_for_each_target(f, t) {
			struct rts_tpg *tpg;

			rts_for_each_tpg(t, tpg) {
				struct rts_lun *lun;

				rts_for_each_lun(tpg, lun) {
					struct rts_acl *acl;

					if (rts_lun_get_so(lun) != so)
						continue;
					n++;
					if (list && used < size)
						used += (size_t)snprintf(
							list + used, size - used,
							"\n  /%s/%s/tpg%u/luns/lun%" PRIu64,
							rts_fabric_get_name(f), rts_target_get_wwn(t),
							rts_tpg_get_tag(tpg), rts_lun_get_index(lun));
					rts_for_each_acl(tpg, acl) {
						struct rts_mapped_lun *m;

						rts_for_each_mapped_lun(acl, m) {
							if (rts_mapped_lun_get_lun(m) != lun ||
							    !list || used >= size)
								continue;
							used += (size_t)snprintf(
								list + used, size - used,
								"\n  /%s/%s/tpg%u/acls/%s/mapped_lun%" PRIu64,
								rts_fabric_get_name(f),
								rts_target_get_wwn(t),
								rts_tpg_get_tag(tpg),
								rts_acl_get_wwn(acl),
								rts_mapped_lun_get_index(m));
						}
					}
					if (n == want)
						return n;
				}
			}
		}
	}
	return n;
}
