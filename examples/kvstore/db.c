/*
 * db.c - one shard: the hash table, lazy and active expiry (see db.h).
 *
 * Buckets are chosen by the low bits of the key's hash; the shard of a key (cmd.h) by the high
 * half, so every key of one shard still spreads over all the buckets.
 *
 * During a rehash both tables hold entries: lookups try both, inserts go to the new one, and
 * every operation moves one bucket (db_cycle moves many). Entries never move between heap
 * blocks during a rehash; only their chain links change.
 */
#include <stdlib.h>
#include <string.h>

#include "db.h"

#ifdef ISLE_HOST
#include <malloc.h>
#define usable_size(p) malloc_usable_size(p)
#else
#include <isle/mem.h>
#define usable_size(p) kmalloc_usable_size(p)
#endif

#define MIN_BUCKETS 16
#define EMPTY_VISITS 10 /* empty buckets skipped per bucket moved, at most */

/* MurmurHash3's 64-bit finalizer: every input bit moves every output bit. */
static uint64_t fmix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

uint64_t db_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 14695981039346656037ull; /* FNV-1a 64 */
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return fmix64(h);
}

static struct db_entry **chain(struct db_table *t, uint64_t hash)
{
	return &t->bucket[hash & t->mask];
}

static bool table_alloc(struct db *db, struct db_table *t, size_t buckets)
{
	t->bucket = calloc(buckets, sizeof(*t->bucket));
	if (!t->bucket)
		return false;
	t->mask = buckets - 1;
	t->used = 0;
	db->used_bytes += usable_size(t->bucket);
	return true;
}

static void table_free(struct db *db, struct db_table *t)
{
	if (t->bucket)
		db->used_bytes -= usable_size(t->bucket);
	free(t->bucket);
	memset(t, 0, sizeof(*t));
}

void db_init(struct db *db, size_t maxmemory)
{
	memset(db, 0, sizeof(*db));
	db->maxmemory = maxmemory;
}

/* Moves bucket db->rehash of t[0] to t[1]; finishes the rehash after the last one. */
static void rehash_bucket(struct db *db)
{
	struct db_table *from = &db->t[0], *to = &db->t[1];
	struct db_entry *e = from->bucket[db->rehash];

	while (e) {
		struct db_entry *next = e->next;
		struct db_entry **head = chain(to, e->hash);
		e->next = *head;
		*head = e;
		from->used--;
		to->used++;
		e = next;
	}
	from->bucket[db->rehash] = NULL;
	if (++db->rehash > from->mask) {
		table_free(db, from);
		db->t[0] = *to;
		memset(to, 0, sizeof(*to));
		db->rehashing = false;
		db->sweep = 0;
	}
}

/* Moves up to n non-empty buckets, passing up to EMPTY_VISITS empty ones for each. */
static void rehash_steps(struct db *db, size_t n)
{
	size_t empty = n * EMPTY_VISITS;
	while (n > 0 && db->rehashing) {
		bool was_empty = !db->t[0].bucket[db->rehash];
		rehash_bucket(db);
		if (!was_empty || empty-- == 0)
			n--;
	}
}

/* Starts a rehash when t[0] is full (double) or under 1/8 full (to a quarter full). */
static void maybe_resize(struct db *db)
{
	if (db->rehashing || !db->t[0].bucket)
		return;
	size_t size = db->t[0].mask + 1, used = db->t[0].used, want;
	if (used >= size) {
		want = size * 2;
	} else if (size > MIN_BUCKETS && used < size / 8) {
		want = MIN_BUCKETS; /* straight to a quarter full, not by halves */
		while (want < used * 4)
			want *= 2;
	} else {
		return;
	}
	if (!table_alloc(db, &db->t[1], want))
		return; /* no memory for a new table: the old one still works, chains grow */
	db->rehashing = true;
	db->rehash = 0;
}

/* The link that points to key's entry (in t[*ti]), or NULL. */
static struct db_entry **find(struct db *db, const void *key, size_t klen, uint64_t hash, int *ti)
{
	for (int i = 0; i < (db->rehashing ? 2 : 1); i++) {
		struct db_table *t = &db->t[i];
		if (!t->bucket)
			continue;
		for (struct db_entry **link = chain(t, hash); *link; link = &(*link)->next) {
			struct db_entry *e = *link;
			if (e->hash == hash && e->klen == klen && memcmp(e->kv, key, klen) == 0) {
				*ti = i;
				return link;
			}
		}
	}
	return NULL;
}

static void unlink_free(struct db *db, struct db_entry **link, int ti)
{
	struct db_entry *e = *link;
	*link = e->next;
	db->t[ti].used--;
	if (e->expire_ms != DB_NO_EXPIRE)
		db->nexpires--;
	db->used_bytes -= usable_size(e);
	free(e);
}

static bool expired(const struct db_entry *e, int64_t now_ms)
{
	return e->expire_ms != DB_NO_EXPIRE && now_ms > e->expire_ms;
}

struct db_entry *db_get(struct db *db, const void *key, size_t klen, int64_t now_ms)
{
	int ti;
	if (db->rehashing)
		rehash_steps(db, 1);
	struct db_entry **link = find(db, key, klen, db_hash(key, klen), &ti);
	if (!link)
		return NULL;
	if (expired(*link, now_ms)) {
		unlink_free(db, link, ti);
		db->stats.expired++;
		maybe_resize(db);
		return NULL;
	}
	return *link;
}

static void fill(struct db_entry *e, uint64_t hash, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
	e->hash = hash;
	e->klen = (uint32_t)klen;
	e->vlen = (uint32_t)vlen;
	memcpy(e->kv, key, klen);
	if (vlen)
		memcpy(e->kv + klen, val, vlen);
}

static void count_expire(struct db *db, int64_t old, int64_t new)
{
	if (old == DB_NO_EXPIRE && new != DB_NO_EXPIRE)
		db->nexpires++;
	else if (old != DB_NO_EXPIRE && new == DB_NO_EXPIRE)
		db->nexpires--;
}

struct db_entry *db_set(struct db *db, const void *key, size_t klen, const void *val, size_t vlen,
                        int64_t expire_ms)
{
	uint64_t hash = db_hash(key, klen);
	size_t need = sizeof(struct db_entry) + klen + vlen;
	int ti;

	if (db->rehashing)
		rehash_steps(db, 1);
	struct db_entry **link = find(db, key, klen, hash, &ti);
	if (link) {
		struct db_entry *old = *link;
		size_t have = usable_size(old);
		if (need <= have && need >= have / 2) {
			/* the block fits the new value and is not much too big: keep it */
			old->vlen = (uint32_t)vlen;
			if (vlen)
				memmove(old->kv + klen, val, vlen);
			count_expire(db, old->expire_ms, expire_ms);
			old->expire_ms = expire_ms;
			return old;
		}
		struct db_entry *e = malloc(need);
		if (!e)
			return NULL;
		fill(e, hash, key, klen, val, vlen);
		e->expire_ms = expire_ms;
		e->next = old->next;
		*link = e;
		count_expire(db, old->expire_ms, expire_ms);
		db->used_bytes += usable_size(e);
		db->used_bytes -= have;
		free(old);
		return e;
	}

	if (!db->t[0].bucket && !table_alloc(db, &db->t[0], MIN_BUCKETS))
		return NULL;
	struct db_entry *e = malloc(need);
	if (!e)
		return NULL;
	fill(e, hash, key, klen, val, vlen);
	e->expire_ms = expire_ms;
	struct db_table *t = &db->t[db->rehashing ? 1 : 0];
	struct db_entry **head = chain(t, hash);
	e->next = *head;
	*head = e;
	t->used++;
	count_expire(db, DB_NO_EXPIRE, expire_ms);
	db->used_bytes += usable_size(e);
	maybe_resize(db);
	return e;
}

bool db_delete(struct db *db, const void *key, size_t klen, int64_t now_ms)
{
	int ti;
	if (db->rehashing)
		rehash_steps(db, 1);
	struct db_entry **link = find(db, key, klen, db_hash(key, klen), &ti);
	if (!link)
		return false;
	bool live = !expired(*link, now_ms);
	if (!live)
		db->stats.expired++;
	unlink_free(db, link, ti);
	maybe_resize(db);
	return live;
}

void db_set_expire(struct db *db, struct db_entry *e, int64_t expire_ms)
{
	count_expire(db, e->expire_ms, expire_ms);
	e->expire_ms = expire_ms;
}

/* Frees the entries of t's buckets from *cursor on, up to *work entries (counted down) and
 * EMPTY_VISITS empty buckets for each; then, once all are, the bucket array. True once t is
 * all freed. */
static bool free_buckets(struct db *db, struct db_table *t, size_t *cursor, size_t *work)
{
	size_t empty = *work > SIZE_MAX / EMPTY_VISITS ? SIZE_MAX : *work * EMPTY_VISITS;
	while (*cursor <= t->mask) {
		struct db_entry **head = &t->bucket[*cursor];
		while (*head) {
			if (*work == 0)
				return false;
			struct db_entry *e = *head;
			*head = e->next;
			db->used_bytes -= usable_size(e);
			free(e);
			(*work)--;
		}
		(*cursor)++;
		if (empty-- == 0)
			return false;
	}
	table_free(db, t);
	return true;
}

void db_flush(struct db *db)
{
	for (int i = 0; i < 2; i++) {
		struct db_table *t = &db->t[i];
		if (!t->bucket)
			continue;
		struct db_dead *d = malloc(sizeof(*d));
		if (d) {
			/* set aside, at the end of the list: db_reap frees it a step at a time */
			*d = (struct db_dead){ .t = *t };
			struct db_dead **end = &db->dead;
			while (*end)
				end = &(*end)->next;
			*end = d;
			memset(t, 0, sizeof(*t));
		} else {
			size_t cursor = 0, all = SIZE_MAX;
			free_buckets(db, t, &cursor, &all); /* no memory to set it aside: now */
		}
	}
	db->rehashing = false;
	db->rehash = 0;
	db->nexpires = 0;
	db->sweep = 0;
}

bool db_reap(struct db *db, size_t work)
{
	while (db->dead) {
		struct db_dead *d = db->dead;
		if (!free_buckets(db, &d->t, &d->cursor, &work))
			return true;
		db->dead = d->next;
		free(d);
	}
	return false;
}

size_t db_cycle(struct db *db, int64_t now_ms, size_t work)
{
	size_t deleted = 0;

	if (db->rehashing)
		rehash_steps(db, work);
	if (db->rehashing || !db->t[0].bucket)
		return 0;
	if (db->nexpires == 0) {
		maybe_resize(db); /* a shard emptied by DEL shrinks here too */
		return 0;
	}
	struct db_table *t = &db->t[0];
	for (size_t i = 0; i < work && i <= t->mask; i++) {
		struct db_entry **link = &t->bucket[db->sweep & t->mask];
		while (*link) {
			if (expired(*link, now_ms)) {
				unlink_free(db, link, 0);
				db->stats.expired++;
				deleted++;
			} else {
				link = &(*link)->next;
			}
		}
		db->sweep++;
	}
	maybe_resize(db);
	return deleted;
}
