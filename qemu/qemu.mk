# SPDX-License-Identifier: GPL-2.0-or-later
# The patched QEMU: Debian's pinned source package + qemu/patches/series.

QEMU_BIN := $(BIN)/qemu-system-x86_64
QEMU_IMG := $(BIN)/qemu-img
FIRMWARE_DIR := $(BUILD)/share/qemu

.PHONY: qemu qemu-source firmware
qemu: deps firmware
	@bash qemu/source.sh $(BUILD)
	@bash qemu/apply-patches.sh $(BUILD)
	@bash qemu/build.sh $(BUILD)

qemu-source: deps
	@bash qemu/source.sh $(BUILD)
	@bash qemu/apply-patches.sh $(BUILD)

firmware: $(FIRMWARE_DIR)/.stamp
$(FIRMWARE_DIR)/.stamp: qemu/firmware.sh | deps
	@bash qemu/firmware.sh $(BUILD)
	@touch $@

# Apply the series patch by patch onto the pristine tree, checkpatch and
# build each step (qemu/series-check.sh; not part of `make check`).
.PHONY: qemu-series-check
qemu-series-check: qemu-source
	@QEMU_BUILD_NICE=$${QEMU_BUILD_NICE:-10} bash qemu/series-check.sh $(BUILD)
