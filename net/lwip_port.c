/*
 * lwip_port.c - the few functions lwIP (NO_SYS=1) needs from isle: the time in milliseconds,
 * diagnostics and assertions. Everything else lwIP needs lives in its own per-core globals.
 */
#include <stdarg.h>
#include <isle/thread.h>
#include "kernel/console.h"
#include "kernel/panic.h"
#include "kernel/printf.h"

typedef uint32_t u32_t;
u32_t sys_now(void);

/* lwIP's clock: milliseconds since boot (wraps after 49 days, which lwIP handles). */
u32_t sys_now(void)
{
	return (u32_t)(now_ns() / 1000000);
}

void lwip_port_diag(const char *fmt, ...)
{
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_debug("lwip: %s", line);
}

__noreturn void lwip_port_assert(const char *msg, const char *file, int line)
{
	panic("lwIP assertion failed (%s:%d): %s", file, line, msg);
}
