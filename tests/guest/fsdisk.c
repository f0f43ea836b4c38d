/*
 * fsdisk - files on an ext2 disk through the VFS, from every core at once, across a reboot.
 *
 * tests/run makes the disk with `mke2fs -d` from a folder holding seed.txt (one line) and
 * big.bin (300000 bytes of pattern(i, 1)), boots this image with argument "write", boots it again
 * with "verify" on the same disk, then runs `e2fsck -fn` on it.
 *
 * write:
 *  disk_mounted      /disk is an ext2 directory; the initrd root is read-only (-EROFS)
 *  disk_seed         the files mke2fs put there read back right, whole and at offsets
 *  disk_every_core   a thread on every core at once makes /disk/c<N>/, writes files of several
 *                    sizes there (1 byte .. 200 KiB, pieces of odd lengths), fsyncs, reads them
 *                    back, appends, truncates, renames one and unlinks another; every byte checks
 *  disk_errors       ENOENT, EEXIST (O_EXCL), ENOTEMPTY, EISDIR, ENOTDIR, EXDEV, EBADF
 *  disk_readdir      readdir of /disk lists the seed files and every core's directory
 * verify:
 *  disk_persisted    after the reboot, every file the write phase left is there with its bytes,
 *                    and what it deleted is gone
 */
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/fs.h>
#include <isle/mem.h>
#include <isle/thread.h>
#include "gtest.h"

#define MAX_NCORES 64
#define BIG_SEED 300000

static const size_t sizes[] = { 1, 100, 4095, 4096, 4097, 70000, 200000 };
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static uint8_t pattern(size_t i, unsigned seed)
{
	return (uint8_t)(i * 7 + seed * 13 + (i >> 9));
}

static void fill(uint8_t *p, size_t off, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pattern(off + i, seed);
}

/* Reads the whole file at path and checks it is size bytes of pattern(., seed). */
static bool check_file(const char *path, size_t size, unsigned seed)
{
	int fd = fs_open(path, O_RDONLY, 0);
	CHECKF(fd >= 0, "open %s: %d", path, fd);
	if (fd < 0)
		return false;
	struct fs_stat st;
	CHECK(fs_fstat(fd, &st) == 0);
	CHECKF(st.size == size, "%s: size %lu, want %zu", path, st.size, size);
	uint8_t *buf = kmalloc(8192);
	size_t off = 0;
	bool good = buf != NULL;
	while (good) {
		ssize_t n = fs_read(fd, buf, 3000 + (off % 5000)); /* odd piece sizes */
		if (n <= 0) {
			CHECKF(n == 0, "read %s at %zu: %zd", path, off, n);
			good = n == 0;
			break;
		}
		for (ssize_t i = 0; i < n && good; i++)
			if (buf[i] != pattern(off + (size_t)i, seed)) {
				CHECKF(0, "%s: byte %zu differs", path, off + (size_t)i);
				good = false;
			}
		off += (size_t)n;
	}
	CHECKF(off == size, "%s: read %zu bytes, want %zu", path, off, size);
	kfree(buf);
	fs_close(fd);
	return good && off == size;
}

/* Writes size bytes of pattern(., seed) to path in pieces of odd lengths. */
static int write_file(const char *path, size_t size, unsigned seed)
{
	int fd = fs_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECKF(fd >= 0, "create %s: %d", path, fd);
	if (fd < 0)
		return fd;
	uint8_t *buf = kmalloc(7000);
	size_t off = 0;
	while (buf && off < size) {
		size_t n = size - off < 6999 - (off % 3000) ? size - off : 6999 - (off % 3000);
		fill(buf, off, n, seed);
		ssize_t w = fs_write(fd, buf, n);
		CHECKF(w == (ssize_t)n, "write %s at %zu: %zd", path, off, w);
		if (w != (ssize_t)n)
			break;
		off += n;
	}
	kfree(buf);
	CHECK(fs_fsync(fd) == 0);
	CHECK(fs_close(fd) == 0);
	return off == size ? 0 : -EIO;
}

/* ---- write phase ------------------------------------------------------------------------ */

static int core_files(void *arg)
{
	(void)arg;
	unsigned c = core_id();
	char dir[32], path[64], path2[64];
	snprintf(dir, sizeof(dir), "/disk/c%u", c);
	int err = fs_mkdir(dir, 0755);
	CHECKF(err == 0, "mkdir %s: %d", dir, err);
	for (unsigned i = 0; i < NSIZES; i++) {
		snprintf(path, sizeof(path), "%s/f%u", dir, i);
		write_file(path, sizes[i], c * 16 + i);
		check_file(path, sizes[i], c * 16 + i);
	}
	/* append: f1 grows from 100 to 100 + 5000 bytes, continuing the pattern */
	snprintf(path, sizeof(path), "%s/f1", dir);
	int fd = fs_open(path, O_WRONLY | O_APPEND, 0);
	CHECK(fd >= 0);
	uint8_t *buf = kmalloc(5000);
	if (fd >= 0 && buf) {
		fill(buf, 100, 5000, c * 16 + 1);
		CHECK(fs_write(fd, buf, 5000) == 5000);
		CHECK(fs_close(fd) == 0);
	}
	kfree(buf);
	check_file(path, 5100, c * 16 + 1);
	/* truncate f5 (70000) to 5000 */
	snprintf(path, sizeof(path), "%s/f5", dir);
	fd = fs_open(path, O_RDWR, 0);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(fs_ftruncate(fd, 5000) == 0);
		CHECK(fs_fsync(fd) == 0);
		CHECK(fs_close(fd) == 0);
	}
	check_file(path, 5000, c * 16 + 5);
	/* rename f2 -> renamed, unlink f3 */
	snprintf(path, sizeof(path), "%s/f2", dir);
	snprintf(path2, sizeof(path2), "%s/renamed", dir);
	CHECK(fs_rename(path, path2) == 0);
	struct fs_stat st;
	CHECK(fs_stat(path, &st) == -ENOENT);
	check_file(path2, sizes[2], c * 16 + 2);
	snprintf(path, sizeof(path), "%s/f3", dir);
	CHECK(fs_unlink(path) == 0);
	CHECK(fs_stat(path, &st) == -ENOENT);
	return 0;
}

static void run_everywhere(thread_fn fn)
{
	struct thread *t[MAX_NCORES];
	for (unsigned c = 0; c < core_count(); c++)
		CHECK((t[c] = thread_create(c, fn, NULL)) != NULL);
	for (unsigned c = 0; c < core_count(); c++) {
		int ret = -1;
		if (t[c]) {
			CHECK(thread_join(t[c], &ret) == 0);
			CHECK(ret == 0);
		}
	}
}

static void write_phase(void)
{
	struct fs_stat st;

	gtest_begin("disk_mounted");
	CHECK(fs_stat("/disk", &st) == 0 && S_ISDIR(st.mode));
	CHECK(fs_open("/new-on-initrd", O_WRONLY | O_CREAT, 0644) == -EROFS);
	gtest_end();

	gtest_begin("disk_seed");
	char line[64] = "";
	int fd = fs_open("/disk/seed.txt", O_RDONLY, 0);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(fs_read(fd, line, sizeof(line) - 1) == 22);
		CHECK(strcmp(line, "isle ext2 seed file 1\n") == 0);
		fs_close(fd);
	}
	check_file("/disk/big.bin", BIG_SEED, 1);
	fd = fs_open("/disk/big.bin", O_RDONLY, 0);
	uint8_t b[16];
	if (fd >= 0) {
		CHECK(fs_pread(fd, b, sizeof(b), 123457) == sizeof(b));
		for (unsigned i = 0; i < sizeof(b); i++)
			CHECK(b[i] == pattern(123457 + i, 1));
		CHECK(fs_lseek(fd, -1, SEEK_END) == BIG_SEED - 1);
		CHECK(fs_read(fd, b, sizeof(b)) == 1 && b[0] == pattern(BIG_SEED - 1, 1));
		CHECK(fs_read(fd, b, sizeof(b)) == 0);
		fs_close(fd);
	}
	gtest_end();

	gtest_begin("disk_every_core");
	run_everywhere(core_files);
	gtest_end();

	gtest_begin("disk_errors");
	CHECK(fs_open("/disk/none", O_RDONLY, 0) == -ENOENT);
	CHECK(fs_open("/disk/seed.txt", O_WRONLY | O_CREAT | O_EXCL, 0644) == -EEXIST);
	CHECK(fs_rmdir("/disk/c0") == -ENOTEMPTY);
	CHECK(fs_unlink("/disk/c0") == -EISDIR);
	CHECK(fs_open("/disk/seed.txt/x", O_RDONLY, 0) == -ENOTDIR);
	CHECK(fs_mkdir("/disk/c0", 0755) == -EEXIST);
	CHECK(fs_rename("/disk/seed.txt", "/moved.txt") == -EXDEV);
	fd = fs_open("/disk/seed.txt", O_RDONLY, 0);
	CHECK(fd >= 0);
	CHECK(fs_write(fd, "x", 1) == -EBADF);
	CHECK(fs_close(fd) == 0);
	CHECK(fs_close(fd) == -EBADF);
	CHECK(fs_mkdir("/disk/empty", 0755) == 0);
	CHECK(fs_rmdir("/disk/empty") == 0);
	gtest_end();

	gtest_begin("disk_readdir");
	fd = fs_open("/disk", O_RDONLY | O_DIRECTORY, 0);
	CHECK(fd >= 0);
	unsigned seen_seed = 0, seen_cores = 0, entries = 0;
	struct fs_dirent *de = kmalloc(sizeof(*de));
	while (fd >= 0 && de && fs_readdir(fd, de) == 1 && entries++ < 1000) {
		if (strcmp(de->name, "seed.txt") == 0 || strcmp(de->name, "big.bin") == 0)
			seen_seed++;
		if (de->name[0] == 'c' && de->type == DT_DIR)
			seen_cores++;
	}
	kfree(de);
	if (fd >= 0)
		fs_close(fd);
	CHECKF(seen_seed == 2 && seen_cores == core_count(), "seed %u, core dirs %u", seen_seed,
	       seen_cores);
	CHECK(fs_sync() == 0);
	gtest_end();
}

/* ---- verify phase (after a reboot) -------------------------------------------------------- */

static void verify_phase(void)
{
	char path[64];
	struct fs_stat st;

	gtest_begin("disk_persisted");
	check_file("/disk/big.bin", BIG_SEED, 1);
	for (unsigned c = 0; c < core_count(); c++) {
		for (unsigned i = 0; i < NSIZES; i++) {
			snprintf(path, sizeof(path), "/disk/c%u/f%u", c, i);
			if (i == 2 || i == 3) {
				CHECK(fs_stat(path, &st) == -ENOENT);
				continue;
			}
			size_t size = i == 1 ? 5100 : i == 5 ? 5000 : sizes[i];
			check_file(path, size, c * 16 + i);
		}
		snprintf(path, sizeof(path), "/disk/c%u/renamed", c);
		check_file(path, sizes[2], c * 16 + 2);
	}
	gtest_end();
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "write") == 0)
		write_phase();
	else if (argc == 2 && strcmp(argv[1], "verify") == 0)
		verify_phase();
	else
		printf("usage: fsdisk write|verify\n");
	return argc == 2 ? gtest_status() : 2;
}
