# SPDX-License-Identifier: GPL-2.0-or-later
#
# The embedded guest: build/guest/{guest.qcow2,vmlinuz,initrd.img,guest.conf}
# with the snapshot ready_for_memory_tracer, and the same guest saved with 2
# and 4 vCPUs in guest-2cpu.{qcow2,conf} and guest-4cpu.{qcow2,conf}
# (--guest_num_of_vCPUs; lib/guestconf.h).  See guest/README.md.
#
# The root file system is build/guest/rootfs.squashfs, a Debian 12 userland
# (guest/build-rootfs.sh): minbase plus GUEST_BASE_PACKAGES plus whatever
# the user adds with `make GUEST_PACKAGES="redis-server stress-ng"`.  It is
# rebuilt when that package set or the script changes (the stamp
# $(GUEST_WORK)/rootfs.packages holds the set), and the snapshots with it.
#
# Rebuilt when the helper, /init, the initramfs script, the builder, the
# root file system, the guest's settings (lib/guestconf.h) or its QEMU
# command line change.  The
# QEMU binary is only an order-only prerequisite: the tracing patches add no
# migration state, so a rebuilt QEMU still loads the snapshot;
# `make guest-rebuild` forces a new one.

GUEST_DIR := $(BUILD)/guest
GUEST_WORK := $(GUEST_DIR)/work
GUEST_HELPER := $(GUEST_WORK)/run_executables_from_serial
GUEST_CONF := $(GUEST_DIR)/guest.conf
GUEST_ROOTFS := $(GUEST_DIR)/rootfs.squashfs
GUEST_BASE_PACKAGES := libc6 libstdc++6 libgcc-s1 python3 sqlite3 gzip \
	xz-utils coreutils busybox
GUEST_PACKAGES ?=
GUEST_PACKAGE_SET := $(sort $(GUEST_BASE_PACKAGES) $(GUEST_PACKAGES))
GUEST_SMP_CONFS := $(GUEST_DIR)/guest-2cpu.conf $(GUEST_DIR)/guest-4cpu.conf
MAKE_SNAPSHOT := $(OBJ)/guest/make_snapshot
GUEST_CFLAGS := -static -Os -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude
# Static non-PIE programs all load at 0x400000 (the guest's busybox does,
# and so do most users' workloads), so processes that run during a traced
# region would share virtual addresses with the workload, and a filter by
# address range would count their accesses too.  The helper and the test
# workloads each get an image base of their own (below 2 GiB: non-PIE code
# uses 32-bit absolute addresses).
GUEST_HELPER_BASE := -Wl,-Ttext-segment=0x6d000000
TEST_WORKLOAD_BASE := -Wl,-Ttext-segment=0x31000000

$(GUEST_HELPER): guest/run_executables_from_serial.c lib/serial_protocol.c \
		include/memory_tracer/serial_protocol.h | deps
	@mkdir -p $(@D)
	$(MUSL_CC) $(GUEST_CFLAGS) $(GUEST_HELPER_BASE) -o $@ $< lib/serial_protocol.c

$(GUEST_WORK)/initrd.img: guest/build-initramfs.sh guest/init.sh $(GUEST_HELPER)
	bash guest/build-initramfs.sh $(GUEST_WORK) $(GUEST_HELPER) guest/init.sh

# The stamp is rewritten only when the package set differs from the one it
# holds, so the image is rebuilt only then (or when the script changes).
$(GUEST_WORK)/rootfs.packages: FORCE
	@mkdir -p $(@D)
	@echo '$(GUEST_PACKAGE_SET)' | cmp -s - $@ || echo '$(GUEST_PACKAGE_SET)' > $@

$(GUEST_ROOTFS): guest/build-rootfs.sh $(GUEST_WORK)/rootfs.packages | deps
	bash guest/build-rootfs.sh $@ $$(cat $(GUEST_WORK)/rootfs.packages)

$(MAKE_SNAPSHOT): guest/make_snapshot.c $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -o $@ $< $(LIBMT) $(LIBMT_LIBS)

# The builder binary is order-only: a change to the QMP or serial code does
# not change the snapshot.  Its own source, the guest's settings (the
# defaults in lib/guestconf.h) and the QEMU command line the snapshot must
# be restored with (lib/qemu_argv.c) do.  The firmware is the one beside
# $(QEMU_BIN) (build/share/qemu), as for every run.
$(GUEST_CONF) $(GUEST_SMP_CONFS): $(GUEST_WORK)/initrd.img $(GUEST_ROOTFS) \
		guest/make_snapshot.c lib/guestconf.c lib/guestconf.h \
		lib/qemu_argv.c guest/guest.mk | qemu $(MAKE_SNAPSHOT)
	$(MAKE_SNAPSHOT) --qemu $(QEMU_BIN) --qemu-img $(QEMU_IMG) \
		--kernel $(GUEST_WORK)/vmlinuz --initrd $(GUEST_WORK)/initrd.img \
		--rootfs $(GUEST_ROOTFS) \
		--smp $(if $(filter guest.conf,$(@F)),1,$(patsubst guest-%cpu.conf,%,$(@F))) \
		--out-dir $(GUEST_DIR)

.PHONY: guest guest-rebuild guest-rootfs FORCE
FORCE:
guest-rootfs: $(GUEST_ROOTFS)
guest: $(GUEST_CONF) $(GUEST_SMP_CONFS)

guest-rebuild:
	rm -f $(GUEST_CONF) $(GUEST_SMP_CONFS)
	$(MAKE) guest

# ---- guest tests: toy workload and the serial smoke driver ----
$(BUILD)/tests/workloads/%: tests/workloads/%.c | deps
	@mkdir -p $(@D)
	$(MUSL_CC) $(GUEST_CFLAGS) $(TEST_WORKLOAD_BASE) -o $@ $<

$(BUILD)/tests/guest/serial_smoke: tests/guest/serial_smoke.c $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -o $@ $< $(LIBMT) $(LIBMT_LIBS)

CHECK_DEPS += $(BUILD)/tests/workloads/hello $(GUEST_CONF) $(GUEST_SMP_CONFS)
# The unit test that runs the real helper on a pty.
$(BUILD)/tests/unit/test_guest_helper: $(GUEST_HELPER)

# ---- host-compiled workloads (tests/guest/debian_userland.sh) ----
# Built the way a user builds a program on this host: plain gcc / g++,
# dynamic, PIE, glibc / libstdc++ -- they run in the Debian guest as they
# are.  dyn_exact_workload is gmbeoo_exact_workload.c compiled so.
HOST_WORKLOADS := $(BUILD)/tests/workloads/dyn_exact_workload \
	$(BUILD)/tests/workloads/cxx_exact_workload
$(BUILD)/tests/workloads/dyn_exact_workload: tests/workloads/gmbeoo_exact_workload.c | deps
	@mkdir -p $(@D)
	gcc -O2 -o $@ $<
$(BUILD)/tests/workloads/cxx_exact_workload: tests/workloads/cxx_exact_workload.cc | deps
	@mkdir -p $(@D)
	g++ -O2 -o $@ $<
CHECK_DEPS += $(HOST_WORKLOADS)
