"""One rule for where code is, shared by every stage that scans the manuscript by line (CommonMark's)."""

from __future__ import annotations

from book.parts import crossref, traps
from book.parts.conservation import source_blocks
from book.source.combine import demote
from book.source.fences import CLOSE, CODE, OPEN, TEXT, Fences, text_lines
from book.source.infer import first_heading

# A book about Markdown shows a ``` example inside a ```` block: the inner fence does not close it.
NESTED = "````markdown\n```python\n# a comment, not a heading\n```\n````\n\n# 真正的标题\n"


def test_kinds_follow_commonmark() -> None:
    f = Fences()
    kinds = [f.kind(line) for line in NESTED.split("\n")]
    assert kinds == [OPEN, CODE, CODE, CODE, CLOSE, TEXT, TEXT, TEXT]
    f = Fences()
    assert [f.kind(x) for x in ["~~~", "```", "~~~~ x", "~~~~", "a"]] == [OPEN, CODE, CODE, CLOSE, TEXT]
    assert Fences().kind("```a` b") == TEXT  # a backtick info string cannot hold a backtick: inline code
    f = Fences()
    assert [f.kind(x) for x in ["- item", "    ```", "    # code", "    ```"]] == [TEXT, OPEN, CODE, CLOSE]


def test_every_stage_agrees_on_the_nested_fence() -> None:
    assert first_heading(NESTED) == ("真正的标题", 7)
    assert "# a comment, not a heading" in demote(NESTED) and "## 真正的标题" in demote(NESTED)
    assert [i for i, _ in text_lines(NESTED.split("\n"))] == [5, 6, 7]
    assert source_blocks(NESTED)[0] == (0, NESTED.split("\n\n")[0])  # the whole listing is one block
    assert "@fig-x" in crossref.protect("````\n```\n@fig-x\n```\n````\n")
    assert crossref.protect("````\n```\n````\n@fig-x\n") != "````\n```\n````\n@fig-x\n"  # closed: prose again


def test_traps_leave_a_nested_listing_alone() -> None:
    from pathlib import Path

    from book.errors import Diagnostics
    from book.model import Part

    body = "````\n```\n-------\n- a\n- b\n-------\n```\n````\n"
    part = Part("ch01", "chapter", Path("c.md"), "题", "", 1, {}, body, 1)
    diag = Diagnostics()
    assert traps.defuse(body, part, diag) == body and not diag.warnings


def test_a_listing_is_its_code_for_conservation() -> None:
    from pathlib import Path

    from book.errors import Diagnostics
    from book.model import Part
    from book.parts import conservation

    body = "```python\ndef step():\n    return compute(x0)  # 第 1 步\n```\n\n```\n未印出的代码行\n```\n"
    part = Part("ch01", "chapter", Path("c.md"), "题", "", 1, {}, body, 1)
    printed = '<pre><code><span class="k">def</span> step():\n    return compute(x0)  # 第 1 步</code></pre>'
    diag = Diagnostics(echo=False)
    assert conservation.check(part, body, printed, printed, diag) == 1  # the info string is not text…
    assert [p.line for p in diag.problems] == [6]  # …but a listing's lost code is
