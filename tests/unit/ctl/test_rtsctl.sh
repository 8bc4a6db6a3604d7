#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rtsctl CLI behaviour on the emulated backend: every verb, exit codes, error messages,
# invalid files leave the tree untouched, save/clear/restore round trip, concurrent writers.
# Usage: test_rtsctl.sh /path/to/rtsctl [verbs|concurrency|all]
set -u
RTSCTL=${1:?usage: $0 RTSCTL [verbs|concurrency|all]}
PART=${2:-all}
SRC=${RTS_TEST_SRCDIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
base=/dev/shm
[ -w "$base" ] || base=/tmp
W=$(mktemp -d "$base/rtsctl-cli-XXXXXX")
trap 'rm -rf "$W"' EXIT
R=$W/root
F=$W/files
mkdir -p "$R" "$F"
fails=0
n=0

r() { "$RTSCTL" --backend emulate --root "$R" "$@"; }

# expect CODE CMD...: run, compare the exit code
expect() {
	local want=$1
	shift
	n=$((n + 1))
	"$@" >"$W/out" 2>"$W/err"
	local got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL: '$*' exited $got, expected $want"
		sed 's/^/  stdout: /' "$W/out" | head -20
		sed 's/^/  stderr: /' "$W/err" | head -20
		fails=$((fails + 1))
	fi
}

# grep_out FILE PATTERN: the last command's stdout/stderr must contain PATTERN
has() {
	n=$((n + 1))
	if ! grep -q -- "$2" "$W/$1"; then
		echo "FAIL: $1 of the last command lacks '$2'"
		sed 's/^/  /' "$W/$1" | head -20
		fails=$((fails + 1))
	fi
}

json_ok() { # the last stdout is JSON with our schema
	n=$((n + 1))
	if ! python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="rtsctl/1", d' "$W/out" 2>"$W/pyerr"; then
		echo "FAIL: stdout is not rtsctl/1 JSON"; head -5 "$W/out"; cat "$W/pyerr"
		fails=$((fails + 1))
	fi
}

IQN=iqn.2003-01.org.example:target1
INI=iqn.1994-05.com.redhat:client1
T=/iscsi/$IQN/tpg1

if [ "$PART" != concurrency ]; then
# ---------------------------------------------------------------- usage (2)
expect 2 "$RTSCTL"
expect 2 "$RTSCTL" frobnicate
has err "unknown verb"
expect 2 "$RTSCTL" --bogus ls
expect 2 r create relative/path
has err "must start with '/'"
expect 2 r create /backstores/fileio/../etc
has err "'.' and '..'"
expect 2 r create /backstores/nosuch/x
expect 2 r create /iscsi/$IQN/tpgX
expect 2 r set /backstores
expect 2 r delete /
expect 2 r get /backstores/ramdisk/x nosuchgroup
expect 2 r save a b
expect 2 r apply
expect 2 "$RTSCTL" --backend emulate ls
has err "needs --root"
expect 0 "$RTSCTL" --help
has out "Exit status"

# ---------------------------------------------------------------- create / ls / get / set
expect 0 r create /backstores/fileio/disk1 file="$F/disk1.img" size=1M
has out "/backstores/fileio/disk1: created"
expect 1 r create /backstores/fileio/disk1 file="$F/disk1.img" size=1M
has err "/backstores/fileio/disk1: already exists"
expect 0 r --exist-ok create /backstores/fileio/disk1 file="$F/disk1.img" size=1M
expect 1 r create /backstores/fileio/bad file=/nonexistent-dir/sub/x.img size=1M
has err "/backstores/fileio/bad: create failed"
expect 1 r create /backstores/ramdisk/rd0
has err "size= is required"
expect 0 r create /backstores/ramdisk/rd0 size=4M nullio=yes
expect 0 r create /backstores/ramdisk/rd1 size=4M wwn=0a1b2c3d-0000-4000-8000-000000000001
expect 0 r create /backstores/user/u0 cfgstring=file//tmp/u0 size=1G max_data_area_mb=32
expect 0 r create /backstores/fileio/disk1/alua/site_b id=7
expect 0 r create /alua/lu_gps/lug1 id=5
expect 1 r create /alua/lu_gps/lug2 id=0
expect 0 r set /backstores/ramdisk/rd0 property lu_gp=lug1
expect 0 r get /backstores/ramdisk/rd0 property lu_gp
has out "^lu_gp=lug1"
expect 0 r ls /alua/lu_gps
has out "lug1 \[id 5\]"
expect 0 r set /backstores/ramdisk/rd0 property lu_gp=default_lu_gp
expect 0 r delete /alua/lu_gps/lug1
expect 1 r delete /alua/lu_gps/default_lu_gp
has err "/alua/lu_gps/default_lu_gp: delete failed"
expect 1 r create /iscsi/$IQN/tpg1
has err "parent object does not exist"
expect 0 r --no-auto-tpg create /iscsi/$IQN
expect 0 r create $T
expect 0 r create $T/luns/lun0 storage=/backstores/fileio/disk1 alua_tg_pt_gp=site_b
expect 1 r create $T/luns/lun1 storage=/backstores/fileio/nope
has err "does not exist"
expect 0 r create $T/luns/lun1 storage=/backstores/ramdisk/rd0
expect 0 r create $T/portals/0.0.0.0:3260
expect 0 r create "$T/portals/[::1]:3261"
expect 0 r --no-auto-map create $T/acls/$INI tag=grp1 cmdsn_depth=32
expect 1 r create $T/acls/not-a-wwn
has err "acls/not-a-wwn: create failed"
expect 0 r create $T/acls/$INI/mapped_lun0 tpg_lun=0
expect 0 r create $T/acls/$INI/mapped_lun3 tpg_lun=1 write_protect=1
expect 0 r --no-auto-tpg create /loopback/naa.5001405abcdef012
expect 0 r create /loopback/naa.5001405abcdef012/tpg1
expect 0 r create /loopback/naa.5001405abcdef012/tpg1/luns/lun0 storage=/backstores/ramdisk/rd1

# targetcli's automatic tpg1 (enabled), default portal and mapped LUNs, each with an opt-out
A=iqn.2003-01.org.example:auto
expect 0 r create /iscsi/$A
has out "/iscsi/$A/tpg1: created (automatically)"
has out "/iscsi/$A/tpg1/portals/0.0.0.0:3260: created (automatically)"
expect 0 r get /iscsi/$A/tpg1 property enable
has out "^enable=1"
expect 0 r create /iscsi/$A/tpg1/acls/$INI
expect 0 r create /iscsi/$A/tpg1/luns/lun2 storage=/backstores/ramdisk/rd1
has out "/iscsi/$A/tpg1/acls/$INI/mapped_lun2: created (automatically)"
expect 0 r --no-auto-map create /iscsi/$A/tpg1/luns/lun3 storage=/backstores/ramdisk/rd0
expect 0 r create /iscsi/$A/tpg1/acls/iqn.1994-05.com.redhat:client2
has out "acls/iqn.1994-05.com.redhat:client2/mapped_lun2: created (automatically)"
has out "acls/iqn.1994-05.com.redhat:client2/mapped_lun3: created (automatically)"
expect 0 r ls /iscsi/$A/tpg1/acls/$INI
has out "mapped_lun2 \[lun2 rw\]"
n=$((n + 1)); ! grep -q "mapped_lun3" "$W/out" || { echo "FAIL: --no-auto-map mapped lun3"; fails=$((fails + 1)); }
expect 0 r --no-auto-portal create /iscsi/$A-2
expect 0 r ls /iscsi/$A-2/tpg1/portals
n=$((n + 1)); ! grep -q "3260" "$W/out" || { echo "FAIL: --no-auto-portal added a portal"; fails=$((fails + 1)); }
expect 0 r --no-auto-tpg create /iscsi/$A-3
expect 1 r ls /iscsi/$A-3/tpg1
expect 0 r delete /iscsi/$A
expect 0 r delete /iscsi/$A-2
expect 0 r delete /iscsi/$A-3

expect 0 r ls
has out "o- disk1"
has out "o- mapped_lun3 \[lun1 ro\]"
# "activated" as targetcli says it: exported by a LUN, not merely enabled
has out "o- disk1 \[.* activated, [1-9][0-9]* LUN(s)\]"
has out "o- rd1 \[(4.0MiB) activated, 1 LUN(s)\]"
has out "o- u0 \[.*(1.0GiB) deactivated, 0 LUN(s)\]"
expect 0 r ls /backstores/ramdisk/rd1
has out "o- rd1 \[(4.0MiB) activated, 1 LUN(s)\]"
expect 0 r ls /backstores/user/u0
has out "o- u0 \[.*(1.0GiB) deactivated, 0 LUN(s)\]"
expect 0 r ls $T/luns
has out "lun0 \[/backstores/fileio/disk1\]"
expect 1 r ls /iscsi/iqn.2003-01.org.example:nosuch
has err "no such object"
expect 0 r --json ls /backstores
json_ok
expect 0 r --depth 1 ls
expect 0 r get $T
has out "attribute:"
has out "  authentication="
expect 0 r get $T attribute authentication
has out "^authentication=0"
# named values are read alone (no directory listing): only those, in the order of the group
expect 0 r get /backstores/fileio/disk1 attribute block_size emulate_tpu
has out "^block_size=512$"
has out "^emulate_tpu=0$"
n=$((n + 1))
[ "$(wc -l < "$W/out")" = 2 ] || { echo "FAIL: get of two named attributes printed: $(cat "$W/out")"; fails=$((fails + 1)); }
expect 1 r get /backstores/fileio/disk1 attribute block_size nosuch
has err "no attribute 'nosuch'"
has out "^block_size=512$"
expect 1 r get /backstores/fileio/disk1 attribute ../enable
has err "no attribute '../enable'"
expect 1 r get /backstores/fileio/disk1 attribute alua
has err "no attribute 'alua'"
expect 0 r --json get /backstores/fileio/disk1 property
json_ok
has out '"plugin": "fileio"'
expect 1 r get /backstores/fileio/nosuch
has err "no such object"
expect 0 r set $T attribute authentication=1 generate_node_acls=1
expect 0 r get $T attribute authentication
has out "authentication=1"
expect 2 r set $T attribute nosuchattr=1
has err "no attribute 'nosuchattr' on $T (valid: authentication, "
expect 0 r set $T property enable=1
expect 0 r set $T/acls/$INI/mapped_lun0 property write_protect=1
expect 0 r set $T/acls/$INI auth userid=u1 password=p1
expect 0 r set /iscsi discovery_auth enable=1 userid=disc password=dp
expect 0 r get /iscsi discovery_auth
has out "userid=disc"
expect 0 r set /loopback/naa.5001405abcdef012/tpg1 property nexus=naa.5001405abcdef099
expect 2 r set $T property nosuch=1
has err "no property 'nosuch' on $T (valid: enable, nexus)"

# ---------------------------------------------------------------- save / clear / restore
expect 0 r save "$W/s1.json"
has out "Configuration saved to"
n=$((n + 1)); [ "$(stat -c %a "$W/s1.json")" = 600 ] || { echo "FAIL: mode of saved file"; fails=$((fails + 1)); }
expect 0 r save --backup 2 "$W/s1.json"
n=$((n + 1)); [ -f "$W/s1.json.1" ] || { echo "FAIL: no backup"; fails=$((fails + 1)); }
expect 0 r save -
cp "$W/out" "$W/s1-stdout.json"
n=$((n + 1)); cmp -s "$W/s1.json" "$W/s1-stdout.json" || { echo "FAIL: save - differs"; fails=$((fails + 1)); }
expect 0 r validate "$W/s1.json"
expect 0 r apply "$W/s1.json"
has out "Nothing to do"
expect 1 r restore "$W/s1.json"
has err "exists, not restoring"
expect 0 r clear --yes
has out "/iscsi/$IQN: deleted"
expect 0 r --json ls /
json_ok
expect 0 r restore "$W/s1.json"
# progress goes to a terminal only: none in the captured (piped) stderr ...
n=$((n + 1)); ! grep -q '\[[0-9]*/[0-9]*\]' "$W/err" || { echo "FAIL: restore printed progress to a pipe"; fails=$((fails + 1)); }
# ... and "[done/total]" on a pseudo-terminal (script(1)), when available
if command -v script >/dev/null; then
	n=$((n + 1))
	script -qec "$RTSCTL --backend emulate --root '$R' restore --clear-existing '$W/s1.json'" /dev/null >"$W/tty" 2>&1 || true
	grep -q '\[[0-9]*/[0-9]*\]' "$W/tty" || { echo "FAIL: no progress on a terminal"; head -5 "$W/tty"; fails=$((fails + 1)); }
fi
expect 0 r save "$W/s2.json"
n=$((n + 1)); cmp -s "$W/s1.json" "$W/s2.json" || { echo "FAIL: save->clear->restore->save differs"; diff "$W/s1.json" "$W/s2.json" | head; fails=$((fails + 1)); }
expect 0 r -q restore --clear-existing "$W/s1.json"
expect 0 r save "$W/s3.json"
n=$((n + 1)); cmp -s "$W/s1.json" "$W/s3.json" || { echo "FAIL: restore --clear-existing differs"; fails=$((fails + 1)); }

# ---------------------------------------------------------------- invalid files touch nothing
bad() { # name json-text expected-message
	printf '%s' "$2" >"$W/bad-$1.json"
	expect 1 r restore --clear-existing "$W/bad-$1.json"
	has err "$3"
	expect 1 r apply "$W/bad-$1.json"
	expect 0 r save "$W/after.json"
	n=$((n + 1)); cmp -s "$W/s1.json" "$W/after.json" || { echo "FAIL: bad-$1 changed the tree"; fails=$((fails + 1)); }
}
bad malformed '{"targets": [' "malformed JSON at line 1"
bad notobject '[]' "must be an object"
bad dangling '{"storage_objects": [], "targets": [{"fabric": "iscsi", "wwn": "iqn.2003-01.org.example:x", "tpgs": [{"tag": 1, "luns": [{"index": 0, "storage_object": "/backstores/fileio/ghost"}]}]}]}' "targets\[0\].tpgs\[0\].luns\[0\].storage_object: refers to missing storage object"
bad traversal '{"storage_objects": [{"name": "../../etc", "plugin": "ramdisk", "size": 4096}]}' "storage_objects\[0\].name: invalid storage object name"
bad wwn '{"targets": [{"fabric": "iscsi", "wwn": "iqn.nope"}]}' "targets\[0\].wwn: invalid WWN"
bad mlun '{"targets": [{"fabric": "iscsi", "wwn": "iqn.2003-01.org.example:x", "tpgs": [{"tag": 1, "node_acls": [{"node_wwn": "iqn.1994-05.com.redhat:c", "mapped_luns": [{"index": 0, "tpg_lun": 4}]}]}]}]}' "missing TPG LUN 4"
bad dup '{"storage_objects": [{"name": "a", "plugin": "ramdisk", "size": 1}, {"name": "a", "plugin": "rd_mcp", "size": 1}]}' "duplicate storage object"
expect 1 r restore "$W/nonexistent.json"
has err "cannot open"
printf '{"storage_objects": [], "targets": [], "comment": "x"}' >"$W/unknown.json"
expect 0 r validate "$W/unknown.json"
has err "warning: comment: unknown field"
expect 0 r save "$W/unknown.json"
expect 0 grep -q '"comment": "x"' "$W/unknown.json"

# ---------------------------------------------------------------- apply / partial / atomic
python3 - "$W/s1.json" "$W/want.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
tpg = [t for t in d["targets"] if t["fabric"] == "iscsi"][0]["tpgs"][0]
tpg["attributes"]["authentication"] = 0
tpg["node_acls"] = []
d["targets"] = [t for t in d["targets"] if t["fabric"] != "loopback"]
json.dump(d, open(sys.argv[2], "w"))
EOF
expect 0 r apply --dry-run "$W/want.json"
has out "^/loopback/naa.5001405abcdef012 delete$"
has out "^$T/acls/$INI delete$"
has out "^$T set attribute authentication=0 (was 1)$"
n=$((n + 1)); [ "$(wc -l <"$W/out")" = 3 ] || { echo "FAIL: plan is not minimal"; cat "$W/out"; fails=$((fails + 1)); }
expect 0 r --json apply --dry-run "$W/want.json"
json_ok
expect 0 r save "$W/after.json"
n=$((n + 1)); cmp -s "$W/s1.json" "$W/after.json" || { echo "FAIL: dry run changed the tree"; fails=$((fails + 1)); }
expect 0 r apply "$W/want.json"
expect 0 r apply "$W/want.json"
has out "Nothing to do"
cat >"$W/partial.json" <<EOF
{"storage_objects": [{"name": "ok", "plugin": "ramdisk", "size": 4096},
  {"name": "broken", "plugin": "fileio", "dev": "/nonexistent-dir/x/y.img", "size": 4096}],
 "targets": [{"fabric": "iscsi", "wwn": "iqn.2003-01.org.example:p", "tpgs": [{"tag": 1,
  "luns": [{"index": 0, "storage_object": "/backstores/ramdisk/ok"},
           {"index": 1, "storage_object": "/backstores/fileio/broken"}]}]}]}
EOF
expect 1 r restore --atomic --clear-existing "$W/partial.json"
has err "clearing a ramdisk loses its data"
has err "directory /nonexistent-dir/x of backing file /nonexistent-dir/x/y.img does not exist"
has err "restore refused (--atomic)"
expect 0 r --json ls /backstores/ramdisk
has out '"name": "rd1"'
expect 0 r clear --yes
expect 1 r restore --atomic "$W/partial.json"
has err "nothing changed"
expect 0 r --json ls /backstores/ramdisk
has out '"children": \[\]'
expect 3 r restore "$W/partial.json"
has err "/backstores/fileio/broken: create failed"
has err "restored partially"
expect 0 r delete /iscsi/iqn.2003-01.org.example:p
expect 1 r delete /iscsi/iqn.2003-01.org.example:p
has err "no such object"
expect 0 r --missing-ok delete /iscsi/iqn.2003-01.org.example:p
expect 0 r delete /backstores/ramdisk/ok
expect 0 r clear --yes

# ---------------------------------------------------------------- issue #18: never lose configuration
# setup: an exported fileio and ramdisk, an ACL with CHAP and a mapped LUN
I=iqn.2003-01.org.example:n18
T18=/iscsi/$I/tpg1
expect 0 r create /backstores/fileio/d18 file="$F/d18.img" size=1M
expect 0 r create /backstores/ramdisk/r18 size=1M nullio=1
expect 0 r --no-auto-tpg create /iscsi/$I
expect 0 r create $T18
expect 0 r create $T18/luns/lun0 storage=/backstores/fileio/d18
expect 0 r create $T18/luns/lun1 storage=/backstores/ramdisk/r18
expect 0 r --no-auto-map create $T18/acls/$INI
expect 0 r create $T18/acls/$INI/mapped_lun0 tpg_lun=0
expect 0 r set $T18/acls/$INI auth userid=u1 password=p1
expect 0 r save "$W/n18.json"
same18() { # the live configuration equals n18.json
	expect 0 r save "$W/n18-after.json"
	n=$((n + 1)); cmp -s "$W/n18.json" "$W/n18-after.json" || { echo "FAIL: $1 changed the configuration"; diff "$W/n18.json" "$W/n18-after.json" | head; fails=$((fails + 1)); }
}
# item 1: ACL removed + lun0 moved + a failing setting: --atomic puts everything back
python3 - "$W/n18.json" "$W/n18-atomic.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
tpg = d["targets"][0]["tpgs"][0]
tpg["node_acls"] = []
tpg["luns"][0]["storage_object"] = "/backstores/ramdisk/r18"
for so in d["storage_objects"]:
    if so["name"] == "r18":
        so["attributes"]["no_such_attribute"] = 1
json.dump(d, open(sys.argv[2], "w"))
PY
expect 1 r apply --atomic "$W/n18-atomic.json"
has out "luns/lun0 delete (storage object changed): done"
has out "set attribute no_such_attribute=1: failed"
has err "rolled back: the configuration is as it was before"
same18 "apply --atomic"
# item 2: a recreate in a missing directory is refused before anything is deleted
python3 - "$W/n18.json" "$W/n18-recreate.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for so in d["storage_objects"]:
    if so["name"] == "d18":
        so["dev"] = "/nonexistent-dir/sub/d18.img"
json.dump(d, open(sys.argv[2], "w"))
PY
expect 1 r apply --dry-run --recreate "$W/n18-recreate.json"
has out "/backstores/fileio/d18 create \[pre-check: directory /nonexistent-dir/sub"
expect 1 r apply --recreate "$W/n18-recreate.json"
has err "plan refused"
same18 "apply of a failing recreate"
expect 1 r apply "$W/n18-recreate.json"
has err "exported by 1 LUN(s)"
has err "use --recreate"
expect 1 r --json apply --recreate "$W/n18-recreate.json"
json_ok
has out '"result": "skipped"'
has out '"problem": "directory /nonexistent-dir/sub'
same18 "--json apply"
# item 3: what create writes, restore reads back
expect 2 r create $T18/luns/lun99999 storage=/backstores/ramdisk/r18
has err "LUN index 99999 out of range 0..65535"
expect 0 r --no-auto-map create $T18/luns/lun65535 storage=/backstores/ramdisk/r18
expect 0 r create $T18/acls/$INI/mapped_lun300 tpg_lun=65535
has err "targetcli cannot restore mapped LUNs above 255"
expect 0 r save "$W/n18-limits.json"
expect 0 r validate "$W/n18-limits.json"
has err "mapped_luns\[1\]: mapped LUN index above 255"
expect 0 r restore --clear-existing "$W/n18-limits.json"
expect 0 r apply "$W/n18-limits.json"
has out "Nothing to do"
expect 0 r delete $T18/luns/lun65535
# #16: restore X; apply X plans nothing, apply X twice: the second does nothing
for plugin in ramdisk fileio; do
	expect 0 r -q clear --yes
	python3 "$SRC/bench/vm/gen-saveconfig.py" --plugin $plugin --acls per-lun 3 |
		sed "s#/tmp/bench-fileio/#$F/gen-#" >"$W/gen-$plugin.json"
	expect 0 r restore "$W/gen-$plugin.json"
	expect 0 r apply --dry-run "$W/gen-$plugin.json"
	has out "Nothing to do"
	expect 0 r apply "$W/gen-$plugin.json"
	has out "Nothing to do"
done
expect 0 r -q clear --yes
expect 0 r restore "$W/n18.json"
# item 3: a file with one bad object: refused whole by default, the rest with --skip-invalid
expect 0 r -q clear --yes
printf '{"storage_objects": [{"name": "good", "plugin": "ramdisk", "size": 4096}, {"name": "bad", "plugin": "ramdisk", "size": 4096, "attributes": {"block_size": 513}}], "targets": [{"fabric": "iscsi", "wwn": "%s", "tpgs": [{"tag": 1, "luns": [{"index": 0, "storage_object": "/backstores/ramdisk/good"}, {"index": 1, "storage_object": "/backstores/ramdisk/bad"}]}]}]}' "$I" >"$W/onebad.json"
expect 1 r restore "$W/onebad.json"
has err "nothing changed"
expect 3 r restore --skip-invalid "$W/onebad.json"
has err "storage_objects\[1\].attributes.block_size: skipped: 513: must be one of"
has err "luns\[1\].storage_object: skipped: refers to missing storage object"
has err "2 invalid object(s) skipped"
expect 0 r ls $T18/luns
has out "lun0 \[/backstores/ramdisk/good\]"
expect 0 r -q clear --yes
expect 0 r restore "$W/n18.json"
# item 4: validate knows the kernel's domains
python3 - "$W/n18.json" "$W/n18-domain.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for so in d["storage_objects"]:
    so["attributes"]["block_size"] = 513
d["targets"][0]["tpgs"][0]["attributes"]["login_timeout"] = 99
json.dump(d, open(sys.argv[2], "w"))
PY
expect 1 r validate "$W/n18-domain.json"
has err "attributes.block_size: 513: must be one of 512, 1024, 2048, 4096"
has err "attributes.login_timeout: 99: out of range 5..30"
# item 5: typos are usage errors, nothing written
expect 2 r create /backstores/fileio/typo file="$F/typo.img" size=1M writeback=1
has err "unknown key 'writeback' (valid: file, dev, size, write_back, sparse, wwn)"
n=$((n + 1)); [ ! -e "$F/typo.img" ] || { echo "FAIL: typo created a backing file"; fails=$((fails + 1)); }
expect 2 r set $T18/acls/$INI auth userid=X bogus=1
has err "no auth 'bogus' on $T18/acls/$INI (valid: password, password_mutual, userid, userid_mutual)"
same18 "set with a typo"
expect 2 r set /backstores/ramdisk/r18 attribute emulate_tpu=1 block_size=513
has err "block_size=513: must be one of 512, 1024, 2048, 4096"
same18 "set with a bad value"
# item 7: fields are named, both CHAP spellings accepted
expect 2 r set /backstores/ramdisk/r18 attribute nonexistent=1
has err "no attribute 'nonexistent' on /backstores/ramdisk/r18 (valid: alua_support, block_size"
expect 1 r set /backstores/fileio/d18 attribute block_size=4096
has err "in use by 1 LUN(s)"
expect 0 r set $T18/acls/$INI auth mutual_userid=m1 mutual_password=mp1
has out "auth userid_mutual=m1"
expect 0 r set /iscsi discovery_auth userid_mutual=dm
has out "discovery_auth mutual_userid=dm"
expect 0 "$RTSCTL" --help
n=$((n + 1)); ! grep -q "discovery_auth, alua" "$W/out" || { echo "FAIL: --help lists a set group alua"; fails=$((fails + 1)); }
# item 6: clear asks (--yes without a terminal), delete says what it takes with it
expect 2 r clear
has err "confirm with --yes"
expect 0 r --json ls /iscsi
has out "$I"
expect 0 r create /backstores/ramdisk/gone size=1M
expect 0 r --no-auto-map create $T18/luns/lun7 storage=/backstores/ramdisk/gone
expect 0 r create $T18/acls/$INI/mapped_lun7 tpg_lun=7
expect 0 r delete /backstores/ramdisk/gone
has out "deleted, with 1 LUN(s) and their mapped LUNs:"
has out "  $T18/luns/lun7"
has out "  $T18/acls/$INI/mapped_lun7"
expect 0 r create /backstores/fileio/share file="$F/d18.img" size=4M
has err "d18.img exists, using its size 1048576 (size=4194304 ignored)"
has err "also the backing file of /backstores/fileio/d18 (exported)"
n=$((n + 1)); [ "$(stat -c %s "$F/d18.img")" = 1048576 ] || { echo "FAIL: create grew a shared file"; fails=$((fails + 1)); }
expect 0 r delete /backstores/fileio/share
# item 8: rehearsals never touch the host's default file
expect 2 r save
has err "save: give FILE"
expect 2 "$RTSCTL" --backend memory restore
has err "restore: give FILE"
head -c 4096 /dev/zero >"$F/small.img"
printf '{"storage_objects": [{"name": "s", "plugin": "fileio", "dev": "%s", "size": 1048576}]}' "$F/small.img" >"$W/grow.json"
expect 0 "$RTSCTL" --backend memory restore "$W/grow.json"
n=$((n + 1)); [ "$(stat -c %s "$F/small.img")" = 4096 ] || { echo "FAIL: memory restore grew a host file"; fails=$((fails + 1)); }
expect 0 r set /backstores/ramdisk/r18 attribute emulate_tpu=1
expect 0 r save "$W/n18.json"
has out "Previous configuration kept in $W/backup/n18-"
n=$((n + 1)); [ "$(ls "$W/backup" | grep -c "^n18-")" = 1 ] || { echo "FAIL: no backup kept"; fails=$((fails + 1)); }
expect 0 r save "$W/n18.json"
n=$((n + 1)); [ "$(ls "$W/backup" | grep -c "^n18-")" = 1 ] || { echo "FAIL: backup of an identical file"; fails=$((fails + 1)); }
expect 0 r -q clear --yes

# ---------------------------------------------------------------- symlinks never lead out of --root (#16)
# A planted symlink in the tree (absolute, or relative with enough ".."): rtsctl on the real
# backend neither lists, reads, writes nor creates through it; what lies outside is untouched.
S=$W/sroot O=$W/outside
mkdir -p "$S/target" "$O/core/rd_mcp_0/r0" "$O/iscsi/$IQN/tpgt_1"
echo secret >"$O/core/rd_mcp_0/r0/udev_path"
ln -s "$O/core" "$S/target/core"
ln -s "../../outside/iscsi" "$S/target/iscsi"
rs() { "$RTSCTL" --backend real --root "$S" "$@"; }
expect 0 rs ls
n=$((n + 1)); ! grep -q 'r0\|target1' "$W/out" || { echo "FAIL: ls shows what is outside --root"; fails=$((fails + 1)); }
expect 1 rs create /backstores/ramdisk/r1 size=1M
has err "outside\|cross-device"
expect 1 rs create "/iscsi/iqn.2003-01.org.example:t9"
expect 1 rs get /backstores/ramdisk/r0
n=$((n + 1))
if [ -e "$O/core/rd_mcp_0/r1" ] || [ -e "$O/core/rd_mcp_1" ] || [ -e "$O/iscsi/iqn.2003-01.org.example:t9" ] ||
	[ "$(cat "$O/core/rd_mcp_0/r0/udev_path")" != secret ]; then
	echo "FAIL: rtsctl changed something outside --root"; find "$O"; fails=$((fails + 1))
fi

fi

if [ "$PART" != verbs ]; then
# ---------------------------------------------------------------- concurrent writers
# 8 processes x 100 creates each, every one must succeed under the librts flock.
pids=()
for p in 0 1 2 3 4 5 6 7; do
	(
		for i in $(seq 0 99); do
			"$RTSCTL" -q --backend emulate --root "$R" create /backstores/ramdisk/p${p}_$i size=4096 ||
				echo "p${p}_$i failed" >>"$W/conc-fail"
		done
	) &
	pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
n=$((n + 1))
if [ -s "$W/conc-fail" ]; then
	echo "FAIL: concurrent creates failed: $(wc -l <"$W/conc-fail")"; head "$W/conc-fail"
	fails=$((fails + 1))
fi
expect 0 r --json ls /backstores/ramdisk
cnt=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tree"]["children"]))' "$W/out")
n=$((n + 1)); [ "$cnt" = 800 ] || { echo "FAIL: $cnt ramdisks after concurrent creates, expected 800"; fails=$((fails + 1)); }
expect 0 r -q clear --yes
fi

echo "$n checks, $fails failed"
[ "$fails" = 0 ]
