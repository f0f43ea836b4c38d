/*
 * string.c - the C library's memory and string functions for the kernel (see <string.h>).
 *
 * Plain C, byte at a time except where it pays: memcpy, memmove and memset move 8-byte words
 * through the aligned middle of a buffer. Words are only used when source and destination sit
 * at the same offset within a word, so every word access is aligned (x86 would not mind, but the
 * host sanitizers and other architectures would); word_t is declared may_alias so those accesses
 * are allowed to alias bytes of any type.
 *
 * GCC recognises a byte-copy or byte-fill loop and replaces it with a call to memcpy or memset,
 * which inside memcpy and memset would be endless recursion. The pragma below turns that
 * transformation off for this file (glibc does the same, per function). Clang does not know the
 * pragma and needs none: -ffreestanding already keeps its loop-idiom pass from making such calls.
 *
 * Host unit tests compile this file with -DISLE_HOST_STRING_TEST: every function is then
 * renamed isle_<name> by the block of #defines below, so it links beside glibc's and
 * tests/unit/test_string.c can compare the two. Calls between these functions (strcat calling
 * strlen, ...) are renamed too, so the test exercises only this file.
 */
#ifdef ISLE_HOST_STRING_TEST
#define memcpy isle_memcpy
#define memmove isle_memmove
#define memset isle_memset
#define memcmp isle_memcmp
#define memchr isle_memchr
#define strlen isle_strlen
#define strnlen isle_strnlen
#define strcmp isle_strcmp
#define strncmp isle_strncmp
#define strcasecmp isle_strcasecmp
#define strncasecmp isle_strncasecmp
#define strchr isle_strchr
#define strrchr isle_strrchr
#define strstr isle_strstr
#define strcpy isle_strcpy
#define strncpy isle_strncpy
#define strlcpy isle_strlcpy
#define strcat isle_strcat
#define strtoul isle_strtoul
#define strtoull isle_strtoull
#define strtol isle_strtol
#define strtoll isle_strtoll
#define atoi isle_atoi
#define strerror isle_strerror
#endif

/* By path, not <string.h>: on the host that name is glibc's. */
#include "kernel/compiler.h"
#include "libc/ctype.h"
#include "libc/string.h"
#include "isle/errno.h"

#ifndef __clang__
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif

_Static_assert(sizeof(long) == 8 && sizeof(long long) == 8, "strtol and strtoll share code");

typedef uint64_t __attribute__((may_alias)) word_t;
#define WORD sizeof(word_t)

/* True when a and b have the same offset within a word, so both can be word-aligned at once. */
static bool same_word_offset(const void *a, const void *b)
{
	return ((uintptr_t)a - (uintptr_t)b) % WORD == 0;
}

/* A word read or written at any address: x86-64 allows unaligned accesses, and a word copy
 * with only the destination aligned is still eight times fewer steps than bytes (frames and
 * file data arrive at every offset). */
typedef uint64_t __attribute__((may_alias, aligned(1))) uword_t;

/* Copies n bytes from s to d, lowest address first: correct when d <= s even if they overlap
 * (each word is read whole before it is written, and never ahead of what was read). */
static void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n >= 2 * WORD) {
		while ((uintptr_t)d % WORD != 0) {
			*d++ = *s++;
			n--;
		}
		if (same_word_offset(d, s))
			for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
				*(word_t *)d = *(const word_t *)s;
		else
			for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
				*(word_t *)d = *(const uword_t *)s;
	}
	while (n > 0) {
		*d++ = *s++;
		n--;
	}
}

/* Copies n bytes from s to d, highest address first: correct when d >= s even if they overlap. */
static void copy_backward(unsigned char *d, const unsigned char *s, size_t n)
{
	d += n;
	s += n;
	if (n >= 2 * WORD) {
		while ((uintptr_t)d % WORD != 0) {
			*--d = *--s;
			n--;
		}
		for (; n >= WORD; n -= WORD) {
			d -= WORD;
			s -= WORD;
			*(word_t *)d = *(const uword_t *)s;
		}
	}
	while (n > 0) {
		*--d = *--s;
		n--;
	}
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	copy_forward(dst, src, n);
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	if ((uintptr_t)dst <= (uintptr_t)src)
		copy_forward(dst, src, n);
	else
		copy_backward(dst, src, n);
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char byte = (unsigned char)c;
	word_t word = byte * (word_t)0x0101010101010101; /* byte in every byte of the word */

	while (n > 0 && (uintptr_t)d % WORD != 0) {
		*d++ = byte;
		n--;
	}
	for (; n >= WORD; n -= WORD, d += WORD)
		*(word_t *)d = word;
	while (n > 0) {
		*d++ = byte;
		n--;
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return *p - *q;
	}
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n > 0; n--, p++) {
		if (*p == (unsigned char)c)
			return (void *)p;
	}
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p != '\0')
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t maxlen)
{
	size_t n = 0;

	while (n < maxlen && s[n] != '\0')
		n++;
	return n;
}

/* Characters compare as unsigned char, as C requires. */
int strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (*a == '\0')
			break;
	}
	return 0;
}

int strcasecmp(const char *a, const char *b)
{
	return strncasecmp(a, b, (size_t)-1);
}

/* Compares as if both strings were in lower case, like glibc in the C locale. */
int strncasecmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);

		if (ca != cb)
			return ca - cb;
		if (ca == '\0')
			break;
	}
	return 0;
}

/* Finding '\0' returns the terminator, as C requires. */
char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (*s == '\0')
			return (char *)last;
	}
}

/* The simple quadratic search; the kernel only looks for short needles in short strings. */
char *strstr(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack != '\0'; haystack++) {
		if (strncmp(haystack, needle, n) == 0)
			return (char *)haystack;
	}
	return n == 0 ? (char *)haystack : NULL;
}

char *strcpy(char *restrict dst, const char *restrict src)
{
	char *d = dst;

	while ((*d++ = *src++) != '\0')
		;
	return dst;
}

char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t i = 0;

	for (; i < n && src[i] != '\0'; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}

size_t strlcpy(char *restrict dst, const char *restrict src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = MIN(len, size - 1);

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

char *strcat(char *restrict dst, const char *restrict src)
{
	strcpy(dst + strlen(dst), src);
	return dst;
}

/* The value of c as a digit in bases up to 36, or 36 if it is not one. */
static unsigned digit_value(char c)
{
	if (isdigit(c))
		return (unsigned)(c - '0');
	if (islower(c))
		return (unsigned)(c - 'a' + 10);
	if (isupper(c))
		return (unsigned)(c - 'A' + 10);
	return 36;
}

/*
 * The common part of the strto* functions. Skips white space and a sign, settles the base
 * ("0x" counts only when a hex digit follows it) and reads the digits into *magnitude, which
 * sticks at UINT64_MAX on overflow (*overflow says so). Returns the first character after the
 * digits, or NULL when there are none or the base is invalid.
 */
static const char *parse_integer(const char *s, int base, bool *negative, uint64_t *magnitude,
                                 bool *overflow)
{
	const char *digits;
	uint64_t value = 0;

	*negative = false;
	*overflow = false;
	*magnitude = 0;
	if (base < 0 || base == 1 || base > 36)
		return NULL;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '+' || *s == '-')
		*negative = *s++ == '-';

	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    digit_value(s[2]) < 16) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}

	for (digits = s; digit_value(*s) < (unsigned)base; s++) {
		unsigned d = digit_value(*s);

		if (value > (UINT64_MAX - d) / (unsigned)base)
			*overflow = true; /* keep going: the digits still belong to the number */
		else
			value = value * (unsigned)base + d;
	}
	if (s == digits)
		return NULL;
	*magnitude = *overflow ? UINT64_MAX : value;
	return s;
}

unsigned long long strtoull(const char *restrict s, char **restrict endptr, int base)
{
	bool negative, overflow;
	uint64_t magnitude;
	const char *end = parse_integer(s, base, &negative, &magnitude, &overflow);

	if (endptr != NULL)
		*endptr = (char *)(end != NULL ? end : s);
	if (overflow)
		return UINT64_MAX;
	return negative ? -magnitude : magnitude;
}

unsigned long strtoul(const char *restrict s, char **restrict endptr, int base)
{
	return strtoull(s, endptr, base);
}

long long strtoll(const char *restrict s, char **restrict endptr, int base)
{
	bool negative, overflow;
	uint64_t magnitude;
	const char *end = parse_integer(s, base, &negative, &magnitude, &overflow);

	if (endptr != NULL)
		*endptr = (char *)(end != NULL ? end : s);
	if (negative) {
		/* -INT64_MIN is one more than INT64_MAX: compare in unsigned arithmetic. */
		if (overflow || magnitude >= (uint64_t)INT64_MAX + 1)
			return INT64_MIN;
		return -(int64_t)magnitude;
	}
	if (overflow || magnitude > INT64_MAX)
		return INT64_MAX;
	return (int64_t)magnitude;
}

long strtol(const char *restrict s, char **restrict endptr, int base)
{
	return strtoll(s, endptr, base);
}

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

/* ---- error texts ---------------------------------------------------------------------------- */

static const char *const error_text[] = {
	[EPERM] = "Operation not permitted",
	[ENOENT] = "No such file or directory",
	[ESRCH] = "No such process",
	[EINTR] = "Interrupted system call",
	[EIO] = "Input/output error",
	[E2BIG] = "Argument list too long",
	[EBADF] = "Bad file descriptor",
	[EAGAIN] = "Resource temporarily unavailable",
	[ENOMEM] = "Cannot allocate memory",
	[EFAULT] = "Bad address",
	[EBUSY] = "Device or resource busy",
	[EEXIST] = "File exists",
	[EXDEV] = "Invalid cross-device link",
	[ENODEV] = "No such device",
	[ENOTDIR] = "Not a directory",
	[EISDIR] = "Is a directory",
	[EINVAL] = "Invalid argument",
	[ENFILE] = "Too many open files in system",
	[EMFILE] = "Too many open files",
	[EFBIG] = "File too large",
	[ENOSPC] = "No space left on device",
	[ESPIPE] = "Illegal seek",
	[EROFS] = "Read-only file system",
	[EMLINK] = "Too many links",
	[EPIPE] = "Broken pipe",
	[ERANGE] = "Numerical result out of range",
	[EDEADLK] = "Resource deadlock avoided",
	[ENAMETOOLONG] = "File name too long",
	[ENOSYS] = "Function not implemented",
	[ENOTEMPTY] = "Directory not empty",
	[ELOOP] = "Too many levels of symbolic links",
	[EPROTO] = "Protocol error",
	[EOVERFLOW] = "Value too large for defined data type",
	[EMSGSIZE] = "Message too long",
	[ENOTSUP] = "Operation not supported",
	[EADDRINUSE] = "Address already in use",
	[ENETDOWN] = "Network is down",
	[ECONNABORTED] = "Software caused connection abort",
	[ECONNRESET] = "Connection reset by peer",
	[ENOTCONN] = "Transport endpoint is not connected",
	[ETIMEDOUT] = "Connection timed out",
	[ECONNREFUSED] = "Connection refused",
	[EHOSTUNREACH] = "No route to host",
	[EALREADY] = "Operation already in progress",
	[EINPROGRESS] = "Operation now in progress",
	[EUCLEAN] = "Structure needs cleaning",
};

const char *strerror(int errnum)
{
	if (errnum > 0 && (size_t)errnum < sizeof(error_text) / sizeof(error_text[0]) &&
	    error_text[errnum])
		return error_text[errnum];
	return "Unknown error";
}
