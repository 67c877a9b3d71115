"""The page a Chinese publisher would print (issue 18, faces, GB/T 15834/15835, 版权页, EPUB spacing),
asserted on the shared sample build (tests/conftest.py) and on small units."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from book.check.faces import Face, check_pdf_faces, face_problems, split_name
from book.cover.imprint import book_format, sheets, thousand_words
from book.epub.spacing import fixed_spaces
from book.typography import key_terms
from book.typography.emoji import replace_emoji
from tests.conftest import have

HAN = r"[\u4e00-\u9fff]"


def _text(pdf: Path, *pages: int) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(pages[0]), "-l", str(pages[-1])] if pages else [])
    return subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(not have("pdftotext"), reason="poppler-utils not installed")
def test_sample_pdf_faces_punctuation_and_copyright_page(sample_build: dict) -> None:
    pdf = sample_build["pdf"]
    faces = check_pdf_faces(pdf)
    assert faces.ok, faces.details  # only the chosen faces, none synthesised, no colour emoji
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "DejaVu" not in fonts and "Emoji" not in fonts
    text = _text(pdf)
    assert not re.findall(rf"(?<![\w-])\d{{4}}-\d{{4}}(?!\d)(?=.*{HAN})|{HAN}.*(?<![\w-])\d{{4}}-\d{{4}}(?!\d)", text)
    assert not re.findall(rf"(?:{HAN}|[A-Za-z0-9]) - (?:{HAN}|[A-Za-z])(?=.*{HAN})", text)
    assert "「" not in text and "」" not in text  # one quotation style in a zh-Hans book
    assert "open source llm" not in text  # opener keywords are never slugs
    copyright_page = _text(pdf, 2)
    assert "图书在版编目（CIP）数据" in copyright_page
    for label in ("开本", "印张", "字数", "定价"):
        assert re.search(rf"{label[0]}\s+{label[1]}\s+\S", copyright_page), label
    assert re.search(r"印\s+张\s+\d+(\.\d+)?\n", copyright_page)
    assert "urn:" not in text and "2025 年 10 月第 1 版" in copyright_page
    assert not re.search(r"^\s*(ii|2)\s*$", copyright_page, re.M)  # no folio on the 版权页
    assert "colour emoji not printed: ✅ dropped (lines 791" in sample_build["log"]


def test_sample_epub_gaps_and_faces(sample_build: dict) -> None:
    with zipfile.ZipFile(sample_build["epub"]) as z:
        chapter = z.read("EPUB/ch08.xhtml").decode()
        fonts_css = z.read("EPUB/styles/fonts.css").decode()
        names = z.namelist()
    body = chapter.split("<body", 1)[1].split('class="references"')[0]  # the reference list is set as written
    assert 'Meta<span class="cjk-gap"></span>的' in body
    assert not re.search(rf"{HAN} [A-Za-z0-9]|[A-Za-z0-9] {HAN}", re.sub(r"<[^>]+>", "", body))
    assert 'font-family: "Noto Serif"; font-weight: normal; font-style: italic' in fonts_css
    assert "EPUB/fonts/NotoSans-Regular.otf" in names


def test_face_check_flags_synthesised_and_foreign_faces() -> None:
    assert split_name("/ABCDEF+Noto-Serif-CJK-SC-Bold-Italic") == ("Noto-Serif-CJK-SC", True, True)
    fake_bold = Face("Noto-Color-Emoji-Bold", "Noto-Color-Emoji", True, False, 400, False, True)
    fake_italic = Face("Noto-Serif-CJK-SC-Italic", "Noto-Serif-CJK-SC", False, True, 400, False, False)
    real = Face("Noto-Serif-Italic", "Noto-Serif", False, True, 400, True, False)
    dejavu = Face("DejaVu-Sans", "DejaVu-Sans", False, False, 400, False, False)
    problems = face_problems([fake_bold, fake_italic, real, dejavu], "SC")
    assert any("colour emoji" in p for p in problems)
    assert any("Noto-Color-Emoji-Bold: synthesised bold" in p for p in problems)
    assert any("Noto-Serif-CJK-SC-Italic: synthesised italic" in p for p in problems)
    assert any(p.startswith("DejaVu-Sans: outside") for p in problems)
    assert not any(p.startswith("Noto-Serif-Italic") for p in problems)
    assert any(
        "Noto-Sans-CJK-SC" in p
        for p in face_problems([Face("Noto-Sans-CJK-TC", "Noto-Sans-CJK-TC", False, False, 400, False, False)], "SC")
    )


EMOJI = [
    ("<ul><li>✅ 成本低廉</li></ul>", "<ul><li>成本低廉</li></ul>", "dropped"),
    ("<p>完成 ✅ 了</p>", '<p>完成 <span class="cjk-symbol">✔</span> 了</p>', "→ ✔"),
    ("<p>提示 💡️ 一下</p>", '<p>提示 <span class="cjk-symbol">✦</span> 一下</p>', "→ ✦"),
    ("<p>火箭 🚀 升空</p>", '<p>火箭 <span class="cjk-symbol">➤</span> 升空</p>', "→ ➤"),
    ("<p>笑 😀 了</p>", "<p>笑 了</p>", "dropped (no monochrome form)"),
    ("<p>代码 <code>✅</code></p>", "<p>代码 <code>✅</code></p>", None),
    ("<p>★ 与 ✔ 不变</p>", "<p>★ 与 ✔ 不变</p>", None),
]


@pytest.mark.parametrize(("source", "expected", "outcome"), EMOJI)
def test_emoji_dropped_or_monochrome(source: str, expected: str, outcome: str | None) -> None:
    from lxml import etree

    root = etree.fromstring(f"<div>{source}</div>")
    done = replace_emoji(root)
    assert etree.tostring(root, encoding="unicode") == f"<div>{expected}</div>"
    assert [o for _, o in done] == ([outcome] if outcome else [])


def test_imprint_format_sheets_and_words() -> None:
    assert book_format((148, 210)) == ("880 mm × 1230 mm 1/32", 32)
    assert book_format((185, 260)) == ("787 mm × 1092 mm 1/16", 16)
    assert book_format((150, 230))[0] == "150 mm × 230 mm"
    assert sheets(44, 32) == "1.5" and sheets(320, 16) == "20" and sheets(250, 16) == "15.75"
    assert thousand_words(7735) == "8" and thousand_words(120) == "1"
    assert key_terms(["open-source-llm", "混合专家模型", "Mixture of Experts", "moe"]) == [
        "混合专家模型",
        "Mixture of Experts",
    ]


def test_epub_gaps_leave_code_urls_and_svg_alone() -> None:
    body = (
        '<p>用 <code>a 的 b</code> 见 https://x.y/中 页</p><svg xmlns="http://www.w3.org/2000/svg"><text>x</text></svg>'
    )
    out = fixed_spaces(body)
    assert out.startswith('<p>用<span class="cjk-gap"></span><code>a 的 b</code>')
    assert 'xmlns="http://www.w3.org/2000/svg"' in out
    assert fixed_spaces(out) == out


def test_copyright_page_with_isbn_and_cip(book_dir: Path) -> None:
    from book.cover.imprint import imprint
    from book.parts.render import book_context, environment
    from book.source.config import load_config

    (book_dir / "book.yaml").write_text(
        "title: 测试之书\nsubtitle: 副题\nauthors: [张三]\npublisher: 某出版社\ndate: 2025-03-01\n"
        "edition: 2025年3月第1版\nisbn: 978-7-0000-0000-1\nprice: ¥45.00\nprint:\n  trim: 16开\n"
        "cip:\n  place: 上海\n  subjects: [计算机, 历史]\n  classification: TP3\n  number: '000123'\n"
        "chapters:\n  - chapters/*.md\n", encoding="utf-8")  # fmt: skip
    (book_dir / "chapters" / "01.md").write_text("# 一\n\n正文。\n", encoding="utf-8")
    config = load_config(book_dir / "book.yaml")
    data = imprint(config, 23456)
    html = environment(config).get_template("copyright.html.j2").render(book=book_context(config), imprint=data)
    assert "张三著. —上海：某出版社，2025.03" in html and "Ⅳ. ①TP3" in html
    assert "中国版本图书馆 CIP 数据核字（2025）第 000123 号" in html
    rows = {r["label"]: r["value"] for r in data["rows"]}
    assert rows["书号"] == "ISBN 978-7-0000-0000-1" and rows["定价"] == "45.00 元"
    assert rows["开本"] == "787 mm × 1092 mm 1/16" and rows["字数"] == "23 千字"
    assert rows["版次"] == "2025 年 3 月第 1 版" and rows["印次"] == "2025 年 3 月第 1 次印刷"
    assert 'class="imprint-sheets" data-kai="16"' in html and "urn:" not in html


def test_copyright_page_without_authors_and_a_wrong_isbn(book_dir: Path) -> None:
    from book.cover.imprint import imprint
    from book.errors import BookError
    from book.source.config import load_config

    (book_dir / "chapters" / "01.md").write_text("# 一\n\n正文。\n", encoding="utf-8")
    config = load_config(book_dir / "book.yaml")
    rows = [r["label"] for r in imprint(dataclasses.replace(config, authors=()), 0)["rows"]]
    assert "作者" not in rows and "书号" not in rows and "字数" not in rows
    (book_dir / "book.yaml").write_text(
        "title: 书\nauthors: [甲]\nisbn: 978-7-0000-0000-2\nchapters: [chapters/*.md]\n", encoding="utf-8"
    )
    with pytest.raises(BookError) as err:
        imprint(load_config(book_dir / "book.yaml"), 0)
    assert str(err.value).startswith("book.yaml:3: ") or ":3: " in str(err.value)
    assert "check digit 2, not 1" in str(err.value)


def test_sheets_are_filled_in_or_the_line_left_out() -> None:
    from book.pdf.imprint import fill_sheets

    row = '<div class="imprint-row print-only"><dt>印张</dt><dd><span class="imprint-sheets" data-kai="32"></span></dd></div>\n'
    assert '<span class="imprint-sheets" data-kai="32">1.5</span>' in fill_sheets(row, 44)
    assert fill_sheets(row, None) == ""
