# SPDX-License-Identifier: GPL-2.0-or-later
# `make bench` / `make bench-quick`: the benchmark harness (bench/README.md).
# Never part of `make check`: benchmarks are measurements, not tests.

BENCH_OUT := $(BUILD)/bench
BENCH_WL := $(BENCH_OUT)/workloads
# Debian packages only the benchmarks need; installed by the bench targets.
BENCH_PACKAGES := gnuplot-nox time

BENCH_CFLAGS := -O2 -g $(WARN) -I$(TOP)/include
QEMU_PLUGIN_INC := $(BUILD)/qemu/src/include/qemu

# Workload sizes per preset: the CLI passes no argv to a workload, so each
# preset gets its own binaries (-D defaults) and scripts (@LINES@ filled in).
BENCH_SIZES_full := -DMEM_LOOP_PASSES=50000 -DCHASE_STEPS=5000000 \
	-DSYSCALL_ITERATIONS=100000 -DDENSE_PASSES=200000 -DSTRIDE_PASSES=6000
BENCH_SIZES_quick := -DMEM_LOOP_PASSES=10000 -DCHASE_STEPS=1000000 \
	-DSYSCALL_ITERATIONS=20000 -DDENSE_PASSES=50000 -DSTRIDE_PASSES=1500
BENCH_LINES_full := gzip=20000 sort=20000 md5sum=50000
BENCH_LINES_quick := gzip=5000 sort=5000 md5sum=10000

BENCH_C_WORKLOADS := mem_loop pointer_chase syscall_heavy dense_rmw stride_rmw
BENCH_APPLETS := gzip sort md5sum
BENCH_PRESETS := full quick

BENCH_TOOLS := $(BENCH_OUT)/drain $(BENCH_OUT)/classify $(BENCH_OUT)/pipe_ceiling \
	$(BENCH_OUT)/codec_bench \
	$(BENCH_OUT)/gmbeoo_plugin.so $(BENCH_OUT)/libmem.so \
	$(BENCH_WL)/upload_1mib $(BENCH_WL)/true_workload \
	$(foreach p,$(BENCH_PRESETS),\
	  $(foreach w,$(BENCH_C_WORKLOADS),$(BENCH_WL)/$(p)/$(w)) \
	  $(foreach a,$(BENCH_APPLETS),$(BENCH_WL)/$(p)/busybox_$(a).sh))

.PHONY: bench bench-quick bench-tools bench-deps bench-stock bench-profile

bench-deps:
	$(call deb_install,$(BENCH_PACKAGES),bench)

bench-tools: $(BENCH_TOOLS)

# Stock Debian QEMU 7.2 (no GMBEOO), for the "what do our patches cost
# untraced" comparison: same source and configure flags, separate build dir.
bench-stock: qemu-source
	@bash bench/stock_qemu.sh $(BUILD)

bench: deps bench-deps all bench-tools bench-stock
	@bash bench/bench.sh full

bench-quick: deps bench-deps all bench-tools bench-stock
	@bash bench/bench.sh quick

bench-profile: deps all bench-tools
	@bash bench/profile.sh

$(BENCH_OUT)/drain: bench/drain.c include/gmbeoo/record.h | deps
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

# The trace file codecs offline on a captured stream (lib/trace_file.c).
$(BENCH_OUT)/codec_bench: bench/codec_bench.c $(LIBGMBEOO_A) $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -Iinclude -Ilib $(LIBMT_CFLAGS) -o $@ $< $(LIBGMBEOO_A) \
		$(LIBMT) $(LIBMT_LIBS) $(GMBEOO_LIBS)

# The typical analysis tool (decode + classify every record), on libgmbeoo:
# over the FIFO, over the shared rings, and alone on a file.
$(BENCH_OUT)/classify: bench/classify.c $(LIBGMBEOO_A) include/gmbeoo/gmbeoo.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $< $(LIBGMBEOO_A) $(GMBEOO_LIBS)

$(BENCH_OUT)/pipe_ceiling: bench/pipe_ceiling.c include/gmbeoo/record.h | deps
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

# The plugins need the plugin header of the unpacked source tree.
$(QEMU_PLUGIN_INC)/qemu-plugin.h:
	$(MAKE) qemu-source

$(BENCH_OUT)/gmbeoo_plugin.so: bench/plugin/gmbeoo_plugin.c include/gmbeoo/record.h \
		$(QEMU_PLUGIN_INC)/qemu-plugin.h
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -fPIC -shared -pthread -I$(QEMU_PLUGIN_INC) -o $@ $<

# QEMU's own counting plugin, built from the tree's tests/plugin/mem.c (not
# our code: its own flags, no -Werror).
$(BENCH_OUT)/libmem.so: $(QEMU_PLUGIN_INC)/qemu-plugin.h
	@mkdir -p $(@D)
	$(CC) -O2 -g -fPIC -shared -I$(QEMU_PLUGIN_INC) \
		$$(pkg-config --cflags glib-2.0) -o $@ $(BUILD)/qemu/src/tests/plugin/mem.c \
		$$(pkg-config --libs glib-2.0)

$(BENCH_WL)/upload_1mib $(BENCH_WL)/true_workload: $(BENCH_WL)/%: bench/workloads/%.c | deps
	@mkdir -p $(@D)
	$(MUSL_CC) -static -s $(BENCH_CFLAGS) -o $@ $<

define BENCH_PRESET_RULES
$(BENCH_WL)/$(1)/%: bench/workloads/%.c bench/bench.mk | deps
	@mkdir -p $$(@D)
	$(MUSL_CC) -static -s $(BENCH_CFLAGS) $(BENCH_SIZES_$(1)) -o $$@ $$<

$(BENCH_WL)/$(1)/busybox_%.sh: bench/workloads/busybox_tool.sh bench/bench.mk
	@mkdir -p $$(@D)
	sed -e 's/@APPLET@/$$*/' \
	    -e "s/@LINES@/$$(patsubst $$*=%,%,$$(filter $$*=%,$(BENCH_LINES_$(1))))/" $$< > $$@.tmp
	chmod 0755 $$@.tmp && mv $$@.tmp $$@
endef
$(foreach p,$(BENCH_PRESETS),$(eval $(call BENCH_PRESET_RULES,$(p))))

# Which batch layout libgmbeoo hands out (include/gmbeoo/gmbeoo.h, "Batches"):
# run build/bench/batch_layout [FORMAT] by hand; not part of bench.sh.
$(BENCH_OUT)/batch_layout: bench/batch_layout.c include/gmbeoo/record.h | deps
	@mkdir -p $(@D)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

bench-tools: $(BENCH_OUT)/batch_layout
