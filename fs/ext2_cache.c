/*
 * ext2_cache.c - the write-back block cache of one ext2 mount.
 *
 * A fixed array of EXT2_CACHE_BYTES / block_size buffers (64 at 4 KiB blocks, 256 at 1 KiB),
 * each holding one block. Every block the driver reads or writes goes through it, metadata
 * (superblock, group descriptors, bitmaps, inode table, indirect blocks, directories) and file
 * data alike. A lookup is a linear scan: the array is small and a scan of it costs far less
 * than one disk request.
 *
 * Rules:
 *  - ext2_bread/ext2_bzero pin the buffer they return; the caller uses b_data and then calls
 *    ext2_brelse. A pinned buffer is never evicted, so b_data stays valid until brelse. No
 *    operation holds more than a handful of pins at once (an indirect chain of three plus a
 *    bitmap), far fewer than the cache has buffers.
 *  - A buffer changed by the caller is marked with ext2_bdirty. Dirty buffers reach the disk
 *    when they are evicted (least recently used first among the unpinned ones) and when
 *    ext2_cache_flush runs (sync, fsync, unmount). A failed write leaves the buffer dirty and
 *    is reported to the caller.
 *  - A block that is freed is dropped with ext2_bforget, so its stale contents are not
 *    written back later.
 */
#include "fs/ext2_priv.h"

#include <isle/errno.h>
#include <isle/mem.h>
#include <string.h>

#include "kernel/console.h"

int ext2_cache_init(struct ext2_fs *fs)
{
	struct ext2_cache *c = &fs->cache;

	c->c_n = EXT2_CACHE_BYTES / fs->block_size;
	c->c_clock = 0;
	c->c_bufs = kzalloc(c->c_n * sizeof(*c->c_bufs));
	if (!c->c_bufs)
		return -ENOMEM;
	for (unsigned i = 0; i < c->c_n; i++) {
		c->c_bufs[i].b_data = kmalloc(fs->block_size);
		if (!c->c_bufs[i].b_data) {
			ext2_cache_destroy(fs);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Frees the buffers; dirty contents are lost (unmount flushes first). */
void ext2_cache_destroy(struct ext2_fs *fs)
{
	struct ext2_cache *c = &fs->cache;

	if (!c->c_bufs)
		return;
	for (unsigned i = 0; i < c->c_n; i++)
		kfree(c->c_bufs[i].b_data);
	kfree(c->c_bufs);
	c->c_bufs = NULL;
	c->c_n = 0;
}

static int buf_write(struct ext2_fs *fs, struct ext2_buf *b)
{
	int err = fs->dev->write(fs->dev, (uint64_t)b->b_blk * fs->sectors_per_block, b->b_data,
	                         fs->sectors_per_block);

	if (err < 0) {
		log_error("ext2: %s: writing block %u failed (%d)", fs->dev->name, b->b_blk, err);
		return err;
	}
	b->b_dirty = false;
	return 0;
}

static struct ext2_buf *cache_find(struct ext2_fs *fs, uint32_t blk)
{
	struct ext2_cache *c = &fs->cache;

	for (unsigned i = 0; i < c->c_n; i++)
		if (c->c_bufs[i].b_valid && c->c_bufs[i].b_blk == blk)
			return &c->c_bufs[i];
	return NULL;
}

/* An unpinned buffer to reuse (an empty one, else the least recently used), written back
 * first if dirty. */
static int cache_victim(struct ext2_fs *fs, struct ext2_buf **out)
{
	struct ext2_cache *c = &fs->cache;
	struct ext2_buf *best = NULL;
	int err;

	for (unsigned i = 0; i < c->c_n; i++) {
		struct ext2_buf *b = &c->c_bufs[i];
		if (b->b_pins)
			continue;
		if (!b->b_valid) {
			best = b;
			break;
		}
		if (!best || b->b_stamp < best->b_stamp)
			best = b;
	}
	if (!best) {
		log_error("ext2: %s: every cache buffer is pinned", fs->dev->name);
		return -ENOMEM;
	}
	if (best->b_valid && best->b_dirty) {
		err = buf_write(fs, best);
		if (err < 0)
			return err;
	}
	best->b_valid = false;
	*out = best;
	return 0;
}

static void buf_pin(struct ext2_fs *fs, struct ext2_buf *b)
{
	b->b_pins++;
	b->b_stamp = ++fs->cache.c_clock;
}

/* Block blk, cached (read from the disk if `load`, else left as it is for the caller to fill);
 * pinned. blk must be inside the filesystem (callers check pointers taken from the image). */
static int cache_get(struct ext2_fs *fs, uint32_t blk, bool load, struct ext2_buf **out)
{
	struct ext2_buf *b;
	int err;

	if (blk >= fs->blocks_count)
		return ext2_corrupt(fs, "block %u beyond the end (%u blocks)", blk,
		                    fs->blocks_count);
	b = cache_find(fs, blk);
	if (!b) {
		err = cache_victim(fs, &b);
		if (err < 0)
			return err;
		if (load) {
			err = fs->dev->read(fs->dev, (uint64_t)blk * fs->sectors_per_block,
			                    b->b_data, fs->sectors_per_block);
			if (err < 0) {
				log_error("ext2: %s: reading block %u failed (%d)", fs->dev->name,
				          blk, err);
				return -EIO;
			}
		}
		b->b_blk = blk;
		b->b_valid = true;
		b->b_dirty = false;
	}
	buf_pin(fs, b);
	*out = b;
	return 0;
}

/* Block blk, read from the disk unless cached; pinned. */
int ext2_bread(struct ext2_fs *fs, uint32_t blk, struct ext2_buf **out)
{
	return cache_get(fs, blk, true, out);
}

/* Block blk with zeros instead of its old contents (a block just allocated); pinned, dirty. */
int ext2_bzero(struct ext2_fs *fs, uint32_t blk, struct ext2_buf **out)
{
	struct ext2_buf *b;
	int err = cache_get(fs, blk, false, &b);

	if (err < 0)
		return err;
	memset(b->b_data, 0, fs->block_size);
	b->b_dirty = true;
	*out = b;
	return 0;
}

void ext2_brelse(struct ext2_buf *b)
{
	if (b)
		b->b_pins--;
}

void ext2_bdirty(struct ext2_buf *b)
{
	b->b_dirty = true;
}

/* Drops a freed block from the cache (unless someone still holds it). */
void ext2_bforget(struct ext2_fs *fs, uint32_t blk)
{
	struct ext2_buf *b = cache_find(fs, blk);

	if (b && !b->b_pins) {
		b->b_valid = false;
		b->b_dirty = false;
	}
}

/* Writes every dirty buffer; the first error is returned after trying them all. */
int ext2_cache_flush(struct ext2_fs *fs)
{
	struct ext2_cache *c = &fs->cache;
	int ret = 0;

	for (unsigned i = 0; i < c->c_n; i++) {
		struct ext2_buf *b = &c->c_bufs[i];
		if (b->b_valid && b->b_dirty) {
			int err = buf_write(fs, b);
			if (err < 0 && ret == 0)
				ret = err;
		}
	}
	return ret;
}
