#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: every selftest suite, each framed for scripts/tap-sum.awk.
run()
{
	name=$1
	shift
	echo "HMAP-SUITE $name"
	"$@"
	echo "HMAP-SUITE-END $name rc=$?"
}

run module_load sh /hmap/tests/module_load.sh
for t in /hmap/tests/*_test; do
	run "${t##*/}" "$t"
done
run module_unload sh /hmap/tests/module_unload.sh
