#!/usr/bin/env bash
# Re-capture the real-kernel fixtures and copy them into tests/fixtures/ (review with git diff,
# then commit). Runs the capturing scenarios in fresh guests unless --no-run is given, in which
# case the outputs of the last runs (build/vm-out or $RTS_VM_OUT) are copied.
#
#   scripts/vm/update-fixtures.sh [--no-run]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd -P)
out=${RTS_VM_OUT:-$repo/build/vm-out}
fx=$repo/tests/fixtures
if [ "${1:-}" != --no-run ]; then
	RTS_VM_OUT=$out "$repo/tests/vm/configfs-objects.sh"
	RTS_VM_OUT=$out "$repo/tests/vm/targetcli-peer.sh"
fi
src=$out/configfs-objects/configfs
[ -s "$src/full-config.txt" ] || { echo "no capture in $src: run tests/vm/configfs-objects.sh" >&2; exit 1; }
[ -s "$out/targetcli-peer/saveconfig/targetcli-full.json" ] || { echo "no targetcli output: run tests/vm/targetcli-peer.sh" >&2; exit 1; }
rm -rf "$fx/configfs/kernel"
mkdir -p "$fx/configfs/kernel" "$fx/saveconfig"
cp -r "$src/." "$fx/configfs/kernel/"
cp "$out/targetcli-peer/configfs/targetcli-full.txt" "$fx/configfs/targetcli-full.txt"
cp "$out/targetcli-peer/saveconfig/targetcli-full.json" "$fx/saveconfig/targetcli-full.json"
chmod 0644 "$fx/saveconfig/targetcli-full.json"
echo "updated: $(cd "$repo" && git status --short tests/fixtures | wc -l) changed paths under tests/fixtures (git diff to review)"
