#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# module-src.sh DIR: a clean copy of the module's sources in DIR, for an
# out-of-tree build against another kernel tree (Kbuild builds in place,
# so the stock build's objects must not come along).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
rm -rf "$dir"
mkdir -p "$dir/kmod" "$dir/uapi/linux"
cp Kbuild "$dir/"
cp kmod/Kbuild $(ls kmod/*.[ch] | grep -v '\.mod\.c$') "$dir/kmod/"
cp uapi/linux/hmap.h "$dir/uapi/linux/"
