/*
 * stats.c - GET /stats: every core's counters as JSON, gathered by messages.
 *
 * No core reads another's counters. The worker answering /stats (on its "home" core) puts a
 * struct stats_request on its stack and msg_call()s stats_collect() on every other core. There,
 * in handler context, stats_collect() kmallocs a snapshot, fills it from that core's own
 * counters and msg_call_reply()s stats_deliver() back home with the pointer: the snapshot now belongs
 * to home. stats_deliver() (home, handler context) files it in the request and wakes the worker,
 * which sleeps until every core has answered. The worker formats the JSON and kfree()s the
 * snapshots; each goes back to the core that allocated it as a remote free. A core without
 * memory for a snapshot answers stats_missing() instead, so the worker never waits forever and
 * the request on its stack is never touched after it returns.
 */
#include <stdarg.h>
#include <stdio.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/mem.h>
#include <isle/msg.h>
#include <isle/thread.h>

#include "httpd.h"

struct stats_request;

/* One core's counters at one moment, owned by whoever holds the pointer. */
struct stats_snapshot {
	struct stats_request *req;   /* the request this answers */
	unsigned core;               /* the core it describes */
	struct httpd_counters httpd; /* httpd's counters */
	struct sched_stats sched;    /* the scheduler's (busy_ns, idle_ns...) */
	struct net_stats net;        /* the TCP/IP stack's */
	struct mem_stats mem;        /* the core's heap and pages */
};

/*
 * One /stats request, on the stack of the worker answering it. [I] fields are set before the
 * first message goes out and only read afterwards (other cores read home and nothing else);
 * [o] fields belong to the home core, changed by its handlers and read by the worker.
 */
struct stats_request {
	struct thread *waiter;                        /* [I] the worker */
	unsigned home;                                /* [I] the worker's core */
	unsigned pending;                             /* [o] answers still to come */
	struct stats_snapshot *snap[HTTPD_MAX_CORES]; /* [o] per core; NULL: no memory there */
};

/* A snapshot of the calling core, or NULL. Thread or handler context. */
static struct stats_snapshot *snapshot_take(struct stats_request *req)
{
	struct stats_snapshot *s = kmalloc(sizeof(*s));
	if (!s)
		return NULL;
	s->req = req;
	s->core = core_id();
	s->httpd = httpd_here()->counter;
	sched_stats(&s->sched);
	mem_stats(&s->mem);
	net_stats(&s->net);
	return s;
}

/* Home, handler context: one more core has answered. */
static void answered(struct stats_request *req)
{
	req->pending--;
	thread_wake(req->waiter);
}

static void stats_deliver(void *arg)
{
	struct stats_snapshot *s = arg;
	s->req->snap[s->core] = s;
	answered(s->req);
}

static void stats_missing(void *arg)
{
	answered(arg);
}

/* Any core but home, handler context. */
static void stats_collect(void *arg)
{
	struct stats_request *req = arg;
	struct stats_snapshot *s = snapshot_take(req);
	if (s)
		msg_call_reply(req->home, stats_deliver, s); /* the request's one reply */
	else
		msg_call_reply(req->home, stats_missing, req);
}

/* A growing JSON text in a fixed heap block; overflow is remembered, not written. */
struct text {
	char *buf;   /* the block */
	size_t size; /* its size */
	size_t len;  /* bytes written */
	bool full;   /* something did not fit */
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	if (t->full)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= t->size - t->len)
		t->full = true;
	else
		t->len += (size_t)n;
}

static void put_counters(struct text *t, const struct httpd_counters *h, uint64_t busy_ns,
                         uint64_t idle_ns)
{
	put(t,
	    "\"accepted\":%lu,\"open\":%lu,\"requests\":%lu,\"bytes_sent\":%lu,\"refused\":%lu,"
	    "\"errors\":%lu,\"timeouts\":%lu,\"file_errors\":%lu,\"busy_ns\":%lu,\"idle_ns\":%lu",
	    h->accepted, h->open, h->requests, h->bytes_sent, h->refused, h->errors, h->timeouts,
	    h->file_errors, busy_ns, idle_ns);
}

/* The net object; with its NIC queue (-1: none) for one core, without it for the total. */
static void put_net(struct text *t, const struct net_stats *n, bool queue)
{
	put(t,
	    "\"net\":{\"rx_packets\":%lu,\"tx_packets\":%lu,\"rx_bytes\":%lu,\"tx_bytes\":%lu,"
	    "\"rx_dropped\":%lu,\"tx_dropped\":%lu,\"tcp_accepted\":%lu,\"tcp_active\":%lu,"
	    "\"syn_evicted\":%lu,\"tw_reused\":%lu",
	    n->rx_packets, n->tx_packets, n->rx_bytes, n->tx_bytes, n->rx_dropped, n->tx_dropped,
	    n->tcp_accepted, n->tcp_active, n->syn_evicted, n->tw_reused);
	if (queue)
		put(t, ",\"queue\":%d", n->queue == -1u ? -1 : (int)n->queue);
	put(t, "}");
}

/* Formats the gathered snapshots: {"cores":[{...},...],"total":{...}}. */
static void format(struct text *t, struct stats_request *req, unsigned ncores)
{
	struct httpd_counters sum = { 0 };
	struct net_stats nsum = { 0 };
	uint64_t busy = 0, idle = 0;
	unsigned missing = 0;

	put(t, "{\"cores\":[");
	for (unsigned c = 0; c < ncores; c++) {
		const struct stats_snapshot *s = req->snap[c];
		put(t, "%s\n{\"core\":%u,", c ? "," : "", c);
		if (!s) {
			put(t, "\"missing\":true}");
			missing++;
			continue;
		}
		put_counters(t, &s->httpd, s->sched.busy_ns, s->sched.idle_ns);
		put(t, ",\"threads_live\":%lu,", s->sched.threads_live);
		put(t, "\"heap_bytes\":%zu,\"heap_blocks\":%zu,\"free_pages\":%zu,",
		    s->mem.heap_bytes, s->mem.heap_blocks, s->mem.free_pages);
		put_net(t, &s->net, true);
		put(t, "}");
		sum.accepted += s->httpd.accepted;
		sum.refused += s->httpd.refused;
		sum.open += s->httpd.open;
		sum.requests += s->httpd.requests;
		sum.errors += s->httpd.errors;
		sum.timeouts += s->httpd.timeouts;
		sum.file_errors += s->httpd.file_errors;
		sum.bytes_sent += s->httpd.bytes_sent;
		busy += s->sched.busy_ns;
		idle += s->sched.idle_ns;
		nsum.rx_packets += s->net.rx_packets;
		nsum.tx_packets += s->net.tx_packets;
		nsum.rx_bytes += s->net.rx_bytes;
		nsum.tx_bytes += s->net.tx_bytes;
		nsum.rx_dropped += s->net.rx_dropped;
		nsum.tx_dropped += s->net.tx_dropped;
		nsum.tcp_accepted += s->net.tcp_accepted;
		nsum.tcp_active += s->net.tcp_active;
		nsum.syn_evicted += s->net.syn_evicted;
		nsum.tw_reused += s->net.tw_reused;
	}
	put(t, "],\n\"total\":{\"cores\":%u,\"missing\":%u,", ncores, missing);
	put_counters(t, &sum, busy, idle);
	put(t, ",");
	put_net(t, &nsum, false);
	put(t, "}}\n");
}

int stats_json(char **out, size_t *len)
{
	unsigned n = core_count(), self = core_id();
	struct stats_request req = { .waiter = thread_self(), .home = self, .pending = 0 };

	for (unsigned c = 0; c < n; c++) {
		if (c == self)
			continue;
		/* The request is complete before it is sent: the message ring publishes it. */
		req.pending++;
		if (msg_call(c, stats_collect, &req) < 0)
			req.pending--;
	}
	req.snap[self] = snapshot_take(&req);
	/* Every other core answers exactly once (deliver or missing); req lives until then. */
	while (req.pending > 0)
		thread_block();

	struct text t = { .size = 1024 + (size_t)n * 1024 };
	t.buf = kmalloc(t.size);
	if (t.buf)
		format(&t, &req, n);
	for (unsigned c = 0; c < n; c++)
		kfree(req.snap[c]); /* another core's block goes home as a remote free */
	if (!t.buf)
		return -ENOMEM;
	if (t.full) {
		kfree(t.buf);
		return -ENOMEM;
	}
	*out = t.buf;
	*len = t.len;
	return 0;
}
