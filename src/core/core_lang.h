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
    /* E-mail alerts (deliver_mail.c) and their pages (web_signup.c); {email},
     * {time} and {count} are filled by core_lang_format_vars(): */
    MSG_MAIL_EMBARGOED, /* "EMBARGOED until {time}" (mail subject and text of an early, embargoed release) */
    MSG_MAIL_DIGEST_SUBJECT, /* "{count} new releases on your beats" (digest subject) */
    MSG_MAIL_DIGEST_HOURLY, /* "Releases of the last hour" (digest heading) */
    MSG_MAIL_DIGEST_DAILY, /* "Releases of the last day" (digest heading) */
    MSG_MAIL_READ_ONLINE, /* "Read online" (link to the release page) */
    MSG_MAIL_WHY, /* "You receive this mail because you signed up for {wire} e-mail alerts ..." */
    MSG_MAIL_UNSUBSCRIBE, /* "Unsubscribe" (link and button) */
    MSG_MAIL_CONFIRM_SUBJECT, /* "Confirm your {wire} e-mail alerts" */
    MSG_MAIL_CONFIRM_BODY, /* "Someone, hopefully you, asked for {wire} e-mail alerts ... open this link within 48 hours:" */
    MSG_MAIL_CONFIRM_IGNORE, /* "If it was not you, ignore this mail ..." */
    MSG_SIGNUP_TITLE, /* "E-mail alerts for journalists" (the /signup page) */
    MSG_SIGNUP_INTRO, /* "Receive the releases of your beats by e-mail ..." */
    MSG_SIGNUP_EMAIL, /* "E-mail address" */
    MSG_SIGNUP_NAME, /* "Name (optional)" */
    MSG_SIGNUP_LANGUAGE, /* "Language of the mails" */
    MSG_SIGNUP_BEATS, /* "Your beats" */
    MSG_SIGNUP_RELEASE_LANGUAGES, /* "Languages of the releases" */
    MSG_SIGNUP_REGIONS, /* "Countries (ISO codes, comma-separated, e.g. ID, MY)" */
    MSG_SIGNUP_KEYWORDS, /* "Keywords (comma-separated)" */
    MSG_SIGNUP_TIMING, /* "When" */
    MSG_SIGNUP_IMMEDIATE, /* "At once, one mail per release" */
    MSG_SIGNUP_HOURLY, /* "Hourly digest" */
    MSG_SIGNUP_DAILY, /* "Daily digest" */
    MSG_SIGNUP_SUBMIT, /* "Sign up" (button) */
    MSG_SIGNUP_CHECK_MAIL, /* "Check your mail: we sent a confirmation link to {email} ..." */
    MSG_SIGNUP_BAD_EMAIL, /* "Enter an e-mail address like name@example.com." */
    MSG_SIGNUP_TOO_MANY, /* "Too many sign-ups; please try again later." */
    MSG_SIGNUP_INVALID, /* "Please check this field." */
    MSG_CONFIRM_DONE, /* "Your e-mail alerts are on: the releases of your beats go to {email}." */
    MSG_UNSUB_QUESTION, /* "Stop the e-mail alerts to {email}?" */
    MSG_UNSUB_DONE, /* "Unsubscribed: {email} receives no more alerts." */
    MSG_LINK_INVALID, /* "This link is not valid or has expired." */
    /* Log-in and accounts (web_account.c): */
    MSG_ACCT_LOGIN, /* "Log in" (page title and button) */
    MSG_ACCT_LOGOUT, /* "Log out" */
    MSG_ACCT_EMAIL, /* "E-mail address" */
    MSG_ACCT_PASSWORD, /* "Password" */
    MSG_ACCT_NEW_PASSWORD, /* "New password" */
    MSG_ACCT_PASSWORD_HINT, /* "At least 12 characters." */
    MSG_ACCT_NAME, /* "Your name" */
    MSG_ACCT_BAD_LOGIN, /* the same answer for an unknown address and a wrong password */
    MSG_ACCT_LOCKED, /* "Too many failed log-in attempts. Try again in 15 minutes ..." */
    MSG_ACCT_FORGOT, /* "Forgot your password?" */
    MSG_ACCT_RESET_TITLE, /* "Reset your password" */
    MSG_ACCT_RESET_SEND, /* "Send me a link" */
    MSG_ACCT_RESET_SENT, /* the one answer to a reset request, whether the address exists or not */
    MSG_ACCT_LINK_INVALID, /* "This link is not valid: ..." (used, expired, forged) */
    MSG_ACCT_PASSWORD_SHORT, /* "The password must have at least 12 characters." */
    MSG_ACCT_SET_PASSWORD, /* "Save the new password" (button) */
    MSG_ACCT_PASSWORD_DONE, /* "Your new password is saved ... You can log in now." */
    MSG_ACCT_TITLE, /* "Your account" */
    MSG_ACCT_ROLE, /* "Role" */
    MSG_ACCT_ORGANIZATION, /* "Organization" (an issuer's company or institution) */
    MSG_ACCT_ROLE_ADMIN, /* "Administrator" */
    MSG_ACCT_ROLE_EDITOR, /* "Editor" */
    MSG_ACCT_ROLE_SUBSCRIBER, /* "Subscriber" (the issuer role uses MSG_ISSUER) */
    MSG_ACCT_INVITES_TITLE, /* "Invite issuers and editors" */
    MSG_ACCT_INVITE_SEND, /* "Send the invitation" (button) */
    MSG_ACCT_INVITE_SENT, /* "The invitation is on its way to {email}. ..." */
    MSG_ACCT_EMAIL_TAKEN, /* "An account with this e-mail address exists already." */
    MSG_ACCT_INVITE_TITLE, /* "Join {wire}" (the invitee's page) */
    MSG_ACCT_INVITE_ACCEPT, /* "Create my account" (button) */
    MSG_ACCT_EMAIL_INVALID, /* "Enter an e-mail address such as name@example.com." */
    MSG_ACCT_REQUIRED, /* "This field is required." */
    MSG_ACCT_TOO_LONG, /* "This is too long." */
    MSG_ACCT_FORM_EXPIRED, /* a form without its CSRF token (403) */
    MSG_ACCT_FORBIDDEN, /* "Your account may not open this page." (403) */
    MSG_ACCT_CHANGE, /* "Change" (the language picker's button) */
    MSG_ACCT_RECENT_INVITES, /* "Recent invitations" */
    MSG_ACCT_STATUS, /* "Status" (table heading) */
    MSG_ACCT_PENDING, /* "Waiting" (an invitation not yet accepted) */
    MSG_ACCT_ACCEPTED, /* "Accepted" */
    MSG_ACCT_MAIL_RESET_SUBJECT, /* "Reset your {wire} password" */
    MSG_ACCT_MAIL_RESET_BODY, /* the reset mail's text, {link} on a line of its own */
    MSG_ACCT_MAIL_INVITE_SUBJECT, /* "You are invited to {wire}" */
    MSG_ACCT_MAIL_INVITE_BODY, /* the invitation mail's text: {role}, {link} */
    /* The issuer portal and the editor desk (web_desk.c): */
    MSG_DESK_TITLE, /* "Your releases" */
    MSG_DESK_QUEUE, /* "Review queue" */
    MSG_DESK_NEW, /* "New release" */
    MSG_DESK_LANGUAGE, /* "Language" */
    MSG_DESK_GROUP, /* "Translation group" */
    MSG_DESK_CONTACTS_HINT, /* "One contact per line: name; e-mail; phone" */
    MSG_DESK_TIMING, /* "Release" */
    MSG_DESK_AT_ONCE, /* "As soon as approved" */
    MSG_DESK_EMBARGO, /* "Under embargo until" */
    MSG_DESK_SCHEDULE_AT, /* "Scheduled for" */
    MSG_DESK_WHEN, /* "Date and time with its offset, e.g. 2026-12-01T09:00:00+07:00" */
    MSG_DESK_TIMEZONE, /* "Time zone" */
    MSG_DESK_SAVE, /* "Save draft" */
    MSG_DESK_SUBMIT, /* "Submit for review" */
    MSG_DESK_PREVIEW, /* "Preview" */
    MSG_DESK_APPROVE, /* "Approve" */
    MSG_DESK_REJECT, /* "Reject" */
    MSG_DESK_SCHEDULE, /* "Schedule" */
    MSG_DESK_CORRECT, /* "Publish the correction" */
    MSG_DESK_WITHDRAW, /* "Withdraw" */
    MSG_DESK_REPORT, /* "Distribution report" */
    MSG_DESK_CALENDAR, /* "Embargoed and scheduled" */
    MSG_DESK_WIRE, /* "Live wire" */
    MSG_DESK_CONFLICT, /* "This step is not possible in the release's current state." */
    MSG_STATE_DRAFT, /* "Draft" */
    MSG_STATE_SUBMITTED, /* "Submitted" */
    MSG_STATE_REJECTED, /* "Rejected" */
    MSG_STATE_SCHEDULED, /* "Scheduled" */
    MSG_STATE_EMBARGOED, /* "Embargoed" */
    MSG_STATE_WITHDRAWN, /* "Withdrawn" */
    /* Subscriber self-service (web_subscriber.c): */
    MSG_ME_TITLE, /* "Your subscription" (the /me/ page) */
    MSG_ME_SIGNUP_TITLE, /* "Create a subscriber account" (/me/signup) */
    MSG_ME_KIND, /* "I am" (label of the kind choice) */
    MSG_ME_KIND_JOURNALIST, /* "A journalist: e-mail alerts" */
    MSG_ME_KIND_DESKTOP, /* "A desktop user: a live page" */
    MSG_ME_KIND_OUTLET, /* "An outlet: webhooks" */
    MSG_ME_EVERYTHING, /* "Everything (no beat set yet)" */
    MSG_ME_ADD_BEAT, /* "Add a beat" */
    MSG_ME_PREVIEW, /* "Preview" (button) */
    MSG_ME_SAVE, /* "Save" (button) */
    MSG_ME_REMOVE, /* "Remove" (button) */
    MSG_ME_MATCHING, /* "Recent releases that match" (heading of the preview) */
    MSG_ME_TIMING_UNCONFIRMED, /* "E-mails go only to an address confirmed through the e-mail alerts sign-up." */
    MSG_ME_LIVE, /* "Live" (the personal live page) */
    MSG_ME_LIVE_WAITING, /* "Waiting for releases on your beats..." */
    MSG_ME_ENDPOINTS, /* "Webhook endpoints" */
    MSG_ME_FORMAT, /* "Format" */
    MSG_ME_ADD_ENDPOINT, /* "Add an endpoint" */
    MSG_ME_PAUSE, /* "Pause" */
    MSG_ME_RESUME, /* "Resume" */
    MSG_ME_DELETE, /* "Delete" */
    MSG_ME_ACTIVE, /* "Active" */
    MSG_ME_PAUSED, /* "Paused" */
    MSG_ME_DELIVERIES, /* "Delivery log" */
    MSG_ME_SECRET_ONCE, /* "Signing secret, shown only now: keep it" */
    MSG_ME_NONE, /* "None yet." */
    MSG_ME_INVALID, /* "Please check this value." */
    /* The desk's Markdown toolbar and its field errors (web_desk.c, desk.js): */
    MSG_DESK_MD_TOOLBAR, /* "Formatting" (the Markdown toolbar's label) */
    MSG_DESK_MD_BOLD, /* "Bold" (toolbar button) */
    MSG_DESK_MD_ITALIC, /* "Italic" */
    MSG_DESK_MD_LINK, /* "Link" */
    MSG_DESK_MD_LIST, /* "Bulleted list" */
    MSG_DESK_ERR_SECTOR, /* "Choose a sector from the list." (an unknown sector) */
    MSG_DESK_ERR_REGION, /* "Enter two-letter country codes such as ID, MY." */
    MSG_DESK_ERR_LANGUAGE, /* "Choose a language from the list." (an unknown language) */
    MSG_DESK_ERR_TIME, /* "Enter a date and time with its offset, such as ..." (a malformed time) */
    MSG_DESK_ERR_PAST, /* "This time is in the past." */
    MSG_DESK_ERR_NOTE, /* "Say what this correction changes." (the note is missing) */
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
