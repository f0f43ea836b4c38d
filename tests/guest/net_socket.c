/*
 * net_socket - the blocking socket API (isle/net.h) over each core's own loopback interface.
 *
 * Every case runs on all cores at once: a thread per core, each talking only to its own core's
 * TCP/IP stack on 127.0.0.1. The first case makes every core listen on the same port with an
 * echo server (which only works because the stacks are separate); the others connect to it
 * or to listeners of their own. At the end every core's heap and open connection count must
 * be back where they started.
 */
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/mem.h>
#include <isle/net.h>
#include <isle/thread.h>
#include "gtest.h"

#define LO SOCK_IP(127, 0, 0, 1)
#define ECHO_PORT 7000
#define ACCEPT_PORT 7001  /* accept time-out and close-while-waiting */
#define RESET_PORT 7002   /* send after reset */
#define BACKLOG_PORT 7003 /* backlog overflow */
#define STALL_PORT 7004   /* both sides stop reading */
#define UNUSED_PORT 7099  /* nobody listens */
#define UDP_PORT 7100
#define MS 1000000ull
#define SEC 1000000000ull
#define T (10 * SEC)   /* time-out for what should happen at once */
#define BIG (1u << 20) /* bytes of the large echo */
#define NCONN 50       /* concurrent connections per core */

/* One core's test state: touched by that core's threads, read by main after joins. */
struct core_ctx {
	struct sock *echo;      /* the echo server's listener */
	struct sock *conn;      /* a connection other cores try to use */
	unsigned handlers;      /* echo connections being served */
	unsigned accepted;      /* connections the test accepted (sock_accept returned 0) */
	bool acceptor_done;     /* the echo acceptor has ended */
	int acceptor_ret;       /* what its last sock_accept returned */
	size_t heap_base;       /* heap blocks before the first socket */
	uint64_t accepted_base; /* net_stats' tcp_accepted then */
	uint64_t active_base;   /* net_stats' tcp_active then */
	unsigned ready;         /* NCONN case: clients that have echoed and wait */
	bool go;                /* NCONN case: clients may close */
};

static struct core_ctx ctx[ISLE_MAX_CORES];
static uint8_t big[BIG];

static struct core_ctx *me(void)
{
	return &ctx[core_id()];
}

static uint64_t tcp_active(void)
{
	struct net_stats st;
	net_stats(&st);
	return st.tcp_active;
}

/* Receives exactly len bytes unless the stream ends or fails; the count or the error. */
static ssize_t recv_all(struct sock *s, void *buf, size_t len, uint64_t timeout)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = sock_recv(s, (char *)buf + got, len - got, timeout);
		if (n <= 0)
			return got ? (ssize_t)got : n;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Sends msg and checks that the same bytes come back. */
static void echo_once(struct sock *s, const char *msg)
{
	char back[128];
	size_t len = strlen(msg);
	ssize_t n = sock_send(s, msg, len, T);
	CHECKF(n == (ssize_t)len, "core %u: send returned %ld", core_id(), n);
	n = recv_all(s, back, len, T);
	CHECKF(n == (ssize_t)len && !memcmp(back, msg, len), "core %u: echo of '%s' gave %ld",
	       core_id(), msg, n);
}

static void wait_until(const bool *flag, uint64_t timeout)
{
	uint64_t end = now_ns() + timeout;
	while (!*(volatile const bool *)flag && now_ns() < end)
		sleep_ms(1);
}

/* ---- the echo server ------------------------------------------------------------------------ */

static int echo_handler(void *arg)
{
	struct sock *s = arg;
	char buf[4096];
	ssize_t n;
	while ((n = sock_recv(s, buf, sizeof(buf), 0)) > 0)
		if (sock_send(s, buf, (size_t)n, 0) != n)
			break;
	sock_close(s);
	me()->handlers--;
	return 0;
}

static int echo_acceptor(void *arg)
{
	struct sock *l = arg, *s;
	int r;
	while ((r = sock_accept(l, &s, 0)) == 0) {
		me()->accepted++;
		me()->handlers++;
		if (thread_spawn(core_id(), echo_handler, s) < 0) {
			CHECKF(0, "core %u: cannot start an echo handler", core_id());
			me()->handlers--;
			sock_close(s);
		}
	}
	me()->acceptor_ret = r;
	me()->acceptor_done = true;
	return 0;
}

/* ---- cases ---------------------------------------------------------------------------------- */

static int case_no_nic(void *arg)
{
	(void)arg;
	struct net_stats st;
	net_stats(&st);
	CHECK(net_addr() == 0);
	CHECK(net_wait_up(20 * MS) == -ETIMEDOUT);
	CHECKF(st.queue == -1u && st.rx_packets == 0 && st.tx_packets == 0,
	       "core %u: queue %u, %lu packets in, %lu out without a NIC", core_id(), st.queue,
	       st.rx_packets, st.tx_packets);
	return 0;
}

static int case_listen(void *arg)
{
	(void)arg;
	struct core_ctx *c = me();
	struct mem_stats ms;
	struct net_stats st;
	mem_stats(&ms);
	net_stats(&st);
	c->heap_base = ms.heap_blocks;
	c->accepted_base = st.tcp_accepted;
	c->active_base = st.tcp_active;
	int r = sock_listen(SOCK_ANY, ECHO_PORT, 64, &c->echo);
	CHECKF(r == 0, "core %u: listen on port %d: %d", core_id(), ECHO_PORT, r);
	if (r)
		return 0;
	struct sock *dup = NULL;
	r = sock_listen(SOCK_ANY, ECHO_PORT, 4, &dup);
	CHECKF(r == -EADDRINUSE && !dup, "core %u: second listen on the port: %d", core_id(), r);
	CHECK(thread_spawn(core_id(), echo_acceptor, c->echo) == 0);
	return 0;
}

static int case_echo_small(void *arg)
{
	(void)arg;
	struct sock *s;
	int r = sock_connect(LO, ECHO_PORT, &s, T);
	CHECKF(r == 0, "core %u: connect: %d", core_id(), r);
	if (r)
		return 0;
	ip4_t addr = 0;
	uint16_t port = 0;
	CHECK(sock_peer(s, &addr, &port) == 0 && addr == LO && port == ECHO_PORT);
	char msg[64];
	for (int i = 0; i < 5; i++) {
		snprintf(msg, sizeof(msg), "hello %d from core %u", i, core_id());
		echo_once(s, msg);
	}
	CHECK(sock_close(s) == 0);
	return 0;
}

struct big_send {
	struct sock *s;
	ssize_t ret;
};

static int big_sender(void *arg)
{
	struct big_send *b = arg;
	b->ret = sock_send(b->s, big, BIG, 30 * SEC); /* one call: blocks on back-pressure */
	return 0;
}

static int case_echo_big(void *arg)
{
	(void)arg;
	struct big_send b = { 0 };
	int r = sock_connect(LO, ECHO_PORT, &b.s, T);
	CHECKF(r == 0, "core %u: connect: %d", core_id(), r);
	if (r)
		return 0;
	uint64_t t0 = now_ns();
	struct thread *t = thread_create(core_id(), big_sender, &b);
	CHECK(t);
	static uint8_t bufs[ISLE_MAX_CORES]
	                   [8192]; /* a buffer per core: too big for a thread stack */
	uint8_t *buf = bufs[core_id()];
	size_t got = 0;
	bool same = true;
	while (got < BIG) {
		ssize_t n = sock_recv(b.s, buf, MIN(sizeof(bufs[0]), BIG - got), 30 * SEC);
		if (n <= 0) {
			CHECKF(0, "core %u: recv after %zu bytes: %ld", core_id(), got, n);
			break;
		}
		same &= !memcmp(buf, big + got, (size_t)n);
		got += (size_t)n;
	}
	if (t)
		thread_join(t, NULL);
	uint64_t ms = (now_ns() - t0) / MS;
	CHECKF(b.ret == BIG, "core %u: send of %u bytes returned %ld", core_id(), BIG, b.ret);
	CHECKF(got == BIG && same, "core %u: %zu bytes back, %s", core_id(), got,
	       same ? "intact" : "CORRUPT");
	printf("core %u: 1 MiB echoed in %lu ms\n", core_id(), ms);
	CHECK(sock_close(b.s) == 0);
	return 0;
}

static int stall_sender(void *arg)
{
	struct big_send *b = arg;
	b->ret = sock_send(b->s, big, BIG / 4, T);
	return 0;
}

/* Reads BIG / 4 bytes and checks them. */
static void stall_drain(struct sock *s)
{
	static uint8_t bufs[ISLE_MAX_CORES][8192];
	uint8_t *buf = bufs[core_id()];
	size_t got = 0;
	bool same = true;
	while (got < BIG / 4) {
		ssize_t n = sock_recv(s, buf, MIN(sizeof(bufs[0]), BIG / 4 - got), T);
		if (n <= 0)
			break;
		same &= !memcmp(buf, big + got, (size_t)n);
		got += (size_t)n;
	}
	CHECKF(got == BIG / 4 && same, "core %u: %zu bytes drained, %s", core_id(), got,
	       same ? "intact" : "CORRUPT");
}

/*
 * Client and server of one connection on one core both send more than the windows hold and
 * neither reads: both windows close, both senders block. The core must stay alive (lwIP's
 * zero-window ACK ping-pong, see net/socket.c) and both transfers finish once both read.
 */
static int case_stall(void *arg)
{
	(void)arg;
	struct sock *l;
	struct big_send a = { 0 }, b = { 0 };
	int r = sock_listen(LO, STALL_PORT, 4, &l);
	CHECKF(r == 0, "core %u: listen: %d", core_id(), r);
	if (r)
		return 0;
	CHECK(sock_connect(LO, STALL_PORT, &a.s, T) == 0);
	r = sock_accept(l, &b.s, T);
	CHECK(r == 0);
	if (r || !a.s)
		return 0;
	me()->accepted++;
	struct thread *ta = thread_create(core_id(), stall_sender, &a);
	struct thread *tb = thread_create(core_id(), stall_sender, &b);
	sleep_ms(50); /* both windows are closed now; this thread still runs */
	stall_drain(a.s);
	stall_drain(b.s);
	if (ta)
		thread_join(ta, NULL);
	if (tb)
		thread_join(tb, NULL);
	CHECKF(a.ret == BIG / 4 && b.ret == BIG / 4, "core %u: sends returned %ld and %ld",
	       core_id(), a.ret, b.ret);
	CHECK(sock_close(a.s) == 0);
	CHECK(sock_close(b.s) == 0);
	CHECK(sock_close(l) == 0);
	return 0;
}

static int many_client(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	struct core_ctx *c = me();
	struct sock *s;
	int r = sock_connect(LO, ECHO_PORT, &s, T);
	CHECKF(r == 0, "core %u client %u: connect: %d", core_id(), i, r);
	if (r == 0) {
		char msg[64];
		snprintf(msg, sizeof(msg), "client %u of core %u", i, core_id());
		echo_once(s, msg);
	}
	c->ready++;
	wait_until(&c->go, T);
	if (r == 0)
		CHECK(sock_close(s) == 0);
	return 0;
}

static int case_many(void *arg)
{
	(void)arg;
	struct core_ctx *c = me();
	struct thread *t[NCONN];
	c->ready = 0;
	c->go = false;
	uint64_t end = now_ns() + T;
	while (*(volatile unsigned *)&c->handlers && now_ns() < end)
		sleep_ms(1); /* the last case's server side is closed */
	uint64_t active0 = tcp_active();
	for (unsigned i = 0; i < NCONN; i++) {
		t[i] = thread_create_stack(core_id(), many_client, (void *)(uintptr_t)i, 16384);
		CHECK(t[i]);
	}
	end = now_ns() + T;
	while (*(volatile unsigned *)&c->ready < NCONN && now_ns() < end)
		sleep_ms(1);
	uint64_t active = tcp_active() - active0;
	CHECKF(active == 2 * NCONN, "core %u: %lu connections open, not %u", core_id(), active,
	       2 * NCONN);
	c->go = true;
	for (unsigned i = 0; i < NCONN; i++)
		if (t[i])
			thread_join(t[i], NULL);
	return 0;
}

static int case_shutdown(void *arg)
{
	(void)arg;
	struct sock *s;
	char buf[16];
	int r = sock_connect(LO, ECHO_PORT, &s, T);
	CHECKF(r == 0, "core %u: connect: %d", core_id(), r);
	if (r)
		return 0;
	CHECK(sock_send(s, "bye", 3, T) == 3);
	CHECK(sock_shutdown(s) == 0);
	CHECK(sock_shutdown(s) == 0);
	CHECK(recv_all(s, buf, 3, T) == 3 && !memcmp(buf, "bye", 3)); /* receiving goes on */
	ssize_t n = sock_recv(s, buf, sizeof(buf), T);
	CHECKF(n == 0, "core %u: recv after the peer closed: %ld", core_id(), n);
	CHECK(sock_recv(s, buf, sizeof(buf), T) == 0);
	n = sock_send(s, "x", 1, T);
	CHECKF(n == -EPIPE, "core %u: send after shutdown: %ld", core_id(), n);
	CHECK(sock_close(s) == 0);
	return 0;
}

static int case_recv_timeout(void *arg)
{
	(void)arg;
	struct sock *s;
	char buf[16];
	int r = sock_connect(LO, ECHO_PORT, &s, T);
	CHECKF(r == 0, "core %u: connect: %d", core_id(), r);
	if (r)
		return 0;
	uint64_t t0 = now_ns();
	ssize_t n = sock_recv(s, buf, sizeof(buf), 50 * MS);
	uint64_t dt = now_ns() - t0;
	CHECKF(n == -ETIMEDOUT, "core %u: recv with nothing sent: %ld", core_id(), n);
	CHECKF(dt >= 50 * MS && dt < 5 * SEC, "core %u: 50 ms time-out took %lu us", core_id(),
	       dt / 1000);
	echo_once(s, "still works");
	CHECK(sock_close(s) == 0);
	return 0;
}

static int case_accept_timeout(void *arg)
{
	(void)arg;
	struct sock *l, *s = (struct sock *)1;
	int r = sock_listen(LO, ACCEPT_PORT, 4, &l);
	CHECKF(r == 0, "core %u: listen: %d", core_id(), r);
	if (r)
		return 0;
	uint64_t t0 = now_ns();
	r = sock_accept(l, &s, 30 * MS);
	uint64_t dt = now_ns() - t0;
	CHECKF(r == -ETIMEDOUT && !s, "core %u: accept with no client: %d", core_id(), r);
	CHECKF(dt >= 30 * MS && dt < 5 * SEC, "core %u: 30 ms time-out took %lu us", core_id(),
	       dt / 1000);
	CHECK(sock_close(l) == 0);
	return 0;
}

static int case_refused(void *arg)
{
	(void)arg;
	struct sock *s = (struct sock *)1;
	int r = sock_connect(LO, UNUSED_PORT, &s, T);
	CHECKF((r == -ECONNREFUSED || r == -ECONNRESET) && !s, "core %u: connect: %d", core_id(),
	       r);
	return 0;
}

static int case_reset(void *arg)
{
	(void)arg;
	struct sock *l, *c, *s;
	char buf[100] = { 0 };
	int r = sock_listen(LO, RESET_PORT, 4, &l);
	CHECKF(r == 0, "core %u: listen: %d", core_id(), r);
	if (r)
		return 0;
	CHECK(sock_connect(LO, RESET_PORT, &c, T) == 0);
	r = sock_accept(l, &s, T);
	CHECK(r == 0);
	if (r == 0) {
		me()->accepted++;
		CHECK(sock_send(c, buf, sizeof(buf), T) == sizeof(buf));
		CHECK(sock_recv(s, buf, 10, T) > 0);
		CHECK(sock_close(s) == 0); /* unread data: the close resets the connection */
	}
	ssize_t n = 0;
	for (int i = 0; i < 100 && n >= 0; i++) {
		n = sock_send(c, "abc", 3, T);
		sleep_ms(2);
	}
	CHECKF(n == -ECONNRESET || n == -EPIPE, "core %u: send after reset: %ld", core_id(), n);
	n = sock_recv(c, buf, sizeof(buf), T);
	CHECKF(n == -ECONNRESET, "core %u: recv after reset: %ld", core_id(), n);
	CHECK(sock_close(c) == 0);
	CHECK(sock_close(l) == 0);
	return 0;
}

static int case_backlog(void *arg)
{
	(void)arg;
	struct sock *l, *c[6], *s[3];
	char buf[8];
	int r = sock_listen(LO, BACKLOG_PORT, 2, &l);
	CHECKF(r == 0, "core %u: listen: %d", core_id(), r);
	if (r)
		return 0;
	int conn_ret[5];
	for (int i = 0; i < 5; i++)
		conn_ret[i] = sock_connect(LO, BACKLOG_PORT, &c[i], T);
	for (int i = 0; i < 2; i++) {
		r = sock_accept(l, &s[i], T);
		CHECKF(r == 0, "core %u: accept %d of 2: %d", core_id(), i, r);
		if (r == 0) {
			me()->accepted++;
			CHECK(sock_send(s[i], "ok", 2, T) == 2);
		}
	}
	r = sock_accept(l, &s[2], 30 * MS);
	CHECKF(r == -ETIMEDOUT, "core %u: accept beyond the backlog: %d", core_id(), r);
	int served = 0, refused = 0;
	for (int i = 0; i < 5; i++) {
		if (conn_ret[i]) {
			refused += conn_ret[i] == -ECONNRESET || conn_ret[i] == -ECONNREFUSED;
			continue;
		}
		ssize_t n = sock_recv(c[i], buf, 2, T);
		served += n == 2 && i < 2;
		refused += n == -ECONNRESET;
		CHECK(sock_close(c[i]) == 0);
	}
	CHECKF(served == 2 && refused == 3, "core %u: backlog 2, 5 clients: %d served, %d reset",
	       core_id(), served, refused);
	for (int i = 0; i < 2; i++)
		CHECK(sock_close(s[i]) == 0);
	/* The listener still works once there is room. */
	CHECK(sock_connect(LO, BACKLOG_PORT, &c[5], T) == 0);
	r = sock_accept(l, &s[2], T);
	CHECK(r == 0);
	if (r == 0) {
		me()->accepted++;
		CHECK(sock_close(s[2]) == 0);
	}
	CHECK(sock_close(c[5]) == 0);
	CHECK(sock_close(l) == 0);
	return 0;
}

/* Phase 1: every core opens a connection for the others to misuse. */
static int wrong_core_open(void *arg)
{
	(void)arg;
	int r = sock_connect(LO, ECHO_PORT, &me()->conn, T);
	CHECKF(r == 0, "core %u: connect: %d", core_id(), r);
	return 0;
}

/* Phase 2: every core uses its neighbour's sockets (and the wrong kinds). */
static int wrong_core_use(void *arg)
{
	(void)arg;
	struct core_ctx *c = me();
	struct core_ctx *o = &ctx[(core_id() + 1) % core_count()];
	struct sock *x;
	char buf[4];
	if (core_count() > 1) {
		CHECK(sock_accept(o->echo, &x, MS) == -EINVAL);
		CHECK(sock_send(o->conn, "x", 1, T) == -EINVAL);
		CHECK(sock_recv(o->conn, buf, sizeof(buf), MS) == -EINVAL);
		CHECK(sock_shutdown(o->conn) == -EINVAL);
		CHECK(sock_peer(o->conn, NULL, NULL) == -EINVAL);
		CHECK(sock_close(o->conn) == -EINVAL);
		CHECK(sock_close(o->echo) == -EINVAL);
	}
	CHECK(sock_recv(NULL, buf, sizeof(buf), MS) == -EINVAL);
	CHECK(sock_close(NULL) == -EINVAL);
	CHECK(sock_recv(c->echo, buf, sizeof(buf), MS) == -EINVAL); /* a listener */
	CHECK(sock_accept(c->conn, &x, MS) == -EINVAL);             /* a connection */
	CHECK(sock_sendto(c->conn, "x", 1, LO, UDP_PORT) == -EINVAL);
	return 0;
}

/* Phase 3: the owners' sockets are unharmed. */
static int wrong_core_close(void *arg)
{
	(void)arg;
	struct core_ctx *c = me();
	if (!c->conn)
		return 0;
	echo_once(c->conn, "mine still");
	CHECK(sock_close(c->conn) == 0);
	c->conn = NULL;
	return 0;
}

struct blocked {
	struct sock *s;
	int ret;
};

static int blocked_accept(void *arg)
{
	struct blocked *b = arg;
	struct sock *x;
	b->ret = sock_accept(b->s, &x, T);
	return 0;
}

static int blocked_recv(void *arg)
{
	struct blocked *b = arg;
	char buf[8];
	b->ret = (int)sock_recv(b->s, buf, sizeof(buf), T);
	return 0;
}

static int case_close_wakes(void *arg)
{
	(void)arg;
	struct blocked a = { 0 }, r = { 0 };
	CHECK(sock_listen(LO, ACCEPT_PORT, 4, &a.s) == 0);
	CHECK(sock_connect(LO, ECHO_PORT, &r.s, T) == 0);
	if (!a.s || !r.s)
		return 0;
	struct thread *ta = thread_create(core_id(), blocked_accept, &a);
	struct thread *tr = thread_create(core_id(), blocked_recv, &r);
	sleep_ms(5); /* both are blocked now */
	CHECK(sock_close(a.s) == 0);
	CHECK(sock_close(r.s) == 0);
	if (ta)
		thread_join(ta, NULL);
	if (tr)
		thread_join(tr, NULL);
	CHECKF(a.ret == -ECONNABORTED && r.ret == -ECONNABORTED,
	       "core %u: blocked accept gave %d, recv %d", core_id(), a.ret, r.ret);
	return 0;
}

static int udp_server(void *arg)
{
	struct sock *s = arg;
	char buf[256];
	ip4_t addr;
	uint16_t port;
	ssize_t n;
	while ((n = sock_recvfrom(s, buf, sizeof(buf), &addr, &port, T)) >= 0) {
		if (n == 4 && !memcmp(buf, "quit", 4))
			break;
		sock_sendto(s, buf, (size_t)n, addr, port);
	}
	return 0;
}

static int case_udp(void *arg)
{
	(void)arg;
	struct sock *srv, *cli, *sink, *dup = NULL;
	char msg[64], buf[256];
	int r = sock_udp_bind(SOCK_ANY, UDP_PORT, &srv); /* the same port on every core */
	CHECKF(r == 0, "core %u: bind: %d", core_id(), r);
	if (r)
		return 0;
	CHECK(sock_udp_bind(SOCK_ANY, UDP_PORT, &dup) == -EADDRINUSE && !dup);
	CHECK(sock_udp_bind(LO, 0, &cli) == 0);
	CHECK(sock_udp_bind(LO, UDP_PORT + 1, &sink) == 0);
	struct thread *t = thread_create(core_id(), udp_server, srv);
	for (int i = 0; i < 10; i++) {
		int len = snprintf(msg, sizeof(msg), "datagram %d of core %u", i, core_id());
		ip4_t from = 0;
		uint16_t port = 0;
		CHECK(sock_sendto(cli, msg, (size_t)len, LO, UDP_PORT) == len);
		ssize_t n = sock_recvfrom(cli, buf, sizeof(buf), &from, &port, T);
		CHECKF(n == len && !memcmp(buf, msg, (size_t)len) && from == LO && port == UDP_PORT,
		       "core %u: datagram %d came back as %ld bytes from port %u", core_id(), i, n,
		       port);
	}
	/* A datagram longer than the buffer is cut to it. */
	memset(msg, 'u', sizeof(msg));
	CHECK(sock_sendto(cli, msg, sizeof(msg), LO, UDP_PORT) == sizeof(msg));
	CHECK(sock_recvfrom(cli, buf, 10, NULL, NULL, T) == 10);
	CHECK(sock_recvfrom(cli, buf, sizeof(buf), NULL, NULL, 20 * MS) == -ETIMEDOUT);
	CHECK(sock_sendto(cli, big, 70000, LO, UDP_PORT) == -EMSGSIZE);
	/* Nobody reads the sink for a while: its queue fills up, the rest is dropped. */
	struct net_stats st0, st1;
	net_stats(&st0);
	for (int i = 0; i < 100; i++)
		CHECK(sock_sendto(cli, "flood", 5, LO, UDP_PORT + 1) == 5);
	sleep_ms(20);
	int queued = 0;
	while (sock_recvfrom(sink, buf, sizeof(buf), NULL, NULL, 20 * MS) == 5)
		queued++;
	net_stats(&st1);
	CHECKF(queued > 0 && queued < 100 && st1.rx_dropped - st0.rx_dropped == 100u - queued,
	       "core %u: 100 datagrams to a full socket: %d kept, %lu dropped", core_id(), queued,
	       st1.rx_dropped - st0.rx_dropped);
	CHECK(sock_sendto(cli, "quit", 4, LO, UDP_PORT) == 4);
	if (t)
		thread_join(t, NULL);
	CHECK(sock_close(srv) == 0);
	CHECK(sock_close(cli) == 0);
	CHECK(sock_close(sink) == 0);
	return 0;
}

static int case_end(void *arg)
{
	(void)arg;
	struct core_ctx *c = me();
	if (c->echo)
		CHECK(sock_close(c->echo) == 0);
	wait_until(&c->acceptor_done, T);
	CHECKF(c->acceptor_done && c->acceptor_ret == -ECONNABORTED,
	       "core %u: echo acceptor %s, last accept %d", core_id(),
	       c->acceptor_done ? "ended" : "still running", c->acceptor_ret);
	uint64_t end = now_ns() + T;
	while (*(volatile unsigned *)&c->handlers && now_ns() < end)
		sleep_ms(1);
	CHECKF(c->handlers == 0, "core %u: %u echo handlers still running", core_id(), c->handlers);
	/* Threads that ended are reaped and remote frees come home shortly after. */
	struct mem_stats ms;
	end = now_ns() + 2 * SEC;
	do {
		sleep_ms(2);
		mem_stats(&ms);
	} while (ms.heap_blocks != c->heap_base && now_ns() < end);
	struct net_stats st;
	net_stats(&st);
	CHECKF(ms.heap_blocks == c->heap_base, "core %u: %zu heap blocks, %zu before", core_id(),
	       ms.heap_blocks, c->heap_base);
	CHECKF(st.tcp_active == c->active_base, "core %u: %lu connections open, %lu before",
	       core_id(), st.tcp_active, c->active_base);
	CHECKF(st.tcp_accepted - c->accepted_base == c->accepted,
	       "core %u: tcp_accepted grew by %lu, the test accepted %u", core_id(),
	       st.tcp_accepted - c->accepted_base, c->accepted);
	return 0;
}

/* ---- main ----------------------------------------------------------------------------------- */

/* Runs fn on every core at once and waits for all of them. */
static void on_all_cores(thread_fn fn)
{
	struct thread *t[ISLE_MAX_CORES];
	unsigned n = core_count();
	for (unsigned c = 0; c < n; c++) {
		t[c] = thread_create(c, fn, NULL);
		CHECKF(t[c], "cannot start a thread on core %u", c);
	}
	for (unsigned c = 0; c < n; c++)
		if (t[c])
			thread_join(t[c], NULL);
}

static void run_case(const char *name, thread_fn fn)
{
	gtest_begin(name);
	on_all_cores(fn);
	gtest_end();
}

int main(void)
{
	for (unsigned i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	run_case("net_no_nic", case_no_nic);
	run_case("sock_listen_same_port_every_core", case_listen);
	run_case("tcp_echo_small", case_echo_small);
	run_case("tcp_echo_1mib", case_echo_big);
	run_case("tcp_both_sides_stop_reading", case_stall);
	run_case("tcp_50_connections_per_core", case_many);
	run_case("tcp_shutdown_then_peer_close", case_shutdown);
	run_case("tcp_recv_timeout", case_recv_timeout);
	run_case("tcp_accept_timeout", case_accept_timeout);
	run_case("tcp_connect_refused", case_refused);
	run_case("tcp_send_after_reset", case_reset);
	run_case("tcp_backlog_overflow", case_backlog);
	gtest_begin("sock_other_core_einval");
	on_all_cores(wrong_core_open);
	on_all_cores(wrong_core_use);
	on_all_cores(wrong_core_close);
	gtest_end();
	run_case("sock_close_wakes_blocked_threads", case_close_wakes);
	run_case("udp_echo", case_udp);
	run_case("net_back_to_baseline", case_end);
	return gtest_status();
}
