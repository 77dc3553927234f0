#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: load hmap and run the benchmark named in /hmap/mode; in the
# icount boot, also the in-kernel comparison with rhashtable, which prints
# its figures when it loads.
insmod /hmap/hmap.ko || exit 1
mode=$(cat /hmap/mode)
/hmap/hmap_bench "$mode"
if [ "$mode" = cost ]; then
	for f in object_size slab_size aliases; do
		printf '  slab hmap-48 (an 8/8 element) %s: %s\n' $f "$(cat /sys/kernel/slab/hmap-48/$f 2>/dev/null)"
	done
	echo "In-kernel, core against rhashtable, u64 keys and values, 65536 entries:"
	insmod /hmap/hmap_kbench.ko && rmmod hmap_kbench
	dmesg | sed -n 's/^.*KBENCH /  /p'
	dmesg | sed -n 's/^.*KBENCH \([a-z]*\) *hmap *\([0-9]*\) *rhashtable *\([0-9]*\).*/JSON {"metric":"kernel_\1","size":"8\/8","value":\2}\nJSON {"metric":"rhashtable_\1","size":"8\/8","value":\3}/p'
fi
