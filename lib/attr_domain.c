/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domains of the attributes whose values the kernel checks (6.1: target_core_configfs.c
 * *_store(), iscsi_target_tpg.c iscsit_ta_*, iscsi_target_nodeattrib.c iscsit_na_*), in one
 * table used by the emulated backend (emu.c), rtsctl set and saveconfig validation.
 * Attributes not listed are passed through: the kernel has the last word. Conditions that
 * depend on the live device (hw_queue_depth, exported) are the emulator's (emu.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

struct domain {
	unsigned int kinds; /* 1u << enum conf_obj */
	const char *name;
	int64_t min, max;
	const int64_t *set; /* allowed values (terminated by INT64_MIN), or NULL: min..max */
};

#define K(x)   (1u << RTS_ATTR_##x)
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
	{ K(ISCSI_TPG), "authentication", BOOL01 },
	{ K(ISCSI_TPG), "generate_node_acls", BOOL01 },
	{ K(ISCSI_TPG), "cache_dynamic_acls", BOOL01 },
	{ K(ISCSI_TPG), "demo_mode_write_protect", BOOL01 },
	{ K(ISCSI_TPG), "prod_mode_write_protect", BOOL01 },
	{ K(ISCSI_TPG), "demo_mode_discovery", BOOL01 },
	{ K(ISCSI_TPG), "tpg_enabled_sendtargets", BOOL01 },
	{ K(ISCSI_TPG), "login_keys_workaround", BOOL01 },
	{ K(ISCSI_TPG), "t10_pi", BOOL01 },
	{ K(ISCSI_TPG), "netif_timeout", 2, 15, NULL },
	{ K(ISCSI_TPG), "login_timeout", 5, 30, NULL },
	{ K(ISCSI_TPG), "default_cmdsn_depth", 1, 512, NULL },
	{ K(ISCSI_TPG), "fabric_prot_type", 0, 3, prot_types },
	/* iSCSI node ACL attributes (iscsit_na_*) */
	{ K(ISCSI_ACL), "authentication", -1, 1, acl_auth },
	{ K(ISCSI_ACL), "dataout_timeout", 2, 60, NULL },
	{ K(ISCSI_ACL), "dataout_timeout_retries", 1, 15, NULL },
	{ K(ISCSI_ACL), "nopin_timeout", 3, 60, NULL },
	{ K(ISCSI_ACL), "nopin_response_timeout", 3, 60, NULL },
	{ K(ISCSI_ACL), "default_erl", 0, 2, NULL },
	{ K(ISCSI_ACL), "random_datain_pdu_offsets", BOOL01 },
	{ K(ISCSI_ACL), "random_datain_seq_offsets", BOOL01 },
	{ K(ISCSI_ACL), "random_r2t_offsets", BOOL01 },
};

/* kstrtobool()'s spellings, which the kernel's boolean attributes take too */
static bool kernel_bool(const char *v)
{
	static const char *const words[] = { "y", "Y", "n", "N", "on", "off", "true", "false",
					     NULL };

	for (size_t i = 0; words[i]; i++)
		if (!strcmp(v, words[i]))
			return true;
	return false;
}

RTS_EXPORT int rts_attr_check(enum rts_attr_obj kind, const char *name, const char *value,
			      char *why, size_t size)
{
	char *end, scratch[8];
	long long v;

	assert_return(name && value, -EINVAL);
	if (!why || !size) {
		why = scratch;
		size = sizeof(scratch);
	}
	for (size_t i = 0; i < sizeof(domains) / sizeof(domains[0]); i++) {
		const struct domain *d = &domains[i];

		if (!(d->kinds & (1u << kind)) || strcmp(d->name, name) != 0)
			continue;
		if (!d->set && d->min == 0 && d->max == 1 && kernel_bool(value))
			return 0;
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
