# Helpers for real-kernel scenarios (tests/vm/*.sh). Source it first thing:
#
#   . "$(dirname "$0")/lib.sh"
#   vm_scenario <name> [--timeout S] "$@"   # on the host: re-exec this script in a fresh guest
#                                          # in the guest: set up $OUT and the check counters
#
# A scenario prints what it checks (`ok ...` / `FAIL ...`), notes every skip with its reason
# (`SKIP ...`) and ends with `vm_finish`, which exits 1 if any check failed (77 when nothing was
# checked and something skipped: a scenario skipped as a whole, e.g. without Ceph). `die` stops at once
# (for setup steps that make the rest meaningless).
# $OUT (RTS_VM_OUT/<name>, default <repo>/build/vm-out/<name>) is shared read-write with the
# host: logs and captured files go there.
set -uo pipefail

VM_TESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
VM_REPO=$(cd "$VM_TESTS/../.." && pwd -P)
CF=/sys/kernel/config/target
vm_failed=0
vm_checked=0
vm_skipped=()

vm_scenario() {
	local name=$1 timeout=600
	shift
	if [ "${1:-}" = --timeout ]; then
		timeout=$2
		shift 2
	fi
	local out=${RTS_VM_OUT:-$VM_REPO/build/vm-out}/$name
	if [ -z "${RTS_VM_GUEST:-}" ]; then
		mkdir -p "$out"
		local envs=(--env "OUT=$out")
		local v
		for v in $(compgen -e | grep -E '^(RTS_|RUNNER)' || true); do
			case $v in RTS_VM_CACHE|RTS_VM_OUT|RTS_VM_SHARE) continue ;; esac
			envs+=(--env "$v=${!v}")
		done
		local self shares=()
		self=$(cd "$(dirname "$0")" && pwd -P)/$(basename "$0")
		# The build directory (binaries, handlers) may be anywhere, e.g. under /tmp, which
		# the guest hides behind its own tmpfs: share it at its path too, before $out
		# (which may sit inside it). The checkout itself is always shared by run.sh.
		if [ -n "${RTS_TEST_BINDIR:-}" ] && [ -d "$RTS_TEST_BINDIR" ]; then
			shares+=(--share "$(cd "$RTS_TEST_BINDIR" && pwd -P)")
		fi
		shares+=(--share "$out")
		if [ -n "${RTS_VM_DRYRUN:-}" ]; then # print the guest's command line (tests of this)
			printf '%q ' "$VM_REPO/scripts/vm/run.sh" --timeout "$timeout" "${shares[@]}" \
				"${envs[@]}" --console "$out/console.log" -- "$self" "$@"
			echo
			exit 0
		fi
		exec "$VM_REPO/scripts/vm/run.sh" --timeout "$timeout" "${shares[@]}" "${envs[@]}" \
			--console "$out/console.log" -- "$self" "$@"
	fi
	OUT=${OUT:-/tmp/vm-out/$name}
	mkdir -p "$OUT"
	# The checkout is shared read-write: tools that drop files in the working directory
	# (fio's *-verify.state) must write them with the scenario's output, not into the repo.
	cd "$OUT" || exit 1
	echo "== scenario $name on $(uname -r), output in $OUT"
}

step() { printf '\n-- %s\n' "$*"; }
die() {
	echo "FAIL (fatal) $*"
	exit 1
}
ok() {
	vm_checked=$((vm_checked + 1))
	echo "ok   $*"
}
bad() {
	vm_checked=$((vm_checked + 1))
	vm_failed=$((vm_failed + 1))
	echo "FAIL $*"
}
skip() {
	vm_skipped+=("$*")
	echo "SKIP $*"
}

# check <description> <command...>: run the command (output shown only on failure)
check() {
	local desc=$1 outp rc
	shift
	outp=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$desc"
	else
		bad "$desc (rc=$rc: $*)"
		[ -n "$outp" ] && printf '%s\n' "$outp" | sed 's/^/     | /'
	fi
	return $rc
}

# expect <description> <actual> <expected>
expect() {
	if [ "$2" = "$3" ]; then
		ok "$1 = '$3'"
	else
		bad "$1: got '$2', expected '$3'"
		return 1
	fi
}

# expect_match <description> <actual> <extended regex>
expect_match() {
	if [[ $2 =~ $3 ]]; then
		ok "$1 ~ /$3/"
	else
		bad "$1: '$2' does not match /$3/"
		return 1
	fi
}

# cfs_set <configfs path> <value>: write an attribute (no trailing newline) or die, saying which
cfs_set() {
	local err
	if ! err=$( (printf '%s' "$2" > "$1") 2>&1); then
		die "write '$2' > ${1#"$CF"/}: ${err##*: }"
	fi
}

# cfs_get <configfs path>: the attribute's content without the trailing newline
cfs_get() { cat "$1"; }

# readback <configfs path> <expected>: check an attribute reads back as expected
readback() { expect "${1#"$CF"/}" "$(cfs_get "$1" 2>&1)" "$2"; }

# wait_for <seconds> <command...>: poll (0.1 s) until the command succeeds, bounded by wall time
# (not by a count of polls: on a loaded host one poll can take seconds)
wait_for() {
	local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "${EPOCHREALTIME/./}" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# timed <var> <command...>: run the command, store its wall time (seconds, 2 decimals) in <var>
timed() {
	local __v=$1 t0 t1 rc
	shift
	t0=$(date +%s.%N)
	"$@"
	rc=$?
	t1=$(date +%s.%N)
	printf -v "$__v" '%s' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
	return $rc
}

# capture <fixture name> [subtree...]: dump (part of) the live tree to $OUT/configfs/<name>.txt
capture() {
	local name=$1
	shift
	mkdir -p "$OUT/configfs/$(dirname "$name")"
	python3 "$VM_TESTS/capture-configfs.py" --title "$name" "$@" > "$OUT/configfs/$name.txt" ||
		die "capture $name failed"
	echo "     captured configfs/$name.txt ($(grep -vc '^#' "$OUT/configfs/$name.txt") entries)"
}

vm_finish() {
	echo
	local s
	for s in "${vm_skipped[@]}"; do echo "skipped: $s"; done
	if [ "$vm_failed" -ne 0 ]; then
		echo "== RESULT: $vm_failed of $vm_checked checks FAILED"
		exit 1
	fi
	if [ "$vm_checked" -eq 0 ] && [ ${#vm_skipped[@]} -gt 0 ]; then
		echo "== RESULT: skipped" # the whole scenario (ctest: SKIP_RETURN_CODE 77)
		exit 77
	fi
	[ "$vm_checked" -gt 0 ] || die "no checks ran"
	echo "== RESULT: all $vm_checked checks passed (${#vm_skipped[@]} skipped)"
	exit 0
}

# cfs_try <configfs path> <value>: write, return the write's status (error text on stderr)
cfs_try() { (printf '%s' "$2" > "$1"); }

# start_dbus: a system bus (targetcli lists user: backstore handlers over D-Bus)
start_dbus() {
	mkdir -p /run/dbus
	dbus-daemon --system --fork --nopidfile || die "dbus-daemon --system failed"
}

# start_runner [args...]: start $RUNNER (default tcmu-runner) in the background, log in
# $OUT/runner.log, and wait (up to 15 s) until its handlers are published on D-Bus
# (org.kernel.TCMUService1 object manager: targetcli lists user:<handler> backstores from
# there; the name appears on the bus before the handler objects do). Sets RUNNER_PID.
RUNNER=${RUNNER:-tcmu-runner}
runner_handlers() {
	dbus-send --system --print-reply --dest=org.kernel.TCMUService1 /org/kernel/TCMUService1 \
		org.freedesktop.DBus.ObjectManager.GetManagedObjects 2>/dev/null |
		sed -n 's|.*object path "/org/kernel/TCMUService1/\([^"/]*\)".*|\1|p' | grep -vx HandlerManager1 | sort -u | tr '\n' ' '
}
start_runner() {
	command -v "$RUNNER" >/dev/null || die "runner '$RUNNER' not found"
	mkdir -p /etc/tcmu
	"$RUNNER" "$@" > "$OUT/runner.log" 2>&1 &
	RUNNER_PID=$!
	# Ask the bus whether the name is owned before talking to it: a method call to an unowned
	# org.kernel.TCMUService1 makes dbus-daemon activate Debian's tcmu-runner, which would then
	# compete with $RUNNER for every device.
	wait_for 15 sh -c 'dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
		org.freedesktop.DBus.NameHasOwner string:org.kernel.TCMUService1 2>/dev/null | grep -q "boolean true"'
	if wait_for 15 sh -c "$(declare -f runner_handlers); [ -n \"\$(runner_handlers)\" ]"; then
		echo "     $RUNNER running (pid $RUNNER_PID), handlers on D-Bus: $(runner_handlers)"
	else
		kill -0 "$RUNNER_PID" 2>/dev/null || { cat "$OUT/runner.log"; die "$RUNNER exited at start"; }
		echo "     $RUNNER running (pid $RUNNER_PID) but no handlers on D-Bus after 15 s"
	fi
}

stop_runner() {
	[ -n "${RUNNER_PID:-}" ] || return 0
	kill "$RUNNER_PID" 2>/dev/null
	wait "$RUNNER_PID" 2>/dev/null
	RUNNER_PID=""
}

# saveconfig_equal <a.json> <b.json> [--except-ext]: same configuration (object lists compared
# unordered). --except-ext leaves out rtsctl's documented extension fields (docs/rtsctl.8
# COMPATIBILITY: targets[].tpgs[].rtslib_c, node_acls[].tcq_depth, top-level rtslib_c), which
# rtslib never writes: for comparing a file one side wrote with one rtslib wrote.
saveconfig_equal() {
	python3 - "$1" "$2" "${3:-}" <<'PY'
import json, sys
EXT = ("rtslib_c", "tcq_depth") if sys.argv[3] == "--except-ext" else ()
def canon(x):
    if isinstance(x, dict):
        return {k: canon(v) for k, v in x.items() if k not in EXT}
    if isinstance(x, list):
        return sorted((canon(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
    return x
a, b = (canon(json.load(open(p))) for p in sys.argv[1:3])
if a != b:
    import difflib
    sa = json.dumps(a, indent=1, sort_keys=True).splitlines()
    sb = json.dumps(b, indent=1, sort_keys=True).splitlines()
    print("\n".join(difflib.unified_diff(sa, sb, sys.argv[1], sys.argv[2], lineterm="", n=2)))
    sys.exit(1)
PY
}

# ceph_up <dir> <port base>: start a throw-away Ceph cluster in the guest (scripts/ceph/cluster.sh:
# 1 mon + 1 memstore OSD of CEPH_OSD_SIZE_GB, default 1, pool rbd; bounded to 240 s), its log in
# $OUT/ceph-up.txt. Sets CEPH_CONF_FILE (the cluster's ceph.conf; not CEPH_CONF, which librados
# would read). Returns 77 when Ceph is not installed (the caller skips); dies when the cluster
# does not start. ceph_down <dir> stops exactly that cluster's daemons (by PID) and removes <dir>.
ceph_up() {
	local t0 rc
	t0=$(date +%s.%N)
	CEPH_OSD_SIZE_GB=${CEPH_OSD_SIZE_GB:-1} CEPH_PORT_BASE=$2 timeout 240 \
		"$VM_REPO/scripts/ceph/cluster.sh" up "$1" > "$OUT/ceph-up.txt" 2>&1
	rc=$?
	[ $rc = 77 ] && return 77
	[ $rc = 0 ] || { tail -20 "$OUT/ceph-up.txt"; die "Ceph cluster did not start"; }
	CEPH_CONF_FILE=$1/ceph.conf
	echo "     Ceph cluster up in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
}
ceph_down() { "$VM_REPO/scripts/ceph/cluster.sh" down "$1" > /dev/null 2>&1; }
