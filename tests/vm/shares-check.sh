#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A build directory outside the checkout (cmake -S . -B /tmp/<dir>) must be shared with the
# guest, or the scenarios cannot find rts-runner and the handlers ("rts-runner not built at
# ..."): the guest mounts its own tmpfs on /tmp. Checks, without starting a guest
# (RTS_VM_DRYRUN), that every scenario shares RTS_TEST_BINDIR at its path, before its output
# directory inside it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
bindir=$(mktemp -d /tmp/rts-oot-build.XXXXXX)
trap 'rm -rf "$bindir"' EXIT
bindir=$(cd "$bindir" && pwd -P)
fail=0
n=0
for s in "$here"/*.sh; do
	grep -q '^vm_scenario ' "$s" || continue
	name=$(basename "$s" .sh)
	cmd=$(RTS_VM_DRYRUN=1 RTS_TEST_BINDIR=$bindir RTS_VM_OUT=$bindir/vm-out "$s")
	n=$((n + 1))
	case "$cmd" in
	*"--share $bindir --share $bindir/vm-out/"*) echo "ok   $name shares $bindir" ;;
	*) echo "FAIL $name: guest command line lacks the build dir share: $cmd"; fail=1 ;;
	esac
done
[ "$n" -gt 0 ] || { echo "FAIL no scenario found in $here"; exit 1; }
exit "$fail"
