/*
 * conn.c - one HTTP connection, served by a thread of its own on the core that accepted it.
 *
 * The thread loops: parse the next request head from what was received, answer it, repeat.
 * Received bytes wait in in[] (a request head is at most HTTP_MAX_HEAD bytes, and the parser
 * answers once it has that many, so in[] never has to grow); pipelined requests are answered in
 * order from it. Responses collect in out[] and go to the TCP/IP stack in one sock_send() when
 * out[] is full or no complete request is left to answer, so a pipelined burst costs one send,
 * not one per request. A body too large for out[] is sent from where it lies.
 *
 * Time limits keep a vanished or slow client from pinning a thread and its memory: the next
 * request head must be complete within HTTPD_IDLE_NS of the previous answer (or of accept), and
 * every send must be taken within HTTPD_SEND_NS; a request cut short by the first limit gets 408.
 * A bad request is answered with its error status and the connection closed, as is one that asks
 * for the close: shutdown first, then read and discard what the client still sends for a moment,
 * so that our answer is not destroyed by a reset caused by unread data.
 */
#include <string.h>
#include <isle/errno.h>
#include <isle/fs.h>
#include <isle/mem.h>
#include <isle/thread.h>

#include "http.h"
#include "httpd.h"

#define CONN_OUT 16384    /* bytes of responses collected before a send */
#define CONN_BATCH 64     /* requests answered in a row before letting other threads run */
#define CONN_LINGER 65536 /* bytes read and discarded at most while closing after an error */

/* One connection; owned by its thread ([o] throughout), on the heap. */
struct conn {
	struct sock *sock;          /* the connection */
	struct httpd_counters *ctr; /* this core's counters */
	bool dead;                  /* a send failed: answer nothing more */
	size_t in_off;              /* the next request starts at in[in_off] */
	size_t in_len;              /* bytes in in[] */
	size_t out_len;             /* bytes in out[] */
	uint64_t deadline;          /* now_ns() by which the next request head must be complete */
	char in[HTTP_MAX_HEAD];     /* received, not yet answered */
	char out[CONN_OUT];         /* answers not yet sent */
};

/* Hands data[0..n) to the stack. */
static void conn_send(struct conn *c, const void *data, size_t n)
{
	if (c->dead || n == 0)
		return;
	ssize_t r = sock_send(c->sock, data, n, HTTPD_SEND_NS);
	if (r < (ssize_t)n) {
		/* an error, or a time-out after part of it went out: the rest cannot follow */
		if (r >= 0 || r == -ETIMEDOUT)
			c->ctr->timeouts++;
		c->dead = true;
		return;
	}
	c->ctr->bytes_sent += n;
}

static void conn_flush(struct conn *c)
{
	conn_send(c, c->out, c->out_len);
	c->out_len = 0;
}

/* Queues data[0..n) after what is in out[]; sends if it does not fit. */
static void conn_put(struct conn *c, const void *data, size_t n)
{
	if (n > sizeof(c->out) - c->out_len)
		conn_flush(c);
	if (n <= sizeof(c->out) - c->out_len) {
		memcpy(c->out + c->out_len, data, n);
		c->out_len += n;
	} else {
		conn_send(c, data, n);
	}
}

/* Queues the content of an open file, read straight into out[] a piece at a time. */
static void conn_put_file(struct conn *c, struct site_file *f)
{
	uint64_t left = f->size;
	while (left > 0 && !c->dead) {
		if (c->out_len == sizeof(c->out))
			conn_flush(c);
		size_t room = sizeof(c->out) - c->out_len;
		if (room > left)
			room = (size_t)left;
		ssize_t n = fs_read(f->fd, c->out + c->out_len, room);
		if (n <= 0) {
			/* the head promised more bytes: only closing can tell the client */
			c->ctr->file_errors++;
			c->dead = true;
			return;
		}
		c->out_len += (size_t)n;
		left -= (uint64_t)n;
	}
}

static void conn_respond(struct conn *c, int status, const char *type, const void *body, size_t len,
                         bool head_only, bool keep_alive)
{
	char head[256];
	int n = http_format_head(head, sizeof(head), status, type, len, keep_alive);
	if (n < 0) {
		c->dead = true; /* cannot happen: our types and numbers are short */
		return;
	}
	conn_put(c, head, (size_t)n);
	if (!head_only)
		conn_put(c, body, len);
}

static void conn_error(struct conn *c, int status, bool keep_alive, bool head_only)
{
	char buf[512];
	int n = http_format_error(buf, sizeof(buf), status, keep_alive, head_only);
	if (n > 0)
		conn_put(c, buf, (size_t)n);
}

/* Answers one parsed request. */
static void conn_answer(struct conn *c, const struct http_request *req)
{
	bool head_only = req->method == HTTP_HEAD, keep = req->keep_alive;

	c->ctr->requests++;
	if (strcmp(req->path, "/stats") == 0) {
		char *json;
		size_t len;
		if (stats_json(&json, &len) < 0) {
			conn_error(c, 503, keep, head_only);
			return;
		}
		conn_respond(c, 200, "application/json", json, len, head_only, keep);
		kfree(json);
		return;
	}
	struct site_file f;
	int err = site_open(req->path, &f);
	if (err == -ENOENT || err == -ENOTDIR || err == -ENAMETOOLONG) {
		conn_error(c, 404, keep, head_only);
		return;
	}
	if (err < 0) {
		c->ctr->file_errors++;
		conn_error(c, 500, keep, head_only);
		return;
	}
	conn_respond(c, 200, f.type, NULL, f.size, true, keep);
	if (!head_only)
		conn_put_file(c, &f);
	site_close(&f);
}

/* Ends the connection politely: FIN, then discard what still arrives for a moment. */
static void conn_linger(struct conn *c)
{
	uint64_t until = now_ns() + HTTPD_LINGER_NS;
	size_t drained = 0;

	conn_flush(c);
	if (c->dead || sock_shutdown(c->sock) < 0)
		return;
	while (drained < CONN_LINGER) {
		uint64_t now = now_ns();
		if (now >= until)
			return;
		ssize_t n = sock_recv(c->sock, c->in, sizeof(c->in), until - now);
		if (n <= 0)
			return;
		drained += (size_t)n;
	}
}

/* Reads more of the next request into in[]. False when the connection is over. */
static bool conn_receive(struct conn *c)
{
	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	uint64_t now = now_ns();
	ssize_t n = -ETIMEDOUT;
	/* in[] is never full here: the parser answers once it holds HTTP_MAX_HEAD bytes */
	if (c->in_len < sizeof(c->in) && now < c->deadline)
		n = sock_recv(c->sock, c->in + c->in_len, sizeof(c->in) - c->in_len,
		              c->deadline - now);
	if (n == -ETIMEDOUT) {
		c->ctr->timeouts++;
		if (c->in_len > 0) {
			/* a request was under way: say why it ends */
			conn_error(c, 408, false, false);
			conn_linger(c);
		}
		return false;
	}
	if (n <= 0)
		return false; /* closed or reset by the client */
	c->in_len += (size_t)n;
	return true;
}

static void conn_serve(struct conn *c)
{
	struct http_request req;
	unsigned batch = 0;

	http_request_init(&req);
	c->deadline = now_ns() + HTTPD_IDLE_NS;
	while (!c->dead) {
		long r = http_parse(&req, c->in + c->in_off, c->in_len - c->in_off);
		if (r == 0) {
			/* nothing more to answer now: send what is ready, then wait */
			conn_flush(c);
			if (c->dead || !conn_receive(c))
				return;
			continue;
		}
		if (r < 0) {
			c->ctr->requests++;
			c->ctr->errors++;
			conn_error(c, (int)-r, false, false);
			conn_linger(c);
			return;
		}
		conn_answer(c, &req);
		c->in_off += (size_t)r;
		if (!req.keep_alive) {
			conn_linger(c);
			return;
		}
		http_request_init(&req);
		c->deadline = now_ns() + HTTPD_IDLE_NS;
		if (++batch == CONN_BATCH) {
			/* a client pipelining without pause must not starve the core's others */
			batch = 0;
			conn_flush(c);
			thread_yield();
		}
	}
}

int conn_thread(void *arg)
{
	struct sock *s = arg;
	struct httpd_counters *ctr = &httpd_here()->counter;
	struct conn *c = kmalloc(sizeof(*c));

	if (!c) {
		conn_refuse(s);
	} else {
		memset(c, 0, offsetof(struct conn, in));
		c->sock = s;
		c->ctr = ctr;
		conn_serve(c);
		kfree(c);
		sock_close(s);
	}
	ctr->open--;
	return 0;
}

void conn_refuse(struct sock *s)
{
	struct httpd_counters *ctr = &httpd_here()->counter;
	char buf[512];
	int n = http_format_error(buf, sizeof(buf), 503, false, false);
	ctr->refused++;
	if (n > 0 && sock_send(s, buf, (size_t)n, HTTPD_REFUSE_NS) == n)
		ctr->bytes_sent += (size_t)n;
	sock_shutdown(s);
	sock_close(s);
}
