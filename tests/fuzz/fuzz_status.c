/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtsctl status: the rts-runner status socket reply is untrusted bytes (anything may listen
 * on the socket path). Invariant: a parsed document's strings are non-NULL, every device
 * has name, handler, state and cfgstring, latency histograms are ascending and bounded, and
 * an interval percentile is one of the histogram's bounds.
 */
#include <stdbool.h>
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
		for (size_t i = 0; i < d.ndevs; i++) {
			const struct status_dev *s = &d.devs[i];

			if (!s->name || !s->handler || !s->state || !s->cfgstring)
				abort();
			if (s->nhist > STATUS_HIST_MAX || (s->nhist && !s->hist))
				abort();
			for (size_t b = 1; b < s->nhist; b++)
				if (s->hist[b][0] <= s->hist[b - 1][0])
					abort();
			/* an interval percentile is 0 or one of the bucket bounds */
			uint64_t p = status_hist_percentile(s, i ? &d.devs[0] : NULL, 990);
			bool found = p == 0;
			for (size_t b = 0; b < s->nhist && !found; b++)
				found = s->hist[b][0] == p;
			if (!found)
				abort();
		}
		status_doc_free(&d);
	} else if (!err) {
		/* every refusal names its reason, except allocation failure */
		abort();
	}
	free(err);
	return 0;
}
