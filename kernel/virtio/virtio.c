/*
 * virtio.c - what every virtio driver does the same way, whatever the transport.
 */
#include <string.h>
#include <isle/errno.h>
#include "arch/x86_64/arch.h"
#include "kernel/printf.h"
#include "kernel/virtio/virtio.h"

/* Zeroed, 4 KiB aligned memory from the shared region (boot_alloc zeroes it). */
static void *shared_zeroed(size_t bytes)
{
	void *p = boot_alloc(bytes + 4096);
	return p ? (void *)ALIGN_UP((uintptr_t)p, 4096) : NULL;
}

int virtio_setup_queue(struct virtio_dev *d, struct virtq *q, uint16_t index, uint16_t max_size,
                       uint16_t vector, const char *name)
{
	uint16_t size = MIN(d->ops->queue_max(d, index), max_size);
	if (size < 2 || (size & (size - 1)))
		return -EIO;
	void *ring = shared_zeroed(virtq_ring_bytes(size));
	void *meta = shared_zeroed((size_t)size * 16);
	size_t len = strlen(name) + 1;
	char *copy = boot_alloc(len);
	if (!ring || !meta || !copy)
		return -ENOMEM;
	memcpy(copy, name, len);
	virtq_init(q, copy, index, size, ring, meta);
	return d->ops->setup_queue(d, q, vector);
}
