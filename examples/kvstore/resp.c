/*
 * resp.c - RESP2 requests in, replies out (see resp.h for the rules).
 *
 * The multibulk parser keeps its place between calls (p->pos, p->nbulk, p->bulk) and offsets,
 * never pointers, into the caller's buffer, because the buffer may move while a request
 * arrives; pointers are filled in once the request is complete. A bulk's bytes are never looked
 * at, so a 1 MiB value dribbled in costs one look per call at the header only. An inline line
 * is split only once its LF has arrived.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

enum {
	S_START, /* nothing of the request looked at yet */
	S_BULKS, /* in a multibulk: p->nbulk arguments to go */
	S_DONE,  /* complete: the next call starts a new request */
	S_ERROR, /* failed for good */
};

#define INITIAL_ARGS 8
#define MIN_BULK_BYTES 6 /* "$0\r\n\r\n": the least an argument of a multibulk takes */

static const char ERR_MULTIBULK[] = "ERR Protocol error: invalid multibulk length";
static const char ERR_BULK[] = "ERR Protocol error: invalid bulk length";
static const char ERR_BIG_MBULK[] = "ERR Protocol error: too big mbulk count string";
static const char ERR_BIG_BULK[] = "ERR Protocol error: too big bulk count string";
static const char ERR_BIG_INLINE[] = "ERR Protocol error: too big inline request";
static const char ERR_QUOTES[] = "ERR Protocol error: unbalanced quotes in request";
static const char ERR_BULK_LIMIT[] =
        "ERR Protocol error: bulk length above the limit of 1048576 bytes";
static const char ERR_REQUEST_LIMIT[] =
        "ERR Protocol error: request above the limit of 8388608 bytes";

_Static_assert(RESP_MAX_BULK == 1048576, "ERR_BULK_LIMIT names the limit");
_Static_assert(RESP_MAX_REQUEST == 8388608, "ERR_REQUEST_LIMIT names the limit");
_Static_assert(RESP_MAX_REQUEST < UINT32_MAX, "offsets and lengths fit in uint32_t");
_Static_assert(sizeof(struct resp_arg) == 16, "resp.h and docs/kvstore.md count 16 bytes");

void resp_parser_init(struct resp_parser *p)
{
	memset(p, 0, sizeof(*p));
}

void resp_parser_free(struct resp_parser *p)
{
	free(p->argv);
	resp_parser_init(p);
}

bool resp_str2ll(const char *s, size_t n, long long *out)
{
	size_t i = 0;
	bool neg = false;
	unsigned long long v = 0, limit;

	if (n == 0 || n > 20)
		return false;
	if (n == 1 && s[0] == '0') {
		*out = 0;
		return true;
	}
	if (s[0] == '-') {
		neg = true;
		if (++i == n)
			return false;
	}
	/* no leading zero: "0" alone was handled, "-0" and "01" are refused */
	if (s[i] < '1' || s[i] > '9')
		return false;
	limit = neg ? (unsigned long long)INT64_MAX + 1 : (unsigned long long)INT64_MAX;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? (long long)(0 - v) : (long long)v;
	return true;
}

size_t resp_ll2str(char *buf, long long v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[len++] = '-';
	while (n)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

static int fail(struct resp_parser *p, const char *error)
{
	p->state = S_ERROR;
	p->error = error;
	return RESP_ERROR;
}

/*
 * What a request of `bytes` bytes (framing included) with `args` arguments counts against
 * RESP_MAX_REQUEST: its bytes, and the argument list the parser builds for it. (Without the
 * list, "*1048576" and a million empty bulks, 6 MiB, took a 16 MiB list; now the count alone
 * refuses it.)
 */
static size_t request_size(size_t bytes, size_t args)
{
	return bytes + args * sizeof(struct resp_arg);
}

/* Room for one more argument, in a list of at most `most` entries (more than argc). */
static bool grow_args(struct resp_parser *p, size_t most)
{
	if (p->argc < p->cap)
		return true;
	size_t cap = p->cap ? p->cap * 2 : INITIAL_ARGS;
	if (cap > most)
		cap = most;
	struct resp_arg *a = realloc(p->argv, cap * sizeof(*a));
	if (!a)
		return false;
	p->argv = a;
	p->cap = cap;
	return true;
}

/* Adds the argument at off (len bytes) of a request that takes `bytes` bytes up to its end.
 * The argument list never holds more entries than the request declares (a multibulk's count)
 * or than the request's size leaves room for: bytes + list stay within RESP_MAX_REQUEST. */
static int push_arg(struct resp_parser *p, size_t bytes, size_t off, size_t len)
{
	if (request_size(bytes, p->argc + 1) > RESP_MAX_REQUEST)
		return fail(p, ERR_REQUEST_LIMIT);
	size_t most = (RESP_MAX_REQUEST - bytes) / sizeof(struct resp_arg);
	if (p->state == S_BULKS && most > p->argc + (size_t)p->nbulk)
		most = p->argc + (size_t)p->nbulk; /* nbulk counts this one too */
	if (!grow_args(p, most)) {
		p->state = S_ERROR;
		p->error = NULL;
		return RESP_NOMEM;
	}
	p->argv[p->argc].off = (uint32_t)off;
	p->argv[p->argc].len = (uint32_t)len;
	p->argc++;
	return 0;
}

static int done(struct resp_parser *p, const char *buf, size_t used)
{
	for (size_t i = 0; i < p->argc; i++)
		p->argv[i].p = buf + p->argv[i].off;
	p->used = used;
	p->state = S_DONE;
	return RESP_DONE;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return c - 'A' + 10;
}

/* isspace() of the C locale, as sdssplitargs skips between words. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/*
 * Splits line[0..n) into words as Redis' sdssplitargs does, unescaping in place (a word is
 * never longer than its source, so the write position never passes the read position); the
 * request takes `bytes` bytes, its line end included. RESP_DONE, RESP_ERROR (unbalanced quotes,
 * or too many words for the request limit) or RESP_NOMEM.
 */
static int split_inline(struct resp_parser *p, char *buf, size_t n, size_t bytes)
{
	size_t r = 0, w = 0;
	/* a NUL ends the line, as it ends the C string sdssplitargs walks */
	char *nul = memchr(buf, '\0', n);
	if (nul)
		n = (size_t)(nul - buf);

	for (;;) {
		while (r < n && is_space(buf[r]))
			r++;
		if (r == n)
			return RESP_DONE;
		bool inq = false, insq = false;
		size_t start = w;
		for (bool word_done = false; !word_done;) {
			char c = r < n ? buf[r] : '\0';
			if (inq) {
				if (c == '\\' && r + 3 < n && buf[r + 1] == 'x' &&
				    is_hex(buf[r + 2]) && is_hex(buf[r + 3])) {
					buf[w++] = (char)(hex_val(buf[r + 2]) * 16 +
					                  hex_val(buf[r + 3]));
					r += 3;
				} else if (c == '\\' && r + 1 < n) {
					char e = buf[++r];
					switch (e) {
					case 'n':
						e = '\n';
						break;
					case 'r':
						e = '\r';
						break;
					case 't':
						e = '\t';
						break;
					case 'b':
						e = '\b';
						break;
					case 'a':
						e = '\a';
						break;
					}
					buf[w++] = e;
				} else if (c == '"') {
					/* the closing quote must be followed by a space or the end */
					if (r + 1 < n && !is_space(buf[r + 1]))
						return fail(p, ERR_QUOTES);
					word_done = true;
				} else if (r >= n) {
					return fail(p, ERR_QUOTES);
				} else {
					buf[w++] = c;
				}
			} else if (insq) {
				if (c == '\\' && r + 1 < n && buf[r + 1] == '\'') {
					r++;
					buf[w++] = '\'';
				} else if (c == '\'') {
					if (r + 1 < n && !is_space(buf[r + 1]))
						return fail(p, ERR_QUOTES);
					word_done = true;
				} else if (r >= n) {
					return fail(p, ERR_QUOTES);
				} else {
					buf[w++] = c;
				}
			} else {
				switch (c) {
				case ' ':
				case '\n':
				case '\r':
				case '\t':
				case '\0':
					word_done = true;
					break;
				case '"':
					inq = true;
					break;
				case '\'':
					insq = true;
					break;
				default:
					buf[w++] = c;
					break;
				}
			}
			if (r < n)
				r++;
		}
		int err = push_arg(p, bytes, start, w - start);
		if (err < 0)
			return err;
	}
}

static int parse_inline(struct resp_parser *p, char *buf, size_t len)
{
	char *nl = memchr(buf, '\n', len);
	if (!nl) {
		if (len > RESP_MAX_INLINE)
			return fail(p, ERR_BIG_INLINE);
		return RESP_MORE;
	}
	size_t line = (size_t)(nl - buf);
	size_t used = line + 1;
	if (line > 0 && buf[line - 1] == '\r')
		line--;
	p->nbulk = 0;
	int r = split_inline(p, buf, line, used);
	if (r != RESP_DONE)
		return r;
	return done(p, buf, used);
}

/*
 * Reads the number of a "*<n>\r\n" or "$<n>\r\n" line starting at buf[at]. 1 with *v set and
 * *next after the line; 0 if the line is not complete; -1 if there is no CR within
 * RESP_MAX_INLINE bytes. The number itself is checked by the caller.
 */
static int length_line(const char *buf, size_t len, size_t at, bool *ok, long long *v, size_t *next)
{
	const char *cr = memchr(buf + at, '\r', len - at);
	if (!cr)
		return len - at > RESP_MAX_INLINE ? -1 : 0;
	size_t crpos = (size_t)(cr - buf);
	/* Redis wants the byte after the CR to be there, and skips it without looking */
	if (crpos + 1 >= len)
		return 0;
	*ok = resp_str2ll(buf + at + 1, crpos - at - 1, v);
	*next = crpos + 2;
	return 1;
}

int resp_parse(struct resp_parser *p, char *buf, size_t len)
{
	bool ok;
	long long v;
	size_t next;
	int r;

	if (p->state == S_ERROR)
		return p->error ? RESP_ERROR : RESP_NOMEM;
	if (p->state == S_DONE) {
		/* a new request: keep a small argument array for the next one */
		if (p->cap > 1024) {
			free(p->argv);
			p->argv = NULL;
			p->cap = 0;
		}
		p->state = S_START;
	}
	if (p->state == S_START) {
		p->argc = 0;
		p->used = 0;
		p->pos = 0;
		p->error = NULL;
		if (len == 0)
			return RESP_MORE;
		if (buf[0] != '*')
			return parse_inline(p, buf, len);
		r = length_line(buf, len, 0, &ok, &v, &next);
		if (r < 0)
			return fail(p, ERR_BIG_MBULK);
		if (r == 0)
			return RESP_MORE;
		if (!ok || v > RESP_MAX_ARGS)
			return fail(p, ERR_MULTIBULK);
		if (v <= 0)
			return done(p, buf, next);
		/* refused at once if even v empty arguments would not fit */
		if (request_size(next + (size_t)v * MIN_BULK_BYTES, (size_t)v) > RESP_MAX_REQUEST)
			return fail(p, ERR_REQUEST_LIMIT);
		p->nbulk = v;
		p->bulk = -1;
		p->pos = next;
		p->state = S_BULKS;
	}
	while (p->nbulk > 0) {
		if (p->bulk < 0) {
			if (p->pos >= len)
				return RESP_MORE;
			r = length_line(buf, len, p->pos, &ok, &v, &next);
			if (r < 0)
				return fail(p, ERR_BIG_BULK);
			if (r == 0)
				return RESP_MORE;
			if (buf[p->pos] != '$') {
				snprintf(p->errbuf, sizeof(p->errbuf),
				         "ERR Protocol error: expected '$', got '%c'", buf[p->pos]);
				return fail(p, p->errbuf);
			}
			if (!ok || v < 0)
				return fail(p, ERR_BULK);
			if (v > RESP_MAX_BULK)
				return fail(p, ERR_BULK_LIMIT);
			if (request_size(next + (size_t)v + 2, p->argc + 1) > RESP_MAX_REQUEST)
				return fail(p, ERR_REQUEST_LIMIT);
			p->bulk = v;
			p->pos = next;
		}
		if (len - p->pos < (size_t)p->bulk + 2)
			return RESP_MORE;
		r = push_arg(p, p->pos + (size_t)p->bulk + 2, p->pos, (size_t)p->bulk);
		if (r < 0)
			return r;
		p->pos += (size_t)p->bulk + 2;
		p->bulk = -1;
		p->nbulk--;
	}
	return done(p, buf, p->pos);
}

/* ---- replies ----------------------------------------------------------------------------- */

void resp_buf_free(struct resp_buf *b)
{
	if (!b->borrowed)
		free(b->data);
	memset(b, 0, sizeof(*b));
}

void resp_buf_reset(struct resp_buf *b)
{
	b->len = 0;
	b->failed = false;
}

bool resp_reserve(struct resp_buf *b, size_t n)
{
	if (b->failed)
		return false;
	if (n <= b->cap - b->len)
		return true;
	if (n > RESP_MAX_REPLY - b->len) {
		b->failed = true;
		return false;
	}
	size_t cap = b->cap ? b->cap : 64;
	while (cap - b->len < n)
		cap *= 2;
	if (cap > RESP_MAX_REPLY)
		cap = RESP_MAX_REPLY;
	char *d = b->borrowed ? malloc(cap) : realloc(b->data, cap);
	if (!d) {
		b->failed = true;
		return false;
	}
	if (b->borrowed && b->len)
		memcpy(d, b->data, b->len);
	b->data = d;
	b->cap = cap;
	b->borrowed = false;
	return true;
}

void resp_add_raw(struct resp_buf *b, const void *p, size_t n)
{
	if (!resp_reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* A prefix character, a number and CRLF: ":12\r\n", "*3\r\n", "$5\r\n". */
static void add_prefixed(struct resp_buf *b, char prefix, long long v)
{
	char tmp[32];
	tmp[0] = prefix;
	size_t n = 1 + resp_ll2str(tmp + 1, v);
	tmp[n++] = '\r';
	tmp[n++] = '\n';
	resp_add_raw(b, tmp, n);
}

void resp_add_status(struct resp_buf *b, const char *s)
{
	size_t n = strlen(s);
	if (!resp_reserve(b, n + 3))
		return;
	b->data[b->len++] = '+';
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len++] = '\r';
	b->data[b->len++] = '\n';
}

void resp_add_error(struct resp_buf *b, const char *s)
{
	size_t n = strlen(s);
	if (!resp_reserve(b, n + 3))
		return;
	b->data[b->len++] = '-';
	for (size_t i = 0; i < n; i++)
		b->data[b->len++] = s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];
	b->data[b->len++] = '\r';
	b->data[b->len++] = '\n';
}

void resp_add_errorf(struct resp_buf *b, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	resp_add_error(b, text);
}

void resp_add_rawf(struct resp_buf *b, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	resp_add_raw(b, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
}

void resp_add_int(struct resp_buf *b, long long v)
{
	add_prefixed(b, ':', v);
}

void resp_add_bulk(struct resp_buf *b, const void *p, size_t n)
{
	if (!resp_reserve(b, n + 32))
		return;
	add_prefixed(b, '$', (long long)n);
	resp_add_raw(b, p, n);
	resp_add_raw(b, "\r\n", 2);
}

void resp_add_cstr(struct resp_buf *b, const char *s)
{
	resp_add_bulk(b, s, strlen(s));
}

void resp_add_null(struct resp_buf *b)
{
	resp_add_raw(b, "$-1\r\n", 5);
}

void resp_add_array(struct resp_buf *b, long long n)
{
	add_prefixed(b, '*', n);
}

/* ---- scanning replies -------------------------------------------------------------------- */

#define MAX_DEPTH 8

static long reply_len(const char *p, size_t n, int depth)
{
	if (n < 3 || depth > MAX_DEPTH)
		return -1;
	const char *cr = memchr(p, '\r', n);
	if (!cr || (size_t)(cr - p) + 1 >= n || cr[1] != '\n')
		return -1;
	size_t line = (size_t)(cr - p) + 2;
	long long v;
	switch (p[0]) {
	case '+':
	case '-':
		return (long)line;
	case ':':
		return resp_str2ll(p + 1, line - 3, &v) ? (long)line : -1;
	case '$':
		if (!resp_str2ll(p + 1, line - 3, &v) || v < -1)
			return -1;
		if (v == -1)
			return (long)line;
		if ((unsigned long long)v + 2 > n - line || p[line + v] != '\r' ||
		    p[line + v + 1] != '\n')
			return -1;
		return (long)(line + (size_t)v + 2);
	case '*':
		if (!resp_str2ll(p + 1, line - 3, &v) || v < -1)
			return -1;
		for (long long i = 0; i < v; i++) {
			long e = reply_len(p + line, n - line, depth + 1);
			if (e < 0)
				return -1;
			line += (size_t)e;
		}
		return (long)line;
	default:
		return -1;
	}
}

long resp_reply_len(const char *p, size_t n)
{
	return reply_len(p, n, 0);
}
