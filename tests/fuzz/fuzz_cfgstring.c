/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A handler's cfgstring parser and check_config (handlers/file, handlers/qcow2: built once
 * per handler with the handler's source compiled in). Cfgstrings come from configfs, so from
 * saveconfig.json files and whoever may write configfs. The input is the part after
 * "<subtype>/". To keep the fuzzer's file system effects inside a scratch directory, inputs
 * whose path is absolute or climbs with ".." are skipped; the scratch directory holds a raw
 * file and a small valid qcow2 image (which backs another) for the paths to name.
 * Invariant (abort on violation): a refusal always comes with a reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rts/handler.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* exported by the handler source compiled in (RTS_HANDLER_DEFINE) */
const struct rts_handler *rts_handler_entry(uint32_t runner_abi_version);

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* A 1 MiB qcow2 v3 image, 64 KiB clusters: header, refcount table and block, empty L1. */
static void write_qcow2(const char *name, const char *backing)
{
	static uint8_t img[0x40000];
	int fd;

	memset(img, 0, sizeof(img));
	memcpy(img, "QFI\xfb", 4);
	put_be(img + 4, 3, 4);                 /* version */
	if (backing) {
		put_be(img + 8, 0x200, 8);     /* backing_file_offset */
		put_be(img + 16, strlen(backing), 4);
		memcpy(img + 0x200, backing, strlen(backing));
	}
	put_be(img + 20, 16, 4);               /* cluster_bits */
	put_be(img + 24, 1 << 20, 8);          /* size */
	put_be(img + 36, 1, 4);                /* l1_size */
	put_be(img + 40, 0x30000, 8);          /* l1_table_offset */
	put_be(img + 48, 0x10000, 8);          /* refcount_table_offset */
	put_be(img + 56, 1, 4);                /* refcount_table_clusters */
	put_be(img + 96, 4, 4);                /* refcount_order */
	put_be(img + 100, 104, 4);             /* header_length */
	put_be(img + 0x10000, 0x20000, 8);     /* refcount table -> block */
	for (int i = 0; i < 4; i++)
		put_be(img + 0x20000 + 2 * i, 1, 2);
	fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, img, sizeof(img)) != (ssize_t)sizeof(img))
		abort();
	close(fd);
}

static void scratch(void)
{
	static int done;
	char dir[] = "/tmp/rts-fuzz-cfg.XXXXXX";
	int fd;

	if (done)
		return;
	done = 1;
	if (!mkdtemp(dir) || chdir(dir) < 0)
		abort();
	fd = open("img.raw", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		abort();
	close(fd);
	write_qcow2("base.qcow2", NULL);
	write_qcow2("a.qcow2", "base.qcow2");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rts_handler *h = rts_handler_entry(RTS_HANDLER_ABI_VERSION);
	char *cfg, *why = NULL;

	if (size > 4096 || (size && data[0] == '/'))
		return 0;
	cfg = malloc(size + 1);
	if (!cfg)
		return 0;
	memcpy(cfg, data, size);
	cfg[size] = '\0';
	if (strstr(cfg, "..") || strstr(cfg, "=/")) {
		free(cfg);
		return 0;
	}
	scratch();
	if (h->check_config(cfg, &why) < 0 && !why)
		abort();
	free(why);
	free(cfg);
	return 0;
}
