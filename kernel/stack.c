/*
 * stack.c - thread stacks of one core: slots, a small cache of mapped stacks, and pages given
 * back when threads end.
 *
 * Core c's stacks live in [STACKS_VMA + c GiB, + 1 GiB), cut into 64 KiB slots (arch.h). A
 * stack of n bytes is mapped at the top of its slot; the pages below it stay unmapped, the
 * guard. Every core maps every core's stack area the same way, because a pointer to a stack
 * variable may travel in a message (a reply record): so any core may hold translations of
 * this core's slots in its TLB, and only this core changes its slots' mappings.
 *
 * A thread that ended gives its slot back (stack_put, from the scheduler loop once nothing
 * runs on it). Up to THREAD_STACK_CACHE slots keep their pages, so that the next threads map
 * nothing; the cache takes each returned slot while it has room, and a new thread takes from
 * it first. A slot returned beyond that is unmapped and its pages go back to the core's page
 * allocator at once: nobody may touch a dead thread's stack, so a stale translation elsewhere
 * leads nowhere. But the slot itself is "dirty": it is not given to a new thread until every
 * other core has flushed its TLB, or that core could reach the new thread's stack through a
 * stale translation, that is, the old pages, which are someone else's memory by then (an
 * earlier version that unmapped at exit hung a /stats request this way).
 *
 * Flush rounds. A round asks every other core, by request message (MSG_STACK_FLUSH), to flush
 * its TLB, and ends when all have answered (MSG_STACK_FLUSHED): the slots that were dirty when
 * it started are then clean, free to use. At most one round is in flight per core; a round
 * starts when a slot becomes dirty and none is in flight, or when one ends and slots became
 * dirty meanwhile. It costs one request and one reply per other core and a TLB flush on each,
 * which only bursts of thread ends pay for: threads that come and go at a steady rate live on
 * the cache. The scheduler loop has no thread to wait for a full ring, so what cannot be sent
 * now is sent by a timer (RETRY_NS later); a reply handler must not send, so the round after
 * one that ended there starts from the timer too.
 *
 * A new thread takes, in turn: a cached slot (growing its mapping if it needs more), a clean
 * slot, a slot never used. With none of them it cannot be created (-ENOMEM to the caller),
 * even if dirty slots wait for a round. So that a core which never answers (one that spins:
 * the watchdog reports it) cannot use up the others' slots, a core with fewer than
 * STACK_RESERVE slots never used left keeps the pages of every ended thread, as if its cache
 * had no bound, and reuses those slots at once: memory is held then, never threads refused.
 */
#include <string.h>
#include <isle/errno.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include "arch/x86_64/arch.h"
#include "kernel/core.h"
#include "kernel/coreset.h"
#include "kernel/mem.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/stack.h"

#define PAGE 4096
#define RETRY_NS 100000    /* a round's requests that found a ring full go again this much later */
#define STACK_RESERVE 1024 /* slots never used below which ended stacks keep their pages */

/* Ownership: every field is [o], this core's alone (other cores only answer its messages). */
struct stack_pool {
	uint16_t cache[THREAD_STACK_CACHE]; /* slots that keep their pages, most recent last */
	unsigned ncache;                    /* entries of cache[] in use */
	uint16_t *clean;    /* slots nobody has stale translations of (unmapped, or kept mapped) */
	unsigned nclean;    /* entries of clean[] in use */
	uint16_t *dirty;    /* unmapped slots other cores may still have translations of */
	unsigned ndirty;    /* entries of dirty[] in use */
	unsigned flushing;  /* the first `flushing` dirty[] slots are the round's; 0: no round */
	struct coreset ask; /* cores the round in flight has yet to ask (their ring was full) */
	unsigned answers_due; /* cores asked that have not answered yet */
	struct timer retry;   /* sends what the round could not send yet, starts the next one */
	uint8_t *slot_pages;  /* per slot: pages mapped at its top */
	size_t pages;         /* sum of slot_pages */
	unsigned next_slot;   /* slots never used start here */
};
PERCORE static struct stack_pool P;

static void on_retry(struct timer *t);

void stack_init_core(void)
{
	unsigned slots = arch_stack_slots();
	P.clean = kmalloc(sizeof(uint16_t) * slots);
	P.dirty = kmalloc(sizeof(uint16_t) * slots);
	P.slot_pages = kzalloc(slots);
	if (!P.clean || !P.dirty || !P.slot_pages)
		boot_fail("core %u: no memory for the stack slots", core_id());
	timer_init(&P.retry, on_retry);
}

static uintptr_t slot_top(unsigned slot)
{
	return arch_stack_slot_top(core_id(), slot);
}

size_t stack_pages_held(void)
{
	return P.pages;
}

uintptr_t stack_get(size_t bytes, unsigned *slot)
{
	unsigned s;
	if (P.ncache)
		s = P.cache[--P.ncache];
	else if (P.nclean)
		s = P.clean[--P.nclean];
	else if (P.next_slot < arch_stack_slots())
		s = P.next_slot++;
	else
		return 0;
	/* Only the part below what is mapped is newly mapped, and no TLB holds a translation of
	 * it: it was never mapped, or unmapped before every core's last flush. */
	size_t mapped = (size_t)P.slot_pages[s] * PAGE;
	if (bytes > mapped && arch_stack_map(slot_top(s) - mapped, bytes - mapped) < 0) {
		/* where it came from: it still has what it had mapped, or nothing */
		if (P.slot_pages[s])
			P.cache[P.ncache++] = (uint16_t)s;
		else
			P.clean[P.nclean++] = (uint16_t)s;
		return 0;
	}
	if (bytes > mapped) {
		P.pages += (bytes - mapped) / PAGE;
		P.slot_pages[s] = (uint8_t)(bytes / PAGE);
	}
	*slot = s;
	return slot_top(s);
}

/* ---- flush rounds ---------------------------------------------------------------------------- */

static void retry_at(uint64_t deadline)
{
	if (timer_queued(&P.retry))
		return;
	P.retry.deadline = deadline;
	timer_add(&P.retry);
}

/* The round's slots are clean now; the next round starts from the timer if slots wait. */
static void round_end(void)
{
	for (unsigned i = 0; i < P.flushing; i++)
		P.clean[P.nclean++] = P.dirty[i];
	P.ndirty -= P.flushing;
	memmove(P.dirty, P.dirty + P.flushing, sizeof(uint16_t) * P.ndirty);
	P.flushing = 0;
	if (P.ndirty)
		retry_at(now_ns());
}

/* Asks the cores not asked yet; a full ring leaves the core for the timer. Scheduler context. */
static void round_ask(void)
{
	struct coreset todo = P.ask;
	for (int c; (c = coreset_first(&todo)) >= 0;) {
		coreset_del(&todo, (unsigned)c);
		struct msg m = { .type = MSG_STACK_FLUSH };
		if (msg_send((unsigned)c, &m) < 0)
			continue;
		coreset_del(&P.ask, (unsigned)c);
		P.answers_due++;
	}
	if (!coreset_empty(&P.ask))
		retry_at(now_ns() + RETRY_NS);
	else if (!P.answers_due)
		round_end(); /* no other core */
}

/* Starts a round for the slots dirty now, unless one is in flight. Scheduler context. */
static void round_start(void)
{
	if (P.flushing || !P.ndirty)
		return;
	P.flushing = P.ndirty;
	for (unsigned c = 0; c < ncores; c++)
		if (c != core_id())
			coreset_add(&P.ask, c);
	round_ask();
}

static void on_retry(struct timer *t)
{
	(void)t;
	if (P.flushing)
		round_ask();
	else
		round_start();
}

/* Another core asks: forget every translation of its stacks, then say so. */
static void on_flush(const struct msg *m)
{
	arch_stack_tlb_flush();
	struct msg r = { .type = MSG_STACK_FLUSHED };
	msg_reply(m->src, &r); /* a request handler's one reply: it fits */
}
MSG_HANDLER(MSG_STACK_FLUSH, on_flush);

static void on_flushed(const struct msg *m)
{
	(void)m;
	kassert(P.answers_due > 0);
	if (--P.answers_due == 0 && coreset_empty(&P.ask))
		round_end();
}
MSG_HANDLER(MSG_STACK_FLUSHED, on_flushed);

void stack_put(unsigned slot)
{
	/* Its pages stay mapped for the next thread while the cache has room, or while few
	 * slots are left (STACK_RESERVE); its mapping unchanged, it is reusable at once. */
	if (P.ncache < THREAD_STACK_CACHE) {
		P.cache[P.ncache++] = (uint16_t)slot;
		return;
	}
	if (arch_stack_slots() - P.next_slot < STACK_RESERVE) {
		P.clean[P.nclean++] = (uint16_t)slot;
		return;
	}
	size_t pages = P.slot_pages[slot];
	arch_stack_unmap(slot_top(slot), pages * PAGE);
	P.pages -= pages;
	P.slot_pages[slot] = 0;
	P.dirty[P.ndirty++] = (uint16_t)slot;
	round_start();
}
