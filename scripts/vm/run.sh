#!/usr/bin/env bash
# Run one command in a fresh real-kernel guest (Debian's kernel under qemu) and return its output
# and exit code. The guest root is this host's / (read-only 9p + tmpfs overlay: writes are
# discarded), so host binaries, the repo and the build tree are all there at the same paths.
#
#   scripts/vm/run.sh [options] -- <command> [args...]
#
# The command runs with bash in the guest (`bash -c "<command> <args>"` semantics: a single
# argument is a shell command line), cwd = the repo dir, after: proc/sys/devtmpfs/devpts mounted,
# /dev/fd, lo up, /etc/target/{pr,alua}, the LIO modules loaded, configfs on /sys/kernel/config.
# Its stdout+stderr stream to our stdout; the kernel console goes to a log file (tail printed
# on failure).
#
# Options:
#   --timeout S      kill the guest after S seconds (default $RTS_VM_TIMEOUT or 600); rc 124
#   --share DIR      also share DIR read-write at the same path (repeatable; default: the build
#                    dir, $RTS_VM_SHARE or <repo>/build)
#   --cwd DIR        working directory in the guest (default: the repo dir)
#   --env K=V        export K=V to the command (repeatable; the host environment is not passed)
#   --console FILE   keep the full kernel console log in FILE
#   --modules "M..." modules to load before the command (default: the LIO set below)
#   --mem SIZE       guest RAM (default 2G; keep <= 2G on shared CI machines)
#   -v               print the kernel console to stderr after the run
#
# Exit: the command's exit code; 77 = cannot run a guest here (no qemu or no kernel), with the
# reason on stderr; 124 = timeout; 125 = guest died before reporting (panic, boot failure).
# Env: RTS_VM_CACHE (kernel/initramfs cache, default <repo>/build/vm-cache), RTS_VM_ACCEL
#      (qemu -accel, default tcg: KVM is not usable on our CI machines), RTS_VM_SMP (default 2),
#      RTS_VM_QEMU (qemu binary, default qemu-system-x86_64 from PATH).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
log() { echo "[vm] $*" >&2; }
skip() { echo "[vm] SKIP (cannot run a guest here): $*" >&2; exit 77; }
usage() { sed -n '/^#   scripts/,/^# Env/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

timeout=${RTS_VM_TIMEOUT:-600}
shares=()
cwd=$repo
envs=()
console=""
modules="configfs target_core_mod target_core_user target_core_file target_core_iblock \
target_core_pscsi tcm_loop iscsi_target_mod uio sd_mod loop"
mem=${RTS_VM_MEM:-2G}
verbose=0
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--share) shares+=("$(cd "$2" && pwd -P)"); shift 2 ;;
	--cwd) cwd=$2; shift 2 ;;
	--env) envs+=("$2"); shift 2 ;;
	--console) console=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	-v) verbose=1; shift ;;
	--) shift; break ;;
	-h|--help) usage ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage
if [ ${#shares[@]} -eq 0 ]; then
	d=${RTS_VM_SHARE:-$repo/build}
	mkdir -p "$d"
	shares=("$(cd "$d" && pwd -P)")
fi
# The checkout itself is always shared at its path, first (later shares may sit inside it):
# the guest mounts tmpfs on /tmp, /run and /dev/shm, which would hide a checkout there (CI
# clones anywhere) behind the read-only view of the host root.
shares=("$repo" "${shares[@]}")

qemu=$(command -v "${RTS_VM_QEMU:-qemu-system-x86_64}" || true)
[ -n "$qemu" ] || skip "${RTS_VM_QEMU:-qemu-system-x86_64} not found (scripts/deps.sh installs qemu-system-x86)"
[ "$(id -u)" -eq 0 ] || skip "needs root (9p passthrough of the host root, modprobe in the guest)"
kvars=$("$here/kernel.sh") || exit $? # 77 when no kernel can be had, with the reason
eval "$kvars"

export RTS_VM_CACHE=${RTS_VM_CACHE:-$repo/build/vm-cache}
mkdir -p "$RTS_VM_CACHE/jobs"
job=$(mktemp -d "$RTS_VM_CACHE/jobs/job.XXXXXX")
job=$(cd "$job" && pwd -P)
qpid=""
cleanup() {
	[ -n "$qpid" ] && kill "$qpid" 2>/dev/null
	rm -rf "$job"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{
	printf 'RTS_VM_CWD=%q\n' "$cwd"
	printf 'RTS_VM_MODULES=%q\n' "$modules"
	for kv in "${envs[@]}"; do printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"; done
} > "$job/env"
if [ $# -eq 1 ]; then
	printf '%s\n' "$1" > "$job/cmd"
else
	printf '%q ' "$@" > "$job/cmd"
	echo >> "$job/cmd"
fi

virtfs=(
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$RTS_VM_KDIR/lib/modules/$RTS_VM_KV,mount_tag=kmods,security_model=none,readonly=on"
	-virtfs "local,path=$job,mount_tag=job,security_model=none"
)
i=0
for d in "${shares[@]}"; do
	virtfs+=(-virtfs "local,path=$d,mount_tag=share$i,security_model=none,multidevs=remap")
	i=$((i + 1))
done
share_list=$(IFS=:; echo "${shares[*]}")
bios=()
[ -r /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom) # ~1 s faster than SeaBIOS

t0=$(date +%s.%N)
set +e
# Our own bound on exactly this qemu: SIGTERM after $timeout s, SIGKILL 5 s later.
timeout --foreground -k 5 "$timeout" \
	"$qemu" -accel "${RTS_VM_ACCEL:-tcg}" -cpu max -smp "${RTS_VM_SMP:-2}" -m "$mem" \
	-nodefaults -no-reboot -display none -nographic "${bios[@]}" \
	-serial "file:$job/console.log" -serial stdio \
	-kernel "$RTS_VM_VMLINUZ" -initrd "$RTS_VM_INITRD" \
	-append "console=ttyS0 loglevel=6 panic=-1 oops=panic rdinit=/init \
rts.job=$job rts.stage2=$here/guest-init.sh rts.shares=$share_list" \
	"${virtfs[@]}" </dev/null &
qpid=$!
wait "$qpid"
qrc=$?
qpid=""
set -e
t1=$(date +%s.%N)

rc=125
[ -s "$job/rc" ] && rc=$(cat "$job/rc")
[ "$qrc" -eq 124 ] && rc=124
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
tu=$(cat "$job/t_userspace" 2>/dev/null || echo "?")
ts=$(cat "$job/t_start" 2>/dev/null || echo "?")
te=$(cat "$job/t_end" 2>/dev/null || echo "?")
cmd_s="?"
[ "$ts" != "?" ] && [ "$te" != "?" ] && cmd_s=$(secs "$ts" "$te")
log "kernel $RTS_VM_KV: userspace at ${tu}s, setup done at ${ts}s, command ${cmd_s}s; wall $(secs "$t0" "$t1")s; rc=$rc"
[ -n "$console" ] && cp "$job/console.log" "$console"
if [ "$verbose" -eq 1 ]; then
	cat "$job/console.log" >&2
elif [ "$rc" -eq 124 ] || [ "$rc" -eq 125 ]; then
	[ "$rc" -eq 124 ] && log "TIMEOUT after ${timeout}s"
	[ "$rc" -eq 125 ] && log "guest died without reporting an exit code (qemu rc=$qrc)"
	log "last kernel console lines:"
	tail -n 40 "$job/console.log" | sed 's/^/[console] /' >&2
fi
exit "$rc"
