#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: installs what is missing, builds, runs the core
# tests in userspace (ASan/UBSan), boots the VM and runs the selftests there.
# Ends with one line "N passed, N failed[, N skipped]" summed over every suite
# and exits non-zero on any failure, a missing VM result or a kernel report.
#
#   scripts/test.sh [--no-debug-lane]
#
# The debug lane (a KASAN/lockdep/kmemleak/fault-injection kernel built from
# linux-source-6.1 and cached, see scripts/debug-kernel.sh) runs unless
# --no-debug-lane is given; skipping it is reported in the summary.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
debug_lane=1
for a in "$@"; do
	case "$a" in
	--no-debug-lane) debug_lane=0 ;;
	*) echo "usage: scripts/test.sh [--no-debug-lane]" >&2; exit 2 ;;
	esac
done

scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
. scripts/env.sh
R=$BUILD/results
rm -rf "$R"
mkdir -p "$R"
. selftests/ktap.sh

# Runs a suite into $R/NAME.log, framed for tap-sum.awk.
suite()
{
	local name=$1 rc
	shift
	echo "== $name" >&2
	(
		echo "HMAP-SUITE $name"
		"$@"
		rc=$?
		echo "HMAP-SUITE-END $name rc=$rc"
	) >"$R/$name.log" 2>&1
}

# The README's tested examples: transcripts as they are, C programs built.
readme_build()
{
	local c
	rm -rf "$BUILD/readme"
	scripts/readme-extract.sh "$BUILD/readme" || return 1
	ls "$BUILD"/readme/*.txt >/dev/null 2>&1 || return 1
	for c in "$BUILD"/readme/*.c; do
		[ -e "$c" ] || continue
		${CC:-cc} -static -O2 -Wall -Werror -Iuapi -Iuserspace/include \
			-o "${c%.c}" "$c" "$BUILD/lib/libhmap.a" >>"$R/tests-build.out" 2>&1 || return 1
	done
}

# Installs into a scratch root and builds the README example the way a user
# would: with pkg-config, against the shared library.
install_check()
{
	local root=$BUILD/install
	rm -rf "$root"
	make -s install DESTDIR="$root" PREFIX=/usr >>"$R/tests-build.out" 2>&1 || return 1
	[ -x "$root/usr/bin/hmapctl" ] && [ -f "$root/usr/include/linux/hmap.h" ] || return 1
	PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root/usr/lib/pkgconfig \
		${CC:-cc} -Wall -Werror -o "$BUILD/scores-dyn" "$BUILD/readme/scores.c" \
		$(PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_LIBDIR=$root/usr/lib/pkgconfig \
		  pkg-config --cflags --libs libhmap) >>"$R/tests-build.out" 2>&1 || return 1
	readelf -d "$BUILD/scores-dyn" | grep -q 'NEEDED.*libhmap.so.0' || return 1
	# `man hmap`, `man libhmap`, `man hmapctl` find what was installed.
	for m in hmap libhmap hmapctl; do
		man -M "$root/usr/share/man" -w "$m" >/dev/null 2>&1 || return 1
	done
}

build_suite()
{
	ktap_plan 6
	make -s ksrc >"$R/ksrc.out" 2>&1
	ktap_check "kernel sources extracted (kselftest harness, checkpatch)" \
		test -f "$BUILD/ksrc/.done"
	make module >"$R/module.out" 2>&1
	ktap_check "module builds with W=1" test -f kmod/hmap.ko
	ktap_check "module build has no warnings" \
		sh -c "! grep -E 'warning:|error:' '$R/module.out'"
	make -s lib hmapctl core-tests selftests >"$R/tests-build.out" 2>&1
	ktap_check "library, hmapctl, core tests and selftests build" test $? -eq 0
	ktap_check "README examples extract and build" readme_build
	ktap_check "make install; a program builds from pkg-config; man finds the pages" install_check
	cat "$R/module.out" "$R/tests-build.out" | grep -E 'warning|error' | sed 's/^/# /'
	ktap_totals
}

checkpatch_suite()
{
	local f files
	files=$(ls kmod/*.[ch] uapi/linux/*.h | grep -v '\.mod\.c$')
	ktap_plan "$(echo "$files" | wc -w)"
	for f in $files; do
		ktap_check "checkpatch --strict $f" sh -c \
			"perl '$BUILD/ksrc/scripts/checkpatch.pl' --strict --no-tree --terse -q -f '$f' >'$R/checkpatch.out' 2>&1 || { sed 's/^/# /' '$R/checkpatch.out'; false; }"
	done
	ktap_totals
}

suite build build_suite
suite checkpatch checkpatch_suite
suite lint scripts/lint-check.sh
suite man scripts/man-check.sh
suite deploy scripts/deploy-check.sh
suite kselftest scripts/kselftest-check.sh
suite host_tools scripts/host-tools-check.sh
suite core_test "$BUILD/core/core_test"
suite core_stress "$BUILD/core/core_stress"
suite core_image "$BUILD/core/core_image"

# Boots one kernel with one module and the whole job; adds a failure line
# to $R/vm-NAME.fail when the VM itself went wrong.
run_vm()
{
	local name=$1 ko=$2 timeout=$3 job
	shift 3
	job=$(scripts/job.sh "$ko" "$name")
	if ! scripts/vm.sh --timeout "$timeout" "$@" "$name" "$job" \
		>"$R/vm-$name.out" 2>&1; then
		cat "$R/vm-$name.out"
		echo "vm $name: FAIL (see $R/vm-$name.out and $BUILD/vm/$name/console.log)" \
			>"$R/vm-$name.fail"
	fi
	cp "$BUILD/vm/$name/results.log" "$R/vm-$name.log" 2>/dev/null
}

if [ -f kmod/hmap.ko ] && [ -n "$(ls "$BUILD"/selftests 2>/dev/null)" ]; then
	echo "== vm: Debian $KVER under qemu" >&2
	run_vm stock kmod/hmap.ko "${HMAP_VM_TIMEOUT:-900}"
else
	echo "vm: not run, the module or selftests did not build" >"$R/vm-stock.fail"
fi

# The debug lane: the same job on a kernel that catches what does not crash.
if [ $debug_lane -eq 1 ]; then
	echo "== debug lane: building or reusing the debug kernel" >&2
	if dkdir=$(scripts/debug-kernel.sh 2>"$R/debug-kernel.err"); then
		scripts/module-src.sh "$BUILD/dbg-mod"
		if make -C "$dkdir" ARCH=x86_64 M="$BUILD/dbg-mod" W=1 modules \
			>"$R/dbg-module.out" 2>&1; then
			echo "== vm: debug kernel (KASAN, lockdep, kmemleak, fail-nth)" >&2
			# RCU callbacks on offload kthreads, beside the
			# tasks that queue them (scripts/debug-kernel.config).
			run_vm debug "$BUILD/dbg-mod/kmod/hmap.ko" \
				"${HMAP_DEBUG_VM_TIMEOUT:-2400}" \
				--kernel "$dkdir/arch/x86/boot/bzImage" \
				--append "rcu_nocbs=0-3"
		else
			cat "$R/dbg-module.out"
			echo "debug lane: the module did not build against the debug kernel" \
				>"$R/vm-debug.fail"
		fi
	else
		cat "$R/debug-kernel.err"
		echo "debug lane: the debug kernel did not build" >"$R/vm-debug.fail"
	fi
fi

summary=$(for f in "$R"/*.log; do
	case "$f" in
	*/vm-debug.log) sed 's/^HMAP-SUITE \([^ ]*\)/HMAP-SUITE debug:\1/; s/^HMAP-SUITE-END \([^ ]*\)/HMAP-SUITE-END debug:\1/' "$f" ;;
	*) cat "$f" ;;
	esac
done | tr -d '\r' | awk -f scripts/tap-sum.awk)
echo "$summary" | grep -v '^TOTAL'
read -r _ pass fail skip <<<"$(echo "$summary" | grep '^TOTAL')"
for f in "$R"/vm-*.fail; do
	[ -e "$f" ] || continue
	cat "$f"
	fail=$((fail + 1))
done
if [ $debug_lane -eq 0 ]; then
	echo "debug lane: SKIPPED (--no-debug-lane)"
	skip=$((skip + 1))
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
