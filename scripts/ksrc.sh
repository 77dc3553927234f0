#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extracts the few files the project uses from Debian's linux-source-6.1
# tarball into $BUILD/ksrc: the kselftest harness, the kselftest build and
# runner (tools/testing/selftests/Makefile, lib.mk, kselftest/, run_kselftest.sh,
# for scripts/kselftest-check.sh) and checkpatch.
#
# Idempotent and cheap when up to date: $BUILD/ksrc/.done holds the list of
# files extracted, and the tarball is only read again when that list
# changed or a file is missing. Files are extracted beside the tree and
# renamed into place, so a build reading the harness meanwhile never sees
# it half written.
set -euo pipefail

BUILD=${BUILD:-$(pwd)/build}
tarball=/usr/src/linux-source-6.1.tar.xz
out=$BUILD/ksrc
stamp=$out/.done
files=(
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest.h
	tools/testing/selftests/Makefile
	tools/testing/selftests/lib.mk
	tools/testing/selftests/run_kselftest.sh
	tools/testing/selftests/kselftest/runner.sh
	tools/testing/selftests/kselftest/prefix.pl
	tools/testing/selftests/kselftest/module.sh
	scripts/subarch.include
	scripts/checkpatch.pl
	scripts/kernel-doc
	scripts/spelling.txt
	scripts/const_structs.checkpatch
)
list=$(printf '%s\n' "${files[@]}")

up_to_date()
{
	local f
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$list" ] || return 1
	for f in "${files[@]}"; do
		[ -e "$out/$f" ] || return 1
	done
}

up_to_date && exit 0
if [ ! -f "$tarball" ]; then
	echo "ksrc: $tarball missing (package linux-source-6.1)" >&2
	exit 1
fi
mkdir -p "$out"
tmp=$(mktemp -d "$BUILD/.ksrc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$tarball" -C "$tmp" --strip-components=1 \
	"${files[@]/#/linux-source-6.1/}"
for f in "${files[@]}"; do
	if ! cmp -s "$tmp/$f" "$out/$f"; then
		mkdir -p "$(dirname "$out/$f")"
		mv -f "$tmp/$f" "$out/$f"
	fi
done
echo "$list" >"$stamp.tmp"
mv -f "$stamp.tmp" "$stamp"
