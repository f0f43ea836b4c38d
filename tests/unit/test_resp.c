/*
 * test_resp.c - host tests of kvstore's RESP2 parser and reply writers
 * (examples/kvstore/resp.c).
 *
 * Every request is parsed whole, one byte at a time (each call in a fresh heap copy of exactly
 * the bytes so far, so ASan catches a read past them and any pointer kept into an old buffer)
 * and split in two at every position; all must agree on the result and the arguments. Expected
 * errors and their texts are Redis 7.0's, checked against redis-server 7.0.15: the multibulk
 * and inline grammars, each limit at and one past its bound, pipelining, then the writers and
 * the reply scanner used to merge shards' answers.
 */
#include <stdint.h>

#include "resp.h"
#include "tests/unit/test.h"

/* The result of parse(): status, arguments (copied out), bytes used, error text. */
struct result {
	int rc;
	size_t argc;
	size_t used;
	char args[16][64];
	size_t lens[16];
	char error[128];
};

static void capture(struct result *r, const struct resp_parser *p, int rc)
{
	memset(r, 0, sizeof(*r));
	r->rc = rc;
	if (rc == RESP_DONE) {
		r->argc = p->argc;
		r->used = p->used;
		for (size_t i = 0; i < p->argc && i < 16; i++) {
			size_t n = p->argv[i].len < 63 ? p->argv[i].len : 63;
			memcpy(r->args[i], p->argv[i].p, n);
			r->lens[i] = p->argv[i].len;
		}
	}
	if (rc == RESP_ERROR)
		snprintf(r->error, sizeof(r->error), "%s", p->error);
}

/* Parses text[0..len) handed over in growing prefixes cut[0..ncut), each in a fresh copy. */
static void parse_pieces(const char *text, const size_t *cut, size_t ncut, struct result *r)
{
	struct resp_parser p;
	int rc = RESP_MORE;
	char *copy = NULL;

	resp_parser_init(&p);
	for (size_t i = 0; i < ncut && rc == RESP_MORE; i++) {
		free(copy);
		copy = malloc(cut[i] ? cut[i] : 1);
		memcpy(copy, text, cut[i]);
		rc = resp_parse(&p, copy, cut[i]);
	}
	capture(r, &p, rc);
	free(copy);
	resp_parser_free(&p);
}

static bool same(const struct result *a, const struct result *b)
{
	if (a->rc != b->rc || a->argc != b->argc || a->used != b->used ||
	    strcmp(a->error, b->error) != 0)
		return false;
	for (size_t i = 0; i < a->argc && i < 16; i++)
		if (a->lens[i] != b->lens[i] || memcmp(a->args[i], b->args[i], 64) != 0)
			return false;
	return true;
}

static struct result res; /* the last parse() */

/* Parses text[0..len) whole into res, and checks byte by byte and every two-piece split. */
static int parse_n(const char *text, size_t len)
{
	static struct result other;
	size_t *cut = calloc(len + 1, sizeof(*cut));

	parse_pieces(text, &len, 1, &res);
	for (size_t i = 0; i < len; i++)
		cut[i] = i + 1;
	parse_pieces(text, cut, len, &other);
	CHECK(same(&res, &other));
	size_t step = len > 300 ? 97 : 1;
	for (size_t at = 0; at <= len; at += step) {
		size_t two[2] = { at, len };
		parse_pieces(text, two, 2, &other);
		if (!same(&res, &other)) {
			fprintf(stderr, "  split at %zu differs\n", at);
			CHECK(same(&res, &other));
			break;
		}
	}
	free(cut);
	return res.rc;
}

static int parse(const char *text)
{
	return parse_n(text, strlen(text));
}

#define CHECK_ARG(i, s)                                          \
	do {                                                     \
		CHECK_EQ(res.lens[i], strlen(s));                \
		CHECK(memcmp(res.args[i], (s), strlen(s)) == 0); \
	} while (0)

TEST(multibulk)
{
	CHECK_EQ(parse("*1\r\n$4\r\nPING\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 1);
	CHECK_ARG(0, "PING");
	CHECK_EQ(res.used, 14);

	CHECK_EQ(parse("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 3);
	CHECK_ARG(0, "SET");
	CHECK_ARG(1, "k");
	CHECK_EQ(res.lens[2], 0);

	/* binary data: CR, LF, NUL inside a bulk */
	CHECK_EQ(parse_n("*2\r\n$4\r\necho\r\n$5\r\na\r\n\0b\r\n", 26), RESP_DONE);
	CHECK_EQ(res.lens[1], 5);
	CHECK(memcmp(res.args[1], "a\r\n\0b", 5) == 0);

	/* as in Redis, the two bytes after a bulk are skipped, not checked */
	CHECK_EQ(parse("*2\r\n$4\r\necho\r\n$3\r\nabcXY"), RESP_DONE);
	CHECK_ARG(1, "abc");
	CHECK_EQ(res.used, 23);

	/* empty requests: *0 and *-1 (nothing to answer) */
	CHECK_EQ(parse("*0\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 0);
	CHECK_EQ(res.used, 4);
	CHECK_EQ(parse("*-1\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 0);

	/* incomplete */
	CHECK_EQ(parse("*2\r\n$3\r\nGET\r\n"), RESP_MORE);
	CHECK_EQ(parse("*1\r\n$3\r\nGET\r"), RESP_MORE);
	CHECK_EQ(parse("*1\r"), RESP_MORE);
	CHECK_EQ(parse("*"), RESP_MORE);
	CHECK_EQ(parse(""), RESP_MORE);
}

TEST(multibulk_errors)
{
	static const struct {
		const char *in, *err;
	} cases[] = {
		{ "*abc\r\n", "ERR Protocol error: invalid multibulk length" },
		{ "*+1\r\n$4\r\nping\r\n", "ERR Protocol error: invalid multibulk length" },
		{ "*01\r\n$4\r\nping\r\n", "ERR Protocol error: invalid multibulk length" },
		{ "*1 \r\n$4\r\nping\r\n", "ERR Protocol error: invalid multibulk length" },
		{ "*1\n$4\r\nping\r\n", "ERR Protocol error: invalid multibulk length" },
		{ "*\r\n", "ERR Protocol error: invalid multibulk length" },
		{ "*3000000000\r\n", "ERR Protocol error: invalid multibulk length" },
		{ "*99999999999999999999\r\n", "ERR Protocol error: invalid multibulk length" },
		{ "*1048577\r\n", "ERR Protocol error: invalid multibulk length" },
		{ "*1\r\nping\r\n", "ERR Protocol error: expected '$', got 'p'" },
		{ "*1\r\n+ping\r\n", "ERR Protocol error: expected '$', got '+'" },
		{ "*2\r\n$4\r\necho\r\n$-1\r\n", "ERR Protocol error: invalid bulk length" },
		{ "*2\r\n$4\r\necho\r\n$x\r\n", "ERR Protocol error: invalid bulk length" },
		{ "*1\r\n$04\r\nping\r\n", "ERR Protocol error: invalid bulk length" },
		{ "*1\r\n$\r\n", "ERR Protocol error: invalid bulk length" },
		{ "*1\r\n$1048577\r\n",
		  "ERR Protocol error: bulk length above the limit of 1048576 bytes" },
		{ "*1\r\n$536870913\r\n",
		  "ERR Protocol error: bulk length above the limit of 1048576 bytes" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].in);
		if (rc != RESP_ERROR || strcmp(res.error, cases[i].err) != 0) {
			fprintf(stderr, "  case %zu: rc %d, error '%s', want '%s'\n", i, rc,
			        res.error, cases[i].err);
			test_failed_++;
		}
	}
	/* the largest count is fine, but a million arguments cannot fit in the request limit */
	CHECK_EQ(parse("*1048576\r\n"), RESP_ERROR);
	CHECK_STR(res.error, "ERR Protocol error: request above the limit of 8388608 bytes");
	CHECK_EQ(parse("*381299\r\n"), RESP_MORE);
	CHECK_EQ(parse("*381300\r\n"), RESP_ERROR);
	/* an error is final */
	struct resp_parser p;
	char bad[] = "*x\r\n*1\r\n$4\r\nping\r\n";
	resp_parser_init(&p);
	CHECK_EQ(resp_parse(&p, bad, strlen(bad)), RESP_ERROR);
	CHECK_EQ(resp_parse(&p, bad + 4, strlen(bad) - 4), RESP_ERROR);
	resp_parser_free(&p);
}

/* A request of `count` bulks of RESP_MAX_BULK - 64 bytes each (malloc'd; its length in *len). */
static char *big_request(size_t count, size_t *len)
{
	size_t per = RESP_MAX_BULK - 64;
	char *req = malloc(32 + count * (per + 32));
	size_t n = (size_t)sprintf(req, "*%zu\r\n", count);
	for (size_t i = 0; i < count; i++) {
		n += (size_t)sprintf(req + n, "$%zu\r\n", per);
		memset(req + n, 'x', per);
		n += per;
		memcpy(req + n, "\r\n", 2);
		n += 2;
	}
	*len = n;
	return req;
}

TEST(limits)
{
	/* a bulk of exactly RESP_MAX_BULK bytes */
	size_t n = RESP_MAX_BULK;
	char *big = malloc(n + 64);
	int h = snprintf(big, 64, "*1\r\n$%zu\r\n", n);
	memset(big + h, 'v', n);
	memcpy(big + h + n, "\r\n", 2);
	struct resp_parser p;
	resp_parser_init(&p);
	CHECK_EQ(resp_parse(&p, big, (size_t)h + n + 2), RESP_DONE);
	CHECK_EQ(p.argv[0].len, n);
	resp_parser_free(&p);
	free(big);

	/* a request of more than RESP_MAX_REQUEST bytes is refused at the bulk that crosses it */
	size_t count = RESP_MAX_REQUEST / RESP_MAX_BULK + 1, len;
	char *req = big_request(count, &len);
	resp_parser_init(&p);
	CHECK_EQ(resp_parse(&p, req, len), RESP_ERROR);
	CHECK_STR(p.error ? p.error : "(none)",
	          "ERR Protocol error: request above the limit of 8388608 bytes");
	resp_parser_free(&p);
	free(req);
	/* one bulk fewer fits */
	req = big_request(count - 1, &len);
	resp_parser_init(&p);
	CHECK_EQ(resp_parse(&p, req, len), RESP_DONE);
	CHECK_EQ(p.argc, count - 1);
	resp_parser_free(&p);
	free(req);

	/* length lines and inline lines: no end within RESP_MAX_INLINE bytes */
	char *line = malloc(RESP_MAX_INLINE + 16);
	memset(line, '1', RESP_MAX_INLINE + 16);
	line[0] = '*';
	resp_parser_init(&p);
	CHECK_EQ(resp_parse(&p, line, RESP_MAX_INLINE), RESP_MORE);
	CHECK_EQ(resp_parse(&p, line, RESP_MAX_INLINE + 1), RESP_ERROR);
	CHECK_STR(p.error, "ERR Protocol error: too big mbulk count string");
	resp_parser_free(&p);
	memcpy(line, "*1\r\n$", 5);
	resp_parser_init(&p);
	CHECK_EQ(resp_parse(&p, line, RESP_MAX_INLINE + 4), RESP_MORE);
	CHECK_EQ(resp_parse(&p, line, RESP_MAX_INLINE + 5), RESP_ERROR);
	CHECK_STR(p.error, "ERR Protocol error: too big bulk count string");
	resp_parser_free(&p);
	memset(line, 'a', RESP_MAX_INLINE + 16);
	resp_parser_init(&p);
	CHECK_EQ(resp_parse(&p, line, RESP_MAX_INLINE), RESP_MORE);
	CHECK_EQ(resp_parse(&p, line, RESP_MAX_INLINE + 1), RESP_ERROR);
	CHECK_STR(p.error, "ERR Protocol error: too big inline request");
	resp_parser_free(&p);
	free(line);
}

TEST(inline_commands)
{
	CHECK_EQ(parse("PING\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 1);
	CHECK_ARG(0, "PING");
	CHECK_EQ(parse("ping\n"), RESP_DONE);
	CHECK_ARG(0, "ping");
	CHECK_EQ(res.used, 5);
	CHECK_EQ(parse("  get   a  \r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 2);
	CHECK_ARG(1, "a");
	/* \r and tabs separate words */
	CHECK_EQ(parse("ping\rxx\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 2);
	CHECK_ARG(1, "xx");
	CHECK_EQ(parse("a\tb\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 2);
	/* empty lines are empty requests */
	CHECK_EQ(parse("\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 0);
	CHECK_EQ(res.used, 2);
	CHECK_EQ(parse("   \n"), RESP_DONE);
	CHECK_EQ(res.argc, 0);
	/* quotes and escapes, as redis-cli's and sdssplitargs' */
	CHECK_EQ(parse("set \"a b\" \"c\\x41\\n\\r\\t\\b\\a\\z\\\\\\\"\"\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 3);
	CHECK_ARG(1, "a b");
	CHECK_ARG(2, "cA\n\r\t\b\az\\\"");
	CHECK_EQ(parse("set 'a' 'it\\'s \"x\" \\n'\r\n"), RESP_DONE);
	CHECK_ARG(1, "a");
	CHECK_ARG(2, "it's \"x\" \\n");
	CHECK_EQ(parse("echo \"\"\r\n"), RESP_DONE);
	CHECK_EQ(res.argc, 2);
	CHECK_EQ(res.lens[1], 0);
	CHECK_EQ(parse("echo ''\r\n"), RESP_DONE);
	CHECK_EQ(res.lens[1], 0);
	/* a quote inside a word starts quoting there */
	CHECK_EQ(parse("echo a\"b c\"d\r\n"), RESP_ERROR);
	CHECK_EQ(parse("echo a\"b c\" d\r\n"), RESP_DONE);
	CHECK_ARG(1, "ab c");
	CHECK_ARG(2, "d");
	/* \x with fewer than two hex digits is an ordinary escape */
	CHECK_EQ(parse("echo \"a\\x4\"\r\n"), RESP_DONE);
	CHECK_ARG(1, "ax4");
	/* a NUL ends the line */
	CHECK_EQ(parse_n("echo a\0b c\r\n", 12), RESP_DONE);
	CHECK_EQ(res.argc, 2);
	CHECK_ARG(1, "a");

	static const char *const unbalanced[] = {
		"get \"a\r\n", "get \"a\"b\r\n", "get 'a\r\n", "get 'a'b\r\n", "echo \"a\\\r\n",
	};
	for (size_t i = 0; i < sizeof(unbalanced) / sizeof(unbalanced[0]); i++) {
		CHECK_EQ(parse(unbalanced[i]), RESP_ERROR);
		CHECK_STR(res.error, "ERR Protocol error: unbalanced quotes in request");
	}
	CHECK_EQ(parse("PING"), RESP_MORE);
	CHECK_EQ(parse("PING\r"), RESP_MORE);
}

/* Several requests in one buffer are parsed one after another, inline and multibulk mixed. */
TEST(pipelining)
{
	char buf[] = "PING\r\n*2\r\n$4\r\necho\r\n$2\r\nhi\r\n\r\n*0\r\nGET k\r\n*1\r\n$4\r\nPI";
	size_t len = strlen(buf), off = 0;
	struct resp_parser p;
	const char *want[] = { "PING", "echo", "", "", "GET" };
	size_t nargs[] = { 1, 2, 0, 0, 2 };

	resp_parser_init(&p);
	for (size_t i = 0; i < 5; i++) {
		int rc = resp_parse(&p, buf + off, len - off);
		CHECK_EQ(rc, RESP_DONE);
		if (rc != RESP_DONE)
			break;
		CHECK_EQ(p.argc, nargs[i]);
		if (p.argc)
			CHECK(p.argv[0].len == strlen(want[i]) &&
			      memcmp(p.argv[0].p, want[i], p.argv[0].len) == 0);
		off += p.used;
	}
	CHECK_EQ(resp_parse(&p, buf + off, len - off), RESP_MORE);
	resp_parser_free(&p);
}

/* Many arguments: the argument array grows (and is given back after a big request). */
TEST(many_args)
{
	size_t n = 5000, len = 0;
	char *req = malloc(n * 16 + 32);
	len += (size_t)sprintf(req, "*%zu\r\n", n);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(req + len, "$%zu\r\nk%zu\r\n",
		                       1 + (size_t)snprintf(NULL, 0, "%zu", i), i);
	struct resp_parser p;
	resp_parser_init(&p);
	CHECK_EQ(resp_parse(&p, req, len), RESP_DONE);
	CHECK_EQ(p.argc, n);
	CHECK(p.argv[4999].len == 5 && memcmp(p.argv[4999].p, "k4999", 5) == 0);
	char small[] = "*1\r\n$1\r\nx\r\n";
	CHECK_EQ(resp_parse(&p, small, strlen(small)), RESP_DONE);
	CHECK_EQ(p.argc, 1);
	CHECK(p.cap <= 1024);
	resp_parser_free(&p);
	free(req);
}

/* "*<n>\r\n" and n empty bulks (malloc'd; its length in *len). */
static char *empty_args(size_t n, size_t *len)
{
	char *req = malloc(32 + n * 6);
	size_t k = (size_t)sprintf(req, "*%zu\r\n", n);
	for (size_t i = 0; i < n; i++, k += 6)
		memcpy(req + k, "$0\r\n\r\n", 6);
	*len = k;
	return req;
}

/* Feeds req[0..len) in pieces of `step` bytes; after each, the request's bytes so far and the
 * parser's argument list must stay within RESP_MAX_REQUEST. Returns the last status. */
static int feed_bounded(struct resp_parser *p, char *req, size_t len, size_t step)
{
	int rc = RESP_MORE;
	for (size_t have = 0; have < len && rc == RESP_MORE;) {
		have = have + step < len ? have + step : len;
		rc = resp_parse(p, req, have);
		size_t list = p->cap * sizeof(struct resp_arg);
		if (have + list > RESP_MAX_REQUEST) {
			fprintf(stderr, "  %zu bytes and a list of %zu entries (%zu bytes)\n", have,
			        p->cap, list);
			test_failed_++;
			return rc;
		}
	}
	return rc;
}

/* req[0..len), fed in pieces of `step` bytes, is refused for the request limit. */
static void check_too_big(char *req, size_t len, size_t step)
{
	struct resp_parser p;
	resp_parser_init(&p);
	CHECK_EQ(feed_bounded(&p, req, len, step), RESP_ERROR);
	CHECK_STR(p.error ? p.error : "(none)",
	          "ERR Protocol error: request above the limit of 8388608 bytes");
	resp_parser_free(&p);
}

/*
 * The hole of issue 10: "*1048576" and a million empty arguments (6 MiB) made a 16 MiB
 * argument list. The list counts against the request limit, 16 bytes an argument: a count
 * that cannot fit is refused at once, and the list never holds more than the request allows.
 */
TEST(argument_list_counts)
{
	size_t len;
	char *req = empty_args(RESP_MAX_ARGS, &len);
	size_t steps[] = { len, 1 << 16, 4093 };
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		check_too_big(req, len, steps[i]);
	free(req);

	/* at the limit exactly, and one argument past it */
	size_t n = 1;
	for (;;) {
		char head[32];
		size_t h = (size_t)sprintf(head, "*%zu\r\n", n + 1);
		if (h + (n + 1) * (6 + sizeof(struct resp_arg)) > RESP_MAX_REQUEST)
			break;
		n++;
	}
	req = empty_args(n, &len);
	CHECK_EQ(len + n * sizeof(struct resp_arg) <= RESP_MAX_REQUEST, 1);
	struct resp_parser p;
	resp_parser_init(&p);
	CHECK_EQ(feed_bounded(&p, req, len, len), RESP_DONE);
	CHECK_EQ(p.argc, n);
	CHECK_EQ(p.used, len);
	resp_parser_free(&p);
	free(req);
	req = empty_args(n + 1, &len);
	check_too_big(req, len, len);
	free(req);

	/* an inline line of half a million one-letter words: 1 MiB, and an 8 MiB list */
	len = 1 << 20;
	req = malloc(len);
	for (size_t i = 0; i < len; i += 2)
		memcpy(req + i, "a ", 2);
	req[len - 1] = '\n';
	check_too_big(req, len, len);
	free(req);
}

TEST(numbers)
{
	long long v;
	CHECK(resp_str2ll("0", 1, &v) && v == 0);
	CHECK(resp_str2ll("-1", 2, &v) && v == -1);
	CHECK(resp_str2ll("9223372036854775807", 19, &v) && v == INT64_MAX);
	CHECK(resp_str2ll("-9223372036854775808", 20, &v) && v == INT64_MIN);
	CHECK(!resp_str2ll("9223372036854775808", 19, &v));
	CHECK(!resp_str2ll("-9223372036854775809", 20, &v));
	CHECK(!resp_str2ll("", 0, &v));
	CHECK(!resp_str2ll("-", 1, &v));
	CHECK(!resp_str2ll("-0", 2, &v));
	CHECK(!resp_str2ll("01", 2, &v));
	CHECK(!resp_str2ll("+1", 2, &v));
	CHECK(!resp_str2ll(" 1", 2, &v));
	CHECK(!resp_str2ll("1 ", 2, &v));
	CHECK(!resp_str2ll("1e3", 3, &v));
	CHECK(!resp_str2ll("123456789012345678901", 21, &v));
	char buf[24];
	CHECK_EQ(resp_ll2str(buf, INT64_MIN), 20);
	CHECK_STR(buf, "-9223372036854775808");
	CHECK_EQ(resp_ll2str(buf, 0), 1);
	CHECK_STR(buf, "0");
	CHECK_EQ(resp_ll2str(buf, 42), 2);
	CHECK_STR(buf, "42");
}

static bool buf_is(const struct resp_buf *b, const char *s)
{
	return !b->failed && b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

TEST(writers)
{
	struct resp_buf b = { 0 };
	resp_add_status(&b, "OK");
	resp_add_error(&b, "ERR a\r\nb");
	resp_add_int(&b, -5);
	resp_add_bulk(&b, "hi", 2);
	resp_add_bulk(&b, "", 0);
	resp_add_null(&b);
	resp_add_array(&b, 2);
	resp_add_cstr(&b, "x");
	resp_add_errorf(&b, "ERR %d %s", 7, "y");
	resp_add_rawf(&b, "a:%u\r\n", 3u);
	CHECK(buf_is(&b, "+OK\r\n-ERR a  b\r\n:-5\r\n$2\r\nhi\r\n$0\r\n\r\n$-1\r\n*2\r\n$1\r\nx\r\n"
	                 "-ERR 7 y\r\na:3\r\n"));
	resp_buf_reset(&b);
	CHECK_EQ(b.len, 0);
	/* a large bulk grows the buffer */
	char *big = malloc(100000);
	memset(big, 'z', 100000);
	resp_add_bulk(&b, big, 100000);
	CHECK(!b.failed);
	CHECK_EQ(b.len, 100000 + 11); /* $100000 CRLF data CRLF */
	free(big);
	/* past RESP_MAX_REPLY a buffer fails, and stays failed */
	CHECK(!resp_reserve(&b, RESP_MAX_REPLY));
	CHECK(b.failed);
	resp_add_int(&b, 1);
	CHECK_EQ(b.len, 100000 + 11); /* $100000 CRLF data CRLF */
	resp_buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && !b.failed);
}

/* A buffer may start in memory it does not own, and moves to its own when that is full. */
TEST(borrowed_buffer)
{
	char area[16];
	struct resp_buf b = { .data = area, .cap = sizeof(area), .borrowed = true };
	resp_add_status(&b, "OK");
	CHECK(b.data == area && b.borrowed);
	resp_add_bulk(&b, "a value longer than the area", 28);
	CHECK(b.data != area && !b.borrowed);
	CHECK(buf_is(&b, "+OK\r\n$28\r\na value longer than the area\r\n"));
	resp_buf_free(&b); /* frees the buffer's own memory, never the area */
	struct resp_buf c = { .data = area, .cap = sizeof(area), .borrowed = true };
	resp_add_int(&c, 5);
	resp_buf_free(&c); /* ASan: freeing area would be reported */
	CHECK(c.data == NULL);
}

TEST(reply_scanner)
{
	static const struct {
		const char *in;
		long want;
	} cases[] = {
		{ "+OK\r\n", 5 },
		{ "-ERR x\r\n", 8 },
		{ ":12\r\n", 5 },
		{ ":x\r\n", -1 },
		{ "$3\r\nabc\r\n", 9 },
		{ "$3\r\nabc\r\nextra", 9 },
		{ "$3\r\nab", -1 },
		{ "$3\r\nabcXY", -1 },
		{ "$-1\r\n", 5 },
		{ "$-2\r\n", -1 },
		{ "*2\r\n$1\r\na\r\n$-1\r\n", 16 },
		{ "*2\r\n$1\r\na\r\n", -1 },
		{ "*0\r\n", 4 },
		{ "*1\r\n*1\r\n:1\r\n", 12 },
		{ "?x\r\n", -1 },
		{ "+OK", -1 },
		{ "", -1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long got = resp_reply_len(cases[i].in, strlen(cases[i].in));
		if (got != cases[i].want) {
			fprintf(stderr, "  case %zu: %ld, want %ld\n", i, got, cases[i].want);
			test_failed_++;
		}
	}
	/* nesting deeper than the scanner follows is refused, not recursed into */
	char deep[200] = "";
	for (int i = 0; i < 20; i++)
		strcat(deep, "*1\r\n");
	strcat(deep, ":1\r\n");
	CHECK_EQ(resp_reply_len(deep, strlen(deep)), -1);
}

int main(void)
{
	RUN(multibulk);
	RUN(multibulk_errors);
	RUN(limits);
	RUN(inline_commands);
	RUN(pipelining);
	RUN(many_args);
	RUN(argument_list_counts);
	RUN(numbers);
	RUN(writers);
	RUN(borrowed_buffer);
	RUN(reply_scanner);
	TEST_EXIT();
}
