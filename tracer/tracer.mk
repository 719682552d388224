# SPDX-License-Identifier: GPL-2.0-or-later
#
# tracer/: the memory_tracer CLI (build/bin/memory_tracer) and its man page.
# The modules it shares with the guest image builder and the tests are in
# lib/ (lib/lib.mk).

TRACER_CFLAGS = $(CFLAGS) $(WARN) -Iinclude -Ilib -Itracer $(LIBMT_CFLAGS) -MMD -MP

$(OBJ)/tracer/%.o: tracer/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(TRACER_CFLAGS) -c $< -o $@

.PHONY: tracer
tracer: $(LIBMT)

MEMORY_TRACER := $(BIN)/memory_tracer
CLI_SRCS := tracer/main.c tracer/options.c tracer/options_validate.c \
	tracer/help.c tracer/session.c tracer/step.c tracer/run_guest.c \
	tracer/run_trace.c tracer/wait.c \
	tracer/progress.c tracer/native.c tracer/workload.c tracer/analysis.c \
	tracer/child_output.c tracer/runtime.c tracer/report.c tracer/report_json.c \
	tracer/monitor.c tracer/trace_sink.c tracer/copy_in.c tracer/workload_output.c
CLI_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(CLI_SRCS))

$(MEMORY_TRACER): $(CLI_OBJS) $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(LIBMT) $(LIBMT_LIBS) -lm

-include $(CLI_OBJS:.o=.d)

tracer: $(MEMORY_TRACER)

.PHONY: install-tracer
install: install-tracer
install-tracer: $(MEMORY_TRACER)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(MEMORY_TRACER) $(DESTDIR)$(PREFIX)/bin/memory_tracer
	install -m 0644 tracer/memory_tracer.1 \
		$(DESTDIR)$(PREFIX)/share/man/man1/memory_tracer.1
	@if [ -x $(BIN)/qemu-system-x86_64 ]; then \
		install -d $(DESTDIR)$(PREFIX)/libexec/memory_tracer \
			$(DESTDIR)$(PREFIX)/share/memory_tracer; \
		install -m 0755 $(BIN)/qemu-system-x86_64 \
			$(DESTDIR)$(PREFIX)/libexec/memory_tracer/; \
		cp -r $(BUILD)/share/qemu $(DESTDIR)$(PREFIX)/share/memory_tracer/qemu; \
	fi
	@if [ -f $(BUILD)/guest/guest.conf ]; then \
		install -d $(DESTDIR)$(PREFIX)/share/memory_tracer/guest; \
		cp $(BUILD)/guest/guest.conf $(BUILD)/guest/guest.qcow2 \
			$(BUILD)/guest/vmlinuz $(BUILD)/guest/initrd.img \
			$(DESTDIR)$(PREFIX)/share/memory_tracer/guest/ 2>/dev/null || true; \
	fi

# `make run`: build everything, then trace the original's toy workload on
# the embedded guest into simple_analysis; then once more into a trace file,
# build/run/trace.gmbeoo.zst, drawn as build/run/heatmap.png.
.PHONY: run
run: all $(TOOLS) $(BUILD)/tests/workloads/simple_user_memory_intensive_workload
	$(MEMORY_TRACER) \
		--workload_path_on_host $(BUILD)/tests/workloads/simple_user_memory_intensive_workload \
		--dont_add_communications_with_host_to_workload \
		--analysis_tool_path $(BIN)/simple_analysis --print_trace_info
	@mkdir -p $(BUILD)/run
	$(MEMORY_TRACER) \
		--workload_path_on_host $(BUILD)/tests/workloads/simple_user_memory_intensive_workload \
		--dont_add_communications_with_host_to_workload \
		--trace_file_path $(BUILD)/run/trace.gmbeoo.zst
	$(BIN)/gmbeoo_heatmap $(BUILD)/run/trace.gmbeoo.zst -o $(BUILD)/run/heatmap.png
	@echo "run: trace file $(BUILD)/run/trace.gmbeoo.zst, heat map $(BUILD)/run/heatmap.png"

# Unit test of the wrapper script and info tokens (tracer/workload.c).
$(BUILD)/tests/unit/test_workload_script: tests/unit/test_workload_script.c \
		$(OBJ)/tracer/workload.o
	@mkdir -p $(@D)
	$(CC) $(TRACER_CFLAGS) -o $@ $< $(OBJ)/tracer/workload.o $(GLIB_LIBS)
