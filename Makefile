# SPDX-License-Identifier: GPL-2.0
#
# Top-level build. `make` builds the module against the newest installed
# Debian amd64 headers (or KDIR=...), plus libhmap, hmapctl and the tests.

# Kernel the module is built for and that the test VM boots.
KVER ?= $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | \
		sed 's|.*/linux-headers-||' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build

export KVER KDIR BUILD

.PHONY: all module modules_install clean

all: module

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf $(BUILD)
