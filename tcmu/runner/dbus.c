/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rts-runner D-Bus service: tcmu-runner's org.kernel.TCMUService1 (what targetcli uses to
 * list user:<subtype> backstores and to validate cfgstrings), plus org.rtslib.Runner1.
 *
 * Wire compatibility with tcmu-runner (open-iscsi/tcmu-runner main.c, tcmu-handler.xml):
 *  - handler objects are exported through a GDBusObjectManagerServer at
 *    /org/kernel/TCMUService1, each carrying only org.kernel.TCMUService1, so
 *    GetManagedObjects() returns { "/org/kernel/TCMUService1/<subtype>":
 *    { "org.kernel.TCMUService1": { "ConfigDesc": <s> } } } exactly as targetcli's
 *    UIBackstores._user_backstores() expects;
 *  - HandlerManager1 is exported on the connection directly (not through the manager), so
 *    it never shows up as a fake "user:HandlerManager1" backstore;
 *  - CheckConfig gets the full cfgstring "<subtype>/<config>" (targetcli passes
 *    handler + "/" + cfgstring and tcmu-runner hands it to the handler unchanged); our
 *    handlers' check_config takes the part after "<subtype>/", so we strip that prefix.
 *    Valid: (true, "success"), as tcmu-runner; invalid: (false, reason).
 *
 * No GObject code generator: one small GDBusInterfaceSkeleton subclass carries a handler.
 */
#include <errno.h>
#include <gio/gio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfgstring.h"
#include "dbus.h"

#ifndef RTS_VERSION
#define RTS_VERSION "0"
#endif

#define TCMU_PATH     "/org/kernel/TCMUService1"
#define TCMU_IFACE    "org.kernel.TCMUService1"
#define HM_PATH	      TCMU_PATH "/HandlerManager1"
#define HM_IFACE      TCMU_IFACE ".HandlerManager1"
#define RUNNER_PATH   "/org/rtslib/Runner1"
#define RUNNER_IFACE  "org.rtslib.Runner1"
#define DEVICE_TUPLE  "(ssssstuutttt)"
#define HANDLER_TUPLE "(ssss)"

/* tcmu-runner's tcmu-handler.xml, verbatim in names and signatures, plus our interface. */
static const char introspection_xml[] =
	"<node>"
	" <interface name='" TCMU_IFACE "'>"
	"  <property name='ConfigDesc' type='s' access='read'/>"
	"  <method name='CheckConfig'>"
	"   <arg type='s' name='configstr' direction='in'/>"
	"   <arg type='b' name='is_valid' direction='out'/>"
	"   <arg type='s' name='message' direction='out'/>"
	"  </method>"
	" </interface>"
	" <interface name='" HM_IFACE "'>"
	"  <method name='RegisterHandler'>"
	"   <arg type='s' name='subtype' direction='in'/>"
	"   <arg type='s' name='cfgstr_desc' direction='in'/>"
	"   <arg type='b' name='succeeded' direction='out'/>"
	"   <arg type='s' name='message' direction='out'/>"
	"  </method>"
	" </interface>"
	" <interface name='" RUNNER_IFACE "'>"
	"  <property name='Version' type='s' access='read'/>"
	"  <property name='HandlerAbiVersion' type='u' access='read'/>"
	"  <method name='ListDevices'>"
	"   <arg type='a" DEVICE_TUPLE "' name='devices' direction='out'/>"
	"  </method>"
	"  <method name='ListHandlers'>"
	"   <arg type='a" HANDLER_TUPLE "' name='handlers' direction='out'/>"
	"  </method>"
	" </interface>"
	"</node>";

struct runner_dbus {
	struct runner *r; /* NULL once orphaned by runner_dbus_stop() */
	GDBusNodeInfo *node;
	GDBusConnection *conn;
	bool private_conn; /* ours to close (address mode) */
	GCancellable *cancel; /* pending system bus connection */
	bool pending; /* g_bus_get() not finished: the callback frees an orphan */
	bool settled;
	bool owns_name;
	bool warned; /* "continuing without D-Bus" logged once */
	GDBusObjectManagerServer *manager;
	guint hm_id, runner_id, own_id;
	gulong closed_id;
};

/* ------------------------------------------------ handler objects (org.kernel.TCMUService1) */

#define RUNNER_TYPE_HANDLER_IFACE (runner_handler_iface_get_type())
G_DECLARE_FINAL_TYPE(RunnerHandlerIface, runner_handler_iface, RUNNER, HANDLER_IFACE,
		     GDBusInterfaceSkeleton)

struct _RunnerHandlerIface {
	GDBusInterfaceSkeleton parent_instance;
	GDBusInterfaceInfo *info; /* owned by runner_dbus.node */
	const struct rts_handler *h; /* runner-owned; valid until runner_unload_handlers() */
};

G_DEFINE_TYPE(RunnerHandlerIface, runner_handler_iface, G_TYPE_DBUS_INTERFACE_SKELETON)

static GVariant *check_config(const struct rts_handler *h, const char *cfgstring)
{
	struct cfgstring_parts parts = cfgstring_split(cfgstring);
	char *reason = NULL;
	GVariant *v;
	int ret;

	if (!cfgstring_subtype_is(&parts, h->subtype) || !parts.has_handler) {
		char *msg = g_strdup_printf("cfgstring '%s' does not start with '%s/'", cfgstring,
					    h->subtype);
		v = g_variant_new("(bs)", FALSE, msg);
		g_free(msg);
		return v;
	}
	if (!h->check_config)
		return g_variant_new("(bs)", TRUE, "success");
	ret = h->check_config(parts.handler, &reason);
	if (ret == 0)
		v = g_variant_new("(bs)", TRUE, "success");
	else
		v = g_variant_new("(bs)", FALSE,
				  reason ? reason : g_strerror(ret < 0 ? -ret : EINVAL));
	free(reason);
	return v;
}

static void handler_method_call(GDBusConnection *conn, const char *sender, const char *path,
				const char *iface, const char *method, GVariant *params,
				GDBusMethodInvocation *inv, gpointer user_data)
{
	RunnerHandlerIface *self = user_data;
	const char *cfgstring;

	(void)conn, (void)sender, (void)path, (void)iface;
	if (strcmp(method, "CheckConfig") != 0) {
		g_dbus_method_invocation_return_error(
			inv, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD, "no method %s", method);
		return;
	}
	g_variant_get(params, "(&s)", &cfgstring);
	g_dbus_method_invocation_return_value(inv, check_config(self->h, cfgstring));
}

static GVariant *config_desc(const RunnerHandlerIface *self)
{
	return g_variant_new_string(self->h->cfg_desc ? self->h->cfg_desc : "");
}

static GVariant *handler_get_property(GDBusConnection *conn, const char *sender, const char *path,
				      const char *iface, const char *prop, GError **error,
				      gpointer user_data)
{
	(void)conn, (void)sender, (void)path, (void)iface;
	if (strcmp(prop, "ConfigDesc") == 0)
		return config_desc(user_data);
	g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", prop);
	return NULL;
}

static GDBusInterfaceVTable handler_vtable = {
	.method_call = handler_method_call,
	.get_property = handler_get_property,
};

static GDBusInterfaceInfo *handler_iface_get_info(GDBusInterfaceSkeleton *skel)
{
	return RUNNER_HANDLER_IFACE(skel)->info;
}

static GDBusInterfaceVTable *handler_iface_get_vtable(GDBusInterfaceSkeleton *skel)
{
	(void)skel;
	return &handler_vtable;
}

static GVariant *handler_iface_get_properties(GDBusInterfaceSkeleton *skel)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a{sv}"));
	g_variant_builder_add(&b, "{sv}", "ConfigDesc", config_desc(RUNNER_HANDLER_IFACE(skel)));
	return g_variant_builder_end(&b);
}

static void handler_iface_flush(GDBusInterfaceSkeleton *skel)
{
	(void)skel; /* properties never change */
}

static void runner_handler_iface_class_init(RunnerHandlerIfaceClass *klass)
{
	GDBusInterfaceSkeletonClass *sk = G_DBUS_INTERFACE_SKELETON_CLASS(klass);

	sk->get_info = handler_iface_get_info;
	sk->get_vtable = handler_iface_get_vtable;
	sk->get_properties = handler_iface_get_properties;
	sk->flush = handler_iface_flush;
}

static void runner_handler_iface_init(RunnerHandlerIface *self)
{
	(void)self;
}

/* ------------------------------------------------ HandlerManager1 */

/*
 * Methods that would change the runner's state are for root only: the bus, not the caller,
 * says who is calling (org.freedesktop.DBus.GetConnectionUnixUser of the sender). The system
 * bus policy (rts-runner-dbus.conf) already keeps others from sending them; this holds with
 * any policy, e.g. tcmu-runner's, which lets everyone call everything. Everything else on
 * both interfaces only reads state or validates a string.
 */
typedef void (*privileged_fn)(GDBusMethodInvocation *inv);

struct privileged_call {
	GDBusMethodInvocation *inv;
	privileged_fn then;
};

static void on_caller_uid(GObject *src, GAsyncResult *res, gpointer ud)
{
	struct privileged_call *pc = ud;
	GVariant *v = g_dbus_connection_call_finish(G_DBUS_CONNECTION(src), res, NULL);
	guint32 uid = UINT32_MAX;

	if (v) {
		g_variant_get(v, "(u)", &uid);
		g_variant_unref(v);
	}
	if (uid == 0)
		pc->then(pc->inv);
	else
		g_dbus_method_invocation_return_dbus_error(
			pc->inv, "org.freedesktop.DBus.Error.AccessDenied",
			uid == UINT32_MAX ?
				"this method changes the runner's state: root only (the caller's "
				"uid is unknown)" :
				"this method changes the runner's state: root only");
	g_object_unref(pc->inv);
	g_free(pc);
}

static void run_privileged(GDBusConnection *conn, const char *sender, GDBusMethodInvocation *inv,
			   privileged_fn then)
{
	struct privileged_call *pc;

	if (!sender) { /* not through a bus: nobody to ask */
		g_dbus_method_invocation_return_dbus_error(
			inv, "org.freedesktop.DBus.Error.AccessDenied",
			"this method changes the runner's state: root only (no bus to identify the "
			"caller)");
		return;
	}
	pc = g_new0(struct privileged_call, 1);
	pc->inv = g_object_ref(inv);
	pc->then = then;
	g_dbus_connection_call(conn, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "GetConnectionUnixUser",
			       g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
			       G_DBUS_CALL_FLAGS_NONE, 5000, NULL, on_caller_uid, pc);
}

static void register_handler_reply(GDBusMethodInvocation *inv)
{
	g_dbus_method_invocation_return_value(
		inv, g_variant_new("(bs)", FALSE,
				   "rts-runner does not support out-of-process (D-Bus) handlers; "
				   "install a handler_<subtype>.so plugin in its handler directory "
				   "instead"));
}

static void hm_method_call(GDBusConnection *conn, const char *sender, const char *path,
			   const char *iface, const char *method, GVariant *params,
			   GDBusMethodInvocation *inv, gpointer user_data)
{
	struct runner_dbus *d = user_data;
	const char *subtype, *desc;

	(void)path, (void)iface, (void)method;
	g_variant_get(params, "(&s&s)", &subtype, &desc);
	if (d->r)
		runner_log(d->r, RTS_LOG_NOTICE,
			   "D-Bus: refused RegisterHandler('%s') from %s: out-of-process handlers "
			   "are not supported",
			   subtype, sender ? sender : "?");
	/* RegisterHandler would add a handler: privileged, even though we refuse it anyway */
	run_privileged(conn, sender, inv, register_handler_reply);
}

static GDBusInterfaceVTable hm_vtable = { .method_call = hm_method_call };

/* ------------------------------------------------ org.rtslib.Runner1 */

static GVariant *list_devices(const struct runner *r)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a" DEVICE_TUPLE));
	for (unsigned int i = 0; i < r->ndevs; i++) {
		const struct runner_dev *rd = &r->devs[i];
		const struct rts_handler *h;
		const char *failure;
		struct rts_dev_stats st = { .struct_size = sizeof(st) };
		char *cfg;

		if (!rd->dev)
			continue;
		h = rts_dev_get_handler(rd->dev);
		failure = rts_dev_get_failure(rd->dev);
		rts_dev_get_stats(rd->dev, &st);
		cfg = runner_dev_full_cfgstring(rd);
		g_variant_builder_add(&b, DEVICE_TUPLE,
				      rd->name ? rd->name : rts_dev_get_name(rd->dev), cfg,
				      h ? h->subtype : "", failure ? "failed" : "running",
				      failure ? failure : "", (guint64)rts_dev_get_size(rd->dev),
				      (guint32)rts_dev_get_block_size(rd->dev),
				      (guint32)st.inflight, (guint64)st.cmds,
				      (guint64)st.completions, (guint64)st.errors,
				      (guint64)st.aborts);
		g_free(cfg);
	}
	return g_variant_builder_end(&b);
}

static GVariant *list_handlers(const struct runner *r)
{
	GVariantBuilder b;

	g_variant_builder_init(&b, G_VARIANT_TYPE("a" HANDLER_TUPLE));
	for (unsigned int i = 0; i < r->nhandlers; i++) {
		const struct rts_handler *h = rts_loaded_handler_get(r->handlers[i]);
		g_variant_builder_add(&b, HANDLER_TUPLE, h->subtype, h->name ? h->name : "",
				      h->cfg_desc ? h->cfg_desc : "",
				      rts_loaded_handler_get_path(r->handlers[i]));
	}
	return g_variant_builder_end(&b);
}

static void runner_method_call(GDBusConnection *conn, const char *sender, const char *path,
			       const char *iface, const char *method, GVariant *params,
			       GDBusMethodInvocation *inv, gpointer user_data)
{
	struct runner_dbus *d = user_data;
	GVariant *v;

	(void)conn, (void)sender, (void)path, (void)iface, (void)params;
	if (strcmp(method, "ListDevices") == 0)
		v = list_devices(d->r);
	else
		v = list_handlers(d->r);
	g_dbus_method_invocation_return_value(inv, g_variant_new_tuple(&v, 1));
}

static GVariant *runner_get_property(GDBusConnection *conn, const char *sender, const char *path,
				     const char *iface, const char *prop, GError **error,
				     gpointer user_data)
{
	(void)conn, (void)sender, (void)path, (void)iface, (void)user_data;
	if (strcmp(prop, "Version") == 0)
		return g_variant_new_string(RTS_VERSION);
	if (strcmp(prop, "HandlerAbiVersion") == 0)
		return g_variant_new_uint32(RTS_HANDLER_ABI_VERSION);
	g_set_error(error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_PROPERTY, "no property %s", prop);
	return NULL;
}

static GDBusInterfaceVTable runner_vtable = {
	.method_call = runner_method_call,
	.get_property = runner_get_property,
};

/* ------------------------------------------------ connection and name */

static void without_dbus(struct runner_dbus *d, const char *why)
{
	if (d->warned || !d->r)
		return;
	d->warned = true;
	runner_log(d->r, RTS_LOG_WARNING,
		   "D-Bus: %s; continuing without it (targetcli cannot list user: handlers or "
		   "check cfgstrings)",
		   why);
}

static void on_name_acquired(GDBusConnection *conn, const char *name, gpointer data)
{
	struct runner_dbus *d = data;

	(void)conn;
	d->owns_name = true;
	runner_log(d->r, RTS_LOG_INFO, "D-Bus: own %s", name);
}

static void on_name_lost(GDBusConnection *conn, const char *name, gpointer data)
{
	struct runner_dbus *d = data;
	bool had = d->owns_name;

	(void)conn;
	d->owns_name = false;
	if (had)
		runner_log(d->r, RTS_LOG_WARNING, "D-Bus: lost the name %s", name);
	else
		runner_log(d->r, RTS_LOG_WARNING,
			   "D-Bus: %s is owned by another process (tcmu-runner?); queued for it, "
			   "targetcli talks to the other owner until then",
			   name);
}

static void on_closed(GDBusConnection *conn, gboolean remote_peer_vanished, GError *err,
		      gpointer data)
{
	struct runner_dbus *d = data;

	(void)conn, (void)remote_peer_vanished;
	d->owns_name = false;
	d->warned = false;
	without_dbus(d, err ? err->message : "connection closed");
}

static void export_handlers(struct runner_dbus *d)
{
	GDBusInterfaceInfo *info = g_dbus_node_info_lookup_interface(d->node, TCMU_IFACE);
	struct runner *r = d->r;

	d->manager = g_dbus_object_manager_server_new(TCMU_PATH);
	for (unsigned int i = 0; i < r->nhandlers; i++) {
		const struct rts_handler *h = rts_loaded_handler_get(r->handlers[i]);
		char *path = g_strdup_printf(TCMU_PATH "/%s", h->subtype);

		if (!g_variant_is_object_path(path) || strcmp(h->subtype, "HandlerManager1") == 0) {
			runner_log(r, RTS_LOG_WARNING,
				   "D-Bus: handler subtype '%s' cannot be a D-Bus object name "
				   "([A-Za-z0-9_] only); not exported",
				   h->subtype);
			g_free(path);
			continue;
		}
		GDBusObjectSkeleton *obj = g_dbus_object_skeleton_new(path);
		RunnerHandlerIface *iface = g_object_new(RUNNER_TYPE_HANDLER_IFACE, NULL);

		iface->info = info;
		iface->h = h;
		g_dbus_object_skeleton_add_interface(obj, G_DBUS_INTERFACE_SKELETON(iface));
		g_dbus_object_manager_server_export(d->manager, obj);
		g_object_unref(iface);
		g_object_unref(obj);
		g_free(path);
	}
}

static int export_all(struct runner_dbus *d, char **reterr)
{
	GError *err = NULL;

	export_handlers(d);
	g_dbus_object_manager_server_set_connection(d->manager, d->conn);
	d->hm_id = g_dbus_connection_register_object(
		d->conn, HM_PATH, g_dbus_node_info_lookup_interface(d->node, HM_IFACE), &hm_vtable,
		d, NULL, &err);
	if (d->hm_id)
		d->runner_id = g_dbus_connection_register_object(
			d->conn, RUNNER_PATH,
			g_dbus_node_info_lookup_interface(d->node, RUNNER_IFACE), &runner_vtable, d,
			NULL, &err);
	if (!d->runner_id) {
		if (reterr)
			*reterr = g_strdup_printf("cannot export D-Bus objects: %s", err->message);
		g_error_free(err);
		return -EEXIST;
	}
	d->closed_id = g_signal_connect(d->conn, "closed", G_CALLBACK(on_closed), d);
	d->own_id = g_bus_own_name_on_connection(d->conn, RUNNER_DBUS_NAME,
						 G_BUS_NAME_OWNER_FLAGS_NONE, on_name_acquired,
						 on_name_lost, d, NULL);
	return 0;
}

static void teardown(struct runner_dbus *d)
{
	if (d->own_id)
		g_bus_unown_name(d->own_id);
	if (d->conn) {
		if (d->closed_id)
			g_signal_handler_disconnect(d->conn, d->closed_id);
		if (d->runner_id)
			g_dbus_connection_unregister_object(d->conn, d->runner_id);
		if (d->hm_id)
			g_dbus_connection_unregister_object(d->conn, d->hm_id);
		if (d->manager)
			g_dbus_object_manager_server_set_connection(d->manager, NULL);
		if (d->private_conn)
			g_dbus_connection_close_sync(d->conn, NULL, NULL);
		g_object_unref(d->conn);
	}
	g_clear_object(&d->manager);
	g_clear_object(&d->cancel);
	g_dbus_node_info_unref(d->node);
	g_free(d);
}

static void on_system_bus(GObject *src, GAsyncResult *res, gpointer data)
{
	struct runner_dbus *d = data;
	GError *err = NULL;

	(void)src;
	d->pending = false;
	d->conn = g_bus_get_finish(res, &err);
	if (!d->r) { /* runner_dbus_stop() ran meanwhile */
		if (err)
			g_error_free(err);
		teardown(d);
		return;
	}
	d->settled = true;
	if (!d->conn) {
		char *why = g_strdup_printf("no system bus (%s)", err->message);
		without_dbus(d, why);
		g_free(why);
		g_error_free(err);
		return;
	}
	/* A storage daemon must not die with the message bus (GLib's default for g_bus_get). */
	g_dbus_connection_set_exit_on_close(d->conn, FALSE);
	char *why = NULL;
	if (export_all(d, &why) < 0) {
		without_dbus(d, why);
		g_free(why);
	}
}

int runner_dbus_start(struct runner *r, const char *address, char **reterr)
{
	struct runner_dbus *d;
	GError *err = NULL;
	int ret;

	if (r->dbus)
		return -EALREADY;
	d = g_new0(struct runner_dbus, 1);
	d->r = r;
	d->node = g_dbus_node_info_new_for_xml(introspection_xml, NULL);
	g_assert(d->node);
	if (!address) {
		d->cancel = g_cancellable_new();
		d->pending = true;
		r->dbus = d;
		g_bus_get(G_BUS_TYPE_SYSTEM, d->cancel, on_system_bus, d);
		return 0;
	}
	d->conn = g_dbus_connection_new_for_address_sync(
		address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL, NULL, &err);
	if (!d->conn) {
		if (reterr)
			*reterr = g_strdup_printf("cannot connect to D-Bus at '%s': %s", address,
						  err->message);
		g_error_free(err);
		teardown(d);
		return -ECONNREFUSED;
	}
	d->private_conn = true;
	d->settled = true;
	ret = export_all(d, reterr);
	if (ret < 0) {
		teardown(d);
		return ret;
	}
	r->dbus = d;
	return 0;
}

void runner_dbus_stop(struct runner *r)
{
	struct runner_dbus *d = r->dbus;

	if (!d)
		return;
	r->dbus = NULL;
	if (d->pending) {
		/* on_system_bus() still runs once (cancelled or not) and frees d then. */
		d->r = NULL;
		g_cancellable_cancel(d->cancel);
		return;
	}
	teardown(d);
}

bool runner_dbus_owns_name(const struct runner *r)
{
	return r->dbus && r->dbus->owns_name;
}

bool runner_dbus_settled(const struct runner *r)
{
	return r->dbus && r->dbus->settled;
}
