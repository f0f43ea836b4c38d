/*
 * cmd.c - the command table, lookup, and the keyspace commands (see cmd.h). The commands that
 * need no shard (PING, CLIENT, CONFIG, COMMAND...) and INFO are in cmd_server.c; splitting and
 * merging commands that span shards in cmd_route.c.
 *
 * Every keyspace command follows Redis 7.0's code path closely enough that its replies and
 * errors are the same, in the same order of checks: options are parsed before numbers are
 * checked, numbers before the key is looked at, and the maxmemory check comes first of all.
 * Times are those of the caller's clock: Unix time in ms, as Redis, when the machine has a
 * real-time clock (then even the overflow limits of expire times are Redis'), else ms since
 * boot (then the largest accepted expire time is larger, and EXAT/PXAT are refused).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "cmd_server.h"

const char cmd_err_oom[] = "OOM command not allowed when used memory > 'maxmemory'.";
const char cmd_err_syntax[] = "ERR syntax error";
const char cmd_err_not_int[] = "ERR value is not an integer or out of range";
static const char ERR_OVERFLOW[] = "ERR increment or decrement would overflow";
static const char ERR_NO_WALL_CLOCK[] =
        "ERR EXAT and PXAT need a wall clock, and this machine has no real-time clock";

bool cmd_arg_is(const struct resp_arg *a, const char *lit)
{
	size_t n = strlen(lit);
	return a->len == n && strncasecmp(a->p, lit, n) == 0;
}

/* ---- lookups that count ------------------------------------------------------------------ */

static struct db_entry *lookup_read(struct cmd_ctx *ctx, const struct resp_arg *key)
{
	struct db_entry *e = db_get(ctx->db, key->p, key->len, ctx->now_ms);
	if (e)
		ctx->db->stats.hits++;
	else
		ctx->db->stats.misses++;
	return e;
}

static struct db_entry *lookup_write(struct cmd_ctx *ctx, const struct resp_arg *key)
{
	return db_get(ctx->db, key->p, key->len, ctx->now_ms);
}

static void reply_oom(struct cmd_ctx *ctx, struct resp_buf *out)
{
	ctx->db->stats.oom_rejected++;
	resp_add_error(out, cmd_err_oom);
}

/* ---- strings ----------------------------------------------------------------------------- */

size_t cmd_reply_bytes(struct cmd_ctx *ctx, const struct cmd_desc *cmd, size_t argc,
                       const struct resp_arg *argv)
{
	size_t bytes = 0;
	if (cmd->flags & CMD_DENYOOM)
		for (size_t i = 1; i < argc; i++)
			bytes += argv[i].len + 16;
	if (cmd->flags & CMD_VALUES) {
		struct db_stats keep = ctx->db->stats; /* a look ahead is not a read */
		for (size_t i = 1; i < argc; i++) {
			struct db_entry *e = db_get(ctx->db, argv[i].p, argv[i].len, ctx->now_ms);
			bytes += (e ? e->vlen : 0) + 16;
		}
		ctx->db->stats = keep;
	}
	return bytes;
}

static void do_get(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                   struct resp_buf *out)
{
	(void)argc;
	struct db_entry *e = lookup_read(ctx, &argv[1]);
	if (e)
		resp_add_bulk(out, db_value(e), e->vlen);
	else
		resp_add_null(out);
}

enum {
	SET_NX = 1 << 0,
	SET_XX = 1 << 1,
	SET_GET = 1 << 2,
	SET_KEEPTTL = 1 << 3,
	SET_EX = 1 << 4,
	SET_PX = 1 << 5,
	SET_EXAT = 1 << 6,
	SET_PXAT = 1 << 7,
};

/*
 * SET key value [NX|XX] [GET] [EX s|PX ms|EXAT|PXAT|KEEPTTL]. Each option is accepted unless
 * one it excludes came before (Redis' rule: a repeated EX is fine, EX then PX is not). EXAT and
 * PXAT are Unix times: without a wall clock (cmd_server.wall_clock) they are parsed, so their
 * conflicts are the same, and then refused.
 */
static void do_set(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                   struct resp_buf *out)
{
	const unsigned timed = SET_EX | SET_PX | SET_EXAT | SET_PXAT;
	const struct resp_arg *expire = NULL;
	unsigned f = 0;

	for (size_t j = 3; j < argc; j++) {
		const struct resp_arg *o = &argv[j];
		unsigned t = 0; /* which time option o is, if any */
		if (cmd_arg_is(o, "ex"))
			t = SET_EX;
		else if (cmd_arg_is(o, "px"))
			t = SET_PX;
		else if (cmd_arg_is(o, "exat"))
			t = SET_EXAT;
		else if (cmd_arg_is(o, "pxat"))
			t = SET_PXAT;

		if (cmd_arg_is(o, "nx") && !(f & SET_XX)) {
			f |= SET_NX;
		} else if (cmd_arg_is(o, "xx") && !(f & SET_NX)) {
			f |= SET_XX;
		} else if (cmd_arg_is(o, "get")) {
			f |= SET_GET;
		} else if (cmd_arg_is(o, "keepttl") && !(f & timed)) {
			f |= SET_KEEPTTL;
		} else if (t && j + 1 < argc && !(f & SET_KEEPTTL) && !(f & timed & ~t)) {
			f |= t;
			expire = &argv[++j];
		} else {
			resp_add_error(out, cmd_err_syntax);
			return;
		}
	}

	int64_t when = DB_NO_EXPIRE;
	if (expire) {
		long long ms;
		if (!resp_str2ll(expire->p, expire->len, &ms)) {
			resp_add_error(out, cmd_err_not_int);
			return;
		}
		bool absolute = f & (SET_EXAT | SET_PXAT), seconds = f & (SET_EX | SET_EXAT);
		if (absolute && !ctx->server->wall_clock) {
			resp_add_error(out, ERR_NO_WALL_CLOCK);
			return;
		}
		if (ms <= 0 || (seconds && ms > INT64_MAX / 1000)) {
			resp_add_error(out, "ERR invalid expire time in 'set' command");
			return;
		}
		if (seconds)
			ms *= 1000;
		if (!absolute && ms > INT64_MAX - ctx->now_ms) {
			resp_add_error(out, "ERR invalid expire time in 'set' command");
			return;
		}
		/* a time already past is set all the same: the key is gone at its next lookup */
		when = absolute ? ms : ms + ctx->now_ms;
	}

	size_t start = out->len;
	struct db_entry *old = lookup_write(ctx, &argv[1]);
	if (f & SET_GET) {
		if (old)
			resp_add_bulk(out, db_value(old), old->vlen);
		else
			resp_add_null(out);
	}
	if (((f & SET_NX) && old) || ((f & SET_XX) && !old)) {
		if (!(f & SET_GET))
			resp_add_null(out);
		return;
	}
	if ((f & SET_KEEPTTL) && old)
		when = old->expire_ms;
	if (!db_set(ctx->db, argv[1].p, argv[1].len, argv[2].p, argv[2].len, when)) {
		out->len = start; /* take back GET's answer: the command failed as a whole */
		reply_oom(ctx, out);
		return;
	}
	if (!(f & SET_GET))
		resp_add_status(out, "OK");
}

static void incr_by(struct cmd_ctx *ctx, const struct resp_arg *key, long long incr,
                    struct resp_buf *out)
{
	struct db_entry *e = lookup_write(ctx, key);
	long long v = 0;
	char text[24];

	if (e && !resp_str2ll(db_value(e), e->vlen, &v)) {
		resp_add_error(out, cmd_err_not_int);
		return;
	}
	if ((incr < 0 && v < 0 && incr < INT64_MIN - v) ||
	    (incr > 0 && v > 0 && incr > INT64_MAX - v)) {
		resp_add_error(out, ERR_OVERFLOW);
		return;
	}
	v += incr;
	size_t n = resp_ll2str(text, v);
	/* the expiry stays, as in Redis: INCR changes the value, not the key */
	if (!db_set(ctx->db, key->p, key->len, text, n, e ? e->expire_ms : DB_NO_EXPIRE)) {
		reply_oom(ctx, out);
		return;
	}
	resp_add_int(out, v);
}

static void do_incr(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                    struct resp_buf *out)
{
	(void)argc;
	incr_by(ctx, &argv[1], 1, out);
}

static void do_decr(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                    struct resp_buf *out)
{
	(void)argc;
	incr_by(ctx, &argv[1], -1, out);
}

static void do_incrby(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                      struct resp_buf *out)
{
	long long incr;
	(void)argc;
	if (!resp_str2ll(argv[2].p, argv[2].len, &incr)) {
		resp_add_error(out, cmd_err_not_int);
		return;
	}
	incr_by(ctx, &argv[1], incr, out);
}

static void do_decrby(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                      struct resp_buf *out)
{
	long long decr;
	(void)argc;
	if (!resp_str2ll(argv[2].p, argv[2].len, &decr)) {
		resp_add_error(out, cmd_err_not_int);
		return;
	}
	if (decr == INT64_MIN) {
		resp_add_error(out, "ERR decrement would overflow");
		return;
	}
	incr_by(ctx, &argv[1], -decr, out);
}

/* ---- several keys (each shard gets its own keys: see cmd_part) ---------------------------- */

static void do_del(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                   struct resp_buf *out)
{
	long long n = 0;
	for (size_t i = 1; i < argc; i++)
		n += db_delete(ctx->db, argv[i].p, argv[i].len, ctx->now_ms);
	resp_add_int(out, n);
}

static void do_exists(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                      struct resp_buf *out)
{
	long long n = 0;
	for (size_t i = 1; i < argc; i++)
		n += lookup_read(ctx, &argv[i]) != NULL;
	resp_add_int(out, n);
}

static void do_mget(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                    struct resp_buf *out)
{
	resp_add_array(out, (long long)argc - 1);
	for (size_t i = 1; i < argc; i++) {
		struct db_entry *e = lookup_read(ctx, &argv[i]);
		if (e)
			resp_add_bulk(out, db_value(e), e->vlen);
		else
			resp_add_null(out);
	}
}

static void do_mset(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                    struct resp_buf *out)
{
	for (size_t i = 1; i + 1 < argc; i += 2) {
		if (!db_set(ctx->db, argv[i].p, argv[i].len, argv[i + 1].p, argv[i + 1].len,
		            DB_NO_EXPIRE)) {
			reply_oom(ctx, out);
			return;
		}
	}
	resp_add_status(out, "OK");
}

/* ---- expiry ------------------------------------------------------------------------------ */

enum { EXP_NX = 1, EXP_XX = 2, EXP_GT = 4, EXP_LT = 8 };

/* EXPIRE / PEXPIRE key time [NX|XX|GT|LT]; unit 1000 for seconds, 1 for milliseconds. */
static void expire_generic(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                           long long unit, const char *name, struct resp_buf *out)
{
	unsigned f = 0;
	long long when;

	for (size_t j = 3; j < argc; j++) {
		if (cmd_arg_is(&argv[j], "nx")) {
			f |= EXP_NX;
		} else if (cmd_arg_is(&argv[j], "xx")) {
			f |= EXP_XX;
		} else if (cmd_arg_is(&argv[j], "gt")) {
			f |= EXP_GT;
		} else if (cmd_arg_is(&argv[j], "lt")) {
			f |= EXP_LT;
		} else {
			/* Redis prints the option as a C string: up to a NUL */
			resp_add_errorf(
			        out, "ERR Unsupported option %.*s",
			        (int)strnlen(argv[j].p, argv[j].len > 400 ? 400 : argv[j].len),
			        argv[j].p);
			return;
		}
	}
	if ((f & EXP_NX) && (f & (EXP_XX | EXP_GT | EXP_LT))) {
		resp_add_error(out, "ERR NX and XX, GT or LT options at the same time are not "
		                    "compatible");
		return;
	}
	if ((f & EXP_GT) && (f & EXP_LT)) {
		resp_add_error(out, "ERR GT and LT options at the same time are not compatible");
		return;
	}
	if (!resp_str2ll(argv[2].p, argv[2].len, &when)) {
		resp_add_error(out, cmd_err_not_int);
		return;
	}
	if (unit > 1) {
		if (when > INT64_MAX / unit || when < INT64_MIN / unit) {
			resp_add_errorf(out, "ERR invalid expire time in '%s' command", name);
			return;
		}
		when *= unit;
	}
	if (when > INT64_MAX - ctx->now_ms) {
		resp_add_errorf(out, "ERR invalid expire time in '%s' command", name);
		return;
	}
	when += ctx->now_ms;

	struct db_entry *e = lookup_write(ctx, &argv[1]);
	if (!e) {
		resp_add_int(out, 0);
		return;
	}
	int64_t cur = e->expire_ms; /* DB_NO_EXPIRE counts as forever */
	if (((f & EXP_NX) && cur != DB_NO_EXPIRE) || ((f & EXP_XX) && cur == DB_NO_EXPIRE) ||
	    ((f & EXP_GT) && (cur == DB_NO_EXPIRE || when <= cur)) ||
	    ((f & EXP_LT) && cur != DB_NO_EXPIRE && when >= cur)) {
		resp_add_int(out, 0);
		return;
	}
	if (when <= ctx->now_ms)
		db_delete(ctx->db, argv[1].p, argv[1].len, ctx->now_ms); /* already past: gone */
	else
		db_set_expire(ctx->db, e, when);
	resp_add_int(out, 1);
}

static void do_expire(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                      struct resp_buf *out)
{
	expire_generic(ctx, argc, argv, 1000, "expire", out);
}

static void do_pexpire(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                       struct resp_buf *out)
{
	expire_generic(ctx, argc, argv, 1, "pexpire", out);
}

static void ttl_generic(struct cmd_ctx *ctx, const struct resp_arg *key, bool ms,
                        struct resp_buf *out)
{
	struct db_entry *e = lookup_read(ctx, key);
	if (!e) {
		resp_add_int(out, -2);
		return;
	}
	if (e->expire_ms == DB_NO_EXPIRE) {
		resp_add_int(out, -1);
		return;
	}
	long long ttl = e->expire_ms - ctx->now_ms;
	if (ttl < 0)
		ttl = 0;
	resp_add_int(out, ms ? ttl : (ttl + 500) / 1000);
}

static void do_ttl(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                   struct resp_buf *out)
{
	(void)argc;
	ttl_generic(ctx, &argv[1], false, out);
}

static void do_pttl(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                    struct resp_buf *out)
{
	(void)argc;
	ttl_generic(ctx, &argv[1], true, out);
}

static void do_persist(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                       struct resp_buf *out)
{
	(void)argc;
	struct db_entry *e = lookup_write(ctx, &argv[1]);
	if (!e || e->expire_ms == DB_NO_EXPIRE) {
		resp_add_int(out, 0);
		return;
	}
	db_set_expire(ctx->db, e, DB_NO_EXPIRE);
	resp_add_int(out, 1);
}

/* ---- the whole shard --------------------------------------------------------------------- */

static void do_dbsize(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                      struct resp_buf *out)
{
	(void)argc;
	(void)argv;
	resp_add_int(out, (long long)db_size(ctx->db));
}

/* FLUSHALL / FLUSHDB [ASYNC|SYNC]: both flush at once (one database, freed in place). */
static void do_flush(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                     struct resp_buf *out)
{
	if (argc > 2 ||
	    (argc == 2 && !cmd_arg_is(&argv[1], "sync") && !cmd_arg_is(&argv[1], "async"))) {
		resp_add_error(out, cmd_err_syntax);
		return;
	}
	db_flush(ctx->db);
	resp_add_status(out, "OK");
}

/* ---- the table --------------------------------------------------------------------------- */

#define KEY1 1, 1, 1
#define KEYS_ALL 1, -1, 1
#define NOKEYS 0, 0, 0

/* clang-format off */
const struct cmd_desc cmd_table[] = {
	{ "get", 2, CMD_READONLY | CMD_FAST | CMD_VALUES, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE, do_get,
	  "@read @string @fast", "Get the value of a key", "1.0.0", "string", "O(1)", NULL, 0 },
	{ "set", -3, CMD_WRITE | CMD_DENYOOM, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE, do_set,
	  "@write @string @slow", "Set the string value of a key", "1.0.0", "string", "O(1)",
	  NULL, 0 },
	{ "del", -2, CMD_WRITE, KEYS_ALL, CMD_ROUTE_KEYS, CMD_MERGE_SUM, do_del,
	  "@keyspace @write @slow", "Delete a key", "1.0.0", "generic",
	  "O(N) where N is the number of keys that will be removed.", NULL, 0 },
	{ "exists", -2, CMD_READONLY | CMD_FAST, KEYS_ALL, CMD_ROUTE_KEYS, CMD_MERGE_SUM,
	  do_exists, "@keyspace @read @fast", "Determine if a key exists", "1.0.0", "generic",
	  "O(N) where N is the number of keys to check.", NULL, 0 },
	{ "incr", 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE,
	  do_incr, "@write @string @fast", "Increment the integer value of a key by one",
	  "1.0.0", "string", "O(1)", NULL, 0 },
	{ "decr", 2, CMD_WRITE | CMD_DENYOOM | CMD_FAST, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE,
	  do_decr, "@write @string @fast", "Decrement the integer value of a key by one",
	  "1.0.0", "string", "O(1)", NULL, 0 },
	{ "incrby", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE,
	  do_incrby, "@write @string @fast",
	  "Increment the integer value of a key by the given amount", "1.0.0", "string", "O(1)",
	  NULL, 0 },
	{ "decrby", 3, CMD_WRITE | CMD_DENYOOM | CMD_FAST, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE,
	  do_decrby, "@write @string @fast",
	  "Decrement the integer value of a key by the given number", "1.0.0", "string", "O(1)",
	  NULL, 0 },
	{ "mget", -2, CMD_READONLY | CMD_FAST | CMD_VALUES, KEYS_ALL, CMD_ROUTE_KEYS, CMD_MERGE_ARRAY, do_mget,
	  "@read @string @fast", "Get the values of all the given keys", "1.0.0", "string",
	  "O(N) where N is the number of keys to retrieve.", NULL, 0 },
	{ "mset", -3, CMD_WRITE | CMD_DENYOOM | CMD_PAIRS, 1, -1, 2, CMD_ROUTE_KEYS, CMD_MERGE_OK,
	  do_mset, "@write @string @slow", "Set multiple keys to multiple values", "1.0.1",
	  "string", "O(N) where N is the number of keys to set.", NULL, 0 },
	{ "expire", -3, CMD_WRITE | CMD_FAST, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE, do_expire,
	  "@keyspace @write @fast", "Set a key's time to live in seconds", "1.0.0", "generic",
	  "O(1)", NULL, 0 },
	{ "pexpire", -3, CMD_WRITE | CMD_FAST, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE, do_pexpire,
	  "@keyspace @write @fast", "Set a key's time to live in milliseconds", "2.6.0",
	  "generic", "O(1)", NULL, 0 },
	{ "ttl", 2, CMD_READONLY | CMD_FAST, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE, do_ttl,
	  "@keyspace @read @fast", "Get the time to live for a key in seconds", "1.0.0",
	  "generic", "O(1)", NULL, 0 },
	{ "pttl", 2, CMD_READONLY | CMD_FAST, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE, do_pttl,
	  "@keyspace @read @fast", "Get the time to live for a key in milliseconds", "2.6.0",
	  "generic", "O(1)", NULL, 0 },
	{ "persist", 2, CMD_WRITE | CMD_FAST, KEY1, CMD_ROUTE_KEY, CMD_MERGE_ONE, do_persist,
	  "@keyspace @write @fast", "Remove the expiration from a key", "2.2.0", "generic",
	  "O(1)", NULL, 0 },
	{ "dbsize", 1, CMD_READONLY | CMD_FAST, NOKEYS, CMD_ROUTE_ALL, CMD_MERGE_SUM, do_dbsize,
	  "@keyspace @read @fast", "Return the number of keys in the selected database", "1.0.0",
	  "server", "O(1)", NULL, 0 },
	{ "flushall", -1, CMD_WRITE, NOKEYS, CMD_ROUTE_ALL, CMD_MERGE_OK, do_flush,
	  "@keyspace @write @slow @dangerous", "Remove all keys from all databases", "1.0.0",
	  "server", "O(N) where N is the total number of keys in all databases", NULL, 0 },
	{ "flushdb", -1, CMD_WRITE, NOKEYS, CMD_ROUTE_ALL, CMD_MERGE_OK, do_flush,
	  "@keyspace @write @slow @dangerous", "Remove all keys from the current database",
	  "1.0.0", "server", "O(N) where N is the number of keys in the selected database", NULL,
	  0 },
	{ "info", -1, CMD_LOADING | CMD_STALE, NOKEYS, CMD_ROUTE_ALL, CMD_MERGE_INFO,
	  cmd_info_part, "@slow @dangerous",
	  "Get information and statistics about the server", "1.0.0", "server", "O(1)", NULL, 0 },
	{ "ping", -1, CMD_FAST, NOKEYS, CMD_ROUTE_CONN, CMD_MERGE_ONE, cmd_ping,
	  "@fast @connection", "Ping the server", "1.0.0", "connection", "O(1)", NULL, 0 },
	{ "echo", 2, CMD_FAST, NOKEYS, CMD_ROUTE_CONN, CMD_MERGE_ONE, cmd_echo,
	  "@fast @connection", "Echo the given string", "1.0.0", "connection", "O(1)", NULL, 0 },
	{ "select", 2, CMD_LOADING | CMD_STALE | CMD_FAST, NOKEYS, CMD_ROUTE_CONN, CMD_MERGE_ONE,
	  cmd_select, "@fast @connection", "Change the selected database for the current connection",
	  "1.0.0", "connection", "O(1)", NULL, 0 },
	{ "quit", -1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST, NOKEYS, CMD_ROUTE_CONN,
	  CMD_MERGE_ONE, cmd_quit, "@fast @connection", "Close the connection", "1.0.0",
	  "connection", "O(1)", NULL, 0 },
	{ "shutdown", -1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_ADMIN, NOKEYS,
	  CMD_ROUTE_CONN, CMD_MERGE_ONE, cmd_shutdown, "@admin @slow @dangerous",
	  "Synchronously save the dataset to disk and then shut down the server", "1.0.0",
	  "server", "O(N) when saving, where N is the total number of keys in all databases when "
	  "saving data, otherwise O(1)", NULL, 0 },
	{ "client", -2, 0, NOKEYS, CMD_ROUTE_CONN, CMD_MERGE_ONE, NULL, "@slow",
	  "A container for client connection commands", "2.4.0", "connection",
	  "Depends on subcommand.", cmd_client_subs, CMD_CLIENT_SUBS },
	{ "config", -2, 0, NOKEYS, CMD_ROUTE_CONN, CMD_MERGE_ONE, NULL, "@slow",
	  "A container for server configuration commands", "2.0.0", "server",
	  "Depends on subcommand.", cmd_config_subs, CMD_CONFIG_SUBS },
	{ "command", -1, CMD_LOADING | CMD_STALE, NOKEYS, CMD_ROUTE_CONN, CMD_MERGE_ONE,
	  cmd_command, "@slow @connection", "Get array of Redis command details", "2.8.13",
	  "server", "O(N) where N is the total number of Redis commands", cmd_command_subs,
	  CMD_COMMAND_SUBS },
};
/* clang-format on */
const size_t cmd_table_len = sizeof(cmd_table) / sizeof(cmd_table[0]);

/* ---- lookup ------------------------------------------------------------------------------ */

static const struct cmd_desc *find_in(const struct cmd_desc *table, size_t n,
                                      const struct resp_arg *name, size_t skip)
{
	for (size_t i = 0; i < n; i++) {
		const char *s = table[i].name + skip;
		if (strlen(s) == name->len && strncasecmp(s, name->p, name->len) == 0)
			return &table[i];
	}
	return NULL;
}

/* Length of a as Redis' "%s" prints it: up to a NUL, at most max. */
static int cstr_len(const struct resp_arg *a, size_t max)
{
	return (int)strnlen(a->p, a->len < max ? a->len : max);
}

const struct cmd_desc *cmd_lookup(size_t argc, const struct resp_arg *argv, struct resp_buf *err)
{
	const struct cmd_desc *cmd = find_in(cmd_table, cmd_table_len, &argv[0], 0);

	if (!cmd) {
		/* "'%.*s' " for each argument while the text is under 128 bytes, as Redis */
		char args[160];
		size_t n = 0;
		for (size_t i = 1; i < argc && n < 128; i++) {
			int room = 128 - (int)n;
			int len = cstr_len(&argv[i], (size_t)room);
			n += (size_t)snprintf(args + n, sizeof(args) - n, "'%.*s' ", len,
			                      argv[i].p);
		}
		args[n] = '\0';
		resp_add_errorf(err, "ERR unknown command '%.*s', with args beginning with: %s",
		                cstr_len(&argv[0], 128), argv[0].p, args);
		return NULL;
	}
	if (cmd->subs && argc >= 2) {
		size_t skip = strlen(cmd->name) + 1; /* "config|" */
		const struct cmd_desc *sub = find_in(cmd->subs, cmd->nsubs, &argv[1], skip);
		if (!sub) {
			char upper[129];
			int n = cstr_len(&argv[0], 128);
			for (int i = 0; i < n; i++) {
				char c = argv[0].p[i];
				upper[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
			}
			upper[n] = '\0';
			resp_add_errorf(err, "ERR unknown subcommand '%.*s'. Try %s HELP.",
			                cstr_len(&argv[1], 128), argv[1].p, upper);
			return NULL;
		}
		cmd = sub;
	}
	if ((cmd->arity > 0 && (size_t)cmd->arity != argc) ||
	    (cmd->arity < 0 && argc < (size_t)-cmd->arity) ||
	    ((cmd->flags & CMD_PAIRS) && argc % 2 == 0)) {
		resp_add_errorf(err, "ERR wrong number of arguments for '%s' command", cmd->name);
		return NULL;
	}
	return cmd;
}

void cmd_run(struct cmd_ctx *ctx, const struct cmd_desc *cmd, size_t argc,
             const struct resp_arg *argv, struct resp_buf *out)
{
	if (cmd->route != CMD_ROUTE_CONN) {
		ctx->db->stats.commands++;
		if ((cmd->flags & CMD_DENYOOM) && db_full(ctx->db)) {
			reply_oom(ctx, out);
			return;
		}
	}
	cmd->exec(ctx, argc, argv, out);
}
