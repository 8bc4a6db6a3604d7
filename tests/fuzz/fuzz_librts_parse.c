/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz target for every librts parser of untrusted bytes: WWNs, object names, portal names,
 * iSCSI session info (kernel text), fabric spec files (files on disk), and attribute values
 * written through the configfs emulator (control strings, enable, nexus, ALUA groups).
 * The first byte selects the parser, the rest is the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

static struct rts_backend *emu;

static void emu_init(void)
{
	struct rts_backend *raw;

	if (emu || rts_backend_new_memory(&raw) < 0 || rts_backend_new_emulated(raw, &emu) < 0)
		return;
	rts_backend_mkdir(emu, "target/core/user_0");
	rts_backend_mkdir(emu, "target/core/user_0/d");
	rts_backend_mkdir(emu, "target/core/fileio_0");
	rts_backend_mkdir(emu, "target/core/fileio_0/d");
	rts_backend_mkdir(emu, "target/loopback");
	rts_backend_mkdir(emu, "target/loopback/naa.5001405000000001");
	rts_backend_mkdir(emu, "target/loopback/naa.5001405000000001/tpgt_1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const attrs[] = {
		"target/core/user_0/d/control",
		"target/core/fileio_0/d/control",
		"target/core/user_0/d/enable",
		"target/core/fileio_0/d/wwn/vpd_unit_serial",
		"target/core/user_0/d/alua_lu_gp",
		"target/loopback/naa.5001405000000001/tpgt_1/nexus",
		"target/dbroot",
	};
	char *s, buf[RTS_WWN_MAX + 1], ip[64];
	struct rts_fabric_spec spec;
	struct rts_session sess;
	uint16_t port;
	bool v6;

	if (size < 1 || size > 8192)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		rts_wwn_normalize(s, data[0] >> 3, buf, sizeof(buf), NULL);
		for (int t = 0; t < RTS_WWN_TYPE_MAX; t++)
			rts_wwn_validate(s, (enum rts_wwn_type)t);
		break;
	case 1:
		rts_name_validate(s, NULL);
		break;
	case 2:
		rts_session_parse(s, &sess);
		break;
	case 3:
		if (fabric_spec_parse("fuzz", s, &spec) == 0)
			fabric_spec_clear(&spec);
		break;
	case 4:
		portal_parse_name(s, ip, sizeof(ip), &port, &v6);
		break;
	default:
		emu_init();
		if (emu)
			emu->ops->write(emu->data, attrs[(data[0] >> 3) % ARRAY_SIZE(attrs)], s,
					strlen(s));
		break;
	}
	free(s);
	return 0;
}
