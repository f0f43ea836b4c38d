/*
 * alloc - the per-core allocator under stress, and its edge cases.
 *
 *  alloc_calloc_realloc  calloc zeroes and refuses n * size overflow; huge mallocs fail
 *                        cleanly; realloc grows and shrinks keeping the contents, also for a
 *                        block another core allocated.
 *  alloc_exhaustion      core 0 takes 1 MiB blocks until malloc returns NULL (no panic), frees
 *                        them all: its statistics are back where they were and malloc works.
 *  alloc_remote_stress   every core allocates blocks of random sizes (16 B .. 64 KiB) and hands
 *                        each to another core, which frees it: half through msg_call (freed in
 *                        a message handler), half as the argument of a thread created on that
 *                        core (freed in thread context). Every core to every other core. After
 *                        barriers (so that batched remote frees have gone home) every core's
 *                        heap_bytes, heap_blocks and free_pages equal its baseline, measured
 *                        after an identical warm-up round so that lazily created structures
 *                        (cached slabs, stack page tables) do not count; remote frees sent and
 *                        received add up across cores.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <isle/core.h>
#include <isle/mem.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "gtest.h"
#include "kernel/core.h" /* core_of_addr */

#define MAX_NCORES 64
#define BLOCKS_PER_CORE 512  /* per round */
#define MAX_SIZE (64 * 1024) /* largest block */
#define EXHAUST_MAX 8192     /* 1 MiB blocks the exhaustion test can hold (8 GiB) */

/* ---- small helpers -------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

/* 16 B .. 64 KiB, spread evenly over the powers of two so that every heap class is used. */
static size_t random_size(uint64_t *s)
{
	unsigned shift = (unsigned)(rng_next(s) % 13); /* 16 << 12 = 64 KiB */
	size_t lo = (size_t)16 << shift;
	size_t size = lo + (size_t)(rng_next(s) % lo);
	return size > MAX_SIZE ? MAX_SIZE : size;
}

static unsigned char pattern(const void *p)
{
	return (unsigned char)(((uintptr_t)p >> 4) * 31 + 7);
}

/* A block carries its size in its first word and a pattern in its last byte and the middle. */
static void fill(void *p, size_t size)
{
	memset(p, pattern(p), size);
	memcpy(p, &size, sizeof(size));
}

static int intact(const void *p)
{
	const unsigned char *b = p;
	size_t size;
	memcpy(&size, p, sizeof(size));
	if (size < 16 || size > MAX_SIZE)
		return 0;
	return b[size - 1] == pattern(p) && b[size / 2 + 4] == pattern(p) &&
	       kmalloc_usable_size(p) >= size;
}

/* ---- calloc, realloc ----------------------------------------------------------------------- */

static void *other_core_block; /* allocated on core 1 for the cross-core realloc */

static int alloc_on_core(void *arg)
{
	size_t size = (size_t)(uintptr_t)arg;
	char *p = malloc(size);
	if (p)
		for (size_t i = 0; i < size; i++)
			p[i] = (char)(i * 7);
	other_core_block = p;
	return p ? 0 : -1;
}

static int bytes_are(const char *p, size_t n, int mul)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (char)(i * (size_t)mul))
			return 0;
	return 1;
}

static void test_calloc_realloc(void)
{
	gtest_begin("alloc_calloc_realloc");
	struct mem_stats before, after;
	mem_stats(&before);

	CHECK(calloc(SIZE_MAX / 2 + 1, 2) == NULL);
	CHECK(calloc((size_t)1 << 33, (size_t)1 << 33) == NULL);
	CHECK(calloc(SIZE_MAX, SIZE_MAX) == NULL);
	CHECK(malloc(SIZE_MAX) == NULL);
	CHECK(malloc((size_t)1 << 40) == NULL);

	unsigned char *z = malloc(8000); /* dirty a block, free it, calloc must still zero */
	CHECK(z != NULL);
	if (z) {
		memset(z, 0xAB, 8000);
		free(z);
	}
	z = calloc(1000, 8);
	CHECK(z != NULL);
	if (z) {
		int zero = 1;
		for (unsigned i = 0; i < 8000; i++)
			zero &= z[i] == 0;
		CHECK(zero);
		free(z);
	}
	z = calloc(3, 5); /* small class */
	CHECK(z != NULL && z[0] == 0 && z[14] == 0);
	free(z);

	char *p = realloc(NULL, 100); /* realloc(NULL) is malloc */
	CHECK(p != NULL);
	if (p) {
		for (unsigned i = 0; i < 100; i++)
			p[i] = (char)(i * 3);
		p = realloc(p, 5000); /* small -> large */
		CHECK(p != NULL && bytes_are(p, 100, 3));
	}
	if (p) {
		for (unsigned i = 0; i < 5000; i++)
			p[i] = (char)(i * 3);
		p = realloc(p, 300000); /* large -> larger */
		CHECK(p != NULL && bytes_are(p, 5000, 3));
	}
	if (p) {
		p = realloc(p, 50); /* shrink */
		CHECK(p != NULL && bytes_are(p, 50, 3));
	}
	if (p) {
		p = realloc(p, 40); /* shrink within the class */
		CHECK(p != NULL && bytes_are(p, 40, 3));
	}
	if (p)
		CHECK(realloc(p, 0) == NULL); /* frees */

	/* A block of another core: the new block is ours, the old one goes home. */
	if (core_count() > 1) {
		struct thread *t = thread_create(1, alloc_on_core, (void *)(uintptr_t)1000);
		int ret = -1;
		CHECK(t && thread_join(t, &ret) == 0 && ret == 0);
		char *q = other_core_block;
		CHECK(q != NULL && core_of_addr(q) == 1);
		if (q) {
			q = realloc(q, 3000);
			CHECK(q != NULL && core_of_addr(q) == 0 && bytes_are(q, 1000, 7));
			free(q);
		}
	}
	mem_stats(&after);
	CHECKF(after.heap_blocks == before.heap_blocks, "heap_blocks %zu, before %zu",
	       after.heap_blocks, before.heap_blocks);
	CHECKF(after.heap_bytes == before.heap_bytes, "heap_bytes %zu, before %zu",
	       after.heap_bytes, before.heap_bytes);
	gtest_end();
}

/* ---- exhaustion ----------------------------------------------------------------------------- */

/* Takes 1 MiB blocks until malloc says no; returns how many it got, all freed again. */
static unsigned exhaust(void **blocks)
{
	unsigned n = 0;
	void *p = NULL;
	while (n < EXHAUST_MAX && (p = malloc(1 << 20)) != NULL) {
		memset(p, 0x5A, 64); /* the block is real memory */
		blocks[n++] = p;
	}
	CHECKF(p == NULL, "malloc(1 MiB) never failed after %u blocks", n);
	CHECK(malloc(1 << 20) == NULL); /* still exhausted, still no panic */
	for (unsigned i = 0; i < n; i++)
		free(blocks[i]);
	return n;
}

static void test_exhaustion(void)
{
	gtest_begin("alloc_exhaustion");
	void **blocks = malloc(EXHAUST_MAX * sizeof(void *));
	CHECK(blocks != NULL);
	if (!blocks) {
		gtest_end();
		return;
	}
	/* The first round also gives back the heap's cached empty slabs (malloc trims them
	 * before it fails), so the second round starts from a settled allocator. */
	unsigned first = exhaust(blocks);
	struct mem_stats base, full, after;
	mem_stats(&base);
	unsigned second = exhaust(blocks);
	mem_stats(&after);
	CHECK(first > 0 && second > 0);
	CHECKF(second == first, "first round %u MiB, second %u MiB", first, second);
	CHECK(after.failed >= base.failed + 2);
	CHECKF(after.heap_bytes == base.heap_bytes, "heap_bytes %zu, baseline %zu",
	       after.heap_bytes, base.heap_bytes);
	CHECKF(after.heap_blocks == base.heap_blocks, "heap_blocks %zu, baseline %zu",
	       after.heap_blocks, base.heap_blocks);
	CHECKF(after.free_pages + after.stack_pages == base.free_pages + base.stack_pages,
	       "free_pages %zu + stack_pages %zu, baseline %zu + %zu", after.free_pages,
	       after.stack_pages, base.free_pages, base.stack_pages);
	/* Usable again, big and small. */
	void *p = malloc(1 << 20), *q = malloc(24);
	CHECK(p != NULL && q != NULL);
	free(p);
	free(q);
	mem_stats(&full);
	CHECK(full.heap_blocks == base.heap_blocks);
	printf("alloc: core 0 held %u MiB before malloc returned NULL\n", first);
	free(blocks);
	gtest_end();
}

/* ---- remote free stress --------------------------------------------------------------------- */

struct handoff {
	unsigned n;               /* blocks in p[] */
	void *p[BLOCKS_PER_CORE]; /* blocks for the thread to check and free */
};

struct core_result {
	struct mem_stats base, end; /* this core's statistics: baseline, after the stress */
	unsigned handed;            /* blocks this core allocated and gave to another core */
	unsigned settle_ms;         /* how long the statistics took to come back */
} __attribute__((aligned(64)));

static struct core_result results[MAX_NCORES];
static unsigned bad_blocks[MAX_NCORES] __attribute__((aligned(64))); /* [core]: freed broken */

/* Runs on the destination core in handler context: check the block, free it. */
static void free_in_handler(void *p)
{
	if (!intact(p))
		bad_blocks[core_id()]++;
	free(p);
}

/* Runs on the destination core as a thread: check and free a whole batch. */
static int free_in_thread(void *arg)
{
	struct handoff *h = arg;
	int bad = 0;
	for (unsigned i = 0; i < h->n; i++) {
		if (!intact(h->p[i]))
			bad++;
		free(h->p[i]);
		if (i % 16 == 0)
			thread_yield();
	}
	return bad;
}

/* One round on this core: allocate, hand out, wait until all cores are done. */
static void stress_round(uint64_t seed, struct handoff *batches)
{
	unsigned self = core_id(), n = core_count();
	uint64_t rng = seed * 0x9E3779B97F4A7C15ull + self + 1;
	for (unsigned c = 0; c < n; c++)
		batches[c].n = 0;
	for (unsigned i = 0; i < BLOCKS_PER_CORE; i++) {
		size_t size = random_size(&rng);
		void *p = malloc(size);
		CHECKF(p != NULL, "core %u: malloc(%zu) failed", self, size);
		if (!p)
			continue;
		fill(p, size);
		unsigned dst = n == 1 ? self : (self + 1 + i % (n - 1)) % n;
		if (dst != self)
			results[self].handed++;
		if (i % 2 == 0 && dst != self) {
			CHECK(msg_call(dst, free_in_handler, p) == 0);
		} else {
			struct handoff *b = &batches[dst];
			b->p[b->n++] = p;
		}
		if (i % 32 == 0)
			thread_yield();
	}
	/* Every batch goes to a thread on its destination core; join them all. */
	struct thread *t[MAX_NCORES];
	for (unsigned c = 0; c < n; c++) {
		t[c] = NULL;
		if (batches[c].n)
			CHECK((t[c] = thread_create(c, free_in_thread, &batches[c])) != NULL);
	}
	for (unsigned c = 0; c < n; c++) {
		int bad = -1;
		if (t[c]) {
			CHECK(thread_join(t[c], &bad) == 0);
			CHECKF(bad == 0, "core %u: %d blocks from core %u were corrupted", c, bad,
			       self);
		}
	}
	/* The msg_calls sent before a barrier are handled before it completes (rings are FIFO);
	 * the frees they did travel home in MSG_FREE batches sent before the next barrier. */
	core_barrier();
	core_barrier();
}

static int same_heap(const struct mem_stats *a, const struct mem_stats *b)
{
	return a->heap_bytes == b->heap_bytes && a->heap_blocks == b->heap_blocks &&
	       a->free_pages + a->stack_pages == b->free_pages + b->stack_pages;
}

static int stress_worker(void *arg)
{
	(void)arg;
	unsigned self = core_id();
	struct core_result *r = &results[self];
	struct handoff *batches = malloc(core_count() * sizeof(*batches));
	CHECK(batches != NULL);
	if (!batches)
		return -1;
	stress_round(1, batches); /* warm-up: same sizes, same destinations */
	sleep_ms(10);
	core_barrier();
	mem_stats(&r->base);
	r->handed = 0;
	core_barrier();
	stress_round(1, batches);
	/* Normally settled already; give straggling batches up to 2 s to arrive. */
	uint64_t t0 = now_ns();
	for (;;) {
		mem_stats(&r->end);
		if (same_heap(&r->end, &r->base) || now_ns() - t0 > 2000000000ull)
			break;
		sleep_ms(5);
	}
	r->settle_ms = (unsigned)((now_ns() - t0) / 1000000);
	core_barrier(); /* nobody sends anything after this: every core's counters are final */
	mem_stats(&r->end);
	free(batches);
	return 0;
}

static void test_remote_stress(void)
{
	gtest_begin("alloc_remote_stress");
	unsigned n = core_count();
	struct thread *t[MAX_NCORES];
	uint64_t t0 = now_ns();
	for (unsigned c = 0; c < n; c++)
		CHECK((t[c] = thread_create(c, stress_worker, NULL)) != NULL);
	for (unsigned c = 0; c < n; c++) {
		int ret = -1;
		if (t[c]) {
			CHECK(thread_join(t[c], &ret) == 0);
			CHECK(ret == 0);
		}
	}
	uint64_t sent = 0, received = 0, handed = 0;
	unsigned settle = 0;
	for (unsigned c = 0; c < n; c++) {
		const struct core_result *r = &results[c];
		CHECKF(r->end.heap_bytes == r->base.heap_bytes,
		       "core %u: heap_bytes %zu, baseline %zu", c, r->end.heap_bytes,
		       r->base.heap_bytes);
		CHECKF(r->end.heap_blocks == r->base.heap_blocks,
		       "core %u: heap_blocks %zu, baseline %zu", c, r->end.heap_blocks,
		       r->base.heap_blocks);
		/* Stack slots keep their pages for reuse: count them as free. */
		CHECKF(r->end.free_pages + r->end.stack_pages ==
		               r->base.free_pages + r->base.stack_pages,
		       "core %u: free_pages %zu + stack_pages %zu, baseline %zu + %zu", c,
		       r->end.free_pages, r->end.stack_pages, r->base.free_pages,
		       r->base.stack_pages);
		CHECKF(bad_blocks[c] == 0, "core %u freed %u corrupted blocks in handlers", c,
		       bad_blocks[c]);
		uint64_t rx = r->end.remote_frees_received - r->base.remote_frees_received;
		CHECKF(rx >= r->handed, "core %u: %lu remote frees received, %u blocks handed out",
		       c, rx, r->handed);
		sent += r->end.remote_frees_sent - r->base.remote_frees_sent;
		received += rx;
		handed += r->handed;
		if (r->settle_ms > settle)
			settle = r->settle_ms;
	}
	CHECKF(sent == received, "remote frees: %lu sent, %lu received", sent, received);
	CHECK(sent >= handed);
	if (n > 1)
		CHECK(handed == (uint64_t)n * BLOCKS_PER_CORE);
	printf("alloc: %u cores, %lu blocks freed remotely, settled within %u ms, %lu ms total\n",
	       n, sent, settle, (now_ns() - t0) / 1000000);
	gtest_end();
}

int main(void)
{
	test_calloc_realloc();
	test_exhaustion();
	test_remote_stress();
	return gtest_status();
}
