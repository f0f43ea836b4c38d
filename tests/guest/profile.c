/*
 * profile - a known load for the profiler. tests/run --only profile boots it with profile=HZ and
 * checks what ci/profile-report makes of the dump: the last core spins in profile_busy_loop
 * (called from profile_busy_outer) while core 0 waits, halted.
 *
 *   (no argument)  the last core spins for BUSY_MS and main returns: the dump comes from exit().
 *                  Also checks that core 0 halted through the profiling ticks: a tick must not
 *                  count as a wake-up, or a profiled idle core would poll after every tick.
 *                  Prints the rounds per second the busy core did: with and without profile=,
 *                  the profiler's cost to a busy core (docs/profiling.md).
 *   forever        the last core spins in a thread that never yields and main sleeps: only
 *                  profile_seconds=N ends the run, and the dump must still reach the busy core.
 *   work N         main does N rounds of profile_busy_loop and returns: a fixed amount of
 *                  work, whose host CPU time with and without profile= is the profiler's cost
 *                  (docs/profiling.md).
 */
#include <stdlib.h>
#include <string.h>
#include <isle/core.h>
#include <isle/thread.h>
#include "gtest.h"

#define BUSY_MS 1500
#define MAX_WAKEUPS 100 /* core 0's wake-ups while it waits BUSY_MS (a handful are real) */

/* volatile: the result of every round is stored, so the loops are not optimized away. */
static volatile uint64_t sink;

/* Not static, not inlined: the report must find these names in the symbol table. */
__attribute__((noinline)) uint64_t profile_busy_loop(uint64_t n)
{
	uint64_t x = n;
	for (uint64_t i = 0; i < n; i++)
		x = x * 6364136223846793005ull + i;
	return x;
}

/* Spins for BUSY_MS (arg not NULL) or for ever; returns the rounds of profile_busy_loop. */
__attribute__((noinline)) int profile_busy_outer(void *arg)
{
	uint64_t end = arg ? now_ns() + (uint64_t)BUSY_MS * 1000000 : UINT64_MAX;
	int rounds = 0;
	for (; now_ns() < end; rounds++)
		sink = profile_busy_loop(200000 + (sink & 1));
	return rounds;
}

int main(int argc, char **argv)
{
	unsigned busy = core_count() - 1;
	if (argc > 2 && strcmp(argv[1], "work") == 0) {
		int n = atoi(argv[2]);
		uint64_t t0 = now_ns();
		for (int i = 0; i < n; i++)
			sink = profile_busy_loop(200000 + (sink & 1));
		printf("profile_work: %d rounds in %lu ms\n", n, (now_ns() - t0) / 1000000);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "forever") == 0) {
		printf("profile: spinning on core %u until profile_seconds end the run\n", busy);
		if (thread_spawn(busy, profile_busy_outer, NULL) < 0)
			return 1;
		for (;;)
			sleep_ms(1000);
	}
	gtest_begin("profile_busy");
	struct sched_stats before, after;
	sched_stats(&before);
	struct thread *t = thread_create(busy, profile_busy_outer, (void *)1);
	int rounds = 0;
	CHECK(t != NULL);
	if (t)
		CHECK(thread_join(t, &rounds) == 0);
	printf("profile_busy: %d rounds/s on core %u\n", rounds * 1000 / BUSY_MS, busy);
	sched_stats(&after);
	uint64_t wakeups = after.wakeups - before.wakeups;
	if (busy != 0)
		CHECKF(wakeups < MAX_WAKEUPS, "core 0 woke %lu times in %u ms", wakeups, BUSY_MS);
	gtest_end();
	return gtest_status();
}
