/* core_time.c -- RFC 3339 / HTTP date parsing and formatting on UTC epoch
 * milliseconds, plus localized dates through ICU. */
#include "core/core_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <unicode/udat.h>
#include <unicode/uloc.h>
#include <unicode/ustring.h>

#define MS_PER_DAY INT64_C(86400000)

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date,
 * no tables, no TZ, no timegm(). Eras are 400-year cycles starting 0000-03-01
 * so the leap day falls at the end of each year of the cycle. */
int64_t core_time_days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2;
    int64_t era = (year >= 0 ? year : year - 399) / 400;
    unsigned yoe = (unsigned)(year - era * 400);                                  /* [0, 399] */
    unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1; /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                         /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

void core_time_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int64_t)yoe + era * 400 + (m <= 2);
    *month = m;
    *day = d;
}

static int core__is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned core__days_in_month(int64_t y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && core__is_leap(y) ? 29 : dim[m - 1];
}

/* Reads exactly n ASCII digits at s->data[*i]; advances *i. */
static int core__digits(kw_str_t s, size_t *i, size_t n, unsigned *out)
{
    if (s.len - *i < n) return 0;
    unsigned v = 0;
    for (size_t k = 0; k < n; k++) {
        char c = s.data[*i + k];
        if (c < '0' || c > '9') return 0;
        v = v * 10 + (unsigned)(c - '0');
    }
    *i += n;
    *out = v;
    return 1;
}

static int core__expect(kw_str_t s, size_t *i, char a, char b)
{
    if (*i >= s.len || (s.data[*i] != a && s.data[*i] != b)) return 0;
    (*i)++;
    return 1;
}

int core_time_parse_rfc3339(kw_str_t s, int64_t *out_ms)
{
    unsigned year, mon, mday, hour, min, sec, ms = 0;
    size_t i = 0;

    if (s.data == NULL) return KW_INVALID;
    if (!core__digits(s, &i, 4, &year) || !core__expect(s, &i, '-', '-') ||
        !core__digits(s, &i, 2, &mon) || !core__expect(s, &i, '-', '-') ||
        !core__digits(s, &i, 2, &mday) || !core__expect(s, &i, 'T', 't') ||
        !core__digits(s, &i, 2, &hour) || !core__expect(s, &i, ':', ':') ||
        !core__digits(s, &i, 2, &min) || !core__expect(s, &i, ':', ':') ||
        !core__digits(s, &i, 2, &sec))
        return KW_INVALID;

    if (year < 1970 || year > 9999) return KW_INVALID;
    if (mon < 1 || mon > 12) return KW_INVALID;
    if (mday < 1 || mday > core__days_in_month(year, mon)) return KW_INVALID;
    if (hour > 23 || min > 59 || sec > 60) return KW_INVALID;
    if (sec == 60) sec = 59; /* leap second: no epoch time for it; keep order */

    if (i < s.len && s.data[i] == '.') {
        size_t start = ++i;
        unsigned scale = 100;
        while (i < s.len && s.data[i] >= '0' && s.data[i] <= '9') {
            ms += (unsigned)(s.data[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start) return KW_INVALID; /* "." needs at least one digit */
    }

    int64_t offset_min;
    if (i < s.len && (s.data[i] == 'Z' || s.data[i] == 'z')) {
        offset_min = 0;
        i++;
    } else if (i < s.len && (s.data[i] == '+' || s.data[i] == '-')) {
        int neg = s.data[i++] == '-';
        unsigned oh, om;
        if (!core__digits(s, &i, 2, &oh) || !core__expect(s, &i, ':', ':') ||
            !core__digits(s, &i, 2, &om))
            return KW_INVALID;
        if (oh > 23 || om > 59) return KW_INVALID;
        offset_min = (int64_t)oh * 60 + om;
        if (neg) offset_min = -offset_min;
    } else {
        return KW_INVALID; /* the offset is required: local time is ambiguous */
    }
    if (i != s.len) return KW_INVALID;

    int64_t days = core_time_days_from_civil(year, mon, mday);
    int64_t secs = days * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
    secs -= offset_min * 60; /* local = UTC + offset */
    int64_t result = secs * 1000 + ms;
    if (result < 0) return KW_INVALID;
    *out_ms = result;
    return KW_OK;
}

/* Splits ms into its UTC calendar fields; floors for instants before 1970. */
typedef struct {
    int64_t year;
    unsigned month, day, hour, min, sec, wday; /* wday 0 = Sunday */
} core__tm_t;

static void core__split(int64_t ms, core__tm_t *tm)
{
    int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY;
    if (rem < 0) rem += MS_PER_DAY, days--;
    core_time_civil_from_days(days, &tm->year, &tm->month, &tm->day);
    unsigned secs = (unsigned)(rem / 1000);
    tm->hour = secs / 3600;
    tm->min = secs / 60 % 60;
    tm->sec = secs % 60;
    int64_t wd = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    tm->wday = (unsigned)(wd < 0 ? wd + 7 : wd);
}

void core_time_format_rfc3339(int64_t ms, char *buf, size_t size)
{
    core__tm_t tm;
    if (buf == NULL || size == 0) return;
    core__split(ms, &tm);
    snprintf(buf, size, "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)tm.year, tm.month, tm.day,
             tm.hour, tm.min, tm.sec);
}

void core_time_format_http(int64_t ms, char *buf, size_t size)
{
    static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    core__tm_t tm;
    if (buf == NULL || size == 0) return;
    core__split(ms, &tm);
    snprintf(buf, size, "%s, %02u %s %04lld %02u:%02u:%02u GMT", wdays[tm.wday], tm.day,
             months[tm.month - 1], (long long)tm.year, tm.hour, tm.min, tm.sec);
}

static char *core__format_fallback(int64_t ms, int style)
{
    char buf[CORE_TIME_BUF_SIZE];
    core_time_format_rfc3339(ms, buf, sizeof(buf));
    if (style == CORE_TIME_DATE) {
        char *t = strchr(buf, 'T');
        if (t) *t = '\0';
    }
    return kw_strdup(buf);
}

/* Design note: the locale may come as a BCP 47 tag (the project's language
 * codes, "zh-Hant") or as an ICU id ("zh_Hant"); ICU's date formatter wants
 * the latter, so tags with a '-' go through uloc_forLanguageTag(). An unknown
 * locale is not an error for ICU: it formats in the root locale. */
#define CORE__FMT_CACHE 64

static pthread_mutex_t core__fmt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    char locale[ULOC_FULLNAME_CAPACITY];
    int style;
    UDateFormat *fmt;
} core__fmts[CORE__FMT_CACHE];

/* The cached formatter for (locale, style), opened on first use; NULL if
 * ICU cannot make one. Called with core__fmt_lock held. Formatters live
 * until the process ends. */
static UDateFormat *core__formatter(const char *loc, int style)
{
    static const UChar utc[] = {'U', 'T', 'C', 0};
    size_t i;
    for (i = 0; i < CORE__FMT_CACHE && core__fmts[i].fmt; i++)
        if (core__fmts[i].style == style && strcmp(core__fmts[i].locale, loc) == 0)
            return core__fmts[i].fmt;
    UErrorCode status = U_ZERO_ERROR;
    UDateFormatStyle time_style = style == CORE_TIME_DATETIME ? UDAT_SHORT : UDAT_NONE;
    UDateFormat *fmt = udat_open(time_style, UDAT_LONG, loc, utc, -1, NULL, 0, &status);
    if (U_FAILURE(status)) return NULL;
    if (i == CORE__FMT_CACHE) {
        /* Full (more locales than kawat carries): replace the last slot. */
        i = CORE__FMT_CACHE - 1;
        udat_close(core__fmts[i].fmt);
    }
    snprintf(core__fmts[i].locale, sizeof(core__fmts[i].locale), "%s", loc);
    core__fmts[i].style = style;
    core__fmts[i].fmt = fmt;
    return fmt;
}

char *core_time_format_local(int64_t ms, const char *icu_locale, int style)
{
    UErrorCode status = U_ZERO_ERROR;
    char locale[ULOC_FULLNAME_CAPACITY];
    const char *loc = icu_locale && *icu_locale ? icu_locale : "en";
    UChar ubuf[128];
    char *out = NULL;

    if (strchr(loc, '-') != NULL) {
        int32_t parsed = 0;
        uloc_forLanguageTag(loc, locale, (int32_t)sizeof(locale), &parsed, &status);
        if (U_FAILURE(status) || status == U_STRING_NOT_TERMINATED_WARNING || parsed <= 0)
            return core__format_fallback(ms, style);
        loc = locale;
    }

    /* Opening an ICU formatter costs far more than formatting, and a page
     * formats dozens of dates: formatters are kept per (locale, style) and
     * used under a lock (a UDateFormat is not safe to share unlocked). */
    pthread_mutex_lock(&core__fmt_lock);
    UDateFormat *fmt = core__formatter(loc, style);
    if (fmt == NULL) goto fallback;

    status = U_ZERO_ERROR;
    int32_t ulen = udat_format(fmt, (UDate)ms, ubuf, (int32_t)KW_ARRAY_SIZE(ubuf), NULL, &status);
    if (U_FAILURE(status) || ulen >= (int32_t)KW_ARRAY_SIZE(ubuf)) goto fallback;

    int32_t need = 0;
    status = U_ZERO_ERROR;
    u_strToUTF8(NULL, 0, &need, ubuf, ulen, &status); /* preflight */
    if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) goto fallback;
    out = kw_malloc((size_t)need + 1);
    status = U_ZERO_ERROR;
    u_strToUTF8(out, need + 1, NULL, ubuf, ulen, &status);
    if (U_FAILURE(status)) {
        free(out);
        out = NULL;
        goto fallback;
    }
    pthread_mutex_unlock(&core__fmt_lock);
    return out;

fallback:
    pthread_mutex_unlock(&core__fmt_lock);
    return core__format_fallback(ms, style);
}
