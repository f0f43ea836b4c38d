# The kernel command-line parser (kernel/cmdline.c), which formats its errors with kernel/printf.c.
unit_cmdline_SRCS := kernel/cmdline.c kernel/printf.c
