/*
 * watchdog - a thread that never yields, for the watchdog to report. tests/run --only watchdog
 * boots it and reads the report in the log (the guest cannot see its own console); the guest
 * itself checks that the other cores kept serving meanwhile.
 *
 *   (no argument)  core 1 (core 0 when it is alone) runs watchdog_spinner, which spins SPIN_MS
 *                  in watchdog_spin_loop without yielding, interrupts on. Meanwhile core 0
 *                  sleeps in SLEEP_MS steps, each of which must end on time, and with 3 or more
 *                  cores asks every other core but the spinning one for an answer (msg_call
 *                  there, msg_call_reply back) after each sleep, which must come within
 *                  ANSWER_MS.
 *   cli            the same with interrupts off on the spinning core during the spin: no timer
 *                  interrupt reaches it, only an NMI.
 *   all            every core spins at once (main on core 0 too): nobody is left to watch, so
 *                  each core must notice itself from its own timer.
 *   yields N       no spin: main yields N times in batches of 10000 and prints the best batch's
 *                  time per yield, which is one pass of the scheduler loop (heartbeat
 *                  included): with and without watchdog=0, the heartbeat's cost
 *                  (docs/architecture.md).
 *
 * Cases: watchdog_spin (the spinner spun its time and ended), watchdog_serving (core 0's sleeps
 * and the other cores' answers during the spin; not with 1 core).
 */
#include <stdlib.h>
#include <string.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "arch/x86_64/arch.h"
#include "gtest.h"

#define SPIN_MS 3000   /* three default watchdog timeouts */
#define SLEEP_MS 20    /* core 0's sleeps while the spinner spins */
#define LATE_MS 500    /* a sleep may end this late (TCG on a busy host) */
#define ANSWER_MS 1000 /* a core must answer within this */

/* volatile: every round is stored, so the loop is not optimized away. */
static volatile uint64_t sink;
/* [a] the spinner finished its spin (written on its core, read on core 0) */
static bool spun;

/* Not static, not inlined: the report must find the name in the symbol table. Almost all the
 * time goes to the inner loop, so the interrupt that asks for the report lands in this very
 * function, not in the clock. */
__attribute__((noinline)) void watchdog_spin_loop(uint64_t ms, bool cli)
{
	uint64_t end = now_ns() + ms * 1000000;
	if (cli)
		irq_disable();
	while (now_ns() < end)
		for (unsigned i = 0; i < 100000; i++)
			sink = sink * 6364136223846793005ull + i;
	if (cli)
		irq_enable();
}

__attribute__((noinline)) int watchdog_spinner(void *cli)
{
	uint64_t t0 = now_ns();
	watchdog_spin_loop(SPIN_MS, cli != NULL);
	/* Release: the spin is over before core 0 sees the flag. */
	__atomic_store_n(&spun, true, __ATOMIC_RELEASE);
	return (int)((now_ns() - t0) / 1000000);
}

/* A question to another core and its answer, on core 0's stack. */
struct question {
	struct thread *asker; /* the waiting thread on core 0 */
	bool answered;        /* set on core 0 by the answer's handler */
};

static void answer(void *arg)
{
	struct question *q = arg;
	q->answered = true;
	thread_wake(q->asker);
}

static void ask(void *arg)
{
	msg_call_reply(0, answer, arg); /* a request handler's one reply: it fits */
}

/* Asks core c and waits for the answer, at most ANSWER_MS; true if it came. */
static bool ask_core(unsigned c)
{
	struct question q = { thread_self(), false };
	if (msg_call(c, ask, &q) < 0)
		return false;
	for (uint64_t end = now_ns() + ANSWER_MS * 1000000ull; !q.answered && now_ns() < end;)
		sleep_ms(1);
	bool in_time = q.answered;
	/* A late answer still comes to q, which lives on this stack: wait for it. */
	while (!q.answered)
		sleep_ms(10);
	return in_time;
}

/* Every core spins at once; each spinner must have spun its time. */
static int spin_everywhere(void)
{
	unsigned n = core_count();
	struct thread *t[64] = { NULL };
	printf("watchdog: every core spins %u ms without yielding\n", SPIN_MS);
	gtest_begin("watchdog_spin");
	for (unsigned c = 1; c < n && c < 64; c++)
		CHECK((t[c] = thread_create(c, watchdog_spinner, NULL)) != NULL);
	int ms = watchdog_spinner(NULL);
	CHECKF(ms >= SPIN_MS, "core 0 spun %d ms, want %u", ms, SPIN_MS);
	for (unsigned c = 1; c < n && c < 64; c++) {
		ms = 0;
		CHECK(t[c] && thread_join(t[c], &ms) == 0);
		CHECKF(ms >= SPIN_MS, "core %u spun %d ms, want %u", c, ms, SPIN_MS);
	}
	gtest_end();
	return gtest_status();
}

/* Prints the best time per thread_yield over batches of 10000, n yields in all. */
static int time_yields(int n)
{
	uint64_t best = UINT64_MAX;
	for (int done = 0; done < n; done += 10000) {
		uint64_t t0 = now_ns();
		for (int i = 0; i < 10000; i++)
			thread_yield();
		uint64_t ns = now_ns() - t0;
		best = ns < best ? ns : best;
	}
	printf("watchdog: %d yields, best batch %lu ns per yield (a scheduler pass)\n", n,
	       best / 10000);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "all") == 0)
		return spin_everywhere();
	if (argc > 2 && strcmp(argv[1], "yields") == 0)
		return time_yields(atoi(argv[2]));
	bool cli = argc > 1 && strcmp(argv[1], "cli") == 0;
	unsigned n = core_count(), spin_core = n > 1 ? 1 : 0;
	printf("watchdog: core %u spins %u ms without yielding, interrupts %s\n", spin_core,
	       SPIN_MS, cli ? "off" : "on");
	gtest_begin("watchdog_spin");
	struct thread *t = thread_create(spin_core, watchdog_spinner, cli ? (void *)1 : NULL);
	CHECK(t != NULL);
	if (!t) {
		gtest_end();
		return gtest_status();
	}

	uint64_t sleeps = 0, worst_ns = 0, asked = 0, unanswered = 0;
	/* Acquire: pairs with the spinner's release. */
	while (spin_core != 0 && !__atomic_load_n(&spun, __ATOMIC_ACQUIRE)) {
		uint64_t t0 = now_ns();
		sleep_ms(SLEEP_MS);
		uint64_t late = now_ns() - t0 - SLEEP_MS * 1000000ull;
		worst_ns = late > worst_ns ? late : worst_ns;
		sleeps++;
		for (unsigned c = 2; c < n; c++, asked++)
			unanswered += !ask_core(c);
	}
	int ms = 0;
	CHECK(thread_join(t, &ms) == 0);
	CHECKF(ms >= SPIN_MS, "spun %d ms, want %u", ms, SPIN_MS);
	gtest_end();

	if (spin_core != 0) {
		gtest_begin("watchdog_serving");
		printf("watchdog: core 0 slept %lu times meanwhile, at worst %lu ms late; %lu "
		       "questions to cores 2.., %lu unanswered\n",
		       sleeps, worst_ns / 1000000, asked, unanswered);
		CHECKF(sleeps >= SPIN_MS / (SLEEP_MS + LATE_MS), "only %lu sleeps", sleeps);
		CHECKF(worst_ns <= LATE_MS * 1000000ull, "a sleep ended %lu ms late",
		       worst_ns / 1000000);
		CHECKF(unanswered == 0, "%lu of %lu questions unanswered within %u ms", unanswered,
		       asked, ANSWER_MS);
		CHECK(n < 3 || asked >= sleeps);
		gtest_end();
	}
	return gtest_status();
}
