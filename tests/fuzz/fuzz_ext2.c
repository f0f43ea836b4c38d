/*
 * fuzz_ext2.c - libFuzzer target for the ext2 driver's readers (fs/ext2*.c).
 *
 * The first use builds three small good images in memory (1, 2 and 4 KiB blocks): a minimal
 * filesystem laid out by hand below (superblock, one group, bitmaps, inode table, root
 * directory), then filled through the driver itself with directories, a two-block directory,
 * files with direct, single, double and triple indirect blocks, and a sparse file over 4 GiB.
 *
 * An input is a recipe for damaging one of them: byte 0 picks the image (low two bits) and
 * what to do (bit 2: mount read-only; bit 3: also change things), and every following 4 bytes
 * set one byte of a fresh copy (3-byte offset modulo the image size, then the value). The
 * damaged copy is mounted from memory and walked: readdir of every directory (bounded depth
 * and count), lookup and stat of every entry, reads of every file at its start and end; with
 * bit 3, files and directories are created, renamed, truncated and removed, then everything
 * is walked again and unmounted. Nothing may crash, hang, leak or break the promises checked
 * below (errno range, read lengths, names).
 *
 *   make build/fuzz/fuzz_ext2 && build/fuzz/fuzz_ext2 -max_total_time=60
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isle/errno.h>
#include <isle/mem.h>

#include "fs/ext2.h"
#include "kernel/console.h"

#define ASSERT(c)                                                                          \
	do {                                                                               \
		if (!(c)) {                                                                \
			fprintf(stderr, "assertion failed: %s (line %d)\n", #c, __LINE__); \
			abort();                                                           \
		}                                                                          \
	} while (0)

/* ---- kernel stand-ins ----------------------------------------------------------------------- */

void klog(int level, const char *fmt, ...)
{
	(void)level;
	(void)fmt;
}

void *kmalloc(size_t size)
{
	return malloc(size);
}

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

void thread_yield(void)
{
}

/* ---- a block device in memory --------------------------------------------------------------- */

struct memdev {
	struct blkdev b;
	uint8_t *data; /* b.sectors * SECTOR_SIZE bytes */
};

static int mem_read(struct blkdev *b, uint64_t sector, void *buf, size_t count)
{
	struct memdev *d = b->priv;

	if (sector > b->sectors || count > b->sectors - sector)
		return -EINVAL;
	memcpy(buf, d->data + sector * SECTOR_SIZE, count * SECTOR_SIZE);
	return 0;
}

static int mem_write(struct blkdev *b, uint64_t sector, const void *buf, size_t count)
{
	struct memdev *d = b->priv;

	if (b->readonly)
		return -EROFS;
	if (sector > b->sectors || count > b->sectors - sector)
		return -EINVAL;
	memcpy(d->data + sector * SECTOR_SIZE, buf, count * SECTOR_SIZE);
	return 0;
}

static int mem_flush(struct blkdev *b)
{
	(void)b;
	return 0;
}

static void memdev_init(struct memdev *d, uint8_t *data, size_t size, bool readonly)
{
	d->data = data;
	d->b = (struct blkdev){ .name = "mem",
		                .sectors = size / SECTOR_SIZE,
		                .readonly = readonly,
		                .read = mem_read,
		                .write = mem_write,
		                .flush = mem_flush,
		                .priv = d };
}

/* ---- the base images -------------------------------------------------------------------- */

#define NINODES 64 /* inodes in the one group */

struct base {
	uint8_t *data; /* the image */
	size_t size;   /* its bytes */
};

static struct base bases[3];

static void set_bit(uint8_t *map, unsigned i)
{
	map[i / 8] |= (uint8_t)(1u << (i % 8));
}

/* An empty filesystem of nblocks blocks of bs bytes: one group, root directory only. */
static void mini_mkfs(uint8_t *img, unsigned bs, unsigned nblocks)
{
	unsigned fdb = bs == 1024 ? 1 : 0, gdt = fdb + 1, bb = gdt + 1, ib = bb + 1, it = ib + 1;
	unsigned itb = (NINODES * 128 + bs - 1) / bs, root = it + itb;
	struct ext2_super *sb = (struct ext2_super *)(img + 1024);
	struct ext2_group_desc *gd = (struct ext2_group_desc *)(img + gdt * bs);
	struct ext2_inode *ri = (struct ext2_inode *)(img + it * bs + 128); /* inode 2 */
	struct ext2_dir_entry *de;

	memset(img, 0, (size_t)bs * nblocks);
	sb->s_inodes_count = NINODES;
	sb->s_blocks_count = nblocks;
	sb->s_free_blocks_count = nblocks - (root + 1);
	sb->s_free_inodes_count = NINODES - 10;
	sb->s_first_data_block = fdb;
	sb->s_log_block_size = bs == 4096 ? 2 : bs == 2048 ? 1 : 0;
	sb->s_log_frag_size = sb->s_log_block_size;
	sb->s_blocks_per_group = 8 * bs;
	sb->s_frags_per_group = 8 * bs;
	sb->s_inodes_per_group = NINODES;
	sb->s_max_mnt_count = -1;
	sb->s_magic = EXT2_MAGIC;
	sb->s_state = EXT2_VALID_FS;
	sb->s_errors = 1;
	sb->s_rev_level = 1;
	sb->s_first_ino = 11;
	sb->s_inode_size = 128;
	sb->s_feature_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE;
	sb->s_feature_ro_compat =
	        EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
	gd->bg_block_bitmap = bb;
	gd->bg_inode_bitmap = ib;
	gd->bg_inode_table = it;
	gd->bg_free_blocks_count = (uint16_t)sb->s_free_blocks_count;
	gd->bg_free_inodes_count = (uint16_t)sb->s_free_inodes_count;
	gd->bg_used_dirs_count = 1;
	for (unsigned b = fdb; b <= root; b++) /* metadata and the root block in use */
		set_bit(img + bb * bs, b - fdb);
	for (unsigned b = nblocks - fdb; b < 8 * bs; b++) /* past the end: padding */
		set_bit(img + bb * bs, b);
	for (unsigned i = 0; i < 10; i++) /* reserved inodes */
		set_bit(img + ib * bs, i);
	for (unsigned i = NINODES; i < 8 * bs; i++)
		set_bit(img + ib * bs, i);
	ri->i_mode = EXT2_S_IFDIR | 0755;
	ri->i_links_count = 2;
	ri->i_size = bs;
	ri->i_blocks = bs / 512;
	ri->i_block[0] = root;
	de = (struct ext2_dir_entry *)(img + root * bs);
	de->inode = EXT2_ROOT_INO;
	de->rec_len = 12;
	de->name_len = 1;
	de->file_type = EXT2_FT_DIR;
	memcpy(de->name, ".", 1);
	de = (struct ext2_dir_entry *)(img + root * bs + 12);
	de->inode = EXT2_ROOT_INO;
	de->rec_len = (uint16_t)(bs - 12);
	de->name_len = 2;
	de->file_type = EXT2_FT_DIR;
	memcpy(de->name, "..", 2);
}

/* Files and directories added through the driver. */
static void populate(struct vfs_mount *m, unsigned bs)
{
	static uint8_t buf[14 * 4096];
	uint64_t d, e, f;
	char name[32];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + i / 251);
	ASSERT(ext2_ops.mkdir(m, EXT2_ROOT_INO, "d", 1, 0755, &d) == 0);
	ASSERT(ext2_ops.mkdir(m, d, "e", 1, 0755, &e) == 0);
	ASSERT(ext2_ops.create(m, e, "deep", 4, 0644, &f) == 0);
	ASSERT(ext2_ops.write(m, f, 0, "deep down", 9) == 9);
	for (int i = 0; i < 40; i++) { /* two blocks of directory at 1 KiB */
		int n = snprintf(name, sizeof(name), "entry-number-%02d", i);
		ASSERT(ext2_ops.create(m, d, name, (size_t)n, 0644, &f) == 0);
	}
	ASSERT(ext2_ops.create(m, EXT2_ROOT_INO, "f", 1, 0644, &f) == 0);
	ASSERT(ext2_ops.write(m, f, 0, buf, 100) == 100);
	ASSERT(ext2_ops.create(m, EXT2_ROOT_INO, "big", 3, 0644, &f) == 0);
	ASSERT(ext2_ops.write(m, f, 0, buf, 14 * bs) == (ssize_t)(14 * bs)); /* single ind. */
	ASSERT(ext2_ops.create(m, EXT2_ROOT_INO, "sparse", 6, 0644, &f) == 0);
	ASSERT(ext2_ops.write(m, f, 300ull * bs, buf, 10) == 10); /* double at 1 KiB */
	ASSERT(ext2_ops.write(m, f, 5ull << 30, buf, 10) == 10);  /* triple, > 4 GiB */
	ASSERT(ext2_ops.mkdir(m, EXT2_ROOT_INO, "empty", 5, 0755, &e) == 0);
}

static void make_base(struct base *b, unsigned bs)
{
	unsigned nblocks = bs == 4096 ? 64 : 128 * 1024 / bs;
	struct vfs_mount m = { .ops = &ext2_ops, .root = EXT2_ROOT_INO };
	struct memdev dev;
	char err[128];

	b->size = (size_t)nblocks * bs;
	b->data = malloc(b->size);
	mini_mkfs(b->data, bs, nblocks);
	memdev_init(&dev, b->data, b->size, false);
	ASSERT(ext2_mount(&dev.b, false, &m.priv, err, sizeof(err)) == 0);
	populate(&m, bs);
	ext2_ops.unmount(&m);
}

/* ---- the walk ------------------------------------------------------------------------------- */

static bool errno_ok(long r)
{
	return r >= -133; /* a Linux errno, or not an error */
}

static void walk(struct vfs_mount *m, uint64_t dir, int depth, int *budget)
{
	static uint8_t buf[8192];
	struct fs_dirent de;
	struct fs_stat st;
	uint64_t cookie = 0, ino;
	int r;

	while (*budget > 0 && (r = ext2_ops.readdir(m, dir, &cookie, &de)) == 1) {
		size_t len = strlen(de.name);
		(*budget)--;
		ASSERT(len >= 1 && len <= FS_NAME_MAX);
		if (strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
			continue;
		r = ext2_ops.lookup(m, dir, de.name, len, &ino);
		ASSERT(r <= 0 && errno_ok(r));
		if (r < 0)
			continue;
		r = ext2_ops.stat(m, ino, &st);
		ASSERT(r <= 0 && errno_ok(r));
		if (r < 0)
			continue;
		if (S_ISDIR(st.mode)) {
			if (depth < 6)
				walk(m, ino, depth + 1, budget);
			continue;
		}
		ssize_t n = ext2_ops.read(m, ino, 0, buf, sizeof(buf));
		ASSERT(errno_ok(n) && n <= (ssize_t)sizeof(buf));
		ASSERT(n < 0 || (uint64_t)n <= st.size);
		if (st.size > 4096) {
			n = ext2_ops.read(m, ino, st.size - 4096, buf, 8192);
			ASSERT(errno_ok(n) && n <= 4096);
		}
	}
	ASSERT(errno_ok(r));
}

/* Changes through every kind of operation; errors are fine, crashes are not. */
static void mutate(struct vfs_mount *m)
{
	static uint8_t buf[3000];
	uint64_t ino, d;

	if (ext2_ops.create(m, EXT2_ROOT_INO, "n", 1, 0644, &ino) == 0)
		ASSERT(errno_ok(ext2_ops.write(m, ino, 0, buf, sizeof(buf))));
	ext2_ops.mkdir(m, EXT2_ROOT_INO, "m", 1, 0755, &d);
	ext2_ops.rename(m, EXT2_ROOT_INO, "f", 1, d, "f", 1);
	ext2_ops.rename(m, EXT2_ROOT_INO, "n", 1, EXT2_ROOT_INO, "big", 3);
	ext2_ops.unlink(m, EXT2_ROOT_INO, "sparse", 6);
	if (ext2_ops.lookup(m, EXT2_ROOT_INO, "d", 1, &d) == 0) {
		ext2_ops.unlink(m, d, "entry-number-07", 15);
		ext2_ops.rmdir(m, d, "e", 1);
		ext2_ops.rename(m, EXT2_ROOT_INO, "empty", 5, d, "x", 1);
		ext2_ops.truncate(m, d, 0);
	}
	if (ext2_ops.lookup(m, EXT2_ROOT_INO, "big", 3, &ino) == 0) {
		ext2_ops.truncate(m, ino, 5000);
		ext2_ops.write(m, ino, 70000, buf, 10);
	}
	ext2_ops.rmdir(m, EXT2_ROOT_INO, "empty", 5);
	ASSERT(errno_ok(ext2_ops.fsync(m, EXT2_ROOT_INO)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfs_mount m = { .ops = &ext2_ops, .root = EXT2_ROOT_INO };
	struct memdev dev;
	struct base *b;
	uint8_t *img;
	char err[128];
	int r, budget = 300;

	if (!bases[0].data) {
		make_base(&bases[0], 1024);
		make_base(&bases[1], 2048);
		make_base(&bases[2], 4096);
	}
	if (size < 1)
		return 0;
	b = &bases[data[0] % 4 == 3 ? 0 : data[0] % 4];
	img = malloc(b->size);
	memcpy(img, b->data, b->size);
	for (size_t i = 1; i + 4 <= size; i += 4) {
		uint32_t off = data[i] | (uint32_t)data[i + 1] << 8 | (uint32_t)data[i + 2] << 16;
		img[off % b->size] = data[i + 3];
	}
	memdev_init(&dev, img, b->size, data[0] & 4);
	r = ext2_mount(&dev.b, data[0] & 4, &m.priv, err, sizeof(err));
	if (r < 0) {
		ASSERT(r == -EINVAL || r == -EIO || r == -ENOTSUP || r == -ENOMEM);
		ASSERT(err[0] != '\0');
		free(img);
		return 0;
	}
	walk(&m, EXT2_ROOT_INO, 0, &budget);
	if (data[0] & 8) {
		mutate(&m);
		budget = 300;
		walk(&m, EXT2_ROOT_INO, 0, &budget);
	}
	ext2_ops.unmount(&m);
	free(img);
	return 0;
}
