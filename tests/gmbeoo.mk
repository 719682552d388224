# SPDX-License-Identifier: GPL-2.0-or-later
# GMBEOO end-to-end tests (tests/guest/gmbeoo_*.sh, tests/guest/gmbeoo_qmp.c):
# their workloads (static, musl: the pattern rule of guest/guest.mk), the
# counting analysis tool and the QMP driver.  Included from tests/tests.mk.

GMBEOO_WORKLOADS := $(addprefix $(BUILD)/tests/workloads/,gmbeoo_exact_workload \
	gmbeoo_kernel_workload gmbeoo_stride_workload gmbeoo_long_workload \
	gmbeoo_medium_workload gmbeoo_threads_workload gmbeoo_ext_workload \
	gmbeoo_fault_workload gmbeoo_vcpu_order_workload \
	gmbeoo_fault_stride_workload)

# The long workload with 500 passes (10 M accesses): more than a small ring.
$(BUILD)/tests/workloads/gmbeoo_medium_workload: tests/workloads/gmbeoo_long_workload.c | deps
	@mkdir -p $(@D)
	$(MUSL_CC) $(GUEST_CFLAGS) $(TEST_WORKLOAD_BASE) -DPASSES=500 -DSPIN=0 -o $@ $<

# The two-thread workload streaming 40 passes over 1 MiB buffers: per-vCPU
# program order across ring wraps (tests/guest/vcpus.sh vcpus_2_order).
$(BUILD)/tests/workloads/gmbeoo_vcpu_order_workload: tests/workloads/gmbeoo_threads_workload.c | deps
	@mkdir -p $(@D)
	$(MUSL_CC) $(GUEST_CFLAGS) $(TEST_WORKLOAD_BASE) -DORDER_PASSES=40 -o $@ $<

# The fault workload with five stores per TB over 64 pages: faults inside
# TBs that count their accesses at their start (gmbeoo_exact.sh fault_stride_*).
$(BUILD)/tests/workloads/gmbeoo_fault_stride_workload: tests/workloads/gmbeoo_fault_workload.c | deps
	@mkdir -p $(@D)
	$(MUSL_CC) $(GUEST_CFLAGS) $(TEST_WORKLOAD_BASE) -DFAULT_STRIDE -o $@ $<

# Not a test itself: it lives outside the test group directories.
$(BUILD)/tests/gmbeoo/gmbeoo_count: tests/guest/gmbeoo_count.c $(GMBEOO_HEADERS) \
		$(LIBGMBEOO_A) | deps
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -o $@ $< $(LIBGMBEOO_A) $(GMBEOO_LIBS)

CHECK_DEPS += $(GMBEOO_WORKLOADS) $(BUILD)/tests/gmbeoo/gmbeoo_count

# The QMP driver (disable/re-enable, stalled reader, plugin cross-check).
$(BUILD)/tests/guest/gmbeoo_qmp: tests/guest/gmbeoo_qmp.c include/gmbeoo/record.h $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -o $@ $< $(LIBMT) $(LIBMT_LIBS)

# QEMU's own memory-counting plugin, from the unpacked QEMU source (if any).
GMBEOO_QEMU_SRC := $(BUILD)/qemu/src
$(BUILD)/tests/gmbeoo/libmem.so: | deps
	@mkdir -p $(@D)
	@if [ -f $(GMBEOO_QEMU_SRC)/tests/plugin/mem.c ]; then \
		echo "$(CC) -shared -fPIC ... tests/plugin/mem.c -> $@"; \
		$(CC) -shared -fPIC -O2 -I$(GMBEOO_QEMU_SRC)/include/qemu \
			$$(pkg-config --cflags glib-2.0) \
			-o $@ $(GMBEOO_QEMU_SRC)/tests/plugin/mem.c; \
	else echo "no $(GMBEOO_QEMU_SRC)/tests/plugin/mem.c: gmbeoo_qmp skips the plugin check"; fi
CHECK_DEPS += $(BUILD)/tests/gmbeoo/libmem.so
