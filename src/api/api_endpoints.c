/* api_endpoints.c -- /v1/endpoints: an outlet registers the URLs it wants
 * wire events POSTed to (deliver/webhook.h does the delivering), reads the
 * delivery log of each, changes, deletes and resumes them.
 *
 * Design note: who sees an endpoint.
 * An endpoint is its outlet's and the editors'. Anyone else naming its id
 * gets the same 404 bytes as for an id that never existed. The secret is
 * shown once, in the answer to the POST that made it (given or generated),
 * and never again. A URL is checked when given: malformed, or an address
 * literal the SSRF rules refuse (loopback, private, link-local unless
 * --webhook-allow covers it), is a 422 naming "url"; a host name is judged
 * when connecting, for every address it resolves to. */
#include "api/api.h"
#include "deliver/webhook.h"
#include "match/match.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pending write: the request and, for a create, the secret to show. */
typedef struct {
    net_request_t *req;
    char secret[WEBHOOK_SECRET_SIZE];
} pending_t;

static int is_staff(const core_principal_t *who)
{
    return who->role == ROLE_EDITOR || who->role == ROLE_ADMIN;
}

/* Whether who may name endpoints at all (the owner is checked on the row). */
static int may_ask(const core_principal_t *who)
{
    return is_staff(who) || (who->role == ROLE_SUBSCRIBER && who->subscriber_id[0]);
}

static int owns(const core_principal_t *who, const store_webhook_t *w)
{
    return is_staff(who) ||
           (who->role == ROLE_SUBSCRIBER && strcmp(who->subscriber_id, w->subscriber_id) == 0);
}

void api_endpoint_not_found(net_request_t *req)
{
    static const char body[] = "{\"type\":\"/problems/not-found\",\"title\":\"Not found\","
                               "\"status\":404,\"detail\":\"No such endpoint.\"}";
    net_respond(req, 404, "application/problem+json", "Cache-Control: no-store\r\n", body,
                sizeof(body) - 1);
}

/* ---- validation ---- */

static void invalid(net_request_t *req, const core_errors_t *errs)
{
    char detail[300];
    snprintf(detail, sizeof(detail), "%s: %s", errs->items[0].field, errs->items[0].detail);
    api_problem(req, 422, "validation", "Invalid endpoint", detail, errs);
}

/* Appends the canonical form of filter object item (named prefix) to out. */
/* Checks a create or a change; returns the store's input ({url, secret,
 * filters, format}, the fields given; a create gets defaults and, without
 * a secret, a new one in p->secret) or NULL with every problem in errs. */
static json_t *endpoint_input(kawat_app_t *app, json_t *in, int creating, pending_t *p,
                              core_errors_t *errs)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    if (json_object_get(in, "filter") && json_object_get(in, "filters"))
        core_errors_add(errs, "filter", "give filter (one) or filters (a list), not both");
    json_object_foreach(in, key, v)
    {
        if (strcmp(key, "url") == 0) {
            const char *z = json_string_value(v);
            char why[256];
            int rc;
            if (z == NULL || json_string_length(v) != strlen(z) || z[0] == '\0') {
                core_errors_add(errs, "url", "must be an http or https URL");
            } else if ((rc = webhook_url_check(app, z, why, sizeof(why))) != KW_OK) {
                core_errors_add(errs, "url", "%s%s",
                                rc == KW_FORBIDDEN ? "not allowed: the URL " : "", why);
            } else {
                json_object_set(out, "url", v);
            }
        } else if (strcmp(key, "secret") == 0) {
            unsigned char k[WEBHOOK_KEY_MAX];
            size_t klen;
            if (!json_is_string(v) ||
                webhook_secret_decode(json_string_value(v), k, &klen) != KW_OK) {
                core_errors_add(errs, "secret",
                                "must be \"whsec_\" and the base64 of %d to %d random bytes",
                                WEBHOOK_KEY_MIN, WEBHOOK_KEY_MAX);
            } else {
                json_object_set(out, "secret", v);
                if (p) snprintf(p->secret, sizeof(p->secret), "%s", json_string_value(v));
            }
            explicit_bzero(k, sizeof(k));
        } else if (strcmp(key, "filter") == 0) {
            json_t *canon = json_array();
            api_filter_canon(app, v, "filter", canon, errs);
            json_object_set_new(out, "filters", canon);
        } else if (strcmp(key, "filters") == 0) {
            json_t *canon = api_filters_canon(app, v, "filters", errs);
            if (canon) json_object_set_new(out, "filters", canon);
        } else if (strcmp(key, "format") == 0) {
            const char *z = json_string_value(v);
            if (z == NULL || (strcmp(z, "ninjs") && strcmp(z, "newsml") && strcmp(z, "json")))
                core_errors_add(errs, "format", "must be \"ninjs\", \"newsml\" or \"json\"");
            else
                json_object_set(out, "format", v);
        } else {
            char field[64];
            snprintf(field, sizeof(field), "%.60s", key);
            core_errors_add(errs, field, "unknown field");
        }
    }
    if (creating) {
        if (json_object_get(in, "url") == NULL) core_errors_add(errs, "url", "is required");
        if (json_object_get(out, "filters") == NULL)
            json_object_set_new(out, "filters", json_pack("[{}]")); /* everything */
        if (json_object_get(out, "format") == NULL)
            json_object_set_new(out, "format", json_string("ninjs"));
        if (json_object_get(in, "secret") == NULL && p) {
            webhook_secret_generate(p->secret, sizeof(p->secret));
            json_object_set_new(out, "secret", json_string(p->secret));
        }
    } else if (json_object_size(in) == 0) {
        core_errors_add(errs, "body", "give at least one of url, secret, filter, filters, format");
    }
    if (errs->count) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- writes ---- */

static json_t *endpoint_answer(kawat_app_t *app, const char *id, json_t *fallback)
{
    store_webhook_t *w = NULL;
    if (store_webhook_get(app->store, id, &w) != KW_OK) return json_incref(fallback);
    json_t *o = store_webhook_json(w);
    store_webhook_free(w);
    return o;
}

static void on_written(store_op_t *op)
{
    pending_t *p = op->arg;
    net_request_t *req = p->req;
    kawat_app_t *app = req->user;
    if (op->rc == KW_OK) {
        webhook_endpoint_changed(app, op);
        const char *id = json_string_value(json_object_get(op->output, "id"));
        char headers[160];
        switch (op->kind) {
        case STORE_OP_WEBHOOK_CREATE:
            snprintf(headers, sizeof(headers),
                     "Cache-Control: no-store\r\nLocation: /v1/endpoints/%s\r\n", id);
            api_json(
                req, 201,
                json_pack("{s:o, s:s}", "endpoint", json_incref(op->output), "secret", p->secret),
                headers);
            break;
        case STORE_OP_WEBHOOK_DELETE:
            net_respond(req, 204, NULL, "Cache-Control: no-store\r\n", NULL, 0);
            break;
        default:
            /* Read again: the engine may have changed "pending" meanwhile. */
            api_json(req, 200, endpoint_answer(app, id, op->output), NULL);
        }
    } else {
        switch (op->rc) {
        case KW_INVALID:
            invalid(req, &op->errs);
            break;
        case KW_NOTFOUND:
            api_endpoint_not_found(req);
            break;
        case KW_FORBIDDEN:
            api_problem(req, 403, "forbidden", "Forbidden",
                        "Webhook endpoints are registered with an outlet's token "
                        "(POST /v1/subscribers with kind \"outlet\").",
                        NULL);
            break;
        case KW_CONFLICT:
            api_problem(req, 409, "conflict", "Conflict", op->message, NULL);
            break;
        default:
            api_store_failed(req, op->message);
        }
    }
    explicit_bzero(p->secret, sizeof(p->secret));
    free(p);
    store_op_free(op);
}

static void submit(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                   store_op_kind_t kind, json_t *input, pending_t *p)
{
    if (p == NULL) p = kw_calloc(1, sizeof(*p));
    p->req = req;
    store_op_t *op = store_op_new(kind, on_written, p);
    op->who = *who;
    op->input = input;
    store_submit(app->store, op);
}

void api_endpoints_create(kawat_app_t *app, net_request_t *req, const core_principal_t *who)
{
    if (who->role == ROLE_NONE) {
        api_problem(req, 401, "unauthorized", "Unauthorized",
                    "Send Authorization: Bearer <an outlet's token>", NULL);
        return;
    }
    if (who->role != ROLE_SUBSCRIBER || who->subscriber_id[0] == '\0') {
        api_problem(req, 403, "forbidden", "Forbidden",
                    "Webhook endpoints are registered with an outlet's token "
                    "(POST /v1/subscribers with kind \"outlet\").",
                    NULL);
        return;
    }
    json_t *in;
    if (api_body_json(req, &in, 0) != KW_OK) return;
    pending_t *p = kw_calloc(1, sizeof(*p));
    core_errors_t errs = {0};
    json_t *input = json_is_object(in) ? endpoint_input(app, in, 1, p, &errs) : NULL;
    if (!json_is_object(in)) core_errors_add(&errs, "body", "must be a JSON object");
    json_decref(in);
    if (input == NULL) {
        explicit_bzero(p->secret, sizeof(p->secret));
        free(p);
        invalid(req, &errs);
        return;
    }
    submit(app, req, who, STORE_OP_WEBHOOK_CREATE, input, p);
}

void api_endpoints_update(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                          const char *id)
{
    if (!may_ask(who)) {
        api_endpoint_not_found(req);
        return;
    }
    json_t *in;
    if (api_body_json(req, &in, 0) != KW_OK) return;
    core_errors_t errs = {0};
    json_t *input = json_is_object(in) ? endpoint_input(app, in, 0, NULL, &errs) : NULL;
    if (!json_is_object(in)) core_errors_add(&errs, "body", "must be a JSON object");
    json_decref(in);
    if (input == NULL) {
        invalid(req, &errs);
        return;
    }
    json_object_set_new(input, "id", json_string(id));
    submit(app, req, who, STORE_OP_WEBHOOK_UPDATE, input, NULL);
}

void api_endpoints_delete(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                          const char *id)
{
    if (!may_ask(who)) {
        api_endpoint_not_found(req);
        return;
    }
    submit(app, req, who, STORE_OP_WEBHOOK_DELETE, json_pack("{s:s}", "id", id), NULL);
}

void api_endpoints_resume(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                          const char *id)
{
    if (!may_ask(who)) {
        api_endpoint_not_found(req);
        return;
    }
    submit(app, req, who, STORE_OP_WEBHOOK_UPDATE, json_pack("{s:s, s:b}", "id", id, "resume", 1),
           NULL);
}

/* ---- reads ---- */

/* Reads limit (1-100, default 20) and cursor (base 36) from p; answers 400
 * and returns KW_INVALID when malformed. */
static int page_params(net_request_t *req, const net_params_t *p, size_t *limit, int64_t *cursor)
{
    const char *v;
    *limit = 20;
    *cursor = 0;
    if ((v = net_query_get(p, "limit")) != NULL) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (*v < '0' || *v > '9' || *end || errno == ERANGE || n < 1 || n > 100) {
            api_problem_field(req, 400, "limit", "must be an integer from 1 to 100");
            return KW_INVALID;
        }
        *limit = (size_t)n;
    }
    if ((v = net_query_get(p, "cursor")) != NULL && *v) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 36);
        if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z')) || *end || errno == ERANGE ||
            n <= 0) {
            api_problem_field(req, 400, "cursor", "is not a cursor this server gave out");
            return KW_INVALID;
        }
        *cursor = n;
    }
    return KW_OK;
}

void api_endpoints_list(kawat_app_t *app, net_request_t *req, const core_principal_t *who)
{
    if (!may_ask(who)) {
        api_refused(req, who, "Endpoints are listed for their outlet's token, editors and admins.");
        return;
    }
    static const char *const allowed[] = {"cursor", "limit", "subscriber", NULL};
    net_params_t p;
    if (api_query(req, &p, allowed) != KW_OK) return;
    size_t limit;
    int64_t cursor;
    if (page_params(req, &p, &limit, &cursor) != KW_OK) goto done;
    const char *owner = is_staff(who) ? net_query_get(&p, "subscriber") : who->subscriber_id;
    if (!is_staff(who) && net_query_get(&p, "subscriber") &&
        strcmp(net_query_get(&p, "subscriber"), who->subscriber_id) != 0) {
        api_problem_field(req, 400, "subscriber", "an outlet lists its own endpoints only");
        goto done;
    }
    store_webhook_t **items = NULL;
    size_t n = 0;
    int64_t next = 0;
    if (store_webhook_list(app->store, owner && *owner ? owner : NULL, cursor, limit, &items, &n,
                           &next) != KW_OK) {
        api_problem(req, 503, "unavailable", "Service unavailable", "Try again.", NULL);
        goto done;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, store_webhook_json(items[i]));
        store_webhook_free(items[i]);
    }
    free(items);
    api_list_answer(req, arr, next);
done:
    net_query_free(&p);
}

/* The endpoint id if who may see it, else NULL after answering 404. */
static store_webhook_t *visible(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                                const char *id)
{
    store_webhook_t *w = NULL;
    if (!may_ask(who) || store_webhook_get(app->store, id, &w) != KW_OK || !owns(who, w)) {
        store_webhook_free(w);
        api_endpoint_not_found(req);
        return NULL;
    }
    return w;
}

void api_endpoints_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                       const char *id)
{
    store_webhook_t *w = visible(app, req, who, id);
    if (w == NULL) return;
    api_json(req, 200, store_webhook_json(w), "Cache-Control: no-store\r\n");
    store_webhook_free(w);
}

void api_endpoints_deliveries(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                              const char *id)
{
    static const char *const allowed[] = {"cursor", "limit", NULL};
    net_params_t p;
    if (api_query(req, &p, allowed) != KW_OK) return;
    size_t limit;
    int64_t cursor;
    if (page_params(req, &p, &limit, &cursor) == KW_OK) {
        store_webhook_t *w = visible(app, req, who, id);
        if (w) {
            int64_t next = 0;
            json_t *items = store_webhook_deliveries(app->store, w->id, cursor, limit, &next);
            api_list_answer(req, items, next);
            store_webhook_free(w);
        }
    }
    net_query_free(&p);
}
