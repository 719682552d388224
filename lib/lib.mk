# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib/: the modules shared by the CLI, the guest image builder, the tools
# and the tests, archived into $(LIBMT) = build/obj/libmemory_tracer.a.
# A binary that links it adds $(LIBMT_LIBS) (json-glib, GIO, GLib, zstd,
# LZ4);
# the archive only contributes the objects the binary uses.  Among them
# trace_file.c, the trace file layout and writer.
#
# lib/gmbeoo/: libgmbeoo, the public library (include/gmbeoo/gmbeoo.h):
# the one reader loop for record streams (FIFO, raw file, trace file of any
# codec, zstd or LZ4 stream), the consumer of the shared rings (rings.c,
# include/gmbeoo/rings.h) and the analysis-tool contract, built as build/lib/libgmbeoo.so.1 (with
# its version script) and build/lib/libgmbeoo.a, and installed with its
# headers, gmbeoo.pc and libgmbeoo(3).  The project's tools and tests link
# the static one ($(LIBGMBEOO_A) $(GMBEOO_LIBS)).

OBJ := $(BUILD)/obj
LIB_CFLAGS = $(CFLAGS) $(WARN) -Iinclude -Ilib $(LIBMT_CFLAGS) -MMD -MP
LIBMT_CFLAGS = $(JSON_GLIB_CFLAGS)
LIBMT_LIBS = $(JSON_GLIB_LIBS) $(ZSTD_LIBS)
ZSTD_LIBS = $(call pkg_config,ZSTD_LIBS,--libs libzstd liblz4)

LIB_SRCS := lib/msg.c lib/qmp.c lib/serial.c lib/serial_protocol.c lib/unix_socket.c \
	lib/guestconf.c lib/qemu_argv.c lib/child.c lib/vm.c lib/trace_file.c
LIB_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(LIB_SRCS))
LIBMT := $(OBJ)/libmemory_tracer.a

$(OBJ)/lib/%.o: lib/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(LIBMT): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

-include $(LIB_OBJS:.o=.d)

# ---- libgmbeoo ----
GMBEOO_VERSION := 1.0.0
GMBEOO_SONAME := libgmbeoo.so.1
# What the library itself links: trace_file.c (through its API) needs GIO
# and GLib, its codecs and the reader zstd and LZ4.  Also the Libs.private
# of gmbeoo.pc.
GMBEOO_PKGS := gio-2.0 libzstd liblz4
GMBEOO_CFLAGS = $(call pkg_config,GMBEOO_CFLAGS,--cflags $(GMBEOO_PKGS))
GMBEOO_LIBS = $(call pkg_config,GMBEOO_LIBS,--libs $(GMBEOO_PKGS))
GMBEOO_SRCS := lib/gmbeoo/source.c lib/gmbeoo/tool.c lib/gmbeoo/rings.c \
	lib/trace_file.c
GMBEOO_OBJS := $(patsubst %.c,$(OBJ)/pic/%.o,$(GMBEOO_SRCS))
LIBGMBEOO_DIR := $(BUILD)/lib
LIBGMBEOO_SO := $(LIBGMBEOO_DIR)/libgmbeoo.so.$(GMBEOO_VERSION)
LIBGMBEOO_A := $(LIBGMBEOO_DIR)/libgmbeoo.a
GMBEOO_PC := $(LIBGMBEOO_DIR)/pkgconfig/gmbeoo.pc
GMBEOO_HEADERS := include/gmbeoo/gmbeoo.h include/gmbeoo/record.h

$(OBJ)/pic/%.o: %.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WARN) -fPIC -Iinclude -Ilib -Ilib/gmbeoo \
		$(GMBEOO_CFLAGS) -MMD -MP -c $< -o $@

$(LIBGMBEOO_SO): $(GMBEOO_OBJS) lib/gmbeoo/libgmbeoo.map
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -Wl,-soname,$(GMBEOO_SONAME) \
		-Wl,--version-script=lib/gmbeoo/libgmbeoo.map -Wl,--no-undefined \
		-o $@ $(GMBEOO_OBJS) $(GMBEOO_LIBS)
	ln -sf $(@F) $(@D)/$(GMBEOO_SONAME)
	ln -sf $(GMBEOO_SONAME) $(@D)/libgmbeoo.so

$(LIBGMBEOO_A): $(GMBEOO_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# gmbeoo.pc for PREFIX (rebuilt when PREFIX changes).
$(GMBEOO_PC): lib/gmbeoo/gmbeoo.pc.in FORCE
	@mkdir -p $(@D)
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(GMBEOO_VERSION)|' \
		-e 's|@PRIVATE_LIBS@|$(GMBEOO_LIBS)|' $< > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

.PHONY: libgmbeoo install-libgmbeoo FORCE
libgmbeoo: $(LIBGMBEOO_SO) $(LIBGMBEOO_A) $(GMBEOO_PC)

install: install-libgmbeoo
install-libgmbeoo: libgmbeoo
	install -d $(DESTDIR)$(PREFIX)/include/gmbeoo $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/share/man/man3
	install -m 0644 $(GMBEOO_HEADERS) $(DESTDIR)$(PREFIX)/include/gmbeoo/
	install -m 0755 $(LIBGMBEOO_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libgmbeoo.so.$(GMBEOO_VERSION) $(DESTDIR)$(PREFIX)/lib/$(GMBEOO_SONAME)
	ln -sf $(GMBEOO_SONAME) $(DESTDIR)$(PREFIX)/lib/libgmbeoo.so
	install -m 0644 $(LIBGMBEOO_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 $(GMBEOO_PC) $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 0644 lib/gmbeoo/libgmbeoo.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	@# `man gmbeoo_next` and the like: each call's page is libgmbeoo(3).
	for f in $$(sed -n 's/^ *\(gmbeoo_[a-z_]*\);$$/\1/p' lib/gmbeoo/libgmbeoo.map); do \
		echo '.so man3/libgmbeoo.3' > $(DESTDIR)$(PREFIX)/share/man/man3/$$f.3; \
	done

.PHONY: clean-libgmbeoo
clean: clean-libgmbeoo
clean-libgmbeoo:
	rm -rf $(LIBGMBEOO_DIR)

-include $(GMBEOO_OBJS:.o=.d)

# Unit tests of the library's modules (tests/unit/test_*.c, one per module).
# test_guest_helper runs the real guest helper on a pty (needs it built).
$(BUILD)/tests/unit/test_serial $(BUILD)/tests/unit/test_qmp \
$(BUILD)/tests/unit/test_guestconf $(BUILD)/tests/unit/test_guest_helper: \
		$(BUILD)/tests/unit/test_%: tests/unit/test_%.c tests/unit/check.h $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -o $@ $< $(LIBMT) $(LIBMT_LIBS) -lutil

# libgmbeoo's unit tests: the public API, linked with the static library
# (and the trace-file writer of $(LIBMT) to make trace files).
$(BUILD)/tests/unit/test_libgmbeoo: tests/unit/test_libgmbeoo.c tests/unit/check.h \
		$(LIBGMBEOO_A) $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -o $@ $< $(LIBGMBEOO_A) $(LIBMT) $(LIBMT_LIBS)

# The ring source against a fake producer (QEMU's part of gmbeoo/rings.h).
$(BUILD)/tests/unit/test_gmbeoo_rings: tests/unit/test_gmbeoo_rings.c tests/unit/check.h \
		include/gmbeoo/rings.h $(LIBGMBEOO_A)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -o $@ $< $(LIBGMBEOO_A) $(GMBEOO_LIBS) -lpthread
