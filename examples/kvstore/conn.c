/*
 * conn.c - one client connection, served by a thread of its own on the core that accepted it.
 *
 * The thread loops: parse every complete request that has arrived and dispatch it; move the
 * replies that are ready, in request order, to out[] and send; wait if the oldest reply is
 * still out on another core; otherwise receive more. Pipelined requests are all dispatched
 * before the first wait, so the parts for other cores travel together and their answers come
 * back while the next ones are being sent.
 *
 * Dispatch (dispatch()) by the command's route (cmd.h):
 *  - keys all on this core, or no shard at all: the command runs at once, its reply is
 *    appended where the next reply belongs: out[] when nothing is waited for, else the `after`
 *    buffer of the last slot (so it is sent after that slot's reply);
 *  - some keys on other cores, every shard, or a reply that must wait (FLUSHALL, a write with
 *    appendonly=yes: shard_must_wait): a slot joins the queue, with one answer per shard that
 *    takes part (slot->ans[], in shard order: a request costs what its keys need, not what the
 *    core count is); the local part runs at once, every other part goes to its core
 *    (shard_send) and its reply lands in its answer (shard.c). The slot's reply is made
 *    (merged) when all are in.
 * Back-pressure: at most KV_MAX_SLOTS slots, KV_MAX_AFTER bytes behind them and KV_MAX_HELD
 * bytes of other cores' replies not yet sent; past that the thread stops parsing and waits for
 * the oldest slot. A client that never reads its replies so slows only itself: its thread
 * waits in sock_send, reads nothing more, and holds at most that much of other cores' memory
 * (which they also guard themselves, shard.c) until KV_SEND_NS ends the connection.
 *
 * Input: requests are parsed from in[in_off..in_len); received bytes are appended. in[] grows
 * (doubling) while a request does not fit, up to one whole request (RESP_MAX_REQUEST), and
 * shrinks back once it is idle. A protocol error is answered (after everything before it) and
 * the connection closed, as Redis does; so is a client too slow to finish a request
 * (KV_REQUEST_NS) or to take its replies (KV_SEND_NS), and one idle for KV_IDLE_SEC.
 */
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/mem.h>
#include <isle/thread.h>

#include "kvstore.h"

#define CONN_BATCH 64     /* requests dispatched in a row before other threads may run */
#define CONN_LINGER 65536 /* bytes read and dropped at most while closing */
#define OWNERS_ON_STACK 64

static const char ERR_TOO_BIG[] = "ERR Protocol error: request above the limit of 8388608 bytes";

/* ---- sending ----------------------------------------------------------------------------- */

static void conn_send(struct kv_conn *c, const void *data, size_t n)
{
	if (c->dead || n == 0)
		return;
	/* a reply is sent only once the writes this core logged are settled (appendfsync=always):
	 * durable, or given up by a failure of the log (whose writes are answered -MISCONF) */
	aof_wait(aof_mark());
	ssize_t r = sock_send(c->sock, data, n, KV_SEND_NS);
	if (r < (ssize_t)n) {
		/* an error, or a time-out after part of it went out: the rest cannot follow */
		if (r >= 0 || r == -ETIMEDOUT)
			c->core->ctr.timeouts++;
		c->dead = true;
		return;
	}
	c->core->ctr.bytes_out += n;
}

static void flush_out(struct kv_conn *c)
{
	conn_send(c, c->out.data, c->out.len);
	resp_buf_reset(&c->out);
	if (c->out.cap > 4 * KV_FLUSH)
		resp_buf_free(&c->out); /* after a large reply: do not keep its buffer */
}

/* Where a reply made now belongs: after the last awaited one, or straight to out. */
static struct resp_buf *reply_buf(struct kv_conn *c)
{
	return c->tail ? &c->tail->after : &c->out;
}

/*
 * A reply written to b from `start` on did not fit (no memory, too large): it becomes the -OOM
 * error. If even that does not fit, the order of replies can no longer be kept: the connection
 * is given up.
 */
static void fix_failed(struct kv_conn *c, struct resp_buf *b, size_t start)
{
	if (!b->failed)
		return;
	b->len = start;
	b->failed = false;
	resp_add_error(b, cmd_err_oom);
	if (b->failed)
		c->dead = true;
}

/* Queues an error reply where the next reply belongs. */
static void reply_error(struct kv_conn *c, const char *text)
{
	struct resp_buf *b = reply_buf(c);
	resp_add_error(b, text);
	if (b->failed)
		c->dead = true;
}

/* ---- the reply queue --------------------------------------------------------------------- */

static void slot_free(struct kv_slot *s)
{
	for (unsigned i = 0; i < s->nparts; i++)
		resp_buf_free(&s->ans[i].reply); /* another core's bytes go home (remote free) */
	s->conn->held -= s->held_bytes;
	shard_release(s->held);
	resp_buf_free(&s->after);
	kfree(s);
}

void conn_free(struct kv_conn *c)
{
	while (c->head) {
		struct kv_slot *s = c->head;
		c->head = s->next;
		slot_free(s);
	}
	resp_parser_free(&c->parser);
	cmd_session_free(&c->session);
	resp_buf_free(&c->out);
	kfree(c->in);
	kfree(c);
}

/*
 * A new slot at the tail of the queue, for a request of argc arguments answered by the nparts
 * shards in `shards`; owner[0..nkeys) are its keys' owners when it is split by key (KEYS route,
 * several shards), else NULL. INFO keeps a copy of its arguments for the merge. NULL if there is
 * no memory.
 */
static struct kv_slot *slot_new(struct kv_conn *c, const struct cmd_desc *cmd, size_t argc,
                                const struct resp_arg *argv, const uint8_t *owner, size_t nkeys,
                                const struct coreset *shards, unsigned nparts)
{
	bool keep_args = cmd->merge == CMD_MERGE_INFO;
	size_t bytes = sizeof(struct kv_slot) + nparts * sizeof(struct cmd_answer);
	size_t args_at = 0;

	bytes = (bytes + 15) & ~(size_t)15;
	if (keep_args) {
		args_at = bytes;
		bytes += argc * sizeof(struct resp_arg);
		for (size_t i = 0; i < argc; i++)
			bytes += argv[i].len;
	}
	size_t owner_at = bytes;
	if (owner && cmd->merge == CMD_MERGE_ARRAY)
		bytes += nkeys;

	struct kv_slot *s = kzalloc(bytes);
	if (!s)
		return NULL;
	char *base = (char *)s;
	s->conn = c;
	s->cmd = cmd;
	s->argc = argc;
	s->nparts = nparts;
	s->ans = (struct cmd_answer *)(s + 1);
	s->self_at = -1;
	unsigned at = 0;
	for (int sh = coreset_first(shards); sh >= 0; sh = coreset_next(shards, (unsigned)sh)) {
		s->ans[at].shard = (unsigned)sh;
		if ((unsigned)sh == core_id())
			s->self_at = (int)at;
		at++;
	}
	if (keep_args) {
		s->argv = (struct resp_arg *)(base + args_at);
		char *data = (char *)(s->argv + argc);
		for (size_t i = 0; i < argc; i++) {
			memcpy(data, argv[i].p, argv[i].len);
			s->argv[i] = (struct resp_arg){ .p = data, .len = argv[i].len };
			data += argv[i].len;
		}
	}
	if (owner && cmd->merge == CMD_MERGE_ARRAY) {
		s->owner = (uint8_t *)(base + owner_at);
		memcpy(s->owner, owner, nkeys);
	}
	if (c->tail)
		c->tail->next = s;
	else
		c->head = s;
	c->tail = s;
	c->nslots++;
	return s;
}

/* Writes a finished slot's reply to out. */
static void slot_reply(struct kv_conn *c, struct kv_slot *s)
{
	size_t start = c->out.len;
	if (s->nparts == 1 && s->cmd->route != CMD_ROUTE_ALL) {
		/* one shard had all the keys: its reply is the reply */
		const struct resp_buf *only = &s->ans[0].reply;
		if (only->failed)
			c->out.failed = true;
		else
			resp_add_raw(&c->out, only->data, only->len);
	} else {
		struct cmd_ctx ctx = { .now_ms = kv_now_ms(), .server = &kv_server };
		cmd_merge(&ctx, s->cmd, s->argc, s->argv, s->owner, s->ans, s->nparts, &c->out);
	}
	fix_failed(c, &c->out, start);
}

/* Moves the finished replies at the head of the queue to out, in order, sending as it fills. */
static void collect(struct kv_conn *c)
{
	while (c->head && c->head->pending == 0) {
		struct kv_slot *s = c->head;
		slot_reply(c, s);
		if (c->out.len == 0) {
			struct resp_buf t =
			        c->out; /* out is empty: take the after bytes as they are */
			c->out = s->after;
			s->after = t;
		} else {
			resp_add_raw(&c->out, s->after.data, s->after.len);
			fix_failed(c, &c->out, c->out.len);
		}
		c->head = s->next;
		if (!c->head)
			c->tail = NULL;
		c->nslots--;
		slot_free(s);
		if (c->out.len >= KV_FLUSH)
			flush_out(c);
	}
}

/* Sleeps until the oldest slot's replies are all in (on_replies in shard.c wakes it). */
static void wait_head(struct kv_conn *c)
{
	while (c->head && c->head->pending > 0) {
		c->waiting = true;
		thread_block();
		c->waiting = false;
	}
}

/* ---- dispatch ---------------------------------------------------------------------------- */

/*
 * Whether this core is nearly out of memory (under KV_RESERVE_SHARE of its pages free). Then
 * requests that need a shard are answered -OOM without running, and input buffers do not grow:
 * what is left stays for what must not fail (the replies of parts already out, threads
 * finishing, the TCP/IP stack).
 */
static bool low_memory(void)
{
	return shard_short_of_memory(KV_RESERVE_SHARE);
}

/* Runs the parts of a slot: this core's now, the others' by message. part[] has room for argc
 * arguments (split requests). */
static void slot_start(struct kv_slot *s, size_t argc, const struct resp_arg *argv,
                       const uint8_t *owner, struct resp_arg *part)
{
	/* Every remote part is counted before the first goes out: a reply that comes back while
	 * a later send waits for room in a ring must not find the slot complete. */
	s->pending = s->nparts - (s->self_at >= 0);
	for (unsigned i = 0; i < s->nparts; i++) {
		unsigned shard = s->ans[i].shard;
		size_t pargc = owner ? cmd_part(s->cmd, argc, argv, owner, shard, part) : argc;
		const struct resp_arg *pargv = owner ? part : argv;
		if ((int)i == s->self_at) {
			shard_apply(s->cmd, pargc, pargv, &s->ans[i].reply);
			shard_settle_local(s); /* a flush or a logged write: its reply may wait */
		} else if (!shard_send(s, i, pargc, pargv)) {
			/* no memory for the part: the reply is -OOM */
			s->ans[i].reply.failed = true;
			s->pending--;
		}
	}
}

/* A request in a slot (see the top): its parts go to the nparts shards in `shards`. */
static void dispatch_slot(struct kv_conn *c, const struct cmd_desc *cmd, size_t argc,
                          const struct resp_arg *argv, const uint8_t *owner, size_t nkeys,
                          const struct coreset *shards, unsigned nparts)
{
	/* keys on several shards: each gets its own part; else the request goes as it is */
	bool split = owner && nparts > 1;
	struct resp_arg *part = NULL;

	if (split && !(part = kmalloc(argc * sizeof(*part)))) {
		reply_error(c, cmd_err_oom);
		return;
	}
	struct kv_slot *s =
	        slot_new(c, cmd, argc, argv, split ? owner : NULL, nkeys, shards, nparts);
	if (!s) {
		kfree(part);
		reply_error(c, cmd_err_oom);
		return;
	}
	slot_start(s, argc, argv, split ? owner : NULL, part);
	kfree(part);
}

static void dispatch(struct kv_conn *c, size_t argc, const struct resp_arg *argv)
{
	unsigned self = core_id(), n = core_count();
	struct resp_buf *b = reply_buf(c);
	size_t start = b->len;

	c->core->ctr.commands++;
	const struct cmd_desc *cmd = cmd_lookup(argc, argv, b);
	if (!cmd) {
		fix_failed(c, b, start);
		return;
	}
	if (cmd->route != CMD_ROUTE_CONN && low_memory()) {
		resp_add_error(b, cmd_err_oom);
		fix_failed(c, b, start);
		return;
	}
	struct coreset shards = { { 0 } };
	unsigned nparts = 0;
	switch (cmd->route) {
	case CMD_ROUTE_CONN: {
		struct cmd_ctx ctx = { .now_ms = kv_now_ms(),
			               .server = &kv_server,
			               .session = &c->session };
		cmd_run(&ctx, cmd, argc, argv, b);
		fix_failed(c, b, start);
		return;
	}
	case CMD_ROUTE_KEY: {
		unsigned o = cmd_owner(argv[1].p, argv[1].len, n);
		if (o == self && !shard_must_wait(cmd)) {
			shard_apply(cmd, argc, argv, b);
			return;
		}
		coreset_add(&shards, o);
		dispatch_slot(c, cmd, argc, argv, NULL, 0, &shards, 1);
		return;
	}
	case CMD_ROUTE_KEYS: {
		uint8_t small[OWNERS_ON_STACK], *owner = small;
		size_t nkeys = cmd_nkeys(cmd, argc);
		if (nkeys > OWNERS_ON_STACK && !(owner = kmalloc(nkeys))) {
			reply_error(c, cmd_err_oom);
			return;
		}
		cmd_owners(cmd, argc, argv, n, owner);
		for (size_t i = 0; i < nkeys; i++) {
			if (!coreset_has(&shards, owner[i])) {
				coreset_add(&shards, owner[i]);
				nparts++;
			}
		}
		if (nparts == 1 && owner[0] == self && !shard_must_wait(cmd))
			shard_apply(cmd, argc, argv, b); /* every key is here */
		else
			dispatch_slot(c, cmd, argc, argv, owner, nkeys, &shards, nparts);
		if (owner != small)
			kfree(owner);
		return;
	}
	case CMD_ROUTE_ALL:
		for (nparts = 0; nparts < n; nparts++) /* every shard: the one route that is O(n) */
			coreset_add(&shards, nparts);
		dispatch_slot(c, cmd, argc, argv, NULL, 0, &shards, n);
		return;
	}
}

/* ---- receiving --------------------------------------------------------------------------- */

/* Whether another request may be dispatched before the oldest reply is in. */
static bool room_for_more(const struct kv_conn *c)
{
	return c->nslots < KV_MAX_SLOTS && c->held < KV_MAX_HELD &&
	       (!c->tail || c->tail->after.len < KV_MAX_AFTER);
}

/* Makes room in in[] for more bytes. False (with the error queued) if the request is too big
 * or there is no memory. */
static bool make_room(struct kv_conn *c)
{
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len == 0 && c->in_cap > 4 * KV_IN_INITIAL) {
		char *small = kmalloc(KV_IN_INITIAL);
		if (small) {
			kfree(c->in);
			c->in = small;
			c->in_cap = KV_IN_INITIAL;
		}
	}
	if (c->in_len < c->in_cap)
		return true;
	if (c->in_cap >= KV_IN_MAX) {
		reply_error(c, ERR_TOO_BIG);
		return false;
	}
	size_t cap = c->in_cap * 2 > KV_IN_MAX ? KV_IN_MAX : c->in_cap * 2;
	char *bigger = low_memory() ? NULL : kmalloc(cap);
	if (!bigger) {
		reply_error(c, cmd_err_oom);
		return false;
	}
	memcpy(bigger, c->in, c->in_len);
	kfree(c->in);
	c->in = bigger;
	c->in_cap = cap;
	return true;
}

/* Reads more. False when the connection is over (closed, reset, timed out, too big). */
static bool receive(struct kv_conn *c)
{
	if (!make_room(c)) {
		c->core->ctr.protocol_errors++;
		c->session.quit = true;
		return true; /* the error is queued: answer it, then close */
	}
	uint64_t limit = c->in_len > 0 ? KV_REQUEST_NS : KV_IDLE_SEC * 1000000000ull;
	ssize_t n = sock_recv(c->sock, c->in + c->in_len, c->in_cap - c->in_len, limit);
	if (n == -ETIMEDOUT)
		c->core->ctr.timeouts++;
	if (n <= 0)
		return false;
	c->in_len += (size_t)n;
	c->core->ctr.bytes_in += (size_t)n;
	return true;
}

/* Ends the connection politely: FIN, then drop what still arrives for a moment, so that our
 * last reply is not destroyed by a reset for unread data. */
static void linger(struct kv_conn *c)
{
	uint64_t until = now_ns() + KV_LINGER_NS;
	size_t drained = 0;

	if (c->dead || sock_shutdown(c->sock) < 0)
		return;
	while (drained < CONN_LINGER) {
		uint64_t now = now_ns();
		if (now >= until)
			return;
		ssize_t n = sock_recv(c->sock, c->in, c->in_cap, until - now);
		if (n <= 0)
			return;
		drained += (size_t)n;
	}
}

static void serve(struct kv_conn *c)
{
	unsigned batch = 0;

	for (;;) {
		bool held = false; /* parsing stopped by back-pressure, not by a lack of input */
		while (!c->session.quit && !c->dead) {
			if (!room_for_more(c)) {
				held = true;
				break;
			}
			int r = resp_parse(&c->parser, c->in + c->in_off, c->in_len - c->in_off);
			if (r == RESP_MORE)
				break;
			if (r < 0) {
				/* answered after everything before it, then closed (as Redis) */
				reply_error(c, r == RESP_ERROR ? c->parser.error : cmd_err_oom);
				c->core->ctr.protocol_errors++;
				c->session.quit = true;
				break;
			}
			if (c->parser.argc > 0)
				dispatch(c, c->parser.argc, c->parser.argv);
			c->in_off += c->parser.used;
			if (++batch == CONN_BATCH) {
				/* a client pipelining without pause must not starve the core's others */
				batch = 0;
				shard_flush(c);
				collect(c);
				flush_out(c);
				thread_yield();
			}
		}
		shard_flush(c); /* the parts for other cores go out before anything waits */
		collect(c);
		flush_out(c);
		if (c->dead)
			return;
		if (c->head) {
			/* nothing more can be dispatched now: wait for the oldest reply */
			wait_head(c);
			continue;
		}
		if (held)
			continue; /* the replies came in meanwhile: parse what has already arrived */
		if (c->session.quit) {
			linger(c);
			return;
		}
		if (c->session.shutdown)
			kv_shutdown();
		if (!receive(c))
			return;
	}
}

int conn_thread(void *arg)
{
	struct sock *s = arg;
	struct kv_core *k = kv_here();
	struct kv_conn *c = kzalloc(sizeof(*c) + core_count() * sizeof(struct kv_batch));
	char *in = kmalloc(KV_IN_INITIAL);

	if (!c || !in) {
		kfree(c);
		kfree(in);
		conn_refuse(s, cmd_err_oom);
		k->ctr.open--;
		return 0;
	}
	c->sock = s;
	c->thread = thread_self();
	c->core = k;
	c->in = in;
	c->in_cap = KV_IN_INITIAL;
	c->session.id = ++k->clients * core_count() + core_id();
	resp_parser_init(&c->parser);
	serve(c);
	sock_close(s);
	k->ctr.open--;
	if (c->inflight == 0) {
		conn_free(c);
	} else {
		/* replies are still on their way: the last one frees the connection (shard.c) */
		c->gone = true;
		c->thread = NULL;
	}
	return 0;
}

void conn_refuse(struct sock *s, const char *why)
{
	struct kv_core *k = kv_here();
	char buf[128];
	size_t n = strlen(why);

	k->ctr.refused++;
	if (n + 3 <= sizeof(buf)) {
		buf[0] = '-';
		memcpy(buf + 1, why, n);
		memcpy(buf + 1 + n, "\r\n", 2);
		if (sock_send(s, buf, n + 3, 100 * 1000000ull) == (ssize_t)(n + 3))
			k->ctr.bytes_out += n + 3;
	}
	sock_shutdown(s);
	sock_close(s);
}
