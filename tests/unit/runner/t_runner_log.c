/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "runner.h"
#include "t_runner_log.h"

struct t_msg {
	int prio;
	char *text;
};

static GArray *msgs;

static void clear_msg(gpointer p)
{
	g_free(((struct t_msg *)p)->text);
}

void t_log_clear(void)
{
	if (msgs)
		g_array_set_size(msgs, 0);
}

bool t_log_has(int prio, const char *needle)
{
	for (guint i = 0; msgs && i < msgs->len; i++) {
		const struct t_msg *m = &g_array_index(msgs, struct t_msg, i);
		if ((prio < 0 || m->prio == prio) && strstr(m->text, needle))
			return true;
	}
	return false;
}

unsigned int t_log_count(void)
{
	return msgs ? msgs->len : 0;
}

void runner_log_sink(void *userdata, int prio, const char *dev, const char *msg)
{
	struct t_msg m = { .prio = prio, .text = g_strdup(msg) };

	if (!msgs) {
		msgs = g_array_new(FALSE, FALSE, sizeof(struct t_msg));
		g_array_set_clear_func(msgs, clear_msg);
	}
	g_array_append_val(msgs, m);
	runner_log_emit(userdata, prio, dev, msg);
}

void runner_log(const struct runner *r, int prio, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	runner_log_sink((void *)r, prio, NULL, msg);
	g_free(msg);
}
