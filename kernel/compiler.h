/*
 * compiler.h - small compiler helpers shared by every part of isle.
 *
 * Portable code (kernel/, net/, fs/) includes this and nothing from arch/ except through the
 * narrow arch headers. When ISLE_HOST is defined the same code is compiled for host unit tests,
 * where per-core variables are plain globals.
 */
#ifndef ISLE_COMPILER_H
#define ISLE_COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define CACHELINE 64

#define __aligned(x) __attribute__((aligned(x)))
#define __packed __attribute__((packed))
#define __noreturn __attribute__((noreturn))
#define __unused __attribute__((unused))
#define __weak __attribute__((weak))
#define __cacheline_aligned __aligned(CACHELINE)

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* PERCORE (a variable every core has its own copy of), percore_of (another core's copy) and
 * the ownership legend ([o] [I] [m] [a]) every long-lived struct uses: see the public header. */
#include <isle/percore.h>

/*
 * A statistic of the own core that other cores read ([a], relaxed: a counter orders nothing).
 * The own core is its only writer, so an update is a plain load and a relaxed store (no locked
 * instruction); another core's reader uses COUNTER_READ. Both are one plain mov on x86-64, and
 * neither is a data race in C's sense.
 */
#define COUNTER_ADD(c, n) __atomic_store_n(&(c), (c) + (n), __ATOMIC_RELAXED) /* own core */
#define COUNTER_SET(c, v) __atomic_store_n(&(c), (v), __ATOMIC_RELAXED)       /* own core */
#define COUNTER_READ(c) __atomic_load_n(&(c), __ATOMIC_RELAXED)               /* any core */

#endif
