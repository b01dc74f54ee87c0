/* store_sqlite.c -- the embedded store: SQLite in WAL mode under the data
 * folder, one writer thread committing queued operations in groups.
 *
 * Design note: durability and group commit.
 * A request that changes state becomes a store_op_t queued to the writer.
 * The writer takes everything queued (up to WRITER_BATCH_MAX ops), opens
 * one IMMEDIATE transaction, runs each op inside its own SAVEPOINT (so a
 * failing op rolls back alone), and commits with synchronous=FULL: when
 * COMMIT returns, the WAL frames are on disk. Only then are the ops handed
 * back to the loop (uv_async), and only then does the API answer. So an
 * acknowledged write survives kill -9 and power loss, and under load one
 * fsync carries hundreds of requests. If COMMIT fails every op of the batch
 * fails and none was acknowledged.
 *
 * The loop thread reads through its own connection; WAL lets it read the
 * last committed state while the writer works. Each connection prepares its
 * statements once (lazily) and resets them after every use. */
#include "store/store.h"
#include "auth/auth.h"
#include "core/core_sector.h"
#include "core/core_time.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define WRITER_BATCH_MAX 1024
#define ID_CHARS 16

/* ---- statements ---- */

#define REL_COLS                                                                                   \
    "r.id, r.issuer_id, i.name, i.slug, r.state, r.version, r.headline, r.subheadline, r.body, "   \
    "r.language, r.translation_group, r.dateline_place, r.sectors, r.regions, r.contacts, "        \
    "r.embargo_until, r.publish_at, r.created_at, r.updated_at, r.submitted_at, r.published_at, "  \
    "r.withdrawn_at, r.publish_seq, r.rejection_reason, r.withdrawal_reason, r.correction_note, "  \
    "r.rowid"
#define REL_FROM " FROM releases r JOIN issuers i ON i.id = r.issuer_id "
#define REL_NCOLS 27

#define SUB_COLS                                                                                   \
    "num, id, kind, name, email, trusted, filters, user_id, created_at, updated_at"

#define WH_COLS                                                                                    \
    "w.id, w.subscriber_id, w.url, w.secret, w.filters, w.format, w.state, w.paused_reason, "      \
    "w.paused_at, w.after_seq, w.created_at, w.updated_at, w.rowid, (SELECT COUNT(*) FROM "        \
    "webhook_deliveries d WHERE d.endpoint_id = w.id AND d.state = 'pending')"

typedef enum {
    ST_TOKEN_PRINCIPAL,
    ST_RELEASE_GET,
    ST_RELEASE_INSERT,
    ST_RELEASE_UPDATE,
    ST_SECTORS_DELETE,
    ST_SECTOR_LINK,
    ST_REGIONS_DELETE,
    ST_REGION_LINK,
    ST_VERSION_INSERT,
    ST_VERSIONS_GET,
    ST_WIRE_APPEND,
    ST_WIRE_READ,
    ST_WIRE_LAST,
    ST_IDEM_GET,
    ST_IDEM_PUT,
    ST_DUE_LIST,
    ST_NEXT_DUE,
    ST_TRANSLATIONS,
    ST_SECTORS_ALL,
    ST_SECTOR_INSERT,
    ST_ISSUER_GET,
    ST_ISSUER_INSERT,
    ST_USER_INSERT,
    ST_TOKEN_INSERT,
    ST_META_GET,
    ST_META_SET,
    ST_ISSUER_POSITION,
    ST_SUBSCRIBER_INSERT,
    ST_SUBSCRIBER_GET,
    ST_SUBSCRIBER_UPDATE,
    ST_SUBSCRIBER_DELETE,
    ST_SUBSCRIBERS_ALL,
    ST_SUBSCRIBERS_PAGE,
    ST_USER_RENAME,
    ST_TOKENS_REVOKE,
    ST_WEBSUB_UPSERT,
    ST_WEBSUB_DELETE,
    ST_WEBSUB_ALL,
    ST_WEBHOOK_INSERT,
    ST_WEBHOOK_GET,
    ST_WEBHOOK_UPDATE,
    ST_WEBHOOK_DELETE,
    ST_WEBHOOK_COUNT,
    ST_WEBHOOKS_ALL,
    ST_WEBHOOKS_PAGE,
    ST_WEBHOOK_REQUEUE,
    ST_WEBHOOK_PURGE,
    ST_WEBHOOK_PAYLOAD_PUT,
    ST_WEBHOOK_PAYLOAD_GET,
    ST_WEBHOOK_DELIVERY_PUT,
    ST_WEBHOOK_DELIVERY_SET,
    ST_WEBHOOK_ATTEMPT_PUT,
    ST_WEBHOOK_PAUSE,
    ST_WEBHOOK_NEXT,
    ST_WEBHOOK_PURGE_LOG,
    ST_WEBHOOK_PENDING_ALL,
    ST_WEBHOOK_LOG_PAGE,
    ST_WEBHOOK_LOG_ATTEMPTS,
    ST_WEBHOOK_OUTLET,
    ST_REPORT_ADD,
    ST_REPORT_COUNTS,
    ST_REPORT_WEBHOOKS,
    ST_MAIL_SIGNUP_COUNT,
    ST_MAIL_SIGNUP_INSERT,
    ST_MAIL_SIGNUP_GET,
    ST_MAIL_SIGNUP_DONE,
    ST_MAIL_OUTBOX_PUT,
    ST_MAIL_OUTBOX_PUT_FOR,
    ST_MAIL_DIGEST_ITEM_PUT,
    ST_MAIL_DIGEST_BUILD,
    ST_MAIL_DIGEST_CLEAR,
    ST_MAIL_RECIPIENT_BY_EMAIL,
    ST_MAIL_RECIPIENT_INSERT,
    ST_MAIL_RECIPIENT_RENEW,
    ST_MAIL_RECIPIENT_DELETE,
    ST_MAIL_RECIPIENT_STATE,
    ST_MAIL_CANCEL,
    ST_MAIL_DIGEST_DROP,
    ST_MAIL_SENT,
    ST_MAIL_RETRY,
    ST_MAIL_FAIL,
    ST_MAIL_SUBSCRIBER_OF,
    ST_MAIL_RECIPIENTS_ALL,
    ST_MAIL_RECIPIENT_GET,
    ST_MAIL_DUE,
    ST_MAIL_NEXT_AT,
    ST_MAIL_PENDING,
    ST_MAIL_RECIPIENT_COUNTS,
    ST_SESSION_GET,
    ST_SESSION_INSERT,
    ST_SESSION_TOUCH,
    ST_SESSION_DELETE,
    ST_SESSIONS_END_USER,
    ST_SESSIONS_PRUNE,
    ST_LOGIN_FAILURE_PUT,
    ST_LOGIN_FAILURES_COUNT,
    ST_LOGIN_FAILURES_CLEAR,
    ST_LOGIN_FAILURES_PRUNE,
    ST_ACCOUNT_BY_EMAIL,
    ST_ACCOUNT_EMAIL_TAKEN,
    ST_USER_SET_PASSWORD,
    ST_RESET_INSERT,
    ST_RESET_GET,
    ST_RESETS_USE,
    ST_INVITE_INSERT,
    ST_INVITE_GET,
    ST_INVITE_ACCEPT,
    ST_INVITES_RECENT,
    ST_EMAIL_ANY_USER,
    ST_MAIL_RECIPIENT_TIMING,
    ST_SUBSCRIBER_BY_LOGIN,
    ST_COUNT_
} stmt_id_t;

static const char *stmt_sql[ST_COUNT_] = {
    [ST_TOKEN_PRINCIPAL] = "SELECT u.id, u.role, COALESCE(u.issuer_id, ''), u.name, "
                           "COALESCE(s.id, '') FROM tokens t "
                           "JOIN users u ON u.id = t.user_id "
                           "LEFT JOIN subscribers s ON s.user_id = u.id "
                           "WHERE t.hash = ?1 AND t.revoked_at IS NULL",
    [ST_RELEASE_GET] = "SELECT " REL_COLS REL_FROM "WHERE r.id = ?1",
    [ST_RELEASE_INSERT] =
        "INSERT INTO releases (id, issuer_id, state, version, headline, subheadline, body, "
        "language, translation_group, dateline_place, sectors, regions, contacts, embargo_until, "
        "publish_at, due_at, created_at, updated_at, submitted_at, published_at, withdrawn_at, "
        "publish_seq, rejection_reason, withdrawal_reason, correction_note) VALUES (?1, ?2, ?3, "
        "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
        "?23, ?24, ?25)",
    [ST_RELEASE_UPDATE] =
        "UPDATE releases SET issuer_id = ?2, state = ?3, version = ?4, headline = ?5, "
        "subheadline = ?6, body = ?7, language = ?8, translation_group = ?9, dateline_place = "
        "?10, sectors = ?11, regions = ?12, contacts = ?13, embargo_until = ?14, publish_at = "
        "?15, due_at = ?16, created_at = ?17, updated_at = ?18, submitted_at = ?19, "
        "published_at = ?20, withdrawn_at = ?21, publish_seq = ?22, rejection_reason = ?23, "
        "withdrawal_reason = ?24, correction_note = ?25 WHERE id = ?1",
    [ST_SECTORS_DELETE] = "DELETE FROM release_sectors WHERE release_id = ?1",
    [ST_SECTOR_LINK] = "INSERT OR IGNORE INTO release_sectors (slug, release_id) VALUES (?1, ?2)",
    [ST_REGIONS_DELETE] = "DELETE FROM release_regions WHERE release_id = ?1",
    [ST_REGION_LINK] = "INSERT OR IGNORE INTO release_regions (code, release_id) VALUES (?1, ?2)",
    [ST_VERSION_INSERT] = "INSERT INTO release_versions (release_id, version, at, note, snapshot) "
                          "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_VERSIONS_GET] = "SELECT version, at, note, snapshot FROM release_versions "
                        "WHERE release_id = ?1 ORDER BY version",
    [ST_WIRE_APPEND] = "INSERT INTO wire (release_id, kind, version, at) VALUES (?1, ?2, ?3, ?4)",
    [ST_WIRE_READ] = "SELECT w.seq, w.kind, w.at, w.version, " REL_COLS
                     " FROM wire w JOIN releases r ON r.id = w.release_id "
                     "JOIN issuers i ON i.id = r.issuer_id WHERE w.seq > ?1 ORDER BY w.seq "
                     "LIMIT ?2",
    [ST_WIRE_LAST] = "SELECT COALESCE(MAX(seq), 0) FROM wire",
    [ST_IDEM_GET] = "SELECT request_hash, release_id FROM idempotency "
                    "WHERE user_id = ?1 AND key = ?2",
    [ST_IDEM_PUT] = "INSERT INTO idempotency (user_id, key, request_hash, release_id, created_at) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_DUE_LIST] = "SELECT id FROM releases WHERE state IN ('scheduled', 'embargoed') "
                    "AND due_at <= ?1 ORDER BY due_at, rowid",
    [ST_NEXT_DUE] = "SELECT MIN(due_at) FROM releases WHERE state IN ('scheduled', 'embargoed')",
    /* A group is the issuer's own: another issuer naming the same group
     * must not pass its release off as a language version of this one. */
    [ST_TRANSLATIONS] = "SELECT language, id FROM releases WHERE translation_group = ?1 "
                        "AND id <> ?2 AND state IN ('published', 'corrected') "
                        "AND issuer_id = (SELECT issuer_id FROM releases WHERE id = ?2) "
                        "ORDER BY language",
    [ST_SECTORS_ALL] = "SELECT slug, name, media_topic FROM sectors ORDER BY position, slug",
    [ST_SECTOR_INSERT] = "INSERT INTO sectors (slug, name, media_topic, position) VALUES "
                         "(?1, ?2, ?3, (SELECT COALESCE(MAX(position), 0) + 1 FROM sectors))",
    [ST_ISSUER_GET] = "SELECT id, slug, name FROM issuers WHERE id = ?1 OR slug = ?1 "
                      "OR name = ?1 LIMIT 1",
    [ST_ISSUER_INSERT] = "INSERT INTO issuers (id, slug, name, created_at) VALUES (?1, ?2, ?3, ?4)",
    [ST_USER_INSERT] = "INSERT INTO users (id, name, email, role, issuer_id, password_hash, "
                       "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_TOKEN_INSERT] = "INSERT INTO tokens (hash, user_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [ST_ISSUER_POSITION] = "SELECT COUNT(*) FROM releases WHERE issuer_id = ?1 AND rowid <= ?2",
    [ST_SUBSCRIBER_INSERT] = "INSERT INTO subscribers (id, kind, name, email, trusted, filters, "
                             "user_id, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                             "?7, ?8, ?9)",
    [ST_SUBSCRIBER_GET] = "SELECT " SUB_COLS " FROM subscribers WHERE id = ?1",
    [ST_SUBSCRIBER_UPDATE] = "UPDATE subscribers SET kind = ?2, name = ?3, email = ?4, "
                             "trusted = ?5, filters = ?6, updated_at = ?7 WHERE id = ?1",
    [ST_SUBSCRIBER_DELETE] = "DELETE FROM subscribers WHERE id = ?1",
    [ST_SUBSCRIBERS_ALL] = "SELECT " SUB_COLS " FROM subscribers ORDER BY num",
    [ST_SUBSCRIBERS_PAGE] = "SELECT " SUB_COLS " FROM subscribers WHERE (?1 IS NULL OR kind = ?1) "
                            "AND (?2 = 0 OR num < ?2) ORDER BY num DESC LIMIT ?3",
    [ST_USER_RENAME] = "UPDATE users SET name = ?2 WHERE id = ?1",
    [ST_TOKENS_REVOKE] = "UPDATE tokens SET revoked_at = ?2 WHERE user_id = ?1 "
                         "AND revoked_at IS NULL",
    [ST_WEBSUB_UPSERT] = "INSERT INTO websub_subscriptions (callback, topic, secret, lease_until, "
                         "created_at) VALUES (?1, ?2, ?3, ?4, ?5) "
                         "ON CONFLICT (callback, topic) DO UPDATE SET secret = excluded.secret, "
                         "lease_until = excluded.lease_until",
    [ST_WEBSUB_DELETE] = "DELETE FROM websub_subscriptions WHERE callback = ?1 AND topic = ?2 "
                         "AND (?3 IS NULL OR lease_until = ?3)",
    [ST_WEBSUB_ALL] = "SELECT callback, topic, secret, lease_until, created_at "
                      "FROM websub_subscriptions ORDER BY created_at, callback, topic",
    [ST_WEBHOOK_INSERT] = "INSERT INTO webhook_endpoints (id, subscriber_id, url, secret, filters, "
                          "format, state, after_seq, created_at, updated_at) VALUES (?1, ?2, ?3, "
                          "?4, ?5, ?6, 'active', (SELECT COALESCE(MAX(seq), 0) FROM wire), ?7, ?7)",
    [ST_WEBHOOK_GET] = "SELECT " WH_COLS " FROM webhook_endpoints w WHERE w.id = ?1",
    [ST_WEBHOOK_UPDATE] = "UPDATE webhook_endpoints SET url = ?2, secret = ?3, filters = ?4, "
                          "format = ?5, state = ?6, paused_reason = ?7, paused_at = ?8, "
                          "updated_at = ?9 WHERE id = ?1",
    [ST_WEBHOOK_DELETE] = "DELETE FROM webhook_endpoints WHERE id = ?1",
    [ST_WEBHOOK_COUNT] = "SELECT COUNT(*) FROM webhook_endpoints WHERE subscriber_id = ?1",
    [ST_WEBHOOKS_ALL] = "SELECT " WH_COLS " FROM webhook_endpoints w ORDER BY w.rowid",
    [ST_WEBHOOKS_PAGE] = "SELECT " WH_COLS " FROM webhook_endpoints w WHERE (?1 IS NULL OR "
                         "w.subscriber_id = ?1) AND (?2 = 0 OR w.rowid < ?2) "
                         "ORDER BY w.rowid DESC LIMIT ?3",
    [ST_WEBHOOK_REQUEUE] = "UPDATE webhook_deliveries SET next_at = ?2, first_failed_at = NULL "
                           "WHERE endpoint_id = ?1 AND state = 'pending'",
    [ST_WEBHOOK_PURGE] = "DELETE FROM webhook_deliveries WHERE endpoint_id = ?1",
    [ST_WEBHOOK_PAYLOAD_PUT] = "INSERT OR IGNORE INTO webhook_payloads (seq, format, body) "
                               "VALUES (?1, ?2, ?3)",
    [ST_WEBHOOK_PAYLOAD_GET] = "SELECT body FROM webhook_payloads WHERE seq = ?1 AND format = ?2",
    [ST_WEBHOOK_DELIVERY_PUT] = "INSERT OR IGNORE INTO webhook_deliveries (endpoint_id, seq, kind, "
                                "release_id, state, attempts, next_at, created_at) VALUES (?1, ?2, "
                                "?3, ?4, 'pending', 0, ?5, ?5)",
    [ST_WEBHOOK_DELIVERY_SET] = "UPDATE webhook_deliveries SET state = ?3, "
                                "attempts = MAX(attempts, ?4), next_at = ?5, "
                                "first_failed_at = ?6, delivered_at = ?7, "
                                "last_status = ?8, last_error = ?9 WHERE endpoint_id = ?1 AND "
                                "seq = ?2 AND state = 'pending'",
    [ST_WEBHOOK_ATTEMPT_PUT] = "INSERT INTO webhook_attempts (endpoint_id, seq, attempt, at, "
                               "status, error, elapsed_ms) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS "
                               "(SELECT 1 FROM webhook_deliveries WHERE endpoint_id = ?1 AND "
                               "seq = ?2)",
    [ST_WEBHOOK_PAUSE] = "UPDATE webhook_endpoints SET state = 'paused', paused_reason = ?2, "
                         "paused_at = ?3, updated_at = ?3 WHERE id = ?1 AND state = 'active'",
    [ST_WEBHOOK_NEXT] = "SELECT seq, kind, release_id, attempts, next_at, first_failed_at "
                        "FROM webhook_deliveries WHERE endpoint_id = ?1 AND state = 'pending' "
                        "AND seq > ?2 ORDER BY seq LIMIT 1",
    [ST_WEBHOOK_PURGE_LOG] = "DELETE FROM webhook_attempts WHERE endpoint_id = ?1",
    [ST_WEBHOOK_PENDING_ALL] = "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'",
    [ST_WEBHOOK_LOG_PAGE] = "SELECT seq, kind, release_id, state, attempts, created_at, next_at, "
                            "delivered_at FROM webhook_deliveries WHERE endpoint_id = ?1 AND "
                            "(?2 = 0 OR seq < ?2) ORDER BY seq DESC LIMIT ?3",
    [ST_WEBHOOK_LOG_ATTEMPTS] = "SELECT attempt, at, status, error, elapsed_ms FROM "
                                "webhook_attempts WHERE endpoint_id = ?1 AND seq = ?2 ORDER BY num",
    [ST_WEBHOOK_OUTLET] = "SELECT kind FROM subscribers WHERE id = ?1",
    [ST_MAIL_SIGNUP_COUNT] = "SELECT COUNT(*) FROM mail_signups WHERE email = ?1 AND created_at > ?2",
    [ST_MAIL_SIGNUP_INSERT] = "INSERT INTO mail_signups (id, email, name, language, timing, filters, "
                              "ip, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_MAIL_SIGNUP_GET] = "SELECT email, name, language, timing, filters, expires_at, "
                           "confirmed_at, subscriber_id FROM mail_signups WHERE id = ?1",
    [ST_MAIL_SIGNUP_DONE] = "UPDATE mail_signups SET confirmed_at = ?2, subscriber_id = ?3 "
                            "WHERE id = ?1",
    [ST_MAIL_OUTBOX_PUT] = "INSERT OR IGNORE INTO mail_outbox (id, kind, subscriber_id, email, "
                           "language, ref, seq, state, attempts, next_at, created_at) VALUES (?1, "
                           "?2, ?3, ?4, ?5, ?6, ?7, 'pending', 0, ?8, ?8)",
    [ST_MAIL_OUTBOX_PUT_FOR] = "INSERT OR IGNORE INTO mail_outbox (id, kind, subscriber_id, email, "
                               "language, ref, seq, state, attempts, next_at, created_at) SELECT "
                               "?1, ?2, r.subscriber_id, r.email, r.language, ?4, ?5, 'pending', 0, "
                               "?6, ?6 FROM mail_recipients r WHERE r.subscriber_id = ?3 AND "
                               "r.state = 'active'",
    [ST_MAIL_DIGEST_ITEM_PUT] = "INSERT OR IGNORE INTO mail_digest_items (subscriber_id, release_id, "
                                "seq) SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM "
                                "mail_recipients WHERE subscriber_id = ?1 AND state = 'active')",
    [ST_MAIL_DIGEST_BUILD] =
        "INSERT OR IGNORE INTO mail_outbox (id, kind, subscriber_id, email, language, ref, seq, "
        "state, attempts, next_at, created_at) SELECT ?1 || '.' || r.subscriber_id, 'digest', "
        "r.subscriber_id, r.email, r.language, (SELECT json_group_array(release_id) FROM (SELECT "
        "i.release_id FROM mail_digest_items i WHERE i.subscriber_id = r.subscriber_id ORDER BY "
        "i.seq)), NULL, 'pending', 0, ?2, ?2 FROM mail_recipients r WHERE r.timing = ?3 AND "
        "r.state = 'active' AND EXISTS (SELECT 1 FROM mail_digest_items i WHERE "
        "i.subscriber_id = r.subscriber_id)",
    [ST_MAIL_DIGEST_CLEAR] = "DELETE FROM mail_digest_items WHERE subscriber_id IN (SELECT "
                             "subscriber_id FROM mail_recipients WHERE timing = ?1)",
    [ST_MAIL_RECIPIENT_BY_EMAIL] = "SELECT subscriber_id FROM mail_recipients WHERE email = ?1",
    [ST_MAIL_RECIPIENT_INSERT] = "INSERT INTO mail_recipients (subscriber_id, email, language, "
                                 "timing, state, after_seq, created_at, updated_at) VALUES (?1, "
                                 "?2, ?3, ?4, 'active', (SELECT COALESCE(MAX(seq), 0) FROM wire), "
                                 "?5, ?5)",
    [ST_MAIL_RECIPIENT_RENEW] = "UPDATE mail_recipients SET language = ?2, timing = ?3, state = "
                                "'active', state_reason = NULL, after_seq = (SELECT "
                                "COALESCE(MAX(seq), 0) FROM wire), updated_at = ?4 WHERE "
                                "subscriber_id = ?1",
    [ST_MAIL_RECIPIENT_DELETE] = "DELETE FROM mail_recipients WHERE subscriber_id = ?1",
    [ST_MAIL_RECIPIENT_TIMING] = "UPDATE mail_recipients SET timing = ?2, updated_at = ?3 "
                                 "WHERE subscriber_id = ?1",
    [ST_EMAIL_ANY_USER] = "SELECT 1 FROM users WHERE email = ?1 COLLATE NOCASE LIMIT 1",
    [ST_SUBSCRIBER_BY_LOGIN] = "SELECT s.id FROM subscribers s JOIN users u ON u.id = s.user_id "
                               "WHERE u.email = ?1 COLLATE NOCASE AND u.password_hash IS NOT "
                               "NULL AND s.kind = 'journalist' LIMIT 1",
    [ST_MAIL_RECIPIENT_STATE] = "UPDATE mail_recipients SET state = ?2, state_reason = ?3, "
                                "updated_at = ?4 WHERE subscriber_id = ?1 AND state = 'active'",
    [ST_MAIL_CANCEL] = "UPDATE mail_outbox SET state = 'cancelled' WHERE subscriber_id = ?1 AND "
                       "state = 'pending'",
    [ST_MAIL_DIGEST_DROP] = "DELETE FROM mail_digest_items WHERE subscriber_id = ?1",
    [ST_MAIL_SENT] = "UPDATE mail_outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?2, "
                     "last_error = NULL WHERE id = ?1 AND state = 'pending'",
    [ST_MAIL_RETRY] = "UPDATE mail_outbox SET attempts = ?2, next_at = ?3, last_error = ?4 "
                      "WHERE id = ?1 AND state = 'pending'",
    [ST_MAIL_FAIL] = "UPDATE mail_outbox SET state = ?2, attempts = ?3, last_error = ?4 "
                     "WHERE id = ?1 AND state = 'pending'",
    [ST_MAIL_SUBSCRIBER_OF] = "SELECT subscriber_id FROM mail_outbox WHERE id = ?1",
    [ST_MAIL_RECIPIENTS_ALL] = "SELECT r.subscriber_id, s.num, r.email, r.language, r.timing, "
                               "r.state, s.trusted, s.filters, r.after_seq FROM mail_recipients r "
                               "JOIN subscribers s ON s.id = r.subscriber_id WHERE r.state = "
                               "'active' ORDER BY s.num",
    [ST_MAIL_RECIPIENT_GET] = "SELECT r.subscriber_id, s.num, r.email, r.language, r.timing, "
                              "r.state, s.trusted, s.filters, r.after_seq FROM mail_recipients r "
                              "JOIN subscribers s ON s.id = r.subscriber_id WHERE "
                              "r.subscriber_id = ?1",
    [ST_MAIL_DUE] = "SELECT rowid, id, kind, COALESCE(subscriber_id, ''), email, language, ref, "
                    "COALESCE(seq, 0), attempts, next_at, created_at FROM mail_outbox WHERE "
                    "state = 'pending' AND next_at <= ?1 AND (next_at > ?3 OR (next_at = ?3 "
                    "AND rowid > ?4)) ORDER BY next_at, rowid LIMIT ?2",
    [ST_MAIL_NEXT_AT] = "SELECT MIN(next_at) FROM mail_outbox WHERE state = 'pending'",
    [ST_MAIL_PENDING] = "SELECT COUNT(*) FROM mail_outbox WHERE state = 'pending'",
    [ST_MAIL_RECIPIENT_COUNTS] = "SELECT state, COUNT(*) FROM mail_recipients GROUP BY state",
    [ST_REPORT_ADD] = "INSERT INTO report_counts (release_id, channel, minute, language, country, "
                      "matched, delivered, failed, failed_attempts) VALUES (?1, ?2, ?3, ?4, ?5, "
                      "?6, ?7, ?8, ?9) ON CONFLICT (release_id, channel, minute, language, "
                      "country) DO UPDATE SET matched = matched + excluded.matched, "
                      "delivered = delivered + excluded.delivered, failed = failed + "
                      "excluded.failed, failed_attempts = failed_attempts + "
                      "excluded.failed_attempts",
    [ST_REPORT_COUNTS] = "SELECT channel, minute, language, country, matched, delivered, failed, "
                         "failed_attempts FROM report_counts WHERE release_id = ?1 "
                         "ORDER BY minute, channel, language, country",
    [ST_REPORT_WEBHOOKS] = "SELECT COALESCE(s.filters, '[]'), d.state = 'delivered', "
                           "CASE WHEN d.state = 'delivered' THEN d.delivered_at / 60000 END, "
                           "COUNT(*), SUM(d.attempts > 0), "
                           "SUM(d.attempts - (d.state = 'delivered')) "
                           "FROM webhook_deliveries d "
                           "LEFT JOIN webhook_endpoints w ON w.id = d.endpoint_id "
                           "LEFT JOIN subscribers s ON s.id = w.subscriber_id "
                           "WHERE d.release_id = ?1 GROUP BY 1, 2, 3 ORDER BY 3",
    /* people: sessions, log-in failures, password resets, invitations */
    [ST_SESSION_GET] = "SELECT s.user_id, s.csrf, s.created_at, s.last_seen, u.role, "
                       "COALESCE(u.issuer_id, ''), u.name, COALESCE(u.email, ''), "
                       "COALESCE(i.name, ''), COALESCE(sub.id, '') FROM sessions s "
                       "JOIN users u ON u.id = s.user_id "
                       "LEFT JOIN issuers i ON i.id = u.issuer_id "
                       "LEFT JOIN subscribers sub ON sub.user_id = u.id "
                       "WHERE s.id_hash = ?1 AND s.last_seen > ?2 AND s.created_at > ?3",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen) "
                          "VALUES (?1, ?2, ?3, ?4, ?4)",
    [ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen = ?2 WHERE id_hash = ?1",
    [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE id_hash = ?1",
    [ST_SESSIONS_END_USER] = "DELETE FROM sessions WHERE user_id = ?1",
    [ST_SESSIONS_PRUNE] = "DELETE FROM sessions WHERE last_seen <= ?1 OR created_at <= ?2",
    [ST_LOGIN_FAILURE_PUT] = "INSERT INTO login_failures (key, at) VALUES (?1, ?2)",
    [ST_LOGIN_FAILURES_COUNT] = "SELECT COUNT(*) FROM login_failures WHERE key = ?1 AND at > ?2",
    [ST_LOGIN_FAILURES_CLEAR] = "DELETE FROM login_failures WHERE key = ?1",
    [ST_LOGIN_FAILURES_PRUNE] = "DELETE FROM login_failures WHERE at <= ?1",
    [ST_ACCOUNT_BY_EMAIL] = "SELECT id, role, COALESCE(password_hash, ''), name, email FROM users "
                            "WHERE email = ?1 COLLATE NOCASE "
                            "ORDER BY password_hash IS NULL, role = 'subscriber', created_at "
                            "LIMIT 1",
    [ST_ACCOUNT_EMAIL_TAKEN] = "SELECT 1 FROM users WHERE email = ?1 COLLATE NOCASE "
                               "AND role <> 'subscriber' LIMIT 1",
    [ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
    [ST_RESET_INSERT] = "INSERT INTO password_resets (hash, user_id, created_at, expires_at) "
                        "VALUES (?1, ?2, ?3, ?4)",
    [ST_RESET_GET] = "SELECT r.user_id, r.expires_at, r.used_at IS NOT NULL, "
                     "COALESCE(u.email, ''), u.name, u.role, COALESCE(i.name, '') "
                     "FROM password_resets r JOIN users u ON u.id = r.user_id "
                     "LEFT JOIN issuers i ON i.id = u.issuer_id WHERE r.hash = ?1",
    [ST_RESETS_USE] = "UPDATE password_resets SET used_at = ?2 WHERE user_id = ?1 "
                      "AND used_at IS NULL",
    [ST_INVITE_INSERT] = "INSERT INTO invites (hash, user_id, invited_by, created_at, expires_at) "
                         "VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_INVITE_GET] = "SELECT v.user_id, v.expires_at, v.accepted_at IS NOT NULL, "
                      "COALESCE(u.email, ''), u.name, u.role, COALESCE(i.name, '') "
                      "FROM invites v JOIN users u ON u.id = v.user_id "
                      "LEFT JOIN issuers i ON i.id = u.issuer_id WHERE v.hash = ?1",
    [ST_INVITE_ACCEPT] = "UPDATE invites SET accepted_at = ?2 WHERE hash = ?1 "
                         "AND accepted_at IS NULL",
    [ST_INVITES_RECENT] = "SELECT COALESCE(u.email, ''), u.role, COALESCE(i.name, ''), "
                          "v.created_at, v.expires_at, v.accepted_at FROM invites v "
                          "JOIN users u ON u.id = v.user_id "
                          "LEFT JOIN issuers i ON i.id = u.issuer_id "
                          "ORDER BY v.created_at DESC, v.rowid DESC LIMIT ?1",
};

/* Versioned migrations; schema_version in meta counts those applied. */
static const char *migrations[] = {
    /* 1: the trunk */
    "CREATE TABLE issuers (id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, "
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT, "
    "  role TEXT NOT NULL CHECK (role IN ('subscriber', 'issuer', 'editor', 'admin')), "
    "  issuer_id TEXT REFERENCES issuers(id), password_hash TEXT, created_at INTEGER NOT NULL);"
    "CREATE TABLE tokens (hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
    "  name TEXT, created_at INTEGER NOT NULL, revoked_at INTEGER);"
    "CREATE TABLE sectors (slug TEXT PRIMARY KEY, name TEXT NOT NULL, media_topic TEXT, "
    "  position INTEGER NOT NULL);"
    "CREATE TABLE releases (id TEXT PRIMARY KEY, issuer_id TEXT NOT NULL REFERENCES issuers(id), "
    "  state TEXT NOT NULL, version INTEGER NOT NULL, headline TEXT NOT NULL, subheadline TEXT, "
    "  body TEXT NOT NULL, language TEXT NOT NULL, translation_group TEXT, dateline_place TEXT, "
    "  sectors TEXT NOT NULL, regions TEXT NOT NULL, contacts TEXT NOT NULL, "
    "  embargo_until INTEGER, publish_at INTEGER, due_at INTEGER, created_at INTEGER NOT NULL, "
    "  updated_at INTEGER NOT NULL, submitted_at INTEGER, published_at INTEGER, "
    "  withdrawn_at INTEGER, publish_seq INTEGER, rejection_reason TEXT, "
    "  withdrawal_reason TEXT, correction_note TEXT);"
    "CREATE INDEX releases_public ON releases (publish_seq) WHERE publish_seq IS NOT NULL;"
    "CREATE INDEX releases_language ON releases (language, publish_seq);"
    "CREATE INDEX releases_issuer ON releases (issuer_id, publish_seq);"
    "CREATE INDEX releases_group ON releases (translation_group) "
    "  WHERE translation_group IS NOT NULL;"
    "CREATE INDEX releases_due ON releases (due_at) WHERE state IN ('scheduled', 'embargoed');"
    "CREATE TABLE release_sectors (slug TEXT NOT NULL, release_id TEXT NOT NULL "
    "  REFERENCES releases(id), PRIMARY KEY (slug, release_id)) WITHOUT ROWID;"
    "CREATE INDEX release_sectors_release ON release_sectors (release_id);"
    "CREATE TABLE release_regions (code TEXT NOT NULL, release_id TEXT NOT NULL "
    "  REFERENCES releases(id), PRIMARY KEY (code, release_id)) WITHOUT ROWID;"
    "CREATE INDEX release_regions_release ON release_regions (release_id);"
    "CREATE TABLE release_versions (release_id TEXT NOT NULL REFERENCES releases(id), "
    "  version INTEGER NOT NULL, at INTEGER NOT NULL, note TEXT, snapshot TEXT NOT NULL, "
    "  PRIMARY KEY (release_id, version));"
    "CREATE TABLE wire (seq INTEGER PRIMARY KEY AUTOINCREMENT, release_id TEXT NOT NULL "
    "  REFERENCES releases(id), kind TEXT NOT NULL, version INTEGER NOT NULL, "
    "  at INTEGER NOT NULL);"
    "CREATE TABLE idempotency (user_id TEXT NOT NULL, key TEXT NOT NULL, "
    "  request_hash TEXT NOT NULL, release_id TEXT NOT NULL, created_at INTEGER NOT NULL, "
    "  PRIMARY KEY (user_id, key));",

    /* 2: subscribers. num is the matcher's dense number (AUTOINCREMENT: a
     * deleted subscriber's number is never given to another); id is the
     * public one. Each subscriber has its own user of role subscriber,
     * whose tokens act for it. */
    "CREATE TABLE subscribers (num INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
    "  kind TEXT NOT NULL CHECK (kind IN ('desktop', 'journalist', 'outlet')), "
    "  name TEXT NOT NULL, email TEXT, "
    "  trusted INTEGER NOT NULL DEFAULT 0 CHECK (trusted IN (0, 1)), filters TEXT NOT NULL, "
    "  user_id TEXT NOT NULL UNIQUE REFERENCES users(id), created_at INTEGER NOT NULL, "
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX tokens_user ON tokens (user_id);",

    /* 3: the portal's archive by day and the sitemaps read public releases
     * by publication time. */
    "CREATE INDEX releases_published ON releases (published_at) WHERE publish_seq IS NOT NULL;",

    /* 4: the WebSub hub's verified subscriptions (feeds_websub.c). Times
     * in ms UTC; secret NULL when the subscriber gave none. */
    "CREATE TABLE websub_subscriptions (callback TEXT NOT NULL, topic TEXT NOT NULL, "
    "  secret TEXT, lease_until INTEGER NOT NULL, created_at INTEGER NOT NULL, "
    "  PRIMARY KEY (callback, topic));",

    /* 5: outlet webhook endpoints and their durable outbox
     * (deliver_webhook.c). A payload is rendered once per event and format
     * and shared by the endpoints' deliveries; a delivery is one event for
     * one endpoint, delivered in seq order; every attempt is logged. The
     * engine's position on the wire is meta.webhook_seq. Times in ms UTC. */
    "CREATE TABLE webhook_endpoints (id TEXT PRIMARY KEY, subscriber_id TEXT NOT NULL, "
    "  url TEXT NOT NULL, secret TEXT NOT NULL, filters TEXT NOT NULL, "
    "  format TEXT NOT NULL CHECK (format IN ('ninjs', 'newsml', 'json')), "
    "  state TEXT NOT NULL CHECK (state IN ('active', 'paused')), paused_reason TEXT, "
    "  paused_at INTEGER, after_seq INTEGER NOT NULL, created_at INTEGER NOT NULL, "
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX webhook_endpoints_subscriber ON webhook_endpoints (subscriber_id);"
    "CREATE TABLE webhook_payloads (seq INTEGER NOT NULL, format TEXT NOT NULL, "
    "  body BLOB NOT NULL, PRIMARY KEY (seq, format)) WITHOUT ROWID;"
    "CREATE TABLE webhook_deliveries (endpoint_id TEXT NOT NULL, seq INTEGER NOT NULL, "
    "  kind TEXT NOT NULL, release_id TEXT NOT NULL, "
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered')), "
    "  attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, first_failed_at INTEGER, "
    "  created_at INTEGER NOT NULL, delivered_at INTEGER, last_status INTEGER, last_error TEXT, "
    "  PRIMARY KEY (endpoint_id, seq)) WITHOUT ROWID;"
    "CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, seq) "
    "  WHERE state = 'pending';"
    "CREATE TABLE webhook_attempts (num INTEGER PRIMARY KEY AUTOINCREMENT, "
    "  endpoint_id TEXT NOT NULL, seq INTEGER NOT NULL, attempt INTEGER NOT NULL, "
    "  at INTEGER NOT NULL, status INTEGER, error TEXT, elapsed_ms INTEGER NOT NULL);"
    "CREATE INDEX webhook_attempts_delivery ON webhook_attempts (endpoint_id, seq);",

    /* 6: distribution reports (deliver/report.c): counts per release,
     * channel, minute (ms UTC / 60000), and the recipients' language and
     * country, added to by each flush of the in-memory aggregate. Webhook
     * deliveries are read from their outbox, by release. */
    "CREATE TABLE report_counts (release_id TEXT NOT NULL, channel TEXT NOT NULL, "
    "  minute INTEGER NOT NULL, language TEXT NOT NULL, country TEXT NOT NULL, "
    "  matched INTEGER NOT NULL, delivered INTEGER NOT NULL, failed INTEGER NOT NULL, "
    "  failed_attempts INTEGER NOT NULL, "
    "  PRIMARY KEY (release_id, channel, minute, language, country)) WITHOUT ROWID;"
    "CREATE INDEX webhook_deliveries_release ON webhook_deliveries (release_id);",

    /* 7: e-mail alerts for journalists (deliver_mail.c, store.h "e-mail
     * alerts"). mail_outbox.id is the stable key a mail's Message-ID is
     * made of, so re-enqueueing after a crash never makes a second
     * Message-ID; ref is a release id, a JSON array of them (digest) or a
     * sign-up id (confirm). The links' HMAC key is made here, once. */
    "CREATE TABLE mail_signups (id TEXT PRIMARY KEY, email TEXT NOT NULL, name TEXT, "
    "  language TEXT NOT NULL, timing TEXT NOT NULL, filters TEXT NOT NULL, ip TEXT, "
    "  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, confirmed_at INTEGER, "
    "  subscriber_id TEXT);"
    "CREATE INDEX mail_signups_email ON mail_signups (email, created_at);"
    "CREATE TABLE mail_recipients (subscriber_id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, "
    "  language TEXT NOT NULL, "
    "  timing TEXT NOT NULL CHECK (timing IN ('immediate', 'hourly', 'daily')), "
    "  state TEXT NOT NULL CHECK (state IN ('active', 'unsubscribed', 'bounced')), "
    "  state_reason TEXT, after_seq INTEGER NOT NULL, created_at INTEGER NOT NULL, "
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE mail_outbox (id TEXT PRIMARY KEY, kind TEXT NOT NULL, subscriber_id TEXT, "
    "  email TEXT NOT NULL, language TEXT NOT NULL, ref TEXT NOT NULL, seq INTEGER, "
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'cancelled')), "
    "  attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, created_at INTEGER NOT NULL, "
    "  sent_at INTEGER, last_error TEXT);"
    "CREATE INDEX mail_outbox_due ON mail_outbox (next_at) WHERE state = 'pending';"
    "CREATE INDEX mail_outbox_subscriber ON mail_outbox (subscriber_id) WHERE state = 'pending';"
    "CREATE TABLE mail_digest_items (subscriber_id TEXT NOT NULL, release_id TEXT NOT NULL, "
    "  seq INTEGER NOT NULL, PRIMARY KEY (subscriber_id, release_id)) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('mail_secret', lower(hex(randomblob(32))));",
    /* 8: people in the browser (web_session.c, web_account.c). A session
     * is kept only as the SHA-256 of its cookie value, with its CSRF token;
     * it ends 12 hours after it was last seen or 7 days after it began
     * (STORE_SESSION_*). Reset and invitation links are single use: their
     * tokens are kept hashed too, used_at / accepted_at say they were used.
     * login_failures keys are "a:" + the e-mail address (lower case) and
     * "ip:" + the client address. Times in ms UTC. */
    "CREATE TABLE sessions (id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
    "  csrf TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX sessions_user ON sessions (user_id);"
    "CREATE TABLE login_failures (key TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX login_failures_key ON login_failures (key, at);"
    "CREATE TABLE password_resets (hash TEXT PRIMARY KEY, user_id TEXT NOT NULL "
    "  REFERENCES users(id), created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, "
    "  used_at INTEGER) WITHOUT ROWID;"
    "CREATE INDEX password_resets_user ON password_resets (user_id);"
    "CREATE TABLE invites (hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id), "
    "  invited_by TEXT, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, "
    "  accepted_at INTEGER);"
    "CREATE INDEX users_email ON users (email COLLATE NOCASE) WHERE email IS NOT NULL;"
    "INSERT OR IGNORE INTO meta (key, value) VALUES ('account_secret', "
    "  lower(hex(randomblob(32))));",

};

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT_];
} conn_t;

/* Sector cache: append-only, so resolved slugs stay valid until close. */
typedef struct {
    char *slug;
    char *name;
} sector_entry_t;

struct store_s {
    char *path;
    conn_t reader;
    conn_t writer;

    pthread_mutex_t sectors_lock;
    sector_entry_t *sectors;
    size_t nsectors, sectors_cap;

    /* writer thread */
    pthread_t thread;
    int running;
    int stopping;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    store_op_t *queue_head, *queue_tail;
    store_op_t *done_head, *done_tail;
    size_t queue_len;
    uv_async_t async;
    store_stats_t stats;
};

/* ---- connections ---- */

static int conn_open(conn_t *c, const char *path, char *err, size_t errsize)
{
    memset(c, 0, sizeof(*c));
    int rc = sqlite3_open_v2(path, &c->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    if (rc != SQLITE_OK) {
        snprintf(err, errsize, "cannot open %s: %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        c->db = NULL;
        return KW_ERROR;
    }
    sqlite3_busy_timeout(c->db, 10000);
    char *msg = NULL;
    rc = sqlite3_exec(c->db,
                      "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                      "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        snprintf(err, errsize, "cannot configure %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(c->db);
        c->db = NULL;
        return KW_ERROR;
    }
    return KW_OK;
}

static void conn_close(conn_t *c)
{
    for (int i = 0; i < ST_COUNT_; i++) sqlite3_finalize(c->stmts[i]);
    if (c->db) sqlite3_close(c->db);
    memset(c, 0, sizeof(*c));
}

/* The prepared statement id, reset and unbound, ready for binding. */
static sqlite3_stmt *stmt(conn_t *c, stmt_id_t id)
{
    if (c->stmts[id] == NULL) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[id],
                               NULL) != SQLITE_OK) {
            fprintf(stderr, "kawat: store: prepare %d: %s\n", (int)id, sqlite3_errmsg(c->db));
            abort(); /* a bug in our SQL, not a runtime condition */
        }
    }
    sqlite3_reset(c->stmts[id]);
    sqlite3_clear_bindings(c->stmts[id]);
    return c->stmts[id];
}

static int exec_sql(conn_t *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "kawat: store: %s: %s\n", sql, msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        return KW_ERROR;
    }
    return KW_OK;
}

static void bind_text(sqlite3_stmt *st, int i, const char *z)
{
    if (z)
        sqlite3_bind_text(st, i, z, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_ms(sqlite3_stmt *st, int i, int64_t ms)
{
    if (ms)
        sqlite3_bind_int64(st, i, ms);
    else
        sqlite3_bind_null(st, i);
}

static void bind_json(sqlite3_stmt *st, int i, json_t *j)
{
    char *z = json_dumps(j, JSON_COMPACT);
    sqlite3_bind_text(st, i, z ? z : "[]", -1, SQLITE_TRANSIENT);
    free(z);
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const char *z = col_text(st, i);
    return z ? kw_strdup(z) : NULL;
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
    const char *z = col_text(st, i);
    json_t *j = z ? json_loads(z, 0, NULL) : NULL;
    return j ? j : json_array();
}

/* Reads REL_COLS starting at column base into a new release. */
static core_release_t *row_release(sqlite3_stmt *st, int base, int64_t *rowid)
{
    core_release_t *r = kw_calloc(1, sizeof(*r));
    int c = base;
    snprintf(r->id, sizeof(r->id), "%s", col_text(st, c++));
    snprintf(r->issuer_id, sizeof(r->issuer_id), "%s", col_text(st, c++));
    r->issuer_name = col_dup(st, c++);
    r->issuer_slug = col_dup(st, c++);
    if (core_state_parse(col_text(st, c++), &r->state) != KW_OK) r->state = REL_DRAFT;
    r->version = sqlite3_column_int(st, c++);
    r->headline = col_dup(st, c++);
    r->subheadline = col_dup(st, c++);
    r->body = col_dup(st, c++);
    snprintf(r->language, sizeof(r->language), "%s", col_text(st, c++));
    r->translation_group = col_dup(st, c++);
    r->dateline_place = col_dup(st, c++);
    r->sectors = col_json(st, c++);
    r->regions = col_json(st, c++);
    r->contacts = col_json(st, c++);
    r->embargo_until = sqlite3_column_int64(st, c++);
    r->publish_at = sqlite3_column_int64(st, c++);
    r->created_at = sqlite3_column_int64(st, c++);
    r->updated_at = sqlite3_column_int64(st, c++);
    r->submitted_at = sqlite3_column_int64(st, c++);
    r->published_at = sqlite3_column_int64(st, c++);
    r->withdrawn_at = sqlite3_column_int64(st, c++);
    r->publish_seq = sqlite3_column_int64(st, c++);
    r->rejection_reason = col_dup(st, c++);
    r->withdrawal_reason = col_dup(st, c++);
    r->correction_note = col_dup(st, c++);
    if (rowid) *rowid = sqlite3_column_int64(st, c);
    return r;
}

static int load_release(conn_t *c, const char *id, core_release_t **out)
{
    sqlite3_stmt *st = stmt(c, ST_RELEASE_GET);
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = row_release(st, 0, NULL);
        sqlite3_reset(st);
        return KW_OK;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR;
}

/* ---- open, migrate, close ---- */

static int migrate(conn_t *c, char *err, size_t errsize)
{
    if (exec_sql(c, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"))
        goto failed;
    if (exec_sql(c, "BEGIN IMMEDIATE")) goto failed;
    int version = 0;
    sqlite3_stmt *st = stmt(c, ST_META_GET);
    bind_text(st, 1, "schema_version");
    if (sqlite3_step(st) == SQLITE_ROW) version = atoi(col_text(st, 0));
    sqlite3_reset(st);
    int target = (int)KW_ARRAY_SIZE(migrations);
    if (version > target) {
        exec_sql(c, "ROLLBACK");
        snprintf(err, errsize, "the data was written by a newer kawat (schema %d > %d)", version,
                 target);
        return KW_ERROR;
    }
    for (int v = version; v < target; v++) {
        if (exec_sql(c, migrations[v])) {
            exec_sql(c, "ROLLBACK");
            goto failed;
        }
    }
    if (version == 0) {
        /* Seed the managed sector list. */
        for (size_t i = 0; i < core_sector_count(); i++) {
            const core_sector_t *sec = core_sector_at(i);
            sqlite3_stmt *ins = stmt(c, ST_SECTOR_INSERT);
            bind_text(ins, 1, sec->slug);
            bind_text(ins, 2, sec->name);
            bind_text(ins, 3, sec->media_topic);
            if (sqlite3_step(ins) != SQLITE_DONE) {
                sqlite3_reset(ins);
                exec_sql(c, "ROLLBACK");
                goto failed;
            }
            sqlite3_reset(ins);
        }
    }
    char vbuf[16];
    snprintf(vbuf, sizeof(vbuf), "%d", target);
    st = stmt(c, ST_META_SET);
    bind_text(st, 1, "schema_version");
    bind_text(st, 2, vbuf);
    sqlite3_step(st);
    sqlite3_reset(st);
    if (exec_sql(c, "COMMIT")) goto failed;
    return KW_OK;
failed:
    if (!err[0]) snprintf(err, errsize, "migration failed: %s", sqlite3_errmsg(c->db));
    return KW_ERROR;
}

static void sectors_load(store_t *s, conn_t *c)
{
    pthread_mutex_lock(&s->sectors_lock);
    sqlite3_stmt *st = stmt(c, ST_SECTORS_ALL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *slug = col_text(st, 0);
        int have = 0;
        for (size_t i = 0; i < s->nsectors; i++)
            if (strcmp(s->sectors[i].slug, slug) == 0) have = 1;
        if (have) continue;
        if (s->nsectors == s->sectors_cap) {
            s->sectors_cap = s->sectors_cap ? s->sectors_cap * 2 : 32;
            s->sectors = kw_realloc(s->sectors, s->sectors_cap * sizeof(*s->sectors));
        }
        s->sectors[s->nsectors].slug = kw_strdup(slug);
        s->sectors[s->nsectors].name = kw_strdup(col_text(st, 1));
        s->nsectors++;
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&s->sectors_lock);
}

int store_open(const char *data_dir, store_t **out, char *err, size_t errsize)
{
    err[0] = '\0';
    if (mkdir(data_dir, 0750) != 0) {
        struct stat sb;
        if (stat(data_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
            snprintf(err, errsize, "cannot create data folder %s", data_dir);
            return KW_ERROR;
        }
    }
    store_t *s = kw_calloc(1, sizeof(*s));
    size_t n = strlen(data_dir) + 16;
    s->path = kw_malloc(n);
    snprintf(s->path, n, "%s/kawat.db", data_dir);
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->sectors_lock, NULL);
    pthread_cond_init(&s->cond, NULL);

    if (conn_open(&s->writer, s->path, err, errsize) != KW_OK) goto failed;
    if (migrate(&s->writer, err, errsize) != KW_OK) goto failed;
    if (conn_open(&s->reader, s->path, err, errsize) != KW_OK) goto failed;
    sectors_load(s, &s->reader);
    *out = s;
    return KW_OK;
failed:
    store_close(s);
    return KW_ERROR;
}

void store_close(store_t *s)
{
    if (s == NULL) return;
    store_writer_stop(s);
    if (s->writer.db) sqlite3_wal_checkpoint_v2(s->writer.db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
                                                NULL, NULL);
    conn_close(&s->reader);
    conn_close(&s->writer);
    for (size_t i = 0; i < s->nsectors; i++) {
        free(s->sectors[i].slug);
        free(s->sectors[i].name);
    }
    free(s->sectors);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->sectors_lock);
    pthread_cond_destroy(&s->cond);
    free(s->path);
    free(s);
}

/* ---- ops ---- */

store_op_t *store_op_new(store_op_kind_t kind, store_done_fn done, void *arg)
{
    store_op_t *op = kw_calloc(1, sizeof(*op));
    op->kind = kind;
    op->done = done;
    op->arg = arg;
    return op;
}

void store_op_free(store_op_t *op)
{
    if (op == NULL) return;
    json_decref(op->input);
    json_decref(op->output);
    core_release_free(op->release);
    store_subscriber_free(op->subscriber);
    free(op);
}

static void op_fail(store_op_t *op, int rc, const char *msg)
{
    op->rc = rc;
    snprintf(op->message, sizeof(op->message), "%s", msg);
}

static int write_release(conn_t *c, const core_release_t *r, int insert)
{
    sqlite3_stmt *st = stmt(c, insert ? ST_RELEASE_INSERT : ST_RELEASE_UPDATE);
    int64_t due = (r->state == REL_SCHEDULED || r->state == REL_EMBARGOED) ? core_release_due(r)
                                                                             : 0;
    bind_text(st, 1, r->id);
    bind_text(st, 2, r->issuer_id);
    bind_text(st, 3, core_state_name(r->state));
    sqlite3_bind_int(st, 4, r->version);
    bind_text(st, 5, r->headline);
    bind_text(st, 6, r->subheadline);
    bind_text(st, 7, r->body);
    bind_text(st, 8, r->language);
    bind_text(st, 9, r->translation_group);
    bind_text(st, 10, r->dateline_place);
    bind_json(st, 11, r->sectors);
    bind_json(st, 12, r->regions);
    bind_json(st, 13, r->contacts);
    bind_ms(st, 14, r->embargo_until);
    bind_ms(st, 15, r->publish_at);
    bind_ms(st, 16, due);
    bind_ms(st, 17, r->created_at);
    bind_ms(st, 18, r->updated_at);
    bind_ms(st, 19, r->submitted_at);
    bind_ms(st, 20, r->published_at);
    bind_ms(st, 21, r->withdrawn_at);
    bind_ms(st, 22, r->publish_seq);
    bind_text(st, 23, r->rejection_reason);
    bind_text(st, 24, r->withdrawal_reason);
    bind_text(st, 25, r->correction_note);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return KW_ERROR;

    /* The attribute tables the lists filter on. */
    st = stmt(c, ST_SECTORS_DELETE);
    bind_text(st, 1, r->id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return KW_ERROR;
    st = stmt(c, ST_REGIONS_DELETE);
    bind_text(st, 1, r->id);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return KW_ERROR;
    size_t i;
    json_t *v;
    json_array_foreach(r->sectors, i, v)
    {
        st = stmt(c, ST_SECTOR_LINK);
        bind_text(st, 1, json_string_value(v));
        bind_text(st, 2, r->id);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return KW_ERROR;
    }
    json_array_foreach(r->regions, i, v)
    {
        st = stmt(c, ST_REGION_LINK);
        bind_text(st, 1, json_string_value(v));
        bind_text(st, 2, r->id);
        rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return KW_ERROR;
    }
    return KW_OK;
}

/* Appends an event to the wire log; returns its sequence, or 0 on error.
 * AUTOINCREMENT guarantees a sequence is never reused, even after the
 * newest rows are gone. */
static int64_t wire_append(conn_t *c, const char *release_id, const char *kind, int version,
                           int64_t at)
{
    sqlite3_stmt *st = stmt(c, ST_WIRE_APPEND);
    bind_text(st, 1, release_id);
    bind_text(st, 2, kind);
    sqlite3_bind_int(st, 3, version);
    sqlite3_bind_int64(st, 4, at);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return 0;
    return sqlite3_last_insert_rowid(c->db);
}

static int publish(conn_t *c, core_release_t *r, store_op_t *op)
{
    r->state = REL_PUBLISHED;
    r->published_at = op->now_ms;
    r->updated_at = op->now_ms;
    int64_t seq = wire_append(c, r->id, "publish", r->version, op->now_ms);
    if (seq == 0) return KW_ERROR;
    r->publish_seq = seq;
    op->last_seq = seq;
    op->published++;
    return write_release(c, r, 0);
}

static void release_new_id(char *out)
{
    out[0] = 'r';
    auth_random_id(out + 1, ID_CHARS - 1);
}

static int op_release_create(store_t *s, conn_t *c, store_op_t *op)
{
    core_release_t *r = NULL;
    if (op->who.role != ROLE_ISSUER || !op->who.issuer_id[0]) {
        op_fail(op, KW_FORBIDDEN, "only issuers create releases");
        return op->rc;
    }
    if (op->idem_key[0]) {
        sqlite3_stmt *st = stmt(c, ST_IDEM_GET);
        bind_text(st, 1, op->who.user_id);
        bind_text(st, 2, op->idem_key);
        if (sqlite3_step(st) == SQLITE_ROW) {
            int same = strcmp(col_text(st, 0), op->idem_hash) == 0;
            char id[32];
            snprintf(id, sizeof(id), "%s", col_text(st, 1));
            sqlite3_reset(st);
            if (!same) {
                op_fail(op, KW_CONFLICT,
                        "this Idempotency-Key was already used with a different request");
                return op->rc;
            }
            op->idem_replay = 1;
            op->rc = load_release(c, id, &op->release);
            return op->rc;
        }
        sqlite3_reset(st);
    }

    r = kw_malloc(sizeof(*r));
    core_release_init(r);
    if (core_release_apply(r, op->input, 1, op->now_ms, store_sector_resolve, s, &op->errs) !=
        KW_OK) {
        core_release_free(r);
        op->rc = KW_INVALID;
        return op->rc;
    }
    release_new_id(r->id);
    snprintf(r->issuer_id, sizeof(r->issuer_id), "%s", op->who.issuer_id);
    r->state = REL_DRAFT;
    r->created_at = r->updated_at = op->now_ms;
    if (write_release(c, r, 1) != KW_OK) goto failed;
    if (op->idem_key[0]) {
        sqlite3_stmt *st = stmt(c, ST_IDEM_PUT);
        bind_text(st, 1, op->who.user_id);
        bind_text(st, 2, op->idem_key);
        bind_text(st, 3, op->idem_hash);
        bind_text(st, 4, r->id);
        sqlite3_bind_int64(st, 5, op->now_ms);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) goto failed;
    }
    /* Read back so the issuer's name and slug come with it. */
    snprintf(op->release_id, sizeof(op->release_id), "%s", r->id);
    core_release_free(r);
    op->rc = load_release(c, op->release_id, &op->release);
    return op->rc;
failed:
    core_release_free(r);
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

/* Keeps the version being replaced, so a correction never loses what was
 * published before. Its time is when it became current: its publication,
 * or the correction that made it (a corrected release changes only by a
 * correction, so that is its updated_at). */
static int save_version(conn_t *c, const core_release_t *r)
{
    json_t *snap = json_pack("{s:s?, s:s?, s:s?, s:s?, s:O, s:O, s:O}", "headline", r->headline,
                             "subheadline", r->subheadline, "body", r->body, "dateline_place",
                             r->dateline_place, "sectors", r->sectors, "regions", r->regions,
                             "contacts", r->contacts);
    sqlite3_stmt *st = stmt(c, ST_VERSION_INSERT);
    bind_text(st, 1, r->id);
    sqlite3_bind_int(st, 2, r->version);
    sqlite3_bind_int64(st, 3, r->version == 1 ? r->published_at : r->updated_at);
    bind_text(st, 4, r->correction_note);
    bind_json(st, 5, snap);
    json_decref(snap);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KW_OK : KW_ERROR;
}

static const char *input_reason(json_t *in, store_op_t *op, int required, const char *field)
{
    json_t *v = in ? json_object_get(in, field) : NULL;
    if (v == NULL || json_is_null(v)) {
        if (required) core_errors_add(&op->errs, field, "is required");
        return NULL;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 2000 ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        core_errors_add(&op->errs, field, "must be a non-empty string of at most 2000 bytes");
        return NULL;
    }
    return json_string_value(v);
}

/* Only the named keys may appear in an action's body. */
static int only_keys(json_t *in, store_op_t *op, const char *const *keys, size_t n)
{
    if (in == NULL) return KW_OK;
    if (!json_is_object(in)) {
        core_errors_add(&op->errs, "", "the request body must be a JSON object");
        return KW_INVALID;
    }
    const char *k;
    json_t *v;
    int rc = KW_OK;
    json_object_foreach(in, k, v)
    {
        int ok = 0;
        for (size_t i = 0; i < n; i++)
            if (strcmp(k, keys[i]) == 0) ok = 1;
        if (!ok) {
            char field[64];
            snprintf(field, sizeof(field), "%.60s", k);
            core_errors_add(&op->errs, field, "unknown field for this action");
            rc = KW_INVALID;
        }
    }
    return rc;
}

static int op_release_act(store_t *s, conn_t *c, store_op_t *op)
{
    core_release_t *r = NULL;
    core_state_t next;
    int rc = load_release(c, op->release_id, &r);
    if (rc != KW_OK) {
        op_fail(op, rc, rc == KW_NOTFOUND ? "no such release" : sqlite3_errmsg(c->db));
        return op->rc;
    }
    if (!core_release_visible(r, &op->who)) {
        op_fail(op, KW_NOTFOUND, "no such release");
        goto done;
    }

    /* Fields first (so approve/schedule see the new times), then the
     * transition check against the state before the change. */
    core_release_t *orig = core_release_dup(r);
    switch (op->action) {
    case ACT_EDIT:
        rc = core_release_transition(orig, ACT_EDIT, &op->who, op->now_ms, &next);
        if (rc == KW_OK &&
            core_release_apply(r, op->input, 0, op->now_ms, store_sector_resolve, s, &op->errs))
            rc = KW_INVALID;
        break;
    case ACT_SCHEDULE: {
        static const char *const keys[] = {"publish_at", "embargo_until"};
        rc = only_keys(op->input, op, keys, 2);
        if (rc == KW_OK && (op->input == NULL || json_object_size(op->input) == 0)) {
            core_errors_add(&op->errs, "publish_at", "give publish_at or embargo_until");
            rc = KW_INVALID;
        }
        if (rc == KW_OK &&
            core_release_apply(r, op->input, 0, op->now_ms, store_sector_resolve, s, &op->errs))
            rc = KW_INVALID;
        if (rc == KW_OK) rc = core_release_transition(r, ACT_SCHEDULE, &op->who, op->now_ms, &next);
        break;
    }
    case ACT_APPROVE: {
        static const char *const keys[] = {"note"};
        rc = only_keys(op->input, op, keys, 1);
        if (rc == KW_OK) rc = core_release_transition(r, ACT_APPROVE, &op->who, op->now_ms, &next);
        break;
    }
    case ACT_REJECT: {
        static const char *const keys[] = {"reason"};
        rc = only_keys(op->input, op, keys, 1);
        const char *reason = rc == KW_OK ? input_reason(op->input, op, 1, "reason") : NULL;
        if (reason == NULL) rc = KW_INVALID;
        if (rc == KW_OK) rc = core_release_transition(r, ACT_REJECT, &op->who, op->now_ms, &next);
        if (rc == KW_OK) {
            free(r->rejection_reason);
            r->rejection_reason = kw_strdup(reason);
        }
        break;
    }
    case ACT_WITHDRAW: {
        static const char *const keys[] = {"reason"};
        rc = only_keys(op->input, op, keys, 1);
        const char *reason = rc == KW_OK ? input_reason(op->input, op, 0, "reason") : NULL;
        if (op->errs.count) rc = KW_INVALID;
        if (rc == KW_OK) rc = core_release_transition(r, ACT_WITHDRAW, &op->who, op->now_ms, &next);
        if (rc == KW_OK && next == REL_WITHDRAWN) {
            free(r->withdrawal_reason);
            r->withdrawal_reason = reason ? kw_strdup(reason) : NULL;
        }
        break;
    }
    case ACT_SUBMIT:
        rc = core_release_transition(r, ACT_SUBMIT, &op->who, op->now_ms, &next);
        break;
    case ACT_CORRECT:
        rc = core_release_transition(r, ACT_CORRECT, &op->who, op->now_ms, &next);
        if (rc == KW_OK && save_version(c, orig) != KW_OK) rc = KW_ERROR;
        if (rc == KW_OK && core_release_apply_correction(r, op->input, store_sector_resolve, s,
                                                         &op->errs) != KW_OK)
            rc = KW_INVALID;
        break;
    default:
        rc = KW_INVALID;
    }
    core_release_free(orig);
    if (rc != KW_OK) {
        if (rc == KW_CONFLICT)
            snprintf(op->message, sizeof(op->message), "a %s release cannot be %s",
                     core_state_name(r->state),
                     op->action == ACT_SUBMIT     ? "submitted"
                     : op->action == ACT_EDIT     ? "edited"
                     : op->action == ACT_APPROVE  ? "approved"
                     : op->action == ACT_REJECT   ? "rejected"
                     : op->action == ACT_SCHEDULE ? "scheduled"
                     : op->action == ACT_CORRECT  ? "corrected"
                                                  : "withdrawn");
        else if (rc == KW_FORBIDDEN)
            snprintf(op->message, sizeof(op->message), "your role may not %s this release",
                     core_action_name(op->action));
        else if (rc == KW_ERROR && !op->message[0])
            snprintf(op->message, sizeof(op->message), "%s", sqlite3_errmsg(c->db));
        op->rc = rc;
        goto done;
    }

    r->updated_at = op->now_ms;
    switch (op->action) {
    case ACT_SUBMIT:
        r->state = next;
        r->submitted_at = op->now_ms;
        free(r->rejection_reason);
        r->rejection_reason = NULL;
        break;
    case ACT_CORRECT: {
        r->state = REL_CORRECTED;
        r->version++;
        int64_t seq = wire_append(c, r->id, "correction", r->version, op->now_ms);
        if (seq == 0) goto failed;
        op->last_seq = seq;
        break;
    }
    case ACT_WITHDRAW:
        if (next == REL_WITHDRAWN) {
            r->state = REL_WITHDRAWN;
            r->withdrawn_at = op->now_ms;
            int64_t seq = wire_append(c, r->id, "withdrawal", r->version, op->now_ms);
            if (seq == 0) goto failed;
            op->last_seq = seq;
        } else {
            r->state = REL_DRAFT; /* pulled back before publication: no event */
        }
        break;
    default:
        if (next == REL_PUBLISHED) {
            if (publish(c, r, op) != KW_OK) goto failed;
            goto reload;
        }
        r->state = next;
    }
    if (write_release(c, r, 0) != KW_OK) goto failed;
reload:
    core_release_free(r);
    r = NULL;
    op->rc = load_release(c, op->release_id, &op->release);
    return op->rc;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
done:
    core_release_free(r);
    return op->rc;
}

static int op_publish_due(conn_t *c, store_op_t *op)
{
    /* Collect first: publishing changes the rows the query walks. */
    sqlite3_stmt *st = stmt(c, ST_DUE_LIST);
    sqlite3_bind_int64(st, 1, op->now_ms);
    json_t *ids = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) json_array_append_new(ids, json_string(col_text(st, 0)));
    sqlite3_reset(st);

    core_principal_t system = {.role = ROLE_ADMIN};
    snprintf(system.name, sizeof(system.name), "scheduler");
    size_t i;
    json_t *v;
    op->rc = KW_OK;
    json_array_foreach(ids, i, v)
    {
        core_release_t *r = NULL;
        core_state_t next;
        if (load_release(c, json_string_value(v), &r) != KW_OK) continue;
        if (core_release_transition(r, ACT_PUBLISH, &system, op->now_ms, &next) == KW_OK &&
            publish(c, r, op) != KW_OK) {
            core_release_free(r);
            op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
            break;
        }
        core_release_free(r);
    }
    op->output = ids;
    return op->rc;
}

static int op_sector_add(store_t *s, conn_t *c, store_op_t *op)
{
    json_t *in = op->input;
    const char *name = json_is_object(in) ? json_string_value(json_object_get(in, "name")) : NULL;
    if (name == NULL || !*name || strlen(name) > 80) {
        core_errors_add(&op->errs, "name", "is required (1-80 bytes)");
        op->rc = KW_INVALID;
        return op->rc;
    }
    char *slug = core_sector_slugify((kw_str_t){name, strlen(name)});
    if (slug == NULL) {
        core_errors_add(&op->errs, "name", "must contain letters or digits");
        op->rc = KW_INVALID;
        return op->rc;
    }
    if (store_sector_resolve(s, name) || store_sector_resolve(s, slug)) {
        free(slug);
        op_fail(op, KW_CONFLICT, "a sector with this name already exists");
        return op->rc;
    }
    sqlite3_stmt *st = stmt(c, ST_SECTOR_INSERT);
    bind_text(st, 1, slug);
    bind_text(st, 2, name);
    bind_text(st, 3, json_string_value(json_object_get(in, "media_topic")));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    op->output = json_pack("{s:s, s:s}", "slug", slug, "name", name);
    free(slug);
    if (rc != SQLITE_DONE) {
        op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
        return op->rc;
    }
    op->rc = KW_OK;
    return op->rc;
}

static json_t *issuer_row(conn_t *c, const char *key)
{
    sqlite3_stmt *st = stmt(c, ST_ISSUER_GET);
    bind_text(st, 1, key);
    json_t *o = NULL;
    if (sqlite3_step(st) == SQLITE_ROW)
        o = json_pack("{s:s, s:s, s:s}", "id", col_text(st, 0), "slug", col_text(st, 1), "name",
                      col_text(st, 2));
    sqlite3_reset(st);
    return o;
}

static int op_issuer_ensure(conn_t *c, store_op_t *op)
{
    const char *name = json_string_value(json_object_get(op->input, "name"));
    if (name == NULL || !*name) {
        core_errors_add(&op->errs, "name", "is required");
        return op->rc = KW_INVALID;
    }
    json_t *o = issuer_row(c, name);
    if (o == NULL) {
        char id[24], *slug = core_sector_slugify((kw_str_t){name, strlen(name)});
        id[0] = 'i';
        auth_random_id(id + 1, ID_CHARS - 1);
        if (slug == NULL) slug = kw_strdup(id);
        /* Slugs are unique: a clash gets the id appended. */
        json_t *clash = issuer_row(c, slug);
        if (clash) {
            json_decref(clash);
            size_t n = strlen(slug) + strlen(id) + 2;
            char *s2 = kw_malloc(n);
            snprintf(s2, n, "%s-%s", slug, id + 1);
            free(slug);
            slug = s2;
        }
        sqlite3_stmt *st = stmt(c, ST_ISSUER_INSERT);
        bind_text(st, 1, id);
        bind_text(st, 2, slug);
        bind_text(st, 3, name);
        sqlite3_bind_int64(st, 4, op->now_ms);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        free(slug);
        if (rc != SQLITE_DONE) {
            op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
            return op->rc;
        }
        o = issuer_row(c, id);
    }
    op->output = o;
    return op->rc = KW_OK;
}

static int op_user_add(conn_t *c, store_op_t *op)
{
    json_t *in = op->input;
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *role = json_string_value(json_object_get(in, "role"));
    const char *issuer = json_string_value(json_object_get(in, "issuer_id"));
    core_role_t r;
    if (name == NULL || !*name) core_errors_add(&op->errs, "name", "is required");
    if (role == NULL || core_role_parse(role, &r) != KW_OK)
        core_errors_add(&op->errs, "role", "must be admin, editor, issuer or subscriber");
    else if (r == ROLE_ISSUER && issuer == NULL)
        core_errors_add(&op->errs, "issuer", "is required for the issuer role");
    if (op->errs.count) return op->rc = KW_INVALID;
    char id[24];
    id[0] = 'u';
    auth_random_id(id + 1, ID_CHARS - 1);
    sqlite3_stmt *st = stmt(c, ST_USER_INSERT);
    bind_text(st, 1, id);
    bind_text(st, 2, name);
    bind_text(st, 3, json_string_value(json_object_get(in, "email")));
    bind_text(st, 4, role);
    bind_text(st, 5, r == ROLE_ISSUER ? issuer : NULL);
    bind_text(st, 6, json_string_value(json_object_get(in, "password_hash")));
    sqlite3_bind_int64(st, 7, op->now_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
        return op->rc;
    }
    op->output = json_pack("{s:s}", "id", id);
    return op->rc = KW_OK;
}

/* Runs a bound statement that returns no rows; resets it. */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KW_OK : KW_ERROR;
}

/* A token row: only the token's hash is ever stored. */
static int insert_token(conn_t *c, const char *hash, const char *user_id, const char *name,
                        int64_t now_ms)
{
    sqlite3_stmt *st = stmt(c, ST_TOKEN_INSERT);
    bind_text(st, 1, hash);
    bind_text(st, 2, user_id);
    bind_text(st, 3, name);
    sqlite3_bind_int64(st, 4, now_ms);
    return step_done(st);
}

static int op_token_create(conn_t *c, store_op_t *op)
{
    if (insert_token(c, json_string_value(json_object_get(op->input, "token_hash")),
                     json_string_value(json_object_get(op->input, "user_id")),
                     json_string_value(json_object_get(op->input, "name")),
                     op->now_ms) != KW_OK) {
        op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
        return op->rc;
    }
    return op->rc = KW_OK;
}

/* ---- subscribers ----
 *
 * The API validates a subscriber's fields (filters through the matcher's
 * parser, which knows languages, sectors, regions and keywords) and sends
 * them in canonical form; the writer checks their shape again, decides who
 * may do what, and keeps the subscriber, its user and its tokens in step in
 * one transaction. Someone who may not manage a subscriber is told it does
 * not exist, exactly as for an id that never did. */

/* Reads SUB_COLS into a new subscriber. */
static store_subscriber_t *row_subscriber(sqlite3_stmt *st)
{
    store_subscriber_t *sub = kw_calloc(1, sizeof(*sub));
    sub->num = (uint32_t)sqlite3_column_int64(st, 0);
    snprintf(sub->id, sizeof(sub->id), "%s", col_text(st, 1));
    snprintf(sub->kind, sizeof(sub->kind), "%s", col_text(st, 2));
    sub->name = col_dup(st, 3);
    sub->email = col_dup(st, 4);
    sub->trusted = sqlite3_column_int(st, 5) != 0;
    sub->filters = col_json(st, 6);
    snprintf(sub->user_id, sizeof(sub->user_id), "%s", col_text(st, 7));
    sub->created_at = sqlite3_column_int64(st, 8);
    sub->updated_at = sqlite3_column_int64(st, 9);
    return sub;
}

static int load_subscriber(conn_t *c, const char *id, store_subscriber_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = stmt(c, ST_SUBSCRIBER_GET);
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = row_subscriber(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? KW_OK : rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR;
}

void store_subscriber_free(store_subscriber_t *sub)
{
    if (sub == NULL) return;
    free(sub->name);
    free(sub->email);
    json_decref(sub->filters);
    free(sub);
}

json_t *store_subscriber_json(const store_subscriber_t *sub)
{
    char created[40], updated[40];
    core_time_format_rfc3339(sub->created_at, created, sizeof(created));
    core_time_format_rfc3339(sub->updated_at, updated, sizeof(updated));
    json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "num", (json_int_t)sub->num, "id", sub->id,
                          "kind", sub->kind, "name", sub->name ? sub->name : "");
    json_object_set_new(o, "email", sub->email ? json_string(sub->email) : json_null());
    json_object_set_new(o, "trusted", json_boolean(sub->trusted));
    json_object_set_new(o, "filters", sub->filters ? json_deep_copy(sub->filters) : json_array());
    json_object_set_new(o, "created_at", json_string(created));
    json_object_set_new(o, "updated_at", json_string(updated));
    return o;
}

static int may_set_trusted(const core_principal_t *who)
{
    return who->role == ROLE_EDITOR || who->role == ROLE_ADMIN;
}

/* Editors and admins manage every subscriber; a subscriber's own user
 * manages it. */
static int may_manage_subscriber(const core_principal_t *who, const store_subscriber_t *sub)
{
    if (who->role == ROLE_EDITOR || who->role == ROLE_ADMIN) return 1;
    if (who->role != ROLE_SUBSCRIBER) return 0;
    return (who->subscriber_id[0] && strcmp(who->subscriber_id, sub->id) == 0) ||
           (who->user_id[0] && strcmp(who->user_id, sub->user_id) == 0);
}

static int string_field(json_t *v, const char *key, size_t max, int nullable, core_errors_t *errs)
{
    if (nullable && json_is_null(v)) return KW_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        core_errors_add(errs, key, "must be a string of 1 to %zu bytes%s", max,
                        nullable ? " or null" : "");
        return KW_INVALID;
    }
    return KW_OK;
}

/* Applies the fields of in to sub (creating: kind, name and filters are
 * required). Shape only: the API has checked the values. */
static int subscriber_apply(store_subscriber_t *sub, json_t *in, int creating, core_errors_t *errs)
{
    if (!json_is_object(in)) {
        core_errors_add(errs, "body", "must be a JSON object");
        return KW_INVALID;
    }
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
    {
        if (strcmp(key, "kind") == 0) {
            const char *k = json_string_value(v);
            if (k == NULL || (strcmp(k, "desktop") && strcmp(k, "journalist") && strcmp(k, "outlet")))
                core_errors_add(errs, "kind", "must be desktop, journalist or outlet");
            else
                snprintf(sub->kind, sizeof(sub->kind), "%s", k);
        } else if (strcmp(key, "name") == 0) {
            if (string_field(v, "name", STORE_SUBSCRIBER_NAME_MAX, 0, errs) == KW_OK) {
                free(sub->name);
                sub->name = kw_strdup(json_string_value(v));
            }
        } else if (strcmp(key, "email") == 0) {
            if (string_field(v, "email", STORE_SUBSCRIBER_EMAIL_MAX, 1, errs) == KW_OK) {
                free(sub->email);
                sub->email = json_is_null(v) ? NULL : kw_strdup(json_string_value(v));
            }
        } else if (strcmp(key, "trusted") == 0) {
            if (!json_is_boolean(v))
                core_errors_add(errs, "trusted", "must be true or false");
            else
                sub->trusted = json_is_true(v);
        } else if (strcmp(key, "filters") == 0) {
            size_t n = json_array_size(v);
            int ok = json_is_array(v) && n >= 1 && n <= STORE_SUBSCRIBER_FILTERS_MAX;
            for (size_t i = 0; ok && i < n; i++) ok = json_is_object(json_array_get(v, i));
            if (!ok) {
                core_errors_add(errs, "filters", "must be an array of 1 to %d filter objects",
                                STORE_SUBSCRIBER_FILTERS_MAX);
            } else {
                json_decref(sub->filters);
                sub->filters = json_deep_copy(v);
            }
        } else if (strcmp(key, "timing") == 0 && !creating) {
            const char *t = json_string_value(v);
            if (t == NULL || (strcmp(t, "immediate") && strcmp(t, "hourly") && strcmp(t, "daily")))
                core_errors_add(errs, "timing", "must be immediate, hourly or daily");
        } else if (!(creating && (strcmp(key, "token_hash") == 0 ||
                                  strcmp(key, "password_hash") == 0))) {
            char field[64];
            snprintf(field, sizeof(field), "%.60s", key);
            core_errors_add(errs, field, "unknown field");
        }
    }
    if (creating) {
        if (!sub->kind[0] && !json_object_get(in, "kind")) core_errors_add(errs, "kind", "is required");
        if (!sub->name && !json_object_get(in, "name")) core_errors_add(errs, "name", "is required");
        if (!sub->filters && !json_object_get(in, "filters"))
            core_errors_add(errs, "filters", "is required");
    }
    return errs->count ? KW_INVALID : KW_OK;
}

static int write_subscriber(conn_t *c, const store_subscriber_t *sub, int insert)
{
    sqlite3_stmt *st = stmt(c, insert ? ST_SUBSCRIBER_INSERT : ST_SUBSCRIBER_UPDATE);
    bind_text(st, 1, sub->id);
    bind_text(st, 2, sub->kind);
    bind_text(st, 3, sub->name);
    bind_text(st, 4, sub->email);
    sqlite3_bind_int(st, 5, sub->trusted ? 1 : 0);
    bind_json(st, 6, sub->filters);
    if (insert) {
        bind_text(st, 7, sub->user_id);
        sqlite3_bind_int64(st, 8, sub->created_at);
        sqlite3_bind_int64(st, 9, sub->updated_at);
    } else {
        sqlite3_bind_int64(st, 7, sub->updated_at);
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KW_OK : KW_ERROR;
}


/* Reads the subscriber back as committed and sets the op's results. */
static int subscriber_result(conn_t *c, store_op_t *op, const char *id)
{
    int rc = load_subscriber(c, id, &op->subscriber);
    if (rc != KW_OK) {
        op_fail(op, KW_ERROR, "the subscriber could not be read back");
        return op->rc;
    }
    op->output = store_subscriber_json(op->subscriber);
    return op->rc = KW_OK;
}

static int op_subscriber_create(conn_t *c, store_op_t *op)
{
    store_subscriber_t *sub = kw_calloc(1, sizeof(*sub));
    const char *hash = json_string_value(json_object_get(op->input, "token_hash"));
    if (subscriber_apply(sub, op->input, 1, &op->errs) != KW_OK) {
        op->rc = KW_INVALID;
        goto done;
    }
    if (hash == NULL || strlen(hash) != AUTH_HEX_SIZE - 1) {
        op_fail(op, KW_ERROR, "a new subscriber needs the hash of its token");
        goto done;
    }
    if (sub->trusted && !may_set_trusted(&op->who)) {
        core_errors_add(&op->errs, "trusted", "only editors and admins may set it");
        op_fail(op, KW_FORBIDDEN, "only editors and admins may set trusted");
        goto done;
    }
    /* A person signing up in the browser (web_subscriber.c) logs in with
     * the subscriber's e-mail and a password: the address must name no
     * other user, so log-in finds exactly this one. */
    const char *password_hash = json_string_value(json_object_get(op->input, "password_hash"));
    if (password_hash) {
        if (sub->email == NULL) {
            core_errors_add(&op->errs, "email", "is required with a password");
            op->rc = KW_INVALID;
            goto done;
        }
        sqlite3_stmt *q = stmt(c, ST_EMAIL_ANY_USER);
        bind_text(q, 1, sub->email);
        int taken = sqlite3_step(q);
        sqlite3_reset(q);
        if (taken == SQLITE_ROW) {
            op_fail(op, KW_CONFLICT, "a user has this e-mail address");
            goto done;
        }
        if (taken != SQLITE_DONE) goto failed;
    }
    sub->user_id[0] = 'u';
    auth_random_id(sub->user_id + 1, ID_CHARS - 1);
    sub->id[0] = 's';
    auth_random_id(sub->id + 1, ID_CHARS - 1);
    sub->created_at = sub->updated_at = op->now_ms;

    sqlite3_stmt *st = stmt(c, ST_USER_INSERT);
    bind_text(st, 1, sub->user_id);
    bind_text(st, 2, sub->name);
    /* the e-mail lives with the subscriber, unless the person logs in with it */
    bind_text(st, 3, password_hash ? sub->email : NULL);
    bind_text(st, 4, "subscriber");
    bind_text(st, 5, NULL);
    bind_text(st, 6, password_hash);
    sqlite3_bind_int64(st, 7, op->now_ms);
    if (step_done(st) != KW_OK) goto failed;
    if (write_subscriber(c, sub, 1) != KW_OK) goto failed;
    if (insert_token(c, hash, sub->user_id, "subscriber", op->now_ms) != KW_OK) goto failed;
    subscriber_result(c, op, sub->id);
    goto done;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
done:
    store_subscriber_free(sub);
    return op->rc;
}

/* Loads op->subscriber_id for an update or delete by op->who; KW_NOTFOUND
 * both when it does not exist and when who may not manage it. */
static int subscriber_for(conn_t *c, store_op_t *op, store_subscriber_t **out)
{
    int rc = load_subscriber(c, op->subscriber_id, out);
    if (rc == KW_OK && !may_manage_subscriber(&op->who, *out)) {
        store_subscriber_free(*out);
        *out = NULL;
        rc = KW_NOTFOUND;
    }
    if (rc != KW_OK)
        op_fail(op, rc, rc == KW_NOTFOUND ? "no such subscriber" : sqlite3_errmsg(c->db));
    return rc;
}

static int op_subscriber_update(conn_t *c, store_op_t *op)
{
    store_subscriber_t *sub = NULL;
    if (subscriber_for(c, op, &sub) != KW_OK) return op->rc;
    if (json_object_get(op->input, "trusted") && !may_set_trusted(&op->who)) {
        core_errors_add(&op->errs, "trusted", "only editors and admins may set it");
        op_fail(op, KW_FORBIDDEN, "only editors and admins may set trusted");
        goto done;
    }
    char *old_name = kw_strdup(sub->name);
    if (subscriber_apply(sub, op->input, 0, &op->errs) != KW_OK) {
        free(old_name);
        op->rc = KW_INVALID;
        goto done;
    }
    sub->updated_at = op->now_ms;
    int renamed = strcmp(old_name, sub->name) != 0;
    free(old_name);
    if (write_subscriber(c, sub, 0) != KW_OK) goto failed;
    const char *timing = json_string_value(json_object_get(op->input, "timing"));
    if (timing) {
        /* E-mail timing lives with the recipient row (a confirmed address);
         * without one there is nothing to change. */
        sqlite3_stmt *tm = stmt(c, ST_MAIL_RECIPIENT_TIMING);
        bind_text(tm, 1, sub->id);
        bind_text(tm, 2, timing);
        sqlite3_bind_int64(tm, 3, op->now_ms);
        if (step_done(tm) != KW_OK) goto failed;
    }
    if (renamed) {
        /* The user is the subscriber's identity in /v1/me. */
        sqlite3_stmt *st = stmt(c, ST_USER_RENAME);
        bind_text(st, 1, sub->user_id);
        bind_text(st, 2, sub->name);
        if (step_done(st) != KW_OK) goto failed;
    }
    subscriber_result(c, op, sub->id);
    goto done;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
done:
    store_subscriber_free(sub);
    return op->rc;
}

static int op_subscriber_delete(conn_t *c, store_op_t *op)
{
    store_subscriber_t *sub = NULL;
    if (subscriber_for(c, op, &sub) != KW_OK) return op->rc;
    sqlite3_stmt *st = stmt(c, ST_SUBSCRIBER_DELETE);
    bind_text(st, 1, sub->id);
    if (step_done(st) != KW_OK) goto failed;
    st = stmt(c, ST_TOKENS_REVOKE);
    bind_text(st, 1, sub->user_id);
    sqlite3_bind_int64(st, 2, op->now_ms);
    if (step_done(st) != KW_OK) goto failed;
    /* The user row stays (tokens refer to it) without the person's name. */
    st = stmt(c, ST_USER_RENAME);
    bind_text(st, 1, sub->user_id);
    bind_text(st, 2, "deleted subscriber");
    if (step_done(st) != KW_OK) goto failed;
    op->subscriber = sub; /* as it was: the matcher removes its number */
    op->output = store_subscriber_json(sub);
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    store_subscriber_free(sub);
    return op->rc;
}

/* ---- WebSub subscriptions ----
 *
 * The hub sends these only after the callback answered the challenge; the
 * writer checks the shape again so a bug upstream cannot store a row the
 * hub would choke on at the next start. */

static int websub_key(store_op_t *op, const char **callback, const char **topic)
{
    *callback = json_string_value(json_object_get(op->input, "callback"));
    *topic = json_string_value(json_object_get(op->input, "topic"));
    const char *bad = NULL;
    if (*callback == NULL || (*callback)[0] == '\0' || strlen(*callback) > STORE_WEBSUB_URL_MAX)
        bad = "callback";
    else if (*topic == NULL || (*topic)[0] == '\0' || strlen(*topic) > STORE_WEBSUB_URL_MAX)
        bad = "topic";
    if (bad) {
        core_errors_add(&op->errs, bad, "missing or too long");
        return op->rc = KW_INVALID;
    }
    return KW_OK;
}

static int op_websub_subscribe(conn_t *c, store_op_t *op)
{
    const char *callback, *topic;
    if (websub_key(op, &callback, &topic) != KW_OK) return op->rc;
    json_t *jsecret = json_object_get(op->input, "secret");
    const char *secret = json_string_value(jsecret);
    json_t *jlease = json_object_get(op->input, "lease_until");
    if ((jsecret && !json_is_null(jsecret) &&
         (secret == NULL || strlen(secret) > STORE_WEBSUB_SECRET_MAX)) ||
        !json_is_integer(jlease)) {
        core_errors_add(&op->errs, json_is_integer(jlease) ? "secret" : "lease_until",
                        "malformed");
        return op->rc = KW_INVALID;
    }
    sqlite3_stmt *st = stmt(c, ST_WEBSUB_UPSERT);
    bind_text(st, 1, callback);
    bind_text(st, 2, topic);
    bind_text(st, 3, secret);
    sqlite3_bind_int64(st, 4, json_integer_value(jlease));
    sqlite3_bind_int64(st, 5, op->now_ms);
    if (step_done(st) != KW_OK) {
        op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
        return op->rc;
    }
    return op->rc = KW_OK;
}

static int op_websub_unsubscribe(conn_t *c, store_op_t *op)
{
    const char *callback, *topic;
    if (websub_key(op, &callback, &topic) != KW_OK) return op->rc;
    json_t *jlease = json_object_get(op->input, "lease_until");
    sqlite3_stmt *st = stmt(c, ST_WEBSUB_DELETE);
    bind_text(st, 1, callback);
    bind_text(st, 2, topic);
    if (json_is_integer(jlease)) sqlite3_bind_int64(st, 3, json_integer_value(jlease));
    if (step_done(st) != KW_OK) {
        op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
        return op->rc;
    }
    if (sqlite3_changes(c->db) == 0) {
        op_fail(op, KW_NOTFOUND, "no such subscription");
        return op->rc;
    }
    return op->rc = KW_OK;
}

/* ---- outlet webhook endpoints and their outbox ----
 *
 * The API checks an endpoint's fields (the URL's shape and the filters by
 * the matcher's parser) and sends them canonical; the writer decides who
 * may do it. Outbox writes come from the engine alone, in batches: one op
 * per batch of wire events, one per batch of attempt results. */

static store_webhook_t *row_webhook(sqlite3_stmt *st)
{
    store_webhook_t *w = kw_calloc(1, sizeof(*w));
    snprintf(w->id, sizeof(w->id), "%s", col_text(st, 0));
    snprintf(w->subscriber_id, sizeof(w->subscriber_id), "%s", col_text(st, 1));
    w->url = col_dup(st, 2);
    w->secret = col_dup(st, 3);
    w->filters = col_json(st, 4);
    snprintf(w->format, sizeof(w->format), "%s", col_text(st, 5));
    w->paused = col_text(st, 6) && strcmp(col_text(st, 6), "paused") == 0;
    w->paused_reason = col_dup(st, 7);
    w->paused_at = sqlite3_column_int64(st, 8);
    w->after_seq = sqlite3_column_int64(st, 9);
    w->created_at = sqlite3_column_int64(st, 10);
    w->updated_at = sqlite3_column_int64(st, 11);
    /* column 12 is the rowid (list cursor) */
    w->pending = sqlite3_column_int64(st, 13);
    return w;
}

static int load_webhook(conn_t *c, const char *id, store_webhook_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = stmt(c, ST_WEBHOOK_GET);
    bind_text(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = row_webhook(st);
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? KW_OK : rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR;
}

void store_webhook_free(store_webhook_t *w)
{
    if (w == NULL) return;
    free(w->url);
    free(w->secret);
    free(w->paused_reason);
    json_decref(w->filters);
    free(w);
}

json_t *store_webhook_json(const store_webhook_t *w)
{
    char created[40], updated[40], paused[40];
    core_time_format_rfc3339(w->created_at, created, sizeof(created));
    core_time_format_rfc3339(w->updated_at, updated, sizeof(updated));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", w->id, "subscriber", w->subscriber_id,
                          "url", w->url ? w->url : "", "format", w->format);
    json_object_set_new(o, "filters", w->filters ? json_deep_copy(w->filters) : json_array());
    json_object_set_new(o, "state", json_string(w->paused ? "paused" : "active"));
    json_object_set_new(o, "paused_reason",
                        w->paused_reason ? json_string(w->paused_reason) : json_null());
    if (w->paused_at) {
        core_time_format_rfc3339(w->paused_at, paused, sizeof(paused));
        json_object_set_new(o, "paused_at", json_string(paused));
    } else {
        json_object_set_new(o, "paused_at", json_null());
    }
    json_object_set_new(o, "pending", json_integer(w->pending));
    json_object_set_new(o, "created_at", json_string(created));
    json_object_set_new(o, "updated_at", json_string(updated));
    return o;
}

/* Whether who may change endpoint w: its outlet's own token, an editor, an
 * admin. */
static int may_manage_webhook(const core_principal_t *who, const store_webhook_t *w)
{
    if (who->role == ROLE_EDITOR || who->role == ROLE_ADMIN) return 1;
    return who->role == ROLE_SUBSCRIBER && who->subscriber_id[0] &&
           strcmp(who->subscriber_id, w->subscriber_id) == 0;
}

/* Checks the fields the API made canonical; missing ones keep w's values. */
static int webhook_apply(store_webhook_t *w, json_t *in, core_errors_t *errs)
{
    json_t *v;
    if ((v = json_object_get(in, "url")) != NULL) {
        const char *z = json_string_value(v);
        if (z == NULL || z[0] == '\0' || strlen(z) > STORE_WEBHOOK_URL_MAX)
            core_errors_add(errs, "url", "missing or too long");
        else {
            free(w->url);
            w->url = kw_strdup(z);
        }
    }
    if ((v = json_object_get(in, "secret")) != NULL) {
        const char *z = json_string_value(v);
        if (z == NULL || strncmp(z, "whsec_", 6) != 0 || strlen(z) > 200)
            core_errors_add(errs, "secret", "malformed");
        else {
            free(w->secret);
            w->secret = kw_strdup(z);
        }
    }
    if ((v = json_object_get(in, "filters")) != NULL) {
        if (!json_is_array(v) || json_array_size(v) < 1 ||
            json_array_size(v) > STORE_SUBSCRIBER_FILTERS_MAX)
            core_errors_add(errs, "filters", "malformed");
        else {
            json_decref(w->filters);
            w->filters = json_deep_copy(v);
        }
    }
    if ((v = json_object_get(in, "format")) != NULL) {
        const char *z = json_string_value(v);
        if (z == NULL || (strcmp(z, "ninjs") && strcmp(z, "newsml") && strcmp(z, "json")))
            core_errors_add(errs, "format", "must be ninjs, newsml or json");
        else
            snprintf(w->format, sizeof(w->format), "%s", z);
    }
    return errs->count ? KW_INVALID : KW_OK;
}

static int op_webhook_create(conn_t *c, store_op_t *op)
{
    if (op->who.role != ROLE_SUBSCRIBER || op->who.subscriber_id[0] == '\0') {
        op_fail(op, KW_FORBIDDEN, "only outlets register webhook endpoints");
        return op->rc;
    }
    sqlite3_stmt *st = stmt(c, ST_WEBHOOK_OUTLET);
    bind_text(st, 1, op->who.subscriber_id);
    int is_outlet = sqlite3_step(st) == SQLITE_ROW && col_text(st, 0) &&
                    strcmp(col_text(st, 0), "outlet") == 0;
    sqlite3_reset(st);
    if (!is_outlet) {
        op_fail(op, KW_FORBIDDEN, "only outlets register webhook endpoints");
        return op->rc;
    }
    st = stmt(c, ST_WEBHOOK_COUNT);
    bind_text(st, 1, op->who.subscriber_id);
    int64_t count = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (count >= STORE_WEBHOOKS_PER_OUTLET) {
        op_fail(op, KW_CONFLICT, "an outlet has at most 20 endpoints");
        return op->rc;
    }
    store_webhook_t w = {0};
    snprintf(w.format, sizeof(w.format), "ninjs");
    if (webhook_apply(&w, op->input, &op->errs) != KW_OK || w.url == NULL || w.secret == NULL ||
        w.filters == NULL) {
        if (op->errs.count == 0)
            core_errors_add(&op->errs, "url", "url, secret and filters are required");
        free(w.url);
        free(w.secret);
        json_decref(w.filters);
        return op->rc = KW_INVALID;
    }
    char id[ID_CHARS + 1];
    id[0] = 'w';
    auth_random_id(id + 1, ID_CHARS - 1);
    st = stmt(c, ST_WEBHOOK_INSERT);
    bind_text(st, 1, id);
    bind_text(st, 2, op->who.subscriber_id);
    bind_text(st, 3, w.url);
    bind_text(st, 4, w.secret);
    bind_json(st, 5, w.filters);
    bind_text(st, 6, w.format);
    sqlite3_bind_int64(st, 7, op->now_ms);
    int rc = step_done(st);
    free(w.url);
    free(w.secret);
    json_decref(w.filters);
    store_webhook_t *row = NULL;
    if (rc != KW_OK || load_webhook(c, id, &row) != KW_OK) {
        op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
        return op->rc;
    }
    op->output = store_webhook_json(row);
    store_webhook_free(row);
    return op->rc = KW_OK;
}

/* The endpoint named by op->input's id, if who may manage it; anyone else
 * gets KW_NOTFOUND as for an id that does not exist. */
static int webhook_for(conn_t *c, store_op_t *op, store_webhook_t **out)
{
    const char *id = json_string_value(json_object_get(op->input, "id"));
    int rc = id ? load_webhook(c, id, out) : KW_NOTFOUND;
    if (rc == KW_OK && !may_manage_webhook(&op->who, *out)) {
        store_webhook_free(*out);
        *out = NULL;
        rc = KW_NOTFOUND;
    }
    if (rc != KW_OK)
        op_fail(op, rc, rc == KW_NOTFOUND ? "no such endpoint" : sqlite3_errmsg(c->db));
    return rc;
}

static int op_webhook_update(conn_t *c, store_op_t *op)
{
    store_webhook_t *w;
    if (webhook_for(c, op, &w) != KW_OK) return op->rc;
    if (webhook_apply(w, op->input, &op->errs) != KW_OK) {
        store_webhook_free(w);
        return op->rc = KW_INVALID;
    }
    int resume = json_is_true(json_object_get(op->input, "resume"));
    if (resume) {
        w->paused = 0;
        free(w->paused_reason);
        w->paused_reason = NULL;
        w->paused_at = 0;
        sqlite3_stmt *rq = stmt(c, ST_WEBHOOK_REQUEUE);
        bind_text(rq, 1, w->id);
        sqlite3_bind_int64(rq, 2, op->now_ms);
        if (step_done(rq) != KW_OK) goto failed;
    }
    if (json_is_true(json_object_get(op->input, "pause")) && !w->paused) {
        /* The outlet pauses it by hand (web_subscriber.c); resume undoes it. */
        w->paused = 1;
        free(w->paused_reason);
        w->paused_reason = kw_strdup("paused by the outlet");
        w->paused_at = op->now_ms;
    }
    sqlite3_stmt *st = stmt(c, ST_WEBHOOK_UPDATE);
    bind_text(st, 1, w->id);
    bind_text(st, 2, w->url);
    bind_text(st, 3, w->secret);
    bind_json(st, 4, w->filters);
    bind_text(st, 5, w->format);
    bind_text(st, 6, w->paused ? "paused" : "active");
    bind_text(st, 7, w->paused_reason);
    bind_ms(st, 8, w->paused_at);
    sqlite3_bind_int64(st, 9, op->now_ms);
    if (step_done(st) != KW_OK) goto failed;
    store_webhook_t *row = NULL;
    if (load_webhook(c, w->id, &row) != KW_OK) goto failed;
    op->output = store_webhook_json(row);
    store_webhook_free(row);
    store_webhook_free(w);
    return op->rc = KW_OK;
failed:
    store_webhook_free(w);
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_webhook_delete(conn_t *c, store_op_t *op)
{
    store_webhook_t *w;
    if (webhook_for(c, op, &w) != KW_OK) return op->rc;
    static const stmt_id_t purge[] = {ST_WEBHOOK_PURGE_LOG, ST_WEBHOOK_PURGE, ST_WEBHOOK_DELETE};
    for (size_t i = 0; i < KW_ARRAY_SIZE(purge); i++) {
        sqlite3_stmt *st = stmt(c, purge[i]);
        bind_text(st, 1, w->id);
        if (step_done(st) != KW_OK) {
            store_webhook_free(w);
            op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
            return op->rc;
        }
    }
    op->output = store_webhook_json(w);
    store_webhook_free(w);
    return op->rc = KW_OK;
}

static int op_webhook_enqueue(conn_t *c, store_op_t *op)
{
    json_t *through = json_object_get(op->input, "through");
    json_t *payloads = json_object_get(op->input, "payloads");
    json_t *deliveries = json_object_get(op->input, "deliveries");
    if (!json_is_integer(through) || !json_is_array(payloads) || !json_is_array(deliveries)) {
        core_errors_add(&op->errs, "input", "malformed");
        return op->rc = KW_INVALID;
    }
    size_t i;
    json_t *v;
    json_array_foreach(payloads, i, v)
    {
        json_t *body = json_object_get(v, "body");
        sqlite3_stmt *st = stmt(c, ST_WEBHOOK_PAYLOAD_PUT);
        sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(v, "seq")));
        bind_text(st, 2, json_string_value(json_object_get(v, "format")));
        sqlite3_bind_blob(st, 3, json_string_value(body) ? json_string_value(body) : "",
                          (int)json_string_length(body), SQLITE_TRANSIENT);
        if (step_done(st) != KW_OK) goto failed;
    }
    json_array_foreach(deliveries, i, v)
    {
        sqlite3_stmt *st = stmt(c, ST_WEBHOOK_DELIVERY_PUT);
        bind_text(st, 1, json_string_value(json_object_get(v, "endpoint")));
        sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(v, "seq")));
        bind_text(st, 3, json_string_value(json_object_get(v, "kind")));
        bind_text(st, 4, json_string_value(json_object_get(v, "release_id")));
        sqlite3_bind_int64(st, 5, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
    }
    char seq[32];
    snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(through));
    sqlite3_stmt *st = stmt(c, ST_META_SET);
    bind_text(st, 1, "webhook_seq");
    bind_text(st, 2, seq);
    if (step_done(st) != KW_OK) goto failed;
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_webhook_results(conn_t *c, store_op_t *op)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(op->input, "attempts"), i, v)
    {
        const char *endpoint = json_string_value(json_object_get(v, "endpoint"));
        int64_t seq = json_integer_value(json_object_get(v, "seq"));
        json_t *status = json_object_get(v, "status");
        const char *error = json_string_value(json_object_get(v, "error"));
        int64_t at = json_integer_value(json_object_get(v, "at"));
        int delivered = json_is_true(json_object_get(v, "delivered"));
        sqlite3_stmt *st = stmt(c, ST_WEBHOOK_ATTEMPT_PUT);
        bind_text(st, 1, endpoint);
        sqlite3_bind_int64(st, 2, seq);
        sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(v, "attempt")));
        sqlite3_bind_int64(st, 4, at);
        if (json_is_integer(status)) sqlite3_bind_int64(st, 5, json_integer_value(status));
        bind_text(st, 6, error);
        sqlite3_bind_int64(st, 7, json_integer_value(json_object_get(v, "elapsed_ms")));
        if (step_done(st) != KW_OK) goto failed;
        st = stmt(c, ST_WEBHOOK_DELIVERY_SET);
        bind_text(st, 1, endpoint);
        sqlite3_bind_int64(st, 2, seq);
        bind_text(st, 3, delivered ? "delivered" : "pending");
        sqlite3_bind_int64(st, 4, json_integer_value(json_object_get(v, "attempt")));
        sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(v, "next_at")));
        bind_ms(st, 6, delivered ? 0 : json_integer_value(json_object_get(v, "first_failed_at")));
        bind_ms(st, 7, delivered ? at : 0);
        if (json_is_integer(status)) sqlite3_bind_int64(st, 8, json_integer_value(status));
        bind_text(st, 9, error);
        if (step_done(st) != KW_OK) goto failed;
    }
    json_array_foreach(json_object_get(op->input, "pauses"), i, v)
    {
        sqlite3_stmt *st = stmt(c, ST_WEBHOOK_PAUSE);
        bind_text(st, 1, json_string_value(json_object_get(v, "endpoint")));
        bind_text(st, 2, json_string_value(json_object_get(v, "reason")));
        sqlite3_bind_int64(st, 3, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
    }
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_report_add(conn_t *c, store_op_t *op)
{
    size_t i;
    json_t *v;
    json_t *rows = json_object_get(op->input, "rows");
    if (!json_is_array(rows)) {
        core_errors_add(&op->errs, "rows", "malformed");
        return op->rc = KW_INVALID;
    }
    json_array_foreach(rows, i, v)
    {
        static const char *const text[] = {"release_id", "channel", NULL, "language", "country"};
        static const char *const num[] = {"matched", "delivered", "failed", "failed_attempts"};
        sqlite3_stmt *st = stmt(c, ST_REPORT_ADD);
        for (int k = 0; k < 5; k++)
            if (text[k]) bind_text(st, k + 1, json_string_value(json_object_get(v, text[k])));
        sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(v, "minute")));
        for (int k = 0; k < 4; k++)
            sqlite3_bind_int64(st, 6 + k, json_integer_value(json_object_get(v, num[k])));
        if (step_done(st) != KW_OK) {
            op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
            return op->rc;
        }
    }
    return op->rc = KW_OK;
}

/* ---- e-mail alerts ----
 *
 * The API and the pages check a sign-up (its beats by the matcher's own
 * parser); the writer keeps sign-ups, the journalist subscriber, its
 * recipient row and the outbox in step, one transaction per op. Outbox
 * rows are only ever added with INSERT OR IGNORE on their stable id: an
 * engine that enqueues a batch again after a crash adds nothing new. */

static int op_mail_signup(conn_t *c, store_op_t *op)
{
    json_t *in = op->input;
    const char *email = json_string_value(json_object_get(in, "email"));
    const char *language = json_string_value(json_object_get(in, "language"));
    const char *timing = json_string_value(json_object_get(in, "timing"));
    json_t *filters = json_object_get(in, "filters");
    if (email == NULL || language == NULL || timing == NULL || !json_is_array(filters)) {
        core_errors_add(&op->errs, "input", "malformed");
        return op->rc = KW_INVALID;
    }
    sqlite3_stmt *st = stmt(c, ST_MAIL_SIGNUP_COUNT);
    bind_text(st, 1, email);
    sqlite3_bind_int64(st, 2, op->now_ms - 3600 * 1000);
    int64_t recent = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (recent >= STORE_MAIL_SIGNUPS_PER_HOUR) {
        op_fail(op, KW_CONFLICT, "too many sign-ups for this address in the last hour");
        return op->rc;
    }
    char id[ID_CHARS + 1];
    id[0] = 'g';
    auth_random_id(id + 1, ID_CHARS - 1);
    st = stmt(c, ST_MAIL_SIGNUP_INSERT);
    bind_text(st, 1, id);
    bind_text(st, 2, email);
    bind_text(st, 3, json_string_value(json_object_get(in, "name")));
    bind_text(st, 4, language);
    bind_text(st, 5, timing);
    bind_json(st, 6, filters);
    bind_text(st, 7, json_string_value(json_object_get(in, "ip")));
    sqlite3_bind_int64(st, 8, op->now_ms);
    sqlite3_bind_int64(st, 9, json_integer_value(json_object_get(in, "expires_at")));
    if (step_done(st) != KW_OK) goto failed;
    /* The confirmation mail: its id is the sign-up's. */
    st = stmt(c, ST_MAIL_OUTBOX_PUT);
    bind_text(st, 1, id);
    bind_text(st, 2, "confirm");
    bind_text(st, 3, NULL);
    bind_text(st, 4, email);
    bind_text(st, 5, language);
    bind_text(st, 6, id);
    sqlite3_bind_null(st, 7);
    sqlite3_bind_int64(st, 8, op->now_ms);
    if (step_done(st) != KW_OK) goto failed;
    op->output = json_pack("{s:s}", "id", id);
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_mail_confirm(conn_t *c, store_op_t *op)
{
    const char *signup = json_string_value(json_object_get(op->input, "signup"));
    store_subscriber_t *sub = NULL;
    char *email = NULL, *name = NULL;
    json_t *filters = NULL;
    char language[16], timing[12], done_sub[32] = "", sid[32] = "";
    int created = 0;
    if (signup == NULL) {
        op_fail(op, KW_NOTFOUND, "no such sign-up");
        return op->rc;
    }
    sqlite3_stmt *st = stmt(c, ST_MAIL_SIGNUP_GET);
    bind_text(st, 1, signup);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        op_fail(op, rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR, "no such sign-up");
        return op->rc;
    }
    email = col_dup(st, 0);
    name = col_dup(st, 1);
    snprintf(language, sizeof(language), "%s", col_text(st, 2));
    snprintf(timing, sizeof(timing), "%s", col_text(st, 3));
    filters = col_json(st, 4);
    int64_t expires = sqlite3_column_int64(st, 5);
    int confirmed = sqlite3_column_type(st, 6) != SQLITE_NULL;
    if (col_text(st, 7)) snprintf(done_sub, sizeof(done_sub), "%s", col_text(st, 7));
    sqlite3_reset(st);

    st = stmt(c, ST_MAIL_RECIPIENT_BY_EMAIL);
    bind_text(st, 1, email);
    if (sqlite3_step(st) == SQLITE_ROW) snprintf(sid, sizeof(sid), "%s", col_text(st, 0));
    sqlite3_reset(st);
    if (sid[0] && load_subscriber(c, sid, &sub) != KW_OK) {
        /* The subscriber was deleted since: start afresh. */
        st = stmt(c, ST_MAIL_RECIPIENT_DELETE);
        bind_text(st, 1, sid);
        if (step_done(st) != KW_OK) goto failed;
        sid[0] = '\0';
    }
    if (!sid[0]) {
        /* A journalist who signed up in the browser (/me/signup) and now
         * confirms the same address: the alerts are that subscriber's. */
        st = stmt(c, ST_SUBSCRIBER_BY_LOGIN);
        bind_text(st, 1, email);
        if (sqlite3_step(st) == SQLITE_ROW) snprintf(sid, sizeof(sid), "%s", col_text(st, 0));
        sqlite3_reset(st);
        if (sid[0] && load_subscriber(c, sid, &sub) != KW_OK) sub = NULL;
    }
    if (confirmed) {
        /* A second click changes nothing (nor undoes an unsubscribe). */
        if (sub == NULL || strcmp(done_sub, sub->id) != 0) {
            op_fail(op, KW_GONE, "this confirmation link was already used");
            goto done;
        }
    } else if (expires < op->now_ms) {
        op_fail(op, KW_GONE, "this confirmation link has expired");
        goto done;
    } else if (sub) {
        json_decref(sub->filters);
        sub->filters = json_incref(filters);
        if (name) {
            free(sub->name);
            sub->name = kw_strdup(name);
        }
        sub->updated_at = op->now_ms;
        if (write_subscriber(c, sub, 0) != KW_OK) goto failed;
        st = stmt(c, ST_MAIL_RECIPIENT_RENEW);
        bind_text(st, 1, sub->id);
        bind_text(st, 2, language);
        bind_text(st, 3, timing);
        sqlite3_bind_int64(st, 4, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
        if (sqlite3_changes(c->db) == 0) { /* the browser's journalist: its first recipient row */
            st = stmt(c, ST_MAIL_RECIPIENT_INSERT);
            bind_text(st, 1, sub->id);
            bind_text(st, 2, email);
            bind_text(st, 3, language);
            bind_text(st, 4, timing);
            sqlite3_bind_int64(st, 5, op->now_ms);
            if (step_done(st) != KW_OK) goto failed;
        }
    } else {
        sub = kw_calloc(1, sizeof(*sub));
        snprintf(sub->kind, sizeof(sub->kind), "journalist");
        sub->name = kw_strdup(name ? name : email);
        sub->email = kw_strdup(email);
        sub->filters = json_incref(filters);
        sub->user_id[0] = 'u';
        auth_random_id(sub->user_id + 1, ID_CHARS - 1);
        sub->id[0] = 's';
        auth_random_id(sub->id + 1, ID_CHARS - 1);
        sub->created_at = sub->updated_at = op->now_ms;
        /* Its user has no token: the journalist manages the alerts by the
         * signed links of the mails. */
        st = stmt(c, ST_USER_INSERT);
        bind_text(st, 1, sub->user_id);
        bind_text(st, 2, sub->name);
        bind_text(st, 3, email); /* confirmed: /reset can give it a password */
        bind_text(st, 4, "subscriber");
        bind_text(st, 5, NULL);
        bind_text(st, 6, NULL);
        sqlite3_bind_int64(st, 7, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
        if (write_subscriber(c, sub, 1) != KW_OK) goto failed;
        st = stmt(c, ST_MAIL_RECIPIENT_INSERT);
        bind_text(st, 1, sub->id);
        bind_text(st, 2, email);
        bind_text(st, 3, language);
        bind_text(st, 4, timing);
        sqlite3_bind_int64(st, 5, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
        created = 1;
    }
    if (!confirmed) {
        st = stmt(c, ST_MAIL_SIGNUP_DONE);
        bind_text(st, 1, signup);
        sqlite3_bind_int64(st, 2, op->now_ms);
        bind_text(st, 3, sub->id);
        if (step_done(st) != KW_OK) goto failed;
    }
    if (load_subscriber(c, sub->id, &op->subscriber) != KW_OK) goto failed;
    op->output = json_pack("{s:s, s:s, s:s, s:s, s:b}", "subscriber", sub->id, "email", email,
                           "language", language, "timing", timing, "created", created);
    op->rc = KW_OK;
    goto done;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
done:
    store_subscriber_free(sub);
    free(email);
    free(name);
    json_decref(filters);
    return op->rc;
}

/* Stops every mail to a recipient: state (unsubscribed, bounced) with its
 * reason, pending mails cancelled, digest items dropped. */
static int mail_recipient_stop(conn_t *c, const char *sid, const char *state, const char *reason,
                               int64_t now)
{
    sqlite3_stmt *st = stmt(c, ST_MAIL_RECIPIENT_STATE);
    bind_text(st, 1, sid);
    bind_text(st, 2, state);
    bind_text(st, 3, reason);
    sqlite3_bind_int64(st, 4, now);
    if (step_done(st) != KW_OK) return KW_ERROR;
    st = stmt(c, ST_MAIL_CANCEL);
    bind_text(st, 1, sid);
    if (step_done(st) != KW_OK) return KW_ERROR;
    st = stmt(c, ST_MAIL_DIGEST_DROP);
    bind_text(st, 1, sid);
    return step_done(st);
}

static int op_mail_unsubscribe(conn_t *c, store_op_t *op)
{
    const char *sid = json_string_value(json_object_get(op->input, "subscriber"));
    sqlite3_stmt *st = stmt(c, ST_MAIL_RECIPIENT_GET);
    bind_text(st, 1, sid);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        op_fail(op, rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR, "no such recipient");
        return op->rc;
    }
    char *email = col_dup(st, 2);
    sqlite3_reset(st);
    if (mail_recipient_stop(c, sid, "unsubscribed", "unsubscribed by its link", op->now_ms) !=
        KW_OK) {
        free(email);
        op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
        return op->rc;
    }
    op->output = json_pack("{s:s, s:s}", "email", email ? email : "", "subscriber", sid);
    free(email);
    return op->rc = KW_OK;
}

static int op_mail_enqueue(conn_t *c, store_op_t *op)
{
    json_t *through = json_object_get(op->input, "through");
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(op->input, "mails"), i, v)
    {
        sqlite3_stmt *st = stmt(c, ST_MAIL_OUTBOX_PUT_FOR);
        bind_text(st, 1, json_string_value(json_array_get(v, 0)));
        bind_text(st, 2, json_string_value(json_array_get(v, 1)));
        bind_text(st, 3, json_string_value(json_array_get(v, 2)));
        bind_text(st, 4, json_string_value(json_array_get(v, 3)));
        sqlite3_bind_int64(st, 5, json_integer_value(json_array_get(v, 4)));
        sqlite3_bind_int64(st, 6, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
    }
    /* One-off mails to a person, not to a recipient: no subscriber. */
    json_array_foreach(json_object_get(op->input, "notices"), i, v)
    {
        sqlite3_stmt *st = stmt(c, ST_MAIL_OUTBOX_PUT);
        bind_text(st, 1, json_string_value(json_array_get(v, 0)));
        bind_text(st, 2, "notice");
        bind_text(st, 3, NULL);
        bind_text(st, 4, json_string_value(json_array_get(v, 1)));
        bind_text(st, 5, json_string_value(json_array_get(v, 2)));
        bind_text(st, 6, json_string_value(json_array_get(v, 3)));
        sqlite3_bind_null(st, 7);
        sqlite3_bind_int64(st, 8, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
    }
    json_array_foreach(json_object_get(op->input, "digest"), i, v)
    {
        sqlite3_stmt *st = stmt(c, ST_MAIL_DIGEST_ITEM_PUT);
        bind_text(st, 1, json_string_value(json_array_get(v, 0)));
        bind_text(st, 2, json_string_value(json_array_get(v, 1)));
        sqlite3_bind_int64(st, 3, json_integer_value(json_array_get(v, 2)));
        if (step_done(st) != KW_OK) goto failed;
    }
    if (json_is_integer(through)) {
        char seq[32];
        snprintf(seq, sizeof(seq), "%lld", (long long)json_integer_value(through));
        sqlite3_stmt *st = stmt(c, ST_META_SET);
        bind_text(st, 1, "mail_seq");
        bind_text(st, 2, seq);
        if (step_done(st) != KW_OK) goto failed;
    }
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_mail_digest(conn_t *c, store_op_t *op)
{
    const char *timing = json_string_value(json_object_get(op->input, "timing"));
    const char *key = json_string_value(json_object_get(op->input, "key"));
    json_int_t period = json_integer_value(json_object_get(op->input, "period"));
    if (timing == NULL || key == NULL) {
        core_errors_add(&op->errs, "input", "malformed");
        return op->rc = KW_INVALID;
    }
    sqlite3_stmt *st = stmt(c, ST_MAIL_DIGEST_BUILD);
    bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, op->now_ms);
    bind_text(st, 3, timing);
    if (step_done(st) != KW_OK) goto failed;
    int made = sqlite3_changes(c->db);
    st = stmt(c, ST_MAIL_DIGEST_CLEAR);
    bind_text(st, 1, timing);
    if (step_done(st) != KW_OK) goto failed;
    char mkey[48], val[32];
    snprintf(mkey, sizeof(mkey), "mail_digest_%s", timing);
    snprintf(val, sizeof(val), "%lld", (long long)period);
    st = stmt(c, ST_META_SET);
    bind_text(st, 1, mkey);
    bind_text(st, 2, val);
    if (step_done(st) != KW_OK) goto failed;
    op->output = json_pack("{s:i}", "mails", made);
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_mail_results(conn_t *c, store_op_t *op)
{
    size_t i;
    json_t *v;
    json_t *bounced = json_array();
    json_array_foreach(json_object_get(op->input, "sent"), i, v)
    {
        sqlite3_stmt *st = stmt(c, ST_MAIL_SENT);
        bind_text(st, 1, json_string_value(v));
        sqlite3_bind_int64(st, 2, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
    }
    json_array_foreach(json_object_get(op->input, "retry"), i, v)
    {
        sqlite3_stmt *st = stmt(c, ST_MAIL_RETRY);
        bind_text(st, 1, json_string_value(json_array_get(v, 0)));
        sqlite3_bind_int64(st, 2, json_integer_value(json_array_get(v, 1)));
        sqlite3_bind_int64(st, 3, json_integer_value(json_array_get(v, 2)));
        bind_text(st, 4, json_string_value(json_array_get(v, 3)));
        if (step_done(st) != KW_OK) goto failed;
    }
    json_array_foreach(json_object_get(op->input, "failed"), i, v)
    {
        const char *id = json_string_value(json_array_get(v, 0));
        const char *error = json_string_value(json_array_get(v, 2));
        sqlite3_stmt *st = stmt(c, ST_MAIL_FAIL);
        bind_text(st, 1, id);
        bind_text(st, 2, "failed");
        sqlite3_bind_int64(st, 3, json_integer_value(json_array_get(v, 1)));
        bind_text(st, 4, error);
        if (step_done(st) != KW_OK) goto failed;
        if (!json_is_true(json_array_get(v, 3)) && json_integer_value(json_array_get(v, 3)) != 1)
            continue;
        char sid[32] = "";
        st = stmt(c, ST_MAIL_SUBSCRIBER_OF);
        bind_text(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW && col_text(st, 0))
            snprintf(sid, sizeof(sid), "%s", col_text(st, 0));
        sqlite3_reset(st);
        if (!sid[0]) continue; /* a confirmation mail: there is no recipient yet */
        if (mail_recipient_stop(c, sid, "bounced", error, op->now_ms) != KW_OK) goto failed;
        json_array_append_new(bounced, json_string(sid));
    }
    json_array_foreach(json_object_get(op->input, "cancelled"), i, v)
    {
        sqlite3_stmt *st = stmt(c, ST_MAIL_FAIL);
        bind_text(st, 1, json_string_value(json_array_get(v, 0)));
        bind_text(st, 2, "cancelled");
        sqlite3_bind_int64(st, 3, json_integer_value(json_array_get(v, 1)));
        bind_text(st, 4, json_string_value(json_array_get(v, 2)));
        if (step_done(st) != KW_OK) goto failed;
    }
    op->output = json_pack("{s:o}", "bounced", bounced);
    return op->rc = KW_OK;
failed:
    json_decref(bounced);
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

/* ---- people: sessions, log-in failures, resets, invitations ----
 *
 * The pages (web_session.c, web_account.c) make every secret and hash
 * it; the store keeps hashes only and makes the single-use rules hold in
 * one transaction: a reset or invitation link is marked used in the same
 * op that sets the password, so two clicks cannot both succeed. */

static int op_session_create(conn_t *c, store_op_t *op)
{
    json_t *in = op->input;
    const char *id_hash = json_string_value(json_object_get(in, "id_hash"));
    const char *user = json_string_value(json_object_get(in, "user_id"));
    const char *csrf = json_string_value(json_object_get(in, "csrf"));
    const char *discard = json_string_value(json_object_get(in, "discard"));
    if (id_hash == NULL || user == NULL || csrf == NULL) {
        core_errors_add(&op->errs, "input", "malformed");
        return op->rc = KW_INVALID;
    }
    sqlite3_stmt *st = stmt(c, ST_SESSIONS_PRUNE);
    sqlite3_bind_int64(st, 1, op->now_ms - STORE_SESSION_IDLE_MS);
    sqlite3_bind_int64(st, 2, op->now_ms - STORE_SESSION_MAX_MS);
    if (step_done(st) != KW_OK) goto failed;
    if (discard) { /* the session the browser had before: never carried over */
        st = stmt(c, ST_SESSION_DELETE);
        bind_text(st, 1, discard);
        if (step_done(st) != KW_OK) goto failed;
    }
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(in, "clear"), i, v)
    {
        st = stmt(c, ST_LOGIN_FAILURES_CLEAR);
        bind_text(st, 1, json_string_value(v));
        if (step_done(st) != KW_OK) goto failed;
    }
    st = stmt(c, ST_SESSION_INSERT);
    bind_text(st, 1, id_hash);
    bind_text(st, 2, user);
    bind_text(st, 3, csrf);
    sqlite3_bind_int64(st, 4, op->now_ms);
    if (step_done(st) != KW_OK) goto failed;
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_session_touch_or_delete(conn_t *c, store_op_t *op)
{
    int touch = op->kind == STORE_OP_SESSION_TOUCH;
    sqlite3_stmt *st = stmt(c, touch ? ST_SESSION_TOUCH : ST_SESSION_DELETE);
    bind_text(st, 1, json_string_value(json_object_get(op->input, "id_hash")));
    if (touch) sqlite3_bind_int64(st, 2, op->now_ms);
    if (step_done(st) != KW_OK) op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_login_failed(conn_t *c, store_op_t *op)
{
    sqlite3_stmt *st = stmt(c, ST_LOGIN_FAILURES_PRUNE);
    sqlite3_bind_int64(st, 1, op->now_ms - 24 * 3600 * 1000LL);
    if (step_done(st) != KW_OK) goto failed;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(op->input, "keys"), i, v)
    {
        st = stmt(c, ST_LOGIN_FAILURE_PUT);
        bind_text(st, 1, json_string_value(v));
        sqlite3_bind_int64(st, 2, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
    }
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_reset_create(conn_t *c, store_op_t *op)
{
    sqlite3_stmt *st = stmt(c, ST_RESET_INSERT);
    bind_text(st, 1, json_string_value(json_object_get(op->input, "hash")));
    bind_text(st, 2, json_string_value(json_object_get(op->input, "user_id")));
    sqlite3_bind_int64(st, 3, op->now_ms);
    sqlite3_bind_int64(st, 4, json_integer_value(json_object_get(op->input, "expires_at")));
    if (step_done(st) != KW_OK) op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_invite_create(conn_t *c, store_op_t *op)
{
    json_t *in = op->input;
    const char *email = json_string_value(json_object_get(in, "email"));
    const char *role = json_string_value(json_object_get(in, "role"));
    const char *issuer = json_string_value(json_object_get(in, "issuer"));
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *hash = json_string_value(json_object_get(in, "hash"));
    if (op->who.role != ROLE_ADMIN) {
        op_fail(op, KW_FORBIDDEN, "only an admin invites");
        return op->rc;
    }
    if (email == NULL || role == NULL || hash == NULL ||
        (strcmp(role, "issuer") != 0 && strcmp(role, "editor") != 0) ||
        (strcmp(role, "issuer") == 0 && (issuer == NULL || !*issuer))) {
        core_errors_add(&op->errs, "input", "malformed");
        return op->rc = KW_INVALID;
    }
    sqlite3_stmt *st = stmt(c, ST_ACCOUNT_EMAIL_TAKEN);
    bind_text(st, 1, email);
    int taken = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    if (taken) {
        op_fail(op, KW_CONFLICT, "a user with this e-mail address exists");
        return op->rc;
    }
    char issuer_id[32] = "";
    if (strcmp(role, "issuer") == 0) {
        store_op_t sub = {.kind = STORE_OP_ISSUER_ENSURE, .now_ms = op->now_ms};
        sub.input = json_pack("{s:s}", "name", issuer);
        int rc = op_issuer_ensure(c, &sub);
        if (rc == KW_OK)
            snprintf(issuer_id, sizeof(issuer_id), "%s",
                     json_string_value(json_object_get(sub.output, "id")));
        json_decref(sub.input);
        json_decref(sub.output);
        if (rc != KW_OK) {
            op_fail(op, KW_ERROR, sub.message[0] ? sub.message : "cannot add the issuer");
            return op->rc;
        }
    }
    char id[24];
    id[0] = 'u';
    auth_random_id(id + 1, ID_CHARS - 1);
    st = stmt(c, ST_USER_INSERT);
    bind_text(st, 1, id);
    bind_text(st, 2, name && *name ? name : email);
    bind_text(st, 3, email);
    bind_text(st, 4, role);
    bind_text(st, 5, issuer_id[0] ? issuer_id : NULL);
    bind_text(st, 6, NULL); /* no password until the invitation is accepted */
    sqlite3_bind_int64(st, 7, op->now_ms);
    if (step_done(st) != KW_OK) goto failed;
    st = stmt(c, ST_INVITE_INSERT);
    bind_text(st, 1, hash);
    bind_text(st, 2, id);
    bind_text(st, 3, op->who.user_id[0] ? op->who.user_id : NULL);
    sqlite3_bind_int64(st, 4, op->now_ms);
    sqlite3_bind_int64(st, 5, json_integer_value(json_object_get(in, "expires_at")));
    if (step_done(st) != KW_OK) goto failed;
    op->output = json_pack("{s:s}", "user_id", id);
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_password_set(conn_t *c, store_op_t *op)
{
    json_t *in = op->input;
    const char *kind = json_string_value(json_object_get(in, "kind"));
    const char *hash = json_string_value(json_object_get(in, "hash"));
    const char *pw = json_string_value(json_object_get(in, "password_hash"));
    const char *name = json_string_value(json_object_get(in, "name"));
    json_t *session = json_object_get(in, "session");
    if (kind == NULL || hash == NULL || pw == NULL ||
        (strcmp(kind, "reset") != 0 && strcmp(kind, "invite") != 0)) {
        core_errors_add(&op->errs, "input", "malformed");
        return op->rc = KW_INVALID;
    }
    int invite = strcmp(kind, "invite") == 0;
    sqlite3_stmt *st = stmt(c, invite ? ST_INVITE_GET : ST_RESET_GET);
    bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        op_fail(op, rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR, "no such link");
        return op->rc;
    }
    char user[32];
    snprintf(user, sizeof(user), "%s", col_text(st, 0));
    int64_t expires = sqlite3_column_int64(st, 1);
    int used = sqlite3_column_int(st, 2);
    sqlite3_reset(st);
    if (used || expires <= op->now_ms) {
        op_fail(op, KW_GONE, "the link was used or has expired");
        return op->rc;
    }
    if (invite) {
        st = stmt(c, ST_INVITE_ACCEPT);
        bind_text(st, 1, hash);
        sqlite3_bind_int64(st, 2, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
        if (name && *name) {
            st = stmt(c, ST_USER_RENAME);
            bind_text(st, 1, user);
            bind_text(st, 2, name);
            if (step_done(st) != KW_OK) goto failed;
        }
    }
    /* Every open reset link of the user dies with this one. */
    st = stmt(c, ST_RESETS_USE);
    bind_text(st, 1, user);
    sqlite3_bind_int64(st, 2, op->now_ms);
    if (step_done(st) != KW_OK) goto failed;
    st = stmt(c, ST_USER_SET_PASSWORD);
    bind_text(st, 1, user);
    bind_text(st, 2, pw);
    if (step_done(st) != KW_OK) goto failed;
    /* A new password ends every session the user had. */
    st = stmt(c, ST_SESSIONS_END_USER);
    bind_text(st, 1, user);
    if (step_done(st) != KW_OK) goto failed;
    if (json_is_object(session) && json_string_value(json_object_get(session, "discard"))) {
        st = stmt(c, ST_SESSION_DELETE); /* the browser's session from before */
        bind_text(st, 1, json_string_value(json_object_get(session, "discard")));
        if (step_done(st) != KW_OK) goto failed;
    }
    if (json_is_object(session)) {
        st = stmt(c, ST_SESSION_INSERT);
        bind_text(st, 1, json_string_value(json_object_get(session, "id_hash")));
        bind_text(st, 2, user);
        bind_text(st, 3, json_string_value(json_object_get(session, "csrf")));
        sqlite3_bind_int64(st, 4, op->now_ms);
        if (step_done(st) != KW_OK) goto failed;
    }
    op->output = json_pack("{s:s}", "user_id", user);
    return op->rc = KW_OK;
failed:
    op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
    return op->rc;
}

static int op_meta_set(conn_t *c, store_op_t *op)
{
    const char *key = json_string_value(json_object_get(op->input, "key"));
    const char *value = json_string_value(json_object_get(op->input, "value"));
    if (key == NULL || value == NULL) return op->rc = KW_INVALID;
    sqlite3_stmt *st = stmt(c, ST_META_SET);
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return op->rc = rc == SQLITE_DONE ? KW_OK : KW_ERROR;
}

static int op_run(store_t *s, conn_t *c, store_op_t *op)
{
    op->now_ms = kw_now_ms();
    op->rc = KW_OK;
    switch (op->kind) {
    case STORE_OP_RELEASE_CREATE:
        return op_release_create(s, c, op);
    case STORE_OP_RELEASE_ACT:
        return op_release_act(s, c, op);
    case STORE_OP_PUBLISH_DUE:
        return op_publish_due(c, op);
    case STORE_OP_SECTOR_ADD:
        return op_sector_add(s, c, op);
    case STORE_OP_ISSUER_ENSURE:
        return op_issuer_ensure(c, op);
    case STORE_OP_USER_ADD:
        return op_user_add(c, op);
    case STORE_OP_TOKEN_CREATE:
        return op_token_create(c, op);
    case STORE_OP_SUBSCRIBER_CREATE:
        return op_subscriber_create(c, op);
    case STORE_OP_SUBSCRIBER_UPDATE:
        return op_subscriber_update(c, op);
    case STORE_OP_SUBSCRIBER_DELETE:
        return op_subscriber_delete(c, op);
    case STORE_OP_WEBSUB_SUBSCRIBE:
        return op_websub_subscribe(c, op);
    case STORE_OP_WEBSUB_UNSUBSCRIBE:
        return op_websub_unsubscribe(c, op);
    case STORE_OP_WEBHOOK_CREATE:
        return op_webhook_create(c, op);
    case STORE_OP_WEBHOOK_UPDATE:
        return op_webhook_update(c, op);
    case STORE_OP_WEBHOOK_DELETE:
        return op_webhook_delete(c, op);
    case STORE_OP_WEBHOOK_ENQUEUE:
        return op_webhook_enqueue(c, op);
    case STORE_OP_WEBHOOK_RESULTS:
        return op_webhook_results(c, op);
    case STORE_OP_MAIL_SIGNUP:
        return op_mail_signup(c, op);
    case STORE_OP_MAIL_CONFIRM:
        return op_mail_confirm(c, op);
    case STORE_OP_MAIL_UNSUBSCRIBE:
        return op_mail_unsubscribe(c, op);
    case STORE_OP_MAIL_ENQUEUE:
        return op_mail_enqueue(c, op);
    case STORE_OP_MAIL_DIGEST:
        return op_mail_digest(c, op);
    case STORE_OP_MAIL_RESULTS:
        return op_mail_results(c, op);
    case STORE_OP_REPORT_ADD:
        return op_report_add(c, op);
    case STORE_OP_SESSION_CREATE:
        return op_session_create(c, op);
    case STORE_OP_SESSION_TOUCH:
    case STORE_OP_SESSION_DELETE:
        return op_session_touch_or_delete(c, op);
    case STORE_OP_LOGIN_FAILED:
        return op_login_failed(c, op);
    case STORE_OP_RESET_CREATE:
        return op_reset_create(c, op);
    case STORE_OP_INVITE_CREATE:
        return op_invite_create(c, op);
    case STORE_OP_PASSWORD_SET:
        return op_password_set(c, op);
    case STORE_OP_META_SET:
        return op_meta_set(c, op);
    }
    return op->rc = KW_INVALID;
}

/* Runs one op inside a savepoint of the open transaction; a failed op
 * leaves no trace and does not disturb the others. */
static void op_run_savepoint(store_t *s, conn_t *c, store_op_t *op)
{
    exec_sql(c, "SAVEPOINT op");
    if (op_run(s, c, op) != KW_OK) {
        exec_sql(c, "ROLLBACK TO op");
        op->last_seq = 0;
        op->published = 0;
    }
    exec_sql(c, "RELEASE op");
}

/* After a commit that added sectors, refresh the cache. */
static void after_commit(store_t *s, conn_t *c, store_op_t *ops)
{
    for (store_op_t *op = ops; op; op = op->next__)
        if (op->kind == STORE_OP_SECTOR_ADD && op->rc == KW_OK) {
            sectors_load(s, c);
            break;
        }
}

static void batch_fail(store_op_t *ops, const char *msg)
{
    for (store_op_t *op = ops; op; op = op->next__) {
        if (op->rc == KW_OK) {
            core_release_free(op->release);
            op->release = NULL;
            store_subscriber_free(op->subscriber);
            op->subscriber = NULL;
            op_fail(op, KW_ERROR, msg);
        }
        op->last_seq = 0;
        op->published = 0;
    }
}

int store_exec(store_t *s, store_op_t *op)
{
    conn_t *c = &s->writer;
    op->next__ = NULL;
    if (exec_sql(c, "BEGIN IMMEDIATE") != KW_OK) {
        op_fail(op, KW_ERROR, sqlite3_errmsg(c->db));
        return op->rc;
    }
    op_run_savepoint(s, c, op);
    if (exec_sql(c, "COMMIT") != KW_OK) {
        exec_sql(c, "ROLLBACK");
        batch_fail(op, "commit failed");
    }
    after_commit(s, c, op);
    return op->rc;
}

/* ---- the writer thread ---- */

static void *writer_main(void *arg)
{
    store_t *s = arg;
    conn_t *c = &s->writer;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        while (s->queue_head == NULL && !s->stopping) pthread_cond_wait(&s->cond, &s->lock);
        if (s->queue_head == NULL && s->stopping) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        store_op_t *batch = s->queue_head, *last = batch;
        size_t n = 1;
        while (last->next__ && n < WRITER_BATCH_MAX) last = last->next__, n++;
        s->queue_head = last->next__;
        if (s->queue_head == NULL) s->queue_tail = NULL;
        last->next__ = NULL;
        s->queue_len -= n;
        pthread_mutex_unlock(&s->lock);

        if (exec_sql(c, "BEGIN IMMEDIATE") != KW_OK) {
            batch_fail(batch, "the store is busy or failing");
        } else {
            for (store_op_t *op = batch; op; op = op->next__) op_run_savepoint(s, c, op);
            if (exec_sql(c, "COMMIT") != KW_OK) {
                exec_sql(c, "ROLLBACK");
                batch_fail(batch, "commit failed");
            }
            after_commit(s, c, batch);
        }

        pthread_mutex_lock(&s->lock);
        s->stats.write_batches++;
        s->stats.write_ops += n;
        if (n > s->stats.write_batch_max) s->stats.write_batch_max = n;
        if (s->done_tail)
            s->done_tail->next__ = batch;
        else
            s->done_head = batch;
        s->done_tail = last;
        pthread_mutex_unlock(&s->lock);
        uv_async_send(&s->async);
    }
    return NULL;
}

/* On the loop: hands committed ops back to their owners, in order. */
static void deliver_done(store_t *s)
{
    pthread_mutex_lock(&s->lock);
    store_op_t *op = s->done_head;
    s->done_head = s->done_tail = NULL;
    pthread_mutex_unlock(&s->lock);
    while (op) {
        store_op_t *next = op->next__;
        op->next__ = NULL;
        if (op->done) op->done(op);
        op = next;
    }
}

static void on_async(uv_async_t *h)
{
    deliver_done(h->data);
}

int store_writer_start(store_t *s, uv_loop_t *loop)
{
    if (uv_async_init(loop, &s->async, on_async) != 0) return KW_ERROR;
    s->async.data = s;
    s->stopping = 0;
    if (pthread_create(&s->thread, NULL, writer_main, s) != 0) {
        uv_close((uv_handle_t *)&s->async, NULL);
        return KW_ERROR;
    }
    s->running = 1;
    return KW_OK;
}

void store_writer_stop(store_t *s)
{
    if (!s->running) return;
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->running = 0;
    deliver_done(s);
    uv_close((uv_handle_t *)&s->async, NULL);
}

void store_submit(store_t *s, store_op_t *op)
{
    op->next__ = NULL;
    pthread_mutex_lock(&s->lock);
    if (s->queue_tail)
        s->queue_tail->next__ = op;
    else
        s->queue_head = op;
    s->queue_tail = op;
    s->queue_len++;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

/* ---- reads ---- */

int store_principal_by_token(store_t *s, const char *token_hash, core_principal_t *out)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_TOKEN_PRINCIPAL);
    bind_text(st, 1, token_hash);
    int rc = KW_NOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        snprintf(out->user_id, sizeof(out->user_id), "%s", col_text(st, 0));
        if (core_role_parse(col_text(st, 1), &out->role) != KW_OK) out->role = ROLE_NONE;
        snprintf(out->issuer_id, sizeof(out->issuer_id), "%s", col_text(st, 2));
        snprintf(out->name, sizeof(out->name), "%s", col_text(st, 3));
        if (out->role == ROLE_SUBSCRIBER)
            snprintf(out->subscriber_id, sizeof(out->subscriber_id), "%s", col_text(st, 4));
        rc = KW_OK;
    }
    sqlite3_reset(st);
    return rc;
}

int store_release_get(store_t *s, const char *id, core_release_t **out)
{
    return load_release(&s->reader, id, out);
}

int store_release_list(store_t *s, const store_query_t *q, core_release_t ***out, size_t *n,
                       int64_t *next_cursor)
{
    kw_buf_t sql = {0};
    size_t limit = q->limit ? q->limit : 20;
    kw_buf_puts(&sql, "SELECT " REL_COLS REL_FROM "WHERE 1");
    if (q->scope == STORE_SCOPE_PUBLIC) {
        kw_buf_puts(&sql, " AND r.state IN ('published', 'corrected') AND r.publish_seq IS NOT "
                          "NULL AND (?1 = 0 OR r.publish_seq < ?1)");
        /* A caller may narrow the public list to one of its states. */
        if (q->states_mask) {
            kw_buf_puts(&sql, " AND r.state IN (''");
            for (int i = 0; i < REL_STATE_COUNT_; i++)
                if (q->states_mask & (1u << i)) kw_buf_printf(&sql, ", '%s'", core_state_name(i));
            kw_buf_puts(&sql, ")");
        }
    } else {
        kw_buf_puts(&sql, " AND r.state IN (''");
        for (int i = 0; i < REL_STATE_COUNT_; i++)
            if (q->states_mask & (1u << i)) kw_buf_printf(&sql, ", '%s'", core_state_name(i));
        /* An issuer's own list counts its cursor in the issuer's own
         * releases: rowids number everyone's, so their gaps would tell
         * how many releases others created in between. */
        if (q->issuer_id)
            kw_buf_puts(&sql, ") AND (?1 = 0 OR r.rowid < (SELECT x.rowid FROM releases x WHERE "
                              "x.issuer_id = ?6 ORDER BY x.rowid LIMIT 1 OFFSET ?1 - 1))");
        else
            kw_buf_puts(&sql, ") AND (?1 = 0 OR r.rowid < ?1)");
    }
    if (q->language) kw_buf_puts(&sql, " AND r.language = ?2");
    if (q->sector)
        kw_buf_puts(&sql, " AND EXISTS (SELECT 1 FROM release_sectors x WHERE x.slug = ?3 AND "
                          "x.release_id = r.id)");
    if (q->region)
        kw_buf_puts(&sql, " AND EXISTS (SELECT 1 FROM release_regions x WHERE x.code = ?4 AND "
                          "x.release_id = r.id)");
    if (q->issuer) kw_buf_puts(&sql, " AND (i.id = ?5 OR i.slug = ?5)");
    if (q->issuer_id) kw_buf_puts(&sql, " AND r.issuer_id = ?6");
    if (q->published_from) kw_buf_puts(&sql, " AND r.published_at >= ?7");
    if (q->published_until) kw_buf_puts(&sql, " AND r.published_at < ?8");
    kw_buf_puts(&sql, q->scope == STORE_SCOPE_PUBLIC ? " ORDER BY r.publish_seq DESC"
                                                     : " ORDER BY r.rowid DESC");
    kw_buf_printf(&sql, " LIMIT %zu", limit + 1);

    sqlite3_stmt *st = NULL;
    /* Filter combinations vary, so this one is prepared per call; lists are
     * cached by the pages above. */
    if (sqlite3_prepare_v2(s->reader.db, sql.data, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "kawat: store: list: %s\n", sqlite3_errmsg(s->reader.db));
        kw_buf_free(&sql);
        return KW_ERROR;
    }
    kw_buf_free(&sql);
    sqlite3_bind_int64(st, 1, q->cursor);
    if (q->language) bind_text(st, 2, q->language);
    if (q->sector) bind_text(st, 3, q->sector);
    if (q->region) bind_text(st, 4, q->region);
    if (q->issuer) bind_text(st, 5, q->issuer);
    if (q->issuer_id) bind_text(st, 6, q->issuer_id);
    if (q->published_from) sqlite3_bind_int64(st, 7, q->published_from);
    if (q->published_until) sqlite3_bind_int64(st, 8, q->published_until);

    core_release_t **items = kw_calloc(limit + 1, sizeof(*items));
    size_t count = 0;
    int64_t last_key = 0;
    *next_cursor = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == limit) {
            *next_cursor = last_key;
            break;
        }
        int64_t rowid;
        items[count] = row_release(st, 0, &rowid);
        last_key = q->scope == STORE_SCOPE_PUBLIC ? items[count]->publish_seq : rowid;
        count++;
    }
    sqlite3_finalize(st);
    if (*next_cursor && q->scope != STORE_SCOPE_PUBLIC && q->issuer_id) {
        /* The position of the last item among the issuer's own releases
         * (they are never deleted, so it stays put). */
        st = stmt(&s->reader, ST_ISSUER_POSITION);
        bind_text(st, 1, q->issuer_id);
        sqlite3_bind_int64(st, 2, last_key);
        *next_cursor = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        sqlite3_reset(st);
    }
    *out = items;
    *n = count;
    return KW_OK;
}

json_t *store_public_days(store_t *s, const char *language, int64_t from_ms, int64_t until_ms)
{
    json_t *arr = json_array();
    /* Days are UTC: published_at / 86400000 is the day number. */
    sqlite3_stmt *st = NULL;
    const char *sql = "SELECT published_at / 86400000 AS d, count(*), "
                      "max(CASE WHEN state = 'corrected' AND updated_at > published_at "
                      "THEN updated_at ELSE published_at END) FROM releases "
                      "WHERE publish_seq IS NOT NULL AND state IN ('published', 'corrected') "
                      "AND (?1 IS NULL OR language = ?1) AND (?2 = 0 OR published_at >= ?2) "
                      "AND (?3 = 0 OR published_at < ?3) GROUP BY d ORDER BY d DESC";
    if (sqlite3_prepare_v2(s->reader.db, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "kawat: store: days: %s\n", sqlite3_errmsg(s->reader.db));
        return arr;
    }
    if (language) bind_text(st, 1, language);
    sqlite3_bind_int64(st, 2, from_ms);
    sqlite3_bind_int64(st, 3, until_ms);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:I, s:I, s:I}", "day_ms",
                                             (json_int_t)(sqlite3_column_int64(st, 0) * 86400000),
                                             "count", (json_int_t)sqlite3_column_int64(st, 1),
                                             "modified_ms",
                                             (json_int_t)sqlite3_column_int64(st, 2)));
    sqlite3_finalize(st);
    return arr;
}

json_t *store_translations(store_t *s, const char *group, const char *except_id)
{
    json_t *arr = json_array();
    if (group == NULL) return arr;
    sqlite3_stmt *st = stmt(&s->reader, ST_TRANSLATIONS);
    bind_text(st, 1, group);
    bind_text(st, 2, except_id);
    while (sqlite3_step(st) == SQLITE_ROW)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "language", col_text(st, 0), "id",
                                             col_text(st, 1)));
    sqlite3_reset(st);
    return arr;
}

json_t *store_release_versions(store_t *s, const char *id)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = stmt(&s->reader, ST_VERSIONS_GET);
    bind_text(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_loads(col_text(st, 3), 0, NULL);
        if (o == NULL) o = json_object();
        json_object_set_new(o, "version", json_integer(sqlite3_column_int(st, 0)));
        json_object_set_new(o, "at_ms", json_integer(sqlite3_column_int64(st, 1)));
        json_object_set_new(o, "note", col_text(st, 2) ? json_string(col_text(st, 2)) : json_null());
        json_array_append_new(arr, o);
    }
    sqlite3_reset(st);
    return arr;
}

int store_wire_read(store_t *s, int64_t after, size_t limit, store_event_t **out, size_t *n)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_WIRE_READ);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    store_event_t *ev = kw_calloc(limit ? limit : 1, sizeof(*ev));
    size_t count = 0;
    int rc;
    while (count < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        ev[count].seq = sqlite3_column_int64(st, 0);
        snprintf(ev[count].kind, sizeof(ev[count].kind), "%s", col_text(st, 1));
        ev[count].at = sqlite3_column_int64(st, 2);
        ev[count].version = sqlite3_column_int(st, 3);
        ev[count].release = row_release(st, 4, NULL);
        count++;
    }
    sqlite3_reset(st);
    *out = ev;
    *n = count;
    return KW_OK;
}

void store_events_free(store_event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) core_release_free(ev[i].release);
    free(ev);
}

int64_t store_wire_last_seq(store_t *s)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_WIRE_LAST);
    int64_t seq = 0;
    if (sqlite3_step(st) == SQLITE_ROW) seq = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return seq;
}

int64_t store_next_due(store_t *s)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_NEXT_DUE);
    int64_t due = 0;
    if (sqlite3_step(st) == SQLITE_ROW) due = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return due;
}

json_t *store_sectors(store_t *s)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = stmt(&s->reader, ST_SECTORS_ALL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_pack("{s:s, s:s}", "slug", col_text(st, 0), "name", col_text(st, 1));
        json_object_set_new(o, "media_topic",
                            col_text(st, 2) ? json_string(col_text(st, 2)) : json_null());
        json_array_append_new(arr, o);
    }
    sqlite3_reset(st);
    return arr;
}

const char *store_sector_resolve(void *store, const char *name_or_slug)
{
    store_t *s = store;
    const char *found = NULL;
    char *slug = core_sector_slugify((kw_str_t){name_or_slug, strlen(name_or_slug)});
    pthread_mutex_lock(&s->sectors_lock);
    for (size_t i = 0; i < s->nsectors && !found; i++) {
        if (strcmp(s->sectors[i].slug, name_or_slug) == 0 ||
            strcasecmp(s->sectors[i].name, name_or_slug) == 0 ||
            (slug && strcmp(s->sectors[i].slug, slug) == 0))
            found = s->sectors[i].slug;
    }
    pthread_mutex_unlock(&s->sectors_lock);
    free(slug);
    return found;
}

json_t *store_issuer_get(store_t *s, const char *id_or_slug)
{
    return issuer_row(&s->reader, id_or_slug);
}

/* ---- subscribers (reads) ---- */

int store_subscriber_get(store_t *s, const char *id, store_subscriber_t **out)
{
    return load_subscriber(&s->reader, id, out);
}

int store_subscribers_each(store_t *s, store_subscriber_fn fn, void *arg)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_SUBSCRIBERS_ALL);
    int rc, result = KW_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        /* One subscriber on the stack, its strings borrowed from the row:
         * only the filters are allocated per row. */
        store_subscriber_t sub = {0};
        sub.num = (uint32_t)sqlite3_column_int64(st, 0);
        snprintf(sub.id, sizeof(sub.id), "%s", col_text(st, 1));
        snprintf(sub.kind, sizeof(sub.kind), "%s", col_text(st, 2));
        sub.name = (char *)col_text(st, 3);
        sub.email = (char *)col_text(st, 4);
        sub.trusted = sqlite3_column_int(st, 5) != 0;
        sub.filters = col_json(st, 6);
        snprintf(sub.user_id, sizeof(sub.user_id), "%s", col_text(st, 7));
        sub.created_at = sqlite3_column_int64(st, 8);
        sub.updated_at = sqlite3_column_int64(st, 9);
        result = fn(&sub, arg);
        json_decref(sub.filters);
        if (result != KW_OK) break;
    }
    if (result == KW_OK && rc != SQLITE_DONE) result = KW_ERROR;
    sqlite3_reset(st);
    return result;
}

int store_subscriber_list(store_t *s, const char *kind, int64_t cursor, size_t limit,
                          store_subscriber_t ***out, size_t *n, int64_t *next_cursor)
{
    if (limit == 0) limit = 20;
    sqlite3_stmt *st = stmt(&s->reader, ST_SUBSCRIBERS_PAGE);
    bind_text(st, 1, kind);
    sqlite3_bind_int64(st, 2, cursor);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit + 1);
    store_subscriber_t **items = kw_calloc(limit + 1, sizeof(*items));
    size_t count = 0;
    int rc;
    *next_cursor = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == limit) {
            *next_cursor = items[count - 1]->num;
            break;
        }
        items[count++] = row_subscriber(st);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (size_t i = 0; i < count; i++) store_subscriber_free(items[i]);
        free(items);
        *out = NULL;
        *n = 0;
        return KW_ERROR;
    }
    *out = items;
    *n = count;
    return KW_OK;
}

/* ---- WebSub subscriptions (reads) ---- */

int store_websub_each(store_t *s, store_websub_fn fn, void *arg)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_WEBSUB_ALL);
    int rc, result = KW_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_websub_t sub = {
            .callback = col_text(st, 0),
            .topic = col_text(st, 1),
            .secret = col_text(st, 2),
            .lease_until = sqlite3_column_int64(st, 3),
            .created_at = sqlite3_column_int64(st, 4),
        };
        if (sub.callback == NULL || sub.topic == NULL) continue;
        result = fn(&sub, arg);
        if (result != KW_OK) break;
    }
    if (result == KW_OK && rc != SQLITE_DONE) result = KW_ERROR;
    sqlite3_reset(st);
    return result;
}

void store_get_stats(store_t *s, store_stats_t *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    out->queue_depth = s->queue_len;
    pthread_mutex_unlock(&s->lock);
    out->wire_last_seq = store_wire_last_seq(s);
}

int store_meta_get(store_t *s, const char *key, char *out, size_t size)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_META_GET);
    bind_text(st, 1, key);
    int rc = KW_NOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(out, size, "%s", col_text(st, 0));
        rc = KW_OK;
    }
    sqlite3_reset(st);
    return rc;
}

/* Writes through the writer connection: only before the writer thread
 * starts or after it stops. */
int store_meta_set(store_t *s, const char *key, const char *value)
{
    sqlite3_stmt *st = stmt(&s->writer, ST_META_SET);
    bind_text(st, 1, key);
    bind_text(st, 2, value);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? KW_OK : KW_ERROR;
}

/* ---- outlet webhook endpoints and their outbox (reads) ---- */

int store_webhook_get(store_t *s, const char *id, store_webhook_t **out)
{
    return load_webhook(&s->reader, id, out);
}

int store_webhook_list(store_t *s, const char *subscriber_id, int64_t cursor, size_t limit,
                       store_webhook_t ***out, size_t *n, int64_t *next_cursor)
{
    if (limit == 0) limit = 20;
    sqlite3_stmt *st = stmt(&s->reader, ST_WEBHOOKS_PAGE);
    bind_text(st, 1, subscriber_id);
    sqlite3_bind_int64(st, 2, cursor);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit + 1);
    store_webhook_t **items = kw_calloc(limit + 1, sizeof(*items));
    size_t count = 0;
    int64_t last_rowid = 0;
    int rc;
    *next_cursor = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == limit) {
            *next_cursor = last_rowid;
            break;
        }
        items[count++] = row_webhook(st);
        last_rowid = sqlite3_column_int64(st, 12);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        for (size_t i = 0; i < count; i++) store_webhook_free(items[i]);
        free(items);
        *out = NULL;
        *n = 0;
        return KW_ERROR;
    }
    *out = items;
    *n = count;
    return KW_OK;
}

int store_webhooks_each(store_t *s, store_webhook_fn fn, void *arg)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_WEBHOOKS_ALL);
    int rc, result = KW_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_webhook_t *w = row_webhook(st);
        result = fn(w, arg);
        store_webhook_free(w);
        if (result != KW_OK) break;
    }
    if (result == KW_OK && rc != SQLITE_DONE) result = KW_ERROR;
    sqlite3_reset(st);
    return result;
}

int store_webhook_next(store_t *s, const char *endpoint_id, int64_t after,
                       store_webhook_delivery_t *out)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_WEBHOOK_NEXT);
    bind_text(st, 1, endpoint_id);
    sqlite3_bind_int64(st, 2, after);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        out->seq = sqlite3_column_int64(st, 0);
        snprintf(out->kind, sizeof(out->kind), "%s", col_text(st, 1));
        snprintf(out->release_id, sizeof(out->release_id), "%s", col_text(st, 2));
        out->attempts = sqlite3_column_int(st, 3);
        out->next_at = sqlite3_column_int64(st, 4);
        out->first_failed_at = sqlite3_column_int64(st, 5);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? KW_OK : rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR;
}

int store_webhook_payload(store_t *s, int64_t seq, const char *format, kw_buf_t *out)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_WEBHOOK_PAYLOAD_GET);
    sqlite3_bind_int64(st, 1, seq);
    bind_text(st, 2, format);
    int rc = KW_NOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        kw_buf_append(out, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
        rc = KW_OK;
    }
    sqlite3_reset(st);
    return rc;
}

/* An RFC 3339 string for ms, or null for 0. */
static json_t *json_time_or_null(int64_t ms)
{
    if (ms == 0) return json_null();
    char buf[40];
    core_time_format_rfc3339(ms, buf, sizeof(buf));
    return json_string(buf);
}

json_t *store_webhook_deliveries(store_t *s, const char *endpoint_id, int64_t cursor,
                                 size_t limit, int64_t *next_cursor)
{
    json_t *items = json_array();
    *next_cursor = 0;
    if (limit == 0) limit = 20;
    sqlite3_stmt *st = stmt(&s->reader, ST_WEBHOOK_LOG_PAGE);
    bind_text(st, 1, endpoint_id);
    sqlite3_bind_int64(st, 2, cursor);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)limit + 1);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(st, 0);
        if (json_array_size(items) == limit) {
            *next_cursor = json_integer_value(
                json_object_get(json_array_get(items, limit - 1), "seq"));
            break;
        }
        char id[80];
        snprintf(id, sizeof(id), "evt_%lld_%s", (long long)seq, endpoint_id);
        const char *state = col_text(st, 3) ? col_text(st, 3) : "pending";
        int pending = strcmp(state, "pending") == 0;
        json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:i}", "id", id, "seq", (json_int_t)seq,
                              "kind", col_text(st, 1) ? col_text(st, 1) : "", "release_id",
                              col_text(st, 2) ? col_text(st, 2) : "", "state", state, "attempts",
                              sqlite3_column_int(st, 4));
        json_object_set_new(o, "created_at", json_time_or_null(sqlite3_column_int64(st, 5)));
        json_object_set_new(o, "next_attempt_at",
                            pending ? json_time_or_null(sqlite3_column_int64(st, 6)) : json_null());
        json_object_set_new(o, "delivered_at", json_time_or_null(sqlite3_column_int64(st, 7)));
        json_object_set_new(o, "log", json_array());
        json_array_append_new(items, o);
    }
    sqlite3_reset(st);
    /* The attempts of each delivery on the page (a second statement: the
     * first is done with). */
    size_t i;
    json_t *o;
    json_array_foreach(items, i, o)
    {
        json_t *log = json_object_get(o, "log");
        st = stmt(&s->reader, ST_WEBHOOK_LOG_ATTEMPTS);
        bind_text(st, 1, endpoint_id);
        sqlite3_bind_int64(st, 2, json_integer_value(json_object_get(o, "seq")));
        while (sqlite3_step(st) == SQLITE_ROW) {
            json_t *a = json_pack("{s:i}", "attempt", sqlite3_column_int(st, 0));
            json_object_set_new(a, "at", json_time_or_null(sqlite3_column_int64(st, 1)));
            json_object_set_new(a, "status", sqlite3_column_type(st, 2) == SQLITE_NULL
                                                 ? json_null()
                                                 : json_integer(sqlite3_column_int(st, 2)));
            json_object_set_new(a, "error",
                                col_text(st, 3) ? json_string(col_text(st, 3)) : json_null());
            json_object_set_new(a, "elapsed_ms", json_integer(sqlite3_column_int64(st, 4)));
            json_array_append_new(log, a);
        }
        sqlite3_reset(st);
    }
    return items;
}

int64_t store_webhook_pending_total(store_t *s)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_WEBHOOK_PENDING_ALL);
    int64_t n = 0;
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}

/* ---- distribution reports (reads) ---- */

json_t *store_report_counts(store_t *s, const char *release_id)
{
    json_t *out = json_array();
    sqlite3_stmt *st = stmt(&s->reader, ST_REPORT_COUNTS);
    bind_text(st, 1, release_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_array_append_new(
            out, json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:I}", "channel",
                           col_text(st, 0) ? col_text(st, 0) : "", "minute",
                           (json_int_t)sqlite3_column_int64(st, 1), "language",
                           col_text(st, 2) ? col_text(st, 2) : "", "country",
                           col_text(st, 3) ? col_text(st, 3) : "", "matched",
                           (json_int_t)sqlite3_column_int64(st, 4), "delivered",
                           (json_int_t)sqlite3_column_int64(st, 5), "failed",
                           (json_int_t)sqlite3_column_int64(st, 6), "failed_attempts",
                           (json_int_t)sqlite3_column_int64(st, 7)));
    }
    sqlite3_reset(st);
    return out;
}

json_t *store_report_webhooks(store_t *s, const char *release_id)
{
    json_t *out = json_array();
    sqlite3_stmt *st = stmt(&s->reader, ST_REPORT_WEBHOOKS);
    bind_text(st, 1, release_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_pack("{s:o, s:b, s:I, s:I, s:I}", "filters", col_json(st, 0),
                              "delivered", sqlite3_column_int(st, 1), "deliveries",
                              (json_int_t)sqlite3_column_int64(st, 3), "attempted",
                              (json_int_t)sqlite3_column_int64(st, 4), "failed_attempts",
                              (json_int_t)sqlite3_column_int64(st, 5));
        json_object_set_new(o, "minute", sqlite3_column_type(st, 2) == SQLITE_NULL
                                             ? json_null()
                                             : json_integer(sqlite3_column_int64(st, 2)));
        json_array_append_new(out, o);
    }
    sqlite3_reset(st);
    return out;
}

/* ---- e-mail alerts (reads) ---- */

/* Fills r from a ST_MAIL_RECIPIENTS_ALL / _GET row, borrowing the email
 * from the row; the filters are parsed (the caller decrefs them). */
static void row_mail_recipient(sqlite3_stmt *st, store_mail_recipient_t *r)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->subscriber_id, sizeof(r->subscriber_id), "%s", col_text(st, 0));
    r->num = (uint32_t)sqlite3_column_int64(st, 1);
    r->email = (char *)col_text(st, 2);
    snprintf(r->language, sizeof(r->language), "%s", col_text(st, 3));
    snprintf(r->timing, sizeof(r->timing), "%s", col_text(st, 4));
    snprintf(r->state, sizeof(r->state), "%s", col_text(st, 5));
    r->trusted = sqlite3_column_int(st, 6) != 0;
    r->filters = col_json(st, 7);
    r->after_seq = sqlite3_column_int64(st, 8);
}

int store_mail_recipients_each(store_t *s, store_mail_recipient_fn fn, void *arg)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_MAIL_RECIPIENTS_ALL);
    int rc, result = KW_OK;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_mail_recipient_t r;
        row_mail_recipient(st, &r);
        result = fn(&r, arg);
        json_decref(r.filters);
        if (result != KW_OK) break;
    }
    if (result == KW_OK && rc != SQLITE_DONE) result = KW_ERROR;
    sqlite3_reset(st);
    return result;
}

int store_mail_recipient_get(store_t *s, const char *subscriber_id, store_mail_recipient_t **out)
{
    *out = NULL;
    sqlite3_stmt *st = stmt(&s->reader, ST_MAIL_RECIPIENT_GET);
    bind_text(st, 1, subscriber_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        store_mail_recipient_t *r = kw_malloc(sizeof(*r));
        row_mail_recipient(st, r);
        r->email = kw_strdup(r->email ? r->email : "");
        *out = r;
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? KW_OK : rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR;
}

void store_mail_recipient_free(store_mail_recipient_t *r)
{
    if (r == NULL) return;
    free(r->email);
    json_decref(r->filters);
    free(r);
}

int store_mail_due(store_t *s, int64_t now, int64_t after_next_at, int64_t after_rowid,
                   size_t limit, store_mail_t **out, size_t *n)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_MAIL_DUE);
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    sqlite3_bind_int64(st, 3, after_next_at);
    sqlite3_bind_int64(st, 4, after_rowid);
    store_mail_t *m = kw_calloc(limit ? limit : 1, sizeof(*m));
    size_t count = 0;
    int rc = SQLITE_DONE;
    while (count < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        store_mail_t *x = &m[count++];
        x->rowid = sqlite3_column_int64(st, 0);
        snprintf(x->id, sizeof(x->id), "%s", col_text(st, 1));
        snprintf(x->kind, sizeof(x->kind), "%s", col_text(st, 2));
        snprintf(x->subscriber_id, sizeof(x->subscriber_id), "%s", col_text(st, 3));
        x->email = col_dup(st, 4);
        snprintf(x->language, sizeof(x->language), "%s", col_text(st, 5));
        x->ref = col_dup(st, 6);
        x->seq = sqlite3_column_int64(st, 7);
        x->attempts = sqlite3_column_int(st, 8);
        x->next_at = sqlite3_column_int64(st, 9);
        x->created_at = sqlite3_column_int64(st, 10);
    }
    if (count < limit && rc != SQLITE_DONE) {
        sqlite3_reset(st);
        store_mail_free(m, count);
        *out = NULL;
        *n = 0;
        return KW_ERROR;
    }
    sqlite3_reset(st);
    *out = m;
    *n = count;
    return KW_OK;
}

void store_mail_free(store_mail_t *m, size_t n)
{
    if (m == NULL) return;
    for (size_t i = 0; i < n; i++) {
        free(m[i].email);
        free(m[i].ref);
    }
    free(m);
}

int64_t store_mail_next_at(store_t *s)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_MAIL_NEXT_AT);
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return v;
}

void store_mail_stats(store_t *s, store_mail_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st = stmt(&s->reader, ST_MAIL_PENDING);
    if (sqlite3_step(st) == SQLITE_ROW) out->pending = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    st = stmt(&s->reader, ST_MAIL_RECIPIENT_COUNTS);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *state = col_text(st, 0);
        int64_t count = sqlite3_column_int64(st, 1);
        if (strcmp(state, "active") == 0) out->recipients_active = count;
        else if (strcmp(state, "unsubscribed") == 0) out->recipients_unsubscribed = count;
        else if (strcmp(state, "bounced") == 0) out->recipients_bounced = count;
    }
    sqlite3_reset(st);
}

/* ---- people: sessions, accounts, reset and invitation links (reads) ---- */

int store_session_get(store_t *s, const char *id_hash, int64_t now_ms, store_session_t *out)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_SESSION_GET);
    bind_text(st, 1, id_hash);
    sqlite3_bind_int64(st, 2, now_ms - STORE_SESSION_IDLE_MS);
    sqlite3_bind_int64(st, 3, now_ms - STORE_SESSION_MAX_MS);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR;
    }
    memset(out, 0, sizeof(*out));
    snprintf(out->who.user_id, sizeof(out->who.user_id), "%s", col_text(st, 0));
    snprintf(out->csrf, sizeof(out->csrf), "%s", col_text(st, 1));
    out->created_at = sqlite3_column_int64(st, 2);
    out->last_seen = sqlite3_column_int64(st, 3);
    if (core_role_parse(col_text(st, 4), &out->who.role) != KW_OK) out->who.role = ROLE_NONE;
    if (out->who.role == ROLE_ISSUER)
        snprintf(out->who.issuer_id, sizeof(out->who.issuer_id), "%s", col_text(st, 5));
    snprintf(out->who.name, sizeof(out->who.name), "%s", col_text(st, 6));
    snprintf(out->email, sizeof(out->email), "%s", col_text(st, 7));
    snprintf(out->issuer_name, sizeof(out->issuer_name), "%s", col_text(st, 8));
    if (out->who.role == ROLE_SUBSCRIBER)
        snprintf(out->who.subscriber_id, sizeof(out->who.subscriber_id), "%s", col_text(st, 9));
    sqlite3_reset(st);
    return KW_OK;
}

int store_account_by_email(store_t *s, const char *email, store_account_t *out)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_ACCOUNT_BY_EMAIL);
    bind_text(st, 1, email);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR;
    }
    memset(out, 0, sizeof(*out));
    snprintf(out->user_id, sizeof(out->user_id), "%s", col_text(st, 0));
    if (core_role_parse(col_text(st, 1), &out->role) != KW_OK) out->role = ROLE_NONE;
    snprintf(out->password_hash, sizeof(out->password_hash), "%s", col_text(st, 2));
    snprintf(out->name, sizeof(out->name), "%s", col_text(st, 3));
    snprintf(out->email, sizeof(out->email), "%s", col_text(st, 4));
    sqlite3_reset(st);
    return KW_OK;
}

int64_t store_login_failures(store_t *s, const char *key, int64_t since_ms)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_LOGIN_FAILURES_COUNT);
    bind_text(st, 1, key);
    sqlite3_bind_int64(st, 2, since_ms);
    int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return n;
}

int store_account_link_get(store_t *s, int invite, const char *hash, store_account_link_t *out)
{
    sqlite3_stmt *st = stmt(&s->reader, invite ? ST_INVITE_GET : ST_RESET_GET);
    bind_text(st, 1, hash);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? KW_NOTFOUND : KW_ERROR;
    }
    memset(out, 0, sizeof(*out));
    snprintf(out->user_id, sizeof(out->user_id), "%s", col_text(st, 0));
    out->expires_at = sqlite3_column_int64(st, 1);
    out->used = sqlite3_column_int(st, 2);
    snprintf(out->email, sizeof(out->email), "%s", col_text(st, 3));
    snprintf(out->name, sizeof(out->name), "%s", col_text(st, 4));
    if (core_role_parse(col_text(st, 5), &out->role) != KW_OK) out->role = ROLE_NONE;
    snprintf(out->issuer_name, sizeof(out->issuer_name), "%s", col_text(st, 6));
    sqlite3_reset(st);
    return KW_OK;
}

json_t *store_invites_recent(store_t *s, size_t limit)
{
    sqlite3_stmt *st = stmt(&s->reader, ST_INVITES_RECENT);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
    json_t *arr = json_array();
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I}", "email", col_text(st, 0), "role",
                              col_text(st, 1), "issuer", col_text(st, 2), "created_at",
                              (json_int_t)sqlite3_column_int64(st, 3), "expires_at",
                              (json_int_t)sqlite3_column_int64(st, 4));
        json_object_set_new(o, "accepted_at",
                            sqlite3_column_type(st, 5) == SQLITE_NULL
                                ? json_null()
                                : json_integer(sqlite3_column_int64(st, 5)));
        json_array_append_new(arr, o);
    }
    sqlite3_reset(st);
    return arr;
}
