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
    "anecdote": "轶事",
    "report_title": "《{title}》编辑包 {day}",
    "report_package": "包：",
    "report_pages": "；审读 PDF 共 {pages} 页",
    "report_file": "文件",
    "report_size": "大小",
    "report_changes": "自上一版以来的改动",
    "report_first": "这是第一个编辑包：没有可比较的上一版。",
    "report_compared_open": "与上一版（",
    "report_compared_close": "）相比",
    "report_unchanged": "，正文没有改动。",
    "report_diff_legend": "（`[-…-]` 为删去的文字，`{+…+}` 为新增的文字）",
    "report_part_new": "新增",
    "report_part_removed": "删除",
    "report_part_changed": "有改动",
    "report_para_changed": "修改",
    "report_para_added": "新增",
    "report_para_removed": "删除",
    "report_parts": "篇章清单",
    "report_col_id": "编号",
    "report_col_label": "标签",
    "report_col_title": "标题",
    "report_col_status": "状态",
    "report_col_paragraphs": "段落",
    "report_col_characters": "段落字数",
    "report_col_source": "源文件",
    "report_checks": "检查结果",
    "report_lint_clean": "文字检查：没有发现问题。",
    "report_warnings": "构建警告",
    "report_no_warnings": "没有警告。",
    "bibliography": "参考文献",
    "a11y_summary": "本书为可重排的 EPUB 3 电子书，按阅读顺序编排，提供目录、导览和结构化标题",
    "a11y_alt": "图片均附有替代文字",
    "a11y_pages": "含与印刷版对应的页码",
    "a11y_hazards": "。无闪烁、声音或动态模拟等危害。",
    "send_subject": "《{title}》编辑包 {package}",
    "send_body": "您好：\n\n附件是《{title}》的编辑包 {package}：审读 PDF（A4，段落编号，页边可批注）、可修订的 DOCX、EPUB，以及报告（report.html / report.md，含自上一版以来的改动）。\n\n请在 DOCX 中用修订模式修改，或在 PDF 上按“第八章 第12段”的方式标注。\n",
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
    "anecdote": "軼事",
    "report_title": "《{title}》編輯包 {day}",
    "report_package": "包：",
    "report_pages": "；審讀 PDF 共 {pages} 頁",
    "report_file": "檔案",
    "report_size": "大小",
    "report_changes": "自上一版以來的改動",
    "report_first": "這是第一個編輯包：沒有可比較的上一版。",
    "report_compared_open": "與上一版（",
    "report_compared_close": "）相比",
    "report_unchanged": "，正文沒有改動。",
    "report_diff_legend": "（`[-…-]` 為刪去的文字，`{+…+}` 為新增的文字）",
    "report_part_new": "新增",
    "report_part_removed": "刪除",
    "report_part_changed": "有改動",
    "report_para_changed": "修改",
    "report_para_added": "新增",
    "report_para_removed": "刪除",
    "report_parts": "篇章清單",
    "report_col_id": "編號",
    "report_col_label": "標籤",
    "report_col_title": "標題",
    "report_col_status": "狀態",
    "report_col_paragraphs": "段落",
    "report_col_characters": "段落字數",
    "report_col_source": "原始檔",
    "report_checks": "檢查結果",
    "report_lint_clean": "文字檢查：沒有發現問題。",
    "report_warnings": "建置警告",
    "report_no_warnings": "沒有警告。",
    "bibliography": "參考文獻",
    "a11y_summary": "本書為可重排的 EPUB 3 電子書，按閱讀順序編排，提供目錄、導覽和結構化標題",
    "a11y_alt": "圖片均附有替代文字",
    "a11y_pages": "含與印刷版對應的頁碼",
    "a11y_hazards": "。無閃爍、聲音或動態模擬等危害。",
    "send_subject": "《{title}》編輯包 {package}",
    "send_body": "您好：\n\n附件是《{title}》的編輯包 {package}：審讀 PDF（A4，段落編號，頁邊可批註）、可修訂的 DOCX、EPUB，以及報告（report.html / report.md，含自上一版以來的改動）。\n\n請在 DOCX 中用修訂模式修改，或在 PDF 上按「第八章 第12段」的方式標註。\n",
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
