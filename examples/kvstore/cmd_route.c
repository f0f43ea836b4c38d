/*
 * cmd_route.c - commands that span shards: which shard owns a key, the part of a request each
 * shard runs, and merging the shards' answers into one reply (see cmd.h, "routes").
 *
 * A KEYS-route command is split by owner without changing its form: each shard gets argv[0] and
 * its own keys (with their values for MSET), in the order the client gave them, and answers as
 * Redis would for that shorter request. Merging then only needs each answer's shape: integers
 * are added (DEL, EXISTS, DBSIZE), +OK stays +OK (MSET, FLUSHALL), array elements are put back
 * in key order by walking owner[] with a cursor per shard (MGET), INFO sections are put after
 * the server's. The first error of any shard is the answer.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_server.h"

/* ---- sharding ---------------------------------------------------------------------------- */

unsigned cmd_owner(const void *key, size_t len, unsigned nshards)
{
	return (unsigned)((db_hash(key, len) >> 32) % nshards);
}

static size_t last_key(const struct cmd_desc *cmd, size_t argc)
{
	return cmd->last_key < 0 ? argc + (size_t)cmd->last_key : (size_t)cmd->last_key;
}

size_t cmd_nkeys(const struct cmd_desc *cmd, size_t argc)
{
	if (cmd->first_key == 0)
		return 0;
	size_t first = (size_t)cmd->first_key, last = last_key(cmd, argc);
	return last < first ? 0 : (last - first) / (size_t)cmd->step + 1;
}

void cmd_owners(const struct cmd_desc *cmd, size_t argc, const struct resp_arg *argv,
                unsigned nshards, uint8_t *owner)
{
	size_t n = cmd_nkeys(cmd, argc);
	for (size_t i = 0, k = (size_t)cmd->first_key; i < n; i++, k += (size_t)cmd->step)
		owner[i] = (uint8_t)cmd_owner(argv[k].p, argv[k].len, nshards);
}

size_t cmd_part(const struct cmd_desc *cmd, size_t argc, const struct resp_arg *argv,
                const uint8_t *owner, unsigned s, struct resp_arg *part)
{
	size_t n = cmd_nkeys(cmd, argc), out = 0, step = (size_t)cmd->step;
	part[out++] = argv[0];
	for (size_t i = 0, k = (size_t)cmd->first_key; i < n; i++, k += step) {
		if (owner[i] != s)
			continue;
		for (size_t j = 0; j < step; j++)
			part[out++] = argv[k + j];
	}
	return out;
}

/* ---- merging ----------------------------------------------------------------------------- */

/* Reads replies one by one from a shard's answer. */
struct reader {
	const char *p; /* the next reply */
	size_t n;      /* bytes left */
};

/* The next reply's bytes (its length in *len), or NULL if there is none. */
static const char *next_reply(struct reader *r, size_t *len)
{
	long l = resp_reply_len(r->p, r->n);
	if (l < 0)
		return NULL;
	const char *p = r->p;
	*len = (size_t)l;
	r->p += l;
	r->n -= (size_t)l;
	return p;
}

/* Steps into an array header: its element count, or -1. */
static long long enter_array(struct reader *r)
{
	long long v;
	const char *cr = r->n ? memchr(r->p, '\r', r->n) : NULL;
	if (!cr || r->p[0] != '*' || (size_t)(cr - r->p) + 2 > r->n ||
	    !resp_str2ll(r->p + 1, (size_t)(cr - r->p) - 1, &v))
		return -1;
	size_t line = (size_t)(cr - r->p) + 2;
	r->p += line;
	r->n -= line;
	return v;
}

/* The value of an integer reply, or 0. */
static long long int_value(const char *p, size_t len)
{
	long long v = 0;
	if (len >= 3 && p[0] == ':')
		resp_str2ll(p + 1, len - 3, &v);
	return v;
}

static void merge_info(const struct cmd_ctx *ctx, size_t argc, const struct resp_arg *argv,
                       const struct cmd_answer *ans, unsigned n, struct resp_buf *out)
{
	struct resp_buf text = { 0 };
	long long keys = 0, expires = 0;

	for (unsigned i = 0; i < n; i++) {
		struct reader r = { ans[i].reply.data, ans[i].reply.len };
		size_t len;
		const char *p;
		if (enter_array(&r) != 3 || !next_reply(&r, &len))
			continue;
		if ((p = next_reply(&r, &len)))
			keys += int_value(p, len);
		if ((p = next_reply(&r, &len)))
			expires += int_value(p, len);
	}
	if (cmd_info_wants(argc, argv, "server"))
		cmd_info_server(ctx, &text);
	if (cmd_info_wants(argc, argv, "keyspace")) {
		resp_add_rawf(&text, "%s# Keyspace\r\n", text.len ? "\r\n" : "");
		if (keys)
			resp_add_rawf(&text, "db0:keys=%lld,expires=%lld,avg_ttl=0\r\n", keys,
			              expires);
	}
	for (unsigned i = 0; i < n; i++) {
		struct reader r = { ans[i].reply.data, ans[i].reply.len };
		const char *p;
		size_t len;
		long long v;
		if (enter_array(&r) != 3 || !(p = next_reply(&r, &len)) || p[0] != '$')
			continue;
		/* the section's bytes: after "$<n>\r\n", before the final CRLF */
		const char *cr = memchr(p, '\r', len);
		if (!cr || !resp_str2ll(p + 1, (size_t)(cr - p) - 1, &v) || v <= 0)
			continue;
		if (text.len)
			resp_add_raw(&text, "\r\n", 2);
		resp_add_raw(&text, cr + 2, (size_t)v);
	}
	if (text.failed)
		out->failed = true;
	else
		resp_add_bulk(out, text.data, text.len);
	resp_buf_free(&text);
}

/* MGET: the elements of each shard's array put back in the order of the keys. */
static void merge_array(const struct cmd_desc *cmd, size_t argc, const uint8_t *owner,
                        const struct cmd_answer *ans, unsigned n, struct resp_buf *out)
{
	struct reader *r = malloc(n * sizeof(*r)); /* one cursor per answer */
	uint16_t at[CMD_MAX_SHARDS]; /* at[s]: shard s's answer; set for the shards in ans only */
	size_t nkeys = cmd_nkeys(cmd, argc), start = out->len;

	if (!r) {
		out->failed = true;
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		at[ans[i].shard] = (uint16_t)i;
		r[i] = (struct reader){ ans[i].reply.data, ans[i].reply.len };
		enter_array(&r[i]);
	}
	resp_add_array(out, (long long)nkeys);
	for (size_t k = 0; k < nkeys; k++) {
		size_t len;
		const char *p = next_reply(&r[at[owner[k]]], &len);
		if (!p) {
			/* cannot happen: each shard answers each of its keys */
			out->len = start;
			resp_add_error(out, "ERR internal error: a shard's answer is short");
			break;
		}
		resp_add_raw(out, p, len);
	}
	free(r);
}

void cmd_merge(const struct cmd_ctx *ctx, const struct cmd_desc *cmd, size_t argc,
               const struct resp_arg *argv, const uint8_t *owner, const struct cmd_answer *ans,
               unsigned n, struct resp_buf *out)
{
	/* a failed part fails the whole; then the first error (in shard order) is the answer */
	for (unsigned i = 0; i < n; i++) {
		if (ans[i].reply.failed) {
			out->failed = true;
			return;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (ans[i].reply.len > 0 && ans[i].reply.data[0] == '-') {
			resp_add_raw(out, ans[i].reply.data, ans[i].reply.len);
			return;
		}
	}

	switch (cmd->merge) {
	case CMD_MERGE_ONE:
		if (n > 0)
			resp_add_raw(out, ans[0].reply.data, ans[0].reply.len);
		return;
	case CMD_MERGE_SUM: {
		long long sum = 0;
		for (unsigned i = 0; i < n; i++)
			sum += int_value(ans[i].reply.data, ans[i].reply.len);
		resp_add_int(out, sum);
		return;
	}
	case CMD_MERGE_OK:
		resp_add_status(out, "OK");
		return;
	case CMD_MERGE_ARRAY:
		merge_array(cmd, argc, owner, ans, n, out);
		return;
	case CMD_MERGE_INFO:
		merge_info(ctx, argc, argv, ans, n, out);
		return;
	}
}
