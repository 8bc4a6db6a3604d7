# shellcheck shell=bash
# Two rbd gateways on one image for the rbd-* scenarios (source after lib.sh, inside the guest).
# A throw-away Ceph cluster runs in the guest (scripts/ceph/cluster.sh, memstore). Two user:rbd
# backstores (gwa, gwb) on the same image and with the same unit serial are two gateways: each
# is served by its own rts-runner (each runner sees only its device: --sysfs with a one-device
# class/uio), exported through its own tcm_loop target (the local, enabled port, in its own
# ALUA group: gw_a = 10, gw_b = 20) and has the other gateway's port as a disabled iSCSI TPG in
# the other group, as ceph-iscsi lays gateways out.
#
#   rbd_gateways [cmd_time_out]   Ceph, image rbd/mp, both backstores and their four ports
#                                 (skips the scenario without Ceph or the rbd handler);
#                                 cmd_time_out (s): the TCMU devices' command timeout, which
#                                 fails a command the runner never answers (a killed runner)
#   rbd_runner <a|b> <device>     start that gateway's rts-runner, wait until it adopted the
#                                 device; sets RPID_<a|b>
#   rbd_nexus <tpg> <wwn>         the tcm_loop nexus; prints the new SCSI disk (sdX)
#   rbd_fio <dev> <rw> <name> [fio args]   fio crc32c verify, report in $OUT/fio-<name>.txt
#   rbd_fio_errors <name>         "<I/O errors> <verify failures>" of that run
#   rbd_moves                     lock moves so far (both runners' logs)
#   rbd_cleanup                   stop runner A (B must be stopped already), remove it all
RBD_BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
RBD_RUNNER=$RBD_BIN/tcmu/runner/rts-runner
RBD_SERIAL=5e1f0c3a-2b4d-4e6f-8a9b-0c1d2e3f4a5b
RBD_CEPH=/tmp/ceph
DA=$CF/core/user_1/gwa
DB=$CF/core/user_2/gwb
LA=$CF/loopback/naa.50014050000000f1/tpgt_1
LB=$CF/loopback/naa.50014050000000f2/tpgt_1
IA=$CF/iscsi/iqn.2003-01.org.x:gwa/tpgt_1 # gateway A's port as gateway B's host sees it
IB=$CF/iscsi/iqn.2003-01.org.x:gwb/tpgt_1
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

rbd_gateways() {
	local tmo=${1:-}
	[ -x "$RBD_RUNNER" ] || die "rts-runner not built at $RBD_RUNNER"
	[ -f "$RBD_BIN/handlers/handler_rbd.so" ] || { skip "no rbd handler (librbd missing)"; vm_finish; }

	step "Ceph in the guest"
	ceph_up $RBD_CEPH 26600
	[ $? = 77 ] && { skip "Ceph not installed"; vm_finish; }
	RBD_CONF=$CEPH_CONF_FILE
	timeout 60 rbd -c $RBD_CONF create --size 64M rbd/mp || die "rbd create"

	step "two gateways: backstores, ALUA groups, local tcm_loop port + the other's disabled iSCSI port"
	_rbd_gw gwa 1 "$tmo"
	_rbd_gw gwb 2 "$tmo"
	_rbd_port $LA $DA gw_a
	_rbd_port $IB $DA gw_b
	_rbd_port $LB $DB gw_b
	_rbd_port $IA $DB gw_a
	expect "the other gateway's iSCSI TPG is disabled" "$(cat $IA/enable)" 0
}

_rbd_gw() { # <name> <hba> <cmd_time_out or empty>
	local d=$CF/core/user_$2/$1
	mkdir -p $d || die "mkdir $d"
	cfs_set $d/control "dev_config=rbd/rbd/mp;conf=$RBD_CONF;osd_op_timeout=10"
	cfs_set $d/control "dev_size=67108864"
	cfs_set $d/control "nl_reply_supported=-1" # the runners start afterwards and adopt
	cfs_set $d/wwn/vpd_unit_serial $RBD_SERIAL
	if [ -n "$3" ]; then # only while the device has no LUN (the kernel refuses it after)
		cfs_set $d/attrib/cmd_time_out "$3"
		cfs_set $d/attrib/qfull_time_out "$3"
	fi
	cfs_set $d/enable 1
	for g in gw_a:10 gw_b:20; do
		mkdir $d/alua/${g%:*} || die "mkdir alua/${g%:*}"
		cfs_set $d/alua/${g%:*}/tg_pt_gp_id ${g#*:}
		cfs_set $d/alua/${g%:*}/alua_access_type 3
	done
	cfs_set $d/alua/gw_b/alua_access_state 2
}

_rbd_port() { # <tpg dir> <device> <group>
	mkdir -p $1/lun/lun_0 || die "mkdir $1/lun/lun_0"
	ln -s $2 $1/lun/lun_0/rbd || die "link $1"
	cfs_set $1/lun/lun_0/alua_tg_pt_gp $3
}

rbd_runner() { # <name> <device>; sets RPID_<name>
	local minor s=/tmp/sys-$1
	minor=$(grep -l "tcm-user/[0-9]*/$2/" /sys/class/uio/uio*/name | sed 's:.*/uio\([0-9]*\)/name:\1:')
	[ -n "$minor" ] || die "no uio device for $2"
	mkdir -p $s/class/uio
	ln -s /sys/class/uio/uio$minor $s/class/uio/uio$minor
	"$RBD_RUNNER" --handler-dir "$RBD_BIN/handlers" --sysfs $s --no-dbus --no-modprobe \
		--status-socket /tmp/rts-$1.sock -v > "$OUT/runner-$1.log" 2>&1 &
	eval "RPID_$1=$!"
	wait_for 60 grep -q "$2: adopted" "$OUT/runner-$1.log" || {
		cat "$OUT/runner-$1.log"
		die "runner $1 did not adopt $2"
	}
}

_rbd_disks() { ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep '^sd' | sort; }
rbd_nexus() { # <tpg> <initiator wwn>; prints the new disk
	local before
	before=$(_rbd_disks)
	cfs_set $1/nexus $2
	# the LUN was linked before the nexus existed (so the runner saw its port at open):
	# tcm_loop's scan then found no nexus; scan again
	for h in /sys/class/scsi_host/host*/scan; do echo "- - -" > $h 2>/dev/null; done
	wait_for 60 sh -c "[ \"\$(ls /sys/class/scsi_disk/*/device/block/ 2>/dev/null | grep -c '^sd')\" -gt $(echo "$before" | grep -c sd) ]" ||
		die "no SCSI disk for $1"
	comm -13 <(echo "$before") <(_rbd_disks) | head -1
}

rbd_fio() { # <dev> <rw> <name> [fio args...]
	local dev=$1 rw=$2 name=$3 rc
	shift 3
	fio --name=$name --filename=$dev --direct=1 --rw=$rw --bs=4k --size=4M --ioengine=libaio \
		--iodepth=8 --verify=crc32c --verify_fatal=1 --eta=never --output="$OUT/fio-$name.txt" \
		--verify_state_save=0 "$@" 2> "$OUT/fio-$name.err"
	rc=$?
	[ $rc = 0 ] || head -20 "$OUT/fio-$name.err" | sed 's/^/     fio | /'
	return $rc
}

# rbd_fio_errors <name>: "<I/O errors> <verify failures>" of that fio run (err= of its jobs;
# fio's verify complaints on stderr)
rbd_fio_errors() {
	local e v
	e=$(sed -n 's/.*err= *\([0-9]*\).*/\1/p' "$OUT/fio-$1.txt" | awk '{ s += $1 } END { print s + 0 }')
	v=$(grep -ciE 'verify|bad magic|bad header|crc32c' "$OUT/fio-$1.err")
	echo "$e $v"
}

rbd_moves() { cat "$OUT"/runner-*.log | grep -cE "lock acquired|breaking the exclusive lock|fenced while"; }

rbd_cleanup() {
	kill -TERM $RPID_a
	wait $RPID_a
	for t in $LA $LB $IA $IB; do
		rm $t/lun/lun_0/rbd
		rmdir $t/lun/lun_0 $t 2>/dev/null
	done
	rmdir $CF/loopback/naa.50014050000000f1 $CF/loopback/naa.50014050000000f2 \
		$CF/iscsi/iqn.2003-01.org.x:gwa $CF/iscsi/iqn.2003-01.org.x:gwb 2>/dev/null
	for d in $DA $DB; do rmdir $d/alua/gw_a $d/alua/gw_b; rmdir $d; done
	ceph_down $RBD_CEPH
	grep -hE "rbd: (ALUA|breaking|fenced|client blocklisted|reconnected)" "$OUT"/runner-*.log | sed 's/^/     log | /'
}
