#!/usr/bin/env bash
# The file handler against fio --ioengine=io_uring on the same file (see bench/bench_file.c):
# builds a release tree in build/bench and prints workload | ours | fio | ours/fio for the
# page cache and O_DIRECT. Extra arguments go to bench_file (e.g. --size 1G --reps 5).
#
#   scripts/bench-file.sh [--file /var/tmp/rts-bench-file.img] [--only direct|cache] ...
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/bench}
command -v fio >/dev/null || { echo "bench-file.sh: fio is needed" >&2; exit 1; }
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRTS_BUILD_TESTS=OFF -DRTS_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j2 --target bench_file >/dev/null
exec "$build/bench/bench_file" --handler-dir "$build/handlers" "$@"
