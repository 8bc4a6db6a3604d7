/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding, describing and opening the kernel's TCMU devices (see include/rts/uio.h). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rts/uio.h>

#include "dev.h"
#include "macro.h"
#include "readfile.h"

#define TCMU_PREFIX "tcm-user/"

int tcmu_read_serial_file(const char *path, char *out, size_t len)
{
	char buf[256];
	const char *s;
	size_t n;
	int r = read_small_file(path, buf, sizeof(buf));

	if (r < 0)
		return r;
	/* "T10 VPD Unit Serial Number: <serial>" */
	s = strrchr(buf, ':');
	s = s ? s + 1 : buf;
	while (*s == ' ')
		s++;
	n = strnlen(s, len - 1);
	memcpy(out, s, n);
	out[n] = '\0';
	return (int)n;
}

RTS_EXPORT int rts_tcmu_parse_uio_name(const char *name, struct rts_tcmu_info *ret)
{
	const char *p, *slash;
	char *end;
	unsigned long hba;
	size_t len;

	assert_return(name && ret, -EINVAL);
	if (strncmp(name, TCMU_PREFIX, strlen(TCMU_PREFIX)) != 0)
		return -EINVAL;
	p = name + strlen(TCMU_PREFIX);
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	errno = 0;
	hba = strtoul(p, &end, 10);
	if (errno || *end != '/' || hba > UINT32_MAX)
		return -EINVAL;
	p = end + 1;
	slash = strchr(p, '/');
	len = slash ? (size_t)(slash - p) : strlen(p);
	if (!len || len >= sizeof(ret->dev_name))
		return -EINVAL;
	if (slash && strlen(slash + 1) >= sizeof(ret->cfgstring))
		return -EINVAL;
	if (strlen(name) >= sizeof(ret->uio_name))
		return -EINVAL;
	memset(ret->uio_name, 0, sizeof(ret->uio_name));
	strcpy(ret->uio_name, name);
	ret->hba = (unsigned int)hba;
	memcpy(ret->dev_name, p, len);
	ret->dev_name[len] = '\0';
	if (slash)
		strcpy(ret->cfgstring, slash + 1);
	else
		ret->cfgstring[0] = '\0';
	return 0;
}

RTS_EXPORT int rts_tcmu_info_from_sysfs(const char *sysfs, unsigned int minor,
					struct rts_tcmu_info *ret)
{
	char path[512], buf[512];
	struct rts_tcmu_info info = { .minor = minor };
	int r;

	assert_return(sysfs && ret, -EINVAL);
	snprintf(path, sizeof(path), "%s/class/uio/uio%u/name", sysfs, minor);
	r = read_small_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	r = rts_tcmu_parse_uio_name(buf, &info);
	if (r < 0)
		return r;
	info.minor = minor;
	snprintf(path, sizeof(path), "%s/class/uio/uio%u/maps/map0/size", sysfs, minor);
	r = read_small_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	errno = 0;
	info.map_size = strtoull(buf, NULL, 0);
	if (errno || !info.map_size)
		return -EINVAL;
	*ret = info;
	return 0;
}

RTS_EXPORT int rts_tcmu_scan(const char *sysfs, struct rts_tcmu_info **ret, size_t *ret_count)
{
	char path[512];
	_cleanup_free_ struct rts_tcmu_info *list = NULL;
	size_t n = 0, cap = 0;
	DIR *d;
	struct dirent *de;

	assert_return(sysfs && ret && ret_count, -EINVAL);
	snprintf(path, sizeof(path), "%s/class/uio", sysfs);
	d = opendir(path);
	if (!d) {
		if (errno == ENOENT) { /* no uio module loaded: no devices */
			*ret = NULL;
			*ret_count = 0;
			return 0;
		}
		return -errno;
	}
	while ((de = readdir(d))) {
		unsigned int minor;
		char extra;
		struct rts_tcmu_info info;

		if (sscanf(de->d_name, "uio%u%c", &minor, &extra) != 1)
			continue;
		if (rts_tcmu_info_from_sysfs(sysfs, minor, &info) < 0)
			continue; /* another UIO driver, or removed meanwhile */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct rts_tcmu_info *nl = realloc(list, ncap * sizeof(*nl));
			if (!nl) {
				closedir(d);
				return -ENOMEM;
			}
			list = nl;
			cap = ncap;
		}
		list[n++] = info;
	}
	closedir(d);
	*ret = TAKE_PTR(list);
	*ret_count = n;
	return 0;
}

RTS_EXPORT int rts_tcmu_dev_path(const char *configfs, const struct rts_tcmu_info *info,
				 const char *file, char *buf, size_t len)
{
	int n;

	assert_return(configfs && info && buf && len, -EINVAL);
	n = snprintf(buf, len, "%s/target/core/user_%u/%s%s%s", configfs, info->hba,
		     info->dev_name, file ? "/" : "", file ? file : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int read_u64(const char *dir, const char *file, uint64_t *v)
{
	char path[700], buf[64];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	r = read_small_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	errno = 0;
	*v = strtoull(buf, NULL, 0);
	return errno ? -errno : 0;
}

RTS_EXPORT int rts_tcmu_read_attrs(const char *configfs, const struct rts_tcmu_info *info,
				   struct rts_tcmu_attrs *ret)
{
	char dir[600], path[700];
	struct rts_tcmu_attrs a = { 0 };
	uint64_t v;

	assert_return(configfs && info && ret, -EINVAL);
	rts_tcmu_dev_path(configfs, info, NULL, dir, sizeof(dir));
	if (access(dir, F_OK) < 0)
		return -errno;
	if (read_u64(dir, "attrib/hw_block_size", &v) == 0 && v <= UINT32_MAX)
		a.block_size = (uint32_t)v;
	if (read_u64(dir, "attrib/hw_max_sectors", &v) == 0 && v <= UINT32_MAX)
		a.max_sectors = (uint32_t)v;
	if (read_u64(dir, "attrib/dev_size", &v) == 0)
		a.size = v;
	if (read_u64(dir, "attrib/emulate_write_cache", &v) == 0)
		a.write_cache = v != 0;
	snprintf(path, sizeof(path), "%s/wwn/vpd_unit_serial", dir);
	tcmu_read_serial_file(path, a.serial, sizeof(a.serial));
	*ret = a;
	return 0;
}

static int write_dev_file(const char *configfs, const struct rts_tcmu_info *info,
			  const char *group, const char *name, const char *value)
{
	char dir[600], path[700];
	_cleanup_close_ int fd = -EBADF;
	size_t len;

	rts_tcmu_dev_path(configfs, info, group, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = strlen(value);
	if (write(fd, value, len) != (ssize_t)len)
		return -errno;
	return 0;
}

RTS_EXPORT int rts_tcmu_action(const char *configfs, const struct rts_tcmu_info *info,
			       const char *action, const char *value)
{
	assert_return(configfs && info && action && value, -EINVAL);
	assert_return(!strchr(action, '/'), -EINVAL);
	return write_dev_file(configfs, info, "action", action, value);
}

RTS_EXPORT int rts_tcmu_set_attrib(const char *configfs, const struct rts_tcmu_info *info,
				   const char *name, const char *value)
{
	assert_return(configfs && info && name && value, -EINVAL);
	assert_return(!strchr(name, '/'), -EINVAL);
	return write_dev_file(configfs, info, "attrib", name, value);
}

RTS_EXPORT int rts_dev_new_uio(const struct rts_dev_config *cfg, const struct rts_handler *handler,
			       const char *devnode, uint64_t map_size, struct rts_dev **ret)
{
	_cleanup_close_ int fd = -EBADF;
	struct dev_transport tp = {
		.kick_len = 4, /* UIO reads and writes exactly one s32 */
		.irq_len = 4,
		.owns_fds = true,
		.owns_map = true,
	};
	void *map;
	int r;

	assert_return(cfg && handler && devnode && ret, -EINVAL);
	assert_return(map_size > 0 && map_size <= SIZE_MAX, -EINVAL);
	fd = open(devnode, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	map = mmap(NULL, (size_t)map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	tp.map = map;
	tp.map_size = (size_t)map_size;
	tp.kick_fd = fd;
	tp.irq_fd = fd;
	r = dev_new(cfg, handler, &tp, ret);
	if (r < 0) {
		munmap(map, (size_t)map_size);
		return r;
	}
	TAKE_FD(fd);
	return 0;
}
