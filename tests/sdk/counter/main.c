#include <stdio.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/percore.h>
#include <isle/thread.h>

#define NKEYS 16

enum { MSG_INCR = MSG_USER, MSG_INCR_DONE };

PERCORE static uint64_t shard[NKEYS]; /* this core's keys; same address, own copy per core */

struct wait {
	struct thread *waiter;
	uint64_t value;
	int done;
};

static void on_incr(const struct msg *m) /* a request, on the key's core */
{
	uint64_t v = ++shard[m->w[1]];
	struct msg r = { .type = MSG_INCR_DONE, .w = { m->w[0], v } };
	msg_reply(m->src, &r); /* a request handler's one reply to m->src always fits */
}
MSG_HANDLER(MSG_INCR, on_incr);

static void on_incr_done(const struct msg *m) /* the reply, on the asking core */
{
	struct wait *w = (struct wait *)(uintptr_t)m->w[0];
	w->value = m->w[1];
	w->done = 1;
	thread_wake(w->waiter);
}
MSG_HANDLER(MSG_INCR_DONE, on_incr_done);

static uint64_t incr(unsigned key)
{
	unsigned home = key % core_count();
	if (home == core_id())
		return ++shard[key]; /* our own shard: no message */
	struct wait w = { .waiter = thread_self() };
	struct msg m = { .type = MSG_INCR, .w = { (uintptr_t)&w, key } };
	msg_send(home, &m);
	while (!w.done)
		thread_block();
	return w.value;
}

static int client(void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < 100 * NKEYS; i++)
		incr(i % NKEYS);
	return 0;
}

int main(void)
{
	unsigned n = core_count();
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < n; c++)
		t[c] = thread_create(c, client, NULL);
	for (unsigned c = 0; c < n; c++)
		thread_join(t[c], NULL);
	printf("key 3 = %lu (expect %u)\n", incr(3) - 1, n * 100);
	uint64_t sum = 0; /* every core's shard, read after the joins: nobody writes them now */
	for (unsigned c = 0; c < n; c++)
		for (unsigned k = 0; k < NKEYS; k++)
			sum += percore_of(&shard[0], c)[k];
	printf("all keys = %lu (expect %u)\n", sum, n * 100 * NKEYS + 1);
	return 0;
}
