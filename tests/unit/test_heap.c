/*
 * test_heap.c - host tests of the size-class heap (kernel/heap.c) over kernel/kmem.c.
 *
 * Each test builds a kmem over a region from aligned_alloc and a heap on top, and checks
 * that the heap's counters and kmem's free page count come back to where they started.
 */
#include "kernel/heap.h"

#include <isle/errno.h>
#include <stdint.h>

#include "tests/unit/test.h"

#define REGION_LEN (32u << 20)

static const size_t classes[HEAP_NCLASSES] = {
	16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048,
};

struct core {
	char *region;   /* the core's private memory */
	struct kmem km; /* its page allocator */
	struct heap h;  /* its heap */
	size_t base;    /* kmem free pages right after heap_init */
};

static void core_init(struct core *c)
{
	c->region = aligned_alloc(PAGE_SIZE, REGION_LEN);
	if (!c->region || kmem_init(&c->km, (uintptr_t)c->region, REGION_LEN) != 0) {
		fprintf(stderr, "cannot set up a region\n");
		exit(1);
	}
	heap_init(&c->h, &c->km);
	c->base = kmem_free_pages(&c->km);
}

/* Everything freed: counters at zero in use, and every page back in kmem after a trim. */
static bool core_idle(struct core *c)
{
	struct heap_stats st;

	heap_stats(&c->h, &st);
	if (st.bytes_in_use != 0 || st.blocks_in_use != 0 || st.allocs != st.frees)
		return false;
	heap_trim(&c->h);
	return kmem_free_pages(&c->km) == c->base;
}

static void core_fini(struct core *c)
{
	free(c->region);
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

/* The usable size heap_alloc(size) must give: the smallest class, or power-of-two pages. */
static size_t expected_usable(size_t size)
{
	size_t bytes = PAGE_SIZE;

	for (unsigned c = 0; c < HEAP_NCLASSES; c++)
		if (size <= classes[c])
			return classes[c];
	while (bytes < size)
		bytes *= 2;
	return bytes;
}

TEST(every_size_to_its_class)
{
	struct core c;
	struct heap_stats st;

	core_init(&c);
	for (size_t size = 0; size <= 3 * PAGE_SIZE; size++) {
		char *p = heap_alloc(&c.h, size);

		REQUIRE(p != NULL);
		CHECK_EQ((uintptr_t)p % 16, 0);
		CHECK_EQ(heap_usable_size(&c.h, p), expected_usable(size ? size : 1));
		heap_stats(&c.h, &st);
		CHECK_EQ(st.bytes_in_use, expected_usable(size ? size : 1));
		CHECK_EQ(st.blocks_in_use, 1);
		memset(p, 0x5a, heap_usable_size(&c.h, p));
		CHECK_EQ(heap_free(&c.h, p), 0);
	}
	heap_stats(&c.h, &st);
	CHECK_EQ(st.allocs, 3 * PAGE_SIZE + 1);
	CHECK_EQ(st.frees, 3 * PAGE_SIZE + 1);
	CHECK_EQ(st.failed, 0);
	CHECK(core_idle(&c));
	core_fini(&c);
}

TEST(zero_size_blocks_are_unique)
{
	enum { N = 1000 };
	struct core c;
	static char *p[N];

	core_init(&c);
	for (int i = 0; i < N; i++) {
		p[i] = heap_alloc(&c.h, 0);
		REQUIRE(p[i] != NULL);
		if (i > 0)
			CHECK(p[i] != p[i - 1]);
		p[i][0] = (char)i;
	}
	for (int i = 0; i < N; i++) {
		CHECK_EQ(p[i][0], (char)i);
		CHECK_EQ(heap_free(&c.h, p[i]), 0);
	}
	CHECK(core_idle(&c));
	core_fini(&c);
}

TEST(huge_sizes_fail_cleanly)
{
	struct core c;
	struct heap_stats st;
	const size_t huge[] = {
		SIZE_MAX,     SIZE_MAX - 1,    SIZE_MAX - PAGE_SIZE,
		SIZE_MAX / 2, (size_t)1 << 40, ((size_t)PAGE_SIZE << KMEM_MAX_ORDER) + 1,
		REGION_LEN,
	};

	core_init(&c);
	for (size_t i = 0; i < ARRAY_SIZE(huge); i++) {
		CHECK(heap_alloc(&c.h, huge[i]) == NULL);
		CHECK(heap_alloc_aligned(&c.h, huge[i], PAGE_SIZE) == NULL);
		CHECK(heap_alloc_aligned(&c.h, huge[i], 16) == NULL);
	}
	heap_stats(&c.h, &st);
	CHECK_EQ(st.failed, 3 * ARRAY_SIZE(huge));
	CHECK_EQ(st.allocs, 0);
	CHECK_EQ(kmem_free_pages(&c.km), c.base);
	void *p = heap_alloc(&c.h, 100);
	CHECK(p != NULL);
	CHECK_EQ(heap_free(&c.h, p), 0);
	CHECK(core_idle(&c));
	core_fini(&c);
}

TEST(aligned_allocations)
{
	struct core c;
	const size_t sizes[] = { 0, 1, 15, 16, 17, 40, 64, 100, 500, 1000, 2047, 2048, 2049, 5000 };

	core_init(&c);
	for (size_t align = 1; align <= PAGE_SIZE; align *= 2) {
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			char *p[3];

			for (int k = 0; k < 3; k++) {
				p[k] = heap_alloc_aligned(&c.h, sizes[i], align);
				REQUIRE(p[k] != NULL);
				CHECK_EQ((uintptr_t)p[k] % align, 0);
				CHECK_EQ((uintptr_t)p[k] % 16, 0);
				CHECK(heap_usable_size(&c.h, p[k]) >= sizes[i]);
				memset(p[k], 0x11, heap_usable_size(&c.h, p[k]));
			}
			for (int k = 0; k < 3; k++)
				CHECK_EQ(heap_free(&c.h, p[k]), 0);
		}
	}
	/* Cache-line aligned small blocks come from the 64-byte class, not from whole pages. */
	void *line = heap_alloc_aligned(&c.h, 40, CACHELINE);
	CHECK_EQ(heap_usable_size(&c.h, line), 64);
	CHECK_EQ(heap_free(&c.h, line), 0);

	CHECK(heap_alloc_aligned(&c.h, 16, 0) == NULL);
	CHECK(heap_alloc_aligned(&c.h, 16, 3) == NULL);
	CHECK(heap_alloc_aligned(&c.h, 16, 48) == NULL);
	CHECK(heap_alloc_aligned(&c.h, 16, 2 * PAGE_SIZE) == NULL);
	CHECK(core_idle(&c));
	core_fini(&c);
}

TEST(bad_frees_are_refused)
{
	struct core c, other;
	struct heap_stats before, after;
	int on_stack;
	char *small, *next, *big, *page, *foreign;
	void *from_libc = malloc(64);

	core_init(&c);
	core_init(&other);
	small = heap_alloc(&c.h, 32);
	next = heap_alloc(&c.h, 32);
	big = heap_alloc(&c.h, 3 * PAGE_SIZE);
	page = kmem_alloc(&c.km, 0); /* someone else's page of the same kmem */
	foreign = heap_alloc(&other.h, 32);
	REQUIRE(small && next && big && page && foreign);
	heap_stats(&c.h, &before);

	CHECK_EQ(heap_free(&c.h, NULL), 0);
	CHECK_EQ(heap_free(&c.h, &on_stack), -EINVAL);
	CHECK_EQ(heap_free(&c.h, from_libc), -EINVAL);
	CHECK_EQ(heap_free(&c.h, foreign), -EINVAL);
	CHECK_EQ(heap_free(&c.h, c.region), -EINVAL); /* kmem's metadata */
	CHECK_EQ(heap_free(&c.h, page), -EINVAL);
	CHECK_EQ(heap_free(&c.h, small + 1), -EINVAL);
	CHECK_EQ(heap_free(&c.h, small + 16), -EINVAL);            /* inside the block */
	CHECK_EQ(heap_free(&c.h, next + 32), -EINVAL);             /* never handed out */
	CHECK_EQ(heap_free(&c.h, small + PAGE_SIZE - 8), -EINVAL); /* the slab header */
	CHECK_EQ(heap_free(&c.h, big + 16), -EINVAL);
	CHECK_EQ(heap_free(&c.h, big + PAGE_SIZE), -EINVAL);
	CHECK_EQ(heap_free(&c.h, big + 3 * PAGE_SIZE), -EINVAL);
	CHECK_EQ(heap_usable_size(&c.h, small + 16), 0);
	CHECK_EQ(heap_usable_size(&c.h, big + PAGE_SIZE), 0);
	CHECK_EQ(heap_usable_size(&c.h, page), 0);
	CHECK_EQ(heap_usable_size(&c.h, NULL), 0);
	heap_stats(&c.h, &after);
	CHECK(memcmp(&before, &after, sizeof(before)) == 0);

	CHECK_EQ(heap_free(&c.h, small), 0);
	CHECK_EQ(heap_free(&c.h, small), -EINVAL); /* double free */
	CHECK_EQ(heap_usable_size(&c.h, small), 0);
	CHECK_EQ(heap_free(&c.h, big), 0);
	CHECK_EQ(heap_free(&c.h, big), -EINVAL);
	CHECK_EQ(heap_free(&c.h, next), 0); /* empties the slab */
	CHECK_EQ(heap_free(&c.h, next), -EINVAL);
	CHECK_EQ(heap_free(&c.h, small), -EINVAL);
	CHECK_EQ(kmem_free(&c.km, page, 0), 0);
	CHECK_EQ(heap_free(&other.h, foreign), 0);
	CHECK(core_idle(&c));
	CHECK(core_idle(&other));
	free(from_libc);
	core_fini(&c);
	core_fini(&other);
}

TEST(interior_pointers_of_every_class)
{
	struct core c;

	core_init(&c);
	for (unsigned k = 0; k < HEAP_NCLASSES; k++) {
		char *a = heap_alloc(&c.h, classes[k]);
		char *b = heap_alloc(&c.h, classes[k]);

		REQUIRE(a && b);
		for (size_t off = 1; off < classes[k]; off++) {
			CHECK_EQ(heap_usable_size(&c.h, a + off), 0);
			CHECK_EQ(heap_free(&c.h, b + off), -EINVAL);
		}
		CHECK_EQ(heap_free(&c.h, a), 0);
		CHECK_EQ(heap_free(&c.h, b), 0);
	}
	CHECK(core_idle(&c));
	core_fini(&c);
}

TEST(empty_slabs_go_back_to_kmem)
{
	enum { N = 5000 };
	static void *p[N];
	struct core c;

	core_init(&c);
	for (unsigned k = 0; k < HEAP_NCLASSES; k++) {
		for (int i = 0; i < N; i++) {
			p[i] = heap_alloc(&c.h, classes[k]);
			REQUIRE(p[i] != NULL);
		}
		for (int i = 0; i < N; i++)
			CHECK_EQ(heap_free(&c.h, p[i]), 0);
		/* At most one empty slab per class stays cached. */
		CHECK(c.h.heap_bins[k].hb_partial == NULL);
		CHECK(c.h.heap_bins[k].hb_empty != NULL);
		CHECK(c.base - kmem_free_pages(&c.km) <= (k + 1) * 16);
	}
	/* A ping-pong at the slab boundary does not call kmem. */
	size_t free_now = kmem_free_pages(&c.km);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(heap_free(&c.h, heap_alloc(&c.h, 100)), 0);
	CHECK_EQ(kmem_free_pages(&c.km), free_now);
	CHECK(core_idle(&c));
	core_fini(&c);
}

TEST(exhaustion_then_recovery)
{
	struct core c;
	struct heap_stats st;
	size_t max = REGION_LEN / 1024;
	void **p = calloc(max, sizeof(*p));
	size_t n = 0, nbig = 0;
	void *big[64];

	REQUIRE(p);
	core_init(&c);
	/* An empty cached 16-byte slab that the 1024-byte class will need. */
	CHECK_EQ(heap_free(&c.h, heap_alloc(&c.h, 16)), 0);
	CHECK(c.h.heap_bins[0].hb_empty != NULL);
	while (n < max && (p[n] = heap_alloc(&c.h, 1000)))
		n++;
	CHECK(n < max);
	CHECK(c.h.heap_bins[0].hb_empty == NULL); /* trimmed before failing */
	CHECK(heap_alloc(&c.h, 1000) == NULL);
	CHECK(heap_alloc(&c.h, 5 * PAGE_SIZE) == NULL);
	heap_stats(&c.h, &st);
	CHECK_EQ(st.failed, 3);
	CHECK_EQ(st.blocks_in_use, n);
	CHECK_EQ(st.bytes_in_use, n * 1024);

	CHECK_EQ(heap_free(&c.h, p[n / 2]), 0);
	p[n / 2] = heap_alloc(&c.h, 1000);
	CHECK(p[n / 2] != NULL);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ(heap_free(&c.h, p[i]), 0);

	/* The same with large blocks. */
	while (nbig < ARRAY_SIZE(big) && (big[nbig] = heap_alloc(&c.h, 1 << 20)))
		nbig++;
	CHECK(nbig > 0 && nbig < ARRAY_SIZE(big));
	CHECK_EQ(heap_free(&c.h, big[0]), 0);
	big[0] = heap_alloc(&c.h, 1 << 20);
	CHECK(big[0] != NULL);
	for (size_t i = 0; i < nbig; i++)
		CHECK_EQ(heap_free(&c.h, big[i]), 0);
	CHECK(core_idle(&c));
	free(p);
	core_fini(&c);
}

/*
 * Two cores, each with its heap on its own region. Core B is handed blocks of core A (as a
 * network buffer would travel); B sees they are not its own and sends them home; A frees
 * them. Until then B's heap refuses them and does not change.
 */
TEST(remote_free_goes_home)
{
	enum { N = 2000 };
	static void *ring[N]; /* stands in for the message ring from B back to A */
	static void *mine[N];
	struct core a, b;
	struct heap_stats bst, bst2;
	size_t nring = 0;

	core_init(&a);
	core_init(&b);
	rng_state = 7;
	for (int i = 0; i < N; i++) {
		size_t size = rng() % 3000;

		mine[i] = heap_alloc(&a.h, size);
		REQUIRE(mine[i] != NULL);
		memset(mine[i], 0x77, size);
	}
	void *own = heap_alloc(&b.h, 64);
	heap_stats(&b.h, &bst);

	/* On core B. */
	for (int i = 0; i < N; i++) {
		void *p = mine[i];

		CHECK(!kmem_owns(&b.km, p));
		CHECK(kmem_page_of(&b.km, p) == NULL);
		CHECK(kmem_owns(&a.km, p));
		CHECK(kmem_page_of(&a.km, p) != NULL);
		CHECK_EQ(heap_free(&b.h, p), -EINVAL);
		ring[nring++] = p;
	}
	CHECK(kmem_owns(&b.km, own) && !kmem_owns(&a.km, own));
	CHECK_EQ(heap_free(&a.h, own), -EINVAL);
	heap_stats(&b.h, &bst2);
	CHECK(memcmp(&bst, &bst2, sizeof(bst)) == 0);

	/* Back on core A, draining the ring. */
	for (size_t i = 0; i < nring; i++)
		CHECK_EQ(heap_free(&a.h, ring[i]), 0);
	CHECK_EQ(heap_free(&b.h, own), 0);
	CHECK(core_idle(&a));
	CHECK(core_idle(&b));
	core_fini(&a);
	core_fini(&b);
}

/*
 * Randomized stress against a shadow list of live blocks: each is filled with a tag that is
 * checked when it is freed, the heap's counters must equal the shadow's sums after every
 * operation, and now and then the live blocks are checked for pairwise overlap.
 */
struct live {
	uint64_t *p;   /* the block */
	size_t usable; /* heap_usable_size() when allocated */
	uint64_t tag;  /* what it is filled with */
};

static void fill(struct live *l)
{
	for (size_t i = 0; i < l->usable / 8; i++)
		l->p[i] = l->tag ^ i;
}

static bool intact(const struct live *l)
{
	for (size_t i = 0; i < l->usable / 8; i++)
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
		if ((uintptr_t)live[i - 1].p + live[i - 1].usable > (uintptr_t)live[i].p)
			return false;
	return true;
}

static void stress(uint64_t seed, unsigned ops)
{
	enum { MAX_LIVE = 20000 };
	static struct live live[MAX_LIVE];
	struct core c;
	struct heap_stats st;
	size_t n = 0, bytes = 0;
	unsigned nulls = 0;

	core_init(&c);
	rng_state = seed;
	for (unsigned op = 0; op < ops; op++) {
		uint64_t x = rng();
		bool grow = (op / 10000) % 2 == 0;

		if (n < MAX_LIVE && (n == 0 || ((x & 3) != 0) == grow)) {
			unsigned kind = (x >> 2) % 16;
			size_t size, align = 0;
			struct live *l = &live[n];

			if (kind < 11)
				size = (x >> 8) % (1u << ((x >> 40) % 12)); /* mostly small */
			else if (kind < 14)
				size = HEAP_SMALL_MAX + (x >> 8) % 40000;
			else
				size = (x >> 8) % 3000, align = (size_t)1 << ((x >> 40) % 13);
			if (align)
				l->p = heap_alloc_aligned(&c.h, size, align);
			else
				l->p = heap_alloc(&c.h, size);
			if (!l->p) {
				nulls++;
				continue;
			}
			CHECK_EQ((uintptr_t)l->p % (align > 16 ? align : 16), 0);
			l->usable = heap_usable_size(&c.h, l->p);
			CHECK(l->usable >= size && l->usable >= 16);
			l->tag = x;
			fill(l);
			bytes += l->usable;
			n++;
		} else {
			size_t i = (x >> 8) % n;

			CHECK(intact(&live[i]));
			CHECK_EQ(heap_free(&c.h, live[i].p), 0);
			CHECK_EQ(heap_free(&c.h, live[i].p), -EINVAL);
			bytes -= live[i].usable;
			live[i] = live[--n];
		}
		heap_stats(&c.h, &st);
		CHECK_EQ(st.bytes_in_use, bytes);
		CHECK_EQ(st.blocks_in_use, n);
		if (op % 10000 == 0)
			CHECK(disjoint(live, n));
	}
	CHECK(disjoint(live, n));
	heap_stats(&c.h, &st);
	CHECK_EQ(st.failed, nulls);
	for (size_t i = 0; i < n; i++) {
		CHECK(intact(&live[i]));
		CHECK_EQ(heap_free(&c.h, live[i].p), 0);
	}
	CHECK(core_idle(&c));
	core_fini(&c);
}

TEST(stress_seed_1)
{
	stress(1, 100000);
}

TEST(stress_seed_2)
{
	stress(0xdeadbeefcafef00dull, 100000);
}

int main(void)
{
	RUN(every_size_to_its_class);
	RUN(zero_size_blocks_are_unique);
	RUN(huge_sizes_fail_cleanly);
	RUN(aligned_allocations);
	RUN(bad_frees_are_refused);
	RUN(interior_pointers_of_every_class);
	RUN(empty_slabs_go_back_to_kmem);
	RUN(exhaustion_then_recovery);
	RUN(remote_free_goes_home);
	RUN(stress_seed_1);
	RUN(stress_seed_2);
	TEST_EXIT();
}
