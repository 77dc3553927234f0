#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: hmap against BPF hash maps, from userspace, in Debian's kernel
# under qemu. One boot with -icount (the guest clock counts instructions, so
# per-op costs repeat exactly) for costs side by side; one boot with 2 vCPUs
# for throughput ratios. Prints the tables; writes build/bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
make -s module lib >/dev/null
# The in-kernel comparison with rhashtable links against hmap.ko's core.
make -s -C "${KDIR:-/lib/modules/$KVER/build}" M="$PWD/bench/kbench" \
	KBUILD_EXTRA_SYMBOLS="$PWD/Module.symvers" W=1 modules >/dev/null
mkdir -p "$BUILD/bench"
${CC:-cc} -O2 -Wall -static -pthread -Iuapi -Iuserspace/include -Iselftests \
	-o "$BUILD/bench/hmap_bench" bench/hmap_bench.c "$BUILD/lib/libhmap.a" -lm

# The core in userspace against liburcu's rculfhash, counted by callgrind.
mkdir -p "$BUILD/ucore"
${CC:-cc} -std=gnu11 -O2 -g -Wall -Iuserspace/shim -Iuapi -Ikmod \
	-o "$BUILD/ucore/ucore_bench" bench/ucore/ucore_bench.c \
	bench/ucore/lfht_side.c kmod/hmap_table.c kmod/hmap_image.c kmod/hmap_lru.c userspace/shim/shim.c \
	-lurcu-cds -lurcu-memb -lpthread
valgrind --tool=callgrind --callgrind-out-file="$BUILD/ucore/callgrind.out" \
	"$BUILD/ucore/ucore_bench" >/dev/null 2>"$BUILD/ucore/valgrind.log"
# The call sites in main() carry each phase's inclusive count: "N (P%) => file:fn (1x)".
callgrind_annotate --inclusive=yes --auto=yes "$BUILD/ucore/callgrind.out" |
	awk '/=> .*:(hmap|lfht)_(inserts|lookups|deletes) \(1x\)/ {
		c = $1; gsub(",", "", c)
		fn = $0; sub(/ \(1x\).*/, "", fn); sub(/.*:/, "", fn)
		n[fn] += c / 65536
	}
	END {
		print "Userspace core against rculfhash, u64 keys and values, 65536 entries,"
		print "instructions per op (callgrind):"
		printf "  %-8s %10s %10s %8s\n", "op", "hmap", "rculfhash", "ratio"
		split("inserts lookups deletes", ops, " ")
		for (i = 1; i <= 3; i++) {
			o = ops[i]
			printf "  %-8s %10.0f %10.0f %8.2f\n", o, n["hmap_" o], n["lfht_" o],
				n["hmap_" o] / n["lfht_" o]
			printf "JSON {\"metric\":\"ucore_%s\",\"size\":\"8/8\",\"value\":%.1f}\n", o, n["hmap_" o] >"/dev/stderr"
			printf "JSON {\"metric\":\"rculfhash_%s\",\"size\":\"8/8\",\"value\":%.1f}\n", o, n["lfht_" o] >"/dev/stderr"
		}
	}' 2>"$BUILD/ucore/results.json.lines" | tee -a "$BUILD/bench/results.txt"

out=$BUILD/bench/results.json
: >"$BUILD/bench/results.txt"
for mode in ${BENCH_MODES:-cost throughput}; do
	job=$BUILD/job-bench-$mode
	rm -rf "$job"
	mkdir -p "$job"
	cp kmod/hmap.ko bench/kbench/hmap_kbench.ko "$BUILD/bench/hmap_bench" "$job/"
	cp bench/job-bench.sh "$job/job.sh"
	echo "$mode" >"$job/mode"
	if [ $mode = cost ]; then
		args=(--icount)
	else
		args=(--smp 2)
	fi
	echo "Booting the VM for $mode (${args[*]})..." >&2
	scripts/vm.sh --timeout 1200 "${args[@]}" "bench-$mode" "$job" >&2
	grep -v -e '^JSON ' -e '^HMAP-VM-DONE' "$BUILD/vm/bench-$mode/results.log" |
		tee -a "$BUILD/bench/results.txt"
	echo
done
{
	echo "["
	cat "$BUILD"/vm/bench-*/results.log "$BUILD/ucore/results.json.lines" |
		sed -n 's/^JSON //p' | tr -d '\r' | paste -sd, -
	echo "]"
} >"$out"
echo "JSON: $out"
