/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler plugin loader: dlopen(RTLD_NOW|RTLD_LOCAL), one entry symbol, ABI and size check,
 * then a zeroed runner-owned copy of the descriptor so fields the plugin does not know read
 * as NULL. The library is closed on every failure.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rts/device.h>

#include "macro.h"

/* rts_handler_entry(uint32_t) as a C++ compiler mangles it without extern "C" (Itanium ABI). */
#define RTS_HANDLER_ENTRY_SYMBOL_CXX "_Z17rts_handler_entryj"

struct rts_loaded_handler {
	void *dl;
	char *path;
	struct rts_handler h; /* runner-owned copy */
};

_printf_(2, 3) static void set_reason(char **reterr, const char *fmt, ...)
{
	va_list ap;

	if (!reterr)
		return;
	va_start(ap, fmt);
	if (vasprintf(reterr, fmt, ap) < 0)
		*reterr = NULL;
	va_end(ap);
}

RTS_EXPORT struct rts_loaded_handler *rts_handler_unload(struct rts_loaded_handler *lh)
{
	if (!lh)
		return NULL;
	if (lh->dl)
		dlclose(lh->dl);
	free(lh->path);
	free(lh);
	return NULL;
}

RTS_EXPORT int rts_handler_load(const char *path, struct rts_loaded_handler **ret,
				char **reterr_reason)
{
	struct rts_loaded_handler *lh;
	rts_handler_entry_fn entry;
	const struct rts_handler *h;
	void *dl;

	assert_return(path && ret, -EINVAL);
	if (access(path, R_OK) < 0) {
		int err = errno;
		set_reason(reterr_reason, "handler '%s': %s", path, strerror(err));
		return -err;
	}
	dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		set_reason(reterr_reason, "handler '%s' cannot be loaded: %s", path, dlerror());
		return -ENOEXEC;
	}
	*(void **)(&entry) = dlsym(dl, RTS_HANDLER_ENTRY_SYMBOL);
	if (!entry) {
		if (dlsym(dl, RTS_HANDLER_ENTRY_SYMBOL_CXX))
			set_reason(reterr_reason,
				   "handler '%s' exports %s() only with C++ linkage (mangled %s): "
				   "build it against an SDK whose RTS_HANDLER_DEFINE() declares it "
				   "extern \"C\" (rebuild it with this SDK)",
				   path, RTS_HANDLER_ENTRY_SYMBOL, RTS_HANDLER_ENTRY_SYMBOL_CXX);
		else
			set_reason(reterr_reason,
				   "handler '%s' does not export %s() (not an rtslib-c handler?)",
				   path, RTS_HANDLER_ENTRY_SYMBOL);
		dlclose(dl);
		return -ENOEXEC;
	}
	h = entry(RTS_HANDLER_ABI_VERSION);
	if (!h) {
		set_reason(reterr_reason, "handler '%s' returned no descriptor", path);
		dlclose(dl);
		return -EINVAL;
	}
	if (h->abi_version != RTS_HANDLER_ABI_VERSION) {
		set_reason(reterr_reason,
			   "handler '%s' was built for handler ABI %u, this runner speaks ABI %u: rebuild it against this rts-handler",
			   path, h->abi_version, RTS_HANDLER_ABI_VERSION);
		dlclose(dl);
		return -EPROTO;
	}
	if (h->struct_size < RTS_HANDLER_SIZE_V1) {
		set_reason(reterr_reason, "handler '%s' descriptor is %u bytes, ABI %u needs at least %zu",
			   path, h->struct_size, RTS_HANDLER_ABI_VERSION, (size_t)RTS_HANDLER_SIZE_V1);
		dlclose(dl);
		return -EPROTO;
	}
	lh = calloc(1, sizeof(*lh));
	if (!lh || !(lh->path = strdup(path))) {
		free(lh);
		dlclose(dl);
		return -ENOMEM;
	}
	lh->dl = dl;
	memcpy(&lh->h, h, MIN((size_t)h->struct_size, sizeof(lh->h)));
	lh->h.struct_size = sizeof(lh->h);
	if (lh->h.reserved_zero) {
		/* kept zero so a later ABI minor can give it a meaning */
		set_reason(reterr_reason, "handler '%s' sets reserved_zero (%u): built for a newer ABI?",
			   path, lh->h.reserved_zero);
		rts_handler_unload(lh);
		return -EPROTO;
	}
	if (!lh->h.name || !lh->h.subtype || !*lh->h.subtype || strchr(lh->h.subtype, '/') ||
	    !lh->h.open || !lh->h.read) {
		set_reason(reterr_reason,
			   "handler '%s' descriptor lacks a required field (name, subtype without '/', open, read)",
			   path);
		rts_handler_unload(lh);
		return -EINVAL;
	}
	*ret = lh;
	return 0;
}

RTS_EXPORT const struct rts_handler *rts_loaded_handler_get(const struct rts_loaded_handler *lh)
{
	return &lh->h;
}

RTS_EXPORT const char *rts_loaded_handler_get_path(const struct rts_loaded_handler *lh)
{
	return lh->path;
}
