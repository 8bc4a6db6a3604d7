#!/bin/bash
# Scenario: dm-multipath over two rbd gateways in one guest (issue #13).
# The two gateways of tests/vm/rbd-lib.sh (one image, one rts-runner each, each exported through
# its own tcm_loop target in its own ALUA group) are two paths of one LU to the guest's own
# initiator, which runs what a Linux host runs: systemd-udevd, scsi_dh_alua, dm-multipath and
# multipathd (multipath-tools) with the configuration below (group_by_prio, prio alua,
# hardware_handler "1 alua", failback manual, 1 s path checks, no_path_retry 10). fio crc32c
# verify on the map throughout. Checks: both paths in one map, the optimized group active and
# the standby path a ghost; steady I/O (nothing through the standby path); I/O on the map with
# reads through the standby path's own disk at once (lock moves 0); a planned switch under I/O
# by `multipathd switchgroup` (the kernel's scsi_dh_alua sends STPG through the standby path,
# its gateway breaks the lock and takes it: exactly one move; the old owner finds the fence
# from its path checker's TUR and answers standby); the same two-path load after it; then the
# runner of the optimized gateway SIGKILLed under I/O: its commands time out at the kernel
# (the TCMU device's cmd_time_out, 5 s here), multipath fails the path and activates the other
# group (STPG to the survivor, which breaks the dead holder's lock: one move). Asserted: 0 fio
# I/O errors, 0 verify failures, 0 failed probe reads, the map back on the survivor, the lock
# and the recorded optimized group there. Printed, never asserted: the longest probe read
# across the switch and the time from the kill to the first completed read on the survivor
# (a 4 KiB O_DIRECT read loop on the map beside fio). Skips without Ceph, the rbd handler,
# multipath-tools or udev.
. "$(dirname "$0")/lib.sh"
vm_scenario rbd-multipath --timeout 600 "$@"

. "$VM_REPO/tests/vm/rbd-lib.sh"
UDEVD=/lib/systemd/systemd-udevd
command -v multipathd > /dev/null || { skip "multipathd not installed (multipath-tools, scripts/deps.sh)"; vm_finish; }
[ -x $UDEVD ] || { skip "no $UDEVD (udev): multipathd needs udev's device database"; vm_finish; }
for m in dm_multipath dm_service_time scsi_dh_alua; do
	modprobe $m || { skip "kernel module $m missing"; vm_finish; }
done
# A command the runner never answers (its process was killed) fails after this many seconds
# (the TCMU device's cmd_time_out, default 30): how soon multipath sees the path fail.
CMD_TIME_OUT=${RTS_MP_CMD_TIME_OUT:-5}
rbd_gateways "$CMD_TIME_OUT"

step "one rts-runner per gateway"
rbd_runner a gwa
rbd_runner b gwb
check "gateway A took the lock (group 10 optimized)" grep -q "ALUA group 10 is active/optimized" "$OUT/runner-a.log"
check "gateway B is standby" grep -q "ALUA group 20 is standby" "$OUT/runner-b.log"

step "initiator: udevd, then the two paths (scsi_dh_alua attaches at scan)"
# multipath-tools takes paths from udev's database (devices udev has not seen are skipped) and
# device-mapper's nodes from udev rules: the guest runs no udevd otherwise.
$UDEVD --daemon --resolve-names=never || die "systemd-udevd did not start"
A=$(rbd_nexus $LA naa.50014050000000e1)
B=$(rbd_nexus $LB naa.50014050000000e2)
udevadm settle -t 60
wait_for 10 test -b /dev/$A || die "no path A ($A)"
wait_for 10 test -b /dev/$B || die "no path B ($B)"
ok "path A $A (gateway A, group 10), path B $B (gateway B, group 20)"
expect "scsi_dh handler on A" "$(cat /sys/block/$A/device/dh_state)" alua
expect "scsi_dh handler on B" "$(cat /sys/block/$B/device/dh_state)" alua
wwid() { udevadm info -q property /dev/$1 | sed -n 's/^ID_SERIAL=//p'; }
expect "udev: B's WWID (ID_SERIAL) is A's" "$(wwid $B)" "$(wwid $A)"

step "multipathd"
mkdir -p /etc/multipath
cat > /etc/multipath.conf << 'EOF'
defaults {
	polling_interval 1
	max_polling_interval 2
	find_multipaths no
	user_friendly_names no
}
blacklist {
	device {
		vendor ".*"
		product ".*"
	}
}
blacklist_exceptions {
	device {
		vendor "LIO-ORG"
		product "TCMU device"
	}
}
devices {
	device {
		vendor "LIO-ORG"
		product "TCMU device"
		path_grouping_policy group_by_prio
		prio alua
		detect_prio no
		hardware_handler "1 alua"
		path_checker tur
		failback manual
		no_path_retry 10
	}
}
EOF
cp /etc/multipath.conf "$OUT/multipath.conf"
multipathd -d -s -v3 > "$OUT/multipathd.log" 2>&1 &
MPD=$!
mp_map() { dmsetup ls --target multipath 2> /dev/null | awk '/\(/ { print $1; exit }'; }
wait_for 60 sh -c "dmsetup ls --target multipath | grep -q '('" || {
	tail -30 "$OUT/multipathd.log"
	die "multipathd made no map"
}
MAP=$(mp_map)
DEV=/dev/mapper/$MAP
wait_for 30 test -b "$DEV" || die "no $DEV (udev's dm rules)"
# mp_path <sdX>: "<group number> <group status> <dm state> <checker state>" of that path, as
# multipathd sees it
mp_path() {
	multipathd show topology 2>/dev/null | awk -v d="$1" '
		/status=/ { n++; match($0, /status=[a-z]+/); g = substr($0, RSTART + 7, RLENGTH - 7) }
		{ for (i = 1; i < NF; i++) if ($i == d) { print n, g, $(i + 2), $(i + 3); exit } }'
}
wait_for 30 bash -c "$(declare -f mp_path); [ \"\$(mp_path $A | cut -d' ' -f2-)\" = 'active active ready' ] &&
	[ \"\$(mp_path $B | cut -d' ' -f3-)\" = 'active ghost' ]"
multipathd show topology 2>&1 | sed 's/^/     | /'
expect "map $MAP: path groups" "$(multipathd show topology | grep -c 'status=')" 2
expect "A: group status, dm state, checker" "$(mp_path $A | cut -d' ' -f2-)" "active active ready"
expect "B: group status, dm state, checker" "$(mp_path $B | cut -d' ' -f2-)" "enabled active ghost"
GB=$(mp_path $B | cut -d' ' -f1)

# ios <sdX>: I/Os the block layer completed on that path, failed ones included (reads +
# writes; the checkers' SG_IO is not counted)
ios() {
	local r
	read -ra r < /sys/block/$1/stat
	echo $((r[0] + r[4]))
}
# probe_start <name> / probe_stop: besides fio, one 4 KiB O_DIRECT read at a time through the
# map, a line "<start> <end> <dd status>" each in $OUT/probe-<name>.txt
probe_start() {
	rm -f /tmp/probe.stop
	(
		while [ ! -e /tmp/probe.stop ]; do
			s=$EPOCHREALTIME
			dd if="$DEV" of=/dev/null bs=4k count=1 skip=$((RANDOM % 16384)) iflag=direct \
				status=none 2> /dev/null
			rc=$?
			echo "$s $EPOCHREALTIME $rc"
			sleep 0.1
		done
	) > "$OUT/probe-$1.txt" &
	PROBE=$!
}
probe_stop() {
	touch /tmp/probe.stop
	wait $PROBE
}
# first_ok <name> <t0>: seconds from t0 to the end of the first successful probe read started
# after t0 (with the old path dead, it completed through the other one)
first_ok() { awk -v t="$1" '$1 >= t && $3 == 0 { printf "%.2f", $2 - t; exit }' "$OUT/probe-$2.txt"; }
probe_failed() { awk '$3 != 0' "$OUT/probe-$1.txt" | wc -l; }
probe_longest() { awk '{ d = $2 - $1; if (d > m) m = d } END { printf "%.2f", m }' "$OUT/probe-$1.txt"; }
# takes: lock acquisitions through STPG, both gateways
takes() { cat "$OUT"/runner-*.log | grep -c "active/optimized: exclusive lock acquired"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
fio_clean() { # <name> <what>: fio's I/O errors and verify failures of that run are 0
	local e
	e=$(rbd_fio_errors "$1")
	expect "$2: fio I/O errors" "${e% *}" 0
	expect "$2: fio verify failures" "${e#* }" 0
}

step "(a) steady I/O on the map"
b0=$(ios $B)
rbd_fio "$DEV" randwrite mp-steady
expect "fio crc32c verify on $DEV" "$?" 0
fio_clean mp-steady "steady"
expect "I/Os through the standby path B" "$(($(ios $B) - b0))" 0

# load_window <name> <s>: fio on the map for <s> seconds (verify_backlog: written blocks are
# verified while it runs) with reads through the standby path's own disk at the same time, and
# multipathd checking both paths every second; the lock must stay put
load_window() {
	local m0 fpid refused=0 n=0 t0
	m0=$(rbd_moves)
	t0=$EPOCHREALTIME
	rbd_fio "$DEV" randwrite "$1" --time_based --runtime="$2" --verify_backlog=64 &
	fpid=$!
	while kill -0 $fpid 2> /dev/null; do
		dd if=/dev/$STANDBY of=/dev/null bs=4k count=1 iflag=direct status=none 2> /dev/null ||
			refused=$((refused + 1))
		n=$((n + 1))
		sleep 0.3
	done
	wait $fpid
	expect "fio verify on the map with reads through $STANDBY" "$?" 0
	fio_clean "$1" "$1"
	expect "reads through the standby path $STANDBY refused" "$refused" "$n"
	local moves=$(($(rbd_moves) - m0)) s
	s=$(secs "$t0" "$EPOCHREALTIME")
	expect "lock moves under two-path load ($s s)" "$moves" 0
	echo "     lock moves per minute under two-path load: $(awk -v m=$moves -v s="$s" 'BEGIN { printf "%.1f", m * 60 / s }')"
}
STANDBY=$B
load_window mp-load-a 12

step "(b) planned switch under I/O: multipathd switchgroup to B's group (scsi_dh_alua sends STPG through B)"
b0=$(ios $B)
k0=$(takes)
probe_start switch
rbd_fio "$DEV" randwrite mp-switch --size=8M &
fpid=$!
sleep 1
expect "multipathd switchgroup map $MAP group $GB" "$(multipathd switchgroup map "$MAP" group "$GB")" ok
wait $fpid
expect "fio crc32c verify across the planned switch" "$?" 0
fio_clean mp-switch "planned switch"
probe_stop
expect "probe reads through the map that failed" "$(probe_failed switch)" 0
echo "     planned switch: longest probe read $(probe_longest switch) s; I/Os through B $(($(ios $B) - b0))"
check "gateway B took the lock through the kernel's STPG" grep -q "ALUA group 20 active/optimized: exclusive lock acquired" "$OUT/runner-b.log"
expect "lock moves for the planned switch" "$(($(takes) - k0))" 1
# gateway A was fenced: after it reconnects it answers standby and multipathd sees a ghost
t0=$EPOCHREALTIME
wait_for 60 bash -c "$(declare -f mp_path); [ \"\$(mp_path $A | cut -d' ' -f2-)\" = 'enabled active ghost' ]"
expect "A after the switch: group status, dm state, checker ($(secs "$t0" "$EPOCHREALTIME") s)" "$(mp_path $A | cut -d' ' -f2-)" "enabled active ghost"
expect "B after the switch: group status, dm state, checker" "$(mp_path $B | cut -d' ' -f2-)" "active active ready"
expect "gateway A's group 10 standby in its configfs" "$(cat $DA/alua/gw_a/alua_access_state)" 2
STANDBY=$A
load_window mp-load-b 10

step "(c) gateway B's runner SIGKILLed under I/O"
k0=$(takes)
probe_start kill
rbd_fio "$DEV" randwrite mp-kill --size=8M &
fpid=$!
sleep 2
kill -0 $fpid 2> /dev/null || bad "fio ended before the kill"
t0=$EPOCHREALTIME
kill -KILL $RPID_b
wait $RPID_b 2> /dev/null
wait $fpid
expect "fio crc32c verify across the kill" "$?" 0
fio_clean mp-kill "killed gateway"
probe_stop
t=$(first_ok "$t0" kill)
check "a probe read started after the kill completed (through A)" test -n "$t"
expect "probe reads through the map that failed" "$(probe_failed kill)" 0
echo "     failover (kill -> first completed I/O on the other path): $t s (cmd_time_out $CMD_TIME_OUT s); longest probe read $(probe_longest kill) s"
wait_for 30 bash -c "$(declare -f mp_path); [ \"\$(mp_path $A | cut -d' ' -f2-)\" = 'active active ready' ] &&
	[ \"\$(mp_path $B | cut -d' ' -f3)\" = failed ]"
multipathd show topology 2>&1 | sed 's/^/     | /'
expect "A after the kill: group status, dm state, checker" "$(mp_path $A | cut -d' ' -f2-)" "active active ready"
expect "B after the kill: dm state" "$(mp_path $B | cut -d' ' -f3)" failed
check "gateway A took the lock over" grep -q "ALUA group 10 active/optimized: exclusive lock acquired" "$OUT/runner-a.log"
expect "lock moves for the failover" "$(($(takes) - k0))" 1
expect "optimized group recorded in the image" \
	"$(timeout 30 rbd -c "$RBD_CONF" image-meta get rbd/mp rts.alua.optimized_group 2>&1)" 10
rbd_fio "$DEV" randwrite mp-after
expect "fio crc32c verify on the map after the failover" "$?" 0
dmesg | grep -E "device-mapper: multipath|alua" > "$OUT/dmesg-multipath.txt"
grep -E "Failing path|switching|port group .* state" "$OUT/dmesg-multipath.txt" | tail -8 | sed 's/^/     kernel | /'

step "cleanup"
kill -TERM $MPD
wait $MPD
timeout 60 dmsetup remove "$MAP" || bad "dmsetup remove $MAP"
udevadm control --exit
rbd_cleanup
vm_finish
