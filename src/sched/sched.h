/* sched.h -- the release scheduler: publishes embargoed and scheduled
 * releases at their instant, exactly once, never early. */
#ifndef KAWAT_SCHED_H
#define KAWAT_SCHED_H

#include "store/store.h"
#include <uv.h>

typedef struct sched_s sched_t;

/* Called on the loop after each committed publishing pass. */
typedef void (*sched_published_fn)(store_op_t *op, void *arg);

/* Starts the scheduler on loop; it runs a publishing pass at once (so
 * releases that fell due while the server was down are published now, in
 * due order) and then sleeps until the next due instant. */
sched_t *sched_start(uv_loop_t *loop, store_t *store, sched_published_fn fn, void *arg);

/* Re-reads the next due instant (after an approve or schedule). */
void sched_poke(sched_t *s);

/* Stops the timer; the scheduler is freed once its handle is closed and no
 * pass is in flight. */
void sched_stop(sched_t *s);

/* Passes run and releases published, for /metrics. */
uint64_t sched_passes(const sched_t *s);

#endif
