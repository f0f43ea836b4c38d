/*
 * An application that is not part of isle: tests/run's `sdk` section copies this folder out
 * of the repository and builds it with the installed isle-cc, as a user would:
 *
 *     isle-cc -c tally.c -o tally.o && ar rcs libtally_percore.a tally.o
 *     isle-cc -o app.elf main.c libtally_percore.a
 *     isle-mkinitrd files files.cpio && isle-run -c 4 -i files.cpio app.elf
 *
 * It uses what an application would: a thread on every core, a PERCORE variable read from
 * core 0 through percore_of, a per-core library of its own (plain globals in
 * libtally_percore.a), a TCP connection over every core's loopback, and a file of the initrd.
 * Prints "ok <what>" or "FAIL <what>: why" per part; exits 0 when all passed.
 */
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/fs.h>
#include <isle/mem.h>
#include <isle/net.h>
#include <isle/percore.h>
#include <isle/thread.h>
#include "tally.h"

#define PORT 7000
#define SECOND 1000000000ull

PERCORE static unsigned visits; /* each core's own */
static int failures;

static void report(int ok, const char *what, const char *why)
{
	if (ok) {
		printf("ok %s\n", what);
	} else {
		printf("FAIL %s: %s\n", what, why);
		failures++;
	}
}

/* One echo over this core's loopback: this core's lwIP listens, connects and answers. */
static int echo_here(void)
{
	struct sock *l, *c, *a;
	char buf[16];
	if (sock_listen(0, PORT, 4, &l) < 0)
		return -1;
	int ret = -1;
	if (sock_connect(0x0100007f, PORT, &c, SECOND) == 0) { /* 127.0.0.1, network order */
		if (sock_accept(l, &a, SECOND) == 0) {
			if (sock_send(c, "ping", 4, SECOND) == 4 &&
			    sock_recv(a, buf, 4, SECOND) == 4 &&
			    sock_send(a, buf, 4, SECOND) == 4 &&
			    sock_recv(c, buf, 4, SECOND) == 4 && memcmp(buf, "ping", 4) == 0)
				ret = 0;
			sock_close(a);
		}
		sock_close(c);
	}
	sock_close(l);
	return ret;
}

static int on_core(void *arg)
{
	(void)arg;
	visits += core_id() + 1;
	tally_add(core_id() + 1);
	return echo_here() == 0 ? (int)core_id() : -1;
}

int main(void)
{
	unsigned n = core_count();
	struct thread *t[ISLE_MAX_CORES];
	int ok = 1, echoed = 1;
	for (unsigned c = 0; c < n; c++)
		ok &= (t[c] = thread_create(c, on_core, NULL)) != NULL;
	for (unsigned c = 0; c < n; c++) {
		int ret = -2;
		if (t[c] && thread_join(t[c], &ret) == 0 && ret != (int)c)
			echoed = 0;
	}
	report(ok, "threads", "thread_create failed");
	report(echoed, "sockets", "an echo over some core's loopback failed");

	int mine = 1;
	for (unsigned c = 0; c < n; c++) {
		const unsigned *v = percore_of(&visits, c);
		mine &= v && *v == c + 1;
		const unsigned *tv = percore_of(tally_address(), c);
		mine &= tv && *tv == c + 1;
	}
	report(mine, "percore", "a core's copy does not hold what that core added");

	char *data = NULL;
	size_t len = 0;
	int r = fs_read_file("/hello.txt", 4096, &data, &len);
	report(r == 0 && len == 16 && memcmp(data, "hello from disk\n", 16) == 0, "files",
	       "/hello.txt is not what the initrd holds");
	kfree(data);
	printf("app: %u cores, %d failed\n", n, failures);
	return failures ? 1 : 0;
}
