/*
 * console.h - the kernel log and the application's standard output, both on the serial
 * console. Log lines carry a timestamp and the core id: "[    0.001234] c2: text". Output is
 * assembled per core and written a whole line at a time, so lines from different cores never
 * interleave mid-line. klog() may be called from any context, interrupt handlers included;
 * printf/puts/putchar use a per-core line buffer and are for thread and handler context only.
 */
#ifndef ISLE_KERNEL_CONSOLE_H
#define ISLE_KERNEL_CONSOLE_H

#include <stdarg.h>
#include "kernel/compiler.h"
#include "kernel/core.h"

void klog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vklog(int level, const char *fmt, va_list ap);
#define log_error(...) klog(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) klog(LOG_WARN, __VA_ARGS__)
#define log_info(...) klog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

/* Writes n bytes of whole lines as they are (no prefix, no log level) in one piece: lines from
 * other cores never land in the middle. Any context. */
void console_write(const char *s, size_t n);

/* Writes out a partial application line (before exit). */
void console_flush(void);

/* Raw output for the panic path: no per-core buffer, takes the console even if its holder
 * never lets go. */
void console_take_for_panic(void);
void kprintf_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
