# SPDX-License-Identifier: GPL-2.0-or-later
# `make check`: build everything, then run every test group.
# Directories add their compiled tests to CHECK_PROGRAMS (installed under
# build/tests/<group>/) and prerequisites to CHECK_DEPS.

CHECK_PROGRAMS ?=
CHECK_DEPS ?=

.PHONY: check check-unit
# Second expansion: fragments included after this one (robustness.mk,
# gmbeoo.mk, bench.mk) still add to the lists.
.SECONDEXPANSION:
check: all $$(CHECK_PROGRAMS) $$(CHECK_DEPS)
	@bash tests/run.sh

check-unit: deps $$(filter $(BUILD)/tests/unit/%,$$(CHECK_PROGRAMS))
	@bash tests/run.sh unit

# Unit test of the record header: needs nothing but a C compiler.
CHECK_PROGRAMS += $(BUILD)/tests/unit/test_record
$(BUILD)/tests/unit/test_record: tests/unit/test_record.c tests/unit/check.h include/gmbeoo/record.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) -Iinclude -o $@ $<
include tests/robustness.mk
include tests/gmbeoo.mk
