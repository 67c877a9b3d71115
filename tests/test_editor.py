"""Editor package: contents of the zip, the review PDF, and the per-paragraph changes report."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from book.model import RenderedPart
from book.tools.editor import Paragraph, compare, make_package, numbered_body, paragraphs
from tests.conftest import ROOT

DAY = dt.date(2025, 10, 20)


def part(body: str, pid: str = "ch01") -> RenderedPart:
    return RenderedPart(id=pid, kind="chapter", filename=f"{pid}.xhtml", title="标题", label="第一章", body=body)


def snap(*parts: tuple[str, list[str]]) -> dict:
    return {"package": "x.zip", "parts": [
        {"id": pid, "label": "第一章", "title": "标题", "paragraphs": [[f"{pid}-p{i}", t] for i, t in enumerate(texts, 1)]}
        for pid, texts in parts
    ]}  # fmt: skip


def test_paragraph_numbers_follow_the_block_ids_and_skip_the_opener() -> None:
    body = ('<section><header class="opener"><p class="opener-label">第一章</p></header><div class="content">'
            '<p id="ch01-p1">甲。</p><blockquote><p id="ch01-p2">乙。</p></blockquote><pre>p</pre><p>丙。</p></div></section>')  # fmt: skip
    paras = paragraphs(part(body))
    assert [(p.id, p.n, p.text) for p in paras] == [
        ("ch01-p1", 1, "甲。"),
        ("ch01-p2", 2, "乙。"),
        ("ch01-p3", 3, "丙。"),
    ]
    numbered = numbered_body(part(body), paras)
    assert '<p class="opener-label">' in numbered
    assert re.findall(r'data-para="(\d+)"', numbered) == ["1", "2", "3"]


def test_compare_names_only_the_edited_paragraph() -> None:
    old = snap(("ch01", ["一。", "二。", "三。"]))
    assert compare(None, old) is None
    assert compare(old, old) == []
    (edited,) = compare(old, snap(("ch01", ["一。", "二，改了。", "三。"])))
    assert [(c.kind, c.id, c.n) for c in edited.paragraphs] == [("changed", "ch01-p2", 2)]
    assert edited.paragraphs[0].diff_text() == "二{+，改了+}。"
    assert "<ins>，改了</ins>" in edited.paragraphs[0].diff_html()
    # An inserted paragraph is one addition, not a change of every later (renumbered) paragraph.
    (inserted,) = compare(old, snap(("ch01", ["一。", "新。", "二。", "三。"])))
    assert [(c.kind, c.id) for c in inserted.paragraphs] == [("added", "ch01-p2")]
    (gone,) = compare(old, snap(("ch01", ["一。", "三。"])))
    assert [(c.kind, c.id, c.old) for c in gone.paragraphs] == [("removed", "ch01-p2", "二。")]
    new_part = compare(old, snap(("ch01", ["一。", "二。", "三。"]), ("ch02", ["四。"])))
    assert [(p.id, p.status) for p in new_part] == [("ch02", "new")]


@pytest.fixture
def book_copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "book.yaml", tmp_path / "book.yaml")
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    return tmp_path


def test_make_editor_twice_with_an_edit_names_exactly_that_paragraph(book_copy: Path) -> None:
    out = book_copy / "build"
    first = make_package(book_copy / "book.yaml", out, day=DAY, check=False)
    assert first.path == out / "editor" / "ai-history-2025-10-20.zip"
    assert first.changes is None
    with zipfile.ZipFile(first.path) as z:
        names = sorted(z.namelist())
        assert names == sorted(f"ai-history-2025-10-20/{n}" for n in (
            "ai-history-review.pdf", "ai-history.docx", "ai-history.epub", "report.html", "report.md",
            "review-map.json", "manifest.json"))  # fmt: skip
        z.extractall(book_copy / "unzipped")
    pkg = book_copy / "unzipped" / "ai-history-2025-10-20"
    report = (pkg / "report.md").read_text(encoding="utf-8")
    assert "第一个编辑包" in report and "| ch08 | 第八章 |" in report and "remote image not embedded" in report
    # The manuscript's lint findings (`book lint`), each as path:line: message.
    seeded = book_copy / "seeds" / "08-meta-open-source.md"
    lint = subprocess.run([sys.executable, "-m", "book", "lint"], capture_output=True, text=True,
                          cwd=book_copy).stdout.splitlines()  # fmt: skip
    assert lint and all(line in report for line in lint), (lint[:3], report[-2000:])
    assert "没有 `book.lint`" not in report and str(seeded.name) in report

    # The review PDF: A4, with the draft watermark (chapter 8 is a draft) and paragraph numbers.
    pdf = pkg / "ai-history-review.pdf"
    box = PdfReader(pdf).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # The watermark (printpdf's review profile) is drawn rotated across the page, so pdftotext
    # gives its glyphs one per line among the body text, not "草稿" as one word.
    assert "草稿" in text or (re.search(r"^\s*草\s*$", text, re.M) and re.search(r"^\s*稿\s*$", text, re.M))
    snapshot = (out / "editor" / "snapshot.json").read_text(encoding="utf-8")

    # Edit one paragraph of chapter 8: the first whose text appears verbatim in the source.
    source = book_copy / "seeds" / "08-meta-open-source.md"
    md = source.read_text(encoding="utf-8")
    import json

    ch08 = next(p for p in json.loads(snapshot)["parts"] if p["id"] == "ch08")
    pid, old_text = next((i, t) for i, t in ch08["paragraphs"][1:] if len(t) > 8 and md.count(t) == 1)
    new_text = old_text[:4] + "（编辑测试）" + old_text[4:]
    source.write_text(md.replace(old_text, new_text), encoding="utf-8")
    n = int(pid.rsplit("-p", 1)[1])
    # The paragraph's number is printed in the review PDF's margin on its own line.
    assert re.search(rf"^\s*{n}\s+{re.escape(old_text[:3])}", text, re.M)

    second = make_package(book_copy / "book.yaml", out, day=DAY, check=False)
    assert second.changes is not None
    (changed,) = second.changes
    assert changed.id == "ch08" and changed.status == "changed"
    (para,) = changed.paragraphs
    assert (para.kind, para.id, para.old, para.new) == ("changed", pid, old_text, new_text)
    assert second.path.name == "ai-history-2025-10-20-2.zip" and first.path.is_file()  # never overwritten
    with zipfile.ZipFile(second.path) as z:
        md_report = z.read("ai-history-2025-10-20-2/report.md").decode()
        html_report = z.read("ai-history-2025-10-20-2/report.html").decode()
    assert f"第八章 第{n}段" in md_report and "{+（编辑测试）+}" in md_report
    assert md_report.count("段**（`") == 1  # exactly one paragraph listed
    assert f'id="change-{pid}"' in html_report and "<ins>（编辑测试）</ins>" in html_report


def test_paragraph_dataclass_is_plain() -> None:
    assert Paragraph("ch08-p1", 1, "x") == Paragraph("ch08-p1", 1, "x")
