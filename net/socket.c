/*
 * socket.c - blocking sockets for cooperative threads, on top of lwIP's raw API.
 *
 * Every core runs its own lwIP (stack.c) and a socket belongs to the core that created it: its
 * pcb, its buffers and its state are touched by that core only, so nothing here takes a lock.
 * Every call checks the owner first and answers -EINVAL on another core.
 *
 * Two kinds of code meet in a struct sock:
 *  - lwIP's callbacks (on_recv, on_sent, on_err, on_accept, ...). net_poll runs them in
 *    scheduler context, or lwIP runs them inside a call a thread made. They never block: they
 *    record what happened in the socket (queue a pbuf, set a flag or an error) and wake the
 *    thread that waits for it.
 *  - the blocking calls, run by threads. They look at the socket's state and, if they cannot
 *    finish yet, park in sock_wait() until a callback or their timeout wakes them, then look
 *    again: a wake-up is only a hint, the state is the truth.
 *
 * Invariants:
 *  - s->tcp (s->udp) is NULL once lwIP has freed the pcb (on_err: reset, abort, final ACK) or
 *    we have given it back to lwIP (sock_close; or both sides sent FIN, see tcp_finish). Before
 *    a pcb is given back, our callbacks are detached, so lwIP never calls us with a socket
 *    that is gone.
 *  - Received TCP data is copied at once out of lwIP's pbufs into s->rx, a list of chunks from
 *    the core's heap filled end to end, and the pbufs go back to lwIP's pool: whatever a peer
 *    does (segments of one byte, a window it never lets us empty), it cannot hold the pool
 *    buffers every connection of the core receives into. The data waits in s->rx until
 *    sock_recv copies it out, and only then is the window opened with tcp_recved: a slow
 *    reader slows the sender down, and the queue holds no more than the receive window (plus
 *    s->rx_credit, below), in as many 2 KiB chunks as that takes. UDP datagrams are copied out
 *    of the pool the same way.
 *  - The real receive window (pcb->rcv_wnd) never stays at zero. lwIP 2.1 answers an empty
 *    segment with an ACK whenever its window is zero (known upstream, e.g. esp-idf#2425), so
 *    two of its pcbs with closed windows on one loopback interface, a client and a server on
 *    the same core that both stopped reading for a moment, ACK each other forever inside one
 *    netif_poll and the core never runs a thread again. When data closes the window, on_recv
 *    opens one byte at once (s->rx_credit) and sock_recv pays it back. The announced window
 *    stays closed (lwIP avoids silly windows), so the sender still stops; only its zero
 *    window probes get in, a byte each.
 *  - An accepted connection gets its socket in on_accept, so data that arrives before
 *    sock_accept is kept. The listener's queue is bounded by the backlog; a connection beyond
 *    it is reset at once (the client sees -ECONNRESET rather than a connection nobody takes).
 *  - A thread blocked in a call counts in s->users. sock_close from another thread of the core
 *    ends the connection at once and wakes the waiters, which return -ECONNABORTED; the last
 *    of them frees the memory.
 *  - The NIC must deliver a connection's packets to the core that owns its socket. For an
 *    accepted one it did so already (the SYN came here). For sock_connect, and for a UDP socket
 *    bound to port 0, we choose the local port so that the device's RSS hash of the peer's
 *    replies selects this core (net_bind_steered in stack.c); a UDP socket therefore takes its
 *    port at its first sock_sendto, when the peer is known.
 */

#include <string.h>
#include <isle/errno.h>
#include <isle/mem.h>
#include <isle/net.h>
#include <isle/thread.h>
#include "kernel/core.h"
#include "kernel/sched.h"
#include "lwip/netif.h"
#include "lwip/ip4.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "net/netstats.h"
#include "net/stack.h"

#define UDP_QUEUE 32          /* datagrams a UDP socket holds; more are dropped */
#define UDP_MAX 65507         /* largest UDP payload over IPv4 */
#define BACKLOG_MAX 4096      /* accept queue bound, whatever the caller asks */
#define HALF_OPEN_MAX 255     /* lwIP's own limit: handshakes in progress per listener */
#define POLL_INTERVAL 2       /* on_poll every 2 x 500 ms: retry a send that found no memory */
#define WAIT_UP_STEP 10000000 /* ns between looks at the interface in net_wait_up */

enum sock_kind { SOCK_LISTENER, SOCK_TCP, SOCK_UDP };

/* A datagram waiting in a UDP socket. [o], as the socket that holds it. */
struct udp_dgram {
	uint8_t *data; /* the payload, a heap copy (NULL when empty) */
	uint16_t len;  /* its length */
	ip4_t addr;    /* sender, network byte order */
	uint16_t port; /* sender's port */
};

/* A piece of a connection's received data, filled end to end (one 2 KiB heap block). */
#define RX_CHUNK_BYTES 2048
struct rx_chunk {
	struct rx_chunk *next;             /* [o] the next, newer piece */
	uint32_t len;                      /* [o] bytes of data[] filled */
	uint8_t data[RX_CHUNK_BYTES - 16]; /* [o] */
};
_Static_assert(sizeof(struct rx_chunk) == RX_CHUNK_BYTES, "a chunk is one heap block");

/*
 * A socket. Ownership: [I] set at creation, read by other cores only to be refused; every
 * other field is [o], owned by the core in s->core.
 */
struct sock {
	enum sock_kind kind;      /* [I] listener, TCP connection or UDP */
	unsigned core;            /* [I] the core whose lwIP holds the pcb */
	struct tcp_pcb *tcp;      /* [o] listener or connection pcb; NULL once lwIP has it back */
	struct udp_pcb *udp;      /* [o] UDP pcb */
	int err;                  /* [o] 0, or the -errno that ended the connection (sticky) */
	bool connected;           /* [o] the handshake completed (accepted or connected) */
	bool rx_fin;              /* [o] the peer sent FIN: nothing comes after s->rx */
	bool tx_shut;             /* [o] we sent FIN (sock_shutdown): no more sending */
	bool counted;             /* [o] counted in net_stats' tcp_active */
	bool closed;              /* [o] sock_close ran while threads waited; the last one frees */
	unsigned users;           /* [o] threads blocked in a call on this socket */
	struct thread *rx_waiter; /* [o] thread in recv, accept or recvfrom, or NULL */
	struct thread *tx_waiter; /* [o] thread in send or connect, or NULL */
	struct rx_chunk *rx;      /* [o] received data not read yet, oldest first, or NULL */
	struct rx_chunk *rx_tail; /* [o] last chunk of rx */
	size_t rx_off;            /* [o] bytes of the first chunk already read */
	size_t rx_len;            /* [o] bytes waiting in rx (counted from rx_off) */
	size_t rx_credit;         /* [o] bytes of rx whose window was opened early */
	ip4_t peer_addr;          /* [o] the other end of a connection */
	uint16_t peer_port;       /* [o] */
	struct sock *accept_next; /* [o] next connection in the listener's accept queue */
	union {
		struct {
			struct sock *head, *tail; /* [o] accepted, not yet taken by sock_accept */
			unsigned len, max;        /* [o] queued now; the backlog */
		} acceptq;                        /* listeners */
		struct {
			struct udp_dgram q[UDP_QUEUE]; /* [o] ring of received datagrams */
			unsigned head, len;            /* [o] oldest slot; datagrams queued */
		} dgrams;                              /* UDP */
	};
};

PERCORE static struct net_stats stats = { .queue = -1u }; /* [o] this core's counters */

/*
 * Boot calls net_init_core through a weak reference, and a weak reference does not pull
 * stack.o out of libisle_net.a. This strong one does: an image that uses sockets always gets
 * its stacks started.
 */
__attribute__((used)) static void (*const socket_needs_stack)(void) = net_init_core;

/* ---- helpers -------------------------------------------------------------------------------- */

static int from_err(err_t e)
{
	switch (e) {
	case ERR_OK:
		return 0;
	case ERR_MEM:
	case ERR_BUF:
		return -ENOMEM;
	case ERR_TIMEOUT:
		return -ETIMEDOUT;
	case ERR_RTE:
		return -EHOSTUNREACH;
	case ERR_USE:
		return -EADDRINUSE;
	case ERR_ALREADY:
	case ERR_ISCONN:
		return -EALREADY;
	case ERR_CONN:
	case ERR_CLSD:
		return -ENOTCONN;
	case ERR_IF:
		return -ENETDOWN;
	case ERR_ABRT:
	case ERR_RST:
		return -ECONNRESET;
	case ERR_VAL:
	case ERR_ARG:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static ip_addr_t to_ip(ip4_t addr)
{
	ip_addr_t ip;
	ip_addr_set_ip4_u32(&ip, addr);
	return ip;
}

/* 0 if s is a live socket of this kind on the calling core, called from a thread. */
static int sock_check(const struct sock *s, enum sock_kind kind)
{
	if (!s || s->core != core_id() || s->kind != kind || s->closed || !thread_self())
		return -EINVAL;
	return 0;
}

/* The deadline for a timeout (0: forever). */
static uint64_t deadline_after(uint64_t timeout_ns)
{
	if (!timeout_ns)
		return 0;
	uint64_t now = now_ns();
	return timeout_ns > UINT64_MAX - now ? UINT64_MAX : now + timeout_ns;
}

static struct sock *sock_new(enum sock_kind kind)
{
	struct sock *s = kzalloc(sizeof(*s));
	if (s) {
		s->kind = kind;
		s->core = core_id();
	}
	return s;
}

static void wake(struct thread *t)
{
	if (t)
		thread_wake(t);
}

/* Frees s, or leaves that to the last thread still blocked on it. Its pcb is gone already. */
static void sock_release(struct sock *s)
{
	if (s->counted) {
		s->counted = false;
		stats.tcp_active--;
	}
	if (s->users) {
		s->closed = true;
		wake(s->rx_waiter);
		wake(s->tx_waiter);
		return;
	}
	kfree(s);
}

/* ---- waiting -------------------------------------------------------------------------------- */

struct sock_waiter {
	struct timer timer;    /* [o] fires at the deadline (on this core's timer queue) */
	struct thread *thread; /* [o] the thread to wake */
};

static void waiter_timeout(struct timer *t)
{
	thread_wake(container_of(t, struct sock_waiter, timer)->thread);
}

/*
 * Blocks the calling thread until something happens to s (a callback wakes *slot) or the
 * deadline passes, and returns 0 so that the caller looks at s again; -ETIMEDOUT if the
 * deadline had passed already; -EBUSY if another thread waits in the same slot;
 * -ECONNABORTED if s was closed meanwhile: s may be freed then and MUST NOT be touched.
 */
static int sock_wait(struct sock *s, struct thread **slot, uint64_t deadline)
{
	if (deadline && now_ns() >= deadline)
		return -ETIMEDOUT;
	if (*slot)
		return -EBUSY;
	struct sock_waiter w = { .thread = thread_self() };
	timer_init(&w.timer, waiter_timeout);
	if (deadline) {
		w.timer.deadline = deadline;
		timer_add(&w.timer);
	}
	*slot = w.thread;
	s->users++;
	thread_block();
	s->users--;
	*slot = NULL;
	timer_del(&w.timer);
	if (s->closed) {
		if (!s->users)
			kfree(s);
		return -ECONNABORTED;
	}
	return 0;
}

/* ---- received data -------------------------------------------------------------------------- */

/*
 * Copies the chain p to the end of rx and frees it. All or nothing: the chunks it needs come
 * first; without them it returns false and p is untouched (on_recv then lets lwIP keep p and
 * offer it again later).
 */
static bool rx_append(struct sock *s, struct pbuf *p)
{
	size_t room = s->rx_tail ? sizeof(s->rx_tail->data) - s->rx_tail->len : 0;
	struct rx_chunk *fresh = NULL, **end = &fresh;
	for (size_t need = p->tot_len > room ? p->tot_len - room : 0; need;) {
		struct rx_chunk *c = kmalloc(sizeof(*c));
		if (!c) {
			while (fresh) {
				struct rx_chunk *next = fresh->next;
				kfree(fresh);
				fresh = next;
			}
			return false;
		}
		c->next = NULL;
		c->len = 0;
		*end = c;
		end = &c->next;
		need -= MIN(need, sizeof(c->data));
	}
	if (s->rx_tail)
		s->rx_tail->next = fresh;
	else
		s->rx = fresh;
	struct rx_chunk *c = s->rx_tail ? s->rx_tail : fresh;
	for (const struct pbuf *q = p; q; q = q->next) {
		const uint8_t *from = q->payload;
		for (size_t left = q->len; left;) {
			if (c->len == sizeof(c->data))
				c = c->next;
			size_t n = MIN(left, sizeof(c->data) - c->len);
			memcpy(c->data + c->len, from, n);
			c->len += (uint32_t)n;
			from += n;
			left -= n;
		}
	}
	while (c->next)
		c = c->next;
	s->rx_tail = c;
	s->rx_len += p->tot_len;
	pbuf_free(p);
	return true;
}

/* Frees the first chunk of rx. */
static void rx_pop(struct sock *s)
{
	struct rx_chunk *c = s->rx;
	s->rx = c->next;
	if (!s->rx)
		s->rx_tail = NULL;
	kfree(c);
	s->rx_off = 0;
}

/* Copies up to len queued bytes into buf and frees what was read; returns the count. */
static size_t rx_take(struct sock *s, uint8_t *buf, size_t len)
{
	size_t done = 0;
	while (done < len && s->rx) {
		struct rx_chunk *c = s->rx;
		size_t n = MIN(c->len - s->rx_off, len - done);
		memcpy(buf + done, c->data + s->rx_off, n);
		done += n;
		s->rx_off += n;
		if (s->rx_off == c->len && (c->next || c->len == sizeof(c->data)))
			rx_pop(s); /* the last chunk stays while it has room to fill */
		else if (s->rx_off == c->len)
			break;
	}
	s->rx_len -= done;
	return done;
}

static void rx_free(struct sock *s)
{
	while (s->rx)
		rx_pop(s);
	s->rx_len = 0;
}

/* Opens the receive window by n bytes. */
static void rx_ack(struct tcp_pcb *pcb, size_t n)
{
	while (n) {
		u16_t k = (u16_t)MIN(n, 0xffffu);
		tcp_recved(pcb, k);
		n -= k;
	}
}

/* The application took n bytes: open the window by as much, less what was lent before. */
static void rx_taken(struct sock *s, size_t n)
{
	size_t repaid = MIN(n, s->rx_credit);
	s->rx_credit -= repaid;
	if (s->tcp)
		rx_ack(s->tcp, n - repaid);
}

/* ---- TCP callbacks (never block) ------------------------------------------------------------ */

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err);
static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len);
static err_t on_poll(void *arg, struct tcp_pcb *pcb);
static void on_err(void *arg, err_t err);

static void tcp_attach(struct sock *s, struct tcp_pcb *pcb)
{
	s->tcp = pcb;
	s->peer_addr = ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip));
	s->peer_port = pcb->remote_port;
	tcp_arg(pcb, s);
	tcp_recv(pcb, on_recv);
	tcp_sent(pcb, on_sent);
	tcp_err(pcb, on_err);
	tcp_poll(pcb, on_poll, POLL_INTERVAL);
	/* send() hands over whole messages: don't hold a short reply back for the peer's ACK */
	tcp_nagle_disable(pcb);
}

/* Takes the pcb away from s with every callback detached; returns it (or NULL). */
static struct tcp_pcb *tcp_detach(struct sock *s)
{
	struct tcp_pcb *pcb = s->tcp;
	s->tcp = NULL;
	if (pcb) {
		tcp_arg(pcb, NULL);
		tcp_recv(pcb, NULL);
		tcp_sent(pcb, NULL);
		tcp_err(pcb, NULL);
		tcp_poll(pcb, NULL, 0);
	}
	return pcb;
}

/*
 * Both sides have sent FIN: nothing more passes through the pcb, and lwIP would free it on
 * its own at the end of TIME_WAIT without telling us. So give it back now. What is still
 * queued in s->rx stays readable; its window is opened first so that tcp_close does not take
 * it for unread data (which it answers with a reset). ERR_ABRT if the pcb had to be aborted.
 */
static err_t tcp_finish(struct sock *s)
{
	struct tcp_pcb *pcb = tcp_detach(s);
	rx_ack(pcb, s->rx_len > s->rx_credit ? s->rx_len - s->rx_credit : 0);
	s->rx_credit = 0;
	if (tcp_close(pcb) == ERR_OK)
		return ERR_OK;
	tcp_abort(pcb);
	return ERR_ABRT;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct sock *s = arg;
	(void)err; /* always ERR_OK in lwIP 2.1 */
	if (!s) {  /* not reached: callbacks are detached together with the argument */
		if (p) {
			tcp_recved(pcb, p->tot_len);
			pbuf_free(p);
		}
		return ERR_OK;
	}
	err_t ret = ERR_OK;
	if (pcb->rcv_wnd == 0) { /* never zero: see the top of this file */
		tcp_recved(pcb, 1);
		s->rx_credit++;
	}
	if (p) {
		if (!rx_append(s, p))
			return ERR_MEM; /* no heap: lwIP keeps p and offers it again (its timer) */
	} else {
		s->rx_fin = true;
		if (s->tx_shut)
			ret = tcp_finish(s);
	}
	wake(s->rx_waiter);
	return ret;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
	struct sock *s = arg;
	(void)pcb;
	(void)len;
	if (s)
		wake(s->tx_waiter); /* the send buffer has room again */
	return ERR_OK;
}

static err_t on_poll(void *arg, struct tcp_pcb *pcb)
{
	struct sock *s = arg;
	(void)pcb;
	if (s)
		wake(s->tx_waiter); /* a send that found no memory tries again */
	return ERR_OK;
}

/* lwIP has freed the pcb already: reset, abort or (ERR_CLSD) the last ACK after both FINs. */
static void on_err(void *arg, err_t err)
{
	struct sock *s = arg;
	if (!s)
		return;
	s->tcp = NULL;
	if (err == ERR_CLSD)
		s->rx_fin = true;
	else if (!s->err && !s->connected) /* the handshake failed: refused, or no answer */
		s->err = err == ERR_RST ? -ECONNREFUSED : -ETIMEDOUT;
	else if (!s->err)
		s->err = -ECONNRESET;
	wake(s->rx_waiter);
	wake(s->tx_waiter);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *s = arg;
	(void)err; /* always ERR_OK in lwIP 2.1: failures come through on_err */
	if (!s) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	s->connected = true;
	s->counted = true;
	stats.tcp_active++;
	wake(s->tx_waiter);
	return ERR_OK;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	struct sock *l = arg;
	if (!l || err != ERR_OK || !pcb)
		return ERR_VAL;
	if (l->acceptq.len >= l->acceptq.max)
		return ERR_MEM; /* backlog full: lwIP resets the connection */
	struct sock *s = sock_new(SOCK_TCP);
	if (!s)
		return ERR_MEM;
	tcp_attach(s, pcb);
	s->connected = true;
	s->counted = true;
	stats.tcp_active++;
	stats.tcp_accepted++;
	if (l->acceptq.tail)
		l->acceptq.tail->accept_next = s;
	else
		l->acceptq.head = s;
	l->acceptq.tail = s;
	l->acceptq.len++;
	wake(l->rx_waiter);
	return ERR_OK;
}

/*
 * Ends a connection's use of lwIP: callbacks detached, unread data freed, the pcb closed
 * gracefully (FIN after what is still queued for sending; a reset if data was left unread,
 * as lwIP does) or, with `reset` or if lwIP cannot close it now, aborted.
 */
static void tcp_conn_drop(struct sock *s, bool reset)
{
	struct tcp_pcb *pcb = tcp_detach(s);
	rx_free(s);
	s->rx_credit = 0;
	if (pcb && (reset || tcp_close(pcb) != ERR_OK))
		tcp_abort(pcb);
}

/* ---- TCP ------------------------------------------------------------------------------------ */

int sock_listen(ip4_t addr, uint16_t port, int backlog, struct sock **out)
{
	ip_addr_t ip = to_ip(addr);
	struct tcp_pcb *pcb, *lpcb;
	err_t e = ERR_MEM;
	if (!out || !thread_self())
		return -EINVAL;
	*out = NULL;
	struct sock *l = sock_new(SOCK_LISTENER);
	if (!l)
		return -ENOMEM;
	l->acceptq.max = backlog < 1 ? 1 : MIN((unsigned)backlog, BACKLOG_MAX);
	pcb = tcp_new();
	if (!pcb)
		goto free_sock;
#if SO_REUSE
	ip_set_option(pcb, SOF_REUSEADDR); /* restart on a port whose old connections linger */
#endif
	e = tcp_bind(pcb, &ip, port);
	if (e != ERR_OK)
		goto close_pcb;
	lpcb = tcp_listen_with_backlog_and_err(pcb, HALF_OPEN_MAX, &e);
	if (!lpcb)
		goto close_pcb;
	l->tcp = lpcb;
	tcp_arg(lpcb, l);
	tcp_accept(lpcb, on_accept);
	*out = l;
	return 0;

close_pcb:
	tcp_close(pcb);
free_sock:
	kfree(l);
	return from_err(e);
}

int sock_accept(struct sock *l, struct sock **out, uint64_t timeout_ns)
{
	int err = sock_check(l, SOCK_LISTENER);
	if (err || !out)
		return err ? err : -EINVAL;
	*out = NULL;
	uint64_t deadline = deadline_after(timeout_ns);
	while (!l->acceptq.head) {
		err = sock_wait(l, &l->rx_waiter, deadline);
		if (err)
			return err;
	}
	struct sock *s = l->acceptq.head;
	l->acceptq.head = s->accept_next;
	if (!l->acceptq.head)
		l->acceptq.tail = NULL;
	l->acceptq.len--;
	s->accept_next = NULL;
	*out = s;
	return 0;
}

int sock_connect(ip4_t addr, uint16_t port, struct sock **out, uint64_t timeout_ns)
{
	ip_addr_t ip = to_ip(addr);
	int err;
	if (!out || !thread_self())
		return -EINVAL;
	*out = NULL;
	uint64_t deadline = deadline_after(timeout_ns);
	struct sock *s = sock_new(SOCK_TCP);
	if (!s)
		return -ENOMEM;
	struct tcp_pcb *pcb = tcp_new();
	if (!pcb) {
		kfree(s);
		return -ENOMEM;
	}
	tcp_attach(s, pcb);
	err = net_bind_steered(pcb, false, addr, port);
	if (!err)
		err = from_err(tcp_connect(pcb, &ip, port, on_connected));
	while (!err && !s->err && !s->connected)
		err = sock_wait(s, &s->tx_waiter, deadline); /* nobody else has s: never closed */
	if (!err)
		err = s->err; /* reset right after the handshake counts as failing to connect */
	if (err) {
		tcp_conn_drop(s, false);
		sock_release(s);
		return err;
	}
	s->peer_addr = addr;
	s->peer_port = port;
	*out = s;
	return 0;
}

ssize_t sock_recv(struct sock *s, void *buf, size_t len, uint64_t timeout_ns)
{
	int err = sock_check(s, SOCK_TCP);
	if (err || (!buf && len))
		return err ? err : -EINVAL;
	if (!len)
		return 0;
	uint64_t deadline = deadline_after(timeout_ns);
	while (!s->rx_len) {
		if (s->err)
			return s->err;
		if (s->rx_fin)
			return 0;
		if (!s->tcp)
			return -ENOTCONN;
		err = sock_wait(s, &s->rx_waiter, deadline);
		if (err)
			return err;
	}
	size_t n = rx_take(s, buf, len);
	rx_taken(s, n);
	return (ssize_t)n;
}

ssize_t sock_send(struct sock *s, const void *buf, size_t len, uint64_t timeout_ns)
{
	int err = sock_check(s, SOCK_TCP);
	if (err || (!buf && len))
		return err ? err : -EINVAL;
	uint64_t deadline = deadline_after(timeout_ns);
	const uint8_t *data = buf;
	size_t done = 0;
	while (done < len) {
		if (s->err)
			return s->err;
		if (s->tx_shut || !s->tcp)
			return -EPIPE;
		size_t n = MIN(len - done, (size_t)tcp_sndbuf(s->tcp));
		n = MIN(n, 0xffffu);
		if (n) {
			err_t e = tcp_write(s->tcp, data + done, (u16_t)n, TCP_WRITE_FLAG_COPY);
			if (e == ERR_OK) {
				done += n;
				continue;
			}
			if (e != ERR_MEM)
				return from_err(e);
		}
		/* The send buffer is full: push it out and wait for the peer's ACKs to free it. */
		tcp_output(s->tcp);
		err = sock_wait(s, &s->tx_waiter, deadline);
		if (err == -ETIMEDOUT && done)
			return (ssize_t)done; /* a timeout reports what was queued */
		if (err)
			return err;
	}
	if (s->tcp)
		tcp_output(s->tcp);
	return (ssize_t)len;
}

int sock_shutdown(struct sock *s)
{
	int err = sock_check(s, SOCK_TCP);
	if (err)
		return err;
	if (s->tx_shut)
		return 0;
	if (s->err)
		return s->err;
	if (!s->tcp)
		return -ENOTCONN;
	/* After the peer's FIN this goes to LAST_ACK; its ACK ends in on_err(ERR_CLSD). */
	err = from_err(tcp_shutdown(s->tcp, 0, 1));
	if (err)
		return err;
	s->tx_shut = true;
	wake(s->tx_waiter); /* a sender of another thread stops with -EPIPE */
	return 0;
}

int sock_peer(struct sock *s, ip4_t *addr, uint16_t *port)
{
	int err = sock_check(s, SOCK_TCP);
	if (err)
		return err;
	if (!s->connected)
		return -ENOTCONN;
	if (addr)
		*addr = s->peer_addr;
	if (port)
		*port = s->peer_port;
	return 0;
}

/* ---- UDP ------------------------------------------------------------------------------------ */

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                        u16_t port)
{
	struct sock *s = arg;
	(void)pcb;
	if (!s || s->dgrams.len == UDP_QUEUE) {
		pbuf_free(p); /* no room: UDP may lose datagrams, the sender is not slowed down */
		stats.rx_dropped++;
		return;
	}
	/* A heap copy: the pool buffer goes back at once, whatever the reader does. */
	uint8_t *data = kmalloc(p->tot_len ? p->tot_len : 1);
	if (!data) {
		pbuf_free(p);
		stats.rx_dropped++;
		return;
	}
	struct udp_dgram *d = &s->dgrams.q[(s->dgrams.head + s->dgrams.len++) % UDP_QUEUE];
	d->len = (uint16_t)pbuf_copy_partial(p, data, p->tot_len, 0);
	d->data = data;
	pbuf_free(p);
	d->addr = ip4_addr_get_u32(ip_2_ip4(addr));
	d->port = port;
	wake(s->rx_waiter);
}

int sock_udp_bind(ip4_t addr, uint16_t port, struct sock **out)
{
	ip_addr_t ip = to_ip(addr);
	if (!out || !thread_self())
		return -EINVAL;
	*out = NULL;
	struct sock *s = sock_new(SOCK_UDP);
	if (!s)
		return -ENOMEM;
	s->udp = udp_new();
	if (!s->udp) {
		kfree(s);
		return -ENOMEM;
	}
	/* Port 0: the port is chosen at the first sendto (see the top of the file). */
	int err = port ? from_err(udp_bind(s->udp, &ip, port)) : 0;
	ip_addr_copy(s->udp->local_ip, ip);
	if (err) {
		udp_remove(s->udp);
		kfree(s);
		return err;
	}
	udp_recv(s->udp, on_udp_recv, s);
	*out = s;
	return 0;
}

ssize_t sock_sendto(struct sock *s, const void *buf, size_t len, ip4_t addr, uint16_t port)
{
	int err = sock_check(s, SOCK_UDP);
	if (err || (!buf && len))
		return err ? err : -EINVAL;
	if (len > UDP_MAX)
		return -EMSGSIZE;
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
	if (!p)
		return -ENOMEM;
	pbuf_take(p, buf, (u16_t)len);
	ip_addr_t ip = to_ip(addr);
	if (!s->udp->local_port) {
		err = net_bind_steered(s->udp, true, addr, port);
		if (err) {
			pbuf_free(p);
			return err;
		}
	}
	/* lwIP fragments a datagram after building it, and a device that completes checksums
	 * sees one fragment at a time: a datagram too large for one packet gets its checksum
	 * from lwIP (the driver leaves fragments alone). */
	struct netif *nif = ip4_route(ip_2_ip4(&ip));
	u16_t csum = nif ? nif->chksum_flags : 0;
	bool sw_csum = nif && nif->mtu && len + IP_HLEN + UDP_HLEN > nif->mtu &&
	               !(csum & NETIF_CHECKSUM_GEN_UDP);
	if (sw_csum)
		NETIF_SET_CHECKSUM_CTRL(nif, csum | NETIF_CHECKSUM_GEN_UDP);
	err = from_err(udp_sendto(s->udp, p, &ip, port));
	if (sw_csum)
		NETIF_SET_CHECKSUM_CTRL(nif, csum);
	pbuf_free(p);
	return err ? err : (ssize_t)len;
}

ssize_t sock_recvfrom(struct sock *s, void *buf, size_t len, ip4_t *addr, uint16_t *port,
                      uint64_t timeout_ns)
{
	int err = sock_check(s, SOCK_UDP);
	if (err || (!buf && len))
		return err ? err : -EINVAL;
	uint64_t deadline = deadline_after(timeout_ns);
	while (!s->dgrams.len) {
		err = sock_wait(s, &s->rx_waiter, deadline);
		if (err)
			return err;
	}
	struct udp_dgram d = s->dgrams.q[s->dgrams.head];
	s->dgrams.head = (s->dgrams.head + 1) % UDP_QUEUE;
	s->dgrams.len--;
	/* A datagram longer than buf is cut to fit; the rest is lost, as with recvfrom(2). */
	u16_t n = (u16_t)MIN(len, d.len);
	memcpy(buf, d.data, n);
	kfree(d.data);
	if (addr)
		*addr = d.addr;
	if (port)
		*port = d.port;
	return n;
}

/* ---- closing -------------------------------------------------------------------------------- */

int sock_close(struct sock *s)
{
	if (!s || s->core != core_id() || s->closed || !thread_self())
		return -EINVAL;
	switch (s->kind) {
	case SOCK_LISTENER:
		/* Connections nobody accepted are reset: no thread will ever serve them. */
		while (s->acceptq.head) {
			struct sock *c = s->acceptq.head;
			s->acceptq.head = c->accept_next;
			tcp_conn_drop(c, true);
			sock_release(c);
		}
		s->acceptq.tail = NULL;
		s->acceptq.len = 0;
		tcp_arg(s->tcp, NULL);
		tcp_close(s->tcp); /* a listener always closes; its half-open connections die */
		s->tcp = NULL;
		break;
	case SOCK_TCP:
		tcp_conn_drop(s, false);
		break;
	case SOCK_UDP:
		udp_remove(s->udp);
		s->udp = NULL;
		while (s->dgrams.len) {
			kfree(s->dgrams.q[s->dgrams.head].data);
			s->dgrams.head = (s->dgrams.head + 1) % UDP_QUEUE;
			s->dgrams.len--;
		}
		break;
	}
	sock_release(s);
	return 0;
}

/* ---- the interface and the counters --------------------------------------------------------- */

ip4_t net_addr(void)
{
	struct netif *nif = netif_default;
	return nif ? ip4_addr_get_u32(netif_ip4_addr(nif)) : 0;
}

int net_wait_up(uint64_t timeout_ns)
{
	if (!thread_self())
		return -EINVAL;
	uint64_t deadline = deadline_after(timeout_ns);
	while (!net_addr()) {
		uint64_t now = now_ns();
		if (deadline && now >= deadline)
			return -ETIMEDOUT;
		sleep_ns(deadline ? MIN(WAIT_UP_STEP, deadline - now) : WAIT_UP_STEP);
	}
	return 0;
}

void net_stats(struct net_stats *out)
{
	*out = stats;
	/* lwIP counts the frames it drops for a bad checksum; it checks every frame the device
	 * did not vouch for (net/virtio_net.c) */
	out->rx_csum_bad = (uint64_t)lwip_stats.ip.chkerr + lwip_stats.tcp.chkerr +
	                   lwip_stats.udp.chkerr + lwip_stats.icmp.chkerr;
	out->rx_dropped += out->rx_csum_bad;
	out->syn_evicted = net_syn_evicted();
	out->tw_reused = net_tw_reused();
}

void net_count_rx(size_t bytes)
{
	stats.rx_packets++;
	stats.rx_bytes += bytes;
}

void net_count_tx(size_t bytes)
{
	stats.tx_packets++;
	stats.tx_bytes += bytes;
}

void net_count_drop(void)
{
	stats.rx_dropped++;
}

void net_count_tx_drop(void)
{
	stats.tx_dropped++;
}

void net_set_queue(unsigned queue)
{
	stats.queue = queue;
}
