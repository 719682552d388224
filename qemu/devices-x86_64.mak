# SPDX-License-Identifier: GPL-2.0-or-later
#
# The devices built into our qemu-system-x86_64 (QEMU's configs/devices
# format; qemu/build.sh configures with --without-default-devices and this
# list).  Only what memory_tracer runs:
#
#  * the embedded guest (build/guest/guest.conf): machine pc-i440fx, two
#    16550 UARTs, a virtio console on virtio-serial-pci, the disk on no
#    controller at all;
#  * an image set up the original's way (`-hda IMAGE -nographic`): the same
#    machine with its default devices -- IDE disk and CD-ROM on PIIX3,
#    floppy controller, parallel port, PS/2 with vmport/vmmouse, HPET, the
#    e1000 NIC and the standard VGA card (-nographic keeps the card; its
#    state is in such a snapshot, so it must be there to restore it).
#
# Everything these boards and devices need is pulled in by QEMU's Kconfig
# `select`s; `imply` and `default y` are off with --without-default-devices.
# Not built (a snapshot that has any of them cannot be restored): the q35,
# isapc and microvm machines, USB, sound, SCSI, NVMe, AHCI, virtio devices
# other than virtio-serial (virtio-blk, virtio-net, ...), NICs other than
# e1000, display cards other than std VGA, IPMI, TPM, NVDIMM, CXL, VFIO,
# pvpanic, watchdogs and QEMU's test devices.

CONFIG_I440FX=y
CONFIG_HPET=y
CONFIG_PARALLEL=y
CONFIG_VMPORT=y
CONFIG_VMMOUSE=y
CONFIG_E1000_PCI=y
CONFIG_VGA_PCI=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_SERIAL=y
