#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: install what is missing, build, boot Debian's kernel in a
# VM, load hmap, and show two users sharing a map through it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
make -s module lib hmapctl selftests >/dev/null
job=$BUILD/job-demo
rm -rf "$job"
mkdir -p "$job/bin"
cp kmod/hmap.ko "$job/"
cp "$BUILD/selftests/hmapctl" "$BUILD/selftests/runas" "$job/bin/"
# The README's library example, as the demo's second program.
scripts/readme-extract.sh "$BUILD/readme"
${CC:-cc} -static -O2 -Iuapi -Iuserspace/include -o "$job/bin/scores" \
	"$BUILD/readme/scores.c" "$BUILD/lib/libhmap.a"
cp selftests/vm/job-demo.sh "$job/job.sh"
echo "Booting Debian $KVER under qemu (about 10 s)..."
rc=0
scripts/vm.sh --timeout 300 demo "$job" || rc=$?
grep -v '^HMAP-VM-DONE' "$BUILD/vm/demo/results.log" || true
exit $rc
