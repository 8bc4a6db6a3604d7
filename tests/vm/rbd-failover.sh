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
# completed I/O; both paths under I/O at once move the lock 0 times. No dm-multipath (not
# installed): paths are switched explicitly.
. "$(dirname "$0")/lib.sh"
vm_scenario rbd-failover --timeout 400 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RUNNER_BIN=$BIN/tcmu/runner/rts-runner
[ -x "$RUNNER_BIN" ] || die "rts-runner not built at $RUNNER_BIN"
[ -f "$BIN/handlers/handler_rbd.so" ] || { skip "no rbd handler (librbd missing)"; vm_finish; }
SERIAL=5e1f0c3a-2b4d-4e6f-8a9b-0c1d2e3f4a5b
CEPH=/tmp/ceph
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

step "Ceph in the guest"
ceph_up $CEPH 26600
[ $? = 77 ] && { skip "Ceph not installed"; vm_finish; }
CONF=$CEPH_CONF_FILE
timeout 60 rbd -c $CONF create --size 64M rbd/mp || die "rbd create"

step "two gateways: backstores, ALUA groups, local tcm_loop port + the other's disabled iSCSI port"
gw() { # <name> <hba>
	local d=$CF/core/user_$2/$1
	mkdir -p $d || die "mkdir $d"
	cfs_set $d/control "dev_config=rbd/rbd/mp;conf=$CONF;osd_op_timeout=10"
	cfs_set $d/control "dev_size=67108864"
	cfs_set $d/control "nl_reply_supported=-1" # the runners start afterwards and adopt
	cfs_set $d/wwn/vpd_unit_serial $SERIAL
	cfs_set $d/enable 1
	for g in gw_a:10 gw_b:20; do
		mkdir $d/alua/${g%:*} || die "mkdir alua/${g%:*}"
		cfs_set $d/alua/${g%:*}/tg_pt_gp_id ${g#*:}
		cfs_set $d/alua/${g%:*}/alua_access_type 3
	done
	cfs_set $d/alua/gw_b/alua_access_state 2
}
gw gwa 1
gw gwb 2
DA=$CF/core/user_1/gwa
DB=$CF/core/user_2/gwb
port() { # <tpg dir> <device> <group>
	mkdir -p $1/lun/lun_0 || die "mkdir $1/lun/lun_0"
	ln -s $2 $1/lun/lun_0/rbd || die "link $1"
	cfs_set $1/lun/lun_0/alua_tg_pt_gp $3
}
LA=$CF/loopback/naa.50014050000000f1/tpgt_1
LB=$CF/loopback/naa.50014050000000f2/tpgt_1
IA=$CF/iscsi/iqn.2003-01.org.x:gwa/tpgt_1 # gateway A's port as gateway B's host sees it
IB=$CF/iscsi/iqn.2003-01.org.x:gwb/tpgt_1
port $LA $DA gw_a
port $IB $DA gw_b
port $LB $DB gw_b
port $IA $DB gw_a
expect "the other gateway's iSCSI TPG is disabled" "$(cat $IA/enable)" 0

step "one rts-runner per gateway"
runner() { # <name> <device>; sets RPID_<name>
	local minor s=/tmp/sys-$1
	minor=$(grep -l "tcm-user/[0-9]*/$2/" /sys/class/uio/uio*/name | sed 's:.*/uio\([0-9]*\)/name:\1:')
	[ -n "$minor" ] || die "no uio device for $2"
	mkdir -p $s/class/uio
	ln -s /sys/class/uio/uio$minor $s/class/uio/uio$minor
	"$RUNNER_BIN" --handler-dir "$BIN/handlers" --sysfs $s --no-dbus --no-modprobe \
		--status-socket /tmp/rts-$1.sock -v > "$OUT/runner-$1.log" 2>&1 &
	eval "RPID_$1=$!"
	wait_for 60 grep -q "$2: adopted" "$OUT/runner-$1.log" || {
		cat "$OUT/runner-$1.log"
		die "runner $1 did not adopt $2"
	}
}
runner a gwa
runner b gwb
check "gateway A took the lock (group 10 optimized)" grep -q "ALUA group 10 is active/optimized" "$OUT/runner-a.log"
check "gateway B is standby" grep -q "ALUA group 20 is standby" "$OUT/runner-b.log"

step "SCSI disks on both paths"
disks() { ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep '^sd' | sort; }
nexus() { # <tpg> <initiator wwn>; prints the new disk
	local before
	before=$(disks)
	cfs_set $1/nexus $2
	# the LUN was linked before the nexus existed (so the runner saw its port at open):
	# tcm_loop's scan then found no nexus; scan again
	for h in /sys/class/scsi_host/host*/scan; do echo "- - -" > $h 2>/dev/null; done
	wait_for 60 sh -c "[ \"\$(ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -c '^sd')\" -gt $(echo "$before" | grep -c sd) ]" ||
		die "no SCSI disk for $1"
	comm -13 <(echo "$before") <(disks) | head -1
}
A=/dev/$(nexus $LA naa.50014050000000e1)
B=/dev/$(nexus $LB naa.50014050000000e2)
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
fiov() { # <dev> <rw> <name>
	fio --name=$3 --filename=$1 --direct=1 --rw=$2 --bs=4k --size=4M --ioengine=libaio \
		--iodepth=8 --verify=crc32c --verify_fatal=1 --eta=never --output="$OUT/fio-$3.txt" \
		--verify_state_save=0 ${4:-}
}
fiov $A randwrite write-a
expect "fio verify through A" "$?" 0
expect_match "READ through B: standby" "$(sg_raw -r 512 $B 28 00 00 00 00 00 00 00 01 00 2>&1)" "[Ss]tandby"

step "both paths under I/O at once: fio on A, reads on B; the lock must not move"
moves() { cat "$OUT"/runner-*.log | grep -cE "lock acquired|breaking the exclusive lock|fenced while"; }
m0=$(moves)
fiov $A randwrite both-a &
fpid=$!
refused=0
for _ in $(seq 20); do
	dd if=$B of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null || refused=$((refused + 1))
	sleep 0.2
done
wait $fpid
expect "fio verify through A while B is read" "$?" 0
expect "reads through the standby path refused" "$refused" 20
expect "lock moves during two-path I/O" "$(($(moves) - m0))" 0

step "planned switch: sg_stpg through B makes group 20 optimized"
t0=$(now)
sg_stpg --tp=20 --state=0 $B
expect "sg_stpg exit status" "$?" 0
echo "     STPG: $(since $t0) s"
check "gateway B took the lock" grep -q "ALUA group 20 active/optimized: exclusive lock acquired" "$OUT/runner-b.log"
for d in $A $B; do sg_turs $d > /dev/null 2>&1; sg_turs $d > /dev/null 2>&1; done
fiov $B read verify-b "--verify_only"
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
fiov $B randwrite write-b
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
fiov $A read verify-a "--verify_only"
expect "what B wrote verifies through A" "$?" 0
grep -q "ALUA group 10 active/optimized: exclusive lock acquired" "$OUT/runner-a.log" &&
	ok "gateway A took the lock over" || bad "gateway A did not log the lock take-over"

step "cleanup"
kill -TERM $RPID_a
wait $RPID_a
for t in $LA $LB $IA $IB; do
	rm $t/lun/lun_0/rbd
	rmdir $t/lun/lun_0 $t 2>/dev/null
done
rmdir $CF/loopback/naa.50014050000000f1 $CF/loopback/naa.50014050000000f2 \
	$CF/iscsi/iqn.2003-01.org.x:gwa $CF/iscsi/iqn.2003-01.org.x:gwb 2>/dev/null
for d in $DA $DB; do rmdir $d/alua/gw_a $d/alua/gw_b; rmdir $d; done
ceph_down $CEPH
grep -hE "rbd: (ALUA|breaking|fenced|client blocklisted|reconnected)" "$OUT"/runner-*.log | sed 's/^/     log | /'
vm_finish
