# SPDX-License-Identifier: GPL-2.0-or-later
# tests/robustness/: helper programs of the robustness tests (not tests
# themselves, so they go to build/tests/robustness-helpers/, which the
# runner does not execute); make check-asan; make fuzz.

ROBUSTNESS_HELPERS := $(BUILD)/tests/robustness-helpers/fault_tool
$(BUILD)/tests/robustness-helpers/%: tests/robustness/%.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -o $@ $<
CHECK_DEPS += $(ROBUSTNESS_HELPERS)

# ---- make check-asan ----------------------------------------------------
# The CLI, the tools and the unit tests built with ASan+UBSan into
# build/asan/ (a recursive make with BUILD overridden: the fragments'
# rules are reused as they are), then the unit tests, the validation and
# tool tests on those binaries, and end-to-end runs of the ASan
# memory_tracer on the embedded guest (same patched QEMU).  Not part of
# `make check`.
ASAN_BUILD := $(TOP)/build/asan
ASAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
ASAN_UNIT_TESTS := test_record test_serial test_qmp test_guestconf test_workload_script
.PHONY: check-asan
check-asan: all $(CHECK_DEPS)
	$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CFLAGS="$(ASAN_CFLAGS)" \
		$(ASAN_BUILD)/bin/memory_tracer $(ASAN_BUILD)/bin/simple_analysis \
		$(ASAN_BUILD)/bin/gmbeoo_dump \
		$(addprefix $(ASAN_BUILD)/tests/unit/,$(ASAN_UNIT_TESTS))
	@bash tests/robustness/asan_check.sh $(ASAN_BUILD) $(ASAN_UNIT_TESTS)
