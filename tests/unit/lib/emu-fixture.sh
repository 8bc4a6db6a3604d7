#!/bin/bash
# The emulator against the real kernel, without a VM: run the same `librts_probe build` as the
# VM scenario librts-real on librts' emulated backend (a temp dir), capture the tree, and compare
# it with the tree captured from the real kernel (tests/fixtures/configfs/librts-real.txt),
# modulo tests/fixtures/configfs/librts-allowlist.txt. Refresh the fixture with
# `tests/vm/librts-real.sh` (it writes build/vm-out/librts-real/librts-real.txt).
#
#   emu-fixture.sh <librts_probe> <source dir>
set -uo pipefail
P=$1
SRC=$2
FIX=$SRC/tests/fixtures/configfs
[ -x "$P" ] || { echo "no $P"; exit 77; }
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/emu-fixture-XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
mkdir "$TMP/root"
# the options the VM scenario used: first loop device, pscsi on the tcm_loop disk 0:0:1:0;
# backing files in a private dir, renamed to the scenario's in the comparison
if ! "$P" build --root "$TMP/root" --backend emulate --work "$TMP/work" --block /dev/loop0 \
	--pscsi 0:0:1:0 > "$TMP/build.log" 2>&1; then
	grep FAIL "$TMP/build.log"
	echo "FAIL librts_probe build on the emulated backend"
	exit 1
fi
"$P" capture --root "$TMP/root" --backend emulate > "$TMP/emulated.txt" || exit 1
python3 "$SRC/tests/vm/compare-capture.py" --allow "$FIX/librts-allowlist.txt" \
	--subst "$TMP/work=/tmp/librts-probe" "$FIX/librts-real.txt" "$TMP/emulated.txt"
rc=$?
# librts reads the emulated tree as it read the real one (normalised like librts-real.sh)
"$P" dump --root "$TMP/root" --backend emulate > "$TMP/dump.txt" 2>&1 || exit 1
if ! diff "$FIX/librts-dump.txt" <(sed -E "s/alias=[0-9a-f]{10}( |\$)/alias=@\\1/; s#$TMP/work#/tmp/librts-probe#" "$TMP/dump.txt" |
	grep -vE '^so (pscsi/p1 (udev_path=|wwn/(product_id|vpd_))|iblock/b1 size=)' | LC_ALL=C sort); then
	echo "FAIL librts_probe dump differs (< real kernel, > emulated)"
	rc=1
fi
# operations the kernel refuses: same errno as the real kernel gave
"$P" errors --root "$TMP/root" --backend emulate > "$TMP/errno.txt" 2>&1 || exit 1
if ! diff "$FIX/librts-errno.txt" "$TMP/errno.txt"; then
	echo "FAIL errno of refused operations differ (< real kernel, > emulated)"
	rc=1
fi
# the emulated tree must also clear completely through librts
"$P" clear --root "$TMP/root" --backend emulate > "$TMP/clear.log" 2>&1 || { cat "$TMP/clear.log"; exit 1; }
left=$("$P" capture --root "$TMP/root" --backend emulate | grep -E '^d [0-9]+ (core/[a-z_]+_[0-9]+/|iscsi/|loopback/|core/alua/lu_gps/lg)' | grep -vc '/discovery_auth$' || true)
if [ "$left" != 0 ]; then
	echo "FAIL $left object directories left after clear"
	exit 1
fi
exit $rc
