/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtsctl status: what the running rts-runner serves, read from its status socket (one
 * JSON document per connection, schema rts-runner-status/1, see docs/dbus.md). The reply
 * is untrusted input: status_parse() checks every field it uses (fuzz_status).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "rtsctl.h"
#include "status.h"

#define STATUS_MAX_BYTES (8u << 20)
#define STATUS_TIMEOUT_MS 5000

static __attribute__((format(printf, 2, 3))) int fail(char **err, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	*err = strdup(buf);
	return -EBADMSG;
}

static bool get_str(struct json_object *o, const char *k, const char **ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return false;
	*ret = json_object_get_string(v);
	return true;
}

static bool get_u64(struct json_object *o, const char *k, uint64_t *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	*ret = json_object_get_uint64(v);
	return errno == 0 && json_object_get_int64(v) >= 0;
}

void status_doc_free(struct status_doc *d)
{
	if (d->root)
		json_object_put(d->root);
	free(d->devs);
	*d = (struct status_doc){ 0 };
}

int status_parse(const char *buf, size_t len, struct status_doc *d, char **err)
{
	static const char *const counters[] = { "size",	   "block_size", "inflight",
						"cmds",	   "completions", "errors",
						"aborts" };
	struct json_tokener *tok = json_tokener_new();
	struct json_object *devs, *hs;
	const char *schema;

	*d = (struct status_doc){ 0 };
	*err = NULL;
	if (!tok)
		return -ENOMEM;
	d->root = json_tokener_parse_ex(tok, buf, (int)(len > INT32_MAX ? INT32_MAX : len));
	if (!d->root || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);
		const char *why = e == json_tokener_continue ? "truncated" :
							       json_tokener_error_desc(e);

		json_tokener_free(tok);
		status_doc_free(d);
		return fail(err, "not JSON (%s)", why);
	}
	json_tokener_free(tok);
	if (!json_object_is_type(d->root, json_type_object) ||
	    !get_str(d->root, "schema", &schema)) {
		status_doc_free(d);
		return fail(err, "no \"schema\" member");
	}
	if (strncmp(schema, STATUS_SCHEMA_PREFIX, strlen(STATUS_SCHEMA_PREFIX)) != 0) {
		int r = fail(err, "unknown schema '%.100s' (expected %s*)", schema,
			     STATUS_SCHEMA_PREFIX);

		status_doc_free(d);
		return r;
	}
	if (!get_str(d->root, "version", &d->version))
		d->version = "?";
	if (!get_str(d->root, "mode", &d->mode))
		d->mode = "?";
	if (!get_u64(d->root, "pid", &d->pid))
		d->pid = 0;
	if (json_object_object_get_ex(d->root, "handlers", &hs) &&
	    json_object_is_type(hs, json_type_array))
		d->handlers = hs;
	if (!json_object_object_get_ex(d->root, "devices", &devs) ||
	    !json_object_is_type(devs, json_type_array)) {
		status_doc_free(d);
		return fail(err, "no \"devices\" array");
	}
	d->ndevs = json_object_array_length(devs);
	d->devs = calloc(d->ndevs ? d->ndevs : 1, sizeof(*d->devs));
	if (!d->devs) {
		status_doc_free(d);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->ndevs; i++) {
		struct json_object *o = json_object_array_get_idx(devs, i);
		struct status_dev *sd = &d->devs[i];
		uint64_t *dst[] = { &sd->size,	       &sd->block_size, &sd->inflight, &sd->cmds,
				    &sd->completions, &sd->errors,     &sd->aborts };
		char idx[24];

		snprintf(idx, sizeof(idx), "%zu", i);
		if (!json_object_is_type(o, json_type_object) || !get_str(o, "name", &sd->name) ||
		    !get_str(o, "handler", &sd->handler) || !get_str(o, "state", &sd->state) ||
		    !get_str(o, "cfgstring", &sd->cfgstring)) {
			status_doc_free(d);
			return fail(err,
				    "device %s: needs string members name, handler, state, cfgstring",
				    idx);
		}
		for (size_t k = 0; k < sizeof(counters) / sizeof(counters[0]); k++)
			if (!get_u64(o, counters[k], dst[k])) {
				status_doc_free(d);
				return fail(err, "device %s: \"%s\" is not a non-negative integer",
					    idx, counters[k]);
			}
		if (!get_str(o, "failure", &sd->failure))
			sd->failure = NULL;
	}
	return 0;
}

/* Connect, read everything the runner sends (bounded in size and time). */
static int fetch(const char *path, char **ret, size_t *ret_len, char **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t cap = 64 * 1024, len = 0;
	char *buf = NULL;
	int fd, r = 0;
	struct timespec t0, t1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		*err = strdup("socket path too long");
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	buf = malloc(cap);
	while (buf) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = STATUS_TIMEOUT_MS - ((t1.tv_sec - t0.tv_sec) * 1000 +
					    (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			r = -ETIMEDOUT;
			break;
		}
		if (len == cap) {
			char *nb;

			if (cap >= STATUS_MAX_BYTES) {
				r = -EFBIG;
				break;
			}
			nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0) {
			*ret = buf;
			*ret_len = len;
			close(fd);
			return 0;
		}
		len += (size_t)n;
	}
	if (!buf || (!r && len == cap))
		r = -ENOMEM;
	free(buf);
	close(fd);
	return r;
}

static void human_size(uint64_t b, char *buf, size_t size)
{
	static const char *const u[] = { "B", "K", "M", "G", "T", "P" };
	unsigned int i = 0;
	double v = (double)b;

	while (v >= 1024 && i < 5) {
		v /= 1024;
		i++;
	}
	snprintf(buf, size, i ? "%.1f%s" : "%.0f%s", v, u[i]);
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	const char *path = c->socket ? c->socket : STATUS_SOCKET_DEFAULT;
	struct status_doc d;
	char *buf = NULL, *err = NULL;
	size_t len = 0;
	unsigned int failed = 0;
	int r;

	(void)argv;
	if (argc > 0) {
		errorf("status takes no arguments (see --socket)");
		return EXIT_USAGE;
	}
	r = fetch(path, &buf, &len, &err);
	if (r < 0) {
		if (r == -ENOENT || r == -ECONNREFUSED)
			errorf("%s: no rts-runner answers (%s); is it running?", path,
			       strerror(-r));
		else
			errorf("%s: cannot read the status: %s", path, err ? err : strerror(-r));
		free(err);
		return EXIT_FAIL;
	}
	r = status_parse(buf, len, &d, &err);
	free(buf);
	if (r < 0) {
		errorf("%s: invalid status reply: %s", path, err ? err : strerror(-r));
		free(err);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < d.ndevs; i++)
		failed += strcmp(d.devs[i].state, "running") != 0;
	if (c->json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "schema", json_object_new_string(RTSCTL_JSON_SCHEMA));
		json_object_object_add(o, "runner", json_object_get(d.root));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_SPACED |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("rts-runner %s, pid %llu, %s mode, %zu device(s), handlers:", d.version,
		       (unsigned long long)d.pid, d.mode, d.ndevs);
		for (size_t i = 0; d.handlers && i < json_object_array_length(d.handlers); i++) {
			const char *st = NULL;

			if (get_str(json_object_array_get_idx(d.handlers, i), "subtype", &st))
				printf(" %s", st);
		}
		putchar('\n');
		if (d.ndevs)
			printf("%-20s %-8s %-8s %8s %8s %12s %8s %8s  %s\n", "DEVICE", "HANDLER",
			       "STATE", "SIZE", "INFLIGHT", "CMDS", "ERRORS", "ABORTS", "CFGSTRING");
		for (size_t i = 0; i < d.ndevs; i++) {
			const struct status_dev *s = &d.devs[i];
			char sz[16];

			human_size(s->size, sz, sizeof(sz));
			printf("%-20s %-8s %-8s %8s %8llu %12llu %8llu %8llu  %s\n", s->name,
			       s->handler, s->state, sz, (unsigned long long)s->inflight,
			       (unsigned long long)s->cmds, (unsigned long long)s->errors,
			       (unsigned long long)s->aborts, s->cfgstring);
			if (s->failure)
				printf("%-20s failure: %s\n", "", s->failure);
		}
	}
	status_doc_free(&d);
	return failed ? EXIT_FAIL : EXIT_OK;
}
