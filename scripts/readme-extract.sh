#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extracts the README's tested examples into a folder: the fenced block after
# each "<!-- readme-test: FILE -->" line is written to FILE. Transcripts
# (*.txt) are run in the VM by selftests/readme_test.sh; C files are built
# against libhmap by scripts/test.sh.
set -euo pipefail
out=$1
mkdir -p "$out"
awk -v out="$out" '
/^<!-- readme-test: [^ ]+ -->$/ { file = out "/" $3; want = 1; next }
want && /^```/ { want = 0; copying = 1; printf "" > file; next }
copying && /^```/ { copying = 0; close(file); next }
copying { print >> file }
' README.md
