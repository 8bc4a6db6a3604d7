/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rbd handler's cfgstring, parsed without touching a cluster (unit-tested and fuzzed
 * on its own):
 *
 *   <pool>/[<namespace>/]<image>[@<snap>][;option]...
 *
 * which is what follows "rbd/" in tcmu-runner's grammar, so existing user:rbd backstores
 * (and the ones ceph-iscsi writes, "rbd/<pool>/<image>;osd_op_timeout=30") read the same.
 * Options (tcmu-runner's three, then ours):
 *   osd_op_timeout=<s>   librados rados_osd_op_timeout: an OSD op that takes longer ends
 *                        the command with a retryable sense (0: wait forever)
 *   conf=<path>          ceph.conf to read (default: librados' search, CEPH_CONF)
 *   id=<user>            cephx user without "client." (default: admin)
 *   connect_timeout=<s>  bound on connecting (monitors, authentication): 1..3600, default 10
 * tcmu-runner ignores unknown options; we refuse them by name. A snapshot is read-only.
 */
#ifndef RTS_HANDLERS_RBD_CFG_H
#define RTS_HANDLERS_RBD_CFG_H

#include <stdint.h>

#define RBD_CONNECT_TIMEOUT_DEFAULT 10u

struct rbd_cfg {
	char *pool;
	char *ns;    /* RADOS namespace, NULL for the default one */
	char *image;
	char *snap;  /* NULL: the image head (writable) */
	char *conf;  /* NULL: librados default search */
	char *id;    /* NULL: "admin" */
	uint32_t osd_op_timeout;  /* seconds, 0: not set */
	uint32_t connect_timeout; /* seconds */
};

/*
 * Parse @cfgstring into @c (everything malloc'd; rbd_cfg_clear() frees it). Returns 0,
 * -EINVAL with a reason naming the offending part in *reason (malloc'd, may stay NULL on
 * -ENOMEM), or -ENOMEM.
 */
int rbd_cfg_parse(const char *cfgstring, struct rbd_cfg *c, char **reason);
void rbd_cfg_clear(struct rbd_cfg *c);

#endif
