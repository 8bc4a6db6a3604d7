#!/usr/bin/env bash
# Prepare the guest kernel for the real-kernel test tier, cached and never installed on the host.
#
#   scripts/vm/kernel.sh          fetch + extract + depmod the kernel, build the initramfs (idempotent)
#                                 and print shell assignments: RTS_VM_KV, RTS_VM_KDIR, RTS_VM_VMLINUZ, RTS_VM_INITRD
#
# The kernel is Debian's current linux-image-amd64 (resolved to the versioned package with
# apt-cache depends), fetched with `apt-get download` and unpacked with `dpkg-deb -x` into
# $RTS_VM_CACHE/kernel/<package>_<version>/. The initramfs holds busybox-static, the modules
# needed to mount the host root over virtio-9p with an overlay, and scripts/vm/init.
#
# Env: RTS_VM_CACHE  cache dir (default <repo>/build/vm-cache)
#      RTS_VM_KPKG   kernel package (default: what linux-image-amd64 depends on)
# Exit 77 when no kernel can be had (offline and nothing cached, or no apt/dpkg here).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../.." && pwd -P)
cache=${RTS_VM_CACHE:-$repo/build/vm-cache}
log() { echo "[vm-kernel] $*" >&2; }
skip() { echo "[vm-kernel] SKIP: $*" >&2; exit 77; }

mkdir -p "$cache/kernel"
cache=$(cd "$cache" && pwd -P)

for t in dpkg-deb depmod modprobe cpio gzip; do
	command -v "$t" >/dev/null || skip "'$t' not found (scripts/deps.sh installs kmod, cpio, dpkg)"
done
busybox=/bin/busybox
[ -x "$busybox" ] || skip "$busybox not found (install busybox-static)"
case "$(ldd "$busybox" 2>&1 || true)" in
*"not a dynamic"*) ;;
*) skip "$busybox is not static (install busybox-static)" ;;
esac

# --- 1. kernel package -> $cache/kernel/<pkg>_<ver>
pick_cached() { { ls -d "$cache"/kernel/linux-image-*/ 2>/dev/null || true; } | sort -V | tail -1 | sed 's:/$::'; }
kpkg=${RTS_VM_KPKG:-}
if [ -z "$kpkg" ] && command -v apt-cache >/dev/null; then
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}' || true)
fi
kdir=""
if [ -n "$kpkg" ]; then
	kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null | awk '/^Version:/{print $2; exit}' || true)
	[ -n "$kver" ] && kdir=$cache/kernel/${kpkg}_$kver
fi
if [ -n "$kdir" ] && [ ! -d "$kdir/lib/modules" ]; then
	log "fetching $kpkg $kver with apt-get download (not installed on the host)"
	dl=$(mktemp -d "$cache/dl.XXXXXX")
	chmod 0755 "$dl" # apt-get download drops to the _apt user when it can
	if (cd "$dl" && apt-get download -q "$kpkg=$kver" >&2); then
		rm -rf "$kdir.tmp"
		dpkg-deb -x "$dl"/*.deb "$kdir.tmp"
		kv=$(ls "$kdir.tmp/lib/modules")
		depmod -b "$kdir.tmp" "$kv"
		mv "$kdir.tmp" "$kdir"
	else
		log "apt-get download $kpkg failed"
		kdir=""
	fi
	rm -rf "$dl"
fi
if [ -z "$kdir" ] || [ ! -d "$kdir/lib/modules" ]; then
	kdir=$(pick_cached)
	[ -n "$kdir" ] || skip "no guest kernel: could not resolve/download linux-image-amd64 and nothing cached in $cache/kernel"
	log "using cached kernel $kdir"
fi
kv=$(ls "$kdir/lib/modules")
vmlinuz=$kdir/boot/vmlinuz-$kv
[ -r "$vmlinuz" ] || skip "kernel image $vmlinuz missing (corrupt cache? remove $kdir)"

# --- 2. initramfs: busybox + 9p/virtio/overlay modules + init; keyed by the content of its inputs
boot_mods=(virtio_pci 9pnet_virtio 9p overlay)
mods=$(for m in "${boot_mods[@]}"; do
	modprobe -d "$kdir" -S "$kv" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++')
key=$( { cat "$here/init"; echo "$mods"; sha1sum "$busybox"; } | sha1sum | cut -c1-12)
initrd=$cache/initrd-$kv-$key.cpio.gz
if [ ! -s "$initrd" ]; then
	log "building $initrd"
	r=$(mktemp -d "$cache/initrd.XXXXXX")
	mkdir -p "$r"/{bin,dev,proc,sys,run,newroot,lower,rw,modules}
	cp "$busybox" "$r/bin/busybox"
	for a in sh mount mkdir insmod switch_root cat echo sleep poweroff reboot ls; do
		ln -s busybox "$r/bin/$a"
	done
	for f in $mods; do
		cp "$f" "$r/modules/"
		basename "$f" >> "$r/modules/order"
	done
	install -m 0755 "$here/init" "$r/init"
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$initrd.tmp"
	mv "$initrd.tmp" "$initrd"
	rm -rf "$r"
fi

printf 'RTS_VM_KV=%q\nRTS_VM_KDIR=%q\nRTS_VM_VMLINUZ=%q\nRTS_VM_INITRD=%q\n' "$kv" "$kdir" "$vmlinuz" "$initrd"
