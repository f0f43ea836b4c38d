# The ext2 driver's readers (fs/ext2*.c) on damaged images; kernel/printf.c formats messages.
fuzz_ext2_SRCS := fs/ext2.c fs/ext2_alloc.c fs/ext2_cache.c fs/ext2_dir.c fs/ext2_inode.c \
	kernel/printf.c
$(BUILD)/fuzz/fuzz_ext2: fs/ext2.h fs/ext2_priv.h fs/blkdev.h fs/vfs.h
