/*
 * test_vfs.c - host tests of the VFS (fs/vfs.c, fs/vfs_remote.c) on one core, under ASan and
 * UBSan.
 *
 * "/" is a ramfs (fs/ramfs.c) built from an archive made here, mounted read-only and
 * VFS_ANY_CORE as at boot. Two writable filesystems (tests/guest/memfs.h) owned by core 0 are
 * mounted at /mem (a mount point the initrd does not have) and /etc/mnt (one it has), so calls to
 * them go through the owner's gate. There is one core and one thread: nothing may ever block,
 * and the thread and message functions below fail the test if the VFS calls them to wait or
 * to send. Remote calls are tested in the guest (tests/guest/fs.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <isle/errno.h>
#include <isle/fs.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "fs/cpio.h"
#include "fs/ramfs.h"
#include "fs/vfs.h"
#include "kernel/core.h"
#include "tests/guest/memfs.h"
#include "tests/unit/test.h"

/* ---- kernel stand-ins ---------------------------------------------------------------------- */

unsigned ncores = 1;
unsigned core_self;
static int unexpected; /* calls to functions a one-core VFS must not need */

void *kmalloc(size_t size)
{
	return malloc(size ? size : 1);
}

void kfree(void *p)
{
	free(p);
}

struct thread *thread_self(void)
{
	static char me;
	return (struct thread *)&me;
}

void thread_block(void)
{
	unexpected++;
	fprintf(stderr, "  thread_block called: the VFS would wait forever\n");
	abort();
}

void thread_wake(struct thread *t)
{
	(void)t;
	unexpected++;
}

void thread_yield(void)
{
	unexpected++;
}

int msg_call(unsigned dst, void (*fn)(void *arg), void *arg)
{
	(void)dst, (void)fn, (void)arg;
	unexpected++;
	return -EINVAL;
}

int msg_call_reply(unsigned dst, void (*fn)(void *arg), void *arg)
{
	(void)dst, (void)fn, (void)arg;
	unexpected++;
	return -EINVAL;
}

int thread_spawn_stack(unsigned core, thread_fn fn, void *arg, size_t stack)
{
	(void)core, (void)fn, (void)arg, (void)stack;
	unexpected++;
	return -ENOMEM;
}

/* ---- the initrd ------------------------------------------------------------------------------ */

struct ar {
	uint8_t *buf;
	size_t len, cap;
};

static void ar_put(struct ar *a, const void *p, size_t n)
{
	if (a->len + n + 4 > a->cap) {
		a->cap = (a->len + n) * 2 + 256;
		a->buf = realloc(a->buf, a->cap);
		if (!a->buf)
			abort();
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
	while (a->len % 4)
		a->buf[a->len++] = 0;
}

static void ar_entry(struct ar *a, const char *name, uint32_t mode, const void *data, size_t size)
{
	char h[CPIO_HEADER_SIZE + FS_PATH_MAX + 8];
	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
	         (unsigned)a->len, mode, 0, 0, 1, 0, (unsigned)size, 0, 0, 0, 0,
	         (unsigned)strlen(name) + 1, 0);
	size_t hl = strlen(h);
	memcpy(h + hl, name, strlen(name) + 1); /* header and name are padded together */
	ar_put(a, h, hl + strlen(name) + 1);
	if (size)
		ar_put(a, data, size);
}

#define BIG_SIZE 70001
#define DEEP 63 /* directories nested under /deep: 64 with /deep itself */

static uint8_t big[BIG_SIZE];
static char deep_path[DEEP * 2 + 32]; /* "/deep/d/d/.../d/f" */
static struct ar initrd;
static struct ramfs *rootfs;
static struct memfs mem, mnt;

static void make_initrd(void)
{
	struct ar *a = &initrd;
	ar_entry(a, ".", S_IFDIR | 0755, NULL, 0);
	ar_entry(a, "hello.txt", S_IFREG | 0644, "hello, world\n", 13);
	ar_entry(a, "empty", S_IFREG | 0644, NULL, 0);
	for (size_t i = 0; i < BIG_SIZE; i++)
		big[i] = (uint8_t)(i * 131 + (i >> 9));
	ar_entry(a, "data/big.bin", S_IFREG | 0644, big, BIG_SIZE);
	ar_entry(a, "etc/motd", S_IFREG | 0644, "motd\n", 5);
	ar_entry(a, "etc/mnt", S_IFDIR | 0755, NULL, 0);
	ar_entry(a, "etc/mnt/hidden", S_IFREG | 0644, "under the mount", 15);
	ar_entry(a, "lnk", S_IFLNK | 0777, "hello.txt", 9);
	char name[DEEP * 2 + 16] = "deep";
	for (int i = 0; i < DEEP; i++)
		strcat(name, "/d");
	strcat(name, "/f");
	ar_entry(a, name, S_IFREG | 0644, "bottom", 6);
	snprintf(deep_path, sizeof(deep_path), "/%s", name);
	ar_entry(a, "TRAILER!!!", 0, NULL, 0);
}

static void setup(void)
{
	char err[128];
	make_initrd();
	if (ramfs_build(initrd.buf, initrd.len, &rootfs, err, sizeof(err)) != 0) {
		fprintf(stderr, "ramfs_build: %s\n", err);
		exit(1);
	}
	memfs_init(&mem, 0);
	memfs_init(&mnt, 0);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static int slurp(const char *path, char *buf, size_t cap)
{
	int fd = fs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	size_t got = 0;
	ssize_t n;
	while (got < cap - 1 && (n = fs_read(fd, buf + got, cap - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	fs_close(fd);
	return (int)got;
}

static int put(const char *path, int flags, const char *text)
{
	int fd = fs_open(path, flags, 0644);
	if (fd < 0)
		return fd;
	ssize_t n = fs_write(fd, text, strlen(text));
	fs_close(fd);
	return n == (ssize_t)strlen(text) ? 0 : (int)n;
}

/* The names readdir gives for path, space-separated, into out. */
static int list(const char *path, char *out, size_t cap)
{
	int fd = fs_open(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	struct fs_dirent de;
	int rc;
	out[0] = '\0';
	while ((rc = fs_readdir(fd, &de)) == 1) {
		if (out[0])
			strncat(out, " ", cap - strlen(out) - 1);
		strncat(out, de.name, cap - strlen(out) - 1);
	}
	fs_close(fd);
	return rc;
}

/* ---- tests ------------------------------------------------------------------------------------- */

TEST(mounts)
{
	CHECK_EQ(fs_open("/hello.txt", O_RDONLY, 0), -ENOENT); /* nothing mounted yet */
	CHECK_EQ(vfs_mount("/mem", &memfs_ops, &mem, 1, 0, false, "memfs"), -ENOENT); /* no "/" */
	CHECK_EQ(vfs_mount("/", &ramfs_ops, rootfs, ramfs_root(rootfs), VFS_ANY_CORE, false, "r"),
	         -EINVAL); /* any-core must be read-only */
	CHECK_EQ(
	        vfs_mount("/", &ramfs_ops, rootfs, ramfs_root(rootfs), VFS_ANY_CORE, true, "ramfs"),
	        0);
	CHECK_EQ(vfs_mount("/", &ramfs_ops, rootfs, ramfs_root(rootfs), VFS_ANY_CORE, true, "x"),
	         -EBUSY);
	CHECK_EQ(vfs_mount("/mem", &memfs_ops, &mem, 1, 0, false, "memfs"), 0);
	CHECK_EQ(vfs_mount("/etc/mnt", &memfs_ops, &mnt, 1, 0, false, "memfs"), 0);
	CHECK_EQ(vfs_mount("/mem", &memfs_ops, &mem, 1, 0, false, "memfs"), -EBUSY);
	CHECK_EQ(vfs_mount("mem2", &memfs_ops, &mem, 1, 0, false, "memfs"), -EINVAL);
	CHECK_EQ(vfs_mount("/a//b", &memfs_ops, &mem, 1, 0, false, "memfs"), -EINVAL);
	CHECK_EQ(vfs_mount("/a/../b", &memfs_ops, &mem, 1, 0, false, "memfs"), -EINVAL);
	CHECK_EQ(vfs_mount("/etc/", &memfs_ops, &mem, 1, 0, false, "memfs"), -EINVAL);
	CHECK_EQ(vfs_mount("/nodir/x", &memfs_ops, &mem, 1, 0, false, "memfs"), -ENOENT);
	CHECK_EQ(vfs_mount("/hello.txt/x", &memfs_ops, &mem, 1, 0, false, "memfs"), -ENOTDIR);
	CHECK_EQ(vfs_mount("/x", &memfs_ops, &mem, 1, 1, false, "memfs"), -EINVAL); /* core 1 */
	CHECK_EQ(vfs_mount("/x", NULL, &mem, 1, 0, false, "memfs"), -EINVAL);
}

TEST(read_seek_close)
{
	char buf[64];
	int fd = fs_open("/hello.txt", O_RDONLY, 0);
	REQUIRE(fd >= 0);
	CHECK_EQ(fs_read(fd, buf, 5), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_EQ(fs_read(fd, buf, sizeof(buf)), 8);
	CHECK(memcmp(buf, ", world\n", 8) == 0);
	CHECK_EQ(fs_read(fd, buf, sizeof(buf)), 0);
	CHECK_EQ(fs_read(fd, buf, 0), 0);
	CHECK_EQ(fs_lseek(fd, 7, SEEK_SET), 7);
	CHECK_EQ(fs_read(fd, buf, 5), 5);
	CHECK(memcmp(buf, "world", 5) == 0);
	CHECK_EQ(fs_lseek(fd, -3, SEEK_CUR), 9);
	CHECK_EQ(fs_lseek(fd, -1, SEEK_END), 12);
	CHECK_EQ(fs_read(fd, buf, sizeof(buf)), 1);
	CHECK_EQ(fs_lseek(fd, 100, SEEK_END), 113);
	CHECK_EQ(fs_read(fd, buf, sizeof(buf)), 0);
	CHECK_EQ(fs_lseek(fd, -14, SEEK_END), -EINVAL);
	CHECK_EQ(fs_lseek(fd, 0, 42), -EINVAL);
	CHECK_EQ(fs_lseek(fd, INT64_MAX, SEEK_END), -EOVERFLOW);
	CHECK_EQ(fs_pread(fd, buf, 4, 0), 4);
	CHECK(memcmp(buf, "hell", 4) == 0);
	CHECK_EQ(fs_lseek(fd, 0, SEEK_CUR), 113); /* pread left the offset alone */
	CHECK_EQ(fs_read(fd, NULL, 1), -EFAULT);
	CHECK_EQ(fs_close(fd), 0);
	CHECK_EQ(fs_close(fd), -EBADF);
	CHECK_EQ(fs_read(fd, buf, 1), -EBADF);

	/* The 70 KiB file, in odd pieces. */
	fd = fs_open("/data/big.bin", O_RDONLY, 0);
	REQUIRE(fd >= 0);
	static uint8_t got[BIG_SIZE + 100];
	size_t off = 0;
	ssize_t n;
	while ((n = fs_read(fd, got + off, 777)) > 0)
		off += (size_t)n;
	CHECK_EQ(off, BIG_SIZE);
	CHECK(memcmp(got, big, BIG_SIZE) == 0);
	fs_close(fd);
}

TEST(stat_and_types)
{
	struct fs_stat st;
	CHECK_EQ(fs_stat("/", &st), 0);
	CHECK(S_ISDIR(st.mode) && st.ino == 1);
	CHECK_EQ(fs_stat("/data/big.bin", &st), 0);
	CHECK(S_ISREG(st.mode) && st.size == BIG_SIZE);
	CHECK_EQ(fs_stat("/lnk", &st), 0);
	CHECK_EQ(st.mode & S_IFMT, S_IFLNK); /* the link itself */
	CHECK_EQ(fs_open("/lnk", O_RDONLY, 0), -ELOOP);
	CHECK_EQ(fs_stat("/lnk/x", &st), -ELOOP);
	CHECK_EQ(fs_stat("/lnk/", &st), -ELOOP);
	CHECK_EQ(fs_stat("/mem", &st), 0);
	CHECK(S_ISDIR(st.mode) && st.ino == 1); /* the memfs root, not an initrd node */
	int fd = fs_open("/etc", O_RDONLY, 0);
	REQUIRE(fd >= 0);
	char buf[8];
	CHECK_EQ(fs_read(fd, buf, sizeof(buf)), -EISDIR);
	CHECK_EQ(fs_fstat(fd, &st), 0);
	CHECK(S_ISDIR(st.mode));
	CHECK_EQ(fs_lseek(fd, 1, SEEK_SET), -EINVAL);
	fs_close(fd);
	CHECK_EQ(fs_open("/hello.txt", O_RDONLY | O_DIRECTORY, 0), -ENOTDIR);
	CHECK_EQ(fs_stat("/hello.txt", NULL), -EFAULT);
}

TEST(paths)
{
	char buf[64];
	const char *same[] = { "//hello.txt",
		               "/./hello.txt",
		               "/etc/../hello.txt",
		               "/../../hello.txt",
		               "/etc/./../hello.txt",
		               "/mem/../hello.txt",
		               "/etc/mnt/../../hello.txt",
		               "/data/.././/hello.txt" };
	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		int n = slurp(same[i], buf, sizeof(buf));
		if (n != 13 || strcmp(buf, "hello, world\n") != 0) {
			fprintf(stderr, "  %s: %d\n", same[i], n);
			test_failed_++;
		}
	}
	struct fs_stat st;
	CHECK_EQ(fs_stat("/missing", &st), -ENOENT);
	CHECK_EQ(fs_stat("/missing/..", &st), -ENOENT);
	CHECK_EQ(fs_stat("/missing/x", &st), -ENOENT);
	CHECK_EQ(fs_stat("/hello.txt/..", &st), -ENOTDIR);
	CHECK_EQ(fs_stat("/hello.txt/.", &st), -ENOTDIR);
	CHECK_EQ(fs_stat("/hello.txt/x", &st), -ENOTDIR);
	CHECK_EQ(fs_stat("/hello.txt/", &st), -ENOTDIR);
	CHECK_EQ(fs_stat("/etc/", &st), 0);
	CHECK_EQ(fs_stat("/etc//", &st), 0);
	CHECK_EQ(fs_stat("hello.txt", &st), -EINVAL);
	CHECK_EQ(fs_stat("", &st), -ENOENT);
	CHECK_EQ(fs_stat(NULL, &st), -EFAULT);
	CHECK_EQ(fs_stat("/..", &st), 0);
	CHECK(S_ISDIR(st.mode) && st.ino == 1);

	/* Names of FS_NAME_MAX bytes are looked up; one more byte is too long. */
	char name[FS_NAME_MAX + 3];
	name[0] = '/';
	memset(name + 1, 'n', FS_NAME_MAX);
	name[FS_NAME_MAX + 1] = '\0';
	CHECK_EQ(fs_stat(name, &st), -ENOENT);
	name[FS_NAME_MAX + 1] = 'n';
	name[FS_NAME_MAX + 2] = '\0';
	CHECK_EQ(fs_stat(name, &st), -ENAMETOOLONG);

	/* Paths up to FS_PATH_MAX - 1 bytes; FS_PATH_MAX bytes is too long. */
	static char path[FS_PATH_MAX + 1];
	for (size_t len = FS_PATH_MAX - 1; len <= FS_PATH_MAX; len++) {
		for (size_t i = 0; i < len - 10; i++)
			path[i] = i % 2 ? '.' : '/';
		memcpy(path + len - 10, "/hello.txt", 11);
		CHECK_EQ(strlen(path), len);
		if (len < FS_PATH_MAX)
			CHECK_EQ(slurp(path, buf, sizeof(buf)), 13);
		else
			CHECK_EQ(fs_stat(path, &st), -ENAMETOOLONG);
	}

	/* 64 nested directories: fine; 65 is -ELOOP. */
	CHECK_EQ(slurp(deep_path, buf, sizeof(buf)), 6);
	CHECK_STR(buf, "bottom");
	static char deeper[sizeof(deep_path) + 32];
	snprintf(deeper, sizeof(deeper), "%.*s/d/f", (int)(strlen(deep_path) - 2), deep_path);
	CHECK_EQ(fs_stat(deeper, &st), -ELOOP);
	/* ".." keeps the stack short: going down and up again is no deeper. */
	snprintf(deeper, sizeof(deeper), "/deep/d/../d/../d/d/../../%s", deep_path + 6);
	CHECK_EQ(fs_stat(deeper, &st), 0);
}

TEST(readdir_lists)
{
	char names[512];
	CHECK_EQ(list("/", names, sizeof(names)), 0);
	CHECK_STR(names, ". .. data deep empty etc hello.txt lnk mem");
	CHECK_EQ(list("/etc", names, sizeof(names)), 0);
	CHECK_STR(names, ". .. mnt motd"); /* mnt only once */
	CHECK_EQ(list("/etc/mnt", names, sizeof(names)), 0);
	CHECK_STR(names, ". .."); /* the memfs, not the initrd's hidden file */
	CHECK_EQ(list("/hello.txt", names, sizeof(names)), -ENOTDIR);

	int fd = fs_open("/", O_RDONLY, 0);
	REQUIRE(fd >= 0);
	struct fs_dirent de;
	unsigned n1 = 0, n2 = 0;
	while (fs_readdir(fd, &de) == 1)
		n1++;
	CHECK_EQ(fs_readdir(fd, &de), 0);
	CHECK_EQ(fs_lseek(fd, 0, SEEK_SET), 0); /* rewind */
	while (fs_readdir(fd, &de) == 1)
		n2++;
	CHECK_EQ(n1, 9);
	CHECK_EQ(n2, n1);
	CHECK_EQ(fs_readdir(fd, NULL), -EFAULT);
	fs_close(fd);
	fd = fs_open("/hello.txt", O_RDONLY, 0);
	CHECK_EQ(fs_readdir(fd, &de), -ENOTDIR);
	fs_close(fd);
	CHECK_EQ(fs_readdir(-1, &de), -EBADF);
}

TEST(descriptors)
{
	int fds[FS_OPEN_MAX];
	for (int i = 0; i < FS_OPEN_MAX; i++) {
		fds[i] = fs_open("/hello.txt", O_RDONLY, 0);
		CHECK_EQ(fds[i], i); /* the lowest free one */
	}
	CHECK_EQ(fs_open("/hello.txt", O_RDONLY, 0), -EMFILE);
	CHECK_EQ(fs_open("/mem/x", O_RDWR | O_CREAT, 0644), -EMFILE);
	CHECK_EQ(fs_stat("/mem/x", &(struct fs_stat){ 0 }), -ENOENT); /* and did not create it */
	CHECK_EQ(fs_close(100), 0);
	CHECK_EQ(fs_open("/hello.txt", O_RDONLY, 0), 100);
	for (int i = 0; i < FS_OPEN_MAX; i++)
		CHECK_EQ(fs_close(fds[i]), 0);
	char c;
	CHECK_EQ(fs_read(-1, &c, 1), -EBADF);
	CHECK_EQ(fs_read(FS_OPEN_MAX, &c, 1), -EBADF);
	CHECK_EQ(fs_close(FS_OPEN_MAX + 5), -EBADF);
	CHECK_EQ(fs_lseek(3, 0, SEEK_SET), -EBADF);
	CHECK_EQ(fs_fstat(3, &(struct fs_stat){ 0 }), -EBADF);
	CHECK_EQ(fs_fsync(3), -EBADF);
	CHECK_EQ(fs_ftruncate(3, 0), -EBADF);
	CHECK_EQ(fs_open("/hello.txt", O_ACCMODE, 0), -EINVAL);
}

TEST(read_only)
{
	CHECK_EQ(fs_open("/hello.txt", O_WRONLY, 0), -EROFS);
	CHECK_EQ(fs_open("/hello.txt", O_RDWR | O_CREAT, 0644), -EROFS);
	CHECK_EQ(fs_open("/new", O_WRONLY | O_CREAT, 0644), -EROFS);
	CHECK_EQ(fs_open("/new", O_RDONLY | O_CREAT, 0644), -EROFS);
	CHECK_EQ(fs_open("/hello.txt", O_RDONLY | O_CREAT | O_EXCL, 0644), -EEXIST);
	int fd = fs_open("/hello.txt", O_RDONLY | O_CREAT, 0644); /* exists: just opens */
	CHECK(fd >= 0);
	CHECK_EQ(fs_write(fd, "x", 1), -EBADF);
	CHECK_EQ(fs_pwrite(fd, "x", 1, 0), -EBADF);
	CHECK_EQ(fs_ftruncate(fd, 0), -EBADF);
	CHECK_EQ(fs_fsync(fd), 0);
	fs_close(fd);
	CHECK_EQ(fs_open("/etc", O_RDWR, 0), -EISDIR);
	CHECK_EQ(fs_open("/", O_RDONLY | O_CREAT, 0), -EISDIR);
	CHECK_EQ(fs_mkdir("/newdir", 0755), -EROFS);
	CHECK_EQ(fs_mkdir("/etc", 0755), -EEXIST);
	CHECK_EQ(fs_mkdir("/", 0755), -EEXIST);
	CHECK_EQ(fs_mkdir("/mem", 0755), -EEXIST);
	CHECK_EQ(fs_unlink("/hello.txt"), -EROFS);
	CHECK_EQ(fs_unlink("/missing"), -ENOENT);
	CHECK_EQ(fs_rmdir("/data"), -EROFS);
	CHECK_EQ(fs_rmdir("/missing"), -ENOENT);
	CHECK_EQ(fs_rename("/hello.txt", "/hello2.txt"), -EROFS);
}

TEST(writable)
{
	char buf[256];
	struct fs_stat st;
	CHECK_EQ(put("/mem/a", O_WRONLY | O_CREAT, "hello"), 0);
	CHECK_EQ(slurp("/mem/a", buf, sizeof(buf)), 5);
	CHECK_STR(buf, "hello");
	CHECK_EQ(fs_open("/mem/a", O_WRONLY | O_CREAT | O_EXCL, 0644), -EEXIST);
	CHECK_EQ(put("/mem/a", O_WRONLY, "HE"), 0); /* overwrites in place */
	CHECK_EQ(slurp("/mem/a", buf, sizeof(buf)), 5);
	CHECK_STR(buf, "HEllo");
	CHECK_EQ(put("/mem/a", O_WRONLY | O_TRUNC, "x"), 0);
	CHECK_EQ(slurp("/mem/a", buf, sizeof(buf)), 1);
	int fd = fs_open("/mem/a", O_RDONLY | O_TRUNC, 0); /* no write access: no truncation */
	CHECK(fd >= 0);
	fs_close(fd);
	CHECK_EQ(fs_stat("/mem/a", &st), 0);
	CHECK_EQ(st.size, 1);

	/* O_APPEND: every write at the end, whatever the offset. */
	fd = fs_open("/mem/a", O_RDWR | O_APPEND, 0);
	REQUIRE(fd >= 0);
	CHECK_EQ(fs_write(fd, "yz", 2), 2);
	CHECK_EQ(fs_lseek(fd, 0, SEEK_CUR), 3);
	CHECK_EQ(fs_lseek(fd, 0, SEEK_SET), 0);
	CHECK_EQ(fs_write(fd, "!", 1), 1);
	CHECK_EQ(fs_lseek(fd, 0, SEEK_CUR), 4);
	CHECK_EQ(fs_pread(fd, buf, sizeof(buf), 0), 4);
	CHECK(memcmp(buf, "xyz!", 4) == 0);
	CHECK_EQ(fs_pwrite(fd, "X", 1, 0), 1); /* pwrite ignores O_APPEND */
	CHECK_EQ(fs_pread(fd, buf, 1, 0), 1);
	CHECK_EQ(buf[0], 'X');
	fs_close(fd);

	/* Holes read as zeros; ftruncate both ways. */
	fd = fs_open("/mem/h", O_RDWR | O_CREAT, 0600);
	REQUIRE(fd >= 0);
	CHECK_EQ(fs_pwrite(fd, "end", 3, 1000), 3);
	CHECK_EQ(fs_fstat(fd, &st), 0);
	CHECK_EQ(st.size, 1003);
	CHECK_EQ(st.mode, S_IFREG | 0600);
	CHECK_EQ(fs_pread(fd, buf, 4, 998), 4);
	CHECK(memcmp(buf, "\0\0en", 4) == 0);
	CHECK_EQ(fs_ftruncate(fd, 10), 0);
	CHECK_EQ(fs_lseek(fd, 0, SEEK_END), 10);
	CHECK_EQ(fs_ftruncate(fd, (uint64_t)INT64_MAX + 1), -EINVAL);
	CHECK_EQ(fs_read(fd, buf, 10), 0);
	CHECK_EQ(fs_write(fd, "abc", 3), 3);
	CHECK_EQ(fs_pwrite(fd, "x", 1, (uint64_t)INT64_MAX), -EFBIG);
	CHECK_EQ(fs_pread(fd, buf, 1, (uint64_t)INT64_MAX + 1), -EINVAL);
	CHECK_EQ(fs_write(fd, NULL, 1), -EFAULT);
	fs_close(fd);
	fd = fs_open("/mem/h", O_WRONLY, 0);
	CHECK_EQ(fs_read(fd, buf, 1), -EBADF);
	fs_close(fd);

	/* Directories. */
	CHECK_EQ(fs_mkdir("/mem/d", 0700), 0);
	CHECK_EQ(fs_mkdir("/mem/d", 0700), -EEXIST);
	CHECK_EQ(fs_mkdir("/mem/d/e/", 0700), 0);
	CHECK_EQ(put("/mem/d/e/f", O_WRONLY | O_CREAT, "f"), 0);
	CHECK_EQ(fs_open("/mem/d", O_WRONLY, 0), -EISDIR);
	CHECK_EQ(fs_open("/mem/new/", O_WRONLY | O_CREAT, 0644), -EISDIR);
	CHECK_EQ(fs_open("/mem/nodir/x", O_WRONLY | O_CREAT, 0644), -ENOENT);
	CHECK_EQ(fs_open("/mem/a/x", O_WRONLY | O_CREAT, 0644), -ENOTDIR);
	CHECK_EQ(fs_rmdir("/mem/d"), -ENOTEMPTY);
	CHECK_EQ(fs_rmdir("/mem/d/e/f"), -ENOTDIR);
	CHECK_EQ(fs_unlink("/mem/d/e"), -EISDIR);
	CHECK_EQ(fs_unlink("/mem/d/e/"), -EISDIR);
	CHECK_EQ(fs_unlink("/mem/a/"), -ENOTDIR);
	CHECK_EQ(fs_unlink("/mem/d/."), -EISDIR);
	CHECK_EQ(fs_rmdir("/mem/d/."), -EINVAL);
	CHECK_EQ(fs_rmdir("/mem/d/.."), -ENOTEMPTY);
	char names[256];
	CHECK_EQ(list("/mem/d/e", names, sizeof(names)), 0);
	CHECK_STR(names, ". .. f");

	/* Renames. */
	CHECK_EQ(fs_rename("/mem/d/e/f", "/mem/g"), 0);
	CHECK_EQ(slurp("/mem/g", buf, sizeof(buf)), 1);
	CHECK_EQ(fs_stat("/mem/d/e/f", &st), -ENOENT);
	CHECK_EQ(fs_rename("/mem/g", "/mem/a"), 0); /* replaces a */
	CHECK_EQ(slurp("/mem/a", buf, sizeof(buf)), 1);
	CHECK_STR(buf, "f");
	CHECK_EQ(fs_rename("/mem/d", "/mem/d/e/inside"), -EINVAL);
	CHECK_EQ(fs_rename("/mem/a/", "/mem/b"), -ENOTDIR);
	CHECK_EQ(fs_rename("/mem/a", "/etc/mnt/a"), -EXDEV);
	CHECK_EQ(fs_rename("/mem/a", "/hello2.txt"), -EXDEV);
	CHECK_EQ(fs_rename("/mem/a", "/mem/."), -EINVAL);
	CHECK_EQ(fs_rename("/mem/missing", "/mem/b"), -ENOENT);
	CHECK_EQ(fs_rmdir("/mem/d/e"), 0);
	CHECK_EQ(fs_rmdir("/mem/d"), 0);
	CHECK_EQ(fs_unlink("/mem/a"), 0);
	CHECK_EQ(fs_unlink("/mem/h"), 0);
	CHECK_EQ(fs_unlink("/mem/a"), -ENOENT);
	CHECK_EQ(list("/mem", names, sizeof(names)), 0);
	CHECK_STR(names, ". ..");
	CHECK_EQ(mem.overlaps + mnt.overlaps + mem.wrong_core + mnt.wrong_core, 0);
}

TEST(mount_points_stay)
{
	CHECK_EQ(fs_rmdir("/mem"), -EBUSY);
	CHECK_EQ(fs_unlink("/mem"), -EBUSY);
	CHECK_EQ(fs_rmdir("/etc/mnt"), -EBUSY);
	CHECK_EQ(fs_rmdir("/etc"), -EBUSY); /* it holds a mount point */
	CHECK_EQ(fs_rmdir("/"), -EBUSY);
	CHECK_EQ(fs_unlink("/"), -EBUSY);
	CHECK_EQ(fs_rename("/mem", "/mem2"), -EBUSY);
	CHECK_EQ(fs_rename("/etc/mnt", "/x"), -EBUSY);
	CHECK_EQ(fs_mkdir("/etc/mnt/sub", 0755), 0); /* in the memfs */
	CHECK_EQ(fs_rename("/etc/mnt/sub", "/etc/mnt/.."), -EINVAL);
	CHECK_EQ(fs_rmdir("/etc/mnt/sub"), 0);
}

TEST(syncs_and_stats)
{
	struct fs_stats before, after;
	fs_stats(&before);
	uint64_t syncs = mem.syncs + mnt.syncs, fsyncs = mem.fsyncs;
	CHECK_EQ(fs_sync(), 0);
	CHECK_EQ(mem.syncs + mnt.syncs, syncs + 2);
	int fd = fs_open("/mem/s", O_RDWR | O_CREAT, 0644);
	REQUIRE(fd >= 0);
	CHECK_EQ(fs_write(fd, "12345", 5), 5);
	CHECK_EQ(fs_fsync(fd), 0);
	CHECK_EQ(mem.fsyncs, fsyncs + 1);
	char buf[8];
	CHECK_EQ(fs_pread(fd, buf, 8, 1), 4);
	fs_close(fd);
	fs_unlink("/mem/s");
	fs_stats(&after);
	CHECK_EQ(after.opens - before.opens, 1);
	CHECK_EQ(after.writes - before.writes, 1);
	CHECK_EQ(after.reads - before.reads, 1);
	CHECK_EQ(after.bytes_written - before.bytes_written, 5);
	CHECK_EQ(after.bytes_read - before.bytes_read, 4);
	CHECK_EQ(after.remote_calls, 0);
	CHECK_EQ(after.served_calls, 0);
}

TEST(read_file)
{
	char *data;
	size_t len;
	CHECK_EQ(fs_read_file("/hello.txt", 100, &data, &len), 0);
	CHECK(len == 13 && strcmp(data, "hello, world\n") == 0);
	free(data);
	CHECK_EQ(fs_read_file("/hello.txt", 13, &data, &len), 0);
	free(data);
	CHECK_EQ(fs_read_file("/hello.txt", 12, &data, &len), -EFBIG);
	CHECK(data == NULL && len == 0);
	CHECK_EQ(fs_read_file("/empty", 100, &data, &len), 0);
	CHECK(len == 0 && data && data[0] == '\0');
	free(data);
	CHECK_EQ(fs_read_file("/empty", 0, &data, &len), 0);
	free(data);
	CHECK_EQ(fs_read_file("/data/big.bin", 1 << 20, &data, &len), 0);
	CHECK(len == BIG_SIZE && memcmp(data, big, BIG_SIZE) == 0 && data[BIG_SIZE] == '\0');
	free(data);
	CHECK_EQ(fs_read_file("/etc", 100, &data, &len), -EISDIR);
	CHECK_EQ(fs_read_file("/missing", 100, &data, &len), -ENOENT);
	CHECK_EQ(fs_read_file("/hello.txt", 100, NULL, &len), -EFAULT);
	/* No descriptor is left open: all FS_OPEN_MAX are still there. */
	int fds[FS_OPEN_MAX], n = 0;
	while (n < FS_OPEN_MAX && (fds[n] = fs_open("/", O_RDONLY, 0)) >= 0)
		n++;
	CHECK_EQ(n, FS_OPEN_MAX);
	while (n > 0)
		fs_close(fds[--n]);
}

int main(void)
{
	setup();
	RUN(mounts);
	RUN(read_seek_close);
	RUN(stat_and_types);
	RUN(paths);
	RUN(readdir_lists);
	RUN(descriptors);
	RUN(read_only);
	RUN(writable);
	RUN(mount_points_stay);
	RUN(syncs_and_stats);
	RUN(read_file);
	if (unexpected) {
		printf("FAIL tests/unit/test_vfs.c: %d calls to thread/message functions\n",
		       unexpected);
		return 1;
	}
	memfs_free(&mem);
	memfs_free(&mnt);
	ramfs_free(rootfs);
	free(initrd.buf);
	TEST_EXIT();
}
