/*
 * test_timerq.c - host tests of the per-core timer queue (kernel/timerq.c): random add, delete
 * and pop against a sorted reference model, FIFO order among equal deadlines, deletion of the
 * root, a leaf and an inner timer, and 20,000 queued timers. After many steps the pairing heap
 * itself is walked and its links and order checked.
 */
#include <stdint.h>
#include <time.h>

#include "kernel/timerq.h"
#include "tests/unit/test.h"

/* ---- helpers ----------------------------------------------------------------------------- */

static uint64_t rng_state;

static void rng_seed(uint64_t seed)
{
	rng_state = seed;
}

static uint64_t rng(void) /* xorshift64*: fixed seed, same sequence on every run */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned fired;

static void count_fire(struct timer *t)
{
	(void)t;
	fired++;
}

/*
 * The reference model: queued timers sorted by (deadline, order of adding). Adding puts a timer
 * after every one with the same deadline, which is exactly the FIFO rule timerq promises.
 */
struct model {
	struct timer **t; /* sorted; t[0] fires first */
	unsigned n;
};

static void model_add(struct model *m, struct timer *t)
{
	unsigned lo = 0, hi = m->n;

	while (lo < hi) { /* first index whose deadline is greater than t's */
		unsigned mid = (lo + hi) / 2;
		if (m->t[mid]->deadline <= t->deadline)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&m->t[lo + 1], &m->t[lo], (m->n - lo) * sizeof(m->t[0]));
	m->t[lo] = t;
	m->n++;
}

static bool model_del(struct model *m, struct timer *t)
{
	for (unsigned i = 0; i < m->n; i++) {
		if (m->t[i] == t) {
			memmove(&m->t[i], &m->t[i + 1], (m->n - i - 1) * sizeof(m->t[0]));
			m->n--;
			return true;
		}
	}
	return false;
}

/*
 * Walks the whole heap: every link points back correctly, no child fires before its parent, and
 * the number of timers matches timerq_count. Returns the number of problems found.
 */
static unsigned heap_check(const struct timerq *q, struct timer **stack, unsigned stack_cap)
{
	unsigned bad = 0, seen = 0, sp = 0;
	struct timer *root = timerq_first(q);

	if (!root)
		return timerq_count(q) != 0;
	if (root->tq_prev || root->tq_next)
		bad++;
	stack[sp++] = root;
	while (sp) {
		struct timer *p = stack[--sp];
		struct timer *prev = p;

		seen++;
		if (!timer_queued(p))
			bad++;
		for (struct timer *c = p->tq_child; c; prev = c, c = c->tq_next) {
			if (c->tq_prev != prev)
				bad++;
			if (c->deadline < p->deadline ||
			    (c->deadline == p->deadline && c->tq_seq < p->tq_seq))
				bad++;
			if (sp == stack_cap)
				return bad + 1;
			stack[sp++] = c;
		}
	}
	return bad + (seen != timerq_count(q));
}

/* Model and queue agree: same count, same first timer, queued flags match. */
static void check_same(const struct timerq *q, const struct model *m, struct timer *pool,
                       unsigned npool)
{
	unsigned queued = 0;

	CHECK_EQ(timerq_count(q), m->n);
	CHECK(timerq_first(q) == (m->n ? m->t[0] : NULL));
	for (unsigned i = 0; i < npool; i++)
		queued += timer_queued(&pool[i]);
	CHECK_EQ(queued, m->n);
}

/* Pops everything and checks it comes out in model order. */
static void drain_in_order(struct timerq *q, struct model *m)
{
	for (unsigned i = 0; i < m->n; i++) {
		struct timer *t = timerq_pop_expired(q, UINT64_MAX);

		CHECK(t == m->t[i]);
		if (t != m->t[i])
			return;
		CHECK(!timer_queued(t));
	}
	m->n = 0;
	CHECK(timerq_pop_expired(q, UINT64_MAX) == NULL);
	CHECK_EQ(timerq_count(q), 0);
	CHECK(timerq_first(q) == NULL);
}

/* ---- tests ------------------------------------------------------------------------------- */

TEST(empty_queue)
{
	struct timerq q;
	struct timer t = { 0 };

	timerq_init(&q);
	CHECK(timerq_first(&q) == NULL);
	CHECK(timerq_pop_expired(&q, UINT64_MAX) == NULL);
	CHECK_EQ(timerq_count(&q), 0);
	CHECK(!timer_queued(&t));
	CHECK(!timerq_del(&q, &t)); /* never queued */
}

TEST(fires_at_deadline_not_before)
{
	struct timerq q;
	struct timer t;

	timerq_init(&q);
	timer_init(&t, count_fire);
	t.deadline = 1000;
	timerq_add(&q, &t);
	CHECK(timer_queued(&t));
	CHECK(timerq_first(&q) == &t);
	CHECK(timerq_pop_expired(&q, 999) == NULL);
	CHECK(timer_queued(&t));
	CHECK(timerq_pop_expired(&q, 1000) == &t);
	CHECK(!timer_queued(&t));
	CHECK(!timerq_del(&q, &t)); /* already fired: cancelling is harmless */
	fired = 0;
	t.fn(&t);
	CHECK_EQ(fired, 1);
	/* A fired timer can be added again. */
	t.deadline = 5;
	timerq_add(&q, &t);
	CHECK(timerq_del(&q, &t));
	CHECK(!timerq_del(&q, &t));
	CHECK_EQ(timerq_count(&q), 0);
}

/* Equal deadlines fire in the order added; a re-added timer goes behind the others. */
TEST(fifo_among_equal_deadlines)
{
	enum { N = 200 };
	static struct timer t[N];
	struct timer *stack[N];
	struct model m = { .t = (struct timer *[N]){ 0 } };
	struct timerq q;

	timerq_init(&q);
	for (unsigned i = 0; i < N; i++) {
		t[i].deadline = (i % 3 == 0) ? 50 : 70; /* two groups of ties, interleaved */
		t[i].fn = count_fire;
		timerq_add(&q, &t[i]);
		model_add(&m, &t[i]);
	}
	/* Take some out, including the first, and put a few back: they go to the end. */
	for (unsigned i = 0; i < N; i += 7) {
		CHECK(timerq_del(&q, &t[i]));
		CHECK(model_del(&m, &t[i]));
	}
	for (unsigned i = 0; i < N; i += 14) {
		timerq_add(&q, &t[i]);
		model_add(&m, &t[i]);
	}
	CHECK_EQ(heap_check(&q, stack, N), 0);
	check_same(&q, &m, t, N);
	/* Pop with a deadline that releases only the first group. */
	unsigned first_group = 0;
	while (first_group < m.n && m.t[first_group]->deadline == 50)
		first_group++;
	for (unsigned i = 0; i < first_group; i++)
		CHECK(timerq_pop_expired(&q, 69) == m.t[i]);
	CHECK(timerq_pop_expired(&q, 69) == NULL);
	memmove(m.t, m.t + first_group, (m.n - first_group) * sizeof(m.t[0]));
	m.n -= first_group;
	drain_in_order(&q, &m);
}

/*
 * Deleting a timer in each position the pairing heap can hold it in: the root, a leaf, an inner
 * timer that is a first child, an inner timer that is a later sibling. The heap is first shaken
 * by pops so that it has depth; the rest must still come out in order.
 */
enum position { POS_ROOT, POS_LEAF, POS_INNER_FIRST_CHILD, POS_INNER_SIBLING, POS_COUNT };

static bool at_position(const struct timer *t, enum position pos)
{
	bool first_child = t->tq_prev && t->tq_prev->tq_child == t;

	switch (pos) {
	case POS_ROOT:
		return t->tq_prev == NULL;
	case POS_LEAF:
		return t->tq_prev && !t->tq_child;
	case POS_INNER_FIRST_CHILD:
		return first_child && t->tq_child;
	case POS_INNER_SIBLING:
		return t->tq_prev && !first_child && t->tq_child;
	default:
		return false;
	}
}

TEST(delete_root_leaf_inner)
{
	enum { N = 256 };
	static struct timer t[N];
	struct timer *stack[N];
	struct timer *order[N];

	rng_seed(42);
	for (int pos = 0; pos < POS_COUNT; pos++) {
		for (int round = 0; round < 20; round++) {
			struct model m = { .t = order };
			struct timerq q;
			struct timer *victim = NULL;

			timerq_init(&q);
			for (unsigned i = 0; i < N; i++) {
				timer_init(&t[i], count_fire);
				t[i].deadline = 1000 + rng() % 300; /* some ties */
				timerq_add(&q, &t[i]);
				model_add(&m, &t[i]);
			}
			for (unsigned i = 0; i < 8; i++) { /* pops build depth */
				CHECK(timerq_pop_expired(&q, UINT64_MAX) == m.t[0]);
				model_del(&m, m.t[0]);
			}
			for (unsigned i = rng() % N, k = 0; k < N && !victim; k++, i = (i + 1) % N)
				if (timer_queued(&t[i]) && at_position(&t[i], pos))
					victim = &t[i];
			REQUIRE(victim);
			CHECK(timerq_del(&q, victim));
			CHECK(model_del(&m, victim));
			CHECK(!timer_queued(victim));
			CHECK(!timerq_del(&q, victim));
			CHECK_EQ(heap_check(&q, stack, N), 0);
			check_same(&q, &m, t, N);
			drain_in_order(&q, &m);
		}
	}
}

/* About 100,000 random operations against the model, with a fixed seed. */
TEST(random_against_model)
{
	enum { N = 1000, OPS = 100000 };
	static struct timer t[N];
	static struct timer *order[N];
	struct timer *stack[N];
	struct model m = { .t = order };
	struct timerq q;
	uint64_t now = 0;
	unsigned adds = 0, dels = 0, pops = 0;

	rng_seed(0x1517e);
	timerq_init(&q);
	for (unsigned i = 0; i < N; i++)
		timer_init(&t[i], count_fire);
	for (unsigned op = 0; op < OPS; op++) {
		struct timer *x = &t[rng() % N];
		unsigned kind = rng() % 100;

		if (kind < 50) { /* add (or, if already queued, delete) */
			if (!timer_queued(x)) {
				x->deadline = now + rng() % 1024; /* narrow enough for many ties */
				timerq_add(&q, x);
				model_add(&m, x);
				adds++;
			} else {
				CHECK(timerq_del(&q, x));
				CHECK(model_del(&m, x));
				dels++;
			}
		} else if (kind < 75) { /* delete, queued or not */
			bool was = model_del(&m, x);
			CHECK_EQ(timerq_del(&q, x), was);
			dels += was;
		} else { /* time passes; everything due comes out, earliest first */
			struct timer *e;

			now += rng() % 4;
			while ((e = timerq_pop_expired(&q, now)) != NULL) {
				REQUIRE(m.n > 0);
				CHECK(e == m.t[0]);
				CHECK(e->deadline <= now);
				model_del(&m, m.t[0]);
				pops++;
			}
			CHECK(m.n == 0 || m.t[0]->deadline > now);
		}
		if (op % 4096 == 0) {
			CHECK_EQ(heap_check(&q, stack, N), 0);
			check_same(&q, &m, t, N);
		}
		if (test_failed_)
			return;
	}
	CHECK(adds > OPS / 5 && dels > OPS / 10 && pops > OPS / 10); /* every path taken */
	check_same(&q, &m, t, N);
	drain_in_order(&q, &m);
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/*
 * 20,000 queued timers: add them all, delete a third at random, then let the rest fire. Then
 * 200,000 steady-state operations on 10,000 timers, which must stay fast (a loose bound, far
 * above what a heap needs, far below what a sorted list would).
 */
TEST(twenty_thousand_timers)
{
	enum { N = 20000 };
	static struct timer t[N];
	static struct timer *order[N];
	static struct timer *stack[N];
	struct model m = { .t = order };
	struct timerq q;
	struct timespec start;

	rng_seed(20000);
	timerq_init(&q);
	for (unsigned i = 0; i < N; i++) {
		timer_init(&t[i], count_fire);
		t[i].deadline = rng() % 100000;
		timerq_add(&q, &t[i]);
		model_add(&m, &t[i]);
	}
	CHECK_EQ(timerq_count(&q), N);
	CHECK_EQ(heap_check(&q, stack, N), 0);
	CHECK(timerq_pop_expired(&q, 0) == (m.t[0]->deadline == 0 ? m.t[0] : NULL));
	if (m.t[0]->deadline == 0)
		model_del(&m, m.t[0]);
	for (unsigned k = 0; k < N / 3; k++) {
		struct timer *x = &t[rng() % N];
		bool was = model_del(&m, x);
		CHECK_EQ(timerq_del(&q, x), was);
	}
	CHECK_EQ(heap_check(&q, stack, N), 0);
	check_same(&q, &m, t, N);
	drain_in_order(&q, &m);

	clock_gettime(CLOCK_MONOTONIC, &start);
	timerq_init(&q);
	for (unsigned i = 0; i < N / 2; i++) {
		t[i].deadline = rng() % 1000000;
		timerq_add(&q, &t[i]);
	}
	uint64_t now = 0, last = 0;
	for (unsigned op = 0; op < 200000; op++) {
		if (op & 1) { /* the earliest fires and is re-armed later */
			struct timer *e = timerq_pop_expired(&q, UINT64_MAX);

			REQUIRE(e);
			CHECK(e->deadline >= last);
			last = now = e->deadline;
			e->deadline = now + 1 + rng() % 1000000;
			timerq_add(&q, e);
		} else { /* a random one is cancelled and re-armed */
			struct timer *x = &t[rng() % (N / 2)];

			CHECK(timerq_del(&q, x));
			x->deadline = now + rng() % 1000000;
			timerq_add(&q, x);
		}
	}
	CHECK_EQ(timerq_count(&q), N / 2);
	CHECK_EQ(heap_check(&q, stack, N), 0);
	CHECK(seconds_since(&start) < 5.0);
}

int main(void)
{
	RUN(empty_queue);
	RUN(fires_at_deadline_not_before);
	RUN(fifo_among_equal_deadlines);
	RUN(delete_root_leaf_inner);
	RUN(random_against_model);
	RUN(twenty_thousand_timers);
	TEST_EXIT();
}
