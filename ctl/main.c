/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rtsctl: manage LIO objects and saveconfig.json files. See docs/rtsctl.8. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "version_report.h"
#include "rtsctl.h"
#include "status.h"

#ifndef RTS_VERSION
#define RTS_VERSION "0"
#endif

static const struct {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	bool mutates;
	bool no_ctx; /* does not touch configfs */
} verbs[] = {
	{ "ls", cmd_ls, false, false },		 { "get", cmd_get, false, false },
	{ "set", cmd_set, true, false },	 { "create", cmd_create, true, false },
	{ "delete", cmd_delete, true, false },	 { "save", cmd_save, false, false },
	{ "restore", cmd_restore, true, false }, { "clear", cmd_clear, true, false },
	{ "apply", cmd_apply, true, false },	 { "validate", cmd_validate, false, false },
	{ "status", cmd_status, false, true },
};

static void usage(FILE *f)
{
	fputs("Usage: rtsctl [OPTIONS] VERB [ARGS]\n"
	      "\n"
	      "Verbs:\n"
	      "  ls [PATH]                          tree view of the LIO configuration\n"
	      "  get PATH [GROUP [NAME...]]         read attributes, parameters, auth, properties\n"
	      "  set PATH GROUP NAME=VALUE...       write them (GROUP: attribute, parameter, auth,\n"
	      "                                     property, discovery_auth)\n"
	      "  create PATH [KEY=VALUE...]         create an object (fileio: write-through unless\n"
	      "                                     write_back=1; targetcli defaults to write-back)\n"
	      "  delete PATH                        delete an object and everything below it\n"
	      "  save [FILE]                        write saveconfig.json (default " CONF_DEFAULT_FILE
	      ",\n"
	      "                                     only without --root and with --backend real)\n"
	      "  restore [FILE]                     restore a saveconfig.json file\n"
	      "  clear                              delete every target and storage object (asks,\n"
	      "                                     or --yes)\n"
	      "  apply FILE                         make the live configuration equal to FILE\n"
	      "  validate FILE                      check a saveconfig.json file, touch nothing\n"
	      "  status                             devices served by the running rts-runner\n"
	      "  status --watch [SECONDS [COUNT]]   their I/O rates and latency, like iostat\n"
	      "\n"
	      "Options:\n"
	      "  --root DIR          configfs root (default " RTS_DEFAULT_ROOT ")\n"
	      "  --backend KIND      real (default), emulate (LIO semantics on a plain --root\n"
	      "                      directory) or memory (in-process, for dry runs)\n"
	      "  --lock FILE         lock file (default " RTS_DEFAULT_LOCK_PATH ",\n"
	      "                      ROOT/.rtsctl.lock with --backend emulate)\n"
	      "  --json              machine-readable output (schema " RTSCTL_JSON_SCHEMA ")\n"
	      "  -q, --quiet         only errors\n"
	      "  --exist-ok          create: an existing object is not an error\n"
	      "  --missing-ok        delete: a missing object is not an error\n"
	      "  --no-auto-tpg       create: no automatic tpg1 (enabled) for a new target\n"
	      "  --no-auto-portal    create: no default portal 0.0.0.0:3260 on that tpg1\n"
	      "  --no-auto-map       create: do not map new LUNs into existing ACLs and\n"
	      "                      existing LUNs into new ACLs\n"
	      "  --dry-run           apply/restore: print the plan, change nothing\n"
	      "  --atomic            apply/restore: all or nothing: refuse plans that cannot be\n"
	      "                      undone, put everything back on the first failure\n"
	      "  --recreate          apply: recreate storage objects exported by LUNs when\n"
	      "                      their creation parameters changed\n"
	      "  --clear-existing    restore: clear the selected objects first\n"
	      "  --skip-invalid      restore: restore the valid objects of a file with errors\n"
	      "                      (targetcli's way; default: refuse the whole file)\n"
	      "  --target WWN        restore/clear/apply: only this target\n"
	      "  --storage-object N  restore/clear/apply: only this storage object\n"
	      "  --yes               clear: do not ask (needed when stdin is not a terminal)\n"
	      "  --backup N          save: keep N rotated backups (FILE.1 .. FILE.N); without it\n"
	      "                      the replaced file is kept in DIR/backup/ (10 newest)\n"
	      "  --depth N           ls: limit the tree depth\n"
	      "  --wait SECONDS      restore: wait up to SECONDS for missing backing devices,\n"
	      "                      files and portal addresses (boot)\n"
	      "  --no-modules        never load kernel modules\n"
	      "  --socket PATH       status: rts-runner's status socket\n"
	      "                      (default " STATUS_SOCKET_DEFAULT ")\n"
	      "  -V, --version       version, handler ABI, io_uring and kernel features\n"
	      "  --watch             status [SECONDS [COUNT]]: I/O rates and latency every\n"
	      "                      SECONDS (default 1), COUNT times (default: until killed)\n"
	      "  -h, --help          this help\n"
	      "\n"
	      "Exit status: 0 ok, 1 failure, 2 usage, 3 partial (restore/apply with failed objects).\n",
	      f);
}

enum {
	OPT_ROOT = 256,
	OPT_BACKEND,
	OPT_LOCK,
	OPT_JSON,
	OPT_EXIST_OK,
	OPT_MISSING_OK,
	OPT_DRY_RUN,
	OPT_ATOMIC,
	OPT_CLEAR,
	OPT_TARGET,
	OPT_SO,
	OPT_BACKUP,
	OPT_DEPTH,
	OPT_NO_MODULES,
	OPT_SOCKET,
	OPT_WAIT,
	OPT_NO_AUTO_TPG,
	OPT_NO_AUTO_PORTAL,
	OPT_NO_AUTO_MAP,
	OPT_WATCH,
	OPT_RECREATE,
	OPT_YES,
	OPT_SKIP_INVALID,
};

static int open_ctx(struct cli *c)
{
	char lock[4096];
	int r;

	switch (c->backend) {
	case BACKEND_MEMORY:
		r = rts_ctx_new(NULL, RTS_CTX_MEMORY, &c->ctx);
		break;
	case BACKEND_EMULATE:
		if (!c->root) {
			errorf("--backend emulate needs --root DIR");
			return EXIT_USAGE;
		}
		r = rts_ctx_new(c->root, RTS_CTX_EMULATE, &c->ctx);
		break;
	default:
		r = rts_ctx_new(c->root, 0, &c->ctx);
		break;
	}
	if (r < 0) {
		errorf("%s: cannot open configfs: %s", c->root ? c->root : RTS_DEFAULT_ROOT,
		       strerror(-r));
		return EXIT_FAIL;
	}
	if (c->lock) {
		r = rts_ctx_set_lock_path(c->ctx, *c->lock ? c->lock : NULL);
	} else if (c->backend == BACKEND_EMULATE) {
		pfmt(lock, sizeof(lock), "%s/.rtsctl.lock", c->root);
		r = rts_ctx_set_lock_path(c->ctx, lock);
	} else if (c->backend == BACKEND_REAL && c->root) {
		r = rts_ctx_set_lock_path(c->ctx, RTS_DEFAULT_LOCK_PATH);
	}
	if (r < 0) {
		errorf("cannot use lock file: %s", strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int conf_file_arg(const struct cli *c, const char *cmd, int argc, char **argv, const char **file)
{
	if (argc > 1) {
		errorf("%s takes at most one FILE", cmd);
		return EXIT_USAGE;
	}
	if (argc == 1)
		*file = argv[0];
	else if (c->backend != BACKEND_REAL || (c->root && strcmp(c->root, RTS_DEFAULT_ROOT) != 0))
		*file = NULL;
	else
		*file = CONF_DEFAULT_FILE;
	if (!*file) {
		errorf("%s: give FILE: with --root or --backend emulate/memory the default " CONF_DEFAULT_FILE
		       " (the host's configuration) is not used",
		       cmd);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cli_begin(struct cli *c)
{
	int r = rts_ctx_lock(c->ctx);

	if (r == 0) {
		r = rts_ctx_refresh(c->ctx);
		if (r < 0)
			rts_ctx_unlock(c->ctx);
	}
	if (r < 0) {
		errorf("cannot start transaction: %s", rts_ctx_last_error(c->ctx)->message[0] ?
							       rts_ctx_last_error(c->ctx)->message :
							       strerror(-r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

void cli_end(struct cli *c)
{
	rts_ctx_unlock(c->ctx);
}

void cli_print_report(struct cli *c, struct conf_report *rep)
{
	if (c->json) {
		struct json_object *o = json_object_new_object(), *arr = json_object_new_array();

		for (size_t i = 0; i < rep->n; i++) {
			struct json_object *m = json_object_new_object();

			json_object_object_add(
				m, "level",
				json_object_new_string(conf_level_name(rep->v[i].level)));
			json_object_object_add(m, "path", json_object_new_string(rep->v[i].path));
			json_object_object_add(m, "message",
					       json_object_new_string(rep->v[i].text));
			json_object_array_add(arr, m);
		}
		json_object_object_add(o, "report", arr);
		json_object_object_add(o, "errors", json_object_new_int64((int64_t)rep->n_err));
		json_object_object_add(o, "warnings", json_object_new_int64((int64_t)rep->n_warn));
		json_object_object_add(o, "ok", json_object_new_int64((int64_t)rep->n_ok));
		cli_print_json(o);
		json_object_put(o);
		return;
	}
	conf_report_print(rep, stderr, CONF_WARN);
	if (!c->quiet)
		for (size_t i = 0; i < rep->n; i++)
			if (rep->v[i].level == CONF_OK)
				printf("%s: %s\n", rep->v[i].path, rep->v[i].text);
}

void cli_print_json(struct json_object *o)
{
	char *s;

	json_object_object_add(o, "schema", json_object_new_string(RTSCTL_JSON_SCHEMA));
	s = conf_to_string(o);
	if (s)
		fputs(s, stdout);
	free(s);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "lock", required_argument, NULL, OPT_LOCK },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "exist-ok", no_argument, NULL, OPT_EXIST_OK },
		{ "missing-ok", no_argument, NULL, OPT_MISSING_OK },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "atomic", no_argument, NULL, OPT_ATOMIC },
		{ "clear-existing", no_argument, NULL, OPT_CLEAR },
		{ "target", required_argument, NULL, OPT_TARGET },
		{ "storage-object", required_argument, NULL, OPT_SO },
		{ "backup", required_argument, NULL, OPT_BACKUP },
		{ "depth", required_argument, NULL, OPT_DEPTH },
		{ "no-modules", no_argument, NULL, OPT_NO_MODULES },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "wait", required_argument, NULL, OPT_WAIT },
		{ "no-auto-tpg", no_argument, NULL, OPT_NO_AUTO_TPG },
		{ "no-auto-portal", no_argument, NULL, OPT_NO_AUTO_PORTAL },
		{ "no-auto-map", no_argument, NULL, OPT_NO_AUTO_MAP },
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ "recreate", no_argument, NULL, OPT_RECREATE },
		{ "yes", no_argument, NULL, OPT_YES },
		{ "skip-invalid", no_argument, NULL, OPT_SKIP_INVALID },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct cli c = { .depth = -1, .load_modules = true, .wait_s = -1,
			 .auto_tpg = true, .auto_portal = true, .auto_map = true };
	int opt, ret;
	char *end;

	c.progress = isatty(STDERR_FILENO);
	while ((opt = getopt_long(argc, argv, "qhV", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_ROOT:
			c.root = optarg;
			break;
		case OPT_BACKEND:
			if (!strcmp(optarg, "real"))
				c.backend = BACKEND_REAL;
			else if (!strcmp(optarg, "emulate"))
				c.backend = BACKEND_EMULATE;
			else if (!strcmp(optarg, "memory"))
				c.backend = BACKEND_MEMORY;
			else {
				errorf("unknown backend '%s' (real, emulate, memory)", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_LOCK:
			c.lock = optarg;
			break;
		case OPT_JSON:
			c.json = true;
			break;
		case 'q':
			c.quiet = true;
			break;
		case OPT_EXIST_OK:
			c.exist_ok = true;
			break;
		case OPT_MISSING_OK:
			c.missing_ok = true;
			break;
		case OPT_DRY_RUN:
			c.dry_run = true;
			break;
		case OPT_ATOMIC:
			c.atomic = true;
			break;
		case OPT_CLEAR:
			c.clear_existing = true;
			break;
		case OPT_TARGET:
			c.target = optarg;
			break;
		case OPT_SO:
			c.storage_object = optarg;
			break;
		case OPT_BACKUP:
		case OPT_DEPTH: {
			long v = strtol(optarg, &end, 10);

			if (*end || v < 0 || v > 1000) {
				errorf("invalid number '%s'", optarg);
				return EXIT_USAGE;
			}
			if (opt == OPT_BACKUP) {
				c.backups = (unsigned int)v;
				c.backups_set = true;
			}
			else
				c.depth = (int)v;
			break;
		}
		case OPT_NO_MODULES:
			c.load_modules = false;
			break;
		case OPT_WAIT: {
			long v = strtol(optarg, &end, 10);

			if (*end || end == optarg || v < 0 || v > 86400) {
				errorf("--wait: invalid number of seconds '%s' (0..86400)", optarg);
				return EXIT_USAGE;
			}
			c.wait_s = (int)v;
			break;
		}
		case OPT_NO_AUTO_TPG:
			c.auto_tpg = false;
			break;
		case OPT_NO_AUTO_PORTAL:
			c.auto_portal = false;
			break;
		case OPT_NO_AUTO_MAP:
			c.auto_map = false;
			break;
		case OPT_SOCKET:
			c.socket = optarg;
			break;
		case OPT_WATCH:
			c.watch = true;
			break;
		case OPT_RECREATE:
			c.recreate = true;
			break;
		case OPT_YES:
			c.yes = true;
			break;
		case OPT_SKIP_INVALID:
			c.skip_invalid = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			rts_print_version(stdout, "rtsctl", RTS_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* modules are only loaded on the real configfs */
	if (c.backend != BACKEND_REAL || (c.root && strcmp(c.root, RTS_DEFAULT_ROOT) != 0))
		c.load_modules = false;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(verbs[i].name, argv[optind]) != 0)
			continue;
		ret = verbs[i].no_ctx ? EXIT_OK : open_ctx(&c);
		if (ret != EXIT_OK)
			return ret;
		ret = verbs[i].fn(&c, argc - optind - 1, argv + optind + 1);
		rts_ctx_unref(c.ctx);
		fflush(stdout);
		if (ferror(stdout) && ret == EXIT_OK)
			ret = EXIT_FAIL;
		return ret;
	}
	errorf("unknown verb '%s'", argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
