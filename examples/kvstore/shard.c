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
 * allocated (kv_conn.gone); on_replies frees it when the last reply is in, so a late reply never
 * touches freed memory and nothing leaks.
 */
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
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
	const struct cmd_desc *cmd; /* [I] the command */
	unsigned shard;             /* [I] the core that runs it */
	size_t argc;                /* [I] arguments */
	struct resp_buf reply;      /* written by the shard core, then read by home */
	unsigned home;              /* [I] the core that sent it */
	struct aof_waiter durable;  /* the first part of a list: the replies wait for the log */
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

static void send_batch(struct kv_conn *c, unsigned dst)
{
	struct kv_batch *b = &c->batch[dst];
	/* the parts are complete before the send: the ring's release publishes them */
	struct msg m = { .type = KV_MSG_PARTS, .w = { (uintptr_t)b->head } };
	b->head = b->tail = NULL;
	b->n = 0;
	msg_send(dst, &m); /* may yield while the ring is full (back-pressure) */
}

bool shard_send(struct kv_slot *slot, unsigned dst, size_t argc, const struct resp_arg *argv)
{
	struct kv_conn *c = slot->conn;
	size_t bytes = sizeof(struct kv_part) + argc * sizeof(struct resp_arg);
	for (size_t i = 0; i < argc; i++)
		bytes += argv[i].len;
	struct kv_part *p = kmalloc(bytes);
	if (!p)
		return false;
	p->next = NULL;
	p->slot = slot;
	p->cmd = slot->cmd;
	p->shard = dst;
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
	c->inflight++;
	c->core->ctr.remote_sent++;
	if (++b->n == KV_BATCH_PARTS)
		send_batch(c, dst);
	return true;
}

void shard_flush(struct kv_conn *c)
{
	for (unsigned i = 0; i < core_count(); i++)
		if (c->batch[i].head)
			send_batch(c, i);
}

/* On the shard's core: the answered list goes back to its home core. From a handler, or from
 * the log thread once the records are durable. */
static void send_home(void *arg)
{
	struct kv_part *list = arg;
	struct msg r = { .type = KV_MSG_REPLIES, .w = { (uintptr_t)list } };
	/* A reply (on_replies sends nothing): from on_parts, its one reply, which always fits; from
	 * the log thread, which waits for room if need be. */
	msg_reply(list->home, &r);
}

/* On the shard's core, handler context: run them, send them home. */
static void on_parts(const struct msg *m)
{
	struct kv_part *list = (struct kv_part *)(uintptr_t)m->w[0];

	for (struct kv_part *p = list; p; p = p->next) {
		shard_apply(p->cmd, p->argc, p->argv, &p->reply);
		kv_here()->ctr.remote_served++;
	}
	/* the replies go home once what they did is in the log (at once without one) */
	list->home = m->src;
	aof_after(&list->durable, aof_mark(), send_home, list);
}
MSG_HANDLER(KV_MSG_PARTS, on_parts);

/* Back home, handler context: file the replies, wake the connection or finish it off. */
static void on_replies(const struct msg *m)
{
	struct kv_part *p = (struct kv_part *)(uintptr_t)m->w[0];
	struct kv_conn *c = p->slot->conn; /* a batch belongs to one connection */

	while (p) {
		struct kv_part *next = p->next;
		struct kv_slot *s = p->slot;
		s->parts[p->shard] =
		        p->reply; /* may point into p: the slot keeps p until it goes */
		p->next = s->held;
		s->held = p;
		s->pending--;
		c->inflight--;
		p = next;
	}
	if (c->gone) {
		if (c->inflight == 0)
			conn_free(c);
		return;
	}
	if (c->waiting && c->head && c->head->pending == 0)
		thread_wake(c->thread);
}
MSG_HANDLER(KV_MSG_REPLIES, on_replies);

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
