#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the debug kernel of the debug lane: Debian's linux-source-6.1 with
# `make tinyconfig` plus scripts/debug-kernel.config (KASAN, lockdep,
# PROVE_RCU, kmemleak, fault injection, ...). The tree is cached outside the
# clone, keyed by the fragment, this script and the source package's
# version, so only the first run pays for the build (about 11 minutes on 2
# cores).
#
# Prints the kernel tree's path (KDIR; its arch/x86/boot/bzImage is what the
# VM boots).
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${HMAP_CACHE:-/var/cache/hmap}
ver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
key=$(cat scripts/debug-kernel.config scripts/debug-kernel.sh | sha256sum | cut -c1-16)
dir=$cache/kernel-$ver-$key
src=$dir/src

if [ -f "$dir/.done" ]; then
	echo "$src"
	exit 0
fi
rm -rf "$dir"
mkdir -p "$src"
log=$dir/build.log
echo "debug-kernel: building in $dir (log: $log)" >&2
{
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$src" --strip-components=1
	make -C "$src" ARCH=x86_64 tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" \
		"$(pwd)/scripts/debug-kernel.config"
	make -C "$src" ARCH=x86_64 olddefconfig
} >"$log" 2>&1

# Every option the fragment asks for must have survived olddefconfig.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		grep -qx "# ${line%=n} is not set" "$src/.config" || \
			! grep -q "^${line%=n}=" "$src/.config" || { echo "debug-kernel: $line not applied" >&2; missing=1; } ;;
	CONFIG_*=*)
		grep -qx "$line" "$src/.config" || { echo "debug-kernel: $line not applied" >&2; missing=1; } ;;
	esac
done <scripts/debug-kernel.config
[ $missing -eq 0 ] || exit 1

if ! make -C "$src" ARCH=x86_64 -j"$(nproc)" bzImage modules >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	exit 1
fi
touch "$dir/.done"
echo "$src"
