/*
 * netbench - how the kernel itself scales with cores, without a NIC or the host network.
 *
 * Every core that takes part drives its own lwIP instance: it opens `conns` TCP connections
 * to itself over its own loopback interface and pushes data through them for `seconds`
 * seconds, then reports the bytes its servers received. Nothing is shared between the cores
 * (each stack, heap, scheduler and timer is private), so the total should grow linearly with
 * the number of cores that have a host CPU to run on.
 *
 * A measurement is only a multicore measurement if the cores measure at the same time. So every
 * core first sets up its connections, then waits at a barrier of all the cores that take part,
 * and only then starts its clock; each core reports its own window (start and end on now_ns(),
 * the same clock on every core) and the harness (ci/bench-net-internal) checks that the
 * windows overlap. While measuring, a core's thread yields after every round, so its scheduler
 * loop (messages, timers) runs as it would under any application.
 *
 *   make run APP=netbench CORES=2
 *   ci/qemu-run -c 64 -m 2G build/netbench.img -- -- cores=2 seconds=3
 *
 * Arguments (after the second --): cores=N takes only cores 0..N-1 (the others stay idle,
 * halted: that is how ci/bench-scale-tax measures what idle cores cost the busy ones; unlike
 * the kernel's own cores=N, the other cores exist), seconds=S (default 3), conns=C (default 4).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#define CONNS_MAX 64
#define PORT 5001
/* The harness reads QEMU's CPU time when it sees the "stop" line: this long after it, the VM
 * is still there to be read, and the idle cores are not yet woken up to be counted. */
#define HARNESS_GRACE_MS 200

static unsigned members = 0; /* cores 0..members-1 take part; set by main before any thread */
static unsigned conns = 4;   /* connections per core */
static uint64_t seconds = 3; /* measured time per core */

struct pair {
	struct tcp_pcb *client; /* the sending end */
	bool connected;         /* its connect completed */
};

/* One per core, written by that core only and read by main after the join; a cache line
 * each so that cores never write the same line. */
struct core_result {
	uint64_t bytes;      /* [o] received by the servers in the window */
	uint64_t start, end; /* [o] the window, on now_ns() */
	unsigned conns;      /* [o] connections that came up */
	uint64_t rounds;     /* [o] rounds of the measuring loop */
} __attribute__((aligned(64)));
static struct core_result results[ISLE_MAX_CORES];
static char chunk[8192];

/* ---- a barrier of the cores that take part ----------------------------------------------------- */

/*
 * core_barrier() needs every core of the VM; here only cores 0..members-1 take part and the
 * others must stay idle. So the members meet by message: each one tells every other member it
 * has arrived, and waits for as many arrivals. Arrivals are counted over all barriers so far
 * (one barrier here, but the count stays right for more): no member can be a whole barrier
 * ahead of another, because it cannot leave barrier g before every member has arrived at it.
 */
enum { MSG_ARRIVE = MSG_USER, MSG_COUNT, MSG_COUNTED };

struct gate {
	uint64_t arrived;      /* [o] arrivals from other members so far (handler) */
	uint64_t passed;       /* [o] barriers this core has entered */
	struct thread *waiter; /* [o] the thread waiting in members_barrier */
} __attribute__((aligned(64)));
static struct gate gates[ISLE_MAX_CORES]; /* gates[c] is core c's */

static void on_arrive(const struct msg *m)
{
	struct gate *g = &gates[core_id()];
	(void)m;
	g->arrived++;
	if (g->waiter)
		thread_wake(g->waiter);
}
MSG_HANDLER(MSG_ARRIVE, on_arrive);

static void members_barrier(void)
{
	struct gate *g = &gates[core_id()];
	uint64_t want = ++g->passed * (members - 1);
	for (unsigned c = 0; c < members; c++) {
		struct msg m = { .type = MSG_ARRIVE };
		if (c != core_id())
			msg_send(c, &m);
	}
	while (g->arrived < want) {
		g->waiter = thread_self();
		thread_block();
		g->waiter = NULL;
	}
}

/* ---- what the idle cores did ------------------------------------------------------------------- */

/*
 * After the run, every core's scheduler and message counters, gathered by message (each core
 * answers with its own): the cores that did not take part should have done nothing since boot
 * but the wake-up that answers this very question. ci/bench-scale-tax records it.
 */
struct core_counts {
	struct sched_stats sched; /* [o] of that core, read by main after its answer */
	struct msg_stats msg;     /* [o] of that core, likewise */
} __attribute__((aligned(64)));
static struct core_counts counts[ISLE_MAX_CORES];
static unsigned counted;               /* core 0's: answers received */
static struct thread *counting_waiter; /* core 0's: main, waiting for them */

static void count_self(void)
{
	sched_stats(&counts[core_id()].sched);
	msg_stats(&counts[core_id()].msg);
}

static void on_count(const struct msg *m)
{
	struct msg r = { .type = MSG_COUNTED };
	count_self();
	msg_reply(m->src, &r); /* on_counted sends nothing */
}
MSG_HANDLER(MSG_COUNT, on_count);

static void on_counted(const struct msg *m)
{
	(void)m;
	counted++;
	if (counting_waiter)
		thread_wake(counting_waiter);
}
MSG_HANDLER(MSG_COUNTED, on_counted);

/* Prints what cores `from`..core_count()-1 did since boot (main, on core 0). */
static void report_idle(const char *app, unsigned from)
{
	unsigned n = core_count();
	if (from >= n)
		return;
	for (unsigned c = 1; c < n; c++) {
		struct msg m = { .type = MSG_COUNT };
		msg_send(c, &m);
	}
	count_self();
	while (counted < n - 1) {
		counting_waiter = thread_self();
		thread_block();
		counting_waiter = NULL;
	}
	uint64_t wakeups = 0, most = 0, received = 0, busy_ns = 0;
	for (unsigned c = from; c < n; c++) {
		wakeups += counts[c].sched.wakeups;
		most = counts[c].sched.wakeups > most ? counts[c].sched.wakeups : most;
		received += counts[c].msg.received;
		busy_ns += counts[c].sched.busy_ns;
	}
	printf("%s: idle cores %u..%u since boot: %lu wake-ups (at most %lu per core), %lu "
	       "messages "
	       "handled, busy %lu us in all (this count's own message included)\n",
	       app, from, n - 1, wakeups, most, received, busy_ns / 1000);
}

/* ---- lwIP over loopback ------------------------------------------------------------------------ */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct core_result *r = arg;
	(void)err;
	if (!p)
		return ERR_OK;
	r->bytes += p->tot_len;
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	tcp_arg(pcb, arg);
	tcp_recv(pcb, on_recv);
	tcp_nagle_disable(pcb);
	return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct pair *p = arg;
	(void)pcb;
	p->connected = err == ERR_OK;
	return ERR_OK;
}

static void step(void)
{
	netif_poll_all();
	sys_check_timeouts();
}

static int core_main(void *arg)
{
	(void)arg;
	struct core_result *r = &results[core_id()];
	struct pair pairs[CONNS_MAX];
	ip_addr_t lo;
	IP_ADDR4(&lo, 127, 0, 0, 1);
	lwip_init();
	struct tcp_pcb *l = tcp_new();
	tcp_bind(l, &lo, PORT);
	l = tcp_listen(l);
	tcp_arg(l, r);
	tcp_accept(l, on_accept);
	for (unsigned i = 0; i < conns; i++) {
		pairs[i] = (struct pair){ .client = tcp_new() };
		tcp_arg(pairs[i].client, &pairs[i]);
		tcp_nagle_disable(pairs[i].client);
		tcp_connect(pairs[i].client, &lo, PORT, on_connected);
	}
	for (uint64_t end = now_ns() + 2000000000ull; now_ns() < end;) {
		step();
		unsigned up = 0;
		for (unsigned i = 0; i < conns; i++)
			up += pairs[i].connected;
		if (up == conns)
			break;
		thread_yield();
	}
	for (unsigned i = 0; i < conns; i++)
		r->conns += pairs[i].connected;

	/* Every member is set up: measure from here, all at once. */
	members_barrier();
	r->start = now_ns();
	r->bytes = 0;
	if (core_id() == 0)
		printf("netbench: go\n"); /* the harness samples QEMU's CPU time here... */
	for (uint64_t end = r->start + seconds * 1000000000ull; now_ns() < end;) {
		for (unsigned i = 0; i < conns; i++) {
			struct tcp_pcb *c = pairs[i].client;
			if (!pairs[i].connected)
				continue;
			u16_t n = tcp_sndbuf(c) < sizeof(chunk) ? tcp_sndbuf(c)
			                                        : (u16_t)sizeof(chunk);
			if (n && tcp_write(c, chunk, n, 0) == ERR_OK)
				tcp_output(c);
		}
		step();
		thread_yield();
		r->rounds++;
	}
	r->end = now_ns();
	if (core_id() == 0)
		printf("netbench: stop\n"); /* ...and here */
	return 0;
}

/* "name=N" with N a decimal number in 1..max: *out = N and true. */
static bool arg_num(const char *a, const char *name, unsigned long max, unsigned long *out)
{
	size_t len = strlen(name);
	if (strncmp(a, name, len) != 0 || a[len] != '=')
		return false;
	char *end;
	unsigned long v = strtoul(a + len + 1, &end, 10);
	if (*end || end == a + len + 1 || v < 1 || v > max) {
		printf("netbench: bad value in '%s' (1..%lu)\n", a, max);
		exit(EXIT_FAILURE);
	}
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	unsigned long v;
	members = core_count();
	for (int i = 1; i < argc; i++) {
		if (arg_num(argv[i], "cores", core_count(), &v))
			members = (unsigned)v;
		else if (arg_num(argv[i], "seconds", 3600, &v))
			seconds = v;
		else if (arg_num(argv[i], "conns", CONNS_MAX, &v))
			conns = (unsigned)v;
		else {
			printf("netbench: unknown argument '%s' (usage: netbench [cores=N] "
			       "[seconds=S] [conns=C])\n",
			       argv[i]);
			return EXIT_FAILURE;
		}
	}
	printf("netbench: %u of %u cores, %u connections each, %lu s\n", members, core_count(),
	       conns, seconds);
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < members; c++)
		t[c] = thread_create(c, core_main, NULL);
	for (unsigned c = 0; c < members; c++)
		if (!t[c] || thread_join(t[c], NULL) < 0) {
			printf("netbench: core %u: cannot start its thread\n", c);
			return EXIT_FAILURE;
		}
	uint64_t total = 0;
	for (unsigned c = 0; c < members; c++) {
		struct core_result *r = &results[c];
		uint64_t ns = r->end > r->start ? r->end - r->start : 1;
		uint64_t mbps = r->bytes * 8 * 1000 / ns;
		total += mbps;
		printf("netbench: core %u: %u connections, %lu Mbit/s, %lu bytes in window %lu-%lu "
		       "ns, %lu rounds\n",
		       c, r->conns, mbps, r->bytes, r->start, r->end, r->rounds);
	}
	printf("netbench: total %lu Mbit/s on %u cores (%lu per core)\n", total, members,
	       total / members);
	sleep_ms(HARNESS_GRACE_MS);
	report_idle("netbench", members);
	return 0;
}
