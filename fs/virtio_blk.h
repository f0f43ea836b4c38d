/*
 * virtio_blk.h - virtio-blk disks (fs/virtio_blk.c): one request queue per core.
 *
 * vblk_probe runs on the boot core before the other cores start; vblk_attach_core on every
 * core (the boot core included) afterwards. The disks are then struct blkdev (fs/blkdev.h),
 * usable from a thread on any core: each core sends its requests on its own queue.
 */
#ifndef ISLE_FS_VIRTIO_BLK_H
#define ISLE_FS_VIRTIO_BLK_H

#include "fs/blkdev.h"

#define VBLK_MAX_DISKS 4

void vblk_probe(void);
void vblk_attach_core(void);
void blk_init_core(void);            /* both, in order: the boot sequence calls it on every core */
unsigned vblk_count(void);           /* disks found: vda, vdb, ... */
struct blkdev *vblk_get(unsigned i); /* disk i, or NULL */

/* Per-core counters of one disk: what the calling core's threads asked for. */
struct vblk_stats {
	uint64_t reads, writes, flushes;    /* completed requests */
	uint64_t bytes_read, bytes_written; /* their data */
	uint64_t errors;                    /* requests the device failed */
	uint64_t forwarded;                 /* requests sent on another core's queue */
};
void vblk_stats(unsigned i, struct vblk_stats *out);

#endif
