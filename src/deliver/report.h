/* report.h -- distribution reports: what happened to each release on each
 * channel (streams, webhooks, WebSub, e-mail), per language and country of
 * the recipients and per minute, counted as it happens and kept durably.
 *
 * Only things that happened are counted: an event addressed to a
 * recipient (matched), handed over (delivered), not handed over (failed),
 * and failed attempts that are retried. Nothing is estimated; there is no
 * "potential audience".
 *
 * Engines count with report_count() on the loop thread; the counts are
 * summed in memory per (release, channel, minute, language, country) and
 * written to the store every REPORT_FLUSH_MS by one store op, so a kill -9
 * loses at most that long of counts and a graceful stop loses none.
 * Webhooks are not counted here: their outbox and attempt log already hold
 * every delivery, and the report reads them. */
#ifndef KAWAT_REPORT_H
#define KAWAT_REPORT_H

#include "core/core.h"
#include "core/core_release.h"
#include "match/match.h"
#include "store/store.h"

#include <jansson.h>
#include <uv.h>

struct kawat_app_s;

typedef struct report_s report_t;

typedef enum {
    REPORT_STREAM,  /* SSE and WebSocket connections the event was written to */
    REPORT_WEBHOOK, /* outlet endpoints (read from their outbox, never counted) */
    REPORT_WEBSUB,  /* WebSub pushes to subscribed callbacks */
    REPORT_EMAIL,   /* e-mails to journalists */
    REPORT_CHANNELS_
} report_channel_t;

/* What happened to one recipient of one event.
 *   MATCHED: the event was addressed to it (once per recipient and event).
 *   DELIVERED: handed over: written to the stream, answered 2xx, accepted
 *     by the SMTP relay.
 *   FAILED: not delivered, and the last try failed (or there will be no
 *     more): cut off, refused, given up. A retry that later succeeds counts
 *     FAILED with n = -1 and DELIVERED with n = 1, so "failed" always says
 *     how many are failing now and matched - delivered - failed is what is
 *     still pending.
 *   FAILED_ATTEMPT: one attempt that failed (each retry counts). */
typedef enum {
    REPORT_MATCHED,
    REPORT_DELIVERED,
    REPORT_FAILED,
    REPORT_FAILED_ATTEMPT
} report_outcome_t;

#define REPORT_LANGUAGE_ANY "any"   /* the recipient takes several or all languages */
#define REPORT_COUNTRY_UNKNOWN "ZZ" /* ISO 3166 user-assigned: country not known */
#define REPORT_FLUSH_MS 1000
#define REPORT_TIMELINE_MINUTES 60

/* Starts the aggregate on loop, flushing to store. Returns NULL only if the
 * timer cannot be set up. */
report_t *report_start(uv_loop_t *loop, store_t *store);

/* Submits what is held to the store (call before store_writer_stop, which
 * commits it) and frees the aggregate once its timer is closed. NULL is
 * fine. */
void report_stop(report_t *rep);

/* Counts n (negative only for FAILED, see above) of outcome for one event
 * of release_id on channel, for recipients of language (a BCP 47 tag or
 * REPORT_LANGUAGE_ANY) in country (ISO 3166-1 alpha-2 or
 * REPORT_COUNTRY_UNKNOWN), at at_ms (ms UTC; 0: now). NULL or empty
 * language and country count as "any" and "ZZ". Thread-safe; cheap (a hash
 * lookup under a mutex). rep NULL: nothing is counted. */
void report_add(report_t *rep, const char *release_id, report_channel_t channel,
                const char *language, const char *country, report_outcome_t outcome, int64_t n,
                int64_t at_ms);

/* The same through the application (app->report): what the delivery
 * engines call. Does nothing while reports are off. */
void report_count(struct kawat_app_s *app, const char *release_id, report_channel_t channel,
                  const char *language, const char *country, report_outcome_t outcome, int64_t n,
                  int64_t at_ms);

/* ---- labels: the language and country a recipient is counted under ----
 *
 * Recipients carry no language or country of their own yet, so their
 * filters stand in: the language is the one language all of the filters
 * name (REPORT_LANGUAGE_ANY if any filter takes every language or they
 * name several), the country the one region they all name
 * (REPORT_COUNTRY_UNKNOWN otherwise). */
typedef struct {
    char language[16];
    char country[4];
} report_label_t;

void report_label_filters(const match_filter_t *filters, size_t n, report_label_t *out);
/* The same from a JSON array of canonical filter objects (as stored). */
void report_label_json(const json_t *filters, report_label_t *out);

/* ---- reading ---- */

/* The report of release r as JSON (caller decrefs): per channel, language,
 * country, and the timeline of deliveries over the first
 * REPORT_TIMELINE_MINUTES after publication (minute 0 is the clock minute
 * published_at falls in). Reads the store only: counts not yet flushed
 * show up within REPORT_FLUSH_MS. */
json_t *report_build(store_t *store, const core_release_t *r, int64_t now_ms);

/* The channel's name in reports: "streams", "webhooks", "websub", "email". */
const char *report_channel_name(report_channel_t channel);

#endif
