/*
 * cpio.h - a reader of cpio "newc" archives (the Linux initramfs format).
 *
 * An archive is a sequence of entries, each a 110-byte ASCII header, the entry's name and its
 * data, and ends with an entry named "TRAILER!!!":
 *
 *   "070701" (or "070702": same, with the sum of a regular file's data bytes in `check`)
 *   13 fields of 8 hex digits: ino mode uid gid nlink mtime filesize devmajor devminor
 *                              rdevmajor rdevminor namesize check
 *   name: namesize bytes, the last one NUL; then NULs up to a multiple of 4 (from the start)
 *   data: filesize bytes; then NULs up to a multiple of 4
 *
 * Several archives may follow one another (as the kernel accepts for an initramfs); NUL bytes
 * between them, and after the last trailer, are skipped.
 *
 * The archive is untrusted input: the reader checks every field before using it and never
 * reads outside [buf, buf + len). Anything malformed ends the walk with -EINVAL and a one-line
 * message in it->err: bad magic, a non-hex digit, namesize 0 or a name without its final NUL
 * (or with a NUL inside), a name or data running past the end, a bad checksum, no trailer, a
 * name with a ".." component, a name component longer than FS_NAME_MAX or a name of FS_PATH_MAX
 * bytes or more. After an error cpio_next keeps returning the same error.
 *
 * Names are given as stored, minus any leading "/" and "./" (so "./etc/passwd", "/etc/passwd"
 * and "etc/passwd" are the same entry). They may still contain empty or "." components ("a//b",
 * "a/./b", "a/"): cpio_name_next() skips those. An entry whose name is the archive's root (".",
 * "./", "/") is skipped by cpio_next.
 *
 * Pure C over memory: no allocation, no globals, any context; built into the kernel and into
 * host tests alike.
 */
#ifndef ISLE_FS_CPIO_H
#define ISLE_FS_CPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPIO_HEADER_SIZE 110
#define CPIO_ERR_MAX 96

/* One entry, pointing into the archive. */
struct cpio_entry {
	const char *name; /* path inside the archive, leading "/" and "./" removed; not NUL-ended */
	size_t name_len;  /* bytes of name, >= 1 */
	const void *data; /* file contents or symlink target (filesize bytes) */
	size_t size;      /* filesize */
	uint32_t mode;    /* S_IF* type | permission bits, as stored */
	uint32_t ino;     /* inode number in the archive (hard links share it) */
	uint32_t nlink;   /* links, as stored */
	uint32_t mtime;   /* seconds since 1970 */
	uint32_t devmajor; /* device of the file on the machine that made the archive */
	uint32_t devminor; /* (with ino, identifies hard links) */
	size_t header_off; /* offset of the entry's header in the archive, for messages */
};

/* Where a walk over an archive is. All fields belong to whoever holds the iterator. */
struct cpio_iter {
	const uint8_t *buf;     /* the archive */
	size_t len;             /* its bytes */
	size_t off;             /* the next header (or padding before one) */
	unsigned index;         /* entries read so far, root and trailers included */
	int state;              /* 0 walking, 1 done, < 0 the error that stopped it */
	char err[CPIO_ERR_MAX]; /* "" or what was wrong, for the log */
};

void cpio_iter_init(struct cpio_iter *it, const void *buf, size_t len);
/* The next entry into *e: 1; 0 at the end of the archive; -EINVAL (it->err says why). */
int cpio_next(struct cpio_iter *it, struct cpio_entry *e);

/* The next non-empty, non-"." component of the name [*p, end): true with (*comp, *len), and
 * *p moved past it; false when none is left. */
bool cpio_name_next(const char **p, const char *end, const char **comp, size_t *len);

#endif
