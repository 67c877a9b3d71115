"""Books as authors write them: no front matter, links between chapters, Traditional Chinese.

Each book is built once through the CLI (module-scoped fixtures) and looked at from every side.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pytest
from lxml import etree

from book.errors import BookError, Diagnostics
from book.source.config import load_config
from book.source.manifest import build_manifest

ROOT = Path(__file__).resolve().parent.parent
XHTML = {"x": "http://www.w3.org/1999/xhtml"}
FILLER = "这是一段用来占满页面的正文，内容并不重要，只是为了让目标小节落在后面的某一页上。" * 6


def build(book: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = ["build", "--config", str(book / "book.yaml"), "--out", str(book / "out"), *extra]
    proc = subprocess.run([sys.executable, "-m", "book", *args], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Three chapters without front matter in a folder per chapter; the first links to the others."""
    book = tmp_path_factory.mktemp("plain")
    (book / "book.yaml").write_text("title: 无前言之书\nauthors: [某人]\nchapters:\n  - '*/chapter.md'\n", "utf-8")
    texts = {
        "01": "# 第一章 起点\n\n见[终点](../03/chapter.md)和[那一节](../03/chapter.md#detail)，"
        "也见[同一节](#detail)，还有[不在书里](../notes.md)。\n",
        "02": "# 中途\n\n" + "\n\n".join([FILLER] * 4) + "\n",
        "03": "# 终点\n\n" + "\n\n".join([FILLER] * 12) + "\n\n## 细节 {#detail}\n\n目标在此。\n",
    }
    for name, text in texts.items():
        (book / name).mkdir()
        (book / name / "chapter.md").write_text(text, "utf-8")
    (book / "notes.md").write_text("# 笔记\n", "utf-8")
    proc = build(book)
    again = build(book)
    out = book / "out"
    return {"book": book, "out": out, "log": proc.stderr, "again": again.stderr,
            "epub": out / "book.epub", "pdf": out / "book.pdf"}  # fmt: skip


def _pdf_text(pdf: Path, page: int | None = None) -> str:
    span = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", "-layout", *span, str(pdf), "-"], capture_output=True, text=True).stdout


@pytest.mark.slow
def test_chapters_without_front_matter(plain: dict) -> None:
    manifest = json.loads((plain["out"] / "manifest.json").read_text("utf-8"))
    parts = manifest["parts"] if isinstance(manifest, dict) else manifest
    titles = [(p.get("label"), p.get("title")) for p in parts]
    assert titles == [("第一章", "起点"), ("第二章", "中途"), ("第三章", "终点")], titles
    assert "EPUBCheck 5.3.0: 0 fatal, 0 errors, 0 warnings" in plain["log"]
    assert re.search(r"^up to date, \d+\.\d s", plain["again"], re.M), plain["again"]


@pytest.mark.slow
def test_links_between_chapters_resolve_in_the_epub(plain: dict) -> None:
    with zipfile.ZipFile(plain["epub"]) as z:
        docs = {Path(n).name: etree.fromstring(z.read(n)) for n in z.namelist() if n.endswith(".xhtml")}
    hrefs = [a.get("href") for a in docs["ch01.xhtml"].iterfind(".//x:p//x:a", XHTML)]
    assert hrefs == ["ch03.xhtml#ch03", "ch03.xhtml#ch03-detail", "ch03.xhtml#ch03-detail"], hrefs
    for href in hrefs:
        name, _, ident = href.partition("#")
        assert docs[name].xpath("//*[@id=$i]", i=ident), href
    # The link to a file outside the book: a warning at its own line, the text kept.
    assert re.search(
        r"01/chapter\.md:3: warning: link to '\.\./notes\.md': that file is not a part of the book", plain["log"]
    )
    assert "不在书里" in etree.tostring(docs["ch01.xhtml"], encoding="unicode")


@pytest.mark.slow
def test_links_between_chapters_work_and_print_the_page(plain: dict) -> None:
    pdf = plain["pdf"]
    with pikepdf.open(pdf) as doc:
        pages = {p.objgen: i + 1 for i, p in enumerate(doc.pages)}
        names = dict(pikepdf.NameTree(doc.Root.Names.Dests)) if "/Names" in doc.Root else {}
        targets = []
        for i, page in enumerate(doc.pages):
            for annot in page.get("/Annots") or []:
                dest = annot.get("/Dest") or (annot.get("/A") or {}).get("/D")
                if dest is None:
                    continue
                if isinstance(dest, (pikepdf.String, pikepdf.Name)):
                    dest = names[str(dest).lstrip("/")]
                targets.append((i + 1, pages[dest[0].objgen]))
    target_page = next(i for i in range(1, len(pages) + 1) if "目标在此" in _pdf_text(pdf, i))
    assert target_page > 3
    from_first = [t for src, t in targets if "起点" in _pdf_text(pdf, src)]
    assert target_page in from_first, targets
    # The target page's folio is what the reference prints.
    folio = _pdf_text(pdf, target_page).split()[-1]
    assert folio.isdigit()
    text = re.sub(r"\s+", "", _pdf_text(pdf))
    assert f"那一节（见第{folio}页）" in text and f"同一节（见第{folio}页）" in text, text[:400]


@pytest.fixture(scope="module")
def hant(tmp_path_factory: pytest.TempPathFactory) -> dict:
    book = tmp_path_factory.mktemp("hant")
    (book / "book.yaml").write_text(
        "title: 繁體之書\nauthors: [某人]\nlanguage: zh-Hant\nchapters:\n  - '*.md'\n", "utf-8"
    )
    (book / "01.md").write_text("# 開始\n\n他說\"這是一本書\"，又說'好'。\n\n## 小節\n\n文字。\n", "utf-8")
    proc = build(book)
    return {
        "out": book / "out",
        "log": proc.stderr,
        "epub": book / "out" / "book.epub",
        "pdf": book / "out" / "book.pdf",
    }


@pytest.mark.slow
def test_traditional_chinese(hant: dict) -> None:
    fonts = subprocess.run(["pdffonts", str(hant["pdf"])], capture_output=True, text=True).stdout
    cjk = [line.split()[0] for line in fonts.splitlines()[2:] if "CJK" in line]
    assert cjk and all("-TC" in name for name in cjk), fonts
    with zipfile.ZipFile(hant["epub"]) as z:
        names = z.namelist()
        nav = z.read(next(n for n in names if n.endswith("toc.xhtml"))).decode()
        chapter = z.read(next(n for n in names if n.endswith("ch01.xhtml"))).decode()
    assert [n for n in names if "fonts/" in n and "CJK" in n] and not [n for n in names if "CJKsc" in n], names
    assert "<title>目錄</title>" in nav and "目录" not in nav
    text = re.sub(r"<[^>]+>|\u2060", "", chapter)  # without the punctuation-compression spans
    assert "「這是一本書」" in text and "『好』" in text, text
    from book.check.pdf import check_pdf_fonts

    assert check_pdf_fonts(hant["pdf"], "zh-Hant").ok


def test_front_matter_problems_all_at_once_with_computed_hints(book_dir: Path) -> None:
    chapters = book_dir / "chapters"
    (chapters / "01.md").write_text("# 开篇\n\n正文。\n", "utf-8")
    (chapters / "07-later.md").write_text("---\ntitle_en: Later\n---\n\n# 后来的事\n\n正文。\n", "utf-8")
    with pytest.raises(BookError) as exc:
        build_manifest(load_config(book_dir / "book.yaml"), Diagnostics(echo=False))
    lines = [str(p) for p in exc.value.problems]
    assert any("07-later.md:2:" in s and "'chapter_number'" in s and "add 'chapter_number: 7'" in s for s in lines)
    assert any("07-later.md:2:" in s and "'title'" in s and "add 'title: 后来的事'" in s for s in lines), lines


def test_mixed_book_order(book_dir: Path) -> None:
    chapters = book_dir / "chapters"
    (chapters / "a.md").write_text("# 甲\n\n正文。\n", "utf-8")
    (chapters / "b.md").write_text("---\nchapter_number: 5\ntitle: 乙\n---\n正文。\n", "utf-8")
    (chapters / "c.md").write_text("丙没有标题。\n", "utf-8")
    manifest = build_manifest(load_config(book_dir / "book.yaml"), Diagnostics(echo=False))
    assert [(p.number, p.title) for p in manifest.chapters] == [(1, "甲"), (5, "乙"), (6, "c")]
