/* api_report.c -- GET /v1/releases/{id}/report: a release's distribution
 * report (deliver/report.h) for its issuer and the editors, as JSON or as
 * an HTML page with the first hour's deliveries drawn as an inline SVG.
 *
 * The page is served under the API (?format=html) rather than the portal
 * because it needs the caller's token and pages have no log-in yet; it is
 * never cached and tells robots to keep out. */
#include "api/api.h"
#include "core/core_lang.h"
#include "deliver/report.h"
#include "web/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVG_WIDTH 720
#define SVG_HEIGHT 240
#define SVG_LEFT 48   /* room for the y axis labels */
#define SVG_BOTTOM 28 /* room for the x axis labels */
#define SVG_TOP 12

static const char *const channel_labels[REPORT_CHANNELS_] = {"Streams (SSE, WebSocket)", "Webhooks",
                                                             "WebSub", "E-mail"};

static long long num(const json_t *o, const char *key)
{
    return (long long)json_integer_value(json_object_get(o, key));
}

static void counts_cells(kw_buf_t *b, const json_t *c)
{
    kw_buf_printf(b, "<td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td>",
                  num(c, "matched"), num(c, "delivered"), num(c, "failed"), num(c, "pending"),
                  num(c, "failed_attempts"));
}

static void table_head(kw_buf_t *b, const char *first)
{
    kw_buf_printf(b,
                  "<table><thead><tr>%s<th scope=\"col\">Matched</th>"
                  "<th scope=\"col\">Delivered</th><th scope=\"col\">Failed</th>"
                  "<th scope=\"col\">Pending</th><th scope=\"col\">Failed attempts</th></tr>"
                  "</thead><tbody>",
                  first);
}

/* A table of the report's array key, one row per item named by field. */
static void list_table(kw_buf_t *b, const json_t *rep, const char *key, const char *field,
                       const char *title, const char *column)
{
    const json_t *items = json_object_get(rep, key);
    kw_buf_printf(b, "<h2>%s</h2>\n", title);
    if (json_array_size(items) == 0) {
        kw_buf_puts(b, "<p>Nothing yet.</p>\n");
        return;
    }
    char head[96];
    snprintf(head, sizeof(head), "<th scope=\"col\">%s</th>", column);
    table_head(b, head);
    size_t i;
    const json_t *row;
    json_array_foreach(items, i, row)
    {
        kw_buf_puts(b, "<tr><th scope=\"row\">");
        web_escape(b, json_string_value(json_object_get(row, field)));
        kw_buf_puts(b, "</th>");
        counts_cells(b, row);
        kw_buf_puts(b, "</tr>\n");
    }
    kw_buf_puts(b, "</tbody></table>\n");
}

/* The first hour as bars, one per minute (zero-height where nothing was
 * delivered), each with its numbers in a <title> for a tooltip. */
static void timeline_svg(kw_buf_t *b, const json_t *timeline)
{
    const json_t *minutes = json_object_get(timeline, "minutes");
    long long max = 0;
    size_t i;
    const json_t *m;
    json_array_foreach(minutes, i, m)
    {
        if (num(m, "delivered") > max) max = num(m, "delivered");
    }
    long long top = max > 0 ? max : 1;
    double plot_w = SVG_WIDTH - SVG_LEFT - 28, plot_h = SVG_HEIGHT - SVG_TOP - SVG_BOTTOM;
    double slot = plot_w / REPORT_TIMELINE_MINUTES;
    kw_buf_printf(b,
                  "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" "
                  "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
                  "aria-labelledby=\"timeline-title\">\n<title id=\"timeline-title\">Deliveries "
                  "per minute in the first hour after publication (at most %lld in a "
                  "minute)</title>\n",
                  SVG_WIDTH, SVG_HEIGHT, SVG_WIDTH, SVG_HEIGHT, max);
    double base = SVG_TOP + plot_h;
    kw_buf_printf(b,
                  "<line class=\"axis\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n"
                  "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\"/>\n"
                  "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%lld</text>\n"
                  "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">0</text>\n",
                  SVG_LEFT, base, SVG_LEFT + plot_w, base, SVG_LEFT, SVG_TOP, SVG_LEFT, base,
                  SVG_LEFT - 6, SVG_TOP + 10, max, SVG_LEFT - 6, base);
    for (int t = 0; t <= REPORT_TIMELINE_MINUTES; t += 15)
        kw_buf_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%d min</text>\n",
                      SVG_LEFT + t * slot, SVG_HEIGHT - 8, t);
    json_array_foreach(minutes, i, m)
    {
        long long d = num(m, "delivered");
        double h = plot_h * (double)d / (double)top;
        kw_buf_printf(b,
                      "<rect class=\"bar\" data-minute=\"%zu\" data-delivered=\"%lld\" "
                      "x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"><title>minute %zu: "
                      "%lld delivered",
                      i, d, SVG_LEFT + i * slot + 1, base - h, slot - 2, h, i, d);
        for (int ch = 0; ch < REPORT_CHANNELS_; ch++) {
            long long n = num(m, report_channel_name(ch));
            if (n) kw_buf_printf(b, "; %s %lld", report_channel_name(ch), n);
        }
        kw_buf_puts(b, "</title></rect>\n");
    }
    kw_buf_puts(b, "</svg>\n");
}

/* The HTML page of a report (rep as report_build makes it). */
static void report_page(kawat_app_t *app, const core_release_t *r, const json_t *rep, kw_buf_t *b)
{
    const core_lang_t *lang = core_lang_find_z(r->language);
    kw_buf_puts(b, "<!doctype html>\n<html lang=\"en\" dir=\"ltr\">\n<head>\n"
                   "<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"robots\" content=\"noindex, nofollow\">\n<title>"
                   "Distribution report: ");
    web_escape(b, r->headline ? r->headline : r->id);
    kw_buf_puts(b, " – ");
    web_escape(b, app->wire_name);
    kw_buf_puts(b, "</title>\n<style>\n"
                   "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;"
                   "padding:1rem;color:#1a1a1a}\n"
                   "table{border-collapse:collapse;margin:.5rem 0 1.5rem}\n"
                   "th,td{border-bottom:1px solid #ddd;padding:.25rem .75rem;text-align:right}\n"
                   "th:first-child{text-align:left}\n"
                   ".note{color:#555}\ntd.label{text-align:left}\n"
                   "svg.timeline{max-width:100%;height:auto}\n"
                   "svg .bar{fill:#2b6cb0}\nsvg .axis{stroke:#888}\n"
                   "svg text{font-size:11px;fill:#555}\n"
                   "</style>\n</head>\n<body>\n<main>\n<h1>Distribution report</h1>\n");
    kw_buf_printf(b, "<p class=\"headline\" lang=\"%s\" dir=\"%s\"><strong>",
                  lang ? lang->tag : "und", lang && lang->rtl ? "rtl" : "ltr");
    web_escape(b, r->headline ? r->headline : "");
    kw_buf_puts(b, "</strong></p>\n<p>Release <code>");
    web_escape(b, r->id);
    kw_buf_puts(b, "</code> (");
    web_escape(b, core_state_name(r->state));
    kw_buf_puts(b, ")");
    const char *pub = json_string_value(json_object_get(rep, "published_at"));
    if (pub) {
        kw_buf_puts(b, ", first published <time>");
        web_escape(b, pub);
        kw_buf_puts(b, "</time>");
    }
    kw_buf_puts(b, ". Report as of <time>");
    web_escape(b, json_string_value(json_object_get(rep, "generated_at")));
    kw_buf_puts(b, "</time>.</p>\n<p class=\"note\">Only what happened is counted: events "
                   "addressed to a recipient (matched), handed over (delivered), not handed "
                   "over (failed, including retries still under way), and failed attempts. "
                   "Counts arrive within a few seconds. Languages and countries are those of "
                   "the recipients' filters (\"any\" and \"ZZ\" where they name none or "
                   "several).</p>\n");

    kw_buf_puts(b, "<h2>By channel</h2>\n");
    table_head(b, "<th scope=\"col\">Channel</th>");
    const json_t *channels = json_object_get(rep, "channels");
    for (int ch = 0; ch < REPORT_CHANNELS_; ch++) {
        kw_buf_printf(b, "<tr><th scope=\"row\">%s</th>", channel_labels[ch]);
        counts_cells(b, json_object_get(channels, report_channel_name(ch)));
        kw_buf_puts(b, "</tr>\n");
    }
    kw_buf_puts(b, "</tbody><tfoot><tr><th scope=\"row\">Total</th>");
    counts_cells(b, json_object_get(rep, "totals"));
    kw_buf_puts(b, "</tr></tfoot></table>\n");

    const json_t *timeline = json_object_get(rep, "timeline");
    kw_buf_puts(b, "<h2>Deliveries in the first hour</h2>\n");
    timeline_svg(b, timeline);
    kw_buf_printf(b,
                  "<p class=\"note\">Minute 0 is the minute of publication. Before publication "
                  "(embargoed, to trusted recipients): %lld; after the first hour: %lld.</p>\n",
                  num(timeline, "before_publication"), num(timeline, "after_first_hour"));

    list_table(b, rep, "languages", "language", "By language", "Language");
    list_table(b, rep, "countries", "country", "By country", "Country");

    const json_t *rows = json_object_get(rep, "breakdown");
    kw_buf_puts(b, "<h2>By channel, language and country</h2>\n");
    if (json_array_size(rows) == 0) {
        kw_buf_puts(b, "<p>Nothing yet.</p>\n");
    } else {
        kw_buf_puts(b, "<table><thead><tr><th scope=\"col\">Channel</th>"
                       "<th scope=\"col\">Language</th><th scope=\"col\">Country</th>"
                       "<th scope=\"col\">Matched</th><th scope=\"col\">Delivered</th>"
                       "<th scope=\"col\">Failed</th><th scope=\"col\">Pending</th>"
                       "<th scope=\"col\">Failed attempts</th></tr></thead><tbody>\n");
        size_t i;
        const json_t *row;
        json_array_foreach(rows, i, row)
        {
            static const char *const keys[] = {"channel", "language", "country"};
            kw_buf_puts(b, "<tr>");
            for (int k = 0; k < 3; k++) {
                kw_buf_puts(b, k ? "<td class=\"label\">" : "<th scope=\"row\">");
                web_escape(b, json_string_value(json_object_get(row, keys[k])));
                kw_buf_puts(b, k ? "</td>" : "</th>");
            }
            counts_cells(b, row);
            kw_buf_puts(b, "</tr>\n");
        }
        kw_buf_puts(b, "</tbody></table>\n");
    }
    kw_buf_puts(b, "</main>\n</body>\n</html>\n");
}

void api_report_get(kawat_app_t *app, net_request_t *req, const core_principal_t *who,
                    const char *id)
{
    static const char *const allowed[] = {"format", NULL};
    net_params_t p;
    if (api_query(req, &p, allowed) != KW_OK) return;
    const char *format = net_query_get(&p, "format");
    int html = format && strcmp(format, "html") == 0;
    if (format && !html && strcmp(format, "json") != 0) {
        net_query_free(&p);
        api_problem_field(req, 400, "format", "Use json or html.");
        return;
    }
    net_query_free(&p);
    /* Reports are private to the issuer and the staff, whatever the
     * release's state: anyone else learns nothing, not even that it exists. */
    core_release_t *r = NULL;
    int staff = who->role == ROLE_EDITOR || who->role == ROLE_ADMIN;
    if (store_release_get(app->store, id, &r) != KW_OK ||
        !(staff || core_release_owned_by(r, who))) {
        core_release_free(r);
        api_not_found(req);
        return;
    }
    json_t *rep = report_build(app->store, r, kw_now_ms());
    if (html) {
        kw_buf_t b = {0};
        report_page(app, r, rep, &b);
        net_respond(req, 200, "text/html; charset=utf-8",
                    "Cache-Control: no-store\r\nX-Robots-Tag: noindex\r\n"
                    "Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n",
                    b.data, b.len);
        kw_buf_free(&b);
        json_decref(rep);
    } else {
        api_json(req, 200, rep, "Cache-Control: no-store\r\n");
    }
    core_release_free(r);
}
