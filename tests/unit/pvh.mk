# The PVH start info parser; kernel/printf.c formats its messages.
unit_pvh_SRCS := arch/x86_64/pvh.c kernel/printf.c
