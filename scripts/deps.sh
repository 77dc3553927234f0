#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs, from Debian's archive, whatever the build, the VM and the tests
# need and this machine lacks. Does nothing (and needs no network) when all
# is present. Run as root.
set -euo pipefail

pkgs=(
	gcc make libc6-dev perl python3 cpio gzip xz-utils
	linux-headers-amd64 linux-image-amd64 linux-source-6.1
	qemu-system-x86 busybox-static liburcu-dev pkg-config valgrind
	# static checks of the module (scripts/lint-check.sh)
	sparse
	# the manual pages: lint, and `man` on what `make install` put in place
	mandoc man-db
	# packaging (scripts/deploy-check.sh): DKMS, depmod, udev, sysusers
	dkms kmod udev systemd util-linux
	# kselftest's install step (scripts/kselftest-check.sh)
	rsync
	# for the debug kernel lane: building a kernel from linux-source-6.1
	bc flex bison libelf-dev libssl-dev
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install packages" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
