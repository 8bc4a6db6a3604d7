#!/bin/bash
# Bench (real kernel, in a qemu guest): `rtsctl restore` against `targetctl restore` of the
# same N-LUN saveconfig.json (bench/vm/gen-saveconfig.py: N ramdisk backstores, one iSCSI
# target/TPG/portal, N LUNs, one ACL per LUN mapping it: rtslib refuses mapped LUNs above 255,
# so one ACL with N mapped LUNs cannot be restored by targetctl at N=1000; RTS_BENCH_ACLS=one
# gives that layout), interleaved, each run from an empty LIO (cleared by rtsctl, which, unlike
# targetctl, also clears mapped LUNs above 255). Prints seconds, per-object cost and targetctl/rtsctl. A targetctl run longer than
# RTS_BENCH_PEER_TIMEOUT seconds is stopped and shown as a lower bound (">T").
#
#   bench/vm/restore-vs-targetctl.sh                  N = 10 100 1000, 1 run each
#   RTS_BENCH_SIZES="10 100" RTS_BENCH_REPEAT=3 bench/vm/restore-vs-targetctl.sh
. "$(dirname "$0")/../../tests/vm/lib.sh"
vm_scenario restore-vs-targetctl --timeout 3000 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RTSCTL=$BIN/ctl/rtsctl
read -r -a sizes <<< "${RTS_BENCH_SIZES:-10 100 1000}"
REPEAT=${RTS_BENCH_REPEAT:-1}
PEER_TIMEOUT=${RTS_BENCH_PEER_TIMEOUT:-900}
ACLS=${RTS_BENCH_ACLS:-per-lun}
IQN=iqn.2003-01.org.linux-iscsi.rtslib-c:bench
res=$OUT/results.txt
mkdir -p /etc/target
[ -x "$RTSCTL" ] || die "rtsctl not built"

count_luns() { ls -d $CF/iscsi/$IQN/tpgt_1/lun/lun_* 2>/dev/null | wc -l; }
run_one() { # run_one <tool> <cfg> <n> -> seconds (or >T)
	local t rc
	case $1 in
	rtsctl)
		"$RTSCTL" clear --yes > /dev/null 2>&1
		timed t "$RTSCTL" restore "$2" > "$OUT/last.log" 2>&1
		rc=$?
		;;
	targetctl)
		"$RTSCTL" clear --yes > /dev/null 2>&1
		timed t timeout "$PEER_TIMEOUT" targetctl restore "$2" > "$OUT/last.log" 2>&1
		rc=$?
		[ $rc -eq 124 ] && { echo ">$PEER_TIMEOUT"; return 0; }
		;;
	esac
	[ $rc -eq 0 ] && [ "$(count_luns)" -eq "$3" ] || { echo "FAIL"; return 1; }
	echo "$t"
}

printf '%-6s %-8s | %10s %10s | %10s %10s | %s\n' N objects "rtsctl s" "us/object" \
	"targetctl s" "us/object" "targetctl/rtsctl" | tee "$res"
for n in "${sizes[@]}"; do
	cfg=$OUT/bench-$n.json
	python3 "$VM_REPO/bench/vm/gen-saveconfig.py" "$n" --plugin ramdisk --acls "$ACLS" > "$cfg" || die "gen $n"
	objs=$((4 * n + 3))
	ours=() peer=()
	for _ in $(seq "$REPEAT"); do
		o=$(run_one rtsctl "$cfg" "$n") || bad "rtsctl restore N=$n"
		p=$(run_one targetctl "$cfg" "$n") || bad "targetctl restore N=$n"
		ours+=("$o")
		peer+=("$p")
	done
	o=$(printf '%s\n' "${ours[@]}" | sort -n | head -1)
	p=$(printf '%s\n' "${peer[@]}" | sed 's/>//' | sort -n | head -1)
	lb=""
	printf '%s\n' "${peer[@]}" | grep -q '>' && lb=">"
	printf '%-6s %-8s | %10s %10.0f | %10s %10.0f | %s%.1fx\n' "$n" "$objs" "$o" \
		"$(awk -v t="$o" -v n="$objs" 'BEGIN { print t * 1e6 / n }')" "$lb$p" \
		"$(awk -v t="$p" -v n="$objs" 'BEGIN { print t * 1e6 / n }')" "$lb" \
		"$(awk -v a="$o" -v b="$p" 'BEGIN { print (a > 0) ? b / a : 0 }')" | tee -a "$res"
	ok "N=$n: rtsctl ${ours[*]} s, targetctl ${peer[*]} s"
done
"$RTSCTL" clear --yes > /dev/null 2>&1
vm_finish
