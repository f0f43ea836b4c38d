# Memory and string functions (kernel/string.c), built as isle_memcpy etc. beside glibc.
unit_string_SRCS := kernel/string.c
unit_string_CFLAGS := -DISLE_HOST_STRING_TEST
