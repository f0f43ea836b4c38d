/*
 * test_kvcmd.c - host tests of kvstore's commands (examples/kvstore/cmd.c, cmd_server.c) on
 * shards (db.c) with a fake clock.
 *
 * Requests go through the server's own path: cmd_lookup, then by route cmd_run on the key's
 * shard, or cmd_owners/cmd_part on each owner and cmd_merge, or every shard and cmd_merge. The
 * keyspace tests run twice, with 1 shard and with 3 (keys spread, multi-key commands split and
 * merged), and must give the same replies. Expected replies, errors included, are redis-server
 * 7.0.15's, byte for byte (the clock starts at a Unix-like time, so that Redis' expire-time
 * overflow limits are the same). Also: lazy and active expiry, rehashing a large shard,
 * maxmemory, the hash and shard function, glob patterns.
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>

#include "cmd.h"
#include "db.h"
#include "resp.h"
#include "tests/unit/kv_execute.h"
#include "tests/unit/test.h"

#define MAX_SHARDS 3

static struct db shards[MAX_SHARDS];
static unsigned nshards = 1;
static int64_t clock_ms = 1700000000000; /* a Unix time in ms, like Redis' clock */
static struct cmd_server server = { .port = 6379, .maxmemory = 0, .idle_sec = 600 };
static struct cmd_session session;
static struct resp_buf reply;

static void reset(unsigned n, size_t maxmemory)
{
	for (unsigned i = 0; i < MAX_SHARDS; i++) {
		db_flush(&shards[i]);
		db_reap(&shards[i], SIZE_MAX);
		db_init(&shards[i], maxmemory);
	}
	nshards = n;
	server.nshards = n;
	server.maxmemory = maxmemory;
	server.start_ms = clock_ms;
	server.wall_clock = true; /* clock_ms is a Unix time */
	cmd_session_free(&session);
	session = (struct cmd_session){ .id = 7 };
}

/* Runs one parsed request as the server does; the reply is appended to out. */
static void execute(size_t argc, const struct resp_arg *argv, struct resp_buf *out)
{
	struct cmd_ctx ctx = { .now_ms = clock_ms, .server = &server, .session = &session };
	kv_execute(&ctx, shards, nshards, argc, argv, out, NULL);
}

/* Runs an inline command line (redis-cli's quoting: "a b", "\x00", ...); returns the reply
 * as a C string (replies with a NUL: compare reply.len). */
static const char *run(const char *line)
{
	size_t n = strlen(line);
	char *buf = malloc(n + 2);
	struct resp_parser p;

	memcpy(buf, line, n);
	memcpy(buf + n, "\n", 1);
	resp_parser_init(&p);
	resp_buf_reset(&reply);
	if (resp_parse(&p, buf, n + 1) == RESP_DONE && p.argc > 0)
		execute(p.argc, p.argv, &reply);
	else
		resp_add_raw(&reply, "(bad test request)", 18);
	resp_add_raw(&reply, "", 1);
	reply.len--;
	resp_parser_free(&p);
	free(buf);
	return reply.data;
}

#define EXPECT(line, want)                                                                       \
	do {                                                                                     \
		const char *got_ = run(line);                                                    \
		if (strcmp(got_, (want)) != 0) {                                                 \
			fprintf(stderr, "  %s:%d: %s\n    got  '%s'\n    want '%s'\n", __FILE__, \
			        __LINE__, line, got_, want);                                     \
			test_failed_++;                                                          \
		}                                                                                \
	} while (0)

static const char ARITY[] = "-ERR wrong number of arguments for '%s' command\r\n";

static void expect_arity(const char *line, const char *name)
{
	char want[128];
	snprintf(want, sizeof(want), ARITY, name);
	EXPECT(line, want);
}

/* ---- lookup and errors ------------------------------------------------------------------- */

TEST(unknown_commands)
{
	reset(1, 0);
	EXPECT("foo", "-ERR unknown command 'foo', with args beginning with: \r\n");
	EXPECT("foo a", "-ERR unknown command 'foo', with args beginning with: 'a' \r\n");
	EXPECT("foo a b", "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n");
	/* arguments are quoted while the text is under 128 bytes, each cut to what is left */
	char line[400], want[400];
	snprintf(line, sizeof(line), "foo %0200d", 0);
	snprintf(want, sizeof(want),
	         "-ERR unknown command 'foo', with args beginning with: '%0128d' \r\n", 0);
	EXPECT(line, want);
	memset(line, 0, sizeof(line));
	strcpy(line, "foo ");
	memset(line + 4, 'x', 100);
	strcat(line, " ");
	memset(line + 105, 'y', 100);
	EXPECT(line, "-ERR unknown command 'foo', with args beginning with: "
	             "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	             "xxxxxxxxxxxxxxxxxxxxxxxx' 'yyyyyyyyyyyyyyyyyyyyyyyyy' \r\n");
	/* CR and LF in the text become spaces, so the reply stays one line */
	EXPECT("\"foo\\r\\nbar\" \"x\\ny\"",
	       "-ERR unknown command 'foo  bar', with args beginning with: 'x y' \r\n");
	/* names ignore case; only strings exist here */
	EXPECT("getdel k", "-ERR unknown command 'getdel', with args beginning with: 'k' \r\n");
	EXPECT("KEYS *", "-ERR unknown command 'KEYS', with args beginning with: '*' \r\n");
	EXPECT("hset h f v",
	       "-ERR unknown command 'hset', with args beginning with: 'h' 'f' 'v' \r\n");
}

TEST(arity)
{
	reset(1, 0);
	expect_arity("get", "get");
	expect_arity("GET", "get");
	expect_arity("get a b", "get");
	expect_arity("set a", "set");
	expect_arity("del", "del");
	expect_arity("exists", "exists");
	expect_arity("incr", "incr");
	expect_arity("incr a b", "incr");
	expect_arity("decr", "decr");
	expect_arity("incrby a", "incrby");
	expect_arity("decrby n", "decrby");
	expect_arity("mget", "mget");
	expect_arity("mset a", "mset");
	expect_arity("mset a 1 b", "mset");
	expect_arity("expire n", "expire");
	expect_arity("pexpire n", "pexpire");
	expect_arity("ttl", "ttl");
	expect_arity("pttl a b", "pttl");
	expect_arity("persist", "persist");
	expect_arity("dbsize x", "dbsize");
	expect_arity("echo", "echo");
	expect_arity("echo hi x", "echo");
	expect_arity("ping a b", "ping");
	expect_arity("select", "select");
	expect_arity("config", "config");
	expect_arity("config get", "config|get");
	expect_arity("client", "client");
	expect_arity("client setname a b", "client|setname");
	expect_arity("client getname x", "client|getname");
	expect_arity("command count x", "command|count");
	EXPECT("config foo", "-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n");
	EXPECT("CONFIG FOO", "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n");
	EXPECT("config set x y", "-ERR unknown subcommand 'set'. Try CONFIG HELP.\r\n");
	EXPECT("client foo", "-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n");
	EXPECT("command foo", "-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n");
}

/* ---- strings ----------------------------------------------------------------------------- */

static void strings(unsigned n)
{
	reset(n, 0);
	EXPECT("get a", "$-1\r\n");
	EXPECT("set a hello", "+OK\r\n");
	EXPECT("get a", "$5\r\nhello\r\n");
	EXPECT("set a bye", "+OK\r\n");
	EXPECT("get a", "$3\r\nbye\r\n");
	EXPECT("set \"\" \"\"", "+OK\r\n");
	EXPECT("get \"\"", "$0\r\n\r\n");
	EXPECT("exists \"\"", ":1\r\n");
	/* binary-safe values */
	run("set bin \"a\\x00b\\r\\nc\"");
	run("get bin");
	CHECK_EQ(reply.len, 12);
	CHECK(memcmp(reply.data, "$6\r\na\0b\r\nc\r\n", 12) == 0);
	/* a value that grows and shrinks again (its block is replaced or kept) */
	char line[3000];
	snprintf(line, sizeof(line), "set grow %02000d", 7);
	EXPECT(line, "+OK\r\n");
	run("get grow");
	CHECK_EQ(reply.len, 2000 + 9);
	EXPECT("set grow x", "+OK\r\n");
	EXPECT("get grow", "$1\r\nx\r\n");
	EXPECT("echo hi", "$2\r\nhi\r\n");
	EXPECT("echo \"\"", "$0\r\n\r\n");
	EXPECT("ping", "+PONG\r\n");
	EXPECT("ping hello", "$5\r\nhello\r\n");
	EXPECT("ping \"\"", "$0\r\n\r\n");
}

TEST(strings_1)
{
	strings(1);
}

TEST(strings_3)
{
	strings(3);
}

static void set_options(unsigned n)
{
	reset(n, 0);
	EXPECT("set k v NX XX", "-ERR syntax error\r\n");
	EXPECT("set k v XX NX", "-ERR syntax error\r\n");
	EXPECT("set k v EX", "-ERR syntax error\r\n");
	EXPECT("set k v FOO", "-ERR syntax error\r\n");
	EXPECT("set k v EX 10 PX 100", "-ERR syntax error\r\n");
	EXPECT("set k v PX 100 EX 10", "-ERR syntax error\r\n");
	EXPECT("set k v EX 10 KEEPTTL", "-ERR syntax error\r\n");
	EXPECT("set k v KEEPTTL EX 10", "-ERR syntax error\r\n");
	EXPECT("set k v KEEPTTL PX 10", "-ERR syntax error\r\n");
	EXPECT("set k v EXAT 1 EX 10", "-ERR syntax error\r\n");
	/* options are all parsed before a number is looked at */
	EXPECT("set k v EX abc FOO", "-ERR syntax error\r\n");
	EXPECT("set k v FOO EX abc", "-ERR syntax error\r\n");
	EXPECT("set k v EX abc", "-ERR value is not an integer or out of range\r\n");
	EXPECT("set k v EX 1.5", "-ERR value is not an integer or out of range\r\n");
	EXPECT("set k v EX \" 5\"", "-ERR value is not an integer or out of range\r\n");
	EXPECT("set k v EX +5", "-ERR value is not an integer or out of range\r\n");
	EXPECT("set k v EX 05", "-ERR value is not an integer or out of range\r\n");
	EXPECT("set k v EX 0", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v EX -5", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v PX 0", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v EX 9223372036854775807", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v EX 9223372036854775", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v EX 9223372036854774", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v PX 9223372036854775807", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v PX 9223372036854775806", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v EX 9223372036854775806", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v EXAT 9223372036854775807", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v EXAT 0", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("set k v PXAT -1", "-ERR invalid expire time in 'set' command\r\n");
	EXPECT("exists k", ":0\r\n"); /* nothing above set anything */
	/* Unix times: in the past (set, and gone at once), far away, at the limit */
	EXPECT("set k v EXAT 100", "+OK\r\n");
	EXPECT("exists k", ":0\r\n");
	EXPECT("set k v PXAT 1700000100000", "+OK\r\n");
	EXPECT("pttl k", ":100000\r\n");
	EXPECT("set k v EXAT 1700000050 GET", "$1\r\nv\r\n");
	EXPECT("ttl k", ":50\r\n");
	EXPECT("set k v EXAT 9223372036854775", "+OK\r\n");
	EXPECT("set k v PXAT 9223372036854775807", "+OK\r\n");
	EXPECT("pttl k", ":9223370336854775807\r\n");
	EXPECT("del k", ":1\r\n");

	/* a repeated option is fine; the last time wins */
	EXPECT("set k v EX 10 EX 20", "+OK\r\n");
	EXPECT("ttl k", ":20\r\n");
	EXPECT("set k v NX NX", "$-1\r\n");
	EXPECT("set k v GET GET", "$1\r\nv\r\n");
	EXPECT("ttl k", ":-1\r\n"); /* a SET without KEEPTTL clears the time */

	EXPECT("set k v nx ex 100", "$-1\r\n");
	EXPECT("set k2 v nx ex 100", "+OK\r\n");
	EXPECT("ttl k2", ":100\r\n");
	EXPECT("set k v2 nx", "$-1\r\n");
	EXPECT("get k", "$1\r\nv\r\n");
	EXPECT("set k v2 xx get", "$1\r\nv\r\n");
	EXPECT("set k v3 nx get", "$2\r\nv2\r\n"); /* GET answers even when NX stops the set */
	EXPECT("get k", "$2\r\nv2\r\n");
	EXPECT("set new v xx get", "$-1\r\n");
	EXPECT("exists new", ":0\r\n");
	EXPECT("set new v nx get", "$-1\r\n");
	EXPECT("get new", "$1\r\nv\r\n");
	EXPECT("set new w xx", "+OK\r\n");
	EXPECT("set px v px 1500", "+OK\r\n");
	EXPECT("pttl px", ":1500\r\n");
	EXPECT("ttl px", ":2\r\n"); /* rounded, as Redis: (ms + 500) / 1000 */
	EXPECT("set px w keepttl", "+OK\r\n");
	EXPECT("pttl px", ":1500\r\n");
	EXPECT("set nottl w keepttl", "+OK\r\n");
	EXPECT("pttl nottl", ":-1\r\n");
	EXPECT("set big v ex 9223372036854", "+OK\r\n");
	EXPECT("ttl big", ":9223372036854\r\n");
}

TEST(set_options_1)
{
	set_options(1);
}

TEST(set_options_3)
{
	set_options(3);
}

static void counters(unsigned n)
{
	reset(n, 0);
	EXPECT("set n 10", "+OK\r\n");
	EXPECT("incr n", ":11\r\n");
	EXPECT("incrby n 5", ":16\r\n");
	EXPECT("decrby n 3", ":13\r\n");
	EXPECT("decr n", ":12\r\n");
	EXPECT("get n", "$2\r\n12\r\n");
	EXPECT("incrby n abc", "-ERR value is not an integer or out of range\r\n");
	EXPECT("incrby n 9223372036854775807", "-ERR increment or decrement would overflow\r\n");
	EXPECT("decrby n -9223372036854775808", "-ERR decrement would overflow\r\n");
	EXPECT("decrby n 9223372036854775808", "-ERR value is not an integer or out of range\r\n");
	EXPECT("incrby n -9223372036854775808", ":-9223372036854775796\r\n");
	EXPECT("set n 9223372036854775807", "+OK\r\n");
	EXPECT("incr n", "-ERR increment or decrement would overflow\r\n");
	EXPECT("incrby n 0", ":9223372036854775807\r\n");
	EXPECT("set n -9223372036854775808", "+OK\r\n");
	EXPECT("decr n", "-ERR increment or decrement would overflow\r\n");
	EXPECT("get n", "$20\r\n-9223372036854775808\r\n");
	static const char *const not_int[] = { "abc",
		                               "05",
		                               "\" 5\"",
		                               "-0",
		                               "1e3",
		                               "1.5",
		                               "12345678901234567890",
		                               "-9223372036854775809",
		                               "\"\"" };
	for (size_t i = 0; i < sizeof(not_int) / sizeof(not_int[0]); i++) {
		char line[64];
		snprintf(line, sizeof(line), "set s %s", not_int[i]);
		EXPECT(line, "+OK\r\n");
		EXPECT("incr s", "-ERR value is not an integer or out of range\r\n");
		EXPECT("incrby s 1", "-ERR value is not an integer or out of range\r\n");
	}
	EXPECT("incr fresh", ":1\r\n");
	EXPECT("decr fresh2", ":-1\r\n");
	EXPECT("incrby fresh3 -7", ":-7\r\n");
	/* the time to live stays: INCR changes the value, not the key */
	EXPECT("set t 5", "+OK\r\n");
	EXPECT("expire t 100", ":1\r\n");
	EXPECT("incr t", ":6\r\n");
	EXPECT("ttl t", ":100\r\n");
	EXPECT("set t 6", "+OK\r\n");
	EXPECT("ttl t", ":-1\r\n");
}

TEST(counters_1)
{
	counters(1);
}

TEST(counters_3)
{
	counters(3);
}

/* ---- several keys ------------------------------------------------------------------------ */

static void multikey(unsigned n)
{
	reset(n, 0);
	EXPECT("mset a 1 b 2", "+OK\r\n");
	EXPECT("mget a b zz a", "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$1\r\n1\r\n");
	EXPECT("exists a b zz a", ":3\r\n");
	EXPECT("del a a zz", ":1\r\n");
	EXPECT("mget a b", "*2\r\n$-1\r\n$1\r\n2\r\n");
	EXPECT("mset a 1 a 2", "+OK\r\n");
	EXPECT("get a", "$1\r\n2\r\n");
	/* MSET clears times to live */
	EXPECT("set e v ex 100", "+OK\r\n");
	EXPECT("mset e w", "+OK\r\n");
	EXPECT("ttl e", ":-1\r\n");
	/* many keys, spread over every shard: order is kept */
	char line[8192], want[16384];
	size_t l = (size_t)snprintf(line, sizeof(line), "mset");
	for (int i = 0; i < 200; i++)
		l += (size_t)snprintf(line + l, sizeof(line) - l, " key:%d v%d", i, i * 7);
	EXPECT(line, "+OK\r\n");
	l = (size_t)snprintf(line, sizeof(line), "mget");
	size_t w = (size_t)snprintf(want, sizeof(want), "*250\r\n");
	for (int i = 0; i < 250; i++) {
		char v[16];
		l += (size_t)snprintf(line + l, sizeof(line) - l, " key:%d", i);
		if (i < 200) {
			int vl = snprintf(v, sizeof(v), "v%d", i * 7);
			w += (size_t)snprintf(want + w, sizeof(want) - w, "$%d\r\n%s\r\n", vl, v);
		} else {
			w += (size_t)snprintf(want + w, sizeof(want) - w, "$-1\r\n");
		}
	}
	EXPECT(line, want);
	l = (size_t)snprintf(line, sizeof(line), "exists");
	for (int i = 0; i < 250; i++)
		l += (size_t)snprintf(line + l, sizeof(line) - l, " key:%d", i);
	EXPECT(line, ":200\r\n");
	EXPECT("dbsize", ":203\r\n");
	l = (size_t)snprintf(line, sizeof(line), "del");
	for (int i = 0; i < 250; i++)
		l += (size_t)snprintf(line + l, sizeof(line) - l, " key:%d", i);
	EXPECT(line, ":200\r\n");
	EXPECT("dbsize", ":3\r\n");
	if (n > 1) {
		/* the keys really were spread over every shard */
		CHECK(db_size(&shards[0]) + db_size(&shards[1]) + db_size(&shards[2]) == 3);
	}
}

TEST(multikey_1)
{
	multikey(1);
}

TEST(multikey_3)
{
	multikey(3);
}

/* ---- expiry ------------------------------------------------------------------------------ */

static void expiry(unsigned n)
{
	reset(n, 0);
	EXPECT("set e v", "+OK\r\n");
	EXPECT("expire e abc", "-ERR value is not an integer or out of range\r\n");
	EXPECT("expire e 100 xx", ":0\r\n");
	EXPECT("expire e 100 nx", ":1\r\n");
	EXPECT("expire e 100 nx", ":0\r\n");
	EXPECT("expire e 50 gt", ":0\r\n");
	EXPECT("expire e 200 gt", ":1\r\n");
	EXPECT("expire e 300 lt", ":0\r\n");
	EXPECT("expire e 50 lt", ":1\r\n");
	EXPECT("ttl e", ":50\r\n");
	EXPECT("expire e 60 xx gt", ":1\r\n");
	EXPECT("expire e 10 nx xx",
	       "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
	EXPECT("expire e 10 nx gt",
	       "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n");
	EXPECT("expire e 10 gt lt",
	       "-ERR GT and LT options at the same time are not compatible\r\n");
	EXPECT("expire e 10 foo", "-ERR Unsupported option foo\r\n");
	EXPECT("expire e 100 FOO xx", "-ERR Unsupported option FOO\r\n");
	EXPECT("expire e abc foo", "-ERR Unsupported option foo\r\n");
	EXPECT("expire e 10 NX nx", ":0\r\n");
	EXPECT("expire e 9223372036854775807", "-ERR invalid expire time in 'expire' command\r\n");
	EXPECT("expire e 92233720368547758", "-ERR invalid expire time in 'expire' command\r\n");
	EXPECT("expire e -92233720368547758", "-ERR invalid expire time in 'expire' command\r\n");
	EXPECT("expire e 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n");
	EXPECT("pexpire e 9223372036854775807",
	       "-ERR invalid expire time in 'pexpire' command\r\n");
	EXPECT("expire nokey 10", ":0\r\n");
	EXPECT("ttl nokey", ":-2\r\n");
	EXPECT("pttl nokey", ":-2\r\n");
	/* a time in the past deletes the key */
	EXPECT("expire e -1", ":1\r\n");
	EXPECT("exists e", ":0\r\n");
	EXPECT("set e v", "+OK\r\n");
	EXPECT("expire e 0", ":1\r\n");
	EXPECT("exists e", ":0\r\n");
	/* no time counts as forever: GT never beats it, LT always does */
	EXPECT("set f v", "+OK\r\n");
	EXPECT("expire f 100 gt", ":0\r\n");
	EXPECT("expire f 100 lt", ":1\r\n");
	EXPECT("persist f", ":1\r\n");
	EXPECT("persist f", ":0\r\n");
	EXPECT("persist nokey", ":0\r\n");
	EXPECT("ttl f", ":-1\r\n");

	/* the clock moves: lazy expiry at the first access after the time */
	EXPECT("set g v px 1000", "+OK\r\n");
	EXPECT("pexpire h 10", ":0\r\n");
	EXPECT("set h v", "+OK\r\n");
	EXPECT("pexpire h 2000", ":1\r\n");
	clock_ms += 999;
	EXPECT("pttl g", ":1\r\n");
	clock_ms += 1;
	EXPECT("pttl g", ":0\r\n"); /* at the time itself the key still lives (Redis: now > at) */
	EXPECT("get g", "$1\r\nv\r\n");
	clock_ms += 1;
	EXPECT("get g", "$-1\r\n");
	EXPECT("ttl g", ":-2\r\n");
	EXPECT("exists h", ":1\r\n");
	clock_ms += 1000;
	EXPECT("exists h", ":0\r\n");
	EXPECT("set h v", "+OK\r\n");
	EXPECT("ttl h", ":-1\r\n"); /* a new key: no old time comes back */
	EXPECT("dbsize", ":2\r\n");
}

TEST(expiry_1)
{
	expiry(1);
}

TEST(expiry_3)
{
	expiry(3);
}

/* Without a wall clock (a machine without an RTC: time since boot) EXAT and PXAT are refused,
 * after the same option checks. */
TEST(no_wall_clock)
{
	reset(1, 0);
	server.wall_clock = false;
	EXPECT("set k v EXAT 100",
	       "-ERR EXAT and PXAT need a wall clock, and this machine has no real-time clock\r\n");
	EXPECT("set k v PXAT 100",
	       "-ERR EXAT and PXAT need a wall clock, and this machine has no real-time clock\r\n");
	EXPECT("set k v EXAT abc", "-ERR value is not an integer or out of range\r\n");
	EXPECT("set k v EXAT 1 EX 10", "-ERR syntax error\r\n");
	EXPECT("set k v EX 10", "+OK\r\n");
	EXPECT("ttl k", ":10\r\n");
}

/* Keys nobody reads again are deleted by db_cycle (active expiry). */
TEST(active_expiry)
{
	char line[64];
	reset(1, 0);
	for (int i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "set k%d v %s %d", i, i % 2 ? "px" : "",
		         i % 2 ? 50 : 0);
		if (i % 2 == 0)
			snprintf(line, sizeof(line), "set k%d v", i);
		run(line);
	}
	CHECK_EQ(db_size(&shards[0]), 1000);
	CHECK_EQ(shards[0].nexpires, 500);
	CHECK_EQ(db_cycle(&shards[0], clock_ms, 100000), 0); /* nothing due yet */
	clock_ms += 51;
	size_t deleted = 0;
	for (int i = 0; i < 100 && db_size(&shards[0]) > 500; i++)
		deleted += db_cycle(&shards[0], clock_ms, 64); /* bounded steps */
	CHECK_EQ(deleted, 500);
	CHECK_EQ(db_size(&shards[0]), 500);
	CHECK_EQ(shards[0].nexpires, 0);
	CHECK_EQ(shards[0].stats.expired, 500);
	EXPECT("dbsize", ":500\r\n");
	EXPECT("get k0", "$1\r\nv\r\n");
	EXPECT("get k1", "$-1\r\n");
}

/* ---- the whole keyspace ------------------------------------------------------------------ */

TEST(flush_and_dbsize)
{
	reset(3, 0);
	EXPECT("dbsize", ":0\r\n");
	EXPECT("mset a 1 b 2 c 3 d 4 e 5 f 6", "+OK\r\n");
	EXPECT("dbsize", ":6\r\n");
	EXPECT("flushall x", "-ERR syntax error\r\n");
	EXPECT("flushall async sync", "-ERR syntax error\r\n");
	EXPECT("dbsize", ":6\r\n");
	EXPECT("flushall ASYNC", "+OK\r\n");
	EXPECT("dbsize", ":0\r\n");
	EXPECT("set a 1", "+OK\r\n");
	EXPECT("flushdb sync", "+OK\r\n");
	EXPECT("flushdb", "+OK\r\n");
	EXPECT("flushall", "+OK\r\n");
	EXPECT("get a", "$-1\r\n");
	for (unsigned s = 0; s < 3; s++)
		CHECK_EQ(shards[s].used_bytes, 0);
}

/* db_flush of a big shard: empty at once, freed by db_reap in bounded steps. */
TEST(flush_in_steps)
{
	reset(1, 0);
	char key[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		REQUIRE(db_set(&shards[0], key, strlen(key), "v", 1, DB_NO_EXPIRE) != NULL);
	}
	db_flush(&shards[0]);
	CHECK_EQ(db_size(&shards[0]), 0);
	CHECK(db_reaping(&shards[0]));
	CHECK(db_get(&shards[0], "k1", 2, 0) == NULL);
	REQUIRE(db_set(&shards[0], "k1", 2, "again", 5, DB_NO_EXPIRE) != NULL); /* usable */
	db_flush(&shards[0]); /* a second table set aside behind the first */
	int steps = 0;
	size_t before = shards[0].used_bytes;
	while (db_reap(&shards[0], 1000)) {
		CHECK(shards[0].used_bytes < before); /* every step frees something */
		before = shards[0].used_bytes;
		steps++;
	}
	CHECK(steps >= 19 && steps <= 40);
	CHECK(!db_reaping(&shards[0]));
	CHECK_EQ(shards[0].used_bytes, 0);
	CHECK_EQ(db_size(&shards[0]), 0);
}

/* ---- connection commands ----------------------------------------------------------------- */

TEST(connection_commands)
{
	reset(1, 0);
	EXPECT("select 0", "+OK\r\n");
	EXPECT("select 1", "-ERR DB index is out of range\r\n");
	EXPECT("select 16", "-ERR DB index is out of range\r\n");
	EXPECT("select -1", "-ERR DB index is out of range\r\n");
	EXPECT("select abc", "-ERR value is not an integer or out of range\r\n");
	EXPECT("select 99999999999",
	       "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n");
	EXPECT("client id", ":7\r\n");
	EXPECT("client getname", "$-1\r\n");
	EXPECT("client setname abc", "+OK\r\n");
	EXPECT("client getname", "$3\r\nabc\r\n");
	EXPECT("client setname \"a b\"",
	       "-ERR Client names cannot contain spaces, newlines or special characters.\r\n");
	EXPECT("client getname", "$3\r\nabc\r\n");
	EXPECT("client setname \"\"", "+OK\r\n");
	EXPECT("client getname", "$-1\r\n");
	EXPECT("client setinfo lib-name redis-py", "+OK\r\n");
	EXPECT("client setinfo LIB-VER 5.0", "+OK\r\n");
	EXPECT("client setinfo foo x", "-ERR Unrecognized option 'foo'\r\n");
	CHECK(strncmp(run("client help"), "*11\r\n+CLIENT <subcommand>", 24) == 0);
	EXPECT("config get save", "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
	EXPECT("config get appendonly", "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
	EXPECT("config get nonexist", "*0\r\n");
	EXPECT("config get sav*", "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
	EXPECT("CONFIG GET SAVE", "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
	EXPECT("config get save appendonly save",
	       "*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
	EXPECT("config get port", "*2\r\n$4\r\nport\r\n$4\r\n6379\r\n");
	EXPECT("config get databases", "*2\r\n$9\r\ndatabases\r\n$1\r\n1\r\n");
	CHECK(strncmp(run("config get *"), "*18\r\n", 5) == 0);
	CHECK(strncmp(run("config help"), "*5\r\n+CONFIG <subcommand>", 24) == 0);
	CHECK(!session.quit);
	EXPECT("quit", "+OK\r\n");
	CHECK(session.quit);
	session.quit = false;
	EXPECT("quit x", "+OK\r\n");
	CHECK(session.quit);
	/* SHUTDOWN: options checked, nothing answered, the connection ends the VM */
	EXPECT("shutdown abort", "-ERR No shutdown in progress.\r\n");
	EXPECT("shutdown now please", "-ERR syntax error\r\n");
	CHECK(!session.shutdown);
	EXPECT("shutdown nosave now", "");
	CHECK(session.shutdown);
}

TEST(command_command)
{
	reset(1, 0);
	EXPECT("command count", ":27\r\n");
	EXPECT("command info get",
	       "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n"
	       "*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*0\r\n*0\r\n");
	EXPECT("command info nosuch", "*1\r\n$-1\r\n");
	EXPECT("command info mset nosuch",
	       "*2\r\n*10\r\n$4\r\nmset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:-1\r\n:2\r\n"
	       "*3\r\n+@write\r\n+@string\r\n+@slow\r\n*0\r\n*0\r\n*0\r\n$-1\r\n");
	EXPECT("command docs get",
	       "*2\r\n$3\r\nget\r\n*8\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n"
	       "$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n"
	       "$4\r\nO(1)\r\n");
	EXPECT("command docs nosuch", "*0\r\n");
	EXPECT("command docs config|get",
	       "*2\r\n$10\r\nconfig|get\r\n*8\r\n$7\r\nsummary\r\n$42\r\nGet the values of "
	       "configuration parameters\r\n$5\r\nsince\r\n$5\r\n2.0.0\r\n$5\r\ngroup\r\n$6\r\n"
	       "server\r\n$10\r\ncomplexity\r\n$62\r\nO(N) when N is the number of configuration "
	       "parameters provided\r\n");
	EXPECT("command list filterby pattern config*",
	       "*3\r\n$6\r\nconfig\r\n$10\r\nconfig|get\r\n$11\r\nconfig|help\r\n");
	EXPECT("command list x", "-ERR syntax error\r\n");
	/* every command's entries are well formed, complete RESP */
	static const char *const all[] = { "command", "command info", "command docs",
		                           "command list", "command help" };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		run(all[i]);
		CHECK_EQ(resp_reply_len(reply.data, reply.len), (long)reply.len);
	}
	CHECK(strncmp(run("command"), "*27\r\n", 5) == 0);
	CHECK(strncmp(run("command docs"), "*54\r\n", 5) == 0);
	CHECK(strncmp(run("command list"), "*39\r\n", 5) == 0);
}

/* ---- INFO -------------------------------------------------------------------------------- */

static void fake_core_lines(struct resp_buf *t, void *arg)
{
	(void)arg;
	resp_add_rawf(t, "connected_clients:1\r\n");
}

TEST(info)
{
	reset(3, 1 << 20);
	run("mset a 1 b 2 c 3 d 4");
	run("expire a 100");
	const char *r = run("info");
	CHECK(r[0] == '$');
	CHECK_EQ(resp_reply_len(reply.data, reply.len), (long)reply.len);
	CHECK(strstr(r, "\r\n# Server\r\nredis_version:7.0.0\r\n") != NULL);
	CHECK(strstr(r, "\r\ncores:3\r\n") != NULL);
	CHECK(strstr(r, "\r\n\r\n# Keyspace\r\ndb0:keys=4,expires=1,avg_ttl=0\r\n\r\n# Core0\r\n"));
	CHECK(strstr(r, "\r\n\r\n# Core1\r\nkeys:") != NULL);
	CHECK(strstr(r, "\r\n\r\n# Core2\r\nkeys:") != NULL);
	CHECK(strstr(r, "maxmemory:1048576\r\n") != NULL);
	/* sections as asked, case ignored */
	EXPECT("info keyspace", "$44\r\n# Keyspace\r\ndb0:keys=4,expires=1,avg_ttl=0\r\n\r\n");
	EXPECT("info KEYSPACE", "$44\r\n# Keyspace\r\ndb0:keys=4,expires=1,avg_ttl=0\r\n\r\n");
	EXPECT("info nosuchsection", "$0\r\n\r\n");
	r = run("info core1");
	CHECK(strncmp(r + strcspn(r, "\n") + 1, "# Core1\r\nkeys:", 14) == 0);
	CHECK(strstr(r, "# Core0") == NULL && strstr(r, "# Server") == NULL);
	r = run("info cores");
	CHECK(strstr(r, "# Core0") && strstr(r, "# Core2") && !strstr(r, "# Server"));
	run("flushall");
	EXPECT("info keyspace", "$12\r\n# Keyspace\r\n\r\n");

	/* a core adds its own lines through info_core */
	struct cmd_ctx ctx = { .db = &shards[0],
		               .server = &server,
		               .now_ms = clock_ms,
		               .info_core = fake_core_lines };
	struct resp_arg argv[1] = { { .p = "info", .len = 4 } };
	struct resp_buf out = { 0 };
	const struct cmd_desc *info = cmd_lookup(1, argv, &out);
	REQUIRE(info != NULL);
	cmd_run(&ctx, info, 1, argv, &out);
	CHECK(memmem(out.data, out.len, "connected_clients:1\r\n", 21) != NULL);
	resp_buf_free(&out);
}

/* ---- memory ------------------------------------------------------------------------------ */

TEST(maxmemory)
{
	char line[200];
	reset(1, 64 * 1024);
	int i;
	for (i = 0; i < 10000; i++) {
		snprintf(line, sizeof(line), "set key%d %080d", i, i);
		if (strcmp(run(line), "+OK\r\n") != 0)
			break;
	}
	CHECK(i > 10 && i < 10000);
	EXPECT("set one more", "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
	EXPECT("mset one more", "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
	EXPECT("incr counter", "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
	/* the OOM check comes first, as in Redis */
	EXPECT("set k v ex 0", "-OOM command not allowed when used memory > 'maxmemory'.\r\n");
	EXPECT("get key0",
	       "$80\r\n00000000000000000000000000000000000000000000000000000000000000000"
	       "000000000000000\r\n");
	EXPECT("expire key0 100", ":1\r\n");       /* not a command that adds data */
	CHECK_EQ(shards[0].stats.oom_rejected, 5); /* the first refused SET and four more */
	run("flushall");
	EXPECT("set one more", "+OK\r\n");
}

/* A large shard rehashes in steps, and every key stays reachable throughout. */
TEST(rehash)
{
	struct db db;
	char key[32];
	db_init(&db, 0);
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "key:%d", i);
		REQUIRE(db_set(&db, key, (size_t)n, key, (size_t)n, DB_NO_EXPIRE) != NULL);
		if (i % 997 == 0) {
			for (int j = 0; j <= i; j += 101) {
				n = snprintf(key, sizeof(key), "key:%d", j);
				struct db_entry *e = db_get(&db, key, (size_t)n, 0);
				CHECK(e && e->vlen == (uint32_t)n &&
				      memcmp(db_value(e), key, (size_t)n) == 0);
			}
		}
	}
	CHECK_EQ(db_size(&db), 20000);
	while (db.rehashing)
		db_cycle(&db, 0, 64);
	CHECK(db.t[0].mask + 1 >= 16384);
	for (int i = 0; i < 20000; i++) {
		int n = snprintf(key, sizeof(key), "key:%d", i);
		CHECK(db_delete(&db, key, (size_t)n, 0));
	}
	CHECK_EQ(db_size(&db), 0);
	while (db.rehashing)
		db_cycle(&db, 0, 64);
	CHECK(db.t[0].mask + 1 <= 64); /* shrunk back */
	db_flush(&db);
	db_reap(&db, SIZE_MAX);
	CHECK_EQ(db.used_bytes, 0);
}

/* ---- hashing and patterns ---------------------------------------------------------------- */

TEST(hash_and_owner)
{
	/* the hash is documented (db.h): FNV-1a 64 then fmix64 */
	CHECK(db_hash("", 0) == 0xefd01f60ba992926ull);
	CHECK(db_hash("a", 1) == 0x82a2a958a9bece5bull);
	CHECK(db_hash("foobar", 6) == 0x2c22194922d1672bull);
	CHECK_EQ(cmd_owner("foobar", 6, 4), 1);
	/* keys that differ only at the end spread evenly over 2, 3 and 4 shards */
	static const char *const formats[] = { "big%d", "k%d", "key:%d", "key:%012d",
		                               "user:%d:name" };
	char key[32];
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		for (unsigned n = 2; n <= 4; n++) {
			unsigned count[4] = { 0 };
			for (int i = 0; i < 4000; i++) {
				int len = snprintf(key, sizeof(key), formats[f], i);
				count[cmd_owner(key, (size_t)len, n)]++;
			}
			for (unsigned s = 0; s < n; s++) {
				if (count[s] < 4000 / n * 85 / 100 ||
				    count[s] > 4000 / n * 115 / 100) {
					fprintf(stderr, "  %s over %u shards: %u on shard %u\n",
					        formats[f], n, count[s], s);
					test_failed_++;
				}
			}
		}
	}
}

TEST(glob)
{
	CHECK(cmd_glob("*", 1, "", 0, false));
	CHECK(cmd_glob("sav*", 4, "save", 4, false));
	CHECK(!cmd_glob("sav*", 4, "port", 4, false));
	CHECK(cmd_glob("?ort", 4, "port", 4, false));
	CHECK(cmd_glob("*max*", 5, "maxmemory-policy", 16, false));
	CHECK(cmd_glob("[a-c]x", 6, "bx", 2, false));
	CHECK(!cmd_glob("[^a-c]x", 7, "bx", 2, false));
	CHECK(cmd_glob("a\\*", 3, "a*", 2, false));
	CHECK(!cmd_glob("a\\*", 3, "ab", 2, false));
	CHECK(cmd_glob("SAVE", 4, "save", 4, true));
	CHECK(!cmd_glob("SAVE", 4, "save", 4, false));
	CHECK(!cmd_glob("a", 1, "ab", 2, false));
	/* a pathological pattern takes linear, not exponential, time */
	char pat[4002], s[4001];
	for (int i = 0; i < 2000; i++) {
		pat[2 * i] = '*';
		pat[2 * i + 1] = 'a';
	}
	pat[4000] = 'b';
	memset(s, 'a', 4000);
	CHECK(!cmd_glob(pat, 4001, s, 30, false));
}

/* Merging: an error from any shard is the answer; a failed part fails the whole. */
TEST(merge_errors)
{
	reset(3, 0);
	struct resp_arg argv[3] = { { .p = "del", .len = 3 },
		                    { .p = "a", .len = 1 },
		                    { .p = "b", .len = 1 } };
	struct resp_buf out = { 0 };
	struct cmd_answer ans[2] = { { .shard = 0 }, { .shard = 1 } };
	const struct cmd_desc *del = cmd_lookup(3, argv, &out);
	struct cmd_ctx ctx = { .server = &server };
	uint8_t owner[2] = { 0, 1 };
	REQUIRE(del != NULL);
	resp_add_int(&ans[0].reply, 1);
	resp_add_error(&ans[1].reply, "OOM command not allowed when used memory > 'maxmemory'.");
	cmd_merge(&ctx, del, 3, argv, owner, ans, 2, &out);
	CHECK(out.len == 58 && memcmp(out.data, "-OOM", 4) == 0);
	resp_buf_reset(&out);
	ans[1].reply.failed = true;
	cmd_merge(&ctx, del, 3, argv, owner, ans, 2, &out);
	CHECK(out.failed);
	resp_buf_free(&out);
	resp_buf_free(&ans[0].reply);
	resp_buf_free(&ans[1].reply);
}

int main(void)
{
	RUN(unknown_commands);
	RUN(arity);
	RUN(strings_1);
	RUN(strings_3);
	RUN(set_options_1);
	RUN(set_options_3);
	RUN(counters_1);
	RUN(counters_3);
	RUN(multikey_1);
	RUN(multikey_3);
	RUN(expiry_1);
	RUN(expiry_3);
	RUN(no_wall_clock);
	RUN(active_expiry);
	RUN(flush_and_dbsize);
	RUN(connection_commands);
	RUN(command_command);
	RUN(info);
	RUN(maxmemory);
	RUN(rehash);
	RUN(hash_and_owner);
	RUN(glob);
	RUN(merge_errors);
	RUN(flush_in_steps);
	reset(1, 0);
	cmd_session_free(&session);
	resp_buf_free(&reply);
	TEST_EXIT();
}
