/*
 * initrd.c - the start-up of files: "/" is the initrd, then the disk.
 *
 * Boot calls fs_init (through a weak reference: only images that use files have it) in the
 * main thread on core 0, before main(). The initrd is the first module the hypervisor loaded
 * (-initrd); RAM is identity mapped, so its physical address is a pointer, and the memory is
 * not in any core's allocator, so it stays as it is for good. It becomes a read-only ramfs every
 * core reads directly. A malformed archive or no memory for the tree is logged, and "/" is then
 * an empty read-only directory: the boot goes on. Other cores see the mounts through the
 * messages that start threads on them after this (a message ring is release/acquire ordered).
 */
#include <isle/errno.h>
#include <isle/fs.h>
#include "arch/x86_64/arch.h"
#include "fs/cpio.h"
#include "fs/disk.h"
#include "fs/ramfs.h"
#include "fs/vfs.h"
#include "kernel/console.h"

void fs_init(void)
{
	unsigned nmod = arch_module_count();
	size_t len = 0;
	const void *initrd_bytes = arch_module(0, &len);
	struct ramfs *fs = NULL;
	char err[CPIO_ERR_MAX + 64];
	int rc;

	if (nmod > 0) {
		if (nmod > 1)
			log_warn("initrd: %u modules, only the first one is used", nmod);
		rc = ramfs_build(initrd_bytes, len, &fs, err, sizeof(err));
		if (rc)
			log_error("initrd: not mounted: %s", err);
	}
	bool initrd = fs != NULL;
	if (!fs) {
		rc = ramfs_build(NULL, 0, &fs, err, sizeof(err));
		if (rc) {
			log_error("fs: no root directory: %s", err);
			return;
		}
	}
	rc = vfs_mount("/", &ramfs_ops, fs, ramfs_root(fs), VFS_ANY_CORE, true, "ramfs");
	if (rc) {
		log_error("fs: cannot mount /: error %d", rc);
		ramfs_free(fs);
		return;
	}
	if (initrd) {
		struct ramfs_info info;
		ramfs_info(fs, &info);
		log_info(
		        "initrd: %zu files, %lu bytes mounted at / (%zu directories, %zu symlinks, "
		        "%zu KiB of memory)",
		        info.files, info.bytes, info.dirs, info.symlinks, info.memory >> 10);
		if (info.skipped)
			log_warn("initrd: %zu entries of other types (devices, fifos) left out",
			         info.skipped);
	}
	fs_disk_init();
}
