/*
 * gtest.h - the in-guest test harness: one header, no state outside it.
 *
 * A guest test program runs one or more cases. A case starts with gtest_begin("name"), checks
 * conditions with CHECK(cond) (a failed check prints "FAIL <case>: <file>:<line>: <cond>" and
 * is counted) and ends with gtest_end(), which prints exactly one result line, "ok <case>" or
 * "FAIL <case>", and returns 0 or 1. main() returns gtest_status() (0 when every case passed),
 * which becomes the VM's exit status through ci/qemu-run. tests/run counts the result lines.
 *
 * CHECK may be used from any thread on any core: the counters are only touched with atomic
 * adds, and a case's checks are all done before gtest_end() is called (the test joins its
 * threads first). CHECKF adds a printf-style explanation to the failure line.
 */
#ifndef ISLE_GTEST_H
#define ISLE_GTEST_H

#include <stdio.h>
#include "kernel/compiler.h" /* bool, MIN, ARRAY_SIZE: guest tests are part of the kernel tree */

struct gtest_state {
	const char *name;      /* the running case */
	unsigned failed;       /* [a] failed checks in the running case */
	unsigned cases_failed; /* cases that failed so far */
};

static struct gtest_state gtest_state = { "?", 0, 0 };

static inline void gtest_begin(const char *name)
{
	gtest_state.name = name;
	__atomic_store_n(&gtest_state.failed, 0, __ATOMIC_RELAXED);
}

static inline void gtest_fail(const char *file, int line, const char *cond)
{
	/* Relaxed: the count is read by gtest_end after the test joined whoever checked. */
	__atomic_fetch_add(&gtest_state.failed, 1, __ATOMIC_RELAXED);
	printf("FAIL %s: %s:%d: %s\n", gtest_state.name, file, line, cond);
}

#define CHECK(cond)                                            \
	do {                                                   \
		if (!(cond))                                   \
			gtest_fail(__FILE__, __LINE__, #cond); \
	} while (0)

/* CHECK with an explanation: CHECKF(a == b, "a=%d b=%d", a, b). */
#define CHECKF(cond, ...)                                      \
	do {                                                   \
		if (!(cond)) {                                 \
			gtest_fail(__FILE__, __LINE__, #cond); \
			printf("    ");                        \
			printf(__VA_ARGS__);                   \
			printf("\n");                          \
		}                                              \
	} while (0)

/* Failed checks so far in the running case. */
static inline unsigned gtest_failures(void)
{
	return __atomic_load_n(&gtest_state.failed, __ATOMIC_RELAXED);
}

/* Ends the running case with its one result line; 0 if it passed, 1 if not. */
static inline int gtest_end(void)
{
	if (gtest_failures()) {
		gtest_state.cases_failed++;
		printf("FAIL %s\n", gtest_state.name);
		return 1;
	}
	printf("ok %s\n", gtest_state.name);
	return 0;
}

/* The exit status for main: 0 if every case passed, 1 otherwise. */
static inline int gtest_status(void)
{
	return gtest_state.cases_failed ? 1 : 0;
}

#endif
