#!/bin/bash
# Scenario: targetcli/targetctl (python3-rtslib-fb, the peer rtsctl is compared with) build a
# representative configuration; its saveconfig output and configfs tree become fixtures, and
# `targetctl clear` + `targetctl restore` of it must reproduce the same saveconfig.
#
#   tests/vm/targetcli-peer.sh     (on the host: boots a guest; see tests/vm/README.md)
#
# Output in $OUT: saveconfig/targetcli-full.json (targetcli saveconfig), saveconfig/after-restore.json,
# configfs/targetcli-full.txt (capture of the tree targetcli built), timings.txt.
. "$(dirname "$0")/lib.sh"
vm_scenario targetcli-peer --timeout 840 "$@"

IQN=iqn.2003-01.org.linux-iscsi.rtslib-c:targetcli
DEMO=iqn.2003-01.org.linux-iscsi.rtslib-c:demo
INIT=iqn.1994-05.com.example:client1
LOOP=naa.5001405000000aa1
rm -rf "$OUT/saveconfig" "$OUT/configfs"
mkdir -p "$OUT/saveconfig" "$OUT/configfs"
: > "$OUT/timings.txt"

step "peers: dbus + $RUNNER (for user: backstores), backing files"
start_dbus
start_runner
truncate -s 64M /tmp/file1.img
truncate -s 32M /tmp/block1.img
LOOPDEV=$(losetup -f --show /tmp/block1.img) || die "losetup"
qemu-img create -q -f qcow2 -o compat=0.10 /tmp/qcow1.qcow2 16M || die "qemu-img create"
user_qcow=1
# (not `targetcli ls | grep -q`: with pipefail, grep -q quitting early fails the pipeline by SIGPIPE)
backstores=$(targetcli ls /backstores 2>&1)
if ! grep -q 'user:qcow' <<< "$backstores"; then
	bad "user:qcow backstore: targetcli does not list user:qcow (is $RUNNER on D-Bus?)"
	user_qcow=0
fi

step "targetcli builds the configuration (one targetcli process, tests/vm/targetcli-batch.py)"
{
	echo "set global color_mode=false auto_save_on_exit=false auto_add_default_portal=false auto_add_mapped_luns=false"
	echo "/backstores/fileio create name=file1 file_or_dev=/tmp/file1.img size=64M write_back=false wwn=4f1e0001-aaaa-4bbb-8ccc-000000000001"
	echo "/backstores/fileio/file1 set attribute emulate_tpu=1 emulate_3pc=1"
	echo "/backstores/fileio/file1/alua create name=tg1 tag=2"
	echo "/backstores/block create name=block1 dev=$LOOPDEV wwn=4f1e0001-aaaa-4bbb-8ccc-000000000002"
	echo "/backstores/ramdisk create name=rd1 size=16M wwn=4f1e0001-aaaa-4bbb-8ccc-000000000003"
	echo "/backstores/ramdisk create name=null1 size=16M nullio=true wwn=4f1e0001-aaaa-4bbb-8ccc-000000000004"
	[ $user_qcow = 1 ] &&
		echo "/backstores/user:qcow create name=qcow1 size=16M cfgstring=/tmp/qcow1.qcow2 wwn=4f1e0001-aaaa-4bbb-8ccc-000000000005"
	echo "/iscsi create $IQN"
	echo "/iscsi/$IQN/tpg1/portals create 127.0.0.1 3260"
	echo "/iscsi/$IQN/tpg1/portals create ::1 3260"
	echo "/iscsi/$IQN/tpg1/luns create /backstores/fileio/file1"
	echo "/iscsi/$IQN/tpg1/luns create /backstores/block/block1"
	echo "/iscsi/$IQN/tpg1/luns create /backstores/ramdisk/rd1"
	echo "/iscsi/$IQN/tpg1/luns create /backstores/ramdisk/null1"
	[ $user_qcow = 1 ] && echo "/iscsi/$IQN/tpg1/luns create /backstores/user:qcow/qcow1"
	echo "/iscsi/$IQN/tpg1/acls create $INIT"
	echo "/iscsi/$IQN/tpg1/acls/$INIT create mapped_lun=0 tpg_lun_or_backstore=0"
	echo "/iscsi/$IQN/tpg1/acls/$INIT create mapped_lun=1 tpg_lun_or_backstore=2 write_protect=1"
	echo "/iscsi/$IQN/tpg1/acls/$INIT set auth userid=client1 password=client1secret mutual_userid=target1 mutual_password=target1secret"
	echo "/iscsi/$IQN/tpg1/acls/$INIT set attribute dataout_timeout=5"
	echo "/iscsi/$IQN/tpg1 set attribute authentication=1 generate_node_acls=0 default_cmdsn_depth=64"
	echo "/iscsi/$IQN/tpg1 set parameter MaxRecvDataSegmentLength=65536 HeaderDigest=CRC32C,None"
	echo "/iscsi create $DEMO"
	echo "/iscsi/$DEMO/tpg1/luns create /backstores/ramdisk/rd1"
	echo "/iscsi/$DEMO/tpg1 set attribute generate_node_acls=1 demo_mode_write_protect=0 authentication=0 cache_dynamic_acls=1"
	echo "/iscsi set discovery_auth enable=1 userid=disc password=discsecret1 mutual_userid=discmut mutual_password=discmutsecret1"
	echo "/loopback create $LOOP"
	echo "/loopback/$LOOP/luns create /backstores/ramdisk/rd1"
} > "$OUT/targetcli-commands.txt"
timed t_build python3 "$VM_TESTS/targetcli-batch.py" < "$OUT/targetcli-commands.txt" || die "targetcli batch failed"
echo "targetcli build (one process, $(grep -c . "$OUT/targetcli-commands.txt") commands): ${t_build}s" | tee -a "$OUT/timings.txt"
timed t targetcli ls / || bad "targetcli ls / failed"
echo "targetcli ls /: ${t}s" | tee -a "$OUT/timings.txt"

step "saveconfig and the configfs tree it describes"
timed t targetcli saveconfig "$OUT/saveconfig/targetcli-full.json" || die "targetcli saveconfig failed"
echo "targetcli saveconfig: ${t}s" | tee -a "$OUT/timings.txt"
capture targetcli-full
S=$OUT/saveconfig/targetcli-full.json
jq() { python3 -c "import json,sys; d=json.load(open('$S')); print($1)"; }
expect "storage objects in saveconfig" "$(jq "len(d['storage_objects'])")" $((4 + user_qcow))
expect "plugins" "$(jq "' '.join(sorted({s['plugin'] for s in d['storage_objects']}))")" \
	"block fileio ramdisk$([ $user_qcow = 1 ] && echo ' user')"
expect "targets (2 iscsi + 1 loopback)" "$(jq "len(d['targets'])")" 3
expect "portals of $IQN" "$(jq "sorted(p['ip_address'] for t in d['targets'] if t['wwn']=='$IQN' for p in t['tpgs'][0]['portals'])")" \
	"['127.0.0.1', '[::1]']"
expect "mapped LUNs of $INIT" "$(jq "[(m['index'], m['tpg_lun'], m['write_protect']) for t in d['targets'] if t['wwn']=='$IQN' for a in t['tpgs'][0]['node_acls'] for m in sorted(a['mapped_luns'], key=lambda m: m['index'])]")" \
	"[(0, 0, False), (1, 2, True)]"
expect "CHAP of $INIT" "$(jq "[(a['chap_userid'], a['chap_mutual_userid']) for t in d['targets'] if t['wwn']=='$IQN' for a in t['tpgs'][0]['node_acls']]")" \
	"[('client1', 'target1')]"
# rtslib does not save the loopback nexus; restore creates a new random naa. initiator WWN
expect "loopback nexus (not saved by rtslib)" "$(jq "[t['tpgs'][0].get('nexus', 'none') for t in d['targets'] if t['fabric']=='loopback']")" "['none']"
expect "discovery auth" "$(jq "[(f['discovery_enable_auth'], f['discovery_userid']) for f in d['fabric_modules'] if f['name']=='iscsi']")" \
	"[(True, 'disc')]"
check "file is mode 0600" test "$(stat -c %a "$S")" = 600
targetctl save "$OUT/saveconfig/targetctl-save.json" || die "targetctl save failed"
check "targetctl save == targetcli saveconfig" saveconfig_equal "$S" "$OUT/saveconfig/targetctl-save.json"

step "targetctl clear + restore reproduces the saveconfig"
timed t targetctl clear || die "targetctl clear failed"
echo "targetctl clear (full config): ${t}s" | tee -a "$OUT/timings.txt"
check "no storage objects left" sh -c "! ls -d $CF/core/*_*/*/ 2>/dev/null | grep -v '/alua/$'"
check "no targets left" sh -c "! ls $CF/iscsi/ $CF/loopback/ 2>/dev/null | grep -E '^(iqn|naa)'"
timed t targetctl restore "$S" || bad "targetctl restore returned an error"
echo "targetctl restore (full config): ${t}s" | tee -a "$OUT/timings.txt"
targetctl save "$OUT/saveconfig/after-restore.json" || die "targetctl save after restore failed"
check "saveconfig after clear+restore == original" saveconfig_equal "$S" "$OUT/saveconfig/after-restore.json"
capture targetcli-after-restore
# restore allocates HBA indexes in its own order (fileio_0 may come back as fileio_4) and a new
# loopback nexus; statistics (instance numbers) and group member lists (order of creation)
# differ by nature. `info` shows "Max Queue Depth: 0" after targetcli but 128 after restore:
# restore writes attrib/queue_depth (same value), which also sets the device's queue depth.
tree_norm() {
	grep -v -e '^#' -e '/statistics/' -e '/fabric_statistics/' -e '/hba_info ' -e '/nexus ' -e '/members ' "$1" |
		sed -E -e 's#(fileio|iblock|rd_mcp|user|pscsi)_[0-9]+#\1_N#g' -e 's#Max Queue Depth: [0-9]+#Max Queue Depth: X#' |
		LC_ALL=C sort
}
check "configfs tree after restore == tree targetcli built (modulo HBA index, nexus, statistics)" diff \
	<(tree_norm "$OUT/configfs/targetcli-full.txt") <(tree_norm "$OUT/configfs/targetcli-after-restore.txt")
expect_match "restored loopback nexus" "$(cat $CF/loopback/$LOOP/tpgt_1/nexus)" "^naa\.[0-9a-f]{16}$"

step "cleanup"
timed t targetctl clear
check "targetctl clear" test $? -eq 0
stop_runner
losetup -d "$LOOPDEV"
vm_finish
