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
#include "../common/arg_num.h"
#include "../common/idle_report.h"
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
};
PERCORE static struct core_result result; /* this core's; main reads the others' */
static char chunk[8192];

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
	struct core_result *r = &result;
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
	core_barrier_of(members); /* only the cores taking part */
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

int main(int argc, char **argv)
{
	unsigned long v;
	members = core_count();
	for (int i = 1; i < argc; i++) {
		if (arg_num("netbench", argv[i], "cores", 1, core_count(), &v))
			members = (unsigned)v;
		else if (arg_num("netbench", argv[i], "seconds", 1, 3600, &v))
			seconds = v;
		else if (arg_num("netbench", argv[i], "conns", 1, CONNS_MAX, &v))
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
		const struct core_result *r = percore_of(&result, c);
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
