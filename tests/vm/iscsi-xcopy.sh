#!/bin/bash
# Scenario: EXTENDED COPY over iSCSI, sg3_utils' sg_xcopy through the kernel's initiator, our
# copy manager (file and qcow handlers) beside kernel fileio's (target_core_xcopy) as the
# reference: within one LUN, between two LUNs of one kind (ours: the file handler's
# copy_file_range fast path), from our file LUN to our qcow LUN (through the data area),
# each with the command sent to the source and to the destination, and across the
# kernel/ours boundary (which copy manager reaches which LUN). Data is compared after every
# copy; the table of outcomes goes to $OUT/xcopy.md.
. "$(dirname "$0")/lib.sh"
vm_scenario iscsi-xcopy --timeout 900 "$@"
. "$VM_REPO/tests/vm/iscsi-lib.sh"
command -v sg_xcopy >/dev/null || { skip "sg_xcopy (sg3-utils) not installed"; vm_finish; }

iscsi_setup
step "a second LUN of each kind: kernel fileio kfile2 (LUN 3), user:file ufile2 (LUN 4)"
truncate -s "${ISCSI_SIZE_MB}M" /tmp/kfile2.img /tmp/ufile2.img
"$VM_REPO/tests/vm/targetcli-batch.py" > "$OUT/targetcli2.txt" 2>&1 <<EOT || { cat "$OUT/targetcli2.txt"; die "targetcli"; }
/backstores/fileio create name=kfile2 file_or_dev=/tmp/kfile2.img size=${ISCSI_SIZE_MB}M write_back=false
/backstores/user:file create name=ufile2 size=${ISCSI_SIZE_MB}M cfgstring=/tmp/ufile2.img
/iscsi/$ISCSI_IQN/tpg1/luns create /backstores/fileio/kfile2 lun=3
/iscsi/$ISCSI_IQN/tpg1/luns create /backstores/user:file/ufile2 lun=4
EOT
wait_for 10 grep -q "ufile2: serving /dev/uio" "$OUT/runner.log" || die "rts-runner does not serve ufile2"
iscsi_login 4
NAMES=(kfile ufile uqcow kfile2 ufile2)
BLOCKS=512 # 256 KiB: sg_xcopy sends 4 EXTENDED COPY commands of 128 blocks (bpt)
head -c $((BLOCKS * 512)) /dev/urandom > /tmp/pat

# xc SRC_LUN DST_LUN on_src|on_dst: copy $BLOCKS blocks from LBA 0 of SRC to LBA 8192 of
# DST; prints "ok", "data differs" or the sense sg_xcopy reported.
xc() {
	local s=$1 d=$2 on=$3 log=$OUT/xcopy-$1-$2-$3.txt
	dd if=/tmp/pat of="$(iscsi_sd "$s")" bs=512 count=$BLOCKS oflag=direct conv=notrunc status=none
	dd if=/dev/zero of="$(iscsi_sd "$d")" bs=512 count=$BLOCKS seek=8192 oflag=direct \
		conv=notrunc status=none
	if ! sg_xcopy if="$(iscsi_sg "$s")" of="$(iscsi_sg "$d")" bs=512 count=$BLOCKS skip=0 \
		seek=8192 "--$on" -v > "$log" 2>&1; then
		# the additional sense if sg_xcopy printed one, else its last line
		grep -io -m1 "copy target device not reachable\|unreachable copy target\|unsupported [a-z ]*descriptor[a-z ]*\|too many [a-z ]*descriptors\|invalid field in [a-z ]*" "$log" |
			tr 'A-Z' 'a-z' | grep . || tail -1 "$log" | tr 'A-Z' 'a-z'
		return
	fi
	dd if="$(iscsi_sd "$d")" of=/tmp/back bs=512 count=$BLOCKS skip=8192 iflag=direct status=none
	cmp -s /tmp/pat /tmp/back && echo ok || echo "data differs"
}

step "EXTENDED COPY, sg_xcopy bs=512 count=$BLOCKS, kernel's copy manager and ours"
{
	echo "| copy | sent to | result |"
	echo "|---|---|---|"
} > "$OUT/xcopy.md"
row() { # SRC DST ON EXPECT(ok|fail|-)
	local r
	r=$(xc "$1" "$2" "$3")
	echo "| ${NAMES[$1]} -> ${NAMES[$2]} | ${3#on_} | $r |" | tee -a "$OUT/xcopy.md"
	case $4 in
	ok) expect "${NAMES[$1]} -> ${NAMES[$2]} (${3#on_})" "$r" ok ;;
	# sg_xcopy exits 10 (SG_LIB_CAT_COPY_ABORTED) on sense key COPY ABORTED; it prints no
	# ASC even with -v (COPY TARGET DEVICE NOT REACHABLE is checked by test_xcopy)
	fail) expect_match "${NAMES[$1]} -> ${NAMES[$2]} (${3#on_}) is refused" "$r" "not reachable|error 10 " ;;
	esac
}
# kernel fileio (reference): within one LUN, between two fileio LUNs
row 0 0 on_dst -
row 0 3 on_src -
row 0 3 on_dst -
# ours: within one LUN, between two file LUNs (copy_file_range), file -> qcow (data area)
row 1 1 on_dst ok
row 2 2 on_dst ok
row 1 4 on_src ok
row 1 4 on_dst ok
row 1 2 on_src ok
row 2 1 on_dst ok
# across: ours reaches only the LUNs rts-runner serves; the kernel's reaches every LUN
row 1 0 on_src fail
row 0 1 on_dst fail
row 0 1 on_src -
row 1 0 on_dst -
cat "$OUT/xcopy.md" > /dev/null

step "logout, teardown"
check "logout" iscsiadm -m node -T "$ISCSI_IQN" -p 127.0.0.1:3260 --logout
check "rts-runner alive" kill -0 "$RUNNER_PID"
stop_runner
vm_finish
