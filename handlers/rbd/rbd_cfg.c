/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rbd handler's cfgstring parser (see rbd_cfg.h). Pure: no cluster, no file system. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cfgstring.h"
#include "rbd_cfg.h"

void rbd_cfg_clear(struct rbd_cfg *c)
{
	free(c->pool);
	free(c->ns);
	free(c->image);
	free(c->snap);
	free(c->conf);
	free(c->id);
	*c = (struct rbd_cfg){ 0 };
}

/* Seconds: decimal digits only, @min..@max. */
static int parse_secs(const char *v, uint32_t min, uint32_t max, uint32_t *ret)
{
	unsigned long n;
	char *end;

	if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9)
		return -EINVAL;
	n = strtoul(v, &end, 10);
	if (n < min || n > max)
		return -ERANGE;
	*ret = (uint32_t)n;
	return 0;
}

/*
 * Pool, namespace, image and snapshot names: librados/librbd take any bytes but '/' and '@'
 * separate them here, ';' separates options, and control characters are never meant.
 */
static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '/' || *s == '@')
			return false;
	return true;
}

static int dup_to(char **dst, const char *s, size_t n)
{
	*dst = strndup(s, n);
	return *dst ? 0 : -ENOMEM;
}

static int parse_spec(const char *spec, struct rbd_cfg *c, char **reason)
{
	const char *s1 = strchr(spec, '/'), *s2, *img, *at;
	int r;

	if (!*spec)
		return set_reason(reason, -EINVAL,
				  "rbd: no image given (expected rbd/<pool>/[<namespace>/]<image>"
				  "[@<snap>][;options])");
	if (!s1)
		return set_reason(reason, -EINVAL,
				  "rbd: '%s' names no pool (expected <pool>/[<namespace>/]<image>)",
				  spec);
	s2 = strchr(s1 + 1, '/');
	if (s2 && strchr(s2 + 1, '/'))
		return set_reason(reason, -EINVAL,
				  "rbd: '%s' has too many '/' (expected <pool>/[<namespace>/]<image>)",
				  spec);
	r = dup_to(&c->pool, spec, (size_t)(s1 - spec));
	if (r < 0)
		return r;
	if (s2) {
		r = dup_to(&c->ns, s1 + 1, (size_t)(s2 - s1 - 1));
		if (r < 0)
			return r;
		img = s2 + 1;
	} else {
		img = s1 + 1;
	}
	at = strchr(img, '@');
	r = dup_to(&c->image, img, at ? (size_t)(at - img) : strlen(img));
	if (r == 0 && at)
		r = dup_to(&c->snap, at + 1, strlen(at + 1));
	if (r < 0)
		return r;
	if (!name_ok(c->pool))
		return set_reason(reason, -EINVAL, "rbd: bad pool name '%s' in '%s'", c->pool, spec);
	if (c->ns && !name_ok(c->ns))
		return set_reason(reason, -EINVAL, "rbd: bad namespace name '%s' in '%s'", c->ns,
				  spec);
	if (!name_ok(c->image))
		return set_reason(reason, -EINVAL, "rbd: bad image name '%s' in '%s'", c->image,
				  spec);
	if (c->snap && !name_ok(c->snap))
		return set_reason(reason, -EINVAL, "rbd: bad snapshot name '%s' in '%s'", c->snap,
				  spec);
	return 0;
}

static int parse_opt(char *tok, struct rbd_cfg *c, char **reason)
{
	char *val = strchr(tok, '=');

	if (!val)
		return set_reason(reason, -EINVAL,
				  "rbd: unknown option '%s' (known: osd_op_timeout=, conf=, id=, "
				  "connect_timeout=)",
				  tok);
	*val++ = '\0';
	if (!strcmp(tok, "osd_op_timeout")) {
		if (parse_secs(val, 0, 86400, &c->osd_op_timeout) < 0)
			return set_reason(reason, -EINVAL,
					  "rbd: bad osd_op_timeout '%s' (seconds, 0..86400)", val);
	} else if (!strcmp(tok, "connect_timeout")) {
		if (parse_secs(val, 1, 3600, &c->connect_timeout) < 0)
			return set_reason(reason, -EINVAL,
					  "rbd: bad connect_timeout '%s' (seconds, 1..3600)", val);
	} else if (!strcmp(tok, "conf")) {
		if (!*val)
			return set_reason(reason, -EINVAL, "rbd: empty conf= path");
		free(c->conf);
		c->conf = strdup(val);
		if (!c->conf)
			return -ENOMEM;
	} else if (!strcmp(tok, "id")) {
		if (!*val || strchr(val, '/') || !strncmp(val, "client.", 7))
			return set_reason(reason, -EINVAL,
					  "rbd: bad id '%s' (a cephx user name without 'client.')",
					  val);
		free(c->id);
		c->id = strdup(val);
		if (!c->id)
			return -ENOMEM;
	} else {
		return set_reason(reason, -EINVAL,
				  "rbd: unknown option '%s=%s' (known: osd_op_timeout=, conf=, id=, "
				  "connect_timeout=)",
				  tok, val);
	}
	return 0;
}

int rbd_cfg_parse(const char *cfgstring, struct rbd_cfg *c, char **reason)
{
	char *spec = NULL, *opts = NULL, *tok, *save = NULL;
	int r;

	*c = (struct rbd_cfg){ .connect_timeout = RBD_CONNECT_TIMEOUT_DEFAULT };
	r = cfg_split_path(cfgstring, &spec, &opts);
	if (r == -EINVAL)
		return set_reason(reason, -EINVAL,
				  "rbd: no image given (expected rbd/<pool>/[<namespace>/]<image>"
				  "[@<snap>][;options])");
	if (r < 0)
		return r;
	r = parse_spec(spec, c, reason);
	/* ";;" and a trailing ';' are empty options: skipped, as tcmu-runner does. */
	for (tok = r == 0 && opts ? strtok_r(opts, ";", &save) : NULL; tok && r == 0;
	     tok = strtok_r(NULL, ";", &save))
		r = parse_opt(tok, c, reason);
	free(spec);
	free(opts);
	if (r < 0)
		rbd_cfg_clear(c);
	return r;
}
