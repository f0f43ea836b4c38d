/* serial.h - raw COM1 output. Callable from any context; the console adds the line locking. */
#ifndef ISLE_ARCH_SERIAL_H
#define ISLE_ARCH_SERIAL_H

#include "kernel/compiler.h"

void serial_init(void);
void serial_write(const char *s, size_t n);
void serial_puts(const char *s);

#endif
