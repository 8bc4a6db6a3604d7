#!/bin/bash
# Bench (real kernel, in a qemu guest): what one rtsctl command costs on a large configuration,
# against targetcli doing the same on the same tree. The tree is bench/vm/gen-saveconfig.py N
# (default 1000: N ramdisk backstores, one iSCSI target/TPG, N LUNs, one ACL per LUN mapping
# it: 4N+3 objects) restored by rtsctl. Each command runs RTS_BENCH_REPS times (default 5),
# ours and targetcli's interleaved; the table prints medians in seconds and targetcli/rtsctl.
# Issue #17's targets: < 0.2 s for create/delete/get, < 0.5 s for a full ls at N = 1000.
# A second table counts the system calls of one more run of each command under strace (a
# figure host load does not move, unlike the times under software emulation).
#
#   bench/vm/ctl-large-tree.sh
#   RTS_BENCH_N=100 RTS_BENCH_REPS=3 bench/vm/ctl-large-tree.sh
#   RTS_BENCH_PEER=0 bench/vm/ctl-large-tree.sh    ours only (targetcli is slow on big trees)
#   RTS_BENCH_BASELINE=build/old/rtsctl bench/vm/ctl-large-tree.sh
#                         adds a column for another rtsctl binary (before/after a change);
#                         it must sit in the checkout or the build directory (shared with the guest)
. "$(dirname "$0")/../../tests/vm/lib.sh"
vm_scenario ctl-large-tree --timeout 3000 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RTSCTL=$BIN/ctl/rtsctl
N=${RTS_BENCH_N:-1000}
REPS=${RTS_BENCH_REPS:-5}
PEER=${RTS_BENCH_PEER:-1}
PEER_TIMEOUT=${RTS_BENCH_PEER_TIMEOUT:-300}
BASE=${RTS_BENCH_BASELINE:-}
[ -z "$BASE" ] || [ "${BASE#/}" != "$BASE" ] || BASE=$VM_REPO/$BASE
[ -z "$BASE" ] || [ -x "$BASE" ] || die "baseline rtsctl '$BASE' not found"
IQN=iqn.2003-01.org.linux-iscsi.rtslib-c:bench
TPG=/iscsi/$IQN/tpg1
res=$OUT/results.txt
[ -x "$RTSCTL" ] || die "rtsctl not built"
if [ "$PEER" = 1 ] && ! command -v targetcli > /dev/null; then
	skip "targetcli not installed: ours only"
	PEER=0
fi
mkdir -p /etc/target

step "restore the N=$N tree"
cfg=$OUT/tree-$N.json
python3 "$VM_REPO/bench/vm/gen-saveconfig.py" "$N" --plugin ramdisk --acls per-lun > "$cfg" ||
	die "gen-saveconfig $N"
"$RTSCTL" clear --yes > /dev/null 2>&1
t=
timed t "$RTSCTL" restore "$cfg" > "$OUT/restore.log" 2>&1 || die "rtsctl restore (see restore.log)"
luns=$(find "$CF/iscsi/$IQN/tpgt_1/lun" -mindepth 1 -maxdepth 1 -name 'lun_*' 2> /dev/null | wc -l)
[ "$luns" -eq "$N" ] || die "restore made $luns LUNs, not $N"
ok "restored $((4 * N + 3)) objects in ${t}s"
if [ "$PEER" = 1 ]; then
	start_dbus # targetcli asks the bus for user: backstore handlers
	# one-shot targetcli commands must not write /etc/target/saveconfig.json on exit
	targetcli set global auto_save_on_exit=false > /dev/null 2>&1
fi

# run <tool> <label> <command...>: seconds with 3 decimals into $OUT/t-<tool>-<label>.txt
run() {
	local tool=$1 label=$2 t0 t1 rc
	shift 2
	t0=$(date +%s%N)
	if [ "$tool" = targetcli ]; then
		timeout "$PEER_TIMEOUT" "$@" > "$OUT/last-$tool.log" 2>&1
	else
		"$@" > "$OUT/last-$tool.log" 2>&1
	fi
	rc=$?
	t1=$(date +%s%N)
	if [ $rc -ne 0 ]; then
		bad "$tool $label: exit $rc ($(tail -1 "$OUT/last-$tool.log"))"
		echo "FAIL" >> "$OUT/t-$tool-$label.txt"
		return 1
	fi
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1e9 }' >> "$OUT/t-$tool-$label.txt"
}

median() { # median <file>
	grep -v FAIL "$1" 2> /dev/null | sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'
}

# rtsctl_rep <column> <rtsctl binary>: one repetition of every command ("startup" is
# --version: dynamic linking, no configfs)
rtsctl_rep() {
	local col=$1 bin=$2
	run "$col" startup "$bin" --version
	run "$col" ls "$bin" ls
	run "$col" get-so "$bin" get /backstores/ramdisk/bench5 attribute block_size
	run "$col" get-tpg "$bin" get "$TPG" attribute
	run "$col" create-so "$bin" create /backstores/ramdisk/newso size=1M
	run "$col" create-lun "$bin" --no-auto-map create "$TPG/luns/lun$N" \
		storage=/backstores/ramdisk/newso
	run "$col" delete-lun "$bin" delete "$TPG/luns/lun$N"
	run "$col" delete-so "$bin" delete /backstores/ramdisk/newso
}

# calls_rep <column> <rtsctl binary>: the same commands once more, each under strace -c:
# total system calls into $OUT/c-<column>-<label>.txt
calls_rep() {
	local col=$1 bin=$2 label
	count() {
		label=$1
		shift
		strace -f -qq -c -o "$OUT/strace-$col-$label.txt" "$@" > /dev/null 2>&1 ||
			bad "$col $label under strace failed"
		awk '$NF == "total" { print $4 }' "$OUT/strace-$col-$label.txt" > "$OUT/c-$col-$label.txt"
	}
	count startup "$bin" --version
	count ls "$bin" ls
	count get-so "$bin" get /backstores/ramdisk/bench5 attribute block_size
	count get-tpg "$bin" get "$TPG" attribute
	count create-so "$bin" create /backstores/ramdisk/newso size=1M
	count create-lun "$bin" --no-auto-map create "$TPG/luns/lun$N" storage=/backstores/ramdisk/newso
	count delete-lun "$bin" delete "$TPG/luns/lun$N"
	count delete-so "$bin" delete /backstores/ramdisk/newso
}

rm -f "$OUT"/t-*.txt "$OUT"/c-*.txt "$OUT"/strace-*.txt
step "$REPS interleaved repetitions"
for rep in $(seq "$REPS"); do
	# "exec" (/bin/true: fork, exec and this measurement) is the floor under every command
	run rtsctl exec /bin/true
	rtsctl_rep rtsctl "$RTSCTL"
	[ -z "$BASE" ] || rtsctl_rep before "$BASE"
	[ "$PEER" = 1 ] || continue
	# targetcli, the same work
	run targetcli startup targetcli --version
	run targetcli ls targetcli ls
	run targetcli get-so targetcli /backstores/ramdisk/bench5 get attribute block_size
	run targetcli get-tpg targetcli "$TPG" get attribute
	run targetcli create-so targetcli /backstores/ramdisk create newso 1M
	run targetcli create-lun targetcli "$TPG/luns" create /backstores/ramdisk/newso "$N" false
	run targetcli delete-lun targetcli "$TPG/luns" delete "$N"
	run targetcli delete-so targetcli /backstores/ramdisk delete newso
	echo "rep $rep done"
done

if command -v strace > /dev/null; then
	step "system calls per command (strace -f -c)"
	calls_rep rtsctl "$RTSCTL"
	[ -z "$BASE" ] || calls_rep before "$BASE"
else
	skip "strace not installed: no system call counts"
fi

step "results (median of $REPS, seconds)"
printf '%-11s | %9s %9s %8s | %11s %9s | %s\n' command rtsctl before "before/" targetcli "tcli/" \
	"target (rtsctl)" | tee "$res"
for label in exec startup ls get-so get-tpg create-so create-lun delete-lun delete-so; do
	o=$(median "$OUT/t-rtsctl-$label.txt")
	p=-
	ratio=-
	b=-
	bratio=-
	if [ -n "$BASE" ]; then
		b=$(median "$OUT/t-before-$label.txt")
		bratio=$(awk -v a="$o" -v b="$b" 'BEGIN { if (a > 0 && b != "-") printf "%.1fx", b / a; else print "-" }')
	fi
	if [ "$PEER" = 1 ]; then
		p=$(median "$OUT/t-targetcli-$label.txt")
		ratio=$(awk -v a="$o" -v b="$p" 'BEGIN { if (a > 0 && b != "-") printf "%.1fx", b / a; else print "-" }')
	fi
	limit=0.2
	[ "$label" = ls ] && limit=0.5
	case $label in exec | startup) limit=0.2 ;; esac
	met=$(awk -v a="$o" -v l="$limit" 'BEGIN { print (a != "-" && a < l) ? "< " l " met" : "< " l " missed" }')
	printf '%-11s | %9s %9s %8s | %11s %9s | %s\n' "$label" "$o" "$b" "$bratio" "$p" "$ratio" \
		"$met" | tee -a "$res"
done
if ls "$OUT"/c-rtsctl-*.txt > /dev/null 2>&1; then
	printf '\n%-11s | %9s %9s %8s   (system calls, one run under strace -f -c)\n' command rtsctl \
		before "before/" | tee -a "$res"
	for label in startup ls get-so get-tpg create-so create-lun delete-lun delete-so; do
		o=$(cat "$OUT/c-rtsctl-$label.txt" 2> /dev/null)
		b=$(cat "$OUT/c-before-$label.txt" 2> /dev/null)
		bratio=$(awk -v a="${o:-0}" -v b="${b:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.1fx", b / a; else print "-" }')
		printf '%-11s | %9s %9s %8s\n' "$label" "${o:--}" "${b:--}" "$bratio" | tee -a "$res"
	done
fi
echo "N=$N ($((4 * N + 3)) objects), $(nproc) vCPU, kernel $(uname -r)" | tee -a "$res"
grep -q FAIL "$OUT"/t-rtsctl-*.txt && bad "an rtsctl command failed (see above)"
ok "table in $res"
"$RTSCTL" clear --yes > /dev/null 2>&1
vm_finish
