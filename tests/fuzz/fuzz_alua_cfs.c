/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The configfs ALUA text rts-runner parses (tcmu/alua_cfs.c) on arbitrary bytes: each line
 * as a members line and as an alua_access_type. Invariants (abort on violation): an accepted
 * members line has a non-empty fabric and WWN without '/', a TPG tag within 16 bits and a
 * LUN name "lun_..."; an access type is -EINVAL or 0..3.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alua_cfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[1024];
	char *save = NULL;

	if (size >= sizeof(buf))
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct alua_cfs_member m;
		int t = alua_cfs_parse_type(line);

		if (t != -EINVAL && (t < 0 || t > 3))
			abort();
		if (alua_cfs_parse_member(line, &m) < 0)
			continue;
		if (!m.fabric[0] || !m.wwn[0] || strchr(m.fabric, '/') || strchr(m.wwn, '/') ||
		    m.tpgt > UINT16_MAX || strncmp(m.lun, "lun_", 4) != 0 || strchr(m.lun, '/'))
			abort();
	}
	return 0;
}
