/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * saveconfig.json codec: parse (json-c), validate the whole model with JSON paths in every
 * message, and serialise byte-identically to rtslib's json.dumps(sort_keys=True, indent=2).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

/* ------------------------------------------------------------------ serialiser */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (b->len + n + 1 > cap)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Decode one UTF-8 sequence; invalid bytes decode as themselves (U+0080..U+00FF). */
static uint32_t utf8_next(const unsigned char **s, const unsigned char *end)
{
	const unsigned char *p = *s;
	uint32_t c = p[0];
	int n = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : 0;

	if (c >= 0x80 && n > 0 && p + n < end) {
		uint32_t v = c & (0x3f >> n);
		int i;

		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				break;
			v = (v << 6) | (p[i] & 0x3f);
		}
		if (i > n && v <= 0x10ffff && !(v >= 0xd800 && v <= 0xdfff) &&
		    v >= (n == 1 ? 0x80u :
			  n == 2 ? 0x800u :
				   0x10000u)) {
			*s = p + n + 1;
			return v;
		}
	}
	*s = p + 1;
	return c;
}

static void sb_string(struct sbuf *b, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + len;

	sb_add(b, "\"", 1);
	while (s < end) {
		uint32_t c = utf8_next(&s, end);

		switch (c) {
		case '"':
			sb_add(b, "\\\"", 2);
			break;
		case '\\':
			sb_add(b, "\\\\", 2);
			break;
		case '\n':
			sb_add(b, "\\n", 2);
			break;
		case '\r':
			sb_add(b, "\\r", 2);
			break;
		case '\t':
			sb_add(b, "\\t", 2);
			break;
		case '\b':
			sb_add(b, "\\b", 2);
			break;
		case '\f':
			sb_add(b, "\\f", 2);
			break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				char ch = (char)c;

				sb_add(b, &ch, 1);
			} else if (c < 0x10000) {
				sb_printf(b, "\\u%04x", c);
			} else {
				c -= 0x10000;
				sb_printf(b, "\\u%04x\\u%04x", 0xd800 + (c >> 10),
					  0xdc00 + (c & 0x3ff));
			}
		}
	}
	sb_add(b, "\"", 1);
}

static void sb_double(struct sbuf *b, double d)
{
	char tmp[40];

	if (isnan(d)) {
		sb_puts(b, "NaN");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		pfmt(tmp, sizeof(tmp), "%.*g", prec, d);
		if (memcmp(&(double){ strtod(tmp, NULL) }, &d, sizeof(d)) == 0)
			break;
	}
	if (!strpbrk(tmp, ".enN"))
		strcat(tmp, ".0");
	sb_puts(b, tmp);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void sb_indent(struct sbuf *b, int level)
{
	sb_add(b, "\n", 1);
	for (int i = 0; i < level; i++)
		sb_add(b, "  ", 2);
}

static void sb_value(struct sbuf *b, struct json_object *o, int level, bool pretty)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		sb_puts(b, "null");
		break;
	case json_type_boolean:
		sb_puts(b, json_object_get_boolean(o) ? "true" : "false");
		break;
	case json_type_int:
		if (json_object_get_int64(o) == INT64_MAX)
			sb_printf(b, "%" PRIu64, json_object_get_uint64(o));
		else
			sb_printf(b, "%" PRId64, json_object_get_int64(o));
		break;
	case json_type_double:
		sb_double(b, json_object_get_double(o));
		break;
	case json_type_string:
		sb_string(b, json_object_get_string(o), (size_t)json_object_get_string_len(o));
		break;
	case json_type_array: {
		size_t n = json_object_array_length(o);

		if (n == 0) {
			sb_puts(b, "[]");
			break;
		}
		sb_add(b, "[", 1);
		for (size_t i = 0; i < n; i++) {
			if (i)
				sb_add(b, pretty ? "," : ", ", pretty ? 1 : 2);
			if (pretty)
				sb_indent(b, level + 1);
			sb_value(b, json_object_array_get_idx(o, i), level + 1, pretty);
		}
		if (pretty)
			sb_indent(b, level);
		sb_add(b, "]", 1);
		break;
	}
	case json_type_object: {
		size_t n = (size_t)json_object_object_length(o), i = 0;
		const char **keys;

		if (n == 0) {
			sb_puts(b, "{}");
			break;
		}
		keys = calloc(n, sizeof(*keys));
		if (!keys) {
			b->oom = true;
			break;
		}
		json_object_object_foreach(o, k, v)
		{
			(void)v;
			if (i < n)
				keys[i++] = k;
		}
		qsort(keys, i, sizeof(*keys), cmp_str);
		sb_add(b, "{", 1);
		for (size_t j = 0; j < i; j++) {
			if (j)
				sb_add(b, pretty ? "," : ", ", pretty ? 1 : 2);
			if (pretty)
				sb_indent(b, level + 1);
			sb_string(b, keys[j], strlen(keys[j]));
			sb_add(b, ": ", 2);
			sb_value(b, json_object_object_get(o, keys[j]), level + 1, pretty);
		}
		if (pretty)
			sb_indent(b, level);
		sb_add(b, "}", 1);
		free(keys);
		break;
	}
	}
}

char *conf_to_string(struct json_object *root)
{
	struct sbuf b = { 0 };

	sb_value(&b, root, 0, true);
	sb_add(&b, "\n", 1);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

char *conf_to_string_compact(struct json_object *root)
{
	struct sbuf b = { 0 };

	sb_value(&b, root, 0, false);
	if (b.oom || !b.p) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ------------------------------------------------------------------ parser */

static bool valid_utf8(const char *str, size_t len)
{
	const unsigned char *u = (const unsigned char *)str, *end = u + len;

	while (u < end) {
		const unsigned char *at = u;

		if (*u < 0x80) {
			u++;
			continue;
		}
		if (utf8_next(&u, end) < 0x80 || u == at + 1)
			return false;
	}
	return true;
}

/*
 * Non-finite numbers (1e400) have no JSON spelling to write back, and strings must be valid
 * UTF-8 (json-c turns a lone surrogate escape into U+FFFD, which is), so every accepted
 * file is written back unchanged.
 */
static bool all_finite(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_string:
		return valid_utf8(json_object_get_string(o), (size_t)json_object_get_string_len(o));
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (!all_finite(json_object_array_get_idx(o, i)))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(o, k, v)
		{
			if (!valid_utf8(k, strlen(k)) || !all_finite(v))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

int conf_parse(const char *buf, size_t len, struct json_object **ret, struct conf_report *rep)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t off;

	if (len > CONF_MAX_FILE_SIZE) {
		conf_report_add(rep, CONF_ERR, "", "file larger than %u bytes", CONF_MAX_FILE_SIZE);
		return -EFBIG;
	}
	if (memchr(buf, '\0', len)) {
		conf_report_add(rep, CONF_ERR, "", "NUL byte in JSON text");
		return -EINVAL;
	}
	/* Python reads saveconfig.json as UTF-8 and fails on anything else: so do we */
	for (const unsigned char *u = (const unsigned char *)buf, *end = u + len; u < end;) {
		const unsigned char *at = u;

		if (*u < 0x80) {
			u++;
			continue;
		}
		if (utf8_next(&u, end) < 0x80 || u == at + 1) {
			conf_report_add(rep, CONF_ERR, "", "invalid UTF-8 at offset %zu",
					(size_t)(at - (const unsigned char *)buf));
			return -EINVAL;
		}
	}
	/* json-c accepts 'single quoted' strings even in strict mode; Python's json does not */
	for (size_t i = 0, in_str = 0; i < len; i++) {
		if (in_str && buf[i] == '\\') {
			i++;
		} else if (buf[i] == '"') {
			in_str = !in_str;
		} else if (!in_str && buf[i] == '\'') {
			conf_report_add(rep, CONF_ERR, "",
					"malformed JSON at offset %zu: single-quoted string", i);
			return -EINVAL;
		}
	}
	tok = json_tokener_new_ex(64);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue) {
		jerr = json_tokener_error_parse_eof;
		off = len;
	}
	if (!o || jerr != json_tokener_success) {
		size_t line = 1, col = 1;

		for (size_t i = 0; i < off && i < len; i++) {
			if (buf[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		conf_report_add(rep, CONF_ERR, "", "malformed JSON at line %zu column %zu: %s",
				line, col, json_tokener_error_desc(jerr));
		json_object_put(o);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	for (; off < len; off++) {
		if (!strchr(" \t\r\n", buf[off])) {
			conf_report_add(rep, CONF_ERR, "",
					"trailing data after the JSON value at offset %zu", off);
			json_object_put(o);
			return -EINVAL;
		}
	}
	if (!all_finite(o)) {
		conf_report_add(rep, CONF_ERR, "", "number out of range or invalid unicode escape");
		json_object_put(o);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

int conf_load_file(const char *file, struct json_object **ret, struct conf_report *rep)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, r = 0;

	fd = strcmp(file, "-") == 0 ? dup(STDIN_FILENO) : open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		conf_report_add(rep, CONF_ERR, file, "cannot open: %s", strerror(-r));
		return r;
	}
	for (;;) {
		ssize_t n;

		if (len + 4096 > cap) {
			char *p;

			cap = cap ? cap * 2 : 65536;
			if (cap > CONF_MAX_FILE_SIZE + 65536u) {
				conf_report_add(rep, CONF_ERR, file, "file larger than %u bytes",
						CONF_MAX_FILE_SIZE);
				r = -EFBIG;
				break;
			}
			p = realloc(buf, cap);
			if (!p) {
				r = -ENOMEM;
				break;
			}
			buf = p;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			conf_report_add(rep, CONF_ERR, file, "read: %s", strerror(-r));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (r == 0)
		r = conf_parse(buf ? buf : "", len, ret, rep);
	free(buf);
	return r;
}

/* ------------------------------------------------------------------ validation */

enum {
	T_NULL = 1u << 0,
	T_BOOL = 1u << 1,
	T_INT = 1u << 2,
	T_STR = 1u << 3,
	T_ARR = 1u << 4,
	T_OBJ = 1u << 5,
	T_DBL = 1u << 6,
	T_SCALAR = T_BOOL | T_INT | T_STR,
};

struct field {
	const char *name;
	unsigned int types;
	bool required;
};

struct vctx {
	struct rts_ctx *ctx;
	struct conf_report *rep;
	size_t errs;
};

static void verr(struct vctx *v, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void verr(struct vctx *v, const char *path, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	conf_report_add(v->rep, CONF_ERR, path, "%s", msg ? msg : "invalid");
	free(msg);
	v->errs++;
}

static unsigned int type_bit(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null:
		return T_NULL;
	case json_type_boolean:
		return T_BOOL;
	case json_type_int:
		return T_INT;
	case json_type_double:
		return T_DBL;
	case json_type_string:
		return T_STR;
	case json_type_array:
		return T_ARR;
	case json_type_object:
		return T_OBJ;
	}
	return 0;
}

static const char *types_desc(unsigned int t)
{
	switch (t) {
	case T_STR:
		return "a string";
	case T_INT:
		return "an integer";
	case T_BOOL:
		return "a boolean";
	case T_ARR:
		return "an array";
	case T_OBJ:
		return "an object";
	case T_STR | T_NULL:
		return "a string or null";
	case T_BOOL | T_INT:
		return "a boolean or integer";
	case T_SCALAR:
		return "a string, integer or boolean";
	}
	return "of another type";
}

static void subpath(char *buf, size_t size, const char *base, const char *key)
{
	snprintf(buf, size, "%s%s%s", base, *base ? "." : "", key);
}

/* Check the object's fields against @p spec; unknown fields are warnings. */
static bool check_fields(struct vctx *v, struct json_object *o, const char *path,
			 const struct field *spec)
{
	char p[512];

	if (!json_object_is_type(o, json_type_object)) {
		verr(v, path, "must be an object");
		return false;
	}
	for (const struct field *f = spec; f->name; f++) {
		struct json_object *val;

		subpath(p, sizeof(p), path, f->name);
		if (!json_object_object_get_ex(o, f->name, &val)) {
			if (f->required)
				verr(v, p, "required field missing");
			continue;
		}
		if (!(type_bit(val) & f->types))
			verr(v, p, "must be %s", types_desc(f->types));
	}
	json_object_object_foreach(o, k, val)
	{
		const struct field *f;

		(void)val;
		for (f = spec; f->name; f++)
			if (strcmp(f->name, k) == 0)
				break;
		if (!f->name) {
			subpath(p, sizeof(p), path, k);
			conf_report_add(v->rep, CONF_WARN, p, "unknown field (kept, ignored)");
		}
	}
	return true;
}

static struct json_object *get(struct json_object *o, const char *key, unsigned int types)
{
	struct json_object *val;

	if (!json_object_object_get_ex(o, key, &val) || !(type_bit(val) & types))
		return NULL;
	return val;
}

static bool has_ctl_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static void check_name(struct vctx *v, struct json_object *o, const char *key, const char *path,
		       const char *what)
{
	struct json_object *val = get(o, key, T_STR);
	const char *reason = NULL;
	char p[512];

	if (!val)
		return;
	subpath(p, sizeof(p), path, key);
	if (rts_name_validate(json_object_get_string(val), &reason) < 0)
		verr(v, p, "invalid %s '%s': %s", what, json_object_get_string(val),
		     reason ? reason : "bad name");
}

static void check_text(struct vctx *v, struct json_object *o, const char *key, const char *path,
		       size_t max)
{
	struct json_object *val = get(o, key, T_STR);
	char p[512];

	if (!val)
		return;
	subpath(p, sizeof(p), path, key);
	if (has_ctl_chars(json_object_get_string(val)))
		verr(v, p, "contains control characters");
	else if (max && strlen(json_object_get_string(val)) > max)
		verr(v, p, "longer than %zu bytes", max);
}

static void check_int(struct vctx *v, struct json_object *o, const char *key, const char *path,
		      int64_t min, int64_t max)
{
	struct json_object *val = get(o, key, T_INT);
	char p[512];
	int64_t x;

	if (!val)
		return;
	x = json_object_get_int64(val);
	subpath(p, sizeof(p), path, key);
	if (x < min || x > max)
		verr(v, p, "%" PRId64 " out of range %" PRId64 "..%" PRId64, x, min, max);
}

/* Host path of a backstore: absolute, no "..", no control characters. */
static void check_host_path(struct vctx *v, const char *p, const char *s, bool allow_hctl)
{
	unsigned int h, c, t, l;
	char extra;

	if (allow_hctl && sscanf(s, "%u:%u:%u:%u%c", &h, &c, &t, &l, &extra) == 4)
		return;
	if (s[0] != '/') {
		verr(v, p, "'%s' is not an absolute path", s);
		return;
	}
	if (has_ctl_chars(s) || strlen(s) > 4095) {
		verr(v, p, "invalid path");
		return;
	}
	for (const char *q = s; (q = strstr(q, "..")); q += 2) {
		if ((q == s || q[-1] == '/') && (q[2] == '/' || q[2] == '\0')) {
			verr(v, p, "path '%s' contains a '..' component", s);
			return;
		}
	}
}

static void check_attr_map(struct vctx *v, struct json_object *o, const char *key, const char *path,
			   unsigned int types)
{
	struct json_object *m = get(o, key, T_OBJ);
	char p[512], q[640];

	if (!m)
		return;
	subpath(p, sizeof(p), path, key);
	json_object_object_foreach(m, k, val)
	{
		const char *reason;

		pfmt(q, sizeof(q), "%s.%s", p, k);
		if (rts_name_validate(k, &reason) < 0) {
			verr(v, q, "invalid attribute name: %s", reason);
			continue;
		}
		if (!(type_bit(val) & types)) {
			verr(v, q, "must be %s", types_desc(types));
			continue;
		}
		if (json_object_is_type(val, json_type_string) &&
		    has_ctl_chars(json_object_get_string(val)))
			verr(v, q, "contains control characters");
	}
}

/* Values outside the domain the kernel enforces (rts_attr_check()); read-only ones are
 * never written by restore or apply: a warning. */
static void check_domains(struct vctx *v, struct json_object *o, const char *key,
			  const char *path, enum conf_obj kind)
{
	struct json_object *m = get(o, key, T_OBJ);
	char p[512], q[640], val[4096], why[160];

	if (!m)
		return;
	subpath(p, sizeof(p), path, key);
	json_object_object_foreach(m, k, x)
	{
		int r;

		if (!(type_bit(x) & (T_INT | T_STR | T_BOOL)) ||
		    conf_value_string(x, val, sizeof(val)) < 0)
			continue;
		pfmt(q, sizeof(q), "%s.%s", p, k);
		r = conf_attr_check(kind, k, val, why, sizeof(why));
		if (r == -EROFS)
			conf_report_add(v->rep, CONF_WARN, q, "read-only, never written");
		else if (r < 0)
			verr(v, q, "%s: %s", val, why);
	}
}

/* Duplicate detection in O(1): @p seen maps key -> first array position. */
static bool seen_before(struct json_object *seen, const char *key, size_t i, size_t *first)
{
	struct json_object *v;

	if (json_object_object_get_ex(seen, key, &v)) {
		*first = (size_t)json_object_get_int64(v);
		return true;
	}
	json_object_object_add(seen, key, json_object_new_int64((int64_t)i));
	return false;
}

static const char *const chap_keys[] = { "userid", "password", "mutual_userid", "mutual_password" };

// clang-format off
static const struct field root_fields[] = {
	{ "storage_objects", T_ARR, false },
	{ "targets", T_ARR, false },
	{ "fabric_modules", T_ARR, false },
	{ "rtslib_c", T_OBJ, false },
	{ NULL, 0, false },
};
static const struct field root_ext_fields[] = {
	{ "lu_gps", T_ARR, false },
	{ NULL, 0, false },
};
static const struct field lugp_fields[] = {
	{ "name", T_STR, true },
	{ "lu_gp_id", T_INT, true },
	{ "members", T_ARR, false },
	{ NULL, 0, false },
};
static const struct field so_fields[] = {
	{ "name", T_STR, true }, { "plugin", T_STR, true },
	{ "attributes", T_OBJ, false }, { "alua_tpgs", T_ARR, false },
	{ "wwn", T_STR | T_NULL, false }, { "dev", T_STR | T_NULL, false },
	{ "size", T_INT, false }, { "write_back", T_BOOL, false },
	{ "readonly", T_BOOL, false }, { "aio", T_BOOL, false }, { "nullio", T_BOOL, false },
	{ "config", T_STR | T_NULL, false }, { "hw_max_sectors", T_INT, false },
	{ "control", T_STR | T_NULL, false },
	{ "buffered_mode", T_BOOL, false }, { "exists", T_BOOL, false },
	{ NULL, 0, false },
};
static const struct field alua_fields[] = {
	{ "name", T_STR, true }, { "tg_pt_gp_id", T_INT, true },
	{ "alua_access_state", T_INT, false }, { "alua_access_status", T_INT, false },
	{ "alua_write_metadata", T_INT, false }, { "alua_access_type", T_INT, false },
	{ "preferred", T_INT, false }, { "nonop_delay_msecs", T_INT, false },
	{ "trans_delay_msecs", T_INT, false }, { "implicit_trans_secs", T_INT, false },
	{ "alua_support_offline", T_INT, false }, { "alua_support_standby", T_INT, false },
	{ "alua_support_transitioning", T_INT, false },
	{ "alua_support_active_nonoptimized", T_INT, false },
	{ "alua_support_unavailable", T_INT, false },
	{ "alua_support_active_optimized", T_INT, false },
	{ NULL, 0, false },
};
static const struct field fm_fields[] = {
	{ "name", T_STR, true }, { "discovery_enable_auth", T_BOOL | T_INT, false },
	{ "discovery_userid", T_STR, false }, { "discovery_password", T_STR, false },
	{ "discovery_mutual_userid", T_STR, false }, { "discovery_mutual_password", T_STR, false },
	{ NULL, 0, false },
};
static const struct field target_fields[] = {
	{ "wwn", T_STR, true }, { "fabric", T_STR, true }, { "tpgs", T_ARR, false },
	{ "parameters", T_OBJ, false },
	{ NULL, 0, false },
};
static const struct field tpg_fields[] = {
	{ "tag", T_INT, false }, { "enable", T_BOOL | T_INT, false },
	{ "attributes", T_OBJ, false }, { "parameters", T_OBJ, false },
	{ "luns", T_ARR, false }, { "portals", T_ARR, false }, { "node_acls", T_ARR, false },
	{ "chap_userid", T_STR, false }, { "chap_password", T_STR, false },
	{ "chap_mutual_userid", T_STR, false }, { "chap_mutual_password", T_STR, false },
	{ "rtslib_c", T_OBJ, false },
	{ NULL, 0, false },
};
static const struct field tpg_ext_fields[] = {
	{ "nexus", T_STR, false },
	{ NULL, 0, false },
};
static const struct field lun_fields[] = {
	{ "index", T_INT, true }, { "storage_object", T_STR, true },
	{ "alias", T_STR | T_NULL, false }, { "alua_tg_pt_gp_name", T_STR | T_NULL, false },
	{ NULL, 0, false },
};
static const struct field portal_fields[] = {
	{ "ip_address", T_STR, true }, { "port", T_INT, true },
	{ "iser", T_BOOL, false }, { "offload", T_BOOL, false },
	{ NULL, 0, false },
};
static const struct field acl_fields[] = {
	{ "node_wwn", T_STR, true }, { "mapped_luns", T_ARR, false },
	{ "attributes", T_OBJ, false }, { "tag", T_STR | T_NULL, false },
	{ "chap_userid", T_STR, false }, { "chap_password", T_STR, false },
	{ "chap_mutual_userid", T_STR, false }, { "chap_mutual_password", T_STR, false },
	{ "tcq_depth", T_INT, false },
	{ NULL, 0, false },
};
static const struct field mlun_fields[] = {
	{ "index", T_INT, true }, { "tpg_lun", T_INT, true },
	{ "write_protect", T_BOOL, false }, { "alias", T_STR | T_NULL, false },
	{ "tag", T_STR | T_NULL, false },
	{ NULL, 0, false },
};
// clang-format on

static void check_chap(struct vctx *v, struct json_object *o, const char *path, const char *pfx)
{
	char key[64];

	for (size_t i = 0; i < sizeof(chap_keys) / sizeof(chap_keys[0]); i++) {
		pfmt(key, sizeof(key), "%s%s", pfx, chap_keys[i]);
		check_text(v, o, key, path, RTS_CHAP_MAX);
	}
}

static void check_alua(struct vctx *v, struct json_object *so, const char *path)
{
	struct json_object *arr = get(so, "alua_tpgs", T_ARR);
	char p[512];

	if (!arr)
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *gp = json_object_array_get_idx(arr, i);

		pfmt(p, sizeof(p), "%s.alua_tpgs[%zu]", path, i);
		if (!check_fields(v, gp, p, alua_fields))
			continue;
		check_name(v, gp, "name", p, "ALUA group name");
		check_int(v, gp, "tg_pt_gp_id", p, 0, 65535);
		for (size_t j = 0; j < i; j++) {
			struct json_object *o = json_object_array_get_idx(arr, j);
			struct json_object *a = get(gp, "name", T_STR), *b = get(o, "name", T_STR);
			struct json_object *ia = get(gp, "tg_pt_gp_id", T_INT);
			struct json_object *ib = get(o, "tg_pt_gp_id", T_INT);

			if (a && b &&
			    strcmp(json_object_get_string(a), json_object_get_string(b)) == 0)
				verr(v, p, "duplicate ALUA group '%s' (also alua_tpgs[%zu])",
				     json_object_get_string(a), j);
			else if (ia && ib && json_object_get_int64(ia) == json_object_get_int64(ib))
				verr(v, p,
				     "duplicate tg_pt_gp_id %" PRId64 " (also alua_tpgs[%zu])",
				     json_object_get_int64(ia), j);
		}
	}
}

static const char *const rtslib_plugin_names[RTS_PLUGIN_MAX] = {
	[RTS_PLUGIN_FILEIO] = "fileio", [RTS_PLUGIN_BLOCK] = "block",
	[RTS_PLUGIN_PSCSI] = "pscsi",	[RTS_PLUGIN_RAMDISK] = "ramdisk",
	[RTS_PLUGIN_USER] = "user",
};

static void check_storage_objects(struct vctx *v, struct json_object *root)
{
	struct json_object *arr = get(root, "storage_objects", T_ARR), *seen;
	char p[512], q[600];

	if (!arr)
		return;
	seen = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *so = json_object_array_get_idx(arr, i), *val;
		enum rts_plugin plugin = RTS_PLUGIN_MAX;

		pfmt(p, sizeof(p), "storage_objects[%zu]", i);
		if (!check_fields(v, so, p, so_fields))
			continue;
		check_name(v, so, "name", p, "storage object name");
		val = get(so, "plugin", T_STR);
		if (val && rts_plugin_from_name(json_object_get_string(val), &plugin) < 0) {
			pfmt(q, sizeof(q), "%s.plugin", p);
			verr(v, q, "unknown plugin '%s'", json_object_get_string(val));
		}
		check_attr_map(v, so, "attributes", p, T_SCALAR);
		check_domains(v, so, "attributes", p, CONF_OBJ_SO);
		check_text(v, so, "wwn", p, 254);
		check_text(v, so, "control", p, 4096);
		check_text(v, so, "config", p, 4096);
		check_int(v, so, "size", p, 0, INT64_MAX);
		check_int(v, so, "hw_max_sectors", p, 0, UINT32_MAX);
		pfmt(q, sizeof(q), "%s.dev", p);
		val = get(so, "dev", T_STR);
		if (val)
			check_host_path(v, q, json_object_get_string(val),
					plugin == RTS_PLUGIN_PSCSI);
		switch (plugin) {
		case RTS_PLUGIN_FILEIO:
		case RTS_PLUGIN_BLOCK:
		case RTS_PLUGIN_PSCSI:
			if (!val)
				verr(v, q, "required for plugin '%s'", rtslib_plugin_names[plugin]);
			break;
		case RTS_PLUGIN_RAMDISK:
			if (!get(so, "size", T_INT)) {
				pfmt(q, sizeof(q), "%s.size", p);
				verr(v, q, "required for plugin 'ramdisk'");
			}
			break;
		case RTS_PLUGIN_USER:
			if (!get(so, "config", T_STR)) {
				pfmt(q, sizeof(q), "%s.config", p);
				verr(v, q, "required for plugin 'user'");
			}
			if (!get(so, "size", T_INT)) {
				pfmt(q, sizeof(q), "%s.size", p);
				verr(v, q, "required for plugin 'user'");
			}
			break;
		default:
			break;
		}
		check_alua(v, so, p);
		/* duplicates: same plugin and name */
		val = get(so, "name", T_STR);
		if (val && plugin != RTS_PLUGIN_MAX) {
			size_t j;

			pfmt(q, sizeof(q), "%s/%s", rtslib_plugin_names[plugin],
			     json_object_get_string(val));
			if (seen_before(seen, q, i, &j))
				verr(v, p,
				     "duplicate storage object %s (also storage_objects[%zu])", q,
				     j);
		}
	}
	json_object_put(seen);
}

/* plugin/name -> storage object, built once per conf_validate() (LUN references). */
static struct json_object *so_index;

static void build_so_index(struct json_object *root)
{
	struct json_object *arr = get(root, "storage_objects", T_ARR);
	char k[RTS_NAME_MAX + 16];

	so_index = json_object_new_object();
	for (size_t i = arr ? json_object_array_length(arr) : 0; i-- > 0;) {
		struct json_object *so = json_object_array_get_idx(arr, i);
		struct json_object *n = get(so, "name", T_STR), *p = get(so, "plugin", T_STR);
		enum rts_plugin pl;

		if (n && p && rts_plugin_from_name(json_object_get_string(p), &pl) == 0) {
			pfmt(k, sizeof(k), "%d/%s", (int)pl, json_object_get_string(n));
			json_object_object_add(so_index, k, json_object_get(so));
		}
	}
}

/* Find storage object "/backstores/<plugin>/<name>" in the model. */
static struct json_object *find_so(struct json_object *root, const char *ref)
{
	struct json_object *arr = get(root, "storage_objects", T_ARR);
	char plugin[64], name[RTS_NAME_MAX + 1];
	enum rts_plugin pl, pl2;

	if (!arr || sscanf(ref, "/backstores/%63[^/]/%255[^/]", plugin, name) != 2)
		return NULL;
	if (rts_plugin_from_name(plugin, &pl) < 0)
		return NULL;
	if (so_index) {
		struct json_object *hit;
		char k[RTS_NAME_MAX + 16];

		pfmt(k, sizeof(k), "%d/%s", (int)pl, name);
		return json_object_object_get_ex(so_index, k, &hit) ? hit : NULL;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *so = json_object_array_get_idx(arr, i);
		struct json_object *n = get(so, "name", T_STR), *p = get(so, "plugin", T_STR);

		if (n && p && rts_plugin_from_name(json_object_get_string(p), &pl2) == 0 &&
		    pl == pl2 && strcmp(json_object_get_string(n), name) == 0)
			return so;
	}
	return NULL;
}

static bool valid_so_ref(const char *ref)
{
	char plugin[64], name[RTS_NAME_MAX + 1], extra;
	enum rts_plugin pl;

	if (strncmp(ref, "/backstores/", 12) != 0 || strlen(ref) > 12 + 63 + 1 + RTS_NAME_MAX)
		return false;
	if (sscanf(ref, "/backstores/%63[^/]/%255[^/]%c", plugin, name, &extra) != 2)
		return false;
	return rts_plugin_from_name(plugin, &pl) == 0 && rts_name_validate(name, NULL) == 0;
}

static void check_luns(struct vctx *v, struct json_object *root, struct json_object *tpg,
		       const char *path, struct json_object *luns_seen)
{
	struct json_object *arr = get(tpg, "luns", T_ARR);
	char p[512], q[600];

	if (!arr)
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *lun = json_object_array_get_idx(arr, i), *so, *val;

		pfmt(p, sizeof(p), "%s.luns[%zu]", path, i);
		if (!check_fields(v, lun, p, lun_fields))
			continue;
		check_int(v, lun, "index", p, 0, CONF_LUN_MAX);
		check_name(v, lun, "alias", p, "LUN alias");
		val = get(lun, "storage_object", T_STR);
		pfmt(q, sizeof(q), "%s.storage_object", p);
		if (val && !valid_so_ref(json_object_get_string(val))) {
			verr(v, q,
			     "malformed reference '%s' (expected /backstores/<plugin>/<name>)",
			     json_object_get_string(val));
		} else if (val && !(so = find_so(root, json_object_get_string(val)))) {
			verr(v, q, "refers to missing storage object '%s'",
			     json_object_get_string(val));
		} else if (val) {
			struct json_object *gpn = get(lun, "alua_tg_pt_gp_name", T_STR);
			struct json_object *gps = get(so, "alua_tpgs", T_ARR);
			bool found = !gpn ||
				     strcmp(json_object_get_string(gpn), "default_tg_pt_gp") == 0;

			for (size_t j = 0; !found && gps && j < json_object_array_length(gps);
			     j++) {
				struct json_object *n =
					get(json_object_array_get_idx(gps, j), "name", T_STR);

				found = n && strcmp(json_object_get_string(n),
						    json_object_get_string(gpn)) == 0;
			}
			if (!found) {
				pfmt(q, sizeof(q), "%s.alua_tg_pt_gp_name", p);
				verr(v, q, "refers to missing ALUA group '%s' of %s",
				     json_object_get_string(gpn), json_object_get_string(val));
			}
		}
		val = get(lun, "index", T_INT);
		if (val) {
			size_t j;

			pfmt(q, sizeof(q), "%" PRId64, json_object_get_int64(val));
			if (seen_before(luns_seen, q, i, &j))
				verr(v, p, "duplicate LUN index %s (also luns[%zu])", q, j);
		}
	}
}

static void check_portals(struct vctx *v, struct json_object *tpg, const char *path,
			  unsigned int features)
{
	struct json_object *arr = get(tpg, "portals", T_ARR);
	char p[512], q[600];

	if (!arr)
		return;
	if (json_object_array_length(arr) && !(features & RTS_FEAT_NPS)) {
		pfmt(q, sizeof(q), "%s.portals", path);
		verr(v, q, "fabric has no network portals");
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *np = json_object_array_get_idx(arr, i), *ip;
		unsigned char addr[16];
		char tmp[64];

		pfmt(p, sizeof(p), "%s.portals[%zu]", path, i);
		if (!check_fields(v, np, p, portal_fields))
			continue;
		check_int(v, np, "port", p, 1, 65535);
		ip = get(np, "ip_address", T_STR);
		if (ip) {
			const char *s = json_object_get_string(ip);
			size_t n = strlen(s);

			if (n >= 2 && s[0] == '[' && s[n - 1] == ']' && n - 2 < sizeof(tmp)) {
				memcpy(tmp, s + 1, n - 2);
				tmp[n - 2] = '\0';
			} else {
				pfmt(tmp, sizeof(tmp), "%s", s);
			}
			if (inet_pton(AF_INET, tmp, addr) != 1 &&
			    inet_pton(AF_INET6, tmp, addr) != 1) {
				pfmt(q, sizeof(q), "%s.ip_address", p);
				verr(v, q, "invalid IP address '%s'", s);
			}
		}
		for (size_t j = 0; j < i; j++) {
			struct json_object *o = json_object_array_get_idx(arr, j);
			struct json_object *a = get(np, "ip_address", T_STR),
					   *b = get(o, "ip_address", T_STR);
			struct json_object *pa = get(np, "port", T_INT),
					   *pb = get(o, "port", T_INT);

			if (a && b && pa && pb &&
			    strcmp(json_object_get_string(a), json_object_get_string(b)) == 0 &&
			    json_object_get_int64(pa) == json_object_get_int64(pb))
				verr(v, p, "duplicate portal (also portals[%zu])", j);
		}
	}
}

static bool lun_index_exists(struct json_object *luns_seen, int64_t idx)
{
	char k[32];

	pfmt(k, sizeof(k), "%" PRId64, idx);
	return json_object_object_get_ex(luns_seen, k, NULL);
}

static void check_acls(struct vctx *v, struct json_object *tpg, const char *path,
		       struct rts_fabric *fab, struct json_object *luns_seen)
{
	struct json_object *arr = get(tpg, "node_acls", T_ARR), *seen;
	char p[512], q[600], norm[RTS_WWN_MAX + 1];

	if (!arr)
		return;
	seen = json_object_new_object();
	if (fab && json_object_array_length(arr) &&
	    !(rts_fabric_get_features(fab) & RTS_FEAT_ACLS)) {
		pfmt(q, sizeof(q), "%s.node_acls", path);
		verr(v, q, "fabric %s has no node ACLs", rts_fabric_get_name(fab));
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *acl = json_object_array_get_idx(arr, i), *w, *ml;

		pfmt(p, sizeof(p), "%s.node_acls[%zu]", path, i);
		if (!check_fields(v, acl, p, acl_fields))
			continue;
		check_attr_map(v, acl, "attributes", p, T_SCALAR);
		if (fab && !strcmp(rts_fabric_get_name(fab), "iscsi"))
			check_domains(v, acl, "attributes", p, CONF_OBJ_ACL);
		check_text(v, acl, "tag", p, CONF_ACL_TAG_MAX);
		check_chap(v, acl, p, "chap_");
		check_int(v, acl, "tcq_depth", p, 1, CONF_CMDSN_DEPTH_MAX);
		w = get(acl, "node_wwn", T_STR);
		pfmt(q, sizeof(q), "%s.node_wwn", p);
		if (w && fab &&
		    rts_fabric_normalize_wwn(fab, json_object_get_string(w), norm, sizeof(norm)) <
			    0)
			verr(v, q, "invalid initiator WWN '%s' for fabric %s",
			     json_object_get_string(w), rts_fabric_get_name(fab));
		else if (w && !fab && has_ctl_chars(json_object_get_string(w)))
			verr(v, q, "invalid initiator WWN");
		if (w && fab &&
		    rts_fabric_normalize_wwn(fab, json_object_get_string(w), norm, sizeof(norm)) ==
			    0) {
			size_t j;

			if (seen_before(seen, norm, i, &j))
				verr(v, p, "duplicate node ACL '%s' (also node_acls[%zu])", norm,
				     j);
		}
		ml = get(acl, "mapped_luns", T_ARR);
		for (size_t k = 0; ml && k < json_object_array_length(ml); k++) {
			struct json_object *m = json_object_array_get_idx(ml, k), *tl;

			pfmt(q, sizeof(q), "%s.mapped_luns[%zu]", p, k);
			if (!check_fields(v, m, q, mlun_fields))
				continue;
			check_int(v, m, "index", q, 0, CONF_MLUN_MAX);
			if (get(m, "index", T_INT) &&
			    json_object_get_int64(get(m, "index", T_INT)) > CONF_MLUN_TARGETCLI_MAX)
				conf_report_add(v->rep, CONF_WARN, q,
						"mapped LUN index above %u: targetcli cannot restore it",
						CONF_MLUN_TARGETCLI_MAX);
			check_name(v, m, "alias", q, "mapped LUN alias");
			tl = get(m, "tpg_lun", T_INT);
			if (tl && !lun_index_exists(luns_seen, json_object_get_int64(tl))) {
				char r[700];

				pfmt(r, sizeof(r), "%s.tpg_lun", q);
				verr(v, r, "refers to missing TPG LUN %" PRId64,
				     json_object_get_int64(tl));
			}
			for (size_t j = 0; j < k; j++) {
				struct json_object *a = get(m, "index", T_INT);
				struct json_object *b =
					get(json_object_array_get_idx(ml, j), "index", T_INT);

				if (a && b && json_object_get_int64(a) == json_object_get_int64(b))
					verr(v, q,
					     "duplicate mapped LUN %" PRId64
					     " (also mapped_luns[%zu])",
					     json_object_get_int64(a), j);
			}
		}
	}
	json_object_put(seen);
}

static void check_targets(struct vctx *v, struct json_object *root)
{
	struct json_object *arr = get(root, "targets", T_ARR);
	char p[512], q[600], norm[RTS_WWN_MAX + 1], norm2[RTS_WWN_MAX + 1];

	if (!arr)
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *t = json_object_array_get_idx(arr, i), *fabn, *wwn, *tpgs;
		struct rts_fabric *fab = NULL;
		unsigned int features = ~0u;

		pfmt(p, sizeof(p), "targets[%zu]", i);
		if (!check_fields(v, t, p, target_fields))
			continue;
		check_attr_map(v, t, "parameters", p, T_SCALAR);
		fabn = get(t, "fabric", T_STR);
		wwn = get(t, "wwn", T_STR);
		if (fabn && v->ctx) {
			if (rts_fabric_lookup(v->ctx, json_object_get_string(fabn), &fab) < 0) {
				pfmt(q, sizeof(q), "%s.fabric", p);
				verr(v, q, "unknown fabric '%s'", json_object_get_string(fabn));
			} else {
				features = rts_fabric_get_features(fab);
			}
		}
		if (fabn && has_ctl_chars(json_object_get_string(fabn))) {
			pfmt(q, sizeof(q), "%s.fabric", p);
			verr(v, q, "invalid fabric name");
		}
		pfmt(q, sizeof(q), "%s.wwn", p);
		if (wwn && fab &&
		    rts_fabric_normalize_wwn(fab, json_object_get_string(wwn), norm, sizeof(norm)) <
			    0)
			verr(v, q, "invalid WWN '%s' for fabric %s", json_object_get_string(wwn),
			     rts_fabric_get_name(fab));
		else if (wwn && !fab && rts_name_validate(json_object_get_string(wwn), NULL) < 0)
			verr(v, q, "invalid WWN '%s'", json_object_get_string(wwn));
		for (size_t j = 0; wwn && fab && j < i; j++) {
			struct json_object *o = json_object_array_get_idx(arr, j);
			struct json_object *w2 = get(o, "wwn", T_STR),
					   *f2 = get(o, "fabric", T_STR);

			if (w2 && f2 &&
			    strcmp(json_object_get_string(f2), json_object_get_string(fabn)) == 0 &&
			    rts_fabric_normalize_wwn(fab, json_object_get_string(w2), norm2,
						     sizeof(norm2)) == 0 &&
			    strcmp(norm, norm2) == 0)
				verr(v, p, "duplicate target '%s' (also targets[%zu])", norm, j);
		}
		tpgs = get(t, "tpgs", T_ARR);
		if (tpgs && json_object_array_length(tpgs) > 1 && !(features & RTS_FEAT_TPGTS)) {
			pfmt(q, sizeof(q), "%s.tpgs", p);
			verr(v, q, "fabric %s supports a single TPG", json_object_get_string(fabn));
		}
		for (size_t k = 0; tpgs && k < json_object_array_length(tpgs); k++) {
			struct json_object *tpg = json_object_array_get_idx(tpgs, k), *ext;
			char r[600];

			pfmt(r, sizeof(r), "%s.tpgs[%zu]", p, k);
			if (!check_fields(v, tpg, r, tpg_fields))
				continue;
			check_int(v, tpg, "tag", r, 1, 65535);
			check_attr_map(v, tpg, "attributes", r, T_SCALAR);
			if (fabn && !strcmp(json_object_get_string(fabn), "iscsi"))
				check_domains(v, tpg, "attributes", r, CONF_OBJ_TPG);
			check_attr_map(v, tpg, "parameters", r, T_SCALAR);
			check_chap(v, tpg, r, "chap_");
			ext = get(tpg, "rtslib_c", T_OBJ);
			if (ext) {
				char s[700];
				struct json_object *nx;

				pfmt(s, sizeof(s), "%s.rtslib_c", r);
				check_fields(v, ext, s, tpg_ext_fields);
				nx = get(ext, "nexus", T_STR);
				if (nx && fab && *json_object_get_string(nx) &&
				    rts_wwn_normalize(json_object_get_string(nx), 0, norm2,
						      sizeof(norm2), NULL) < 0) {
					pfmt(s, sizeof(s), "%s.rtslib_c.nexus", r);
					verr(v, s, "invalid nexus WWN '%s'",
					     json_object_get_string(nx));
				}
			}
			for (size_t j = 0; j < k; j++) {
				struct json_object *a = get(tpg, "tag", T_INT);
				struct json_object *b =
					get(json_object_array_get_idx(tpgs, j), "tag", T_INT);

				if (a && b && json_object_get_int64(a) == json_object_get_int64(b))
					verr(v, r, "duplicate TPG tag %" PRId64 " (also tpgs[%zu])",
					     json_object_get_int64(a), j);
			}
			{
				struct json_object *luns_seen = json_object_new_object();

				check_luns(v, root, tpg, r, luns_seen);
				check_portals(v, tpg, r, features);
				check_acls(v, tpg, r, fab, luns_seen);
				json_object_put(luns_seen);
			}
		}
	}
}

static void check_fabric_modules(struct vctx *v, struct json_object *root)
{
	struct json_object *arr = get(root, "fabric_modules", T_ARR);
	char p[512], q[600];

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *fm = json_object_array_get_idx(arr, i), *n;
		struct rts_fabric *fab;

		pfmt(p, sizeof(p), "fabric_modules[%zu]", i);
		if (!check_fields(v, fm, p, fm_fields))
			continue;
		check_chap(v, fm, p, "discovery_");
		n = get(fm, "name", T_STR);
		pfmt(q, sizeof(q), "%s.name", p);
		if (n && v->ctx && rts_fabric_lookup(v->ctx, json_object_get_string(n), &fab) < 0)
			verr(v, q, "unknown fabric '%s'", json_object_get_string(n));
		else if (n && v->ctx && !(rts_fabric_get_features(fab) & RTS_FEAT_DISCOVERY_AUTH))
			verr(v, q, "fabric '%s' has no discovery authentication",
			     json_object_get_string(n));
	}
}

/* rtslib_c.lu_gps: our ALUA LU groups (see conf_dump.c). */
static void check_lu_gps(struct vctx *v, struct json_object *root)
{
	struct json_object *ext = get(root, "rtslib_c", T_OBJ), *arr, *names, *ids, *members;
	char p[512], q[600];

	if (!ext || !check_fields(v, ext, "rtslib_c", root_ext_fields) ||
	    !(arr = get(ext, "lu_gps", T_ARR)))
		return;
	names = json_object_new_object();
	ids = json_object_new_object();
	members = json_object_new_object();
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *g = json_object_array_get_idx(arr, i), *n, *id, *ms;
		size_t j;

		pfmt(p, sizeof(p), "rtslib_c.lu_gps[%zu]", i);
		if (!check_fields(v, g, p, lugp_fields))
			continue;
		check_name(v, g, "name", p, "LU group name");
		check_int(v, g, "lu_gp_id", p, 1, 65535);
		n = get(g, "name", T_STR);
		id = get(g, "lu_gp_id", T_INT);
		if (n && !strcmp(json_object_get_string(n), "default_lu_gp"))
			verr(v, p, "default_lu_gp is implicit");
		if (n && seen_before(names, json_object_get_string(n), i, &j))
			verr(v, p, "duplicate LU group '%s' (also lu_gps[%zu])",
			     json_object_get_string(n), j);
		if (id) {
			pfmt(q, sizeof(q), "%" PRId64, json_object_get_int64(id));
			if (seen_before(ids, q, i, &j))
				verr(v, p, "duplicate lu_gp_id %s (also lu_gps[%zu])", q, j);
		}
		ms = get(g, "members", T_ARR);
		for (size_t k = 0; ms && k < json_object_array_length(ms); k++) {
			struct json_object *m = json_object_array_get_idx(ms, k);
			const char *ref = json_object_get_string(m);

			pfmt(q, sizeof(q), "%s.members[%zu]", p, k);
			if (!json_object_is_type(m, json_type_string) || !valid_so_ref(ref))
				verr(v, q, "must be a /backstores/<plugin>/<name> reference");
			else if (!find_so(root, ref))
				verr(v, q, "refers to missing storage object '%s'", ref);
			else if (seen_before(members, ref, i, &j))
				verr(v, q, "%s is already a member of lu_gps[%zu]", ref, j);
		}
	}
	json_object_put(names);
	json_object_put(ids);
	json_object_put(members);
}

size_t conf_validate(struct rts_ctx *ctx, struct json_object *root, struct conf_report *rep)
{
	struct vctx v = { .ctx = ctx, .rep = rep };

	if (!check_fields(&v, root, "", root_fields))
		return v.errs;
	check_storage_objects(&v, root);
	check_fabric_modules(&v, root);
	build_so_index(root);
	check_targets(&v, root);
	check_lu_gps(&v, root);
	json_object_put(so_index);
	so_index = NULL;
	return v.errs;
}

int conf_value_string(struct json_object *v, char *buf, size_t size)
{
	int n;

	switch (json_object_get_type(v)) {
	case json_type_boolean:
		n = snprintf(buf, size, "%d", json_object_get_boolean(v) ? 1 : 0);
		break;
	case json_type_int:
		n = snprintf(buf, size, "%" PRId64, json_object_get_int64(v));
		break;
	case json_type_string:
		n = snprintf(buf, size, "%s", json_object_get_string(v));
		break;
	case json_type_null:
		n = snprintf(buf, size, "%s", "");
		break;
	default:
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

/* ------------------------------------------------------------ --skip-invalid */

struct victim {
	struct json_object *array;
	size_t index;
	size_t prefix_len; /* length of the path up to and including "<array>[<index>]" */
	const char *path;
};

/* @p in is nested inside the element @p out names (deleting @p out deletes it too). */
static bool victim_inside(const struct victim *in, const struct victim *out)
{
	return in->prefix_len > out->prefix_len &&
	       !strncmp(in->path, out->path, out->prefix_len) && in->path[out->prefix_len] == '.';
}

static int cmp_victim(const void *a, const void *b)
{
	const struct victim *x = a, *y = b;

	if (x->array != y->array)
		return (uintptr_t)x->array < (uintptr_t)y->array ? -1 : 1;
	return x->index < y->index ? 1 : x->index > y->index ? -1 : 0; /* descending */
}

/* The innermost array element (an object of the file) holding JSON path @p path. */
static bool element_of(struct json_object *root, const char *path, struct victim *ret)
{
	static const char *const arrays[] = { "storage_objects", "alua_tpgs", "targets", "tpgs",
					      "luns", "portals", "node_acls", "mapped_luns",
					      "fabric_modules", "lu_gps", NULL };
	struct json_object *o = root;
	bool found = false;
	char tok[256];
	const char *p = path;

	while (*p && o) {
		size_t n = strcspn(p, ".");
		char *br;

		pfmt(tok, sizeof(tok), "%.*s", (int)n, p);
		p += n + (p[n] == '.');
		br = strchr(tok, '[');
		if (br) {
			struct json_object *arr = NULL;
			size_t idx = strtoul(br + 1, NULL, 10);

			*br = '\0';
			if (!json_object_object_get_ex(o, tok, &arr) ||
			    !json_object_is_type(arr, json_type_array) ||
			    idx >= json_object_array_length(arr))
				break;
			for (size_t i = 0; arrays[i]; i++) {
				if (!strcmp(arrays[i], tok)) {
					ret->array = arr;
					ret->index = idx;
					ret->path = path;
					ret->prefix_len = (size_t)(p - path) - (p > path && p[-1] == '.');
					found = true;
				}
			}
			o = json_object_array_get_idx(arr, idx);
		} else if (!json_object_object_get_ex(o, tok, &o)) {
			break;
		}
	}
	return found;
}

size_t conf_prune_invalid(struct json_object *root, const struct conf_report *rep,
			  struct conf_report *skipped)
{
	struct victim *v = calloc(rep->n + 1, sizeof(*v));
	size_t n = 0, removed = 0;

	if (!v)
		return 0;
	for (size_t i = 0; i < rep->n; i++) {
		if (rep->v[i].level != CONF_ERR || !element_of(root, rep->v[i].path, &v[n]))
			continue;
		conf_report_add(skipped, CONF_ERR, rep->v[i].path, "skipped: %s", rep->v[i].text);
		n++;
	}
	/*
	 * An element inside another victim goes with it: deleting both would touch an array
	 * the outer deletion already freed.
	 */
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			if (j != i && v[j].array && victim_inside(&v[i], &v[j])) {
				v[i].array = NULL;
				break;
			}
		}
	}
	qsort(v, n, sizeof(*v), cmp_victim);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].array ||
		    (i && v[i].array == v[i - 1].array && v[i].index == v[i - 1].index))
			continue;
		json_object_array_del_idx(v[i].array, v[i].index, 1);
		removed++;
	}
	free(v);
	return removed;
}
