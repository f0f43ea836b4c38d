/*
 * virtq.c - split virtqueues.
 *
 * Memory layout of one queue's ring (virtio 1.x allows the three parts anywhere; we keep them
 * together): descriptor table (16 bytes x size), available ring (6 + 2 x size), padding to 4 KiB,
 * used ring (6 + 8 x size). Free descriptors are chained through their `next` field.
 *
 * Ordering with the device (a bus master that reads and writes our memory):
 *  - descriptors and the avail ring slot are written before avail->idx is published
 *    (release store), so the device never sees an index for an unwritten slot;
 *  - before reading whether the device wants a kick, a full fence orders our idx store before
 *    the load of used->flags (else both sides could wait for each other);
 *  - used->idx is read with acquire before the used elements it covers.
 */
#include <string.h>
#include <isle/errno.h>
#include <linux/virtio_ring.h>
#include "kernel/console.h"
#include "kernel/virtio/virtq.h"

size_t virtq_ring_bytes(uint16_t size)
{
	size_t first = sizeof(struct vring_desc) * size + 6 + 2u * size;
	return ALIGN_UP(first, 4096) + 6 + 8u * size;
}

void virtq_init(struct virtq *q, const char *name, uint16_t index, uint16_t size, void *ring,
                void *meta)
{
	memset(q, 0, sizeof(*q));
	q->name = name;
	q->index = index;
	q->size = size;
	q->desc = ring;
	q->avail = (struct vring_avail *)((char *)ring + sizeof(struct vring_desc) * size);
	size_t first = sizeof(struct vring_desc) * size + 6 + 2u * size;
	q->used = (struct vring_used *)((char *)ring + ALIGN_UP(first, 4096));
	q->token = meta;
	q->in_len = (uint32_t *)((char *)meta + sizeof(void *) * size);
	q->chain = (uint16_t *)((char *)meta + (sizeof(void *) + 4) * size);
	for (uint16_t i = 0; i < size; i++)
		q->desc[i].next = (uint16_t)(i + 1);
	q->free_head = 0;
	q->num_free = size;
}

uint64_t virtq_desc_addr(const struct virtq *q)
{
	return (uintptr_t)q->desc;
}

uint64_t virtq_avail_addr(const struct virtq *q)
{
	return (uintptr_t)q->avail;
}

uint64_t virtq_used_addr(const struct virtq *q)
{
	return (uintptr_t)q->used;
}

static void report(struct virtq *q, const char *what, unsigned a, unsigned b)
{
	if (!q->broken)
		log_error("%s: device %s (%u, %u); queue disabled", q->name, what, a, b);
	q->broken = true;
}

int virtq_add(struct virtq *q, const struct virtq_buf *bufs, unsigned n, void *token)
{
	if (q->broken)
		return -EIO;
	if (n == 0 || n > q->num_free)
		return -ENOSPC;
	uint16_t head = q->free_head, i = head;
	uint32_t in_len = 0;
	for (unsigned k = 0; k < n; k++) {
		struct vring_desc *d = &q->desc[i];
		d->addr = (uintptr_t)bufs[k].addr;
		d->len = bufs[k].len;
		d->flags = (uint16_t)((bufs[k].writable ? VRING_DESC_F_WRITE : 0) |
		                      (k + 1 < n ? VRING_DESC_F_NEXT : 0));
		if (bufs[k].writable)
			in_len += bufs[k].len;
		i = d->next;
	}
	q->free_head = i;
	q->num_free = (uint16_t)(q->num_free - n);
	q->token[head] = token;
	q->in_len[head] = in_len;
	q->chain[head] = (uint16_t)n;
	q->avail->ring[q->avail_idx & (q->size - 1)] = head;
	q->avail_idx++;
	return 0;
}

bool virtq_kick(struct virtq *q)
{
	/* Release: the descriptors and ring slots written by virtq_add become visible to the
	 * device before the index that hands them over. */
	__atomic_store_n(&q->avail->idx, q->avail_idx, __ATOMIC_RELEASE);
	/* Full fence: the idx store must be visible before we read the device's "no notify"
	 * flag, or the device could go to sleep having missed our new buffers. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* Relaxed: the fence above orders it; the device writes the flag at any time. */
	if (__atomic_load_n(&q->used->flags, __ATOMIC_RELAXED) & VRING_USED_F_NO_NOTIFY)
		return false;
	virtq_notify(q);
	return true;
}

void virtq_notify(const struct virtq *q)
{
	if (q->notify_32)
		*(volatile uint32_t *)q->notify_addr = q->notify_data; /* device register */
	else
		*(volatile uint16_t *)q->notify_addr = q->notify_data; /* device register */
}

bool virtq_has_used(const struct virtq *q)
{
	/* Acquire: pairs with the device's release of used->idx, as in virtq_get */
	return !q->broken && __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->last_used;
}

void *virtq_get(struct virtq *q, uint32_t *len)
{
	if (q->broken)
		return NULL;
	/* Acquire: the used element and the data the device wrote are read after the index. */
	uint16_t idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	if (idx == q->last_used)
		return NULL;
	if ((uint16_t)(idx - q->last_used) > q->size) {
		report(q, "moved the used index too far", idx, q->last_used);
		return NULL;
	}
	struct vring_used_elem *e = &q->used->ring[q->last_used & (q->size - 1)];
	/* Each read once: the device may write the element again, and the checks below must be
	 * about the values used (relaxed: the acquire above already ordered them). */
	uint32_t id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	uint32_t n = __atomic_load_n(&e->len, __ATOMIC_RELAXED); /* as id: read once */
	if (id >= q->size || !q->token[id]) {
		report(q, "returned an unknown descriptor id", id, q->size);
		return NULL;
	}
	if (n > q->in_len[id]) {
		report(q, "wrote more than the buffer holds", n, q->in_len[id]);
		return NULL;
	}
	q->last_used++;
	void *token = q->token[id];
	q->token[id] = NULL;
	/* Give the chain back: walk it to its end and link it in front of the free list. */
	uint16_t tail = (uint16_t)id;
	for (uint16_t k = 1; k < q->chain[id]; k++)
		tail = q->desc[tail].next;
	q->desc[tail].next = q->free_head;
	q->free_head = (uint16_t)id;
	q->num_free = (uint16_t)(q->num_free + q->chain[id]);
	*len = n;
	return token;
}

void *virtq_abandon(struct virtq *q)
{
	if (!q->broken)
		return NULL;
	for (uint16_t i = 0; i < q->size; i++) {
		void *token = q->token[i];
		if (token) {
			q->token[i] =
			        NULL; /* the descriptors stay the device's: the queue is dead */
			return token;
		}
	}
	return NULL;
}

void virtq_intr_off(struct virtq *q)
{
	q->avail->flags = VRING_AVAIL_F_NO_INTERRUPT; /* a hint: the device may still interrupt */
}

bool virtq_intr_on(struct virtq *q)
{
	q->avail->flags = 0;
	/* Full fence: the flag store must be visible before we look at used->idx once more, so
	 * that either we see the new buffer or the device sees the flag and interrupts. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return virtq_has_used(q);
}
