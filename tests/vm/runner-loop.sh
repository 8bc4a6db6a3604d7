#!/bin/bash
# Scenario: a TCMU runner serves a user:qcow backstore, exported through tcm_loop as a SCSI
# disk in the guest; SCSI identity (sg_inq, sg_readcap, sg_vpd), data readback and fio with
# crc32c verification. The baseline E2E scenario: the runner under test is $RUNNER.
#
#   tests/vm/runner-loop.sh                      Debian's tcmu-runner (default)
#   RUNNER=build/tcmu/rts-runner tests/vm/runner-loop.sh   the same checks against ours
#
# RUNNER_ARGS: the runner's arguments (tcmu-runner default: -l $OUT, its log dir); HANDLER: the
# cfgstring subtype (default qcow: Debian's tcmu-runner ships no plain `file` handler; any other
# value gets a raw image); SIZE_MB: disk size (default 32).
. "$(dirname "$0")/lib.sh"
# the output dir names the runner: runner-loop-tcmu-runner, runner-loop-rts-runner
vm_scenario "runner-loop-$(basename "${RUNNER:-tcmu-runner}")" --timeout 600 "$@"

HANDLER=${HANDLER:-qcow}
SIZE_MB=${SIZE_MB:-32}
SERIAL=5e7a11a1-0001-4c0d-8e5f-rtslibc0qcow
LOOP=naa.50014050000000a1
LOOP_I=naa.50014050000000b1
D=$CF/core/user_1/q1
L=$CF/loopback/$LOOP/tpgt_1
IMG=/tmp/disk.$HANDLER
size=$((SIZE_MB * 1024 * 1024))
: > "$OUT/timings.txt"

step "backing image: ${SIZE_MB} MiB of a repeated random pattern ($HANDLER)"
# /dev/urandom is slow under TCG: 1 MiB of it, repeated. The qcow2 image is fully allocated
# (converted from non-zero data): the qcow handler's fallocate fails on the tmpfs /tmp.
head -c 1048576 /dev/urandom > /tmp/chunk
for _ in $(seq "$SIZE_MB"); do cat /tmp/chunk; done > /tmp/pattern
case $HANDLER in
qcow) qemu-img convert -f raw -O qcow2 -o compat=0.10 /tmp/pattern "$IMG" || die "qemu-img convert" ;;
*) cp /tmp/pattern "$IMG" ;;
esac
ls -la "$IMG"

[ "$(basename "$RUNNER")" = tcmu-runner ] && RUNNER_ARGS=${RUNNER_ARGS-"-l $OUT"}
step "runner: $RUNNER ${RUNNER_ARGS:-}"
start_dbus
# shellcheck disable=SC2086
start_runner ${RUNNER_ARGS:-}
check "runner alive" kill -0 "$RUNNER_PID"

step "user backstore user_1/q1 -> $HANDLER//$IMG"
mkdir -p $D || die "mkdir $D"
cfs_set $D/control "dev_config=$HANDLER/$IMG"
cfs_set $D/control "dev_size=$size"
cfs_set $D/control "max_data_area_mb=32"
cfs_set $D/wwn/vpd_unit_serial "$SERIAL"
timed t cfs_set $D/enable 1
echo "enable (the runner opens the device): ${t}s" | tee -a "$OUT/timings.txt"
uio=$(grep -l "^tcm-user/1/q1/" /sys/class/uio/uio*/name 2>/dev/null | head -1 | cut -d/ -f5)
check "uio device for q1 exists" test -n "$uio"
[ -n "$uio" ] && expect "uio name" "$(cat /sys/class/uio/$uio/name)" "tcm-user/1/q1/$HANDLER/$IMG"

step "tcm_loop LUN -> SCSI disk"
mkdir -p $L/lun/lun_0 || die "mkdir loopback"
cfs_set $L/nexus $LOOP_I
ln -s $D $L/lun/lun_0/q1 || die "link loopback lun_0"
timed t wait_for 20 sh -c 'ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -q "^sd"' ||
	die "no SCSI disk within 20 s"
echo "LUN -> /dev/sdX: ${t}s" | tee -a "$OUT/timings.txt"
sd=$(ls /sys/class/scsi_disk/*/device/block/ | grep '^sd' | head -1)
DEV=/dev/$sd
wait_for 5 test -b $DEV || die "$DEV missing"
ok "disk is $DEV"

step "SCSI identity"
inq=$(sg_inq $DEV 2>&1)
echo "$inq" | sed -n '1,2p;/Vendor identification/,/Product revision/p' | sed 's/^/     /'
expect_match "INQUIRY vendor" "$(echo "$inq" | sed -n 's/^ *Vendor identification: *//p')" "^LIO-ORG"
expect_match "INQUIRY product" "$(echo "$inq" | sed -n 's/^ *Product identification: *//p')" "^TCMU device"
expect_match "INQUIRY peripheral device type" "$(echo "$inq" | grep -o 'Peripheral device type: [a-z ]*')" "disk"
expect_match "INQUIRY version" "$inq" "version=0x0[56]"
cap=$(sg_readcap $DEV 2>&1)
expect_match "READ CAPACITY(10) last LBA" "$cap" "Last LBA=$((size / 512 - 1)) "
expect_match "READ CAPACITY(10) block length" "$cap" "Logical block length=512 bytes"
check "READ CAPACITY(16)" sg_readcap --16 $DEV
expect "capacity in /sys/block/$sd/size (sectors)" "$(cat /sys/block/$sd/size)" $((size / 512))
vpd0=$(sg_vpd -p 0 $DEV 2>&1)
echo "$vpd0" | sed 's/^/     /'
expect_match "VPD supported pages" "$vpd0" "Unit serial number"
expect_match "VPD 0x80 unit serial" "$(sg_vpd -p sn $DEV 2>&1)" "Unit serial number: $SERIAL"
di=$(sg_vpd -p di $DEV 2>&1)
expect_match "VPD 0x83 device identification has NAA" "$di" "NAA"
expect_match "VPD 0x83 vendor specific id holds the serial" "$di" "$SERIAL"
if grep -q 'Block limits' <<< "$vpd0"; then
	check "VPD 0xb0 block limits" sg_vpd -p bl $DEV
else
	skip "VPD 0xb0: $RUNNER does not list block limits"
fi
check "TEST UNIT READY" sg_turs $DEV
check "SYNCHRONIZE CACHE" sg_sync $DEV

step "data: read back the pattern, O_DIRECT write + readback"
timed t cmp /tmp/pattern $DEV
check "whole disk reads back the backing pattern" test $? -eq 0
echo "read ${SIZE_MB} MiB + cmp: ${t}s" | tee -a "$OUT/timings.txt"
dd if=/tmp/chunk of=/tmp/chunk.rev bs=4k conv=swab status=none
check "1 MiB O_DIRECT write at 8 MiB" dd if=/tmp/chunk.rev of=$DEV bs=1M count=1 seek=8 oflag=direct status=none
check "readback of the write (O_DIRECT)" sh -c "dd if=$DEV bs=1M skip=8 count=1 iflag=direct status=none | cmp - /tmp/chunk.rev"

step "fio with crc32c verification"
fio_run() { # <name> <args...>
	local name=$1 t
	shift
	timed t fio --name="$name" --filename=$DEV --direct=1 --bs=4k --size=8M --offset=16M \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting \
		--eta=never --output="$OUT/fio-$name.txt" "$@"
	local rc=$?
	if [ $rc -eq 0 ] && ! grep -q 'err= *[1-9]' "$OUT/fio-$name.txt"; then
		ok "fio $name ($*): ${t}s, $(grep -oE '(read|write): IOPS=[^,]*' "$OUT/fio-$name.txt" | tr '\n' ' ')"
	else
		bad "fio $name ($*) rc=$rc"
		tail -20 "$OUT/fio-$name.txt" | sed 's/^/     | /'
	fi
	echo "fio $name: ${t}s" >> "$OUT/timings.txt"
}
fio_run randwrite-libaio --ioengine=libaio --rw=randwrite --iodepth=16
fio_run write-io_uring --ioengine=io_uring --rw=write --iodepth=8
fio_run randrw-psync --ioengine=psync --rw=randrw --size=2M

step "teardown: LUN, device (the runner gets REMOVED), runner still alive"
rm $L/lun/lun_0/q1 && rmdir $L/lun/lun_0 && cfs_set $L/nexus NULL 2>/dev/null
rmdir $L $CF/loopback/$LOOP 2>/dev/null
check "SCSI disk gone" wait_for 10 sh -c "! test -e /sys/block/$sd"
timed t rmdir $D
check "rmdir user device" test $? -eq 0
echo "rmdir device: ${t}s" | tee -a "$OUT/timings.txt"
check "uio device gone" wait_for 5 sh -c "! test -e /sys/class/uio/$uio"
check "runner alive after device removal" kill -0 "$RUNNER_PID"
stop_runner
echo "     runner log tail:"
tail -5 "$OUT/runner.log" | sed 's/^/     | /'
ls "$OUT"/*.log >/dev/null 2>&1 && grep -hiE 'error|fail' "$OUT"/tcmu-runner.log 2>/dev/null | tail -5 | sed 's/^/     log: /'
vm_finish
