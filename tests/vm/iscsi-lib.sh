# iSCSI export of three 64 MiB LUNs on 127.0.0.1 for the iscsi-* scenarios (source after lib.sh,
# inside the guest): LIO's iSCSI target, one TPG with generate_node_acls=1 (demo mode, no
# authentication), default portal 0.0.0.0:3260, built by targetcli while rts-runner runs:
#   LUN 0  kernel fileio      (the reference)
#   LUN 1  user:file  (ours: rts-runner, handler_file.so, raw image)
#   LUN 2  user:qcow  (ours: rts-runner, handler_qcow2.so, qcow2 image)
# Same size, same write cache setting (write-through) everywhere.
ISCSI_IQN=iqn.2003-01.org.linux-iscsi.rtslib-c:iscsi-lun
ISCSI_LUN_NAMES=(kfile ufile uqcow)
ISCSI_SIZE_MB=64
BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}

iscsi_setup() {
	local size=${ISCSI_SIZE_MB}M
	[ -x "$BIN/tcmu/runner/rts-runner" ] || die "rts-runner not built in $BIN"
	[ -e "$BIN/handlers/handler_file.so" ] || die "file handler not built"
	step "images: raw files for fileio and user:file, a fully allocated qcow2 for user:qcow"
	truncate -s "$size" /tmp/kfile.img /tmp/ufile.img || die "truncate"
	# the qcow handler cannot fallocate on the guest's tmpfs: allocate every cluster up front
	head -c 1048576 /dev/urandom > /tmp/chunk
	for _ in $(seq "$ISCSI_SIZE_MB"); do cat /tmp/chunk; done > /tmp/pattern
	qemu-img convert -f raw -O qcow2 /tmp/pattern /tmp/uqcow.qcow2 || die "qemu-img convert"
	rm -f /tmp/pattern /tmp/chunk

	# PERSISTENT RESERVE OUT (answered by the kernel for every backstore) writes APTPL state
	# under the target's dbroot, even for REGISTER without APTPL ("No Registrations or
	# Reservations"), and fails NOT READY / LOGICAL UNIT COMMUNICATION FAILURE when it cannot.
	# Debian's targetcli (rtslib-fb) sets dbroot to /etc/rtslib-fb-target when it starts: both
	# directories must exist with their pr/ and alua/ (the kernel does not create them).
	mkdir -p /etc/target/pr /etc/target/alua /etc/rtslib-fb-target/pr /etc/rtslib-fb-target/alua
	[ "$(cat "$CF/dbroot" 2>/dev/null)" = /etc/target ] ||
		printf /etc/target > "$CF/dbroot" 2>/dev/null ||
		echo "     (dbroot stays $(cat "$CF/dbroot" 2>/dev/null): PR tests may fail alike on every LUN)"
	step "rts-runner + targetcli: backstores, iSCSI target, LUNs 0-2"
	start_dbus
	RUNNER=$BIN/tcmu/runner/rts-runner
	start_runner --handler-dir "$BIN/handlers" -v
	"$VM_REPO/tests/vm/targetcli-batch.py" > "$OUT/targetcli.txt" 2>&1 <<EOT || { cat "$OUT/targetcli.txt"; die "targetcli"; }
/backstores/fileio create name=kfile file_or_dev=/tmp/kfile.img size=$size write_back=false
/backstores/user:file create name=ufile size=$size cfgstring=/tmp/ufile.img
/backstores/user:qcow create name=uqcow size=$size cfgstring=/tmp/uqcow.qcow2
/iscsi create $ISCSI_IQN
/iscsi/$ISCSI_IQN/tpg1/luns create /backstores/fileio/kfile lun=0
/iscsi/$ISCSI_IQN/tpg1/luns create /backstores/user:file/ufile lun=1
/iscsi/$ISCSI_IQN/tpg1/luns create /backstores/user:qcow/uqcow lun=2
/iscsi/$ISCSI_IQN/tpg1 set attribute generate_node_acls=1 demo_mode_write_protect=0 authentication=0 cache_dynamic_acls=1
EOT
	echo "     dbroot: $(cat "$CF/dbroot" 2>/dev/null)"
	check "rts-runner serves ufile" grep -q "ufile: serving /dev/uio" "$OUT/runner.log"
	check "rts-runner serves uqcow" grep -q "uqcow: serving /dev/uio" "$OUT/runner.log"
	for n in ufile uqcow; do
		expect "$n attrib/hw_max_sectors (kernel default, unset)" \
			"$(cat "$CF"/core/user_*/$n/attrib/hw_max_sectors)" 128
	done
	wait_for 10 sh -c 'ss -ltn | grep -q ":3260 "' || die "nothing listens on port 3260"
	ok "iSCSI portal listening on :3260"
}

# The kernel's initiator (open-iscsi) logs in to $ISCSI_IQN on 127.0.0.1 and waits until LUN
# $1 (the highest) is a disk; sets H to the SCSI host number. iscsi_sd/iscsi_sg LUN print the
# LUN's block and sg device nodes.
iscsi_login() {
	local last=$1
	step "kernel initiator (open-iscsi) logs in to $ISCSI_IQN on 127.0.0.1"
	command -v iscsiadm >/dev/null && command -v iscsid >/dev/null || die "open-iscsi not installed"
	modprobe iscsi_tcp || die "modprobe iscsi_tcp"
	modprobe sg || die "modprobe sg"
	mkdir -p /etc/iscsi /run/lock/iscsi
	echo "InitiatorName=iqn.2026-12.org.rtslib-c:vm-initiator" > /etc/iscsi/initiatorname.iscsi
	iscsid || die "iscsid did not start"
	iscsiadm -m discovery -t sendtargets -p 127.0.0.1 > "$OUT/discovery.txt" 2>&1 ||
		{ cat "$OUT/discovery.txt"; die "discovery"; }
	expect_match "discovery lists the target" "$(cat "$OUT/discovery.txt")" "$ISCSI_IQN"
	iscsiadm -m node -T "$ISCSI_IQN" -p 127.0.0.1:3260 --login > "$OUT/login.txt" 2>&1 ||
		{ cat "$OUT/login.txt"; die "login"; }
	wait_for 20 sh -c "$(declare -f iscsi_host); [ -n \"\$(iscsi_host)\" ]" || die "no iscsi_tcp SCSI host"
	H=$(iscsi_host | head -1)
	H=${H#host}
	wait_for 20 sh -c "ls -d /sys/bus/scsi/devices/$H:0:0:$last/block/sd* >/dev/null 2>&1" ||
		die "LUN $last did not appear as a disk within 20 s"
	ok "session on host$H, LUNs 0-$last"
}
iscsi_host() {
	for h in /sys/class/scsi_host/host*; do
		[ "$(cat "$h/proc_name" 2>/dev/null)" = iscsi_tcp ] && basename "$h"
	done
}
iscsi_sd() { echo "/dev/$(basename /sys/bus/scsi/devices/$H:0:0:$1/block/sd*)"; }
iscsi_sg() { echo "/dev/$(basename /sys/bus/scsi/devices/$H:0:0:$1/scsi_generic/sg*)"; }
