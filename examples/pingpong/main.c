/*
 * pingpong - how fast do cores talk? For every pair of cores (a, b), a thread on a sends a
 * PING to b, b's handler answers PONG, and the thread waits for it: the round-trip time is
 * measured over many trips. Then every core streams one-way messages to every other core at
 * once, and each core reports how many it received per second.
 *
 *   make run APP=pingpong CORES=4
 */
#include <stdio.h>
#include <stdlib.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/thread.h>

#define TRIPS 2000
#define STREAM 50000

enum { MSG_PING = MSG_USER, MSG_PONG, MSG_DATA };

struct trip {
	struct thread *waiter; /* the measuring thread (lives on the sender's core) */
	uint64_t got;          /* pongs received */
};

static void on_ping(const struct msg *m)
{
	struct msg r = { .type = MSG_PONG, .w = { m->w[0] } };
	msg_reply(m->src, &r); /* on_pong sends nothing: a reply, which always fits here */
}
MSG_HANDLER(MSG_PING, on_ping);

static void on_pong(const struct msg *m)
{
	struct trip *t = (struct trip *)(uintptr_t)m->w[0];
	t->got++;
	thread_wake(t->waiter);
}
MSG_HANDLER(MSG_PONG, on_pong);

struct pair {
	unsigned to;     /* the core to ping */
	uint64_t rtt_ns; /* result: mean round trip */
};

static int ping_thread(void *arg)
{
	struct pair *p = arg;
	struct trip t = { .waiter = thread_self() };
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < TRIPS; i++) {
		struct msg m = { .type = MSG_PING, .w = { (uintptr_t)&t } };
		msg_send(p->to, &m);
		while (t.got <= i)
			thread_block();
	}
	p->rtt_ns = (now_ns() - t0) / TRIPS;
	return 0;
}

/* ---- streaming -------------------------------------------------------------------------------- */

/* One per core, written by that core's handler only and read by main after the threads are
 * joined; a cache line each so that cores never write the same line. */
struct counter {
	uint64_t received;          /* [o] of the receiving core */
	uint64_t first_ns, last_ns; /* [o] when the first and last message arrived */
} __attribute__((aligned(64)));
static struct counter counters[ISLE_MAX_CORES];

static void on_data(const struct msg *m)
{
	struct counter *c = &counters[core_id()];
	if (!c->received)
		c->first_ns = now_ns();
	c->received++;
	c->last_ns = now_ns();
	(void)m;
}
MSG_HANDLER(MSG_DATA, on_data);

static int stream_thread(void *arg)
{
	(void)arg;
	unsigned n = core_count();
	core_barrier();
	for (unsigned i = 0; i < STREAM; i++) {
		for (unsigned d = 0; d < n; d++) {
			if (d == core_id())
				continue;
			struct msg m = { .type = MSG_DATA, .w = { i } };
			msg_send(d, &m);
		}
	}
	core_barrier();
	return 0;
}

int main(void)
{
	unsigned n = core_count();
	if (n < 2) {
		printf("pingpong needs at least 2 cores (make run APP=pingpong CORES=4)\n");
		return 1;
	}
	printf("round trip between cores (ns, mean of %d):\n", TRIPS);
	printf("from\\to");
	for (unsigned b = 0; b < n; b++)
		printf(" %7u", b);
	printf("\n");
	for (unsigned a = 0; a < n; a++) {
		printf("%7u", a);
		for (unsigned b = 0; b < n; b++) {
			if (a == b) {
				printf(" %7s", "-");
				continue;
			}
			struct pair p = { .to = b };
			struct thread *t = thread_create(a, ping_thread, &p);
			thread_join(t, NULL);
			printf(" %7lu", p.rtt_ns);
		}
		printf("\n");
	}

	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < n; c++)
		t[c] = thread_create(c, stream_thread, NULL);
	for (unsigned c = 0; c < n; c++)
		thread_join(t[c], NULL);
	uint64_t total = 0;
	printf("one-way streaming, every core to every other core at once:\n");
	for (unsigned c = 0; c < n; c++) {
		struct counter *k = &counters[c];
		uint64_t ns = k->last_ns > k->first_ns ? k->last_ns - k->first_ns : 1;
		uint64_t rate = k->received * 1000000000ull / ns;
		total += rate;
		printf("  core %u received %lu messages, %lu msgs/s\n", c, k->received, rate);
	}
	printf("  total %lu msgs/s\n", total);
	return 0;
}
