/*
 * resp.h - the Redis protocol (RESP2) for kvstore: an incremental request parser, reply writers
 * into a growing buffer, and a reply scanner for merging answers of several shards.
 *
 * Nothing here calls the kernel: the same file builds into the image and, with -DISLE_HOST, into
 * the host unit test and fuzz target. Memory comes from malloc/realloc/free (kmalloc in the
 * image: the calling core's heap).
 *
 * Requests are parsed as Redis 7 parses them (networking.c), byte for byte where it matters:
 *  - A request that starts with '*' is a multibulk: "*<n>\r\n" then n times "$<len>\r\n<len
 *    bytes>\r\n". Numbers are strict (no sign '+', no leading zero, no space). n <= 0 is an empty
 *    request. As in Redis, the two bytes after a bulk's data are skipped, not checked.
 *  - Anything else is an inline command: one line up to '\n' (a '\r' before it is dropped),
 *    split into words at white space, with "double quotes" (escapes \n \r \t \b \a \xHH and
 *    \<any>) and 'single quotes' (only \' is an escape); a closing quote must be followed by white
 *    space or the end of the line. Words are unescaped in place in the caller's buffer. A NUL
 *    ends the line, as it ends the C string Redis splits. Empty lines are empty requests.
 *  - Errors, each one final (the connection MUST be closed after answering, as Redis does: where
 *    the bad request ends is unknown), with Redis' texts:
 *      "ERR Protocol error: invalid multibulk length"     bad count, or above RESP_MAX_ARGS
 *      "ERR Protocol error: invalid bulk length"          bad or negative length
 *      "ERR Protocol error: expected '$', got 'x'"
 *      "ERR Protocol error: too big mbulk count string"   no CR within RESP_MAX_INLINE bytes
 *      "ERR Protocol error: too big bulk count string"    likewise for a bulk length
 *      "ERR Protocol error: too big inline request"       no LF within RESP_MAX_INLINE bytes
 *      "ERR Protocol error: unbalanced quotes in request"
 *    and two of kvstore's own limits (Redis allows 512 MiB per argument):
 *      "ERR Protocol error: bulk length above the limit of 1048576 bytes"
 *      "ERR Protocol error: request above the limit of 8388608 bytes"
 *    A request's size is its bytes plus 16 bytes (sizeof(struct resp_arg)) per argument, the
 *    argument list the parser builds: the memory a request takes stays within the limit
 *    however small its arguments (a million empty ones do not fit).
 *
 * Replies are built with the resp_add_* writers into a struct resp_buf, which grows as needed.
 * If it cannot grow (no memory, or past RESP_MAX_REPLY) it is marked failed, later writes do
 * nothing, and the owner answers an error instead (see resp_buf.failed).
 */
#ifndef KVSTORE_RESP_H
#define KVSTORE_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RESP_MAX_INLINE (64 * 1024)        /* bytes of an inline line or a length line */
#define RESP_MAX_BULK (1024 * 1024)        /* bytes of one argument (key or value) */
#define RESP_MAX_REQUEST (8 * 1024 * 1024) /* bytes of one request + its argument list */
#define RESP_MAX_ARGS (1024 * 1024)        /* arguments of one request */
#define RESP_MAX_REPLY (64 * 1024 * 1024)  /* bytes of one reply buffer */

/* One argument of a parsed request. */
struct resp_arg {
	const char *p; /* its bytes (in the caller's buffer), not NUL-terminated */
	uint32_t off;  /* where they start, from the start of the request (parser use) */
	uint32_t len;  /* how many */
};

enum {
	RESP_MORE = 0,   /* more bytes are needed */
	RESP_DONE = 1,   /* a request is complete */
	RESP_ERROR = -1, /* a protocol error: answer p->error and close */
	RESP_NOMEM = -2, /* no memory for the argument list */
};

/*
 * One connection's parser. Zero it (or resp_parser_init) once; resp_parser_free at the end.
 * The fields under "result" are valid after RESP_DONE (argc, argv, used) or RESP_ERROR (error).
 */
struct resp_parser {
	/* result */
	size_t argc;           /* arguments; 0 for an empty request (skip it) */
	struct resp_arg *argv; /* argc of them, pointing into the buffer of the last call */
	size_t used;           /* bytes the request took: the next one starts there */
	const char *error;     /* protocol error text, without '-' and CRLF */

	/* parser state */
	int state;       /* where it is (resp.c) */
	size_t pos;      /* bytes of the request already looked at */
	long long nbulk; /* multibulk: arguments still to come */
	long long bulk;  /* multibulk: length of the argument being read, -1 before its header */
	size_t cap;      /* entries argv has room for */
	char errbuf[48]; /* text of "expected '$', got 'x'" */
};

void resp_parser_init(struct resp_parser *p);
void resp_parser_free(struct resp_parser *p);

/*
 * Parses the request at the front of buf[0..len). buf MUST hold the same bytes at the same offsets
 * on every call for one request, with more appended (the buffer itself may move). Inline requests
 * are unescaped in place. Returns RESP_MORE, RESP_DONE, RESP_ERROR or RESP_NOMEM (both final).
 * After RESP_DONE the next call starts a new request: pass the bytes after p->used.
 */
int resp_parse(struct resp_parser *p, char *buf, size_t len);

/* A reply being built. Zero it to start; resp_buf_free at the end (or hand data over). It may
 * start in memory it does not own (borrowed: a small area inside a larger block); it moves to
 * malloc'd memory of its own when that is full. */
struct resp_buf {
	char *data;  /* the bytes (malloc'd unless borrowed), or NULL */
	size_t len;  /* bytes written */
	size_t cap;  /* bytes data has room for */
	bool failed; /* a write did not fit (no memory, or above RESP_MAX_REPLY): data incomplete */
	bool borrowed; /* data is not ours: never realloc'd or freed */
};

void resp_buf_free(struct resp_buf *b);
void resp_buf_reset(struct resp_buf *b); /* len = 0, failed = false; keeps the memory */
/* Makes room for n more bytes; false (and failed set) if it cannot. */
bool resp_reserve(struct resp_buf *b, size_t n);

void resp_add_raw(struct resp_buf *b, const void *p, size_t n);
/* Formatted bytes, as they are (no RESP framing): for building INFO text; at most 511 bytes. */
void resp_add_rawf(struct resp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void resp_add_status(struct resp_buf *b, const char *s); /* +s */
/* -s; a CR or LF inside s becomes a space, as in Redis, so the reply stays one line. */
void resp_add_error(struct resp_buf *b, const char *s);
void resp_add_errorf(struct resp_buf *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void resp_add_int(struct resp_buf *b, long long v);              /* :v */
void resp_add_bulk(struct resp_buf *b, const void *p, size_t n); /* $n p */
void resp_add_cstr(struct resp_buf *b, const char *s);           /* bulk of a C string */
void resp_add_null(struct resp_buf *b);                          /* $-1: nil */
void resp_add_array(struct resp_buf *b, long long n);            /* *n, then n replies */

/* Length of the first complete reply in p[0..n) (an array with all its elements), or -1 if it is
 * incomplete or not RESP2. */
long resp_reply_len(const char *p, size_t n);

/* Redis' string2ll: the whole of s[0..n) as a decimal long long, strictly ("-0", "+1", "01",
 * " 1", "" and overflow are refused). */
bool resp_str2ll(const char *s, size_t n, long long *out);

/* Writes v in decimal into buf (at least 21 bytes); returns the length. */
size_t resp_ll2str(char *buf, long long v);

#endif
