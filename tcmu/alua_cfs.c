/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A TCMU device's ALUA target port groups as configfs describes them
 * (target/core/user_N/<dev>/alua/<group>/...), read into the table tcmu/scsi/alua.c answers
 * REPORT TARGET PORT GROUPS from, and access states written back for SET TARGET PORT GROUPS.
 *
 * What the kernel shows (drivers/target/target_core_configfs.c, target_core_alua.c):
 *  - tg_pt_gp_id: the TARGET PORT GROUP (empty while the group has no valid id);
 *  - alua_access_state: the primary state as a number; alua_access_status: "None",
 *    "Altered by Explicit STPG", "Altered by Implicit ALUA" (a number after our write
 *    in a fake tree, so both are accepted);
 *  - alua_access_type: "None", "Implicit", "Explicit", "Implicit and Explicit";
 *  - alua_support_<state>: 0/1 per state; preferred: 0/1; implicit_trans_secs;
 *  - members: one "<fabric>/<wwn>/tpgt_<T>/lun_<L>" line per LUN in the group. The
 *    RELATIVE TARGET PORT IDENTIFIER RTPG reports for it is the kernel's tpg_rtpi (older
 *    kernels: lun_rtpi), which configfs shows as the LUN's statistics/scsi_port/indx.
 * RTPG in the kernel skips groups without members; so does this table.
 *
 * The kernel accepts a write of alua_access_state only when the group's alua_access_type
 * includes implicit ALUA (target_tg_pt_gp_alua_access_state_store), so an STPG is applied
 * only to such groups; it then sets the status "altered by implicit ALUA", which we
 * overwrite with "altered by explicit STPG" as tcmu-runner does.
 *
 * The port a command arrived on: TCMU does not pass it to userspace (no field in the ring
 * entry), so INQUIRY and VPD 83h cannot be answered per port as the kernel does. What is
 * honest: the ports of this device that are enabled on this host (a TPG whose enable is 1,
 * or a fabric without enable, e.g. tcm_loop) are the only ones a command can arrive on. If
 * there is one, VPD 83h reports its relative port and group; if several share one group,
 * only the group; otherwise neither (initiators then cannot map the path to a group:
 * Linux's scsi_dh_alua says "No target port descriptors found"). This covers the gateway
 * layout ceph-iscsi and tcmu-runner use (each host enables only its own TPG).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rts/uio.h>

#include "alua_cfs.h"
#include "dev.h"
#include "macro.h"
#include "readfile.h"

/* snprintf into a path buffer; -ENAMETOOLONG instead of a truncated path. */
static int __attribute__((format(printf, 3, 4))) fmt_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int cfs_write(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC); /* as `echo >` */
	size_t len = strlen(value);

	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		return -errno;
	return 0;
}

/* A non-negative decimal number in a file; -errno or -EINVAL for anything else. */
static long cfs_read_num(const char *dir, const char *name, long max)
{
	char path[ALUA_CFS_PATH * 2], buf[64], *end;
	long v;
	int r;

	r = fmt_path(path, sizeof(path), "%s/%s", dir, name);
	if (r == 0)
		r = read_small_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (!isdigit((unsigned char)buf[0]))
		return -EINVAL;
	errno = 0;
	v = strtol(buf, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	return v;
}

int alua_cfs_parse_type(const char *s)
{
	if (isdigit((unsigned char)s[0]) && !s[1] && s[0] <= '3')
		return s[0] - '0';
	if (!strcmp(s, "None"))
		return 0;
	if (!strcmp(s, "Implicit"))
		return ALUA_CFS_IMPLICIT;
	if (!strcmp(s, "Explicit"))
		return ALUA_CFS_EXPLICIT;
	if (!strcmp(s, "Implicit and Explicit"))
		return ALUA_CFS_IMPLICIT | ALUA_CFS_EXPLICIT;
	return -EINVAL;
}

static uint8_t parse_status(const char *s)
{
	if (!strcmp(s, "Altered by Explicit STPG") || !strcmp(s, "1"))
		return SCSI_ALUA_STATUS_ALTERED_BY_STPG;
	if (!strcmp(s, "Altered by Implicit ALUA") || !strcmp(s, "2"))
		return SCSI_ALUA_STATUS_ALTERED_IMPLICITLY;
	return SCSI_ALUA_STATUS_NONE;
}

static const struct {
	const char *file;
	uint8_t bit;
} sup_files[] = {
	{ "alua_support_active_optimized", SCSI_ALUA_SUP_AO },
	{ "alua_support_active_nonoptimized", SCSI_ALUA_SUP_AN },
	{ "alua_support_standby", SCSI_ALUA_SUP_S },
	{ "alua_support_unavailable", SCSI_ALUA_SUP_U },
	{ "alua_support_lba_dependent", SCSI_ALUA_SUP_LBD },
	{ "alua_support_offline", SCSI_ALUA_SUP_O },
	{ "alua_support_transitioning", SCSI_ALUA_SUP_T },
};

/* The kernel's default (core_alua_allocate_tg_pt_gp), for kernels without the files. */
#define SUP_KERNEL_DEFAULT                                                                   \
	(SCSI_ALUA_SUP_T | SCSI_ALUA_SUP_O | SCSI_ALUA_SUP_U | SCSI_ALUA_SUP_S | SCSI_ALUA_SUP_AN | \
	 SCSI_ALUA_SUP_AO)

int alua_cfs_parse_member(const char *line, struct alua_cfs_member *m)
{
	int n = 0;

	if (sscanf(line, "%63[^/]/%255[^/]/tpgt_%u/%63[^/\n]%n", m->fabric, m->wwn, &m->tpgt,
		   m->lun, &n) != 4 ||
	    line[n] != '\0' || strncmp(m->lun, "lun_", 4) != 0 || m->tpgt > UINT16_MAX)
		return -EINVAL;
	return 0;
}

/*
 * Resolve one members line to the port's TPG directory. The line names the fabric by its
 * fabric_name, which for iSCSI ("iSCSI") is not the configfs directory ("iscsi"): try the
 * name as is, then in lower case.
 */
static int member_tpg_dir(const char *target, const char *line, char *tpg_dir, size_t tpg_len,
			  char *lun, size_t lun_len)
{
	struct alua_cfs_member m;

	if (alua_cfs_parse_member(line, &m) < 0)
		return -EINVAL;
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			bool changed = false;

			for (char *p = m.fabric; *p; p++)
				if (isupper((unsigned char)*p)) {
					*p = (char)tolower((unsigned char)*p);
					changed = true;
				}
			if (!changed)
				break;
		}
		if (fmt_path(tpg_dir, tpg_len, "%s/%s/%s/tpgt_%u", target, m.fabric, m.wwn,
			     m.tpgt) == 0 &&
		    access(tpg_dir, F_OK) == 0) {
			snprintf(lun, lun_len, "%s", m.lun);
			return 0;
		}
	}
	return -ENOENT;
}

struct local_port {
	uint16_t rtpi;
	uint16_t group;
	uint8_t proto_id;
};

/* One member: its relative port id into @g, and the port into @local when enabled here. */
static void read_member(const char *target, const char *line, struct scsi_alua_group *g,
			struct local_port *local, unsigned int *nlocal)
{
	char tpg[ALUA_CFS_PATH + 320], dir[ALUA_CFS_PATH + 420], lun[64];
	long rtpi, proto, en;

	if (g->nports >= SCSI_ALUA_MAX_PORTS || member_tpg_dir(target, line, tpg, sizeof(tpg), lun,
								 sizeof(lun)) < 0)
		return;
	if (fmt_path(dir, sizeof(dir), "%s/lun/%s/statistics", tpg, lun) < 0)
		return;
	rtpi = cfs_read_num(dir, "scsi_port/indx", UINT16_MAX);
	if (rtpi < 0)
		return; /* no way to know what the kernel reports: leave the port out */
	g->rel_port_ids[g->nports++] = (uint16_t)rtpi;
	proto = cfs_read_num(dir, "scsi_transport/proto_id", 0x0f);
	en = cfs_read_num(tpg, "enable", 1);
	if (en == 0 || (en < 0 && en != -ENOENT))
		return; /* a TPG disabled here (another gateway's): commands cannot arrive on it */
	if (*nlocal < ALUA_CFS_MAX_LOCAL)
		local[*nlocal] = (struct local_port){ .rtpi = (uint16_t)rtpi,
						      .group = g->id,
						      .proto_id = proto < 0 ? 0 : (uint8_t)proto };
	(*nlocal)++;
}

static int read_group(struct alua_cfs *c, const char *name, struct scsi_alua *a,
		      struct local_port *local, unsigned int *nlocal)
{
	char dir[ALUA_CFS_PATH + 80], path[ALUA_CFS_PATH + 80 + 64], buf[64];
	char members[4096];
	struct scsi_alua_group *g = &a->groups[a->ngroups];
	long id, state, v;
	int type, r;
	bool have_sup = false;

	if (fmt_path(dir, sizeof(dir), "%s/%s", c->alua_dir, name) < 0)
		return 0;
	id = cfs_read_num(dir, "tg_pt_gp_id", UINT16_MAX);
	if (id < 0)
		return 0; /* no valid id yet: the kernel does not report it either */
	fmt_path(path, sizeof(path), "%s/members", dir);
	r = read_small_file(path, members, sizeof(members));
	if (r <= 0)
		return 0; /* empty groups are not reported (core_alua_emulate_report_tgpgs) */
	state = cfs_read_num(dir, "alua_access_state", 0x0f);
	if (state < 0)
		return (int)state;
	fmt_path(path, sizeof(path), "%s/alua_access_type", dir);
	r = read_small_file(path, buf, sizeof(buf));
	type = r < 0 ? r : alua_cfs_parse_type(buf);
	if (type < 0)
		return type;
	memset(g, 0, sizeof(*g));
	g->id = (uint16_t)id;
	g->state = (uint8_t)state;
	fmt_path(path, sizeof(path), "%s/alua_access_status", dir);
	if (read_small_file(path, buf, sizeof(buf)) >= 0)
		g->status = parse_status(buf);
	g->preferred = cfs_read_num(dir, "preferred", 1) == 1;
	for (size_t i = 0; i < sizeof(sup_files) / sizeof(sup_files[0]); i++) {
		v = cfs_read_num(dir, sup_files[i].file, 1);
		if (v >= 0)
			have_sup = true;
		if (v == 1)
			g->supported |= sup_files[i].bit;
	}
	if (!have_sup)
		g->supported = SUP_KERNEL_DEFAULT;
	v = cfs_read_num(dir, "implicit_trans_secs", 255);
	if (v > a->transition_time)
		a->transition_time = (uint8_t)v;
	for (char *save = NULL, *line = strtok_r(members, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		read_member(c->target_dir, line, g, local, nlocal);
	fmt_path(c->names[a->ngroups], sizeof(c->names[0]), "%s", name);
	c->types[a->ngroups] = (uint8_t)type;
	a->tpgs |= (uint8_t)type;
	a->ngroups++;
	return 0;
}

static int skip_dots(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

int alua_cfs_read(struct alua_cfs *c, struct scsi_alua *a)
{
	struct local_port local[ALUA_CFS_MAX_LOCAL];
	unsigned int nlocal = 0;
	struct dirent **names = NULL;
	int n, r = 0;

	memset(a, 0, sizeof(*a));
	memset(&c->port, 0, sizeof(c->port));
	n = scandir(c->alua_dir, &names, skip_dots, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		if (r == 0 && a->ngroups < SCSI_ALUA_MAX_GROUPS &&
		    strlen(names[i]->d_name) < sizeof(c->names[0]))
			r = read_group(c, names[i]->d_name, a, local, &nlocal);
		free(names[i]);
	}
	free(names);
	if (r < 0)
		return r;
	if (nlocal == 1) {
		c->port.has_port = c->port.has_group = true;
		c->port.rtpi = local[0].rtpi;
		c->port.group = local[0].group;
		c->port.proto_id = local[0].proto_id;
	} else if (nlocal > 1 && nlocal <= ALUA_CFS_MAX_LOCAL) {
		bool one_group = true;

		for (unsigned int i = 1; i < nlocal; i++)
			one_group &= local[i].group == local[0].group &&
				     local[i].proto_id == local[0].proto_id;
		if (one_group) {
			c->port.has_group = true;
			c->port.group = local[0].group;
			c->port.proto_id = local[0].proto_id;
		}
	}
	return a->ngroups;
}

int alua_cfs_write_state(const struct alua_cfs *c, unsigned int gi, uint8_t state, bool stpg)
{
	char path[ALUA_CFS_PATH + 200], val[8];
	int r;

	if (gi >= SCSI_ALUA_MAX_GROUPS || !c->names[gi][0])
		return -ENOENT;
	if (!(c->types[gi] & ALUA_CFS_IMPLICIT))
		return -EPERM;
	r = fmt_path(path, sizeof(path), "%s/%s/alua_access_state", c->alua_dir, c->names[gi]);
	snprintf(val, sizeof(val), "%u", state);
	if (r == 0)
		r = cfs_write(path, val);
	if (r < 0)
		return r;
	/* best effort: only the STATUS CODE RTPG reports depends on it */
	if (fmt_path(path, sizeof(path), "%s/%s/alua_access_status", c->alua_dir, c->names[gi]) == 0)
		cfs_write(path, stpg ? "1" : "2");
	return 0;
}
