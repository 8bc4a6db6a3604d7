#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rts-runner's status socket read by `rtsctl status`: simulated devices show up with their
# handler, size, counters and I/O statistics (also through --watch); a missing runner, a
# squatted path and --status-socket none behave as documented.
# Usage: test_runner_status.sh RTS_RUNNER RTSCTL HANDLER_DIR
set -u
RUNNER=$1 RTSCTL=$2 HDIR=$3
W=$(mktemp -d /tmp/rts-status-XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
fails=0
check() { # DESCRIPTION COMMAND...
	local d=$1
	shift
	if ! "$@"; then
		echo "FAIL: $d"
		fails=$((fails + 1))
	fi
}
S=$W/run/rts/runner.sock

"$RTSCTL" status --socket "$S" >"$W/out" 2>"$W/err"
check "no runner: exit 1" [ $? = 1 ]
check "no runner: says so" grep -q "no rts-runner answers" "$W/err"

"$RUNNER" --no-dbus -H "$HDIR" --simulate ram/16M --simulate null/1G --status-socket "$S" \
	>"$W/runner.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -S "$S" ] && break; sleep 0.05; done
check "socket created (directories made)" [ -S "$S" ]
check "socket mode 0660" [ "$(stat -c %a "$S")" = 660 ]

"$RTSCTL" status --socket "$S" >"$W/out" 2>"$W/err"
check "status exit 0" [ $? = 0 ]
check "header names the pid" grep -q "pid $pid, simulated mode, 2 device(s)" "$W/out"
check "ram device row" grep -Eq '^sim0 +ram +running +16\.0M +0 +0 ' "$W/out"
check "null device row" grep -Eq '^sim1 +null +running +1\.0G .* null/1G$' "$W/out"

"$RTSCTL" --json status --socket "$S" >"$W/json" 2>"$W/err"
check "json exit 0" [ $? = 0 ]
check "json schema and devices" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "rtsctl/1", d
r = d["runner"]
assert r["schema"] == "rts-runner-status/1" and r["mode"] == "simulated", r
devs = {x["name"]: x for x in r["devices"]}
assert devs["sim0"]["cfgstring"] == "ram/16M" and devs["sim0"]["size"] == 16 << 20, devs
assert devs["sim1"]["block_size"] == 512 and devs["sim1"]["state"] == "running", devs
for k in ("inflight", "cmds", "completions", "errors", "aborts", "aborts_cancelled", "kicks",
          "read_cmds", "write_cmds", "other_cmds", "read_bytes", "write_bytes", "lat_p50_ns",
          "lat_p99_ns", "lat_p999_ns", "lat_max_ns"):
    assert isinstance(devs["sim0"][k], int), k
assert isinstance(devs["sim0"]["lat_hist"], list), devs["sim0"]
assert {h["subtype"] for h in r["handlers"]} >= {"ram", "null"}, r["handlers"]
' "$W/json"

"$RTSCTL" status --watch 0.2 3 --socket "$S" >"$W/watch" 2>"$W/err"
check "watch exit 0" [ $? = 0 ]
check "watch: two interval reports" [ "$(grep -c '^DEVICE  *STATE  *r/s  *w/s  *rMB/s  *wMB/s' "$W/watch")" = 2 ]
check "watch: the first report has the totals" grep -Eq '^DEVICE +STATE +reads +writes +rMB +wMB ' "$W/watch"
check "watch: the first report says so" grep -q 'totals since each device started' "$W/watch"
check "watch: device rows" [ "$(grep -Ec '^sim[01] +running +0\.0 +0\.0 ' "$W/watch")" = 6 ]
"$RTSCTL" status --watch 0 --socket "$S" >/dev/null 2>"$W/err"
check "watch: interval 0 is a usage error" [ $? = 2 ]
check "watch: says why" grep -q "interval '0' is not a number of seconds" "$W/err"
"$RTSCTL" --json status --watch --socket "$S" >/dev/null 2>&1
check "watch with --json is a usage error" [ $? = 2 ]

# a second runner must not steal the live socket
"$RUNNER" --no-dbus -H "$HDIR" --simulate ram/1M --status-socket "$S" >"$W/second.log" 2>&1 &
p2=$!
sleep 1
kill "$p2" 2>/dev/null
wait "$p2"
check "second runner refuses the live socket" grep -q "another rts-runner answers on it" "$W/second.log"
"$RTSCTL" status --socket "$S" >"$W/out" 2>&1
check "first runner still answers" grep -q "pid $pid," "$W/out"

kill "$pid"
wait "$pid"
pid=
check "socket removed on exit" [ ! -e "$S" ]

# a path that is not a socket is never removed
echo keep >"$W/file"
"$RUNNER" --no-dbus -H "$HDIR" --simulate ram/1M --status-socket "$W/file" >"$W/third.log" 2>&1
check "squatted path: exit 1" [ $? = 1 ]
check "squatted path: reason" grep -q "exists and is not a socket" "$W/third.log"
check "squatted path: untouched" [ "$(cat "$W/file")" = keep ]

echo "$fails failed"
[ "$fails" = 0 ]
