/*
 * printf.h - the kernel's one formatter: C99 printf formatting into a buffer or through a
 * callback, with no floating point and no allocation.
 *
 * Supported: flags - 0 + space #, width and precision (also as *), length modifiers hh h l ll z t
 * j, and the conversions d i u o x X c s p %. Results match C99 (and glibc where C leaves a
 * choice): %p prints "0x..." like %#lx and "(nil)" for NULL, %s of NULL prints "(null)".
 *
 * Not supported, printed literally instead (the whole specification, e.g. "%5.2f"), consuming
 * no argument: floating point (%f %F %e %E %g %G %a %A; kernel code is built with
 * -mgeneral-regs-only and cannot even pass a double), %n (a write through an argument, never
 * needed by the kernel), and anything else unknown. An unsupported conversion in the middle of
 * a format leaves the arguments after it misaligned, so the compiler's format checking (the
 * attributes below) is the real safety net. There are no wide characters: a length modifier on
 * c, s or p is ignored, so %lc and %ls print a char and a char string.
 *
 * All functions are reentrant and MAY be called from any context (boot, thread, interrupt):
 * they touch only their arguments and the stack.
 */
#ifndef ISLE_KERNEL_PRINTF_H
#define ISLE_KERNEL_PRINTF_H

#include <stdarg.h>

#include "kernel/compiler.h"

/*
 * Formats into buf, which has room for size bytes. When size > 0 the result is always
 * NUL-terminated, truncated if needed; when size == 0 nothing is written and buf MAY be NULL.
 * Returns the length the full result has (not counting the NUL), exactly like C99 vsnprintf,
 * so a return value >= size means the output was truncated; -EOVERFLOW if that length does not
 * fit in an int.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Formats through out: the result is handed over as a sequence of pieces (s, n) in order, with
 * no NUL terminator; a piece is only valid during its call. Returns the total length, or
 * -EOVERFLOW if that does not fit in an int. The console prints this way, without a buffer.
 */
int kvcbprintf(void (*out)(void *ctx, const char *s, size_t n), void *ctx, const char *fmt,
               va_list ap) __attribute__((format(printf, 3, 0)));

#endif
