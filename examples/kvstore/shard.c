/*
 * shard.c - running commands on the shards: here, and on other cores by message.
 *
 * A part of a request for another core's shard is one heap block, a struct kv_part, made by
 * the asking ("home") core: the command, its arguments copied in, and room for the reply. A
 * connection gathers the parts for each other core while it dispatches a burst of pipelined
 * requests (kv_conn.batch) and sends each core one message with the whole list, so that a
 * pipeline of 16 requests costs two messages per core, not 32. The list's life:
 *   home thread   shard_send: kmalloc the part, copy the arguments, append it to the batch;
 *                 shard_flush: msg_send KV_MSG_PARTS with the list
 *   shard core    on_parts (handler): shard_apply each part into part->reply, msg_reply
 *                 KV_MSG_REPLIES back home with the same list
 *   home core     on_replies (handler): file each reply in its slot (which keeps the part:
 *                 a small reply is still in it), count the replies in, wake the connection's
 *                 thread if the reply it waits for is complete
 * Each side touches the parts only between receiving a message and sending the next one, so
 * the blocks always have exactly one owner. A reply starts in the part itself (home's memory);
 * only a reply larger than that moves to a block of the shard core's heap, which the home core
 * frees later: a remote free sends it back.
 *
 * A connection whose thread has ended (client gone, send failed) while parts were out stays
 * allocated (kv_conn.gone); the last reply frees it, so a late reply never touches freed memory
 * and nothing leaks.
 *
 * Memory for others. A shard core keeps its last 1/KV_RESERVE_REMOTE of memory from other
 * cores' clients (run_part): a part whose values (GET, MGET) or data (SET, MSET, ...) would
 * take memory below that is refused with -OOM before anything is allocated or copied
 * (cmd_reply_bytes). A client that asks for big values and never reads the replies so takes
 * no more than the memory above that line from the core that holds them, and costs it no
 * copying once there; the core's own clients still have their reserve (1/KV_RESERVE_SHARE,
 * conn.c), and small replies (in the part itself) are always given.
 *
 * Long work in steps. A handler runs between threads and cannot yield, so work that may be
 * long goes to the core's worker thread, which does it a step at a time and yields between
 * steps: freeing a flushed shard (KV_REAP_STEP entries a step), and the parts of a list beyond
 * the first KV_STEP_BYTES of replies its handler made (MGETs of big values). While the worker
 * has lists of a connection, that connection's later lists queue behind them (kv_core.backlog),
 * so its parts still run in the order it sent them; other connections' lists run at once.
 *
 * Replies that wait. A reply may leave only once (1) a FLUSHALL's old entries are freed (the
 * worker) and (2) with appendonly=yes, the records of the writes before it are in the log
 * (aof.c). A write whose records could not be written (disk full, I/O error) is answered with
 * the log's -MISCONF error instead: nothing is acknowledged that is not in the log. The same
 * two waits apply to a request's part on its own core (shard_settle_local), which then counts
 * as pending like a remote one.
 */
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/mem.h>
#include <isle/msg.h>
#include <isle/thread.h>

#include "kvstore.h"

enum {
	KV_MSG_PARTS = MSG_USER, /* w[0]: a list of struct kv_part for the receiving core's shard */
	KV_MSG_REPLIES,          /* w[0]: the same list, answered */
};

/* A part of a request, in flight between its home core and a shard core. */
struct kv_part {
	struct kv_part *next;       /* [I] the next part of the same batch */
	struct kv_slot *slot;       /* [I] where the reply goes (home core memory) */
	const void *conn;           /* [I] the connection it is for: a name only, never used to
	                               reach the connection from the shard core */
	const struct cmd_desc *cmd; /* [I] the command */
	unsigned at;                /* [I] its index in slot->ans[] */
	size_t argc;                /* [I] arguments */
	struct resp_buf reply;      /* written by the shard core, then read by home */
	unsigned home;              /* [I] the core that sent it */
	/* The first part of a list also keeps, on the shard core: */
	struct aof_waiter durable;  /* the replies wait (worker, log) */
	uint64_t logged;            /* the last record of the log before replying */
	struct kv_part *resume;     /* the first part not run yet (the worker goes on there) */
	struct kv_part *next_list;  /* the next list in kv_core.backlog */
	bool flushed;               /* a part emptied the shard: reply once it is freed */
	char small[KV_SMALL_REPLY]; /* where reply starts: a small reply needs no block of the
	                               shard core's heap (and no remote free to give it back) */
	struct resp_arg argv[];     /* [I] the arguments, their bytes after them */
};

/* After a write ran: the state of every key it names goes to the log (aof.c). */
static void log_changes(const struct cmd_desc *cmd, size_t argc, const struct resp_arg *argv,
                        struct db *db, int64_t now_ms)
{
	if (cmd->route == CMD_ROUTE_ALL) { /* FLUSHALL: the only write that names no key */
		aof_note_flush();
		return;
	}
	int step = cmd->step > 0 ? cmd->step : 1;
	int last = cmd->last_key < 0 ? (int)argc + cmd->last_key : cmd->last_key;
	for (int i = cmd->first_key; i >= 1 && i <= last && (size_t)i < argc; i += step)
		aof_note_key(db, argv[i].p, argv[i].len, now_ms);
}

/*
 * Every command that reads or changes a shard passes here, on the shard's own core, and so
 * does the append-only log (aof.c): a write's keys are logged after it ran, and while the log
 * cannot be written writes are refused with -MISCONF. The reply is appended to out; if it
 * cannot be built (no memory, too large) it becomes Redis' -OOM error.
 */
void shard_apply(const struct cmd_desc *cmd, size_t argc, const struct resp_arg *argv,
                 struct resp_buf *out)
{
	struct kv_core *k = kv_here();
	struct cmd_ctx ctx = {
		.db = &k->db,
		.shard = core_id(),
		.now_ms = kv_now_ms(),
		.server = &kv_server,
		.info_core = shard_info,
		.info_arg = k,
	};
	size_t start = out->len;
	bool logged = aof_enabled && (cmd->flags & CMD_WRITE);

	if (logged && aof_error()) {
		resp_add_error(out, aof_error());
		return;
	}
	cmd_run(&ctx, cmd, argc, argv, out);
	if (out->failed) {
		out->len = start;
		out->failed = false;
		resp_add_error(out, cmd_err_oom);
	}
	if (logged)
		log_changes(cmd, argc, argv, &k->db, ctx.now_ms);
}

#define PAGE_BYTES 4096

bool shard_short_of_memory(unsigned share)
{
	struct mem_stats ms;
	mem_stats(&ms);
	return ms.free_pages < ms.total_pages / share;
}

/* FLUSHALL and FLUSHDB: their reply waits until the shard's old entries are freed. */
static bool frees_shard(const struct cmd_desc *cmd)
{
	return cmd->route == CMD_ROUTE_ALL && (cmd->flags & CMD_WRITE);
}

bool shard_must_wait(const struct cmd_desc *cmd)
{
	return frees_shard(cmd) || (aof_enabled && (cmd->flags & CMD_WRITE));
}

/* A write whose records did not reach the log is answered with the log's error. */
static void refuse_unlogged(const struct cmd_desc *cmd, uint64_t logged, struct resp_buf *reply)
{
	if (!(cmd->flags & CMD_WRITE) || aof_durable(logged))
		return;
	reply->len = 0;
	reply->failed = false;
	resp_add_error(reply, aof_lost_error());
}

/* ---- the worker: long work a step at a time --------------------------------------------- */

/* Records how long a step of work begun at t0 held the core. */
static void note_hold(struct kv_core *k, uint64_t t0)
{
	uint64_t held = now_ns() - t0;
	if (held > k->ctr.longest_step_ns)
		k->ctr.longest_step_ns = held;
}

static void wake_worker(struct kv_core *k)
{
	if (k->worker_idle)
		thread_wake(k->worker);
}

/* Runs fn(arg) once this core's shard has no flushed entries left to free (at once if so). */
static void after_reaped(struct aof_waiter *w, void (*fn)(void *arg), void *arg)
{
	struct kv_core *k = kv_here();
	if (!db_reaping(&k->db)) {
		fn(arg);
		return;
	}
	*w = (struct aof_waiter){ .fn = fn, .arg = arg };
	if (k->reaped_tail)
		k->reaped_tail->next = w;
	else
		k->reaped_head = w;
	k->reaped_tail = w;
	wake_worker(k);
}

static bool run_parts(struct kv_part *list);

/* One step of freeing a flushed shard; once it is all freed, what waited for it goes on. */
static void reap_step(struct kv_core *k)
{
	if (db_reap(&k->db, KV_REAP_STEP))
		return;
	while (k->reaped_head) {
		struct aof_waiter *w = k->reaped_head;
		k->reaped_head = w->next;
		if (!k->reaped_head)
			k->reaped_tail = NULL;
		w->fn(w->arg);
	}
}

static int worker_thread(void *arg)
{
	struct kv_core *k = kv_here();
	(void)arg;

	for (;;) {
		uint64_t t0 = now_ns();
		if (k->backlog_head) {
			struct kv_part *list = k->backlog_head;
			if (run_parts(list)) { /* done: the next list's turn */
				k->backlog_head = list->next_list;
				if (!k->backlog_head)
					k->backlog_tail = NULL;
			}
		} else if (db_reaping(&k->db) || k->reaped_head) {
			reap_step(k);
		} else {
			k->worker_idle = true;
			thread_block();
			k->worker_idle = false;
			continue;
		}
		k->ctr.worker_steps++;
		note_hold(k, t0);
		thread_yield(); /* a step at a time: the core's others run between */
	}
	return 0;
}

int shard_start_worker(void)
{
	struct kv_core *k = kv_here();
	k->worker = thread_create(core_id(), worker_thread, NULL);
	return k->worker ? 0 : -ENOMEM;
}

/* ---- parts for other cores --------------------------------------------------------------- */

static void send_batch(struct kv_conn *c, unsigned dst)
{
	struct kv_batch *b = &c->batch[dst];
	/* the parts are complete before the send: the ring's release publishes them */
	struct msg m = { .type = KV_MSG_PARTS, .w = { (uintptr_t)b->head } };
	b->head = b->tail = NULL;
	b->n = 0;
	coreset_del(&c->batched, dst);
	msg_send(dst, &m); /* may yield while the ring is full (back-pressure) */
}

bool shard_send(struct kv_slot *slot, unsigned at, size_t argc, const struct resp_arg *argv)
{
	struct kv_conn *c = slot->conn;
	unsigned dst = slot->ans[at].shard;
	size_t bytes = sizeof(struct kv_part) + argc * sizeof(struct resp_arg);
	for (size_t i = 0; i < argc; i++)
		bytes += argv[i].len;
	struct kv_part *p = kmalloc(bytes);
	if (!p)
		return false;
	p->next = NULL;
	p->slot = slot;
	p->conn = c;
	p->cmd = slot->cmd;
	p->at = at;
	p->argc = argc;
	p->reply = (struct resp_buf){ .data = p->small, .cap = sizeof(p->small), .borrowed = true };
	char *data = (char *)&p->argv[argc];
	for (size_t i = 0; i < argc; i++) {
		memcpy(data, argv[i].p, argv[i].len);
		p->argv[i] = (struct resp_arg){ .p = data, .off = 0, .len = argv[i].len };
		data += argv[i].len;
	}
	struct kv_batch *b = &c->batch[dst];
	if (b->tail)
		b->tail->next = p;
	else
		b->head = p;
	b->tail = p;
	coreset_add(&c->batched, dst);
	c->inflight++;
	c->core->ctr.remote_sent++;
	if (++b->n == KV_BATCH_PARTS)
		send_batch(c, dst);
	return true;
}

void shard_flush(struct kv_conn *c)
{
	/* only the cores that have parts: the cost does not grow with the core count */
	for (int dst; (dst = coreset_first(&c->batched)) >= 0;)
		send_batch(c, (unsigned)dst);
}

/* On the shard's core: the answered list goes home. From on_parts (its one reply, which always
 * fits), or from the worker or log thread (which wait for room if need be). */
static void send_home(void *arg)
{
	struct kv_part *list = arg;
	for (struct kv_part *p = list; p; p = p->next)
		refuse_unlogged(p->cmd, list->logged, &p->reply);
	struct msg r = { .type = KV_MSG_REPLIES, .w = { (uintptr_t)list } };
	msg_reply(list->home, &r); /* a reply: on_replies sends nothing */
}

/* ... once a flush among the parts is freed: then once their records are in the log. */
static void send_home_logged(void *arg)
{
	struct kv_part *list = arg;
	aof_after(&list->durable, list->logged, send_home, list);
}

/* Whether this core can spend `bytes` more for others and keep its reserve for its own. */
static bool room_for_others(size_t bytes)
{
	struct mem_stats ms;
	mem_stats(&ms);
	size_t free = ms.free_pages * PAGE_BYTES;
	size_t keep = ms.total_pages * PAGE_BYTES / KV_RESERVE_REMOTE;
	return free > keep && free - keep > bytes;
}

/* Runs a part for another core, within this core's reserve for others (see the top): a part
 * whose reply or data would need more memory than is left above it is refused with -OOM
 * before it runs. (A buffer that grows by doubling may take twice its length.) */
static void run_part(struct kv_part *p)
{
	struct cmd_ctx ctx = { .db = &kv_here()->db, .now_ms = kv_now_ms() };
	size_t need = cmd_reply_bytes(&ctx, p->cmd, p->argc, p->argv);
	if (need > sizeof(p->small) && !room_for_others(2 * need)) {
		resp_add_error(&p->reply, cmd_err_oom);
		return;
	}
	shard_apply(p->cmd, p->argc, p->argv, &p->reply);
}

/* Runs the parts of list from list->resume on, until their replies reach KV_STEP_BYTES; the
 * list then goes home once a flush among them is freed and what they did is in the log (at
 * once without either). True if every part ran, false if list->resume is left to run. */
static bool run_parts(struct kv_part *list)
{
	size_t made = 0;
	struct kv_part *p = list->resume;

	for (; p && made < KV_STEP_BYTES; p = p->next) {
		run_part(p);
		list->flushed |= frees_shard(p->cmd);
		made += p->reply.len;
		kv_here()->ctr.remote_served++;
	}
	list->resume = p;
	if (p)
		return false;
	list->logged = aof_mark();
	if (list->flushed)
		after_reaped(&list->durable, send_home_logged, list);
	else
		send_home_logged(list);
	return true;
}

/* Whether the worker has a list of connection conn (a list holds one connection's parts). The
 * backlog is short: lists big enough to be left to the worker, and those queued behind them. */
static bool in_backlog(const struct kv_core *k, const void *conn)
{
	for (const struct kv_part *l = k->backlog_head; l; l = l->next_list)
		if (l->conn == conn)
			return true;
	return false;
}

/* On the shard's core, handler context: run them and send them home, or leave them to the
 * worker (see the top). */
static void on_parts(const struct msg *m)
{
	struct kv_part *list = (struct kv_part *)(uintptr_t)m->w[0];
	struct kv_core *k = kv_here();

	uint64_t t0 = now_ns();
	list->home = m->src;
	list->resume = list;
	list->next_list = NULL;
	list->flushed = false;
	bool done = !in_backlog(k, list->conn) && run_parts(list);
	note_hold(k, t0);
	if (done)
		return;
	/* behind what the worker has already: a connection's parts run in the order it sent them */
	if (k->backlog_tail)
		k->backlog_tail->next_list = list;
	else
		k->backlog_head = list;
	k->backlog_tail = list;
	wake_worker(k);
}
MSG_HANDLER(KV_MSG_PARTS, on_parts);

/* A part's reply is in (or it failed): wake the connection if its oldest reply is complete,
 * or free a connection whose thread has ended once the last one is in. */
static void part_back(struct kv_conn *c)
{
	if (c->gone) {
		if (c->inflight == 0)
			conn_free(c);
		return;
	}
	if (c->waiting && c->head && c->head->pending == 0)
		thread_wake(c->thread);
}

/* Back home, handler context: file the replies, wake the connection or finish it off. */
static void on_replies(const struct msg *m)
{
	struct kv_part *p = (struct kv_part *)(uintptr_t)m->w[0];
	struct kv_conn *c = p->slot->conn; /* a batch belongs to one connection */

	while (p) {
		struct kv_part *next = p->next;
		struct kv_slot *s = p->slot;
		/* the reply may point into p: the slot keeps p until it goes */
		s->ans[p->at].reply = p->reply;
		s->held_bytes += p->reply.len;
		c->held += p->reply.len;
		p->next = s->held;
		s->held = p;
		s->pending--;
		c->inflight--;
		p = next;
	}
	part_back(c);
}
MSG_HANDLER(KV_MSG_REPLIES, on_replies);

/* ---- this core's part of a request in a slot --------------------------------------------- */

static void local_logged(void *arg)
{
	struct kv_slot *s = arg;
	refuse_unlogged(s->cmd, s->logged, &s->ans[s->self_at].reply);
	s->pending--;
	s->conn->inflight--;
	part_back(s->conn);
}

static void local_reaped(void *arg)
{
	struct kv_slot *s = arg;
	aof_after(&s->local, s->logged, local_logged, s);
}

void shard_settle_local(struct kv_slot *s)
{
	if (!shard_must_wait(s->cmd))
		return;
	s->pending++;
	s->conn->inflight++;
	s->logged = aof_mark();
	if (frees_shard(s->cmd))
		after_reaped(&s->local, local_reaped, s);
	else
		local_reaped(s);
}

void shard_release(struct kv_part *list)
{
	while (list) {
		struct kv_part *next = list->next;
		kfree(list);
		list = next;
	}
}

void shard_info(struct resp_buf *t, void *arg)
{
	const struct kv_counters *k = &((struct kv_core *)arg)->ctr;
	struct sched_stats ss;
	struct mem_stats ms;
	struct msg_stats mg;
	struct net_stats ns;

	sched_stats(&ss);
	mem_stats(&ms);
	msg_stats(&mg);
	net_stats(&ns);
	resp_add_rawf(t, "connected_clients:%lu\r\ntotal_connections_received:%lu\r\n", k->open,
	              k->accepted);
	resp_add_rawf(t, "rejected_connections:%lu\r\ntotal_commands_processed:%lu\r\n", k->refused,
	              k->commands);
	resp_add_rawf(t, "remote_requests_sent:%lu\r\nremote_requests_served:%lu\r\n",
	              k->remote_sent, k->remote_served);
	resp_add_rawf(t, "protocol_errors:%lu\r\ntimeouts:%lu\r\n", k->protocol_errors,
	              k->timeouts);
	resp_add_rawf(t, "worker_steps:%lu\r\nlongest_step_us:%lu\r\n", k->worker_steps,
	              k->longest_step_ns / 1000);
	resp_add_rawf(t, "total_net_input_bytes:%lu\r\ntotal_net_output_bytes:%lu\r\n", k->bytes_in,
	              k->bytes_out);
	resp_add_rawf(t, "messages_sent:%lu\r\nmessages_received:%lu\r\n", mg.sent, mg.received);
	resp_add_rawf(t, "message_doorbells:%lu\r\nmessage_ring_full:%lu\r\n", mg.doorbells,
	              mg.full_waits);
	resp_add_rawf(t, "threads:%lu\r\nbusy_ms:%lu\r\nidle_ms:%lu\r\n", ss.threads_live,
	              ss.busy_ns / 1000000, ss.idle_ns / 1000000);
	resp_add_rawf(t,
	              "heap_bytes:%zu\r\nheap_blocks:%zu\r\nfree_pages:%zu\r\ntotal_pages:%zu\r\n",
	              ms.heap_bytes, ms.heap_blocks, ms.free_pages, ms.total_pages);
	resp_add_rawf(t, "alloc_failures:%lu\r\nnic_queue:%d\r\ntcp_active:%lu\r\n", ms.failed,
	              ns.queue == -1u ? -1 : (int)ns.queue, ns.tcp_active);
	aof_info(t);
}
