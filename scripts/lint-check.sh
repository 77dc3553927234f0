#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Static checks of the module beyond checkpatch, as KTAP: sparse (C=2)
# with no warning, the core's exports confined to their symbol namespace,
# no deprecated idr in new code, and no build product tracked by git.
# Run from the repository root after `make module`.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
. selftests/ktap.sh

out=$BUILD/results/sparse.out
mkdir -p "$(dirname "$out")"

sparse_clean()
{
	# C=2 checks every file, built or not; a fresh object dir for it.
	make -C "${KDIR:-/lib/modules/$KVER/build}" M="$PWD" C=2 modules >"$out" 2>&1 || return 1
	! grep -E 'warning:|error:' "$out" | grep -v 'Skipping BTF' | sed 's/^/# /' | grep .
}

# Module.symvers: "crc symbol module export namespace"; every hmap export
# must be in HMAP_CORE, which only the in-kernel bench imports.
exports_namespaced()
{
	local n bad

	n=$(awk -F'\t' '$3 ~ /kmod\/hmap$|\/hmap$/' Module.symvers | wc -l)
	bad=$(awk -F'\t' '$3 ~ /kmod\/hmap$|\/hmap$/ && $5 != "HMAP_CORE"' Module.symvers)
	echo "# $n exports"
	[ "$n" -gt 0 ] && [ -z "$bad" ] || { echo "$bad" | sed 's/^/# /'; false; }
}

no_idr()
{
	! grep -nE '\<idr_[a-z_]+\(|DEFINE_IDR|<linux/idr\.h>' kmod/*.c kmod/*.h | sed 's/^/# /' | grep .
}

# What .gitignore ignores must not be tracked (a committed .o.d with the
# builder's absolute paths in it, deleted by `make clean`).
no_tracked_products()
{
	[ -d .git ] || { echo "# not a git checkout"; return 0; }
	! git ls-files -ci --exclude-standard | sed 's/^/# tracked: /' | grep .
}

# kernel-doc on the uapi and on every kernel source: no warning, and at
# least one documented item per file, so that the check cannot pass on
# nothing.
kernel_doc_clean()
{
	local f out n
	out=$(perl "$BUILD/ksrc/scripts/kernel-doc" -none uapi/linux/hmap.h \
		kmod/hmap_*.c kmod/hmap_*.h 2>&1)
	[ -z "$out" ] || { echo "$out" | sed 's/^/# /'; return 1; }
	n=$(perl "$BUILD/ksrc/scripts/kernel-doc" -sphinx-version 3.0 -rst \
		uapi/linux/hmap.h 2>/dev/null | grep -c '^\.\. c:')
	echo "# $n documented items in the uapi"
	[ "$n" -ge 40 ]
}

ktap_plan 5
ktap_check "sparse (make C=2): no warnings" sparse_clean
ktap_check "core exports only in the HMAP_CORE namespace" exports_namespaced
ktap_check "no idr (deprecated for new code: XArray)" no_idr
ktap_check "no build product tracked by git" no_tracked_products
ktap_check "kernel-doc: uapi and kernel sources without warnings" kernel_doc_clean
ktap_totals
