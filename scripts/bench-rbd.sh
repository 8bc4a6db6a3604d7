#!/usr/bin/env bash
# The rbd handler against fio --ioengine=rbd on the same image (see bench/bench_rbd.c):
# builds a release tree in build/bench, starts a throw-away cluster (scripts/ceph/cluster.sh,
# memstore, ports 26500..26599), prints the table, stops the cluster by PID. Extra arguments
# go to bench_rbd (e.g. --reps 7 --runtime 5). RTS_CEPH_CONF=... uses a running cluster instead.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build/bench}
command -v fio >/dev/null || { echo "bench-rbd.sh: fio is needed" >&2; exit 1; }
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRTS_BUILD_TESTS=OFF -DRTS_BUILD_BENCH=ON \
	-DRTS_WITH_RBD=ON >/dev/null
cmake --build "$build" -j2 --target bench_rbd >/dev/null
conf=${RTS_CEPH_CONF:-}
if [ -z "$conf" ]; then
	dir=$(mktemp -d /tmp/rts-bench-ceph.XXXXXX)
	rmdir "$dir"
	trap 'CEPH_PORT_BASE=26500 scripts/ceph/cluster.sh down "$dir"' EXIT
	conf=$(CEPH_PORT_BASE=26500 CEPH_OSD_SIZE_GB=4 scripts/ceph/cluster.sh up "$dir")
fi
"$build/bench/bench_rbd" --handler-dir "$build/handlers" --conf "$conf" "$@"
