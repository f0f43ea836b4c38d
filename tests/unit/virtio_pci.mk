# The modern virtio-pci transport (kernel/virtio/virtio_pci.c) against a fake PCI function the
# test defines (configuration space and a memory BAR in host memory); virtq.c for a queue to
# set up, kernel/printf.c for the device's name.
unit_virtio_pci_SRCS := kernel/virtio/virtio_pci.c kernel/virtio/virtq.c kernel/printf.c
$(BUILD)/unit/test_virtio_pci: kernel/virtio/virtio.h kernel/virtio/virtq.h
