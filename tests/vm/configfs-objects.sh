#!/bin/bash
# Scenario: every LIO configfs object type this kernel has modules for, created with plain
# mkdir/echo/ln, read back, captured as fixtures for librts' in-memory configfs backend, torn down.
#
#   tests/vm/configfs-objects.sh        (on the host: boots a guest; see tests/vm/README.md)
#
# Captures in $OUT/configfs/ (scripts/vm/update-fixtures.sh copies them to tests/fixtures/configfs/):
#   fresh-after-modprobe.txt       the whole tree right after the modules are loaded
#   after-mkdir/<kind>.txt         the subtree of one new directory of each kind, i.e. what the
#                                  kernel auto-creates for it
#   after-enable/<plugin>.txt      each storage object after control + enable
#   full-config.txt                everything below configured at once
#   after-teardown.txt             the tree after removing it all again
#   semantics.txt                  errno of operations the emulation must reproduce
. "$(dirname "$0")/lib.sh"
vm_scenario configfs-objects --timeout 600 "$@"

IQN=iqn.2003-01.org.linux-iscsi.rtslib-c:vm-t1
INIT=iqn.1994-05.com.example:client1
LOOP=naa.5001405000000001
LOOP_I=naa.5001405000000002
VHOST=naa.5001405000000011
VHOST_I=naa.5001405000000012
SBP=0011223344556677
T=$CF/iscsi/$IQN/tpgt_1

# set_rb <path> <value> [<expected readback>]
set_rb() {
	cfs_set "$1" "$2"
	readback "$1" "${3-$2}"
}

# semantics log: try <description> <command...>; record "ok" or the errno text
sem() {
	local desc=$1 err
	shift
	if err=$("$@" 2>&1); then
		echo "$desc -> ok" >> "$OUT/configfs/semantics.txt"
	else
		echo "$desc -> ${err##*: }" >> "$OUT/configfs/semantics.txt"
	fi
	echo "     $desc -> $(tail -1 "$OUT/configfs/semantics.txt" | sed 's/.* -> //')"
}

step "fresh tree after modprobe"
rm -rf "$OUT/configfs"
mkdir -p "$OUT/configfs"
: > "$OUT/configfs/semantics.txt"
check "configfs mounted" mountpoint -q /sys/kernel/config
expect_match "target version" "$(cat $CF/version)" "^Target Engine Core ConfigFS Infrastructure v[0-9.]+ on Linux/x86_64 on $(uname -r)$"
readback $CF/dbroot /etc/target
capture fresh-after-modprobe

step "storage objects: fileio (file on tmpfs)"
truncate -s 64M /tmp/f1.img
mkdir $CF/core/fileio_0/f1 2>/dev/null || mkdir -p $CF/core/fileio_0/f1 || die "mkdir fileio"
capture after-mkdir/fileio core/fileio_0
cfs_set $CF/core/fileio_0/f1/control "fd_dev_name=/tmp/f1.img,fd_dev_size=67108864,fd_buffered_io=1"
set_rb $CF/core/fileio_0/f1/wwn/vpd_unit_serial 1f9a3b5c-0001-4a6e-9c1d-rtslibc00001 \
	"T10 VPD Unit Serial Number: 1f9a3b5c-0001-4a6e-9c1d-rtslibc00001"
cfs_set $CF/core/fileio_0/f1/enable 1
readback $CF/core/fileio_0/f1/enable 1
readback $CF/core/fileio_0/f1/udev_path ""
expect_match "fileio info" "$(cat $CF/core/fileio_0/f1/info)" "File: /tmp/f1.img +Size: 67108864 +Mode: Buffered-WCE"
set_rb $CF/core/fileio_0/f1/attrib/emulate_tpu 1
set_rb $CF/core/fileio_0/f1/attrib/emulate_3pc 1
readback $CF/core/fileio_0/f1/attrib/block_size 512
capture after-enable/fileio core/fileio_0
sem "write enable=1 to an enabled fileio" cfs_try $CF/core/fileio_0/f1/enable 1
sem "write enable=0 to an enabled fileio" cfs_try $CF/core/fileio_0/f1/enable 0
sem "write control to an enabled fileio (fd_dev_size=1048576)" cfs_try $CF/core/fileio_0/f1/control fd_dev_size=1048576
sem "write attrib/block_size=4096 before export" cfs_try $CF/core/fileio_0/f1/attrib/block_size 4096
cfs_set $CF/core/fileio_0/f1/attrib/block_size 512
sem "mkdir core/fileio_0/f1 again" mkdir $CF/core/fileio_0/f1
sem "mkdir core/bogus_0 (unknown plugin)" mkdir $CF/core/bogus_0
sem "mkdir core/fileio (HBA without _N)" mkdir $CF/core/fileio
sem "create a regular file in core/fileio_0/f1" touch $CF/core/fileio_0/f1/newfile
mkdir $CF/core/fileio_0/f0
sem "write enable=1 to a fileio without fd_dev_name" cfs_try $CF/core/fileio_0/f0/enable 1
rmdir $CF/core/fileio_0/f0

step "storage objects: iblock (loop device over a file on tmpfs)"
truncate -s 32M /tmp/b1.img
if LOOPDEV=$(losetup -f --show /tmp/b1.img 2>&1); then
	mkdir -p $CF/core/iblock_0/b1
	capture after-mkdir/iblock core/iblock_0
	cfs_set $CF/core/iblock_0/b1/control "udev_path=$LOOPDEV"
	cfs_set $CF/core/iblock_0/b1/udev_path "$LOOPDEV"
	set_rb $CF/core/iblock_0/b1/wwn/vpd_unit_serial 1f9a3b5c-0002-4a6e-9c1d-rtslibc00002 \
		"T10 VPD Unit Serial Number: 1f9a3b5c-0002-4a6e-9c1d-rtslibc00002"
	cfs_set $CF/core/iblock_0/b1/enable 1
	readback $CF/core/iblock_0/b1/udev_path "$LOOPDEV"
	expect_match "iblock info" "$(cat $CF/core/iblock_0/b1/info)" "iBlock device: loop[0-9]+ +UDEV PATH: $LOOPDEV"
	readback $CF/core/iblock_0/b1/attrib/hw_block_size 512
	capture after-enable/iblock core/iblock_0
else
	skip "iblock: losetup failed: $LOOPDEV"
	LOOPDEV=""
fi

step "storage objects: ramdisk rd_mcp (normal and nullio)"
mkdir -p $CF/core/rd_mcp_0/r1 $CF/core/rd_mcp_0/r2
capture after-mkdir/rd_mcp core/rd_mcp_0
cfs_set $CF/core/rd_mcp_0/r1/control rd_pages=4096
cfs_set $CF/core/rd_mcp_0/r2/control rd_pages=2048,rd_nullio=1
set_rb $CF/core/rd_mcp_0/r1/wwn/vpd_unit_serial 1f9a3b5c-0003-4a6e-9c1d-rtslibc00003 \
	"T10 VPD Unit Serial Number: 1f9a3b5c-0003-4a6e-9c1d-rtslibc00003"
cfs_set $CF/core/rd_mcp_0/r1/enable 1
cfs_set $CF/core/rd_mcp_0/r2/enable 1
expect_match "rd_mcp r1 info" "$(cat $CF/core/rd_mcp_0/r1/info)" "PAGES/PAGE_SIZE: 4096\*4096 +SG_table_count: [0-9]+ +nullio: 0"
expect_match "rd_mcp r2 info" "$(cat $CF/core/rd_mcp_0/r2/info)" "nullio: 1"
capture after-enable/rd_mcp core/rd_mcp_0

step "storage objects: user (TCMU, no daemon: nl_reply_supported=-1)"
mkdir -p $CF/core/user_0/u1
capture after-mkdir/user core/user_0
for kv in dev_config=qcow//tmp/u1.qcow2 dev_size=16777216 hw_block_size=512 max_data_area_mb=8 \
	cmd_ring_size_mb=1 nl_reply_supported=-1; do
	check "user control $kv" cfs_try $CF/core/user_0/u1/control "$kv"
done
sem "write unknown TCMU control key bogus_key=1" cfs_try $CF/core/user_0/u1/control bogus_key=1
set_rb $CF/core/user_0/u1/wwn/vpd_unit_serial 1f9a3b5c-0004-4a6e-9c1d-rtslibc00004 \
	"T10 VPD Unit Serial Number: 1f9a3b5c-0004-4a6e-9c1d-rtslibc00004"
uio_before=$(ls /sys/class/uio 2>/dev/null)
cfs_set $CF/core/user_0/u1/enable 1
check "a uio device appears" wait_for 5 sh -c 'ls /sys/class/uio | grep -q uio'
uio=$(ls /sys/class/uio | grep -vxF "$uio_before" | head -1)
if [ -n "$uio" ]; then
	expect "/sys/class/uio/$uio/name" "$(cat /sys/class/uio/$uio/name)" "tcm-user/0/u1/qcow//tmp/u1.qcow2"
	expect "/sys/class/uio/$uio/version" "$(cat /sys/class/uio/$uio/version)" 2
	expect "uio map0 name" "$(cat /sys/class/uio/$uio/maps/map0/name)" "tcm-user command & data buffer"
	# 1 MiB command ring (cmd_ring_size_mb) + 8 MiB data area (max_data_area_mb)
	expect "uio map0 size" "$(cat /sys/class/uio/$uio/maps/map0/size)" 0x0000000000900000
	check "/dev/$uio is a char device" test -c /dev/$uio
fi
readback $CF/core/user_0/u1/attrib/dev_config qcow//tmp/u1.qcow2
readback $CF/core/user_0/u1/attrib/dev_size 16777216
readback $CF/core/user_0/u1/attrib/max_data_area_mb 8
readback $CF/core/user_0/u1/attrib/nl_reply_supported -1
expect_match "user info" "$(cat $CF/core/user_0/u1/info)" "Config: qcow//tmp/u1.qcow2 Size: 16777216 MaxDataAreaMB: 8"
sem "write control max_data_area_mb=16 to an enabled user device" cfs_try $CF/core/user_0/u1/control max_data_area_mb=16
sem "write enable=0 to an enabled user device" cfs_try $CF/core/user_0/u1/enable 0
capture after-enable/user core/user_0

step "ALUA: LU group and target port group"
mkdir $CF/core/alua/lu_gps/lg1 || die "mkdir lu_gps/lg1"
capture after-mkdir/alua-lu-gp core/alua/lu_gps/lg1
set_rb $CF/core/alua/lu_gps/lg1/lu_gp_id 10
cfs_set $CF/core/fileio_0/f1/alua_lu_gp lg1
expect_match "fileio alua_lu_gp" "$(cat $CF/core/fileio_0/f1/alua_lu_gp)" "LU Group Alias: lg1"
mkdir $CF/core/fileio_0/f1/alua/tg1 || die "mkdir alua/tg1"
capture after-mkdir/alua-tg-pt-gp core/fileio_0/f1/alua/tg1
set_rb $CF/core/fileio_0/f1/alua/tg1/tg_pt_gp_id 2
set_rb $CF/core/fileio_0/f1/alua/tg1/alua_access_type 3 "Implicit and Explicit"
set_rb $CF/core/fileio_0/f1/alua/tg1/alua_access_state 1
set_rb $CF/core/fileio_0/f1/alua/tg1/preferred 1
set_rb $CF/core/fileio_0/f1/alua/tg1/nonop_delay_msecs 50
set_rb $CF/core/fileio_0/f1/alua/tg1/alua_support_standby 0
sem "write alua_access_state=9 (invalid)" cfs_try $CF/core/fileio_0/f1/alua/tg1/alua_access_state 9
sem "write tg_pt_gp_id=2 to a second group" sh -c "mkdir $CF/core/fileio_0/f1/alua/tg2 && printf 2 > $CF/core/fileio_0/f1/alua/tg2/tg_pt_gp_id"
rmdir $CF/core/fileio_0/f1/alua/tg2

step "iSCSI: fabric, target, TPG, LUNs, portals, ACL, mapped LUNs, CHAP, discovery auth"
mkdir $CF/iscsi || die "mkdir iscsi"
capture after-mkdir/iscsi-fabric iscsi
mkdir $CF/iscsi/$IQN || die "mkdir iscsi target"
capture after-mkdir/iscsi-target iscsi/$IQN
mkdir $T || die "mkdir tpgt_1"
capture after-mkdir/iscsi-tpg iscsi/$IQN/tpgt_1
mkdir $T/lun/lun_0 || die "mkdir lun_0"
capture after-mkdir/iscsi-lun iscsi/$IQN/tpgt_1/lun/lun_0
ln -s $CF/core/fileio_0/f1 $T/lun/lun_0/f1 || die "link lun_0"
[ -n "$LOOPDEV" ] && { mkdir $T/lun/lun_1 && ln -s $CF/core/iblock_0/b1 $T/lun/lun_1/b1 || die "lun_1"; }
mkdir $T/lun/lun_2 && ln -s $CF/core/rd_mcp_0/r2 $T/lun/lun_2/r2 || die "lun_2"
mkdir $T/lun/lun_3 && ln -s $CF/core/user_0/u1 $T/lun/lun_3/u1 || die "lun_3"
capture after-link/iscsi-lun iscsi/$IQN/tpgt_1/lun/lun_0
check "lun_0 link points at the storage object" test "$(readlink -f $T/lun/lun_0/f1)" = "$CF/core/fileio_0/f1"
cfs_set $T/lun/lun_0/alua_tg_pt_gp tg1
expect_match "lun_0 alua_tg_pt_gp" "$(cat $T/lun/lun_0/alua_tg_pt_gp)" "TG Port Alias: tg1"
sem "mkdir lun/lun_0 again" mkdir $T/lun/lun_0
sem "mkdir lun/foo (bad LUN name)" mkdir $T/lun/foo
sem "second link in lun_0" ln -s $CF/core/rd_mcp_0/r1 $T/lun/lun_0/r1
sem "rmdir a storage object that a LUN links to" rmdir $CF/core/rd_mcp_0/r2
sem "link a LUN to a not enabled storage object" sh -c "mkdir $CF/core/rd_mcp_0/r9 && mkdir $T/lun/lun_9 && ln -s $CF/core/rd_mcp_0/r9 $T/lun/lun_9/r9"
rmdir $T/lun/lun_9 $CF/core/rd_mcp_0/r9 2>/dev/null

mkdir "$T/np/127.0.0.1:3260" || die "mkdir np 127.0.0.1:3260"
capture after-mkdir/iscsi-np "iscsi/$IQN/tpgt_1/np/127.0.0.1:3260"
mkdir "$T/np/[::1]:3260" || die "mkdir np [::1]:3260"
check "listening on 127.0.0.1:3260" sh -c "ss -ltn | grep -q '127.0.0.1:3260'"
check "listening on [::1]:3260" sh -c "ss -ltn | grep -qF '[::1]:3260'"
sem "mkdir np/127.0.0.1 (no port)" mkdir $T/np/127.0.0.1
sem "mkdir np 127.0.0.1:3260 again" mkdir "$T/np/127.0.0.1:3260"

mkdir $T/acls/$INIT || die "mkdir acl"
capture after-mkdir/iscsi-acl iscsi/$IQN/tpgt_1/acls/$INIT
mkdir $T/acls/$INIT/lun_0 || die "mkdir mapped lun_0"
capture after-mkdir/iscsi-mapped-lun iscsi/$IQN/tpgt_1/acls/$INIT/lun_0
ln -s $T/lun/lun_0 $T/acls/$INIT/lun_0/lun_0 || die "link mapped lun_0"
mkdir $T/acls/$INIT/lun_5 && ln -s $T/lun/lun_2 $T/acls/$INIT/lun_5/lun_2 || die "mapped lun_5"
set_rb $T/acls/$INIT/lun_5/write_protect 1
readback $T/acls/$INIT/lun_0/write_protect 0
capture after-link/iscsi-mapped-lun iscsi/$IQN/tpgt_1/acls/$INIT/lun_5
set_rb $T/acls/$INIT/auth/userid client1
set_rb $T/acls/$INIT/auth/password client1secret
set_rb $T/acls/$INIT/auth/userid_mutual target1
set_rb $T/acls/$INIT/auth/password_mutual target1secret
readback $T/acls/$INIT/auth/authenticate_target 1
set_rb $T/acls/$INIT/attrib/dataout_timeout 5
set_rb $T/acls/$INIT/cmdsn_depth 32
set_rb $T/acls/$INIT/tag acl-tag-1
sem "link a mapped LUN to a storage object instead of a TPG LUN" ln -s $CF/core/rd_mcp_0/r1 $T/acls/$INIT/lun_0/so

set_rb $T/auth/userid demo
set_rb $T/auth/password demosecret1
set_rb $T/attrib/authentication 1
set_rb $T/attrib/generate_node_acls 0
set_rb $T/attrib/demo_mode_write_protect 0
set_rb $T/attrib/cache_dynamic_acls 0
set_rb $T/attrib/default_cmdsn_depth 64
set_rb $T/attrib/login_timeout 10
set_rb $T/param/MaxRecvDataSegmentLength 65536
set_rb $T/param/HeaderDigest "CRC32C,None"
set_rb $T/param/ImmediateData No
sem "write param/MaxRecvDataSegmentLength=1 (below 512)" cfs_try $T/param/MaxRecvDataSegmentLength 1
sem "write attrib/authentication=2" cfs_try $T/attrib/authentication 2
cfs_set $T/enable 1
readback $T/enable 1

set_rb $CF/iscsi/discovery_auth/userid disc
set_rb $CF/iscsi/discovery_auth/password discsecret1
set_rb $CF/iscsi/discovery_auth/userid_mutual discmut
set_rb $CF/iscsi/discovery_auth/password_mutual discmutsecret1
set_rb $CF/iscsi/discovery_auth/enforce_discovery_auth 1

step "loopback: target, TPG, nexus, LUN -> SCSI disk; pscsi on that disk"
mkdir $CF/loopback || die "mkdir loopback"
capture after-mkdir/loopback-fabric loopback
mkdir -p $CF/loopback/$LOOP || die "mkdir loopback target"
capture after-mkdir/loopback-target loopback/$LOOP
mkdir $CF/loopback/$LOOP/tpgt_1 || die "mkdir loopback tpgt_1"
capture after-mkdir/loopback-tpg loopback/$LOOP/tpgt_1
set_rb $CF/loopback/$LOOP/tpgt_1/nexus $LOOP_I
mkdir $CF/loopback/$LOOP/tpgt_1/lun/lun_0 && ln -s $CF/core/rd_mcp_0/r1 $CF/loopback/$LOOP/tpgt_1/lun/lun_0/r1 ||
	die "loopback lun_0"
readback $CF/loopback/$LOOP/tpgt_1/address "$(cat $CF/loopback/$LOOP/tpgt_1/address)"
sdpath=""
if wait_for 15 sh -c 'ls /sys/class/scsi_disk/*/device/block/ | grep -q sd'; then
	sd=$(ls /sys/class/scsi_disk/*/device/block/ | grep '^sd' | head -1)
	ok "loopback LUN is /dev/$sd"
	sdpath=/dev/$sd
	expect "/dev/$sd size (sectors)" "$(cat /sys/block/$sd/size)" 32768
	expect_match "/dev/$sd vendor/model" "$(cat /sys/block/$sd/device/vendor)/$(cat /sys/block/$sd/device/model)" "^LIO-ORG +/RAMDISK-MCP"
else
	bad "no SCSI disk for the loopback LUN within 15 s"
fi
sem "write nexus again while a nexus exists" cfs_try $CF/loopback/$LOOP/tpgt_1/nexus naa.5001405000000099

if [ -n "$sdpath" ]; then
	hctl=$(basename "$(readlink -f /sys/block/${sdpath#/dev/}/device)")
	IFS=: read -r h c t l <<< "$hctl"
	mkdir -p $CF/core/pscsi_0/p1
	capture after-mkdir/pscsi core/pscsi_0
	if cfs_try $CF/core/pscsi_0/p1/control "scsi_host_id=$h,scsi_channel_id=$c,scsi_target_id=$t,scsi_lun_id=$l" &&
		cfs_try $CF/core/pscsi_0/p1/udev_path "$sdpath" && cfs_try $CF/core/pscsi_0/p1/enable 1; then
		ok "pscsi p1 enabled on $sdpath ($hctl)"
		expect_match "pscsi info" "$(cat $CF/core/pscsi_0/p1/info)" "Channel ID: $c +Target ID: $t +LUN: $l"
		capture after-enable/pscsi core/pscsi_0
	else
		bad "pscsi p1 on $sdpath ($hctl) did not enable"
	fi
else
	skip "pscsi: no SCSI device to pass through (the loopback disk did not appear)"
fi

step "vhost-scsi and sbp (fabric objects only: no guest VM / FireWire hardware to serve)"
if modprobe vhost_scsi 2>/dev/null; then
	mkdir -p $CF/vhost/$VHOST || die "mkdir vhost target"
	capture after-mkdir/vhost-target vhost/$VHOST
	mkdir $CF/vhost/$VHOST/tpgt_1 || die "mkdir vhost tpgt_1"
	capture after-mkdir/vhost-tpg vhost/$VHOST/tpgt_1
	set_rb $CF/vhost/$VHOST/tpgt_1/nexus $VHOST_I
	mkdir $CF/vhost/$VHOST/tpgt_1/lun/lun_0 && ln -s $CF/core/rd_mcp_0/r2 $CF/vhost/$VHOST/tpgt_1/lun/lun_0/r2 ||
		die "vhost lun_0"
else
	skip "vhost: vhost_scsi module not loadable"
fi
if modprobe sbp_target 2>/dev/null; then
	mkdir -p $CF/sbp/$SBP || die "mkdir sbp target"
	capture after-mkdir/sbp-target sbp/$SBP
	mkdir $CF/sbp/$SBP/tpgt_1 || die "mkdir sbp tpgt_1"
	capture after-mkdir/sbp-tpg sbp/$SBP/tpgt_1
	mkdir $CF/sbp/$SBP/tpgt_1/lun/lun_0 && ln -s $CF/core/rd_mcp_0/r2 $CF/sbp/$SBP/tpgt_1/lun/lun_0/r2 || die "sbp lun_0"
else
	skip "sbp: sbp_target module not loadable"
fi
skip "fc (tcm_fc), srpt (ib_srpt), qla2xxx, efct: targets need FCoE/RDMA/FC hardware ports"

step "full configuration: capture and read every attribute back"
capture full-config
nerr=$(grep -c '^f .* ! ' "$OUT/configfs/full-config.txt")
echo "     $nerr attributes are not readable (name, errno, count):"
grep '^f .* ! ' "$OUT/configfs/full-config.txt" | awk '{ n = split($3, a, "/"); print a[n] " " $5 }' |
	sort | uniq -c | awk '{ print "       " $2 " " $3 " x" $1 }'
check "every readable attribute read (capture has no EIO/ENOMEM)" sh -c "! grep -E '! (EIO|ENOMEM|EFAULT)' $OUT/configfs/full-config.txt"

step "teardown in dependency order"
td() { check "$1" "${@:2}"; }
for f in vhost/$VHOST sbp/$SBP loopback/$LOOP; do
	[ -d $CF/$f/tpgt_1 ] || continue
	td "unlink $f lun_0" find $CF/$f/tpgt_1/lun/lun_0 -maxdepth 1 -type l -delete
	td "rmdir $f lun_0" rmdir $CF/$f/tpgt_1/lun/lun_0
	[ -e $CF/$f/tpgt_1/nexus ] && [ "$f" != sbp/$SBP ] && cfs_try $CF/$f/tpgt_1/nexus NULL 2>/dev/null
	td "rmdir $f tpgt_1" rmdir $CF/$f/tpgt_1
	td "rmdir $f" rmdir $CF/$f
done
[ -d $CF/core/pscsi_0/p1 ] && td "rmdir pscsi p1" rmdir $CF/core/pscsi_0/p1
td "unlink mapped luns" sh -c "rm $T/acls/$INIT/lun_0/lun_0 $T/acls/$INIT/lun_5/lun_2"
td "rmdir mapped luns" rmdir $T/acls/$INIT/lun_0 $T/acls/$INIT/lun_5
td "rmdir acl" rmdir $T/acls/$INIT
td "rmdir portals" rmdir "$T/np/127.0.0.1:3260" "$T/np/[::1]:3260"
for l in $T/lun/lun_*; do
	td "unlink + rmdir ${l##*/}" sh -c "find $l -maxdepth 1 -type l -delete && rmdir $l"
done
td "rmdir tpgt_1" rmdir $T
td "rmdir iscsi target" rmdir $CF/iscsi/$IQN
td "rmdir alua tg1" rmdir $CF/core/fileio_0/f1/alua/tg1
td "rmdir storage objects" rmdir $CF/core/fileio_0/f1 $CF/core/rd_mcp_0/r1 $CF/core/rd_mcp_0/r2 $CF/core/user_0/u1 \
	${LOOPDEV:+$CF/core/iblock_0/b1}
td "rmdir HBAs" sh -c "rmdir $CF/core/*_[0-9]*"
td "rmdir lu group" rmdir $CF/core/alua/lu_gps/lg1
[ -n "$LOOPDEV" ] && losetup -d "$LOOPDEV"
check "uio device gone" sh -c "! ls /sys/class/uio | grep -q uio"
capture after-teardown
# fabric top dirs (iscsi, loopback) stay registered; compare the core subtree with the fresh one
check "core/ after teardown equals the fresh core/" diff <(grep ' core' "$OUT/configfs/fresh-after-modprobe.txt") \
	<(grep ' core' "$OUT/configfs/after-teardown.txt")

step "semantics recorded in configfs/semantics.txt"
cat "$OUT/configfs/semantics.txt" | sed 's/^/     /'
vm_finish
