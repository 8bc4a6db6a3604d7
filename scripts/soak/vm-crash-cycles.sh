#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash cycles against the real kernel (qemu guest): kill -9 rts-runner under random writes
# (bench/soak/blk_crash_verify: each block carries its LBA and write generation), restart,
# adoption (block_dev, reset_ring), then every written block must hold its last acknowledged
# generation; a loss is printed with its LBA.
# The scenario is tests/vm/rts-runner-faults.sh (CI runs it with 3 cycles); this runs it
# with more and prints its "crash cycles: N tried, F failed, L with data lost" line.
#
#   scripts/soak/vm-crash-cycles.sh [cycles (20)] [build dir (build)]
#
# Takes about 10 s a cycle under software emulation, plus the guest's boot.
set -eu
cycles=${1:-20}
build=$(cd "${2:-build}" && pwd -P)
here=$(cd "$(dirname "$0")/../.." && pwd -P)
RTS_CRASH_CYCLES=$cycles RTS_TEST_BINDIR=$build RTS_VM_OUT=$build/vm-out \
	"$here/tests/vm/rts-runner-faults.sh" | tee "$build/vm-crash-cycles.log"
grep 'crash cycles:' "$build/vm-crash-cycles.log"
