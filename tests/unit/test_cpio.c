/*
 * test_cpio.c - host tests of the cpio newc reader (fs/cpio.c) and the ramfs built from it
 * (fs/ramfs.c), under ASan and UBSan.
 *
 * Real archives are made at test time by GNU cpio (`cpio -o -H newc`, and `-H crc`) from a
 * folder the test creates next to its binary (build/unit/cpio-tmp.<pid>), and must read back
 * exactly as the files are. Hand-made archives carry one malformation each and must be refused
 * with -EINVAL and a message; every prefix of a valid archive is read from a heap block of
 * exactly that size, so ASan sees any read past the end. The ramfs tests build trees with
 * duplicates, implied parents, hard links and odd types, and fail every allocation in turn.
 */
#define _GNU_SOURCE /* memmem */
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <isle/errno.h>
#include "fs/cpio.h"
#include "fs/ramfs.h"
#include "tests/unit/test.h"

/* ---- kernel stand-ins ---------------------------------------------------------------------- */

static long alloc_countdown = -1; /* allocations left before one fails; -1: never */
static long live_blocks;

void *kmalloc(size_t size)
{
	if (alloc_countdown == 0)
		return NULL;
	if (alloc_countdown > 0)
		alloc_countdown--;
	void *p = malloc(size ? size : 1);
	if (p)
		live_blocks++;
	return p;
}

void kfree(void *p)
{
	if (p)
		live_blocks--;
	free(p);
}

/* ---- making archives ----------------------------------------------------------------------- */

struct ar {
	uint8_t *buf;
	size_t len, cap;
};

static void ar_put(struct ar *a, const void *p, size_t n)
{
	if (a->len + n > a->cap) {
		a->cap = (a->len + n) * 2 + 256;
		a->buf = realloc(a->buf, a->cap);
		if (!a->buf)
			abort();
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void ar_pad(struct ar *a)
{
	static const uint8_t zeros[4];
	ar_put(a, zeros, (4 - a->len % 4) % 4);
}

/* One entry; namesize is strlen(name) + 1 unless given (>= 0). */
static void ar_entry_raw(struct ar *a, const char *magic, const char *name, long namesize,
                         uint32_t mode, const void *data, size_t size, uint32_t ino, uint32_t nlink,
                         uint32_t check)
{
	char h[CPIO_HEADER_SIZE + 64];
	size_t nlen = strlen(name);
	if (namesize < 0)
		namesize = (long)nlen + 1;
	snprintf(h, sizeof(h), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic, ino,
	         mode, 0, 0, nlink, 1234567, (unsigned)size, 8, 1, 0, 0, (unsigned)namesize, check);
	ar_put(a, h, CPIO_HEADER_SIZE);
	ar_put(a, name, nlen);
	ar_put(a, "", 1);
	ar_pad(a);
	if (size)
		ar_put(a, data, size);
	ar_pad(a);
}

static void ar_entry(struct ar *a, const char *name, uint32_t mode, const char *data)
{
	static uint32_t next_ino = 100;
	ar_entry_raw(a, "070701", name, -1, mode, data, data ? strlen(data) : 0, next_ino++, 1, 0);
}

static void ar_trailer(struct ar *a)
{
	ar_entry_raw(a, "070701", "TRAILER!!!", -1, 0, NULL, 0, 0, 1, 0);
}

/* A copy of [p, p + n) in a block of exactly n bytes (ASan catches reads past it). */
static uint8_t *exact_copy(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	if (!q)
		abort();
	memcpy(q, p, n);
	return q;
}

/* Walks the whole archive; returns the last result (0 or -EINVAL) and counts entries. */
static int walk_all(const void *buf, size_t len, unsigned *entries, char *err, size_t errlen)
{
	struct cpio_iter it;
	struct cpio_entry e;
	int rc;
	unsigned n = 0;
	cpio_iter_init(&it, buf, len);
	while ((rc = cpio_next(&it, &e)) > 0)
		n++;
	if (entries)
		*entries = n;
	if (err)
		snprintf(err, errlen, "%s", it.err);
	/* Sticky: the walk stays where it ended. */
	if (cpio_next(&it, &e) != rc)
		return 99;
	return rc;
}

static int walk_copy(const struct ar *a, size_t len, char *err, size_t errlen)
{
	uint8_t *copy = exact_copy(a->buf, len);
	int rc = walk_all(copy, len, NULL, err, errlen);
	free(copy);
	return rc;
}

/* ---- archives made by GNU cpio --------------------------------------------------------------- */

static char tmpdir[PATH_MAX + 64];

static void write_file(const char *rel, const void *data, size_t len)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/tree/%s", tmpdir, rel);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static int run(const char *fmt, const char *arg)
{
	char cmd[16384];
	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg);
	return system(cmd);
}

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
	if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		p = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return p;
}

static uint8_t big[70001];

/* The folder: a.txt, dir/b.bin (70001 bytes), dir/sub/c (empty), lnk -> a.txt, edir/. */
static void make_tree(void)
{
	char path[8192];
	snprintf(path, sizeof(path), "%s/tree/dir/sub", tmpdir);
	if (run("mkdir -p '%s'", path) != 0)
		exit(1);
	snprintf(path, sizeof(path), "%s/tree/edir", tmpdir);
	mkdir(path, 0755);
	write_file("a.txt", "alpha\n", 6);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + (i >> 8));
	write_file("dir/b.bin", big, sizeof(big));
	write_file("dir/sub/c", "", 0);
	snprintf(path, sizeof(path), "%s/tree/lnk", tmpdir);
	if (symlink("a.txt", path) != 0)
		exit(1);
}

/* Packs the folder with `cpio -o -H format` into <tmpdir>/<format>.cpio and reads it. */
static uint8_t *gnu_archive(const char *format, size_t *len)
{
	char cmd[16384], out[8192];
	snprintf(out, sizeof(out), "%s/%s.cpio", tmpdir, format);
	snprintf(cmd, sizeof(cmd),
	         "cd '%s/tree' && find . | LC_ALL=C sort | cpio -o -H %s --quiet > '%s'", tmpdir,
	         format, out);
	if (system(cmd) != 0)
		return NULL;
	return read_all(out, len);
}

struct expect {
	const char *name;
	uint32_t type;
	const void *data;
	size_t size;
};

static const struct expect tree_entries[] = {
	{ "a.txt", S_IFREG, "alpha\n", 6 },
	{ "dir", S_IFDIR, NULL, 0 },
	{ "dir/b.bin", S_IFREG, big, sizeof(big) },
	{ "dir/sub", S_IFDIR, NULL, 0 },
	{ "dir/sub/c", S_IFREG, "", 0 },
	{ "edir", S_IFDIR, NULL, 0 },
	{ "lnk", S_IFLNK, "a.txt", 5 },
};

static void check_tree_archive(const uint8_t *buf, size_t len)
{
	struct cpio_iter it;
	struct cpio_entry e;
	size_t i = 0;
	cpio_iter_init(&it, buf, len);
	int rc;
	while ((rc = cpio_next(&it, &e)) > 0) {
		REQUIRE(i < sizeof(tree_entries) / sizeof(tree_entries[0]));
		const struct expect *x = &tree_entries[i++];
		CHECK(e.name_len == strlen(x->name) && memcmp(e.name, x->name, e.name_len) == 0);
		CHECK_EQ(e.mode & S_IFMT, x->type);
		if (x->type != S_IFDIR) {
			CHECK_EQ(e.size, x->size);
			CHECK(e.size == x->size && memcmp(e.data, x->data, x->size) == 0);
		}
		CHECK((const uint8_t *)e.data >= buf &&
		      (const uint8_t *)e.data + e.size <= buf + len);
	}
	CHECK_EQ(rc, 0);
	CHECK_STR(it.err, "");
	CHECK_EQ(i, sizeof(tree_entries) / sizeof(tree_entries[0]));
	CHECK_EQ(cpio_next(&it, &e), 0); /* stays at the end */
}

TEST(gnu_newc)
{
	size_t len;
	uint8_t *a = gnu_archive("newc", &len);
	REQUIRE(a != NULL);
	uint8_t *copy = exact_copy(a, len);
	check_tree_archive(copy, len);
	free(copy);
	free(a);
}

TEST(gnu_crc)
{
	size_t len;
	uint8_t *a = gnu_archive("crc", &len);
	REQUIRE(a != NULL);
	REQUIRE(len > 6 && memcmp(a, "070702", 6) == 0);
	check_tree_archive(a, len);
	/* One flipped data byte breaks the checksum. */
	uint8_t *p = memmem(a, len, "alpha", 5);
	REQUIRE(p != NULL);
	p[0] = 'A';
	char err[CPIO_ERR_MAX];
	CHECK_EQ(walk_all(a, len, NULL, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "checksum") != NULL);
	free(a);
}

/* Two archives one after the other (with cpio's NUL padding between) read as one. */
TEST(gnu_concatenated)
{
	size_t len;
	uint8_t *a = gnu_archive("newc", &len);
	REQUIRE(a != NULL);
	uint8_t *two = malloc(2 * len);
	REQUIRE(two != NULL);
	memcpy(two, a, len);
	memcpy(two + len, a, len);
	unsigned n;
	CHECK_EQ(walk_all(two, 2 * len, &n, NULL, 0), 0);
	CHECK_EQ(n, 2 * (sizeof(tree_entries) / sizeof(tree_entries[0])));
	free(two);
	free(a);
}

/* Every prefix of a real archive is refused (or, once past the trailer, read whole), and is
 * read from a block of exactly its size. */
TEST(gnu_prefixes)
{
	size_t len;
	uint8_t *a = gnu_archive("newc", &len);
	REQUIRE(a != NULL);
	/* Where the trailer entry ends: its name + padding; the rest is NUL padding. */
	uint8_t *t = memmem(a, len, "TRAILER!!!", 10);
	REQUIRE(t != NULL);
	size_t trailer_end = (size_t)(t - a) + 11;
	struct ar whole = { a, len, len };
	unsigned bad = 0;
	for (size_t n = 0; n < len; n++) {
		char err[CPIO_ERR_MAX];
		int rc = walk_copy(&whole, n, err, sizeof(err));
		int want = n >= trailer_end ? 0 : -EINVAL;
		if (rc != want || (rc < 0 && err[0] == '\0'))
			bad++;
	}
	CHECK_EQ(bad, 0);
	free(a);
}

/* ---- hand-made archives --------------------------------------------------------------------- */

TEST(names_normalized)
{
	struct ar a = { 0 };
	ar_entry(&a, ".", S_IFDIR | 0755, NULL);
	ar_entry(&a, "./", S_IFDIR | 0755, NULL);
	ar_entry(&a, "/", S_IFDIR | 0755, NULL);
	ar_entry(&a, "./x", S_IFREG | 0644, "1");
	ar_entry(&a, "/y", S_IFREG | 0644, "2");
	ar_entry(&a, "//././z/./w//", S_IFREG | 0644, "3");
	ar_entry(&a, "..a/b..", S_IFREG | 0644, "4"); /* dots inside a name are fine */
	ar_trailer(&a);
	struct cpio_iter it;
	struct cpio_entry e;
	const char *want[] = { "x", "y", "z/./w//", "..a/b.." };
	cpio_iter_init(&it, a.buf, a.len);
	for (int i = 0; i < 4; i++) {
		REQUIRE(cpio_next(&it, &e) == 1);
		CHECK(e.name_len == strlen(want[i]) && memcmp(e.name, want[i], e.name_len) == 0);
	}
	CHECK_EQ(cpio_next(&it, &e), 0);
	/* Components of "z/./w//": z, w. */
	const char *p = "z/./w//", *end = p + 7, *c;
	size_t clen;
	CHECK(cpio_name_next(&p, end, &c, &clen) && clen == 1 && c[0] == 'z');
	CHECK(cpio_name_next(&p, end, &c, &clen) && clen == 1 && c[0] == 'w');
	CHECK(!cpio_name_next(&p, end, &c, &clen));
	free(a.buf);
}

/* Builds an archive with one malformed entry after a good one; must give -EINVAL with a
 * message that contains `needle`. */
static void expect_bad(const struct ar *a, const char *needle)
{
	char err[CPIO_ERR_MAX];
	int rc = walk_copy(a, a->len, err, sizeof(err));
	CHECK_EQ(rc, -EINVAL);
	if (!strstr(err, needle)) {
		fprintf(stderr, "  error '%s' does not say '%s'\n", err, needle);
		test_failed_++;
	}
	free(a->buf);
}

static struct ar good_start(void)
{
	struct ar a = { 0 };
	ar_entry(&a, "ok", S_IFREG | 0644, "fine");
	return a;
}

TEST(bad_magic)
{
	struct ar a = good_start();
	ar_entry_raw(&a, "070707", "x", -1, S_IFREG, "", 0, 1, 1, 0);
	ar_trailer(&a);
	expect_bad(&a, "magic");
}

TEST(bad_hex)
{
	struct ar a = good_start();
	size_t at = a.len;
	ar_entry(&a, "x", S_IFREG, "data");
	ar_trailer(&a);
	a.buf[at + 6 + 8 * 6 + 3] = 'g'; /* filesize */
	expect_bad(&a, "hex");
	a = good_start();
	at = a.len;
	ar_entry(&a, "x", S_IFREG, "data");
	ar_trailer(&a);
	a.buf[at + 6 + 8 * 11] = ' '; /* namesize */
	expect_bad(&a, "hex");
	a = good_start();
	at = a.len;
	ar_entry(&a, "x", S_IFREG, "data");
	a.buf[at + 6] = '-';
	expect_bad(&a, "hex");
}

TEST(bad_namesize)
{
	struct ar a = good_start();
	ar_entry_raw(&a, "070701", "x", 0, S_IFREG, NULL, 0, 1, 1, 0);
	ar_trailer(&a);
	expect_bad(&a, "namesize is 0");

	a = good_start();
	ar_entry_raw(&a, "070701", "xyz", 2, S_IFREG, NULL, 0, 1, 1, 0); /* "xy", no NUL */
	ar_trailer(&a);
	expect_bad(&a, "NUL-terminated");

	a = good_start();
	ar_entry_raw(&a, "070701", "x", 0x7fffffff, S_IFREG, NULL, 0, 1, 1, 0);
	expect_bad(&a, "runs past the end");

	a = good_start();
	ar_entry_raw(&a, "070701", "x", 0xffffffffL, S_IFREG, NULL, 0, 1, 1, 0);
	expect_bad(&a, "runs past the end");

	a = good_start();
	size_t at = a.len;
	ar_entry_raw(&a, "070701", "ab", -1, S_IFREG, NULL, 0, 1, 1, 0);
	a.buf[at + CPIO_HEADER_SIZE] = '\0'; /* "\0b\0" */
	ar_trailer(&a);
	expect_bad(&a, "NUL inside");
}

TEST(bad_filesize)
{
	struct ar a = good_start();
	ar_entry_raw(&a, "070701", "x", -1, S_IFREG, "abc", 3, 1, 1, 0);
	ar_trailer(&a);
	/* Patch filesize to 0xffffffff. */
	uint8_t *h = memmem(a.buf + 8, a.len - 8, "070701", 6);
	REQUIRE(h != NULL);
	memcpy(h + 6 + 8 * 6, "FFFFFFFF", 8);
	expect_bad(&a, "runs past the end");

	a = good_start();
	ar_entry_raw(&a, "070701", "x", -1, S_IFREG, "abc", 3, 1, 1, 0);
	h = memmem(a.buf + 8, a.len - 8, "070701", 6);
	REQUIRE(h != NULL);
	memcpy(h + 6 + 8 * 6, "00000005", 8); /* 5 bytes, 4 left: ends past the buffer */
	expect_bad(&a, "runs past the end");
}

TEST(bad_names)
{
	struct ar a = good_start();
	ar_entry(&a, "a/../b", S_IFREG, "x");
	ar_trailer(&a);
	expect_bad(&a, "'..'");

	a = good_start();
	ar_entry(&a, "..", S_IFDIR, NULL);
	ar_trailer(&a);
	expect_bad(&a, "'..'");

	a = good_start();
	ar_entry(&a, "./../etc/passwd", S_IFREG, "x");
	ar_trailer(&a);
	expect_bad(&a, "'..'");

	char name[300];
	memset(name, 'n', 256);
	name[256] = '\0';
	a = good_start();
	ar_entry(&a, name, S_IFREG, "x");
	ar_trailer(&a);
	expect_bad(&a, "component");

	name[255] = '\0'; /* exactly FS_NAME_MAX: fine */
	a = good_start();
	ar_entry(&a, name, S_IFREG, "x");
	ar_trailer(&a);
	CHECK_EQ(walk_copy(&a, a.len, NULL, 0), 0);
	free(a.buf);

	char *path = malloc(FS_PATH_MAX + 1);
	REQUIRE(path != NULL);
	for (int i = 0; i < FS_PATH_MAX; i++)
		path[i] = i % 10 == 9 ? '/' : 'p';
	path[FS_PATH_MAX] = '\0';
	a = good_start();
	ar_entry(&a, path, S_IFREG, "x");
	ar_trailer(&a);
	expect_bad(&a, "name is");
	free(path);
}

TEST(bad_structure)
{
	struct ar a = good_start();
	expect_bad(&a, "without a TRAILER"); /* no trailer */

	a = good_start();
	ar_trailer(&a);
	char junk[CPIO_HEADER_SIZE + 8];
	memset(junk, 'j', sizeof(junk));
	ar_put(&a, junk, sizeof(junk));
	expect_bad(&a, "magic"); /* non-NUL bytes after the trailer are not an archive */

	a = good_start();
	ar_trailer(&a);
	ar_put(&a, "\0\0\0", 3);
	ar_entry(&a, "late", S_IFREG, "x");
	ar_trailer(&a);
	expect_bad(&a, "aligned");

	a = good_start();
	ar_entry_raw(&a, "070702", "x", -1, S_IFREG, "abc", 3, 1, 1, 'a' + 'b' + 'c' + 1);
	ar_trailer(&a);
	expect_bad(&a, "checksum");

	a = (struct ar){ 0 };
	ar_put(&a, "0707", 4);
	expect_bad(&a, "cut short");

	uint8_t one = 0;
	char err[CPIO_ERR_MAX];
	CHECK_EQ(walk_all(&one, 0, NULL, err, sizeof(err)), -EINVAL); /* empty */
	CHECK(err[0] != '\0');
}

TEST(good_crc_and_padding)
{
	struct ar a = { 0 };
	ar_entry_raw(&a, "070702", "x", -1, S_IFREG, "abc", 3, 1, 1, 'a' + 'b' + 'c');
	ar_trailer(&a);
	ar_put(&a, "\0\0\0\0\0\0\0\0", 8); /* block padding after the trailer */
	unsigned n;
	CHECK_EQ(walk_copy(&a, a.len, NULL, 0), 0);
	CHECK_EQ(walk_all(a.buf, a.len, &n, NULL, 0), 0);
	CHECK_EQ(n, 1);
	/* The trailer as the very last bytes, its padding cut off: still complete. */
	struct ar b = { 0 };
	ar_entry(&b, "y", S_IFREG, "z");
	ar_entry_raw(&b, "070701", "TRAILER!!!", -1, 0, NULL, 0, 0, 1, 0);
	CHECK_EQ(walk_copy(&b, b.len - 1, NULL, 0), 0); /* "TRAILER!!!\0" + 1 pad byte */
	free(a.buf);
	free(b.buf);
}

/* ---- ramfs ------------------------------------------------------------------------------------ */

static uint64_t lookup_path(const struct ramfs *fs, const char *path, int *err)
{
	uint64_t ino = ramfs_root(fs);
	const char *p = path, *end = path + strlen(path), *c;
	size_t len;
	*err = 0;
	while (cpio_name_next(&p, end, &c, &len)) {
		*err = ramfs_ops.lookup(NULL, ino, c, len, &ino);
		if (*err)
			return 0;
	}
	return ino;
}

static void read_whole(const struct ramfs *fs, const char *path, char *out, size_t cap)
{
	int err;
	uint64_t ino = lookup_path(fs, path, &err);
	out[0] = '\0';
	if (err)
		return;
	ssize_t n = ramfs_ops.read(NULL, ino, 0, out, cap - 1);
	out[n > 0 ? n : 0] = '\0';
}

TEST(ramfs_tree)
{
	struct ar a = { 0 };
	ar_entry(&a, "dup", S_IFREG | 0644, "first");
	ar_entry(&a, "d/e/f/deep", S_IFREG | 0600, "deep"); /* implied d, d/e, d/e/f */
	ar_entry(&a, "d", S_IFDIR | 0700, NULL);            /* d again: keeps e */
	ar_entry(&a, "dup", S_IFREG | 0644, "second");      /* later wins */
	ar_entry(&a, "zz", S_IFREG | 0644, "z");
	ar_entry(&a, "aa", S_IFREG | 0644, "a");
	ar_entry(&a, "dev", S_IFCHR | 0600, NULL); /* skipped */
	ar_entry(&a, "ln", S_IFLNK | 0777, "zz");
	ar_entry(&a, "f2d", S_IFREG | 0644, "file");  /* a file ... */
	ar_entry(&a, "f2d/in", S_IFREG | 0644, "in"); /* ... replaced by an implied dir */
	ar_entry(&a, "d2f", S_IFDIR | 0755, NULL);    /* a dir ... */
	ar_entry(&a, "d2f/gone", S_IFREG | 0644, "gone");
	ar_entry(&a, "d2f", S_IFREG | 0644, "now a file"); /* ... replaced by a file */
	/* Hard links, GNU cpio style: data with the last name only. */
	ar_entry_raw(&a, "070701", "h1", -1, S_IFREG | 0644, NULL, 0, 77, 2, 0);
	ar_entry_raw(&a, "070701", "h2", -1, S_IFREG | 0644, "linked", 6, 77, 2, 0);
	ar_trailer(&a);

	struct ramfs *fs;
	char err[128], buf[64];
	REQUIRE(ramfs_build(a.buf, a.len, &fs, err, sizeof(err)) == 0);
	CHECK_STR(err, "");
	read_whole(fs, "dup", buf, sizeof(buf));
	CHECK_STR(buf, "second");
	read_whole(fs, "d/e/f/deep", buf, sizeof(buf));
	CHECK_STR(buf, "deep");
	read_whole(fs, "f2d/in", buf, sizeof(buf));
	CHECK_STR(buf, "in");
	read_whole(fs, "d2f", buf, sizeof(buf));
	CHECK_STR(buf, "now a file");
	read_whole(fs, "h1", buf, sizeof(buf));
	CHECK_STR(buf, "linked");
	read_whole(fs, "h2", buf, sizeof(buf));
	CHECK_STR(buf, "linked");

	int e;
	struct fs_stat st;
	uint64_t d = lookup_path(fs, "d", &e);
	CHECK(e == 0 && ramfs_ops.stat(NULL, d, &st) == 0);
	CHECK_EQ(st.mode, S_IFDIR | 0700);
	CHECK_EQ(st.nlink, 3); /* ., its name, e/.. */
	uint64_t h1 = lookup_path(fs, "h1", &e), h2 = lookup_path(fs, "h2", &e);
	CHECK(h1 == h2);
	CHECK(ramfs_ops.stat(NULL, h1, &st) == 0 && st.nlink == 2 && st.size == 6);
	lookup_path(fs, "dev", &e);
	CHECK_EQ(e, -ENOENT);
	lookup_path(fs, "d2f/gone", &e);
	CHECK_EQ(e, -ENOTDIR);
	lookup_path(fs, "ln/x", &e);
	CHECK_EQ(e, -ELOOP);
	uint64_t ln = lookup_path(fs, "ln", &e);
	CHECK(e == 0 && ramfs_ops.stat(NULL, ln, &st) == 0 && st.mode == (S_IFLNK | 0777));
	CHECK(ramfs_ops.read(NULL, d, 0, buf, sizeof(buf)) == -EISDIR);
	CHECK(ramfs_ops.read(NULL, h1, 6, buf, sizeof(buf)) == 0);
	CHECK(ramfs_ops.read(NULL, h1, 1000, buf, sizeof(buf)) == 0);
	CHECK(ramfs_ops.read(NULL, h1, 2, buf, 3) == 3 && memcmp(buf, "nke", 3) == 0);

	/* readdir: ".", "..", then names in byte order. */
	const char *want[] = { ".", "..", "aa", "d", "d2f", "dup", "f2d", "h1", "h2", "ln", "zz" };
	const uint8_t types[] = { DT_DIR, DT_DIR, DT_REG, DT_DIR, DT_REG, DT_REG,
		                  DT_DIR, DT_REG, DT_REG, DT_LNK, DT_REG };
	uint64_t cookie = 0;
	struct fs_dirent de;
	size_t i = 0;
	int rc;
	while ((rc = ramfs_ops.readdir(NULL, ramfs_root(fs), &cookie, &de)) == 1) {
		REQUIRE(i < sizeof(want) / sizeof(want[0]));
		CHECK_STR(de.name, want[i]);
		CHECK_EQ(de.type, types[i]);
		i++;
	}
	CHECK_EQ(rc, 0);
	CHECK_EQ(i, sizeof(want) / sizeof(want[0]));
	CHECK_EQ(ramfs_ops.readdir(NULL, h1, &cookie, &de), -ENOTDIR);

	struct ramfs_info info;
	ramfs_info(fs, &info);
	CHECK_EQ(info.files, 7); /* dup, d/e/f/deep, zz, aa, f2d/in, d2f, h1 = h2 */
	CHECK_EQ(info.symlinks, 1);
	CHECK_EQ(info.skipped, 1);
	CHECK_EQ(info.dirs, 5); /* root, d, d/e, d/e/f, f2d */
	CHECK_EQ(info.bytes, strlen("second") + 4 + 1 + 1 + 2 + strlen("now a file") + 6);
	ramfs_free(fs);
	free(a.buf);
	CHECK_EQ(live_blocks, 0);
}

TEST(ramfs_fs_stat_numbers)
{
	struct ar a = { 0 };
	ar_entry(&a, "b", S_IFREG | 0644, "b");
	ar_entry(&a, "a/x", S_IFREG | 0644, "x");
	ar_trailer(&a);
	struct ramfs *fs;
	char err[128];
	REQUIRE(ramfs_build(a.buf, a.len, &fs, err, sizeof(err)) == 0);
	struct fs_stat st;
	int e;
	CHECK(ramfs_ops.stat(NULL, ramfs_root(fs), &st) == 0 && st.ino == 1);
	CHECK(ramfs_ops.stat(NULL, lookup_path(fs, "a", &e), &st) == 0 && st.ino == 2);
	CHECK(ramfs_ops.stat(NULL, lookup_path(fs, "b", &e), &st) == 0 && st.ino == 3);
	CHECK(ramfs_ops.stat(NULL, lookup_path(fs, "a/x", &e), &st) == 0 && st.ino == 4);
	CHECK_EQ(st.mtime, 1234567);
	ramfs_free(fs);
	free(a.buf);
}

TEST(ramfs_empty_and_bad)
{
	struct ramfs *fs;
	char err[128];
	REQUIRE(ramfs_build(NULL, 0, &fs, err, sizeof(err)) == 0);
	uint64_t cookie = 0;
	struct fs_dirent de;
	CHECK_EQ(ramfs_ops.readdir(NULL, ramfs_root(fs), &cookie, &de), 1);
	CHECK_EQ(ramfs_ops.readdir(NULL, ramfs_root(fs), &cookie, &de), 1);
	CHECK_EQ(ramfs_ops.readdir(NULL, ramfs_root(fs), &cookie, &de), 0);
	uint64_t ino;
	CHECK_EQ(ramfs_ops.lookup(NULL, ramfs_root(fs), "x", 1, &ino), -ENOENT);
	ramfs_free(fs);

	struct ar a = good_start();
	ar_entry(&a, "a/../b", S_IFREG, "x");
	ar_trailer(&a);
	fs = (struct ramfs *)1;
	CHECK_EQ(ramfs_build(a.buf, a.len, &fs, err, sizeof(err)), -EINVAL);
	CHECK(fs == NULL);
	CHECK(strstr(err, "'..'") != NULL);
	free(a.buf);
	CHECK_EQ(live_blocks, 0);
}

/* Every allocation of a build fails in turn: -ENOMEM, a message, nothing leaked. */
TEST(ramfs_out_of_memory)
{
	size_t len;
	uint8_t *a = gnu_archive("newc", &len);
	REQUIRE(a != NULL);
	unsigned failures = 0;
	for (long n = 0;; n++) {
		struct ramfs *fs;
		char err[128];
		alloc_countdown = n;
		int rc = ramfs_build(a, len, &fs, err, sizeof(err));
		alloc_countdown = -1;
		if (rc == 0) {
			ramfs_free(fs);
			break;
		}
		CHECK_EQ(rc, -ENOMEM);
		CHECK(strstr(err, "out of memory") != NULL);
		CHECK_EQ(live_blocks, 0);
		failures++;
		REQUIRE(n < 1000);
	}
	CHECK(failures >= 3); /* the ramfs, the hash table, a chunk */
	free(a);
}

/* A directory with many entries: sorted, each found by lookup. */
TEST(ramfs_many)
{
	struct ar a = { 0 };
	char name[32];
	for (unsigned i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "many/f%u", (i * 7919) % 5000);
		ar_entry(&a, name, S_IFREG | 0644, name);
	}
	ar_trailer(&a);
	struct ramfs *fs;
	char err[128];
	REQUIRE(ramfs_build(a.buf, a.len, &fs, err, sizeof(err)) == 0);
	int e;
	uint64_t dir = lookup_path(fs, "many", &e);
	REQUIRE(e == 0);
	uint64_t cookie = 2;
	struct fs_dirent prev = { 0 }, de;
	unsigned n = 0;
	while (ramfs_ops.readdir(NULL, dir, &cookie, &de) == 1) {
		CHECK(n == 0 || strcmp(prev.name, de.name) < 0);
		prev = de;
		n++;
	}
	CHECK_EQ(n, 5000);
	unsigned missing = 0;
	for (unsigned i = 0; i < 5000; i++) {
		char path[32], buf[32];
		snprintf(path, sizeof(path), "many/f%u", i);
		read_whole(fs, path, buf, sizeof(buf));
		missing += strcmp(buf, path) != 0;
	}
	CHECK_EQ(missing, 0);
	ramfs_free(fs);
	free(a.buf);
}

int main(int argc, char **argv)
{
	(void)argc;
	char self[4096], dir[PATH_MAX];
	snprintf(self, sizeof(self), "%s", argv[0]);
	if (!realpath(dirname(self), dir))
		return 1;
	snprintf(tmpdir, sizeof(tmpdir), "%s/cpio-tmp.%d", dir, (int)getpid());
	if (run("rm -rf '%s' && mkdir -p '%s/tree'", tmpdir) != 0)
		return 1;
	make_tree();
	RUN(gnu_newc);
	RUN(gnu_crc);
	RUN(gnu_concatenated);
	RUN(gnu_prefixes);
	RUN(names_normalized);
	RUN(bad_magic);
	RUN(bad_hex);
	RUN(bad_namesize);
	RUN(bad_filesize);
	RUN(bad_names);
	RUN(bad_structure);
	RUN(good_crc_and_padding);
	RUN(ramfs_tree);
	RUN(ramfs_fs_stat_numbers);
	RUN(ramfs_empty_and_bad);
	RUN(ramfs_out_of_memory);
	RUN(ramfs_many);
	run("rm -rf '%s'", tmpdir);
	TEST_EXIT();
}
