#!/bin/bash
# Bench (real kernel, in a qemu guest): rts-runner's file handler against the kernel's own
# fileio backstore on the same backing file, both exported through tcm_loop, fio 4 KiB
# randread/randwrite at QD1 and QD16 (io_uring, O_DIRECT on the SCSI disk). Contenders are
# interleaved and every point is repeated REPS times; medians and ours/kernel are printed.
# Software emulation makes single runs noisy (up to 2.5x): read the ratios, not the IOPS.
#
# A third column serves the same size from rts-runner's ram handler (no backing I/O at all):
# the cost of the TCMU round trip itself, so one can tell the handler's share from the ring's.
# Beside IOPS it prints what each I/O costs (bench/vm/metrics.sh): the runner's CPU time and
# context switches per I/O and the whole guest's CPU time per I/O, ours against kernel fileio.
#
#   bench/vm/file-vs-fileio.sh            (on the host: boots a guest through scripts/vm/run.sh)
#   RTS_BENCH_REPS=5 RTS_BENCH_RUNTIME=5 bench/vm/file-vs-fileio.sh
. "$(dirname "$0")/../../tests/vm/lib.sh"
vm_scenario bench-file-vs-fileio --timeout 1800 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
REPS=${RTS_BENCH_REPS:-5}
RUNTIME=${RTS_BENCH_RUNTIME:-5}
IMG=/tmp/bench.img
SIZE_MB=256
[ -e "$BIN/handlers/handler_file.so" ] || die "file handler not built in $BIN"

head -c 1048576 /dev/urandom > /tmp/chunk
for _ in $(seq $SIZE_MB); do cat /tmp/chunk; done > $IMG

"$BIN/tcmu/runner/rts-runner" --handler-dir "$BIN/handlers" --no-dbus > "$OUT/rts-runner.log" 2>&1 &
RTS_PID=$!
wait_for 10 grep -q "ready:" "$OUT/rts-runner.log" || die "rts-runner not ready"

# Both backstores on the same file, write cache on for both (buffered page cache I/O).
U=$CF/core/user_4/ours
mkdir -p $U
cfs_set $U/control "dev_config=file/$IMG"
cfs_set $U/control "dev_size=$((SIZE_MB << 20))"
cfs_set $U/control "hw_max_sectors=1024"
# fileio with fd_buffered_io=1 forces emulate_write_cache=1; give ours the same write-back
# cache, or every write of ours would be FUA (RWF_DSYNC) against buffered writes of theirs
cfs_set $U/attrib/emulate_write_cache 1
cfs_set $U/enable 1
R=$CF/core/user_4/ram
mkdir -p $R
cfs_set $R/control "dev_config=ram/${SIZE_MB}M"
cfs_set $R/control "dev_size=$((SIZE_MB << 20))"
cfs_set $R/control "hw_max_sectors=1024"
cfs_set $R/enable 1
F=$CF/core/fileio_4/kernel
mkdir -p $F
cfs_set $F/control "fd_dev_name=$IMG,fd_dev_size=$((SIZE_MB << 20)),fd_buffered_io=1"
cfs_set $F/enable 1
expect "write cache: ours" "$(cat $U/attrib/emulate_write_cache)" 1
expect "write cache: kernel fileio" "$(cat $F/attrib/emulate_write_cache)" 1

lun() { # lun <naa> <initiator naa> <backstore dir> -> prints /dev/sdX
	local L=$CF/loopback/$1/tpgt_1 before
	before=$(ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep '^sd' | sort)
	mkdir -p $L/lun/lun_0
	cfs_set $L/nexus $2
	ln -s $3 $L/lun/lun_0/bs
	wait_for 20 sh -c "[ \"\$(ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep '^sd' | sort)\" != \"$before\" ]" ||
		die "no new disk for $3"
	comm -13 <(echo "$before") <(ls /sys/class/scsi_disk/*/device/block/ | grep '^sd' | sort) | head -1
}
OURS=/dev/$(lun naa.5001405000000201 naa.5001405000000202 $U)
KERN=/dev/$(lun naa.5001405000000203 naa.5001405000000204 $F)
RAM=/dev/$(lun naa.5001405000000205 naa.5001405000000206 $R)
wait_for 5 test -b $OURS -a -b $KERN -a -b $RAM || die "disks missing"
echo "ours: $OURS (rts-runner file handler), kernel: $KERN (fileio), ram: $RAM (rts-runner ram handler)"

. "$VM_REPO/bench/vm/metrics.sh"

# Per point and contender, one line per repetition: "iops runner_us cs guest_us".
printf '\n%-10s %3s | %9s %9s %8s | %9s | %9s %8s %8s | %9s %9s %8s\n' workload QD \
	"ours IOPS" "fileio" ours/kern "ram IOPS" "run us/IO" "cs/IO" "ram us" \
	"guest us" "fileio" ours/kern | tee "$OUT/table.txt"
for rw in randread randwrite; do
	for qd in 1 16; do
		: > /tmp/o
		: > /tmp/k
		: > /tmp/m
		for _ in $(seq $REPS); do
			m_fio $RTS_PID $OURS $rw $qd >> /tmp/o
			m_fio - $KERN $rw $qd >> /tmp/k
			m_fio $RTS_PID $RAM $rw $qd >> /tmp/m
		done
		col() { awk -v c=$2 '{ print $c }' "$1" | median; }
		o=$(col /tmp/o 1) k=$(col /tmp/k 1) m=$(col /tmp/m 1)
		og=$(col /tmp/o 4) kg=$(col /tmp/k 4)
		printf '%-10s %3s | %9.0f %9.0f %7sx | %9.0f | %9s %8s %8s | %9s %9s %7sx\n' $rw $qd \
			"$o" "$k" "$(ratio "$o" "$k")" "$m" "$(col /tmp/o 2)" "$(col /tmp/o 3)" \
			"$(col /tmp/m 2)" "$og" "$kg" "$(ratio "$og" "$kg")" | tee -a "$OUT/table.txt"
		{ echo "  $rw QD$qd raw (iops runner_us cs guest_us):"
		  sed 's/^/    ours /' /tmp/o; sed 's/^/    kern /' /tmp/k; sed 's/^/    ram  /' /tmp/m
		} >> "$OUT/raw.txt"
	done
done
printf 'rts-runner: %s threads, peak RSS %s KiB (file + ram devices)\n' "$(m_threads $RTS_PID)" \
	"$(m_rss_kib $RTS_PID)" | tee -a "$OUT/table.txt"
echo "(medians of $REPS interleaved ${RUNTIME}s runs; us/IO = CPU microseconds per I/O, cs = context" \
	"switches; guest = whole-guest busy CPU, comparable with kernel fileio)" | tee -a "$OUT/table.txt"
kill -TERM $RTS_PID
wait $RTS_PID
ok "bench complete: $OUT/table.txt"
vm_finish
