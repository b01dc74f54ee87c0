/* core_lang.h -- the wire's languages (BCP 47) and every localized text a
 * reader sees: disclaimer, sector label, boilerplate, page titles. */
#ifndef KAWAT_CORE_LANG_H
#define KAWAT_CORE_LANG_H

#include "core/core.h"

/* Message ids; every language carries every message (a unit test checks). */
typedef enum {
    MSG_DISCLAIMER,     /* "This article is provided by a third-party content provider.
                           {wire} makes no warranty or representation in connection with it." */
    MSG_SECTOR,         /* "Sector" (label before the list: "Sector: Top Story, Daily News") */
    MSG_REGION,         /* "Region" */
    MSG_LATEST_TITLE,   /* home page title, e.g. id: "Berita Indonesia Terbaru Hari Ini",
                           en: "Latest English News Today" */
    MSG_BOILERPLATE,    /* "About {wire}: {wire} is a real-time multilingual press-release wire
                           reaching media in 90 countries in 15 languages." */
    MSG_ABOUT_WIRE,     /* heading "About {wire}" */
    MSG_OTHER_LANGUAGES,/* "This release in other languages" */
    MSG_CONTACTS,       /* "Media contacts" */
    MSG_CORRECTED,      /* "Corrected" */
    MSG_CORRECTION_NOTE,/* "Correction" (heading before what changed) */
    MSG_WITHDRAWN,      /* "This release has been withdrawn by its issuer." */
    MSG_NO_RELEASES,    /* "No releases yet." */
    MSG_OLDER,          /* "Older releases" (pagination link) */
    MSG_NEWER,          /* "Newer releases" */
    MSG_NOT_FOUND,      /* "Page not found" */
    MSG_BAD_REQUEST,    /* "Bad request" */
    MSG_HOME,           /* "Home" */
    MSG_LANGUAGES,      /* "Languages" */
    MSG_PUBLISHED,      /* "Published" */
    MSG_ISSUER,         /* "Issuer" */
    /* Page titles with a placeholder filled by core_lang_format_vars(): */
    MSG_SECTOR_TITLE,   /* "{sector} news", {sector} the sector's localized name */
    MSG_REGION_TITLE,   /* "{region} news", {region} the localized country name */
    MSG_ISSUER_TITLE,   /* "{issuer} newsroom", {issuer} the issuer's name */
    MSG_DAY_TITLE,      /* "Releases of {date}", {date} the localized long date */
    MSG_ARCHIVE_TITLE,  /* "Archive": the list of days */
    MSG_DAY,            /* "Date" (archive table heading) */
    MSG_RELEASES,       /* "Releases" (archive table heading; the count below it) */
    MSG_SKIP_TO_CONTENT,/* "Skip to content" (the first link of every page) */
    MSG_FEEDS,          /* "Feeds" (links to RSS, Atom, JSON Feed) */
    MSG_WHAT_CHANGED,   /* "Changed" (before the list of corrected fields) */
    MSG_PREVIOUS_HEADLINE,/* "Previous headline" */
    MSG_FIELD_HEADLINE, /* "Headline" (a corrected field) */
    MSG_FIELD_SUBHEADLINE,/* "Subheadline" */
    MSG_FIELD_BODY,     /* "Text" (the body) */
    MSG_FIELD_DATELINE, /* "Dateline" (its place) */
    MSG_NOT_FOUND_DETAIL,/* "There is no page at this address." */
    MSG_BAD_REQUEST_DETAIL,/* "The address has a parameter this page does not take, or a
                              malformed one." */
    MSG_UNAVAILABLE,    /* "Service temporarily unavailable" */
    MSG_SECTORS,        /* "Sectors" (navigation of sector pages) */
    MSG_REASON,         /* "Reason" (of a withdrawal) */
    MSG_UPDATED,        /* "Updated" (time of the last correction) */
    MSG_PAGES,          /* "Pages" (pagination navigation label) */
    MSG_COUNT_
} core_msg_t;

typedef struct {
    const char *tag;        /* canonical BCP 47 tag: "en", "zh-Hans", "pt" */
    const char *name;       /* English name: "Simplified Chinese" */
    const char *native;     /* endonym: "简体中文" */
    const char *icu_locale; /* ICU locale id for dates and numbers: "zh_Hans", "ar" */
    int rtl;                /* 1 for right-to-left scripts (Arabic) */
    const char *msgs[MSG_COUNT_]; /* UTF-8, may contain "{wire}" */
} core_lang_t;

/* The language for a tag, matched case-insensitively ("ZH-hans" finds
 * zh-Hans); NULL if kawat does not carry it. */
const core_lang_t *core_lang_find(kw_str_t tag);
const core_lang_t *core_lang_find_z(const char *tag);

/* All languages, in a stable order (the 15 of DESIGN.md first). */
size_t core_lang_count(void);
const core_lang_t *core_lang_at(size_t i);

/* The default language ("en"). */
const core_lang_t *core_lang_default(void);

/* The separator between items of a list in running text: ", " in most
 * languages, "، " in Arabic, "、" in Chinese and Japanese. */
const char *core_lang_list_separator(const core_lang_t *lang);

/* What follows a label before its value ("Sector: Business"): ": " in
 * most languages, a full-width "：" in Chinese and Japanese, " : " with a
 * narrow no-break space in French. */
const char *core_lang_label_separator(const core_lang_t *lang);

/* A message with "{wire}" replaced by wire_name; malloc'd, caller frees. */
char *core_lang_format(const core_lang_t *lang, core_msg_t msg, const char *wire_name);

/* A message with every "{name}" replaced by its value: vars is a list of
 * name, value pairs ended by a NULL name ({"wire", "kawat", "sector",
 * "Technology", NULL}); a NULL value counts as "". Values are inserted as
 * they are, never expanded again; a placeholder not in vars stays as it is.
 * Returns a malloc'd string the caller frees; NULL only for a message id
 * out of range. */
char *core_lang_format_vars(const core_lang_t *lang, core_msg_t msg, const char *const *vars);

#endif
