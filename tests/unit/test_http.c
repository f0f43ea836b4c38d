/*
 * test_http.c - host tests of httpd's HTTP/1.1 request parser and response helpers
 * (examples/httpd/http.c).
 *
 * Every request is parsed three ways: whole, one byte at a time (each call in a fresh heap copy of
 * exactly the bytes so far, so ASan catches a read past them and any pointer kept into an old
 * buffer), and split in two at every position. All three must agree on the result and on what
 * the request says. Then each rule of http.h is checked: valid requests, pipelining, every error
 * status, each limit exactly at and one past its bound, keep-alive in HTTP/1.0 and 1.1, path
 * normalization, the Content-Type table and the response heads.
 */
#include <stdint.h>

#include "http.h"
#include "tests/unit/test.h"

static struct http_request req; /* the result of the last parse() */

/* Parses text[0..len) in pieces: cut[] are the lengths handed over, growing, the last == len.
 * Each call sees a fresh heap copy of exactly the bytes so far. Stops at the first non-zero. */
static long parse_pieces(const char *text, size_t len, const size_t *cut, size_t ncut,
                         struct http_request *r)
{
	long ret = 0;
	http_request_init(r);
	for (size_t i = 0; i < ncut && ret == 0; i++) {
		char *copy = malloc(cut[i] ? cut[i] : 1);
		memcpy(copy, text, cut[i]);
		ret = http_parse(r, copy, cut[i]);
		free(copy);
	}
	(void)len;
	return ret;
}

static bool same_result(const struct http_request *a, const struct http_request *b)
{
	return a->method == b->method && a->version_minor == b->version_minor &&
	       a->keep_alive == b->keep_alive && a->nheaders == b->nheaders &&
	       a->path_len == b->path_len && strcmp(a->path, b->path) == 0;
}

/* Parses text[0..len) whole into req, and checks that byte by byte and every two-piece split
 * (every 37th for long inputs) give the same answer. */
static long parse_n(const char *text, size_t len)
{
	static struct http_request other;
	size_t *cut = malloc((len + 1) * sizeof(*cut));
	long whole = parse_pieces(text, len, &len, 1, &req);

	for (size_t i = 0; i < len; i++)
		cut[i] = i + 1;
	long bytewise = parse_pieces(text, len, cut, len, &other);
	CHECK_EQ(bytewise, whole);
	if (whole > 0)
		CHECK(same_result(&req, &other));

	size_t step = len > 600 ? 37 : 1;
	for (size_t at = 0; at <= len; at += step) {
		size_t two[2] = { at, len };
		long split = parse_pieces(text, len, two, 2, &other);
		if (split != whole) {
			fprintf(stderr, "  split at %zu: %ld, whole %ld\n", at, split, whole);
			CHECK_EQ(split, whole);
			break;
		}
		if (whole > 0 && !same_result(&req, &other)) {
			fprintf(stderr, "  split at %zu: different request\n", at);
			CHECK(0);
			break;
		}
	}
	free(cut);
	return whole;
}

static long parse(const char *text)
{
	return parse_n(text, strlen(text));
}

#define HOST "Host: example.com\r\n"

/* The status parse(text) fails with; 0 if it does not fail. */
static int status_of(const char *text)
{
	long r = parse(text);
	if (r < 0)
		return (int)-r;
	return 0;
}

/* parse("GET <target> HTTP/1.1\r\nHost\r\n\r\n") and return the path, or "<status>". */
static const char *path_of(const char *target)
{
	static char text[4096], err[16];
	snprintf(text, sizeof(text), "GET %s HTTP/1.1\r\n" HOST "\r\n", target);
	long r = parse(text);
	if (r < 0) {
		snprintf(err, sizeof(err), "<%ld>", -r);
		return err;
	}
	if (r == 0)
		return "<more>";
	CHECK_EQ(strlen(req.path), req.path_len);
	return req.path;
}

TEST(simple_get)
{
	const char *t = "GET / HTTP/1.1\r\n" HOST "\r\n";
	CHECK_EQ(parse(t), strlen(t));
	CHECK_EQ(req.method, HTTP_GET);
	CHECK_EQ(req.version_minor, 1);
	CHECK(req.keep_alive);
	CHECK_STR(req.path, "/");
	CHECK_EQ(req.path_len, 1);
	CHECK_EQ(req.nheaders, 1);
}

TEST(simple_head_with_fields)
{
	const char *t = "HEAD /style.css?v=3 HTTP/1.1\r\n" HOST "User-Agent: curl/8.0\r\n"
	                "Accept: */*\r\nX-Empty:\r\nX-Spaces: \t a b \t\r\n"
	                "X-Obs-Text: \x80\xff\r\n\r\n";
	CHECK_EQ(parse(t), strlen(t));
	CHECK_EQ(req.method, HTTP_HEAD);
	CHECK_STR(req.path, "/style.css");
	CHECK_EQ(req.nheaders, 6);
	CHECK(req.keep_alive);
}

TEST(trailing_bytes_not_consumed)
{
	const char *head = "GET /a HTTP/1.1\r\n" HOST "\r\n";
	char t[256];
	snprintf(t, sizeof(t), "%sGARBAGE", head);
	CHECK_EQ(parse(t), strlen(head));
	CHECK_STR(req.path, "/a");
}

TEST(need_more)
{
	CHECK_EQ(parse(""), 0);
	CHECK_EQ(parse("G"), 0);
	CHECK_EQ(parse("GET / HTTP/1.1"), 0);
	CHECK_EQ(parse("GET / HTTP/1.1\r"), 0);
	CHECK_EQ(parse("GET / HTTP/1.1\r\n"), 0);
	CHECK_EQ(parse("GET / HTTP/1.1\r\n" HOST), 0);
	CHECK_EQ(parse("GET / HTTP/1.1\r\n" HOST "\r"), 0);
	CHECK_EQ(parse("\r\n\r\n"), 0);
}

TEST(leading_empty_lines_skipped)
{
	const char *t = "\r\n\r\nGET /x HTTP/1.1\r\n" HOST "\r\n";
	CHECK_EQ(parse(t), strlen(t));
	CHECK_STR(req.path, "/x");
}

TEST(sticky_results)
{
	const char *t = "GET / HTTP/1.1\r\n" HOST "\r\nGET /b HTTP/1.1\r\n";
	http_request_init(&req);
	long n = http_parse(&req, t, strlen(t));
	CHECK(n > 0);
	CHECK_EQ(http_parse(&req, t, strlen(t)), n);
	CHECK_EQ(http_parse(&req, t, 3), n);

	const char *bad = "BREW / HTTP/1.1\r\n";
	http_request_init(&req);
	CHECK_EQ(http_parse(&req, bad, strlen(bad)), -405);
	CHECK_EQ(http_parse(&req, bad, strlen(bad)), -405);
}

TEST(pipelined)
{
	const char *t = "GET /1 HTTP/1.1\r\n" HOST "\r\n"
	                "HEAD /2 HTTP/1.1\r\n" HOST "\r\n"
	                "GET /3 HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n"
	                "GET /4 HTTP/1.1\r\n";
	const char *expect[] = { "/1", "/2", "/3" };
	size_t len = strlen(t), off = 0;
	for (int i = 0; i < 3; i++) {
		long n = parse_n(t + off, len - off);
		REQUIRE(n > 0);
		CHECK_STR(req.path, expect[i]);
		CHECK_EQ(req.method, i == 1 ? HTTP_HEAD : HTTP_GET);
		CHECK_EQ(req.keep_alive, i < 2);
		off += (size_t)n;
	}
	CHECK_EQ(parse_n(t + off, len - off), 0); /* the fourth is incomplete */
	CHECK_STR(t + off, "GET /4 HTTP/1.1\r\n");
}

TEST(pipelined_after_buffer_moves)
{
	/* the caller compacts its buffer: the second request continues at a new address */
	char buf[256];
	const char *first = "GET /1 HTTP/1.1\r\n" HOST "\r\n";
	const char *second = "GET /2 HTTP/1.1\r\n" HOST "\r\n";
	snprintf(buf, sizeof(buf), "%sGET /2 HT", first);
	http_request_init(&req);
	long n = http_parse(&req, buf, strlen(buf));
	REQUIRE(n == (long)strlen(first));
	memmove(buf, buf + n, strlen(buf + n) + 1);
	http_request_init(&req);
	CHECK_EQ(http_parse(&req, buf, strlen(buf)), 0);
	strcpy(buf, second);
	CHECK_EQ(http_parse(&req, buf, strlen(buf)), strlen(second));
	CHECK_STR(req.path, "/2");
}

TEST(keep_alive_rules)
{
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "\r\n") > 0 && req.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Connection: close\r\n\r\n") > 0 && !req.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "connection: CLOSE\r\n\r\n") > 0 && !req.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Connection: keep-alive\r\n\r\n") > 0 &&
	      req.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Connection: Upgrade, close\r\n\r\n") > 0 &&
	      !req.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Connection: upgrade\r\nConnection: close\r\n\r\n") >
	              0 &&
	      !req.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Connection: closed\r\n\r\n") > 0 && req.keep_alive);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "X-Connection: close\r\n\r\n") > 0 && req.keep_alive);

	CHECK(parse("GET / HTTP/1.0\r\n\r\n") > 0 && !req.keep_alive);
	CHECK_EQ(req.version_minor, 0);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") > 0 && req.keep_alive);
	CHECK(parse("GET / HTTP/1.0\r\nCONNECTION: Keep-Alive\r\n\r\n") > 0 && req.keep_alive);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: foo , keep-alive ;x\r\n\r\n") > 0 &&
	      req.keep_alive);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n") > 0 &&
	      !req.keep_alive);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: close\r\n\r\n") > 0 && !req.keep_alive);
	CHECK(parse("GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n") > 0 && !req.keep_alive);
	/* HTTP/1.x with x > 1 is served as 1.1 */
	CHECK(parse("GET / HTTP/1.2\r\n" HOST "\r\n") > 0 && req.keep_alive);
	CHECK_EQ(req.version_minor, 1);
	CHECK(parse("GET / HTTP/1.9\r\n" HOST "Connection: close\r\n\r\n") > 0 && !req.keep_alive);
}

TEST(field_names_case_insensitive)
{
	CHECK(parse("GET / HTTP/1.1\r\nhOsT: x\r\n\r\n") > 0);
	CHECK(parse("GET / HTTP/1.1\r\nHOST: x\r\nCONTENT-LENGTH: 0\r\n\r\n") > 0);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n\r\n"), 413);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nTRANSFER-encoding: CHUNKED\r\n\r\n"), 413);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n"), 400);
	/* a name that only starts like one we know is another field */
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Content-Lengthy: 5\r\nHosts: 2\r\n\r\n") > 0);
}

TEST(absolute_form)
{
	CHECK_STR(path_of("http://example.com/a/b?q=1"), "/a/b");
	CHECK_STR(path_of("HTTP://example.com"), "/");
	CHECK_STR(path_of("http://example.com?x"), "/");
	CHECK_STR(path_of("https://h:8080/x/../y"), "/y");
	CHECK_STR(path_of("http:///a"), "<400>");
	CHECK_STR(path_of("http://h/.."), "<400>");
	CHECK_STR(path_of("ftp://h/a"), "<400>");
	CHECK_STR(path_of("http:/h/a"), "<400>");
}

TEST(path_normalization)
{
	CHECK_STR(path_of("/"), "/");
	CHECK_STR(path_of("/index.html"), "/index.html");
	CHECK_STR(path_of("/a/b/../c"), "/a/c");
	CHECK_STR(path_of("/./a"), "/a");
	CHECK_STR(path_of("//a///b"), "/a/b");
	CHECK_STR(path_of("/a/"), "/a/");
	CHECK_STR(path_of("/a/."), "/a/");
	CHECK_STR(path_of("/a/.."), "/");
	CHECK_STR(path_of("/a/b/.."), "/a/");
	CHECK_STR(path_of("/a/b/../"), "/a/");
	CHECK_STR(path_of("/a/./b/./"), "/a/b/");
	CHECK_STR(path_of("/."), "/");
	CHECK_STR(path_of("/a/../b/../c"), "/c");
	CHECK_STR(path_of("/..."), "/...");
	CHECK_STR(path_of("/..a/a.."), "/..a/a..");
	CHECK_STR(path_of("/.hidden"), "/.hidden");
	CHECK_STR(path_of("/a?x=/../../etc"), "/a");
	CHECK_STR(path_of("/?"), "/");
	CHECK_STR(path_of("/a??b"), "/a");
	/* escapes above the root */
	CHECK_STR(path_of("/.."), "<400>");
	CHECK_STR(path_of("/../"), "<400>");
	CHECK_STR(path_of("/../a"), "<400>");
	CHECK_STR(path_of("/a/../.."), "<400>");
	CHECK_STR(path_of("/a/./../../b"), "<400>");
	CHECK_STR(path_of("//.."), "<400>");
	CHECK_STR(path_of("/%2e%2e/x"), "<400>");
	CHECK_STR(path_of("/.%2E"), "<400>");
	CHECK_STR(path_of("/%2E."), "<400>");
	/* not a path */
	CHECK_STR(path_of("index.html"), "<400>");
	CHECK_STR(path_of("*"), "<400>");
	CHECK_STR(path_of("example.com:80"), "<400>");
	CHECK_STR(path_of("/a#frag"), "<400>");
	CHECK_STR(path_of("/a?b#frag"), "<400>");
}

TEST(percent_decoding)
{
	CHECK_STR(path_of("/%41%62c"), "/Abc");
	CHECK_STR(path_of("/a%20b"), "/a b");
	CHECK_STR(path_of("/%7e%7E"), "/~~");
	CHECK_STR(path_of("/%e2%82%ac"), "/\xe2\x82\xac");
	CHECK_STR(path_of("/a/%2e%2e"), "/");
	CHECK_STR(path_of("/a/%2e/b"), "/a/b");
	CHECK_STR(path_of("/a%2E/"), "/a./");
	CHECK_STR(path_of("/%25"), "/%");
	CHECK_STR(path_of("/%2525"), "/%25");
	CHECK_STR(path_of("/%3F"), "/?");
	/* bad escapes */
	CHECK_STR(path_of("/%"), "<400>");
	CHECK_STR(path_of("/%4"), "<400>");
	CHECK_STR(path_of("/%4/"), "<400>");
	CHECK_STR(path_of("/%zz"), "<400>");
	CHECK_STR(path_of("/%g0"), "<400>");
	CHECK_STR(path_of("/a%?b"), "<400>");
	/* bytes a path may not hold */
	CHECK_STR(path_of("/%00"), "<400>");
	CHECK_STR(path_of("/a%00.html"), "<400>");
	CHECK_STR(path_of("/%0a"), "<400>");
	CHECK_STR(path_of("/%0D%0A"), "<400>");
	CHECK_STR(path_of("/%1f"), "<400>");
	CHECK_STR(path_of("/%7f"), "<400>");
	CHECK_STR(path_of("/%2F"), "<400>");
	CHECK_STR(path_of("/..%2f..%2fetc"), "<400>");
	/* the query is not decoded, so junk there is harmless */
	CHECK_STR(path_of("/a?%zz%00"), "/a");
}

TEST(status_400_request_line)
{
	CHECK_EQ(status_of("GET  / HTTP/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET /  HTTP/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1 \r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of(" GET / HTTP/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET\t/ HTTP/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET /\tx HTTP/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / http/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1x\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/11.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1,1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/a.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.a\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTPS/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / \r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET /\r\n\r\n"), 400); /* HTTP/0.9 */
	CHECK_EQ(status_of("GET\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET  HTTP/1.1\r\n" HOST "\r\n"), 400); /* empty target */
	CHECK_EQ(status_of("G(T / HTTP/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET /\x7f HTTP/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET /\x80 HTTP/1.1\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET /\x01 HTTP/1.1\r\n" HOST "\r\n"), 400);
	/* line endings */
	CHECK_EQ(status_of("GET / HTTP/1.1\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\rX" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\r\n"), 400);
	CHECK_EQ(status_of("\n"), 400);
	CHECK_EQ(status_of("\rX"), 400);
	CHECK_EQ(status_of("\r\n\n"), 400);
	/* errors come as soon as the byte that makes them arrives */
	CHECK_EQ(status_of("GET / HTTP/1.1\n"), 400);
	CHECK_EQ(status_of("GE\x01"), 400);
	CHECK_EQ(status_of("GET / HTTP/x"), 400);
	CHECK_EQ(status_of("GET / HTTP/2"), 0); /* 505 is known at the CR */
	CHECK_EQ(status_of("GET / HTTP/1.1x"), 400);
}

TEST(status_400_fields)
{
	CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost a\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST " folded\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "\tfolded\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n : a\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n: a\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\nX(y): a\r\n" HOST "\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "X: a\x01\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "X: a\x7f\r\n\r\n"), 400);
	const char nul[] = "GET / HTTP/1.1\r\n" HOST "X: a\0b\r\n\r\n";
	CHECK_EQ(parse_n(nul, sizeof(nul) - 1), -400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "X: a\nb\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "X: a\rb\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "\r\r"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "X\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "\n"), 400);
	/* Host: exactly one in HTTP/1.1, at most one in HTTP/1.0 */
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
	CHECK(parse("GET / HTTP/1.0\r\nHost: a\r\n\r\n") > 0);
	CHECK(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n") > 0);
}

TEST(status_405)
{
	CHECK_EQ(status_of("POST / HTTP/1.1\r\n" HOST "\r\n"), 405);
	CHECK_EQ(status_of("PUT / HTTP/1.1\r\n" HOST "\r\n"), 405);
	CHECK_EQ(status_of("DELETE / HTTP/1.1\r\n" HOST "\r\n"), 405);
	CHECK_EQ(status_of("OPTIONS * HTTP/1.1\r\n" HOST "\r\n"), 405);
	CHECK_EQ(status_of("get / HTTP/1.1\r\n" HOST "\r\n"), 405);
	CHECK_EQ(status_of("GETS / HTTP/1.1\r\n" HOST "\r\n"), 405);
	CHECK_EQ(status_of("HEA / HTTP/1.1\r\n" HOST "\r\n"), 405);
	/* known at the space, before the rest arrives */
	CHECK_EQ(status_of("POST "), 405);
	/* the longest method allowed, and one more: refused without waiting for a space */
	CHECK_EQ(status_of("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n" HOST "\r\n"), 405);
	CHECK_EQ(status_of("ABCDEFGHIJKLMNOP"), 0);
	CHECK_EQ(status_of("ABCDEFGHIJKLMNOPQ"), 405);
}

TEST(status_413_and_bodies)
{
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Content-Length: 0\r\n\r\n") > 0);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Content-Length: 000\r\n\r\n") > 0);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Content-Length: 0\r\nContent-Length: 0\r\n\r\n") >
	      0);
	CHECK(parse("GET / HTTP/1.1\r\n" HOST "Content-Length:  0 \t\r\n\r\n") > 0);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Content-Length: 1\r\n\r\n"), 413);
	CHECK_EQ(
	        status_of("GET / HTTP/1.1\r\n" HOST "Content-Length: 18446744073709551615\r\n\r\n"),
	        413);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST
	                   "Content-Length: 99999999999999999999999999999\r\n\r\n"),
	         413);
	CHECK_EQ(status_of("GET / HTTP/1.0\r\nContent-Length: 10\r\n\r\n"), 413);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n\r\n"), 413);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip, chunked\r\n\r\n"),
	         413);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n"
	                   "Transfer-Encoding: chunked\r\n\r\n"),
	         413);
	/* bodies are judged on the whole head: the order of the fields does not matter */
	CHECK_EQ(status_of("GET / HTTP/1.1\r\nContent-Length: 5\r\nHost: a\r\nHost: b\r\n\r\n"),
	         400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Content-Length: 5\r\n"
	                   "Transfer-Encoding: chunked\r\n\r\n"),
	         400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked\r\n"
	                   "Content-Length: 5\r\n\r\n"),
	         400);
	/* malformed lengths */
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Content-Length: abc\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Content-Length: -1\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Content-Length: +5\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Content-Length: 1 2\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Content-Length: 0x10\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Content-Length:\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Content-Length: 0, 0\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST
	                   "Content-Length: 0\r\nContent-Length: 1\r\n\r\n"),
	         400);
	/* transfer codings we cannot frame */
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Transfer-Encoding: gzip\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Transfer-Encoding: chunked, gzip\r\n\r\n"),
	         400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Transfer-Encoding:\r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.1\r\n" HOST "Transfer-Encoding: , \r\n\r\n"), 400);
	CHECK_EQ(status_of("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

/* "GET <target of n bytes> HTTP/1.1..." with the target "/aaaa..." */
static char *request_with_target(size_t n, bool complete)
{
	char *t = malloc(n + 64);
	memcpy(t, "GET /", 5);
	memset(t + 5, 'a', n - 1);
	strcpy(t + 4 + n, complete ? " HTTP/1.1\r\n" HOST "\r\n" : "");
	return t;
}

TEST(status_414_at_the_limit)
{
	char *t = request_with_target(HTTP_MAX_TARGET, true);
	CHECK_EQ(parse(t), strlen(t));
	CHECK_EQ(req.path_len, HTTP_MAX_TARGET);
	free(t);
	t = request_with_target(HTTP_MAX_TARGET + 1, true);
	CHECK_EQ(status_of(t), 414);
	free(t);
	/* refused as the byte past the limit arrives, not at the end of the line */
	t = request_with_target(HTTP_MAX_TARGET, false);
	CHECK_EQ(parse(t), 0);
	free(t);
	t = request_with_target(HTTP_MAX_TARGET + 1, false);
	CHECK_EQ(status_of(t), 414);
	free(t);
	/* decoding shrinks the path, but the limit is on the target as sent */
	t = request_with_target(HTTP_MAX_TARGET, true);
	for (size_t i = 5; i + 3 <= HTTP_MAX_TARGET + 4; i += 3)
		memcpy(t + i, "%41", 3);
	CHECK(parse(t) > 0);
	free(t);
}

/* A complete request head of exactly n bytes (n >= 64): padded with an X-Pad field. */
static char *head_of_size(size_t n)
{
	const char *start = "GET / HTTP/1.1\r\n" HOST "X-Pad: ";
	size_t s = strlen(start);
	char *t = malloc(n + 1);
	memcpy(t, start, s);
	memset(t + s, 'p', n - s - 4);
	memcpy(t + n - 4, "\r\n\r\n", 5);
	return t;
}

TEST(status_431_head_size)
{
	char *t = head_of_size(HTTP_MAX_HEAD);
	CHECK_EQ(strlen(t), HTTP_MAX_HEAD);
	CHECK_EQ(parse(t), HTTP_MAX_HEAD);
	free(t);
	t = head_of_size(HTTP_MAX_HEAD + 1);
	CHECK_EQ(status_of(t), 431);
	free(t);
	/* an unfinished head is refused once it fills the limit: a buffer of HTTP_MAX_HEAD bytes
	 * always gets an answer */
	t = head_of_size(HTTP_MAX_HEAD + 1);
	CHECK_EQ(parse_n(t, HTTP_MAX_HEAD - 1), 0);
	CHECK_EQ(parse_n(t, HTTP_MAX_HEAD), -431);
	free(t);
	/* empty lines before the request line count */
	char *u = malloc(HTTP_MAX_HEAD + 3);
	u[0] = '\r';
	u[1] = '\n';
	char *h = head_of_size(HTTP_MAX_HEAD - 2);
	memcpy(u + 2, h, HTTP_MAX_HEAD - 2 + 1);
	CHECK_EQ(parse(u), HTTP_MAX_HEAD);
	free(h);
	h = head_of_size(HTTP_MAX_HEAD - 1);
	memcpy(u + 2, h, HTTP_MAX_HEAD - 1 + 1);
	CHECK_EQ(parse(u), -431);
	free(h);
	free(u);
}

/* A request with n header fields, Host among them. */
static char *request_with_fields(unsigned n)
{
	char *t = malloc(64 + (size_t)n * 16);
	size_t o = (size_t)sprintf(t, "GET / HTTP/1.1\r\n" HOST);
	for (unsigned i = 1; i < n; i++)
		o += (size_t)sprintf(t + o, "X-%u: %u\r\n", i, i);
	strcpy(t + o, "\r\n");
	return t;
}

TEST(status_431_field_count)
{
	char *t = request_with_fields(HTTP_MAX_HEADERS);
	CHECK_EQ(parse(t), strlen(t));
	CHECK_EQ(req.nheaders, HTTP_MAX_HEADERS);
	free(t);
	t = request_with_fields(HTTP_MAX_HEADERS + 1);
	CHECK_EQ(status_of(t), 431);
	free(t);
}

TEST(status_505)
{
	CHECK_EQ(status_of("GET / HTTP/2.0\r\n" HOST "\r\n"), 505);
	CHECK_EQ(status_of("GET / HTTP/0.9\r\n" HOST "\r\n"), 505);
	CHECK_EQ(status_of("GET / HTTP/3.1\r\n" HOST "\r\n"), 505);
	CHECK_EQ(status_of("GET / HTTP/9.9\r\n"), 505);
	/* method errors come first: they are found first */
	CHECK_EQ(status_of("POST / HTTP/2.0\r\n" HOST "\r\n"), 405);
}

TEST(content_types)
{
	CHECK_STR(http_content_type("/index.html"), "text/html; charset=utf-8");
	CHECK_STR(http_content_type("/a/b.htm"), "text/html; charset=utf-8");
	CHECK_STR(http_content_type("/INDEX.HTML"), "text/html; charset=utf-8");
	CHECK_STR(http_content_type("/style.css"), "text/css; charset=utf-8");
	CHECK_STR(http_content_type("/app.js"), "text/javascript; charset=utf-8");
	CHECK_STR(http_content_type("/app.mjs"), "text/javascript; charset=utf-8");
	CHECK_STR(http_content_type("/stats.json"), "application/json");
	CHECK_STR(http_content_type("/64k.txt"), "text/plain; charset=utf-8");
	CHECK_STR(http_content_type("/a.png"), "image/png");
	CHECK_STR(http_content_type("/a.jpg"), "image/jpeg");
	CHECK_STR(http_content_type("/a.JPEG"), "image/jpeg");
	CHECK_STR(http_content_type("/a.svg"), "image/svg+xml");
	CHECK_STR(http_content_type("/favicon.ico"), "image/x-icon");
	CHECK_STR(http_content_type("/m.wasm"), "application/wasm");
	CHECK_STR(http_content_type("/a.tar.gz"), "application/octet-stream");
	CHECK_STR(http_content_type("/noext"), "application/octet-stream");
	CHECK_STR(http_content_type("/"), "application/octet-stream");
	CHECK_STR(http_content_type("/dir.html/file"), "application/octet-stream");
	CHECK_STR(http_content_type("/.html"), "application/octet-stream");
	CHECK_STR(http_content_type("/a."), "application/octet-stream");
	CHECK_STR(http_content_type("/a.htmlx"), "application/octet-stream");
	CHECK_STR(http_content_type("/a.ht"), "application/octet-stream");
	CHECK_STR(http_content_type("x.css"), "text/css; charset=utf-8");
}

TEST(status_texts)
{
	CHECK_STR(http_status_text(200), "OK");
	CHECK_STR(http_status_text(400), "Bad Request");
	CHECK_STR(http_status_text(404), "Not Found");
	CHECK_STR(http_status_text(405), "Method Not Allowed");
	CHECK_STR(http_status_text(413), "Content Too Large");
	CHECK_STR(http_status_text(414), "URI Too Long");
	CHECK_STR(http_status_text(431), "Request Header Fields Too Large");
	CHECK_STR(http_status_text(503), "Service Unavailable");
	CHECK_STR(http_status_text(505), "HTTP Version Not Supported");
	CHECK_STR(http_status_text(299), "Unknown");
}

TEST(format_head)
{
	char buf[512];
	const char *want = "HTTP/1.1 200 OK\r\nServer: isle\r\nContent-Type: text/html\r\n"
	                   "Content-Length: 65536\r\nConnection: keep-alive\r\n\r\n";
	int n = http_format_head(buf, sizeof(buf), 200, "text/html", 65536, true);
	CHECK_EQ(n, strlen(want));
	CHECK_STR(buf, want);

	want = "HTTP/1.1 404 Not Found\r\nServer: isle\r\nContent-Length: 0\r\n"
	       "Connection: close\r\n\r\n";
	n = http_format_head(buf, sizeof(buf), 404, NULL, 0, false);
	CHECK_STR(buf, want);

	n = http_format_head(buf, sizeof(buf), 405, NULL, 0, false);
	CHECK(n > 0 && strstr(buf, "\r\nAllow: GET, HEAD\r\n") != NULL);

	n = http_format_head(buf, sizeof(buf), 200, NULL, UINT64_MAX, true);
	CHECK(n > 0 && strstr(buf, "Content-Length: 18446744073709551615\r\n") != NULL);

	/* exactly enough room (the NUL included), and one byte less */
	int len = http_format_head(buf, sizeof(buf), 200, "text/css", 7, false);
	CHECK_EQ(http_format_head(buf, (size_t)len + 1, 200, "text/css", 7, false), len);
	CHECK_EQ(http_format_head(buf, (size_t)len, 200, "text/css", 7, false), -1);
	CHECK_EQ(http_format_head(buf, 0, 200, "text/css", 7, false), -1);
}

TEST(format_error)
{
	char buf[512];
	const char *want = "HTTP/1.1 404 Not Found\r\nServer: isle\r\n"
	                   "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n"
	                   "Connection: keep-alive\r\n\r\n404 Not Found\n";
	int n = http_format_error(buf, sizeof(buf), 404, true, false);
	CHECK_EQ(n, strlen(want));
	CHECK_STR(buf, want);
	n = http_format_error(buf, sizeof(buf), 404, true, true);
	CHECK_EQ(n, strlen(want) - 14);
	CHECK_EQ(buf[n - 1], '\n');
	CHECK_EQ(buf[n - 2], '\r');

	n = http_format_error(buf, sizeof(buf), 503, false, false);
	CHECK(n > 0 && strstr(buf, "Connection: close\r\n") && strstr(buf, "\r\n\r\n503 "));
	int len = http_format_error(buf, sizeof(buf), 400, false, false);
	CHECK_EQ(http_format_error(buf, (size_t)len + 1, 400, false, false), len);
	CHECK_EQ(http_format_error(buf, (size_t)len, 400, false, false), -1);
	CHECK_EQ(http_format_error(buf, 20, 400, false, false), -1);
}

/* Random heads from an alphabet of HTTP-ish pieces: no crash, and the answer is one of the
 * allowed ones, the same byte by byte. */
TEST(random_heads)
{
	static const char *const pieces[] = {
		"GET",
		"HEAD",
		" ",
		"/",
		"/..",
		"%2e",
		"%",
		"HTTP/1.1",
		"HTTP/1.0",
		"\r\n",
		"\r",
		"\n",
		"Host",
		":",
		"a",
		"Connection",
		"close",
		"keep-alive",
		",",
		"0",
		"1",
		"Content-Length",
		"Transfer-Encoding",
		"chunked",
		"?",
		"\t",
		"\x80",
		"\x00",
		"http://h",
	};
	unsigned seed = 12345;
	char text[512];
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = 0;
		int parts = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 40;
		for (int p = 0; p < parts; p++) {
			seed = seed * 1103515245 + 12345;
			const char *s = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t l = s[0] ? strlen(s) : 1;
			if (n + l > sizeof(text))
				break;
			memcpy(text + n, s, l);
			n += l;
		}
		long r = parse_n(text, n);
		CHECK(r <= (long)n);
		if (r < 0) {
			int st = (int)-r;
			CHECK(st == 400 || st == 405 || st == 413 || st == 414 || st == 431 ||
			      st == 505);
		}
		if (r > 0)
			CHECK(req.path[0] == '/' && strstr(req.path, "/../") == NULL);
		if (test_failed_)
			break;
	}
}

int main(void)
{
	RUN(simple_get);
	RUN(simple_head_with_fields);
	RUN(trailing_bytes_not_consumed);
	RUN(need_more);
	RUN(leading_empty_lines_skipped);
	RUN(sticky_results);
	RUN(pipelined);
	RUN(pipelined_after_buffer_moves);
	RUN(keep_alive_rules);
	RUN(field_names_case_insensitive);
	RUN(absolute_form);
	RUN(path_normalization);
	RUN(percent_decoding);
	RUN(status_400_request_line);
	RUN(status_400_fields);
	RUN(status_405);
	RUN(status_413_and_bodies);
	RUN(status_414_at_the_limit);
	RUN(status_431_head_size);
	RUN(status_431_field_count);
	RUN(status_505);
	RUN(content_types);
	RUN(status_texts);
	RUN(format_head);
	RUN(format_error);
	RUN(random_heads);
	TEST_EXIT();
}
