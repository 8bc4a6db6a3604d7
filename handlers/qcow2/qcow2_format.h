/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qcow2 on-disk format: constants and pure parsers (no I/O, no allocation) for the header,
 * its extensions, L1 and L2 entries. Everything here takes untrusted bytes and is fuzzed
 * (tests/fuzz/fuzz_qcow2_header.c). Layout: qemu docs/interop/qcow2.txt; every multi-byte
 * field is big endian.
 */
#ifndef RTS_QCOW2_FORMAT_H
#define RTS_QCOW2_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QCOW2_MAGIC		 0x514649fbu /* "QFI\xfb" */
#define QCOW2_V2_HDR_LEN	 72u
#define QCOW2_V3_HDR_LEN	 104u
#define QCOW2_MIN_CLUSTER_BITS	 9u
#define QCOW2_MAX_CLUSTER_BITS	 21u
#define QCOW2_MAX_L1_BYTES	 (32u << 20) /* qemu's QCOW_MAX_L1_SIZE */
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20) /* qemu's QCOW_MAX_REFTABLE_SIZE */
#define QCOW2_MAX_BACKING_NAME	 1023u

/* Header field offsets. */
#define QCOW2_OFF_AUTOCLEAR 88u

/* incompatible_features bits */
#define QCOW2_INCOMPAT_DIRTY	   (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT	   (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2	   (1ull << 4)

/* Header extension types. */
#define QCOW2_EXT_END	      0x00000000u
#define QCOW2_EXT_BACKING_FMT 0xe2792acau
#define QCOW2_EXT_FEATURES    0x6803f857u
#define QCOW2_EXT_BITMAPS     0x23852875u
#define QCOW2_EXT_CRYPTO      0x0537be77u
#define QCOW2_EXT_DATA_FILE   0x44415441u

/* L1 / L2 / refcount table entry bits */
#define QCOW2_OFLAG_COPIED     (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO       (1ull << 0)
#define QCOW2_OFFSET_MASK      0x00fffffffffffe00ull /* bits 9..55 */
#define QCOW2_L1_RESERVED      0x7f000000000001ffull /* bits 0..8, 56..62 */
#define QCOW2_L2_RESERVED      0x3f000000000001feull /* bits 1..8, 56..61 (standard) */
#define QCOW2_REFT_RESERVED    0x00000000000001ffull

struct qcow2_header {
	uint32_t version;
	uint32_t cluster_bits;
	uint64_t size; /* virtual disk size in bytes */
	uint64_t backing_file_offset;
	uint32_t backing_file_size;
	uint32_t crypt_method;
	uint32_t l1_size; /* entries */
	uint64_t l1_table_offset;
	uint64_t refcount_table_offset;
	uint32_t refcount_table_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t incompatible_features;
	uint64_t compatible_features;
	uint64_t autoclear_features;
	uint32_t refcount_order;
	uint32_t header_length;
	uint8_t compression_type;
	/* From the extensions / backing file name. */
	bool has_backing_fmt;
	bool has_crypto_ext;
	bool has_data_file_ext;
	bool has_bitmaps_ext;
	char backing_file[QCOW2_MAX_BACKING_NAME + 1]; /* "" when absent or not in the buffer */
	char backing_fmt[32]; /* backing format extension, "" when absent (truncated if longer) */
};

/* Decoded L2 entry. */
enum qcow2_cluster_type {
	QCOW2_CL_UNALLOCATED, /* reads as zeros (or from the backing file) */
	QCOW2_CL_ZERO_PLAIN, /* v3 zero flag, no host cluster: zeros */
	QCOW2_CL_ZERO_ALLOC, /* v3 zero flag with a preallocated host cluster: zeros */
	QCOW2_CL_NORMAL, /* data at host_off */
	QCOW2_CL_COMPRESSED, /* deflate stream at host_off, csize bytes */
};

struct qcow2_l2 {
	enum qcow2_cluster_type type;
	uint64_t host_off;
	uint64_t csize; /* compressed: bytes to read at host_off */
	bool copied; /* refcount is exactly 1: writable in place */
};

/*
 * Parse and validate the header in @buf (the first @len bytes of the file; at most one
 * cluster is looked at). Returns 0, -EINVAL when it is not a valid qcow2 header (bad
 * magic, truncated, inconsistent fields), or -ENOTSUP for a valid image using something
 * this implementation does not handle at all (version 1, encryption, refcount_order other
 * than 4, external data file, extended L2, zstd, unknown incompatible bits). On failure
 * @why (of @whylen bytes) says why in one sentence. Backing files, snapshots and the
 * dirty/corrupt bits are reported in @h and left to the caller's policy.
 */
int qcow2_parse_header(const uint8_t *buf, size_t len, struct qcow2_header *h, char *why,
		       size_t whylen);

/*
 * Validate one L1 entry (already converted to host order) of an image whose file is
 * @file_size bytes. Returns 0 (and the L2 table offset, 0 when unallocated) or -EINVAL.
 */
int qcow2_l1_entry(const struct qcow2_header *h, uint64_t e, uint64_t file_size, uint64_t *ret_l2,
		   char *why, size_t whylen);

/* Decode one L2 entry (host order). Returns 0 or -EINVAL for a corrupt entry. */
int qcow2_l2_entry(const struct qcow2_header *h, uint64_t e, struct qcow2_l2 *ret, char *why,
		   size_t whylen);

static inline uint64_t qcow2_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline uint32_t qcow2_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void qcow2_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline void qcow2_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif
