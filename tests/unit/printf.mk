# The kernel formatter (kernel/printf.c), compared with glibc.
unit_printf_SRCS := kernel/printf.c
