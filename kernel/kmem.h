/*
 * kmem.h - the page allocator of one core (a buddy allocator).
 *
 * Every core owns one struct kmem over its private memory region and hands out blocks of
 * 2^order contiguous pages, each aligned to its own size. This module is a pure data structure:
 * no locks, no per-core globals, no printing, so it is also built on the host for unit tests.
 *
 * Contract:
 *  - A struct kmem MUST only be used by the core that owns it, and never concurrently with
 *    itself; the per-core glue decides whether that is thread or interrupt context. Memory
 *    owned by another core goes home as a remote free message, never through its kmem.
 *  - kmem_alloc MAY fail (NULL); that is an ordinary condition, not a panic.
 *  - kmem_free MUST be given the pointer and order of a live block from the same kmem; it
 *    refuses (-EINVAL) anything else it can recognise: foreign or misaligned pointers, a wrong
 *    order, a block that is already free.
 *  - kmem_owns, kmem_page_of and the counters only read; any context of the owner core MAY use
 *    them, and they are how the glue tells which core a pointer belongs to.
 */
#ifndef ISLE_KMEM_H
#define ISLE_KMEM_H

#include "kernel/compiler.h"

#define PAGE_SIZE 4096
#define PAGE_SHIFT 12
/* The largest block is 2^KMEM_MAX_ORDER pages: 2^18 * 4 KiB = 1 GiB. */
#define KMEM_MAX_ORDER 18

/*
 * Per-page metadata. kmem keeps one for every page it manages, in an array carved from the
 * start of the region. The kp_ fields belong to kmem. The heap_ fields belong to whoever
 * allocated the page from kmem and is the heap (kernel/heap.c): kmem zeroes them in kmem_init
 * and never reads or writes them after; the heap sets them on pages it owns and MUST zero
 * them again before it frees the pages. Any other user of kmem_alloc MUST leave them zero.
 * Ownership: all fields [o] (the owner core of the kmem).
 */
struct kmem_page {
	struct kmem_page *kp_next; /* [o] next free block of this order (free block heads only) */
	struct kmem_page *kp_prev; /* [o] previous free block of this order, NULL if first */
	void *heap_slab;           /* [o] heap's: slab header for a page of a slab */
	uint16_t heap_class;       /* [o] heap's: what the heap uses this page for, 0 = nothing */
	uint8_t kp_order;          /* [o] order of the block this page heads (free or allocated) */
	uint8_t kp_state;          /* [o] KP_NONE, KP_FREE or KP_ALLOCATED (see kmem.c) */
};

/*
 * One core's page allocator. [I] fields are set by kmem_init and never change after; [o]
 * fields are changed only by the owner core.
 */
struct kmem {
	struct kmem_page *kmem_pages; /* [I] metadata: [i] is page kmem_first_pfn + i */
	uintptr_t kmem_first_pfn;     /* [I] address / PAGE_SIZE of the first managed page */
	size_t kmem_npages;           /* [I] number of managed pages */
	size_t kmem_nfree;            /* [o] pages currently in free blocks */
	uint32_t kmem_nonempty;       /* [o] bit k set iff kmem_free_list[k] is not empty */
	/* [o] heads of the free blocks of each order, linked through kp_next/kp_prev */
	struct kmem_page *kmem_free_list[KMEM_MAX_ORDER + 1];
};

/*
 * Manage [base, base + len), shrunk inward to page boundaries. The metadata array is carved
 * from the start of the region; the rest is handed out. Returns 0, -ENOMEM if not even one
 * page is left to manage, or -EINVAL if the range wraps around the address space.
 * Boot, on the owner core (or any core before the region is handed to its owner).
 */
int kmem_init(struct kmem *km, uintptr_t base, size_t len);

/* 2^order contiguous pages aligned to (PAGE_SIZE << order), or NULL. Contents are not cleared. */
void *kmem_alloc(struct kmem *km, unsigned order);

/* Give back a block from kmem_alloc with the same order. Returns 0 or -EINVAL (see above). */
int kmem_free(struct kmem *km, void *p, unsigned order);

/*
 * Whether p points into one of the pages this kmem hands out (the metadata does not count).
 * Inline because every heap_free and every remote-free decision asks it.
 */
static inline bool kmem_owns(const struct kmem *km, const void *p)
{
	uintptr_t pfn = (uintptr_t)p >> PAGE_SHIFT;

	return pfn >= km->kmem_first_pfn && pfn - km->kmem_first_pfn < km->kmem_npages;
}

/* Metadata of the page that holds p, or NULL if kmem_owns(km, p) is false. */
static inline struct kmem_page *kmem_page_of(struct kmem *km, const void *p)
{
	if (!kmem_owns(km, p))
		return NULL;
	return &km->kmem_pages[((uintptr_t)p >> PAGE_SHIFT) - km->kmem_first_pfn];
}

/* Pages currently free, and pages managed in all. */
size_t kmem_free_pages(const struct kmem *km);
size_t kmem_total_pages(const struct kmem *km);

#endif
