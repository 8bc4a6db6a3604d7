/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The runner's security rules (docs/security.md):
 *  - the status socket: mode 0660, the configured status_group; clients that never read are
 *    dropped (oldest first beyond the bound, all after the deadline) while the main loop goes
 *    on answering other clients and the devices go on serving I/O;
 *  - handler plugins: owner and mode of the file, of what a symlink resolves to and of every
 *    directory above them.
 * Runs as any user; the cases that need another owner or group run only as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <rts/handler.h>
#include <rts/sim.h>

#include "config.h"
#include "status.h"
#include "t_runner_log.h"

#define NDEVS 64 /* enough devices for a document several times the small SO_SNDBUF */

static char *handler_build_dir(void)
{
	const char *b = getenv("RTS_TEST_BINDIR");

	return g_build_filename(b ? b : ".", "handlers", NULL);
}

static char *ram_so(void)
{
	g_autofree char *d = handler_build_dir();

	return g_build_filename(d, "handler_ram.so", NULL);
}

/* ------------------------------------------------ status socket */

static struct runner *runner_with_devices(unsigned int n)
{
	struct runner *r = g_new0(struct runner, 1);
	g_autofree char *dir = handler_build_dir();
	const struct rts_handler *h;

	r->log_priority = RTS_LOG_INFO;
	assert_true(runner_load_handlers(r, dir) > 0);
	h = runner_find_handler(r, "ram");
	assert_non_null(h);
	for (unsigned int i = 0; i < n; i++) {
		struct runner_dev *rd = &r->devs[r->ndevs];
		struct rts_sim_params sp = { .cmdr_size = 64 * 1024, .data_size = 1u << 20 };
		char name[16], *why = NULL;

		snprintf(name, sizeof(name), "sim%u", i);
		struct rts_dev_config cfg = {
			RTS_DEV_CONFIG_INIT,
			.name = name,
			.cfgstring = "ram/1M",
			.size = 1u << 20,
			.block_size = 512,
			.queue_depth = 16,
		};
		assert_int_equal(rts_sim_new(&sp, &rd->sim), 0);
		assert_int_equal(rts_dev_new_sim(&cfg, h, rd->sim, &rd->dev), 0);
		assert_int_equal(rts_dev_open(rd->dev, false, &why), 0);
		assert_int_equal(rts_dev_start(rd->dev), 0);
		rd->name = g_strdup(name);
		r->ndevs++;
	}
	return r;
}

static void runner_free_all(struct runner *r)
{
	for (unsigned int i = 0; i < r->ndevs; i++) {
		struct runner_dev *rd = &r->devs[i];

		rts_dev_stop(rd->dev, 5000);
		rts_dev_close(rd->dev);
		rd->dev = rts_dev_free(rd->dev);
		rd->sim = rts_sim_free(rd->sim);
		g_free(rd->name);
	}
	runner_unload_handlers(r);
	runner_config_free(r->config);
	g_free(r);
}

static int connect_to(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

struct counts {
	uint64_t served, dropped;
	unsigned int pending;
};

static struct counts counts(const struct runner *r)
{
	struct counts c;

	runner_status_get_counters(r, &c.served, &c.dropped, &c.pending);
	return c;
}

/* Iterate the main loop until the runner has dealt with @want connections (bounded). */
static void settle(const struct runner *r, uint64_t want)
{
	gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

	for (;;) {
		struct counts c = counts(r);

		if (c.served + c.dropped + c.pending >= want)
			return;
		assert_true(g_get_monotonic_time() < end);
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
}

/* Read a whole status document as a well-behaved client does, running the loop meanwhile. */
static GString *read_all(int fd)
{
	GString *s = g_string_new(NULL);
	gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	char buf[4096];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n > 0) {
			g_string_append_len(s, buf, n);
			continue;
		}
		if (n == 0)
			return s;
		assert_true(errno == EAGAIN || errno == ECONNRESET);
		if (errno == ECONNRESET)
			return s;
		assert_true(g_get_monotonic_time() < end);
		g_main_context_iteration(NULL, FALSE);
		g_usleep(500);
	}
}

/* One WRITE(10) and READ(10) of 8 blocks through device @i: data path alive. */
static void io_roundtrip(struct runner *r, unsigned int i)
{
	uint8_t w[4096], rd_buf[4096];
	uint8_t wcdb[10] = { 0x2a, 0, 0, 0, 0, 8, 0, 0, 8, 0 };
	uint8_t rcdb[10] = { 0x28, 0, 0, 0, 0, 8, 0, 0, 8, 0 };
	struct rts_sim_completion comp;

	for (size_t k = 0; k < sizeof(w); k++)
		w[k] = (uint8_t)(k * 7 + i);
	assert_int_equal(rts_sim_exec(r->devs[i].sim, wcdb, sizeof(wcdb), RTS_SIM_TO_DEV, w,
				      sizeof(w), 5000, &comp),
			 0);
	assert_int_equal(comp.status, 0);
	assert_int_equal(rts_sim_exec(r->devs[i].sim, rcdb, sizeof(rcdb), RTS_SIM_FROM_DEV, rd_buf,
				      sizeof(rd_buf), 5000, &comp),
			 0);
	assert_int_equal(comp.status, 0);
	assert_memory_equal(w, rd_buf, sizeof(w));
}

static void test_status_slow_clients(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("rts-sec-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "runner.sock", NULL);
	struct runner *r = runner_with_devices(NDEVS);
	const struct runner_status_limits lim = { .max_clients = 4, .timeout_ms = 1500,
						  .sndbuf = 4096 };
	int slow[6], good;
	char *err = NULL;
	g_autofree char *doc = runner_status_json(r);
	GString *got;
	struct counts c;
	struct json_object *j, *devs;
	size_t partial = 0;

	(void)state;
	assert_int_equal(runner_status_start(r, path, &err), 0);
	runner_status_set_limits(r, &lim);
	/* the case under test: one document does not fit the socket of a client that never reads */
	assert_true(strlen(doc) > 4 * lim.sndbuf);

	for (unsigned int i = 0; i < 6; i++) {
		slow[i] = connect_to(path);
		settle(r, i + 1);
	}
	c = counts(r);
	assert_int_equal(c.pending, lim.max_clients); /* held, not sent whole: they do not read */
	assert_int_equal(c.dropped, 2); /* the two oldest made room */
	assert_int_equal(c.served, 0);
	assert_true(t_log_has(-1, "to make room for a newer one"));

	/* meanwhile: another client is answered in full, and every device serves I/O */
	good = connect_to(path);
	got = read_all(good);
	close(good);
	assert_true(got->len > 1 && got->str[got->len - 1] == '\n');
	j = json_tokener_parse(got->str);
	assert_non_null(j);
	assert_true(json_object_object_get_ex(j, "devices", &devs));
	assert_int_equal(json_object_array_length(devs), NDEVS);
	json_object_put(j);
	g_string_free(got, TRUE);
	assert_int_equal(counts(r).served, 1);
	for (unsigned int i = 0; i < NDEVS; i++)
		io_roundtrip(r, i);

	/* the deadline drops the rest; each slow client got a cut document, then EOF */
	{
		gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

		while (counts(r).pending) {
			assert_true(g_get_monotonic_time() < end);
			g_main_context_iteration(NULL, FALSE);
			g_usleep(2000);
		}
	}
	c = counts(r);
	assert_int_equal(c.dropped, 6);
	assert_int_equal(c.served, 1);
	assert_true(t_log_has(-1, "that did not read its status in time"));
	for (unsigned int i = 0; i < 6; i++) {
		GString *s = read_all(slow[i]);

		assert_true(s->len < strlen(doc));
		partial += s->len;
		g_string_free(s, TRUE);
		close(slow[i]);
	}
	assert_true(partial > 0);
	runner_status_stop(r);
	assert_int_equal(access(path, F_OK), -1);
	rmdir(dir);
	free(err);
	runner_free_all(r);
}

static void write_conf(const char *path, const char *text)
{
	assert_true(g_file_set_contents(path, text, -1, NULL));
}

static void test_status_mode_and_group(void **state)
{
	g_autofree char *dir = g_dir_make_tmp("rts-sec-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "sub", "runner.sock", NULL);
	g_autofree char *conf = g_build_filename(dir, "runner.conf", NULL);
	g_autofree char *sub = g_build_filename(dir, "sub", NULL);
	struct runner *r = g_new0(struct runner, 1);
	struct runner_config *c = NULL;
	char *err = NULL;
	struct stat st;
	gid_t gid = geteuid() == 0 ? 4321 : getegid();
	char text[128];

	(void)state;
	/* an unknown group is a configuration error, not a silent fallback */
	write_conf(conf, "[runner]\nstatus_group = no-such-group-rts\n");
	assert_int_equal(runner_config_load(r, conf, true, &c, &err), -EINVAL);
	assert_non_null(strstr(err, "status_group: no group 'no-such-group-rts'"));
	g_free(err);
	err = NULL;

	snprintf(text, sizeof(text), "[runner]\nstatus_group = %u\n", (unsigned int)gid);
	write_conf(conf, text);
	assert_int_equal(runner_config_load(r, conf, true, &c, &err), 0);
	runner_config_apply(r, c);
	assert_int_equal(runner_status_start(r, path, &err), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, gid);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	/* SIGHUP with another group: applied to the live socket */
	if (geteuid() == 0) {
		write_conf(conf, "[runner]\nstatus_group = 4322\n");
		assert_true(runner_config_reload(r, &err) & RUNNER_RELOAD_APPLIED);
		assert_int_equal(lstat(path, &st), 0);
		assert_int_equal(st.st_gid, 4322);
		assert_int_equal(st.st_mode & 07777, 0660);
	}
	runner_status_stop(r);
	runner_config_free(r->config);
	g_free(r);
	unlink(conf);
	rmdir(sub);
	rmdir(dir);
}

/* ------------------------------------------------ handler trust */

struct tree {
	char *top; /* 0700 temp dir under TMPDIR */
};

static void copy_file(const char *from, const char *to, mode_t mode)
{
	gchar *data;
	gsize len;

	assert_true(g_file_get_contents(from, &data, &len, NULL));
	assert_true(g_file_set_contents(to, data, (gssize)len, NULL));
	assert_int_equal(chmod(to, mode), 0);
	g_free(data);
}

static void rm_tree(const char *top)
{
	char *argv[] = { (char *)"rm", (char *)"-rf", (char *)top, NULL };

	assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
				 NULL, NULL));
}

/* Load @dir; returns how many handlers loaded, and whether the log has @needle. */
static int load(const char *dir, const char *needle)
{
	struct runner *r = g_new0(struct runner, 1);
	int n;

	t_log_clear();
	r->log_priority = RTS_LOG_DEBUG;
	n = runner_load_handlers(r, dir);
	if (needle && !t_log_has(-1, needle)) {
		fprintf(stderr, "expected a log message with '%s'\n", needle);
		fail();
	}
	runner_unload_handlers(r);
	g_free(r);
	return n;
}

static void test_handler_trust(void **state)
{
	g_autofree char *src = ram_so();
	g_autofree char *top = g_dir_make_tmp("rts-sec-XXXXXX", NULL);
	g_autofree char *hd = g_build_filename(top, "handlers", NULL);
	g_autofree char *so = g_build_filename(hd, "handler_ram.so", NULL);
	g_autofree char *other = g_build_filename(top, "other", NULL);
	g_autofree char *target = g_build_filename(other, "ram.so", NULL);
	bool root = geteuid() == 0;

	(void)state;
	assert_int_equal(mkdir(hd, 0755), 0);
	assert_int_equal(mkdir(other, 0755), 0);

	/* the plain good case */
	copy_file(src, so, 0755);
	assert_int_equal(load(hd, "handler 'ram' loaded"), 1);
	/* a group- or world-writable file */
	assert_int_equal(chmod(so, 0775), 0);
	assert_int_equal(load(hd, "is group- or world-writable (mode 0775); refusing to load it"),
			 0);
	assert_int_equal(chmod(so, 0757), 0);
	assert_int_equal(load(hd, "refusing to load it"), 0);
	assert_int_equal(chmod(so, 0755), 0);
	if (root) { /* a file of another user */
		assert_int_equal(chown(so, 1, 0), 0);
		assert_int_equal(load(hd, "is owned by uid 1, not root; refusing to load it"), 0);
		assert_int_equal(chown(so, 0, 0), 0);
	}
	assert_int_equal(unlink(so), 0);

	/* a symlink: what it resolves to is what is checked, file and directories */
	copy_file(src, target, 0755);
	assert_int_equal(symlink(target, so), 0);
	assert_int_equal(load(hd, "handler 'ram' loaded"), 1);
	assert_int_equal(chmod(target, 0777), 0);
	assert_int_equal(load(hd, "-> "), 0);
	assert_true(t_log_has(-1, "is group- or world-writable (mode 0777)"));
	assert_int_equal(chmod(target, 0755), 0);
	/* a symlink into a directory others may write: they could swap the file */
	assert_int_equal(chmod(other, 0777), 0);
	assert_int_equal(load(hd, "is group- or world-writable (mode 0777); refusing handlers"),
			 0);
	/* sticky, like /tmp: only an entry's owner may replace it, so it is fine */
	assert_int_equal(chmod(other, 01777), 0);
	assert_int_equal(load(hd, "handler 'ram' loaded"), 1);
	assert_int_equal(chmod(other, 0755), 0);
	if (root) {
		assert_int_equal(chown(other, 1, 0), 0);
		assert_int_equal(load(hd, "is owned by uid 1, not root"), 0);
		assert_int_equal(chown(other, 0, 0), 0);
	}
	/* dangling and looping symlinks: refused with a reason, nothing loaded */
	assert_int_equal(unlink(target), 0);
	assert_int_equal(load(hd, "cannot be resolved"), 0);
	assert_int_equal(unlink(so), 0);
	assert_int_equal(symlink("handler_ram.so", so), 0);
	assert_int_equal(load(hd, "cannot be resolved"), 0);
	assert_int_equal(unlink(so), 0);
	/* a symlink to a directory named like a handler */
	assert_int_equal(symlink(other, so), 0);
	assert_int_equal(load(hd, "is not a regular file"), 0);
	assert_int_equal(unlink(so), 0);

	/* the handler directory itself, and a directory above it */
	copy_file(src, so, 0755);
	assert_int_equal(chmod(hd, 0775), 0);
	assert_int_equal(load(hd, "not loading any handler from"), -EPERM);
	assert_int_equal(chmod(hd, 0755), 0);
	assert_int_equal(chmod(top, 0777), 0);
	assert_int_equal(load(hd, "is group- or world-writable (mode 0777); refusing handlers"),
			 -EPERM);
	assert_int_equal(chmod(top, 0700), 0);
	if (root) {
		assert_int_equal(chown(hd, 1, 0), 0);
		assert_int_equal(load(hd, "is owned by uid 1, not root"), -EPERM);
		assert_int_equal(chown(hd, 0, 0), 0);
	}
	/* a handler directory given through a symlink is judged where it leads */
	{
		g_autofree char *link = g_build_filename(top, "hlink", NULL);

		assert_int_equal(symlink(hd, link), 0);
		assert_int_equal(load(link, "handler 'ram' loaded"), 1);
		assert_int_equal(chmod(hd, 0777), 0);
		assert_int_equal(load(link, "not loading any handler from"), -EPERM);
		assert_int_equal(chmod(hd, 0755), 0);
	}
	assert_int_equal(load(hd, "handler 'ram' loaded"), 1);

	/* errinj loads its inner handler itself: only from its own (checked) directory */
	{
		g_autofree char *bdir = handler_build_dir();
		g_autofree char *esrc = g_build_filename(bdir, "handler_errinj.so", NULL);
		g_autofree char *edst = g_build_filename(hd, "handler_errinj.so", NULL);
		g_autofree char *ram2 = g_build_filename(other, "ram.so", NULL);
		struct runner *r = g_new0(struct runner, 1);
		const struct rts_handler *eh;
		char *why = NULL;

		copy_file(esrc, edst, 0755);
		assert_int_equal(runner_load_handlers(r, hd), 2);
		eh = runner_find_handler(r, "errinj");
		assert_non_null(eh);
		assert_int_equal(eh->check_config("none/ram/1M", &why), 0);
		/* the inner handler as a symlink to a good file elsewhere: refused */
		copy_file(src, ram2, 0755);
		assert_int_equal(unlink(so), 0);
		assert_int_equal(symlink(ram2, so), 0);
		assert_int_equal(eh->check_config("none/ram/1M", &why), -EPERM);
		assert_non_null(strstr(why, "in errinj's own directory"));
		free(why);
		runner_unload_handlers(r);
		g_free(r);
	}
	rm_tree(top);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_slow_clients),
		cmocka_unit_test(test_status_mode_and_group),
		cmocka_unit_test(test_handler_trust),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
