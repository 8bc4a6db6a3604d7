/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rts_cmd_offload(): a per-device worker pool for handlers built on blocking calls (a
 * synchronous library, a REST client), so they never block the I/O thread. Started on first
 * use with the handler option "offload_threads" (runner.conf [handler.<subtype>], 1..64,
 * default 4); each worker runs one job at a time and completes its command through
 * rts_cmd_complete_async(). rts_dev_stop() ends the pool after the I/O thread, waiting at
 * most the handler timeout: a worker stuck in the handler is left (and the device with it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev.h"
#include "macro.h"

#define OFFLOAD_DEFAULT 4
#define OFFLOAD_MAX 64

struct dev_offload {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rts_cmd *head, *tail;
	bool stop;
	unsigned int nthreads;
	pthread_t th[OFFLOAD_MAX];
};

static void *worker(void *arg)
{
	struct rts_dev *dev = arg;
	struct dev_offload *o = dev->offload;

	for (;;) {
		struct rts_cmd *cmd;
		int r;

		pthread_mutex_lock(&o->lock);
		while (!o->head && !o->stop)
			pthread_cond_wait(&o->cond, &o->lock);
		cmd = o->head;
		if (!cmd) {
			pthread_mutex_unlock(&o->lock);
			return NULL;
		}
		o->head = cmd->offload_next;
		if (!o->head)
			o->tail = NULL;
		pthread_mutex_unlock(&o->lock);
		r = cmd->offload_fn(dev, cmd, cmd->offload_arg);
		if (r > 0) {
			dev_contract(dev, "offloaded work returned %d for cmd %u: not 0 or -errno; it "
				     "fails with HARDWARE ERROR", r, cmd->cmd_id);
			r = -EPROTO;
		}
		rts_cmd_complete_async(cmd, r);
	}
}

static int offload_start(struct rts_dev *dev)
{
	const char *opt = rts_dev_get_option(dev, "offload_threads");
	unsigned int n = OFFLOAD_DEFAULT;
	struct dev_offload *o;

	if (opt) {
		char *end;
		unsigned long v = strtoul(opt, &end, 10);

		if (*end || v < 1 || v > OFFLOAD_MAX)
			rts_dev_warn(dev, "offload_threads '%s' is not 1..%d; using %u", opt,
				     OFFLOAD_MAX, n);
		else
			n = (unsigned int)v;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	dev->offload = o;
	for (; o->nthreads < n; o->nthreads++) {
		int r = pthread_create(&o->th[o->nthreads], NULL, worker, dev);
		if (r != 0) {
			if (o->nthreads)
				break; /* fewer workers, still usable */
			dev->offload = NULL;
			free(o);
			return -r;
		}
	}
	rts_dev_dbg(dev, "offload pool: %u worker(s)", o->nthreads);
	return 0;
}

RTS_EXPORT int rts_cmd_offload(struct rts_cmd *cmd,
			       int (*fn)(struct rts_dev *dev, struct rts_cmd *cmd, void *arg),
			       void *arg)
{
	struct rts_dev *dev = cmd->dev;
	struct dev_offload *o;
	int r;

	assert_return(fn, -EINVAL);
	if (!dev->offload) {
		r = offload_start(dev);
		if (r < 0)
			return r;
	}
	o = dev->offload;
	cmd->offload_fn = fn;
	cmd->offload_arg = arg;
	cmd->offload_next = NULL;
	pthread_mutex_lock(&o->lock);
	if (o->tail)
		o->tail->offload_next = cmd;
	else
		o->head = cmd;
	o->tail = cmd;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
	return 0;
}

void dev_offload_stop(struct rts_dev *dev)
{
	struct dev_offload *o = dev->offload;
	struct timespec ts;
	bool stuck = false;

	if (!o)
		return;
	pthread_mutex_lock(&o->lock);
	o->stop = true;
	o->head = o->tail = NULL; /* the I/O thread has ended every command already */
	pthread_cond_broadcast(&o->cond);
	pthread_mutex_unlock(&o->lock);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += dev->handler_timeout_ms / 1000 + 1;
	for (unsigned int i = 0; i < o->nthreads; i++)
		if (pthread_timedjoin_np(o->th[i], NULL, &ts) != 0) {
			stuck = true;
			pthread_detach(o->th[i]);
		}
	dev->offload = NULL;
	if (stuck) {
		/* a worker is inside the handler and will touch the device and the pool later */
		dev_contract(dev, "offloaded work did not return by the end of the stop; the device "
			     "is left allocated");
		dev->offload_stuck = true;
		return;
	}
	pthread_mutex_destroy(&o->lock);
	pthread_cond_destroy(&o->cond);
	free(o);
}
