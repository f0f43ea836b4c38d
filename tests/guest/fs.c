/*
 * fs - files through the VFS from every core at once: the initrd, and a writable filesystem
 * owned by core 0 that the other cores reach by message.
 *
 * tests/run boots this image with build/initrd-fs.cpio (Makefile: tests/guest/fs-initrd/, a
 * generated 100 KiB binary file, a symlink, an empty directory, a name of 255 bytes, and
 * sums.txt, the POSIX cksum of every regular file).
 *
 *  fs_initrd        "/" is the initrd: /hello.txt reads back, / is a read-only directory
 *  fs_every_core    a thread on every core at once, 3 rounds: every file sums.txt lists is read
 *                   in odd pieces (and with fs_read_file) and its size and cksum match; readdir
 *                   of / and of the nested directories; no core sent a message to read the
 *                   initrd (remote_calls stays 0)
 *  fs_errors        ENOENT, ENOTDIR, EISDIR, EROFS, ELOOP (symlink), ENAMETOOLONG, EINVAL, EMFILE
 *                   at FS_OPEN_MAX, and EBADF for a descriptor of another core
 *  fs_remote        a memory filesystem (memfs.h) mounted at /mem, owned by core 0, whose
 *                   writes sleep in the middle as a disk would; two threads per core at once
 *                   create, write in odd pieces, fsync, read back, append to, stat, list and
 *                   rename their own files. Every call ran on core 0 (the memfs checks) and
 *                   never two at a time; each other core's remote_calls is exactly the number
 *                   of calls it made; core 0 served exactly the sum of them; core 0 read every
 *                   file back at the end; a PERCORE buffer sent to another core is -EFAULT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/fs.h>
#include <isle/mem.h>
#include <isle/thread.h>
#include "kernel/compiler.h"
#include "gtest.h"
#include "memfs.h"

#define MAX_NCORES 64
#define ROUNDS 3
#define WRITERS_PER_CORE 2
#define FILE_BYTES 6000 /* each writer's file */

/* ---- POSIX cksum (CRC-32, polynomial 0x04C11DB7, the length appended) ------------------------ */

static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i << 24;
		for (int k = 0; k < 8; k++)
			c = c & 0x80000000u ? c << 1 ^ 0x04C11DB7u : c << 1;
		crc_table[i] = c;
	}
}

static uint32_t crc_add(uint32_t crc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		crc = crc << 8 ^ crc_table[(crc >> 24 ^ p[i]) & 0xff];
	return crc;
}

static uint32_t crc_finish(uint32_t crc, uint64_t len)
{
	for (; len; len >>= 8) {
		uint8_t b = (uint8_t)len;
		crc = crc_add(crc, &b, 1);
	}
	return ~crc;
}

/* ---- the initrd -------------------------------------------------------------------------------- */

struct sum {
	uint32_t crc;   /* cksum of the file */
	uint64_t size;  /* its bytes */
	char path[300]; /* "/" + its path in the initrd */
};

static struct sum sums[ISLE_MAX_CORES];
static unsigned nsums;

/* Parses /sums.txt ("CRC SIZE ./path" lines); false if it cannot. */
static bool load_sums(void)
{
	char *text;
	size_t len;
	int rc = fs_read_file("/sums.txt", 1 << 16, &text, &len);
	CHECKF(rc == 0, "fs_read_file(/sums.txt): %d", rc);
	if (rc)
		return false;
	char *p = text;
	while (*p && nsums < sizeof(sums) / sizeof(sums[0])) {
		struct sum *s = &sums[nsums];
		char *end;
		s->crc = (uint32_t)strtoul(p, &end, 10);
		s->size = strtoul(end, &end, 10);
		while (*end == ' ')
			end++;
		char *nl = strchr(end, '\n');
		if (!nl || end[0] != '.' || end[1] != '/' || (size_t)(nl - end) >= sizeof(s->path))
			break;
		snprintf(s->path, sizeof(s->path), "%.*s", (int)(nl - end - 1), end + 1);
		nsums++;
		p = nl + 1;
	}
	CHECKF(*p == '\0', "sums.txt: cannot parse '%.40s'", p);
	kfree(text);
	return *p == '\0';
}

/* Reads path in pieces of odd sizes; checks size and cksum. */
static void check_sum(const struct sum *s, uint8_t *buf, size_t cap)
{
	int fd = fs_open(s->path, O_RDONLY, 0);
	CHECKF(fd >= 0, "core %u: open %s: %d", core_id(), s->path, fd);
	if (fd < 0)
		return;
	uint32_t crc = 0;
	uint64_t got = 0;
	ssize_t n;
	size_t piece = 1 + core_id() * 97 % 5000;
	while ((n = fs_read(fd, buf, MIN(piece, cap))) > 0) {
		crc = crc_add(crc, buf, (size_t)n);
		got += (uint64_t)n;
		piece = piece * 7 % 9000 + 1;
	}
	CHECKF(n == 0, "core %u: read %s: %ld", core_id(), s->path, (long)n);
	CHECKF(got == s->size, "core %u: %s: %lu bytes, want %lu", core_id(), s->path, got,
	       s->size);
	CHECKF(crc_finish(crc, got) == s->crc, "core %u: %s: cksum differs", core_id(), s->path);
	struct fs_stat st;
	CHECK(fs_fstat(fd, &st) == 0 && S_ISREG(st.mode) && st.size == s->size);
	CHECK(fs_close(fd) == 0);

	char *data;
	size_t len;
	CHECK(fs_read_file(s->path, s->size, &data, &len) == 0);
	CHECK(len == s->size && crc_finish(crc_add(0, (uint8_t *)data, len), len) == s->crc);
	kfree(data);
}

/* The entries of directory path, space-separated. */
static int list(const char *path, char *out, size_t cap)
{
	int fd = fs_open(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	struct fs_dirent de;
	int rc;
	size_t used = 0;
	out[0] = '\0';
	while ((rc = fs_readdir(fd, &de)) == 1) {
		int n = snprintf(out + used, cap - used, "%s%s", used ? " " : "",
		                 strlen(de.name) > 20 ? "<long>" : de.name);
		used = MIN(cap - 1, used + (size_t)n);
	}
	fs_close(fd);
	return rc;
}

static void test_initrd(void)
{
	gtest_begin("fs_initrd");
	char *data;
	size_t len;
	CHECK(fs_read_file("/hello.txt", 100, &data, &len) == 0);
	CHECK(len == 22 && strcmp(data, "hello from the initrd\n") == 0);
	kfree(data);
	struct fs_stat st;
	CHECK(fs_stat("/", &st) == 0 && S_ISDIR(st.mode));
	CHECK(fs_open("/new", O_WRONLY | O_CREAT, 0644) == -EROFS);
	gtest_end();
}

struct core_result {
	uint64_t remote_calls; /* fs_stats remote_calls growth during the test */
	uint64_t reads;        /* fs_stats reads growth */
	unsigned lists_bad;    /* readdir listings that differed from the expected one */
} __attribute__((aligned(64)));
static struct core_result results[MAX_NCORES];

static const char root_list[] = ". .. data empty emptydir etc hello.txt link <long> sums.txt";

static int reader(void *arg)
{
	(void)arg;
	struct core_result *r = &results[core_id()];
	struct fs_stats before, after;
	uint8_t *buf = kmalloc(9000);
	char names[512];
	fs_stats(&before);
	for (int round = 0; round < ROUNDS && buf; round++) {
		for (unsigned i = 0; i < nsums; i++)
			check_sum(&sums[(i + core_id()) % nsums], buf, 9000);
		if (list("/", names, sizeof(names)) != 0 || strcmp(names, root_list) != 0)
			r->lists_bad++;
		if (list("/etc/deep/a/b/c/", names, sizeof(names)) != 0 ||
		    strcmp(names, ". .. leaf.txt") != 0)
			r->lists_bad++;
		if (list("/emptydir", names, sizeof(names)) != 0 || strcmp(names, ". ..") != 0)
			r->lists_bad++;
	}
	CHECK(buf != NULL);
	kfree(buf);
	fs_stats(&after);
	r->remote_calls = after.remote_calls - before.remote_calls;
	r->reads = after.reads - before.reads;
	return 0;
}

static void test_every_core(void)
{
	gtest_begin("fs_every_core");
	unsigned n = core_count();
	struct thread *t[MAX_NCORES];
	CHECK(nsums >= 7);
	for (unsigned c = 0; c < n; c++)
		CHECK((t[c] = thread_create(c, reader, NULL)) != NULL);
	for (unsigned c = 0; c < n; c++)
		if (t[c])
			CHECK(thread_join(t[c], NULL) == 0);
	for (unsigned c = 0; c < n; c++) {
		CHECKF(results[c].remote_calls == 0, "core %u sent %lu messages for the initrd", c,
		       results[c].remote_calls);
		CHECKF(results[c].reads > ROUNDS * nsums, "core %u: %lu reads", c,
		       results[c].reads);
		CHECKF(results[c].lists_bad == 0, "core %u: %u wrong listings", c,
		       results[c].lists_bad);
	}
	printf("fs: %u files, %u cores x %d rounds\n", nsums, n, ROUNDS);
	gtest_end();
}

/* ---- errors -------------------------------------------------------------------------------------- */

static int other_core_read(void *arg)
{
	char c;
	return (int)fs_read((int)(intptr_t)arg, &c, 1);
}

static void test_errors(void)
{
	gtest_begin("fs_errors");
	struct fs_stat st;
	char buf[16];
	CHECK(fs_stat("/missing", &st) == -ENOENT);
	CHECK(fs_stat("/hello.txt/x", &st) == -ENOTDIR);
	CHECK(fs_stat("/etc/deep/../../hello.txt/", &st) == -ENOTDIR);
	CHECK(fs_stat("hello.txt", &st) == -EINVAL);
	CHECK(fs_open("/link", O_RDONLY, 0) == -ELOOP);
	CHECK(fs_stat("/link", &st) == 0 && (st.mode & S_IFMT) == S_IFLNK);
	CHECK(fs_open("/hello.txt", O_RDWR, 0) == -EROFS);
	CHECK(fs_mkdir("/d", 0755) == -EROFS);
	CHECK(fs_unlink("/hello.txt") == -EROFS);
	int fd = fs_open("/etc", O_RDONLY, 0);
	CHECK(fd >= 0 && fs_read(fd, buf, sizeof(buf)) == -EISDIR);
	fs_close(fd);

	char name[FS_NAME_MAX + 3];
	name[0] = '/';
	memset(name + 1, 'n', FS_NAME_MAX);
	name[FS_NAME_MAX + 1] = '\0';
	char *data;
	size_t len;
	CHECK(fs_read_file(name, 100, &data, &len) == 0 && len == 5 && strcmp(data, "long\n") == 0);
	kfree(data);
	name[FS_NAME_MAX + 1] = 'n';
	name[FS_NAME_MAX + 2] = '\0';
	CHECK(fs_stat(name, &st) == -ENAMETOOLONG);

	int fds[FS_OPEN_MAX], nfds = 0;
	while (nfds < FS_OPEN_MAX && (fds[nfds] = fs_open("/empty", O_RDONLY, 0)) >= 0)
		nfds++;
	CHECK(nfds == FS_OPEN_MAX);
	CHECK(fs_open("/empty", O_RDONLY, 0) == -EMFILE);
	while (nfds > 0)
		CHECK(fs_close(fds[--nfds]) == 0);

	/* A descriptor means nothing on another core. */
	fd = fs_open("/hello.txt", O_RDONLY, 0);
	CHECK(fd >= 0);
	if (core_count() > 1) {
		int ret = 0;
		struct thread *t = thread_create(1, other_core_read, (void *)(intptr_t)fd);
		CHECK(t && thread_join(t, &ret) == 0);
		CHECKF(ret == -EBADF, "fd %d of core 0 read on core 1: %d", fd, ret);
	}
	CHECK(fs_read(fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0);
	fs_close(fd);
	gtest_end();
}

/* ---- a filesystem owned by core 0 ------------------------------------------------------------- */

static struct memfs mem;
PERCORE static char percore_buf[16]; /* an address that means something else on core 0 */

static void disk_wait(void)
{
	sleep_ns(200000); /* as if the write waited for the disk: other threads run meanwhile */
}

static uint8_t pattern(size_t i, unsigned id)
{
	return (uint8_t)(i * 13 + id * 29 + (i >> 7));
}

struct writer_result {
	uint64_t calls;        /* fs_* calls this writer made on /mem */
	uint64_t remote_calls; /* its core's remote_calls growth (one writer per core reports) */
	unsigned bad;          /* checks that failed */
} __attribute__((aligned(64)));
static struct writer_result wres[MAX_NCORES][WRITERS_PER_CORE];

#define WCHECK(cond)                                                                              \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			r->bad++;                                                                 \
			printf("FAIL fs_remote: core %u writer %u: %s (line %d)\n", core_id(), k, \
			       #cond, __LINE__);                                                  \
		}                                                                                 \
	} while (0)

static int writer(void *arg)
{
	unsigned k = (unsigned)(uintptr_t)arg, id = core_id() * WRITERS_PER_CORE + k;
	struct writer_result *r = &wres[core_id()][k];
	char path[64], path2[64];
	uint8_t *buf = kmalloc(FILE_BYTES + 100);
	WCHECK(buf != NULL);
	if (!buf)
		return 0;
	snprintf(path, sizeof(path), "/mem/w%u.tmp", id);
	snprintf(path2, sizeof(path2), "/mem/w%u", id);

	int fd = fs_open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	r->calls++;
	WCHECK(fd >= 0);
	for (size_t off = 0, piece = 1 + id % 7; off < FILE_BYTES; piece = piece * 3 % 1500 + 1) {
		size_t n = MIN(piece, FILE_BYTES - off);
		for (size_t i = 0; i < n; i++)
			buf[i] = pattern(off + i, id);
		WCHECK(fs_write(fd, buf, n) == (ssize_t)n);
		r->calls++;
		off += n;
	}
	WCHECK(fs_fsync(fd) == 0);
	WCHECK(fs_lseek(fd, 0, SEEK_END) == FILE_BYTES); /* SEEK_END asks the owner for the size */
	r->calls += 2;
	memset(buf, 0, FILE_BYTES);
	size_t got = 0;
	ssize_t n;
	while ((n = fs_pread(fd, buf + got, 1000, got)) > 0) {
		got += (size_t)n;
		r->calls++;
	}
	r->calls++; /* the last one, which returned 0 */
	WCHECK(got == FILE_BYTES);
	bool same = true;
	for (size_t i = 0; i < FILE_BYTES; i++)
		same = same && buf[i] == pattern(i, id);
	WCHECK(same);
	/* A PERCORE buffer must not be handed to core 0, whose window holds other bytes. */
	if (core_id() != 0) {
		/* Refused before any message is sent: not a remote call. */
		WCHECK(fs_pread(fd, percore_buf, sizeof(percore_buf), 0) == -EFAULT);
	}
	WCHECK(fs_close(fd) == 0);
	WCHECK(fs_rename(path, path2) == 0);
	r->calls += 3; /* is either name a directory holding a mount point? then the rename */

	fd = fs_open(path2, O_WRONLY | O_APPEND, 0);
	r->calls++;
	WCHECK(fd >= 0);
	WCHECK(fs_write(fd, "end", 3) == 3);
	r->calls++;
	fs_close(fd);
	struct fs_stat st;
	WCHECK(fs_stat(path2, &st) == 0 && st.size == FILE_BYTES + 3);
	WCHECK(fs_stat(path, &st) == -ENOENT);
	WCHECK(fs_open("/mem/nothere", O_RDONLY, 0) == -ENOENT);
	r->calls += 3;
	kfree(buf);
	return 0;
}

/* Runs the writers of one core and then counts its remote calls. */
static int core_writers(void *arg)
{
	(void)arg;
	struct fs_stats before, after;
	struct thread *t[WRITERS_PER_CORE];
	fs_stats(&before);
	for (unsigned k = 0; k < WRITERS_PER_CORE; k++)
		t[k] = thread_create(core_id(), writer, (void *)(uintptr_t)k);
	for (unsigned k = 0; k < WRITERS_PER_CORE; k++)
		if (t[k])
			thread_join(t[k], NULL);
	fs_stats(&after);
	wres[core_id()][0].remote_calls = after.remote_calls - before.remote_calls;
	for (unsigned k = 0; k < WRITERS_PER_CORE; k++)
		if (!t[k])
			return 1;
	return 0;
}

static void test_remote(void)
{
	gtest_begin("fs_remote");
	unsigned n = core_count();
	memfs_init(&mem, 0);
	mf_block = disk_wait;
	CHECK(vfs_mount("/mem", &memfs_ops, &mem, 1, 0, false, "memfs") == 0);
	struct fs_stats before, after;
	fs_stats(&before);

	struct thread *t[MAX_NCORES];
	int ret;
	for (unsigned c = 0; c < n; c++)
		CHECK((t[c] = thread_create(c, core_writers, NULL)) != NULL);
	for (unsigned c = 0; c < n; c++)
		if (t[c])
			CHECK(thread_join(t[c], &ret) == 0 && ret == 0);
	fs_stats(&after);

	uint64_t remote = 0;
	for (unsigned c = 0; c < n; c++) {
		uint64_t calls = 0;
		for (unsigned k = 0; k < WRITERS_PER_CORE; k++) {
			CHECK(wres[c][k].bad == 0);
			calls += wres[c][k].calls;
		}
		uint64_t want = c == 0 ? 0 : calls;
		CHECKF(wres[c][0].remote_calls == want, "core %u: %lu remote calls, want %lu", c,
		       wres[c][0].remote_calls, want);
		remote += wres[c][0].remote_calls;
	}
	CHECKF(after.served_calls - before.served_calls == remote,
	       "core 0 served %lu calls, the others sent %lu",
	       after.served_calls - before.served_calls, remote);
	CHECKF(mem.wrong_core == 0, "%lu memfs calls ran on another core", mem.wrong_core);
	CHECKF(mem.overlaps == 0, "%lu memfs calls overlapped", mem.overlaps);
	CHECK(mem.fsyncs == n * WRITERS_PER_CORE);

	/* Core 0 reads every file back. */
	for (unsigned id = 0; id < n * WRITERS_PER_CORE; id++) {
		char path[32], *data;
		size_t len;
		snprintf(path, sizeof(path), "/mem/w%u", id);
		CHECKF(fs_read_file(path, 1 << 20, &data, &len) == 0, "%s", path);
		if (!data)
			continue;
		bool same = len == FILE_BYTES + 3 && memcmp(data + FILE_BYTES, "end", 3) == 0;
		for (size_t i = 0; same && i < FILE_BYTES; i++)
			same = (uint8_t)data[i] == pattern(i, id);
		CHECKF(same, "%s: %zu bytes, content differs", path, len);
		kfree(data);
	}
	CHECK(fs_rmdir("/mem") == -EBUSY);
	CHECK(fs_rename("/mem/w0", "/w0") == -EXDEV);
	CHECK(fs_sync() == 0 && mem.syncs == 1);
	printf("fs: %u writers, %lu remote calls served by core 0, memfs %lu calls\n",
	       n * WRITERS_PER_CORE, remote, mem.calls);
	gtest_end();
}

int main(void)
{
	crc_init();
	test_initrd();
	gtest_begin("fs_sums");
	bool loaded = load_sums();
	gtest_end();
	if (loaded)
		test_every_core();
	test_errors();
	test_remote();
	return gtest_status();
}
