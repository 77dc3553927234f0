#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Assembles the VM test job: job.sh KO NAME [SUITE...] puts the module, the
# selftest programs and scripts and the README examples into $BUILD/job-NAME
# and prints that path. With SUITEs, the guest runs only those.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-$(pwd)/build}
ko=$1 name=$2
shift 2
job=$BUILD/job-$name
rm -rf "$job"
mkdir -p "$job/tests"
cp "$ko" "$job/hmap.ko"
cp "$BUILD"/selftests/* selftests/*.sh "$job/tests/"
cp selftests/vm/job-test.sh "$job/job.sh"
cp -r "$BUILD/readme" "$job/readme"
[ $# -eq 0 ] || echo "$*" >"$job/suites"
# Settings the guest's suites read, passed on from this environment.
echo "export HMAP_STRESS_SECONDS=${HMAP_STRESS_SECONDS:-}" >"$job/env"
echo "export HMAP_SEED=${HMAP_SEED:-} HMAP_MODEL_OPS=${HMAP_MODEL_OPS:-}" >>"$job/env"
echo "export HMAP_FUZZ_SECONDS=${HMAP_FUZZ_SECONDS:-} HMAP_FUZZ_EXECS=${HMAP_FUZZ_EXECS:-} HMAP_FUZZ_SEED=${HMAP_FUZZ_SEED:-}" >>"$job/env"
echo "$job"
