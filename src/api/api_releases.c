/* api_releases.c -- /v1/releases: issuers create, edit, submit, correct and
 * withdraw; editors review, approve, reject and schedule; anyone reads what
 * is published. Writes go through the store's writer and are answered only
 * once committed. */
#include "api/api.h"
#include "auth/auth.h"
#include "core/core_lang.h"
#include "core/core_region.h"
#include "core/core_time.h"
#include "feeds/feeds.h"
#include "feeds/feeds_render.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Maps a failed op to its answer. */
static void answer_failure(net_request_t *req, store_op_t *op)
{
    switch (op->rc) {
    case KW_INVALID: {
        char detail[300];
        snprintf(detail, sizeof(detail), "%s: %s", op->errs.count ? op->errs.items[0].field : "",
                 op->errs.count ? op->errs.items[0].detail : "invalid");
        api_problem(req, 422, "validation", "Invalid release", detail, &op->errs);
        break;
    }
    case KW_NOTFOUND:
        api_not_found(req);
        break;
    case KW_CONFLICT:
        api_problem(req, 409, "conflict", "Not allowed in this state", op->message, NULL);
        break;
    case KW_FORBIDDEN:
        api_problem(req, 403, "forbidden", "Forbidden", op->message, NULL);
        break;
    default:
        api_store_failed(req, op->message);
    }
}

static void on_written(store_op_t *op)
{
    net_request_t *req = op->arg;
    kawat_app_t *app = req->user;
    if (op->rc == KW_OK) {
        api_after_write(app, op);
        int status = 200;
        if (op->kind == STORE_OP_RELEASE_CREATE && !op->idem_replay) {
            status = 201;
            app->releases_created++;
        }
        json_t *body = api_release_json(app, op->release, &op->who);
        char headers[256];
        char path[128];
        core_release_path(op->release, path, sizeof(path));
        snprintf(headers, sizeof(headers),
                 "Cache-Control: no-store\r\nLocation: /v1/releases/%s\r\n%s", op->release->id,
                 op->idem_replay ? "Idempotent-Replayed: true\r\n" : "");
        api_json(req, status, body, headers);
    } else {
        answer_failure(req, op);
    }
    store_op_free(op);
}

static int require_auth(net_request_t *req, const core_principal_t *who)
{
    if (who->role == ROLE_NONE) {
        api_problem(req, 401, "unauthorized", "Unauthorized",
                    "This needs a token: send Authorization: Bearer <token>", NULL);
        return 0;
    }
    return 1;
}

void api_releases_create(kawat_app_t *app, net_request_t *req, const core_principal_t *who)
{
    if (!require_auth(req, who)) return;
    if (who->role != ROLE_ISSUER) {
        api_problem(req, 403, "forbidden", "Forbidden", "Only issuers create releases.", NULL);
        return;
    }
    const kw_str_t *key = net_request_header(req, "idempotency-key");
    if (key) {
        int ok = key->len > 0 && key->len <= 128;
        for (size_t i = 0; ok && i < key->len; i++)
            if (key->data[i] < 0x21 || key->data[i] > 0x7e) ok = 0;
        if (!ok) {
            api_problem_field(req, 400, "Idempotency-Key",
                              "must be 1-128 visible ASCII characters");
            return;
        }
    }
    json_t *in;
    if (api_body_json(req, &in, 0) != KW_OK) return;

    store_op_t *op = store_op_new(STORE_OP_RELEASE_CREATE, on_written, req);
    op->who = *who;
    op->input = in;
    if (key) {
        memcpy(op->idem_key, key->data, key->len);
        op->idem_key[key->len] = '\0';
        auth_token_hash(req->body.data, req->body.len, op->idem_hash);
    }
    req->user = app;
    store_submit(app->store, op);
}

void api_releases_act(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                      const char *id, core_action_t act)
{
    if (!require_auth(req, who)) return;
    json_t *in = NULL;
    /* Edits and corrections are their body. A reject or schedule without
     * one is answered by the store naming the field it lacks ("reason"),
     * not with a 415 about a body the caller never sent. */
    if (api_body_json(req, &in, act != ACT_EDIT && act != ACT_CORRECT) != KW_OK)
        return;
    store_op_t *op = store_op_new(STORE_OP_RELEASE_ACT, on_written, req);
    op->who = *who;
    op->action = act;
    op->input = in;
    snprintf(op->release_id, sizeof(op->release_id), "%s", id);
    req->user = app;
    store_submit(app->store, op);
}

/* ?format=ninjs|newsml: the syndication forms of a public release. A
 * release that is not public has no such form: the same 404 as for
 * anyone, unless the caller may see it (409 naming the parameter). */
static void release_syndicated(kawat_app_t *app, net_request_t *req, const core_release_t *r,
                               const char *format)
{
    if (!core_release_is_public(r)) {
        api_problem_field(req, 409, "format",
                          "Only a published release has a ninjs or NewsML-G2 form.");
        return;
    }
    json_t *tr = r->translation_group
                     ? store_translations(app->store, r->translation_group, r->id)
                     : NULL;
    const char *cache = r->state == REL_WITHDRAWN ? "Cache-Control: no-store\r\n"
                                                  : "Cache-Control: public, max-age=5\r\n";
    int status = r->state == REL_WITHDRAWN ? 410 : 200;
    if (strcmp(format, "ninjs") == 0) {
        /* A withdrawn release gives its canceled tombstone. */
        json_t *item = feeds_ninjs_release(r, app->base_url, app->wire_name, tr);
        json_decref(tr);
        if (item == NULL) {
            api_not_found(req);
            return;
        }
        char *z = json_dumps(item, JSON_COMPACT | JSON_ENSURE_ASCII);
        json_decref(item);
        net_respond(req, status, "application/json; charset=utf-8", cache, z, strlen(z));
        free(z);
        return;
    }
    kw_buf_t b = {0};
    int rc = feeds_newsml_item(r, app->base_url, app->wire_name, tr, &b);
    json_decref(tr);
    if (rc != KW_OK) { /* withdrawn: NewsML-G2 says so with pubStatus in a feed, not here */
        kw_buf_free(&b);
        api_problem(req, 410, "gone", "Withdrawn", "This release was withdrawn.", NULL);
        return;
    }
    net_respond(req, status, FEEDS_NEWSML_ITEM_TYPE, cache, b.data, b.len);
    kw_buf_free(&b);
}

void api_releases_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                      const char *id)
{
    static const char *const allowed[] = {"format", NULL};
    net_params_t p;
    if (api_query(req, &p, allowed) != KW_OK) return;
    const char *format = net_query_get(&p, "format");
    if (format && strcmp(format, "json") != 0 && strcmp(format, "ninjs") != 0 &&
        strcmp(format, "newsml") != 0) {
        net_query_free(&p);
        api_problem_field(req, 400, "format", "Use json, ninjs or newsml.");
        return;
    }
    core_release_t *r = NULL;
    if (store_release_get(app->store, id, &r) != KW_OK || !core_release_visible(r, who)) {
        core_release_free(r);
        net_query_free(&p);
        api_not_found(req);
        return;
    }
    if (format && strcmp(format, "json") != 0) {
        release_syndicated(app, req, r, format);
        core_release_free(r);
        net_query_free(&p);
        return;
    }
    net_query_free(&p);
    json_t *body = api_release_json(app, r, who);
    int status = r->state == REL_WITHDRAWN ? 410 : 200;
    /* Public copies may be cached briefly; private views never. */
    api_json(req, status, body,
             core_release_is_public(r) && r->state != REL_WITHDRAWN
                 ? "Cache-Control: public, max-age=5\r\n"
                 : "Cache-Control: no-store\r\n");
    core_release_free(r);
}

void api_releases_versions(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                           const char *id)
{
    core_release_t *r = NULL;
    if (store_release_get(app->store, id, &r) != KW_OK || !core_release_visible(r, who) ||
        (r->state == REL_WITHDRAWN && !core_release_owned_by(r, who) &&
         who->role != ROLE_EDITOR && who->role != ROLE_ADMIN)) {
        int gone = r && r->state == REL_WITHDRAWN && core_release_visible(r, who);
        core_release_free(r);
        if (gone)
            api_problem(req, 410, "gone", "Withdrawn", "This release was withdrawn.", NULL);
        else
            api_not_found(req);
        return;
    }
    json_t *versions = store_release_versions(app->store, id);
    size_t i;
    json_t *v;
    json_array_foreach(versions, i, v)
    {
        char buf[40];
        core_time_format_rfc3339(json_integer_value(json_object_get(v, "at_ms")), buf,
                                 sizeof(buf));
        json_object_set_new(v, "at", json_string(buf));
        json_object_del(v, "at_ms");
    }
    json_t *cur = core_release_to_json(r, app->base_url, 0);
    api_json(req, 200, json_pack("{s:s, s:i, s:o, s:o}", "id", r->id, "version", r->version,
                                 "current", cur, "previous", versions),
             NULL);
    core_release_free(r);
}

/* Parses and checks the list filters; answers 400 and returns KW_INVALID on
 * a bad one. Strings in q point into params or the store's sector cache. */
static int list_filters(kawat_app_t *app, net_request_t *req, const net_params_t *p,
                        store_query_t *q)
{
    const char *v;
    if ((v = net_query_get(p, "language")) != NULL) {
        const core_lang_t *lang = core_lang_find_z(v);
        if (lang == NULL) {
            api_problem_field(req, 400, "language", "unknown language (see GET /v1/languages)");
            return KW_INVALID;
        }
        q->language = lang->tag;
    }
    if ((v = net_query_get(p, "sector")) != NULL) {
        q->sector = store_sector_resolve(app->store, v);
        if (q->sector == NULL) {
            api_problem_field(req, 400, "sector", "unknown sector (see GET /v1/sectors)");
            return KW_INVALID;
        }
    }
    if ((v = net_query_get(p, "region")) != NULL) {
        const core_region_t *reg = core_region_find((kw_str_t){v, strlen(v)});
        if (reg == NULL) {
            api_problem_field(req, 400, "region", "must be an ISO 3166-1 alpha-2 code");
            return KW_INVALID;
        }
        q->region = reg->code;
    }
    if ((v = net_query_get(p, "issuer")) != NULL) {
        if (strlen(v) > 100) {
            api_problem_field(req, 400, "issuer", "too long");
            return KW_INVALID;
        }
        q->issuer = v;
    }
    q->limit = 20;
    if ((v = net_query_get(p, "limit")) != NULL) {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        /* Digits only: strtol would also take spaces and a sign. */
        if (*v < '0' || *v > '9' || *end || errno == ERANGE || n < 1 || n > 100) {
            api_problem_field(req, 400, "limit", "must be an integer from 1 to 100");
            return KW_INVALID;
        }
        q->limit = (size_t)n;
    }
    if ((v = net_query_get(p, "cursor")) != NULL && *v) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 36);
        if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z')) || *end ||
            errno == ERANGE || n <= 0) {
            api_problem_field(req, 400, "cursor", "is not a cursor this server gave out");
            return KW_INVALID;
        }
        q->cursor = n;
    }
    return KW_OK;
}


void api_releases_list(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                       int queue)
{
    static const char *const allowed[] = {"language", "sector", "region", "issuer", "cursor",
                                          "limit",    "state",  NULL};
    net_params_t p;
    if (api_query(req, &p, allowed) != KW_OK) return;
    store_query_t q = {.scope = STORE_SCOPE_PUBLIC};
    if (list_filters(app, req, &p, &q) != KW_OK) goto done;

    const char *state = net_query_get(&p, "state");
    if (queue) {
        if (who->role != ROLE_EDITOR && who->role != ROLE_ADMIN) {
            api_refused(req, who, "The review queue is for editors.");
            goto done;
        }
        if (state == NULL) state = "submitted";
    }
    if (state) {
        /* Non-public states: editors see all, issuers their own; others
         * get the public list, as if the parameter named no one's drafts. */
        q.scope = STORE_SCOPE_ALL;
        q.states_mask = 0;
        char *copy = kw_strdup(state), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            core_state_t s;
            if (strcmp(t, "all") == 0) {
                q.states_mask = ~0u;
                continue;
            }
            if (core_state_parse(t, &s) != KW_OK) {
                free(copy);
                api_problem_field(req, 400, "state",
                                  "must be a comma-separated list of release states or 'all'");
                goto done;
            }
            q.states_mask |= 1u << s;
        }
        free(copy);
        if (who->role == ROLE_ISSUER) {
            q.issuer_id = who->issuer_id;
        } else if (who->role != ROLE_EDITOR && who->role != ROLE_ADMIN) {
            /* The public list in its public order: a list in creation
             * order would number everyone's drafts in its cursors. */
            q.scope = STORE_SCOPE_PUBLIC;
            q.states_mask &= (1u << REL_PUBLISHED) | (1u << REL_CORRECTED);
            if (q.states_mask == 0) {
                api_json(req, 200, json_pack("{s:[], s:n}", "items", "next_cursor"), NULL);
                goto done;
            }
        }
    }

    core_release_t **items = NULL;
    size_t n = 0;
    int64_t next = 0;
    if (store_release_list(app->store, &q, &items, &n, &next) != KW_OK) {
        api_problem(req, 503, "unavailable", "Service unavailable", "Try again.", NULL);
        goto done;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        int priv = who->role == ROLE_EDITOR || who->role == ROLE_ADMIN ||
                   core_release_owned_by(items[i], who);
        json_array_append_new(arr, core_release_to_json(items[i], app->base_url, priv));
        core_release_free(items[i]);
    }
    free(items);
    api_list_answer(req, arr, next);
done:
    net_query_free(&p);
}
