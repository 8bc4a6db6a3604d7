#!/usr/bin/env bash
# The qcow2 handler on a fully allocated image vs the file handler on the raw file it was
# converted from, both through the simulator (see bench/bench_qcow2.c): builds a release
# tree in build/bench and prints workload | file | qcow2 | qcow2/file. Extra arguments go
# to bench_qcow2 (e.g. --size 1G --reps 5 --dir /var/tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/bench}
command -v qemu-img >/dev/null || { echo "bench-qcow2.sh: qemu-img is needed" >&2; exit 1; }
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRTS_BUILD_TESTS=OFF -DRTS_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_qcow2 >/dev/null
exec "$build/bench/bench_qcow2" --handler-dir "$build/handlers" "$@"
