#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM, after everything else and the unload: no unreferenced object
# appeared while the suites ran (kmemleak, on the debug kernel).
. /hmap/tests/ktap.sh
kml=/sys/kernel/debug/kmemleak

# kmemleak reports an object only once it is older than 5 s, and only after
# a scan has found it unreferenced twice.
sleep 6
echo scan >$kml
sleep 1
echo scan >$kml
cat $kml >/tmp/kmemleak.txt
ktap_plan 1
if [ -s /tmp/kmemleak.txt ]; then
	sed 's/^/# /' /tmp/kmemleak.txt | head -n 80
fi
ktap_check "no memory leak reported by kmemleak" test ! -s /tmp/kmemleak.txt
ktap_totals
