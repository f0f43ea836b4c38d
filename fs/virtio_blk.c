/*
 * virtio_blk.c - virtio-blk disks with one request queue per core.
 *
 * Boot core, before the other cores start (vblk_probe): find every virtio-blk device (PCI on
 * pc/q35, MMIO on microvm), negotiate VERSION_1, FLUSH, RO and MQ, and set up
 * min(device queues, cores) request queues; queue i signals core i through MSI-X entry i.
 * From then on queue i belongs to core i alone.
 *
 * A request (vblk_rw, vblk_flush) is one descriptor chain: a header the device reads, the data
 * (the device reads it for a write, writes it for a read) and a status byte it writes. The
 * calling thread sleeps until its request completes; the completion interrupt only ends the
 * core's halt, and the core's poll (run by the scheduler) collects used requests and wakes
 * exactly the threads that wait for them. A core without a queue of its own (more cores than
 * the device has queues, or an MMIO device with its single interrupt line) hands its requests
 * to core (id mod queues) by message, and gets the completion back by message.
 *
 * Data the device touches must be identity-mapped memory (the heap); a buffer on a thread
 * stack or in the image goes through a bounce buffer. Requests are split at MAX_REQ_BYTES. The
 * device is not trusted: the virtqueue checks used entries, and a status other than OK, or a
 * request beyond the disk, is -EIO / -EINVAL for the caller.
 */
#include <string.h>
#include <isle/errno.h>
#include <isle/mem.h>
#include <isle/msg.h>
#include <isle/thread.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include "arch/x86_64/arch.h"
#include "fs/vblk_status.h"
#include "fs/virtio_blk.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/core.h"
#include "kernel/printf.h"
#include "kernel/sched.h"
#include "kernel/virtio/virtio.h"

#define QUEUE_SIZE 128
#define MAX_REQ_BYTES (64 * 1024)

/*
 * One request in flight. Heap memory: the device reads hdr and writes status. It moves between
 * cores by message, one owner at a time: the requesting core `core` fills it, the queue's core
 * owns it from MSG_BLK_SUBMIT (or enqueue, when that is the same core) until complete(), and
 * MSG_BLK_DONE, whose ring publishes result, gives it back. [I] here: set before it is handed
 * over, then only read (by both cores).
 */
struct vblk_req {
	struct virtio_blk_outhdr hdr; /* [I] type, sector (little-endian, as the device wants) */
	uint8_t status;               /* the device's: written by it, read by the queue's core
	                               * after the used index (acquire); VBLK_STATUS_UNSET until */
	void *data;                   /* [I] identity-mapped data buffer, NULL for a flush */
	uint32_t len;                 /* [I] bytes of data */
	struct vblk_dev *dev;         /* [I] the disk */
	unsigned core;                /* [I] core of the waiting thread */
	struct thread *waiter;        /* [I] the thread to wake (touched on `core` only) */
	bool done;                    /* [m] set on `core` when the request completed (directly or
	                               * by MSG_BLK_DONE); read there by the waiter */
	int result;                   /* [o] of the queue's core while it owns the request; 0 or
	                               * -EIO, sent with MSG_BLK_DONE, read on `core` once done */
	struct vblk_req *next;        /* [o] of the queue's core: in its list of requests waiting
	                               * for descriptors, or in its done_pending once completed */
};

/* One request queue: set up by the boot core, then owned by core `index` alone. */
struct vblk_queue {
	struct virtq vq;            /* [o] */
	struct vblk_req *wait_head; /* [o] requests waiting for free descriptors, FIFO */
	struct vblk_req *wait_tail; /* [o] */
	bool no_status_told;        /* [o] a completion without a status byte was reported */
} __cacheline_aligned;

struct vblk_dev {
	struct blkdev blk;        /* [I] what filesystems use (blk.priv points back here) */
	struct virtio_dev vd;     /* [I] the transport */
	char name[8];             /* [I] "vda", "vdb", ... */
	unsigned queues;          /* [I] request queues in use */
	bool msix;                /* [I] interrupts routed per core */
	bool can_flush;           /* [I] VIRTIO_BLK_F_FLUSH negotiated */
	struct vblk_queue *queue; /* [I] array of `queues`; queue[i] is [o] of core i */
};

static struct vblk_dev disks[VBLK_MAX_DISKS]; /* [I] after vblk_probe */
static unsigned ndisks;                       /* [I] */

PERCORE static struct vblk_stats stats[VBLK_MAX_DISKS]; /* [o] requests this core's threads made */

/* ---- boot: probe and set up ---------------------------------------------------------------- */

static int setup_queue(struct vblk_dev *d, unsigned i)
{
	char name[32];
	uint16_t vector = d->msix ? (uint16_t)i : VIRTIO_NO_VECTOR;
	if (d->msix && arch_irq_route(d->vd.pci, i, i, IRQ_BLK) < 0)
		return -EIO;
	if (d->vd.ops->queue_max(&d->vd, (uint16_t)i) < 4)
		return -EIO; /* a request is a chain of 3 descriptors */
	ksnprintf(name, sizeof(name), "virtio-blk %s q%u", d->name, i);
	return virtio_setup_queue(&d->vd, &d->queue[i].vq, (uint16_t)i, QUEUE_SIZE, vector, name);
}

static int vblk_read_op(struct blkdev *b, uint64_t sector, void *buf, size_t count);
static int vblk_write_op(struct blkdev *b, uint64_t sector, const void *buf, size_t count);
static int vblk_flush_op(struct blkdev *b);

/* Negotiates and sets up one opened device as disk number ndisks. */
static void setup_disk(struct vblk_dev *d)
{
	const struct virtio_ops *ops = d->vd.ops;
	uint64_t have = ops->features(&d->vd);
	uint64_t want = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH |
	                1ull << VIRTIO_BLK_F_RO | 1ull << VIRTIO_BLK_F_MQ;
	uint64_t f = have & want;
	ksnprintf(d->name, sizeof(d->name), "vd%c", 'a' + ndisks);
	/* only what the device's configuration registers hold is read */
	size_t cfg_len = d->vd.device_cfg_len;
	if (cfg_len < offsetof(struct virtio_blk_config, num_queues) + 2)
		f &= ~(1ull << VIRTIO_BLK_F_MQ);
	if (cfg_len < sizeof(uint64_t)) {
		log_error("virtio-blk %s: %zu bytes of configuration, no capacity; disk not used",
		          d->vd.where, cfg_len);
		ops->fail(&d->vd);
		return;
	}
	if (!(f & (1ull << VIRTIO_F_VERSION_1)) || ops->set_features(&d->vd, f) < 0) {
		log_error("virtio-blk %s: device refused the features (offered %#lx)", d->vd.where,
		          have);
		ops->fail(&d->vd);
		return;
	}
	/* device configuration registers: volatile, read from the device each time */
	volatile struct virtio_blk_config *cfg = (volatile void *)d->vd.device_cfg;
	uint64_t capacity = cfg->capacity;
	unsigned max_queues = (f & (1ull << VIRTIO_BLK_F_MQ)) ? cfg->num_queues : 1;
	if (max_queues == 0)
		max_queues = 1;
	/* An MMIO device has one interrupt line: one queue, on the boot core. */
	d->queues = d->vd.mmio ? 1 : MIN(max_queues, arch_irq_cores());
	d->msix = d->vd.pci && pci_msix_entries(d->vd.pci) >= d->queues;
	d->can_flush = f & (1ull << VIRTIO_BLK_F_FLUSH);
	d->queue = boot_alloc(sizeof(struct vblk_queue) * d->queues);
	if (!d->queue)
		goto fail;
	memset(d->queue, 0, sizeof(struct vblk_queue) * d->queues);
	if (d->vd.mmio && arch_irq_route(NULL, d->vd.irq, 0, IRQ_BLK) < 0)
		goto fail;
	for (unsigned i = 0; i < d->queues; i++)
		if (setup_queue(d, i) < 0)
			goto fail;
	if (d->vd.common)
		d->vd.common->msix_config =
		        VIRTIO_NO_VECTOR; /* device register: no config interrupts */
	ops->driver_ok(&d->vd);
	d->blk = (struct blkdev){ .name = d->name,
		                  .sectors = capacity,
		                  .readonly = f & (1ull << VIRTIO_BLK_F_RO),
		                  .read = vblk_read_op,
		                  .write = vblk_write_op,
		                  .flush = vblk_flush_op,
		                  .priv = d };
	log_info("virtio-blk %s: %s, %lu MiB%s, %u queue%s (device has %u), %s", d->vd.where,
	         d->name, capacity >> 11, d->blk.readonly ? ", read-only" : "", d->queues,
	         d->queues > 1 ? "s" : "", max_queues,
	         d->msix      ? "MSI-X per core"
	         : d->vd.mmio ? "interrupt line to core 0"
	                      : "polling");
	if (d->queues < ncores)
		log_info("virtio-blk %s: cores %u..%u send their requests to other cores' queues",
		         d->name, d->queues, ncores - 1);
	ndisks++;
	return;
fail:
	log_error("virtio-blk %s: set-up failed; disk not used", d->vd.where);
	ops->fail(&d->vd);
}

void vblk_probe(void)
{
	for (unsigned i = 0; ndisks < VBLK_MAX_DISKS; i++) {
		struct pci_dev *p = pci_find(0x1af4, 0x1042, i);
		if (!p)
			break;
		if (virtio_pci_open(p, &disks[ndisks].vd) == 0)
			setup_disk(&disks[ndisks]);
	}
	for (unsigned i = 0; ndisks < VBLK_MAX_DISKS; i++) {
		struct pci_dev *p = pci_find(0x1af4, 0x1001, i); /* transitional */
		if (!p)
			break;
		if (virtio_pci_open(p, &disks[ndisks].vd) == 0)
			setup_disk(&disks[ndisks]);
	}
	uint64_t base;
	unsigned irq;
	const struct cmdline_list *mmio = kernel_mmio_devices();
	for (unsigned i = 0; i < mmio->n && ndisks < VBLK_MAX_DISKS; i++)
		if (virtio_mmio_parse(mmio->items[i], &base, &irq) == 0 &&
		    virtio_mmio_open(base, irq, VIRTIO_ID_BLOCK, &disks[ndisks].vd) == 0)
			setup_disk(&disks[ndisks]);
	for (unsigned i = 0; ndisks < VBLK_MAX_DISKS && arch_virtio_mmio(i, &base, &irq); i++)
		if (virtio_mmio_open(base, irq, VIRTIO_ID_BLOCK, &disks[ndisks].vd) == 0)
			setup_disk(&disks[ndisks]);
}

/* ---- every core: its queues -------------------------------------------------------------- */

/* Completed requests of other cores whose MSG_BLK_DONE found the ring full (the poll has no
 * thread to wait): told on the next poll. */
PERCORE static struct vblk_req *done_pending; /* [o] */

static void on_done(const struct msg *m)
{
	struct vblk_req *r = (void *)(uintptr_t)m->w[0];
	r->done = true;
	thread_wake(r->waiter);
}
MSG_HANDLER(MSG_BLK_DONE, on_done);

/*
 * r is finished with result: on the queue's core, its result is set here; done, which its
 * waiting thread polls, is set on that thread's own core, directly or by MSG_BLK_DONE (whose
 * message publishes the result with it). Once done is set, r may be freed at any moment.
 */
static void complete(struct vblk_req *r, int result)
{
	r->result = result;
	if (r->core == core_id()) {
		r->done = true;
		thread_wake(r->waiter);
	} else {
		/* A reply: on_done sends nothing. The ring publishes r->result with it. */
		struct msg m = { .type = MSG_BLK_DONE, .w = { (uintptr_t)r } };
		if (msg_reply(r->core, &m) < 0) {
			r->next = done_pending;
			done_pending = r;
		}
	}
}

/* Tells the waiting cores what the last polls could not; true if some are still waiting. */
static bool flush_done(void)
{
	struct vblk_req *r = done_pending;
	done_pending = NULL;
	while (r) {
		struct vblk_req *next = r->next;
		complete(r, r->result); /* back on the list if the ring is still full */
		r = next;
	}
	return done_pending != NULL;
}

/* Gives waiting requests to the device while it has descriptors. */
static void submit_waiting(struct vblk_queue *q)
{
	bool added = false;
	while (q->wait_head) {
		struct vblk_req *r = q->wait_head;
		struct virtq_buf b[3] = { { &r->hdr, sizeof(r->hdr), false },
			                  { r->data, r->len, r->hdr.type == VIRTIO_BLK_T_IN },
			                  { &r->status, 1, true } };
		unsigned n = r->len ? 3 : 2;
		if (!r->len)
			b[1] = b[2];
		int err = virtq_add(&q->vq, b, n, r);
		if (err == -ENOSPC)
			break;
		q->wait_head = r->next;
		if (!q->wait_head)
			q->wait_tail = NULL;
		if (err < 0) { /* the queue is broken */
			complete(r, -EIO);
			continue;
		}
		added = true;
	}
	if (added)
		virtq_kick(&q->vq);
}

/* Queues r on this core's queue of its disk (thread or handler context). */
static void enqueue(struct vblk_queue *q, struct vblk_req *r)
{
	r->next = NULL;
	if (q->wait_tail)
		q->wait_tail->next = r;
	else
		q->wait_head = r;
	q->wait_tail = r;
	submit_waiting(q);
}

static void on_submit(const struct msg *m)
{
	struct vblk_req *r = (void *)(uintptr_t)m->w[0];
	enqueue(&r->dev->queue[core_id()], r);
}
MSG_HANDLER(MSG_BLK_SUBMIT, on_submit);

/* The result of r, which the device gave back saying it wrote `used` bytes. */
static int request_result(struct vblk_queue *q, struct vblk_req *r, uint32_t used)
{
	uint32_t writable = (r->hdr.type == VIRTIO_BLK_T_IN ? r->len : 0) + 1;
	enum vblk_outcome o = vblk_outcome(r->status, used, writable);
	if (o == VBLK_NO_STATUS && !q->no_status_told) {
		q->no_status_told = true;
		log_error("%s: the device completed a request without its status byte (status %#x, "
		          "%u of %u bytes written); such requests fail with -EIO",
		          q->vq.name, r->status, used, writable);
	}
	return o == VBLK_DONE ? 0 : -EIO;
}

static bool poll_queue(struct vblk_queue *q)
{
	bool did = false;
	uint32_t len;
	struct vblk_req *r;
	while ((r = virtq_get(&q->vq, &len))) {
		did = true;
		complete(r, request_result(q, r, len));
	}
	while ((r = virtq_abandon(&q->vq))) { /* the device broke: what it held fails */
		did = true;
		complete(r, -EIO);
	}
	if (did)
		submit_waiting(q);
	return did;
}

static bool vblk_poll(void *arg)
{
	(void)arg; /* one poll for all disks: each core serves its queue of every disk */
	bool did = done_pending && flush_done();
	for (unsigned i = 0; i < ndisks; i++)
		if (core_id() < disks[i].queues)
			did |= poll_queue(&disks[i].queue[core_id()]);
	return did;
}

static void on_irq(void *arg)
{
	(void)arg; /* ending the halt is enough: the scheduler loop polls the queues */
	/* an MMIO disk's line goes to core 0 (vblk_probe): only there may it be lowered */
	for (unsigned i = 0; i < ndisks && core_id() == 0; i++)
		if (disks[i].vd.mmio)
			virtio_mmio_ack(&disks[i].vd); /* lower the (level-triggered) line */
}

void vblk_attach_core(void)
{
	bool mine = false;
	for (unsigned i = 0; i < ndisks; i++)
		mine |= core_id() < disks[i].queues;
	if (!mine)
		return;
	arch_irq_handle(IRQ_BLK, on_irq, NULL);
	if (sched_add_poll(vblk_poll, NULL) < 0)
		log_error("virtio-blk: no poll slot on core %u", core_id());
}

/* ---- requests ------------------------------------------------------------------------------ */

/* One request of at most MAX_REQ_BYTES; data identity-mapped (or NULL for a flush). */
static int do_request(struct vblk_dev *d, uint32_t type, uint64_t sector, void *data, uint32_t len)
{
	struct vblk_req *r = kzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->hdr.type = type;
	r->hdr.sector = sector;
	r->status = VBLK_STATUS_UNSET; /* a completion that leaves it so is no success */
	r->data = data;
	r->len = len;
	r->dev = d;
	r->core = core_id();
	r->waiter = thread_self();
	unsigned qi = core_id() < d->queues ? core_id() : core_id() % d->queues;
	if (qi == core_id()) {
		enqueue(&d->queue[qi], r);
	} else {
		struct msg m = { .type = MSG_BLK_SUBMIT, .w = { (uintptr_t)r } };
		msg_send(qi, &m);
	}
	while (!r->done)
		thread_block();
	int result = r->result;
	struct vblk_stats *st = &stats[d - disks];
	if (qi != core_id())
		st->forwarded++;
	if (result) {
		st->errors++;
	} else {
		if (type == VIRTIO_BLK_T_IN)
			st->reads++, st->bytes_read += len;
		else if (type == VIRTIO_BLK_T_OUT)
			st->writes++, st->bytes_written += len;
		else
			st->flushes++;
	}
	kfree(r);
	return result;
}

/* Identity-mapped heap memory can go to the device as it is; stacks and the image cannot. A
 * core's private RAM is all core_of_addr knows: stacks, the image and the core window lie above
 * the identity map, where it answers -1. */
static bool dma_ok(const void *p)
{
	return core_of_addr(p) >= 0;
}

static int rw(struct blkdev *b, uint32_t type, uint64_t sector, void *buf, size_t count)
{
	struct vblk_dev *d = b->priv;
	if (!thread_self())
		return -EINVAL; /* only threads can wait */
	if (sector > b->sectors || count > b->sectors - sector)
		return -EINVAL;
	if (type == VIRTIO_BLK_T_OUT && b->readonly)
		return -EROFS;
	bool direct = dma_ok(buf);
	void *bounce = direct ? NULL : kmalloc(MIN(count * SECTOR_SIZE, (size_t)MAX_REQ_BYTES));
	if (!direct && !bounce)
		return -ENOMEM;
	int err = 0;
	uint8_t *p = buf;
	while (count && !err) {
		size_t n = MIN(count, (size_t)MAX_REQ_BYTES / SECTOR_SIZE);
		uint32_t bytes = (uint32_t)(n * SECTOR_SIZE);
		void *data = direct ? p : bounce;
		if (!direct && type == VIRTIO_BLK_T_OUT)
			memcpy(bounce, p, bytes);
		err = do_request(d, type, sector, data, bytes);
		if (!err && !direct && type == VIRTIO_BLK_T_IN)
			memcpy(p, bounce, bytes);
		p += bytes;
		sector += n;
		count -= n;
	}
	kfree(bounce);
	return err;
}

static int vblk_read_op(struct blkdev *b, uint64_t sector, void *buf, size_t count)
{
	return rw(b, VIRTIO_BLK_T_IN, sector, buf, count);
}

static int vblk_write_op(struct blkdev *b, uint64_t sector, const void *buf, size_t count)
{
	return rw(b, VIRTIO_BLK_T_OUT, sector, (void *)buf, count);
}

static int vblk_flush_op(struct blkdev *b)
{
	struct vblk_dev *d = b->priv;
	if (!thread_self())
		return -EINVAL;
	/* Without FLUSH the device has no write cache: a completed write is durable already. */
	return d->can_flush ? do_request(d, VIRTIO_BLK_T_FLUSH, 0, NULL, 0) : 0;
}

/* ---- what the rest of the kernel sees ------------------------------------------------------ */

unsigned vblk_count(void)
{
	return ndisks;
}

struct blkdev *vblk_get(unsigned i)
{
	return i < ndisks ? &disks[i].blk : NULL;
}

void vblk_stats(unsigned i, struct vblk_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (i < ndisks)
		*out = stats[i];
}

/* Called by the boot sequence on every core when the image links the file system. */
void blk_init_core(void)
{
	if (core_id() == 0)
		vblk_probe(); /* before the other cores start: device set-up is the boot core's */
	vblk_attach_core();
}
