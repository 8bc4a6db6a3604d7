#!/bin/bash
# Scenario: librts on the real configfs. librts_probe (tests/vm/librts_probe.c) builds every
# object kind through librts only (fileio, block on a loop device, ramdisk + nullio, user/TCMU,
# pscsi on the loopback disk, ALUA groups, serials, iSCSI target/TPG/LUNs incl. 300/portals
# v4+v6/ACLs with mutual CHAP/mapped LUNs/discovery auth, loopback with nexus), dumps it back
# through librts, checks a sample directly in configfs, clears and rebuilds. The same build on
# librts' emulated backend (a temp dir) is captured and compared with the real tree.
#
# Outputs in $OUT: build-*.log, dump-{1,2}.txt, librts-dump.txt (normalised real dump, the
# fixture tests/fixtures/configfs/librts-dump.txt), librts-real.txt (real capture, the fixture
# tests/fixtures/configfs/librts-real.txt), librts-emulated.txt, compare.txt, librts-errno.txt
# (errno of refused operations, fixture tests/fixtures/configfs/librts-errno.txt).
. "$(dirname "$0")/lib.sh"
vm_scenario librts-real --timeout 420 "$@"

BIN=${RTS_TEST_BINDIR:-$VM_REPO/build}
P=$BIN/tests/vm/librts_probe
ALLOW=$VM_REPO/tests/fixtures/configfs/librts-allowlist.txt
WORK=/tmp/librts-probe
IQN=iqn.2003-01.org.linux-iscsi.probe:t1
INIT1=iqn.1994-05.com.redhat:probe-init1
NEXUS=naa.5001405000000b01
T=$CF/iscsi/$IQN/tpgt_1
[ -x "$P" ] || die "$P missing: build first"
mkdir -p $WORK

step "block device for the block backstore"
BLOCK=()
truncate -s 32M /tmp/librts-b1.img
if LOOPDEV=$(losetup -f --show /tmp/librts-b1.img 2>&1); then
	ok "loop device $LOOPDEV"
	BLOCK=(--block "$LOOPDEV")
else
	skip "block backstore: losetup failed: $LOOPDEV"
fi

# the SCSI disk tcm_loop made for the loopback LUN (vendor LIO-ORG), for pscsi
loop_disk() {
	local d
	for d in /sys/class/scsi_disk/*/device; do
		[ -e "$d/block" ] || continue
		grep -q LIO-ORG "$d/vendor" 2>/dev/null || continue
		echo "/dev/$(ls "$d/block" | head -1) $(basename "$(readlink -f "$d")")"
		return 0
	done
	return 1
}

build_real() { # <n>
	local t rc
	timed t "$P" build --root /sys/kernel/config --work $WORK "${BLOCK[@]}" > "$OUT/build-$1.log" 2>&1
	rc=$?
	grep -E '^(FAIL|SKIP)' "$OUT/build-$1.log" | sed 's/^/     | /'
	if [ $rc -eq 0 ]; then
		ok "librts_probe build #$1 on the real configfs ($(grep -c '^ok' "$OUT/build-$1.log") operations, ${t} s)"
	else
		bad "librts_probe build #$1: $(grep -c '^FAIL' "$OUT/build-$1.log") failed operation(s)"
	fi
	DISK=""
	HCTL=""
	if wait_for 20 loop_disk; then
		read -r DISK HCTL < <(loop_disk)
		check "pscsi p1 on the loopback disk $DISK ($HCTL)" \
			"$P" pscsi --root /sys/kernel/config --pscsi "$DISK"
	else
		skip "pscsi: the loopback disk did not appear"
	fi
}

step "build through librts on the real configfs"
rm -f "$OUT"/build-*.log
build_real 1

step "read back through librts (dump)"
"$P" dump --root /sys/kernel/config > "$OUT/dump-1.txt" 2>&1 || bad "dump failed"
ok "dump: $(wc -l < "$OUT/dump-1.txt") lines"
dump_has() { # <description> <regex>
	if grep -qE "$2" "$OUT/dump-1.txt"; then ok "dump: $1"; else bad "dump: $1 (no /$2/)"; fi
}
dump_has "fileio f1 enabled, serial" '^so fileio/f1 wwn=a1b2c3d4-0000-4000-8000-00000000f001$'
dump_has "fileio f1 block_size" '^so fileio/f1 attrib/block_size = "4096"$'
dump_has "fileio f1 LU group" '^so fileio/f1 lu_gp=lg1$'
dump_has "fileio f1 tg_pt_gp tg1 id" '^so fileio/f1 tg_pt_gp tg1 alua/tg_pt_gp_id = "17"$'
dump_has "fileio f2 write-back" '^so fileio/f2 attrib/emulate_write_cache = "1"$'
[ ${#BLOCK[@]} -gt 0 ] && dump_has "block b1 udev_path" "^so iblock/b1 udev_path=$LOOPDEV\$"
dump_has "ramdisk r1" '^so rd_mcp/r1 enabled=1 luns=3$'
dump_has "ramdisk r2 nullio" '^so rd_mcp/r2 enabled=1'
dump_has "ramdisk r1 size" '^so rd_mcp/r1 size=16777216$'
dump_has "ramdisk r2 size (nullio)" '^so rd_mcp/r2 size=1073741824$'
[ ${#BLOCK[@]} -gt 0 ] && dump_has "block b1 size (of the loop device)" '^so iblock/b1 size=33554432$'
dump_has "fileio f1 size" '^so fileio/f1 size=8388608$'
dump_has "user u1 size" '^so user/u1 size=16777216$'
dump_has "user u1 (TCMU) enabled" '^so user/u1 enabled=1'
dump_has "user u1 max_data_area_mb" '^so user/u1 attrib/max_data_area_mb = "8"$'
[ -n "$DISK" ] && dump_has "pscsi p1" '^so pscsi/p1 enabled=1'
dump_has "lu_gp lg1" '^lu_gp lg1 lu_gp_id=21$'
dump_has "discovery auth (mutual)" '^fabric iscsi discovery_auth enforce=1 chap userid=discuser password=discpass mutual_userid=discmuser mutual_password=discmpass$'
dump_has "tpg enabled" "^target iscsi/$IQN tpgt_1 enable=1\$"
dump_has "tpg param MaxConnections" '^target iscsi/.* tpgt_1 param/MaxConnections = "4"$'
dump_has "tpg attrib default_cmdsn_depth" '^target iscsi/.* tpgt_1 attrib/default_cmdsn_depth = "32"$'
dump_has "lun 0 -> f1 in tg1" '^target iscsi/.* lun 0 -> fileio/f1 alias=[^ ]* alua=tg1$'
dump_has "lun 1 alias r1link" '^target iscsi/.* lun 1 -> rd_mcp/r1 alias=r1link'
dump_has "lun 300" '^target iscsi/.* lun 300 -> rd_mcp/r1'
dump_has "portal 127.0.0.1:3260" '^target iscsi/.* portal 127.0.0.1:3260 ipv6=0'
dump_has "portal [::1]:3261" '^target iscsi/.* portal \[::1\]:3261 ipv6=1'
dump_has "acl chap mutual" "acl $INIT1 chap userid=user1 password=pass1pass1 mutual_userid=muser1 mutual_password=mpass1mpass1\$"
dump_has "acl cmdsn_depth" "acl $INIT1 cmdsn_depth=16\$"
dump_has "acl tag" "acl $INIT1 tag=probegroup\$"
dump_has "mapped lun 5 write-protected" "acl $INIT1 mapped_lun 5 -> lun 1 write_protect=1\$"
dump_has "mapped lun 300" "acl $INIT1 mapped_lun 300 -> lun 300 write_protect=0\$"
dump_has "loopback nexus" "^target loopback/naa.5001405000000a01 tpgt_1 nexus=$NEXUS\$"
dump_has "loopback lun 0" '^target loopback/.* lun 0 -> rd_mcp/r1'

step "LUN counts of one object (the kernel's ALUA group members) = from every TPG"
if "$P" counts --root /sys/kernel/config > "$OUT/counts.txt" 2>&1; then
	ok "$(tail -1 "$OUT/counts.txt")"
else
	bad "counts: $(grep -c FAIL "$OUT/counts.txt") mismatch(es)"
	sed 's/^/     | /' "$OUT/counts.txt"
fi

step "the kernel agrees (direct configfs reads)"
readback $CF/core/fileio_0/f1/wwn/vpd_unit_serial "T10 VPD Unit Serial Number: a1b2c3d4-0000-4000-8000-00000000f001"
readback $CF/core/fileio_0/f1/attrib/block_size 4096
readback $CF/core/fileio_0/f1/wwn/product_id PROBE
expect_match "f1 alua_lu_gp" "$(cat $CF/core/fileio_0/f1/alua_lu_gp)" "LU Group Alias: lg1"
readback $CF/core/fileio_0/f1/alua/tg1/tg_pt_gp_id 17
expect_match "u1 info" "$(cat $CF/core/user_*/u1/info)" "Config: file//tmp/librts-probe/u1.img"
check "a uio device for u1" sh -c 'grep -l "/u1/" /sys/class/uio/uio*/name'
readback $CF/iscsi/discovery_auth/enforce_discovery_auth 1
readback $T/enable 1
readback $T/param/MaxConnections 4
readback $T/attrib/default_cmdsn_depth 32
expect_match "lun_0 link" "$(readlink $T/lun/lun_0/*)" "core/fileio_0/f1$"
expect_match "lun_300 link" "$(readlink $T/lun/lun_300/*)" "core/rd_mcp_[0-9]+/r1$"
expect_match "lun_0 alua_tg_pt_gp" "$(cat $T/lun/lun_0/alua_tg_pt_gp)" "TG Port Alias: tg1"
check "np 127.0.0.1:3260" test -d "$T/np/127.0.0.1:3260"
check "np [::1]:3261" test -d "$T/np/[::1]:3261"
readback $T/acls/$INIT1/cmdsn_depth 16
readback $T/acls/$INIT1/tag probegroup
readback $T/acls/$INIT1/auth/userid_mutual muser1
readback $T/acls/$INIT1/lun_5/write_protect 1
expect_match "mapped lun_5 link" "$(readlink $T/acls/$INIT1/lun_5/*)" "lun/lun_1$"
readback $CF/loopback/naa.5001405000000a01/tpgt_1/nexus $NEXUS
if command -v ss >/dev/null; then
	expect_match "iSCSI portals listening" "$(ss -Hltn | tr '\n' ' ')" '127.0.0.1:3260.*\[::1\]:3261|\[::1\]:3261.*127.0.0.1:3260'
fi

step "capture the real tree; same build on librts' emulated backend; compare"
python3 "$VM_TESTS/capture-configfs.py" --title "librts_probe build (real kernel)" > "$OUT/librts-real.txt" ||
	die "capture failed"
ok "real capture: $(grep -vc '^#' "$OUT/librts-real.txt") entries"
EMU=/tmp/librts-emu
rm -rf $EMU /tmp/librts-probe-emu
mkdir -p $EMU
PS=()
[ -n "$HCTL" ] && PS=(--pscsi "$HCTL")
"$P" build --root $EMU --backend emulate --work $WORK "${BLOCK[@]}" "${PS[@]}" > "$OUT/build-emulated.log" 2>&1 ||
	bad "librts_probe build on the emulated backend: $(grep '^FAIL' "$OUT/build-emulated.log")"
"$P" capture --root $EMU --backend emulate > "$OUT/librts-emulated.txt" || bad "capture of the emulated tree failed"
python3 "$VM_TESTS/compare-capture.py" --allow "$ALLOW" "$OUT/librts-real.txt" "$OUT/librts-emulated.txt" > "$OUT/compare.txt"
rc=$?
sed 's/^/     | /' "$OUT/compare.txt" | tail -60
if [ $rc -eq 0 ]; then ok "emulated tree = real tree ($(tail -1 "$OUT/compare.txt"))"; else bad "emulated tree differs from the real tree ($(tail -1 "$OUT/compare.txt"))"; fi

step "librts reads the same through both backends (dump, sorted)"
# readdir order differs between configfs and the emulator; LUN link names are random;
# the pscsi/iblock device identity comes from the device (allowlist)
dump_norm() {
	sed -E 's/alias=[0-9a-f]{10}( |$)/alias=@\1/' "$1" |
		grep -vE '^so (pscsi/p1 (udev_path=|wwn/(product_id|vpd_))|iblock/b1 size=)' | LC_ALL=C sort
}
"$P" dump --root $EMU --backend emulate > "$OUT/dump-emulated.txt" 2>&1 || bad "dump of the emulated tree failed"
dump_norm "$OUT/dump-1.txt" > "$OUT/librts-dump.txt"
if diff "$OUT/librts-dump.txt" <(dump_norm "$OUT/dump-emulated.txt") > "$OUT/dump-real-vs-emulated.txt"; then
	ok "dump of the emulated tree = dump of the real tree ($(wc -l < "$OUT/librts-dump.txt") lines)"
else
	bad "dumps differ (< real, > emulated)"
	sed 's/^/     | /' "$OUT/dump-real-vs-emulated.txt" | head -20
fi

step "errno of refused operations: real kernel vs emulator"
"$P" errors --root /sys/kernel/config > "$OUT/librts-errno.txt" 2>&1 || bad "errors on the real configfs failed"
"$P" errors --root $EMU --backend emulate > "$OUT/librts-errno-emulated.txt" 2>&1 || bad "errors on the emulated backend failed"
if diff "$OUT/librts-errno.txt" "$OUT/librts-errno-emulated.txt" > "$OUT/errno-diff.txt"; then
	ok "emulator refuses $(wc -l < "$OUT/librts-errno.txt") operations with the kernel's errno"
else
	bad "errno differs (< real, > emulated)"
	sed 's/^/     | /' "$OUT/errno-diff.txt"
fi

step "clear through librts, then rebuild"
check "librts_probe clear" "$P" clear --root /sys/kernel/config
left=$(ls $CF/core | grep -vx alua | tr '\n' ' ')
for d in $CF/core/*_[0-9]*; do
	[ -d "$d" ] || continue
	[ -z "$(find "$d" -mindepth 1 -maxdepth 1 -type d)" ] || bad "storage object left in $d"
done
expect "targets left" "$(find $CF/iscsi $CF/loopback -mindepth 1 -maxdepth 1 -type d ! -name discovery_auth)" ""
expect "LU groups left" "$(ls $CF/core/alua/lu_gps | tr '\n' ' ')" "default_lu_gp "
echo "     HBAs left: ${left:-none}"
build_real 2
"$P" dump --root /sys/kernel/config > "$OUT/dump-2.txt" 2>&1 || bad "dump #2 failed"
# generated serials, HBA indexes and statistics differ between builds
# (and LUN link names: 10 random hex digits)
norm() { grep -vE 'wwn=|vpd_unit_serial|vpd_assoc|res_aptpl' "$1" | sed -E 's/_[0-9]+\//_N\//g; s/alias=[0-9a-f]{10} /alias=@ /'; }
if diff <(norm "$OUT/dump-1.txt") <(norm "$OUT/dump-2.txt") > "$OUT/dump-diff.txt"; then
	ok "rebuild reads back the same as the first build"
else
	bad "rebuild differs from the first build"
	sed 's/^/     | /' "$OUT/dump-diff.txt" | head -20
fi
check "final clear" "$P" clear --root /sys/kernel/config
[ -n "${LOOPDEV:-}" ] && losetup -d "$LOOPDEV"
vm_finish
