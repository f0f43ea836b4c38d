/*
 * ext2_alloc.c - block and inode allocation through the groups' bitmaps.
 *
 * Each group has one block of block bitmap (bit i: block first_data_block + g *
 * blocks_per_group + i is in use) and one block of inode bitmap (bit i: inode g *
 * inodes_per_group + i + 1 is in use). Every allocation or free changes three things together:
 * the bit, the group's free count (bg_free_*_count, and bg_used_dirs_count for directories)
 * and the superblock's total (s_free_*_count), so e2fsck always finds them in agreement.
 *
 * The search starts at a goal (the block after the previous one of the same file, or the
 * group of the inode; for inodes, the group of the parent directory), goes to the end of that
 * group and then through the other groups, skipping groups whose count says they are full.
 * Bitmaps are not trusted: a group whose count says "free" but whose bitmap is full, a free
 * bit on a metadata block, or freeing something already free is corruption (-EIO).
 *
 * Freeing yields the core every EXT2_FREES_PER_YIELD blocks. That is safe wherever a block is
 * freed, because reading the bitmap may wait for the disk there anyway: callers already expect
 * other threads to run in the middle (and the mount's gate keeps its other calls out).
 */
#include "fs/ext2_priv.h"

#include <isle/errno.h>
#include <isle/thread.h>
#include <string.h>

static uint32_t group_blocks(const struct ext2_fs *fs, uint32_t g)
{
	uint32_t start = g * fs->blocks_per_group; /* relative to first_data_block */
	uint32_t total = fs->blocks_count - fs->first_data_block;

	return total - start < fs->blocks_per_group ? total - start : fs->blocks_per_group;
}

/* First clear bit in [from, n) of map, or n. */
static uint32_t find_zero(const uint8_t *map, uint32_t from, uint32_t n)
{
	for (uint32_t i = from; i < n; i++) {
		if (i % 8 == 0 && map[i / 8] == 0xff && i + 8 <= n) {
			i += 7;
			continue;
		}
		if (!(map[i / 8] & (1u << (i % 8))))
			return i;
	}
	return n;
}

/* Takes a free block of group g at or after bit `from`: 1 with *bit, 0 if none, or -errno. */
static int block_take(struct ext2_fs *fs, uint32_t g, uint32_t from, uint32_t *bit)
{
	struct ext2_group_desc *gd = &fs->gd[g];
	uint32_t n = group_blocks(fs, g), i;
	struct ext2_buf *b;
	int err;

	if (gd->bg_free_blocks_count == 0 || from >= n)
		return 0;
	err = ext2_bread(fs, gd->bg_block_bitmap, &b);
	if (err < 0)
		return err;
	i = find_zero(b->b_data, from, n);
	if (i == n) {
		ext2_brelse(b);
		if (from == 0)
			return ext2_corrupt(fs, "group %u counts %u free blocks, its bitmap none",
			                    g, gd->bg_free_blocks_count);
		return 0;
	}
	if (!ext2_data_block_ok(fs, fs->first_data_block + g * fs->blocks_per_group + i)) {
		ext2_brelse(b);
		return ext2_corrupt(fs, "block bitmap of group %u has metadata block %u free", g,
		                    fs->first_data_block + g * fs->blocks_per_group + i);
	}
	b->b_data[i / 8] |= 1u << (i % 8);
	ext2_bdirty(b);
	ext2_brelse(b);
	gd->bg_free_blocks_count--;
	if (fs->sb.s_free_blocks_count)
		fs->sb.s_free_blocks_count--;
	fs->gd_dirty = fs->sb_dirty = true;
	*bit = i;
	return 1;
}

/* A free block, as close after goal as there is one: 0 with *blk, -ENOSPC, -EIO. */
int ext2_block_alloc(struct ext2_fs *fs, uint32_t goal, uint32_t *blk)
{
	uint32_t g0, from, bit = 0;
	int r;

	if (fs->readonly)
		return -EROFS;
	if (fs->sb.s_free_blocks_count == 0)
		return -ENOSPC;
	if (goal < fs->first_data_block || goal >= fs->blocks_count)
		goal = fs->first_data_block;
	g0 = (goal - fs->first_data_block) / fs->blocks_per_group;
	from = (goal - fs->first_data_block) % fs->blocks_per_group;
	/* The goal's group from the goal on, every other group, then the goal's group again
	 * from its start. */
	for (uint32_t i = 0; i <= fs->ngroups; i++) {
		uint32_t g = (g0 + i) % fs->ngroups;
		if (i == fs->ngroups && from == 0)
			break;
		r = block_take(fs, g, i == 0 ? from : 0, &bit);
		if (r < 0)
			return r;
		if (r > 0) {
			*blk = fs->first_data_block + g * fs->blocks_per_group + bit;
			return 0;
		}
	}
	return -ENOSPC;
}

int ext2_block_free(struct ext2_fs *fs, uint32_t blk)
{
	uint32_t g, bit;
	struct ext2_group_desc *gd;
	struct ext2_buf *b;
	int err;

	if (!ext2_data_block_ok(fs, blk))
		return ext2_corrupt(fs, "freeing block %u, which is not a data block", blk);
	g = (blk - fs->first_data_block) / fs->blocks_per_group;
	bit = (blk - fs->first_data_block) % fs->blocks_per_group;
	gd = &fs->gd[g];
	err = ext2_bread(fs, gd->bg_block_bitmap, &b);
	if (err < 0)
		return err;
	if (!(b->b_data[bit / 8] & (1u << (bit % 8)))) {
		ext2_brelse(b);
		return ext2_corrupt(fs, "freeing block %u, which is already free", blk);
	}
	if (gd->bg_free_blocks_count >= group_blocks(fs, g)) {
		ext2_brelse(b);
		return ext2_corrupt(fs, "group %u free block count %u is too large", g,
		                    gd->bg_free_blocks_count);
	}
	b->b_data[bit / 8] &= ~(1u << (bit % 8));
	ext2_bdirty(b);
	ext2_brelse(b);
	gd->bg_free_blocks_count++;
	fs->sb.s_free_blocks_count++;
	fs->gd_dirty = fs->sb_dirty = true;
	ext2_bforget(fs, blk);
	if (++fs->frees_unyielded >= EXT2_FREES_PER_YIELD) {
		fs->frees_unyielded = 0;
		thread_yield();
	}
	return 0;
}

/* Takes a free inode of group g: 1 with *ino, 0 if none, or -errno. */
static int inode_take(struct ext2_fs *fs, uint32_t g, bool dir, uint32_t *ino)
{
	struct ext2_group_desc *gd = &fs->gd[g];
	uint32_t from = 0, i;
	struct ext2_buf *b;
	int err;

	if (gd->bg_free_inodes_count == 0)
		return 0;
	if (g * fs->inodes_per_group + 1 < fs->first_ino)
		from = fs->first_ino - 1 - g * fs->inodes_per_group; /* skip reserved inodes */
	if (from >= fs->inodes_per_group)
		return 0;
	err = ext2_bread(fs, gd->bg_inode_bitmap, &b);
	if (err < 0)
		return err;
	i = find_zero(b->b_data, from, fs->inodes_per_group);
	if (i == fs->inodes_per_group) {
		ext2_brelse(b);
		return ext2_corrupt(fs, "group %u counts %u free inodes, its bitmap none", g,
		                    gd->bg_free_inodes_count);
	}
	b->b_data[i / 8] |= 1u << (i % 8);
	ext2_bdirty(b);
	ext2_brelse(b);
	gd->bg_free_inodes_count--;
	if (fs->sb.s_free_inodes_count)
		fs->sb.s_free_inodes_count--;
	if (dir)
		gd->bg_used_dirs_count++;
	fs->gd_dirty = fs->sb_dirty = true;
	*ino = g * fs->inodes_per_group + i + 1;
	return 1;
}

/* A free inode, in the parent's group if it has one: 0 with *ino, -ENOSPC, -EIO. */
int ext2_inode_alloc(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *ino)
{
	uint32_t g0 = (parent - 1) / fs->inodes_per_group;
	int r;

	if (fs->readonly)
		return -EROFS;
	if (fs->sb.s_free_inodes_count == 0)
		return -ENOSPC;
	for (uint32_t i = 0; i < fs->ngroups; i++) {
		r = inode_take(fs, (g0 + i) % fs->ngroups, dir, ino);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	return -ENOSPC;
}

int ext2_inode_free(struct ext2_fs *fs, uint32_t ino, bool dir)
{
	uint32_t g, bit;
	struct ext2_group_desc *gd;
	struct ext2_buf *b;
	int err;

	if (ino < fs->first_ino || ino > fs->inodes_count)
		return ext2_corrupt(fs, "freeing reserved or out-of-range inode %u", ino);
	g = (ino - 1) / fs->inodes_per_group;
	bit = (ino - 1) % fs->inodes_per_group;
	gd = &fs->gd[g];
	err = ext2_bread(fs, gd->bg_inode_bitmap, &b);
	if (err < 0)
		return err;
	if (!(b->b_data[bit / 8] & (1u << (bit % 8)))) {
		ext2_brelse(b);
		return ext2_corrupt(fs, "freeing inode %u, which is already free", ino);
	}
	if (gd->bg_free_inodes_count >= fs->inodes_per_group) {
		ext2_brelse(b);
		return ext2_corrupt(fs, "group %u free inode count %u is too large", g,
		                    gd->bg_free_inodes_count);
	}
	b->b_data[bit / 8] &= ~(1u << (bit % 8));
	ext2_bdirty(b);
	ext2_brelse(b);
	gd->bg_free_inodes_count++;
	fs->sb.s_free_inodes_count++;
	if (dir && gd->bg_used_dirs_count)
		gd->bg_used_dirs_count--;
	fs->gd_dirty = fs->sb_dirty = true;
	return 0;
}
