#!/bin/bash
# Scenario: an ops person stops tcmu-runner, starts rts-runner, and keeps using targetcli:
# targetcli lists our handlers over D-Bus (org.kernel.TCMUService1), validates the cfgstring
# through our CheckConfig, creates a user:file backstore and a tcm_loop LUN; the disk
# appears, answers sg3_utils, passes fio crc32c verification; a bad cfgstring is refused
# by targetcli with our handler's reason.
. "$(dirname "$0")/lib.sh"
vm_scenario rts-runner-targetcli --timeout 600 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RUNNER_BIN=$BIN/tcmu/runner/rts-runner
NAA=naa.5001405000000101
IMG=/tmp/tcli.img
[ -x "$RUNNER_BIN" ] || die "rts-runner not built at $RUNNER_BIN"
[ -e "$BIN/handlers/handler_file.so" ] || die "file handler not built"

step "system bus + rts-runner exporting org.kernel.TCMUService1"
start_dbus
"$RUNNER_BIN" --handler-dir "$BIN/handlers" -v > "$OUT/rts-runner.log" 2>&1 &
RTS_PID=$!
wait_for 15 sh -c 'dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
	org.freedesktop.DBus.ListNames | grep -q org.kernel.TCMUService1' ||
	{ cat "$OUT/rts-runner.log"; die "rts-runner did not own org.kernel.TCMUService1"; }
ok "rts-runner owns org.kernel.TCMUService1"
cc=$(dbus-send --system --print-reply --dest=org.kernel.TCMUService1 \
	/org/kernel/TCMUService1/file org.kernel.TCMUService1.CheckConfig string:"file/$IMG;size=64M" 2>&1)
expect_match "CheckConfig over D-Bus" "$cc" "boolean true"

step "targetcli sees our handlers"
bs=$(targetcli ls /backstores 2>&1)
echo "$bs" | sed 's/^/     /'
expect_match "targetcli lists user:file" "$bs" "user:file"
expect_match "targetcli lists user:ram" "$bs" "user:ram"

step "targetcli refuses a bad cfgstring with our reason"
out=$(targetcli /backstores/user:file create name=bad size=64M "cfgstring=/tmp/x;bogus_option" 2>&1)
echo "$out" | sed 's/^/     /'
expect_match "refused by CheckConfig with the handler's reason" "$out" "cfgstring invalid: .*bogus_option"
check "nothing was created" sh -c "! ls $CF/core/user_*/bad >/dev/null 2>&1"

step "targetcli creates user:file + tcm_loop LUN"
timed t targetcli /backstores/user:file create name=tc1 size=64M "cfgstring=$IMG;size=64M" ||
	die "targetcli create user:file failed"
echo "     create user:file: ${t}s"
check "runner serves tc1" grep -q "tc1: serving /dev/uio" "$OUT/rts-runner.log"
targetcli /loopback create $NAA > /dev/null || die "targetcli loopback create"
targetcli /loopback/$NAA/luns create /backstores/user:file/tc1 > /dev/null || die "targetcli lun create"
wait_for 20 sh -c 'ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -q "^sd"' ||
	die "no SCSI disk within 20 s"
DEV=/dev/$(ls /sys/class/scsi_disk/*/device/block/ | grep '^sd' | head -1)
wait_for 5 test -b $DEV || die "$DEV missing"
ok "disk is $DEV"
tl=$(targetcli ls /backstores/user:file 2>&1)
expect_match "targetcli shows the backstore activated" "$tl" "tc1.*activated"

step "SCSI identity and data"
inq=$(sg_inq $DEV 2>&1)
expect_match "INQUIRY" "$inq" "Product identification: TCMU device"
serial=$(cat $CF/core/user_*/tc1/wwn/vpd_unit_serial | sed 's/.*: //')
expect_match "unit serial = targetcli's generated wwn" "$inq" "Unit serial number: $serial"
expect_match "READ CAPACITY" "$(sg_readcap $DEV 2>&1)" "Last LBA=131071 "
check "VPD B0h" sg_vpd -p 0xb0 $DEV
fio --name=v --filename=$DEV --direct=1 --rw=randwrite --bs=4k --size=16M --ioengine=io_uring \
	--iodepth=16 --verify=crc32c --do_verify=1 --eta=never --output="$OUT/fio.txt"
expect "fio crc32c verify exit status" "$?" 0

step "teardown through targetcli"
check "delete loopback" targetcli /loopback delete $NAA
check "delete backstore" targetcli /backstores/user:file delete tc1
wait_for 5 grep -q "tc1: removed by the kernel" "$OUT/rts-runner.log"
check "runner saw the removal" grep -q "tc1: removed by the kernel" "$OUT/rts-runner.log"
kill -TERM "$RTS_PID"
wait "$RTS_PID"
expect "rts-runner exit status after SIGTERM" "$?" 0
vm_finish
