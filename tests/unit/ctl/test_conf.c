/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* saveconfig engine: codec, validation, save, restore, apply, clear (ctl/conf*.c). */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static char *tmpdir(void)
{
	char t[] = "/tmp/rtsctl-test-XXXXXX";

	assert_non_null(mkdtemp(t));
	return strdup(t);
}

static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static char *fixture_path(const char *name)
{
	const char *src = getenv("RTS_TEST_SRCDIR");
	char *p = NULL;

	assert_true(asprintf(&p, "%s/tests/fixtures/saveconfig/%s", src ? src : "../../..", name) >
		    0);
	return p;
}

/* The full fixture with @DIR@ replaced by a scratch directory, parsed. */
static struct json_object *load_fixture(const char *dir)
{
	char *path = fixture_path("full.json"), *text = read_all(path), *out, *p;
	struct json_object *root = NULL;
	struct conf_report rep;
	size_t n = 0;

	out = calloc(1, strlen(text) + 4096);
	assert_non_null(out);
	for (p = text; *p;) {
		if (!strncmp(p, "@DIR@", 5)) {
			strcpy(out + n, dir);
			n += strlen(dir);
			p += 5;
		} else {
			out[n++] = *p++;
		}
	}
	conf_report_init(&rep);
	assert_int_equal(conf_parse(out, n, &root, &rep), 0);
	conf_report_free(&rep);
	free(out);
	free(text);
	free(path);
	return root;
}

struct fx {
	struct rts_ctx *ctx;
	char *dir;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(rts_ctx_new(NULL, RTS_CTX_MEMORY, &f->ctx), 0);
	f->dir = tmpdir();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rts_ctx_unref(f->ctx);
	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f->dir);
	free(f);
	return 0;
}

static bool report_has(const struct conf_report *r, enum conf_level lvl, const char *path,
		       const char *text)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].level == lvl && (!path || strstr(r->v[i].path, path)) &&
		    (!text || strstr(r->v[i].text, text)))
			return true;
	return false;
}

/* ------------------------------------------------------------------ codec */

static void test_serialize_matches_python(void **state)
{
	char *path = fixture_path("full.json"), *text = read_all(path), *out;
	struct json_object *root = NULL;
	struct conf_report rep;

	(void)state;
	conf_report_init(&rep);
	assert_int_equal(conf_parse(text, strlen(text), &root, &rep), 0);
	out = conf_to_string(root);
	/* byte-identical to json.dumps(sort_keys=True, indent=2) + "\n" (incl. \u escapes) */
	assert_string_equal(out, text);
	free(out);
	json_object_put(root);
	conf_report_free(&rep);
	free(text);
	free(path);
}

static void test_serialize_edge_cases(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "{}", "{}\n" },
		{ "[]", "[]\n" },
		{ "{\"a\": []}", "{\n  \"a\": []\n}\n" },
		{ "{\"b\": {}, \"a\": null}", "{\n  \"a\": null,\n  \"b\": {}\n}\n" },
		{ "[\"\\u0001\\t\\\"\\\\/\"]", "[\n  \"\\u0001\\t\\\"\\\\/\"\n]\n" },
		{ "[\"\\ud83d\\ude00\", \"\\u007f\"]",
		  "[\n  \"\\ud83d\\ude00\",\n  \"\\u007f\"\n]\n" },
		{ "[-5, 18446744073709551615, true, 1.5]",
		  "[\n  -5,\n  18446744073709551615,\n  true,\n  1.5\n]\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *o = NULL;
		struct conf_report rep;
		char *s;

		conf_report_init(&rep);
		assert_int_equal(conf_parse(cases[i].in, strlen(cases[i].in), &o, &rep), 0);
		s = conf_to_string(o);
		assert_string_equal(s, cases[i].out);
		free(s);
		json_object_put(o);
		conf_report_free(&rep);
	}
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = { "",		 "{",	   "{\"a\": 1,}", "[1] x",
					   "{'a': 1}",	 "nul",	   "{\"a\" 1}",	  "[1,]",
					   "[\"\xff\"]", "[1e400]" };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = NULL;
		struct conf_report rep;

		conf_report_init(&rep);
		assert_int_equal(conf_parse(bad[i], strlen(bad[i]), &o, &rep), -EINVAL);
		assert_null(o);
		assert_int_equal(rep.n_err, 1);
		conf_report_free(&rep);
	}
	{ /* embedded NUL */
		struct json_object *o = NULL;
		struct conf_report rep;

		conf_report_init(&rep);
		assert_int_equal(conf_parse("{}\0{}", 5, &o, &rep), -EINVAL);
		assert_true(report_has(&rep, CONF_ERR, NULL, "NUL"));
		conf_report_free(&rep);
	}
	{ /* line and column in the message */
		struct json_object *o = NULL;
		struct conf_report rep;
		const char *t = "{\n  \"targets\": [\n    }\n";

		conf_report_init(&rep);
		assert_int_equal(conf_parse(t, strlen(t), &o, &rep), -EINVAL);
		assert_true(report_has(&rep, CONF_ERR, NULL, "line 3"));
		conf_report_free(&rep);
	}
}

/* ------------------------------------------------------------------ validation */

#define T(x) "{" TB(x)
#define TB(x)                                                                                         \
	"\"targets\": [{\"fabric\": \"iscsi\", \"wwn\": \"iqn.2003-01.org.example:t\", \"tpgs\": [" x \
	"]}]"
#define SO_RD "{\"name\": \"rd\", \"plugin\": \"ramdisk\", \"size\": 4096}"

static void test_validate(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *json;
		size_t errors;
		const char *path, *text;
	} cases[] = {
		{ "{}", 0, NULL, NULL },
		{ "[]", 1, "", "must be an object" },
		{ "{\"storage_objects\": {}}", 1, "storage_objects", "must be an array" },
		{ "{\"storage_objects\": [{\"name\": \"../etc\", \"plugin\": \"ramdisk\", \"size\": 1}]}",
		  1, "storage_objects[0].name", "invalid storage object name" },
		{ "{\"storage_objects\": [{\"name\": \"a/b\", \"plugin\": \"ramdisk\", \"size\": 1}]}",
		  1, "storage_objects[0].name", NULL },
		{ "{\"storage_objects\": [{\"name\": \"x\", \"plugin\": \"fileio\", \"dev\": \"/var/../etc/passwd\", \"size\": 1}]}",
		  1, "storage_objects[0].dev", "'..'" },
		{ "{\"storage_objects\": [{\"name\": \"x\", \"plugin\": \"fileio\", \"dev\": \"rel/path\"}]}",
		  1, "storage_objects[0].dev", "absolute" },
		{ "{\"storage_objects\": [{\"name\": \"x\", \"plugin\": \"nosuch\"}]}", 1,
		  "storage_objects[0].plugin", "unknown plugin" },
		{ "{\"storage_objects\": [{\"name\": \"x\", \"plugin\": \"ramdisk\", \"size\": \"1G\"}]}",
		  2, "storage_objects[0].size", "must be an integer" },
		{ "{\"storage_objects\": [{\"name\": \"x\", \"plugin\": \"fileio\"}]}", 1,
		  "storage_objects[0].dev", "required" },
		{ "{\"storage_objects\": [" SO_RD ", " SO_RD "]}", 1, "storage_objects[1]",
		  "duplicate" },
		{ "{\"storage_objects\": [{\"name\": \"rd\", \"plugin\": \"ramdisk\", \"size\": 1, \"colour\": 1}]}",
		  0, NULL, NULL },
		{ T("{\"tag\": 1, \"luns\": [{\"index\": 0, \"storage_object\": \"/backstores/ramdisk/nope\"}]}") "}",
		  1, "targets[0].tpgs[0].luns[0].storage_object", "missing storage object" },
		{ T("{\"tag\": 1, \"luns\": [{\"index\": 0, \"storage_object\": \"/backstores/../x\"}]}") "}",
		  1, "targets[0].tpgs[0].luns[0].storage_object", "malformed" },
		{ "{\"storage_objects\": [" SO_RD "], " TB(
			  "{\"tag\": 1, \"luns\": [{\"index\": 0, \"storage_object\": \"/backstores/ramdisk/rd\"},"
			  "{\"index\": 0, \"storage_object\": \"/backstores/ramdisk/rd\"}]}") "}",
		  1, "luns[1]", "duplicate LUN" },
		{ "{\"storage_objects\": [" SO_RD "], " TB(
			  "{\"tag\": 1, \"luns\": [{\"index\": 0, \"storage_object\": \"/backstores/ramdisk/rd\","
			  "\"alua_tg_pt_gp_name\": \"ghost\"}]}") "}",
		  1, "luns[0].alua_tg_pt_gp_name", "missing ALUA group" },
		{ T("{\"tag\": 1, \"node_acls\": [{\"node_wwn\": \"iqn.1994-05.com.x:i\", \"mapped_luns\": [{\"index\": 0, \"tpg_lun\": 3}]}]}") "}",
		  1, "targets[0].tpgs[0].node_acls[0].mapped_luns[0].tpg_lun",
		  "missing TPG LUN 3" },
		{ T("{\"tag\": 1, \"node_acls\": [{\"node_wwn\": \"not a wwn\"}]}") "}", 1,
		  "node_acls[0].node_wwn", "invalid initiator WWN" },
		{ T("{\"tag\": 1, \"node_acls\": [{\"node_wwn\": \"iqn.1994-05.com.x:i\"}, {\"node_wwn\": \"IQN.1994-05.com.x:i\"}]}") "}",
		  1, "node_acls[1]", "duplicate node ACL" },
		{ "{\"targets\": [{\"fabric\": \"iscsi\", \"wwn\": \"naa.zz\"}]}", 1,
		  "targets[0].wwn", "invalid WWN" },
		{ "{\"targets\": [{\"fabric\": \"nosuchfabric\", \"wwn\": \"x\"}]}", 1,
		  "targets[0].fabric", "unknown fabric" },
		{ "{\"targets\": [{\"fabric\": \"iscsi\"}]}", 1, "targets[0].wwn", "required" },
		{ T("{\"tag\": 1}, {\"tag\": 1}") "}", 1, "tpgs[1]", "duplicate TPG tag" },
		{ T("{\"tag\": 70000}") "}", 1, "tpgs[0].tag", "out of range" },
		{ T("{\"tag\": 1, \"portals\": [{\"ip_address\": \"300.1.1.1\", \"port\": 3260}]}") "}",
		  1, "portals[0].ip_address", "invalid IP" },
		{ T("{\"tag\": 1, \"portals\": [{\"ip_address\": \"[::]\", \"port\": 3260}, {\"ip_address\": \"[::]\", \"port\": 3260}]}") "}",
		  1, "portals[1]", "duplicate portal" },
		{ T("{\"tag\": 1, \"attributes\": {\"../x\": 1}}") "}", 1, "attributes.../x",
		  "invalid attribute name" },
		{ T("{\"tag\": 1, \"chap_userid\": \"a\\nb\"}") "}", 1, "chap_userid",
		  "control characters" },
		{ "{\"rtslib_c\": {\"lu_gps\": [{\"name\": \"g\", \"lu_gp_id\": 1, \"members\": [\"/backstores/ramdisk/x\"]}]}}",
		  1, "rtslib_c.lu_gps[0].members[0]", "missing storage object" },
		{ "{\"storage_objects\": [" SO_RD
		  "], \"rtslib_c\": {\"lu_gps\": [{\"name\": \"g\", \"lu_gp_id\": 1, \"members\": [\"/backstores/ramdisk/rd\"]},"
		  "{\"name\": \"h\", \"lu_gp_id\": 1, \"members\": [\"/backstores/ramdisk/rd\"]}]}}",
		  2, "rtslib_c.lu_gps[1].members[0]", "already a member" },
		{ "{\"fabric_modules\": [{\"name\": \"loopback\", \"discovery_enable_auth\": true}]}",
		  1, "fabric_modules[0].name", "no discovery" },
		{ "{\"targets\": [{\"fabric\": \"loopback\", \"wwn\": \"naa.5001405abcdef012\", \"tpgs\": [{\"tag\": 1, \"rtslib_c\": {\"nexus\": \"garbage wwn\"}}]}]}",
		  1, "rtslib_c.nexus", "invalid nexus" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *o = NULL;
		struct conf_report rep;
		size_t errs;

		conf_report_init(&rep);
		if (conf_parse(cases[i].json, strlen(cases[i].json), &o, &rep) < 0) {
			print_error("case %zu does not parse: %s\n", i, cases[i].json);
			fail();
		}
		errs = conf_validate(f->ctx, o, &rep);
		if (errs != cases[i].errors ||
		    (cases[i].path && !report_has(&rep, CONF_ERR, cases[i].path, cases[i].text))) {
			print_error("case %zu: %s\n", i, cases[i].json);
			conf_report_print(&rep, stderr, CONF_INFO);
			fail();
		}
		json_object_put(o);
		conf_report_free(&rep);
	}
}

static void test_validate_unknown_field_warns(void **state)
{
	struct fx *f = *state;
	const char *t = "{\"storage_objects\": [], \"version\": 2, \"targets\": []}";
	struct json_object *o = NULL;
	struct conf_report rep;
	char *s;

	conf_report_init(&rep);
	assert_int_equal(conf_parse(t, strlen(t), &o, &rep), 0);
	assert_int_equal(conf_validate(f->ctx, o, &rep), 0);
	assert_int_equal(rep.n_warn, 1);
	assert_true(report_has(&rep, CONF_WARN, "version", "unknown field"));
	s = conf_to_string(o); /* kept when written back */
	assert_non_null(strstr(s, "\"version\": 2"));
	free(s);
	json_object_put(o);
	conf_report_free(&rep);
}

static void test_fixture_valid(void **state)
{
	struct fx *f = *state;
	struct json_object *root = load_fixture(f->dir);
	struct conf_report rep;

	conf_report_init(&rep);
	assert_int_equal(conf_validate(f->ctx, root, &rep), 0);
	assert_int_equal(rep.n_warn, 0);
	conf_report_free(&rep);
	json_object_put(root);
}

/* ------------------------------------------------------------------ restore / apply */

static char *dump_string(struct rts_ctx *ctx)
{
	struct json_object *d = NULL;
	struct conf_report rep;
	char *s;

	conf_report_init(&rep);
	assert_int_equal(conf_dump(ctx, &d, &rep), 0);
	s = conf_to_string(d);
	json_object_put(d);
	conf_report_free(&rep);
	return s;
}

static void test_restore_roundtrip(void **state)
{
	struct fx *f = *state;
	struct json_object *root = load_fixture(f->dir), *again = NULL;
	struct conf_opts o = { 0 };
	struct conf_report rep;
	char *s1, *s2;
	size_t n = 99;

	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), 0);
	assert_int_equal(rep.n_err, 0);
	assert_true(report_has(
		&rep, CONF_OK,
		"/iscsi/iqn.2003-01.org.linux-iscsi.host.x8664:sn.0123456789ab/tpg1/acls/iqn.1994-05.com.redhat:client1/mapped_lun5",
		"create"));
	s1 = dump_string(f->ctx);
	/* every field of the file comes back */
	assert_non_null(strstr(s1, "\"control\": \"max_data_area_mb=64,hw_block_size=4096,data_pages_per_blk=1\""));
	assert_non_null(strstr(s1, "\"nexus\": \"naa.5001405abcdef099\""));
	assert_non_null(strstr(s1, "\"tcq_depth\": 32"));
	assert_non_null(strstr(s1, "\"alua_tg_pt_gp_name\": \"site_b\""));
	assert_non_null(strstr(s1, "\"alias\": \"6a1b2c3d4e\""));
	assert_non_null(strstr(s1, "\"discovery_password\": \"discpass\\u00e9\""));
	assert_non_null(strstr(s1, "\"TargetAlias\": \"LIO Target \\u00e9\\u4e2d\""));
	/* target-level param/ (6.1): the non-default value was written and is dumped */
	assert_non_null(strstr(s1, "\"cmd_completion_affinity\": \"0\""));
	assert_non_null(strstr(s1, "\"cmd_completion_affinity\": \"-1\"")); /* loopback */

	/* restoring again over the same objects is refused, nothing touched */
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), -EEXIST);
	s2 = dump_string(f->ctx);
	assert_string_equal(s1, s2);
	free(s2);

	/* clear -> restore(dump) -> dump is identical */
	assert_int_equal(conf_parse(s1, strlen(s1), &again, &rep), 0);
	assert_int_equal(conf_clear(f->ctx, &o, &rep), 0);
	s2 = dump_string(f->ctx);
	assert_string_equal(
		s2,
		"{\n  \"fabric_modules\": [],\n  \"storage_objects\": [],\n  \"targets\": []\n}\n");
	free(s2);
	assert_int_equal(conf_restore(f->ctx, again, &o, &rep), 0);
	s2 = dump_string(f->ctx);
	assert_string_equal(s1, s2);

	/* applying the same configuration is a no-op */
	assert_int_equal(conf_apply(f->ctx, again, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(conf_apply(f->ctx, root, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	free(s1);
	free(s2);
	json_object_put(again);
	json_object_put(root);
	conf_report_free(&rep);
}

static struct json_object *path_get(struct json_object *o, const char *const *keys)
{
	for (; *keys; keys++) {
		char *end;
		long idx = strtol(*keys, &end, 10);

		if (!*end)
			o = json_object_array_get_idx(o, (size_t)idx);
		else if (!json_object_object_get_ex(o, *keys, &o))
			return NULL;
	}
	return o;
}

static void test_apply_plan(void **state)
{
	struct fx *f = *state;
	struct json_object *root = load_fixture(f->dir), *want = NULL, *tpg, *acls, *luns, *lun;
	struct conf_opts o = { 0 };
	struct conf_report rep;
	char *plan = NULL, *s;
	size_t len = 0, n = 0;

	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), 0);
	assert_int_equal(json_object_deep_copy(root, &want, NULL), 0);
	tpg = path_get(want, (const char *const[]){ "targets", "0", "tpgs", "0", NULL });
	/* change one attribute, drop the ACL, add a LUN, drop the loopback target */
	json_object_object_add(path_get(tpg, (const char *const[]){ "attributes", NULL }),
			       "authentication", json_object_new_int(1));
	json_object_object_add(path_get(want, (const char *const[]){ "targets", "0", "parameters",
								   NULL }),
			       "cmd_completion_affinity", json_object_new_string("-1"));
	acls = path_get(tpg, (const char *const[]){ "node_acls", NULL });
	json_object_array_del_idx(acls, 0, 1);
	luns = path_get(tpg, (const char *const[]){ "luns", NULL });
	lun = json_object_new_object();
	json_object_object_add(lun, "index", json_object_new_int(9));
	json_object_object_add(lun, "storage_object",
			       json_object_new_string("/backstores/user/u0"));
	json_object_array_add(luns, lun);
	json_object_array_del_idx(json_object_object_get(want, "targets"), 1, 1);
	json_object_array_del_idx(path_get(want, (const char *const[]){ "storage_objects", NULL }),
				  2, 1); /* rd1 */

	o.dry_run = true;
	o.plan_out = open_memstream(&plan, &len);
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	fclose(o.plan_out);
	assert_string_equal(
		plan,
		/* pure deletions last: whatever can fail runs before anything is destroyed */
		"/iscsi/iqn.2003-01.org.linux-iscsi.host.x8664:sn.0123456789ab set parameter cmd_completion_affinity=-1 (was 0)\n"
		"/iscsi/iqn.2003-01.org.linux-iscsi.host.x8664:sn.0123456789ab/tpg1 set attribute authentication=1 (was 0)\n"
		"/iscsi/iqn.2003-01.org.linux-iscsi.host.x8664:sn.0123456789ab/tpg1/luns/lun9 create -> /backstores/user/u0\n"
		"/iscsi/iqn.2003-01.org.linux-iscsi.host.x8664:sn.0123456789ab/tpg1/acls/iqn.1994-05.com.redhat:client1 delete\n"
		"/loopback/naa.5001405abcdef012 delete\n"
		"/backstores/ramdisk/rd1 delete\n");
	assert_int_equal(n, 6);
	free(plan);
	/* dry run changed nothing */
	o = (struct conf_opts){ 0 };
	assert_int_equal(conf_apply(f->ctx, root, &o, &rep, &n), 0);
	assert_int_equal(n, 0);

	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(rep.n_err, 0);
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	s = dump_string(f->ctx);
	assert_null(strstr(s, "loopback"));
	assert_null(strstr(s, "client1"));
	assert_non_null(strstr(s, "\"authentication\": 1"));
	assert_non_null(strstr(s, "\"cmd_completion_affinity\": \"-1\""));
	assert_null(strstr(s, "\"cmd_completion_affinity\": \"0\""));
	assert_non_null(strstr(s, "\"storage_object\": \"/backstores/user/u0\""));
	free(s);
	json_object_put(want);
	json_object_put(root);
	conf_report_free(&rep);
}

/* Changed creation parameters and unit serial: storage objects (and what exports them) are
 * recreated, the result equals the desired model and a second apply is a no-op. */
static void test_apply_recreate(void **state)
{
	struct fx *f = *state;
	struct json_object *root = load_fixture(f->dir), *want = NULL, *sos;
	struct conf_opts o = { 0 };
	struct conf_report rep;
	char *s, *w;
	size_t n = 0;

	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), 0);
	s = dump_string(f->ctx);
	assert_int_equal(conf_parse(s, strlen(s), &want, &rep), 0);
	free(s);
	sos = json_object_object_get(want, "storage_objects");
	for (size_t i = 0; i < json_object_array_length(sos); i++) {
		struct json_object *so = json_object_array_get_idx(sos, i);
		const char *name = json_object_get_string(json_object_object_get(so, "name"));

		if (!strcmp(name, "rd0"))
			json_object_object_add(so, "size", json_object_new_int64(16 << 20));
		if (!strcmp(name, "disk1"))
			json_object_object_add(
				so, "wwn",
				json_object_new_string("11111111-2222-4333-8444-555555555555"));
	}
	/* rd0 and disk1 are exported: recreating them needs allow_recreate (--recreate) */
	s = dump_string(f->ctx);
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), -ECANCELED);
	assert_true(report_has(&rep, CONF_ERR, "/backstores/ramdisk/rd0", "use --recreate"));
	w = dump_string(f->ctx);
	assert_string_equal(s, w);
	free(s);
	free(w);
	conf_report_free(&rep);
	o.allow_recreate = true;
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(rep.n_err, 0);
	assert_true(n > 4);
	s = dump_string(f->ctx);
	w = conf_to_string(want);
	assert_string_equal(s, w);
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	free(s);
	free(w);
	json_object_put(want);
	json_object_put(root);
	conf_report_free(&rep);
}

static const char *lugp_cfg =
	"{\"storage_objects\": [{\"name\": \"a\", \"plugin\": \"ramdisk\", \"size\": 4096},"
	" {\"name\": \"b\", \"plugin\": \"ramdisk\", \"size\": 4096}],"
	" \"rtslib_c\": {\"lu_gps\": [{\"name\": \"lg1\", \"lu_gp_id\": 3, \"members\": "
	"[\"/backstores/ramdisk/a\", \"/backstores/ramdisk/b\"]}]}}";

/* ALUA LU groups ride in rtslib_c.lu_gps: restore, save, move a member, delete the group. */
static void test_lu_gps(void **state)
{
	struct fx *f = *state;
	struct json_object *root = NULL, *want = NULL, *g;
	struct conf_opts o = { 0 };
	struct conf_report rep;
	char *s, *plan = NULL;
	size_t n = 0, len = 0;

	conf_report_init(&rep);
	assert_int_equal(conf_parse(lugp_cfg, strlen(lugp_cfg), &root, &rep), 0);
	assert_int_equal(conf_validate(f->ctx, root, &rep), 0);
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), 0);
	s = dump_string(f->ctx);
	assert_non_null(strstr(
		s, "\"rtslib_c\": {\n    \"lu_gps\": [\n      {\n        \"lu_gp_id\": 3,\n"
		   "        \"members\": [\n          \"/backstores/ramdisk/a\",\n"
		   "          \"/backstores/ramdisk/b\"\n        ],\n        \"name\": \"lg1\""));
	assert_int_equal(conf_apply(f->ctx, root, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(conf_parse(s, strlen(s), &want, &rep), 0);
	free(s);
	/* b leaves the group */
	g = json_object_array_get_idx(
		json_object_object_get(json_object_object_get(want, "rtslib_c"), "lu_gps"), 0);
	json_object_array_del_idx(json_object_object_get(g, "members"), 1, 1);
	o.dry_run = true;
	o.plan_out = open_memstream(&plan, &len);
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	fclose(o.plan_out);
	assert_string_equal(plan, "/backstores/ramdisk/b set lu_gp default_lu_gp\n");
	free(plan);
	o = (struct conf_opts){ 0 };
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	/* no group at all: members back to default, group deleted, key gone from saves */
	json_object_object_del(want, "rtslib_c");
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rep.n_err, 0);
	s = dump_string(f->ctx);
	assert_null(strstr(s, "rtslib_c"));
	free(s);
	json_object_put(want);
	json_object_put(root);
	conf_report_free(&rep);
}

static const char *broken_cfg =
	"{\"storage_objects\": ["
	"{\"name\": \"rd\", \"plugin\": \"ramdisk\", \"size\": 4096},"
	"{\"name\": \"bad\", \"plugin\": \"fileio\", \"dev\": \"/nonexistent-dir/x/disk.img\", \"size\": 4096}],"
	"\"targets\": [{\"fabric\": \"iscsi\", \"wwn\": \"iqn.2003-01.org.example:t\", \"tpgs\": [{\"tag\": 1,"
	" \"luns\": [{\"index\": 0, \"storage_object\": \"/backstores/ramdisk/rd\"},"
	"            {\"index\": 1, \"storage_object\": \"/backstores/fileio/bad\"}]}]}]}";

static void test_restore_partial_and_atomic(void **state)
{
	struct fx *f = *state;
	struct json_object *root = NULL;
	struct conf_opts o = { 0 };
	struct conf_report rep;
	char *s;

	conf_report_init(&rep);
	assert_int_equal(conf_parse(broken_cfg, strlen(broken_cfg), &root, &rep), 0);
	assert_int_equal(conf_validate(f->ctx, root, &rep), 0);

	/* --atomic: the missing directory is found before anything is created */
	o.atomic = true;
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), -ECANCELED);
	assert_true(report_has(&rep, CONF_ERR, "/backstores/fileio/bad", "does not exist"));
	assert_true(report_has(&rep, CONF_ERR, NULL, "nothing changed"));
	s = dump_string(f->ctx);
	assert_string_equal(
		s,
		"{\n  \"fabric_modules\": [],\n  \"storage_objects\": [],\n  \"targets\": []\n}\n");
	free(s);
	conf_report_free(&rep);

	/* best effort: partial, the LUN of the missing object is reported */
	o.atomic = false;
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), 1);
	assert_true(report_has(&rep, CONF_ERR, "/iscsi/iqn.2003-01.org.example:t/tpg1/luns/lun1",
			       "storage object"));
	assert_true(report_has(&rep, CONF_OK, "/iscsi/iqn.2003-01.org.example:t/tpg1/luns/lun0",
			       "create"));
	s = dump_string(f->ctx);
	assert_non_null(strstr(s, "/backstores/ramdisk/rd"));
	free(s);
	json_object_put(root);
	conf_report_free(&rep);
}

static void test_restore_selected(void **state)
{
	struct fx *f = *state;
	struct json_object *root = load_fixture(f->dir);
	struct conf_opts o = { .storage_object = "rd0" };
	struct conf_report rep;
	char *s;

	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), 0);
	s = dump_string(f->ctx);
	assert_non_null(strstr(s, "\"name\": \"rd0\""));
	assert_null(strstr(s, "\"name\": \"rd1\""));
	assert_null(strstr(s, "iqn.2003"));
	free(s);
	o = (struct conf_opts){ .target = "naa.5001405abcdef012", .storage_object = NULL };
	/* loopback LUN needs rd1, not restored: partial */
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), 1);
	s = dump_string(f->ctx);
	assert_non_null(strstr(s, "naa.5001405abcdef012"));
	assert_null(strstr(s, "iqn.2003"));
	free(s);
	/* clear only that target */
	assert_int_equal(conf_clear(f->ctx, &o, &rep), 0);
	s = dump_string(f->ctx);
	assert_null(strstr(s, "naa.5001405abcdef012"));
	assert_non_null(strstr(s, "\"name\": \"rd0\""));
	free(s);
	json_object_put(root);
	conf_report_free(&rep);
}

/* ------------------------------------------------------------------ issue #18: never lose config */

/* A small exported configuration: fileio + ramdisk, two LUNs, an ACL with CHAP and a
 * mapped LUN. @p dir holds the backing file. */
static struct json_object *small_cfg(const char *dir, const char *extra_so)
{
	char *text = NULL;
	struct json_object *root = NULL;
	struct conf_report rep;

	assert_true(asprintf(&text,
			     "{\"storage_objects\": ["
			     "{\"name\": \"d1\", \"plugin\": \"fileio\", \"dev\": \"%s/d1.img\", "
			     "\"size\": 1048576, \"wwn\": \"2a0a3f5e-1c1e-4c6e-9a34-0d5b8f6e9a01\"},"
			     "{\"name\": \"rd0\", \"plugin\": \"ramdisk\", \"size\": 1048576, "
			     "\"nullio\": true, \"wwn\": \"2a0a3f5e-1c1e-4c6e-9a34-0d5b8f6e9a02\"}%s],"
			     "\"targets\": [{\"fabric\": \"iscsi\", \"wwn\": "
			     "\"iqn.2003-01.org.example:t1\", \"tpgs\": [{\"tag\": 1,"
			     " \"luns\": [{\"index\": 0, \"storage_object\": \"/backstores/fileio/d1\"},"
			     "  {\"index\": 1, \"storage_object\": \"/backstores/ramdisk/rd0\"}],"
			     " \"node_acls\": [{\"node_wwn\": \"iqn.1994-05.com.redhat:c1\","
			     "  \"chap_userid\": \"u1\", \"chap_password\": \"p1\","
			     "  \"mapped_luns\": [{\"index\": 0, \"tpg_lun\": 0}]}]}]}]}",
			     dir, extra_so ? extra_so : "") > 0);
	conf_report_init(&rep);
	assert_int_equal(conf_parse(text, strlen(text), &root, &rep), 0);
	/* a storage object named "bad" is meant to be invalid */
	assert_int_equal(conf_validate(NULL, root, &rep) == 0,
			 !extra_so || !strstr(extra_so, "\"bad\""));
	conf_report_free(&rep);
	free(text);
	return root;
}

static struct json_object *so_named(struct json_object *root, const char *name)
{
	struct json_object *sos = json_object_object_get(root, "storage_objects");

	for (size_t i = 0; i < json_object_array_length(sos); i++) {
		struct json_object *so = json_object_array_get_idx(sos, i);

		if (!strcmp(json_object_get_string(json_object_object_get(so, "name")), name))
			return so;
	}
	fail_msg("no storage object %s", name);
	return NULL;
}

static struct json_object *dump_model(struct rts_ctx *ctx)
{
	char *s = dump_string(ctx);
	struct json_object *m = NULL;
	struct conf_report rep;

	conf_report_init(&rep);
	assert_int_equal(conf_parse(s, strlen(s), &m, &rep), 0);
	conf_report_free(&rep);
	free(s);
	return m;
}

/* Item 1: --atomic undoes deletions (ACL with CHAP and mapped LUN, a LUN replaced, a
 * storage object recreated) and the result is the configuration from before. */
static void test_atomic_undoes_deletions(void **state)
{
	struct fx *f = *state;
	struct json_object *root = small_cfg(f->dir, NULL), *want, *tpg, *attrs;
	struct conf_opts o = { .atomic = true, .allow_recreate = true };
	struct conf_report rep;
	char *before, *after, *dev = NULL;
	size_t n = 0;

	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &(struct conf_opts){ 0 }, &rep), 0);
	before = dump_string(f->ctx);
	want = dump_model(f->ctx);
	tpg = path_get(want, (const char *const[]){ "targets", "0", "tpgs", "0", NULL });
	/* delete the ACL, move lun0 to rd0 (deletes lun0 early), recreate d1 on another
	 * file, and fail afterwards on an attribute the kernel refuses */
	json_object_array_del_idx(json_object_object_get(tpg, "node_acls"), 0, 1);
	json_object_object_add(
		json_object_array_get_idx(json_object_object_get(tpg, "luns"), 0),
		"storage_object", json_object_new_string("/backstores/ramdisk/rd0"));
	assert_true(asprintf(&dev, "%s/other.img", f->dir) > 0);
	json_object_object_add(so_named(want, "d1"), "dev", json_object_new_string(dev));
	attrs = json_object_object_get(so_named(want, "rd0"), "attributes");
	json_object_object_add(attrs, "block_size", json_object_new_int(513));

	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), -ECANCELED);
	assert_true(report_has(&rep, CONF_ERR, "/backstores/ramdisk/rd0", "block_size=513"));
	assert_true(report_has(&rep, CONF_INFO, "", "configuration is as it was before"));
	assert_false(report_has(&rep, CONF_ERR, NULL, "rollback"));
	after = dump_string(f->ctx);
	assert_string_equal(before, after);
	free(after);
	conf_report_free(&rep);

	/* without the failing attribute the same plan goes through */
	json_object_object_del(attrs, "block_size");
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	after = dump_string(f->ctx);
	assert_null(strstr(after, "iqn.1994-05.com.redhat:c1"));
	assert_non_null(strstr(after, dev));
	/* recreated with the serial of the file */
	assert_non_null(strstr(after, "2a0a3f5e-1c1e-4c6e-9a34-0d5b8f6e9a01"));
	free(after);
	free(before);
	free(dev);
	json_object_put(want);
	json_object_put(root);
	conf_report_free(&rep);
}

/* Item 2: a recreate whose new backing directory is missing is refused before anything
 * is deleted, in plain and --atomic mode; --dry-run shows the problem. */
static void test_recreate_precheck(void **state)
{
	struct fx *f = *state;
	struct json_object *root = small_cfg(f->dir, NULL), *want = NULL;
	struct conf_opts o = { .allow_recreate = true };
	struct conf_report rep;
	char *before, *after, *plan = NULL;
	size_t n = 0, len = 0;

	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), 0);
	before = dump_string(f->ctx);
	want = dump_model(f->ctx);
	json_object_object_add(so_named(want, "d1"), "dev",
			       json_object_new_string("/nonexistent-dir/sub/d1.img"));
	for (int atomic = 0; atomic < 2; atomic++) {
		o.atomic = atomic;
		assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), -ECANCELED);
		assert_true(report_has(&rep, CONF_ERR, "/backstores/fileio/d1",
				       "directory /nonexistent-dir/sub of backing file"));
		assert_true(report_has(&rep, CONF_ERR, NULL, "nothing changed"));
		after = dump_string(f->ctx);
		assert_string_equal(before, after);
		free(after);
		conf_report_free(&rep);
	}
	o = (struct conf_opts){ .allow_recreate = true, .dry_run = true };
	o.plan_out = open_memstream(&plan, &len);
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), -ECANCELED);
	fclose(o.plan_out);
	assert_non_null(strstr(plan, "/backstores/fileio/d1 create [pre-check: directory "
				     "/nonexistent-dir/sub of backing file"));
	free(plan);
	conf_report_free(&rep);

	/* per-action outcomes: done, and the results array */
	json_object_put(want);
	want = dump_model(f->ctx);
	json_object_array_del_idx(
		path_get(want, (const char *const[]){ "targets", "0", "tpgs", "0", "node_acls",
						      NULL }),
		0, 1);
	o = (struct conf_opts){ .results = json_object_new_array() };
	plan = NULL;
	o.plan_out = open_memstream(&plan, &len);
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	fclose(o.plan_out);
	assert_string_equal(
		plan,
		"/iscsi/iqn.2003-01.org.example:t1/tpg1/acls/iqn.1994-05.com.redhat:c1 delete: done\n");
	assert_int_equal(json_object_array_length(o.results), 1);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(o.results, 0), "result")),
			    "done");
	json_object_put(o.results);
	free(plan);
	free(before);
	json_object_put(want);
	json_object_put(root);
	conf_report_free(&rep);
}

/* restore --clear-existing --atomic: what the clear deleted comes back on a failure. */
static void test_restore_clear_atomic_rollback(void **state)
{
	struct fx *f = *state;
	struct json_object *root = small_cfg(f->dir, NULL), *want;
	struct conf_opts o = { .atomic = true, .clear_existing = true };
	struct conf_report rep;
	char *before, *after;

	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &(struct conf_opts){ 0 }, &rep), 0);
	before = dump_string(f->ctx);
	want = dump_model(f->ctx);
	json_object_object_add(json_object_object_get(so_named(want, "rd0"), "attributes"),
			       "no_such_attribute", json_object_new_int(1));
	assert_int_equal(conf_restore(f->ctx, want, &o, &rep), -ECANCELED);
	assert_true(report_has(&rep, CONF_OK, "/iscsi/iqn.2003-01.org.example:t1", "deleted"));
	assert_true(report_has(&rep, CONF_INFO, "", "configuration is as it was before"));
	after = dump_string(f->ctx);
	assert_string_equal(before, after);
	free(before);
	free(after);
	json_object_put(want);
	json_object_put(root);
	conf_report_free(&rep);
}

/* --atomic refuses what it could not undo: a ramdisk's data. */
static void test_atomic_refuses_ramdisk_loss(void **state)
{
	struct fx *f = *state;
	struct json_object *root = small_cfg(
		f->dir, ",{\"name\": \"rdata\", \"plugin\": \"ramdisk\", \"size\": 1048576}");
	struct json_object *want;
	struct conf_opts o = { .atomic = true };
	struct conf_report rep;
	char *before, *after;
	size_t n;

	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &(struct conf_opts){ 0 }, &rep), 0);
	before = dump_string(f->ctx);
	want = dump_model(f->ctx);
	json_object_array_del_idx(json_object_object_get(want, "storage_objects"), 2, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(
					    json_object_object_get(want, "storage_objects"), 1),
				    "name")),
			    "rd0");
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), -ECANCELED);
	assert_true(report_has(&rep, CONF_ERR, "/backstores/ramdisk/rdata", "loses its data"));
	after = dump_string(f->ctx);
	assert_string_equal(before, after);
	free(after);
	/* without --atomic it is an ordinary deletion */
	o.atomic = false;
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(n, 1);
	free(before);
	json_object_put(want);
	json_object_put(root);
	conf_report_free(&rep);
}

/* #16 and item 9: values equal to the kernel's default compare equal to absent ones;
 * restore X; apply X and apply X twice plan nothing; a recreate keeps the serial. */
static void test_apply_settles(void **state)
{
	struct fx *f = *state;
	struct json_object *root = small_cfg(f->dir, NULL), *acl;
	struct conf_opts o = { 0 };
	struct conf_report rep;
	char *s, *serial;
	size_t n = 99;

	/* explicit defaults and empty CHAP strings in the file */
	json_object_object_add(so_named(root, "d1"), "write_back", json_object_new_boolean(0));
	acl = path_get(root, (const char *const[]){ "targets", "0", "tpgs", "0", "node_acls",
						    "0", NULL });
	json_object_object_add(acl, "chap_mutual_userid", json_object_new_string(""));
	json_object_object_add(acl, "chap_mutual_password", json_object_new_string(""));
	json_object_object_add(so_named(root, "rd0"), "nullio", json_object_new_boolean(1));
	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &o, &rep), 0);
	assert_int_equal(conf_apply(f->ctx, root, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	/* a ramdisk with "nullio": false equals one saved without the key */
	json_object_object_add(so_named(root, "rd0"), "nullio", json_object_new_boolean(0));
	json_object_object_del(so_named(root, "rd0"), "wwn");
	o.allow_recreate = true;
	assert_int_equal(conf_apply(f->ctx, root, &o, &rep, &n), 0); /* recreated: nullio */
	assert_true(n > 0);
	assert_int_equal(rep.n_err, 0);
	s = dump_string(f->ctx);
	/* no wwn in the file: the recreated disk keeps its unit serial */
	serial = strstr(s, "2a0a3f5e-1c1e-4c6e-9a34-0d5b8f6e9a02");
	assert_non_null(serial);
	free(s);
	assert_int_equal(conf_apply(f->ctx, root, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	json_object_object_del(so_named(root, "rd0"), "nullio");
	assert_int_equal(conf_apply(f->ctx, root, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	json_object_put(root);
	conf_report_free(&rep);
}

/* Item 3: restore --skip-invalid drops the invalid objects and what refers to them. */
static void test_prune_invalid(void **state)
{
	struct fx *f = *state;
	struct json_object *root = small_cfg(
		f->dir, ",{\"name\": \"bad\", \"plugin\": \"ramdisk\", \"size\": 4096, "
			"\"attributes\": {\"block_size\": 513}}");
	struct json_object *luns;
	struct conf_report rep, dropped;
	size_t removed = 0, pass;
	char *s;

	/* lun2 exports the bad object, mapped_lun2 maps lun2 */
	luns = path_get(root, (const char *const[]){ "targets", "0", "tpgs", "0", "luns", NULL });
	json_object_array_add(luns, json_tokener_parse("{\"index\": 2, \"storage_object\": "
						       "\"/backstores/ramdisk/bad\"}"));
	json_object_array_add(
		path_get(root, (const char *const[]){ "targets", "0", "tpgs", "0", "node_acls", "0",
						      "mapped_luns", NULL }),
		json_tokener_parse("{\"index\": 2, \"tpg_lun\": 2}"));
	conf_report_init(&dropped);
	for (pass = 0; pass < 8; pass++) {
		size_t r;

		conf_report_init(&rep);
		if (conf_validate(f->ctx, root, &rep) == 0) {
			conf_report_free(&rep);
			break;
		}
		r = conf_prune_invalid(root, &rep, &dropped);
		conf_report_free(&rep);
		assert_true(r > 0);
		removed += r;
	}
	assert_int_equal(removed, 3); /* bad, lun2, mapped_lun2 */
	assert_true(report_has(&dropped, CONF_ERR, "storage_objects[2].attributes.block_size",
			       "must be one of 512"));
	assert_true(report_has(&dropped, CONF_ERR, "luns[2].storage_object", "missing"));
	assert_true(report_has(&dropped, CONF_ERR, "mapped_luns[1].tpg_lun", "missing TPG LUN 2"));
	conf_report_init(&rep);
	assert_int_equal(conf_restore(f->ctx, root, &(struct conf_opts){ 0 }, &rep), 0);
	s = dump_string(f->ctx);
	assert_null(strstr(s, "\"bad\""));
	assert_non_null(strstr(s, "\"d1\""));
	assert_non_null(strstr(s, "iqn.1994-05.com.redhat:c1"));
	free(s);
	conf_report_free(&rep);
	conf_report_free(&dropped);
	json_object_put(root);
}

/* Item 3: every object kind at its limits saves and restores to the same file. */
static void test_limits_roundtrip(void **state)
{
	struct fx *f = *state;
	char name[RTS_NAME_MAX + 1], tag[CONF_ACL_TAG_MAX + 1], *text = NULL, *s1, *s2;
	struct json_object *root = NULL, *again = NULL;
	struct conf_report rep;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(tag, 't', sizeof(tag) - 1);
	tag[sizeof(tag) - 1] = '\0';
	assert_true(
		asprintf(&text,
			 "{\"storage_objects\": [{\"name\": \"%s\", \"plugin\": \"ramdisk\", "
			 "\"size\": 4096, \"nullio\": true, \"wwn\": \"x\","
			 " \"alua_tpgs\": [{\"name\": \"gp\", \"tg_pt_gp_id\": 65535}]}],"
			 "\"rtslib_c\": {\"lu_gps\": [{\"name\": \"lg\", \"lu_gp_id\": 65535, "
			 "\"members\": []}]},"
			 "\"targets\": [{\"fabric\": \"iscsi\", \"wwn\": "
			 "\"iqn.2003-01.org.example:limits\", \"tpgs\": [{\"tag\": 65535,"
			 " \"luns\": [{\"index\": %u, \"storage_object\": \"/backstores/ramdisk/%s\"}],"
			 " \"portals\": [{\"ip_address\": \"127.0.0.1\", \"port\": 65535}],"
			 " \"node_acls\": [{\"node_wwn\": \"iqn.1994-05.com.redhat:c\", \"tag\": \"%s\","
			 "  \"tcq_depth\": %u, \"mapped_luns\": [{\"index\": %u, \"tpg_lun\": %u}]}]}]}]}",
			 name, CONF_LUN_MAX, name, tag, CONF_CMDSN_DEPTH_MAX, CONF_MLUN_MAX,
			 CONF_LUN_MAX) > 0);
	conf_report_init(&rep);
	assert_int_equal(conf_parse(text, strlen(text), &root, &rep), 0);
	assert_int_equal(conf_validate(f->ctx, root, &rep), 0);
	assert_true(report_has(&rep, CONF_WARN, "mapped_luns[0]", "targetcli cannot restore"));
	assert_int_equal(conf_restore(f->ctx, root, &(struct conf_opts){ 0 }, &rep), 0);
	assert_int_equal(rep.n_err, 0);
	s1 = dump_string(f->ctx);
	assert_non_null(strstr(s1, "\"index\": 65535"));
	assert_non_null(strstr(s1, "\"tag\": 65535"));
	/* what save wrote, validate and restore read back */
	assert_int_equal(conf_parse(s1, strlen(s1), &again, &rep), 0);
	assert_int_equal(conf_validate(f->ctx, again, &rep), 0);
	assert_int_equal(conf_clear(f->ctx, &(struct conf_opts){ 0 }, &rep), 0);
	assert_int_equal(conf_restore(f->ctx, again, &(struct conf_opts){ 0 }, &rep), 0);
	s2 = dump_string(f->ctx);
	assert_string_equal(s1, s2);
	free(s1);
	free(s2);
	free(text);
	json_object_put(root);
	json_object_put(again);
	conf_report_free(&rep);
}

/* #16: restore X; apply X plans nothing, for both fixtures (every plugin, fabric object
 * and field, targetcli's own file with "nullio": false); a LUN alias change is applied
 * (with allow_recreate) instead of ignored. */
static void test_apply_noop_fixtures(void **state)
{
	struct fx *f = *state;
	char *path = fixture_path("targetcli-full.json"), *text = read_all(path), *s;
	struct json_object *roots[2] = { load_fixture(f->dir), NULL }, *want = NULL, *lun;
	struct conf_opts o = { 0 };
	struct conf_report rep;
	size_t n = 99;

	conf_report_init(&rep);
	assert_int_equal(conf_parse(text, strlen(text), &roots[1], &rep), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(conf_validate(f->ctx, roots[i], &rep), 0);
		assert_int_equal(conf_clear(f->ctx, &o, &rep), 0);
		assert_int_equal(conf_restore(f->ctx, roots[i], &o, &rep), 0);
		assert_int_equal(conf_apply(f->ctx, roots[i], &o, &rep, &n), 0);
		assert_int_equal(n, 0);
		assert_int_equal(conf_apply(f->ctx, roots[i], &o, &rep, &n), 0);
		assert_int_equal(n, 0);
	}
	/* LUN alias: warned about without allow_recreate, applied with it */
	assert_int_equal(json_object_deep_copy(roots[1], &want, NULL), 0);
	lun = path_get(want, (const char *const[]){ "targets", "0", "tpgs", "0", "luns", "0",
						    NULL });
	assert_non_null(lun);
	json_object_object_add(lun, "alias", json_object_new_string("renamed01"));
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	assert_true(report_has(&rep, CONF_WARN, "/luns/lun", "use --recreate"));
	o.allow_recreate = true;
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_true(n > 0);
	assert_true(report_has(&rep, CONF_OK, "/luns/lun", "delete (alias changed)"));
	s = dump_string(f->ctx);
	assert_non_null(strstr(s, "\"alias\": \"renamed01\""));
	free(s);
	assert_int_equal(conf_apply(f->ctx, want, &o, &rep, &n), 0);
	assert_int_equal(n, 0);
	json_object_put(want);
	json_object_put(roots[0]);
	json_object_put(roots[1]);
	free(text);
	free(path);
	conf_report_free(&rep);
}

/* ------------------------------------------------------------------ save */

static void test_write_file(void **state)
{
	struct fx *f = *state;
	struct conf_report rep;
	char path[512], b[600], *s;
	struct stat st;

	conf_report_init(&rep);
	pfmt(path, sizeof(path), "%s/saveconfig.json", f->dir);
	umask(022);
	assert_int_equal(conf_write_file(path, "one\n", 2, &rep), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(conf_write_file(path, "two\n", 2, &rep), 0);
	assert_int_equal(conf_write_file(path, "three\n", 2, &rep), 0);
	assert_int_equal(conf_write_file(path, "four\n", 2, &rep), 0);
	s = read_all(path);
	assert_string_equal(s, "four\n");
	free(s);
	pfmt(b, sizeof(b), "%s.1", path);
	s = read_all(b);
	assert_string_equal(s, "three\n");
	free(s);
	pfmt(b, sizeof(b), "%s.2", path);
	s = read_all(b);
	assert_string_equal(s, "two\n");
	free(s);
	pfmt(b, sizeof(b), "%s.3", path);
	assert_int_equal(access(b, F_OK), -1);
	/* no temp files left behind */
	pfmt(b, sizeof(b), "ls %s | grep -c tmp", f->dir);
	assert_int_not_equal(system(b), 0);
	/* missing directories are created (0700) */
	pfmt(b, sizeof(b), "%s/etc/target/saveconfig.json", f->dir);
	assert_int_equal(conf_write_file(b, "x\n", 0, &rep), 0);
	pfmt(b, sizeof(b), "%s/etc/target", f->dir);
	assert_int_equal(stat(b, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* unwritable location: the error names the path */
	assert_true(conf_write_file("/proc/rtsctl-test/x.json", "x", 0, &rep) < 0);
	assert_true(report_has(&rep, CONF_ERR, "/proc/rtsctl-test", "cannot create directory"));
	conf_report_free(&rep);
}

/*
 * conf_attr_is_readonly() against the real 6.1 kernel captures: every attrib/ file and every
 * target/TPG param/ file (what rtsctl dumps and restores) is listed read-only exactly when
 * the kernel shows it without a write bit (rtslib dumps writable files only).
 */
static void test_readonly_matches_kernel(void **state)
{
	static const char *const files[] = {
		"kernel/full-config.txt", "kernel/after-enable/fileio.txt",
		"kernel/after-enable/iblock.txt", "kernel/after-enable/pscsi.txt",
		"kernel/after-enable/rd_mcp.txt", "kernel/after-enable/user.txt",
		"targetcli-full.txt", "librts-real.txt",
	};
	const char *src = getenv("RTS_TEST_SRCDIR");
	size_t checked = 0, ro = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = NULL, *text, *line, *save = NULL;

		assert_true(asprintf(&path, "%s/tests/fixtures/configfs/%s",
				     src ? src : "../../..", files[i]) > 0);
		text = read_all(path);
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char p[1024], *name, *dir;
			unsigned int mode;

			if (sscanf(line, "f %o %1023s", &mode, p) != 2 || strstr(p, "/acls/"))
				continue;
			name = strrchr(p, '/');
			if (!name)
				continue;
			*name++ = '\0';
			dir = strrchr(p, '/');
			dir = dir ? dir + 1 : p;
			if (strcmp(dir, "attrib") != 0 && strcmp(dir, "param") != 0)
				continue;
			if (conf_attr_is_readonly(name) != !(mode & 0222))
				fail_msg("%s: %s/%s mode %o, conf_attr_is_readonly() says %d", files[i],
					 p, name, mode, conf_attr_is_readonly(name));
			checked++;
			ro += !(mode & 0222);
		}
		free(text);
		free(path);
	}
	assert_true(checked > 500);
	assert_true(ro > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serialize_matches_python),
		cmocka_unit_test(test_serialize_edge_cases),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_readonly_matches_kernel),
		cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_validate_unknown_field_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fixture_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_recreate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lu_gps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_partial_and_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_selected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_undoes_deletions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recreate_precheck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_refuses_ramdisk_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_clear_atomic_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_settles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_noop_fixtures, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
