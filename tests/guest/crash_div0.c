/*
 * crash_div0 - an integer division by zero in application code must end the VM with the
 * panic status (100) and a report: "integer division by zero", backtrace naming crash_divide.
 * It happens on the last core, so the panic path is also exercised away from the boot core
 * (the crashing core must stop the others, including core 0 where main waits).
 */
#include <stdio.h>
#include <isle/core.h>
#include <isle/thread.h>

static volatile int divisor; /* 0, but the compiler may not assume it */

__attribute__((noinline)) int crash_divide(int x)
{
	return x / divisor;
}

static int divide_on_core(void *arg)
{
	(void)arg;
	printf("crash_div0: dividing by zero on core %u\n", core_id());
	return crash_divide(7);
}

int main(void)
{
	struct thread *t = thread_create(core_count() - 1, divide_on_core, NULL);
	int r = -1;
	if (!t)
		return 3;
	thread_join(t, &r);
	printf("crash_div0: survived, got %d\n", r);
	return 0;
}
