"""book.engine.fontmatch: fontconfig asked in this process answers as `fc-match` does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from book.engine import fontmatch
from book.epub.fonts import FACES
from book.typography.coverage import FAMILIES

PATTERNS = [*FAMILIES, *(f.pattern for f in FACES), "Noto Serif CJK TC", "serif:lang=zh-TW", "No Such Face 42"]


@pytest.mark.skipif(fontmatch._library() is None or not shutil.which("fc-match"), reason="needs fontconfig")
@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_library_answers_as_fc_match(pattern: str) -> None:
    lib = fontmatch._library()
    assert lib is not None
    assert lib.match(pattern) == fontmatch._command(pattern)


def test_without_the_library_fc_match_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fontmatch, "_library", lambda: None)
    fontmatch.match.cache_clear()
    try:
        found = fontmatch.match(FAMILIES[0])
        if shutil.which("fc-match"):
            assert found is not None and found.file.is_file() and FAMILIES[0] in found.families
        else:
            assert found is None
    finally:
        fontmatch.match.cache_clear()


def test_without_fontconfig_nothing_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fontmatch, "_library", lambda: None)
    monkeypatch.setattr(fontmatch.shutil, "which", lambda name: None)
    fontmatch.match.cache_clear()
    try:
        assert fontmatch.match(FAMILIES[0]) is None
    finally:
        fontmatch.match.cache_clear()


def test_a_match_names_an_existing_face() -> None:
    found = fontmatch.match("Noto Serif CJK SC")
    if found is None:
        pytest.skip("no fontconfig")
    assert isinstance(found.file, Path) and found.file.is_file() and found.index >= 0
