#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/ as a kselftest target, checked on this host, where hmap.ko is
# not loaded: copied to $BUILD/ksrc/tools/testing/selftests/hmap (the part
# of linux-source-6.1 that scripts/ksrc.sh extracts), it builds with the
# kernel's kselftest Makefile and lib.mk, `run_tests` runs every program
# and each one skips (KSFT_SKIP, with its reason) instead of failing, and
# `install` lays out run_kselftest.sh, the list of tests and the programs,
# which that runner runs and skips the same way. Prints KTAP; the logs are
# in $BUILD/kselftest/. Installs nothing on the system.
#
#   scripts/kselftest-check.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
export BUILD=${BUILD:-$repo/build}
. selftests/ktap.sh

ksft=$BUILD/ksrc/tools/testing/selftests
target=$ksft/hmap
logs=$BUILD/kselftest
inst=$logs/install
rm -rf "$logs"
mkdir -p "$logs"

tests=$(cd selftests && ls ./*_test.c | sed 's|^\./||; s|\.c$||')
extended="hmapctl runas hmap_fuzz"
ntests=$(echo "$tests" | wc -w)
skipped=0

# The kselftest make as a user would type it, with nothing inherited from a
# make this script may run under.
kmake()
{
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		make -C "$ksft" TARGETS=hmap HMAP_SRC="$repo" "$@"
}

# The last lines of a log, as diagnostics.
diag() { tail -n "${2:-20}" "$1" | sed 's/^/# /'; }

# A test that cannot run here, counted as skipped.
ktap_skip()
{
	KTAP_N=$((KTAP_N + 1))
	skipped=$((skipped + 1))
	echo "ok $KTAP_N $1 # SKIP $2"
}

# lib.mk installs with rsync; where it is missing, a stand-in with cp for
# the one form lib.mk uses ("rsync -a --copy-unsafe-links FILE... DIR/").
rsync_path()
{
	command -v rsync >/dev/null && return
	mkdir -p "$logs/bin"
	printf '%s\n' '#!/bin/sh' \
		'while [ "${1#-}" != "$1" ]; do shift; done' \
		'exec cp -a "$@"' >"$logs/bin/rsync"
	chmod +x "$logs/bin/rsync"
	echo "# rsync missing: make install runs with a cp -a stand-in"
	PATH=$logs/bin:$PATH
}

build_ok()
{
	local t
	[ "$build_rc" -eq 0 ] || { diag "$logs/build.log" 30; return 1; }
	for t in $tests $extended; do
		[ -x "$target/$t" ] || { echo "# $t not built"; return 1; }
	done
}

# A runner's output: the plan counts every program, one result each, no
# failure.
ran_all()
{
	local log=$1 n
	n=$(grep -cE '^(not )?ok [0-9]+ selftests: hmap: ' "$log")
	if ! grep -qx "1\.\.$ntests" "$log" || [ "$n" -ne "$ntests" ] ||
	   grep -q '^not ok' "$log"; then
		echo "# $n results for $ntests programs"
		diag "$log"
		return 1
	fi
}

run_tests_ok() { [ "$run_rc" -eq 0 ] && ran_all "$logs/run_tests.log"; }
run_kselftest_ok() { [ "$rk_rc" -eq 0 ] && ran_all "$logs/run_kselftest.log"; }

# The runner ran the program, which skipped and said why.
skipped_in()
{
	local log=$1 t=$2
	if ! grep -qx "ok [0-9]* selftests: hmap: $t # SKIP" "$log"; then
		grep "selftests: hmap: $t\b" "$log" | sed 's/^/# /'
		return 1
	fi
	awk -v h="# selftests: hmap: $t" '$0 == h { on = 1; next }
		on && /^# 1\.\.0 # SKIP \/dev\/hmap is absent/ { found = 1 }
		on && /^(not )?ok / { exit } END { exit !found }' "$log"
}

all_skip()
{
	local t
	for t in $tests; do
		skipped_in "$1" "$t" || return 1
	done
}

install_ok() { [ "$inst_rc" -eq 0 ] || { diag "$logs/install.log"; return 1; }; }

install_layout()
{
	[ -x "$inst/run_kselftest.sh" ] && [ -f "$inst/kselftest/runner.sh" ] &&
		[ -x "$inst/kselftest/prefix.pl" ] &&
		[ -f "$inst/hmap/settings" ] && [ -f "$inst/hmap/config" ]
}

installed_programs()
{
	local t
	for t in $tests $extended; do
		[ -x "$inst/hmap/$t" ] || { echo "# hmap/$t not installed"; return 1; }
	done
	for t in $tests; do
		grep -qx "hmap:$t" "$inst/kselftest-list.txt" ||
			{ echo "# hmap:$t not in kselftest-list.txt"; return 1; }
	done
	[ "$(wc -l <"$inst/kselftest-list.txt")" -eq "$ntests" ]
}

ktap_plan $((ntests + 9))
ktap_check "kernel sources extracted (kselftest Makefile, lib.mk, runner)" \
	sh -c "scripts/ksrc.sh >'$logs/ksrc.log' 2>&1 && test -f '$ksft/lib.mk'"
ktap_check "selftests/ copied to tools/testing/selftests/hmap" \
	sh -c "rm -rf '$target' && cp -r selftests '$target'"

t0=$(date +%s)
kmake -j"$(nproc)" >"$logs/build.log" 2>&1
build_rc=$?
echo "# build: $(($(date +%s) - t0)) s"
ktap_check "make TARGETS=hmap builds $ntests tests and $extended" build_ok
grep -E 'warning:|error:' "$logs/build.log" | sed 's/^/# /'

# hmap.ko loaded here: the runners would run the tests for real.
why=
[ -e /dev/hmap ] && why="/dev/hmap exists on this host"

if [ -n "$why" ]; then
	ktap_skip "make TARGETS=hmap run_tests runs every program, none fails" "$why"
	for t in $tests; do
		ktap_skip "$t skips without /dev/hmap" "$why"
	done
else
	t0=$(date +%s)
	# Through a pipe: the runner appends to /dev/stdout, which overwrites
	# itself when stdout is a file.
	kmake run_tests 2>&1 | cat >"$logs/run_tests.log"
	run_rc=${PIPESTATUS[0]}
	echo "# run_tests: $(($(date +%s) - t0)) s, $(grep -c '^ok .* # SKIP$' "$logs/run_tests.log") of $ntests programs skipped"
	ktap_check "make TARGETS=hmap run_tests runs every program, none fails" run_tests_ok
	for t in $tests; do
		ktap_check "$t skips without /dev/hmap (KSFT_SKIP, reason given)" \
			skipped_in "$logs/run_tests.log" "$t"
	done
fi

rsync_path
kmake install INSTALL_PATH="$inst" >"$logs/install.log" 2>&1
inst_rc=$?
ktap_check "make TARGETS=hmap install INSTALL_PATH=$inst" install_ok
ktap_check "installed: run_kselftest.sh, kselftest/ runner, hmap/settings, hmap/config" \
	install_layout
ktap_check "installed: every program, every test in kselftest-list.txt" \
	installed_programs

if [ -n "$why" ]; then
	ktap_skip "run_kselftest.sh -c hmap runs every program, none fails" "$why"
	ktap_skip "run_kselftest.sh -c hmap: every program skips, giving the reason" "$why"
else
	(cd "$inst" && ./run_kselftest.sh -c hmap) 2>&1 | cat >"$logs/run_kselftest.log"
	rk_rc=${PIPESTATUS[0]}
	ktap_check "run_kselftest.sh -c hmap runs every program, none fails" run_kselftest_ok
	ktap_check "run_kselftest.sh -c hmap: every program skips, giving the reason" \
		all_skip "$logs/run_kselftest.log"
fi
echo "# Totals: pass:$KTAP_PASS fail:$KTAP_FAIL xfail:0 xpass:0 skip:$skipped error:0"
[ "$KTAP_FAIL" -eq 0 ]
