/* feeds.h -- the wire's syndication formats. For now: IPTC ninjs 3 (News in
 * JSON), the representation of a release used by the live streams (SSE and
 * WebSocket payloads) and by the ninjs feed and ?format=ninjs answers.
 *
 * Every item built here validates against ../shared/schemas/ninjs/
 * ninjs-schema_3.1.json (tests/e2e/check_ninjs.py checks it). The schema
 * allows no property of its own at the top level (unevaluatedProperties is
 * false), so the stream event wraps the item:
 *
 *     {"seq": 42, "kind": "publish", "id": "rAbc…", "item": { ninjs 3 }}
 *
 * Mapping of a release (schema property names are ninjs 3's camelCase):
 *   uri             the release page, base_url + "/{language}/releases/{id}".
 *                   ninjs wants a global, persistent identifier in URI form
 *                   (format "uri"); the page URL never changes across
 *                   versions (id and language are fixed), is unique, is the
 *                   same value as the API's "url", and is what a wire's
 *                   ninjs uses in IPTC's own press-release example. Versions
 *                   are told apart by "version", not by the uri.
 *   type            "text"; representationType "full" ("partial" for a
 *                   withdrawn release's tombstone).
 *   version         r->version as a string ("1", "2", …).
 *   firstCreated    published_at; versionCreated: published_at for version
 *                   1, updated_at for a correction (the time the store
 *                   records for that version), withdrawn_at for a
 *                   withdrawal. An embargoed release not yet published has
 *                   no firstCreated and versionCreated = updated_at.
 *   embargoedUntil  r->embargo_until when set (a past instant on a published
 *                   release says when the embargo lifted); for kind "embargo"
 *                   the lift instant (core_release_due()).
 *   pubStatus       "usable"; "canceled" for a withdrawn release.
 *   language        the release's BCP 47 tag.
 *   headlines       [{role "main"}, {role "subhead"} if any], text/plain.
 *   bodies          [{role "main", text/html: core_markdown_html},
 *                    {role "main", text/plain: core_markdown_text, charCount}]
 *   descriptions    {role "dateline"}: "PLACE, 28 November 2026 (wire) –"
 *                   in the release's language, as pages print it;
 *                   {role "boilerplate"}: the wire's localized boilerplate.
 *   usageTerms      the localized third-party disclaimer.
 *   located         the dateline place.
 *   subjects        one per sector: name (English), literal (the sector
 *                   slug, as stream filters take it) and, where the sector
 *                   maps to an IPTC Media Topic, its URI
 *                   "http://cv.iptc.org/newscodes/mediatopic/04000000".
 *   places          one per region: name (English), literal "ID" and uri
 *                   "http://cvx.iptc.org/iso3166-1a2/ID" (IPTC's alias for
 *                   the ISO 3166-1 alpha-2 codes).
 *   genres          [{"name": "Press Release"}].
 *   by, copyrightHolder  the issuer's name.
 *   infoSources     the issuer (role cpprole "origcont", its media contacts
 *                   as contactInfo) and the wire (role cpprole
 *                   "distributor", uri base_url).
 *   edNote          version > 1: "<localized 'Correction'>: <note>";
 *                   withdrawn: the localized withdrawal notice and reason.
 *   associations    one per other language version (translations): name
 *                   "translation-<tag>", rel "translation", uri = its page,
 *                   type "text", language.
 *   altIds          {role "release-id"}, {role "translation-group"}.
 *   standard        {name "ninjs", version "3.1", schema <the schema $id>}.
 * A withdrawn release (or kind "withdrawal") carries only uri, type,
 * representationType, version, times, pubStatus "canceled", language,
 * edNote, altIds and standard: no headline, body or other content.
 *
 * Nothing unpublished leaks: feeds_ninjs_release() and every kind but
 * "embargo" return NULL for a release that is not published, corrected or
 * withdrawn; "embargo" accepts an embargoed (or scheduled) release that has
 * an embargo time, and marks it with the lift instant. */
#ifndef KAWAT_FEEDS_H
#define KAWAT_FEEDS_H

#include <jansson.h>
#include <stdint.h>

#include "core/core_release.h"

/* The schema items conform to, as given in each item's "standard". */
#define FEEDS_NINJS_VERSION "3.1"
#define FEEDS_NINJS_SCHEMA "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json#"

/* The kinds of stream event. */
#define FEEDS_KIND_PUBLISH "publish"
#define FEEDS_KIND_CORRECTION "correction"
#define FEEDS_KIND_WITHDRAWAL "withdrawal"
#define FEEDS_KIND_EMBARGO "embargo"

/* 1 if kind is one of the four kinds above (exact, lower case). */
int feeds_ninjs_kind_valid(const char *kind);

/* The ninjs 3 item for a published, corrected or withdrawn release; NULL for
 * any other state. base_url like "http://127.0.0.1:8080" (absolute, no
 * trailing slash) makes the uri; wire_name ("kawat"; NULL means "kawat")
 * names the distributor and fills the localized texts. translations may be
 * NULL or an array of {language, id, url} (url optional: it is then built
 * from base_url) naming the other language versions; entries without a
 * language, or naming r itself, are skipped. Caller decrefs. */
json_t *feeds_ninjs_release(const core_release_t *r, const char *base_url, const char *wire_name,
                            const json_t *translations);

/* The stream event payload {"seq", "kind", "id", "item"}: seq is the wire
 * sequence (left out when <= 0, as for early embargo deliveries, which are
 * not on the wire log), kind one of FEEDS_KIND_*, item the ninjs 3 item as
 * above. kind "withdrawal" or a withdrawn r always gives the canceled
 * tombstone, whatever the other; kind "embargo" gives the full item with
 * embargoedUntil = the lift instant. NULL if kind is unknown or r may not be
 * shown for it. Caller decrefs. */
json_t *feeds_ninjs_event(const core_release_t *r, int64_t seq, const char *kind,
                          const char *base_url, const char *wire_name, const json_t *translations);

#endif
