/*
 * vfs.c - the VFS: mount table, path resolution, per-core file tables and the fs_* calls
 * (include/isle/fs.h) on top of each filesystem's fs_ops (fs/vfs.h). This file has the mount
 * table, the path walk and the calls that change the tree by name; vfs_file.c the file tables
 * and the calls on descriptors; vfs_remote.c the routing.
 *
 * Mount table. mounts[] is a small fixed array written only by core 0 (vfs_mount), before the
 * files under a new mount are used, and never shrunk: slots below nmounts are [I]. A new slot is
 * filled first and then published by a release store of nmounts, so a core that reads the count
 * with acquire sees complete slots only. Slot 0 is always "/": the initrd's ramfs, or an empty
 * read-only ramfs when the boot passed no initrd (fs/initrd.c mounts it before main()). Every
 * other mount remembers where it hangs: the parent mount, the directory inode in it and the last
 * component of its path.
 *
 * Path resolution (walk). Absolute paths only: a relative path is -EINVAL. Repeated '/' are
 * skipped; a component longer than FS_NAME_MAX or a path of FS_PATH_MAX bytes or more is
 * -ENAMETOOLONG. The walk keeps a stack of (mount, inode) positions from "/": a name pushes
 * what it names; "." stays; ".." pops (at "/" it stays), so ".." at a mount's root goes back to
 * the mount point's directory in the parent mount, and "/a/.." needs "a" to exist and be a
 * directory, as POSIX says. Before asking a filesystem for a name, the walk looks the name up
 * in the mount table (mount points are found component by component, which is the longest-
 * prefix match of the canonical path), so a mount point need not exist in its parent. More
 * than VFS_DEPTH_MAX nested positions is -ELOOP. Symbolic links are never followed: opening one
 * or walking through one is -ELOOP; fs_stat on one describes the link itself.
 *
 * File tables. Every core has its own table (files[], PERCORE): descriptor -> mount, inode,
 * offset, flags, readdir position. A descriptor is meaningful only on the core that opened it;
 * on another core the same number is another slot, usually free: -EBADF. The lowest free slot
 * is used, FS_OPEN_MAX per core (-EMFILE). A call may block (disk, another core), and another
 * thread of the core may close the descriptor meanwhile: each slot has a generation number,
 * and a call whose slot changed under it leaves the slot alone: fs_lseek and fs_readdir say
 * -EBADF, a read or write returns its count and its new offset is dropped. Offsets are shared by the threads of a core that use one descriptor,
 * without any atomicity between them.
 *
 * Routing. Every filesystem call goes through vfs_call_run (vfs_remote.c): directly for a
 * VFS_ANY_CORE mount, through the mount's gate on its owner core, or by message to the owner's
 * server thread. Steps that must not be split, like "look up, create if missing, truncate" of
 * an open or "find the size, write there" of an O_APPEND write, are one x_* function and so one
 * call on the owner.
 *
 * POSIX semantics kept: O_CREAT, O_EXCL (-EEXIST), O_TRUNC (only with write access), O_APPEND
 * (every write at the end; pwrite ignores it), O_DIRECTORY (-ENOTDIR); opening a directory for
 * writing is -EISDIR, reading one -EISDIR; a write on an O_RDONLY descriptor (or a read on an
 * O_WRONLY one) -EBADF; any change on a read-only mount -EROFS (after -EEXIST and -ENOENT, as
 * Linux orders them); rename across mounts -EXDEV; rmdir, unlink or rename of a mount point or of
 * the directory holding one -EBUSY.
 */
#include <string.h>
#include <isle/errno.h>
#include <isle/fs.h>
#include "fs/vfs.h"
#include "fs/vfs_priv.h"
#include "kernel/core.h"

#define VFS_DEPTH_MAX 64 /* positions on the walk's stack below "/" */

static struct vfs_mount mounts[VFS_MOUNT_MAX]; /* [I] the slots below nmounts */
static unsigned nmounts;                       /* [a] written by core 0 only, see above */

PERCORE struct fs_stats vfs_stats; /* [o] this core's counters */

/* ---- calls every part of the VFS makes ----------------------------------------------------- */

unsigned vfs_mount_count(void)
{
	/* Acquire: pairs with vfs_mount's release; the slots below are complete. */
	return __atomic_load_n(&nmounts, __ATOMIC_ACQUIRE);
}

int vfs_not_dir_error(uint32_t mode)
{
	return (mode & S_IFMT) == S_IFLNK ? -ELOOP : -ENOTDIR;
}

int64_t vfs_x_lookup(struct vfs_call *c)
{
	return c->m->ops->lookup(c->m, c->ino, c->name, c->len, &c->ino2);
}

int64_t vfs_x_stat(struct vfs_call *c)
{
	return c->m->ops->stat(c->m, c->ino, &c->st);
}

/* ---- what runs on the owner (one vfs_call each) --------------------------------------------- */

static int64_t x_lookup_stat(struct vfs_call *c)
{
	int rc = c->m->ops->lookup(c->m, c->ino, c->name, c->len, &c->ino2);
	return rc ? rc : c->m->ops->stat(c->m, c->ino2, &c->st);
}

/* A change is refused on a read-only mount, after the errors a lookup would give: -EEXIST when
 * the name is there and `exists_error` is set, else -EROFS (or the lookup's error). */
static int64_t refuse_change(struct vfs_call *c, bool exists_error)
{
	int rc = c->m->ops->lookup(c->m, c->ino, c->name, c->len, &c->ino2);
	if (rc == 0)
		return exists_error ? -EEXIST : -EROFS;
	return rc == -ENOENT && exists_error ? -EROFS : rc;
}

static int64_t x_mkdir(struct vfs_call *c)
{
	if (c->m->readonly || !c->m->ops->mkdir)
		return refuse_change(c, true);
	return c->m->ops->mkdir(c->m, c->ino, c->name, c->len, c->mode, &c->ino2);
}

/* When the path ended in '/', name must be a directory: 0, or the error to give. */
static int64_t check_slash(struct vfs_call *c)
{
	if (!c->slash)
		return 0;
	int64_t rc = x_lookup_stat(c);
	if (rc)
		return rc;
	return S_ISDIR(c->st.mode) ? 0 : vfs_not_dir_error(c->st.mode);
}

static int64_t x_rmdir(struct vfs_call *c)
{
	if (c->m->readonly || !c->m->ops->rmdir)
		return refuse_change(c, false);
	return c->m->ops->rmdir(c->m, c->ino, c->name, c->len);
}

static int64_t x_unlink(struct vfs_call *c)
{
	if (c->m->readonly || !c->m->ops->unlink)
		return refuse_change(c, false);
	if (c->slash) {
		int64_t rc = x_lookup_stat(c);
		if (rc)
			return rc;
		return S_ISDIR(c->st.mode) ? -EISDIR : vfs_not_dir_error(c->st.mode);
	}
	return c->m->ops->unlink(c->m, c->ino, c->name, c->len);
}

/* rename (ino, name) -> (ino2, name2). */
static int64_t x_rename(struct vfs_call *c)
{
	if (c->m->readonly || !c->m->ops->rename)
		return refuse_change(c, false);
	int64_t rc = check_slash(c);
	if (rc)
		return rc;
	return c->m->ops->rename(c->m, c->ino, c->name, c->len, c->ino2, c->name2, c->len2);
}

static int64_t x_sync(struct vfs_call *c)
{
	return c->m->ops->sync ? c->m->ops->sync(c->m) : 0;
}

static int64_t x_unmount(struct vfs_call *c)
{
	if (!c->m->unmounted) { /* two cores may exit() at once: unmount once */
		c->m->unmounted = true;
		c->m->ops->unmount(c->m);
	}
	return 0;
}

/* ---- paths ---------------------------------------------------------------------------------- */

int64_t vfs_run(struct vfs_call *c, int64_t (*fn)(struct vfs_call *), struct vfs_pos at)
{
	c->fn = fn;
	c->m = at.m;
	c->ino = at.ino;
	return vfs_call_run(c);
}

/* 0 if at is a directory. */
static int need_dir(struct vfs_pos at)
{
	struct vfs_call c = { 0 };
	int64_t rc = vfs_run(&c, vfs_x_stat, at);
	if (rc < 0)
		return (int)rc;
	return S_ISDIR(c.st.mode) ? 0 : vfs_not_dir_error(c.st.mode);
}

/* The mount whose mount point is `name` in directory dir, or NULL. */
static struct vfs_mount *mount_at(struct vfs_pos dir, const char *name, size_t len)
{
	unsigned n = vfs_mount_count();
	for (unsigned i = 1; i < n; i++) {
		struct vfs_mount *m = &mounts[i];
		if (m->parent == dir.m && m->parent_dir == dir.ino && m->base_len == len &&
		    memcmp(m->base, name, len) == 0)
			return m;
	}
	return NULL;
}

/* Some mount hangs in directory at: it may not go away or move. */
static bool holds_mount(struct vfs_pos at)
{
	unsigned n = vfs_mount_count();
	for (unsigned i = 1; i < n; i++)
		if (mounts[i].parent == at.m && mounts[i].parent_dir == at.ino)
			return true;
	return false;
}

int vfs_walk(const char *path, struct vfs_path *p)
{
	struct vfs_pos stack[VFS_DEPTH_MAX + 1];
	unsigned depth = 0;
	bool known_dir = true; /* stack[depth] is known to be a directory */

	memset(p, 0, sizeof(*p));
	if (!path)
		return -EFAULT;
	size_t plen = strnlen(path, FS_PATH_MAX);
	if (plen == FS_PATH_MAX)
		return -ENAMETOOLONG;
	if (plen == 0)
		return -ENOENT;
	if (path[0] != '/')
		return -EINVAL;
	if (vfs_mount_count() == 0)
		return -ENOENT;
	stack[0] = (struct vfs_pos){ &mounts[0], mounts[0].root };

	const char *s = path;
	for (;;) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		const char *name = s;
		while (*s && *s != '/')
			s++;
		size_t len = (size_t)(s - name);
		const char *rest = s;
		while (*rest == '/')
			rest++;
		if (len > FS_NAME_MAX)
			return -ENAMETOOLONG;
		int dots = name[0] != '.' ? 0 : len == 1 ? 1 : len == 2 && name[1] == '.' ? 2 : 0;
		p->dots = dots;
		if (dots) {
			if (!known_dir) {
				int rc = need_dir(stack[depth]);
				if (rc)
					return rc;
			}
			if (dots == 2 && depth > 0)
				depth--;
			known_dir = true;
			continue;
		}
		struct vfs_mount *mnt = mount_at(stack[depth], name, len);
		if (!*rest) {
			p->dir = stack[depth];
			p->name = name;
			p->len = len;
			p->slash = *s == '/';
			if (mnt) {
				p->have_node = true;
				p->node = (struct vfs_pos){ mnt, mnt->root };
			}
			return 0;
		}
		if (depth == VFS_DEPTH_MAX)
			return -ELOOP;
		if (mnt) {
			stack[++depth] = (struct vfs_pos){ mnt, mnt->root };
			known_dir = true;
			continue;
		}
		struct vfs_call c = { .name = name, .len = len };
		int64_t rc = vfs_run(&c, vfs_x_lookup, stack[depth]);
		if (rc < 0)
			return (int)rc;
		stack[depth + 1] = (struct vfs_pos){ stack[depth].m, c.ino2 };
		depth++;
		known_dir = false;
	}
	p->have_node = true;
	p->node = stack[depth];
	return 0;
}

/* What path names (*at) and its stat. */
static int resolve(const char *path, struct vfs_pos *at, struct fs_stat *st)
{
	struct vfs_path p;
	int rc = vfs_walk(path, &p);
	if (rc)
		return rc;
	struct vfs_call c = { .name = p.name, .len = p.len };
	int64_t r =
	        p.have_node ? vfs_run(&c, vfs_x_stat, p.node) : vfs_run(&c, x_lookup_stat, p.dir);
	if (r < 0)
		return (int)r;
	*at = p.have_node ? p.node : (struct vfs_pos){ p.dir.m, c.ino2 };
	*st = c.st;
	if (p.slash && !S_ISDIR(st->mode))
		return vfs_not_dir_error(st->mode);
	return 0;
}

/* ---- mounts --------------------------------------------------------------------------------- */

static bool canonical(const char *path, size_t len)
{
	if (len == 0 || path[0] != '/')
		return false;
	if (len == 1)
		return true;
	if (path[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		if (path[i] != '/')
			continue;
		size_t j = i + 1;
		while (j < len && path[j] != '/')
			j++;
		size_t clen = j - i - 1;
		if (clen == 0 || clen > FS_NAME_MAX || (clen == 1 && path[i + 1] == '.') ||
		    (clen == 2 && path[i + 1] == '.' && path[i + 2] == '.'))
			return false;
	}
	return true;
}

int vfs_mount(const char *path, const struct fs_ops *ops, void *priv, uint64_t root, unsigned owner,
              bool readonly, const char *name)
{
	if (!path || !ops || !ops->lookup || !ops->stat || core_id() != 0)
		return -EINVAL;
	if (owner == VFS_ANY_CORE ? !readonly : owner >= ncores)
		return -EINVAL;
	size_t len = strnlen(path, sizeof(mounts[0].path));
	if (len == sizeof(mounts[0].path) || !canonical(path, len))
		return -EINVAL;
	unsigned n = vfs_mount_count();
	struct vfs_path p = { 0 };
	if (len == 1) {
		if (n > 0)
			return -EBUSY;
	} else {
		if (n == 0)
			return -ENOENT;
		int rc = vfs_walk(path, &p);
		if (rc)
			return rc;
		if (p.have_node)
			return -EBUSY;
		rc = need_dir(p.dir);
		if (rc)
			return rc;
	}
	if (n == VFS_MOUNT_MAX)
		return -ENOMEM;

	struct vfs_mount *m = &mounts[n];
	memset(m, 0, sizeof(*m));
	memcpy(m->path, path, len);
	m->ops = ops;
	m->priv = priv;
	m->root = root;
	m->owner = owner;
	m->readonly = readonly;
	m->name = name ? name : "?";
	m->slot = n;
	m->parent = p.dir.m;
	m->parent_dir = p.dir.ino;
	m->base = len == 1 ? m->path : m->path + (p.name - path);
	m->base_len = len == 1 ? 1 : p.len;
	/* Release: the slot is complete before a core that sees the new count reads it. */
	__atomic_store_n(&nmounts, n + 1, __ATOMIC_RELEASE);
	return 0;
}

struct vfs_mount *vfs_mount_slot(unsigned i)
{
	return &mounts[i];
}

/* ---- the tree ------------------------------------------------------------------------------- */

int fs_stat(const char *path, struct fs_stat *st)
{
	struct vfs_pos at;
	struct fs_stat s;
	if (!st)
		return -EFAULT;
	int rc = resolve(path, &at, &s);
	if (rc == 0)
		*st = s;
	return rc;
}

int fs_mkdir(const char *path, uint32_t mode)
{
	struct vfs_path p;
	int rc = vfs_walk(path, &p);
	if (rc)
		return rc;
	if (p.have_node)
		return -EEXIST;
	struct vfs_call c = { .name = p.name, .len = p.len, .mode = mode & 07777 };
	return (int)vfs_run(&c, x_mkdir, p.dir);
}

/* -EBUSY if (dir, name) is a directory holding a mount point; else 0 (also when it is not
 * there: the change itself reports that). */
static int check_holds_mount(struct vfs_pos dir, const char *name, size_t len)
{
	struct vfs_call c = { .name = name, .len = len };
	if (vfs_run(&c, vfs_x_lookup, dir) == 0 && holds_mount((struct vfs_pos){ dir.m, c.ino2 }))
		return -EBUSY;
	return 0;
}

int fs_rmdir(const char *path)
{
	struct vfs_path p;
	int rc = vfs_walk(path, &p);
	if (rc)
		return rc;
	if (p.dots)
		return p.dots == 1 ? -EINVAL : -ENOTEMPTY;
	if (p.have_node)
		return -EBUSY; /* "/" or a mount point */
	rc = check_holds_mount(p.dir, p.name, p.len);
	if (rc)
		return rc;
	struct vfs_call c = { .name = p.name, .len = p.len };
	return (int)vfs_run(&c, x_rmdir, p.dir);
}

int fs_unlink(const char *path)
{
	struct vfs_path p;
	int rc = vfs_walk(path, &p);
	if (rc)
		return rc;
	if (p.dots)
		return -EISDIR;
	if (p.have_node)
		return -EBUSY;
	struct vfs_call c = { .name = p.name, .len = p.len, .slash = p.slash };
	return (int)vfs_run(&c, x_unlink, p.dir);
}

int fs_rename(const char *from, const char *to)
{
	struct vfs_path a, b;
	int rc = vfs_walk(from, &a);
	if (rc)
		return rc;
	rc = vfs_walk(to, &b);
	if (rc)
		return rc;
	if (a.dots || b.dots)
		return -EINVAL;
	if (a.have_node || b.have_node)
		return -EBUSY;
	if (a.dir.m != b.dir.m)
		return -EXDEV;
	rc = check_holds_mount(a.dir, a.name, a.len);
	if (!rc)
		rc = check_holds_mount(b.dir, b.name, b.len);
	if (rc)
		return rc;
	struct vfs_call c = { .name = a.name,
		              .len = a.len,
		              .ino2 = b.dir.ino,
		              .name2 = b.name,
		              .len2 = b.len,
		              .slash = a.slash || b.slash };
	return (int)vfs_run(&c, x_rename, a.dir);
}

int fs_sync(void)
{
	int err = 0;
	unsigned n = vfs_mount_count();
	for (unsigned i = 0; i < n; i++) {
		struct vfs_mount *m = &mounts[i];
		if (m->readonly || !m->ops->sync)
			continue;
		struct vfs_call c = { 0 };
		int64_t rc = vfs_run(&c, x_sync, (struct vfs_pos){ m, m->root });
		if (rc < 0 && !err)
			err = (int)rc;
	}
	return err;
}

void fs_shutdown(void)
{
	unsigned n = vfs_mount_count();
	for (unsigned i = 0; i < n; i++) {
		struct vfs_mount *m = &mounts[i];
		if (m->readonly || !m->ops->unmount)
			continue;
		struct vfs_call c = { 0 };
		vfs_run(&c, x_unmount, (struct vfs_pos){ m, m->root });
	}
}

void fs_stats(struct fs_stats *out)
{
	*out = vfs_stats;
}
