#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Never ends on its own: used with --timeout.
sleep 10000000
