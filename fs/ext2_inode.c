/*
 * ext2_inode.c - inodes and the blocks of a file.
 *
 * Inode n (numbered from 1) is slot (n - 1) % inodes_per_group of the inode table of group
 * (n - 1) / inodes_per_group; a slot is inode_size bytes, of which this driver uses the first
 * 128 (the rest, in 256-byte inodes, is kept as it is, or zeroed in a new inode).
 *
 * A file's block i is found through i_block[]: 12 direct pointers, then a single indirect
 * block (a block of block numbers, addr_per_block = block_size / 4 of them), a double indirect
 * block (pointers to single indirect blocks) and a triple one. A pointer of 0 is a hole, which
 * reads as zeros. Every pointer taken from the image is checked to be a data block of the
 * filesystem (ext2_data_block_ok) before it is followed, and walks are bounded by the tree's
 * depth (3) and by the file size, so a corrupt tree gives -EIO, never a wild read or a loop.
 *
 * i_blocks counts 512-byte units of every block the inode owns: data, indirect and its
 * extended attribute block. Bytes of the last block past the end of the file are kept zero
 * (truncate zeroes them), so growing a file never exposes old data.
 */
#include "fs/ext2_priv.h"

#include <isle/errno.h>
#include <string.h>

#define EXT2_MAX_FILE_2TIB ((uint64_t)1 << 41) /* i_blocks (32 bits of 512 bytes) limit */
#define EXT2_IO_MAX ((size_t)1 << 30)          /* bytes one read or write call moves at most */

static uint32_t inode_type(const struct ext2_inode *in)
{
	return in->i_mode & EXT2_S_IFMT;
}

/* Where inode ino lives: its table block and the byte offset in that block. */
static int inode_locate(struct ext2_fs *fs, uint32_t ino, uint32_t *blk, uint32_t *off)
{
	uint32_t g, idx;
	uint64_t byte;

	if (ino == 0 || ino > fs->inodes_count)
		return ext2_corrupt(fs, "inode number %u out of range (1..%u)", ino,
		                    fs->inodes_count);
	g = (ino - 1) / fs->inodes_per_group;
	idx = (ino - 1) % fs->inodes_per_group;
	byte = (uint64_t)idx * fs->inode_size;
	*blk = fs->gd[g].bg_inode_table + (uint32_t)(byte / fs->block_size);
	*off = (uint32_t)(byte % fs->block_size);
	return 0;
}

/* The 128-byte inode ino, as it is on disk (no checks of its contents). */
int ext2_iread(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
	struct ext2_buf *b;
	uint32_t blk, off;
	int err = inode_locate(fs, ino, &blk, &off);

	if (err < 0)
		return err;
	err = ext2_bread(fs, blk, &b);
	if (err < 0)
		return err;
	memcpy(in, b->b_data + off, sizeof(*in));
	ext2_brelse(b);
	return 0;
}

static int inode_store(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in, bool fresh)
{
	struct ext2_buf *b;
	uint32_t blk, off;
	int err;

	if (fs->readonly)
		return -EROFS;
	err = inode_locate(fs, ino, &blk, &off);
	if (err < 0)
		return err;
	err = ext2_bread(fs, blk, &b);
	if (err < 0)
		return err;
	if (fresh) /* a new inode: no stale extra fields or in-inode attributes */
		memset(b->b_data + off, 0, fs->inode_size);
	memcpy(b->b_data + off, in, sizeof(*in));
	ext2_bdirty(b);
	ext2_brelse(b);
	return 0;
}

/* Writes the first 128 bytes of inode ino back (the rest of a larger slot is kept). */
int ext2_iwrite(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in)
{
	return inode_store(fs, ino, in, false);
}

/* Writes a new inode: the whole slot is zeroed first. */
int ext2_inew(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in)
{
	return inode_store(fs, ino, in, true);
}

uint64_t ext2_isize(const struct ext2_inode *in)
{
	if (inode_type(in) == EXT2_S_IFREG)
		return in->i_size | (uint64_t)in->i_size_high << 32;
	return in->i_size;
}

/* Blocks a file can map: 12 direct + p + p^2 + p^3. */
static uint64_t max_blocks(const struct ext2_fs *fs)
{
	uint64_t p = fs->addr_per_block;

	return EXT2_NDIR_BLOCKS + p + p * p + p * p * p;
}

/* Largest size of a regular file. */
static uint64_t max_size(const struct ext2_fs *fs)
{
	uint64_t m = max_blocks(fs) * fs->block_size;

	if (fs->sb.s_rev_level == 0)
		return 0x7fffffff; /* no i_size_high before revision 1 */
	return m < EXT2_MAX_FILE_2TIB ? m : EXT2_MAX_FILE_2TIB - fs->block_size;
}

void ext2_set_isize(struct ext2_fs *fs, struct ext2_inode *in, uint64_t size)
{
	in->i_size = (uint32_t)size;
	if (inode_type(in) != EXT2_S_IFREG)
		return;
	in->i_size_high = (uint32_t)(size >> 32);
	if (size > 0x7fffffff &&
	    !(fs->sb.s_feature_ro_compat & EXT2_FEATURE_RO_COMPAT_LARGE_FILE)) {
		fs->sb.s_feature_ro_compat |= EXT2_FEATURE_RO_COMPAT_LARGE_FILE;
		fs->sb_dirty = true;
	}
}

/* Whether i_block[] holds block pointers (not a fast symlink's target or a device number). */
bool ext2_has_blocks(const struct ext2_fs *fs, const struct ext2_inode *in)
{
	uint32_t t = inode_type(in);

	if (t == EXT2_S_IFREG || t == EXT2_S_IFDIR)
		return true;
	if (t == EXT2_S_IFLNK)
		return in->i_blocks != (in->i_file_acl ? fs->sectors_per_block : 0);
	return false;
}

/*
 * Inode ino for an operation on it: -ENOENT if it is not in use (a handle to a file that was
 * deleted), -EIO if its fields are impossible.
 */
int ext2_iget(struct ext2_fs *fs, uint64_t ino, struct ext2_inode *in)
{
	uint32_t t;
	int err;

	if (ino == 0 || ino > fs->inodes_count)
		return ext2_corrupt(fs, "inode number %llu out of range (1..%u)",
		                    (unsigned long long)ino, fs->inodes_count);
	err = ext2_iread(fs, (uint32_t)ino, in);
	if (err < 0)
		return err;
	if (in->i_links_count == 0 || in->i_mode == 0)
		return -ENOENT;
	t = inode_type(in);
	if (t != EXT2_S_IFREG && t != EXT2_S_IFDIR && t != EXT2_S_IFLNK && t != EXT2_S_IFCHR &&
	    t != EXT2_S_IFBLK && t != EXT2_S_IFIFO && t != EXT2_S_IFSOCK)
		return ext2_corrupt(fs, "inode %llu has an unknown type (mode %#o)",
		                    (unsigned long long)ino, in->i_mode);
	if (t == EXT2_S_IFDIR && (in->i_size == 0 || in->i_size % fs->block_size != 0 ||
	                          in->i_size / fs->block_size > fs->blocks_count))
		return ext2_corrupt(fs, "directory %llu has an impossible size %u",
		                    (unsigned long long)ino, in->i_size);
	if (ext2_has_blocks(fs, in) &&
	    (ext2_isize(in) + fs->block_size - 1) / fs->block_size > max_blocks(fs))
		return ext2_corrupt(fs, "inode %llu is larger (%llu bytes) than its block map",
		                    (unsigned long long)ino, (unsigned long long)ext2_isize(in));
	if (in->i_file_acl && !ext2_data_block_ok(fs, in->i_file_acl))
		return ext2_corrupt(fs, "inode %llu has a bad attribute block %u",
		                    (unsigned long long)ino, in->i_file_acl);
	return 0;
}

/* Where block lblk of a file is in the tree: how deep, which i_block[] slot, and the index
 * into the indirect block at each level below it. */
struct bmap_path {
	unsigned depth;  /* 0: direct, 1..3: single, double, triple indirect */
	unsigned slot;   /* index into i_block[] */
	uint32_t idx[4]; /* idx[level] for level 1..depth */
};

static int bmap_path(const struct ext2_fs *fs, uint64_t lblk, struct bmap_path *bp)
{
	uint64_t p = fs->addr_per_block;

	if (lblk < EXT2_NDIR_BLOCKS) {
		bp->depth = 0;
		bp->slot = (unsigned)lblk;
		return 0;
	}
	lblk -= EXT2_NDIR_BLOCKS;
	if (lblk < p) {
		bp->depth = 1;
		bp->slot = EXT2_IND_BLOCK;
		bp->idx[1] = (uint32_t)lblk;
		return 0;
	}
	lblk -= p;
	if (lblk < p * p) {
		bp->depth = 2;
		bp->slot = EXT2_DIND_BLOCK;
		bp->idx[1] = (uint32_t)(lblk / p);
		bp->idx[2] = (uint32_t)(lblk % p);
		return 0;
	}
	lblk -= p * p;
	if (lblk < p * p * p) {
		bp->depth = 3;
		bp->slot = EXT2_TIND_BLOCK;
		bp->idx[1] = (uint32_t)(lblk / (p * p));
		bp->idx[2] = (uint32_t)(lblk / p % p);
		bp->idx[3] = (uint32_t)(lblk % p);
		return 0;
	}
	return -EFBIG;
}

/* Pointer number i of indirect block blk. */
static int ind_get(struct ext2_fs *fs, uint32_t blk, uint32_t i, uint32_t *val)
{
	struct ext2_buf *b;
	int err = ext2_bread(fs, blk, &b);

	if (err < 0)
		return err;
	*val = ((uint32_t *)b->b_data)[i];
	ext2_brelse(b);
	return 0;
}

static int ind_set(struct ext2_fs *fs, uint32_t blk, uint32_t i, uint32_t val)
{
	struct ext2_buf *b;
	int err = ext2_bread(fs, blk, &b);

	if (err < 0)
		return err;
	((uint32_t *)b->b_data)[i] = val;
	ext2_bdirty(b);
	ext2_brelse(b);
	return 0;
}

/* Fills the holes on bp's path (see ext2_bmap). */
static int bmap_alloc(struct ext2_fs *fs, struct ext2_inode *in, const struct bmap_path *bp,
                      uint32_t goal, uint32_t *pblk, bool *fresh)
{
	uint32_t parent = 0;   /* block holding this level's pointer; 0: the inode */
	uint32_t anchor = 0;   /* parent of the first block this call allocated */
	uint32_t fresh_blk[4]; /* blocks this call allocated, top down */
	unsigned nfresh = 0, first_level = 0;
	uint32_t cur = 0;
	struct ext2_buf *b;
	int err = 0;

	for (unsigned level = 0; level <= bp->depth; level++) {
		if (level == 0)
			cur = in->i_block[bp->slot];
		else if ((err = ind_get(fs, parent, bp->idx[level], &cur)) < 0)
			goto undo;
		if (cur != 0) {
			if (!ext2_data_block_ok(fs, cur)) {
				err = ext2_corrupt(
				        fs, "block pointer %u (level %u) is not a data block", cur,
				        level);
				goto undo;
			}
			parent = cur;
			continue;
		}
		if (in->i_blocks > UINT32_MAX - fs->sectors_per_block) {
			err = -EFBIG;
			goto undo;
		}
		err = ext2_block_alloc(fs, goal, &cur);
		if (err < 0)
			goto undo;
		if (nfresh == 0) {
			anchor = parent;
			first_level = level;
		}
		fresh_blk[nfresh++] = cur;
		in->i_blocks += fs->sectors_per_block;
		if (level < bp->depth) { /* a new indirect block: all holes */
			err = ext2_bzero(fs, cur, &b);
			if (err < 0)
				goto undo;
			ext2_brelse(b);
		}
		if (level == 0)
			in->i_block[bp->slot] = cur;
		else if ((err = ind_set(fs, parent, bp->idx[level], cur)) < 0)
			goto undo;
		parent = cur;
	}
	*pblk = cur;
	*fresh = nfresh > 0 && fresh_blk[nfresh - 1] == cur;
	return 0;
undo:
	for (unsigned i = 0; i < nfresh; i++) {
		ext2_block_free(fs, fresh_blk[i]);
		in->i_blocks -= fs->sectors_per_block;
	}
	if (nfresh > 0) {
		if (first_level == 0)
			in->i_block[bp->slot] = 0;
		else
			ind_set(fs, anchor, bp->idx[first_level], 0);
	}
	return err;
}

/*
 * The block that holds byte lblk * block_size of the file: *pblk, or 0 for a hole. With alloc,
 * a hole is filled: the data block and any missing indirect blocks are allocated near goal,
 * indirect blocks zeroed, i_blocks counted (the caller writes the inode back), and *fresh says
 * that the data block is new (its contents are garbage: the caller overwrites or zeroes it).
 * If allocation fails part-way, the blocks allocated by this call are freed again.
 */
int ext2_bmap(struct ext2_fs *fs, struct ext2_inode *in, uint64_t lblk, bool alloc, uint32_t goal,
              uint32_t *pblk, bool *fresh)
{
	struct bmap_path bp;
	uint32_t cur;
	int err = bmap_path(fs, lblk, &bp);

	if (err < 0)
		return err;
	if (alloc)
		return bmap_alloc(fs, in, &bp, goal, pblk, fresh);
	cur = in->i_block[bp.slot];
	for (unsigned level = 0;; level++) {
		if (cur == 0)
			break;
		if (!ext2_data_block_ok(fs, cur))
			return ext2_corrupt(fs, "block pointer %u (level %u) is not a data block",
			                    cur, level);
		if (level == bp.depth)
			break;
		err = ind_get(fs, cur, bp.idx[level + 1], &cur);
		if (err < 0)
			return err;
	}
	*pblk = cur;
	if (fresh)
		*fresh = false;
	return 0;
}

static void blocks_sub(struct ext2_fs *fs, struct ext2_inode *in)
{
	in->i_blocks =
	        in->i_blocks >= fs->sectors_per_block ? in->i_blocks - fs->sectors_per_block : 0;
}

/*
 * Frees the blocks under indirect block blk (level 1: it points at data, 2 and 3: at indirect
 * blocks of the level below) that map file blocks >= from, counting from the first block blk
 * maps. blk itself stays; its freed pointers become 0.
 */
static int free_ind(struct ext2_fs *fs, struct ext2_inode *in, uint32_t blk, unsigned level,
                    uint64_t from)
{
	uint64_t span = 1; /* file blocks one pointer of blk maps */
	struct ext2_buf *b;
	uint32_t *ptr;
	int err;

	for (unsigned l = 1; l < level; l++)
		span *= fs->addr_per_block;
	err = ext2_bread(fs, blk, &b);
	if (err < 0)
		return err;
	ptr = (uint32_t *)b->b_data;
	for (uint64_t i = from / span; i < fs->addr_per_block; i++) {
		uint32_t c = ptr[i];
		uint64_t child_from = i * span >= from ? 0 : from - i * span;
		if (c == 0)
			continue;
		if (!ext2_data_block_ok(fs, c)) {
			err = ext2_corrupt(fs, "block pointer %u in block %u is not a data block",
			                   c, blk);
			break;
		}
		if (level > 1 && (err = free_ind(fs, in, c, level - 1, child_from)) < 0)
			break;
		if (child_from == 0) {
			if ((err = ext2_block_free(fs, c)) < 0)
				break;
			blocks_sub(fs, in);
			ptr[i] = 0;
			ext2_bdirty(b);
		}
	}
	ext2_brelse(b);
	return err;
}

/* Frees every block of the file from block nblocks on, indirect blocks that map nothing any
 * more included. The caller writes the inode back. */
int ext2_truncate_blocks(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t nblocks)
{
	uint64_t base = EXT2_NDIR_BLOCKS, span = fs->addr_per_block;
	int err;

	(void)ino;
	for (unsigned i = 0; i < EXT2_NDIR_BLOCKS; i++) {
		if (i < nblocks || in->i_block[i] == 0)
			continue;
		if ((err = ext2_block_free(fs, in->i_block[i])) < 0)
			return err;
		in->i_block[i] = 0;
		blocks_sub(fs, in);
	}
	for (unsigned level = 1; level <= 3; level++) {
		uint32_t slot = EXT2_IND_BLOCK + level - 1, blk = in->i_block[slot];
		uint64_t from = nblocks > base ? nblocks - base : 0;
		if (blk != 0 && nblocks < base + span) {
			if (!ext2_data_block_ok(fs, blk))
				return ext2_corrupt(fs, "indirect block %u is not a data block",
				                    blk);
			if ((err = free_ind(fs, in, blk, level, from)) < 0)
				return err;
			if (from == 0) {
				if ((err = ext2_block_free(fs, blk)) < 0)
					return err;
				in->i_block[slot] = 0;
				blocks_sub(fs, in);
			}
		}
		base += span;
		span *= fs->addr_per_block;
	}
	return 0;
}

/* Drops this inode's reference to its extended attribute block (shared blocks are counted). */
static int release_xattr(struct ext2_fs *fs, struct ext2_inode *in)
{
	struct ext2_xattr_header *h;
	struct ext2_buf *b;
	uint32_t blk = in->i_file_acl;
	int err;

	if (blk == 0)
		return 0;
	if (!ext2_data_block_ok(fs, blk))
		return ext2_corrupt(fs, "attribute block %u is not a data block", blk);
	err = ext2_bread(fs, blk, &b);
	if (err < 0)
		return err;
	h = (struct ext2_xattr_header *)b->b_data;
	if (h->h_magic != EXT2_XATTR_MAGIC || h->h_refcount == 0) {
		ext2_brelse(b);
		return ext2_corrupt(fs, "attribute block %u has a bad header", blk);
	}
	if (h->h_refcount > 1) {
		h->h_refcount--;
		ext2_bdirty(b);
		ext2_brelse(b);
	} else {
		ext2_brelse(b);
		if ((err = ext2_block_free(fs, blk)) < 0)
			return err;
	}
	in->i_file_acl = 0;
	blocks_sub(fs, in);
	return 0;
}

/* Deletes inode ino, whose last link is gone: frees its blocks and the inode itself. */
int ext2_release_inode(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in)
{
	bool dir = inode_type(in) == EXT2_S_IFDIR;
	uint32_t now = ext2_now(fs);
	int err;

	if (ext2_has_blocks(fs, in) && (err = ext2_truncate_blocks(fs, ino, in, 0)) < 0)
		return err;
	if ((err = release_xattr(fs, in)) < 0)
		return err;
	in->i_links_count = 0;
	in->i_size = 0;
	in->i_size_high = 0;
	in->i_dtime = now;
	/* e2fsck takes a deletion time below s_inodes_count for an orphan list link: without a
	 * clock, clear the mode instead, which marks the inode unused just as well. */
	if (now < fs->inodes_count) {
		in->i_dtime = 0;
		in->i_mode = 0;
	}
	if ((err = ext2_iwrite(fs, ino, in)) < 0)
		return err;
	return ext2_inode_free(fs, ino, dir);
}

/* Fast symlinks keep their target in i_block: read it from there. */
static ssize_t fast_symlink_read(struct ext2_inode *in, uint64_t off, void *buf, size_t len)
{
	uint64_t size = in->i_size;

	if (size >= EXT2_FAST_SYMLINK_MAX)
		size = EXT2_FAST_SYMLINK_MAX - 1;
	if (off >= size)
		return 0;
	if (len > size - off)
		len = size - off;
	memcpy(buf, (const char *)in->i_block + off, len);
	return (ssize_t)len;
}

ssize_t ext2_file_read(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t off,
                       void *buf, size_t len)
{
	uint64_t size = ext2_isize(in);
	size_t done = 0;
	uint32_t t = inode_type(in);

	(void)ino;
	if (t == EXT2_S_IFDIR)
		return -EISDIR;
	if (t != EXT2_S_IFREG && t != EXT2_S_IFLNK)
		return -EINVAL;
	if (!ext2_has_blocks(fs, in))
		return fast_symlink_read(in, off, buf, len);
	if (off >= size)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	if (len > EXT2_IO_MAX)
		len = EXT2_IO_MAX;
	while (done < len) {
		uint64_t pos = off + done;
		uint32_t boff = (uint32_t)(pos % fs->block_size), pblk;
		size_t n = fs->block_size - boff;
		struct ext2_buf *b;
		int err;
		if (n > len - done)
			n = len - done;
		err = ext2_bmap(fs, in, pos / fs->block_size, false, 0, &pblk, NULL);
		if (err < 0)
			return err;
		if (pblk == 0) {
			memset((char *)buf + done, 0, n);
		} else {
			if ((err = ext2_bread(fs, pblk, &b)) < 0)
				return err;
			memcpy((char *)buf + done, b->b_data + boff, n);
			ext2_brelse(b);
		}
		done += n;
	}
	return (ssize_t)done;
}

/* Zeroes the bytes of the file's last block past size (so the file can grow over them). */
static int zero_tail(struct ext2_fs *fs, struct ext2_inode *in, uint64_t size)
{
	uint32_t boff = (uint32_t)(size % fs->block_size), pblk;
	struct ext2_buf *b;
	int err;

	if (boff == 0)
		return 0;
	err = ext2_bmap(fs, in, size / fs->block_size, false, 0, &pblk, NULL);
	if (err < 0 || pblk == 0)
		return err;
	if ((err = ext2_bread(fs, pblk, &b)) < 0)
		return err;
	memset(b->b_data + boff, 0, fs->block_size - boff);
	ext2_bdirty(b);
	ext2_brelse(b);
	return 0;
}

/* Where a file's new blocks should go when nothing better is known: its inode's group. */
static uint32_t inode_goal(const struct ext2_fs *fs, uint32_t ino)
{
	return fs->first_data_block + (ino - 1) / fs->inodes_per_group * fs->blocks_per_group;
}

ssize_t ext2_file_write(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t off,
                        const void *buf, size_t len)
{
	uint64_t size = ext2_isize(in), limit = max_size(fs);
	uint32_t goal = inode_goal(fs, ino), now;
	size_t done = 0;
	int err = 0;

	if (inode_type(in) == EXT2_S_IFDIR)
		return -EISDIR;
	if (inode_type(in) != EXT2_S_IFREG)
		return -EINVAL;
	if (fs->readonly)
		return -EROFS;
	if (len == 0)
		return 0;
	if (off >= limit)
		return -EFBIG;
	if (len > limit - off)
		len = (size_t)(limit - off);
	if (len > EXT2_IO_MAX)
		len = EXT2_IO_MAX;
	if (off > size && (err = zero_tail(fs, in, size)) < 0)
		return err;
	while (done < len) {
		uint64_t pos = off + done;
		uint32_t boff = (uint32_t)(pos % fs->block_size), pblk;
		size_t n = fs->block_size - boff;
		struct ext2_buf *b;
		bool fresh;
		if (n > len - done)
			n = len - done;
		err = ext2_bmap(fs, in, pos / fs->block_size, true, goal, &pblk, &fresh);
		if (err < 0)
			break;
		if (fresh || n == fs->block_size)
			err = ext2_bzero(fs, pblk, &b);
		else
			err = ext2_bread(fs, pblk, &b);
		if (err < 0)
			break;
		memcpy(b->b_data + boff, (const char *)buf + done, n);
		ext2_bdirty(b);
		ext2_brelse(b);
		goal = pblk + 1;
		done += n;
		if (pos + n > size)
			size = pos + n;
	}
	ext2_set_isize(fs, in, size);
	now = ext2_now(fs);
	if (done > 0 && now) {
		in->i_mtime = now;
		in->i_ctime = now;
	}
	{
		int werr = ext2_iwrite(fs, ino, in);
		if (werr < 0 && err == 0)
			err = werr;
	}
	if (done > 0)
		return (ssize_t)done;
	return err;
}

int ext2_file_truncate(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t size)
{
	uint64_t old = ext2_isize(in);
	uint32_t now = ext2_now(fs);
	int err;

	if (inode_type(in) == EXT2_S_IFDIR)
		return -EISDIR;
	if (inode_type(in) != EXT2_S_IFREG)
		return -EINVAL;
	if (fs->readonly)
		return -EROFS;
	if (size > max_size(fs))
		return -EFBIG;
	if (size < old) {
		uint64_t nblocks = (size + fs->block_size - 1) / fs->block_size;
		err = ext2_truncate_blocks(fs, ino, in, nblocks);
		if (err == 0)
			err = zero_tail(fs, in, size);
	} else {
		err = zero_tail(fs, in, old);
	}
	if (err < 0) {
		ext2_iwrite(fs, ino, in); /* keep whatever i_blocks/i_block changes happened */
		return err;
	}
	ext2_set_isize(fs, in, size);
	if (now) {
		in->i_mtime = now;
		in->i_ctime = now;
	}
	return ext2_iwrite(fs, ino, in);
}
