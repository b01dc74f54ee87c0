/* core_release.c -- release validation, the life-cycle state machine and
 * the visibility rule. */
#include "core/core_release.h"
#include "core/core_lang.h"
#include "core/core_region.h"
#include "core/core_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *state_names[REL_STATE_COUNT_] = {
    "draft", "submitted", "rejected", "scheduled", "embargoed", "published", "corrected",
    "withdrawn"};

static const char *action_names[ACT_COUNT_] = {"edit",    "submit",  "approve",
                                               "reject",  "schedule", "publish",
                                               "correct", "withdraw"};

static const char *role_names[] = {"none", "subscriber", "issuer", "editor", "admin"};

const char *core_state_name(core_state_t s)
{
    return (unsigned)s < REL_STATE_COUNT_ ? state_names[s] : "unknown";
}

int core_state_parse(const char *name, core_state_t *out)
{
    for (int i = 0; i < REL_STATE_COUNT_; i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *out = (core_state_t)i;
            return KW_OK;
        }
    }
    return KW_INVALID;
}

const char *core_action_name(core_action_t a)
{
    return (unsigned)a < ACT_COUNT_ ? action_names[a] : "unknown";
}

const char *core_role_name(core_role_t r)
{
    return (unsigned)r < KW_ARRAY_SIZE(role_names) ? role_names[r] : "none";
}

int core_role_parse(const char *name, core_role_t *out)
{
    for (size_t i = 1; i < KW_ARRAY_SIZE(role_names); i++) {
        if (strcmp(name, role_names[i]) == 0) {
            *out = (core_role_t)i;
            return KW_OK;
        }
    }
    return KW_INVALID;
}

/* Cuts a UTF-8 sequence left incomplete at the end of z by a truncation
 * ("%.60s" of a field name, a full buffer): JSON strings must be valid
 * UTF-8, and a problem document with one that is not loses the error. */
static void utf8_trim_partial(char *z)
{
    size_t n = strlen(z), lead = n;
    while (lead > 0 && n - lead < 4 && ((unsigned char)z[lead - 1] & 0xc0) == 0x80) lead--;
    if (lead == 0) return;
    unsigned char c = (unsigned char)z[lead - 1];
    size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (n - (lead - 1) < want) z[lead - 1] = '\0';
}

void core_errors_add(core_errors_t *e, const char *field, const char *fmt, ...)
{
    if (e->count >= KW_ARRAY_SIZE(e->items)) return;
    va_list ap;
    snprintf(e->items[e->count].field, sizeof(e->items[0].field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->items[e->count].detail, sizeof(e->items[0].detail), fmt, ap);
    va_end(ap);
    utf8_trim_partial(e->items[e->count].field);
    utf8_trim_partial(e->items[e->count].detail);
    e->count++;
}

void core_release_init(core_release_t *r)
{
    memset(r, 0, sizeof(*r));
    r->version = 1;
    r->sectors = json_array();
    r->regions = json_array();
    r->contacts = json_array();
}

void core_release_clear(core_release_t *r)
{
    free(r->issuer_name);
    free(r->issuer_slug);
    free(r->headline);
    free(r->subheadline);
    free(r->body);
    free(r->translation_group);
    free(r->dateline_place);
    json_decref(r->sectors);
    json_decref(r->regions);
    json_decref(r->contacts);
    free(r->rejection_reason);
    free(r->withdrawal_reason);
    free(r->correction_note);
    memset(r, 0, sizeof(*r));
}

void core_release_free(core_release_t *r)
{
    if (r == NULL) return;
    core_release_clear(r);
    free(r);
}

static char *dup_or_null(const char *z)
{
    return z ? kw_strdup(z) : NULL;
}

core_release_t *core_release_dup(const core_release_t *r)
{
    core_release_t *c = kw_malloc(sizeof(*c));
    *c = *r;
    c->issuer_name = dup_or_null(r->issuer_name);
    c->issuer_slug = dup_or_null(r->issuer_slug);
    c->headline = dup_or_null(r->headline);
    c->subheadline = dup_or_null(r->subheadline);
    c->body = dup_or_null(r->body);
    c->translation_group = dup_or_null(r->translation_group);
    c->dateline_place = dup_or_null(r->dateline_place);
    c->sectors = json_deep_copy(r->sectors);
    c->regions = json_deep_copy(r->regions);
    c->contacts = json_deep_copy(r->contacts);
    c->rejection_reason = dup_or_null(r->rejection_reason);
    c->withdrawal_reason = dup_or_null(r->withdrawal_reason);
    c->correction_note = dup_or_null(r->correction_note);
    return c;
}

/* A one-line text field: no control characters at all. */
static int has_control(const char *z, int allow_newlines)
{
    for (const unsigned char *p = (const unsigned char *)z; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            if (allow_newlines && (*p == '\n' || *p == '\t' || *p == '\r')) continue;
            return 1;
        }
    }
    return 0;
}

/* Reads a string field: KW_OK with *out set (NULL for JSON null when
 * nullable), KW_DECLINED if absent, KW_INVALID (error added). */
static int get_text(json_t *in, const char *key, int nullable, size_t max, int multiline,
                    const char **out, core_errors_t *errs)
{
    json_t *v = json_object_get(in, key);
    if (v == NULL) return KW_DECLINED;
    if (json_is_null(v) && nullable) {
        *out = NULL;
        return KW_OK;
    }
    if (!json_is_string(v)) {
        core_errors_add(errs, key, "must be a string%s", nullable ? " or null" : "");
        return KW_INVALID;
    }
    const char *z = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(z) != n) {
        core_errors_add(errs, key, "must not contain NUL characters");
        return KW_INVALID;
    }
    if (n > max) {
        core_errors_add(errs, key, "is too long (%zu bytes, at most %zu)", n, max);
        return KW_INVALID;
    }
    if (has_control(z, multiline)) {
        core_errors_add(errs, key, "must not contain control characters");
        return KW_INVALID;
    }
    *out = z;
    return KW_OK;
}

static int blank(const char *z)
{
    for (; *z; z++)
        if (*z != ' ' && *z != '\t' && *z != '\n' && *z != '\r') return 0;
    return 1;
}

static void set_str(char **dst, const char *z)
{
    free(*dst);
    *dst = (z && *z) ? kw_strdup(z) : NULL;
}

static int valid_group(const char *z)
{
    size_t n = strlen(z);
    if (n == 0 || n > 64) return 0;
    for (; *z; z++) {
        char c = *z;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

/* 10000-01-01T00:00:00Z */
#define CORE_TIME_MAX_MS INT64_C(253402300800000)

static int apply_time(json_t *in, const char *key, int64_t now_ms, int64_t *out,
                      core_errors_t *errs)
{
    json_t *v = json_object_get(in, key);
    if (v == NULL) return KW_DECLINED;
    if (json_is_null(v)) {
        *out = 0;
        return KW_OK;
    }
    if (!json_is_string(v)) {
        core_errors_add(errs, key, "must be an RFC 3339 date-time string or null");
        return KW_INVALID;
    }
    kw_str_t s = {json_string_value(v), json_string_length(v)};
    int64_t ms;
    if (core_time_parse_rfc3339(s, &ms) != KW_OK) {
        core_errors_add(errs, key,
                        "must be an RFC 3339 date-time with a time zone, "
                        "like 2026-12-01T09:00:00+07:00");
        return KW_INVALID;
    }
    if (now_ms && ms <= now_ms) {
        core_errors_add(errs, key, "is in the past");
        return KW_INVALID;
    }
    /* An offset can carry 9999-12-31 past the year 9999, which no RFC 3339
     * time written back (four-digit years) could express. */
    if (ms >= CORE_TIME_MAX_MS) {
        core_errors_add(errs, key, "must be before the year 10000");
        return KW_INVALID;
    }
    *out = ms;
    return KW_OK;
}

static int apply_sectors(core_release_t *r, json_t *v, core_sector_resolve_fn resolve, void *ctx,
                         core_errors_t *errs)
{
    if (!json_is_array(v)) {
        core_errors_add(errs, "sectors", "must be an array of sector names or slugs");
        return KW_INVALID;
    }
    if (json_array_size(v) > CORE_SECTORS_MAX) {
        core_errors_add(errs, "sectors", "at most %d sectors", CORE_SECTORS_MAX);
        return KW_INVALID;
    }
    json_t *out = json_array();
    size_t i;
    json_t *item;
    int rc = KW_OK;
    json_array_foreach(v, i, item)
    {
        char field[32];
        snprintf(field, sizeof(field), "sectors[%zu]", i);
        if (!json_is_string(item)) {
            core_errors_add(errs, field, "must be a string");
            rc = KW_INVALID;
            continue;
        }
        const char *slug = resolve ? resolve(ctx, json_string_value(item)) : NULL;
        if (slug == NULL) {
            core_errors_add(errs, field, "unknown sector (see GET /v1/sectors)");
            rc = KW_INVALID;
            continue;
        }
        int dup = 0;
        size_t j;
        json_t *seen;
        json_array_foreach(out, j, seen) if (strcmp(json_string_value(seen), slug) == 0) dup = 1;
        if (!dup) json_array_append_new(out, json_string(slug));
    }
    if (rc == KW_OK) {
        json_decref(r->sectors);
        r->sectors = out;
    } else {
        json_decref(out);
    }
    return rc;
}

static int apply_regions(core_release_t *r, json_t *v, core_errors_t *errs)
{
    if (!json_is_array(v)) {
        core_errors_add(errs, "regions", "must be an array of ISO 3166-1 alpha-2 codes");
        return KW_INVALID;
    }
    if (json_array_size(v) > CORE_REGIONS_MAX) {
        core_errors_add(errs, "regions", "at most %d regions", CORE_REGIONS_MAX);
        return KW_INVALID;
    }
    json_t *out = json_array();
    size_t i;
    json_t *item;
    int rc = KW_OK;
    json_array_foreach(v, i, item)
    {
        char field[32];
        snprintf(field, sizeof(field), "regions[%zu]", i);
        const core_region_t *reg = NULL;
        if (json_is_string(item))
            reg = core_region_find((kw_str_t){json_string_value(item), json_string_length(item)});
        if (reg == NULL) {
            core_errors_add(errs, field, "must be an ISO 3166-1 alpha-2 code like \"ID\"");
            rc = KW_INVALID;
            continue;
        }
        int dup = 0;
        size_t j;
        json_t *seen;
        json_array_foreach(out, j, seen) if (strcmp(json_string_value(seen), reg->code) == 0) dup =
            1;
        if (!dup) json_array_append_new(out, json_string(reg->code));
    }
    if (rc == KW_OK) {
        json_decref(r->regions);
        r->regions = out;
    } else {
        json_decref(out);
    }
    return rc;
}

static int apply_contacts(core_release_t *r, json_t *v, core_errors_t *errs)
{
    static const char *keys[] = {"name", "email", "phone", "organization", "role"};
    if (!json_is_array(v)) {
        core_errors_add(errs, "contacts", "must be an array of {name, email, phone} objects");
        return KW_INVALID;
    }
    if (json_array_size(v) > CORE_CONTACTS_MAX) {
        core_errors_add(errs, "contacts", "at most %d contacts", CORE_CONTACTS_MAX);
        return KW_INVALID;
    }
    json_t *out = json_array();
    size_t i;
    json_t *item;
    int rc = KW_OK;
    json_array_foreach(v, i, item)
    {
        char field[64];
        if (!json_is_object(item)) {
            snprintf(field, sizeof(field), "contacts[%zu]", i);
            core_errors_add(errs, field, "must be an object with name, email, phone");
            rc = KW_INVALID;
            continue;
        }
        json_t *c = json_object();
        const char *k;
        json_t *val;
        json_object_foreach(item, k, val)
        {
            int known = 0;
            for (size_t j = 0; j < KW_ARRAY_SIZE(keys); j++)
                if (strcmp(k, keys[j]) == 0) known = 1;
            snprintf(field, sizeof(field), "contacts[%zu].%.32s", i, k);
            if (!known) {
                core_errors_add(errs, field, "unknown field");
                rc = KW_INVALID;
                continue;
            }
            if (!json_is_string(val) || json_string_length(val) > CORE_SHORT_MAX ||
                strlen(json_string_value(val)) != json_string_length(val) ||
                has_control(json_string_value(val), 0)) {
                core_errors_add(errs, field, "must be a one-line string of at most %d bytes",
                                CORE_SHORT_MAX);
                rc = KW_INVALID;
                continue;
            }
            if (strcmp(k, "email") == 0) {
                const char *at = strchr(json_string_value(val), '@');
                if (at == NULL || at == json_string_value(val) || strchr(at, '.') == NULL ||
                    strchr(json_string_value(val), ' ')) {
                    core_errors_add(errs, field, "is not an e-mail address");
                    rc = KW_INVALID;
                    continue;
                }
            }
            json_object_set(c, k, val);
        }
        json_t *name = json_object_get(c, "name");
        if (name == NULL || blank(json_string_value(name))) {
            snprintf(field, sizeof(field), "contacts[%zu].name", i);
            core_errors_add(errs, field, "is required");
            rc = KW_INVALID;
        }
        json_array_append_new(out, c);
    }
    if (rc == KW_OK) {
        json_decref(r->contacts);
        r->contacts = out;
    } else {
        json_decref(out);
    }
    return rc;
}

/* Fields an issuer may set. Anything else is rejected by name so that a
 * typo ("headlne") is a clear error rather than silently dropped. */
static const char *known_fields[] = {
    "headline",      "subheadline", "body",    "language",      "translation_group",
    "sectors",       "regions",     "contacts", "dateline_place", "embargo_until",
    "publish_at"};

int core_release_apply(core_release_t *r, json_t *in, int creating, int64_t now_ms,
                       core_sector_resolve_fn resolve, void *resolve_ctx, core_errors_t *errs)
{
    size_t before = errs->count;
    const char *k;
    json_t *v;
    const char *z;
    int rc;

    if (!json_is_object(in)) {
        core_errors_add(errs, "", "the request body must be a JSON object");
        return KW_INVALID;
    }
    json_object_foreach(in, k, v)
    {
        int known = 0;
        for (size_t i = 0; i < KW_ARRAY_SIZE(known_fields); i++)
            if (strcmp(k, known_fields[i]) == 0) known = 1;
        if (!known) {
            char field[64];
            snprintf(field, sizeof(field), "%.60s", k);
            core_errors_add(errs, field, "unknown field");
        }
    }

    rc = get_text(in, "headline", 0, CORE_HEADLINE_MAX, 0, &z, errs);
    if (rc == KW_OK) {
        if (blank(z))
            core_errors_add(errs, "headline", "must not be empty");
        else
            set_str(&r->headline, z);
    } else if (rc == KW_DECLINED && creating) {
        core_errors_add(errs, "headline", "is required");
    }

    rc = get_text(in, "subheadline", 1, CORE_SUBHEADLINE_MAX, 0, &z, errs);
    if (rc == KW_OK) set_str(&r->subheadline, z);

    rc = get_text(in, "body", 0, CORE_BODY_MAX, 1, &z, errs);
    if (rc == KW_OK) {
        if (blank(z))
            core_errors_add(errs, "body", "must not be empty");
        else
            set_str(&r->body, z);
    } else if (rc == KW_DECLINED && creating) {
        core_errors_add(errs, "body", "is required");
    }

    rc = get_text(in, "language", 0, 32, 0, &z, errs);
    if (rc == KW_OK) {
        const core_lang_t *lang = core_lang_find_z(z);
        if (lang == NULL)
            core_errors_add(errs, "language",
                            "unknown language \"%.40s\" (BCP 47 tags such as en, id, zh-Hans; "
                            "see GET /v1/languages)",
                            z);
        else
            snprintf(r->language, sizeof(r->language), "%s", lang->tag);
    } else if (rc == KW_DECLINED && creating) {
        core_errors_add(errs, "language", "is required");
    }

    rc = get_text(in, "translation_group", 1, 64, 0, &z, errs);
    if (rc == KW_OK) {
        if (z && *z && !valid_group(z))
            core_errors_add(errs, "translation_group",
                            "must be 1-64 letters, digits, '-', '_' or '.'");
        else
            set_str(&r->translation_group, z);
    }

    rc = get_text(in, "dateline_place", 1, CORE_SHORT_MAX, 0, &z, errs);
    if (rc == KW_OK) set_str(&r->dateline_place, z);

    if ((v = json_object_get(in, "sectors")) != NULL)
        apply_sectors(r, v, resolve, resolve_ctx, errs);
    if ((v = json_object_get(in, "regions")) != NULL) apply_regions(r, v, errs);
    if ((v = json_object_get(in, "contacts")) != NULL) apply_contacts(r, v, errs);

    apply_time(in, "embargo_until", now_ms, &r->embargo_until, errs);
    apply_time(in, "publish_at", now_ms, &r->publish_at, errs);

    return errs->count > before ? KW_INVALID : KW_OK;
}

int core_release_apply_correction(core_release_t *r, json_t *in, core_sector_resolve_fn resolve,
                                  void *resolve_ctx, core_errors_t *errs)
{
    size_t before = errs->count;
    const char *z = NULL;

    if (!json_is_object(in)) {
        core_errors_add(errs, "", "the request body must be a JSON object");
        return KW_INVALID;
    }
    if (get_text(in, "note", 0, 1000, 1, &z, errs) != KW_OK || z == NULL || blank(z)) {
        if (errs->count == before)
            core_errors_add(errs, "note", "is required: say what this correction changes");
        return KW_INVALID;
    }
    char *note = kw_strdup(z);

    /* A correction may not move a release to another language or change
     * its times: those would be a new release. */
    json_t *fields = json_deep_copy(in);
    json_object_del(fields, "note");
    const char *k;
    json_t *v;
    json_object_foreach(fields, k, v)
    {
        if (strcmp(k, "language") == 0 || strcmp(k, "embargo_until") == 0 ||
            strcmp(k, "publish_at") == 0)
            core_errors_add(errs, k, "cannot be changed by a correction");
    }
    if (json_object_size(fields) == 0)
        core_errors_add(errs, "", "a correction must change at least one field");
    if (errs->count == before)
        core_release_apply(r, fields, 0, 0, resolve, resolve_ctx, errs);
    json_decref(fields);
    if (errs->count > before) {
        free(note);
        return KW_INVALID;
    }
    free(r->correction_note);
    r->correction_note = note;
    return KW_OK;
}

int64_t core_release_due(const core_release_t *r)
{
    return r->embargo_until > r->publish_at ? r->embargo_until : r->publish_at;
}

int core_release_is_public(const core_release_t *r)
{
    return r->state == REL_PUBLISHED || r->state == REL_CORRECTED || r->state == REL_WITHDRAWN;
}

int core_release_owned_by(const core_release_t *r, const core_principal_t *who)
{
    return who && who->role == ROLE_ISSUER && who->issuer_id[0] &&
           strcmp(who->issuer_id, r->issuer_id) == 0;
}

static int is_staff(const core_principal_t *who)
{
    return who && (who->role == ROLE_EDITOR || who->role == ROLE_ADMIN);
}

int core_release_visible(const core_release_t *r, const core_principal_t *who)
{
    if (core_release_is_public(r)) return 1;
    return is_staff(who) || core_release_owned_by(r, who);
}

/* Design note: the state machine.
 *
 *   draft --submit--> submitted --approve--> published
 *     ^  <--edit-- rejected <--reject--/  \--approve (future time)--> scheduled | embargoed
 *   scheduled | embargoed --publish (scheduler, at due time)--> published
 *   published | corrected --correct--> corrected --withdraw--> withdrawn
 *   submitted | scheduled | embargoed --withdraw--> draft (pulled back, never public)
 *
 * Issuers act only on their own releases; editors and admins on all. Only
 * the scheduler (ROLE_ADMIN acting as system) publishes a waiting release,
 * and never before its due instant. */
int core_release_transition(const core_release_t *r, core_action_t act,
                            const core_principal_t *who, int64_t now_ms, core_state_t *next)
{
    int owner = core_release_owned_by(r, who);
    int staff = is_staff(who);
    core_state_t s = r->state;
    int64_t due = core_release_due(r);

    switch (act) {
    case ACT_EDIT:
        if (!owner && !staff) return KW_FORBIDDEN;
        if (s != REL_DRAFT && s != REL_REJECTED) return KW_CONFLICT;
        *next = REL_DRAFT;
        return KW_OK;
    case ACT_SUBMIT:
        if (!owner && !staff) return KW_FORBIDDEN;
        if (s != REL_DRAFT && s != REL_REJECTED) return KW_CONFLICT;
        *next = REL_SUBMITTED;
        return KW_OK;
    case ACT_APPROVE:
    case ACT_SCHEDULE:
        if (!staff) return KW_FORBIDDEN;
        if (s != REL_SUBMITTED && s != REL_SCHEDULED && s != REL_EMBARGOED) return KW_CONFLICT;
        if (due > now_ms)
            *next = r->embargo_until > now_ms ? REL_EMBARGOED : REL_SCHEDULED;
        else
            *next = REL_PUBLISHED;
        return KW_OK;
    case ACT_REJECT:
        if (!staff) return KW_FORBIDDEN;
        if (s != REL_SUBMITTED && s != REL_SCHEDULED && s != REL_EMBARGOED) return KW_CONFLICT;
        *next = REL_REJECTED;
        return KW_OK;
    case ACT_PUBLISH:
        if (!who || who->role != ROLE_ADMIN) return KW_FORBIDDEN;
        if (s != REL_SCHEDULED && s != REL_EMBARGOED) return KW_CONFLICT;
        if (due > now_ms) return KW_CONFLICT; /* never early */
        *next = REL_PUBLISHED;
        return KW_OK;
    case ACT_CORRECT:
        if (!owner && !staff) return KW_FORBIDDEN;
        if (s != REL_PUBLISHED && s != REL_CORRECTED) return KW_CONFLICT;
        *next = REL_CORRECTED;
        return KW_OK;
    case ACT_WITHDRAW:
        if (!owner && !staff) return KW_FORBIDDEN;
        if (s == REL_PUBLISHED || s == REL_CORRECTED) {
            *next = REL_WITHDRAWN;
            return KW_OK;
        }
        if (s == REL_SUBMITTED || s == REL_SCHEDULED || s == REL_EMBARGOED) {
            *next = REL_DRAFT;
            return KW_OK;
        }
        return KW_CONFLICT;
    default:
        return KW_INVALID;
    }
}

void core_release_path(const core_release_t *r, char *out, size_t size)
{
    snprintf(out, size, "/%s/releases/%s", r->language, r->id);
}

static void set_time(json_t *o, const char *key, int64_t ms)
{
    if (ms) {
        char buf[40];
        core_time_format_rfc3339(ms, buf, sizeof(buf));
        json_object_set_new(o, key, json_string(buf));
    } else {
        json_object_set_new(o, key, json_null());
    }
}

static void set_opt(json_t *o, const char *key, const char *z)
{
    json_object_set_new(o, key, z ? json_string(z) : json_null());
}

json_t *core_release_to_json(const core_release_t *r, const char *base_url, int private_view)
{
    json_t *o = json_object();
    char path[128];
    core_release_path(r, path, sizeof(path));
    char *url = kw_malloc(strlen(base_url) + strlen(path) + 1);
    strcpy(url, base_url);
    strcat(url, path);

    json_object_set_new(o, "id", json_string(r->id));
    json_object_set_new(o, "state", json_string(core_state_name(r->state)));
    json_object_set_new(o, "language", json_string(r->language));
    json_object_set_new(o, "url", json_string(url));
    free(url);

    if (r->state == REL_WITHDRAWN && !private_view) {
        set_time(o, "withdrawn_at", r->withdrawn_at);
        set_opt(o, "withdrawal_reason", r->withdrawal_reason);
        json_object_set_new(o, "issuer", json_pack("{s:s, s:s?, s:s?}", "id", r->issuer_id,
                                                   "slug", r->issuer_slug, "name", r->issuer_name));
        return o;
    }
    json_object_set_new(o, "version", json_integer(r->version));
    json_object_set_new(o, "headline", json_string(r->headline ? r->headline : ""));
    set_opt(o, "subheadline", r->subheadline);
    json_object_set_new(o, "body", json_string(r->body ? r->body : ""));
    set_opt(o, "translation_group", r->translation_group);
    set_opt(o, "dateline_place", r->dateline_place);
    json_object_set(o, "sectors", r->sectors);
    json_object_set(o, "regions", r->regions);
    json_object_set(o, "contacts", r->contacts);
    json_object_set_new(o, "issuer", json_pack("{s:s, s:s?, s:s?}", "id", r->issuer_id, "slug",
                                               r->issuer_slug, "name", r->issuer_name));
    set_time(o, "embargo_until", r->embargo_until);
    set_time(o, "published_at", r->published_at);
    if (r->publish_seq) json_object_set_new(o, "seq", json_integer(r->publish_seq));
    set_time(o, "updated_at", r->updated_at);
    if (r->correction_note) json_object_set_new(o, "correction_note", json_string(r->correction_note));
    if (r->state == REL_WITHDRAWN) {
        set_time(o, "withdrawn_at", r->withdrawn_at);
        set_opt(o, "withdrawal_reason", r->withdrawal_reason);
    }
    if (private_view) {
        set_time(o, "publish_at", r->publish_at);
        set_time(o, "created_at", r->created_at);
        set_time(o, "submitted_at", r->submitted_at);
        set_opt(o, "rejection_reason", r->rejection_reason);
    }
    return o;
}
