"""`book preview --pdf`: the print pages of the part being edited, laid out after the EPUB and served."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from book.tools.preview import Previewer, PreviewServer
from tests.conftest import write_chapter


@pytest.mark.slow
def test_print_pages_follow_the_edited_chapter(book_dir: Path) -> None:
    write_chapter(book_dir, "01.md", "# 第一章 甲\n\n第一章的正文。\n")
    second = write_chapter(book_dir, "02.md", "# 第二章 乙\n\n第二章的正文。\n")
    previewer = Previewer(book_dir / "book.yaml", book_dir / "build", log=lambda m: None, pdf=True)
    assert previewer.rebuild().ok
    assert previewer.print_pages.wait(120)
    first = previewer.status()["pdf"]
    assert first["part"] == "ch01" and first["pages"] >= 1  # nothing edited yet: the first chapter
    second.write_text("# 第二章 乙\n\n第二章的正文，改过了。\n", encoding="utf-8")
    assert previewer.rebuild().ok
    assert previewer.print_pages.wait(120)
    status = previewer.status()["pdf"]
    assert status["part"] == "ch02" and status["version"] == first["version"] + 1
    with PreviewServer(previewer, port=0, watch=False) as server:
        pdf = urllib.request.urlopen(server.url + "pdf/current.pdf", timeout=10).read()
        served = json.loads(urllib.request.urlopen(server.url + "status", timeout=10).read())
    assert pdf.startswith(b"%PDF") and served["pdf"]["part"] == "ch02"
