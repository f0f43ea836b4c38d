/* kv_execute.c - see kv_execute.h. */
#include <stdint.h>
#include <stdlib.h>

#include "tests/unit/kv_execute.h"

void kv_execute(const struct cmd_ctx *ctx, struct db *shards, unsigned n, size_t argc,
                const struct resp_arg *argv, struct resp_buf *out,
                void (*check_part)(const struct resp_buf *part))
{
	const struct cmd_desc *cmd = cmd_lookup(argc, argv, out);
	struct cmd_ctx c = *ctx;
	if (!cmd)
		return;
	if (cmd->route == CMD_ROUTE_CONN) {
		cmd_run(&c, cmd, argc, argv, out);
		return;
	}
	if (cmd->route == CMD_ROUTE_KEY) {
		c.shard = cmd_owner(argv[1].p, argv[1].len, n);
		c.db = &shards[c.shard];
		cmd_run(&c, cmd, argc, argv, out);
		return;
	}
	size_t nkeys = cmd_nkeys(cmd, argc);
	uint8_t *owner = malloc(nkeys + 1);
	struct resp_arg *part = malloc(argc * sizeof(*part));
	struct cmd_answer ans[KV_EXECUTE_MAX_SHARDS] = { 0 };
	unsigned nans = 0;
	if (cmd->route == CMD_ROUTE_KEYS)
		cmd_owners(cmd, argc, argv, n, owner);
	for (unsigned s = 0; s < n; s++) {
		size_t pargc = argc;
		const struct resp_arg *pargv = argv;
		if (cmd->route == CMD_ROUTE_KEYS) {
			pargc = cmd_part(cmd, argc, argv, owner, s, part);
			pargv = part;
			if (pargc == 1)
				continue; /* no key of this request lives on s */
		}
		struct cmd_ctx sc = c;
		sc.shard = s;
		sc.db = &shards[s];
		ans[nans].shard = s;
		cmd_run(&sc, cmd, pargc, pargv, &ans[nans].reply);
		db_reap(sc.db, SIZE_MAX); /* the server answers a FLUSHALL once it is freed, too */
		if (check_part)
			check_part(&ans[nans].reply);
		nans++;
	}
	cmd_merge(&c, cmd, argc, argv, owner, ans, nans, out);
	for (unsigned i = 0; i < nans; i++)
		resp_buf_free(&ans[i].reply);
	free(part);
	free(owner);
}
