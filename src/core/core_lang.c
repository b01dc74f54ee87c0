/* core_lang.c -- the wire's languages and every localized text a reader sees
 * (disclaimer, sector label, boilerplate, page titles), one table per language. */
#include "core/core_lang.h"

#include <string.h>

/* Design note: the table is the single source of the wire's languages. The 15
 * languages of DESIGN.md come first, in its order; a language is added by
 * appending an entry here and a row of sector names in core_sector.c (the unit
 * test fails if any message or sector name is missing). Messages use
 * designated initializers so that a message can never land under the wrong id.
 * "{wire}" stands for the wire's name and is filled in by core_lang_format();
 * the page titles carry one more placeholder ({sector}, {region}, {issuer},
 * {date}) that core_lang_format_vars() fills, so each language puts it where
 * its grammar wants it ("Berita {sector}", "{sector}のニュース").
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
            [MSG_SECTOR_TITLE] = "{sector} news",
            [MSG_REGION_TITLE] = "{region} news",
            [MSG_ISSUER_TITLE] = "{issuer} newsroom",
            [MSG_DAY_TITLE] = "Releases of {date}",
            [MSG_ARCHIVE_TITLE] = "Archive",
            [MSG_DAY] = "Date",
            [MSG_RELEASES] = "Releases",
            [MSG_SKIP_TO_CONTENT] = "Skip to content",
            [MSG_FEEDS] = "Feeds",
            [MSG_WHAT_CHANGED] = "Changed",
            [MSG_PREVIOUS_HEADLINE] = "Previous headline",
            [MSG_FIELD_HEADLINE] = "Headline",
            [MSG_FIELD_SUBHEADLINE] = "Subheadline",
            [MSG_FIELD_BODY] = "Text",
            [MSG_FIELD_DATELINE] = "Dateline",
            [MSG_NOT_FOUND_DETAIL] = "There is no page at this address.",
            [MSG_BAD_REQUEST_DETAIL] = "The address has a parameter this page does not take, "
                                       "or a malformed one.",
            [MSG_UNAVAILABLE] = "Service temporarily unavailable",
            [MSG_SECTORS] = "Sectors",
            [MSG_REASON] = "Reason",
            [MSG_UPDATED] = "Updated",
            [MSG_PAGES] = "Pages",
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
            [MSG_SECTOR_TITLE] = "{sector} 뉴스",
            [MSG_REGION_TITLE] = "{region} 관련 뉴스",
            [MSG_ISSUER_TITLE] = "{issuer} 뉴스룸",
            [MSG_DAY_TITLE] = "{date} 보도자료",
            [MSG_ARCHIVE_TITLE] = "보관함",
            [MSG_DAY] = "날짜",
            [MSG_RELEASES] = "보도자료",
            [MSG_SKIP_TO_CONTENT] = "본문으로 건너뛰기",
            [MSG_FEEDS] = "피드",
            [MSG_WHAT_CHANGED] = "변경된 항목",
            [MSG_PREVIOUS_HEADLINE] = "이전 제목",
            [MSG_FIELD_HEADLINE] = "제목",
            [MSG_FIELD_SUBHEADLINE] = "부제",
            [MSG_FIELD_BODY] = "본문",
            [MSG_FIELD_DATELINE] = "발신지",
            [MSG_NOT_FOUND_DETAIL] = "이 주소에는 페이지가 없습니다.",
            [MSG_BAD_REQUEST_DETAIL] = "주소에 이 페이지가 받지 않는 매개변수나 잘못된 값이 있습니다.",
            [MSG_UNAVAILABLE] = "일시적으로 서비스를 이용할 수 없습니다",
            [MSG_SECTORS] = "분야",
            [MSG_REASON] = "사유",
            [MSG_UPDATED] = "수정일",
            [MSG_PAGES] = "페이지",
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
            [MSG_SECTOR_TITLE] = "{sector}のニュース",
            [MSG_REGION_TITLE] = "{region}に関するニュース",
            [MSG_ISSUER_TITLE] = "{issuer} ニュースルーム",
            [MSG_DAY_TITLE] = "{date}のリリース",
            [MSG_ARCHIVE_TITLE] = "アーカイブ",
            [MSG_DAY] = "日付",
            [MSG_RELEASES] = "リリース",
            [MSG_SKIP_TO_CONTENT] = "本文へ移動",
            [MSG_FEEDS] = "フィード",
            [MSG_WHAT_CHANGED] = "変更箇所",
            [MSG_PREVIOUS_HEADLINE] = "以前の見出し",
            [MSG_FIELD_HEADLINE] = "見出し",
            [MSG_FIELD_SUBHEADLINE] = "小見出し",
            [MSG_FIELD_BODY] = "本文",
            [MSG_FIELD_DATELINE] = "発信地",
            [MSG_NOT_FOUND_DETAIL] = "このアドレスのページはありません。",
            [MSG_BAD_REQUEST_DETAIL] = "アドレスに、このページで使えないパラメーターまたは不正な値が含まれています。",
            [MSG_UNAVAILABLE] = "一時的にご利用いただけません",
            [MSG_SECTORS] = "分野",
            [MSG_REASON] = "理由",
            [MSG_UPDATED] = "更新日",
            [MSG_PAGES] = "ページ",
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
            [MSG_SECTOR_TITLE] = "أخبار {sector}",
            [MSG_REGION_TITLE] = "أخبار {region}",
            [MSG_ISSUER_TITLE] = "غرفة أخبار {issuer}",
            [MSG_DAY_TITLE] = "البيانات الصحفية ليوم {date}",
            [MSG_ARCHIVE_TITLE] = "الأرشيف",
            [MSG_DAY] = "التاريخ",
            [MSG_RELEASES] = "البيانات الصحفية",
            [MSG_SKIP_TO_CONTENT] = "انتقل إلى المحتوى",
            [MSG_FEEDS] = "الخلاصات",
            [MSG_WHAT_CHANGED] = "ما تغيّر",
            [MSG_PREVIOUS_HEADLINE] = "العنوان السابق",
            [MSG_FIELD_HEADLINE] = "العنوان",
            [MSG_FIELD_SUBHEADLINE] = "العنوان الفرعي",
            [MSG_FIELD_BODY] = "النص",
            [MSG_FIELD_DATELINE] = "مكان الإصدار",
            [MSG_NOT_FOUND_DETAIL] = "لا توجد صفحة على هذا العنوان.",
            [MSG_BAD_REQUEST_DETAIL] = "يحتوي العنوان على معامل لا تقبله هذه الصفحة أو على قيمة "
                                       "غير صالحة.",
            [MSG_UNAVAILABLE] = "الخدمة غير متاحة مؤقتًا",
            [MSG_SECTORS] = "القطاعات",
            [MSG_REASON] = "السبب",
            [MSG_UPDATED] = "آخر تحديث",
            [MSG_PAGES] = "الصفحات",
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
            [MSG_SECTOR_TITLE] = "{sector}新闻",
            [MSG_REGION_TITLE] = "{region}相关新闻",
            [MSG_ISSUER_TITLE] = "{issuer}新闻中心",
            [MSG_DAY_TITLE] = "{date}的新闻稿",
            [MSG_ARCHIVE_TITLE] = "存档",
            [MSG_DAY] = "日期",
            [MSG_RELEASES] = "新闻稿",
            [MSG_SKIP_TO_CONTENT] = "跳到正文",
            [MSG_FEEDS] = "订阅源",
            [MSG_WHAT_CHANGED] = "更改内容",
            [MSG_PREVIOUS_HEADLINE] = "原标题",
            [MSG_FIELD_HEADLINE] = "标题",
            [MSG_FIELD_SUBHEADLINE] = "副标题",
            [MSG_FIELD_BODY] = "正文",
            [MSG_FIELD_DATELINE] = "电头",
            [MSG_NOT_FOUND_DETAIL] = "此地址没有页面。",
            [MSG_BAD_REQUEST_DETAIL] = "地址中含有本页面不接受的参数或格式错误的值。",
            [MSG_UNAVAILABLE] = "服务暂时不可用",
            [MSG_SECTORS] = "板块",
            [MSG_REASON] = "原因",
            [MSG_UPDATED] = "更新时间",
            [MSG_PAGES] = "分页",
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
            [MSG_SECTOR_TITLE] = "{sector}新聞",
            [MSG_REGION_TITLE] = "{region}相關新聞",
            [MSG_ISSUER_TITLE] = "{issuer}新聞中心",
            [MSG_DAY_TITLE] = "{date}的新聞稿",
            [MSG_ARCHIVE_TITLE] = "存檔",
            [MSG_DAY] = "日期",
            [MSG_RELEASES] = "新聞稿",
            [MSG_SKIP_TO_CONTENT] = "跳至主要內容",
            [MSG_FEEDS] = "訂閱源",
            [MSG_WHAT_CHANGED] = "變更內容",
            [MSG_PREVIOUS_HEADLINE] = "原標題",
            [MSG_FIELD_HEADLINE] = "標題",
            [MSG_FIELD_SUBHEADLINE] = "副標題",
            [MSG_FIELD_BODY] = "內文",
            [MSG_FIELD_DATELINE] = "電頭",
            [MSG_NOT_FOUND_DETAIL] = "此網址沒有頁面。",
            [MSG_BAD_REQUEST_DETAIL] = "網址中含有本頁面不接受的參數或格式錯誤的值。",
            [MSG_UNAVAILABLE] = "服務暫時無法使用",
            [MSG_SECTORS] = "類別",
            [MSG_REASON] = "原因",
            [MSG_UPDATED] = "更新時間",
            [MSG_PAGES] = "分頁",
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
            [MSG_SECTOR_TITLE] = "Tin tức {sector}",
            [MSG_REGION_TITLE] = "Tin tức về {region}",
            [MSG_ISSUER_TITLE] = "Phòng tin tức {issuer}",
            [MSG_DAY_TITLE] = "Thông cáo báo chí: {date}",
            [MSG_ARCHIVE_TITLE] = "Lưu trữ",
            [MSG_DAY] = "Ngày",
            [MSG_RELEASES] = "Thông cáo",
            [MSG_SKIP_TO_CONTENT] = "Chuyển đến nội dung",
            [MSG_FEEDS] = "Nguồn cấp tin",
            [MSG_WHAT_CHANGED] = "Nội dung thay đổi",
            [MSG_PREVIOUS_HEADLINE] = "Tiêu đề trước đây",
            [MSG_FIELD_HEADLINE] = "Tiêu đề",
            [MSG_FIELD_SUBHEADLINE] = "Tiêu đề phụ",
            [MSG_FIELD_BODY] = "Nội dung",
            [MSG_FIELD_DATELINE] = "Nơi phát hành",
            [MSG_NOT_FOUND_DETAIL] = "Không có trang nào tại địa chỉ này.",
            [MSG_BAD_REQUEST_DETAIL] = "Địa chỉ có tham số mà trang này không nhận hoặc có giá "
                                       "trị không hợp lệ.",
            [MSG_UNAVAILABLE] = "Dịch vụ tạm thời không khả dụng",
            [MSG_SECTORS] = "Lĩnh vực",
            [MSG_REASON] = "Lý do",
            [MSG_UPDATED] = "Cập nhật",
            [MSG_PAGES] = "Trang",
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
            [MSG_SECTOR_TITLE] = "ข่าวหมวด{sector}",
            [MSG_REGION_TITLE] = "ข่าวเกี่ยวกับ{region}",
            [MSG_ISSUER_TITLE] = "ห้องข่าว {issuer}",
            [MSG_DAY_TITLE] = "ข่าวประชาสัมพันธ์วันที่ {date}",
            [MSG_ARCHIVE_TITLE] = "คลังข่าว",
            [MSG_DAY] = "วันที่",
            [MSG_RELEASES] = "ข่าวประชาสัมพันธ์",
            [MSG_SKIP_TO_CONTENT] = "ข้ามไปยังเนื้อหา",
            [MSG_FEEDS] = "ฟีด",
            [MSG_WHAT_CHANGED] = "สิ่งที่เปลี่ยนแปลง",
            [MSG_PREVIOUS_HEADLINE] = "พาดหัวเดิม",
            [MSG_FIELD_HEADLINE] = "พาดหัว",
            [MSG_FIELD_SUBHEADLINE] = "พาดหัวรอง",
            [MSG_FIELD_BODY] = "เนื้อหา",
            [MSG_FIELD_DATELINE] = "สถานที่ออกข่าว",
            [MSG_NOT_FOUND_DETAIL] = "ไม่มีหน้าในที่อยู่นี้",
            [MSG_BAD_REQUEST_DETAIL] = "ที่อยู่มีพารามิเตอร์ที่หน้านี้ไม่รองรับ "
                                       "หรือมีค่าที่ไม่ถูกต้อง",
            [MSG_UNAVAILABLE] = "บริการไม่พร้อมใช้งานชั่วคราว",
            [MSG_SECTORS] = "หมวดหมู่",
            [MSG_REASON] = "เหตุผล",
            [MSG_UPDATED] = "ปรับปรุงเมื่อ",
            [MSG_PAGES] = "หน้า",
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
            [MSG_SECTOR_TITLE] = "Berita {sector}",
            [MSG_REGION_TITLE] = "Berita {region}",
            [MSG_ISSUER_TITLE] = "Ruang berita {issuer}",
            [MSG_DAY_TITLE] = "Siaran pers {date}",
            [MSG_ARCHIVE_TITLE] = "Arsip",
            [MSG_DAY] = "Tanggal",
            [MSG_RELEASES] = "Siaran pers",
            [MSG_SKIP_TO_CONTENT] = "Langsung ke konten",
            [MSG_FEEDS] = "Umpan berita",
            [MSG_WHAT_CHANGED] = "Yang berubah",
            [MSG_PREVIOUS_HEADLINE] = "Judul sebelumnya",
            [MSG_FIELD_HEADLINE] = "Judul",
            [MSG_FIELD_SUBHEADLINE] = "Subjudul",
            [MSG_FIELD_BODY] = "Isi",
            [MSG_FIELD_DATELINE] = "Tempat",
            [MSG_NOT_FOUND_DETAIL] = "Tidak ada halaman di alamat ini.",
            [MSG_BAD_REQUEST_DETAIL] = "Alamat ini memuat parameter yang tidak diterima halaman "
                                       "ini atau nilai yang salah format.",
            [MSG_UNAVAILABLE] = "Layanan untuk sementara tidak tersedia",
            [MSG_SECTORS] = "Sektor",
            [MSG_REASON] = "Alasan",
            [MSG_UPDATED] = "Diperbarui",
            [MSG_PAGES] = "Halaman",
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
            [MSG_SECTOR_TITLE] = "Berita {sector}",
            [MSG_REGION_TITLE] = "Berita {region}",
            [MSG_ISSUER_TITLE] = "Bilik berita {issuer}",
            [MSG_DAY_TITLE] = "Kenyataan media {date}",
            [MSG_ARCHIVE_TITLE] = "Arkib",
            [MSG_DAY] = "Tarikh",
            [MSG_RELEASES] = "Kenyataan media",
            [MSG_SKIP_TO_CONTENT] = "Langkau ke kandungan",
            [MSG_FEEDS] = "Suapan berita",
            [MSG_WHAT_CHANGED] = "Yang berubah",
            [MSG_PREVIOUS_HEADLINE] = "Tajuk sebelumnya",
            [MSG_FIELD_HEADLINE] = "Tajuk",
            [MSG_FIELD_SUBHEADLINE] = "Subtajuk",
            [MSG_FIELD_BODY] = "Isi kandungan",
            [MSG_FIELD_DATELINE] = "Tempat",
            [MSG_NOT_FOUND_DETAIL] = "Tiada halaman di alamat ini.",
            [MSG_BAD_REQUEST_DETAIL] = "Alamat ini mengandungi parameter yang tidak diterima "
                                       "oleh halaman ini atau nilai yang tidak sah.",
            [MSG_UNAVAILABLE] = "Perkhidmatan tidak tersedia buat sementara waktu",
            [MSG_SECTORS] = "Sektor",
            [MSG_REASON] = "Sebab",
            [MSG_UPDATED] = "Dikemas kini",
            [MSG_PAGES] = "Halaman",
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
            [MSG_SECTOR_TITLE] = "Nachrichten aus der Rubrik {sector}",
            [MSG_REGION_TITLE] = "Nachrichten zu {region}",
            [MSG_ISSUER_TITLE] = "Newsroom: {issuer}",
            [MSG_DAY_TITLE] = "Mitteilungen vom {date}",
            [MSG_ARCHIVE_TITLE] = "Archiv",
            [MSG_DAY] = "Datum",
            [MSG_RELEASES] = "Mitteilungen",
            [MSG_SKIP_TO_CONTENT] = "Zum Inhalt springen",
            [MSG_FEEDS] = "Feeds",
            [MSG_WHAT_CHANGED] = "Geändert",
            [MSG_PREVIOUS_HEADLINE] = "Frühere Überschrift",
            [MSG_FIELD_HEADLINE] = "Überschrift",
            [MSG_FIELD_SUBHEADLINE] = "Unterzeile",
            [MSG_FIELD_BODY] = "Text",
            [MSG_FIELD_DATELINE] = "Ortsmarke",
            [MSG_NOT_FOUND_DETAIL] = "Unter dieser Adresse gibt es keine Seite.",
            [MSG_BAD_REQUEST_DETAIL] = "Die Adresse enthält einen Parameter, den diese Seite "
                                       "nicht annimmt, oder einen ungültigen Wert.",
            [MSG_UNAVAILABLE] = "Dienst vorübergehend nicht verfügbar",
            [MSG_SECTORS] = "Rubriken",
            [MSG_REASON] = "Grund",
            [MSG_UPDATED] = "Aktualisiert",
            [MSG_PAGES] = "Seiten",
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
            [MSG_SECTOR_TITLE] = "Новости рубрики «{sector}»",
            [MSG_REGION_TITLE] = "Новости: {region}",
            [MSG_ISSUER_TITLE] = "Пресс-центр: {issuer}",
            [MSG_DAY_TITLE] = "Пресс-релизы за {date}",
            [MSG_ARCHIVE_TITLE] = "Архив",
            [MSG_DAY] = "Дата",
            [MSG_RELEASES] = "Пресс-релизы",
            [MSG_SKIP_TO_CONTENT] = "Перейти к содержанию",
            [MSG_FEEDS] = "Ленты",
            [MSG_WHAT_CHANGED] = "Изменено",
            [MSG_PREVIOUS_HEADLINE] = "Прежний заголовок",
            [MSG_FIELD_HEADLINE] = "Заголовок",
            [MSG_FIELD_SUBHEADLINE] = "Подзаголовок",
            [MSG_FIELD_BODY] = "Текст",
            [MSG_FIELD_DATELINE] = "Место",
            [MSG_NOT_FOUND_DETAIL] = "По этому адресу страницы нет.",
            [MSG_BAD_REQUEST_DETAIL] = "Адрес содержит параметр, который эта страница не "
                                       "принимает, или неверное значение.",
            [MSG_UNAVAILABLE] = "Сервис временно недоступен",
            [MSG_SECTORS] = "Рубрики",
            [MSG_REASON] = "Причина",
            [MSG_UPDATED] = "Обновлено",
            [MSG_PAGES] = "Страницы",
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
            [MSG_SECTOR_TITLE] = "Actualités de la rubrique {sector}",
            [MSG_REGION_TITLE] = "Actualités : {region}",
            [MSG_ISSUER_TITLE] = "Salle de presse : {issuer}",
            [MSG_DAY_TITLE] = "Communiqués du {date}",
            [MSG_ARCHIVE_TITLE] = "Archives",
            [MSG_DAY] = "Date",
            [MSG_RELEASES] = "Communiqués",
            [MSG_SKIP_TO_CONTENT] = "Aller au contenu",
            [MSG_FEEDS] = "Flux",
            [MSG_WHAT_CHANGED] = "Modifié",
            [MSG_PREVIOUS_HEADLINE] = "Titre précédent",
            [MSG_FIELD_HEADLINE] = "Titre",
            [MSG_FIELD_SUBHEADLINE] = "Sous-titre",
            [MSG_FIELD_BODY] = "Texte",
            [MSG_FIELD_DATELINE] = "Lieu",
            [MSG_NOT_FOUND_DETAIL] = "Il n’y a pas de page à cette adresse.",
            [MSG_BAD_REQUEST_DETAIL] = "L’adresse contient un paramètre que cette page "
                                       "n’accepte pas, ou une valeur mal formée.",
            [MSG_UNAVAILABLE] = "Service temporairement indisponible",
            [MSG_SECTORS] = "Rubriques",
            [MSG_REASON] = "Motif",
            [MSG_UPDATED] = "Mis à jour",
            [MSG_PAGES] = "Pages",
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
            [MSG_SECTOR_TITLE] = "Noticias de {sector}",
            [MSG_REGION_TITLE] = "Noticias sobre {region}",
            [MSG_ISSUER_TITLE] = "Sala de prensa de {issuer}",
            [MSG_DAY_TITLE] = "Comunicados del {date}",
            [MSG_ARCHIVE_TITLE] = "Archivo",
            [MSG_DAY] = "Fecha",
            [MSG_RELEASES] = "Comunicados",
            [MSG_SKIP_TO_CONTENT] = "Saltar al contenido",
            [MSG_FEEDS] = "Canales",
            [MSG_WHAT_CHANGED] = "Cambios",
            [MSG_PREVIOUS_HEADLINE] = "Titular anterior",
            [MSG_FIELD_HEADLINE] = "Titular",
            [MSG_FIELD_SUBHEADLINE] = "Subtítulo",
            [MSG_FIELD_BODY] = "Texto",
            [MSG_FIELD_DATELINE] = "Lugar",
            [MSG_NOT_FOUND_DETAIL] = "No hay ninguna página en esta dirección.",
            [MSG_BAD_REQUEST_DETAIL] = "La dirección contiene un parámetro que esta página no "
                                       "admite o un valor mal formado.",
            [MSG_UNAVAILABLE] = "Servicio no disponible temporalmente",
            [MSG_SECTORS] = "Sectores",
            [MSG_REASON] = "Motivo",
            [MSG_UPDATED] = "Actualizado",
            [MSG_PAGES] = "Páginas",
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
            [MSG_SECTOR_TITLE] = "Notícias de {sector}",
            [MSG_REGION_TITLE] = "Notícias sobre {region}",
            [MSG_ISSUER_TITLE] = "Sala de imprensa de {issuer}",
            [MSG_DAY_TITLE] = "Comunicados de {date}",
            [MSG_ARCHIVE_TITLE] = "Arquivo",
            [MSG_DAY] = "Data",
            [MSG_RELEASES] = "Comunicados",
            [MSG_SKIP_TO_CONTENT] = "Pular para o conteúdo",
            [MSG_FEEDS] = "Feeds",
            [MSG_WHAT_CHANGED] = "Alterações",
            [MSG_PREVIOUS_HEADLINE] = "Título anterior",
            [MSG_FIELD_HEADLINE] = "Título",
            [MSG_FIELD_SUBHEADLINE] = "Subtítulo",
            [MSG_FIELD_BODY] = "Texto",
            [MSG_FIELD_DATELINE] = "Local",
            [MSG_NOT_FOUND_DETAIL] = "Não há nenhuma página neste endereço.",
            [MSG_BAD_REQUEST_DETAIL] = "O endereço contém um parâmetro que esta página não "
                                       "aceita ou um valor malformado.",
            [MSG_UNAVAILABLE] = "Serviço temporariamente indisponível",
            [MSG_SECTORS] = "Setores",
            [MSG_REASON] = "Motivo",
            [MSG_UPDATED] = "Atualizado",
            [MSG_PAGES] = "Páginas",
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
    const char *vars[] = {"wire", wire_name, NULL};
    return core_lang_format_vars(lang, msg, vars);
}

/* One pass over the template: text between placeholders is copied, each
 * "{name}" found in vars is replaced by its value, anything else (an
 * unknown name, a lone brace) is copied as it is. Values are never scanned,
 * so a value that looks like a placeholder stays literal. */
char *core_lang_format_vars(const core_lang_t *lang, core_msg_t msg, const char *const *vars)
{
    if ((int)msg < 0 || msg >= MSG_COUNT_) return NULL;
    if (lang == NULL) lang = core_lang_default();
    const char *p = lang->msgs[msg];
    if (p == NULL) p = core_lang_default()->msgs[msg];

    kw_buf_t out = {0};
    kw_buf_puts(&out, ""); /* an empty message still gives "" */
    const char *open;
    while ((open = strchr(p, '{')) != NULL) {
        const char *close = strchr(open + 1, '}');
        if (close == NULL) break;
        size_t n = (size_t)(close - open - 1);
        const char *value = NULL;
        int found = 0;
        for (size_t i = 0; vars && vars[i]; i += 2) {
            if (strlen(vars[i]) == n && memcmp(vars[i], open + 1, n) == 0) {
                value = vars[i + 1];
                found = 1;
                break;
            }
        }
        if (!found) {
            kw_buf_append(&out, p, (size_t)(open + 1 - p));
            p = open + 1;
            continue;
        }
        kw_buf_append(&out, p, (size_t)(open - p));
        if (value) kw_buf_puts(&out, value);
        p = close + 1;
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

const char *core_lang_label_separator(const core_lang_t *lang)
{
    if (lang == NULL) return ": ";
    if (strcmp(lang->tag, "ja") == 0 || strncmp(lang->tag, "zh", 2) == 0) return "\uFF1A";
    if (strcmp(lang->tag, "fr") == 0) return "\u202F: ";
    return ": ";
}
