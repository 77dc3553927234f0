#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The userspace tools on this host, where the module is not loaded: hmapctl
# and libhmap must say that /dev/hmap is missing, not answer as if there
# were no maps (hmapctl list printing nothing, exit 0) or no such map
# (-ENOENT). Also the shared library's SONAME and symbol versions. Prints
# KTAP; the checks that need /dev/hmap absent are skipped where it exists.
#
#   make -s lib hmapctl && scripts/host-tools-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
. selftests/ktap.sh
BUILD=${BUILD:-$(pwd)/build}
ctl=$BUILD/bin/hmapctl
lib=$BUILD/lib
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
KTAP_SKIP=0

# ktap_skip DESCRIPTION REASON: one test, skipped.
ktap_skip()
{
	KTAP_N=$((KTAP_N + 1))
	KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_N $1 # SKIP $2"
}

# Runs hmapctl ARGS...: stdout to $tmp/out, stderr to $tmp/err, status $rc.
run()
{
	"$ctl" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# Shows what a failed check saw.
show()
{
	echo "# exit $rc"
	sed 's/^/# stdout: /' "$tmp/out"
	sed 's/^/# stderr: /' "$tmp/err"
}

# A failure that names the missing device: exit 1, one line on stderr.
says_no_device()
{
	[ $rc -eq 1 ] && grep -q "/dev/hmap" "$tmp/err" &&
		grep -q "ENODEV" "$tmp/err" &&
		grep -q "is the hmap module loaded?" "$tmp/err" &&
		[ "$(wc -l <"$tmp/err")" -eq 1 ]
}

list_fails()
{
	run list
	says_no_device && [ ! -s "$tmp/out" ] || { show; false; }
}

# -j: no "[]", but the error as a JSON object on stdout.
json_list_fails()
{
	run -j list
	says_no_device && grep -q '^{"error":".*","errno":"ENODEV"}$' "$tmp/out" &&
		[ "$(wc -l <"$tmp/out")" -eq 1 ] || { show; false; }
}

show_fails()
{
	run show name x
	says_no_device || { show; false; }
}

# --version and -V: exit 0, the three versions, the module not loaded.
version_says_not_loaded()
{
	run "$@"
	[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] &&
		grep -q '^hmapctl: [0-9]*\.[0-9]*\.[0-9]*$' "$tmp/out" &&
		grep -q '^libhmap: [0-9]*\.[0-9]*\.[0-9]*$' "$tmp/out" &&
		grep -qx 'module: not loaded (/dev/hmap missing)' "$tmp/out" &&
		[ "$(wc -l <"$tmp/out")" -eq 3 ] || { show; false; }
}

json_version_says_not_loaded()
{
	run -j --version
	[ $rc -eq 0 ] &&
		grep -q '^{"hmapctl":"[0-9.]*","libhmap":"[0-9.]*","module":null,"module_status":"not loaded (/dev/hmap missing)"}$' "$tmp/out" ||
		{ show; false; }
}

# A usage mistake before any verb: "hmapctl: ...", once, exit 2.
bad_option_one_prefix()
{
	run -K bad list
	[ $rc -eq 2 ] && grep -qx "hmapctl: -K: unknown type 'bad' (see 'hmapctl help')" "$tmp/err" ||
		{ show; false; }
}

# libhmap: every function that opens /dev/hmap returns -ENODEV, errno set.
# lib_enodev NAME CALL...: a program that makes each CALL, built against
# libhmap.a.
lib_enodev()
{
	local name=$1 call
	shift
	{
		cat <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <libhmap.h>

#define CHECK(call) do { \
	int r; \
	errno = 0; \
	r = (call); \
	if (r != -ENODEV || errno != ENODEV) { \
		printf("# %s: %d, errno %d, not -ENODEV\n", #call, r, errno); \
		bad = 1; \
	} \
} while (0)

int main(void)
{
	struct hmap_features f;
	__u32 id;
	int bad = 0;

	(void)f;
	(void)id;
EOF
		for call in "$@"; do
			echo "	CHECK($call);"
		done
		echo "	return bad;"
		echo "}"
	} >"$tmp/$name.c"
	${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -Iuapi -Iuserspace/include \
		-o "$tmp/$name" "$tmp/$name.c" "$lib/libhmap.a" 2>&1 | sed 's/^/# /'
	[ -x "$tmp/$name" ] && "$tmp/$name"
}

# The shared library: libhmap.so -> libhmap.so.0 -> libhmap.so.0.1.0 (the
# Makefile's LIBHMAP_VERSION), SONAME libhmap.so.0.
so_names()
{
	local v
	v=$(echo 'print-libhmap-version: ; @echo $(LIBHMAP_VERSION)' |
		make -s --no-print-directory -f Makefile -f - print-libhmap-version)
	[ -n "$v" ] || return 1
	[ -f "$lib/libhmap.so.$v" ] && [ ! -L "$lib/libhmap.so.$v" ] &&
		[ "$(readlink "$lib/libhmap.so.0")" = "libhmap.so.$v" ] &&
		[ "$(readlink "$lib/libhmap.so")" = "libhmap.so.0" ] &&
		readelf -d "$lib/libhmap.so.$v" | grep -q 'SONAME.*\[libhmap\.so\.0\]' ||
		{ echo "# version $v"; ls -l "$lib" | sed 's/^/# /'; false; }
}

# Every symbol it exports is hmap_*, every hmap_* function of libhmap.h is
# there, and at the version it came in: the mapped reader (hmap_mmap(),
# hmap_munmap(), hmap_mapped_*()) at LIBHMAP_0.2, all others at LIBHMAP_0.1,
# where programs linked before 0.2 look for them.
so_version_of()
{
	case "$1" in
	hmap_mmap|hmap_munmap|hmap_mapped_*) echo LIBHMAP_0.2 ;;
	*) echo LIBHMAP_0.1 ;;
	esac
}

so_exports()
{
	local so=$lib/libhmap.so.0 defined bad want missing
	defined=$(readelf --dyn-syms -W "$so" |
		awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && $8 != "" { print $8 }')
	bad=$(echo "$defined" | grep -v '^hmap_[a-z_]*@@LIBHMAP_0\.[12]$' |
		grep -vx 'LIBHMAP_0\.[12]')
	want=$(grep -E '^[a-z_].*[ *]hmap_[a-z_]+\(' userspace/include/libhmap.h |
		grep -v '^static' | grep -oE 'hmap_[a-z_]+\(' | tr -d '(' | sort -u)
	missing=$(for f in $want; do
		echo "$defined" | grep -qx "$f@@$(so_version_of "$f")" || echo "$f"
	done)
	[ -n "$defined" ] && [ -z "$bad" ] && [ -z "$missing" ] &&
		echo "$want" | grep -qx hmap_mapped_buckets ||
		{ echo "$bad" | sed 's/^/# exported: /'; echo "$missing" | sed 's/^/# missing: /'; false; }
}

ktap_check "libhmap.so exports hmap_* only, at LIBHMAP_0.1 and 0.2" so_exports
ktap_totals | sed "s/ skip:0 / skip:$KTAP_SKIP /"
exit "${PIPESTATUS[0]}"
