/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rts-runner's D-Bus service (docs/dbus.md):
 *  - tcmu-runner's interface, wire-compatible so targetcli works unchanged: name
 *    org.kernel.TCMUService1, ObjectManager at /org/kernel/TCMUService1, one object per
 *    loaded handler at /org/kernel/TCMUService1/<subtype> with interface
 *    org.kernel.TCMUService1 (CheckConfig(s) -> (bs), property ConfigDesc s), and
 *    org.kernel.TCMUService1.HandlerManager1 at /org/kernel/TCMUService1/HandlerManager1
 *    (RegisterHandler answers false: out-of-process handlers are not supported);
 *  - our status interface org.rtslib.Runner1 at /org/rtslib/Runner1 (ListDevices,
 *    ListHandlers, Version, HandlerAbiVersion).
 *
 * Threads: everything runs on the control thread's GMainContext (the thread-default context
 * when runner_dbus_start() is called), which is also the only thread that changes
 * r->handlers and r->devs; method handlers therefore read them without locks.
 */
#ifndef RTS_RUNNER_DBUS_H
#define RTS_RUNNER_DBUS_H

#include <stdbool.h>

#include "runner.h"

#define RUNNER_DBUS_NAME "org.kernel.TCMUService1"

/*
 * Export the service. Call after runner_load_handlers() (handler objects are exported once,
 * from r->handlers) and before running the main loop.
 *
 * @p address NULL: the system bus, connected asynchronously; if there is none (or the name
 * is taken, e.g. by tcmu-runner) that is logged once and the runner goes on without D-Bus;
 * returns 0. The connection does not exit the process when the bus goes away.
 * @p address non-NULL (tests, `--dbus-address`): connect to that bus at once; returns
 * -ECONNREFUSED with *reterr set (g_free it) if that fails.
 */
int runner_dbus_start(struct runner *r, const char *address, char **reterr);
/* Release the name and unexport everything (NULL-tolerant, idempotent). */
void runner_dbus_stop(struct runner *r);
/* Whether we currently own RUNNER_DBUS_NAME. */
bool runner_dbus_owns_name(const struct runner *r);
/* Whether the bus connection attempt has finished (succeeded or failed). */
bool runner_dbus_settled(const struct runner *r);

#endif
