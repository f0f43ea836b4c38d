/*
 * crash_assert - a failed assert() in application code ends the VM with the panic status (100)
 * and a report: "assertion failed in crash_check_invariant", and a backtrace naming it.
 */
#include <assert.h>
#include <stdio.h>

static volatile int one = 1;

__attribute__((noinline)) void crash_check_invariant(void)
{
	assert(1 == 2);
	printf("crash_assert: survived a failed assertion\n");
}

int main(void)
{
	printf("crash_assert: asserting 1 == 2\n");
	if (one)
		crash_check_invariant();
	return 0;
}
