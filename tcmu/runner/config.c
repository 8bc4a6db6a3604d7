/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rts-runner configuration file: parse, validate, apply, reload on SIGHUP; plus the log sink
 * that honours the configured level and target.
 *
 * GKeyFile does not report line numbers, so warnings and errors locate a group or key by
 * scanning the text once more (locate()): good enough for "path:line:" in every message.
 * GKeyFile has no inline comments: "key = value # text" makes the value "value # text".
 */
#include <errno.h>
#include <glib.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "parse.h"
#include "notify.h"
#include "status.h"

struct runner_config {
	char *path;
	bool must_exist;
	char *handler_dir; /* NULL: not set */
	int log_level; /* RTS_LOG_*, 0: not set */
	int log_target; /* enum runner_log_target, -1: not set */
	int tmr_notification; /* 0/1, -1: not set (on) */
	long status_group; /* gid of the status socket, -1: not set (root's group) */
	GHashTable *handlers; /* subtype -> GHashTable (key -> value) */
};

#define HANDLER_GROUP_PREFIX "handler."

static const char *const runner_keys[] = { "handler_dir", "log_level", "log_target",
					    "tmr_notification", "status_group", NULL };

struct runner_config *runner_config_free(struct runner_config *c)
{
	if (!c)
		return NULL;
	g_free(c->path);
	g_free(c->handler_dir);
	if (c->handlers)
		g_hash_table_unref(c->handlers);
	g_free(c);
	return NULL;
}

/* 1-based line of [group] (key NULL) or of key inside [group]; 0 if not found. */
static unsigned int locate(const char *text, const char *group, const char *key)
{
	/* walked in place: splitting the file into lines for each key made loading quadratic */
	const char *l = text;
	bool in_group = false;

	for (unsigned int i = 1; *l; i++) {
		const char *eol = strchr(l, '\n');
		size_t len = eol ? (size_t)(eol - l) : strlen(l);
		size_t n;

		while (len && (*l == ' ' || *l == '\t')) {
			l++;
			len--;
		}
		if (len && *l == '[') {
			const char *end = memchr(l, ']', len);

			n = strlen(group);
			in_group = end && (size_t)(end - l - 1) == n && strncmp(l + 1, group, n) == 0;
			if (in_group && !key)
				return i;
		} else if (in_group && key) {
			n = strlen(key);
			if (n <= len && strncmp(l, key, n) == 0) {
				const char *p = l + n, *stop = l + len;

				while (p < stop && (*p == ' ' || *p == '\t'))
					p++;
				if (p < stop && *p == '=')
					return i;
			}
		}
		if (!eol)
			break;
		l = eol + 1;
	}
	return 0;
}

int runner_parse_log_level(const char *s)
{
	static const struct {
		const char *name;
		int prio;
	} names[] = {
		{ "error", RTS_LOG_ERR },     { "warning", RTS_LOG_WARNING },
		{ "notice", RTS_LOG_NOTICE }, { "info", RTS_LOG_INFO },
		{ "debug", RTS_LOG_DEBUG },
	};
	/* tcmu.conf's log_level: 0 CRIT, 1 ERROR, 2 WARNING, 3 INFO, 4 DEBUG, 5 DEBUG SCSI CMD.
	 * We have no CRIT level: 0 logs errors, like 1. */
	static const int tcmu_levels[] = { RTS_LOG_ERR,	 RTS_LOG_ERR,	RTS_LOG_WARNING,
					   RTS_LOG_INFO, RTS_LOG_DEBUG, RTS_LOG_DEBUG };

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (g_ascii_strcasecmp(s, names[i].name) == 0)
			return names[i].prio;
	if (s[0] >= '0' && s[0] <= '5' && s[1] == '\0')
		return tcmu_levels[s[0] - '0'];
	return -EINVAL;
}

static int parse_log_target(const char *s)
{
	if (g_ascii_strcasecmp(s, "stderr") == 0)
		return RUNNER_LOG_STDERR;
	if (g_ascii_strcasecmp(s, "syslog") == 0)
		return RUNNER_LOG_SYSLOG;
	return -EINVAL;
}

static int fail(char **reterr, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char **reterr, int err, const char *fmt, ...)
{
	va_list ap;

	if (reterr) {
		va_start(ap, fmt);
		*reterr = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	return err;
}

/* "<file>:<line>: [runner] <key>: invalid value '<v>' (expected <expected>)" */
static int bad_value(char **reterr, const struct runner_config *c, unsigned int line,
		     const char *key, const char *v, const char *expected)
{
	return fail(reterr, -EINVAL, "%s:%u: [runner] %s: invalid value '%s' (expected %s)",
		    c->path, line, key, v, expected);
}

/* The unescaped value, or NULL on an invalid escape (GLib then still returns a string). */
static gchar *get_string(GKeyFile *kf, const char *group, const char *key)
{
	GError *err = NULL;
	gchar *v = g_key_file_get_string(kf, group, key, &err);

	if (err) {
		g_error_free(err);
		g_free(v);
		return NULL;
	}
	return v;
}

/* A group name or a numeric gid; -1 when neither names a group. */
static long parse_group(const char *v)
{
	struct group *gr;
	char *end;
	long gid;

	if (!*v)
		return -1;
	errno = 0;
	gid = strtol(v, &end, 10);
	if (!*end && !errno && gid >= 0 && gid < (long)UINT32_MAX)
		return gid;
	gr = getgrnam(v);
	return gr ? (long)gr->gr_gid : -1;
}

/* Read [runner]: validate every key, warn about unknown ones. */
static int parse_runner_group(struct runner *r, struct runner_config *c, GKeyFile *kf,
			      const char *text, char **reterr)
{
	gchar **keys = g_key_file_get_keys(kf, "runner", NULL, NULL);
	int ret = 0;

	for (gchar **k = keys; k && *k && ret == 0; k++) {
		unsigned int line = locate(text, "runner", *k);
		gchar *v = get_string(kf, "runner", *k);

		if (!g_strv_contains(runner_keys, *k)) {
			runner_log(r, RTS_LOG_WARNING,
				   "%s:%u: unknown key '%s' in [runner]; ignored", c->path, line,
				   *k);
		} else if (!v) {
			ret = fail(reterr, -EINVAL, "%s:%u: [runner] %s: invalid escape sequence",
				   c->path, line, *k);
		} else if (strcmp(*k, "handler_dir") == 0) {
			g_strstrip(v);
			if (v[0] != '/')
				ret = fail(
					reterr, -EINVAL,
					"%s:%u: [runner] handler_dir: expected an absolute path, got '%s'",
					c->path, line, v);
			else {
				/* a key given twice: the last one counts (and the first is freed) */
				g_free(c->handler_dir);
				c->handler_dir = g_strdup(v);
			}
		} else if (strcmp(*k, "log_level") == 0) {
			int p = runner_parse_log_level(g_strstrip(v));
			if (p < 0)
				ret = bad_value(reterr, c, line, *k, v,
						"error, warning, notice, info, debug, or "
						"tcmu-runner's 0..5");
			else
				c->log_level = p;
		} else if (strcmp(*k, "tmr_notification") == 0) {
			bool b;
			if (parse_bool(g_strstrip(v), &b) < 0)
				ret = bad_value(reterr, c, line, *k, v, "true or false");
			else
				c->tmr_notification = b;
		} else if (strcmp(*k, "status_group") == 0) {
			long gid = parse_group(g_strstrip(v));
			if (gid < 0)
				ret = fail(reterr, -EINVAL,
					   "%s:%u: [runner] status_group: no group '%s' (expected a "
					   "group name or a numeric gid)",
					   c->path, line, v);
			else
				c->status_group = gid;
		} else {
			int t = parse_log_target(g_strstrip(v));
			if (t < 0)
				ret = bad_value(reterr, c, line, *k, v, "stderr or syslog");
			else
				c->log_target = t;
		}
		g_free(v);
	}
	g_strfreev(keys);
	return ret;
}

/* Store [handler.<subtype>] verbatim (values unescaped, stripped). */
static int parse_handler_group(struct runner_config *c, GKeyFile *kf, const char *group,
			       const char *text, char **reterr)
{
	const char *subtype = group + strlen(HANDLER_GROUP_PREFIX);
	gchar **keys = g_key_file_get_keys(kf, group, NULL, NULL);
	GHashTable *opts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	int ret = 0;

	for (gchar **k = keys; k && *k; k++) {
		gchar *v = get_string(kf, group, *k);
		if (!v) {
			ret = fail(reterr, -EINVAL, "%s:%u: [%s] %s: invalid escape sequence",
				   c->path, locate(text, group, *k), group, *k);
			break;
		}
		g_hash_table_replace(opts, g_strdup(*k), g_strdup(g_strstrip(v)));
		g_free(v);
	}
	g_strfreev(keys);
	if (ret < 0)
		g_hash_table_unref(opts);
	else
		g_hash_table_replace(c->handlers, g_strdup(subtype), opts);
	return ret;
}

int runner_config_load(struct runner *r, const char *path, bool must_exist,
		       struct runner_config **ret, char **reterr)
{
	struct runner_config *c = g_new0(struct runner_config, 1);
	GKeyFile *kf = NULL;
	GError *err = NULL;
	gchar *text = NULL, **groups = NULL;
	int res = 0;

	c->path = g_strdup(path);
	c->must_exist = must_exist;
	c->log_target = -1;
	c->tmr_notification = -1;
	c->status_group = -1;
	c->handlers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)g_hash_table_unref);
	if (!g_file_get_contents(path, &text, NULL, &err)) {
		bool missing = g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);

		if (missing && !must_exist)
			goto done; /* no file: defaults */
		res = fail(reterr,
			   missing						  ? -ENOENT :
			   g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_ACCES) ? -EACCES :
										    -EIO,
			   "cannot read config file: %s", err->message);
		goto done;
	}
	kf = g_key_file_new();
	if (!g_key_file_load_from_data(kf, text, (gsize)-1, G_KEY_FILE_NONE, &err)) {
		res = fail(reterr, -EINVAL, "%s: %s", path, err->message);
		goto done;
	}
	groups = g_key_file_get_groups(kf, NULL);
	for (gchar **g = groups; *g && res == 0; g++) {
		if (strcmp(*g, "runner") == 0)
			res = parse_runner_group(r, c, kf, text, reterr);
		else if (g_str_has_prefix(*g, HANDLER_GROUP_PREFIX) &&
			 (*g)[strlen(HANDLER_GROUP_PREFIX)] != '\0')
			res = parse_handler_group(c, kf, *g, text, reterr);
		else
			runner_log(r, RTS_LOG_WARNING,
				   "%s:%u: unknown group [%s]; ignored (expected [runner] or "
				   "[handler.<subtype>])",
				   path, locate(text, *g, NULL), *g);
	}
done:
	g_strfreev(groups);
	if (kf)
		g_key_file_free(kf);
	g_free(text);
	if (err)
		g_error_free(err);
	if (res < 0) {
		runner_config_free(c);
		return res;
	}
	*ret = c;
	return 0;
}

const char *runner_config_get_path(const struct runner_config *c)
{
	return c->path;
}

const char *runner_config_get_handler_dir(const struct runner_config *c)
{
	return c->handler_dir;
}

int runner_config_get_log_level(const struct runner_config *c)
{
	return c->log_level;
}

long runner_config_get_status_group(const struct runner_config *c)
{
	return c ? c->status_group : -1;
}

bool runner_config_get_tmr_notification(const struct runner_config *c)
{
	return !c || c->tmr_notification != 0;
}

int runner_config_get_log_target(const struct runner_config *c)
{
	return c->log_target;
}

const char *runner_config_handler_option(const struct runner_config *c, const char *subtype,
					 const char *key)
{
	GHashTable *opts = c ? g_hash_table_lookup(c->handlers, subtype) : NULL;

	return opts ? g_hash_table_lookup(opts, key) : NULL;
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **runner_config_handler_keys(const struct runner_config *c, const char *subtype)
{
	GHashTable *opts = c ? g_hash_table_lookup(c->handlers, subtype) : NULL;
	GPtrArray *a = g_ptr_array_new();
	GHashTableIter it;
	gpointer k;

	if (opts) {
		g_hash_table_iter_init(&it, opts);
		while (g_hash_table_iter_next(&it, &k, NULL))
			g_ptr_array_add(a, g_strdup(k));
	}
	g_ptr_array_sort(a, cmp_str);
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

char **runner_config_handler_options(const struct runner_config *c, const char *subtype)
{
	char **keys = runner_config_handler_keys(c, subtype);
	guint n = g_strv_length(keys);
	char **kv = g_new0(char *, 2 * n + 1);

	for (guint i = 0; i < n; i++) {
		kv[2 * i] = keys[i];
		kv[2 * i + 1] = g_strdup(runner_config_handler_option(c, subtype, keys[i]));
	}
	g_free(keys); /* the strings moved into kv */
	return kv;
}

static bool opts_equal(GHashTable *a, GHashTable *b)
{
	GHashTableIter it;
	gpointer k, v;

	if (g_hash_table_size(a) != g_hash_table_size(b))
		return false;
	g_hash_table_iter_init(&it, a);
	while (g_hash_table_iter_next(&it, &k, &v))
		if (g_strcmp0(v, g_hash_table_lookup(b, k)) != 0)
			return false;
	return true;
}

/* Subtypes whose [handler.<subtype>] differs between @p a and @p b, appended to @p out. */
static void diff_handlers(GHashTable *a, GHashTable *b, GPtrArray *out)
{
	GHashTableIter it;
	gpointer k, v;

	g_hash_table_iter_init(&it, a);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		GHashTable *o = g_hash_table_lookup(b, k);
		if (!o || !opts_equal(v, o))
			g_ptr_array_add(out, k);
	}
	g_hash_table_iter_init(&it, b);
	while (g_hash_table_iter_next(&it, &k, NULL))
		if (!g_hash_table_contains(a, k))
			g_ptr_array_add(out, k);
}

void runner_config_apply(struct runner *r, struct runner_config *c)
{
	int target = c->log_target < 0 ? RUNNER_LOG_STDERR : c->log_target;

	if (!r->log_level_pinned)
		__atomic_store_n(&r->log_priority, c->log_level ? c->log_level : RTS_LOG_NOTICE,
				 __ATOMIC_RELAXED);
	if (target == RUNNER_LOG_SYSLOG)
		openlog("rts-runner", LOG_PID, LOG_DAEMON);
	__atomic_store_n(&r->log_target, target, __ATOMIC_RELAXED);
	if (r->config != c)
		runner_config_free(r->config);
	r->config = c;
}

int runner_config_reload(struct runner *r, char **reterr)
{
	const char *path = r->config ? r->config->path : RUNNER_CONFIG_PATH_DEFAULT;
	bool must_exist = r->config ? r->config->must_exist : false;
	struct runner_config *c = NULL, *old = r->config;
	int prio = r->log_priority, target = r->log_target, res = 0, ret;

	ret = runner_config_load(r, path, must_exist, &c, reterr);
	if (ret < 0)
		return ret;
	if (old && g_strcmp0(old->handler_dir, c->handler_dir) != 0) {
		runner_log(
			r, RTS_LOG_NOTICE,
			"%s: handler_dir changed from '%s' to '%s'; takes effect after a restart",
			path, old->handler_dir ? old->handler_dir : "(default)",
			c->handler_dir ? c->handler_dir : "(default)");
		res |= RUNNER_RELOAD_NEEDS_RESTART;
	}
	if (old) {
		GPtrArray *changed = g_ptr_array_new();

		diff_handlers(old->handlers, c->handlers, changed);
		for (guint i = 0; i < changed->len; i++)
			runner_log(r, RTS_LOG_NOTICE,
				   "%s: options of handler '%s' changed; devices attached from now on "
				   "use them, running devices keep theirs until a restart",
				   path, (const char *)changed->pdata[i]);
		if (changed->len)
			res |= RUNNER_RELOAD_NEEDS_RESTART;
		g_ptr_array_free(changed, TRUE);
	}
	bool group_changed = old && old->status_group != c->status_group;
	runner_config_apply(r, c);
	if (r->log_priority != prio || r->log_target != target)
		res |= RUNNER_RELOAD_APPLIED;
	if (group_changed && r->status) {
		char *err = NULL;

		if (runner_status_set_group(r, c->status_group, &err) < 0) {
			runner_log(r, RTS_LOG_WARNING, "%s: %s", path, err);
			g_free(err);
		} else {
			res |= RUNNER_RELOAD_APPLIED;
		}
	}
	runner_log(r, RTS_LOG_INFO, "%s: reloaded (log level %d, target %s)", path, r->log_priority,
		   r->log_target == RUNNER_LOG_SYSLOG ? "syslog" : "stderr");
	return res;
}

gboolean runner_on_sighup(gpointer data)
{
	struct runner *r = data;
	char *err = NULL;

	runner_notify_reloading();
	if (runner_config_reload(r, &err) < 0) {
		runner_log(r, RTS_LOG_ERR, "reload failed, keeping the running configuration: %s",
			   err ? err : "unknown error");
		g_free(err);
	}
	runner_notify("READY=1");
	return G_SOURCE_CONTINUE;
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case RTS_LOG_ERR:
		return "error";
	case RTS_LOG_WARNING:
		return "warning";
	case RTS_LOG_NOTICE:
		return "notice";
	case RTS_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void runner_log_emit(const struct runner *r, int prio, const char *dev, const char *msg)
{
	if (prio > __atomic_load_n(&r->log_priority, __ATOMIC_RELAXED))
		return;
	if (__atomic_load_n(&r->log_target, __ATOMIC_RELAXED) == RUNNER_LOG_SYSLOG) {
		if (dev)
			syslog(prio, "%s: %s", dev, msg);
		else
			syslog(prio, "%s", msg);
		return;
	}
	if (dev)
		fprintf(stderr, "rts-runner: %s: %s: %s\n", prio_name(prio), dev, msg);
	else
		fprintf(stderr, "rts-runner: %s: %s\n", prio_name(prio), msg);
}
