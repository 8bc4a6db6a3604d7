#!/bin/bash
# Scenario: rtsctl and targetcli/targetctl exchange saveconfig.json on the real kernel.
#  1. rtsctl restores the file targetcli itself saved (tests/fixtures/saveconfig/
#     targetcli-full.json: every backstore plugin, iSCSI with portals/ACLs/mapped LUNs/CHAP,
#     loopback) into an empty LIO; rtsctl save gives the same configuration back.
#  2. targetctl restores rtsctl's file; targetctl save gives the same configuration again.
#  3. rtsctl apply of the same file is a no-op; rtsctl clear empties LIO.
#  4. a file with a dangling reference is refused before anything is touched (exit 1).
. "$(dirname "$0")/lib.sh"
vm_scenario rtsctl-peer --timeout 600 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RTSCTL=$BIN/ctl/rtsctl
FIX=$VM_REPO/tests/fixtures/saveconfig/targetcli-full.json
[ -x "$RTSCTL" ] || die "rtsctl not built at $RTSCTL"

step "backing stores the fixture names (as tests/vm/targetcli-peer.sh made them)"
truncate -s 64M /tmp/file1.img
truncate -s 32M /tmp/block1.img
LOOPDEV=$(losetup -f --show /tmp/block1.img) || die "losetup"
[ "$LOOPDEV" = /dev/loop0 ] || die "the fixture names /dev/loop0, got $LOOPDEV"
qemu-img create -q -f qcow2 -o compat=0.10 /tmp/qcow1.qcow2 16M || die "qemu-img create"
mkdir -p /etc/target

step "rtsctl restore of targetcli's own saveconfig.json"
timed t "$RTSCTL" restore "$FIX" > "$OUT/rtsctl-restore.log" 2>&1
rc=$?
cat "$OUT/rtsctl-restore.log" | sed 's/^/     /'
expect "rtsctl restore exit status" "$rc" 0
echo "     rtsctl restore: ${t}s"
check "iSCSI LUNs exist" sh -c "ls -d $CF/iscsi/*/tpgt_1/lun/lun_* >/dev/null"
check "rtsctl ls" "$RTSCTL" ls
"$RTSCTL" ls > "$OUT/rtsctl-ls.txt" 2>&1
timed t "$RTSCTL" save "$OUT/rtsctl-save.json"
expect "rtsctl save exit status" "$?" 0
echo "     rtsctl save: ${t}s"
check "rtsctl's save == targetcli's file (same configuration)" \
	saveconfig_equal "$FIX" "$OUT/rtsctl-save.json" --except-ext
# the extension fields rtsctl adds hold the kernel's values (targetcli's file has none)
check "rtsctl's extension fields: ACL tcq_depth 64, loopback nexus" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
acls = [a for t in d["targets"] for g in t["tpgs"] for a in g["node_acls"]]
assert acls and all(a.get("tcq_depth") == 64 for a in acls), acls
lo = [g for t in d["targets"] if t["fabric"] == "loopback" for g in t["tpgs"]]
assert lo and all(g.get("rtslib_c", {}).get("nexus", "").startswith("naa.") for g in lo), lo
' "$OUT/rtsctl-save.json"
expect "saved file mode" "$(stat -c %a "$OUT/rtsctl-save.json")" 600

step "rtsctl apply of the same file changes nothing"
plan=$("$RTSCTL" apply --dry-run "$FIX" 2>&1)
echo "$plan" | sed 's/^/     /'
expect_match "apply --dry-run plan" "$plan" "Nothing to do"

step "targetctl restores rtsctl's file"
check "targetctl clear" targetctl clear
check "LIO empty after targetctl clear" sh -c "! ls -d $CF/iscsi/iqn.* >/dev/null 2>&1"
timed t targetctl restore "$OUT/rtsctl-save.json" > "$OUT/targetctl-restore.log" 2>&1
expect "targetctl restore exit status" "$?" 0
echo "     targetctl restore: ${t}s"
timed t targetctl save "$OUT/targetctl-save.json" > /dev/null 2>&1
check "targetctl's save == rtsctl's file" \
	saveconfig_equal "$OUT/rtsctl-save.json" "$OUT/targetctl-save.json" --except-ext

step "rtsctl clear"
timed t "$RTSCTL" clear --yes
expect "rtsctl clear exit status" "$?" 0
echo "     rtsctl clear: ${t}s"
check "no backstores left" sh -c "[ -z \"\$(ls $CF/core | grep -v alua)\" ]"

step "a bad file is refused whole, nothing touched"
python3 - "$FIX" > /tmp/dangling.json <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["targets"][0]["tpgs"][0]["luns"][0]["storage_object"] = "/backstores/fileio/nonexistent"
print(json.dumps(d))
PY
out=$("$RTSCTL" restore /tmp/dangling.json 2>&1)
rc=$?
echo "$out" | sed 's/^/     /'
expect "exit status for a dangling reference" "$rc" 1
expect_match "error names the object" "$out" "storage_object"
check "nothing was created" sh -c "[ -z \"\$(ls $CF/core | grep -v alua)\" ]"
losetup -d "$LOOPDEV"
vm_finish
