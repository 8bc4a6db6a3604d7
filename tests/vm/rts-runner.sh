#!/bin/bash
# Scenario: rts-runner serves the kernel's TCMU devices (netlink + UIO) like tcmu-runner:
# user backstores created by hand in configfs, exported through tcm_loop as SCSI disks; SCSI
# identity, data integrity, fio with crc32c verification, netlink replies (a refused device
# fails `enable` instead of hanging), reconfig of the write cache, adoption of existing
# devices after a restart, removal.
. "$(dirname "$0")/lib.sh"
vm_scenario rts-runner --timeout 600 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RUNNER_BIN=$BIN/tcmu/runner/rts-runner
LOOP=naa.50014050000000c1
LOOP_I=naa.50014050000000d1
L=$CF/loopback/$LOOP/tpgt_1
SERIAL=6a1b2c3d-4e5f-4a0b-9c8d-7e6f5a4b3c2d
[ -x "$RUNNER_BIN" ] || die "rts-runner not built at $RUNNER_BIN"

start_rts() {
	# the log is appended to across restarts: wait for one more "ready:" than before
	local before
	before=$(grep -c "ready:" "$OUT/rts-runner.log")
	"$RUNNER_BIN" --handler-dir "$BIN/handlers" -v >> "$OUT/rts-runner.log" 2>&1 &
	RTS_PID=$!
	wait_for 10 sh -c "[ \$(grep -c 'ready:' '$OUT/rts-runner.log') -gt $before ]" || {
		cat "$OUT/rts-runner.log"
		die "rts-runner did not become ready"
	}
}
stop_rts() {
	kill -TERM "$RTS_PID"
	wait "$RTS_PID"
	expect "rts-runner exit status after SIGTERM" "$?" 0
}
scsi_disk() { ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep '^sd' | head -1; }

: > "$OUT/rts-runner.log"
step "start rts-runner (loads target_core_user through libkmod if needed, joins TCM-USER)"
start_rts
check "runner alive" kill -0 "$RTS_PID"

step "user backstore user_2/r1 -> ram/64M"
D=$CF/core/user_2/r1
mkdir -p $D || die "mkdir $D"
cfs_set $D/control "dev_config=ram/64M"
cfs_set $D/control "dev_size=67108864"
cfs_set $D/control "max_data_area_mb=16"
cfs_set $D/wwn/vpd_unit_serial "$SERIAL"
timed t cfs_set $D/enable 1
echo "     enable (ADDED_DEVICE -> open -> ADDED_DEVICE_DONE): ${t}s"
check "runner serves r1" grep -q "r1: serving /dev/uio" "$OUT/rts-runner.log"

step "a device whose handler does not exist is refused, not left hanging"
B=$CF/core/user_2/bad
mkdir -p $B || die "mkdir $B"
cfs_set $B/control "dev_config=nosuch/thing"
cfs_set $B/control "dev_size=1048576"
if timed t timeout 20 sh -c "printf 1 > $B/enable" 2>/dev/null; then
	bad "enable of nosuch/thing succeeded"
else
	ok "enable of nosuch/thing failed in ${t}s (runner replied with an error status)"
fi
check "runner logged why" grep -q "no handler for cfgstring 'nosuch/thing'" "$OUT/rts-runner.log"
rmdir $B 2>/dev/null

step "tcm_loop LUN -> SCSI disk"
mkdir -p $L/lun/lun_0 || die "mkdir loopback"
cfs_set $L/nexus $LOOP_I
ln -s $D $L/lun/lun_0/r1 || die "link lun_0"
wait_for 20 sh -c 'ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -q "^sd"' ||
	die "no SCSI disk within 20 s"
sd=$(scsi_disk)
DEV=/dev/$sd
wait_for 5 test -b $DEV || die "$DEV missing"
ok "disk is $DEV"

step "SCSI identity (answered by rts-runner's emulation)"
inq=$(sg_inq $DEV 2>&1)
expect_match "INQUIRY vendor" "$(echo "$inq" | sed -n 's/^ *Vendor identification: *//p')" "^LIO-ORG"
expect_match "INQUIRY product" "$(echo "$inq" | sed -n 's/^ *Product identification: *//p')" "^TCMU device"
expect_match "INQUIRY version" "$inq" "version=0x06"
expect_match "unit serial from wwn/vpd_unit_serial" "$inq" "Unit serial number: $SERIAL"
cap=$(sg_readcap --16 $DEV 2>&1)
expect_match "READ CAPACITY(16) last LBA" "$cap" "Last LBA=131071 "
expect_match "READ CAPACITY(16) thin provisioning" "$cap" "lbpme=1, lbprz=1"
vpd83=$(sg_vpd -p 0x83 $DEV 2>&1)
expect_match "VPD 83h NAA (LIO's OUI 001405, serial digits)" "$vpd83" "0x60014056a1b2c3d4e5f4a0b9c8d7e6f5"
vpd_b0=$(sg_vpd -p 0xb0 $DEV 2>&1)
# MAXIMUM TRANSFER LENGTH is what the data area can hold (max_data_area_mb=16 above: 16 MiB
# of 512-byte blocks), not the kernel's untouched hw_max_sectors default of 128 (dev.c).
expect_match "VPD B0h max transfer = data area (16 MiB / 512)" "$vpd_b0" "Maximum transfer length: 32768 blocks"
expect_match "VPD B0h unmap descriptors" "$vpd_b0" "Maximum unmap block descriptor count: 256"
check "VPD B2h logical block provisioning" sg_vpd -p 0xb2 $DEV
check "TEST UNIT READY" sg_turs $DEV

step "data: 4 MiB written O_DIRECT, read back"
head -c 1048576 /dev/urandom > /tmp/chunk
for _ in 1 2 3 4; do cat /tmp/chunk; done > /tmp/pattern
check "write" dd if=/tmp/pattern of=$DEV bs=1M oflag=direct status=none
check "read back" dd if=$DEV of=/tmp/readback bs=1M count=4 iflag=direct status=none
check "readback equals pattern" cmp /tmp/pattern /tmp/readback
check "SYNCHRONIZE CACHE" sg_sync $DEV
check "UNMAP of the first 1 MiB" sg_unmap --lba=0 --num=2048 $DEV
dd if=$DEV of=/tmp/zeros bs=1M count=1 iflag=direct status=none
check "unmapped range reads zeros" cmp /tmp/zeros <(head -c 1048576 /dev/zero)

step "fio randwrite QD16 with crc32c verification"
timed t fio --name=v --filename=$DEV --direct=1 --rw=randwrite --bs=4k --size=16M \
	--ioengine=io_uring --iodepth=16 --verify=crc32c --do_verify=1 --eta=never --output="$OUT/fio-verify.txt"
rc=$?
expect "fio verify exit status" "$rc" 0
grep -E "IOPS|err=" "$OUT/fio-verify.txt" | sed 's/^/     /'
echo "     fio verify run: ${t}s"

step "rtsctl status: the runner's own status socket"
RTSCTL_BIN=$BIN/ctl/rtsctl
st=$("$RTSCTL_BIN" status 2>&1)
expect "rtsctl status exit status" "$?" 0
echo "$st" | sed 's/^/     | /'
expect_match "status header: kernel mode" "$st" "pid $RTS_PID, kernel mode, 1 device"
expect_match "status row: r1 served by ram, running" "$st" "r1 +ram +running +64\.0M "
cmds=$("$RTSCTL_BIN" --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["runner"]["devices"][0]["cmds"])')
check "status counts the commands served (cmds=$cmds)" test "$cmds" -gt 4096

step "TMR: LUN RESET reaches the runner (it set attrib/tmr_notification)"
expect "attrib/tmr_notification" "$(cat $D/attrib/tmr_notification)" 1
check "sg_reset --device (tcm_loop issues a LUN RESET)" sg_reset --device $DEV
wait_for 5 grep -q "r1: TMR LUN_RESET" "$OUT/rts-runner.log"
check "runner decoded the TMR entry" grep -q "r1: TMR LUN_RESET: 0 command(s) named" "$OUT/rts-runner.log"
check "I/O after the reset" dd if=$DEV of=/dev/null bs=1M count=1 iflag=direct status=none

step "reconfig: emulate_write_cache -> RECONFIG_DEVICE -> reply"
if cfs_try $D/attrib/emulate_write_cache 0 2>/dev/null; then
	ok "write cache disabled through configfs"
	check "runner applied the reconfig" grep -q "r1: reconfig (0x4): applied" "$OUT/rts-runner.log"
	modes=$(sg_modes --page=0x08 $DEV 2>&1)
	expect_match "caching page byte 2 (WCE bit 0x04) = 00" "$modes" "08 12 00 "
else
	bad "write to attrib/emulate_write_cache refused"
fi

step "restart: the new runner adopts the existing device (block, reset ring, reopen)"
stop_rts
check "device still exported while no runner runs" test -b $DEV
start_rts
check "runner adopted r1" grep -q "r1: adopted /dev/uio" "$OUT/rts-runner.log"
check "TEST UNIT READY after adoption" sg_turs $DEV
check "READ after adoption" dd if=$DEV of=/dev/null bs=1M count=4 iflag=direct status=none
check "WRITE after adoption" dd if=/tmp/pattern of=$DEV bs=1M oflag=direct status=none

step "removal: unexport and rmdir -> REMOVED_DEVICE"
rm $L/lun/lun_0/r1 || bad "unlink lun"
rmdir $L/lun/lun_0 $L $CF/loopback/$LOOP 2>/dev/null
check "rmdir the backstore" rmdir $D
wait_for 5 grep -q "r1: removed by the kernel" "$OUT/rts-runner.log"
check "runner dropped r1" grep -q "r1: removed by the kernel" "$OUT/rts-runner.log"
stop_rts
if grep -E "error:" "$OUT/rts-runner.log" | grep -v "nosuch" | grep -q .; then
	bad "unexpected errors in the runner log"
	grep -E "error:" "$OUT/rts-runner.log" | sed 's/^/     | /'
else
	ok "no unexpected errors in the runner log"
fi
vm_finish
