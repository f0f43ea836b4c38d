/*
 * isle/percore.h - per-core variables.
 *
 *     PERCORE static uint64_t hits;
 *
 * gives every core its own `hits`, at the same address on every core: the plain name is always
 * the calling core's copy (Linux's this_cpu), touched without locks or atomics because no other
 * core writes it. It lives in the core window (docs/architecture.md): the variables of the
 * application, the kernel and every lib*_percore.a library, copied for each core at start-up
 * from their initial values.
 *
 * Another core's copy is reached only through percore_of(&var, core) (Linux's per_cpu), so that
 * every look at a copy that is not ours stands out at the call site. Ownership still holds:
 *  - the owner writes its copy; another core only reads it, and reads of a field the owner may
 *    change at the same time are racy unless the field is read and written with __atomic
 *    operations (mark such fields [a]);
 *  - never write another core's copy, and never pass the address of your own copy to another
 *    core (on that core the same address is its own copy): send a message instead.
 * percore_of is for statistics and for looking at what a core publishes; work goes by message.
 *
 * Context: any. On the host (ISLE_HOST, unit tests) PERCORE is an ordinary global and
 * percore_of gives that one copy.
 */
#ifndef ISLE_PERCORE_H
#define ISLE_PERCORE_H

#ifdef ISLE_HOST
#define PERCORE
#define percore_of(ptr, core) ((void)(core), (ptr))
#else
#define PERCORE __attribute__((section(".percore")))

/* The address of `core`'s copy of the PERCORE object at `own` (an address in the calling
 * core's window: &var, or &var.field), or NULL if `own` is not in the window or `core` does not
 * run. */
void *percore_ptr(const void *own, unsigned core);
#define percore_of(ptr, core) ((__typeof__(ptr))percore_ptr((ptr), (core)))
#endif

#endif
