#!/bin/bash
# Bench (real kernel, in a qemu guest): rts-runner's file handler against the kernel's own
# fileio backstore on the same backing file, both exported through tcm_loop, fio 4 KiB
# randread/randwrite at QD1 and QD16 (io_uring, O_DIRECT on the SCSI disk). Contenders are
# interleaved and every point is repeated REPS times; medians and ours/kernel are printed.
# Software emulation makes single runs noisy (up to 2.5x): read the ratios, not the IOPS.
#
# A third column serves the same size from rts-runner's ram handler (no backing I/O at all):
# the cost of the TCMU round trip itself, so one can tell the handler's share from the ring's.
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

run_fio() { # run_fio <dev> <rw> <qd> -> IOPS
	fio --name=b --filename=$1 --direct=1 --rw=$2 --bs=4k --iodepth=$3 --ioengine=io_uring \
		--time_based --runtime=$RUNTIME --size=$((SIZE_MB - 16))M --eta=never \
		--output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' -v rw=$2 '{ print (rw == "randread") ? $8 : $49 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

printf '\n%-10s %3s | %10s %10s | %9s | %10s   (medians of %d interleaved %ds runs)\n' workload QD \
	"ours IOPS" "fileio" "ours/kern" "ours ram" "$REPS" "$RUNTIME" | tee "$OUT/table.txt"
for rw in randread randwrite; do
	for qd in 1 16; do
		: > /tmp/o
		: > /tmp/k
		: > /tmp/m
		for _ in $(seq $REPS); do
			run_fio $OURS $rw $qd >> /tmp/o
			run_fio $KERN $rw $qd >> /tmp/k
			run_fio $RAM $rw $qd >> /tmp/m
		done
		o=$(median < /tmp/o)
		k=$(median < /tmp/k)
		m=$(median < /tmp/m)
		printf '%-10s %3s | %10.0f %10.0f | %8.2fx | %10.0f   ours: %s kernel: %s ram: %s\n' $rw $qd \
			"$o" "$k" "$(awk -v a="$o" -v b="$k" 'BEGIN { print (b > 0) ? a / b : 0 }')" "$m" \
			"$(tr '\n' ' ' < /tmp/o)" "$(tr '\n' ' ' < /tmp/k)" "$(tr '\n' ' ' < /tmp/m)" |
			tee -a "$OUT/table.txt"
	done
done
kill -TERM $RTS_PID
wait $RTS_PID
ok "bench complete: $OUT/table.txt"
vm_finish
