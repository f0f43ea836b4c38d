/*
 * hello - the smallest isle application: a thread on every core prints its id, main waits for
 * all of them, and the VM exits 0.
 */
#include <stdio.h>
#include <isle/core.h>
#include <isle/thread.h>

static int hello(void *arg)
{
	(void)arg;
	printf("hello from core %u of %u\n", core_id(), core_count());
	return 0;
}

int main(void)
{
	struct thread *t[ISLE_MAX_CORES];
	unsigned n = core_count();
	for (unsigned c = 0; c < n; c++)
		t[c] = thread_create(c, hello, NULL);
	for (unsigned c = 0; c < n; c++)
		thread_join(t[c], NULL);
	return 0;
}
