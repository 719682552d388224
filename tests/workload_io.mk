# SPDX-License-Identifier: GPL-2.0-or-later
# The workloads of tests/guest/workload_io.sh and tests/robustness/
# guest_death.sh (static, musl: the pattern rule of guest/guest.mk): argv
# as hex (plain, and printing its own markers), a tree lister, an output
# flood, and a workload that ends the guest.
WORKLOAD_IO_WORKLOADS := $(addprefix $(BUILD)/tests/workloads/,argv_hex_workload \
	argv_hex_markers_workload tree_check_workload output_flood_workload \
	guest_crash_workload)
$(BUILD)/tests/workloads/argv_hex_markers_workload: tests/workloads/argv_hex_workload.c | deps
	@mkdir -p $(@D)
	$(MUSL_CC) $(GUEST_CFLAGS) $(TEST_WORKLOAD_BASE) -DMARKERS -o $@ $<
CHECK_DEPS += $(WORKLOAD_IO_WORKLOADS)
