# The profiler's frame-pointer walk and stack table (kernel/proftab.c).
unit_proftab_SRCS := kernel/proftab.c
