/*
 * vfs.h - what a filesystem gives the VFS (fs/vfs.c), and what the VFS gives it.
 *
 * A filesystem names files by 64-bit inode handles of its own choosing (ext2: inode numbers;
 * ramfs: node addresses). The VFS resolves paths one component at a time with lookup, keeps
 * per-core file tables (descriptor -> mount, inode, offset, flags) and routes every call to the
 * mount's owner core (see isle/fs.h). A filesystem's functions therefore run on one core at a
 * time, its owner's, unless the mount is read-only and marked `any_core`, in which case its
 * functions must only read memory that never changes after mount.
 *
 * All functions return 0 (or a byte count) or a negative errno. Names come as (name, len),
 * not NUL-terminated, 1 <= len <= FS_NAME_MAX, never "." or ".." (the VFS handles those by
 * walking back up the path it resolved). A filesystem does not trust its image: a corrupt
 * structure yields -EIO (or -EUCLEAN) and a log line, never a crash or an endless loop.
 */
#ifndef ISLE_FS_VFS_H
#define ISLE_FS_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isle/fs.h>

struct vfs_mount;

struct fs_ops {
	/* The inode named `name` in directory `dir`: -ENOENT, -ENOTDIR (dir is not one). */
	int (*lookup)(struct vfs_mount *m, uint64_t dir, const char *name, size_t len,
	              uint64_t *ino);
	int (*stat)(struct vfs_mount *m, uint64_t ino, struct fs_stat *st);
	/* Up to len bytes at off; fewer at the end of the file, 0 at or past it. -EISDIR. */
	ssize_t (*read)(struct vfs_mount *m, uint64_t ino, uint64_t off, void *buf, size_t len);
	/* Writes len bytes at off (extending the file, holes read as zeros): len, or -ENOSPC
	 * having written nothing... or a short count when space ran out part-way. NULL: read-only. */
	ssize_t (*write)(struct vfs_mount *m, uint64_t ino, uint64_t off, const void *buf,
	                 size_t len);
	int (*truncate)(struct vfs_mount *m, uint64_t ino, uint64_t size);
	/* New regular file / directory `name` in dir: -EEXIST, -ENOSPC, -ENAMETOOLONG. */
	int (*create)(struct vfs_mount *m, uint64_t dir, const char *name, size_t len, uint32_t mode,
	              uint64_t *ino);
	int (*mkdir)(struct vfs_mount *m, uint64_t dir, const char *name, size_t len, uint32_t mode,
	             uint64_t *ino);
	int (*unlink)(struct vfs_mount *m, uint64_t dir, const char *name, size_t len); /* -EISDIR */
	int (*rmdir)(struct vfs_mount *m, uint64_t dir, const char *name, size_t len); /* -ENOTEMPTY */
	/* Moves (odir, oname) to (ndir, nname), replacing a file there (a directory there only if
	 * empty). -EINVAL when a directory would move into itself. */
	int (*rename)(struct vfs_mount *m, uint64_t odir, const char *oname, size_t olen,
	              uint64_t ndir, const char *nname, size_t nlen);
	/* The directory entry at *cookie (0 = first; "." and ".." included) into *out, and the cookie
	 * of the next one: 1, 0 at the end, -ENOTDIR. */
	int (*readdir)(struct vfs_mount *m, uint64_t dir, uint64_t *cookie, struct fs_dirent *out);
	int (*fsync)(struct vfs_mount *m, uint64_t ino); /* file + metadata durable; NULL: no-op */
	int (*sync)(struct vfs_mount *m);                /* everything durable; NULL: no-op */
	void (*unmount)(struct vfs_mount *m);            /* sync and release; NULL: nothing */
};

#define VFS_ANY_CORE (~0u)

struct vfs_mount {
	char path[64];            /* [I] where it is mounted: "/" or "/disk" */
	size_t path_len;          /* [I] */
	const struct fs_ops *ops; /* [I] */
	void *priv;               /* [owner] the filesystem's state */
	uint64_t root;            /* [I] inode of its root directory */
	unsigned owner;           /* [I] core that runs its functions, or VFS_ANY_CORE */
	bool readonly;            /* [I] writes give -EROFS */
	const char *name;         /* [I] "ramfs", "ext2" */
};

/* Adds a mount (boot or thread context, before files on that path are used). The mount point
 * must be "/" or an existing directory of the parent. -EBUSY if the path is taken, -ENOMEM. */
int vfs_mount(const char *path, const struct fs_ops *ops, void *priv, uint64_t root,
              unsigned owner, bool readonly, const char *name);

#endif
