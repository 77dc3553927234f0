#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: every selftest suite, each framed for scripts/tap-sum.awk.
[ -e /hmap/env ] && . /hmap/env
[ -n "${HMAP_STRESS_SECONDS:-}" ] || unset HMAP_STRESS_SECONDS

# /hmap/suites, when present, names the only suites to run (mutation checks).
only=$(cat /hmap/suites 2>/dev/null)

run()
{
	name=$1
	shift
	if [ -n "$only" ] && [ "$name" != module_load ] &&
	   ! echo " $only " | grep -q " ${name%-uid1000} "; then
		return
	fi
	echo "HMAP-SUITE $name"
	t0=$(date +%s)
	"$@"
	rc=$?
	echo "# time: $name $(($(date +%s) - t0)) s"
	echo "HMAP-SUITE-END $name rc=$rc"
}

# Suites that also run as an unprivileged user, with /dev/hmap opened up.
UNPRIV="map_test libhmap_test shared_cache_test"

export PATH="/hmap/tests:$PATH"
kml=/sys/kernel/debug/kmemleak
# Only leaks that appear from here on count: forget what boot left behind.
if [ -e $kml ]; then
	echo scan >$kml
	echo clear >$kml
fi
run module_load sh /hmap/tests/module_load.sh
# Unloads and reloads the module: before any other suite leaves a map.
run save_load sh /hmap/tests/save_load_test.sh
for t in /hmap/tests/*_test; do
	run "${t##*/}" "$t"
done
chmod 0666 /dev/hmap
for t in $UNPRIV; do
	run "$t-uid1000" /hmap/tests/runas 1000 1000 "/hmap/tests/$t"
done
chmod 0600 /dev/hmap
run readme_test sh /hmap/tests/readme_test.sh
# The ioctl fuzzer, last: it lowers the module's limits while it runs.
run hmap_fuzz /hmap/tests/hmap_fuzz
run module_unload sh /hmap/tests/module_unload.sh
[ -e $kml ] && run kmemleak sh /hmap/tests/kmemleak.sh
