#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM, last: a live map keeps the module loaded; once every map is gone
# every counter balances, rmmod succeeds and leaves nothing.
. /hmap/tests/ktap.sh
stats=/sys/kernel/debug/hmap/stats

stat_of() { sed -n "s/^$1:[[:space:]]*//p" $stats; }

# The frees run a grace period after the last reference: give them a moment.
settled()
{
	i=0
	while [ $i -lt 50 ]; do
		[ "$(stat_of maps_freed)" = "$(stat_of maps_created)" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

ktap_plan 11
ktap_check "a published map with no fd" \
	hmapctl create unload_test key 4 value 4 entries 4
ktap_check "rmmod refused while it exists" sh -c "! rmmod hmap 2>/dev/null"
ktap_check "module still loaded" test -c /dev/hmap
ktap_check "unpublish" hmapctl unpublish unload_test
ktap_check "every map released and freed" settled
ktap_check "no map live" test "$(stat_of maps_live)" = 0
ktap_check "every byte given back" test "$(stat_of bytes_used)" = 0
ktap_check "rmmod hmap" rmmod hmap
ktap_check "/dev/hmap is gone" test ! -e /dev/hmap
ktap_check "/sys/module/hmap is gone" test ! -d /sys/module/hmap
ktap_check "module said it unloaded" sh -c "dmesg | grep -q 'hmap: unloaded'"
ktap_totals
