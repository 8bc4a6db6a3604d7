#!/bin/bash
# Bench (real kernel, in a qemu guest): rts-runner's qcow handler against Debian's
# tcmu-runner qcow handler (handler_qcow.so), each serving its own copy of the same fully
# allocated qcow2 image through a user:qcow backstore exported by tcm_loop. fio 4 KiB
# randread/randwrite at QD1 and QD16 (io_uring, O_DIRECT on the SCSI disk).
#
# Both runners claim the "qcow" subtype, so only one runs at a time: each round starts one
# runner, creates its backstore and LUN, runs all four points, removes them and stops the
# runner; the contenders alternate for REPS rounds. Medians and ours/tcmu-runner are printed.
# Both devices get emulate_write_cache=1 (see serve()); RTS_BENCH_WCE=0 measures write-through.
# Software emulation makes single runs noisy: read the ratios, not the IOPS.
#
#   bench/vm/qcow-vs-tcmu-runner.sh
#   RTS_BENCH_REPS=5 RTS_BENCH_RUNTIME=5 bench/vm/qcow-vs-tcmu-runner.sh
. "$(dirname "$0")/../../tests/vm/lib.sh"
vm_scenario bench-qcow-vs-tcmu-runner --timeout 3000 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
REPS=${RTS_BENCH_REPS:-5}
RUNTIME=${RTS_BENCH_RUNTIME:-5}
SIZE_MB=256
[ -e "$BIN/handlers/handler_qcow2.so" ] || die "qcow2 handler (handler_qcow2.so, subtype qcow) not built in $BIN"
command -v tcmu-runner >/dev/null || die "tcmu-runner not installed"

step "two copies of a fully allocated qcow2 image (${SIZE_MB} MiB, converted from non-zero data)"
head -c 1048576 /dev/urandom > /tmp/chunk
for _ in $(seq $SIZE_MB); do cat /tmp/chunk; done > /tmp/pattern
# compat=0.10 (qcow2 v2): what tcmu-runner's qcow handler reads and writes
qemu-img convert -f raw -O qcow2 -o compat=0.10 /tmp/pattern /tmp/theirs.qcow2 || die "qemu-img convert"
rm -f /tmp/pattern
cp /tmp/theirs.qcow2 /tmp/ours.qcow2
ls -la /tmp/*.qcow2
start_dbus

N=0
# serve <runner command...>: start it, make user_9/q<N> on its image + a tcm_loop LUN; sets DEV
serve() {
	local img=$1
	shift
	N=$((N + 1))
	"$@" > "$OUT/runner-$N.log" 2>&1 &
	RPID=$!
	sleep 2
	kill -0 $RPID 2>/dev/null || { cat "$OUT/runner-$N.log"; die "runner '$*' exited"; }
	Q=$CF/core/user_9/q$N
	mkdir -p $Q
	cfs_set $Q/control "dev_config=qcow/$img"
	cfs_set $Q/control "dev_size=$((SIZE_MB << 20))"
	cfs_set $Q/control "max_data_area_mb=32"
	# A write-back cache for both: with emulate_write_cache=0 (the default) the device
	# promises durable writes, which ours keeps with a flush after every write and
	# tcmu-runner's qcow handler does not (it acks page-cache writes). Compare like with like.
	cfs_set $Q/attrib/emulate_write_cache ${RTS_BENCH_WCE:-1}
	cfs_set $Q/enable 1
	L=$CF/loopback/naa.50014050000009$(printf %02x $N)/tpgt_1
	mkdir -p $L/lun/lun_0
	cfs_set $L/nexus naa.50014050000008$(printf %02x $N)
	ln -s $Q $L/lun/lun_0/q
	wait_for 20 sh -c 'ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -q "^sd"' ||
		die "no disk for round $N"
	DEV=/dev/$(ls /sys/class/scsi_disk/*/device/block/ | grep '^sd' | head -1)
	wait_for 5 test -b $DEV || die "$DEV missing"
}
unserve() {
	rm $L/lun/lun_0/q
	rmdir $L/lun/lun_0 $L $(dirname $L)
	wait_for 10 sh -c '! ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -q "^sd"'
	rmdir $Q || bad "rmdir $Q"
	kill -TERM $RPID
	wait $RPID
}
run_fio() { # run_fio <dev> <rw> <qd> -> IOPS
	fio --name=b --filename=$1 --direct=1 --rw=$2 --bs=4k --iodepth=$3 --ioengine=io_uring \
		--time_based --runtime=$RUNTIME --size=$((SIZE_MB - 16))M --eta=never \
		--output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' -v rw=$2 '{ print (rw == "randread") ? $8 : $49 }'
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
points="randread:1 randread:16 randwrite:1 randwrite:16"
for p in $points; do : > /tmp/o.$p; : > /tmp/t.$p; done

for rep in $(seq $REPS); do
	step "round $rep/$REPS"
	serve /tmp/theirs.qcow2 tcmu-runner -l "$OUT"
	for p in $points; do run_fio $DEV ${p%:*} ${p#*:} >> /tmp/t.$p; done
	unserve
	serve /tmp/ours.qcow2 "$BIN/tcmu/runner/rts-runner" --handler-dir "$BIN/handlers" \
		--status-socket none
	for p in $points; do run_fio $DEV ${p%:*} ${p#*:} >> /tmp/o.$p; done
	unserve
done

step "images still consistent after the writes"
check "qemu-img check ours" qemu-img check /tmp/ours.qcow2
check "qemu-img check theirs" qemu-img check /tmp/theirs.qcow2

printf '\n%-10s %3s | %10s %12s | %11s   (medians of %d alternating rounds, %ds runs)\n' workload QD \
	"ours IOPS" "tcmu-runner" "ours/theirs" "$REPS" "$RUNTIME" | tee "$OUT/table.txt"
for p in $points; do
	o=$(median < /tmp/o.$p)
	t=$(median < /tmp/t.$p)
	printf '%-10s %3s | %10.0f %12.0f | %10.2fx   ours: %s tcmu-runner: %s\n' ${p%:*} ${p#*:} \
		"$o" "$t" "$(awk -v a="$o" -v b="$t" 'BEGIN { print (b > 0) ? a / b : 0 }')" \
		"$(tr '\n' ' ' < /tmp/o.$p)" "$(tr '\n' ' ' < /tmp/t.$p)" | tee -a "$OUT/table.txt"
done
ok "bench complete: $OUT/table.txt"
vm_finish
