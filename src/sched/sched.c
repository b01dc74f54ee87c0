/* sched.c -- publishes waiting releases at their instant.
 *
 * Design note: exactly once, never early, at most a second late.
 * The due instant lives in the store (releases.due_at). The scheduler keeps
 * one libuv timer armed for the earliest due instant. When it fires, it
 * queues one STORE_OP_PUBLISH_DUE; the writer thread reads the wall clock
 * itself and publishes, in one transaction, every release whose due instant
 * is not after that clock, in due order. The state change and the wire
 * event commit together, so a release is published once even if passes
 * overlap or the server dies mid-pass: a pass after a restart sees it
 * published. A timer that fires early publishes nothing and is re-armed.
 * Only one pass is in flight at a time; a poke during a pass re-arms after
 * it. */
#include "sched/sched.h"

#include <stdlib.h>

struct sched_s {
    uv_timer_t timer;
    store_t *store;
    sched_published_fn fn;
    void *arg;
    int in_flight;
    int again;
    int stopping;
    int closed;
    uint64_t passes;
};

static void sched_arm(sched_t *s);

static void maybe_free(sched_t *s)
{
    if (s->stopping && s->closed && !s->in_flight) free(s);
}

static void pass_done(store_op_t *op)
{
    sched_t *s = op->arg;
    s->in_flight = 0;
    s->passes++;
    if (s->fn && op->rc == KW_OK) s->fn(op, s->arg);
    store_op_free(op);
    if (s->stopping) {
        maybe_free(s);
        return;
    }
    s->again = 0;
    sched_arm(s);
}

static void run_pass(sched_t *s)
{
    if (s->in_flight) {
        s->again = 1;
        return;
    }
    s->in_flight = 1;
    store_op_t *op = store_op_new(STORE_OP_PUBLISH_DUE, pass_done, s);
    store_submit(s->store, op);
}

static void on_timer(uv_timer_t *t)
{
    run_pass(t->data);
}

static void sched_arm(sched_t *s)
{
    if (s->stopping) return;
    if (s->in_flight) {
        s->again = 1;
        return;
    }
    int64_t due = store_next_due(s->store);
    uv_timer_stop(&s->timer);
    if (due == 0) return;
    int64_t wait = due - kw_now_ms();
    if (wait < 0) wait = 0;
    uv_timer_start(&s->timer, on_timer, (uint64_t)wait, 0);
}

static void on_close(uv_handle_t *h)
{
    sched_t *s = h->data;
    s->closed = 1;
    maybe_free(s);
}

sched_t *sched_start(uv_loop_t *loop, store_t *store, sched_published_fn fn, void *arg)
{
    sched_t *s = kw_calloc(1, sizeof(*s));
    s->store = store;
    s->fn = fn;
    s->arg = arg;
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    run_pass(s); /* catch up on anything that fell due while we were down */
    return s;
}

void sched_poke(sched_t *s)
{
    if (s) sched_arm(s);
}

void sched_stop(sched_t *s)
{
    if (s == NULL) return;
    s->stopping = 1;
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_close);
}

uint64_t sched_passes(const sched_t *s)
{
    return s ? s->passes : 0;
}
