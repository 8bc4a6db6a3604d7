#!/bin/bash
# Scenario: two rbd gateways in one guest, one image, explicit ALUA failover (issue #13).
# A throw-away Ceph cluster runs in the guest (scripts/ceph/cluster.sh, memstore). Two user:rbd
# backstores (gwa, gwb) on the same image and with the same unit serial are two gateways:
# each is served by its own rts-runner (each runner sees only its device: --sysfs with a
# one-device class/uio), exported through its own tcm_loop target (the local, enabled port),
# and has the other gateway's port as a disabled iSCSI TPG in the other group, as ceph-iscsi
# lays gateways out. Checks: RTPG and VPD 83h port designators on both paths, fio crc32c
# verify through the optimized path, the kernel's standby answer on the other, a planned
# switch by sg_stpg through the standby path (the lock moves, the old gateway is fenced and
# answers standby), data verified through the new path, then the runner of the optimized
# gateway SIGKILLed and an STPG through the survivor: time from the kill to the first
# completed I/O; both paths under I/O at once move the lock 0 times. Paths are switched
# explicitly here (sg_stpg); tests/vm/rbd-multipath.sh runs dm-multipath over the same two
# gateways (tests/vm/rbd-lib.sh).
. "$(dirname "$0")/lib.sh"
vm_scenario rbd-failover --timeout 400 "$@"

. "$VM_REPO/tests/vm/rbd-lib.sh"
rbd_gateways

step "one rts-runner per gateway"
rbd_runner a gwa
rbd_runner b gwb
check "gateway A took the lock (group 10 optimized)" grep -q "ALUA group 10 is active/optimized" "$OUT/runner-a.log"
check "gateway B is standby" grep -q "ALUA group 20 is standby" "$OUT/runner-b.log"

step "SCSI disks on both paths"
A=/dev/$(rbd_nexus $LA naa.50014050000000e1)
B=/dev/$(rbd_nexus $LB naa.50014050000000e2)
wait_for 10 test -b $A || die "no path A ($A)"
wait_for 10 test -b $B || die "no path B ($B)"
ok "path A $A (gateway A, group 10), path B $B (gateway B, group 20)"
for d in $A $B; do sg_turs $d > /dev/null 2>&1; sg_turs $d > /dev/null 2>&1; done
r=$(sg_rtpg -d $B 2>&1)
echo "$r" | sed 's/^/     | /'
expect_match "RTPG through B: group 10 active/optimized" "$(echo "$r" | sed -n '/id : 0xa /,/state/p')" "state : 0x00"
expect_match "RTPG through B: group 20 standby" "$(echo "$r" | sed -n '/id : 0x14/,/state/p')" "state : 0x02"
v=$(sg_vpd -p 0x83 $A 2>&1)
expect_match "VPD 83h on A: relative target port" "$v" "[Rr]elative target port"
expect_match "VPD 83h on A: target port group 0xa" "$v" "[Tt]arget port group: 0xa"
expect_match "VPD 83h on B: target port group 0x14" "$(sg_vpd -p 0x83 $B 2>&1)" "[Tt]arget port group: 0x14"

step "fio crc32c verify through the optimized path; the standby path refused by the kernel"
rbd_fio $A randwrite write-a
expect "fio verify through A" "$?" 0
expect_match "READ through B: standby" "$(sg_raw -r 512 $B 28 00 00 00 00 00 00 00 01 00 2>&1)" "[Ss]tandby"

step "both paths under I/O at once: fio on A, reads on B; the lock must not move"
m0=$(rbd_moves)
rbd_fio $A randwrite both-a &
fpid=$!
refused=0
for _ in $(seq 20); do
	dd if=$B of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null || refused=$((refused + 1))
	sleep 0.2
done
wait $fpid
expect "fio verify through A while B is read" "$?" 0
expect "reads through the standby path refused" "$refused" 20
expect "lock moves during two-path I/O" "$(($(rbd_moves) - m0))" 0

step "planned switch: sg_stpg through B makes group 20 optimized"
t0=$(now)
sg_stpg --tp=20 --state=0 $B
expect "sg_stpg exit status" "$?" 0
echo "     STPG: $(since $t0) s"
check "gateway B took the lock" grep -q "ALUA group 20 active/optimized: exclusive lock acquired" "$OUT/runner-b.log"
for d in $A $B; do sg_turs $d > /dev/null 2>&1; sg_turs $d > /dev/null 2>&1; done
rbd_fio $B read verify-b "--verify_only"
expect "what A wrote verifies through B (fio --verify_only)" "$?" 0
grep -E "err=" "$OUT/fio-verify-b.txt" | sed 's/^/     /'
# gateway A was fenced: after it reconnects it answers standby and sets its group standby
t0=$(now)
seen=
while [ "$(since $t0 | cut -d. -f1)" -lt 60 ]; do
	out=$(sg_raw -r 512 $A 28 00 00 00 00 00 00 00 01 00 2>&1)
	case $out in *[Ss]tandby*) seen=1; break ;; esac
	sleep 0.5
done
check "path A answers standby after the switch ($(since $t0) s)" test -n "$seen"
expect "gateway A's group 10 standby in its configfs" "$(cat $DA/alua/gw_a/alua_access_state)" 2
rbd_fio $B randwrite write-b
expect "fio verify through B" "$?" 0

step "gateway B's runner killed; STPG through A"
kill -KILL $RPID_b
t0=$(now)
wait $RPID_b 2>/dev/null
sg_turs $A > /dev/null 2>&1
sg_stpg --tp=10 --state=0 $A
expect "sg_stpg through A exit status" "$?" 0
for _ in 1 2; do sg_turs $A > /dev/null 2>&1; done
good=
while [ "$(since $t0 | cut -d. -f1)" -lt 60 ]; do
	if dd if=$A of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null; then
		good=1
		break
	fi
	sleep 0.2
done
check "first completed I/O through A $(since $t0) s after the kill" test -n "$good"
echo "     failover (kill -> first completed I/O on the other path): $(since $t0) s"
rbd_fio $A read verify-a "--verify_only"
expect "what B wrote verifies through A" "$?" 0
grep -q "ALUA group 10 active/optimized: exclusive lock acquired" "$OUT/runner-a.log" &&
	ok "gateway A took the lock over" || bad "gateway A did not log the lock take-over"

step "cleanup"
rbd_cleanup
vm_finish
