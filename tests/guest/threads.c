/*
 * threads - 10,000 threads alive at the same time, spread over all cores.
 *
 * A spawner thread on every core creates its share of the threads locally (8 KiB stacks);
 * each new thread checks in and blocks at a gate until main has seen all of them exist (every
 * core's threads_live counts them). main then opens the gates (msg_call to each core); the
 * threads sleep a few ms, yield a few times and exit with a value that depends on their index.
 * main, on core 0, joins every one of them (most are remote joins) and checks the values.
 * Afterwards every core's threads_live is back to its baseline. A second round does the same
 * again and must not need new memory or stack slots: its stacks lie within the range the first
 * round used and every core's free pages (with those of its stack cache) and heap blocks end
 * where the first round's did.
 */
#include <stdio.h>
#include <stdlib.h>
#include <isle/core.h>
#include <isle/mem.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "gtest.h"

#define MAX_NCORES 64
#define NTHREADS 10000
#define STACK_SIZE 8192
#define ROUNDS 2

static struct thread *tids[NTHREADS];          /* written by the spawner of the thread's core */
static uintptr_t stack_seen[ROUNDS][NTHREADS]; /* a local variable's address, per thread */

/* Per-core state, each written only by threads and handlers of its own core. */
struct core_state {
	unsigned arrived;      /* threads of this round that reached the gate */
	unsigned created;      /* threads this core's spawner created */
	int gate_open;         /* set by open_gate on this core */
	int round;             /* the running round */
	uint64_t live_at_gate; /* threads_live while all threads waited at the gate */
} __attribute__((aligned(64)));
static struct core_state cs[MAX_NCORES];

struct snapshot {
	struct sched_stats sched; /* of one core */
	struct mem_stats mem;
};

static int expected_ret(unsigned i, int round)
{
	return (int)(i * 3 + 1) + round * 100000;
}

static int member(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	struct core_state *s = &cs[core_id()];
	volatile char local = 0;
	stack_seen[s->round][i] = (uintptr_t)&local;
	s->arrived++;
	while (!s->gate_open)
		thread_block();
	sleep_ms(1 + i % 4);
	for (int k = 0; k < 3; k++)
		thread_yield();
	return expected_ret(i, s->round) + local;
}

/* Runs on core c (handler context, or main's thread for core 0): let its threads go. */
static void open_gate(void *arg)
{
	(void)arg;
	unsigned c = core_id(), n = core_count();
	cs[c].gate_open = 1;
	for (unsigned i = c; i < NTHREADS; i += n)
		if (tids[i])
			thread_wake(tids[i]);
}

static int spawner(void *arg)
{
	unsigned c = core_id(), n = core_count();
	struct core_state *s = &cs[c];
	s->round = (int)(uintptr_t)arg;
	s->arrived = s->created = 0;
	s->gate_open = 0;
	for (unsigned i = c; i < NTHREADS; i += n) {
		tids[i] = thread_create_stack(c, member, (void *)(uintptr_t)i, STACK_SIZE);
		if (tids[i])
			s->created++;
	}
	/* Let them all run up to the gate. */
	uint64_t t0 = now_ns();
	while (s->arrived < s->created && now_ns() - t0 < 10000000000ull)
		sleep_ms(1);
	struct sched_stats st;
	sched_stats(&st);
	s->live_at_gate = st.threads_live;
	return (int)s->created;
}

static int take_snapshot(void *arg)
{
	struct snapshot *snap = arg;
	sched_stats(&snap[core_id()].sched);
	mem_stats(&snap[core_id()].mem);
	return 0;
}

static void snapshot_all(struct snapshot *snap)
{
	for (unsigned c = 0; c < core_count(); c++) {
		struct thread *t = thread_create(c, take_snapshot, snap);
		CHECK(t != NULL && thread_join(t, NULL) == 0);
	}
}

static struct snapshot base[MAX_NCORES], after[ROUNDS][MAX_NCORES];

static void run_round(int round)
{
	unsigned n = core_count();
	uint64_t t0 = now_ns();
	struct thread *sp[MAX_NCORES];
	for (unsigned c = 0; c < n; c++)
		CHECK((sp[c] = thread_create(c, spawner, (void *)(uintptr_t)round)) != NULL);
	unsigned total = 0;
	for (unsigned c = 0; c < n; c++) {
		int made = 0;
		if (!sp[c])
			continue;
		CHECK(thread_join(sp[c], &made) == 0);
		unsigned share = NTHREADS / n + (c < NTHREADS % n);
		CHECKF((unsigned)made == share, "core %u created %d of %u threads", c, made, share);
		CHECKF(cs[c].arrived == cs[c].created, "core %u: %u of %u threads reached the gate",
		       c, cs[c].arrived, cs[c].created);
		/* All of them (and the spawner) existed at once. */
		CHECKF(cs[c].live_at_gate >= base[c].sched.threads_live + share,
		       "core %u: %lu threads live at the gate", c, cs[c].live_at_gate);
		total += (unsigned)made;
	}
	CHECK(total == NTHREADS);
	uint64_t t1 = now_ns();

	for (unsigned c = 1; c < n; c++)
		CHECK(msg_call(c, open_gate, NULL) == 0);
	open_gate(NULL);

	unsigned wrong = 0, failed = 0;
	for (unsigned i = 0; i < NTHREADS; i++) {
		int ret = -1;
		if (!tids[i])
			continue;
		if (thread_join(tids[i], &ret) != 0)
			failed++;
		else if (ret != expected_ret(i, round))
			wrong++;
		tids[i] = NULL;
	}
	CHECKF(failed == 0, "%u joins failed", failed);
	CHECKF(wrong == 0, "%u threads returned the wrong value", wrong);
	uint64_t t2 = now_ns();

	snapshot_all(after[round]);
	for (unsigned c = 0; c < n; c++) {
		const struct sched_stats *a = &after[round][c].sched, *b = &base[c].sched;
		CHECKF(a->threads_live == b->threads_live,
		       "core %u: %lu threads live, baseline %lu", c, a->threads_live,
		       b->threads_live);
		CHECK(a->threads_created - b->threads_created ==
		      a->threads_exited - b->threads_exited);
		CHECK(a->threads_created - b->threads_created >= NTHREADS / n);
	}
	printf("threads: round %d: %u threads on %u cores: created in %lu ms, run and joined in "
	       "%lu ms\n",
	       round, NTHREADS, n, (t1 - t0) / 1000000, (t2 - t1) / 1000000);
}

int main(void)
{
	unsigned n = core_count();
	snapshot_all(base);

	gtest_begin("threads_10000");
	run_round(0);
	gtest_end();

	gtest_begin("threads_reuse");
	run_round(1);
	for (unsigned c = 0; c < n; c++) {
		/* Slots are reused: round 1 takes no slot above the highest one round 0 used (the
		 * spawners and helper threads shift a few stacks around, so not the same set). */
		uintptr_t max0 = 0, max1 = 0;
		for (unsigned i = c; i < NTHREADS; i += n) {
			max0 = stack_seen[0][i] > max0 ? stack_seen[0][i] : max0;
			max1 = stack_seen[1][i] > max1 ? stack_seen[1][i] : max1;
		}
		CHECKF(max1 <= max0, "core %u: round 1 used a stack at %#lx, above round 0's %#lx",
		       c, max1, max0);
		const struct mem_stats *m0 = &after[0][c].mem, *m1 = &after[1][c].mem;
		/* The stack cache may hold other slots (of other sizes) after each round: its
		 * pages count as free. */
		CHECKF(m1->free_pages + m1->stack_pages == m0->free_pages + m0->stack_pages,
		       "core %u: free pages %zu + stack pages %zu after round 1, %zu + %zu after "
		       "round 0",
		       c, m1->free_pages, m1->stack_pages, m0->free_pages, m0->stack_pages);
		CHECKF(m1->heap_blocks == m0->heap_blocks,
		       "core %u: heap blocks %zu after round 1, "
		       "%zu after round 0",
		       c, m1->heap_blocks, m0->heap_blocks);
	}
	gtest_end();
	return gtest_status();
}
