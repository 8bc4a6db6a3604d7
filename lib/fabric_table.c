/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fabric modules librts knows (rtslib-fb fabric.py plus usb_gadget), and the parser of
 * third-party fabric spec files (rtslib-style "key = value" lines).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define W(t) RTS_WWN_MASK(RTS_WWN_##t)

// clang-format off
const struct rts_fabric_spec rts_fabric_table[] = {
	{ "iscsi", "iscsi", "iscsi_target_mod", W(IQN) | W(NAA) | W(EUI), RTS_WWN_IQN,
	  RTS_FEAT_DISCOVERY_AUTH | RTS_FEAT_ACLS | RTS_FEAT_AUTH | RTS_FEAT_NPS | RTS_FEAT_TPGTS,
	  FK_TPG_ENABLE | FK_NP | FK_DISC_AUTH | FK_ISCSI_ATTRS | FK_SESSIONS, 65535, NULL },
	{ "loopback", "loopback", "tcm_loop", W(NAA), RTS_WWN_NAA, RTS_FEAT_NEXUS,
	  FK_NEXUS | FK_LOOP, 31, NULL },
	{ "vhost", "vhost", "vhost_scsi", W(NAA), RTS_WWN_NAA,
	  RTS_FEAT_NEXUS | RTS_FEAT_ACLS | RTS_FEAT_TPGTS, FK_NEXUS, 65535, NULL },
	{ "xen-pvscsi", "xen-pvscsi", "xen-scsiback", W(NAA), RTS_WWN_NAA,
	  RTS_FEAT_NEXUS | RTS_FEAT_TPGTS, FK_NEXUS, 65535, NULL },
	{ "qla2xxx", "qla2xxx", "tcm_qla2xxx", W(NAA), RTS_WWN_NAA, RTS_FEAT_ACLS,
	  FK_TPG_ENABLE | FK_COLON_WWN, 65535, NULL },
	{ "efct", "efct", "efct", W(NAA), RTS_WWN_NAA, RTS_FEAT_ACLS,
	  FK_TPG_ENABLE | FK_COLON_WWN, 65535, NULL },
	{ "tcm_fc", "fc", "tcm_fc", W(NAA), RTS_WWN_NAA, RTS_FEAT_ACLS, FK_COLON_WWN, 65535, NULL },
	{ "srpt", "srpt", "ib_srpt", W(IB), RTS_WWN_IB, RTS_FEAT_ACLS,
	  FK_TPG_ENABLE | FK_HEX0X_WWN, 65535, NULL },
	{ "sbp", "sbp", "sbp_target", W(EUI), RTS_WWN_EUI, 0,
	  FK_TPG_ENABLE | FK_BARE_WWN, 65535, NULL },
	{ "ibmvscsis", "ibmvscsis", "ibmvscsis", W(FREE), RTS_WWN_FREE, 0, FK_TPG_ENABLE, 65535,
	  NULL },
	{ "usb_gadget", "usb_gadget", "tcm_usb_gadget", W(NAA), RTS_WWN_NAA, RTS_FEAT_NEXUS,
	  FK_NEXUS | FK_TPG_ENABLE, 65535, NULL },
};
// clang-format on
const size_t rts_fabric_table_len = ARRAY_SIZE(rts_fabric_table);

const struct rts_fabric_spec *fabric_spec_by_cfs(const char *cfs_name)
{
	for (size_t i = 0; i < rts_fabric_table_len; i++)
		if (!strcmp(rts_fabric_table[i].cfs_name, cfs_name))
			return &rts_fabric_table[i];
	return NULL;
}

void fabric_spec_clear(struct rts_fabric_spec *spec)
{
	free((char *)spec->name);
	free((char *)spec->cfs_name);
	free((char *)spec->module);
	if (spec->wwn_from_files)
		for (char **p = spec->wwn_from_files; *p; p++)
			free(*p);
	free(spec->wwn_from_files);
	*spec = (struct rts_fabric_spec){ 0 };
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	/* ("a", "b") and "a" spellings of rtslib spec files */
	if (*s == '(' && e > s && e[-1] == ')') {
		e[-1] = '\0';
		s++;
	}
	return s;
}

static int parse_list(char *v, unsigned int *mask, bool wwn, enum rts_wwn_type *first)
{
	static const char *const feats[] = { "discovery_auth", "acls", "auth", "nps",
					     "tpgts",	       "nexus" };
	char *save = NULL, *tok;
	bool have_first = false;

	*mask = 0;
	v = trim(v);
	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *t = trim(tok);
		size_t n = strlen(t);
		bool found = false;

		if (n >= 2 && (t[0] == '"' || t[0] == '\'') && t[n - 1] == t[0]) {
			t[n - 1] = '\0';
			t++;
		}
		if (!*t)
			continue;
		if (wwn) {
			for (int i = 0; i < RTS_WWN_TYPE_MAX; i++) {
				if (!strcmp(t, rts_wwn_type_name((enum rts_wwn_type)i))) {
					*mask |= RTS_WWN_MASK(i);
					if (!have_first)
						*first = (enum rts_wwn_type)i;
					have_first = found = true;
				}
			}
		} else {
			for (size_t i = 0; i < ARRAY_SIZE(feats); i++) {
				if (!strcmp(t, feats[i])) {
					*mask |= 1u << i;
					found = true;
				}
			}
		}
		if (!found)
			return -EINVAL;
	}
	return 0;
}

/* wwn_from_files = a, "b", ('c', 'd'): appended to *list (NULL-terminated). */
static int parse_patterns(char *v, char ***list)
{
	char *save = NULL, *tok;
	size_t n = 0;

	if (*list)
		while ((*list)[n])
			n++;
	v = trim(v);
	for (tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *t = trim(tok), **nl;
		size_t len = strlen(t);

		if (len >= 2 && (t[0] == '"' || t[0] == '\'') && t[len - 1] == t[0]) {
			t[len - 1] = '\0';
			t++;
		}
		if (!*t)
			continue;
		nl = realloc(*list, (n + 2) * sizeof(*nl));
		if (!nl)
			return -ENOMEM;
		*list = nl;
		nl[n] = strdup(t);
		nl[n + 1] = NULL;
		if (!nl[n])
			return -ENOMEM;
		n++;
	}
	return 0;
}

static char *unquote_dup(char *v)
{
	size_t n;

	v = trim(v);
	n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		v++;
	}
	return strdup(v);
}

int fabric_spec_parse(const char *name, const char *text, struct rts_fabric_spec *spec)
{
	_cleanup_free_ char *copy = NULL;
	char *line, *save = NULL;
	int r = 0;

	*spec = (struct rts_fabric_spec){ 0 };
	if (rts_name_validate(name, NULL) < 0)
		return -EINVAL;
	copy = strdup(text);
	spec->name = strdup(name);
	if (!copy || !spec->name) {
		fabric_spec_clear(spec);
		return -ENOMEM;
	}
	spec->wwn_types = RTS_WWN_MASK(RTS_WWN_FREE);
	spec->native = RTS_WWN_FREE;
	spec->features = RTS_FEAT_DISCOVERY_AUTH | RTS_FEAT_ACLS | RTS_FEAT_AUTH | RTS_FEAT_NPS |
			 RTS_FEAT_TPGTS;
	spec->max_tpgt = 65535;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq, *key, *val, *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
		if (!*trim(line))
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(line);
		val = eq + 1;
		if (!strcmp(key, "features")) {
			r = parse_list(val, &spec->features, false, NULL);
		} else if (!strcmp(key, "wwn_type") || !strcmp(key, "wwn_types")) {
			r = parse_list(val, &spec->wwn_types, true, &spec->native);
			if (!r && !spec->wwn_types)
				r = -EINVAL;
		} else if (!strcmp(key, "kernel_module")) {
			free((char *)spec->module);
			spec->module = unquote_dup(val);
			if (!spec->module)
				r = -ENOMEM;
			else if (rts_name_validate(spec->module, NULL) < 0)
				r = -EINVAL;
		} else if (!strcmp(key, "configfs_group")) {
			free((char *)spec->cfs_name);
			spec->cfs_name = unquote_dup(val);
			if (!spec->cfs_name)
				r = -ENOMEM;
			else if (rts_name_validate(spec->cfs_name, NULL) < 0)
				r = -EINVAL;
		} else if (!strcmp(key, "wwn_from_files")) {
			r = parse_patterns(val, &spec->wwn_from_files);
		}
		/*
		 * Other rtslib keys are ignored, among them wwn_from_files_filter and
		 * wwn_from_cmds[_filter]: they are shell commands, and a library runs none.
		 * rts_fabric_discover_wwns() normalises what the files hold instead, which
		 * covers what the usual filters do (strip 0x, add or drop colons).
		 */
		if (r < 0)
			break;
	}
	if (!r && !spec->cfs_name && !(spec->cfs_name = strdup(name)))
		r = -ENOMEM;
	if (!r && !spec->module && !(spec->module = path_dup("%s_target_mod", name)))
		r = -ENOMEM;
	if (!r) {
		if (spec->features & RTS_FEAT_NEXUS)
			spec->kflags |= FK_NEXUS;
		if (spec->features & RTS_FEAT_NPS)
			spec->kflags |= FK_NP;
		if (spec->features & RTS_FEAT_DISCOVERY_AUTH)
			spec->kflags |= FK_DISC_AUTH;
	}
	if (r < 0)
		fabric_spec_clear(spec);
	return r;
}
