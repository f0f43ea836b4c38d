unit_heap_SRCS := kernel/heap.c kernel/kmem.c
