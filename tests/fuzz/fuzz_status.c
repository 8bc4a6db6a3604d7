/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtsctl status: the rts-runner status socket reply is untrusted bytes (anything may listen
 * on the socket path). Invariant: a parsed document's strings are non-NULL and every device
 * has name, handler, state and cfgstring.
 */
#include <stdint.h>
#include <stdlib.h>

#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct status_doc d;
	char *err = NULL;

	if (status_parse((const char *)data, size, &d, &err) == 0) {
		if (err || !d.version || !d.mode)
			abort();
		for (size_t i = 0; i < d.ndevs; i++)
			if (!d.devs[i].name || !d.devs[i].handler || !d.devs[i].state ||
			    !d.devs[i].cfgstring)
				abort();
		status_doc_free(&d);
	} else if (!err) {
		/* every refusal names its reason, except allocation failure */
		abort();
	}
	free(err);
	return 0;
}
