/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rtsctl create PATH [KEY=VALUE...] [--exist-ok]
 *   /backstores/fileio/N  file=PATH [size=SIZE] [write_back=B] [sparse=B] [wwn=SERIAL]
 *   /backstores/block/N   dev=PATH [readonly=B] [write_back=B] [wwn=SERIAL]
 *   /backstores/pscsi/N   dev=H:C:T:L|PATH
 *   /backstores/ramdisk/N size=SIZE [nullio=B] [wwn=SERIAL]
 *   /backstores/user/N    cfgstring=S size=SIZE [max_data_area_mb=N] [hw_block_size=N]
 *                         [hw_max_sectors=N] [nl_reply_supported=B] [control=S] [wwn=SERIAL]
 *   /backstores/P/N/alua/G id=N
 *   /alua/lu_gps/G id=N
 *   /FABRIC (load), /FABRIC/WWN, .../tpgN, .../luns/lunN storage=/backstores/P/N [alias=A]
 *   .../portals/IP:PORT, .../acls/WWN [tag=T] [cmdsn_depth=N],
 *   .../acls/WWN/mapped_lunN tpg_lun=N [write_protect=B]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rtsctl.h"

struct kv {
	int argc;
	char **argv;
	bool *used;
};

static const char *kv_get(struct kv *kv, const char *key)
{
	size_t n = strlen(key);

	for (int i = 0; i < kv->argc; i++) {
		if (!strncmp(kv->argv[i], key, n) && kv->argv[i][n] == '=') {
			kv->used[i] = true;
			return kv->argv[i] + n + 1;
		}
	}
	return NULL;
}

static int kv_size(struct kv *kv, const char *key, uint64_t *v, const char *path)
{
	const char *s = kv_get(kv, key);

	if (!s)
		return 0;
	if (rts_parse_size(s, v) < 0) {
		errorf("%s: invalid %s '%s'", path, key, s);
		return -EINVAL;
	}
	return 1;
}

static int kv_bool(struct kv *kv, const char *key, bool *v, const char *path)
{
	const char *s = kv_get(kv, key);

	if (!s)
		return 0;
	if (parse_bool(s, v) < 0) {
		errorf("%s: invalid boolean %s '%s'", path, key, s);
		return -EINVAL;
	}
	return 1;
}

static int need(const char *v, const char *path, const char *key)
{
	if (v)
		return 0;
	errorf("%s: %s= is required", path, key);
	return -EINVAL;
}

/*
 * Like targetcli: an existing backing file keeps its size (size= is ignored, with a
 * warning), and sharing it with another storage object is worth a warning.
 */
static void fileio_existing(struct cli *c, const char *path, const char *file, uint64_t *size)
{
	struct stat st;
	struct rts_so *so;

	if (stat(file, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return;
	if (*size && *size != (uint64_t)st.st_size)
		errorf("%s: warning: %s exists, using its size %lld (size=%" PRIu64 " ignored)",
		       path, file, (long long)st.st_size, *size);
	*size = 0;
	for (so = rts_so_first(c->ctx); so; so = rts_so_next(so)) {
		char *dev = NULL;

		if (rts_so_get_plugin(so) == RTS_PLUGIN_FILEIO &&
		    rts_so_get_udev_path(so, &dev) == 0 && !strcmp(dev, file))
			errorf("%s: warning: %s is also the backing file of /backstores/fileio/%s%s: "
			       "their data mix",
			       path, file, rts_so_get_name(so),
			       so_exports(c, so, NULL, 0) ? " (exported)" : "");
		free(dev);
	}
}

static int create_so(struct cli *c, struct objref *r, struct kv *kv)
{
	const char *wwn = kv_get(kv, "wwn"), *p = r->path;
	uint64_t size = 0;
	bool b = false, wb = false;
	int x = 0;

	switch (r->plugin) {
	case RTS_PLUGIN_FILEIO: {
		const char *file = kv_get(kv, "file");
		bool sparse = true;
		unsigned int fl = 0;

		if (!file)
			file = kv_get(kv, "dev");
		if (need(file, p, "file") < 0 || kv_size(kv, "size", &size, p) < 0 ||
		    kv_bool(kv, "write_back", &wb, p) < 0 || kv_bool(kv, "sparse", &sparse, p) < 0)
			return -EINVAL;
		fl = (wb ? RTS_FILEIO_WRITE_BACK : 0) | (sparse ? RTS_FILEIO_SPARSE : 0);
		fileio_existing(c, p, file, &size);
		x = rts_fileio_create(c->ctx, r->name, file, size, fl, &r->so);
		break;
	}
	case RTS_PLUGIN_BLOCK: {
		const char *dev = kv_get(kv, "dev");

		if (need(dev, p, "dev") < 0 || kv_bool(kv, "readonly", &b, p) < 0 ||
		    kv_bool(kv, "write_back", &wb, p) < 0)
			return -EINVAL;
		x = rts_block_create(c->ctx, r->name, dev, b ? RTS_BLOCK_READONLY : 0, &r->so);
		if (x == 0 && wb)
			x = rts_so_set_attr(r->so, RTS_GROUP_ATTRIB, "emulate_write_cache", "1");
		break;
	}
	case RTS_PLUGIN_PSCSI: {
		const char *dev = kv_get(kv, "dev");

		if (need(dev, p, "dev") < 0)
			return -EINVAL;
		x = rts_pscsi_create(c->ctx, r->name, dev, &r->so);
		break;
	}
	case RTS_PLUGIN_RAMDISK:
		if (kv_size(kv, "size", &size, p) <= 0 || kv_bool(kv, "nullio", &b, p) < 0) {
			if (!size)
				errorf("%s: size= is required", p);
			return -EINVAL;
		}
		x = rts_ramdisk_create(c->ctx, r->name, size, b ? RTS_RAMDISK_NULLIO : 0, &r->so);
		break;
	case RTS_PLUGIN_USER: {
		struct rts_user_config cfg = { .nl_reply_supported = -1 };
		uint64_t v;

		cfg.cfgstring = kv_get(kv, "cfgstring");
		if (!cfg.cfgstring)
			cfg.cfgstring = kv_get(kv, "config");
		if (need(cfg.cfgstring, p, "cfgstring") < 0 || kv_size(kv, "size", &size, p) <= 0) {
			if (cfg.cfgstring)
				errorf("%s: size= is required", p);
			return -EINVAL;
		}
		cfg.size = size;
		if (kv_size(kv, "max_data_area_mb", &v, p) < 0)
			return -EINVAL;
		cfg.max_data_area_mb = (uint32_t)(kv_get(kv, "max_data_area_mb") ? v : 0);
		v = 0;
		if (kv_size(kv, "hw_block_size", &v, p) < 0)
			return -EINVAL;
		cfg.hw_block_size = (uint32_t)v;
		v = 0;
		if (kv_size(kv, "hw_max_sectors", &v, p) < 0)
			return -EINVAL;
		cfg.hw_max_sectors = (uint32_t)v;
		if (kv_bool(kv, "nl_reply_supported", &b, p) < 0)
			return -EINVAL;
		if (kv_get(kv, "nl_reply_supported"))
			cfg.nl_reply_supported = b;
		cfg.control = kv_get(kv, "control");
		x = rts_user_create(c->ctx, r->name, &cfg, &r->so);
		break;
	}
	default:
		return -EINVAL;
	}
	if (x == 0) {
		char gen[64];

		/* rtslib gives every storage object a unit serial; so do we */
		if (!wwn && r->plugin != RTS_PLUGIN_PSCSI &&
		    rts_wwn_generate(RTS_WWN_UNIT_SERIAL, gen, sizeof(gen)) == 0)
			wwn = gen;
		if (wwn)
			x = rts_so_set_wwn(r->so, wwn);
	}
	return x;
}

static int load_fabric(struct cli *c, struct objref *r)
{
	if (rts_fabric_is_loaded(r->fab))
		return 0;
	return rts_fabric_load(r->fab, c->load_modules);
}

static int do_create(struct cli *c, struct objref *r, struct kv *kv)
{
	const char *s;
	uint64_t u;
	bool b = false;
	int x;

	switch (r->kind) {
	case O_SO:
		return create_so(c, r, kv);
	case O_ALUA:
		s = kv_get(kv, "id");
		if (!s)
			s = kv_get(kv, "tg_pt_gp_id");
		if (need(s, r->path, "id") < 0)
			return -EINVAL;
		if (rts_parse_size(s, &u) < 0 || u > 65535) {
			errorf("%s: invalid id '%s'", r->path, s);
			return -EINVAL;
		}
		return rts_alua_tpg_create(r->so, r->gp, (uint16_t)u, NULL);
	case O_LU_GP:
		s = kv_get(kv, "id");
		if (!s)
			s = kv_get(kv, "lu_gp_id");
		if (need(s, r->path, "id") < 0)
			return -EINVAL;
		if (rts_parse_size(s, &u) < 0 || u < 1 || u > 65535) {
			errorf("%s: invalid id '%s'", r->path, s);
			return -EINVAL;
		}
		return rts_lu_gp_create(c->ctx, r->gp, (uint16_t)u, NULL);
	case O_FABRIC:
		return load_fabric(c, r);
	case O_TARGET:
		x = load_fabric(c, r);
		return x < 0 ? x : rts_target_create(r->fab, r->wwn, NULL);
	case O_TPG:
		return rts_tpg_create(r->tgt, r->tag, NULL);
	case O_LUN: {
		struct objref sr;

		s = kv_get(kv, "storage");
		if (!s)
			s = kv_get(kv, "storage_object");
		if (need(s, r->path, "storage") < 0)
			return -EINVAL;
		if (objref_parse(c, s, &sr) < 0 || sr.kind != O_SO)
			return -EINVAL;
		if (objref_resolve(c, &sr) < 0) {
			errorf("%s: storage object %s does not exist", r->path, s);
			return -EINVAL;
		}
		x = rts_lun_create(r->tpg, r->index, sr.so, kv_get(kv, "alias"), &r->lun);
		s = kv_get(kv, "alua_tg_pt_gp");
		if (x == 0 && s)
			x = rts_lun_set_alua_group(r->lun, s);
		return x;
	}
	case O_PORTAL:
		return rts_portal_create(r->tpg, r->ip, r->port, NULL);
	case O_ACL: {
		const char *depth = kv_get(kv, "cmdsn_depth"), *tag = kv_get(kv, "tag");

		/* values first: nothing is created when one is wrong */
		if (depth && (rts_parse_size(depth, &u) < 0 || u < 1 || u > CONF_CMDSN_DEPTH_MAX)) {
			errorf("%s: cmdsn_depth '%s' out of range 1..%u", r->path, depth,
			       CONF_CMDSN_DEPTH_MAX);
			return -EINVAL;
		}
		if (tag && strlen(tag) > CONF_ACL_TAG_MAX) {
			errorf("%s: tag longer than %u characters", r->path, CONF_ACL_TAG_MAX);
			return -EINVAL;
		}
		x = rts_acl_create(r->tpg, r->acl, &r->aclp);
		if (x == 0 && tag)
			x = rts_acl_set_tag(r->aclp, tag);
		if (x == 0 && depth)
			x = rts_acl_set_cmdsn_depth(r->aclp, (uint32_t)u);
		return x;
	}
	case O_MLUN: {
		struct rts_lun *lun;

		s = kv_get(kv, "tpg_lun");
		if (!s)
			s = kv_get(kv, "lun");
		if (need(s, r->path, "tpg_lun") < 0 ||
		    kv_bool(kv, "write_protect", &b, r->path) < 0)
			return -EINVAL;
		if (rts_parse_size(s, &u) < 0 || rts_lun_lookup(r->tpg, u, &lun) < 0) {
			errorf("%s: TPG LUN '%s' does not exist", r->path, s);
			return -EINVAL;
		}
		return rts_mapped_lun_create(r->aclp, r->index, lun, b, NULL);
	}
	default:
		errorf("%s: cannot create this kind of object", r->path);
		return -EINVAL;
	}
}

/* Keys each kind of object takes; a typo must not create something else than asked. */
static const char *const *create_keys(const struct objref *r)
{
	static const char *const fileio[] = { "file", "dev", "size", "write_back", "sparse",
					      "wwn", NULL };
	static const char *const block[] = { "dev", "readonly", "write_back", "wwn", NULL };
	static const char *const pscsi[] = { "dev", NULL };
	static const char *const ramdisk[] = { "size", "nullio", "wwn", NULL };
	static const char *const user[] = { "cfgstring",
					    "config",
					    "size",
					    "max_data_area_mb",
					    "hw_block_size",
					    "hw_max_sectors",
					    "nl_reply_supported",
					    "control",
					    "wwn",
					    NULL };
	static const char *const alua[] = { "id", "tg_pt_gp_id", NULL };
	static const char *const lugp[] = { "id", "lu_gp_id", NULL };
	static const char *const lun[] = { "storage", "storage_object", "alias", "alua_tg_pt_gp",
					   NULL };
	static const char *const acl[] = { "tag", "cmdsn_depth", NULL };
	static const char *const mlun[] = { "tpg_lun", "lun", "write_protect", NULL };
	static const char *const none[] = { NULL };

	switch (r->kind) {
	case O_SO:
		switch (r->plugin) {
		case RTS_PLUGIN_FILEIO:
			return fileio;
		case RTS_PLUGIN_BLOCK:
			return block;
		case RTS_PLUGIN_PSCSI:
			return pscsi;
		case RTS_PLUGIN_RAMDISK:
			return ramdisk;
		case RTS_PLUGIN_USER:
			return user;
		default:
			return none;
		}
	case O_ALUA:
		return alua;
	case O_LU_GP:
		return lugp;
	case O_LUN:
		return lun;
	case O_ACL:
		return acl;
	case O_MLUN:
		return mlun;
	default:
		return none;
	}
}

/* Every KEY known and given once. @return 0 or -EINVAL (printed) */
static int check_keys(const struct objref *r, int argc, char **argv)
{
	const char *const *keys = create_keys(r);

	/* what save writes, restore (and validate) must read back */
	if (r->kind == O_LUN && r->index > CONF_LUN_MAX) {
		errorf("%s: LUN index %" PRIu64 " out of range 0..%u", r->path, r->index,
		       CONF_LUN_MAX);
		return -EINVAL;
	}
	if (r->kind == O_MLUN && r->index > CONF_MLUN_MAX) {
		errorf("%s: mapped LUN index %" PRIu64 " out of range 0..%u", r->path, r->index,
		       CONF_MLUN_MAX);
		return -EINVAL;
	}
	if (r->kind == O_MLUN && r->index > CONF_MLUN_TARGETCLI_MAX)
		errorf("%s: warning: targetcli cannot restore mapped LUNs above %u (rtsctl can)",
		       r->path, CONF_MLUN_TARGETCLI_MAX);
	for (int i = 0; i < argc; i++) {
		size_t n = strcspn(argv[i], "=");
		bool known = false;

		for (size_t k = 0; keys[k]; k++)
			known |= strlen(keys[k]) == n && !strncmp(keys[k], argv[i], n);
		for (int j = 0; known && j < i; j++) {
			if (strcspn(argv[j], "=") == n && !strncmp(argv[j], argv[i], n)) {
				errorf("%s: %.*s given twice", r->path, (int)n, argv[i]);
				return -EINVAL;
			}
		}
		if (!known) {
			char valid[512] = "";
			size_t used = 0;

			for (size_t k = 0; keys[k] && used < sizeof(valid); k++)
				used += (size_t)snprintf(valid + used, sizeof(valid) - used,
							 "%s%s", used ? ", " : "", keys[k]);
			errorf("%s: unknown key '%.*s' (valid: %s)", r->path, (int)n, argv[i],
			       used ? valid : "none");
			return -EINVAL;
		}
	}
	return 0;
}

static bool parent_exists(struct objref *r)
{
	switch (r->kind) {
	case O_ALUA:
		return r->so;
	case O_TPG:
		return r->tgt;
	case O_LUN:
	case O_PORTAL:
	case O_ACL:
		return r->tpg;
	case O_MLUN:
		return r->aclp;
	default:
		return true;
	}
}

int cmd_create(struct cli *c, int argc, char **argv)
{
	struct objref r;
	struct kv kv;
	int ret, x;

	if (argc < 1) {
		errorf("create needs a PATH");
		return EXIT_USAGE;
	}
	if (objref_parse(c, argv[0], &r) < 0)
		return EXIT_USAGE;
	for (int i = 1; i < argc; i++) {
		if (!strchr(argv[i], '=') || argv[i][0] == '=') {
			errorf("'%s': expected KEY=VALUE", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (check_keys(&r, argc - 1, argv + 1) < 0)
		return EXIT_USAGE;
	kv = (struct kv){ .argc = argc - 1,
			  .argv = argv + 1,
			  .used = calloc((size_t)argc, sizeof(bool)) };
	if (!kv.used)
		return EXIT_FAIL;
	ret = cli_begin(c);
	if (ret != EXIT_OK) {
		free(kv.used);
		return ret;
	}
	if (objref_resolve(c, &r) == 0 && r.kind != O_FABRIC) {
		if (c->exist_ok) {
			if (!c->quiet)
				printf("%s: exists\n", argv[0]);
		} else {
			errorf("%s: already exists", argv[0]);
			ret = EXIT_FAIL;
		}
		goto out;
	}
	if (!parent_exists(&r) || (r.kind >= O_TPG && r.kind <= O_MLUN && !r.tgt)) {
		errorf("%s: parent object does not exist", argv[0]);
		ret = EXIT_FAIL;
		goto out;
	}
	x = do_create(c, &r, &kv);
	if (x == -EEXIST && c->exist_ok) {
		if (!c->quiet)
			printf("%s: exists\n", argv[0]);
		goto out;
	}
	if (x < 0) {
		if (x == -EINVAL && rts_ctx_last_error(c->ctx)->code != x)
			ret = EXIT_FAIL; /* already reported */
		else
			ret = report_rts_error(c, argv[0], x, "create");
		goto out;
	}
	if (!c->quiet)
		printf("%s: created\n", argv[0]);
	x = create_auto(c, &r);
	if (x < 0)
		ret = report_rts_error(c, argv[0], x, "create (automatic tpg1, portal or mapped LUNs)");
out:
	cli_end(c);
	free(kv.used);
	return ret;
}
