/*
 * lwip - one unmodified lwIP per core. Every core initialises its own stack, listens on the
 * same TCP port 7 of 127.0.0.1 (which would fail with "address in use" if the stack were
 * shared), connects to itself and pushes BYTES through TCP over its own loopback interface.
 * Each core checks the data, that its stack holds only its own connections, and that its pools
 * are back to empty after the connections close. It also prints each core's TCP throughput:
 * the stack and the kernel alone, no NIC, no host network.
 */
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "gtest.h"

#define BYTES (4u << 20)
#define PORT 7

struct conn_state {
	struct tcp_pcb *server;  /* the accepted side */
	struct tcp_pcb *client;  /* the connecting side */
	uint32_t sent, received; /* bytes */
	uint32_t checksum_sent, checksum_received;
	bool connected, bad_data;
	int bind_err;
	unsigned active_pcbs; /* counted while both ends are open */
	uint64_t ns;          /* transfer time */
} __attribute__((aligned(64)));

/* A slot per core, written only by that core; a cache line apart so cores never share one. */
static struct conn_state st[ISLE_MAX_CORES];
static uint8_t pattern[4096];

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn_state *s = arg;
	(void)err;
	if (!p)
		return ERR_OK;
	for (struct pbuf *q = p; q; q = q->next) {
		const uint8_t *d = q->payload;
		for (uint16_t i = 0; i < q->len; i++) {
			if (d[i] != pattern[(s->received + i) % sizeof(pattern)])
				s->bad_data = true;
			s->checksum_received += d[i];
		}
		s->received += q->len;
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn_state *s = arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	s->server = pcb;
	tcp_arg(pcb, s);
	tcp_recv(pcb, on_recv);
	return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct conn_state *s = arg;
	(void)pcb;
	s->connected = err == ERR_OK;
	return ERR_OK;
}

/* Queues as much of the stream as the send buffer takes. */
static void push(struct conn_state *s)
{
	while (s->sent < BYTES) {
		uint32_t off = s->sent % sizeof(pattern);
		uint32_t n = MIN(sizeof(pattern) - off, BYTES - s->sent);
		n = MIN(n, tcp_sndbuf(s->client));
		if (n == 0 || tcp_write(s->client, pattern + off, (u16_t)n, 0) != ERR_OK)
			break;
		for (uint32_t i = 0; i < n; i++)
			s->checksum_sent += pattern[off + i];
		s->sent += n;
	}
	tcp_output(s->client);
}

static void drive(void)
{
	netif_poll_all();
	sys_check_timeouts();
}

static unsigned count_active(void)
{
	unsigned n = 0;
	for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
		n++;
	return n;
}

static int core_main(void *arg)
{
	(void)arg;
	struct conn_state *s = &st[core_id()];
	lwip_init();
	ip_addr_t lo;
	IP_ADDR4(&lo, 127, 0, 0, 1);

	struct tcp_pcb *l = tcp_new();
	s->bind_err = tcp_bind(l, &lo, PORT);
	l = tcp_listen(l);
	tcp_arg(l, s);
	tcp_accept(l, on_accept);

	s->client = tcp_new();
	tcp_arg(s->client, s);
	tcp_connect(s->client, &lo, PORT, on_connected);
	uint64_t deadline = now_ns() + 20000000000ull;
	while (!(s->connected && s->server) && now_ns() < deadline) {
		drive();
		thread_yield();
	}
	s->active_pcbs = count_active();
	uint64_t t0 = now_ns();
	while (s->received < BYTES && now_ns() < deadline) {
		if (s->connected)
			push(s);
		drive();
		thread_yield();
	}
	s->ns = now_ns() - t0;
	if (s->server)
		tcp_close(s->server);
	tcp_close(s->client);
	tcp_close(l);
	/* Let the closes finish (FIN exchange over loopback; TIME_WAIT pcbs are freed by abort). */
	for (int i = 0; i < 100; i++) {
		drive();
		thread_yield();
	}
	while (tcp_tw_pcbs)
		tcp_abort(tcp_tw_pcbs);
	return 0;
}

int main(void)
{
	unsigned n = core_count();
	for (unsigned i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)(i * 7 + i / 251);
	struct thread *t[ISLE_MAX_CORES];
	for (unsigned c = 0; c < n; c++)
		t[c] = thread_create(c, core_main, NULL);
	for (unsigned c = 0; c < n; c++)
		thread_join(t[c], NULL);

	gtest_begin("lwip_stack_per_core");
	for (unsigned c = 0; c < n; c++) {
		CHECKF(st[c].bind_err == ERR_OK, "core %u: bind to port %d: %d", c, PORT,
		       st[c].bind_err);
		CHECKF(st[c].active_pcbs == 2, "core %u sees %u active connections, not its own 2",
		       c, st[c].active_pcbs);
	}
	gtest_end();

	gtest_begin("lwip_tcp_loopback");
	uint64_t total = 0;
	for (unsigned c = 0; c < n; c++) {
		struct conn_state *s = &st[c];
		CHECKF(s->received == BYTES, "core %u received %u of %u bytes", c, s->received,
		       BYTES);
		CHECKF(!s->bad_data && s->checksum_sent == s->checksum_received,
		       "core %u: corrupt data", c);
		uint64_t mbps = s->ns ? (uint64_t)s->received * 8 * 1000 / s->ns : 0;
		total += mbps;
		printf("core %u: %u bytes over its own TCP loopback in %lu ms, %lu Mbit/s\n", c,
		       s->received, s->ns / 1000000, mbps);
	}
	printf("total %lu Mbit/s on %u cores\n", total, n);
	gtest_end();
	return gtest_status();
}
