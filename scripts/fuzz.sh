#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: the KCOV-guided ioctl fuzzer (selftests/fuzz/hmap_fuzz.c) on
# the debug kernel, with a long budget. Builds what it needs (the debug
# kernel is built once and cached, see scripts/debug-kernel.sh), boots the
# VM and prints the executions, the corpus size and the hmap.ko edges and
# PCs covered, then the PCs reached per function against those the
# compiler instrumented.
#
# A kernel report fails the run and prints the program that caused it. A
# panic stops the guest before it can print anything: the VM then saves
# guest memory, and the last programs are read back from that dump.
#
# The corpus is kept in $BUILD/fuzz/corpus.txt and seeds the next run.
#
#   scripts/fuzz.sh
#
# Environment:
#   HMAP_FUZZ_EXECS       ioctls to run (default 1000000)
#   HMAP_FUZZ_SECONDS     time limit in the guest (default 0: none)
#   HMAP_FUZZ_PROCS       executors in the guest (default 2, one per vCPU)
#   HMAP_FUZZ_SEED        random seed (default: from the time)
#   HMAP_FUZZ_FRESH=1     start from an empty corpus
#   HMAP_FUZZ_VM_TIMEOUT  seconds before the VM counts as hung (default:
#                         from the budget at 150 ioctls/s, the slowest
#                         rate measured on the debug kernel, plus 10 min)
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

export HMAP_FUZZ_EXECS=${HMAP_FUZZ_EXECS:-1000000}
export HMAP_FUZZ_SECONDS=${HMAP_FUZZ_SECONDS:-0}
export HMAP_FUZZ_SEED=${HMAP_FUZZ_SEED:-}
procs=${HMAP_FUZZ_PROCS:-2}
out=$BUILD/fuzz
name=fuzz
mkdir -p "$out"

fail() { echo "fuzz: $*" >&2; exit 1; }

echo "== fuzz: building the debug kernel (cached) and the module" >&2
dkdir=$(scripts/debug-kernel.sh) || fail "the debug kernel did not build"
grep -qx 'CONFIG_KCOV=y' "$dkdir/.config" || fail "the debug kernel has no CONFIG_KCOV"
scripts/module-src.sh "$out/mod"
make -C "$dkdir" ARCH=x86_64 M="$out/mod" W=1 modules >"$out/module.out" 2>&1 ||
	{ cat "$out/module.out"; fail "the module did not build against the debug kernel"; }
ko=$out/mod/kmod/hmap.ko
make -s ksrc lib "$BUILD/selftests/hmap_fuzz" "$BUILD/selftests/hmapctl" >"$out/build.out" 2>&1 ||
	{ cat "$out/build.out"; fail "the fuzzer did not build"; }
# job.sh packs the README examples too; the fuzz job needs none.
mkdir -p "$BUILD/readme"

# Budget: the slowest rate seen on the debug kernel under emulation.
if [ -n "${HMAP_FUZZ_VM_TIMEOUT:-}" ]; then
	timeout_s=$HMAP_FUZZ_VM_TIMEOUT
elif [ "$HMAP_FUZZ_SECONDS" != 0 ]; then
	timeout_s=$((HMAP_FUZZ_SECONDS + 600))
else
	timeout_s=$((HMAP_FUZZ_EXECS / 150 + 600))
fi

job=$(scripts/job.sh "$ko" "$name" hmap_fuzz module_unload kmemleak) || fail "job.sh failed"
[ -d "$job" ] || fail "no job directory"
{
	echo "export HMAP_FUZZ_PROCS=$procs HMAP_FUZZ_COVER=1 HMAP_FUZZ_SAVE=1"
	if [ -s "$out/corpus.txt" ] && [ -z "${HMAP_FUZZ_FRESH:-}" ]; then
		echo "export HMAP_FUZZ_CORPUS=/hmap/corpus.txt"
	fi
} >>"$job/env"
[ -s "$out/corpus.txt" ] && [ -z "${HMAP_FUZZ_FRESH:-}" ] && cp "$out/corpus.txt" "$job/corpus.txt"

dump=$out/guest-memory.raw
rm -f "$dump"
echo "== fuzz: $HMAP_FUZZ_EXECS ioctls, $procs executors, VM timeout ${timeout_s}s" >&2
scripts/vm.sh --timeout "$timeout_s" --kernel "$dkdir/arch/x86/boot/bzImage" \
	--panic-dump "$dump" "$name" "$job" >"$out/vm.out" 2>&1
vmrc=$?
log=$BUILD/vm/$name/results.log
tr -d '\r' <"$log" >"$out/results.log" 2>/dev/null

# The fuzz suite's report, without the corpus it saved.
sed -n '/^HMAP-SUITE hmap_fuzz/,/^HMAP-SUITE-END hmap_fuzz/p' "$out/results.log" |
	grep -v -e '^# corpus-entry ' -e '^# cover: ' -e '^HMAP-SUITE'

if grep -q '^# corpus-entry ' "$out/results.log"; then
	grep '^# corpus-entry ' "$out/results.log" | sed 's/^# //' | sort -u >"$out/corpus.new"
	mv "$out/corpus.new" "$out/corpus.txt"
	echo "# corpus saved: $out/corpus.txt ($(wc -l <"$out/corpus.txt") programs)"
fi

# Covered PCs per function, against the call sites KCOV instruments.
if grep -q '^# cover: ' "$out/results.log"; then
	objdump -dr "$ko" | awk '
		/^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/[<>:]/, "", fn) }
		/R_X86_64_PLT32[ \t]+__sanitizer_cov_trace_pc/ { total[fn]++ }
		END { for (f in total) print f, total[f] }' >"$out/instrumented.txt"
	grep '^# cover: ' "$out/results.log" | awk '
		NR == FNR { total[$1] = $2; next }
		{ got[$3] += $4 }
		END {
			for (f in total) {
				all += total[f]; hit += got[f]
				printf("%-40s %4d / %4d\n", f, got[f], total[f])
			}
			printf("TOTAL %d %d\n", hit, all)
		}' "$out/instrumented.txt" - | sort >"$out/coverage.txt"
	read -r _ hit all < <(grep '^TOTAL' "$out/coverage.txt")
	echo "# hmap.ko PCs reached: $hit of $all instrumented ($((100 * hit / (all ? all : 1)))%); per function: $out/coverage.txt"
	grep -v '^TOTAL' "$out/coverage.txt" | awk '$2 == 0 { printf("%s ", $1) } END { print "" }' |
		fold -s -w 100 | sed 's/^/# never reached: /'
fi

# A panic: the programs the executors were running, from guest memory.
if [ -s "$dump" ]; then
	echo "# the guest panicked; the programs it was running, from its memory:"
	"$BUILD/selftests/hmap_fuzz" --extract "$dump"
	rm -f "$dump"
fi

summary=$(awk -f scripts/tap-sum.awk "$out/results.log")
echo "$summary" | grep -v '^TOTAL'
read -r _ pass failed skip <<<"$(echo "$summary" | grep '^TOTAL')"
if [ $vmrc -ne 0 ]; then
	grep '^vm\[' "$out/vm.out"
	failed=$((failed + 1))
fi
echo "fuzz: $pass passed, $failed failed (logs: $out, $BUILD/vm/$name)"
[ "$failed" -eq 0 ]
