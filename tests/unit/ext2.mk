# The ext2 driver (fs/ext2*.c) against images made by mke2fs and checked by e2fsck
# (e2fsprogs, from ci/deps); kernel/printf.c formats its messages.
unit_ext2_SRCS := fs/ext2.c fs/ext2_alloc.c fs/ext2_cache.c fs/ext2_dir.c fs/ext2_inode.c \
	kernel/printf.c
$(BUILD)/unit/test_ext2: fs/ext2.h fs/ext2_priv.h fs/blkdev.h fs/vfs.h
