#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: load the module and hand the console to an interactive shell.
export PATH="/hmap/bin:$PATH"
insmod /hmap/hmap.ko dev_mode=0666
echo "hmap loaded: /dev/hmap is ready, hmapctl is on the PATH."
echo "Users: hmapuser (1000), hmapother (1001): try 'runas 1000 1000 hmapctl ...'."
echo "'poweroff -f' leaves the VM."
setsid cttyhack sh -l
