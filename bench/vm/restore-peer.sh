#!/bin/bash
# Benchmark (not a test): wall time of restoring an N-LUN saveconfig.json into an empty LIO, in a
# fresh real-kernel guest. Peer numbers for the rtsctl restore bench.
#
#   bench/vm/restore-peer.sh [N...]                 default N: 10 100; targetctl (python3-rtslib-fb)
#   RESTORE="rtsctl restore" CLEAR="rtsctl clear --yes" bench/vm/restore-peer.sh   another tool
#   PLUGIN=fileio REPEAT=3 bench/vm/restore-peer.sh
#
# Config per N (bench/vm/gen-saveconfig.py): N 1 MiB backstores, 1 iSCSI target/TPG + portal,
# N LUNs, 1 ACL with N mapped LUNs, full attribute sets. Each run starts from an empty tree
# (`$CLEAR`), the restored tree is checked (LUN and mapped LUN count). Results: stdout and
# $OUT/results.txt. Absolute numbers are TCG-emulated: compare tools only within one run.
. "$(dirname "$0")/../../tests/vm/lib.sh"
vm_scenario restore-peer --timeout 1500 "$@"

RESTORE=${RESTORE:-targetctl restore}
CLEAR=${CLEAR:-targetctl clear}
PLUGIN=${PLUGIN:-ramdisk}
REPEAT=${REPEAT:-3}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 100)
IQN=iqn.2003-01.org.linux-iscsi.rtslib-c:bench
INIT=iqn.1994-05.com.example:bench-client
res=$OUT/results.txt
: > "$res"
mkdir -p /tmp/bench-fileio

echo "# restore of N-LUN configs, $PLUGIN backstores, kernel $(uname -r), qemu TCG -smp 2 (guest)" | tee -a "$res"
echo "# tool: '$RESTORE' (clear: '$CLEAR'), $REPEAT runs each, seconds" | tee -a "$res"
printf '%-6s %-8s %-8s %s\n' N min median runs | tee -a "$res"
for n in "${sizes[@]}"; do
	cfg=$OUT/bench-$PLUGIN-$n.json
	python3 "$VM_REPO/bench/vm/gen-saveconfig.py" "$n" --plugin "$PLUGIN" > "$cfg" || die "gen-saveconfig $n"
	if [ "$PLUGIN" = fileio ]; then
		for i in $(seq 0 $((n - 1))); do truncate -s 1M /tmp/bench-fileio/f$i.img; done
	fi
	times=()
	for r in $(seq "$REPEAT"); do
		$CLEAR > /dev/null 2>&1 || die "$CLEAR failed"
		# shellcheck disable=SC2086
		timed t $RESTORE "$cfg" > "$OUT/restore-$n-$r.log" 2>&1 || bad "$RESTORE $cfg (run $r) failed"
		times+=("$t")
		nl=$(ls -d $CF/iscsi/$IQN/tpgt_1/lun/lun_* 2>/dev/null | wc -l)
		nm=$(ls -d $CF/iscsi/$IQN/tpgt_1/acls/$INIT/lun_* 2>/dev/null | wc -l)
		[ "$nl" -eq "$n" ] && [ "$nm" -eq "$n" ] && ok "N=$n run $r: ${t}s ($nl LUNs, $nm mapped LUNs)" ||
			bad "N=$n run $r: $nl LUNs, $nm mapped LUNs after restore, expected $n"
	done
	med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	min=$(printf '%s\n' "${times[@]}" | sort -n | head -1)
	printf '%-6s %-8s %-8s %s\n' "$n" "$min" "$med" "${times[*]}" | tee -a "$res"
	timed t $CLEAR > /dev/null 2>&1
	echo "#   clear of N=$n: ${t}s" | tee -a "$res"
done
cat "$res"
vm_finish
