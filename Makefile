# SPDX-License-Identifier: GPL-2.0
#
# Top-level build.
#   make              module (kmod/hmap.ko), core tests, VM selftests
#   make test         everything the README test command runs
#   make demo         boot the VM, load the module, show it working
#   make shell        boot the VM with the module loaded, interactive
#   make fuzz         >= 1,000,000 KCOV-guided ioctls on the debug kernel
#
# The module is built against the newest installed Debian amd64 headers,
# which is also the kernel the VM boots; override with KDIR=/path/to/build
# (and KVER=) to build for another kernel, e.g. the running one.

KVER ?= $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | \
		sed 's|.*/linux-headers-||' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build
KSFT := $(BUILD)/ksrc/tools/testing/selftests

export KVER KDIR BUILD

# The project's one version: the dkms package (/usr/src/hmap-$(VERSION)),
# libhmap's pkg-config file. The module reports HMAP_VERSION_STRING from
# kmod/hmap_priv.h; scripts/deploy-check.sh checks it and dkms.conf agree.
VERSION := 0.1.0

CORE_SRCS := kmod/hmap_table.c kmod/hmap_image.c kmod/hmap_lru.c userspace/shim/shim.c
CORE_HDRS := kmod/hmap_table.h kmod/hmap_image.h kmod/hmap_lru.h uapi/linux/hmap.h $(wildcard userspace/shim/*.h userspace/shim/linux/*.h)
# The fast loop: the real core, in userspace, under ASan and UBSan.
CORE_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Iuserspace/shim -Iuapi -Ikmod -I$(KSFT)
CORE_TESTS := $(BUILD)/core/core_test $(BUILD)/core/core_stress $(BUILD)/core/core_image

# libhmap: shared and static, plus what `make install` puts in place.
LIB_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -fPIC -Iuapi -Iuserspace/include
LIBHMAP_VERSION := $(VERSION)
LIBHMAP_SONAME := libhmap.so.0
LIBHMAP_A := $(BUILD)/lib/libhmap.a
# The real file, libhmap.so.MAJOR.MINOR.PATCH; LIBHMAP_SO, the soname, and
# libhmap.so (for -lhmap) are symbolic links to it. Only hmap_* is exported,
# at the symbol versions of libhmap.map.
LIBHMAP_SO := $(BUILD)/lib/$(LIBHMAP_SONAME)
LIBHMAP_SO_FILE := $(BUILD)/lib/libhmap.so.$(LIBHMAP_VERSION)
LIBHMAP_MAP := userspace/lib/libhmap.map
LIB_HDRS := userspace/include/libhmap.h uapi/linux/hmap.h

# Test programs run inside the VM: static, no libraries there.
SELFTEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -D_GNU_SOURCE -static -pthread -Iuapi -Iuserspace/include -I$(KSFT)
SELFTEST_SRCS := $(wildcard selftests/*_test.c)
SELFTESTS := $(patsubst selftests/%.c,$(BUILD)/selftests/%,$(SELFTEST_SRCS)) \
	$(BUILD)/selftests/runas $(BUILD)/selftests/hmapctl \
	$(BUILD)/selftests/hmap_fuzz

HMAPCTL := $(BUILD)/bin/hmapctl
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# Whichever of the pages exist; each goes to man<section>.
MANPAGES := $(wildcard man/hmap.4 man/libhmap.3 man/hmapctl.8)

# Module-side files: `make install-module` (root), never `make install`.
UDEVRULESDIR ?= /etc/udev/rules.d
MODULESLOADDIR ?= /etc/modules-load.d
MODPROBEDIR ?= /etc/modprobe.d
SYSUSERSDIR ?= /etc/sysusers.d
# `make modules_install`: the root modules go under (INSTALL_MOD_PATH, else
# DESTDIR, else /), in lib/modules/$(KVER)/$(INSTALL_MOD_DIR).
INSTALL_MOD_DIR ?= extra
MOD_ROOT := $(abspath $(or $(INSTALL_MOD_PATH),$(DESTDIR)))
# `make dkms-install`: the kernels to build for, by default every one whose
# headers are installed (the running kernel may have none).
DKMS_SRC := /usr/src/hmap-$(VERSION)
DKMS_KVERS ?= $(patsubst /lib/modules/%/build/Makefile,%,$(wildcard /lib/modules/*/build/Makefile))

.PHONY: all module lib hmapctl install bench core-tests selftests test demo shell ksrc clean print-kver fuzz
.PHONY: modules_install install-module dkms-install dkms-remove deploy-check

all: module lib hmapctl core-tests selftests

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

$(BUILD)/ksrc/.done:
	scripts/ksrc.sh

ksrc: $(BUILD)/ksrc/.done

core-tests: $(CORE_TESTS)

$(BUILD)/core/%: userspace/tests/%.c userspace/tests/core_common.h $(CORE_SRCS) $(CORE_HDRS) | ksrc
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -o $@ $< $(CORE_SRCS) -lurcu-memb -lpthread

# The image of a mapped map, read by libhmap's own reader.
$(BUILD)/core/core_image: userspace/tests/core_image.c userspace/tests/core_common.h \
		userspace/lib/mapped.c userspace/lib/mapped.h userspace/lib/mapped_walk.h \
		$(CORE_SRCS) $(CORE_HDRS) | ksrc
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -o $@ $< $(CORE_SRCS) userspace/lib/mapped.c -lurcu-memb -lpthread

lib: $(LIBHMAP_A) $(LIBHMAP_SO)

# mapped.c is the lock-free reader of mapped images, on its own so that the
# core's userspace tests can build it too (mapped.h: <linux/hmap.h> only).
LIB_OBJS := $(BUILD)/lib/libhmap.o $(BUILD)/lib/mapped.o

$(BUILD)/lib/libhmap.o: userspace/lib/libhmap.c userspace/lib/mapped.h userspace/lib/mapped_walk.h $(LIB_HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -DLIBHMAP_VERSION='"$(LIBHMAP_VERSION)"' -c -o $@ $<

$(BUILD)/lib/mapped.o: userspace/lib/mapped.c userspace/lib/mapped.h userspace/lib/mapped_walk.h uapi/linux/hmap.h Makefile
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(LIBHMAP_A): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(LIBHMAP_SO_FILE): $(LIB_OBJS) $(LIBHMAP_MAP)
	$(CC) -shared -Wl,-soname,$(LIBHMAP_SONAME) \
		-Wl,--version-script=$(LIBHMAP_MAP) -Wl,-z,defs -o $@ $(LIB_OBJS)

$(LIBHMAP_SO): $(LIBHMAP_SO_FILE)
	ln -sf $(notdir $<) $@
	ln -sf $(LIBHMAP_SONAME) $(BUILD)/lib/libhmap.so

hmapctl: $(HMAPCTL)

HMAPCTL_CFLAGS := $(LIB_CFLAGS) -D_GNU_SOURCE -DHMAPCTL_VERSION='"$(VERSION)"'

$(HMAPCTL): userspace/hmapctl/hmapctl.c $(LIB_HDRS) $(LIBHMAP_A)
	@mkdir -p $(dir $@)
	$(CC) $(HMAPCTL_CFLAGS) -o $@ $< $(LIBHMAP_A)

# The VM has no libc: a static build of the same program.
$(BUILD)/selftests/hmapctl: userspace/hmapctl/hmapctl.c $(LIB_HDRS) $(LIBHMAP_A)
	@mkdir -p $(dir $@)
	$(CC) $(HMAPCTL_CFLAGS) -static -o $@ $< $(LIBHMAP_A)

$(BUILD)/lib/libhmap.pc: userspace/lib/libhmap.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(LIBHMAP_VERSION)|' $< >$@

install: lib hmapctl $(BUILD)/lib/libhmap.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(BINDIR)
	install -m 0644 $(LIBHMAP_A) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIBHMAP_SO_FILE) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIBHMAP_SO_FILE)) $(DESTDIR)$(LIBDIR)/$(LIBHMAP_SONAME)
	ln -sf $(LIBHMAP_SONAME) $(DESTDIR)$(LIBDIR)/libhmap.so
	install -m 0644 $(BUILD)/lib/libhmap.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 userspace/include/libhmap.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 uapi/linux/hmap.h $(DESTDIR)$(INCLUDEDIR)/linux/
	install -m 0755 $(HMAPCTL) $(DESTDIR)$(BINDIR)/
	for m in $(MANPAGES); do \
		d=$(DESTDIR)$(MANDIR)/man$${m##*.}; \
		install -d $$d && install -m 0644 $$m $$d/ || exit 1; \
	done

# The module into lib/modules/$(KVER)/$(INSTALL_MOD_DIR)/kmod/hmap.ko under
# MOD_ROOT, then depmod: of the live system, or (-b) of the staging root.
# Signed only if the kernel tree has its signing key (a self-built kernel):
# Debian's headers have none (dkms signs with its own MOK key instead).
modules_install: module
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_PATH=$(MOD_ROOT) \
		INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) \
		$(if $(wildcard $(KDIR)/certs/signing_key.x509),,CONFIG_MODULE_SIG_ALL=) \
		modules_install
ifeq ($(MOD_ROOT),)
	depmod -a $(KVER)
else
	depmod -b $(MOD_ROOT) -a $(KVER)
endif

# Module-side configuration (root, or DESTDIR for packaging): udev rule,
# boot-time load, commented parameters, the hmap group. An existing
# modprobe.d/hmap.conf is the admin's: kept, the new one goes beside it.
install-module:
	install -d $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(MODULESLOADDIR) \
		$(DESTDIR)$(MODPROBEDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 0644 deploy/60-hmap.rules $(DESTDIR)$(UDEVRULESDIR)/60-hmap.rules
	install -m 0644 deploy/hmap-modules-load.conf $(DESTDIR)$(MODULESLOADDIR)/hmap.conf
	install -m 0644 deploy/hmap-sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/hmap.conf
	f=$(DESTDIR)$(MODPROBEDIR)/hmap.conf; \
	if [ -e $$f ] && ! cmp -s deploy/hmap-modprobe.conf $$f; then \
		install -m 0644 deploy/hmap-modprobe.conf $$f.new; \
		echo "install-module: kept $$f, new example in $$f.new"; \
	else \
		install -m 0644 deploy/hmap-modprobe.conf $$f; \
	fi
ifeq ($(DESTDIR),)
	systemd-sysusers $(SYSUSERSDIR)/hmap.conf || getent group hmap >/dev/null || groupadd -r hmap
	-udevadm control --reload 2>/dev/null
endif

# DKMS (root): the module sources, and nothing else, into $(DKMS_SRC), then
# built and installed for each of $(DKMS_KVERS); again on every new kernel.
# Re-running replaces an earlier install of the same version.
dkms-install:
	@[ -n "$(DKMS_KVERS)" ] || { echo "dkms-install: no kernel headers in /lib/modules/*/build" >&2; exit 1; }
	if dkms status -m hmap -v $(VERSION) | grep -q .; then dkms remove -m hmap -v $(VERSION) --all; fi
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)/kmod $(DKMS_SRC)/uapi/linux
	install -m 0644 Kbuild $(DKMS_SRC)/
	install -m 0644 kmod/Kbuild $(filter-out %.mod.c,$(wildcard kmod/*.c)) \
		$(wildcard kmod/*.h) $(DKMS_SRC)/kmod/
	install -m 0644 $(wildcard uapi/linux/*.h) $(DKMS_SRC)/uapi/linux/
	sed 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="$(VERSION)"/' dkms.conf >$(DKMS_SRC)/dkms.conf
	dkms add -m hmap -v $(VERSION)
	for k in $(DKMS_KVERS); do \
		dkms build -m hmap -v $(VERSION) -k $$k && \
		dkms install -m hmap -v $(VERSION) -k $$k || exit 1; \
	done

dkms-remove:
	if dkms status -m hmap -v $(VERSION) | grep -q .; then dkms remove -m hmap -v $(VERSION) --all; fi
	rm -rf $(DKMS_SRC)

# Root, on this host: the targets above, for real (scripts/deploy-check.sh).
deploy-check:
	scripts/deploy-check.sh

selftests: $(SELFTESTS)

$(BUILD)/selftests/%: selftests/%.c $(wildcard selftests/*.h) $(LIB_HDRS) $(LIBHMAP_A) | ksrc
	@mkdir -p $(dir $@)
	$(CC) $(SELFTEST_CFLAGS) -o $@ $< $(LIBHMAP_A) -lm

# The KCOV-guided ioctl fuzzer: not a *_test, job-test.sh runs it last.
$(BUILD)/selftests/hmap_fuzz: selftests/fuzz/hmap_fuzz.c uapi/linux/hmap.h | ksrc
	@mkdir -p $(dir $@)
	$(CC) $(SELFTEST_CFLAGS) -o $@ $<

test:
	scripts/test.sh

fuzz:
	scripts/fuzz.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

shell: all
	scripts/shell.sh

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf $(BUILD)

print-kver:
	@echo $(KVER)
