/*
 * test_ext2.c - host tests of the ext2 driver (fs/ext2*.c) against real images.
 *
 * Images are made at test time by mke2fs (e2fsprogs) from a folder of files written here, in a
 * temporary folder next to this binary (build/unit/ext2-XXXXXX, removed at the end unless a
 * test failed or EXT2_KEEP is set). The device is a struct blkdev over the image file.
 *
 *  - read_*:    1, 2 and 4 KiB blocks: files copied by mke2fs -d read back byte for byte
 *               (a file needing double indirect blocks, a sparse file, a 5 GiB sparse file
 *               needing triple indirect blocks and i_size_high, symlinks, an empty file),
 *               nested lookups, readdir of a 300-entry directory (hash-indexed by e2fsck -D),
 *               errors (-ENOENT, -ENOTDIR, -ELOOP, -EISDIR), and a read-only mount changes nothing.
 *  - write_*:   create, grow across direct/indirect/double/triple blocks, truncate (a long
 *               one yields the core every EXT2_FREES_PER_YIELD blocks), mkdir,
 *               rmdir, unlink, rename (same dir, across dirs, over a file, over an empty dir,
 *               refusals), an indexed directory modified, the disk filled to -ENOSPC and
 *               emptied again. After sync (still mounted) and after unmount `e2fsck -fn` must
 *               exit 0; debugfs (e2fsprogs' own reader) must read our files back; a remount
 *               must read everything back.
 *  - model_*:   hundreds of random operations checked against an in-memory model, with a
 *               cache small enough to force evictions, then e2fsck and a remount.
 *  - corrupt_*: images damaged on purpose (superblock, group descriptors, block pointers,
 *               directory entries, directory cycles, out-of-range inodes, truncation, bitmaps):
 *               every mount or operation must fail with a negative errno and log what is
 *               wrong, without crashing or hanging (ASan/UBSan, and tests/run's time limit).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <isle/mem.h>

#include "fs/ext2.h"
#include "kernel/console.h"
#include "tests/unit/test.h"

/* ---- kernel stand-ins ----------------------------------------------------------------------- */

static int log_errors; /* log_error calls so far */
static bool quiet;     /* do not print log lines (corruption tests expect many) */

void klog(int level, const char *fmt, ...)
{
	va_list ap;

	if (level == LOG_ERROR)
		log_errors++;
	if (quiet)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "  log%d: ", level);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

void *kmalloc(size_t size)
{
	return malloc(size);
}

void *kzalloc(size_t size)
{
	return calloc(1, size);
}

void kfree(void *p)
{
	free(p);
}

static unsigned yields; /* thread_yield calls so far */

void thread_yield(void)
{
	yields++;
}

static uint32_t clock_now(void)
{
	return (uint32_t)time(NULL);
}

/* ---- a block device over an image file -------------------------------------------------- */

struct filedev {
	struct blkdev b;
	int fd;
	unsigned flushes; /* flush calls */
	unsigned writes;  /* write calls */
};

static int fd_read(struct blkdev *b, uint64_t sector, void *buf, size_t count)
{
	struct filedev *d = b->priv;

	if (sector > b->sectors || count > b->sectors - sector)
		return -EINVAL;
	if (pread(d->fd, buf, count * SECTOR_SIZE, (off_t)(sector * SECTOR_SIZE)) !=
	    (ssize_t)(count * SECTOR_SIZE))
		return -EIO;
	return 0;
}

static int fd_write(struct blkdev *b, uint64_t sector, const void *buf, size_t count)
{
	struct filedev *d = b->priv;

	if (b->readonly)
		return -EROFS;
	if (sector > b->sectors || count > b->sectors - sector)
		return -EINVAL;
	d->writes++;
	if (pwrite(d->fd, buf, count * SECTOR_SIZE, (off_t)(sector * SECTOR_SIZE)) !=
	    (ssize_t)(count * SECTOR_SIZE))
		return -EIO;
	return 0;
}

static int fd_flush(struct blkdev *b)
{
	struct filedev *d = b->priv;

	d->flushes++;
	return 0;
}

/* A mounted image: the device, and the vfs_mount the driver's functions take. */
struct mnt {
	struct filedev dev;
	struct vfs_mount m;
	const struct fs_ops *ops;
};

static char mount_err[160]; /* the reason the last failed mount gave */

static int mnt_open(struct mnt *t, const char *img, bool readonly)
{
	char *err = mount_err;
	struct stat st;
	void *priv;
	int rc;

	memset(t, 0, sizeof(*t));
	t->dev.fd = open(img, readonly ? O_RDONLY : O_RDWR);
	if (t->dev.fd < 0 || fstat(t->dev.fd, &st) != 0) {
		fprintf(stderr, "  cannot open %s\n", img);
		return -ENOENT;
	}
	t->dev.b = (struct blkdev){ .name = "img",
		                    .sectors = (uint64_t)st.st_size / SECTOR_SIZE,
		                    .readonly = readonly,
		                    .read = fd_read,
		                    .write = fd_write,
		                    .flush = fd_flush,
		                    .priv = &t->dev };
	rc = ext2_mount(&t->dev.b, readonly, &priv, err, sizeof(mount_err));
	if (rc < 0) {
		if (!quiet)
			fprintf(stderr, "  mount %s: %d %s\n", img, rc, err);
		close(t->dev.fd);
		return rc;
	}
	if (err[0] != '\0')
		fprintf(stderr, "  mount succeeded but left a message: %s\n", err);
	ext2_set_clock(priv, clock_now);
	t->ops = &ext2_ops;
	t->m = (struct vfs_mount){ .path = "/disk",
		                   .ops = &ext2_ops,
		                   .priv = priv,
		                   .root = EXT2_ROOT_INO,
		                   .readonly = ext2_readonly(priv),
		                   .name = "ext2" };
	return 0;
}

static void mnt_close(struct mnt *t)
{
	t->ops->unmount(&t->m);
	close(t->dev.fd);
}

/* ---- helpers -------------------------------------------------------------------------------- */

static char tmpdir[4096]; /* the test's temporary folder */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

#define E2PATH "PATH=\"$PATH:/sbin:/usr/sbin\" "

static char *tpath(const char *name)
{
	static char bufs[4][4200];
	static unsigned next;
	char *p = bufs[next++ % 4];

	snprintf(p, sizeof(bufs[0]), "%s/%s", tmpdir, name);
	return p;
}

/*
 * e2fsck -fn on an image: 0 if it is clean, else e2fsck's exit status (or 1), with its report
 * printed. Clean means exit status 0 and nothing reported: e2fsck -n exits 0 even when it
 * found a wrong superblock free count ("Fix? no"), so any question it asked counts as dirty.
 */
static int fsck(const char *img)
{
	int rc = sh(E2PATH "e2fsck -fn %s >%s.fsck 2>&1", img, img);

	if (rc == 0 && sh("grep -q '? no$' %s.fsck", img) == 0)
		rc = 1;
	if (rc != 0) {
		fprintf(stderr, "  e2fsck -fn %s: exit status %d:\n", img, rc);
		sh("sed 's/^/    | /' %s.fsck | head -40 >&2", img);
	}
	return rc;
}

/* The byte at offset i of generated file contents `seed`. */
static uint8_t pattern(uint64_t seed, uint64_t i)
{
	uint64_t x = (i / 8 + 1) * 0x9e3779b97f4a7c15ull ^ seed * 0xbf58476d1ce4e5b9ull;
	x ^= x >> 31;
	return (uint8_t)(x >> (8 * (i % 8)));
}

static void fill_pattern(uint8_t *buf, uint64_t seed, uint64_t off, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(seed, off + i);
}

static void write_host_file(const char *path, uint64_t seed, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	fill_pattern(buf, seed, 0, len);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
	close(fd);
	free(buf);
}

/* Walks a path from the root with lookup: 0 and *ino, or the first error. */
static int walk(struct mnt *t, const char *path, uint64_t *ino)
{
	uint64_t cur = EXT2_ROOT_INO;

	while (*path) {
		const char *end;
		int err;
		while (*path == '/')
			path++;
		if (!*path)
			break;
		end = strchr(path, '/');
		if (!end)
			end = path + strlen(path);
		err = t->ops->lookup(&t->m, cur, path, (size_t)(end - path), &cur);
		if (err < 0)
			return err;
		path = end;
	}
	*ino = cur;
	return 0;
}

/* The directory and last component of path. */
static int walk_parent(struct mnt *t, const char *path, uint64_t *dir, const char **name)
{
	const char *slash = strrchr(path, '/');
	char parent[1024];

	if (!slash) {
		*dir = EXT2_ROOT_INO;
		*name = path;
		return 0;
	}
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	*name = slash + 1;
	return walk(t, parent, dir);
}

static int do_create(struct mnt *t, const char *path, uint64_t *ino)
{
	uint64_t dir, dummy;
	const char *name;
	int err = walk_parent(t, path, &dir, &name);

	return err < 0 ? err
	               : t->ops->create(&t->m, dir, name, strlen(name), 0644, ino ? ino : &dummy);
}

static int do_mkdir(struct mnt *t, const char *path)
{
	uint64_t dir, ino;
	const char *name;
	int err = walk_parent(t, path, &dir, &name);

	return err < 0 ? err : t->ops->mkdir(&t->m, dir, name, strlen(name), 0755, &ino);
}

static int do_unlink(struct mnt *t, const char *path)
{
	uint64_t dir;
	const char *name;
	int err = walk_parent(t, path, &dir, &name);

	return err < 0 ? err : t->ops->unlink(&t->m, dir, name, strlen(name));
}

static int do_rmdir(struct mnt *t, const char *path)
{
	uint64_t dir;
	const char *name;
	int err = walk_parent(t, path, &dir, &name);

	return err < 0 ? err : t->ops->rmdir(&t->m, dir, name, strlen(name));
}

static int do_rename(struct mnt *t, const char *from, const char *to)
{
	uint64_t odir, ndir;
	const char *oname, *nname;
	int err = walk_parent(t, from, &odir, &oname);

	if (err == 0)
		err = walk_parent(t, to, &ndir, &nname);
	return err < 0 ? err
	               : t->ops->rename(&t->m, odir, oname, strlen(oname), ndir, nname,
	                                strlen(nname));
}

static ssize_t do_write(struct mnt *t, const char *path, uint64_t off, const void *buf, size_t len)
{
	uint64_t ino;
	int err = walk(t, path, &ino);

	return err < 0 ? err : t->ops->write(&t->m, ino, off, buf, len);
}

static int file_size(struct mnt *t, const char *path, uint64_t *size)
{
	struct fs_stat st;
	uint64_t ino;
	int err = walk(t, path, &ino);

	if (err == 0)
		err = t->ops->stat(&t->m, ino, &st);
	if (err == 0)
		*size = st.size;
	return err;
}

/* Whether [off, off + len) of file path holds pattern seed (or zeros for seed 0). */
static bool check_range(struct mnt *t, const char *path, uint64_t seed, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len + 1), *want = malloc(len + 1);
	uint64_t ino;
	ssize_t n = -1;
	bool ok;

	if (walk(t, path, &ino) == 0)
		n = t->ops->read(&t->m, ino, off, buf, len);
	if (seed)
		fill_pattern(want, seed, off, len);
	else
		memset(want, 0, len);
	ok = n == (ssize_t)len && memcmp(buf, want, len) == 0;
	if (!ok)
		fprintf(stderr, "  %s [%llu, +%zu): read gave %zd, %s\n", path,
		        (unsigned long long)off, len, n, n == (ssize_t)len ? "wrong data" : "");
	free(buf);
	free(want);
	return ok;
}

/* Reads a whole file in pieces of `step` bytes, comparing with pattern seed. */
static bool check_file(struct mnt *t, const char *path, uint64_t seed, uint64_t size, size_t step)
{
	uint64_t got;

	if (file_size(t, path, &got) != 0 || got != size) {
		fprintf(stderr, "  %s: size %llu, expected %llu\n", path, (unsigned long long)got,
		        (unsigned long long)size);
		return false;
	}
	for (uint64_t off = 0; off < size; off += step)
		if (!check_range(t, path, seed, off, size - off < step ? size - off : step))
			return false;
	return true;
}

static int count_entries(struct mnt *t, uint64_t dir, bool *has_dots)
{
	struct fs_dirent d;
	uint64_t cookie = 0;
	int n = 0, r, dots = 0;

	while ((r = t->ops->readdir(&t->m, dir, &cookie, &d)) == 1) {
		if (strcmp(d.name, ".") == 0 || strcmp(d.name, "..") == 0)
			dots++;
		n++;
		if (n > 100000)
			return -1;
	}
	if (has_dots)
		*has_dots = dots == 2;
	return r < 0 ? r : n;
}

/* ---- images ------------------------------------------------------------------------------- */

#define BIG_SIZE (4608u * 1024)              /* double indirect at 1 and 4 KiB blocks */
#define SPARSE_SIZE (8u * 1024 * 1024 + 100) /* data at both ends, a hole between */
#define HUGE_OFF (5ull << 30)                /* one byte here: triple indirect, i_size_high */
#define MANY 300                             /* files in manydir/ */

/* The folder mke2fs -d copies. */
static void make_tree(void)
{
	char path[4400];
	int fd;

	if (sh("test -d %s/tree", tmpdir) == 0)
		return;
	sh("mkdir -p %s/tree/a/b/c %s/tree/manydir %s/tree/emptydir", tmpdir, tmpdir, tmpdir);
	snprintf(path, sizeof(path), "%s/tree/small.txt", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, "hello, ext2\n", 12) != 12)
		exit(1);
	close(fd);
	snprintf(path, sizeof(path), "%s/tree/a/b/c/deep.txt", tmpdir);
	write_host_file(path, 7, 3000);
	snprintf(path, sizeof(path), "%s/tree/big.bin", tmpdir);
	write_host_file(path, 11, BIG_SIZE);
	snprintf(path, sizeof(path), "%s/tree/empty", tmpdir);
	write_host_file(path, 1, 0);
	/* sparse.bin: 4 KiB of pattern 13 at each end, zeros between. */
	{
		uint8_t buf[4096];
		snprintf(path, sizeof(path), "%s/tree/sparse.bin", tmpdir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		fill_pattern(buf, 13, 0, sizeof(buf));
		if (fd < 0 || pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf))
			exit(1);
		fill_pattern(buf, 13, SPARSE_SIZE - 4096, sizeof(buf));
		if (pwrite(fd, buf, sizeof(buf), SPARSE_SIZE - 4096) != sizeof(buf))
			exit(1);
		close(fd);
		snprintf(path, sizeof(path), "%s/tree/huge.bin", tmpdir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || pwrite(fd, "Z", 1, (off_t)HUGE_OFF) != 1)
			exit(1);
		close(fd);
	}
	for (int i = 0; i < MANY; i++) {
		snprintf(path, sizeof(path), "%s/tree/manydir/file-with-a-longish-name-%03d",
		         tmpdir, i);
		write_host_file(path, 100 + (uint64_t)i, (size_t)i);
	}
	sh("ln -s deep.txt %s/tree/a/b/c/link", tmpdir);
	sh("ln -s /%0200d %s/tree/longlink", 0, tmpdir);
}

/* A fresh image `name` of `mib` MiB with `bs`-byte blocks holding the tree (or nothing);
 * with index, directories are hash-indexed by e2fsck -D afterwards. Its path goes to img. */
static bool make_image(char img[4200], const char *name, unsigned bs, unsigned mib, bool tree,
                       bool index)
{
	char src[4200] = "";
	int rc;

	if (tree) {
		make_tree();
		snprintf(src, sizeof(src), "-d %s/tree", tmpdir);
	}
	snprintf(img, 4200, "%s", tpath(name));
	unlink(img);
	rc = sh(E2PATH "mke2fs -q -F -t ext2 -b %u %s %s %uM >/dev/null 2>&1", bs, src, img, mib);
	if (rc == 0 && index)
		rc = sh(E2PATH "e2fsck -fyD %s >/dev/null 2>&1", img) & ~1; /* 1: "fixed" */
	if (rc != 0) {
		fprintf(stderr, "  mke2fs failed (%d): is e2fsprogs installed? (ci/deps)\n", rc);
		return false;
	}
	return true;
}

/* ---- reading -------------------------------------------------------------------------------- */

static void test_read(unsigned bs)
{
	char name[32], img[4200];
	struct mnt t;
	struct fs_stat st;
	uint64_t ino, dir;
	char buf[300];
	bool dots;

	snprintf(name, sizeof(name), "read-%u.img", bs);
	REQUIRE(make_image(img, name, bs, 24, true, true));
	REQUIRE(mnt_open(&t, img, true) == 0);
	CHECK(t.m.readonly);

	/* small file, nested path */
	REQUIRE(walk(&t, "small.txt", &ino) == 0);
	CHECK_EQ(t.ops->read(&t.m, ino, 0, buf, sizeof(buf)), 12);
	CHECK(memcmp(buf, "hello, ext2\n", 12) == 0);
	CHECK_EQ(t.ops->read(&t.m, ino, 12, buf, sizeof(buf)), 0);
	CHECK_EQ(t.ops->read(&t.m, ino, 5, buf, 3), 3);
	CHECK(memcmp(buf, ", e", 3) == 0);
	CHECK(check_file(&t, "a/b/c/deep.txt", 7, 3000, 777));
	CHECK(check_file(&t, "/a//b/c/deep.txt", 7, 3000, 3000));

	/* double indirect, read in odd pieces across block boundaries */
	CHECK(check_file(&t, "big.bin", 11, BIG_SIZE, 65536 + 333));
	CHECK(check_range(&t, "big.bin", 11, (12 + bs / 4) * (uint64_t)bs - 5, 10));

	/* holes */
	CHECK(check_range(&t, "sparse.bin", 13, 0, 4096));
	CHECK(check_range(&t, "sparse.bin", 0, 4096, 100000));
	CHECK(check_range(&t, "sparse.bin", 0, 5 << 20, 8192));
	CHECK(check_range(&t, "sparse.bin", 13, SPARSE_SIZE - 4096, 4096));

	/* > 4 GiB: i_size_high and triple indirect blocks */
	REQUIRE(walk(&t, "huge.bin", &ino) == 0);
	REQUIRE(t.ops->stat(&t.m, ino, &st) == 0);
	CHECK_EQ(st.size, HUGE_OFF + 1);
	CHECK(S_ISREG(st.mode));
	CHECK_EQ(t.ops->read(&t.m, ino, HUGE_OFF - 2, buf, 10), 3);
	CHECK(buf[0] == 0 && buf[1] == 0 && buf[2] == 'Z');
	CHECK(check_range(&t, "huge.bin", 0, 3ull << 30, 4096));

	/* empty file, symlinks */
	REQUIRE(walk(&t, "empty", &ino) == 0);
	CHECK_EQ(t.ops->read(&t.m, ino, 0, buf, sizeof(buf)), 0);
	REQUIRE(walk(&t, "a/b/c/link", &ino) == 0);
	REQUIRE(t.ops->stat(&t.m, ino, &st) == 0);
	CHECK_EQ(st.mode & S_IFMT, S_IFLNK);
	CHECK_EQ(t.ops->read(&t.m, ino, 0, buf, sizeof(buf)), 8);
	CHECK(memcmp(buf, "deep.txt", 8) == 0);
	REQUIRE(walk(&t, "longlink", &ino) == 0);
	REQUIRE(t.ops->stat(&t.m, ino, &st) == 0);
	CHECK_EQ(st.mode & S_IFMT, S_IFLNK);
	CHECK_EQ(st.size, 201);
	CHECK_EQ(t.ops->read(&t.m, ino, 0, buf, sizeof(buf)), 201);
	CHECK(buf[0] == '/' && buf[1] == '0' && buf[200] == '0');

	/* directories: root, an indexed one with MANY entries */
	REQUIRE(t.ops->stat(&t.m, EXT2_ROOT_INO, &st) == 0);
	CHECK(S_ISDIR(st.mode));
	CHECK_EQ(st.nlink, 6); /* . .. lost+found a manydir emptydir */
	CHECK_EQ(count_entries(&t, EXT2_ROOT_INO, &dots), 2 + 10);
	CHECK(dots);
	REQUIRE(walk(&t, "manydir", &dir) == 0);
	CHECK_EQ(count_entries(&t, dir, &dots), MANY + 2);
	for (int i = 0; i < MANY; i += 7) {
		char n[64], p[80];
		snprintf(n, sizeof(n), "file-with-a-longish-name-%03d", i);
		snprintf(p, sizeof(p), "manydir/%s", n);
		CHECK_EQ(t.ops->lookup(&t.m, dir, n, strlen(n), &ino), 0);
		CHECK(check_file(&t, p, 100 + (uint64_t)i, (uint64_t)i, 4096));
	}
	{
		struct fs_dirent d;
		uint64_t cookie = 0;
		int regs = 0;
		while (t.ops->readdir(&t.m, dir, &cookie, &d) == 1)
			regs += d.type == DT_REG;
		CHECK_EQ(regs, MANY);
	}

	/* errors */
	CHECK_EQ(walk(&t, "nope", &ino), -ENOENT);
	CHECK_EQ(walk(&t, "a/b/nope/x", &ino), -ENOENT);
	CHECK_EQ(walk(&t, "small.txt/x", &ino), -ENOTDIR);
	CHECK_EQ(walk(&t, "a/b/c/link/x", &ino), -ELOOP); /* symbolic links are not followed */
	CHECK_EQ(t.ops->read(&t.m, dir, 0, buf, 10), -EISDIR);
	REQUIRE(walk(&t, "small.txt", &ino) == 0);
	{
		struct fs_dirent d;
		uint64_t cookie = 0;
		CHECK_EQ(t.ops->readdir(&t.m, ino, &cookie, &d), -ENOTDIR);
	}
	CHECK_EQ(t.ops->stat(&t.m, 0, &st), -ENOENT);
	CHECK_EQ(t.ops->stat(&t.m, 1ull << 40, &st), -ENOENT);

	/* a read-only mount refuses writes and writes nothing, not even at unmount */
	CHECK_EQ(t.ops->write(&t.m, ino, 0, "x", 1), -EROFS);
	CHECK_EQ(t.ops->create(&t.m, EXT2_ROOT_INO, "n", 1, 0644, &ino), -EROFS);
	CHECK_EQ(t.ops->mkdir(&t.m, EXT2_ROOT_INO, "n", 1, 0755, &ino), -EROFS);
	CHECK_EQ(t.ops->unlink(&t.m, EXT2_ROOT_INO, "small.txt", 9), -EROFS);
	CHECK_EQ(t.ops->rename(&t.m, EXT2_ROOT_INO, "small.txt", 9, EXT2_ROOT_INO, "x", 1), -EROFS);
	CHECK_EQ(t.ops->sync(&t.m), 0);
	mnt_close(&t);
	CHECK_EQ(t.dev.writes, 0);
	CHECK_EQ(fsck(img), 0);
}

TEST(read_1k)
{
	test_read(1024);
}

TEST(read_2k)
{
	test_read(2048);
}

TEST(read_4k)
{
	test_read(4096);
}

/* ---- writing -------------------------------------------------------------------------------- */

/* Writes pattern seed over [off, off + len) of path in pieces of at most 1 MiB. */
static bool write_range(struct mnt *t, const char *path, uint64_t seed, uint64_t off, size_t len)
{
	size_t step = 1 << 20;
	uint8_t *buf = malloc(step);
	bool ok = true;

	for (size_t done = 0; ok && done < len;) {
		size_t n = len - done < step ? len - done : step;
		fill_pattern(buf, seed, off + done, n);
		ssize_t r = do_write(t, path, off + done, buf, n);
		if (r != (ssize_t)n) {
			fprintf(stderr, "  write %s at %llu: %zd\n", path,
			        (unsigned long long)(off + done), r);
			ok = false;
		}
		done += n;
	}
	free(buf);
	return ok;
}

static uint32_t nlink_of(struct mnt *t, const char *path)
{
	struct fs_stat st;
	uint64_t ino;

	if (walk(t, path, &ino) != 0 || t->ops->stat(&t->m, ino, &st) != 0)
		return 0;
	return st.nlink;
}

/* The inode that entry `name` of directory path names, found with readdir. */
static uint64_t readdir_ino(struct mnt *t, const char *path, const char *name)
{
	struct fs_dirent d;
	uint64_t dir, cookie = 0;

	if (walk(t, path, &dir) != 0)
		return 0;
	while (t->ops->readdir(&t->m, dir, &cookie, &d) == 1)
		if (strcmp(d.name, name) == 0)
			return d.ino;
	return 0;
}

/* Compares bytes [off, off + len) of a host file with pattern seed. */
static bool host_file_has(const char *path, uint64_t seed, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len), *want = malloc(len);
	int fd = open(path, O_RDONLY);
	bool ok = fd >= 0 && pread(fd, buf, len, (off_t)off) == (ssize_t)len;

	fill_pattern(want, seed, off, len);
	ok = ok && memcmp(buf, want, len) == 0;
	if (fd >= 0)
		close(fd);
	free(buf);
	free(want);
	return ok;
}

/* The regions "grow" gets: crossing direct -> single -> double -> triple indirect. */
struct region {
	uint64_t off;
	size_t len;
};

static void grow_regions(unsigned bs, struct region r[4])
{
	uint64_t p = bs / 4;

	r[0] = (struct region){ 0, 3 * bs + 100 };
	r[1] = (struct region){ 12ull * bs - 50, bs + 100 };
	r[2] = (struct region){ (12 + p) * bs - 10, 20 };
	r[3] = (struct region){ (12 + p + p * p) * bs - 10, 20 };
}

/* What the write test leaves on the image, checked before and after a remount. */
static void check_after_write(struct mnt *t, unsigned bs)
{
	struct region r[4];
	uint64_t size;
	char buf[16];
	uint64_t ino;

	grow_regions(bs, r);
	for (int i = 0; i < 4; i++)
		CHECK(check_range(t, "grow", 21, r[i].off, r[i].len));
	CHECK(check_range(t, "grow", 0, 3 * bs + 100, 12 * bs - 50 - (3 * bs + 100)));
	CHECK(check_range(t, "grow", 0, r[1].off + r[1].len, 1000));
	CHECK(file_size(t, "grow", &size) == 0 && size == r[3].off + r[3].len);
	CHECK(walk(t, "huge2", &ino) == 0 && t->ops->read(&t->m, ino, (5ull << 30), buf, 16) == 3 &&
	      memcmp(buf, "end", 3) == 0);
	CHECK(file_size(t, "huge2", &size) == 0 && size == (5ull << 30) + 3);
	CHECK(check_range(t, "big.bin", 11, 0, 100007));
	CHECK(check_range(t, "big.bin", 0, 100007, 300000 - 100007));
	CHECK(walk(t, "big.bin", &ino) == 0 && t->ops->read(&t->m, ino, 400000, buf, 16) == 1 &&
	      buf[0] == 'Q');
	CHECK(walk(t, "a/target.txt", &ino) == 0 && t->ops->read(&t->m, ino, 0, buf, 16) == 5 &&
	      memcmp(buf, "hello", 5) == 0);
	CHECK_EQ(walk(t, "a/b/moved.txt", &ino), -ENOENT);
	CHECK_EQ(walk(t, "new.txt", &ino), -ENOENT);
	CHECK_EQ(walk(t, "d1/d2", &ino), -ENOENT);
	CHECK(walk(t, "emptydir/inner", &ino) == 0);
	CHECK_EQ(nlink_of(t, "emptydir"), 2);
	CHECK_EQ(nlink_of(t, "d1"), 2);
	CHECK(readdir_ino(t, "emptydir", "..") == EXT2_ROOT_INO);
	for (int i = 0; i < MANY; i++) {
		char p[80];
		snprintf(p, sizeof(p), "manydir/file-with-a-longish-name-%03d", i);
		if (i % 3 == 0)
			CHECK_EQ(walk(t, p, &ino), -ENOENT);
		else
			CHECK(check_file(t, p, 100 + (uint64_t)i, (uint64_t)i, 4096));
	}
	for (int i = 0; i < 60; i++) {
		char p[120];
		snprintf(p, sizeof(p), "manydir/new-entry-with-an-even-longer-name-than-before-%d",
		         i);
		CHECK(check_file(t, p, 500 + (uint64_t)i, 50 + (uint64_t)i * 13, 4096));
	}
	CHECK_EQ(count_entries(t, EXT2_ROOT_INO, NULL) > 0, 1);
}

static void test_write(unsigned bs)
{
	char name[32], longname[300], img[4200];
	struct mnt t;
	struct region r[4];
	uint64_t ino, ino2, size, root_links;
	char buf[64];

	snprintf(name, sizeof(name), "write-%u.img", bs);
	REQUIRE(make_image(img, name, bs, 32, true, true));
	REQUIRE(mnt_open(&t, img, false) == 0);
	REQUIRE(!t.m.readonly);
	root_links = nlink_of(&t, "/");

	/* create */
	CHECK_EQ(do_create(&t, "new.txt", &ino), 0);
	CHECK_EQ(do_create(&t, "new.txt", NULL), -EEXIST);
	CHECK_EQ(do_create(&t, "a/b/c/deep.txt", NULL), -EEXIST);
	CHECK_EQ(do_create(&t, "nodir/x", NULL), -ENOENT);
	CHECK_EQ(do_create(&t, "small.txt/x", NULL), -ENOTDIR);
	memset(longname, 'n', 256);
	longname[256] = '\0';
	CHECK_EQ(do_create(&t, longname, NULL), -ENAMETOOLONG);
	longname[255] = '\0';
	CHECK_EQ(do_create(&t, longname, NULL), 0);
	CHECK_EQ(do_unlink(&t, longname), 0);
	CHECK_EQ(t.ops->write(&t.m, ino, 0, "hello", 5), 5);
	CHECK(file_size(&t, "new.txt", &size) == 0 && size == 5);
	CHECK_EQ(nlink_of(&t, "new.txt"), 1);

	/* grow across every level of the block map; a file > 4 GiB of our own */
	CHECK_EQ(do_create(&t, "grow", NULL), 0);
	grow_regions(bs, r);
	for (int i = 0; i < 4; i++)
		CHECK(write_range(&t, "grow", 21, r[i].off, r[i].len));
	CHECK_EQ(do_create(&t, "huge2", &ino2), 0);
	CHECK_EQ(t.ops->write(&t.m, ino2, 5ull << 30, "end", 3), 3);
	CHECK_EQ(t.ops->write(&t.m, ino2, 1ull << 50, "x", 1), -EFBIG);
	/* partial frees inside triple and double indirect trees, then everything */
	CHECK_EQ(do_create(&t, "huge3", &ino), 0);
	for (uint64_t off = 100 * bs; off < (6ull << 30); off = off * 3 + 12345)
		CHECK_EQ(t.ops->write(&t.m, ino, off, "abc", 3), 3);
	CHECK_EQ(t.ops->truncate(&t.m, ino, 2ull << 30), 0);
	CHECK(file_size(&t, "huge3", &size) == 0 && size == 2ull << 30);
	CHECK(walk(&t, "huge3", &ino) == 0 && t.ops->read(&t.m, ino, 100 * bs, buf, 3) == 3 &&
	      memcmp(buf, "abc", 3) == 0);
	CHECK_EQ(t.ops->truncate(&t.m, ino, 50 * bs), 0);
	CHECK_EQ(t.ops->sync(&t.m), 0);
	CHECK_EQ(fsck(img), 0);
	CHECK_EQ(do_unlink(&t, "huge3"), 0);

	/* a long free gives the core back now and then: one yield per EXT2_FREES_PER_YIELD */
	static char block[4096];
	CHECK_EQ(do_create(&t, "long", &ino), 0);
	memset(block, 'L', bs);
	for (uint64_t off = 0; off < 1000ull * bs; off += bs)
		REQUIRE(t.ops->write(&t.m, ino, off, block, bs) == (ssize_t)bs);
	unsigned before = yields;
	CHECK_EQ(t.ops->truncate(&t.m, ino, 0), 0);
	CHECK(yields - before >= 1000 / 256);
	CHECK_EQ(do_unlink(&t, "long"), 0);

	/* truncate down, up, and write past a hole */
	REQUIRE(walk(&t, "big.bin", &ino) == 0);
	CHECK_EQ(t.ops->truncate(&t.m, ino, 100007), 0);
	CHECK(file_size(&t, "big.bin", &size) == 0 && size == 100007);
	CHECK_EQ(t.ops->truncate(&t.m, ino, 300000), 0);
	CHECK_EQ(t.ops->write(&t.m, ino, 400000, "Q", 1), 1);
	CHECK_EQ(t.ops->truncate(&t.m, EXT2_ROOT_INO, 0), -EISDIR);
	REQUIRE(walk(&t, "sparse.bin", &ino) == 0);
	CHECK_EQ(t.ops->truncate(&t.m, ino, 0), 0);
	CHECK_EQ(t.ops->write(&t.m, ino, 10, "abc", 3), 3);
	CHECK(check_range(&t, "sparse.bin", 0, 0, 10));

	/* mkdir, rmdir, unlink */
	CHECK_EQ(do_mkdir(&t, "d1"), 0);
	CHECK_EQ(do_mkdir(&t, "d1"), -EEXIST);
	CHECK_EQ(do_mkdir(&t, "d1/d2"), 0);
	CHECK_EQ(do_create(&t, "d1/d2/f", NULL), 0);
	CHECK_EQ(nlink_of(&t, "/"), root_links + 1);
	CHECK_EQ(nlink_of(&t, "d1"), 3);
	CHECK_EQ(nlink_of(&t, "d1/d2"), 2);
	CHECK_EQ(do_rmdir(&t, "d1"), -ENOTEMPTY);
	CHECK_EQ(do_rmdir(&t, "d1/d2"), -ENOTEMPTY);
	CHECK_EQ(do_unlink(&t, "d1/d2/f"), 0);
	CHECK_EQ(do_unlink(&t, "d1/d2/f"), -ENOENT);
	CHECK_EQ(do_rmdir(&t, "d1/d2"), 0);
	CHECK_EQ(nlink_of(&t, "d1"), 2);
	CHECK_EQ(do_unlink(&t, "d1"), -EISDIR);
	CHECK_EQ(do_rmdir(&t, "new.txt"), -ENOTDIR);
	CHECK_EQ(do_unlink(&t, "nope"), -ENOENT);

	/* rename */
	CHECK_EQ(do_rename(&t, "new.txt", "renamed.txt"), 0);
	CHECK_EQ(walk(&t, "new.txt", &ino), -ENOENT);
	CHECK_EQ(do_rename(&t, "renamed.txt", "a/b/moved.txt"), 0);
	CHECK_EQ(do_create(&t, "a/target.txt", &ino), 0);
	CHECK_EQ(t.ops->write(&t.m, ino, 0, "T", 1), 1);
	CHECK_EQ(do_rename(&t, "a/b/moved.txt", "a/target.txt"), 0); /* replaces a file */
	CHECK_EQ(do_mkdir(&t, "d1/sub"), 0);
	CHECK_EQ(do_create(&t, "d1/sub/inner", NULL), 0);
	CHECK_EQ(nlink_of(&t, "d1"), 3);
	CHECK_EQ(do_rename(&t, "d1/sub", "a/sub"), 0); /* a directory moves */
	CHECK_EQ(nlink_of(&t, "d1"), 2);
	CHECK_EQ(nlink_of(&t, "a"), 4);
	CHECK(readdir_ino(&t, "a/sub", "..") == readdir_ino(&t, "/", "a"));
	CHECK_EQ(do_rename(&t, "a", "a/sub/x"), -EINVAL);
	CHECK_EQ(do_rename(&t, "a", "a/sub"), -ENOTEMPTY);
	CHECK_EQ(do_rename(&t, "a", "a"), 0);
	CHECK_EQ(do_rename(&t, "small.txt", "manydir"), -EISDIR);
	CHECK_EQ(do_rename(&t, "emptydir", "small.txt"), -ENOTDIR);
	CHECK_EQ(do_rename(&t, "emptydir", "manydir"), -ENOTEMPTY);
	CHECK_EQ(do_rename(&t, "nope", "x"), -ENOENT);
	CHECK_EQ(do_rename(&t, "a/sub", "emptydir"), 0); /* replaces an empty directory */
	CHECK_EQ(nlink_of(&t, "a"), 3);
	CHECK_EQ(nlink_of(&t, "/"), root_links + 1); /* + d1; emptydir was replaced */

	/* fsync: the file, its inode and its directory entry are on the disk when it returns */
	{
		unsigned flushes = t.dev.flushes;
		CHECK_EQ(do_mkdir(&t, "dur"), 0);
		CHECK_EQ(do_create(&t, "dur/able.txt", &ino), 0);
		CHECK_EQ(t.ops->write(&t.m, ino, 0, "persist", 7), 7);
		CHECK_EQ(t.ops->fsync(&t.m, ino), 0);
		CHECK(t.dev.flushes > flushes);
		CHECK_EQ(sh(E2PATH
		            "debugfs -R 'cat /dur/able.txt' %s 2>/dev/null | grep -qx persist",
		            img),
		         0);
		CHECK_EQ(do_unlink(&t, "dur/able.txt"), 0);
		CHECK_EQ(do_rmdir(&t, "dur"), 0);
	}

	/* the hash-indexed directory, changed */
	for (int i = 0; i < MANY; i += 3) {
		char p[80];
		snprintf(p, sizeof(p), "manydir/file-with-a-longish-name-%03d", i);
		CHECK_EQ(do_unlink(&t, p), 0);
	}
	for (int i = 0; i < 60; i++) {
		char p[120];
		snprintf(p, sizeof(p), "manydir/new-entry-with-an-even-longer-name-than-before-%d",
		         i);
		CHECK_EQ(do_create(&t, p, NULL), 0);
		CHECK(write_range(&t, p, 500 + (uint64_t)i, 0, 50 + (size_t)i * 13));
	}
	check_after_write(&t, bs);

	/* durable and consistent while still mounted */
	CHECK_EQ(t.ops->sync(&t.m), 0);
	CHECK(t.dev.flushes > 0);
	CHECK_EQ(fsck(img), 0);

	/* fill the disk: a short count, then -ENOSPC; the image stays consistent */
	{
		size_t chunk = 256 << 10, total = 0;
		uint8_t *cbuf = malloc(chunk);
		ssize_t n = 0;
		int files = 0, err;
		REQUIRE(do_create(&t, "fill", &ino) == 0);
		while (total < (64u << 20)) {
			fill_pattern(cbuf, 31, total, chunk);
			n = t.ops->write(&t.m, ino, total, cbuf, chunk);
			if (n <= 0)
				break;
			total += (size_t)n;
			if ((size_t)n < chunk)
				break;
		}
		free(cbuf);
		CHECK(n > 0 && (size_t)n < chunk); /* the disk filled part-way through a chunk */
		CHECK(total > (16u << 20));
		CHECK_EQ(t.ops->write(&t.m, ino, total, "x", 1), -ENOSPC);
		CHECK_EQ(do_mkdir(&t, "nospace"), -ENOSPC);
		do { /* empty files until the root directory needs a block it cannot get */
			snprintf(buf, sizeof(buf), "e%d", files++);
			err = do_create(&t, buf, NULL);
		} while (err == 0 && files < 20000);
		CHECK_EQ(err, -ENOSPC);
		CHECK_EQ(t.ops->sync(&t.m), 0);
		CHECK_EQ(fsck(img), 0);
		CHECK(check_file(&t, "fill", 31, total, 1 << 20));
		for (int i = 0; i < files - 1; i++) {
			snprintf(buf, sizeof(buf), "e%d", i);
			CHECK_EQ(do_unlink(&t, buf), 0);
		}
		CHECK_EQ(do_unlink(&t, "fill"), 0);
		CHECK_EQ(do_create(&t, "after", &ino), 0);
		CHECK(write_range(&t, "after", 41, 0, 8 << 20)); /* the space came back */
		CHECK_EQ(do_unlink(&t, "after"), 0);
		CHECK_EQ(t.ops->fsync(&t.m, EXT2_ROOT_INO), 0);
		CHECK_EQ(fsck(img), 0);
	}

	/* unmount: clean; e2fsprogs reads our files; a remount reads everything back */
	mnt_close(&t);
	CHECK_EQ(fsck(img), 0);
	CHECK_EQ(
	        sh(E2PATH "dumpe2fs -h %s 2>/dev/null | grep -q '^Filesystem state: *clean$'", img),
	        0);
	CHECK_EQ(sh(E2PATH "debugfs -R 'dump /grow %s' %s >/dev/null 2>&1", tpath("grow.out"), img),
	         0);
	for (int i = 0; i < 4; i++)
		CHECK(host_file_has(tpath("grow.out"), 21, r[i].off, r[i].len));
	unlink(tpath("grow.out"));
	CHECK_EQ(sh(E2PATH "debugfs -R 'cat /a/target.txt' %s 2>/dev/null | grep -qx hello", img),
	         0);
	REQUIRE(mnt_open(&t, img, false) == 0);
	check_after_write(&t, bs);
	mnt_close(&t);
	CHECK_EQ(fsck(img), 0);
}

TEST(write_1k)
{
	test_write(1024);
}

TEST(write_2k)
{
	test_write(2048);
}

TEST(write_4k)
{
	test_write(4096);
}

/* ---- random operations against a model ------------------------------------------------------ */

#define MODEL_FILES 24
#define MODEL_MAX (1u << 20) /* largest file the model makes */
#define MODEL_STEPS 700

struct mfile {
	bool exists;   /* the file is on the disk */
	uint8_t *data; /* MODEL_MAX bytes: its contents, zeros past size */
	size_t size;   /* its size */
};

static uint64_t rng_state;

static uint64_t rng(void) /* xorshift64*: fixed seeds make every run the same */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static const char *model_path(int i)
{
	static const char *dirs[] = { "", "m1/", "m1/m2/" };
	static char bufs[2][32];
	static unsigned next;
	char *p = bufs[next++ % 2];

	snprintf(p, sizeof(bufs[0]), "%sfile%d", dirs[i % 3], i);
	return p;
}

static bool model_check(struct mnt *t, struct mfile *f)
{
	bool ok = true;

	for (int i = 0; i < MODEL_FILES; i++) {
		uint64_t ino, size;
		if (!f[i].exists) {
			ok &= walk(t, model_path(i), &ino) == -ENOENT;
			continue;
		}
		if (file_size(t, model_path(i), &size) != 0 || size != f[i].size) {
			fprintf(stderr, "  %s: wrong size\n", model_path(i));
			ok = false;
			continue;
		}
		uint8_t *buf = malloc(f[i].size + 1);
		walk(t, model_path(i), &ino);
		ok &= t->ops->read(&t->m, ino, 0, buf, f[i].size + 1) == (ssize_t)f[i].size &&
		      memcmp(buf, f[i].data, f[i].size) == 0;
		free(buf);
	}
	return ok;
}

static void test_model(unsigned bs, uint64_t seed)
{
	struct mfile f[MODEL_FILES] = { { 0 } };
	char name[32], img[4200];
	struct mnt t;
	int enospc = 0;
	uint8_t *buf;

	rng_state = seed;
	snprintf(name, sizeof(name), "model-%u.img", bs);
	REQUIRE(make_image(img, name, bs, 2, false, false));
	REQUIRE(mnt_open(&t, img, false) == 0);
	CHECK(do_mkdir(&t, "m1") == 0 && do_mkdir(&t, "m1/m2") == 0);
	buf = malloc(65536);
	for (int step = 0; step < MODEL_STEPS; step++) {
		int i = (int)(rng() % MODEL_FILES), op = (int)(rng() % 10), err;
		struct mfile *m = &f[i];
		const char *path = model_path(i);
		if (op <= 5) { /* write, creating the file if needed */
			size_t off, len;
			ssize_t n;
			if (!m->exists) {
				err = do_create(&t, path, NULL);
				if (err == -ENOSPC) {
					enospc++;
					continue;
				}
				CHECK_EQ(err, 0);
				m->exists = true;
				m->data = calloc(1, MODEL_MAX);
				m->size = 0;
			}
			switch (rng() % 3) { /* anywhere (holes), appending, or over old data */
			case 0:
				off = rng() % MODEL_MAX;
				break;
			case 1:
				off = m->size;
				break;
			default:
				off = m->size ? rng() % m->size : 0;
			}
			len = rng() % 65536 + 1;
			if (off >= MODEL_MAX)
				continue;
			if (len > MODEL_MAX - off)
				len = MODEL_MAX - off;
			fill_pattern(buf, 1000 + (uint64_t)step, off, len);
			n = do_write(&t, path, off, buf, len);
			if (n < 0) {
				CHECK_EQ(n, -ENOSPC);
				enospc++;
				continue;
			}
			CHECK(n > 0 && (size_t)n <= len);
			enospc += (size_t)n < len;
			memcpy(m->data + off, buf, (size_t)n);
			if (off + (size_t)n > m->size)
				m->size = off + (size_t)n;
		} else if (op == 6 && m->exists) { /* truncate, mostly by a little */
			size_t size = m->size / 2 + rng() % (m->size / 2 + 5000);
			uint64_t ino;
			if (size > MODEL_MAX)
				size = MODEL_MAX;
			CHECK(walk(&t, path, &ino) == 0 && t.ops->truncate(&t.m, ino, size) == 0);
			if (size < m->size)
				memset(m->data + size, 0, m->size - size);
			m->size = size;
		} else if (op == 7) { /* unlink */
			CHECK_EQ(do_unlink(&t, path), m->exists ? 0 : -ENOENT);
			free(m->data);
			*m = (struct mfile){ 0 };
		} else if (op == 8) { /* rename over another slot */
			int j = (int)(rng() % MODEL_FILES);
			err = do_rename(&t, path, model_path(j));
			if (!m->exists) {
				CHECK_EQ(err, -ENOENT);
			} else if (err == -ENOSPC) {
				enospc++;
			} else {
				CHECK_EQ(err, 0);
				if (j != i) {
					free(f[j].data);
					f[j] = *m;
					*m = (struct mfile){ 0 };
				}
			}
		} else if (m->exists) { /* read a piece back */
			size_t off = rng() % (m->size + 1), len = rng() % 65536;
			uint64_t ino;
			ssize_t n = -1, want = (ssize_t)(off + len > m->size ? m->size - off : len);
			if (walk(&t, path, &ino) == 0)
				n = t.ops->read(&t.m, ino, off, buf, len);
			CHECK_EQ(n, want);
			CHECK(n < 0 || memcmp(buf, m->data + off, (size_t)n) == 0);
		}
		if (step % 175 == 174) {
			CHECK_EQ(t.ops->sync(&t.m), 0);
			CHECK_EQ(fsck(img), 0);
		}
	}
	CHECK(model_check(&t, f));
	mnt_close(&t);
	CHECK_EQ(fsck(img), 0);
	REQUIRE(mnt_open(&t, img, false) == 0);
	CHECK(model_check(&t, f));
	mnt_close(&t);
	CHECK_EQ(fsck(img), 0);
	fprintf(stderr, "  (%d operations ran out of space)\n", enospc);
	for (int i = 0; i < MODEL_FILES; i++)
		free(f[i].data);
	free(buf);
}

TEST(model_1k)
{
	test_model(1024, 0x1234567);
}

TEST(model_4k)
{
	test_model(4096, 0x7654321);
}

/* ---- old formats ------------------------------------------------------------------------ */

/* Revision 0 (no i_size_high, 128-byte inodes) and revision 1 without any feature (no file
 * type in directory entries, backup superblocks in every group, no large files yet). */
static void test_plain(const char *mkfs_opts, unsigned bs, unsigned mib, bool rev0)
{
	char img[4200], src[4400];
	struct mnt t;
	struct fs_dirent de;
	uint64_t ino, dir, cookie = 0;
	int dirs = 0, regs = 0;

	make_tree();
	sh("rm -rf %s/ptree && mkdir -p %s/ptree/sub", tmpdir, tmpdir);
	snprintf(src, sizeof(src), "%s/ptree/sub/f", tmpdir);
	write_host_file(src, 9, 70000);
	snprintf(img, sizeof(img), "%s", tpath("plain.img"));
	REQUIRE(sh(E2PATH "mke2fs -q -F -t ext2 %s -b %u -d %s/ptree %s %uM >/dev/null 2>&1",
	           mkfs_opts, bs, tmpdir, img, mib) == 0);
	REQUIRE(mnt_open(&t, img, false) == 0);
	CHECK(check_file(&t, "sub/f", 9, 70000, 4000));
	while (t.ops->readdir(&t.m, EXT2_ROOT_INO, &cookie, &de) == 1) {
		dirs += de.type == DT_DIR;
		regs += de.type == DT_REG;
	}
	CHECK_EQ(dirs, 4); /* . .. lost+found sub */
	CHECK_EQ(regs, 0);
	CHECK_EQ(do_mkdir(&t, "new"), 0);
	CHECK_EQ(do_create(&t, "new/file", &ino), 0);
	CHECK(write_range(&t, "new/file", 19, 0, 100000));
	CHECK_EQ(do_rename(&t, "sub/f", "new/g"), 0);
	CHECK_EQ(do_rename(&t, "new", "sub/new"), 0);
	CHECK_EQ(walk(&t, "sub/new", &dir), 0);
	cookie = 0;
	regs = 0;
	while (t.ops->readdir(&t.m, dir, &cookie, &de) == 1)
		regs += de.type == DT_REG;
	CHECK_EQ(regs, 2);
	CHECK_EQ(t.ops->write(&t.m, ino, 3ull << 30, "x", 1), rev0 ? -EFBIG : 1);
	CHECK_EQ(t.ops->truncate(&t.m, ino, 200000), 0);
	{ /* use up the inodes: they come from every group */
		char name[32];
		int n = 0, err;
		do {
			snprintf(name, sizeof(name), "sub/many%d", n++);
			err = do_create(&t, name, NULL);
		} while (err == 0 && n < 100000);
		CHECK_EQ(err, -ENOSPC);
		CHECK_EQ(t.ops->sync(&t.m), 0);
		CHECK_EQ(fsck(img), 0);
		for (int i = 0; i < n - 1; i += 2) {
			snprintf(name, sizeof(name), "sub/many%d", i);
			CHECK_EQ(do_unlink(&t, name), 0);
		}
	}
	mnt_close(&t);
	CHECK_EQ(fsck(img), 0);
	REQUIRE(mnt_open(&t, img, true) == 0);
	CHECK(check_file(&t, "sub/new/g", 9, 70000, 70000));
	CHECK(check_range(&t, "sub/new/file", 19, 0, 100000));
	CHECK(check_range(&t, "sub/new/file", 0, 100000, 100000));
	mnt_close(&t);
	if (!rev0) /* a file of 2 GiB or more needs the feature, and got it */
		CHECK_EQ(sh(E2PATH "dumpe2fs -h %s 2>/dev/null | grep -q 'features:.*large_file'",
		            img),
		         0);
}

TEST(revision_0)
{
	test_plain("-r 0", 4096, 8, true);
}

TEST(no_features)
{
	test_plain("-O none -N 64", 1024, 24, false); /* 3 groups, a superblock in each */
}

/* ---- corrupted images ------------------------------------------------------------------------ */

/* A small good image to damage: a/b/c/deep.txt, small.txt, mid.bin (into double indirect
 * blocks at 1 KiB), d/ with 40 entries. Copied to `name` for each case. */
static const char *corrupt_base(unsigned bs, const char *name)
{
	static char img[4200]; /* valid until the next call */
	char path[4400], base[64];

	snprintf(base, sizeof(base), "cbase-%u.img", bs);
	if (sh("test -f %s", tpath(base)) != 0) {
		sh("rm -rf %s/ctree && mkdir -p %s/ctree/a/b/c %s/ctree/d", tmpdir, tmpdir, tmpdir);
		snprintf(path, sizeof(path), "%s/ctree/small.txt", tmpdir);
		write_host_file(path, 3, 100);
		snprintf(path, sizeof(path), "%s/ctree/a/b/c/deep.txt", tmpdir);
		write_host_file(path, 4, 5000);
		snprintf(path, sizeof(path), "%s/ctree/mid.bin", tmpdir);
		write_host_file(path, 5, 300 * 1024);
		for (int i = 0; i < 40; i++) {
			snprintf(path, sizeof(path), "%s/ctree/d/entry%02d", tmpdir, i);
			write_host_file(path, 6, 10);
		}
		if (sh(E2PATH "mke2fs -q -F -t ext2 -b %u -d %s/ctree %s 4M >/dev/null 2>&1", bs,
		       tmpdir, tpath(base)) != 0)
			return NULL;
	}
	snprintf(img, sizeof(img), "%s", tpath(name));
	if (sh("cp %s %s", tpath(base), img) != 0)
		return NULL;
	return img;
}

static bool patch(const char *img, uint64_t off, const void *data, size_t len)
{
	int fd = open(img, O_RDWR);
	bool ok = fd >= 0 && pwrite(fd, data, len, (off_t)off) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok;
}

static bool patch32(const char *img, uint64_t off, uint32_t v)
{
	return patch(img, off, &v, 4);
}

static bool patch16(const char *img, uint64_t off, uint16_t v)
{
	return patch(img, off, &v, 2);
}

/* A number debugfs prints for a request (the first one after `key`, or the first at all). */
static long long debugfs_num(const char *img, const char *req, const char *key)
{
	char cmd[4600], line[512];
	long long v = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), E2PATH "debugfs -R '%s' %s 2>/dev/null", req, img);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	while (v < 0 && fgets(line, sizeof(line), p)) {
		char *s = key ? strstr(line, key) : line;
		if (s && sscanf(s + (key ? strlen(key) : 0), "%lld", &v) != 1)
			v = -1;
	}
	pclose(p);
	return v;
}

static bool debugfs_w(const char *img, const char *req)
{
	return sh(E2PATH "debugfs -w -R '%s' %s >/dev/null 2>&1", req, img) == 0;
}

/* Byte offset of the directory entry `name` in block 0 of directory dir, or -1. */
static long long dirent_offset(const char *img, unsigned bs, const char *dir, const char *name)
{
	char req[256];
	uint8_t *blk = malloc(bs);
	long long b, found = -1;
	int fd;

	snprintf(req, sizeof(req), "bmap %s 0", dir);
	b = debugfs_num(img, req, NULL);
	fd = open(img, O_RDONLY);
	if (b > 0 && fd >= 0 && pread(fd, blk, bs, (off_t)(b * bs)) == (ssize_t)bs) {
		for (unsigned off = 0; off + 8 <= bs;) {
			uint16_t rec = (uint16_t)(blk[off + 4] | blk[off + 5] << 8);
			if (blk[off + 6] == strlen(name) &&
			    memcmp(blk + off + 8, name, strlen(name)) == 0)
				found = b * bs + off;
			if (rec < 8)
				break;
			off += rec;
		}
	}
	if (fd >= 0)
		close(fd);
	free(blk);
	return found;
}

/* A mount that must fail with `want` and say why. */
#define EXPECT_MOUNT_FAIL(img, want)                                                      \
	do {                                                                              \
		struct mnt t_;                                                            \
		mount_err[0] = '\0';                                                      \
		int got_ = mnt_open(&t_, img, false);                                     \
		if (got_ == 0)                                                            \
			mnt_close(&t_);                                                   \
		if (got_ != (want) || mount_err[0] == '\0') {                             \
			fprintf(stderr, "  %s:%d: mount gave %d (\"%s\"), expected %d\n", \
			        __FILE__, __LINE__, got_, mount_err, (want));             \
			test_failed_++;                                                   \
		}                                                                         \
	} while (0)

/* Counts log_error calls around one step of a corruption case. */
static int errors_before;
#define EXPECT_FAIL(expr, want)                                                             \
	do {                                                                                \
		errors_before = log_errors;                                                 \
		long long got_ = (long long)(expr);                                         \
		if (got_ != (want)) {                                                       \
			fprintf(stderr, "  %s:%d: %s gave %lld, expected %lld\n", __FILE__, \
			        __LINE__, #expr, got_, (long long)(want));                  \
			test_failed_++;                                                     \
		} else if ((want) == -EIO && log_errors == errors_before) {                 \
			fprintf(stderr, "  %s:%d: %s logged nothing\n", __FILE__, __LINE__, \
			        #expr);                                                     \
			test_failed_++;                                                     \
		}                                                                           \
	} while (0)

static const unsigned corrupt_sizes[] = { 1024, 4096 };

TEST(corrupt_superblock)
{
	for (unsigned k = 0; k < 2; k++) {
		unsigned bs = corrupt_sizes[k];
		const char *img;
		struct mnt t;
		uint64_t ino;

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch16(img, 1024 + 56, 0x1234)); /* s_magic */
		EXPECT_MOUNT_FAIL(img, -EINVAL);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, 1024 + 24, 20)); /* s_log_block_size: 1 GiB blocks */
		EXPECT_MOUNT_FAIL(img, -EIO);
		REQUIRE(patch32(img, 1024 + 24, 3)); /* 8 KiB */
		EXPECT_MOUNT_FAIL(img, -EIO);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, 1024 + 4, (4u << 20) / bs * 10)); /* s_blocks_count */
		EXPECT_MOUNT_FAIL(img, -EIO);
		REQUIRE(patch32(img, 1024 + 4, 0xffffffff));
		EXPECT_MOUNT_FAIL(img, -EIO);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, 1024 + 0, 7)); /* s_inodes_count */
		EXPECT_MOUNT_FAIL(img, -EIO);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, 1024 + 32, 0)); /* s_blocks_per_group */
		EXPECT_MOUNT_FAIL(img, -EIO);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, 1024 + 76, 7)); /* s_rev_level */
		EXPECT_MOUNT_FAIL(img, -ENOTSUP);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch16(img, 1024 + 88, 100)); /* s_inode_size */
		EXPECT_MOUNT_FAIL(img, -EIO);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, 1024 + 96, 0x2 | 0x40)); /* INCOMPAT: filetype + extents */
		EXPECT_MOUNT_FAIL(img, -ENOTSUP);

		/* an unknown RO_COMPAT feature: mounts, read-only */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, 1024 + 100, 0x3 | 0x8000));
		REQUIRE(mnt_open(&t, img, false) == 0);
		CHECK(t.m.readonly);
		CHECK(check_file(&t, "mid.bin", 5, 300 * 1024, 65536));
		CHECK_EQ(do_create(&t, "x", NULL), -EROFS);
		mnt_close(&t);
		CHECK_EQ(t.dev.writes, 0);

		/* truncated images */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(truncate(img, 2 << 20) == 0);
		EXPECT_MOUNT_FAIL(img, -EIO);
		REQUIRE(truncate(img, 1500) == 0);
		EXPECT_MOUNT_FAIL(img, -EIO);
		REQUIRE(truncate(img, 0) == 0);
		EXPECT_MOUNT_FAIL(img, -EIO);

		/* the root inode is not a directory */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(debugfs_w(img, "sif <2> mode 0100644"));
		EXPECT_MOUNT_FAIL(img, -EIO);
		(void)ino;
	}
}

TEST(corrupt_groups)
{
	for (unsigned k = 0; k < 2; k++) {
		unsigned bs = corrupt_sizes[k];
		uint64_t gd0 = (bs == 1024 ? 2 : 1) * (uint64_t)bs; /* group descriptor 0 */
		const char *img;

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, gd0 + 8, 0x7fffffff)); /* bg_inode_table */
		EXPECT_MOUNT_FAIL(img, -EIO);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, gd0 + 0, 0)); /* bg_block_bitmap on the boot block */
		EXPECT_MOUNT_FAIL(img, -EIO);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch32(img, gd0 + 4, (uint32_t)(gd0 / bs))); /* inode bitmap on the GDT */
		EXPECT_MOUNT_FAIL(img, -EIO);

		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(patch16(img, gd0 + 12, 60000)); /* bg_free_blocks_count */
		EXPECT_MOUNT_FAIL(img, -EIO);
	}
}

TEST(corrupt_block_pointers)
{
	for (unsigned k = 0; k < 2; k++) {
		unsigned bs = corrupt_sizes[k];
		const char *img;
		struct mnt t;
		uint64_t ino;
		char buf[256], req[128];
		long long itable, blk;

		/* beyond the disk, direct and indirect */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(debugfs_w(img, "sif /small.txt block[0] 99999999"));
		REQUIRE(debugfs_w(img, "sif /mid.bin block[IND] 4000000000"));
		REQUIRE(mnt_open(&t, img, false) == 0);
		REQUIRE(walk(&t, "small.txt", &ino) == 0);
		EXPECT_FAIL(t.ops->read(&t.m, ino, 0, buf, sizeof(buf)), -EIO);
		EXPECT_FAIL(t.ops->write(&t.m, ino, 0, buf, sizeof(buf)), -EIO);
		EXPECT_FAIL(do_unlink(&t, "small.txt"), -EIO);
		CHECK(check_range(&t, "mid.bin", 5, 0, 12 * bs)); /* the direct blocks still read */
		REQUIRE(walk(&t, "mid.bin", &ino) == 0);
		EXPECT_FAIL(t.ops->read(&t.m, ino, 12 * bs, buf, sizeof(buf)), -EIO);
		EXPECT_FAIL(t.ops->truncate(&t.m, ino, 0), -EIO);
		mnt_close(&t);

		/* into metadata: the inode table; a double indirect block that points at data */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		itable = debugfs_num(img, "stats", "inode table at ");
		REQUIRE(itable > 0);
		snprintf(req, sizeof(req), "sif /small.txt block[0] %lld", itable);
		REQUIRE(debugfs_w(img, req));
		blk = debugfs_num(img, "bmap /mid.bin 0", NULL);
		REQUIRE(blk > 0);
		snprintf(req, sizeof(req), "sif /mid.bin block[DIND] %lld", blk);
		REQUIRE(debugfs_w(img, req));
		REQUIRE(mnt_open(&t, img, false) == 0);
		REQUIRE(walk(&t, "small.txt", &ino) == 0);
		EXPECT_FAIL(t.ops->read(&t.m, ino, 0, buf, sizeof(buf)), -EIO);
		if (bs == 1024) { /* 300 KiB reaches the double indirect block at 1 KiB only */
			REQUIRE(walk(&t, "mid.bin", &ino) == 0);
			EXPECT_FAIL(t.ops->read(&t.m, ino, (12 + 256) * 1024, buf, sizeof(buf)),
			            -EIO);
			EXPECT_FAIL(do_unlink(&t, "mid.bin"), -EIO);
		}
		mnt_close(&t);

		/* a bitmap that says a file's block is free: freeing it is refused */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		blk = debugfs_num(img, "bmap /a/b/c/deep.txt 0", NULL);
		snprintf(req, sizeof(req), "freeb %lld", blk);
		REQUIRE(blk > 0 && debugfs_w(img, req));
		REQUIRE(mnt_open(&t, img, false) == 0);
		EXPECT_FAIL(do_unlink(&t, "a/b/c/deep.txt"), -EIO);
		mnt_close(&t);

		/* impossible inode fields */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(debugfs_w(img, "sif /small.txt mode 0170644"));
		REQUIRE(debugfs_w(img, "sif /d size 1000"));
		REQUIRE(debugfs_w(img, "sif /a/b size 0x7ffff000"));
		REQUIRE(mnt_open(&t, img, false) == 0);
		EXPECT_FAIL(walk(&t, "small.txt", &ino), -EIO);
		EXPECT_FAIL(walk(&t, "d/entry01", &ino), -EIO);
		EXPECT_FAIL(walk(&t, "a/b/c", &ino), -EIO);
		EXPECT_FAIL(do_create(&t, "d/new", NULL), -EIO);
		mnt_close(&t);
	}
}

TEST(corrupt_directories)
{
	for (unsigned k = 0; k < 2; k++) {
		unsigned bs = corrupt_sizes[k];
		const char *img;
		struct mnt t;
		uint64_t ino, dir, cookie;
		struct fs_dirent de;
		long long off, inodes;
		uint32_t v;
		char req[128];

		/* rec_len 0, rec_len past the block, name_len past rec_len, '/' in a name */
		for (int c = 0; c < 4; c++) {
			REQUIRE((img = corrupt_base(bs, "c.img")));
			off = dirent_offset(img, bs, "/d", "entry05");
			REQUIRE(off > 0);
			if (c == 0)
				REQUIRE(patch16(img, (uint64_t)off + 4, 0));
			else if (c == 1)
				REQUIRE(patch16(img, (uint64_t)off + 4,
				                (uint16_t)(bs - off % bs + 4)));
			else if (c == 2)
				REQUIRE(patch(img, (uint64_t)off + 6, "\xff", 1));
			else
				REQUIRE(patch(img, (uint64_t)off + 10, "/", 1));
			REQUIRE(mnt_open(&t, img, false) == 0);
			dir = readdir_ino(&t, "/", "d");
			REQUIRE(dir != 0);
			EXPECT_FAIL(walk(&t, "d", &ino), -EIO); /* its "..", in the bad block */
			EXPECT_FAIL(t.ops->lookup(&t.m, dir, "entry05", 7, &ino), -EIO);
			EXPECT_FAIL(t.ops->lookup(&t.m, dir, "entry30", 7, &ino), -EIO);
			cookie = 0;
			int r;
			while ((r = t.ops->readdir(&t.m, dir, &cookie, &de)) == 1)
				;
			CHECK_EQ(r, -EIO);
			EXPECT_FAIL(t.ops->create(&t.m, dir, "new", 3, 0644, &ino), -EIO);
			EXPECT_FAIL(t.ops->mkdir(&t.m, dir, "new", 3, 0755, &ino), -EIO);
			EXPECT_FAIL(t.ops->unlink(&t.m, dir, "entry30", 7), -EIO);
			EXPECT_FAIL(t.ops->rename(&t.m, dir, "entry30", 7, EXT2_ROOT_INO, "x", 1),
			            -EIO);
			EXPECT_FAIL(do_rmdir(&t, "d"), -EIO);
			EXPECT_FAIL(do_rename(&t, "small.txt", "d/x"), -EIO);
			mnt_close(&t);
		}

		/* entries naming an inode out of range, a reserved inode, a free inode */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		inodes = debugfs_num(img, "stats", "Inode count:");
		REQUIRE(inodes > 0);
		off = dirent_offset(img, bs, "/d", "entry07");
		REQUIRE(off > 0 && patch32(img, (uint64_t)off, (uint32_t)inodes + 7));
		REQUIRE(mnt_open(&t, img, false) == 0);
		dir = readdir_ino(&t, "/", "d");
		REQUIRE(dir != 0);
		EXPECT_FAIL(t.ops->lookup(&t.m, dir, "entry07", 7, &ino), -EIO);
		EXPECT_FAIL(t.ops->unlink(&t.m, dir, "entry03", 7), -EIO);
		EXPECT_FAIL(do_unlink(&t, "d/entry03"), -EIO);
		mnt_close(&t);
		REQUIRE((img = corrupt_base(bs, "c.img")));
		off = dirent_offset(img, bs, "/d", "entry07");
		REQUIRE(off > 0 && patch32(img, (uint64_t)off, 5));
		off = dirent_offset(img, bs, "/d", "entry08");
		REQUIRE(off > 0 && patch32(img, (uint64_t)off, (uint32_t)inodes - 1));
		REQUIRE(mnt_open(&t, img, false) == 0);
		EXPECT_FAIL(walk(&t, "d/entry07", &ino), -EIO);
		EXPECT_FAIL(walk(&t, "d/entry08", &ino), -EIO);
		EXPECT_FAIL(do_unlink(&t, "d/entry08"), -EIO);
		CHECK_EQ(walk(&t, "d/entry09", &ino), 0);
		mnt_close(&t);

		/* directory cycles: entries naming an ancestor, the root, the directory itself */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(debugfs_w(img, "ln /a /a/b/c/up"));
		REQUIRE(debugfs_w(img, "ln <2> /a/b/root"));
		REQUIRE(debugfs_w(img, "ln /a/b /a/b/self"));
		REQUIRE(mnt_open(&t, img, false) == 0);
		EXPECT_FAIL(walk(&t, "a/b/c/up", &ino), -EIO);
		EXPECT_FAIL(walk(&t, "a/b/root", &ino), -EIO);
		EXPECT_FAIL(walk(&t, "a/b/self", &ino), -EIO);
		EXPECT_FAIL(do_rmdir(&t, "a/b/c/up"), -EIO);
		EXPECT_FAIL(do_rename(&t, "a/b/self", "x"), -EIO);
		CHECK(check_file(&t, "a/b/c/deep.txt", 4, 5000, 5000));
		mnt_close(&t);

		/* a ".." cycle: b's ".." names c, so c -> b -> c ... never reaches the root */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		off = dirent_offset(img, bs, "/a/b", "..");
		REQUIRE(off > 0);
		v = (uint32_t)debugfs_num(img, "stat /a/b/c", "Inode: ");
		REQUIRE(patch32(img, (uint64_t)off, v));
		REQUIRE(mnt_open(&t, img, false) == 0);
		EXPECT_FAIL(walk(&t, "a/b", &ino), -EIO);
		/* the VFS could still hold handles from before: moving a directory under c must
		 * walk c's ".." chain, and that walk must end */
		EXPECT_FAIL(t.ops->rename(&t.m, EXT2_ROOT_INO, "d", 1, v, "d", 1), -EIO);
		CHECK_EQ(walk(&t, "d/entry01", &ino), 0);
		mnt_close(&t);

		/* a directory with a hole (its first block pointer cleared) */
		REQUIRE((img = corrupt_base(bs, "c.img")));
		REQUIRE(debugfs_w(img, "sif /d block[0] 0"));
		REQUIRE(mnt_open(&t, img, false) == 0);
		EXPECT_FAIL(walk(&t, "d/entry01", &ino), -EIO);
		mnt_close(&t);
		snprintf(req, sizeof(req), "%u", bs);
		(void)req;
	}
}

/* Reads everything reachable (bounded), for the random-damage test. */
static void walk_all(struct mnt *t, uint64_t dir, int depth, int *budget)
{
	struct fs_dirent de;
	uint64_t cookie = 0, ino;
	static uint8_t buf[65536];
	struct fs_stat st;

	while (*budget > 0 && t->ops->readdir(&t->m, dir, &cookie, &de) == 1) {
		(*budget)--;
		if (strcmp(de.name, ".") == 0 || strcmp(de.name, "..") == 0)
			continue;
		if (t->ops->lookup(&t->m, dir, de.name, strlen(de.name), &ino) != 0)
			continue;
		if (t->ops->stat(&t->m, ino, &st) != 0)
			continue;
		if (S_ISDIR(st.mode)) {
			if (depth < 8)
				walk_all(t, ino, depth + 1, budget);
		} else {
			t->ops->read(&t->m, ino, 0, buf, sizeof(buf));
			if (st.size > 4096)
				t->ops->read(&t->m, ino, st.size - 4096, buf, 4096);
		}
	}
}

/* Random bytes over the metadata of a good image, many times: mount, read everything, change
 * a few things, unmount. Anything but a crash, a hang or a leak is fine. */
TEST(corrupt_random)
{
	uint8_t *img_data;
	int mounted = 0;

	quiet = true;
	rng_state = 42;
	for (unsigned k = 0; k < 2; k++) {
		unsigned bs = corrupt_sizes[k];
		const char *base = corrupt_base(bs, "r0.img");
		char img[4200];
		size_t meta = 64 * 1024; /* superblock, descriptors, bitmaps, inode tables, dirs */
		int fd;

		REQUIRE(base);
		img_data = malloc(4 << 20);
		fd = open(base, O_RDONLY);
		REQUIRE(fd >= 0 && read(fd, img_data, 4 << 20) == 4 << 20);
		close(fd);
		snprintf(img, sizeof(img), "%s", tpath("r.img"));
		for (int trial = 0; trial < 150; trial++) {
			struct mnt t;
			uint64_t ino;
			int nbytes = 1 + (int)(rng() % 16);
			fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
			REQUIRE(fd >= 0 && write(fd, img_data, 4 << 20) == 4 << 20);
			for (int i = 0; i < nbytes; i++) {
				uint8_t v = (uint8_t)rng();
				off_t at = (off_t)(rng() % meta);
				if (rng() % 4 == 0)
					at = 1024 +
					     (off_t)(rng() % 128); /* the superblock's fields */
				REQUIRE(pwrite(fd, &v, 1, at) == 1);
			}
			close(fd);
			if (mnt_open(&t, img, false) != 0)
				continue;
			mounted++;
			int budget = 500;
			walk_all(&t, EXT2_ROOT_INO, 0, &budget);
			if (do_create(&t, "newfile", &ino) == 0)
				t.ops->write(&t.m, ino, 0, img_data, 70000);
			do_mkdir(&t, "newdir");
			do_rename(&t, "small.txt", "newdir/s");
			do_unlink(&t, "mid.bin");
			do_rmdir(&t, "a/b/c");
			do_unlink(&t, "a/b/c/deep.txt");
			if (walk(&t, "d", &ino) == 0)
				t.ops->truncate(&t.m, ino, 10);
			mnt_close(&t);
		}
		free(img_data);
	}
	quiet = false;
	fprintf(stderr, "  (%d of 300 damaged images mounted)\n", mounted);
	CHECK(mounted > 0);
}

/* ---- main --------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	char *self = strdup(argv[0]);
	bool ok;

	(void)argc;
	snprintf(tmpdir, sizeof(tmpdir), "%s/ext2-XXXXXX", dirname(self));
	free(self);
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(read_1k);
	RUN(read_2k);
	RUN(read_4k);
	RUN(write_1k);
	RUN(write_2k);
	RUN(write_4k);
	RUN(model_1k);
	RUN(model_4k);
	RUN(revision_0);
	RUN(no_features);
	RUN(corrupt_superblock);
	RUN(corrupt_groups);
	RUN(corrupt_block_pointers);
	RUN(corrupt_directories);
	RUN(corrupt_random);
	ok = tests_failed_ == 0;
	if (ok && !getenv("EXT2_KEEP"))
		sh("rm -rf %s", tmpdir);
	else
		fprintf(stderr, "images kept in %s\n", tmpdir);
	TEST_EXIT();
}
