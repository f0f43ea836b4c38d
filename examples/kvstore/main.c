/*
 * kvstore - a key-value server speaking the Redis protocol (RESP2), its keyspace sharded by
 * key over the cores, with no lock anywhere.
 *
 *   make run APP=kvstore CORES=4            redis-cli -p 6379 (user networking: host 6379)
 *   kvstore [PORT [MAXMEMORY_MB]] [appendonly=yes] [appendfsync=always|everysec]
 *       e.g. ARGS="-- 7000 64": port 7000 (default 6379), 64 MiB of data in all (default: half
 *       of memory); appendonly=yes keeps an append-only log per core in /disk/kvstore (an ext2
 *       disk: make run APP=kvstore DISK=disk.img ARGS="-- appendonly=yes")
 *
 * Design.
 *  - Shards. Every core owns one shard of the keyspace (struct kv_core.db, a hash table in the
 *    core's own heap, db.c). The owner of a key is cmd_owner():
 *    (fmix64(FNV-1a-64(key)) >> 32) % cores.
 *    Only the owner core ever reads or writes its shard, so nothing needs a lock.
 *  - Connections. Every core listens on the port with its own TCP/IP stack; the NIC steers
 *    each connection to one core, where a thread of its own serves it (conn.c), as in httpd.
 *  - Commands. A connection parses requests (pipelined: as many per read as arrived, resp.c)
 *    and looks each up (cmd.c). A command whose keys are all on this core runs at once on the
 *    local shard. A command with a key on core j becomes a part for j with a copy of its
 *    arguments; the parts for j of a burst of pipelined requests go over the message ring as
 *    one message (KV_MSG_PARTS, shard.c); j's handler runs them on j's shard (handlers never
 *    block, and neither do shard operations), puts the reply bytes in the parts and sends them
 *    back (KV_MSG_REPLIES); the home core's handler files the replies and wakes the
 *    connection's thread. Multi-key commands (MGET MSET DEL EXISTS) are split by owner and the
 *    answers merged; DBSIZE FLUSHALL INFO ask every core (cmd.h: routes and merges).
 *  - Order. Replies are written in request order even when pipelined requests went to
 *    different cores: requests waiting for other cores have a slot in the connection's queue,
 *    replies made at once go behind the last slot (conn.c). Many parts may be out at once,
 *    which is what makes pipelining fast. Commands of one client run on each shard in the
 *    order the client sent them: local ones at once, remote ones in ring order.
 *  - Lifetimes. A connection whose client vanishes while parts are out is freed by the last
 *    reply (kv_conn.inflight, kv_conn.gone), never before.
 *  - Expiry. Times are Unix time in ms (time_unix_ms(), from the RTC; ms since boot on a
 *    machine without one). Lazy on every lookup, and every KV_CYCLE_MS a thread per core sweeps
 *    a bounded part of its shard (db_cycle, which also moves a bounded part of a rehash).
 *  - Memory. Each shard may hold 1/KV_MEMORY_SHARE of its core's memory; past that, commands
 *    that add data get Redis' -OOM error. A core with less than 1/KV_RESERVE_SHARE of its
 *    memory free answers -OOM to every request of its clients for a shard and grows no input
 *    buffer, so that what must not fail (replies of parts already out, threads finishing, the
 *    TCP/IP stack) always finds memory. Every core also guards itself against other cores'
 *    clients: a part whose values or data would take it below 1/KV_RESERVE_REMOTE free is
 *    refused with -OOM before it runs (shard.c), and a connection stops parsing while
 *    KV_MAX_HELD bytes of other cores' replies wait to be sent (conn.c). Allocation failures
 *    anywhere become -OOM replies or a closed connection, never a crash. Limits: 1 MiB per
 *    argument, 8 MiB per request (resp.h), KV_MAX_CONNS connections per core, 255 cores.
 *  - Long work. Handlers cannot yield, so work that may be long is done by each core's worker
 *    thread a step at a time (shard.c): freeing a flushed shard (FLUSHALL empties it at once
 *    and answers once it is freed) and, past KV_STEP_BYTES of replies in one handler, the rest
 *    of a list of parts.
 *  - Statistics are per core (kv_core.ctr, db.stats) and INFO gathers them by asking every
 *    core, like any other command: one "# Core<n>" section per core.
 *  - Persistence (appendonly=yes, aof.c). Every change of a shard passes through shard_apply()
 *    on the shard's own core, which logs the state of the keys a write command named to that
 *    core's log file on the ext2 disk. With appendfsync=always (the default) no reply leaves
 *    before its records are durable: remote parts' KV_MSG_REPLIES wait for the log thread's
 *    fsync (aof_after), a local write waits in a slot, and a connection waits before it sends
 *    (aof_wait). If the log cannot be written, the writes waiting are answered -MISCONF, reads
 *    go on, and writes are refused until it works again. At start-up every
 *    core replays its log (after a change of core count: all logs, keeping its own keys) before
 *    any client can connect. SHUTDOWN ends the VM; exit() writes the disk back first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/mem.h>
#include <isle/thread.h>

#include "kvstore.h"

#define LISTEN_BACKLOG 128
#define PAGE_SIZE 4096
#define AOF_DIR "/disk/kvstore"

struct kv_core kv_cores[KV_MAX_CORES];
struct cmd_server kv_server;

struct kv_core *kv_here(void)
{
	return &kv_cores[core_id()];
}

int64_t kv_now_ms(void)
{
	/* kv_server.wall_clock is [I]: one clock for the server's whole life */
	return kv_server.wall_clock ? time_unix_ms() : (int64_t)(now_ns() / 1000000);
}

/* What every core needs to set up; main's, read-only once the cores start. */
struct setup {
	uint16_t port;    /* to listen on */
	size_t maxmemory; /* bytes of data per shard asked for; 0: the default */
	bool appendonly;  /* appendonly=yes: replay the log, then keep it */
};

__attribute__((noreturn)) void kv_shutdown(void)
{
	printf("kvstore: SHUTDOWN by a client; the disk is written back\n");
	exit(0);
}

/* Round one, on every core: the shard (and what the log holds), then the listening socket.
 * arg is the struct setup. */
static int setup_thread(void *arg)
{
	const struct setup *su = arg;
	struct kv_core *k = kv_here();
	struct mem_stats ms;

	mem_stats(&ms);
	size_t limit = ms.total_pages * PAGE_SIZE / KV_MEMORY_SHARE;
	db_init(&k->db, su->maxmemory && su->maxmemory < limit ? su->maxmemory : limit);
	if (su->appendonly) {
		int err = aof_load_core(&k->db);
		if (err < 0)
			return err;
	}
	int err = shard_start_worker();
	if (err < 0)
		return err;
	return sock_listen(SOCK_ANY, su->port, LISTEN_BACKLOG, &k->listener);
}

/* With appendonly=yes, on every core once the logs are loaded: the log file and its thread. */
static int aof_thread(void *arg)
{
	(void)arg;
	return aof_open_core();
}

/* Round two, on every core: accept connections and hand each to a thread of its own. */
static int accept_thread(void *arg)
{
	struct kv_core *k = kv_here();
	(void)arg;

	for (;;) {
		struct sock *s;
		if (sock_accept(k->listener, &s, 0) < 0) {
			sleep_ms(10); /* out of memory or the like: give the core a moment */
			continue;
		}
		k->ctr.accepted++;
		if (k->ctr.open >= KV_MAX_CONNS) {
			conn_refuse(s, "ERR max number of clients reached");
			continue;
		}
		k->ctr.open++; /* the connection's thread counts it out */
		if (thread_spawn_stack(core_id(), conn_thread, s, KV_STACK) < 0) {
			k->ctr.open--;
			conn_refuse(s, cmd_err_oom);
		}
	}
	return 0;
}

/* Active expiry and rehashing of this core's shard. */
static int cycle_thread(void *arg)
{
	struct kv_core *k = kv_here();
	(void)arg;

	for (;;) {
		sleep_ms(KV_CYCLE_MS);
		db_cycle(&k->db, kv_now_ms(), KV_CYCLE_WORK);
	}
	return 0;
}

/* Runs fn(arg) on every core at once and waits for all; false if any returned < 0. */
static bool on_every_core(thread_fn fn, void *arg, const char *what)
{
	struct thread *t[KV_MAX_CORES];
	bool ok = true;

	for (unsigned c = 0; c < core_count(); c++)
		t[c] = thread_create(c, fn, arg);
	for (unsigned c = 0; c < core_count(); c++) {
		int ret = -ENOMEM;
		if (t[c])
			thread_join(t[c], &ret);
		if (ret < 0) {
			printf("kvstore: core %u: %s: %s\n", c, what, strerror(-ret));
			ok = false;
		}
	}
	return ok;
}

/* A decimal number from 1 to max; 0 if malformed or out of range. */
static unsigned long parse_number(const char *s, unsigned long max)
{
	unsigned long v = 0;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return 0;
	}
	return v;
}

static int usage(const char *bad)
{
	printf("kvstore: bad argument '%s' (usage: kvstore [PORT [MAXMEMORY_MB]] "
	       "[appendonly=yes|no] [appendfsync=always|everysec])\n",
	       bad);
	return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	unsigned n = core_count();
	static struct setup su = { .port = KV_PORT };
	enum aof_fsync fsync_mode = AOF_FSYNC_ALWAYS;
	unsigned positional = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "appendonly=yes") == 0 || strcmp(a, "appendonly=no") == 0) {
			su.appendonly = a[11] == 'y';
		} else if (strcmp(a, "appendfsync=always") == 0) {
			fsync_mode = AOF_FSYNC_ALWAYS;
		} else if (strcmp(a, "appendfsync=everysec") == 0) {
			fsync_mode = AOF_FSYNC_EVERYSEC;
		} else if (positional == 0) {
			if (!(su.port = (uint16_t)parse_number(a, 65535)))
				return usage(a);
			positional++;
		} else if (positional == 1) {
			unsigned long mb = parse_number(a, 1ul << 30);
			if (!mb)
				return usage(a);
			su.maxmemory = (mb << 20) / n;
			positional++;
		} else {
			return usage(a);
		}
	}
	if (n > KV_MAX_CORES) {
		printf("kvstore: %u cores, at most %d supported\n", n, KV_MAX_CORES);
		return EXIT_FAILURE;
	}
	kv_server = (struct cmd_server){
		.nshards = n,
		.port = su.port,
		.idle_sec = KV_IDLE_SEC,
		.wall_clock = time_unix_ms() > 0, /* an RTC: Unix time, as Redis */
		.appendonly = su.appendonly,
	};
	kv_server.start_ms = kv_now_ms();
	if (su.appendonly && aof_plan(AOF_DIR, n, fsync_mode) < 0)
		return EXIT_FAILURE;

	if (!on_every_core(setup_thread, &su, "cannot load its shard or listen"))
		return EXIT_FAILURE;
	if (su.appendonly) {
		if (aof_commit_plan() < 0 ||
		    !on_every_core(aof_thread, NULL, "cannot open its log"))
			return EXIT_FAILURE;
	}
	/* the shards exist on every core (the joins ordered that) before any request can come;
	 * until the threads below start, no core touches its shard, so main may read them */
	kv_server.maxmemory = kv_cores[0].db.maxmemory;
	size_t keys = 0;
	for (unsigned c = 0; c < n; c++)
		keys += db_size(&kv_cores[c].db);

	for (unsigned c = 0; c < n; c++) {
		if (thread_spawn(c, cycle_thread, NULL) < 0 ||
		    thread_spawn(c, accept_thread, NULL) < 0) {
			printf("kvstore: core %u: cannot start its threads\n", c);
			return EXIT_FAILURE;
		}
	}
	printf("kvstore: listening on port %u on %u cores, %zu MiB of data per core%s\n", su.port,
	       n, kv_server.maxmemory >> 20,
	       su.appendonly ? fsync_mode == AOF_FSYNC_ALWAYS ? ", appendonly (fsync always)"
	                                                      : ", appendonly (fsync everysec)"
	                     : "");
	if (su.appendonly)
		printf("kvstore: %zu keys loaded from %s\n", keys, AOF_DIR);
	for (;;)
		thread_block(); /* nobody wakes main: kvstore runs until the VM is stopped */
}
