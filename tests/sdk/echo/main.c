#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/net.h>
#include <isle/thread.h>

#define PORT 7
#define SECOND 1000000000ull

/* One connection: echo until the peer closes or is silent for 10 s. */
static int serve(void *arg)
{
	struct sock *s = arg;
	char buf[512];
	ssize_t n;
	while ((n = sock_recv(s, buf, sizeof(buf), 10 * SECOND)) > 0)
		if (sock_send(s, buf, (size_t)n, 10 * SECOND) != n)
			break; /* the peer reset, or stopped reading for 10 s */
	sock_close(s);
	return 0;
}

/* Every core listens on the same port and serves what its NIC queue brings it. */
static int listener(void *arg)
{
	(void)arg;
	struct sock *l;
	int err = sock_listen(SOCK_ANY, PORT, 128, &l);
	if (err < 0) {
		printf("core %u: listen: %d\n", core_id(), err);
		return err;
	}
	for (;;) {
		struct sock *c;
		if (sock_accept(l, &c, 0) < 0)
			continue;
		if (thread_spawn(core_id(), serve, c) <
		    0)                 /* a thread per connection, on this core */
			sock_close(c); /* no memory: refuse this one */
	}
}

/* A client on every core, over its own loopback (127.0.0.1 is each core's own stack). */
static int client(void *arg)
{
	(void)arg;
	struct sock *s;
	char got[16] = { 0 };
	int err = sock_connect(SOCK_IP(127, 0, 0, 1), PORT, &s, SECOND);
	if (err == 0 && sock_send(s, "hello", 5, SECOND) == 5 && sock_recv(s, got, 5, SECOND) == 5)
		printf("core %u: echoed %s\n", core_id(), got);
	else
		printf("core %u: no echo (%d)\n", core_id(), err);
	if (err == 0)
		sock_close(s);
	return strcmp(got, "hello") != 0;
}

int main(void)
{
	unsigned n = core_count();
	for (unsigned c = 0; c < n; c++)
		thread_spawn(c, listener, NULL);
	thread_yield(); /* let core 0's listener start before its client connects */
	int failed = 0;
	for (unsigned c = 0; c < n; c++) {
		int ret = 1;
		struct thread *t = thread_create(c, client, NULL);
		if (t)
			thread_join(t, &ret);
		failed += ret != 0;
	}
	printf("%d of %u cores failed\n", failed, n);
	return failed != 0;
}
