# Cost-per-I/O probes for the real-kernel benches (bench/vm/*.sh). Source it in the guest,
# after tests/vm/lib.sh. IOPS cannot tell userspace runners apart under software emulation
# (the kernel's TCMU round trip caps them all); what a runner costs per I/O can be measured:
#
#   runner CPU µs/IO   utime+stime of the runner process (all its threads, /proc/PID/stat)
#                      over the fio run, divided by the I/Os fio completed
#   ctx switches/IO    voluntary + involuntary switches of every thread of the runner
#                      (/proc/PID/task/*/status), divided by the I/Os
#   guest CPU µs/IO    busy time of the whole guest (/proc/stat: user nice system irq softirq
#                      steal) over the run, divided by the I/Os: the one figure that is
#                      comparable with kernel fileio, which has no process of its own
#   threads, peak RSS  /proc/PID/status Threads and VmHWM (KiB) after the run
#   anon RSS           /proc/PID/status RssAnon (KiB) after the run: the runner's own memory
#                      (heap, stacks), without the pages it maps from files and the kernel:
#                      shared libraries and the TCMU rings (the same for every runner)
#
# Usage:
#   m_fio PID DEV RW QD [BS] [extra fio args...]  runs fio on DEV while measuring PID (or '-'
#                                                 for no process: kernel fileio) and prints
#                                                 "iops runner_us_per_io cs_per_io guest_us_per_io"
#   m_threads PID / m_rss_kib PID / m_anon_kib PID
#   median < file, ratio A B
# Globals read: RUNTIME (s), SIZE_MB (fio --size is SIZE_MB-16 MiB).

M_HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

# utime+stime of a whole process in clock ticks (fields 14 and 15 after the ')' of comm).
m_proc_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	awk '{ print $12 + $13 }' <<< "$s"
}

# Context switches of every thread of a process.
m_proc_cs() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}

# Busy clock ticks of the whole guest.
m_guest_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

m_threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
m_rss_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
m_anon_kib() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# m_fio PID DEV RW QD [BS] [fio args...]
m_fio() {
	local pid=$1 dev=$2 rw=$3 qd=$4 bs=${5:-4k}
	shift 4
	[ $# -gt 0 ] && shift
	local t0=0 c0=0 g0 t1=0 c1=0 g1 line kib bsb ios iops
	if [ "$pid" != - ]; then
		t0=$(m_proc_ticks "$pid")
		c0=$(m_proc_cs "$pid")
	fi
	g0=$(m_guest_ticks)
	line=$(fio --name=b --filename="$dev" --direct=1 --rw="$rw" --bs="$bs" --iodepth="$qd" \
		--ioengine=io_uring --time_based --runtime="$RUNTIME" --size=$((SIZE_MB - 16))M \
		--eta=never --output-format=terse --terse-version=3 "$@" 2>/dev/null)
	g1=$(m_guest_ticks)
	if [ "$pid" != - ]; then
		t1=$(m_proc_ticks "$pid")
		c1=$(m_proc_cs "$pid")
	fi
	# terse v3: 6 read KiB, 8 read IOPS; 47 write KiB, 49 write IOPS
	kib=$(awk -F';' '{ print $6 + $47 }' <<< "$line")
	iops=$(awk -F';' '{ print $8 + $49 }' <<< "$line")
	bsb=$(numfmt --from=iec "${bs^^}" 2>/dev/null || echo 4096)
	ios=$(awk -v k="$kib" -v b="$bsb" 'BEGIN { printf "%d", k * 1024 / b }')
	awk -v ios="$ios" -v iops="$iops" -v hz="$M_HZ" -v dt=$((t1 - t0)) -v dc=$((c1 - c0)) \
		-v dg=$((g1 - g0)) -v proc="$pid" 'BEGIN {
		if (ios <= 0) { print iops, "nan nan nan"; exit }
		us = 1e6 / hz
		if (proc == "-")
			printf "%s - - %.1f\n", iops, dg * us / ios
		else
			printf "%s %.2f %.3f %.1f\n", iops, dt * us / ios, dc / ios, dg * us / ios
	}'
}

median() {
	sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.2f", a / b; else print "nan" }'; }
