#!/bin/bash
# Scenario: the independent SCSI conformance suite of libiscsi (iscsi-test-cu, a userspace
# iSCSI initiator) against kernel fileio and our file and qcow handlers, exported side by side
# over iSCSI on 127.0.0.1 (tests/vm/iscsi-lib.sh). Per LUN: tests passed, failed, skipped;
# every test whose outcome differs between the kernel and ours is listed
# ($OUT/summary.txt, tests/vm/cu-summary.py). Passes when our LUNs have no failures and pass
# at least as many tests as kernel fileio.
#   RTS_CU_TESTS=SCSI.Read10 tests/vm/iscsi-conformance.sh     a subset (default: family SCSI;
#                                                             comma-separated patterns)
#   RTS_CU_VERBOSE=1                                          iscsi-test-cu -V (CDBs and sense)
#   RTS_CU_TIMEOUT=240                                        bound of each LUN's run (480 s)
. "$(dirname "$0")/lib.sh"
vm_scenario iscsi-conformance --timeout 1700 "$@"
CU_TESTS=${RTS_CU_TESTS:-SCSI}
. "$VM_REPO/tests/vm/iscsi-lib.sh"
command -v iscsi-test-cu >/dev/null || { skip "iscsi-test-cu (libiscsi-bin) not installed"; vm_finish; }

iscsi_setup

files=()
for lun in 0 1 2; do
	name=${ISCSI_LUN_NAMES[$lun]}
	step "iscsi-test-cu --dataloss --test=$CU_TESTS on LUN $lun ($name)"
	timed t timeout "${RTS_CU_TIMEOUT:-480}" iscsi-test-cu --dataloss ${RTS_CU_VERBOSE:+-V} --test="$CU_TESTS" \
		"iscsi://127.0.0.1/$ISCSI_IQN/$lun" > "$OUT/cu-$name.txt" 2>&1
	echo "     ${t}s; $(grep -E '^ +tests ' "$OUT/cu-$name.txt" | tail -1)"
	files+=("$name=$OUT/cu-$name.txt")
done

step "summary"
python3 "$VM_REPO/tests/vm/cu-summary.py" "${files[@]}" | tee "$OUT/summary.txt"
for name in ufile uqcow; do
	# the second table: counts over the tests completed on every LUN (like with like)
	# (| LUN | passed | failed | skipped |: passed is field 3, failed field 4)
	line=$(grep "^| $name " "$OUT/summary.txt" | tail -1)
	failed=$(echo "$line" | awk -F'|' '{gsub(/ /,"",$4); print $4}')
	expect "$name: iscsi-test-cu failures" "$failed" 0
	passed=$(echo "$line" | awk -F'|' '{gsub(/ /,"",$3); print $3}')
	kpassed=$(grep "^| kfile " "$OUT/summary.txt" | tail -1 | awk -F'|' '{gsub(/ /,"",$3); print $3}')
	check "$name passes $passed >= kernel fileio's $kpassed" test "$passed" -ge "$kpassed"
done
stop_runner
vm_finish
