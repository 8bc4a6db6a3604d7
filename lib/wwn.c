/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * WWN validation, normalisation and generation (RFC 3720 3.2.6, RFC 3721, RFC 3722,
 * RFC 3980 NAA, T11 FC-FS NAA types), object name checks and portal name parsing.
 *
 * Differences from rtslib-fb on purpose: NAA accepts every 64-bit name type a WWPN can have
 * (1, 2, 3, 5 and the EUI-64 mapped C-F, e.g. NPIV "c0507609..." ports), and 128-bit NAA 6
 * (RFC 3980); colon, dash and 0x spellings are accepted for every hex format; IQNs are
 * checked against the RFC 3720 character set instead of "no space, no underscore".
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "private.h"

static const char *const type_names[RTS_WWN_TYPE_MAX] = {
	[RTS_WWN_FREE] = "free", [RTS_WWN_IQN] = "iqn", [RTS_WWN_NAA] = "naa",
	[RTS_WWN_EUI] = "eui",	 [RTS_WWN_IB] = "ib",	[RTS_WWN_UNIT_SERIAL] = "unit_serial",
};

RTS_EXPORT const char *rts_wwn_type_name(enum rts_wwn_type type)
{
	if ((unsigned int)type >= RTS_WWN_TYPE_MAX)
		return NULL;
	return type_names[type];
}

RTS_EXPORT int rts_name_validate(const char *name, const char **reason)
{
	const char *dummy;
	size_t n;

	if (!reason)
		reason = &dummy;
	if (!name || !*name) {
		*reason = "empty name";
		return -EINVAL;
	}
	n = strlen(name);
	if (n > RTS_NAME_MAX) {
		*reason = "name too long";
		return -ENAMETOOLONG;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		*reason = "'.' and '..' are not names";
		return -EINVAL;
	}
	if (name[0] == '.') {
		*reason = "name starts with '.'";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/') {
			*reason = "name contains '/'";
			return -EINVAL;
		}
		if (c < 0x20 || c == 0x7f) {
			*reason = "name contains a control character";
			return -EINVAL;
		}
		if (c == ' ') {
			*reason = "name contains a space";
			return -EINVAL;
		}
	}
	return 0;
}

static bool all_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

static bool valid_iqn(const char *w)
{
	const char *auth, *colon;
	size_t n = strlen(w);

	/* iqn.yyyy-mm.naming-authority[:unique] */
	if (n < 12 || n > RTS_WWN_MAX || strncmp(w, "iqn.", 4))
		return false;
	for (int i = 4; i < 8; i++)
		if (!isdigit((unsigned char)w[i]))
			return false;
	if (w[8] != '-' || !isdigit((unsigned char)w[9]) || !isdigit((unsigned char)w[10]) ||
	    w[11] != '.')
		return false;
	if ((w[9] - '0') * 10 + (w[10] - '0') < 1 || (w[9] - '0') * 10 + (w[10] - '0') > 12)
		return false;
	auth = w + 12;
	colon = strchrnul(auth, ':');
	if (colon == auth || auth[0] == '.' || colon[-1] == '.')
		return false; /* empty authority or empty label */
	for (const char *c = auth; c < colon; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-' ||
		      *c == '.') ||
		    (*c == '.' && c[1] == '.'))
			return false;
	if (*colon && !colon[1])
		return false; /* trailing ':' */
	for (const char *c = colon; *c; c++)
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-' ||
		      *c == '.' || *c == ':'))
			return false;
	return true;
}

static bool valid_naa(const char *w)
{
	const char *h = w + 4;
	size_t n = strlen(w);

	if (strncmp(w, "naa.", 4))
		return false;
	if (n == 4 + 16 && all_hex(h, 16))
		return strchr("1235cdef", h[0]) != NULL;
	if (n == 4 + 32 && all_hex(h, 32))
		return h[0] == '6';
	return false;
}

static bool valid_unit_serial(const char *w)
{
	static const int groups[] = { 8, 4, 4, 4, 12 };
	const char *c = w;

	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		for (int i = 0; i < groups[g]; i++, c++)
			if (!isxdigit((unsigned char)*c))
				return false;
		if (g + 1 < ARRAY_SIZE(groups) && *c++ != '-')
			return false;
	}
	return *c == '\0';
}

RTS_EXPORT int rts_wwn_validate(const char *wwn, enum rts_wwn_type type)
{
	assert_return(wwn, -EINVAL);
	switch (type) {
	case RTS_WWN_FREE:
		return rts_name_validate(wwn, NULL) < 0 || strlen(wwn) > RTS_WWN_MAX ? -EINVAL : 0;
	case RTS_WWN_IQN:
		return valid_iqn(wwn) ? 0 : -EINVAL;
	case RTS_WWN_NAA:
		return valid_naa(wwn) ? 0 : -EINVAL;
	case RTS_WWN_EUI:
		return !strncmp(wwn, "eui.", 4) && all_hex(wwn + 4, 16) ? 0 : -EINVAL;
	case RTS_WWN_IB:
		return !strncmp(wwn, "ib.", 3) && all_hex(wwn + 3, 32) ? 0 : -EINVAL;
	case RTS_WWN_UNIT_SERIAL:
		return valid_unit_serial(wwn) ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

/* Spell a hex WWN as "<type>.<lowercase hex>". */
static int cleanse_hex(const char *in, enum rts_wwn_type type, char *out, size_t size)
{
	const char *prefix = type_names[type];
	size_t pl = strlen(prefix), n = 0;
	const char *s = in;

	if (!strncmp(s, prefix, pl) && s[pl] == '.')
		s += pl + 1;
	else if (!strncmp(s, "0x", 2))
		s += 2;
	if (pl + 1 >= size)
		return -ENOSPC;
	memcpy(out, prefix, pl);
	out[pl] = '.';
	n = pl + 1;
	for (; *s; s++) {
		if (*s == ':' || *s == '-')
			continue;
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		out[n++] = *s;
	}
	out[n] = '\0';
	return 0;
}

RTS_EXPORT int rts_wwn_normalize(const char *wwn, unsigned int types, char *buf, size_t size,
				 enum rts_wwn_type *ret_type)
{
	static const enum rts_wwn_type order[] = { RTS_WWN_IQN, RTS_WWN_NAA,	     RTS_WWN_EUI,
						   RTS_WWN_IB,	RTS_WWN_UNIT_SERIAL, RTS_WWN_FREE };
	char lower[RTS_WWN_MAX + 2], cand[RTS_WWN_MAX + 8];
	size_t n, start = 0;

	assert_return(wwn && buf && size, -EINVAL);
	if (!types)
		types = (1u << RTS_WWN_TYPE_MAX) - 1;
	n = strlen(wwn);
	while (start < n && isspace((unsigned char)wwn[start]))
		start++;
	while (n > start && isspace((unsigned char)wwn[n - 1]))
		n--;
	if (n - start > RTS_WWN_MAX)
		return -ENAMETOOLONG;
	if (n == start)
		return -EINVAL;
	for (size_t i = start; i < n; i++)
		lower[i - start] = (char)tolower((unsigned char)wwn[i]);
	lower[n - start] = '\0';

	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		enum rts_wwn_type t = order[i];
		int r;

		if (!(types & RTS_WWN_MASK(t)))
			continue;
		if (t == RTS_WWN_NAA || t == RTS_WWN_EUI || t == RTS_WWN_IB) {
			r = cleanse_hex(lower, t, cand, sizeof(cand));
			if (r < 0)
				continue;
		} else if (t == RTS_WWN_FREE) {
			/* free form keeps the user's spelling */
			snprintf(cand, sizeof(cand), "%.*s", (int)(n - start), wwn + start);
		} else {
			snprintf(cand, sizeof(cand), "%s", lower);
		}
		if (rts_wwn_validate(cand, t) < 0)
			continue;
		if (strlen(cand) >= size)
			return -ENOSPC;
		strcpy(buf, cand);
		if (ret_type)
			*ret_type = t;
		return 0;
	}
	return -EINVAL;
}

RTS_EXPORT int rts_wwn_generate(enum rts_wwn_type type, char *buf, size_t size)
{
	char hex[33], host[64] = "localhost", arch[32] = "unknown", out[RTS_WWN_MAX + 1];
	struct utsname u;
	size_t j = 0;
	int r;

	assert_return(buf, -EINVAL);
	r = random_hex(hex, 32);
	if (r < 0)
		return r;
	switch (type) {
	case RTS_WWN_IQN:
		if (gethostname(out, sizeof(out) - 1) == 0) {
			out[sizeof(out) - 1] = '\0';
			for (size_t i = 0; out[i] && out[i] != '.' && j + 1 < sizeof(host); i++)
				if (isalnum((unsigned char)out[i]) || out[i] == '-')
					host[j++] = (char)tolower((unsigned char)out[i]);
			host[j] = '\0';
			if (!j)
				strcpy(host, "localhost");
		}
		if (uname(&u) == 0) {
			j = 0;
			for (size_t i = 0; u.machine[i] && j + 1 < sizeof(arch); i++)
				if (isalnum((unsigned char)u.machine[i]))
					arch[j++] = (char)tolower((unsigned char)u.machine[i]);
			arch[j] = '\0';
		}
		snprintf(out, sizeof(out), "iqn.2003-01.org.linux-iscsi.%s.%s:sn.%.12s", host, arch,
			 hex);
		break;
	case RTS_WWN_NAA:
		snprintf(out, sizeof(out), "naa.5001405%.9s", hex);
		break;
	case RTS_WWN_EUI:
		snprintf(out, sizeof(out), "eui.001405%.10s", hex);
		break;
	case RTS_WWN_IB:
		snprintf(out, sizeof(out), "ib.%s", hex);
		break;
	case RTS_WWN_FREE:
	case RTS_WWN_UNIT_SERIAL:
		hex[12] = '4'; /* UUID version 4 */
		hex[16] = "89ab"[hex[16] % 4];
		snprintf(out, sizeof(out), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
			 hex + 16, hex + 20);
		break;
	default:
		return -EINVAL;
	}
	if (strlen(out) >= size)
		return -ENOSPC;
	strcpy(buf, out);
	return 0;
}

int portal_parse_name(const char *name, char *ip, size_t size, uint16_t *port, bool *v6)
{
	const char *colon;
	char addr[INET6_ADDRSTRLEN + 2];
	unsigned char bin[16];
	uint64_t p;
	size_t n;

	if (name[0] == '[') {
		const char *close = strchr(name, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - name - 1);
		colon = close + 1;
		if (n == 0 || n >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, name + 1, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET6, addr, bin) != 1)
			return -EINVAL;
		*v6 = true;
	} else {
		colon = strrchr(name, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - name);
		if (n == 0 || n >= sizeof(addr))
			return -EINVAL;
		memcpy(addr, name, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, bin) != 1)
			return -EINVAL;
		*v6 = false;
	}
	if (!isdigit((unsigned char)colon[1]) || parse_u64(colon + 1, &p) < 0 || p > 65535)
		return -EINVAL;
	if (strlen(addr) >= size)
		return -ENOSPC;
	strcpy(ip, addr);
	*port = (uint16_t)p;
	return 0;
}
