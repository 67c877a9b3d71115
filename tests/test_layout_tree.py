"""The build's layout check, measured on WeasyPrint's boxes in the layout workers (book.pdf.overflow),
against `book check`'s measure of the written PDF with pdftotext (book.check.layout): on a small book
with an over-long code line, an unbreakable URL and inline-code token, and over-wide images (a
stylesheet that lets them overflow), both name the same pages and the same source lines."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from book.check.layout import measure
from book.pdf.furniture import geometry
from book.source.config import load_config
from tests.conftest import have, run_cli

LONG = "    result = compute_something(" + ", ".join(f"argument_{i}" for i in range(14)) + ")"
URL = "https://example.com/" + "averyveryverylongpathsegment" * 4
MID = "    x = f(" + ", ".join(f"a{i}" for i in range(19)) + ")"  # past the type area, not the trim
TOKEN = "token_without_break_" * 5
ONE = f"""# 第一章 溢出

正文一段，介绍下面的代码。

```python
def f(x):
{LONG}
    return x
```

一个很长的网址 {URL} 不能断开。

![一张很宽的图](wide.png)

后面还有一段正文。
"""
PROSE = "正文一段。" * 200 + "\n\n"
TWO = f"""# 第二章 正常

{PROSE * 3}```
{MID}
```

这一段正文比较长，后面跟着一个不能断开的行内代码 `{TOKEN}` 不断开。

![中等的图](mid.png)
"""
# The book's own stylesheet lets code, words and images overflow (the default one wraps and scales them).
OVERFLOW_CSS = """
.content pre, .content pre code, .content pre code span { white-space: pre !important; }
.content p, .content code { overflow-wrap: normal !important; word-break: normal !important; }
.content img { max-width: none !important; }
.content img[alt="一张很宽的图"] { width: 200mm !important; }
.content img[alt="中等的图"] { width: 125mm !important; }
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.fixture(scope="module")
def overflowing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    book = tmp_path_factory.mktemp("overflow")
    (book / "book.yaml").write_text(
        "title: 溢出之书\nauthors: [作者]\ndate: 2025-01-01\nstyles: my-styles\nchapters:\n  - chapters/*.md\n",
        encoding="utf-8",
    )
    (book / "chapters").mkdir()
    (book / "chapters" / "01.md").write_text(ONE, encoding="utf-8")
    (book / "chapters" / "02.md").write_text(TWO, encoding="utf-8")
    Image.new("RGB", (600, 100), (30, 30, 200)).save(book / "chapters" / "wide.png")
    Image.new("RGB", (600, 100), (30, 200, 30)).save(book / "chapters" / "mid.png")
    (book / "my-styles").mkdir()
    grid = (Path(__file__).parent.parent / "styles" / "grid.css").read_text(encoding="utf-8")
    (book / "my-styles" / "grid.css").write_text(grid + OVERFLOW_CSS, encoding="utf-8")
    proc = run_cli("build", "--no-check", "--config", str(book / "book.yaml"), "--out", str(book / "build"))
    assert proc.returncode == 0, proc.stderr
    return book, proc


WARNING = re.compile(
    r"^(\S+?)(?::(\d+))?: warning: page (\d+): (text '(.*)'|an image) runs ([\d.]+) pt past the (.+?) — ", re.M
)


@pytest.mark.slow
@pytest.mark.skipif(not have("pdftotext"), reason="needs poppler-utils")
def test_build_warnings_match_the_pdf_measure(overflowing: tuple[Path, subprocess.CompletedProcess]) -> None:
    book, proc = overflowing
    warned = WARNING.findall(proc.stderr)
    assert warned, proc.stderr
    lines = {(Path(path).name, int(line)) for path, line, *_ in warned if line}
    assert lines == {
        ("01.md", line_of(ONE, "argument_13")),
        ("01.md", line_of(ONE, URL)),
        ("02.md", line_of(TWO, "a18")),
        ("02.md", line_of(TWO, TOKEN)),
    }, proc.stderr
    found = measure(book / "build" / "book.pdf", geometry(load_config(book / "book.yaml")))
    # the same pages, things and amounts: the words pdftotext sees are the ones the boxes give
    build = sorted((int(page), text or "", beyond, float(by)) for _, _, page, _, text, by, beyond in warned)
    check = sorted((o.page, o.text[:40], o.beyond, round(o.by, 1)) for o in found)
    assert [(p, t, b) for p, t, b, _ in build] == [(p, t, b) for p, t, b, _ in check], (build, check)
    assert all(abs(a[3] - b[3]) <= 0.2 for a, b in zip(build, check, strict=True)), (build, check)
    assert {b for *_, b, _ in build} == {"trim", "type area"}
    assert {"text", "an image"} <= {kind.split(" '")[0] for *_, kind, _, _, _ in warned}
