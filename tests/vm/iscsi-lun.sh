#!/bin/bash
# Scenario: our user backstores exported over iSCSI on 127.0.0.1 (LIO's iSCSI target), used
# through the kernel's iSCSI initiator (open-iscsi), beside a kernel fileio LUN as the
# reference: per LUN, SG_IO reads and writes of every length 1..256 blocks and of 1 MiB at the
# start and the end, past the end, FUA/DPO, WRITE AND VERIFY, VERIFY with BYTCHK
# (tests/vm/iscsi_io.py), then fio crc32c verify with 4 KiB..1 MiB requests. The regression
# test of transfers above the kernel's TCMU hw_max_sectors default (128 sectors), which we
# used to advertise and enforce. Then the differential run (tests/vm/scsi_diff.py): generated
# CDBs to kernel fileio and ours, every difference in $OUT/scsi-diff.md.
. "$(dirname "$0")/lib.sh"
vm_scenario iscsi-lun --timeout 1300 "$@"
. "$VM_REPO/tests/vm/iscsi-lib.sh"

iscsi_setup

iscsi_login 2

rc_all=0
for lun in 0 1 2; do
	name=${ISCSI_LUN_NAMES[$lun]}
	sd=/dev/$(basename /sys/bus/scsi/devices/$H:0:0:$lun/block/sd*)
	sg=/dev/$(basename /sys/bus/scsi/devices/$H:0:0:$lun/scsi_generic/sg*)
	wait_for 5 test -b "$sd" -a -c "$sg" || die "device nodes for LUN $lun missing"
	step "LUN $lun ($name): $sd $sg, max_hw_sectors_kb $(cat /sys/block/${sd#/dev/}/queue/max_hw_sectors_kb)"
	ours=--ours
	[ "$name" = kfile ] && ours=""
	python3 "$VM_REPO/tests/vm/iscsi_io.py" "$sg" "$name" $ours | tee "$OUT/io-$name.txt"
	rc=${PIPESTATUS[0]}
	expect "$name: SG_IO data path checks exit status" "$rc" 0
	grep -q '^  FAIL' "$OUT/io-$name.txt" && rc_all=1
	fio --name=v --filename="$sd" --direct=1 --rw=randwrite --bsrange=4k-1m --size=32M \
		--ioengine=libaio --iodepth=8 --verify=crc32c --do_verify=1 --eta=never \
		--output="$OUT/fio-$name.txt"
	expect "$name: fio randwrite 4k-1m crc32c verify exit status" "$?" 0
	grep -E "^  (write|read):" "$OUT/fio-$name.txt" | sed "s/^/     $name /"
done

step "differential: the same generated CDBs to kernel fileio (LUN 0) and ours (LUN 1)"
sg0=/dev/$(basename /sys/bus/scsi/devices/$H:0:0:0/scsi_generic/sg*)
sg1=/dev/$(basename /sys/bus/scsi/devices/$H:0:0:1/scsi_generic/sg*)
python3 "$VM_REPO/tests/vm/scsi_diff.py" "$sg0" "$sg1" "$OUT/scsi-diff.md"
expect "scsi_diff.py exit status" "$?" 0
sed -n '1p' "$OUT/scsi-diff.md"

step "logout, teardown"
check "logout" iscsiadm -m node -T "$ISCSI_IQN" -p 127.0.0.1:3260 --logout
check "rts-runner alive" kill -0 "$RUNNER_PID"
stop_runner
vm_finish
