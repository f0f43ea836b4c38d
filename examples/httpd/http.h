/*
 * http.h - a pure HTTP/1.1 request parser and response helpers for httpd.
 *
 * Nothing here calls the kernel: the same file builds into the image and, with -DISLE_HOST, into
 * the host unit test and fuzz target.
 *
 * The parser reads one request head (request line, header fields, empty line) from the front of
 * a buffer and stops right after it, so pipelined requests are parsed one after another by
 * calling it again on what follows. It is incremental: the caller appends bytes as they arrive
 * and calls again; every byte is looked at once, so a head dribbled in one byte at a time costs
 * no more than one that arrives whole. It is strict, because everything it lets through becomes
 * the server's problem:
 *  - Lines end in CRLF; a bare CR or LF is an error. Empty lines before the request line are
 *    skipped (RFC 9112 section 2.2) and count towards the head limit.
 *  - Request line: exactly "METHOD SP target SP HTTP/d.d". Only GET and HEAD are served (405);
 *    major version other than 1 is 505; HTTP/1.x with x > 1 is served as HTTP/1.1.
 *  - target: origin-form "/path?query" or absolute-form "http://host/path?query" (the host part
 *    is ignored); visible ASCII only. The path is %-decoded and normalized into req->path; the
 *    query is ignored.
 *  - Header fields: token ":" OWS value OWS; no obs-fold, no white space before the colon, no
 *    control characters. HTTP/1.1 needs exactly one Host field.
 *  - No request bodies: Content-Length > 0, or Transfer-Encoding ending in chunked, is 413;
 *    a malformed or contradicting Content-Length, Transfer-Encoding with Content-Length, in
 *    HTTP/1.0, or not ending in chunked (RFC 9112 section 6.1) is 400.
 *  - Limits: the head (from the first byte, including skipped empty lines and the final empty
 *    line) at most HTTP_MAX_HEAD bytes (431), at most HTTP_MAX_HEADERS fields (431), the target
 *    at most HTTP_MAX_TARGET bytes (414). Limits are checked as bytes arrive, so an endless line
 *    is refused at the limit, not at the end of input.
 * After any error the server MUST close the connection: the parser does not know where the bad
 * request ends, so nothing after it can be trusted.
 */
#ifndef HTTPD_HTTP_H
#define HTTPD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD 8192   /* bytes of one request head, final CRLF CRLF included */
#define HTTP_MAX_HEADERS 100 /* header fields in one request */
#define HTTP_MAX_TARGET 2048 /* bytes of the request target as sent */
#define HTTP_MAX_METHOD 16   /* a longer method is not one we serve (405) */

enum http_method {
	HTTP_GET = 1,
	HTTP_HEAD,
};

/*
 * One request being parsed. Set up with http_request_init() before its first byte; the fields
 * under "result" are valid once http_parse() returned > 0. The rest is the parser's state.
 */
struct http_request {
	/* result */
	enum http_method method;        /* HTTP_GET or HTTP_HEAD */
	unsigned version_minor;         /* 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x) */
	bool keep_alive;                /* the connection stays open after the response */
	unsigned nheaders;              /* header fields seen */
	size_t path_len;                /* strlen(path) */
	char path[HTTP_MAX_TARGET + 1]; /* decoded, normalized: starts with '/', no "." or ".."
	                                   segments, no "//", no NUL or control characters */

	/* parser state */
	size_t pos;        /* bytes of the buffer already looked at */
	size_t line_start; /* offset of the line being read */
	size_t mark;       /* offset of the request target; in a field line, of its colon */
	int state;         /* where in the head pos is (http.c) */
	int status;        /* the error found (400...), sticky; 0 while none */
	size_t consumed;   /* the head's length, once complete */
	unsigned nhost;    /* Host fields seen */
	bool conn_close;   /* a Connection field said "close" */
	bool conn_keep;    /* a Connection field said "keep-alive" */
	bool has_length;   /* a Content-Length field was seen */
	bool has_te;       /* a Transfer-Encoding field was seen */
	bool te_chunked;   /* the last transfer coding seen is chunked */
	uint64_t length;   /* the Content-Length value (saturated) */
};

/* Makes req ready for a new request. */
void http_request_init(struct http_request *req);

/*
 * Parses the request head at the front of buf[0..len). buf MUST hold the same bytes at the same
 * offsets on every call for one request, with more appended (the buffer itself may move). Returns
 *  > 0  the head is complete, and this many bytes belong to it; the next request starts there
 *       (call http_request_init() first);
 *    0  more bytes are needed;
 *  < 0  minus the status to answer with before closing: -400, -405, -413, -414, -431 or -505.
 * A complete or failed request returns the same value again on later calls.
 */
long http_parse(struct http_request *req, const char *buf, size_t len);

/* "OK", "Not Found"...; "Unknown" for a status without a text here. */
const char *http_status_text(int status);

/* The Content-Type of a file, from the extension of its path's last segment (case-insensitive):
 * html htm css js mjs json txt png jpg jpeg svg ico wasm; application/octet-stream otherwise. */
const char *http_content_type(const char *path);

/*
 * Writes a response head (status line, Server: isle, Content-Type if not NULL, Content-Length,
 * Connection: keep-alive or close, Allow for 405, then the empty line) into buf. Returns its
 * length, or -1 if it does not fit in size bytes (nothing useful is in buf then).
 */
int http_format_head(char *buf, size_t size, int status, const char *content_type,
                     uint64_t content_length, bool keep_alive);

/*
 * Writes a whole error response: the head above with a short text/plain body "<status> <text>\n"
 * (head only when head_only, as for a HEAD request). Returns its length or -1 as above.
 */
int http_format_error(char *buf, size_t size, int status, bool keep_alive, bool head_only);

#endif
