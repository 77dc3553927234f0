#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Checks that the hazard tests can fail: each selftests/mutations/NAME.patch
# removes one protection from the module. This applies it to a copy of the
# sources, builds that module, runs the suites the patch names in the VM,
# and reports CAUGHT (a test failed or the kernel reported a problem) or
# MISSED. Run after scripts/test.sh has built everything.
#
#   scripts/mutation-check.sh [--debug] [NAME...]
#     --debug   use the debug kernel (KASAN, lockdep, ...) instead of Debian's,
#               for every patch
#
# A patch starts with header lines, then the diff:
#   suites: SUITE...   VM suites to run (names as in selftests/vm/job-test.sh)
#   host: TEST...      host core tests (userspace/tests/TEST.c), built as the
#                      Makefile builds build/core/TEST but from the mutated
#                      kmod/hmap_table.c, and run under a timeout; a failure
#                      or a timeout counts as caught. Only host tests: no VM.
#   lane: debug        run this patch's VM suites on the debug kernel
#   removes: ...       what the patch takes away (for the reader)
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-$(pwd)/build}
export KVER=${KVER:-$(make -s print-kver)}
stock_kdir=/lib/modules/$KVER/build
debug_kdir=""
all_debug=0
if [ "${1:-}" = --debug ]; then
	shift
	all_debug=1
fi
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(ls selftests/mutations/*.patch | xargs -n1 basename | sed 's/\.patch$//'))

# Seconds a host test may run before it counts as hung (caught).
HOST_TIMEOUT=${HOST_TIMEOUT:-300}
# The Makefile's flags for the core tests, minus its -Ikmod: the mutated
# copy's kmod/ goes first instead.
core_cflags=()
for f in $(make -s --no-print-directory \
		--eval 'print-core-cflags: ; @echo $(CORE_CFLAGS)' print-core-cflags); do
	[ "$f" = -Ikmod ] || core_cflags+=("$f")
done

# The first line of a kernel report: what scripts/vm.sh looks for, less the
# lines that only frame one, plus hardened usercopy's BUG().
splat='BUG:|WARNING:|Oops|suspected memory leak|general protection|Kernel panic|KASAN|UBSAN|unreferenced object|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|DEBUG_LOCKS_WARN_ON|sleeping function called|scheduling while atomic|rcu_.*stall|INFO: task .* blocked|refcount_t:|list_add corruption|list_del corruption|kernel BUG at|usercopy: Kernel memory'

# first_fail [SUITE [SKIP]] <LOG: the first "not ok" line of a kselftest log
# (of SUITE's section of a VM results.log; "" for a whole log), with the
# harness's reason for it, leaving out the tests named in SKIP.
first_fail()
{
	tr -d '\r' | awk -v suite="${1:-}" -v skip=" ${2:-} " '
		suite != "" && $1 == "HMAP-SUITE" { on = $2 == suite; next }
		suite != "" && !on { next }
		/^#  RUN / { why = ""; next }
		/^# / && why == "" && /Expected|Test terminated|Test ended|Test exited|unexpectedly/ {
			why = substr($0, 3)
		}
		/^not ok / && index(skip, " " $4 " ") == 0 {
			print $0 (why != "" ? " (" why ")" : "")
			exit
		}'
}

# host_run DIR TEST: builds TEST as the Makefile builds build/core/TEST, but
# against DIR's kmod/, and runs it under a timeout into DIR/host-TEST.log.
# Returns its exit status (124 or 137: timed out), or 2 with an ERROR line
# if it does not build.
host_run()
{
	local dir=$1 t=$2

	mkdir -p "$dir/host"
	if ! ${CC:-cc} -I"$dir/kmod" "${core_cflags[@]}" -o "$dir/host/$t" \
	     "userspace/tests/$t.c" "$dir/kmod/hmap_table.c" "$dir/kmod/hmap_image.c" "$dir/kmod/hmap_lru.c" userspace/shim/shim.c userspace/lib/mapped.c \
	     -lurcu-memb -lpthread >"$dir/host-$t.build.log" 2>&1; then
		echo "ERROR: host $t does not build (see $dir/host-$t.build.log)"
		return 2
	fi
	timeout -k 10 "$HOST_TIMEOUT" "$dir/host/$t" >"$dir/host-$t.log" 2>&1
}

# host_baseline TEST: runs TEST once against the unmodified sources and
# keeps the names of the tests that fail there (work in progress): those
# failing with a mutation do not count as catching it.
base=$BUILD/mut/_baseline
host_baseline()
{
	local t=$1

	[ -e "$base/host-$t.fails" ] && return 0
	[ -d "$base/kmod" ] || scripts/module-src.sh "$base"
	host_run "$base" "$t"
	case $? in
	0) : ;;
	2) return 1 ;;
	124|137) echo "ERROR: host $t hangs without any mutation (see $base/host-$t.log)"
		 return 1 ;;
	esac
	tr -d '\r' <"$base/host-$t.log" | awk '/^not ok / { print $4 }' |
		tr '\n' ' ' >"$base/host-$t.fails"
}

# host_test DIR TEST: runs one host test against DIR's kmod/. Prints why it
# failed; returns 0 if it failed (caught), 1 if it passed, 2 on error.
host_test()
{
	local dir=$1 t=$2 log=$1/host-$2.log skip rc why san

	skip=$(cat "$base/host-$t.fails")
	host_run "$dir" "$t"
	rc=$?
	[ $rc -eq 2 ] && return 2
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		why="timed out after ${HOST_TIMEOUT}s in $(grep '^#  RUN' "$log" | tail -n 1 | sed 's/^#  RUN *//; s/ \.\.\.$//')"
	else
		why=$(first_fail "" "$skip" <"$log")
		# Crashed, or failed only where the baseline fails too.
		[ -z "$why" ] && [ $rc -ne 0 ] && ! grep -q '^# Totals:' "$log" &&
			why="exit $rc with no result"
	fi
	if [ -n "$why" ]; then
		san=$(grep -m1 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" |
		      sed 's/^==[0-9]*== *//')
		echo "host $t: $why${san:+ [$san]}"
		return 0
	fi
	echo "host $t: $(grep -m1 '^# Totals:' "$log")${skip:+ (failing without the mutation too: $skip)}"
	return 1
}

# Fresh baselines each run: the sources may have changed since the last.
rm -rf "$base"
missed=0
for name in "${names[@]}"; do
	patch=selftests/mutations/$name.patch
	suites=$(sed -n 's/^suites: //p' "$patch")
	hosts=$(sed -n 's/^host: //p' "$patch")
	lane=$(sed -n 's/^lane: //p' "$patch")
	[ $all_debug -eq 1 ] && lane=debug
	what=$suites
	for t in $hosts; do
		what="${what:+$what }host:$t"
	done
	[ "$lane" = debug ] && [ -n "$suites" ] && what="$what; debug kernel"
	if [ -z "$suites$hosts" ]; then
		echo "ERROR  $name: names no suite (suites: or host:)"
		missed=$((missed + 1))
		continue
	fi
	kdir=$stock_kdir
	vmargs=(--timeout 1200)
	if [ "$lane" = debug ] && [ -n "$suites" ]; then
		[ -n "$debug_kdir" ] || debug_kdir=$(scripts/debug-kernel.sh) || exit 1
		kdir=$debug_kdir
		# Several times slower than Debian's kernel; booted as
		# scripts/test.sh boots it (RCU callbacks on offload kthreads).
		vmargs=(--timeout 3600 --kernel "$kdir/arch/x86/boot/bzImage"
			--append "rcu_nocbs=0-3")
	fi
	dir=$BUILD/mut/$name
	scripts/module-src.sh "$dir"
	if ! patch -s -p1 -d "$dir" <"$patch" ||
	   { [ -n "$suites" ] &&
	     ! make -C "$kdir" ARCH=x86_64 M="$dir" modules >"$dir/build.log" 2>&1; }; then
		echo "ERROR  $name: does not apply or build (see $dir)"
		missed=$((missed + 1))
		continue
	fi

	# Caught: a host test failed or hung, one of the named VM suites
	# failed, or the kernel reported.
	why=() notes=() err=""
	for t in $hosts; do
		if ! out=$(host_baseline "$t"); then
			err=$out
			break
		fi
		out=$(host_test "$dir" "$t")
		case $? in
		0) why+=("$out") ;;
		1) notes+=("$out") ;;
		*) err=$out ;;
		esac
	done
	if [ -n "$err" ]; then
		echo "ERROR  $name: $err"
		missed=$((missed + 1))
		continue
	fi

	if [ -n "$suites" ]; then
		job=$(scripts/job.sh "$dir/kmod/hmap.ko" "mut-$name" $suites)
		vm_ok=1
		scripts/vm.sh "${vmargs[@]}" "mut-$name" "$job" \
			>"$dir/vm.out" 2>&1 || vm_ok=0
		sum=$(tr -d '\r' <"$BUILD/vm/mut-$name/results.log" 2>/dev/null |
		      awk -f scripts/tap-sum.awk)
		# Not echo | grep -q: with pipefail, grep leaving early fails
		# the pipeline now and then (SIGPIPE).
		if ! grep -q '^suite module_load: [0-9]* passed, 0 failed' <<<"$sum"; then
			echo "ERROR  $name: the mutated module did not load (see $dir/vm.out)"
			missed=$((missed + 1))
			continue
		fi
		# Each named suite that failed, with its first failure.
		vwhy=""
		for s in $suites; do
			w=$(first_fail "$s" <"$BUILD/vm/mut-$name/results.log")
			[ -n "$w" ] && w="$s: $w"
			[ -n "$w" ] || w=$(echo "$sum" | grep -m1 "^suite $s: FAIL")
			[ -n "$w" ] && vwhy="${vwhy:+$vwhy; }$w"
		done
		if [ $vm_ok -eq 0 ]; then
			kwhy=$(tr -d '\r' <"$BUILD/vm/mut-$name/console.log" 2>/dev/null |
			       grep -m1 -E "$splat" | sed 's/^\[ *[0-9.]*\] *//')
			[ -n "$kwhy" ] && kwhy="kernel: $kwhy"
			[ -n "$kwhy" ] || kwhy=$(grep -m1 -E 'FAIL' "$dir/vm.out")
			vwhy="${vwhy:+$vwhy | }$kwhy"
		fi
		if [ -n "$vwhy" ]; then
			why+=("$vwhy")
		else
			notes+=("$(echo "$sum" | grep -E "^suite ($(echo $suites | tr ' ' '|')):" | tr '\n' ' ')")
		fi
	fi

	if [ ${#why[@]} -gt 0 ]; then
		reason=$(printf '%s; ' "${why[@]}")
		echo "CAUGHT $name ($what): ${reason%; }"
	else
		reason=$(printf '%s; ' "${notes[@]}")
		echo "MISSED $name ($what): ${reason%; }"
		missed=$((missed + 1))
	fi
done
[ $missed -eq 0 ]
