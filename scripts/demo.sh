#!/usr/bin/env bash
# The main job on the built-in default: build if needed, start rts-runner serving a simulated
# TCMU device (the in-process ring simulator plays the kernel, so no LIO is needed), drive a
# short real SCSI workload through it, print what happened, stop cleanly.
#
#   scripts/demo.sh                 64 MiB device backed by the file $build/demo.img
#                                   (created sparse on first use, handler 'file')
#   scripts/demo.sh ram/64M         memory-backed device
#   scripts/demo.sh null/1G ...     any cfgstrings the built handlers accept
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/demo}

scripts/deps.sh --build
if [ ! -x "$build/tcmu/runner/rts-runner" ] || [ -n "$(find tcmu handlers include -newer "$build/tcmu/runner/rts-runner" -name '*.[ch]' -print -quit)" ]; then
	echo "building rtslib-c in $build ..." >&2
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTS_BUILD_TESTS=OFF -DRTS_BUILD_BENCH=OFF >/dev/null
	cmake --build "$build" -j"$(nproc)" >/dev/null
fi

case $build in /*) img=$build/demo.img ;; *) img=$PWD/$build/demo.img ;; esac
[ $# -gt 0 ] || set -- "file/$img;size=64M"
args=()
for cfg in "$@"; do args+=(--simulate "$cfg"); done
exec "$build/tcmu/runner/rts-runner" --handler-dir "$build/handlers" "${args[@]}" --demo
