/*
 * cmd_server.h - what cmd.c, cmd_route.c and cmd_server.c share: the command table, argument
 * helpers, and the commands that need no shard (cmd_server.c). Private to the command layer;
 * the server uses cmd.h.
 */
#ifndef KVSTORE_CMD_SERVER_H
#define KVSTORE_CMD_SERVER_H

#include "cmd.h"

extern const struct cmd_desc cmd_table[];
extern const size_t cmd_table_len;

extern const char cmd_err_syntax[];  /* "ERR syntax error" */
extern const char cmd_err_not_int[]; /* "ERR value is not an integer or out of range" */

/* True if a is lit, ignoring case. */
bool cmd_arg_is(const struct resp_arg *a, const char *lit);

/* Connection commands (CMD_ROUTE_CONN). */
cmd_fn cmd_ping, cmd_echo, cmd_select, cmd_quit, cmd_shutdown, cmd_command;

#define CMD_CLIENT_SUBS 5
#define CMD_CONFIG_SUBS 2
#define CMD_COMMAND_SUBS 5
extern const struct cmd_desc cmd_client_subs[CMD_CLIENT_SUBS];
extern const struct cmd_desc cmd_config_subs[CMD_CONFIG_SUBS];
extern const struct cmd_desc cmd_command_subs[CMD_COMMAND_SUBS];

/* INFO, on one shard: an array of its "# Core<n>" section (empty if not asked for), its key
 * count and its count of keys with an expiry. cmd_merge puts the sections together. */
cmd_fn cmd_info_part;
/* Whether INFO's arguments ask for a section ("server", "keyspace", "core3"); no argument,
 * "all", "everything" and "default" ask for every one, "cores" for every core. */
bool cmd_info_wants(size_t argc, const struct resp_arg *argv, const char *section);
/* Appends the "# Server" section. */
void cmd_info_server(const struct cmd_ctx *ctx, struct resp_buf *text);

#endif
