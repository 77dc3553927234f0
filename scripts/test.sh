#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: installs what is missing, builds, runs the core
# tests in userspace (ASan/UBSan), boots the VM and runs the selftests there.
# Ends with one line "N passed, N failed[, N skipped]" summed over every suite
# and exits non-zero on any failure, a missing VM result or a kernel report.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

export BUILD=${BUILD:-$top/build}
KVER=${KVER:-$(make -s print-kver)}
export KVER
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
	readelf -d "$BUILD/scores-dyn" | grep -q 'NEEDED.*libhmap.so.0'
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
	ktap_check "make install; a program builds from pkg-config" install_check
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

# The VM job: the module, the selftest programs and scripts.
vm_job()
{
	local job=$BUILD/job-test
	rm -rf "$job"
	mkdir -p "$job/tests"
	cp kmod/hmap.ko "$job/"
	cp "$BUILD"/selftests/* selftests/*.sh "$job/tests/"
	cp selftests/vm/job-test.sh "$job/job.sh"
	cp -r "$BUILD/readme" "$job/readme"
	echo "$job"
}

suite build build_suite
suite checkpatch checkpatch_suite
suite core_test "$BUILD/core/core_test"
suite core_stress "$BUILD/core/core_stress"

vm_fail=0
if [ -f kmod/hmap.ko ] && [ -n "$(ls "$BUILD"/selftests 2>/dev/null)" ]; then
	echo "== vm (Debian $KVER under qemu)" >&2
	job=$(vm_job)
	scripts/vm.sh --timeout "${HMAP_VM_TIMEOUT:-900}" stock "$job" \
		>"$R/vm-stock.out" 2>&1 || vm_fail=1
	cp "$BUILD/vm/stock/results.log" "$R/vm-stock.log" 2>/dev/null
	[ $vm_fail -eq 0 ] || cat "$R/vm-stock.out"
else
	echo "vm: not run, the module or selftests did not build" >&2
	vm_fail=1
fi

summary=$(cat "$R"/*.log | tr -d '\r' | awk -f scripts/tap-sum.awk)
echo "$summary" | grep -v '^TOTAL'
read -r _ pass fail skip <<<"$(echo "$summary" | grep '^TOTAL')"
if [ $vm_fail -ne 0 ]; then
	echo "vm: FAIL (see $R/vm-stock.out and $BUILD/vm/stock/console.log)"
	fail=$((fail + 1))
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
