/* webhook.h -- webhooks for outlets: every wire event (publish, correction,
 * withdrawal) that an outlet's endpoint filter matches is POSTed to the
 * endpoint, signed per Standard Webhooks, at least once, in order of
 * sequence per endpoint, from a durable outbox in the store.
 *
 *   POST <endpoint url>
 *   Content-Type: application/json; charset=utf-8   (ninjs, json) or
 *                 application/vnd.iptc.g2.newsitem+xml; charset=utf-8 (newsml)
 *   webhook-id: evt_<seq>_<endpoint id>     the same on every retry
 *   webhook-timestamp: <unix seconds of this attempt>
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>
 *
 * where key is the bytes the endpoint's secret "whsec_<base64>" encodes.
 * A 2xx answer delivers; anything else (another status, no answer, a
 * timeout, an address the SSRF rules refuse) is retried with exponential
 * backoff and jitter; an endpoint failing for long enough is paused with
 * its reason until its owner resumes it. Outbound HTTP is deliver.h's. */
#ifndef KAWAT_WEBHOOK_H
#define KAWAT_WEBHOOK_H

#include "api/api.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    unsigned timeout_ms;     /* one attempt, whole request (default 10 s) */
    uint64_t retry_base_ms;  /* wait after the first failure (default 5 s); then x6, x24,
                                x120, x360, x720: 5 s, 30 s, 2 min, 10 min, 30 min, 1 h */
    uint64_t retry_max_ms;   /* longest wait between attempts (default 1 h) */
    uint64_t pause_after_ms; /* an endpoint failing this long ... (default 24 h) */
    unsigned pause_failures; /* ... and at least this many times in a row is paused (10) */
    unsigned max_in_flight;  /* requests at once, all endpoints (default 64) */
} webhook_config_t;

void webhook_config_defaults(webhook_config_t *cfg);

/* Starts the engine on app's loop: loads the endpoints and their oldest
 * pending deliveries, and takes up the wire where it left off (the outbox
 * and its wire position are durable, so nothing committed is skipped).
 * Sets app->webhooks. Returns KW_OK or KW_ERROR (message on stderr). */
int webhook_start(kawat_app_t *app, const webhook_config_t *cfg);

/* Cancels requests in flight (those deliveries stay pending and go out
 * after the next start), writes the attempt log it holds, releases
 * everything once the loop has closed its handles. Clears app->webhooks. */
void webhook_stop(kawat_app_t *app);

/* Called on the loop after every committed op (api_after_write): new wire
 * events go to the outbox; a deleted outlet's endpoints are removed. */
void webhook_after_write(kawat_app_t *app, store_op_t *op);

/* Called on the loop after a committed STORE_OP_WEBHOOK_CREATE, _UPDATE or
 * _DELETE so the engine follows the change (filters, URL, resume). */
void webhook_endpoint_changed(kawat_app_t *app, const store_op_t *op);

/* Whether url may be an endpoint: KW_OK; KW_INVALID (malformed) or
 * KW_FORBIDDEN (an address literal the SSRF rules refuse), with the reason
 * in err. A host name is judged when connecting. */
int webhook_url_check(const kawat_app_t *app, const char *url, char *err, size_t errsize);

typedef struct {
    uint64_t delivered; /* attempts answered 2xx since start */
    uint64_t failed;    /* attempts that failed since start */
    uint64_t endpoints; /* endpoints known */
    uint64_t paused;    /* of which paused */
    uint64_t in_flight;
} webhook_stats_t;
void webhook_get_stats(const kawat_app_t *app, webhook_stats_t *out);

/* ---- signing (pure; tests/unit/webhook_test.c) ---- */

#define WEBHOOK_KEY_MIN 24
#define WEBHOOK_KEY_MAX 64
#define WEBHOOK_SECRET_SIZE 96    /* "whsec_" + base64 of 64 bytes + NUL */
#define WEBHOOK_SIGNATURE_SIZE 64 /* "v1," + 44 base64 characters + NUL */

/* Decodes a secret "whsec_<standard base64>" of WEBHOOK_KEY_MIN to
 * WEBHOOK_KEY_MAX bytes into key (WEBHOOK_KEY_MAX bytes). Returns KW_OK or
 * KW_INVALID. */
int webhook_secret_decode(const char *secret, unsigned char *key, size_t *keylen);

/* Writes a new secret of 32 random bytes, "whsec_..." (size >=
 * WEBHOOK_SECRET_SIZE). */
void webhook_secret_generate(char *out, size_t size);

/* The webhook-signature value "v1,<base64>" of msg_id, timestamp and body
 * under key into out (size >= WEBHOOK_SIGNATURE_SIZE). Returns KW_OK or
 * KW_ERROR. */
int webhook_sign(const unsigned char *key, size_t keylen, const char *msg_id, int64_t timestamp,
                 const void *body, size_t len, char *out, size_t size);

#endif
