/*
 * crash_stack - unbounded recursion in a thread with a small stack runs into the guard page
 * below the stack; the VM must end with the panic status (100) and a report: "stack overflow"
 * diagnosis, backtrace naming crash_recurse.
 */
#include <stdio.h>
#include <isle/thread.h>

static volatile unsigned depth_limit = ~0u; /* never reached; keeps gcc from calling it infinite */

__attribute__((noinline)) unsigned crash_recurse(unsigned depth)
{
	volatile char frame[200]; /* ~256 bytes a call: 8 KiB lasts about 30 calls */
	frame[0] = (char)depth;
	if (depth >= depth_limit)
		return frame[0];
	return crash_recurse(depth + 1) + frame[0]; /* not a tail call */
}

static int overflow(void *arg)
{
	(void)arg;
	return (int)crash_recurse(0);
}

int main(void)
{
	printf("crash_stack: recursing without end in a thread with an 8 KiB stack\n");
	struct thread *t = thread_create_stack(0, overflow, NULL, 8192);
	if (!t)
		return 3;
	int ret = 0;
	thread_join(t, &ret);
	printf("crash_stack: survived, thread returned %d\n", ret);
	return 0;
}
