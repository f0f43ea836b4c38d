/*
 * httpd.h - what the parts of httpd share: limits, the per-core state, and the entry points of
 * conn.c (one connection), site.c (the files, from the file tree) and stats.c (GET /stats).
 *
 * httpd shares nothing between cores. Every core has a listener on the same port, its own
 * connections and its own counters in httpd_cores[core]; only threads and message handlers of
 * that core touch its entry. /stats reads other cores' counters by asking them with messages.
 */
#ifndef HTTPD_HTTPD_H
#define HTTPD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isle/core.h>
#include <isle/net.h>

#define HTTPD_MAX_CORES ISLE_MAX_CORES /* every core isle runs on */
/* Open connections per core; more are answered 503 and closed. Below lwIP's 1024 TCP PCBs per
 * core (net/lwipopts.h), so that a connection past the limit is still accepted and told so,
 * instead of having its SYN dropped because the stack itself is full. */
#define HTTPD_MAX_CONNS 1000
#define HTTPD_STACK (16 * 1024)            /* per connection thread; its buffers are on the heap */
#define HTTPD_IDLE_NS (30 * 1000000000ull) /* a request head must arrive within this */
#define HTTPD_SEND_NS (30 * 1000000000ull) /* a response must be taken within this */
/* When closing (after an error or a last response), what the client still sends is read and
 * dropped this long, so that our answer is not lost to the reset caused by closing with unread
 * data. */
#define HTTPD_LINGER_NS (2 * 1000000000ull)
#define HTTPD_REFUSE_NS (100 * 1000000ull) /* the listener's send of a 503 */

/* Per-core counters (the reader of /stats sums cores). */
struct httpd_counters {
	uint64_t accepted;    /* connections accepted, refused ones included */
	uint64_t refused;     /* connections answered 503 and closed (limit, no memory) */
	uint64_t open;        /* connections open now */
	uint64_t requests;    /* requests answered (errors included) */
	uint64_t errors;      /* requests answered with 4xx/5xx and closed (bad requests) */
	uint64_t timeouts;    /* connections closed because the client was too slow or gone */
	uint64_t bytes_sent;  /* response bytes handed to the TCP/IP stack */
	uint64_t file_errors; /* files that could not be opened or read (500 or a cut response) */
};

/*
 * One core's httpd. Ownership: [o] every field belongs to the core with this index, and only its
 * threads and message handlers touch it ([I] set once by that core before its listener starts).
 * Entries are cache-line aligned so that cores never write the same line.
 */
struct httpd_core {
	struct sock *listener;         /* [I] this core's listening socket */
	struct httpd_counters counter; /* [o] */
} __attribute__((aligned(64)));

extern struct httpd_core httpd_cores[HTTPD_MAX_CORES];

/* The calling core's entry. */
struct httpd_core *httpd_here(void);

/* conn.c: serves one accepted connection until it ends, then closes it and counts it out of
 * counter.open (which the listener counted in). A thread function; arg is the struct sock. */
int conn_thread(void *arg);
/* conn.c: answers 503 and closes s, without blocking for long (the listener's refusal). */
void conn_refuse(struct sock *s);

/* site.c: an open file of the site, owned by the connection thread that opened it. */
struct site_file {
	int fd;           /* open on the calling core */
	uint64_t size;    /* bytes */
	const char *type; /* its Content-Type */
};
/* Sets the document root (a directory). 0, or -errno. Once, before any listener starts. */
int site_init(const char *dir);
/* Opens the file at a normalized request path (a directory means its index.html). 0, or
 * -ENOENT/-ENOTDIR/-ENAMETOOLONG (404), another -errno (500). Thread context, any core. */
int site_open(const char *path, struct site_file *f);
void site_close(struct site_file *f);

/* stats.c: the /stats JSON document, gathered from every core by messages: a heap block the
 * caller kfree()s in *out and its length in *len. 0 or -ENOMEM. Thread context. */
int stats_json(char **out, size_t *len);

#endif
