/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rbd handler: serves a device from a Ceph RBD image through librbd's asynchronous API,
 * issued from the device's I/O thread and completed on it. No thread per command, no
 * blocking call per command, no librbd callback touching our state.
 *
 * cfgstring: see rbd_cfg.h (tcmu-runner's "rbd/<pool>/<image>[;osd_op_timeout=N][;conf=PATH]
 * [;id=USER]" plus "@<snap>", a namespace and connect_timeout=).
 *
 * Completions: every completion is created with a NULL callback and the image is set to
 * EVENT_TYPE_EVENTFD notification, so librbd queues each finished completion on the image
 * and writes our eventfd; nothing else runs on librbd's threads. (Mixing a callback with
 * the event queue on one image is a use-after-free: librbd runs the callback and then queues
 * the completion.) While any command is in flight, one IORING_OP_POLL_ADD on the eventfd is
 * armed on the device's io_uring, tagged with one in-flight command (the handler API ties
 * SQEs to commands); its CQE reads the eventfd and drains rbd_poll_io_events() until it
 * returns 0, completing each command, then re-arms on another in-flight command. A command
 * only completes from that drain, so the poll's owner never completes under an armed poll.
 *
 * Operations: READ → rbd_aio_readv, WRITE → rbd_aio_writev (FUA: the core follows with a
 * flush), SYNCHRONIZE CACHE → rbd_aio_flush, UNMAP and WRITE SAME with UNMAP →
 * rbd_aio_write_zeroes (deallocates whole objects and guarantees zeros, as LBPRZ promises),
 * WRITE SAME → rbd_aio_writesame, COMPARE AND WRITE → rbd_aio_compare_and_write (atomic on
 * the OSD, hence across gateways; a miscompare ends with MISCOMPARE and the offset of the
 * first differing byte in the INFORMATION field).
 *
 * Faults: an OSD op that exceeds osd_op_timeout (-ETIMEDOUT) or a lost connection ends the
 * command with NOT READY, LOGICAL UNIT IS IN PROCESS OF BECOMING READY, which initiators
 * retry (never a medium error). A blocklisted client (-ESHUTDOWN, librbd's EBLOCKLISTED)
 * cannot recover by itself: once its commands drained, a helper thread closes the image,
 * drops the connection and reconnects with a new client (retrying every second until the
 * cluster answers); commands meanwhile get the same retryable NOT READY, and the I/O thread
 * swaps the new image in when the helper is done.
 *
 * Connections: one rados_t per image by default; `[handler.rbd] connection = shared` in
 * runner.conf shares one per (conf, id, osd_op_timeout) between images.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#include <rts/handler.h>

#include "cfgstring.h"
#include "rbd_cfg.h"

#define TAG_AIO	 0
#define TAG_POLL 1
#define DRAIN_BATCH 32

/* NOT READY, LOGICAL UNIT IS IN PROCESS OF BECOMING READY: initiators retry it. */
#define ASC_NOT_READY 0x04
#define ASCQ_BECOMING_READY 0x01

enum rbd_op {
	OP_READ,
	OP_WRITE,
	OP_FLUSH,
	OP_ZERO,
	OP_WRITESAME,
	OP_CAW,
	OP_CAW_FLUSH,
};

/* Per-command state, in rts_cmd_get_private(). */
struct rbd_cmd {
	struct rts_cmd *prev, *next; /* in flight in librbd */
	rbd_completion_t comp;
	uint64_t mismatch_off;
	uint64_t off;
	uint8_t *buf; /* COMPARE AND WRITE: compare + write data, contiguous */
	struct rts_cmd *cb_next; /* COMPARE AND WRITE: on rbd_dev.cb_done */
	uint8_t op;
	bool fua;
};

/* A cluster connection, possibly shared between images (refcounted, under conn_lock). */
struct rbd_conn {
	struct rbd_conn *next;
	char *key;
	rados_t cluster;
	unsigned int refs;
	bool listed; /* shared and findable; a blocklisted one is unlisted */
};

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rbd_conn *conns;

enum rbd_state {
	ST_OK,
	ST_FENCED,    /* blocklisted: waiting for in-flight commands to drain */
	ST_REOPENING, /* the helper thread is reconnecting */
};

struct rbd_handles {
	struct rbd_conn *conn;
	rados_ioctx_t io;
	rbd_image_t image;
};

struct rbd_dev {
	struct rts_dev *dev;
	struct rbd_cfg cfg;
	bool shared;
	bool ro;
	struct rbd_handles h;
	int efd;
	uint64_t image_size;
	uint64_t obj_size;

	struct rts_cmd *inflight; /* list head */
	/* COMPARE AND WRITE completions, pushed by librbd's callback (see caw_cb) */
	_Atomic(struct rts_cmd *) cb_done;
	uint32_t ninflight;
	bool poll_armed;
	bool draining;

	enum rbd_state state;
	pthread_t reopen_thread;
	atomic_int reopen_done; /* 0: running, 1: new handles ready */
	atomic_bool reopen_stop;
	struct rbd_handles old, fresh;
	uint64_t reopens;

	/* two gateways (see "two gateways" below); alua_group < 0: no lock policy */
	int alua_group;          /* this gateway's target port group */
	atomic_bool owner;       /* holds the image's exclusive lock */
	atomic_int optimized;    /* group recorded in the image metadata (-1: none,
				    RBD_OPT_FENCED: unknown until reconnected) */
	atomic_bool alua_sync;   /* group states to write on the I/O thread */
	bool alua_busy;          /* a lock worker uses h.image: no reconnect swaps it */
	atomic_bool lock_lost;   /* the owner check found us blocklisted */
	uint64_t checked_ns;     /* last owner check (CLOCK_MONOTONIC) */
	uint64_t lock_moves;     /* acquisitions by this device after open */
};

/* two gateways (ALUA): see that section below */
static void alua_lock_open(struct rts_dev *dev, struct rbd_dev *rd, rbd_image_t image);
static bool h_ready(struct rbd_dev *rd);

/* ------------------------------------------------------------ connections */

static void conn_put(struct rbd_conn *cn)
{
	struct rbd_conn **pp;
	bool last;

	if (!cn)
		return;
	pthread_mutex_lock(&conn_lock);
	last = --cn->refs == 0;
	if (last && cn->listed)
		for (pp = &conns; *pp; pp = &(*pp)->next)
			if (*pp == cn) {
				*pp = cn->next;
				break;
			}
	pthread_mutex_unlock(&conn_lock);
	if (!last)
		return;
	rados_shutdown(cn->cluster);
	free(cn->key);
	free(cn);
}

/* A blocklisted connection must not be handed to new images. */
static void conn_unlist(struct rbd_conn *cn)
{
	pthread_mutex_lock(&conn_lock);
	if (cn->listed)
		for (struct rbd_conn **pp = &conns; *pp; pp = &(*pp)->next)
			if (*pp == cn) {
				*pp = cn->next;
				break;
			}
	cn->listed = false;
	pthread_mutex_unlock(&conn_lock);
}

static int conf_set_u32(rados_t c, const char *opt, uint32_t v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", v);
	return rados_conf_set(c, opt, buf);
}

static int conn_new(const struct rbd_cfg *cfg, rados_t *ret, char **reason)
{
	const char *user = cfg->id ? cfg->id : "admin";
	rados_t c;
	int r;

	r = rados_create(&c, user);
	if (r < 0)
		return set_reason(reason, r, "rbd: cannot create a cluster handle for client.%s: %s",
				  user, strerror(-r));
	r = rados_conf_read_file(c, cfg->conf);
	if (r < 0) {
		set_reason(reason, r, "rbd: cannot read the Ceph configuration %s%s%s: %s",
			   cfg->conf ? "'" : "(default search, CEPH_CONF)", cfg->conf ? cfg->conf : "",
			   cfg->conf ? "'" : "", strerror(-r));
		goto err;
	}
	/* Bound every step of connecting (monitor hunt, authentication) and monitor ops. */
	if ((r = conf_set_u32(c, "client_mount_timeout", cfg->connect_timeout)) < 0 ||
	    (r = conf_set_u32(c, "rados_mon_op_timeout", cfg->connect_timeout)) < 0 ||
	    (cfg->osd_op_timeout &&
	     (r = conf_set_u32(c, "rados_osd_op_timeout", cfg->osd_op_timeout)) < 0)) {
		set_reason(reason, r, "rbd: cannot set the timeouts: %s", strerror(-r));
		goto err;
	}
	r = rados_connect(c);
	if (r < 0) {
		if (r == -ETIMEDOUT || r == -EINTR)
			set_reason(reason, -ETIMEDOUT,
				   "rbd: no Ceph monitor answered within %u s (connect_timeout); "
				   "check 'mon host' in %s",
				   cfg->connect_timeout, cfg->conf ? cfg->conf : "the Ceph configuration");
		else if (r == -EACCES || r == -EPERM)
			set_reason(reason, r,
				   "rbd: the monitors refused client.%s: bad or missing key (%s)",
				   user, strerror(-r));
		else if (r == -ENOENT)
			set_reason(reason, r, "rbd: no keyring for client.%s (%s)", user,
				   strerror(-r));
		else
			set_reason(reason, r, "rbd: cannot connect to the cluster as client.%s: %s",
				   user, strerror(-r));
		goto err;
	}
	*ret = c;
	return 0;
err:
	rados_shutdown(c);
	return r;
}

static int conn_get(const struct rbd_cfg *cfg, bool shared, struct rbd_conn **ret,
		    char **reason)
{
	struct rbd_conn *cn;
	char *key = NULL;
	int r;

	if (asprintf(&key, "%s\n%s\n%u\n%u", cfg->conf ? cfg->conf : "", cfg->id ? cfg->id : "",
		     cfg->osd_op_timeout, cfg->connect_timeout) < 0)
		return -ENOMEM;
	if (shared) {
		pthread_mutex_lock(&conn_lock);
		for (cn = conns; cn; cn = cn->next)
			if (!strcmp(cn->key, key)) {
				cn->refs++;
				break;
			}
		pthread_mutex_unlock(&conn_lock);
		if (cn) {
			free(key);
			*ret = cn;
			return 0;
		}
	}
	cn = calloc(1, sizeof(*cn));
	if (!cn) {
		free(key);
		return -ENOMEM;
	}
	cn->key = key;
	cn->refs = 1;
	r = conn_new(cfg, &cn->cluster, reason);
	if (r < 0) {
		free(key);
		free(cn);
		return r;
	}
	if (shared) {
		/* Two opens may have raced to connect; both connections work, one is listed. */
		pthread_mutex_lock(&conn_lock);
		cn->listed = true;
		cn->next = conns;
		conns = cn;
		pthread_mutex_unlock(&conn_lock);
	}
	*ret = cn;
	return 0;
}

/* Connect and open the image of @cfg. */
static int handles_open(const struct rbd_cfg *cfg, bool shared, struct rbd_handles *h,
			char **reason)
{
	int r;

	*h = (struct rbd_handles){ 0 };
	r = conn_get(cfg, shared, &h->conn, reason);
	if (r < 0)
		return r;
	r = rados_ioctx_create(h->conn->cluster, cfg->pool, &h->io);
	if (r < 0) {
		set_reason(reason, r, "rbd: pool '%s': %s", cfg->pool,
			   r == -ENOENT ? "no such pool" : strerror(-r));
		h->io = NULL;
		goto err;
	}
	if (cfg->ns)
		rados_ioctx_set_namespace(h->io, cfg->ns);
	if (cfg->snap)
		r = rbd_open_read_only(h->io, cfg->image, &h->image, cfg->snap);
	else
		r = rbd_open(h->io, cfg->image, &h->image, NULL);
	if (r < 0) {
		h->image = NULL;
		if (r == -ENOENT)
			set_reason(reason, r, "rbd: %s '%s%s%s/%s%s%s' does not exist",
				   cfg->snap ? "image or snapshot" : "image", cfg->pool,
				   cfg->ns ? "/" : "", cfg->ns ? cfg->ns : "", cfg->image,
				   cfg->snap ? "@" : "", cfg->snap ? cfg->snap : "");
		else
			set_reason(reason, r, "rbd: cannot open image '%s/%s': %s", cfg->pool,
				   cfg->image, strerror(-r));
		goto err;
	}
	return 0;
err:
	if (h->io)
		rados_ioctx_destroy(h->io);
	conn_put(h->conn);
	*h = (struct rbd_handles){ 0 };
	return r;
}

static void handles_close(struct rbd_handles *h)
{
	if (h->image)
		rbd_close(h->image);
	if (h->io)
		rados_ioctx_destroy(h->io);
	conn_put(h->conn);
	*h = (struct rbd_handles){ 0 };
}

/* ------------------------------------------------------------ config, open */

static int h_check_config(const char *cfgstring, char **reterr_reason)
{
	struct rbd_cfg c;
	struct rbd_handles h;
	char *why = NULL;
	int r;

	/* Parse, then really connect and open: `enable` and targetcli's CheckConfig get the
	 * reason (missing pool or image, bad key, unreachable monitor) within connect_timeout. */
	r = rbd_cfg_parse(cfgstring, &c, &why);
	if (r == 0) {
		r = handles_open(&c, false, &h, &why);
		if (r == 0)
			handles_close(&h);
		rbd_cfg_clear(&c);
	}
	if (reterr_reason)
		*reterr_reason = why;
	else
		free(why);
	return r;
}

static bool option_shared(struct rts_dev *dev)
{
	const char *v = rts_dev_get_option(dev, "connection");

	if (!v || !strcmp(v, "per-image"))
		return false;
	if (!strcmp(v, "shared"))
		return true;
	rts_dev_warn(dev, "rbd: runner.conf connection='%s' is neither 'shared' nor 'per-image'; "
			  "using per-image",
		     v);
	return false;
}

static int attach_image(struct rts_dev *dev, struct rbd_dev *rd)
{
	rbd_image_info_t info;
	int r;

	r = rbd_stat(rd->h.image, &info, sizeof(info));
	if (r < 0)
		return r;
	rd->image_size = info.size;
	rd->obj_size = info.obj_size;
	r = rbd_set_image_notification(rd->h.image, rd->efd, EVENT_TYPE_EVENTFD);
	if (r < 0)
		rts_dev_err(dev, "rbd: cannot set eventfd notification: %s", strerror(-r));
	return r;
}

static int h_open_dev(struct rts_dev *dev, bool reopen)
{
	uint32_t bs = rts_dev_get_block_size(dev);
	uint64_t ksize = rts_dev_get_size(dev) ? rts_dev_get_size(dev) :
						 rts_dev_get_num_lbas(dev) * bs;
	struct rbd_dev *rd;
	char *why = NULL;
	uint64_t size;
	int r;

	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->dev = dev;
	rd->efd = -1;
	r = rbd_cfg_parse(rts_dev_get_cfgstring(dev), &rd->cfg, &why);
	if (r < 0)
		goto err;
	rd->shared = option_shared(dev);
	rd->ro = rd->cfg.snap != NULL;
	rd->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (rd->efd < 0) {
		r = -errno;
		goto err;
	}
	r = handles_open(&rd->cfg, rd->shared, &rd->h, &why);
	if (r < 0)
		goto err;
	r = attach_image(dev, rd);
	if (r < 0)
		goto err;
	size = rd->image_size;
	if (ksize && ksize > size) {
		r = set_reason(&why, -EINVAL,
			       "rbd: the device size (%" PRIu64 " bytes) is larger than image "
			       "'%s/%s' (%" PRIu64 " bytes); grow the image with `rbd resize` first",
			       ksize, rd->cfg.pool, rd->cfg.image, size);
		goto err;
	}
	if (ksize)
		size = ksize;
	size -= size % bs;
	if (!size) {
		r = set_reason(&why, -EINVAL, "rbd: image '%s/%s' is smaller than one block",
			       rd->cfg.pool, rd->cfg.image);
		goto err;
	}
	rts_dev_set_private(dev, rd);
	rd->alua_group = rd->ro ? -1 : rts_dev_get_alua_port_group(dev);
	atomic_store(&rd->optimized, -1);
	if (rd->alua_group >= 0) {
		alua_lock_open(dev, rd, rd->h.image);
	}
	rts_dev_set_num_lbas(dev, size / bs);
	rts_dev_set_read_only(dev, rd->ro);
	rts_dev_set_thin_provisioning(dev, !rd->ro,
				      (uint32_t)(rd->obj_size >= bs ? rd->obj_size / bs : 1));
	rts_dev_info(dev, "rbd: %s%s '%s/%s%s%s%s%s' (%" PRIu64 " bytes, objects of %" PRIu64
			  " bytes)%s, %s connection",
		     reopen ? "adopted " : "", rd->ro ? "read-only snapshot" : "image",
		     rd->cfg.pool, rd->cfg.ns ? rd->cfg.ns : "", rd->cfg.ns ? "/" : "",
		     rd->cfg.image, rd->cfg.snap ? "@" : "", rd->cfg.snap ? rd->cfg.snap : "",
		     rd->image_size, rd->obj_size, ksize ? "" : ", sized from the image",
		     rd->shared ? "shared" : "own");
	return 0;
err:
	rts_dev_err(dev, "%s", why ? why : strerror(-r));
	free(why);
	handles_close(&rd->h);
	if (rd->efd >= 0)
		close(rd->efd);
	rbd_cfg_clear(&rd->cfg);
	free(rd);
	return r;
}

static void reopen_join(struct rbd_dev *rd)
{
	if (rd->state != ST_REOPENING)
		return;
	atomic_store(&rd->reopen_stop, true);
	pthread_join(rd->reopen_thread, NULL);
	handles_close(&rd->fresh);
	rd->state = ST_FENCED;
}

static void h_close_dev(struct rts_dev *dev)
{
	struct rbd_dev *rd = rts_dev_get_private(dev);

	if (!rd)
		return;
	reopen_join(rd);
	if (rd->reopens)
		rts_dev_info(dev, "rbd: reconnected %" PRIu64 " time(s) after blocklisting",
			     rd->reopens);
	handles_close(&rd->h);
	close(rd->efd);
	rbd_cfg_clear(&rd->cfg);
	free(rd);
	rts_dev_set_private(dev, NULL);
}

/* ------------------------------------------------------------ fencing */

static void *reopen_main(void *arg)
{
	struct rbd_dev *rd = arg;
	unsigned int tries = 0;

	/* The old image is dead (blocklisted): closing it only releases local state. */
	handles_close(&rd->old);
	while (!atomic_load(&rd->reopen_stop)) {
		char *why = NULL;
		int r = handles_open(&rd->cfg, rd->shared, &rd->fresh, &why);

		if (r == 0) {
			if (rd->alua_group >= 0) /* fenced: most likely another gateway took over */
				alua_lock_open(rd->dev, rd, rd->fresh.image);
			atomic_store_explicit(&rd->reopen_done, 1, memory_order_release);
			return NULL;
		}
		if (tries++ % 10 == 0)
			rts_dev_warn(rd->dev, "rbd: reconnecting after blocklisting: %s",
				     why ? why : strerror(-r));
		free(why);
		for (int i = 0; i < 10 && !atomic_load(&rd->reopen_stop); i++)
			nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
	return NULL;
}

/* Blocklisted and drained: hand the dead handles to a helper thread that reconnects. */
static void reopen_start(struct rbd_dev *rd)
{
	int r;

	if (rd->state != ST_FENCED || rd->ninflight || rd->alua_busy)
		return;
	rts_dev_warn(rd->dev, "rbd: client blocklisted; reconnecting with a new client");
	conn_unlist(rd->h.conn);
	rd->old = rd->h;
	rd->h = (struct rbd_handles){ 0 };
	rd->fresh = (struct rbd_handles){ 0 };
	atomic_store(&rd->reopen_done, 0);
	atomic_store(&rd->reopen_stop, false);
	r = pthread_create(&rd->reopen_thread, NULL, reopen_main, rd);
	if (r) {
		rts_dev_err(rd->dev, "rbd: cannot start the reconnect thread: %s", strerror(r));
		rd->h = rd->old; /* try again on the next command */
		rd->old = (struct rbd_handles){ 0 };
		return;
	}
	rd->state = ST_REOPENING;
}

/* May commands go to librbd now? Swaps in a reconnected image when one is ready. */
static bool h_ready(struct rbd_dev *rd)
{
	uint64_t v;

	if (rd->state == ST_OK)
		return true;
	if (rd->state == ST_FENCED) {
		reopen_start(rd);
		return false;
	}
	if (!atomic_load_explicit(&rd->reopen_done, memory_order_acquire))
		return false;
	pthread_join(rd->reopen_thread, NULL);
	rd->h = rd->fresh;
	rd->fresh = (struct rbd_handles){ 0 };
	if (read(rd->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		rts_dev_warn(rd->dev, "rbd: reading the eventfd: %s", strerror(errno));
	if (attach_image(rd->dev, rd) < 0) {
		rd->state = ST_FENCED; /* reconnect again */
		return false;
	}
	rd->state = ST_OK;
	rd->reopens++;
	rts_dev_info(rd->dev, "rbd: reconnected with a new client");
	return true;
}

/* ------------------------------------------------------------ completions */

static void poll_arm(struct rts_dev *dev, struct rbd_dev *rd);

static void finish(struct rts_dev *dev, struct rbd_dev *rd, struct rts_cmd *cmd, int r);

static void inflight_add(struct rbd_dev *rd, struct rts_cmd *cmd)
{
	struct rbd_cmd *rc = rts_cmd_get_private(cmd);

	rc->prev = NULL;
	rc->next = rd->inflight;
	if (rd->inflight)
		((struct rbd_cmd *)rts_cmd_get_private(rd->inflight))->prev = cmd;
	rd->inflight = cmd;
	rd->ninflight++;
}

static void inflight_del(struct rbd_dev *rd, struct rts_cmd *cmd)
{
	struct rbd_cmd *rc = rts_cmd_get_private(cmd);

	if (rc->prev)
		((struct rbd_cmd *)rts_cmd_get_private(rc->prev))->next = rc->next;
	else
		rd->inflight = rc->next;
	if (rc->next)
		((struct rbd_cmd *)rts_cmd_get_private(rc->next))->prev = rc->prev;
	rd->ninflight--;
}

static void poll_arm(struct rts_dev *dev, struct rbd_dev *rd)
{
	struct io_uring_sqe *sqe;
	uint64_t ud;

	if (rd->poll_armed || rd->draining || !rd->inflight)
		return;
	sqe = rts_dev_get_sqe(dev, rd->inflight, TAG_POLL);
	if (!sqe) {
		/* The ring is unusable (the device is failing); nothing would reap. */
		rts_dev_err(dev, "rbd: cannot watch the completion eventfd");
		return;
	}
	ud = sqe->user_data;
	io_uring_prep_poll_add(sqe, rd->efd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud);
	rd->poll_armed = true;
}

static void drain(struct rts_dev *dev, struct rbd_dev *rd)
{
	rbd_completion_t comps[DRAIN_BATCH];
	uint64_t v;
	int n;

	if (!rd->h.image)
		return;
	if (read(rd->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		rts_dev_warn(dev, "rbd: reading the eventfd: %s", strerror(errno));
	rd->draining = true;
	for (struct rts_cmd *cmd = atomic_exchange(&rd->cb_done, NULL), *next; cmd; cmd = next) {
		struct rbd_cmd *rc = rts_cmd_get_private(cmd);
		ssize_t ret = rbd_aio_get_return_value(rc->comp);

		next = rc->cb_next;
		rbd_aio_release(rc->comp);
		inflight_del(rd, cmd);
		finish(dev, rd, cmd, ret < 0 ? (int)ret : 0);
	}
	while ((n = rbd_poll_io_events(rd->h.image, comps, DRAIN_BATCH)) > 0) {
		for (int i = 0; i < n; i++) {
			struct rts_cmd *cmd = rbd_aio_get_arg(comps[i]);
			ssize_t ret = rbd_aio_get_return_value(comps[i]);

			rbd_aio_release(comps[i]);
			inflight_del(rd, cmd);
			finish(dev, rd, cmd, ret < 0 ? (int)ret : 0);
		}
	}
	rd->draining = false;
	if (rd->state == ST_FENCED)
		reopen_start(rd);
	poll_arm(dev, rd);
}

static void h_io_done(struct rts_dev *dev, struct rts_cmd *cmd, uint16_t tag, int res)
{
	struct rbd_dev *rd = rts_dev_get_private(dev);

	(void)cmd;
	if (tag != TAG_POLL) {
		rts_dev_err(dev, "rbd: unexpected completion tag %u", tag);
		return;
	}
	rd->poll_armed = false;
	if (res < 0 && res != -ECANCELED)
		rts_dev_warn(dev, "rbd: polling the eventfd: %s", strerror(-res));
	drain(dev, rd);
}

/*
 * librbd (16.2 at least) completes rbd_aio_compare_and_write without the image's event
 * notification (its C wrapper passes native_async = false), so a COMPARE AND WRITE alone is
 * created with this callback: it runs on a librbd thread, pushes the command on a lock-free
 * stack and writes our eventfd, and the I/O thread's drain() takes it from there. The
 * completion is released only by drain(), and such a completion is never on the event
 * queue, so the two paths never share one.
 */
static void caw_cb(rbd_completion_t comp, void *arg)
{
	struct rts_cmd *cmd = arg;
	struct rbd_dev *rd = rts_dev_get_private(rts_cmd_get_dev(cmd));
	struct rbd_cmd *rc = rts_cmd_get_private(cmd);
	struct rts_cmd *old = atomic_load_explicit(&rd->cb_done, memory_order_relaxed);
	uint64_t one = 1;

	(void)comp;
	do {
		rc->cb_next = old;
	} while (!atomic_compare_exchange_weak_explicit(&rd->cb_done, &old, cmd,
							memory_order_release, memory_order_relaxed));
	if (write(rd->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		rts_dev_err(rd->dev, "rbd: cannot signal a COMPARE AND WRITE completion: %s",
			    strerror(errno));
}

/* Errors that only mean "not now": the cluster is slow, unreachable or we are fenced. */
static bool retryable(int r)
{
	switch (-r) {
	case ETIMEDOUT:
	case ENOTCONN:
	case ECONNREFUSED:
	case ECONNRESET:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ESHUTDOWN:
	case EAGAIN:
		return true;
	}
	return false;
}

static int start_op(struct rts_dev *dev, struct rbd_dev *rd, struct rts_cmd *cmd);

#define RBD_OPT_FENCED (-2) /* rbd_dev.optimized of a fenced gateway */

static void finish(struct rts_dev *dev, struct rbd_dev *rd, struct rts_cmd *cmd, int r)
{
	struct rbd_cmd *rc = rts_cmd_get_private(cmd);

	if (r == -ESHUTDOWN && rd->state == ST_OK) {
		rd->state = ST_FENCED;
		if (rd->alua_group >= 0 && atomic_exchange(&rd->owner, false)) {
			/* whoever blocklisted us took the lock: our group is standby now */
			rts_dev_warn(dev, "rbd: fenced while holding the exclusive lock; ALUA "
					  "group %d goes standby", rd->alua_group);
			atomic_store(&rd->optimized, RBD_OPT_FENCED);
			atomic_store(&rd->alua_sync, true);
		}
	}
	if (rc->op == OP_CAW) {
		if (r == -EILSEQ) {
			/* librbd reports the image offset of the first differing byte. */
			uint64_t k = rc->mismatch_off >= rc->off ? rc->mismatch_off - rc->off :
								   rc->mismatch_off;
			free(rc->buf);
			rc->buf = NULL;
			rts_cmd_complete_sense_info(cmd, RTS_SENSE_MISCOMPARE, 0x1d, 0x00, k);
			return;
		}
		free(rc->buf);
		rc->buf = NULL;
		if (r == 0 && rc->fua && !rts_cmd_is_aborted(cmd)) {
			rc->op = OP_CAW_FLUSH;
			r = start_op(dev, rd, cmd);
			if (r == 0)
				return;
		}
	}
	if (r < 0 && retryable(r)) {
		rts_cmd_complete_sense(cmd, RTS_SENSE_NOT_READY, ASC_NOT_READY,
				       ASCQ_BECOMING_READY);
		return;
	}
	rts_cmd_complete(cmd, r);
}

/* ------------------------------------------------------------------- I/O */

struct op_args {
	const struct iovec *iov;
	unsigned int iovcnt;
	uint64_t off, len;
	const char *pattern;
	size_t pattern_len;
};

static int submit_op(struct rbd_dev *rd, struct rbd_cmd *rc, const struct op_args *a)
{
	rbd_image_t img = rd->h.image;

	switch (rc->op) {
	case OP_READ:
		return rbd_aio_readv(img, a->iov, (int)a->iovcnt, a->off, rc->comp);
	case OP_WRITE:
		return rbd_aio_writev(img, a->iov, (int)a->iovcnt, a->off, rc->comp);
	case OP_FLUSH:
	case OP_CAW_FLUSH:
		return rbd_aio_flush(img, rc->comp);
	case OP_ZERO:
		return rbd_aio_write_zeroes(img, a->off, (size_t)a->len, rc->comp, 0, 0);
	case OP_WRITESAME:
		return rbd_aio_writesame(img, a->off, (size_t)a->len, a->pattern, a->pattern_len,
					 rc->comp, 0);
	case OP_CAW: {
		ssize_t r = rbd_aio_compare_and_write(img, a->off, (size_t)a->len,
						      (const char *)rc->buf,
						      (const char *)rc->buf + a->len, rc->comp,
						      &rc->mismatch_off, 0);
		return r < 0 ? (int)r : 0;
	}
	}
	return -EINVAL;
}

/* ------------------------------------------------------------ two gateways (ALUA) */

/*
 * Several gateways (runners on different hosts) export one image, each through its own
 * target port group (rts_dev_get_alua_port_group(): the group of the ports enabled on this
 * host). One source of truth for which one is active/optimized: the holder of the image's
 * exclusive lock, recorded in the image metadata (RBD_ALUA_KEY) so every gateway reports the
 * same states. rbd_lock_acquire() switches librbd to its "standard" lock policy on every
 * gateway (acquired or refused): a peer's lock request is refused and a write never requests
 * the lock, so I/O arriving on a non-owner never moves it (tcmu-runner's ping-pong). A
 * non-owner ends I/O with NOT READY, TARGET PORT IN STANDBY STATE, like the kernel for a
 * standby port, and sets its group standby. The lock moves only through SET TARGET PORT
 * GROUPS making this gateway's group active: the group reports transitioning, a worker
 * breaks the holder's lock (librbd blocklists that client, alive or dead: a live one
 * reconnects as a non-owner) and acquires it, with a bounded number of tries.
 * librbd 16.2 has no RBD_LOCK_MODE_EXCLUSIVE_TRANSIENT (only EXCLUSIVE and SHARED).
 */
#define RBD_ALUA_KEY	   "rts.alua.optimized_group"
#define RBD_ALUA_TRIES	   5
#define ASC_LU_NOT_ACCESS  0x04
#define ASCQ_TP_STANDBY	   0x0b

static int alua_read_metadata(rbd_image_t image)
{
	char buf[16];
	size_t len = sizeof(buf);
	char *end;
	long v;

	if (rbd_metadata_get(image, RBD_ALUA_KEY, buf, &len) < 0)
		return -1;
	buf[sizeof(buf) - 1] = '\0';
	v = strtol(buf, &end, 10);
	return end != buf && v >= 0 && v <= UINT16_MAX ? (int)v : -1;
}

/* Who holds the lock: 1 someone, 0 nobody, -errno. */
static int lock_held(rbd_image_t image)
{
	rbd_lock_mode_t mode;
	char *owners[4];
	size_t n = 4;
	int r = rbd_lock_get_owners(image, &mode, owners, &n);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	rbd_lock_get_owners_cleanup(owners, n);
	return n > 0;
}

/*
 * Control thread (open) or the reconnect thread (@image not yet in use): take the lock if
 * nobody holds it (a holder, even a dead one, is left alone: only STPG breaks it), and read
 * who is optimized.
 */
static void alua_lock_open(struct rts_dev *dev, struct rbd_dev *rd, rbd_image_t image)
{
	int r = lock_held(image);

	if (r == 0)
		r = rbd_lock_acquire(image, RBD_LOCK_MODE_EXCLUSIVE);
	else if (r > 0)
		r = -EBUSY;
	if (r == -EINVAL) {
		rts_dev_warn(dev, "rbd: image '%s/%s' has no exclusive-lock feature: ALUA groups "
				  "are not tied to a lock owner",
			     rd->cfg.pool, rd->cfg.image);
		rd->alua_group = -1;
		return;
	}
	atomic_store(&rd->owner, r == 0);
	if (r == 0) {
		char v[16];

		snprintf(v, sizeof(v), "%d", rd->alua_group);
		r = rbd_metadata_set(image, RBD_ALUA_KEY, v);
		if (r < 0)
			rts_dev_warn(dev, "rbd: cannot record the optimized group: %s",
				     strerror(-r));
		atomic_store(&rd->optimized, rd->alua_group);
	} else {
		atomic_store(&rd->optimized, alua_read_metadata(image));
	}
	rts_dev_info(dev, "rbd: ALUA group %d is %s (exclusive lock %s; optimized group %d)",
		     rd->alua_group, atomic_load(&rd->owner) ? "active/optimized" : "standby",
		     atomic_load(&rd->owner) ? "acquired" : "held elsewhere",
		     atomic_load(&rd->optimized));
	atomic_store(&rd->alua_sync, true);
}

/*
 * I/O thread: write the states that follow from the lock into the device's groups: ours
 * optimized when we hold the lock, the recorded holder's group optimized when we do not,
 * every other group standby. Fenced and not yet reconnected, we cannot know who took over:
 * the other groups are transitioning, never all standby (Linux's scsi_dh_alua applies an
 * RTPG answer to the other paths' groups too, and fails I/O at once on a standby one: a
 * fenced gateway answering "nobody is optimized" failed the new owner's path, and the lock
 * went back and forth).
 */
static void alua_apply(struct rts_dev *dev, struct rbd_dev *rd)
{
	uint16_t ids[RTS_ALUA_MAX_GROUPS];
	int opt = atomic_load(&rd->optimized);
	bool owner = atomic_load(&rd->owner);
	unsigned int n = rts_dev_get_alua_groups(dev, ids, RTS_ALUA_MAX_GROUPS);

	atomic_store(&rd->alua_sync, false);
	for (unsigned int i = 0; i < n && i < RTS_ALUA_MAX_GROUPS; i++) {
		bool ao = ids[i] == rd->alua_group ? owner : !owner && ids[i] == opt;
		uint8_t want = ao ? RTS_ALUA_ACTIVE_OPTIMIZED : RTS_ALUA_STANDBY;

		if (!ao && !owner && opt == RBD_OPT_FENCED && ids[i] != rd->alua_group)
			want = RTS_ALUA_TRANSITIONING;
		int cur = rts_dev_get_alua_state(dev, ids[i]);

		if (cur >= 0 && cur != want && rts_dev_set_alua_state(dev, ids[i], want) < 0)
			rts_dev_warn(dev, "rbd: cannot set ALUA group %u to state %u", ids[i], want);
	}
}

/*
 * I/O thread, every command: reconnect after a fence (a fenced non-owner still reconnects: no
 * I/O reaches issue()) and write the group states that follow from the lock. Every command,
 * not only I/O: once an initiator's multipath moved its I/O to the new owner, only its path
 * checkers' TUR and REPORT TARGET PORT GROUPS reach the fenced gateway, and RTPG (answered
 * from configfs) must not go on reporting its group active/optimized.
 */
static void alua_catch_up(struct rts_dev *dev, struct rbd_dev *rd)
{
	if (rd->state != ST_OK)
		h_ready(rd);
	if (atomic_load(&rd->alua_sync))
		alua_apply(dev, rd);
}

/* I/O thread: may this command go to librbd? Otherwise it is completed here. */
static bool alua_gate(struct rts_dev *dev, struct rbd_dev *rd, struct rts_cmd *cmd)
{
	alua_catch_up(dev, rd);
	if (atomic_load(&rd->owner))
		return true;
	rts_cmd_complete_sense(cmd, RTS_SENSE_NOT_READY, ASC_LU_NOT_ACCESS, ASCQ_TP_STANDBY);
	return false;
}

/*
 * Worker: the initiator asked for this path. Break whoever holds the lock (librbd
 * blocklists that client: a live gateway reconnects as a non-owner, a dead one's lock does
 * not wait for its watch to time out), then take it; a bounded number of tries.
 */
static int alua_take(struct rts_dev *dev, struct rts_cmd *cmd, void *arg)
{
	struct rbd_dev *rd = arg;
	char v[16];
	int r = -EAGAIN;

	(void)cmd;
	for (unsigned int t = 0; t < RBD_ALUA_TRIES; t++) {
		rbd_lock_mode_t mode;
		char *owners[4];
		size_t n = 4;

		r = rbd_lock_get_owners(rd->h.image, &mode, owners, &n);
		if (r == 0) {
			for (size_t i = 0; i < n; i++) {
				int b = rbd_lock_break(rd->h.image, mode, owners[i]);

				rts_dev_warn(dev, "rbd: breaking the exclusive lock of %s "
						  "(blocklisting it): %s",
					     owners[i], b < 0 ? strerror(-b) : "done");
			}
			rbd_lock_get_owners_cleanup(owners, n);
		}
		r = rbd_lock_acquire(rd->h.image, RBD_LOCK_MODE_EXCLUSIVE);
		if (r == 0)
			break;
	}
	if (r < 0) {
		rts_dev_err(dev, "rbd: could not take the exclusive lock for ALUA group %d: %s",
			    rd->alua_group, strerror(-r));
		return -EBUSY;
	}
	snprintf(v, sizeof(v), "%d", rd->alua_group);
	r = rbd_metadata_set(rd->h.image, RBD_ALUA_KEY, v);
	if (r < 0)
		rts_dev_warn(dev, "rbd: cannot record the optimized group: %s", strerror(-r));
	atomic_store(&rd->optimized, rd->alua_group);
	atomic_store(&rd->owner, true);
	atomic_store(&rd->alua_sync, true);
	rd->lock_moves++;
	rts_dev_info(dev, "rbd: ALUA group %d active/optimized: exclusive lock acquired",
		     rd->alua_group);
	return 0;
}

/* Worker: give the lock up (this gateway's group was set standby or unavailable). */
static int alua_release(struct rts_dev *dev, struct rts_cmd *cmd, void *arg)
{
	struct rbd_dev *rd = arg;
	int r;

	(void)cmd;
	atomic_store(&rd->owner, false);
	r = rbd_lock_release(rd->h.image);
	if (r < 0 && r != -EINVAL)
		rts_dev_warn(dev, "rbd: releasing the exclusive lock: %s", strerror(-r));
	atomic_store(&rd->alua_sync, true);
	return 0;
}

/*
 * I/O thread, the worker's result: write the group states that follow from it before the
 * core records the STPG's (a failed take must not leave our group transitioning, a state
 * in which the kernel lets no I/O through to tell us otherwise).
 */
static void alua_done(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = rts_cmd_get_dev(cmd);
	struct rbd_dev *rd = rts_dev_get_private(dev);

	rd->alua_busy = false;
	if (atomic_load(&rd->alua_sync) || err)
		alua_apply(dev, rd);
	rts_cmd_complete(cmd, err);
}

static int alua_offload(struct rbd_dev *rd, struct rts_cmd *cmd,
			int (*fn)(struct rts_dev *dev, struct rts_cmd *cmd, void *arg),
			void (*done)(struct rts_cmd *cmd, int err))
{
	int r;

	if (rd->alua_busy)
		return -EBUSY; /* one lock move at a time */
	rts_cmd_intercept(cmd, done);
	r = rts_cmd_offload(cmd, fn, rd);
	if (r == 0)
		rd->alua_busy = true;
	return r;
}

/*
 * Worker: is the lock still ours? A holder whose lock another gateway broke learns it from
 * its next librbd op, and after a planned switch an initiator's multipath sends it none: only
 * its path checker's TEST UNIT READY. rbd_is_exclusive_lock_owner() asks the OSD (a
 * blocklisted client is refused), so it runs here, not on the I/O thread.
 */
static int alua_check(struct rts_dev *dev, struct rts_cmd *cmd, void *arg)
{
	struct rbd_dev *rd = arg;
	int own = 0;
	int r = rbd_is_exclusive_lock_owner(rd->h.image, &own);

	(void)cmd;
	if (r == -ESHUTDOWN) {
		atomic_store(&rd->lock_lost, true);
	} else if (r == 0 && !own) {
		/* not ours, and we were not blocklisted: who is optimized now? */
		atomic_store(&rd->owner, false);
		atomic_store(&rd->optimized, alua_read_metadata(rd->h.image));
		atomic_store(&rd->alua_sync, true);
		rts_dev_warn(dev, "rbd: the exclusive lock is no longer ours; ALUA group %d goes "
				  "standby",
			     rd->alua_group);
	}
	return 0;
}

/* I/O thread: the check's TEST UNIT READY ends as the state it found says. */
static void alua_check_done(struct rts_cmd *cmd, int err)
{
	struct rts_dev *dev = rts_cmd_get_dev(cmd);
	struct rbd_dev *rd = rts_dev_get_private(dev);

	(void)err;
	rd->alua_busy = false;
	if (atomic_exchange(&rd->lock_lost, false) && rd->state == ST_OK &&
	    atomic_exchange(&rd->owner, false)) {
		rd->state = ST_FENCED; /* reconnects like a fence found by I/O (finish()) */
		rts_dev_warn(dev, "rbd: fenced while holding the exclusive lock (found by TEST UNIT "
				  "READY); ALUA group %d goes standby",
			     rd->alua_group);
		atomic_store(&rd->optimized, RBD_OPT_FENCED);
		atomic_store(&rd->alua_sync, true);
	}
	alua_catch_up(dev, rd);
	if (atomic_load(&rd->owner))
		rts_cmd_complete(cmd, 0);
	else
		rts_cmd_complete_sense(cmd, RTS_SENSE_NOT_READY, ASC_LU_NOT_ACCESS, ASCQ_TP_STANDBY);
}

/* I/O thread: a TEST UNIT READY through the owner checks the lock, at most once a second. */
static bool alua_check_due(struct rbd_dev *rd)
{
	struct timespec ts;
	uint64_t t;

	if (!atomic_load(&rd->owner) || rd->state != ST_OK || rd->alua_busy)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (rd->checked_ns && t - rd->checked_ns < 1000000000u)
		return false;
	rd->checked_ns = t;
	return true;
}

static int h_set_alua(struct rts_dev *dev, struct rts_cmd *cmd,
		      const struct rts_alua_change *changes, unsigned int n)
{
	struct rbd_dev *rd = rts_dev_get_private(dev);
	const struct rts_alua_change *mine = NULL;

	for (unsigned int i = 0; rd->alua_group >= 0 && i < n; i++)
		if (changes[i].id == rd->alua_group)
			mine = &changes[i];
	if (!mine) {
		rts_cmd_complete(cmd, 0); /* other gateways' groups: recorded by the core */
		return 0;
	}
	if (rd->state != ST_OK && !h_ready(rd))
		return -EBUSY; /* reconnecting after a fence: the initiator retries */
	if (mine->state == RTS_ALUA_ACTIVE_OPTIMIZED ||
	    mine->state == RTS_ALUA_ACTIVE_NON_OPTIMIZED) {
		if (atomic_load(&rd->owner)) {
			rts_cmd_complete(cmd, 0);
			return 0;
		}
		/* initiators see transitioning (and retry) until the lock is ours */
		rts_dev_set_alua_state(dev, (uint16_t)rd->alua_group, RTS_ALUA_TRANSITIONING);
		return alua_offload(rd, cmd, alua_take, alua_done);
	}
	if (!atomic_load(&rd->owner)) {
		rts_cmd_complete(cmd, 0);
		return 0;
	}
	return alua_offload(rd, cmd, alua_release, alua_done);
}

/* Issue @cmd's operation (rc->op) to librbd; 0 when it will complete from drain(). */
static int issue(struct rts_dev *dev, struct rbd_dev *rd, struct rts_cmd *cmd,
		 const struct op_args *a)
{
	struct rbd_cmd *rc = rts_cmd_get_private(cmd);
	int r;

	if (!h_ready(rd))
		return -ESHUTDOWN;
	r = rbd_aio_create_completion(cmd, rc->op == OP_CAW ? caw_cb : NULL, &rc->comp);
	if (r < 0)
		return r;
	r = submit_op(rd, rc, a);
	if (r < 0) {
		rbd_aio_release(rc->comp);
		return r;
	}
	inflight_add(rd, cmd);
	poll_arm(dev, rd);
	return 0;
}

/* Start @cmd's operation, ending it with the right sense when it cannot start. */
static int start_op_args(struct rts_dev *dev, struct rbd_dev *rd, struct rts_cmd *cmd,
			 const struct op_args *a)
{
	int r;

	if (rd->alua_group >= 0 && !alua_gate(dev, rd, cmd))
		return 0;
	r = issue(dev, rd, cmd, a);

	if (r < 0 && retryable(r)) {
		rts_cmd_complete_sense(cmd, RTS_SENSE_NOT_READY, ASC_NOT_READY,
				       ASCQ_BECOMING_READY);
		return 0;
	}
	return r;
}

static int start_op(struct rts_dev *dev, struct rbd_dev *rd, struct rts_cmd *cmd)
{
	return start_op_args(dev, rd, cmd, &(struct op_args){ 0 });
}

static void begin(struct rts_cmd *cmd, enum rbd_op op)
{
	struct rbd_cmd *rc = rts_cmd_get_private(cmd);

	*rc = (struct rbd_cmd){ .op = (uint8_t)op };
}

static int h_read(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		    unsigned int iovcnt, uint64_t off, uint64_t len)
{
	begin(cmd, OP_READ);
	return start_op_args(dev, rts_dev_get_private(dev), cmd,
			     &(struct op_args){ .iov = iov, .iovcnt = iovcnt, .off = off, .len = len });
}

static int h_write(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
		     unsigned int iovcnt, uint64_t off, uint64_t len, unsigned int flags)
{
	struct rbd_dev *rd = rts_dev_get_private(dev);

	(void)flags; /* no RTS_HANDLER_F_FUA: the core follows a FUA write with flush() */
	if (rd->ro)
		return -EROFS;
	begin(cmd, OP_WRITE);
	return start_op_args(dev, rd, cmd,
			     &(struct op_args){ .iov = iov, .iovcnt = iovcnt, .off = off, .len = len });
}

static int h_flush(struct rts_dev *dev, struct rts_cmd *cmd)
{
	begin(cmd, OP_FLUSH);
	return start_op(dev, rts_dev_get_private(dev), cmd);
}

static int h_unmap(struct rts_dev *dev, struct rts_cmd *cmd, uint64_t off, uint64_t len)
{
	struct rbd_dev *rd = rts_dev_get_private(dev);

	if (rd->ro)
		return -EROFS;
	if (!len) {
		rts_cmd_complete(cmd, 0);
		return 0;
	}
	begin(cmd, OP_ZERO);
	return start_op_args(dev, rd, cmd, &(struct op_args){ .off = off, .len = len });
}

static int h_write_same(struct rts_dev *dev, struct rts_cmd *cmd, const struct iovec *iov,
			  unsigned int iovcnt, uint64_t off, uint64_t len, unsigned int flags)
{
	struct rbd_dev *rd = rts_dev_get_private(dev);
	uint32_t bs = rts_dev_get_block_size(dev);

	if (rd->ro)
		return -EROFS;
	if (flags & RTS_IO_UNMAP)
		return h_unmap(dev, cmd, off, len);
	/* The core hands the one-block pattern in one buffer (its bounce buffer). */
	if (iovcnt != 1 || iov[0].iov_len < bs || len % bs)
		return -EINVAL;
	begin(cmd, OP_WRITESAME);
	return start_op_args(dev, rd, cmd,
			     &(struct op_args){ .off = off,
						.len = len,
						.pattern = iov[0].iov_base,
						.pattern_len = bs });
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Copy @len bytes of the command's data from byte @skip into @dst. */
static bool copy_from_iov(const struct iovec *iov, unsigned int cnt, size_t skip, uint8_t *dst,
			  size_t len)
{
	for (unsigned int i = 0; i < cnt && len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		memcpy(dst, (const uint8_t *)iov[i].iov_base + skip, l);
		dst += l;
		len -= l;
		skip = 0;
	}
	return len == 0;
}

/*
 * COMPARE AND WRITE (SBC-4 5.3) goes to the OSD as one compare-and-write op, atomic on the
 * cluster (the core's read-compare-write would only be atomic within this gateway). One
 * block at most, as the Block Limits page says, so it never spans two RADOS objects.
 */
static int h_caw(struct rts_dev *dev, struct rbd_dev *rd, struct rts_cmd *cmd)
{
	const uint8_t *cdb = rts_cmd_get_cdb(cmd);
	uint32_t bs = rts_dev_get_block_size(dev);
	struct rbd_cmd *rc = rts_cmd_get_private(cmd);
	unsigned int iovcnt;
	const struct iovec *iov = rts_cmd_get_iov(cmd, &iovcnt);
	uint64_t lba, len;
	uint8_t n;
	int r;

	if (rts_cmd_get_cdb_len(cmd) < 16)
		return -EINVAL;
	lba = get_be64(cdb + 2);
	n = cdb[13];
	if (rd->ro)
		return -EROFS;
	if (n > 1) {
		rts_cmd_complete_sense(cmd, RTS_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
		return 0;
	}
	if (lba + n > rts_dev_get_num_lbas(dev) || lba + n < lba) {
		rts_cmd_complete_sense(cmd, RTS_SENSE_ILLEGAL_REQUEST, 0x21, 0x00);
		return 0;
	}
	if (!n) {
		rts_cmd_complete(cmd, 0);
		return 0;
	}
	len = (uint64_t)n * bs;
	if (rts_cmd_get_data_len(cmd) < 2 * len) {
		rts_cmd_complete_sense(cmd, RTS_SENSE_ILLEGAL_REQUEST, 0x1a, 0x00);
		return 0;
	}
	begin(cmd, OP_CAW);
	rc->buf = malloc(2 * len);
	if (!rc->buf)
		return -ENOMEM;
	copy_from_iov(iov, iovcnt, 0, rc->buf, 2 * len);
	rc->off = lba * bs;
	rc->fua = (cdb[1] & 0x08) || !rts_dev_get_write_cache(dev);
	r = issue(dev, rd, cmd, &(struct op_args){ .off = rc->off, .len = len });
	if (r < 0) {
		free(rc->buf);
		rc->buf = NULL;
		if (retryable(r)) {
			rts_cmd_complete_sense(cmd, RTS_SENSE_NOT_READY, ASC_NOT_READY,
					       ASCQ_BECOMING_READY);
			return 0;
		}
	}
	return r;
}

static int h_handle_cmd(struct rts_dev *dev, struct rts_cmd *cmd)
{
	struct rbd_dev *rd = rts_dev_get_private(dev);

	if (rd->alua_group >= 0) {
		alua_catch_up(dev, rd);
		if (rts_cmd_get_cdb(cmd)[0] == 0x00 && alua_check_due(rd) &&
		    alua_offload(rd, cmd, alua_check, alua_check_done) == 0)
			return 0; /* TEST UNIT READY */
	}
	if (rts_cmd_get_cdb(cmd)[0] == 0x89) {
		if (rd->alua_group >= 0 && !alua_gate(dev, rd, cmd))
			return 0;
		return h_caw(dev, rd, cmd);
	}
	return RTS_CMD_NOT_HANDLED;
}

/* ---------------------------------------------------------------- reconfig */

static int h_reconfig(struct rts_dev *dev, const struct rts_reconfig *rc)
{
	struct rbd_dev *rd = rts_dev_get_private(dev);
	uint32_t bs = rts_dev_get_block_size(dev);

	if (rc->what & RTS_RECONFIG_CFGSTRING)
		return -EOPNOTSUPP; /* reopen the device to change its image */
	if (rc->what & RTS_RECONFIG_SIZE) {
		uint64_t isz = 0;
		int r;

		if (!rc->size || rc->size % bs)
			return -EINVAL;
		if (!rd->h.image)
			return -ESHUTDOWN;
		/* Like ceph-iscsi: the image is resized first (`rbd resize`), then the device.
		 * librbd refreshes the header it was notified about. */
		r = rbd_get_size(rd->h.image, &isz);
		if (r < 0)
			return r;
		rd->image_size = isz;
		if (rc->size > isz) {
			rts_dev_err(dev, "rbd: cannot grow the device to %" PRIu64 " bytes: image "
					 "'%s/%s' has %" PRIu64 " (resize the image first)",
				    rc->size, rd->cfg.pool, rd->cfg.image, isz);
			return -ENOSPC;
		}
		rts_dev_set_num_lbas(dev, rc->size / bs);
		rts_dev_info(dev, "rbd: resized to %" PRIu64 " bytes", rc->size);
	}
	if (rc->what & RTS_RECONFIG_WRITE_CACHE)
		rts_dev_set_write_cache(dev, rc->write_cache);
	return 0;
}

static const struct rts_handler rbd_handler = {
	RTS_HANDLER_INIT,
	.name = "rbd: Ceph RBD image through librbd",
	.subtype = "rbd",
	.cfg_desc = "rbd/<pool>/[<namespace>/]<image>[@<snap>][;osd_op_timeout=<s>]"
		    "[;conf=<path>][;id=<user>][;connect_timeout=<s>]",
	.flags = RTS_HANDLER_F_WRITE_SAME_UNMAP,
	.cmd_private_size = sizeof(struct rbd_cmd),
	.check_config = h_check_config,
	.open = h_open_dev,
	.close = h_close_dev,
	.reconfig = h_reconfig,
	.handle_cmd = h_handle_cmd,
	.read = h_read,
	.write = h_write,
	.flush = h_flush,
	.unmap = h_unmap,
	.write_same = h_write_same,
	.io_done = h_io_done,
	.set_alua = h_set_alua,
};

RTS_HANDLER_DEFINE(rbd_handler)
