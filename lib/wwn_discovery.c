/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hardware WWN discovery: the WWNs a fabric with hardware ports can take, read from sysfs
 * the way rtslib-fb's FabricModule.wwns does (fabric.py). Read only: no module loading, no
 * mkdir, no configfs access. The sysfs root is a parameter so tests run on fake trees.
 *
 *   qla2xxx, efct  class/fc_host/hostN/port_name of the hosts whose device's driver link
 *                  resolves to "qla2xxx" / "efct" (device: realpath of the fc_host entry
 *                  minus three components, as rtslib computes it)
 *   tcm_fc         the same port_name files, of hosts whose device's subsystem is "fcoe"
 *   srpt           class/infiniband/DEV/ports/N/gids/0 (subnet prefix + port GUID), as 0x<32 hex>
 *   sbp            bus/firewire/devices/fwN/guid of the first node whose is_local is non-zero
 *   ibmvscsis      module/ibmvscsis/drivers/vio:ibmvscsis/DEV/devspec, the part after '@'
 *   spec files     the files matching the wwn_from_files patterns under /sys
 *
 * Entries are visited in name order (rtslib's glob order is the directory's), malformed or
 * unreadable files are skipped, duplicates dropped, all-zero GIDs (no GID yet) skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

enum disc_kind {
	DISC_NONE,
	DISC_FC_DRIVER, /* fc_host filtered by PCI driver name */
	DISC_FC_FCOE, /* fc_host filtered by subsystem "fcoe" */
	DISC_IB, /* InfiniBand port GIDs */
	DISC_FIREWIRE, /* local FireWire node GUID */
	DISC_VIO, /* ibmvscsis vio devices */
	DISC_SPEC, /* spec file wwn_from_files */
};

struct wwn_list {
	const struct rts_fabric *f;
	char **v;
	size_t n, cap;
};

/* Read at most size - 1 bytes of a (sysfs) file, NUL-terminated; returns the length. */
static ssize_t read_raw(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return n;
}

/* Read a small one-value file, trailing whitespace removed; NUL bytes make it malformed. */
static int read_small(const char *path, char *buf, size_t size)
{
	ssize_t n = read_raw(path, buf, size);

	if (n < 0)
		return (int)n;
	if (memchr(buf, '\0', (size_t)n))
		return -EINVAL;
	strip_trailing(buf);
	return 0;
}

/* basename of realpath(path), "" when it cannot be resolved. */
static void link_basename(const char *path, char *buf, size_t size)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	const char *b;

	buf[0] = '\0';
	if (!real)
		return;
	b = strrchr(real, '/');
	b = b ? b + 1 : real;
	if (strlen(b) < size)
		strcpy(buf, b);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_freev(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Sorted entries of @dir whose name starts with @prefix (not "." / ".."). Missing dir: 0. */
static int list_dir(const char *dir, const char *prefix, char ***ret, size_t *ret_n)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	*ret = NULL;
	*ret_n = 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOMEM ? -ENOMEM : 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 8;
			char **nv = realloc(v, nc * sizeof(*v));

			if (!nv)
				goto oom;
			v = nv;
			cap = nc;
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			goto oom;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), name_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
oom:
	closedir(d);
	names_freev(v, n);
	return -ENOMEM;
}

/* Normalise @raw for the fabric, convert to its configfs spelling, append unless present. */
static int list_add(struct wwn_list *l, const char *raw)
{
	char norm[RTS_WWN_MAX + 1], cfs[RTS_WWN_MAX + 64];
	char *s;

	if (rts_fabric_normalize_wwn(l->f, raw, norm, sizeof(norm)) < 0)
		return 0; /* malformed: skipped */
	if (l->f->spec.native == RTS_WWN_IB && strspn(norm + 3, "0") == strlen(norm + 3))
		return 0; /* unset GID */
	if (rts_fabric_to_fabric_wwn(l->f, norm, cfs, sizeof(cfs)) < 0)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], cfs))
			return 0;
	if (l->n + 1 >= l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 8;
		char **nv = realloc(l->v, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = nc;
	}
	s = strdup(cfs);
	if (!s)
		return -ENOMEM;
	l->v[l->n++] = s;
	l->v[l->n] = NULL;
	return 0;
}

static int scan_fc(struct wwn_list *l, const char *root, enum disc_kind kind, const char *want)
{
	char dir[RTS_PATH_MAX], p[RTS_PATH_MAX], val[256], name[256];
	char **hosts;
	size_t nh;
	int r;

	if (path_fmt(dir, sizeof(dir), "%s/class/fc_host", root) < 0)
		return -ENAMETOOLONG;
	r = list_dir(dir, "host", &hosts, &nh);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nh && r >= 0; i++) {
		_cleanup_free_ char *host = NULL;
		char *cut = NULL;

		if (path_fmt(p, sizeof(p), "%s/%s/port_name", dir, hosts[i]) < 0 ||
		    read_small(p, val, sizeof(val)) < 0)
			continue;
		/* rtslib: realpath of the fc_host dir, minus three components, is the device */
		if (path_fmt(p, sizeof(p), "%s/%s", dir, hosts[i]) < 0 ||
		    !(host = realpath(p, NULL)))
			continue;
		for (int k = 0; k < 3; k++) {
			cut = strrchr(host, '/');
			if (!cut || cut == host)
				break;
			*cut = '\0';
		}
		if (!cut || cut == host)
			continue;
		if (path_fmt(p, sizeof(p), "%s/%s", host,
			     kind == DISC_FC_DRIVER ? "driver" : "subsystem") < 0)
			continue;
		link_basename(p, name, sizeof(name));
		if (strcmp(name, want))
			continue;
		r = list_add(l, val);
	}
	names_freev(hosts, nh);
	return r;
}

static int scan_ib(struct wwn_list *l, const char *root)
{
	char dir[RTS_PATH_MAX], p[RTS_PATH_MAX], val[256];
	char **devs, **ports;
	size_t nd, np;
	int r;

	if (path_fmt(dir, sizeof(dir), "%s/class/infiniband", root) < 0)
		return -ENAMETOOLONG;
	r = list_dir(dir, "", &devs, &nd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nd && r >= 0; i++) {
		if (path_fmt(p, sizeof(p), "%s/%s/ports", dir, devs[i]) < 0)
			continue;
		r = list_dir(p, "", &ports, &np);
		for (size_t j = 0; j < np && r >= 0; j++) {
			if (path_fmt(p, sizeof(p), "%s/%s/ports/%s/gids/0", dir, devs[i],
				     ports[j]) < 0 ||
			    read_small(p, val, sizeof(val)) < 0)
				continue;
			r = list_add(l, val);
		}
		names_freev(ports, np);
	}
	names_freev(devs, nd);
	return r;
}

static int scan_firewire(struct wwn_list *l, const char *root)
{
	char dir[RTS_PATH_MAX], p[RTS_PATH_MAX], val[256];
	char **nodes;
	size_t nn;
	int r;

	if (path_fmt(dir, sizeof(dir), "%s/bus/firewire/devices", root) < 0)
		return -ENAMETOOLONG;
	r = list_dir(dir, "fw", &nodes, &nn);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nn; i++) {
		uint64_t local;

		if (path_fmt(p, sizeof(p), "%s/%s/is_local", dir, nodes[i]) < 0 ||
		    read_small(p, val, sizeof(val)) < 0 || parse_u64(val, &local) < 0 || !local)
			continue;
		if (path_fmt(p, sizeof(p), "%s/%s/guid", dir, nodes[i]) < 0 ||
		    read_small(p, val, sizeof(val)) < 0)
			continue;
		/* rtslib: the first local node only (its GUID names the share uniquely) */
		r = list_add(l, val);
		if (r < 0 || l->n)
			break;
	}
	names_freev(nodes, nn);
	return r;
}

static int scan_vio(struct wwn_list *l, const char *root)
{
	char dir[RTS_PATH_MAX], p[RTS_PATH_MAX], val[256];
	char **devs;
	size_t nd;
	int r;

	if (path_fmt(dir, sizeof(dir), "%s/module/ibmvscsis/drivers/vio:ibmvscsis", root) < 0)
		return -ENAMETOOLONG;
	r = list_dir(dir, "", &devs, &nd);
	if (r < 0)
		return r;
	for (size_t i = 0; i < nd && r >= 0; i++) {
		const char *at;

		if (path_fmt(p, sizeof(p), "%s/%s/devspec", dir, devs[i]) < 0 ||
		    read_small(p, val, sizeof(val)) < 0)
			continue;
		at = strchr(val, '@');
		r = list_add(l, at ? at + 1 : val);
	}
	names_freev(devs, nd);
	return r;
}

/*
 * Spec-file fabrics: every file matching a wwn_from_files pattern holds WWNs separated by
 * tabs, NULs, newlines or spaces (rtslib splits them the same way). Only patterns under
 * /sys are read, relative to the sysfs root; wwn_from_files_filter is not run (see
 * fabric_table.c), the normalisation of list_add() replaces it.
 */
static int scan_spec(struct wwn_list *l, const char *root)
{
	_cleanup_free_ char *buf = malloc(RTS_VALUE_MAX);
	char esc[RTS_PATH_MAX], pat[RTS_PATH_MAX];
	size_t n = 0;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	/* glob metacharacters in the root are literal */
	for (const char *c = root; *c; c++) {
		if (n + 3 >= sizeof(esc))
			return -ENAMETOOLONG;
		if (strchr("*?[]\\", *c))
			esc[n++] = '\\';
		esc[n++] = *c;
	}
	esc[n] = '\0';
	for (char **p = l->f->spec.wwn_from_files; *p && r >= 0; p++) {
		glob_t g = { 0 };
		int gr;

		if (strncmp(*p, "/sys/", 5) ||
		    path_fmt(pat, sizeof(pat), "%s%s", esc, *p + strlen("/sys")) < 0)
			continue;
		gr = glob(pat, 0, NULL, &g);
		if (gr == GLOB_NOSPACE)
			r = -ENOMEM;
		for (size_t i = 0; gr == 0 && i < g.gl_pathc && r >= 0; i++) {
			ssize_t len = read_raw(g.gl_pathv[i], buf, RTS_VALUE_MAX);

			if (len <= 0)
				continue;
			for (ssize_t k = 0; k < len; k++)
				if (buf[k] == '\t' || buf[k] == '\n' || buf[k] == ' ')
					buf[k] = '\0';
			for (char *tok = buf; tok < buf + len && r >= 0; tok += strlen(tok) + 1)
				if (*tok)
					r = list_add(l, tok);
		}
		globfree(&g);
	}
	return r;
}

static enum disc_kind disc_kind_of(const struct rts_fabric *f, const char **want)
{
	const char *name = f->spec.name;

	*want = NULL;
	if (f->from_spec)
		return f->spec.wwn_from_files && f->spec.wwn_from_files[0] ? DISC_SPEC : DISC_NONE;
	if (f->owns_strings)
		return DISC_NONE; /* unknown fabrics found in configfs */
	if (!strcmp(name, "qla2xxx") || !strcmp(name, "efct")) {
		*want = name;
		return DISC_FC_DRIVER;
	}
	if (!strcmp(name, "tcm_fc")) {
		*want = "fcoe";
		return DISC_FC_FCOE;
	}
	if (!strcmp(name, "srpt"))
		return DISC_IB;
	if (!strcmp(name, "sbp"))
		return DISC_FIREWIRE;
	if (!strcmp(name, "ibmvscsis"))
		return DISC_VIO;
	return DISC_NONE;
}

RTS_EXPORT bool rts_fabric_has_hw_wwns(const struct rts_fabric *f)
{
	const char *want;

	assert_return(f, false);
	return disc_kind_of(f, &want) != DISC_NONE;
}

RTS_EXPORT int rts_fabric_discover_wwns(const struct rts_fabric *f, const char *sysfs_root,
					char ***ret, size_t *ret_count)
{
	struct wwn_list l = { .f = f };
	const char *want;
	enum disc_kind kind;
	int r;

	assert_return(f && ret, -EINVAL);
	assert_return(!sysfs_root || *sysfs_root == '/', -EINVAL);
	kind = disc_kind_of(f, &want);
	if (kind == DISC_NONE)
		return -EOPNOTSUPP;
	if (!sysfs_root)
		sysfs_root = "/sys";
	switch (kind) {
	case DISC_FC_DRIVER:
	case DISC_FC_FCOE:
		r = scan_fc(&l, sysfs_root, kind, want);
		break;
	case DISC_IB:
		r = scan_ib(&l, sysfs_root);
		break;
	case DISC_FIREWIRE:
		r = scan_firewire(&l, sysfs_root);
		break;
	case DISC_VIO:
		r = scan_vio(&l, sysfs_root);
		break;
	default:
		r = scan_spec(&l, sysfs_root);
		break;
	}
	if (r >= 0 && !l.v) {
		l.v = calloc(1, sizeof(*l.v));
		if (!l.v)
			r = -ENOMEM;
	}
	if (r < 0) {
		names_freev(l.v, l.n);
		return r;
	}
	*ret = l.v;
	if (ret_count)
		*ret_count = l.n;
	return 0;
}

RTS_EXPORT char **rts_wwns_free(char **wwns)
{
	if (wwns) {
		for (char **w = wwns; *w; w++)
			free(*w);
		free(wwns);
	}
	return NULL;
}
