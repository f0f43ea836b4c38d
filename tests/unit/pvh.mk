# The PVH start info parser, with the memory map normalisation it shares (bootinfo.c);
# kernel/printf.c formats its messages.
unit_pvh_SRCS := arch/x86_64/pvh.c arch/x86_64/bootinfo.c kernel/printf.c
