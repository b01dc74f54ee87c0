/* web.h -- the reader's pages: server-rendered HTML5 with every text from
 * a release escaped, lang and dir set, localized labels and dates. */
#ifndef KAWAT_WEB_H
#define KAWAT_WEB_H

#include "api/api.h"
#include "core/core_lang.h"

/* "/" and "/{lang}/": the latest published releases of a language. */
void web_home(kawat_app_t *app, net_request_t *req, const core_lang_t *lang);
/* "/{lang}/releases/{id}": a published release (410 page if withdrawn). */
void web_release(kawat_app_t *app, net_request_t *req, const core_lang_t *lang, const char *id);
/* A 404 or 400 page in the reader's language. */
void web_error(kawat_app_t *app, net_request_t *req, const core_lang_t *lang, int status);
/* "/static/NAME": the stylesheet and friends, compiled in. */
void web_static(kawat_app_t *app, net_request_t *req, const char *name);

/* Appends z escaped for HTML text and attribute values. */
void web_escape(kw_buf_t *b, const char *z);

#endif
