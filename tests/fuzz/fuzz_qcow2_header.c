/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 metadata parsers (handlers/qcow2/qcow2_format.c) on untrusted bytes: the input is
 * the start of an image file. The header and its extensions are parsed; when they are
 * accepted, every L1 entry that lies inside the input is validated and every L2 table it
 * points to inside the input is decoded. Invariants checked (abort on violation): an
 * accepted header maps its whole virtual size through the L1 table and has a cluster size
 * of 512 B..2 MiB; decoded clusters are aligned (normal) or at most two clusters long
 * (compressed); a rejected input always comes with a reason.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qcow2_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void l2_table(const struct qcow2_header *h, const uint8_t *data, size_t size, uint64_t off)
{
	uint64_t cs = 1ull << h->cluster_bits;
	char why[256];

	for (uint64_t i = 0; i < cs / 8 && off + i * 8 + 8 <= size; i++) {
		struct qcow2_l2 l;

		why[0] = '\0';
		if (qcow2_l2_entry(h, qcow2_be64(data + off + i * 8), &l, why, sizeof(why)) < 0) {
			if (!why[0])
				abort();
			continue;
		}
		switch (l.type) {
		case QCOW2_CL_NORMAL:
		case QCOW2_CL_ZERO_ALLOC:
			if (l.host_off < cs || l.host_off % cs)
				abort();
			break;
		case QCOW2_CL_COMPRESSED:
			if (!l.csize || l.csize > 2 * cs || l.host_off < cs)
				abort();
			break;
		case QCOW2_CL_UNALLOCATED:
		case QCOW2_CL_ZERO_PLAIN:
			if (l.host_off)
				abort();
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct qcow2_header h;
	char why[256] = "";
	uint64_t cs, cover;
	int r;

	r = qcow2_parse_header(data, size, &h, why, sizeof(why));
	if (r < 0) {
		if ((r != -EINVAL && r != -ENOTSUP) || !why[0])
			abort();
		return 0;
	}
	if (h.cluster_bits < QCOW2_MIN_CLUSTER_BITS || h.cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		abort();
	cs = 1ull << h.cluster_bits;
	cover = (uint64_t)h.l1_size * (cs / 8) * cs;
	if (cover < h.size || h.refcount_order != 4 || h.crypt_method)
		abort();
	if (memchr(h.backing_file, '\0', sizeof(h.backing_file)) == NULL)
		abort();
	for (uint64_t i = 0; i < h.l1_size && h.l1_table_offset + i * 8 + 8 <= size; i++) {
		uint64_t l2 = 0;

		why[0] = '\0';
		if (qcow2_l1_entry(&h, qcow2_be64(data + h.l1_table_offset + i * 8), size, &l2, why,
				   sizeof(why)) < 0) {
			if (!why[0])
				abort();
			continue;
		}
		if (l2 && (l2 % cs || l2 >= size))
			abort();
		if (l2)
			l2_table(&h, data, size, l2);
	}
	return 0;
}
