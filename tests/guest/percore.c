/*
 * percore - per-core globals are private to each core:
 *  - a kernel-style PERCORE variable (initialized, and one left zero),
 *  - the plain library (lib/plain.c: ordinary globals, made per-core by its archive name).
 * Every core first checks the initial values, then all cores change their copies by
 * different amounts at the same time (between barriers), then each checks that it sees
 * exactly its own changes and nobody else's. The variables have the same address everywhere.
 * percore_of: afterwards core 0 reads every core's copies (of both kinds) through it and finds
 * each core's own changes; an address outside the window, or a core that does not run, gives
 * NULL.
 */
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "kernel/compiler.h"
#include "lib/plain.h"
#include "gtest.h"

PERCORE static int x = 7;
PERCORE static long zeroed;

static const void *addr_x[ISLE_MAX_CORES],
        *addr_plain[ISLE_MAX_CORES]; /* shared: written once per core */

static void check_own(unsigned c, int rounds)
{
	int d = (int)c + 1;
	CHECKF(x == 7 + rounds * d * 100, "core %u: x = %d", c, x);
	CHECKF(zeroed == (long)rounds * d, "core %u: zeroed = %ld", c, zeroed);
	CHECKF(plain_value() == PLAIN_INIT + rounds * d, "core %u: plain = %d", c, plain_value());
	for (unsigned i = 0; i < PLAIN_ARRAY; i++)
		CHECKF(plain_array_get(i) == rounds * d * (int)(i + 1), "core %u: array[%u] = %d",
		       c, i, plain_array_get(i));
}

static int worker(void *arg)
{
	(void)arg;
	unsigned c = core_id();
	addr_x[c] = &x;
	addr_plain[c] = plain_address();
	check_own(c, 0); /* initial values, before anyone changed anything */
	core_barrier();
	for (int r = 1; r <= 3; r++) {
		x += ((int)c + 1) * 100;
		zeroed += (long)c + 1;
		plain_add((int)c + 1);
		thread_yield();
		core_barrier(); /* every core has made change r */
		check_own(c, r);
		sleep_ms(1);
		check_own(c, r);
		core_barrier();
	}
	return (int)c;
}

int main(void)
{
	gtest_begin("percore_private");
	unsigned n = core_count();
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < n; c++)
		CHECK((t[c] = thread_create(c, worker, NULL)) != NULL);
	for (unsigned c = 0; c < n; c++) {
		int ret = -1;
		if (t[c]) {
			CHECK(thread_join(t[c], &ret) == 0);
			CHECK(ret == (int)c);
		}
	}
	for (unsigned c = 1; c < n; c++) {
		CHECK(addr_x[c] == addr_x[0]);
		CHECK(addr_plain[c] == addr_plain[0]);
	}
	check_own(0, 3); /* main runs on core 0 and sees core 0's copies */
	gtest_end();

	gtest_begin("percore_of");
	for (unsigned c = 0; c < n; c++) {
		int d = (int)c + 1;
		const int *xc = percore_of(&x, c);
		const long *zc = percore_of(&zeroed, c);
		const int *pc = percore_ptr(plain_address(), c);
		CHECKF(xc && *xc == 7 + 3 * d * 100, "core %u: x = %d", c, xc ? *xc : -1);
		CHECKF(zc && *zc == 3L * d, "core %u: zeroed = %ld", c, zc ? *zc : -1L);
		CHECKF(pc && *pc == PLAIN_INIT + 3 * d, "core %u: plain = %d", c, pc ? *pc : -1);
		CHECK(c == 0 || xc != percore_of(&x, 0)); /* a copy of its own */
	}
	static int not_percore;
	CHECK(percore_of(&not_percore, 0) == NULL);
	CHECK(percore_of(&x, n) == NULL);
	gtest_end();
	return gtest_status();
}
