# SPDX-License-Identifier: GPL-2.0
# Sourced by the entry scripts: installs what is missing, then sets BUILD
# and KVER (the kernel the module is built for and the VM boots).
scripts/deps.sh || exit 1
export BUILD=${BUILD:-$(pwd)/build}
KVER=${KVER:-$(make -s print-kver)}
export KVER
