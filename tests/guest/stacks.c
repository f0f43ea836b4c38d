/*
 * stacks - ended threads give their stack pages back (issue 10: one burst of 1,000
 * connections pinned their stacks' memory for good).
 *
 * On every core at once, a driver thread notes its core's memory statistics, then runs two
 * bursts: 1,000 threads with 16 KiB stacks that all exist at the same time (each waits at a
 * gate until all have started), let go and joined. After each burst the core's stack pages
 * are at most its stack cache (THREAD_STACK_CACHE stacks of 16 KiB) above the baseline, and its
 * free pages at most that and SLACK_PAGES below it: the page tables that map the slots (one per
 * 32 slots) and the heap pages of the thread records stay with the core, nothing else does.
 * Without giving stacks back, 4,000 pages stay with the stacks.
 *
 * A slot whose pages were given back is used again only once every other core has dropped its
 * translations of it. The second case checks that from core 0: it reads a record on the stack
 * of thread A on core 1 (its TLB now maps that address), A ends beyond the stack cache (its
 * pages go back), and thread B, created in A's slot, writes its own record at the same
 * address; core 0 must read B's record there, not whatever A's old page holds now.
 */
#include <stdio.h>
#include <isle/core.h>
#include <isle/mem.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "gtest.h"

#define MAX_NCORES 64
#define BURST 1000
#define STACK_SIZE (16 * 1024)
#define STACK_PAGES (STACK_SIZE / 4096)
#define SLACK_PAGES 128 /* page tables of the slots (32) and heap pages of thread records */

/* Per-core state, each written only by threads of its own core. */
struct core_state {
	struct thread *t[BURST]; /* the burst's threads */
	unsigned arrived;        /* threads of the burst that reached the gate */
	int gate_open;           /* the driver let them go */
	struct mem_stats base;   /* before the first burst */
	struct mem_stats after[2];
	unsigned created[2]; /* threads each burst created */
	int bad_joins;       /* joins that failed or returned the wrong value */
} __attribute__((aligned(64)));
static struct core_state cs[MAX_NCORES];

static int member(void *arg)
{
	struct core_state *s = &cs[core_id()];
	volatile char deep[STACK_SIZE / 2]; /* touch the stack: its pages are really used */
	deep[0] = deep[sizeof(deep) - 1] = 1;
	s->arrived++;
	while (!s->gate_open)
		thread_block();
	return (int)(uintptr_t)arg + deep[0] - 1;
}

static void burst(struct core_state *s, int round)
{
	unsigned c = core_id(), n = 0;
	s->arrived = 0;
	s->gate_open = 0;
	for (unsigned i = 0; i < BURST; i++) {
		s->t[i] = thread_create_stack(c, member, (void *)(uintptr_t)i, STACK_SIZE);
		n += s->t[i] != NULL;
	}
	s->created[round] = n;
	for (uint64_t t0 = now_ns(); s->arrived < n && now_ns() - t0 < 20000000000ull;)
		sleep_ms(1);
	s->gate_open = 1;
	for (unsigned i = 0; i < BURST; i++)
		if (s->t[i])
			thread_wake(s->t[i]);
	for (unsigned i = 0; i < BURST; i++) {
		int ret = -1;
		if (s->t[i] && (thread_join(s->t[i], &ret) != 0 || ret != (int)i))
			s->bad_joins++;
		s->t[i] = NULL;
	}
	mem_stats(&s->after[round]);
}

static int driver(void *arg)
{
	(void)arg;
	struct core_state *s = &cs[core_id()];
	mem_stats(&s->base);
	burst(s, 0);
	burst(s, 1);
	return 0;
}

/* ---- a reused slot, seen from another core ---------------------------------------------- */

#define FILLERS (THREAD_STACK_CACHE + 4) /* enough ended threads to fill the stack cache */
#define CANDIDATES 64                    /* threads created until one gets A's slot */

struct record_ctl {
	volatile uint64_t *rec; /* the record on the stack of the last thread that started */
	int go;                 /* threads may end */
};
static struct record_ctl ctl[MAX_NCORES]; /* of core 1, written by its threads and handlers */

/* Keeps a record on its stack, says where, and waits until told to end. */
static int record(void *arg)
{
	volatile uint64_t rec = (uint64_t)(uintptr_t)arg;
	struct record_ctl *k = &ctl[core_id()];
	k->rec = &rec;
	while (!k->go)
		thread_block();
	return (int)(rec & 0xffff);
}

static void let_go(void *arg)
{
	struct thread **t = arg;
	ctl[core_id()].go = 1;
	for (unsigned i = 0; t[i]; i++)
		thread_wake(t[i]);
}

/* Runs let_go on core 1 for the NULL-terminated list t and joins them all. */
static void end_all(struct thread **t)
{
	CHECK(msg_call(1, let_go, t) == 0);
	for (unsigned i = 0; t[i]; i++)
		CHECK(thread_join(t[i], NULL) == 0);
	ctl[1].go = 0;
}

static void wait_started(volatile uint64_t *before)
{
	for (uint64_t t0 = now_ns(); ctl[1].rec == before && now_ns() - t0 < 5000000000ull;)
		sleep_ms(1);
}

static void test_reuse_seen_everywhere(void)
{
	static struct thread *fill[FILLERS + 1], *cand[CANDIDATES + 1], *a[2];
	gtest_begin("stacks_reuse_seen_everywhere");
	if (core_count() < 2) {
		printf("stacks: one core, nobody else to see a slot\n");
		gtest_end();
		return;
	}
	/* A, then the fillers, all alive on core 1 */
	a[0] = thread_create_stack(1, record, (void *)0xAAAA, STACK_SIZE);
	CHECK(a[0] != NULL);
	wait_started(NULL);
	volatile uint64_t *p = ctl[1].rec;
	CHECK(p != NULL && *p == 0xAAAA); /* core 0 reads A's record: its TLB maps the page */
	for (unsigned i = 0; i < FILLERS; i++) {
		volatile uint64_t *before = ctl[1].rec;
		CHECK((fill[i] = thread_create_stack(1, record, (void *)1, STACK_SIZE)) != NULL);
		wait_started(before);
	}
	/* The fillers end first and fill the stack cache; A ends beyond it. */
	end_all(fill);
	end_all(a);
	sleep_ms(50); /* core 1's round of TLB flushes, answered by every core */
	/* New threads on core 1 take the cached slots, then the cleaned ones: A's soon. */
	unsigned i = 0;
	bool found = false;
	for (; i < CANDIDATES && !found; i++) {
		volatile uint64_t *before = ctl[1].rec;
		CHECK((cand[i] = thread_create_stack(1, record, (void *)(uintptr_t)(0xB000 + i),
		                                     STACK_SIZE)) != NULL);
		wait_started(before);
		found = ctl[1].rec == p;
	}
	CHECKF(found, "no thread of %u got the slot of the thread that ended", i);
	if (found) /* B's record, through the same address */
		CHECKF(*p == 0xB000 + i - 1, "core 0 read %#lx at %p, want %#x", (unsigned long)*p,
		       (void *)p, 0xB000 + i - 1);
	end_all(cand);
	gtest_end();
}

int main(void)
{
	unsigned n = core_count();
	struct thread *d[MAX_NCORES];
	gtest_begin("stacks_given_back");
	CHECK(n <= MAX_NCORES);
	for (unsigned c = 0; c < n && c < MAX_NCORES; c++)
		CHECK((d[c] = thread_create(c, driver, NULL)) != NULL);
	for (unsigned c = 0; c < n && c < MAX_NCORES; c++)
		if (d[c])
			CHECK(thread_join(d[c], NULL) == 0);
	for (unsigned c = 0; c < n && c < MAX_NCORES; c++) {
		struct core_state *s = &cs[c];
		const struct mem_stats *b = &s->base;
		CHECKF(s->bad_joins == 0, "core %u: %d joins failed or returned a wrong value", c,
		       s->bad_joins);
		for (int r = 0; r < 2; r++) {
			const struct mem_stats *a = &s->after[r];
			CHECKF(s->created[r] == BURST, "core %u, burst %d: %u of %u threads", c, r,
			       s->created[r], BURST);
			CHECKF(a->stack_pages <= b->stack_pages + THREAD_STACK_CACHE * STACK_PAGES,
			       "core %u, burst %d: %zu stack pages, baseline %zu", c, r,
			       a->stack_pages, b->stack_pages);
			CHECKF(a->free_pages + THREAD_STACK_CACHE * STACK_PAGES + SLACK_PAGES >=
			               b->free_pages,
			       "core %u, burst %d: %zu free pages, baseline %zu", c, r,
			       a->free_pages, b->free_pages);
		}
		printf("stacks: core %u: free pages %zu, after the bursts %zu and %zu; stack pages "
		       "%zu, then %zu and %zu\n",
		       c, b->free_pages, s->after[0].free_pages, s->after[1].free_pages,
		       b->stack_pages, s->after[0].stack_pages, s->after[1].stack_pages);
	}
	gtest_end();
	test_reuse_seen_everywhere();
	return gtest_status();
}
