/*
 * cpio.c - a reader of cpio newc archives (format and contract: cpio.h).
 *
 * The walk is one offset moving forward through the buffer. Every length that comes from the
 * archive is compared with what is left of the buffer (len - off, which cannot underflow
 * because off <= len always holds) before anything is added to an offset, so no sum can
 * overflow and nothing past the end is ever read.
 */
#include "fs/cpio.h"

#include <stdarg.h>
#include <string.h>
#include <isle/errno.h>
#include <isle/fs.h>
#include "kernel/printf.h"

#define CPIO_FIELDS 13
#define TRAILER "TRAILER!!!"

enum { WALKING = 0, DONE = 1, AFTER_TRAILER = 2 }; /* it->state when not an error */

/* Header fields in the order they are stored. */
enum {
	F_INO,
	F_MODE,
	F_UID,
	F_GID,
	F_NLINK,
	F_MTIME,
	F_FILESIZE,
	F_DEVMAJOR,
	F_DEVMINOR,
	F_RDEVMAJOR,
	F_RDEVMINOR,
	F_NAMESIZE,
	F_CHECK,
};

__attribute__((format(printf, 2, 3))) static int fail(struct cpio_iter *it, const char *fmt, ...)
{
	va_list ap;
	int n = ksnprintf(it->err, sizeof(it->err), "cpio entry %u at offset %zu: ", it->index,
	                  it->off);
	if (n < 0 || (size_t)n >= sizeof(it->err))
		n = 0;
	va_start(ap, fmt);
	kvsnprintf(it->err + n, sizeof(it->err) - (size_t)n, fmt, ap);
	va_end(ap);
	it->state = -EINVAL;
	return -EINVAL;
}

void cpio_iter_init(struct cpio_iter *it, const void *buf, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->buf = buf;
	it->len = len;
}

/* 8 hex digits at p into *out; false if any of them is not a hex digit. */
static bool parse_hex8(const uint8_t *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		uint8_t c = p[i];
		uint32_t d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

/* Skips the NULs that pad [off, ...) to a multiple of 4; the end of the buffer also ends it. */
static size_t pad4(size_t off, size_t len)
{
	size_t pad = (4 - off % 4) % 4;
	return pad > len - off ? len : off + pad;
}

bool cpio_name_next(const char **p, const char *end, const char **comp, size_t *len)
{
	const char *s = *p;
	for (;;) {
		while (s < end && *s == '/')
			s++;
		if (s == end) {
			*p = s;
			return false;
		}
		const char *c = s;
		while (s < end && *s != '/')
			s++;
		if (s - c == 1 && c[0] == '.')
			continue;
		*comp = c;
		*len = (size_t)(s - c);
		*p = s;
		return true;
	}
}

/* Checks the name's components; 0 or the error. Leading "/" and "./" are already gone. */
static int check_name(struct cpio_iter *it, const char *name, size_t len)
{
	const char *p = name, *end = name + len, *c;
	size_t clen;
	while (cpio_name_next(&p, end, &c, &clen)) {
		if (clen == 2 && c[0] == '.' && c[1] == '.')
			return fail(it, "name '%.*s' has a '..' component", (int)MIN(len, 60),
			            name);
		if (clen > FS_NAME_MAX)
			return fail(it, "a component of the name is %zu bytes (limit %d)", clen,
			            FS_NAME_MAX);
	}
	return 0;
}

/* The archive's root ("", ".", "./", "/."...): no component left. */
static bool is_root(const char *name, size_t len)
{
	const char *c;
	size_t clen;
	return !cpio_name_next(&name, name + len, &c, &clen);
}

int cpio_next(struct cpio_iter *it, struct cpio_entry *e)
{
	for (;;) {
		if (it->state < 0)
			return it->state;
		if (it->state == DONE)
			return 0;
		size_t len = it->len;
		if (it->state == AFTER_TRAILER) {
			while (it->off < len && it->buf[it->off] == 0)
				it->off++;
			if (it->off == len) {
				it->state = DONE;
				return 0;
			}
			if (it->off % 4 != 0)
				return fail(
				        it,
				        "data after the trailer is not a 4-byte aligned archive");
			it->state = WALKING;
		}
		size_t off = it->off;
		if (off == len)
			return fail(it, "the archive ends without a %s entry", TRAILER);
		if (len - off < CPIO_HEADER_SIZE)
			return fail(it, "header cut short: %zu of %d bytes", len - off,
			            CPIO_HEADER_SIZE);
		const uint8_t *h = it->buf + off;
		bool crc = memcmp(h, "070702", 6) == 0;
		if (!crc && memcmp(h, "070701", 6) != 0)
			return fail(it, "bad magic (not a cpio newc archive)");
		uint32_t f[CPIO_FIELDS];
		for (int i = 0; i < CPIO_FIELDS; i++)
			if (!parse_hex8(h + 6 + 8 * i, &f[i]))
				return fail(it, "header field %d is not 8 hex digits", i);

		size_t namesize = f[F_NAMESIZE], filesize = f[F_FILESIZE];
		size_t name_off = off + CPIO_HEADER_SIZE;
		if (namesize == 0)
			return fail(it, "namesize is 0");
		if (namesize > len - name_off)
			return fail(it, "name (%zu bytes) runs past the end", namesize);
		const char *name = (const char *)it->buf + name_off;
		if (name[namesize - 1] != '\0')
			return fail(it, "name is not NUL-terminated");
		size_t name_len = namesize - 1;
		if (memchr(name, '\0', name_len))
			return fail(it, "name has a NUL inside");
		if (name_len >= FS_PATH_MAX)
			return fail(it, "name is %zu bytes (limit %d)", name_len, FS_PATH_MAX - 1);

		size_t data_off = pad4(name_off + namesize, len);
		if (filesize > len - data_off)
			return fail(it, "data (%zu bytes) runs past the end", filesize);
		const uint8_t *data = it->buf + data_off;
		if (crc && (f[F_MODE] & S_IFMT) == S_IFREG) { /* GNU cpio sums regular files only */
			uint32_t sum = 0;
			for (size_t i = 0; i < filesize; i++)
				sum += data[i];
			if (sum != f[F_CHECK])
				return fail(it, "checksum 0x%x, the header says 0x%x", sum,
				            f[F_CHECK]);
		}
		size_t next = pad4(data_off + filesize, len);

		if (name_len == sizeof(TRAILER) - 1 && memcmp(name, TRAILER, name_len) == 0) {
			it->index++;
			it->off = next;
			it->state = AFTER_TRAILER;
			continue;
		}
		while (name_len > 0 &&
		       (name[0] == '/' || (name[0] == '.' && name_len >= 2 && name[1] == '/'))) {
			size_t skip = name[0] == '/' ? 1 : 2;
			name += skip;
			name_len -= skip;
		}
		int err = check_name(it, name, name_len);
		if (err)
			return err;
		it->index++;
		it->off = next;
		if (is_root(name, name_len))
			continue;
		e->name = name;
		e->name_len = name_len;
		e->data = data;
		e->size = filesize;
		e->mode = f[F_MODE];
		e->ino = f[F_INO];
		e->nlink = f[F_NLINK];
		e->mtime = f[F_MTIME];
		e->devmajor = f[F_DEVMAJOR];
		e->devminor = f[F_DEVMINOR];
		e->header_off = off;
		return 1;
	}
}
