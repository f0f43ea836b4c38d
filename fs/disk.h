/*
 * disk.h - the disk's part of the file system start-up (implemented by fs/disk.c).
 *
 * fs_init (fs/initrd.c) mounts "/" and then calls fs_disk_init once, when the image has it: on
 * core 0, in thread context (the main thread, before main() runs, with every core up), so it
 * MAY block on the device. It finds the disk (virtio-blk) and mounts what is on it, e.g.
 *
 *     vfs_mount("/disk", &ext2_ops, fs, EXT2_ROOT_INO, 0, false, "ext2");
 *
 * (the mount point need not exist in the initrd). It logs its own errors; the boot goes on
 * without the disk.
 *
 * Every image that uses files gets the disks too (virtio-blk and ext2 come with libisle_fs.a).
 */
#ifndef ISLE_FS_DISK_H
#define ISLE_FS_DISK_H

void fs_disk_init(void);

#endif
