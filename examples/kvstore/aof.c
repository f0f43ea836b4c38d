/*
 * aof.c - kvstore's append-only log: one log file per core on the ext2 disk (appendonly=yes).
 *
 * What is logged is the state a write left its keys in, not the command: after a write command
 * ran on a shard, shard_apply notes each key it names, and the record is
 *     SET key value expire-at      the key lives (expire-at: wall-clock ms, or -1 for never)
 *     DEL key                      the key is gone
 *     FLUSHALL                     the shard was emptied
 * as RESP arrays (a person, or redis-cli, can read the file). Replaying the records in order
 * rebuilds the shard whatever the commands were (INCR, SET NX, EXPIRE, ...), and relative
 * times have become absolute ones, so a TTL keeps running across a reboot.
 *
 * Durability. appendfsync=always (the default): a write's reply waits until its record is on
 * the disk. Records go into the core's buffer; the core's log thread writes the buffer to the
 * file and fsyncs (group commit: what was noted while one fsync ran goes with the next), then
 * releases the replies that waited for those records. A connection thread waits with aof_wait;
 * a shard core answering another core's request defers its reply message with aof_after.
 * Nothing is acknowledged before it is durable. appendfsync=everysec: replies do not wait; the
 * log thread writes what comes and fsyncs at most once a second (Redis' default: a crash loses
 * up to a second of acknowledged writes).
 *
 * Failure. When a write or fsync fails (disk full, I/O error), every record noted so far is
 * given up: the replies waiting for them are released at once, and the writes among them are
 * answered with Redis' -MISCONF error instead of their reply (shard.c), reads as they are.
 * From then on the core refuses writes with -MISCONF and still serves reads; the log thread
 * tries the same bytes again every second, and once they are written and fsynced the core
 * takes writes again. A record given up may still reach the log later (or, if the disk was
 * full, lie cut off at its end, which the replay drops): its write was answered with an error,
 * which tells the client the outcome is unknown, never that it happened.
 *
 * Files: <dir>/aof-<c>-of-<n>.log is core c's log for a run with n cores (keys belong to cores by
 * hash modulo n, so a log set only fits the core count it was written with). At start-up:
 *   - logs for n cores: every core replays its own (a record cut off at the end, from a crash,
 *     is dropped and the file cut back to the last whole record);
 *   - else logs for another count m: migration. Every core replays all m logs, keeping the keys
 *     it owns now, writes a snapshot of its shard to aof-<c>-of-<n>.log.tmp and fsyncs it; then
 *     core 0 renames every .tmp to its .log and only then deletes the m logs. A .tmp file found
 *     at start-up means a migration was cut short: its n logs and .tmp files are removed and the
 *     migration starts again from the m logs, which are still there;
 *   - else: an empty store.
 * The log files go through the VFS to the disk's owner core (core 0); each core's log thread
 * waits for its own writes, so the cores' logs are written one after another at the owner.
 */
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/fs.h>
#include <isle/mem.h>
#include <isle/thread.h>

#include "aof.h"
#include "cmd.h"
#include "kvstore.h"

#define AOF_READ_CHUNK (64 * 1024)
#define AOF_RETRY_MS 1000 /* a failed write or fsync is tried again after this */

enum aof_plan_kind { PLAN_FRESH, PLAN_OWN, PLAN_MIGRATE };

/* What aof_plan decided; [I] once the cores load. */
static struct {
	char dir[128]; /* where the logs live */
	unsigned n;    /* cores of this run */
	unsigned m;    /* PLAN_MIGRATE: cores of the logs found */
	enum aof_plan_kind kind;
	enum aof_fsync mode;
} plan;

bool aof_enabled;

/* One core's log. Ownership: [o] the core with this index (its threads and handlers). */
struct aof_core {
	int fd;                         /* the open log */
	struct resp_buf buf;            /* records noted, not yet handed to the file */
	uint64_t noted;                 /* records noted so far (the last one's number) */
	uint64_t durable;               /* records on the disk (written and fsynced) */
	uint64_t given_up;              /* records whose replies a failure released */
	struct aof_waiter *head, *tail; /* replies waiting for records, in record order */
	struct thread *writer;          /* the log thread */
	bool writer_blocked;            /* it waits for records: wake it */
	bool buf_failed;                /* a record did not fit in memory: never durable */
	int error;                      /* the last write/fsync error, 0 when it works */
	uint64_t bytes;                 /* log bytes written this run */
	uint64_t fsyncs;                /* fsyncs done */
	uint64_t loaded;                /* records replayed at start-up */
	char error_text[96];            /* the -MISCONF text of the last error */
} __attribute__((aligned(64)));

static struct aof_core cores[KV_MAX_CORES];

static struct aof_core *here(void)
{
	return &cores[core_id()];
}

static void log_path(char *out, size_t size, unsigned c, unsigned n, bool tmp)
{
	snprintf(out, size, "%s/aof-%u-of-%u.log%s", plan.dir, c, n, tmp ? ".tmp" : "");
}

/* "aof-<c>-of-<n>.log[.tmp]": true and c, n, tmp. */
static bool parse_name(const char *name, unsigned *c, unsigned *n, bool *tmp)
{
	char *end;
	if (strncmp(name, "aof-", 4) != 0)
		return false;
	unsigned long a = strtoul(name + 4, &end, 10);
	if (end == name + 4 || strncmp(end, "-of-", 4) != 0)
		return false;
	const char *p = end + 4;
	unsigned long b = strtoul(p, &end, 10);
	if (end == p || a >= b || b > KV_MAX_CORES)
		return false;
	*tmp = strcmp(end, ".log.tmp") == 0;
	if (!*tmp && strcmp(end, ".log") != 0)
		return false;
	*c = (unsigned)a;
	*n = (unsigned)b;
	return true;
}

/* Removes every log file of n cores (tmp too, or only tmp). */
static void remove_logs(unsigned n, bool only_tmp)
{
	char path[192];
	for (unsigned c = 0; c < n; c++) {
		log_path(path, sizeof(path), c, n, true);
		fs_unlink(path);
		if (!only_tmp) {
			log_path(path, sizeof(path), c, n, false);
			fs_unlink(path);
		}
	}
}

int aof_plan(const char *dir, unsigned n, enum aof_fsync mode)
{
	struct fs_stat st;
	struct fs_dirent *de = kmalloc(sizeof(*de));
	unsigned other = 0;
	bool have_n = false, tmp_n = false, several = false;

	if (!de)
		return -ENOMEM;
	snprintf(plan.dir, sizeof(plan.dir), "%s", dir);
	plan.n = n;
	plan.mode = mode;
	int err = fs_mkdir(dir, 0755);
	if (err < 0 && err != -EEXIST) {
		printf("kvstore: appendonly: cannot make %s: %s (is an ext2 disk at /disk?)\n", dir,
		       strerror(-err));
		kfree(de);
		return err;
	}
	int fd = fs_open(dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0 || fs_fstat(fd, &st) < 0 || !S_ISDIR(st.mode)) {
		printf("kvstore: appendonly: %s is not a directory\n", dir);
		kfree(de);
		return fd < 0 ? fd : -ENOTDIR;
	}
	unsigned c, m;
	bool tmp;
	while (fs_readdir(fd, de) == 1) {
		if (!parse_name(de->name, &c, &m, &tmp))
			continue;
		if (m == n) {
			have_n |= !tmp;
			tmp_n |= tmp;
		} else if (!tmp) {
			several |= other && other != m;
			other = m;
		}
	}
	fs_close(fd);
	kfree(de);
	if (several) {
		printf("kvstore: appendonly: %s holds logs of several core counts; keep one set\n",
		       dir);
		return -EUCLEAN;
	}
	if (tmp_n) {
		printf("kvstore: appendonly: a migration to %u cores was cut short; starting it "
		       "again\n",
		       n);
		remove_logs(n, false);
		have_n = false;
	}
	if (have_n) {
		plan.kind = PLAN_OWN;
		if (other) /* a finished migration whose old logs were not all deleted yet */
			remove_logs(other, false);
	} else if (other) {
		plan.kind = PLAN_MIGRATE;
		plan.m = other;
		printf("kvstore: appendonly: logs of %u cores found; moving the keys to %u cores\n",
		       other, n);
	} else {
		plan.kind = PLAN_FRESH;
	}
	if (!time_unix_ms())
		printf("kvstore: appendonly: no real-time clock: expiry times across a reboot are "
		       "wrong\n");
	aof_enabled = true;
	return 0;
}

/* ---- replay ------------------------------------------------------------------------------- */

static int64_t wall_offset_ms(void)
{
	if (kv_server.wall_clock)
		return 0; /* the kv clock is the wall clock (two readings could differ by 1 ms) */
	return time_unix_ms() - kv_now_ms(); /* wall clock = kv clock + this */
}

/* Applies one record to db; false if it is not a record. Keys of other cores are skipped. */
static bool apply(struct db *db, size_t argc, const struct resp_arg *a, int64_t now_ms)
{
	if (argc == 1 && a[0].len == 8 && memcmp(a[0].p, "FLUSHALL", 8) == 0) {
		db_flush(db);
		db_reap(db, SIZE_MAX); /* start-up: nothing else runs yet */
		return true;
	}
	if (argc < 2 || a[1].len > RESP_MAX_BULK)
		return false;
	bool mine = cmd_owner(a[1].p, a[1].len, plan.n) == core_id();
	if (argc == 2 && a[0].len == 3 && memcmp(a[0].p, "DEL", 3) == 0) {
		if (mine)
			db_delete(db, a[1].p, a[1].len, now_ms);
		return true;
	}
	long long at;
	if (argc != 4 || a[0].len != 3 || memcmp(a[0].p, "SET", 3) != 0 ||
	    !resp_str2ll(a[3].p, a[3].len, &at) || at < -1)
		return false;
	if (!mine)
		return true;
	int64_t expire = at == -1 ? DB_NO_EXPIRE : at - wall_offset_ms();
	if (expire != DB_NO_EXPIRE && expire <= now_ms) {
		db_delete(db, a[1].p, a[1].len, now_ms); /* its time came while we were down */
		return true;
	}
	return db_set(db, a[1].p, a[1].len, a[2].p, a[2].len, expire) != NULL;
}

/* Replays path into db. A record cut off at the end is dropped (and, if cut_tail, the file is
 * cut back to the last whole record). 0, or -errno with a message. */
static int replay(struct db *db, const char *path, bool cut_tail)
{
	int fd = fs_open(path, O_RDWR, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		printf("kvstore: appendonly: cannot open %s: %s\n", path, strerror(-fd));
		return fd;
	}
	struct resp_parser p;
	resp_parser_init(&p);
	size_t cap = 2 * AOF_READ_CHUNK, start = 0, end = 0;
	uint64_t done = 0; /* file offset of the end of the last whole record */
	char *buf = kmalloc(cap);
	int err = buf ? 0 : -ENOMEM;
	bool eof = false;
	while (!err) {
		int r = end > start ? resp_parse(&p, buf + start, end - start) : RESP_MORE;
		if (r == RESP_DONE) {
			if (p.argc && !apply(db, p.argc, p.argv, kv_now_ms())) {
				printf("kvstore: appendonly: %s: bad record at byte %lu\n", path,
				       done);
				err = -EUCLEAN;
				break;
			}
			here()->loaded++;
			start += p.used;
			done += p.used;
			continue;
		}
		if (r != RESP_MORE) {
			printf("kvstore: appendonly: %s: %s at byte %lu\n", path,
			       r == RESP_NOMEM ? "no memory" : p.error, done);
			err = r == RESP_NOMEM ? -ENOMEM : -EUCLEAN;
			break;
		}
		if (eof)
			break;
		/* more bytes: keep the unfinished record at the front and read after it */
		if (start > 0) {
			memmove(buf, buf + start, end - start);
			end -= start;
			start = 0;
		}
		if (cap - end < AOF_READ_CHUNK) {
			if (cap >= 2 * (size_t)RESP_MAX_REQUEST) {
				printf("kvstore: appendonly: %s: record too large at byte %lu\n",
				       path, done);
				err = -EUCLEAN;
				break;
			}
			char *bigger = kmalloc(cap * 2);
			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			memcpy(bigger, buf, end);
			kfree(buf);
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = fs_read(fd, buf + end, AOF_READ_CHUNK);
		if (n < 0) {
			printf("kvstore: appendonly: reading %s: %s\n", path, strerror((int)-n));
			err = (int)n;
		} else if (n == 0) {
			eof = true;
		} else {
			end += (size_t)n;
		}
	}
	if (!err && end > start) {
		printf("kvstore: appendonly: %s: the last record is cut off (%lu bytes); dropped\n",
		       path, (unsigned long)(end - start));
		if (cut_tail)
			err = fs_ftruncate(fd, done);
	}
	resp_parser_free(&p);
	kfree(buf);
	fs_close(fd);
	return err;
}

static void note_entry(struct aof_core *a, const struct db_entry *e);

/* Writes b out to fd and empties it. */
static int write_buf(int fd, struct resp_buf *b)
{
	ssize_t n = fs_write(fd, b->data, b->len);
	int err = n == (ssize_t)b->len ? 0 : n < 0 ? (int)n : -EIO;
	resp_buf_reset(b);
	return err;
}

/* Writes a snapshot of db (one SET per live key) to path and fsyncs it. */
static int snapshot(struct db *db, const char *path)
{
	struct aof_core *a = here();
	int fd = fs_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	int64_t now = kv_now_ms();
	int err = 0;
	for (int t = 0; t < 2 && !err; t++) {
		if (!db->t[t].bucket)
			continue;
		for (size_t b = 0; b <= db->t[t].mask && !err; b++) {
			for (struct db_entry *e = db->t[t].bucket[b]; e && !err; e = e->next) {
				if (e->expire_ms != DB_NO_EXPIRE && e->expire_ms <= now)
					continue;
				note_entry(a, e);
				if (a->buf.failed)
					err = -ENOMEM;
				else if (a->buf.len >= AOF_READ_CHUNK)
					err = write_buf(fd, &a->buf);
			}
		}
	}
	if (!err && a->buf.len)
		err = write_buf(fd, &a->buf);
	resp_buf_free(&a->buf);
	a->noted = 0;
	if (!err)
		err = fs_fsync(fd);
	fs_close(fd);
	return err;
}

int aof_load_core(struct db *db)
{
	char path[192];
	int err = 0;
	unsigned c = core_id();
	if (plan.kind == PLAN_OWN) {
		log_path(path, sizeof(path), c, plan.n, false);
		err = replay(db, path, true);
	} else if (plan.kind == PLAN_MIGRATE) {
		for (unsigned i = 0; i < plan.m && !err; i++) {
			log_path(path, sizeof(path), i, plan.m, false);
			err = replay(db, path, false);
		}
		if (!err) {
			log_path(path, sizeof(path), c, plan.n, true);
			err = snapshot(db, path);
			if (err < 0)
				printf("kvstore: appendonly: writing %s: %s\n", path,
				       strerror(-err));
		}
	}
	return err;
}

int aof_commit_plan(void)
{
	char from[192], to[192];
	if (plan.kind != PLAN_MIGRATE)
		return 0;
	for (unsigned c = 0; c < plan.n; c++) {
		log_path(from, sizeof(from), c, plan.n, true);
		log_path(to, sizeof(to), c, plan.n, false);
		int err = fs_rename(from, to);
		if (err < 0) {
			printf("kvstore: appendonly: renaming %s: %s\n", from, strerror(-err));
			return err;
		}
	}
	int err = fs_sync(); /* the renames are durable before the old logs go */
	if (err < 0)
		return err;
	remove_logs(plan.m, false);
	return fs_sync();
}

/* ---- writing ------------------------------------------------------------------------------ */

/* Whether the replies waiting for record seq may go: it is durable, or was given up. */
static bool settled(const struct aof_core *a, uint64_t seq)
{
	return a->durable >= seq || a->given_up >= seq;
}

static void release(struct aof_core *a)
{
	while (a->head && settled(a, a->head->seq)) {
		struct aof_waiter *w = a->head;
		a->head = w->next;
		if (!a->head)
			a->tail = NULL;
		w->fn(w->arg);
	}
}

/* A write or fsync failed with err (> 0): writes are refused from now on, every record noted
 * so far is given up (the replies waiting for them go, writes as -MISCONF); then a pause
 * before the next try. */
static void failed(struct aof_core *a, int err)
{
	if (!a->error)
		printf("kvstore: appendonly: core %u: writing the log failed: %s; writes refused "
		       "until it works again\n",
		       core_id(), strerror(err));
	a->error = err;
	snprintf(a->error_text, sizeof(a->error_text), "MISCONF Errors writing to the AOF file: %s",
	         strerror(err));
	a->given_up = a->noted;
	release(a);
	sleep_ms(AOF_RETRY_MS);
}

/* Writes out[0..len) at the end of the log, trying again until it is done. */
static void write_all(struct aof_core *a, const char *p, size_t len)
{
	while (len) {
		ssize_t n = fs_write(a->fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			a->bytes += (uint64_t)n;
			continue;
		}
		failed(a, n < 0 ? (int)-n : EIO);
	}
}

static void sync_log(struct aof_core *a)
{
	int err;
	while ((err = fs_fsync(a->fd)) < 0)
		failed(a, -err);
	a->fsyncs++;
}

static int log_thread(void *arg)
{
	struct aof_core *a = arg;
	uint64_t last_sync = now_ns();
	bool unsynced = false;
	for (;;) {
		if (!a->buf.len) {
			if (unsynced) { /* everysec: the last writes reach the disk within a second */
				uint64_t due = last_sync + 1000000000ull, now = now_ns();
				if (now < due) {
					sleep_ns(due - now);
					continue;
				}
				sync_log(a);
				last_sync = now_ns();
				unsynced = false;
				continue;
			}
			a->writer_blocked = true;
			thread_block();
			a->writer_blocked = false;
			continue;
		}
		struct resp_buf out = a->buf;
		uint64_t upto = a->noted;
		memset(&a->buf, 0, sizeof(a->buf));
		write_all(a, out.data, out.len);
		resp_buf_free(&out);
		if (plan.mode == AOF_FSYNC_ALWAYS || now_ns() - last_sync >= 1000000000ull) {
			sync_log(a);
			last_sync = now_ns();
			unsynced = false;
		} else {
			unsynced = true;
		}
		if (a->error)
			printf("kvstore: appendonly: core %u: the log is written again\n",
			       core_id());
		a->error = 0;
		if (!a->buf_failed)
			a->durable = upto;
		release(a);
	}
	return 0;
}

int aof_open_core(void)
{
	char path[192];
	struct aof_core *a = here();
	log_path(path, sizeof(path), core_id(), plan.n, false);
	a->fd = fs_open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (a->fd < 0) {
		printf("kvstore: appendonly: cannot open %s: %s\n", path, strerror(-a->fd));
		return a->fd;
	}
	a->writer = thread_create(core_id(), log_thread, a);
	return a->writer ? 0 : -ENOMEM;
}

static void note_entry(struct aof_core *a, const struct db_entry *e)
{
	char at[24];
	long long wall = e->expire_ms == DB_NO_EXPIRE ? -1 : e->expire_ms + wall_offset_ms();
	size_t n = resp_ll2str(at, wall);
	resp_add_array(&a->buf, 4);
	resp_add_bulk(&a->buf, "SET", 3);
	resp_add_bulk(&a->buf, db_key(e), e->klen);
	resp_add_bulk(&a->buf, db_value((struct db_entry *)e), e->vlen);
	resp_add_bulk(&a->buf, at, n);
	a->noted++;
}

static void noted(struct aof_core *a)
{
	if (a->buf.failed)
		a->buf_failed = true; /* lost a record: nothing from here on is acknowledged */
	if (a->writer_blocked)
		thread_wake(a->writer);
}

void aof_note_key(struct db *db, const char *key, size_t klen, int64_t now_ms)
{
	struct aof_core *a = here();
	struct db_stats keep = db->stats; /* a look for the log is not a read: hits stay */
	struct db_entry *e = db_get(db, key, klen, now_ms);
	db->stats = keep;
	if (e) {
		note_entry(a, e);
	} else {
		resp_add_array(&a->buf, 2);
		resp_add_bulk(&a->buf, "DEL", 3);
		resp_add_bulk(&a->buf, key, klen);
		a->noted++;
	}
	noted(a);
}

void aof_note_flush(void)
{
	struct aof_core *a = here();
	resp_add_array(&a->buf, 1);
	resp_add_bulk(&a->buf, "FLUSHALL", 8);
	a->noted++;
	noted(a);
}

uint64_t aof_mark(void)
{
	return here()->noted;
}

bool aof_durable(uint64_t seq)
{
	return !aof_enabled || plan.mode == AOF_FSYNC_EVERYSEC || here()->durable >= seq;
}

/* Whether replies that depend on record seq may go (durable, or given up after a failure). */
static bool aof_settled(uint64_t seq)
{
	return aof_durable(seq) || here()->given_up >= seq;
}

void aof_after(struct aof_waiter *w, uint64_t seq, void (*fn)(void *arg), void *arg)
{
	if (aof_settled(seq)) {
		fn(arg);
		return;
	}
	struct aof_core *a = here();
	w->next = NULL;
	w->seq = seq;
	w->fn = fn;
	w->arg = arg;
	if (a->tail)
		a->tail->next = w;
	else
		a->head = w;
	a->tail = w;
}

static void wake_waiter(void *arg)
{
	thread_wake(arg);
}

void aof_wait(uint64_t seq)
{
	struct aof_waiter w;
	if (aof_settled(seq))
		return;
	aof_after(&w, seq, wake_waiter, thread_self());
	while (!aof_settled(seq))
		thread_block();
}

const char *aof_error(void)
{
	struct aof_core *a = here();
	if (!aof_enabled)
		return NULL;
	if (a->buf_failed)
		return "MISCONF Errors writing to the AOF file: out of memory for the log";
	return a->error ? a->error_text : NULL;
}

const char *aof_lost_error(void)
{
	struct aof_core *a = here();
	if (a->buf_failed)
		return "MISCONF Errors writing to the AOF file: out of memory for the log";
	return a->error_text[0] ? a->error_text : "MISCONF Errors writing to the AOF file";
}

void aof_info(struct resp_buf *t)
{
	struct aof_core *a = here();
	resp_add_rawf(t, "aof_enabled:%d\r\n", aof_enabled ? 1 : 0);
	if (!aof_enabled)
		return;
	resp_add_rawf(t, "aof_fsync:%s\r\naof_last_write_status:%s\r\n",
	              plan.mode == AOF_FSYNC_ALWAYS ? "always" : "everysec",
	              aof_error() ? "err" : "ok");
	resp_add_rawf(t, "aof_records_noted:%lu\r\naof_records_durable:%lu\r\n", a->noted,
	              a->durable);
	resp_add_rawf(t, "aof_bytes_written:%lu\r\naof_fsyncs:%lu\r\naof_records_loaded:%lu\r\n",
	              a->bytes, a->fsyncs, a->loaded);
}
