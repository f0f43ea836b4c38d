# The cpio newc reader and the ramfs built from it; kernel/printf.c formats their messages.
fuzz_cpio_SRCS := fs/cpio.c fs/ramfs.c kernel/printf.c
