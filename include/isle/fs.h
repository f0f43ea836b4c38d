/*
 * isle/fs.h - files: one tree of mounted filesystems, per-core file tables.
 *
 * The tree: "/" is the initrd (a read-only ramfs built from a cpio archive, passed with
 * -initrd) or an empty read-only root when there is none; a virtio-blk disk with ext2 is mounted
 * at "/disk" when one is found (more disks at /disk1, /disk2, ...).
 *
 * Ownership and context:
 *  - Every core has its own file table: a descriptor is meaningful only on the core that opened
 *    it (like a PERCORE variable). Descriptors are small integers >= 0.
 *  - A read-only filesystem (the initrd) is read by every core directly, without messages.
 *  - A writable filesystem belongs to one core, its owner (the core that mounted it). Calls from
 *    another core are carried to the owner by message and run there in a thread; the caller
 *    blocks until the answer comes. Buffers and path strings may be on the caller's stack or
 *    heap (both are mapped on every core). Nothing is locked: the owner does one call at a time.
 *  - Thread context only (calls may block on the disk or on another core).
 *  - Errors are negative errno codes (isle/errno.h); nothing panics on bad input or a corrupt
 *    image.
 *  - fs_fsync(fd) returns when the file's data and metadata are on the disk (a virtio-blk flush
 *    has completed); fs_sync() does the same for everything.
 *  - A buffer or path handed to a filesystem of another core MUST NOT be a PERCORE variable (its
 *    address means other memory there): -EFAULT.
 *
 * Paths are absolute ("/etc/motd"; a relative path is -EINVAL); repeated '/' are ignored; "."
 * and ".." work as in POSIX (".." of "/" is "/"; ".." at a mount's root leaves the mount). A
 * component longer than FS_NAME_MAX, or a path of FS_PATH_MAX bytes or more, is -ENAMETOOLONG;
 * more than 64 nested directories is -ELOOP. Symbolic links are never followed: opening one or
 * walking through one is -ELOOP, fs_stat describes the link itself. The flags mean what POSIX
 * says: O_TRUNC acts only with write access, pwrite ignores O_APPEND, a read-only filesystem
 * refuses changes with -EROFS, fs_rename across filesystems is -EXDEV, and a mount point (or
 * a directory holding one) cannot be removed or renamed (-EBUSY). Threads of one core that
 * share a descriptor share its offset, without atomicity between them. fs_lseek can only rewind
 * a directory (SEEK_SET 0). See docs/api-fs.md.
 */
#ifndef ISLE_FS_H
#define ISLE_FS_H

#include <stddef.h>
#include <stdint.h>

typedef long ssize_t;

/* fs_open flags (the Linux values; a host build may already have them from <fcntl.h>) */
#ifndef O_CREAT
#define O_RDONLY 0x0000
#define O_WRONLY 0x0001
#define O_RDWR 0x0002
#define O_ACCMODE 0x0003
#define O_CREAT 0x0040
#define O_EXCL 0x0080
#define O_TRUNC 0x0200
#define O_APPEND 0x0400
#define O_DIRECTORY 0x10000
#endif

/* fs_lseek whence */
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif

/* file types in fs_stat.mode (the Linux values) */
#ifndef S_IFMT
#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_IFLNK 0120000
#define S_ISDIR(m) (((m)&S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m)&S_IFMT) == S_IFREG)
#endif

#define FS_NAME_MAX 255  /* bytes in one path component */
#define FS_PATH_MAX 1024 /* bytes in a path, with the NUL */
#define FS_OPEN_MAX 256  /* open descriptors per core */

struct fs_stat {
	uint64_t ino;   /* inode number within its filesystem */
	uint32_t mode;  /* S_IF* type | permission bits */
	uint32_t nlink; /* hard links */
	uint64_t size;  /* bytes */
	int64_t mtime;  /* seconds since 1970 (0 when unknown) */
};

struct fs_dirent {
	uint64_t ino;
	uint8_t type; /* DT_REG, DT_DIR, ... (the Linux values) */
	char name[FS_NAME_MAX + 1];
};
#ifndef DT_UNKNOWN
#define DT_UNKNOWN 0
#define DT_DIR 4
#define DT_REG 8
#define DT_LNK 10
#endif

int fs_open(const char *path, int flags, uint32_t mode); /* fd, or -errno */
ssize_t fs_read(int fd, void *buf, size_t len);          /* bytes, 0 at end, or -errno */
ssize_t fs_write(int fd, const void *buf, size_t len);   /* bytes, or -errno (-ENOSPC) */
ssize_t fs_pread(int fd, void *buf, size_t len, uint64_t off);
ssize_t fs_pwrite(int fd, const void *buf, size_t len, uint64_t off);
int64_t fs_lseek(int fd, int64_t off, int whence); /* new offset, or -errno */
int fs_close(int fd);
int fs_fstat(int fd, struct fs_stat *st);
int fs_stat(const char *path, struct fs_stat *st);
/* The next entry of the directory open as fd ("." and ".." included): 1, 0 at the end, -errno. */
int fs_readdir(int fd, struct fs_dirent *out);
int fs_mkdir(const char *path, uint32_t mode);
int fs_rmdir(const char *path);                  /* an empty directory */
int fs_unlink(const char *path);                 /* a file */
int fs_rename(const char *from, const char *to); /* within one filesystem; replaces a file */
int fs_fsync(int fd);                            /* durable when it returns 0 */
int fs_sync(void);                               /* every writable filesystem */
int fs_ftruncate(int fd, uint64_t size);

/* Reads a whole file into a new kmalloc block (NUL-terminated; *len without the NUL).
 * -EFBIG beyond max bytes. The caller kfrees it. */
int fs_read_file(const char *path, size_t max, char **data, size_t *len);

/* Per-core counters. */
struct fs_stats {
	uint64_t opens, reads, writes; /* calls on this core */
	uint64_t bytes_read, bytes_written;
	uint64_t remote_calls; /* calls this core sent to a filesystem's owner */
	uint64_t served_calls; /* calls this core ran as an owner for other cores */
};
void fs_stats(struct fs_stats *out);

#endif
