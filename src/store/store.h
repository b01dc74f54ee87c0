/* store.h -- kawat's durable state behind one interface: releases and their
 * versions, the wire log, issuers, users, tokens, sectors, idempotency keys,
 * subscribers and their filters.
 *
 * Reads are synchronous and fast (called on the loop thread: a reader
 * connection on a WAL database reads from the page cache). Writes are
 * operations queued to one writer thread that commits them in groups: one
 * fsync acknowledges many requests, and the loop never waits on disk. The
 * interface names no SQL types so that a PostgreSQL back end can stand
 * behind it (store_pg.c), chosen by the data URL. */
#ifndef KAWAT_STORE_H
#define KAWAT_STORE_H

#include "core/core.h"
#include "core/core_release.h"
#include <jansson.h>
#include <uv.h>

typedef struct store_s store_t;
typedef struct store_op_s store_op_t;

/* A subscriber: a desktop, journalist or outlet with the filters that say
 * what it receives. Each has its own user (role subscriber) whose tokens
 * act for it. */
typedef struct {
    uint32_t num;        /* dense number for the matcher; never reused, not public */
    char id[32];         /* public id: 's' + 15 base32 characters */
    char kind[16];       /* "desktop", "journalist" or "outlet" */
    char *name;
    char *email;         /* NULL if none */
    int trusted;         /* 1: may receive embargoed releases early (editors set it) */
    json_t *filters;     /* array of canonical filter objects (match_filter_to_json) */
    char user_id[32];
    int64_t created_at, updated_at; /* ms UTC */
} store_subscriber_t;

#define STORE_SUBSCRIBER_FILTERS_MAX 10
#define STORE_SUBSCRIBER_NAME_MAX 200  /* bytes */
#define STORE_SUBSCRIBER_EMAIL_MAX 254

/* Opens (creating if needed) the store in data_dir and applies pending
 * migrations. Returns KW_OK, or KW_ERROR with a message in err. */
int store_open(const char *data_dir, store_t **out, char *err, size_t errsize);

/* Stops the writer if running (after committing what is queued),
 * checkpoints and closes. */
void store_close(store_t *s);

/* Starts the writer thread; completions are delivered on loop. */
int store_writer_start(store_t *s, uv_loop_t *loop);

/* Commits what is queued, stops the writer thread, delivers the last
 * completions. Safe if it never started. */
void store_writer_stop(store_t *s);

/* ---- writes ---- */

typedef enum {
    STORE_OP_RELEASE_CREATE, /* input: release fields; who: the issuer */
    STORE_OP_RELEASE_ACT,    /* release_id + action (+ input for edit/correct/schedule) */
    STORE_OP_PUBLISH_DUE,    /* the scheduler: publish every release due by now */
    STORE_OP_SECTOR_ADD,     /* input: {name, slug?, media_topic?} */
    STORE_OP_ISSUER_ENSURE,  /* input: {name}: finds or creates an issuer */
    STORE_OP_USER_ADD,       /* input: {name, role, issuer?, email?, password_hash?} */
    STORE_OP_TOKEN_CREATE,   /* input: {user_id, token_hash, name?} */
    /* Subscribers. The input is already validated by the caller (filters in
     * canonical form); the store checks who may do it and the shape again.
     * Results: op->subscriber (the row after the op; for a delete, the row
     * as it was) and op->output (store_subscriber_json of it). */
    STORE_OP_SUBSCRIBER_CREATE, /* input: {kind, name, email?, trusted?, filters,
                                   token_hash, password_hash?}: a user of role
                                   subscriber, the subscriber and its first token.
                                   trusted only when who is an editor or admin.
                                   password_hash (browser sign-up): the user logs
                                   in with email (required); KW_CONFLICT when a
                                   user has that address */
    STORE_OP_SUBSCRIBER_UPDATE, /* subscriber_id + input: any of {kind, name, email,
                                   trusted, filters, timing}; who: the subscriber
                                   itself, an editor or an admin (trusted: editor,
                                   admin). timing (immediate|hourly|daily) is set on
                                   the subscriber's mail recipient row, if any */
    STORE_OP_SUBSCRIBER_DELETE, /* subscriber_id; who as for update: removes the
                                   subscriber and revokes its user's tokens */
    /* WebSub subscriptions (feeds_websub.c; the hub has verified intent).
     * No principal: the callback's answer to the challenge is the proof. */
    STORE_OP_WEBSUB_SUBSCRIBE,  /* input: {callback, topic, secret?, lease_until}: adds
                                   or renews (created_at is kept on renewal) */
    STORE_OP_WEBSUB_UNSUBSCRIBE, /* input: {callback, topic, lease_until?}: removes it;
                                   with lease_until only if the lease is still that
                                   one (an expiry must not undo a renewal). rc
                                   KW_NOTFOUND when nothing was removed */
    /* Outlet webhook endpoints (api_endpoints.c) and their outbox
     * (deliver_webhook.c). Endpoint ops: input checked by the API; who: an
     * outlet subscriber creates; the owner, an editor or an admin changes
     * (anyone else: KW_NOTFOUND). op->output: store_webhook_json of the row
     * after the op (before it, for a delete). */
    STORE_OP_WEBHOOK_CREATE,  /* input: {url, secret, filters, format}: after_seq is the
                                 wire's end now. KW_FORBIDDEN: who is not an outlet;
                                 KW_CONFLICT: STORE_WEBHOOKS_PER_OUTLET reached */
    STORE_OP_WEBHOOK_UPDATE,  /* input: {id, any of url, secret, filters, format;
                                 resume: true; pause: true}: resume makes it active
                                 again and makes every pending delivery due now;
                                 pause stops deliveries ("paused by the outlet") */
    STORE_OP_WEBHOOK_DELETE,  /* input: {id}: the endpoint, its outbox and its log */
    STORE_OP_WEBHOOK_ENQUEUE, /* the engine, no principal. input: {through, payloads:
                                 [{seq, format, body}], deliveries: [{endpoint, seq,
                                 kind, release_id}]}: adds the rows (existing ones
                                 are kept) and records through as the last wire
                                 sequence handled, in one transaction */
    STORE_OP_WEBHOOK_RESULTS, /* the engine, no principal. input: {attempts: [{endpoint,
                                 seq, attempt, at, status|null, error|null,
                                 elapsed_ms, delivered, next_at, first_failed_at}],
                                 pauses: [{endpoint, reason}]}: logs each attempt,
                                 updates its delivery, pauses active endpoints */
    /* E-mail alerts for journalists (api_signups.c, web_signup.c and the
     * engine deliver_mail.c). No principal: the signed links are the
     * proof. See "e-mail alerts" below for the tables' meaning. */
    STORE_OP_MAIL_SIGNUP,      /* input: {email, name|null, language, timing, filters, ip,
                                  expires_at}: a pending sign-up and its confirmation
                                  mail in the outbox. KW_CONFLICT: the address had
                                  STORE_MAIL_SIGNUPS_PER_HOUR sign-ups in the last hour.
                                  output: {id} */
    STORE_OP_MAIL_CONFIRM,     /* input: {signup}: creates the journalist subscriber and
                                  its recipient row, or renews the address's existing
                                  one (filters, name, language, timing; active again);
                                  without one, a journalist who logs in with the
                                  address (/me/signup) gets the recipient row.
                                  op->subscriber: the subscriber after the op; output:
                                  {subscriber, email, language, timing, created}.
                                  KW_NOTFOUND: no such sign-up; KW_GONE: expired */
    STORE_OP_MAIL_UNSUBSCRIBE, /* input: {subscriber}: the recipient gets nothing more
                                  (pending mails cancelled). output: {email, state}.
                                  KW_NOTFOUND: no such recipient */
    STORE_OP_MAIL_ENQUEUE,     /* the engine. input: {through?, mails: [[id, kind,
                                  subscriber, ref, seq]], digest: [[subscriber,
                                  release_id, seq]], notices?: [[id, email, language,
                                  ref]]}: outbox rows for active recipients
                                  (existing ids kept), digest items, "notice" rows to
                                  an address (no subscriber: never a bounce), and
                                  through as the last wire sequence handled, in one
                                  transaction */
    STORE_OP_MAIL_DIGEST,      /* the engine. input: {timing, key, period}: one outbox
                                  row "<key>.<subscriber>" per recipient of that timing
                                  with digest items, listing them; the items go; meta
                                  mail_digest_<timing> = period */
    STORE_OP_MAIL_RESULTS,     /* the engine. input: {sent: [id], retry: [[id, attempts,
                                  next_at, error]], failed: [[id, attempts, error,
                                  bounce]], cancelled: [[id, attempts, reason]]}:
                                  bounce 1 marks the recipient bounced and cancels
                                  what is pending for it */
    STORE_OP_REPORT_ADD,      /* the report aggregate (deliver/report.c), no principal.
                                 input: {rows: [{release_id, channel, minute, language,
                                 country, matched, delivered, failed,
                                 failed_attempts}]}: adds each row's counts to the
                                 stored ones (minute: ms UTC / 60000) */
    /* People in the browser (web_session.c, web_account.c). Secrets come
     * hashed (SHA-256 hex); the store never sees a cookie or a link. */
    STORE_OP_SESSION_CREATE, /* input: {id_hash, user_id, csrf, discard?: id_hash of the
                                session the browser had (deleted), clear?: [login-failure
                                keys to forget]}; prunes expired sessions */
    STORE_OP_SESSION_TOUCH,  /* input: {id_hash}: last_seen = now */
    STORE_OP_SESSION_DELETE, /* input: {id_hash}: log-out */
    STORE_OP_LOGIN_FAILED,   /* input: {keys: ["a:<email>", "ip:<address>"]}: one failure
                                for each; forgets failures older than a day */
    STORE_OP_RESET_CREATE,   /* input: {hash, user_id, expires_at}: a reset link */
    STORE_OP_INVITE_CREATE,  /* who: an admin (else KW_FORBIDDEN). input: {email, role
                                (issuer|editor), issuer? (organization name, found or
                                created), name?, hash, expires_at}: a user without a
                                password and its invitation. KW_CONFLICT: a user other
                                than a subscriber has the address. output: {user_id} */
    STORE_OP_PASSWORD_SET,   /* input: {kind: reset|invite, hash, password_hash, name?,
                                session?: {id_hash, csrf, discard?}}: uses the link (KW_NOTFOUND:
                                none; KW_GONE: used or expired), sets the password (and
                                for an invitation the name), marks every reset link of
                                the user used, ends all the user's sessions (and the
                                session discard), then opens session if given.
                                output: {user_id} */
    STORE_OP_META_SET        /* input: {key, value}: a value in the meta table, e.g. an
                                engine's durable wire position (the WebSub hub's) */
} store_op_kind_t;

/* Whether kind is one of the subscriber ops. */
#define STORE_OP_IS_SUBSCRIBER(kind)                                                               \
    ((kind) == STORE_OP_SUBSCRIBER_CREATE || (kind) == STORE_OP_SUBSCRIBER_UPDATE ||            \
     (kind) == STORE_OP_SUBSCRIBER_DELETE)

typedef void (*store_done_fn)(store_op_t *op);

struct store_op_s {
    store_op_kind_t kind;
    core_principal_t who;
    core_action_t action;
    char release_id[32];
    char subscriber_id[32]; /* for STORE_OP_SUBSCRIBER_UPDATE and _DELETE */
    json_t *input;         /* owned by the op (decref'd by store_op_free) */
    char idem_key[129];    /* Idempotency-Key, "" if none */
    char idem_hash[65];    /* hash of the request the key came with */
    int64_t now_ms;        /* set by the writer when it runs the op */

    /* results */
    int rc;                /* KW_OK, KW_INVALID (errs), KW_NOTFOUND, KW_CONFLICT,
                              KW_FORBIDDEN, KW_ERROR */
    core_errors_t errs;
    core_release_t *release; /* the release after the op (owned by the op) */
    int idem_replay;         /* 1: the key was seen; release is the first result */
    int64_t last_seq;        /* highest wire sequence the op appended, 0 if none */
    int published;           /* releases this op published */
    json_t *output;          /* other results (ids), owned by the op */
    store_subscriber_t *subscriber; /* subscriber ops: see above (owned by the op) */
    char message[160];       /* detail for rc other than KW_OK/KW_INVALID */

    store_done_fn done;
    void *arg;
    store_op_t *next__;
};

store_op_t *store_op_new(store_op_kind_t kind, store_done_fn done, void *arg);
void store_op_free(store_op_t *op);

/* Queues op for the writer; op->done is called on the loop once it is
 * committed (or failed). The caller keeps ownership of op and frees it in
 * (or after) done. */
void store_submit(store_t *s, store_op_t *op);

/* Runs op now on the calling thread in its own transaction (for the CLI and
 * for start-up work before the loop runs). Returns op->rc; does not call
 * done. */
int store_exec(store_t *s, store_op_t *op);

/* ---- reads (loop thread or single-threaded callers) ---- */

int store_principal_by_token(store_t *s, const char *token_hash, core_principal_t *out);

/* The release with id, allocated (core_release_free), or KW_NOTFOUND. The
 * caller applies core_release_visible(). */
int store_release_get(store_t *s, const char *id, core_release_t **out);

typedef enum {
    STORE_SCOPE_PUBLIC, /* published and corrected, newest publication first */
    STORE_SCOPE_ALL     /* any state in states_mask, newest created first */
} store_scope_t;

typedef struct {
    store_scope_t scope;
    unsigned states_mask;   /* 1u << core_state_t, for STORE_SCOPE_ALL */
    const char *language;   /* canonical tags/slugs/codes; NULL = any */
    const char *sector;
    const char *region;
    const char *issuer;     /* issuer id or slug */
    const char *issuer_id;  /* exact issuer id restriction (issuer's own view) */
    int64_t published_from; /* ms UTC: published_at >= it (0 = no bound) */
    int64_t published_until;/* ms UTC: published_at < it (0 = no bound) */
    int64_t cursor;         /* from a previous page's next_cursor; 0 = first page */
    size_t limit;
} store_query_t;

/* Lists releases; *out is an array of n releases (free each with
 * core_release_free, then the array). *next_cursor is 0 on the last page. */
int store_release_list(store_t *s, const store_query_t *q, core_release_t ***out, size_t *n,
                       int64_t *next_cursor);

/* Days (UTC) with public releases, newest first, optionally of one
 * language and within [from_ms, until_ms) (0 = unbounded): JSON array of
 * {day_ms (midnight UTC), count, modified_ms (the newest publication or
 * correction among them)}. Caller decrefs. */
json_t *store_public_days(store_t *s, const char *language, int64_t from_ms, int64_t until_ms);

/* The public language versions of a translation group other than
 * except_id: JSON array of {language, id}. */
json_t *store_translations(store_t *s, const char *group, const char *except_id);

/* Earlier versions of a release: JSON array of {version, at, note,
 * headline, subheadline, body, ...} oldest first. */
json_t *store_release_versions(store_t *s, const char *id);

typedef struct {
    int64_t seq;
    char kind[16]; /* "publish", "correction", "withdrawal" */
    int64_t at;
    int version;
    core_release_t *release; /* current state of the release */
} store_event_t;

/* Wire events with seq > after, oldest first, at most limit. *out is an
 * array of n events; free with store_events_free. Filtering by interest is
 * the matcher's business, not the store's. */
int store_wire_read(store_t *s, int64_t after, size_t limit, store_event_t **out, size_t *n);
void store_events_free(store_event_t *ev, size_t n);
int64_t store_wire_last_seq(store_t *s);

/* The earliest due instant of any scheduled or embargoed release, 0 if
 * none. */
int64_t store_next_due(store_t *s);

/* Sectors of the managed list: JSON array of {slug, name, media_topic}. */
json_t *store_sectors(store_t *s);
/* Canonical slug for a sector name or slug, NULL if unknown. Thread-safe;
 * usable as a core_sector_resolve_fn with ctx = store. */
const char *store_sector_resolve(void *store, const char *name_or_slug);

/* Issuer by id or slug as {id, slug, name}; NULL if none. */
json_t *store_issuer_get(store_t *s, const char *id_or_slug);

/* ---- subscribers ---- */

/* The subscriber with id, allocated (store_subscriber_free), or
 * KW_NOTFOUND. The caller decides who may see it. */
int store_subscriber_get(store_t *s, const char *id, store_subscriber_t **out);
void store_subscriber_free(store_subscriber_t *sub);

/* The subscriber as JSON: {num, id, kind, name, email, trusted, filters,
 * created_at, updated_at} with RFC 3339 times. num is internal: public
 * answers leave it out. Caller decrefs. */
json_t *store_subscriber_json(const store_subscriber_t *sub);

/* Calls fn for every subscriber in ascending num, with a subscriber valid
 * only during the call (copy what you keep; json_incref the filters). One
 * sequential scan on the reader connection: for loading the matcher at
 * start. fn returns KW_OK to go on; anything else stops the scan and is
 * returned. Returns KW_OK after the last one, KW_ERROR if the read failed. */
typedef int (*store_subscriber_fn)(const store_subscriber_t *sub, void *arg);
int store_subscribers_each(store_t *s, store_subscriber_fn fn, void *arg);

/* Subscribers newest first, optionally of one kind (NULL = all), at most
 * limit (default 20), after cursor (0 = first page). *out is an array of
 * n (free each with store_subscriber_free, then the array); *next_cursor
 * is 0 on the last page. */
int store_subscriber_list(store_t *s, const char *kind, int64_t cursor, size_t limit,
                          store_subscriber_t ***out, size_t *n, int64_t *next_cursor);

/* ---- WebSub subscriptions ---- */

/* A verified subscription of a callback to a topic (a feed URL of this
 * wire). The pair (callback, topic) is the key. */
typedef struct {
    const char *callback;
    const char *topic;
    const char *secret;   /* NULL: pushes are not signed */
    int64_t lease_until;  /* ms UTC; after it the subscription gets nothing */
    int64_t created_at;   /* ms UTC, the first verification */
} store_websub_t;

#define STORE_WEBSUB_URL_MAX 2048    /* bytes of callback and of topic */
#define STORE_WEBSUB_SECRET_MAX 199  /* WebSub: less than 200 bytes */

/* Calls fn for every subscription (expired ones too: the caller decides),
 * oldest first, with strings valid only during the call. One scan on the
 * reader connection, for loading the hub at start. fn returns KW_OK to go
 * on; anything else stops the scan and is returned. Returns KW_OK after
 * the last one, KW_ERROR if the read failed. */
typedef int (*store_websub_fn)(const store_websub_t *sub, void *arg);
int store_websub_each(store_t *s, store_websub_fn fn, void *arg);

/* ---- outlet webhook endpoints and their outbox ---- */

/* An endpoint: where an outlet wants matching wire events POSTed. */
typedef struct {
    char id[32];            /* 'w' + 15 base32 characters */
    char subscriber_id[32]; /* the outlet that owns it */
    char *url;
    char *secret;           /* "whsec_" + base64 of the key bytes */
    json_t *filters;        /* array of canonical filter objects */
    char format[8];         /* "ninjs", "newsml" or "json" */
    int paused;
    char *paused_reason;    /* NULL unless paused */
    int64_t paused_at;      /* ms UTC, 0 unless paused */
    int64_t after_seq;      /* wire events after this one are delivered */
    int64_t created_at, updated_at;
    int64_t pending;        /* deliveries not yet delivered */
} store_webhook_t;

#define STORE_WEBHOOKS_PER_OUTLET 20
#define STORE_WEBHOOK_URL_MAX 2048

/* One row of the outbox: the event seq for an endpoint. */
typedef struct {
    int64_t seq;
    char kind[16];
    char release_id[32];
    int attempts;            /* made so far */
    int64_t next_at;         /* ms UTC: not before */
    int64_t first_failed_at; /* ms UTC of the first failure of the current run, 0: none */
} store_webhook_delivery_t;

/* The endpoint with id (allocated, store_webhook_free) or KW_NOTFOUND. The
 * caller decides who may see it. */
int store_webhook_get(store_t *s, const char *id, store_webhook_t **out);
void store_webhook_free(store_webhook_t *w);
/* The endpoint as the API shows it: {id, subscriber, url, format, filters,
 * state, paused_reason, paused_at, pending, created_at, updated_at}, never
 * the secret. Caller decrefs. */
json_t *store_webhook_json(const store_webhook_t *w);
/* Endpoints newest first, of one outlet (NULL: all), as
 * store_subscriber_list pages. */
int store_webhook_list(store_t *s, const char *subscriber_id, int64_t cursor, size_t limit,
                       store_webhook_t ***out, size_t *n, int64_t *next_cursor);
/* Calls fn for every endpoint (valid only during the call), oldest first;
 * for loading the engine. Returns as store_subscribers_each. */
typedef int (*store_webhook_fn)(const store_webhook_t *w, void *arg);
int store_webhooks_each(store_t *s, store_webhook_fn fn, void *arg);
/* The endpoint's oldest pending delivery with seq > after: KW_OK,
 * KW_NOTFOUND (none) or KW_ERROR. */
int store_webhook_next(store_t *s, const char *endpoint_id, int64_t after,
                       store_webhook_delivery_t *out);
/* The body rendered for event seq in format, appended to out: KW_OK or
 * KW_NOTFOUND. */
int store_webhook_payload(store_t *s, int64_t seq, const char *format, kw_buf_t *out);
/* The delivery log of an endpoint, newest event first, at most limit
 * (1-100) after cursor (0: first page): JSON array of {id, seq, kind,
 * release_id, state, attempts, created_at, next_attempt_at, delivered_at,
 * log: [{attempt, at, status, error, elapsed_ms}]}. Caller decrefs. */
json_t *store_webhook_deliveries(store_t *s, const char *endpoint_id, int64_t cursor,
                                 size_t limit, int64_t *next_cursor);
/* Deliveries pending in all (for /metrics). */
int64_t store_webhook_pending_total(store_t *s);

/* ---- e-mail alerts for journalists ----
 *
 * A sign-up (mail_signups) waits for its confirmation link; confirming
 * makes a journalist subscriber (its filters are the beats) and a
 * recipient row (mail_recipients: address, mail language, timing, state
 * active / unsubscribed / bounced). The outbox (mail_outbox) holds one row
 * per mail, keyed by the stable id its Message-ID is made of; digest items
 * (mail_digest_items) wait for their hour. The engine's wire position is
 * meta.mail_seq; the HMAC key of the links is meta.mail_secret (made by
 * the migration). */

#define STORE_MAIL_SIGNUPS_PER_HOUR 3

typedef struct {
    char subscriber_id[32];
    uint32_t num;         /* the subscriber's number (the matcher's) */
    char *email;
    char language[16];    /* the mails' language */
    char timing[12];      /* "immediate", "hourly", "daily" */
    char state[16];       /* "active", "unsubscribed", "bounced" */
    int trusted;
    json_t *filters;      /* the subscriber's (canonical) */
    int64_t after_seq;    /* wire events after this one are for it */
} store_mail_recipient_t;

/* Calls fn for every active recipient (valid during the call only), for
 * loading the engine. Returns as store_subscribers_each. */
typedef int (*store_mail_recipient_fn)(const store_mail_recipient_t *r, void *arg);
int store_mail_recipients_each(store_t *s, store_mail_recipient_fn fn, void *arg);
/* The recipient of subscriber_id in any state (allocated) or KW_NOTFOUND. */
int store_mail_recipient_get(store_t *s, const char *subscriber_id, store_mail_recipient_t **out);
void store_mail_recipient_free(store_mail_recipient_t *r);

/* One mail of the outbox. */
typedef struct {
    int64_t rowid;
    char id[96];          /* stable: the Message-ID's left part */
    char kind[16];        /* "alert", "correction", "embargo", "digest", "confirm" */
    char subscriber_id[32]; /* "" for "confirm" */
    char *email;
    char language[16];
    char *ref;            /* release id; digest: JSON array of release ids; confirm: sign-up id */
    int64_t seq;
    int attempts;
    int64_t next_at;
    int64_t created_at;
} store_mail_t;

/* Pending mails due by now, in order of (next_at, rowid) after the given
 * pair (0, 0: from the start), at most limit: *out is an array of n
 * (store_mail_free). */
int store_mail_due(store_t *s, int64_t now, int64_t after_next_at, int64_t after_rowid,
                   size_t limit, store_mail_t **out, size_t *n);
void store_mail_free(store_mail_t *m, size_t n);
/* The earliest next_at of a pending mail, 0 if none. */
int64_t store_mail_next_at(store_t *s);
typedef struct {
    int64_t pending;
    int64_t recipients_active, recipients_unsubscribed, recipients_bounced;
} store_mail_stats_t;
void store_mail_stats(store_t *s, store_mail_stats_t *out);

/* Counts for /metrics, public-safe: published releases and wire length. */
typedef struct {
    uint64_t write_batches;
    uint64_t write_ops;
    uint64_t write_batch_max;
    uint64_t queue_depth;
    int64_t wire_last_seq;
} store_stats_t;
void store_get_stats(store_t *s, store_stats_t *out);

/* ---- distribution reports (deliver/report.c) ---- */

/* The counts stored for a release by STORE_OP_REPORT_ADD: JSON array of
 * {channel, minute, language, country, matched, delivered, failed,
 * failed_attempts}, ordered by minute. Caller decrefs. */
json_t *store_report_counts(store_t *s, const char *release_id);
/* The release's webhook deliveries (all its events), grouped: JSON array of
 * {filters (the outlet subscriber's, [] if gone), delivered (bool), minute
 * (delivered_at ms / 60000, null if not delivered), deliveries, attempted
 * (of them, tried at least once), failed_attempts}. Caller decrefs. */
json_t *store_report_webhooks(store_t *s, const char *release_id);

/* A key/value in the meta table (for flags like "demo loaded"). */
int store_meta_get(store_t *s, const char *key, char *out, size_t size);
int store_meta_set(store_t *s, const char *key, const char *value);

/* ---- people: sessions, accounts, reset and invitation links ---- */

#define STORE_SESSION_IDLE_MS (12 * 3600 * 1000LL)    /* ends 12 h after last seen */
#define STORE_SESSION_MAX_MS (7 * 24 * 3600 * 1000LL) /* ... and 7 days after log-in */

/* A live session: its user as a principal, and its CSRF token. */
typedef struct {
    core_principal_t who;
    char email[256];
    char issuer_name[128]; /* the issuer organization's name, "" if none */
    char csrf[48];
    int64_t created_at, last_seen;
} store_session_t;

/* The session whose cookie hashes to id_hash, if it has neither idled out
 * nor grown too old at now_ms: KW_OK, KW_NOTFOUND or KW_ERROR. */
int store_session_get(store_t *s, const char *id_hash, int64_t now_ms, store_session_t *out);

/* A person's account as log-in sees it. password_hash "" when the user has
 * none (token-only users, invitations not yet accepted). */
typedef struct {
    char user_id[32];
    core_role_t role;
    char name[128];
    char email[256];
    char password_hash[128];
} store_account_t;

/* The user with this e-mail address (ASCII case-insensitive); with several,
 * one with a password first, then one that is not a subscriber. KW_OK,
 * KW_NOTFOUND or KW_ERROR. */
int store_account_by_email(store_t *s, const char *email, store_account_t *out);

/* Log-in failures recorded for key (STORE_OP_LOGIN_FAILED) after since_ms. */
int64_t store_login_failures(store_t *s, const char *key, int64_t since_ms);

/* A reset (invite 0) or invitation (invite 1) link by the hash of its
 * token, with its user. KW_OK (check used and expires_at), KW_NOTFOUND. */
typedef struct {
    char user_id[32];
    char email[256];
    char name[128];
    core_role_t role;
    char issuer_name[128];
    int64_t expires_at;
    int used;
} store_account_link_t;
int store_account_link_get(store_t *s, int invite, const char *hash, store_account_link_t *out);

/* The newest invitations, at most limit: JSON array of {email, role,
 * issuer, created_at, expires_at, accepted_at|null} (ms UTC). Caller
 * decrefs. */
json_t *store_invites_recent(store_t *s, size_t limit);

#endif
