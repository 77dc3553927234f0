#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extracts the few files the project uses from Debian's linux-source-6.1
# tarball (kselftest harness, checkpatch) into $BUILD/ksrc, once.
set -euo pipefail

BUILD=${BUILD:-$(pwd)/build}
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
out=$BUILD/ksrc
stamp=$out/.done

[ -f "$stamp" ] && exit 0
if [ -z "$tarball" ]; then
	echo "ksrc: /usr/src/linux-source-6.1.tar.xz missing (package linux-source-6.1)" >&2
	exit 1
fi
mkdir -p "$out"
tar -xJf "$tarball" -C "$out" --strip-components=1 \
	linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
	linux-source-6.1/tools/testing/selftests/kselftest.h \
	linux-source-6.1/scripts/checkpatch.pl \
	linux-source-6.1/scripts/spelling.txt \
	linux-source-6.1/scripts/const_structs.checkpatch
touch "$stamp"
