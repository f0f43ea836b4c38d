/*
 * vectors.h - every interrupt vector isle uses, in one place. Only arch/ includes it: portable
 * code names a device interrupt by enum arch_irq (arch.h), which irq.c turns into a vector here.
 *
 *   0..31      CPU exceptions (2 is the NMI); trap.c
 *   0x30..0xEF device interrupts: one vector per driver, shared by all its queues (irq.c)
 *   0xF0..0xFF the local APIC's own: timer, IPIs, spurious
 *
 * Priority is the vector's upper four bits; isle never masks by priority, so the order only
 * matters to the CPU's choice between two pending interrupts.
 */
#ifndef ISLE_ARCH_VECTORS_H
#define ISLE_ARCH_VECTORS_H

#define VEC_NMI 2         /* non-maskable interrupt: panic stop or watchdog question (trap.c) */
#define VEC_EXCEPTIONS 32 /* vectors below this are CPU exceptions */

#define VEC_DEVICE_FIRST 0x30 /* device interrupts: irq_register accepts these */
#define VEC_NET 0x40          /* virtio-net queues (net/virtio_net.c) */
#define VEC_BLK 0x41          /* virtio-blk queues (fs/virtio_blk.c) */
#define VEC_DEVICE_LAST 0xEF

#define VEC_TIMER 0xF0    /* LAPIC timer: a timer deadline passed */
#define VEC_DOORBELL 0xF1 /* IPI: a message arrived while the core was idle */
#define VEC_PROFILE 0xF2  /* IPI: write your profile to the console (kernel/profile.c) */
#define VEC_SPURIOUS 0xFF /* the APIC's spurious interrupt: no handler, no EOI */

#endif
