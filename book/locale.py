"""Locales: a book's `language` → the fixed strings, quotation marks and CJK faces its outputs use.

Every word the templates and code print on their own (目录, 附录A, 时期…) comes from one table
here, so a Traditional Chinese book (`zh-Hant`, `zh-TW`, `zh-HK`) reads 目錄 and 附錄A, pairs
quotes as 「」『』 and is set in the TC (or HK) faces of the same Noto CJK collections. A language
the table does not know falls back to Simplified Chinese, the toolchain's first language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Locale:
    tag: str  # the table's key
    region: str  # the Noto CJK / Source Han face suffix: SC, TC, HK
    quotes: tuple[str, str, str, str]  # double open, double close, single open, single close
    strings: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.strings[key]

    def appendix(self, letter: str) -> str:
        return self.strings["appendix"].format(letter=letter)


HANS = {
    "toc": "目录",
    "copyright": "版权信息",
    "landmarks": "导览",
    "cover": "封面",
    "page_list": "页码",
    "appendix": "附录{letter}",
    "period": "时期",
    "key_concepts": "关键概念",
    "source": "来源",
    "author": "作者",
    "book_title": "书名",
    "publisher": "出版",
    "edition": "版次",
    "date": "日期",
    "identifier": "标识",
    "by": "著",
    "image": "图片",
    "image_unfetched": "图片未能获取",
    "image_refused": "图片已拒绝",
    "image_missing": "图片缺失",
    "draft": "草稿",
    "page_reference": "（见第 {page} 页）",
    "xref_fig": "图 {n}",
    "xref_tbl": "表 {n}",
    "xref_lst": "代码 {n}",
    "xref_eq": "式 ({n})",
    "xref_section": "第 {n} 节",
    "xref_page": "（第 {page} 页）",
    "list_of_figures": "插图目录",
    "list_of_tables": "表格目录",
    "index": "索引",
    "index_latin": "西文",
    "glossary": "术语表",
    "diagram": "图示",
    "chapter": "第{n}章",
    "part": "第{n}部分",
    "price": "定价",
    "print_edition": "印刷版",
    "cip_heading": "图书在版编目（CIP）数据",
    "cip_number": "中国版本图书馆 CIP 数据核字（{year}）第 {number} 号",
    "imprint_title": "书名",
    "imprint_author": "作者",
    "imprint_publisher": "出版发行",
    "imprint_printer": "印刷",
    "imprint_format": "开本",
    "imprint_sheets": "印张",
    "imprint_words": "字数",
    "imprint_words_unit": "{n} 千字",
    "imprint_edition": "版次",
    "imprint_impression": "印次",
    "imprint_isbn": "书号",
    "imprint_price": "定价",
    "imprint_price_unit": "{price} 元",
    "imprint_first_impression": "第 1 次印刷",
}
HANT = {
    "toc": "目錄",
    "copyright": "版權資訊",
    "landmarks": "導覽",
    "cover": "封面",
    "page_list": "頁碼",
    "appendix": "附錄{letter}",
    "period": "時期",
    "key_concepts": "關鍵概念",
    "source": "來源",
    "author": "作者",
    "book_title": "書名",
    "publisher": "出版",
    "edition": "版次",
    "date": "日期",
    "identifier": "標識",
    "by": "著",
    "image": "圖片",
    "image_unfetched": "圖片未能取得",
    "image_refused": "圖片已拒絕",
    "image_missing": "圖片缺失",
    "draft": "草稿",
    "page_reference": "（見第 {page} 頁）",
    "xref_fig": "圖 {n}",
    "xref_tbl": "表 {n}",
    "xref_lst": "程式碼 {n}",
    "xref_eq": "式 ({n})",
    "xref_section": "第 {n} 節",
    "xref_page": "（第 {page} 頁）",
    "list_of_figures": "插圖目錄",
    "list_of_tables": "表格目錄",
    "index": "索引",
    "index_latin": "西文",
    "glossary": "術語表",
    "diagram": "圖示",
    "chapter": "第{n}章",
    "part": "第{n}部分",
    "price": "定價",
    "print_edition": "印刷版",
    "cip_heading": "國家圖書館出版品預行編目（CIP）資料",
    "cip_number": "CIP 核字（{year}）第 {number} 號",
    "imprint_title": "書名",
    "imprint_author": "作者",
    "imprint_publisher": "出版發行",
    "imprint_printer": "印刷",
    "imprint_format": "開本",
    "imprint_sheets": "印張",
    "imprint_words": "字數",
    "imprint_words_unit": "{n} 千字",
    "imprint_edition": "版次",
    "imprint_impression": "印次",
    "imprint_isbn": "書號",
    "imprint_price": "定價",
    "imprint_price_unit": "{price} 元",
    "imprint_first_impression": "第 1 次印刷",
}
LOCALES = {
    "zh-Hans": Locale("zh-Hans", "SC", ("“", "”", "‘", "’"), HANS),
    "zh-Hant": Locale("zh-Hant", "TC", ("「", "」", "『", "』"), HANT),
    "zh-HK": Locale("zh-HK", "HK", ("「", "」", "『", "』"), HANT),
}
TRADITIONAL = ("zh-hant", "zh-tw", "zh-mo")


def locale_for(language: str) -> Locale:
    """The locale of a BCP 47 tag: zh-Hant / zh-TW → Traditional, zh-HK (or zh-Hant-HK) → HK faces."""
    tag = language.lower().replace("_", "-")
    if tag == "zh-hk" or tag.endswith("-hk"):
        return LOCALES["zh-HK"]
    if tag.startswith(TRADITIONAL):
        return LOCALES["zh-Hant"]
    return LOCALES["zh-Hans"]


# The families the stylesheets name with a region suffix (`"Noto Serif CJK SC"`, `"PingFang SC"`).
_FAMILY_SC = re.compile(r"((?:Noto (?:Sans|Serif|Sans Mono) CJK|Source Han (?:Sans|Serif)|PingFang)) SC\b")


def localize_css(css: str, locale: Locale) -> str:
    """A stylesheet's Simplified Chinese font families → the locale's (unchanged for zh-Hans)."""
    if locale.region == "SC":
        return css
    return _FAMILY_SC.sub(lambda m: f"{m.group(1)} {locale.region}", css)


def template_strings(language: str) -> dict[str, Any]:
    """What the templates see as `t`: the strings of the book's locale."""
    return dict(locale_for(language).strings)
