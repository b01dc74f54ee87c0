/* core_release.h -- the release: its fields, validation of what issuers
 * send, the life-cycle state machine and who may see what. Pure logic: no
 * sockets, no SQL. */
#ifndef KAWAT_CORE_RELEASE_H
#define KAWAT_CORE_RELEASE_H

#include "core/core.h"
#include <jansson.h>

/* States of DESIGN.md. "approved" is passed through within one step: an
 * approved release either publishes at once or waits as scheduled or
 * embargoed. "corrected" is published with a version > 1. */
typedef enum {
    REL_DRAFT,
    REL_SUBMITTED,
    REL_REJECTED,
    REL_SCHEDULED,
    REL_EMBARGOED,
    REL_PUBLISHED,
    REL_CORRECTED,
    REL_WITHDRAWN,
    REL_STATE_COUNT_
} core_state_t;

/* What someone asks to do to a release. */
typedef enum {
    ACT_EDIT,     /* issuer changes a draft or rejected release */
    ACT_SUBMIT,   /* issuer sends it to review */
    ACT_APPROVE,  /* editor: publish now, or schedule/embargo per its times */
    ACT_REJECT,   /* editor, with a reason */
    ACT_SCHEDULE, /* editor sets publish_at / embargo_until and approves */
    ACT_PUBLISH,  /* the scheduler, at the instant */
    ACT_CORRECT,  /* issuer or editor, on a published release, with a note */
    ACT_WITHDRAW, /* published: tombstone; unpublished: pulled back to draft */
    ACT_COUNT_
} core_action_t;

typedef enum { ROLE_NONE, ROLE_SUBSCRIBER, ROLE_ISSUER, ROLE_EDITOR, ROLE_ADMIN } core_role_t;

/* Who is asking. issuer_id is set for issuer users, subscriber_id for
 * subscriber users that have a subscriber (made by POST /v1/subscribers). */
typedef struct {
    core_role_t role;
    char user_id[32];
    char issuer_id[32];
    char name[128];
    char subscriber_id[32];
} core_principal_t;

typedef struct {
    char id[32];
    char issuer_id[32];
    char *issuer_name;
    char *issuer_slug;
    core_state_t state;
    int version;
    char *headline;
    char *subheadline; /* NULL if none */
    char *body;        /* Markdown */
    char language[16]; /* canonical BCP 47 tag */
    char *translation_group; /* NULL if none */
    char *dateline_place;    /* NULL if none */
    json_t *sectors;   /* array of slugs */
    json_t *regions;   /* array of ISO 3166-1 alpha-2 codes */
    json_t *contacts;  /* array of {name, email?, phone?, organization?} */
    int64_t embargo_until; /* ms UTC, 0 if none */
    int64_t publish_at;    /* ms UTC, 0 if none */
    int64_t created_at, updated_at, submitted_at, published_at, withdrawn_at;
    int64_t publish_seq;   /* wire sequence of its publish event, 0 if none */
    char *rejection_reason;
    char *withdrawal_reason;
    char *correction_note; /* what changed in the current version */
} core_release_t;

/* Validation errors, each naming the field ("sectors[1]"). */
typedef struct {
    struct {
        char field[64];
        char detail[192];
    } items[16];
    size_t count;
} core_errors_t;

void core_errors_add(core_errors_t *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Maps a sector name or slug to its canonical slug in the managed list;
 * returns NULL if unknown. */
typedef const char *(*core_sector_resolve_fn)(void *ctx, const char *name_or_slug);

/* Limits on what an issuer may send. */
#define CORE_HEADLINE_MAX 400      /* bytes */
#define CORE_SUBHEADLINE_MAX 600
#define CORE_BODY_MAX (256 * 1024)
#define CORE_SECTORS_MAX 10
#define CORE_REGIONS_MAX 60
#define CORE_CONTACTS_MAX 10
#define CORE_SHORT_MAX 200

/* Applies the fields of a JSON object sent by an issuer to r. With
 * creating = 1, headline, body and language are required; otherwise only
 * the fields present change. Unknown fields, wrong types, unknown language,
 * sectors or regions, bad times are errors added to errs. now_ms is used to
 * check that embargo and schedule times are not in the past. Returns KW_OK
 * or KW_INVALID (errs filled). r keeps its own copies. */
int core_release_apply(core_release_t *r, json_t *in, int creating, int64_t now_ms,
                       core_sector_resolve_fn resolve, void *resolve_ctx, core_errors_t *errs);

/* Which fields a correction may change and how it is described. */
int core_release_apply_correction(core_release_t *r, json_t *in, core_sector_resolve_fn resolve,
                                  void *resolve_ctx, core_errors_t *errs);

/* State machine. Returns KW_OK if who may do act to r now, KW_CONFLICT if
 * the state does not allow it, KW_FORBIDDEN if the role does not. On KW_OK
 * *next is the resulting state given now_ms (approve goes to published,
 * scheduled or embargoed according to r's times). */
int core_release_transition(const core_release_t *r, core_action_t act,
                            const core_principal_t *who, int64_t now_ms, core_state_t *next);

/* The instant a waiting release is due: the later of embargo_until and
 * publish_at (0 if neither). */
int64_t core_release_due(const core_release_t *r);

/* Whether who may see r: published, corrected and withdrawn (as a tombstone)
 * releases are public; every other state only to its issuer's users, editors
 * and admins. Anyone else must be answered exactly as for an id that does
 * not exist. */
int core_release_visible(const core_release_t *r, const core_principal_t *who);
int core_release_is_public(const core_release_t *r);
int core_release_owned_by(const core_release_t *r, const core_principal_t *who);

const char *core_state_name(core_state_t s);
int core_state_parse(const char *name, core_state_t *out);
const char *core_role_name(core_role_t r);
int core_role_parse(const char *name, core_role_t *out);
const char *core_action_name(core_action_t a);

void core_release_init(core_release_t *r);
void core_release_clear(core_release_t *r); /* frees members, not r */
void core_release_free(core_release_t *r);  /* clear + free(r) */
core_release_t *core_release_dup(const core_release_t *r);

/* The release as JSON (caller decrefs). base_url like "http://127.0.0.1:8080"
 * makes the "url" of its page. Public view leaves out what only the issuer
 * and editors see (rejection reason, drafts' times). A withdrawn release is
 * a tombstone: id, state, language, withdrawn_at, reason, url. */
json_t *core_release_to_json(const core_release_t *r, const char *base_url, int private_view);

/* URL path of a release's page: "/id/releases/ID". */
void core_release_path(const core_release_t *r, char *out, size_t size);

#endif
