/*
 * fuzz_cpio.c - libFuzzer target for the cpio newc reader (fs/cpio.c) and the ramfs built from
 * it (fs/ramfs.c).
 *
 * An input whose first byte is odd is the archive itself, as it is (after that byte). An even
 * first byte makes the rest a list of entries, which are written as a well-formed archive (so
 * the ramfs gets deep trees, duplicates, hard links and odd types to build), and then a few of
 * its bytes are overwritten as the input says. Either way the archive is read from a heap block
 * of exactly its size, every entry is checked against the reader's promises (inside the
 * buffer, no ".." component, components of at most FS_NAME_MAX bytes), and when ramfs_build
 * accepts it the whole tree is walked: every name readdir gives is found by lookup, stat agrees
 * with readdir, every file reads back exactly its size, and the counts match ramfs_info.
 *
 *   make build/fuzz/fuzz_cpio && build/fuzz/fuzz_cpio -max_total_time=60
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isle/errno.h>
#include <isle/fs.h>
#include "fs/cpio.h"
#include "fs/ramfs.h"
#include "kernel/compiler.h"

#define ASSERT(c)                                                                           \
	do {                                                                                \
		if (!(c)) {                                                                 \
			__builtin_printf("assertion failed: %s (line %d)\n", #c, __LINE__); \
			abort();                                                            \
		}                                                                           \
	} while (0)

void *kmalloc(size_t size)
{
	return malloc(size ? size : 1);
}

void kfree(void *p)
{
	free(p);
}

/* ---- making an archive from a list of entries ---------------------------------------------- */

struct out {
	uint8_t *buf;
	size_t len, cap;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->len + n + 4 > o->cap) {
		o->cap = (o->len + n) * 2 + 512;
		o->buf = realloc(o->buf, o->cap);
		ASSERT(o->buf);
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static void pad(struct out *o)
{
	while (o->len % 4)
		put(o, "", 1);
}

static void entry(struct out *o, const char *name, size_t nlen, uint32_t mode, uint32_t ino,
                  uint32_t nlink, const uint8_t *data, size_t size)
{
	char h[CPIO_HEADER_SIZE + 1];
	snprintf(h, sizeof(h), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino,
	         mode, 0, 0, nlink, 0, (unsigned)size, 0, 0, 0, 0, (unsigned)nlen + 1, 0);
	put(o, h, CPIO_HEADER_SIZE);
	put(o, name, nlen);
	put(o, "", 1);
	pad(o);
	put(o, data, size);
	pad(o);
}

/* Records: type, name length, name bytes (mapped to "ab/.c"), data length, data. */
static void synthesize(const uint8_t *in, size_t len, struct out *o)
{
	static const uint32_t types[] = { S_IFREG, S_IFDIR, S_IFLNK, 0020000, S_IFREG };
	static const char alphabet[] = "ab/.c";
	size_t i = 0;
	while (i + 2 <= len) {
		uint8_t t = in[i++];
		size_t nlen = in[i++] % 24 + 1;
		if (i + nlen > len)
			break;
		char name[32];
		for (size_t k = 0; k < nlen; k++)
			name[k] = alphabet[in[i + k] % 5];
		i += nlen;
		size_t dlen = i < len ? in[i++] : 0;
		if (i + dlen > len)
			dlen = len - i;
		uint32_t mode = types[t % 5] | 0644;
		uint32_t nlink = t & 0x80 ? 2 : 1; /* hard links by ino */
		entry(o, name, nlen, mode, (t >> 3) & 3, nlink, in + i, dlen);
		i += dlen;
	}
	entry(o, "TRAILER!!!", 10, 0, 0, 1, NULL, 0);
}

/* ---- checks ---------------------------------------------------------------------------------- */

static void check_entries(const uint8_t *buf, size_t len)
{
	struct cpio_iter it;
	struct cpio_entry e;
	int rc;
	cpio_iter_init(&it, buf, len);
	while ((rc = cpio_next(&it, &e)) > 0) {
		const uint8_t *n = (const uint8_t *)e.name;
		const uint8_t *d = e.data;
		ASSERT(e.name_len >= 1 && e.name_len < FS_PATH_MAX);
		ASSERT(n >= buf && n + e.name_len <= buf + len);
		ASSERT(d >= buf && d <= buf + len && e.size <= (size_t)(buf + len - d));
		ASSERT(e.name[0] != '/');
		const char *p = e.name, *end = e.name + e.name_len, *c;
		size_t clen;
		unsigned comps = 0;
		while (cpio_name_next(&p, end, &c, &clen)) {
			ASSERT(clen >= 1 && clen <= FS_NAME_MAX);
			ASSERT(!(clen == 1 && c[0] == '.'));
			ASSERT(!(clen == 2 && c[0] == '.' && c[1] == '.'));
			comps++;
		}
		ASSERT(comps > 0); /* the root is never returned */
	}
	ASSERT(rc == 0 || rc == -EINVAL);
	ASSERT((rc == 0) == (it.err[0] == '\0'));
	struct cpio_entry e2;
	ASSERT(cpio_next(&it, &e2) == rc);
}

struct counts {
	size_t files, dirs, symlinks;
	uint64_t bytes;
};

static void walk_dir(uint64_t dir, uint64_t parent_ino, unsigned depth, struct counts *n)
{
	ASSERT(depth < FS_PATH_MAX);
	struct fs_stat st;
	ASSERT(ramfs_ops.stat(NULL, dir, &st) == 0 && S_ISDIR(st.mode));
	n->dirs++;
	uint64_t self_ino = st.ino, cookie = 0;
	struct fs_dirent de, prev = { 0 };
	unsigned i = 0, subdirs = 0;
	while (ramfs_ops.readdir(NULL, dir, &cookie, &de) == 1) {
		size_t len = strlen(de.name);
		if (i < 2) {
			ASSERT(strcmp(de.name, i == 0 ? "." : "..") == 0);
			ASSERT(de.ino == (i == 0 ? self_ino : parent_ino));
			i++;
			continue;
		}
		ASSERT(len >= 1 && len <= FS_NAME_MAX && !memchr(de.name, '/', len));
		ASSERT(i == 2 || strcmp(prev.name, de.name) < 0); /* sorted, no duplicates */
		prev = de;
		i++;
		uint64_t ino;
		ASSERT(ramfs_ops.lookup(NULL, dir, de.name, len, &ino) == 0);
		ASSERT(ramfs_ops.stat(NULL, ino, &st) == 0);
		ASSERT(st.ino == de.ino);
		if (S_ISDIR(st.mode)) {
			ASSERT(de.type == DT_DIR);
			subdirs++;
			walk_dir(ino, self_ino, depth + 1, n);
			continue;
		}
		if (S_ISREG(st.mode)) {
			ASSERT(de.type == DT_REG);
			static uint8_t buf[70000];
			ssize_t got = ramfs_ops.read(NULL, ino, 0, buf, sizeof(buf));
			ASSERT(got >= 0 && (uint64_t)got == MIN(st.size, sizeof(buf)));
			ASSERT(ramfs_ops.read(NULL, ino, st.size, buf, 1) == 0);
			uint64_t x;
			ASSERT(ramfs_ops.lookup(NULL, ino, "x", 1, &x) == -ENOTDIR);
			n->files++; /* a hard link counts once per name here */
			n->bytes += st.size;
		} else {
			ASSERT((st.mode & S_IFMT) == S_IFLNK && de.type == DT_LNK);
			uint64_t x;
			ASSERT(ramfs_ops.lookup(NULL, ino, "x", 1, &x) == -ELOOP);
			n->symlinks++;
		}
	}
	ASSERT(ramfs_ops.stat(NULL, dir, &st) == 0 && st.nlink == 2 + subdirs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct out o = { 0 };
	if (data[0] & 1) {
		put(&o, data + 1, size - 1);
	} else {
		/* The last quarter of the input patches bytes of the synthesized archive. */
		size_t body = 1 + (size - 1) * 3 / 4;
		synthesize(data + 1, body - 1, &o);
		for (size_t i = body; i + 2 < size && o.len; i += 3)
			o.buf[(data[i] | data[i + 1] << 8) % o.len] = data[i + 2];
	}
	uint8_t *archive = malloc(o.len ? o.len : 1);
	ASSERT(archive);
	memcpy(archive, o.buf, o.len);
	free(o.buf);

	check_entries(archive, o.len);
	struct ramfs *fs;
	char err[128];
	int rc = ramfs_build(archive, o.len, &fs, err, sizeof(err));
	ASSERT(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		struct counts n = { 0 };
		walk_dir(ramfs_root(fs), 1, 0, &n);
		struct ramfs_info info;
		ramfs_info(fs, &info);
		ASSERT(n.dirs == info.dirs && n.symlinks == info.symlinks);
		ASSERT(n.files >= info.files && n.bytes >= info.bytes);
		ramfs_free(fs);
	} else {
		ASSERT(fs == NULL && err[0] != '\0');
	}
	free(archive);
	return 0;
}
