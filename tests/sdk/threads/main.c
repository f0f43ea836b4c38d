#include <stdio.h>
#include <isle/core.h>
#include <isle/thread.h>

/* A one-shot event for threads of one core. */
struct event {
	int set;               /* the condition */
	struct thread *waiter; /* the thread blocked on it, or NULL */
};

static void event_wait(struct event *e)
{
	e->waiter = thread_self();
	while (!e->set)
		thread_block(); /* a wake before this point is not remembered: hence the loop */
	e->waiter = NULL;
}

static void event_set(struct event *e)
{
	e->set = 1;
	if (e->waiter)
		thread_wake(e->waiter); /* same core only */
}

static int square(void *arg)
{
	int x = (int)(long)arg;
	sleep_ms(10);
	return x * x;
}

static int setter(void *arg)
{
	sleep_ms(5);
	event_set(arg);
	return 0;
}

int main(void)
{
	unsigned n = core_count();
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < n; c++)
		t[c] = thread_create(c, square, (void *)(long)c);
	for (unsigned c = 0; c < n; c++) {
		int ret;
		if (t[c] && thread_join(t[c], &ret) == 0)
			printf("core %u: %d\n", c, ret);
	}

	struct event e = { 0, NULL };
	thread_spawn(core_id(), setter, &e); /* detached, on this core */
	event_wait(&e);
	printf("event set after %lu ms\n", now_ns() / 1000000);
	return 0;
}
