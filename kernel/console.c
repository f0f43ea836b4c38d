/*
 * console.c - log lines and application output on the serial console.
 *
 * Each core assembles output in its own line buffer (PERCORE) and writes a completed line to
 * the UART while holding the console lock. That lock is one of the two places isle takes a
 * lock (the other is boot code): the UART is one device that all cores share, and a message to
 * a "console core" would lose the last words of a core that is about to crash.
 * The panic path may take the lock from a holder that will never release it (it crashed while
 * printing): after a bounded wait it prints anyway.
 */
#include <stdio.h>
#include <string.h>
#include "arch/x86_64/arch.h"
#include "kernel/console.h"
#include "kernel/printf.h"

#define LINE_MAX 256

struct line_buf {
	char buf[LINE_MAX]; /* [o] the line being assembled */
	size_t len;         /* [o] bytes in buf */
};
PERCORE static struct line_buf out_line; /* application output (printf, puts) */

/* The console lock: 0 free, else 1 + holder core. [a]: the only cross-core lock in isle. */
static uint32_t console_owner __cacheline_aligned;
static char console_pad[CACHELINE - sizeof(uint32_t)] __unused;

static bool console_lock(unsigned spins_max)
{
	uint32_t me = core_id() + 1;
	for (unsigned i = 0;; i++) {
		uint32_t free = 0;
		/* Acquire: the previous holder's UART writes happen before ours. */
		if (__atomic_compare_exchange_n(&console_owner, &free, me, false, __ATOMIC_ACQUIRE,
		                                __ATOMIC_RELAXED))
			return true;
		if (spins_max && i >= spins_max)
			return false;
		cpu_pause();
	}
}

static void console_unlock(void)
{
	/* Release: our UART writes are done before the next holder starts. */
	__atomic_store_n(&console_owner, 0, __ATOMIC_RELEASE);
}

/* This core holds the console: it is writing a line, and an NMI (the watchdog's) or a crash
 * interrupted it. Relaxed: only this core's own earlier store can make it true. */
static bool console_held_here(void)
{
	return __atomic_load_n(&console_owner, __ATOMIC_RELAXED) == core_id() + 1; /* see above */
}

static void write_line(const char *s, size_t n)
{
	bool on = irq_save();
	/* Lines are written with interrupts off, so only an NMI finds the lock held by its own
	 * core: its line goes out in the middle of the interrupted one rather than wait for ever
	 * for a holder that cannot go on. */
	bool mine = console_held_here();
	if (!mine)
		console_lock(0);
	arch_console_write(s, n);
	if (!mine)
		console_unlock();
	irq_restore(on);
}

void console_write(const char *s, size_t n)
{
	write_line(s, n);
}

/* ---- log ------------------------------------------------------------------------------------ */

struct fmt_buf {
	char *buf;  /* destination */
	size_t len; /* used */
	size_t cap; /* size */
};

static void fmt_out(void *ctx, const char *s, size_t n)
{
	struct fmt_buf *fb = ctx;
	size_t room = fb->cap - fb->len;
	if (n > room)
		n = room;
	memcpy(fb->buf + fb->len, s, n);
	fb->len += n;
}

void vklog(int level, const char *fmt, va_list ap)
{
	if (level > kconfig.loglevel)
		return;
	static const char *const tags[] = { "error: ", "warning: ", "", "" };
	char line[LINE_MAX];
	uint64_t ns = arch_now_ns();
	struct fmt_buf fb = { line, 0, sizeof(line) - 1 };
	fb.len = (size_t)ksnprintf(line, sizeof(line), "[%5lu.%06lu] c%u: %s", ns / 1000000000,
	                           ns / 1000 % 1000000, core_id(), tags[level]);
	if (fb.len > fb.cap)
		fb.len = fb.cap;
	kvcbprintf(fmt_out, &fb, fmt, ap);
	if (fb.len && line[fb.len - 1] != '\n')
		line[fb.len++] = '\n';
	write_line(line, fb.len);
}

void klog(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vklog(level, fmt, ap);
	va_end(ap);
}

/* ---- application output ---------------------------------------------------------------------- */

static void out_flush(void)
{
	if (out_line.len)
		write_line(out_line.buf, out_line.len);
	out_line.len = 0;
}

static void out_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		out_line.buf[out_line.len++] = s[i];
		if (s[i] == '\n' || out_line.len == LINE_MAX)
			out_flush();
	}
}

int vprintf(const char *fmt, va_list ap)
{
	return kvcbprintf(out_write, NULL, fmt, ap);
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int puts(const char *s)
{
	out_write(NULL, s, strlen(s));
	out_write(NULL, "\n", 1);
	return (int)strlen(s) + 1;
}

int putchar(int c)
{
	char ch = (char)c;
	out_write(NULL, &ch, 1);
	return c;
}

/* Writes out what is left of a partial line (at exit). */
void console_flush(void)
{
	out_flush();
}

/* The panicking core keeps the console to itself until the VM ends, so no other core's line
 * lands in the middle of its report. Waits ~1 s for a holder, then takes it regardless. */
void console_take_for_panic(void)
{
	/* Relaxed: other cores are about to be stopped; they only need to see the lock taken,
	 * and the UART output that follows is ordered by the port I/O itself. */
	if (!console_lock(50000000))
		__atomic_store_n(&console_owner, core_id() + 1, __ATOMIC_RELAXED);
}

/* ---- panic ------------------------------------------------------------------------------------ */

static void panic_out(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	arch_console_write(s, n);
}

void kprintf_panic(const char *fmt, ...)
{
	/* Print regardless if this core already holds the lock (it crashed while printing) or,
	 * after ~1 s of spinning, if another holder never lets go. */
	bool locked = !console_held_here() && console_lock(50000000);
	va_list ap;
	va_start(ap, fmt);
	kvcbprintf(panic_out, NULL, fmt, ap);
	va_end(ap);
	if (locked)
		console_unlock();
}
