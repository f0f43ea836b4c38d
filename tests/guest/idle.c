/*
 * idle - every core sleeps for 3 s (main on core 0, and one thread per core), so the runner
 * can measure how much host CPU an idle VM costs (idle cores must halt, not spin).
 */
#include <stdlib.h>
#include <isle/core.h>
#include <isle/thread.h>
#include "gtest.h"

#define IDLE_MS 3000

static int sleeper(void *arg)
{
	(void)arg;
	sleep_ms(IDLE_MS);
	return 0;
}

int main(void)
{
	gtest_begin("idle_sleep");
	struct thread *t[ISLE_MAX_CORES];
	unsigned n = core_count();
	uint64_t t0 = now_ns();
	for (unsigned c = 0; c < n; c++)
		CHECK((t[c] = thread_create(c, sleeper, NULL)) != NULL);
	sleep_ms(IDLE_MS);
	for (unsigned c = 0; c < n; c++)
		if (t[c])
			CHECK(thread_join(t[c], NULL) == 0);
	uint64_t ms = (now_ns() - t0) / 1000000;
	CHECKF(ms >= IDLE_MS, "slept %lu ms", ms);
	gtest_end();
	return gtest_status();
}
