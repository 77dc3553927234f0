#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: the module loads, honours dev_mode, refuses a bad one, unloads,
# and is left loaded with the default mode for the suites after this one.
. /hmap/tests/ktap.sh
ko=/hmap/hmap.ko

mode_is() { [ "$(stat -c '%a %u %g %F' /dev/hmap)" = "$1 0 0 character special file" ]; }
gone() { [ ! -e /dev/hmap ] && [ ! -d /sys/module/hmap ]; }

ktap_plan 11
ktap_check "insmod dev_mode=0660" insmod $ko dev_mode=0660
ktap_check "/dev/hmap is a root char device, mode 660" mode_is 660
ktap_check "rmmod" rmmod hmap
ktap_check "rmmod removed /dev/hmap and the module" gone
ktap_check "insmod rejects dev_mode=01777" sh -c "! insmod $ko dev_mode=01777 2>/dev/null"
ktap_check "nothing left after the rejected load" gone
# Execute bits mean nothing on a device: 0666 at most.
ktap_check "insmod rejects dev_mode=0777" sh -c "! insmod $ko dev_mode=0777 2>/dev/null"
ktap_check "nothing left after the rejected load" gone
ktap_check "insmod with defaults" insmod $ko
ktap_check "/dev/hmap default mode is 600" mode_is 600
ktap_check "MODULE_VERSION: /sys/module/hmap/version" \
	sh -c 'grep -qE "^[0-9]+\.[0-9]+\.[0-9]+$" /sys/module/hmap/version'
ktap_totals
