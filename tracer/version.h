/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MEMORY_TRACER_VERSION_H
#define MEMORY_TRACER_VERSION_H
#define MEMORY_TRACER_VERSION "0.1.0"
#endif
