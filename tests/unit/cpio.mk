# The cpio newc reader (fs/cpio.c) and the ramfs built from it (fs/ramfs.c); kernel/printf.c
# formats their messages. The test runs GNU cpio (ci/deps installs it).
unit_cpio_SRCS := fs/cpio.c fs/ramfs.c kernel/printf.c
