#!/usr/bin/env bash
# Install dependencies, build, and run every test tier rtslib-c has.
#
#   scripts/test.sh            deps + -Werror build + unit/fuzz-replay tests + ASan/UBSan unit
#                              tests + TSan threaded tests + the rbd handler against a real
#                              single-node Ceph cluster + the real-kernel VM tier
#   RTS_TEST_SKIP_VM=1         leave the VM tier out (it says so in the summary)
#   RTS_TEST_SKIP_ASAN=1       leave the sanitizer builds out
#   RTS_DEPS_PDF=1             install TeX too, so the PDF API reference is built and packaged
#   BUILD_DIR=...              build directory (default: build/ci)
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
jobs=$(nproc 2>/dev/null || echo 2)

scripts/deps.sh

build=${BUILD_DIR:-$src/build/ci}
asan=${BUILD_DIR:-$src/build/ci}-asan

step() { printf '\n=== %s ===\n' "$*"; }

step "build (-Werror)"
# the PDF API reference when TeX is installed (RTS_DEPS_PDF=1 scripts/deps.sh), HTML always
pdf=OFF
command -v pdflatex >/dev/null && pdf=ON
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTS_WERROR=ON -DRTS_DOCS_PDF=$pdf >/dev/null
cmake --build "$build" -j"$jobs"

step "unit + fuzz-replay tests"
ctest --test-dir "$build" -L 'unit|fuzz' --output-on-failure -j"$jobs"

if [ "${RTS_TEST_SKIP_ASAN:-0}" != 1 ]; then
	step "unit tests under ASan+UBSan"
	cmake -S "$src" -B "$asan" -DCMAKE_BUILD_TYPE=Debug -DRTS_WERROR=ON -DRTS_SANITIZE=ON \
		-DRTS_BUILD_BENCH=OFF >/dev/null
	cmake --build "$asan" -j"$jobs"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir "$asan" -L 'unit|fuzz' --output-on-failure -j"$jobs"
fi

if [ "${RTS_TEST_SKIP_ASAN:-0}" != 1 ]; then
	step "threaded tests under ThreadSanitizer"
	tsan=${BUILD_DIR:-$src/build/ci}-tsan
	cmake -S "$src" -B "$tsan" -DCMAKE_BUILD_TYPE=Debug -DRTS_WERROR=ON -DRTS_TSAN=ON \
		-DRTS_BUILD_BENCH=OFF >/dev/null
	cmake --build "$tsan" -j"$jobs"
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		ctest --test-dir "$tsan" -L threads --output-on-failure -j"$jobs"
fi

if ctest --test-dir "$build" -N -L ceph 2>/dev/null | grep -q 'Total Tests: [1-9]'; then
	# One throw-away cluster (scripts/ceph/cluster.sh, 127.0.0.1 only) for the whole tier,
	# started and stopped (by PID) by a ctest fixture, plus a bluestore one for the
	# OSD stop/start test: ~50 s on 2 cores.
	step "ceph tier (rbd handler on a real cluster)"
	ctest --test-dir "$build" -L ceph --output-on-failure
else
	step "ceph tier: not run (librbd not found at configure time)"
fi

if [ "${RTS_TEST_SKIP_VM:-0}" != 1 ] && ctest --test-dir "$build" -N -L vm 2>/dev/null | grep -q 'Total Tests: [1-9]'; then
	step "real-kernel tier (qemu)"
	ctest --test-dir "$build" -L vm --output-on-failure
else
	step "real-kernel tier: not run (RTS_TEST_SKIP_VM=1 or no vm tests registered)"
fi
