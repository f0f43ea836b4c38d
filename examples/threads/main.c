/*
 * threads - thousands of threads per core that sleep, yield and exit. Prints per-core
 * scheduler counters: how many threads were created, how many context switches, how long the
 * core was busy.
 *
 *   make run APP=threads CORES=4
 */
#include <stdio.h>
#include <isle/core.h>
#include <isle/thread.h>

#define PER_CORE 2000

static int worker(void *arg)
{
	uintptr_t i = (uintptr_t)arg;
	sleep_ms(1 + i % 10);
	for (int k = 0; k < 5; k++)
		thread_yield();
	return (int)(i & 0xff);
}

/* One per core: starts PER_CORE workers on its own core and joins them. */
static int spawner(void *arg)
{
	(void)arg;
	static struct thread *t[ISLE_MAX_CORES][PER_CORE];
	struct thread **mine = t[core_id()];
	for (uintptr_t i = 0; i < PER_CORE; i++) {
		mine[i] = thread_create_stack(core_id(), worker, (void *)i, 8192);
		if (!mine[i])
			return -1;
	}
	int bad = 0;
	for (uintptr_t i = 0; i < PER_CORE; i++) {
		int ret;
		thread_join(mine[i], &ret);
		bad += ret != (int)(i & 0xff);
	}
	return bad;
}

int main(void)
{
	unsigned n = core_count();
	uint64_t t0 = now_ns();
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < n; c++)
		t[c] = thread_create(c, spawner, NULL);
	int bad = 0;
	for (unsigned c = 0; c < n; c++) {
		int ret;
		thread_join(t[c], &ret);
		bad += ret != 0;
	}
	uint64_t ms = (now_ns() - t0) / 1000000;
	printf("%u threads on %u cores in %lu ms\n", PER_CORE * n, n, ms);
	for (unsigned c = 0; c < n; c++) {
		struct sched_stats st;
		sched_stats_of(c, &st); /* core c's counters, read without asking it */
		printf("  core %u: %lu threads created, %lu switches, busy %lu ms, idle %lu ms\n",
		       c, st.threads_created, st.switches, st.busy_ns / 1000000,
		       st.idle_ns / 1000000);
	}
	return bad ? 1 : 0;
}
