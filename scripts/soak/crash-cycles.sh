#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Crash cycles on the simulator: kill -9 the runner under random write load, restart, verify
# every acknowledged write (bench/soak/crash_cycle.c), for the file handler with write cache
# on and off and for the qcow2 handler (qemu-img check after every kill).
#
#   scripts/soak/crash-cycles.sh [cycles (100)] [build dir (build)] [scratch dir (/var/tmp)]
#
# The scratch dir should be a disk file system (the file handler's write cache off path uses
# RWF_DSYNC). Prints one table row per configuration; exits 1 on any loss or corruption.
set -eu
cycles=${1:-100}
build=${2:-build}
scratch=${3:-/var/tmp}
cmake --build "$build" --target crash_cycle >/dev/null
rc=0
for c in file file-wt qcow2; do
	"$build/bench/crash_cycle" "$build/handlers" "$c" "$cycles" "$scratch" "${SEED:-1}" || rc=1
done
exit $rc
