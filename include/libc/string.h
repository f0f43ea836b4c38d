/*
 * string.h - memory and string functions for isle (implemented in kernel/string.c).
 *
 * The usual C functions with their C semantics, for the C locale only. Two differences from a
 * hosted C library, because isle has no errno:
 *  - strtol and friends saturate on overflow (LONG_MAX, LONG_MIN, ULONG_MAX, ...) without
 *    setting errno; a caller that must tell "too large" apart checks for those values, or parses
 *    digits itself. An invalid base returns 0 with *endptr = the start of the string.
 *  - strtol, strtoul, strtoll, strtoull and atoi are declared here rather than only in
 *    <stdlib.h>, so string parsing needs one header.
 *
 * Every function only touches the memory it is given and MAY be called from any context (boot,
 * thread, interrupt). Pointer arguments MUST be valid for the sizes involved, as in C.
 *
 * Host unit tests build kernel/string.c with -DISLE_HOST_STRING_TEST, which renames every
 * function to isle_<name> so it can be linked and compared with glibc's (see kernel/string.c).
 */
#ifndef ISLE_LIBC_STRING_H
#define ISLE_LIBC_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int strcasecmp(const char *a, const char *b);
int strncasecmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);

char *strcpy(char *restrict dst, const char *restrict src);
/* C semantics: pads dst with NULs up to n, and does NOT terminate it if src is n or longer. */
char *strncpy(char *restrict dst, const char *restrict src, size_t n);
/* Copies at most size - 1 characters, terminates when size > 0, returns strlen(src). */
size_t strlcpy(char *restrict dst, const char *restrict src, size_t size);
char *strcat(char *restrict dst, const char *restrict src);

/* The text for an error number of isle/errno.h ("No such file or directory"; a positive
 * number, as errno would hold; "Unknown error" for others). */
const char *strerror(int errnum);

/*
 * Base 2..36, or 0 to take it from the prefix ("0x" hex, "0" octal, else decimal). Leading
 * white space and one sign are accepted; "-" negates (in the unsigned type for strtoul). *endptr,
 * if endptr is not NULL, gets the first character not used, or s itself if there were no digits.
 */
unsigned long strtoul(const char *restrict s, char **restrict endptr, int base);
unsigned long long strtoull(const char *restrict s, char **restrict endptr, int base);
long strtol(const char *restrict s, char **restrict endptr, int base);
long long strtoll(const char *restrict s, char **restrict endptr, int base);
/* strtol(s, NULL, 10) cut to int. */
int atoi(const char *s);

#endif
