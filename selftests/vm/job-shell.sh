#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: load the module and hand the console to an interactive shell.
insmod /hmap/hmap.ko dev_mode=0666
echo "hmap loaded: /dev/hmap is ready. 'poweroff -f' (or exit) leaves the VM."
setsid cttyhack sh -l
