#!/bin/bash
# Scenario: rtsctl never loses configuration on the real kernel (issue #18, destructive cases).
#  1. apply --atomic that deletes an ACL (CHAP + mapped LUN) and replaces a LUN, then fails
#     on a write the kernel refuses: everything is back, save is byte-identical.
#  2. a recreate of an exported fileio backstore into a missing directory is refused before
#     anything is deleted (plain apply and --atomic); without --recreate it is refused too.
#  3. apply --recreate --atomic recreating the exported backstore, then failing: the
#     backstore comes back with its serial, LUN and mapped LUN.
. "$(dirname "$0")/lib.sh"
vm_scenario rtsctl-atomic --timeout 300 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RTSCTL=$BIN/ctl/rtsctl
[ -x "$RTSCTL" ] || die "rtsctl not built at $RTSCTL"
IQN=iqn.2003-01.org.example:atomic
INI=iqn.1994-05.com.redhat:client
T=/iscsi/$IQN/tpg1

same_as_before() { # $1: what ran
	"$RTSCTL" -q save "$OUT/after.json" || die "save"
	check "$1: configuration unchanged (save is byte-identical)" cmp "$OUT/before.json" "$OUT/after.json"
	[ -s "$OUT/after.json" ] && cmp -s "$OUT/before.json" "$OUT/after.json" ||
		diff "$OUT/before.json" "$OUT/after.json" | head -20 | sed 's/^/     /'
}

edit() { # $1 output, python statements on d (the saved configuration)
	python3 - "$OUT/before.json" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
tpg = d["targets"][0]["tpgs"][0]
so = {s["name"]: s for s in d["storage_objects"]}
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"))
PY
}

step "an exported fileio and ramdisk, an ACL with CHAP and a mapped LUN"
truncate -s 16M /tmp/d1.img
check "create fileio" "$RTSCTL" -q create /backstores/fileio/d1 file=/tmp/d1.img
check "create ramdisk" "$RTSCTL" -q create /backstores/ramdisk/rd0 size=16M nullio=1
check "create target" "$RTSCTL" -q --no-auto-tpg create /iscsi/$IQN
check "create tpg" "$RTSCTL" -q create $T
check "create lun0" "$RTSCTL" -q create $T/luns/lun0 storage=/backstores/fileio/d1
check "create lun1" "$RTSCTL" -q create $T/luns/lun1 storage=/backstores/ramdisk/rd0
check "create acl" "$RTSCTL" -q --no-auto-map create $T/acls/$INI
check "create mapped lun" "$RTSCTL" -q create $T/acls/$INI/mapped_lun0 tpg_lun=0
check "set chap" "$RTSCTL" -q set $T/acls/$INI auth userid=u1 password=p1
"$RTSCTL" -q save --backup 0 "$OUT/before.json" || die "save"

step "1. apply --atomic: deletions are undone after a failure the kernel reports"
edit /tmp/atomic.json '
tpg["node_acls"] = []
tpg["luns"][0]["storage_object"] = "/backstores/ramdisk/rd0"
so["rd0"]["attributes"]["no_such_attribute"] = 1'
out=$("$RTSCTL" apply --atomic /tmp/atomic.json 2>&1)
rc=$?
echo "$out" | sed 's/^/     /'
expect "apply --atomic exit status" "$rc" 1
expect_match "the LUN was deleted first" "$out" "luns/lun0 delete \(storage object changed\): done"
expect_match "rollback verified" "$out" "rolled back: the configuration is as it was before"
same_as_before "apply --atomic"
check "mapped LUN back in configfs (its link to lun_0)" \
	sh -c "find '$CF/iscsi/$IQN/tpgt_1/acls/$INI/lun_0' -maxdepth 1 -type l | grep -q ."

step "2. a recreate that would fail is refused before anything is deleted"
edit /tmp/recreate-bad.json 'so["d1"]["dev"] = "/nonexistent-dir/sub/d1.img"'
for mode in "" "--atomic"; do
	out=$("$RTSCTL" apply --recreate $mode /tmp/recreate-bad.json 2>&1)
	rc=$?
	echo "$out" | sed 's/^/     /'
	expect "apply --recreate $mode exit status" "$rc" 1
	expect_match "pre-check names the directory" "$out" "directory /nonexistent-dir/sub of backing file"
	same_as_before "apply --recreate $mode of a bad recreate"
done
out=$("$RTSCTL" apply /tmp/recreate-bad.json 2>&1)
expect "apply without --recreate exit status" "$?" 1
expect_match "an exported object needs --recreate" "$out" "use --recreate"

step "3. apply --recreate --atomic: the recreated exported backstore comes back"
truncate -s 16M /tmp/d2.img
edit /tmp/recreate-fail.json '
so["d1"]["dev"] = "/tmp/d2.img"
so["rd0"]["attributes"]["no_such_attribute"] = 1'
out=$("$RTSCTL" apply --recreate --atomic /tmp/recreate-fail.json 2>&1)
rc=$?
echo "$out" | sed 's/^/     /'
expect "apply --recreate --atomic exit status" "$rc" 1
expect_match "d1 was deleted and made again" "$out" "/backstores/fileio/d1 create: done"
expect_match "rollback verified" "$out" "rolled back: the configuration is as it was before"
same_as_before "apply --recreate --atomic"

step "clear"
check "rtsctl clear --yes" "$RTSCTL" -q clear --yes
vm_finish
