/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Diagnostics of the saveconfig engine: ordered messages with a JSON or object path. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

void conf_report_init(struct conf_report *r)
{
	*r = (struct conf_report){ 0 };
}

void conf_report_free(struct conf_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].text);
	}
	free(r->v);
	*r = (struct conf_report){ 0 };
}

const char *conf_level_name(enum conf_level level)
{
	switch (level) {
	case CONF_OK:
		return "ok";
	case CONF_INFO:
		return "info";
	case CONF_WARN:
		return "warning";
	case CONF_ERR:
		return "error";
	}
	return "?";
}

void conf_report_add(struct conf_report *r, enum conf_level level, const char *path,
		     const char *fmt, ...)
{
	struct conf_msg m = { .level = level };
	va_list ap;

	if (!r)
		return;
	va_start(ap, fmt);
	if (vasprintf(&m.text, fmt, ap) < 0)
		m.text = NULL;
	va_end(ap);
	m.path = strdup(path ? path : "");
	if (level == CONF_ERR)
		r->n_err++;
	else if (level == CONF_WARN)
		r->n_warn++;
	else if (level == CONF_OK)
		r->n_ok++;
	if (r->sink && m.text)
		r->sink(r->userdata, &m);
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct conf_msg *v = realloc(r->v, cap * sizeof(*v));

		if (!v) {
			free(m.path);
			free(m.text);
			return;
		}
		r->v = v;
		r->cap = cap;
	}
	if (!m.text || !m.path) {
		free(m.path);
		free(m.text);
		return;
	}
	r->v[r->n++] = m;
}

void conf_report_print(const struct conf_report *r, FILE *f, enum conf_level min)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct conf_msg *m = &r->v[i];

		if (m->level < min)
			continue;
		if (*m->path)
			fprintf(f, "%s: %s: %s\n", conf_level_name(m->level), m->path, m->text);
		else
			fprintf(f, "%s: %s\n", conf_level_name(m->level), m->text);
	}
}

void pfmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vsnprintf(buf, size, fmt, ap) < 0 && size)
		buf[0] = '\0';
	va_end(ap);
}
