#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The main job: install what is missing, build everything, boot Debian's
# kernel in a VM, load hmap and show it working.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
export BUILD=${BUILD:-$(pwd)/build}
KVER=${KVER:-$(make -s print-kver)}
export KVER
make -s all >/dev/null
job=$BUILD/job-demo
rm -rf "$job"
mkdir -p "$job"
cp kmod/hmap.ko "$job/"
cp selftests/vm/job-demo.sh "$job/job.sh"
echo "Booting Debian $KVER under qemu (about 10 s)..."
rc=0
scripts/vm.sh --timeout 300 demo "$job" || rc=$?
grep -v '^HMAP-VM-DONE' "$BUILD/vm/demo/results.log" || true
exit $rc
