/* SPDX-License-Identifier: LGPL-2.1-or-later */
/**
 * @file rts.h
 * @brief librts umbrella header: the LIO configfs object model.
 *
 * librts builds one in-memory tree of every LIO object (storage objects, ALUA groups,
 * fabrics, targets, TPGs, LUNs, portals, ACLs, mapped LUNs) from one walk of configfs and
 * keeps it in sync with the changes made through the library.
 *
 * Conventions shared by every header:
 * - functions returning int return 0 (or a count) on success and a negative errno on
 *   failure; they never set errno. After a failure rts_ctx_last_error() describes it.
 * - objects are opaque and owned by their struct rts_ctx; pointers stay valid until the
 *   object is deleted, rts_ctx_refresh() is called or the context is released.
 * - strings returned through `char **ret` are malloc()ed and owned by the caller.
 * - a context and its tree are single-threaded: use one context per thread.
 */
#ifndef RTS_RTS_H
#define RTS_RTS_H

#include <rts/ctx.h>
#include <rts/backend.h>
#include <rts/wwn.h>
#include <rts/storage.h>
#include <rts/fabric.h>

#endif
