/*
 * vfs_file.c - the per-core file tables and the fs_* calls on descriptors (include/isle/fs.h).
 * The design, the mount table and path resolution are in vfs.c; running a call on a mount's
 * owner core is vfs_remote.c.
 */
#include <string.h>
#include <isle/errno.h>
#include <isle/fs.h>
#include <isle/mem.h>
#include "fs/vfs.h"
#include "fs/vfs_priv.h"
#include "kernel/core.h"

/* An open file: one slot of a core's file table. All fields [o]. */
struct vfs_file {
	struct vfs_mount *f_mount; /* the mount the file is on; NULL: the slot is free */
	uint64_t f_ino;            /* the file's inode in that mount */
	uint64_t f_off;            /* files: next byte; directories: the filesystem's cookie */
	uint32_t f_gen;            /* changes whenever the slot is taken or freed */
	int f_flags;               /* the fs_open flags */
	uint16_t f_mnt;            /* readdir: next mount slot to offer as an entry */
	bool f_dir;                /* a directory (readdir, no read/write) */
	bool f_fs_end;             /* readdir: the filesystem's entries are done */
	bool f_reserved;           /* taken by an fs_open that has not finished */
};

PERCORE static struct vfs_file files[FS_OPEN_MAX]; /* [o] this core's file table */

#ifndef ISLE_HOST
/* Boot calls fs_init through a weak reference, which does not pull initrd.o out of the
 * archive; this strong one does, so every image that uses files gets its "/". */
__attribute__((used)) static void (*const vfs_needs_init)(void) = fs_init;
#endif

/* ---- what runs on the owner (one vfs_call each) --------------------------------------------- */

/* open: name in directory ino (or the inode ino2 when name is NULL) -> ino2, st. */
static int64_t x_open(struct vfs_call *c)
{
	struct vfs_mount *m = c->m;
	const struct fs_ops *ops = m->ops;
	bool writing = (c->flags & O_ACCMODE) != O_RDONLY;
	int rc;
	if (c->name) {
		rc = ops->lookup(m, c->ino, c->name, c->len, &c->ino2);
		if (rc == -ENOENT && (c->flags & O_CREAT)) {
			if (c->slash)
				return -EISDIR;
			if (m->readonly || !ops->create)
				return -EROFS;
			rc = ops->create(m, c->ino, c->name, c->len, c->mode, &c->ino2);
			if (rc)
				return rc;
		} else if (rc) {
			return rc;
		} else if ((c->flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
			return -EEXIST;
		}
	}
	rc = ops->stat(m, c->ino2, &c->st);
	if (rc)
		return rc;
	uint32_t type = c->st.mode & S_IFMT;
	if (type == S_IFLNK)
		return -ELOOP;
	if (type == S_IFDIR && (writing || (c->flags & O_CREAT)))
		return -EISDIR;
	if (type != S_IFDIR && ((c->flags & O_DIRECTORY) || c->slash))
		return -ENOTDIR;
	if (writing && (m->readonly || !ops->write))
		return -EROFS;
	if (writing && (c->flags & O_TRUNC) && type == S_IFREG && c->st.size > 0) {
		if (!ops->truncate)
			return -EROFS;
		rc = ops->truncate(m, c->ino2, 0);
		if (rc)
			return rc;
		c->st.size = 0;
	}
	return 0;
}

static int64_t x_read(struct vfs_call *c)
{
	return c->m->ops->read(c->m, c->ino, c->off, c->buf, c->count);
}

/* write at off, or at the end (O_APPEND in flags; off is set to where it went). */
static int64_t x_write(struct vfs_call *c)
{
	const struct fs_ops *ops = c->m->ops;
	if (c->m->readonly || !ops->write)
		return -EROFS;
	if (c->flags & O_APPEND) {
		int rc = ops->stat(c->m, c->ino, &c->st);
		if (rc)
			return rc;
		c->off = c->st.size;
	}
	if (c->off > (uint64_t)INT64_MAX || c->count > (uint64_t)INT64_MAX - c->off)
		return -EFBIG;
	return ops->write(c->m, c->ino, c->off, c->buf, c->count);
}

static int64_t x_truncate(struct vfs_call *c)
{
	if (c->m->readonly || !c->m->ops->truncate)
		return -EROFS;
	return c->m->ops->truncate(c->m, c->ino, c->off);
}

static int64_t x_readdir(struct vfs_call *c)
{
	if (!c->m->ops->readdir)
		return -ENOTDIR;
	return c->m->ops->readdir(c->m, c->ino, &c->off, c->buf);
}

static int64_t x_fsync(struct vfs_call *c)
{
	return c->m->ops->fsync ? c->m->ops->fsync(c->m, c->ino) : 0;
}

/* ---- descriptors ---------------------------------------------------------------------------- */

static struct vfs_file *file_of(int fd)
{
	if (fd < 0 || fd >= FS_OPEN_MAX || !files[fd].f_mount)
		return NULL;
	return &files[fd];
}

int fs_open(const char *path, int flags, uint32_t mode)
{
	if ((flags & O_ACCMODE) == O_ACCMODE)
		return -EINVAL;
	struct vfs_path p;
	int rc = vfs_walk(path, &p);
	if (rc)
		return rc;
	struct vfs_call c = { .flags = flags, .mode = mode & 07777, .slash = p.slash };
	if (p.have_node) {
		if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
			return -EEXIST;
		c.ino2 = p.node.ino;
		p.dir.m = p.node.m;
	} else {
		c.name = p.name;
		c.len = p.len;
	}
	int fd;
	for (fd = 0; fd < FS_OPEN_MAX; fd++)
		if (!files[fd].f_mount && !files[fd].f_reserved)
			break;
	if (fd == FS_OPEN_MAX)
		return -EMFILE;
	struct vfs_file *f = &files[fd];
	f->f_reserved = true; /* the call may block: keep the slot from other threads */
	int64_t r = vfs_run(&c, x_open, p.dir);
	f->f_reserved = false;
	if (r < 0)
		return (int)r;
	f->f_mount = c.m;
	f->f_ino = c.ino2;
	f->f_off = 0;
	f->f_gen++;
	f->f_flags = flags;
	f->f_mnt = 0;
	f->f_dir = S_ISDIR(c.st.mode);
	f->f_fs_end = false;
	vfs_stats.opens++;
	return fd;
}

int fs_close(int fd)
{
	struct vfs_file *f = file_of(fd);
	if (!f)
		return -EBADF;
	f->f_mount = NULL;
	f->f_gen++;
	return 0;
}

/* One read or write of f at off; counts it. */
static ssize_t transfer(struct vfs_file *f, void *buf, size_t len, uint64_t off, bool write,
                        uint64_t *end)
{
	if (!buf && len)
		return -EFAULT;
	if (off > (uint64_t)INT64_MAX)
		return -EINVAL;
	len = MIN(len, (size_t)INT64_MAX);
	struct vfs_call c = { .off = off, .buf = buf, .count = len };
	int64_t n;
	if (write) {
		c.flags = (f->f_flags & O_APPEND) && end ? O_APPEND : 0;
		n = vfs_run(&c, x_write, (struct vfs_pos){ f->f_mount, f->f_ino });
		vfs_stats.writes++;
		if (n > 0)
			vfs_stats.bytes_written += (uint64_t)n;
	} else {
		n = len ? vfs_run(&c, x_read, (struct vfs_pos){ f->f_mount, f->f_ino }) : 0;
		vfs_stats.reads++;
		if (n > 0)
			vfs_stats.bytes_read += (uint64_t)n;
	}
	if (n > (int64_t)len)
		n = -EIO; /* a filesystem answered more than it was asked */
	if (end && n >= 0)
		*end = c.off + (uint64_t)n;
	return (ssize_t)n;
}

static ssize_t file_io(int fd, void *buf, size_t len, bool write)
{
	struct vfs_file *f = file_of(fd);
	int denied = write ? O_RDONLY : O_WRONLY;
	if (!f || (f->f_flags & O_ACCMODE) == denied)
		return -EBADF;
	if (f->f_dir)
		return -EISDIR;
	uint32_t gen = f->f_gen;
	uint64_t end;
	ssize_t n = transfer(f, buf, len, f->f_off, write, &end);
	if (n >= 0 && f->f_gen == gen)
		f->f_off = end;
	return n;
}

ssize_t fs_read(int fd, void *buf, size_t len)
{
	return file_io(fd, buf, len, false);
}

ssize_t fs_write(int fd, const void *buf, size_t len)
{
	return file_io(fd, (void *)buf, len, true);
}

static ssize_t file_pio(int fd, void *buf, size_t len, uint64_t off, bool write)
{
	struct vfs_file *f = file_of(fd);
	int denied = write ? O_RDONLY : O_WRONLY;
	if (!f || (f->f_flags & O_ACCMODE) == denied)
		return -EBADF;
	if (f->f_dir)
		return -EISDIR;
	return transfer(f, buf, len, off, write, NULL);
}

ssize_t fs_pread(int fd, void *buf, size_t len, uint64_t off)
{
	return file_pio(fd, buf, len, off, false);
}

ssize_t fs_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
	return file_pio(fd, (void *)buf, len, off, true);
}

int64_t fs_lseek(int fd, int64_t off, int whence)
{
	struct vfs_file *f = file_of(fd);
	if (!f)
		return -EBADF;
	if (f->f_dir) {
		if (whence != SEEK_SET || off != 0)
			return -EINVAL; /* a directory can only be rewound */
		f->f_off = 0;
		f->f_mnt = 0;
		f->f_fs_end = false;
		return 0;
	}
	uint32_t gen = f->f_gen;
	int64_t base;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->f_off;
		break;
	case SEEK_END: {
		struct vfs_call c = { 0 };
		int64_t rc = vfs_run(&c, vfs_x_stat, (struct vfs_pos){ f->f_mount, f->f_ino });
		if (rc < 0)
			return rc;
		if (c.st.size > (uint64_t)INT64_MAX)
			return -EOVERFLOW;
		base = (int64_t)c.st.size;
		break;
	}
	default:
		return -EINVAL;
	}
	if (off > 0 && base > INT64_MAX - off)
		return -EOVERFLOW;
	int64_t pos = base + off;
	if (pos < 0)
		return -EINVAL;
	if (f->f_gen != gen)
		return -EBADF; /* closed while we asked for the size */
	f->f_off = (uint64_t)pos;
	return pos;
}

int fs_fstat(int fd, struct fs_stat *st)
{
	struct vfs_file *f = file_of(fd);
	if (!f)
		return -EBADF;
	if (!st)
		return -EFAULT;
	struct vfs_call c = { 0 };
	int64_t rc = vfs_run(&c, vfs_x_stat, (struct vfs_pos){ f->f_mount, f->f_ino });
	if (rc == 0)
		*st = c.st;
	return (int)rc;
}

int fs_readdir(int fd, struct fs_dirent *out)
{
	struct vfs_file *f = file_of(fd);
	if (!f)
		return -EBADF;
	if (!f->f_dir)
		return -ENOTDIR;
	if (!out)
		return -EFAULT;
	uint32_t gen = f->f_gen;
	struct vfs_pos dir = { f->f_mount, f->f_ino };
	if (!f->f_fs_end) {
		struct vfs_call c = { .off = f->f_off, .buf = out };
		int64_t rc = vfs_run(&c, x_readdir, dir);
		if (f->f_gen != gen)
			return -EBADF;
		if (rc < 0)
			return (int)rc;
		if (rc > 0) {
			f->f_off = c.off;
			return 1;
		}
		f->f_fs_end = true;
	}
	/* Then the mount points in this directory that the filesystem itself does not list. */
	unsigned n = vfs_mount_count();
	while (f->f_mnt < n) {
		struct vfs_mount *m = vfs_mount_slot(f->f_mnt++);
		if (m->parent != dir.m || m->parent_dir != dir.ino)
			continue;
		struct vfs_call c = { .name = m->base, .len = m->base_len };
		int64_t rc = vfs_run(&c, vfs_x_lookup, dir);
		if (rc == 0)
			continue;
		if (rc == -ENOENT)
			rc = vfs_run(&c, vfs_x_stat, (struct vfs_pos){ m, m->root });
		if (f->f_gen != gen)
			return -EBADF;
		if (rc < 0)
			return (int)rc;
		out->ino = c.st.ino;
		out->type = DT_DIR;
		memcpy(out->name, m->base, m->base_len);
		out->name[m->base_len] = '\0';
		return 1;
	}
	return 0;
}

int fs_ftruncate(int fd, uint64_t size)
{
	struct vfs_file *f = file_of(fd);
	if (!f || (f->f_flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	if (f->f_dir)
		return -EISDIR;
	if (size > (uint64_t)INT64_MAX)
		return -EINVAL;
	struct vfs_call c = { .off = size };
	return (int)vfs_run(&c, x_truncate, (struct vfs_pos){ f->f_mount, f->f_ino });
}

int fs_fsync(int fd)
{
	struct vfs_file *f = file_of(fd);
	if (!f)
		return -EBADF;
	struct vfs_call c = { 0 };
	return (int)vfs_run(&c, x_fsync, (struct vfs_pos){ f->f_mount, f->f_ino });
}

int fs_read_file(const char *path, size_t max, char **data, size_t *len)
{
	if (!data || !len)
		return -EFAULT;
	*data = NULL;
	*len = 0;
	int fd = fs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	struct fs_stat st;
	char *buf = NULL;
	size_t cap = 0, got = 0;
	int rc = fs_fstat(fd, &st);
	if (rc)
		goto close;
	rc = S_ISDIR(st.mode) ? -EISDIR : st.size > max ? -EFBIG : 0;
	if (rc)
		goto close;
	cap = (size_t)st.size;
	for (;;) {
		if (!buf || got == cap) {
			/* Full (or not yet allocated): one more byte says whether the file grew. */
			char extra;
			ssize_t n = buf ? fs_read(fd, &extra, 1) : 0;
			if (n < 0) {
				rc = (int)n;
				goto free_buf;
			}
			if (buf && n == 0)
				break;
			if (buf && got >= max) {
				rc = -EFBIG;
				goto free_buf;
			}
			size_t ncap = buf ? MIN(max, MAX(cap * 2, got + 4096)) : cap;
			if (ncap >= SIZE_MAX - 1) {
				rc = -ENOMEM;
				goto free_buf;
			}
			char *nbuf = kmalloc(ncap + 1);
			if (!nbuf) {
				rc = -ENOMEM;
				goto free_buf;
			}
			if (buf)
				memcpy(nbuf, buf, got);
			kfree(buf);
			buf = nbuf;
			cap = ncap;
			if (n == 1)
				buf[got++] = extra;
			continue;
		}
		ssize_t n = fs_read(fd, buf + got, cap - got);
		if (n < 0) {
			rc = (int)n;
			goto free_buf;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	goto close;

free_buf:
	kfree(buf);
close:
	fs_close(fd);
	return rc;
}
