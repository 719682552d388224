# SPDX-License-Identifier: GPL-2.0-or-later
# tools/: analysis tools users get (one file each) -> build/bin/.
# Also the toy workloads of tests/workloads/ (static, musl) that the
# end-to-end tests run, and the tracer tests' prerequisites.

TOOLS := $(BIN)/simple_analysis $(BIN)/gmbeoo_dump $(BIN)/gmbeoo_heatmap
TOOL_CFLAGS = $(CFLAGS) $(WARN) -Iinclude -Ilib $(LIBMT_CFLAGS)
CAIRO_CFLAGS = $(call pkg_config,CAIRO_CFLAGS,--cflags cairo)
CAIRO_LIBS = $(call pkg_config,CAIRO_LIBS,--libs cairo)

# Each is one file on libgmbeoo (its static archive, so the installed
# tools need no library path), plus lib/msg.c for their messages.
$(BIN)/simple_analysis $(BIN)/gmbeoo_dump: $(BIN)/%: tools/%.c \
		$(GMBEOO_HEADERS) $(LIBGMBEOO_A) $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -o $@ $< $(LIBGMBEOO_A) $(LIBMT) $(LIBMT_LIBS) \
		$(GMBEOO_LIBS)

$(BIN)/gmbeoo_heatmap: tools/gmbeoo_heatmap.c tools/analysis_io.c tools/analysis_io.h \
		$(GMBEOO_HEADERS) $(LIBGMBEOO_A) $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) $(CAIRO_CFLAGS) -o $@ $< tools/analysis_io.c $(LIBGMBEOO_A) $(LIBMT) \
		$(LIBMT_LIBS) $(GMBEOO_LIBS) $(CAIRO_LIBS) -lm

# The ready-made analyses: one file each on libgmbeoo (their shared input
# and output side in analysis_io.c), GLib for options and cairo for --plot.
ANALYSES := gmbeoo_cachesim gmbeoo_reuse gmbeoo_wss
TOOLS += $(addprefix $(BIN)/,$(ANALYSES))
$(addprefix $(BIN)/,$(ANALYSES)): $(BIN)/%: tools/%.c tools/analysis_io.c \
		tools/analysis_io.h $(GMBEOO_HEADERS) $(LIBGMBEOO_A)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -Iinclude $(GLIB_CFLAGS) $(CAIRO_CFLAGS) -o $@ $< \
		tools/analysis_io.c $(LIBGMBEOO_A) $(GMBEOO_LIBS) $(GLIB_LIBS) \
		$(CAIRO_LIBS) -lm

# Their simulation cores, each file included without its I/O half
# (GMBEOO_CORE_ONLY) and checked against hand-computed traces.
$(BUILD)/tests/unit/test_analyses: tests/unit/test_analyses.c tests/unit/check.h \
		$(addprefix tools/,$(addsuffix .c,$(ANALYSES))) include/gmbeoo/record.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -Iinclude $(GLIB_CFLAGS) -o $@ $< $(GLIB_LIBS)

# Toy workloads (ORIGINAL_BEHAVIOUR §10).  The .c ones are built by the
# static musl pattern rule of guest/guest.mk; scripts are copied.
TEST_WORKLOAD_PROGS := simple_user_memory_intensive_workload \
	simple_long_user_memory_intensive_workload \
	dummy_workload_with_funny_test_info crashing_workload
TEST_WORKLOAD_SCRIPTS := empty_workload.sh sleep_forever_workload.sh
TEST_WORKLOADS := $(addprefix $(BUILD)/tests/workloads/,$(TEST_WORKLOAD_PROGS) \
	$(TEST_WORKLOAD_SCRIPTS))

.PHONY: tools install-tools
tools: libgmbeoo $(TOOLS) $(TEST_WORKLOADS)

install: install-tools install-python
install-tools: $(TOOLS)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/

# The Python reader (tools/python/gmbeoo.py) where Debian's python3 finds
# it: PREFIX/lib/python3.N/dist-packages (/usr/local/... is on its path).
# Lazily set: only `make install` runs /usr/bin/python3.
PYTHON_SITE = $(PREFIX)/lib/$(shell /usr/bin/python3 -c \
	'import sys; print("python%d.%d" % sys.version_info[:2])')/dist-packages
.PHONY: install-python
install-python:
	install -d $(DESTDIR)$(PYTHON_SITE)
	install -m 0644 tools/python/gmbeoo.py $(DESTDIR)$(PYTHON_SITE)/

$(BUILD)/tests/workloads/%.sh: tests/workloads/%.sh
	@mkdir -p $(@D)
	install -m 0755 $< $@

CHECK_DEPS += $(TOOLS) $(TEST_WORKLOADS) $(BIN)/memory_tracer
