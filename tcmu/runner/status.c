/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The status socket: a Unix stream socket (default /run/rts/runner.sock) on which every
 * connection receives one JSON document describing the runner, its handlers and its
 * devices, then EOF. `rtsctl status` reads it. It needs no message bus, so it works in
 * containers and initramfs where D-Bus is absent; the same data is on D-Bus
 * (org.rtslib.Runner1.ListDevices) for tools that prefer that.
 *
 * Who may connect: the socket is 0660, owned by the runner's user (root) and by the
 * [runner] status_group of runner.conf (else the runner's group); the directory is made
 * 0755. What they can do: read the document; nothing on it changes state. A client that
 * never reads is dropped after RUNNER_STATUS_TIMEOUT_MS, or earlier when more than
 * RUNNER_STATUS_MAX_CLIENTS are unread (oldest first); writes never block the main loop.
 * docs/security.md has the whole picture.
 *
 * Schema "rts-runner-status/1" (docs/dbus.md, "Status socket"): fields are only ever
 * added within a schema version.
 */
#include <errno.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "status.h"

struct runner_status {
	struct runner *r;
	GSocketService *service;
	char *path;
	GQueue clients; /* struct status_client, oldest first */
	struct runner_status_limits limits;
	uint64_t served, dropped;
};

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

/*
 * Counters by direction, latency percentiles, and the latency histogram as [upper bound ns,
 * count] pairs of its non-empty buckets, ascending: two snapshots give the percentiles of
 * the interval between them (rtsctl status --watch).
 */
static void add_io_stats(struct json_object *o, const struct rts_dev *dev)
{
	struct rts_dev_io_stats io = { .struct_size = sizeof(io) };
	g_autofree uint64_t *counts = NULL, *upper = NULL;
	struct json_object *hist;
	int n;

	if (rts_dev_get_io_stats(dev, &io) < 0)
		return;
	add_u64(o, "read_cmds", io.read_cmds);
	add_u64(o, "write_cmds", io.write_cmds);
	add_u64(o, "other_cmds", io.other_cmds);
	add_u64(o, "read_bytes", io.read_bytes);
	add_u64(o, "write_bytes", io.write_bytes);
	add_u64(o, "lat_p50_ns", io.lat_p50_ns);
	add_u64(o, "lat_p99_ns", io.lat_p99_ns);
	add_u64(o, "lat_p999_ns", io.lat_p999_ns);
	add_u64(o, "lat_max_ns", io.lat_max_ns);
	n = rts_dev_get_latency_histogram(dev, NULL, NULL, 0);
	if (n <= 0)
		return;
	counts = g_new(uint64_t, n);
	upper = g_new(uint64_t, n);
	n = rts_dev_get_latency_histogram(dev, counts, upper, (unsigned int)n);
	hist = json_object_new_array();
	for (int b = 0; b < n; b++) {
		struct json_object *pair;

		if (!counts[b])
			continue;
		pair = json_object_new_array();
		json_object_array_add(pair, json_object_new_uint64(upper[b]));
		json_object_array_add(pair, json_object_new_uint64(counts[b]));
		json_object_array_add(hist, pair);
	}
	json_object_object_add(o, "lat_hist", hist);
}

char *runner_status_json(const struct runner *r)
{
	struct json_object *root = json_object_new_object();
	struct json_object *hs = json_object_new_array(), *ds = json_object_new_array();
	char *out;

	json_object_object_add(root, "schema", json_object_new_string(RUNNER_STATUS_SCHEMA));
	json_object_object_add(root, "pid", json_object_new_int64(getpid()));
	json_object_object_add(root, "version", json_object_new_string(RTS_VERSION));
	json_object_object_add(root, "mode",
			       json_object_new_string(r->nl ? "kernel" : "simulated"));
	for (unsigned int i = 0; i < r->nhandlers; i++) {
		const struct rts_handler *h = rts_loaded_handler_get(r->handlers[i]);
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "subtype", json_object_new_string(h->subtype));
		json_object_object_add(o, "name", json_object_new_string(h->name ? h->name : ""));
		json_object_object_add(
			o, "path",
			json_object_new_string(rts_loaded_handler_get_path(r->handlers[i])));
		json_object_array_add(hs, o);
	}
	for (unsigned int i = 0; i < r->ndevs; i++) {
		const struct runner_dev *rd = &r->devs[i];
		const struct rts_handler *h;
		const char *failure;
		struct rts_dev_stats st = { .struct_size = sizeof(st) };
		struct json_object *o;

		if (!rd->dev)
			continue;
		h = rts_dev_get_handler(rd->dev);
		failure = rts_dev_get_failure(rd->dev);
		rts_dev_get_stats(rd->dev, &st);
		o = json_object_new_object();
		json_object_object_add(
			o, "name",
			json_object_new_string(rd->name ? rd->name : rts_dev_get_name(rd->dev)));
		json_object_object_add(o, "handler", json_object_new_string(h ? h->subtype : ""));
		g_autofree char *cfg = runner_dev_full_cfgstring(rd);
		json_object_object_add(o, "cfgstring", json_object_new_string(cfg));
		if (rd->info)
			json_object_object_add(o, "uio", json_object_new_int64(rd->info->minor));
		json_object_object_add(o, "state",
				       json_object_new_string(failure ? "failed" : "running"));
		if (failure)
			json_object_object_add(o, "failure", json_object_new_string(failure));
		add_u64(o, "size", rts_dev_get_size(rd->dev));
		add_u64(o, "block_size", rts_dev_get_block_size(rd->dev));
		add_u64(o, "inflight", st.inflight);
		add_u64(o, "cmds", st.cmds);
		add_u64(o, "completions", st.completions);
		add_u64(o, "errors", st.errors);
		add_u64(o, "aborts", st.aborts);
		add_u64(o, "aborts_cancelled", st.aborts_cancelled);
		add_u64(o, "emulated", st.emulated);
		add_u64(o, "handler_ops", st.handler_ops);
		add_u64(o, "kicks", st.kicks);
		add_u64(o, "wakeups", st.wakeups);
		add_io_stats(o, rd->dev);
		json_object_array_add(ds, o);
	}
	json_object_object_add(root, "handlers", hs);
	json_object_object_add(root, "devices", ds);
	out = g_strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}

/*
 * One connection being answered. The document is the client's whole buffer (bounded by the
 * device count); the socket is non-blocking, so a client that never reads costs one buffer
 * until its deadline or until newer clients push it out, and never a stalled main loop.
 */
struct status_client {
	struct runner_status *s;
	GSocketConnection *conn;
	GSocket *sock;
	char *buf;
	size_t len, off;
	GSource *out; /* waiting for room in the socket, NULL otherwise */
	guint deadline;
	GList *link; /* in s->clients */
};

static void client_free(struct status_client *c)
{
	struct runner_status *s = c->s;

	if (c->out) {
		g_source_destroy(c->out);
		g_source_unref(c->out);
	}
	if (c->deadline)
		g_source_remove(c->deadline);
	g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
	g_object_unref(c->conn);
	g_queue_delete_link(&s->clients, c->link);
	g_free(c->buf);
	g_free(c);
}

static void client_drop(struct status_client *c, const char *why)
{
	c->s->dropped++;
	runner_log(c->s->r, RTS_LOG_INFO,
		   "status socket: dropped a client %s (%zu of %zu bytes sent)", why, c->off,
		   c->len);
	client_free(c);
}

static gboolean client_send(struct status_client *c);

static gboolean on_writable(GSocket *sock, GIOCondition cond, gpointer ud)
{
	(void)sock, (void)cond;
	return client_send(ud);
}

/* Send what the socket takes; G_SOURCE_CONTINUE while more is left for later. */
static gboolean client_send(struct status_client *c)
{
	while (c->off < c->len) {
		GError *err = NULL;
		gssize n = g_socket_send(c->sock, c->buf + c->off, c->len - c->off, NULL, &err);

		if (n < 0 && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
			g_error_free(err);
			if (!c->out) {
				c->out = g_socket_create_source(c->sock, G_IO_OUT, NULL);
				g_source_set_callback(c->out, G_SOURCE_FUNC(on_writable), c, NULL);
				g_source_attach(c->out, NULL);
			}
			return G_SOURCE_CONTINUE;
		}
		if (n < 0) {
			runner_log(c->s->r, RTS_LOG_DEBUG, "status socket: client went away: %s",
				   err->message);
			g_error_free(err);
			break;
		}
		c->off += (size_t)n;
	}
	if (c->off == c->len)
		c->s->served++;
	if (c->out) { /* removed by returning G_SOURCE_REMOVE: forget it first */
		g_source_unref(c->out);
		c->out = NULL;
	}
	client_free(c);
	return G_SOURCE_REMOVE;
}

static gboolean on_deadline(gpointer ud)
{
	struct status_client *c = ud;

	c->deadline = 0;
	client_drop(c, "that did not read its status in time");
	return G_SOURCE_REMOVE;
}

static gboolean on_incoming(GSocketService *svc, GSocketConnection *conn, GObject *src,
			    gpointer ud)
{
	struct runner_status *s = ud;
	struct status_client *c;
	g_autofree char *doc = NULL;

	(void)svc;
	(void)src;
	/* at the bound, the oldest unread client (the slowest) makes room for this one */
	while (g_queue_get_length(&s->clients) >= s->limits.max_clients)
		client_drop(g_queue_peek_head(&s->clients), "to make room for a newer one");
	doc = runner_status_json(s->r);
	c = g_new0(struct status_client, 1);
	c->s = s;
	c->conn = g_object_ref(conn);
	c->sock = g_socket_connection_get_socket(conn);
	g_socket_set_blocking(c->sock, FALSE);
	if (s->limits.sndbuf) {
		GError *err = NULL;

		if (!g_socket_set_option(c->sock, SOL_SOCKET, SO_SNDBUF, (gint)s->limits.sndbuf,
					 &err)) {
			g_error_free(err);
		}
	}
	c->buf = g_strconcat(doc, "\n", NULL);
	c->len = strlen(c->buf);
	g_queue_push_tail(&s->clients, c);
	c->link = g_queue_peek_tail_link(&s->clients);
	c->deadline = g_timeout_add(s->limits.timeout_ms, on_deadline, c);
	client_send(c); /* most clients are served right here, in one send */
	return TRUE;
}

/* Remove @path only when it is a socket nobody answers on (a runner that died). */
static int clear_stale(const char *path)
{
	struct stat st;
	GSocketClient *cl;
	GSocketAddress *addr;
	GSocketConnection *c;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	cl = g_socket_client_new();
	addr = g_unix_socket_address_new(path);
	c = g_socket_client_connect(cl, G_SOCKET_CONNECTABLE(addr), NULL, NULL);
	g_object_unref(addr);
	g_object_unref(cl);
	if (c) {
		g_object_unref(c);
		return -EADDRINUSE;
	}
	return unlink(path) < 0 ? -errno : 0;
}

int runner_status_set_group(struct runner *r, long gid, char **reterr)
{
	struct runner_status *s = r->status;

	if (!s)
		return 0;
	/* -1: the runner's own group (root's, under systemd) */
	if (chown(s->path, (uid_t)-1, gid < 0 ? getegid() : (gid_t)gid) < 0 ||
	    chmod(s->path, 0660) < 0) {
		int ret = -errno;

		*reterr = g_strdup_printf("status socket %s: cannot give it to group %ld: %s",
					  s->path, gid, strerror(-ret));
		return ret;
	}
	return 0;
}

void runner_status_set_limits(struct runner *r, const struct runner_status_limits *l)
{
	struct runner_status *s = r->status;

	if (!s)
		return;
	s->limits = *l;
	if (!s->limits.max_clients)
		s->limits.max_clients = 1;
	if (!s->limits.timeout_ms)
		s->limits.timeout_ms = 1;
}

void runner_status_get_counters(const struct runner *r, uint64_t *served, uint64_t *dropped,
				unsigned int *pending)
{
	const struct runner_status *s = r->status;

	*served = s ? s->served : 0;
	*dropped = s ? s->dropped : 0;
	*pending = s ? g_queue_get_length((GQueue *)&s->clients) : 0;
}

int runner_status_start(struct runner *r, const char *path, char **reterr)
{
	g_autofree char *dir = g_path_get_dirname(path);
	struct runner_status *s;
	GSocketAddress *addr;
	GError *err = NULL;
	mode_t old;
	int ret;

	if (g_mkdir_with_parents(dir, 0755) < 0) {
		ret = -errno;
		*reterr = g_strdup_printf("status socket %s: cannot create %s: %s", path, dir,
					  strerror(-ret));
		return ret;
	}
	ret = clear_stale(path);
	if (ret < 0) {
		*reterr = g_strdup_printf(
			"status socket %s: %s", path,
			ret == -EADDRINUSE ? "another rts-runner answers on it" :
			ret == -EEXIST	   ? "exists and is not a socket" :
					     strerror(-ret));
		return ret;
	}
	s = g_new0(struct runner_status, 1);
	s->r = r;
	s->path = g_strdup(path);
	s->limits = (struct runner_status_limits){
		.max_clients = RUNNER_STATUS_MAX_CLIENTS,
		.timeout_ms = RUNNER_STATUS_TIMEOUT_MS,
	};
	g_queue_init(&s->clients);
	s->service = g_socket_service_new();
	addr = g_unix_socket_address_new(path);
	old = umask(0117); /* 0660 from the start: no window with a wider mode */
	if (!g_socket_listener_add_address(G_SOCKET_LISTENER(s->service), addr,
					   G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL,
					   NULL, &err)) {
		umask(old);
		*reterr = g_strdup_printf("status socket %s: %s", path, err->message);
		g_error_free(err);
		g_object_unref(addr);
		g_object_unref(s->service);
		g_free(s->path);
		g_free(s);
		return -EADDRNOTAVAIL;
	}
	umask(old);
	g_object_unref(addr);
	g_signal_connect(s->service, "incoming", G_CALLBACK(on_incoming), s);
	r->status = s;
	ret = runner_status_set_group(r, runner_config_get_status_group(r->config), reterr);
	if (ret < 0) {
		runner_status_stop(r);
		return ret;
	}
	g_socket_service_start(s->service);
	return 0;
}

void runner_status_stop(struct runner *r)
{
	struct runner_status *s = r->status;

	if (!s)
		return;
	while (!g_queue_is_empty(&s->clients))
		client_free(g_queue_peek_head(&s->clients));
	g_socket_service_stop(s->service);
	g_socket_listener_close(G_SOCKET_LISTENER(s->service));
	g_object_unref(s->service);
	unlink(s->path);
	g_free(s->path);
	g_free(s);
	r->status = NULL;
}
