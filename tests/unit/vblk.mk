# How a finished virtio-blk request is read (fs/vblk_status.h): header-only, so nothing to
# link; the header is named here so that a change to it rebuilds the test.
unit_vblk_SRCS :=
$(BUILD)/unit/test_vblk: fs/vblk_status.h
