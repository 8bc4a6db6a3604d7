/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * restore --wait: at boot the backing devices and files of a saved configuration and the
 * addresses of its iSCSI portals may appear after rtsctl-restore.service starts (slow
 * disks, multipath, iSCSI or NFS backing stores, DHCP). Instead of failing those objects,
 * wait for them with a deadline.
 */
#ifndef RTSCTL_CONF_WAIT_H
#define RTSCTL_CONF_WAIT_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

struct conf_wait_opts {
	unsigned int seconds;       /**< deadline; 0: check once, do not wait */
	unsigned int poll_ms;       /**< interval between checks (0: 250 ms) */
	const char *target;         /**< only this target WWN's portals (NULL: all) */
	const char *storage_object; /**< only this storage object (NULL: all) */
	FILE *progress;             /**< where to say what is awaited (NULL: quiet) */
};

/**
 * Wait until every resource @p root (a valid saveconfig document) needs exists: the dev of
 * each block and pscsi storage object, the dev of each fileio storage object (its directory
 * when the object has a size, since LIO then creates the file), and the ip_address of each
 * portal (wildcards always exist; others must be assigned to a local interface).
 *
 * @param ret_missing receives a malloc'd ", "-separated list of what is still missing at the
 *        deadline, each naming the object ("storage object disk1: /dev/sdb"), or NULL
 * @return 0 when everything is there, the number of missing resources at the deadline, or
 *         a negative errno
 */
int conf_wait_ready(struct json_object *root, const struct conf_wait_opts *o, char **ret_missing);

#endif
