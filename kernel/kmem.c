/*
 * kmem.c - the page allocator of one core: a binary buddy allocator.
 *
 * Layout. kmem_init shrinks the region to whole pages and splits it in two:
 *
 *   base                                                                   base + len
 *   | struct kmem_page[npages] (metadata) | npages managed pages ...                |
 *
 * Blocks are 2^order pages, order 0..KMEM_MAX_ORDER, and a block of order k always starts at
 * a page whose frame number (address / PAGE_SIZE) is a multiple of 2^k: alignment comes from
 * the addresses themselves, not from the offset in the region. The buddy of the block at
 * frame f is therefore the block at f ^ 2^k, and two free buddies merge into the block of
 * order k + 1 at f & ~2^k. kmem_init carves the managed pages greedily into the largest
 * aligned blocks that fit, so the region need not be aligned or a power of two in size.
 *
 * State lives only in the metadata: kmem never writes into the pages it manages, so a free
 * page may be left unmapped or poisoned by a debugging layer above.
 *
 * Invariants:
 *  - Every managed page lies in exactly one block, free or allocated.
 *  - kp_state is KP_FREE or KP_ALLOCATED only on the first page (head) of a block, and then
 *    kp_order is that block's order; every other page is KP_NONE. Merging a block therefore
 *    clears the head of the half that stops being a head.
 *  - A block is on kmem_free_list[k] iff its head is KP_FREE with kp_order k, and bit k of
 *    kmem_nonempty is set iff that list is not empty.
 *  - Two free buddies of the same order are never both on the free lists: kmem_free merges
 *    them as soon as the second one is freed.
 *  - kmem_nfree is the sum of the sizes of the free blocks.
 *
 * Cost: kmem_alloc finds the smallest non-empty order with one bit scan and splits at most
 * KMEM_MAX_ORDER times; kmem_free merges at most KMEM_MAX_ORDER times. Both are O(1) in the
 * size of the region.
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

static inline uintptr_t page_pfn(const struct kmem *km, const struct kmem_page *pg)
{
	return km->kmem_first_pfn + (uintptr_t)(pg - km->kmem_pages);
}

static inline void *page_addr(const struct kmem *km, const struct kmem_page *pg)
{
	return (void *)(page_pfn(km, pg) << PAGE_SHIFT);
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
	uintptr_t start, end, pfn, end_pfn;
	size_t span, n, meta;

	memset(km, 0, sizeof(*km));
	if (base + len < base)
		return -EINVAL;
	start = ALIGN_UP(base, (uintptr_t)PAGE_SIZE);
	end = ALIGN_DOWN(base + len, (uintptr_t)PAGE_SIZE);
	if (start < base || end <= start)
		return -ENOMEM;
	span = (end - start) / PAGE_SIZE;

	/*
	 * Split span pages into meta pages of metadata and n = span - meta managed pages, with n as
	 * large as possible. The division estimates it to within a page or two; the loop fixes it.
	 */
	meta = meta_pages((end - start) / (PAGE_SIZE + sizeof(struct kmem_page)));
	while (meta < span && meta_pages(span - meta) > meta)
		meta++;
	if (meta >= span)
		return -ENOMEM;
	n = span - meta;

	km->kmem_pages = (struct kmem_page *)start;
	km->kmem_first_pfn = start / PAGE_SIZE + meta;
	km->kmem_npages = n;
	memset(km->kmem_pages, 0, n * sizeof(struct kmem_page));

	/* Carve the managed pages into the largest aligned blocks that fit. */
	pfn = km->kmem_first_pfn;
	end_pfn = pfn + n;
	while (pfn < end_pfn) {
		unsigned order = KMEM_MAX_ORDER;

		while (order > 0 && ((pfn & (((uintptr_t)1 << order) - 1)) != 0 ||
		                     end_pfn - pfn < ((uintptr_t)1 << order)))
			order--;
		free_list_push(km, &km->kmem_pages[pfn - km->kmem_first_pfn], order);
		pfn += (uintptr_t)1 << order;
	}
	km->kmem_nfree = n;
	return 0;
}

void *kmem_alloc(struct kmem *km, unsigned order)
{
	struct kmem_page *pg;
	uint32_t avail;
	unsigned k;

	if (unlikely(order > KMEM_MAX_ORDER))
		return NULL;
	avail = km->kmem_nonempty >> order;
	if (unlikely(avail == 0))
		return NULL;
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
	return page_addr(km, pg);
}

int kmem_free(struct kmem *km, void *p, unsigned order)
{
	struct kmem_page *pg = kmem_page_of(km, p);
	uintptr_t pfn;

	if (!pg || order > KMEM_MAX_ORDER || ((uintptr_t)p & (((size_t)PAGE_SIZE << order) - 1)))
		return -EINVAL;
	if (pg->kp_state != KP_ALLOCATED || pg->kp_order != order)
		return -EINVAL;

	pg->kp_state = KP_NONE;
	km->kmem_nfree += (size_t)1 << order;
	pfn = page_pfn(km, pg);
	for (; order < KMEM_MAX_ORDER; order++) {
		uintptr_t buddy_pfn = pfn ^ ((uintptr_t)1 << order);
		struct kmem_page *buddy;

		if (!kmem_owns(km, (void *)(buddy_pfn << PAGE_SHIFT)))
			break;
		buddy = &km->kmem_pages[buddy_pfn - km->kmem_first_pfn];
		if (buddy->kp_state != KP_FREE || buddy->kp_order != order)
			break;
		free_list_remove(km, buddy, order);
		pfn &= ~((uintptr_t)1 << order);
	}
	free_list_push(km, &km->kmem_pages[pfn - km->kmem_first_pfn], order);
	return 0;
}

size_t kmem_free_pages(const struct kmem *km)
{
	return km->kmem_nfree;
}

size_t kmem_total_pages(const struct kmem *km)
{
	return km->kmem_npages;
}
