"""Fonts: which text each family styles, SC face extraction, subsetting, fsType, caching, @font-face."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from book.engine.cache import Cache
from book.epub.fonts import (
    FACES,
    characters_by_face,
    characters_by_family,
    check_embeddable,
    embed_fonts,
    font_face_css,
    locate,
    subset_font,
)
from book.errors import BookError

CSS = """
html { font-family: "Noto Serif CJK SC", serif; }
h1, h2, strong { font-family: "Noto Sans CJK SC", sans-serif; font-weight: bold; }
blockquote { font-family: "LXGW WenKai", serif; }
.sep::before { content: "※"; }
"""


def test_characters_follow_the_stylesheet() -> None:
    chars = characters_by_family(
        ["<h2>标题</h2><p>正文<strong>重点</strong></p><blockquote><p>引文</p></blockquote>"], [CSS]
    )
    assert {"标", "题", "重", "点"} <= chars["Noto Sans CJK SC"]
    assert "正" not in chars["Noto Sans CJK SC"]
    assert chars["LXGW WenKai"] >= {"引", "文"}
    assert chars["Noto Serif CJK SC"] >= {"标", "正", "引", "※"}  # html styles everything, generated text too


def test_whole_documents_count_their_navigation_text() -> None:
    doc = (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        '<head><title>目录</title></head><body><nav hidden="hidden"><h2>导览</h2></nav></body></html>'
    )
    assert {"目", "录", "导", "览"} <= characters_by_family([doc], [CSS])["Noto Serif CJK SC"]


def test_sc_face_is_taken_from_the_collection() -> None:
    path, index = locate(FACES[0].pattern, FACES[0].family)
    assert path.suffix == ".ttc"
    font = TTFont(str(path), fontNumber=index, lazy=True)
    assert font["name"].getDebugName(1) == "Noto Serif CJK SC"


def test_subset_has_about_one_glyph_per_character() -> None:
    text = "人工智能简史从图灵到大模型，。"
    path, index = locate(FACES[0].pattern, FACES[0].family)
    data, glyphs = subset_font(path, index, text)
    font = TTFont(io.BytesIO(data))
    assert set(text) <= set(map(chr, font.getBestCmap()))
    assert len(text) < glyphs <= len(text) + 10  # .notdef and a few vertical punctuation forms
    assert font.sfntVersion == "OTTO" and len(data) < 60_000
    again, _ = subset_font(path, index, text)
    assert again == data, "subsetting must be deterministic (no timestamp)"


def test_restricted_font_is_refused(tmp_path: Path) -> None:
    path, index = locate(FACES[2].pattern, FACES[2].family)
    font = TTFont(str(path), fontNumber=index, lazy=True)
    font["OS/2"].fsType = 0x0002
    with pytest.raises(BookError, match="forbids restricted-licence embedding"):
        check_embeddable(font, "restricted.ttf")
    font["OS/2"].fsType = 0x0100
    with pytest.raises(BookError, match="no subsetting"):
        check_embeddable(font, "nosubset.ttf")
    font["OS/2"].fsType = 0x0008  # editable embedding is fine
    check_embeddable(font, "editable.ttf")


def test_subsets_are_cached(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    body = ["<h2>缓存</h2><p>字体子集</p>"]
    first = embed_fonts(body, [CSS], cache)
    assert cache.misses == 3 and cache.hits == 0  # two subsets and the body's characters by family
    second = embed_fonts(body, [CSS], cache)
    assert cache.hits == 2  # the subsets; the body's characters are still in this process
    assert [f.data for f in first] == [f.data for f in second]
    assert [f.spec.family for f in first] == ["Noto Serif CJK SC", "Noto Sans CJK SC"]  # no blockquote: no Kai


def test_font_face_css_points_into_the_package(tmp_path: Path) -> None:
    fonts = embed_fonts(["<blockquote>文楷</blockquote>"], [CSS], Cache(tmp_path))
    css = font_face_css(fonts)
    assert '@font-face { font-family: "LXGW WenKai"; font-weight: normal' in css
    assert 'url("../fonts/LXGWWenKai-Regular.otf") format("opentype")' in css
    assert "http" not in css


def test_each_weight_gets_its_own_face(tmp_path: Path) -> None:
    css = CSS + ".note { font-family: 'Noto Sans CJK SC', sans-serif; } .note em { font-weight: 700; }"
    css += " .note::before { content: '注'; font-weight: bold; }"
    body = '<p class="note">常规<em>加粗</em>尾巴</p><h2>标题<span style="x">仍粗</span></h2>'
    chars = characters_by_face([body], [css])
    assert {"常", "规", "尾", "巴"} <= chars[("Noto Sans CJK SC", "normal")]  # a ::before's weight is its own
    assert {"加", "粗", "标", "题", "仍"} <= chars[("Noto Sans CJK SC", "bold")]  # h2 is bold by default
    assert not {"常", "尾"} & chars[("Noto Sans CJK SC", "bold")]
    fonts = {(f.spec.family, f.spec.weight): f for f in embed_fonts([body], [css], Cache(tmp_path))}
    assert fonts[("Noto Sans CJK SC", "normal")].href.endswith("NotoSansCJKsc-Regular.otf")
    assert fonts[("Noto Sans CJK SC", "bold")].characters < fonts[("Noto Serif CJK SC", "normal")].characters
