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
ASAN_UNIT_TESTS := test_record test_serial test_qmp test_guestconf test_workload_script \
	test_libgmbeoo
.PHONY: check-asan
check-asan: all $(CHECK_DEPS)
	$(MAKE) --no-print-directory BUILD=$(ASAN_BUILD) CFLAGS="$(ASAN_CFLAGS)" \
		$(ASAN_BUILD)/bin/memory_tracer $(ASAN_BUILD)/bin/simple_analysis \
		$(ASAN_BUILD)/bin/gmbeoo_dump \
		$(addprefix $(ASAN_BUILD)/tests/unit/,$(ASAN_UNIT_TESTS))
	@bash tests/robustness/asan_check.sh $(ASAN_BUILD) $(ASAN_UNIT_TESTS)

# ---- make fuzz ----------------------------------------------------------
# libFuzzer harnesses (tests/fuzz/fuzz_*.c, clang) for the serial framing
# parsers, serial.c's receive path, QMP message parsing and qmp.c's client
# against a fake QEMU socket (qmp_client).  `make fuzz`
# runs each for FUZZ_SECONDS, seeded from tests/fuzz/corpus/NAME/; new
# inputs go to build/fuzz/corpus/NAME/, crashes to build/fuzz/crash-NAME-*
# (add them to tests/fuzz/corpus/NAME/ as regression inputs).  `make check`
# only replays the corpus and fuzzes a few seconds (tests/robustness/
# fuzz_smoke.sh), or skips without clang.
FUZZ_PACKAGES := clang libclang-rt-14-dev
FUZZ_CC := clang
FUZZ_BUILD := $(BUILD)/fuzz
FUZZ_SECONDS ?= 60
FUZZERS := serial_frame serial_channel qmp_message qmp_client
FUZZ_BINS := $(addprefix $(FUZZ_BUILD)/fuzz_,$(FUZZERS))
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $(WARN) -Iinclude -Ilib $(LIBMT_CFLAGS)

$(FUZZ_BUILD)/fuzz_serial_frame: tests/fuzz/fuzz_serial_frame.c lib/serial_protocol.c \
		include/memory_tracer/serial_protocol.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< lib/serial_protocol.c
# The library sources each harness compiles with it (instrumented).
FUZZ_SERIAL_SRCS := lib/serial.c lib/serial_protocol.c lib/unix_socket.c
FUZZ_QMP_SRCS := lib/qmp.c lib/unix_socket.c
$(FUZZ_BUILD)/fuzz_serial_channel: tests/fuzz/fuzz_serial_channel.c $(FUZZ_SERIAL_SRCS) \
		lib/serial.h include/memory_tracer/serial_protocol.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SERIAL_SRCS) $(LIBMT_LIBS)
$(FUZZ_BUILD)/fuzz_qmp_message: tests/fuzz/fuzz_qmp_message.c $(FUZZ_QMP_SRCS) lib/qmp.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_QMP_SRCS) $(LIBMT_LIBS)
$(FUZZ_BUILD)/fuzz_qmp_client: tests/fuzz/fuzz_qmp_client.c $(FUZZ_QMP_SRCS) lib/qmp.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -pthread -o $@ $< $(FUZZ_QMP_SRCS) $(LIBMT_LIBS)

.PHONY: fuzz fuzz-deps fuzz-build
fuzz-deps:
	$(call deb_install,$(FUZZ_PACKAGES),fuzz)
fuzz-build: $(FUZZ_BINS)
fuzz: fuzz-deps
	@$(MAKE) --no-print-directory fuzz-build
	@for f in $(FUZZERS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$f; \
		echo "fuzz: $$f for $(FUZZ_SECONDS) s"; \
		$(FUZZ_BUILD)/fuzz_$$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-rss_limit_mb=1024 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_BUILD)/crash-$$f- \
			$(FUZZ_BUILD)/corpus/$$f tests/fuzz/corpus/$$f 2>$(FUZZ_BUILD)/$$f.log \
			|| { tail -n 40 $(FUZZ_BUILD)/$$f.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' $(FUZZ_BUILD)/$$f.log; \
	done
