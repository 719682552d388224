# SPDX-License-Identifier: GPL-2.0-or-later
# The one place that pins the QEMU source package we build from.
QEMU_DEB_VERSION='1:7.2+dfsg-7+deb12u18'
QEMU_DEB_VERSION_FILE='7.2+dfsg-7+deb12u18'
QEMU_DSC='qemu_7.2+dfsg-7+deb12u18.dsc'
QEMU_DSC_SHA256='6b6bd27b947ec89e40a1d6b26d9c9f3c698ca691da13163e0483f6061bbb20b3'
QEMU_ORIG='qemu_7.2+dfsg.orig.tar.xz'
QEMU_ORIG_SHA256='91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f'
QEMU_DEBIAN='qemu_7.2+dfsg-7+deb12u18.debian.tar.xz'
QEMU_DEBIAN_SHA256='28a1c86310ee53b6bf1854cffe6f6be6ed29a08db7d05759f8ac57b8d6a6cb2f'
DEBIAN_MIRROR='http://deb.debian.org/debian'
DEBIAN_SECURITY_MIRROR='http://deb.debian.org/debian-security'
