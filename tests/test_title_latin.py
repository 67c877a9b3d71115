"""Latin in letter-spaced display lines (title page, opener labels) is set without the spacing."""

from __future__ import annotations

from pathlib import Path

from book.model import PROJECT_ROOT
from book.parts import render
from book.typography.latin import latin_runs


def test_latin_runs_are_wrapped_and_escaped() -> None:
    assert latin_runs("Docker 容器") == '<span class="latin-run">Docker</span> 容器'
    assert (
        latin_runs("从 C++ 到 Node.js")
        == '从 <span class="latin-run">C++</span> 到 <span class="latin-run">Node.js</span>'
    )
    assert latin_runs("附录A") == "附录A"  # one letter: nothing to tear apart
    assert latin_runs("<b>&") == "&lt;b&gt;&amp;"


def test_the_title_page_and_the_style_reset_the_spacing() -> None:
    env = render._environment((PROJECT_ROOT / "templates",))
    book = {"title": "Docker 实战", "subtitle": "", "author_line": "张三", "publisher": "", "t": {"by": "著"}}
    html = env.get_template("titlepage.html.j2").render(book=book)
    assert '<h1 class="book-title"><span class="latin-run">Docker</span> 实战</h1>' in html
    css = Path(PROJECT_ROOT / "styles" / "components.css").read_text(encoding="utf-8")
    assert ".latin-run { letter-spacing: 0; }" in css
