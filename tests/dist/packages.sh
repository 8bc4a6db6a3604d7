#!/bin/bash
# The packages as a user gets them: CPack builds the .deb and .rpm files (runtime, -dev,
# -doc) into a scratch directory; the .debs are unpacked into a scratch root (dpkg-deb -x)
# and checked: the expected files, SONAMEs and symbol versions of the libraries, the .pc
# files and units written for /usr, the installed rtsctl --version and rts-runner
# --simulate with the installed handlers, and an out-of-tree build against the unpacked -dev
# package; rpm -qlp lists the expected files of each .rpm.
#   tests/dist/packages.sh <build dir>
set -euo pipefail
build=$(cd "$1" && pwd)
command -v dpkg-deb > /dev/null || { echo "dpkg-deb is not installed: skipped"; exit 77; }
tmp=$(mktemp -d /tmp/rts-pkg-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

gens=DEB
command -v rpmbuild > /dev/null && gens="DEB;RPM"
(cd "$tmp" && cpack -G "$gens" --config "$build/CPackConfig.cmake" -B "$tmp/out" > "$tmp/cpack.log" 2>&1) ||
	{ cat "$tmp/cpack.log"; fail "cpack -G $gens"; }
ls "$tmp/out"/*.deb "$tmp/out"/*.rpm 2> /dev/null | sed "s|$tmp/out/|built: |"

deb() { ls "$tmp/out/$1"_*.deb 2> /dev/null | head -1; }
rt=$(deb rtslib-c)
dev=$(deb rtslib-c-dev)
doc=$(deb rtslib-c-doc)
[ -n "$rt" ] && [ -n "$dev" ] && [ -n "$doc" ] || fail "expected rtslib-c, rtslib-c-dev and rtslib-c-doc .debs"

# what each package must contain (paths under /usr; the libdir is that of the build)
libdir=$(sed -n 's/^libdir=\${prefix}\///p' "$build/tcmu/rts-handler.pc")
[ -n "$libdir" ] || libdir=lib
runtime_files=(usr/sbin/rtsctl usr/bin/rts-runner "usr/$libdir/librts.so.0" "usr/$libdir/librts-tcmu.so.0"
	usr/lib/systemd/system/rts-runner.service usr/lib/systemd/system/rtsctl-restore.service
	usr/share/dbus-1/system.d/rts-runner-dbus.conf usr/share/man/man8/rtsctl.8
	usr/share/man/man8/rts-runner.8 usr/share/man/man5/runner.conf.5
	usr/share/man/man5/saveconfig.json.5 usr/share/man/man7/rts-handler.7
	"usr/$libdir/rts/handlers/handler_ram.so" "usr/$libdir/rts/handlers/handler_file.so")
dev_files=(usr/include/rts/handler.h usr/include/rts/cfgstring.h usr/include/rts/rts.h
	"usr/$libdir/pkgconfig/rts-handler.pc" "usr/$libdir/pkgconfig/librts.pc" "usr/$libdir/librts.so"
	"usr/$libdir/librts-tcmu.so" usr/share/doc/rtslib-c/examples/handler/example.c
	usr/share/doc/rtslib-c/examples/handler/Makefile)
doc_files=(usr/share/doc/rtslib-c/handler-guide.md)
[ -f "$build/docs/api/html/index.html" ] && doc_files+=(usr/share/doc/rtslib-c/api/html/index.html)
[ -f "$build/docs/api/rtslib-c-api.pdf" ] && doc_files+=(usr/share/doc/rtslib-c/api/rtslib-c-api.pdf)

root=$tmp/root
for p in "$rt" "$dev" "$doc"; do dpkg-deb -x "$p" "$root"; done
for p in rt dev doc; do dpkg-deb -c "${!p}" | awk '{print $6}' | sed 's|^\./|/|' > "$tmp/$p.list"; done
has() { grep -qx "/$2" "$tmp/$1.list" || fail "$1 package lacks /$2"; }
for f in "${runtime_files[@]}"; do has rt "$f"; done
for f in "${dev_files[@]}"; do has dev "$f"; done
for f in "${doc_files[@]}"; do has doc "$f"; done
if grep -qE '\.h$|\.pc$' "$tmp/rt.list"; then fail "the runtime package carries headers or .pc files"; fi
grep -q "rtslib-c (= " <<< "$(dpkg-deb -f "$dev" Depends)" || fail "rtslib-c-dev does not depend on rtslib-c (=)"
echo "deb contents: ${#runtime_files[@]} runtime, ${#dev_files[@]} dev, ${#doc_files[@]} doc files present"

# SONAMEs and symbol versions
for lib in librts.so.0 librts-tcmu.so.0; do
	so=$root/usr/$libdir/$lib
	soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
	[ "$soname" = "$lib" ] || fail "$lib has SONAME '$soname'"
	readelf --dyn-syms -W "$so" > "$tmp/syms"
	grep -qE ' rts_[a-z_]+@@LIBRTS' "$tmp/syms" || fail "$lib exports no versioned rts_* symbol"
	if awk '$5 == "GLOBAL" && $7 != "UND" {print $8}' "$tmp/syms" | grep -v '^LIBRTS' | grep -qvE '@@?LIBRTS'; then
		fail "$lib exports unversioned symbols"
	fi
done
echo "SONAMEs librts.so.0, librts-tcmu.so.0; every exported symbol versioned"

# files written for the package prefix
grep -q '^prefix=/usr$' "$root/usr/$libdir/pkgconfig/rts-handler.pc" || fail "rts-handler.pc: prefix is not /usr"
grep -q '^ExecStart=/usr/bin/rts-runner' "$root/usr/lib/systemd/system/rts-runner.service" ||
	fail "rts-runner.service does not start /usr/bin/rts-runner"

# the unpacked programs run
export LD_LIBRARY_PATH=$root/usr/$libdir
"$root/usr/sbin/rtsctl" --version > "$tmp/v" || fail "installed rtsctl --version"
grep -q "^rtsctl [0-9]" "$tmp/v" && grep -q "^handler ABI: [0-9]" "$tmp/v" || { cat "$tmp/v"; fail "rtsctl --version output"; }
"$root/usr/bin/rts-runner" --version > "$tmp/rv" || fail "installed rts-runner --version"
grep -q "^handler ABI: " "$tmp/rv" || { cat "$tmp/rv"; fail "rts-runner --version output"; }
"$root/usr/bin/rts-runner" --simulate ram/8M --simulate file/"$tmp/disk.img"\;size=8M --demo > "$tmp/demo" 2>&1 ||
	{ cat "$tmp/demo"; fail "installed rts-runner --simulate with the installed handlers"; }
grep -q "all checks passed" "$tmp/demo" || { cat "$tmp/demo"; fail "demo"; }
echo "installed rtsctl --version and rts-runner --simulate (handlers from /usr/$libdir/rts/handlers) work"

# the -dev package is enough to build and test a plugin
cp -r "$root/usr/share/doc/rtslib-c/examples/handler" "$tmp/ex"
sed "s|^prefix=/usr$|prefix=$root/usr|" "$root/usr/$libdir/pkgconfig/rts-handler.pc" > "$tmp/rts-handler.pc"
PKG_CONFIG_PATH=$tmp make -s -C "$tmp/ex" check > "$tmp/ex.log" 2>&1 || { cat "$tmp/ex.log"; fail "example against the -dev package"; }
echo "example handler builds and passes against the unpacked -dev package"

if [[ $gens == *RPM* ]]; then
	for spec in "rtslib-c-[0-9]:runtime_files" "rtslib-c-devel:dev_files" "rtslib-c-doc:doc_files"; do
		pat=${spec%%:*}
		rpmf=$(ls "$tmp/out"/$pat*.rpm | head -1)
		[ -n "$rpmf" ] || fail "no $pat rpm"
		rpm -qlp "$rpmf" > "$tmp/list" 2> /dev/null
		declare -n files=${spec#*:}
		for f in "${files[@]}"; do grep -qx "/$f" "$tmp/list" || fail "$(basename "$rpmf") lacks /$f"; done
		unset -n files
	done
	echo "rpm -qlp: runtime, devel and doc rpms list the expected files"
fi
echo "packages: all checks passed"
