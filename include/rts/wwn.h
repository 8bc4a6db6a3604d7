/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file wwn.h
 * @brief World wide names (RFC 3720/3721/3722/3980, T11 NAA) and object name validation.
 *
 * Returns: 0 or a negative errno, never errno. Ownership: results are written to caller
 * buffers or returned malloc()ed through char ** (the caller frees them).
 * Threads: reentrant, no shared state.
 */
#ifndef RTS_WWN_H
#define RTS_WWN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** WWN formats, usable as a bit mask (1u << type) of accepted formats. */
enum rts_wwn_type {
	RTS_WWN_FREE = 0, /**< free form (any valid object name) */
	RTS_WWN_IQN, /**< iqn.yyyy-mm.reversed.domain[:id] (RFC 3720/3722) */
	RTS_WWN_NAA, /**< naa. + 16 hex (NAA 1,2,3,5,C-F) or 32 hex (NAA 6) (RFC 3980) */
	RTS_WWN_EUI, /**< eui. + 16 hex (EUI-64, RFC 3720) */
	RTS_WWN_IB, /**< ib. + 32 hex (InfiniBand GID, srpt) */
	RTS_WWN_UNIT_SERIAL, /**< 8-4-4-4-12 hex UUID (T10 unit serial) */
	RTS_WWN_TYPE_MAX,
};

/** Mask bit of a WWN type. */
#define RTS_WWN_MASK(t) (1u << (t))

/** Longest WWN accepted (iSCSI names are at most 223 bytes, RFC 3720 3.2.6.1). */
#define RTS_WWN_MAX 223

/** Longest object name accepted by rts_name_validate(). */
#define RTS_NAME_MAX 255

/**
 * @brief Validate and normalise a WWN: trims blanks, lowercases, removes ':' / '-' and a
 *        0x prefix for hex formats, adds the type prefix ("21:00:00:24:ff:31:4c:48" becomes
 *        "naa.21000024ff314c48").
 * @param wwn user supplied WWN
 * @param types mask of accepted types (RTS_WWN_MASK()); 0 accepts every type
 * @param buf receives the normalised WWN
 * @param size size of @p buf (RTS_WWN_MAX + 1 is always enough)
 * @param ret_type receives the detected type (may be NULL)
 * @return 0, -EINVAL (not a valid WWN of any accepted type), -ENAMETOOLONG, -ENOSPC (buf)
 */
int rts_wwn_normalize(const char *wwn, unsigned int types, char *buf, size_t size,
		      enum rts_wwn_type *ret_type);

/**
 * @brief Validate a WWN without normalising it (it must already be normalised).
 * @param wwn WWN
 * @param type expected type
 * @return 0 or -EINVAL
 */
int rts_wwn_validate(const char *wwn, enum rts_wwn_type type);

/**
 * @brief Generate a random WWN: iqn.2003-01.org.linux-iscsi.HOST.ARCH:sn.XXXXXXXXXXXX,
 *        naa.5001405XXXXXXXXX, eui.001405XXXXXXXXXX, ib.<32 hex>, or a UUID.
 * @param type type to generate
 * @param buf receives the WWN
 * @param size size of @p buf
 * @return 0, -EINVAL, -ENOSPC
 */
int rts_wwn_generate(enum rts_wwn_type type, char *buf, size_t size);

/**
 * @brief Name of a WWN type ("iqn", "naa", "eui", "ib", "unit_serial", "free").
 * @param type type
 * @return static string, NULL for an unknown type
 */
const char *rts_wwn_type_name(enum rts_wwn_type type);

/**
 * @brief Check a name used as one configfs path component: 1..RTS_NAME_MAX bytes, no '/',
 *        not "." or "..", no leading '.', no control characters or DEL, no whitespace.
 * @param name name
 * @param reason receives a static reason on failure (may be NULL)
 * @return 0, -EINVAL, -ENAMETOOLONG
 */
int rts_name_validate(const char *name, const char **reason);

#ifdef __cplusplus
}
#endif

#endif
