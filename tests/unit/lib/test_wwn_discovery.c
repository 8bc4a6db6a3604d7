/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hardware WWN discovery (rts_fabric_discover_wwns()) on fake sysfs trees: fc_host ports
 * filtered by driver / FCoE subsystem, InfiniBand GIDs, FireWire GUIDs, ibmvscsis devspecs,
 * missing and malformed files.
 */
#include <sys/stat.h>

#include "helpers.h"
#include "private.h"

/* mkdir -p of the parent directories of root/rel. */
static void t_mkparents(const char *root, const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
		*s = '/';
	}
}

static void t_file(const char *root, const char *rel, const char *content, size_t len)
{
	char p[1024];
	FILE *fp;

	t_mkparents(root, rel);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fp = fopen(p, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(content, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

#define t_text(root, rel, s) t_file(root, rel, s, strlen(s))

static void t_dir(const char *root, const char *rel)
{
	char p[1024];

	t_mkparents(root, rel);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

/* root/rel -> target (relative, like sysfs class links). */
static void t_link(const char *root, const char *target, const char *rel)
{
	char p[1024];

	t_mkparents(root, rel);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

/* A SCSI host of a PCI function driven by @driver (NULL: no driver link), with port_name. */
static void t_fc_host(const char *sys, const char *host, const char *pci, const char *driver,
		      const char *port_name)
{
	char rel[512], target[512];

	snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/%s/fc_host/%s", pci, host, host);
	t_dir(sys, rel);
	if (port_name) {
		snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/%s/fc_host/%s/port_name", pci,
			 host, host);
		t_text(sys, rel, port_name);
	}
	if (driver) {
		snprintf(rel, sizeof(rel), "bus/pci/drivers/%s", driver);
		t_dir(sys, rel);
		snprintf(rel, sizeof(rel), "devices/pci0000:00/%s/driver", pci);
		snprintf(target, sizeof(target), "../../../bus/pci/drivers/%s", driver);
		t_link(sys, target, rel);
	}
	snprintf(rel, sizeof(rel), "class/fc_host/%s", host);
	snprintf(target, sizeof(target), "../../devices/pci0000:00/%s/%s/fc_host/%s", pci, host,
		 host);
	t_link(sys, target, rel);
}

static char *t_sysroot(struct fixture *f)
{
	char *sys = NULL;

	assert_true(asprintf(&sys, "%s/sys", f->files) > 0);
	t_dir(f->files, "sys");
	return sys;
}

/* Discover, check every WWN against the fabric's own validator and the configfs spelling. */
static char **t_discover(struct fixture *f, const char *fabric, const char *sys, size_t *n)
{
	struct rts_fabric *fab = NULL;
	char **v = NULL;
	size_t count = 99;

	assert_int_equal(rts_fabric_lookup(f->ctx, fabric, &fab), 0);
	assert_true(rts_fabric_has_hw_wwns(fab));
	assert_int_equal(rts_fabric_discover_wwns(fab, sys, &v, &count), 0);
	assert_non_null(v);
	for (size_t i = 0; i < count; i++) {
		char norm[RTS_WWN_MAX + 1], cfs[RTS_WWN_MAX + 64];
		enum rts_wwn_type type;

		assert_non_null(v[i]);
		assert_int_equal(rts_fabric_normalize_wwn(fab, v[i], norm, sizeof(norm)), 0);
		assert_int_equal(rts_wwn_normalize(v[i], rts_fabric_get_wwn_types(fab), norm,
						   sizeof(norm), &type),
				 0);
		assert_int_equal(rts_wwn_validate(norm, type), 0);
		assert_int_equal(rts_fabric_to_fabric_wwn(fab, norm, cfs, sizeof(cfs)), 0);
		assert_string_equal(cfs, v[i]);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(v[i], v[j]);
	}
	assert_null(v[count]);
	/* reads only: nothing loaded, nothing created */
	assert_false(rts_fabric_is_loaded(fab));
	*n = count;
	return v;
}

static bool t_has(char **v, const char *w)
{
	for (; *v; v++)
		if (!strcmp(*v, w))
			return true;
	return false;
}

static void test_fc_host(void **state)
{
	static const char nul[] = { '0', 'x', '2', '1', '\0', '0', '0', '2', '4', '\n' };
	struct fixture *f = *state;
	_cleanup_free_ char *sys = t_sysroot(f);
	char **v;
	size_t n;

	t_fc_host(sys, "host5", "0000:00:03.0", "qla2xxx", "0x21000024ff314c48\n");
	t_fc_host(sys, "host6", "0000:00:03.1", "qla2xxx", "0x21000024FF314C49\n");
	t_fc_host(sys, "host7", "0000:00:04.0", "lpfc", "0x10000090fa942779\n");
	t_fc_host(sys, "host8", "0000:00:05.0", "efct", "0x10000090fa94277a\n");
	t_fc_host(sys, "host9", "0000:00:06.0", "qla2xxx", "garbage\n"); /* malformed */
	t_fc_host(sys, "host10", "0000:00:07.0", "qla2xxx", NULL); /* no port_name */
	t_fc_host(sys, "host11", "0000:00:08.0", "qla2xxx", ""); /* empty */
	t_fc_host(sys, "host12", "0000:00:09.0", NULL, "0x21000024ff314c50\n"); /* no driver */
	t_fc_host(sys, "host13", "0000:00:0a.0", "qla2xxx", NULL); /* embedded NUL */
	t_file(sys, "devices/pci0000:00/0000:00:0a.0/host13/fc_host/host13/port_name", nul,
	       sizeof(nul));
	t_fc_host(sys, "host14", "0000:00:0b.0", "qla2xxx", "0x21000024ff314c48\n"); /* dup */
	/* FCoE: the device three levels up is the fcoe controller */
	t_dir(sys, "bus/fcoe/devices");
	t_dir(sys, "devices/virtual/net/eth2/ctlr_0/host20/fc_host/host20");
	t_text(sys, "devices/virtual/net/eth2/ctlr_0/host20/fc_host/host20/port_name",
	       "0x2000001b21a3f0c1\n");
	t_link(sys, "../../../../../bus/fcoe", "devices/virtual/net/eth2/ctlr_0/subsystem");
	t_link(sys, "../../devices/virtual/net/eth2/ctlr_0/host20/fc_host/host20",
	       "class/fc_host/host20");
	/* not a host* entry */
	t_text(sys, "class/fc_host/README", "0x21000024ff314c60\n");

	v = t_discover(f, "qla2xxx", sys, &n);
	assert_int_equal(n, 2);
	assert_true(t_has(v, "21:00:00:24:ff:31:4c:48"));
	assert_true(t_has(v, "21:00:00:24:ff:31:4c:49"));
	rts_wwns_free(v);

	v = t_discover(f, "efct", sys, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "10:00:00:90:fa:94:27:7a");
	rts_wwns_free(v);

	v = t_discover(f, "tcm_fc", sys, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "20:00:00:1b:21:a3:f0:c1");
	rts_wwns_free(v);
}

static void test_infiniband(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *sys = t_sysroot(f);
	char big[600];
	char **v;
	size_t n;

	t_text(sys, "class/infiniband/mlx5_0/ports/1/gids/0",
	       "fe80:0000:0000:0000:0002:c903:00a1:b2c3\n");
	t_text(sys, "class/infiniband/mlx5_0/ports/1/gids/1",
	       "fe80:0000:0000:0000:0002:c903:00a1:ffff\n"); /* only gid 0 counts */
	t_text(sys, "class/infiniband/mlx5_0/ports/2/gids/0",
	       "0000:0000:0000:0000:0000:0000:0000:0000\n"); /* no GID yet */
	t_text(sys, "class/infiniband/mlx5_1/ports/1/gids/0", "nonsense\n");
	t_dir(sys, "class/infiniband/mlx5_1/ports/2/gids"); /* no gid file */
	memset(big, 'f', sizeof(big));
	t_file(sys, "class/infiniband/mlx5_1/ports/3/gids/0", big, sizeof(big));
	t_text(sys, "class/infiniband/mlx5_2/ports/1/gids/0",
	       "FE80:0000:0000:0000:0002:C903:00A1:B2C4\n");
	t_text(sys, "class/infiniband/mlx5_3/ports", "not a directory\n");

	v = t_discover(f, "srpt", sys, &n);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "0xfe800000000000000002c90300a1b2c3");
	assert_string_equal(v[1], "0xfe800000000000000002c90300a1b2c4");
	rts_wwns_free(v);
}

static void test_firewire_and_vio(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *sys = t_sysroot(f);
	char **v;
	size_t n;

	t_text(sys, "bus/firewire/devices/fw0/is_local", "0\n");
	t_text(sys, "bus/firewire/devices/fw0/guid", "0x0011223344556677\n");
	t_text(sys, "bus/firewire/devices/fw1/is_local", "yes\n"); /* malformed */
	t_text(sys, "bus/firewire/devices/fw1/guid", "0x0011223344556678\n");
	t_text(sys, "bus/firewire/devices/fw2/is_local", "1\n");
	t_text(sys, "bus/firewire/devices/fw2/guid", "0x0814438400000001\n");
	t_text(sys, "bus/firewire/devices/fw3/is_local", "1\n"); /* second local: ignored */
	t_text(sys, "bus/firewire/devices/fw3/guid", "0x0814438400000002\n");
	v = t_discover(f, "sbp", sys, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "0814438400000001");
	rts_wwns_free(v);

	t_text(sys, "module/ibmvscsis/drivers/vio:ibmvscsis/30000003/devspec",
	       "/vdevice/v-scsi-host@30000003\n");
	t_text(sys, "module/ibmvscsis/drivers/vio:ibmvscsis/30000004/devspec",
	       "/vdevice/v-scsi-host\n"); /* no '@': a path, not a name */
	t_text(sys, "module/ibmvscsis/drivers/vio:ibmvscsis/bind", "");
	t_text(sys, "module/ibmvscsis/drivers/vio:ibmvscsis/uevent", "");
	v = t_discover(f, "ibmvscsis", sys, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "30000003");
	rts_wwns_free(v);
}

static void test_empty_and_unsupported(void **state)
{
	static const char *const hw[] = { "qla2xxx", "efct", "tcm_fc", "srpt", "sbp", "ibmvscsis" };
	static const char *const soft[] = { "iscsi", "loopback", "vhost", "xen-pvscsi",
					    "usb_gadget" };
	struct fixture *f = *state;
	_cleanup_free_ char *sys = t_sysroot(f);
	_cleanup_free_ char *missing = NULL;
	struct rts_fabric *fab;
	char **v = (char **)1;
	size_t n;

	assert_true(asprintf(&missing, "%s/nonexistent", f->files) > 0);
	for (size_t i = 0; i < ARRAY_SIZE(hw); i++) {
		v = t_discover(f, hw[i], sys, &n);
		assert_int_equal(n, 0);
		rts_wwns_free(v);
		v = t_discover(f, hw[i], missing, &n);
		assert_int_equal(n, 0);
		rts_wwns_free(v);
		assert_int_equal(rts_fabric_lookup(f->ctx, hw[i], &fab), 0);
		/* count is optional, root must be absolute */
		assert_int_equal(rts_fabric_discover_wwns(fab, sys, &v, NULL), 0);
		assert_null(v[0]);
		rts_wwns_free(v);
		v = (char **)1;
		assert_int_equal(rts_fabric_discover_wwns(fab, "sys", &v, &n), -EINVAL);
		assert_ptr_equal(v, (char **)1);
		assert_int_equal(rts_fabric_discover_wwns(fab, sys, NULL, &n), -EINVAL);
	}
	for (size_t i = 0; i < ARRAY_SIZE(soft); i++) {
		assert_int_equal(rts_fabric_lookup(f->ctx, soft[i], &fab), 0);
		assert_false(rts_fabric_has_hw_wwns(fab));
		assert_int_equal(rts_fabric_discover_wwns(fab, sys, &v, &n), -EOPNOTSUPP);
		assert_int_equal(rts_fabric_discover_wwns(fab, NULL, &v, &n), -EOPNOTSUPP);
		assert_ptr_equal(v, (char **)1);
	}
	assert_int_equal(rts_fabric_discover_wwns(NULL, sys, &v, &n), -EINVAL);
	assert_false(rts_fabric_has_hw_wwns(NULL));
	assert_null(rts_wwns_free(NULL));
}

static void test_spec_fabric(void **state)
{
	static const char two[] = "0x21000024ff314c48\t21:00:00:24:ff:31:4c:49\0junk\n\n "
				  "0x21000024ff314c48 naa.21000024ff314c4a\n";
	struct fixture *f = *state;
	_cleanup_free_ char *sys = t_sysroot(f);
	_cleanup_free_ char *specs = NULL;
	struct rts_fabric *fab;
	char **v = NULL;
	size_t n;

	assert_true(asprintf(&specs, "%s/specs", f->files) > 0);
	/* rtslib 2.x qla2xxx.spec, with its (not run) sed filter */
	t_text(f->files, "specs/myfc.spec",
	       "wwn_type = naa\nwwn_from_files = /sys/class/fc_host/host*/port_name\n"
	       "wwn_from_files_filter = \"sed -e s/0x// -e 's/../&:/g' -e s/:$//\"\n");
	/* two patterns, blank/NUL separated WWNs, a pattern outside /sys (never read) */
	t_text(f->files, "specs/multi.spec",
	       "wwn_type = naa\nwwn_from_files = \"/sys/fake/a*\", '/sys/fake/b', /etc/hostname\n");
	t_text(f->files, "specs/ibish.spec",
	       "wwn_type = ib\nwwn_from_files = /sys/class/infiniband/*/ports/*/gids/0\n");
	t_text(f->files, "specs/nofiles.spec", "wwn_type = naa\n");
	t_fc_host(sys, "host5", "0000:00:03.0", "qla2xxx", "0x21000024ff314c48\n");
	t_fc_host(sys, "host7", "0000:00:04.0", "lpfc", "0x10000090fa942779\n");
	t_fc_host(sys, "host9", "0000:00:06.0", "qla2xxx", "garbage\n");
	t_file(sys, "fake/a1", two, sizeof(two) - 1);
	t_text(sys, "fake/b", "naa.21000024ff314c4b");
	t_text(sys, "class/infiniband/mlx5_0/ports/1/gids/0",
	       "fe80:0000:0000:0000:0002:c903:00a1:b2c3\n");
	assert_int_equal(rts_ctx_set_fabric_spec_dir(f->ctx, specs), 0);
	assert_int_equal(rts_ctx_refresh(f->ctx), 0);

	/* no driver filter in spec files: every fc_host port (rtslib 2.x did the same) */
	v = t_discover(f, "myfc", sys, &n);
	assert_int_equal(n, 2);
	assert_true(t_has(v, "naa.21000024ff314c48"));
	assert_true(t_has(v, "naa.10000090fa942779"));
	rts_wwns_free(v);

	v = t_discover(f, "multi", sys, &n);
	assert_int_equal(n, 4);
	assert_string_equal(v[0], "naa.21000024ff314c48");
	assert_string_equal(v[1], "naa.21000024ff314c49");
	assert_string_equal(v[2], "naa.21000024ff314c4a");
	assert_string_equal(v[3], "naa.21000024ff314c4b");
	rts_wwns_free(v);

	v = t_discover(f, "ibish", sys, &n);
	assert_int_equal(n, 1);
	assert_string_equal(v[0], "ib.fe800000000000000002c90300a1b2c3");
	rts_wwns_free(v);

	assert_int_equal(rts_fabric_lookup(f->ctx, "nofiles", &fab), 0);
	assert_false(rts_fabric_has_hw_wwns(fab));
	v = NULL;
	assert_int_equal(rts_fabric_discover_wwns(fab, sys, &v, &n), -EOPNOTSUPP);
	assert_null(v);
}

static void test_spec_parse_patterns(void **state)
{
	struct rts_fabric_spec spec;

	(void)state;
	assert_int_equal(fabric_spec_parse("x",
					   "wwn_from_files = ( \"/sys/a\" , '/sys/b',, )\n"
					   "wwn_from_files = /sys/c\n",
					   &spec),
			 0);
	assert_non_null(spec.wwn_from_files);
	assert_string_equal(spec.wwn_from_files[0], "/sys/a");
	assert_string_equal(spec.wwn_from_files[1], "/sys/b");
	assert_string_equal(spec.wwn_from_files[2], "/sys/c");
	assert_null(spec.wwn_from_files[3]);
	fabric_spec_clear(&spec);
	assert_int_equal(fabric_spec_parse("x", "wwn_from_files =\n", &spec), 0);
	assert_null(spec.wwn_from_files);
	fabric_spec_clear(&spec);
	/* a bad key after the patterns: nothing leaks */
	assert_int_equal(fabric_spec_parse("x", "wwn_from_files = /sys/a\nwwn_type = martian\n",
					   &spec),
			 -EINVAL);
}

/* A discovered WWN is accepted by rts_target_create() and names its configfs directory. */
static void test_create_from_discovered(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *sys = t_sysroot(f);
	static const char *const fabrics[] = { "qla2xxx", "srpt", "sbp" };
	struct rts_fabric *fab;
	struct rts_target *t;
	char **v;
	size_t n;

	t_fc_host(sys, "host5", "0000:00:03.0", "qla2xxx", "0x21000024ff314c48\n");
	t_text(sys, "class/infiniband/mlx5_0/ports/1/gids/0",
	       "fe80:0000:0000:0000:0002:c903:00a1:b2c3\n");
	t_text(sys, "bus/firewire/devices/fw0/is_local", "1\n");
	t_text(sys, "bus/firewire/devices/fw0/guid", "0x0814438400000001\n");
	for (size_t i = 0; i < ARRAY_SIZE(fabrics); i++) {
		const char *path, *base;

		v = t_discover(f, fabrics[i], sys, &n);
		assert_int_equal(n, 1);
		assert_int_equal(rts_fabric_lookup(f->ctx, fabrics[i], &fab), 0);
		assert_int_equal(rts_fabric_load(fab, false), 0);
		assert_int_equal(rts_target_create(fab, v[0], &t), 0);
		path = rts_target_get_path(t);
		base = strrchr(path, '/');
		assert_non_null(base);
		assert_string_equal(base + 1, v[0]);
		assert_int_equal(rts_target_lookup(fab, v[0], &t), 0);
		rts_wwns_free(v);
	}
}

int main(void)
{
	// clang-format off
	const struct CMUnitTest tests[] = {
		BOTH(test_fc_host),
		BOTH(test_infiniband),
		BOTH(test_firewire_and_vio),
		BOTH(test_empty_and_unsupported),
		BOTH(test_spec_fabric),
		cmocka_unit_test(test_spec_parse_patterns),
		BOTH(test_create_from_discovered),
	};
	// clang-format on

	return cmocka_run_group_tests(tests, NULL, NULL);
}
