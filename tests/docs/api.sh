#!/bin/bash
# The API reference: Doxygen on include/rts/*.h with every warning switched on
# (undocumented members, parameters, return values, doc errors) must print none, and every
# public header that declares functions must state its conventions for return values,
# ownership and threads in its file description. Skips (77) without doxygen.
#   tests/docs/api.sh <source dir> <version>
set -euo pipefail
src=$1
version=$2
command -v doxygen > /dev/null || { echo "doxygen is not installed: skipped"; exit 77; }
tmp=$(mktemp -d /tmp/rts-api-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
sed -e "s|@PROJECT_VERSION@|$version|" -e "s|@RTS_DOXYGEN_OUT@|$tmp|g" \
	-e "s|@PROJECT_SOURCE_DIR@|$src|g" -e "s|@RTS_DOXYGEN_LATEX@|NO|" \
	"$src/docs/Doxyfile.in" > "$tmp/Doxyfile"
doxygen "$tmp/Doxyfile" > "$tmp/out" 2>&1 || { cat "$tmp/out"; echo "FAIL: doxygen"; exit 1; }
fail=0
if [ -s "$tmp/warnings.log" ]; then
	echo "FAIL: $(grep -c warning "$tmp/warnings.log") Doxygen warning(s):"
	cat "$tmp/warnings.log"
	fail=1
fi
[ -f "$tmp/html/index.html" ] || { echo "FAIL: no HTML produced"; fail=1; }
n=0
for h in "$src"/include/rts/*.h; do
	grep -qE '^[a-z].*\brts_[a-z0-9_]+\(' "$h" || continue # no functions declared
	n=$((n + 1))
	head=$(awk '/\/\*\*/ {f = 1} f {print} /\*\// {if (f) exit}' "$h")
	for word in 'Return' 'own' 'hread'; do
		grep -qi "$word" <<< "$head" ||
			{ echo "FAIL: $(basename "$h"): the file description does not state its '$word' convention"; fail=1; }
	done
done
pages=$(find "$tmp/html" -name '*.html' | wc -l)
echo "doxygen: 0 warnings, $pages HTML pages, $n headers state return/ownership/thread conventions"
exit $fail
