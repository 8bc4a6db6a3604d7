/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* qcow2 header / L1 / L2 parsers over untrusted bytes. See qcow2_format.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qcow2_format.h"

static int fail(char *why, size_t whylen, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* Walk the header extensions in buf[start, end). */
static int parse_extensions(const uint8_t *buf, size_t start, size_t end, struct qcow2_header *h,
			    char *why, size_t whylen)
{
	size_t off = start;

	while (off + 8 <= end) {
		uint32_t type = qcow2_be32(buf + off);
		uint32_t elen = qcow2_be32(buf + off + 4);
		uint64_t padded = ((uint64_t)elen + 7) & ~(uint64_t)7;

		if (type == QCOW2_EXT_END)
			return 0;
		if (padded > end - off - 8)
			return fail(why, whylen, -EINVAL,
				    "header extension 0x%08x at %zu (%" PRIu32 " bytes) overruns "
				    "the header cluster",
				    type, off, elen);
		switch (type) {
		case QCOW2_EXT_BACKING_FMT: {
			size_t n = elen < sizeof(h->backing_fmt) ? elen :
								   sizeof(h->backing_fmt) - 1;

			h->has_backing_fmt = true;
			memcpy(h->backing_fmt, buf + off + 8, n);
			h->backing_fmt[n] = '\0';
			break;
		}
		case QCOW2_EXT_CRYPTO:
			h->has_crypto_ext = true;
			break;
		case QCOW2_EXT_DATA_FILE:
			h->has_data_file_ext = true;
			break;
		case QCOW2_EXT_BITMAPS:
			h->has_bitmaps_ext = true;
			break;
		default: /* feature name table and unknown extensions: ignorable */
			break;
		}
		off += 8 + (size_t)padded;
	}
	/* No end marker before the end of the cluster: qemu accepts that too. */
	return 0;
}

int qcow2_parse_header(const uint8_t *buf, size_t len, struct qcow2_header *h, char *why,
		       size_t whylen)
{
	uint64_t cs, l2_cover, need_l1, ext_end, known;
	uint32_t magic;

	memset(h, 0, sizeof(*h));
	if (len < 8)
		return fail(why, whylen, -EINVAL, "truncated header (%zu bytes): not a qcow2 image",
			    len);
	magic = qcow2_be32(buf);
	if (magic != QCOW2_MAGIC)
		return fail(why, whylen, -EINVAL, "bad magic 0x%08x: not a qcow2 image", magic);
	h->version = qcow2_be32(buf + 4);
	if (h->version == 1)
		return fail(
			why, whylen, -ENOTSUP,
			"qcow version 1 is not supported (convert it: qemu-img convert -O qcow2)");
	if (h->version != 2 && h->version != 3)
		return fail(why, whylen, -ENOTSUP, "qcow2 version %" PRIu32 " is not supported",
			    h->version);
	if (len < QCOW2_V2_HDR_LEN || (h->version == 3 && len < QCOW2_V3_HDR_LEN))
		return fail(why, whylen, -EINVAL, "truncated header (%zu bytes)", len);

	h->backing_file_offset = qcow2_be64(buf + 8);
	h->backing_file_size = qcow2_be32(buf + 16);
	h->cluster_bits = qcow2_be32(buf + 20);
	h->size = qcow2_be64(buf + 24);
	h->crypt_method = qcow2_be32(buf + 32);
	h->l1_size = qcow2_be32(buf + 36);
	h->l1_table_offset = qcow2_be64(buf + 40);
	h->refcount_table_offset = qcow2_be64(buf + 48);
	h->refcount_table_clusters = qcow2_be32(buf + 56);
	h->nb_snapshots = qcow2_be32(buf + 60);
	h->snapshots_offset = qcow2_be64(buf + 64);
	if (h->version == 3) {
		h->incompatible_features = qcow2_be64(buf + 72);
		h->compatible_features = qcow2_be64(buf + 80);
		h->autoclear_features = qcow2_be64(buf + 88);
		h->refcount_order = qcow2_be32(buf + 96);
		h->header_length = qcow2_be32(buf + 100);
	} else {
		h->refcount_order = 4;
		h->header_length = QCOW2_V2_HDR_LEN;
	}

	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
		return fail(why, whylen, -EINVAL,
			    "cluster_bits %" PRIu32 " out of range (9..21: 512 B..2 MiB)",
			    h->cluster_bits);
	cs = 1ull << h->cluster_bits;
	if (h->version == 3) {
		if (h->header_length < QCOW2_V3_HDR_LEN || h->header_length % 8 ||
		    h->header_length > cs)
			return fail(why, whylen, -EINVAL, "bad header_length %" PRIu32,
				    h->header_length);
		if (h->header_length > len)
			return fail(why, whylen, -EINVAL,
				    "truncated header (%zu bytes, header_length %" PRIu32 ")", len,
				    h->header_length);
		if (h->header_length > QCOW2_V3_HDR_LEN)
			h->compression_type = buf[104];
	}

	if (h->crypt_method)
		return fail(why, whylen, -ENOTSUP,
			    "encrypted image (crypt_method %" PRIu32 ") is not supported",
			    h->crypt_method);
	if (h->refcount_order != 4)
		return fail(why, whylen, -ENOTSUP,
			    "refcount_order %" PRIu32 " is not supported (only 16-bit refcounts, "
			    "refcount_order 4, the qemu default)",
			    h->refcount_order);
	if (h->incompatible_features & QCOW2_INCOMPAT_DATA_FILE)
		return fail(why, whylen, -ENOTSUP, "external data file is not supported");
	if (h->incompatible_features & QCOW2_INCOMPAT_EXTL2)
		return fail(why, whylen, -ENOTSUP,
			    "extended L2 entries (subclusters) are not supported");
	known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESSION;
	if (h->incompatible_features & ~known)
		return fail(why, whylen, -ENOTSUP, "unknown incompatible feature bits 0x%" PRIx64,
			    h->incompatible_features & ~known);
	if (h->compression_type != 0 && (h->incompatible_features & QCOW2_INCOMPAT_COMPRESSION))
		return fail(why, whylen, -ENOTSUP,
			    "compression type %u is not supported (only zlib)",
			    h->compression_type);
	if (h->compression_type != 0)
		return fail(why, whylen, -EINVAL,
			    "compression type %u without the compression type feature bit",
			    h->compression_type);

	/* The virtual size must be mappable through the L1 table. */
	if (h->size > (1ull << 62))
		return fail(why, whylen, -EINVAL, "virtual size %" PRIu64 " too large", h->size);
	l2_cover = cs * (cs / 8); /* <= 2^39 */
	need_l1 = (h->size + l2_cover - 1) / l2_cover;
	if ((uint64_t)h->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return fail(why, whylen, -EINVAL, "L1 table too large (%" PRIu32 " entries)",
			    h->l1_size);
	if (h->l1_size < need_l1)
		return fail(why, whylen, -EINVAL,
			    "L1 table (%" PRIu32
			    " entries) too small for the virtual size %" PRIu64,
			    h->l1_size, h->size);
	if (h->l1_size &&
	    (h->l1_table_offset % cs || !h->l1_table_offset || h->l1_table_offset > (1ull << 56)))
		return fail(why, whylen, -EINVAL, "bad L1 table offset 0x%" PRIx64,
			    h->l1_table_offset);
	if (!h->refcount_table_clusters ||
	    (uint64_t)h->refcount_table_clusters * cs > QCOW2_MAX_REFTABLE_BYTES)
		return fail(why, whylen, -EINVAL, "bad refcount table size (%" PRIu32 " clusters)",
			    h->refcount_table_clusters);
	if (!h->refcount_table_offset || h->refcount_table_offset % cs ||
	    h->refcount_table_offset > (1ull << 56))
		return fail(why, whylen, -EINVAL, "bad refcount table offset 0x%" PRIx64,
			    h->refcount_table_offset);
	if (h->nb_snapshots && h->snapshots_offset % cs)
		return fail(why, whylen, -EINVAL, "bad snapshot table offset 0x%" PRIx64,
			    h->snapshots_offset);

	/* Extensions run from the end of the header to the end of the first cluster (or the
	 * backing file name, which qemu stores in the same cluster). */
	ext_end = len < cs ? len : cs;
	if (h->backing_file_offset) {
		if (h->backing_file_size > QCOW2_MAX_BACKING_NAME || !h->backing_file_size ||
		    h->backing_file_offset >= cs ||
		    h->backing_file_offset + h->backing_file_size > cs)
			return fail(why, whylen, -EINVAL,
				    "bad backing file name (offset %" PRIu64 ", %" PRIu32 " bytes)",
				    h->backing_file_offset, h->backing_file_size);
		if (h->backing_file_offset + h->backing_file_size <= len) {
			memcpy(h->backing_file, buf + h->backing_file_offset, h->backing_file_size);
			h->backing_file[h->backing_file_size] = '\0';
		}
		if (h->backing_file_offset < ext_end)
			ext_end = h->backing_file_offset;
	}
	if (h->header_length < ext_end) {
		int r = parse_extensions(buf, h->header_length, (size_t)ext_end, h, why, whylen);

		if (r < 0)
			return r;
	}
	if (h->has_crypto_ext)
		return fail(why, whylen, -ENOTSUP,
			    "encrypted image (LUKS header) is not supported");
	if (h->has_data_file_ext)
		return fail(why, whylen, -ENOTSUP, "external data file is not supported");
	return 0;
}

int qcow2_l1_entry(const struct qcow2_header *h, uint64_t e, uint64_t file_size, uint64_t *ret_l2,
		   char *why, size_t whylen)
{
	uint64_t cs = 1ull << h->cluster_bits, off = e & QCOW2_OFFSET_MASK;

	*ret_l2 = 0;
	if (e & QCOW2_L1_RESERVED)
		return fail(why, whylen, -EINVAL, "L1 entry 0x%016" PRIx64 " has reserved bits set",
			    e);
	if (!off)
		return 0;
	if (off % cs)
		return fail(why, whylen, -EINVAL, "L2 table offset 0x%" PRIx64 " is not aligned",
			    off);
	if (off >= file_size)
		return fail(why, whylen, -EINVAL,
			    "L2 table offset 0x%" PRIx64 " is past the end of the file", off);
	*ret_l2 = off;
	return 0;
}

int qcow2_l2_entry(const struct qcow2_header *h, uint64_t e, struct qcow2_l2 *ret, char *why,
		   size_t whylen)
{
	uint64_t cs = 1ull << h->cluster_bits;

	*ret = (struct qcow2_l2){ .type = QCOW2_CL_UNALLOCATED };
	if (e & QCOW2_OFLAG_COMPRESSED) {
		/* x = 62 - (cluster_bits - 8) bits of offset, then (sectors - 1). */
		unsigned int x = 62 - (h->cluster_bits - 8);
		uint64_t nsect = ((e >> x) & ((1ull << (h->cluster_bits - 8)) - 1)) + 1;

		if (e & QCOW2_OFLAG_COPIED)
			return fail(why, whylen, -EINVAL,
				    "compressed L2 entry 0x%016" PRIx64 " has the copied flag", e);
		ret->type = QCOW2_CL_COMPRESSED;
		ret->host_off = e & ((1ull << x) - 1);
		ret->csize = nsect * 512 - (ret->host_off & 511);
		if (ret->host_off < cs)
			return fail(why, whylen, -EINVAL,
				    "compressed cluster at 0x%" PRIx64 " overlaps the header",
				    ret->host_off);
		return 0;
	}
	if (e & QCOW2_L2_RESERVED)
		return fail(why, whylen, -EINVAL, "L2 entry 0x%016" PRIx64 " has reserved bits set",
			    e);
	ret->host_off = e & QCOW2_OFFSET_MASK;
	ret->copied = (e & QCOW2_OFLAG_COPIED) != 0;
	if (ret->host_off % cs)
		return fail(why, whylen, -EINVAL,
			    "data cluster offset 0x%" PRIx64 " is not cluster aligned",
			    ret->host_off);
	if (ret->host_off && ret->host_off < cs)
		return fail(why, whylen, -EINVAL, "data cluster overlaps the header");
	if (h->version >= 3 && (e & QCOW2_OFLAG_ZERO))
		ret->type = ret->host_off ? QCOW2_CL_ZERO_ALLOC : QCOW2_CL_ZERO_PLAIN;
	else if (h->version < 3 && (e & QCOW2_OFLAG_ZERO))
		return fail(why, whylen, -EINVAL, "zero flag in a version 2 image");
	else if (ret->host_off)
		ret->type = QCOW2_CL_NORMAL;
	else if (ret->copied)
		return fail(why, whylen, -EINVAL, "unallocated L2 entry with the copied flag");
	return 0;
}
