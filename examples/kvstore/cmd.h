/*
 * cmd.h - kvstore's commands: the table (name, arity, flags, key positions, how the command
 * reaches the shards), execution on one shard, and splitting and merging of commands that span
 * shards.
 *
 * Nothing here calls the kernel or knows about messages: the caller decides where a command
 * runs. The host unit test runs several shards in one process through exactly the calls the
 * server makes (cmd_lookup, cmd_owners, cmd_part, cmd_run, cmd_merge).
 *
 * The keyspace is sharded by key: the owner of a key is cmd_owner() =
 *     (fmix64(FNV-1a-64(key)) >> 32) % nshards
 * (db_hash; its low bits choose the bucket inside the shard). A command reaches
 * the shards by its route:
 *   CMD_ROUTE_CONN  answered by the connection, no shard: PING ECHO SELECT QUIT CLIENT CONFIG
 *                   COMMAND
 *   CMD_ROUTE_KEY   one key, argv[1]: the whole command runs on the key's owner
 *   CMD_ROUTE_KEYS  several keys: each owner runs the same command on its own keys (cmd_part),
 *                   and the answers are merged (cmd_merge): DEL EXISTS MGET MSET
 *   CMD_ROUTE_ALL   every shard runs it with all arguments, answers merged: DBSIZE FLUSHALL
 *                   FLUSHDB INFO
 * A command that spans shards is not atomic across them: another client may see an MSET half
 * done, and DBSIZE counts each shard at a slightly different moment.
 *
 * Error replies are Redis 7's texts, byte for byte (unknown command, arity, syntax, integers,
 * overflow, expire times, options). Only strings exist, so -WRONGTYPE never happens.
 */
#ifndef KVSTORE_CMD_H
#define KVSTORE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "resp.h"

#define CMD_MAX_SHARDS 256 /* owner numbers fit in a uint8_t */

enum {
	CMD_WRITE = 1 << 0,    /* changes the shard (its keys go to the append-only log) */
	CMD_READONLY = 1 << 1, /* only reads */
	CMD_DENYOOM = 1 << 2,  /* refused with -OOM once the shard is at maxmemory */
	CMD_FAST = 1 << 3,     /* O(1) (COMMAND shows it) */
	CMD_ADMIN = 1 << 4,    /* COMMAND shows it */
	CMD_LOADING = 1 << 5,  /* COMMAND shows it */
	CMD_STALE = 1 << 6,    /* COMMAND shows it */
	CMD_NOSCRIPT = 1 << 7, /* COMMAND shows it */
	CMD_PAIRS = 1 << 8,    /* arguments after the name come in key-value pairs (MSET) */
	CMD_VALUES = 1 << 9,   /* every argument after the name is a key whose value the reply
	                          carries (GET MGET): cmd_reply_bytes knows the reply's size */
};

enum cmd_route { CMD_ROUTE_CONN, CMD_ROUTE_KEY, CMD_ROUTE_KEYS, CMD_ROUTE_ALL };

/* How the answers of several shards become one. */
enum cmd_merge {
	CMD_MERGE_ONE,   /* one shard answers: its reply is the reply */
	CMD_MERGE_SUM,   /* integers, added: DEL EXISTS DBSIZE */
	CMD_MERGE_OK,    /* +OK from each: FLUSHALL MSET */
	CMD_MERGE_ARRAY, /* one element per key, put back in the order of the keys: MGET */
	CMD_MERGE_INFO,  /* INFO sections of each core, after the server's */
};

/* Facts about the whole server (INFO, CONFIG GET), set once at start. [I] */
struct cmd_server {
	unsigned nshards;  /* shards = cores */
	unsigned port;     /* TCP port */
	int64_t start_ms;  /* the clock when the server started (uptime) */
	size_t maxmemory;  /* each shard's limit, bytes */
	unsigned idle_sec; /* an idle connection is closed after this many seconds */
	bool wall_clock;   /* now_ms is Unix time (else time since boot: no EXAT, PXAT) */
	bool appendonly;   /* an append-only log is kept (appendonly=yes) */
};

/* One client connection's own state (CLIENT, QUIT). Owned by the connection. */
struct cmd_session {
	uint64_t id;   /* CLIENT ID */
	char *name;    /* CLIENT SETNAME (malloc'd), or NULL */
	bool quit;     /* QUIT was answered: close after writing the replies */
	bool shutdown; /* SHUTDOWN: end the VM after writing the replies before it */
};

/* Frees what a session holds. */
void cmd_session_free(struct cmd_session *s);

struct cmd_ctx;
typedef void cmd_fn(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                    struct resp_buf *out);

/* One command (or subcommand, e.g. "config|get"). [I] */
struct cmd_desc {
	const char *name;              /* full name, lower case: "get", "config|get" */
	int arity;                     /* argc exactly, or at least -arity if negative */
	unsigned flags;                /* CMD_* */
	int first_key, last_key, step; /* key positions, as COMMAND shows them (last < 0: from
	                                     the end) */
	enum cmd_route route;          /* how it reaches the shards */
	enum cmd_merge merge;          /* how answers combine */
	cmd_fn *exec;                  /* runs it (on one shard, or for the connection) */
	const char *acl;               /* ACL categories, e.g. "@read @string @fast" */
	const char *summary;           /* COMMAND DOCS */
	const char *since;             /* COMMAND DOCS: Redis version that added it */
	const char *group;             /* COMMAND DOCS */
	const char *complexity;        /* COMMAND DOCS */
	const struct cmd_desc *subs;   /* subcommands (a container like CONFIG), or NULL */
	size_t nsubs;                  /* how many */
};

/* What running a command needs besides its arguments. */
struct cmd_ctx {
	struct db *db;                   /* the shard (KEY, KEYS, ALL routes) */
	unsigned shard;                  /* its number, 0..nshards-1 */
	int64_t now_ms;                  /* the clock, ms: Unix time if server->wall_clock */
	const struct cmd_server *server; /* [I] */
	struct cmd_session *session;     /* the client (CONN route) */
	/* INFO: adds "name:value\r\n" lines about this core beyond the shard's own (connections,
	 * messages, kernel counters); NULL for none. */
	void (*info_core)(struct resp_buf *text, void *arg);
	void *info_arg; /* its argument */
};

/*
 * The command argv[0] (and argv[1] for a container) names, or NULL after writing the error to
 * err: unknown command, unknown subcommand, wrong number of arguments (arity, and pairs for
 * MSET). argc >= 1.
 */
const struct cmd_desc *cmd_lookup(size_t argc, const struct resp_arg *argv, struct resp_buf *err);

/* The shard owning a key. */
unsigned cmd_owner(const void *key, size_t len, unsigned nshards);

/* KEY and KEYS routes: how many keys the request names. */
size_t cmd_nkeys(const struct cmd_desc *cmd, size_t argc);
/* Their owners, in order: owner[i] for the i-th key. */
void cmd_owners(const struct cmd_desc *cmd, size_t argc, const struct resp_arg *argv,
                unsigned nshards, uint8_t *owner);
/* The request shard s runs for a KEYS command: argv[0] and the keys (with their values for
 * MSET) that s owns, in order, into part[] (room for argc entries). Returns its argc; 1 when s
 * owns none of the keys. */
size_t cmd_part(const struct cmd_desc *cmd, size_t argc, const struct resp_arg *argv,
                const uint8_t *owner, unsigned s, struct resp_arg *part);

/*
 * The bytes cmd's reply will need at most, as far as they can be known before it runs: the
 * values it will return (CMD_VALUES) and the data it will store (CMD_DENYOOM: the arguments),
 * plus framing; 0 for the rest. Lets a shard refuse a request before allocating for it. Looks
 * keys up on ctx->db without counting hits or misses.
 */
size_t cmd_reply_bytes(struct cmd_ctx *ctx, const struct cmd_desc *cmd, size_t argc,
                       const struct resp_arg *argv);

/*
 * Runs cmd (found by cmd_lookup) with argv on ctx->db, or for ctx->session on the CONN route,
 * appending the reply to out. Refuses a CMD_DENYOOM command with Redis' -OOM error when the
 * shard is full. Never fails otherwise; if out cannot hold the reply, out->failed is set.
 */
void cmd_run(struct cmd_ctx *ctx, const struct cmd_desc *cmd, size_t argc,
             const struct resp_arg *argv, struct resp_buf *out);

/* One shard's answer to its part of a request. */
struct cmd_answer {
	unsigned shard;        /* the shard that ran the part */
	struct resp_buf reply; /* its reply */
};

/*
 * Merges the answers of the shards that took part: ans[0..n), in shard order (on the KEYS route
 * only the owners of the keys take part, on the ALL route every shard). owner[] is cmd_owners'
 * result (KEYS route), argv the client's request. The first error among the answers is the
 * answer; a part that failed makes out fail. Costs O(n + keys), not O(nshards).
 */
void cmd_merge(const struct cmd_ctx *ctx, const struct cmd_desc *cmd, size_t argc,
               const struct resp_arg *argv, const uint8_t *owner, const struct cmd_answer *ans,
               unsigned n, struct resp_buf *out);

/* Redis' texts, for replies built outside cmd.c. */
extern const char cmd_err_oom[]; /* "OOM command not allowed when used memory > 'maxmemory'." */

/* Glob match as Redis' stringmatchlen (* ? [a-z] [^x] \x), case-insensitive when nocase. */
bool cmd_glob(const char *pat, size_t plen, const char *s, size_t slen, bool nocase);

#endif
