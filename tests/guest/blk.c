/*
 * blk - virtio-blk with a request queue per core (tests/run boots it with an empty 16 MiB disk).
 *
 *  blk_found         the disk is there, with the size the host gave it
 *  blk_every_core    threads on every core at once write, flush and read back their own
 *                    region in requests of several sizes (one sector up to 200 KiB, split by
 *                    the driver), from heap and from stack buffers (bounced); every byte checks
 *  blk_bounds        a request past the end of the disk is -EINVAL, nothing is written
 *                    and counted them in its own statistics
 */
#include <stdio.h>
#include <string.h>
#include <isle/core.h>
#include <isle/errno.h>
#include <isle/mem.h>
#include <isle/thread.h>
#include "fs/virtio_blk.h"
#include "gtest.h"

#define MAX_NCORES 64
#define DISK_SECTORS (16 * 2048)
#define REGION (DISK_SECTORS / MAX_NCORES) /* sectors each core may use: 256 (128 KiB) */

static struct blkdev *disk;

static void fill(uint8_t *p, size_t n, unsigned core, uint64_t sector, unsigned round)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(core * 31 + (sector + i / 512) * 7 + i + round * 13);
}

static int core_io(void *arg)
{
	(void)arg;
	unsigned c = core_id();
	uint64_t base = (uint64_t)c * REGION;
	static const size_t sizes[] = { 1, 3, 8, 64, 255 };
	size_t max = 255 * 512;
	uint8_t *w = kmalloc(max), *r = kmalloc(max);
	CHECK(w && r);
	if (!w || !r)
		return 1;
	for (unsigned round = 0; round < 5; round++) {
		size_t n = sizes[round];
		fill(w, n * 512, c, base, round);
		int err = disk->write(disk, base, w, n);
		CHECKF(err == 0, "core %u write of %zu sectors: %d", c, n, err);
		CHECK(disk->flush(disk) == 0);
		memset(r, 0, n * 512);
		err = disk->read(disk, base, r, n);
		CHECKF(err == 0, "core %u read of %zu sectors: %d", c, n, err);
		CHECKF(memcmp(w, r, n * 512) == 0, "core %u: %zu sectors read back differ", c, n);
	}
	/* a stack buffer: not identity-mapped, the driver bounces it */
	uint8_t onstack[1024];
	fill(onstack, sizeof(onstack), c, base + 1, 9);
	CHECK(disk->write(disk, base + 1, onstack, 2) == 0);
	memset(r, 0, 1024);
	CHECK(disk->read(disk, base + 1, r, 2) == 0);
	CHECK(memcmp(onstack, r, 1024) == 0);
	memset(onstack, 0, sizeof(onstack));
	CHECK(disk->read(disk, base + 1, onstack, 2) == 0);
	CHECK(memcmp(onstack, r, 1024) == 0);
	kfree(w);
	kfree(r);
	struct vblk_stats st;
	vblk_stats(0, &st);
	CHECKF(st.writes >= 6 && st.reads >= 7 && st.flushes >= 5 && st.errors == 0,
	       "core %u: %lu reads, %lu writes, %lu flushes, %lu errors", c, st.reads, st.writes,
	       st.flushes, st.errors);
	return 0;
}

int main(void)
{
	gtest_begin("blk_found");
	CHECKF(vblk_count() == 1, "%u disks", vblk_count());
	disk = vblk_get(0);
	CHECK(disk != NULL);
	if (disk)
		CHECKF(disk->sectors == DISK_SECTORS, "%lu sectors", disk->sectors);
	gtest_end();
	if (!disk || disk->sectors != DISK_SECTORS)
		return gtest_status();

	gtest_begin("blk_every_core");
	struct thread *t[MAX_NCORES];
	for (unsigned c = 0; c < core_count(); c++)
		CHECK((t[c] = thread_create(c, core_io, NULL)) != NULL);
	for (unsigned c = 0; c < core_count(); c++) {
		int ret = -1;
		if (t[c]) {
			CHECK(thread_join(t[c], &ret) == 0);
			CHECK(ret == 0);
		}
	}
	/* one big request, split by the driver into 64 KiB pieces */
	size_t big = 400; /* sectors: 200 KiB */
	uint8_t *w = kmalloc(big * 512), *r = kmalloc(big * 512);
	CHECK(w && r);
	if (w && r) {
		uint64_t at = DISK_SECTORS - big;
		fill(w, big * 512, 99, at, 1);
		CHECK(disk->write(disk, at, w, big) == 0);
		CHECK(disk->read(disk, at, r, big) == 0);
		CHECK(memcmp(w, r, big * 512) == 0);
	}
	gtest_end();

	gtest_begin("blk_bounds");
	if (w && r) {
		CHECK(disk->write(disk, DISK_SECTORS - 1, w, 2) == -EINVAL);
		CHECK(disk->read(disk, DISK_SECTORS, r, 1) == -EINVAL);
		CHECK(disk->read(disk, ~0ull, r, 1) == -EINVAL);
		CHECK(disk->read(disk, DISK_SECTORS - 1, r, 1) == 0);
	}
	gtest_end();
	kfree(w);
	kfree(r);
	return gtest_status();
}
