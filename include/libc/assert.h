/* assert.h - assertions for applications: a failure names the function and condition and
 * ends the VM with a failure status, like a kernel panic. */
#ifndef ISLE_LIBC_ASSERT_H
#define ISLE_LIBC_ASSERT_H

__attribute__((noreturn)) void __assert_fail(const char *cond, const char *file, int line,
                                             const char *func);
#ifdef NDEBUG
#define assert(c) ((void)0)
#else
#define assert(c) ((c) ? (void)0 : __assert_fail(#c, __FILE__, __LINE__, __func__))
#endif

#endif
