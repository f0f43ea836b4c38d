/*
 * cmd_server.c - the commands that need no shard (PING, ECHO, SELECT, QUIT, CLIENT, CONFIG,
 * COMMAND) and INFO's parts (see cmd.h).
 *
 * What clients send when they start is answered as Redis 7.0 answers it: redis-cli asks
 * COMMAND DOCS (for its hints and HELP; with an error it would fall back to COMMAND),
 * redis-benchmark asks CONFIG GET save and CONFIG GET appendonly. COMMAND's entries have Redis
 * 7's ten fields; key specifications and tips are empty lists, which clients accept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_server.h"

static const char KV_VERSION[] = "7.0.0"; /* the Redis version whose behaviour we follow */

void cmd_session_free(struct cmd_session *s)
{
	free(s->name);
	s->name = NULL;
}

static void add_help(struct resp_buf *out, const char *const *lines)
{
	size_t n = 0;
	while (lines[n])
		n++;
	resp_add_array(out, (long long)n);
	for (size_t i = 0; i < n; i++)
		resp_add_status(out, lines[i]);
}

/* ---- PING ECHO SELECT QUIT --------------------------------------------------------------- */

void cmd_ping(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv, struct resp_buf *out)
{
	(void)ctx;
	if (argc > 2)
		resp_add_error(out, "ERR wrong number of arguments for 'ping' command");
	else if (argc == 2)
		resp_add_bulk(out, argv[1].p, argv[1].len);
	else
		resp_add_status(out, "PONG");
}

void cmd_echo(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv, struct resp_buf *out)
{
	(void)ctx;
	(void)argc;
	resp_add_bulk(out, argv[1].p, argv[1].len);
}

/* There is one database, 0. */
void cmd_select(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv, struct resp_buf *out)
{
	long long id;
	(void)ctx;
	(void)argc;
	if (!resp_str2ll(argv[1].p, argv[1].len, &id))
		resp_add_error(out, cmd_err_not_int);
	else if (id < INT32_MIN || id > INT32_MAX)
		resp_add_error(out, "ERR value is out of range, value must between -2147483648 and "
		                    "2147483647");
	else if (id != 0)
		resp_add_error(out, "ERR DB index is out of range");
	else
		resp_add_status(out, "OK");
}

void cmd_quit(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv, struct resp_buf *out)
{
	(void)argc;
	(void)argv;
	ctx->session->quit = true;
	resp_add_status(out, "OK");
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE]: the connection ends the VM (exit(0), which writes every
 * file back and unmounts the disk). Nothing is answered, as in Redis. */
void cmd_shutdown(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                  struct resp_buf *out)
{
	static const char *const opts[] = { "nosave", "save", "now", "force" };
	for (size_t i = 1; i < argc; i++) {
		bool known = false;
		for (size_t j = 0; j < sizeof(opts) / sizeof(opts[0]); j++)
			known |= cmd_arg_is(&argv[i], opts[j]);
		if (cmd_arg_is(&argv[i], "abort")) {
			resp_add_error(out, "ERR No shutdown in progress.");
			return;
		}
		if (!known) {
			resp_add_error(out, cmd_err_syntax);
			return;
		}
	}
	ctx->session->shutdown = true;
}

/* ---- CLIENT ------------------------------------------------------------------------------ */

/* Redis' rule for names: printable ASCII without space. */
static bool valid_name(const struct resp_arg *a)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->p[i] < '!' || a->p[i] > '~')
			return false;
	return true;
}

static void client_id(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                      struct resp_buf *out)
{
	(void)argc;
	(void)argv;
	resp_add_int(out, (long long)ctx->session->id);
}

static void client_getname(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                           struct resp_buf *out)
{
	(void)argc;
	(void)argv;
	if (ctx->session->name)
		resp_add_cstr(out, ctx->session->name);
	else
		resp_add_null(out);
}

static void client_setname(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                           struct resp_buf *out)
{
	(void)argc;
	if (!valid_name(&argv[2])) {
		resp_add_error(out, "ERR Client names cannot contain spaces, newlines or special "
		                    "characters.");
		return;
	}
	char *name = NULL;
	if (argv[2].len > 0) {
		name = malloc(argv[2].len + 1);
		if (!name) {
			resp_add_error(out, cmd_err_oom);
			return;
		}
		memcpy(name, argv[2].p, argv[2].len);
		name[argv[2].len] = '\0';
	}
	free(ctx->session->name);
	ctx->session->name = name;
	resp_add_status(out, "OK");
}

/* CLIENT SETINFO LIB-NAME|LIB-VER value (Redis 7.2; newer clients send it): accepted, kept
 * nowhere. */
static void client_setinfo(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                           struct resp_buf *out)
{
	(void)ctx;
	(void)argc;
	if (!cmd_arg_is(&argv[2], "lib-name") && !cmd_arg_is(&argv[2], "lib-ver")) {
		resp_add_errorf(out, "ERR Unrecognized option '%.*s'",
		                (int)(argv[2].len > 128 ? 128 : argv[2].len), argv[2].p);
		return;
	}
	if (!valid_name(&argv[3])) {
		resp_add_errorf(out,
		                "ERR %.*s cannot contain spaces, newlines or special characters.",
		                (int)argv[2].len, argv[2].p);
		return;
	}
	resp_add_status(out, "OK");
}

static void client_help(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                        struct resp_buf *out)
{
	static const char *const lines[] = {
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>",
		"    Accept LIB-NAME or LIB-VER (not kept).",
		"HELP",
		"    Prints this help.",
		NULL,
	};
	(void)ctx;
	(void)argc;
	(void)argv;
	add_help(out, lines);
}

#define CONN_SUB CMD_ROUTE_CONN, CMD_MERGE_ONE
#define CONN_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

/* clang-format off */
const struct cmd_desc cmd_client_subs[] = {
	{ "client|id", 2, CONN_FLAGS, 0, 0, 0, CONN_SUB, client_id, "@slow @connection",
	  "Returns the client ID for the current connection", "5.0.0", "connection", "O(1)",
	  NULL, 0 },
	{ "client|getname", 2, CONN_FLAGS, 0, 0, 0, CONN_SUB, client_getname, "@slow @connection",
	  "Get the current connection name", "2.6.9", "connection", "O(1)", NULL, 0 },
	{ "client|setname", 3, CONN_FLAGS, 0, 0, 0, CONN_SUB, client_setname, "@slow @connection",
	  "Set the current connection name", "2.6.9", "connection", "O(1)", NULL, 0 },
	{ "client|setinfo", 4, CONN_FLAGS, 0, 0, 0, CONN_SUB, client_setinfo, "@slow @connection",
	  "Set client or connection specific info", "7.2.0", "connection", "O(1)", NULL, 0 },
	{ "client|help", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, CONN_SUB, client_help,
	  "@slow @connection", "Show helpful text about the different subcommands", "5.0.0",
	  "connection", "O(1)", NULL, 0 },
};
/* clang-format on */
_Static_assert(sizeof(cmd_client_subs) / sizeof(cmd_client_subs[0]) == CMD_CLIENT_SUBS,
               "CMD_CLIENT_SUBS");

/* ---- CONFIG ------------------------------------------------------------------------------ */

static const char *const config_names[] = {
	"save", "appendonly", "maxmemory", "maxmemory-policy",   "databases",
	"port", "timeout",    "hz",        "proto-max-bulk-len", NULL,
};

/* The value of config_names[i], in buf. */
static const char *config_value(const struct cmd_ctx *ctx, size_t i, char *buf, size_t size)
{
	const struct cmd_server *sv = ctx->server;
	switch (i) {
	case 0:
		return ""; /* no snapshots */
	case 1:
		return sv->appendonly ? "yes" : "no";
	case 2:
		snprintf(buf, size, "%zu", sv->maxmemory * sv->nshards);
		return buf;
	case 3:
		return "noeviction";
	case 4:
		return "1";
	case 5:
		snprintf(buf, size, "%u", sv->port);
		return buf;
	case 6:
		snprintf(buf, size, "%u", sv->idle_sec);
		return buf;
	case 7:
		return "10";
	default:
		snprintf(buf, size, "%d", RESP_MAX_BULK);
		return buf;
	}
}

static bool config_matches(size_t i, size_t argc, const struct resp_arg *argv)
{
	for (size_t j = 2; j < argc; j++)
		if (cmd_glob(argv[j].p, argv[j].len, config_names[i], strlen(config_names[i]),
		             true))
			return true;
	return false;
}

/* CONFIG GET pattern [pattern ...]: name, value for every parameter some pattern matches. */
static void config_get(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                       struct resp_buf *out)
{
	size_t n = 0;
	for (size_t i = 0; config_names[i]; i++)
		n += config_matches(i, argc, argv);
	resp_add_array(out, 2 * (long long)n);
	for (size_t i = 0; config_names[i]; i++) {
		char buf[32];
		if (!config_matches(i, argc, argv))
			continue;
		resp_add_cstr(out, config_names[i]);
		resp_add_cstr(out, config_value(ctx, i, buf, sizeof(buf)));
	}
}

static void config_help(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                        struct resp_buf *out)
{
	static const char *const lines[] = {
		"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"HELP",
		"    Prints this help.",
		NULL,
	};
	(void)ctx;
	(void)argc;
	(void)argv;
	add_help(out, lines);
}

/* clang-format off */
const struct cmd_desc cmd_config_subs[] = {
	{ "config|get", -3, CMD_ADMIN | CONN_FLAGS, 0, 0, 0, CONN_SUB, config_get,
	  "@admin @slow @dangerous", "Get the values of configuration parameters", "2.0.0",
	  "server", "O(N) when N is the number of configuration parameters provided", NULL, 0 },
	{ "config|help", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, CONN_SUB, config_help, "@slow",
	  "Show helpful text about the different subcommands", "5.0.0", "server", "O(1)", NULL,
	  0 },
};
/* clang-format on */
_Static_assert(sizeof(cmd_config_subs) / sizeof(cmd_config_subs[0]) == CMD_CONFIG_SUBS,
               "CMD_CONFIG_SUBS");

/* ---- COMMAND ----------------------------------------------------------------------------- */

static const struct {
	unsigned flag;
	const char *name;
} flag_names[] = {
	{ CMD_WRITE, "write" }, { CMD_READONLY, "readonly" }, { CMD_DENYOOM, "denyoom" },
	{ CMD_ADMIN, "admin" }, { CMD_NOSCRIPT, "noscript" }, { CMD_LOADING, "loading" },
	{ CMD_STALE, "stale" }, { CMD_FAST, "fast" },
};
#define NFLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

/* Words of a space-separated list, as status replies. */
static void add_words(struct resp_buf *out, const char *list)
{
	long long n = 0;
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		n++;
		while (*p && *p != ' ')
			p++;
	}
	resp_add_array(out, n);
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		if (p > w) {
			char word[32];
			snprintf(word, sizeof(word), "%.*s", (int)(p - w), w);
			resp_add_status(out, word);
		}
	}
}

static void command_info(struct resp_buf *out, const struct cmd_desc *c)
{
	long long nflags = 0;
	resp_add_array(out, 10);
	resp_add_cstr(out, c->name);
	resp_add_int(out, c->arity);
	for (size_t i = 0; i < NFLAGS; i++)
		nflags += (c->flags & flag_names[i].flag) != 0;
	resp_add_array(out, nflags);
	for (size_t i = 0; i < NFLAGS; i++)
		if (c->flags & flag_names[i].flag)
			resp_add_status(out, flag_names[i].name);
	resp_add_int(out, c->first_key);
	resp_add_int(out, c->last_key);
	resp_add_int(out, c->step);
	add_words(out, c->acl);
	resp_add_array(out, 0); /* tips */
	resp_add_array(out, 0); /* key specifications */
	resp_add_array(out, (long long)c->nsubs);
	for (size_t i = 0; i < c->nsubs; i++)
		command_info(out, &c->subs[i]);
}

/* "name" then its documentation map (RESP2: a flat array of field, value). */
static void command_docs(struct resp_buf *out, const struct cmd_desc *c)
{
	resp_add_cstr(out, c->name);
	resp_add_array(out, c->nsubs ? 10 : 8);
	resp_add_cstr(out, "summary");
	resp_add_cstr(out, c->summary);
	resp_add_cstr(out, "since");
	resp_add_cstr(out, c->since);
	resp_add_cstr(out, "group");
	resp_add_cstr(out, c->group);
	resp_add_cstr(out, "complexity");
	resp_add_cstr(out, c->complexity);
	if (c->nsubs) {
		resp_add_cstr(out, "subcommands");
		resp_add_array(out, 2 * (long long)c->nsubs);
		for (size_t i = 0; i < c->nsubs; i++)
			command_docs(out, &c->subs[i]);
	}
}

/* A command by its full name ("get", "config|get"), ignoring case, or NULL. */
static const struct cmd_desc *by_name(const struct resp_arg *a)
{
	const char *bar = memchr(a->p, '|', a->len);
	size_t head = bar ? (size_t)(bar - a->p) : a->len;
	for (size_t i = 0; i < cmd_table_len; i++) {
		const struct cmd_desc *c = &cmd_table[i];
		if (strlen(c->name) != head || strncasecmp(c->name, a->p, head) != 0)
			continue;
		if (!bar)
			return c;
		for (size_t j = 0; j < c->nsubs; j++) {
			const char *s = c->subs[j].name;
			if (strlen(s) == a->len && strncasecmp(s, a->p, a->len) == 0)
				return &c->subs[j];
		}
		return NULL;
	}
	return NULL;
}

/* COMMAND: every command's entry. */
void cmd_command(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                 struct resp_buf *out)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	resp_add_array(out, (long long)cmd_table_len);
	for (size_t i = 0; i < cmd_table_len; i++)
		command_info(out, &cmd_table[i]);
}

static void command_count(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                          struct resp_buf *out)
{
	(void)ctx;
	(void)argc;
	(void)argv;
	resp_add_int(out, (long long)cmd_table_len);
}

/* COMMAND INFO [name ...]: an entry per name (nil for an unknown one); no names: all. */
static void command_info_cmd(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                             struct resp_buf *out)
{
	if (argc == 2) {
		cmd_command(ctx, argc, argv, out);
		return;
	}
	resp_add_array(out, (long long)argc - 2);
	for (size_t i = 2; i < argc; i++) {
		const struct cmd_desc *c = by_name(&argv[i]);
		if (c)
			command_info(out, c);
		else
			resp_add_null(out);
	}
}

/* COMMAND DOCS [name ...]: name, docs for every known name; no names: all. */
static void command_docs_cmd(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                             struct resp_buf *out)
{
	(void)ctx;
	if (argc == 2) {
		resp_add_array(out, 2 * (long long)cmd_table_len);
		for (size_t i = 0; i < cmd_table_len; i++)
			command_docs(out, &cmd_table[i]);
		return;
	}
	long long n = 0;
	for (size_t i = 2; i < argc; i++)
		n += by_name(&argv[i]) != NULL;
	resp_add_array(out, 2 * n);
	for (size_t i = 2; i < argc; i++) {
		const struct cmd_desc *c = by_name(&argv[i]);
		if (c)
			command_docs(out, c);
	}
}

static bool list_match(const struct cmd_desc *c, const struct resp_arg *pattern)
{
	return !pattern || cmd_glob(pattern->p, pattern->len, c->name, strlen(c->name), true);
}

/* COMMAND LIST [FILTERBY PATTERN pattern]: names, subcommands included. */
static void command_list(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                         struct resp_buf *out)
{
	const struct resp_arg *pattern = NULL;
	(void)ctx;
	if (argc == 5 && cmd_arg_is(&argv[2], "filterby") && cmd_arg_is(&argv[3], "pattern")) {
		pattern = &argv[4];
	} else if (argc != 2) {
		resp_add_error(out, cmd_err_syntax);
		return;
	}
	long long n = 0;
	for (size_t pass = 0; pass < 2; pass++) {
		if (pass == 1)
			resp_add_array(out, n);
		for (size_t i = 0; i < cmd_table_len; i++) {
			const struct cmd_desc *c = &cmd_table[i];
			for (size_t j = 0; j <= c->nsubs; j++) {
				const struct cmd_desc *e = j == 0 ? c : &c->subs[j - 1];
				if (!list_match(e, pattern))
					continue;
				if (pass == 0)
					n++;
				else
					resp_add_cstr(out, e->name);
			}
		}
	}
}

static void command_help(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                         struct resp_buf *out)
{
	static const char *const lines[] = {
		"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"HELP",
		"    Prints this help.",
		NULL,
	};
	(void)ctx;
	(void)argc;
	(void)argv;
	add_help(out, lines);
}

/* clang-format off */
const struct cmd_desc cmd_command_subs[] = {
	{ "command|count", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, CONN_SUB, command_count,
	  "@slow @connection", "Get total number of Redis commands", "2.8.13", "server", "O(1)",
	  NULL, 0 },
	{ "command|docs", -2, CMD_LOADING | CMD_STALE, 0, 0, 0, CONN_SUB, command_docs_cmd,
	  "@slow @connection", "Get documentary information about Redis commands", "7.0.0",
	  "server", "O(N) where N is the number of commands to look up", NULL, 0 },
	{ "command|info", -2, CMD_LOADING | CMD_STALE, 0, 0, 0, CONN_SUB, command_info_cmd,
	  "@slow @connection", "Get array of specific Redis command details, or all when no "
	  "argument is given.", "2.8.13", "server",
	  "O(N) where N is the number of commands to look up", NULL, 0 },
	{ "command|list", -2, CMD_LOADING | CMD_STALE, 0, 0, 0, CONN_SUB, command_list,
	  "@slow @connection", "Get an array of Redis command names", "7.0.0", "server",
	  "O(N) where N is the total number of Redis commands", NULL, 0 },
	{ "command|help", 2, CMD_LOADING | CMD_STALE, 0, 0, 0, CONN_SUB, command_help,
	  "@slow @connection", "Show helpful text about the different subcommands", "5.0.0",
	  "server", "O(1)", NULL, 0 },
};
/* clang-format on */
_Static_assert(sizeof(cmd_command_subs) / sizeof(cmd_command_subs[0]) == CMD_COMMAND_SUBS,
               "CMD_COMMAND_SUBS");

/* ---- INFO -------------------------------------------------------------------------------- */

bool cmd_info_wants(size_t argc, const struct resp_arg *argv, const char *section)
{
	if (argc < 2)
		return true;
	for (size_t i = 1; i < argc; i++) {
		if (cmd_arg_is(&argv[i], "all") || cmd_arg_is(&argv[i], "everything") ||
		    cmd_arg_is(&argv[i], "default") || cmd_arg_is(&argv[i], section))
			return true;
		if (cmd_arg_is(&argv[i], "cores") && strncmp(section, "core", 4) == 0 &&
		    section[4] >= '0' && section[4] <= '9')
			return true;
	}
	return false;
}

void cmd_info_server(const struct cmd_ctx *ctx, struct resp_buf *t)
{
	const struct cmd_server *sv = ctx->server;
	long long up = (ctx->now_ms - sv->start_ms) / 1000;

	resp_add_rawf(t, "# Server\r\nredis_version:%s\r\nredis_mode:standalone\r\n", KV_VERSION);
	resp_add_rawf(t, "server_name:isle-kvstore\r\nos:isle x86_64\r\narch_bits:64\r\n");
	resp_add_rawf(t, "multiplexing_api:isle threads\r\nprocess_id:1\r\ntcp_port:%u\r\n",
	              sv->port);
	resp_add_rawf(t, "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nhz:10\r\n", up,
	              up / 86400);
	resp_add_rawf(t, "cores:%u\r\nshard_of_key:(fmix64(fnv1a64(key)) >> 32) %% cores\r\n",
	              sv->nshards);
	resp_add_rawf(t, "maxmemory_per_core:%zu\r\nproto_max_bulk_len:%d\r\n", sv->maxmemory,
	              RESP_MAX_BULK);
}

void cmd_info_part(struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                   struct resp_buf *out)
{
	struct db *db = ctx->db;
	char section[16];

	snprintf(section, sizeof(section), "core%u", ctx->shard);
	resp_add_array(out, 3);
	if (cmd_info_wants(argc, argv, section)) {
		struct resp_buf t = { 0 };
		resp_add_rawf(&t, "# Core%u\r\nkeys:%zu\r\nexpires:%zu\r\n", ctx->shard,
		              db_size(db), db->nexpires);
		resp_add_rawf(&t, "used_memory:%zu\r\nmaxmemory:%zu\r\n", db->used_bytes,
		              db->maxmemory);
		resp_add_rawf(&t, "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n",
		              (unsigned long long)db->stats.hits,
		              (unsigned long long)db->stats.misses);
		resp_add_rawf(&t,
		              "expired_keys:%llu\r\nrejected_oom:%llu\r\nshard_commands:%llu\r\n",
		              (unsigned long long)db->stats.expired,
		              (unsigned long long)db->stats.oom_rejected,
		              (unsigned long long)db->stats.commands);
		if (ctx->info_core)
			ctx->info_core(&t, ctx->info_arg);
		if (t.failed)
			out->failed = true;
		else
			resp_add_bulk(out, t.data, t.len);
		resp_buf_free(&t);
	} else {
		resp_add_bulk(out, "", 0);
	}
	resp_add_int(out, (long long)db_size(db));
	resp_add_int(out, (long long)db->nexpires);
}

/* ---- glob -------------------------------------------------------------------------------- */

static char fold(char c, bool nocase)
{
	return nocase && c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Whether c matches the one-character pattern element at p[i] ('?', a [class], \x or a
 * literal); *next is the index after the element. */
static bool match_one(const char *p, size_t n, size_t i, char c, bool nocase, size_t *next)
{
	c = fold(c, nocase);
	if (p[i] == '?') {
		*next = i + 1;
		return true;
	}
	if (p[i] == '[') {
		bool neg = false, hit = false;
		i++;
		if (i < n && p[i] == '^') {
			neg = true;
			i++;
		}
		while (i < n && p[i] != ']') {
			if (p[i] == '\\' && i + 1 < n) {
				hit |= fold(p[i + 1], nocase) == c;
				i += 2;
			} else if (i + 2 < n && p[i + 1] == '-') {
				char lo = fold(p[i], nocase), hi = fold(p[i + 2], nocase);
				if (lo > hi) {
					char t = lo;
					lo = hi;
					hi = t;
				}
				hit |= c >= lo && c <= hi;
				i += 3;
			} else {
				hit |= fold(p[i], nocase) == c;
				i++;
			}
		}
		*next = i < n ? i + 1 : i; /* past the ']' (an unclosed class ends the pattern) */
		return hit != neg;
	}
	if (p[i] == '\\' && i + 1 < n)
		i++;
	*next = i + 1;
	return fold(p[i], nocase) == c;
}

/* Iterative, backtracking only to the last '*': O(pattern x string), whatever the pattern. */
bool cmd_glob(const char *p, size_t pn, const char *s, size_t sn, bool nocase)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0, next;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && match_one(p, pn, pi, s[si], nocase, &next)) {
			pi = next;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}
