#!/bin/bash
# Bench (real kernel, in a qemu guest; issue #13): rts-runner's rbd handler against Debian's
# tcmu-runner rbd handler (handler_rbd.so) on the same image of a Ceph cluster that runs in
# the guest (tests/vm/lib.sh ceph_up: 1 mon + 1 memstore OSD). Each contender serves the
# image through a user:rbd backstore (cfgstring rbd/rbd/<image>;conf=...;osd_op_timeout=30,
# which both parse) exported by tcm_loop; fio 4 KiB randread/randwrite at QD1 and QD16
# (io_uring, O_DIRECT on the SCSI disk). The image is written in full first, so reads reach
# the OSD (librbd's object map would answer reads of never-written objects itself).
#
# Both runners claim the "rbd" subtype and only one process may serve TCM-USER's devices, so
# one runs at a time: each round starts one runner, creates its backstore and LUN, runs the
# four points, removes them (the runner closes the image and releases its exclusive lock)
# and stops the runner by PID; the contenders alternate for REPS rounds, and which goes first
# alternates too. Medians and ours/tcmu-runner are printed. Both devices get
# emulate_write_cache=1 (RTS_BENCH_WCE=0: write-through, where ours adds a flush per write,
# which tcmu-runner's rbd handler does not).
# Beside IOPS: each runner's CPU time and context switches per I/O, its threads and peak RSS,
# and the whole guest's CPU per I/O (bench/vm/metrics.sh; the guest figure includes the mon
# and the OSD). Software emulation makes single runs noisy: read the ratios, not the IOPS.
#
#   bench/vm/rbd-vs-tcmu-runner.sh
#   RTS_BENCH_REPS=5 RTS_BENCH_RUNTIME=10 bench/vm/rbd-vs-tcmu-runner.sh
. "$(dirname "$0")/../../tests/vm/lib.sh"
vm_scenario bench-rbd-vs-tcmu-runner --timeout 900 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
REPS=${RTS_BENCH_REPS:-3}
RUNTIME=${RTS_BENCH_RUNTIME:-5}
SIZE_MB=128
IMAGE=bench
[ -e "$BIN/handlers/handler_rbd.so" ] || die "rbd handler not built in $BIN (librbd-dev missing?)"
command -v tcmu-runner >/dev/null || die "tcmu-runner not installed"
THEIRS_SO=$(dpkg -L tcmu-runner 2>/dev/null | grep '/handler_rbd\.so$' | head -1)
[ -n "$THEIRS_SO" ] && [ -e "$THEIRS_SO" ] || die "tcmu-runner's handler_rbd.so not installed"

step "Ceph in the guest, one ${SIZE_MB} MiB image written in full"
ceph_up /tmp/ceph 26700
[ $? = 77 ] && die "Ceph not installed"
CONF=$CEPH_CONF_FILE
timeout 60 rbd -c "$CONF" create --size ${SIZE_MB}M rbd/$IMAGE || die "rbd create"
timeout 120 rbd -c "$CONF" bench --io-type write --io-pattern seq --io-size 4M \
	--io-threads 4 --io-total ${SIZE_MB}M rbd/$IMAGE > "$OUT/rbd-fill.txt" 2>&1 ||
	{ tail -5 "$OUT/rbd-fill.txt"; die "rbd bench (fill)"; }
echo "     image features: $(rbd -c "$CONF" info rbd/$IMAGE | sed -n 's/.*features: //p')"
start_dbus

N=0
# serve <ready pattern|-> <runner command...>: start it, wait until it is ready (its log
# matches the pattern; '-': 2 s), make user_9/r<N> on the image + a tcm_loop LUN; sets RPID, DEV
serve() {
	local ready=$1
	shift
	N=$((N + 1))
	"$@" > "$OUT/runner-$N.log" 2>&1 &
	RPID=$!
	if [ "$ready" = - ]; then
		sleep 2
	else
		wait_for 30 grep -q "$ready" "$OUT/runner-$N.log"
	fi
	kill -0 $RPID 2>/dev/null || { cat "$OUT/runner-$N.log"; die "runner '$*' exited"; }
	Q=$CF/core/user_9/r$N
	mkdir -p $Q
	cfs_set $Q/control "dev_config=rbd/rbd/$IMAGE;conf=$CONF;osd_op_timeout=30"
	cfs_set $Q/control "dev_size=$((SIZE_MB << 20))"
	cfs_set $Q/control "max_data_area_mb=32"
	cfs_set $Q/attrib/emulate_write_cache ${RTS_BENCH_WCE:-1}
	# a runner still subscribing to TCM-USER under load answers EAGAIN: retry, bounded
	wait_for 60 cfs_try $Q/enable 1 || cfs_set $Q/enable 1
	L=$CF/loopback/naa.50014050000009$(printf %02x $N)/tpgt_1
	mkdir -p $L/lun/lun_0
	cfs_set $L/nexus naa.50014050000008$(printf %02x $N)
	ln -s $Q $L/lun/lun_0/r
	wait_for 30 sh -c 'ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -q "^sd"' ||
		{ tail -20 "$OUT/runner-$N.log"; die "no disk for round $N"; }
	DEV=/dev/$(ls /sys/class/scsi_disk/*/device/block/ | grep '^sd' | head -1)
	wait_for 5 test -b $DEV || die "$DEV missing"
	# one read first: the image is opened, the first I/O is not in the figures
	dd if=$DEV of=/dev/null bs=4k count=1 iflag=direct status=none || bad "first read on $DEV (round $N)"
}
unserve() {
	rm $L/lun/lun_0/r
	rmdir $L/lun/lun_0 $L $(dirname $L)
	wait_for 10 sh -c '! ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -q "^sd"'
	rmdir $Q || bad "rmdir $Q"
	kill -TERM $RPID
	wait $RPID
	# the closed image's exclusive lock is released: the next contender does not break it
	wait_for 10 sh -c "! rbd -c '$CONF' lock ls rbd/$IMAGE 2>/dev/null | grep -q ." ||
		echo "     note: a lock is still listed on rbd/$IMAGE after round $N"
}
. "$VM_REPO/bench/vm/metrics.sh"
points="randread:1 randread:16 randwrite:1 randwrite:16"
for p in $points; do : > /tmp/o.$p; : > /tmp/t.$p; done
: > /tmp/o.proc
: > /tmp/t.proc
: > /tmp/o.split
: > /tmp/t.split
# split PID: "name ticks" per thread of PID over its whole life (digits stripped from the
# thread name, so msgr-worker-0..2 add up): where the runner's CPU goes, librbd/librados
# threads (msgr-worker, io_context_pool, fn_anonymous, ...) or the runner's own
split() {
	local t s c
	for t in /proc/$1/task/*; do
		s=$(cat "$t/stat" 2>/dev/null) || continue
		c=${s#*(}
		c=${c%)*}
		c=${c//[0-9]/}
		s=${s##*) }
		echo "${c// /_} $(awk '{ print $12 + $13 }' <<< "$s")"
	done
}

theirs() {
	serve - tcmu-runner -l "$OUT"
	for p in $points; do m_fio $RPID $DEV ${p%:*} ${p#*:} >> /tmp/t.$p; done
	echo "$(m_threads $RPID) $(m_rss_kib $RPID)" >> /tmp/t.proc
	split $RPID >> /tmp/t.split
	unserve
}
ours() {
	serve "ready:" "$BIN/tcmu/runner/rts-runner" --handler-dir "$BIN/handlers" \
		--status-socket none
	for p in $points; do m_fio $RPID $DEV ${p%:*} ${p#*:} >> /tmp/o.$p; done
	echo "$(m_threads $RPID) $(m_rss_kib $RPID)" >> /tmp/o.proc
	split $RPID >> /tmp/o.split
	unserve
}
# Per point and runner, one line per round: "iops runner_us cs guest_us"; per round and
# runner "threads peak_rss_kib" after all points.
for rep in $(seq $REPS); do
	step "round $rep/$REPS"
	if [ $((rep % 2)) = 1 ]; then theirs; ours; else ours; theirs; fi
done

step "every run completed I/O"
for p in $points; do
	check "$p: no run without I/O" sh -c "! grep -q nan /tmp/o.$p /tmp/t.$p"
done
check "tcmu-runner loaded its rbd handler" grep -q . "$OUT/tcmu-runner.log"
grep -hiE "rbd|error" "$OUT/tcmu-runner.log" | sort | uniq -c | sort -rn | head -8 | sed 's/^/     tcmu-runner.log | /'

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
echo "(medians of $REPS alternating rounds, ${RUNTIME}s runs, emulate_write_cache=${RTS_BENCH_WCE:-1};" \
	"us = runner CPU microseconds per I/O, cs = runner context switches per I/O," \
	"guest = whole-guest CPU us per I/O incl. mon+OSD)" | tee -a "$OUT/table.txt"
for w in o:ours t:tcmu-runner; do
	printf '%s CPU by thread (all rounds, open to close): %s\n' "${w#*:}" "$(awk '
		{ n[$1] += $2; all += $2 }
		END { for (k in n) if (all > 0) printf "%.1f %s\n", 100 * n[k] / all, k }' /tmp/${w%:*}.split |
		sort -rn | head -8 | awk '{ printf "%s%s %s%%", (NR > 1 ? ", " : ""), $2, $1 }')"
done | tee -a "$OUT/table.txt"
ceph_down /tmp/ceph
ok "bench complete: $OUT/table.txt"
vm_finish
