/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * crash_cycle: kill -9 the runner at a random moment under random write load, restart it,
 * and check that every write acknowledged before the kill reads back. A tool, not a test:
 *
 *   crash_cycle <handler dir> <file|file-wt|qcow2> <cycles> <scratch dir> [seed]
 *
 * This process plays the kernel (the ring simulator: the shared region and its eventfds
 * live here and survive the runner); a forked child plays rts-runner, serving the device
 * with the handler plugin, and is killed with SIGKILL while writes are in flight. The
 * kernel side then does what action/reset_ring does (commands still outstanding end BUSY),
 * and the next child adopts the device (open with reopen=true), as rts-runner does after a
 * restart. Every write carries its (LBA, generation) in every 8-byte word; the verifier
 * records the generation of each acknowledged write, never keeps two writes to one block in
 * flight (so their order is known), and after each restart reads every written block back:
 * it must hold the last acknowledged generation, or the generation of the one write that
 * was in flight at the kill (it may or may not have landed). Anything else is named: LOSS
 * (an older generation or zeros), TORN (words of different writes in one block).
 * file: write cache on; file-wt: write cache off (every write FUA); qcow2: after every kill
 * `qemu-img check` runs on the image (exit 0 clean, 3 leaked clusters only, else corrupt).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rts/device.h>

#include "genlog.h"

#define BS GENLOG_BS
#define NBLK 2048u /* 8 MiB */
#define QD 16
#define TMO 10000

struct wr {
	bool busy;
	uint32_t lba;
	uint64_t gen;
	uint8_t buf[BS];
};

static uint64_t acked[NBLK], pending[NBLK];
static struct genlog glog = { .nblk = NBLK, .acked = acked, .pending = pending };
static bool inflight[NBLK];
static struct wr slots[QD];
static uint64_t rng = 0x853c49e6748fea9bull;
static uint64_t next_gen;
static struct {
	uint64_t acked, unacked_at_kill;
	unsigned int check_clean, check_leaks, check_bad;
} st;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void cdb16(uint8_t *c, uint8_t op, uint64_t lba, uint32_t n)
{
	memset(c, 0, 16);
	c[0] = op;
	for (int i = 0; i < 8; i++)
		c[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		c[10 + i] = (uint8_t)(n >> (24 - 8 * i));
}

/* ------------------------------------------------------------ the "runner" */

static pid_t start_runner(struct rts_sim *sim, const struct rts_handler *h, const char *cfgstring,
			  bool wce, bool reopen)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) < 0)
		exit(2);
	pid = fork();
	if (pid < 0)
		exit(2);
	if (pid == 0) {
		struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "soak0", .cfgstring = cfgstring,
					      .block_size = BS, .size = (uint64_t)NBLK * BS,
					      .queue_depth = 64, .write_cache = wce };
		struct rts_dev *dev;
		char *why = NULL;

		close(p[0]);
		if (rts_dev_new_sim(&cfg, h, sim, &dev) < 0 || rts_dev_open(dev, reopen, &why) < 0) {
			fprintf(stderr, "runner: cannot open '%s': %s\n", cfgstring, why ? why : "?");
			_exit(3);
		}
		if (rts_dev_start(dev) < 0)
			_exit(3);
		if (write(p[1], "1", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &c, 1) != 1) {
		fprintf(stderr, "crash_cycle: the runner did not start\n");
		exit(2);
	}
	close(p[0]);
	return pid;
}

/* ------------------------------------------------------------ the "kernel" */

static void on_write_done(void *ud, const struct rts_sim_completion *c)
{
	struct wr *w = c->tag;

	(void)ud;
	genlog_done(&glog, w->lba, w->gen, c->status == 0);
	st.acked += c->status == 0;
	inflight[w->lba] = false;
	w->busy = false;
}

static void submit_write(struct rts_sim *sim, struct wr *w)
{
	uint8_t cdb[16];
	uint32_t lba;

	do
		lba = (uint32_t)(rnd() % NBLK);
	while (inflight[lba]);
	w->busy = true;
	w->lba = lba;
	w->gen = ++next_gen;
	inflight[lba] = true;
	genlog_fill(w->buf, lba, w->gen);
	cdb16(cdb, 0x8a, lba, 1);
	if (rts_sim_submit(sim, cdb, 16, RTS_SIM_TO_DEV, w->buf, BS, w, NULL) < 0) {
		fprintf(stderr, "crash_cycle: submit failed\n");
		exit(2);
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Random writes at queue depth QD for @ms, then kill -9 the runner with writes in flight. */
static void load_and_kill(struct rts_sim *sim, pid_t pid, int ms)
{
	int64_t end = now_ms() + ms;
	int status;

	while (now_ms() < end) {
		for (int i = 0; i < QD; i++)
			if (!slots[i].busy)
				submit_write(sim, &slots[i]);
		rts_sim_kick(sim);
		if (rts_sim_wait(sim, 5) < 0 || rts_sim_reap(sim, on_write_done, NULL) < 0) {
			fprintf(stderr, "crash_cycle: simulator: %s\n", rts_sim_broken_reason(sim));
			exit(2);
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "crash_cycle: the runner died by itself (status %#x)\n", status);
			exit(1);
		}
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* what the runner published before dying counts as acknowledged */
	rts_sim_reap(sim, on_write_done, NULL);
	for (int i = 0; i < QD; i++)
		if (slots[i].busy) {
			genlog_done(&glog, slots[i].lba, slots[i].gen, false);
			st.unacked_at_kill++;
		}
	/* action/reset_ring: the kernel ends what is still outstanding (BUSY: retried) */
	rts_sim_reset_ring(sim, 0x08, NULL, NULL);
	for (int i = 0; i < QD; i++) {
		if (slots[i].busy)
			inflight[slots[i].lba] = false;
		slots[i].busy = false;
	}
}

static void verify_all(struct rts_sim *sim, int cycle)
{
	static uint8_t bufs[QD][BS];
	uint8_t cdb[16];
	uint32_t lbas[QD];

	for (uint32_t base = 0; base < NBLK;) {
		unsigned int n = 0;

		for (; base < NBLK && n < QD; base++) {
			if (!genlog_touched(&glog, base))
				continue;
			cdb16(cdb, 0x88, base, 1);
			if (rts_sim_submit(sim, cdb, 16, RTS_SIM_FROM_DEV, bufs[n], BS, NULL, NULL) < 0)
				exit(2);
			lbas[n++] = base;
		}
		if (!n)
			continue;
		rts_sim_kick(sim);
		while (rts_sim_outstanding(sim)) {
			if (rts_sim_wait(sim, TMO) <= 0 || rts_sim_reap(sim, NULL, NULL) < 0) {
				fprintf(stderr, "crash_cycle: verification reads did not complete\n");
				exit(2);
			}
		}
		for (unsigned int i = 0; i < n; i++)
			genlog_verify(&glog, lbas[i], bufs[i], cycle);
	}
}

/*
 * The killed runner's io_uring is torn down asynchronously by the kernel and holds the
 * image's open file (and with it qemu's OFD lock) until then: "Failed to get shared 'write'
 * lock" right after the kill is that, not corruption. Retry that one answer for up to 5 s.
 */
static void qemu_img_check(const char *img)
{
	static char cmd[4200];
	char out[4096];
	int rc = -1;

	snprintf(cmd, sizeof(cmd), "qemu-img check -q '%s' 2>&1", img);
	for (int tries = 0; tries < 100; tries++) {
		FILE *p = popen(cmd, "r");
		size_t n = 0;

		if (!p)
			break;
		while (n < sizeof(out) - 1 && fgets(out + n, (int)(sizeof(out) - n), p))
			n = strlen(out);
		out[n] = '\0';
		rc = pclose(p);
		rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
		if (rc != 1 || !strstr(out, "lock"))
			break;
		usleep(50000);
	}
	if (rc == 0)
		st.check_clean++;
	else if (rc == 3)
		st.check_leaks++;
	else {
		st.check_bad++;
		printf("%s", out);
		printf("qemu-img check '%s': exit %d (corrupt or unreadable)\n", img, rc);
	}
}

int main(int argc, char **argv)
{
	static char so[4096], img[4096], cfgstring[4300];
	char *why = NULL;
	struct rts_loaded_handler *lh;
	struct rts_sim_params sp = { .cmdr_size = 1 << 20, .data_size = 4 << 20 };
	struct rts_sim *sim;
	bool qcow, wce;
	int cycles;

	if (argc < 5) {
		fprintf(stderr, "usage: %s <handler dir> <file|file-wt|qcow2> <cycles> <scratch dir> "
				"[seed]\n", argv[0]);
		return 2;
	}
	qcow = strcmp(argv[2], "qcow2") == 0;
	wce = strcmp(argv[2], "file-wt") != 0;
	cycles = atoi(argv[3]);
	if (argc > 5)
		rng = strtoull(argv[5], NULL, 0) | 1;
	snprintf(so, sizeof(so), "%s/handler_%s.so", argv[1], qcow ? "qcow2" : "file");
	snprintf(img, sizeof(img), "%s/soak-%s.img", argv[4], argv[2]);
	unlink(img);
	if (qcow) {
		static char cmd[4200];
		snprintf(cmd, sizeof(cmd), "qemu-img create -q -f qcow2 '%s' %u", img, NBLK * BS);
		if (system(cmd) != 0) {
			fprintf(stderr, "crash_cycle: qemu-img create failed (qemu-utils installed?)\n");
			return 77;
		}
		snprintf(cfgstring, sizeof(cfgstring), "qcow/%s", img);
	} else {
		snprintf(cfgstring, sizeof(cfgstring), "file/%s;size=%u", img, NBLK * BS);
	}
	if (rts_handler_load(so, &lh, &why) < 0) {
		fprintf(stderr, "crash_cycle: %s\n", why ? why : so);
		return 2;
	}
	if (rts_sim_new(&sp, &sim) < 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	for (int c = 0; c <= cycles; c++) {
		pid_t pid = start_runner(sim, rts_loaded_handler_get(lh), cfgstring, wce, c > 0);

		if (c > 0)
			verify_all(sim, c);
		if (c == cycles) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		load_and_kill(sim, pid, 20 + (int)(rnd() % 180));
		if (qcow)
			qemu_img_check(img);
	}
	printf("%-8s %6s %10s %12s %14s %10s %6s %6s", "config", "cycles", "acked", "in flight",
	       "landed/in-fl", "verified", "lost", "torn");
	if (qcow)
		printf(" %18s", "qemu-img clean/leak/bad");
	printf("\n%-8s %6d %10llu %12llu %14llu %10llu %6llu %6llu", argv[2], cycles,
	       (unsigned long long)st.acked, (unsigned long long)st.unacked_at_kill,
	       (unsigned long long)glog.landed_pending, (unsigned long long)glog.verified,
	       (unsigned long long)glog.loss, (unsigned long long)glog.torn);
	if (qcow)
		printf(" %8u/%u/%u", st.check_clean, st.check_leaks, st.check_bad);
	printf("\n");
	rts_sim_free(sim);
	rts_handler_unload(lh);
	unlink(img);
	return glog.loss || glog.torn || st.check_bad ? 1 : 0;
}
