/*
 * vfs.h - what a filesystem gives the VFS (fs/vfs.c), and what the VFS gives it.
 *
 * A filesystem names files by 64-bit inode handles of its own choosing (ext2: inode numbers;
 * ramfs: node addresses). The VFS resolves paths one component at a time with lookup, keeps
 * per-core file tables (descriptor -> mount, inode, offset, flags) and routes every call to the
 * mount's owner core (see isle/fs.h). A filesystem's functions therefore run on its owner core
 * only, one call at a time per mount (the VFS queues the owner's own threads and the calls of
 * other cores; a call that blocks on the disk keeps the mount until it returns), unless the
 * mount is read-only and VFS_ANY_CORE, in which case its functions run on every core at once and
 * must only read memory that never changes after mount. A filesystem's function MUST NOT call
 * the VFS (fs_*) for its own mount: it would wait for itself.
 *
 * All functions return 0 (or a byte count) or a negative errno. Names come as (name, len),
 * not NUL-terminated, 1 <= len <= FS_NAME_MAX, never "." or ".." (the VFS handles those by
 * walking back up the path it resolved). A filesystem does not trust its image: a corrupt
 * structure yields -EIO and a log line, never a crash or an endless loop.
 */
#ifndef ISLE_FS_VFS_H
#define ISLE_FS_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isle/fs.h>

struct vfs_mount;

/* [I]: a filesystem's constant table of functions, shared by every core. */
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
	/* New regular file / directory `name` in dir: -EEXIST, -ENOSPC, -ENAMETOOLONG. mode holds
	 * the permission bits only (mode & 07777); the type is the function's. */
	int (*create)(struct vfs_mount *m, uint64_t dir, const char *name, size_t len,
	              uint32_t mode, uint64_t *ino);
	int (*mkdir)(struct vfs_mount *m, uint64_t dir, const char *name, size_t len, uint32_t mode,
	             uint64_t *ino);
	int (*unlink)(struct vfs_mount *m, uint64_t dir, const char *name,
	              size_t len); /* -EISDIR */
	int (*rmdir)(struct vfs_mount *m, uint64_t dir, const char *name,
	             size_t len); /* -ENOTEMPTY */
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
	const struct fs_ops *ops; /* [I] */
	void *priv;               /* [I] the filesystem's state; what it points to is [o] of
	                           * owner (or [I]: a VFS_ANY_CORE mount is read-only) */
	uint64_t root;            /* [I] inode of its root directory */
	unsigned owner;           /* [I] core that runs its functions, or VFS_ANY_CORE */
	bool readonly;            /* [I] writes give -EROFS */
	const char *name;         /* [I] "ramfs", "ext2" */
	/* Set by the VFS: */
	unsigned slot;            /* [I] index in the mount table */
	struct vfs_mount *parent; /* [I] mount holding the mount point (NULL for "/") */
	uint64_t parent_dir;      /* [I] directory of parent holding the mount point */
	const char *base;         /* [I] last component of path (in path) */
	size_t base_len;          /* [I] its bytes */
	bool unmounted;           /* [o] of owner (x_unmount runs there, by message from other
	                           * cores): fs_shutdown has unmounted it (the VM is ending) */
};

/* Mounts at most; "/" is one of them. */
#define VFS_MOUNT_MAX 16

/*
 * Adds a mount. Core 0 only (the table is written by one core), thread or boot context, before
 * files on that path are used; mounts are never removed. `path` is absolute and canonical (no
 * "." or ".." component, no repeated or trailing '/', shorter than vfs_mount.path). The first
 * mount is "/". The mount point's parent directory must exist; the mount point itself need not
 * exist in the parent filesystem (path resolution checks the mount table before asking the
 * parent, and readdir of the parent lists it). A VFS_ANY_CORE mount must be read-only: its
 * functions run on every core at once. 0, or -EBUSY (path already mounted), -ENOENT/-ENOTDIR
 * (no parent directory, or no "/" yet), -EINVAL (bad path, owner or ops), -ENOMEM (table full,
 * VFS_MOUNT_MAX).
 */
int vfs_mount(const char *path, const struct fs_ops *ops, void *priv, uint64_t root, unsigned owner,
              bool readonly, const char *name);

/* The start-up of files (fs/initrd.c): mounts "/" from the initrd, then calls fs_disk_init
 * (fs/disk.h). Boot calls it in the main thread on core 0, before main(), when it is linked. */
void fs_init(void);
/* Unmounts every writable file system (written back, marked clean), each on its owner core.
 * exit() calls it from a thread before the VM ends; nothing should write files afterwards. */
void fs_shutdown(void);

#endif
