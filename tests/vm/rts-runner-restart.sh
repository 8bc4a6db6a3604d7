#!/bin/bash
# Scenario: rts-runner is killed with SIGKILL under fio write load and restarted; the new
# runner adopts the device (block_dev, reset_ring: commands the dead runner had in flight
# complete with BUSY and the initiator retries them, unblock). fio then verifies every block
# it wrote (crc32c + offset headers): no acknowledged write may be lost or corrupted.
# Backed by the file handler on a file in guest memory (survives the runner's death).
# Then an enable written while no runner runs (it would wait for a netlink reply for ever)
# must fail with EINTR when rts-runner starts, and succeed when written again.
. "$(dirname "$0")/lib.sh"
vm_scenario rts-runner-restart --timeout 600 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RUNNER_BIN=$BIN/tcmu/runner/rts-runner
LOOP=naa.50014050000000e1
LOOP_I=naa.50014050000000f1
L=$CF/loopback/$LOOP/tpgt_1
D=$CF/core/user_3/f1
IMG=/tmp/restart.img
[ -x "$RUNNER_BIN" ] || die "rts-runner not built at $RUNNER_BIN"
[ -e "$BIN/handlers/handler_file.so" ] || die "file handler not built"

start_rts() {
	"$RUNNER_BIN" --handler-dir "$BIN/handlers" -v >> "$OUT/rts-runner.log" 2>&1 &
	RTS_PID=$!
	local n=$(grep -c "ready:" "$OUT/rts-runner.log")
	wait_for 10 sh -c "[ \$(grep -c 'ready:' '$OUT/rts-runner.log') -gt $n ]" || {
		cat "$OUT/rts-runner.log"
		die "rts-runner did not become ready"
	}
}

: > "$OUT/rts-runner.log"
step "rts-runner + file-backed user backstore (64 MiB) behind tcm_loop"
start_rts
mkdir -p $D || die "mkdir $D"
cfs_set $D/control "dev_config=file/$IMG;size=64M"
cfs_set $D/control "dev_size=67108864"
cfs_set $D/control "max_data_area_mb=16"
# Commands queued while no runner runs must not time out during the restart.
cfs_set $D/attrib/cmd_time_out 60
cfs_set $D/enable 1
mkdir -p $L/lun/lun_0 || die "mkdir loopback"
cfs_set $L/nexus $LOOP_I
ln -s $D $L/lun/lun_0/f1 || die "link lun_0"
wait_for 20 sh -c 'ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -q "^sd"' ||
	die "no SCSI disk within 20 s"
DEV=/dev/$(ls /sys/class/scsi_disk/*/device/block/ | grep '^sd' | head -1)
wait_for 5 test -b $DEV || die "$DEV missing"
ok "disk is $DEV"

step "fio: 32 MiB sequential O_DIRECT 4 KiB writes at QD16 with crc32c headers, then verify"
# --rate_iops keeps the write phase >= 5 s even on a fast host, so the kill lands mid-load.
fio --name=restart --filename=$DEV --direct=1 --rw=write --bs=4k --size=32M --rate_iops=1500 \
	--ioengine=io_uring --iodepth=16 --verify=crc32c --do_verify=1 --eta=never \
	--output="$OUT/fio.txt" &
FIO_PID=$!
sleep 2
step "SIGKILL the runner mid-load, restart it"
kill -KILL "$RTS_PID"
wait "$RTS_PID" 2>/dev/null
check "fio still running when the runner died" kill -0 "$FIO_PID"
sleep 1
start_rts
check "new runner adopted f1" grep -q "f1: adopted /dev/uio" "$OUT/rts-runner.log"
wait "$FIO_PID"
rc=$?
expect "fio exit status (writes + verify of every block)" "$rc" 0
grep -E "IOPS|err=|verify" "$OUT/fio.txt" | sed 's/^/     /'
check "fio verified without errors" grep -q "err= 0" "$OUT/fio.txt"

step "the data is in the backing file too"
check "flush" sg_sync $DEV
dd if=$DEV of=/tmp/dev.bin bs=1M count=32 iflag=direct status=none
dd if=$IMG of=/tmp/img.bin bs=1M count=32 status=none
check "device content equals the backing file" cmp /tmp/dev.bin /tmp/img.bin

kill -TERM "$RTS_PID"
wait "$RTS_PID"
expect "rts-runner exit status after SIGTERM" "$?" 0

# The kernel waits for a reply to ADDED_DEVICE without a timeout once a runner has announced
# replies (SET_FEATURES), and it keeps that setting after the runner exits. An enable written
# while no runner listens would hang in D state for ever; the next rts-runner must fail it
# (reset_netlink) so that it can be written again.
step "an enable written while no runner runs ends when rts-runner starts, and works again"
D2=$CF/core/user_3/late
mkdir -p $D2 || die "mkdir $D2"
truncate -s 16M /tmp/late.img
cfs_set $D2/control "dev_config=file//tmp/late.img"
cfs_set $D2/control "dev_size=16777216"
rm -f /tmp/late-enable.rc
( (printf 1 > $D2/enable) 2> "$OUT/late-enable.err"; echo $? > /tmp/late-enable.rc ) &
EN_PID=$!
sleep 3
check "the enable waits while no runner listens" kill -0 "$EN_PID"
start_rts
wait_for 15 test -s /tmp/late-enable.rc || die "the enable still hangs after rts-runner started"
wait "$EN_PID"
check "the enable failed" test "$(cat /tmp/late-enable.rc)" != 0
expect_match "its error" "$(cat "$OUT/late-enable.err")" "Interrupted system call"
expect "late is not enabled" "$(cat $D2/enable)" 0
check "the runner did not adopt the half-made device" \
	sh -c "! grep -q 'late: adopted' '$OUT/rts-runner.log'"
cfs_set $D2/enable 1
expect "late is enabled on the second write" "$(cat $D2/enable)" 1
check "the runner serves late" grep -q "late: serving /dev/uio" "$OUT/rts-runner.log"
expect "block_netlink is off again" \
	"$(cat /sys/module/target_core_user/parameters/block_netlink)" unblocked
rmdir $D2 || bad "rmdir $D2"

kill -TERM "$RTS_PID"
wait "$RTS_PID"
expect "rts-runner exit status after SIGTERM" "$?" 0
vm_finish
