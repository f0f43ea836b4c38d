/*
 * heap.c - the size-class heap of one core.
 *
 * Sizes up to HEAP_SMALL_MAX are rounded up to one of 14 size classes, steps of about 1.5x:
 *
 *   16 32 48 64 96 128 192 256 384 512 768 1024 1536 2048
 *
 * A class carves its blocks from slabs. A slab is one kmem block of 2^order pages (the order
 * is per class, picked so that no more than about 4% of the slab is wasted) laid out as
 *
 *   slab_base                                                 slab_base + (PAGE_SIZE << order)
 *   | block 0 | block 1 | ... | block nobj - 1 | (slack) |                        struct slab |
 *
 * Blocks start at the page boundary, so block i is at slab_base + i * size and is aligned to
 * the largest power of two that divides size: blocks of the power-of-two classes are aligned
 * to their size, which is how heap_alloc_aligned is served from slabs. Every page of a slab
 * has kmem_page.heap_class = class + 1 and heap_slab = the slab header, so heap_free finds
 * the slab of any pointer with one kmem_page_of() and no search.
 *
 * Inside a slab, blocks [0, slab_carved) have been handed out at least once and the free ones
 * among them are on slab_freelist, an intrusive list through their first word. Blocks from
 * slab_carved on were never touched, so a new slab needs no set-up beyond its header.
 * slab_used has one bit per block handed out: with it, double frees and pointers into the
 * middle of a block are refused exactly and in O(1).
 *
 * A slab is on its bin's hb_partial list while it has both free blocks and blocks in use. A
 * full slab is on no list (a free finds it from the pointer). A slab whose last block is freed
 * becomes the bin's hb_empty if that is vacant and otherwise goes back to kmem, so each class
 * caches at most one empty slab: an alloc/free ping-pong at a slab boundary never calls kmem.
 *
 * Larger sizes, and alignments no class satisfies, get a kmem block of 2^order pages of their
 * own. Only its first page is marked. What kmem_page.heap_class says about a page:
 *
 *   0                     no heap block starts here (free page, someone else's, inside a
 *                         large block)
 *   1 .. HEAP_NCLASSES    a page of a slab of class heap_class - 1; heap_slab is the header
 *   HEAP_LARGE + order    first page of a large block of 2^order pages
 *
 * Fast paths: a small heap_alloc is a class computation, a list head load and a pop (or a
 * bump); heap_free is kmem_page_of, a multiply for the block index, a bit test and a push.
 * kmem is called only when a slab is created or released, and for large blocks.
 */
#include "kernel/heap.h"

#include <isle/errno.h>
#include <string.h>

#define HEAP_LARGE 0x100 /* heap_class of the first page of a large block is HEAP_LARGE + order */
#define HEAP_LARGE_MAX ((size_t)PAGE_SIZE << KMEM_MAX_ORDER) /* largest block heap_alloc serves */
#define SLAB_MAX_BLOCKS 256                                  /* capacity of slab_used */

/* A free block of a slab; only its first word is used. */
struct free_block {
	struct free_block *next; /* [o] next free block of the same slab, NULL at the end */
};

/* The header of a slab, in the last bytes of the slab's own pages. All fields [o]. */
struct slab {
	struct free_block *slab_freelist; /* [o] free blocks below slab_carved */
	char *slab_base;                  /* [o] block 0, the slab's first page */
	struct slab *slab_next;           /* [o] next slab on the bin's hb_partial list */
	struct slab *slab_prev;           /* [o] previous one, NULL if first */
	uint16_t slab_inuse;              /* [o] blocks handed out */
	uint16_t slab_carved;             /* [o] blocks [0, slab_carved) were ever handed out */
	uint8_t slab_class;               /* [o] index into size_classes[] */
	uint64_t slab_used[SLAB_MAX_BLOCKS / 64]; /* [o] bit i set iff block i is handed out */
};

/* One size class. The table is constant and shared by all cores. */
struct size_class {
	uint16_t size;  /* [I] bytes in a block */
	uint8_t order;  /* [I] a slab is 2^order pages */
	uint16_t nobj;  /* [I] blocks in a slab */
	uint32_t recip; /* [I] ceil(2^32 / size), see block_index() */
};

#define SLAB_NOBJ(size, order) ((((size_t)PAGE_SIZE << (order)) - sizeof(struct slab)) / (size))
#define CLASS(size, order)                                                   \
	{                                                                    \
		size, order, SLAB_NOBJ(size, order), UINT32_MAX / (size) + 1 \
	}

static const struct size_class size_classes[HEAP_NCLASSES] = {
	CLASS(16, 0),  CLASS(32, 0),   CLASS(48, 0),   CLASS(64, 0),   CLASS(96, 0),
	CLASS(128, 0), CLASS(192, 1),  CLASS(256, 1),  CLASS(384, 1),  CLASS(512, 2),
	CLASS(768, 2), CLASS(1024, 3), CLASS(1536, 3), CLASS(2048, 4),
};

/* The 16-byte class has the most blocks per slab; slabs stay below 64 KiB for block_index(). */
_Static_assert(SLAB_NOBJ(16, 0) <= SLAB_MAX_BLOCKS, "slab_used too small for the 16-byte class");
_Static_assert(((size_t)PAGE_SIZE << 4) <= 65536, "block_index() needs offsets below 2^16");
_Static_assert(HEAP_LARGE + KMEM_MAX_ORDER <= UINT16_MAX, "heap_class is 16 bits");

/*
 * The class of a size, 1 <= size <= HEAP_SMALL_MAX. Above 32 the classes are 2^k and
 * 1.5 * 2^k: class 2(k-5)+1 is 2^k and class 2(k-5)+2 is 1.5 * 2^k, for k >= 5.
 */
static inline unsigned size_class(size_t size)
{
	unsigned k;

	if (size <= 32)
		return size > 16;
	k = 63 - (unsigned)__builtin_clzll(size - 1); /* 2^k < size <= 2^(k+1), k >= 5 */
	if (size <= (size_t)3 << (k - 1))
		return 2 * (k - 5) + 2; /* 1.5 * 2^k */
	return 2 * (k - 5) + 3;         /* 2^(k+1) */
}

/*
 * off / size without a division. With recip = ceil(2^32 / size) = (2^32 + e) / size and
 * 0 <= e < size <= 2^11, off * recip / 2^32 = off / size + off * e / (size * 2^32), and the
 * second term is below 1 / size whenever off * e < 2^32, which holds for off < 2^16: the
 * floor is exact for every offset inside a slab of at most 64 KiB.
 */
static inline unsigned block_index(const struct size_class *sc, uintptr_t off)
{
	return (unsigned)(((uint64_t)off * sc->recip) >> 32);
}

/* Whether p is the start of a live block of slab s; if so, *index is its index. */
static bool slab_block(const struct slab *s, const struct size_class *sc, const void *p,
                       unsigned *index)
{
	uintptr_t off = (uintptr_t)p - (uintptr_t)s->slab_base;
	unsigned i;

	if (off >= (size_t)s->slab_carved * sc->size)
		return false;
	i = block_index(sc, off);
	if ((uintptr_t)i * sc->size != off || !((s->slab_used[i / 64] >> (i % 64)) & 1))
		return false;
	*index = i;
	return true;
}

static void bin_insert(struct heap_bin *bin, struct slab *s)
{
	s->slab_prev = NULL;
	s->slab_next = bin->hb_partial;
	if (s->slab_next)
		s->slab_next->slab_prev = s;
	bin->hb_partial = s;
}

static void bin_remove(struct heap_bin *bin, struct slab *s)
{
	if (s->slab_prev)
		s->slab_prev->slab_next = s->slab_next;
	else
		bin->hb_partial = s->slab_next;
	if (s->slab_next)
		s->slab_next->slab_prev = s->slab_prev;
	s->slab_next = s->slab_prev = NULL;
}

/* 2^order pages from kmem; when kmem is out, give back the cached empty slabs and retry once. */
static void *pages_alloc(struct heap *h, unsigned order)
{
	void *p = kmem_alloc(h->heap_kmem, order);

	if (unlikely(!p)) {
		heap_trim(h);
		p = kmem_alloc(h->heap_kmem, order);
	}
	return p;
}

/* Mark every page of a slab with its class and header, or (c = -1) unmark them. */
static void slab_mark(struct heap *h, struct slab *s, int c)
{
	size_t bytes = (size_t)PAGE_SIZE << size_classes[s->slab_class].order;

	for (size_t off = 0; off < bytes; off += PAGE_SIZE) {
		struct kmem_page *pg = kmem_page_of(h->heap_kmem, s->slab_base + off);

		pg->heap_class = (uint16_t)(c + 1);
		pg->heap_slab = c < 0 ? NULL : s;
	}
}

static struct slab *slab_create(struct heap *h, unsigned c)
{
	const struct size_class *sc = &size_classes[c];
	size_t bytes = (size_t)PAGE_SIZE << sc->order;
	char *base = pages_alloc(h, sc->order);
	struct slab *s;

	if (!base)
		return NULL;
	s = (struct slab *)(base + bytes - sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->slab_base = base;
	s->slab_class = (uint8_t)c;
	slab_mark(h, s, (int)c);
	return s;
}

static void slab_release(struct heap *h, struct slab *s)
{
	char *base = s->slab_base;

	slab_mark(h, s, -1);
	/* Cannot fail: the slab is a live kmem block of exactly this order. */
	(void)kmem_free(h->heap_kmem, base, size_classes[s->slab_class].order);
}

static inline void account_alloc(struct heap *h, size_t bytes)
{
	h->heap_bytes_in_use += bytes;
	h->heap_blocks_in_use++;
	h->heap_allocs++;
}

static inline void account_free(struct heap *h, size_t bytes)
{
	h->heap_bytes_in_use -= bytes;
	h->heap_blocks_in_use--;
	h->heap_frees++;
}

static void *small_alloc(struct heap *h, unsigned c)
{
	const struct size_class *sc = &size_classes[c];
	struct heap_bin *bin = &h->heap_bins[c];
	struct slab *s = bin->hb_partial;
	unsigned i;
	void *p;

	if (unlikely(!s)) {
		/* No slab with room: take the cached empty one, or a new one. */
		s = bin->hb_empty;
		bin->hb_empty = NULL;
		if (!s && !(s = slab_create(h, c)))
			return NULL;
		bin_insert(bin, s);
	}
	if (s->slab_freelist) {
		p = s->slab_freelist;
		s->slab_freelist = s->slab_freelist->next;
		i = block_index(sc, (uintptr_t)p - (uintptr_t)s->slab_base);
	} else {
		i = s->slab_carved++;
		p = s->slab_base + (size_t)i * sc->size;
	}
	s->slab_used[i / 64] |= (uint64_t)1 << (i % 64);
	if (++s->slab_inuse == sc->nobj)
		bin_remove(bin, s); /* full */
	account_alloc(h, sc->size);
	return p;
}

static int small_free(struct heap *h, struct slab *s, void *p)
{
	const struct size_class *sc = &size_classes[s->slab_class];
	struct heap_bin *bin = &h->heap_bins[s->slab_class];
	struct free_block *fb = p;
	unsigned i;

	if (unlikely(!slab_block(s, sc, p, &i)))
		return -EINVAL;
	s->slab_used[i / 64] &= ~((uint64_t)1 << (i % 64));
	fb->next = s->slab_freelist;
	s->slab_freelist = fb;
	if (s->slab_inuse == sc->nobj)
		bin_insert(bin, s); /* was full, has room again */
	if (--s->slab_inuse == 0) {
		bin_remove(bin, s);
		if (!bin->hb_empty)
			bin->hb_empty = s;
		else
			slab_release(h, s);
	}
	account_free(h, sc->size);
	return 0;
}

static void *large_alloc(struct heap *h, size_t size)
{
	size_t pages;
	unsigned order;
	void *p;

	if (unlikely(size > HEAP_LARGE_MAX))
		return NULL;
	pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	order = pages > 1 ? 64 - (unsigned)__builtin_clzll(pages - 1) : 0;
	p = pages_alloc(h, order);
	if (!p)
		return NULL;
	kmem_page_of(h->heap_kmem, p)->heap_class = (uint16_t)(HEAP_LARGE + order);
	account_alloc(h, (size_t)PAGE_SIZE << order);
	return p;
}

static int large_free(struct heap *h, struct kmem_page *pg, void *p)
{
	unsigned order = pg->heap_class - HEAP_LARGE;
	int err;

	if ((uintptr_t)p % PAGE_SIZE)
		return -EINVAL;
	pg->heap_class = 0;
	err = kmem_free(h->heap_kmem, p, order);
	if (unlikely(err)) {
		pg->heap_class = (uint16_t)(HEAP_LARGE + order);
		return err;
	}
	account_free(h, (size_t)PAGE_SIZE << order);
	return 0;
}

void heap_init(struct heap *h, struct kmem *km)
{
	memset(h, 0, sizeof(*h));
	h->heap_kmem = km;
}

void *heap_alloc(struct heap *h, size_t size)
{
	void *p;

	if (likely(size <= HEAP_SMALL_MAX))
		p = small_alloc(h, size_class(size ? size : 1));
	else
		p = large_alloc(h, size);
	if (unlikely(!p))
		h->heap_failed++;
	return p;
}

void *heap_alloc_aligned(struct heap *h, size_t size, size_t align)
{
	void *p = NULL;

	if (align == 0 || (align & (align - 1)) || align > PAGE_SIZE)
		goto out;
	if (size <= HEAP_SMALL_MAX) {
		/* The first class at least as large whose blocks are aligned enough. */
		for (unsigned c = size_class(size ? size : 1); c < HEAP_NCLASSES; c++) {
			if ((size_classes[c].size & (align - 1)) == 0) {
				p = small_alloc(h, c);
				goto out;
			}
		}
	}
	p = large_alloc(h, size); /* page aligned */
out:
	if (unlikely(!p))
		h->heap_failed++;
	return p;
}

int heap_free(struct heap *h, void *p)
{
	struct kmem_page *pg;

	if (!p)
		return 0;
	pg = kmem_page_of(h->heap_kmem, p);
	if (unlikely(!pg || pg->heap_class == 0))
		return -EINVAL;
	if (pg->heap_class >= HEAP_LARGE)
		return large_free(h, pg, p);
	return small_free(h, pg->heap_slab, p);
}

size_t heap_usable_size(struct heap *h, const void *p)
{
	struct kmem_page *pg = kmem_page_of(h->heap_kmem, p);
	const struct slab *s;
	unsigned i;

	if (!pg || pg->heap_class == 0)
		return 0;
	if (pg->heap_class >= HEAP_LARGE) {
		if ((uintptr_t)p % PAGE_SIZE)
			return 0;
		return (size_t)PAGE_SIZE << (pg->heap_class - HEAP_LARGE);
	}
	s = pg->heap_slab;
	if (!slab_block(s, &size_classes[s->slab_class], p, &i))
		return 0;
	return size_classes[s->slab_class].size;
}

void heap_stats(const struct heap *h, struct heap_stats *out)
{
	out->bytes_in_use = h->heap_bytes_in_use;
	out->blocks_in_use = h->heap_blocks_in_use;
	out->allocs = h->heap_allocs;
	out->frees = h->heap_frees;
	out->failed = h->heap_failed;
}

void heap_trim(struct heap *h)
{
	for (unsigned c = 0; c < HEAP_NCLASSES; c++) {
		if (h->heap_bins[c].hb_empty) {
			slab_release(h, h->heap_bins[c].hb_empty);
			h->heap_bins[c].hb_empty = NULL;
		}
	}
}
