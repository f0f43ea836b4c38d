# The VFS (fs/vfs.c, fs/vfs_file.c, fs/vfs_remote.c) over the initrd's ramfs (fs/ramfs.c, fs/cpio.c) and the
# test filesystem tests/guest/memfs.h, on one core.
unit_vfs_SRCS := fs/vfs.c fs/vfs_file.c fs/vfs_remote.c fs/ramfs.c fs/cpio.c kernel/printf.c
