#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the VM with hmap loaded and gives an interactive shell on this
# terminal. Leave with 'poweroff -f', or Ctrl-A X.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
make -s module lib hmapctl selftests >/dev/null
job=$BUILD/job-shell
rm -rf "$job"
mkdir -p "$job/bin"
cp kmod/hmap.ko "$job/"
cp "$BUILD"/selftests/* "$job/bin/"
cp selftests/vm/job-shell.sh "$job/job.sh"
exec scripts/vm.sh --interactive shell "$job"
