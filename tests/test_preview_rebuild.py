"""What a preview rebuild of one edited chapter no longer pays for: Pandoc's format lists, the other
parts' front matter, the font files' hashes, the other bodies' cache entries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from book.engine.cache import stat_key


def test_one_pandoc_run_per_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    import pypandoc

    from book.parts.convert import markdown_to_ast, markdown_to_html

    pypandoc.get_pandoc_version()  # cached by pypandoc once asked
    runs: list[list[str]] = []
    real = subprocess.Popen

    def counting(args, *rest, **kw):  # noqa: ANN001, ANN202 - Popen's own shape
        runs.append(list(args))
        return real(args, *rest, **kw)

    monkeypatch.setattr(subprocess, "Popen", counting)
    assert "<p>正文。</p>" in markdown_to_html("正文。", "x")
    assert markdown_to_ast("正文。")["blocks"]
    assert len(runs) == 2 and not any("--list-input-formats" in a or "--list-output-formats" in a for a in runs)


def test_front_matter_read_again_is_a_copy() -> None:
    from book.source.yamlfile import _load_yaml_once, load_yaml_again

    text = "title: 标题\nkey_events: [甲, 乙]\ntitle: 又一个\n"
    first, duplicates = load_yaml_again(text)
    hits = _load_yaml_once.cache_info().hits
    first["key_events"].append("丙")
    second, again = load_yaml_again(text)
    assert _load_yaml_once.cache_info().hits == hits + 1
    assert second == {"title": "又一个", "key_events": ["甲", "乙"]}
    assert duplicates == again == [("title", 3)]


def test_a_font_file_is_hashed_once_per_version(tmp_path: Path) -> None:
    from book.epub.fonts import _font_digest

    font = tmp_path / "face.otf"
    font.write_bytes(b"OTTO one")
    first = _font_digest(font, stat_key(font))
    before = _font_digest.cache_info().hits
    assert _font_digest(font, stat_key(font)) == first
    assert _font_digest.cache_info().hits == before + 1
    font.write_bytes(b"OTTO two, longer")  # a new version: another size, another mtime
    assert _font_digest(font, stat_key(font)) != first


def test_the_last_builds_bodies_stay_in_the_process(tmp_path: Path) -> None:
    """Fonts' characters: the second build with the same bodies asks the cache for none of them."""
    from book.engine.cache import Cache
    from book.epub.fonts import characters_by_face

    css = 'p { font-family: "Noto Serif CJK SC"; }'
    bodies = ["<p>第一章</p>", "<p>第二章</p>"]
    cache = Cache(tmp_path)
    first = characters_by_face(bodies, [css], cache)
    looked = len(cache.log)
    edited = characters_by_face([bodies[0], "<p>第二章，改过</p>"], [css], cache)
    assert len(cache.log) == looked + 1  # the edited body only
    assert first[("Noto Serif CJK SC", "normal")] | {"，", "改", "过"} == edited[("Noto Serif CJK SC", "normal")]
