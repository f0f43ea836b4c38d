/*
 * vblk_status.h - what a virtio-blk request the device gave back means (fs/virtio_blk.c).
 *
 * A request ends with a status byte the device writes: VIRTIO_BLK_S_OK, _IOERR or _UNSUPP. The
 * device is not trusted to have written it: the driver fills the byte with VBLK_STATUS_UNSET, a
 * value no device writes, before it hands the request over, and the used length the device
 * reports (the bytes it wrote, the status byte last) must cover every writable byte of the
 * chain: the data of a read, and the status byte. A request is done only with both; anything
 * else is a failure, never a success. Pure: the host test (tests/unit/test_vblk.c) includes it.
 */
#ifndef ISLE_FS_VBLK_STATUS_H
#define ISLE_FS_VBLK_STATUS_H

#include <stdint.h>
#include <linux/virtio_blk.h>

#define VBLK_STATUS_UNSET 0xFF /* the status byte until the device writes it */

enum vblk_outcome {
	VBLK_DONE,      /* the device wrote OK and said it wrote every writable byte */
	VBLK_FAILED,    /* the device wrote an error status (IOERR, UNSUPP, anything not OK) */
	VBLK_NO_STATUS, /* the byte is unwritten, or reads OK but the used length stops short */
};

/* The outcome of a request whose status byte holds `status` and which the device gave back
 * saying it wrote `used` bytes of the `writable` ones (data of a read + 1 status byte). */
static inline enum vblk_outcome vblk_outcome(uint8_t status, uint32_t used, uint32_t writable)
{
	if (status == VBLK_STATUS_UNSET)
		return VBLK_NO_STATUS;
	if (status != VIRTIO_BLK_S_OK)
		return VBLK_FAILED;
	return used >= writable ? VBLK_DONE : VBLK_NO_STATUS;
}

#endif
