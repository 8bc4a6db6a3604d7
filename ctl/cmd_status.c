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
	for (size_t i = 0; d->devs && i < d->ndevs; i++)
		free(d->devs[i].hist);
	free(d->devs);
	*d = (struct status_doc){ 0 };
}

/*
 * The optional I/O members of a device: all counters or none (has_io), and "lat_hist" as an
 * array of [upper ns, count] pairs with strictly ascending bounds. Returns NULL or what is
 * wrong.
 */
static const char *parse_io(struct json_object *o, struct status_dev *sd)
{
	static const char *const keys[] = { "read_cmds",  "write_cmds", "read_bytes",
					    "write_bytes", "lat_p50_ns", "lat_p99_ns",
					    "lat_p999_ns" };
	uint64_t *dst[] = { &sd->read_cmds,  &sd->write_cmds, &sd->read_bytes, &sd->write_bytes,
			    &sd->lat_p50_ns, &sd->lat_p99_ns, &sd->lat_p999_ns };
	struct json_object *h;
	size_t n;

	if (!json_object_object_get_ex(o, "read_cmds", NULL))
		return NULL; /* an older runner: no I/O statistics */
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!get_u64(o, keys[k], dst[k]))
			return "an I/O counter (read_cmds ... lat_p999_ns) is not a non-negative integer";
	sd->has_io = true;
	if (!json_object_object_get_ex(o, "lat_hist", &h))
		return NULL;
	if (!json_object_is_type(h, json_type_array))
		return "\"lat_hist\" is not an array";
	n = json_object_array_length(h);
	if (n > STATUS_HIST_MAX)
		return "\"lat_hist\" has too many buckets";
	if (!n)
		return NULL;
	sd->hist = calloc(n, sizeof(*sd->hist));
	if (!sd->hist)
		return "out of memory";
	for (size_t i = 0; i < n; i++) {
		struct json_object *pair = json_object_array_get_idx(h, i);

		for (int k = 0; k < 2; k++) {
			struct json_object *v;

			if (!json_object_is_type(pair, json_type_array) ||
			    json_object_array_length(pair) != 2)
				return "\"lat_hist\" entries must be [upper_ns, count]";
			v = json_object_array_get_idx(pair, (size_t)k);
			if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
				return "\"lat_hist\" entries must be non-negative integers";
			errno = 0;
			sd->hist[i][k] = json_object_get_uint64(v);
			if (errno)
				return "\"lat_hist\" entries must be non-negative integers";
		}
		if (i && sd->hist[i][0] <= sd->hist[i - 1][0])
			return "\"lat_hist\" bounds are not ascending";
	}
	sd->nhist = n;
	return NULL;
}

uint64_t status_hist_percentile(const struct status_dev *cur, const struct status_dev *prev,
				unsigned int permille)
{
	uint64_t total = 0, want, seen = 0;
	size_t j;

	/* deltas by bucket bound; a bound missing from prev had no commands then */
	for (int pass = 0; pass < 2; pass++) {
		j = 0;
		for (size_t i = 0; i < cur->nhist; i++) {
			uint64_t c = cur->hist[i][1], p = 0, d;

			while (prev && j < prev->nhist && prev->hist[j][0] < cur->hist[i][0])
				j++;
			if (prev && j < prev->nhist && prev->hist[j][0] == cur->hist[i][0])
				p = prev->hist[j][1];
			d = c > p ? c - p : 0;
			if (pass == 0) {
				total += d;
				continue;
			}
			seen += d;
			if (seen >= want)
				return cur->hist[i][0];
		}
		if (pass == 0) {
			if (!total)
				return 0;
			want = (total * permille + 999) / 1000;
			if (!want)
				want = 1;
		}
	}
	return cur->nhist ? cur->hist[cur->nhist - 1][0] : 0;
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
		const char *why = parse_io(o, sd);
		if (why) {
			int r = fail(err, "device %s: %s", idx, why);

			status_doc_free(d);
			return r;
		}
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

/* A latency in ns as a short human string: "850ns", "12.3us", "4.1ms", "2.0s"; "-" for 0. */
static void human_lat(uint64_t ns, char *buf, size_t size)
{
	if (!ns)
		snprintf(buf, size, "-");
	else if (ns < 1000)
		snprintf(buf, size, "%lluns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, size, "%.1fs", (double)ns / 1e9);
}

static int get_doc(const char *path, struct status_doc *d)
{
	char *buf = NULL, *err = NULL;
	size_t len = 0;
	int r;

	r = fetch(path, &buf, &len, &err);
	if (r < 0) {
		if (r == -ENOENT || r == -ECONNREFUSED)
			errorf("%s: no rts-runner answers (%s); is it running?", path,
			       strerror(-r));
		else
			errorf("%s: cannot read the status: %s", path, err ? err : strerror(-r));
		free(err);
		return r;
	}
	r = status_parse(buf, len, d, &err);
	free(buf);
	if (r < 0) {
		errorf("%s: invalid status reply: %s", path, err ? err : strerror(-r));
		free(err);
	}
	return r;
}

static void print_summary(const struct status_doc *d)
{
	printf("rts-runner %s, pid %llu, %s mode, %zu device(s), handlers:", d->version,
	       (unsigned long long)d->pid, d->mode, d->ndevs);
	for (size_t i = 0; d->handlers && i < json_object_array_length(d->handlers); i++) {
		const char *st = NULL;

		if (get_str(json_object_array_get_idx(d->handlers, i), "subtype", &st))
			printf(" %s", st);
	}
	putchar('\n');
}

static void print_devices(const struct status_doc *d)
{
	if (d->ndevs)
		printf("%-20s %-8s %-8s %8s %8s %12s %8s %8s %8s %8s %8s  %s\n", "DEVICE", "HANDLER",
		       "STATE", "SIZE", "INFLIGHT", "CMDS", "ERRORS", "ABORTS", "P50", "P99", "P99.9",
		       "CFGSTRING");
	for (size_t i = 0; i < d->ndevs; i++) {
		const struct status_dev *s = &d->devs[i];
		char sz[16], p50[16], p99[16], p999[16];

		human_size(s->size, sz, sizeof(sz));
		human_lat(s->lat_p50_ns, p50, sizeof(p50));
		human_lat(s->lat_p99_ns, p99, sizeof(p99));
		human_lat(s->lat_p999_ns, p999, sizeof(p999));
		printf("%-20s %-8s %-8s %8s %8llu %12llu %8llu %8llu %8s %8s %8s  %s\n", s->name,
		       s->handler, s->state, sz, (unsigned long long)s->inflight,
		       (unsigned long long)s->cmds, (unsigned long long)s->errors,
		       (unsigned long long)s->aborts, p50, p99, p999, s->cfgstring);
		if (s->failure)
			printf("%-20s failure: %s\n", "", s->failure);
	}
}

static const struct status_dev *find_dev(const struct status_doc *d, const char *name)
{
	for (size_t i = 0; d && i < d->ndevs; i++)
		if (!strcmp(d->devs[i].name, name))
			return &d->devs[i];
	return NULL;
}

static uint64_t delta(uint64_t cur, uint64_t prev)
{
	return cur > prev ? cur - prev : 0;
}

/*
 * One iostat-like report: per device the rates and latency percentiles of the interval since
 * @prev (or since the device started, for the first report or a new device).
 */
static void print_rates(const struct status_doc *cur, const struct status_doc *prev,
			double secs)
{
	time_t now = time(NULL);
	char when[32];

	strftime(when, sizeof(when), "%F %T", localtime(&now));
	if (prev) {
		printf("%s  last %.1f s\n", when, secs);
		printf("%-20s %-8s %9s %9s %9s %9s %8s %7s %8s %8s %8s\n", "DEVICE", "STATE", "r/s",
		       "w/s", "rMB/s", "wMB/s", "INFLIGHT", "err/s", "P50", "P99", "P99.9");
	} else {
		printf("%s  totals since each device started\n", when);
		printf("%-20s %-8s %9s %9s %9s %9s %8s %7s %8s %8s %8s\n", "DEVICE", "STATE", "reads",
		       "writes", "rMB", "wMB", "INFLIGHT", "errors", "P50", "P99", "P99.9");
	}
	for (size_t i = 0; i < cur->ndevs; i++) {
		const struct status_dev *s = &cur->devs[i];
		const struct status_dev *p = prev ? find_dev(prev, s->name) : NULL;
		struct status_dev zero = { 0 };
		double t = p ? secs : 1;
		char p50[16], p99[16], p999[16];

		if (!p)
			p = &zero;
		human_lat(status_hist_percentile(s, p == &zero ? NULL : p, 500), p50, sizeof(p50));
		human_lat(status_hist_percentile(s, p == &zero ? NULL : p, 990), p99, sizeof(p99));
		human_lat(status_hist_percentile(s, p == &zero ? NULL : p, 999), p999, sizeof(p999));
		if (!s->has_io) {
			printf("%-20s %-8s (this runner reports no I/O statistics)\n", s->name, s->state);
			continue;
		}
		printf("%-20s %-8s %9.1f %9.1f %9.2f %9.2f %8llu %7.1f %8s %8s %8s\n", s->name,
		       s->state, (double)delta(s->read_cmds, p->read_cmds) / t,
		       (double)delta(s->write_cmds, p->write_cmds) / t,
		       (double)delta(s->read_bytes, p->read_bytes) / t / 1e6,
		       (double)delta(s->write_bytes, p->write_bytes) / t / 1e6,
		       (unsigned long long)s->inflight, (double)delta(s->errors, p->errors) / t, p50,
		       p99, p999);
	}
	putchar('\n');
	fflush(stdout);
}

/* rtsctl status --watch [SECONDS [COUNT]]: a report every SECONDS (default 1), COUNT times
 * (default: until interrupted); the first covers the time since each device started. */
static int watch(const char *path, int argc, char **argv)
{
	struct status_doc prev = { 0 }, cur;
	double secs = 1;
	long count = -1;
	char *end;
	bool have_prev = false;
	struct timespec t0, t1;

	if (argc > 2) {
		errorf("status --watch takes at most SECONDS and COUNT");
		return EXIT_USAGE;
	}
	if (argc > 0) {
		secs = strtod(argv[0], &end);
		if (*end || !(secs >= 0.1 && secs <= 86400)) {
			errorf("status --watch: interval '%s' is not a number of seconds in 0.1..86400",
			       argv[0]);
			return EXIT_USAGE;
		}
	}
	if (argc > 1) {
		count = strtol(argv[1], &end, 10);
		if (*end || count < 1) {
			errorf("status --watch: count '%s' is not a positive integer", argv[1]);
			return EXIT_USAGE;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long n = 0; count < 0 || n < count; n++) {
		if (n) {
			struct timespec ts = { (time_t)secs,
					       (long)((secs - (double)(time_t)secs) * 1e9) };

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		if (get_doc(path, &cur) < 0) {
			if (have_prev)
				status_doc_free(&prev);
			return EXIT_FAIL;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (n == 0)
			print_summary(&cur);
		print_rates(&cur, have_prev ? &prev : NULL,
			    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
		if (have_prev)
			status_doc_free(&prev);
		prev = cur;
		have_prev = true;
		t0 = t1;
	}
	if (have_prev)
		status_doc_free(&prev);
	return EXIT_OK;
}

int cmd_status(struct cli *c, int argc, char **argv)
{
	const char *path = c->socket ? c->socket : STATUS_SOCKET_DEFAULT;
	struct status_doc d;
	unsigned int failed = 0;

	if (c->watch) {
		if (c->json) {
			errorf("status: --watch prints a table; --json takes one snapshot");
			return EXIT_USAGE;
		}
		return watch(path, argc, argv);
	}
	(void)argv;
	if (argc > 0) {
		errorf("status takes no arguments (see --socket, --watch)");
		return EXIT_USAGE;
	}
	if (get_doc(path, &d) < 0)
		return EXIT_FAIL;
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
		print_summary(&d);
		print_devices(&d);
	}
	status_doc_free(&d);
	return failed ? EXIT_FAIL : EXIT_OK;
}
