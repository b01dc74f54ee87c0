/* api_router.c -- maps each request to its handler: the JSON API under
 * /v1, the operational endpoints, static files and the pages. */
#include "api/api.h"
#include "core/core_lang.h"
#include "net/stream.h"
#include "feeds/feeds_websub.h"
#include "web/web.h"

#include <http_parser.h>
#include <stdio.h>
#include <string.h>

static const api_route_info_t routes[] = {
    {"GET", "/healthz", "Liveness: 200 {\"status\":\"ok\"} while serving"},
    {"GET", "/metrics", "Prometheus text metrics (loopback peers or admin/editor tokens)"},
    {"GET", "/v1/me", "The caller's identity and role"},
    {"GET", "/v1/languages", "Languages the wire carries"},
    {"GET", "/v1/sectors", "The managed sector list"},
    {"POST", "/v1/sectors", "Add a sector (editor, admin)"},
    {"GET", "/v1/regions", "ISO 3166-1 alpha-2 regions"},
    {"POST", "/v1/releases", "Create a draft release (issuer); Idempotency-Key honoured"},
    {"GET", "/v1/releases", "List releases, newest first, with cursor pagination"},
    {"GET", "/v1/queue", "The review queue (editor, admin)"},
    {"GET", "/v1/releases/{id}", "One release"},
    {"PATCH", "/v1/releases/{id}", "Edit a draft or rejected release (issuer)"},
    {"GET", "/v1/releases/{id}/versions", "A release's earlier versions"},
    {"GET", "/v1/releases/{id}/report", "Distribution report: deliveries per channel, language, country, minute (issuer, editor; ?format=html)"},
    {"POST", "/v1/releases/{id}/submit", "Send a draft to review (issuer)"},
    {"POST", "/v1/releases/{id}/approve", "Approve: publish now or at its time (editor)"},
    {"POST", "/v1/releases/{id}/reject", "Reject with a reason (editor)"},
    {"POST", "/v1/releases/{id}/schedule", "Set publish_at / embargo_until and approve (editor)"},
    {"POST", "/v1/releases/{id}/correct", "Correct a published release, saying what changed"},
    {"POST", "/v1/releases/{id}/withdraw", "Withdraw: published ones leave a tombstone"},
    {"GET", "/v1/wire", "The wire log from a sequence number, with filters and long poll"},
    {"GET", "/v1/stream", "Live stream (Server-Sent Events), filtered, resumable"},
    {"GET", "/v1/ws", "Live stream (WebSocket), filtered, resumable, filter changes live"},
    {"POST", "/v1/subscribers", "Sign up a desktop, journalist or outlet with its filters; answers its token"},
    {"GET", "/v1/subscribers", "List subscribers, newest first, with cursor pagination (editor, admin)"},
    {"GET", "/v1/subscribers/{id}", "One subscriber (its own token, editor, admin)"},
    {"PATCH", "/v1/subscribers/{id}", "Change a subscriber's kind, name, e-mail, filters; trusted (editor)"},
    {"DELETE", "/v1/subscribers/{id}", "Delete a subscriber and revoke its tokens"},
    {"POST", "/v1/endpoints", "Register a webhook endpoint (outlet): url, secret, filters, format"},
    {"GET", "/v1/endpoints", "List webhook endpoints: the outlet's own; all for editors, admins"},
    {"GET", "/v1/endpoints/{id}", "One webhook endpoint, with its state and pending deliveries"},
    {"PATCH", "/v1/endpoints/{id}", "Change a webhook endpoint's url, secret, filters or format"},
    {"DELETE", "/v1/endpoints/{id}", "Delete a webhook endpoint with its outbox and log"},
    {"POST", "/v1/endpoints/{id}/resume", "Resume a paused webhook endpoint; what is pending goes out"},
    {"GET", "/v1/endpoints/{id}/deliveries", "A webhook endpoint's delivery log, newest first, with attempts"},
    {"POST", "/v1/signups", "A journalist asks for e-mail alerts on beats; a confirmation mail follows"},
    {"POST", "/websub", "WebSub hub: subscribe or unsubscribe a callback to a feed (W3C WebSub)"},
    {"GET", "/login", "Log-in page for people (e-mail and password); ?next= a path on this site"},
    {"POST", "/login", "Log in: a new session cookie and 303 to next; 401, 422, 429 when locked"},
    {"POST", "/logout", "Log out: ends the session (form with its CSRF token)"},
    {"GET", "/account", "The logged-in person's account: name, e-mail, role; log-out"},
    {"GET", "/reset", "Password reset: ask for a link by e-mail"},
    {"POST", "/reset", "Send a reset link (1 h, single use); the same answer for any address"},
    {"GET", "/reset/{token}", "Choose a new password with a reset link"},
    {"POST", "/reset/{token}", "Set the new password (12+ characters); ends all the user's sessions"},
    {"GET", "/admin/invites", "Invite issuers and editors, with the recent invitations (admin)"},
    {"POST", "/admin/invites", "Invite an issuer (with its organization) or an editor by e-mail (admin)"},
    {"GET", "/invite/{token}", "Accept an invitation: choose a name and password"},
    {"POST", "/invite/{token}", "Create the invited account and log in (link single use, 7 days)"},
    {"GET", "/desk/", "Issuer portal (own releases, live states) or editor desk (queue, calendar, live wire)"},
    {"GET", "/desk/new", "The release form with Markdown toolbar, time-zone picker and live preview (issuer)"},
    {"POST", "/desk/new", "Create a release from the form: save the draft or submit it (issuer)"},
    {"POST", "/desk/preview", "The release form rendered exactly as readers will see it (HTML fragment)"},
    {"GET", "/desk/releases/{id}", "One release: preview, status, report link and the actions its state allows"},
    {"POST", "/desk/releases/{id}", "Act on a release: save, submit, approve, reject, schedule, correct, withdraw"},
    {"GET", "/me/signup", "Create a subscriber account (journalist, desktop, outlet) with e-mail and password"},
    {"POST", "/me/signup", "Send the subscriber sign-up form: the account is made and logged in"},
    {"GET", "/me/", "A subscriber's own page: beats, preview of matching releases, e-mail timing, feeds"},
    {"POST", "/me/beats", "Preview (action=preview) or add (action=save) a beat (subscriber)"},
    {"POST", "/me/beats/remove", "Remove one of the subscriber's beats"},
    {"POST", "/me/timing", "Set the e-mail timing: immediate, hourly, daily (journalist)"},
    {"GET", "/me/live", "The subscriber's live page: its beats on /v1/stream"},
    {"GET", "/me/endpoints", "An outlet's webhook endpoints, with a form to add one"},
    {"POST", "/me/endpoints", "Add a webhook endpoint (outlet): its secret is shown once"},
    {"GET", "/me/endpoints/{id}", "One webhook endpoint of the outlet with its delivery log"},
    {"POST", "/me/endpoints/{id}", "Pause, resume or delete one of the outlet's endpoints (action=)"},
    {"GET", "/signup", "The e-mail alerts sign-up form for journalists"},
    {"POST", "/signup", "Send the sign-up form: a confirmation mail follows"},
    {"GET", "/confirm", "Open a sign-up's confirmation link (?token=): the alerts start"},
    {"GET", "/unsubscribe", "An alert mail's unsubscribe link (?token=): asks to confirm"},
    {"POST", "/unsubscribe", "Unsubscribe at once (RFC 8058 one-click, ?token=)"},
    {"GET", "/", "The home page in the default language"},
    {"GET", "/{language}/", "The latest releases in a language"},
    {"GET", "/{language}/sectors/{slug}/", "A language's releases in one sector"},
    {"GET", "/{language}/regions/{code}/", "A language's releases about one region (ISO 3166-1)"},
    {"GET", "/{language}/issuers/{slug}/", "An issuer's newsroom: its releases in a language"},
    {"GET", "/{language}/archive/", "The days with releases in a language"},
    {"GET", "/{language}/archive/{date}/", "One day's releases (UTC, YYYY-MM-DD)"},
    {"GET", "/{language}/releases/{id}", "A release page"},
    {"GET", "/sitemap.xml", "Sitemap index"},
    {"GET", "/sitemaps/{month}", "Sitemap of one month's release pages (YYYY-MM.xml), with hreflang"},
    {"GET", "/sitemap-news.xml", "Google News sitemap: the last two days, at most 1,000"},
    {"GET", "/robots.txt", "Robots rules and the sitemap's address"},
    {"GET", "/static/{file}", "Stylesheet, script and icon"},
    {"GET", "/{listing}/{feed}", "A listing's feed: rss.xml, atom.xml, feed.json, ninjs.json, newsml.xml"},
};

size_t api_routes(const api_route_info_t **out)
{
    *out = routes;
    return KW_ARRAY_SIZE(routes);
}

static int is_get(const net_request_t *req)
{
    return req->method == HTTP_GET || req->method == HTTP_HEAD;
}

static void method_not_allowed(net_request_t *req, const char *allow)
{
    char headers[128];
    snprintf(headers, sizeof(headers), "Allow: %s\r\nCache-Control: no-store\r\n", allow);
    char body[256];
    int n = snprintf(body, sizeof(body),
                     "{\"type\":\"/problems/method-not-allowed\",\"title\":\"Method not allowed\","
                     "\"status\":405,\"detail\":\"Allowed: %s\"}",
                     allow);
    net_respond(req, 405, "application/problem+json", headers, body, (size_t)n);
}

/* The 405 for pages and static files: a small HTML page, as browsers and
 * form posts expect, with the same Allow header. */
static void page_method_not_allowed(net_request_t *req)
{
    static const char body[] =
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>405 Method Not Allowed"
        "</title></head>\n<body><h1>405 Method Not Allowed</h1><p>Pages answer GET and HEAD."
        "</p><p><a href=\"/\">Home</a></p></body></html>\n";
    net_respond(req, 405, "text/html; charset=utf-8",
                "Allow: GET, HEAD\r\nCache-Control: no-store\r\n", body, sizeof(body) - 1);
}

/* Splits the path into at most max segments (not decoded further; the path
 * is already percent-decoded). Returns the count, -1 if a segment is "." or
 * ".." or empty ("//"), or -2 if there are more segments (no such page).
 * trailing is set if the path ends in '/'. */
static int split_path(kw_str_t path, kw_str_t *seg, int max, int *trailing)
{
    int n = 0;
    size_t i = 1;
    *trailing = path.len > 1 && path.data[path.len - 1] == '/';
    while (i < path.len) {
        size_t j = i;
        while (j < path.len && path.data[j] != '/') j++;
        if (j > i) {
            if (n == max) return -2;
            seg[n].data = path.data + i;
            seg[n].len = j - i;
            if (kw_str_eq(seg[n], ".") || kw_str_eq(seg[n], "..")) return -1;
            n++;
        } else if (j < path.len) {
            return -1; /* empty segment: "//" */
        }
        i = j + 1;
    }
    return n;
}

/* Release ids are 'r' and 15 lowercase base32 characters; anything else is
 * answered as a release that does not exist. */
static int id_copy(kw_str_t s, char *out, size_t size)
{
    if (s.len == 0 || s.len >= size || s.len > 40) return 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.data[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return 0;
    }
    memcpy(out, s.data, s.len);
    out[s.len] = '\0';
    return 1;
}

static void route_v1(kawat_app_t *app, net_request_t *req, kw_str_t *seg, int n)
{
    core_principal_t who;
    if (api_authenticate(app, req, &who) != KW_OK) return;
    kw_str_t a = n > 1 ? seg[1] : KW_STR_NULL;
    char id[48];

    if (n == 2 && kw_str_eq(a, "releases")) {
        if (req->method == HTTP_POST) { api_releases_create(app, req, &who); return; }
        if (is_get(req)) { api_releases_list(app, req, &who, 0); return; }
        { method_not_allowed(req, "GET, HEAD, POST"); return; }
    }
    if (n == 2 && kw_str_eq(a, "queue")) {
        if (is_get(req)) { api_releases_list(app, req, &who, 1); return; }
        { method_not_allowed(req, "GET, HEAD"); return; }
    }
    if (n == 2 && kw_str_eq(a, "stream")) {
        if (!is_get(req)) { method_not_allowed(req, "GET, HEAD"); return; }
        if (app->streams == NULL) {
            api_problem(req, 503, "unavailable", "Streams are off", "Use GET /v1/wire.", NULL);
            return;
        }
        stream_sse_open(app->streams, req, &who);
        return;
    }
    if (n == 2 && kw_str_eq(a, "ws")) {
        if (req->method != HTTP_GET) { method_not_allowed(req, "GET"); return; }
        if (app->streams == NULL) {
            api_problem(req, 503, "unavailable", "Streams are off", "Use GET /v1/wire.", NULL);
            return;
        }
        stream_ws_open(app->streams, req, &who);
        return;
    }
    if (n == 2 && kw_str_eq(a, "wire")) {
        if (is_get(req)) { api_wire_get(app, req, &who); return; }
        { method_not_allowed(req, "GET, HEAD"); return; }
    }
    if (n == 2 && kw_str_eq(a, "sectors")) {
        if (req->method == HTTP_POST) { api_sectors_add(app, req, &who); return; }
        if (is_get(req)) { api_sectors_list(app, req); return; }
        { method_not_allowed(req, "GET, HEAD, POST"); return; }
    }
    if (n == 2 && kw_str_eq(a, "languages")) {
        if (is_get(req)) { api_languages_list(app, req); return; }
        { method_not_allowed(req, "GET, HEAD"); return; }
    }
    if (n == 2 && kw_str_eq(a, "regions")) {
        if (is_get(req)) { api_regions_list(app, req); return; }
        { method_not_allowed(req, "GET, HEAD"); return; }
    }
    if (n == 2 && kw_str_eq(a, "me")) {
        if (is_get(req)) { api_me(app, req, &who); return; }
        { method_not_allowed(req, "GET, HEAD"); return; }
    }
    if (n == 2 && kw_str_eq(a, "signups")) {
        if (req->method == HTTP_POST) { api_signups_create(app, req); return; }
        { method_not_allowed(req, "POST"); return; }
    }
    if (n == 2 && kw_str_eq(a, "subscribers")) {
        if (req->method == HTTP_POST) { api_subscribers_create(app, req, &who); return; }
        if (is_get(req)) { api_subscribers_list(app, req, &who); return; }
        { method_not_allowed(req, "GET, HEAD, POST"); return; }
    }
    if (n == 3 && kw_str_eq(a, "subscribers")) {
        int known = is_get(req) || req->method == HTTP_PATCH || req->method == HTTP_DELETE;
        if (!known) { method_not_allowed(req, "GET, HEAD, PATCH, DELETE"); return; }
        /* An id of the wrong shape is a subscriber that does not exist. */
        if (!id_copy(seg[2], id, sizeof(id))) { api_subscriber_not_found(req); return; }
        if (is_get(req)) { api_subscribers_get(app, req, &who, id); return; }
        if (req->method == HTTP_PATCH) { api_subscribers_update(app, req, &who, id); return; }
        { api_subscribers_delete(app, req, &who, id); return; }
    }
    if (n == 2 && kw_str_eq(a, "endpoints")) {
        if (req->method == HTTP_POST) { api_endpoints_create(app, req, &who); return; }
        if (is_get(req)) { api_endpoints_list(app, req, &who); return; }
        { method_not_allowed(req, "GET, HEAD, POST"); return; }
    }
    if (n == 3 && kw_str_eq(a, "endpoints")) {
        int known = is_get(req) || req->method == HTTP_PATCH || req->method == HTTP_DELETE;
        if (!known) { method_not_allowed(req, "GET, HEAD, PATCH, DELETE"); return; }
        if (!id_copy(seg[2], id, sizeof(id))) { api_endpoint_not_found(req); return; }
        if (is_get(req)) { api_endpoints_get(app, req, &who, id); return; }
        if (req->method == HTTP_PATCH) { api_endpoints_update(app, req, &who, id); return; }
        { api_endpoints_delete(app, req, &who, id); return; }
    }
    if (n == 4 && kw_str_eq(a, "endpoints") &&
        (kw_str_eq(seg[3], "resume") || kw_str_eq(seg[3], "deliveries"))) {
        int resume = kw_str_eq(seg[3], "resume");
        if (resume && req->method != HTTP_POST) { method_not_allowed(req, "POST"); return; }
        if (!resume && !is_get(req)) { method_not_allowed(req, "GET, HEAD"); return; }
        if (!id_copy(seg[2], id, sizeof(id))) { api_endpoint_not_found(req); return; }
        if (resume) { api_endpoints_resume(app, req, &who, id); return; }
        { api_endpoints_deliveries(app, req, &who, id); return; }
    }
    if ((n == 3 || n == 4) && kw_str_eq(a, "releases")) {
        if (!id_copy(seg[2], id, sizeof(id))) {
            if (n == 3 && !is_get(req) && req->method != HTTP_PATCH)
                { method_not_allowed(req, "GET, HEAD, PATCH"); return; }
            { api_not_found(req); return; }
        }
        if (n == 3) {
            if (is_get(req)) { api_releases_get(app, req, &who, id); return; }
            if (req->method == HTTP_PATCH) { api_releases_act(app, req, &who, id, ACT_EDIT); return; }
            { method_not_allowed(req, "GET, HEAD, PATCH"); return; }
        }
        kw_str_t verb = seg[3];
        if (kw_str_eq(verb, "versions")) {
            if (is_get(req)) { api_releases_versions(app, req, &who, id); return; }
            { method_not_allowed(req, "GET, HEAD"); return; }
        }
        if (kw_str_eq(verb, "report")) {
            if (is_get(req)) { api_report_get(app, req, &who, id); return; }
            { method_not_allowed(req, "GET, HEAD"); return; }
        }
        static const struct {
            const char *name;
            core_action_t act;
        } verbs[] = {{"submit", ACT_SUBMIT},     {"approve", ACT_APPROVE},
                     {"reject", ACT_REJECT},     {"schedule", ACT_SCHEDULE},
                     {"correct", ACT_CORRECT},   {"withdraw", ACT_WITHDRAW}};
        for (size_t i = 0; i < KW_ARRAY_SIZE(verbs); i++) {
            if (kw_str_eq(verb, verbs[i].name)) {
                if (req->method != HTTP_POST) { method_not_allowed(req, "POST"); return; }
                { api_releases_act(app, req, &who, id, verbs[i].act); return; }
            }
        }
    }
    api_problem(req, 404, "not-found", "Not found", "No such API endpoint; see docs/api.md.",
                NULL);
}

void api_route(net_request_t *req, void *data)
{
    kawat_app_t *app = data;
    req->user = app;
    kw_str_t seg[8];
    int trailing;

    if (req->path.len == 0 || req->path.data[0] != '/') {
        api_problem(req, 400, "bad-request", "Bad request", "The request target must be a path.",
                    NULL);
        return;
    }
    int n = split_path(req->path, seg, 8, &trailing);
    if (n < 0) {
        int status = n == -1 ? 400 : 404;
        if (req->path.len >= 3 && memcmp(req->path.data, "/v1", 3) == 0 &&
            (req->path.len == 3 || req->path.data[3] == '/')) {
            if (status == 404)
                api_problem(req, 404, "not-found", "Not found",
                            "No such API endpoint; see docs/api.md.", NULL);
            else
                api_problem(req, 400, "bad-request", "Bad request",
                            "The path must not contain empty, '.' or '..' segments.", NULL);
        } else {
            web_error(app, req, NULL, status);
        }
        return;
    }

    if (n >= 1 && kw_str_eq(seg[0], "v1")) { route_v1(app, req, seg, n); return; }

    if (n == 1 && kw_str_eq(seg[0], "healthz")) {
        if (!is_get(req)) { method_not_allowed(req, "GET, HEAD"); return; }
        static const char ok[] = "{\"status\":\"ok\"}";
        net_respond(req, app->stopping ? 503 : 200, "application/json",
                    "Cache-Control: no-store\r\n", ok, sizeof(ok) - 1);
        return;
    }
    if (n == 1 && kw_str_eq(seg[0], "metrics")) {
        if (!is_get(req)) { method_not_allowed(req, "GET, HEAD"); return; }
        core_principal_t who;
        if (api_authenticate(app, req, &who) != KW_OK) return;
        { api_metrics(app, req, &who); return; }
    }

    if (n == 1 && kw_str_eq(seg[0], "websub") && !trailing) {
        if (req->method != HTTP_POST) { method_not_allowed(req, "POST"); return; }
        { feeds_websub_request(app, req); return; }
    }

    /* The e-mail alert pages take POST too (a form, RFC 8058 one-click). */
    if (web_signup_route(app, req, seg, n, trailing)) return;

    /* People's pages (web_account.c) take forms too. */
    if (web_account_route(app, req, seg, n, trailing)) return;

    /* Subscriber self-service (web_subscriber.c) takes forms too. */
    if (web_subscriber_route(app, req, seg, n, trailing)) return;

    /* The issuer portal and the editor desk (web_desk.c) take forms too. */
    if (web_desk_route(app, req, seg, n, trailing)) return;

    /* Pages, feeds, sitemaps: GET and HEAD only. */
    if (!is_get(req)) { page_method_not_allowed(req); return; }
    web_route(app, req, seg, n, trailing);
}
