/* web_static.c -- the compiled-in static files: the stylesheet (responsive,
 * right-to-left through logical properties), the icon, and live.js, the one
 * script of the portal (the page policy forbids inline scripts). */
#include "web/web.h"

#include <string.h>

/* Design note: every box edge is a logical property (margin-inline-start,
 * border-block-end, text-align:start), never left/right, so Arabic pages
 * (dir="rtl" on <html>) lay out mirrored with no second stylesheet. Long
 * unbroken words from releases (URLs, hostile "enormous words") wrap
 * anywhere instead of widening the page. */
static const char css[] =
    ":root{--ink:#1b1f24;--muted:#5b6470;--line:#d9dee4;--accent:#0b5cad;--bg:#fff;"
    "--note:#fff8e1;--note-edge:#f0b400}\n"
    "*{box-sizing:border-box}\n"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\n"
    "body{margin:0;font:17px/1.6 system-ui,-apple-system,'Segoe UI','Noto Sans','Noto Sans "
    "Arabic','Noto Sans Thai','Noto Sans CJK JP',sans-serif;color:var(--ink);background:var(--bg);"
    "overflow-wrap:anywhere}\n"
    "[lang|=th]{line-height:1.8}\n"
    "a{color:var(--accent)}\n"
    "a:focus-visible,main:focus-visible{outline:3px solid var(--accent);outline-offset:2px}\n"
    ".skip{position:absolute;inset-inline-start:.5rem;inset-block-start:-3rem;padding:.4rem .8rem;"
    "background:var(--accent);color:#fff;z-index:10}\n"
    ".skip:focus{inset-block-start:.5rem}\n"
    "header.site{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:baseline;"
    "padding:.8rem 1.2rem;border-block-end:3px solid var(--accent)}\n"
    ".brand{font-weight:700;font-size:1.4rem;text-decoration:none;color:var(--ink)}\n"
    "nav ul{list-style:none;margin:0;padding:0}\n"
    "nav.languages ul{display:flex;flex-wrap:wrap;gap:.2rem .8rem;font-size:.9rem}\n"
    "nav.languages a[aria-current]{font-weight:700;color:var(--ink);text-decoration:none}\n"
    "main{display:block;max-width:48rem;margin:0 auto;padding:1rem 1.2rem 3rem}\n"
    "h1{font-size:1.9rem;line-height:1.25;margin-block:.6rem}\n"
    "h2{font-size:1.25rem;line-height:1.3}\n"
    ".subheadline{font-size:1.2rem;color:var(--muted);margin-block-start:0}\n"
    ".dateline{font-weight:600}\n"
    ".body table{border-collapse:collapse;display:block;overflow-x:auto}\n"
    ".body td,.body th{border:1px solid var(--line);padding:.3rem .6rem;text-align:start}\n"
    ".body img{max-inline-size:100%;block-size:auto}\n"
    ".body pre{overflow-x:auto;white-space:pre-wrap}\n"
    ".body blockquote{margin-inline:0;padding-inline-start:1rem;border-inline-start:4px solid "
    "var(--line);color:var(--muted)}\n"
    ".meta,.sectors,.disclaimer,.withdrawal,.contacts{font-size:.92rem;color:var(--muted)}\n"
    ".label{font-weight:600}\n"
    ".disclaimer{border-block-start:1px solid var(--line);padding-block-start:.8rem;"
    "font-style:italic}\n"
    ".correction{background:var(--note);padding:.5rem .9rem;border-inline-start:4px solid "
    "var(--note-edge);margin-block:1rem;font-size:.95rem}\n"
    ".correction h2{font-size:1rem;margin:.2rem 0}\n"
    ".correction ol{margin:0;padding-inline-start:1.2rem}\n"
    ".correction .changed,.correction .previous{color:var(--muted)}\n"
    ".contacts h2,nav.translations h2{font-size:1rem;margin-block-end:.3rem}\n"
    ".contacts ul{padding-inline-start:1.2rem;margin:0}\n"
    "nav.translations ul{display:flex;flex-wrap:wrap;gap:.2rem 1rem}\n"
    "ol.releases{list-style:none;padding:0;margin:0}\n"
    "ol.releases li{padding-block:.8rem;border-block-end:1px solid var(--line)}\n"
    "ol.releases li.live{animation:arrive 1.2s ease-out}\n"
    "@keyframes arrive{from{background:#e8f1fb}to{background:transparent}}\n"
    "@media (prefers-reduced-motion:reduce){ol.releases li.live{animation:none}}\n"
    /* the account pages' forms (web_account.c) */
    ".field label{display:block;font-weight:600}\n"
    ".field input,.field select{font:inherit;inline-size:100%;max-inline-size:26rem;"
    "padding:.35rem .5rem;border:1px solid var(--muted);border-radius:4px}\n"
    ".field.invalid input,.field.invalid select{border:2px solid #b3261e}\n"
    ".field .error{display:block;color:#b3261e;font-size:.92rem}\n"
    ".field .hint{display:block;color:var(--muted);font-size:.92rem}\n"
    "main button{font:inherit;padding:.4rem 1rem}\n"
    ".alert{border-inline-start:4px solid #b3261e;background:#fdecea;padding:.5rem .9rem}\n"
    ".notice{border-inline-start:4px solid var(--accent);background:#e8f1fb;padding:.5rem .9rem}\n"
    "table.invites{border-collapse:collapse}\n"
    "table.invites td,table.invites th{border-block-end:1px solid var(--line);padding:.3rem .6rem;"
    "text-align:start}\n"
    "ol.releases h2{font-size:1.2rem;margin:0 0 .2rem}\n"
    "ol.releases p{margin-block:.2rem}\n"
    ".summary{margin-block:.3rem}\n"
    ".empty{color:var(--muted)}\n"
    "nav.pager{display:flex;justify-content:space-between;gap:1rem;margin-block-start:1rem}\n"
    "nav.pager .older{margin-inline-start:auto}\n"
    "table.archive{border-collapse:collapse;inline-size:100%}\n"
    "table.archive th,table.archive td{padding:.4rem .6rem;border-block-end:1px solid "
    "var(--line);text-align:start;font-weight:normal}\n"
    "table.archive td{text-align:end;font-variant-numeric:tabular-nums}\n"
    "table.archive thead th{font-weight:600;color:var(--muted)}\n"
    "table.archive thead th:last-child{text-align:end}\n"
    "footer.site{max-width:48rem;margin:0 auto;padding:1rem 1.2rem 2rem;font-size:.9rem;"
    "color:var(--muted);border-block-start:1px solid var(--line)}\n"
    "footer.site h2{font-size:1rem;margin-block:.8rem .3rem}\n"
    "footer.site nav ul{display:flex;flex-wrap:wrap;gap:.2rem 1rem}\n"
    "footer.site nav.feeds{margin-block:.8rem}\n"
    "@media (max-width:600px){body{font-size:16px}h1{font-size:1.5rem}"
    "header.site,main,footer.site{padding-inline:.8rem}}\n";

/* A wire: a line with signal ticks, in the accent colour. */
static const char favicon[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">"
    "<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#0b5cad\"/>"
    "<path d=\"M4 20h6l3-9 5 14 3-9h7\" fill=\"none\" stroke=\"#fff\" stroke-width=\"3\" "
    "stroke-linejoin=\"round\" stroke-linecap=\"round\"/></svg>";

/* A listing's live list (web_pages.c marks it data-live on the first page
 * of a language, sector, region or issuer): releases arrive over
 * Server-Sent Events on the same /v1/stream the desktops use, filtered as
 * the page is (data-stream), resumed from the wire position the page was
 * rendered at (data-after) so nothing published in between is lost. A
 * publish is added at the top, a correction replaces its item, a
 * withdrawal removes it. Items are built like web_pages.c's listing_item,
 * every text with textContent, never as HTML, and links only to paths of
 * this site. */
static const char live_js[] =
    "(function () {\n"
    "  'use strict';\n"
    "  var list = document.querySelector('ol.releases[data-live]');\n"
    "  if (!list || !window.EventSource) return;\n"
    "  var lang = document.documentElement.lang;\n"
    "  var names = {};\n"
    "  try { names = JSON.parse(list.getAttribute('data-sector-names') || '{}'); } catch (e) {}\n"
    "  var label = list.getAttribute('data-sector-label') || '';\n"
    "  var sep = list.getAttribute('data-separator') || ', ';\n"
    "  var labelSep = list.getAttribute('data-label-separator') || ': ';\n"
    "  var src = list.getAttribute('data-stream');\n"
    "  var after = list.getAttribute('data-after');\n"
    "  if (!src || src.indexOf('/v1/stream?') !== 0) return;\n"
    "  if (after && /^[0-9]+$/.test(after)) src += '&after=' + after;\n"
    "  var fmt = null;\n"
    "  try {\n"
    "    fmt = new Intl.DateTimeFormat(lang,\n"
    "      { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' });\n"
    "  } catch (e) { fmt = null; }\n"
    "  function el(tag, cls, text) {\n"
    "    var e = document.createElement(tag);\n"
    "    if (cls) e.className = cls;\n"
    "    if (text !== undefined) e.textContent = text;\n"
    "    return e;\n"
    "  }\n"
    "  /* A path on this site from an absolute URL the server made; '' if not. */\n"
    "  function localPath(uri) {\n"
    "    try {\n"
    "      var u = new URL(uri, location.href);\n"
    "      return u.origin === location.origin || /^https?:$/.test(u.protocol) ? u.pathname : '';\n"
    "    } catch (e) { return ''; }\n"
    "  }\n"
    "  function find(id) {\n"
    "    var items = list.children;\n"
    "    for (var i = 0; i < items.length; i++)\n"
    "      if (items[i].getAttribute('data-id') === id) return items[i];\n"
    "    return null;\n"
    "  }\n"
    "  function build(id, it) {\n"
    "    var li = el('li', 'live'); li.setAttribute('data-id', id);\n"
    "    var art = el('article');\n"
    "    var h = el('h2'); var a = el('a', '', it.headlines[0].value);\n"
    "    a.href = localPath(it.uri); a.dir = 'auto';\n"
    "    h.appendChild(a); art.appendChild(h);\n"
    "    var meta = el('p', 'meta');\n"
    "    if (it.located) {\n"
    "      meta.appendChild(el('bdi', 'place', it.located));\n"
    "      meta.appendChild(document.createTextNode(' \\u00b7 '));\n"
    "    }\n"
    "    var when = it.firstCreated || it.versionCreated || '';\n"
    "    var t = el('time'); t.dateTime = when.replace(/\\.\\d+Z$/, 'Z');\n"
    "    var d = new Date(when || Date.now());\n"
    "    t.textContent = fmt ? fmt.format(d) : d.toISOString();\n"
    "    meta.appendChild(t);\n"
    "    var issuer = null;\n"
    "    (it.infoSources || []).forEach(function (s) {\n"
    "      if (/origcont$/.test(s.role || '')) issuer = s;\n"
    "    });\n"
    "    if (it.by) {\n"
    "      meta.appendChild(document.createTextNode(' \\u00b7 '));\n"
    "      var name = el('bdi', '', it.by);\n"
    "      if (issuer && issuer.literal) {\n"
    "        var ia = el('a', 'issuer');\n"
    "        ia.href = '/' + encodeURIComponent(lang) + '/issuers/' +\n"
    "          encodeURIComponent(issuer.literal) + '/';\n"
    "        ia.appendChild(name); meta.appendChild(ia);\n"
    "      } else { name.className = 'issuer'; meta.appendChild(name); }\n"
    "    }\n"
    "    art.appendChild(meta);\n"
    "    var text = '';\n"
    "    (it.bodies || []).forEach(function (b) {\n"
    "      if (b.contentType === 'text/plain' && !text) text = b.value || '';\n"
    "    });\n"
    "    var cps = Array.from(text);\n"
    "    if (cps.length > 200)\n"
    "      text = cps.slice(0, 199).join('').replace(/\\s+\\S*$/, '') + '\\u2026';\n"
    "    if (text) { var p = el('p', 'summary', text); p.dir = 'auto'; art.appendChild(p); }\n"
    "    var subjects = (it.subjects || []).filter(function (s) { return s.literal; });\n"
    "    if (subjects.length) {\n"
    "      var sp = el('p', 'sectors');\n"
    "      sp.appendChild(el('span', 'label', label));\n"
    "      sp.appendChild(document.createTextNode(labelSep));\n"
    "      subjects.forEach(function (s, i) {\n"
    "        if (i) sp.appendChild(document.createTextNode(sep));\n"
    "        var sa = el('a', '', names[s.literal] || s.name || s.literal);\n"
    "        sa.href = '/' + encodeURIComponent(lang) + '/sectors/' +\n"
    "          encodeURIComponent(s.literal) + '/';\n"
    "        sp.appendChild(sa);\n"
    "      });\n"
    "      art.appendChild(sp);\n"
    "    }\n"
    "    li.appendChild(art);\n"
    "    return li;\n"
    "  }\n"
    "  function parse(ev) {\n"
    "    try { var d = JSON.parse(ev.data); } catch (e) { return null; }\n"
    "    return d && typeof d.id === 'string' ? d : null;\n"
    "  }\n"
    "  function shown() {\n"
    "    var empty = document.querySelector('p.empty'); if (empty) empty.remove();\n"
    "    list.hidden = false;\n"
    "  }\n"
    "  var es = new EventSource(src);\n"
    "  es.addEventListener('publish', function (ev) {\n"
    "    var d = parse(ev); var it = d && d.item;\n"
    "    if (!it || !it.headlines || !it.headlines.length || find(d.id)) return;\n"
    "    list.insertBefore(build(d.id, it), list.firstChild);\n"
    "    shown();\n"
    "  });\n"
    "  es.addEventListener('correction', function (ev) {\n"
    "    var d = parse(ev); var it = d && d.item;\n"
    "    var old = d && find(d.id);\n"
    "    if (!old || !it || !it.headlines || !it.headlines.length) return;\n"
    "    var li = build(d.id, it); li.className = '';\n"
    "    list.replaceChild(li, old);\n"
    "  });\n"
    "  es.addEventListener('withdrawal', function (ev) {\n"
    "    var d = parse(ev); var old = d && find(d.id);\n"
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
        net_respond(req, 200, "image/svg+xml", "Cache-Control: public, max-age=86400\r\n", favicon,
                    sizeof(favicon) - 1);
        return;
    }
    if (strcmp(name, "kawat.css") == 0) {
        net_respond(req, 200, "text/css; charset=utf-8", "Cache-Control: public, max-age=3600\r\n",
                    css, sizeof(css) - 1);
        return;
    }
    web_error(app, req, NULL, 404);
}
