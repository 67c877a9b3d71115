"""Golden output, in the manner of Pelican's `tests/output/`: the sample chapter's rendered body.

The body is what both outputs print (after structures, typography and the templates), one block a
line, so a change anywhere upstream shows as a readable diff of `tests/output/ch08.body.xhtml`.
After a deliberate change, regenerate it with `BOOK_UPDATE_GOLDEN=1 make test` and review the diff.
"""

from __future__ import annotations

import difflib
import os

from book.errors import Diagnostics
from book.parts.process import process_part
from book.source.config import load_config
from book.source.manifest import build_manifest
from tests.conftest import ROOT

GOLDEN = ROOT / "tests" / "output" / "ch08.body.xhtml"


def test_sample_chapter_renders_as_committed() -> None:
    config = load_config(ROOT / "book.yaml")
    diag = Diagnostics(echo=False)
    part = next(p for p in build_manifest(config, diag).parts if p.id == "ch08")
    body = process_part(config, part, diag)[0].body
    if os.environ.get("BOOK_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(body, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(True), body.splitlines(True), "expected", "rendered", n=1))
    assert body == expected, f"the rendered chapter differs from {GOLDEN.name}:\n{diff[:6000]}"
