#!/bin/bash
# Bench (real kernel, in a qemu guest): what one runner costs as the number of devices grows.
# For N in RTS_BENCH_DEVICES (default 1 8 32 64) devices on ONE runner, each exported as a
# tcm_loop LUN, one fio job per device, 4 KiB randread and randwrite at QD16 on all at once.
# Contenders, alternating round by round (both runners claim the "qcow" subtype, so only one
# runs at a time):
#   tcmu-r   Debian's tcmu-runner, qcow handler (handler_qcow.so)
#   ours     rts-runner, our qcow handler, its own copies of the same images
#   ours-f   rts-runner, our file handler on raw images of the same size
#   ours-u   (only when named in RTS_BENCH_CONTENDERS) "ours" with RTS_INLINE_WRITES=0: every
#            write through io_uring (io-wq on tmpfs), the data path before common/bufwrite.h
# Printed per N and workload: aggregate IOPS, runner CPU µs per I/O, runner context switches
# per I/O, whole-guest CPU µs per I/O, runner threads, peak RSS and anonymous RSS (its own
# memory, without mapped libraries and TCMU rings), and ours/tcmu-runner ratios
# (bench/vm/metrics.sh says how each is measured). Medians of REPS rounds.
#
#   bench/vm/many-devices.sh
#   RTS_BENCH_REPS=5 RTS_BENCH_RUNTIME=5 RTS_BENCH_DEVICES="1 8 32 64" bench/vm/many-devices.sh
#   RTS_VM_MEM=3G ...   more guest RAM if 64 devices x RTS_BENCH_DEV_MB do not fit in tmpfs
#   RTS_BENCH_CONTENDERS="tcmu-r ours ours-u" ...   who runs (tcmu-r always; default: tcmu-r ours ours-f)
. "$(dirname "$0")/../../tests/vm/lib.sh"
vm_scenario bench-many-devices --timeout 5400 "$@"
. "$VM_REPO/bench/vm/metrics.sh"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
REPS=${RTS_BENCH_REPS:-5}
RUNTIME=${RTS_BENCH_RUNTIME:-5}
COUNTS=${RTS_BENCH_DEVICES:-1 8 32 64}
DEV_MB=${RTS_BENCH_DEV_MB:-16}
OURS=
for w in ${RTS_BENCH_CONTENDERS:-ours ours-f}; do
	case $w in tcmu-r) ;; ours | ours-f | ours-u) OURS="$OURS $w" ;; *) die "unknown contender $w" ;; esac
done
[ -e "$BIN/handlers/handler_qcow2.so" ] || die "qcow2 handler not built in $BIN"
[ -e "$BIN/handlers/handler_file.so" ] || die "file handler not built in $BIN"
command -v tcmu-runner >/dev/null || die "tcmu-runner not installed"

max=0
for n in $COUNTS; do [ "$n" -gt "$max" ] && max=$n; done
step "images: $max x $DEV_MB MiB qcow2 (metadata preallocated, compat=0.10) per runner, raw for ours-f"
mkdir -p /tmp/img
qemu-img create -q -f qcow2 -o compat=0.10,preallocation=metadata /tmp/img/proto.qcow2 ${DEV_MB}M ||
	die "qemu-img create"
for i in $(seq 0 $((max - 1))); do
	cp --sparse=always /tmp/img/proto.qcow2 /tmp/img/t$i.qcow2
	cp --sparse=always /tmp/img/proto.qcow2 /tmp/img/o$i.qcow2
	truncate -s ${DEV_MB}M /tmp/img/f$i.raw
done
start_dbus

HBA=user_11
TGT=$CF/loopback/naa.5001405000000b01
# serve <contender> <n>: start the runner, create n backstores and LUNs; sets RPID, DEVS
serve() {
	local who=$1 n=$2 i sub img
	case $who in
	tcmu-r) tcmu-runner -l "$OUT" > "$OUT/runner.log" 2>&1 & ;;
	ours | ours-f | ours-u)
		[ $who = ours-u ] && export RTS_INLINE_WRITES=0 || unset RTS_INLINE_WRITES
		"$BIN/tcmu/runner/rts-runner" --handler-dir "$BIN/handlers" --status-socket none \
			> "$OUT/runner.log" 2>&1 & ;;
	esac
	RPID=$!
	# tcmu-runner prints no ready line; both fail an enable that comes too early (EINTR or
	# EAGAIN, retried below) instead of leaving it waiting for ever
	if [ $who = tcmu-r ]; then sleep 2; else wait_for 60 grep -q "ready:" "$OUT/runner.log"; fi
	kill -0 $RPID 2>/dev/null || { cat "$OUT/runner.log"; die "$who exited"; }
	mkdir -p $TGT/tpgt_1
	cfs_set $TGT/tpgt_1/nexus naa.5001405000000b02
	for i in $(seq 0 $((n - 1))); do
		case $who in
		tcmu-r) sub=qcow img=/tmp/img/t$i.qcow2 ;;
		ours | ours-u) sub=qcow img=/tmp/img/o$i.qcow2 ;;
		ours-f) sub=file img=/tmp/img/f$i.raw ;;
		esac
		mkdir -p $CF/core/$HBA/d$i
		cfs_set $CF/core/$HBA/d$i/control "dev_config=$sub/$img"
		cfs_set $CF/core/$HBA/d$i/control "dev_size=$((DEV_MB << 20))"
		cfs_set $CF/core/$HBA/d$i/attrib/emulate_write_cache 1
		# a runner still subscribing to TCM-USER under load answers EAGAIN: retry, bounded
		wait_for 30 cfs_try $CF/core/$HBA/d$i/enable 1 || cfs_set $CF/core/$HBA/d$i/enable 1 ||
			die "$who: enable d$i"
		mkdir -p $TGT/tpgt_1/lun/lun_$i
		ln -s $CF/core/$HBA/d$i $TGT/tpgt_1/lun/lun_$i/d
	done
	wait_for 60 sh -c "[ \$(ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -c '^sd') -ge $n ]" ||
		die "$who: fewer than $n disks"
	DEVS=$(ls /sys/class/scsi_disk/*/device/block/ | grep '^sd' | sed 's|^|/dev/|' | tr '\n' ' ')
	for d in $DEVS; do wait_for 5 test -b "$d" || die "$d missing"; done
}
unserve() {
	local l
	for l in $TGT/tpgt_1/lun/lun_*; do
		rm -f $l/d
		rmdir $l
	done
	rmdir $TGT/tpgt_1 $TGT
	wait_for 30 sh -c '! ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -q "^sd"'
	for l in $CF/core/$HBA/d*; do rmdir $l || bad "rmdir $l"; done
	kill -TERM $RPID
	wait $RPID
}
# agg <rw>: one fio job per device at QD16 at once; prints "iops runner_us cs guest_us"
agg() {
	local rw=$1 args=() d t0 c0 g0 t1 c1 g1 line
	for d in $DEVS; do args+=(--name="$(basename "$d")" --filename="$d"); done
	t0=$(m_proc_ticks $RPID) c0=$(m_proc_cs $RPID) g0=$(m_guest_ticks)
	line=$(fio --direct=1 --rw="$rw" --bs=4k --iodepth=16 --ioengine=io_uring --time_based \
		--runtime="$RUNTIME" --size=$((DEV_MB - 1))M --eta=never --group_reporting \
		--output-format=terse --terse-version=3 "${args[@]}" 2>/dev/null | tail -1)
	g1=$(m_guest_ticks) t1=$(m_proc_ticks $RPID) c1=$(m_proc_cs $RPID)
	awk -F';' -v hz="$M_HZ" -v dt=$((t1 - t0)) -v dc=$((c1 - c0)) -v dg=$((g1 - g0)) '{
		ios = ($6 + $47) / 4; iops = $8 + $49
		if (ios <= 0) { print iops, "nan nan nan"; exit }
		us = 1e6 / hz
		printf "%s %.2f %.3f %.1f\n", iops, dt * us / ios, dc / ios, dg * us / ios }' <<< "$line"
}

for n in $COUNTS; do
	for who in tcmu-r $OURS; do
		for rw in randread randwrite; do : > /tmp/r.$n.$who.$rw; done
		: > /tmp/p.$n.$who
	done
	for rep in $(seq $REPS); do
		for who in tcmu-r $OURS; do
			step "N=$n round $rep/$REPS: $who"
			serve $who $n
			for rw in randread randwrite; do agg $rw >> /tmp/r.$n.$who.$rw; done
			echo "$(m_threads $RPID) $(m_rss_kib $RPID) $(m_anon_kib $RPID)" >> /tmp/p.$n.$who
			unserve
		done
	done
done

col() { awk -v c=$2 '{ print $c }' "$1" | median; }
printf '\n%3s %-9s %-6s | %8s %8s %6s | %8s %8s %6s | %6s %6s | %8s %8s | %4s %4s | %8s %8s %6s | %7s %7s %6s\n' \
	N workload who IOPS tcmu-r ratio "us/IO" tcmu-r ratio cs/IO tcmu-r "guest us" tcmu-r \
	thr tcmu "RSS KiB" tcmu-r ratio "anon" tcmu-r ratio | tee "$OUT/table.txt"
for n in $COUNTS; do
	for rw in randread randwrite; do
		T=/tmp/r.$n.tcmu-r.$rw
		for who in $OURS; do
			R=/tmp/r.$n.$who.$rw
			printf '%3s %-9s %-6s | %8.0f %8.0f %5sx | %8s %8s %5sx | %6s %6s | %8s %8s | %4s %4s | %8s %8s %5sx | %7s %7s %5sx\n' \
				$n $rw $who "$(col $R 1)" "$(col $T 1)" "$(ratio "$(col $R 1)" "$(col $T 1)")" \
				"$(col $R 2)" "$(col $T 2)" "$(ratio "$(col $R 2)" "$(col $T 2)")" \
				"$(col $R 3)" "$(col $T 3)" "$(col $R 4)" "$(col $T 4)" \
				"$(col /tmp/p.$n.$who 1)" "$(col /tmp/p.$n.tcmu-r 1)" \
				"$(col /tmp/p.$n.$who 2)" "$(col /tmp/p.$n.tcmu-r 2)" \
				"$(ratio "$(col /tmp/p.$n.$who 2)" "$(col /tmp/p.$n.tcmu-r 2)")" \
				"$(col /tmp/p.$n.$who 3)" "$(col /tmp/p.$n.tcmu-r 3)" \
				"$(ratio "$(col /tmp/p.$n.$who 3)" "$(col /tmp/p.$n.tcmu-r 3)")" | tee -a "$OUT/table.txt"
			{ echo "  N=$n $rw $who raw (iops runner_us cs guest_us):"; sed 's/^/    /' $R
			  echo "  N=$n $rw tcmu-r raw:"; sed 's/^/    /' $T; } >> "$OUT/raw.txt"
		done
	done
done
echo "(medians of $REPS alternating rounds, ${RUNTIME}s runs, 4 KiB QD16 per device; us/IO and cs/IO:" \
	"runner CPU and context switches per I/O; guest us: whole-guest CPU per I/O;" \
	"thr, RSS: runner threads and peak RSS after the round; anon: the runner's RssAnon after" \
	"the round, its own memory without mapped libraries and TCMU rings)" | tee -a "$OUT/table.txt"
ok "bench complete: $OUT/table.txt"
vm_finish
