/*
 * kv_execute.h - runs one parsed kvstore request on host shards as the server does (a host
 * helper shared by tests/unit/test_kvcmd.c and tests/fuzz/fuzz_resp.c).
 *
 * cmd_lookup, then by route: CONN runs at once; KEY on the key's shard; KEYS splits the request
 * with cmd_owners/cmd_part and runs each part on its shard; ALL runs on every shard; the parts'
 * replies are then joined by cmd_merge, as examples/kvstore/conn.c and shard.c do across cores.
 * A flushed shard is freed before the merge (the server's reply to FLUSHALL waits for that).
 */
#ifndef TESTS_UNIT_KV_EXECUTE_H
#define TESTS_UNIT_KV_EXECUTE_H

#include "cmd.h"
#include "db.h"
#include "resp.h"

#define KV_EXECUTE_MAX_SHARDS 8

/* The reply goes to out. ctx has the clock, server and session (its db and shard are set
 * here); shards[0..n) are the shards, n <= KV_EXECUTE_MAX_SHARDS. check_part, if not NULL,
 * sees every shard's part reply before the merge. */
void kv_execute(const struct cmd_ctx *ctx, struct db *shards, unsigned n, size_t argc,
                const struct resp_arg *argv, struct resp_buf *out,
                void (*check_part)(const struct resp_buf *part));

#endif
