/*
 * fuzz_http.c - libFuzzer target for httpd's request parser (examples/httpd/http.c).
 *
 * The first 4 bytes of an input seed the split: the rest is parsed as a stream of pipelined
 * requests twice, once whole and once handed over in random pieces (each call in a fresh heap
 * copy of exactly the bytes so far, so ASan sees any read past them or through a stale pointer).
 * Both runs must agree request by request, and every answer must keep the parser's promises:
 * a complete head is at most HTTP_MAX_HEAD bytes and no longer than the input, an error is one of
 * the statuses http.h lists, an input of HTTP_MAX_HEAD bytes always gets an answer, and the path
 * is normalized (starts with '/', no "." or ".." segment, no "//", no control byte).
 *
 *   make build/fuzz/fuzz_http && build/fuzz/fuzz_http -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define ASSERT(c)                                                                           \
	do {                                                                                \
		if (!(c)) {                                                                 \
			__builtin_printf("assertion failed: %s (line %d)\n", #c, __LINE__); \
			abort();                                                            \
		}                                                                           \
	} while (0)

static uint32_t rng;

static uint32_t next_rand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

/* Parses data[0..len) in random pieces; like one call on all of it. */
static long parse_split(struct http_request *r, const uint8_t *data, size_t len)
{
	size_t have = 0;
	long ret = 0;
	http_request_init(r);
	while (ret == 0 && have < len) {
		uint32_t x = next_rand();
		size_t step = x % 4 == 0 ? 1 + x / 4 % (len - have) : 1 + x / 4 % 8;
		have = have + step > len ? len : have + step;
		char *copy = malloc(have);
		memcpy(copy, data, have);
		ret = http_parse(r, copy, have);
		free(copy);
	}
	if (len == 0) {
		char one;
		ret = http_parse(r, &one, 0);
	}
	return ret;
}

static void check_path(const struct http_request *r)
{
	const char *p = r->path;
	ASSERT(r->path_len >= 1 && r->path_len <= HTTP_MAX_TARGET);
	ASSERT(strlen(p) == r->path_len);
	ASSERT(p[0] == '/');
	for (size_t i = 0; i < r->path_len; i++)
		ASSERT((unsigned char)p[i] >= 0x20 && p[i] != 0x7f);
	ASSERT(strstr(p, "//") == NULL);
	ASSERT(strstr(p, "/./") == NULL && strstr(p, "/../") == NULL);
	size_t n = r->path_len;
	ASSERT(!(n >= 2 && strcmp(p + n - 2, "/.") == 0));
	ASSERT(!(n >= 3 && strcmp(p + n - 3, "/..") == 0));
}

static void check_status(long ret)
{
	int s = (int)-ret;
	ASSERT(s == 400 || s == 405 || s == 413 || s == 414 || s == 431 || s == 505);
}

static void check_format(const struct http_request *r, long ret)
{
	char buf[256];
	int status = ret < 0 ? (int)-ret : 200;
	int n = http_format_error(buf, sizeof(buf), status, r->keep_alive, r->method == HTTP_HEAD);
	ASSERT(n > 0 && (size_t)n < sizeof(buf) && strlen(buf) == (size_t)n);
	n = http_format_head(buf, sizeof(buf), status, http_content_type(r->path), r->path_len,
	                     r->keep_alive);
	ASSERT(n > 0 && (size_t)n < sizeof(buf) && strlen(buf) == (size_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request whole, split;
	if (size < 4)
		return 0;
	memcpy(&rng, data, 4);
	data += 4;
	size -= 4;

	size_t off = 0;
	for (int n = 0; n < 64; n++) {
		const char *buf = (const char *)data + off;
		size_t len = size - off;
		http_request_init(&whole);
		long a = http_parse(&whole, buf, len);
		long b = parse_split(&split, data + off, len);
		ASSERT(a == b);
		ASSERT(a <= (long)len);
		if (a == 0) {
			ASSERT(len < HTTP_MAX_HEAD);
			break;
		}
		if (a < 0) {
			check_status(a);
			check_format(&whole, a);
			break;
		}
		ASSERT(a <= HTTP_MAX_HEAD);
		ASSERT(whole.method == HTTP_GET || whole.method == HTTP_HEAD);
		ASSERT(whole.version_minor <= 1);
		ASSERT(whole.nheaders <= HTTP_MAX_HEADERS);
		ASSERT(whole.method == split.method && whole.keep_alive == split.keep_alive);
		ASSERT(whole.version_minor == split.version_minor);
		ASSERT(whole.nheaders == split.nheaders);
		ASSERT(strcmp(whole.path, split.path) == 0);
		check_path(&whole);
		check_format(&whole, a);
		off += (size_t)a;
	}
	return 0;
}
