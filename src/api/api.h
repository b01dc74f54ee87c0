/* api.h -- the serving side of kawat: the application context shared by the
 * JSON API, the pages and the scheduler, the router, and the helpers every
 * handler uses to answer (JSON, RFC 9457 problems, authentication). */
#ifndef KAWAT_API_H
#define KAWAT_API_H

#include "core/core.h"
#include "core/core_release.h"
#include "net/net_http.h"
#include "net/net_query.h"
#include "store/store.h"

#include <jansson.h>
#include <stdio.h>
#include <uv.h>

typedef struct sched_s sched_t;
typedef struct api_waiter_s api_waiter_t;

typedef struct kawat_app_s {
    uv_loop_t *loop;
    store_t *store;
    net_server_t *http;
    sched_t *sched;
    char *base_url;         /* "http://127.0.0.1:8080", no trailing slash */
    char *wire_name;        /* "kawat" */
    char *default_language; /* "en" */
    unsigned longpoll_max_ms;
    int64_t started_ms;
    int stopping;

    api_waiter_t *waiters;  /* parked long polls on /v1/wire */
    size_t nwaiters;

    /* Live distribution: the stream engine sets both (NULL until it does).
     * on_subscriber is called on the loop after every committed subscriber
     * op (STORE_OP_IS_SUBSCRIBER, rc KW_OK), with op->subscriber set, so the
     * matcher and open streams follow the change. */
    void (*on_subscriber)(struct kawat_app_s *app, store_op_t *op);
    void *streams;

    /* The portal: the cache of rendered pages and feeds (web.h), NULL
     * before serve sets it up; the WebSub hub (feeds_websub.h), NULL when
     * not running. webhook_allow: the CIDRs ("127.0.0.0/8,10.0.0.0/8")
     * outbound callbacks may reach although private, loopback or link-local
     * (--webhook-allow); NULL: none. */
    struct web_cache_s *cache;
    void *websub;
    char *webhook_allow;
    /* The outlet webhook engine (deliver/webhook.h), NULL when not running. */
    void *webhooks;
    /* The e-mail alerts engine (deliver/mail.h), NULL when not running. */
    void *mail;
    /* The distribution-report aggregate (deliver/report.h), NULL when not
     * running; engines count through report_count(app, ...). */
    struct report_s *report;
    /* Mail to people (web_account.c: password reset and invitation links).
     * The e-mail engine sets send_mail when it can send (NULL until then):
     * to, subject and text are UTF-8, language the mail's BCP 47 tag; it
     * returns KW_OK once the mail is queued. Without it, such mails are
     * appended to the file mail_log (--mail-log), or to standard error
     * when that is NULL too (development only: the links are secrets). */
    int (*send_mail)(struct kawat_app_s *app, const char *to, const char *language,
                     const char *subject, const char *text);
    char *mail_log;

    /* counters for /metrics */
    uint64_t releases_created;
    uint64_t releases_published;
    uint64_t wire_events;
    uint64_t auth_failures;
} kawat_app_t;

/* The one request handler given to net: routes to the API and the pages. */
void api_route(net_request_t *req, void *app);

/* A route table entry, also printed by `kawat routes` and checked against
 * docs/api.md by the tests. */
typedef struct {
    const char *method;
    const char *pattern; /* "/v1/releases/{id}" */
    const char *summary;
} api_route_info_t;
size_t api_routes(const api_route_info_t **out);

/* ---- answering ---- */

/* Sends a JSON body (takes the reference to body). */
void api_json(net_request_t *req, int status, json_t *body, const char *headers);

/* Sends an RFC 9457 problem document: type "/problems/<slug>", title,
 * status, detail, instance (the request path), and for validation errors
 * "errors": [{"field", "detail"}] with the first field also as "field". */
void api_problem(net_request_t *req, int status, const char *slug, const char *title,
                 const char *detail, const core_errors_t *errs);
/* A problem naming one field. */
void api_problem_field(net_request_t *req, int status, const char *field, const char *detail);

/* A caller without the role a route needs: 401 when anonymous (a token
 * would help), else 403, with detail saying who may. */
void api_refused(net_request_t *req, const core_principal_t *who, const char *detail);

/* The 404 every unknown or invisible release gets: identical bytes whether
 * the id never existed or is not visible to the caller. */
void api_not_found(net_request_t *req);

/* Resolves the caller from "Authorization: Bearer ...", or without that
 * header from a browser's session cookie (web_session_authenticate).
 * Returns KW_OK with who->role ROLE_NONE when there is neither;
 * KW_FORBIDDEN (after sending a 401 problem) when the header is malformed
 * or the token unknown, or (403) when a cookie-authenticated unsafe
 * request lacks its X-CSRF-Token. */
int api_authenticate(kawat_app_t *app, net_request_t *req, core_principal_t *who);

/* Parses the query; on error sends a 400 naming the parameter and returns
 * KW_INVALID. allowed is a NULL-terminated list of names or NULL for any. */
int api_query(net_request_t *req, net_params_t *out, const char *const *allowed);

/* Parses a JSON request body: requires Content-Type application/json (415
 * otherwise) and a valid document (400 naming the position). Empty bodies
 * give *out = NULL when allow_empty. Returns KW_OK or KW_INVALID (answered). */
int api_body_json(net_request_t *req, json_t **out, int allow_empty);

/* Answers 503 for a write the store could not commit (logging message). */
void api_store_failed(net_request_t *req, const char *message);

/* A list cursor as the opaque text clients send back (base 36). */
void api_cursor_text(int64_t cursor, char *out, size_t size);
/* Answers 200 {"items": items, "next_cursor": text or null}; takes items. */
void api_list_answer(net_request_t *req, json_t *items, int64_t next);

/* Filters as subscribers, endpoints and sign-ups send them: one filter
 * object appended to out in canonical form, or an array of 1 to
 * STORE_SUBSCRIBER_FILTERS_MAX of them as a new canonical array (NULL when
 * not an array of that size). Problems go to errs, named field[i].... */
void api_filter_canon(kawat_app_t *app, json_t *item, const char *prefix, json_t *out,
                      core_errors_t *errs);
json_t *api_filters_canon(kawat_app_t *app, json_t *v, const char *field, core_errors_t *errs);

/* Release JSON with its translations and versions for the caller. */
json_t *api_release_json(kawat_app_t *app, const core_release_t *r, const core_principal_t *who);

/* ---- handlers (api_releases.c, api_wire.c, api_meta.c) ---- */
void api_releases_create(kawat_app_t *app, net_request_t *req, const core_principal_t *who);
void api_releases_list(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                       int queue);
void api_releases_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                      const char *id);
void api_releases_versions(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                           const char *id);
void api_releases_act(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                      const char *id, core_action_t act);
void api_wire_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who);
void api_wire_notify(kawat_app_t *app);   /* new events were committed */
void api_wire_shutdown(kawat_app_t *app); /* answer every parked poll now */
void api_sectors_list(kawat_app_t *app, net_request_t *req);
void api_sectors_add(kawat_app_t *app, net_request_t *req, const core_principal_t *who);
void api_languages_list(kawat_app_t *app, net_request_t *req);
void api_regions_list(kawat_app_t *app, net_request_t *req);
void api_me(kawat_app_t *app, net_request_t *req, const core_principal_t *who);

/* ---- subscribers (api_subscribers.c) ---- */
/* POST /v1/subscribers: anyone signs up; editors and admins may set trusted. */
void api_subscribers_create(kawat_app_t *app, net_request_t *req, const core_principal_t *who);
/* GET /v1/subscribers: editors and admins. */
void api_subscribers_list(kawat_app_t *app, net_request_t *req, const core_principal_t *who);
/* GET, PATCH, DELETE /v1/subscribers/{id}: the subscriber's own token, an
 * editor or an admin; anyone else gets api_subscriber_not_found. */
void api_subscribers_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                         const char *id);
void api_subscribers_update(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                            const char *id);
void api_subscribers_delete(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                            const char *id);
/* The 404 for subscribers: the same bytes whether the id never existed or
 * belongs to someone else. */
void api_subscriber_not_found(net_request_t *req);
/* A subscriber as the API shows it (no internal number). Caller decrefs. */
json_t *api_subscriber_json(const store_subscriber_t *sub);

/* ---- outlet webhook endpoints (api_endpoints.c) ---- */
/* POST /v1/endpoints: an outlet's own token. GET /v1/endpoints: the
 * outlet's own; editors and admins see all. The rest: the owner, an editor
 * or an admin; anyone else gets the same 404 as for an unknown id. */
void api_endpoints_create(kawat_app_t *app, net_request_t *req, const core_principal_t *who);
void api_endpoints_list(kawat_app_t *app, net_request_t *req, const core_principal_t *who);
void api_endpoints_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                       const char *id);
void api_endpoints_update(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                          const char *id);
void api_endpoints_delete(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                          const char *id);
void api_endpoints_resume(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                          const char *id);
void api_endpoints_deliveries(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                              const char *id);
void api_endpoint_not_found(net_request_t *req);
void api_metrics(kawat_app_t *app, net_request_t *req, const core_principal_t *who);

/* ---- distribution reports (api_report.c) ---- */
/* GET /v1/releases/{id}/report[?format=json|html]: the release's issuer,
 * editors and admins; anyone else gets api_not_found. */
void api_report_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                    const char *id);

/* Called on the loop after any committed op that appended wire events,
 * changed schedules or changed a subscriber: wakes long polls, re-arms the
 * scheduler and tells the stream engine (app->on_subscriber). */
void api_after_write(kawat_app_t *app, store_op_t *op);

/* ---- e-mail alerts: sign-ups (api_signups.c; the engine is deliver/mail.h) ---- */
/* POST /v1/signups: anyone; 202 and a confirmation mail (503 without --smtp). */
void api_signups_create(kawat_app_t *app, net_request_t *req);
/* Checks a sign-up {email, name?, language, beats, timing} and returns the
 * store's input {email, name?, language, timing, filters} (beats in
 * canonical form), or NULL with every problem in errs (fields "email",
 * "beats[0].sectors[1]", ...). */
json_t *api_signup_input(kawat_app_t *app, json_t *in, core_errors_t *errs);
/* Whether the client at ip may sign up now (a token bucket per address). */
int api_signup_rate_ok(const char *ip);
/* Queues the STORE_OP_MAIL_SIGNUP of input (taken) for ip; done as for
 * store_submit (KW_CONFLICT: the address's hourly limit). */
void api_signup_submit(kawat_app_t *app, json_t *input, const char *ip, store_done_fn done,
                       void *arg);

/* ---- serving (api_serve.c) and demo content (api_demo.c) ---- */
int api_serve_main(int argc, char **argv);
/* Prints every option of `kawat serve` with its KAWAT_* variable. */
void api_serve_usage(FILE *f);
/* Loads the demo folder's .md files once into the store (published), creating an admin
 * token saved in DATA/admin-token. Returns KW_OK. */
int api_demo_load(store_t *store, const char *demo_dir, const char *data_dir);

#endif
