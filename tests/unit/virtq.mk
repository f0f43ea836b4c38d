# Split virtqueues (kernel/virtio/virtq.c) against a fake device that misbehaves; the test
# counts the kernel log (klog) itself.
unit_virtq_SRCS := kernel/virtio/virtq.c
$(BUILD)/unit/test_virtq: kernel/virtio/virtq.h tests/unit/fakerand.h
