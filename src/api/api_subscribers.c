/* api_subscribers.c -- /v1/subscribers: desktops, journalists and outlets
 * sign up with the filters that say what they receive and get a token; with
 * it (or as an editor) they read, change and delete their subscription.
 *
 * Design note: who sees a subscriber.
 * A subscriber is private to itself and the wire's editors. Anyone else who
 * names its id -- anonymous, an issuer, another subscriber -- is answered
 * with the same 404 bytes as for an id that never existed, before the store
 * is asked, so neither the answer nor its timing says whether it exists.
 * Sign-up is open to anyone; `trusted` (embargoed releases early) is the
 * editors' to give, and anyone else who sends it is refused by name. The
 * values are checked here (filters by the matcher's own parser, so what is
 * stored is exactly what it will index), the writer checks who may do it
 * again inside the transaction. */
#include "api/api.h"
#include "auth/auth.h"
#include "match/match.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pending write: the request to answer and, for a sign-up, the token to
 * show once (only its hash goes to the store). */
typedef struct {
    net_request_t *req;
    char token[AUTH_TOKEN_SIZE];
} pending_t;

static int is_staff(const core_principal_t *who)
{
    return who->role == ROLE_EDITOR || who->role == ROLE_ADMIN;
}

/* Whether who may see or change subscriber id at all; decided without the
 * store, so a stranger learns nothing about the id. */
static int may_manage(const core_principal_t *who, const char *id)
{
    return is_staff(who) || (who->role == ROLE_SUBSCRIBER && who->subscriber_id[0] &&
                             strcmp(who->subscriber_id, id) == 0);
}

void api_subscriber_not_found(net_request_t *req)
{
    /* No instance: the bytes must not depend on the id or on whether it
     * exists. */
    static const char body[] = "{\"type\":\"/problems/not-found\",\"title\":\"Not found\","
                               "\"status\":404,\"detail\":\"No such subscriber.\"}";
    net_respond(req, 404, "application/problem+json", "Cache-Control: no-store\r\n", body,
                sizeof(body) - 1);
}

json_t *api_subscriber_json(const store_subscriber_t *sub)
{
    json_t *o = store_subscriber_json(sub);
    json_object_del(o, "num"); /* internal: it would count the subscribers */
    return o;
}

/* ---- validation ---- */

static int has_control(const char *z)
{
    for (const unsigned char *p = (const unsigned char *)z; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return 1;
    return 0;
}

/* A practical check of an address for sending mail to: one '@' with
 * something on both sides, a dot inside the domain, no spaces, controls or
 * the characters that need quoting. Non-ASCII (RFC 6531) is allowed. */
static int email_valid(const char *z, size_t n)
{
    if (n < 5 || n > STORE_SUBSCRIBER_EMAIL_MAX || strlen(z) != n) return 0;
    const char *at = strchr(z, '@');
    if (at == NULL || at == z || strchr(at + 1, '@')) return 0;
    const char *domain = at + 1;
    const char *dot = strchr(domain, '.');
    if (dot == NULL || dot == domain || domain[strlen(domain) - 1] == '.') return 0;
    for (const unsigned char *p = (const unsigned char *)z; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\\\"", *p)) return 0;
    return 1;
}

/* Checks a sign-up (creating) or a change and returns the canonical input
 * for the store ({kind, name, email, trusted, filters}, only the fields
 * given), or NULL with every problem in errs. */
static json_t *subscriber_input(kawat_app_t *app, json_t *in, int creating, core_errors_t *errs)
{
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(in, key, v)
    {
        if (strcmp(key, "kind") == 0) {
            const char *k = json_string_value(v);
            if (k == NULL ||
                (strcmp(k, "desktop") && strcmp(k, "journalist") && strcmp(k, "outlet")))
                core_errors_add(errs, "kind", "must be \"desktop\", \"journalist\" or \"outlet\"");
            else
                json_object_set(out, "kind", v);
        } else if (strcmp(key, "name") == 0) {
            const char *z = json_string_value(v);
            size_t n = json_string_length(v);
            if (z == NULL || n == 0 || n > STORE_SUBSCRIBER_NAME_MAX || strlen(z) != n ||
                has_control(z))
                core_errors_add(errs, "name",
                                "must be a string of 1 to %d bytes without control characters",
                                STORE_SUBSCRIBER_NAME_MAX);
            else
                json_object_set(out, "name", v);
        } else if (strcmp(key, "email") == 0) {
            if (json_is_null(v))
                json_object_set(out, "email", v);
            else if (!json_is_string(v) ||
                     !email_valid(json_string_value(v), json_string_length(v)))
                core_errors_add(errs, "email",
                                "must be an e-mail address like \"desk@example.com\" or null");
            else
                json_object_set(out, "email", v);
        } else if (strcmp(key, "trusted") == 0) {
            if (!json_is_boolean(v))
                core_errors_add(errs, "trusted", "must be true or false");
            else
                json_object_set(out, "trusted", v);
        } else if (strcmp(key, "filters") == 0) {
            json_t *canon = api_filters_canon(app, v, "filters", errs);
            if (canon) json_object_set_new(out, "filters", canon);
        } else {
            char field[64];
            snprintf(field, sizeof(field), "%.60s", key);
            core_errors_add(errs, field, "unknown field");
        }
    }
    if (creating) {
        static const char *const required[] = {"kind", "name", "filters"};
        for (size_t i = 0; i < KW_ARRAY_SIZE(required); i++)
            if (json_object_get(in, required[i]) == NULL)
                core_errors_add(errs, required[i], "is required");
    } else if (json_object_size(in) == 0) {
        core_errors_add(errs, "body", "give at least one of kind, name, email, filters, trusted");
    }
    if (errs->count) {
        json_decref(out);
        return NULL;
    }
    return out;
}

static void answer_invalid(net_request_t *req, const core_errors_t *errs)
{
    char detail[300];
    snprintf(detail, sizeof(detail), "%s: %s", errs->items[0].field, errs->items[0].detail);
    api_problem(req, 422, "validation", "Invalid subscriber", detail, errs);
}

static void answer_trusted_forbidden(net_request_t *req)
{
    core_errors_t errs = {0};
    core_errors_add(&errs, "trusted", "only editors and admins may set it");
    api_problem(req, 403, "forbidden", "Forbidden", "trusted: only editors and admins may set it",
                &errs);
}

/* ---- writes ---- */

static void on_written(store_op_t *op)
{
    pending_t *p = op->arg;
    net_request_t *req = p->req;
    kawat_app_t *app = req->user;
    if (op->rc == KW_OK) {
        api_after_write(app, op);
        char headers[160];
        switch (op->kind) {
        case STORE_OP_SUBSCRIBER_CREATE: {
            snprintf(headers, sizeof(headers),
                     "Cache-Control: no-store\r\nLocation: /v1/subscribers/%s\r\n",
                     op->subscriber->id);
            json_t *body = json_pack("{s:o, s:s}", "subscriber",
                                     api_subscriber_json(op->subscriber), "token", p->token);
            api_json(req, 201, body, headers);
            break;
        }
        case STORE_OP_SUBSCRIBER_DELETE:
            net_respond(req, 204, NULL, "Cache-Control: no-store\r\n", NULL, 0);
            break;
        default:
            api_json(req, 200, api_subscriber_json(op->subscriber), NULL);
        }
    } else {
        switch (op->rc) {
        case KW_INVALID:
            answer_invalid(req, &op->errs);
            break;
        case KW_NOTFOUND:
            api_subscriber_not_found(req);
            break;
        case KW_FORBIDDEN:
            answer_trusted_forbidden(req);
            break;
        default:
            api_store_failed(req, op->message);
        }
    }
    /* The token was shown (or never will be): leave no copy in memory. */
    explicit_bzero(p->token, sizeof(p->token));
    free(p);
    store_op_free(op);
}

/* The request body checked and made canonical for a create or an update;
 * NULL after answering 4xx (bad JSON, trusted from a non-editor, invalid
 * fields). */
static json_t *read_input(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                          int creating)
{
    json_t *in;
    if (api_body_json(req, &in, 0) != KW_OK) return NULL;
    if (json_object_get(in, "trusted") && !is_staff(who)) {
        json_decref(in);
        answer_trusted_forbidden(req);
        return NULL;
    }
    core_errors_t errs = {0};
    json_t *input = subscriber_input(app, in, creating, &errs);
    json_decref(in);
    if (input == NULL) answer_invalid(req, &errs);
    return input;
}

void api_subscribers_create(kawat_app_t *app, net_request_t *req, const core_principal_t *who)
{
    json_t *input = read_input(app, req, who, 1);
    if (input == NULL) return;
    pending_t *p = kw_calloc(1, sizeof(*p));
    p->req = req;
    char hash[AUTH_HEX_SIZE];
    auth_token_generate(p->token, sizeof(p->token));
    auth_token_hash(p->token, strlen(p->token), hash);
    json_object_set_new(input, "token_hash", json_string(hash));
    store_op_t *op = store_op_new(STORE_OP_SUBSCRIBER_CREATE, on_written, p);
    op->who = *who;
    op->input = input;
    store_submit(app->store, op);
}

void api_subscribers_update(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                            const char *id)
{
    if (!may_manage(who, id)) {
        api_subscriber_not_found(req);
        return;
    }
    json_t *input = read_input(app, req, who, 0);
    if (input == NULL) return;
    pending_t *p = kw_calloc(1, sizeof(*p));
    p->req = req;
    store_op_t *op = store_op_new(STORE_OP_SUBSCRIBER_UPDATE, on_written, p);
    op->who = *who;
    op->input = input;
    snprintf(op->subscriber_id, sizeof(op->subscriber_id), "%s", id);
    store_submit(app->store, op);
}

void api_subscribers_delete(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                            const char *id)
{
    if (!may_manage(who, id)) {
        api_subscriber_not_found(req);
        return;
    }
    pending_t *p = kw_calloc(1, sizeof(*p));
    p->req = req;
    store_op_t *op = store_op_new(STORE_OP_SUBSCRIBER_DELETE, on_written, p);
    op->who = *who;
    snprintf(op->subscriber_id, sizeof(op->subscriber_id), "%s", id);
    store_submit(app->store, op);
}

/* ---- reads ---- */

void api_subscribers_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                         const char *id)
{
    store_subscriber_t *sub = NULL;
    if (!may_manage(who, id) || store_subscriber_get(app->store, id, &sub) != KW_OK) {
        api_subscriber_not_found(req);
        return;
    }
    api_json(req, 200, api_subscriber_json(sub), NULL);
    store_subscriber_free(sub);
}


void api_subscribers_list(kawat_app_t *app, net_request_t *req, const core_principal_t *who)
{
    if (!is_staff(who)) {
        api_refused(req, who, "The list of subscribers is for editors and admins.");
        return;
    }
    static const char *const allowed[] = {"kind", "cursor", "limit", NULL};
    net_params_t p;
    if (api_query(req, &p, allowed) != KW_OK) return;
    const char *kind = net_query_get(&p, "kind");
    size_t limit = 20;
    int64_t cursor = 0;
    const char *v;
    if (kind && strcmp(kind, "desktop") && strcmp(kind, "journalist") && strcmp(kind, "outlet")) {
        api_problem_field(req, 400, "kind", "must be desktop, journalist or outlet");
        goto done;
    }
    if ((v = net_query_get(&p, "limit")) != NULL) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (*v < '0' || *v > '9' || *end || errno == ERANGE || n < 1 || n > 100) {
            api_problem_field(req, 400, "limit", "must be an integer from 1 to 100");
            goto done;
        }
        limit = (size_t)n;
    }
    if ((v = net_query_get(&p, "cursor")) != NULL && *v) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 36);
        if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z')) || *end || errno == ERANGE ||
            n <= 0) {
            api_problem_field(req, 400, "cursor", "is not a cursor this server gave out");
            goto done;
        }
        cursor = n;
    }
    store_subscriber_t **items = NULL;
    size_t n = 0;
    int64_t next = 0;
    if (store_subscriber_list(app->store, kind, cursor, limit, &items, &n, &next) != KW_OK) {
        api_problem(req, 503, "unavailable", "Service unavailable", "Try again.", NULL);
        goto done;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, api_subscriber_json(items[i]));
        store_subscriber_free(items[i]);
    }
    free(items);
    api_list_answer(req, arr, next);
done:
    net_query_free(&p);
}
