/*
 * db.h - one shard of kvstore's keyspace: a hash table from keys to string values, each with an
 * optional expiry time.
 *
 * Pure C: time is an argument (milliseconds, now_ms >= 0, from any monotonic clock), so the host
 * unit tests drive it with a fake clock. A shard belongs to one core and is touched by that core
 * only; nothing here knows about cores.
 *
 * Layout: chained hash table of 2^k buckets. Each entry is one heap block: header, key bytes,
 * value bytes. The table doubles when it holds as many keys as buckets and halves below 1/8
 * full; the move to the new table is incremental (a few buckets per operation and more in
 * db_cycle), so no single operation pays for rehashing a large shard.
 *
 * Expiry: a key with expire_ms is gone once now_ms > expire_ms (Redis' rule). Every lookup
 * deletes an expired key it finds (lazy expiry); db_cycle also walks the table a bounded number
 * of buckets at a time and deletes what has expired (active expiry), so keys nobody reads again
 * do not stay in memory.
 *
 * Memory: used_bytes counts what the allocator really gave for entries and bucket arrays
 * (usable sizes). The command layer refuses writes once used_bytes >= maxmemory.
 *
 * Flushing: db_flush empties the keyspace at once by setting the tables aside (O(1)); their
 * entries are freed later, a bounded number per db_reap call, so that emptying a shard of
 * millions of keys never holds its core for long. used_bytes counts them until they are freed.
 */
#ifndef KVSTORE_DB_H
#define KVSTORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DB_NO_EXPIRE (-1) /* expire_ms of a key that does not expire */

/* One key and its value; a heap block of its shard's core. */
struct db_entry {
	struct db_entry *next; /* next entry in the bucket */
	uint64_t hash;         /* db_hash() of the key */
	int64_t expire_ms;     /* when it expires, or DB_NO_EXPIRE */
	uint32_t klen;         /* key bytes */
	uint32_t vlen;         /* value bytes */
	char kv[];             /* the key, then the value */
};

static inline const char *db_key(const struct db_entry *e)
{
	return e->kv;
}

static inline char *db_value(struct db_entry *e)
{
	return e->kv + e->klen;
}

struct db_table {
	struct db_entry **bucket; /* 2^k chains, or NULL while empty */
	size_t mask;              /* buckets - 1 */
	size_t used;              /* entries in this table */
};

/* Counters of one shard (INFO). */
struct db_stats {
	uint64_t hits;         /* read lookups that found the key */
	uint64_t misses;       /* read lookups that did not */
	uint64_t expired;      /* keys deleted because their time had come (lazy and active) */
	uint64_t oom_rejected; /* writes refused: maxmemory reached or no memory */
	uint64_t commands;     /* commands (or parts of commands) run on this shard */
};

/* Tables set aside by db_flush, their entries not all freed yet (db_reap). */
struct db_dead {
	struct db_dead *next; /* the next one, in flush order */
	struct db_table t;    /* the table: buckets before `cursor` are freed already */
	size_t cursor;        /* the next bucket to free */
};

/* One shard. Owned by one core; [o] throughout. */
struct db {
	struct db_table t[2];  /* t[0]; while rehashing also t[1], the new table */
	size_t rehash;         /* while rehashing: the next bucket of t[0] to move */
	bool rehashing;        /* t[1] is in use */
	size_t nexpires;       /* keys with an expiry time */
	size_t used_bytes;     /* allocator bytes held by entries and buckets */
	size_t maxmemory;      /* writes are refused at this many used_bytes; 0: no limit */
	size_t sweep;          /* active expiry: the next bucket of t[0] to look at */
	struct db_stats stats; /* counters */
	struct db_dead *dead;  /* tables flushed, still being freed (db_reap), oldest first */
};

/* The hash of a key: FNV-1a 64, finalized by MurmurHash3's fmix64 (FNV-1a alone spreads keys
 * that differ in their last bytes badly over a few shards). Its low bits choose the bucket, its
 * high half the shard (cmd.h). */
uint64_t db_hash(const void *key, size_t len);

void db_init(struct db *db, size_t maxmemory);
/* Empties the shard at once (O(1)): it is usable again at once; the old entries are freed by
 * db_reap (at once only if there is no memory to set them aside). */
void db_flush(struct db *db);
/* Frees up to `work` entries of flushed tables (and passes up to 8 x work empty buckets).
 * Returns true while some are left. */
bool db_reap(struct db *db, size_t work);

static inline bool db_reaping(const struct db *db)
{
	return db->dead != NULL;
}

static inline size_t db_size(const struct db *db)
{
	return db->t[0].used + db->t[1].used;
}

/* The live entry of key, or NULL. An expired entry found on the way is deleted. The pointer is
 * valid until the next call that changes the shard. */
struct db_entry *db_get(struct db *db, const void *key, size_t klen, int64_t now_ms);

/*
 * Sets key to val[0..vlen) with expiry expire_ms (DB_NO_EXPIRE: none), replacing any old entry
 * (its expiry too). Returns the entry, or NULL when there was no memory (the old entry is then
 * untouched). Does not check maxmemory (the caller decides).
 */
struct db_entry *db_set(struct db *db, const void *key, size_t klen, const void *val, size_t vlen,
                        int64_t expire_ms);

/* Deletes key if it is there and live; true if it was. */
bool db_delete(struct db *db, const void *key, size_t klen, int64_t now_ms);

/* Sets or clears (DB_NO_EXPIRE) the expiry of a live entry. */
void db_set_expire(struct db *db, struct db_entry *e, int64_t expire_ms);

/* True once writes must be refused (used_bytes >= maxmemory). */
static inline bool db_full(const struct db *db)
{
	return db->maxmemory && db->used_bytes >= db->maxmemory;
}

/*
 * Background work, bounded: moves up to `work` buckets of a rehash, then looks at up to `work`
 * buckets for expired keys and deletes them. Returns the keys deleted. Call it periodically.
 */
size_t db_cycle(struct db *db, int64_t now_ms, size_t work);

#endif
