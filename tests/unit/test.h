/*
 * test.h - a tiny host unit-test harness.
 *
 * A test file defines TEST(name) functions and lists them in main() with RUN(name). CHECK()
 * records a failure and goes on; REQUIRE() stops the current test. Every test prints one line,
 * "ok <file> <name>" or "FAIL <file> <name>: <reason>", and main returns non-zero if any failed.
 * The runner (tests/run) counts those lines.
 */
#ifndef ISLE_TEST_H
#define ISLE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_;  /* failures in the current test */
static int tests_failed_; /* tests that failed in this file */

#define TEST(name) static void name(void)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			test_failed_++;                                                            \
		}                                                                                  \
	} while (0)

#define CHECK_EQ(a, b)                                                                          \
	do {                                                                                    \
		long long a_ = (long long)(a), b_ = (long long)(b);                             \
		if (a_ != b_) {                                                                 \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
			        __LINE__, #a, a_, #b, b_);                                      \
			test_failed_++;                                                         \
		}                                                                               \
	} while (0)

#define CHECK_STR(a, b)                                                                       \
	do {                                                                                  \
		const char *a_ = (a), *b_ = (b);                                              \
		if (strcmp(a_, b_) != 0) {                                                    \
			fprintf(stderr, "  %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, \
			        __LINE__, #a, a_, b_);                                        \
			test_failed_++;                                                       \
		}                                                                             \
	} while (0)

#define REQUIRE(cond)                                                                        \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "  %s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, \
			        #cond);                                                      \
			test_failed_++;                                                      \
			return;                                                              \
		}                                                                            \
	} while (0)

#define RUN(name)                                                                    \
	do {                                                                         \
		test_failed_ = 0;                                                    \
		name();                                                              \
		printf("%s %s %s\n", test_failed_ ? "FAIL" : "ok", __FILE__, #name); \
		fflush(stdout);                                                      \
		if (test_failed_)                                                    \
			tests_failed_++;                                             \
	} while (0)

#define TEST_EXIT() return tests_failed_ ? 1 : 0

/* Random numbers that are the same on every run (xorshift64*, one sequence per test program). */
static inline unsigned long long test_rng(void)
{
	static unsigned long long state = 0x243F6A8885A308D3ull;
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545f4914f6cdd1dull;
}

#endif
