/*
 * disk.c - mounts the disks the boot found: the first virtio-blk disk at /disk, the next ones at
 * /disk1, /disk2, ... when they hold an ext2 file system.
 *
 * Runs once, in a thread on the boot core, as part of file system start-up and before main()
 * (ext2 reads the disk, and reading blocks the thread). The boot core owns every ext2 mount: its
 * functions run there, and other cores' calls reach it by message (fs/vfs_remote.c). A disk that does
 * not hold ext2, or holds a corrupt one, is reported and left unmounted; the boot goes on.
 */
#include <stdio.h>
#include <isle/errno.h>
#include <isle/thread.h>
#include "fs/disk.h"
#include "fs/ext2.h"
#include "fs/vfs.h"
#include "fs/virtio_blk.h"
#include "kernel/console.h"
#include "kernel/core.h"

/* File times: the wall clock (0 when the machine has no RTC). */
static uint32_t wall_clock(void)
{
	return (uint32_t)time_unix();
}

void fs_disk_init(void)
{
	for (unsigned i = 0; i < vblk_count(); i++) {
		struct blkdev *b = vblk_get(i);
		char path[16], err[128] = "";
		void *fs;
		if (i == 0)
			snprintf(path, sizeof(path), "/disk");
		else
			snprintf(path, sizeof(path), "/disk%u", i);
		int rc = ext2_mount(b, b->readonly, &fs, err, sizeof(err));
		if (rc < 0) {
			log_error("disk %s: not mounted: %s (%d)", b->name,
			          err[0] ? err : "not ext2", rc);
			continue;
		}
		ext2_set_clock(fs, wall_clock);
		/* read-only: the device is, or the image has features we may read but not write */
		bool readonly = ext2_readonly(fs);
		rc = vfs_mount(path, &ext2_ops, fs, EXT2_ROOT_INO, core_id(), readonly, "ext2");
		if (rc < 0) {
			log_error("disk %s: cannot mount at %s (%d)", b->name, path, rc);
			struct vfs_mount tmp = { .ops = &ext2_ops, .priv = fs };
			ext2_ops.unmount(&tmp); /* write back and let go of the file system */
			continue;
		}
		log_info("disk %s: ext2 mounted at %s%s (owner core %u)", b->name, path,
		         readonly ? " read-only" : "", core_id());
	}
}
