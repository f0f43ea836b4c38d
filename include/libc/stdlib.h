/* stdlib.h - the parts of the C library isle applications get. Memory is per core:
 * see isle/mem.h for what malloc and free do across cores. */
#ifndef ISLE_LIBC_STDLIB_H
#define ISLE_LIBC_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

void *malloc(size_t size);
void free(void *p);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
void *aligned_alloc(size_t align, size_t size);
int posix_memalign(void **out, size_t align, size_t size);

/* Ends the VM with this status (from any thread on any core); see docs/api-console.md. */
__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void abort(void);

int atoi(const char *s);
long strtol(const char *s, char **end, int base);
long long strtoll(const char *s, char **end, int base);
unsigned long strtoul(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
int abs(int x);
long labs(long x);
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
int rand(void);
void srand(unsigned seed);
#define RAND_MAX 0x7fffffff

#endif
