/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage objects of every plugin and their ALUA target port groups.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

static const char *const plugin_names[RTS_PLUGIN_MAX] = {
	[RTS_PLUGIN_FILEIO] = "fileio", [RTS_PLUGIN_BLOCK] = "iblock",
	[RTS_PLUGIN_PSCSI] = "pscsi",	[RTS_PLUGIN_RAMDISK] = "rd_mcp",
	[RTS_PLUGIN_USER] = "user",
};

RTS_EXPORT const char *rts_plugin_name(enum rts_plugin plugin)
{
	if ((unsigned int)plugin >= RTS_PLUGIN_MAX)
		return NULL;
	return plugin_names[plugin];
}

RTS_EXPORT int rts_plugin_from_name(const char *name, enum rts_plugin *ret)
{
	static const struct {
		const char *alias;
		enum rts_plugin plugin;
	} aliases[] = { { "block", RTS_PLUGIN_BLOCK },
			{ "ramdisk", RTS_PLUGIN_RAMDISK },
			{ "rd", RTS_PLUGIN_RAMDISK },
			{ "file", RTS_PLUGIN_FILEIO } };

	assert_return(name && ret, -EINVAL);
	for (int i = 0; i < RTS_PLUGIN_MAX; i++) {
		if (!strcmp(name, plugin_names[i])) {
			*ret = (enum rts_plugin)i;
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
		if (!strcmp(name, aliases[i].alias)) {
			*ret = aliases[i].plugin;
			return 0;
		}
	}
	return -EINVAL;
}

/* ------------------------------------------------------------ iteration / lookup */

RTS_EXPORT struct rts_so *rts_so_first(struct rts_ctx *ctx)
{
	assert_return(ctx, NULL);
	if (ensure_core(ctx) < 0)
		return NULL;
	return list_first(&ctx->sos, struct rts_so, node);
}

RTS_EXPORT struct rts_so *rts_so_next(struct rts_so *so)
{
	assert_return(so, NULL);
	return list_next(&so->ctx->sos, so, node);
}

RTS_EXPORT int rts_so_lookup(struct rts_ctx *ctx, enum rts_plugin plugin, const char *name,
			     struct rts_so **ret)
{
	struct rts_so *so;
	int r;

	assert_return(ctx && ret, -EINVAL);
	if ((unsigned int)plugin >= RTS_PLUGIN_MAX)
		return rts_error(ctx, -EINVAL, "", "invalid plugin %d", plugin);
	r = check_name(ctx, "storage object", name);
	if (r < 0)
		return r;
	r = so_probe(ctx, plugin, name, &so);
	if (r < 0)
		return r;
	if (!so)
		return rts_error(ctx, -ENOENT, name, "no %s storage object '%s'",
				 plugin_names[plugin], name);
	*ret = so;
	return 0;
}

/* ------------------------------------------------------------ creation */

/* Control strings are comma separated key=value lists: values must not break them. */
static int check_ctl_value(struct rts_ctx *ctx, const char *what, const char *v)
{
	if (!v || !*v)
		return rts_error(ctx, -EINVAL, "", "%s missing", what);
	if (strpbrk(v, ",\n"))
		return rts_error(ctx, -EINVAL, v, "%s contains ',' or a newline", what);
	if (strlen(v) > 511)
		return rts_error(ctx, -EINVAL, v, "%s too long", what);
	return 0;
}

/*
 * mkdir core/<plugin>_<n>/<name>, write every control string, udev_path, then enable.
 * Removes what it created on failure.
 */
static int so_create(struct rts_ctx *ctx, enum rts_plugin plugin, const char *name,
		     const char *const *controls, const char *udev_path, struct rts_so **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char hba[RTS_PATH_MAX], dev[RTS_PATH_MAX], p[RTS_PATH_MAX];
	bool hba_created = false;
	uint32_t idx;
	struct rts_so *so;
	int r;

	r = check_name(ctx, "storage object", name);
	if (r < 0)
		return r;
	r = so_probe(ctx, plugin, name, &so); /* lists the HBAs: hba_next is the next free */
	if (r < 0)
		return r;
	if (so)
		return rts_error(ctx, -EEXIST, name, "%s storage object '%s' exists",
				 plugin_names[plugin], name);
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	idx = ctx->hba_next[plugin];
	r = path_fmt(hba, sizeof(hba), "target/core/%s_%" PRIu32, plugin_names[plugin], idx);
	if (r >= 0)
		r = path_fmt(dev, sizeof(dev), "%s/%s", hba, name);
	if (r < 0)
		return rts_error(ctx, r, name, "path too long");
	if (!cfs_exists(ctx, hba, RTS_FT_DIR)) {
		r = cfs_mkdir(ctx, hba);
		if (r < 0)
			return r;
		hba_created = true;
	}
	r = cfs_mkdir(ctx, dev);
	if (r < 0)
		goto undo_hba;
	for (size_t i = 0; controls && controls[i]; i++) {
		r = path_fmt(p, sizeof(p), "%s/control", dev);
		if (r >= 0)
			r = cfs_write(ctx, p, controls[i]);
		if (r < 0)
			goto undo_dev;
	}
	if (udev_path) {
		r = path_fmt(p, sizeof(p), "%s/udev_path", dev);
		if (r >= 0)
			r = cfs_write(ctx, p, udev_path);
		if (r < 0)
			goto undo_dev;
	}
	r = path_fmt(p, sizeof(p), "%s/enable", dev);
	if (r >= 0)
		r = cfs_write(ctx, p, "1");
	if (r < 0)
		goto undo_dev;
	so = so_add(ctx, plugin, idx, name);
	if (!so) {
		r = rts_error(ctx, -ENOMEM, dev, "out of memory");
		goto undo_dev;
	}
	if (!alua_add(so, "default_tg_pt_gp")) {
		so_free(so);
		r = rts_error(ctx, -ENOMEM, dev, "out of memory");
		goto undo_dev;
	}
	so->alua_walked = true; /* the kernel makes only the default group */
	rts_dbg(ctx, "created storage object '%s'", dev);
	if (ret)
		*ret = so;
	return 0;

undo_dev:
	cfs_undo_rmdir(ctx, dev);
	if (hba_created)
		cfs_undo_rmdir(ctx, hba);
	return r;
undo_hba:
	if (hba_created)
		cfs_undo_rmdir(ctx, hba);
	return r;
}

/* The memory backend rehearses: host files are only looked at, never made or changed. */
static bool touches_host_files(const struct rts_ctx *ctx)
{
	const struct rts_backend *b = ctx->be;

	while (b->raw)
		b = b->raw;
	return !b->in_memory;
}

/* What creating or extending @p path would need; nothing is touched (memory backend). */
static int check_backing_file(struct rts_ctx *ctx, const char *path, uint64_t *size)
{
	char dir[RTS_PATH_MAX], *slash;
	struct stat st;

	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
			return rts_error(ctx, -EINVAL, path, "not a regular file or block device");
		if (S_ISREG(st.st_mode) && *size == 0) {
			if (st.st_size == 0)
				return rts_error(ctx, -EINVAL, path,
						 "empty file and no size given");
			*size = (uint64_t)st.st_size;
		}
		return 0;
	}
	if (errno != ENOENT)
		return rts_error(ctx, -errno, path, "cannot stat: %m");
	if (*size == 0)
		return rts_error(ctx, -EINVAL, path, "file does not exist and no size given");
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0';
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return rts_error(ctx, -ENOENT, path, "cannot create backing file: no directory %s",
				 dir);
	return 0;
}

/* Create or extend the backing file of a fileio object. */
static int prepare_backing_file(struct rts_ctx *ctx, const char *path, uint64_t *size,
				unsigned int flags, bool *created)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat st;
	int r;

	if (!touches_host_files(ctx))
		return check_backing_file(ctx, path, size);
	if (stat(path, &st) == 0) {
		if (S_ISBLK(st.st_mode))
			return 0;
		if (!S_ISREG(st.st_mode))
			return rts_error(ctx, -EINVAL, path, "not a regular file or block device");
		if (*size == 0) {
			if (st.st_size == 0)
				return rts_error(ctx, -EINVAL, path,
						 "empty file and no size given");
			*size = (uint64_t)st.st_size;
			return 0;
		}
		if (*size <= (uint64_t)st.st_size)
			return 0;
		fd = open(path, O_WRONLY | O_CLOEXEC);
	} else {
		if (errno != ENOENT)
			return rts_error(ctx, -errno, path, "cannot stat: %m");
		if (*size == 0)
			return rts_error(ctx, -EINVAL, path,
					 "file does not exist and no size given");
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			*created = true;
	}
	if (fd < 0)
		return rts_error(ctx, -errno, path, "cannot open backing file: %m");
	if (!(flags & RTS_FILEIO_SPARSE)) {
		r = posix_fallocate(fd, 0, (off_t)*size);
		if (r == 0)
			return 0;
		if (r != EOPNOTSUPP && r != EINVAL)
			return rts_error(ctx, -r, path, "cannot allocate %" PRIu64 " bytes: %s",
					 *size, strerror(r));
		/* filesystem without fallocate: fall back to a sparse file */
	}
	if (ftruncate(fd, (off_t)*size) < 0)
		return rts_error(ctx, -errno, path, "cannot resize: %m");
	return 0;
}

RTS_EXPORT int rts_fileio_create(struct rts_ctx *ctx, const char *name, const char *path,
				 uint64_t size, unsigned int flags, struct rts_so **ret)
{
	char ctl[1024];
	const char *controls[3] = { ctl, NULL, NULL };
	bool created = false;
	struct rts_so *so;
	int r;

	assert_return(ctx, -EINVAL);
	if (flags & ~(RTS_FILEIO_WRITE_BACK | RTS_FILEIO_SPARSE))
		return rts_error(ctx, -EINVAL, name, "invalid fileio flags 0x%x", flags);
	r = check_ctl_value(ctx, "backing file", path);
	if (r < 0)
		return r;
	if (path[0] != '/')
		return rts_error(ctx, -EINVAL, path, "backing file must be an absolute path");
	r = check_name(ctx, "storage object", name);
	if (r < 0)
		return r;
	r = so_probe(ctx, RTS_PLUGIN_FILEIO, name, &so);
	if (r < 0)
		return r;
	if (so)
		return rts_error(ctx, -EEXIST, name, "fileio storage object '%s' exists", name);
	r = prepare_backing_file(ctx, path, &size, flags, &created);
	if (r < 0) {
		if (created)
			unlink(path);
		return r;
	}
	if (size)
		snprintf(ctl, sizeof(ctl), "fd_dev_name=%s,fd_dev_size=%" PRIu64, path, size);
	else
		snprintf(ctl, sizeof(ctl), "fd_dev_name=%s", path);
	if (flags & RTS_FILEIO_WRITE_BACK)
		controls[1] = "fd_buffered_io=1";
	r = so_create(ctx, RTS_PLUGIN_FILEIO, name, controls, path, &so);
	if (r < 0) {
		if (created) /* do not leave a file we made behind */
			unlink(path);
		return r;
	}
	r = obj_set_attr(ctx, so->path, RTS_GROUP_ATTRIB, "emulate_write_cache",
			 (flags & RTS_FILEIO_WRITE_BACK) ? "1" : "0");
	if (r < 0)
		rts_dbg(ctx, "cannot set emulate_write_cache on '%s'", so->path);
	if (ret)
		*ret = so;
	return 0;
}

RTS_EXPORT int rts_block_create(struct rts_ctx *ctx, const char *name, const char *dev,
				unsigned int flags, struct rts_so **ret)
{
	char ctl[1024];
	const char *controls[3] = { ctl, NULL, NULL };
	int r;

	assert_return(ctx, -EINVAL);
	if (flags & ~(RTS_BLOCK_READONLY | RTS_BLOCK_EXCLUSIVE))
		return rts_error(ctx, -EINVAL, name, "invalid block flags 0x%x", flags);
	r = check_ctl_value(ctx, "block device", dev);
	if (r < 0)
		return r;
	if (dev[0] != '/')
		return rts_error(ctx, -EINVAL, dev, "block device must be an absolute path");
	if (ctx->be->is_real_configfs) {
		struct stat st;

		if (stat(dev, &st) < 0)
			return rts_error(ctx, -errno, dev, "cannot stat: %m");
		if (!S_ISBLK(st.st_mode))
			return rts_error(ctx, -ENOTBLK, dev, "not a block device");
	}
	if (flags & RTS_BLOCK_EXCLUSIVE) {
		struct rts_so *so;

		r = ensure_core(ctx); /* every block and fileio storage object */
		if (r < 0)
			return r;

		list_for_each(&ctx->sos, so, node) {
			_cleanup_free_ char *up = NULL;

			if (so->plugin == RTS_PLUGIN_PSCSI || so->plugin == RTS_PLUGIN_RAMDISK ||
			    so->plugin == RTS_PLUGIN_USER)
				continue;
			if (obj_get_attr(ctx, so->path, RTS_GROUP_NONE, "udev_path", &up) == 0 &&
			    !strcmp(up, dev))
				return rts_error(ctx, -EBUSY, dev, "device in use by '%s'",
						 so->path);
		}
	}
	snprintf(ctl, sizeof(ctl), "udev_path=%s", dev);
	controls[1] = (flags & RTS_BLOCK_READONLY) ? "readonly=1" : "readonly=0";
	return so_create(ctx, RTS_PLUGIN_BLOCK, name, controls, dev, ret);
}

/* /dev/sdX -> H:C:T:L through sysfs. */
static int hctl_of(const char *dev, char *buf, size_t size)
{
	char link[RTS_PATH_MAX], target[RTS_PATH_MAX];
	const char *base = strrchr(dev, '/') ? strrchr(dev, '/') + 1 : dev;
	ssize_t n;

	if (path_fmt(link, sizeof(link), "/sys/block/%s/device", base) < 0)
		return -EINVAL;
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	if (strlen(base) >= size)
		return -ENOSPC;
	strcpy(buf, base);
	return 0;
}

RTS_EXPORT int rts_pscsi_create(struct rts_ctx *ctx, const char *name, const char *dev,
				struct rts_so **ret)
{
	unsigned int h, c, t, l;
	char hctl[64], ctl[256];
	const char *controls[2] = { ctl, NULL };
	int r, n = 0;

	assert_return(ctx, -EINVAL);
	r = check_ctl_value(ctx, "SCSI device", dev);
	if (r < 0)
		return r;
	snprintf(hctl, sizeof(hctl), "%s", dev);
	if (dev[0] == '/') {
		r = hctl_of(dev, hctl, sizeof(hctl));
		if (r < 0)
			return rts_error(ctx, r, dev, "cannot find the SCSI address of '%s'", dev);
	}
	if (sscanf(hctl, "%u:%u:%u:%u%n", &h, &c, &t, &l, &n) != 4 || hctl[n])
		return rts_error(ctx, -EINVAL, dev, "not a H:C:T:L SCSI address: '%s'", hctl);
	snprintf(ctl, sizeof(ctl),
		 "scsi_host_id=%u,scsi_channel_id=%u,scsi_target_id=%u,scsi_lun_id=%u", h, c, t, l);
	return so_create(ctx, RTS_PLUGIN_PSCSI, name, controls, dev[0] == '/' ? dev : NULL, ret);
}

RTS_EXPORT int rts_ramdisk_create(struct rts_ctx *ctx, const char *name, uint64_t size,
				  unsigned int flags, struct rts_so **ret)
{
	long page = sysconf(_SC_PAGESIZE);
	char ctl[128];
	const char *controls[3] = { ctl, NULL, NULL };

	assert_return(ctx, -EINVAL);
	if (flags & ~RTS_RAMDISK_NULLIO)
		return rts_error(ctx, -EINVAL, name ? name : "", "invalid ramdisk flags 0x%x",
				 flags);
	if (size == 0)
		return rts_error(ctx, -EINVAL, name ? name : "", "ramdisk size must be > 0");
	if (page <= 0)
		page = 4096;
	snprintf(ctl, sizeof(ctl), "rd_pages=%" PRIu64,
		 (size + (uint64_t)page - 1) / (uint64_t)page);
	if (flags & RTS_RAMDISK_NULLIO)
		controls[1] = "rd_nullio=1";
	return so_create(ctx, RTS_PLUGIN_RAMDISK, name, controls, NULL, ret);
}

RTS_EXPORT int rts_user_create(struct rts_ctx *ctx, const char *name,
			       const struct rts_user_config *cfg, struct rts_so **ret)
{
	char c[6][560];
	const char *controls[8] = { 0 };
	size_t n = 0;
	int r;

	assert_return(ctx, -EINVAL);
	if (!cfg)
		return rts_error(ctx, -EINVAL, name ? name : "", "missing user configuration");
	r = check_ctl_value(ctx, "cfgstring", cfg->cfgstring);
	if (r < 0)
		return r;
	if (!strchr(cfg->cfgstring, '/'))
		return rts_error(ctx, -EINVAL, cfg->cfgstring,
				 "cfgstring must be '<subtype>/<handler config>'");
	if (cfg->size == 0)
		return rts_error(ctx, -EINVAL, name ? name : "", "user backstore size must be > 0");
	if (cfg->control && strchr(cfg->control, '\n'))
		return rts_error(ctx, -EINVAL, cfg->control, "control contains a newline");
	snprintf(c[n], sizeof(c[n]), "dev_config=%s", cfg->cfgstring);
	controls[n] = c[n];
	n++;
	snprintf(c[n], sizeof(c[n]), "dev_size=%" PRIu64, cfg->size);
	controls[n] = c[n];
	n++;
	if (cfg->max_data_area_mb) {
		snprintf(c[n], sizeof(c[n]), "max_data_area_mb=%" PRIu32, cfg->max_data_area_mb);
		controls[n] = c[n];
		n++;
	}
	if (cfg->hw_max_sectors) {
		snprintf(c[n], sizeof(c[n]), "hw_max_sectors=%" PRIu32, cfg->hw_max_sectors);
		controls[n] = c[n];
		n++;
	}
	if (cfg->hw_block_size) {
		snprintf(c[n], sizeof(c[n]), "hw_block_size=%" PRIu32, cfg->hw_block_size);
		controls[n] = c[n];
		n++;
	}
	if (cfg->nl_reply_supported >= 0) {
		snprintf(c[n], sizeof(c[n]), "nl_reply_supported=%d", cfg->nl_reply_supported);
		controls[n] = c[n];
		n++;
	}
	if (cfg->control && *cfg->control)
		controls[n++] = cfg->control;
	return so_create(ctx, RTS_PLUGIN_USER, name, controls, NULL, ret);
}

/* ------------------------------------------------------------ deletion */

RTS_EXPORT int rts_so_delete(struct rts_so *so)
{
	struct rts_ctx *ctx;
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_fabric *f;
	struct rts_alua_tpg *gp, *tmp;
	char hba[RTS_PATH_MAX];
	int r;

	assert_return(so, -EINVAL);
	ctx = so->ctx;
	/* every LUN exporting it must be known */
	r = ensure_so_exporters(so);
	if (r >= 0)
		r = ensure_so_alua(so);
	if (r < 0)
		return r;
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	/* LUNs exporting the object go first (rtslib semantics) */
	list_for_each(&ctx->fabrics, f, node) {
		struct rts_target *t;

		if (!so->lun_count)
			break;
		list_for_each(&f->targets, t, node) {
			struct rts_tpg *tpg;

			list_for_each(&t->tpgs, tpg, node) {
				struct rts_lun *lun, *tl;

				list_for_each_safe(&tpg->luns, lun, tl, node) {
					if (lun->so != so)
						continue;
					r = rts_lun_delete(lun);
					if (r < 0)
						return r;
				}
			}
		}
	}
	list_for_each_safe(&so->alua, gp, tmp, node) {
		if (!strcmp(gp->name, "default_tg_pt_gp"))
			continue;
		r = rts_alua_tpg_delete(gp);
		if (r < 0)
			return r;
	}
	r = cfs_rmdir(ctx, so->path);
	if (r < 0)
		return r;
	/* the HBA goes when it is empty; another object may still use it */
	if (path_fmt(hba, sizeof(hba), "target/core/%s_%" PRIu32, plugin_names[so->plugin],
		     so->hba_index) == 0) {
		r = ctx->be->ops->rmdir(ctx->be->data, hba);
		if (r < 0)
			rts_dbg(ctx, "keeping '%s': %s", hba, strerror(-r));
	}
	rts_dbg(ctx, "deleted storage object '%s'", so->path);
	so_free(so);
	return 0;
}

/* ------------------------------------------------------------ accessors */

RTS_GETTER(const char *, rts_so_get_name, struct rts_so, so, NULL, so->name)
RTS_GETTER(enum rts_plugin, rts_so_get_plugin, struct rts_so, so, RTS_PLUGIN_MAX, so->plugin)
RTS_GETTER(uint32_t, rts_so_get_hba_index, struct rts_so, so, 0, so->hba_index)
RTS_GETTER(const char *, rts_so_get_path, struct rts_so, so, NULL, so->path)
RTS_GETTER(struct rts_ctx *, rts_so_get_ctx, struct rts_so, so, NULL, so->ctx)

RTS_EXPORT unsigned int rts_so_get_lun_count(struct rts_so *so)
{
	assert_return(so, 0);
	ensure_so_exporters(so);
	return so->lun_count;
}

#define SERIAL_PREFIX "T10 VPD Unit Serial Number: "

RTS_EXPORT int rts_so_get_attr(struct rts_so *so, enum rts_group group, const char *name,
			       char **ret)
{
	int r;

	assert_return(so && ret, -EINVAL);
	if (group == RTS_GROUP_PARAM || group == RTS_GROUP_AUTH)
		return rts_error(so->ctx, -EINVAL, so->path, "storage objects have no such group");
	r = obj_get_attr(so->ctx, so->path, group, name, ret);
	if (r < 0)
		return r;
	if (group == RTS_GROUP_WWN && !strcmp(name, "vpd_unit_serial") &&
	    !strncmp(*ret, SERIAL_PREFIX, strlen(SERIAL_PREFIX)))
		memmove(*ret, *ret + strlen(SERIAL_PREFIX),
			strlen(*ret) - strlen(SERIAL_PREFIX) + 1);
	return 0;
}

RTS_EXPORT int rts_so_set_attr(struct rts_so *so, enum rts_group group, const char *name,
			       const char *value)
{
	assert_return(so, -EINVAL);
	if (group == RTS_GROUP_PARAM || group == RTS_GROUP_AUTH)
		return rts_error(so->ctx, -EINVAL, so->path, "storage objects have no such group");
	return obj_set_attr(so->ctx, so->path, group, name, value);
}

RTS_EXPORT int rts_so_foreach_attr(struct rts_so *so, enum rts_group group, rts_attr_fn fn,
				   void *userdata)
{
	assert_return(so, -EINVAL);
	return obj_foreach_attr(so->ctx, so->path, group, fn, userdata);
}

RTS_EXPORT bool rts_so_is_enabled(struct rts_so *so)
{
	_cleanup_free_ char *v = NULL;

	assert_return(so, false);
	return obj_get_attr(so->ctx, so->path, RTS_GROUP_NONE, "enable", &v) == 0 &&
	       !strcmp(v, "1");
}

RTS_EXPORT int rts_so_get_udev_path(struct rts_so *so, char **ret)
{
	assert_return(so && ret, -EINVAL);
	return obj_get_attr(so->ctx, so->path, RTS_GROUP_NONE, "udev_path", ret);
}

RTS_EXPORT int rts_so_get_wwn(struct rts_so *so, char **ret)
{
	return rts_so_get_attr(so, RTS_GROUP_WWN, "vpd_unit_serial", ret);
}

RTS_EXPORT int rts_so_set_wwn(struct rts_so *so, const char *serial)
{
	assert_return(so, -EINVAL);
	if (!serial || !*serial || strlen(serial) > 254)
		return rts_error(so->ctx, -EINVAL, so->path, "invalid unit serial");
	return obj_set_attr(so->ctx, so->path, RTS_GROUP_WWN, "vpd_unit_serial", serial);
}

/* Find "<key> <number>" in text. */
static int find_number(const char *text, const char *key, uint64_t *ret)
{
	const char *p = strstr(text, key);

	if (!p)
		return -ENOENT;
	p += strlen(key);
	while (*p == ' ')
		p++;
	*ret = strtoull(p, NULL, 10);
	return 0;
}

RTS_EXPORT int rts_so_get_size(struct rts_so *so, uint64_t *ret)
{
	_cleanup_free_ char *v = NULL;
	uint64_t n = 0;
	int r;

	assert_return(so && ret, -EINVAL);
	*ret = 0;
	switch (so->plugin) {
	case RTS_PLUGIN_USER:
		r = obj_get_attr(so->ctx, so->path, RTS_GROUP_ATTRIB, "dev_size", &v);
		if (r < 0)
			return r;
		if (parse_u64(v, &n) == 0)
			*ret = n;
		return 0;
	case RTS_PLUGIN_FILEIO:
		r = obj_get_attr(so->ctx, so->path, RTS_GROUP_NONE, "info", &v);
		if (r < 0)
			return r;
		if (find_number(v, "  Size:", &n) == 0)
			*ret = n;
		return 0;
	case RTS_PLUGIN_RAMDISK: {
		long page = sysconf(_SC_PAGESIZE);
		uint64_t psize = 0;
		const char *p;

		r = obj_get_attr(so->ctx, so->path, RTS_GROUP_NONE, "info", &v);
		if (r < 0)
			return r;
		/* 6.1 rd_show_configfs_dev_params(): "PAGES/PAGE_SIZE: <pages>*<page size>" */
		p = strstr(v, "PAGES/PAGE_SIZE:");
		if (p && find_number(p, "PAGES/PAGE_SIZE:", &n) == 0 && (p = strchr(p, '*')))
			psize = strtoull(p + 1, NULL, 10);
		if (psize)
			*ret = n * psize;
		else if (find_number(v, "RamDisk Pages:", &n) == 0) /* older kernels */
			*ret = n * (uint64_t)(page > 0 ? page : 4096);
		return 0;
	}
	case RTS_PLUGIN_BLOCK: {
		int fd;

		/* the kernel does not show it: ask the device (rtslib does the same) */
		if (!so->ctx->be->is_real_configfs)
			return 0;
		r = obj_get_attr(so->ctx, so->path, RTS_GROUP_NONE, "udev_path", &v);
		if (r < 0)
			return r;
		fd = open(v, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return rts_error(so->ctx, -errno, v, "cannot open: %m");
		if (ioctl(fd, BLKGETSIZE64, ret) < 0) {
			r = -errno;
			close(fd);
			*ret = 0;
			return rts_error(so->ctx, r, v, "cannot get the size: %s", strerror(-r));
		}
		close(fd);
		return 0;
	}
	default:
		return 0;
	}
}

/* ------------------------------------------------------------ ALUA groups */

RTS_EXPORT struct rts_alua_tpg *rts_alua_tpg_first(struct rts_so *so)
{
	assert_return(so, NULL);
	if (ensure_so_alua(so) < 0)
		return NULL;
	return list_first(&so->alua, struct rts_alua_tpg, node);
}

RTS_EXPORT struct rts_alua_tpg *rts_alua_tpg_next(struct rts_alua_tpg *gp)
{
	assert_return(gp, NULL);
	return list_next(&gp->so->alua, gp, node);
}

static struct rts_alua_tpg *alua_find(struct rts_so *so, const char *name)
{
	struct rts_alua_tpg *gp;

	list_for_each(&so->alua, gp, node)
		if (!strcmp(gp->name, name))
			return gp;
	return NULL;
}

RTS_EXPORT int rts_alua_tpg_lookup(struct rts_so *so, const char *name, struct rts_alua_tpg **ret)
{
	struct rts_alua_tpg *gp;
	int r;

	assert_return(so && ret, -EINVAL);
	r = check_name(so->ctx, "ALUA group", name);
	if (r < 0)
		return r;
	r = ensure_so_alua(so);
	if (r < 0)
		return r;
	gp = alua_find(so, name);
	if (!gp)
		return rts_error(so->ctx, -ENOENT, so->path, "no ALUA group '%s'", name);
	*ret = gp;
	return 0;
}

/*
 * Make an ALUA group directory (a target port group under a storage object's alua/, or an LU
 * group under core/alua/lu_gps/) and write its id into @id_file, the directory removed again
 * when the kernel refuses the id. Begins @txn, which the caller ends.
 */
static int group_mkdir(struct rts_ctx *ctx, struct rts_txn *txn, const char *path,
		       const char *id_file, uint16_t id)
{
	char idp[RTS_PATH_MAX], v[16];
	int r;

	r = path_fmt(idp, sizeof(idp), "%s/%s", path, id_file);
	if (r < 0)
		return rts_error(ctx, r, path, "path too long");
	r = txn_begin(ctx, txn);
	if (r < 0)
		return r;
	r = cfs_mkdir(ctx, path);
	if (r < 0)
		return r;
	snprintf(v, sizeof(v), "%u", id);
	r = cfs_write(ctx, idp, v);
	if (r < 0) {
		cfs_undo_rmdir(ctx, path);
		return r;
	}
	return 0;
}

RTS_EXPORT int rts_alua_tpg_create(struct rts_so *so, const char *name, uint16_t id,
				   struct rts_alua_tpg **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char path[RTS_PATH_MAX];
	struct rts_ctx *ctx;
	struct rts_alua_tpg *gp;
	int r;

	assert_return(so, -EINVAL);
	ctx = so->ctx;
	r = check_name(ctx, "ALUA group", name);
	if (r < 0)
		return r;
	if (id == 0)
		return rts_error(ctx, -EINVAL, name, "ALUA group id must be 1..65535");
	r = ensure_so_alua(so);
	if (r < 0)
		return r;
	if (alua_find(so, name))
		return rts_error(ctx, -EEXIST, name, "ALUA group '%s' exists", name);
	r = path_fmt(path, sizeof(path), "%s/alua/%s", so->path, name);
	if (r < 0)
		return rts_error(ctx, r, name, "path too long");
	r = group_mkdir(ctx, &txn, path, "tg_pt_gp_id", id);
	if (r < 0)
		return r;
	gp = alua_add(so, name);
	if (!gp)
		return rts_error(ctx, -ENOMEM, path, "out of memory");
	if (ret)
		*ret = gp;
	return 0;
}

RTS_EXPORT int rts_alua_tpg_delete(struct rts_alua_tpg *gp)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	struct rts_ctx *ctx;
	int r;

	assert_return(gp, -EINVAL);
	ctx = gp->so->ctx;
	if (!strcmp(gp->name, "default_tg_pt_gp"))
		return rts_error(ctx, -EPERM, gp->path, "the default ALUA group cannot be deleted");
	r = txn_begin(ctx, &txn);
	if (r < 0)
		return r;
	r = cfs_rmdir(ctx, gp->path);
	if (r < 0)
		return r;
	alua_free(gp);
	return 0;
}

RTS_GETTER(const char *, rts_alua_tpg_get_name, struct rts_alua_tpg, gp, NULL, gp->name)
RTS_GETTER(struct rts_so *, rts_alua_tpg_get_so, struct rts_alua_tpg, gp, NULL, gp->so)

RTS_EXPORT int rts_alua_tpg_get_attr(struct rts_alua_tpg *gp, const char *name, char **ret)
{
	assert_return(gp && ret, -EINVAL);
	return obj_get_attr(gp->so->ctx, gp->path, RTS_GROUP_NONE, name, ret);
}

RTS_EXPORT int rts_alua_tpg_foreach_attr(struct rts_alua_tpg *gp, rts_attr_fn fn, void *userdata)
{
	assert_return(gp, -EINVAL);
	return obj_foreach_attr(gp->so->ctx, gp->path, RTS_GROUP_NONE, fn, userdata);
}

RTS_EXPORT int rts_alua_tpg_set_attr(struct rts_alua_tpg *gp, const char *name, const char *value)
{
	assert_return(gp, -EINVAL);
	return obj_set_attr(gp->so->ctx, gp->path, RTS_GROUP_NONE, name, value);
}

/* ------------------------------------------------------------ ALUA LU groups */

RTS_EXPORT struct rts_lu_gp *rts_lu_gp_first(struct rts_ctx *ctx)
{
	assert_return(ctx, NULL);
	if (ensure_core(ctx) < 0)
		return NULL;
	return list_first(&ctx->lu_gps, struct rts_lu_gp, node);
}

RTS_EXPORT struct rts_lu_gp *rts_lu_gp_next(struct rts_lu_gp *gp)
{
	assert_return(gp, NULL);
	return list_next(&gp->ctx->lu_gps, gp, node);
}

static struct rts_lu_gp *lu_gp_find(struct rts_ctx *ctx, const char *name)
{
	char p[RTS_PATH_MAX];

	if (path_fmt(p, sizeof(p), "target/core/alua/lu_gps/%s", name) < 0)
		return NULL;
	return index_get(&ctx->index, p);
}

RTS_EXPORT int rts_lu_gp_lookup(struct rts_ctx *ctx, const char *name, struct rts_lu_gp **ret)
{
	struct rts_lu_gp *gp;
	int r;

	assert_return(ctx && ret, -EINVAL);
	r = check_name(ctx, "LU group", name);
	if (r < 0)
		return r;
	r = ensure_core(ctx);
	if (r < 0)
		return r;
	gp = lu_gp_find(ctx, name);
	if (!gp)
		return rts_error(ctx, -ENOENT, name, "no LU group '%s'", name);
	*ret = gp;
	return 0;
}

RTS_EXPORT int rts_lu_gp_create(struct rts_ctx *ctx, const char *name, uint16_t id,
				struct rts_lu_gp **ret)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	char path[RTS_PATH_MAX];
	struct rts_lu_gp *gp;
	int r;

	assert_return(ctx, -EINVAL);
	r = check_name(ctx, "LU group", name);
	if (r < 0)
		return r;
	if (id == 0)
		return rts_error(ctx, -EINVAL, name, "LU group id must be 1..65535");
	r = ensure_core(ctx);
	if (r < 0)
		return r;
	if (lu_gp_find(ctx, name))
		return rts_error(ctx, -EEXIST, name, "LU group '%s' exists", name);
	r = path_fmt(path, sizeof(path), "target/core/alua/lu_gps/%s", name);
	if (r < 0)
		return rts_error(ctx, r, name, "path too long");
	r = group_mkdir(ctx, &txn, path, "lu_gp_id", id);
	if (r < 0)
		return r;
	gp = lu_gp_add(ctx, name);
	if (!gp)
		return rts_error(ctx, -ENOMEM, path, "out of memory");
	if (ret)
		*ret = gp;
	return 0;
}

RTS_EXPORT int rts_lu_gp_delete(struct rts_lu_gp *gp)
{
	struct rts_txn txn _cleanup_txn_ = { 0 };
	int r;

	assert_return(gp, -EINVAL);
	if (!strcmp(gp->name, "default_lu_gp"))
		return rts_error(gp->ctx, -EPERM, gp->path,
				 "the default LU group cannot be deleted");
	r = txn_begin(gp->ctx, &txn);
	if (r < 0)
		return r;
	r = cfs_rmdir(gp->ctx, gp->path);
	if (r < 0)
		return r;
	lu_gp_free(gp);
	return 0;
}

RTS_GETTER(const char *, rts_lu_gp_get_name, struct rts_lu_gp, gp, NULL, gp->name)

RTS_EXPORT int rts_lu_gp_get_attr(struct rts_lu_gp *gp, const char *name, char **ret)
{
	assert_return(gp && ret, -EINVAL);
	return obj_get_attr(gp->ctx, gp->path, RTS_GROUP_NONE, name, ret);
}

RTS_EXPORT int rts_lu_gp_set_attr(struct rts_lu_gp *gp, const char *name, const char *value)
{
	assert_return(gp, -EINVAL);
	return obj_set_attr(gp->ctx, gp->path, RTS_GROUP_NONE, name, value);
}

RTS_EXPORT int rts_so_get_lu_gp(struct rts_so *so, char **ret)
{
	_cleanup_free_ char *v = NULL;
	const char *key = "LU Group Alias: ";
	char *p, *e;
	int r;

	assert_return(so && ret, -EINVAL);
	r = obj_get_attr(so->ctx, so->path, RTS_GROUP_NONE, "alua_lu_gp", &v);
	if (r < 0)
		return r;
	p = strstr(v, key);
	p = p ? p + strlen(key) : v;
	e = strchrnul(p, '\n');
	*ret = strndup(p, (size_t)(e - p));
	if (!*ret)
		return rts_error(so->ctx, -ENOMEM, so->path, "out of memory");
	return 0;
}

RTS_EXPORT int rts_so_set_lu_gp(struct rts_so *so, const char *name)
{
	int r;

	assert_return(so, -EINVAL);
	r = check_name(so->ctx, "LU group", name);
	if (r < 0)
		return r;
	return obj_set_attr(so->ctx, so->path, RTS_GROUP_NONE, "alua_lu_gp", name);
}
