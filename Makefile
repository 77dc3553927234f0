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

CORE_SRCS := kmod/hmap_table.c kmod/hmap_lru.c userspace/shim/shim.c
CORE_HDRS := kmod/hmap_table.h kmod/hmap_lru.h uapi/linux/hmap.h $(wildcard userspace/shim/*.h userspace/shim/linux/*.h)
# The fast loop: the real core, in userspace, under ASan and UBSan.
CORE_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-Iuserspace/shim -Iuapi -Ikmod -I$(KSFT)
CORE_TESTS := $(BUILD)/core/core_test $(BUILD)/core/core_stress

# libhmap: shared and static, plus what `make install` puts in place.
LIB_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -fPIC -Iuapi -Iuserspace/include
LIBHMAP_VERSION := 0.1.0
LIBHMAP_SONAME := libhmap.so.0
LIBHMAP_A := $(BUILD)/lib/libhmap.a
LIBHMAP_SO := $(BUILD)/lib/$(LIBHMAP_SONAME)
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

.PHONY: all module lib hmapctl install bench core-tests selftests test demo shell ksrc clean print-kver fuzz

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

lib: $(LIBHMAP_A) $(LIBHMAP_SO)

$(BUILD)/lib/libhmap.o: userspace/lib/libhmap.c $(LIB_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -c -o $@ $<

$(LIBHMAP_A): $(BUILD)/lib/libhmap.o
	rm -f $@
	$(AR) rcs $@ $^

$(LIBHMAP_SO): $(BUILD)/lib/libhmap.o
	$(CC) -shared -Wl,-soname,$(LIBHMAP_SONAME) -o $@ $^
	ln -sf $(LIBHMAP_SONAME) $(BUILD)/lib/libhmap.so

hmapctl: $(HMAPCTL)

$(HMAPCTL): userspace/hmapctl/hmapctl.c $(LIB_HDRS) $(LIBHMAP_A)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -D_GNU_SOURCE -o $@ $< $(LIBHMAP_A)

# The VM has no libc: a static build of the same program.
$(BUILD)/selftests/hmapctl: userspace/hmapctl/hmapctl.c $(LIB_HDRS) $(LIBHMAP_A)
	@mkdir -p $(dir $@)
	$(CC) $(LIB_CFLAGS) -D_GNU_SOURCE -static -o $@ $< $(LIBHMAP_A)

$(BUILD)/lib/libhmap.pc: userspace/lib/libhmap.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(LIBHMAP_VERSION)|' $< >$@

install: lib hmapctl $(BUILD)/lib/libhmap.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(BINDIR)
	install -m 0644 $(LIBHMAP_A) $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIBHMAP_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(LIBHMAP_SONAME) $(DESTDIR)$(LIBDIR)/libhmap.so
	install -m 0644 $(BUILD)/lib/libhmap.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 0644 userspace/include/libhmap.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 uapi/linux/hmap.h $(DESTDIR)$(INCLUDEDIR)/linux/
	install -m 0755 $(HMAPCTL) $(DESTDIR)$(BINDIR)/

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
