/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * errinj handler: wraps another handler and injects faults into its operations, for testing
 * initiators, multipath and error handling. cfgstring
 * "errinj/<rules>/<inner subtype>/<inner cfgstring>", e.g. "errinj/eio,op=read,lba=0-99/file/
 * /var/lib/disk.img". The inner handler (handler_<subtype>.so, loaded from the directory this
 * plugin was loaded from, under the runner's trust rules) serves everything no rule takes.
 * Rules change at runtime through the device's dev_config (the kernel sends RECONFIG_DEVICE:
 * see README.md). Grammar and the sense data of each fault: README.md.
 *
 * Latency and hangs are io_uring timeouts queued with rts_dev_get_sqe() for the command, so a
 * TMR abort (or a stop) cancels them like any handler I/O and the ring never wedges.
 */
#include <dlfcn.h>
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rts/device.h>
#include <rts/handler.h>

#include "rules.h"

#define EI_TAG 0xe17a           /* tag of our own timeout SQEs; the inner's go to its io_done */
#define EI_INNER_PRIV_MAX 1024  /* per-command scratch left to the inner handler */
#define EI_PART_IOV 16          /* iovecs a short transfer keeps */
#define EI_HANG_SEC (100ll * 365 * 86400)

enum ei_opk { OPK_READ, OPK_WRITE, OPK_FLUSH, OPK_UNMAP };

struct ei_cmd {
	struct __kernel_timespec ts; /* read by the kernel when the SQE is submitted */
	enum ei_opk op;
	enum ei_fault fault;         /* EI_LATENCY or EI_HANG while a timeout is queued */
	const struct iovec *iov;
	unsigned int cnt, flags;
	uint64_t off, len;
	struct iovec part[EI_PART_IOV];
};

struct ei_dev {
	struct ei_dev *next;
	struct rts_dev *dev;
	struct rts_loaded_handler *lh;
	const struct rts_handler *in;
	char sub[EI_MAX_SUBTYPE + 1];
	const char *orig_cfg;        /* the device's cfgstring before wrapping */
	const char *inner_cfg;
	struct ei_rules rules;
	uint64_t rng;
	uint32_t bs;
};

/* The inner handler owns rts_dev_get_private(): our per-device state is found by device. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ei_dev *reg_head;

static struct ei_dev *ei_get(const struct rts_dev *dev)
{
	struct ei_dev *d;

	pthread_mutex_lock(&reg_lock);
	for (d = reg_head; d && d->dev != dev; d = d->next)
		;
	pthread_mutex_unlock(&reg_lock);
	return d;
}

static void ei_unregister(struct ei_dev *d)
{
	pthread_mutex_lock(&reg_lock);
	for (struct ei_dev **pp = &reg_head; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	pthread_mutex_unlock(&reg_lock);
}

static struct ei_cmd *ecmd(struct rts_cmd *cmd)
{
	return (struct ei_cmd *)(void *)((char *)rts_cmd_get_private(cmd) + EI_INNER_PRIV_MAX);
}

/* ----------------------------------------------------------- loading the inner */

/*
 * The runner's rules for handler files (tcmu/runner/handlers.c, docs/security.md): the inner
 * handler must resolve into the directory errinj itself was loaded from, whose directories
 * the runner has checked, and be a regular file writable only by its owner, root's when we
 * run as root. A symlink leading elsewhere is refused: that is where the runner would look
 * at the directories, and errinj does not repeat that walk.
 */
static int check_trust(const char *path, const char *own_file, char **reason)
{
	char *real = realpath(path, NULL);
	int err = real ? 0 : -errno; /* now: realpath() may leave errno set even on success */
	char *own = realpath(own_file, NULL);
	char *rs = real ? strrchr(real, '/') : NULL, *os = own ? strrchr(own, '/') : NULL;
	struct stat st;

	if (!err && !own)
		err = -ENOENT;
	if (!err && (!rs || !os || rs - real != os - own || strncmp(real, own, (size_t)(rs - real))))
		err = -EPERM;
	if (!err && stat(real, &st) < 0)
		err = -errno;
	if (!err && (!S_ISREG(st.st_mode) || (st.st_mode & (S_IWGRP | S_IWOTH)) ||
		     (geteuid() == 0 && st.st_uid != 0)))
		err = -EPERM;
	if (err && reason &&
	    asprintf(reason,
		     err == -EPERM ? "errinj: inner handler '%s' is not a root-owned regular file "
				     "writable only by its owner in errinj's own directory; refusing it" :
				     "errinj: inner handler '%s': %s",
		     path, strerror(-err)) < 0)
		*reason = NULL;
	free(real);
	free(own);
	return err;
}

static int load_inner(const char *sub, size_t sub_len, struct rts_loaded_handler **ret,
		      char **reason)
{
	Dl_info info;
	char path[4096];
	const char *slash;
	int r;

	/* any object of this plugin names its file */
	if (!dladdr((void *)&reg_lock, &info) || !info.dli_fname) {
		if (reason)
			*reason = strdup("errinj: cannot find the directory it was loaded from");
		return -ENOENT;
	}
	slash = strrchr(info.dli_fname, '/');
	snprintf(path, sizeof(path), "%.*s/handler_%.*s.so",
		 slash ? (int)(slash - info.dli_fname) : 1, slash ? info.dli_fname : ".", (int)sub_len,
		 sub);
	r = check_trust(path, info.dli_fname, reason);
	if (r < 0)
		return r;
	return rts_handler_load(path, ret, reason);
}

/* ----------------------------------------------------------------- config */

static int ei_check_config(const char *cfg, char **reason)
{
	const char *sub, *inner;
	size_t rl, sl;
	struct ei_rules rules;
	struct rts_loaded_handler *lh = NULL;
	int r;

	r = ei_split_cfg(cfg, &rl, &sub, &sl, &inner, reason);
	if (r == 0)
		r = ei_parse_rules(cfg, rl, &rules, reason);
	if (r == 0)
		r = load_inner(sub, sl, &lh, reason);
	if (r == 0) {
		const struct rts_handler *in = rts_loaded_handler_get(lh);

		if (in->check_config)
			r = in->check_config(inner, reason);
		rts_handler_unload(lh);
	}
	return r;
}

static int ei_open(struct rts_dev *dev, bool reopen)
{
	const char *cfg = rts_dev_get_cfgstring(dev);
	char *why = NULL;
	const char *sub, *inner;
	size_t rl, sl;
	struct ei_dev *d;
	int r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dev = dev;
	d->orig_cfg = cfg;
	r = ei_split_cfg(cfg, &rl, &sub, &sl, &inner, &why);
	if (r == 0)
		r = ei_parse_rules(cfg, rl, &d->rules, &why);
	if (r == 0)
		r = load_inner(sub, sl, &d->lh, &why);
	if (r < 0)
		goto fail;
	d->in = rts_loaded_handler_get(d->lh);
	snprintf(d->sub, sizeof(d->sub), "%.*s", (int)sl, sub);
	d->inner_cfg = inner;
	if (d->in->cmd_private_size > EI_INNER_PRIV_MAX) {
		r = -EINVAL;
		if (asprintf(&why, "errinj: handler '%s' needs %u bytes per command, errinj leaves %d",
			     d->sub, d->in->cmd_private_size, EI_INNER_PRIV_MAX) < 0)
			why = NULL;
		goto fail;
	}
	d->rng = 0x9e3779b97f4a7c15ull;
	for (const char *p = rts_dev_get_name(dev); *p; p++)
		d->rng = (d->rng ^ (uint8_t)*p) * 0x100000001b3ull;
	if (!d->rng)
		d->rng = 1;
	d->bs = rts_dev_get_block_size(dev);
	pthread_mutex_lock(&reg_lock);
	d->next = reg_head;
	reg_head = d;
	pthread_mutex_unlock(&reg_lock);
	rts_dev_wrap_cfgstring(dev, inner);
	r = d->in->open(dev, reopen);
	if (r < 0) {
		rts_dev_wrap_cfgstring(dev, d->orig_cfg);
		ei_unregister(d);
		if (asprintf(&why, "errinj: inner handler '%s' cannot open '%s': %s", d->sub, inner,
			     strerror(-r)) < 0)
			why = NULL;
		goto fail;
	}
	rts_dev_info(dev, "errinj: %u rule(s) over handler '%s'", d->rules.n, d->sub);
	return 0;
fail:
	rts_dev_err(dev, "%s", why ? why : strerror(-r));
	free(why);
	rts_handler_unload(d->lh);
	free(d);
	return r;
}

static void ei_close(struct rts_dev *dev)
{
	struct ei_dev *d = ei_get(dev);

	if (!d)
		return;
	for (unsigned int i = 0; i < d->rules.n; i++)
		rts_dev_info(dev, "errinj: rule %u (%s) matched %llu, fired %llu time(s)", i + 1,
			     ei_fault_name(d->rules.r[i].fault),
			     (unsigned long long)d->rules.r[i].seen,
			     (unsigned long long)d->rules.r[i].fired);
	if (d->in->close)
		d->in->close(dev);
	rts_dev_wrap_cfgstring(dev, d->orig_cfg);
	ei_unregister(d);
	rts_handler_unload(d->lh);
	free(d);
}

/*
 * Runtime rule changes: a new cfgstring with the same inner subtype replaces the rules (their
 * counters start again); a changed inner cfgstring is passed to the inner's reconfig.
 */
static int ei_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	struct ei_dev *d = ei_get(dev);
	struct rts_reconfig irc = *rc;
	struct ei_rules rules;
	bool new_rules = false;
	char *why = NULL;
	int r;

	if (!d)
		return -ENODEV;
	irc.struct_size = sizeof(irc);
	if (rc->what & RTS_RECONFIG_CFGSTRING) {
		const char *sub, *inner;
		size_t rl, sl;

		r = ei_split_cfg(rc->cfgstring, &rl, &sub, &sl, &inner, &why);
		if (r == 0)
			r = ei_parse_rules(rc->cfgstring, rl, &rules, &why);
		if (r == 0 && (sl != strlen(d->sub) || memcmp(sub, d->sub, sl) != 0)) {
			r = -EINVAL;
			if (asprintf(&why, "errinj: the inner handler cannot change ('%s' to '%.*s')",
				     d->sub, (int)sl, sub) < 0)
				why = NULL;
		}
		if (r < 0) {
			rts_dev_err(dev, "errinj: new cfgstring refused: %s", why ? why : strerror(-r));
			free(why);
			return r;
		}
		new_rules = true;
		irc.cfgstring = inner;
		if (strcmp(inner, d->inner_cfg) == 0)
			irc.what &= ~(uint32_t)RTS_RECONFIG_CFGSTRING;
	}
	if (irc.what) {
		if (d->in->reconfig)
			r = d->in->reconfig(dev, &irc);
		else
			r = irc.what & ~(uint32_t)RTS_RECONFIG_WRITE_CACHE ? -EOPNOTSUPP : 0;
		if (r < 0)
			return r;
	}
	if (new_rules) {
		d->rules = rules;
		rts_dev_log(dev, RTS_LOG_NOTICE, "errinj: rules now '%.*s' (%u rule(s))",
			    (int)(strchr(rc->cfgstring, '/') - rc->cfgstring), rc->cfgstring,
			    d->rules.n);
	}
	return 0;
}

/* ------------------------------------------------------------------ I/O */

static int forward(struct ei_dev *d, struct rts_dev *dev, struct rts_cmd *cmd,
		   const struct ei_cmd *c, const struct iovec *iov, unsigned int cnt, uint64_t len)
{
	switch (c->op) {
	case OPK_READ:
		return d->in->read(dev, cmd, iov, cnt, c->off, len);
	case OPK_WRITE:
		if (!d->in->write)
			return -EROFS;
		return d->in->write(dev, cmd, iov, cnt, c->off, len, c->flags);
	case OPK_FLUSH:
		if (d->in->flush)
			return d->in->flush(dev, cmd);
		rts_cmd_complete(cmd, 0);
		return 0;
	case OPK_UNMAP:
		if (!d->in->unmap)
			return -ENOTSUP;
		return d->in->unmap(dev, cmd, c->off, len);
	}
	return -EINVAL;
}

/* short: the inner handler moved part of the data; the command fails all the same */
static void short_done(struct rts_cmd *cmd, int err)
{
	rts_cmd_complete(cmd, err ? err : -EIO);
}

static int start_short(struct ei_dev *d, struct rts_dev *dev, struct rts_cmd *cmd,
		       struct ei_cmd *c, const struct ei_rule *r)
{
	uint64_t nblk = c->len / d->bs, keep = r->blocks ? r->blocks : nblk / 2, len, acc = 0;
	unsigned int n = 0;

	if (keep >= nblk)
		keep = nblk ? nblk - 1 : 0;
	len = keep * d->bs;
	if (c->op == OPK_UNMAP || c->op == OPK_FLUSH || !len)
		return -EIO; /* nothing to cut short */
	for (unsigned int i = 0; i < c->cnt && acc < len && n < EI_PART_IOV; i++, n++) {
		c->part[n] = c->iov[i];
		if (c->part[n].iov_len > len - acc)
			c->part[n].iov_len = (size_t)(len - acc);
		acc += c->part[n].iov_len;
	}
	len = acc - acc % d->bs;
	if (!len)
		return -EIO;
	if (acc != len) { /* cut at a block boundary */
		uint64_t over = acc - len;
		while (over) {
			struct iovec *v = &c->part[n - 1];
			if (v->iov_len > over) {
				v->iov_len -= (size_t)over;
				over = 0;
			} else {
				over -= v->iov_len;
				n--;
			}
		}
	}
	rts_cmd_intercept(cmd, short_done);
	return forward(d, dev, cmd, c, c->part, n, len);
}

static int start_timer(struct rts_dev *dev, struct rts_cmd *cmd, struct ei_cmd *c,
		       enum ei_fault f, uint32_t ms)
{
	struct io_uring_sqe *sqe = rts_dev_get_sqe(dev, cmd, EI_TAG);

	if (!sqe)
		return -EBUSY;
	c->fault = f;
	if (f == EI_HANG)
		c->ts = (struct __kernel_timespec){ .tv_sec = EI_HANG_SEC };
	else
		c->ts = (struct __kernel_timespec){ .tv_sec = ms / 1000,
						    .tv_nsec = (long long)(ms % 1000) * 1000000 };
	io_uring_prep_timeout(sqe, &c->ts, 0, 0);
	return 0;
}

static int ei_op(struct rts_dev *dev, struct rts_cmd *cmd, enum ei_opk op, uint32_t opbit,
		 const struct iovec *iov, unsigned int cnt, uint64_t off, uint64_t len,
		 unsigned int flags)
{
	struct ei_dev *d = ei_get(dev);
	struct ei_cmd *c = ecmd(cmd);
	struct ei_rule *r;

	if (!d)
		return -ENODEV;
	*c = (struct ei_cmd){ .op = op, .iov = iov, .cnt = cnt, .off = off, .len = len,
			      .flags = flags };
	r = ei_match(&d->rules, opbit, off / d->bs, op == OPK_FLUSH ? 0 : (len + d->bs - 1) / d->bs,
		     &d->rng);
	if (!r)
		return forward(d, dev, cmd, c, iov, cnt, len);
	rts_dev_dbg(dev, "errinj: %s on cmd %u", ei_fault_name(r->fault), rts_cmd_get_id(cmd));
	switch (r->fault) {
	case EI_EIO:
		return -EIO;
	case EI_ENOSPC:
		return -ENOSPC;
	case EI_EROFS:
		return -EROFS;
	case EI_EBUSY:
		return -EBUSY;
	case EI_ENOMEM:
		return -ENOMEM;
	case EI_SHORT:
		return start_short(d, dev, cmd, c, r);
	case EI_LATENCY:
	case EI_HANG:
		return start_timer(dev, cmd, c, r->fault, r->ms);
	}
	return -EINVAL;
}

static void ei_io_done(struct rts_dev *dev, struct rts_cmd *cmd, uint16_t tag, int res)
{
	struct ei_dev *d = ei_get(dev);
	struct ei_cmd *c = ecmd(cmd);
	int r;

	if (!d)
		return;
	if (tag != EI_TAG) {
		if (d->in->io_done)
			d->in->io_done(dev, cmd, tag, res);
		return;
	}
	/* the timer ran out (-ETIME) or was cancelled by an abort or a stop (-ECANCELED) */
	if (res == -ECANCELED || rts_cmd_is_aborted(cmd)) {
		rts_cmd_complete(cmd, -ECANCELED);
		return;
	}
	if (c->fault == EI_HANG) {
		rts_cmd_complete(cmd, -ETIMEDOUT);
		return;
	}
	r = forward(d, dev, cmd, c, c->iov, c->cnt, c->len);
	if (r != 0)
		rts_cmd_complete(cmd, r < 0 ? r : -EIO);
}

static int ei_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		   unsigned int cnt, uint64_t off, uint64_t len)
{
	return ei_op(dev, cmd, OPK_READ, EI_OP_READ, iov, cnt, off, len, 0);
}

static int ei_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		    unsigned int cnt, uint64_t off, uint64_t len, unsigned int flags)
{
	return ei_op(dev, cmd, OPK_WRITE, EI_OP_WRITE, iov, cnt, off, len, flags);
}

static int ei_flush(struct rts_dev *dev, struct rts_cmd *cmd)
{
	return ei_op(dev, cmd, OPK_FLUSH, EI_OP_FLUSH, NULL, 0, 0, 0, 0);
}

static int ei_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len)
{
	return ei_op(dev, cmd, OPK_UNMAP, EI_OP_UNMAP, NULL, 0, off, len, 0);
}

static int ei_handle_cmd(struct rts_dev *dev, struct rts_cmd *cmd)
{
	struct ei_dev *d = ei_get(dev);

	return d && d->in->handle_cmd ? d->in->handle_cmd(dev, cmd) : RTS_CMD_NOT_HANDLED;
}

static const struct rts_handler errinj_handler = {
	RTS_HANDLER_INIT,
	.name = "Error injection over another handler",
	.subtype = "errinj",
	.cfg_desc = "<rules>/<inner subtype>/<inner cfgstring>, rules e.g. "
		    "eio,op=read,lba=0-99,every=3;latency,ms=50",
	/* no F_FUA: the core follows a FUA write with flush(), which rules can target too */
	.cmd_private_size = EI_INNER_PRIV_MAX + sizeof(struct ei_cmd),
	.check_config = ei_check_config,
	.open = ei_open,
	.close = ei_close,
	.reconfig = ei_reconfig,
	.handle_cmd = ei_handle_cmd,
	.read = ei_read,
	.write = ei_write,
	.flush = ei_flush,
	.unmap = ei_unmap,
	.io_done = ei_io_done,
};

RTS_HANDLER_DEFINE(errinj_handler)
