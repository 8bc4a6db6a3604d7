/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One set of limits for create, set, validate and restore: index ranges and the domains of
 * the attributes whose values the kernel checks (6.1: target_core_configfs.c
 * target_dev_store_*, iscsi_target_tpg.c iscsit_ta_*, iscsi_target_nodeattrib.c
 * iscsit_na_*). Attributes not listed are passed through: the kernel has the last word.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

struct domain {
	unsigned int kinds; /* 1u << enum conf_obj */
	const char *name;
	int64_t min, max;
	const int64_t *set; /* allowed values (terminated by INT64_MIN), or NULL: min..max */
};

#define K(x)   (1u << CONF_OBJ_##x)
#define BOOL01 0, 1, NULL

static const int64_t block_sizes[] = { 512, 1024, 2048, 4096, INT64_MIN };
static const int64_t prot_types[] = { 0, 1, 3, INT64_MIN };
static const int64_t acl_auth[] = { -1, 0, 1, INT64_MIN };

static const struct domain domains[] = {
	/* storage objects (se_dev_set_*) */
	{ K(SO), "block_size", 512, 4096, block_sizes },
	{ K(SO), "queue_depth", 1, UINT32_MAX, NULL },
	{ K(SO), "optimal_sectors", 0, UINT32_MAX, NULL },
	{ K(SO), "emulate_ua_intlck_ctrl", 0, 2, NULL },
	{ K(SO), "pi_prot_type", 0, 3, prot_types },
	{ K(SO), "pi_prot_format", BOOL01 },
	{ K(SO), "pi_prot_verify", BOOL01 },
	{ K(SO), "emulate_model_alias", BOOL01 },
	{ K(SO), "emulate_dpo", BOOL01 },
	{ K(SO), "emulate_fua_write", BOOL01 },
	{ K(SO), "emulate_fua_read", BOOL01 },
	{ K(SO), "emulate_write_cache", BOOL01 },
	{ K(SO), "emulate_tas", BOOL01 },
	{ K(SO), "emulate_tpu", BOOL01 },
	{ K(SO), "emulate_tpws", BOOL01 },
	{ K(SO), "emulate_caw", BOOL01 },
	{ K(SO), "emulate_3pc", BOOL01 },
	{ K(SO), "emulate_pr", BOOL01 },
	{ K(SO), "emulate_rest_reord", 0, 0, NULL },
	{ K(SO), "enforce_pr_isids", BOOL01 },
	{ K(SO), "force_pr_aptpl", BOOL01 },
	{ K(SO), "is_nonrot", BOOL01 },
	{ K(SO), "unmap_zeroes_data", BOOL01 },
	{ K(SO), "alua_support", BOOL01 },
	{ K(SO), "pgr_support", BOOL01 },
	/* iSCSI TPG attributes (iscsit_ta_*) */
	{ K(TPG), "authentication", BOOL01 },
	{ K(TPG), "generate_node_acls", BOOL01 },
	{ K(TPG), "cache_dynamic_acls", BOOL01 },
	{ K(TPG), "demo_mode_write_protect", BOOL01 },
	{ K(TPG), "prod_mode_write_protect", BOOL01 },
	{ K(TPG), "demo_mode_discovery", BOOL01 },
	{ K(TPG), "tpg_enabled_sendtargets", BOOL01 },
	{ K(TPG), "login_keys_workaround", BOOL01 },
	{ K(TPG), "t10_pi", BOOL01 },
	{ K(TPG), "netif_timeout", 2, 15, NULL },
	{ K(TPG), "login_timeout", 5, 30, NULL },
	{ K(TPG), "default_cmdsn_depth", 1, CONF_CMDSN_DEPTH_MAX, NULL },
	{ K(TPG), "fabric_prot_type", 0, 3, prot_types },
	/* iSCSI node ACL attributes (iscsit_na_*) */
	{ K(ACL), "authentication", -1, 1, acl_auth },
	{ K(ACL), "dataout_timeout", 2, 60, NULL },
	{ K(ACL), "dataout_timeout_retries", 1, 15, NULL },
	{ K(ACL), "nopin_timeout", 3, 60, NULL },
	{ K(ACL), "nopin_response_timeout", 3, 60, NULL },
	{ K(ACL), "default_erl", 0, 2, NULL },
	{ K(ACL), "random_datain_pdu_offsets", BOOL01 },
	{ K(ACL), "random_datain_seq_offsets", BOOL01 },
	{ K(ACL), "random_r2t_offsets", BOOL01 },
};

int conf_attr_check(enum conf_obj kind, const char *name, const char *value, char *why,
		    size_t size)
{
	char *end;
	long long v;

	if (conf_attr_is_readonly(name)) {
		snprintf(why, size, "read-only");
		return -EROFS;
	}
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		const struct domain *d = &domains[i];

		if (!(d->kinds & (1u << kind)) || strcmp(d->name, name) != 0)
			continue;
		errno = 0;
		v = strtoll(value, &end, 10);
		if (!*value || *end || errno) {
			snprintf(why, size, "not a number");
			return -EINVAL;
		}
		if (d->set) {
			char list[128] = "";
			size_t n = 0;

			for (size_t k = 0; d->set[k] != INT64_MIN; k++) {
				if (d->set[k] == v)
					return 0;
				n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%" PRId64,
						      n ? ", " : "", d->set[k]);
			}
			snprintf(why, size, "must be one of %s", list);
			return -ERANGE;
		}
		if (v < d->min || v > d->max) {
			snprintf(why, size, "out of range %" PRId64 "..%" PRId64, d->min, d->max);
			return -ERANGE;
		}
		return 0;
	}
	return 0;
}
