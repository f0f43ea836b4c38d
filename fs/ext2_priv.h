/*
 * ext2_priv.h - what the parts of the ext2 driver share: the mount's state, the block cache,
 * and the functions one part offers the others. Not for use outside fs/ext2*.c.
 *
 *   ext2.c        mount, superblock and group descriptor checks, sync, unmount, fs_ops glue
 *   ext2_cache.c  the mount's write-back block cache
 *   ext2_alloc.c  block and inode bitmaps: allocate, free, keep the free counts
 *   ext2_inode.c  inodes, block mapping (direct and indirect), file read/write/truncate
 *   ext2_dir.c    directory blocks: lookup, readdir, insert, remove; create/mkdir/unlink/rmdir/
 *                 rename
 *
 * Everything runs on the mount's owner core, one call at a time (see fs/vfs.h), so nothing
 * here is locked. Every field of struct ext2_fs is [o]: owned by that core.
 */
#ifndef ISLE_FS_EXT2_PRIV_H
#define ISLE_FS_EXT2_PRIV_H

#include "fs/ext2.h"

#define EXT2_CACHE_BYTES (256u << 10) /* the block cache holds this much (64..256 blocks) */
#define EXT2_MAX_ERRORS_LOGGED 20     /* corruption reports per mount before going quiet */
/* Blocks freed between two thread_yield()s: a truncate of a big file whose map is cached never
 * waits for the disk, and would otherwise keep its core from everything else for all of it
 * (docs/architecture.md, cooperative scheduling). */
#define EXT2_FREES_PER_YIELD 256

/* One cached block. */
struct ext2_buf {
	uint8_t *b_data;  /* [o] block_size bytes */
	uint32_t b_blk;   /* [o] block number, valid only if b_valid */
	bool b_valid;     /* [o] b_data holds block b_blk */
	bool b_dirty;     /* [o] b_data is newer than the disk */
	uint16_t b_pins;  /* [o] users holding it; a pinned buffer is never evicted */
	uint64_t b_stamp; /* [o] value of c_clock at the last use (LRU order) */
};

/* The block cache of a mount (ext2_cache.c). */
struct ext2_cache {
	struct ext2_buf *c_bufs; /* [o] c_n buffers */
	unsigned c_n;            /* [o] how many */
	uint64_t c_clock;        /* [o] counts uses, for b_stamp */
};

/* The state of one mount (vfs_mount.priv). All fields [o]. */
struct ext2_fs {
	struct blkdev *dev;         /* [o] the device */
	struct ext2_super sb;       /* [o] the superblock, written back by sync when sb_dirty */
	struct ext2_group_desc *gd; /* [o] ngroups group descriptors, written back when gd_dirty */
	struct ext2_cache cache;    /* [o] cached blocks */
	uint32_t block_size;        /* [o] bytes per block: 1024, 2048 or 4096 */
	uint32_t sectors_per_block; /* [o] block_size / SECTOR_SIZE */
	uint32_t addr_per_block;    /* [o] block numbers in an indirect block */
	uint32_t blocks_count;      /* [o] s_blocks_count */
	uint32_t inodes_count;      /* [o] s_inodes_count */
	uint32_t first_data_block;  /* [o] s_first_data_block */
	uint32_t blocks_per_group;  /* [o] s_blocks_per_group */
	uint32_t inodes_per_group;  /* [o] s_inodes_per_group */
	uint32_t ngroups;           /* [o] block groups */
	uint32_t gdt_blocks;        /* [o] blocks of the group descriptor table */
	uint32_t itable_blocks;     /* [o] blocks of one group's inode table */
	uint32_t inode_size;        /* [o] bytes per inode slot */
	uint32_t first_ino;         /* [o] first non-reserved inode */
	bool readonly;              /* [o] writes give -EROFS */
	bool has_filetype;          /* [o] directory entries carry a file type */
	bool sparse_super;          /* [o] superblock copies only in groups 0, 1, 3^n, 5^n, 7^n */
	bool sb_dirty;              /* [o] sb differs from the disk */
	bool gd_dirty;              /* [o] gd differs from the disk */
	uint16_t mount_state;       /* [o] s_state when mounted, restored by unmount */
	unsigned errors_logged;     /* [o] corruption reports so far */
	unsigned frees_unyielded; /* [o] blocks freed since the last yield (EXT2_FREES_PER_YIELD) */
	uint32_t (*now)(void);    /* [o] clock for timestamps, NULL: none */
};

/* ext2.c */
int ext2_corrupt(struct ext2_fs *fs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint32_t ext2_now(struct ext2_fs *fs);
bool ext2_group_has_super(const struct ext2_fs *fs, uint32_t group);
bool ext2_data_block_ok(const struct ext2_fs *fs, uint32_t blk);
int ext2_writeback(struct ext2_fs *fs);

/* ext2_cache.c */
int ext2_cache_init(struct ext2_fs *fs);
void ext2_cache_destroy(struct ext2_fs *fs);
int ext2_bread(struct ext2_fs *fs, uint32_t blk, struct ext2_buf **out);
int ext2_bzero(struct ext2_fs *fs, uint32_t blk, struct ext2_buf **out);
void ext2_brelse(struct ext2_buf *b);
void ext2_bdirty(struct ext2_buf *b);
void ext2_bforget(struct ext2_fs *fs, uint32_t blk);
int ext2_cache_flush(struct ext2_fs *fs);

/* ext2_alloc.c */
int ext2_block_alloc(struct ext2_fs *fs, uint32_t goal, uint32_t *blk);
int ext2_block_free(struct ext2_fs *fs, uint32_t blk);
int ext2_inode_alloc(struct ext2_fs *fs, uint32_t parent, bool dir, uint32_t *ino);
int ext2_inode_free(struct ext2_fs *fs, uint32_t ino, bool dir);

/* ext2_inode.c */
int ext2_iread(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
int ext2_iwrite(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in);
int ext2_iget(struct ext2_fs *fs, uint64_t ino, struct ext2_inode *in);
int ext2_inew(struct ext2_fs *fs, uint32_t ino, const struct ext2_inode *in);
uint64_t ext2_isize(const struct ext2_inode *in);
void ext2_set_isize(struct ext2_fs *fs, struct ext2_inode *in, uint64_t size);
bool ext2_has_blocks(const struct ext2_fs *fs, const struct ext2_inode *in);
int ext2_bmap(struct ext2_fs *fs, struct ext2_inode *in, uint64_t lblk, bool alloc, uint32_t goal,
              uint32_t *pblk, bool *fresh);
int ext2_truncate_blocks(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t nblocks);
int ext2_release_inode(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in);
ssize_t ext2_file_read(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t off,
                       void *buf, size_t len);
ssize_t ext2_file_write(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t off,
                        const void *buf, size_t len);
int ext2_file_truncate(struct ext2_fs *fs, uint32_t ino, struct ext2_inode *in, uint64_t size);

/* ext2_dir.c */
int ext2_dir_lookup(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint64_t *ino);
int ext2_dir_readdir(struct ext2_fs *fs, uint32_t dir, uint64_t *cookie, struct fs_dirent *out);
int ext2_dir_create(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
                    bool is_dir, uint64_t *ino);
int ext2_dir_unlink(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, bool is_dir);
int ext2_dir_rename(struct ext2_fs *fs, uint32_t odir, const char *oname, size_t olen,
                    uint32_t ndir, const char *nname, size_t nlen);

#endif
