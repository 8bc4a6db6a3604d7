/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librts tree benchmark: builds trees of N LUNs (one ramdisk storage object, one LUN, one
 * node ACL and one mapped LUN per step, all on one iSCSI TPG) through the public API, then
 * rebuilds the tree with one walk (rts_ctx_refresh), on the in-memory backend and on the
 * emulated backend over a real directory. Prints total time and cost per object so one can
 * see that both stay flat as N grows.
 *
 * usage: librts_tree [DIR]   (DIR: where the real-fs trees go; default $TMPDIR, /dev/shm, /tmp)
 */
#include <errno.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rts/rts.h>

static double clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Wall time, and CPU time of the process (robust when other jobs share the cores). */
struct stamp {
	double wall, cpu;
};

static struct stamp now(void)
{
	return (struct stamp){ clock_us(CLOCK_MONOTONIC), clock_us(CLOCK_PROCESS_CPUTIME_ID) };
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int die(struct rts_ctx *ctx, const char *what, int r)
{
	const struct rts_error *e = ctx ? rts_ctx_last_error(ctx) : NULL;

	fprintf(stderr, "librts_tree: %s: %s (%s: %s)\n", what, strerror(-r), e ? e->path : "",
		e ? e->message : "");
	exit(1);
}

static int build(struct rts_ctx *ctx, int n)
{
	struct rts_fabric *fab;
	struct rts_target *t;
	struct rts_tpg *tpg;
	char name[64];
	int r;

	if ((r = rts_fabric_lookup(ctx, "iscsi", &fab)) < 0 ||
	    (r = rts_fabric_load(fab, false)) < 0 ||
	    (r = rts_target_create(fab, "iqn.2003-01.org.example:bench", &t)) < 0 ||
	    (r = rts_tpg_create(t, 1, &tpg)) < 0)
		die(ctx, "setup", r);
	for (int i = 0; i < n; i++) {
		struct rts_so *so;
		struct rts_lun *lun;
		struct rts_acl *acl;

		snprintf(name, sizeof(name), "disk%d", i);
		if ((r = rts_ramdisk_create(ctx, name, 1 << 20, RTS_RAMDISK_NULLIO, &so)) < 0)
			die(ctx, "storage object", r);
		if ((r = rts_lun_create(tpg, (uint64_t)i, so, NULL, &lun)) < 0)
			die(ctx, "lun", r);
		snprintf(name, sizeof(name), "iqn.2003-01.org.example:initiator%d", i);
		if ((r = rts_acl_create(tpg, name, &acl)) < 0)
			die(ctx, "acl", r);
		if ((r = rts_mapped_lun_create(acl, 0, lun, false, NULL)) < 0)
			die(ctx, "mapped lun", r);
	}
	return 4 * n; /* objects created */
}

static int count(struct rts_ctx *ctx)
{
	struct rts_fabric *fab;
	struct rts_so *so;
	int n = 0;

	rts_for_each_storage_object(ctx, so)
		n++;
	rts_for_each_fabric(ctx, fab) {
		struct rts_target *t;

		rts_for_each_target(fab, t) {
			struct rts_tpg *tpg;

			rts_for_each_tpg(t, tpg) {
				struct rts_lun *lun;
				struct rts_acl *acl;

				rts_for_each_lun(tpg, lun)
					n++;
				rts_for_each_acl(tpg, acl) {
					struct rts_mapped_lun *m;

					n++;
					rts_for_each_mapped_lun(acl, m)
						n++;
				}
			}
		}
	}
	return n;
}

static void run(const char *label, const char *base, int n, bool print)
{
	char dir[4096] = "";
	struct rts_ctx *ctx = NULL;
	struct stamp t0, t1, t2;
	int objs, walked, r;

	if (base) {
		snprintf(dir, sizeof(dir), "%s/librts-bench-XXXXXX", base);
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			exit(1);
		}
		r = rts_ctx_new(dir, RTS_CTX_EMULATE, &ctx);
	} else {
		r = rts_ctx_new(NULL, RTS_CTX_MEMORY, &ctx);
	}
	if (r < 0)
		die(NULL, "context", r);
	t0 = now();
	objs = build(ctx, n);
	t1 = now();
	if ((r = rts_ctx_refresh(ctx)) < 0)
		die(ctx, "walk", r);
	walked = count(ctx);
	t2 = now();
	if (!print)
		goto out;
	if (walked != objs)
		fprintf(stderr, "librts_tree: walk found %d objects, built %d\n", walked, objs);
	printf("| %-16s | %5d | %7d | %9.1f | %9.2f | %9.2f | %8.1f | %9.2f | %9.2f |\n", label, n,
	       objs, (t1.wall - t0.wall) / 1e3, (t1.wall - t0.wall) / objs,
	       (t1.cpu - t0.cpu) / objs, (t2.wall - t1.wall) / 1e3, (t2.wall - t1.wall) / objs,
	       (t2.cpu - t1.cpu) / objs);
	fflush(stdout);
out:
	rts_ctx_unref(ctx);
	if (base)
		nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 10, 100, 1000 };
	const char *base = argc > 1 ? argv[1] : getenv("TMPDIR");
	char label[64];

	if (!base)
		base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	printf("librts tree build (API) and rebuild (one walk): N x (storage object + LUN + ACL + "
	       "mapped LUN)\n");
	printf("| %-16s | %5s | %7s | %9s | %9s | %9s | %8s | %9s | %9s |\n", "backend", "LUNs",
	       "objects", "build ms", "wall us/o", "cpu us/o", "walk ms", "wall us/o", "cpu us/o");
	printf("|------------------|-------|---------|-----------|-----------|-----------|----------|"
	       "-----------|-----------|\n");
	/* one unprinted warm-up run per backend (allocator, page cache, tmpfs inodes) */
	run("memory", NULL, 100, false);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		run("memory", NULL, sizes[i], true);
	snprintf(label, sizeof(label), "realfs %s", base);
	run(label, base, 100, false);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		run(label, base, sizes[i], true);
	return 0;
}
