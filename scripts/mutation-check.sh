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
#     --debug   use the debug kernel (KASAN, lockdep, ...) instead of Debian's
set -uo pipefail
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-$(pwd)/build}
export KVER=${KVER:-$(make -s print-kver)}
kdir=/lib/modules/$KVER/build
vmargs=()
if [ "${1:-}" = --debug ]; then
	shift
	kdir=$(scripts/debug-kernel.sh) || exit 1
	vmargs=(--kernel "$kdir/arch/x86/boot/bzImage")
fi
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(ls selftests/mutations/*.patch | xargs -n1 basename | sed 's/\.patch$//'))

missed=0
for name in "${names[@]}"; do
	patch=selftests/mutations/$name.patch
	suites=$(sed -n 's/^suites: //p' "$patch")
	dir=$BUILD/mut/$name
	scripts/module-src.sh "$dir"
	if ! patch -s -p1 -d "$dir" <"$patch" ||
	   ! make -C "$kdir" ARCH=x86_64 M="$dir" modules >"$dir/build.log" 2>&1; then
		echo "ERROR  $name: does not apply or build (see $dir)"
		missed=$((missed + 1))
		continue
	fi
	job=$(scripts/job.sh "$dir/kmod/hmap.ko" "mut-$name" $suites)
	vm_ok=1
	scripts/vm.sh --timeout 1200 "${vmargs[@]}" "mut-$name" "$job" \
		>"$dir/vm.out" 2>&1 || vm_ok=0
	sum=$(tr -d '\r' <"$BUILD/vm/mut-$name/results.log" | awk -f scripts/tap-sum.awk)
	if ! echo "$sum" | grep -q '^suite module_load: [0-9]* passed, 0 failed'; then
		echo "ERROR  $name: the mutated module did not load (see $dir/vm.out)"
		missed=$((missed + 1))
		continue
	fi
	# Caught: one of the named suites failed, or the kernel reported.
	why=""
	for s in $suites; do
		why=$(echo "$sum" | grep -m1 "^  $s: not ok" | sed 's/^ *//')
		[ -n "$why" ] && break
	done
	if [ -z "$why" ] && [ $vm_ok -eq 0 ]; then
		why=$(grep -m1 -E 'FAIL' "$dir/vm.out")
	fi
	if [ -n "$why" ]; then
		echo "CAUGHT $name ($suites): $why"
	else
		echo "MISSED $name ($suites):" $(echo "$sum" | grep -E "^suite ($(echo $suites | tr ' ' '|'))")
		missed=$((missed + 1))
	fi
done
[ $missed -eq 0 ]
