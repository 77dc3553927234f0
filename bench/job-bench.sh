#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: load hmap and run the benchmark named in /hmap/mode.
insmod /hmap/hmap.ko || exit 1
/hmap/hmap_bench "$(cat /hmap/mode)"
