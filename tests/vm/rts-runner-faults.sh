#!/bin/bash
# Scenario (#16): faults against the real kernel.
#  1. errinj under fio: a write to the EIO range fails with EIO, one to the ENOSPC range with
#     ENOSPC (DATA PROTECT 27h/07h mapped by the kernel), the rest of the disk verifies.
#     Rules are changed at runtime through attrib/dev_config (RECONFIG_DEVICE).
#  2. a hung command (errinj hang, count=1): the kernel's cmd_time_out completes it to the
#     initiator, the read returns, and the runner goes on serving the device.
#  3. crash cycles: kill -9 rts-runner at a random moment under random-write load
#     (bench/soak/blk_crash_verify: O_DIRECT 4 KiB writes at QD16 carrying (LBA, generation)
#     in every word), restart it, it adopts the device (block_dev, reset_ring), then every
#     written block is read back: it holds the last acknowledged generation (or the one
#     write whose outcome was unknown), else the LBA is named as LOST or TORN.
#     RTS_CRASH_CYCLES cycles (default 3; the soak figure: RTS_CRASH_CYCLES=20 or more).
. "$(dirname "$0")/lib.sh"
# qemu's bound grows with the cycles (about 10 s each under TCG); 3 cycles stay under ctest's
vm_scenario rts-runner-faults --timeout $((400 + ${RTS_CRASH_CYCLES:-3} * 15)) "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RUNNER_BIN=$BIN/tcmu/runner/rts-runner
RTSCTL=$BIN/ctl/rtsctl
CYCLES=${RTS_CRASH_CYCLES:-3}
LOOP=naa.50014050000000e2
LOOP_I=naa.50014050000000f2
L=$CF/loopback/$LOOP/tpgt_1
E=$CF/core/user_5/ei
F=$CF/core/user_6/f1
IMG=/tmp/faults.img
SOCK=/run/rts/faults.sock
[ -x "$RUNNER_BIN" ] || die "rts-runner not built at $RUNNER_BIN"
for h in errinj ram file; do
	[ -e "$BIN/handlers/handler_$h.so" ] || die "$h handler not built"
done

start_rts() {
	"$RUNNER_BIN" --handler-dir "$BIN/handlers" --status-socket "$SOCK" -v \
		>> "$OUT/rts-runner.log" 2>&1 &
	RTS_PID=$!
	local n=$1
	wait_for 20 sh -c "[ \$(grep -c 'ready:' '$OUT/rts-runner.log') -gt $n ]" || {
		tail -30 "$OUT/rts-runner.log"
		die "rts-runner did not become ready"
	}
}

: > "$OUT/rts-runner.log"
step "rts-runner; errinj over ram (64 MiB) and file (64 MiB) behind tcm_loop"
start_rts 0
mkdir -p $E $F || die "mkdir backstores"
cfs_set $E/control "dev_config=errinj/none/ram/64M"
cfs_set $E/control "dev_size=67108864"
cfs_set $E/attrib/cmd_time_out 5
cfs_set $E/enable 1
cfs_set $F/control "dev_config=file/$IMG;size=64M"
cfs_set $F/control "dev_size=67108864"
cfs_set $F/control "max_data_area_mb=16"
cfs_set $F/attrib/cmd_time_out 60 # queued commands survive the restart
cfs_set $F/enable 1
mkdir -p $L/lun/lun_0 $L/lun/lun_1 || die "mkdir loopback"
cfs_set $L/nexus $LOOP_I
ln -s $E $L/lun/lun_0/ei || die "link lun_0"
ln -s $F $L/lun/lun_1/f1 || die "link lun_1"
wait_for 30 sh -c '[ $(ls /sys/class/scsi_disk/ 2>/dev/null | wc -l) -ge 2 ]' ||
	die "no two SCSI disks within 30 s"
sleep 1
EDEV=/dev/$(ls /sys/class/scsi_disk/*:0/device/block/ 2>/dev/null | head -1)
FDEV=/dev/$(ls /sys/class/scsi_disk/*:1/device/block/ 2>/dev/null | head -1)
wait_for 5 test -b "$EDEV" || die "errinj disk missing ($EDEV)"
wait_for 5 test -b "$FDEV" || die "file disk missing ($FDEV)"
ok "errinj disk $EDEV, file disk $FDEV"

# ------------------------------------------------------------------ 1. fio sees the faults
step "errinj rules set at runtime: EIO on LBA 2048-2055 writes, ENOSPC on 4096-4103 writes"
check "rules accepted through attrib/dev_config" \
	cfs_try $E/attrib/dev_config 'errinj/eio,op=write,lba=2048-2055;enospc,op=write,lba=4096-4103/ram/64M'
fio_one() { # <name> <offset>: one 4 KiB O_DIRECT write
	fio --name="$1" --filename="$EDEV" --direct=1 --rw=write --bs=4k --offset="$2" --size=4k \
		--ioengine=psync --eta=never --output="$OUT/fio-$1.txt" >/dev/null 2>&1
}
fio_one eio 1M
check "fio write into the EIO range fails" [ $? -ne 0 ]
check "fio reports EIO (err=5)" grep -q "err= *5" "$OUT/fio-eio.txt"
fio_one enospc 2M
check "fio write into the ENOSPC range fails" [ $? -ne 0 ]
grep -E "err=" "$OUT/fio-enospc.txt" | sed 's/^/     /'
check "fio reports ENOSPC (err=28)" grep -q "err= *28" "$OUT/fio-enospc.txt"
fio --name=clean --filename="$EDEV" --direct=1 --rw=randwrite --bs=4k --offset=8M --size=8M \
	--ioengine=libaio --iodepth=8 --verify=crc32c --do_verify=1 --eta=never \
	--output="$OUT/fio-clean.txt" >/dev/null 2>&1
expect "fio randwrite + verify outside the rules" "$?" 0
check "kernel log names the sense" sh -c 'dmesg | grep -qiE "Write error|Medium Error|Data Protect"'

# ------------------------------------------------------------------ 2. hung command
step "hang rule on one read (LBA 16384): cmd_time_out (5 s) completes it to the initiator"
check "hang rule accepted" cfs_try $E/attrib/dev_config 'errinj/hang,op=read,lba=16384-16391,count=1/ram/64M'
timed T timeout 120 dd if="$EDEV" of=/dev/null bs=4k skip=2048 count=1 iflag=direct status=none
rc=$?
check "the hung read returned (exit $rc after $T s; not killed by the 120 s bound)" [ "$rc" != 124 ]
check "the device still serves: read elsewhere" \
	timeout 60 dd if="$EDEV" of=/dev/null bs=64k count=16 iflag=direct status=none
check "the device still serves: write + read back" sh -c "
	head -c 65536 /dev/urandom > /tmp/pat && timeout 60 dd if=/tmp/pat of=$EDEV bs=64k seek=200 oflag=direct status=none &&
	timeout 60 dd if=$EDEV of=/tmp/back bs=64k skip=200 count=1 iflag=direct status=none && cmp /tmp/pat /tmp/back"
"$RTSCTL" status --socket "$SOCK" > "$OUT/status-after-hang.txt" 2>&1
check "rtsctl status: both devices running" sh -c "grep -Ec '^(ei|f1) +[a-z]+ +running' '$OUT/status-after-hang.txt' | grep -qx 2"
check "rules back to none" cfs_try $E/attrib/dev_config 'errinj/none/ram/64M'

# ------------------------------------------------------------------ 3. crash cycles
step "$CYCLES crash cycles: kill -9 under random writes, restart, adopt, verify each written block"
BCV=$BIN/bench/blk_crash_verify
[ -x "$BCV" ] || die "blk_crash_verify not built at $BCV"
lost=0 failed=0
for c in $(seq 1 "$CYCLES"); do
	# 4 s of writes over the first 16 MiB; the generations of each cycle are its own
	"$BCV" "$FDEV" 4096 4 "$c" > "$OUT/crash-$c.txt" 2>&1 &
	BCV_PID=$!
	# a random moment in the write phase
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 2000) / 1000 }')"
	kill -KILL "$RTS_PID"
	wait "$RTS_PID" 2>/dev/null
	n=$(grep -c 'ready:' "$OUT/rts-runner.log")
	start_rts "$n"
	[ "$(grep -c "f1: adopted /dev/uio" "$OUT/rts-runner.log")" = "$c" ] ||
		{ bad "cycle $c: f1 not adopted"; failed=$((failed + 1)); }
	timeout 300 tail --pid="$BCV_PID" -f /dev/null
	wait "$BCV_PID"
	rc=$?
	echo "     $(tail -1 "$OUT/crash-$c.txt")"
	if [ "$rc" != 0 ]; then
		failed=$((failed + 1))
		[ "$rc" = 1 ] && lost=$((lost + 1))
		bad "cycle $c: blk_crash_verify exit $rc: $(grep -E 'LOSS|TORN|blk_crash_verify' "$OUT/crash-$c.txt" | head -3)"
	fi
done
echo "     crash cycles: $CYCLES tried, $failed failed, $lost with data lost"
expect "crash cycles failed" "$failed" 0
check "the file disk flushes after the cycles" sg_sync "$FDEV"

kill -TERM "$RTS_PID"
timeout 60 tail --pid="$RTS_PID" -f /dev/null
wait "$RTS_PID"
expect "rts-runner exit status after SIGTERM" "$?" 0
vm_finish
