/* api_signups.c -- POST /v1/signups: a journalist asks for e-mail alerts
 * on their beats; a confirmation mail with a signed link follows (double
 * opt-in). The /signup page (web_signup.c) goes through the same checks.
 *
 * Design note: what an anonymous sign-up may cost.
 * A sign-up is open to anyone and only ever sends one confirmation mail to
 * the address given, so it needs no CSRF token; what it needs is a bound
 * on how often: at most STORE_MAIL_SIGNUPS_PER_HOUR per address (checked
 * by the writer, so it holds across restarts) and a token bucket per
 * client address here (SIGNUP_BURST at once, one more per
 * SIGNUP_REFILL_MS). Nothing is subscribed before the link is opened. */
#include "api/api.h"
#include "core/core_lang.h"
#include "core/core_time.h"
#include "deliver/mail.h"
#include "match/match.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIGNUP_SLOTS 1024
#define SIGNUP_BURST 20
#define SIGNUP_REFILL_MS 30000

static struct {
    uint64_t hash;
    int64_t tokens_at; /* when the bucket was full (or will be) */
} buckets[SIGNUP_SLOTS];

/* Whether the client at ip may sign up now (takes one token). Buckets are
 * slots of a small table keyed by a hash of the address: a collision
 * shares a bucket, which errs on the strict side. */
int api_signup_rate_ok(const char *ip)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = ip; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    size_t i = h % SIGNUP_SLOTS;
    int64_t now = kw_now_ms(), window = (int64_t)SIGNUP_BURST * SIGNUP_REFILL_MS;
    if (buckets[i].hash != h || buckets[i].tokens_at < now - window) {
        buckets[i].hash = h;
        buckets[i].tokens_at = now - window; /* full */
    }
    if (buckets[i].tokens_at + SIGNUP_REFILL_MS > now) return 0;
    buckets[i].tokens_at += SIGNUP_REFILL_MS;
    return 1;
}

static int has_control(const char *z)
{
    for (const unsigned char *p = (const unsigned char *)z; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 1;
    return 0;
}

/* The practical address check of api_subscribers.c, and the domain in
 * lower case (one address, one recipient). NULL if not an address. */
static char *email_canonical(const char *z, size_t n)
{
    if (n < 5 || n > STORE_SUBSCRIBER_EMAIL_MAX || strlen(z) != n) return NULL;
    const char *at = strchr(z, '@');
    if (at == NULL || at == z || strchr(at + 1, '@')) return NULL;
    const char *domain = at + 1;
    const char *dot = strchr(domain, '.');
    if (dot == NULL || dot == domain || domain[strlen(domain) - 1] == '.') return NULL;
    for (const unsigned char *p = (const unsigned char *)z; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\\\"", *p)) return NULL;
    char *out = kw_strdup(z);
    for (char *p = out + (domain - z); *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return out;
}

json_t *api_signup_input(kawat_app_t *app, json_t *in, core_errors_t *errs)
{
    if (!json_is_object(in)) {
        core_errors_add(errs, "body", "must be a JSON object");
        return NULL;
    }
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
    {
        if (strcmp(key, "email") == 0) {
            char *e = json_is_string(v)
                          ? email_canonical(json_string_value(v), json_string_length(v))
                          : NULL;
            if (e == NULL)
                core_errors_add(errs, "email",
                                "must be an e-mail address like "
                                "\"desk@example.com\"");
            else
                json_object_set_new(out, "email", json_string(e));
            free(e);
        } else if (strcmp(key, "name") == 0) {
            const char *z = json_string_value(v);
            size_t n = json_string_length(v);
            if (json_is_null(v)) continue;
            if (z == NULL || n == 0 || n > STORE_SUBSCRIBER_NAME_MAX || strlen(z) != n ||
                has_control(z))
                core_errors_add(errs, "name",
                                "must be a string of 1 to %d bytes without control characters",
                                STORE_SUBSCRIBER_NAME_MAX);
            else
                json_object_set(out, "name", v);
        } else if (strcmp(key, "language") == 0) {
            const core_lang_t *l =
                json_is_string(v) ? core_lang_find_z(json_string_value(v)) : NULL;
            if (l == NULL)
                core_errors_add(errs, "language",
                                "must be a language of the wire (GET "
                                "/v1/languages)");
            else
                json_object_set_new(out, "language", json_string(l->tag));
        } else if (strcmp(key, "timing") == 0) {
            const char *t = json_string_value(v);
            if (t == NULL || (strcmp(t, "immediate") && strcmp(t, "hourly") && strcmp(t, "daily")))
                core_errors_add(errs, "timing", "must be \"immediate\", \"hourly\" or \"daily\"");
            else
                json_object_set(out, "timing", v);
        } else if (strcmp(key, "beats") == 0) {
            json_t *canon = api_filters_canon(app, v, "beats", errs);
            if (canon) json_object_set_new(out, "filters", canon);
        } else {
            char field[64];
            snprintf(field, sizeof(field), "%.60s", key);
            core_errors_add(errs, field, "unknown field");
        }
    }
    static const char *const required[] = {"email", "language", "beats", "timing"};
    for (size_t i = 0; i < KW_ARRAY_SIZE(required); i++)
        if (json_object_get(in, required[i]) == NULL)
            core_errors_add(errs, required[i], "is required");
    if (errs->count) {
        json_decref(out);
        return NULL;
    }
    return out;
}

void api_signup_submit(kawat_app_t *app, json_t *input, const char *ip, store_done_fn done,
                       void *arg)
{
    store_op_t *op = store_op_new(STORE_OP_MAIL_SIGNUP, done, arg);
    json_object_set_new(input, "ip", json_string(ip));
    json_object_set_new(input, "expires_at", json_integer(kw_now_ms() + MAIL_CONFIRM_TTL_MS));
    op->input = input;
    store_submit(app->store, op);
}

static void on_signed_up(store_op_t *op)
{
    net_request_t *req = op->arg;
    kawat_app_t *app = req->user;
    if (op->rc == KW_OK) {
        api_after_write(app, op); /* the engine sends the confirmation */
        char expires[CORE_TIME_BUF_SIZE];
        core_time_format_rfc3339(json_integer_value(json_object_get(op->input, "expires_at")),
                                 expires, sizeof(expires));
        api_json(req, 202,
                 json_pack("{s:s, s:O, s:s}", "status", "pending", "email",
                           json_object_get(op->input, "email"), "confirm_before", expires),
                 "Cache-Control: no-store\r\n");
    } else if (op->rc == KW_CONFLICT) {
        api_problem(req, 429, "too-many-requests", "Too many sign-ups", op->message, NULL);
    } else {
        api_store_failed(req, op->message);
    }
    store_op_free(op);
}

void api_signups_create(kawat_app_t *app, net_request_t *req)
{
    if (!mail_enabled(app)) {
        api_problem(req, 503, "unavailable", "E-mail alerts are off",
                    "This wire sends no mail (no --smtp).", NULL);
        return;
    }
    if (!api_signup_rate_ok(req->remote_addr)) {
        api_problem(req, 429, "too-many-requests", "Too many sign-ups",
                    "Too many sign-ups from this address; try again in a minute.", NULL);
        return;
    }
    json_t *in;
    if (api_body_json(req, &in, 0) != KW_OK) return;
    core_errors_t errs = {0};
    json_t *input = api_signup_input(app, in, &errs);
    json_decref(in);
    if (input == NULL) {
        char detail[300];
        snprintf(detail, sizeof(detail), "%s: %s", errs.items[0].field, errs.items[0].detail);
        api_problem(req, 422, "validation", "Invalid sign-up", detail, &errs);
        return;
    }
    api_signup_submit(app, input, req->remote_addr, on_signed_up, req);
}
