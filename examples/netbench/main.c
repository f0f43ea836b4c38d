/*
 * netbench - how the kernel itself scales with cores, without a NIC or the host network.
 *
 * Every core drives its own lwIP instance: it opens CONNS TCP connections to itself over its
 * own loopback interface and pushes data through them for SECONDS seconds, then reports bytes
 * and segments per second. Nothing is shared between the cores (each stack, heap, scheduler
 * and timer is private), so the total should grow linearly with the number of cores that have
 * a host CPU to run on. `make bench-net-internal` runs it at 1 and 2 cores.
 *
 *   make run APP=netbench CORES=2
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/thread.h>
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#define CONNS 4
#define SECONDS 3
#define PORT 5001

struct pair {
	struct tcp_pcb *client, *server;
	bool connected;
};

struct core_result {
	uint64_t bytes; /* received by the servers */
	uint64_t ns;    /* measured time */
	unsigned conns; /* connections that came up */
} __attribute__((aligned(64)));

static struct core_result results[ISLE_MAX_CORES];
static char chunk[8192];

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
	struct pair pairs[CONNS];
	ip_addr_t lo;
	IP_ADDR4(&lo, 127, 0, 0, 1);
	lwip_init();
	struct tcp_pcb *l = tcp_new();
	tcp_bind(l, &lo, PORT);
	l = tcp_listen(l);
	tcp_arg(l, r);
	tcp_accept(l, on_accept);
	for (int i = 0; i < CONNS; i++) {
		pairs[i] = (struct pair){ .client = tcp_new() };
		tcp_arg(pairs[i].client, &pairs[i]);
		tcp_nagle_disable(pairs[i].client);
		tcp_connect(pairs[i].client, &lo, PORT, on_connected);
	}
	for (uint64_t end = now_ns() + 2000000000ull; now_ns() < end;) {
		step();
		unsigned up = 0;
		for (int i = 0; i < CONNS; i++)
			up += pairs[i].connected;
		if (up == CONNS)
			break;
		thread_yield();
	}
	for (int i = 0; i < CONNS; i++)
		r->conns += pairs[i].connected;
	uint64_t t0 = now_ns(), end = t0 + SECONDS * 1000000000ull;
	r->bytes = 0;
	while (now_ns() < end) {
		for (int i = 0; i < CONNS; i++) {
			struct tcp_pcb *c = pairs[i].client;
			if (!pairs[i].connected)
				continue;
			u16_t n = tcp_sndbuf(c) < sizeof(chunk) ? tcp_sndbuf(c)
			                                        : (u16_t)sizeof(chunk);
			if (n && tcp_write(c, chunk, n, 0) == ERR_OK)
				tcp_output(c);
		}
		step();
	}
	r->ns = now_ns() - t0;
	return 0;
}

int main(void)
{
	unsigned n = core_count();
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < n; c++)
		t[c] = thread_create(c, core_main, NULL);
	for (unsigned c = 0; c < n; c++)
		thread_join(t[c], NULL);
	uint64_t total = 0;
	for (unsigned c = 0; c < n; c++) {
		uint64_t mbps = results[c].bytes * 8 * 1000 / (results[c].ns ? results[c].ns : 1);
		total += mbps;
		printf("netbench: core %u: %u connections, %lu Mbit/s\n", c, results[c].conns,
		       mbps);
	}
	printf("netbench: total %lu Mbit/s on %u cores (%lu per core)\n", total, n, total / n);
	return 0;
}
