/*
 * libc.c - the small C library isle applications link against: formatted strings, exit,
 * abort, assert, qsort, rand. Memory functions are in mem.c, strings in string.c, output in
 * console.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <isle/thread.h>
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/printf.h"
#include "kernel/profile.h"

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return kvsnprintf(buf, size, fmt, ap);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* The file system, when the image has it (fs/vfs.c). */
extern void fs_shutdown(void) __weak;

__noreturn void exit(int status)
{
	/* Files written but not yet on the disk go there first; only a thread can wait for that. */
	if (fs_shutdown && thread_self())
		fs_shutdown();
	console_flush();
	profile_finish(); /* with profile=: every core's profile to the console */
	if (status < 0 || status > 126) {
		log_warn("exit status %d out of range 0..126; exiting with 1", status);
		status = 1;
	}
	arch_exit(status);
}

__noreturn void abort(void)
{
	panic("abort() called");
}

__noreturn void __assert_fail(const char *cond, const char *file, int line, const char *func)
{
	panic("assertion failed in %s (%s:%d): %s", func, file, line, cond);
}

int abs(int x)
{
	return x < 0 ? -x : x;
}

long labs(long x)
{
	return x < 0 ? -x : x;
}

static void swap_bytes(char *a, char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char t = a[i];
		a[i] = b[i];
		b[i] = t;
	}
}

/* Heapsort: O(n log n) worst case, no recursion, no extra memory. */
static void sift_down(char *base, size_t root, size_t n, size_t size,
                      int (*cmp)(const void *, const void *))
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap_bytes(base + root * size, base + child * size, size);
		root = child;
	}
}

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base;
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(b, b + end * size, size);
		sift_down(b, 0, end, size, cmp);
	}
}

PERCORE static uint64_t rand_state = 0x853c49e6748fea9bull;

void srand(unsigned seed)
{
	rand_state = seed * 0x9E3779B97F4A7C15ull + 1;
}

int rand(void)
{
	/* xorshift64*, per core */
	rand_state ^= rand_state >> 12;
	rand_state ^= rand_state << 25;
	rand_state ^= rand_state >> 27;
	return (int)((rand_state * 0x2545F4914F6CDD1Dull) >> 33);
}
