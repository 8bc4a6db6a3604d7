#!/bin/bash
# Every public header compiles alone and all of them together in one translation unit, as
# C11 and as C++ (11, 17, 20), with -Wall -Wextra -Werror -pedantic, with each compiler given
# (gcc/g++ and, when installed, clang/clang++).
#   tests/sdk/headers.sh <source dir> <C compiler>...
set -euo pipefail
src=$1
shift
tmp=$(mktemp -d /tmp/rts-headers-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mapfile -t headers < <(cd "$src/include" && ls rts/*.h | sort)
[ "${#headers[@]}" -gt 0 ] || { echo "no public headers under $src/include/rts"; exit 1; }

{
	for h in "${headers[@]}"; do echo "#include <$h>"; done
	# and again in reverse order: no header may depend on being included after another
	for ((i = ${#headers[@]} - 1; i >= 0; i--)); do echo "#include <${headers[$i]}>"; done
	echo "int rts_headers_all_(void);"
	echo "int rts_headers_all_(void) { return RTS_HANDLER_ABI_VERSION + RTS_LOG_DEBUG; }"
} > "$tmp/all.c"
cp "$tmp/all.c" "$tmp/all.cpp"
for h in "${headers[@]}"; do
	b=$(basename "$h" .h)
	printf '#include <%s>\n#include <%s>\n' "$h" "$h" > "$tmp/one_$b.c"
	cp "$tmp/one_$b.c" "$tmp/one_$b.cpp"
done

flags=(-Wall -Wextra -Werror -pedantic -fsyntax-only -I "$src/include")
fail=0
check() { # <compiler> <std> <file>
	if ! "$1" "-std=$2" "${flags[@]}" "$3" 2> "$tmp/err"; then
		echo "FAIL: $1 -std=$2 $(basename "$3"):"
		cat "$tmp/err"
		fail=1
	fi
}
cxx_of() {
	case "$1" in
	*clang) echo "${1}++" ;;
	*gcc) echo "${1%gcc}g++" ;;
	*cc) echo "${1%cc}c++" ;;
	esac
}
compilers=("$@")
for c in "${compilers[@]}"; do
	command -v "$c" > /dev/null || { echo "skip $c: not installed"; continue; }
	cxx=$(cxx_of "$c")
	for std in c11 gnu11; do
		check "$c" "$std" "$tmp/all.c"
	done
	for f in "$tmp"/one_*.c; do check "$c" c11 "$f"; done
	if [ -n "$cxx" ] && command -v "$cxx" > /dev/null; then
		for std in c++11 c++17 c++20; do
			check "$cxx" "$std" "$tmp/all.cpp"
		done
		for f in "$tmp"/one_*.cpp; do check "$cxx" c++17 "$f"; done
	else
		echo "skip C++ with $c: no ${cxx:-C++ compiler}"
	fi
	echo "$c: ${#headers[@]} headers checked"
done
exit $fail
