# SPDX-License-Identifier: GPL-2.0-or-later
#
# memory_tracer: make (build everything), make check, make run, make bench.
# Build outputs go to build/ only.  Each directory adds its own rules in a
# fragment (qemu/qemu.mk, tracer/tracer.mk, ...), included below.

.DEFAULT_GOAL := all
SHELL := /bin/bash
TOP := $(abspath .)
BUILD := $(TOP)/build
BIN := $(BUILD)/bin
PREFIX ?= /usr/local

# Debian packages the build, the tests and the benchmarks need: the one list.
DEB_PACKAGES := build-essential pkg-config ccache meson ninja-build python3 \
	dpkg-dev xz-utils patch cpio libglib2.0-dev libpixman-1-dev libfdt-dev \
	zlib1g-dev libjson-glib-dev musl-tools busybox-static procps psmisc \
	file libzstd-dev zstd liblz4-dev lz4 libcairo2-dev python3-numpy \
	python3-zstandard python3-lz4 \
	slurm-wlm munge parallel mmdebstrap squashfs-tools sqlite3

CC := gcc
CFLAGS ?= -O2 -g
WARN := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
# The static (musl) compiler of the guest helper and the test workloads.
MUSL_CC := musl-gcc

# Flags of Debian's libraries, by what a binary uses (pkg-config runs once
# each, when first needed: after `deps` has installed it).
pkg_config = $(eval $(1) := $$(shell pkg-config $(2)))$($(1))
GLIB_CFLAGS = $(call pkg_config,GLIB_CFLAGS,--cflags glib-2.0)
GLIB_LIBS = $(call pkg_config,GLIB_LIBS,--libs glib-2.0)
JSON_GLIB_CFLAGS = $(call pkg_config,JSON_GLIB_CFLAGS,--cflags json-glib-1.0 gio-2.0)
JSON_GLIB_LIBS = $(call pkg_config,JSON_GLIB_LIBS,--libs json-glib-1.0 gio-2.0)

.PHONY: all deps check run bench bench-quick install clean distclean
all: deps qemu tracer tools guest

# $(call deb_install,PACKAGES,WHO): a recipe line that installs the
# Debian packages of PACKAGES that are missing; as non-root it prints the
# exact command instead and fails.  WHO prefixes its messages.  apt's and
# dpkg's chatter is shown only if apt fails (scripts/debian.sh).
deb_install = @missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${db:Status-Abbrev}' "$$p" 2>/dev/null | grep -q '^ii' || echo "$$p"; \
	done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "$(2): missing Debian packages; run as root:" >&2; \
			echo "  apt-get update && apt-get install -y" $$missing >&2; \
			exit 1; \
		fi; \
		echo "$(2): installing" $$missing; \
		. scripts/debian.sh && apt_quiet update && apt_quiet install -y $$missing; \
	fi

# Install what is missing; as non-root, print the exact command instead.
deps: $(BUILD)/.deps-ok
$(BUILD)/.deps-ok: Makefile
	$(call deb_install,$(DEB_PACKAGES),memory_tracer)
	@mkdir -p $(BUILD) && touch $@

include qemu/qemu.mk
include lib/lib.mk
include tracer/tracer.mk
include tools/tools.mk
include guest/guest.mk
include tests/tests.mk
include bench/bench.mk

clean:
	rm -rf $(BUILD)/bin/memory_tracer $(BUILD)/obj $(BUILD)/tests

distclean:
	rm -rf $(BUILD)
