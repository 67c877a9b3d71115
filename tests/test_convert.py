"""book.parts.convert: Pandoc run directly gives what pypandoc's convert_text gave, and fails as a
BookError naming the source."""

from __future__ import annotations

import pypandoc
import pytest

from book.errors import BookError
from book.parts import convert

TEXT = "# 标题 {#t}\n\n第一段，有*强调*和`代码`。\n\n- 甲\n- 乙\n\n$E=mc^2$ 与 $5 和 $10。\n"


def test_the_fragment_is_pypandocs() -> None:
    args = ["--section-divs", "--wrap=none", "--mathjax", "--columns=100000", "--id-prefix=ch01-", *convert.PANDOC_RTS]
    theirs = pypandoc.convert_text(TEXT, "html5", format=convert.READER, extra_args=args, sandbox=True,
                                   verify_format=False)  # fmt: skip
    assert convert.markdown_to_html(TEXT, "ch01") == theirs
    assert 'id="ch01-t"' in theirs


def test_the_ast_is_pypandocs() -> None:
    import json

    theirs = pypandoc.convert_text(TEXT, "json", format=convert.READER, extra_args=["--wrap=none", *convert.PANDOC_RTS],
                                   sandbox=True, verify_format=False)  # fmt: skip
    assert convert.markdown_to_ast(TEXT) == json.loads(theirs)


def test_a_pandoc_failure_names_the_source() -> None:
    with pytest.raises(BookError) as caught:
        convert.run_pandoc(["--from=nosuchreader", "--to=html5"], TEXT, "chapters/01.md")
    problem = caught.value.problems[0]
    assert problem.path == "chapters/01.md" and "nosuchreader" in problem.message
