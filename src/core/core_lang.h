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

/* A message with "{wire}" replaced by wire_name; malloc'd, caller frees. */
char *core_lang_format(const core_lang_t *lang, core_msg_t msg, const char *wire_name);

#endif
