/*
 * ext2.h - the ext2 filesystem driver (fs/ext2*.c): its entry points and the on-disk format.
 *
 * Contract:
 *  - ext2_mount reads and checks the superblock and group descriptors of the ext2 filesystem
 *    on dev (revision 0 or 1; 1, 2 or 4 KiB blocks). It MUST be called in thread context (it
 *    blocks on the device). On success *priv_out is the mount's state, to be handed to
 *    vfs_mount with ext2_ops and root inode EXT2_ROOT_INO; all later calls go through ext2_ops
 *    on one core at a time (the mount's owner). On failure it returns -EINVAL (not ext2),
 *    -ENOTSUP (a feature it does not know), -EIO (corrupt or unreadable) or -ENOMEM, with a
 *    one-line reason in err (not logged: the caller reports it).
 *  - A mount is read-only when `readonly` is asked for, when the device is read-only, or when
 *    the filesystem has read-only-compatible features this driver does not know; ext2_readonly
 *    says which, and the VFS mount MUST then be made read-only (the driver refuses writes with
 *    -EROFS anyway).
 *  - ext2_ops.unmount writes everything back and frees the state; priv is dead afterwards.
 *  - Timestamps come from a clock the caller MAY set with ext2_set_clock (seconds since 1970);
 *    without one, times are left at 0 and the superblock's times are not touched.
 *
 * The structures below are the little-endian on-disk layout, read and written as they are
 * (x86_64 only). Field names follow the ext2 specification (the "Second Extended File System"
 * documentation by Dave Poirier), so they can be looked up there.
 */
#ifndef ISLE_FS_EXT2_H
#define ISLE_FS_EXT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs/blkdev.h"
#include "fs/vfs.h"

#define EXT2_SUPER_OFFSET 1024       /* byte offset of the superblock on the device */
#define EXT2_MAGIC 0xEF53            /* s_magic */
#define EXT2_ROOT_INO 2              /* inode of the root directory */
#define EXT2_GOOD_OLD_FIRST_INO 11   /* first non-reserved inode in revision 0 */
#define EXT2_GOOD_OLD_INODE_SIZE 128 /* inode size in revision 0, and the part this driver uses */
#define EXT2_NDIR_BLOCKS 12          /* direct block pointers in an inode */
#define EXT2_IND_BLOCK 12            /* i_block[] slot of the single indirect block */
#define EXT2_DIND_BLOCK 13           /* ... of the double indirect block */
#define EXT2_TIND_BLOCK 14           /* ... of the triple indirect block */
#define EXT2_N_BLOCKS 15             /* entries in i_block[] */
#define EXT2_NAME_LEN 255            /* bytes in a file name */
#define EXT2_FAST_SYMLINK_MAX 60     /* a symlink target shorter than this lives in i_block */

/* s_state */
#define EXT2_VALID_FS 0x0001 /* cleanly unmounted */
#define EXT2_ERROR_FS 0x0002 /* errors were detected */

/* s_feature_compat: nothing here changes how the driver reads or writes */
#define EXT2_FEATURE_COMPAT_DIR_PREALLOC 0x0001 /* preallocate directory blocks */
#define EXT2_FEATURE_COMPAT_EXT_ATTR 0x0008     /* extended attribute blocks (i_file_acl) */
#define EXT2_FEATURE_COMPAT_RESIZE_INODE 0x0010 /* reserved GDT blocks for online growth */
#define EXT2_FEATURE_COMPAT_DIR_INDEX 0x0020    /* hashed directories (EXT2_INDEX_FL) */

/* s_feature_incompat: an unknown one means the driver cannot even read the filesystem */
#define EXT2_FEATURE_INCOMPAT_FILETYPE 0x0002 /* directory entries carry a file type byte */
#define EXT2_FEATURE_INCOMPAT_SUPPORTED EXT2_FEATURE_INCOMPAT_FILETYPE

/* s_feature_ro_compat: an unknown one means the driver may read but not write */
#define EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER 0x0001 /* superblock copies only in some groups */
#define EXT2_FEATURE_RO_COMPAT_LARGE_FILE 0x0002   /* i_size_high is used: files >= 2 GiB */
#define EXT2_FEATURE_RO_COMPAT_SUPPORTED \
	(EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE)

/* i_flags */
#define EXT2_INDEX_FL 0x00001000 /* directory has a hash index (cleared when we modify it) */

/* i_mode file types (the same values as S_IF* in isle/fs.h) */
#define EXT2_S_IFMT 0170000
#define EXT2_S_IFSOCK 0140000
#define EXT2_S_IFLNK 0120000
#define EXT2_S_IFREG 0100000
#define EXT2_S_IFBLK 0060000
#define EXT2_S_IFDIR 0040000
#define EXT2_S_IFCHR 0020000
#define EXT2_S_IFIFO 0010000

/* ext2_dir_entry.file_type */
#define EXT2_FT_UNKNOWN 0
#define EXT2_FT_REG_FILE 1
#define EXT2_FT_DIR 2
#define EXT2_FT_CHRDEV 3
#define EXT2_FT_BLKDEV 4
#define EXT2_FT_FIFO 5
#define EXT2_FT_SOCK 6
#define EXT2_FT_SYMLINK 7
#define EXT2_FT_MAX 8

/* The superblock: 1024 bytes at byte 1024 of the device (backup copies in some groups). */
struct ext2_super {
	uint32_t s_inodes_count;      /* inodes in the filesystem (= groups * s_inodes_per_group) */
	uint32_t s_blocks_count;      /* blocks in the filesystem, metadata included */
	uint32_t s_r_blocks_count;    /* blocks reserved for the superuser */
	uint32_t s_free_blocks_count; /* free blocks (sum of the groups' counts) */
	uint32_t s_free_inodes_count; /* free inodes (sum of the groups' counts) */
	uint32_t s_first_data_block;  /* block holding the superblock: 1 for 1 KiB blocks, else 0 */
	uint32_t s_log_block_size;    /* block size is 1024 << s_log_block_size */
	uint32_t s_log_frag_size;     /* fragment size (fragments were never implemented) */
	uint32_t s_blocks_per_group;  /* blocks in each group (the last one may be shorter) */
	uint32_t s_frags_per_group;   /* fragments per group (unused) */
	uint32_t s_inodes_per_group;  /* inodes in each group */
	uint32_t s_mtime;             /* last mount time, seconds since 1970 */
	uint32_t s_wtime;             /* last write time */
	uint16_t s_mnt_count;         /* mounts since the last check */
	int16_t s_max_mnt_count;      /* mounts allowed before a check is due (-1: no limit) */
	uint16_t s_magic;             /* EXT2_MAGIC */
	uint16_t s_state;             /* EXT2_VALID_FS when cleanly unmounted, EXT2_ERROR_FS */
	uint16_t s_errors;            /* what to do on errors (continue, remount ro, panic) */
	uint16_t s_minor_rev_level;   /* minor revision */
	uint32_t s_lastcheck;         /* time of the last check */
	uint32_t s_checkinterval;     /* seconds allowed between checks */
	uint32_t s_creator_os;        /* 0 = Linux */
	uint32_t s_rev_level;         /* 0 = original format, 1 = dynamic (fields below valid) */
	uint16_t s_def_resuid;        /* user that may use reserved blocks */
	uint16_t s_def_resgid;        /* group that may use reserved blocks */
	/* revision 1 ("dynamic") only: */
	uint32_t s_first_ino;              /* first inode usable for files (11 in revision 0) */
	uint16_t s_inode_size;             /* bytes per inode in the table (128 in revision 0) */
	uint16_t s_block_group_nr;         /* group that holds this copy of the superblock */
	uint32_t s_feature_compat;         /* EXT2_FEATURE_COMPAT_* */
	uint32_t s_feature_incompat;       /* EXT2_FEATURE_INCOMPAT_* */
	uint32_t s_feature_ro_compat;      /* EXT2_FEATURE_RO_COMPAT_* */
	uint8_t s_uuid[16];                /* volume id */
	char s_volume_name[16];            /* volume label */
	char s_last_mounted[64];           /* path where it was last mounted */
	uint32_t s_algorithm_usage_bitmap; /* compression (unused) */
	uint8_t s_prealloc_blocks;         /* blocks to preallocate for files */
	uint8_t s_prealloc_dir_blocks;     /* blocks to preallocate for directories */
	uint16_t s_reserved_gdt_blocks;    /* GDT blocks reserved for growth (RESIZE_INODE) */
	uint8_t s_journal_uuid[16];        /* ext3 journal (unused by ext2) */
	uint32_t s_journal_inum;           /* ext3 journal inode */
	uint32_t s_journal_dev;            /* ext3 external journal device */
	uint32_t s_last_orphan;            /* head of the list of inodes to delete (ext3) */
	uint32_t s_hash_seed[4];           /* seed of the directory index hash */
	uint8_t s_def_hash_version;        /* default directory index hash */
	uint8_t s_jnl_backup_type;         /* ext3 journal backup */
	uint16_t s_desc_size;              /* group descriptor size (64-bit ext4 only) */
	uint32_t s_default_mount_opts;     /* default mount options */
	uint32_t s_first_meta_bg;          /* first meta block group (META_BG, unsupported) */
	uint32_t s_mkfs_time;              /* when the filesystem was created */
	uint32_t s_jnl_blocks[17];         /* ext3 journal inode backup */
	uint8_t s_rest[1024 - 336];        /* later ext3/ext4 fields, kept as they are */
};

/* One group descriptor: 32 bytes each, in the blocks after the superblock. */
struct ext2_group_desc {
	uint32_t bg_block_bitmap;      /* block of the group's block bitmap */
	uint32_t bg_inode_bitmap;      /* block of the group's inode bitmap */
	uint32_t bg_inode_table;       /* first block of the group's inode table */
	uint16_t bg_free_blocks_count; /* free blocks in the group */
	uint16_t bg_free_inodes_count; /* free inodes in the group */
	uint16_t bg_used_dirs_count;   /* directories in the group */
	uint16_t bg_flags;             /* ext4 uninitialised-group flags (0 in ext2) */
	uint32_t bg_reserved[3];       /* ext4 checksums and exclude bitmap (0 in ext2) */
};

/* An inode: the first 128 bytes of each s_inode_size-byte slot of the inode table. */
struct ext2_inode {
	uint16_t i_mode;                 /* file type (EXT2_S_IF*) and permissions */
	uint16_t i_uid;                  /* owner (low 16 bits) */
	uint32_t i_size;                 /* size in bytes (low 32 bits) */
	uint32_t i_atime;                /* last access time */
	uint32_t i_ctime;                /* last inode change time */
	uint32_t i_mtime;                /* last data modification time */
	uint32_t i_dtime;                /* deletion time (0 while in use) */
	uint16_t i_gid;                  /* group (low 16 bits) */
	uint16_t i_links_count;          /* names: entries, and for a directory "." and ".."s */
	uint32_t i_blocks;               /* 512-byte units allocated: data + indirect + EA */
	uint32_t i_flags;                /* EXT2_*_FL */
	uint32_t i_osd1;                 /* OS dependent */
	uint32_t i_block[EXT2_N_BLOCKS]; /* 12 direct, single, double, triple indirect blocks */
	uint32_t i_generation;           /* file version (NFS) */
	uint32_t i_file_acl;             /* extended attribute block, 0 if none */
	uint32_t i_size_high;            /* size bits 32..63 of a regular file (i_dir_acl) */
	uint32_t i_faddr;                /* fragment address (unused) */
	uint8_t i_frag;                  /* fragment number (unused) */
	uint8_t i_fsize;                 /* fragment size (unused) */
	uint16_t i_blocks_high;          /* ext4 huge_file (0 in ext2) */
	uint16_t i_uid_high;             /* owner (high 16 bits) */
	uint16_t i_gid_high;             /* group (high 16 bits) */
	uint32_t i_reserved2;            /* ext4 checksum (0 in ext2) */
};

/* A directory entry. Entries tile each directory block; rec_len reaches the next one. */
struct ext2_dir_entry {
	uint32_t inode;    /* inode number, 0 for an unused entry */
	uint16_t rec_len;  /* bytes to the next entry: >= 8 + name_len, a multiple of 4 */
	uint8_t name_len;  /* bytes in name (no NUL) */
	uint8_t file_type; /* EXT2_FT_* with the FILETYPE feature, else high byte of name_len */
	char name[];       /* the name, padded to 4 bytes */
};

#define EXT2_DIR_ENTRY_HEADER 8 /* bytes of ext2_dir_entry before name */

/* Header of an extended attribute block (only the fields unlinking needs). */
struct ext2_xattr_header {
	uint32_t h_magic;    /* EXT2_XATTR_MAGIC */
	uint32_t h_refcount; /* inodes sharing this block */
	uint32_t h_blocks;   /* blocks used (1) */
	uint32_t h_hash;     /* hash of all attributes */
};
#define EXT2_XATTR_MAGIC 0xEA020000

_Static_assert(sizeof(struct ext2_super) == 1024, "superblock layout");
_Static_assert(sizeof(struct ext2_group_desc) == 32, "group descriptor layout");
_Static_assert(sizeof(struct ext2_inode) == 128, "inode layout");
_Static_assert(sizeof(struct ext2_dir_entry) == 8, "directory entry layout");

/* The operations a mounted ext2 filesystem gives the VFS. */
extern const struct fs_ops ext2_ops;

/* Mounts the ext2 filesystem on dev (see the contract above). Thread context. */
int ext2_mount(struct blkdev *dev, bool readonly, void **priv_out, char *err, size_t errlen);

/* True if the mount refuses writes (asked for, read-only device, unknown RO_COMPAT feature). */
bool ext2_readonly(const void *priv);

/* Sets the clock for timestamps (seconds since 1970), or NULL for none. Owner core only. */
void ext2_set_clock(void *priv, uint32_t (*now)(void));

#endif
