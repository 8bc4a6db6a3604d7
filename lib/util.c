/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers: path formatting, checked configfs I/O, the object hash index, parsing.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "private.h"

int path_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

char *path_dup(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

void strip_trailing(char *s)
{
	size_t n = strlen(s);

	while (n > 0 &&
	       (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

int parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	while (*end == '\n' || *end == ' ')
		end++;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int random_hex(char *buf, size_t ndigits)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t rnd[64];
	size_t need = (ndigits + 1) / 2;

	if (need > sizeof(rnd))
		return -EINVAL;
	if (getrandom(rnd, need, 0) != (ssize_t)need)
		return -EIO;
	for (size_t i = 0; i < ndigits; i++)
		buf[i] = hex[(rnd[i / 2] >> ((i & 1) * 4)) & 0xf];
	buf[ndigits] = '\0';
	return 0;
}

/* ------------------------------------------------------------ checked configfs I/O */

int cfs_read(struct rts_ctx *ctx, const char *path, char **ret)
{
	_cleanup_free_ char *buf = malloc(RTS_VALUE_MAX + 1);
	ssize_t n;

	if (!buf)
		return rts_error(ctx, -ENOMEM, path, "out of memory");
	n = ctx->be->ops->read(ctx->be->data, path, buf, RTS_VALUE_MAX);
	if (n < 0)
		return rts_error(ctx, (int)n, path, "cannot read: %s", strerror((int)-n));
	buf[n] = '\0';
	strip_trailing(buf);
	*ret = TAKE_PTR(buf);
	return 0;
}

int cfs_read_u64(struct rts_ctx *ctx, const char *path, uint64_t *ret)
{
	_cleanup_free_ char *v = NULL;
	int r = cfs_read(ctx, path, &v);

	if (r < 0)
		return r;
	r = parse_u64(v, ret);
	if (r < 0)
		return rts_error(ctx, r, path, "not a number: '%s'", v);
	return 0;
}

int cfs_write(struct rts_ctx *ctx, const char *path, const char *value)
{
	int r;

	rts_dbg(ctx, "write '%s' <- '%s'", path, value);
	r = ctx->be->ops->write(ctx->be->data, path, value, strlen(value));
	if (r < 0)
		return rts_error(ctx, r, path, "cannot write '%s': %s", value, strerror(-r));
	return 0;
}

int cfs_mkdir(struct rts_ctx *ctx, const char *path)
{
	int r;

	rts_dbg(ctx, "mkdir '%s'", path);
	r = ctx->be->ops->mkdir(ctx->be->data, path);
	if (r < 0)
		return rts_error(ctx, r, path, "cannot create: %s", strerror(-r));
	return 0;
}

int cfs_rmdir(struct rts_ctx *ctx, const char *path)
{
	int r;

	rts_dbg(ctx, "rmdir '%s'", path);
	r = ctx->be->ops->rmdir(ctx->be->data, path);
	if (r < 0)
		return rts_error(ctx, r, path, "cannot remove: %s", strerror(-r));
	return 0;
}

int cfs_symlink(struct rts_ctx *ctx, const char *target, const char *path)
{
	int r;

	rts_dbg(ctx, "symlink '%s' -> '%s'", path, target);
	r = ctx->be->ops->symlink(ctx->be->data, target, path);
	if (r < 0)
		return rts_error(ctx, r, path, "cannot link to '%s': %s", target, strerror(-r));
	return 0;
}

int cfs_unlink(struct rts_ctx *ctx, const char *path)
{
	int r;

	rts_dbg(ctx, "unlink '%s'", path);
	r = ctx->be->ops->unlink(ctx->be->data, path);
	if (r < 0)
		return rts_error(ctx, r, path, "cannot unlink: %s", strerror(-r));
	return 0;
}

void cfs_undo_rmdir(struct rts_ctx *ctx, const char *path)
{
	struct rts_error saved = ctx->err;

	ctx->be->ops->rmdir(ctx->be->data, path);
	ctx->err = saved;
}

void cfs_undo_unlink(struct rts_ctx *ctx, const char *path)
{
	struct rts_error saved = ctx->err;

	ctx->be->ops->unlink(ctx->be->data, path);
	ctx->err = saved;
}

bool cfs_exists(struct rts_ctx *ctx, const char *path, enum rts_ftype type)
{
	enum rts_ftype t;

	if (ctx->be->ops->stat(ctx->be->data, path, &t) < 0)
		return false;
	return type == RTS_FT_NONE || t == type;
}

static const char *const group_dirs[RTS_GROUP_MAX] = {
	[RTS_GROUP_NONE] = NULL,       [RTS_GROUP_ATTRIB] = "attrib", [RTS_GROUP_PARAM] = "param",
	[RTS_GROUP_AUTH] = "auth",     [RTS_GROUP_WWN] = "wwn",	      [RTS_GROUP_PR] = "pr",
	[RTS_GROUP_ACTION] = "action",
};

static int attr_path(struct rts_ctx *ctx, char *buf, const char *objpath, enum rts_group group,
		     const char *name)
{
	int r;

	if ((unsigned int)group >= RTS_GROUP_MAX)
		return rts_error(ctx, -EINVAL, objpath, "invalid attribute group %d", group);
	r = check_name(ctx, "attribute", name);
	if (r < 0)
		return r;
	if (group_dirs[group])
		r = path_fmt(buf, RTS_PATH_MAX, "%s/%s/%s", objpath, group_dirs[group], name);
	else
		r = path_fmt(buf, RTS_PATH_MAX, "%s/%s", objpath, name);
	if (r < 0)
		return rts_error(ctx, r, objpath, "path too long");
	return 0;
}

int obj_get_attr(struct rts_ctx *ctx, const char *objpath, enum rts_group group, const char *name,
		 char **ret)
{
	char path[RTS_PATH_MAX];
	int r = attr_path(ctx, path, objpath, group, name);

	if (r < 0)
		return r;
	return cfs_read(ctx, path, ret);
}

int obj_set_attr(struct rts_ctx *ctx, const char *objpath, enum rts_group group, const char *name,
		 const char *value)
{
	char path[RTS_PATH_MAX];
	struct rts_txn txn _cleanup_txn_ = { 0 };
	int r = attr_path(ctx, path, objpath, group, name);

	if (r < 0)
		return r;
	if (!value)
		return rts_error(ctx, -EINVAL, path, "NULL value");
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	return cfs_write(ctx, path, value);
}

int obj_foreach_attr(struct rts_ctx *ctx, const char *objpath, enum rts_group group, rts_attr_fn fn,
		     void *userdata)
{
	char dir[RTS_PATH_MAX], p[RTS_PATH_MAX];
	struct rts_names l;
	int r;

	if ((unsigned int)group >= RTS_GROUP_MAX)
		return rts_error(ctx, -EINVAL, objpath, "invalid attribute group %d", group);
	if (!fn)
		return rts_error(ctx, -EINVAL, objpath, "missing callback");
	if (group_dirs[group])
		r = path_fmt(dir, sizeof(dir), "%s/%s", objpath, group_dirs[group]);
	else
		r = path_fmt(dir, sizeof(dir), "%s", objpath);
	if (r < 0)
		return rts_error(ctx, r, objpath, "path too long");
	r = names_list(ctx, dir, &l);
	if (r < 0)
		return r;
	for (size_t i = 0; i < l.n && r == 0; i++) {
		_cleanup_free_ char *v = NULL;

		if (l.t[i] != RTS_FT_FILE)
			continue;
		r = path_fmt(p, sizeof(p), "%s/%s", dir, l.v[i]);
		if (r < 0) {
			r = rts_error(ctx, r, dir, "path too long");
			break;
		}
		r = cfs_read(ctx, p, &v);
		if (r == -EACCES) /* write-only (control, pr/res_aptpl_metadata...) */
			r = 0;
		else if (r < 0)
			break;
		r = fn(userdata, l.v[i], v);
	}
	names_free(&l);
	return r;
}

int check_name(struct rts_ctx *ctx, const char *what, const char *name)
{
	const char *reason = NULL;
	int r;

	if (!name)
		return rts_error(ctx, -EINVAL, "", "%s name missing", what);
	r = rts_name_validate(name, &reason);
	if (r < 0)
		return rts_error(ctx, r, name, "invalid %s name: %s", what, reason);
	return 0;
}

/* ------------------------------------------------------------ hash index */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	/* FNV only carries bits upwards: mix so the low (bucket) bits see every byte */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static const char tombstone_key[1];
#define TOMBSTONE tombstone_key

static int index_grow(struct rts_index *ix)
{
	struct rts_index n = { 0 };

	n.size = ix->size ? ix->size * 2 : 64;
	if (ix->count * 4 < ix->size)
		n.size = ix->size; /* mostly tombstones: rehash at the same size */
	n.slots = calloc(n.size, sizeof(*n.slots));
	if (!n.slots)
		return -ENOMEM;
	for (size_t i = 0; i < ix->size; i++) {
		const char *k = ix->slots[i].key;

		if (k && k != TOMBSTONE) {
			size_t j = ix->slots[i].hash & (n.size - 1);

			while (n.slots[j].key)
				j = (j + 1) & (n.size - 1);
			n.slots[j] = ix->slots[i];
			n.count++;
			n.used++;
		}
	}
	free(ix->slots);
	*ix = n;
	return 0;
}

static struct rts_index_slot *index_find_h(const struct rts_index *ix, const char *key, uint64_t h)
{
	size_t i;

	if (!ix->size)
		return NULL;
	i = h & (ix->size - 1);
	for (;;) {
		struct rts_index_slot *s = &ix->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0)
			return s;
		i = (i + 1) & (ix->size - 1);
	}
}

int index_put(struct rts_index *ix, const char *key, void *value)
{
	uint64_t h = hash_str(key);
	struct rts_index_slot *s = index_find_h(ix, key, h);
	size_t i;

	if (s) { /* replace: the new owner's key string */
		s->key = key;
		s->value = value;
		return 0;
	}
	if ((ix->used + 1) * 4 >= ix->size * 3) {
		int r = index_grow(ix);

		if (r < 0)
			return r;
	}
	i = h & (ix->size - 1);
	while (ix->slots[i].key && ix->slots[i].key != TOMBSTONE)
		i = (i + 1) & (ix->size - 1);
	if (!ix->slots[i].key)
		ix->used++;
	ix->slots[i] = (struct rts_index_slot){ key, value, h };
	ix->count++;
	return 0;
}

static struct rts_index_slot *index_find(const struct rts_index *ix, const char *key)
{
	return index_find_h(ix, key, hash_str(key));
}

void *index_get(const struct rts_index *ix, const char *key)
{
	struct rts_index_slot *s = index_find(ix, key);

	return s ? s->value : NULL;
}

void index_del(struct rts_index *ix, const char *key)
{
	struct rts_index_slot *s = index_find(ix, key);

	if (s) {
		s->key = TOMBSTONE;
		s->value = NULL;
		ix->count--;
	}
}

void index_free(struct rts_index *ix)
{
	free(ix->slots);
	*ix = (struct rts_index){ 0 };
}

/* ------------------------------------------------------------ directory listing */

int names_add(void *ud, const char *name, enum rts_ftype type)
{
	struct rts_names *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));
		enum rts_ftype *t;

		if (!v)
			return -ENOMEM;
		l->v = v;
		t = realloc(l->t, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		l->t = t;
		l->cap = cap;
	}
	l->v[l->n] = strdup(name);
	if (!l->v[l->n])
		return -ENOMEM;
	l->t[l->n++] = type;
	return 0;
}

void names_free(struct rts_names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->t);
	*l = (struct rts_names){ 0 };
}

static int list_names(struct rts_ctx *ctx, const char *path, struct rts_names *l, bool missing_ok)
{
	int r;

	*l = (struct rts_names){ 0 };
	r = ctx->be->ops->readdir(ctx->be->data, path, names_add, l);
	if (r >= 0)
		return 0;
	names_free(l);
	if (missing_ok && (r == -ENOENT || r == -ENOTDIR))
		return 0;
	return rts_error(ctx, r, path, "cannot list: %s", strerror(-r));
}

int names_list(struct rts_ctx *ctx, const char *path, struct rts_names *l)
{
	return list_names(ctx, path, l, false);
}

int names_list_opt(struct rts_ctx *ctx, const char *path, struct rts_names *l)
{
	return list_names(ctx, path, l, true);
}
