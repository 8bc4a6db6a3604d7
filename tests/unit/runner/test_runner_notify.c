/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* tcmu/runner/notify.c: sd_notify datagrams to path and abstract sockets. */
#include <errno.h>
#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"

/* Bind a datagram socket at @p name ("/path" or "@abstract"). */
static int listen_at(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		salen++;
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, salen), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[512];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_unset_is_noop(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(runner_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(runner_notify("READY=1"), 0);
}

static void test_path_socket(void **state)
{
	char *dir = g_dir_make_tmp("rts-notify-XXXXXX", NULL);
	char *path = g_build_filename(dir, "notify", NULL);
	int fd = listen_at(path);

	(void)state;
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(runner_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(runner_notifyf("STATUS=serving %u devices", 3u), 1);
	expect_datagram(fd, "STATUS=serving 3 devices");
	assert_int_equal(runner_notify("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
	unlink(path);
	/* nobody listening any more */
	assert_int_equal(runner_notify("READY=1"), -ENOENT);
	rmdir(dir);
	g_free(path);
	g_free(dir);
	unsetenv("NOTIFY_SOCKET");
}

static void test_abstract_socket(void **state)
{
	char name[64], buf[512];
	int fd;
	ssize_t n;

	(void)state;
	snprintf(name, sizeof(name), "@rts-notify-test-%d", (int)getpid());
	fd = listen_at(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(runner_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(runner_notify_reloading(), 1);
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_true(g_str_has_prefix(buf, "RELOADING=1\nMONOTONIC_USEC="));
	assert_true(strtoull(buf + strlen("RELOADING=1\nMONOTONIC_USEC="), NULL, 10) > 0);
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void test_bad_addresses(void **state)
{
	char *longname = g_strnfill(200, 'x');

	(void)state;
	longname[0] = '/';
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	assert_int_equal(runner_notify("READY=1"), -EAFNOSUPPORT);
	setenv("NOTIFY_SOCKET", longname, 1);
	assert_int_equal(runner_notify("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
	g_free(longname);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_is_noop),
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_bad_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
