/*
 * ext2_dir.c - directories: lookup, readdir, and the operations that change the tree.
 *
 * A directory is a file of i_size / block_size blocks (no holes). Each block is tiled by
 * entries (struct ext2_dir_entry): inode, rec_len to the next entry, name_len, file type,
 * name. An entry with inode 0 is unused space. Block 0 starts with "." (the directory itself)
 * and ".." (its parent). Every block is checked before it is used: entries must tile the
 * block exactly, rec_len >= 8 + name_len, 4-aligned, inode numbers in range, names without
 * '/' or NUL.
 *
 * Inserting uses the first entry with room: an unused one, or the slack after a used one
 * (whose rec_len is cut to its own size, the new entry taking the rest); with no room a block
 * is appended. Removing merges the entry into the one before it in the same block, or marks
 * it unused if it is the first. A directory we change loses EXT2_INDEX_FL: its hash index
 * (dir_index), which this driver does not maintain, would be stale, and without the flag the
 * index blocks read as ordinary (empty) directory blocks.
 *
 * Links: a file's i_links_count counts the entries naming it; a directory's counts its entry in
 * the parent, its own "." and the ".." of each subdirectory.
 *
 * A corrupt tree can contain cycles (an entry naming an ancestor). Lookup refuses any
 * subdirectory whose ".." does not name the directory it was found in, and rename's "is the
 * target inside the source" walk up the ".." chain is bounded by the number of directories.
 */
#include "fs/ext2_priv.h"

#include <isle/errno.h>
#include <string.h>

#define EXT2_LINK_MAX 32000 /* links to one inode (Linux's ext2 limit) */

static uint32_t rec_size(size_t name_len)
{
	return (uint32_t)((EXT2_DIR_ENTRY_HEADER + name_len + 3) & ~(size_t)3);
}

static unsigned entry_name_len(const struct ext2_fs *fs, const struct ext2_dir_entry *de)
{
	return fs->has_filetype ? de->name_len : de->name_len | (unsigned)de->file_type << 8;
}

static bool entry_is(const struct ext2_fs *fs, const struct ext2_dir_entry *de, const char *name,
                     size_t len)
{
	return de->inode != 0 && entry_name_len(fs, de) == len && memcmp(de->name, name, len) == 0;
}

static uint8_t mode_to_ft(uint32_t mode)
{
	switch (mode & EXT2_S_IFMT) {
	case EXT2_S_IFREG:
		return EXT2_FT_REG_FILE;
	case EXT2_S_IFDIR:
		return EXT2_FT_DIR;
	case EXT2_S_IFCHR:
		return EXT2_FT_CHRDEV;
	case EXT2_S_IFBLK:
		return EXT2_FT_BLKDEV;
	case EXT2_S_IFIFO:
		return EXT2_FT_FIFO;
	case EXT2_S_IFSOCK:
		return EXT2_FT_SOCK;
	case EXT2_S_IFLNK:
		return EXT2_FT_SYMLINK;
	}
	return EXT2_FT_UNKNOWN;
}

static uint8_t mode_to_dt(uint32_t mode)
{
	static const uint8_t ft_to_dt[EXT2_FT_MAX] = {
		[EXT2_FT_UNKNOWN] = DT_UNKNOWN,
		[EXT2_FT_REG_FILE] = DT_REG,
		[EXT2_FT_DIR] = DT_DIR,
		[EXT2_FT_CHRDEV] = 2 /* DT_CHR */,
		[EXT2_FT_BLKDEV] = 6 /* DT_BLK */,
		[EXT2_FT_FIFO] = 1 /* DT_FIFO */,
		[EXT2_FT_SOCK] = 12 /* DT_SOCK */,
		[EXT2_FT_SYMLINK] = DT_LNK,
	};
	return ft_to_dt[mode_to_ft(mode)];
}

/* The i_mode type a directory entry's file type byte stands for. */
static uint32_t ft_to_mode(uint8_t ft)
{
	static const uint32_t mode[EXT2_FT_MAX] = {
		[EXT2_FT_REG_FILE] = EXT2_S_IFREG, [EXT2_FT_DIR] = EXT2_S_IFDIR,
		[EXT2_FT_CHRDEV] = EXT2_S_IFCHR,   [EXT2_FT_BLKDEV] = EXT2_S_IFBLK,
		[EXT2_FT_FIFO] = EXT2_S_IFIFO,     [EXT2_FT_SOCK] = EXT2_S_IFSOCK,
		[EXT2_FT_SYMLINK] = EXT2_S_IFLNK,
	};
	return ft < EXT2_FT_MAX ? mode[ft] : 0;
}

static bool is_dir(const struct ext2_inode *in)
{
	return (in->i_mode & EXT2_S_IFMT) == EXT2_S_IFDIR;
}

/* An inode number a directory entry may hold (the root only as ".."). */
static bool entry_ino_ok(const struct ext2_fs *fs, uint32_t ino)
{
	return ino == EXT2_ROOT_INO || (ino >= fs->first_ino && ino <= fs->inodes_count);
}

static int check_block(struct ext2_fs *fs, uint32_t dir, uint64_t lblk, const uint8_t *data)
{
	uint32_t off = 0, bs = fs->block_size;

	while (off < bs) {
		const struct ext2_dir_entry *de = (const void *)(data + off);
		unsigned nl;
		if (bs - off < EXT2_DIR_ENTRY_HEADER || de->rec_len < EXT2_DIR_ENTRY_HEADER ||
		    de->rec_len % 4 != 0 || de->rec_len > bs - off)
			return ext2_corrupt(
			        fs, "directory %u block %llu: bad rec_len %u at offset %u", dir,
			        (unsigned long long)lblk,
			        bs - off < EXT2_DIR_ENTRY_HEADER ? 0 : de->rec_len, off);
		nl = entry_name_len(fs, de);
		if (de->inode != 0 &&
		    (nl == 0 || nl > EXT2_NAME_LEN || EXT2_DIR_ENTRY_HEADER + nl > de->rec_len))
			return ext2_corrupt(fs,
			                    "directory %u block %llu: bad name_len %u at offset %u",
			                    dir, (unsigned long long)lblk, nl, off);
		if (de->inode != 0 && (memchr(de->name, '\0', nl) || memchr(de->name, '/', nl)))
			return ext2_corrupt(fs, "directory %u block %llu: a name with '/' or NUL",
			                    dir, (unsigned long long)lblk);
		if (de->inode > fs->inodes_count)
			return ext2_corrupt(fs, "directory %u block %llu: inode %u out of range",
			                    dir, (unsigned long long)lblk, de->inode);
		off += de->rec_len;
	}
	return 0;
}

/* Block lblk of directory dir, checked; pinned. */
static int dir_bread(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, uint64_t lblk,
                     struct ext2_buf **out)
{
	uint32_t pblk;
	int err = ext2_bmap(fs, din, lblk, false, 0, &pblk, NULL);

	if (err < 0)
		return err;
	if (pblk == 0)
		return ext2_corrupt(fs, "directory %u has a hole at block %llu", dir,
		                    (unsigned long long)lblk);
	if ((err = ext2_bread(fs, pblk, out)) < 0)
		return err;
	if ((err = check_block(fs, dir, lblk, (*out)->b_data)) < 0) {
		ext2_brelse(*out);
		return err;
	}
	return 0;
}

static uint64_t dir_nblocks(const struct ext2_fs *fs, const struct ext2_inode *din)
{
	return din->i_size / fs->block_size; /* ext2_iget checked it is a whole, sane number */
}

/* Directory dir's inode; -ELOOP for a symbolic link (not followed), -ENOTDIR for the rest. */
static int dir_get(struct ext2_fs *fs, uint64_t dir, struct ext2_inode *din)
{
	int err = ext2_iget(fs, dir, din);

	if (err < 0)
		return err;
	if (is_dir(din))
		return 0;
	return (din->i_mode & EXT2_S_IFMT) == EXT2_S_IFLNK ? -ELOOP : -ENOTDIR;
}

/*
 * Where entry `name` of dir is: its block, held (the caller releases it), the entry, and, if
 * prev is not NULL, the entry before it in the block (NULL if it is the block's first).
 * -ENOENT if there is none.
 */
static int dir_find(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, const char *name,
                    size_t len, struct ext2_buf **bp, struct ext2_dir_entry **dep,
                    struct ext2_dir_entry **prev)
{
	uint64_t n = dir_nblocks(fs, din);

	for (uint64_t lblk = 0; lblk < n; lblk++) {
		struct ext2_dir_entry *before = NULL;
		struct ext2_buf *b;
		int err = dir_bread(fs, dir, din, lblk, &b);
		if (err < 0)
			return err;
		for (uint32_t off = 0; off < fs->block_size;) {
			struct ext2_dir_entry *de = (void *)(b->b_data + off);
			if (entry_is(fs, de, name, len)) {
				*bp = b;
				*dep = de;
				if (prev)
					*prev = before;
				return 0;
			}
			before = de;
			off += de->rec_len;
		}
		ext2_brelse(b);
	}
	return -ENOENT;
}

/* The inode number of entry `name` of dir, or -ENOENT. */
static int find_entry(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, const char *name,
                      size_t len, uint32_t *ino)
{
	struct ext2_buf *b;
	struct ext2_dir_entry *de;
	int err = dir_find(fs, dir, din, name, len, &b, &de, NULL);

	if (err < 0)
		return err;
	*ino = de->inode;
	ext2_brelse(b);
	return 0;
}

/* The parent of directory dir, from its "..". */
static int dir_dotdot(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, uint32_t *parent)
{
	const struct ext2_dir_entry *dot, *dotdot;
	struct ext2_buf *b;
	int err = dir_bread(fs, dir, din, 0, &b);

	if (err < 0)
		return err;
	dot = (const void *)b->b_data;
	dotdot = (const void *)(b->b_data + dot->rec_len);
	if (!entry_is(fs, dot, ".", 1) || dot->inode != dir || dot->rec_len >= fs->block_size ||
	    !entry_is(fs, dotdot, "..", 2) || !entry_ino_ok(fs, dotdot->inode)) {
		ext2_brelse(b);
		return ext2_corrupt(fs, "directory %u does not start with \".\" and \"..\"", dir);
	}
	*parent = dotdot->inode;
	ext2_brelse(b);
	return 0;
}

/*
 * The inode that entry `name` of dir names, checked: a valid number, in use, and for a
 * directory, one whose ".." is dir (which rules out cycles).
 */
static int lookup_checked(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din,
                          const char *name, size_t len, uint32_t *ino, struct ext2_inode *in)
{
	uint32_t parent;
	int err = find_entry(fs, dir, din, name, len, ino);

	if (err < 0)
		return err;
	if (!entry_ino_ok(fs, *ino) || *ino == dir || *ino == EXT2_ROOT_INO)
		return ext2_corrupt(fs, "directory %u: entry \"%.*s\" names inode %u", dir,
		                    (int)len, name, *ino);
	err = ext2_iget(fs, *ino, in);
	if (err == -ENOENT)
		return ext2_corrupt(fs, "directory %u: entry \"%.*s\" names unused inode %u", dir,
		                    (int)len, name, *ino);
	if (err < 0)
		return err;
	if (is_dir(in)) {
		if ((err = dir_dotdot(fs, *ino, in, &parent)) < 0)
			return err;
		if (parent != dir)
			return ext2_corrupt(fs, "directory %u is in %u but its \"..\" is %u", *ino,
			                    dir, parent);
	}
	return 0;
}

int ext2_dir_lookup(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint64_t *ino)
{
	struct ext2_inode din, in;
	uint32_t found;
	int err = dir_get(fs, dir, &din);

	if (err < 0)
		return err;
	if (len == 0 || len > EXT2_NAME_LEN)
		return len ? -ENAMETOOLONG : -ENOENT;
	err = lookup_checked(fs, dir, &din, name, len, &found, &in);
	if (err == 0)
		*ino = found;
	return err;
}

int ext2_dir_readdir(struct ext2_fs *fs, uint32_t dir, uint64_t *cookie, struct fs_dirent *out)
{
	struct ext2_inode din;
	uint64_t n, lblk;
	int err = dir_get(fs, dir, &din);

	if (err < 0)
		return err;
	n = dir_nblocks(fs, &din);
	for (lblk = *cookie / fs->block_size; lblk < n; lblk++) {
		uint32_t from = lblk == *cookie / fs->block_size ? *cookie % fs->block_size : 0;
		struct ext2_buf *b;
		if ((err = dir_bread(fs, dir, &din, lblk, &b)) < 0)
			return err;
		/* Entries may have merged since the cookie was handed out: take the first entry
		 * that starts at or after it. */
		for (uint32_t off = 0; off < fs->block_size;) {
			struct ext2_dir_entry *de = (void *)(b->b_data + off);
			unsigned nl = entry_name_len(fs, de);
			if (off >= from && de->inode != 0) {
				out->ino = de->inode;
				memcpy(out->name, de->name, nl);
				out->name[nl] = '\0';
				out->type = fs->has_filetype ? mode_to_dt(ft_to_mode(de->file_type))
				                             : DT_UNKNOWN;
				*cookie = lblk * fs->block_size + off + de->rec_len;
				ext2_brelse(b);
				if (!fs->has_filetype) {
					struct ext2_inode in;
					if (ext2_iread(fs, out->ino, &in) == 0)
						out->type = mode_to_dt(in.i_mode);
				}
				return 1;
			}
			off += de->rec_len;
		}
		ext2_brelse(b);
	}
	*cookie = n * fs->block_size;
	return 0;
}

static void entry_fill(struct ext2_fs *fs, struct ext2_dir_entry *de, const char *name, size_t len,
                       uint32_t ino, uint8_t ft)
{
	de->inode = ino;
	de->name_len = (uint8_t)len;
	de->file_type = fs->has_filetype ? ft : 0;
	memcpy(de->name, name, len);
	memset(de->name + len, 0, rec_size(len) - EXT2_DIR_ENTRY_HEADER - len);
}

static void dir_touch(struct ext2_fs *fs, struct ext2_inode *din)
{
	uint32_t now = ext2_now(fs);

	din->i_flags &= ~EXT2_INDEX_FL;
	if (now) {
		din->i_mtime = now;
		din->i_ctime = now;
	}
}

/* Adds entry (name -> ino) to dir, appending a block if no block has room. Changes *din (the
 * caller writes it back). -ENOSPC leaves everything as it was. */
static int dir_add(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, const char *name,
                   size_t len, uint32_t ino, uint8_t ft)
{
	uint32_t need = rec_size(len), pblk = 0;
	uint64_t n = dir_nblocks(fs, din);
	struct ext2_buf *b;
	bool fresh;
	int err;

	for (uint64_t lblk = 0; lblk < n; lblk++) {
		if ((err = dir_bread(fs, dir, din, lblk, &b)) < 0)
			return err;
		for (uint32_t off = 0; off < fs->block_size;) {
			struct ext2_dir_entry *de = (void *)(b->b_data + off);
			uint32_t used = de->inode ? rec_size(entry_name_len(fs, de)) : 0;
			if (de->rec_len - used >= need) {
				if (used) { /* split: de keeps `used`, the new entry the rest */
					struct ext2_dir_entry *ne =
					        (void *)(b->b_data + off + used);
					ne->rec_len = (uint16_t)(de->rec_len - used);
					de->rec_len = (uint16_t)used;
					de = ne;
				}
				entry_fill(fs, de, name, len, ino, ft);
				ext2_bdirty(b);
				ext2_brelse(b);
				dir_touch(fs, din);
				return 0;
			}
			off += de->rec_len;
		}
		ext2_brelse(b);
	}
	/* No room: a new block at the end. */
	if (n > 0)
		ext2_bmap(fs, din, n - 1, false, 0, &pblk, NULL); /* goal: right after the last */
	err = ext2_bmap(fs, din, n, true, pblk ? pblk + 1 : 0, &pblk, &fresh);
	if (err < 0)
		return err;
	if ((err = ext2_bzero(fs, pblk, &b)) < 0)
		return err;
	((struct ext2_dir_entry *)b->b_data)->rec_len = (uint16_t)fs->block_size;
	entry_fill(fs, (struct ext2_dir_entry *)b->b_data, name, len, ino, ft);
	ext2_brelse(b);
	din->i_size += fs->block_size;
	dir_touch(fs, din);
	return 0;
}

/* Removes entry `name` (which must name ino) from dir. Changes *din. */
static int dir_remove(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, const char *name,
                      size_t len, uint32_t ino)
{
	struct ext2_buf *b;
	struct ext2_dir_entry *de, *prev;
	int err = dir_find(fs, dir, din, name, len, &b, &de, &prev);

	if (err == -ENOENT || (!err && de->inode != ino)) {
		if (!err)
			ext2_brelse(b);
		return ext2_corrupt(fs, "directory %u lost entry \"%.*s\"", dir, (int)len, name);
	}
	if (err < 0)
		return err;
	if (prev)
		prev->rec_len = (uint16_t)(prev->rec_len + de->rec_len);
	else
		de->inode = 0;
	ext2_bdirty(b);
	ext2_brelse(b);
	dir_touch(fs, din);
	return 0;
}

/* Points existing entry `name` of dir at ino instead (rename over a file). */
static int dir_retarget(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, const char *name,
                        size_t len, uint32_t ino, uint8_t ft)
{
	struct ext2_buf *b;
	struct ext2_dir_entry *de;
	int err = dir_find(fs, dir, din, name, len, &b, &de, NULL);

	if (err == -ENOENT)
		return ext2_corrupt(fs, "directory %u lost entry \"%.*s\"", dir, (int)len, name);
	if (err < 0)
		return err;
	de->inode = ino;
	de->file_type = fs->has_filetype ? ft : 0;
	ext2_bdirty(b);
	ext2_brelse(b);
	dir_touch(fs, din);
	return 0;
}

/* Whether directory dir holds nothing but "." and "..". */
static int dir_empty(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din)
{
	uint64_t n = dir_nblocks(fs, din);

	for (uint64_t lblk = 0; lblk < n; lblk++) {
		struct ext2_buf *b;
		int err = dir_bread(fs, dir, din, lblk, &b);
		if (err < 0)
			return err;
		for (uint32_t off = 0; off < fs->block_size;) {
			struct ext2_dir_entry *de = (void *)(b->b_data + off);
			if (de->inode != 0 && !entry_is(fs, de, ".", 1) &&
			    !entry_is(fs, de, "..", 2)) {
				ext2_brelse(b);
				return 0;
			}
			off += de->rec_len;
		}
		ext2_brelse(b);
	}
	return 1;
}

/* Sets the ".." of directory dir to parent. */
static int dir_set_dotdot(struct ext2_fs *fs, uint32_t dir, struct ext2_inode *din, uint32_t parent)
{
	struct ext2_dir_entry *dot, *dotdot;
	struct ext2_buf *b;
	int err = dir_bread(fs, dir, din, 0, &b);

	if (err < 0)
		return err;
	dot = (void *)b->b_data;
	dotdot = (void *)(b->b_data + dot->rec_len);
	if (!entry_is(fs, dot, ".", 1) || dot->rec_len >= fs->block_size ||
	    !entry_is(fs, dotdot, "..", 2)) {
		ext2_brelse(b);
		return ext2_corrupt(fs, "directory %u does not start with \".\" and \"..\"", dir);
	}
	dotdot->inode = parent;
	ext2_bdirty(b);
	ext2_brelse(b);
	return 0;
}

static int name_check(const char *name, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	return 0;
}

/* The first block of a new directory: "." and "..". */
static int dir_init_block(struct ext2_fs *fs, uint32_t ino, uint32_t parent, uint32_t blk)
{
	struct ext2_dir_entry *de;
	struct ext2_buf *b;
	int err = ext2_bzero(fs, blk, &b);

	if (err < 0)
		return err;
	de = (void *)b->b_data;
	de->rec_len = (uint16_t)rec_size(1);
	entry_fill(fs, de, ".", 1, ino, EXT2_FT_DIR);
	de = (void *)(b->b_data + rec_size(1));
	de->rec_len = (uint16_t)(fs->block_size - rec_size(1));
	entry_fill(fs, de, "..", 2, parent, EXT2_FT_DIR);
	ext2_brelse(b);
	return 0;
}

int ext2_dir_create(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, uint32_t mode,
                    bool mkdir, uint64_t *out)
{
	struct ext2_inode din, in;
	uint32_t ino, blk = 0, now = ext2_now(fs);
	int err;

	if (fs->readonly)
		return -EROFS;
	if ((err = dir_get(fs, dir, &din)) < 0)
		return err;
	if ((err = name_check(name, len)) < 0)
		return err;
	err = find_entry(fs, dir, &din, name, len, &ino);
	if (err != -ENOENT)
		return err < 0 ? err : -EEXIST;
	if (mkdir && din.i_links_count >= EXT2_LINK_MAX)
		return -EMLINK;
	if ((err = ext2_inode_alloc(fs, dir, mkdir, &ino)) < 0)
		return err;
	memset(&in, 0, sizeof(in));
	in.i_mode = (uint16_t)((mkdir ? EXT2_S_IFDIR : EXT2_S_IFREG) | (mode & 07777));
	in.i_links_count = mkdir ? 2 : 1;
	in.i_atime = in.i_ctime = in.i_mtime = now;
	if (mkdir) {
		uint32_t goal = fs->first_data_block +
		                (ino - 1) / fs->inodes_per_group * fs->blocks_per_group;
		if ((err = ext2_block_alloc(fs, goal, &blk)) < 0)
			goto free_inode;
		if ((err = dir_init_block(fs, ino, dir, blk)) < 0)
			goto free_block;
		in.i_block[0] = blk;
		in.i_blocks = fs->sectors_per_block;
		in.i_size = fs->block_size;
	}
	/* The entry before the inode: if the directory is full, the inode slot was never
	 * written, and freeing it in the bitmap is all the undoing there is. */
	err = dir_add(fs, dir, &din, name, len, ino, mkdir ? EXT2_FT_DIR : EXT2_FT_REG_FILE);
	if (err < 0)
		goto free_block;
	if (mkdir)
		din.i_links_count++; /* the new ".." */
	if ((err = ext2_inew(fs, ino, &in)) < 0)
		return err;
	if ((err = ext2_iwrite(fs, dir, &din)) < 0)
		return err;
	*out = ino;
	return 0;
free_block:
	if (blk)
		ext2_block_free(fs, blk);
free_inode:
	ext2_inode_free(fs, ino, mkdir);
	return err;
}

int ext2_dir_unlink(struct ext2_fs *fs, uint32_t dir, const char *name, size_t len, bool rmdir)
{
	struct ext2_inode din, in;
	uint32_t ino;
	int err;

	if (fs->readonly)
		return -EROFS;
	if ((err = dir_get(fs, dir, &din)) < 0)
		return err;
	if ((err = name_check(name, len)) < 0)
		return err == -EINVAL ? -ENOENT : err;
	if ((err = lookup_checked(fs, dir, &din, name, len, &ino, &in)) < 0)
		return err;
	if (!rmdir && is_dir(&in))
		return -EISDIR;
	if (rmdir && !is_dir(&in))
		return -ENOTDIR;
	if (rmdir && (err = dir_empty(fs, ino, &in)) <= 0)
		return err < 0 ? err : -ENOTEMPTY;
	if ((err = dir_remove(fs, dir, &din, name, len, ino)) < 0)
		return err;
	if (rmdir) {
		if (din.i_links_count > 1)
			din.i_links_count--; /* its ".." is gone */
		err = ext2_release_inode(fs, ino, &in);
	} else if (--in.i_links_count == 0) {
		err = ext2_release_inode(fs, ino, &in);
	} else {
		if (ext2_now(fs))
			in.i_ctime = ext2_now(fs);
		err = ext2_iwrite(fs, ino, &in);
	}
	if (err < 0) {
		ext2_iwrite(fs, dir, &din);
		return err;
	}
	return ext2_iwrite(fs, dir, &din);
}

/* -EINVAL if directory `dir` is `ancestor` or inside it, walking ".." up to the root. */
static int check_not_inside(struct ext2_fs *fs, uint32_t dir, uint32_t ancestor)
{
	uint64_t bound = 1;
	struct ext2_inode in;
	int err;

	for (uint32_t g = 0; g < fs->ngroups; g++)
		bound += fs->gd[g].bg_used_dirs_count;
	for (uint64_t steps = 0; steps < bound; steps++) {
		if (dir == ancestor)
			return -EINVAL;
		if (dir == EXT2_ROOT_INO)
			return 0;
		if ((err = ext2_iget(fs, dir, &in)) < 0)
			return err == -ENOENT
			               ? ext2_corrupt(fs, "\"..\" names unused inode %u", dir)
			               : err;
		if (!is_dir(&in))
			return ext2_corrupt(fs, "\"..\" names inode %u, not a directory", dir);
		if ((err = dir_dotdot(fs, dir, &in, &dir)) < 0)
			return err;
	}
	return ext2_corrupt(fs, "the \"..\" chain above directory %u does not reach the root", dir);
}

int ext2_dir_rename(struct ext2_fs *fs, uint32_t odir, const char *oname, size_t olen,
                    uint32_t ndir, const char *nname, size_t nlen)
{
	struct ext2_inode od, nd_own, src, tgt;
	struct ext2_inode *nd = odir == ndir ? &od : &nd_own;
	uint32_t sino, tino = 0, now = ext2_now(fs);
	bool sdir;
	int err;

	if (fs->readonly)
		return -EROFS;
	if ((err = dir_get(fs, odir, &od)) < 0)
		return err;
	if (nd != &od && (err = dir_get(fs, ndir, nd)) < 0)
		return err;
	if ((err = name_check(oname, olen)) < 0)
		return err == -EINVAL ? -ENOENT : err;
	if ((err = name_check(nname, nlen)) < 0)
		return err;
	if ((err = lookup_checked(fs, odir, &od, oname, olen, &sino, &src)) < 0)
		return err;
	sdir = is_dir(&src);
	err = lookup_checked(fs, ndir, nd, nname, nlen, &tino, &tgt);
	if (err == -ENOENT)
		tino = 0;
	else if (err < 0)
		return err;
	if (tino == sino)
		return 0; /* the same file under both names: nothing to do */
	if (tino && sdir && !is_dir(&tgt))
		return -ENOTDIR;
	if (tino && !sdir && is_dir(&tgt))
		return -EISDIR;
	if (tino && sdir && (err = dir_empty(fs, tino, &tgt)) <= 0)
		return err < 0 ? err : -ENOTEMPTY;
	if (sdir && odir != ndir) {
		if ((err = check_not_inside(fs, ndir, sino)) < 0)
			return err;
		if (!tino && nd->i_links_count >= EXT2_LINK_MAX)
			return -EMLINK;
	}

	/* The new name first (the only step that can run out of space), then the old one goes. */
	if (tino)
		err = dir_retarget(fs, ndir, nd, nname, nlen, sino, mode_to_ft(src.i_mode));
	else
		err = dir_add(fs, ndir, nd, nname, nlen, sino, mode_to_ft(src.i_mode));
	if (err < 0)
		return err;
	if ((err = dir_remove(fs, odir, &od, oname, olen, sino)) < 0)
		goto write_dirs;
	if (sdir && odir != ndir) {
		if ((err = dir_set_dotdot(fs, sino, &src, ndir)) < 0)
			goto write_dirs;
		od.i_links_count--;
		nd->i_links_count++;
	}
	if (now)
		src.i_ctime = now;
	if ((err = ext2_iwrite(fs, sino, &src)) < 0)
		goto write_dirs;
	if (tino) {
		if (is_dir(&tgt)) {
			nd->i_links_count--; /* the replaced directory's ".." */
			err = ext2_release_inode(fs, tino, &tgt);
		} else if (--tgt.i_links_count == 0) {
			err = ext2_release_inode(fs, tino, &tgt);
		} else {
			if (now)
				tgt.i_ctime = now;
			err = ext2_iwrite(fs, tino, &tgt);
		}
	}
write_dirs:
	if (nd != &od) {
		int e = ext2_iwrite(fs, ndir, nd);
		if (err == 0)
			err = e;
	}
	{
		int e = ext2_iwrite(fs, odir, &od);
		if (err == 0)
			err = e;
	}
	return err;
}
