#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Does nothing: used with the communications wrapper, so the info is empty.
