/*
 * arch/cc.h - what lwIP needs to know about the compiler and platform (lwIP's port header).
 * isle has no <inttypes.h>, <limits.h> or errno variable; lwIP is told so and given the
 * format macros itself. Assertions become kernel panics naming the lwIP file and line.
 */
#ifndef ISLE_LWIP_CC_H
#define ISLE_LWIP_CC_H

#include <stddef.h>
#include <stdint.h>

#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_LIMITS_H 1
#define LWIP_NO_CTYPE_H 0
#define LWIP_ERRNO_STDINCLUDE 1
#define LWIP_ERRNO_INCLUDE <isle/errno.h>
#define LWIP_PROVIDE_ERRNO 0

#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define BYTE_ORDER LITTLE_ENDIAN

/* ssize_t as isle's headers define it (isle/net.h), not lwIP's own `int`. */
typedef long ssize_t;
#define SSIZE_MAX __LONG_MAX__
#define LWIP_NO_UNISTD_H 1

void lwip_port_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void lwip_port_assert(const char *msg, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x)     \
	do {                      \
		lwip_port_diag x; \
	} while (0)
#define LWIP_PLATFORM_ASSERT(x) lwip_port_assert((x), __FILE__, __LINE__)

#endif
