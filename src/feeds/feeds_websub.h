/* feeds_websub.h -- the WebSub hub (W3C Recommendation, 2018) for every
 * feed the portal serves (web_route.c lists them: a listing path plus a
 * feed file, e.g. "/id/sectors/technology/atom.xml", or "/atom.xml").
 *
 *   POST /websub  (application/x-www-form-urlencoded)
 *     hub.mode=subscribe|unsubscribe, hub.topic=<a feed URL of this wire>,
 *     hub.callback=<http(s) URL>, hub.lease_seconds (optional), hub.secret
 *     (optional, < 200 bytes): 202 Accepted, then the hub verifies intent
 *     by a GET to the callback with hub.mode, hub.topic, hub.challenge,
 *     hub.lease_seconds; a 2xx answer echoing the challenge activates (or
 *     removes) the subscription, durably (it survives restarts). Bad
 *     requests get a 400 problem naming the field. A topic the wire does not
 *     serve gets a denial (GET with hub.mode=denied) as the spec says.
 *   On every wire event (publish, correction, withdrawal), each active
 *   subscription whose topic lists the release gets a POST of the topic's
 *   document holding the new or changed entries (the topic's own format and
 *   Content-Type), with Link: <hub>; rel="hub", <topic>; rel="self", and
 *   X-Hub-Signature: sha256=<HMAC-SHA256 of the body with hub.secret> when a
 *   secret was given. A failure (no 2xx, timeout, refused) is retried with
 *   exponential backoff. Leases expire; an expired subscription gets
 *   nothing.
 *
 * Outbound HTTP goes through deliver/deliver.h (libcurl multi on the loop,
 * SSRF rules: callbacks in loopback, link-local or private ranges are
 * refused unless app->webhook_allow covers them). */
#ifndef KAWAT_FEEDS_WEBSUB_H
#define KAWAT_FEEDS_WEBSUB_H

#include "api/api.h"

/* Starts the hub: loads the subscriptions, remembers the wire position.
 * Sets app->websub. Returns KW_OK or KW_ERROR (message on stderr). */
int feeds_websub_start(kawat_app_t *app);
/* Stops timers and outbound requests (what is unsent is retried at the
 * next start where durable). Clears app->websub. */
void feeds_websub_stop(kawat_app_t *app);

/* POST /websub. */
void feeds_websub_request(kawat_app_t *app, net_request_t *req);

/* Called on the loop after a commit that appended wire events: reads the
 * wire past what the hub has seen and pushes to the subscribers. */
void feeds_websub_wire_advanced(kawat_app_t *app);

typedef struct {
    uint64_t subscriptions;   /* active */
    uint64_t verifications;   /* intent verifications done (ok) */
    uint64_t pushes_ok, pushes_failed, retries_pending;
} feeds_websub_stats_t;
void feeds_websub_get_stats(const kawat_app_t *app, feeds_websub_stats_t *out);

#endif
