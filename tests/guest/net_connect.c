/*
 * net_connect - outgoing connections over the NIC come back to the core that opened them.
 *
 *   test-net_connect.elf -- ip=10.0.2.15 ... -- SERVER_IP PORT IDLE_SECS
 *
 * Needs a NIC and a server (tests/e2e/run-net boots it with one in its private namespace;
 * tests/run does not boot it). Every core at once:
 *  - opens CONNS TCP connections to SERVER_IP:PORT one after the other; on each it says
 *    "HELLO <core> <n> <idle>", reads the server's "HI <core> <n> <port>", sends ECHO_BYTES and
 *    reads them back; the last connection then stays silent while the server waits IDLE_SECS
 *    (longer than a tap's flow-steering memory) before it sends "LATE <core> <n>", which must
 *    still arrive here: a packet delivered to another core would meet an lwIP that does not
 *    know the connection and answer with a reset;
 *  - sends datagrams from a UDP socket bound to port 0 to the same port, which the server
 *    echoes: the echo must come back to this core's socket; and one datagram too large for a
 *    packet, which the server must receive whole.
 * A connection whose replies the NIC steered to another core never completes its handshake,
 * so every check here fails without the local port choice of sock_connect (at 2 or more
 * cores). Every wait is bounded; the server (tests/e2e/netcheck.py connserver) keeps its own
 * count of connections, idle replies and resets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/net.h>
#include <isle/thread.h>
#include "gtest.h"

#define CONNS 4                /* TCP connections per core, the last one idle */
#define ECHO_BYTES (48 * 1024) /* bulk data each way on every connection */
#define UDP_TRIES 5            /* datagrams per core (UDP may lose one) */
#define UDP_BIG 3000           /* a datagram lwIP must fragment (MTU 1500) */
#define MS 1000000ull
#define SEC 1000000000ull
#define T (10 * SEC) /* a step that should take no time at all */

/* One core's results: written by that core's thread, read by main after the join. */
struct core_result {
	unsigned connected;    /* connections whose handshake completed */
	unsigned echoed;       /* connections whose echo came back whole */
	bool late_ok;          /* the idle connection's late reply arrived */
	uint64_t late_wait_ms; /* how long it was idle */
	unsigned udp_back;     /* datagrams echoed back to this core's socket */
	bool udp_big_ok;       /* the server got a fragmented datagram whole */
	char why[96];          /* the first thing that went wrong */
};

static struct core_result results[ISLE_MAX_CORES];
static ip4_t server;
static uint16_t port;
static unsigned idle_secs;
static uint8_t pattern[ECHO_BYTES];
static uint8_t echo_back[ISLE_MAX_CORES][ECHO_BYTES]; /* per core: too large for a thread stack */

static struct core_result *me(void)
{
	return &results[core_id()];
}

static void note(const char *what, long val)
{
	if (!me()->why[0])
		snprintf(me()->why, sizeof(me()->why), "%s: %ld", what, val);
}

/* Receives exactly len bytes (unless the stream ends or fails): the count or the error. */
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

/* Reads one line of at most len - 1 bytes (without the newline) into buf; 0 or an error. */
static int recv_line(struct sock *s, char *buf, size_t len, uint64_t timeout)
{
	size_t n = 0;
	while (n + 1 < len) {
		ssize_t r = sock_recv(s, buf + n, 1, timeout);
		if (r <= 0)
			return r ? (int)r : -ECONNRESET;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = 0;
	return 0;
}

static bool send_str(struct sock *s, const char *str)
{
	size_t len = strlen(str);
	return sock_send(s, str, len, T) == (ssize_t)len;
}

/* One connection: HELLO/HI, the echo, and for the idle one the late reply. */
static void one_connection(unsigned n, bool idle)
{
	struct core_result *r = me();
	struct sock *s;
	char line[96], want[64];
	int err = sock_connect(server, port, &s, T);
	if (err) {
		note("connect", err);
		return;
	}
	r->connected++;
	snprintf(line, sizeof(line), "HELLO %u %u %u\n", core_id(), n, idle ? idle_secs : 0);
	snprintf(want, sizeof(want), "HI %u %u ", core_id(), n);
	if (!send_str(s, line) || (err = recv_line(s, line, sizeof(line), T)) < 0 ||
	    strncmp(line, want, strlen(want))) {
		note(err < 0 ? "HI" : "wrong HI", err);
		goto close;
	}
	snprintf(line, sizeof(line), "ECHO %u\n", ECHO_BYTES);
	if (!send_str(s, line) || sock_send(s, pattern, ECHO_BYTES, T) != ECHO_BYTES) {
		note("echo send", 0);
		goto close;
	}
	ssize_t got = recv_all(s, echo_back[core_id()], ECHO_BYTES, T);
	if (got != ECHO_BYTES || memcmp(echo_back[core_id()], pattern, ECHO_BYTES)) {
		note("echo back", got);
		goto close;
	}
	r->echoed++;
	if (idle) {
		uint64_t t0 = now_ns();
		snprintf(want, sizeof(want), "LATE %u %u", core_id(), n);
		err = recv_line(s, line, sizeof(line), (idle_secs + 15) * SEC);
		r->late_wait_ms = (now_ns() - t0) / MS;
		if (err < 0 || strcmp(line, want))
			note(err < 0 ? "late reply" : "wrong late reply", err);
		else
			r->late_ok = true;
	}
close:
	sock_close(s);
}

static int tcp_case(void *arg)
{
	(void)arg;
	if (net_wait_up(10 * SEC) < 0) {
		note("no address", 0);
		return 0;
	}
	for (unsigned n = 0; n < CONNS; n++)
		one_connection(n, n == CONNS - 1);
	return 0;
}

static int udp_case(void *arg)
{
	(void)arg;
	struct sock *s;
	char msg[64], buf[128];
	int err = sock_udp_bind(SOCK_ANY, 0, &s);
	if (err) {
		note("udp bind", err);
		return 0;
	}
	for (unsigned i = 0; i < UDP_TRIES; i++) {
		int len = snprintf(msg, sizeof(msg), "UDP %u %u", core_id(), i);
		ssize_t n = sock_sendto(s, msg, (size_t)len, server, port);
		if (n != len) {
			note("sendto", n);
			continue;
		}
		ip4_t from = 0;
		uint16_t from_port = 0;
		n = sock_recvfrom(s, buf, sizeof(buf), &from, &from_port, 2 * SEC);
		if (n == len && !memcmp(buf, msg, (size_t)len) && from == server &&
		    from_port == port)
			me()->udp_back++;
		else if (n != -ETIMEDOUT)
			note("udp echo", n);
	}
	/* A datagram lwIP must fragment (its checksum, covering every fragment, comes from lwIP,
	 * not the device); the server answers "GOT <length>" if the host reassembled it whole.
	 * The answer is small: a fragmented reply would be steered by addresses alone. */
	static char big[ISLE_MAX_CORES][UDP_BIG];
	char *b = big[core_id()], want[32];
	memset(b, 'x', UDP_BIG);
	memcpy(b, "BIG", 3);
	snprintf(want, sizeof(want), "GOT %u", UDP_BIG);
	for (unsigned i = 0; i < UDP_TRIES && !me()->udp_big_ok; i++) {
		ssize_t n = sock_sendto(s, b, UDP_BIG, server, port);
		if (n != UDP_BIG) {
			note("big sendto", n);
			continue;
		}
		n = sock_recvfrom(s, buf, sizeof(buf) - 1, NULL, NULL, 2 * SEC);
		if (n > 0) {
			buf[n] = 0;
			me()->udp_big_ok = !strcmp(buf, want);
		}
	}
	sock_close(s);
	return 0;
}

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

static bool parse_ip(const char *s, ip4_t *out)
{
	unsigned long b[4];
	char *end;
	for (int i = 0; i < 4; i++) {
		b[i] = strtoul(s, &end, 10);
		if (end == s || b[i] > 255 || *end != (i < 3 ? '.' : 0))
			return false;
		s = end + 1;
	}
	*out = SOCK_IP(b[0], b[1], b[2], b[3]);
	return true;
}

int main(int argc, char **argv)
{
	for (unsigned i = 0; i < ECHO_BYTES; i++)
		pattern[i] = (uint8_t)(i * 13 + i / 511);
	gtest_begin("connect_arguments");
	CHECKF(argc == 4 && parse_ip(argv[1], &server), "usage: -- SERVER_IP PORT IDLE_SECS");
	if (gtest_end())
		return gtest_status();
	port = (uint16_t)atoi(argv[2]);
	idle_secs = (unsigned)atoi(argv[3]);
	unsigned cores = core_count();

	gtest_begin("connect_tcp_every_core");
	on_all_cores(tcp_case);
	for (unsigned c = 0; c < cores; c++) {
		struct core_result *r = &results[c];
		printf("core %u: %u/%u connected, %u echoed %u bytes each way, idle connection: "
		       "%s after %lu ms%s%s\n",
		       c, r->connected, CONNS, r->echoed, ECHO_BYTES,
		       r->late_ok ? "late reply here" : "no late reply", r->late_wait_ms,
		       r->why[0] ? "; first problem: " : "", r->why);
		CHECKF(r->connected == CONNS && r->echoed == CONNS, "core %u", c);
	}
	gtest_end();
	gtest_begin("connect_idle_reply_same_core");
	for (unsigned c = 0; c < cores; c++)
		/* it waited about idle_secs (the server's sleep began a moment before) */
		CHECKF(results[c].late_ok && results[c].late_wait_ms + 500 >= idle_secs * 1000ull,
		       "core %u: late reply %s after %lu ms", c,
		       results[c].late_ok ? "came" : "missing", results[c].late_wait_ms);
	gtest_end();

	gtest_begin("connect_udp_reply_same_core");
	for (unsigned c = 0; c < cores; c++)
		results[c].why[0] = 0;
	on_all_cores(udp_case);
	for (unsigned c = 0; c < cores; c++) {
		printf("core %u: %u/%u datagrams echoed back here, %u-byte datagram %s%s%s\n", c,
		       results[c].udp_back, UDP_TRIES, UDP_BIG,
		       results[c].udp_big_ok ? "received whole" : "not confirmed",
		       results[c].why[0] ? "; first problem: " : "", results[c].why);
		/* UDP may lose a datagram; every core must still get most of its echoes */
		CHECKF(results[c].udp_back >= UDP_TRIES - 1 && results[c].udp_big_ok, "core %u", c);
	}
	gtest_end();
	return gtest_status();
}
