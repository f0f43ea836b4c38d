/*
 * test_virtq.c - split virtqueues (kernel/virtio/virtq.c) against a fake device.
 *
 * The fake device does what a real one does with the rings: it takes the heads the driver
 * published in the available ring, walks their descriptor chains, and hands chains back
 * through the used ring with a length. Each test then makes it misbehave in one way: a used
 * entry naming a descriptor out of range, one that is free, one inside a chain, a chain given
 * back twice, a length beyond the writable bytes, a used index moved too far or backwards. The
 * queue must mark itself broken, report it exactly once (klog is counted here), refuse new
 * buffers, and never hand its caller a token the device did not finish, nor one twice;
 * virtq_abandon then returns each chain still out exactly once. A random run mixes good and
 * bad behaviour and checks the same promises after every step.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/virtio_ring.h>
#include <isle/errno.h>
#include "kernel/console.h"
#include "kernel/virtio/virtq.h"
#include "fakerand.h"
#include "test.h"

/* ---- what the kernel provides: the log, counted -------------------------------------------- */

static int errors_logged; /* log_error calls so far */

void klog(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (level == LOG_ERROR)
		errors_logged++;
	if (getenv("VIRTQ_VERBOSE")) {
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

/* ---- the fake device ------------------------------------------------------------------------ */

static struct {
	uint16_t avail_seen; /* available entries taken */
	uint16_t used_idx;   /* the used index the device published last */
} dev;

static void dev_reset(void)
{
	memset(&dev, 0, sizeof(dev));
}

/* ---- a queue in host memory ------------------------------------------------------------------ */

#define QSIZE 8

static struct virtq q;
static void *ring, *meta;
static uint16_t doorbell; /* the notify register */

static void queue_new(void)
{
	free(ring);
	free(meta);
	size_t bytes = ALIGN_UP(virtq_ring_bytes(QSIZE), 4096);
	ring = aligned_alloc(4096, bytes);
	meta = calloc(QSIZE, 16);
	if (!ring || !meta)
		abort();
	memset(ring, 0, bytes);
	virtq_init(&q, "test q", 0, QSIZE, ring, meta);
	q.notify_addr = &doorbell;
	errors_logged = 0;
	dev_reset();
}

/* The next head the driver published, or -1. */
static int dev_take(void)
{
	/* Acquire: the descriptors were written before the index (virtq_kick's release). */
	uint16_t idx = __atomic_load_n(&q.avail->idx, __ATOMIC_ACQUIRE);
	if (idx == dev.avail_seen)
		return -1;
	return q.avail->ring[dev.avail_seen++ % QSIZE];
}

/* Writable bytes of the chain at head. */
static uint32_t dev_writable(uint16_t head)
{
	uint32_t n = 0;
	for (uint16_t i = head;; i = q.desc[i].next) {
		if (q.desc[i].flags & VRING_DESC_F_WRITE)
			n += q.desc[i].len;
		if (!(q.desc[i].flags & VRING_DESC_F_NEXT))
			return n;
	}
}

/* Writes the used entry at position `at` (not yet published). */
static void dev_put(uint16_t at, uint32_t id, uint32_t len)
{
	q.used->ring[at % QSIZE].id = id;
	q.used->ring[at % QSIZE].len = len;
}

/* Publishes the used index (release: the entries before it). */
static void dev_publish(uint16_t idx)
{
	dev.used_idx = idx;
	__atomic_store_n(&q.used->idx, idx, __ATOMIC_RELEASE);
}

/* Hands one chain back, as a device should (or not: any id and length). */
static void dev_use(uint32_t id, uint32_t len)
{
	dev_put(dev.used_idx, id, len);
	dev_publish((uint16_t)(dev.used_idx + 1));
}

/* ---- the driver side ----------------------------------------------------------------------- */

static char bufs[QSIZE][3][64]; /* data the descriptors point at */
static int tokens[QSIZE * 4];   /* their addresses are the tokens */

/* Adds a chain of n buffers (the last `writable` of them writable, 64 bytes each) with token
 * &tokens[t]; returns virtq_add's result. */
static int add_chain(unsigned n, unsigned writable, unsigned t)
{
	struct virtq_buf b[3];
	for (unsigned k = 0; k < n; k++)
		b[k] = (struct virtq_buf){ bufs[t % QSIZE][k], 64, k >= n - writable };
	return virtq_add(&q, b, n, &tokens[t]);
}

/* Adds and publishes one single writable buffer per token 0..n-1; returns the heads. */
static void add_singles(unsigned n, int *heads)
{
	for (unsigned t = 0; t < n; t++)
		CHECK_EQ(add_chain(1, 1, t), 0);
	virtq_kick(&q);
	for (unsigned t = 0; t < n; t++)
		heads[t] = dev_take();
}

/* After the device broke the queue: it stays broken and silent, and refuses new buffers. */
static void check_broken(void)
{
	uint32_t len;
	CHECK(q.broken);
	CHECK_EQ(errors_logged, 1);
	CHECK(virtq_get(&q, &len) == NULL);
	CHECK(!virtq_has_used(&q));
	CHECK_EQ(add_chain(1, 1, 0), -EIO);
	CHECK_EQ(errors_logged, 1);
}

/* The device gives back `id` with `len` bytes: that breaks the queue. */
static void use_breaks(uint32_t id, uint32_t len)
{
	uint32_t n;
	dev_use(id, len);
	CHECK(virtq_get(&q, &n) == NULL);
	check_broken();
}

/* Collects what virtq_abandon returns: each token still out, once; then NULL. */
static unsigned abandon_all(bool seen[], unsigned ntokens)
{
	unsigned n = 0;
	void *t;
	while ((t = virtq_abandon(&q))) {
		unsigned i = (unsigned)((int *)t - tokens);
		CHECK(i < ntokens);
		if (i < ntokens) {
			CHECK(!seen[i]);
			seen[i] = true;
		}
		n++;
	}
	CHECK(virtq_abandon(&q) == NULL);
	return n;
}

/* ---- a device that behaves ----------------------------------------------------------------- */

TEST(chains_in_and_out)
{
	queue_new();
	/* Many laps, so that both 16-bit indexes wrap around. */
	for (unsigned lap = 0; lap < 30000; lap++) {
		CHECK_EQ(add_chain(3, 1, 0), 0); /* header, data, status: a disk request */
		CHECK_EQ(add_chain(2, 2, 1), 0); /* two writable parts */
		CHECK_EQ(add_chain(1, 0, 2), 0); /* a frame to send: nothing writable */
		CHECK_EQ(q.num_free, QSIZE - 6);
		virtq_kick(&q);
		int h0 = dev_take(), h1 = dev_take(), h2 = dev_take();
		REQUIRE(h0 >= 0 && h1 >= 0 && h2 >= 0 && dev_take() < 0);
		CHECK_EQ(dev_writable((uint16_t)h0), 64);
		CHECK_EQ(dev_writable((uint16_t)h1), 128);
		CHECK_EQ(dev_writable((uint16_t)h2), 0);
		/* out of order, with lengths up to the writable bytes */
		dev_use((uint32_t)h1, 128);
		dev_use((uint32_t)h2, 0);
		dev_use((uint32_t)h0, 17);
		uint32_t len = 99;
		CHECK(virtq_has_used(&q));
		CHECK(virtq_get(&q, &len) == &tokens[1] && len == 128);
		CHECK(virtq_get(&q, &len) == &tokens[2] && len == 0);
		CHECK(virtq_get(&q, &len) == &tokens[0] && len == 17);
		CHECK(virtq_get(&q, &len) == NULL);
		CHECK(!virtq_has_used(&q));
		REQUIRE(q.num_free == QSIZE);
	}
	CHECK(!q.broken);
	CHECK_EQ(errors_logged, 0);
	CHECK(virtq_abandon(&q) == NULL); /* a working queue gives nothing up */
}

TEST(full_queue)
{
	queue_new();
	for (unsigned t = 0; t < QSIZE / 2; t++)
		CHECK_EQ(add_chain(2, 1, t), 0);
	CHECK_EQ(q.num_free, 0);
	CHECK_EQ(add_chain(1, 1, 9), -ENOSPC);
	CHECK(!q.broken);
}

/* ---- a device that misbehaves -------------------------------------------------------------- */

TEST(id_out_of_range)
{
	int heads[2];
	queue_new();
	add_singles(2, heads);
	dev_use(QSIZE, 1);
	dev_use((uint32_t)heads[0], 1); /* a good one after the bad one: never looked at */
	uint32_t len;
	CHECK(virtq_get(&q, &len) == NULL);
	check_broken();
	bool seen[2] = { false, false };
	CHECK_EQ(abandon_all(seen, 2), 2);
	CHECK(seen[0] && seen[1]);

	queue_new();
	add_singles(1, heads);
	use_breaks(0xffffffffu, 1);
}

TEST(id_of_a_free_descriptor)
{
	int heads[1];
	queue_new();
	add_singles(1, heads);
	use_breaks((uint32_t)(heads[0] + 1) % QSIZE, 1); /* never given to the device */
	bool seen[1] = { false };
	CHECK_EQ(abandon_all(seen, 1), 1);
}

TEST(id_inside_a_chain)
{
	queue_new();
	CHECK_EQ(add_chain(3, 1, 0), 0);
	virtq_kick(&q);
	int head = dev_take();
	REQUIRE(head >= 0);
	use_breaks(q.desc[head].next, 1); /* the chain's second descriptor, not its head */
	bool seen[1] = { false };
	CHECK_EQ(abandon_all(seen, 1), 1);
}

TEST(used_twice)
{
	int heads[2];
	uint32_t len;
	/* Given back again after the driver took it. */
	queue_new();
	add_singles(2, heads);
	dev_use((uint32_t)heads[0], 5);
	CHECK(virtq_get(&q, &len) == &tokens[0]);
	use_breaks((uint32_t)heads[0], 5);
	bool seen[2] = { false, false };
	CHECK_EQ(abandon_all(seen, 2), 1); /* only the one still out */
	CHECK(seen[1] && !seen[0]);

	/* Twice in one batch. */
	queue_new();
	add_singles(2, heads);
	dev_use((uint32_t)heads[1], 5);
	dev_use((uint32_t)heads[1], 5);
	CHECK(virtq_get(&q, &len) == &tokens[1]);
	CHECK(virtq_get(&q, &len) == NULL);
	check_broken();

	/* Twice, after the driver reused the descriptor for a new chain: indistinguishable from a
	 * completion of the new chain, which is then the device's answer for it; but a third time
	 * is not. */
	queue_new();
	add_singles(1, heads);
	dev_use((uint32_t)heads[0], 5);
	CHECK(virtq_get(&q, &len) == &tokens[0]);
	CHECK_EQ(add_chain(1, 1, 3), 0);
	virtq_kick(&q);
	CHECK_EQ(dev_take(), heads[0]); /* the freed head comes first */
	dev_use((uint32_t)heads[0], 5);
	dev_use((uint32_t)heads[0], 5);
	CHECK(virtq_get(&q, &len) == &tokens[3]);
	CHECK(virtq_get(&q, &len) == NULL);
	check_broken();
}

TEST(length_beyond_the_buffer)
{
	int heads[1];
	queue_new();
	add_singles(1, heads);
	use_breaks((uint32_t)heads[0], 65); /* 64 writable bytes */
	bool seen[1] = { false };
	CHECK_EQ(abandon_all(seen, 1), 1);

	/* A chain the device may only read: any length is too much. */
	queue_new();
	CHECK_EQ(add_chain(2, 0, 0), 0);
	virtq_kick(&q);
	use_breaks((uint32_t)dev_take(), 1);

	/* Readable parts do not count: 64 writable bytes of 192. */
	queue_new();
	CHECK_EQ(add_chain(3, 1, 0), 0);
	virtq_kick(&q);
	use_breaks((uint32_t)dev_take(), 128);
}

TEST(used_index_too_far)
{
	int heads[2];
	uint32_t len;
	queue_new();
	add_singles(2, heads);
	dev_put(0, (uint32_t)heads[0], 1);
	dev_publish(QSIZE + 1); /* more entries than the ring has */
	CHECK(virtq_get(&q, &len) == NULL);
	check_broken();
	bool seen[2] = { false, false };
	CHECK_EQ(abandon_all(seen, 2), 2);

	/* Past the entries it wrote: the stale one names a chain already given back. */
	queue_new();
	add_singles(2, heads);
	dev_use((uint32_t)heads[0], 1);
	CHECK(virtq_get(&q, &len) == &tokens[0]);
	dev_put(1, (uint32_t)heads[1], 1);
	dev_publish(3); /* entry 2 was never written: it is zero, id 0 = heads[0], given back */
	CHECK(virtq_get(&q, &len) == &tokens[1]);
	CHECK(virtq_get(&q, &len) == NULL);
	check_broken();
}

TEST(used_index_backwards)
{
	int heads[2];
	uint32_t len;
	queue_new();
	add_singles(2, heads);
	dev_use((uint32_t)heads[0], 1);
	CHECK(virtq_get(&q, &len) == &tokens[0]);
	dev_publish(0); /* back to before the entry the driver already took */
	CHECK(!virtq_has_used(&q) || virtq_get(&q, &len) == NULL);
	check_broken();
	bool seen[2] = { false, false };
	CHECK_EQ(abandon_all(seen, 2), 1);
	CHECK(seen[1]);
}

TEST(abandon_only_when_broken)
{
	int heads[3];
	queue_new();
	add_singles(3, heads);
	CHECK(virtq_abandon(&q) == NULL);
	uint32_t len;
	dev_use((uint32_t)heads[2], 3);
	CHECK(virtq_get(&q, &len) == &tokens[2] && len == 3);
	dev_use(QSIZE + 3, 0);
	CHECK(virtq_get(&q, &len) == NULL);
	bool seen[3] = { false, false, false };
	CHECK_EQ(abandon_all(seen, 3), 2);
	CHECK(seen[0] && seen[1] && !seen[2]);
	/* the device keeps writing: nothing comes out any more */
	dev_use((uint32_t)heads[0], 1);
	check_broken();
	CHECK(virtq_abandon(&q) == NULL);
}

/*
 * A device that mostly behaves and now and then does something wrong: a random id, a length
 * one too long, an entry given back twice, an index moved by a random amount. Whatever it does,
 * every token the driver gets back was added and is out at that moment (never twice), with a
 * length within its writable bytes; after the queue broke, virtq_abandon returns exactly the
 * tokens still out. (A used entry that names a chain the driver has out is the device's word
 * that it finished it: nothing tells that apart from a real completion.)
 */
TEST(random_device)
{
	enum { NT = QSIZE * 4 };
	unsigned broken_runs = 0;
	for (unsigned run = 0; run < 2000; run++) {
		bool out[NT] = { false };        /* added, not yet given back to the driver */
		uint32_t writable[NT] = { 0 };   /* bytes the device may write */
		uint16_t held[QSIZE], nheld = 0; /* heads the device took */
		queue_new();
		for (unsigned step = 0; step < 200 && !q.broken; step++) {
			unsigned what = rnd(10);
			if (what == 8 && rnd(40)) /* misbehaving: one step in 400 */
				what = 9;
			if (what < 4) { /* the driver adds a chain */
				unsigned t = rnd(NT), n = 1 + rnd(3), w = rnd(n + 1);
				if (out[t])
					continue;
				int err = add_chain(n, w, t);
				CHECK(err == 0 || err == -ENOSPC);
				if (err == 0) {
					out[t] = true;
					writable[t] = 64 * w;
				}
				if (rnd(2))
					virtq_kick(&q);
			} else if (what < 6) { /* the device takes what is published */
				int h;
				while ((h = dev_take()) >= 0 && nheld < QSIZE)
					held[nheld++] = (uint16_t)h;
			} else if (what < 8 && nheld) { /* it gives one back properly */
				unsigned k = rnd(nheld);
				uint16_t h = held[k];
				held[k] = held[--nheld];
				dev_use(h, rnd(dev_writable(h) + 1));
			} else if (what == 8) { /* it misbehaves */
				uint16_t last = (uint16_t)(dev.used_idx - 1) % QSIZE;
				switch (rnd(4)) {
				case 0: /* any id */
					dev_use(rnd(QSIZE * 2), rnd(200));
					break;
				case 1: /* one byte too many */
					if (nheld)
						dev_use(held[0], dev_writable(held[0]) + 1);
					break;
				case 2: /* the last entry again */
					dev_use(q.used->ring[last].id, 0);
					break;
				default: /* the index moved by -QSIZE..2 QSIZE */
					dev_publish(
					        (uint16_t)(dev.used_idx + rnd(3 * QSIZE) - QSIZE));
				}
			} else { /* the driver collects */
				void *tok;
				uint32_t len;
				while ((tok = virtq_get(&q, &len))) {
					unsigned t = (unsigned)((int *)tok - tokens);
					REQUIRE(t < NT);
					CHECK(out[t]);
					CHECK(len <= writable[t]);
					out[t] = false;
				}
			}
		}
		if (q.broken) {
			broken_runs++;
			bool seen[NT] = { false };
			abandon_all(seen, NT);
			for (unsigned t = 0; t < NT; t++)
				CHECK(seen[t] == out[t]);
			check_broken();
		} else {
			CHECK_EQ(errors_logged, 0);
		}
	}
	/* most runs end with a broken queue: the checks above saw both kinds */
	printf("random_device: %u of 2000 runs broke the queue\n", broken_runs);
	CHECK(broken_runs > 500 && broken_runs < 1500);
}

int main(void)
{
	RUN(chains_in_and_out);
	RUN(full_queue);
	RUN(id_out_of_range);
	RUN(id_of_a_free_descriptor);
	RUN(id_inside_a_chain);
	RUN(used_twice);
	RUN(length_beyond_the_buffer);
	RUN(used_index_too_far);
	RUN(used_index_backwards);
	RUN(abandon_only_when_broken);
	RUN(random_device);
	free(ring);
	free(meta);
	TEST_EXIT();
}
