/*
 * stdio.h - the formatted output isle offers under the standard names.
 *
 * Formatting is kernel/printf.c's (see kernel/printf.h for the supported conversions: no
 * floating point). snprintf and vsnprintf are the C99 functions: they always NUL-terminate
 * when size > 0 and return the length the whole result would have. printf, vprintf, puts and
 * putchar write to the console and return the number of characters written (puts adds a
 * newline; putchar returns its argument as an unsigned char), or a negative value on error.
 * There are no FILE streams.
 *
 * snprintf and vsnprintf MAY be called from any context; the console functions MAY be called
 * from boot and thread context (see the console's header for interrupt context).
 */
#ifndef ISLE_LIBC_STDIO_H
#define ISLE_LIBC_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#ifndef EOF
#define EOF (-1)
#endif

int snprintf(char *restrict buf, size_t size, const char *restrict fmt, ...)
        __attribute__((format(printf, 3, 4)));
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

int printf(const char *restrict fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *restrict fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int puts(const char *s);
int putchar(int c);

#endif
