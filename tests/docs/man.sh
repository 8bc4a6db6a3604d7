#!/bin/bash
# The man pages: each renders without a groff warning (groff -man -ww) and through man -l,
# and every verb and option `rtsctl --help` lists appears in rtsctl(8), so the page stays
# true as verbs and options are added (the check reads --help at test time).
#   tests/docs/man.sh <source dir> <rtsctl binary>
set -euo pipefail
src=$1
rtsctl=$2
fail=0
pages=("$src"/docs/*.[1-8])
[ "${#pages[@]}" -ge 5 ] || { echo "FAIL: expected at least 5 man pages in docs/, found ${#pages[@]}"; exit 1; }
for p in "${pages[@]}"; do
	warn=$(groff -man -Tutf8 -ww -z "$p" 2>&1) || { echo "FAIL: groff exits non-zero on $p"; fail=1; }
	if [ -n "$warn" ]; then
		echo "FAIL: groff warnings in $(basename "$p"):"
		echo "$warn"
		fail=1
	fi
	if command -v man > /dev/null; then
		out=$(MANWIDTH=80 man -l "$p" 2>&1 > /dev/null) || { echo "FAIL: man -l $p"; fail=1; }
		[ -z "$out" ] || { echo "FAIL: man -l $(basename "$p"): $out"; fail=1; }
	fi
	# NAME section present and the title names the file
	name=$(basename "$p")
	name=${name%.*}
	grep -qi "^\.TH \"\?${name//./\\.}\"\? " "$p" || { echo "FAIL: $p: .TH does not name $name"; fail=1; }
done
echo "${#pages[@]} man pages render without warnings"

# rtsctl(8) against rtsctl --help
page=$(groff -man -Tascii -P-c -P-b -P-u "$src/docs/rtsctl.8" 2> /dev/null)
help=$("$rtsctl" --help 2>&1)
verbs=$(printf '%s\n' "$help" | awk '/^Verbs:/ {v = 1; next} v && /^[^ ]/ {v = 0} v && /^  [a-z]/ {print $1}')
options=$(printf '%s\n' "$help" | grep -oE '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' | tr -d ' ,' | sort -u)
[ -n "$verbs" ] || { echo "FAIL: found no verbs in rtsctl --help"; exit 1; }
[ -n "$options" ] || { echo "FAIL: found no options in rtsctl --help"; exit 1; }
n=0
for v in $verbs; do
	n=$((n + 1))
	grep -qE "(^|[^a-z_-])rtsctl .*\b$v\b|^ +$v( |$)" <<< "$page" ||
		{ echo "FAIL: rtsctl(8) does not document the verb '$v'"; fail=1; }
done
for o in $options; do
	n=$((n + 1))
	grep -qE -- "(^|[^a-zA-Z0-9-])$o([^a-zA-Z0-9-]|$)" <<< "$page" ||
		{ echo "FAIL: rtsctl(8) does not document the option '$o' (listed by rtsctl --help)"; fail=1; }
done
echo "rtsctl(8): $n verbs and options of --help checked"
exit $fail
