/* core_time.h -- RFC 3339 and HTTP dates, and dates in a reader's language,
 * all on UTC milliseconds since the Unix epoch (the project's one time type). */
#ifndef KAWAT_CORE_TIME_H
#define KAWAT_CORE_TIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Smallest buffer the core_time_format_* functions into a caller's buffer
 * are guaranteed to fit in. */
#define CORE_TIME_BUF_SIZE 32

/* Styles for core_time_format_local(). */
#define CORE_TIME_DATE 0     /* long date: "28 November 2026", "2026年11月28日" */
#define CORE_TIME_DATETIME 1 /* long date and short time, in UTC */

/* Parses an RFC 3339 date-time: "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)".
 * The offset is required ('Z' or a numeric one); 't' and 'z' may be lower
 * case; a fraction of any length keeps its milliseconds (truncated). Fields are
 * range-checked (days per month with leap years, hour 0-23, minute 0-59,
 * second 0-60 where a leap second 60 counts as 59; offset hours 0-23), the
 * year must be 1970-9999 and the instant itself must not be before the epoch.
 * Independent of TZ and the C library's time functions.
 * Returns KW_OK and sets *out_ms to UTC ms since the epoch, or KW_INVALID
 * (then *out_ms is untouched). */
int core_time_parse_rfc3339(kw_str_t s, int64_t *out_ms);

/* Writes "2026-11-28T16:28:06Z" (UTC, whole seconds, rounded down) into buf;
 * size should be at least CORE_TIME_BUF_SIZE (output is always
 * NUL-terminated, truncated if smaller). */
void core_time_format_rfc3339(int64_t ms, char *buf, size_t size);

/* Writes an HTTP IMF-fixdate "Sat, 28 Nov 2026 16:28:06 GMT" into buf;
 * size as for core_time_format_rfc3339(). */
void core_time_format_http(int64_t ms, char *buf, size_t size);

/* Formats ms as a date in the reader's language with ICU, time zone UTC.
 * icu_locale is an ICU locale id ("id", "zh_Hant") or a BCP 47 tag
 * ("zh-Hant", "pt-BR"); NULL means "en". style is CORE_TIME_DATE or
 * CORE_TIME_DATETIME. Opens an ICU formatter per call (roughly tens of
 * microseconds to a millisecond): cache the result when rendering in bulk.
 * Returns a NUL-terminated UTF-8 string the caller frees with free(); never
 * NULL. If ICU fails, falls back to "2026-11-28" (CORE_TIME_DATE) or
 * "2026-11-28T16:28:06Z" (CORE_TIME_DATETIME). */
char *core_time_format_local(int64_t ms, const char *icu_locale, int style);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, day 1-31;
 * not range-checked), and the inverse. Exposed for the tests and for callers
 * doing calendar arithmetic. */
int64_t core_time_days_from_civil(int64_t year, unsigned month, unsigned day);
void core_time_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

#endif
