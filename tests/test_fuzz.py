"""A bounded, derandomised fuzz run over Markdown → EPUB.

Hypothesis writes Markdown-ish chapters (CJK text and punctuation, list markers, emphasis, headings,
links, tables, footnotes, raw and hostile HTML fragments, entities, control characters) with
arbitrary titles. For every one the build either succeeds or stops with a BookError (never another
exception), every content document of the EPUB is well-formed XML, and a couple of the outputs pass
EPUBCheck.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from book.check.epubcheck import run_epubcheck
from book.errors import BookError, Diagnostics

# Small for CI; a longer campaign: BOOK_FUZZ_EXAMPLES=500 BOOK_FUZZ_EPUBCHECK=20 pytest tests/test_fuzz.py
EXAMPLES = int(os.environ.get("BOOK_FUZZ_EXAMPLES", "30"))
EPUBCHECKED = int(os.environ.get("BOOK_FUZZ_EPUBCHECK", "2"))

CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
PUNCT = st.sampled_from(list("，。、；：？！“”‘’《》〈〉（）【】……——·「」『』〔〕～％＃＠＆") + ["...", "--", '"', "'"])
WORD = st.one_of(
    st.text(CJK, min_size=1, max_size=8),
    st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True),
    PUNCT,
    st.sampled_from(["*", "**", "_", "__", "`", "~~", "\\", "[", "]", "(", ")", "!", "<", ">", "&", "#", "|", "^", "$"]),
    st.sampled_from([
        "<b>", "</b>", "<div>", "</div>", "<span class=\"x\">", "</span>", "<br>", "<p>", "</p>", "<em>",
        "<script>alert(1)</script>", "<p onclick=\"x()\">", "<iframe src=\"https://e.x\"></iframe>", "<a href=\"javascript:x\">",
        "</a>", "<img src=\"x.png\" onerror=\"y\">", "<!--", "-->", "&amp;", "&#1;", "&#x0;", "&nbsp;", "&bogus;",
        "<svg><circle r=\"1\"/></svg>", "<math><mi>x</mi></math>", "<table><tr><td>", "</td></tr></table>",
        "<style>p{}</style>", "<ruby>汉<rt>hàn</rt></ruby>", "<![CDATA[x]]>", "<?pi x?>", "<", "</", "\x01", "\x0b", "\ufffe",
        "https://example.com/路径?q=1", "[链接](https://x.org)", "[坏](javascript:alert(1))", "![图](https://example.com/a.png)",
        "[^1]", "[见上文](#nowhere)", "[引言](#引言)", "{#引言}", "{.class}", "{#id}", "$x$", "😀", "\u200b", "\u3000", "\t",
    ]),
)  # fmt: skip
PREFIX = st.sampled_from(
    ["", "", "", "- ", "* ", "+ ", "1. ", "2) ", "  - ", "    - ", "      1. ", "# ", "## ", "### ", "#### ", "> ",
     "> - ", "| ", "    ", "```", ":::", "[^1]: ", "---", "***", "Term\n: ", "- [ ] ", "- [x] "]
)  # fmt: skip
LINE = st.builds(lambda p, ws: p + "".join(ws), PREFIX, st.lists(WORD, max_size=12))
BODY = st.lists(st.one_of(LINE, st.just("")), min_size=1, max_size=30).map("\n".join)
TITLE = st.lists(st.one_of(CJK, PUNCT, st.characters(codec="utf-8"), WORD), min_size=1, max_size=8).map("".join)


def build_one(root: Path, title: str, body: str) -> Path | None:
    """Build a one-chapter book's EPUB; None when the build stopped with a BookError."""
    from book.epub.package import package_epub as write_epub
    from book.pipeline import prepare

    book = root / "book"
    shutil.rmtree(book, ignore_errors=True)
    (book / "chapters").mkdir(parents=True)
    (book / "book.yaml").write_text(
        "title: 模糊测试\nauthors: [作者]\ndate: 2025-01-01\nslug: fuzz\nchapters:\n  - chapters/*.md\n",
        encoding="utf-8",
    )
    front = yaml.safe_dump({"chapter_number": 1, "title": title}, allow_unicode=True)
    (book / "chapters" / "a.md").write_text(f"---\n{front}---\n\n{body}\n", encoding="utf-8")
    diag = Diagnostics(echo=False)
    try:
        build = prepare(book / "book.yaml", book / "build", diag)
        return write_epub(build).path
    except BookError:
        return None


def well_formed(epub: Path) -> int:
    with zipfile.ZipFile(epub) as z:
        names = [n for n in z.namelist() if n.endswith((".xhtml", ".opf", ".ncx"))]
        for name in names:
            etree.fromstring(z.read(name))  # raises on anything not well-formed
    return len(names)


def test_fuzz_markdown_to_epub() -> None:
    root = Path(tempfile.mkdtemp(prefix="fuzz-"))
    kept: list[tuple[int, bytes]] = []
    stats = {"examples": 0, "built": 0, "stopped": 0}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(title=TITLE, body=BODY)
    def run(title: str, body: str) -> None:
        stats["examples"] += 1
        epub = build_one(root, title, body)
        if epub is None:
            stats["stopped"] += 1
            return
        stats["built"] += 1
        assert well_formed(epub) >= 4
        kept.append((len(body), epub.read_bytes()))

    try:
        run()
        assert stats["examples"] >= EXAMPLES // 2 and stats["built"] >= stats["examples"] // 2, stats
        # EPUBCheck on the largest fuzzed books.
        for i, (_, data) in enumerate(sorted(kept, key=lambda k: k[0])[-EPUBCHECKED:]):
            path = root / f"checked-{i}.epub"
            path.write_bytes(data)
            result = run_epubcheck(path)
            assert result.ok, "\n".join(result.details[:20])
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"fuzz: {stats}")
