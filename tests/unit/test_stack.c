/*
 * test_stack.c - the thread-stack slots of one core (kernel/stack.c) on the host, against fake
 * page tables, message rings and timers.
 *
 * The test includes stack.c itself, to deliver the round's messages to its handlers. The fake
 * arch keeps how many pages each slot has mapped (and checks every map and unmap stays above
 * the slot's guard page); the fake rings record what is sent and can be full; the timers are
 * the real timer queue (kernel/timerq.c) with a clock the test moves. The cases: the cache
 * keeps its stacks' pages; a stack beyond it gives its pages back at once and its slot waits
 * until every other core answered the round; a full ring is asked again by the timer; one round
 * at a time, the next started by the timer; one core needs no round; a failed mapping gives the
 * slot back; with few slots never used left, ended stacks keep their pages and slots are reused
 * at once; and the other side of a round, which flushes and answers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "arch/x86_64/layout.h" /* the real slot sizes */
#include "kernel/stack.c"
#include "test.h"

/* ---- the fakes ------------------------------------------------------------------------------ */

#define SLOTS 2048 /* per core; STACK_RESERVE of them are the reserve */
#define SLOT_BASE 0x7f8000000000ull

unsigned ncores = 3;
PERCORE unsigned core_self;

static uint8_t mapped[SLOTS]; /* pages each slot has mapped, as the page tables say */
static int map_fails;         /* arch_stack_map calls still to fail */
static unsigned tlb_flushes;  /* arch_stack_tlb_flush calls */

unsigned arch_stack_slots(void)
{
	return SLOTS;
}

static uintptr_t slot_base(unsigned core, unsigned slot)
{
	return SLOT_BASE + (uintptr_t)core * STACK_CORE_SIZE + (uintptr_t)slot * STACK_SLOT_SIZE;
}

uintptr_t arch_stack_slot_top(unsigned core, unsigned slot)
{
	return slot_base(core, slot) + STACK_SLOT_SIZE;
}

/* The slot of [top - len, top), checked to lie above the slot's guard page. */
static unsigned slot_of(uintptr_t top, size_t len)
{
	unsigned s = (unsigned)((top - 1 - SLOT_BASE) / STACK_SLOT_SIZE);
	uintptr_t base = slot_base(0, s);
	if (top > base + STACK_SLOT_SIZE || len > top - base - PAGE || len % PAGE)
		abort(); /* into the guard or another slot */
	return s;
}

int arch_stack_map(uintptr_t top, size_t len)
{
	unsigned s = slot_of(top, len);
	/* below what the slot has: top is where its mapping ends */
	if (top != arch_stack_slot_top(0, s) - (size_t)mapped[s] * PAGE)
		abort();
	if (map_fails > 0) {
		map_fails--;
		return -ENOMEM;
	}
	mapped[s] = (uint8_t)(mapped[s] + len / PAGE);
	return 0;
}

void arch_stack_unmap(uintptr_t top, size_t len)
{
	unsigned s = slot_of(top, len);
	if (len != (size_t)mapped[s] * PAGE) /* all of it, nothing else */
		abort();
	mapped[s] = 0;
}

void arch_stack_tlb_flush(void)
{
	tlb_flushes++;
}

static bool ring_full[MAX_CORES]; /* msg_send to this core finds its ring full */
static struct msg sent[64];       /* what was sent since the last sent_clear */
static unsigned nsent;

static int record(unsigned dst, struct msg *m)
{
	m->src = (uint16_t)core_id();
	if (nsent == ARRAY_SIZE(sent))
		abort();
	sent[nsent] = *m;
	sent[nsent++].w[6] = dst; /* where it went */
	return 0;
}

int msg_send(unsigned dst, struct msg *m)
{
	return ring_full[dst] ? -EAGAIN : record(dst, m);
}

int msg_reply(unsigned dst, struct msg *m)
{
	return record(dst, m);
}

static void sent_clear(void)
{
	nsent = 0;
}

/* Whether MSG_STACK_FLUSH went to core c since the last sent_clear. */
static bool asked(unsigned c)
{
	for (unsigned i = 0; i < nsent; i++)
		if (sent[i].type == MSG_STACK_FLUSH && sent[i].w[6] == c)
			return true;
	return false;
}

/* Core c answers the round. */
static void answer(unsigned c)
{
	struct msg m = { .type = MSG_STACK_FLUSHED, .src = (uint16_t)c };
	on_flushed(&m);
}

static struct timerq timers;
static uint64_t clock_ns = 1000;

uint64_t now_ns(void)
{
	return clock_ns;
}

void timer_add(struct timer *t)
{
	timerq_add(&timers, t);
}

/* Moves the clock by ns and runs the timers due, as the scheduler loop does. */
static void run_timers(uint64_t ns)
{
	clock_ns += ns;
	struct timer *t;
	while ((t = timerq_pop_expired(&timers, clock_ns)))
		t->fn(t);
}

void *kmalloc(size_t size)
{
	return malloc(size);
}

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void boot_fail(const char *fmt, ...)
{
	(void)fmt;
	abort();
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	abort();
}

/* ---- helpers -------------------------------------------------------------------------------- */

#define STACK (16 * 1024)

static unsigned pages_mapped(void)
{
	unsigned n = 0;
	for (unsigned s = 0; s < SLOTS; s++)
		n += mapped[s];
	return n;
}

/* A fresh core: nothing used, nothing sent, 3 cores, rings free. */
static void fresh(unsigned cores)
{
	free(P.clean);
	free(P.dirty);
	free(P.slot_pages);
	memset(&P, 0, sizeof(P));
	memset(mapped, 0, sizeof(mapped));
	memset(ring_full, 0, sizeof(ring_full));
	timerq_init(&timers);
	ncores = cores;
	map_fails = 0;
	tlb_flushes = 0;
	sent_clear();
	stack_init_core();
}

static unsigned get(void)
{
	unsigned slot = ~0u;
	uintptr_t top = stack_get(STACK, &slot);
	if (!top || top != arch_stack_slot_top(0, slot))
		return ~0u;
	return slot;
}

/* ---- the cases ------------------------------------------------------------------------------ */

TEST(cache_keeps_pages)
{
	unsigned s[THREAD_STACK_CACHE];
	fresh(3);
	for (unsigned i = 0; i < THREAD_STACK_CACHE; i++)
		s[i] = get();
	CHECK_EQ(stack_pages_held(), THREAD_STACK_CACHE * STACK / PAGE);
	for (unsigned i = 0; i < THREAD_STACK_CACHE; i++)
		stack_put(s[i]);
	CHECK_EQ(stack_pages_held(), THREAD_STACK_CACHE * STACK / PAGE);
	CHECK_EQ(pages_mapped(), stack_pages_held());
	CHECK_EQ(nsent, 0);
	/* the next threads take them back, most recent first, mapping nothing */
	CHECK_EQ(get(), s[THREAD_STACK_CACHE - 1]);
	CHECK_EQ(get(), s[THREAD_STACK_CACHE - 2]);
	CHECK_EQ(pages_mapped(), THREAD_STACK_CACHE * STACK / PAGE);
	/* a bigger stack in a cached slot maps only what it lacks */
	stack_put(s[THREAD_STACK_CACHE - 1]);
	unsigned slot;
	CHECK(stack_get(THREAD_STACK_MAX, &slot) != 0 && slot == s[THREAD_STACK_CACHE - 1]);
	CHECK_EQ(mapped[slot], THREAD_STACK_MAX / PAGE);
}

/* The cache is full: A's pages go back at once, its slot after the round. */
static unsigned fill_cache_then_end_one(void)
{
	unsigned s[THREAD_STACK_CACHE + 1];
	for (unsigned i = 0; i <= THREAD_STACK_CACHE; i++)
		s[i] = get();
	for (unsigned i = 0; i < THREAD_STACK_CACHE; i++)
		stack_put(s[i]);
	stack_put(s[THREAD_STACK_CACHE]);
	return s[THREAD_STACK_CACHE];
}

/* Takes the cached slots, so that the next get looks further. */
static void drain_cache(void)
{
	while (P.ncache)
		get();
}

TEST(slot_waits_for_every_core)
{
	fresh(3);
	unsigned a = fill_cache_then_end_one();
	CHECK_EQ(mapped[a], 0); /* pages back at once */
	CHECK_EQ(stack_pages_held(), THREAD_STACK_CACHE * STACK / PAGE);
	CHECK(asked(1) && asked(2) && !asked(0));
	drain_cache();
	unsigned b = get();
	CHECK(b != a); /* not before the round ended */
	answer(1);
	CHECK(get() != a); /* one answer is not enough */
	answer(2);
	CHECK_EQ(get(), a);
	CHECK_EQ(mapped[a], STACK / PAGE);
}

TEST(full_ring_asked_again)
{
	fresh(3);
	ring_full[2] = true;
	unsigned a = fill_cache_then_end_one();
	CHECK(asked(1) && !asked(2));
	run_timers(RETRY_NS); /* still full */
	CHECK(!asked(2));
	ring_full[2] = false;
	sent_clear();
	run_timers(RETRY_NS);
	CHECK(asked(2) && !asked(1));
	answer(1);
	answer(2);
	drain_cache();
	CHECK_EQ(get(), a);
}

TEST(one_round_at_a_time)
{
	unsigned s[THREAD_STACK_CACHE + 2];
	fresh(3);
	for (unsigned i = 0; i < THREAD_STACK_CACHE + 2; i++)
		s[i] = get();
	for (unsigned i = 0; i < THREAD_STACK_CACHE; i++)
		stack_put(s[i]);
	unsigned a = s[THREAD_STACK_CACHE], b = s[THREAD_STACK_CACHE + 1];
	stack_put(a); /* the first round, for a */
	CHECK(asked(1) && asked(2));
	sent_clear();
	stack_put(b); /* dirty while a round is in flight: it waits for the next */
	CHECK_EQ(nsent, 0);
	answer(1);
	answer(2); /* the first round ends: a is clean, b waits */
	CHECK_EQ(nsent, 0);
	run_timers(0); /* the next round starts from the loop, not from the reply handler */
	CHECK(asked(1) && asked(2));
	drain_cache();
	CHECK_EQ(get(), a);
	CHECK(get() != b);
	answer(1);
	answer(2);
	CHECK_EQ(get(), b);
}

TEST(one_core_needs_no_round)
{
	fresh(1);
	unsigned a = fill_cache_then_end_one();
	CHECK_EQ(nsent, 0);
	drain_cache();
	CHECK_EQ(get(), a);
}

TEST(failed_mapping_gives_the_slot_back)
{
	fresh(3);
	map_fails = 1;
	unsigned slot;
	CHECK_EQ(stack_get(STACK, &slot), 0);
	unsigned a = get();
	CHECK_EQ(a, 0); /* the slot that failed, from the clean list */
	stack_put(a);
	map_fails = 1;
	CHECK_EQ(stack_get(THREAD_STACK_MAX, &slot), 0); /* growing a cached one fails */
	CHECK_EQ(P.ncache, 1);
	CHECK_EQ(mapped[a], STACK / PAGE); /* it keeps what it had */
	CHECK_EQ(get(), a);
}

TEST(reserve_keeps_pages)
{
	fresh(3);
	ring_full[1] = ring_full[2] = true; /* cores that never answer */
	/* use slots until fewer than STACK_RESERVE were never used */
	unsigned n = SLOTS - STACK_RESERVE + 1;
	unsigned *s = malloc(sizeof(unsigned) * n);
	for (unsigned i = 0; i < n; i++)
		s[i] = get();
	CHECK(s[n - 1] != ~0u);
	for (unsigned i = 0; i < n; i++)
		stack_put(s[i]);
	CHECK_EQ(P.ndirty, 0);
	CHECK_EQ(stack_pages_held(), n * STACK / PAGE);
	/* all reusable at once, their pages still mapped */
	for (unsigned i = 0; i < n; i++)
		CHECK(get() != ~0u);
	CHECK_EQ(pages_mapped(), n * STACK / PAGE);
	CHECK_EQ(P.next_slot, n);
	free(s);
}

TEST(the_other_side)
{
	fresh(3);
	core_self = 2;
	struct msg m = { .type = MSG_STACK_FLUSH, .src = 0 };
	on_flush(&m);
	core_self = 0;
	CHECK_EQ(tlb_flushes, 1);
	CHECK_EQ(nsent, 1);
	CHECK(sent[0].type == MSG_STACK_FLUSHED && sent[0].w[6] == 0 && sent[0].src == 2);
}

int main(void)
{
	RUN(cache_keeps_pages);
	RUN(slot_waits_for_every_core);
	RUN(full_ring_asked_again);
	RUN(one_round_at_a_time);
	RUN(one_core_needs_no_round);
	RUN(failed_mapping_gives_the_slot_back);
	RUN(reserve_keeps_pages);
	RUN(the_other_side);
	TEST_EXIT();
}
