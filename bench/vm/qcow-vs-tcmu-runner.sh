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
# Beside IOPS it prints each runner's CPU time and context switches per I/O, its threads and
# peak RSS, and the whole guest's CPU per I/O (bench/vm/metrics.sh): under software emulation
# the kernel's round trip caps both runners' IOPS, and the cost per I/O is what tells them apart.
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
	case $1 in
	*rts-runner) wait_for 60 grep -q "ready:" "$OUT/runner-$N.log" ;;
	*) sleep 2 ;; # tcmu-runner prints no ready line
	esac
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
	# a runner still subscribing to TCM-USER under load answers EAGAIN: retry, bounded
	wait_for 30 cfs_try $Q/enable 1 || cfs_set $Q/enable 1
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
. "$VM_REPO/bench/vm/metrics.sh"
points="randread:1 randread:16 randwrite:1 randwrite:16"
for p in $points; do : > /tmp/o.$p; : > /tmp/t.$p; done
: > /tmp/o.proc
: > /tmp/t.proc

# Per point and runner, one line per round: "iops runner_us cs guest_us"; per round and
# runner "threads peak_rss_kib" after all points.
for rep in $(seq $REPS); do
	step "round $rep/$REPS"
	serve /tmp/theirs.qcow2 tcmu-runner -l "$OUT"
	for p in $points; do m_fio $RPID $DEV ${p%:*} ${p#*:} >> /tmp/t.$p; done
	echo "$(m_threads $RPID) $(m_rss_kib $RPID)" >> /tmp/t.proc
	unserve
	serve /tmp/ours.qcow2 "$BIN/tcmu/runner/rts-runner" --handler-dir "$BIN/handlers" \
		--status-socket none
	for p in $points; do m_fio $RPID $DEV ${p%:*} ${p#*:} >> /tmp/o.$p; done
	echo "$(m_threads $RPID) $(m_rss_kib $RPID)" >> /tmp/o.proc
	unserve
done

step "images still consistent after the writes"
check "qemu-img check ours" qemu-img check /tmp/ours.qcow2
check "qemu-img check theirs" qemu-img check /tmp/theirs.qcow2

col() { awk -v c=$2 '{ print $c }' "$1" | median; }
printf '\n%-10s %3s | %9s %9s %7s | %9s %9s %7s | %7s %7s | %8s %8s %7s\n' workload QD \
	"ours IOPS" "tcmu-r" ratio "ours us" "tcmu-r us" ratio "ours cs" "tcmu cs" \
	"guest us" "tcmu-r" ratio | tee "$OUT/table.txt"
for p in $points; do
	o=$(col /tmp/o.$p 1) t=$(col /tmp/t.$p 1)
	ou=$(col /tmp/o.$p 2) tu=$(col /tmp/t.$p 2)
	og=$(col /tmp/o.$p 4) tg=$(col /tmp/t.$p 4)
	printf '%-10s %3s | %9.0f %9.0f %6sx | %9s %9s %6sx | %7s %7s | %8s %8s %6sx\n' ${p%:*} ${p#*:} \
		"$o" "$t" "$(ratio "$o" "$t")" "$ou" "$tu" "$(ratio "$ou" "$tu")" \
		"$(col /tmp/o.$p 3)" "$(col /tmp/t.$p 3)" "$og" "$tg" "$(ratio "$og" "$tg")" |
		tee -a "$OUT/table.txt"
	{ echo "  $p raw (iops runner_us cs guest_us):"
	  sed 's/^/    ours  /' /tmp/o.$p; sed 's/^/    tcmu  /' /tmp/t.$p; } >> "$OUT/raw.txt"
done
printf 'threads: ours %s, tcmu-runner %s; peak RSS KiB: ours %s, tcmu-runner %s (%sx)\n' \
	"$(col /tmp/o.proc 1)" "$(col /tmp/t.proc 1)" "$(col /tmp/o.proc 2)" "$(col /tmp/t.proc 2)" \
	"$(ratio "$(col /tmp/o.proc 2)" "$(col /tmp/t.proc 2)")" | tee -a "$OUT/table.txt"
echo "(medians of $REPS alternating rounds, ${RUNTIME}s runs; us = runner CPU microseconds per I/O," \
	"cs = runner context switches per I/O, guest = whole-guest CPU us per I/O)" | tee -a "$OUT/table.txt"
ok "bench complete: $OUT/table.txt"
vm_finish
