/*
 * kmem.c - the page allocator of one core: a binary buddy allocator over a few spans of RAM.
 *
 * Layout. kmem_add_span shrinks a range to whole pages and splits it in two:
 *
 *   base                                                                   base + len
 *   | struct kmem_page[npages] (metadata) | npages managed pages ...                |
 *
 * Blocks are 2^order pages, order 0..KMEM_MAX_ORDER, and a block of order k always starts at
 * a page whose frame number (address / PAGE_SIZE) is a multiple of 2^k: alignment comes from
 * the addresses themselves, not from the offset in the span. The buddy of the block at
 * frame f is therefore the block at f ^ 2^k, and two free buddies merge into the block of
 * order k + 1 at f & ~2^k. Pages are carved greedily into the largest aligned blocks that fit,
 * so a span need not be aligned or a power of two in size. Blocks never cross spans.
 *
 * Lazy carving. A span of 64 GiB has 512 MiB of metadata; filling it at boot would make boot
 * time grow with RAM. So kmem_add_span only records the span, and the pages are carved (their
 * metadata zeroed, the block put on a free list) from the bottom of the span up, one aligned
 * block at a time, when kmem_alloc finds no free block big enough (carve_more). Pages above
 * ks_ready are free memory that no metadata describes yet; they count as free.
 *
 * State lives only in the metadata: kmem never writes into the pages it manages, so a free
 * page may be left unmapped or poisoned by a debugging layer above.
 *
 * Invariants:
 *  - Every carved page lies in exactly one block, free or allocated, within one span.
 *  - kp_state is KP_FREE or KP_ALLOCATED only on the first page (head) of a block, and then
 *    kp_order is that block's order; every other page is KP_NONE. Merging a block therefore
 *    clears the head of the half that stops being a head.
 *  - A block is on kmem_free_list[k] iff its head is KP_FREE with kp_order k, and bit k of
 *    kmem_nonempty is set iff that list is not empty.
 *  - Two free buddies of the same order are never both on the free lists: a block is merged
 *    with its buddy as soon as both are free (when freed, and when carved).
 *  - kmem_nfree is the sum of the sizes of the free blocks; kmem_unready the pages not carved.
 *
 * Cost: kmem_alloc finds the smallest non-empty order with one bit scan and splits at most
 * KMEM_MAX_ORDER times; kmem_free merges at most KMEM_MAX_ORDER times. Both are O(1) in the
 * size of the memory (finding a page's span looks at most at KMEM_MAX_SPANS spans). Carving
 * costs 32 bytes of metadata per page, once per page, paid by the allocation that needs it.
 */
#include "kernel/kmem.h"

#include <isle/errno.h>
#include <string.h>

enum {
	KP_NONE = 0,  /* inside a block, not its head */
	KP_FREE,      /* head of a free block, on kmem_free_list[kp_order] */
	KP_ALLOCATED, /* head of a block handed out by kmem_alloc */
};

_Static_assert(KMEM_MAX_ORDER < 32, "kmem_nonempty has one bit per order");
_Static_assert(sizeof(struct kmem_page) == 32, "metadata costs 32 bytes per 4 KiB page");

/* The address of the page whose metadata is pg (a page of one of km's spans). */
static void *pg_addr_in(const struct kmem *km, const struct kmem_page *pg)
{
	for (unsigned i = 0; i < km->kmem_nspans; i++) {
		const struct kmem_span *s = &km->kmem_spans[i];

		if (pg >= s->ks_pages && pg < s->ks_pages + s->ks_ready)
			return (void *)((s->ks_first_pfn + (uintptr_t)(pg - s->ks_pages))
			                << PAGE_SHIFT);
	}
	return NULL; /* not reached: pg came from a free list */
}

static void free_list_push(struct kmem *km, struct kmem_page *pg, unsigned order)
{
	struct kmem_page *head = km->kmem_free_list[order];

	pg->kp_state = KP_FREE;
	pg->kp_order = order;
	pg->kp_prev = NULL;
	pg->kp_next = head;
	if (head)
		head->kp_prev = pg;
	km->kmem_free_list[order] = pg;
	km->kmem_nonempty |= 1u << order;
}

static void free_list_remove(struct kmem *km, struct kmem_page *pg, unsigned order)
{
	if (pg->kp_prev)
		pg->kp_prev->kp_next = pg->kp_next;
	else
		km->kmem_free_list[order] = pg->kp_next;
	if (pg->kp_next)
		pg->kp_next->kp_prev = pg->kp_prev;
	if (!km->kmem_free_list[order])
		km->kmem_nonempty &= ~(1u << order);
	pg->kp_next = pg->kp_prev = NULL;
	pg->kp_state = KP_NONE;
}

/* Pages of metadata needed to describe n pages. */
static size_t meta_pages(size_t n)
{
	return (n * sizeof(struct kmem_page) + PAGE_SIZE - 1) / PAGE_SIZE;
}

int kmem_init(struct kmem *km, uintptr_t base, size_t len)
{
	memset(km, 0, sizeof(*km));
	if (base == 0 && len == 0)
		return 0;
	return kmem_add_span(km, base, len);
}

int kmem_add_span(struct kmem *km, uintptr_t base, size_t len)
{
	uintptr_t start, end;
	size_t pages, n, meta;
	unsigned i;

	if (base + len < base)
		return -EINVAL;
	start = ALIGN_UP(base, (uintptr_t)PAGE_SIZE);
	end = ALIGN_DOWN(base + len, (uintptr_t)PAGE_SIZE);
	if (start < base || end <= start)
		return -ENOMEM;
	pages = (end - start) / PAGE_SIZE;

	/*
	 * Split the pages into meta pages of metadata and n = pages - meta managed pages, with n as
	 * large as possible. The division estimates it to within a page or two; the loop fixes it.
	 */
	meta = meta_pages((end - start) / (PAGE_SIZE + sizeof(struct kmem_page)));
	while (meta < pages && meta_pages(pages - meta) > meta)
		meta++;
	if (meta >= pages)
		return -ENOMEM;
	n = pages - meta;
	if (km->kmem_nspans == KMEM_MAX_SPANS)
		return -ENOSPC;
	for (i = 0; i < km->kmem_nspans; i++) {
		const struct kmem_span *o = &km->kmem_spans[i];
		uintptr_t o_start = (uintptr_t)o->ks_pages;
		uintptr_t o_end = (o->ks_first_pfn + o->ks_npages) * PAGE_SIZE;

		if (start < o_end && o_start < end)
			return -EINVAL;
	}

	/* Keep the spans sorted by address. */
	for (i = km->kmem_nspans; i > 0 && km->kmem_spans[i - 1].ks_first_pfn > start / PAGE_SIZE;
	     i--)
		km->kmem_spans[i] = km->kmem_spans[i - 1];
	km->kmem_spans[i] = (struct kmem_span){
		.ks_pages = (struct kmem_page *)start,
		.ks_first_pfn = start / PAGE_SIZE + meta,
		.ks_npages = n,
		.ks_ready = 0,
	};
	km->kmem_nspans++;
	km->kmem_npages += n;
	km->kmem_unready += n;
	return 0;
}

/*
 * Puts the free block of the given order at pfn (in span s) on the free lists, merged with its
 * buddies as far as they are free. The block's pages are KP_NONE, its head included.
 */
static void block_release(struct kmem *km, const struct kmem_span *s, uintptr_t pfn, unsigned order)
{
	km->kmem_nfree += (size_t)1 << order;
	for (; order < KMEM_MAX_ORDER; order++) {
		uintptr_t buddy_pfn = pfn ^ ((uintptr_t)1 << order);
		struct kmem_page *buddy;

		if (buddy_pfn < s->ks_first_pfn || buddy_pfn - s->ks_first_pfn >= s->ks_ready)
			break;
		buddy = &s->ks_pages[buddy_pfn - s->ks_first_pfn];
		if (buddy->kp_state != KP_FREE || buddy->kp_order != order)
			break;
		free_list_remove(km, buddy, order);
		pfn &= ~((uintptr_t)1 << order);
	}
	free_list_push(km, &s->ks_pages[pfn - s->ks_first_pfn], order);
}

/*
 * Carves the next block at the bottom of s's uncarved pages: the largest aligned block that
 * fits, of at most max_order. Its metadata is zeroed here, the first time anything looks at
 * those pages; carved next to a free buddy, it merges at once, so carving 2 MiB at a time
 * builds the same big blocks as carving everything at once would.
 */
static void carve_block(struct kmem *km, struct kmem_span *s, unsigned max_order)
{
	uintptr_t pfn = s->ks_first_pfn + s->ks_ready;
	size_t left = s->ks_npages - s->ks_ready;
	unsigned order = max_order;

	while (order > 0 &&
	       ((pfn & (((uintptr_t)1 << order) - 1)) != 0 || left < ((size_t)1 << order)))
		order--;
	memset(&s->ks_pages[s->ks_ready], 0, sizeof(struct kmem_page) << order);
	s->ks_ready += (size_t)1 << order;
	km->kmem_unready -= (size_t)1 << order;
	block_release(km, s, pfn, order);
}

/*
 * Carves until a free block of at least the given order exists, or nothing is left to carve.
 * Blocks are carved 2 MiB (CARVE_ORDER) at a time, or the size asked for if larger: enough that
 * a run of small allocations does not come back here for every page, small enough that no
 * allocation pays for metadata it does not need.
 */
#define CARVE_ORDER 9

static void carve_more(struct kmem *km, unsigned order)
{
	unsigned max_order = MAX(order, CARVE_ORDER);

	for (unsigned i = 0; i < km->kmem_nspans; i++) {
		struct kmem_span *s = &km->kmem_spans[i];

		while (s->ks_ready < s->ks_npages) {
			carve_block(km, s, max_order);
			if ((km->kmem_nonempty >> order) != 0)
				return;
		}
	}
}

void *kmem_alloc(struct kmem *km, unsigned order)
{
	struct kmem_page *pg;
	uint32_t avail;
	unsigned k;

	if (unlikely(order > KMEM_MAX_ORDER))
		return NULL;
	avail = km->kmem_nonempty >> order;
	if (unlikely(avail == 0)) {
		if (km->kmem_unready == 0)
			return NULL;
		carve_more(km, order);
		avail = km->kmem_nonempty >> order;
		if (avail == 0)
			return NULL;
	}
	k = order + (unsigned)__builtin_ctz(avail);
	pg = km->kmem_free_list[k];
	free_list_remove(km, pg, k);

	/* Split: keep the lower half, put the upper half back on the next smaller list. */
	while (k > order) {
		k--;
		free_list_push(km, pg + ((size_t)1 << k), k);
	}
	pg->kp_state = KP_ALLOCATED;
	pg->kp_order = order;
	km->kmem_nfree -= (size_t)1 << order;
	return pg_addr_in(km, pg);
}

int kmem_free(struct kmem *km, void *p, unsigned order)
{
	uintptr_t pfn = (uintptr_t)p >> PAGE_SHIFT;
	const struct kmem_span *s = kmem_span_of(km, pfn);
	struct kmem_page *pg;

	if (!s || order > KMEM_MAX_ORDER || ((uintptr_t)p & (((size_t)PAGE_SIZE << order) - 1)))
		return -EINVAL;
	pg = &s->ks_pages[pfn - s->ks_first_pfn];
	if (pg->kp_state != KP_ALLOCATED || pg->kp_order != order)
		return -EINVAL;
	pg->kp_state = KP_NONE;
	block_release(km, s, pfn, order);
	return 0;
}

size_t kmem_free_pages(const struct kmem *km)
{
	return km->kmem_nfree + km->kmem_unready;
}

size_t kmem_total_pages(const struct kmem *km)
{
	return km->kmem_npages;
}
