/* core_sector.c -- the seed sectors of the wire, their IPTC Media Topic codes
 * and their names in every language of core_lang.c. */
#include "core/core_sector.h"

#include <stdlib.h>
#include <string.h>

/* The number of seed sectors; each language's row of names has one per sector. */
enum { CORE__SECTOR_N = 15 };

/* Media Topic codes were checked against the IPTC Media Topics vocabulary
 * (cv.iptc.org/newscodes/mediatopic); comments give the topic labels
 * ("computing and IT" is "computing and information technology").
 * Where no topic fits (Top Story, Daily News and World are editorial
 * placements, not subjects) the code is NULL and feeds emit no subject. */
/* clang-format off */
static const core_sector_t core__sectors[CORE__SECTOR_N] = {
    {"top-story",     "Top Story",     NULL},
    {"daily-news",    "Daily News",    NULL},
    {"business",      "Business",      "medtop:04000000"}, /* economy, business and finance */
    {"technology",    "Technology",    "medtop:20000225"}, /* computing and IT */
    {"finance",       "Finance",       "medtop:20001370"}, /* financial service */
    {"health",        "Health",        "medtop:07000000"}, /* health */
    {"energy",        "Energy",        "medtop:20000256"}, /* energy and resource */
    {"politics",      "Politics",      "medtop:11000000"}, /* politics */
    {"world",         "World",         NULL},
    {"science",       "Science",       "medtop:13000000"}, /* science and technology */
    {"sports",        "Sports",        "medtop:15000000"}, /* sport */
    {"entertainment", "Entertainment", "medtop:01000000"}, /* arts, culture, entertainment, media */
    {"automotive",    "Automotive",    "medtop:20000296"}, /* automotive */
    {"travel",        "Travel",        "medtop:20000331"}, /* tourism and leisure industry */
    {"education",     "Education",     "medtop:05000000"}, /* education */
};
/* clang-format on */

#define CORE__SECTOR_COUNT ((size_t)CORE__SECTOR_N)

/* Display names per language, in the order of core__sectors. A language
 * missing here falls back to English (the unit test checks that every
 * language of core_lang has its row). */
typedef struct {
    const char *tag;
    const char *names[CORE__SECTOR_N];
} core__sector_names_t;

/* clang-format off */
static const core__sector_names_t core__sector_names[] = {
    {"en", {"Top Story", "Daily News", "Business", "Technology", "Finance", "Health", "Energy",
            "Politics", "World", "Science", "Sports", "Entertainment", "Automotive", "Travel",
            "Education"}},
    {"ko", {"주요 뉴스", "오늘의 뉴스", "비즈니스", "기술", "금융", "건강", "에너지", "정치",
            "국제", "과학", "스포츠", "엔터테인먼트", "자동차", "여행", "교육"}},
    {"ja", {"トップニュース", "デイリーニュース", "ビジネス", "テクノロジー", "金融", "健康・医療",
            "エネルギー", "政治", "国際", "科学", "スポーツ", "エンターテインメント", "自動車",
            "旅行", "教育"}},
    {"ar", {"أبرز الأخبار", "الأخبار اليومية", "الأعمال", "التكنولوجيا", "المال", "الصحة",
            "الطاقة", "السياسة", "العالم", "العلوم", "الرياضة", "الترفيه", "السيارات", "السفر",
            "التعليم"}},
    {"zh-Hans", {"头条", "每日新闻", "商业", "科技", "金融", "健康", "能源", "政治", "国际",
                 "科学", "体育", "娱乐", "汽车", "旅游", "教育"}},
    {"zh-Hant", {"頭條", "每日新聞", "商業", "科技", "金融", "健康", "能源", "政治", "國際",
                 "科學", "體育", "娛樂", "汽車", "旅遊", "教育"}},
    {"vi", {"Tin nổi bật", "Tin trong ngày", "Kinh doanh", "Công nghệ", "Tài chính", "Sức khỏe",
            "Năng lượng", "Chính trị", "Thế giới", "Khoa học", "Thể thao", "Giải trí", "Ô tô",
            "Du lịch", "Giáo dục"}},
    {"th", {"ข่าวเด่น", "ข่าวประจำวัน", "ธุรกิจ", "เทคโนโลยี", "การเงิน", "สุขภาพ", "พลังงาน",
            "การเมือง", "ต่างประเทศ", "วิทยาศาสตร์", "กีฬา", "บันเทิง", "ยานยนต์", "ท่องเที่ยว",
            "การศึกษา"}},
    {"id", {"Berita Utama", "Berita Harian", "Bisnis", "Teknologi", "Keuangan", "Kesehatan",
            "Energi", "Politik", "Internasional", "Sains", "Olahraga", "Hiburan", "Otomotif",
            "Wisata", "Pendidikan"}},
    {"ms", {"Berita Utama", "Berita Harian", "Perniagaan", "Teknologi", "Kewangan", "Kesihatan",
            "Tenaga", "Politik", "Dunia", "Sains", "Sukan", "Hiburan", "Automotif", "Pelancongan",
            "Pendidikan"}},
    {"de", {"Top-Meldung", "Tagesnachrichten", "Wirtschaft", "Technologie", "Finanzen",
            "Gesundheit", "Energie", "Politik", "Welt", "Wissenschaft", "Sport", "Unterhaltung",
            "Automobil", "Reisen", "Bildung"}},
    {"ru", {"Главное", "Новости дня", "Бизнес", "Технологии", "Финансы", "Здоровье",
            "Энергетика", "Политика", "В мире", "Наука", "Спорт", "Развлечения", "Авто",
            "Путешествия", "Образование"}},
    {"fr", {"À la une", "Actualité du jour", "Économie", "Technologie", "Finance", "Santé",
            "Énergie", "Politique", "Monde", "Sciences", "Sport", "Divertissement", "Automobile",
            "Voyage", "Éducation"}},
    {"es", {"Destacado", "Noticias del día", "Negocios", "Tecnología", "Finanzas", "Salud",
            "Energía", "Política", "Internacional", "Ciencia", "Deportes", "Entretenimiento",
            "Motor", "Viajes", "Educación"}},
    {"pt", {"Destaque", "Notícias do dia", "Negócios", "Tecnologia", "Finanças", "Saúde",
            "Energia", "Política", "Mundo", "Ciência", "Esportes", "Entretenimento", "Automotivo",
            "Viagem", "Educação"}},
};
/* clang-format on */

size_t core_sector_count(void)
{
    return CORE__SECTOR_COUNT;
}

/* NULL past the end. */
const core_sector_t *core_sector_at(size_t i)
{
    return i < CORE__SECTOR_COUNT ? &core__sectors[i] : NULL;
}

/* Writes the slug of name (n bytes) into out (cap bytes, NUL-terminated) by
 * the rule of core_sector_slugify. Returns the slug's length, 0 when it would
 * be empty, or (size_t)-1 when it does not fit or name is not valid UTF-8. */
static size_t core__sector_slug_into(const char *name, size_t n, char *out, size_t cap)
{
    if (cap == 0 || (n > 0 && !kw_utf8_valid(name, n))) return (size_t)-1;
    size_t len = 0;
    int pending_dash = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        int keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
        if (c >= 'A' && c <= 'Z') {
            c = (unsigned char)(c - 'A' + 'a');
            keep = 1;
        }
        if (!keep) {
            pending_dash = len > 0;
            continue;
        }
        if (pending_dash) {
            if (len + 1 >= cap) return (size_t)-1;
            out[len++] = '-';
            pending_dash = 0;
        }
        if (len + 1 >= cap) return (size_t)-1;
        out[len++] = (char)c;
    }
    out[len] = '\0';
    return len;
}

/* Takes a name (UTF-8). Returns its slug, malloc'd (caller frees), or NULL
 * when the slug would be empty or the name is not valid UTF-8. ASCII letters
 * are lowercased, ASCII digits and non-ASCII characters kept, and every run
 * of other ASCII characters becomes one '-' between words. */
char *core_sector_slugify(kw_str_t name)
{
    if (name.data == NULL || name.len == 0) return NULL;
    /* The slug is never longer than the name. */
    char *out = kw_malloc(name.len + 1);
    size_t len = core__sector_slug_into(name.data, name.len, out, name.len + 1);
    if (len == 0 || len == (size_t)-1) {
        free(out);
        return NULL;
    }
    return out;
}

/* Finds a seed sector by its slug, its English name (both ASCII
 * case-insensitively) or the slug of the given text ("top story",
 * "Top  Story!", "TOP_STORY" all find top-story). NULL if none. */
const core_sector_t *core_sector_find(kw_str_t slug_or_name)
{
    if (slug_or_name.data == NULL || slug_or_name.len == 0) return NULL;
    for (size_t i = 0; i < CORE__SECTOR_COUNT; i++) {
        if (kw_str_caseeq(slug_or_name, core__sectors[i].slug) ||
            kw_str_caseeq(slug_or_name, core__sectors[i].name)) {
            return &core__sectors[i];
        }
    }
    /* Seed slugs are short; longer input cannot slugify to one. */
    char slug[64];
    size_t len = core__sector_slug_into(slug_or_name.data, slug_or_name.len, slug, sizeof(slug));
    if (len == 0 || len == (size_t)-1) return NULL;
    for (size_t i = 0; i < CORE__SECTOR_COUNT; i++) {
        if (strcmp(slug, core__sectors[i].slug) == 0) return &core__sectors[i];
    }
    return NULL;
}

/* Takes a seed slug (exact) and a language (NULL means English). Returns the
 * static display name, English when the language has no row; NULL when slug
 * is not a seed sector. */
const char *core_sector_name(const char *slug, const core_lang_t *lang)
{
    if (slug == NULL) return NULL;
    size_t idx = CORE__SECTOR_COUNT;
    for (size_t i = 0; i < CORE__SECTOR_COUNT; i++) {
        if (strcmp(slug, core__sectors[i].slug) == 0) {
            idx = i;
            break;
        }
    }
    if (idx == CORE__SECTOR_COUNT) return NULL;
    if (lang != NULL) {
        for (size_t j = 0; j < KW_ARRAY_SIZE(core__sector_names); j++) {
            if (strcmp(lang->tag, core__sector_names[j].tag) == 0) {
                return core__sector_names[j].names[idx];
            }
        }
    }
    return core__sectors[idx].name;
}
