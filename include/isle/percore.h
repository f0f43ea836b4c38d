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
 * Ownership legend. Every long-lived struct in isle (in a global, a PERCORE variable, the shared
 * region, or reached by more than one core) tags each field, or the whole struct when all its
 * fields agree, with who may touch it:
 *   [o]  owned by its own core: only that core reads or writes it (its threads, its scheduler
 *        and its interrupt handlers; a field also touched by its own interrupt handlers uses
 *        __atomic operations against them and says so);
 *   [I]  immutable after boot (or after the init function named beside it): any core reads it,
 *        nobody writes it;
 *   [m]  changed only by message handling: on the owning core, by the handler of a message
 *        another core sent, on that core's behalf;
 *   [a]  atomic: another core reads or writes it, always with __atomic operations; the comment
 *        says which order (relaxed, or the release/acquire it pairs with) and why.
 * Anything but [o] says why in its comment. A file may add its own letters for a narrower case
 * and says so beside the struct (kernel/ring.c: [P] producer, [C] consumer).
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
