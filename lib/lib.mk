# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib/: the modules shared by the CLI, the guest image builder, the tools
# and the tests, archived into $(LIBMT) = build/obj/libmemory_tracer.a.
# A binary that links it adds $(LIBMT_LIBS) (json-glib, GIO, GLib, zstd,
# LZ4);
# the archive only contributes the objects the binary uses.  Among them:
# record_stream.c, the one reader loop for record streams (FIFO, raw file,
# zstd trace file), and trace_file.c, the trace file layout and writer.

OBJ := $(BUILD)/obj
LIB_CFLAGS = $(CFLAGS) $(WARN) -Iinclude -Ilib $(LIBMT_CFLAGS) -MMD -MP
LIBMT_CFLAGS = $(JSON_GLIB_CFLAGS)
LIBMT_LIBS = $(JSON_GLIB_LIBS) $(ZSTD_LIBS)
ZSTD_LIBS = $(call pkg_config,ZSTD_LIBS,--libs libzstd liblz4)

LIB_SRCS := lib/msg.c lib/qmp.c lib/serial.c lib/serial_protocol.c lib/unix_socket.c \
	lib/guestconf.c lib/qemu_argv.c lib/child.c lib/vm.c lib/record_stream.c \
	lib/trace_file.c
LIB_OBJS := $(patsubst %.c,$(OBJ)/%.o,$(LIB_SRCS))
LIBMT := $(OBJ)/libmemory_tracer.a

$(OBJ)/lib/%.o: lib/%.c | deps
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(LIBMT): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

-include $(LIB_OBJS:.o=.d)

# Unit tests of the library's modules (tests/unit/test_*.c, one per module).
# test_guest_helper runs the real guest helper on a pty (needs it built).
$(BUILD)/tests/unit/test_serial $(BUILD)/tests/unit/test_qmp \
$(BUILD)/tests/unit/test_guestconf $(BUILD)/tests/unit/test_guest_helper \
$(BUILD)/tests/unit/test_record_stream: \
		$(BUILD)/tests/unit/test_%: tests/unit/test_%.c tests/unit/check.h $(LIBMT)
	@mkdir -p $(@D)
	$(CC) $(LIB_CFLAGS) -o $@ $< $(LIBMT) $(LIBMT_LIBS) -lutil
