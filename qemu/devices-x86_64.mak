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
#  * a user's own image saved the way a modern Debian or Ubuntu cloud image
#    runs (issue 19): machine q35 (ICH9 LPC, ICH9 AHCI for its built-in
#    SATA, PCIe root complex), the disk on virtio-blk-pci, the NIC
#    virtio-net-pci (or e1000e, q35's default -nic model), PCIe root ports
#    (libvirt puts every device behind one), virtio-rng and virtio-balloon
#    (libvirt adds both by default).  The embedded guest's root file system
#    is a read-only virtio-blk disk too (guest/README.md).
#
# Everything these boards and devices need is pulled in by QEMU's Kconfig
# `select`s; `imply` and `default y` are off with --without-default-devices.
# Not built (a snapshot that has any of them cannot be restored): the
# isapc and microvm machines, USB (libvirt's qemu-xhci + usb-tablet), sound,
# SCSI (virtio-scsi), NVMe, AHCI outside q35, virtio devices other than
# serial/blk/net/rng/balloon, NICs other than e1000, e1000e and virtio-net,
# display cards other than std VGA (no QXL, no virtio-gpu), IPMI, TPM, NVDIMM, CXL, VFIO,
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
CONFIG_Q35=y
CONFIG_PCIE_PORT=y
CONFIG_E1000E_PCI_EXPRESS=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_NET=y
CONFIG_VIRTIO_RNG=y
CONFIG_VIRTIO_BALLOON=y
