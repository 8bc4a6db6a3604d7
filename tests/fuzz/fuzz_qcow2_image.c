/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A whole qcow2 image served (handlers/qcow2 compiled in, driven through the ring
 * simulator like rts-runner drives it): the input is the image file. The device is opened on
 * it and, when the handler accepts it, the first MiB is read in 64 KiB commands (L1/L2
 * lookups, compressed clusters, backing chain reads), two 4 KiB writes allocate clusters
 * (refcount updates, L2 allocation, copy-on-write from a backing file) and are read back.
 * A scratch directory (in /dev/shm where it exists) holds a valid base image the input may name as backing file; inputs
 * naming /dev, /proc or /sys are skipped (a fuzzer must not read from a device).
 * Invariants (abort on violation): no command hangs (each completes within 10 s), the
 * simulator never sees a protocol violation, and a write acknowledged GOOD reads back as
 * written (a loss or corruption after success is a finding, an error status is not).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rts/device.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const struct rts_handler *rts_handler_entry(uint32_t runner_abi_version);

#define BS 512u
#define TMO 10000

static void put_be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static char scratch_dir[64];

static void scratch_remove(void)
{
	unlink("fz.qcow2");
	unlink("base.qcow2");
	rmdir(scratch_dir);
}

static void scratch(void)
{
	static int done;
	static uint8_t img[0x40000];
	/* tmpfs where there is one: the handler's fdatasync() on a disk would dominate the run */
	char shm[] = "/dev/shm/rts-fuzz-q2.XXXXXX", tmp[] = "/tmp/rts-fuzz-q2.XXXXXX";
	const char *dir;
	int fd;

	if (done)
		return;
	done = 1;
	dir = mkdtemp(shm);
	if (!dir)
		dir = mkdtemp(tmp);
	if (!dir || chdir(dir) < 0)
		abort();
	snprintf(scratch_dir, sizeof(scratch_dir), "%s", dir);
	atexit(scratch_remove);
	memcpy(img, "QFI\xfb", 4);
	put_be(img + 4, 3, 4);
	put_be(img + 20, 16, 4);
	put_be(img + 24, 1 << 20, 8);
	put_be(img + 36, 1, 4);
	put_be(img + 40, 0x30000, 8);
	put_be(img + 48, 0x10000, 8);
	put_be(img + 56, 1, 4);
	put_be(img + 96, 4, 4);
	put_be(img + 100, 104, 4);
	put_be(img + 0x10000, 0x20000, 8);
	for (int i = 0; i < 4; i++)
		put_be(img + 0x20000 + 2 * i, 1, 2);
	fd = open("base.qcow2", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, img, sizeof(img)) != (ssize_t)sizeof(img))
		abort();
	close(fd);
}

static void cdb16(uint8_t *c, uint8_t op, uint64_t lba, uint32_t n)
{
	memset(c, 0, 16);
	c[0] = op;
	put_be(c + 2, lba, 8);
	put_be(c + 10, n, 4);
}

static int io(struct rts_sim *sim, bool write, uint64_t lba, uint32_t n, uint8_t *buf)
{
	uint8_t cdb[16];
	struct rts_sim_completion c;
	int r;

	cdb16(cdb, write ? 0x8a : 0x88, lba, n);
	r = rts_sim_exec(sim, cdb, 16, write ? RTS_SIM_TO_DEV : RTS_SIM_FROM_DEV, buf,
			 (size_t)n * BS, TMO, &c);
	if (r < 0) { /* hung command or protocol violation */
		fprintf(stderr, "%s of lba %llu: %s (%s)\n", write ? "write" : "read",
			(unsigned long long)lba, strerror(-r),
			rts_sim_broken_reason(sim) ? rts_sim_broken_reason(sim) : "ring intact");
		abort();
	}
	return c.status;
}

static void serve(struct rts_sim *sim, struct rts_dev *dev)
{
	static uint8_t buf[64 << 10], w[4096], r[4096];
	uint64_t nblk = rts_dev_get_num_lbas(dev);
	uint64_t end = nblk < (1 << 20) / BS ? nblk : (1 << 20) / BS;

	for (uint64_t lba = 0; lba + 128 <= end; lba += 128)
		io(sim, false, lba, 128, buf);
	for (int k = 0; k < 2 && nblk >= 8; k++) {
		uint64_t lba = k ? (nblk / 2) & ~7ull : 0;

		for (size_t i = 0; i < sizeof(w); i++)
			w[i] = (uint8_t)(i * 7 + (size_t)k + 1);
		if (io(sim, true, lba, 8, w) != 0)
			continue;
		if (io(sim, false, lba, 8, r) == 0 && memcmp(r, w, sizeof(w)) != 0)
			abort(); /* acknowledged write lost */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rts_handler *h = rts_handler_entry(RTS_HANDLER_ABI_VERSION);
	struct rts_sim_params sp = { .cmdr_size = 65536, .data_size = 1 << 20 };
	struct rts_dev_config cfg = { RTS_DEV_CONFIG_INIT, .name = "fz", .cfgstring = "qcow/fz.qcow2", .block_size = BS,
				      .queue_depth = 8 };
	static struct rts_sim *sim; /* one ring for every input, as a restarted runner re-attaches to its ring */
	struct rts_dev *dev = NULL;
	int fd;

	if (size > (4 << 20) || memmem(data, size, "/dev", 4) || memmem(data, size, "/proc", 5) ||
	    memmem(data, size, "/sys", 4))
		return 0;
	scratch();
	fd = open("fz.qcow2", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if ((!sim && rts_sim_new(&sp, &sim) < 0) || rts_dev_new_sim(&cfg, h, sim, &dev) < 0)
		abort();
	if (rts_dev_open(dev, false, NULL) == 0) {
		if (rts_dev_start(dev) < 0)
			abort();
		serve(sim, dev);
		if (rts_dev_stop(dev, TMO) < 0)
			abort();
		if (rts_sim_broken_reason(sim))
			abort();
		rts_dev_close(dev);
	}
	rts_dev_free(dev);
	if (rts_sim_outstanding(sim)) /* every command of this input completed before the next */
		abort();
	return 0;
}
