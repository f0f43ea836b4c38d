/*
 * ramfs.h - a read-only filesystem built from a cpio newc archive (the initrd).
 *
 * ramfs_build() walks the archive once to check it, then builds a tree of nodes in memory of
 * the calling core; file data and names are not copied, they point into the archive, which
 * MUST stay in place and unchanged for as long as the ramfs is used. After ramfs_build returns
 * nothing is ever written again, so every core may read the tree at once without messages: the
 * mount is read-only and VFS_ANY_CORE:
 *
 *     vfs_mount("/", &ramfs_ops, fs, ramfs_root(fs), VFS_ANY_CORE, true, "ramfs");
 *
 * The tree: regular files, directories and symbolic links (S_IFLNK, never followed: a lookup
 * through one gives -ELOOP); other types (devices, fifos, sockets) are skipped and counted.
 * Parent directories an archive does not list are created (mode 0755). When a name comes twice
 * the later entry wins; a directory that comes again keeps its contents and takes the new mode.
 * Hard links (regular files sharing ino and device in the archive) share one node. Inode handles
 * are node addresses; fs_stat.ino numbers the reachable nodes from 1 (the root) in name order.
 * readdir gives ".", "..", then the entries sorted by name (bytewise).
 *
 * Context: ramfs_build and ramfs_free allocate (thread or boot context, one core); the fs_ops
 * functions only read and may run on any core at any time.
 */
#ifndef ISLE_FS_RAMFS_H
#define ISLE_FS_RAMFS_H

#include <stddef.h>
#include <stdint.h>
#include "fs/vfs.h"

struct ramfs;

/* What a ramfs holds (reachable nodes only). */
struct ramfs_info {
	size_t files;    /* regular files */
	size_t dirs;     /* directories, the root included */
	size_t symlinks; /* symbolic links */
	size_t skipped;  /* archive entries of other types, not in the tree */
	uint64_t bytes;  /* bytes of file data */
	size_t memory;   /* bytes of memory the tree takes */
};

/* Builds a ramfs from the archive [archive, archive + len); len 0 gives an empty root. 0, or
 * -EINVAL (malformed archive) or -ENOMEM, with a message in err either way. */
int ramfs_build(const void *archive, size_t len, struct ramfs **out, char *err, size_t errlen);
/* Frees a ramfs no mount uses (tests; the initrd stays mounted for good). */
void ramfs_free(struct ramfs *fs);
uint64_t ramfs_root(const struct ramfs *fs);
void ramfs_info(const struct ramfs *fs, struct ramfs_info *out);

extern const struct fs_ops ramfs_ops;

#endif
