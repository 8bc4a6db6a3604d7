#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run every libFuzzer target for a while and report what it did.
#
#   scripts/fuzz.sh [seconds per target (60)] [build dir (build-fuzz)] [targets...]
#   FUZZ_RUNS=N scripts/fuzz.sh ...   also stop a target after N executions (e.g. 10000000)
#   FUZZ_FORK=1 scripts/fuzz.sh ...   libFuzzer's fork mode: the same one-core campaign, run as a
#                                     series of child jobs (up to 300 s each) that the parent
#                                     merges, so nothing a process accumulates outlives a job.
#   FUZZ_CPU=N scripts/fuzz.sh ...    pin the fuzzer (and the threads its target starts) to CPU N.
#                                     Targets that start threads per input run ~1.5x faster so
#                                     (fuzz_qcow2_image: 1,221 against 807 inputs/s on a 2-core
#                                     host): with every thread on one CPU, ASan's munmap of large
#                                     chunks needs no TLB-shootdown IPI to the other CPU.
#
# Targets that start threads per input (fuzz_qcow2_image: the device's I/O thread and the
# thread its handler's close() runs on) grow the process by one AddressSanitizer thread
# context per thread, never reused: about one new memory map per 150 inputs, so one process
# reaches the kernel's default vm.max_map_count (65530) after about 6 M inputs and ASan aborts
# with ENOMEM. For a 10 M run, raise it first (sysctl -w vm.max_map_count=1048576, as root;
# it reverts at reboot) or use FUZZ_FORK=1 (each job is a fresh process).
set -eu

secs=${1:-60}
build=${2:-build-fuzz}
[ $# -ge 2 ] && shift 2 || shift $#
src=$(cd "$(dirname "$0")/.." && pwd)

if [ ! -f "$build/CMakeCache.txt" ]; then
	CC=${CC:-clang} cmake -S "$src" -B "$build" -DRTS_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
targets=${*:-$(sed -n 's/^rts_add_fuzz_target(\([a-z0-9_]*\).*/\1/p' "$src/tests/fuzz/CMakeLists.txt")}
# shellcheck disable=SC2086
cmake --build "$build" -j"${JOBS:-2}" --target $targets >/dev/null

out="$build/fuzz-out"
total_findings=0
printf '%-24s %14s %10s %8s %9s\n' target executions exec/s corpus findings
for t in $targets; do
	bin=$(find "$build/tests/fuzz" -maxdepth 1 -name "$t" -type f | head -1)
	[ -n "$bin" ] || { echo "$t: not built" >&2; exit 1; }
	mkdir -p "$out/$t/corpus"
	log="$out/$t/last.log"
	# the target may chdir into a scratch directory: every path it gets is absolute
	abs_out=$(cd "$out/$t" && pwd)
	if [ "${FUZZ_FORK:-0}" = 1 ]; then mode=-fork=1; else mode=-workers=1; fi
	${FUZZ_CPU:+taskset -c "$FUZZ_CPU"} "$bin" -max_total_time="$secs" ${FUZZ_RUNS:+-runs="$FUZZ_RUNS"} -print_final_stats=1 "$mode" -timeout=20 \
		-rss_limit_mb=2048 -artifact_prefix="$abs_out/" "$abs_out/corpus" \
		"$src/tests/fuzz/corpus/$t" >"$log" 2>&1 || true
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	if [ "$mode" = -fork=1 ]; then
		# the parent prints "#<executions>: cov: ... time: <s>s job: <n> ..." after each job
		last=$(grep -E '^#[0-9]+: ' "$log" | tail -1)
		execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\): .*/\1/p')
		t_s=$(printf '%s\n' "$last" | sed -n 's/.* time: \([0-9]*\)s .*/\1/p')
		[ -n "$execs" ] && [ "${t_s:-0}" -gt 0 ] && rate=$((execs / t_s))
	fi
	findings=$(find "$out/$t" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o \
		-name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	size=$(find "$out/$t/corpus" -type f | wc -l)
	total_findings=$((total_findings + findings))
	printf '%-24s %14s %10s %8s %9s\n' "$t" "${execs:-?}" "${rate:-?}" "$size" "$findings"
done
[ "$total_findings" -eq 0 ] || { echo "findings are in $out/<target>/" >&2; exit 1; }
