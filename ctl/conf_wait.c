/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* restore --wait: wait with a deadline for backing stores and portal addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf_wait.h"

struct need {
	char *what; /* "storage object disk1: /dev/sdb" */
	char *path; /* file or directory that must exist, or NULL */
	bool dir;   /* path must be a directory */
	int family; /* AF_INET/AF_INET6 address that must be local, or 0 */
	unsigned char addr[16];
};

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *jarr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	return v;
}

static int add(struct need **v, size_t *n, struct need nd)
{
	struct need *t = realloc(*v, (*n + 1) * sizeof(**v));

	if (!t) {
		free(nd.what);
		free(nd.path);
		return -ENOMEM;
	}
	*v = t;
	(*v)[(*n)++] = nd;
	return 0;
}

static int need_storage(struct json_object *so, struct need **v, size_t *n)
{
	const char *plugin = jstr(so, "plugin"), *name = jstr(so, "name"), *dev = jstr(so, "dev");
	struct need nd = { 0 };
	struct json_object *size;
	bool has_size;

	if (!plugin || !name || !dev || !*dev)
		return 0;
	has_size = json_object_object_get_ex(so, "size", &size) && json_object_get_int64(size) > 0;
	if (!strcmp(plugin, "fileio") && has_size) {
		/* LIO creates a missing file of the given size: only its directory must exist */
		const char *slash = strrchr(dev, '/');

		if (!slash || slash == dev)
			return 0;
		nd.path = strndup(dev, (size_t)(slash - dev));
		nd.dir = true;
	} else if (!strcmp(plugin, "fileio") || !strcmp(plugin, "block") ||
		   !strcmp(plugin, "pscsi")) {
		nd.path = strdup(dev);
	} else {
		return 0;
	}
	if (!nd.path || asprintf(&nd.what, "storage object %s: %s", name, nd.path) < 0) {
		free(nd.path);
		return -ENOMEM;
	}
	return add(v, n, nd);
}

static int need_portal(const char *wwn, struct json_object *portal, struct need **v, size_t *n)
{
	const char *ip = jstr(portal, "ip_address");
	struct need nd = { 0 };
	char buf[64];
	size_t len;

	if (!ip)
		return 0;
	len = strlen(ip);
	if (ip[0] == '[' && len > 2 && ip[len - 1] == ']' && len - 2 < sizeof(buf)) {
		memcpy(buf, ip + 1, len - 2);
		buf[len - 2] = '\0';
	} else if (len < sizeof(buf)) {
		memcpy(buf, ip, len + 1);
	} else {
		return 0; /* validation refuses such a portal; nothing to wait for */
	}
	if (inet_pton(AF_INET, buf, nd.addr) == 1) {
		if (!strcmp(buf, "0.0.0.0"))
			return 0;
		nd.family = AF_INET;
	} else if (inet_pton(AF_INET6, buf, nd.addr) == 1) {
		static const unsigned char any[16];

		if (!memcmp(nd.addr, any, 16))
			return 0;
		nd.family = AF_INET6;
	} else {
		return 0;
	}
	if (asprintf(&nd.what, "portal %s of %s", ip, wwn ? wwn : "?") < 0)
		return -ENOMEM;
	return add(v, n, nd);
}

static int collect(struct json_object *root, const struct conf_wait_opts *o, struct need **v,
		   size_t *n)
{
	struct json_object *sos = jarr(root, "storage_objects"), *tgts = jarr(root, "targets");
	int r;

	for (size_t i = 0; sos && i < json_object_array_length(sos); i++) {
		struct json_object *so = json_object_array_get_idx(sos, i);
		const char *name = jstr(so, "name");

		if (o->storage_object && (!name || strcmp(name, o->storage_object)))
			continue;
		if ((r = need_storage(so, v, n)) < 0)
			return r;
	}
	for (size_t i = 0; tgts && i < json_object_array_length(tgts); i++) {
		struct json_object *t = json_object_array_get_idx(tgts, i), *tpgs = jarr(t, "tpgs");
		const char *wwn = jstr(t, "wwn");

		if (o->target && (!wwn || strcmp(wwn, o->target)))
			continue;
		for (size_t j = 0; tpgs && j < json_object_array_length(tpgs); j++) {
			struct json_object *ps = jarr(json_object_array_get_idx(tpgs, j), "portals");

			for (size_t k = 0; ps && k < json_object_array_length(ps); k++)
				if ((r = need_portal(wwn, json_object_array_get_idx(ps, k), v, n)) < 0)
					return r;
		}
	}
	return 0;
}

static bool addr_is_local(const struct ifaddrs *ifs, const struct need *nd)
{
	for (const struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (!sa || sa->sa_family != nd->family)
			continue;
		if (nd->family == AF_INET &&
		    !memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, nd->addr, 4))
			return true;
		if (nd->family == AF_INET6 &&
		    !memcmp(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, nd->addr, 16))
			return true;
	}
	return false;
}

/* How many of @v are still missing; marks present ones by clearing what. */
static size_t check(struct need *v, size_t n)
{
	struct ifaddrs *ifs = NULL;
	size_t missing = 0;
	bool have_ifs = false;

	for (size_t i = 0; i < n; i++) {
		struct stat st;
		bool ok;

		if (!v[i].what)
			continue;
		if (v[i].path) {
			ok = stat(v[i].path, &st) == 0 && (!v[i].dir || S_ISDIR(st.st_mode));
		} else {
			if (!have_ifs)
				have_ifs = getifaddrs(&ifs) == 0;
			ok = have_ifs && addr_is_local(ifs, &v[i]);
		}
		if (ok) {
			free(v[i].what);
			v[i].what = NULL;
		} else {
			missing++;
		}
	}
	if (have_ifs)
		freeifaddrs(ifs);
	return missing;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *describe(const struct need *v, size_t n)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < n; i++)
		if (v[i].what)
			len += strlen(v[i].what) + 2;
	s = malloc(len);
	if (!s)
		return NULL;
	*s = '\0';
	for (size_t i = 0; i < n; i++) {
		if (!v[i].what)
			continue;
		if (*s)
			strcat(s, ", ");
		strcat(s, v[i].what);
	}
	return s;
}

int conf_wait_ready(struct json_object *root, const struct conf_wait_opts *o, char **ret_missing)
{
	unsigned int poll_ms = o->poll_ms ? o->poll_ms : 250;
	long long deadline = now_ms() + (long long)o->seconds * 1000;
	struct need *v = NULL;
	size_t n = 0, missing;
	bool said = false;
	int r;

	if (ret_missing)
		*ret_missing = NULL;
	r = collect(root, o, &v, &n);
	while (r == 0 && (missing = check(v, n)) > 0) {
		long long left = deadline - now_ms();

		if (left <= 0) {
			r = (int)missing;
			break;
		}
		if (o->progress && !said) {
			char *d = describe(v, n);

			fprintf(o->progress, "rtsctl: waiting up to %u s for %s\n", o->seconds,
				d ? d : "resources");
			free(d);
			said = true;
		}
		struct timespec ts = { .tv_sec = 0,
				       .tv_nsec = (long)(left < poll_ms ? left : poll_ms) * 1000000 };
		nanosleep(&ts, NULL);
	}
	if (r > 0 && ret_missing)
		*ret_missing = describe(v, n);
	for (size_t i = 0; i < n; i++) {
		free(v[i].what);
		free(v[i].path);
	}
	free(v);
	return r;
}
