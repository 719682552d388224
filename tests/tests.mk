# SPDX-License-Identifier: GPL-2.0-or-later
# `make check`: build everything, then run every test of tests/tests.list.
# The compiled tests of the list (build/tests/<group>/NAME) are
# CHECK_PROGRAMS; each has its rule in a fragment.  Fragments add what the
# tests need besides (workloads, helpers, the guest) to CHECK_DEPS.

CHECK_PROGRAMS := $(patsubst build/%,$(BUILD)/%,$(filter build/%,\
	$(shell sed 's/#.*//' tests/tests.list)))
CHECK_DEPS ?=

.PHONY: check check-unit check-build
# Second expansion: fragments included after this one (robustness.mk,
# gmbeoo.mk, bench.mk) still add to CHECK_DEPS.
.SECONDEXPANSION:
check-build: all $$(CHECK_PROGRAMS) $$(CHECK_DEPS)
check: check-build
	@bash tests/run.sh

check-unit: deps $$(filter $(BUILD)/tests/unit/%,$$(CHECK_PROGRAMS))
	@bash tests/run.sh unit

# Unit test of the record header: needs nothing but a C compiler.
$(BUILD)/tests/unit/test_record: tests/unit/test_record.c tests/unit/check.h include/gmbeoo/record.h
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) -Iinclude -o $@ $<
include tests/robustness.mk
include tests/gmbeoo.mk
include tests/workload_io.mk
