#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: load hmap; user 1000 (alice) creates, publishes and fills a map
# with hmapctl; user 1001 (bob) opens it by name and reads it back, through
# hmapctl and through a libhmap program.
export PATH="/hmap/bin:$PATH"
as() { who=$1; shift; echo "$who\$ $*"; runas "$(id -u "$who")" "$(id -g "$who")" "$@" 2>&1; }

echo "# insmod hmap.ko dev_mode=0666"
insmod /hmap/hmap.ko dev_mode=0666 || exit 1
ls -l /dev/hmap
echo
as hmapuser hmapctl create scores key 16 value 8 entries 1024 mode 0644
as hmapuser hmapctl update name scores key string ada value u64 36
as hmapuser hmapctl update name scores key string grace value u64 85
as hmapuser hmapctl update name scores key string linus value u64 91
echo
as hmapother hmapctl -K string -V u64 dump name scores
as hmapother hmapctl -K string -V u64 lookup name scores key string grace
as hmapother hmapctl update name scores key string eve value u64 1
as hmapother hmapctl show name scores
echo
cd /hmap/bin
as hmapother ./scores get linus
as hmapuser ./scores put linus 92
as hmapother ./scores get linus
echo
echo "# cat /sys/kernel/debug/hmap/maps"
cat /sys/kernel/debug/hmap/maps
as hmapuser hmapctl unpublish scores
