#!/bin/bash
# Stage 2 of the rtslib-c test guest: PID 1 after switch_root into the overlay of the host root.
# Started by scripts/vm/init as `bash guest-init.sh <job dir>`; the job dir (written by
# scripts/vm/run.sh) holds `env` (RTS_VM_CWD, RTS_VM_MODULES) and `cmd` (the command line).
# Command output goes to the second serial port (run.sh's stdout), the kernel console to the
# first. The exit code and timings are written back to the job dir, then the guest powers off.
# PID 1 must never exit, so everything ends in the poweroff below.
job=$1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
export RTS_VM_GUEST=1 # scenario scripts re-exec themselves through run.sh when this is unset
out=/dev/ttyS1
stty -F "$out" raw -echo 2>/dev/null
exec </dev/null >"$out" 2>&1

poweroff() {
	sync
	echo o > /proc/sysrq-trigger
	sleep 30
}
up() { cut -d' ' -f1 /proc/uptime; }

# shellcheck source=/dev/null
. "$job/env"
echo "$(up)" > "$job/t_userspace"

ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
hostname rts-vm
ip link set lo up || echo "rts-vm: ip link set lo up failed"
# LIO keeps APTPL PR metadata and ALUA state under db_root (/etc/target); PR REGISTER with
# APTPL fails with LOGICAL UNIT COMMUNICATION FAILURE when the directories are missing.
mkdir -p /etc/target/pr /etc/target/alua
setup_rc=0
for m in $RTS_VM_MODULES; do
	modprobe "$m" || { echo "rts-vm: modprobe $m failed"; setup_rc=1; }
done
if ! mountpoint -q /sys/kernel/config; then
	mount -t configfs configfs /sys/kernel/config || { echo "rts-vm: mounting configfs failed"; setup_rc=1; }
fi
echo "$(up)" > "$job/t_start"

if [ "$setup_rc" -ne 0 ]; then
	rc=125
	echo "rts-vm: guest setup failed, command not run"
else
	cd "$RTS_VM_CWD" || { echo "rts-vm: cd $RTS_VM_CWD failed"; poweroff; }
	setsid -w bash "$job/cmd"
	rc=$?
fi
echo "$(up)" > "$job/t_end"
echo "$rc" > "$job/rc"
poweroff
