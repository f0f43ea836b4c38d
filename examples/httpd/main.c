/*
 * httpd - a static HTTP/1.1 server, one of everything per core.
 *
 *   make run APP=httpd CORES=4 SITE=folder ARGS="ip=10.0.2.15 gw=10.0.2.1 -- port=8080"
 *
 *   httpd [port=N] [root=DIR]      (a bare number is the port, for compatibility)
 *
 * Serves the files under DIR (default "/", the initrd; see site.c) with GET and HEAD,
 * keep-alive and pipelining, and GET /stats (per-core counters as JSON). Port 80 by default.
 *
 * Every core listens on the same port with its own TCP/IP stack; the NIC steers each connection
 * to one core, which accepts it and serves it with a thread of its own until it closes. Nothing
 * about a connection ever leaves its core. Each core holds at most HTTPD_MAX_CONNS connections
 * and answers more with 503. Start-up is two rounds: first every core opens its listening socket
 * (main joins them, so a failure on any core is reported and ends httpd), then every core starts
 * its accept loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/thread.h>

#include "httpd.h"

#define LISTEN_BACKLOG 128

PERCORE struct httpd_core httpd;

struct httpd_core *httpd_here(void)
{
	return &httpd;
}

/* Round one, on every core: open this core's listening socket. arg is the port. */
static int listen_thread(void *arg)
{
	uint16_t port = (uint16_t)(uintptr_t)arg;
	return sock_listen(SOCK_ANY, port, LISTEN_BACKLOG, &httpd_here()->listener);
}

/* Round two, on every core: accept connections and hand each to a thread of its own. */
static int accept_thread(void *arg)
{
	struct httpd_core *h = httpd_here();
	(void)arg;

	for (;;) {
		struct sock *s;
		int err = sock_accept(h->listener, &s, 0);
		if (err < 0) {
			/* out of memory or the like: give the core a moment instead of spinning */
			sleep_ms(10);
			continue;
		}
		h->counter.accepted++;
		if (h->counter.open >= HTTPD_MAX_CONNS) {
			conn_refuse(s);
			continue;
		}
		h->counter.open++; /* the connection's thread counts it out */
		if (thread_spawn_stack(core_id(), conn_thread, s, HTTPD_STACK) < 0) {
			h->counter.open--;
			conn_refuse(s);
		}
	}
	return 0;
}

/* The port from argv[1]: 1..65535, decimal; 0 if malformed. */
static uint16_t parse_port(const char *s)
{
	unsigned long v = 0;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return 0;
	}
	return (uint16_t)v;
}

int main(int argc, char **argv)
{
	unsigned n = core_count();
	uint16_t port = 80;
	struct thread *t[HTTPD_MAX_CORES];
	int failed = 0;

	const char *root = "/";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "root=", 5) == 0) {
			root = a + 5;
			continue;
		}
		port = parse_port(strncmp(a, "port=", 5) == 0 ? a + 5 : a);
		if (port == 0) {
			printf("httpd: bad argument '%s' (usage: httpd [port=1..65535] "
			       "[root=DIR])\n",
			       a);
			return EXIT_FAILURE;
		}
	}
	if (n > HTTPD_MAX_CORES) {
		printf("httpd: %u cores, at most %d supported\n", n, HTTPD_MAX_CORES);
		return EXIT_FAILURE;
	}
	int err = site_init(root);
	if (err < 0) {
		printf("httpd: document root %s: %s\n", root, strerror(-err));
		return EXIT_FAILURE;
	}

	for (unsigned c = 0; c < n; c++)
		t[c] = thread_create(c, listen_thread, (void *)(uintptr_t)port);
	for (unsigned c = 0; c < n; c++) {
		int ret = -ENOMEM;
		if (t[c])
			thread_join(t[c], &ret);
		if (ret < 0) {
			printf("httpd: core %u: cannot listen on port %u: error %d\n", c, port,
			       ret);
			failed = 1;
		}
	}
	if (failed)
		return EXIT_FAILURE;

	for (unsigned c = 0; c < n; c++) {
		if (thread_spawn(c, accept_thread, NULL) < 0) {
			printf("httpd: core %u: cannot start its accept thread\n", c);
			return EXIT_FAILURE;
		}
	}
	printf("httpd: listening on port %u on %u cores, serving %s\n", port, n, root);
	for (;;)
		thread_block(); /* nobody wakes main: httpd runs until the VM is stopped */
}
