/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The status socket: a Unix stream socket (default /run/rts/runner.sock) on which every
 * connection receives one JSON document describing the runner, its handlers and its
 * devices, then EOF. `rtsctl status` reads it. It needs no message bus, so it works in
 * containers and initramfs where D-Bus is absent; the same data is on D-Bus
 * (org.rtslib.Runner1.ListDevices) for tools that prefer that.
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
#include <sys/stat.h>
#include <unistd.h>

#include "status.h"

struct runner_status {
	GSocketService *service;
	char *path;
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

static gboolean on_incoming(GSocketService *svc, GSocketConnection *conn, GObject *src,
			    gpointer ud)
{
	struct runner *r = ud;
	g_autofree char *doc = runner_status_json(r);
	GOutputStream *os = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	GError *err = NULL;
	gsize done = 0;

	(void)svc;
	(void)src;
	/* small and local: a blocking write, bounded by the socket's send timeout */
	g_socket_set_timeout(g_socket_connection_get_socket(conn), 2);
	if (!g_output_stream_write_all(os, doc, strlen(doc), &done, NULL, &err) ||
	    !g_output_stream_write_all(os, "\n", 1, &done, NULL, &err)) {
		runner_log(r, RTS_LOG_DEBUG, "status socket: client went away: %s", err->message);
		g_error_free(err);
	}
	g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
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
	s->path = g_strdup(path);
	s->service = g_socket_service_new();
	addr = g_unix_socket_address_new(path);
	old = umask(0117); /* 0660: root and the admin group */
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
	g_signal_connect(s->service, "incoming", G_CALLBACK(on_incoming), r);
	g_socket_service_start(s->service);
	r->status = s;
	return 0;
}

void runner_status_stop(struct runner *r)
{
	struct runner_status *s = r->status;

	if (!s)
		return;
	g_socket_service_stop(s->service);
	g_socket_listener_close(G_SOCKET_LISTENER(s->service));
	g_object_unref(s->service);
	unlink(s->path);
	g_free(s->path);
	g_free(s);
	r->status = NULL;
}
