/* core_lang_test.c -- unit tests for the wire's localized data: languages and
 * their messages, seed sectors and their names, ISO 3166-1 regions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/core_lang.h"
#include "core/core_region.h"
#include "core/core_sector.h"

static const char *const required_tags[] = {"en",      "ko", "ja", "ar", "zh-Hans",
                                            "zh-Hant", "vi", "th", "id", "ms",
                                            "de",      "ru", "fr", "es", "pt"};

static void assert_text(const char *z)
{
    assert_non_null(z);
    assert_true(z[0] != '\0');
    assert_true(kw_utf8_valid(z, strlen(z)));
}

/* ---- languages ---- */

static void test_lang_required_order(void **state)
{
    (void)state;
    assert_true(core_lang_count() >= KW_ARRAY_SIZE(required_tags));
    for (size_t i = 0; i < KW_ARRAY_SIZE(required_tags); i++) {
        assert_non_null(core_lang_at(i));
        assert_string_equal(core_lang_at(i)->tag, required_tags[i]);
    }
    assert_null(core_lang_at(core_lang_count()));
    assert_string_equal(core_lang_default()->tag, "en");
}

static void test_lang_every_message(void **state)
{
    (void)state;
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *l = core_lang_at(i);
        assert_text(l->tag);
        assert_text(l->name);
        assert_text(l->native);
        assert_text(l->icu_locale);
        for (int m = 0; m < MSG_COUNT_; m++) {
            if (l->msgs[m] == NULL) fail_msg("%s: message %d missing", l->tag, m);
            assert_text(l->msgs[m]);
        }
        /* The messages that name the wire must carry the placeholder. */
        assert_non_null(strstr(l->msgs[MSG_DISCLAIMER], "{wire}"));
        assert_non_null(strstr(l->msgs[MSG_BOILERPLATE], "{wire}"));
        assert_non_null(strstr(l->msgs[MSG_ABOUT_WIRE], "{wire}"));
        /* Tags are unique and find themselves. */
        assert_ptr_equal(core_lang_find_z(l->tag), l);
    }
}

static void test_lang_translated(void **state)
{
    (void)state;
    const core_lang_t *en = core_lang_default();
    for (size_t i = 1; i < core_lang_count(); i++) {
        const core_lang_t *l = core_lang_at(i);
        /* Long sentences are never the English text. */
        assert_string_not_equal(l->msgs[MSG_DISCLAIMER], en->msgs[MSG_DISCLAIMER]);
        assert_string_not_equal(l->msgs[MSG_BOILERPLATE], en->msgs[MSG_BOILERPLATE]);
        assert_string_not_equal(l->msgs[MSG_LATEST_TITLE], en->msgs[MSG_LATEST_TITLE]);
        assert_string_not_equal(l->msgs[MSG_WITHDRAWN], en->msgs[MSG_WITHDRAWN]);
    }
    assert_string_equal(core_lang_find_z("id")->msgs[MSG_LATEST_TITLE],
                        "Berita Indonesia Terbaru Hari Ini");
    assert_string_equal(en->msgs[MSG_LATEST_TITLE], "Latest English News Today");
    assert_string_equal(en->msgs[MSG_SECTOR], "Sector");
}

static void test_lang_find(void **state)
{
    (void)state;
    assert_string_equal(core_lang_find_z("EN")->tag, "en");
    assert_string_equal(core_lang_find_z("ZH-hans")->tag, "zh-Hans");
    assert_string_equal(core_lang_find_z("zh_hant")->tag, "zh-Hant");
    assert_string_equal(core_lang_find_z("zh_Hans")->tag, "zh-Hans");
    assert_string_equal(core_lang_find(KW_STR("Pt"))->tag, "pt");
    /* Counted: only the first len bytes count. */
    kw_str_t part = {"ms-extra", 2};
    assert_string_equal(core_lang_find(part)->tag, "ms");

    assert_null(core_lang_find_z("xx"));
    assert_null(core_lang_find_z("zh"));
    assert_null(core_lang_find_z("zh-Hans-"));
    assert_null(core_lang_find_z("e"));
    assert_null(core_lang_find_z("english"));
    assert_null(core_lang_find_z(""));
    assert_null(core_lang_find_z(NULL));
    assert_null(core_lang_find(KW_STR_NULL));
}

static void test_lang_rtl(void **state)
{
    (void)state;
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *l = core_lang_at(i);
        assert_int_equal(l->rtl, strcmp(l->tag, "ar") == 0);
    }
    assert_string_equal(core_lang_find_z("zh-Hans")->icu_locale, "zh_Hans");
    assert_string_equal(core_lang_find_z("zh-Hant")->icu_locale, "zh_Hant");
}

static void test_lang_format(void **state)
{
    (void)state;
    const core_lang_t *en = core_lang_default();
    char *s = core_lang_format(en, MSG_DISCLAIMER, "Kawat");
    assert_string_equal(s, "This article is provided by a third-party content provider. "
                           "Kawat makes no warranty or representation in connection with it.");
    free(s);

    s = core_lang_format(en, MSG_BOILERPLATE, "Kawat");
    assert_string_equal(s, "Kawat is a real-time, multilingual press-release wire. It distributes "
                           "releases from companies and institutions to media outlets, "
                           "journalists and professional desktops in 90 countries, in 15 "
                           "languages.");
    free(s);

    s = core_lang_format(en, MSG_ABOUT_WIRE, "Kawat");
    assert_string_equal(s, "About Kawat");
    free(s);

    s = core_lang_format(en, MSG_SECTOR, "Kawat");
    assert_string_equal(s, "Sector");
    free(s);

    /* A name that itself looks like the placeholder is not expanded again. */
    s = core_lang_format(en, MSG_ABOUT_WIRE, "{wire}");
    assert_string_equal(s, "About {wire}");
    free(s);

    s = core_lang_format(NULL, MSG_HOME, NULL);
    assert_string_equal(s, "Home");
    free(s);

    assert_null(core_lang_format(en, MSG_COUNT_, "Kawat"));

    for (size_t i = 0; i < core_lang_count(); i++) {
        for (int m = 0; m < MSG_COUNT_; m++) {
            s = core_lang_format(core_lang_at(i), (core_msg_t)m, "Kawat");
            assert_text(s);
            assert_null(strstr(s, "{wire}"));
            free(s);
        }
    }
}

/* The page titles keep their placeholder in every language, and the
 * placeholder is filled wherever the language puts it. */
static void test_lang_format_vars(void **state)
{
    (void)state;
    static const struct {
        core_msg_t msg;
        const char *name;
    } titled[] = {{MSG_SECTOR_TITLE, "sector"},
                  {MSG_REGION_TITLE, "region"},
                  {MSG_ISSUER_TITLE, "issuer"},
                  {MSG_DAY_TITLE, "date"}};
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *l = core_lang_at(i);
        for (size_t t = 0; t < KW_ARRAY_SIZE(titled); t++) {
            char ph[16];
            snprintf(ph, sizeof(ph), "{%s}", titled[t].name);
            if (strstr(l->msgs[titled[t].msg], ph) == NULL)
                fail_msg("%s: message %d lacks %s", l->tag, (int)titled[t].msg, ph);
            const char *vars[] = {titled[t].name, "XYZZY", "wire", "Kawat", NULL};
            char *s = core_lang_format_vars(l, titled[t].msg, vars);
            assert_text(s);
            assert_non_null(strstr(s, "XYZZY"));
            assert_null(strchr(s, '{'));
            free(s);
        }
        if (i > 0)
            assert_string_not_equal(l->msgs[MSG_SECTOR_TITLE],
                                    core_lang_default()->msgs[MSG_SECTOR_TITLE]);
    }

    const core_lang_t *id = core_lang_find_z("id");
    const char *tech[] = {"sector", "Teknologi", NULL};
    char *s = core_lang_format_vars(id, MSG_SECTOR_TITLE, tech);
    assert_string_equal(s, "Berita Teknologi");
    free(s);
    s = core_lang_format_vars(core_lang_find_z("ja"), MSG_SECTOR_TITLE, tech);
    assert_string_equal(s, "Teknologiのニュース");
    free(s);
    s = core_lang_format_vars(NULL, MSG_SECTOR_TITLE, tech);
    assert_string_equal(s, "Teknologi news");
    free(s);

    /* A value that looks like a placeholder is inserted literally, once. */
    const char *sneaky[] = {"issuer", "{issuer}{wire}", "wire", "W", NULL};
    s = core_lang_format_vars(NULL, MSG_ISSUER_TITLE, sneaky);
    assert_string_equal(s, "{issuer}{wire} newsroom");
    free(s);
    /* A placeholder without a value stays; a NULL value is empty. */
    s = core_lang_format_vars(NULL, MSG_ISSUER_TITLE, NULL);
    assert_string_equal(s, "{issuer} newsroom");
    free(s);
    const char *empty[] = {"issuer", NULL, NULL};
    s = core_lang_format_vars(NULL, MSG_ISSUER_TITLE, empty);
    assert_string_equal(s, " newsroom");
    free(s);
    /* core_lang_format is the {wire}-only case. */
    s = core_lang_format(NULL, MSG_SECTOR_TITLE, "Kawat");
    assert_string_equal(s, "{sector} news");
    free(s);
    assert_null(core_lang_format_vars(NULL, MSG_COUNT_, tech));
}

static void test_lang_separators(void **state)
{
    (void)state;
    assert_string_equal(core_lang_label_separator(core_lang_default()), ": ");
    assert_string_equal(core_lang_label_separator(NULL), ": ");
    assert_string_equal(core_lang_label_separator(core_lang_find_z("ja")), "\uFF1A");
    assert_string_equal(core_lang_label_separator(core_lang_find_z("zh-Hant")), "\uFF1A");
    assert_string_equal(core_lang_label_separator(core_lang_find_z("fr")), "\u202F: ");
    assert_string_equal(core_lang_list_separator(core_lang_find_z("ar")), "\u060C ");
    assert_string_equal(core_lang_list_separator(core_lang_find_z("ja")), "\u3001");
    assert_string_equal(core_lang_list_separator(core_lang_find_z("th")), ", ");
    for (size_t i = 0; i < core_lang_count(); i++) {
        assert_text(core_lang_label_separator(core_lang_at(i)));
        assert_text(core_lang_list_separator(core_lang_at(i)));
    }
}

/* ---- sectors ---- */

static void test_sector_seed(void **state)
{
    (void)state;
    static const char *const slugs[] = {"top-story",  "daily-news", "business", "technology",
                                        "finance",    "health",     "energy",   "politics",
                                        "world",      "science",    "sports",   "entertainment",
                                        "automotive", "travel",     "education"};
    assert_int_equal(core_sector_count(), KW_ARRAY_SIZE(slugs));
    for (size_t i = 0; i < KW_ARRAY_SIZE(slugs); i++) {
        const core_sector_t *s = core_sector_at(i);
        assert_string_equal(s->slug, slugs[i]);
        assert_text(s->name);
        /* Every English name slugifies to its slug. */
        char *slug = core_sector_slugify((kw_str_t){s->name, strlen(s->name)});
        assert_string_equal(slug, s->slug);
        free(slug);
        if (s->media_topic != NULL) {
            assert_int_equal(strncmp(s->media_topic, "medtop:", 7), 0);
            assert_int_equal(strlen(s->media_topic), 15);
        }
    }
    assert_null(core_sector_at(core_sector_count()));
    assert_string_equal(core_sector_at(0)->name, "Top Story");
    assert_null(core_sector_at(0)->media_topic);
    assert_null(core_sector_at(1)->media_topic);
    assert_string_equal(core_sector_find(KW_STR("business"))->media_topic, "medtop:04000000");
    assert_string_equal(core_sector_find(KW_STR("politics"))->media_topic, "medtop:11000000");
}

static void test_sector_find(void **state)
{
    (void)state;
    assert_string_equal(core_sector_find(KW_STR("Top Story"))->slug, "top-story");
    assert_string_equal(core_sector_find(KW_STR("top story"))->slug, "top-story");
    assert_string_equal(core_sector_find(KW_STR("top-story"))->slug, "top-story");
    assert_string_equal(core_sector_find(KW_STR("TOP STORY"))->slug, "top-story");
    assert_string_equal(core_sector_find(KW_STR("Top-Story"))->slug, "top-story");
    assert_string_equal(core_sector_find(KW_STR("top_story"))->slug, "top-story");
    assert_string_equal(core_sector_find(KW_STR("  Daily   News "))->slug, "daily-news");
    assert_string_equal(core_sector_find(KW_STR("Technology"))->slug, "technology");
    assert_string_equal(core_sector_find(KW_STR("SPORTS"))->slug, "sports");
    kw_str_t part = {"health care", 6};
    assert_string_equal(core_sector_find(part)->slug, "health");

    assert_null(core_sector_find(KW_STR("Weather")));
    assert_null(core_sector_find(KW_STR("top")));
    assert_null(core_sector_find(KW_STR("---")));
    assert_null(core_sector_find(KW_STR("")));
    assert_null(core_sector_find(KW_STR_NULL));
    char longname[200];
    memset(longname, 'a', sizeof(longname));
    assert_null(core_sector_find((kw_str_t){longname, sizeof(longname)}));
}

static void test_sector_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < core_lang_count(); i++) {
        const core_lang_t *l = core_lang_at(i);
        for (size_t j = 0; j < core_sector_count(); j++) {
            const core_sector_t *s = core_sector_at(j);
            const char *name = core_sector_name(s->slug, l);
            if (name == NULL) fail_msg("%s: no name for %s", l->tag, s->slug);
            assert_text(name);
        }
        /* A language without its own row would fall back to English; "Top
         * Story" is translated in every language, so it detects that. */
        if (strcmp(l->tag, "en") != 0) {
            assert_string_not_equal(core_sector_name("top-story", l), "Top Story");
        }
    }
    assert_string_equal(core_sector_name("top-story", core_lang_find_z("id")), "Berita Utama");
    assert_string_equal(core_sector_name("sports", core_lang_find_z("de")), "Sport");
    assert_string_equal(core_sector_name("business", NULL), "Business");
    assert_null(core_sector_name("weather", core_lang_default()));
    assert_null(core_sector_name(NULL, core_lang_default()));
}

static void test_sector_slugify(void **state)
{
    (void)state;
    char *s;
    s = core_sector_slugify(KW_STR("Top Story"));
    assert_string_equal(s, "top-story");
    free(s);
    s = core_sector_slugify(KW_STR("  Arts & Entertainment!  "));
    assert_string_equal(s, "arts-entertainment");
    free(s);
    s = core_sector_slugify(KW_STR("Web3 / AI_2025"));
    assert_string_equal(s, "web3-ai-2025");
    free(s);
    s = core_sector_slugify(KW_STR("Énergie Verte"));
    assert_string_equal(s, "Énergie-verte");
    free(s);
    s = core_sector_slugify(KW_STR("科技 新闻"));
    assert_string_equal(s, "科技-新闻");
    free(s);
    s = core_sector_slugify(KW_STR("x"));
    assert_string_equal(s, "x");
    free(s);

    assert_null(core_sector_slugify(KW_STR("  -- !! ")));
    assert_null(core_sector_slugify(KW_STR("")));
    assert_null(core_sector_slugify(KW_STR_NULL));
    assert_null(core_sector_slugify(KW_STR("bad \xC3 utf8")));
}

/* ---- regions ---- */

static void test_region(void **state)
{
    (void)state;
    assert_int_equal(core_region_count(), 249);
    for (size_t i = 0; i < core_region_count(); i++) {
        const core_region_t *r = core_region_at(i);
        assert_int_equal(strlen(r->code), 2);
        assert_text(r->name);
        if (i > 0) assert_true(strcmp(core_region_at(i - 1)->code, r->code) < 0);
        assert_ptr_equal(core_region_find((kw_str_t){r->code, 2}), r);
    }
    assert_null(core_region_at(core_region_count()));

    assert_string_equal(core_region_find(KW_STR("ID"))->name, "Indonesia");
    assert_string_equal(core_region_find(KW_STR("us"))->name, "United States");
    assert_string_equal(core_region_find(KW_STR("My"))->name, "Malaysia");
    assert_string_equal(core_region_find(KW_STR("AD"))->code, "AD");
    assert_string_equal(core_region_find(KW_STR("zw"))->code, "ZW");
    assert_string_equal(core_region_find(KW_STR("KR"))->name, "South Korea");

    assert_null(core_region_find(KW_STR("ZZ")));
    assert_null(core_region_find(KW_STR("XK")));
    assert_null(core_region_find(KW_STR("UK")));
    assert_null(core_region_find(KW_STR("USA")));
    assert_null(core_region_find(KW_STR("U")));
    assert_null(core_region_find(KW_STR("1D")));
    assert_null(core_region_find(KW_STR("")));
    assert_null(core_region_find(KW_STR_NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lang_required_order),
        cmocka_unit_test(test_lang_every_message),
        cmocka_unit_test(test_lang_translated),
        cmocka_unit_test(test_lang_find),
        cmocka_unit_test(test_lang_rtl),
        cmocka_unit_test(test_lang_format),
        cmocka_unit_test(test_lang_format_vars),
        cmocka_unit_test(test_lang_separators),
        cmocka_unit_test(test_sector_seed),
        cmocka_unit_test(test_sector_find),
        cmocka_unit_test(test_sector_names),
        cmocka_unit_test(test_sector_slugify),
        cmocka_unit_test(test_region),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
