/*
 * http.c - HTTP/1.1 request parsing and response heads (see http.h for the rules).
 *
 * The parser is a byte-at-a-time state machine over the head. req->pos is the next byte to look
 * at; every byte is looked at exactly once, so feeding a head in pieces costs the same as feeding
 * it whole. Offsets (never pointers) into the buffer are kept between calls, because the caller
 * may move its buffer. A line is acted on when its CRLF arrives: the request line's target is
 * decoded then, a header field is interpreted then. Whether a request may have a body is decided
 * only at the empty line, so the answer does not depend on the order of the fields.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"

enum {
	S_START,    /* before the request line (empty lines are skipped) */
	S_START_CR, /* CR of an empty line before the request line */
	S_METHOD,   /* in the method */
	S_TARGET,   /* in the request target */
	S_VERSION,  /* in "HTTP/d.d" */
	S_RL_CR,    /* CR after the version */
	S_FIELD,    /* at the start of a header line (or the final empty line) */
	S_NAME,     /* in a field name */
	S_VALUE,    /* in a field value */
	S_FIELD_CR, /* CR at the end of a field line */
	S_END_CR,   /* CR of the empty line that ends the head */
	S_DONE,     /* complete: req->consumed is set */
	S_ERROR,    /* failed: req->status is set */
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* tchar of RFC 9110: the characters of a method or field name. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* s[0..n) equals the lower-case word w, ignoring case. */
static bool word_is(const char *s, size_t n, const char *w)
{
	size_t i;
	for (i = 0; i < n; i++) {
		if (w[i] == '\0' || lower((unsigned char)s[i]) != w[i])
			return false;
	}
	return w[i] == '\0';
}

/* Byte k of "HTTP/d.d" may be c. */
static bool version_byte_ok(size_t k, unsigned char c)
{
	if (k < 5)
		return c == (unsigned char)"HTTP/"[k];
	if (k == 6)
		return c == '.';
	return (k == 5 || k == 7) && c >= '0' && c <= '9';
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (unsigned char)lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void http_request_init(struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	req->state = S_START;
}

static long fail(struct http_request *req, int status)
{
	req->state = S_ERROR;
	req->status = status;
	return -status;
}

/*
 * Decodes one path segment in[0..n) into out, which has room for n bytes. Returns its decoded
 * length, or -1 for a bad %XX escape or a decoded byte the path may not hold: NUL and other
 * control characters, and '/' (an encoded slash would smuggle a separator past normalization).
 */
static long decode_segment(const char *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			if (n - i < 3)
				return -1;
			int hi = hexval((unsigned char)in[i + 1]);
			int lo = hexval((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || c == '/')
			return -1;
		out[o++] = (char)c;
	}
	return (long)o;
}

/*
 * Decodes and normalizes the path of the target t[0..n) (visible ASCII, n <= HTTP_MAX_TARGET)
 * into req->path, in the manner of RFC 3986 remove_dot_segments, except that empty segments
 * ("//") are dropped and a ".." that would climb above the root is an error. Returns 0 or 400.
 */
static int decode_target(struct http_request *req, const char *t, size_t n)
{
	size_t i = 0, end;

	if (n >= 7 && word_is(t, 7, "http://"))
		i = 7;
	else if (n >= 8 && word_is(t, 8, "https://"))
		i = 8;
	if (i > 0) {
		/* absolute-form: skip the authority; an empty path is "/" */
		size_t host = i;
		while (i < n && t[i] != '/' && t[i] != '?')
			i++;
		if (i == host)
			return 400;
	} else if (n == 0 || t[0] != '/') {
		return 400; /* asterisk-form and authority-form are not for GET or HEAD */
	}
	if (memchr(t, '#', n) != NULL)
		return 400; /* a fragment is never sent */
	const char *q = memchr(t + i, '?', n - i);
	end = q ? (size_t)(q - t) : n;

	char *out = req->path;
	size_t o = 0;
	if (i == end) {
		/* absolute-form without a path */
		out[o++] = '/';
		out[o] = '\0';
		req->path_len = o;
		return 0;
	}
	i++; /* the path starts with '/' */
	for (;;) {
		size_t j = i;
		while (j < end && t[j] != '/')
			j++;
		bool last = j == end;
		/* the segment goes after a '/' at out[o]; it can only shrink when decoded */
		out[o] = '/';
		long len = decode_segment(t + i, j - i, out + o + 1);
		if (len < 0)
			return 400;
		char *seg = out + o + 1;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			if (o == 0)
				return 400; /* would climb above the root */
			while (out[--o] != '/')
				;
			if (last)
				o++; /* "/a/b/.." is "/a/" */
		} else if ((len == 1 && seg[0] == '.') || len == 0) {
			if (last)
				o++; /* a trailing "/" or "/." keeps the directory's slash */
		} else {
			o += 1 + (size_t)len;
		}
		if (last)
			break;
		i = j + 1;
	}
	out[o] = '\0';
	req->path_len = o;
	return 0;
}

/* Reads a Content-Length value; returns 0 or 400. */
static int field_content_length(struct http_request *req, const char *v, size_t n)
{
	uint64_t x = 0;
	if (n == 0)
		return 400;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 400;
		unsigned d = (unsigned)(v[i] - '0');
		x = x > (UINT64_MAX - d) / 10 ? UINT64_MAX : x * 10 + d;
	}
	if (req->has_length && req->length != x)
		return 400; /* two lengths: which one frames the body? */
	req->has_length = true;
	req->length = x;
	return 0;
}

/*
 * Calls fn on every element of a comma-separated list v[0..n), OWS trimmed, empty elements
 * skipped; the element is cut at ';' (its parameters). Returns the number of elements.
 */
static unsigned for_each_element(struct http_request *req, const char *v, size_t n,
                                 void (*fn)(struct http_request *, const char *, size_t))
{
	unsigned count = 0;
	size_t i = 0;
	while (i < n) {
		size_t s = i, e;
		while (i < n && v[i] != ',')
			i++;
		e = i++;
		const char *semi = memchr(v + s, ';', e - s);
		if (semi)
			e = (size_t)(semi - v);
		while (s < e && is_ows(v[s]))
			s++;
		while (e > s && is_ows(v[e - 1]))
			e--;
		if (e > s) {
			fn(req, v + s, e - s);
			count++;
		}
	}
	return count;
}

static void connection_option(struct http_request *req, const char *w, size_t n)
{
	if (word_is(w, n, "close"))
		req->conn_close = true;
	else if (word_is(w, n, "keep-alive"))
		req->conn_keep = true;
}

static void transfer_coding(struct http_request *req, const char *w, size_t n)
{
	req->te_chunked = word_is(w, n, "chunked");
}

/* Acts on the field line buf[line_start..cr) whose colon is at colon. Returns 0 or 400. */
static int field(struct http_request *req, const char *buf, size_t colon, size_t cr)
{
	const char *name = buf + req->line_start;
	size_t nlen = colon - req->line_start;
	size_t vs = colon + 1, ve = cr;
	while (vs < ve && is_ows(buf[vs]))
		vs++;
	while (ve > vs && is_ows(buf[ve - 1]))
		ve--;
	const char *v = buf + vs;
	size_t vlen = ve - vs;

	if (word_is(name, nlen, "host")) {
		req->nhost++;
	} else if (word_is(name, nlen, "connection")) {
		for_each_element(req, v, vlen, connection_option);
	} else if (word_is(name, nlen, "content-length")) {
		return field_content_length(req, v, vlen);
	} else if (word_is(name, nlen, "transfer-encoding")) {
		req->has_te = true;
		if (for_each_element(req, v, vlen, transfer_coding) == 0)
			return 400;
	}
	return 0;
}

/* The empty line arrived: decides what only the whole head can tell. Returns 0 or a status. */
static int head_complete(struct http_request *req)
{
	if (req->nhost > 1 || (req->version_minor >= 1 && req->nhost == 0))
		return 400;
	if (req->has_te) {
		/* RFC 9112 section 6.1: with Content-Length, in HTTP/1.0, or not ending in chunked,
		 * the body's length cannot be known: 400. Otherwise it is a body we do not take. */
		if (req->has_length || req->version_minor == 0 || !req->te_chunked)
			return 400;
		return 413;
	}
	if (req->has_length && req->length > 0)
		return 413;
	if (req->version_minor >= 1)
		req->keep_alive = !req->conn_close;
	else
		req->keep_alive = req->conn_keep && !req->conn_close;
	return 0;
}

long http_parse(struct http_request *req, const char *buf, size_t len)
{
	size_t stop = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	int status;

	if (req->state == S_DONE)
		return (long)req->consumed;
	if (req->state == S_ERROR)
		return -req->status;

	for (; req->pos < stop; req->pos++) {
		size_t pos = req->pos;
		unsigned char c = (unsigned char)buf[pos];

		switch (req->state) {
		case S_START:
			if (c == '\r') {
				req->state = S_START_CR;
				break;
			}
			/* c is the method's first byte */
			req->line_start = pos;
			req->state = S_METHOD;
			/* fall through */
		case S_METHOD:
			if (c == ' ') {
				const char *m = buf + req->line_start;
				size_t n = pos - req->line_start;
				if (n == 0)
					return fail(req, 400);
				if (n == 3 && memcmp(m, "GET", 3) == 0)
					req->method = HTTP_GET;
				else if (n == 4 && memcmp(m, "HEAD", 4) == 0)
					req->method = HTTP_HEAD;
				else
					return fail(req, 405);
				req->mark = pos + 1;
				req->state = S_TARGET;
			} else if (!is_tchar(c)) {
				return fail(req, 400);
			} else if (pos - req->line_start + 1 > HTTP_MAX_METHOD) {
				return fail(req, 405);
			}
			break;
		case S_START_CR:
			if (c != '\n')
				return fail(req, 400);
			req->state = S_START;
			break;
		case S_TARGET:
			if (c == ' ') {
				status = decode_target(req, buf + req->mark, pos - req->mark);
				if (status)
					return fail(req, status);
				req->line_start = pos + 1; /* the version starts here */
				req->state = S_VERSION;
			} else if (c <= 0x20 || c >= 0x7f) {
				return fail(req, 400);
			} else if (pos - req->mark + 1 > HTTP_MAX_TARGET) {
				return fail(req, 414);
			}
			break;
		case S_VERSION: {
			size_t k = pos - req->line_start;
			if (c == '\r') {
				if (k != 8)
					return fail(req, 400);
				if (buf[req->line_start + 5] != '1')
					return fail(req, 505);
				req->version_minor = buf[req->line_start + 7] == '0' ? 0 : 1;
				req->state = S_RL_CR;
			} else if (!version_byte_ok(k, c)) {
				return fail(req, 400);
			}
			break;
		}
		case S_RL_CR:
			if (c != '\n')
				return fail(req, 400);
			req->state = S_FIELD;
			break;
		case S_FIELD:
			if (c == '\r') {
				req->state = S_END_CR;
			} else if (is_tchar(c)) {
				if (++req->nheaders > HTTP_MAX_HEADERS)
					return fail(req, 431);
				req->line_start = pos;
				req->state = S_NAME;
			} else {
				return fail(req, 400); /* obs-fold, empty name, junk */
			}
			break;
		case S_NAME:
			if (c == ':') {
				req->mark = pos; /* the colon */
				req->state = S_VALUE;
			} else if (!is_tchar(c)) {
				return fail(req, 400);
			}
			break;
		case S_VALUE:
			if (c == '\r')
				req->state = S_FIELD_CR;
			else if ((c < 0x20 && c != '\t') || c == 0x7f)
				return fail(req, 400);
			break;
		case S_FIELD_CR:
			if (c != '\n')
				return fail(req, 400);
			status = field(req, buf, req->mark, pos - 1);
			if (status)
				return fail(req, status);
			req->state = S_FIELD;
			break;
		case S_END_CR:
			if (c != '\n')
				return fail(req, 400);
			status = head_complete(req);
			if (status)
				return fail(req, status);
			req->pos = pos + 1;
			req->consumed = pos + 1;
			req->state = S_DONE;
			return (long)req->consumed;
		}
	}
	if (req->pos >= HTTP_MAX_HEAD)
		return fail(req, 431);
	return 0;
}

const char *http_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Unknown";
}

static const struct {
	const char *ext;  /* lower case, without the dot */
	const char *type; /* its Content-Type */
} content_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "svg", "image/svg+xml" },
	{ "ico", "image/x-icon" },
	{ "wasm", "application/wasm" },
};

const char *http_content_type(const char *path)
{
	const char *seg = strrchr(path, '/');
	seg = seg ? seg + 1 : path;
	const char *dot = strrchr(seg, '.');
	if (dot != NULL && dot != seg) {
		size_t n = strlen(dot + 1);
		for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
			if (word_is(dot + 1, n, content_types[i].ext))
				return content_types[i].type;
		}
	}
	return "application/octet-stream";
}

int http_format_head(char *buf, size_t size, int status, const char *content_type,
                     uint64_t content_length, bool keep_alive)
{
	int n = snprintf(buf, size,
	                 "HTTP/1.1 %d %s\r\n"
	                 "Server: isle\r\n"
	                 "%s%s%s"
	                 "Content-Length: %llu\r\n"
	                 "%s"
	                 "Connection: %s\r\n"
	                 "\r\n",
	                 status, http_status_text(status), content_type ? "Content-Type: " : "",
	                 content_type ? content_type : "", content_type ? "\r\n" : "",
	                 (unsigned long long)content_length,
	                 status == 405 ? "Allow: GET, HEAD\r\n" : "",
	                 keep_alive ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= size)
		return -1;
	return n;
}

int http_format_error(char *buf, size_t size, int status, bool keep_alive, bool head_only)
{
	char body[64];
	int blen = snprintf(body, sizeof(body), "%d %s\n", status, http_status_text(status));
	int hlen = http_format_head(buf, size, status, "text/plain; charset=utf-8", (uint64_t)blen,
	                            keep_alive);
	if (hlen < 0)
		return -1;
	if (head_only)
		return hlen;
	if ((size_t)hlen + (size_t)blen >= size)
		return -1;
	memcpy(buf + hlen, body, (size_t)blen + 1);
	return hlen + blen;
}
