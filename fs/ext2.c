/*
 * ext2.c - the ext2 filesystem: mount, checks, sync, unmount, and the fs_ops the VFS calls.
 *
 * On-disk layout (all little-endian; a block is 1, 2 or 4 KiB):
 *
 *   bytes 0..1023       boot area, unused by ext2
 *   bytes 1024..2047    the superblock (block 1 with 1 KiB blocks, inside block 0 otherwise)
 *   block fdb + 1 ...   the group descriptor table: 32 bytes per group (fdb is
 *                       s_first_data_block: 1 with 1 KiB blocks, else 0)
 *
 * The blocks after s_first_data_block are split into groups of s_blocks_per_group blocks.
 * Each group holds, in this order:
 *   - a copy of the superblock and of the group descriptor table (plus s_reserved_gdt_blocks
 *     kept free for growing the table), in group 0 and, with sparse_super, only in groups
 *     1 and powers of 3, 5 and 7; only the copy in group 0 is used and kept up to date;
 *   - a block bitmap and an inode bitmap (one bit per block / inode of the group), and an
 *     inode table of s_inodes_per_group inodes (where exactly is in the group descriptor);
 *   - data blocks: file contents, directory blocks, indirect blocks, attribute blocks.
 * An inode holds 12 direct block pointers and a single, double and triple indirect one (see
 * ext2_inode.c); a directory is a file of variable-length entries (see ext2_dir.c). Inode 2 is
 * the root directory; inodes below s_first_ino are reserved.
 *
 * Caching and durability: all blocks go through a small write-back cache (ext2_cache.c).
 * The superblock and the group descriptors are kept in memory (fs->sb, fs->gd) and copied into
 * their blocks when written back. Dirty blocks reach the disk when evicted and on fsync, sync
 * and unmount, which write every dirty block and then flush the device: after fsync or sync
 * returns, the whole filesystem on disk is consistent (e2fsck finds nothing to fix). There is
 * no journal: a crash between syncs may leave work for e2fsck. A read-write mount clears
 * EXT2_VALID_FS in s_state on disk (and counts the mount); unmount puts back the state found
 * at mount time.
 *
 * What is checked (the image is never trusted): at mount, the magic, the revision (0 or 1),
 * the block size, the inode size, the group geometry, that the filesystem fits in the device,
 * that every group's bitmaps and inode table lie inside that group and do not overlap its
 * superblock copy or each other, and the features (unknown INCOMPAT: refused; unknown
 * RO_COMPAT: read-only). Later: every block pointer is checked to be a data block before it is
 * followed, every inode number to be in range, every directory block to be well formed, and
 * every loop is bounded by counts taken from the checked geometry. A violation is logged
 * (rate-limited) and returns -EIO; nothing asserts.
 */
#include "fs/ext2_priv.h"

#include <isle/errno.h>
#include <isle/mem.h>
#include <stdarg.h>
#include <string.h>

#include "kernel/console.h"
#include "kernel/printf.h"

/* Logs what is wrong with the image (the first EXT2_MAX_ERRORS_LOGGED times). -EIO. */
int ext2_corrupt(struct ext2_fs *fs, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (fs->errors_logged >= EXT2_MAX_ERRORS_LOGGED)
		return -EIO;
	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("ext2: %s: corrupt filesystem: %s", fs->dev->name, msg);
	if (++fs->errors_logged == EXT2_MAX_ERRORS_LOGGED)
		log_error("ext2: %s: further corruption reports suppressed", fs->dev->name);
	return -EIO;
}

uint32_t ext2_now(struct ext2_fs *fs)
{
	return fs->now ? fs->now() : 0;
}

static bool is_power_of(uint32_t n, uint32_t base)
{
	while (n > 1 && n % base == 0)
		n /= base;
	return n == 1;
}

/* Whether group g holds a copy of the superblock and group descriptors. */
bool ext2_group_has_super(const struct ext2_fs *fs, uint32_t g)
{
	if (g <= 1 || !fs->sparse_super)
		return true;
	return is_power_of(g, 3) || is_power_of(g, 5) || is_power_of(g, 7);
}

/* Blocks at the start of group g taken by the superblock and descriptor copies. */
static uint32_t group_meta_blocks(const struct ext2_fs *fs, uint32_t g)
{
	if (!ext2_group_has_super(fs, g))
		return 0;
	return 1 + fs->gdt_blocks + fs->sb.s_reserved_gdt_blocks;
}

/* Whether blk may hold file data, a directory or an indirect block: inside the filesystem and
 * not one of its group's metadata blocks. */
bool ext2_data_block_ok(const struct ext2_fs *fs, uint32_t blk)
{
	const struct ext2_group_desc *gd;
	uint32_t g, off;

	if (blk < fs->first_data_block || blk >= fs->blocks_count)
		return false;
	g = (blk - fs->first_data_block) / fs->blocks_per_group;
	off = (blk - fs->first_data_block) % fs->blocks_per_group;
	if (off < group_meta_blocks(fs, g))
		return false;
	gd = &fs->gd[g];
	if (blk == gd->bg_block_bitmap || blk == gd->bg_inode_bitmap)
		return false;
	return blk < gd->bg_inode_table || blk - gd->bg_inode_table >= fs->itable_blocks;
}

/* Copies the superblock and group descriptors into their cached blocks if they changed. */
static int store_super(struct ext2_fs *fs)
{
	struct ext2_buf *b;
	int err;

	if (fs->gd_dirty) {
		size_t bytes = (size_t)fs->ngroups * sizeof(struct ext2_group_desc);
		for (uint32_t i = 0; i < fs->gdt_blocks; i++) {
			size_t off = (size_t)i * fs->block_size;
			size_t n = bytes - off < fs->block_size ? bytes - off : fs->block_size;
			if ((err = ext2_bread(fs, fs->first_data_block + 1 + i, &b)) < 0)
				return err;
			memcpy(b->b_data, (const uint8_t *)fs->gd + off, n);
			ext2_bdirty(b);
			ext2_brelse(b);
		}
		fs->gd_dirty = false;
	}
	if (fs->sb_dirty) {
		uint32_t now = ext2_now(fs);
		if (now)
			fs->sb.s_wtime = now;
		err = ext2_bread(fs, EXT2_SUPER_OFFSET / fs->block_size, &b);
		if (err < 0)
			return err;
		memcpy(b->b_data + EXT2_SUPER_OFFSET % fs->block_size, &fs->sb, sizeof(fs->sb));
		ext2_bdirty(b);
		ext2_brelse(b);
		fs->sb_dirty = false;
	}
	return 0;
}

/* Writes everything that changed to the device and flushes it. */
int ext2_writeback(struct ext2_fs *fs)
{
	int err;

	if (fs->readonly)
		return 0;
	if ((err = store_super(fs)) < 0)
		return err;
	if ((err = ext2_cache_flush(fs)) < 0)
		return err;
	return fs->dev->flush ? fs->dev->flush(fs->dev) : 0;
}

/* ---- mount ---------------------------------------------------------------------------- */

#define MOUNT_FAIL(code, ...)                                 \
	do {                                                  \
		ksnprintf(err, errlen, "ext2: " __VA_ARGS__); \
		return (code);                                \
	} while (0)

/* The superblock's own fields: geometry, revision, features, fit in the device. */
static int check_super(struct ext2_fs *fs, char *err, size_t errlen)
{
	struct ext2_super *sb = &fs->sb;
	uint64_t dev_blocks, groups;

	if (sb->s_magic != EXT2_MAGIC)
		MOUNT_FAIL(-EINVAL, "not an ext2 filesystem (magic %#x)", sb->s_magic);
	if (sb->s_rev_level > 1)
		MOUNT_FAIL(-ENOTSUP, "unknown revision %u", sb->s_rev_level);
	if (sb->s_log_block_size > 2)
		MOUNT_FAIL(-EIO, "bad block size (log %u): only 1, 2 and 4 KiB",
		           sb->s_log_block_size);
	fs->block_size = 1024u << sb->s_log_block_size;
	fs->sectors_per_block = fs->block_size / SECTOR_SIZE;
	fs->addr_per_block = fs->block_size / 4;
	if (sb->s_rev_level == 0) {
		fs->inode_size = EXT2_GOOD_OLD_INODE_SIZE;
		fs->first_ino = EXT2_GOOD_OLD_FIRST_INO;
	} else {
		uint32_t unknown = sb->s_feature_incompat & ~EXT2_FEATURE_INCOMPAT_SUPPORTED;
		if (unknown)
			MOUNT_FAIL(-ENOTSUP, "unsupported incompatible features %#x", unknown);
		fs->inode_size = sb->s_inode_size;
		fs->first_ino = sb->s_first_ino;
		fs->has_filetype = sb->s_feature_incompat & EXT2_FEATURE_INCOMPAT_FILETYPE;
		fs->sparse_super = sb->s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER;
		if (fs->inode_size < EXT2_GOOD_OLD_INODE_SIZE || fs->inode_size > fs->block_size ||
		    (fs->inode_size & (fs->inode_size - 1)))
			MOUNT_FAIL(-EIO, "bad inode size %u", fs->inode_size);
	}
	fs->blocks_count = sb->s_blocks_count;
	fs->inodes_count = sb->s_inodes_count;
	fs->first_data_block = sb->s_first_data_block;
	fs->blocks_per_group = sb->s_blocks_per_group;
	fs->inodes_per_group = sb->s_inodes_per_group;
	if (fs->first_data_block != (fs->block_size == 1024 ? 1u : 0u))
		MOUNT_FAIL(-EIO, "bad first data block %u", fs->first_data_block);
	if (fs->blocks_per_group < 8 || fs->blocks_per_group > 8 * fs->block_size ||
	    fs->blocks_per_group % 8 != 0)
		MOUNT_FAIL(-EIO, "bad blocks per group %u", fs->blocks_per_group);
	if (fs->inodes_per_group == 0 || fs->inodes_per_group > 8 * fs->block_size)
		MOUNT_FAIL(-EIO, "bad inodes per group %u", fs->inodes_per_group);
	if (fs->blocks_count <= fs->first_data_block)
		MOUNT_FAIL(-EIO, "bad block count %u", fs->blocks_count);
	dev_blocks = fs->dev->sectors / fs->sectors_per_block;
	if (fs->blocks_count > dev_blocks)
		MOUNT_FAIL(-EIO, "%u blocks do not fit in the device (%llu blocks)",
		           fs->blocks_count, (unsigned long long)dev_blocks);
	groups = (fs->blocks_count - fs->first_data_block + fs->blocks_per_group - 1) /
	         fs->blocks_per_group;
	fs->ngroups = (uint32_t)groups;
	if ((uint64_t)fs->inodes_count != groups * fs->inodes_per_group)
		MOUNT_FAIL(-EIO, "inode count %u is not %llu groups x %u", fs->inodes_count,
		           (unsigned long long)groups, fs->inodes_per_group);
	if (fs->first_ino < EXT2_GOOD_OLD_FIRST_INO || fs->first_ino > fs->inodes_count)
		MOUNT_FAIL(-EIO, "bad first inode %u", fs->first_ino);
	fs->gdt_blocks = (uint32_t)((groups * sizeof(struct ext2_group_desc) + fs->block_size - 1) /
	                            fs->block_size);
	fs->itable_blocks =
	        (uint32_t)(((uint64_t)fs->inodes_per_group * fs->inode_size + fs->block_size - 1) /
	                   fs->block_size);
	if (!(sb->s_feature_compat & EXT2_FEATURE_COMPAT_RESIZE_INODE))
		sb->s_reserved_gdt_blocks = 0; /* meaningless without the feature */
	if ((uint64_t)1 + fs->gdt_blocks + sb->s_reserved_gdt_blocks + 2 + fs->itable_blocks >
	    fs->blocks_per_group)
		MOUNT_FAIL(-EIO,
		           "group metadata (%u descriptor blocks, %u inode table blocks) "
		           "does not fit in a group of %u",
		           fs->gdt_blocks, fs->itable_blocks, fs->blocks_per_group);
	if (sb->s_r_blocks_count > fs->blocks_count)
		MOUNT_FAIL(-EIO, "reserved block count %u is too large", sb->s_r_blocks_count);
	return 0;
}

/* Whether [a, a + na) and [b, b + nb) overlap. */
static bool overlap(uint32_t a, uint32_t na, uint32_t b, uint32_t nb)
{
	return a < b + nb && b < a + na;
}

/* Reads the group descriptors; checks where each group's metadata is; totals the counts. */
static int load_groups(struct ext2_fs *fs, char *err, size_t errlen)
{
	size_t bytes = (size_t)fs->ngroups * sizeof(struct ext2_group_desc);
	uint64_t free_blocks = 0, free_inodes = 0;
	int e;

	fs->gd = kmalloc(bytes);
	if (!fs->gd)
		MOUNT_FAIL(-ENOMEM, "no memory for %u group descriptors", fs->ngroups);
	for (uint32_t i = 0; i < fs->gdt_blocks; i++) {
		size_t off = (size_t)i * fs->block_size;
		size_t n = bytes - off < fs->block_size ? bytes - off : fs->block_size;
		struct ext2_buf *b;
		if ((e = ext2_bread(fs, fs->first_data_block + 1 + i, &b)) < 0)
			MOUNT_FAIL(e, "cannot read the group descriptors");
		memcpy((uint8_t *)fs->gd + off, b->b_data, n);
		ext2_brelse(b);
	}
	for (uint32_t g = 0; g < fs->ngroups; g++) {
		const struct ext2_group_desc *gd = &fs->gd[g];
		uint32_t start = fs->first_data_block + g * fs->blocks_per_group;
		uint32_t end = fs->blocks_count - start < fs->blocks_per_group
		                       ? fs->blocks_count
		                       : start + fs->blocks_per_group;
		uint32_t meta = start + group_meta_blocks(fs, g);
		if (gd->bg_block_bitmap < meta || gd->bg_block_bitmap >= end ||
		    gd->bg_inode_bitmap < meta || gd->bg_inode_bitmap >= end ||
		    gd->bg_inode_table < meta || gd->bg_inode_table > end ||
		    end - gd->bg_inode_table < fs->itable_blocks ||
		    gd->bg_block_bitmap == gd->bg_inode_bitmap ||
		    overlap(gd->bg_block_bitmap, 1, gd->bg_inode_table, fs->itable_blocks) ||
		    overlap(gd->bg_inode_bitmap, 1, gd->bg_inode_table, fs->itable_blocks))
			MOUNT_FAIL(-EIO, "group %u: bitmaps (%u, %u) or inode table (%u) misplaced",
			           g, gd->bg_block_bitmap, gd->bg_inode_bitmap, gd->bg_inode_table);
		if (gd->bg_free_blocks_count > end - start ||
		    gd->bg_free_inodes_count > fs->inodes_per_group ||
		    gd->bg_used_dirs_count > fs->inodes_per_group)
			MOUNT_FAIL(-EIO, "group %u: impossible counts", g);
		free_blocks += gd->bg_free_blocks_count;
		free_inodes += gd->bg_free_inodes_count;
	}
	/* The groups' counts are the truth (they are what allocation updates); the superblock's
	 * totals are brought in line with them, as Linux does at mount. */
	if (fs->sb.s_free_blocks_count != free_blocks ||
	    fs->sb.s_free_inodes_count != free_inodes) {
		fs->sb.s_free_blocks_count = (uint32_t)free_blocks;
		fs->sb.s_free_inodes_count = (uint32_t)free_inodes;
		fs->sb_dirty = true;
	}
	return 0;
}

static void fs_free(struct ext2_fs *fs)
{
	ext2_cache_destroy(fs);
	kfree(fs->gd);
	kfree(fs);
}

int ext2_mount(struct blkdev *dev, bool readonly, void **priv_out, char *err, size_t errlen)
{
	struct ext2_fs *fs;
	struct ext2_inode root;
	int e;

	if (errlen)
		err[0] = '\0';
	fs = kzalloc(sizeof(*fs));
	if (!fs)
		MOUNT_FAIL(-ENOMEM, "no memory");
	fs->dev = dev;
	if (dev->sectors < (EXT2_SUPER_OFFSET + sizeof(fs->sb)) / SECTOR_SIZE ||
	    dev->read(dev, EXT2_SUPER_OFFSET / SECTOR_SIZE, &fs->sb, sizeof(fs->sb) / SECTOR_SIZE) <
	            0) {
		kfree(fs);
		ksnprintf(err, errlen, "ext2: %s: cannot read the superblock", dev->name);
		return -EIO;
	}
	if ((e = check_super(fs, err, errlen)) < 0)
		goto fail;
	fs->readonly = readonly || dev->readonly;
	if (fs->sb.s_rev_level >= 1 &&
	    (fs->sb.s_feature_ro_compat & ~EXT2_FEATURE_RO_COMPAT_SUPPORTED) && !fs->readonly) {
		log_warn("ext2: %s: unknown read-only features %#x: mounting read-only", dev->name,
		         fs->sb.s_feature_ro_compat & ~EXT2_FEATURE_RO_COMPAT_SUPPORTED);
		fs->readonly = true;
	}
	if ((e = ext2_cache_init(fs)) < 0) {
		ksnprintf(err, errlen, "ext2: no memory for the block cache");
		goto fail;
	}
	if ((e = load_groups(fs, err, errlen)) < 0)
		goto fail;
	e = ext2_iget(fs, EXT2_ROOT_INO, &root);
	if (e < 0 || (root.i_mode & EXT2_S_IFMT) != EXT2_S_IFDIR) {
		ksnprintf(err, errlen, "ext2: the root inode is not a directory");
		e = -EIO;
		goto fail;
	}
	if (fs->sb.s_state & EXT2_ERROR_FS || !(fs->sb.s_state & EXT2_VALID_FS))
		log_warn("ext2: %s: not cleanly unmounted or has errors: run e2fsck", dev->name);
	fs->mount_state = fs->sb.s_state;
	if (!fs->readonly) {
		fs->sb.s_state &= (uint16_t)~EXT2_VALID_FS; /* until unmount puts it back */
		fs->sb.s_mnt_count++;
		fs->sb_dirty = true;
		if ((e = ext2_writeback(fs)) < 0) {
			ksnprintf(err, errlen, "ext2: %s: cannot write the superblock (%d)",
			          dev->name, e);
			goto fail;
		}
	}
	*priv_out = fs;
	return 0;
fail:
	fs_free(fs);
	return e;
}

bool ext2_readonly(const void *priv)
{
	return ((const struct ext2_fs *)priv)->readonly;
}

void ext2_set_clock(void *priv, uint32_t (*now)(void))
{
	struct ext2_fs *fs = priv;

	fs->now = now;
	if (now && !fs->readonly) {
		fs->sb.s_mtime = now(); /* the mount happened just now */
		fs->sb_dirty = true;
	}
}

/* ---- fs_ops --------------------------------------------------------------------------- */

static struct ext2_fs *FS(struct vfs_mount *m)
{
	return m->priv;
}

/* A handle the VFS passes in: one of ours, or -ENOENT. */
static int ino_arg(struct ext2_fs *fs, uint64_t ino)
{
	return ino == 0 || ino > fs->inodes_count ? -ENOENT : 0;
}

static int ext2_op_lookup(struct vfs_mount *m, uint64_t dir, const char *name, size_t len,
                          uint64_t *ino)
{
	int err = ino_arg(FS(m), dir);

	return err < 0 ? err : ext2_dir_lookup(FS(m), (uint32_t)dir, name, len, ino);
}

static int ext2_op_stat(struct vfs_mount *m, uint64_t ino, struct fs_stat *st)
{
	struct ext2_inode in;
	int err = ino_arg(FS(m), ino);

	if (err < 0 || (err = ext2_iget(FS(m), ino, &in)) < 0)
		return err;
	st->ino = ino;
	st->mode = in.i_mode;
	st->nlink = in.i_links_count;
	st->size = ext2_isize(&in);
	st->mtime = in.i_mtime;
	return 0;
}

static ssize_t ext2_op_read(struct vfs_mount *m, uint64_t ino, uint64_t off, void *buf, size_t len)
{
	struct ext2_inode in;
	int err = ino_arg(FS(m), ino);

	if (err < 0 || (err = ext2_iget(FS(m), ino, &in)) < 0)
		return err;
	return ext2_file_read(FS(m), (uint32_t)ino, &in, off, buf, len);
}

static ssize_t ext2_op_write(struct vfs_mount *m, uint64_t ino, uint64_t off, const void *buf,
                             size_t len)
{
	struct ext2_inode in;
	int err = ino_arg(FS(m), ino);

	if (err < 0 || (err = ext2_iget(FS(m), ino, &in)) < 0)
		return err;
	return ext2_file_write(FS(m), (uint32_t)ino, &in, off, buf, len);
}

static int ext2_op_truncate(struct vfs_mount *m, uint64_t ino, uint64_t size)
{
	struct ext2_inode in;
	int err = ino_arg(FS(m), ino);

	if (err < 0 || (err = ext2_iget(FS(m), ino, &in)) < 0)
		return err;
	return ext2_file_truncate(FS(m), (uint32_t)ino, &in, size);
}

static int ext2_op_create(struct vfs_mount *m, uint64_t dir, const char *name, size_t len,
                          uint32_t mode, uint64_t *ino)
{
	int err = ino_arg(FS(m), dir);

	return err < 0 ? err : ext2_dir_create(FS(m), (uint32_t)dir, name, len, mode, false, ino);
}

static int ext2_op_mkdir(struct vfs_mount *m, uint64_t dir, const char *name, size_t len,
                         uint32_t mode, uint64_t *ino)
{
	int err = ino_arg(FS(m), dir);

	return err < 0 ? err : ext2_dir_create(FS(m), (uint32_t)dir, name, len, mode, true, ino);
}

static int ext2_op_unlink(struct vfs_mount *m, uint64_t dir, const char *name, size_t len)
{
	int err = ino_arg(FS(m), dir);

	return err < 0 ? err : ext2_dir_unlink(FS(m), (uint32_t)dir, name, len, false);
}

static int ext2_op_rmdir(struct vfs_mount *m, uint64_t dir, const char *name, size_t len)
{
	int err = ino_arg(FS(m), dir);

	return err < 0 ? err : ext2_dir_unlink(FS(m), (uint32_t)dir, name, len, true);
}

static int ext2_op_rename(struct vfs_mount *m, uint64_t odir, const char *oname, size_t olen,
                          uint64_t ndir, const char *nname, size_t nlen)
{
	int err = ino_arg(FS(m), odir);

	if (err == 0)
		err = ino_arg(FS(m), ndir);
	return err < 0 ? err
	               : ext2_dir_rename(FS(m), (uint32_t)odir, oname, olen, (uint32_t)ndir, nname,
	                                 nlen);
}

static int ext2_op_readdir(struct vfs_mount *m, uint64_t dir, uint64_t *cookie,
                           struct fs_dirent *out)
{
	int err = ino_arg(FS(m), dir);

	return err < 0 ? err : ext2_dir_readdir(FS(m), (uint32_t)dir, cookie, out);
}

/* fsync writes everything, not just the file: simple, and what makes the file's directory
 * entries and the allocation metadata durable along with it. */
static int ext2_op_fsync(struct vfs_mount *m, uint64_t ino)
{
	(void)ino;
	return ext2_writeback(FS(m));
}

static int ext2_op_sync(struct vfs_mount *m)
{
	return ext2_writeback(FS(m));
}

static void ext2_op_unmount(struct vfs_mount *m)
{
	struct ext2_fs *fs = FS(m);
	int err;

	if (!fs->readonly) {
		fs->sb.s_state = fs->mount_state;
		fs->sb_dirty = true;
		err = ext2_writeback(fs);
		if (err < 0)
			log_error("ext2: %s: writing back at unmount failed (%d): data lost",
			          fs->dev->name, err);
	}
	fs_free(fs);
	m->priv = NULL;
}

const struct fs_ops ext2_ops = {
	.lookup = ext2_op_lookup,
	.stat = ext2_op_stat,
	.read = ext2_op_read,
	.write = ext2_op_write,
	.truncate = ext2_op_truncate,
	.create = ext2_op_create,
	.mkdir = ext2_op_mkdir,
	.unlink = ext2_op_unlink,
	.rmdir = ext2_op_rmdir,
	.rename = ext2_op_rename,
	.readdir = ext2_op_readdir,
	.fsync = ext2_op_fsync,
	.sync = ext2_op_sync,
	.unmount = ext2_op_unmount,
};
