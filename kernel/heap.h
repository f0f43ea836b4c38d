/*
 * heap.h - the size-class heap of one core, on top of its page allocator (kernel/kmem.h).
 *
 * Small blocks (up to HEAP_SMALL_MAX bytes) come from slabs of one size class; larger ones
 * are whole power-of-two page blocks straight from kmem. This module is a pure data structure
 * like kmem: the per-core glue (kmalloc/kfree, remote free over message rings) is elsewhere.
 *
 * Contract:
 *  - A struct heap MUST only be used by the core that owns it (the owner of its kmem), never
 *    concurrently with itself; the glue decides thread or interrupt context. A block of another
 *    core's heap goes home as a remote free and is freed there by its owner with heap_free.
 *  - Blocks are 16-byte aligned. heap_alloc(0) returns a valid, unique block. Allocation MAY
 *    fail and then returns NULL; no size, however large, makes it crash.
 *  - heap_free MUST be given a block from this heap; it refuses (-EINVAL) pointers it did not
 *    hand out: foreign, not the start of a block, a slab block that is already free, or the
 *    start of a large block that is already free. A large block freed twice after its pages
 *    were handed out again cannot be detected.
 *  - The heap owns kmem_page.heap_class/heap_slab of the pages it holds (see kmem.h).
 */
#ifndef ISLE_HEAP_H
#define ISLE_HEAP_H

#include "kernel/compiler.h"
#include "kernel/kmem.h"

#define HEAP_NCLASSES 14    /* size classes 16, 32, 48, 64, 96, ... 1536, 2048 (see heap.c) */
#define HEAP_SMALL_MAX 2048 /* largest size served from a slab */

struct slab;

/* The slabs of one size class. */
struct heap_bin {
	struct slab *hb_partial; /* [o] slabs with both free blocks and blocks in use */
	struct slab *hb_empty;   /* [o] one cached slab with no block in use, or NULL */
};

/*
 * One core's heap. [I] is set by heap_init; everything else is [o], changed only by the owner
 * core. The counters are this core's own; a reader wanting a total sums them over cores.
 */
struct heap {
	struct kmem *heap_kmem;                   /* [I] where the heap takes its pages from */
	struct heap_bin heap_bins[HEAP_NCLASSES]; /* [o] slabs by size class */
	size_t heap_bytes_in_use;                 /* [o] sum of the usable sizes of live blocks */
	size_t heap_blocks_in_use;                /* [o] live blocks */
	uint64_t heap_allocs;                     /* [o] successful allocations */
	uint64_t heap_frees;                      /* [o] successful frees */
	uint64_t heap_failed;                     /* [o] allocations that returned NULL */
};

struct heap_stats {
	size_t bytes_in_use;  /* sum of heap_usable_size() of the live blocks */
	size_t blocks_in_use; /* live blocks */
	uint64_t allocs;      /* successful allocations since heap_init */
	uint64_t frees;       /* successful frees since heap_init */
	uint64_t failed;      /* allocations that returned NULL */
};

/* Start an empty heap over km. Boot or core start-up, on the owner core. */
void heap_init(struct heap *h, struct kmem *km);

/* A 16-byte aligned block of at least size bytes (size 0 counts as 1), or NULL. */
void *heap_alloc(struct heap *h, size_t size);

/*
 * A block of at least size bytes aligned to align, a power of two up to PAGE_SIZE; NULL if
 * out of memory or align is not one of those. The block is freed with heap_free.
 */
void *heap_alloc_aligned(struct heap *h, size_t size, size_t align);

/* Free a block of this heap. NULL is a no-op returning 0. Returns 0 or -EINVAL (see above). */
int heap_free(struct heap *h, void *p);

/* Bytes usable in the live block that starts at p (>= the size asked for); 0 if p is not one. */
size_t heap_usable_size(struct heap *h, const void *p);

/* Copy the counters. */
void heap_stats(const struct heap *h, struct heap_stats *out);

/*
 * Give the cached empty slabs back to kmem. heap_alloc does this by itself before it fails;
 * the glue MAY call it when another user of the same kmem runs short.
 */
void heap_trim(struct heap *h);

#endif
