#include <stdio.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/percore.h>
#include <isle/thread.h>

enum { MSG_ADD = MSG_USER, MSG_ADD_DONE };

/* The asking thread keeps this on its stack; only its own core touches it. */
struct call {
	struct thread *waiter; /* who to wake */
	uint64_t result;       /* filled by the reply */
	int done;              /* the reply arrived */
};

PERCORE static uint64_t total; /* each core's own running total */

static void on_add(const struct msg *m) /* on the destination core */
{
	total += m->w[1];
	struct msg r = { .type = MSG_ADD_DONE, .w = { m->w[0], total } };
	msg_reply(m->src, &r); /* a request handler's one reply to m->src always fits */
}
MSG_HANDLER(MSG_ADD, on_add);

static void on_add_done(const struct msg *m) /* back on the asking core */
{
	struct call *c = (struct call *)(uintptr_t)m->w[0];
	c->result = m->w[1];
	c->done = 1;
	thread_wake(c->waiter);
}
MSG_HANDLER(MSG_ADD_DONE, on_add_done);

static uint64_t remote_add(unsigned core, uint64_t v)
{
	struct call c = { .waiter = thread_self() };
	struct msg m = { .type = MSG_ADD, .w = { (uintptr_t)&c, v } };
	if (msg_send(core, &m) < 0)
		return 0;
	while (!c.done)
		thread_block();
	return c.result;
}

static void hello(void *arg)
{
	(void)arg;
	printf("msg_call ran on core %u\n", core_id());
}

static int worker(void *arg)
{
	(void)arg;
	core_barrier(); /* every core's worker gets here before any goes on */
	return 0;
}

int main(void)
{
	unsigned n = core_count();
	for (unsigned c = 1; c < n; c++)
		printf("core %u total %lu\n", c, remote_add(c, 10 * c));
	if (n > 1)
		msg_call(1, hello, NULL);
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < n; c++)
		t[c] = thread_create(c, worker, NULL);
	for (unsigned c = 0; c < n; c++)
		thread_join(t[c], NULL);
	struct msg_stats s;
	msg_stats(&s);
	printf("core 0 sent %lu, received %lu, doorbells %lu\n", s.sent, s.received, s.doorbells);
	return 0;
}
