/*
 * epoll_httpd - the Linux reference server for ci/bench-net: what isle's examples/httpd does,
 * written the usual Linux way. One thread per CPU, pinned, each with its own SO_REUSEPORT
 * listener and its own epoll loop (shared nothing, like isle).
 *
 *   epoll_httpd [-t] [-f FILE] [PORT [THREADS]]   (default 80, one thread per online CPU)
 *
 * -f  serve FILE's bytes (read once at start) as the page at /, instead of the built-in page:
 *     the benchmark gives it isle httpd's index.html, so both answer with the same body.
 * -t  tuned, as a Linux engineer would run it (ci/linux-guest/tune does the rest: each queue's
 *     interrupt and XPS on its own CPU):
 *     - a connection is accepted by the thread of the CPU that received it, the CPU whose NIC
 *       queue the device's RSS hash chose, so the packets, the socket and the thread stay on
 *       one CPU, as in isle. The listeners are created in CPU order (listener i is index i of
 *       the reuseport group) and a classic BPF program attached to the group
 *       (SO_ATTACH_REUSEPORT_CBPF) returns the receiving CPU: A = SKF_AD_CPU; return A. (An
 *       index past the last listener falls back to the hash.) SO_INCOMING_CPU on each
 *       listener would steer the same way on this kernel (6.1.x honours it within a reuseport
 *       group since a late-2022 fix); the program says it outright and needs no such fix;
 *     - no syscall that is known to be useless: one recv per readable event (after a short
 *       read the socket is empty, and level-triggered epoll says when it is not), and
 *       epoll_ctl only when the events of interest change (not after every response).
 *     Without -t: the plain SO_REUSEPORT hash, recv until EAGAIN and an epoll_ctl per
 *     response, the server this benchmark used before (kept for comparison).
 *
 * GET or HEAD /       a small HTML page (keep-alive; pipelined requests are answered in order)
 * GET /stats          JSON: {"cores":[{"core":0,"connections":N,"requests":N,"foreign":N},...]}
 *                     (foreign: connections whose packets were last handled by another CPU
 *                     when they were accepted, SO_INCOMING_CPU; 0 when steering works)
 * other paths 404, other methods 405; a malformed request 400; headers over 8 KiB 431; a
 * body over 64 KiB 413 (these three close the connection)
 *
 * Built static (gcc -static -O2 -pthread) by ci/linux-guest/build for the guest's initramfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_THREADS 64
#define IN_SIZE 8192   /* request headers larger than this get 431 */
#define OUT_SIZE 65536 /* pending response bytes per connection */
#define MAX_BODY 65536 /* request bodies larger than this get 413 */
#define MAX_EVENTS 256

static const char default_page[] =
        "<!DOCTYPE html>\n"
        "<html><head><title>isle</title></head>\n"
        "<body><h1>Hello from isle</h1>\n"
        "<p>A shared-nothing multicore unikernel. This page is served by one "
        "of its cores.</p></body></html>\n";

/* Written by its thread only, read by whichever thread answers /stats (relaxed loads: the
   numbers only need to be whole, not current); one cache line each. */
struct stats {
	unsigned long connections, requests;
	unsigned long foreign; /* accepted with SO_INCOMING_CPU != the thread's CPU */
	char pad[64 - 3 * sizeof(unsigned long)];
};

static struct stats stats[MAX_THREADS];
static int listeners[MAX_THREADS]; /* listener i, for thread i on CPU i */
static int nthreads;
static int port = 80;
static int tuned;                       /* -t */
static const char *page = default_page; /* the body of / */
static size_t page_len = sizeof default_page - 1;

struct conn {
	int fd;
	unsigned events; /* the epoll events registered for fd */
	size_t in_len;
	size_t skip; /* body bytes of the current request still to discard */
	size_t out_len, out_off;
	int closing;  /* close once the output is flushed */
	int draining; /* output shut down: discard input until the peer closes */
	size_t drained;
	char in[IN_SIZE];
	char out[OUT_SIZE];
};

static void out_add(struct conn *c, const char *p, size_t n)
{
	if (c->out_len + n > OUT_SIZE) { /* client does not read: give up on it */
		c->closing = 2;
		return;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
}

static void respond(struct conn *c, int status, const char *reason, const char *type,
                    const char *body, size_t blen, int head, int keep)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof hdr,
	                 "HTTP/1.1 %d %s\r\nServer: linux-epoll\r\nContent-Type: %s\r\n"
	                 "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
	                 status, reason, type, blen, keep ? "keep-alive" : "close");
	out_add(c, hdr, (size_t)n);
	if (!head)
		out_add(c, body, blen);
	if (!keep)
		c->closing = 1;
}

static void error(struct conn *c, int status, const char *reason)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%d %s\n", status, reason);
	respond(c, status, reason, "text/plain", body, (size_t)n, 0, 0);
}

static void send_stats(struct conn *c, int head, int keep)
{
	char body[128 * MAX_THREADS + 32];
	size_t n = (size_t)snprintf(body, sizeof body, "{\"cores\":[");
	for (int i = 0; i < nthreads; i++)
		n += (size_t)snprintf(body + n, sizeof body - n,
		                      "%s{\"core\":%d,\"connections\":%lu,\"requests\":%lu,"
		                      "\"foreign\":%lu}",
		                      i ? "," : "", i,
		                      __atomic_load_n(&stats[i].connections, __ATOMIC_RELAXED),
		                      __atomic_load_n(&stats[i].requests, __ATOMIC_RELAXED),
		                      __atomic_load_n(&stats[i].foreign, __ATOMIC_RELAXED));
	n += (size_t)snprintf(body + n, sizeof body - n, "]}\n");
	respond(c, 200, "OK", "application/json", body, n, head, keep);
}

/* The value of header NAME in [h, end), or NULL. */
static const char *header(const char *h, const char *end, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);
	while (h < end) {
		const char *eol = memmem(h, (size_t)(end - h), "\r\n", 2);
		if (!eol)
			eol = end;
		if ((size_t)(eol - h) > nl && h[nl] == ':' && strncasecmp(h, name, nl) == 0) {
			const char *v = h + nl + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			return v;
		}
		h = eol + 2;
	}
	return NULL;
}

/* Handles every complete request in c->in. Returns 0, or -1 to close now. */
static int process(struct conn *c, struct stats *st)
{
	size_t pos = 0;
	while (!c->closing) {
		if (c->skip) {
			size_t n = c->in_len - pos < c->skip ? c->in_len - pos : c->skip;
			pos += n;
			c->skip -= n;
			if (c->skip)
				break;
		}
		char *start = c->in + pos;
		size_t avail = c->in_len - pos;
		char *end = memmem(start, avail, "\r\n\r\n", 4);
		if (!end) {
			if (avail >= IN_SIZE)
				error(c, 431, "Request Header Fields Too Large");
			break;
		}
		size_t hlen = (size_t)(end - start) + 4;
		st->requests++;
		/* Request line: METHOD SP TARGET SP HTTP/1.x */
		char *eol = memmem(start, hlen, "\r\n", 2);
		char *sp1 = memchr(start, ' ', (size_t)(eol - start));
		char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
		if (!sp1 || !sp2 || sp1 == start || sp2 == sp1 + 1 || sp1[1] != '/' ||
		    eol - sp2 - 1 != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
		    (sp2[8] != '0' && sp2[8] != '1')) {
			error(c, 400, "Bad Request");
			break;
		}
		for (char *p = start; p < sp1; p++)
			if (*p < 'A' || *p > 'Z') {
				error(c, 400, "Bad Request");
				goto done;
			}
		/* Header fields: a non-empty name without white space, then a colon. */
		for (char *h = eol + 2; h < end + 2;) {
			char *e = memmem(h, (size_t)(end + 2 - h), "\r\n", 2);
			char *colon = memchr(h, ':', (size_t)(e - h));
			if (!colon || colon == h || memchr(h, ' ', (size_t)(colon - h)) ||
			    memchr(h, '\t', (size_t)(colon - h))) {
				error(c, 400, "Bad Request");
				goto done;
			}
			h = e + 2;
		}
		size_t vlen;
		const char *v = header(eol + 2, end + 2, "Content-Length", &vlen);
		size_t clen = 0;
		if (v) {
			char *e;
			char tmp[24];
			if (vlen == 0 || vlen >= sizeof tmp) {
				error(c, vlen >= sizeof tmp ? 413 : 400,
				      vlen >= sizeof tmp ? "Payload Too Large" : "Bad Request");
				break;
			}
			memcpy(tmp, v, vlen);
			tmp[vlen] = 0;
			unsigned long long x = strtoull(tmp, &e, 10);
			if (*e || tmp[0] == '-') {
				error(c, 400, "Bad Request");
				break;
			}
			if (x > MAX_BODY) {
				error(c, 413, "Payload Too Large");
				break;
			}
			clen = (size_t)x;
		}
		int keep = sp2[8] == '1';
		v = header(eol + 2, end + 2, "Connection", &vlen);
		if (v && vlen == 5 && strncasecmp(v, "close", 5) == 0)
			keep = 0;
		if (v && vlen == 10 && strncasecmp(v, "keep-alive", 10) == 0)
			keep = 1;
		size_t mlen = (size_t)(sp1 - start), tlen = (size_t)(sp2 - sp1 - 1);
		int head = mlen == 4 && memcmp(start, "HEAD", 4) == 0;
		int get = mlen == 3 && memcmp(start, "GET", 3) == 0;
		if (!get && !head) {
			respond(c, 405, "Method Not Allowed", "text/plain",
			        "405 Method Not Allowed\n", 23, 0, keep);
		} else if (tlen == 1 || (tlen == 11 && memcmp(sp1 + 1, "/index.html", 11) == 0)) {
			respond(c, 200, "OK", "text/html", page, page_len, head, keep);
		} else if (tlen == 6 && memcmp(sp1 + 1, "/stats", 6) == 0) {
			send_stats(c, head, keep);
		} else {
			respond(c, 404, "Not Found", "text/plain", "404 Not Found\n", 14, head,
			        keep);
		}
		pos += hlen;
		c->skip = clen;
	}
done:
	memmove(c->in, c->in + pos, c->in_len - pos);
	c->in_len -= pos;
	return c->closing == 2 ? -1 : 0;
}

/* Writes pending output. Returns 1 if all is written, 0 if the socket is full, -1 on error. */
static int flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->out_off += (size_t)n;
	}
	c->out_len = c->out_off = 0;
	return 1;
}

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	struct stats *st = &stats[id];
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(id, &set);
	pthread_setaffinity_np(pthread_self(), sizeof set, &set);

	int ls = listeners[id], one = 1;
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	struct epoll_event evs[MAX_EVENTS];
	for (;;) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		for (int i = 0; i < n; i++) {
			struct conn *c = evs[i].data.ptr;
			if (!c) {
				int fd;
				while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					struct conn *nc = calloc(1, sizeof *nc);
					if (!nc) {
						close(fd);
						continue;
					}
					nc->fd = fd;
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					st->connections++;
					int cpu = -1;
					socklen_t len = sizeof cpu;
					if (getsockopt(fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu,
					               &len) == 0 &&
					    cpu >= 0 && cpu != id)
						st->foreign++;
					nc->events = EPOLLIN | EPOLLRDHUP;
					struct epoll_event e = { .events = nc->events,
						                 .data.ptr = nc };
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				}
				continue;
			}
			int dead = 0;
			if (c->draining) {
				/* Lingering close: closing with unread input would send a reset that
				   can destroy the response before the client reads it. */
				char junk[4096];
				ssize_t r;
				while ((r = recv(c->fd, junk, sizeof junk, 0)) > 0)
					c->drained += (size_t)r;
				if (r == 0 || errno != EAGAIN || c->drained > (1u << 20))
					conn_close(ep, c);
				continue;
			}
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
				for (;;) {
					ssize_t r = recv(c->fd, c->in + c->in_len,
					                 IN_SIZE - c->in_len, 0);
					if (r > 0) {
						size_t asked = IN_SIZE - c->in_len;
						c->in_len += (size_t)r;
						if (process(c, st) < 0) {
							dead = 1;
							break;
						}
						if (c->closing)
							break;
						/* A short read emptied the socket: the next recv would only
						   say EAGAIN, and epoll reports new data anyway. */
						if (tuned && (size_t)r < asked)
							break;
						continue;
					}
					if (r == 0)
						c->closing = 1; /* peer done: flush, then close */
					else if (errno != EAGAIN && errno != EINTR)
						dead = 1;
					break;
				}
			}
			if (!dead) {
				int f = flush(c);
				if (f < 0 || c->closing == 2)
					dead = 1;
				else if (f == 1 && c->closing) {
					shutdown(c->fd, SHUT_WR);
					c->draining = 1;
					c->events = EPOLLIN | EPOLLRDHUP;
					struct epoll_event e = { .events = c->events,
						                 .data.ptr = c };
					epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
				} else {
					unsigned want =
					        EPOLLIN | EPOLLRDHUP | (f == 0 ? EPOLLOUT : 0);
					if (!tuned || want != c->events) {
						struct epoll_event e = { .events = want,
							                 .data.ptr = c };
						epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e);
						c->events = want;
					}
				}
			}
			if (dead)
				conn_close(ep, c);
		}
	}
	return NULL;
}

/* The whole of file path, in a static buffer; exits if it cannot be read. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	static char buf[OUT_SIZE / 2];
	if (!f || (*len = fread(buf, 1, sizeof buf, f)) == 0 || !feof(f)) {
		fprintf(stderr, "epoll_httpd: cannot read %s (at most %zu bytes)\n", path,
		        sizeof buf);
		exit(1);
	}
	fclose(f);
	return buf;
}

/* Listener i joins the port's reuseport group as its i-th member: in CPU order, one at a
   time, before any thread runs. */
static int listener(void)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(ls, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 4096) < 0) {
		perror("epoll_httpd: bind/listen");
		exit(1);
	}
	return ls;
}

/* The group's choice of listener for a new connection: the index of the CPU that received
   its SYN (one program for the whole group, attached through any member). */
static void steer_by_cpu(int ls)
{
	struct sock_filter code[] = {
		{ BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(SKF_AD_OFF + SKF_AD_CPU) },
		{ BPF_RET | BPF_A, 0, 0, 0 },
	};
	struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
	if (setsockopt(ls, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof prog) < 0) {
		perror("epoll_httpd: SO_ATTACH_REUSEPORT_CBPF");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	for (int o; (o = getopt(argc, argv, "tf:")) != -1;) {
		if (o == 't') {
			tuned = 1;
		} else if (o == 'f') {
			page = read_file(optarg, &page_len);
		} else {
			fprintf(stderr, "usage: epoll_httpd [-t] [-f FILE] [PORT [THREADS]]\n");
			return 2;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc > 1)
		port = atoi(argv[1]);
	nthreads = argc > 2 ? atoi(argv[2]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > MAX_THREADS)
		nthreads = MAX_THREADS;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < nthreads; i++)
		listeners[i] = listener();
	if (tuned)
		steer_by_cpu(listeners[0]);
	pthread_t t[MAX_THREADS];
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i);
	printf("epoll_httpd: port %d, %d threads, %s\n", port, nthreads,
	       tuned ? "tuned (listener of the receiving CPU)" : "plain SO_REUSEPORT");
	fflush(stdout);
	for (int i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	return 0;
}
