/*
 * fuzz_resp.c - libFuzzer target for kvstore's RESP2 parser and commands
 * (examples/kvstore/resp.c, cmd.c, cmd_server.c, db.c).
 *
 * The first 4 bytes of an input seed the split and the clock: the rest is parsed as a stream of
 * pipelined requests twice, once whole and once handed over in random pieces (each call in a
 * fresh heap copy of exactly the bytes so far, so ASan sees any read past them or through a stale
 * pointer). Both runs must agree request by request. Every request of the whole run is then
 * executed as the server does, on 3 shards (split by key and merged), with the clock moving on;
 * every reply must be exactly one well-formed RESP value. Memory stays bounded: each shard has a
 * maxmemory of 256 KiB, and at the end every shard is flushed and must account for no bytes.
 *
 *   make build/fuzz/fuzz_resp && build/fuzz/fuzz_resp -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "db.h"
#include "resp.h"
#include "tests/unit/kv_execute.h"

#define ASSERT(c)                                                                           \
	do {                                                                                \
		if (!(c)) {                                                                 \
			__builtin_printf("assertion failed: %s (line %d)\n", #c, __LINE__); \
			abort();                                                            \
		}                                                                           \
	} while (0)

#define NSHARDS 3
#define MAXMEMORY (256 * 1024)

static uint32_t rng;
static struct db shards[NSHARDS];
static struct cmd_server server = { .nshards = NSHARDS, .port = 6379, .maxmemory = MAXMEMORY };
static int64_t clock_ms;

static uint32_t next_rand(void)
{
	rng = rng * 1664525u + 1013904223u;
	return rng >> 8;
}

/* Parses the request at data[0..len) in random pieces; the result in p (argv copied into
 * *keep, which the caller frees). Like one call on all of it. */
static int parse_split(struct resp_parser *p, const uint8_t *data, size_t len, char **keep)
{
	size_t have = 0;
	int rc = RESP_MORE;
	char *copy = NULL;

	while (rc == RESP_MORE && have < len) {
		uint32_t x = next_rand();
		size_t step = x % 4 == 0 ? 1 + x / 4 % (len - have) : 1 + x / 4 % 8;
		have = have + step > len ? len : have + step;
		free(copy);
		copy = malloc(have);
		memcpy(copy, data, have);
		rc = resp_parse(p, copy, have);
	}
	*keep = copy;
	return rc;
}

/* A shard's part is always one reply (or a failed buffer). */
static void check_part(const struct resp_buf *part)
{
	ASSERT(part->failed || resp_reply_len(part->data, part->len) == (long)part->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	memcpy(&rng, data, 4);
	clock_ms = 1000 + (rng & 0xffff);
	server.wall_clock = rng & 0x10000; /* EXAT and PXAT allowed or refused */
	data += 4;
	size -= 4;

	char *whole = malloc(size ? size : 1);
	memcpy(whole, data, size);
	struct resp_parser a, b;
	struct cmd_session session = { .id = 1 };
	size_t off = 0;
	resp_parser_init(&a);
	resp_parser_init(&b);
	for (unsigned s = 0; s < NSHARDS; s++)
		db_init(&shards[s], MAXMEMORY);

	while (off < size && !session.quit && !session.shutdown) {
		int ra = resp_parse(&a, whole + off, size - off);
		char *keep;
		int rb = parse_split(&b, data + off, size - off, &keep);
		ASSERT(ra == rb);
		if (ra == RESP_DONE) {
			ASSERT(a.used == b.used && a.argc == b.argc);
			ASSERT(a.used > 0 && a.used <= size - off);
			for (size_t i = 0; i < a.argc; i++) {
				ASSERT(a.argv[i].len == b.argv[i].len);
				ASSERT(whole[off] != '*' || a.argv[i].len <= RESP_MAX_BULK);
				ASSERT(memcmp(a.argv[i].p, b.argv[i].p, a.argv[i].len) == 0);
			}
		} else if (ra == RESP_ERROR) {
			ASSERT(strcmp(a.error, b.error) == 0);
			ASSERT(strncmp(a.error, "ERR Protocol error: ", 20) == 0);
		}
		free(keep);
		if (ra != RESP_DONE)
			break;
		if (a.argc > 0) {
			struct resp_buf out = { 0 };
			struct cmd_ctx ctx = { .now_ms = clock_ms,
				               .server = &server,
				               .session = &session };
			kv_execute(&ctx, shards, NSHARDS, a.argc, a.argv, &out, check_part);
			/* SHUTDOWN answers nothing: the server ends */
			ASSERT(out.failed || (session.shutdown && out.len == 0) ||
			       resp_reply_len(out.data, out.len) == (long)out.len);
			resp_buf_free(&out);
		}
		off += a.used;
		clock_ms += next_rand() % 2000;
		if (next_rand() % 8 == 0)
			for (unsigned s = 0; s < NSHARDS; s++)
				db_cycle(&shards[s], clock_ms, 16);
	}
	for (unsigned s = 0; s < NSHARDS; s++) {
		db_flush(&shards[s]);
		db_reap(&shards[s], SIZE_MAX);
		ASSERT(shards[s].used_bytes == 0 && db_size(&shards[s]) == 0);
	}
	cmd_session_free(&session);
	resp_parser_free(&a);
	resp_parser_free(&b);
	free(whole);
	return 0;
}
