/* web_session.c -- who a browser is: the kawat_session cookie, its session
 * in the store, and the CSRF rule for API calls the cookie authenticates.
 *
 * Design note: a session id is 256 random bits the browser holds in an
 * HttpOnly cookie; the store keeps only its SHA-256, so reading the
 * database does not let anyone act as a logged-in person. A session ends
 * 12 hours after it was last seen or 7 days after log-in, whichever comes
 * first (STORE_SESSION_*); last_seen is written at most once a minute so
 * that browsing does not turn every page view into a write. */
#include "web/web.h"

#include <string.h>
#include <strings.h>

#include <http_parser.h>

#define TOUCH_EVERY_MS 60000

int web_cookie_get(const net_request_t *req, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    for (size_t h = 0; h < req->nheaders; h++) {
        if (!kw_str_caseeq(req->headers[h].name, "cookie")) continue;
        const char *p = req->headers[h].value.data, *end = p + req->headers[h].value.len;
        while (p < end) {
            /* "a=1; b=2": one pair up to ';', spaces around it ignored. */
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *stop = semi ? semi : end;
            while (p < stop && *p == ' ')
                p++;
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            if (eq && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
                const char *v = eq + 1, *ve = stop;
                while (ve > v && ve[-1] == ' ')
                    ve--;
                size_t vlen = (size_t)(ve - v);
                if (vlen == 0 || vlen >= size) return KW_NOTFOUND;
                memcpy(out, v, vlen);
                out[vlen] = '\0';
                return KW_OK;
            }
            p = semi ? semi + 1 : end;
        }
    }
    return KW_NOTFOUND;
}

/* Whether z has the shape auth_secret_generate() makes. */
static int secret_shaped(const char *z)
{
    size_t n = strlen(z);
    if (n != AUTH_SECRET_LEN) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = z[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static void touch_done(store_op_t *op)
{
    store_op_free(op);
}

int web_session_get(kawat_app_t *app, net_request_t *req, web_session_t *out)
{
    char cookie[AUTH_SECRET_SIZE + 8];
    memset(out, 0, sizeof(*out));
    if (web_cookie_get(req, WEB_SESSION_COOKIE, cookie, sizeof(cookie)) != KW_OK ||
        !secret_shaped(cookie))
        return KW_NOTFOUND;
    auth_token_hash(cookie, strlen(cookie), out->id_hash);
    int64_t now = kw_now_ms();
    if (store_session_get(app->store, out->id_hash, now, &out->s) != KW_OK) {
        memset(out, 0, sizeof(*out));
        return KW_NOTFOUND;
    }
    if (now - out->s.last_seen > TOUCH_EVERY_MS) {
        store_op_t *op = store_op_new(STORE_OP_SESSION_TOUCH, touch_done, NULL);
        op->input = json_pack("{s:s}", "id_hash", out->id_hash);
        store_submit(app->store, op);
    }
    return KW_OK;
}

int web_session_authenticate(kawat_app_t *app, net_request_t *req, core_principal_t *who)
{
    web_session_t ses;
    memset(who, 0, sizeof(*who));
    who->role = ROLE_NONE;
    /* A stale or unknown cookie is no error: the request is anonymous, as
     * it would be without the cookie. */
    if (web_session_get(app, req, &ses) != KW_OK) return KW_OK;
    int safe = req->method == HTTP_GET || req->method == HTTP_HEAD || req->method == HTTP_OPTIONS;
    if (!safe) {
        const kw_str_t *h = net_request_header(req, "x-csrf-token");
        size_t n = strlen(ses.s.csrf);
        if (h == NULL || h->len != n || !auth_consttime_eq(h->data, ses.s.csrf, n)) {
            app->auth_failures++;
            api_problem(req, 403, "csrf", "Forbidden",
                        "A request authenticated by the session cookie must send the "
                        "session's CSRF token in X-CSRF-Token.",
                        NULL);
            return KW_FORBIDDEN;
        }
    }
    *who = ses.s.who;
    return KW_OK;
}
