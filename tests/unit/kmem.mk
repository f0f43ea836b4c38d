unit_kmem_SRCS := kernel/kmem.c
