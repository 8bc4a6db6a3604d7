#!/bin/bash
# Scenario: ALUA on a TCMU device served by rts-runner. One ram backstore exported through two
# tcm_loop targets (two paths), each LUN in its own configfs ALUA group (gw_a id 10 optimized,
# gw_b id 20 standby). Checks: INQUIRY TPGS, REPORT TARGET PORT GROUPS on both paths answered
# by the runner from configfs (relative port ids = the LUNs' scsi_port/indx), what the kernel
# returns for I/O on the standby path, SET TARGET PORT GROUPS switching the groups (written to
# alua_access_state, enforced by the kernel at once), an STPG refused for an explicit-only
# group, and VPD 83h without port designators (TCMU does not tell which port a command came
# in on and both ports are enabled here: tcmu/alua_cfs.c).
. "$(dirname "$0")/lib.sh"
vm_scenario alua --timeout 170 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RUNNER_BIN=$BIN/tcmu/runner/rts-runner
[ -x "$RUNNER_BIN" ] || die "rts-runner not built at $RUNNER_BIN"
WA=naa.50014050000000a1
WB=naa.50014050000000b1
LA=$CF/loopback/$WA/tpgt_1
LB=$CF/loopback/$WB/tpgt_1
D=$CF/core/user_3/al
disks() { ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep '^sd' | sort; }

: > "$OUT/rts-runner.log"
step "rts-runner, a ram backstore with two ALUA groups"
"$RUNNER_BIN" --handler-dir "$BIN/handlers" -v >> "$OUT/rts-runner.log" 2>&1 &
RTS_PID=$!
wait_for 10 grep -q "ready:" "$OUT/rts-runner.log" || die "rts-runner did not become ready"
mkdir -p $D || die "mkdir $D"
cfs_set $D/control "dev_config=ram/16M"
cfs_set $D/control "dev_size=16777216"
cfs_set $D/wwn/vpd_unit_serial "0a1b2c3d-0000-4000-8000-00000000a1a1"
cfs_set $D/enable 1
check "runner serves al" grep -q "al: serving /dev/uio" "$OUT/rts-runner.log"
for g in gw_a:10 gw_b:20; do
	mkdir $D/alua/${g%:*} || die "mkdir alua/${g%:*}"
	cfs_set $D/alua/${g%:*}/tg_pt_gp_id ${g#*:}
	cfs_set $D/alua/${g%:*}/alua_access_type 3
done
cfs_set $D/alua/gw_a/preferred 1

step "two tcm_loop paths, one LUN each in its own group"
path() { # <tpg dir> <initiator wwn> <group>; prints the new disk
	local before new
	before=$(disks)
	mkdir -p $1/lun/lun_0 || die "mkdir $1/lun/lun_0"
	cfs_set $1/nexus $2
	ln -s $D $1/lun/lun_0/al || die "link $1/lun/lun_0"
	cfs_set $1/lun/lun_0/alua_tg_pt_gp $3
	wait_for 20 sh -c "[ \"\$(ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -c '^sd')\" -gt $(echo "$before" | grep -c sd) ]" ||
		die "no new SCSI disk for $1"
	new=$(comm -13 <(echo "$before") <(disks) | head -1)
	wait_for 5 test -b /dev/$new || die "/dev/$new missing"
	echo "$new"
}
A=/dev/$(path $LA naa.50014050000000a2 gw_a)
B=/dev/$(path $LB naa.50014050000000b2 gw_b)
ok "path A is $A (group 10), path B is $B (group 20)"
RA=$(tr -d '\0' < $LA/lun/lun_0/statistics/scsi_port/indx)
RB=$(tr -d '\0' < $LB/lun/lun_0/statistics/scsi_port/indx)
echo "     members: $(cat $D/alua/gw_a/members) -> rtpi $RA; $(cat $D/alua/gw_b/members) -> rtpi $RB"
cfs_set $D/alua/gw_b/alua_access_state 2
expect "gw_b standby in configfs" "$(cat $D/alua/gw_b/alua_access_state)" 2
# the transitions queued ASYMMETRIC ACCESS STATE CHANGED unit attentions: take them
for d in $A $B; do sg_turs $d > /dev/null 2>&1; sg_turs $d > /dev/null 2>&1; done

step "INQUIRY TPGS and REPORT TARGET PORT GROUPS from configfs, on both paths"
expect_match "INQUIRY TPGS=3 (implicit and explicit)" "$(sg_inq $A 2>&1)" "TPGS=3"
for d in $A $B; do
	r=$(sg_rtpg -d $d 2>&1)
	echo "$r" | sed 's/^/     | /'
	expect_match "$d: group 10 preferred, active/optimized" "$r" "target port group id : 0xa , Pref=1, Rtpg_fmt=0"
	expect_match "$d: group 10 state" "$r" "target port group asymmetric access state : 0x00"
	expect_match "$d: group 20 standby" "$(echo "$r" | sed -n '/id : 0x14/,/state/p')" "access state : 0x02"
	expect_match "$d: group 10 port = lun_0 of $WA (rtpi $RA)" "$(echo "$r" | sed -n '/id : 0xa /,/id : 0x14/p')" "$(printf '0x%02x' $RA)"
	expect_match "$d: group 20 port = lun_0 of $WB (rtpi $RB)" "$(echo "$r" | sed -n '/id : 0x14/,$p')" "$(printf '0x%02x' $RB)"
done

step "the kernel enforces the states: I/O on the standby path"
check "READ on path A (optimized)" dd if=$A of=/dev/null bs=4k count=1 iflag=direct status=none
sense=$(sg_raw -r 512 $B 28 00 00 00 00 00 00 00 01 00 2>&1)
echo "$sense" | sed 's/^/     | /'
expect_match "READ on path B (standby): NOT READY, target port in standby state" "$sense" "[Ss]tandby"

step "SET TARGET PORT GROUPS through path A: 20 optimized, 10 standby"
timed t sg_stpg --tp=20,10 --state=0,2 $A
expect "sg_stpg exit status" "$?" 0
echo "     STPG took ${t}s"
expect "gw_b alua_access_state" "$(cat $D/alua/gw_b/alua_access_state)" 0
expect "gw_a alua_access_state" "$(cat $D/alua/gw_a/alua_access_state)" 2
expect_match "gw_b status" "$(cat $D/alua/gw_b/alua_access_status)" "Altered by Explicit STPG"
for d in $A $B; do sg_turs $d > /dev/null 2>&1; sg_turs $d > /dev/null 2>&1; done
r=$(sg_rtpg -d $B 2>&1)
expect_match "RTPG on path B: group 20 active/optimized" "$(echo "$r" | sed -n '/id : 0x14/,/state/p')" "access state : 0x00"
expect_match "RTPG on path B: status altered by STPG" "$(echo "$r" | sed -n '/id : 0x14/,/status/p')" "status code : 0x01 .*by SET TARGET PORT GROUPS"
check "READ on path B (now optimized)" dd if=$B of=/dev/null bs=4k count=1 iflag=direct status=none
expect_match "READ on path A (now standby) refused" "$(sg_raw -r 512 $A 28 00 00 00 00 00 00 00 01 00 2>&1)" "[Ss]tandby"

step "explicit-only group: the kernel takes no configfs state, so STPG is refused"
cfs_set $D/alua/gw_a/alua_access_type 2
# (sg_stpg of sg3-utils 1.46 exits 0 after printing the error: the message is the check)
sg_stpg --tp=10 --state=0 $B > "$OUT/stpg-explicit.txt" 2>&1
sed 's/^/     | /' "$OUT/stpg-explicit.txt"
expect_match "ILLEGAL REQUEST" "$(cat "$OUT/stpg-explicit.txt")" "[Ii]llegal [Rr]equest"
expect "gw_a unchanged" "$(cat $D/alua/gw_a/alua_access_state)" 2
cfs_set $D/alua/gw_a/alua_access_type 3

step "VPD 83h: both ports are enabled on this host, in different groups"
v=$(sg_vpd -p 0x83 $A 2>&1)
echo "$v" | sed 's/^/     | /'
if echo "$v" | grep -qi "relative target port\|target port group"; then
	bad "VPD 83h names a port or group although the arrival port is unknown"
else
	ok "no relative port / port group designator (the arrival port is unknown to TCMU)"
fi

step "cleanup"
for l in $LA $LB; do
	rm $l/lun/lun_0/al
	rmdir $l/lun/lun_0 $l
done
rmdir $CF/loopback/$WA $CF/loopback/$WB 2>/dev/null
rmdir $D/alua/gw_a $D/alua/gw_b
check "rmdir the backstore" rmdir $D
kill -TERM "$RTS_PID"
wait "$RTS_PID"
expect "rts-runner exit status after SIGTERM" "$?" 0
if grep -E "error:" "$OUT/rts-runner.log" | grep -q .; then
	bad "errors in the runner log"
	grep -E "error:" "$OUT/rts-runner.log" | sed 's/^/     | /'
else
	ok "no errors in the runner log"
fi
grep -i "alua\|target port" "$OUT/rts-runner.log" | sed 's/^/     log | /'
vm_finish
