/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Values the kernel derives instead of storing, for the emulated backend: <dev>/info, ALUA
 * group members, a LUN's alua_tg_pt_gp text and the device geometry filled in at enable.
 * Shapes taken from the 6.1 kernel as captured by the VM scenario librts-real.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu_be.h"

static const char *alua_state_name(const char *v)
{
	static const char *const names[] = { "Active/Optimized", "Active/NonOptimized", "Standby",
					     "Unavailable", "LBA Dependent" };
	uint64_t n;

	if (parse_u64(v, &n) < 0)
		return "Unknown";
	if (n < 5)
		return names[n];
	return n == 14 ? "Offline" : n == 15 ? "Transitioning" : "Unknown";
}

/* <lun>/alua_tg_pt_gp of a LUN exporting device dev in group gp (core_alua_show_tg_pt_gp_info) */
__attribute__((noinline)) int emu_lun_alua_show(struct emu_be *e, const char *lundir,
						const char *dev, const char *gp)
{
	char dir[RTS_PATH_MAX], id[32] = "", state[32] = "", status[64] = "", off[8] = "";
	char out[RTS_VALUE_MAX];

	if (path_fmt(dir, sizeof(dir), "%s/alua/%s", dev, gp) < 0 ||
	    emu_read_sibling(e, dir, "tg_pt_gp_id", id, sizeof(id)) < 0)
		return -ENODEV;
	emu_read_sibling(e, dir, "alua_access_state", state, sizeof(state));
	emu_read_sibling(e, dir, "alua_access_status", status, sizeof(status));
	emu_read_sibling(e, lundir, "alua_tg_pt_offline", off, sizeof(off));
	snprintf(out, sizeof(out),
		 "TG Port Alias: %.255s\nTG Port Group ID: %s\nTG Port Primary Access State: %s\n"
		 "TG Port Primary Access Status: %s\nTG Port Secondary Access State: %s\n"
		 "TG Port Secondary Access Status: None\n",
		 gp, id, alua_state_name(state), status[0] ? status : "None",
		 strcmp(off, "1") ? "None" : "Offline");
	return emu_write_sibling(e, lundir, "alua_tg_pt_gp", out);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * lu_gps/<gp>/members: "<hba>/<device>\n" for every device in the group (core_alua_show_lu_gp
 * members; the kernel lists them in join order, here sorted, which is the same for devices
 * created and grouped in name order). Rebuilt on every read.
 */
__attribute__((noinline)) void emu_update_lu_gp_members(struct emu_be *e, const char *gpdir)
{
	struct rts_names hbas = { 0 }, all = { 0 };
	char hba[RTS_PATH_MAX], dev[RTS_PATH_MAX], v[512], want[RTS_NAME_MAX + 32];
	_cleanup_free_ char *out = calloc(1, RTS_VALUE_MAX);
	size_t n = 0;

	snprintf(want, sizeof(want), "LU Group Alias: %s", emu_base_name(gpdir));
	if (!out || emu_list_dir(e, "target/core", &hbas) < 0)
		return;
	for (size_t i = 0; i < hbas.n; i++) {
		struct rts_names devs = { 0 };

		if (hbas.t[i] != RTS_FT_DIR || emu_plugin_of_hba(hbas.v[i]) < 0 ||
		    path_fmt(hba, sizeof(hba), "target/core/%s", hbas.v[i]) < 0 ||
		    emu_list_dir(e, hba, &devs) < 0)
			continue;
		for (size_t j = 0; j < devs.n; j++) {
			if (devs.t[j] != RTS_FT_DIR ||
			    path_fmt(dev, sizeof(dev), "%s/%s", hba, devs.v[j]) < 0 ||
			    emu_read_sibling(e, dev, "alua_lu_gp", v, sizeof(v)) < 0 ||
			    strncmp(v, want, strlen(want)) || v[strlen(want)] != '\n')
				continue;
			snprintf(v, sizeof(v), "%s/%s", hbas.v[i], devs.v[j]);
			names_add(&all, v, RTS_FT_DIR);
		}
		names_free(&devs);
	}
	names_free(&hbas);
	if (all.n)
		qsort(all.v, all.n, sizeof(*all.v), cmp_str);
	for (size_t i = 0; i < all.n; i++) {
		int k = snprintf(out + n, RTS_VALUE_MAX - n, "%s\n", all.v[i]);

		if (k < 0 || (size_t)k >= RTS_VALUE_MAX - n)
			break;
		n += (size_t)k;
	}
	names_free(&all);
	emu_write_sibling(e, gpdir, "members", out);
}

struct tg_members {
	const char *dev; /* device path the LUNs must link to */
	const char *gp; /* group name */
	struct rts_names found; /* "<fabric>/<wwn>/tpgt_N/lun_M" */
};

/* One LUN directory: is it linked to m->dev and in group m->gp? */
__attribute__((noinline)) static void tg_member_lun(struct emu_be *e, struct tg_members *m,
						    const char *lundir, const char *shown)
{
	struct rts_names l = { 0 };
	char p[RTS_PATH_MAX], target[RTS_PATH_MAX], v[512], want[RTS_NAME_MAX + 32];
	bool linked = false;

	if (emu_list_dir(e, lundir, &l) < 0)
		return;
	for (size_t i = 0; i < l.n && !linked; i++)
		linked = l.t[i] == RTS_FT_LINK &&
			 path_fmt(p, sizeof(p), "%s/%s", lundir, l.v[i]) == 0 &&
			 RAW(e)->readlink(RAWD(e), p, target, sizeof(target)) >= 0 &&
			 !strcmp(target, m->dev);
	names_free(&l);
	snprintf(want, sizeof(want), "TG Port Alias: %s\n", m->gp);
	if (linked && emu_read_sibling(e, lundir, "alua_tg_pt_gp", v, sizeof(v)) == 0 &&
	    !strncmp(v, want, strlen(want)))
		names_add(&m->found, shown, RTS_FT_DIR);
}

/*
 * <dev>/alua/<gp>/members: "<fabric name>/<wwn>/tpgt_N/lun_M\n" plus a NUL per LUN of any
 * fabric exporting the device through this group (core_alua_show_tg_pt_gp_members). The
 * kernel lists them in join order, here sorted. Rebuilt on every read.
 */
__attribute__((noinline)) void emu_update_tg_pt_gp_members(struct emu_be *e, const char *gpdir)
{
	struct tg_members m = { 0 };
	struct rts_names fabrics = { 0 };
	struct {
		char dev[RTS_PATH_MAX], alua[RTS_PATH_MAX], fp[RTS_PATH_MAX], wp[RTS_PATH_MAX];
		char lp[RTS_PATH_MAX], lun[RTS_PATH_MAX], shown[RTS_PATH_MAX];
	} *b _cleanup_free_ = malloc(sizeof(*b)); /* 28 KiB of paths: off the stack */
	char *dev, *alua, *fp, *wp, *lp, *lun, *shown;
	_cleanup_free_ char *out = calloc(1, RTS_VALUE_MAX);
	size_t n = 0;

	if (!b)
		return;
	dev = b->dev;
	alua = b->alua;
	fp = b->fp;
	wp = b->wp;
	lp = b->lp;
	lun = b->lun;
	shown = b->shown;
	if (!out || emu_dir_name(gpdir, alua, RTS_PATH_MAX) < 0 ||
	    emu_dir_name(alua, dev, RTS_PATH_MAX) < 0)
		return;
	m.dev = dev;
	m.gp = emu_base_name(gpdir);
	if (emu_list_dir(e, "target", &fabrics) < 0)
		return;
	for (size_t i = 0; i < fabrics.n; i++) {
		const struct rts_fabric_spec *f = fabric_spec_by_cfs(fabrics.v[i]);
		struct rts_names wwns = { 0 };

		if (!f || fabrics.t[i] != RTS_FT_DIR ||
		    path_fmt(fp, RTS_PATH_MAX, "target/%s", fabrics.v[i]) < 0 ||
		    emu_list_dir(e, fp, &wwns) < 0)
			continue;
		for (size_t j = 0; j < wwns.n; j++) {
			struct rts_names tpgs = { 0 };

			if (wwns.t[j] != RTS_FT_DIR ||
			    path_fmt(wp, RTS_PATH_MAX, "%s/%s", fp, wwns.v[j]) < 0 ||
			    emu_list_dir(e, wp, &tpgs) < 0)
				continue;
			for (size_t k = 0; k < tpgs.n; k++) {
				struct rts_names luns = { 0 };

				if (strncmp(tpgs.v[k], "tpgt_", 5) ||
				    path_fmt(lp, RTS_PATH_MAX, "%s/%s/lun", wp, tpgs.v[k]) <
					    0 ||
				    emu_list_dir(e, lp, &luns) < 0)
					continue;
				for (size_t x = 0; x < luns.n; x++) {
					/* tf_ops->fabric_name: "iSCSI" for iscsi, else the dir */
					if (path_fmt(lun, RTS_PATH_MAX, "%s/%s", lp,
						     luns.v[x]) < 0 ||
					    path_fmt(shown, RTS_PATH_MAX, "%s/%s/%s/%s",
						     strcmp(f->cfs_name, "iscsi") ? f->cfs_name :
										    "iSCSI",
						     wwns.v[j], tpgs.v[k],
						     luns.v[x]) < 0)
						continue;
					tg_member_lun(e, &m, lun, shown);
				}
				names_free(&luns);
			}
			names_free(&tpgs);
		}
		names_free(&wwns);
	}
	names_free(&fabrics);
	if (m.found.n)
		qsort(m.found.v, m.found.n, sizeof(*m.found.v), cmp_str);
	for (size_t i = 0; i < m.found.n; i++) {
		size_t len = strlen(m.found.v[i]);

		if (n + len + 2 >= RTS_VALUE_MAX)
			break;
		memcpy(out + n, m.found.v[i], len);
		n += len;
		out[n++] = '\n';
		out[n++] = '\0';
	}
	names_free(&m.found);
	if (path_fmt(dev, RTS_PATH_MAX, "%s/members", gpdir) == 0)
		RAW(e)->write(RAWD(e), dev, out, n);
}

/*
 * <dev>/info as the backend's show_configfs_dev_params() prints it, built on every read from
 * the control parameters and the attributes: "ACTIVATED" means exported by a LUN.
 */
__attribute__((noinline)) void emu_update_info(struct emu_be *e, const char *dev, int plugin,
					       const char *ctl)
{
	char a[512] = "", b[64] = "", c[64] = "", d[64] = "", attrib[RTS_PATH_MAX];
	char bs[32] = "0", hw[32] = "0", head[256], info[RTS_VALUE_MAX];
	const char *status = emu_link_count(e, dev) ? "ACTIVATED" : "DEACTIVATED";
	uint64_t pages;

	if (path_fmt(attrib, sizeof(attrib), "%s/attrib", dev) == 0) {
		emu_read_sibling(e, attrib,
				 plugin == RTS_PLUGIN_USER || plugin == RTS_PLUGIN_PSCSI ?
					 "hw_block_size" :
					 "block_size",
				 bs, sizeof(bs));
		emu_read_sibling(e, attrib, "hw_max_sectors", hw, sizeof(hw));
	}
	snprintf(head, sizeof(head),
		 "Status: %s  Max Queue Depth: 0  SectorSize: %s  HwMaxSectors: %s\n", status, bs,
		 hw);
	switch (plugin) {
	case RTS_PLUGIN_FILEIO:
		emu_ctl_get(ctl, "fd_dev_name", a, sizeof(a));
		emu_ctl_get(ctl, "fd_dev_size", b, sizeof(b));
		emu_ctl_get(ctl, "fd_buffered_io", c, sizeof(c));
		emu_ctl_get(ctl, "fd_async_io", d, sizeof(d));
		snprintf(
			info, sizeof(info),
			"%s        TCM FILEIO ID: 0        File: %s  Size: %s  Mode: %s Async: %s\n",
			head, a, b[0] ? b : "0", strcmp(c, "1") ? "O_DSYNC" : "Buffered-WCE",
			d[0] ? d : "0");
		break;
	case RTS_PLUGIN_BLOCK: {
		const char *base;

		emu_ctl_get(ctl, "udev_path", a, sizeof(a));
		emu_ctl_get(ctl, "readonly", b, sizeof(b));
		base = strrchr(a, '/') ? strrchr(a, '/') + 1 : a;
		/* + "Major: M Minor: m  CLAIMED: IBLOCK" of the opened device (not emulated) */
		snprintf(info, sizeof(info),
			 "%s        iBlock device: %s  UDEV PATH: %s  readonly: %s\n", head, base,
			 a, b[0] ? b : "0");
		break;
	}
	case RTS_PLUGIN_RAMDISK:
		emu_ctl_get(ctl, "rd_pages", a, sizeof(a));
		emu_ctl_get(ctl, "rd_nullio", b, sizeof(b));
		/* rd_build_device_space(): 2047 pages per scatterlist table (64 KiB of entries) */
		if (parse_u64(a, &pages) < 0 || !strcmp(b, "1") || !emu_dev_enabled(e, dev))
			pages = 0;
		snprintf(info, sizeof(info),
			 "%s        TCM RamDisk ID: 0  RamDisk Makeup: rd_mcp\n"
			 "        PAGES/PAGE_SIZE: %s*4096  SG_table_count: %" PRIu64
			 "  nullio: %s dummy: 0\n",
			 head, a[0] ? a : "0", (pages + 2046) / 2047, b[0] ? b : "0");
		break;
	case RTS_PLUGIN_USER:
		emu_ctl_get(ctl, "dev_config", a, sizeof(a));
		emu_ctl_get(ctl, "dev_size", b, sizeof(b));
		if (!emu_ctl_get(ctl, "max_data_area_mb", c, sizeof(c)))
			strcpy(c, "1024");
		if (!emu_ctl_get(ctl, "data_pages_per_blk", d, sizeof(d)))
			strcpy(d, "1");
		snprintf(info, sizeof(info),
			 "%s        Config: %s Size: %s MaxDataAreaMB: %s DataPagesPerBlk: %s "
			 "CmdRingSizeMB: %s\n",
			 head, a, b[0] ? b : "0", c, d,
			 emu_ctl_get(ctl, "cmd_ring_size_mb", b, sizeof(b)) ? b : "8");
		break;
	default:
		/* pscsi: the SCSI address and INQUIRY data of the device (not emulated) */
		snprintf(info, sizeof(info), "%s", head);
		break;
	}
	emu_write_sibling(e, dev, "info", info);
}

/*
 * What the kernel fills in when a device is configured (target_configure_device() and the
 * backend's configure_device): geometry. iblock and pscsi take theirs from the device: the
 * values are those of a loop device and a tcm_loop disk in the VM tier.
 */
struct geom {
	unsigned int plugins;
	const char *name;
	const char *value;
};

// clang-format off

// clang-format off
static const struct geom enable_geoms[] = {
	{ (1u << RTS_PLUGIN_MAX) - 1, "hw_block_size", "512" },
	{ (1u << RTS_PLUGIN_MAX) - 1, "hw_queue_depth", "128" },
	{ 1u << RTS_PLUGIN_PSCSI, "hw_queue_depth", "1024" },
	{ 1u << RTS_PLUGIN_PSCSI, "hw_max_sectors", "65528" },
	{ 1u << RTS_PLUGIN_FILEIO, "hw_max_sectors", "16384" }, /* FD_MAX_BYTES / block size */
	{ 1u << RTS_PLUGIN_FILEIO, "optimal_sectors", "16384" },
	{ 1u << RTS_PLUGIN_FILEIO, "max_unmap_lba_count", "8192" },
	{ 1u << RTS_PLUGIN_FILEIO, "max_unmap_block_desc_count", "1" },
	{ 1u << RTS_PLUGIN_FILEIO, "unmap_granularity", "1" },
	{ 1u << RTS_PLUGIN_FILEIO, "max_write_same_len", "4096" },
	{ 1u << RTS_PLUGIN_BLOCK, "hw_max_sectors", "2560" },
	{ 1u << RTS_PLUGIN_BLOCK, "optimal_sectors", "2560" },
	{ 1u << RTS_PLUGIN_BLOCK, "is_nonrot", "1" },
	{ 1u << RTS_PLUGIN_BLOCK, "max_unmap_lba_count", "8388607" },
	{ 1u << RTS_PLUGIN_BLOCK, "max_unmap_block_desc_count", "1" },
	{ 1u << RTS_PLUGIN_BLOCK, "unmap_granularity", "8" },
	{ 1u << RTS_PLUGIN_BLOCK, "max_write_same_len", "8388607" },
	{ 1u << RTS_PLUGIN_RAMDISK, "hw_max_sectors", "4294967288" },
	{ 1u << RTS_PLUGIN_RAMDISK, "optimal_sectors", "4294967288" },
	{ 1u << RTS_PLUGIN_RAMDISK, "is_nonrot", "1" },
	{ 1u << RTS_PLUGIN_USER, "hw_max_sectors", "128" },
	{ 0 },
};
// clang-format on

__attribute__((noinline)) void emu_enable_geom(struct emu_be *e, const char *dev, int plugin,
					       const char *ctl)
{
	char attrib[RTS_PATH_MAX], v[64], bs[32] = "";

	if (path_fmt(attrib, sizeof(attrib), "%s/attrib", dev) < 0)
		return;
	for (const struct geom *g = enable_geoms; g->name; g++)
		if (g->plugins & (1u << plugin))
			emu_write_sibling(e, attrib, g->name, g->value);
	if (plugin == RTS_PLUGIN_USER) {
		if (emu_ctl_get(ctl, "hw_block_size", v, sizeof(v)))
			emu_write_sibling(e, attrib, "hw_block_size", v);
		if (emu_ctl_get(ctl, "hw_max_sectors", v, sizeof(v)))
			emu_write_sibling(e, attrib, "hw_max_sectors", v);
	}
	if (plugin == RTS_PLUGIN_PSCSI || plugin == RTS_PLUGIN_USER)
		return;
	/* block_size: 0 until configured, then the value set before enable or 512 */
	if (emu_read_sibling(e, attrib, "block_size", bs, sizeof(bs)) < 0 || !strcmp(bs, "0"))
		emu_write_sibling(e, attrib, "block_size", "512");
	emu_write_sibling(e, attrib, "queue_depth", "128");
}
