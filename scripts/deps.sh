#!/usr/bin/env bash
# Install every build and test dependency of rtslib-c with apt-get (Debian 12 or later).
# Idempotent and quiet when everything is already there. Needs root (or sudo) only when
# something is missing.
#
#   scripts/deps.sh           build + unit/fuzz tests + benches + VM tier
#   scripts/deps.sh --build   only what building and the unit tests need
#   RTS_DEPS_PDF=1            also TeX for the PDF API reference (-DRTS_DOCS_PDF=ON): about
#                             123 MB to download, 6.5 min to install on 2 cores
set -euo pipefail

BUILD_PKGS=(
	cmake gcc g++ clang make pkg-config git
	libcmocka-dev liburing-dev libnl-3-dev libnl-genl-3-dev libkmod-dev
	libglib2.0-dev libjson-c-dev libclang-rt-dev zlib1g-dev
	qemu-utils # qemu-img/qemu-io: the qcow2 handler unit test checks images with them
	librbd-dev librados-dev # the rbd handler (built only where they are: RTS_WITH_RBD=AUTO)
)
TEST_PKGS=(
	fio sg3-utils valgrind python3 xxd
	ceph-mon ceph-osd ceph-common # tier `ceph`: scripts/ceph/cluster.sh runs a real cluster
	# packaging and docs: dpkg-shlibdeps, rpmbuild, man page rendering, unit verification,
	# the Doxygen API reference (the PDF needs TeX: see RTS_DOCS_PDF and --pdf below)
	dpkg-dev rpm groff man-db systemd doxygen graphviz
)
# Real-kernel tier (scripts/vm): qemu boots Debian's kernel with our binaries; peers to compare.
VM_PKGS=(
	qemu-system-x86 busybox-static cpio kmod iproute2
	targetcli-fb python3-rtslib-fb tcmu-runner dbus
	open-iscsi libiscsi-bin # tests/vm/iscsi-*: kernel initiator, libiscsi's iscsi-test-cu
	# tests/vm/rbd-multipath: multipathd/multipath (pulls udev, kpartx, sg3-utils-udev) run in
	# the guest only; never on this host (masked below where systemd runs)
	multipath-tools
)

# PDF API reference (doxygen's LaTeX output): pdflatex and the packages refman.tex uses.
PDF_PKGS=(
	texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended
	texlive-plain-generic
)

want=("${BUILD_PKGS[@]}")
if [ "${1:-}" != "--build" ]; then
	want+=("${TEST_PKGS[@]}" "${VM_PKGS[@]}")
fi
if [ "${RTS_DEPS_PDF:-0}" = 1 ]; then
	want+=("${PDF_PKGS[@]}")
fi

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps.sh: need root to install: ${missing[*]}" >&2; exit 1; }
	SUDO=sudo
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# multipathd is for the test guest: on a host booted with systemd its package would start it
# (and scan the host's disks); masked first, so installing it starts nothing. (Containers
# without systemd start no service anyway.)
if [[ " ${missing[*]} " == *" multipath-tools "* ]] && [ -d /run/systemd/system ]; then
	$SUDO systemctl mask multipathd.service multipathd.socket >/dev/null
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
