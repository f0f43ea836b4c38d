/*
 * ramfs.c - the read-only filesystem of the initrd (contract: ramfs.h).
 *
 * Data layout. A node is a file, directory or symlink; a dent (directory entry) names a node in
 * a directory. Names and file data point into the archive. Nodes, dents and the directories'
 * sorted entry arrays are carved from chunks of a bump allocator (struct ramfs_chunk), so the
 * whole tree is a few kmalloc blocks and ramfs_free is a walk over the chunk list.
 *
 * Building runs in three steps, all on the building core:
 *  1. cpio_next over the whole archive, only to check it and count its entries: a malformed
 *     archive is refused before anything is allocated.
 *  2. Every entry is inserted: its parent directories are found (or created) one component at
 *     a time through a hash table of (directory, name) -> dent, and its own dent is added or,
 *     when the name exists, pointed at the new node (the later entry wins). Each directory
 *     collects its dents on a list.
 *  3. From the root, breadth first, each reachable directory gets its list as an array sorted
 *     by name (binary search for lookup, stable order for readdir), and the reachable nodes are
 *     numbered and counted. Nodes a later entry replaced are unreachable and stay unused in the
 *     chunks. The hash table is freed.
 *
 * After ramfs_build nothing is written: every field is [I], and every core reads the tree at
 * once. The cross-core visibility of the tree comes from the messages that start work on the
 * other cores after the mount (see vfs.c).
 */
#include "fs/ramfs.h"

#include <string.h>
#include <isle/errno.h>
#include <isle/fs.h>
#include <isle/mem.h>
#include "fs/cpio.h"
#include "kernel/printf.h"

#define CHUNK_SIZE (64 * 1024) /* bytes of one allocation chunk */
#define HASH_MIN 64            /* buckets of the build-time hash table, at least */

struct ramfs_dent;

/* A file, directory or symbolic link. All fields [I] once ramfs_build returns. */
struct ramfs_node {
	uint32_t mode;               /* S_IF* type | permission bits */
	uint32_t nlink;              /* files: names it has; directories: 2 + subdirectories */
	uint64_t ino;                /* number for fs_stat: 1 for the root; 0 until step 3 */
	int64_t mtime;               /* seconds since 1970, from the archive */
	uint64_t size;               /* files and symlinks: bytes at data */
	const uint8_t *data;         /* file contents or symlink target, in the archive */
	struct ramfs_node *parent;   /* directories: the one holding it (the root: itself) */
	struct ramfs_dent **kids;    /* directories: entries sorted by name (step 3) */
	size_t nkids;                /* directories: entries in kids */
	struct ramfs_dent *building; /* directories: entries, newest first (steps 2-3) */
	struct ramfs_node *bfs_next; /* directories: the breadth-first queue of step 3 */
	struct ramfs_node *links;    /* files with nlink > 1: the next one (hard links) */
	uint32_t cpio_ino;           /* files: ino in the archive, for hard links */
	uint32_t cpio_dev;           /* files: device in the archive (major << 16 ^ minor) */
};

/* A name in a directory. [I] once ramfs_build returns (it builds the tree on one core). */
struct ramfs_dent {
	const char *name;           /* in the archive, not NUL-terminated */
	uint32_t len;               /* bytes of name, 1..FS_NAME_MAX */
	uint32_t hash;              /* of (dir, name), for the build-time table */
	struct ramfs_node *dir;     /* the directory it is in */
	struct ramfs_node *node;    /* what it names; changed in step 2 when a name comes again */
	struct ramfs_dent *sibling; /* next entry of dir->building */
	struct ramfs_dent *hnext;   /* next in its hash bucket (step 2) */
};

/* A block the tree is carved from. [I] once ramfs_build returns. */
struct ramfs_chunk {
	struct ramfs_chunk *next; /* chunks of this ramfs, newest first */
	size_t used, size;        /* bytes carved from data[] / available */
	max_align_t data[];       /* the memory */
};

/* [I] fields: written only while ramfs_build runs (on one core, before the mount). */
struct ramfs {
	struct ramfs_node *root;    /* [I] */
	struct ramfs_info info;     /* [I] counted in step 3 */
	struct ramfs_chunk *chunks; /* [I] every block of the tree */
	struct ramfs_dent **hash;   /* [I] buckets, steps 2-3 only (NULL after) */
	size_t hash_mask;           /* [I] buckets - 1 */
	struct ramfs_node *linked;  /* [I] files with nlink > 1 (step 2) */
	uint64_t next_ino;          /* [I] step 3 */
};

/* ---- building -------------------------------------------------------------------------------- */

static void *carve(struct ramfs *fs, size_t size)
{
	size = ALIGN_UP(size, sizeof(max_align_t));
	struct ramfs_chunk *c = fs->chunks;
	if (!c || c->size - c->used < size) {
		size_t avail = MAX(size, CHUNK_SIZE - sizeof(*c));
		if (avail > SIZE_MAX / 2)
			return NULL;
		c = kmalloc(sizeof(*c) + avail);
		if (!c)
			return NULL;
		c->size = avail;
		c->used = 0;
		fs->info.memory += sizeof(*c) + avail;
		if (size >= CHUNK_SIZE / 4 && fs->chunks) {
			/* A large block gets a chunk of its own behind the current one, whose room
			 * stays in use. */
			c->next = fs->chunks->next;
			fs->chunks->next = c;
		} else {
			c->next = fs->chunks;
			fs->chunks = c;
		}
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

static struct ramfs_node *new_node(struct ramfs *fs, uint32_t mode, struct ramfs_node *parent)
{
	struct ramfs_node *n = carve(fs, sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->mode = mode;
	n->parent = parent ? parent : n;
	return n;
}

static uint32_t hash_name(const struct ramfs_node *dir, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)(uintptr_t)dir; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
	return (uint32_t)(h ^ h >> 32);
}

static struct ramfs_dent *find(struct ramfs *fs, struct ramfs_node *dir, const char *name,
                               size_t len, uint32_t hash)
{
	for (struct ramfs_dent *d = fs->hash[hash & fs->hash_mask]; d; d = d->hnext)
		if (d->hash == hash && d->dir == dir && d->len == len &&
		    memcmp(d->name, name, len) == 0)
			return d;
	return NULL;
}

/* The dent (dir, name) pointing at node: a new one, or the existing one re-pointed. */
static int link_node(struct ramfs *fs, struct ramfs_node *dir, const char *name, size_t len,
                     struct ramfs_node *node)
{
	uint32_t hash = hash_name(dir, name, len);
	struct ramfs_dent *d = find(fs, dir, name, len, hash);
	if (d) {
		d->node = node;
		return 0;
	}
	d = carve(fs, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->name = name;
	d->len = (uint32_t)len;
	d->hash = hash;
	d->dir = dir;
	d->node = node;
	d->sibling = dir->building;
	dir->building = d;
	d->hnext = fs->hash[hash & fs->hash_mask];
	fs->hash[hash & fs->hash_mask] = d;
	return 0;
}

/* The directory `name` in dir, created (0755) when missing or when a non-directory has the
 * name; NULL when out of memory. */
static struct ramfs_node *implied_dir(struct ramfs *fs, struct ramfs_node *dir, const char *name,
                                      size_t len)
{
	struct ramfs_dent *d = find(fs, dir, name, len, hash_name(dir, name, len));
	if (d && S_ISDIR(d->node->mode))
		return d->node;
	struct ramfs_node *n = new_node(fs, S_IFDIR | 0755, dir);
	if (!n || link_node(fs, dir, name, len, n) < 0)
		return NULL;
	return n;
}

/* An earlier node this file is a hard link of, or NULL. */
static struct ramfs_node *hard_link_of(struct ramfs *fs, const struct cpio_entry *e)
{
	uint32_t dev = e->devmajor << 16 ^ e->devminor;
	for (struct ramfs_node *n = fs->linked; n; n = n->links)
		if (n->cpio_ino == e->ino && n->cpio_dev == dev)
			return n;
	return NULL;
}

static int insert(struct ramfs *fs, const struct cpio_entry *e)
{
	uint32_t type = e->mode & S_IFMT;
	if (type != S_IFREG && type != S_IFDIR && type != S_IFLNK) {
		fs->info.skipped++;
		return 0;
	}
	const char *p = e->name, *end = e->name + e->name_len, *name, *next;
	size_t len, next_len;
	struct ramfs_node *dir = fs->root;
	if (!cpio_name_next(&p, end, &name, &len))
		return 0; /* the root: cpio_next does not return it */
	while (cpio_name_next(&p, end, &next, &next_len)) {
		dir = implied_dir(fs, dir, name, len);
		if (!dir)
			return -ENOMEM;
		name = next;
		len = next_len;
	}

	struct ramfs_dent *old = find(fs, dir, name, len, hash_name(dir, name, len));
	struct ramfs_node *n = NULL;
	if (type == S_IFDIR && old && S_ISDIR(old->node->mode)) {
		n = old->node; /* keeps its entries */
	} else if (type == S_IFREG && e->nlink > 1) {
		n = hard_link_of(fs, e);
	}
	if (!n) {
		n = new_node(fs, type, dir);
		if (!n)
			return -ENOMEM;
		if (type == S_IFREG && e->nlink > 1) {
			n->cpio_ino = e->ino;
			n->cpio_dev = e->devmajor << 16 ^ e->devminor;
			n->links = fs->linked;
			fs->linked = n;
		}
	}
	n->mode = e->mode;
	n->mtime = e->mtime;
	if (type != S_IFDIR && (e->size > 0 || !n->data)) {
		/* GNU cpio stores a hard-linked file's data with its last name only. */
		n->data = e->data;
		n->size = e->size;
	}
	return old && old->node == n ? 0 : link_node(fs, dir, name, len, n);
}

static int dent_cmp(const struct ramfs_dent *a, const struct ramfs_dent *b)
{
	int c = memcmp(a->name, b->name, MIN(a->len, b->len));
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Heap sort: in place, O(n log n), no recursion and no extra memory. */
static void sift_down(struct ramfs_dent **a, size_t i, size_t n)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && dent_cmp(a[c + 1], a[c]) > 0)
			c++;
		if (dent_cmp(a[i], a[c]) >= 0)
			return;
		struct ramfs_dent *t = a[i];
		a[i] = a[c];
		a[c] = t;
		i = c;
	}
}

static void sort_dents(struct ramfs_dent **a, size_t n)
{
	for (size_t i = n / 2; i-- > 0;)
		sift_down(a, i, n);
	for (size_t end = n; end-- > 1;) {
		struct ramfs_dent *t = a[0];
		a[0] = a[end];
		a[end] = t;
		sift_down(a, 0, end);
	}
}

/* Step 3: sorted arrays, numbers and counts for everything reachable from the root. */
static int finish(struct ramfs *fs)
{
	struct ramfs_node *head = fs->root, *tail = fs->root;
	fs->root->ino = ++fs->next_ino;
	fs->root->bfs_next = NULL;
	while (head) {
		struct ramfs_node *dir = head;
		size_t n = 0;
		for (struct ramfs_dent *d = dir->building; d; d = d->sibling)
			n++;
		if (n) {
			dir->kids = carve(fs, n * sizeof(dir->kids[0]));
			if (!dir->kids)
				return -ENOMEM;
		}
		n = 0;
		for (struct ramfs_dent *d = dir->building; d; d = d->sibling)
			dir->kids[n++] = d;
		sort_dents(dir->kids, n);
		dir->nkids = n;
		dir->nlink = 2;
		fs->info.dirs++;
		for (size_t i = 0; i < n; i++) {
			struct ramfs_node *c = dir->kids[i]->node;
			if (S_ISDIR(c->mode)) {
				/* A directory is reachable through one name only: the one that made
				 * it its parent (a later name for it made a new node). */
				c->ino = ++fs->next_ino;
				c->parent = dir;
				c->bfs_next = NULL;
				tail->bfs_next = c;
				tail = c;
				dir->nlink++;
				continue;
			}
			if (c->ino == 0) {
				c->ino = ++fs->next_ino;
				c->nlink = 0;
				if (S_ISREG(c->mode)) {
					fs->info.files++;
					fs->info.bytes += c->size;
				} else {
					fs->info.symlinks++;
				}
			}
			c->nlink++;
		}
		head = dir->bfs_next;
	}
	return 0;
}

int ramfs_build(const void *archive, size_t len, struct ramfs **out, char *err, size_t errlen)
{
	struct cpio_iter it;
	struct cpio_entry e;
	size_t entries = 0;
	int rc;

	if (errlen)
		err[0] = '\0';
	*out = NULL;
	if (len > 0) {
		cpio_iter_init(&it, archive, len);
		while ((rc = cpio_next(&it, &e)) > 0)
			entries++;
		if (rc < 0) {
			ksnprintf(err, errlen, "%s", it.err);
			return rc;
		}
	}

	struct ramfs *fs = kmalloc(sizeof(*fs));
	if (!fs)
		goto nomem;
	memset(fs, 0, sizeof(*fs));
	size_t buckets = HASH_MIN;
	while (buckets < entries && buckets < ((size_t)1 << 30))
		buckets *= 2;
	fs->hash = kmalloc(buckets * sizeof(fs->hash[0]));
	if (!fs->hash)
		goto free_fs;
	memset(fs->hash, 0, buckets * sizeof(fs->hash[0]));
	fs->hash_mask = buckets - 1;
	fs->root = new_node(fs, S_IFDIR | 0755, NULL);
	if (!fs->root)
		goto free_fs;

	if (len > 0) {
		cpio_iter_init(&it, archive, len);
		while (cpio_next(&it, &e) > 0)
			if (insert(fs, &e) < 0)
				goto free_fs;
	}
	if (finish(fs) < 0)
		goto free_fs;
	kfree(fs->hash);
	fs->hash = NULL;
	*out = fs;
	return 0;

free_fs:
	ramfs_free(fs);
nomem:
	ksnprintf(err, errlen, "out of memory building the ramfs (%zu archive entries)", entries);
	return -ENOMEM;
}

void ramfs_free(struct ramfs *fs)
{
	if (!fs)
		return;
	struct ramfs_chunk *c = fs->chunks;
	while (c) {
		struct ramfs_chunk *next = c->next;
		kfree(c);
		c = next;
	}
	kfree(fs->hash);
	kfree(fs);
}

uint64_t ramfs_root(const struct ramfs *fs)
{
	return (uint64_t)(uintptr_t)fs->root;
}

void ramfs_info(const struct ramfs *fs, struct ramfs_info *out)
{
	*out = fs->info;
}

/* ---- fs_ops: read-only, any core ------------------------------------------------------------- */

static const struct ramfs_node *node_of(uint64_t ino)
{
	return (const struct ramfs_node *)(uintptr_t)ino;
}

static uint8_t dtype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return DT_DIR;
	case S_IFREG:
		return DT_REG;
	case S_IFLNK:
		return DT_LNK;
	default:
		return DT_UNKNOWN;
	}
}

static int ramfs_lookup(struct vfs_mount *m, uint64_t dir, const char *name, size_t len,
                        uint64_t *ino)
{
	(void)m;
	const struct ramfs_node *d = node_of(dir);
	if (!S_ISDIR(d->mode))
		return (d->mode & S_IFMT) == S_IFLNK ? -ELOOP : -ENOTDIR;
	struct ramfs_dent key = { .name = name, .len = (uint32_t)len };
	size_t lo = 0, hi = d->nkids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = dent_cmp(&key, d->kids[mid]);
		if (c == 0) {
			*ino = (uint64_t)(uintptr_t)d->kids[mid]->node;
			return 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -ENOENT;
}

static int ramfs_stat(struct vfs_mount *m, uint64_t ino, struct fs_stat *st)
{
	(void)m;
	const struct ramfs_node *n = node_of(ino);
	st->ino = n->ino;
	st->mode = n->mode;
	st->nlink = n->nlink;
	st->size = S_ISDIR(n->mode) ? 0 : n->size;
	st->mtime = n->mtime;
	return 0;
}

static ssize_t ramfs_read(struct vfs_mount *m, uint64_t ino, uint64_t off, void *buf, size_t len)
{
	(void)m;
	const struct ramfs_node *n = node_of(ino);
	if (S_ISDIR(n->mode))
		return -EISDIR;
	if (!S_ISREG(n->mode))
		return -EINVAL;
	if (off >= n->size)
		return 0;
	size_t count = (size_t)MIN((uint64_t)len, n->size - off);
	if (count > (size_t)INT64_MAX)
		count = (size_t)INT64_MAX;
	memcpy(buf, n->data + off, count);
	return (ssize_t)count;
}

static int ramfs_readdir(struct vfs_mount *m, uint64_t dir, uint64_t *cookie, struct fs_dirent *out)
{
	(void)m;
	const struct ramfs_node *d = node_of(dir);
	if (!S_ISDIR(d->mode))
		return -ENOTDIR;
	uint64_t i = *cookie;
	if (i < 2) {
		const struct ramfs_node *n = i == 0 ? d : d->parent;
		out->ino = n->ino;
		out->type = DT_DIR;
		memcpy(out->name, "..", i + 1);
		out->name[i + 1] = '\0';
	} else if (i - 2 < d->nkids) {
		const struct ramfs_dent *e = d->kids[i - 2];
		out->ino = e->node->ino;
		out->type = dtype(e->node->mode);
		memcpy(out->name, e->name, e->len);
		out->name[e->len] = '\0';
	} else {
		return 0;
	}
	*cookie = i + 1;
	return 1;
}

const struct fs_ops ramfs_ops = {
	.lookup = ramfs_lookup,
	.stat = ramfs_stat,
	.read = ramfs_read,
	.readdir = ramfs_readdir,
};
