/*
 * pingpong - how fast do cores talk? For every pair of cores (a, b), a thread on a sends a
 * PING to b, b's handler answers PONG, and the thread waits for it: the round-trip time is the
 * mean over the trips made in `rtt_ms` milliseconds. Then every core streams one-way messages
 * to every other core at once for `stream_ms` milliseconds, and each core reports how many it
 * received per second.
 *
 * Streaming is only "at once" if the cores stream at the same time: every core waits at a
 * barrier of all the cores that take part, then starts its clock, sends until its time is up,
 * tells every other core how many it sent, and stops its clock when it has received every
 * message sent to it. Each core reports that window (on now_ns(), the same clock on every
 * core), and the harness (ci/bench-msg) checks that the windows overlap.
 *
 *   make run APP=pingpong CORES=4
 *   ci/qemu-run -c 64 -m 2G build/pingpong.img -- -- cores=2 rtt_ms=1000 stream_ms=0
 *
 * Arguments (after the second --): cores=N takes only cores 0..N-1 (the others stay idle,
 * halted: ci/bench-scale-tax; unlike the kernel's own cores=N, the other cores exist),
 * rtt_ms=M (default 20; 0 skips the round trips), stream_ms=M (default 200; 0 skips streaming).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "../common/arg_num.h"
#include "../common/idle_report.h"

/* The harness reads QEMU's CPU time when it sees the last measured lines: this long after
 * them, the VM is still there to be read, and the idle cores are not yet woken up to be
 * counted. */
#define HARNESS_GRACE_MS 200

enum { MSG_PING = MSG_USER, MSG_PONG, MSG_DATA, MSG_DATA_END };

static unsigned members;         /* cores 0..members-1 take part; set by main before any thread */
static uint64_t rtt_ms = 20;     /* round trips: measured time per pair */
static uint64_t stream_ms = 200; /* streaming: sending time per core */

/* ---- round trips ------------------------------------------------------------------------------- */

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
	uint64_t trips;  /* result: round trips made */
	uint64_t rtt_ns; /* result: their mean */
};

static int ping_thread(void *arg)
{
	struct pair *p = arg;
	struct trip t = { .waiter = thread_self() };
	uint64_t t0 = now_ns(), end = t0 + rtt_ms * 1000000, i;
	for (i = 0; i == 0 || now_ns() < end; i++) {
		struct msg m = { .type = MSG_PING, .w = { (uintptr_t)&t } };
		msg_send(p->to, &m);
		while (t.got <= i)
			thread_block();
	}
	p->trips = i;
	p->rtt_ns = (now_ns() - t0) / i;
	return 0;
}

static void round_trips(void)
{
	uint64_t trips = 0;
	printf("round trip between cores (ns, mean over %lu ms of trips):\n", rtt_ms);
	printf("from\\to");
	for (unsigned b = 0; b < members; b++)
		printf(" %7u", b);
	printf("\n");
	for (unsigned a = 0; a < members; a++) {
		printf("%7u", a);
		for (unsigned b = 0; b < members; b++) {
			if (a == b) {
				printf(" %7s", "-");
				continue;
			}
			struct pair p = { .to = b };
			struct thread *t = thread_create(a, ping_thread, &p);
			if (!t || thread_join(t, NULL) < 0) {
				printf("\npingpong: core %u: cannot start its thread\n", a);
				exit(EXIT_FAILURE);
			}
			printf(" %7lu", p.rtt_ns);
			trips += p.trips;
		}
		printf("\n");
	}
	printf("round trips: %lu in all\n", trips);
}

/* ---- streaming -------------------------------------------------------------------------------- */

/* One per core, written by that core only (its handlers and its stream thread) and read by
 * main after the threads are joined; a cache line each so that cores never write the same
 * line. */
struct counter {
	uint64_t received;     /* [o] data messages received */
	uint64_t announced;    /* [o] data messages the other cores say they sent us */
	unsigned ends;         /* [o] other cores that have finished sending to us */
	uint64_t sent;         /* [o] data messages this core sent (to each other core) */
	uint64_t start, end;   /* [o] the window, on now_ns() */
	struct thread *waiter; /* [o] the stream thread, waiting for the last messages */
};
PERCORE static struct counter counter; /* this core's; main reads the others' */

static void on_data(const struct msg *m)
{
	(void)m;
	counter.received++;
}
MSG_HANDLER(MSG_DATA, on_data);

/* A sender's last message to us: how many it sent. Rings keep each sender's order, so all of
 * its data has been handled before this. */
static void on_data_end(const struct msg *m)
{
	struct counter *c = &counter;
	c->announced += m->w[0];
	c->ends++;
	if (c->waiter)
		thread_wake(c->waiter);
}
MSG_HANDLER(MSG_DATA_END, on_data_end);

static int stream_thread(void *arg)
{
	struct counter *c = &counter;
	(void)arg;
	core_barrier_of(members); /* only the cores taking part */
	c->start = now_ns();
	if (core_id() == 0) /* the harness samples QEMU's CPU time at this line */
		printf("one-way streaming for %lu ms, every core to every other core at once:\n",
		       stream_ms);
	uint64_t end = c->start + stream_ms * 1000000, i;
	for (i = 0; now_ns() < end; i++) {
		for (unsigned d = 0; d < members; d++) {
			struct msg m = { .type = MSG_DATA, .w = { i } };
			if (d != core_id())
				msg_send(d, &m);
		}
	}
	c->sent = i;
	for (unsigned d = 0; d < members; d++) {
		struct msg m = { .type = MSG_DATA_END, .w = { i } };
		if (d != core_id())
			msg_send(d, &m);
	}
	while (c->ends < members - 1) {
		c->waiter = thread_self();
		thread_block();
		c->waiter = NULL;
	}
	c->end = now_ns();
	return 0;
}

static int streaming(void)
{
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < members; c++)
		t[c] = thread_create(c, stream_thread, NULL);
	for (unsigned c = 0; c < members; c++)
		if (!t[c] || thread_join(t[c], NULL) < 0) {
			printf("pingpong: core %u: cannot start its thread\n", c);
			return EXIT_FAILURE;
		}
	uint64_t total = 0;
	int lost = 0;
	for (unsigned c = 0; c < members; c++) {
		const struct counter *k = percore_of(&counter, c);
		uint64_t ns = k->end > k->start ? k->end - k->start : 1;
		uint64_t rate = k->received * 1000000000ull / ns;
		total += rate;
		printf("  core %u: received %lu messages, sent %lu to each, %lu msgs/s, window "
		       "%lu-%lu ns\n",
		       c, k->received, k->sent, rate, k->start, k->end);
		if (k->received != k->announced) {
			printf("pingpong: core %u received %lu messages of %lu sent to it\n", c,
			       k->received, k->announced);
			lost = 1;
		}
	}
	printf("  total %lu msgs/s\n", total);
	return lost ? EXIT_FAILURE : 0;
}

int main(int argc, char **argv)
{
	unsigned long v;
	members = core_count();
	for (int i = 1; i < argc; i++) {
		if (arg_num("pingpong", argv[i], "cores", 1, core_count(), &v))
			members = (unsigned)v;
		else if (arg_num("pingpong", argv[i], "rtt_ms", 0, 3600000, &v))
			rtt_ms = v;
		else if (arg_num("pingpong", argv[i], "stream_ms", 0, 3600000, &v))
			stream_ms = v;
		else {
			printf("pingpong: unknown argument '%s' (usage: pingpong [cores=N] "
			       "[rtt_ms=M] [stream_ms=M])\n",
			       argv[i]);
			return EXIT_FAILURE;
		}
	}
	if (members < 2) {
		printf("pingpong needs at least 2 cores (make run APP=pingpong CORES=4)\n");
		return EXIT_FAILURE;
	}
	printf("pingpong: %u of %u cores, round trips for %lu ms per pair, streaming for %lu "
	       "ms\n",
	       members, core_count(), rtt_ms, stream_ms);
	if (rtt_ms)
		round_trips();
	int ret = stream_ms ? streaming() : 0;
	sleep_ms(HARNESS_GRACE_MS);
	report_idle("pingpong", members);
	return ret;
}
