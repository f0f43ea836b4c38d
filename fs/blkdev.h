/*
 * blkdev.h - a block device as a filesystem sees it: 512-byte sectors, blocking calls.
 *
 * virtio-blk (fs/virtio_blk.c) provides one; host tests provide one over a file. Calls block
 * the calling thread until the device has answered; a virtio-blk device serves each core on
 * that core's own request queue, so any core may call, but a filesystem calls from its owner
 * core only. Return 0 or a negative errno (-EIO device error, -EINVAL beyond the end,
 * -EROFS read-only device).
 */
#ifndef ISLE_FS_BLKDEV_H
#define ISLE_FS_BLKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECTOR_SIZE 512

/* [I] after the driver's probe (boot core); read by every core. */
struct blkdev {
	const char *name; /* [I] "vda" */
	uint64_t sectors; /* [I] size in 512-byte sectors */
	bool readonly;    /* [I] writes give -EROFS */
	int (*read)(struct blkdev *b, uint64_t sector, void *buf, size_t count);
	int (*write)(struct blkdev *b, uint64_t sector, const void *buf, size_t count);
	int (*flush)(struct blkdev *b); /* earlier completed writes are durable when it returns */
	void *priv;                     /* [I] the driver's */
};

#endif
