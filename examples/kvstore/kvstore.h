/*
 * kvstore.h - what the parts of the kvstore server share: limits, the per-core state, a
 * connection and its queue of replies, and the entry points of conn.c (one connection) and
 * shard.c (running commands on shards, here and on other cores). main.c has the design.
 */
#ifndef KVSTORE_KVSTORE_H
#define KVSTORE_KVSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isle/net.h>
#include "kernel/coreset.h" /* struct coreset: a bitmap of MAX_CORES cores */

#include "aof.h"
#include "cmd.h"
#include "db.h"
#include "resp.h"

#define KV_MAX_CORES CMD_MAX_SHARDS
#define KV_PORT 6379
/* Open connections per core; more are answered with an error and closed. Below lwIP's 1024
 * TCP PCBs per core, so that the refusal can still be said. */
#define KV_MAX_CONNS 1000
#define KV_STACK (16 * 1024)               /* per connection thread */
#define KV_IN_INITIAL (16 * 1024)          /* a connection's input buffer to start with */
#define KV_IN_MAX RESP_MAX_REQUEST         /* ... and at most: one whole request */
#define KV_FLUSH (16 * 1024)               /* replies collected before a send */
#define KV_MAX_SLOTS 256                   /* replies a connection waits for at once */
#define KV_MAX_AFTER (1024 * 1024)         /* reply bytes queued behind a waiting one */
#define KV_MAX_HELD (1024 * 1024)          /* reply bytes from other cores not yet sent */
#define KV_IDLE_SEC 600                    /* an idle connection is closed after this */
#define KV_REQUEST_NS (30 * 1000000000ull) /* a request begun must be complete within */
#define KV_SEND_NS (30 * 1000000000ull)    /* a reply must be taken within this */
#define KV_LINGER_NS (2 * 1000000000ull)   /* reading after our last reply, at most */
#define KV_BATCH_PARTS 64                  /* parts for one core sent in one message, at most */
#define KV_SMALL_REPLY 96                  /* reply bytes that fit in a part itself */
#define KV_CYCLE_MS 100                    /* active expiry and rehash, every ... */
#define KV_CYCLE_WORK 256                  /* ... this many buckets */
#define KV_REAP_STEP 1000                  /* entries of a flushed shard freed per step */
#define KV_STEP_BYTES (256 * 1024)         /* a handler starts no more parts past this */
/* Each shard's data may use this fraction (1/n) of its core's memory; the rest is for
 * connections, buffers, threads and messages. */
#define KV_MEMORY_SHARE 2
/* Below 1/n of its pages free, a core answers -OOM to requests for shards and lets no input
 * buffer grow (conn.c): the rest is kept for what must not fail. */
#define KV_RESERVE_SHARE 16
/* Work for other cores' clients stops earlier, above 1/n free (shard.c): a part whose reply or
 * data would take memory below that line is refused with -OOM before it runs. So clients of
 * other cores can never take the memory this core's own clients need. */
#define KV_RESERVE_REMOTE 8

/* Per-core counters (INFO sums nothing: it shows each core). */
struct kv_counters {
	uint64_t accepted;        /* connections accepted, refused ones included */
	uint64_t refused;         /* connections refused (limit, no memory) */
	uint64_t open;            /* connections open now */
	uint64_t commands;        /* requests parsed from clients of this core */
	uint64_t remote_sent;     /* command parts sent to other cores' shards */
	uint64_t remote_served;   /* command parts run here for other cores */
	uint64_t protocol_errors; /* connections closed for a protocol error */
	uint64_t timeouts;        /* connections closed because the client was too slow */
	uint64_t bytes_in;        /* request bytes received */
	uint64_t bytes_out;       /* reply bytes handed to the TCP/IP stack */
	uint64_t worker_steps;    /* steps of long work the worker thread did (shard.c) */
	uint64_t longest_step_ns; /* the longest a worker step or a handler held the core */
};

/*
 * One core's kvstore. Ownership: [o] every field belongs to the core with this index; only its
 * threads and message handlers touch it ([I]: set once by that core before its listener
 * starts). Entries are cache-line aligned so that cores never write the same line.
 */
struct kv_core {
	struct sock *listener;  /* [I] this core's listening socket */
	struct db db;           /* [o] this core's shard of the keyspace */
	struct kv_counters ctr; /* [o] */
	uint64_t clients;       /* [o] connections numbered so far (CLIENT ID) */
	struct thread *worker;  /* [I] long work a step at a time (shard.c) */
	bool worker_idle;       /* [o] it waits for work: wake it */
	struct aof_waiter *reaped_head, *reaped_tail; /* [o] what waits until db is reaped */
	struct kv_part *backlog_head, *backlog_tail;  /* [o] part lists left to the worker */
} __attribute__((aligned(64)));

extern struct kv_core kv_cores[KV_MAX_CORES];
extern struct cmd_server kv_server; /* [I] after start-up */

/* The calling core's entry. */
struct kv_core *kv_here(void);
/* The clock, in milliseconds. */
int64_t kv_now_ms(void);

struct kv_conn;

/*
 * One reply in the making, in a connection's queue (request order). A slot exists only for a
 * request that went (at least partly) to other cores. Owned by the connection's core: its thread
 * fills it; its message handlers store the shards' replies in it.
 */
struct kv_slot {
	struct kv_slot *next;       /* [o] the next request's slot */
	struct kv_conn *conn;       /* [o] whose */
	const struct cmd_desc *cmd; /* [o] the command */
	unsigned pending;           /* [o] parts whose replies have not arrived */
	size_t argc;                /* [o] the request's argc */
	struct resp_arg *argv;      /* [o] a copy of its arguments (INFO only, else NULL) */
	uint8_t *owner;             /* [o] owner of each key (KEYS route, split), in this block */
	struct resp_buf after;      /* [o] replies of later requests answered at once, in order */
	unsigned nparts;            /* [o] shards taking part */
	struct cmd_answer *ans;     /* [o] their replies, in shard order, in this block */
	int self_at;                /* [o] this core's index in ans[], or -1 */
	size_t held_bytes;          /* [o] bytes of replies from other cores (kv_conn.held) */
	struct kv_part *held;       /* [o] parts back from other cores, freed with the slot */
	struct aof_waiter local;    /* [o] this core's part waits for the worker or the log */
	uint64_t logged;            /* [o] ... for this record of the log */
};

struct kv_part;

/* Parts for one other core, gathered while requests are dispatched, sent as one message. */
struct kv_batch {
	struct kv_part *head, *tail; /* in dispatch order */
	unsigned n;                  /* how many */
};

/* One connection; owned by its core ([o] throughout), on the heap. */
struct kv_conn {
	struct sock *sock;           /* the connection */
	struct thread *thread;       /* the thread serving it */
	struct kv_core *core;        /* this core's state */
	char *in;                    /* received bytes not yet consumed */
	size_t in_len;               /* bytes in in[] */
	size_t in_cap;               /* in[]'s size */
	size_t in_off;               /* the next request starts at in[in_off] */
	struct resp_parser parser;   /* the request being parsed */
	struct cmd_session session;  /* CLIENT and QUIT state */
	struct resp_buf out;         /* replies ready to send, in order */
	struct kv_slot *head, *tail; /* replies waited for, in request order */
	size_t nslots;               /* how many */
	unsigned inflight;           /* parts out (other cores, or waiting here), replies not in */
	size_t held;                 /* reply bytes from other cores in slots, not yet sent */
	struct coreset batched;      /* cores whose batch[] has parts */
	bool waiting;                /* the thread sleeps until head's replies are in */
	bool gone;                   /* the thread has ended; the last reply frees the conn */
	bool dead;                   /* a send failed: nothing more is sent */
	struct kv_batch batch[];     /* parts not yet sent, per core (core_count() of them) */
};

/* main.c: ends the VM for SHUTDOWN (thread context): exit(0) writes every file back. */
__attribute__((noreturn)) void kv_shutdown(void);

/* conn.c: serves one accepted connection until it ends (a thread function; arg is the sock). */
int conn_thread(void *arg);
/* conn.c: tells a client there is no room for it, closes it. */
void conn_refuse(struct sock *s, const char *why);
/* conn.c: frees a connection whose thread has ended and whose replies are all in. */
void conn_free(struct kv_conn *c);

/* shard.c: runs a command (or a part of one) on this core's shard, reply appended to out. The
 * one door through which every change of a shard passes (see main.c on persistence). */
void shard_apply(const struct cmd_desc *cmd, size_t argc, const struct resp_arg *argv,
                 struct resp_buf *out);
/* shard.c: queues a part of slot's request for the shard of slot->ans[at] in the connection's
 * batch for that core; its reply will be stored in slot->ans[at] and the connection woken.
 * false if there was no memory (nothing queued). A full batch goes out at once. */
bool shard_send(struct kv_slot *slot, unsigned at, size_t argc, const struct resp_arg *argv);
/* shard.c: after this core's part of slot ran (into slot->ans[slot->self_at]): if its reply
 * must wait (a FLUSHALL until the shard is freed, a write until it is in the log), it counts as
 * pending until then, like a remote part. Thread context. */
void shard_settle_local(struct kv_slot *slot);
/* shard.c: whether this core has less than 1/share of its pages free. */
bool shard_short_of_memory(unsigned share);
/* shard.c: whether a reply to cmd on this core must wait for the log or the worker (so a
 * local request needs a slot). */
bool shard_must_wait(const struct cmd_desc *cmd);
/* shard.c: starts this core's worker thread (thread context, at start-up). */
int shard_start_worker(void);
/* shard.c: sends every queued batch of c (one message per core). MUST be called before the
 * thread waits for a reply or lets other threads run. */
void shard_flush(struct kv_conn *c);
/* shard.c: frees a list of parts that came back (kv_slot.held). */
void shard_release(struct kv_part *list);
/* shard.c: this core's lines of INFO (counters, scheduler, memory, network). */
void shard_info(struct resp_buf *text, void *arg);

#endif
