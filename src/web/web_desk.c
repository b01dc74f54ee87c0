/* web_desk.c -- the wire for the people who make it: the issuer portal
 * (write, preview, submit, correct and withdraw releases, follow their
 * state) and the editor desk (the review queue with the full preview,
 * approve, reject, schedule; the calendar of waiting releases; the live
 * wire), server-rendered in the person's language.
 *
 * Design note: every action is a plain HTML form posting to a /desk page
 * route with the session's CSRF token; the route turns the form into the
 * same JSON input the API takes and queues the same store op, so the store
 * alone decides visibility, roles and states (an issuer's op on another
 * issuer's release fails exactly like one on a missing id). /static/desk.js
 * only adds what a script can: the Markdown toolbar, the time-zone picker,
 * the live preview (POST /desk/preview, the article markup of
 * web_release_article), live states and the live wire. Without it every
 * page still works. */
#include "web/web_form.h"
#include "core/core_lang.h"
#include "core/core_sector.h"
#include "core/core_time.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LIST_MAX 100
#define WIRE_SHOWN 30
enum { PAGE_HOME, PAGE_NEW, PAGE_PREVIEW, PAGE_RELEASE };

/* One request to a desk page, kept across the store's writer. */
typedef struct {
    kawat_app_t *app;
    net_request_t *req;
    const core_lang_t *lang;
    web_session_t ses;
    const core_principal_t *who; /* &ses.s.who */
    kw_buf_t headers;
    net_params_t form;
    int have_form;
    int page;
    char id[32];
    char action[16];
    int then_submit; /* save, then submit */
} desk_t;

/* ---- small helpers ---- */

static void put_msg(kw_buf_t *b, desk_t *d, core_msg_t id)
{
    web_form_msg(b, d->app, d->lang, id);
}

static const char *form_get(desk_t *d, const char *name)
{
    return web_form_get(&d->form, d->have_form, name);
}

static int form_has(desk_t *d, const char *name, const char *value)
{
    return web_form_has(&d->form, d->have_form, name, value);
}

static int is_editor(const desk_t *d)
{
    return d->who->role == ROLE_EDITOR || d->who->role == ROLE_ADMIN;
}

/* Whether the desk shows r to d's person: editors and admins every
 * release, an issuer only its own (even published ones of others are
 * theirs to read on the portal, not to act on here). */
static int desk_visible(const desk_t *d, const core_release_t *r)
{
    return core_release_visible(r, d->who) && (is_editor(d) || core_release_owned_by(r, d->who));
}

static int csrf_ok(desk_t *d)
{
    return web_form_csrf_ok(d->ses.s.csrf, form_get(d, "csrf"));
}

static void desk_free(desk_t *d)
{
    kw_buf_free(&d->headers);
    if (d->have_form) net_query_free(&d->form);
    free(d);
}

static core_msg_t state_msg(core_state_t s)
{
    switch (s) {
    case REL_DRAFT:
        return MSG_STATE_DRAFT;
    case REL_SUBMITTED:
        return MSG_STATE_SUBMITTED;
    case REL_REJECTED:
        return MSG_STATE_REJECTED;
    case REL_SCHEDULED:
        return MSG_STATE_SCHEDULED;
    case REL_EMBARGOED:
        return MSG_STATE_EMBARGOED;
    case REL_PUBLISHED:
        return MSG_PUBLISHED;
    case REL_CORRECTED:
        return MSG_CORRECTED;
    default:
        return MSG_STATE_WITHDRAWN;
    }
}

static void time_el(kw_buf_t *b, desk_t *d, int64_t ms)
{
    char iso[40];
    core_time_format_rfc3339(ms, iso, sizeof(iso));
    char *when = core_time_format_local(ms, d->lang->icu_locale, CORE_TIME_DATETIME);
    kw_buf_printf(b, "<time datetime=\"%s\">", iso);
    web_escape(b, when);
    kw_buf_puts(b, " UTC</time>");
    free(when);
}

/* ---- the page shell ---- */

static void page_start(desk_t *d, kw_buf_t *b, const char *title)
{
    web_form_head(b, d->app, d->lang, title, d->ses.s.csrf, "/static/desk.js");
    kw_buf_puts(b, "<nav class=\"desk\"><a href=\"/desk/\">");
    put_msg(b, d, d->who->role == ROLE_ISSUER ? MSG_DESK_TITLE : MSG_DESK_QUEUE);
    kw_buf_puts(b, "</a>");
    if (d->who->role == ROLE_ISSUER) {
        kw_buf_puts(b, " <a href=\"/desk/new\">");
        put_msg(b, d, MSG_DESK_NEW);
        kw_buf_puts(b, "</a>");
    }
    kw_buf_puts(b, " <a href=\"/account\"><bdi>");
    web_escape(b, d->who->name);
    kw_buf_puts(b, "</bdi></a></nav>\n");
    web_form_language_picker(b, d->app, d->lang, d->req, NULL);
    web_form_main(b, title, "desk", " dir=\"auto\"");
}

/* Ends the page, sends it with status and frees d. */
static void page_send(desk_t *d, kw_buf_t *b, int status)
{
    web_form_send(d->req, status, &d->headers, NULL, b);
    desk_free(d);
}

static void message_page(desk_t *d, int status, core_msg_t title, core_msg_t text)
{
    kw_buf_t b = {0};
    char *t = core_lang_format(d->lang, title, d->app->wire_name);
    page_start(d, &b, t);
    free(t);
    kw_buf_puts(&b, "<p class=\"alert\" role=\"alert\">");
    put_msg(&b, d, text);
    kw_buf_puts(&b, "</p>\n<p><a href=\"/desk/\">");
    put_msg(&b, d, is_editor(d) ? MSG_DESK_QUEUE : MSG_DESK_TITLE);
    kw_buf_puts(&b, "</a></p>\n");
    page_send(d, &b, status);
}

static void not_found(desk_t *d)
{
    message_page(d, 404, MSG_NOT_FOUND, MSG_NOT_FOUND_DETAIL);
}

static void redirect(desk_t *d, const char *location)
{
    web_form_redirect(d->req, &d->headers, location);
    desk_free(d);
}

static void form_open(desk_t *d, kw_buf_t *b, const char *action, const char *cls)
{
    kw_buf_printf(b, "<form method=\"post\" class=\"%s\" action=\"", cls);
    web_escape(b, action);
    kw_buf_puts(b, "\" novalidate>\n<input type=\"hidden\" name=\"csrf\" value=\"");
    web_escape(b, d->ses.s.csrf);
    kw_buf_puts(b, "\">\n");
}

static void button(desk_t *d, kw_buf_t *b, const char *action, core_msg_t label)
{
    kw_buf_printf(b, "<button type=\"submit\" name=\"action\" value=\"%s\">", action);
    put_msg(b, d, label);
    kw_buf_puts(b, "</button>\n");
}

/* A release's language by its own name ("Bahasa Indonesia" for id),
 * marked with its tag; the tag itself for a language kawat lost. */
static void language_name(kw_buf_t *b, const char *tag)
{
    const core_lang_t *l = core_lang_find_z(tag);
    kw_buf_printf(b, "<bdi class=\"language\" lang=\"%s\">", tag);
    web_escape(b, l ? l->native : tag);
    kw_buf_puts(b, "</bdi>");
}

/* ---- validation errors next to their fields ---- */

/* The form field a store error names: "sectors[1]" is sectors,
 * "contacts[0].email" contacts, either time is "when". */
static void error_field(const char *field, char *out, size_t size)
{
    size_t n = strcspn(field, "[.");
    snprintf(out, size, "%.*s", (int)n, field);
    if (strcmp(out, "embargo_until") == 0 || strcmp(out, "publish_at") == 0)
        snprintf(out, size, "when");
}

static const char *error_for(const core_errors_t *errs, const char *name)
{
    if (errs == NULL) return NULL;
    for (size_t i = 0; i < errs->count; i++) {
        char f[64];
        error_field(errs->items[i].field, f, sizeof(f));
        if (strcmp(f, name) == 0) return errs->items[i].detail;
    }
    return NULL;
}

static int starts_with(const char *z, const char *prefix)
{
    return strncmp(z, prefix, strlen(prefix)) == 0;
}

/* The localized message for a store error on the form field name, or -1
 * when there is none. The store's details are English API text
 * (core_release.c, store_sqlite.c); only their stable beginnings are
 * matched, so a reworded detail falls back to being shown as it is. */
static int error_msg(const char *name, const char *detail)
{
    if (strcmp(name, "note") == 0 && starts_with(detail, "is required")) return MSG_DESK_ERR_NOTE;
    if (!*detail || starts_with(detail, "is required") ||
        starts_with(detail, "must not be empty") ||
        starts_with(detail, "give publish_at or embargo_until"))
        return MSG_ACCT_REQUIRED;
    if (starts_with(detail, "is too long") ||
        starts_with(detail, "must be a non-empty string of at most"))
        return MSG_ACCT_TOO_LONG;
    if (strcmp(name, "sectors") == 0 && starts_with(detail, "unknown sector"))
        return MSG_DESK_ERR_SECTOR;
    if (strcmp(name, "regions") == 0 && starts_with(detail, "must be an ISO 3166-1 alpha-2 code"))
        return MSG_DESK_ERR_REGION;
    if (strcmp(name, "language") == 0 && starts_with(detail, "unknown language"))
        return MSG_DESK_ERR_LANGUAGE;
    if (strcmp(name, "when") == 0 && starts_with(detail, "must be an RFC 3339"))
        return MSG_DESK_ERR_TIME;
    if (strcmp(name, "when") == 0 && starts_with(detail, "is in the past"))
        return MSG_DESK_ERR_PAST;
    return -1;
}

/* The error next to a field: a localized message where the store's detail
 * maps to one, else "Please check this field." with the detail as it is. */
static void field_error(kw_buf_t *b, desk_t *d, const char *name, const char *err)
{
    if (err == NULL) return;
    kw_buf_printf(b, "<span class=\"error\" id=\"%s-error\">", name);
    int msg = error_msg(name, err);
    if (msg >= 0) {
        put_msg(b, d, (core_msg_t)msg);
    } else {
        put_msg(b, d, MSG_SIGNUP_INVALID);
        kw_buf_puts(b, " (");
        web_escape(b, err);
        kw_buf_puts(b, ")");
    }
    kw_buf_puts(b, "</span>\n");
}

static void field_open(kw_buf_t *b, desk_t *d, const char *name, core_msg_t label, const char *err)
{
    kw_buf_printf(b, "<p class=\"field%s\"><label for=\"f-%s\">", err ? " invalid" : "", name);
    put_msg(b, d, label);
    kw_buf_puts(b, "</label>\n");
}

static void field_attrs(kw_buf_t *b, const char *name, const char *err, int hint)
{
    kw_buf_printf(b, " id=\"f-%s\" name=\"%s\"", name, name);
    if (err)
        kw_buf_printf(b, " aria-invalid=\"true\" aria-describedby=\"%s-error\"", name);
    else if (hint)
        kw_buf_printf(b, " aria-describedby=\"%s-hint\"", name);
}

static void hint_span(kw_buf_t *b, desk_t *d, const char *name, int hint, const char *err)
{
    if (hint < 0 || err) return;
    kw_buf_printf(b, "<span class=\"hint\" id=\"%s-hint\">", name);
    put_msg(b, d, (core_msg_t)hint);
    kw_buf_puts(b, "</span>\n");
}

static void text_field(kw_buf_t *b, desk_t *d, const char *name, core_msg_t label,
                       const char *value, const core_errors_t *errs, int hint)
{
    const char *err = error_for(errs, name);
    field_open(b, d, name, label, err);
    kw_buf_puts(b, "<input type=\"text\" dir=\"auto\"");
    field_attrs(b, name, err, hint >= 0);
    kw_buf_puts(b, " value=\"");
    web_escape(b, value ? value : "");
    kw_buf_puts(b, "\">\n");
    hint_span(b, d, name, hint, err);
    field_error(b, d, name, err);
    kw_buf_puts(b, "</p>\n");
}

/* The Markdown toolbar's labels, which desk.js puts on its buttons. */
static void md_labels(kw_buf_t *b, desk_t *d)
{
    static const struct {
        const char *attr;
        core_msg_t msg;
    } labels[] = {{"data-md-toolbar", MSG_DESK_MD_TOOLBAR},
                  {"data-md-bold", MSG_DESK_MD_BOLD},
                  {"data-md-italic", MSG_DESK_MD_ITALIC},
                  {"data-md-link", MSG_DESK_MD_LINK},
                  {"data-md-list", MSG_DESK_MD_LIST}};
    for (size_t i = 0; i < KW_ARRAY_SIZE(labels); i++) {
        kw_buf_printf(b, " %s=\"", labels[i].attr);
        put_msg(b, d, labels[i].msg);
        kw_buf_puts(b, "\"");
    }
}

static void area_field(kw_buf_t *b, desk_t *d, const char *name, core_msg_t label,
                       const char *value, const core_errors_t *errs, int hint, int rows)
{
    const char *err = error_for(errs, name);
    field_open(b, d, name, label, err);
    kw_buf_printf(b, "<textarea rows=\"%d\" dir=\"auto\"", rows);
    field_attrs(b, name, err, hint >= 0);
    if (strcmp(name, "body") == 0) md_labels(b, d);
    kw_buf_puts(b, ">");
    /* A textarea drops one leading newline: keep the text's own. */
    if (value && value[0] == '\n') kw_buf_puts(b, "\n");
    web_escape(b, value ? value : "");
    kw_buf_puts(b, "</textarea>\n");
    hint_span(b, d, name, hint, err);
    field_error(b, d, name, err);
    kw_buf_puts(b, "</p>\n");
}

/* The time fields: timing (now, embargo, schedule) and when (RFC 3339).
 * desk.js adds the time-zone picker that fills when. */
static void timing_fields(kw_buf_t *b, desk_t *d, const char *timing, const char *when,
                          const core_errors_t *errs, int with_now)
{
    static const struct {
        const char *value;
        core_msg_t label;
    } opts[] = {{"now", MSG_DESK_AT_ONCE},
                {"embargo", MSG_DESK_EMBARGO},
                {"schedule", MSG_DESK_SCHEDULE_AT}};
    kw_buf_puts(b, "<fieldset class=\"timing\"><legend>");
    put_msg(b, d, MSG_DESK_TIMING);
    kw_buf_puts(b, "</legend>\n");
    for (size_t i = with_now ? 0 : 1; i < KW_ARRAY_SIZE(opts); i++) {
        int on = strcmp(timing, opts[i].value) == 0 || (!*timing && i == (with_now ? 0u : 1u));
        kw_buf_printf(b, "<label><input type=\"radio\" name=\"timing\" value=\"%s\"%s> ",
                      opts[i].value, on ? " checked" : "");
        put_msg(b, d, opts[i].label);
        kw_buf_puts(b, "</label>\n");
    }
    const char *err = error_for(errs, "when");
    kw_buf_printf(b, "<span class=\"field%s\"><label for=\"f-when\">", err ? " invalid" : "");
    put_msg(b, d, MSG_DESK_WHEN);
    kw_buf_puts(b, "</label>\n<input type=\"text\" dir=\"ltr\" inputmode=\"text\" "
                   "placeholder=\"2026-12-01T09:00:00+07:00\" data-timezone-label=\"");
    put_msg(b, d, MSG_DESK_TIMEZONE);
    kw_buf_puts(b, "\"");
    field_attrs(b, "when", err, 0);
    kw_buf_puts(b, " value=\"");
    web_escape(b, when);
    kw_buf_puts(b, "\">\n");
    field_error(b, d, "when", err);
    kw_buf_puts(b, "</span></fieldset>\n");
}

/* ---- form to release input ---- */

static char *trimmed(const char *z)
{
    while (*z == ' ' || *z == '\t' || *z == '\r' || *z == '\n')
        z++;
    size_t n = strlen(z);
    while (n && (z[n - 1] == ' ' || z[n - 1] == '\t' || z[n - 1] == '\r' || z[n - 1] == '\n'))
        n--;
    return kw_strndup(z, n);
}

/* An optional text: its value, or (when empty) null to clear it on an edit
 * and nothing on a creation. */
static void set_optional(json_t *in, const char *key, const char *z, int creating)
{
    char *t = trimmed(z);
    if (*t)
        json_object_set_new(in, key, json_string(t));
    else if (!creating)
        json_object_set_new(in, key, json_null());
    free(t);
}

/* "name; e-mail; phone" per line: contacts as the API takes them. The
 * second and third parts are recognized by shape (an '@' is an address). */
static json_t *contacts_input(const char *z)
{
    json_t *arr = json_array();
    char *copy = kw_strdup(z), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *t = trimmed(line);
        if (!*t) {
            free(t);
            continue;
        }
        json_t *c = json_object();
        char *save2 = NULL;
        int k = 0;
        for (char *part = strtok_r(t, ";", &save2); part; part = strtok_r(NULL, ";", &save2)) {
            char *p = trimmed(part);
            if (*p) {
                const char *key = k == 0 ? "name" : strchr(p, '@') ? "email" : "phone";
                if (json_object_get(c, key) == NULL) json_object_set_new(c, key, json_string(p));
            }
            free(p);
            k++;
        }
        json_array_append_new(arr, c);
        free(t);
    }
    free(copy);
    return arr;
}

static json_t *regions_input(const char *z)
{
    json_t *arr = json_array();
    char *copy = kw_strdup(z), *save = NULL;
    for (char *t = strtok_r(copy, ", \t\r\n", &save); t; t = strtok_r(NULL, ", \t\r\n", &save))
        json_array_append_new(arr, json_string(t));
    free(copy);
    return arr;
}

/* The release form as the API's JSON input. A timing other than "now"
 * without a time is an error of the field "when", added to errs. */
static json_t *release_input(desk_t *d, int creating, core_errors_t *errs)
{
    json_t *in = json_object();
    json_object_set_new(in, "headline", json_string(form_get(d, "headline")));
    json_object_set_new(in, "body", json_string(form_get(d, "body")));
    json_object_set_new(in, "language", json_string(form_get(d, "language")));
    set_optional(in, "subheadline", form_get(d, "subheadline"), creating);
    set_optional(in, "translation_group", form_get(d, "translation_group"), creating);
    set_optional(in, "dateline_place", form_get(d, "dateline_place"), creating);
    json_t *sectors = json_array();
    for (size_t i = 0; d->have_form && i < d->form.count; i++)
        if (strcmp(d->form.items[i].name, "sectors") == 0)
            json_array_append_new(sectors, json_string(d->form.items[i].value));
    json_object_set_new(in, "sectors", sectors);
    json_object_set_new(in, "regions", regions_input(form_get(d, "regions")));
    json_object_set_new(in, "contacts", contacts_input(form_get(d, "contacts")));
    const char *timing = form_get(d, "timing");
    char *when = trimmed(form_get(d, "when"));
    int embargo = strcmp(timing, "embargo") == 0, schedule = strcmp(timing, "schedule") == 0;
    if ((embargo || schedule) && !*when) core_errors_add(errs, "when", "%s", "");
    if (embargo && *when) json_object_set_new(in, "embargo_until", json_string(when));
    if (schedule && *when) json_object_set_new(in, "publish_at", json_string(when));
    if (!creating) {
        if (!embargo) json_object_set_new(in, "embargo_until", json_null());
        if (!schedule) json_object_set_new(in, "publish_at", json_null());
    }
    free(when);
    return in;
}

/* ---- the release form (issuers) ---- */

static void contacts_text(kw_buf_t *out, json_t *contacts)
{
    size_t i;
    json_t *c;
    json_array_foreach(contacts, i, c)
    {
        const char *keys[] = {"name", "email", "phone"};
        int first = 1;
        for (size_t k = 0; k < 3; k++) {
            const char *v = json_string_value(json_object_get(c, keys[k]));
            if (!v) continue;
            if (!first) kw_buf_puts(out, "; ");
            kw_buf_puts(out, v);
            first = 0;
        }
        kw_buf_puts(out, "\n");
    }
}

static void join_array(kw_buf_t *out, json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (i) kw_buf_puts(out, ", ");
        kw_buf_puts(out, json_string_value(v) ? json_string_value(v) : "");
    }
}

/* The form, filled from what was typed (d->have_form) or else from r
 * (NULL: an empty form). action: where it posts. */
static void release_form(desk_t *d, kw_buf_t *b, const char *action, const core_release_t *r,
                         const core_errors_t *errs)
{
    int typed = d->have_form && strcmp(d->action, "save") == 0     ? 1
                : d->have_form && strcmp(d->action, "submit") == 0 ? 1
                                                                   : 0;
    kw_buf_t regions = {0}, contacts = {0};
    char when[40] = "";
    const char *timing = "now";
    if (!typed && r) {
        join_array(&regions, r->regions);
        contacts_text(&contacts, r->contacts);
        if (r->embargo_until) {
            core_time_format_rfc3339(r->embargo_until, when, sizeof(when));
            timing = "embargo";
        } else if (r->publish_at) {
            core_time_format_rfc3339(r->publish_at, when, sizeof(when));
            timing = "schedule";
        }
    }
#define VALUE(name, field) (typed ? form_get(d, name) : r && r->field ? r->field : "")
    form_open(d, b, action, "release-form");
    if (errs && errs->count) {
        kw_buf_puts(b, "<p class=\"alert\" role=\"alert\">");
        put_msg(b, d, MSG_SIGNUP_INVALID);
        kw_buf_puts(b, "</p>\n");
    }
    text_field(b, d, "headline", MSG_FIELD_HEADLINE, VALUE("headline", headline), errs, -1);
    text_field(b, d, "subheadline", MSG_FIELD_SUBHEADLINE, VALUE("subheadline", subheadline), errs,
               -1);
    /* The Markdown toolbar goes above the body (desk.js). */
    area_field(b, d, "body", MSG_FIELD_BODY, VALUE("body", body), errs, -1, 14);

    const char *lang = typed ? form_get(d, "language") : r ? r->language : d->lang->tag;
    const char *err = error_for(errs, "language");
    field_open(b, d, "language", MSG_DESK_LANGUAGE, err);
    kw_buf_puts(b, "<select");
    field_attrs(b, "language", err, 0);
    kw_buf_puts(b, ">");
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *o = core_lang_at(i);
        kw_buf_printf(b, "<option value=\"%s\" lang=\"%s\"%s>", o->tag, o->tag,
                      strcmp(o->tag, lang) == 0 ? " selected" : "");
        web_escape(b, o->native);
        kw_buf_puts(b, "</option>");
    }
    kw_buf_puts(b, "</select>\n");
    field_error(b, d, "language", err);
    kw_buf_puts(b, "</p>\n");

    text_field(b, d, "translation_group", MSG_DESK_GROUP,
               VALUE("translation_group", translation_group), errs, -1);
    text_field(b, d, "dateline_place", MSG_FIELD_DATELINE, VALUE("dateline_place", dateline_place),
               errs, -1);

    /* The managed sector list, as check boxes. */
    err = error_for(errs, "sectors");
    kw_buf_printf(b, "<fieldset class=\"sectors%s\"%s><legend>", err ? " invalid" : "",
                  err ? " aria-describedby=\"sectors-error\"" : "");
    put_msg(b, d, MSG_SECTORS);
    kw_buf_puts(b, "</legend>\n");
    json_t *sectors = store_sectors(d->app->store);
    size_t i;
    json_t *s;
    json_array_foreach(sectors, i, s)
    {
        const char *slug = json_string_value(json_object_get(s, "slug"));
        if (slug == NULL) continue;
        int on = typed ? form_has(d, "sectors", slug) : r && web_json_has(r->sectors, slug);
        kw_buf_puts(b, "<label><input type=\"checkbox\" name=\"sectors\" value=\"");
        web_escape(b, slug);
        kw_buf_printf(b, "\"%s> ", on ? " checked" : "");
        const char *name = core_sector_name(slug, d->lang);
        web_escape(b, name ? name : json_string_value(json_object_get(s, "name")));
        kw_buf_puts(b, "</label>\n");
    }
    json_decref(sectors);
    field_error(b, d, "sectors", err);
    kw_buf_puts(b, "</fieldset>\n");

    text_field(b, d, "regions", MSG_SIGNUP_REGIONS, typed ? form_get(d, "regions") : regions.data,
               errs, -1);
    area_field(b, d, "contacts", MSG_CONTACTS, typed ? form_get(d, "contacts") : contacts.data,
               errs, MSG_DESK_CONTACTS_HINT, 3);
    timing_fields(b, d, typed ? form_get(d, "timing") : timing, typed ? form_get(d, "when") : when,
                  errs, 1);
    kw_buf_puts(b, "<p class=\"actions\">");
    button(d, b, "save", MSG_DESK_SAVE);
    button(d, b, "submit", MSG_DESK_SUBMIT);
    kw_buf_puts(b, "</p>\n</form>\n");
    /* Where desk.js shows the live preview. */
    kw_buf_puts(b, "<section class=\"preview\" aria-labelledby=\"preview-h\" aria-live=\"polite\">"
                   "<h2 id=\"preview-h\">");
    put_msg(b, d, MSG_DESK_PREVIEW);
    kw_buf_puts(b, "</h2>\n<div id=\"preview\" data-src=\"/desk/preview\"></div></section>\n");
#undef VALUE
    kw_buf_free(&regions);
    kw_buf_free(&contacts);
}

/* ---- the home page: own releases, or the queue, calendar and wire ---- */

static json_t *state_names(desk_t *d)
{
    json_t *o = json_object();
    for (int s = 0; s < REL_STATE_COUNT_; s++) {
        char *z = core_lang_format(d->lang, state_msg((core_state_t)s), d->app->wire_name);
        json_object_set_new(o, core_state_name((core_state_t)s), json_string(z));
        free(z);
    }
    return o;
}

static void release_link(kw_buf_t *b, const core_release_t *r)
{
    kw_buf_printf(b, "<a href=\"/desk/releases/%s\" dir=\"auto\">", r->id);
    web_escape(b, r->headline);
    kw_buf_puts(b, "</a>");
}

static void state_cell(kw_buf_t *b, desk_t *d, const core_release_t *r)
{
    kw_buf_printf(b, "<span class=\"state state-%s\" data-state=\"%s\">", core_state_name(r->state),
                  core_state_name(r->state));
    put_msg(b, d, state_msg(r->state));
    kw_buf_puts(b, "</span>");
    if (r->state == REL_REJECTED && r->rejection_reason) {
        kw_buf_puts(b, "<span class=\"reason\">");
        put_msg(b, d, MSG_REASON);
        kw_buf_puts(b, core_lang_label_separator(d->lang));
        kw_buf_puts(b, "<bdi>");
        web_escape(b, r->rejection_reason);
        kw_buf_puts(b, "</bdi></span>");
    }
}

static int list_releases(desk_t *d, unsigned mask, core_release_t ***items, size_t *n)
{
    store_query_t q = {.scope = STORE_SCOPE_ALL, .states_mask = mask, .limit = LIST_MAX};
    if (d->who->role == ROLE_ISSUER) q.issuer_id = d->who->issuer_id;
    int64_t next = 0;
    *items = NULL;
    *n = 0;
    return store_release_list(d->app->store, &q, items, n, &next);
}

static void free_list(core_release_t **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        core_release_free(items[i]);
    free(items);
}

static void issuer_home(desk_t *d, kw_buf_t *b)
{
    core_release_t **items;
    size_t n;
    kw_buf_puts(b, "<p><a class=\"button\" href=\"/desk/new\">");
    put_msg(b, d, MSG_DESK_NEW);
    kw_buf_puts(b, "</a></p>\n");
    if (list_releases(d, ~0u, &items, &n) != KW_OK || n == 0) {
        kw_buf_puts(b, "<p class=\"empty\">");
        put_msg(b, d, MSG_NO_RELEASES);
        kw_buf_puts(b, "</p>\n");
        free_list(items, n);
        return;
    }
    json_t *names = state_names(d);
    char *z = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    kw_buf_puts(b, "<ol class=\"desk-list\" id=\"own\" data-states=\"");
    web_escape(b, z);
    kw_buf_puts(b, "\" data-report-label=\"");
    put_msg(b, d, MSG_DESK_REPORT);
    kw_buf_puts(b, "\">\n");
    free(z);
    for (size_t i = 0; i < n; i++) {
        const core_release_t *r = items[i];
        kw_buf_printf(b, "<li data-id=\"%s\" lang=\"%s\"><h2>", r->id, r->language);
        release_link(b, r);
        kw_buf_puts(b, "</h2><p class=\"meta\">");
        state_cell(b, d, r);
        kw_buf_puts(b, " · ");
        time_el(b, d, r->updated_at);
        if (core_release_is_public(r)) {
            kw_buf_printf(b, " · <a class=\"report\" href=\"/v1/releases/%s/report?format=html\">",
                          r->id);
            put_msg(b, d, MSG_DESK_REPORT);
            kw_buf_puts(b, "</a>");
        }
        kw_buf_puts(b, "</p></li>\n");
    }
    kw_buf_puts(b, "</ol>\n");
    free_list(items, n);
}

static int by_due(const void *a, const void *b)
{
    int64_t x = core_release_due(*(core_release_t *const *)a);
    int64_t y = core_release_due(*(core_release_t *const *)b);
    return x < y ? -1 : x > y;
}

static void editor_home(desk_t *d, kw_buf_t *b)
{
    core_release_t **items;
    size_t n;
    /* The queue, oldest first: the store lists newest first. */
    if (list_releases(d, 1u << REL_SUBMITTED, &items, &n) != KW_OK || n == 0) {
        kw_buf_puts(b, "<p class=\"empty\" id=\"queue-empty\">");
        put_msg(b, d, MSG_NO_RELEASES);
        kw_buf_puts(b, "</p>\n");
    } else {
        kw_buf_puts(b, "<ol class=\"desk-list\" id=\"queue\">\n");
        for (size_t i = n; i-- > 0;) {
            const core_release_t *r = items[i];
            kw_buf_printf(b, "<li data-id=\"%s\" lang=\"%s\"><h2>", r->id, r->language);
            release_link(b, r);
            kw_buf_puts(b, "</h2><p class=\"meta\"><bdi>");
            web_escape(b, r->issuer_name);
            kw_buf_puts(b, "</bdi> · ");
            language_name(b, r->language);
            kw_buf_puts(b, " · ");
            time_el(b, d, r->submitted_at ? r->submitted_at : r->updated_at);
            kw_buf_puts(b, "</p></li>\n");
        }
        kw_buf_puts(b, "</ol>\n");
    }
    free_list(items, n);

    /* The calendar: waiting releases by UTC day of their instant. */
    kw_buf_puts(b, "<section aria-labelledby=\"calendar-h\"><h2 id=\"calendar-h\">");
    put_msg(b, d, MSG_DESK_CALENDAR);
    kw_buf_puts(b, "</h2>\n");
    if (list_releases(d, (1u << REL_SCHEDULED) | (1u << REL_EMBARGOED), &items, &n) != KW_OK ||
        n == 0) {
        kw_buf_puts(b, "<p class=\"empty\">");
        put_msg(b, d, MSG_NO_RELEASES);
        kw_buf_puts(b, "</p>\n");
    } else {
        qsort(items, n, sizeof(items[0]), by_due);
        int64_t day = -1;
        kw_buf_puts(b, "<div id=\"calendar\">\n");
        for (size_t i = 0; i < n; i++) {
            const core_release_t *r = items[i];
            int64_t due = core_release_due(r);
            if (due / 86400000 != day) {
                if (day >= 0) kw_buf_puts(b, "</ul>\n");
                day = due / 86400000;
                char *date = core_time_format_local(due, d->lang->icu_locale, CORE_TIME_DATE);
                kw_buf_puts(b, "<h3>");
                web_escape(b, date);
                kw_buf_puts(b, "</h3>\n<ul>\n");
                free(date);
            }
            kw_buf_printf(b, "<li data-id=\"%s\">", r->id);
            time_el(b, d, due);
            kw_buf_puts(b, " · ");
            state_cell(b, d, r);
            kw_buf_puts(b, " · ");
            release_link(b, r);
            kw_buf_puts(b, "</li>\n");
        }
        kw_buf_puts(b, "</ul>\n</div>\n");
    }
    free_list(items, n);
    kw_buf_puts(b, "</section>\n");

    /* The live wire: the last events, newest first, with each release's
     * deliveries so far; desk.js adds what arrives over /v1/stream. */
    kw_buf_puts(b, "<section aria-labelledby=\"wire-h\"><h2 id=\"wire-h\">");
    put_msg(b, d, MSG_DESK_WIRE);
    kw_buf_puts(b, "</h2>\n");
    int64_t last = store_wire_last_seq(d->app->store);
    store_event_t *ev = NULL;
    size_t nev = 0;
    store_wire_read(d->app->store, last > WIRE_SHOWN ? last - WIRE_SHOWN : 0, WIRE_SHOWN, &ev,
                    &nev);
    /* The kinds of events by their localized names, for desk.js too. */
    static const struct {
        const char *kind;
        core_msg_t name;
    } kinds[] = {{"publish", MSG_PUBLISHED},
                 {"correction", MSG_CORRECTED},
                 {"withdrawal", MSG_STATE_WITHDRAWN}};
    json_t *names = json_object();
    for (size_t k = 0; k < KW_ARRAY_SIZE(kinds); k++) {
        char *z = core_lang_format(d->lang, kinds[k].name, d->app->wire_name);
        json_object_set_new(names, kinds[k].kind, json_string(z));
        free(z);
    }
    char *kz = json_dumps(names, JSON_COMPACT);
    kw_buf_printf(b, "<ol class=\"desk-list\" id=\"wire\" data-after=\"%lld\" data-kinds=\"",
                  (long long)last);
    web_escape(b, kz);
    /* The languages by their own names, for the rows desk.js adds. */
    json_t *natives = json_object();
    for (size_t k = 0; k < core_lang_count(); k++)
        json_object_set_new(natives, core_lang_at(k)->tag, json_string(core_lang_at(k)->native));
    char *nz = json_dumps(natives, JSON_COMPACT);
    json_decref(natives);
    kw_buf_puts(b, "\" data-language-names=\"");
    web_escape(b, nz);
    free(nz);
    kw_buf_puts(b, "\" data-report-label=\"");
    put_msg(b, d, MSG_DESK_REPORT);
    kw_buf_puts(b, "\" aria-live=\"polite\">\n");
    free(kz);
    for (size_t i = nev; i-- > 0;) {
        const core_release_t *r = ev[i].release;
        if (r == NULL) continue;
        long long delivered = 0;
        json_t *counts = store_report_counts(d->app->store, r->id);
        size_t k;
        json_t *c;
        json_array_foreach(counts, k, c)
        {
            delivered += json_integer_value(json_object_get(c, "delivered"));
        }
        json_decref(counts);
        kw_buf_printf(b, "<li data-id=\"%s\" data-seq=\"%lld\">", r->id, (long long)ev[i].seq);
        time_el(b, d, ev[i].at);
        kw_buf_printf(b, " · <span class=\"kind\" data-kind=\"%s\">", ev[i].kind);
        web_escape(b, json_string_value(json_object_get(names, ev[i].kind)));
        kw_buf_puts(b, "</span> · ");
        language_name(b, r->language);
        kw_buf_puts(b, " · ");
        if (r->state == REL_WITHDRAWN)
            kw_buf_printf(b, "%s", r->id);
        else
            release_link(b, r);
        kw_buf_printf(b,
                      " · <a class=\"count\" href=\"/v1/releases/%s/report?format=html\">"
                      "<span class=\"delivered\">%lld</span> ",
                      r->id, delivered);
        put_msg(b, d, MSG_DESK_REPORT);
        kw_buf_puts(b, "</a></li>\n");
    }
    store_events_free(ev, nev);
    json_decref(names);
    kw_buf_puts(b, "</ol>\n</section>\n");
}

static void home_page(desk_t *d)
{
    kw_buf_t b = {0};
    char *t = core_lang_format(d->lang, is_editor(d) ? MSG_DESK_QUEUE : MSG_DESK_TITLE,
                               d->app->wire_name);
    page_start(d, &b, t);
    free(t);
    if (is_editor(d))
        editor_home(d, &b);
    else
        issuer_home(d, &b);
    page_send(d, &b, 200);
}

/* ---- one release: preview and the actions its state allows ---- */

static void new_page(desk_t *d, int status, const core_errors_t *errs)
{
    kw_buf_t b = {0};
    char *t = core_lang_format(d->lang, MSG_DESK_NEW, d->app->wire_name);
    page_start(d, &b, t);
    free(t);
    release_form(d, &b, "/desk/new", NULL, errs);
    page_send(d, &b, status);
}

/* The article exactly as readers will see it, dated at its publication
 * (or, before it, at its instant or now). */
static void preview(desk_t *d, kw_buf_t *b, const core_release_t *r)
{
    core_release_t *p = core_release_dup(r);
    if (p->published_at == 0)
        p->published_at = core_release_due(p) ? core_release_due(p) : kw_now_ms();
    const core_lang_t *l = core_lang_find_z(p->language);
    json_t *tr = p->translation_group
                     ? store_translations(d->app->store, p->translation_group, p->id)
                     : NULL;
    kw_buf_printf(b, "<div class=\"preview-frame\" lang=\"%s\" dir=\"%s\">\n",
                  l ? l->tag : p->language, l && l->rtl ? "rtl" : "ltr");
    web_release_article(d->app, p, l ? l : core_lang_default(), tr, b);
    kw_buf_puts(b, "</div>\n");
    json_decref(tr);
    core_release_free(p);
}

static void reason_form(desk_t *d, kw_buf_t *b, const char *path, const char *action,
                        core_msg_t label, core_msg_t field_label, const char *field,
                        const core_errors_t *errs)
{
    form_open(d, b, path, action);
    int typed = strcmp(d->action, action) == 0;
    area_field(b, d, field, field_label, typed ? form_get(d, field) : "", typed ? errs : NULL, -1,
               3);
    kw_buf_puts(b, "<p>");
    button(d, b, action, label);
    kw_buf_puts(b, "</p>\n</form>\n");
}

static void release_page(desk_t *d, const core_release_t *r, int status, const core_errors_t *errs,
                         int conflict)
{
    kw_buf_t b = {0};
    page_start(d, &b, r->headline && *r->headline ? r->headline : r->id);
    char path[80];
    snprintf(path, sizeof(path), "/desk/releases/%s", r->id);
    if (conflict) {
        kw_buf_puts(&b, "<p class=\"alert\" role=\"alert\">");
        put_msg(&b, d, MSG_DESK_CONFLICT);
        kw_buf_puts(&b, "</p>\n");
    }
    kw_buf_printf(&b, "<p class=\"meta status\" id=\"status\" data-id=\"%s\">", r->id);
    put_msg(&b, d, MSG_ACCT_STATUS);
    kw_buf_puts(&b, core_lang_label_separator(d->lang));
    state_cell(&b, d, r);
    int64_t due = core_release_due(r);
    if ((r->state == REL_SCHEDULED || r->state == REL_EMBARGOED || r->state == REL_SUBMITTED) &&
        due) {
        kw_buf_puts(&b, " · ");
        time_el(&b, d, due);
    }
    if (core_release_is_public(r)) {
        kw_buf_printf(&b, " · <a id=\"report\" href=\"/v1/releases/%s/report?format=html\">",
                      r->id);
        put_msg(&b, d, MSG_DESK_REPORT);
        kw_buf_puts(&b, "</a>");
        if (r->state != REL_WITHDRAWN) {
            char rp[128];
            core_release_path(r, rp, sizeof(rp));
            kw_buf_printf(&b, " · <a href=\"%s\">%s</a>", rp, rp);
        }
    }
    kw_buf_puts(&b, "</p>\n");

    int issuer = d->who->role == ROLE_ISSUER;
    int editable = issuer && (r->state == REL_DRAFT || r->state == REL_REJECTED);
    if (editable) {
        release_form(d, &b, path, r, errs);
    } else if (r->state != REL_WITHDRAWN) {
        kw_buf_puts(&b, "<section class=\"preview\" aria-labelledby=\"preview-h\"><h2 "
                        "id=\"preview-h\">");
        put_msg(&b, d, MSG_DESK_PREVIEW);
        kw_buf_puts(&b, "</h2>\n");
        preview(d, &b, r);
        kw_buf_puts(&b, "</section>\n");
    }

    /* The review: approve, reject with a reason, schedule. */
    if (!issuer && r->state == REL_SUBMITTED) {
        form_open(d, &b, path, "approve");
        kw_buf_puts(&b, "<p>");
        button(d, &b, "approve", MSG_DESK_APPROVE);
        kw_buf_puts(&b, "</p>\n</form>\n");
        reason_form(d, &b, path, "reject", MSG_DESK_REJECT, MSG_REASON, "reason", errs);
        form_open(d, &b, path, "schedule");
        int typed = strcmp(d->action, "schedule") == 0;
        timing_fields(&b, d, typed ? form_get(d, "timing") : "embargo",
                      typed ? form_get(d, "when") : "", typed ? errs : NULL, 0);
        kw_buf_puts(&b, "<p>");
        button(d, &b, "schedule", MSG_DESK_SCHEDULE);
        kw_buf_puts(&b, "</p>\n</form>\n");
    }
    /* A waiting release: its issuer may pull it back to a draft. */
    if (issuer &&
        (r->state == REL_SUBMITTED || r->state == REL_SCHEDULED || r->state == REL_EMBARGOED)) {
        form_open(d, &b, path, "withdraw");
        kw_buf_puts(&b, "<p>");
        button(d, &b, "withdraw", MSG_DESK_WITHDRAW);
        kw_buf_puts(&b, "</p>\n</form>\n");
    }
    /* A published release: a correction with its note, or a withdrawal. */
    if (r->state == REL_PUBLISHED || r->state == REL_CORRECTED) {
        int typed = strcmp(d->action, "correct") == 0;
        const core_errors_t *e = typed ? errs : NULL;
        kw_buf_puts(&b, "<section aria-labelledby=\"correct-h\"><h2 id=\"correct-h\">");
        put_msg(&b, d, MSG_CORRECTION_NOTE);
        kw_buf_puts(&b, "</h2>\n");
        form_open(d, &b, path, "correct");
        text_field(&b, d, "headline", MSG_FIELD_HEADLINE,
                   typed ? form_get(d, "headline") : r->headline, e, -1);
        text_field(&b, d, "subheadline", MSG_FIELD_SUBHEADLINE,
                   typed ? form_get(d, "subheadline") : r->subheadline, e, -1);
        area_field(&b, d, "body", MSG_FIELD_BODY, typed ? form_get(d, "body") : r->body, e, -1, 10);
        area_field(&b, d, "note", MSG_WHAT_CHANGED, typed ? form_get(d, "note") : "", e, -1, 2);
        kw_buf_puts(&b, "<p>");
        button(d, &b, "correct", MSG_DESK_CORRECT);
        kw_buf_puts(&b, "</p>\n</form>\n</section>\n");
        reason_form(d, &b, path, "withdraw", MSG_DESK_WITHDRAW, MSG_REASON, "reason", errs);
    }
    page_send(d, &b, status);
}

/* ---- actions ---- */

static void act_done(store_op_t *op);

static void submit_act(desk_t *d, core_action_t act, json_t *input)
{
    store_op_t *op = store_op_new(STORE_OP_RELEASE_ACT, act_done, d);
    op->who = *d->who;
    op->action = act;
    op->input = input;
    snprintf(op->release_id, sizeof(op->release_id), "%s", d->id);
    store_submit(d->app->store, op);
}

/* After any write: on success the release's page (303), else the page
 * again with what was typed and the errors next to their fields. */
static void act_done(store_op_t *op)
{
    desk_t *d = op->arg;
    kawat_app_t *app = d->app;
    int rc = op->rc;
    if (rc == KW_OK) {
        api_after_write(app, op);
        if (op->kind == STORE_OP_RELEASE_CREATE) {
            app->releases_created++;
            snprintf(d->id, sizeof(d->id), "%s", op->release->id);
        }
        store_op_free(op);
        if (d->then_submit) {
            d->then_submit = 0;
            submit_act(d, ACT_SUBMIT, NULL);
            return;
        }
        char loc[80];
        snprintf(loc, sizeof(loc), "/desk/releases/%s", d->id);
        redirect(d, loc);
        return;
    }
    core_errors_t errs = op->errs;
    store_op_free(op);
    if (rc == KW_NOTFOUND) {
        not_found(d);
        return;
    }
    if (rc == KW_FORBIDDEN) {
        message_page(d, 403, MSG_ACCT_TITLE, MSG_ACCT_FORBIDDEN);
        return;
    }
    if (rc != KW_INVALID && rc != KW_CONFLICT) {
        message_page(d, 503, MSG_UNAVAILABLE, MSG_UNAVAILABLE);
        return;
    }
    if (d->page == PAGE_NEW) {
        new_page(d, 422, &errs);
        return;
    }
    core_release_t *r = NULL;
    if (store_release_get(app->store, d->id, &r) != KW_OK || !desk_visible(d, r)) {
        core_release_free(r);
        not_found(d);
        return;
    }
    release_page(d, r, rc == KW_CONFLICT ? 409 : 422, &errs, rc == KW_CONFLICT);
    core_release_free(r);
}

static void new_post(desk_t *d)
{
    core_errors_t errs = {0};
    json_t *in = release_input(d, 1, &errs);
    if (errs.count) {
        json_decref(in);
        new_page(d, 422, &errs);
        return;
    }
    d->then_submit = strcmp(d->action, "submit") == 0;
    store_op_t *op = store_op_new(STORE_OP_RELEASE_CREATE, act_done, d);
    op->who = *d->who;
    op->input = in;
    store_submit(d->app->store, op);
}

static void release_post(desk_t *d)
{
    const char *a = d->action;
    /* Only what the desk shows may be acted on (the store checks again). */
    core_release_t *seen = NULL;
    int ok = store_release_get(d->app->store, d->id, &seen) == KW_OK && desk_visible(d, seen);
    core_release_free(seen);
    if (!ok) {
        not_found(d);
        return;
    }
    core_errors_t errs = {0};
    json_t *in = NULL;
    core_action_t act;
    if (strcmp(a, "save") == 0 || strcmp(a, "submit") == 0) {
        in = release_input(d, 0, &errs);
        act = ACT_EDIT;
        d->then_submit = strcmp(a, "submit") == 0;
    } else if (strcmp(a, "approve") == 0) {
        act = ACT_APPROVE;
    } else if (strcmp(a, "reject") == 0) {
        act = ACT_REJECT;
        char *reason = trimmed(form_get(d, "reason"));
        in = *reason ? json_pack("{s:s}", "reason", reason) : json_object();
        free(reason);
    } else if (strcmp(a, "schedule") == 0) {
        act = ACT_SCHEDULE;
        char *when = trimmed(form_get(d, "when"));
        const char *key =
            strcmp(form_get(d, "timing"), "schedule") == 0 ? "publish_at" : "embargo_until";
        if (!*when) core_errors_add(&errs, "when", "%s", "");
        in = json_pack("{s:s}", key, when);
        free(when);
    } else if (strcmp(a, "correct") == 0) {
        act = ACT_CORRECT;
        in = json_object();
        json_object_set_new(in, "note", json_string(form_get(d, "note")));
        json_object_set_new(in, "headline", json_string(form_get(d, "headline")));
        set_optional(in, "subheadline", form_get(d, "subheadline"), 0);
        json_object_set_new(in, "body", json_string(form_get(d, "body")));
    } else if (strcmp(a, "withdraw") == 0) {
        act = ACT_WITHDRAW;
        char *reason = trimmed(form_get(d, "reason"));
        in = *reason ? json_pack("{s:s}", "reason", reason) : NULL;
        free(reason);
    } else {
        message_page(d, 400, MSG_BAD_REQUEST, MSG_BAD_REQUEST_DETAIL);
        return;
    }
    if (errs.count) {
        json_decref(in);
        core_release_t *r = NULL;
        if (store_release_get(d->app->store, d->id, &r) != KW_OK || !desk_visible(d, r)) {
            core_release_free(r);
            not_found(d);
            return;
        }
        release_page(d, r, 422, &errs, 0);
        core_release_free(r);
        return;
    }
    submit_act(d, act, in);
}

/* POST /desk/preview: the release form rendered as readers will see it,
 * an HTML fragment for desk.js; 422 with the problems when it is not a
 * release yet. Nothing is stored. */
static void preview_post(desk_t *d)
{
    core_errors_t errs = {0};
    json_t *in = release_input(d, 1, &errs);
    core_release_t r;
    core_release_init(&r);
    /* Times are checked when saved; a preview shows any. */
    json_object_del(in, "embargo_until");
    json_object_del(in, "publish_at");
    int rc = core_release_apply(&r, in, 1, 0, store_sector_resolve, d->app->store, &errs);
    json_decref(in);
    kw_buf_t b = {0};
    int status = 200;
    if (rc != KW_OK || errs.count) {
        status = 422;
        kw_buf_puts(&b, "<ul class=\"alert\">");
        for (size_t i = 0; i < errs.count; i++) {
            kw_buf_puts(&b, "<li>");
            web_escape(&b, errs.items[i].field);
            kw_buf_puts(&b, ": ");
            web_escape(&b, errs.items[i].detail);
            kw_buf_puts(&b, "</li>");
        }
        kw_buf_puts(&b, "</ul>\n");
    } else {
        snprintf(r.id, sizeof(r.id), "preview");
        snprintf(r.issuer_id, sizeof(r.issuer_id), "%s", d->who->issuer_id);
        r.issuer_name = kw_strdup(d->ses.s.issuer_name[0] ? d->ses.s.issuer_name : d->who->name);
        r.state = REL_PUBLISHED;
        r.version = 1;
        preview(d, &b, &r);
    }
    core_release_clear(&r);
    kw_buf_puts(&d->headers, web_form_page_headers);
    net_respond(d->req, status, "text/html; charset=utf-8", d->headers.data, b.data, b.len);
    kw_buf_free(&b);
    desk_free(d);
}

/* ---- routing ---- */

/* The person's language: ?lang= (kept in the lang cookie), the lang
 * cookie, Accept-Language, the wire's default -- as on the account pages. */
static void choose_language(desk_t *d)
{
    net_params_t q = {0};
    char bad[64];
    int have_q = net_query_parse(d->req->query, &q, bad, sizeof(bad)) == KW_OK;
    d->lang = web_form_language(d->app, d->req, have_q ? &q : NULL, &d->headers);
    if (have_q) net_query_free(&q);
}

int web_desk_route(kawat_app_t *app, net_request_t *req, const kw_str_t *seg, int n, int trailing)
{
    int page = -1;
    if (n < 1 || !kw_str_eq(seg[0], "desk")) return 0;
    if (n == 1)
        page = PAGE_HOME;
    else if (n == 2 && !trailing && kw_str_eq(seg[1], "new"))
        page = PAGE_NEW;
    else if (n == 2 && !trailing && kw_str_eq(seg[1], "preview"))
        page = PAGE_PREVIEW;
    else if (n == 3 && !trailing && kw_str_eq(seg[1], "releases"))
        page = PAGE_RELEASE;
    if (page < 0) return 0;

    int get = req->method == HTTP_GET || req->method == HTTP_HEAD;
    int post = req->method == HTTP_POST;
    if (page == PAGE_HOME && !get) {
        web_form_method_not_allowed(req, "GET, HEAD");
        return 1;
    }
    if (page == PAGE_PREVIEW && !post) {
        web_form_method_not_allowed(req, "POST");
        return 1;
    }
    if (!get && !post) {
        web_form_method_not_allowed(req, "GET, HEAD, POST");
        return 1;
    }
    if (page == PAGE_HOME && !trailing) {
        net_respond(req, 301, "text/plain; charset=utf-8",
                    "Location: /desk/\r\nCache-Control: no-store\r\n", "", 0);
        return 1;
    }

    desk_t *d = kw_calloc(1, sizeof(*d));
    d->app = app;
    d->req = req;
    d->page = page;
    d->who = &d->ses.s.who;
    int has_session = web_session_get(app, req, &d->ses) == KW_OK;
    choose_language(d);

    /* Who may open what: issuers, editors and admins; anyone else is sent
     * to log in (GET) or refused (POST). */
    if (!has_session) {
        if (post) {
            /* No session: no token could be right. */
            kw_buf_puts(&d->headers, web_form_page_headers);
            static const char body[] = "<!doctype html>\n<html><head><meta charset=\"utf-8\">"
                                       "<title>403 Forbidden</title></head>\n<body><h1>403 "
                                       "Forbidden</h1><p><a href=\"/login\">Log in</a></p>"
                                       "</body></html>\n";
            net_respond(req, 403, "text/html; charset=utf-8", d->headers.data, body,
                        sizeof(body) - 1);
            desk_free(d);
            return 1;
        }
        web_form_login_redirect(req, &d->headers, "/desk/");
        desk_free(d);
        return 1;
    }
    core_role_t role = d->who->role;
    if (role != ROLE_ISSUER && role != ROLE_EDITOR && role != ROLE_ADMIN) {
        message_page(d, 403, MSG_ACCT_TITLE, MSG_ACCT_FORBIDDEN);
        return 1;
    }
    if (page == PAGE_NEW && role != ROLE_ISSUER) {
        message_page(d, 403, MSG_DESK_NEW, MSG_ACCT_FORBIDDEN);
        return 1;
    }
    if (page == PAGE_RELEASE) {
        kw_str_t id = seg[2];
        int ok = id.len > 0 && id.len < sizeof(d->id);
        for (size_t i = 0; ok && i < id.len; i++)
            ok = (id.data[i] >= '0' && id.data[i] <= '9') ||
                 (id.data[i] >= 'a' && id.data[i] <= 'z');
        if (!ok) {
            not_found(d);
            return 1;
        }
        memcpy(d->id, id.data, id.len);
        d->id[id.len] = '\0';
    }
    if (post) {
        d->have_form = web_form_read(req, &d->form);
        if (!csrf_ok(d)) {
            message_page(d, 403, MSG_ACCT_LOGIN, MSG_ACCT_FORM_EXPIRED);
            return 1;
        }
        snprintf(d->action, sizeof(d->action), "%s", form_get(d, "action"));
    }

    switch (page) {
    case PAGE_HOME:
        home_page(d);
        break;
    case PAGE_NEW:
        if (get)
            new_page(d, 200, NULL);
        else
            new_post(d);
        break;
    case PAGE_PREVIEW:
        preview_post(d);
        break;
    case PAGE_RELEASE:
        if (post) {
            release_post(d);
            break;
        }
        core_release_t *r = NULL;
        if (store_release_get(app->store, d->id, &r) != KW_OK || !desk_visible(d, r)) {
            core_release_free(r);
            not_found(d);
            break;
        }
        release_page(d, r, 200, NULL, 0);
        core_release_free(r);
        break;
    }
    return 1;
}
