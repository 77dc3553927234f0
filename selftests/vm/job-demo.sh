#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: load the module and show it.
set -e
echo "# insmod /hmap/hmap.ko"
insmod /hmap/hmap.ko
echo "# ls -l /dev/hmap"
ls -l /dev/hmap
echo "# grep hmap /proc/modules"
grep hmap /proc/modules
echo "# dmesg | grep hmap:"
dmesg | grep 'hmap:'
