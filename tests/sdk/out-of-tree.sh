#!/bin/bash
# The handler SDK as a new plugin author meets it: `cmake --install --prefix <scratch>`, then
# with nothing but `pkg-config rts-handler` from that prefix:
#  - every installed file is under the prefix, the .pc files point inside it;
#  - the installed example (share/doc/rtslib-c/examples/handler) builds with its Makefile
#    and passes its simulator test (`make check`);
#  - the example and a C++ handler (C++17 lambda descriptor, C++20 designated initializers)
#    load into the installed rts-runner and pass the demo workload;
#  - the installed rts-runner finds the installed handlers without --handler-dir;
#  - a C++ plugin whose entry point is mangled is refused with a message that says so;
#  - no program or library, built or installed, has an empty RUNPATH entry (the dynamic
#    loader reads one as the current directory and looks for libc there).
#   tests/sdk/out-of-tree.sh <build dir> <source dir>
set -euo pipefail
build=$1
src=$2
prefix=$(mktemp -d /tmp/rts-sdk-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$prefix" > "$prefix.log" 2>&1 || { cat "$prefix.log"; rm -f "$prefix.log"; fail "install"; }
outside=$(grep -E '^-- (Installing|Up-to-date)' "$prefix.log" | awk '{print $3}' | grep -v "^$prefix/" || true)
rm -f "$prefix.log"
[ -z "$outside" ] || fail "installed outside the prefix $prefix: $outside"

pcdir=$(find "$prefix" -name rts-handler.pc -printf '%h\n' | head -1)
[ -n "$pcdir" ] || fail "rts-handler.pc was not installed"
[ -f "$pcdir/librts.pc" ] || fail "librts.pc was not installed beside rts-handler.pc"
export PKG_CONFIG_PATH=$pcdir
for pc in rts-handler librts; do
	p=$(pkg-config --variable=prefix $pc)
	[ "$p" = "$prefix" ] || fail "$pc.pc: prefix=$p, want $prefix"
done
inc=$(pkg-config --variable=includedir rts-handler)
[ -f "$inc/rts/handler.h" ] || fail "pkg-config --variable=includedir rts-handler ($inc) has no rts/handler.h"
libdir=$(pkg-config --variable=libdir rts-handler)
[ -e "$libdir/librts-tcmu.so" ] || fail "libdir $libdir has no librts-tcmu.so"
hdir=$(pkg-config --variable=handlerdir rts-handler)
[ -f "$hdir/handler_ram.so" ] || fail "handlerdir $hdir has no handler_ram.so"
echo "pkg-config rts-handler: $(pkg-config --cflags --libs rts-handler)"

runner=$(find "$prefix" -name rts-runner -type f | head -1)
[ -x "$runner" ] || fail "rts-runner was not installed"

# 0. RUNPATHs: none with an empty entry; the installed rts-runner's is relative to itself.
# (Build-tree files that install rewrites, rts-runner and the handlers, are left out: CMake's
# own RUNPATH editor needs them padded with ':' in the build tree. rtsctl and the libraries
# must not carry one: nothing rewrites theirs.)
runpath() { { readelf -d "$1" 2>/dev/null || true; } | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p'; }
for elf in "$build/ctl/rtsctl" $(find "$build/lib" "$build/tcmu" -maxdepth 1 -name '*.so' \
	-type f) $(find "$prefix" -type f \( -name '*.so*' -o -name rts-runner -o -name rtsctl \)); do
	rp=$(runpath "$elf")
	case ":$rp:" in
	*::*) [ -z "$rp" ] || fail "$elf: RUNPATH '$rp' has an empty entry (the current directory)" ;;
	esac
done
if grep -q '^RTS_INSTALL_RPATH:BOOL=ON' "$build/CMakeCache.txt"; then
	rp=$(runpath "$runner")
	case "$rp" in
	'$ORIGIN/'*) ;;
	*) fail "installed rts-runner: RUNPATH '$rp', want \$ORIGIN/<path to libdir>" ;;
	esac
fi

# 1. the installed runner finds the installed handlers by itself
"$runner" --simulate ram/8M --demo > "$prefix/ram.log" 2>&1 || { cat "$prefix/ram.log"; fail "installed ram handler"; }
grep -q "all checks passed" "$prefix/ram.log" || { cat "$prefix/ram.log"; fail "installed ram handler demo"; }

# 2. the installed example, built and tested with its own Makefile
ex=$(find "$prefix" -path '*examples/handler/Makefile' -printf '%h\n' | head -1)
[ -n "$ex" ] || fail "the example handler was not installed"
cp -r "$ex" "$prefix/example"
make -s -C "$prefix/example" check CFLAGS="-O2 -Wall -Wextra -Werror" | tee "$prefix/check.log"
grep -q "checks passed" "$prefix/check.log" || fail "make check of the example"

plugins=$prefix/plugins
mkdir -p "$plugins"
cp "$prefix/example/handler_example.so" "$plugins/"

# 3. C++ plugins: C++17 (descriptor from a lambda) and C++20 (RTS_HANDLER_INIT)
cxxflags=(-Wall -Wextra -Werror -pedantic -fPIC -shared -fvisibility=hidden -Wl,-z,defs)
read -r -a sdk <<< "$(pkg-config --cflags --libs rts-handler)"
c++ -std=c++17 "${cxxflags[@]}" -o "$plugins/handler_cxx.so" "$src/tests/sdk/cxx_handler.cpp" "${sdk[@]}"
exported=$(nm -D --defined-only "$plugins/handler_cxx.so" | awk '$2 == "T" {print $3}' | tr '\n' ' ')
[ "$exported" = "rts_handler_entry " ] || fail "C++ plugin must export exactly rts_handler_entry, exports: $exported"
mkdir -p "$prefix/cxx20"
# g++ -Wextra flags every member a C++20 designated initializer leaves out (C does not)
c++ -std=c++20 "${cxxflags[@]}" -Wno-missing-field-initializers -o "$prefix/cxx20/handler_cxx.so" "$src/tests/sdk/cxx_handler.cpp" "${sdk[@]}"

for dir in "$plugins" "$prefix/cxx20"; do
	for cfg in example/size=16M cxx/4M; do
		[ "$dir" = "$plugins" ] || [ "${cfg%%/*}" = cxx ] || continue
		"$runner" --handler-dir "$dir" --simulate "$cfg" --demo > "$prefix/demo.log" 2>&1 ||
			{ cat "$prefix/demo.log"; fail "$cfg from $dir"; }
		grep -q "all checks passed" "$prefix/demo.log" || { cat "$prefix/demo.log"; fail "$cfg demo"; }
		echo "ok: $cfg ($(basename "$dir"))"
	done
done

# 4. a mangled entry point: refused, and the runner says why
mkdir -p "$prefix/mangled"
c++ -std=c++17 -DRTS_TEST_MANGLED "${cxxflags[@]}" -o "$prefix/mangled/handler_cxx.so" "$src/tests/sdk/cxx_handler.cpp" "${sdk[@]}"
if "$runner" --handler-dir "$prefix/mangled" --simulate cxx/4M --demo > "$prefix/m.log" 2>&1; then
	cat "$prefix/m.log"
	fail "a mangled plugin was accepted"
fi
grep -q 'only with C++ linkage' "$prefix/m.log" || { cat "$prefix/m.log"; fail "no C++ linkage hint for a mangled entry point"; }
echo "ok: mangled entry point refused: $(grep -o "exports rts_handler_entry() only with C++ linkage[^:]*" "$prefix/m.log" | head -1)"
echo "sdk out-of-tree: all checks passed"
