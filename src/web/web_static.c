/* web_static.c -- the compiled-in static files: one small stylesheet with
 * right-to-left support through logical properties. */
#include "web/web.h"

#include <string.h>

static const char css[] =
    ":root{--ink:#1b1f24;--muted:#5b6470;--line:#d9dee4;--accent:#0b5cad;--bg:#fff}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:17px/1.6 system-ui,-apple-system,'Segoe UI','Noto Sans','Noto Sans "
    "Arabic','Noto Sans Thai','Noto Sans CJK JP',sans-serif;color:var(--ink);background:var(--bg)}\n"
    "a{color:var(--accent)}\n"
    "header.site{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:baseline;"
    "padding:.8rem 1.2rem;border-block-end:3px solid var(--accent)}\n"
    ".brand{font-weight:700;font-size:1.4rem;text-decoration:none;color:var(--ink)}\n"
    "nav.languages ul{display:flex;flex-wrap:wrap;gap:.2rem .8rem;list-style:none;margin:0;"
    "padding:0;font-size:.9rem}\n"
    "nav.languages a[aria-current]{font-weight:700;color:var(--ink)}\n"
    "main{max-width:48rem;margin:0 auto;padding:1rem 1.2rem 3rem}\n"
    "h1{font-size:1.9rem;line-height:1.25;margin:.6rem 0;overflow-wrap:anywhere}\n"
    ".subheadline{font-size:1.2rem;color:var(--muted);margin-top:0}\n"
    ".dateline{font-weight:600}\n"
    ".body{overflow-wrap:anywhere}\n"
    ".body table{border-collapse:collapse;display:block;overflow-x:auto}\n"
    ".body td,.body th{border:1px solid var(--line);padding:.3rem .6rem}\n"
    ".body blockquote{margin-inline:0;padding-inline-start:1rem;border-inline-start:4px solid "
    "var(--line);color:var(--muted)}\n"
    ".meta,.sectors,.disclaimer,.correction{font-size:.92rem;color:var(--muted)}\n"
    ".disclaimer{border-block-start:1px solid var(--line);padding-block-start:.8rem;"
    "font-style:italic}\n"
    ".correction{background:#fff8e1;padding:.5rem .8rem;border-inline-start:4px solid #f0b400}\n"
    "ol.releases{list-style:none;padding:0}\n"
    "ol.releases li{padding:.8rem 0;border-block-end:1px solid var(--line)}\n"
    "ol.releases li.live{animation:arrive 1.2s ease-out}\n"
    "@keyframes arrive{from{background:#e8f1fb}to{background:transparent}}\n"
    "ol.releases h2{font-size:1.2rem;margin:0 0 .2rem;overflow-wrap:anywhere}\n"
    "ol.releases time{font-size:.85rem;color:var(--muted)}\n"
    "footer{max-width:48rem;margin:0 auto;padding:1rem 1.2rem 2rem;font-size:.9rem;"
    "color:var(--muted);border-block-start:1px solid var(--line)}\n"
    "nav.pager{display:flex;justify-content:space-between;margin-top:1rem}\n"
    "@media (max-width:600px){body{font-size:16px}h1{font-size:1.5rem}}\n";

/* A wire: a line with signal ticks, in the accent colour. */
static const char favicon[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">"
    "<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#0b5cad\"/>"
    "<path d=\"M4 20h6l3-9 5 14 3-9h7\" fill=\"none\" stroke=\"#fff\" stroke-width=\"3\" "
    "stroke-linejoin=\"round\" stroke-linecap=\"round\"/></svg>";

/* The home page's live list: new releases of the page's language arrive
 * over Server-Sent Events (the same /v1/stream the desktops use) and are
 * added at the top; withdrawn ones leave. Text goes in with textContent,
 * never as HTML. */
static const char live_js[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var list = document.querySelector('ol.releases[data-live]');\n"
    "  if (!list || !window.EventSource) return;\n"
    "  var lang = document.documentElement.lang;\n"
    "  var es = new EventSource('/v1/stream?language=' + encodeURIComponent(lang));\n"
    "  function add(ev) {\n"
    "    var d; try { d = JSON.parse(ev.data); } catch (e) { return; }\n"
    "    var it = d.item; if (!it || !it.headlines || !it.headlines.length) return;\n"
    "    var old = list.querySelector('li[data-id=\"' + d.id + '\"]');\n"
    "    if (old) old.remove();\n"
    "    var li = document.createElement('li'); li.setAttribute('data-id', d.id);\n"
    "    li.className = 'live';\n"
    "    var art = document.createElement('article');\n"
    "    var h = document.createElement('h2'); var a = document.createElement('a');\n"
    "    var url = new URL(it.uri, location.href);\n"
    "    a.href = url.pathname; a.textContent = it.headlines[0].value;\n"
    "    h.appendChild(a); art.appendChild(h);\n"
    "    var t = document.createElement('time'); t.dateTime = it.versionCreated || '';\n"
    "    t.textContent = new Date(it.versionCreated || Date.now()).toLocaleString(lang);\n"
    "    art.appendChild(t); li.appendChild(art);\n"
    "    list.insertBefore(li, list.firstChild);\n"
    "    var empty = document.querySelector('p.empty'); if (empty) empty.remove();\n"
    "    list.hidden = false;\n"
    "  }\n"
    "  es.addEventListener('publish', add);\n"
    "  es.addEventListener('correction', add);\n"
    "  es.addEventListener('withdrawal', function (ev) {\n"
    "    var d; try { d = JSON.parse(ev.data); } catch (e) { return; }\n"
    "    var old = list.querySelector('li[data-id=\"' + d.id + '\"]');\n"
    "    if (old) old.remove();\n"
    "  });\n"
    "})();\n";

void web_static(kawat_app_t *app, net_request_t *req, const char *name)
{
    if (strcmp(name, "live.js") == 0) {
        net_respond(req, 200, "text/javascript; charset=utf-8",
                    "Cache-Control: public, max-age=300\r\n", live_js, sizeof(live_js) - 1);
        return;
    }
    if (strcmp(name, "favicon.svg") == 0 || strcmp(name, "favicon.ico") == 0) {
        net_respond(req, 200, "image/svg+xml", "Cache-Control: public, max-age=86400\r\n",
                    favicon, sizeof(favicon) - 1);
        return;
    }
    if (strcmp(name, "kawat.css") == 0) {
        net_respond(req, 200, "text/css; charset=utf-8",
                    "Cache-Control: public, max-age=3600\r\n", css, sizeof(css) - 1);
        return;
    }
    web_error(app, req, NULL, 404);
}
