/*
 * test_vblk.c - host tests of how virtio-blk reads a finished request (fs/vblk_status.h).
 *
 * The driver sets the status byte to VBLK_STATUS_UNSET before the device sees the request; a
 * request is a success only when the device wrote OK there and the used length covers the
 * status byte (for a read, the data before it too). Each case is a request the way the driver
 * builds it and a device's answer; a device that gives a request back without writing its
 * status byte (the byte left as it was, or a used length that stops short) must never make it
 * a success.
 */
#include <stdint.h>

#include "fs/vblk_status.h"
#include "tests/unit/test.h"

/* A request of `data` bytes as the driver makes it, given back by a device that wrote `status`
 * (or nothing, if it is negative) and reported `used` bytes. */
static enum vblk_outcome answer(uint32_t type, uint32_t data, int status, uint32_t used)
{
	uint8_t byte = VBLK_STATUS_UNSET; /* what do_request puts there */
	if (status >= 0)
		byte = (uint8_t)status;
	uint32_t writable = (type == VIRTIO_BLK_T_IN ? data : 0) + 1;
	return vblk_outcome(byte, used, writable);
}

TEST(done_when_the_device_wrote_ok)
{
	CHECK_EQ(answer(VIRTIO_BLK_T_IN, 4096, VIRTIO_BLK_S_OK, 4097), VBLK_DONE);
	CHECK_EQ(answer(VIRTIO_BLK_T_OUT, 4096, VIRTIO_BLK_S_OK, 1), VBLK_DONE);
	CHECK_EQ(answer(VIRTIO_BLK_T_FLUSH, 0, VIRTIO_BLK_S_OK, 1), VBLK_DONE);
}

TEST(device_errors_fail)
{
	CHECK_EQ(answer(VIRTIO_BLK_T_IN, 512, VIRTIO_BLK_S_IOERR, 513), VBLK_FAILED);
	CHECK_EQ(answer(VIRTIO_BLK_T_OUT, 512, VIRTIO_BLK_S_IOERR, 1), VBLK_FAILED);
	CHECK_EQ(answer(VIRTIO_BLK_T_FLUSH, 0, VIRTIO_BLK_S_UNSUPP, 1), VBLK_FAILED);
	CHECK_EQ(answer(VIRTIO_BLK_T_OUT, 512, 7, 1), VBLK_FAILED); /* no such status */
	/* an error status counts even if the used length is short: the device wrote it */
	CHECK_EQ(answer(VIRTIO_BLK_T_IN, 512, VIRTIO_BLK_S_IOERR, 1), VBLK_FAILED);
}

/* The hole of issue 10: a completion without the status byte counted as success. */
TEST(no_status_byte_is_no_success)
{
	/* the byte never written, whatever the length says */
	CHECK_EQ(answer(VIRTIO_BLK_T_OUT, 512, -1, 0), VBLK_NO_STATUS);
	CHECK_EQ(answer(VIRTIO_BLK_T_OUT, 512, -1, 1), VBLK_NO_STATUS);
	CHECK_EQ(answer(VIRTIO_BLK_T_IN, 512, -1, 513), VBLK_NO_STATUS);
	CHECK_EQ(answer(VIRTIO_BLK_T_FLUSH, 0, -1, 0), VBLK_NO_STATUS);
	/* OK in the byte, but the device says it did not write that far */
	CHECK_EQ(answer(VIRTIO_BLK_T_OUT, 512, VIRTIO_BLK_S_OK, 0), VBLK_NO_STATUS);
	CHECK_EQ(answer(VIRTIO_BLK_T_IN, 512, VIRTIO_BLK_S_OK, 512), VBLK_NO_STATUS);
	CHECK_EQ(answer(VIRTIO_BLK_T_IN, 512, VIRTIO_BLK_S_OK, 0), VBLK_NO_STATUS);
	/* the sentinel is no status a device writes */
	CHECK(VBLK_STATUS_UNSET != VIRTIO_BLK_S_OK && VBLK_STATUS_UNSET != VIRTIO_BLK_S_IOERR &&
	      VBLK_STATUS_UNSET != VIRTIO_BLK_S_UNSUPP);
}

int main(void)
{
	RUN(done_when_the_device_wrote_ok);
	RUN(device_errors_fail);
	RUN(no_status_byte_is_no_success);
	TEST_EXIT();
}
