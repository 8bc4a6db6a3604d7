/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Two gateways, one image (handlers/rbd "two gateways"): each gateway is a simulated device
 * with its own fake configfs tree (groups 10 and 20; only its own iSCSI TPG enabled, as on a
 * ceph-iscsi host), both on one image of the test cluster. Checks: the first to open owns
 * the exclusive lock and is optimized, recorded in the image metadata; writes through the
 * other end in NOT READY / TARGET PORT IN STANDBY STATE and never move the lock; STPG making
 * the other group optimized moves the lock (the old holder is blocklisted and answers
 * standby after reconnecting, never writing again); a gateway process killed while owning
 * the lock is broken and taken over by an STPG on the survivor. Prints the times.
 * `test_rbd_alua gateway <root>` is the child gateway the last test kills.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <rados/librados.h>
#include <rbd/librbd.h>

#include <rts/device.h>
#include <rts/uio.h>

#define TIMEOUT_MS 30000
#define BS	   512u
#define MIB	   (1024u * 1024u)
#define IMAGE	   "alua2"
#define KEY	   "rts.alua.optimized_group"

static struct rts_loaded_handler *lh;
static const struct rts_handler *h;
static const char *conf;
static rados_t cluster;
static rados_ioctx_t io;
static char roots[2][64] = { "/tmp/rts-rbd-alua-a-XXXXXX", "/tmp/rts-rbd-alua-b-XXXXXX" };

struct gw {
	struct rts_sim *sim;
	struct rts_dev *dev;
	const char *root;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(const char *root, const char *rel, const char *content)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static int state_of(const char *root, const char *group)
{
	char path[512], buf[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/target/core/user_1/gw/alua/%s/alua_access_state", root,
		 group);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	return atoi(buf);
}

/* Gateway @me (0 or 1): both groups, only its own TPG enabled. */
static void tree(const char *root, int me)
{
	static const char *const names[2] = { "gw_a", "gw_b" }, *const ids[2] = { "10\n", "20\n" };
	char rel[256], member[128];

	for (int g = 0; g < 2; g++) {
		snprintf(member, sizeof(member), "iSCSI/iqn.2003-01.org.x:%s/tpgt_1/lun_0\n", names[g]);
#define G(file, val)                                                                       \
	do {                                                                               \
		snprintf(rel, sizeof(rel), "target/core/user_1/gw/alua/%s/%s", names[g], file); \
		put(root, rel, val);                                                        \
	} while (0)
		G("tg_pt_gp_id", ids[g]);
		G("alua_access_state", "0\n"); /* the runner corrects it from the lock */
		G("alua_access_type", "Implicit and Explicit\n");
		G("alua_access_status", "None\n");
		G("preferred", "0\n");
		G("members", member);
#undef G
		snprintf(rel, sizeof(rel), "target/iscsi/iqn.2003-01.org.x:%s/tpgt_1/enable", names[g]);
		put(root, rel, g == me ? "1\n" : "0\n");
		snprintf(rel, sizeof(rel),
			 "target/iscsi/iqn.2003-01.org.x:%s/tpgt_1/lun/lun_0/statistics/scsi_port/indx",
			 names[g]);
		put(root, rel, g ? "2\n" : "1\n");
	}
}

static void log_sink(void *userdata, int prio, const char *dev, const char *msg)
{
	(void)prio;
	fprintf(stderr, "  [%s %s] %s\n", (const char *)userdata, dev, msg);
}

static void gw_open(struct gw *g, const char *root)
{
	char cfg[600], *why = NULL;
	struct rts_dev_config dc = { RTS_DEV_CONFIG_INIT, .name = "gw", .block_size = BS, .write_cache = true,
				     .log_fn = log_sink, .log_priority = RTS_LOG_INFO };
	struct rts_tcmu_info info = { .hba = 1 };
	int r;

	snprintf(cfg, sizeof(cfg), "rbd/rbd/%s;conf=%s;osd_op_timeout=5", IMAGE, conf);
	dc.cfgstring = cfg;
	snprintf(info.dev_name, sizeof(info.dev_name), "gw");
	g->root = root;
	dc.log_userdata = (void *)(root == roots[0] ? "A" : "B");
	assert_int_equal(rts_sim_new(NULL, &g->sim), 0);
	assert_int_equal(rts_dev_new_sim(&dc, h, g->sim, &g->dev), 0);
	assert_int_equal(rts_tcmu_use_alua(root, &info, g->dev), 2);
	r = rts_dev_open(g->dev, false, &why);
	if (r < 0)
		fail_msg("open: %s", why ? why : strerror(-r));
	assert_int_equal(rts_dev_start(g->dev), 0);
}

static void gw_close(struct gw *g)
{
	assert_int_equal(rts_dev_stop(g->dev, TIMEOUT_MS), 0);
	assert_null(rts_sim_broken_reason(g->sim));
	rts_dev_close(g->dev);
	g->dev = rts_dev_free(g->dev);
	g->sim = rts_sim_free(g->sim);
}

static void exec(struct gw *g, const uint8_t *cdb, size_t len, enum rts_sim_dir dir, void *buf,
		 size_t buflen, struct rts_sim_completion *c)
{
	assert_int_equal(rts_sim_exec(g->sim, cdb, len, dir, buf, buflen, TIMEOUT_MS, c), 0);
}

static void write8(struct gw *g, uint8_t *buf, struct rts_sim_completion *c)
{
	uint8_t cdb[10] = { 0x2a };

	cdb[8] = 8; /* LBA 0, 8 blocks */
	exec(g, cdb, sizeof(cdb), RTS_SIM_TO_DEV, buf, 8 * BS, c);
}

static void stpg(struct gw *g, uint16_t id, struct rts_sim_completion *c)
{
	uint8_t cdb[12] = { 0xa4, 0x0a }, pl[8] = { 0 };

	cdb[9] = sizeof(pl);
	pl[4] = 0x00; /* active/optimized */
	pl[6] = (uint8_t)(id >> 8);
	pl[7] = (uint8_t)id;
	exec(g, cdb, sizeof(cdb), RTS_SIM_TO_DEV, pl, sizeof(pl), c);
}

static void tur(struct gw *g, struct rts_sim_completion *c)
{
	uint8_t cdb[6] = { 0x00 };

	exec(g, cdb, sizeof(cdb), RTS_SIM_NONE, NULL, 0, c);
}

static bool is_standby(const struct rts_sim_completion *c)
{
	return c->status == 2 && (c->sense[2] & 0xf) == 0x2 && c->sense[12] == 0x04 &&
	       c->sense[13] == 0x0b;
}

/* The lock owner as librbd names it ("" when unlocked). */
static void owner_of(char *out, size_t len)
{
	rbd_image_t img;
	rbd_lock_mode_t mode;
	char *owners[4];
	size_t n = 4;

	out[0] = '\0';
	/* read-write (librbd has no lock state read-only); opening takes no lock */
	assert_int_equal(rbd_open(io, IMAGE, &img, NULL), 0);
	if (rbd_lock_get_owners(img, &mode, owners, &n) == 0) {
		if (n)
			snprintf(out, len, "%s", owners[0]);
		rbd_lock_get_owners_cleanup(owners, n);
	}
	rbd_close(img);
}

static int metadata_group(void)
{
	rbd_image_t img;
	char buf[16] = "";
	size_t len = sizeof(buf);

	assert_int_equal(rbd_open_read_only(io, IMAGE, &img, NULL), 0);
	if (rbd_metadata_get(img, KEY, buf, &len) < 0)
		buf[0] = '\0';
	rbd_close(img);
	return buf[0] ? atoi(buf) : -1;
}

static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31u + i * 7u);
}

/* STPG through @g until it is GOOD (BUSY / NOT READY while it reconnects); the time. */
static double stpg_until_good(struct gw *g, uint16_t id, double limit)
{
	struct rts_sim_completion c;
	double t0 = now_s();

	for (;;) {
		stpg(g, id, &c);
		if (c.status == 0)
			return now_s() - t0;
		if (now_s() - t0 > limit)
			fail_msg("STPG never succeeded: status 0x%02x sense %x/%02x/%02x", c.status,
				 c.sense[2] & 0xf, c.sense[12], c.sense[13]);
		usleep(100000);
	}
}

static void test_owner_standby_and_switch(void **state)
{
	uint8_t a[8 * BS], b[8 * BS], back[8 * BS];
	char own0[128], own1[128];
	struct rts_sim_completion c;
	struct gw ga, gb;
	unsigned int refused = 0, standby = 0;
	double t, t0;
	rbd_image_t img;

	(void)state;
	gw_open(&ga, roots[0]); /* first: takes the lock */
	gw_open(&gb, roots[1]);
	assert_int_equal(metadata_group(), 10);
	owner_of(own0, sizeof(own0));
	assert_true(own0[0]);

	fill(a, sizeof(a), 1);
	write8(&ga, a, &c);
	assert_int_equal(c.status, 0);
	assert_int_equal(state_of(roots[0], "gw_a"), 0);
	assert_int_equal(state_of(roots[0], "gw_b"), 2);
	/* writes through the standby gateway: refused per the state, the lock stays */
	fill(b, sizeof(b), 2);
	for (int i = 0; i < 10; i++) {
		write8(&gb, b, &c);
		assert_true(is_standby(&c));
		write8(&ga, a, &c);
		assert_int_equal(c.status, 0);
	}
	assert_int_equal(state_of(roots[1], "gw_a"), 0);
	assert_int_equal(state_of(roots[1], "gw_b"), 2);
	owner_of(own1, sizeof(own1));
	assert_string_equal(own0, own1);
	assert_int_equal(rbd_open_read_only(io, IMAGE, &img, NULL), 0);
	assert_int_equal(rbd_read(img, 0, sizeof(back), (char *)back), (ssize_t)sizeof(back));
	rbd_close(img);
	assert_memory_equal(back, a, sizeof(a));

	/* a planned switch: STPG through gateway B makes group 20 optimized */
	t = stpg_until_good(&gb, 20, 30);
	print_message("STPG moved the lock in %.2f s\n", t);
	assert_int_equal(metadata_group(), 20);
	owner_of(own1, sizeof(own1));
	assert_true(own1[0] && strcmp(own0, own1) != 0);
	write8(&gb, b, &c);
	assert_int_equal(c.status, 0);
	assert_int_equal(state_of(roots[1], "gw_b"), 0);
	assert_int_equal(state_of(roots[1], "gw_a"), 2);
	/* no I/O reaches the old holder any more (an initiator's multipath moved it to the new
	 * owner), only its path checker's TEST UNIT READY: that alone finds the fence and brings
	 * its groups to the new states, which RTPG reports from configfs */
	t0 = now_s();
	while ((state_of(roots[0], "gw_a") != 2 || state_of(roots[0], "gw_b") != 0) &&
	       now_s() - t0 < 30) {
		tur(&ga, &c);
		/* never "nobody optimized" meanwhile: Linux applies an RTPG answer to the other
		 * path's group too and fails I/O on a standby one (the new owner's path) */
		assert_int_not_equal(state_of(roots[0], "gw_b"), 2);
		usleep(100000);
	}
	print_message("old holder: standby in its configfs %.1f s after the switch, with TUR "
		      "alone\n",
		      now_s() - t0);
	assert_int_equal(state_of(roots[0], "gw_a"), 2);
	assert_int_equal(state_of(roots[0], "gw_b"), 0);
	/* the old holder was blocklisted: it never writes again, and answers standby */
	t0 = now_s();
	while (now_s() - t0 < 30) {
		write8(&ga, a, &c);
		assert_int_not_equal(c.status, 0);
		if (is_standby(&c)) {
			standby++;
			if (standby >= 3)
				break;
		} else {
			refused++;
		}
		usleep(100000);
	}
	print_message("old holder: %u retryable refusals, then standby after %.1f s\n", refused,
		      now_s() - t0);
	assert_true(standby >= 3);
	assert_int_equal(state_of(roots[0], "gw_a"), 2);
	assert_int_equal(state_of(roots[0], "gw_b"), 0);
	owner_of(own0, sizeof(own0));
	assert_string_equal(own0, own1); /* no move back */
	assert_int_equal(rbd_open_read_only(io, IMAGE, &img, NULL), 0);
	assert_int_equal(rbd_read(img, 0, sizeof(back), (char *)back), (ssize_t)sizeof(back));
	rbd_close(img);
	assert_memory_equal(back, b, sizeof(b));
	gw_close(&ga);
	gw_close(&gb);
}

/* The child: gateway A takes the lock by STPG, says so, and waits to be killed. */
static int child_gateway(const char *root)
{
	struct rts_sim_completion c;
	struct gw g;
	uint8_t a[8 * BS];

	gw_open(&g, root);
	stpg_until_good(&g, 10, 30);
	fill(a, sizeof(a), 3);
	write8(&g, a, &c);
	if (c.status)
		return 1;
	printf("owner\n");
	fflush(stdout);
	pause();
	return 0;
}

static void test_owner_killed(void **state)
{
	char exe[512], line[32] = "", own[128];
	uint8_t b[8 * BS];
	struct rts_sim_completion c;
	struct gw gb;
	int pfd[2], status;
	pid_t pid;
	FILE *f;
	double t0, t_stpg;

	(void)state;
	gw_open(&gb, roots[1]); /* currently the owner (previous test left group 20 optimized) */
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		execl(exe, exe, "gateway", roots[0], (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	assert_non_null(f);
	if (!fgets(line, sizeof(line), f) || strcmp(line, "owner\n") != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		fail_msg("the child gateway did not take the lock");
	}
	assert_int_equal(metadata_group(), 10);
	/* the survivor was fenced by the child's break: it answers standby, never writes */
	fill(b, sizeof(b), 4);
	write8(&gb, b, &c);
	assert_int_not_equal(c.status, 0);

	kill(pid, SIGKILL);
	t0 = now_s();
	waitpid(pid, &status, 0);
	fclose(f);
	t_stpg = stpg_until_good(&gb, 20, 60);
	write8(&gb, b, &c);
	assert_int_equal(c.status, 0);
	print_message("owner killed: STPG on the survivor succeeded after %.2f s, first write "
		      "%.2f s after the kill\n",
		      t_stpg, now_s() - t0);
	assert_int_equal(metadata_group(), 20);
	owner_of(own, sizeof(own));
	assert_true(own[0]);
	gw_close(&gb);
}

static int setup(void **state)
{
	const char *bindir = getenv("RTS_TEST_BINDIR");
	char path[512], *why = NULL;
	int order = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/handlers/handler_rbd.so", bindir ? bindir : ".");
	if (rts_handler_load(path, &lh, &why) < 0) {
		fprintf(stderr, "cannot load %s: %s\n", path, why ? why : "?");
		free(why);
		return -1;
	}
	h = rts_loaded_handler_get(lh);
	if (rados_create(&cluster, "admin") < 0 || rados_conf_read_file(cluster, conf) < 0 ||
	    rados_connect(cluster) < 0 || rados_ioctx_create(cluster, "rbd", &io) < 0) {
		fprintf(stderr, "cannot connect to the test cluster (%s)\n", conf);
		return -1;
	}
	if (!state) /* the child gateway uses the image the parent made */
		return 0;
	for (int i = 0; i < 2; i++) {
		if (!mkdtemp(roots[i]))
			return -1;
		tree(roots[i], i);
	}
	rbd_remove(io, IMAGE);
	return rbd_create(io, IMAGE, 4 * MIB, &order) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[300];

	if (state) {
		rbd_remove(io, IMAGE);
		for (int i = 0; i < 2; i++) {
			snprintf(cmd, sizeof(cmd), "rm -rf '%s'", roots[i]);
			if (system(cmd) != 0)
				fprintf(stderr, "cannot remove %s\n", roots[i]);
		}
	}
	rados_ioctx_destroy(io);
	rados_shutdown(cluster);
	lh = rts_handler_unload(lh);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_standby_and_switch),
		cmocka_unit_test(test_owner_killed),
	};

	conf = getenv("RTS_CEPH_CONF");
	if (!conf || access(conf, R_OK) < 0) {
		fprintf(stderr, "no test cluster (RTS_CEPH_CONF): skipped\n");
		return 77;
	}
	if (argc == 3 && !strcmp(argv[1], "gateway")) {
		int r;

		if (setup(NULL) < 0)
			return 1;
		r = child_gateway(argv[2]);
		teardown(NULL);
		return r;
	}
	return cmocka_run_group_tests_name("handler_rbd_alua", tests, setup, teardown);
}
