/* api_common.c -- how every handler answers: JSON, RFC 9457 problem
 * documents, authentication by bearer token, query and body parsing. */
#include "api/api.h"
#include "auth/auth.h"
#include "match/match.h"
#include "web/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_json(net_request_t *req, int status, json_t *body, const char *headers)
{
    char *z = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    size_t n = z ? strlen(z) : 0;
    net_respond(req, status, "application/json", headers ? headers : "Cache-Control: no-store\r\n",
                z ? z : "", n);
    free(z);
}

static void problem_send(net_request_t *req, json_t *doc)
{
    char *z = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    net_respond(req, (int)json_integer_value(json_object_get(doc, "status")),
                "application/problem+json", "Cache-Control: no-store\r\n", z, strlen(z));
    free(z);
}

void api_problem(net_request_t *req, int status, const char *slug, const char *title,
                 const char *detail, const core_errors_t *errs)
{
    char type[96];
    snprintf(type, sizeof(type), "/problems/%s", slug);
    char *instance = kw_strndup(req->path.data, req->path.len > 512 ? 512 : req->path.len);
    json_t *doc = json_pack("{s:s, s:s, s:i}", "type", type, "title", title, "status", status);
    if (detail && kw_utf8_valid(detail, strlen(detail))) {
        json_object_set_new(doc, "detail", json_string(detail));
    } else if (detail) {
        /* Client bytes quoted in a detail (a parser's "near '...'", a name
         * cut short) must not cost the document its detail: JSON strings
         * are UTF-8, so anything past ASCII becomes '?' here. */
        char *d = kw_strdup(detail);
        for (char *c = d; *c; c++)
            if ((unsigned char)*c >= 0x80) *c = '?';
        json_object_set_new(doc, "detail", json_string(d));
        free(d);
    }
    if (kw_utf8_valid(instance, strlen(instance)))
        json_object_set_new(doc, "instance", json_string(instance));
    free(instance);
    if (errs && errs->count) {
        json_t *arr = json_array();
        for (size_t i = 0; i < errs->count; i++)
            json_array_append_new(arr, json_pack("{s:s, s:s}", "field", errs->items[i].field,
                                                 "detail", errs->items[i].detail));
        json_object_set_new(doc, "field", json_string(errs->items[0].field));
        json_object_set_new(doc, "errors", arr);
    }
    /* status is read back after the dump; keep a reference until then. */
    json_incref(doc);
    problem_send(req, doc);
    json_decref(doc);
}

void api_problem_field(net_request_t *req, int status, const char *field, const char *detail)
{
    core_errors_t errs = {0};
    core_errors_add(&errs, field, "%s", detail);
    char msg[300];
    /* The field as recorded: cut to its size without splitting a character. */
    snprintf(msg, sizeof(msg), "%s: %s", errs.items[0].field, detail);
    api_problem(req, status, status == 422 ? "validation" : "bad-request",
                status == 422 ? "Invalid request" : "Bad request", msg, &errs);
}

void api_not_found(net_request_t *req)
{
    /* No instance: the bytes must not depend on whether the id exists. */
    static const char body[] = "{\"type\":\"/problems/not-found\",\"title\":\"Not found\","
                               "\"status\":404,\"detail\":\"No such release.\"}";
    net_respond(req, 404, "application/problem+json", "Cache-Control: no-store\r\n", body,
                sizeof(body) - 1);
}

int api_authenticate(kawat_app_t *app, net_request_t *req, core_principal_t *who)
{
    memset(who, 0, sizeof(*who));
    who->role = ROLE_NONE;
    const kw_str_t *h = net_request_header(req, "authorization");
    /* No token: a browser's session cookie, if any (CSRF checked there). */
    if (h == NULL) return web_session_authenticate(app, req, who);
    if (h->len < 8 || strncasecmp(h->data, "Bearer ", 7) != 0) {
        app->auth_failures++;
        api_problem(req, 401, "unauthorized", "Unauthorized",
                    "Authorization must be \"Bearer <token>\"", NULL);
        return KW_FORBIDDEN;
    }
    const char *tok = h->data + 7;
    size_t n = h->len - 7;
    while (n && *tok == ' ') tok++, n--;
    char hash[AUTH_HEX_SIZE];
    if (!auth_token_well_formed(tok, n)) goto bad;
    auth_token_hash(tok, n, hash);
    if (store_principal_by_token(app->store, hash, who) != KW_OK) goto bad;
    return KW_OK;
bad:
    app->auth_failures++;
    memset(who, 0, sizeof(*who));
    api_problem(req, 401, "unauthorized", "Unauthorized", "The token is not valid.", NULL);
    return KW_FORBIDDEN;
}

int api_query(net_request_t *req, net_params_t *out, const char *const *allowed)
{
    char field[64];
    if (net_query_parse(req->query, out, field, sizeof(field)) != KW_OK) {
        api_problem_field(req, 400, field,
                          "malformed query parameter (bad percent-encoding or invalid UTF-8)");
        return KW_INVALID;
    }
    const char *bad;
    if (allowed && !net_query_only(out, allowed, &bad)) {
        char f[64];
        snprintf(f, sizeof(f), "%.60s", bad);
        net_query_free(out);
        api_problem_field(req, 400, f, "unknown query parameter");
        return KW_INVALID;
    }
    return KW_OK;
}

int api_body_json(net_request_t *req, json_t **out, int allow_empty)
{
    *out = NULL;
    if (req->body.len == 0 && allow_empty) return KW_OK;
    const kw_str_t *ct = net_request_header(req, "content-type");
    if (ct == NULL || ct->len < 16 || strncasecmp(ct->data, "application/json", 16) != 0) {
        api_problem(req, 415, "unsupported-media-type", "Unsupported media type",
                    "Send the body as Content-Type: application/json", NULL);
        return KW_INVALID;
    }
    if (req->body.len == 0) {
        api_problem_field(req, 400, "body", "the request body is empty; send a JSON object");
        return KW_INVALID;
    }
    json_error_t err;
    json_t *j = json_loadb(req->body.data, req->body.len, JSON_REJECT_DUPLICATES, &err);
    if (j == NULL) {
        char msg[300];
        snprintf(msg, sizeof(msg), "invalid JSON at line %d, column %d: %s", err.line, err.column,
                 err.text);
        api_problem_field(req, 400, "body", msg);
        return KW_INVALID;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        api_problem_field(req, 400, "body", "the request body must be a JSON object");
        return KW_INVALID;
    }
    *out = j;
    return KW_OK;
}

json_t *api_release_json(kawat_app_t *app, const core_release_t *r, const core_principal_t *who)
{
    int private_view = who && (who->role == ROLE_EDITOR || who->role == ROLE_ADMIN ||
                               core_release_owned_by(r, who));
    json_t *o = core_release_to_json(r, app->base_url, private_view);
    if (r->state != REL_WITHDRAWN || private_view) {
        json_t *tr = store_translations(app->store, r->translation_group, r->id);
        size_t i;
        json_t *t;
        json_array_foreach(tr, i, t)
        {
            char url[512];
            snprintf(url, sizeof(url), "%s/%s/releases/%s", app->base_url,
                     json_string_value(json_object_get(t, "language")),
                     json_string_value(json_object_get(t, "id")));
            json_object_set_new(t, "url", json_string(url));
        }
        json_object_set_new(o, "translations", tr);
        if (r->version > 1) {
            json_t *versions = store_release_versions(app->store, r->id);
            json_t *corr = json_array();
            json_array_foreach(versions, i, t)
            {
                /* Each later version's note says what it changed. */
                json_t *c = json_object();
                json_object_set(c, "version", json_object_get(t, "version"));
                json_object_set(c, "headline", json_object_get(t, "headline"));
                json_array_append_new(corr, c);
            }
            json_decref(versions);
            json_object_set_new(o, "previous_versions", corr);
        }
    }
    return o;
}

void api_cursor_text(int64_t cursor, char *out, size_t size)
{
    /* Base 36: short and opaque enough; it is only a position in a list. */
    char tmp[32];
    size_t n = 0;
    uint64_t v = (uint64_t)cursor;
    do {
        tmp[n++] = "0123456789abcdefghijklmnopqrstuvwxyz"[v % 36];
        v /= 36;
    } while (v && n < sizeof(tmp));
    size_t i = 0;
    while (n && i + 1 < size) out[i++] = tmp[--n];
    out[i] = '\0';
}

void api_list_answer(net_request_t *req, json_t *items, int64_t next)
{
    json_t *body = json_pack("{s:o}", "items", items);
    if (next) {
        char c[32];
        api_cursor_text(next, c, sizeof(c));
        json_object_set_new(body, "next_cursor", json_string(c));
    } else {
        json_object_set_new(body, "next_cursor", json_null());
    }
    api_json(req, 200, body, NULL);
}

void api_store_failed(net_request_t *req, const char *message)
{
    fprintf(stderr, "kawat: store error: %s\n", message);
    api_problem(req, 503, "unavailable", "Service unavailable",
                "The store could not commit the change; nothing was changed. Try again.", NULL);
}

void api_filter_canon(kawat_app_t *app, json_t *item, const char *prefix, json_t *out,
                      core_errors_t *errs)
{
    if (!json_is_object(item)) {
        core_errors_add(errs, prefix, "must be a filter object");
        return;
    }
    match_filter_t f;
    match_filter_init(&f);
    if (match_filter_parse_json(&f, item, prefix, store_sector_resolve, app->store, errs) == KW_OK)
        json_array_append_new(out, match_filter_to_json(&f));
    match_filter_clear(&f);
}

json_t *api_filters_canon(kawat_app_t *app, json_t *v, const char *field, core_errors_t *errs)
{
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n < 1 || n > STORE_SUBSCRIBER_FILTERS_MAX) {
        core_errors_add(errs, field, "must be an array of 1 to %d filters",
                        STORE_SUBSCRIBER_FILTERS_MAX);
        return NULL;
    }
    json_t *canon = json_array();
    for (size_t i = 0; i < n; i++) {
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "%.30s[%zu]", field, i);
        api_filter_canon(app, json_array_get(v, i), prefix, canon, errs);
    }
    return canon;
}

void api_refused(net_request_t *req, const core_principal_t *who, const char *detail)
{
    int anon = who->role == ROLE_NONE;
    api_problem(req, anon ? 401 : 403, anon ? "unauthorized" : "forbidden",
                anon ? "Unauthorized" : "Forbidden", detail, NULL);
}
