/*
 * test_kmem.c - host tests of the buddy page allocator (kernel/kmem.c).
 *
 * Regions come from aligned_alloc; one test maps 3 GiB without reserving it to reach the
 * largest order. kmem never writes into the pages it manages, so only the metadata and the
 * pages a test fills are ever touched.
 */
#include "kernel/kmem.h"

#include <isle/errno.h>
#include <stdint.h>
#include <sys/mman.h>

#include "tests/unit/test.h"

#define REGION_LEN (32u << 20)

static void *region_new(void)
{
	void *r = aligned_alloc(PAGE_SIZE, REGION_LEN);

	if (!r) {
		fprintf(stderr, "aligned_alloc failed\n");
		exit(1);
	}
	return r;
}

/* Number of free blocks of each order, read from the free lists. */
static void free_blocks(const struct kmem *km, size_t counts[KMEM_MAX_ORDER + 1])
{
	for (unsigned k = 0; k <= KMEM_MAX_ORDER; k++) {
		counts[k] = 0;
		for (const struct kmem_page *pg = km->kmem_free_list[k]; pg; pg = pg->kp_next)
			counts[k]++;
	}
}

/* Carves every page (kmem carves lazily) by taking them all and giving them back. */
static void settle(struct kmem *km)
{
	size_t n = kmem_free_pages(km), i = 0;
	void **pages = calloc(n + 1, sizeof(*pages));

	if (!pages)
		exit(1);
	while (i < n && (pages[i] = kmem_alloc(km, 0)))
		i++;
	while (i > 0)
		kmem_free(km, pages[--i], 0);
	free(pages);
}

static bool same_free_blocks(const struct kmem *km, const size_t want[KMEM_MAX_ORDER + 1])
{
	size_t now[KMEM_MAX_ORDER + 1];

	free_blocks(km, now);
	return memcmp(now, want, sizeof(now)) == 0;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: fixed seeds make every run the same. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

TEST(init_rejects_small_regions)
{
	struct kmem km;
	char *r = region_new();
	uintptr_t b = (uintptr_t)r;

	CHECK_EQ(kmem_init(&km, b, 0), -ENOMEM);
	CHECK_EQ(kmem_init(&km, b, PAGE_SIZE), -ENOMEM);
	CHECK_EQ(kmem_init(&km, b + 1, 2 * PAGE_SIZE), -ENOMEM); /* only one whole page */
	CHECK_EQ(kmem_init(&km, UINTPTR_MAX - PAGE_SIZE, 2 * PAGE_SIZE), -EINVAL);
	CHECK_EQ(kmem_init(&km, b, 2 * PAGE_SIZE), 0);
	CHECK_EQ(kmem_total_pages(&km), 1);
	CHECK_EQ(kmem_free_pages(&km), 1);
	void *p = kmem_alloc(&km, 0);
	CHECK(p == r + PAGE_SIZE);
	CHECK(kmem_alloc(&km, 0) == NULL);
	CHECK_EQ(kmem_free(&km, p, 0), 0);
	free(r);
}

TEST(init_unaligned_region)
{
	struct kmem km;
	char *r = region_new();
	uintptr_t b = (uintptr_t)r + 100;
	size_t len = REGION_LEN - 300;
	size_t total;

	REQUIRE(kmem_init(&km, b, len) == 0);
	total = kmem_total_pages(&km);
	CHECK_EQ(kmem_free_pages(&km), total);
	CHECK(!kmem_owns(&km, r + REGION_LEN - PAGE_SIZE - 1)); /* not carved yet */
	settle(&km);
	CHECK_EQ(kmem_free_pages(&km), total);
	/* The metadata takes 32 bytes per page, so a little under 1% of the pages. */
	CHECK(total < REGION_LEN / PAGE_SIZE - 2);
	CHECK(total > (REGION_LEN / PAGE_SIZE - 2) * 99 / 100);
	CHECK(!kmem_owns(&km, r));
	CHECK(!kmem_owns(&km, (void *)b));
	CHECK(!kmem_owns(&km, r + REGION_LEN - 1));
	/* The managed pages end on the last whole page and start right after the metadata. */
	CHECK(kmem_owns(&km, r + REGION_LEN - PAGE_SIZE - 1));
	const struct kmem_span *sp = &km.kmem_spans[0];
	CHECK_EQ(km.kmem_nspans, 1);
	CHECK((uintptr_t)sp->ks_pages == (uintptr_t)r + PAGE_SIZE);
	CHECK(sp->ks_first_pfn * PAGE_SIZE >= (uintptr_t)(sp->ks_pages + total));
	CHECK(sp->ks_first_pfn * PAGE_SIZE - (uintptr_t)(sp->ks_pages + total) < PAGE_SIZE);
	free(r);
}

TEST(every_order)
{
	struct kmem km;
	char *r = region_new();
	size_t base;

	REQUIRE(kmem_init(&km, (uintptr_t)r, REGION_LEN) == 0);
	base = kmem_free_pages(&km);
	for (unsigned k = 0; k <= KMEM_MAX_ORDER + 1; k++) {
		size_t bytes = (size_t)PAGE_SIZE << k;
		char *p = kmem_alloc(&km, k);

		if (k > KMEM_MAX_ORDER || bytes > REGION_LEN) {
			CHECK(p == NULL);
			CHECK_EQ(kmem_free_pages(&km), base);
			continue;
		}
		/* Any range of length L holds an aligned power-of-two block of at least L / 4. */
		if (bytes <= REGION_LEN / 4)
			CHECK(p != NULL);
		if (!p)
			continue;
		CHECK_EQ((uintptr_t)p % bytes, 0);
		CHECK(kmem_owns(&km, p) && kmem_owns(&km, p + bytes - 1));
		CHECK_EQ(kmem_free_pages(&km), base - ((size_t)1 << k));
		memset(p, 0xa5, bytes);
		CHECK_EQ(kmem_free(&km, p, k), 0);
		CHECK_EQ(kmem_free_pages(&km), base);
	}
	free(r);
}

TEST(largest_order_block)
{
	const size_t len = (size_t)3 << 30;
	struct kmem km;
	char *r = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *p;

	if (r == MAP_FAILED) {
		fprintf(stderr, "  cannot map 3 GiB, skipping the 1 GiB block\n");
		return;
	}
	REQUIRE(kmem_init(&km, (uintptr_t)r, len) == 0);
	p = kmem_alloc(&km, KMEM_MAX_ORDER);
	CHECK(p != NULL);
	CHECK_EQ((uintptr_t)p % ((size_t)PAGE_SIZE << KMEM_MAX_ORDER), 0);
	CHECK(kmem_alloc(&km, KMEM_MAX_ORDER + 1) == NULL);
	p[0] = 1;
	p[((size_t)PAGE_SIZE << KMEM_MAX_ORDER) - 1] = 2;
	CHECK_EQ(kmem_free(&km, p, KMEM_MAX_ORDER - 1), -EINVAL);
	CHECK_EQ(kmem_free(&km, p, KMEM_MAX_ORDER), 0);
	CHECK_EQ(kmem_free_pages(&km), kmem_total_pages(&km));
	munmap(r, len);
}

TEST(coalesce_after_freeing_everything)
{
	struct kmem km;
	char *r = region_new();
	size_t before[KMEM_MAX_ORDER + 1], total, n = 0;
	void **pages;

	REQUIRE(kmem_init(&km, (uintptr_t)r, REGION_LEN) == 0);
	settle(&km);
	free_blocks(&km, before);
	total = kmem_total_pages(&km);
	pages = calloc(total, sizeof(*pages));
	REQUIRE(pages);
	while (n < total && (pages[n] = kmem_alloc(&km, 0)))
		n++;
	CHECK_EQ(n, total);
	CHECK_EQ(kmem_free_pages(&km), 0);
	CHECK(kmem_alloc(&km, 0) == NULL);
	CHECK(kmem_alloc(&km, 5) == NULL);
	/* Free in a shuffled order, so merges happen in every pattern. */
	rng_state = 42;
	for (size_t i = n; i > 1; i--) {
		size_t j = rng() % i;
		void *t = pages[i - 1];
		pages[i - 1] = pages[j];
		pages[j] = t;
	}
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(kmem_free(&km, pages[i], 0), 0);
	CHECK_EQ(kmem_free_pages(&km), total);
	CHECK(same_free_blocks(&km, before));
	free(pages);
	free(r);
}

TEST(exhaustion_then_recovery)
{
	struct kmem km;
	char *r = region_new();
	void *blocks[REGION_LEN / (8 * PAGE_SIZE)];
	size_t before[KMEM_MAX_ORDER + 1], n = 0;

	REQUIRE(kmem_init(&km, (uintptr_t)r, REGION_LEN) == 0);
	settle(&km);
	free_blocks(&km, before);
	while ((blocks[n] = kmem_alloc(&km, 3)))
		n++;
	CHECK(n > 0);
	CHECK(kmem_alloc(&km, 3) == NULL);
	CHECK_EQ(km.kmem_nonempty >> 3, 0);
	CHECK(kmem_free_pages(&km) < 16); /* odd pages at the two ends */
	/* Smaller blocks still come from what is left at the ends of the region. */
	if (kmem_free_pages(&km) > 0) {
		void *p = kmem_alloc(&km, 0);
		CHECK(p != NULL);
		CHECK_EQ(kmem_free(&km, p, 0), 0);
	}
	CHECK_EQ(kmem_free(&km, blocks[n / 2], 3), 0);
	void *again = kmem_alloc(&km, 3);
	CHECK(again == blocks[n / 2]);
	CHECK(kmem_alloc(&km, 3) == NULL);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(kmem_free(&km, blocks[i], 3), 0);
	CHECK_EQ(kmem_free_pages(&km), kmem_total_pages(&km));
	CHECK(same_free_blocks(&km, before));
	free(r);
}

TEST(bad_frees_are_refused)
{
	struct kmem km;
	char *r = region_new();
	char *other = region_new();
	int on_stack;
	char *p, *q;
	size_t base;

	REQUIRE(kmem_init(&km, (uintptr_t)r, REGION_LEN) == 0);
	base = kmem_free_pages(&km);
	p = kmem_alloc(&km, 2);
	q = kmem_alloc(&km, 0);
	REQUIRE(p && q);

	CHECK_EQ(kmem_free(&km, NULL, 0), -EINVAL);
	CHECK_EQ(kmem_free(&km, &on_stack, 0), -EINVAL);
	CHECK_EQ(kmem_free(&km, other, 0), -EINVAL);
	CHECK_EQ(kmem_free(&km, r, 0), -EINVAL);             /* the metadata */
	CHECK_EQ(kmem_free(&km, p + 1, 2), -EINVAL);         /* not page aligned */
	CHECK_EQ(kmem_free(&km, p + PAGE_SIZE, 0), -EINVAL); /* inside the block */
	CHECK_EQ(kmem_free(&km, p, 1), -EINVAL);             /* wrong order */
	CHECK_EQ(kmem_free(&km, p, 3), -EINVAL);
	CHECK_EQ(kmem_free(&km, p, KMEM_MAX_ORDER + 1), -EINVAL);
	CHECK_EQ(kmem_free(&km, p, 100), -EINVAL);
	CHECK_EQ(kmem_free(&km, q + PAGE_SIZE, 0), -EINVAL); /* a free page */
	CHECK_EQ(kmem_free_pages(&km), base - 5);

	CHECK_EQ(kmem_free(&km, p, 2), 0);
	CHECK_EQ(kmem_free(&km, p, 2), -EINVAL); /* double free */
	CHECK_EQ(kmem_free(&km, q, 0), 0);
	CHECK_EQ(kmem_free(&km, q, 0), -EINVAL); /* double free after merging */
	CHECK_EQ(kmem_free(&km, p, 2), -EINVAL);
	CHECK_EQ(kmem_free_pages(&km), base);
	free(other);
	free(r);
}

TEST(page_of_and_owns)
{
	struct kmem a, b;
	char *ra = region_new(), *rb = region_new();
	char *p, *q;

	REQUIRE(kmem_init(&a, (uintptr_t)ra, REGION_LEN) == 0);
	REQUIRE(kmem_init(&b, (uintptr_t)rb, REGION_LEN) == 0);
	p = kmem_alloc(&a, 1);
	q = kmem_alloc(&b, 0);
	REQUIRE(p && q);
	CHECK(kmem_owns(&a, p) && !kmem_owns(&b, p));
	CHECK(kmem_owns(&b, q) && !kmem_owns(&a, q));
	CHECK(kmem_page_of(&b, p) == NULL);
	CHECK(kmem_page_of(&a, q) == NULL);
	CHECK(kmem_page_of(&a, NULL) == NULL);
	CHECK(kmem_page_of(&a, ra) == NULL);
	CHECK(kmem_page_of(&a, p) != NULL);
	CHECK(kmem_page_of(&a, p + PAGE_SIZE - 1) == kmem_page_of(&a, p));
	CHECK(kmem_page_of(&a, p + PAGE_SIZE + 7) == kmem_page_of(&a, p) + 1);
	CHECK_EQ(kmem_page_of(&a, p)->heap_class, 0);
	CHECK(kmem_page_of(&a, p)->heap_slab == NULL);
	/* The heap fields are the user's: kmem keeps them through free and alloc. */
	kmem_page_of(&a, p)->heap_class = 7;
	CHECK_EQ(kmem_free(&a, p, 1), 0);
	CHECK_EQ(kmem_page_of(&a, p)->heap_class, 7);
	kmem_page_of(&a, p)->heap_class = 0;
	CHECK_EQ(kmem_free(&a, q, 0), -EINVAL);
	CHECK_EQ(kmem_free(&b, q, 0), 0);
	free(ra);
	free(rb);
}

/*
 * Randomized stress against a shadow list of live blocks. Each block is filled with a tag;
 * any overlap between two blocks would overwrite one of them, so every block is checked
 * when freed, and the whole set is checked for pairwise overlap now and then.
 */
struct live {
	uint64_t *p;    /* the block */
	unsigned order; /* its order */
	uint64_t tag;   /* the word it is filled with */
};

static void fill(struct live *l)
{
	size_t words = ((size_t)PAGE_SIZE << l->order) / sizeof(uint64_t);

	for (size_t i = 0; i < words; i++)
		l->p[i] = l->tag ^ i;
}

static bool intact(const struct live *l)
{
	size_t words = ((size_t)PAGE_SIZE << l->order) / sizeof(uint64_t);

	for (size_t i = 0; i < words; i++)
		if (l->p[i] != (l->tag ^ i))
			return false;
	return true;
}

static int by_address(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct live *)a)->p;
	uintptr_t y = (uintptr_t)((const struct live *)b)->p;

	return x < y ? -1 : x > y;
}

static bool disjoint(struct live *live, size_t n)
{
	qsort(live, n, sizeof(*live), by_address);
	for (size_t i = 1; i < n; i++)
		if ((uintptr_t)live[i - 1].p + ((size_t)PAGE_SIZE << live[i - 1].order) >
		    (uintptr_t)live[i].p)
			return false;
	return true;
}

static void stress(uint64_t seed, unsigned ops, bool lazy)
{
	enum { MAX_LIVE = 3000 };
	static struct live live[MAX_LIVE];
	struct kmem km;
	char *r = region_new();
	size_t before[KMEM_MAX_ORDER + 1], n = 0, used = 0;
	unsigned nulls = 0;

	rng_state = seed;
	REQUIRE(kmem_init(&km, (uintptr_t)r, REGION_LEN) == 0);
	if (lazy) { /* the blocks a fully carved allocator of this region has */
		struct kmem ref;
		REQUIRE(kmem_init(&ref, (uintptr_t)r, REGION_LEN) == 0);
		settle(&ref);
		free_blocks(&ref, before);
		REQUIRE(kmem_init(&km, (uintptr_t)r, REGION_LEN) == 0);
	} else {
		settle(&km);
		free_blocks(&km, before);
	}
	for (unsigned op = 0; op < ops; op++) {
		uint64_t x = rng();

		/* Phases of mostly allocating (to exhaustion) and mostly freeing. */
		bool grow = (op / 5000) % 2 == 0;

		if (n < MAX_LIVE && (n == 0 || ((x & 3) != 0) == grow)) {
			/* Orders 0..6, smaller ones more likely. */
			unsigned order = (unsigned)__builtin_ctzll((x >> 8) | (1ull << 6));
			struct live *l = &live[n];

			l->p = kmem_alloc(&km, order);
			if (!l->p) {
				/* Legitimate only if no free block is large enough. */
				CHECK_EQ(km.kmem_nonempty >> order, 0);
				nulls++;
				continue;
			}
			l->order = order;
			l->tag = x;
			CHECK_EQ((uintptr_t)l->p % ((size_t)PAGE_SIZE << order), 0);
			CHECK(kmem_owns(&km, l->p));
			fill(l);
			used += (size_t)1 << order;
			n++;
		} else {
			size_t i = (x >> 8) % n;

			CHECK(intact(&live[i]));
			CHECK_EQ(kmem_free(&km, live[i].p, live[i].order), 0);
			used -= (size_t)1 << live[i].order;
			live[i] = live[--n];
		}
		CHECK_EQ(kmem_free_pages(&km), kmem_total_pages(&km) - used);
		if (op % 10000 == 0)
			CHECK(disjoint(live, n));
	}
	CHECK(disjoint(live, n));
	CHECK(nulls > 0); /* the region was filled at least once */
	for (size_t i = 0; i < n; i++) {
		CHECK(intact(&live[i]));
		CHECK_EQ(kmem_free(&km, live[i].p, live[i].order), 0);
	}
	CHECK_EQ(kmem_free_pages(&km), kmem_total_pages(&km));
	if (lazy)
		settle(&km);
	CHECK(same_free_blocks(&km, before));
	free(r);
}

/* Several spans: one allocator, blocks from each, never a block across two of them. */
TEST(spans)
{
	struct kmem km;
	char *r = region_new();
	const size_t third = REGION_LEN / 4; /* three spans with gaps of a quarter between */

	REQUIRE(kmem_init(&km, 0, 0) == 0);
	CHECK_EQ(kmem_total_pages(&km), 0);
	CHECK(kmem_alloc(&km, 0) == NULL);
	/* Added out of order, adjacent to each other for the first two: still separate spans. */
	REQUIRE(kmem_add_span(&km, (uintptr_t)r + 2 * third, third) == 0);
	REQUIRE(kmem_add_span(&km, (uintptr_t)r, third) == 0);
	REQUIRE(kmem_add_span(&km, (uintptr_t)r + third, third) == 0);
	CHECK_EQ(km.kmem_nspans, 3);
	CHECK(km.kmem_spans[0].ks_first_pfn < km.kmem_spans[1].ks_first_pfn);
	CHECK(km.kmem_spans[1].ks_first_pfn < km.kmem_spans[2].ks_first_pfn);
	/* Overlaps are refused. */
	CHECK_EQ(kmem_add_span(&km, (uintptr_t)r + third / 2, third), -EINVAL);
	CHECK_EQ(kmem_add_span(&km, (uintptr_t)r + 3 * third - PAGE_SIZE, third), -EINVAL);
	size_t total = kmem_total_pages(&km);
	CHECK_EQ(kmem_free_pages(&km), total);

	/* Take everything in order-4 blocks, then every single page left: all of it is handed
	 * out, and no order-4 block crosses from one span into the next. */
	void **blocks = calloc(total + 1, sizeof(*blocks));
	unsigned *orders = calloc(total + 1, sizeof(*orders));
	size_t n = 0, got = 0;
	REQUIRE(blocks && orders);
	for (unsigned k = 4;; k = 0) {
		while ((blocks[n] = kmem_alloc(&km, k))) {
			orders[n++] = k;
			got += (size_t)1 << k;
		}
		if (k == 0)
			break;
	}
	CHECK_EQ(got, total);
	CHECK_EQ(kmem_free_pages(&km), 0);
	for (size_t i = 0; i < n; i++) {
		char *b = blocks[i];
		size_t bytes = (size_t)PAGE_SIZE << orders[i];
		int spans_hit = 0;
		for (unsigned j = 0; j < km.kmem_nspans; j++) {
			const struct kmem_span *sp = &km.kmem_spans[j];
			uintptr_t lo = sp->ks_first_pfn * PAGE_SIZE;
			uintptr_t hi = lo + sp->ks_npages * PAGE_SIZE;
			if ((uintptr_t)b < hi && (uintptr_t)b + bytes > lo) {
				spans_hit++;
				CHECK((uintptr_t)b >= lo && (uintptr_t)b + bytes <= hi);
			}
		}
		CHECK_EQ(spans_hit, 1);
	}
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(kmem_free(&km, blocks[i], orders[i]), 0);
	CHECK_EQ(kmem_free_pages(&km), total);
	free(blocks);
	free(orders);

	/* At most KMEM_MAX_SPANS spans. */
	struct kmem many;
	REQUIRE(kmem_init(&many, 0, 0) == 0);
	for (unsigned i = 0; i < KMEM_MAX_SPANS; i++)
		CHECK_EQ(kmem_add_span(&many, (uintptr_t)r + i * (64 * PAGE_SIZE), 64 * PAGE_SIZE),
		         0);
	CHECK_EQ(kmem_add_span(&many, (uintptr_t)r + REGION_LEN / 2, 64 * PAGE_SIZE), -ENOSPC);
	free(r);
}

/*
 * Adding memory costs nothing per page: the metadata is written only when pages are first
 * carved, 2 MiB worth at a time. A 1 TiB span is added without touching its metadata, and the
 * first small allocation writes the metadata of 512 pages only.
 */
TEST(carving_is_lazy)
{
	const size_t len = (size_t)1 << 40;
	struct kmem km;
	char *r = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (r == MAP_FAILED) {
		fprintf(stderr, "  cannot map 1 TiB of address space, skipping\n");
		return;
	}
	/* Poison the first metadata pages (touching only what we poison). */
	memset(r, 0xa5, 64 * PAGE_SIZE);
	REQUIRE(kmem_init(&km, (uintptr_t)r, len) == 0);
	CHECK_EQ(kmem_free_pages(&km), kmem_total_pages(&km));
	CHECK((unsigned char)r[0] == 0xa5); /* nothing written yet */
	void *p = kmem_alloc(&km, 0);
	REQUIRE(p != NULL);
	const struct kmem_span *sp = &km.kmem_spans[0];
	CHECK(sp->ks_ready <= 2 * 512);
	/* The metadata past what was carved is untouched. */
	const unsigned char *meta_end = (const unsigned char *)(sp->ks_pages + sp->ks_ready);
	CHECK(*meta_end == 0xa5);
	CHECK_EQ(kmem_free_pages(&km), kmem_total_pages(&km) - 1);
	CHECK_EQ(kmem_free(&km, p, 0), 0);
	CHECK_EQ(kmem_free_pages(&km), kmem_total_pages(&km));
	/* A 1 GiB block needs its own metadata only (8 MiB of it), carved 2 MiB at a time and
	 * merged as it goes. */
	p = kmem_alloc(&km, KMEM_MAX_ORDER);
	CHECK(p != NULL);
	CHECK(sp->ks_ready <= ((size_t)2 << KMEM_MAX_ORDER) + 512);
	CHECK_EQ(kmem_free(&km, p, KMEM_MAX_ORDER), 0);
	munmap(r, len);
}

TEST(stress_seed_1)
{
	stress(1, 100000, false);
}

/* The same on an allocator that starts uncarved: carving interleaves with the traffic. */
TEST(stress_lazy)
{
	stress(7, 100000, true);
}

TEST(stress_seed_2)
{
	stress(0x9e3779b97f4a7c15ull, 100000, false);
}

int main(void)
{
	RUN(init_rejects_small_regions);
	RUN(init_unaligned_region);
	RUN(every_order);
	RUN(largest_order_block);
	RUN(coalesce_after_freeing_everything);
	RUN(exhaustion_then_recovery);
	RUN(bad_frees_are_refused);
	RUN(page_of_and_owns);
	RUN(spans);
	RUN(carving_is_lazy);
	RUN(stress_seed_1);
	RUN(stress_seed_2);
	RUN(stress_lazy);
	TEST_EXIT();
}
