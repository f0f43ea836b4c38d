/*
 * virtq.h - a split virtqueue (virtio 1.x, layout from linux/virtio_ring.h) owned by one core.
 *
 * Contract: after set-up, exactly one core adds buffers, kicks and collects used buffers of a
 * queue; no locks. The device is not trusted: a used entry with an unknown id or a length
 * beyond the buffer marks the queue broken (reported once, then the queue is ignored).
 */
#ifndef ISLE_NET_VIRTQ_H
#define ISLE_NET_VIRTQ_H

#include "kernel/compiler.h"

struct vring_desc;
struct vring_avail;
struct vring_used;

struct virtq_buf {
	void *addr;    /* identity-mapped memory (kmalloc, boot_alloc) */
	uint32_t len;  /* bytes */
	bool writable; /* the device writes it (receive), else reads it (send) */
};

struct virtq {
	const char *name;           /* [I] for reports, e.g. "virtio-net rx2" */
	uint16_t size;              /* [I] entries, a power of two */
	uint16_t index;             /* [I] queue number in the device */
	struct vring_desc *desc;    /* [o] descriptor table */
	struct vring_avail *avail;  /* [o] driver -> device ring */
	struct vring_used *used;    /* [a] device -> driver ring (the device writes it) */
	volatile void *notify_addr; /* [I] where a kick is written (device register) */
	uint16_t notify_data;       /* [I] what is written there: the queue index */
	bool notify_32;             /* [I] 32-bit write (MMIO) instead of 16-bit (PCI) */
	uint16_t free_head;         /* [o] first free descriptor (chained through next) */
	uint16_t num_free;          /* [o] free descriptors */
	uint16_t avail_idx;         /* [o] our copy of avail->idx, published by virtq_kick */
	uint16_t last_used;         /* [o] next used entry to look at */
	void **token;               /* [o] per head descriptor: what the caller gave virtq_add */
	uint32_t *in_len;           /* [o] per head descriptor: writable bytes (bounds check) */
	uint16_t *chain;            /* [o] per head descriptor: descriptors in its chain */
	bool broken;                /* [o] the device misbehaved; queue no longer used */
};

/* Bytes of ring memory for `size` entries (4 KiB aligned start expected). */
size_t virtq_ring_bytes(uint16_t size);
/* Sets up q over `ring` (zeroed, virtq_ring_bytes long) and `meta` (size * 16 bytes).
 * Physical addresses of the three parts for the device: virtq_desc_addr etc. */
void virtq_init(struct virtq *q, const char *name, uint16_t index, uint16_t size, void *ring,
                void *meta);
uint64_t virtq_desc_addr(const struct virtq *q);
uint64_t virtq_avail_addr(const struct virtq *q);
uint64_t virtq_used_addr(const struct virtq *q);

/* Queues one buffer chain (readable ones first). 0, -ENOSPC (no descriptors), -EIO (broken). */
int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n, void *token);
/* Publishes what was added and notifies the device unless it said it needs no kick; true if
 * it notified (the device had asked to be: for a receive queue, it had run out of buffers). */
bool virtq_kick(struct virtq *q);
/* Writes q's doorbell, whatever the device asked: only [I] fields are read, so any core may. */
void virtq_notify(const struct virtq *q);
/* The next used chain's token and the bytes the device wrote; NULL when none (or broken). */
void *virtq_get(struct virtq *q, uint32_t *len);
/* On a broken queue, one chain the device never gave back (its token, forgotten from then on),
 * so that its waiter can be told; NULL when none is left or the queue works. */
void *virtq_abandon(struct virtq *q);
bool virtq_has_used(const struct virtq *q);
/* Interrupt suppression: off while we poll; virtq_intr_on returns true if buffers were used
 * meanwhile (the caller polls again instead of sleeping). */
void virtq_intr_off(struct virtq *q);
bool virtq_intr_on(struct virtq *q);

#endif
