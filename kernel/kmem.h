/*
 * kmem.h - the page allocator of one core (a buddy allocator).
 *
 * Every core owns one struct kmem over its private memory (one or a few spans of RAM) and hands
 * out blocks of 2^order contiguous pages, each aligned to its own size. This module is a pure data structure:
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
 * start of the span. The kp_ fields belong to kmem. The heap_ fields belong to whoever
 * allocated the page from kmem and is the heap (kernel/heap.c): kmem zeroes them when it first
 * carves the page and never reads or writes them after; the heap sets them on pages it owns and
 * MUST zero them again before it frees the pages. Any other user of kmem_alloc MUST leave them zero.
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

/* Most separate pieces of memory one kmem manages (a core's share of RAM may span holes). */
#define KMEM_MAX_SPANS 8

/*
 * One contiguous piece of memory. Its metadata array is carved from the start of the piece and
 * filled lazily: only pages [0, ks_ready) have been carved into blocks; the pages above are
 * free memory nobody has looked at yet, so neither booting nor kmem_add_span touches them.
 */
struct kmem_span {
	struct kmem_page *ks_pages; /* [I] metadata: [i] is page ks_first_pfn + i */
	uintptr_t ks_first_pfn;     /* [I] address / PAGE_SIZE of the first managed page */
	size_t ks_npages;           /* [I] number of managed pages */
	size_t ks_ready;            /* [o] pages [0, ks_ready) are carved into blocks */
};

/*
 * One core's page allocator. [I] fields are set by kmem_init/kmem_add_span at boot and never
 * change after; [o] fields are changed only by the owner core.
 */
struct kmem {
	struct kmem_span kmem_spans[KMEM_MAX_SPANS]; /* [I] (ks_ready [o]) sorted by address */
	unsigned kmem_nspans;                        /* [I] spans in use */
	size_t kmem_npages;                          /* [I] managed pages of all spans */
	size_t kmem_nfree;                           /* [o] pages in free blocks */
	size_t kmem_unready;                         /* [o] pages not carved yet (also free) */
	uint32_t kmem_nonempty; /* [o] bit k set iff kmem_free_list[k] is not empty */
	/* [o] heads of the free blocks of each order, linked through kp_next/kp_prev */
	struct kmem_page *kmem_free_list[KMEM_MAX_ORDER + 1];
};

/*
 * Manage [base, base + len), shrunk inward to page boundaries: kmem_init(km, 0, 0) gives an
 * empty allocator, anything else is kmem_init(km, 0, 0) + kmem_add_span(km, base, len).
 * Boot, on the owner core (or any core before the memory is handed to its owner).
 */
int kmem_init(struct kmem *km, uintptr_t base, size_t len);

/*
 * Adds [base, base + len) as one more span. The metadata array is carved from the start of the
 * span; the rest is handed out. O(1): the metadata is filled only as the pages are first
 * needed. Returns 0, -ENOMEM if not even one page is left to manage, -ENOSPC if the kmem
 * already has KMEM_MAX_SPANS spans, or -EINVAL if the range wraps around the address space or
 * overlaps a span of this kmem. Boot, like kmem_init.
 */
int kmem_add_span(struct kmem *km, uintptr_t base, size_t len);

/* 2^order contiguous pages aligned to (PAGE_SIZE << order), or NULL. Contents are not cleared. */
void *kmem_alloc(struct kmem *km, unsigned order);

/* Give back a block from kmem_alloc with the same order. Returns 0 or -EINVAL (see above). */
int kmem_free(struct kmem *km, void *p, unsigned order);

/* The span holding page frame pfn among the pages carved so far, or NULL. */
static inline const struct kmem_span *kmem_span_of(const struct kmem *km, uintptr_t pfn)
{
	for (unsigned i = 0; i < km->kmem_nspans; i++) {
		const struct kmem_span *s = &km->kmem_spans[i];
		if (pfn >= s->ks_first_pfn && pfn - s->ks_first_pfn < s->ks_ready)
			return s;
	}
	return NULL;
}

/*
 * Whether p points into one of the pages this kmem has handed out or may hand out again (the
 * metadata and pages never carved do not count). Inline because every heap_free asks it; the
 * loop runs over at most KMEM_MAX_SPANS spans, usually one.
 */
static inline bool kmem_owns(const struct kmem *km, const void *p)
{
	return kmem_span_of(km, (uintptr_t)p >> PAGE_SHIFT) != NULL;
}

/* Metadata of the page that holds p, or NULL if kmem_owns(km, p) is false. */
static inline struct kmem_page *kmem_page_of(struct kmem *km, const void *p)
{
	uintptr_t pfn = (uintptr_t)p >> PAGE_SHIFT;
	const struct kmem_span *s = kmem_span_of(km, pfn);

	return s ? &s->ks_pages[pfn - s->ks_first_pfn] : NULL;
}

/* Pages currently free, and pages managed in all. */
size_t kmem_free_pages(const struct kmem *km);
size_t kmem_total_pages(const struct kmem *km);

#endif
