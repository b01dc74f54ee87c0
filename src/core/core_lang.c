/* core_lang.c -- the wire's languages and every localized text a reader sees
 * (disclaimer, sector label, boilerplate, page titles), one table per language. */
#include "core/core_lang.h"

#include <string.h>

/* Design note: the table is the single source of the wire's languages. The 15
 * languages of DESIGN.md come first, in its order; a language is added by
 * appending an entry here and a row of sector names in core_sector.c (the unit
 * test fails if any message or sector name is missing). Messages use
 * designated initializers so that a message can never land under the wrong id.
 * "{wire}" stands for the wire's name and is filled in by core_lang_format().
 *
 * MSG_BOILERPLATE states "15 languages": change it in every language when a
 * language is added to the wire. */
/* clang-format off */
static const core_lang_t core__langs[] = {
    {
        .tag = "en",
        .name = "English",
        .native = "English",
        .icu_locale = "en",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "This article is provided by a third-party content provider. "
                               "{wire} makes no warranty or representation in connection with it.",
            [MSG_SECTOR] = "Sector",
            [MSG_REGION] = "Region",
            [MSG_LATEST_TITLE] = "Latest English News Today",
            [MSG_BOILERPLATE] = "{wire} is a real-time, multilingual press-release wire. It "
                                "distributes releases from companies and institutions to media "
                                "outlets, journalists and professional desktops in 90 countries, "
                                "in 15 languages.",
            [MSG_ABOUT_WIRE] = "About {wire}",
            [MSG_OTHER_LANGUAGES] = "This release in other languages",
            [MSG_CONTACTS] = "Media contacts",
            [MSG_CORRECTED] = "Corrected",
            [MSG_CORRECTION_NOTE] = "Correction",
            [MSG_WITHDRAWN] = "This release has been withdrawn by its issuer.",
            [MSG_NO_RELEASES] = "No releases yet.",
            [MSG_OLDER] = "Older releases",
            [MSG_NEWER] = "Newer releases",
            [MSG_NOT_FOUND] = "Page not found",
            [MSG_BAD_REQUEST] = "Bad request",
            [MSG_HOME] = "Home",
            [MSG_LANGUAGES] = "Languages",
            [MSG_PUBLISHED] = "Published",
            [MSG_ISSUER] = "Issuer",
        },
    },
    {
        .tag = "ko",
        .name = "Korean",
        .native = "한국어",
        .icu_locale = "ko",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "본 기사는 제3자 콘텐츠 제공업체가 제공한 것입니다. "
                               "{wire}에서는 이와 관련하여 어떠한 보증이나 진술도 하지 않습니다.",
            [MSG_SECTOR] = "분야",
            [MSG_REGION] = "지역",
            [MSG_LATEST_TITLE] = "오늘의 최신 한국어 뉴스",
            [MSG_BOILERPLATE] = "실시간 다국어 보도자료 배포 서비스인 {wire}에서는 기업과 기관의 "
                                "보도자료를 90개국의 언론사와 기자, 전문가용 데스크톱에 15개 "
                                "언어로 전달합니다.",
            [MSG_ABOUT_WIRE] = "{wire} 소개",
            [MSG_OTHER_LANGUAGES] = "이 보도자료의 다른 언어 버전",
            [MSG_CONTACTS] = "언론 문의처",
            [MSG_CORRECTED] = "정정됨",
            [MSG_CORRECTION_NOTE] = "정정",
            [MSG_WITHDRAWN] = "발행처가 이 보도자료를 철회했습니다.",
            [MSG_NO_RELEASES] = "아직 보도자료가 없습니다.",
            [MSG_OLDER] = "이전 보도자료",
            [MSG_NEWER] = "최근 보도자료",
            [MSG_NOT_FOUND] = "페이지를 찾을 수 없습니다",
            [MSG_BAD_REQUEST] = "잘못된 요청",
            [MSG_HOME] = "홈",
            [MSG_LANGUAGES] = "언어",
            [MSG_PUBLISHED] = "게시일",
            [MSG_ISSUER] = "발행처",
        },
    },
    {
        .tag = "ja",
        .name = "Japanese",
        .native = "日本語",
        .icu_locale = "ja",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "本記事は第三者のコンテンツプロバイダーにより提供されたものです。"
                               "{wire}は本記事に関していかなる保証も表明も行いません。",
            [MSG_SECTOR] = "分野",
            [MSG_REGION] = "地域",
            [MSG_LATEST_TITLE] = "今日の最新日本語ニュース",
            [MSG_BOILERPLATE] = "{wire}は、リアルタイムの多言語プレスリリース配信サービスです。"
                                "企業や団体のプレスリリースを、90か国の報道機関、記者、"
                                "専門家向け端末に15言語で配信しています。",
            [MSG_ABOUT_WIRE] = "{wire}について",
            [MSG_OTHER_LANGUAGES] = "このリリースの他言語版",
            [MSG_CONTACTS] = "報道関係者のお問い合わせ先",
            [MSG_CORRECTED] = "訂正済み",
            [MSG_CORRECTION_NOTE] = "訂正",
            [MSG_WITHDRAWN] = "このリリースは発表元により取り下げられました。",
            [MSG_NO_RELEASES] = "リリースはまだありません。",
            [MSG_OLDER] = "以前のリリース",
            [MSG_NEWER] = "新しいリリース",
            [MSG_NOT_FOUND] = "ページが見つかりません",
            [MSG_BAD_REQUEST] = "不正なリクエスト",
            [MSG_HOME] = "ホーム",
            [MSG_LANGUAGES] = "言語",
            [MSG_PUBLISHED] = "公開日",
            [MSG_ISSUER] = "発表元",
        },
    },
    {
        .tag = "ar",
        .name = "Arabic",
        .native = "العربية",
        .icu_locale = "ar",
        .rtl = 1,
        .msgs = {
            [MSG_DISCLAIMER] = "هذا المقال مقدَّم من مزوّد محتوى خارجي، "
                               "ولا يقدّم {wire} أي ضمان أو إقرار فيما يتعلق به.",
            [MSG_SECTOR] = "القطاع",
            [MSG_REGION] = "المنطقة",
            [MSG_LATEST_TITLE] = "أحدث الأخبار العربية اليوم",
            [MSG_BOILERPLATE] = "{wire} خدمة فورية متعددة اللغات لتوزيع البيانات الصحفية، "
                                "تنقل بيانات الشركات والمؤسسات إلى وسائل الإعلام والصحفيين "
                                "ومنصات العمل المهنية في 90 دولة وبـ15 لغة.",
            [MSG_ABOUT_WIRE] = "نبذة عن {wire}",
            [MSG_OTHER_LANGUAGES] = "هذا البيان بلغات أخرى",
            [MSG_CONTACTS] = "جهات الاتصال الإعلامية",
            [MSG_CORRECTED] = "مُصحَّح",
            [MSG_CORRECTION_NOTE] = "تصحيح",
            [MSG_WITHDRAWN] = "سحبت الجهة المُصدِرة هذا البيان.",
            [MSG_NO_RELEASES] = "لا توجد بيانات صحفية بعد.",
            [MSG_OLDER] = "بيانات أقدم",
            [MSG_NEWER] = "بيانات أحدث",
            [MSG_NOT_FOUND] = "الصفحة غير موجودة",
            [MSG_BAD_REQUEST] = "طلب غير صالح",
            [MSG_HOME] = "الرئيسية",
            [MSG_LANGUAGES] = "اللغات",
            [MSG_PUBLISHED] = "تاريخ النشر",
            [MSG_ISSUER] = "الجهة المُصدِرة",
        },
    },
    {
        .tag = "zh-Hans",
        .name = "Simplified Chinese",
        .native = "简体中文",
        .icu_locale = "zh_Hans",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "本文由第三方内容提供商提供。{wire}对此不作任何保证或陈述。",
            [MSG_SECTOR] = "板块",
            [MSG_REGION] = "地区",
            [MSG_LATEST_TITLE] = "今日最新中文新闻",
            [MSG_BOILERPLATE] = "{wire}是实时多语种新闻稿发布平台，以15种语言将企业和机构的"
                                "新闻稿分发给90个国家的媒体、记者和专业终端用户。",
            [MSG_ABOUT_WIRE] = "关于{wire}",
            [MSG_OTHER_LANGUAGES] = "本新闻稿的其他语言版本",
            [MSG_CONTACTS] = "媒体联系人",
            [MSG_CORRECTED] = "已更正",
            [MSG_CORRECTION_NOTE] = "更正",
            [MSG_WITHDRAWN] = "此新闻稿已被发布方撤回。",
            [MSG_NO_RELEASES] = "暂无新闻稿。",
            [MSG_OLDER] = "更早的新闻稿",
            [MSG_NEWER] = "较新的新闻稿",
            [MSG_NOT_FOUND] = "找不到页面",
            [MSG_BAD_REQUEST] = "请求无效",
            [MSG_HOME] = "首页",
            [MSG_LANGUAGES] = "语言",
            [MSG_PUBLISHED] = "发布时间",
            [MSG_ISSUER] = "发布方",
        },
    },
    {
        .tag = "zh-Hant",
        .name = "Traditional Chinese",
        .native = "繁體中文",
        .icu_locale = "zh_Hant",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "本文由第三方內容供應商提供。{wire}對此不作任何保證或聲明。",
            [MSG_SECTOR] = "類別",
            [MSG_REGION] = "地區",
            [MSG_LATEST_TITLE] = "今日最新中文新聞",
            [MSG_BOILERPLATE] = "{wire}是即時多語新聞稿發布平台，以15種語言將企業與機構的"
                                "新聞稿傳送至90個國家的媒體、記者及專業終端使用者。",
            [MSG_ABOUT_WIRE] = "關於{wire}",
            [MSG_OTHER_LANGUAGES] = "本新聞稿的其他語言版本",
            [MSG_CONTACTS] = "媒體聯絡人",
            [MSG_CORRECTED] = "已更正",
            [MSG_CORRECTION_NOTE] = "更正",
            [MSG_WITHDRAWN] = "此新聞稿已由發布者撤回。",
            [MSG_NO_RELEASES] = "目前尚無新聞稿。",
            [MSG_OLDER] = "較早的新聞稿",
            [MSG_NEWER] = "較新的新聞稿",
            [MSG_NOT_FOUND] = "找不到頁面",
            [MSG_BAD_REQUEST] = "請求無效",
            [MSG_HOME] = "首頁",
            [MSG_LANGUAGES] = "語言",
            [MSG_PUBLISHED] = "發布時間",
            [MSG_ISSUER] = "發布者",
        },
    },
    {
        .tag = "vi",
        .name = "Vietnamese",
        .native = "Tiếng Việt",
        .icu_locale = "vi",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "Bài viết này do một nhà cung cấp nội dung bên thứ ba cung cấp. "
                               "{wire} không đưa ra bất kỳ bảo đảm hay tuyên bố nào liên quan "
                               "đến bài viết này.",
            [MSG_SECTOR] = "Lĩnh vực",
            [MSG_REGION] = "Khu vực",
            [MSG_LATEST_TITLE] = "Tin tức tiếng Việt mới nhất hôm nay",
            [MSG_BOILERPLATE] = "{wire} là dịch vụ phát hành thông cáo báo chí đa ngôn ngữ theo "
                                "thời gian thực, chuyển thông cáo của các doanh nghiệp và tổ chức "
                                "đến các cơ quan báo chí, nhà báo và thiết bị đầu cuối chuyên "
                                "nghiệp tại 90 quốc gia, bằng 15 ngôn ngữ.",
            [MSG_ABOUT_WIRE] = "Giới thiệu về {wire}",
            [MSG_OTHER_LANGUAGES] = "Thông cáo này bằng các ngôn ngữ khác",
            [MSG_CONTACTS] = "Liên hệ báo chí",
            [MSG_CORRECTED] = "Đã đính chính",
            [MSG_CORRECTION_NOTE] = "Đính chính",
            [MSG_WITHDRAWN] = "Thông cáo này đã được đơn vị phát hành rút lại.",
            [MSG_NO_RELEASES] = "Chưa có thông cáo nào.",
            [MSG_OLDER] = "Thông cáo cũ hơn",
            [MSG_NEWER] = "Thông cáo mới hơn",
            [MSG_NOT_FOUND] = "Không tìm thấy trang",
            [MSG_BAD_REQUEST] = "Yêu cầu không hợp lệ",
            [MSG_HOME] = "Trang chủ",
            [MSG_LANGUAGES] = "Ngôn ngữ",
            [MSG_PUBLISHED] = "Ngày đăng",
            [MSG_ISSUER] = "Đơn vị phát hành",
        },
    },
    {
        .tag = "th",
        .name = "Thai",
        .native = "ไทย",
        .icu_locale = "th",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "บทความนี้จัดทำโดยผู้ให้บริการเนื้อหาภายนอก "
                               "{wire} ไม่รับประกันหรือรับรองใด ๆ เกี่ยวกับบทความนี้",
            [MSG_SECTOR] = "หมวดหมู่",
            [MSG_REGION] = "ภูมิภาค",
            [MSG_LATEST_TITLE] = "ข่าวภาษาไทยล่าสุดวันนี้",
            [MSG_BOILERPLATE] = "{wire} คือบริการเผยแพร่ข่าวประชาสัมพันธ์หลายภาษาแบบเรียลไทม์ "
                                "ส่งข่าวประชาสัมพันธ์ของบริษัทและองค์กรต่าง ๆ ถึงสื่อมวลชน "
                                "ผู้สื่อข่าว และเครื่องปลายทางของมืออาชีพใน 90 ประเทศ "
                                "ด้วย 15 ภาษา",
            [MSG_ABOUT_WIRE] = "เกี่ยวกับ {wire}",
            [MSG_OTHER_LANGUAGES] = "ข่าวนี้ในภาษาอื่น",
            [MSG_CONTACTS] = "ติดต่อสื่อมวลชน",
            [MSG_CORRECTED] = "แก้ไขแล้ว",
            [MSG_CORRECTION_NOTE] = "การแก้ไข",
            [MSG_WITHDRAWN] = "ผู้ออกข่าวได้ถอนข่าวประชาสัมพันธ์นี้แล้ว",
            [MSG_NO_RELEASES] = "ยังไม่มีข่าวประชาสัมพันธ์",
            [MSG_OLDER] = "ข่าวก่อนหน้า",
            [MSG_NEWER] = "ข่าวใหม่กว่า",
            [MSG_NOT_FOUND] = "ไม่พบหน้าที่ต้องการ",
            [MSG_BAD_REQUEST] = "คำขอไม่ถูกต้อง",
            [MSG_HOME] = "หน้าแรก",
            [MSG_LANGUAGES] = "ภาษา",
            [MSG_PUBLISHED] = "เผยแพร่เมื่อ",
            [MSG_ISSUER] = "ผู้ออกข่าว",
        },
    },
    {
        .tag = "id",
        .name = "Indonesian",
        .native = "Bahasa Indonesia",
        .icu_locale = "id",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "Artikel ini disediakan oleh penyedia konten pihak ketiga. "
                               "{wire} tidak memberikan jaminan atau pernyataan apa pun "
                               "sehubungan dengan artikel ini.",
            [MSG_SECTOR] = "Sektor",
            [MSG_REGION] = "Wilayah",
            [MSG_LATEST_TITLE] = "Berita Indonesia Terbaru Hari Ini",
            [MSG_BOILERPLATE] = "{wire} adalah layanan distribusi siaran pers multibahasa secara "
                                "real-time. Layanan ini menyalurkan siaran pers dari perusahaan "
                                "dan lembaga kepada media, jurnalis, dan desktop profesional di "
                                "90 negara, dalam 15 bahasa.",
            [MSG_ABOUT_WIRE] = "Tentang {wire}",
            [MSG_OTHER_LANGUAGES] = "Siaran pers ini dalam bahasa lain",
            [MSG_CONTACTS] = "Kontak media",
            [MSG_CORRECTED] = "Dikoreksi",
            [MSG_CORRECTION_NOTE] = "Koreksi",
            [MSG_WITHDRAWN] = "Siaran pers ini telah ditarik oleh penerbitnya.",
            [MSG_NO_RELEASES] = "Belum ada siaran pers.",
            [MSG_OLDER] = "Siaran pers lebih lama",
            [MSG_NEWER] = "Siaran pers lebih baru",
            [MSG_NOT_FOUND] = "Halaman tidak ditemukan",
            [MSG_BAD_REQUEST] = "Permintaan tidak valid",
            [MSG_HOME] = "Beranda",
            [MSG_LANGUAGES] = "Bahasa",
            [MSG_PUBLISHED] = "Diterbitkan",
            [MSG_ISSUER] = "Penerbit",
        },
    },
    {
        .tag = "ms",
        .name = "Malay",
        .native = "Bahasa Melayu",
        .icu_locale = "ms",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "Artikel ini disediakan oleh pembekal kandungan pihak ketiga. "
                               "{wire} tidak memberikan sebarang jaminan atau representasi "
                               "berhubung dengannya.",
            [MSG_SECTOR] = "Sektor",
            [MSG_REGION] = "Wilayah",
            [MSG_LATEST_TITLE] = "Berita Melayu Terkini Hari Ini",
            [MSG_BOILERPLATE] = "{wire} ialah perkhidmatan pengedaran kenyataan media berbilang "
                                "bahasa secara masa nyata. Ia mengedarkan kenyataan daripada "
                                "syarikat dan institusi kepada saluran media, wartawan dan "
                                "desktop profesional di 90 buah negara, dalam 15 bahasa.",
            [MSG_ABOUT_WIRE] = "Mengenai {wire}",
            [MSG_OTHER_LANGUAGES] = "Kenyataan ini dalam bahasa lain",
            [MSG_CONTACTS] = "Hubungan media",
            [MSG_CORRECTED] = "Dibetulkan",
            [MSG_CORRECTION_NOTE] = "Pembetulan",
            [MSG_WITHDRAWN] = "Kenyataan ini telah ditarik balik oleh pengeluarnya.",
            [MSG_NO_RELEASES] = "Belum ada kenyataan media.",
            [MSG_OLDER] = "Kenyataan lebih lama",
            [MSG_NEWER] = "Kenyataan lebih baharu",
            [MSG_NOT_FOUND] = "Halaman tidak ditemui",
            [MSG_BAD_REQUEST] = "Permintaan tidak sah",
            [MSG_HOME] = "Laman utama",
            [MSG_LANGUAGES] = "Bahasa",
            [MSG_PUBLISHED] = "Diterbitkan",
            [MSG_ISSUER] = "Pengeluar",
        },
    },
    {
        .tag = "de",
        .name = "German",
        .native = "Deutsch",
        .icu_locale = "de",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "Dieser Artikel wird von einem externen Inhalteanbieter "
                               "bereitgestellt. {wire} übernimmt im Zusammenhang damit "
                               "keinerlei Gewährleistung oder Zusicherung.",
            [MSG_SECTOR] = "Rubrik",
            [MSG_REGION] = "Region",
            [MSG_LATEST_TITLE] = "Neueste deutsche Nachrichten heute",
            [MSG_BOILERPLATE] = "{wire} ist ein mehrsprachiger Echtzeit-Dienst für "
                                "Pressemitteilungen. Er verbreitet Mitteilungen von Unternehmen "
                                "und Institutionen an Medien, Journalistinnen und Journalisten "
                                "sowie an professionelle Arbeitsplätze in 90 Ländern, in 15 "
                                "Sprachen.",
            [MSG_ABOUT_WIRE] = "Über {wire}",
            [MSG_OTHER_LANGUAGES] = "Diese Mitteilung in anderen Sprachen",
            [MSG_CONTACTS] = "Pressekontakt",
            [MSG_CORRECTED] = "Korrigiert",
            [MSG_CORRECTION_NOTE] = "Korrektur",
            [MSG_WITHDRAWN] = "Diese Mitteilung wurde vom Herausgeber zurückgezogen.",
            [MSG_NO_RELEASES] = "Noch keine Mitteilungen.",
            [MSG_OLDER] = "Ältere Mitteilungen",
            [MSG_NEWER] = "Neuere Mitteilungen",
            [MSG_NOT_FOUND] = "Seite nicht gefunden",
            [MSG_BAD_REQUEST] = "Ungültige Anfrage",
            [MSG_HOME] = "Startseite",
            [MSG_LANGUAGES] = "Sprachen",
            [MSG_PUBLISHED] = "Veröffentlicht",
            [MSG_ISSUER] = "Herausgeber",
        },
    },
    {
        .tag = "ru",
        .name = "Russian",
        .native = "Русский",
        .icu_locale = "ru",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "Эта статья предоставлена сторонним поставщиком контента. "
                               "{wire} не даёт никаких гарантий и не делает никаких заявлений "
                               "в отношении неё.",
            [MSG_SECTOR] = "Рубрика",
            [MSG_REGION] = "Регион",
            [MSG_LATEST_TITLE] = "Последние новости на русском языке сегодня",
            [MSG_BOILERPLATE] = "{wire} — многоязычная лента пресс-релизов в режиме реального "
                                "времени. Она доставляет пресс-релизы компаний и организаций в "
                                "СМИ, журналистам и на профессиональные терминалы в 90 странах "
                                "на 15 языках.",
            [MSG_ABOUT_WIRE] = "О сервисе {wire}",
            [MSG_OTHER_LANGUAGES] = "Этот пресс-релиз на других языках",
            [MSG_CONTACTS] = "Контакты для СМИ",
            [MSG_CORRECTED] = "Исправлено",
            [MSG_CORRECTION_NOTE] = "Исправление",
            [MSG_WITHDRAWN] = "Источник отозвал этот пресс-релиз.",
            [MSG_NO_RELEASES] = "Пресс-релизов пока нет.",
            [MSG_OLDER] = "Более ранние пресс-релизы",
            [MSG_NEWER] = "Более новые пресс-релизы",
            [MSG_NOT_FOUND] = "Страница не найдена",
            [MSG_BAD_REQUEST] = "Неверный запрос",
            [MSG_HOME] = "Главная",
            [MSG_LANGUAGES] = "Языки",
            [MSG_PUBLISHED] = "Опубликовано",
            [MSG_ISSUER] = "Источник",
        },
    },
    {
        .tag = "fr",
        .name = "French",
        .native = "Français",
        .icu_locale = "fr",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "Cet article est proposé par un fournisseur de contenu tiers. "
                               "{wire} n’offre aucune garantie et ne fait aucune déclaration "
                               "à son égard.",
            [MSG_SECTOR] = "Rubrique",
            [MSG_REGION] = "Région",
            [MSG_LATEST_TITLE] = "Dernières actualités en français aujourd’hui",
            [MSG_BOILERPLATE] = "{wire} est un fil de communiqués de presse multilingue en temps "
                                "réel. Il diffuse les communiqués des entreprises et des "
                                "institutions auprès des médias, des journalistes et des postes "
                                "de travail professionnels dans 90 pays, en 15 langues.",
            [MSG_ABOUT_WIRE] = "À propos de {wire}",
            [MSG_OTHER_LANGUAGES] = "Ce communiqué dans d’autres langues",
            [MSG_CONTACTS] = "Contacts presse",
            [MSG_CORRECTED] = "Corrigé",
            [MSG_CORRECTION_NOTE] = "Rectificatif",
            [MSG_WITHDRAWN] = "Ce communiqué a été retiré par son émetteur.",
            [MSG_NO_RELEASES] = "Aucun communiqué pour le moment.",
            [MSG_OLDER] = "Communiqués plus anciens",
            [MSG_NEWER] = "Communiqués plus récents",
            [MSG_NOT_FOUND] = "Page introuvable",
            [MSG_BAD_REQUEST] = "Requête invalide",
            [MSG_HOME] = "Accueil",
            [MSG_LANGUAGES] = "Langues",
            [MSG_PUBLISHED] = "Publié",
            [MSG_ISSUER] = "Émetteur",
        },
    },
    {
        .tag = "es",
        .name = "Spanish",
        .native = "Español",
        .icu_locale = "es",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "Este artículo ha sido proporcionado por un proveedor de "
                               "contenidos externo. {wire} no ofrece ninguna garantía ni "
                               "declaración en relación con él.",
            [MSG_SECTOR] = "Sector",
            [MSG_REGION] = "Región",
            [MSG_LATEST_TITLE] = "Últimas noticias en español de hoy",
            [MSG_BOILERPLATE] = "{wire} es un servicio multilingüe de distribución de comunicados "
                                "de prensa en tiempo real. Distribuye comunicados de empresas e "
                                "instituciones a medios de comunicación, periodistas y terminales "
                                "profesionales en 90 países, en 15 idiomas.",
            [MSG_ABOUT_WIRE] = "Acerca de {wire}",
            [MSG_OTHER_LANGUAGES] = "Este comunicado en otros idiomas",
            [MSG_CONTACTS] = "Contactos de prensa",
            [MSG_CORRECTED] = "Corregido",
            [MSG_CORRECTION_NOTE] = "Corrección",
            [MSG_WITHDRAWN] = "Este comunicado ha sido retirado por su emisor.",
            [MSG_NO_RELEASES] = "Todavía no hay comunicados.",
            [MSG_OLDER] = "Comunicados anteriores",
            [MSG_NEWER] = "Comunicados más recientes",
            [MSG_NOT_FOUND] = "Página no encontrada",
            [MSG_BAD_REQUEST] = "Solicitud incorrecta",
            [MSG_HOME] = "Inicio",
            [MSG_LANGUAGES] = "Idiomas",
            [MSG_PUBLISHED] = "Publicado",
            [MSG_ISSUER] = "Emisor",
        },
    },
    {
        .tag = "pt",
        .name = "Portuguese",
        .native = "Português",
        .icu_locale = "pt",
        .rtl = 0,
        .msgs = {
            [MSG_DISCLAIMER] = "Este artigo é fornecido por um provedor de conteúdo terceirizado. "
                               "{wire} não oferece nenhuma garantia nem faz qualquer declaração "
                               "em relação a ele.",
            [MSG_SECTOR] = "Setor",
            [MSG_REGION] = "Região",
            [MSG_LATEST_TITLE] = "Últimas notícias em português de hoje",
            [MSG_BOILERPLATE] = "{wire} é um serviço multilíngue de distribuição de comunicados "
                                "à imprensa em tempo real. Distribui comunicados de empresas e "
                                "instituições para veículos de comunicação, jornalistas e "
                                "terminais profissionais em 90 países, em 15 idiomas.",
            [MSG_ABOUT_WIRE] = "Sobre {wire}",
            [MSG_OTHER_LANGUAGES] = "Este comunicado em outros idiomas",
            [MSG_CONTACTS] = "Contatos para a imprensa",
            [MSG_CORRECTED] = "Corrigido",
            [MSG_CORRECTION_NOTE] = "Correção",
            [MSG_WITHDRAWN] = "Este comunicado foi retirado pelo emissor.",
            [MSG_NO_RELEASES] = "Ainda não há comunicados.",
            [MSG_OLDER] = "Comunicados anteriores",
            [MSG_NEWER] = "Comunicados mais recentes",
            [MSG_NOT_FOUND] = "Página não encontrada",
            [MSG_BAD_REQUEST] = "Solicitação inválida",
            [MSG_HOME] = "Início",
            [MSG_LANGUAGES] = "Idiomas",
            [MSG_PUBLISHED] = "Publicado",
            [MSG_ISSUER] = "Emissor",
        },
    },
};
/* clang-format on */

/* 1 if a (n bytes) equals the canonical tag z, ASCII case-insensitively and
 * with '_' accepted where z has '-'. */
static int core__lang_tag_eq(const char *a, size_t n, const char *z)
{
    size_t i = 0;
    for (; i < n && z[i] != '\0'; i++) {
        unsigned char c = (unsigned char)a[i], d = (unsigned char)z[i];
        if (c == '_') c = '-';
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        if (d >= 'A' && d <= 'Z') d = (unsigned char)(d - 'A' + 'a');
        if (c != d) return 0;
    }
    return i == n && z[i] == '\0';
}

const core_lang_t *core_lang_find(kw_str_t tag)
{
    if (tag.data == NULL || tag.len == 0) return NULL;
    for (size_t i = 0; i < KW_ARRAY_SIZE(core__langs); i++) {
        if (core__lang_tag_eq(tag.data, tag.len, core__langs[i].tag)) return &core__langs[i];
    }
    return NULL;
}

const core_lang_t *core_lang_find_z(const char *tag)
{
    if (tag == NULL) return NULL;
    return core_lang_find((kw_str_t){tag, strlen(tag)});
}

size_t core_lang_count(void)
{
    return KW_ARRAY_SIZE(core__langs);
}

/* NULL past the end. */
const core_lang_t *core_lang_at(size_t i)
{
    return i < KW_ARRAY_SIZE(core__langs) ? &core__langs[i] : NULL;
}

const core_lang_t *core_lang_default(void)
{
    return &core__langs[0];
}

/* Takes a language (NULL means the default), a message id and the wire's
 * name (NULL means empty). Returns the message with every "{wire}" replaced,
 * malloc'd and NUL-terminated; the caller frees it. NULL only for a message
 * id out of range. */
char *core_lang_format(const core_lang_t *lang, core_msg_t msg, const char *wire_name)
{
    static const char placeholder[] = "{wire}";
    const size_t placeholder_len = sizeof(placeholder) - 1;

    if ((int)msg < 0 || msg >= MSG_COUNT_) return NULL;
    if (lang == NULL) lang = core_lang_default();
    const char *text = lang->msgs[msg];
    if (text == NULL) text = core_lang_default()->msgs[msg];
    if (wire_name == NULL) wire_name = "";

    kw_buf_t out = {0};
    const char *p = text;
    const char *hit;
    while ((hit = strstr(p, placeholder)) != NULL) {
        kw_buf_append(&out, p, (size_t)(hit - p));
        kw_buf_puts(&out, wire_name);
        p = hit + placeholder_len;
    }
    kw_buf_puts(&out, p);
    return kw_buf_steal(&out, NULL);
}

const char *core_lang_list_separator(const core_lang_t *lang)
{
    if (lang == NULL) return ", ";
    if (strcmp(lang->tag, "ar") == 0) return "\u060C ";
    if (strcmp(lang->tag, "ja") == 0 || strncmp(lang->tag, "zh", 2) == 0) return "\u3001";
    return ", ";
}
