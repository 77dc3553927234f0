#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks, for real on this host and as root, what deploying hmap on a server
# uses (no VM, nothing loaded): `make dkms-install` / `dkms-remove`,
# `make modules_install`, `make install-module` against `make install`, the
# udev rule, the sysusers.d entry and the modprobe.d example. Prints KTAP;
# exits non-zero on any failure.
#
#   scripts/deploy-check.sh
#
# The Makefile targets run in a scratch copy of the tree, so that the check
# neither races with builds in the working tree nor leaves objects there.
# It leaves the machine as found: dkms-remove undoes dkms-install (and the
# check removes the MOK key dkms generates if there was none), everything
# else is written below a scratch directory or inside a private mount
# namespace. It refuses to touch an hmap already known to dkms.
#
# Needs (Debian): dkms kmod udev systemd util-linux make gcc
# linux-headers-amd64; it installs nothing itself.
set -uo pipefail
self=$(readlink -f "$0")

# ---- Run inside `unshare -m`: udev's real rule engine on a synthetic
# /dev/hmap. Mounts here are private to the namespace and vanish with it.
# udevadm test only accepts a syspath on sysfs, and the kernel names the
# device, so a real misc device's sysfs directory is bind-mounted at
# /sys/devices/virtual/misc/hmap (on a tmpfs) with its uevent and dev files
# replaced by hmap's; /dev, /run and /etc/udev/rules.d are tmpfs, /etc/group
# is a copy plus the group the sysusers.d entry creates.
udev_ns()
{
	local d=$1 rules=$2 sysusers=$3 misc src f
	set -e
	mkdir -p "$d/root/etc" "$d/borrow"
	cp /etc/group /etc/passwd "$d/root/etc/"
	systemd-sysusers --root="$d/root" "$sysusers" >/dev/null 2>&1
	mount --bind "$d/root/etc/group" /etc/group
	getent group hmap | cut -d: -f3 >"$d/gid"

	misc=/sys/devices/virtual/misc
	src=
	for f in /sys/class/misc/*; do
		src=$(readlink -f "$f")
		[ -f "$src/uevent" ] && [ -f "$src/dev" ] && [ -L "$src/subsystem" ] && break
		src=
	done
	[ -n "$src" ] || { echo "# no misc device in sysfs to stand in" >&2; return 1; }
	mount --bind "$src" "$d/borrow"
	mount -t tmpfs tmpfs "$misc"
	mkdir "$misc/hmap"
	mount --bind "$d/borrow" "$misc/hmap"
	printf 'MAJOR=10\nMINOR=123\nDEVNAME=hmap\n' >"$d/uevent"
	echo 10:123 >"$d/dev"
	mount --bind "$d/uevent" "$misc/hmap/uevent"
	mount --bind "$d/dev" "$misc/hmap/dev"

	mount -t tmpfs tmpfs /run
	cp -a /etc/udev/rules.d "$d/etc-rules"
	mount -t tmpfs tmpfs /etc/udev/rules.d
	cp -a "$d/etc-rules/." /etc/udev/rules.d/
	[ -z "$rules" ] || cp "$rules" /etc/udev/rules.d/60-hmap.rules
	mount -t tmpfs -o mode=0755 tmpfs /dev
	mknod -m 0666 /dev/null c 1 3
	# As the kernel creates it with the default dev_mode.
	mknod -m 0600 /dev/hmap c 10 123
	udevadm test --action=add "$misc/hmap" >"$d/udevadm.out" 2>&1
	stat -c '%U:%G %a' /dev/hmap >"$d/node"
}
if [ "${1:-}" = --udev-ns ]; then
	shift
	udev_ns "$@"
	exit
fi

cd "$(dirname "$self")/.."
top=$(pwd)
. selftests/ktap.sh

if [ "$(id -u)" -ne 0 ]; then
	echo "deploy-check: run as root" >&2
	exit 1
fi

# The caller's BUILD (scripts/env.sh) is the working tree's: not ours.
unset BUILD
work=$(mktemp -d /tmp/hmap-deploy.XXXXXX)
chmod 0755 "$work"
src=$work/src
log=$work/log
mkdir -p "$src" "$log"
tar -C "$top" --exclude=./build --exclude=./.git --exclude='*.o' \
	--exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' --exclude='*.cmd' \
	--exclude=modules.order --exclude=Module.symvers -cf - . | tar -C "$src" -xf -

mk()
{
	make -C "$src" --no-print-directory "$@"
}

# Prints the tail of a log as KTAP diagnostics; for failing checks.
diag()
{
	[ -s "$1" ] && tail -n "${2:-15}" "$1" | sed 's/^/# /'
	return 1
}

VERSION=$(sed -n 's/^VERSION := //p' "$src/Makefile")
KVER=$(mk -s print-kver)
kmods=/lib/modules/$KVER
echo "# version $VERSION, kernel $KVER, scratch $work"

# ---- Leaving the machine as found.
dkms_touched=0
mok_existed=0
[ -e /var/lib/dkms/mok.key ] || [ -e /var/lib/dkms/mok.pub ] && mok_existed=1
updates_existed=0
[ -d "$kmods/updates" ] && updates_existed=1
dep_before=$(cat "$kmods"/modules.dep "$kmods"/modules.alias 2>/dev/null | md5sum)

cleanup()
{
	if [ -n "${mi_pid:-}" ]; then
		kill -- -"$mi_pid" 2>/dev/null
		wait "$mi_pid" 2>/dev/null
	fi
	if [ "$dkms_touched" = 1 ]; then
		dkms status -m hmap -v "$VERSION" 2>/dev/null | grep -q . &&
			mk dkms-remove >>"$log/cleanup.log" 2>&1
		rm -rf "/usr/src/hmap-$VERSION"
		[ "$mok_existed" = 1 ] || rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
		if [ "$updates_existed" = 0 ]; then
			rmdir "$kmods/updates/dkms" "$kmods/updates" 2>/dev/null
		fi
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# (b)'s build, started now to overlap dkms's: the two share no file. Own
# session, so that cleanup can stop it and everything it runs.
m1=$work/modroot
setsid -w make -C "$src" --no-print-directory -j"$(nproc)" modules_install \
	INSTALL_MOD_PATH="$m1" >"$log/modules_install.log" 2>&1 &
mi_pid=$!

ktap_plan 18

# ---- The one version.
check_version()
{
	local conf mod
	conf=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf")
	mod=$(sed -n 's/^#define HMAP_VERSION_STRING[[:space:]]*"\(.*\)"/\1/p' "$src/kmod/hmap_priv.h")
	echo "# Makefile $VERSION, dkms.conf $conf, kmod/hmap_priv.h $mod"
	[ -n "$VERSION" ] && [ "$conf" = "$VERSION" ] && [ "$mod" = "$VERSION" ]
}
ktap_check "one version: Makefile VERSION = dkms.conf = HMAP_VERSION_STRING" check_version

# ---- (a) dkms.
have_dkms()
{
	dkms --version >/dev/null 2>&1
}
ktap_check "dkms is installed ($(dkms --version 2>/dev/null))" have_dkms

dkms_ok=0
check_dkms_install()
{
	local t
	command -v dkms >/dev/null || return 1
	if dkms status -m hmap 2>/dev/null | grep -q . || [ -e "/usr/src/hmap-$VERSION" ]; then
		echo "# hmap is already in dkms or /usr/src: not touching it"
		return 1
	fi
	dkms_touched=1
	t=$SECONDS
	mk dkms-install DKMS_KVERS="$KVER" >"$log/dkms-install.log" 2>&1 ||
		diag "$log/dkms-install.log" 30 || return 1
	echo "# dkms-install: $((SECONDS - t)) s"
	dkms_ok=1
}
ktap_check "make dkms-install builds and installs for $KVER" check_dkms_install

# Only what the module build needs went to /usr/src.
check_dkms_src()
{
	local got want
	[ "$dkms_ok" = 1 ] || return 1
	got=$(cd "/usr/src/hmap-$VERSION" && find . -type f | sort)
	want=$(cd "$src" && { echo ./Kbuild; echo ./dkms.conf; echo ./kmod/Kbuild
		find ./kmod -maxdepth 1 -name '*.[ch]' ! -name '*.mod.c'
		find ./uapi/linux -maxdepth 1 -name '*.h'; } | sort)
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") | sed 's/^/# /'; return 1; }
	grep -qx "PACKAGE_VERSION=\"$VERSION\"" "/usr/src/hmap-$VERSION/dkms.conf"
}
ktap_check "/usr/src/hmap-$VERSION holds the module sources and nothing else" check_dkms_src

check_dkms_modinfo()
{
	local st file
	[ "$dkms_ok" = 1 ] || return 1
	st=$(dkms status -m hmap -v "$VERSION" -k "$KVER")
	echo "# dkms status: $st"
	[[ $st == *": installed"* ]] || return 1
	file=$(modinfo -k "$KVER" -F filename hmap) || return 1
	echo "# modinfo -k $KVER hmap: $file"
	[[ $file == "$kmods/updates/dkms/hmap.ko"* ]] &&
		[ "$(modinfo -k "$KVER" -F version hmap)" = "$VERSION" ] &&
		[[ $(modinfo -k "$KVER" -F vermagic hmap) == "$KVER "* ]]
}
ktap_check "dkms status installed; modinfo -k $KVER hmap finds updates/dkms/hmap.ko $VERSION" check_dkms_modinfo

# What a kernel package does on a server: its postinst hook runs dkms
# autoinstall for the new kernel. Emulated with the one kernel there is:
# hmap removed for $KVER and added back (source only, built for no kernel,
# as after `dkms add`), then the hook: AUTOINSTALL must build and install it.
check_dkms_autoinstall()
{
	local st t=$SECONDS
	[ "$dkms_ok" = 1 ] || return 1
	{ dkms remove -m hmap -v "$VERSION" -k "$KVER" &&
		dkms add -m hmap -v "$VERSION"; } >"$log/dkms-autoinstall.log" 2>&1 ||
		diag "$log/dkms-autoinstall.log" || return 1
	st=$(dkms status -m hmap -v "$VERSION")
	echo "# after dkms remove -k $KVER, dkms add: $st"
	[[ $st == *": added"* ]] || return 1
	if modinfo -k "$KVER" hmap >/dev/null 2>&1; then echo "# modinfo still finds hmap"; return 1; fi
	/etc/kernel/postinst.d/dkms "$KVER" >>"$log/dkms-autoinstall.log" 2>&1 ||
		diag "$log/dkms-autoinstall.log" 30 || return 1
	echo "# kernel hook: $((SECONDS - t)) s"
	grep -q "Building module" "$log/dkms-autoinstall.log" || { echo "# the hook did not build"; return 1; }
	[[ $(dkms status -m hmap -v "$VERSION" -k "$KVER") == *": installed"* ]] &&
		[ "$(modinfo -k "$KVER" -F filename hmap)" = "$kmods/updates/dkms/hmap.ko" ]
}
ktap_check "AUTOINSTALL: /etc/kernel/postinst.d/dkms $KVER rebuilds and installs hmap" check_dkms_autoinstall

check_dkms_remove()
{
	local t=$SECONDS
	[ "$dkms_ok" = 1 ] || return 1
	mk dkms-remove >"$log/dkms-remove.log" 2>&1 || diag "$log/dkms-remove.log" || return 1
	echo "# dkms-remove: $((SECONDS - t)) s"
	[ "$mok_existed" = 1 ] || rm -f /var/lib/dkms/mok.key /var/lib/dkms/mok.pub
	[ "$updates_existed" = 1 ] || rmdir "$kmods/updates/dkms" "$kmods/updates" 2>/dev/null
	dkms_touched=0
	if dkms status -m hmap | grep -q .; then echo "# dkms still lists hmap"; return 1; fi
	if [ -e "/usr/src/hmap-$VERSION" ] || [ -e /var/lib/dkms/hmap ]; then
		echo "# /usr/src/hmap-$VERSION or /var/lib/dkms/hmap left"; return 1
	fi
	if modinfo -k "$KVER" hmap >/dev/null 2>&1; then echo "# modinfo still finds hmap"; return 1; fi
	if [ -n "$(find "$kmods" -name 'hmap.ko*' 2>/dev/null)" ]; then echo "# hmap.ko left in $kmods"; return 1; fi
	[ "$(cat "$kmods"/modules.dep "$kmods"/modules.alias 2>/dev/null | md5sum)" = "$dep_before" ] ||
		{ echo "# $kmods/modules.dep or modules.alias differ from before"; return 1; }
}
ktap_check "make dkms-remove leaves no trace (dkms, /usr/src, $kmods, modules.dep)" check_dkms_remove

# ---- (b) modules_install into a staging root.
check_modules_install()
{
	local ko=$m1/lib/modules/$KVER/extra/kmod/hmap.ko rc
	wait "$mi_pid"
	rc=$?
	mi_pid=
	[ "$rc" = 0 ] || diag "$log/modules_install.log" 30 || return 1
	[ -f "$ko" ] || { echo "# no $ko"; return 1; }
	grep -q '^extra/kmod/hmap.ko:' "$m1/lib/modules/$KVER/modules.dep" ||
		{ echo "# modules.dep does not list extra/kmod/hmap.ko"; return 1; }
	[ "$(modinfo -b "$m1" -k "$KVER" -F filename hmap)" = "$ko" ] &&
		[[ $(modinfo -F vermagic "$ko") == "$KVER "* ]]
}
ktap_check "make modules_install INSTALL_MOD_PATH=: extra/kmod/hmap.ko, in modules.dep (depmod -b)" check_modules_install

check_modules_install_destdir()
{
	local m2=$work/destdir-mod
	mk modules_install DESTDIR="$m2" >"$log/modules_install2.log" 2>&1 ||
		diag "$log/modules_install2.log" || return 1
	grep -q '^extra/kmod/hmap.ko:' "$m2/lib/modules/$KVER/modules.dep" || return 1
	# and the live /lib/modules is untouched (no depmod -a, no module)
	[ -z "$(find "$kmods" -name 'hmap.ko*' 2>/dev/null)" ] &&
		[ "$(cat "$kmods"/modules.dep "$kmods"/modules.alias 2>/dev/null | md5sum)" = "$dep_before" ]
}
ktap_check "make modules_install DESTDIR=: the same under DESTDIR, $kmods untouched" check_modules_install_destdir

# ---- (c) install-module against install.
c1=$work/destdir-module
check_install_module()
{
	local f
	mk install-module DESTDIR="$c1" >"$log/install-module.log" 2>&1 ||
		diag "$log/install-module.log" || return 1
	for f in "deploy/60-hmap.rules etc/udev/rules.d/60-hmap.rules" \
		 "deploy/hmap-modules-load.conf etc/modules-load.d/hmap.conf" \
		 "deploy/hmap-modprobe.conf etc/modprobe.d/hmap.conf" \
		 "deploy/hmap-sysusers.conf etc/sysusers.d/hmap.conf"; do
		set -- $f
		cmp -s "$src/$1" "$c1/$2" || { echo "# $2 missing or not $1"; return 1; }
	done
	[ "$(grep -v '^#' "$c1/etc/modules-load.d/hmap.conf" | grep .)" = hmap ] || return 1
	# Nothing else, and nothing outside etc/.
	[ "$(cd "$c1" && find . -type f | wc -l)" = 4 ]
}
ktap_check "make install-module DESTDIR=: udev rule, modules-load.d, modprobe.d, sysusers.d" check_install_module

# The sysusers.d line, by systemd-sysusers itself, into a scratch root.
check_sysusers()
{
	local gid
	systemd-sysusers --root="$c1" "$c1/etc/sysusers.d/hmap.conf" >"$log/sysusers.log" 2>&1 ||
		diag "$log/sysusers.log" || return 1
	gid=$(sed -n 's/^hmap:x:\([0-9]*\):$/\1/p' "$c1/etc/group")
	echo "# systemd-sysusers --root: group hmap gid $gid"
	[ -n "$gid" ] && [ "$gid" -lt 1000 ]
}
ktap_check "systemd-sysusers creates system group hmap from sysusers.d/hmap.conf" check_sysusers

check_modprobe_kept()
{
	local c=$work/destdir-kept f
	f=$c/etc/modprobe.d/hmap.conf
	mkdir -p "${f%/*}"
	echo "options hmap max_maps=1" >"$f"
	mk install-module DESTDIR="$c" >"$log/install-module2.log" 2>&1 ||
		diag "$log/install-module2.log" || return 1
	[ "$(cat "$f")" = "options hmap max_maps=1" ] && cmp -s "$src/deploy/hmap-modprobe.conf" "$f.new"
}
ktap_check "make install-module keeps an edited modprobe.d/hmap.conf (example as .new)" check_modprobe_kept

# As nobody: `make install` must not need root, and installs no module-side
# file; the man pages are those of man/ that exist.
check_install()
{
	local c3=$work/destdir-user files m bad
	mkdir "$c3"
	chown -R nobody:nogroup "$src" "$c3"
	runuser -u nobody -- make -C "$src" --no-print-directory install \
		DESTDIR="$c3" PREFIX=/usr >"$log/install.log" 2>&1 || diag "$log/install.log" || return 1
	files=$(cd "$c3" && find . ! -type d | sort)
	echo "$files" | sed 's/^/# installed: /'
	for m in hmap.4 libhmap.3 hmapctl.8; do
		[ -f "$src/man/$m" ] || continue
		cmp -s "$src/man/$m" "$c3/usr/share/man/man${m##*.}/$m" || { echo "# man page $m not installed"; return 1; }
	done
	[ -x "$c3/usr/bin/hmapctl" ] && [ -f "$c3/usr/lib/libhmap.so.0" ] || return 1
	bad=$(echo "$files" | grep -E '^\./etc/|udev|modules-load|modprobe|sysusers|/lib/modules/|\.ko|^\./(usr/)?src/' || true)
	[ -z "$bad" ] || { echo "$bad" | sed 's/^/# module-side: /'; return 1; }
	echo "$files" | grep -qv '^\./usr/' && { echo "# files outside /usr"; return 1; }
	return 0
}
ktap_check "make install DESTDIR= as nobody: userspace and man pages, no module-side file" check_install

# ---- (d) the udev rule, by udevadm test in a private mount namespace.
udev_run()
{
	local d=$1 rules=$2
	rm -rf "$d"
	mkdir -p "$d"
	unshare -m --propagation private "$self" --udev-ns "$d" "$rules" \
		"$c1/etc/sysusers.d/hmap.conf" >"$d.log" 2>&1 || { diag "$d.log"; diag "$d/udevadm.out" 30; return 1; }
	echo "# /dev/hmap after udevadm test: $(cat "$d/node")"
}
check_udev_control()
{
	udev_run "$work/udev0" "" || return 1
	[ "$(cat "$work/udev0/node")" = "root:root 600" ]
}
ktap_check "udev control: without 60-hmap.rules, /dev/hmap stays root:root 0600" check_udev_control

check_udev()
{
	local d=$work/udev1 diags
	udev_run "$d" "$c1/etc/udev/rules.d/60-hmap.rules" || return 1
	grep -q '^Reading rules file: /etc/udev/rules.d/60-hmap.rules$' "$d/udevadm.out" ||
		{ echo "# udevadm did not read the rule file"; return 1; }
	# udev's diagnostics on a rule file start with its path.
	diags=$(grep '^/etc/udev/rules.d/60-hmap.rules:' "$d/udevadm.out")
	[ -z "$diags" ] || { echo "$diags" | sed 's/^/# /'; return 1; }
	grep -q "^hmap: /etc/udev/rules.d/60-hmap.rules:[0-9]* GROUP $(cat "$d/gid")$" "$d/udevadm.out" &&
		grep -q '^hmap: /etc/udev/rules.d/60-hmap.rules:[0-9]* MODE 0660$' "$d/udevadm.out" &&
		[ "$(cat "$d/node")" = "root:hmap 660" ]
}
ktap_check "udev: 60-hmap.rules parses cleanly and makes /dev/hmap root:hmap 0660" check_udev

# ---- (e) the modprobe.d example against the module's parameters.
src_params()
{
	sed -n 's/.*module_param\(_named\)\?(\([a-z_0-9]*\),.*/\2/p' "$src"/kmod/*.c | sort -u
}
example_params()
{
	sed -n 's/^#\?[[:space:]]*options[[:space:]]\+hmap[[:space:]]\+//p' "$src/deploy/hmap-modprobe.conf" |
		tr ' ' '\n' | sed -n 's/=.*//p' | sort -u
}
check_example_params()
{
	local s e
	s=$(src_params)
	e=$(example_params)
	echo "# kmod/*.c: $(echo $s)"
	[ -n "$e" ] || return 1
	# Every option is a parameter, and every parameter is shown.
	[ "$s" = "$e" ] || { diff <(echo "$s") <(echo "$e") | sed 's/^/# /'; return 1; }
}
ktap_check "modprobe.d example: its options are exactly kmod/*.c's module parameters" check_example_params

check_built_params()
{
	local b
	b=$(modinfo -F parm "$m1/lib/modules/$KVER/extra/kmod/hmap.ko" 2>/dev/null | sed 's/:.*//' | sort -u)
	[ -n "$b" ] && [ "$b" = "$(src_params)" ] || { diff <(src_params) <(echo "$b") | sed 's/^/# /'; return 1; }
}
ktap_check "the built hmap.ko has the parameters grep finds in kmod/*.c (modinfo -F parm)" check_built_params

check_modprobe_parse()
{
	local f=$work/modprobe-uncommented.conf n
	sed -n 's/^#\(options hmap .*\)/\1/p' "$src/deploy/hmap-modprobe.conf" >"$f"
	n=$(wc -l <"$f")
	[ "$n" -gt 0 ] && [ "$(modprobe -c -C "$f" | grep -c '^options hmap ')" = "$n" ]
}
ktap_check "modprobe -c parses the example's options lines, uncommented" check_modprobe_parse

echo "# deploy-check took $SECONDS s"
ktap_totals
