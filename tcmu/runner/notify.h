/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (a path, or an abstract
 * socket written "@name"). Used for Type=notify / notify-reload units:
 *   READY=1 once handlers are loaded and the D-Bus name is requested,
 *   RELOADING=1 + MONOTONIC_USEC=... at SIGHUP, then READY=1 again,
 *   STOPPING=1 at shutdown, STATUS=<text> whenever useful.
 */
#ifndef RTS_RUNNER_NOTIFY_H
#define RTS_RUNNER_NOTIFY_H

/*
 * Send @p state ("READY=1", "STATUS=serving 2 devices", several lines allowed).
 * Returns 1 if sent, 0 if $NOTIFY_SOCKET is unset or empty (not under systemd), or -errno
 * (-EAFNOSUPPORT: an address form we do not speak, e.g. vsock:; -EINVAL: name too long).
 */
int runner_notify(const char *state);
/* printf-style runner_notify(). */
int runner_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "RELOADING=1\nMONOTONIC_USEC=<now>" as Type=notify-reload (systemd 253) wants it. */
int runner_notify_reloading(void);

#endif
