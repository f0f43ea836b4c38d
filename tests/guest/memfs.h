/*
 * memfs.h - a small writable filesystem in memory, for testing the VFS (tests/unit/test_vfs.c on
 * the host, tests/guest/fs.c in the guest). Header only; each test includes it once.
 *
 * It is an fs_ops with the contract of fs/vfs.h, and it checks the VFS's side of that contract
 * as it runs: every call must come on the owner core (else wrong_core counts it) and no call may
 * start while another is in progress (else overlaps counts it). mf_block, when set, is called
 * in the middle of every write, as a disk wait would block there: the guest test sleeps in it,
 * which gives other calls every chance to slip in if the VFS let them.
 *
 * Layout: a fixed table of nodes; a node's inode handle is its index + 1 (1 is the root). File
 * data is a kmalloc block that grows by copying.
 */
#ifndef ISLE_TESTS_MEMFS_H
#define ISLE_TESTS_MEMFS_H

#include <string.h>
#include <isle/errno.h>
#include <isle/fs.h>
#include <isle/mem.h>
#include "fs/vfs.h"
#include "kernel/core.h"

#define MEMFS_NODES 128

struct memfs_node {
	bool used;                  /* the slot holds a node */
	bool dir;                   /* a directory (else a regular file) */
	uint64_t parent;            /* handle of the directory holding it */
	char name[FS_NAME_MAX + 1]; /* its name there */
	size_t len;                 /* bytes of name */
	uint8_t *data;              /* file contents (kmalloc), or NULL */
	size_t size, cap;           /* bytes in the file / in data */
	uint32_t mode;              /* permission bits */
};

struct memfs {
	struct memfs_node n[MEMFS_NODES]; /* n[0] is the root */
	unsigned owner;                   /* the core every call must run on */
	bool in_call;                     /* a call is in progress */
	uint64_t calls;                   /* calls made */
	uint64_t overlaps;                /* calls that started during another one */
	uint64_t wrong_core;              /* calls made on another core than owner */
	uint64_t fsyncs, syncs;           /* fsync and sync calls */
};

static void (*mf_block)(void); /* called in the middle of every write, when set */

static struct memfs *mf_of(struct vfs_mount *m)
{
	struct memfs *fs = m->priv;
	if (core_id() != fs->owner)
		fs->wrong_core++;
	if (fs->in_call)
		fs->overlaps++;
	fs->in_call = true;
	fs->calls++;
	return fs;
}

static int mf_done(struct memfs *fs, int rc)
{
	fs->in_call = false;
	return rc;
}

static struct memfs_node *mf_node(struct memfs *fs, uint64_t ino)
{
	if (ino == 0 || ino > MEMFS_NODES || !fs->n[ino - 1].used)
		return NULL;
	return &fs->n[ino - 1];
}

static void memfs_init(struct memfs *fs, unsigned owner)
{
	memset(fs, 0, sizeof(*fs));
	fs->owner = owner;
	fs->n[0].used = true;
	fs->n[0].dir = true;
	fs->n[0].parent = 1;
	fs->n[0].mode = 0755;
}

__attribute__((unused)) static void memfs_free(struct memfs *fs)
{
	for (unsigned i = 0; i < MEMFS_NODES; i++)
		kfree(fs->n[i].data);
	memset(fs, 0, sizeof(*fs));
}

/* The child `name` of dir: its handle, or 0. */
static uint64_t mf_find(struct memfs *fs, uint64_t dir, const char *name, size_t len)
{
	for (unsigned i = 1; i < MEMFS_NODES; i++) {
		struct memfs_node *n = &fs->n[i];
		if (n->used && n->parent == dir && n->len == len && memcmp(n->name, name, len) == 0)
			return i + 1;
	}
	return 0;
}

static bool mf_has_children(struct memfs *fs, uint64_t dir)
{
	for (unsigned i = 1; i < MEMFS_NODES; i++)
		if (fs->n[i].used && fs->n[i].parent == dir)
			return true;
	return false;
}

static int mf_lookup(struct vfs_mount *m, uint64_t dir, const char *name, size_t len, uint64_t *ino)
{
	struct memfs *fs = mf_of(m);
	struct memfs_node *d = mf_node(fs, dir);
	if (!d)
		return mf_done(fs, -EIO);
	if (!d->dir)
		return mf_done(fs, -ENOTDIR);
	*ino = mf_find(fs, dir, name, len);
	return mf_done(fs, *ino ? 0 : -ENOENT);
}

static int mf_stat(struct vfs_mount *m, uint64_t ino, struct fs_stat *st)
{
	struct memfs *fs = mf_of(m);
	struct memfs_node *n = mf_node(fs, ino);
	if (!n)
		return mf_done(fs, -EIO);
	st->ino = ino;
	st->mode = (n->dir ? S_IFDIR : S_IFREG) | n->mode;
	st->nlink = n->dir ? 2 : 1;
	st->size = n->size;
	st->mtime = 0;
	return mf_done(fs, 0);
}

static ssize_t mf_read(struct vfs_mount *m, uint64_t ino, uint64_t off, void *buf, size_t len)
{
	struct memfs *fs = mf_of(m);
	struct memfs_node *n = mf_node(fs, ino);
	if (!n)
		return mf_done(fs, -EIO);
	if (n->dir)
		return mf_done(fs, -EISDIR);
	if (off >= n->size)
		return mf_done(fs, 0);
	size_t count = MIN(len, n->size - (size_t)off);
	memcpy(buf, n->data + off, count);
	mf_done(fs, 0);
	return (ssize_t)count;
}

/* Makes room for size bytes in n (zeros beyond the old size). */
static int mf_resize(struct memfs_node *n, size_t size)
{
	if (size > n->cap) {
		size_t cap = MAX(size, n->cap * 2);
		uint8_t *p = kmalloc(cap);
		if (!p)
			return -ENOSPC;
		if (n->data)
			memcpy(p, n->data, n->size);
		kfree(n->data);
		n->data = p;
		n->cap = cap;
	}
	if (size > n->size)
		memset(n->data + n->size, 0, size - n->size);
	n->size = size;
	return 0;
}

static ssize_t mf_write(struct vfs_mount *m, uint64_t ino, uint64_t off, const void *buf,
                        size_t len)
{
	struct memfs *fs = mf_of(m);
	struct memfs_node *n = mf_node(fs, ino);
	if (!n)
		return mf_done(fs, -EIO);
	if (n->dir)
		return mf_done(fs, -EISDIR);
	if (off + len > (64u << 20))
		return mf_done(fs, -EFBIG);
	if (mf_block)
		mf_block(); /* "waiting for the disk" */
	size_t old = n->size;
	if (off + len > old && mf_resize(n, (size_t)(off + len)) < 0)
		return mf_done(fs, -ENOSPC);
	memcpy(n->data + off, buf, len);
	mf_done(fs, 0);
	return (ssize_t)len;
}

static int mf_truncate(struct vfs_mount *m, uint64_t ino, uint64_t size)
{
	struct memfs *fs = mf_of(m);
	struct memfs_node *n = mf_node(fs, ino);
	if (!n || n->dir)
		return mf_done(fs, n ? -EISDIR : -EIO);
	if (size > (64u << 20))
		return mf_done(fs, -EFBIG);
	if (size < n->size) {
		n->size = (size_t)size;
		return mf_done(fs, 0);
	}
	return mf_done(fs, mf_resize(n, (size_t)size));
}

static int mf_new(struct vfs_mount *m, uint64_t dir, const char *name, size_t len, uint32_t mode,
                  uint64_t *ino, bool is_dir)
{
	struct memfs *fs = mf_of(m);
	struct memfs_node *d = mf_node(fs, dir);
	if (!d || !d->dir)
		return mf_done(fs, d ? -ENOTDIR : -EIO);
	if (mf_find(fs, dir, name, len))
		return mf_done(fs, -EEXIST);
	for (unsigned i = 1; i < MEMFS_NODES; i++) {
		struct memfs_node *n = &fs->n[i];
		if (n->used)
			continue;
		memset(n, 0, sizeof(*n));
		n->used = true;
		n->dir = is_dir;
		n->parent = dir;
		memcpy(n->name, name, len);
		n->len = len;
		n->mode = mode;
		*ino = i + 1;
		return mf_done(fs, 0);
	}
	return mf_done(fs, -ENOSPC);
}

static int mf_create(struct vfs_mount *m, uint64_t dir, const char *name, size_t len, uint32_t mode,
                     uint64_t *ino)
{
	return mf_new(m, dir, name, len, mode, ino, false);
}

static int mf_mkdir(struct vfs_mount *m, uint64_t dir, const char *name, size_t len, uint32_t mode,
                    uint64_t *ino)
{
	return mf_new(m, dir, name, len, mode, ino, true);
}

static void mf_release(struct memfs_node *n)
{
	kfree(n->data);
	memset(n, 0, sizeof(*n));
}

static int mf_unlink(struct vfs_mount *m, uint64_t dir, const char *name, size_t len)
{
	struct memfs *fs = mf_of(m);
	uint64_t ino = mf_find(fs, dir, name, len);
	if (!ino)
		return mf_done(fs, -ENOENT);
	struct memfs_node *n = mf_node(fs, ino);
	if (n->dir)
		return mf_done(fs, -EISDIR);
	mf_release(n);
	return mf_done(fs, 0);
}

static int mf_rmdir(struct vfs_mount *m, uint64_t dir, const char *name, size_t len)
{
	struct memfs *fs = mf_of(m);
	uint64_t ino = mf_find(fs, dir, name, len);
	if (!ino)
		return mf_done(fs, -ENOENT);
	struct memfs_node *n = mf_node(fs, ino);
	if (!n->dir)
		return mf_done(fs, -ENOTDIR);
	if (mf_has_children(fs, ino))
		return mf_done(fs, -ENOTEMPTY);
	mf_release(n);
	return mf_done(fs, 0);
}

static int mf_rename(struct vfs_mount *m, uint64_t odir, const char *oname, size_t olen,
                     uint64_t ndir, const char *nname, size_t nlen)
{
	struct memfs *fs = mf_of(m);
	uint64_t src = mf_find(fs, odir, oname, olen);
	if (!src)
		return mf_done(fs, -ENOENT);
	struct memfs_node *d = mf_node(fs, ndir);
	if (!d || !d->dir)
		return mf_done(fs, d ? -ENOTDIR : -EIO);
	struct memfs_node *s = mf_node(fs, src);
	for (uint64_t a = ndir; s->dir; a = fs->n[a - 1].parent) {
		if (a == src)
			return mf_done(fs, -EINVAL); /* into itself */
		if (a == 1)
			break;
	}
	uint64_t dst = mf_find(fs, ndir, nname, nlen);
	if (dst == src)
		return mf_done(fs, 0);
	if (dst) {
		struct memfs_node *t = mf_node(fs, dst);
		if (t->dir && !s->dir)
			return mf_done(fs, -EISDIR);
		if (!t->dir && s->dir)
			return mf_done(fs, -ENOTDIR);
		if (t->dir && mf_has_children(fs, dst))
			return mf_done(fs, -ENOTEMPTY);
		mf_release(t);
	}
	s->parent = ndir;
	memcpy(s->name, nname, nlen);
	s->len = nlen;
	return mf_done(fs, 0);
}

static int mf_readdir(struct vfs_mount *m, uint64_t dir, uint64_t *cookie, struct fs_dirent *out)
{
	struct memfs *fs = mf_of(m);
	struct memfs_node *d = mf_node(fs, dir);
	if (!d || !d->dir)
		return mf_done(fs, d ? -ENOTDIR : -EIO);
	if (*cookie < 2) {
		out->ino = *cookie == 0 ? dir : d->parent;
		out->type = DT_DIR;
		strcpy(out->name, *cookie == 0 ? "." : "..");
		(*cookie)++;
		return mf_done(fs, 1);
	}
	for (uint64_t i = *cookie - 1; i < MEMFS_NODES; i++) {
		struct memfs_node *n = &fs->n[i];
		if (!n->used || n->parent != dir)
			continue;
		out->ino = i + 1;
		out->type = n->dir ? DT_DIR : DT_REG;
		memcpy(out->name, n->name, n->len);
		out->name[n->len] = '\0';
		*cookie = i + 2;
		return mf_done(fs, 1);
	}
	*cookie = MEMFS_NODES + 1;
	return mf_done(fs, 0);
}

static int mf_fsync(struct vfs_mount *m, uint64_t ino)
{
	struct memfs *fs = mf_of(m);
	fs->fsyncs++;
	return mf_done(fs, mf_node(fs, ino) ? 0 : -EIO);
}

static int mf_sync(struct vfs_mount *m)
{
	struct memfs *fs = mf_of(m);
	fs->syncs++;
	return mf_done(fs, 0);
}

static const struct fs_ops memfs_ops = {
	.lookup = mf_lookup,
	.stat = mf_stat,
	.read = mf_read,
	.write = mf_write,
	.truncate = mf_truncate,
	.create = mf_create,
	.mkdir = mf_mkdir,
	.unlink = mf_unlink,
	.rmdir = mf_rmdir,
	.rename = mf_rename,
	.readdir = mf_readdir,
	.fsync = mf_fsync,
	.sync = mf_sync,
};

#endif
