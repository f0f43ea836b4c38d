/*
 * aof.h - kvstore's append-only log (appendonly=yes): one log per core on the ext2 disk.
 *
 * See aof.c for the design. Start-up, from main() (thread context):
 *   aof_plan(dir, ncores)       core 0: look at the directory, decide what to load
 *   aof_load_core()             on every core, in a thread: replay into the core's shard
 *   aof_commit_plan()           core 0, after every core loaded: finish a migration
 *   aof_open_core()             on every core: open its log and start its log thread
 * Then, on the shard's core:
 *   aof_note_key / aof_note_flush   after a write command changed the shard (shard_apply)
 *   aof_mark()                  the last record so far; a reply that depends on it waits:
 *   aof_wait(seq)               thread context: block until record seq is settled
 *   aof_after(w, seq, fn, arg)  handler context: fn(arg) once record seq is settled
 *   aof_durable(seq)            then: true if it is on the disk, false if a failure gave it
 *                               up (a write's reply becomes aof_lost_error())
 * A record is settled once it is durable or a failure of the log gave it up (aof.c).
 */
#ifndef KVSTORE_AOF_H
#define KVSTORE_AOF_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "resp.h"

enum aof_fsync { AOF_FSYNC_ALWAYS, AOF_FSYNC_EVERYSEC };

/* [I] after aof_plan: appendonly=yes was given and the log is in use. */
extern bool aof_enabled;

/* Core 0, once: dir is where the logs live (made if missing), ncores the cores of this run.
 * 0, or -errno with a message printed (kvstore then refuses to start). */
int aof_plan(const char *dir, unsigned ncores, enum aof_fsync mode);
/* Every core, in a thread: replays the logs the plan named into db (only keys this core owns).
 * 0 or -errno (a corrupt log: printed, kvstore refuses to start). */
int aof_load_core(struct db *db);
/* Core 0, after every core's aof_load_core returned 0. */
int aof_commit_plan(void);
/* Every core, in a thread: opens the core's log for appending and starts its log thread. */
int aof_open_core(void);

/* Records the state key is in now (its value and expiry, or that it is gone). Shard core. */
void aof_note_key(struct db *db, const char *key, size_t klen, int64_t now_ms);
/* Records that the shard was emptied. */
void aof_note_flush(void);
/* The number of the last record noted on this core. */
uint64_t aof_mark(void);
/* true once record seq of this core is durable (always true with everysec). */
bool aof_durable(uint64_t seq);
/* Blocks until record seq is settled. Thread context. */
void aof_wait(uint64_t seq);

/* A deferred action; the caller provides its memory, which must live until fn has run. (The
 * worker's waiting list in shard.c uses it too.) */
struct aof_waiter {
	struct aof_waiter *next; /* [o] the next one in the core's list */
	uint64_t seq;            /* [o] the record it waits for */
	void (*fn)(void *arg);   /* [o] what to do then (in the log thread, or at once) */
	void *arg;               /* [o] */
};
void aof_after(struct aof_waiter *w, uint64_t seq, void (*fn)(void *arg), void *arg);
/* The error that stops writes (-MISCONF text), or NULL while the log works. */
const char *aof_error(void);
/* The error for a write whose records were given up: the last failure's -MISCONF text. */
const char *aof_lost_error(void);
/* "# Persistence" lines of INFO for this core. */
void aof_info(struct resp_buf *text);

#endif
