#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM, last: with every map closed, rmmod succeeds and leaves nothing.
. /hmap/tests/ktap.sh

ktap_plan 4
ktap_check "rmmod hmap" rmmod hmap
ktap_check "/dev/hmap is gone" test ! -e /dev/hmap
ktap_check "/sys/module/hmap is gone" test ! -d /sys/module/hmap
ktap_check "module said it unloaded" sh -c "dmesg | grep -q 'hmap: unloaded'"
ktap_totals
